/* cli_params.c — from argv strings to the request JSON the service takes, the way awscli does it:
 * file:// and fileb:// loading (paramfile), JSON or shorthand for complex values, the
 * BackCompatVisitor's scalar conversions, then botocore's client-side ParamValidator (required
 * members, types, min length / min value). Patterns and max lengths are the service's job. */
#define _GNU_SOURCE
#include "cli_internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int is_complex(const lo_cli_shape *sh) {
    return sh->type == LO_CLI_STRUCTURE || sh->type == LO_CLI_LIST || sh->type == LO_CLI_MAP;
}

/* Shorthand applies to structures, maps and lists of complex members (argprocess). */
static int supports_shorthand(const lo_cli_shape *sh) {
    if (sh->type == LO_CLI_LIST) return is_complex(&lo_cli_shapes[sh->member]);
    return sh->type == LO_CLI_STRUCTURE || sh->type == LO_CLI_MAP;
}

static const char *lstrip(const char *s) {
    while (*s && isspace((unsigned char)*s)) s++;
    return s;
}

/* Loads file:// (text) or fileb:// (bytes); returns NULL when the value is not a file reference
 * (*failed stays 0) or the file cannot be read (*failed = 1, err filled). */
static char *load_paramfile(const char *cli_name, const char *value, size_t *len, int *is_binary, int *failed,
                            lo_sbuf *err) {
    const char *path = NULL;
    *failed = 0;
    *is_binary = 0;
    if (strncmp(value, "fileb://", 8) == 0) {
        path = value + 8;
        *is_binary = 1;
    } else if (strncmp(value, "file://", 7) == 0) {
        path = value + 7;
    } else {
        return NULL;
    }
    char *data = lo_cli_read_file(path, len);
    if (!data) {
        *failed = 1;
        lo_sbuf_printf(err, "Error parsing parameter '--%s': Unable to load paramfile %s: [Errno %d] %s: '%s'",
                       cli_name, value, errno, strerror(errno), path);
        return NULL;
    }
    if (!*is_binary && memchr(data, 0, *len)) {
        *failed = 1;
        lo_sbuf_printf(err, "Error parsing parameter '--%s': Unable to load paramfile (%s), text contents could "
                       "not be decoded.  If this is a binary file, please use the fileb:// prefix instead of "
                       "the file:// prefix.", cli_name, path);
        free(data);
        return NULL;
    }
    return data;
}

/* Python json.loads-like error text: "Expecting value: line 1 column 16 (char 15)". */
static cJSON *parse_json(const char *cli_name, const char *text, lo_sbuf *err) {
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithOpts(text, &end, 0);
    if (v) {
        const char *rest = lstrip(end);
        if (!*rest) return v;
        cJSON_Delete(v);
        end = rest;
    }
    const char *at = end ? end : cJSON_GetErrorPtr();
    if (!at || at < text) at = text;
    long pos = at - text, line = 1, col = 1;
    for (const char *c = text; c < at; c++) {
        if (*c == '\n') line++, col = 1;
        else col++;
    }
    lo_sbuf_printf(err, "Error parsing parameter '--%s': Invalid JSON: %s: line %ld column %ld (char %ld)\n"
                   "JSON received: %s", cli_name, *at ? "Expecting a JSON value or delimiter" : "Unexpected end of input",
                   line, col, pos, text);
    return NULL;
}

