/* cli_util.c — small helpers the CLI rooms share: growable strings, whole-file reads, base64,
 * model lookups. */
#include "cli_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

void lo_sbuf_add(lo_sbuf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) abort(); /* out of memory in a CLI: nothing sensible left to do */
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

void lo_sbuf_puts(lo_sbuf *b, const char *s) { lo_sbuf_add(b, s, strlen(s)); }

void lo_sbuf_printf(lo_sbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0) return;
    char *tmp = malloc((size_t)n + 1);
    if (!tmp) abort();
    va_start(ap, fmt);
    vsnprintf(tmp, (size_t)n + 1, fmt, ap);
    va_end(ap);
    lo_sbuf_add(b, tmp, (size_t)n);
    free(tmp);
}

void lo_sbuf_free(lo_sbuf *b) {
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

const char *lo_sbuf_str(lo_sbuf *b) { return b->s ? b->s : ""; }

char *lo_cli_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    lo_sbuf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) lo_sbuf_add(&b, chunk, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        lo_sbuf_free(&b);
        errno = EIO;
        return NULL;
    }
    if (!b.s) lo_sbuf_add(&b, "", 0);
    if (len) *len = b.len;
    return b.s;
}

char *lo_cli_base64_encode(const unsigned char *data, size_t len) {
    size_t n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *out = malloc(n);
    if (!out) abort();
    sodium_bin2base64(out, n, data, len, sodium_base64_VARIANT_ORIGINAL);
    return out;
}

int lo_cli_base64_check(const char *s) {
    size_t n = strlen(s);
    unsigned char *tmp = malloc(n + 1);
    if (!tmp) abort();
    size_t got = 0;
    const char *end = NULL;
    int rc = sodium_base642bin(tmp, n + 1, s, n, NULL, &got, &end, sodium_base64_VARIANT_ORIGINAL);
    free(tmp);
    return rc == 0 && end == s + n ? 0 : -1;
}

const lo_cli_operation *lo_cli_find_operation(const char *cli_name) {
    for (int i = 0; i < lo_cli_n_operations; i++)
        if (strcmp(lo_cli_operations[i].cli_name, cli_name) == 0) return &lo_cli_operations[i];
    return NULL;
}

const lo_cli_member *lo_cli_find_member(int shape, const char *name) {
    const lo_cli_shape *sh = &lo_cli_shapes[shape];
    for (int i = 0; i < sh->n_members; i++)
        if (strcmp(sh->members[i].name, name) == 0) return &sh->members[i];
    return NULL;
}
