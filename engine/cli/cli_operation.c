/* cli_operation.c — one service operation from argv to printed output: options (the model's
 * members in kebab-case, plus the AWS CLI's global and paging options), --cli-input-json/yaml,
 * skeletons, client-side validation, pagination as botocore's paginator does it, the call and the
 * formatted result. */
#define _GNU_SOURCE
#include "cli_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <sodium.h>

typedef struct {
    const lo_cli_member *m;
    char **vals;
    int n;
    int bool_value; /* for --flag / --no-flag */
} opt_value;

typedef struct {
    const char *output;
    int no_paginate;
    const char *max_items, *starting_token, *page_size;
    const char *cli_input_json, *cli_input_yaml;
    const char *skeleton; /* NULL, input, output, yaml-input */
    int help;
    opt_value *opts;
    int n_opts;
    struct {
        const lo_cli_extension *x;
        const char *v;
    } ext[8]; /* extension options given (cli_params.c's table) */
    int n_ext;
    lo_sbuf unknown;
} parsed_args;

int lo_cli_terminal_width(void) {
    struct winsize ws;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    return 80;
}

static int is_option(const char *a) { return a[0] == '-' && a[1] == '-'; }

static void add_unknown(parsed_args *pa, const char *a) {
    lo_sbuf_printf(&pa->unknown, "%s%s", pa->unknown.len ? ", " : "", a);
}

static const char *const FORMATS[] = {"json", "text", "table", "yaml"};

static int invalid_choice(const char *opt, const char *const *choices, int n) {
    lo_sbuf b = {0};
    lo_sbuf_printf(&b, "argument %s: Invalid choice, valid choices are:\n\n", opt);
    for (int i = 0; i < n; i += 2) {
        if (i + 1 < n) lo_sbuf_printf(&b, "%-40s | %-40s\n", choices[i], choices[i + 1]);
        else lo_sbuf_printf(&b, "%-40s\n", choices[i]);
    }
    if (b.len && b.s[b.len - 1] == '\n') b.s[--b.len] = 0;
    int rc = lo_cli_usage_error("%s", lo_sbuf_str(&b));
    lo_sbuf_free(&b);
    return rc;
}

static int valid_int(const char *s) {
    char *end;
    errno = 0;
    strtoll(s, &end, 10);
    return *s && !*end && !errno;
}

/* Parses argv[1..] into pa; returns 0 or an exit code (usage errors already printed). */
static int parse_argv(const lo_cli_operation *op, int argc, char **argv, parsed_args *pa) {
    const lo_cli_shape *in = op->input >= 0 ? &lo_cli_shapes[op->input] : NULL;
    pa->opts = calloc((size_t)(in ? in->n_members : 0) + 1, sizeof *pa->opts);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i == 1 && argc == 2 && strcmp(a, "help") == 0) {
            pa->help = 1;
            return 0;
        }
        if (!is_option(a)) {
            add_unknown(pa, a);
            continue;
        }
        char *name = strdup(a + 2);
        char *inline_val = strchr(name, '=');
        if (inline_val) *inline_val++ = 0;
        /* one value for a single-valued option */
