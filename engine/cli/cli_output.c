/* cli_output.c — what `--output json|text|table|yaml` prints, following awscli's formatters
 * (formatter.py, text.py, table.py) so scripts that parse the AWS CLI's output keep working:
 * json.dumps(indent=4), the tab-separated text layout, the boxed table, ruamel's block YAML. */
#define _GNU_SOURCE
#include "cli_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- numbers and times as Python prints them ---------------------------------------- */

void lo_cli_float_repr(double v, char *buf, size_t n) {
    if (isnan(v)) {
        snprintf(buf, n, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, n, v > 0 ? "Infinity" : "-Infinity");
        return;
    }
    char e[64];
    int prec;
    for (prec = 1; prec <= 17; prec++) { /* shortest digits that read back to v */
        snprintf(e, sizeof e, "%.*e", prec - 1, v);
        if (strtod(e, NULL) == v) break;
    }
    /* e = [-]d.ddddde[+-]XX */
    char digits[32];
    int nd = 0, neg = e[0] == '-';
    const char *p = e + neg;
    for (; *p && *p != 'e'; p++)
        if (*p != '.') digits[nd++] = *p;
    digits[nd] = 0;
    while (nd > 1 && digits[nd - 1] == '0') digits[--nd] = 0;
    int exp10 = atoi(p + 1);
    char out[64];
    int k = 0;
    if (neg) out[k++] = '-';
    if (exp10 < -4 || exp10 >= 16) {
        out[k++] = digits[0];
        if (nd > 1) {
            out[k++] = '.';
            for (int i = 1; i < nd; i++) out[k++] = digits[i];
        }
        k += snprintf(out + k, sizeof out - (size_t)k, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
    } else if (exp10 < 0) {
        out[k++] = '0';
        out[k++] = '.';
        for (int i = 0; i < -exp10 - 1; i++) out[k++] = '0';
        for (int i = 0; i < nd; i++) out[k++] = digits[i];
    } else {
        for (int i = 0; i <= exp10; i++) out[k++] = i < nd ? digits[i] : '0';
        out[k++] = '.';
        if (nd > exp10 + 1)
            for (int i = exp10 + 1; i < nd; i++) out[k++] = digits[i];
        else
            out[k++] = '0';
    }
    out[k] = 0;
    snprintf(buf, n, "%s", out);
}

void lo_cli_iso8601(double epoch, char *buf, size_t n) {
    double whole = floor(epoch);
    long usec = lrint((epoch - whole) * 1e6);
    time_t t = (time_t)whole;
    if (usec >= 1000000) t++, usec -= 1000000;
    struct tm tm;
    tzset(); /* TZ may change between calls (tests do) */
    localtime_r(&t, &tm);
    char date[40];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    long off = tm.tm_gmtoff;
    char sign = off < 0 ? '-' : '+';
    off = labs(off);
    if (usec)
        snprintf(buf, n, "%s.%06ld%c%02ld:%02ld", date, usec, sign, off / 3600, (off % 3600) / 60);
    else
        snprintf(buf, n, "%s%c%02ld:%02ld", date, sign, off / 3600, (off % 3600) / 60);
}

static cJSON *number_raw(double v, int is_float) {
    char buf[64];
    if (!is_float && v == floor(v) && fabs(v) < 9.2e18)
        snprintf(buf, sizeof buf, "%lld", (long long)v);
    else
        lo_cli_float_repr(v, buf, sizeof buf);
    return cJSON_CreateRaw(buf);
}

static cJSON *prepare(int shape, const cJSON *v) {
    const lo_cli_shape *sh = shape >= 0 ? &lo_cli_shapes[shape] : NULL;
    if (cJSON_IsObject(v)) {
        cJSON *o = cJSON_CreateObject();
        for (const cJSON *e = v->child; e; e = e->next) {
            int sub = -1;
            if (sh && sh->type == LO_CLI_STRUCTURE) {
                const lo_cli_member *m = lo_cli_find_member(shape, e->string);
                if (m) sub = m->shape;
            } else if (sh && sh->type == LO_CLI_MAP) {
                sub = sh->value;
            }
            cJSON_AddItemToObject(o, e->string, prepare(sub, e));
        }
        return o;
    }
    if (cJSON_IsArray(v)) {
        cJSON *a = cJSON_CreateArray();
        for (const cJSON *e = v->child; e; e = e->next)
            cJSON_AddItemToArray(a, prepare(sh && sh->type == LO_CLI_LIST ? sh->member : -1, e));
        return a;
    }
    if (cJSON_IsNumber(v)) {
        if (sh && sh->type == LO_CLI_TIMESTAMP) {
            char buf[64];
            lo_cli_iso8601(v->valuedouble, buf, sizeof buf);
            return cJSON_CreateString(buf);
        }
        return number_raw(v->valuedouble, sh && sh->type == LO_CLI_FLOAT);
    }
    return cJSON_Duplicate(v, 1);
}

cJSON *lo_cli_output_prepare(int shape, const cJSON *value) { return prepare(shape, value); }

/* ---- json ---------------------------------------------------------------------------- */

static void json_string(const char *s, lo_sbuf *out) {
    lo_sbuf_puts(out, "\"");
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        switch (*c) {
        case '"': lo_sbuf_puts(out, "\\\""); break;
        case '\\': lo_sbuf_puts(out, "\\\\"); break;
        case '\n': lo_sbuf_puts(out, "\\n"); break;
        case '\r': lo_sbuf_puts(out, "\\r"); break;
        case '\t': lo_sbuf_puts(out, "\\t"); break;
        case '\b': lo_sbuf_puts(out, "\\b"); break;
        case '\f': lo_sbuf_puts(out, "\\f"); break;
        default:
            if (*c < 0x20) lo_sbuf_printf(out, "\\u%04x", *c);
            else lo_sbuf_add(out, (const char *)c, 1);
        }
    }
    lo_sbuf_puts(out, "\"");
}

