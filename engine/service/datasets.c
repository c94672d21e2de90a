/* datasets.c — CreateDataset, DescribeDataset, ListDatasetEntries, UpdateDatasetEntries,
 * DeleteDataset. The images live in a dataset.h directory (data/); beside it meta.json carries the
 * status. Imports run inside the call, built beside the final folder and renamed into place, so a
 * killed command leaves the old state. */
#include "svc_internal.h"

#include <dataset.h>
#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int get_common(const cJSON *in, const char *op, const char *const *members, const char **project,
                      const char **type, lo_error *err) {
    const char *tok;
    if (svc_check_members(in, op, members, err) || svc_get_string(in, "ProjectName", true, project, err) ||
        svc_check_project_name("ProjectName", *project, err) || svc_get_string(in, "DatasetType", true, type, err) ||
        svc_check_dataset_type("DatasetType", *type, err) || svc_get_string(in, "ClientToken", false, &tok, err))
        return -1;
    return tok ? svc_check_client_token(tok, err) : 0;
}

static void meta_path(lo_service *s, const char *project, const char *type, char *out) {
    char d[SVC_PATH_MAX];
    svc_dataset_dir(s, project, type, d);
    svc_fmt(out, SVC_PATH_MAX, "%s/meta.json", d);
}

static const char *status_of(const cJSON *meta) {
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(meta, "Status");
    return cJSON_IsString(st) ? st->valuestring : "";
}

cJSON *svc_dataset_metadata(lo_service *s, const char *project, const char *type) {
    char p[SVC_PATH_MAX];
    meta_path(s, project, type, p);
    lo_error e2;
    cJSON *meta = svc_read_json(p, &e2);
    if (!meta) return NULL;
    cJSON *m = cJSON_CreateObject();
    static const char *const keys[] = {"DatasetType", "CreationTimestamp", "Status", "StatusMessage"};
    for (int i = 0; i < 4; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(meta, keys[i]);
        if (v) cJSON_AddItemToObject(m, keys[i], cJSON_Duplicate(v, true));
    }
    cJSON_Delete(meta);
    return m;
}

static cJSON *new_meta(const char *type, double created, const char *status, const char *message) {
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "DatasetType", type);
    cJSON_AddNumberToObject(m, "CreationTimestamp", created);
    cJSON_AddNumberToObject(m, "LastUpdatedTimestamp", svc_now());
    cJSON_AddStringToObject(m, "Status", status);
    cJSON_AddStringToObject(m, "StatusMessage", message);
    return m;
}

/* s3://Bucket/Key -> a file inside the S3 mirror, refusing anything that resolves outside it. */
static int resolve_s3_object(lo_service *s, const cJSON *obj, char *out, lo_error *err) {
    const char *bucket, *key, *ver;
    static const char *const members[] = {"Bucket", "Key", "VersionId", NULL};
    if (!cJSON_IsObject(obj)) {
        lo_error_set(err, "ValidationException",
                     "DatasetSource.GroundTruthManifest.S3Object must be {\"Bucket\": ..., \"Key\": ...}");
        return -1;
    }
    if (svc_check_members(obj, "DatasetSource.GroundTruthManifest.S3Object", members, err) ||
        svc_get_string(obj, "Bucket", true, &bucket, err) ||
        svc_check_bucket("DatasetSource.GroundTruthManifest.S3Object.Bucket", bucket, err) ||
        svc_get_string(obj, "Key", true, &key, err) ||
        svc_check_s3_key("DatasetSource.GroundTruthManifest.S3Object.Key", key, false, err) ||
        svc_get_string(obj, "VersionId", false, &ver, err))
        return -1;
    if (ver && (strlen(ver) < 1 || strlen(ver) > 1024)) {
        lo_error_set(err, "ValidationException", "VersionId must be 1 to 1024 characters");
        return -1;
    }
    char path[SVC_PATH_MAX * 2], real[PATH_MAX];
    svc_fmt(path, sizeof path, "%s/%s/%s", s->s3_root, bucket, key);
    if (!realpath(path, real)) {
        lo_error_set(err, "ValidationException",
                     "the manifest s3://%s/%s does not exist in the S3 mirror (looked for %s; LOOKOUT_S3_ROOT=%s)",
                     bucket, key, path, s->s3_root);
        return -1;
    }
    size_t rl = strlen(s->s3_root);
    if (strncmp(real, s->s3_root, rl) != 0 || real[rl] != '/') {
        lo_error_set(err, "ValidationException",
                     "the manifest s3://%s/%s resolves to %s, outside the S3 mirror %s (symbolic links may not "
                     "leave it)", bucket, key, real, s->s3_root);
        return -1;
    }
    struct stat st;
    if (stat(real, &st) != 0 || !S_ISREG(st.st_mode)) {
        lo_error_set(err, "ValidationException", "the manifest s3://%s/%s is not a file", bucket, key);
        return -1;
    }
    svc_fmt(out, SVC_PATH_MAX, "%s", real);
    return 0;
}

