/* tags.c — TagResource, UntagResource, ListTagsForResource on project and model ARNs
 * (arn:aws:lookoutvision:<region>:<account>:project/<name> and ...:model/<name>/<version>). Tags
 * live in the resource's own JSON file, changed under the project lock. */
#include "svc_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char project[256];
    long version; /* 0 for the project itself */
    char path[SVC_PATH_MAX + 32];
} tag_target;

static int parse_arn(lo_service *s, const cJSON *in, tag_target *t, lo_error *err) {
    const char *arn;
    if (svc_get_string(in, "ResourceArn", true, &arn, err)) return -1;
    size_t n = strlen(arn);
    if (n < 1 || n > 1011) {
        lo_error_set(err, "ValidationException", "ResourceArn must be 1 to 1011 characters, got %zu", n);
        return -1;
    }
    char prefix[256];
    int pn = svc_fmt(prefix, sizeof prefix, "arn:aws:lookoutvision:%s:%s:", s->region, s->account);
    if (strncmp(arn, "arn:aws:lookoutvision:", 22) != 0) {
        lo_error_set(err, "ValidationException",
                     "invalid ResourceArn \"%.200s\": expected %sproject/<name> or %smodel/<name>/<version>", arn,
                     prefix, prefix);
        return -1;
    }
    if (strncmp(arn, prefix, (size_t)pn) != 0) {
        lo_error_set(err, "ResourceNotFoundException",
                     "no resource %.200s on this box (its region and account are %s and %s)", arn, s->region,
                     s->account);
        return -1;
    }
    const char *rest = arn + pn;
    char name[256] = "", ver[32] = "";
    const char *field = "project name in ResourceArn";
    memset(t, 0, sizeof *t);
    if (!strncmp(rest, "project/", 8)) {
        svc_fmt(name, sizeof name, "%s", rest + 8);
    } else if (!strncmp(rest, "model/", 6)) {
        const char *slash = strrchr(rest + 6, '/');
        if (!slash || (size_t)(slash - (rest + 6)) >= sizeof name) {
            lo_error_set(err, "ValidationException", "invalid ResourceArn \"%.200s\": expected %smodel/<name>/<version>",
                         arn, prefix);
            return -1;
        }
        svc_fmt(name, sizeof name, "%.*s", (int)(slash - (rest + 6)), rest + 6);
        svc_fmt(ver, sizeof ver, "%s", slash + 1);
        if (svc_check_model_version("model version in ResourceArn", ver, false, err)) return -1;
        t->version = strtol(ver, NULL, 10);
    } else {
        lo_error_set(err, "ValidationException",
                     "invalid ResourceArn \"%.200s\": expected %sproject/<name> or %smodel/<name>/<version>", arn,
                     prefix, prefix);
        return -1;
    }
    if (svc_check_project_name(field, name, err)) return -1;
    svc_fmt(t->project, sizeof t->project, "%s", name);
    char dir[SVC_PATH_MAX];
    if (t->version) {
        svc_model_dir(s, name, t->version, dir);
        svc_fmt(t->path, sizeof t->path, "%s/model.json", dir);
    } else {
        svc_project_dir(s, name, dir);
        svc_fmt(t->path, sizeof t->path, "%s/project.json", dir);
    }
    if (!svc_exists(t->path)) {
        lo_error_set(err, "ResourceNotFoundException", "no resource %.300s: the %s does not exist", arn,
                     t->version ? "model version" : "project");
        return -1;
    }
    return 0;
}

static cJSON *tags_of(cJSON *doc) {
    cJSON *tags = cJSON_GetObjectItemCaseSensitive(doc, "Tags");
    if (!cJSON_IsArray(tags)) {
        cJSON_DeleteItemFromObject(doc, "Tags");
        tags = cJSON_AddArrayToObject(doc, "Tags");
    }
    return tags;
}

static int find_key(const cJSON *tags, const char *key) {
    int i = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, tags) {
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(t, "Key");
        if (cJSON_IsString(k) && !strcmp(k->valuestring, key)) return i;
        i++;
    }
    return -1;
}

/* Loads the resource under its project lock; *lock receives the lock. */
static cJSON *load_locked(lo_service *s, tag_target *t, int *lock, lo_error *err) {
    *lock = svc_lock_project(s, t->project, err);
    if (*lock < 0) return NULL;
    cJSON *doc = svc_read_json(t->path, err);
    if (!doc) {
        if (errno == ENOENT)
            lo_error_set(err, "ResourceNotFoundException", "the %s no longer exists", t->version ? "model" : "project");
        svc_unlock(*lock);
        *lock = -1;
    }
    return doc;
}