/* BackCompatVisitor: shorthand gives strings; make scalars typed and lists lists. */
static void back_compat(int shape, cJSON *parent, cJSON *item) {
    const lo_cli_shape *sh = &lo_cli_shapes[shape];
    if (!item) return;
    switch (sh->type) {
    case LO_CLI_STRUCTURE:
        if (!cJSON_IsObject(item)) return;
        for (int i = 0; i < sh->n_members; i++)
            back_compat(sh->members[i].shape, item, cJSON_GetObjectItemCaseSensitive(item, sh->members[i].name));
        return;
    case LO_CLI_LIST:
        if (!cJSON_IsArray(item)) {
            if (parent && item->string) { /* wrap a lone value into a one-element list */
                cJSON *list = cJSON_CreateArray();
                cJSON *copy = cJSON_Duplicate(item, 1);
                cJSON_AddItemToArray(list, copy);
                back_compat(sh->member, list, copy);
                cJSON_ReplaceItemInObjectCaseSensitive(parent, item->string, list);
            }
            return;
        }
        for (cJSON *e = item->child; e; e = e->next) back_compat(sh->member, item, e);
        return;
    case LO_CLI_MAP:
        if (!cJSON_IsObject(item)) return;
        for (cJSON *e = item->child; e; e = e->next) back_compat(sh->value, item, e);
        return;
    default:
        break;
    }
    if (!cJSON_IsString(item)) return;
    const char *s = item->valuestring;
    cJSON *repl = NULL;
    if (sh->type == LO_CLI_INTEGER) {
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (*s && !*lstrip(end) && !errno) repl = cJSON_CreateNumber((double)v);
    } else if (sh->type == LO_CLI_FLOAT) {
        char *end;
        double v = strtod(s, &end);
        if (*s && !*lstrip(end)) repl = cJSON_CreateNumber(v);
    } else if (sh->type == LO_CLI_BOOLEAN) {
        if (!strcasecmp(s, "true")) repl = cJSON_CreateTrue();
        else if (!strcasecmp(s, "false")) repl = cJSON_CreateFalse();
    }
    if (!repl) return;
    if (cJSON_IsArray(parent)) {
        int idx = 0;
        for (cJSON *e = parent->child; e && e != item; e = e->next) idx++;
        cJSON_ReplaceItemInArray(parent, idx, repl);
    } else if (parent && item->string) {
        cJSON_ReplaceItemInObjectCaseSensitive(parent, item->string, repl);
    } else {
        cJSON_Delete(repl);
    }
}

/* One scalar from a string (unpack_scalar_cli_arg). */
static cJSON *scalar_from_string(const lo_cli_shape *sh, const char *cli_name, const char *s, size_t len,
                                 int binary, lo_sbuf *err) {
    (void)cli_name;
    switch (sh->type) {
    case LO_CLI_INTEGER: {
        char *end;
        errno = 0;
        const char *p = lstrip(s);
        long long v = strtoll(p, &end, 10);
        if (!*p || *lstrip(end) || errno) {
            lo_sbuf_printf(err, "invalid literal for int() with base 10: '%s'", s);
            return NULL;
        }
        return cJSON_CreateNumber((double)v);
    }
    case LO_CLI_FLOAT: {
        char *end;
        double v = strtod(s, &end);
        if (!*s || *lstrip(end)) {
            lo_sbuf_printf(err, "could not convert string to float: '%s'", s);
            return NULL;
        }
        return cJSON_CreateNumber(v);
    }
    case LO_CLI_BOOLEAN:
        return cJSON_CreateBool(strcasecmp(s, "false") != 0 && *s);
    case LO_CLI_BLOB:
        if (binary) { /* fileb:// gives raw bytes; the wire form is base64 */
            char *b64 = lo_cli_base64_encode((const unsigned char *)s, len);
            cJSON *v = cJSON_CreateString(b64);
            free(b64);
            return v;
        }
        /* CLI v2's default cli_binary_format is base64: the text must be base64 already */
        if (lo_cli_base64_check(s) != 0) {
            lo_sbuf_printf(err, "Invalid base64: \"%s\"", s);
            return NULL;
        }
        return cJSON_CreateString(s);
    default:
        return cJSON_CreateString(s);
    }
}

