/* projects.c — CreateProject, DescribeProject, ListProjects, DeleteProject. A project is a folder
 * made complete beside its final name and renamed into place, and deleted by renaming it away. */
#include "svc_internal.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static cJSON *project_metadata(lo_service *s, const char *name, const cJSON *pj) {
    char arn[512];
    svc_project_arn(s, name, arn, sizeof arn);
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "ProjectArn", arn);
    cJSON_AddStringToObject(m, "ProjectName", name);
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(pj, "CreationTimestamp");
    cJSON_AddNumberToObject(m, "CreationTimestamp", cJSON_IsNumber(ct) ? ct->valuedouble : 0);
    return m;
}

static cJSON *read_project(lo_service *s, const char *name, lo_error *err) {
    char dir[SVC_PATH_MAX], p[SVC_PATH_MAX + 16];
    svc_project_dir(s, name, dir);
    svc_fmt(p, sizeof p, "%s/project.json", dir);
    cJSON *pj = svc_read_json(p, err);
    if (!pj && errno == ENOENT)
        lo_error_set(err, "ResourceNotFoundException", "project %s does not exist (create it with create-project)",
                     name);
    return pj;
}

static int get_name(const cJSON *in, const char **name, lo_error *err) {
    return svc_get_string(in, "ProjectName", true, name, err) || svc_check_project_name("ProjectName", *name, err);
}

static int get_token(const cJSON *in, lo_error *err) {
    const char *t;
    if (svc_get_string(in, "ClientToken", false, &t, err)) return -1;
    return t ? svc_check_client_token(t, err) : 0;
}

int svc_create_project(lo_service *s, const cJSON *in, const uint8_t *b, size_t bl, cJSON **out, lo_error *err) {
    (void)b; (void)bl;
    static const char *const members[] = {"ProjectName", "ClientToken", NULL};
    const char *name;
    if (svc_check_members(in, "CreateProject", members, err) || get_name(in, &name, err) || get_token(in, err))
        return -1;
    char dir[SVC_PATH_MAX], tmp[SVC_PATH_MAX + 64] = "", p[SVC_PATH_MAX + 128];
    int g = svc_lock_global(s, err);
    if (g < 0) return -1;
    int rc = -1;
    cJSON *replay = NULL, *pj = NULL;
    svc_fmt(p, sizeof p, "%s/projects", s->home);
    svc_sweep_partial(p);
    int t = svc_token_check(s, "CreateProject", in, &replay, err);
    if (t < 0) goto done;
    if (t == 1) { *out = replay; rc = 0; goto done; }

    svc_project_dir(s, name, dir);
    if (svc_exists(dir)) {
        lo_error_set(err, "ConflictException", "project %s already exists (choose another name, or delete it first)",
                     name);
        goto done;
    }
    svc_fmt(tmp, sizeof tmp, "%s/projects/.new.%08x%08x", s->home, randombytes_random(), randombytes_random());
    svc_fmt(p, sizeof p, "%s/datasets", tmp);
    if (svc_mkdirs(p, err)) goto done;
    svc_fmt(p, sizeof p, "%s/models", tmp);
    if (svc_mkdirs(p, err)) goto done;
    pj = cJSON_CreateObject();
    cJSON_AddStringToObject(pj, "ProjectName", name);
    cJSON_AddNumberToObject(pj, "CreationTimestamp", svc_now());
    cJSON_AddItemToObject(pj, "Tags", cJSON_CreateArray());
    svc_fmt(p, sizeof p, "%s/project.json", tmp);
    if (svc_write_json(p, pj, err)) goto done;
    svc_fmt(p, sizeof p, "%s/next_version", tmp);
    if (svc_write_atomic(p, "1\n", 2, err)) goto done;
    if (rename(tmp, dir) != 0) {
        lo_error_set(err, "InternalServerException", "cannot create project folder %s: %s", dir, strerror(errno));
        goto done;
    }
    svc_fmt(p, sizeof p, "%s/projects", s->home);
    svc_fsync_dir(p);
    *out = cJSON_CreateObject();
    cJSON_AddItemToObject(*out, "ProjectMetadata", project_metadata(s, name, pj));
    if (svc_token_store(s, "CreateProject", in, *out, err)) goto done;
    rc = 0;
done:
    if (rc != 0 && tmp[0] && svc_exists(tmp)) svc_rmtree(tmp);
    cJSON_Delete(pj);
    svc_unlock(g);
    return rc;
}

