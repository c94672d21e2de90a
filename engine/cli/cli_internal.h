/* cli_internal.h — what the rooms of engine/cli share: a growable string, the shorthand and YAML
 * parsers, parameter building/validation against the model, skeletons and output formatters. */
#ifndef LOOKOUT_CLI_INTERNAL_H
#define LOOKOUT_CLI_INTERNAL_H

#include <stddef.h>
#include <stdio.h>
#include <cjson/cJSON.h>
#include "cli_model.h"

/* Exit codes of the AWS CLI. */
#define LO_CLI_EXIT_OK 0
#define LO_CLI_EXIT_USAGE 252
#define LO_CLI_EXIT_SERVICE 254
#define LO_CLI_EXIT_OTHER 255

/* ---- growable string ------------------------------------------------------------------ */
typedef struct {
    char *s;
    size_t len, cap;
} lo_sbuf;
void lo_sbuf_add(lo_sbuf *b, const char *s, size_t n);
void lo_sbuf_puts(lo_sbuf *b, const char *s);
void lo_sbuf_printf(lo_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lo_sbuf_free(lo_sbuf *b);
const char *lo_sbuf_str(lo_sbuf *b); /* never NULL */

/* Reads a whole file (binary-safe, NUL-terminated); NULL with errno set on failure. */
char *lo_cli_read_file(const char *path, size_t *len);

/* ---- shorthand (cli_shorthand.c) ------------------------------------------------------ */
/* Parses AWS shorthand (`a=b,c={d=e},f=[g,h]`) into a cJSON object whose leaves are strings,
 * arrays and objects, exactly as awscli's ShorthandParser does. On error returns NULL and writes
 * the AWS CLI's message (with the caret line) into err. */
cJSON *lo_cli_shorthand_parse(const char *text, lo_sbuf *err);

/* ---- YAML (cli_yaml.c) ---------------------------------------------------------------- */
/* Parses one YAML document (libyaml) into cJSON: mappings, sequences, scalars resolved as YAML
 * 1.2 core (null/bool/int/float/string); quoted scalars stay strings; !!binary stays a string. */
cJSON *lo_cli_yaml_parse(const char *text, size_t len, lo_sbuf *err);

/* ---- parameters (cli_params.c) -------------------------------------------------------- */
/* Builds the value of one top-level option from its argv values (1 or more) for member shape
 * `shape`: JSON when it starts with { or [, shorthand for structures/lists of structures,
 * file:// and fileb:// loaded, scalars converted (BackCompatVisitor). NULL + err on failure
 * (err holds the full "Error parsing parameter '--x': ..." text). */
cJSON *lo_cli_param_from_argv(int shape, const char *cli_name, char **vals, int n, lo_sbuf *err);
/* botocore's ParamValidator: appends one line per problem to err; returns the number found.
 * Also converts timestamps (ISO 8601 or epoch) to epoch seconds in place. */
int lo_cli_validate(int shape, cJSON *value, const char *path, lo_sbuf *err);
/* Fills idempotency-token members that are absent with a fresh UUID v4 (as botocore does). */
void lo_cli_fill_idempotency(int shape, cJSON *input);

/* Extensions: input members lookout's service takes that botocore's model has not (e.g.
 * CreateModel EvaluationFolds, --evaluation-folds), one small table in cli_params.c. */
typedef struct {
    const char *operation; /* CreateModel */
    const char *name;      /* EvaluationFolds */
    const char *cli_name;  /* evaluation-folds */
    lo_cli_type type;      /* LO_CLI_INTEGER or LO_CLI_STRING */
    const char *help;      /* its block in `lookout <command> help` */
} lo_cli_extension;
const lo_cli_extension *lo_cli_find_extension(const char *operation, const char *cli_name);
/* The option's value for the request: an integer when the text is one, else the text as given
 * (the service then refuses it with a ValidationException naming the member). */
cJSON *lo_cli_extension_value(const lo_cli_extension *x, const char *text);
/* Moves the operation's extension members out of input (before botocore's validation, which
 * would call them unknown) into a new object; put them back with the caller's loop. */
cJSON *lo_cli_detach_extensions(const char *operation, cJSON *input);
/* `lookout <command> help`: the generated page with the extensions' options spliced in. */
void lo_cli_print_help(const lo_cli_operation *op, FILE *out);

/* ---- skeletons (cli_skeleton.c) ------------------------------------------------------- */
cJSON *lo_cli_skeleton_input(int shape);            /* --generate-cli-skeleton input */
cJSON *lo_cli_skeleton_output(int shape);           /* output (member names as values) */
void lo_cli_skeleton_yaml(int shape, lo_sbuf *out); /* yaml-input, with comments */

/* ---- output (cli_output.c) ------------------------------------------------------------ */
/* Turns a service response into what the CLI shows: timestamps (epoch seconds) -> ISO 8601 in
 * local time as CLI v2 prints them, numbers into their Python spelling (floats keep ".0").
 * The result is a new tree (numbers become raw items). */
cJSON *lo_cli_output_prepare(int shape, const cJSON *value);
/* Formats for --output json|text|table|yaml; title is the operation name (table). */
void lo_cli_format_json(const cJSON *v, lo_sbuf *out);
void lo_cli_format_text(const cJSON *v, lo_sbuf *out);
void lo_cli_format_table(const cJSON *v, const char *title, int term_width, lo_sbuf *out);
void lo_cli_format_yaml(const cJSON *v, lo_sbuf *out);
/* Dispatches on format; returns -1 on an unknown format. */
int lo_cli_format(const char *format, const cJSON *v, const char *title, lo_sbuf *out);
/* ISO 8601 as botocore + CLI v2 print a datetime with tzlocal (2020-01-01T00:00:00+00:00). */
void lo_cli_iso8601(double epoch, char *buf, size_t n);
/* Python's repr(float). */
void lo_cli_float_repr(double v, char *buf, size_t n);

/* ---- lookup -------------------------------------------------------------------------- */
const lo_cli_operation *lo_cli_find_operation(const char *cli_name);
const lo_cli_member *lo_cli_find_member(int shape, const char *name);

/* base64 (standard alphabet, padded); decode returns -1 on invalid input. */
char *lo_cli_base64_encode(const unsigned char *data, size_t len);
int lo_cli_base64_check(const char *s);

#endif

/* ---- commands (cli_main.c, cli_operation.c, cli_wait.c, cli_demo.c) ------------------- */
#include "service/service.h"

/* Prints the AWS-CLI-like usage block and "lookout: error: <msg>" to stderr; returns 252. */
int lo_cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "\n<msg>\n" to stderr (the AWS CLI's form for parameter errors); returns 252. */
int lo_cli_param_error(const char *msg);
/* "\nAn error occurred (<Type>) when calling the <Operation> operation: <message>"; returns 254. */
int lo_cli_service_error(const char *operation, const lo_error *err);
/* `lookout <operation> [options]`; argv[0] is the command name. */
int lo_cli_run_operation(const lo_cli_operation *op, int argc, char **argv);
/* Width of the terminal on stdout (80 when not a terminal), for --output table. */
int lo_cli_terminal_width(void);

/* Polls DescribeModel until training ends. progress: draw a progress bar on stderr.
 * Returns 0 when TRAINED (or a later hosting state), 255 on TRAINING_FAILED / timeout (message
 * printed), 254 on a service error. *final (may be NULL) gets the last DescribeModel output. */
int lo_cli_wait_trained(lo_service *s, const char *project, const char *version, double delay_s,
                        double timeout_s, int progress, cJSON **final);
int lo_cli_wait_main(int argc, char **argv);
int lo_cli_demo_main(int argc, char **argv);
