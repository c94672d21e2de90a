/* http_route.c — routing and request assembly for the lookoutvision REST-JSON protocol. The table
 * mirrors botocore's lookoutvision/2020-11-20/service-2.json; tests/http/test_http_unit.c checks it
 * against that file member by member. */
#include "http_route.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define URI(m, w) {m, LO_LOC_URI, w, LO_WIRE_STRING}
#define TOKEN {"ClientToken", LO_LOC_HEADER, "X-Amzn-Client-Token", LO_WIRE_STRING}
#define PROJECT URI("ProjectName", "projectName")
#define VERSION URI("ModelVersion", "modelVersion")
#define DTYPE URI("DatasetType", "datasetType")
#define ARN URI("ResourceArn", "resourceArn")
#define PAGING {"NextToken", LO_LOC_QUERY, "nextToken", LO_WIRE_STRING}, \
               {"MaxResults", LO_LOC_QUERY, "maxResults", LO_WIRE_INTEGER}
#define P "/2020-11-20/projects/{projectName}"
#define J LO_HTTP_MAX_JSON_BODY

const lo_http_op lo_http_ops[] = {
    {"CreateDataset", "POST", P "/datasets", 202, J, {PROJECT, TOKEN}},
    {"CreateModel", "POST", P "/models", 202, J, {PROJECT, TOKEN}},
    {"CreateProject", "POST", "/2020-11-20/projects", 200, J, {TOKEN}},
    {"DeleteDataset", "DELETE", P "/datasets/{datasetType}", 202, J, {PROJECT, DTYPE, TOKEN}},
    {"DeleteModel", "DELETE", P "/models/{modelVersion}", 202, J, {PROJECT, VERSION, TOKEN}},
    {"DeleteProject", "DELETE", P, 200, J, {PROJECT, TOKEN}},
    {"DescribeDataset", "GET", P "/datasets/{datasetType}", 200, J, {PROJECT, DTYPE}},
    {"DescribeModel", "GET", P "/models/{modelVersion}", 200, J, {PROJECT, VERSION}},
    {"DescribeModelPackagingJob", "GET", P "/modelpackagingjobs/{jobName}", 200, J,
     {PROJECT, URI("JobName", "jobName")}},
    {"DescribeProject", "GET", P, 200, J, {PROJECT}},
    {"DetectAnomalies", "POST", P "/models/{modelVersion}/detect", 200, LO_HTTP_MAX_IMAGE_BODY,
     {PROJECT, VERSION, {"Body", LO_LOC_PAYLOAD, NULL, LO_WIRE_BLOB},
      {"ContentType", LO_LOC_HEADER, "Content-Type", LO_WIRE_STRING}}},
    {"ListDatasetEntries", "GET", P "/datasets/{datasetType}/entries", 200, J,
     {PROJECT, DTYPE, {"Labeled", LO_LOC_QUERY, "labeled", LO_WIRE_BOOLEAN},
      {"AnomalyClass", LO_LOC_QUERY, "anomalyClass", LO_WIRE_STRING},
      {"BeforeCreationDate", LO_LOC_QUERY, "createdBefore", LO_WIRE_TIMESTAMP},
      {"AfterCreationDate", LO_LOC_QUERY, "createdAfter", LO_WIRE_TIMESTAMP}, PAGING,
      {"SourceRefContains", LO_LOC_QUERY, "sourceRefContains", LO_WIRE_STRING}}},
    {"ListModelPackagingJobs", "GET", P "/modelpackagingjobs", 200, J, {PROJECT, PAGING}},
    {"ListModels", "GET", P "/models", 200, J, {PROJECT, PAGING}},
    {"ListProjects", "GET", "/2020-11-20/projects", 200, J, {PAGING}},
    {"ListTagsForResource", "GET", "/2020-11-20/tags/{resourceArn}", 200, J, {ARN}},
    {"StartModel", "POST", P "/models/{modelVersion}/start", 202, J, {PROJECT, VERSION, TOKEN}},
    {"StartModelPackagingJob", "POST", P "/modelpackagingjobs", 200, J, {PROJECT, TOKEN}},
    {"StopModel", "POST", P "/models/{modelVersion}/stop", 202, J, {PROJECT, VERSION, TOKEN}},
    {"TagResource", "POST", "/2020-11-20/tags/{resourceArn}", 200, J, {ARN}},
    {"UntagResource", "DELETE", "/2020-11-20/tags/{resourceArn}", 200, J,
     {ARN, {"TagKeys", LO_LOC_QUERY, "tagKeys", LO_WIRE_LIST}}},
    {"UpdateDatasetEntries", "PATCH", P "/datasets/{datasetType}/entries", 202, J,
     {PROJECT, DTYPE, TOKEN}},
    {NULL, NULL, NULL, 0, 0, {{NULL, 0, NULL, 0}}},
};

