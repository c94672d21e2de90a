/* http_request.h — one HTTP request as the HTTP room sees it, independent of libmicrohttpd, so the
 * router and the SigV4 check can be unit-tested and fuzzed without a socket. */
#ifndef LOOKOUT_HTTP_REQUEST_H
#define LOOKOUT_HTTP_REQUEST_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *name;
    const char *value; /* NULL for a query key without '=' */
} lo_http_kv;

typedef struct {
    const char *method;
    const char *path;          /* as received: percent-encoded, no query string */
    const lo_http_kv *query;   /* raw (still percent-encoded) pairs in arrival order */
    size_t n_query;
    const lo_http_kv *headers; /* names in any case; repeated names allowed */
    size_t n_headers;
    const uint8_t *body;
    size_t body_len;
} lo_http_request;

/* First header named `name` (case-insensitive), or NULL. */
const char *lo_http_header(const lo_http_request *rq, const char *name);

/* Percent-decodes in[0..n) into out (capacity >= n + 1, NUL-terminated); '+' stays '+'.
 * Returns the decoded length, or -1 on a malformed escape or an embedded NUL. */
long lo_http_pct_decode(const char *in, size_t n, char *out);

/* RFC 3986 unreserved characters, the ones SigV4 never escapes. */
int lo_http_is_unreserved(unsigned char c);

#endif