/* Which import to run: 0 empty, 1 manifest (path), 2 image folder (path). */
static int parse_source(lo_service *s, const cJSON *src, char *path, lo_error *err) {
    if (!src || cJSON_IsNull(src)) return 0;
    static const char *const members[] = {"GroundTruthManifest", "ImageFolder", NULL};
    if (!cJSON_IsObject(src) || svc_check_members(src, "DatasetSource", members, err)) {
        if (!cJSON_IsObject(src))
            lo_error_set(err, "ValidationException",
                         "DatasetSource must be {\"GroundTruthManifest\": {\"S3Object\": {\"Bucket\": ..., \"Key\": "
                         "...}}} or {\"ImageFolder\": {\"Path\": ...}}");
        return -1;
    }
    const cJSON *gt = cJSON_GetObjectItemCaseSensitive(src, "GroundTruthManifest");
    const cJSON *fo = cJSON_GetObjectItemCaseSensitive(src, "ImageFolder");
    if (gt && fo) {
        lo_error_set(err, "ValidationException", "DatasetSource takes GroundTruthManifest or ImageFolder, not both");
        return -1;
    }
    if (gt) {
        static const char *const gm[] = {"S3Object", NULL};
        if (!cJSON_IsObject(gt) || svc_check_members(gt, "DatasetSource.GroundTruthManifest", gm, err)) {
            if (!cJSON_IsObject(gt))
                lo_error_set(err, "ValidationException", "DatasetSource.GroundTruthManifest must be an object");
            return -1;
        }
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(gt, "S3Object");
        if (!o) {
            lo_error_set(err, "ValidationException", "missing required parameter DatasetSource.GroundTruthManifest.S3Object");
            return -1;
        }
        return resolve_s3_object(s, o, path, err) ? -1 : 1;
    }
    if (fo) {
        static const char *const fm[] = {"Path", NULL};
        const char *p;
        if (!cJSON_IsObject(fo)) {
            lo_error_set(err, "ValidationException", "DatasetSource.ImageFolder must be {\"Path\": \"DIR\"}");
            return -1;
        }
        if (svc_check_members(fo, "DatasetSource.ImageFolder", fm, err) ||
            svc_get_string(fo, "Path", true, &p, err))
            return -1;
        struct stat st;
        if (!*p || strlen(p) >= SVC_PATH_MAX || stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
            lo_error_set(err, "ValidationException",
                         "DatasetSource.ImageFolder.Path \"%s\" is not a folder (it must hold normal/ and anomaly/, "
                         "and optionally mask/)", p);
            return -1;
        }
        char real[PATH_MAX];
        if (!realpath(p, real)) {
            lo_error_set(err, "ValidationException", "cannot resolve ImageFolder.Path \"%s\": %s", p, strerror(errno));
            return -1;
        }
        svc_fmt(path, SVC_PATH_MAX, "%s", real);
        return 2;
    }
    return 0;
}