static void scalar_json(const cJSON *v, lo_sbuf *out) {
    if (cJSON_IsString(v)) json_string(v->valuestring, out);
    else if (cJSON_IsRaw(v)) lo_sbuf_puts(out, v->valuestring);
    else if (cJSON_IsTrue(v)) lo_sbuf_puts(out, "true");
    else if (cJSON_IsFalse(v)) lo_sbuf_puts(out, "false");
    else if (cJSON_IsNumber(v)) {
        cJSON *r = number_raw(v->valuedouble, 0);
        lo_sbuf_puts(out, r->valuestring);
        cJSON_Delete(r);
    } else lo_sbuf_puts(out, "null");
}

static void json_value(const cJSON *v, int ind, lo_sbuf *out) {
    int is_obj = cJSON_IsObject(v);
    if (!is_obj && !cJSON_IsArray(v)) {
        scalar_json(v, out);
        return;
    }
    if (!v->child) {
        lo_sbuf_puts(out, is_obj ? "{}" : "[]");
        return;
    }
    lo_sbuf_puts(out, is_obj ? "{\n" : "[\n");
    for (const cJSON *e = v->child; e; e = e->next) {
        for (int i = 0; i < ind + 4; i++) lo_sbuf_puts(out, " ");
        if (is_obj) {
            json_string(e->string, out);
            lo_sbuf_puts(out, ": ");
        }
        json_value(e, ind + 4, out);
        lo_sbuf_puts(out, e->next ? ",\n" : "\n");
    }
    for (int i = 0; i < ind; i++) lo_sbuf_puts(out, " ");
    lo_sbuf_puts(out, is_obj ? "}" : "]");
}

void lo_cli_format_json(const cJSON *v, lo_sbuf *out) {
    json_value(v, 0, out);
    lo_sbuf_puts(out, "\n");
}

/* ---- text ---------------------------------------------------------------------------- */

static int is_scalar(const cJSON *v) { return !cJSON_IsObject(v) && !cJSON_IsArray(v); }