static cJSON *complex_from_string(int shape, const char *cli_name, const char *text, lo_sbuf *err) {
    const lo_cli_shape *sh = &lo_cli_shapes[shape];
    const char *t = lstrip(text);
    if (*t == '{' || *t == '[') return parse_json(cli_name, text, err);
    if (!supports_shorthand(sh)) {
        lo_sbuf_printf(err, "Error parsing parameter '--%s': Invalid JSON:\n%s", cli_name, text);
        return NULL;
    }
    lo_sbuf perr = {0};
    cJSON *v = lo_cli_shorthand_parse(text, &perr);
    if (!v) {
        lo_sbuf_printf(err, "Error parsing parameter '--%s': %s", cli_name, lo_sbuf_str(&perr));
        lo_sbuf_free(&perr);
        return NULL;
    }
    lo_sbuf_free(&perr);
    /* visit with a temporary parent so list-wrapping of the top value works */
    cJSON *holder = cJSON_CreateObject();
    cJSON_AddItemToObject(holder, "v", v);
    back_compat(shape, holder, v);
    cJSON *out = cJSON_DetachItemFromObjectCaseSensitive(holder, "v");
    cJSON_Delete(holder);
    return out;
}

cJSON *lo_cli_param_from_argv(int shape, const char *cli_name, char **vals, int n, lo_sbuf *err) {
    const lo_cli_shape *sh = &lo_cli_shapes[shape];
    if (n < 1) {
        lo_sbuf_printf(err, "argument --%s: expected one argument", cli_name);
        return NULL;
    }
    if (sh->type == LO_CLI_BLOB && sh->streaming) { /* a path, as the AWS CLI takes it */
        struct stat st;
        if (stat(vals[0], &st) != 0 || !S_ISREG(st.st_mode)) {
            lo_sbuf_printf(err, "Error parsing parameter '--%s': Blob values must be a path to a file.", cli_name);
            return NULL;
        }
        return cJSON_CreateString(vals[0]);
    }
    /* paramfile: only a single value is looked at (awscli's ParamFile handler) */
    char *loaded = NULL;
    size_t loaded_len = 0;
    int binary = 0;
    if (n == 1) {
        int failed;
        loaded = load_paramfile(cli_name, vals[0], &loaded_len, &binary, &failed, err);
        if (failed) return NULL;
    }
    cJSON *out = NULL;
    if (!is_complex(sh)) {
        if (loaded)
            out = scalar_from_string(sh, cli_name, loaded, loaded_len, binary, err);
        else
            out = scalar_from_string(sh, cli_name, vals[0], strlen(vals[0]), 0, err);
    } else if (sh->type != LO_CLI_LIST) {
        out = complex_from_string(shape, cli_name, loaded ? loaded : vals[0], err);
    } else {
        const char *first = lstrip(loaded ? loaded : vals[0]);
        const lo_cli_shape *msh = &lo_cli_shapes[sh->member];
        if (*first == '[') {
            out = parse_json(cli_name, loaded ? loaded : vals[0], err);
        } else if (loaded) {
            if (is_complex(msh)) {
                cJSON *one = complex_from_string(sh->member, cli_name, loaded, err);
                if (one) {
                    out = cJSON_CreateArray();
                    cJSON_AddItemToArray(out, one);
                }
            } else {
                out = cJSON_CreateArray();
                cJSON *one = scalar_from_string(msh, cli_name, loaded, loaded_len, binary, err);
                if (one) cJSON_AddItemToArray(out, one);
                else cJSON_Delete(out), out = NULL;
            }
        } else {
            out = cJSON_CreateArray();
            for (int i = 0; i < n; i++) {
                cJSON *one = is_complex(msh) ? complex_from_string(sh->member, cli_name, vals[i], err)
                                             : scalar_from_string(msh, cli_name, vals[i], strlen(vals[i]), 0, err);
                if (!one) {
                    cJSON_Delete(out);
                    out = NULL;
                    break;
                }
                /* `Key=k,Value=v Key=k2,Value=v2`: each argv word is one element */
                if (cJSON_IsArray(one) && is_complex(msh) && msh->type != LO_CLI_LIST) {
                    cJSON *e;
                    while ((e = cJSON_DetachItemFromArray(one, 0))) cJSON_AddItemToArray(out, e);
                    cJSON_Delete(one);
                } else {
                    cJSON_AddItemToArray(out, one);
                }
            }
        }
    }
    free(loaded);
    return out;
}