int svc_create_dataset(lo_service *s, const cJSON *in, const uint8_t *b, size_t bl, cJSON **out, lo_error *err) {
    (void)b; (void)bl;
    static const char *const members[] = {"ProjectName", "DatasetType", "DatasetSource", "ClientToken", NULL};
    const char *project, *type;
    char src_path[SVC_PATH_MAX], final[SVC_PATH_MAX], tmp[SVC_PATH_MAX + 64] = "", p[SVC_PATH_MAX + 96];
    if (get_common(in, "CreateDataset", members, &project, &type, err)) return -1;
    int kind = parse_source(s, cJSON_GetObjectItemCaseSensitive(in, "DatasetSource"), src_path, err);
    if (kind < 0) return -1;
    int pl = svc_lock_project(s, project, err);
    if (pl < 0) return -1;
    int rc = -1;
    cJSON *replay = NULL, *meta = NULL, *old = NULL;
    int t = svc_token_check(s, "CreateDataset", in, &replay, err);
    if (t < 0) goto done;
    if (t == 1) { *out = replay; rc = 0; goto done; }

    svc_dataset_dir(s, project, type, final);
    svc_fmt(p, sizeof p, "%s/meta.json", final);
    lo_error e2;
    old = svc_read_json(p, &e2);
    if (old && strcmp(status_of(old), "CREATE_FAILED") != 0) {
        lo_error_set(err, "ConflictException",
                     "project %s already has a %s dataset (status %s); delete it with delete-dataset first, or add "
                     "images with update-dataset-entries", project, type, status_of(old));
        goto done;
    }
    svc_fmt(tmp, sizeof tmp, "%s/projects/%s/datasets/.new-%s.%08x", s->home, project, type, randombytes_random());
    if (svc_mkdirs(tmp, err)) goto done;
    double created = svc_now();
    svc_fmt(p, sizeof p, "%s/data", tmp);
    lds_error derr = {{0}}, warn = {{0}};
    int irc = kind == 1 ? lds_import_manifest(p, src_path, s->s3_root, &warn, &derr)
            : kind == 2 ? lds_import_folder(p, src_path, &warn, &derr)
                        : lds_create_empty(p, &derr);
    if (irc == 0) {
        meta = new_meta(type, created, "CREATE_COMPLETE", warn.message[0] ? warn.message : "Dataset created");
    } else {
        /* A failed import leaves a dataset that says why, as the service did; no images in it. */
        svc_rmtree(p);
        meta = new_meta(type, created, "CREATE_FAILED", derr.message[0] ? derr.message : "import failed");
    }
    svc_fmt(p, sizeof p, "%s/meta.json", tmp);
    if (svc_write_json(p, meta, err)) goto done;
    if (old && svc_remove_atomic(s, final, err)) goto done;
    if (rename(tmp, final) != 0) {
        lo_error_set(err, "InternalServerException", "cannot move dataset into %s: %s", final, strerror(errno));
        goto done;
    }
    svc_fmt(p, sizeof p, "%s/projects/%s/datasets", s->home, project);
    svc_fsync_dir(p);
    tmp[0] = 0;
    *out = cJSON_CreateObject();
    cJSON *dm = cJSON_AddObjectToObject(*out, "DatasetMetadata");
    cJSON_AddStringToObject(dm, "DatasetType", type);
    cJSON_AddNumberToObject(dm, "CreationTimestamp", created);
    cJSON_AddItemToObject(dm, "Status", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(meta, "Status"), true));
    cJSON_AddItemToObject(dm, "StatusMessage",
                          cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(meta, "StatusMessage"), true));
    if (svc_token_store(s, "CreateDataset", in, *out, err)) goto done;
    rc = 0;
done:
    if (tmp[0]) svc_rmtree(tmp);
    cJSON_Delete(meta);
    cJSON_Delete(old);
    svc_unlock(pl);
    return rc;
}

