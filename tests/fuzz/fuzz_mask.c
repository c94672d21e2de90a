/* libFuzzer harness: segmentation masks from untrusted PNGs, mapped through a colour map to class
 * indices; wrong sizes, unknown colours and broken PNGs must fail with a message. */
#include "lds_internal.h"

#include <stb_image.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lds_color_map cm;
    memset(&cm, 0, sizeof cm);
    cm.n = 2;
    strcpy(cm.defects[0].name, "scratch");
    cm.defects[0].rgb[0] = 255;
    strcpy(cm.defects[1].name, "dent");
    cm.defects[1].rgb[2] = 255;
    int class_of[LDS_MAX_CLASSES] = {1, 2};
    int w = 64, h = 64, c;
    /* use the header's own size half the time so decoding is reached */
    if (size > 0 && (data[size - 1] & 1) && size < 0x7fffffff) stbi_info_from_memory(data, (int)size, &w, &h, &c);
    size_t n_defect;
    int dom;
    lds_error err;
    uint8_t *idx = lds_mask_to_indices(data, size, "fuzz mask", w, h, &cm, class_of, &n_defect, &dom, &err);
    free(idx);
    return 0;
}
