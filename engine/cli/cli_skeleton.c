/* cli_skeleton.c — `--generate-cli-skeleton input|output|yaml-input`, shaped like botocore's
 * ArgumentGenerator and awscli's YAMLArgumentGenerator output (one list element, a KeyName map
 * entry, first-sentence comments with [REQUIRED]), so a filled skeleton goes straight back in. */
#include "cli_internal.h"

#include <string.h>

static int on_stack(const int *stack, int depth, int shape) {
    int count = 0;
    for (int i = 0; i < depth; i++) count += stack[i] == shape;
    return count;
}

/* member_names: the output skeleton puts each member's name where a string goes */
static cJSON *gen(int shape, const char *name, int member_names, int *stack, int depth) {
    const lo_cli_shape *sh = &lo_cli_shapes[shape];
    if (depth >= 64) return cJSON_CreateObject();
    stack[depth++] = shape;
    switch (sh->type) {
    case LO_CLI_STRUCTURE: {
        cJSON *o = cJSON_CreateObject();
        if (on_stack(stack, depth, shape) > 1) return o;
        for (int i = 0; i < sh->n_members; i++)
            cJSON_AddItemToObject(o, sh->members[i].name,
                                  gen(sh->members[i].shape, sh->members[i].name, member_names, stack, depth));
        return o;
    }
    case LO_CLI_LIST: {
        cJSON *a = cJSON_CreateArray();
        cJSON_AddItemToArray(a, gen(sh->member, member_names ? lo_cli_shapes[sh->member].name : "", member_names,
                                    stack, depth));
        return a;
    }
    case LO_CLI_MAP: {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "KeyName", gen(sh->value, "", member_names, stack, depth));
        return o;
    }
    case LO_CLI_STRING:
        if (member_names) return cJSON_CreateString(name);
        return cJSON_CreateString(sh->n_enums ? sh->enums[0] : "");
    case LO_CLI_INTEGER:
        return cJSON_CreateRaw("0");
    case LO_CLI_FLOAT:
        return cJSON_CreateRaw("0.0");
    case LO_CLI_BOOLEAN:
        return cJSON_CreateTrue();
    case LO_CLI_TIMESTAMP:
        return cJSON_CreateString("1970-01-01T00:00:00");
    case LO_CLI_BLOB:
        return cJSON_CreateNull();
    }
    return cJSON_CreateNull();
}

cJSON *lo_cli_skeleton_input(int shape) {
    int stack[64];
    if (shape < 0) return cJSON_CreateObject();
    return gen(shape, "", 0, stack, 0);
}

cJSON *lo_cli_skeleton_output(int shape) {
    int stack[64];
    if (shape < 0) return cJSON_CreateObject();
    return gen(shape, "", 1, stack, 0);
}

static void indent(lo_sbuf *out, int n) {
    for (int i = 0; i < n; i++) lo_sbuf_puts(out, " ");
}

static const char *yaml_scalar(const lo_cli_shape *sh) {
    switch (sh->type) {
    case LO_CLI_STRING: return "''";
    case LO_CLI_INTEGER: return "0";
    case LO_CLI_FLOAT: return "0.0";
    case LO_CLI_BOOLEAN: return "true";
    case LO_CLI_TIMESTAMP: return "1970-01-01 00:00:00";
    case LO_CLI_BLOB: return "!!binary ''";
    default: return "";
    }
}

static void yaml_comment(lo_sbuf *out, const lo_cli_member *m, int first) {
    const lo_cli_shape *sh = &lo_cli_shapes[m->shape];
    lo_sbuf c = {0};
    if (m->flags & LO_CLI_REQUIRED) lo_sbuf_puts(&c, "[REQUIRED]");
    if (m->doc && *m->doc) lo_sbuf_printf(&c, "%s%s", c.len ? " " : "", m->doc);
    if (sh->n_enums) {
        lo_sbuf_printf(&c, "%sValid values are: ", c.len ? " " : "");
        for (int i = 0; i < sh->n_enums; i++) lo_sbuf_printf(&c, "%s%s", i ? ", " : "", sh->enums[i]);
        lo_sbuf_puts(&c, ".");
    }
    if (c.len) lo_sbuf_printf(out, "%s# %s", first ? "  " : " ", lo_sbuf_str(&c));
    lo_sbuf_free(&c);
}

static void yaml_struct(int shape, int ind, int first_inline, lo_sbuf *out, int *stack, int depth);

/* Writes the value part after "Key:" for member m, then its nested lines. */
static void yaml_member(const lo_cli_member *m, int ind, int first, lo_sbuf *out, int *stack, int depth) {
    const lo_cli_shape *sh = &lo_cli_shapes[m->shape];
    lo_sbuf_printf(out, "%s:", m->name);
    switch (sh->type) {
    case LO_CLI_STRUCTURE:
        yaml_comment(out, m, first);
        lo_sbuf_puts(out, "\n");
        if (on_stack(stack, depth, m->shape) == 0) yaml_struct(m->shape, ind + 2, 0, out, stack, depth);
        return;
    case LO_CLI_LIST: {
        const lo_cli_shape *el = &lo_cli_shapes[sh->member];
        yaml_comment(out, m, first);
        lo_sbuf_puts(out, "\n");
        indent(out, ind);
        lo_sbuf_puts(out, "- ");
        if (el->type == LO_CLI_STRUCTURE)
            yaml_struct(sh->member, ind + 2, 1, out, stack, depth);
        else
            lo_sbuf_printf(out, "%s\n", yaml_scalar(el));
        return;
    }
    case LO_CLI_MAP:
        yaml_comment(out, m, first);
        lo_sbuf_puts(out, "\n");
        indent(out, ind + 2);
        lo_sbuf_printf(out, "KeyName: %s\n", yaml_scalar(&lo_cli_shapes[sh->value]));
        return;
    default:
        lo_sbuf_printf(out, " %s", yaml_scalar(sh));
        yaml_comment(out, m, first);
        lo_sbuf_puts(out, "\n");
    }
}

/* first_inline: the first key continues a "- " already written */
static void yaml_struct(int shape, int ind, int first_inline, lo_sbuf *out, int *stack, int depth) {
    const lo_cli_shape *sh = &lo_cli_shapes[shape];
    if (depth >= 64) return;
    stack[depth++] = shape;
    for (int i = 0; i < sh->n_members; i++) {
        if (!(i == 0 && first_inline)) indent(out, ind);
        yaml_member(&sh->members[i], ind, i == 0, out, stack, depth);
    }
}

void lo_cli_skeleton_yaml(int shape, lo_sbuf *out) {
    int stack[64];
    if (shape < 0 || lo_cli_shapes[shape].n_members == 0) {
        lo_sbuf_puts(out, "{}\n");
        return;
    }
    yaml_struct(shape, 0, 0, out, stack, 0);
}
