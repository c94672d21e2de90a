/* fuzz_shorthand.c — the AWS shorthand parser, then the parameter builder and validator on what
 * it produced: any byte string must give a value or an error message, never a crash or a leak. */
#include "cli/cli_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0; /* argv strings are NUL-terminated: stop at the first NUL as a shell would */
    lo_sbuf err = {0};
    cJSON *v = lo_cli_shorthand_parse(text, &err);
    cJSON_Delete(v);
    lo_sbuf_free(&err);
    /* through the option path of a few shapes: structure, list of structures, nested structure */
    static const char *const opts[][2] = {{"create-model", "output-config"}, {"create-model", "tags"},
                                          {"create-dataset", "dataset-source"}, {"untag-resource", "tag-keys"}};
    for (size_t k = 0; k < sizeof opts / sizeof *opts; k++) {
        const lo_cli_operation *op = lo_cli_find_operation(opts[k][0]);
        const lo_cli_shape *in = &lo_cli_shapes[op->input];
        for (int i = 0; i < in->n_members; i++) {
            if (strcmp(in->members[i].cli_name, opts[k][1])) continue;
            if (!strncmp(text, "file", 4)) continue; /* no file system access from the fuzzer */
            char *vals[1] = {text};
            lo_sbuf e2 = {0};
            cJSON *p = lo_cli_param_from_argv(in->members[i].shape, in->members[i].cli_name, vals, 1, &e2);
            if (p) {
                lo_sbuf e3 = {0};
                lo_cli_validate(in->members[i].shape, p, in->members[i].name, &e3);
                lo_sbuf_free(&e3);
            }
            cJSON_Delete(p);
            lo_sbuf_free(&e2);
        }
    }
    free(text);
    return 0;
}