/* ---- validation ----------------------------------------------------------------------- */

static void py_repr(const cJSON *v, lo_sbuf *out, int top) {
    if (cJSON_IsString(v)) {
        if (top) lo_sbuf_puts(out, v->valuestring);
        else lo_sbuf_printf(out, "'%s'", v->valuestring);
    } else if (cJSON_IsBool(v)) {
        lo_sbuf_puts(out, cJSON_IsTrue(v) ? "True" : "False");
    } else if (cJSON_IsNull(v)) {
        lo_sbuf_puts(out, "None");
    } else if (cJSON_IsNumber(v)) {
        char buf[64];
        if (v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 1e17)
            snprintf(buf, sizeof buf, "%lld", (long long)v->valuedouble);
        else
            lo_cli_float_repr(v->valuedouble, buf, sizeof buf);
        lo_sbuf_puts(out, buf);
    } else if (cJSON_IsArray(v)) {
        lo_sbuf_puts(out, "[");
        for (const cJSON *e = v->child; e; e = e->next) {
            py_repr(e, out, 0);
            if (e->next) lo_sbuf_puts(out, ", ");
        }
        lo_sbuf_puts(out, "]");
    } else if (cJSON_IsObject(v)) {
        lo_sbuf_puts(out, "{");
        for (const cJSON *e = v->child; e; e = e->next) {
            lo_sbuf_printf(out, "'%s': ", e->string);
            py_repr(e, out, 0);
            if (e->next) lo_sbuf_puts(out, ", ");
        }
        lo_sbuf_puts(out, "}");
    }
}

static const char *py_type(const cJSON *v) {
    if (cJSON_IsString(v)) return "<class 'str'>";
    if (cJSON_IsBool(v)) return "<class 'bool'>";
    if (cJSON_IsNull(v)) return "<class 'NoneType'>";
    if (cJSON_IsNumber(v)) return v->valuedouble == floor(v->valuedouble) ? "<class 'int'>" : "<class 'float'>";
    if (cJSON_IsArray(v)) return "<class 'list'>";
    return "<class 'dict'>";
}

static void type_error(const cJSON *v, const char *path, const char *valid, lo_sbuf *err, int *n) {
    lo_sbuf_printf(err, "Invalid type for parameter %s, value: ", path);
    py_repr(v, err, 1);
    lo_sbuf_printf(err, ", type: %s, valid types: %s\n", py_type(v), valid);
    (*n)++;
}

/* days from civil (proleptic Gregorian), for timegm without TZ games */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* ISO 8601 (date, or date and time with optional fraction and zone; no zone = UTC, as botocore
 * assumes) or epoch seconds. Returns 0 and *out on success. */
static int parse_timestamp(const char *s, double *out) {
    char *end;
    double epoch = strtod(s, &end);
    if (*s && !*end && isdigit((unsigned char)s[strlen(s) - 1])) {
        *out = epoch;
        return 0;
    }
    int Y, M, D, h = 0, mi = 0, sec = 0, used = 0;
    double frac = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &Y, &M, &D, &used) != 3 || used != 10) return -1;
    const char *p = s + used;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        int u2 = 0;
        if (sscanf(p, "%2d:%2d%n", &h, &mi, &u2) != 2 || u2 != 5) return -1;
        p += u2;
        if (*p == ':') {
            if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2])) return -1;
            sec = (p[1] - '0') * 10 + (p[2] - '0');
            p += 3;
            if (*p == '.') {
                char *fe;
                frac = strtod(p, &fe);
                p = fe;
            }
        }
    }
    int offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om = 0, u3 = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &u3) == 2 && u3 == 5) {
        } else if (sscanf(p + 1, "%2d%2d%n", &oh, &om, &u3) == 2 && u3 == 4) {
        } else {
            return -1;
        }
        offset = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p += 1 + u3;
    }
    if (*p || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || mi > 59 || sec > 60) return -1;
    *out = (double)(days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400 + h * 3600 + mi * 60 + sec) + frac - offset;
    return 0;
}