static cJSON *read_meta_or_404(lo_service *s, const char *project, const char *type, lo_error *err) {
    if (svc_require_project(s, project, err)) return NULL;
    char p[SVC_PATH_MAX];
    meta_path(s, project, type, p);
    cJSON *meta = svc_read_json(p, err);
    if (!meta && errno == ENOENT)
        lo_error_set(err, "ResourceNotFoundException",
                     "project %s has no %s dataset (create it with create-dataset --dataset-type %s)", project, type,
                     type);
    return meta;
}

int svc_describe_dataset(lo_service *s, const cJSON *in, const uint8_t *b, size_t bl, cJSON **out, lo_error *err) {
    (void)b; (void)bl;
    static const char *const members[] = {"ProjectName", "DatasetType", NULL};
    const char *project, *type;
    if (get_common(in, "DescribeDataset", members, &project, &type, err)) return -1;
    cJSON *meta = read_meta_or_404(s, project, type, err);
    if (!meta) return -1;
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "ProjectName", project);
    static const char *const keys[] = {"DatasetType", "CreationTimestamp", "LastUpdatedTimestamp", "Status",
                                       "StatusMessage"};
    for (int i = 0; i < 5; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(meta, keys[i]);
        if (v) cJSON_AddItemToObject(d, keys[i], cJSON_Duplicate(v, true));
    }
    cJSON_Delete(meta);
    char dd[SVC_PATH_MAX], data[SVC_PATH_MAX + 16];
    svc_dataset_dir(s, project, type, dd);
    svc_fmt(data, sizeof data, "%s/data", dd);
    lds_stats st = {0};
    lds_error derr;
    if (svc_exists(data) && lds_stats_get(data, &st, &derr) != 0) memset(&st, 0, sizeof st);
    cJSON *is = cJSON_AddObjectToObject(d, "ImageStats");
    cJSON_AddNumberToObject(is, "Total", (double)st.total);
    cJSON_AddNumberToObject(is, "Labeled", (double)st.labeled);
    cJSON_AddNumberToObject(is, "Normal", (double)st.normal);
    cJSON_AddNumberToObject(is, "Anomaly", (double)st.anomaly);
    *out = cJSON_CreateObject();
    cJSON_AddItemToObject(*out, "DatasetDescription", d);
    return 0;
}

static void add_line(const char *json_line, void *ctx) {
    cJSON_AddItemToArray((cJSON *)ctx, cJSON_CreateString(json_line));
}

static int get_time(const cJSON *in, const char *field, int64_t *out, lo_error *err) {
    *out = 0;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, field);
    if (!v || cJSON_IsNull(v)) return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e11) {
        lo_error_set(err, "ValidationException", "%s must be a timestamp in epoch seconds", field);
        return -1;
    }
    *out = (int64_t)v->valuedouble;
    if (*out == 0) *out = 1; /* 0 means "no bound" to lds_list */
    return 0;
}

