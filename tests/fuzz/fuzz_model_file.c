/* libFuzzer harness: the model file parser must refuse anything malformed with a message and
 * never read outside the buffer. */
#include "train/train_internal.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lo_model_data md;
    lo_train_error err;
    if (lo_model_data_parse(data, size, "fuzz", &md, &err) == 0) lo_model_data_free(&md);
    return 0;
}
