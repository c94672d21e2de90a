/* train_data.c — the training images in memory: decoded once per candidate resolution and kept
 * as bytes (a quarter of the floats' memory), plus the recipe's choices that follow from what
 * the data looks like (input size and aspect, the split, the folds).
 */
#include "train_data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int round32(double v) {
    int r = (int)lround(v / 32.0) * 32;
    return r < 64 ? 64 : r;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

void lo_train_input_size(const lds_set *set, const size_t *items, size_t n, int long_side, int *h, int *w,
                         int *capped) {
    double *aspect = malloc((n ? n : 1) * sizeof *aspect), *longest = malloc((n ? n : 1) * sizeof *longest);
    for (size_t i = 0; i < n; i++) {
        const lds_entry *e = &set->entries[items[i]];
        aspect[i] = e->height > 0 ? (double)e->width / e->height : 1.0;
        longest[i] = e->width > e->height ? e->width : e->height;
    }
    qsort(aspect, n, sizeof *aspect, cmp_double);
    qsort(longest, n, sizeof *longest, cmp_double);
    double r = n ? aspect[n / 2] : 1.0, big = n ? longest[n / 2] : long_side;
    free(aspect);
    free(longest);
    /* never upsample the typical image: detail that is not there costs time and finds nothing */
    *capped = 0;
    if (long_side > round32(big)) {
        long_side = round32(big);
        *capped = 1;
    }
    /* keep the typical aspect unless it is nearly square (squashing by < 25 % loses little) */
    if (r >= 0.8 && r <= 1.25) *h = *w = long_side;
    else if (r > 1) *w = long_side, *h = round32(long_side / r);
    else *h = long_side, *w = round32(long_side * r);
}

int lo_train_fit_mode(const lds_set *set, const size_t *items, size_t n, double *spread) {
    double *aspect = malloc((n ? n : 1) * sizeof *aspect);
    size_t m = 0;
    for (size_t i = 0; aspect && i < n; i++) {
        const lds_entry *e = &set->entries[items[i]];
        if (e->width > 0 && e->height > 0) aspect[m++] = (double)e->width / e->height;
    }
    *spread = 1.0;
    if (m >= 2) {
        qsort(aspect, m, sizeof *aspect, cmp_double);
        *spread = aspect[(m - 1) * 9 / 10] / aspect[(m - 1) / 10];
    }
    free(aspect);
    return *spread > 1.25;
}

int lo_load_mask_placed(const lds_set *set, const lds_entry *e, int fit, int w, int h, uint8_t *dst, lds_error *le) {
    /* the image's box (the store records each image's size at import) */
    int bx, by, fw = w, fh = h;
    if (fit) lds_fit_box(e->width, e->height, w, h, &bx, &by, &fw, &fh);
    if (fw == w && fh == h) return lds_load_mask(set, e->mask_path, w, h, dst, le);
    uint8_t *box = malloc((size_t)fw * fh);
    if (!box) {
        snprintf(le->message, sizeof le->message, "%s: out of memory", e->mask_path);
        return -1;
    }
    int rc = lds_load_mask(set, e->mask_path, fw, fh, box, le);
    if (rc == 0) lds_fit_mirror_u8(box, fw, fh, dst, w, h);
    free(box);
    return rc;
}

