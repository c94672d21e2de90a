/* synth.c — synthetic defects for training when real anomalies are few or none, each with its
 * mask and driven only by the caller's rng (same state, same defect):
 *  - CutPaste: a rectangle of the image (or of `source`) pasted elsewhere with a colour jitter;
 *  - scar: a thin, long, rotated strip pasted the same way;
 *  - Perlin: a blob-shaped region (thresholded Perlin noise) blended with foreign texture, as in
 *    DRAEM: out = (1-M) I + M ((1-b) A + b I);
 *  - small local defects, because real ones are often tiny (a blowhole is 0.1 % of a tile): a
 *    small rotated patch of foreign texture, an erased spot filled with the background colour (a
 *    missing piece), and a smooth blotch (a stain, an uneven surface). Their size is log-uniform
 *    from 2 % to 20 % of the shorter side;
 *  - a chip: for a part lying on a plain background, a bite or a clean break at the part's
 *    outline erased to the background colour, mostly at the extremities (a broken-off tip). */
#include "lds_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <stb_perlin.h>

static float uni(uint64_t *rng, float lo, float hi) { return lo + (hi - lo) * (float)lds_rng_uniform(rng); }

static float clamp01(float v) { return v < 0 ? 0 : v > 1 ? 1 : v; }

/* Pastes a w_p x h_p patch read at (sx, sy) of src into (dx, dy) of img, rotated by ang around
 * the patch centre; pixels outside the image are skipped. */
static void paste_patch(float *img, uint8_t *mask, int c, int h, int w, const float *src, int sx, int sy, int pw,
                        int ph, float dx, float dy, float ang, const float *gain, const float *bias)
{
    const size_t plane = (size_t)h * (size_t)w;
    float ca = cosf(ang), sa = sinf(ang);
    float half = 0.5f * sqrtf((float)(pw * pw + ph * ph)) + 1;
    int x0 = (int)floorf(dx - half), x1 = (int)ceilf(dx + half), y0 = (int)floorf(dy - half), y1 = (int)ceilf(dy + half);
    for (int y = y0 < 0 ? 0 : y0; y <= y1 && y < h; y++)
        for (int x = x0 < 0 ? 0 : x0; x <= x1 && x < w; x++) {
            float u = x + 0.5f - dx, v = y + 0.5f - dy;
            float lu = ca * u + sa * v, lv = -sa * u + ca * v; /* into the patch frame */
            if (fabsf(lu) >= pw * 0.5f || fabsf(lv) >= ph * 0.5f) continue;
            int px = sx + (int)floorf(lu + pw * 0.5f), py = sy + (int)floorf(lv + ph * 0.5f);
            if (px < 0 || py < 0 || px >= w || py >= h) continue;
            for (int ch = 0; ch < c; ch++) {
                float s = src[(size_t)ch * plane + (size_t)py * w + px];
                img[(size_t)ch * plane + (size_t)y * w + x] = clamp01(s * gain[ch] + bias[ch]);
            }
            mask[(size_t)y * w + x] = 1;
        }
}

static void cut_paste(float *img, uint8_t *mask, int c, int h, int w, const float *source, uint64_t *rng, int scar)
{
    const size_t plane = (size_t)h * (size_t)w;
    int pw, ph;
    if (scar) { /* CutPaste-scar: width 2-16 px, length 10-25 px at 256 px, scaled to the image */
        float side = (float)(h < w ? h : w);
        pw = (int)fmaxf(2.f, uni(rng, 2.f, 16.f) * side / 256.f);
        ph = (int)fmaxf(4.f, uni(rng, 10.f, 25.f) * side / 256.f);
    } else { /* area 2-15 % of the image, aspect 0.3-3.3 */
        float area = uni(rng, 0.02f, 0.15f) * (float)plane;
        float aspect = expf(uni(rng, logf(0.3f), logf(3.3f)));
        pw = (int)sqrtf(area / aspect);
        ph = (int)sqrtf(area * aspect);
    }
    if (pw < 1) pw = 1;
    if (ph < 1) ph = 1;
    if (pw > w - 1) pw = w > 1 ? w - 1 : 1;
    if (ph > h - 1) ph = h > 1 ? h - 1 : 1;
    int sx = (int)(lds_rng_uniform(rng) * (w - pw + 1)), sy = (int)(lds_rng_uniform(rng) * (h - ph + 1));
    float dx = uni(rng, pw * 0.5f, w - pw * 0.5f), dy = uni(rng, ph * 0.5f, h - ph * 0.5f);
    float ang = scar ? uni(rng, -0.785f, 0.785f) : 0.f;
    float gain[16], bias[16];
    for (int ch = 0; ch < c && ch < 16; ch++) { /* colour jitter so the patch is not a perfect copy */
        gain[ch] = uni(rng, 0.85f, 1.15f);
        bias[ch] = uni(rng, -0.08f, 0.08f);
    }
    /* The patch is read from a copy: source and destination may overlap in img. */
    const float *src = source;
    float *copy = NULL;
    if (!src) {
        copy = malloc(sizeof(float) * plane * (size_t)c);
        if (!copy) return;
        memcpy(copy, img, sizeof(float) * plane * (size_t)c);
        src = copy;
    }
    paste_patch(img, mask, c < 16 ? c : 16, h, w, src, sx, sy, pw, ph, dx, dy, ang, gain, bias);
    free(copy);
}

