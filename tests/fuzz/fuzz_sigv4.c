/* libFuzzer: SigV4 canonicalization. The input is split at '\n' into an Authorization header, a
 * path, a raw query string and header values. Besides not crashing, one property must hold: a
 * request signed with the server's own signer over its own canonical form always verifies. */
#include "http/http_sigv4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int secret_of(void *ctx, const char *ak, char *secret, size_t cap) {
    (void)ctx;
    (void)ak;
    snprintf(secret, cap, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *part[4] = {text, (char *)"", (char *)"", (char *)""};
    for (int i = 1; i < 4; i++) {
        char *nl = strchr(part[i - 1], '\n');
        if (!nl) break;
        *nl = '\0';
        part[i] = nl + 1;
    }
    lo_sigv4_auth a;
    char msg[512];
    (void)lo_sigv4_parse_authorization(part[0], &a, msg, sizeof msg);
    (void)lo_sigv4_parse_amz_date(part[0]);

    lo_http_kv query[16];
    size_t nq = 0;
    for (char *q = part[2]; q && *q && nq < 16;) {
        char *amp = strchr(q, '&');
        if (amp) *amp = '\0';
        char *eq = strchr(q, '=');
        if (eq) *eq = '\0';
        query[nq].name = q;
        query[nq++].value = eq ? eq + 1 : NULL;
        q = amp ? amp + 1 : NULL;
    }
    char auth[1024];
    lo_http_kv headers[4] = {{"Host", "127.0.0.1:8088"}, {"X-Amz-Date", "20231114T221320Z"},
                             {"X-Extra", part[3]}, {"Authorization", auth}};
    lo_http_request rq = {"POST", part[1], query, nq, headers, 4, data, size};
    char hash[65];
    lo_sigv4_sha256_hex(data, size, hash);
    char *creq = lo_sigv4_canonical_request(&rq, "host;x-amz-date;x-extra", hash, msg, sizeof msg);
    if (creq) {
        char sig[65];
        lo_sigv4_sign("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20231114T221320Z", "20231114", "local",
                      "lookoutvision", creq, sig);
        snprintf(auth, sizeof auth, "AWS4-HMAC-SHA256 Credential=AKIAFUZZ/20231114/local/lookoutvision/aws4_request, "
                                    "SignedHeaders=host;x-amz-date;x-extra, Signature=%s", sig);
        char ak[129];
        lo_sigv4_status st = lo_sigv4_verify(&rq, "local", "lookoutvision", 1700000000, secret_of, NULL, ak,
                                             sizeof ak, msg, sizeof msg);
        if (st != LO_SIGV4_OK) {
            fprintf(stderr, "self-signed request refused: %s\n", msg);
            abort();
        }
        free(creq);
    }
    free(text);
    return 0;
}
