/* conv.c — convolution front: shape checks, scratch sizing and the per-path dispatch. */
#include "conv_internal.h"

#include <omp.h>

int lk__threads(int threads) { return threads > 0 ? threads : omp_get_max_threads(); }

int lk_conv_init(lk_conv *c, int n, int cin, int h, int w, int cout, int k, int stride, int pad)
{
    c->n = n; c->cin = cin; c->h = h; c->w = w;
    c->cout = cout; c->k = k; c->stride = stride; c->pad = pad;
    if (n < 1 || cin < 1 || h < 1 || w < 1 || cout < 1 || k < 1 || k > 15 || stride < 1 || pad < 0 || pad >= k)
        return -1;
    c->oh = (h + 2 * pad - k) / stride + 1;
    c->ow = (w + 2 * pad - k) / stride + 1;
    return (h + 2 * pad < k || w + 2 * pad < k) ? -1 : 0;
}

size_t lk_conv_scratch_floats(const lk_conv *c, int threads)
{
    size_t a = lk__conv_scratch_blas(c, lk__threads(threads));
    size_t b = lk__conv_scratch_gemm(c, lk__threads(threads));
    size_t d = lk__conv_scratch_direct(c, lk__threads(threads));
    a = a > b ? a : b;
    return a > d ? a : d;
}

static const lk__isa *own_isa(lk_path p)
{
    return p == LK_PATH_AVX512 ? &lk__isa_avx512 : p == LK_PATH_AVX2 ? &lk__isa_avx2 : NULL;
}

void lk_conv_forward_path(lk_path p, const lk_conv *c, const float *x, const float *w,
                          const float *bias, lk_act act, float slope, float *y, float *scratch,
                          int threads)
{
    const lk__isa *isa = own_isa(p);
    if (isa && lk__conv_direct_ok(c)) isa->direct_forward(c, x, w, bias, act, slope, y, scratch, threads);
    else if (isa && lk__conv_dm_ok(c)) isa->dm_forward(c, x, w, bias, act, slope, y, scratch, threads);
    else if (p == LK_PATH_REF) lk__conv_forward_ref(c, x, w, bias, act, slope, y, threads);
    else if (isa) lk__conv_forward_gemm(isa, c, x, w, bias, act, slope, y, scratch, threads);
    else lk__conv_forward_blas(c, x, w, bias, act, slope, y, scratch, threads);
}

void lk_conv_backward_data_ex_path(lk_path p, const lk_conv *c, const float *dy, const float *w,
                                   float *dx, int accumulate, lk_act act, float slope,
                                   const float *act_y, float *scratch, int threads)
{
    if (accumulate) act = LK_ACT_NONE; /* documented: masking applies to overwrites only */
    const lk__isa *isa = own_isa(p);
    if (isa && lk__conv_direct_ok(c)) {
        isa->direct_backward_data(c, dy, w, dx, accumulate, act, slope, act_y, scratch, threads);
        return;
    }
    if (isa && lk__conv_dm_ok(c)) {
        isa->dm_backward_data(c, dy, w, dx, accumulate, act, slope, act_y, scratch, threads);
        return;
    }
    if (isa) {
        lk__conv_backward_data_gemm(isa, c, dy, w, dx, accumulate, act, slope, act_y, scratch, threads);
        return;
    }
    const size_t nx = (size_t)c->n * c->cin * c->h * c->w;
    if (!accumulate) lk_zero(nx, dx, threads);
    if (p == LK_PATH_REF) lk__conv_backward_data_ref(c, dy, w, dx, threads);
    else lk__conv_backward_data_blas(c, dy, w, dx, scratch, threads);
    if (act != LK_ACT_NONE) lk__mask_act(dx, act_y, nx, act, slope);
}

void lk_conv_backward_data_path(lk_path p, const lk_conv *c, const float *dy, const float *w,
                                float *dx, float *scratch, int threads)
{
    lk_conv_backward_data_ex_path(p, c, dy, w, dx, 1, LK_ACT_NONE, 0.f, NULL, scratch, threads);
}

void lk_conv_backward_weights_path(lk_path p, const lk_conv *c, const float *x, const float *dy,
                                   float *dw, float *db, float *scratch, int threads)
{
    const lk__isa *isa = own_isa(p);
    if (isa && lk__conv_direct_ok(c)) isa->direct_backward_weights(c, x, dy, dw, db, scratch, threads);
    else if (isa && isa->dm_backward_weights && lk__conv_dm_ok(c)) isa->dm_backward_weights(c, x, dy, dw, db, scratch, threads);
    else if (p == LK_PATH_REF) lk__conv_backward_weights_ref(c, x, dy, dw, db, threads);
    else if (isa) lk__conv_backward_weights_gemm(isa, c, x, dy, dw, db, scratch, threads);
    else lk__conv_backward_weights_blas(c, x, dy, dw, db, scratch, threads);
}

void lk_conv_forward(const lk_conv *c, const float *x, const float *w, const float *bias,
                     lk_act act, float slope, float *y, float *scratch, int threads)
{
    lk_conv_forward_path(lk_path_get(), c, x, w, bias, act, slope, y, scratch, threads);
}

void lk_conv_backward_data(const lk_conv *c, const float *dy, const float *w, float *dx,
                           float *scratch, int threads)
{
    lk_conv_backward_data_path(lk_path_get(), c, dy, w, dx, scratch, threads);
}

void lk_conv_backward_data_ex(const lk_conv *c, const float *dy, const float *w, float *dx,
                              int accumulate, lk_act act, float slope, const float *act_y,
                              float *scratch, int threads)
{
    lk_conv_backward_data_ex_path(lk_path_get(), c, dy, w, dx, accumulate, act, slope, act_y, scratch, threads);
}

void lk_conv_backward_weights(const lk_conv *c, const float *x, const float *dy, float *dw,
                              float *db, float *scratch, int threads)
{
    lk_conv_backward_weights_path(lk_path_get(), c, x, dy, dw, db, scratch, threads);
}