#define TAKE_ONE(dst)                                                                  \
    do {                                                                               \
        if (inline_val) {                                                              \
            dst = a + 2 + (inline_val - name);                                         \
        } else if (i + 1 < argc && !is_option(argv[i + 1])) {                          \
            dst = argv[++i];                                                           \
        } else {                                                                       \
            free(name);                                                                \
            return lo_cli_usage_error("argument --%s: expected one argument", a + 2); \
        }                                                                              \
    } while (0)
        const char *v = NULL;
        int paginated = op->input_token != NULL;
        if (!strcmp(name, "output")) {
            TAKE_ONE(v);
            int ok = 0;
            for (int k = 0; k < 4; k++) ok |= !strcmp(v, FORMATS[k]);
            if (!ok) {
                free(name);
                return invalid_choice("--output", FORMATS, 4);
            }
            pa->output = v;
        } else if (!strcmp(name, "no-paginate")) {
            pa->no_paginate = 1;
        } else if (paginated && !strcmp(name, "max-items")) {
            TAKE_ONE(v);
            if (!valid_int(v)) {
                free(name);
                return lo_cli_usage_error("argument --max-items: invalid int value: '%s'", v);
            }
            pa->max_items = v;
        } else if (paginated && !strcmp(name, "page-size")) {
            TAKE_ONE(v);
            if (!valid_int(v)) {
                free(name);
                return lo_cli_usage_error("argument --page-size: invalid int value: '%s'", v);
            }
            pa->page_size = v;
        } else if (paginated && !strcmp(name, "starting-token")) {
            TAKE_ONE(v);
            pa->starting_token = v;
        } else if (!strcmp(name, "cli-input-json")) {
            TAKE_ONE(v);
            pa->cli_input_json = v;
        } else if (!strcmp(name, "cli-input-yaml")) {
            TAKE_ONE(v);
            pa->cli_input_yaml = v;
        } else if (!strcmp(name, "generate-cli-skeleton")) {
            static const char *const choices[] = {"input", "output", "yaml-input"};
            if (inline_val) v = a + 2 + (inline_val - name);
            else if (i + 1 < argc && argv[i + 1][0] != '-') v = argv[++i];
            else v = "input";
            int ok = 0;
            for (int k = 0; k < 3; k++) ok |= !strcmp(v, choices[k]);
            if (!ok) {
                free(name);
                return invalid_choice("--generate-cli-skeleton", choices, 3);
            }
            pa->skeleton = v;
        } else if (!strcmp(name, "region") || !strcmp(name, "profile") || !strcmp(name, "color") ||
                   !strcmp(name, "cli-read-timeout") || !strcmp(name, "cli-connect-timeout")) {
            TAKE_ONE(v); /* accepted for scripts written for aws; lookout is local */
        } else if (!strcmp(name, "no-cli-pager") || !strcmp(name, "debug") || !strcmp(name, "no-verify-ssl") ||
                   !strcmp(name, "no-sign-request")) {
            /* accepted, nothing to do */
        } else {
            /* a member of the input shape: --name, or --no-name for booleans */
            const lo_cli_member *m = NULL;
            int negated = 0;
            for (int k = 0; in && k < in->n_members; k++) {
                const lo_cli_member *c = &in->members[k];
                if (!strcmp(name, c->cli_name)) m = c;
                else if (lo_cli_shapes[c->shape].type == LO_CLI_BOOLEAN && !strncmp(name, "no-", 3) &&
                         !strcmp(name + 3, c->cli_name))
                    m = c, negated = 1;
                if (m) break;
            }
            const lo_cli_extension *x = m ? NULL : lo_cli_find_extension(op->name, name);
            if (x) {
                TAKE_ONE(v);
                int k = 0;
                while (k < pa->n_ext && pa->ext[k].x != x) k++;
                if (k < (int)(sizeof pa->ext / sizeof *pa->ext)) {
                    pa->ext[k].x = x, pa->ext[k].v = v;
                    if (k == pa->n_ext) pa->n_ext++;
                }
                free(name);
                continue;
            }
            if (!m) {
                add_unknown(pa, a);
                free(name);
                continue;
            }
            opt_value *ov = &pa->opts[m - in->members];
            ov->m = m;
            free(ov->vals);
            ov->vals = NULL;
            ov->n = 0;
            if (lo_cli_shapes[m->shape].type == LO_CLI_BOOLEAN) {
                ov->bool_value = !negated;
                if (inline_val) { /* --labeled=false also works */
                    ov->bool_value = strcasecmp(a + 2 + (inline_val - name), "false") != 0;
                }
            } else if (lo_cli_shapes[m->shape].type == LO_CLI_LIST) {
                ov->vals = calloc((size_t)argc, sizeof(char *));
                if (inline_val) ov->vals[ov->n++] = (char *)(a + 2 + (inline_val - name));
                while (!inline_val && i + 1 < argc && !is_option(argv[i + 1])) ov->vals[ov->n++] = argv[++i];
                if (!ov->n) {
                    free(name);
                    return lo_cli_usage_error("argument --%s: expected at least one argument", m->cli_name);
                }
            } else {
                TAKE_ONE(v);
                ov->vals = calloc(2, sizeof(char *));
                ov->vals[ov->n++] = (char *)v;
            }
        }
#undef TAKE_ONE
        free(name);
    }
    return 0;
}

int lo_cli_param_error(const char *msg) {
    fprintf(stderr, "\n%s\n", msg);
    return LO_CLI_EXIT_USAGE;
}

