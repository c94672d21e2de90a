/* mask.c — segmentation masks: a user's colour mask becomes a PNG of class indices at import
 * (so entries with different colour maps share one class list), and is read back resized with
 * nearest neighbour for training. */
#include "lds_internal.h"

#include <stdlib.h>
#include <string.h>

uint8_t *lds_mask_to_indices(const uint8_t *png, size_t len, const char *what, int want_w, int want_h,
                             const lds_color_map *cmap, const int *class_of, size_t *n_defect_px,
                             int *dominant_class, lds_error *err)
{
    if (lds_check_mask_header(png, len, what, want_w, want_h, err) != 0) return NULL;
    int w, h;
    uint8_t *rgb = lds_decode8(png, len, what, 3, &w, &h, NULL, err);
    if (!rgb) return NULL;
    size_t n = (size_t)w * (size_t)h;
    uint8_t *idx = malloc(n);
    if (!idx) {
        free(rgb);
        lds_set_error(err, "%s: out of memory", what);
        return NULL;
    }
    size_t counts[LDS_MAX_CLASSES] = {0};
    uint32_t last_col = 0xffffffffu;
    uint8_t last_idx = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = rgb + 3 * i;
        uint32_t col = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
        if (col != last_col) {
            int found = -1;
            if (!memcmp(p, cmap->background, 3)) found = 0;
            for (int k = 0; found < 0 && k < cmap->n; k++)
                if (!memcmp(p, cmap->defects[k].rgb, 3)) found = class_of[k];
            if (found < 0) {
                char known[600];
                int off = snprintf(known, sizeof known, "background #%02x%02x%02x", cmap->background[0],
                                   cmap->background[1], cmap->background[2]);
                for (int k = 0; k < cmap->n && off > 0 && (size_t)off < sizeof known; k++)
                    off += snprintf(known + off, sizeof known - (size_t)off, ", %s #%02x%02x%02x",
                                    cmap->defects[k].name, cmap->defects[k].rgb[0], cmap->defects[k].rgb[1],
                                    cmap->defects[k].rgb[2]);
                lds_set_error(err, "%s: pixel (%zu,%zu) has colour #%02x%02x%02x, which is not in the colour map (%s)",
                              what, i % (size_t)w, i / (size_t)w, p[0], p[1], p[2], known);
                free(rgb);
                free(idx);
                return NULL;
            }
            last_col = col;
            last_idx = (uint8_t)found;
        }
        idx[i] = last_idx;
        counts[last_idx]++;
    }
    free(rgb);
    size_t defect = 0;
    int dom = 0;
    for (int k = 1; k < LDS_MAX_CLASSES; k++) {
        defect += counts[k];
        if (counts[k] > counts[dom] || (dom == 0 && counts[k] > 0)) dom = k;
    }
    if (n_defect_px) *n_defect_px = defect;
    if (dominant_class) *dominant_class = defect ? dom : 0;
    return idx;
}

int lds_load_mask(const lds_set *set, const char *path, int out_w, int out_h, uint8_t *dst, lds_error *err)
{
    if (!path) {
        lds_set_error(err, "lds_load_mask: no mask path");
        return -1;
    }
    if (out_w < 1 || out_h < 1) {
        lds_set_error(err, "%s: output size %dx%d out of range", path, out_w, out_h);
        return -1;
    }
    size_t len;
    uint8_t *data = lds_read_file(path, LDS_MAX_BYTES, &len, err);
    if (!data) return -1;
    int w, h;
    uint8_t *idx = lds_decode8(data, len, path, 1, &w, &h, NULL, err);
    free(data);
    if (!idx) return -1;
    int n_classes = set ? set->n_classes : LDS_MAX_CLASSES;
    for (size_t i = 0; i < (size_t)w * (size_t)h; i++) {
        if (idx[i] >= n_classes) {
            lds_set_error(err, "%s: class index %d at pixel %zu but the dataset has %d classes", path, idx[i], i,
                          n_classes);
            free(idx);
            return -1;
        }
    }
    lds_resize_nearest_u8(idx, w, h, dst, out_w, out_h);
    free(idx);
    return 0;
}
