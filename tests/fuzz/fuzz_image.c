/* libFuzzer harness: image decoding from untrusted bytes (detect-anomalies bodies, imported
 * files) must check the header before decoding and fail cleanly on anything broken. */
#include "dataset.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static float out[3 * 48 * 40];
    lds_error err;
    int w, h;
    /* both channel conversions, shrinking and (for small inputs) enlarging */
    lds_load_image_memory(data, size, "fuzz", 3, 48, 40, out, &w, &h, &err);
    lds_load_image_memory(data, size, "fuzz", 1, 40, 48, out, &w, &h, &err);
    return 0;
}