int lo_cli_service_error(const char *operation, const lo_error *err) {
    fprintf(stderr, "\nAn error occurred (%s) when calling the %s operation: %s\n", err->type, operation, err->message);
    return LO_CLI_EXIT_SERVICE;
}

/* --cli-input-json / --cli-input-yaml: inline or file:// */
static cJSON *load_cli_input(const char *opt, const char *value, int yaml, int *rc) {
    char *data = NULL;
    size_t len = 0;
    if (!strncmp(value, "file://", 7) || !strncmp(value, "fileb://", 8)) {
        const char *path = value + (value[4] == 'b' ? 8 : 7);
        data = lo_cli_read_file(path, &len);
        if (!data) {
            lo_sbuf b = {0};
            lo_sbuf_printf(&b, "Error parsing parameter '%s': Unable to load paramfile %s: [Errno %d] %s: '%s'", opt,
                           value, errno, strerror(errno), path);
            *rc = lo_cli_param_error(lo_sbuf_str(&b));
            lo_sbuf_free(&b);
            return NULL;
        }
    } else {
        data = strdup(value);
        len = strlen(value);
    }
    cJSON *v = NULL;
    lo_sbuf err = {0};
    if (yaml) {
        v = lo_cli_yaml_parse(data, len, &err);
    } else {
        const char *end = NULL;
        v = cJSON_ParseWithLengthOpts(data, len, &end, 0);
        if (v && end) {
            while (end < data + len && strchr(" \t\r\n", *end)) end++;
            if (end < data + len) {
                cJSON_Delete(v);
                v = NULL;
            }
        }
    }
    free(data);
    lo_sbuf msg = {0};
    if (!v) {
        lo_sbuf_printf(&msg, "Error parsing parameter '%s': Invalid %s received.%s%s", opt, yaml ? "YAML" : "JSON",
                       err.len ? " " : "", lo_sbuf_str(&err));
    } else if (!cJSON_IsObject(v)) {
        lo_sbuf_printf(&msg, "Error parsing parameter '%s': Invalid type: expecting map, received %s", opt,
                       cJSON_IsArray(v) ? "<class 'list'>" : cJSON_IsString(v) ? "<class 'str'>" : "<class 'int'>");
        cJSON_Delete(v);
        v = NULL;
    }
    if (!v) *rc = lo_cli_param_error(lo_sbuf_str(&msg));
    lo_sbuf_free(&msg);
    lo_sbuf_free(&err);
    return v;
}

static void free_parsed(parsed_args *pa, int n) {
    for (int i = 0; i < n; i++) free(pa->opts[i].vals);
    free(pa->opts);
    lo_sbuf_free(&pa->unknown);
}

static int print_formatted(const char *format, const cJSON *shown, const char *title) {
    lo_sbuf out = {0};
    if (!strcmp(format, "table")) lo_cli_format_table(shown, title, lo_cli_terminal_width(), &out);
    else lo_cli_format(format, shown, title, &out);
    fwrite(lo_sbuf_str(&out), 1, out.len, stdout);
    lo_sbuf_free(&out);
    return fflush(stdout) == 0 ? 0 : LO_CLI_EXIT_OTHER;
}

/* botocore's pagination token: base64 of {"NextToken": ..., "boto_truncate_amount": n} */
static char *encode_token(const char *next, int truncate) {
    lo_sbuf j = {0};
    lo_sbuf_puts(&j, "{\"NextToken\": ");
    if (next) {
        cJSON *s = cJSON_CreateString(next);
        char *p = cJSON_PrintUnformatted(s);
        lo_sbuf_puts(&j, p);
        free(p);
        cJSON_Delete(s);
    } else {
        lo_sbuf_puts(&j, "null");
    }
    if (truncate > 0) lo_sbuf_printf(&j, ", \"boto_truncate_amount\": %d", truncate);
    lo_sbuf_puts(&j, "}");
    char *tok = lo_cli_base64_encode((const unsigned char *)lo_sbuf_str(&j), j.len);
    lo_sbuf_free(&j);
    return tok;
}

static int decode_token(const char *tok, char **next, int *truncate) {
    size_t n = strlen(tok);
    unsigned char *bin = malloc(n + 1);
    size_t got = 0;
    const char *end = NULL;
    if (sodium_base642bin(bin, n + 1, tok, n, NULL, &got, &end, sodium_base64_VARIANT_ORIGINAL) != 0) {
        free(bin);
        return -1;
    }
    bin[got] = 0;
    cJSON *j = cJSON_Parse((char *)bin);
    free(bin);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return -1;
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "NextToken");
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "boto_truncate_amount");
    *next = cJSON_IsString(t) ? strdup(t->valuestring) : NULL;
    *truncate = cJSON_IsNumber(a) ? a->valueint : 0;
    cJSON_Delete(j);
    return 0;
}

