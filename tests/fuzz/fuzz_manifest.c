/* libFuzzer harness: the Ground Truth manifest reader (line splitting, BOM/CRLF, JSON, labels,
 * colour maps, s3:// resolution) must refuse anything malformed with a message, never crash. */
#include "lds_internal.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int one_line(const char *text, size_t len, int line_no, void *ctx)
{
    (void)ctx;
    char where[64];
    snprintf(where, sizeof where, "fuzz line %d", line_no);
    lds_line l;
    lds_error err;
    if (lds_line_parse(text, len, where, &l, &err) != 0) return 0;
    /* resolution against a root that does not exist: exercises the URI and path checks */
    char *p = lds_resolve_s3("/nonexistent-lookout-fuzz-root", l.source_ref, "source-ref", &err);
    free(p);
    if (l.mask_ref) {
        p = lds_resolve_s3("/nonexistent-lookout-fuzz-root", l.mask_ref, "mask", &err);
        free(p);
    }
    lds_line_free(&l);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lds_for_each_line((const char *)data, size, one_line, NULL);
    return 0;
}
