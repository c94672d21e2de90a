/* cli_shorthand.c — AWS CLI shorthand syntax (`S3Location={Bucket=b,Prefix=p/}`,
 * `Key=k,Value=v`, `a=[x,y]`), parsed the way awscli's ShorthandParser does, same grammar, same
 * quoting and backtracking rules and the same error messages, so users' scripts keep working. */
#include "cli_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *in;
    long len;
    long i;
    int failed;
    lo_sbuf *err;
} sh_parser;

#define SH_EOF (-1)

static int sh_cur(const sh_parser *p) { return p->i < p->len ? (unsigned char)p->in[p->i] : SH_EOF; }
static int sh_eof(const sh_parser *p) { return p->i >= p->len; }
static int sh_ws(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

/* The character classes of awscli's regexes (_START_WORD, _FIRST_FOLLOW_CHARS,
 * _SECOND_FOLLOW_CHARS); bytes >= 0x80 (UTF-8) are allowed everywhere, as \uffff ranges do. */
static int sh_start(int c) {
    return c >= 0x7c || c == '!' || (c >= '#' && c <= '&') || (c >= '(' && c <= '+') ||
           (c >= '-' && c <= '<') || (c >= '>' && c <= 'Z') || (c >= '\\' && c <= 'z');
}
static int sh_first_follow(int c) {
    return sh_ws(c) || c == '!' || (c >= '#' && c <= '&') || (c >= '(' && c <= '+') ||
           (c >= '-' && c <= '\\') || (c >= '^' && c <= '|') || c >= '~';
}
static int sh_second_follow(int c) {
    return sh_ws(c) || c == '!' || (c >= '#' && c <= '&') || (c >= '(' && c <= '+') ||
           (c >= '-' && c <= '<') || c >= '>';
}

/* "consumed\n   ^remaining", as ShorthandParseError._error_location. */
static void sh_location(const sh_parser *p, long index) {
    long num_spaces = index;
    long consumed_end = p->len;
    for (long k = index - 1; k >= 0; k--)
        if (p->in[k] == '\n') {
            num_spaces = index - k - 1;
            break;
        }
    const char *nl = index <= p->len ? memchr(p->in + index, '\n', (size_t)(p->len - index)) : NULL;
    if (nl) consumed_end = nl - p->in;
    lo_sbuf_add(p->err, p->in, (size_t)consumed_end);
    lo_sbuf_puts(p->err, "\n");
    for (long k = 0; k < num_spaces; k++) lo_sbuf_puts(p->err, " ");
    lo_sbuf_puts(p->err, "^");
    if (nl) lo_sbuf_add(p->err, nl, (size_t)(p->len - consumed_end));
}

static void sh_syntax_error(sh_parser *p, const char *expected, const char *actual) {
    if (p->failed) return;
    p->failed = 1;
    p->err->len = 0;
    lo_sbuf_printf(p->err, "Expected: '%s', received: '%s' for input:\n", expected, actual);
    sh_location(p, p->i);
}

static void sh_skip_ws(sh_parser *p) {
    while (!sh_eof(p) && sh_ws(sh_cur(p))) p->i++;
}

static int sh_expect(sh_parser *p, char c, int ws) {
    if (ws) sh_skip_ws(p);
    if (sh_eof(p)) {
        char exp[2] = {c, 0};
        sh_syntax_error(p, exp, "EOF");
        return -1;
    }
    if (p->in[p->i] != c) {
        char exp[2] = {c, 0}, act[2] = {p->in[p->i], 0};
        sh_syntax_error(p, exp, act);
        return -1;
    }
    p->i++;
    if (ws) sh_skip_ws(p);
    return 0;
}

/* Length of a match of (\\,|start)(\\,|follow)* at the cursor, 0 for none. */
static long sh_match_word(const sh_parser *p, int (*follow)(int)) {
    long k = p->i;
    int first = 1;
    while (k < p->len) {
        unsigned char c = (unsigned char)p->in[k];
        if (c == '\\' && k + 1 < p->len && p->in[k + 1] == ',') {
            k += 2;
        } else if (first ? sh_start(c) : follow(c)) {
            k++;
        } else {
            break;
        }
        first = 0;
    }
    return k - p->i;
}

/* Unescapes \, and strips trailing whitespace (Python's .replace('\\,', ',').rstrip()). */
static cJSON *sh_word_value(const char *s, long n) {
    lo_sbuf b = {0};
    for (long k = 0; k < n; k++) {
        if (s[k] == '\\' && k + 1 < n && s[k + 1] == ',') {
            lo_sbuf_puts(&b, ",");
            k++;
        } else {
            lo_sbuf_add(&b, s + k, 1);
        }
    }
    while (b.len > 0 && sh_ws((unsigned char)b.s[b.len - 1])) b.s[--b.len] = 0;
    cJSON *v = cJSON_CreateString(lo_sbuf_str(&b));
    lo_sbuf_free(&b);
    return v;
}

static cJSON *sh_quoted(sh_parser *p, char q) {
    const char *name = q == '\'' ? "<singled quoted>" : "<double quoted>";
    long k = p->i + 1;
    for (;;) {
        if (k >= p->len) {
            sh_syntax_error(p, name, "<none>");
            return NULL;
        }
        if (p->in[k] == '\\' && k + 1 < p->len && (p->in[k + 1] == '\\' || p->in[k + 1] == q)) {
            k += 2;
            continue;
        }
        if (p->in[k] == q) break;
        k++;
    }
    /* body is in[i+1 .. k); replace \q by q, then \\ by \ (Python's order) */
    lo_sbuf a = {0}, b = {0};
    for (long j = p->i + 1; j < k; j++) {
        if (p->in[j] == '\\' && j + 1 < k && p->in[j + 1] == q) {
            lo_sbuf_add(&a, &q, 1);
            j++;
        } else {
            lo_sbuf_add(&a, p->in + j, 1);
        }
    }
    const char *s = lo_sbuf_str(&a);
    for (size_t j = 0; j < a.len; j++) {
        if (s[j] == '\\' && j + 1 < a.len && s[j + 1] == '\\') {
            lo_sbuf_puts(&b, "\\");
            j++;
        } else {
            lo_sbuf_add(&b, s + j, 1);
        }
    }
    p->i = k + 1;
    cJSON *v = cJSON_CreateString(lo_sbuf_str(&b));
    lo_sbuf_free(&a);
    lo_sbuf_free(&b);
    return v;
}

static cJSON *sh_first_value(sh_parser *p) {
    int c = sh_cur(p);
    if (c == '\'' || c == '"') return sh_quoted(p, (char)c);
    long n = sh_match_word(p, sh_first_follow);
    cJSON *v = sh_word_value(p->in + p->i, n);
    p->i += n;
    return v;
}

static cJSON *sh_second_value(sh_parser *p) {
    int c = sh_cur(p);
    if (c == '\'' || c == '"') return sh_quoted(p, (char)c);
    long n = sh_match_word(p, sh_second_follow);
    if (n == 0) {
        sh_syntax_error(p, "<second>", "<none>");
        return NULL;
    }
    cJSON *v = sh_word_value(p->in + p->i, n);
    p->i += n;
    return v;
}

static cJSON *sh_hash_literal(sh_parser *p);
static cJSON *sh_explicit_list(sh_parser *p);

static cJSON *sh_explicit_values(sh_parser *p) {
    int c = sh_cur(p);
    if (c == '[') return sh_explicit_list(p);
    if (c == '{') return sh_hash_literal(p);
    return sh_first_value(p);
}

static cJSON *sh_explicit_list(sh_parser *p) {
    if (sh_expect(p, '[', 1)) return NULL;
    cJSON *list = cJSON_CreateArray();
    while (sh_cur(p) != ']') {
        cJSON *v = sh_explicit_values(p);
        if (!v) goto fail;
        cJSON_AddItemToArray(list, v);
        sh_skip_ws(p);
        if (sh_cur(p) != ']') {
            if (sh_expect(p, ',', 0)) goto fail;
            sh_skip_ws(p);
        }
    }
    if (sh_expect(p, ']', 0)) goto fail;
    return list;
fail:
    cJSON_Delete(list);
    return NULL;
}

static long sh_key(sh_parser *p) {
    long start = p->i;
    while (!sh_eof(p)) {
        int c = sh_cur(p);
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              (c != 0 && strchr("-_.#/:", c))))
            break;
        p->i++;
    }
    return start;
}

