/* libFuzzer harness: the key store file parser and the encryption envelope. Any bytes as a key
 * store must parse or be refused with a message; any bytes as an encrypted snapshot file must
 * fail to open cleanly (authentication failed / not an envelope / truncated), never return
 * plaintext for input that was not sealed with the key, and never read outside the buffer. A
 * sealed copy of the input must open back to the same bytes, and fail once any byte flips. */
#include "kms/kms.h"
#include "lds_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lo_error err;
    cJSON *store = lo_kms_store_parse((const char *)data, size, "fuzz keys.json", &err);
    cJSON_Delete(store);

    static const uint8_t key[LDS_DATA_KEY_BYTES] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                                    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
    lds_error le;
    size_t n = 0;
    uint8_t *plain = lds_envelope_open(data, size, "images/00000001.png", key, &n, &le);
    if (plain) __builtin_trap(); /* forging Poly1305 by fuzzing means the check is broken */

    uint8_t *sealed = lds_envelope_seal(data, size, "images/00000001.png", key, &n, &le);
    if (!sealed) return 0;
    size_t m = 0;
    uint8_t *back = lds_envelope_open(sealed, n, "images/00000001.png", key, &m, &le);
    if (!back || m != size || (size && memcmp(back, data, size))) __builtin_trap();
    free(back);
    sealed[(size * 7919u) % n] ^= 0x20; /* one flipped bit, anywhere the input puts it */
    back = lds_envelope_open(sealed, n, "images/00000001.png", key, &m, &le);
    if (back) __builtin_trap();
    free(sealed);
    return 0;
}
