/* fuzz_cli_input.c — what --cli-input-json and --cli-input-yaml read: the YAML loader (libyaml,
 * alias expansion bounded) and JSON, then validation against every operation's input shape and
 * the output formatters on the same tree. Nothing may crash, hang or leak. */
#include "cli/cli_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void exercise(cJSON *v, unsigned pick) {
    if (!v) return;
    const lo_cli_operation *op = &lo_cli_operations[pick % (unsigned)lo_cli_n_operations];
    cJSON *copy = cJSON_Duplicate(v, 1);
    lo_sbuf err = {0};
    if (copy && op->input >= 0) lo_cli_validate(op->input, copy, "", &err);
    lo_sbuf_free(&err);
    cJSON_Delete(copy);
    /* the output side too: prepare against the output shape, then every format */
    cJSON *shown = lo_cli_output_prepare(op->output, v);
    static const char *const formats[] = {"json", "text", "table", "yaml"};
    for (int f = 0; f < 4; f++) {
        lo_sbuf out = {0};
        lo_cli_format(formats[f], shown, op->name, &out);
        lo_sbuf_free(&out);
    }
    cJSON_Delete(shown);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    unsigned pick = data[0];
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    lo_sbuf err = {0};
    cJSON *y = lo_cli_yaml_parse(text, len, &err);
    lo_sbuf_free(&err);
    exercise(y, pick);
    cJSON_Delete(y);
    cJSON *j = cJSON_ParseWithLength(text, len);
    exercise(j, pick >> 1);
    cJSON_Delete(j);
    return 0;
}