static void scalar_str(const cJSON *v, lo_sbuf *out) {
    if (cJSON_IsString(v) || cJSON_IsRaw(v)) lo_sbuf_puts(out, v->valuestring);
    else if (cJSON_IsTrue(v)) lo_sbuf_puts(out, "True");
    else if (cJSON_IsFalse(v)) lo_sbuf_puts(out, "False");
    else if (cJSON_IsNumber(v)) scalar_json(v, out);
    else lo_sbuf_puts(out, "None");
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* sorted keys of an object, optionally only scalar / non-scalar ones (0 any, 1 scalar, 2 complex) */
static int sorted_keys(const cJSON *o, int which, const char **keys, int max) {
    int n = 0;
    for (const cJSON *e = o->child; e && n < max; e = e->next) {
        if (which == 1 && !is_scalar(e)) continue;
        if (which == 2 && is_scalar(e)) continue;
        int dup = 0;
        for (int i = 0; i < n; i++) dup |= strcmp(keys[i], e->string) == 0;
        if (!dup) keys[n++] = e->string;
    }
    qsort(keys, (size_t)n, sizeof *keys, cmp_str);
    return n;
}

#define MAX_KEYS 256

static void text_value(const cJSON *v, const char *ident, const char **scalar_keys, int n_scalar_keys, lo_sbuf *out);

static void upper(const char *s, lo_sbuf *out) {
    for (; *s; s++) {
        char c = (*s >= 'a' && *s <= 'z') ? (char)(*s - 32) : *s;
        lo_sbuf_add(out, &c, 1);
    }
}

static void text_dict(const cJSON *v, const char *ident, const char **scalar_keys, int n_scalar_keys, lo_sbuf *out) {
    const char *keys[MAX_KEYS];
    const char *rest[MAX_KEYS];
    int n_rest = 0;
    int wrote_any = 0;
    lo_sbuf line = {0};
    if (ident) {
        upper(ident, &line);
    }
    if (!scalar_keys) {
        int n = sorted_keys(v, 0, keys, MAX_KEYS);
        for (int i = 0; i < n; i++) {
            const cJSON *e = cJSON_GetObjectItemCaseSensitive(v, keys[i]);
            if (is_scalar(e)) {
                if (line.len || wrote_any) lo_sbuf_puts(&line, "\t");
                scalar_str(e, &line);
                wrote_any = 1;
            } else {
                rest[n_rest++] = keys[i];
            }
        }
    } else {
        for (int i = 0; i < n_scalar_keys; i++) {
            const cJSON *e = cJSON_GetObjectItemCaseSensitive(v, scalar_keys[i]);
            if (line.len || wrote_any) lo_sbuf_puts(&line, "\t");
            if (e) scalar_str(e, &line);
            wrote_any = 1;
        }
        int n = sorted_keys(v, 0, keys, MAX_KEYS);
        for (int i = 0; i < n; i++) {
            int in = 0;
            for (int j = 0; j < n_scalar_keys; j++) in |= strcmp(keys[i], scalar_keys[j]) == 0;
            if (!in) rest[n_rest++] = keys[i];
        }
    }
    if (wrote_any) {
        lo_sbuf_add(out, lo_sbuf_str(&line), line.len);
        lo_sbuf_puts(out, "\n");
    }
    lo_sbuf_free(&line);
    for (int i = 0; i < n_rest; i++) text_value(cJSON_GetObjectItemCaseSensitive(v, rest[i]), rest[i], NULL, 0, out);
}

static void text_scalar_list(const cJSON *const *items, int n, const char *ident, lo_sbuf *out) {
    if (ident) {
        for (int i = 0; i < n; i++) {
            upper(ident, out);
            lo_sbuf_puts(out, "\t");
            scalar_str(items[i], out);
            lo_sbuf_puts(out, "\n");
        }
    } else {
        for (int i = 0; i < n; i++) {
            if (i) lo_sbuf_puts(out, "\t");
            scalar_str(items[i], out);
        }
        lo_sbuf_puts(out, "\n");
    }
}

static void text_list(const cJSON *v, const char *ident, lo_sbuf *out) {
    if (!v->child) return;
    int any_dict = 0, any_list = 0, n = 0;
    for (const cJSON *e = v->child; e; e = e->next, n++) {
        any_dict |= cJSON_IsObject(e);
        any_list |= cJSON_IsArray(e);
    }
    const cJSON **items = malloc(sizeof *items * (size_t)n);
    int k = 0;
    if (any_dict) {
        /* all scalar keys seen in any element, sorted */
        const char *all[MAX_KEYS];
        int n_all = 0;
        for (const cJSON *e = v->child; e; e = e->next) {
            if (!cJSON_IsObject(e)) continue;
            for (const cJSON *f = e->child; f; f = f->next) {
                if (!is_scalar(f)) continue;
                int dup = 0;
                for (int i = 0; i < n_all; i++) dup |= strcmp(all[i], f->string) == 0;
                if (!dup && n_all < MAX_KEYS) all[n_all++] = f->string;
            }
        }
        qsort(all, (size_t)n_all, sizeof *all, cmp_str);
        for (const cJSON *e = v->child; e; e = e->next) text_value(e, ident, all, n_all, out);
    } else if (any_list) {
        for (const cJSON *e = v->child; e; e = e->next)
            if (is_scalar(e)) items[k++] = e;
        if (k) text_scalar_list(items, k, ident, out);
        for (const cJSON *e = v->child; e; e = e->next)
            if (!is_scalar(e)) text_value(e, ident, NULL, 0, out);
    } else {
        for (const cJSON *e = v->child; e; e = e->next) items[k++] = e;
        text_scalar_list(items, k, ident, out);
    }
    free(items);
}

static void text_value(const cJSON *v, const char *ident, const char **scalar_keys, int n_scalar_keys, lo_sbuf *out) {
    if (cJSON_IsObject(v)) {
        text_dict(v, ident, scalar_keys, n_scalar_keys, out);
    } else if (cJSON_IsArray(v)) {
        text_list(v, ident, out);
    } else {
        scalar_str(v, out);
        lo_sbuf_puts(out, "\n");
    }
}

void lo_cli_format_text(const cJSON *v, lo_sbuf *out) { text_value(v, NULL, NULL, 0, out); }

/* ---- table --------------------------------------------------------------------------- */

typedef struct {
    char *title;
    int indent;
    char **headers;
    int n_headers;
    char ***rows;
    int *row_len;
    int n_rows;
    int num_cols; /* -1 until set */
    int *max_w;
    int n_max_w;
} tb_section;

typedef struct {
    tb_section *s;
    int n, cap;
} tb_table;

static int text_len(const char *s) { /* code points; wide East Asian characters count 1 here */
    int n = 0;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) n += (*c & 0xC0) != 0x80;
    return n;
}