int svc_tag_resource(lo_service *s, const cJSON *in, const uint8_t *b, size_t bl, cJSON **out, lo_error *err) {
    (void)b; (void)bl;
    static const char *const members[] = {"ResourceArn", "Tags", NULL};
    tag_target t;
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(in, "Tags");
    if (svc_check_members(in, "TagResource", members, err)) return -1;
    if (!tags) {
        lo_error_set(err, "ValidationException", "missing required parameter Tags (e.g. Key=team,Value=line3)");
        return -1;
    }
    if (svc_check_tag_list("Tags", tags, err) || parse_arn(s, in, &t, err)) return -1;
    int lock;
    cJSON *doc = load_locked(s, &t, &lock, err);
    if (!doc) return -1;
    int rc = -1;
    cJSON *have = tags_of(doc);
    const cJSON *nt;
    cJSON_ArrayForEach(nt, tags) {
        const char *k = cJSON_GetObjectItemCaseSensitive(nt, "Key")->valuestring;
        int i = find_key(have, k);
        if (i >= 0) cJSON_ReplaceItemInArray(have, i, cJSON_Duplicate(nt, true));
        else cJSON_AddItemToArray(have, cJSON_Duplicate(nt, true));
    }
    if (cJSON_GetArraySize(have) > 200) {
        lo_error_set(err, "ServiceQuotaExceededException",
                     "a resource may carry at most 200 tags; this would make %d (remove some with untag-resource)",
                     cJSON_GetArraySize(have));
        goto done;
    }
    if (svc_write_json(t.path, doc, err)) goto done;
    *out = cJSON_CreateObject();
    rc = 0;
done:
    cJSON_Delete(doc);
    svc_unlock(lock);
    return rc;
}

int svc_untag_resource(lo_service *s, const cJSON *in, const uint8_t *b, size_t bl, cJSON **out, lo_error *err) {
    (void)b; (void)bl;
    static const char *const members[] = {"ResourceArn", "TagKeys", NULL};
    tag_target t;
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(in, "TagKeys");
    if (svc_check_members(in, "UntagResource", members, err)) return -1;
    if (!cJSON_IsArray(keys)) {
        lo_error_set(err, "ValidationException", "%s", keys ? "TagKeys must be a list of tag keys"
                                                            : "missing required parameter TagKeys");
        return -1;
    }
    if (cJSON_GetArraySize(keys) > 200) {
        lo_error_set(err, "ValidationException", "TagKeys has %d keys; at most 200 are allowed", cJSON_GetArraySize(keys));
        return -1;
    }
    int i = 0;
    const cJSON *k;
    cJSON_ArrayForEach(k, keys) {
        char f[32];
        svc_fmt(f, sizeof f, "TagKeys[%d]", i++);
        if (!cJSON_IsString(k)) {
            lo_error_set(err, "ValidationException", "%s must be a string", f);
            return -1;
        }
        if (svc_check_tag_key(f, k->valuestring, err)) return -1;
    }
    if (parse_arn(s, in, &t, err)) return -1;
    int lock;
    cJSON *doc = load_locked(s, &t, &lock, err);
    if (!doc) return -1;
    int rc = -1;
    cJSON *have = tags_of(doc);
    cJSON_ArrayForEach(k, keys) {
        int at = find_key(have, k->valuestring);
        if (at >= 0) cJSON_DeleteItemFromArray(have, at);
    }
    if (svc_write_json(t.path, doc, err)) goto done;
    *out = cJSON_CreateObject();
    rc = 0;
done:
    cJSON_Delete(doc);
    svc_unlock(lock);
    return rc;
}

int svc_list_tags_for_resource(lo_service *s, const cJSON *in, const uint8_t *b, size_t bl, cJSON **out,
                               lo_error *err) {
    (void)b; (void)bl;
    static const char *const members[] = {"ResourceArn", NULL};
    tag_target t;
    if (svc_check_members(in, "ListTagsForResource", members, err) || parse_arn(s, in, &t, err)) return -1;
    cJSON *doc = svc_read_json(t.path, err);
    if (!doc) {
        if (errno == ENOENT) lo_error_set(err, "ResourceNotFoundException", "the resource no longer exists");
        return -1;
    }
    *out = cJSON_CreateObject();
    cJSON_AddItemToObject(*out, "Tags", cJSON_Duplicate(tags_of(doc), true));
    cJSON_Delete(doc);
    return 0;
}