static int validate(int shape, cJSON *parent, cJSON *v, const char *path, lo_sbuf *err) {
    const lo_cli_shape *sh = &lo_cli_shapes[shape];
    int n = 0;
    const char *name = *path ? path : "input";
    switch (sh->type) {
    case LO_CLI_STRUCTURE: {
        if (!cJSON_IsObject(v)) {
            type_error(v, name, "<class 'dict'>", err, &n);
            return n;
        }
        for (int i = 0; i < sh->n_members; i++)
            if ((sh->members[i].flags & LO_CLI_REQUIRED) && !cJSON_GetObjectItemCaseSensitive(v, sh->members[i].name)) {
                lo_sbuf_printf(err, "Missing required parameter in %s: \"%s\"\n", name, sh->members[i].name);
                n++;
            }
        /* members may be replaced (timestamps): take next before visiting */
        for (cJSON *e = v->child, *next; e; e = next) {
            next = e->next;
            const lo_cli_member *m = lo_cli_find_member(shape, e->string);
            if (!m) {
                lo_sbuf_printf(err, "Unknown parameter in %s: \"%s\", must be one of: ", name, e->string);
                for (int i = 0; i < sh->n_members; i++)
                    lo_sbuf_printf(err, "%s%s", i ? ", " : "", sh->members[i].name);
                lo_sbuf_puts(err, "\n");
                n++;
                continue;
            }
            lo_sbuf sub = {0};
            lo_sbuf_printf(&sub, "%s%s%s", path, *path ? "." : "", e->string);
            n += validate(m->shape, v, e, lo_sbuf_str(&sub), err);
            lo_sbuf_free(&sub);
        }
        return n;
    }
    case LO_CLI_LIST: {
        if (!cJSON_IsArray(v)) {
            type_error(v, name, "<class 'list'>, <class 'tuple'>", err, &n);
            return n;
        }
        int len = cJSON_GetArraySize(v);
        if (sh->has_min && len < sh->min) {
            lo_sbuf_printf(err, "Invalid length for parameter %s, value: %d, valid min length: %lld\n", name, len, sh->min);
            n++;
        }
        int i = 0;
        for (cJSON *e = v->child, *next; e; e = next, i++) {
            next = e->next;
            lo_sbuf sub = {0};
            lo_sbuf_printf(&sub, "%s[%d]", name, i);
            n += validate(sh->member, v, e, lo_sbuf_str(&sub), err);
            lo_sbuf_free(&sub);
        }
        return n;
    }
    case LO_CLI_MAP:
        if (!cJSON_IsObject(v)) {
            type_error(v, name, "<class 'dict'>", err, &n);
            return n;
        }
        for (cJSON *e = v->child, *next; e; e = next) {
            next = e->next;
            lo_sbuf sub = {0};
            lo_sbuf_printf(&sub, "%s.%s", name, e->string);
            n += validate(sh->value, v, e, lo_sbuf_str(&sub), err);
            lo_sbuf_free(&sub);
        }
        return n;
    case LO_CLI_STRING:
        if (!cJSON_IsString(v)) {
            type_error(v, name, "<class 'str'>", err, &n);
        } else if (sh->has_min && (long long)strlen(v->valuestring) < sh->min) {
            /* Python counts characters, not bytes */
            long long chars = 0;
            for (const unsigned char *c = (const unsigned char *)v->valuestring; *c; c++) chars += (*c & 0xC0) != 0x80;
            if (chars < sh->min) {
                lo_sbuf_printf(err, "Invalid length for parameter %s, value: %lld, valid min length: %lld\n", name, chars, sh->min);
                n++;
            }
        }
        return n;
    case LO_CLI_INTEGER:
        if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble)) {
            type_error(v, name, "<class 'int'>", err, &n);
        } else if (sh->has_min && v->valuedouble < (double)sh->min) {
            lo_sbuf_printf(err, "Invalid value for parameter %s, value: %lld, valid min value: %lld\n", name,
                           (long long)v->valuedouble, sh->min);
            n++;
        }
        return n;
    case LO_CLI_FLOAT:
        if (!cJSON_IsNumber(v)) type_error(v, name, "<class 'float'>, <class 'decimal.Decimal'>, <class 'int'>", err, &n);
        return n;
    case LO_CLI_BOOLEAN:
        if (!cJSON_IsBool(v)) type_error(v, name, "<class 'bool'>", err, &n);
        return n;
    case LO_CLI_BLOB:
        if (!cJSON_IsString(v)) type_error(v, name, "<class 'bytes'>, <class 'bytearray'>, file-like object", err, &n);
        return n;
    case LO_CLI_TIMESTAMP: {
        double t;
        if (cJSON_IsNumber(v)) return n;
        if (!cJSON_IsString(v) || parse_timestamp(v->valuestring, &t) != 0) {
            type_error(v, name, "<class 'datetime.datetime'>, timestamp-string", err, &n);
            return n;
        }
        /* the wire takes epoch seconds */
        cJSON *num = cJSON_CreateNumber(t);
        if (cJSON_IsArray(parent)) {
            int idx = 0;
            for (cJSON *e = parent->child; e && e != v; e = e->next) idx++;
            cJSON_ReplaceItemInArray(parent, idx, num);
        } else if (parent && v->string) {
            cJSON_ReplaceItemInObjectCaseSensitive(parent, v->string, num);
        } else {
            cJSON_Delete(num);
        }
        return n;
    }
    }
    return n;
}

