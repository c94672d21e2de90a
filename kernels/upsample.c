/* upsample.c — nearest and bilinear resizing (segmentation heads), PyTorch's index conventions. */
#include "conv_internal.h"

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

void lk_upsample_forward(lk_upsample_mode mode, int n, int c, int h, int w, int oh, int ow,
                         const float *x, float *y, int threads)
{
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
