/* http_route.h — the lookoutvision 2020-11-20 REST-JSON bindings (botocore service-2.json): which
 * method + path is which operation, and where each input member travels (uri label, query string,
 * header, raw payload, or the JSON body). */
#ifndef LOOKOUT_HTTP_ROUTE_H
#define LOOKOUT_HTTP_ROUTE_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "../service/service.h"
#include "http_request.h"

typedef enum { LO_LOC_URI = 1, LO_LOC_QUERY, LO_LOC_HEADER, LO_LOC_PAYLOAD } lo_http_location;
typedef enum { LO_WIRE_STRING = 1, LO_WIRE_INTEGER, LO_WIRE_BOOLEAN, LO_WIRE_TIMESTAMP, LO_WIRE_LIST,
               LO_WIRE_BLOB } lo_http_wire_type;

typedef struct {
    const char *member;     /* shape member name, e.g. "ProjectName" */
    lo_http_location location;
    const char *wire_name;  /* label, query key or header name, e.g. "projectName" */
    lo_http_wire_type type;
} lo_http_binding;

#define LO_HTTP_MAX_BINDINGS 10
#define LO_HTTP_MAX_LABELS 3

typedef struct {
    const char *name;       /* "CreateModel" */
    const char *method;
    const char *uri;        /* "/2020-11-20/projects/{projectName}/models" */
    int success_code;       /* 200 or 202 */
    size_t max_body;        /* bytes */
    lo_http_binding bindings[LO_HTTP_MAX_BINDINGS]; /* non-body members; ends at member == NULL */
} lo_http_op;

#define LO_HTTP_MAX_JSON_BODY ((size_t)10 << 20)
#define LO_HTTP_MAX_IMAGE_BODY ((size_t)8 << 20)

/* All operations, terminated by an entry with name == NULL. */
extern const lo_http_op lo_http_ops[];

/* Decoded uri labels of a matched path (label names as in the template). */
typedef struct {
    const char *name[LO_HTTP_MAX_LABELS];
    char *value[LO_HTTP_MAX_LABELS];
    int n;
} lo_http_labels;

void lo_http_labels_free(lo_http_labels *l);

/* Finds the operation for method + raw path. Returns it (labels filled, caller frees), or NULL:
 * *path_known is then 1 if the path exists under another method (405) and 0 otherwise (404). */
const lo_http_op *lo_http_route(const char *method, const char *path, lo_http_labels *labels,
                                int *path_known);

/* The operation's request-body limit for a path, before routing has confirmed it (so an
 * oversized upload can be refused from the headers alone). */
size_t lo_http_body_limit_for(const char *method, const char *path);

/* Builds the service input from labels, query, headers and the JSON body. For an operation with a
 * raw payload, *blob and *blob_len point into rq->body. Returns 0, or -1 with err filled
 * (ValidationException / SerializationException, 400). */
int lo_http_build_input(const lo_http_op *op, const lo_http_request *rq, const lo_http_labels *labels,
                        cJSON **input, const uint8_t **blob, size_t *blob_len, lo_error *err);

/* IAM action names this request needs ("lookoutvision:CreateModel", plus
 * "lookoutvision:TagResource" for CreateModel with Tags). Returns how many (<= 2). */
int lo_http_required_actions(const lo_http_op *op, const cJSON *input, char actions[2][64]);

#endif