static void sh_set(cJSON *obj, const char *key, long n, cJSON *v) {
    char *k = strndup(key, (size_t)n);
    if (cJSON_GetObjectItemCaseSensitive(obj, k))
        cJSON_ReplaceItemInObjectCaseSensitive(obj, k, v);
    else
        cJSON_AddItemToObject(obj, k, v);
    free(k);
}

static cJSON *sh_hash_literal(sh_parser *p) {
    if (sh_expect(p, '{', 1)) return NULL;
    cJSON *obj = cJSON_CreateObject();
    while (sh_cur(p) != '}') {
        long ks = sh_key(p);
        long kn = p->i - ks;
        if (sh_expect(p, '=', 1)) goto fail;
        cJSON *v = sh_explicit_values(p);
        if (!v) goto fail;
        sh_skip_ws(p);
        if (sh_cur(p) != '}') {
            if (sh_expect(p, ',', 0)) {
                cJSON_Delete(v);
                goto fail;
            }
            sh_skip_ws(p);
        }
        sh_set(obj, p->in + ks, kn, v);
    }
    if (sh_expect(p, '}', 0)) goto fail;
    return obj;
fail:
    cJSON_Delete(obj);
    return NULL;
}

static cJSON *sh_csv_value(sh_parser *p) {
    cJSON *first = sh_first_value(p);
    if (!first) return NULL;
    sh_skip_ws(p);
    if (sh_eof(p) || p->in[p->i] != ',') return first;
    if (sh_expect(p, ',', 1)) {
        cJSON_Delete(first);
        return NULL;
    }
    cJSON *list = cJSON_CreateArray();
    cJSON_AddItemToArray(list, first);
    for (;;) {
        /* A failed second value means it was the next key=...: backtrack to the comma. */
        sh_parser trial = *p;
        lo_sbuf scratch = {0};
        trial.err = &scratch;
        cJSON *cur = sh_second_value(&trial);
        if (cur) {
            sh_skip_ws(&trial);
            if (sh_eof(&trial)) {
                cJSON_AddItemToArray(list, cur);
                *p = (sh_parser){p->in, p->len, trial.i, 0, p->err};
                lo_sbuf_free(&scratch);
                break;
            }
            if (sh_expect(&trial, ',', 1) == 0) {
                cJSON_AddItemToArray(list, cur);
                p->i = trial.i;
                lo_sbuf_free(&scratch);
                continue;
            }
            cJSON_Delete(cur);
        }
        if (sh_eof(&trial)) { /* the error stands */
            p->failed = 1;
            p->err->len = 0;
            lo_sbuf_add(p->err, lo_sbuf_str(&scratch), scratch.len);
            lo_sbuf_free(&scratch);
            cJSON_Delete(list);
            return NULL;
        }
        lo_sbuf_free(&scratch);
        long k = trial.i;
        while (k > 0 && p->in[k] != ',') k--;
        p->i = k;
        break;
    }
    if (cJSON_GetArraySize(list) == 1) {
        cJSON *only = cJSON_DetachItemFromArray(list, 0);
        cJSON_Delete(list);
        return only;
    }
    return list;
}