static tb_section *tb_cur(tb_table *t) { return &t->s[t->n - 1]; }

static void tb_new_section(tb_table *t, const char *title, int indent_level) {
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 8;
        t->s = realloc(t->s, sizeof *t->s * (size_t)t->cap);
    }
    tb_section *s = &t->s[t->n++];
    memset(s, 0, sizeof *s);
    s->title = strdup(title ? title : "");
    s->indent = indent_level;
    s->num_cols = -1;
}

static void tb_update_widths(tb_section *s, char **cells, int n) {
    if (!s->n_max_w) { /* Python: `if not self._max_widths` — an empty list starts over */
        free(s->max_w);
        s->max_w = calloc((size_t)n + 1, sizeof *s->max_w);
        s->n_max_w = n;
        for (int i = 0; i < n; i++) s->max_w[i] = text_len(cells[i]);
        return;
    }
    for (int i = 0; i < n && i < s->n_max_w; i++) {
        int w = text_len(cells[i]);
        if (w > s->max_w[i]) s->max_w[i] = w;
    }
}

static void tb_add_header(tb_table *t, char **headers, int n) {
    tb_section *s = tb_cur(t);
    tb_update_widths(s, headers, n);
    if (s->num_cols < 0) s->num_cols = n;
    for (int i = 0; i < s->n_headers; i++) free(s->headers[i]); /* a later header replaces it */
    free(s->headers);
    s->headers = malloc(sizeof *s->headers * (size_t)(n + 1));
    for (int i = 0; i < n; i++) s->headers[i] = strdup(headers[i]);
    s->n_headers = n;
}

static void tb_add_row(tb_table *t, char **cells, int n) {
    tb_section *s = tb_cur(t);
    if (s->num_cols < 0) s->num_cols = n;
    s->rows = realloc(s->rows, sizeof *s->rows * (size_t)(s->n_rows + 1));
    s->row_len = realloc(s->row_len, sizeof *s->row_len * (size_t)(s->n_rows + 1));
    s->rows[s->n_rows] = malloc(sizeof(char *) * (size_t)(n + 1));
    for (int i = 0; i < n; i++) s->rows[s->n_rows][i] = strdup(cells[i]);
    s->row_len[s->n_rows] = n;
    s->n_rows++;
    tb_update_widths(s, cells, n);
}

static char *cell_of(const cJSON *v) {
    lo_sbuf b = {0};
    scalar_str(v, &b);
    if (!b.s) lo_sbuf_puts(&b, "");
    return b.s;
}

static long py_round(double x) { /* Python 3 round(): half to even */
    double r = nearbyint(x);
    return (long)r;
}

static int *tb_widths(const tb_section *s, int padding, int max_width, int *n_out) {
    int n = s->n_max_w;
    *n_out = n;
    int *w = calloc((size_t)n + 1, sizeof *w);
    long sum = 0;
    for (int i = 0; i < n; i++) sum += w[i] = s->max_w[i] + padding;
    if (max_width < 0 || n == 0 || sum == 0) return w;
    double scale = (double)max_width / (double)sum;
    long total = 0;
    for (int i = 0; i < n; i++) total += w[i] = (int)py_round(scale * w[i]);
    long off_by = total - max_width;
    while (off_by != 0) {
        if (off_by > 0) {
            for (int i = 0; i < n && off_by; i++) w[i]--, off_by--;
        } else {
            for (int i = n - 1; i >= 0 && off_by; i--) w[i]++, off_by++;
        }
    }
    return w;
}

