/* libFuzzer: one HTTP request as text ("METHOD PATH?QUERY\nName: value\n...\n\nBODY") through the
 * HTTP room's parsing: SigV4 verification, routing, input assembly, action checks. Nothing may
 * crash, leak or read out of bounds whatever the bytes. */
#include "http/http_route.h"
#include "http/http_sigv4.h"

#include <stdlib.h>
#include <string.h>

static int secret_of(void *ctx, const char *ak, char *secret, size_t cap) {
    (void)ctx;
    if (strcmp(ak, "AKIAFUZZ") != 0) return -1;
    strncpy(secret, "fuzz-secret", cap - 1);
    secret[cap - 1] = '\0';
    return 0;
}

/* Splits s at sep in place into at most max pieces. */
static size_t split(char *s, char sep, char **out, size_t max) {
    size_t n = 0;
    while (s && n < max) {
        out[n++] = s;
        char *e = strchr(s, sep);
        if (!e) break;
        *e = '\0';
        s = e + 1;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    /* body: after the first blank line (binary allowed), measured in the original bytes */
    const uint8_t *body = NULL;
    size_t body_len = 0;
    char *blank = strstr(text, "\n\n");
    if (blank) {
        size_t off = (size_t)(blank - text) + 2;
        body = data + off;
        body_len = size - off;
        *blank = '\0';
    }
    char *lines[40];
    size_t nl = split(text, '\n', lines, 40);
    char *method = lines[0], *sp = strchr(lines[0], ' ');
    char *path = (char *)"/";
    if (sp) { *sp = '\0'; path = sp + 1; }
    char *qs = strchr(path, '?');
    lo_http_kv query[32], headers[40];
    size_t nq = 0, nh = 0;
    if (qs) {
        *qs++ = '\0';
        char *pairs[32];
        size_t np = split(qs, '&', pairs, 32);
        for (size_t i = 0; i < np; i++) {
            char *eq = strchr(pairs[i], '=');
            if (eq) *eq++ = '\0';
            query[nq].name = pairs[i];
            query[nq++].value = eq;
        }
    }
    for (size_t i = 1; i < nl; i++) {
        char *colon = strchr(lines[i], ':');
        if (!colon) continue;
        *colon = '\0';
        headers[nh].name = lines[i];
        headers[nh++].value = colon + 1 + (colon[1] == ' ');
    }
    lo_http_request rq = {method, path, query, nq, headers, nh, body, body_len};
    char ak[129], msg[1024];
    (void)lo_sigv4_verify(&rq, "local", "lookoutvision", 1700000000, secret_of, NULL, ak, sizeof ak, msg, sizeof msg);
    lo_http_labels labels;
    int known;
    const lo_http_op *op = lo_http_route(method, path, &labels, &known);
    (void)lo_http_body_limit_for(method, path);
    if (op) {
        cJSON *in = NULL;
        const uint8_t *blob;
        size_t blob_len;
        lo_error err;
        if (lo_http_build_input(op, &rq, &labels, &in, &blob, &blob_len, &err) == 0) {
            char acts[2][64];
            (void)lo_http_required_actions(op, in, acts);
            char *s = cJSON_PrintUnformatted(in);
            free(s);
            cJSON_Delete(in);
        }
        lo_http_labels_free(&labels);
    }
    free(text);
    return 0;
}