static void perlin_blend(float *img, uint8_t *mask, int c, int h, int w, const float *source, uint64_t *rng)
{
    const size_t plane = (size_t)h * (size_t)w;
    /* DRAEM draws the noise scale per axis as 2^k; here relative to the image so small and large
     * inputs get blobs of the same relative size. */
    float fx = powf(2.f, (float)(int)uni(rng, 0.f, 4.f)) / (float)w * 2.f;
    float fy = powf(2.f, (float)(int)uni(rng, 0.f, 4.f)) / (float)h * 2.f;
    float ang = uni(rng, -1.57f, 1.57f), ca = cosf(ang), sa = sinf(ang);
    float thr = uni(rng, 0.25f, 0.45f);
    float beta = uni(rng, 0.f, 0.7f);
    int seed = (int)(lds_rng_next(rng) & 0x7fffffff);
    float oz = uni(rng, 0.f, 64.f), ox = uni(rng, 0.f, 256.f), oy = uni(rng, 0.f, 256.f);
    /* foreign texture when no source: a second Perlin field with a random colour */
    float tex_col[16], tex_f = uni(rng, 0.05f, 0.3f);
    for (int ch = 0; ch < 16; ch++) tex_col[ch] = uni(rng, 0.f, 1.f);
    size_t on = 0;
    for (int attempt = 0; attempt < 4 && on == 0; attempt++) {
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                float u = ca * x - sa * y, v = sa * x + ca * y;
                float n = stb_perlin_noise3_seed(u * fx + ox, v * fy + oy, oz + (float)attempt * 7.3f, 0, 0, 0, seed);
                uint8_t m = n > thr;
                mask[(size_t)y * w + x] = m;
                on += m;
            }
        thr *= 0.6f; /* rare all-below draws: lower the threshold rather than return no defect */
    }
    if (on == 0) { /* still nothing (tiny image): a centred disc */
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                mask[(size_t)y * w + x] = hypotf(x - w * 0.5f, y - h * 0.5f) < 0.15f * (float)(h < w ? h : w) + 1;
    }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            if (!mask[i]) continue;
            for (int ch = 0; ch < c; ch++) {
                float a;
                if (source) a = source[(size_t)ch * plane + i];
                else a = clamp01(tex_col[ch % 16] + 0.35f * stb_perlin_noise3_seed(x * tex_f, y * tex_f, 3.5f, 0, 0, 0, seed + 1));
                float *p = &img[(size_t)ch * plane + i];
                *p = clamp01((1 - beta) * a + beta * *p);
            }
        }
}

/* log-uniform between 2 % and 20 % of the shorter side, at least 3 pixels */
static int small_size(int h, int w, uint64_t *rng)
{
    int side = h < w ? h : w;
    int s = (int)(0.02 * pow(10.0, lds_rng_uniform(rng)) * side);
    return s < 3 ? 3 : s;
}

static float border_mean(const float *p, int h, int w)
{
    double s = 0;
    for (int x = 0; x < w; x++) s += p[x] + p[(size_t)(h - 1) * w + x];
    for (int y = 0; y < h; y++) s += p[(size_t)y * w] + p[(size_t)y * w + w - 1];
    return (float)(s / (2.0 * (w + h)));
}