/* Calls a paginated operation until max_items or the end, as botocore's PageIterator and
 * build_full_result do: the result list aggregated, NextToken the resume token if truncated. */
static int call_paginated(lo_service *s, const lo_cli_operation *op, cJSON *input, const parsed_args *pa,
                          cJSON **result, lo_error *err) {
    char *next = NULL;
    int truncate = 0;
    if (pa->starting_token && decode_token(pa->starting_token, &next, &truncate) != 0) {
        lo_error_set(err, "ValidationException", "Bad starting token: %s", pa->starting_token);
        return -1;
    }
    long long max_items = pa->max_items ? atoll(pa->max_items) : -1;
    cJSON *all = cJSON_CreateArray();
    cJSON *first_page = NULL;
    char *resume = NULL;
    long long total = 0;
    int first = 1;
    for (;;) {
        cJSON *req = cJSON_Duplicate(input, 1);
        cJSON_DeleteItemFromObjectCaseSensitive(req, op->input_token);
        if (next) cJSON_AddStringToObject(req, op->input_token, next);
        if (pa->page_size) {
            cJSON_DeleteItemFromObjectCaseSensitive(req, op->limit_key);
            cJSON_AddNumberToObject(req, op->limit_key, (double)atoll(pa->page_size));
        }
        cJSON *page = NULL;
        int rc = lo_service_call(s, op->name, req, NULL, 0, &page, err);
        cJSON_Delete(req);
        if (rc != 0) {
            free(next);
            cJSON_Delete(all);
            cJSON_Delete(first_page);
            return -1;
        }
        cJSON *items = cJSON_GetObjectItemCaseSensitive(page, op->result_key);
        int start = first ? truncate : 0;
        int idx = 0, taken_here = 0;
        int page_items = cJSON_GetArraySize(items);
        for (cJSON *e = items ? items->child : NULL; e; e = e->next, idx++) {
            if (idx < start) continue;
            if (max_items >= 0 && total >= max_items) break;
            cJSON_AddItemToArray(all, cJSON_Duplicate(e, 1));
            total++;
            taken_here = idx + 1;
        }
        const cJSON *nt = cJSON_GetObjectItemCaseSensitive(page, op->output_token);
        char *page_next = cJSON_IsString(nt) && *nt->valuestring ? strdup(nt->valuestring) : NULL;
        if (!first_page) first_page = cJSON_Duplicate(page, 1);
        cJSON_Delete(page);
        if (max_items >= 0 && total >= max_items) {
            if (taken_here < page_items) resume = encode_token(next, taken_here); /* stopped inside the page */
            else if (page_next) resume = encode_token(page_next, 0);
            free(page_next);
            break;
        }
        free(next);
        next = page_next;
        first = 0;
        truncate = 0;
        if (!next) break;
    }
    free(next);
    /* non-aggregated members from the first page, then the result list and the resume token */
    cJSON *out = cJSON_CreateObject();
    for (cJSON *e = first_page ? first_page->child : NULL; e; e = e->next) {
        if (!strcmp(e->string, op->result_key) || !strcmp(e->string, op->output_token)) continue;
        cJSON_AddItemToObject(out, e->string, cJSON_Duplicate(e, 1));
    }
    cJSON_AddItemToObject(out, op->result_key, all);
    if (resume) cJSON_AddStringToObject(out, op->output_token, resume);
    free(resume);
    cJSON_Delete(first_page);
    *result = out;
    return 0;
}

