/* batchnorm.c — batch normalization over N*H*W per channel, statistics in double so large
 * batches of similar values do not lose the variance to cancellation. */
#include "conv_internal.h"

#include <math.h>

static void normalize_row(float *q, const float *p, int hw, float a, float b, lk_act act, float slope)
{
    if (act == LK_ACT_RELU)
        for (int j = 0; j < hw; j++) { float v = p[j] * a + b; q[j] = v > 0.f ? v : 0.f; }
    else if (act == LK_ACT_LEAKY)
        for (int j = 0; j < hw; j++) { float v = p[j] * a + b; q[j] = v > 0.f ? v : v * slope; }
    else
        for (int j = 0; j < hw; j++) q[j] = p[j] * a + b;
}

/* per-plane sums in float (summed in double by the caller); `omp simd` lets them run in vector
 * lanes: without it GCC keeps float sums in order, one add chain at 4 cycles an element */
static void plane_sums(const float *restrict p, int hw, float *s, float *s2)
{
    float a = 0.f, b = 0.f;
#pragma omp simd reduction(+:a,b)
    for (int j = 0; j < hw; j++) { a += p[j]; b += p[j] * p[j]; }
    *s = a; *s2 = b;
}

void lk_bn_forward_train(int n, int c, int hw, const float *x, const float *gamma,
                         const float *beta, float *y, float *mean, float *invstd,
                         float *run_mean, float *run_var, float momentum, float eps, lk_act act,
                         float slope, int threads)
{
    const double cnt = (double)n * hw;
LK_PFOR(lk__threads(threads), int, ch, c, {
        double s = 0, s2 = 0;
        for (int i = 0; i < n; i++) {
            const float *p = x + ((size_t)i * c + ch) * hw;
            float fs, fs2;
            plane_sums(p, hw, &fs, &fs2);
            s += fs; s2 += fs2;
        }
        double m = s / cnt, var = s2 / cnt - m * m;
        if (var < 0) var = 0;
        float is = (float)(1.0 / sqrt(var + eps));
        mean[ch] = (float)m;
        invstd[ch] = is;
        if (run_mean) run_mean[ch] = (1.f - momentum) * run_mean[ch] + momentum * (float)m;
        if (run_var) {
            double unb = cnt > 1 ? var * cnt / (cnt - 1) : var;
            run_var[ch] = (1.f - momentum) * run_var[ch] + momentum * (float)unb;
        }
        const float a = gamma[ch] * is, b = beta[ch] - (float)m * a;
        for (int i = 0; i < n; i++) {
            const float *p = x + ((size_t)i * c + ch) * hw;
            float *q = y + ((size_t)i * c + ch) * hw;
            normalize_row(q, p, hw, a, b, act, slope);
        }
    });
}

void lk_bn_forward_infer(int n, int c, int hw, const float *x, const float *gamma,
                         const float *beta, const float *run_mean, const float *run_var,
                         float eps, float *y, float *mean, float *invstd, lk_act act,
                         float slope, int threads)
{
LK_PFOR(lk__threads(threads), int, ch, c, {
        const float is = 1.f / sqrtf(run_var[ch] + eps);
        if (mean) mean[ch] = run_mean[ch];
        if (invstd) invstd[ch] = is;
        const float a = gamma[ch] * is, b = beta[ch] - run_mean[ch] * a;
        for (int i = 0; i < n; i++) {
            const float *p = x + ((size_t)i * c + ch) * hw;
            float *q = y + ((size_t)i * c + ch) * hw;
            normalize_row(q, p, hw, a, b, act, slope);
        }
    });
}

/* sum(g') and sum(g' (x - m)) over one plane, g' = g through act' (q: the activation's output) when
 * q is given. The selects vectorize only because this file is built with -fno-trapping-math (a
 * compare that may trap is not speculated: GCC kept them scalar, "control flow in loop"). */
static void bwd_sums(const float *restrict g, const float *restrict p, const float *restrict q, int hw, float m,
                     float neg, float *sa, float *sb)
{
    float a = 0.f, b = 0.f;
    if (q) {
#pragma omp simd reduction(+:a,b)
        for (int j = 0; j < hw; j++) {
            const float gj = g[j] * (q[j] > 0.f ? 1.f : neg);
            a += gj; b += gj * (p[j] - m);
        }
    } else {
#pragma omp simd reduction(+:a,b)
        for (int j = 0; j < hw; j++) { a += g[j]; b += g[j] * (p[j] - m); }
    }
    *sa = a; *sb = b;
}

static void bwd_dx(float *restrict d, const float *restrict g, const float *restrict p, const float *restrict q,
                   int hw, float k, float m, float c0, float c1, float neg, int accumulate)
{
    if (q && accumulate) {
#pragma omp simd
        for (int j = 0; j < hw; j++) d[j] += k * (g[j] * (q[j] > 0.f ? 1.f : neg) - c0 - (p[j] - m) * c1);
    } else if (q) {
#pragma omp simd
        for (int j = 0; j < hw; j++) d[j] = k * (g[j] * (q[j] > 0.f ? 1.f : neg) - c0 - (p[j] - m) * c1);
    } else if (accumulate) {
#pragma omp simd
        for (int j = 0; j < hw; j++) d[j] += k * (g[j] - c0 - (p[j] - m) * c1);
    } else {
#pragma omp simd
        for (int j = 0; j < hw; j++) d[j] = k * (g[j] - c0 - (p[j] - m) * c1);
    }
}

void lk_bn_backward(int n, int c, int hw, const float *x, const float *dy, const float *gamma,
                    const float *mean, const float *invstd, int frozen, float *dx, int accumulate,
                    float *dgamma, float *dbeta, lk_act act, float slope, const float *act_y,
                    int threads)
{
    const float cnt = (float)n * (float)hw;
    const float *ay = act == LK_ACT_NONE ? NULL : act_y;
    const float neg = act == LK_ACT_LEAKY ? slope : 0.f; /* act' where the output is not positive */
LK_PFOR(lk__threads(threads), int, ch, c, {
        const float m = mean[ch], is = invstd[ch];
        double sdy = 0, sdyx = 0;
        for (int i = 0; i < n; i++) {
            const size_t off = ((size_t)i * c + ch) * hw;
            float a, b;
            bwd_sums(dy + off, x + off, ay ? ay + off : NULL, hw, m, neg, &a, &b);
            sdy += a; sdyx += b;
        }
        const float sum_dy = (float)sdy, sum_dyxhat = (float)sdyx * is;
        dgamma[ch] += sum_dyxhat;
        dbeta[ch] += sum_dy;
        const float k = gamma[ch] * is;
        /* dx = k * (dy - mean(dy) - xhat * mean(dy*xhat)) when statistics are live. */
        if (!dx) continue;
        const float c0 = frozen ? 0.f : sum_dy / cnt, c1 = frozen ? 0.f : sum_dyxhat / cnt * is;
        for (int i = 0; i < n; i++) {
            const size_t off = ((size_t)i * c + ch) * hw;
            bwd_dx(dx + off, dy + off, x + off, ay ? ay + off : NULL, hw, k, m, c0, c1, neg, accumulate);
        }
    });
}