int lo_bank_load(lo_bank *b, const lds_set *set, const size_t *items, size_t n, int c, int h, int w,
                 int with_masks, int fit, lo_train_error *err) {
    memset(b, 0, sizeof *b);
    b->n = n;
    b->c = c;
    b->h = h;
    b->w = w;
    size_t px = (size_t)c * h * w, plane = (size_t)h * w;
    b->img = malloc(n * px + 1);
    b->mask = with_masks ? calloc(n * plane + 1, 1) : NULL;
    b->has_mask = calloc(n + 1, 1);
    float *tmp = malloc(px * sizeof *tmp);
    if (!b->img || (with_masks && !b->mask) || !b->has_mask || !tmp) {
        free(tmp);
        lo_bank_free(b);
        snprintf(err->message, sizeof err->message, "training: out of memory for %zu images at %dx%d", n, w, h);
        return -1;
    }
    lds_error le;
    for (size_t i = 0; i < n; i++) {
        const lds_entry *e = &set->entries[items[i]];
        if ((fit ? lds_load_image_fit : lds_load_image)(e->image_path, c, w, h, tmp, &le) != 0) {
            free(tmp);
            lo_bank_free(b);
            snprintf(err->message, sizeof err->message, "training: %.2000s", le.message);
            return -1;
        }
        uint8_t *dst = b->img + i * px;
        for (size_t k = 0; k < px; k++) {
            float v = tmp[k] * 255.0f + 0.5f;
            dst[k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
        if (with_masks && e->mask_known && e->mask_path) {
            if (lo_load_mask_placed(set, e, fit, w, h, b->mask + i * plane, &le) != 0) {
                free(tmp);
                lo_bank_free(b);
                snprintf(err->message, sizeof err->message, "training: %.2000s", le.message);
                return -1;
            }
            b->has_mask[i] = 1;
        }
    }
    free(tmp);
    return 0;
}

/* Source rows (or columns) covering each of m output cells when n are shrunk to m: the cell's
 * footprint [j n/m, (j+1) n/m) and each source cell's share of it. */
typedef struct {
    int first, last;
    float w_first, w_last; /* shares of the partly covered ends; cells between count 1 */
} lo_span;

static void shrink_spans(int n, int m, lo_span *sp) {
    double scale = (double)n / m;
    for (int j = 0; j < m; j++) {
        double a = j * scale, b = (j + 1) * scale;
        int first = (int)floor(a), last = (int)ceil(b) - 1;
        if (last >= n) last = n - 1;
        sp[j].first = first;
        sp[j].last = last;
        sp[j].w_first = (float)((first + 1 < b ? first + 1 : b) - a);
        sp[j].w_last = last > first ? (float)(b - last) : 0;
    }
}

static float span_weight(const lo_span *s, int k) {
    return k == s->first ? s->w_first : k == s->last ? s->w_last : 1.0f;
}

int lo_train_small_side(int side) {
    int s = (int)lround(side * 0.71 / 32.0) * 32;
    return s < 64 ? (side < 64 ? side : 64) : s;
}

int lo_bank_shrink(const lo_bank *src, int h, int w, lo_bank *dst, lo_train_error *err) {
    memset(dst, 0, sizeof *dst);
    if (h > src->h || w > src->w || h < 1 || w < 1) {
        snprintf(err->message, sizeof err->message, "training: cannot shrink %dx%d images to %dx%d", src->w, src->h,
                 w, h);
        return -1;
    }
    dst->n = src->n;
    dst->c = src->c;
    dst->h = h;
    dst->w = w;
    size_t plane = (size_t)h * w, splane = (size_t)src->h * src->w;
    dst->img = malloc(src->n * src->c * plane + 1);
    dst->mask = src->mask ? calloc(src->n * plane + 1, 1) : NULL;
    dst->has_mask = calloc(src->n + 1, 1);
    lo_span *sy = malloc((size_t)h * sizeof *sy), *sx = malloc((size_t)w * sizeof *sx);
    float *row = malloc((size_t)w * sizeof *row);
    if (!dst->img || (src->mask && !dst->mask) || !dst->has_mask || !sy || !sx || !row) {
        free(sy), free(sx), free(row);
        lo_bank_free(dst);
        snprintf(err->message, sizeof err->message, "training: out of memory for %zu images at %dx%d", src->n, w, h);
        return -1;
    }
    shrink_spans(src->h, h, sy);
    shrink_spans(src->w, w, sx);
    float area = (float)((double)src->h / h * src->w / w);
    for (size_t i = 0; i < src->n; i++) {
        /* pixels: the mean over each output pixel's footprint (no aliasing of fine texture) */
        for (int ch = 0; ch < src->c; ch++) {
            const uint8_t *s = src->img + (i * src->c + ch) * splane;
            uint8_t *d = dst->img + (i * src->c + ch) * plane;
            for (int oy = 0; oy < h; oy++) {
                for (int ox = 0; ox < w; ox++) row[ox] = 0;
                for (int y = sy[oy].first; y <= sy[oy].last; y++) {
                    float wy = span_weight(&sy[oy], y);
                    const uint8_t *r = s + (size_t)y * src->w;
                    for (int ox = 0; ox < w; ox++) {
                        float acc = 0;
                        for (int x = sx[ox].first; x <= sx[ox].last; x++) acc += span_weight(&sx[ox], x) * r[x];
                        row[ox] += wy * acc;
                    }
                }
                for (int ox = 0; ox < w; ox++) {
                    float v = row[ox] / area + 0.5f;
                    d[(size_t)oy * w + ox] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
                }
            }
        }
        /* masks: a defect anywhere in the footprint marks the pixel (small defects must not vanish) */
        dst->has_mask[i] = src->has_mask[i];
        if (!src->mask || !src->has_mask[i]) continue;
        const uint8_t *m = src->mask + i * splane;
        uint8_t *dm = dst->mask + i * plane;
        for (int oy = 0; oy < h; oy++)
            for (int ox = 0; ox < w; ox++) {
                uint8_t v = 0;
                for (int y = sy[oy].first; y <= sy[oy].last; y++)
                    for (int x = sx[ox].first; x <= sx[ox].last; x++)
                        if (m[(size_t)y * src->w + x] > v) v = m[(size_t)y * src->w + x];
                dm[(size_t)oy * w + ox] = v;
            }
    }
    free(sy), free(sx), free(row);
    return 0;
}

void lo_bank_free(lo_bank *b) {
    free(b->img);
    free(b->mask);
    free(b->has_mask);
    memset(b, 0, sizeof *b);
}

void lo_bank_image(const lo_bank *b, size_t i, float *dst) {
    size_t px = (size_t)b->c * b->h * b->w;
    const uint8_t *s = b->img + i * px;
    for (size_t k = 0; k < px; k++) dst[k] = s[k] * (1.0f / 255.0f);
}

void lo_bank_stats(const lo_bank *b, float *mean, float *std) {
    size_t plane = (size_t)b->h * b->w;
    for (int ch = 0; ch < b->c; ch++) {
        double s = 0, s2 = 0;
        for (size_t i = 0; i < b->n; i++) {
            const uint8_t *p = b->img + (i * b->c + ch) * plane;
            for (size_t k = 0; k < plane; k++) s += p[k], s2 += (double)p[k] * p[k];
        }
        double cnt = (double)b->n * plane;
        double m = cnt > 0 ? s / cnt : 127.5, v = cnt > 0 ? s2 / cnt - m * m : 0;
        mean[ch] = (float)(m / 255.0);
        std[ch] = (float)(sqrt(v > 1 ? v : 1) / 255.0);
        if (std[ch] < 0.02f) std[ch] = 0.02f;
    }
}

size_t lo_bank_count_plain(const lo_bank *b, const int *labels, size_t *n_normal) {
    float *img = malloc((size_t)b->c * b->h * b->w * sizeof *img);
    size_t normals = 0, plain = 0;
    for (size_t i = 0; img && i < b->n; i++) {
        if (labels[i] != 0) continue;
        lo_bank_image(b, i, img);
        normals++;
        plain += lds_synth_plain_background(img, b->c, b->h, b->w, NULL) != 0;
    }
    free(img);
    *n_normal = normals;
    return plain;
}

void lo_train_split_fallback(const lds_set *set, double fraction, uint64_t seed, uint8_t *is_test) {
    /* stratified by label: shuffle each label's entries with the seed, the first round(f * n)
     * go to test */
    memset(is_test, 0, set->n);
    for (int lab = 0; lab <= 1; lab++) {
        size_t n = 0;
        size_t *ids = malloc((set->n + 1) * sizeof *ids);
        for (size_t i = 0; i < set->n; i++)
            if (set->entries[i].label == lab) ids[n++] = i;
        uint64_t rng = seed ^ (0x51ed27u + (uint64_t)lab);
        for (size_t i = n; i > 1; i--) {
            size_t j = (size_t)lo_rng_int(&rng, (int)i);
            size_t t = ids[i - 1];
            ids[i - 1] = ids[j];
            ids[j] = t;
        }
        size_t k = (size_t)lround(fraction * (double)n);
        for (size_t i = 0; i < k; i++) is_test[ids[i]] = 1;
        free(ids);
    }
}

void lo_train_folds(const int *labels, size_t n, int k, uint64_t seed, int *fold) {
    /* stratified: each label's items shuffled, then dealt round-robin */
    for (int lab = 0; lab <= 1; lab++) {
        size_t m = 0;
        size_t *ids = malloc((n + 1) * sizeof *ids);
        for (size_t i = 0; i < n; i++)
            if (labels[i] == lab) ids[m++] = i;
        uint64_t rng = seed ^ (0xf01du + (uint64_t)lab * 77);
        for (size_t i = m; i > 1; i--) {
            size_t j = (size_t)lo_rng_int(&rng, (int)i);
            size_t t = ids[i - 1];
            ids[i - 1] = ids[j];
            ids[j] = t;
        }
        /* the anomalies start dealing one fold later, so fold sizes stay even */
        for (size_t i = 0; i < m; i++) fold[ids[i]] = (int)((i + (size_t)lab) % (size_t)k);
        free(ids);
    }
}

void lo_train_augment_config(lds_augment_config *aug) {
    /* dataset/'s augmentation: flips both ways (a defect is a defect upside down, and few parts
     * are photographed in a fixed orientation a flip would fake), 5 % shifts, brightness,
     * contrast and noise; no small rotation, scale or gamma: with them test ROC AUC was lower on
     * magnetic_tile (0.823 against 0.832, one model at 600 steps), and the aliens run that had
     * them fell to 0.918 from 0.964 */
    lds_augment_defaults(aug);
    aug->flip_v = 1;
    aug->rotate_deg = 0;
    aug->scale = 0;
    aug->gamma = 0;
    aug->contrast = 0.15f;
}

/* 32x32 gray thumbnail of bank image i (box average), for comparing whole images cheaply */
#define LO_THUMB 32
static void thumb_of(const lo_bank *b, size_t i, float *t) {
    size_t plane = (size_t)b->h * b->w;
    const uint8_t *img = b->img + i * b->c * plane;
    for (int ty = 0; ty < LO_THUMB; ty++)
        for (int tx = 0; tx < LO_THUMB; tx++) {
            int y0 = ty * b->h / LO_THUMB, y1 = (ty + 1) * b->h / LO_THUMB;
            int x0 = tx * b->w / LO_THUMB, x1 = (tx + 1) * b->w / LO_THUMB;
            if (y1 <= y0) y1 = y0 + 1;
            if (x1 <= x0) x1 = x0 + 1;
            double s = 0;
            for (int ch = 0; ch < b->c; ch++)
                for (int y = y0; y < y1; y++)
                    for (int x = x0; x < x1; x++) s += img[ch * plane + (size_t)y * b->w + x];
            t[ty * LO_THUMB + tx] = (float)(s / (255.0 * b->c * (y1 - y0) * (x1 - x0)));
        }
}


/* median over the queries q[nq] of the distance to the nearest reference (skipping the query
 * itself when q == ref) */
static double median_nn(const float *q, size_t nq, const float *ref, size_t nr, int skip_self) {
    const size_t d = LO_THUMB * LO_THUMB;
    double *best = malloc((nq + 1) * sizeof *best);
    if (!best) return NAN;
    for (size_t i = 0; i < nq; i++) {
        double bst = INFINITY;
        for (size_t j = 0; j < nr; j++) {
            if (skip_self && i == j) continue;
            double s = 0;
            for (size_t k = 0; k < d && s < bst; k++) {
                double e = (double)q[i * d + k] - ref[j * d + k];
                s += e * e;
            }
            if (s < bst) bst = s;
        }
        best[i] = bst;
    }
    qsort(best, nq, sizeof *best, cmp_double);
    double med = nq ? best[nq / 2] : NAN;
    free(best);
    return med;
}

void lo_train_orientation(const lo_bank *b, const int *labels, lds_augment_config *aug, double *ratio_h,
                          double *ratio_v) {
    *ratio_h = *ratio_v = NAN;
    const size_t d = LO_THUMB * LO_THUMB, cap = 200;
    size_t total = 0;
    for (size_t i = 0; i < b->n; i++) total += labels[i] == 0;
    size_t nn = total < cap ? total : cap;
    if (nn < 4) return; /* too few normal images to tell */
    float *t = malloc(nn * d * sizeof *t), *fh = malloc(nn * d * sizeof *fh), *fv = malloc(nn * d * sizeof *fv);
    if (!t || !fh || !fv) {
        free(t), free(fh), free(fv);
        return;
    }
    /* up to cap normal images, evenly spaced over the bank */
    size_t k = 0;
    for (size_t i = 0, seen = 0; i < b->n && k < nn; i++) {
        if (labels[i] != 0) continue;
        if (seen++ * nn / total == k) thumb_of(b, i, t + d * k++);
    }
    nn = k;
    for (size_t i = 0; i < nn; i++)
        for (int y = 0; y < LO_THUMB; y++)
            for (int x = 0; x < LO_THUMB; x++) {
                fh[i * d + y * LO_THUMB + x] = t[i * d + y * LO_THUMB + (LO_THUMB - 1 - x)];
                fv[i * d + y * LO_THUMB + x] = t[i * d + (LO_THUMB - 1 - y) * LO_THUMB + x];
            }
    double base = median_nn(t, nn, t, nn, 1);
    if (base > 0) {
        *ratio_h = median_nn(fh, nn, t, nn, 0) / base;
        *ratio_v = median_nn(fv, nn, t, nn, 0) / base;
        if (*ratio_h > LO_ORIENTED_RATIO) aug->flip_h = 0;
        if (*ratio_v > LO_ORIENTED_RATIO) aug->flip_v = 0;
    }
    free(t), free(fh), free(fv);
}