static int tb_total_width(const tb_section *s) {
    int n;
    int *w = tb_widths(s, 0, -1, &n);
    int total = 0;
    for (int i = 0; i < n; i++) total += w[i] + 4;
    free(w);
    total += 2 + 2 * s->indent;
    int t = text_len(s->title) + 2 + 2 * s->indent;
    return t > total ? t : total;
}

static void spaces(lo_sbuf *o, long n, char c) {
    for (long i = 0; i < n; i++) lo_sbuf_add(o, &c, 1);
}

static void center_text(lo_sbuf *o, const char *text, int length, const char *left, const char *right) {
    int tl = text_len(text);
    int char_start = length / 2 - tl / 2 - 1;
    lo_sbuf_puts(o, left);
    spaces(o, char_start, ' ');
    lo_sbuf_puts(o, text);
    int so_far = (int)strlen(left) + char_start + tl;
    spaces(o, length - (int)strlen(right) - so_far, ' ');
    lo_sbuf_puts(o, right);
}

static void align_left(lo_sbuf *o, const char *text, int length, const char *left, const char *right) {
    int tl = text_len(text);
    int computed = tl + 2 + (int)strlen(left) + (int)strlen(right);
    int padding = length - computed >= 0 ? 2 : 0;
    lo_sbuf_puts(o, left);
    spaces(o, padding, ' ');
    lo_sbuf_puts(o, text);
    spaces(o, length - ((int)strlen(left) + padding + tl) - (int)strlen(right), ' ');
    lo_sbuf_puts(o, right);
}

/* IndentedStream: '|' * indent on both sides of each line */
static void tb_write_line(lo_sbuf *out, int indent, const char *line) {
    spaces(out, indent, '|');
    lo_sbuf_puts(out, line);
    spaces(out, indent, '|');
    lo_sbuf_puts(out, "\n");
}

static void tb_line_break(lo_sbuf *o, const int *w, int n) {
    for (int i = 0; i < n; i++) {
        if (i == 0) {
            lo_sbuf_puts(o, "+");
            spaces(o, w[i] - 2, '-');
            lo_sbuf_puts(o, "+");
        } else {
            spaces(o, w[i] - 1, '-');
            lo_sbuf_puts(o, "+");
        }
    }
}

static void tb_render_section(const tb_section *s, int max_width, lo_sbuf *out) {
    max_width -= s->indent * 2;
    lo_sbuf line = {0};
    if (*s->title) {
        center_text(&line, s->title, max_width, "|", "|");
        tb_write_line(out, s->indent, lo_sbuf_str(&line));
        line.len = 0;
        if (!s->n_headers && !s->n_rows) {
            lo_sbuf_puts(&line, "+");
            spaces(&line, max_width - 2, '-');
            lo_sbuf_puts(&line, "+");
            tb_write_line(out, s->indent, lo_sbuf_str(&line));
            line.len = 0;
        }
    }
    int n;
    int *w = tb_widths(s, 4, max_width, &n);
    if (s->n_headers) {
        tb_line_break(&line, w, n);
        tb_write_line(out, s->indent, lo_sbuf_str(&line));
        line.len = 0;
        for (int i = 0; i < n && i < s->n_headers; i++) center_text(&line, s->headers[i], w[i], i == 0 ? "|" : "", "|");
        tb_write_line(out, s->indent, lo_sbuf_str(&line));
        line.len = 0;
    }
    if (s->n_rows && n) {
        tb_line_break(&line, w, n);
        tb_write_line(out, s->indent, lo_sbuf_str(&line));
        line.len = 0;
        for (int r = 0; r < s->n_rows; r++) {
            for (int i = 0; i < n && i < s->row_len[r]; i++) align_left(&line, s->rows[r][i], w[i], i == 0 ? "|" : "", "|");
            tb_write_line(out, s->indent, lo_sbuf_str(&line));
            line.len = 0;
        }
        tb_line_break(&line, w, n);
        tb_write_line(out, s->indent, lo_sbuf_str(&line));
        line.len = 0;
    }
    free(w);
    lo_sbuf_free(&line);
}

static void tb_free_section(tb_section *s) {
    free(s->title);
    for (int i = 0; i < s->n_headers; i++) free(s->headers[i]);
    free(s->headers);
    for (int r = 0; r < s->n_rows; r++) {
        for (int i = 0; i < s->row_len[r]; i++) free(s->rows[r][i]);
        free(s->rows[r]);
    }
    free(s->rows);
    free(s->row_len);
    free(s->max_w);
}