int lo_cli_validate(int shape, cJSON *value, const char *path, lo_sbuf *err) {
    return validate(shape, NULL, value, path ? path : "", err);
}

void lo_cli_fill_idempotency(int shape, cJSON *input) {
    const lo_cli_shape *sh = &lo_cli_shapes[shape];
    if (!cJSON_IsObject(input)) return;
    for (int i = 0; i < sh->n_members; i++) {
        if (!(sh->members[i].flags & LO_CLI_IDEMPOTENCY) || cJSON_GetObjectItemCaseSensitive(input, sh->members[i].name))
            continue;
        unsigned char r[16];
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        ssize_t got = fd >= 0 ? read(fd, r, sizeof r) : -1;
        if (fd >= 0) close(fd);
        if (got != (ssize_t)sizeof r) { /* fall back on time and pid: uniqueness, not secrecy */
            uint64_t x = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)input;
            for (int k = 0; k < 16; k++) {
                x = x * 6364136223846793005ull + 1442695040888963407ull;
                r[k] = (unsigned char)(x >> 56);
            }
        }
        r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
        r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
        char uuid[40];
        snprintf(uuid, sizeof uuid, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1],
                 r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
        cJSON_AddStringToObject(input, sh->members[i].name, uuid);
    }
}

/* ---- extensions: members lookout's service takes beyond botocore's model ------------------ */

/* botocore does not know these, so its validator would refuse them: they are kept out of
 * lo_cli_validate and checked by the service (ValidationException naming the member). */
