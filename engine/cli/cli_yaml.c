/* cli_yaml.c — `--cli-input-yaml`: one YAML document (libyaml) into the same cJSON shape
 * `--cli-input-json` gives. Plain scalars resolve as YAML 1.2 core (what the AWS CLI's ruamel
 * does): null, true/false, integers, floats; quoted scalars are strings. */
#include "cli_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Aliases can make a small document expand exponentially; cap the nodes we build. */
#define YAML_NODE_BUDGET 1000000

static int is_null(const char *s) {
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static int parse_int(const char *s, double *out) {
    const char *p = s;
    int base = 10;
    if (*p == '+' || *p == '-') p++;
    if (p[0] == '0' && p[1] == 'x') base = 16, p += 2;
    else if (p[0] == '0' && p[1] == 'o') base = 8, p += 2;
    if (!*p) return 0;
    for (const char *q = p; *q; q++) {
        int ok = base == 16 ? !!strchr("0123456789abcdefABCDEF", *q)
                 : base == 8 ? (*q >= '0' && *q <= '7') : (*q >= '0' && *q <= '9');
        if (!ok) return 0;
    }
    if (base != 10 && (s[0] == '+' || s[0] == '-')) return 0;
    errno = 0;
    double v = (double)strtoll(p, NULL, base);
    if (errno) v = strtod(p, NULL);
    *out = s[0] == '-' ? -v : v;
    return 1;
}

static int parse_float(const char *s, double *out) {
    const char *p = s;
    if (*p == '+' || *p == '-') p++;
    if (!strcmp(p, ".inf") || !strcmp(p, ".Inf") || !strcmp(p, ".INF")) {
        *out = s[0] == '-' ? -INFINITY : INFINITY;
        return 1;
    }
    if (!strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN")) {
        *out = NAN;
        return 1;
    }
    /* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
    const char *q = p;
    int digits = 0;
    while (*q >= '0' && *q <= '9') q++, digits++;
    if (*q == '.') {
        q++;
        while (*q >= '0' && *q <= '9') q++, digits++;
    }
    if (!digits) return 0;
    if (*q == 'e' || *q == 'E') {
        q++;
        if (*q == '+' || *q == '-') q++;
        if (!(*q >= '0' && *q <= '9')) return 0;
        while (*q >= '0' && *q <= '9') q++;
    }
    if (*q) return 0;
    *out = strtod(s, NULL);
    return 1;
}

static cJSON *scalar_to_json(const yaml_node_t *n) {
    const char *s = (const char *)n->data.scalar.value;
    const char *tag = (const char *)n->tag;
    /* libyaml gives untagged plain scalars the default str tag, so only style and !!binary count */
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || (tag && strcmp(tag, "tag:yaml.org,2002:binary") == 0))
        return cJSON_CreateString(s);
    if (is_null(s)) return cJSON_CreateNull();
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) return cJSON_CreateTrue();
    if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) return cJSON_CreateFalse();
    double d;
    if (parse_int(s, &d)) return cJSON_CreateNumber(d);
    if (parse_float(s, &d)) {
        return cJSON_CreateNumber(d);
    }
    return cJSON_CreateString(s);
}

static cJSON *node_to_json(yaml_document_t *doc, yaml_node_t *n, int depth, long *budget, lo_sbuf *err) {
    if (!n) return cJSON_CreateNull();
    if (--*budget < 0 || depth > 200) {
        lo_sbuf_puts(err, "YAML document too large or too deeply nested (aliases expand too far)");
        return NULL;
    }
    if (n->type == YAML_SCALAR_NODE) return scalar_to_json(n);
    if (n->type == YAML_SEQUENCE_NODE) {
        cJSON *a = cJSON_CreateArray();
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
            cJSON *v = node_to_json(doc, yaml_document_get_node(doc, *it), depth + 1, budget, err);
            if (!v) {
                cJSON_Delete(a);
                return NULL;
            }
            cJSON_AddItemToArray(a, v);
        }
        return a;
    }
    if (n->type == YAML_MAPPING_NODE) {
        cJSON *o = cJSON_CreateObject();
        for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
            yaml_node_t *k = yaml_document_get_node(doc, pr->key);
            if (!k || k->type != YAML_SCALAR_NODE) {
                lo_sbuf_printf(err, "YAML mapping keys must be scalars (line %lu)",
                               k ? (unsigned long)k->start_mark.line + 1 : 0ul);
                cJSON_Delete(o);
                return NULL;
            }
            const char *key = (const char *)k->data.scalar.value;
            cJSON *v = node_to_json(doc, yaml_document_get_node(doc, pr->value), depth + 1, budget, err);
            if (!v) {
                cJSON_Delete(o);
                return NULL;
            }
            if (cJSON_GetObjectItemCaseSensitive(o, key))
                cJSON_ReplaceItemInObjectCaseSensitive(o, key, v);
            else
                cJSON_AddItemToObject(o, key, v);
        }
        return o;
    }
    return cJSON_CreateNull();
}

cJSON *lo_cli_yaml_parse(const char *text, size_t len, lo_sbuf *err) {
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        lo_sbuf_puts(err, "cannot initialise the YAML parser");
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        lo_sbuf_printf(err, "%s at line %lu, column %lu", parser.problem ? parser.problem : "invalid YAML",
                       (unsigned long)parser.problem_mark.line + 1, (unsigned long)parser.problem_mark.column + 1);
        if (parser.context) lo_sbuf_printf(err, " (%s)", parser.context);
        yaml_parser_delete(&parser);
        return NULL;
    }
    long budget = YAML_NODE_BUDGET;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    cJSON *out = root ? node_to_json(&doc, root, 0, &budget, err) : cJSON_CreateObject();
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return out;
}
