/* im2col.c — the generic build of the panel unfold/fold (see im2col_impl.h) and small epilogues. */
#include "im2col_impl.h"

void lk__im2col_panel(const lk_conv *c, const float *x, int k0, int kc, int p0, int np,
                      float *dst, int ldd)
{
    im2col_panel_impl(c, x, k0, kc, p0, np, dst, ldd);
}

void lk__col2im_panel(const lk_conv *c, const float *src, int lds, int k0, int kc, int p0, int np,
                      float *dx)
{
    col2im_panel_impl(c, src, lds, k0, kc, p0, np, dx);
}

void lk__bias_act_rows(float *y, int rows, int ld, int cols, const float *bias, lk_act act,
                       float slope)
{
    for (int r = 0; r < rows; r++) {
        float *yr = y + (size_t)r * ld;
        const float b = bias ? bias[r] : 0.f;
        if (act == LK_ACT_RELU)
            for (int j = 0; j < cols; j++) { float v = yr[j] + b; yr[j] = v > 0.f ? v : 0.f; }
        else if (act == LK_ACT_LEAKY)
            for (int j = 0; j < cols; j++) { float v = yr[j] + b; yr[j] = v > 0.f ? v : v * slope; }
        else if (bias)
            for (int j = 0; j < cols; j++) yr[j] += b;
    }
}

void lk__mask_act(float *dx, const float *y, size_t n, lk_act act, float slope)
{
    mask_act_impl(dx, y, n, act, slope);
}