static void small_defect(float *img, uint8_t *mask, int c, int h, int w, lds_synth_kind kind, const float *source,
                         uint64_t *rng)
{
    const size_t plane = (size_t)h * (size_t)w;
    int sw = small_size(h, w, rng), sh = small_size(h, w, rng);
    if (sw > w - 1) sw = w - 1;
    if (sh > h - 1) sh = h - 1;
    float ang = uni(rng, 0.f, 3.14159265f), ca = cosf(ang), sa = sinf(ang);
    int cx = (int)(lds_rng_uniform(rng) * w), cy = (int)(lds_rng_uniform(rng) * h);
    int ox = (int)(lds_rng_uniform(rng) * w) - cx, oy = (int)(lds_rng_uniform(rng) * h) - cy;
    float bg[16];
    for (int ch = 0; ch < c && ch < 16; ch++) bg[ch] = border_mean(img + (size_t)ch * plane, h, w);
    float delta = (lds_rng_uniform(rng) < 0.5 ? -1.f : 1.f) * uni(rng, 0.15f, 0.5f);
    float jitter = uni(rng, -0.15f, 0.15f);
    /* a patch read from the image itself is read from a place it is not written to */
    const float *src = source ? source : img;
    float rx = sw * 0.5f, ry = sh * 0.5f;
    int rad = (int)ceilf(sqrtf(rx * rx + ry * ry)) + 1;
    for (int y = cy - rad; y <= cy + rad; y++) {
        if (y < 0 || y >= h) continue;
        for (int x = cx - rad; x <= cx + rad; x++) {
            if (x < 0 || x >= w) continue;
            float u = (x - cx) * ca + (y - cy) * sa, v = -(x - cx) * sa + (y - cy) * ca;
            float d = kind == LDS_SYNTH_PATCH ? fmaxf(fabsf(u) / rx, fabsf(v) / ry)
                                              : sqrtf((u / rx) * (u / rx) + (v / ry) * (v / ry));
            if (d >= 1) continue;
            size_t i = (size_t)y * w + x;
            int sx = x + ox, sy = y + oy;
            sx = sx < 0 ? 0 : sx >= w ? w - 1 : sx;
            sy = sy < 0 ? 0 : sy >= h ? h - 1 : sy;
            float change = 0;
            for (int ch = 0; ch < c; ch++) {
                float *p = img + (size_t)ch * plane + i, old = *p, nv;
                if (kind == LDS_SYNTH_PATCH) nv = src[(size_t)ch * plane + (size_t)sy * w + sx] + jitter;
                else if (kind == LDS_SYNTH_ERASE) nv = bg[ch < 16 ? ch : 15];
                else nv = old + delta * (1 - d * d);
                nv = clamp01(nv);
                *p = nv;
                change = fmaxf(change, fabsf(nv - old));
            }
            mask[i] = change > 0;
        }
    }
}

/* A part on a plain background: the border's pixels sit within 0.03 of their mean colour (bg) on
 * average, and 5-60 % of the image differs from that colour by more than CHIP_FG. Textures, and
 * parts that fill the frame, do not qualify: a chip needs an outline with background beyond it. */
#define CHIP_FG 0.15f
static float bg_distance(const float *img, size_t plane, size_t i, int c, const float *bg)
{
    float d = 0;
    for (int ch = 0; ch < c && ch < 16; ch++) d = fmaxf(d, fabsf(img[(size_t)ch * plane + i] - bg[ch]));
    return d;
}

/* The background colour (bg) when img shows a part on a plain background; with fg non-NULL,
 * also fg[i] = 1 on the part's pixels (0 elsewhere), from the same pass that counts them. */
static int plain_part(const float *img, int c, int h, int w, float *bg, uint8_t *fg)
{
    if (!img || c < 1 || h < 8 || w < 8) return 0;
    const size_t plane = (size_t)h * (size_t)w;
    float col[16] = {0};
    for (int ch = 0; ch < c && ch < 16; ch++) col[ch] = border_mean(img + (size_t)ch * plane, h, w);
    double spread = 0;
    for (int x = 0; x < w; x++)
        spread += bg_distance(img, plane, (size_t)x, c, col) + bg_distance(img, plane, (size_t)(h - 1) * w + x, c, col);
    for (int y = 0; y < h; y++)
        spread += bg_distance(img, plane, (size_t)y * w, c, col) + bg_distance(img, plane, (size_t)y * w + w - 1, c, col);
    if (!(spread / (2.0 * (w + h)) < 0.03)) return 0;
    size_t n_fg = 0;
    for (size_t i = 0; i < plane; i++) {
        int on = bg_distance(img, plane, i, c, col) > CHIP_FG;
        if (fg) fg[i] = (uint8_t)on;
        n_fg += (size_t)on;
    }
    if (n_fg < plane / 20 || n_fg > plane * 3 / 5) return 0;
    if (bg) memcpy(bg, col, sizeof(float) * (size_t)(c < 16 ? c : 16));
    return 1;
}