int svc_describe_project(lo_service *s, const cJSON *in, const uint8_t *b, size_t bl, cJSON **out, lo_error *err) {
    (void)b; (void)bl;
    static const char *const members[] = {"ProjectName", NULL};
    const char *name;
    if (svc_check_members(in, "DescribeProject", members, err) || get_name(in, &name, err)) return -1;
    cJSON *pj = read_project(s, name, err);
    if (!pj) return -1;
    cJSON *d = project_metadata(s, name, pj);
    cJSON_Delete(pj);
    cJSON *list = cJSON_AddArrayToObject(d, "Datasets");
    static const char *const types[] = {"train", "test"};
    for (int i = 0; i < 2; i++) {
        cJSON *m = svc_dataset_metadata(s, name, types[i]);
        if (m) cJSON_AddItemToArray(list, m);
    }
    *out = cJSON_CreateObject();
    cJSON_AddItemToObject(*out, "ProjectDescription", d);
    return 0;
}

int svc_list_projects(lo_service *s, const cJSON *in, const uint8_t *b, size_t bl, cJSON **out, lo_error *err) {
    (void)b; (void)bl;
    static const char *const members[] = {"NextToken", "MaxResults", NULL};
    int max;
    int64_t start;
    if (svc_check_members(in, "ListProjects", members, err) || svc_check_page(in, &max, &start, err)) return -1;
    char dir[SVC_PATH_MAX + 16];
    svc_fmt(dir, sizeof dir, "%s/projects", s->home);
    char **names;
    size_t n;
    if (svc_list_names(dir, &names, &n)) {
        lo_error_set(err, "InternalServerException", "cannot list %s: %s", dir, strerror(errno));
        return -1;
    }
    *out = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(*out, "Projects");
    int64_t i = start, added = 0;
    for (; i < (int64_t)n && added < max; i++) {
        lo_error e2;
        cJSON *pj = read_project(s, names[i], &e2);
        if (!pj) continue; /* deleted meanwhile */
        cJSON_AddItemToArray(list, project_metadata(s, names[i], pj));
        cJSON_Delete(pj);
        added++;
    }
    if (i < (int64_t)n) {
        char *tok = svc_page_token(i);
        cJSON_AddStringToObject(*out, "NextToken", tok);
        free(tok);
    }
    svc_free_names(names, n);
    return 0;
}

int svc_delete_project(lo_service *s, const cJSON *in, const uint8_t *b, size_t bl, cJSON **out, lo_error *err) {
    (void)b; (void)bl;
    static const char *const members[] = {"ProjectName", "ClientToken", NULL};
    const char *name;
    if (svc_check_members(in, "DeleteProject", members, err) || get_name(in, &name, err) || get_token(in, err))
        return -1;
    char dir[SVC_PATH_MAX], sub[SVC_PATH_MAX + 16];
    char **names;
    size_t n;
    int g = svc_lock_global(s, err);
    if (g < 0) return -1;
    int rc = -1, pl = -1;
    cJSON *replay = NULL;
    int t = svc_token_check(s, "DeleteProject", in, &replay, err);
    if (t < 0) goto done;
    if (t == 1) { *out = replay; rc = 0; goto done; }
    pl = svc_lock_project(s, name, err);
    if (pl < 0) goto done;
    svc_project_dir(s, name, dir);
    svc_fmt(sub, sizeof sub, "%s/datasets", dir);
    svc_list_names(sub, &names, &n);
    svc_free_names(names, n);
    if (n) {
        lo_error_set(err, "ConflictException",
                     "project %s still has %zu dataset(s); delete them first with delete-dataset", name, n);
        goto done;
    }
    svc_fmt(sub, sizeof sub, "%s/models", dir);
    svc_list_names(sub, &names, &n);
    svc_free_names(names, n);
    if (n) {
        lo_error_set(err, "ConflictException", "project %s still has %zu model(s); delete them first with delete-model",
                     name, n);
        goto done;
    }
    if (svc_remove_atomic(s, dir, err)) goto done;
    char arn[512];
    svc_project_arn(s, name, arn, sizeof arn);
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "ProjectArn", arn);
    if (svc_token_store(s, "DeleteProject", in, *out, err)) goto done;
    rc = 0;
done:
    svc_unlock(pl);
    svc_unlock(g);
    return rc;
}
