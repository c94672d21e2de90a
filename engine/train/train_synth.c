/* train_synth.c — augmentation and synthetic defects for training.
 *
 * Synthetic defects are what lets a project with no (or few) defect photos train: the network
 * learns "normal" as everything that is not a local disturbance. Four kinds, all local:
 * cut-paste of a patch (foreign texture), a scar (thin line), an erased patch filled with the
 * background colour (a missing piece), and a smooth blotch (stain, uneven surface). Sizes are
 * log-uniform from tiny to a fifth of the side, because real defects span that range.
 */
#include "train_internal.h"

#include <math.h>
#include <string.h>

static float clampf(float x, float lo, float hi) { return x < lo ? lo : x > hi ? hi : x; }

void lo_train_augment(float *img, uint8_t *mask, int c, int h, int w, const lo_augment_config *cfg,
                      float *scratch, uint64_t *rng) {
    size_t plane = (size_t)h * w;
    int fh = cfg->flip_h && (lo_rng_next(rng) & 1);
    int fv = cfg->flip_v && (lo_rng_next(rng) & 1);
    int dx = (int)lrint((lo_rng_uniform(rng) * 2 - 1) * cfg->shift * w);
    int dy = (int)lrint((lo_rng_uniform(rng) * 2 - 1) * cfg->shift * h);
    if (fh || fv || dx || dy) {
        /* one resampling pass: output (y, x) reads the flipped source at (y - dy, x - dx),
         * clamped to the border (replicate: no artificial black edges that look like defects) */
        for (int ch = 0; ch < c; ch++) {
            float *src = img + ch * plane;
            memcpy(scratch, src, plane * sizeof *src);
            for (int y = 0; y < h; y++) {
                int sy = y - dy;
                sy = sy < 0 ? 0 : sy >= h ? h - 1 : sy;
                if (fv) sy = h - 1 - sy;
                for (int x = 0; x < w; x++) {
                    int sx = x - dx;
                    sx = sx < 0 ? 0 : sx >= w ? w - 1 : sx;
                    if (fh) sx = w - 1 - sx;
                    src[(size_t)y * w + x] = scratch[(size_t)sy * w + sx];
                }
            }
        }
        if (mask) {
            uint8_t *ms = (uint8_t *)scratch;
            memcpy(ms, mask, plane);
            for (int y = 0; y < h; y++) {
                int sy = y - dy;
                sy = sy < 0 ? 0 : sy >= h ? h - 1 : sy;
                if (fv) sy = h - 1 - sy;
                for (int x = 0; x < w; x++) {
                    int sx = x - dx;
                    sx = sx < 0 ? 0 : sx >= w ? w - 1 : sx;
                    if (fh) sx = w - 1 - sx;
                    mask[(size_t)y * w + x] = ms[(size_t)sy * w + sx];
                }
            }
        }
    }
    float b = (float)((lo_rng_uniform(rng) * 2 - 1) * cfg->brightness);
    float k = (float)(1 + (lo_rng_uniform(rng) * 2 - 1) * cfg->contrast);
    float sigma = (float)(lo_rng_uniform(rng) * cfg->noise);
    for (int ch = 0; ch < c; ch++) {
        float *p = img + ch * plane;
        double mean = 0;
        for (size_t i = 0; i < plane; i++) mean += p[i];
        mean /= (double)plane;
        for (size_t i = 0; i < plane; i++) {
            float v = (float)((p[i] - mean) * k + mean) + b;
            if (sigma > 0) v += sigma * (float)(lo_rng_uniform(rng) + lo_rng_uniform(rng) - 1.0);
            p[i] = clampf(v, 0, 1);
        }
    }
}

/* log-uniform defect size between 2 % and 20 % of the shorter side, at least 3 pixels */
static int defect_size(int h, int w, uint64_t *rng) {
    int side = h < w ? h : w;
    double f = 0.02 * pow(10.0, lo_rng_uniform(rng));
    int s = (int)(f * side);
    return s < 3 ? 3 : s;
}

static float border_mean(const float *p, int h, int w) {
    double s = 0;
    int n = 0;
    for (int x = 0; x < w; x++) s += p[x] + p[(size_t)(h - 1) * w + x], n += 2;
    for (int y = 0; y < h; y++) s += p[(size_t)y * w] + p[(size_t)y * w + w - 1], n += 2;
    return (float)(s / n);
}

int lo_train_synth_defect(float *img, uint8_t *mask, int c, int h, int w, const float *source,
                          uint64_t *rng) {
    size_t plane = (size_t)h * w;
    memset(mask, 0, plane);
    int kind = lo_rng_int(rng, 4);
    int sw = defect_size(h, w, rng), sh = defect_size(h, w, rng);
    if (kind == 1) { /* scar: long and thin */
        sw = sw * 2 + 4;
        sh = 1 + (int)(lo_rng_uniform(rng) * 0.015 * (h < w ? h : w));
    }
    if (sw >= w) sw = w - 1;
    if (sh >= h) sh = h - 1;
    double ang = lo_rng_uniform(rng) * M_PI;
    double ca = cos(ang), sa = sin(ang);
    int cx = lo_rng_int(rng, w), cy = lo_rng_int(rng, h);
    /* cut-paste reads from a random place of the source (or of the image itself) */
    int ox = lo_rng_int(rng, w) - cx, oy = lo_rng_int(rng, h) - cy;
    const float *src = source ? source : img;
    float colour[3], bg[3];
    for (int ch = 0; ch < c; ch++) {
        colour[ch] = (float)lo_rng_uniform(rng);
        bg[ch] = border_mean(img + ch * plane, h, w);
    }
    float delta = (float)((lo_rng_uniform(rng) < 0.5 ? -1 : 1) * (0.15 + 0.35 * lo_rng_uniform(rng)));
    float jitter = (float)((lo_rng_uniform(rng) * 2 - 1) * 0.15);
    double rx = sw * 0.5, ry = sh * 0.5;
    int rad = (int)ceil(sqrt(rx * rx + ry * ry)) + 1;
    int count = 0;
    for (int y = cy - rad; y <= cy + rad; y++) {
        if (y < 0 || y >= h) continue;
        for (int x = cx - rad; x <= cx + rad; x++) {
            if (x < 0 || x >= w) continue;
            /* rotated frame of the defect */
            double u = (x - cx) * ca + (y - cy) * sa, v = -(x - cx) * sa + (y - cy) * ca;
            double d; /* 0 at the centre, 1 at the edge */
            if (kind == 0 || kind == 1) d = fmax(fabs(u) / rx, fabs(v) / ry);
            else d = sqrt((u / rx) * (u / rx) + (v / ry) * (v / ry));
            if (d >= 1) continue;
            size_t i = (size_t)y * w + x;
            int sx = x + ox, sy = y + oy;
            sx = sx < 0 ? 0 : sx >= w ? w - 1 : sx;
            sy = sy < 0 ? 0 : sy >= h ? h - 1 : sy;
            float change = 0;
            for (int ch = 0; ch < c; ch++) {
                float *p = img + ch * plane + i, old = *p, nv;
                switch (kind) {
                case 0: nv = src[ch * plane + (size_t)sy * w + sx] + jitter; break;
                case 1: nv = colour[ch]; break;
                case 2: nv = bg[ch]; break;
                default: nv = old + delta * (float)(1 - d * d); break;
                }
                nv = clampf(nv, 0, 1);
                *p = nv;
                change = fmaxf(change, fabsf(nv - old));
            }
            if (change > 0.04f) {
                mask[i] = 1;
                count++;
            }
        }
    }
    return count;
}