int svc_list_dataset_entries(lo_service *s, const cJSON *in, const uint8_t *b, size_t bl, cJSON **out,
                             lo_error *err) {
    (void)b; (void)bl;
    static const char *const members[] = {"ProjectName", "DatasetType", "Labeled", "AnomalyClass",
                                          "BeforeCreationDate", "AfterCreationDate", "NextToken", "MaxResults",
                                          "SourceRefContains", NULL};
    const char *project, *type, *cls, *contains;
    int max;
    int64_t start;
    lds_filter f = {.labeled = -1};
    if (get_common(in, "ListDatasetEntries", members, &project, &type, err) ||
        svc_check_page(in, &max, &start, err) || svc_get_string(in, "AnomalyClass", false, &cls, err) ||
        svc_get_string(in, "SourceRefContains", false, &contains, err) ||
        get_time(in, "BeforeCreationDate", &f.before, err) || get_time(in, "AfterCreationDate", &f.after, err))
        return -1;
    const cJSON *lab = cJSON_GetObjectItemCaseSensitive(in, "Labeled");
    if (lab && !cJSON_IsNull(lab)) {
        if (!cJSON_IsBool(lab)) {
            lo_error_set(err, "ValidationException", "Labeled must be true or false");
            return -1;
        }
        f.labeled = cJSON_IsTrue(lab) ? 1 : 0;
    }
    if (cls && strcmp(cls, "normal") && strcmp(cls, "anomaly")) {
        lo_error_set(err, "ValidationException", "invalid value \"%.40s\" for AnomalyClass: must be normal or anomaly",
                     cls);
        return -1;
    }
    if (contains) {
        bool blank = true;
        for (const char *q = contains; *q && blank; q++) blank = *q == ' ' || *q == '\t' || *q == '\n' || *q == '\r';
        if (blank || strlen(contains) > 2048) {
            lo_error_set(err, "ValidationException",
                         "SourceRefContains must be 1 to 2048 characters with at least one that is not a space");
            return -1;
        }
    }
    f.anomaly_class = cls;
    f.source_ref_contains = contains;
    cJSON *meta = read_meta_or_404(s, project, type, err);
    if (!meta) return -1;
    cJSON_Delete(meta);
    char dd[SVC_PATH_MAX], data[SVC_PATH_MAX + 16];
    svc_dataset_dir(s, project, type, dd);
    svc_fmt(data, sizeof data, "%s/data", dd);
    *out = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(*out, "DatasetEntries");
    if (!svc_exists(data)) return 0; /* CREATE_FAILED: no entries */
    int64_t next = -1;
    lds_error derr;
    if (lds_list(data, &f, start, max, add_line, list, &next, &derr) != 0) {
        lo_error_set(err, "InternalServerException", "cannot list the %s dataset of %s: %s", type, project,
                     derr.message);
        return -1;
    }
    if (next >= 0) {
        char *tok = svc_page_token(next);
        cJSON_AddStringToObject(*out, "NextToken", tok);
        free(tok);
    }
    return 0;
}

/* Changes is a blob: base64 on the wire. Raw JSON Lines (starting with '{', which base64 never
 * does) are taken as they are, for callers that pass the text. */
static uint8_t *decode_changes(const char *text, size_t *len, lo_error *err) {
    uint8_t *raw;
    if (text[0] == '{') {
        *len = strlen(text);
        raw = (uint8_t *)strdup(text);
    } else {
        raw = svc_b64_decode(text, len);
        if (!raw) {
            lo_error_set(err, "ValidationException",
                         "Changes must be base64-encoded JSON Lines (one Ground Truth JSON object per line)");
            return NULL;
        }
    }
    if (*len < 1 || *len > 10485760) {
        lo_error_set(err, "ValidationException", "Changes must be 1 byte to 10 MB, got %zu bytes", *len);
        free(raw);
        return NULL;
    }
    /* DatasetEntry: ^\{.*\}$, 2..8192 characters, per line */
    size_t line = 1;
    for (size_t i = 0; i < *len;) {
        size_t j = i;
        while (j < *len && raw[j] != '\n') j++;
        size_t e = j;
        while (e > i && (raw[e - 1] == '\r' || raw[e - 1] == ' ')) e--;
        if (e > i && (e - i < 2 || e - i > 8192 || raw[i] != '{' || raw[e - 1] != '}')) {
            lo_error_set(err, "ValidationException",
                         "Changes line %zu is not a JSON object of 2 to 8192 characters (got %zu characters "
                         "starting \"%.30s\")", line, e - i, (const char *)raw + i);
            free(raw);
            return NULL;
        }
        i = j + 1;
        line++;
    }
    return raw;
}

