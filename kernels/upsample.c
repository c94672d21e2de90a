/* upsample.c — nearest and bilinear resizing (segmentation heads), PyTorch's index conventions.
 *
 * Bilinear is separable: the taps of every output column and row are computed once per call (on
 * the stack: a training step must not touch the heap), and each plane is resized row by row, a
 * horizontal pass over input rows and a vertical blend of two of them, so the inner loops are
 * plain vector loops. Computing the taps per pixel made the two upsamples of compact-fcn 12 % of
 * a training step. Shapes wider or taller than LK_UP_MAX take the per-pixel loop. */
#include "conv_internal.h"

#define LK_UP_MAX 2048

/* Bilinear source taps for output index o (align_corners = false). */
static void taps(int o, int in, int out, int *i0, int *i1, float *f)
{
    float s = ((float)o + 0.5f) * (float)in / (float)out - 0.5f;
    if (s < 0.f) s = 0.f;
    int a = (int)s;
    if (a > in - 1) a = in - 1;
    *i0 = a;
    *i1 = a + 1 < in ? a + 1 : in - 1;
    *f = s - (float)a;
}

static int nearest(int o, int in, int out)
{
    int i = (int)((float)o * (float)in / (float)out);
    return i < in ? i : in - 1;
}

/* one input row resized horizontally: t[ox] = r[x0] (1 - fx) + r[x1] fx */
static void hpass(const float *r, int ow, const int *x0, const int *x1, const float *fx, float *t)
{
    for (int ox = 0; ox < ow; ox++) t[ox] = r[x0[ox]] * (1.f - fx[ox]) + r[x1[ox]] * fx[ox];
}

/* the taps of every output row and column */
static void all_taps(int h, int w, int oh, int ow, int *x0, int *x1, float *fx, int *y0, int *y1, float *fy)
{
    for (int o = 0; o < ow; o++) taps(o, w, ow, &x0[o], &x1[o], &fx[o]);
    for (int o = 0; o < oh; o++) taps(o, h, oh, &y0[o], &y1[o], &fy[o]);
}

static void bilinear_forward(int planes, int h, int w, int oh, int ow, const float *x, float *y, int threads)
{
    int x0[ow], x1[ow], y0[oh], y1[oh];
    float fx[ow], fy[oh];
    all_taps(h, w, oh, ow, x0, x1, fx, y0, y1, fy);
    LK_PFOR(lk__threads(threads), int, pl, planes, {
        const float *xp = x + (size_t)pl * h * w;
        float *yp = y + (size_t)pl * oh * ow;
        float ta[ow], tb[ow];
        float *top = ta, *bot = tb;
        int have_top = -1, have_bot = -1; /* input rows now in top and bot */
        for (int oy = 0; oy < oh; oy++) {
            if (have_top != y0[oy]) {
                if (have_bot == y0[oy]) { /* moving down: the old bottom row is the new top */
                    float *s = top;
                    top = bot, bot = s;
                    have_top = y0[oy], have_bot = -1;
                } else {
                    hpass(xp + (size_t)y0[oy] * w, ow, x0, x1, fx, top);
                    have_top = y0[oy];
                }
            }
            if (have_bot != y1[oy]) {
                hpass(xp + (size_t)y1[oy] * w, ow, x0, x1, fx, bot);
                have_bot = y1[oy];
            }
            float a = 1.f - fy[oy], b = fy[oy];
            float *yr = yp + (size_t)oy * ow;
            for (int ox = 0; ox < ow; ox++) yr[ox] = top[ox] * a + bot[ox] * b;
        }
    });
}

static void bilinear_backward(int planes, int h, int w, int oh, int ow, const float *dy, float *dx, int threads)
{
    int x0[ow], x1[ow], y0[oh], y1[oh];
    float fx[ow], fy[oh];
    all_taps(h, w, oh, ow, x0, x1, fx, y0, y1, fy);
    LK_PFOR(lk__threads(threads), int, pl, planes, {
        float *dp = dx + (size_t)pl * h * w;
        const float *g = dy + (size_t)pl * oh * ow;
        float s[w];
        for (int oy = 0; oy < oh; oy++) {
            /* the output row's gradient folded onto one input row's width, then split between the
             * two input rows it was blended from */
            const float *gr = g + (size_t)oy * ow;
            for (int i = 0; i < w; i++) s[i] = 0.f;
            for (int ox = 0; ox < ow; ox++) {
                s[x0[ox]] += gr[ox] * (1.f - fx[ox]);
                s[x1[ox]] += gr[ox] * fx[ox];
            }
            float a = 1.f - fy[oy], b = fy[oy];
            float *d0 = dp + (size_t)y0[oy] * w, *d1 = dp + (size_t)y1[oy] * w;
            for (int i = 0; i < w; i++) d0[i] += s[i] * a;
            for (int i = 0; i < w; i++) d1[i] += s[i] * b;
        }
    });
}

void lk_upsample_forward(lk_upsample_mode mode, int n, int c, int h, int w, int oh, int ow,
                         const float *x, float *y, int threads)
{
    if (mode == LK_UPSAMPLE_BILINEAR && ow <= LK_UP_MAX && oh <= LK_UP_MAX) {
        bilinear_forward(n * c, h, w, oh, ow, x, y, threads);
        return;
    }
    LK_PFOR(lk__threads(threads), int, pl, n * c, {
        const float *xp = x + (size_t)pl * h * w;
        float *yp = y + (size_t)pl * oh * ow;
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                if (mode == LK_UPSAMPLE_NEAREST) {
                    yp[oy * ow + ox] = xp[nearest(oy, h, oh) * w + nearest(ox, w, ow)];
                } else {
                    int y0, y1, x0, x1;
                    float fy, fx;
                    taps(oy, h, oh, &y0, &y1, &fy);
                    taps(ox, w, ow, &x0, &x1, &fx);
                    float top = xp[y0 * w + x0] * (1.f - fx) + xp[y0 * w + x1] * fx;
                    float bot = xp[y1 * w + x0] * (1.f - fx) + xp[y1 * w + x1] * fx;
                    yp[oy * ow + ox] = top * (1.f - fy) + bot * fy;
                }
            }
    });
}

void lk_upsample_backward(lk_upsample_mode mode, int n, int c, int h, int w, int oh, int ow,
                          const float *dy, float *dx, int threads)
{
    if (mode == LK_UPSAMPLE_BILINEAR && ow <= LK_UP_MAX && oh <= LK_UP_MAX && w <= LK_UP_MAX) {
        bilinear_backward(n * c, h, w, oh, ow, dy, dx, threads);
        return;
    }
    LK_PFOR(lk__threads(threads), int, pl, n * c, {
        float *dp = dx + (size_t)pl * h * w;
        const float *g = dy + (size_t)pl * oh * ow;
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                float v = g[oy * ow + ox];
                if (mode == LK_UPSAMPLE_NEAREST) {
                    dp[nearest(oy, h, oh) * w + nearest(ox, w, ow)] += v;
                } else {
                    int y0, y1, x0, x1;
                    float fy, fx;
                    taps(oy, h, oh, &y0, &y1, &fy);
                    taps(ox, w, ow, &x0, &x1, &fx);
                    dp[y0 * w + x0] += v * (1.f - fy) * (1.f - fx);
                    dp[y0 * w + x1] += v * (1.f - fy) * fx;
                    dp[y1 * w + x0] += v * fy * (1.f - fx);
                    dp[y1 * w + x1] += v * fy * fx;
                }
            }
    });
}
