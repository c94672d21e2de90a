/* manifest_line.c — reads one SageMaker Ground Truth JSON line as Lookout for Vision did: the
 * label comes from the attribute whose -metadata is an image classification (class-name
 * "normal"/"anomaly"; anything else leaves the image unlabeled), the mask from the attribute
 * whose -metadata carries an internal-color-map. Both colour-map forms are accepted: the
 * documented one (entry "0" = BACKGROUND, #ffffff) and AWS's getting-started one (no
 * BACKGROUND entry, black background). */
#include "lds_internal.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int parse_hex_color(const char *s, uint8_t rgb[3])
{
    if (!s || s[0] != '#' || strlen(s) != 7) return -1;
    for (int i = 1; i < 7; i++)
        if (!isxdigit((unsigned char)s[i])) return -1;
    unsigned v = (unsigned)strtoul(s + 1, NULL, 16);
    rgb[0] = (uint8_t)(v >> 16);
    rgb[1] = (uint8_t)(v >> 8);
    rgb[2] = (uint8_t)v;
    return 0;
}

static int parse_color_map(const cJSON *map, const char *where, const char *attr, lds_color_map *cm,
                           lds_error *err)
{
    memset(cm, 0, sizeof *cm);
    if (!cJSON_IsObject(map)) {
        lds_set_error(err, "%s: %s.internal-color-map must be an object", where, attr);
        return -1;
    }
    int have_bg = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, map)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "class-name");
        const cJSON *hex = cJSON_GetObjectItemCaseSensitive(e, "hex-color");
        if (!cJSON_IsString(name) || !name->valuestring[0]) {
            lds_set_error(err, "%s: %s.internal-color-map[\"%s\"] needs a string class-name", where, attr,
                          e->string);
            return -1;
        }
        uint8_t rgb[3];
        if (!cJSON_IsString(hex) || parse_hex_color(hex->valuestring, rgb) != 0) {
            lds_set_error(err, "%s: %s.internal-color-map[\"%s\"].hex-color must be \"#rrggbb\"", where, attr,
                          e->string);
            return -1;
        }
        if (strlen(name->valuestring) >= sizeof cm->defects[0].name) {
            lds_set_error(err, "%s: class-name '%.80s...' is longer than %zu characters", where,
                          name->valuestring, sizeof cm->defects[0].name - 1);
            return -1;
        }
        if (!strcasecmp(name->valuestring, "BACKGROUND")) {
            if (have_bg) {
                lds_set_error(err, "%s: %s.internal-color-map has two BACKGROUND entries", where, attr);
                return -1;
            }
            have_bg = 1;
            memcpy(cm->background, rgb, 3);
            continue;
        }
        if (cm->n >= LDS_MAX_CLASSES - 1) {
            lds_set_error(err, "%s: more than %d defect classes in %s.internal-color-map", where,
                          LDS_MAX_CLASSES - 1, attr);
            return -1;
        }
        for (int k = 0; k < cm->n; k++) {
            if (!strcmp(cm->defects[k].name, name->valuestring)) {
                lds_set_error(err, "%s: class-name '%s' appears twice in %s.internal-color-map", where,
                              name->valuestring, attr);
                return -1;
            }
        }
        strcpy(cm->defects[cm->n].name, name->valuestring);
        memcpy(cm->defects[cm->n].rgb, rgb, 3);
        cm->n++;
    }
    if (!have_bg) memset(cm->background, 0, 3); /* AWS's own sample data: black background */
    for (int k = 0; k < cm->n; k++) {
        if (!memcmp(cm->defects[k].rgb, cm->background, 3)) {
            lds_set_error(err, "%s: class '%s' uses the background colour #%02x%02x%02x", where,
                          cm->defects[k].name, cm->background[0], cm->background[1], cm->background[2]);
            return -1;
        }
        for (int j = 0; j < k; j++)
            if (!memcmp(cm->defects[k].rgb, cm->defects[j].rgb, 3)) {
                lds_set_error(err, "%s: classes '%s' and '%s' share the colour #%02x%02x%02x", where,
                              cm->defects[j].name, cm->defects[k].name, cm->defects[k].rgb[0],
                              cm->defects[k].rgb[1], cm->defects[k].rgb[2]);
                return -1;
            }
    }
    return 0;
}

/* Length of the UTF-8 sequence at s (at most n bytes), or 0 when it is not valid UTF-8
 * (overlong forms, surrogates and code points past U+10FFFF included). */
