/* train_classes.c — Lookout's per-class mask colours as classes of a segmentation model.
 *
 * The binary path (the `map` output and the `score` pooled from it) decides whether a pixel or an
 * image is anomalous, exactly as for a one-class model. When the training masks hold two or more
 * defect classes, a class head is added to the architecture at train time: a 3x3 conv `cls`
 * reading what `map` reads, with one logit per defect class, listed as a third output. It is
 * trained by per-pixel softmax cross-entropy on the cells whose truth is a known defect class
 * (every other cell is ignored), and at inference it only names the class of the pixels the
 * binary path already painted as defect. The stored architecture JSON carries the layer, so the
 * model file needs no new field and a model without it (every one-class model, every file
 * written before) loads and paints as before.
 */
#include "train_internal.h"

#include "net/net.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lo_classes_in_masks(const uint8_t *mask, const uint8_t *has_mask, size_t n, size_t plane, int *max_class) {
    uint8_t seen[256] = {0};
    int count = 0;
    *max_class = 0;
    for (size_t i = 0; mask && has_mask && i < n; i++) {
        if (!has_mask[i]) continue;
        const uint8_t *m = mask + i * plane;
        for (size_t k = 0; k < plane; k++)
            if (m[k] && !seen[m[k]]) {
                seen[m[k]] = 1, count++;
                if (m[k] > *max_class) *max_class = m[k];
            }
    }
    return count;
}

/* The "input" the layer at index i reads: its own field, or the previous layer's name. */
static cJSON *layer_input_copy(const cJSON *layers, int i) {
    const cJSON *l = cJSON_GetArrayItem(layers, i);
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(l, "input");
    if (in) return cJSON_Duplicate(in, 1);
    if (i == 0) return cJSON_CreateString("input");
    const cJSON *prev = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(layers, i - 1), "name");
    return cJSON_IsString(prev) ? cJSON_CreateString(prev->valuestring) : NULL;
}

char *lo_arch_with_class_head(const char *arch_json, int k) {
    if (!arch_json || k < 2 || k > LO_MODEL_MAX_CLASSES - 1) return NULL;
    cJSON *root = cJSON_Parse(arch_json);
    if (!root) return NULL;
    char *out = NULL;
    cJSON *layers = cJSON_GetObjectItemCaseSensitive(root, "layers");
    cJSON *outputs = cJSON_GetObjectItemCaseSensitive(root, "outputs");
    /* only the map-and-score form the training code knows: ["map", "score"] */
    if (!cJSON_IsArray(layers) || !cJSON_IsArray(outputs) || cJSON_GetArraySize(outputs) != 2) goto done;
    const cJSON *o0 = cJSON_GetArrayItem(outputs, 0);
    if (!cJSON_IsString(o0)) goto done;
    int map_i = -1, n = cJSON_GetArraySize(layers);
    for (int i = 0; i < n; i++) {
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(layers, i), "name");
        if (!cJSON_IsString(nm)) continue;
        if (strcmp(nm->valuestring, LO_CLASS_HEAD_NAME) == 0) goto done; /* taken: no head */
        if (strcmp(nm->valuestring, o0->valuestring) == 0) map_i = i;
    }
    if (map_i < 0) goto done;
    const cJSON *map_type = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(layers, map_i), "type");
    if (!cJSON_IsString(map_type) || strcmp(map_type->valuestring, "conv") != 0) goto done;
    cJSON *in = layer_input_copy(layers, map_i);
    cJSON *l = cJSON_CreateObject();
    if (!in || !l) {
        cJSON_Delete(in);
        cJSON_Delete(l);
        goto done;
    }
    cJSON_AddStringToObject(l, "name", LO_CLASS_HEAD_NAME);
    cJSON_AddStringToObject(l, "type", "conv");
    cJSON_AddNumberToObject(l, "out", k);
    cJSON_AddNumberToObject(l, "kernel", 3);
    cJSON_AddNumberToObject(l, "stride", 1);
    cJSON_AddNumberToObject(l, "pad", 1);
    cJSON_AddBoolToObject(l, "bias", 1);
    cJSON_AddItemToObject(l, "input", in);
    /* last: the other layers keep their parameter offsets */
    cJSON_AddItemToArray(layers, l);
    cJSON_AddItemToArray(outputs, cJSON_CreateString(LO_CLASS_HEAD_NAME));
    out = cJSON_Print(root);
done:
    cJSON_Delete(root);
    return out;
}

int lo_net_class_count(const lo_net *net) {
    if (lo_net_output_count(net) != 3) return 0;
    int d[4];
    lo_net_output(net, 2, d);
    return d[1];
}

void lo_pool_class(const uint8_t *m, int h, int w, int mh, int mw, int k, uint8_t *dst) {
    int cnt[256];
    for (int y = 0; y < mh; y++) {
        int y0 = y * h / mh, y1 = (y + 1) * h / mh;
        for (int x = 0; x < mw; x++) {
            int x0 = x * w / mw, x1 = (x + 1) * w / mw, any = 0;
            memset(cnt, 0, sizeof(int) * (size_t)(k + 1));
            for (int yy = y0; yy < y1; yy++)
                for (int xx = x0; xx < x1; xx++) {
                    uint8_t v = m[(size_t)yy * w + xx];
                    if (v >= 1 && v <= k) cnt[v]++, any = 1;
                }
            uint8_t lab = 255;
            if (any) {
                int best = 1;
                for (int c = 2; c <= k; c++)
                    if (cnt[c] > cnt[best]) best = c; /* ties: the lower index */
                lab = (uint8_t)(best - 1);
            }
            dst[(size_t)y * mw + x] = lab;
        }
    }
}

void lo_classes_paint(const float *cls_logit, int k, int mh, int mw, int ow, int oh, uint8_t *mask) {
    size_t plane = (size_t)mh * mw;
    for (int y = 0; y < oh; y++) {
        /* bilinear on the class logits, centres aligned as lo_model_class_mask samples the map */
        float fy = ((float)y + 0.5f) * (float)mh / (float)oh - 0.5f;
        fy = fy < 0 ? 0 : fy > mh - 1 ? (float)(mh - 1) : fy;
        int y0 = (int)fy, y1 = y0 + 1 < mh ? y0 + 1 : y0;
        float b = fy - (float)y0;
        uint8_t *o = mask + (size_t)y * ow;
        for (int x = 0; x < ow; x++) {
            if (!o[x]) continue; /* only the binary path's defect pixels get a class */
            float fx = ((float)x + 0.5f) * (float)mw / (float)ow - 0.5f;
            fx = fx < 0 ? 0 : fx > mw - 1 ? (float)(mw - 1) : fx;
            int x0 = (int)fx, x1 = x0 + 1 < mw ? x0 + 1 : x0;
            float a = fx - (float)x0;
            int best = 0;
            float best_v = -INFINITY;
            for (int c = 0; c < k; c++) {
                const float *p = cls_logit + (size_t)c * plane;
                const float *r0 = p + (size_t)y0 * mw, *r1 = p + (size_t)y1 * mw;
                float top = r0[x0] * (1 - a) + r0[x1] * a, bot = r1[x0] * (1 - a) + r1[x1] * a;
                float v = top * (1 - b) + bot * b;
                if (v > best_v) best_v = v, best = c;
            }
            o[x] = (uint8_t)(best + 1);
        }
    }
}