int svc_update_dataset_entries(lo_service *s, const cJSON *in, const uint8_t *b, size_t bl, cJSON **out,
                               lo_error *err) {
    (void)b; (void)bl;
    static const char *const members[] = {"ProjectName", "DatasetType", "Changes", "ClientToken", NULL};
    const char *project, *type, *changes;
    if (get_common(in, "UpdateDatasetEntries", members, &project, &type, err) ||
        svc_get_string(in, "Changes", true, &changes, err))
        return -1;
    size_t clen;
    uint8_t *raw = decode_changes(changes, &clen, err);
    if (!raw) return -1;
    int pl = svc_lock_project(s, project, err);
    if (pl < 0) { free(raw); return -1; }
    int rc = -1;
    cJSON *replay = NULL, *meta = NULL;
    int t = svc_token_check(s, "UpdateDatasetEntries", in, &replay, err);
    if (t < 0) goto done;
    if (t == 1) { *out = replay; rc = 0; goto done; }
    meta = read_meta_or_404(s, project, type, err);
    if (!meta) goto done;
    const char *st = status_of(meta);
    if (!strcmp(st, "CREATE_FAILED") || strstr(st, "IN_PROGRESS")) {
        lo_error_set(err, "ConflictException",
                     "the %s dataset of %s is %s and cannot be updated; delete it and create it again", type,
                     project, st);
        goto done;
    }
    char dd[SVC_PATH_MAX], data[SVC_PATH_MAX + 16], mp[SVC_PATH_MAX + 16];
    svc_dataset_dir(s, project, type, dd);
    svc_fmt(data, sizeof data, "%s/data", dd);
    svc_fmt(mp, sizeof mp, "%s/meta.json", dd);
    lds_error derr = {{0}};
    const char *status;
    if (lds_update(data, (const char *)raw, clen, s->s3_root, &derr) == 0) {
        status = "UPDATE_COMPLETE";
        cJSON_ReplaceItemInObject(meta, "StatusMessage", cJSON_CreateString("Update complete"));
    } else {
        /* lds_update is all-or-nothing: the dataset is as before, and says why the update failed. */
        status = "UPDATE_FAILED_ROLLBACK_COMPLETE";
        cJSON_ReplaceItemInObject(meta, "StatusMessage", cJSON_CreateString(derr.message[0] ? derr.message : "update failed"));
    }
    cJSON_ReplaceItemInObject(meta, "Status", cJSON_CreateString(status));
    cJSON_ReplaceItemInObject(meta, "LastUpdatedTimestamp", cJSON_CreateNumber(svc_now()));
    if (svc_write_json(mp, meta, err)) goto done;
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "Status", status);
    if (svc_token_store(s, "UpdateDatasetEntries", in, *out, err)) goto done;
    rc = 0;
done:
    free(raw);
    cJSON_Delete(meta);
    svc_unlock(pl);
    return rc;
}

int svc_delete_dataset(lo_service *s, const cJSON *in, const uint8_t *b, size_t bl, cJSON **out, lo_error *err) {
    (void)b; (void)bl;
    static const char *const members[] = {"ProjectName", "DatasetType", "ClientToken", NULL};
    const char *project, *type;
    if (get_common(in, "DeleteDataset", members, &project, &type, err)) return -1;
    int pl = svc_lock_project(s, project, err);
    if (pl < 0) return -1;
    int rc = -1;
    cJSON *replay = NULL, *meta = NULL;
    int t = svc_token_check(s, "DeleteDataset", in, &replay, err);
    if (t < 0) goto done;
    if (t == 1) { *out = replay; rc = 0; goto done; }
    meta = read_meta_or_404(s, project, type, err);
    if (!meta) goto done;
    char dd[SVC_PATH_MAX];
    svc_dataset_dir(s, project, type, dd);
    /* Models train on snapshots, so a dataset can go while a model trains. */
    if (svc_remove_atomic(s, dd, err)) goto done;
    *out = cJSON_CreateObject();
    if (svc_token_store(s, "DeleteDataset", in, *out, err)) goto done;
    rc = 0;
done:
    cJSON_Delete(meta);
    svc_unlock(pl);
    return rc;
}
