/* http_sigv4.c — AWS Signature Version 4 verification, built to match what botocore signs
 * (botocore/auth.py SigV4Auth) so the stock AWS CLI and boto3 are accepted byte for byte. */
#include "http_sigv4.h"

#include <ctype.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- a growable string; on allocation failure it latches `oom` and the caller gives up ---- */
typedef struct {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_putn(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) { b->oom = 1; return; }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}
static void sb_puts(sbuf *b, const char *s) { sb_putn(b, s, strlen(s)); }
static void sb_putc(sbuf *b, char c) { sb_putn(b, &c, 1); }

static void set_msg(char *msg, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_msg(char *msg, size_t len, const char *fmt, ...) {
    if (!msg || !len) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, len, fmt, ap);
    va_end(ap);
}

/* SigV4's UriEncode: everything but unreserved (and '/' when keep_slash) as %XX, uppercase. */
static void sb_uri_encode(sbuf *b, const char *s, size_t n, int keep_slash) {
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (lo_http_is_unreserved(c) || (keep_slash && c == '/')) {
            sb_putc(b, (char)c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            sb_putn(b, e, 3);
        }
    }
}

/* ---- Authorization header ---- */

static const char *skip_ws(const char *s) {
    while (*s == ' ' || *s == '\t') s++;
    return s;
}

static int copy_field(char *dst, size_t cap, const char *s, size_t n) {
    if (n == 0 || n >= cap) return -1;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 0;
}

static int parse_credential(const char *v, size_t n, lo_sigv4_auth *a, char *msg, size_t msg_len) {
    const char *part[5];
    size_t plen[5];
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || v[i] == '/') {
            if (k == 5) { k = 6; break; }
            part[k] = v + start;
            plen[k] = i - start;
            k++;
            start = i + 1;
        }
    }
    if (k != 5) {
        set_msg(msg, msg_len, "Credential must be ACCESS_KEY/YYYYMMDD/REGION/SERVICE/aws4_request");
        return -1;
    }
    if (copy_field(a->access_key, sizeof a->access_key, part[0], plen[0])) {
        set_msg(msg, msg_len, "Credential has an empty or overlong access key id");
        return -1;
    }
    if (plen[1] != 8 || copy_field(a->date, sizeof a->date, part[1], plen[1])) {
        set_msg(msg, msg_len, "Credential scope date must be YYYYMMDD");
        return -1;
    }
    for (int i = 0; i < 8; i++)
        if (!isdigit((unsigned char)a->date[i])) {
            set_msg(msg, msg_len, "Credential scope date must be YYYYMMDD");
            return -1;
        }
    if (copy_field(a->region, sizeof a->region, part[2], plen[2]) ||
        copy_field(a->service, sizeof a->service, part[3], plen[3])) {
        set_msg(msg, msg_len, "Credential has an empty or overlong region or service");
        return -1;
    }
    if (plen[4] != 12 || memcmp(part[4], "aws4_request", 12) != 0) {
        set_msg(msg, msg_len, "Credential should be scoped with a valid terminator: 'aws4_request'");
        return -1;
    }
    return 0;
}

