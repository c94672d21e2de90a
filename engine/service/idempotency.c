/* idempotency.c — ClientToken: a retried call with the same token and the same parameters within
 * 8 hours gets the first call's response and changes nothing; the same token with other parameters
 * is a ConflictException (DESIGN.md §5). One small file per (operation, token). */
#include "svc_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_names(const void *a, const void *b) {
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    return strcmp(x->string, y->string);
}

/* Key order must not matter: callers (CLI, HTTP, SDKs) build the same request differently. */
static cJSON *canonical(const cJSON *v, bool top) {
    if (cJSON_IsObject(v)) {
        int n = cJSON_GetArraySize(v);
        const cJSON **items = malloc(sizeof *items * (size_t)(n ? n : 1));
        int k = 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, v) {
            if (top && !strcmp(it->string, "ClientToken")) continue;
            items[k++] = it;
        }
        qsort(items, (size_t)k, sizeof *items, cmp_names);
        cJSON *o = cJSON_CreateObject();
        for (int i = 0; i < k; i++) cJSON_AddItemToObject(o, items[i]->string, canonical(items[i], false));
        free(items);
        return o;
    }
    if (cJSON_IsArray(v)) {
        cJSON *a = cJSON_CreateArray();
        const cJSON *it;
        cJSON_ArrayForEach(it, v) cJSON_AddItemToArray(a, canonical(it, false));
        return a;
    }
    return cJSON_Duplicate(v, true);
}

static void hex_sha256(const char *text, size_t len, char out[65]) {
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)text, len);
    sodium_bin2hex(out, 65, h, sizeof h);
}

static const char *token_of(const cJSON *in) {
    const cJSON *t = in ? cJSON_GetObjectItemCaseSensitive(in, "ClientToken") : NULL;
    return cJSON_IsString(t) ? t->valuestring : NULL;
}

static void token_path(lo_service *s, const char *op, const char *token, char *out) {
    char key[256], h[65];
    int n = svc_fmt(key, sizeof key, "%s:%s", op, token);
    hex_sha256(key, (size_t)n, h);
    svc_fmt(out, SVC_PATH_MAX, "%s/tokens/%s.json", s->home, h);
}

static void params_hash(const cJSON *in, char out[65]) {
    cJSON *c = canonical(in, true);
    char *t = cJSON_PrintUnformatted(c);
    hex_sha256(t ? t : "", t ? strlen(t) : 0, out);
    free(t);
    cJSON_Delete(c);
}

int svc_token_check(lo_service *s, const char *op, const cJSON *in, cJSON **replay, lo_error *err) {
    *replay = NULL;
    const char *token = token_of(in);
    if (!token) return 0;
    char path[SVC_PATH_MAX], h[65];
    token_path(s, op, token, path);
    lo_error e2;
    cJSON *rec = svc_read_json(path, &e2);
    if (!rec) return 0;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(rec, "Time");
    const cJSON *ph = cJSON_GetObjectItemCaseSensitive(rec, "ParamsHash");
    if (!cJSON_IsNumber(t) || !cJSON_IsString(ph) || svc_now() - t->valuedouble > SVC_TOKEN_WINDOW_S) {
        cJSON_Delete(rec);
        return 0; /* expired: the token starts a new call */
    }
    params_hash(in, h);
    if (strcmp(h, ph->valuestring) != 0) {
        cJSON_Delete(rec);
        lo_error_set(err, "ConflictException",
                     "ClientToken \"%s\" was already used for a %s call with different parameters in the last 8 "
                     "hours; use a new token for a different request", token, op);
        return -1;
    }
    *replay = cJSON_DetachItemFromObjectCaseSensitive(rec, "Response");
    cJSON_Delete(rec);
    if (!*replay) *replay = cJSON_CreateObject();
    return 1;
}

int svc_token_store(lo_service *s, const char *op, const cJSON *in, const cJSON *response, lo_error *err) {
    const char *token = token_of(in);
    if (!token) return 0;
    char dir[SVC_PATH_MAX + 16], path[SVC_PATH_MAX], h[65];
    svc_fmt(dir, sizeof dir, "%s/tokens", s->home);
    if (svc_mkdirs(dir, err)) return -1;
    token_path(s, op, token, path);
    params_hash(in, h);
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "Operation", op);
    cJSON_AddStringToObject(rec, "ParamsHash", h);
    cJSON_AddNumberToObject(rec, "Time", svc_now());
    cJSON_AddItemToObject(rec, "Response", cJSON_Duplicate(response, true));
    int rc = svc_write_json(path, rec, err);
    cJSON_Delete(rec);
    return rc;
}
