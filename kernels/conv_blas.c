/* conv_blas.c — im2col + OpenBLAS sgemm, image by image. OpenBLAS (pthread build) runs its own
 * threads, so it is always called OUTSIDE our OpenMP regions; only the unfolding is OpenMP. */
#include "conv_internal.h"

#include <cblas.h>

size_t lk__conv_scratch_blas(const lk_conv *c, int threads)
{
    (void)threads;
    return (size_t)c->cin * c->k * c->k * c->oh * c->ow;
}

static void set_blas_threads(int threads) { openblas_set_num_threads(lk__threads(threads)); }

static void im2col_image(const lk_conv *c, const float *x, float *col, int threads)
{
    const int KK = c->cin * c->k * c->k, P = c->oh * c->ow;
LK_PFOR(lk__threads(threads), int, r, KK, { lk__im2col_panel(c, x, r, 1, 0, P, col + (size_t)r * P, P); });
}

void lk__conv_forward_blas(const lk_conv *c, const float *x, const float *w, const float *bias,
                           lk_act act, float slope, float *y, float *col, int threads)
{
    const int KK = c->cin * c->k * c->k, P = c->oh * c->ow;
    set_blas_threads(threads);
    for (int n = 0; n < c->n; n++) {
        const float *xn = x + (size_t)n * c->cin * c->h * c->w;
        float *yn = y + (size_t)n * c->cout * P;
        const float *b = xn;
        if (!(c->k == 1 && c->stride == 1 && c->pad == 0)) {
            im2col_image(c, xn, col, threads);
            b = col;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, c->cout, P, KK, 1.f, w, KK, b, P,
                    0.f, yn, P);
        if (bias || act != LK_ACT_NONE) {
LK_PFOR(lk__threads(threads), int, co, c->cout, { lk__bias_act_rows(yn + (size_t)co * P, 1, P, P, bias ? bias + co : NULL, act, slope); });
        }
    }
}

void lk__conv_backward_data_blas(const lk_conv *c, const float *dy, const float *w, float *dx,
                                 float *col, int threads)
{
    const int KK = c->cin * c->k * c->k, P = c->oh * c->ow, kk = c->k * c->k;
    set_blas_threads(threads);
    for (int n = 0; n < c->n; n++) {
        const float *dyn = dy + (size_t)n * c->cout * P;
        float *dxn = dx + (size_t)n * c->cin * c->h * c->w;
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, KK, P, c->cout, 1.f, w, KK, dyn, P,
                    0.f, col, P);
        /* Rows of one input channel fold into that channel's plane only: no races. */
LK_PFOR(lk__threads(threads), int, ci, c->cin, { lk__col2im_panel(c, col + (size_t)ci * kk * P, P, ci * kk, kk, 0, P, dxn); });
    }
}

void lk__conv_backward_weights_blas(const lk_conv *c, const float *x, const float *dy, float *dw,
                                    float *db, float *col, int threads)
{
    const int KK = c->cin * c->k * c->k, P = c->oh * c->ow;
    set_blas_threads(threads);
    for (int n = 0; n < c->n; n++) {
        const float *xn = x + (size_t)n * c->cin * c->h * c->w;
        const float *dyn = dy + (size_t)n * c->cout * P;
        const float *b = xn;
        if (!(c->k == 1 && c->stride == 1 && c->pad == 0)) {
            im2col_image(c, xn, col, threads);
            b = col;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, c->cout, KK, P, 1.f, dyn, P, b, P,
                    1.f, dw, KK);
        if (db) {
LK_PFOR(lk__threads(threads), int, co, c->cout, {
                float s = 0.f;
                for (int i = 0; i < P; i++) s += dyn[(size_t)co * P + i];
                db[co] += s;
            });
        }
    }
}