static int tb_build(tb_table *t, const char *title, const cJSON *cur, int indent_level);

static int truthy(const cJSON *v) {
    if (!v || cJSON_IsNull(v) || cJSON_IsFalse(v)) return 0;
    if (cJSON_IsObject(v) || cJSON_IsArray(v)) return v->child != NULL;
    if (cJSON_IsString(v)) return *v->valuestring != 0;
    if (cJSON_IsRaw(v)) return strtod(v->valuestring, NULL) != 0;
    return 1;
}

static void tb_from_dict(tb_table *t, const cJSON *cur, int indent_level) {
    const char *h[MAX_KEYS], *more[MAX_KEYS];
    int nh = sorted_keys(cur, 1, h, MAX_KEYS), nm = sorted_keys(cur, 2, more, MAX_KEYS);
    if (nh == 1) {
        char *cells[2] = {(char *)h[0], cell_of(cJSON_GetObjectItemCaseSensitive(cur, h[0]))};
        tb_add_row(t, cells, 2);
        free(cells[1]);
    } else if (nh) {
        char *cells[MAX_KEYS];
        for (int i = 0; i < nh; i++) cells[i] = (char *)h[i];
        tb_add_header(t, cells, nh);
        for (int i = 0; i < nh; i++) cells[i] = cell_of(cJSON_GetObjectItemCaseSensitive(cur, h[i]));
        tb_add_row(t, cells, nh);
        for (int i = 0; i < nh; i++) free(cells[i]);
    }
    for (int i = 0; i < nm; i++) tb_build(t, more[i], cJSON_GetObjectItemCaseSensitive(cur, more[i]), indent_level + 1);
}

static void tb_from_list(tb_table *t, const cJSON *cur, int indent_level, const char *title) {
    const char *h[MAX_KEYS], *more[MAX_KEYS];
    int nh = 0, nm = 0;
    for (const cJSON *e = cur->child; e; e = e->next) {
        if (!cJSON_IsObject(e)) continue;
        for (const cJSON *f = e->child; f; f = f->next) {
            const char **arr = is_scalar(f) ? h : more;
            int *cnt = is_scalar(f) ? &nh : &nm;
            int dup = 0;
            for (int i = 0; i < *cnt; i++) dup |= strcmp(arr[i], f->string) == 0;
            if (!dup && *cnt < MAX_KEYS) arr[(*cnt)++] = f->string;
        }
    }
    qsort(h, (size_t)nh, sizeof *h, cmp_str);
    qsort(more, (size_t)nm, sizeof *more, cmp_str);
    char *cells[MAX_KEYS];
    for (int i = 0; i < nh; i++) cells[i] = (char *)h[i];
    tb_add_header(t, cells, nh);
    int first = 1;
    for (const cJSON *e = cur->child; e; e = e->next) {
        if (!cJSON_IsObject(e)) continue;
        if (!first && nm) {
            tb_new_section(t, title, indent_level);
            for (int i = 0; i < nh; i++) cells[i] = (char *)h[i];
            tb_add_header(t, cells, nh);
        }
        first = 0;
        for (int i = 0; i < nh; i++) {
            const cJSON *f = cJSON_GetObjectItemCaseSensitive(e, h[i]);
            cells[i] = f ? cell_of(f) : strdup("");
        }
        tb_add_row(t, cells, nh);
        for (int i = 0; i < nh; i++) free(cells[i]);
        for (int i = 0; i < nm; i++) {
            const cJSON *f = cJSON_GetObjectItemCaseSensitive(e, more[i]);
            if (f) tb_build(t, more[i], f, indent_level + 1);
        }
    }
}

static int tb_build(tb_table *t, const char *title, const cJSON *cur, int indent_level) {
    if (!truthy(cur)) return 0;
    if (title) tb_new_section(t, title, indent_level);
    if (!t->n) tb_new_section(t, "", indent_level);
    if (cJSON_IsArray(cur)) {
        if (cJSON_IsObject(cur->child)) {
            tb_from_list(t, cur, indent_level, title ? title : "");
        } else {
            for (const cJSON *e = cur->child; e; e = e->next) {
                if (is_scalar(e)) {
                    char *c = cell_of(e);
                    tb_add_row(t, &c, 1);
                    free(c);
                } else {
                    int all_scalar = 1, n = 0;
                    for (const cJSON *f = e->child; f; f = f->next, n++) all_scalar &= is_scalar(f);
                    if (all_scalar && cJSON_IsArray(e)) {
                        char **cells = malloc(sizeof(char *) * (size_t)(n + 1));
                        int k = 0;
                        for (const cJSON *f = e->child; f; f = f->next) cells[k++] = cell_of(f);
                        tb_add_row(t, cells, k);
                        for (int i = 0; i < k; i++) free(cells[i]);
                        free(cells);
                    } else {
                        tb_build(t, NULL, e, indent_level);
                    }
                }
            }
        }
    }
    if (cJSON_IsObject(cur)) tb_from_dict(t, cur, indent_level);
    return 1;
}