static size_t utf8_seq(const uint8_t *s, size_t n)
{
    uint8_t c = s[0];
    if (c < 0x80) return 1;
    size_t k;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) k = 2, cp = c & 0x1Fu;
    else if (c >= 0xE0 && c <= 0xEF) k = 3, cp = c & 0x0Fu;
    else if (c >= 0xF0 && c <= 0xF4) k = 4, cp = c & 0x07u;
    else return 0;
    if (n < k) return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3Fu);
    }
    if ((k == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (k == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return k;
}

size_t lds_utf8_invalid_at(const char *s, size_t len)
{
    const uint8_t *u = (const uint8_t *)s;
    for (size_t i = 0; i < len;) {
        size_t k = utf8_seq(u + i, len - i);
        if (!k) return i;
        i += k;
    }
    return (size_t)-1;
}

/* Checks what cJSON would accept silently or report vaguely: the line's length, UTF-8 (Ground
 * Truth manifests are UTF-8), nesting depth (cJSON's own limit is 1000 and says only "parse
 * error"), and \u0000 escapes, which cJSON would cut a string at: "s3://b/a\u0000/../x" must
 * not quietly become "s3://b/a". */
static int line_prescan(const char *text, size_t len, const char *where, lds_error *err)
{
    if (len > LDS_MAX_LINE_BYTES) {
        lds_set_error(err, "%s: line is %zu bytes, over the limit of %u bytes per manifest line", where, len,
                      LDS_MAX_LINE_BYTES);
        return -1;
    }
    size_t bad = lds_utf8_invalid_at(text, len);
    if (bad != (size_t)-1) {
        lds_set_error(err, "%s: byte 0x%02x at column %zu is not valid UTF-8 (manifests must be UTF-8)", where,
                      (unsigned)(uint8_t)text[bad], bad + 1);
        return -1;
    }
    int depth = 0, in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == 0) {
            lds_set_error(err, "%s: a NUL byte at column %zu; names and refs may not contain NUL", where, i + 1);
            return -1;
        }
        if (in_str) {
            if (c == '\\' && i + 1 < len) {
                if (text[i + 1] == 'u' && i + 5 < len && !strncmp(text + i + 2, "0000", 4)) {
                    lds_set_error(err, "%s: a NUL character (\\u0000) at column %zu; names and refs may not "
                                       "contain NUL",
                                  where, i + 1);
                    return -1;
                }
                i++;
            } else if (c == '"') {
                in_str = 0;
            }
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            if (++depth > LDS_MAX_JSON_DEPTH) {
                lds_set_error(err, "%s: JSON nested deeper than %d levels at column %zu (a Ground Truth line "
                                   "needs 4)",
                              where, LDS_MAX_JSON_DEPTH, i + 1);
                return -1;
            }
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return 0;
}

int lds_line_parse(const char *text, size_t len, const char *where, lds_line *out, lds_error *err)
{
    memset(out, 0, sizeof *out);
    out->label = -1;
    if (line_prescan(text, len, where, err) != 0) return -1;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        size_t col = end && end >= text ? (size_t)(end - text) + 1 : 0;
        lds_set_error(err, "%s: malformed JSON near column %zu", where, col);
        return -1;
    }
    /* Only whitespace may follow the object. */
    for (const char *p = end; p && p < text + len; p++) {
        if (!isspace((unsigned char)*p)) {
            lds_set_error(err, "%s: unexpected text after the JSON object at column %zu", where,
                          (size_t)(p - text) + 1);
            cJSON_Delete(root);
            return -1;
        }
    }
    if (!cJSON_IsObject(root)) {
        lds_set_error(err, "%s: a manifest line must be a JSON object", where);
        cJSON_Delete(root);
        return -1;
    }
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(root, "source-ref");
    if (!cJSON_IsString(src) || !src->valuestring[0]) {
        lds_set_error(err, "%s: missing or empty \"source-ref\" (a string)", where);
        cJSON_Delete(root);
        return -1;
    }
    out->source_ref = strdup(src->valuestring);
    const char *label_attr = NULL;
    const cJSON *item;
    cJSON_ArrayForEach(item, root)
    {
        const char *key = item->string;
        size_t kl = strlen(key);
        static const char suffix[] = "-metadata";
        if (kl <= sizeof suffix - 1 || strcmp(key + kl - (sizeof suffix - 1), suffix) != 0) continue;
        if (!cJSON_IsObject(item)) {
            lds_set_error(err, "%s: \"%s\" must be an object", where, key);
            goto fail;
        }
        size_t bl = kl - (sizeof suffix - 1);
        char attr[256];
        if (bl >= sizeof attr) continue;
        memcpy(attr, key, bl);
        attr[bl] = 0;
        const cJSON *cmap = cJSON_GetObjectItemCaseSensitive(item, "internal-color-map");
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(item, "type");
        const cJSON *cls = cJSON_GetObjectItemCaseSensitive(item, "class-name");
        if (cmap) {
            if (out->mask_ref) {
                lds_set_error(err, "%s: two segmentation attributes (\"%s\" is the second)", where, attr);
                goto fail;
            }
            const cJSON *ref = cJSON_GetObjectItemCaseSensitive(root, attr);
            if (!cJSON_IsString(ref) || !ref->valuestring[0]) {
                lds_set_error(err, "%s: \"%s\" has a colour map but \"%s\" is not a mask URI string", where, key,
                              attr);
                goto fail;
            }
            if (parse_color_map(cmap, where, key, &out->cmap, err) != 0) goto fail;
            out->mask_ref = strdup(ref->valuestring);
            continue;
        }
        int is_cls = cJSON_IsString(type) ? !strcmp(type->valuestring, "groundtruth/image-classification")
                                           : cls != NULL;
        if (!is_cls) continue;
        if (!cJSON_IsString(cls)) {
            lds_set_error(err, "%s: \"%s\" is an image classification without a string class-name", where,
                          key);
            goto fail;
        }
        int label = !strcmp(cls->valuestring, "normal") ? 0 : !strcmp(cls->valuestring, "anomaly") ? 1 : -1;
        if (label_attr && label != out->label) {
            lds_set_error(err, "%s: classification attributes disagree (\"%s\" and \"%s\")", where, label_attr,
                          key);
            goto fail;
        }
        label_attr = item->string;
        out->label = label;
    }
    cJSON_Delete(root);
    return 0;
fail:
    cJSON_Delete(root);
    lds_line_free(out);
    return -1;
}

void lds_line_free(lds_line *l)
{
    free(l->source_ref);
    free(l->mask_ref);
    l->source_ref = l->mask_ref = NULL;
}
