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

int lds_line_parse(const char *text, size_t len, const char *where, lds_line *out, lds_error *err)
{
    memset(out, 0, sizeof *out);
    out->label = -1;
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
