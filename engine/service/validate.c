/* validate.c — the service model's constraints (botocore lookoutvision 2020-11-20): patterns,
 * lengths, ranges and counts. Every failure is a ValidationException naming field and value, so a
 * user can fix the call without reading the model. */
#include "svc_internal.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Quotes at most 80 bytes of a user value into an error message. */
static const char *shown(const char *v, char *buf, size_t cap) {
    size_t n = strlen(v);
    if (n <= 80) svc_fmt(buf, cap, "\"%s\"", v);
    else svc_fmt(buf, cap, "\"%.80s...\" (%zu characters)", v, n);
    return buf;
}

static int fail(lo_error *err, const char *field, const char *v, const char *rule) {
    char b[160];
    lo_error_set(err, "ValidationException", "invalid value %s for %s: %s", shown(v, b, sizeof b), field, rule);
    return -1;
}

static int length_ok(const char *field, const char *v, size_t lo, size_t hi, lo_error *err) {
    size_t n = strlen(v);
    if (n < lo || n > hi) {
        char rule[96];
        svc_fmt(rule, sizeof rule, "length must be %zu to %zu characters, got %zu", lo, hi, n);
        return fail(err, field, v, rule);
    }
    return 0;
}

/* true when every byte is alphanumeric or in `extra` */
static bool all_in(const char *v, const char *extra) {
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (!isalnum(*p) && !strchr(extra, *p)) return false;
    return true;
}

int svc_get_string(const cJSON *in, const char *field, bool required, const char **out, lo_error *err) {
    *out = NULL;
    const cJSON *it = in ? cJSON_GetObjectItemCaseSensitive(in, field) : NULL;
    if (!it || cJSON_IsNull(it)) {
        if (required) {
            lo_error_set(err, "ValidationException", "missing required parameter %s", field);
            return -1;
        }
        return 0;
    }
    if (!cJSON_IsString(it)) {
        lo_error_set(err, "ValidationException", "invalid type for parameter %s: expected a string", field);
        return -1;
    }
    *out = it->valuestring;
    return 0;
}

int svc_check_project_name(const char *field, const char *v, lo_error *err) {
    if (length_ok(field, v, 1, 255, err)) return -1;
    if (!isalnum((unsigned char)v[0]) || !all_in(v, "_-"))
        return fail(err, field, v, "must match [a-zA-Z0-9][a-zA-Z0-9_\\-]* (letters, digits, '_' and '-', "
                                   "starting with a letter or digit)");
    return 0;
}

int svc_check_client_token(const char *v, lo_error *err) {
    if (length_ok("ClientToken", v, 1, 64, err)) return -1;
    if (!all_in(v, "-")) return fail(err, "ClientToken", v, "must match ^[a-zA-Z0-9-]+$");
    return 0;
}

int svc_check_dataset_type(const char *field, const char *v, lo_error *err) {
    if (strcmp(v, "train") && strcmp(v, "test")) return fail(err, field, v, "must be \"train\" or \"test\"");
    return 0;
}

int svc_check_model_version(const char *field, const char *v, bool allow_latest, lo_error *err) {
    if (length_ok(field, v, 1, 10, err)) return -1;
    if (allow_latest && !strcmp(v, "latest")) return 0;
    bool ok = v[0] >= '1' && v[0] <= '9';
    for (const char *p = v; ok && *p; p++) ok = isdigit((unsigned char)*p);
    if (!ok)
        return fail(err, field, v, allow_latest ? "must be a version number (1, 2, ...) or \"latest\""
                                                : "must be a version number (1, 2, ...)");
    return 0;
}

int svc_check_description(const char *v, lo_error *err) {
    if (length_ok("Description", v, 1, 500, err)) return -1;
    if (!all_in(v, ".-_"))
        return fail(err, "Description", v, "must match [0-9A-Za-z\\.\\-_]* (no spaces or other punctuation)");
    return 0;
}

int svc_check_kms_key_id(const char *v, lo_error *err) {
    if (length_ok("KmsKeyId", v, 1, 2048, err)) return -1;
    if (!isalnum((unsigned char)v[0]) || !all_in(v, ":_/+=,@.-"))
        return fail(err, "KmsKeyId", v, "must match ^[A-Za-z0-9][A-Za-z0-9:_/+=,@.-]{0,2048}$");
    return 0;
}

int svc_check_bucket(const char *field, const char *v, lo_error *err) {
    if (length_ok(field, v, 3, 63, err)) return -1;
    if (!all_in(v, ".-_")) return fail(err, field, v, "must match [0-9A-Za-z\\.\\-_]*");
    if (!strcmp(v, "...")) return fail(err, field, v, "is not a usable folder name in the S3 mirror");
    return 0;
}

int svc_check_s3_key(const char *field, const char *v, bool is_prefix, lo_error *err) {
    if (length_ok(field, v, is_prefix ? 0 : 1, 1024, err)) return -1;
    if (!*v) return 0;
    if (v[0] == '/' || !all_in(v, "/!_.*'()-"))
        return fail(err, field, v, "must match ^([a-zA-Z0-9!_.*'()-][/a-zA-Z0-9!_.*'()-]*)?$");
    /* The pattern allows "." and ".." segments; in the local mirror they would leave the bucket. */
    for (const char *seg = v; seg;) {
        const char *end = strchr(seg, '/');
        size_t n = end ? (size_t)(end - seg) : strlen(seg);
        if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return fail(err, field, v, "\".\" and \"..\" path segments are not allowed (they would leave the "
                                       "S3 mirror)");
        seg = end ? end + 1 : NULL;
    }
    return 0;
}

/* ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$ — ASCII checked exactly; multi-byte UTF-8 accepted when
 * well-formed (letters, separators and digits of other scripts), control characters refused. */
static bool tag_text_ok(const char *v) {
    const unsigned char *p = (const unsigned char *)v;
    while (*p) {
        if (*p < 0x80) {
            if (!isalnum(*p) && !strchr(" _.:/=+-@", *p)) return false;
            p++;
            continue;
        }
        int n = (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2 : (*p & 0xF8) == 0xF0 ? 3 : -1;
        if (n < 0 || *p == 0xC0 || *p == 0xC1) return false;
        for (int i = 1; i <= n; i++)
            if ((p[i] & 0xC0) != 0x80) return false;
        p += n + 1;
    }
    return true;
}

int svc_check_tag_key(const char *field, const char *v, lo_error *err) {
    if (length_ok(field, v, 1, 128, err)) return -1;
    if (!tag_text_ok(v))
        return fail(err, field, v, "must contain only letters, digits, spaces and _ . : / = + - @");
    if (!strncmp(v, "aws:", 4)) return fail(err, field, v, "the aws: prefix is reserved");
    return 0;
}

int svc_check_tag_list(const char *field, const cJSON *tags, lo_error *err) {
    if (!cJSON_IsArray(tags)) {
        lo_error_set(err, "ValidationException", "invalid type for parameter %s: expected a list of "
                                                 "{\"Key\": ..., \"Value\": ...}", field);
        return -1;
    }
    int n = cJSON_GetArraySize(tags);
    if (n > 200) {
        lo_error_set(err, "ValidationException", "%s has %d tags; at most 200 are allowed", field, n);
        return -1;
    }
    int i = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, tags) {
        char f[96];
        const char *k, *v;
        svc_fmt(f, sizeof f, "%s[%d].Key", field, i);
        if (!cJSON_IsObject(t)) {
            lo_error_set(err, "ValidationException", "%s[%d] must be an object {\"Key\": ..., \"Value\": ...}",
                         field, i);
            return -1;
        }
        if (svc_get_string(t, "Key", true, &k, err) || svc_check_tag_key(f, k, err)) return -1;
        svc_fmt(f, sizeof f, "%s[%d].Value", field, i);
        if (svc_get_string(t, "Value", true, &v, err)) return -1;
        if (length_ok(f, v, 0, 256, err)) return -1;
        if (!tag_text_ok(v)) return fail(err, f, v, "must contain only letters, digits, spaces and _ . : / = + - @");
        /* duplicate keys: the later would silently win */
        const cJSON *u;
        int j = 0;
        cJSON_ArrayForEach(u, tags) {
            if (j++ >= i) break;
            const cJSON *uk = cJSON_GetObjectItemCaseSensitive(u, "Key");
            if (cJSON_IsString(uk) && !strcmp(uk->valuestring, k)) {
                lo_error_set(err, "ValidationException", "%s has the key \"%s\" twice", field, k);
                return -1;
            }
        }
        i++;
    }
    return 0;
}

int svc_check_page(const cJSON *in, int *max_results, int64_t *start_index, lo_error *err) {
    *max_results = 100;
    *start_index = 0;
    const cJSON *mr = in ? cJSON_GetObjectItemCaseSensitive(in, "MaxResults") : NULL;
    if (mr && !cJSON_IsNull(mr)) {
        if (!cJSON_IsNumber(mr) || mr->valuedouble != floor(mr->valuedouble) || mr->valuedouble < 1 ||
            mr->valuedouble > 100) {
            char *t = cJSON_PrintUnformatted(mr);
            lo_error_set(err, "ValidationException", "invalid value %s for MaxResults: must be an integer from 1 to 100",
                         t ? t : "?");
            free(t);
            return -1;
        }
        *max_results = (int)mr->valuedouble;
    }
    const char *tok;
    if (svc_get_string(in, "NextToken", false, &tok, err)) return -1;
    if (tok && *tok) {
        if (strlen(tok) > 2048 || !all_in(tok, "/+=")) return fail(err, "NextToken", tok, "is not a token this service issued");
        size_t n = 0;
        uint8_t *raw = svc_b64_decode(tok, &n);
        char buf[32] = {0};
        if (raw && n < sizeof buf) memcpy(buf, raw, n);
        free(raw);
        char *end = NULL;
        long long idx = (!strncmp(buf, "i:", 2)) ? strtoll(buf + 2, &end, 10) : -1;
        if (idx < 0 || !end || *end) return fail(err, "NextToken", tok, "is not a token this service issued");
        *start_index = idx;
    }
    return 0;
}

char *svc_page_token(int64_t next_index) {
    char buf[32];
    int n = svc_fmt(buf, sizeof buf, "i:%lld", (long long)next_index);
    return svc_b64_encode((const uint8_t *)buf, (size_t)n);
}

int svc_check_members(const cJSON *in, const char *op, const char *const *allowed, lo_error *err) {
    if (!in) return 0;
    if (!cJSON_IsObject(in)) {
        lo_error_set(err, "ValidationException", "the %s request must be a JSON object", op);
        return -1;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, in) {
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++) ok = !strcmp(*a, it->string);
        if (!ok) {
            char list[512] = "";
            for (const char *const *a = allowed; *a; a++) {
                strncat(list, *a, sizeof list - strlen(list) - 1);
                if (a[1]) strncat(list, ", ", sizeof list - strlen(list) - 1);
            }
            lo_error_set(err, "ValidationException", "unknown parameter \"%s\" for %s; valid parameters: %s",
                         it->string, op, list);
            return -1;
        }
    }
    return 0;
}
