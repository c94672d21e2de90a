/* http_sigv4.h — AWS Signature Version 4 (header form, AWS4-HMAC-SHA256): parsing the
 * Authorization header, the canonical request exactly as botocore builds it, and verification. */
#ifndef LOOKOUT_HTTP_SIGV4_H
#define LOOKOUT_HTTP_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "http_request.h"

#define LO_SIGV4_MAX_SKEW_SECONDS (15 * 60)

typedef struct {
    char access_key[129];
    char date[9];          /* credential scope date, YYYYMMDD */
    char region[64];
    char service[64];
    char signed_headers[1024];
    char signature[65];    /* lowercase hex */
} lo_sigv4_auth;

typedef enum {
    LO_SIGV4_OK = 0,
    LO_SIGV4_MISSING,      /* no Authorization header: MissingAuthenticationTokenException */
    LO_SIGV4_INCOMPLETE,   /* malformed header / missing X-Amz-Date: IncompleteSignatureException */
    LO_SIGV4_UNRECOGNIZED, /* unknown access key: UnrecognizedClientException */
    LO_SIGV4_INVALID       /* wrong signature, region, service, date or skew: InvalidSignatureException */
} lo_sigv4_status;

/* Copies the secret of `access_key` into secret (cap bytes); 0 if known, -1 if not. */
typedef int (*lo_sigv4_secret_fn)(void *ctx, const char *access_key, char *secret, size_t cap);

/* Parses "AWS4-HMAC-SHA256 Credential=AK/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b,
 * Signature=hex". Returns 0, or -1 with a message saying what is malformed. */
int lo_sigv4_parse_authorization(const char *header, lo_sigv4_auth *out, char *msg, size_t msg_len);

/* The canonical request (malloc'd) for the signed header list and payload hash, or NULL with a
 * message (a signed header absent from the request, a malformed query escape). */
char *lo_sigv4_canonical_request(const lo_http_request *rq, const char *signed_headers,
                                 const char *payload_hash, char *msg, size_t msg_len);

/* Lowercase hex SHA-256 of data. */
void lo_sigv4_sha256_hex(const void *data, size_t len, char hex[65]);

/* The hex signature of canonical_request made with secret, as a client computes it. */
void lo_sigv4_sign(const char *secret, const char *amz_date, const char *scope_date,
                   const char *region, const char *service, const char *canonical_request,
                   char hex[65]);

/* Seconds since the epoch of an X-Amz-Date (YYYYMMDDTHHMMSSZ), or -1. */
long long lo_sigv4_parse_amz_date(const char *s);

/* Checks the request's signature for `region`/`service` at time `now`. On LO_SIGV4_OK the caller
 * knows the request was made by access_key (copied out); otherwise msg says why it was refused. */
lo_sigv4_status lo_sigv4_verify(const lo_http_request *rq, const char *region, const char *service,
                                time_t now, lo_sigv4_secret_fn secret_of, void *ctx,
                                char *access_key, size_t access_key_cap, char *msg, size_t msg_len);

#endif
