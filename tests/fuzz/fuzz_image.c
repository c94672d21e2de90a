/* libFuzzer harness: image decoding from untrusted bytes (detect-anomalies bodies, imported
 * files) must check the header before decoding and fail cleanly on anything broken. */
#include "dataset.h"
#include "lds_internal.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static float out[3 * 48 * 40];
    lds_error err;
    int w, h;
    /* both channel conversions, shrinking and (for small inputs) enlarging; a JPEG of 96 pixels
     * or more a side takes libjpeg's scaled decode (1/2 .. 1/8) here */
    lds_load_image_memory(data, size, "fuzz", 3, 48, 40, out, &w, &h, &err);
    lds_load_image_memory(data, size, "fuzz", 1, 40, 48, out, &w, &h, &err);
    /* aspect kept, mirrored around the image's box (models of mixed-shape datasets) */
    lds_load_image_fit_memory(data, size, "fuzz", 3, 48, 40, out, &w, &h, &err);
    lds_load_image_fit_memory(data, size, "fuzz", 1, 40, 48, out, &w, &h, &err);
    /* the full-size decode (import's check, masks) */
    int c;
    free(lds_decode8(data, size, "fuzz", 0, &w, &h, &c, &err));
    return 0;
}
