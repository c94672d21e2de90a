/* conv_ref.c — the plain-C convolution every other path is tested against: direct loops, no
 * tricks, so it is easy to believe. */
#include "conv_internal.h"

static float act_apply(lk_act act, float slope, float v)
{
    if (act == LK_ACT_RELU) return v > 0.f ? v : 0.f;
    if (act == LK_ACT_LEAKY) return v > 0.f ? v : v * slope;
    return v;
}

void lk__conv_forward_ref(const lk_conv *c, const float *x, const float *w, const float *bias,
                          lk_act act, float slope, float *y, int threads)
{
    const int K = c->k, S = c->stride, P = c->pad;
    LK_PFOR(lk__threads(threads), int, t, c->n * c->cout, {
            const int n = t / c->cout, co = t % c->cout;
            float *yp = y + ((size_t)n * c->cout + co) * c->oh * c->ow;
            for (int oy = 0; oy < c->oh; oy++)
                for (int ox = 0; ox < c->ow; ox++) {
                    double s = bias ? bias[co] : 0.0;
                    for (int ci = 0; ci < c->cin; ci++) {
                        const float *xp = x + ((size_t)n * c->cin + ci) * c->h * c->w;
                        const float *wp = w + ((size_t)co * c->cin + ci) * K * K;
                        for (int ky = 0; ky < K; ky++) {
                            int iy = oy * S + ky - P;
                            if (iy < 0 || iy >= c->h) continue;
                            for (int kx = 0; kx < K; kx++) {
                                int ix = ox * S + kx - P;
                                if (ix < 0 || ix >= c->w) continue;
                                s += (double)xp[iy * c->w + ix] * wp[ky * K + kx];
                            }
                        }
                    }
                    yp[oy * c->ow + ox] = act_apply(act, slope, (float)s);
                }
        });
}

void lk__conv_backward_data_ref(const lk_conv *c, const float *dy, const float *w, float *dx,
                                int threads)
{
    const int K = c->k, S = c->stride, P = c->pad;
    /* Each (n, ci) plane of dx is written by one thread only. */
    LK_PFOR(lk__threads(threads), int, t, c->n * c->cin, {
            const int n = t / c->cin, ci = t % c->cin;
            float *dxp = dx + ((size_t)n * c->cin + ci) * c->h * c->w;
            for (int co = 0; co < c->cout; co++) {
                const float *dyp = dy + ((size_t)n * c->cout + co) * c->oh * c->ow;
                const float *wp = w + ((size_t)co * c->cin + ci) * K * K;
                for (int oy = 0; oy < c->oh; oy++)
                    for (int ox = 0; ox < c->ow; ox++) {
                        float g = dyp[oy * c->ow + ox];
                        for (int ky = 0; ky < K; ky++) {
                            int iy = oy * S + ky - P;
                            if (iy < 0 || iy >= c->h) continue;
                            for (int kx = 0; kx < K; kx++) {
                                int ix = ox * S + kx - P;
                                if (ix < 0 || ix >= c->w) continue;
                                dxp[iy * c->w + ix] += g * wp[ky * K + kx];
                            }
                        }
                    }
            }
        });
}

void lk__conv_backward_weights_ref(const lk_conv *c, const float *x, const float *dy, float *dw,
                                   float *db, int threads)
{
    const int K = c->k, S = c->stride, P = c->pad;
    LK_PFOR(lk__threads(threads), int, co, c->cout, {
        for (int ci = 0; ci < c->cin; ci++)
            for (int ky = 0; ky < K; ky++)
                for (int kx = 0; kx < K; kx++) {
                    double s = 0;
                    for (int n = 0; n < c->n; n++) {
                        const float *xp = x + ((size_t)n * c->cin + ci) * c->h * c->w;
                        const float *dyp = dy + ((size_t)n * c->cout + co) * c->oh * c->ow;
                        for (int oy = 0; oy < c->oh; oy++) {
                            int iy = oy * S + ky - P;
                            if (iy < 0 || iy >= c->h) continue;
                            for (int ox = 0; ox < c->ow; ox++) {
                                int ix = ox * S + kx - P;
                                if (ix < 0 || ix >= c->w) continue;
                                s += (double)xp[iy * c->w + ix] * dyp[oy * c->ow + ox];
                            }
                        }
                    }
                    dw[(((size_t)co * c->cin + ci) * K + ky) * K + kx] += (float)s;
                }
        if (db) {
            double s = 0;
            for (int n = 0; n < c->n; n++) {
                const float *dyp = dy + ((size_t)n * c->cout + co) * c->oh * c->ow;
                for (int i = 0; i < c->oh * c->ow; i++) s += dyp[i];
            }
            db[co] += (float)s;
        }
    });
}