int lo_sigv4_parse_authorization(const char *header, lo_sigv4_auth *a, char *msg, size_t msg_len) {
    static const char algo[] = "AWS4-HMAC-SHA256";
    memset(a, 0, sizeof *a);
    const char *s = skip_ws(header);
    if (strncmp(s, algo, sizeof algo - 1) != 0 || (s[sizeof algo - 1] != ' ' && s[sizeof algo - 1] != '\t')) {
        set_msg(msg, msg_len, "Authorization header must start with 'AWS4-HMAC-SHA256 ' "
                              "(only Signature Version 4 is accepted)");
        return -1;
    }
    s += sizeof algo - 1;
    int have_cred = 0, have_sh = 0, have_sig = 0;
    while (*s) {
        s = skip_ws(s);
        const char *end = strchr(s, ',');
        size_t n = end ? (size_t)(end - s) : strlen(s);
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
        const char *eq = memchr(s, '=', n);
        if (!eq) {
            set_msg(msg, msg_len, "Authorization header component '%.*s' is not key=value", (int)(n > 64 ? 64 : n), s);
            return -1;
        }
        size_t klen = (size_t)(eq - s);
        const char *v = eq + 1;
        size_t vlen = n - klen - 1;
        if (klen == 10 && memcmp(s, "Credential", 10) == 0 && !have_cred) {
            if (parse_credential(v, vlen, a, msg, msg_len)) return -1;
            have_cred = 1;
        } else if (klen == 13 && memcmp(s, "SignedHeaders", 13) == 0 && !have_sh) {
            if (copy_field(a->signed_headers, sizeof a->signed_headers, v, vlen)) {
                set_msg(msg, msg_len, "SignedHeaders is empty or too long");
                return -1;
            }
            for (char *c = a->signed_headers; *c; c++) {
                *c = (char)tolower((unsigned char)*c);
                if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '-' || *c == '_' || *c == ';' || *c == '.')) {
                    set_msg(msg, msg_len, "SignedHeaders holds an invalid character");
                    return -1;
                }
            }
            have_sh = 1;
        } else if (klen == 9 && memcmp(s, "Signature", 9) == 0 && !have_sig) {
            if (vlen != 64) {
                set_msg(msg, msg_len, "Signature must be 64 hex digits");
                return -1;
            }
            for (size_t i = 0; i < 64; i++) {
                char c = (char)tolower((unsigned char)v[i]);
                if (!isxdigit((unsigned char)c)) {
                    set_msg(msg, msg_len, "Signature must be 64 hex digits");
                    return -1;
                }
                a->signature[i] = c;
            }
            a->signature[64] = '\0';
            have_sig = 1;
        } else {
            set_msg(msg, msg_len, "Authorization header has an unknown or repeated component '%.*s'",
                    (int)(klen > 32 ? 32 : klen), s);
            return -1;
        }
        if (!end) break;
        s = end + 1;
    }
    if (!have_cred || !have_sh || !have_sig) {
        set_msg(msg, msg_len, "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature'");
        return -1;
    }
    return 0;
}

/* ---- canonical request ---- */

/* botocore's remove_dot_segments: drops empty and "." segments, resolves "..". */
static void sb_canonical_path(sbuf *b, const char *path) {
    size_t len = strlen(path);
    if (len == 0) { sb_putc(b, '/'); return; }
    /* segment start offsets kept on a stack so ".." can pop */
    size_t nseg = 0, cap = 16;
    size_t *seg_start = malloc(cap * sizeof *seg_start), *seg_len = malloc(cap * sizeof *seg_len);
    if (!seg_start || !seg_len) { free(seg_start); free(seg_len); b->oom = 1; return; }
    size_t i = 0;
    while (i <= len) {
        size_t j = i;
        while (j < len && path[j] != '/') j++;
        size_t n = j - i;
        if (n == 2 && path[i] == '.' && path[i + 1] == '.') {
            if (nseg) nseg--;
        } else if (n && !(n == 1 && path[i] == '.')) {
            if (nseg == cap) {
                cap *= 2;
                size_t *a = realloc(seg_start, cap * sizeof *a);
                if (a) seg_start = a;
                size_t *c = realloc(seg_len, cap * sizeof *c);
                if (c) seg_len = c;
                if (!a || !c) { free(seg_start); free(seg_len); b->oom = 1; return; }
            }
            seg_start[nseg] = i;
            seg_len[nseg] = n;
            nseg++;
        }
        i = j + 1;
    }
    if (path[0] == '/') sb_putc(b, '/');
    for (size_t k = 0; k < nseg; k++) {
        if (k) sb_putc(b, '/');
        sb_uri_encode(b, path + seg_start[k], seg_len[k], 1);
    }
    if (path[len - 1] == '/' && nseg) sb_putc(b, '/');
    free(seg_start);
    free(seg_len);
}

typedef struct {
    char *key, *value; /* UriEncoded */
} qpair;

static int qpair_cmp(const void *x, const void *y) {
    const qpair *a = x, *b = y;
    int c = strcmp(a->key, b->key);
    return c ? c : strcmp(a->value, b->value);
}

static char *encode_component(const char *raw) {
    size_t n = strlen(raw);
    char *dec = malloc(n + 1);
    if (!dec) return NULL;
    long dn = lo_http_pct_decode(raw, n, dec);
    if (dn < 0) { free(dec); return NULL; }
    sbuf b = {0};
    sb_uri_encode(&b, dec, (size_t)dn, 0);
    free(dec);
    if (b.oom) { free(b.p); return NULL; }
    if (!b.p) return strdup("");
    return b.p;
}