int lo_cli_run_operation(const lo_cli_operation *op, int argc, char **argv) {
    parsed_args pa = {0};
    const lo_cli_shape *in = op->input >= 0 ? &lo_cli_shapes[op->input] : NULL;
    int n_members = in ? in->n_members : 0;
    int rc = parse_argv(op, argc, argv, &pa);
    cJSON *input = NULL;
    uint8_t *body = NULL;
    size_t body_len = 0;
    lo_service *svc = NULL;
    if (rc) goto done;
    if (pa.help) {
        lo_cli_print_help(op, stdout);
        goto done;
    }
    const char *format = pa.output ? pa.output : getenv("AWS_DEFAULT_OUTPUT");
    if (!format || !*format) format = "json";
    /* required options, unless the input comes from elsewhere (OverrideRequiredArgsArgument) */
    int input_elsewhere = pa.cli_input_json || pa.cli_input_yaml || (pa.skeleton && strcmp(pa.skeleton, "output"));
    if (!input_elsewhere) {
        lo_sbuf missing = {0};
        for (int k = 0; k < n_members; k++)
            if ((in->members[k].flags & LO_CLI_REQUIRED) && !pa.opts[k].m)
                lo_sbuf_printf(&missing, "%s--%s", missing.len ? ", " : "", in->members[k].cli_name);
        if (missing.len) {
            rc = lo_cli_usage_error("the following arguments are required: %s", lo_sbuf_str(&missing));
            lo_sbuf_free(&missing);
            goto done;
        }
        lo_sbuf_free(&missing);
    }
    if (pa.unknown.len) {
        fprintf(stderr, "\nusage: lookout [options] <command> [parameters]\nTo see help text, you can run:\n\n"
                        "  lookout help\n  lookout <command> help\n\nUnknown options: %s\n\n",
                lo_sbuf_str(&pa.unknown));
        rc = LO_CLI_EXIT_USAGE;
        goto done;
    }
    if (pa.cli_input_json && pa.cli_input_yaml) {
        rc = lo_cli_param_error("Only one --cli-input- parameter may be specified.");
        goto done;
    }
    if (pa.skeleton && !strcmp(pa.skeleton, "input")) {
        cJSON *sk = lo_cli_skeleton_input(op->input);
        lo_sbuf out = {0};
        lo_cli_format_json(sk, &out);
        fputs(lo_sbuf_str(&out), stdout);
        lo_sbuf_free(&out);
        cJSON_Delete(sk);
        goto done;
    }
    if (pa.skeleton && !strcmp(pa.skeleton, "yaml-input")) {
        lo_sbuf out = {0};
        lo_cli_skeleton_yaml(op->input, &out);
        fputs(lo_sbuf_str(&out), stdout);
        lo_sbuf_free(&out);
        goto done;
    }
    /* build the request: cli-input first, explicit options override its keys */
    if (pa.cli_input_json || pa.cli_input_yaml) {
        input = load_cli_input(pa.cli_input_json ? "--cli-input-json" : "--cli-input-yaml",
                               pa.cli_input_json ? pa.cli_input_json : pa.cli_input_yaml, pa.cli_input_yaml != NULL, &rc);
        if (!input) goto done;
    } else {
        input = cJSON_CreateObject();
    }
    const char *body_path = NULL;
    for (int k = 0; k < n_members; k++) {
        opt_value *ov = &pa.opts[k];
        if (!ov->m) continue;
        cJSON *v;
        if (lo_cli_shapes[ov->m->shape].type == LO_CLI_BOOLEAN) {
            v = cJSON_CreateBool(ov->bool_value);
        } else {
            lo_sbuf err = {0};
            v = lo_cli_param_from_argv(ov->m->shape, ov->m->cli_name, ov->vals, ov->n, &err);
            if (!v) {
                rc = lo_cli_param_error(lo_sbuf_str(&err));
                /* the AWS CLI lets these conversion errors escape as plain failures (255) */
                if (!strncmp(lo_sbuf_str(&err), "Invalid base64", 14) || !strncmp(lo_sbuf_str(&err), "invalid literal", 15) ||
                    !strncmp(lo_sbuf_str(&err), "could not convert", 17))
                    rc = LO_CLI_EXIT_OTHER;
                lo_sbuf_free(&err);
                goto done;
            }
            lo_sbuf_free(&err);
        }
        cJSON_DeleteItemFromObjectCaseSensitive(input, ov->m->name);
        cJSON_AddItemToObject(input, ov->m->name, v);
    }
    /* streaming blob (DetectAnomalies Body): a file path, sent as bytes outside the JSON */
    for (int k = 0; k < n_members; k++) {
        const lo_cli_member *m = &in->members[k];
        if (!lo_cli_shapes[m->shape].streaming) continue;
        cJSON *p = cJSON_GetObjectItemCaseSensitive(input, m->name);
        if (cJSON_IsString(p)) body_path = p->valuestring;
    }
    for (int k = 0; k < pa.n_ext; k++) { /* extension options override cli-input keys too */
        cJSON_DeleteItemFromObjectCaseSensitive(input, pa.ext[k].x->name);
        cJSON_AddItemToObject(input, pa.ext[k].x->name, lo_cli_extension_value(pa.ext[k].x, pa.ext[k].v));
    }
    {
        lo_sbuf verr = {0};
        cJSON *ext = lo_cli_detach_extensions(op->name, input); /* unknown to botocore's validator */
        int bad = lo_cli_validate(op->input, input, "", &verr);
        while (ext && ext->child) {
            cJSON *it = cJSON_DetachItemViaPointer(ext, ext->child);
            cJSON_AddItemToObject(input, it->string, it);
        }
        cJSON_Delete(ext);
        if (bad > 0) {
            if (verr.len && verr.s[verr.len - 1] == '\n') verr.s[--verr.len] = 0;
            fprintf(stderr, "\nParameter validation failed:\n%s\n", lo_sbuf_str(&verr));
            lo_sbuf_free(&verr);
            rc = LO_CLI_EXIT_USAGE;
            goto done;
        }
        lo_sbuf_free(&verr);
    }
    if (pa.skeleton) { /* output: inputs validated, show the shape of the answer */
        cJSON *sk = lo_cli_skeleton_output(op->output);
        rc = print_formatted(format, sk, op->name);
        cJSON_Delete(sk);
        goto done;
    }
    if (body_path) {
        char *data = lo_cli_read_file(body_path, &body_len);
        if (!data) {
            fprintf(stderr, "\nError parsing parameter '--body': cannot read %s: %s\n", body_path, strerror(errno));
            rc = LO_CLI_EXIT_USAGE;
            goto done;
        }
        body = (uint8_t *)data;
        for (int k = 0; k < n_members; k++)
            if (lo_cli_shapes[in->members[k].shape].streaming)
                cJSON_DeleteItemFromObjectCaseSensitive(input, in->members[k].name);
    }
    if (op->input >= 0) lo_cli_fill_idempotency(op->input, input);

    int paginate = op->input_token && !pa.no_paginate;
    if (op->input_token && (cJSON_GetObjectItemCaseSensitive(input, op->input_token) ||
                            cJSON_GetObjectItemCaseSensitive(input, op->limit_key)))
        paginate = 0; /* the user drives the service's own paging members */
    if (!paginate && (pa.max_items || pa.starting_token || pa.page_size)) {
        if (pa.no_paginate) {
            lo_sbuf b = {0};
            if (pa.starting_token) lo_sbuf_puts(&b, "--starting-token");
            if (pa.page_size) lo_sbuf_printf(&b, "%s--page-size", b.len ? ", " : "");
            if (pa.max_items) lo_sbuf_printf(&b, "%s--max-items", b.len ? ", " : "");
            fprintf(stderr, "\nCannot specify --no-paginate along with pagination arguments: %s\n", lo_sbuf_str(&b));
            lo_sbuf_free(&b);
            rc = LO_CLI_EXIT_USAGE;
            goto done;
        }
    }
    lo_error err;
    memset(&err, 0, sizeof err);
    svc = lo_service_open(&err);
    if (!svc) {
        rc = lo_cli_service_error(op->name, &err);
        goto done;
    }
    cJSON *result = NULL;
    int call_rc = paginate ? call_paginated(svc, op, input, &pa, &result, &err)
                           : lo_service_call(svc, op->name, input, body, body_len, &result, &err);
    if (call_rc != 0) {
        rc = lo_cli_service_error(op->name, &err);
        goto done;
    }
    cJSON *shown = lo_cli_output_prepare(op->output, result);
    cJSON *resume = NULL;
    if (paginate && !strcmp(format, "text")) /* the AWS CLI prints the resume token last: NEXTTOKEN\t... */
        resume = cJSON_DetachItemFromObjectCaseSensitive(shown, op->output_token);
    rc = print_formatted(format, shown, op->name);
    if (cJSON_IsString(resume)) printf("%s\t%s\n", "NEXTTOKEN", resume->valuestring);
    cJSON_Delete(resume);
    cJSON_Delete(shown);
    cJSON_Delete(result);
done:
    if (svc) lo_service_close(svc);
    free(body);
    cJSON_Delete(input);
    free_parsed(&pa, n_members);
    return rc;
}