void lo_cli_format_table(const cJSON *v, const char *title, int term_width, lo_sbuf *out) {
    tb_table t = {0};
    if (tb_build(&t, title, v, 0)) {
        int max_width = 0;
        for (int i = 0; i < t.n; i++) {
            int w = tb_total_width(&t.s[i]);
            if (w > max_width) max_width = w;
        }
        if (max_width > term_width) { /* convert_to_vertical_table */
            for (int i = 0; i < t.n; i++) {
                tb_section *s = &t.s[i];
                if (s->n_rows != 1 || !s->n_headers) continue;
                tb_section ns;
                memset(&ns, 0, sizeof ns);
                ns.title = strdup(s->title);
                ns.indent = s->indent;
                ns.num_cols = -1;
                tb_table tmp = {&ns, 1, 1};
                for (int k = 0; k < s->n_headers && k < s->row_len[0]; k++) {
                    char *cells[2] = {s->headers[k], s->rows[0][k]};
                    tb_add_row(&tmp, cells, 2);
                }
                tb_free_section(s);
                *s = ns;
            }
            max_width = 0;
            for (int i = 0; i < t.n; i++) {
                int w = tb_total_width(&t.s[i]);
                if (w > max_width) max_width = w;
            }
        }
        spaces(out, max_width, '-');
        lo_sbuf_puts(out, "\n");
        for (int i = 0; i < t.n; i++) tb_render_section(&t.s[i], max_width, out);
    }
    for (int i = 0; i < t.n; i++) tb_free_section(&t.s[i]);
    free(t.s);
}

/* ---- yaml ---------------------------------------------------------------------------- */

static int looks_typed(const char *s) {
    static const char *const words[] = {"null", "Null", "NULL", "~", "true", "True", "TRUE", "false", "False",
                                        "FALSE", ".inf", ".Inf", ".INF", "-.inf", "+.inf", ".nan", ".NaN", ".NAN"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (!strcmp(s, words[i])) return 1;
    /* numbers: [-+]?[0-9_.]+([eE][-+]?[0-9]+)?, 0x.., 0o.. */
    const char *p = s;
    if (*p == '+' || *p == '-') p++;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'o') && p[2]) return 1;
    int digits = 0, ok = 1;
    const char *q = p;
    while (*q && (strchr("0123456789_.", *q))) digits += (*q >= '0' && *q <= '9'), q++;
    if (digits && (*q == 'e' || *q == 'E')) {
        q++;
        if (*q == '+' || *q == '-') q++;
        if (!*q) ok = 0;
        while (*q >= '0' && *q <= '9') q++;
    }
    if (digits && ok && !*q) return 1;
    /* timestamps: YYYY-MM-DD... */
    if (strlen(s) >= 8 && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9' &&
        s[3] >= '0' && s[3] <= '9' && s[4] == '-')
        return 1;
    return 0;
}

static int needs_quotes(const char *s) {
    if (!*s || looks_typed(s)) return 1;
    if (strchr("-?:,[]{}#&*!|>'\"%@`", s[0])) return 1;
    if (s[0] == ' ' || s[strlen(s) - 1] == ' ' || s[strlen(s) - 1] == ':') return 1;
    if (strstr(s, ": ") || strstr(s, " #")) return 1;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if (*c < 0x20 || *c == 0x7f) return 1;
    return 0;
}

static long out_column(const lo_sbuf *out) {
    long k = (long)out->len;
    while (k > 0 && out->s[k - 1] != '\n') k--;
    return text_len(out->s ? out->s + k : "");
}

/* Writes text, folding long lines as the YAML emitter does: a single space after column 80
 * becomes a line break indented to `indent` (a negative indent never folds). */
static void yaml_folded(const char *s, size_t n, long indent, lo_sbuf *out) {
    long col = out_column(out);
    for (size_t i = 0; i < n; i++) {
        int single_space = s[i] == ' ' && i > 0 && s[i - 1] != ' ' && i + 1 < n && s[i + 1] != ' ';
        if (single_space && indent >= 0 && col > 80) {
            lo_sbuf_puts(out, "\n");
            spaces(out, indent, ' ');
            col = indent;
            continue;
        }
        lo_sbuf_add(out, s + i, 1);
        col += ((unsigned char)s[i] & 0xC0) != 0x80;
    }
}