static void fail(lo_error *err, const char *type, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fail(lo_error *err, const char *type, int status, const char *fmt, ...) {
    snprintf(err->type, sizeof err->type, "%s", type);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    err->http_status = status;
}

void lo_http_labels_free(lo_http_labels *l) {
    for (int i = 0; i < l->n; i++) free(l->value[i]);
    l->n = 0;
}

/* Matches one template against a raw path; labels are percent-decoded whole segments, so an ARN
 * arrives intact even though botocore escapes its ':' and '/'. */
static int match_template(const char *tmpl, const char *path, lo_http_labels *labels) {
    labels->n = 0;
    const char *t = tmpl, *p = path;
    while (*t && *p) {
        if (*t != '/' || *p != '/') goto no;
        t++;
        p++;
        const char *te = strchr(t, '/'), *pe = strchr(p, '/');
        size_t tn = te ? (size_t)(te - t) : strlen(t), pn = pe ? (size_t)(pe - p) : strlen(p);
        if (tn > 2 && t[0] == '{' && t[tn - 1] == '}') {
            if (pn == 0 || labels->n == LO_HTTP_MAX_LABELS) goto no;
            char *v = malloc(pn + 1);
            if (!v) goto no;
            long dn = lo_http_pct_decode(p, pn, v);
            if (dn <= 0) { free(v); goto no; }
            labels->value[labels->n] = v;
            labels->name[labels->n] = NULL; /* set by the caller from the template */
            labels->n++;
        } else if (tn != pn || memcmp(t, p, tn) != 0) {
            goto no;
        }
        t += tn;
        p += pn;
    }
    if (*t || *p) goto no;
    return 1;
no:
    lo_http_labels_free(labels);
    return 0;
}

/* The label names in template order (the n-th "{...}" of op->uri). */
static void name_labels(const lo_http_op *op, lo_http_labels *labels) {
    int k = 0;
    for (size_t i = 0; op->bindings[i].member && i < LO_HTTP_MAX_BINDINGS; i++) {
        if (op->bindings[i].location != LO_LOC_URI) continue;
        /* bindings list uri members in template order */
        if (k < labels->n) labels->name[k++] = op->bindings[i].member;
    }
}

const lo_http_op *lo_http_route(const char *method, const char *path, lo_http_labels *labels,
                                int *path_known) {
    *path_known = 0;
    labels->n = 0;
    for (const lo_http_op *op = lo_http_ops; op->name; op++) {
        if (!match_template(op->uri, path, labels)) continue;
        if (strcmp(op->method, method) == 0) {
            name_labels(op, labels);
            return op;
        }
        *path_known = 1;
        lo_http_labels_free(labels);
    }
    return NULL;
}

size_t lo_http_body_limit_for(const char *method, const char *path) {
    lo_http_labels l;
    int known;
    const lo_http_op *op = lo_http_route(method, path, &l, &known);
    if (!op) return LO_HTTP_MAX_JSON_BODY;
    lo_http_labels_free(&l);
    return op->max_body;
}

/* ---- query values ---- */

static long long days_from_civil(long long y, unsigned m, unsigned d) {
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

static int digits(const char *s, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Epoch seconds (as botocore may send a timestamp in a query string: ISO 8601, e.g.
 * 2024-05-01T10:00:00Z or with .ffffff / +hh:mm, or plain epoch seconds). */
static int parse_timestamp(const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*s && !*end && errno == 0 && strchr(s, '-') == NULL) {
        *out = v;
        return 0;
    }
    int y, mo, d, h, mi, se;
    if (strlen(s) < 19 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || digits(s + 11, 2, &h) ||
        s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &se))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return -1;
    double t = (double)(days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se);
    const char *p = s + 19;
    if (*p == '.') {
        double scale = 0.1;
        p++;
        if (!isdigit((unsigned char)*p)) return -1;
        while (isdigit((unsigned char)*p)) {
            t += (*p - '0') * scale;
            scale /= 10;
            p++;
        }
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om;
        p++;
        if (digits(p, 2, &oh)) return -1;
        p += 2;
        if (*p == ':') p++;
        if (digits(p, 2, &om)) return -1;
        p += 2;
        t -= sign * (oh * 3600 + om * 60);
    }
    if (*p) return -1;
    *out = t;
    return 0;
}

/* Decoded copy of a raw query component, or NULL for a malformed escape. */
static char *decode_dup(const char *raw) {
    if (!raw) raw = "";
    size_t n = strlen(raw);
    char *d = malloc(n + 1);
    if (!d) return NULL;
    if (lo_http_pct_decode(raw, n, d) < 0) { free(d); return NULL; }
    return d;
}

static int add_query_member(const lo_http_binding *b, const lo_http_request *rq, cJSON *input,
                            lo_error *err) {
    cJSON *list = NULL;
    int rc = 0, seen = 0;
    for (size_t i = 0; i < rq->n_query && rc == 0; i++) {
        char *key = decode_dup(rq->query[i].name);
        if (!key) {
            fail(err, "ValidationException", 400, "query parameter %zu has a malformed percent escape", i + 1);
            return -1;
        }
        int match = strcmp(key, b->wire_name) == 0;
        free(key);
        if (!match) continue;
        char *val = decode_dup(rq->query[i].value);
        if (!val) {
            fail(err, "ValidationException", 400, "query parameter '%s' has a malformed percent escape",
                 b->wire_name);
            return -1;
        }
        if (b->type == LO_WIRE_LIST) {
            if (!list) list = cJSON_AddArrayToObject(input, b->member);
            if (!list || !cJSON_AddItemToArray(list, cJSON_CreateString(val))) rc = -1;
            free(val);
            continue;
        }
        if (seen++) {
            fail(err, "ValidationException", 400, "query parameter '%s' is given more than once", b->wire_name);
            free(val);
            return -1;
        }
        if (b->type == LO_WIRE_STRING) {
            if (!cJSON_AddStringToObject(input, b->member, val)) rc = -1;
        } else if (b->type == LO_WIRE_INTEGER) {
            char *end;
            errno = 0;
            long long v = strtoll(val, &end, 10);
            if (!*val || *end || errno || v < -2147483648LL || v > 2147483647LL) {
                fail(err, "ValidationException", 400, "query parameter '%s' (%s) must be an integer, "
                     "not '%.64s'", b->wire_name, b->member, val);
                rc = -1;
            } else if (!cJSON_AddNumberToObject(input, b->member, (double)v)) rc = -1;
        } else if (b->type == LO_WIRE_BOOLEAN) {
            if (strcasecmp(val, "true") == 0 || strcasecmp(val, "false") == 0) {
                if (!cJSON_AddBoolToObject(input, b->member, strcasecmp(val, "true") == 0)) rc = -1;
            } else {
                fail(err, "ValidationException", 400, "query parameter '%s' (%s) must be true or false, "
                     "not '%.64s'", b->wire_name, b->member, val);
                rc = -1;
            }
        } else if (b->type == LO_WIRE_TIMESTAMP) {
            double t;
            if (parse_timestamp(val, &t)) {
                fail(err, "ValidationException", 400, "query parameter '%s' (%s) must be an ISO 8601 "
                     "timestamp or epoch seconds, not '%.64s'", b->wire_name, b->member, val);
                rc = -1;
            } else if (!cJSON_AddNumberToObject(input, b->member, t)) rc = -1;
        }
        free(val);
    }
    if (rc && !err->type[0]) fail(err, "InternalServerException", 500, "out of memory");
    return rc;
}

int lo_http_build_input(const lo_http_op *op, const lo_http_request *rq, const lo_http_labels *labels,
                        cJSON **input, const uint8_t **blob, size_t *blob_len, lo_error *err) {
    *input = NULL;
    *blob = NULL;
    *blob_len = 0;
    err->type[0] = '\0';
    int has_payload = 0;
    for (size_t i = 0; i < LO_HTTP_MAX_BINDINGS && op->bindings[i].member; i++)
        if (op->bindings[i].location == LO_LOC_PAYLOAD) has_payload = 1;
    cJSON *in = NULL;
    if (has_payload || rq->body_len == 0) {
        in = cJSON_CreateObject();
    } else {
        const char *end = NULL;
        in = cJSON_ParseWithLengthOpts((const char *)rq->body, rq->body_len, &end, 0);
        if (!in || !cJSON_IsObject(in)) {
            size_t at = in ? 0 : (size_t)(end ? end - (const char *)rq->body : 0);
            cJSON_Delete(in);
            if (at)
                fail(err, "SerializationException", 400, "%s: the request body is not a JSON object "
                     "(parse error near byte %zu)", op->name, at);
            else
                fail(err, "SerializationException", 400, "%s: the request body is not a JSON object",
                     op->name);
            return -1;
        }
    }
    if (!in) {
        fail(err, "InternalServerException", 500, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < LO_HTTP_MAX_BINDINGS && op->bindings[i].member; i++) {
        const lo_http_binding *b = &op->bindings[i];
        /* members bound elsewhere never come from the body */
        cJSON_DeleteItemFromObjectCaseSensitive(in, b->member);
        if (b->location == LO_LOC_URI) {
            for (int k = 0; k < labels->n; k++)
                if (labels->name[k] && strcmp(labels->name[k], b->member) == 0)
                    cJSON_AddStringToObject(in, b->member, labels->value[k]);
        } else if (b->location == LO_LOC_HEADER) {
            const char *v = lo_http_header(rq, b->wire_name);
            if (v) cJSON_AddStringToObject(in, b->member, v);
        } else if (b->location == LO_LOC_QUERY) {
            if (add_query_member(b, rq, in, err)) {
                cJSON_Delete(in);
                return -1;
            }
        } else if (b->location == LO_LOC_PAYLOAD) {
            *blob = rq->body;
            *blob_len = rq->body_len;
        }
    }
    *input = in;
    return 0;
}

int lo_http_required_actions(const lo_http_op *op, const cJSON *input, char actions[2][64]) {
    int n = 0;
    snprintf(actions[n++], 64, "lookoutvision:%s", op->name);
    if (strcmp(op->name, "CreateModel") == 0) {
        const cJSON *tags = cJSON_GetObjectItemCaseSensitive(input, "Tags");
        /* the service also tags the new model, so the caller must be allowed to tag */
        if (tags && (!cJSON_IsArray(tags) || cJSON_GetArraySize(tags) > 0))
            snprintf(actions[n++], 64, "lookoutvision:TagResource");
    }
    return n;
}
