/* service.h — the Lookout for Vision operations, one implementation behind two front ends
 * (engine/cli and engine/http). Internal to engine/.
 *
 * Requests and responses are cJSON documents shaped exactly like the service model's input and
 * output shapes (botocore lookoutvision 2020-11-20), with the wire conventions of REST-JSON:
 * timestamps as epoch seconds (numbers), blobs base64. Front ends translate to their own forms
 * (the CLI prints ISO 8601 timestamps). State lives under $LOOKOUT_HOME; outputs under
 * $LOOKOUT_S3_ROOT (DESIGN.md §3).
 */
#ifndef LOOKOUT_SERVICE_H
#define LOOKOUT_SERVICE_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

typedef struct {
    char type[64];      /* ValidationException, ResourceNotFoundException, ConflictException,
                           ServiceQuotaExceededException, AccessDeniedException, ThrottlingException,
                           InternalServerException */
    char message[2048]; /* says what was wrong and how to fix it; names the file, field or value */
    int http_status;    /* 400, 402, 403, 404, 409, 429, 500 */
} lo_error;

typedef struct lo_service lo_service;

/* Reads LOOKOUT_HOME, LOOKOUT_S3_ROOT, LOOKOUT_REGION, LOOKOUT_ACCOUNT_ID; creates the home. */
lo_service *lo_service_open(lo_error *err);
void lo_service_close(lo_service *s);
const char *lo_service_home(const lo_service *s);
const char *lo_service_s3_root(const lo_service *s);

/* Runs one operation by its API name ("CreateModel", "DescribeModel", ...). `input` is the
 * request shape (may be NULL for none); `body`/`body_len` carry a blob payload (DetectAnomalies'
 * Body) outside the JSON. On success *output is a new cJSON object (caller frees) and 0 is
 * returned; on failure -1 and err filled. */
int lo_service_call(lo_service *s, const char *operation, const cJSON *input, const uint8_t *body,
                    size_t body_len, cJSON **output, lo_error *err);

/* Fills err (type, message, HTTP status from the exception name); printf-style. */
void lo_error_set(lo_error *err, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Path of a trained model version's model file (for lo_model_load). version: a number or
 * "latest". ResourceNotFoundException when the project or version is missing, ValidationException
 * when the version is not trained (TRAINED or a hosting state). 0 on success. */
int lo_service_model_file(lo_service *s, const char *project, const char *version, char *path, size_t len,
                          lo_error *err);

/* The detached training worker (`lookout __worker <project> <version>`). */
int lo_service_worker_main(const char *project, const char *version);

#endif