static void yaml_str(const char *s, long indent, lo_sbuf *out) {
    int special = 0;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) special |= *c < 0x20 || *c == 0x7f;
    if (special) { /* double quotes can carry escapes */
        json_string(s, out);
        return;
    }
    if (!needs_quotes(s)) {
        yaml_folded(s, strlen(s), indent, out);
        return;
    }
    lo_sbuf q = {0};
    for (const char *c = s; *c; c++) lo_sbuf_add(&q, *c == '\'' ? "''" : c, *c == '\'' ? 2 : 1);
    lo_sbuf_puts(out, "'");
    yaml_folded(lo_sbuf_str(&q), q.len, indent, out);
    lo_sbuf_puts(out, "'");
    lo_sbuf_free(&q);
}

static void yaml_scalar_out(const cJSON *v, long indent, lo_sbuf *out) {
    if (cJSON_IsString(v)) yaml_str(v->valuestring, indent, out);
    else if (cJSON_IsRaw(v)) lo_sbuf_puts(out, v->valuestring);
    else if (cJSON_IsTrue(v)) lo_sbuf_puts(out, "true");
    else if (cJSON_IsFalse(v)) lo_sbuf_puts(out, "false");
    else if (cJSON_IsNumber(v)) scalar_json(v, out);
    else lo_sbuf_puts(out, "null");
}

static void yaml_node(const cJSON *v, int ind, int inline_first, lo_sbuf *out);

/* Writes " value\n" or "\n<nested>" after a "key:" or "-" */
static void yaml_after_key(const cJSON *v, int ind, int in_seq, lo_sbuf *out) {
    if (is_scalar(v) || !v->child) {
        lo_sbuf_puts(out, " ");
        /* a folded value continues two columns right of its key (or of the "- ") */
        if (is_scalar(v)) yaml_scalar_out(v, in_seq ? ind : ind + 2, out);
        else lo_sbuf_puts(out, cJSON_IsObject(v) ? "{}" : "[]");
        lo_sbuf_puts(out, "\n");
        return;
    }
    if (in_seq) { /* "- " then content inline */
        lo_sbuf_puts(out, " ");
        yaml_node(v, ind, 1, out);
        return;
    }
    lo_sbuf_puts(out, "\n");
    /* block sequences sit at the key's indent (ruamel's default), mappings indent by 2 */
    yaml_node(v, cJSON_IsArray(v) ? ind : ind + 2, 0, out);
}

static void yaml_node(const cJSON *v, int ind, int inline_first, lo_sbuf *out) {
    int first = 1;
    if (cJSON_IsObject(v)) {
        const char *keys[MAX_KEYS];
        int n = sorted_keys(v, 0, keys, MAX_KEYS);
        for (int i = 0; i < n; i++) {
            if (!(first && inline_first)) spaces(out, ind, ' ');
            first = 0;
            yaml_str(keys[i], -1, out);
            lo_sbuf_puts(out, ":");
            yaml_after_key(cJSON_GetObjectItemCaseSensitive(v, keys[i]), ind, 0, out);
        }
    } else if (cJSON_IsArray(v)) {
        for (const cJSON *e = v->child; e; e = e->next) {
            if (!(first && inline_first)) spaces(out, ind, ' ');
            first = 0;
            lo_sbuf_puts(out, "-");
            yaml_after_key(e, ind + 2, 1, out);
        }
    }
}

void lo_cli_format_yaml(const cJSON *v, lo_sbuf *out) {
    if (is_scalar(v)) {
        scalar_json(v, out);
        lo_sbuf_puts(out, "\n");
        return;
    }
    if (!v->child) {
        lo_sbuf_puts(out, cJSON_IsObject(v) ? "{}\n" : "[]\n");
        return;
    }
    yaml_node(v, 0, 0, out);
}

int lo_cli_format(const char *format, const cJSON *v, const char *title, lo_sbuf *out) {
    if (!strcmp(format, "json")) {
        if (!(cJSON_IsObject(v) && !v->child)) lo_cli_format_json(v, out);
    } else if (!strcmp(format, "text")) {
        lo_cli_format_text(v, out);
    } else if (!strcmp(format, "table")) {
        lo_cli_format_table(v, title, 80, out);
    } else if (!strcmp(format, "yaml")) {
        if (!(cJSON_IsObject(v) && !v->child)) lo_cli_format_yaml(v, out);
    } else {
        return -1;
    }
    return 0;
}