static cJSON *sh_values(sh_parser *p) {
    if (sh_eof(p)) return cJSON_CreateString("");
    if (sh_cur(p) == '[') return sh_explicit_list(p);
    if (sh_cur(p) == '{') return sh_hash_literal(p);
    return sh_csv_value(p);
}

cJSON *lo_cli_shorthand_parse(const char *text, lo_sbuf *err) {
    sh_parser p = {text, (long)strlen(text), 0, 0, err};
    cJSON *params = cJSON_CreateObject();
    long last_index = 0;
    for (int first = 1;; first = 0) {
        if (!first) {
            if (sh_eof(&p)) break;
            if (sh_expect(&p, ',', 1)) goto fail;
        }
        long ks = sh_key(&p);
        long kn = p.i - ks;
        if (sh_expect(&p, '=', 1)) goto fail;
        cJSON *v = sh_values(&p);
        if (!v) goto fail;
        char *k = strndup(text + ks, (size_t)kn);
        if (!first && cJSON_GetObjectItemCaseSensitive(params, k)) {
            err->len = 0;
            lo_sbuf_printf(err, "Second instance of key \"%s\" encountered for input:\n", k);
            sh_location(&p, last_index + 1);
            lo_sbuf_puts(err, "\nThis is often because there is a preceding \",\" instead of a space.");
            free(k);
            cJSON_Delete(v);
            goto fail;
        }
        cJSON_AddItemToObject(params, k, v);
        free(k);
        last_index = p.i;
    }
    return params;
fail:
    cJSON_Delete(params);
    return NULL;
}