/* Each key and value decoded then re-encoded, sorted by key then value (what botocore does with
 * the query it put in the URL). */
static int sb_canonical_query(sbuf *b, const lo_http_request *rq, char *msg, size_t msg_len) {
    if (rq->n_query == 0) return 0;
    qpair *q = calloc(rq->n_query, sizeof *q);
    if (!q) { b->oom = 1; return -1; }
    int rc = 0;
    for (size_t i = 0; i < rq->n_query; i++) {
        q[i].key = encode_component(rq->query[i].name ? rq->query[i].name : "");
        q[i].value = encode_component(rq->query[i].value ? rq->query[i].value : "");
        if (!q[i].key || !q[i].value) {
            set_msg(msg, msg_len, "query parameter %zu has a malformed percent escape", i + 1);
            rc = -1;
        }
    }
    if (rc == 0) {
        qsort(q, rq->n_query, sizeof *q, qpair_cmp);
        for (size_t i = 0; i < rq->n_query; i++) {
            if (i) sb_putc(b, '&');
            sb_puts(b, q[i].key);
            sb_putc(b, '=');
            sb_puts(b, q[i].value);
        }
    }
    for (size_t i = 0; i < rq->n_query; i++) {
        free(q[i].key);
        free(q[i].value);
    }
    free(q);
    return rc;
}

/* Trimall: strip the ends, squeeze inner runs of whitespace to one space. */
static void sb_trimall(sbuf *b, const char *v) {
    int pending_space = 0, started = 0;
    for (; *v; v++) {
        if (isspace((unsigned char)*v)) {
            pending_space = started;
            continue;
        }
        if (pending_space) sb_putc(b, ' ');
        pending_space = 0;
        started = 1;
        sb_putc(b, *v);
    }
}

