/* cli_model.h — the service model as the CLI sees it: shapes and operations, generated from
 * botocore's lookoutvision/2020-11-20 into cli_operations.c by gen_operations.py. Internal. */
#ifndef LOOKOUT_CLI_MODEL_H
#define LOOKOUT_CLI_MODEL_H

typedef enum {
    LO_CLI_STRING, LO_CLI_INTEGER, LO_CLI_BOOLEAN, LO_CLI_FLOAT, LO_CLI_TIMESTAMP, LO_CLI_BLOB,
    LO_CLI_STRUCTURE, LO_CLI_LIST, LO_CLI_MAP
} lo_cli_type;

#define LO_CLI_REQUIRED 1    /* member is required by the service model */
#define LO_CLI_IDEMPOTENCY 2 /* member is an idempotency token (filled with a UUID when absent) */

typedef struct {
    const char *name;     /* ProjectName */
    const char *cli_name; /* project-name (without the leading --) */
    int shape;            /* index into lo_cli_shapes */
    int flags;            /* LO_CLI_REQUIRED | LO_CLI_IDEMPOTENCY */
    const char *doc;      /* first sentence of its documentation */
} lo_cli_member;

typedef struct {
    const char *name;
    lo_cli_type type;
    int has_min;
    long long min;        /* min length (string/list/blob) or min value (integer) */
    int streaming;        /* streaming blob (DetectAnomalies Body: a file path on the CLI) */
    const char *const *enums;
    int n_enums;
    const lo_cli_member *members;
    int n_members;
    int member;           /* list element shape, else -1 */
    int key, value;       /* map key/value shapes, else -1 */
} lo_cli_shape;

typedef struct {
    const char *name;         /* CreateModel */
    const char *cli_name;     /* create-model */
    int input, output;        /* shape indexes or -1 */
    const char *input_token;  /* paginator (NULL when the operation does not paginate) */
    const char *output_token;
    const char *limit_key;
    const char *result_key;
    const char *summary;      /* first sentence of its documentation (for `lookout help`) */
    const char *http_method;
    const char *help;         /* the rendered `lookout <command> help` page */
} lo_cli_operation;

extern const lo_cli_shape lo_cli_shapes[];
extern const int lo_cli_n_shapes;
extern const lo_cli_operation lo_cli_operations[];
extern const int lo_cli_n_operations;

#endif