int lds_synth_plain_background(const float *img, int c, int h, int w, float *bg)
{
    return plain_part(img, c, h, w, bg, NULL);
}

/* an outline pixel: part, with background to one side */
static int outline_at(const uint8_t *fg, int h, int w, int x, int y)
{
    const uint8_t *p = fg + (size_t)y * w + x;
    return *p && ((x > 0 && !p[-1]) || (x + 1 < w && !p[1]) || (y > 0 && !p[-w]) || (y + 1 < h && !p[w]));
}

/* The chip starts at an outline pixel P drawn with weight (distance from the part's centroid)^2,
 * so tips and far edges are chipped most, as parts break. Its size r is log-uniform from 4 % to
 * 16 % of the shorter side. Half the chips are a bite (a disc of radius r around P), half a
 * clean break (everything beyond a straight cut r deep, across the direction from the centroid
 * to P give or take 30 degrees, within 1.6r of P). Every non-background pixel in the chip becomes
 * background, the part's anti-aliased rim included, so no ghost outline is left. The part's
 * pixels are marked in mask while P is drawn (mask is then cleared for the chip's own). */
static void chip(float *img, uint8_t *mask, int c, int h, int w, uint64_t *rng)
{
    const size_t plane = (size_t)h * (size_t)w;
    float bg[16] = {0};
    if (!plain_part(img, c, h, w, bg, mask)) {
        memset(mask, 0, plane);
        return;
    }
    double sx = 0, sy = 0, n = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (mask[(size_t)y * w + x]) sx += x, sy += y, n++;
    double mx = sx / n, my = sy / n, total = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (outline_at(mask, h, w, x, y)) total += (x - mx) * (x - mx) + (y - my) * (y - my);
    int cx = -1, cy = -1;
    double pick = total > 0 ? lds_rng_uniform(rng) * total : 0;
    for (int y = 0; y < h && cx < 0 && total > 0; y++)
        for (int x = 0; x < w; x++)
            if (outline_at(mask, h, w, x, y)) {
                pick -= (x - mx) * (x - mx) + (y - my) * (y - my);
                if (pick < 0) {
                    cx = x, cy = y;
                    break;
                }
            }
    memset(mask, 0, plane);
    if (cx < 0) return; /* no outline, or rounding left the draw past the last pixel */
    int side = h < w ? h : w;
    float r = (float)(0.04 * pow(4.0, lds_rng_uniform(rng)) * side);
    if (r < 2) r = 2;
    int cut = lds_rng_uniform(rng) < 0.5;
    float ang = atan2f((float)(cy - my), (float)(cx - mx)) + uni(rng, -0.52f, 0.52f);
    float vx = cosf(ang), vy = sinf(ang), reach = cut ? 1.6f * r : r;
    int rad = (int)ceilf(reach);
    for (int y = cy - rad; y <= cy + rad; y++) {
        if (y < 0 || y >= h) continue;
        for (int x = cx - rad; x <= cx + rad; x++) {
            if (x < 0 || x >= w) continue;
            float dx = (float)(x - cx), dy = (float)(y - cy);
            if (hypotf(dx, dy) >= reach || (cut && dx * vx + dy * vy < -r)) continue;
            size_t i = (size_t)y * w + x;
            if (bg_distance(img, plane, i, c, bg) <= 0.04f) continue; /* already background */
            for (int ch = 0; ch < c; ch++) img[(size_t)ch * plane + i] = bg[ch < 16 ? ch : 15];
            mask[i] = 1;
        }
    }
}

void lds_synth_defect(float *img, uint8_t *mask, int c, int h, int w, lds_synth_kind kind, const float *source,
                      uint64_t *rng)
{
    if (!img || !mask || c < 1 || h < 2 || w < 2) return;
    memset(mask, 0, (size_t)h * (size_t)w);
    switch (kind) {
    case LDS_SYNTH_CUTPASTE: cut_paste(img, mask, c, h, w, source, rng, 0); break;
    case LDS_SYNTH_SCAR: cut_paste(img, mask, c, h, w, source, rng, 1); break;
    case LDS_SYNTH_PERLIN: perlin_blend(img, mask, c, h, w, source, rng); break;
    case LDS_SYNTH_PATCH:
    case LDS_SYNTH_ERASE:
    case LDS_SYNTH_BLOTCH: small_defect(img, mask, c, h, w, kind, source, rng); break;
    case LDS_SYNTH_CHIP: chip(img, mask, c, h, w, rng); break;
    default: break;
    }
}