char *lo_sigv4_canonical_request(const lo_http_request *rq, const char *signed_headers,
                                 const char *payload_hash, char *msg, size_t msg_len) {
    sbuf b = {0};
    sb_puts(&b, rq->method ? rq->method : "");
    sb_putc(&b, '\n');
    sb_canonical_path(&b, rq->path ? rq->path : "");
    sb_putc(&b, '\n');
    if (sb_canonical_query(&b, rq, msg, msg_len)) { free(b.p); return NULL; }
    sb_putc(&b, '\n');
    const char *h = signed_headers;
    while (*h) {
        const char *end = strchr(h, ';');
        size_t n = end ? (size_t)(end - h) : strlen(h);
        if (n == 0 || n > 255) {
            set_msg(msg, msg_len, "SignedHeaders has an empty or overlong entry");
            free(b.p);
            return NULL;
        }
        char name[256];
        memcpy(name, h, n);
        name[n] = '\0';
        sb_puts(&b, name);
        sb_putc(&b, ':');
        int found = 0;
        for (size_t i = 0; i < rq->n_headers; i++) {
            if (!rq->headers[i].name || strcasecmp(rq->headers[i].name, name) != 0) continue;
            if (found) sb_putc(&b, ',');
            sb_trimall(&b, rq->headers[i].value ? rq->headers[i].value : "");
            found = 1;
        }
        if (!found) {
            set_msg(msg, msg_len, "signed header '%s' is not in the request", name);
            free(b.p);
            return NULL;
        }
        sb_putc(&b, '\n');
        if (!end) break;
        h = end + 1;
    }
    sb_putc(&b, '\n');
    sb_puts(&b, signed_headers);
    sb_putc(&b, '\n');
    sb_puts(&b, payload_hash);
    if (b.oom) {
        set_msg(msg, msg_len, "out of memory building the canonical request");
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* ---- crypto ---- */

static void to_hex(const unsigned char *d, size_t n, char *hex) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[2 * n] = '\0';
}

void lo_sigv4_sha256_hex(const void *data, size_t len, char hex[65]) {
    unsigned char d[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(d, data, len);
    to_hex(d, sizeof d, hex);
}

static void hmac(const unsigned char *key, size_t key_len, const char *msg, unsigned char out[32]) {
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, key_len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, strlen(msg));
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

void lo_sigv4_sign(const char *secret, const char *amz_date, const char *scope_date,
                   const char *region, const char *service, const char *canonical_request,
                   char hex[65]) {
    char ch[65];
    lo_sigv4_sha256_hex(canonical_request, strlen(canonical_request), ch);
    size_t sts_len = 17 + strlen(amz_date) + 1 + strlen(scope_date) + strlen(region) +
                     strlen(service) + 16 + 1 + 64 + 1;
    char *sts = malloc(sts_len);
    size_t klen = 4 + strlen(secret);
    unsigned char *k = malloc(klen + 1);
    if (!sts || !k) { /* an impossible-to-match signature rather than a crash */
        free(sts);
        free(k);
        memset(hex, 'x', 64);
        hex[64] = '\0';
        return;
    }
    snprintf(sts, sts_len, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", amz_date, scope_date,
             region, service, ch);
    memcpy(k, "AWS4", 4);
    memcpy(k + 4, secret, klen - 4);
    unsigned char k_date[32], k_region[32], k_service[32], k_signing[32], sig[32];
    hmac(k, klen, scope_date, k_date);
    hmac(k_date, 32, region, k_region);
    hmac(k_region, 32, service, k_service);
    hmac(k_service, 32, "aws4_request", k_signing);
    hmac(k_signing, 32, sts, sig);
    to_hex(sig, 32, hex);
    sodium_memzero(k, klen);
    sodium_memzero(k_date, 32);
    sodium_memzero(k_region, 32);
    sodium_memzero(k_service, 32);
    sodium_memzero(k_signing, 32);
    free(k);
    free(sts);
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), without timegm's global-state quirks. */
static long long days_from_civil(long long y, unsigned m, unsigned d) {
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

long long lo_sigv4_parse_amz_date(const char *s) {
    if (!s || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z') return -1;
    for (int i = 0; i < 15; i++)
        if (i != 8 && !isdigit((unsigned char)s[i])) return -1;
    int v[6], pos[6] = {0, 4, 6, 9, 11, 13}, len[6] = {4, 2, 2, 2, 2, 2};
    for (int i = 0; i < 6; i++) {
        v[i] = 0;
        for (int j = 0; j < len[i]; j++) v[i] = v[i] * 10 + (s[pos[i] + j] - '0');
    }
    if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60) return -1;
    return days_from_civil(v[0], (unsigned)v[1], (unsigned)v[2]) * 86400 + v[3] * 3600 + v[4] * 60 + v[5];
}

static void fmt_amz_date(long long t, char out[17]) {
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

lo_sigv4_status lo_sigv4_verify(const lo_http_request *rq, const char *region, const char *service,
                                time_t now, lo_sigv4_secret_fn secret_of, void *ctx,
                                char *access_key, size_t access_key_cap, char *msg, size_t msg_len) {
    if (access_key && access_key_cap) access_key[0] = '\0';
    const char *authz = lo_http_header(rq, "Authorization");
    if (!authz) {
        for (size_t i = 0; i < rq->n_query; i++)
            if (rq->query[i].name && strcasecmp(rq->query[i].name, "X-Amz-Signature") == 0) {
                set_msg(msg, msg_len, "Presigned URLs are not supported; sign the request with an "
                                      "Authorization header (AWS CLI and SDKs do this by default)");
                return LO_SIGV4_INCOMPLETE;
            }
        set_msg(msg, msg_len, "Missing Authentication Token: sign the request with Signature Version 4 "
                              "using a key from `lookout create-access-key`");
        return LO_SIGV4_MISSING;
    }
    lo_sigv4_auth a;
    char why[256];
    if (lo_sigv4_parse_authorization(authz, &a, why, sizeof why)) {
        set_msg(msg, msg_len, "The request signature does not conform to AWS standards: %s", why);
        return LO_SIGV4_INCOMPLETE;
    }
    const char *amz_date = lo_http_header(rq, "X-Amz-Date");
    if (!amz_date) {
        set_msg(msg, msg_len, "Authorization header requires existence of an 'X-Amz-Date' header");
        return LO_SIGV4_INCOMPLETE;
    }
    long long t = lo_sigv4_parse_amz_date(amz_date);
    if (t < 0) {
        set_msg(msg, msg_len, "X-Amz-Date '%.32s' is not in the form YYYYMMDDTHHMMSSZ", amz_date);
        return LO_SIGV4_INCOMPLETE;
    }
    int has_host = 0;
    for (const char *h = a.signed_headers; h && *h;) {
        const char *e = strchr(h, ';');
        size_t n = e ? (size_t)(e - h) : strlen(h);
        if (n == 4 && memcmp(h, "host", 4) == 0) has_host = 1;
        h = e ? e + 1 : NULL;
    }
    if (!has_host) {
        set_msg(msg, msg_len, "'Host' must be a 'SignedHeader' in the AWS Authorization");
        return LO_SIGV4_INCOMPLETE;
    }
    char secret[256];
    if (secret_of(ctx, a.access_key, secret, sizeof secret) != 0) {
        set_msg(msg, msg_len, "The security token included in the request is invalid: access key id "
                              "'%s' is not in this server's credentials (create one with `lookout "
                              "create-access-key`)", a.access_key);
        return LO_SIGV4_UNRECOGNIZED;
    }
    if (access_key && access_key_cap) snprintf(access_key, access_key_cap, "%s", a.access_key);
    lo_sigv4_status st = LO_SIGV4_INVALID;
    char *creq = NULL;
    if (strncmp(a.date, amz_date, 8) != 0) {
        set_msg(msg, msg_len, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version "
                              "of date from HTTP: '%s' != '%.8s'", a.date, amz_date);
        goto done;
    }
    if (strcmp(a.service, service) != 0) {
        set_msg(msg, msg_len, "Credential should be scoped to correct service: '%s', not '%s'.", service,
                a.service);
        goto done;
    }
    if (strcmp(a.region, region) != 0) {
        set_msg(msg, msg_len, "Credential should be scoped to a valid region, not '%s'. This server's "
                              "region is '%s' (LOOKOUT_REGION): sign with that region (e.g. "
                              "AWS_DEFAULT_REGION=%s or --region %s).", a.region, region, region, region);
        goto done;
    }
    if (t + LO_SIGV4_MAX_SKEW_SECONDS < (long long)now) {
        char lim[17], nw[17];
        fmt_amz_date((long long)now - LO_SIGV4_MAX_SKEW_SECONDS, lim);
        fmt_amz_date((long long)now, nw);
        set_msg(msg, msg_len, "Signature expired: %s is now earlier than %s (%s - 15 min.)", amz_date, lim, nw);
        goto done;
    }
    if (t - LO_SIGV4_MAX_SKEW_SECONDS > (long long)now) {
        char lim[17], nw[17];
        fmt_amz_date((long long)now + LO_SIGV4_MAX_SKEW_SECONDS, lim);
        fmt_amz_date((long long)now, nw);
        set_msg(msg, msg_len, "Signature not yet current: %s is still later than %s (%s + 15 min.)",
                amz_date, lim, nw);
        goto done;
    }
    char body_hash[65];
    lo_sigv4_sha256_hex(rq->body ? (const void *)rq->body : (const void *)"", rq->body_len, body_hash);
    const char *declared = lo_http_header(rq, "X-Amz-Content-SHA256");
    if (declared && strcasecmp(declared, body_hash) != 0) {
        if (strcmp(declared, "UNSIGNED-PAYLOAD") == 0)
            set_msg(msg, msg_len, "UNSIGNED-PAYLOAD is not accepted: this endpoint requires the payload "
                                  "to be signed (x-amz-content-sha256 must be the body's SHA-256)");
        else
            set_msg(msg, msg_len, "The x-amz-content-sha256 header does not match the SHA-256 of the "
                                  "request body");
        goto done;
    }
    creq = lo_sigv4_canonical_request(rq, a.signed_headers, declared ? declared : body_hash, why, sizeof why);
    if (!creq) {
        set_msg(msg, msg_len, "The request signature we calculated does not match the signature you "
                              "provided: %s", why);
        goto done;
    }
    char expect[65];
    lo_sigv4_sign(secret, amz_date, a.date, a.region, a.service, creq, expect);
    if (sodium_memcmp(expect, a.signature, 64) != 0) {
        set_msg(msg, msg_len, "The request signature we calculated does not match the signature you "
                              "provided. Check your AWS Secret Access Key and signing method.");
        goto done;
    }
    st = LO_SIGV4_OK;
done:
    sodium_memzero(secret, sizeof secret);
    free(creq);
    return st;
}