static const lo_cli_extension EXTENSIONS[] = {
    {"CreateModel", "EvaluationFolds", "evaluation-folds", LO_CLI_INTEGER,
     "       --evaluation-folds (integer)\n"
     "          A lookout extension (not in Amazon Lookout for Vision; the service\n"
     "          input member is EvaluationFolds). After the model is trained and\n"
     "          evaluated as usual, the labeled training and test images together\n"
     "          are split into this many stratified folds (2 to 10, seeded); for\n"
     "          each fold a model is trained on the other folds and scores it at\n"
     "          its own threshold. The EvaluationResult then holds per-fold and\n"
     "          mean +- standard deviation of F1, precision, recall and ROC AUC\n"
     "          under LookoutExtensions.CrossValidation, and the report shows\n"
     "          them. Each fold trains within the time budget divided by the\n"
     "          number of folds, so the whole run takes about twice as long as\n"
     "          training alone. Every held-out fold must meet the test minimums\n"
     "          (10 normal and 10 anomalous images), otherwise that fold is\n"
     "          reported as failed; the model itself is not affected.\n\n"},
};

const lo_cli_extension *lo_cli_find_extension(const char *operation, const char *cli_name) {
    for (size_t i = 0; i < sizeof EXTENSIONS / sizeof *EXTENSIONS; i++)
        if (!strcmp(EXTENSIONS[i].operation, operation) && !strcmp(EXTENSIONS[i].cli_name, cli_name))
            return &EXTENSIONS[i];
    return NULL;
}

cJSON *lo_cli_detach_extensions(const char *operation, cJSON *input) {
    cJSON *out = cJSON_CreateObject();
    for (size_t i = 0; i < sizeof EXTENSIONS / sizeof *EXTENSIONS; i++) {
        if (strcmp(EXTENSIONS[i].operation, operation)) continue;
        cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(input, EXTENSIONS[i].name);
        if (v) cJSON_AddItemToObject(out, EXTENSIONS[i].name, v);
    }
    return out;
}

cJSON *lo_cli_extension_value(const lo_cli_extension *x, const char *text) {
    if (x->type == LO_CLI_INTEGER) {
        char *end;
        errno = 0;
        long long v = strtoll(text, &end, 10);
        /* not an integer: passed on as given, so the service's message names the member and value */
        if (*text && !*end && !errno && v >= -(1LL << 53) && v <= (1LL << 53)) return cJSON_CreateNumber((double)v);
    }
    return cJSON_CreateString(text);
}

void lo_cli_print_help(const lo_cli_operation *op, FILE *out) {
    const char *help = op->help;
    lo_sbuf synopsis = {0}, options = {0};
    for (size_t i = 0; i < sizeof EXTENSIONS / sizeof *EXTENSIONS; i++) {
        if (strcmp(EXTENSIONS[i].operation, op->name)) continue;
        lo_sbuf_printf(&synopsis, "          [--%s <value>]\n", EXTENSIONS[i].cli_name);
        lo_sbuf_puts(&options, EXTENSIONS[i].help);
    }
    /* spliced in after the AWS CLI's own --cli-input-json lines, so the model's members keep
     * exactly the AWS CLI's order and the extensions read as additions */
    const char *syn_at = synopsis.len ? strstr(help, "          [--cli-input-json | --cli-input-yaml]\n") : NULL;
    const char *opt_at = syn_at ? strstr(syn_at, "\nOUTPUT\n") : NULL;
    if (!opt_at) {
        fputs(help, out);
        if (options.len) fprintf(out, "LOOKOUT EXTENSIONS\n%s", lo_sbuf_str(&options));
    } else {
        syn_at += strlen("          [--cli-input-json | --cli-input-yaml]\n");
        opt_at += 1;
        fwrite(help, 1, (size_t)(syn_at - help), out);
        fputs(lo_sbuf_str(&synopsis), out);
        fwrite(syn_at, 1, (size_t)(opt_at - syn_at), out);
        fputs(lo_sbuf_str(&options), out);
        fputs(opt_at, out);
    }
    lo_sbuf_free(&synopsis);
    lo_sbuf_free(&options);
}
