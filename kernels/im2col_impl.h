/* im2col_impl.h — unfold (and fold back) a panel of one image so convolution becomes a matrix
 * product. Included by im2col.c (generic build) and by each SIMD file, so the same loops are
 * compiled for the ISA that runs them. Panels are row segments: each copy is contiguous
 * (stride 1) or strided along an input row; the padding border is handled once per segment. */
#ifndef LOOKOUT_IM2COL_IMPL_H
#define LOOKOUT_IM2COL_IMPL_H
#include "conv_internal.h"

#include <string.h>

/* Stride-2 row copies; an ISA file may define these before including this header. */
#ifndef LK_HAVE_S2
static inline void copy_s2(float *d, const float *s, int n) /* d[j] = s[2j] */
{
    for (int j = 0; j < n; j++) d[j] = s[2 * j];
}
static inline void add_s2(float *d, const float *s, int n) /* d[2j] += s[j] */
{
    for (int j = 0; j < n; j++) d[2 * j] += s[j];
}
#endif

/* Output columns ox in [*lo, *hi) read input columns inside [0, w). */
static void valid_range(const lk_conv *c, int kx, int *lo, int *hi)
{
    const int S = c->stride, P = c->pad;
    int l = P - kx > 0 ? (P - kx + S - 1) / S : 0;
    int h = (c->w - 1 + P - kx) >= 0 ? (c->w - 1 + P - kx) / S + 1 : 0;
    if (h > c->ow) h = c->ow;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

static void im2col_panel_impl(const lk_conv *c, const float *x, int k0, int kc, int p0, int np,
                      float *dst, int ldd)
{
    const int K = c->k, S = c->stride, P = c->pad, ow = c->ow;
    const int oy0 = p0 / ow, ox0 = p0 % ow; /* positions advance row by row: no division inside */
    /* per-kx valid ranges and incremental (ci, ky, kx): no division per row (they dominated
     * the cost of unfolding narrow layers) */
    int lo_k[16], hi_k[16];
    for (int t = 0; t < K && t < 16; t++) valid_range(c, t, &lo_k[t], &hi_k[t]);
    int ci = k0 / (K * K), ky = (k0 / K) % K, kx = k0 % K;
    for (int r = k0; r < k0 + kc; r++) {
        const float *xp = x + (size_t)ci * c->h * c->w;
        float *d = dst + (size_t)(r - k0) * ldd;
        const int lo = lo_k[kx], hi = hi_k[kx];
        int p = p0, end = p0 + np, oy = oy0, ox = ox0;
        while (p < end) {
            int len = ow - ox < end - p ? ow - ox : end - p;
            int iy = oy * S + ky - P;
            float *dd = d + (p - p0);
            if (iy < 0 || iy >= c->h) {
                memset(dd, 0, sizeof(float) * (size_t)len);
            } else {
                const float *row = xp + (size_t)iy * c->w + kx - P;
                int a = lo > ox ? lo : ox, b = hi < ox + len ? hi : ox + len;
                int j = ox;
                for (; j < a && j < ox + len; j++) dd[j - ox] = 0.f;
                if (S == 1) {
                    if (b > a) memcpy(dd + (a - ox), row + a, sizeof(float) * (size_t)(b - a));
                    j = b > a ? b : j;
                } else if (S == 2) { /* the common downsampling conv: a loop the vectorizer knows */
                    if (b > j) copy_s2(dd + (j - ox), row + 2 * j, b - j);
                    j = b > j ? b : j;
                } else {
                    for (; j < b; j++) dd[j - ox] = row[j * S];
                }
                for (; j < ox + len; j++) dd[j - ox] = 0.f;
            }
            p += len;
            ox = 0;
            oy++;
        }
        if (++kx == K) { kx = 0; if (++ky == K) { ky = 0; ci++; } }
    }
}

static void col2im_panel_impl(const lk_conv *c, const float *src, int lds, int k0, int kc, int p0, int np,
                      float *dx)
{
    const int K = c->k, S = c->stride, P = c->pad, ow = c->ow;
    const int oy0 = p0 / ow, ox0 = p0 % ow;
    /* per-kx valid ranges and incremental (ci, ky, kx): no division per row (they dominated
     * the cost of unfolding narrow layers) */
    int lo_k[16], hi_k[16];
    for (int t = 0; t < K && t < 16; t++) valid_range(c, t, &lo_k[t], &hi_k[t]);
    int ci = k0 / (K * K), ky = (k0 / K) % K, kx = k0 % K;
    for (int r = k0; r < k0 + kc; r++) {
        float *xp = dx + (size_t)ci * c->h * c->w;
        const float *s = src + (size_t)(r - k0) * lds;
        const int lo = lo_k[kx], hi = hi_k[kx];
        int p = p0, end = p0 + np, oy = oy0, ox = ox0;
        while (p < end) {
            int len = ow - ox < end - p ? ow - ox : end - p;
            int iy = oy * S + ky - P;
            if (iy >= 0 && iy < c->h) {
                float *row = xp + (size_t)iy * c->w + kx - P;
                const float *ss = s + (p - p0) - ox;
                int a = lo > ox ? lo : ox, b = hi < ox + len ? hi : ox + len;
                if (S == 1)
                    for (int j = a; j < b; j++) row[j] += ss[j];
                else if (S == 2) {
                    if (b > a) add_s2(row + 2 * a, ss + a, b - a);
                }
                else
                    for (int j = a; j < b; j++) row[j * S] += ss[j];
            }
            p += len;
            ox = 0;
            oy++;
        }
        if (++kx == K) { kx = 0; if (++ky == K) { ky = 0; ci++; } }
    }
}

/* dx = act'(y) * dx; written as a select so it vectorizes. */
static void mask_act_impl(float *dx, const float *y, size_t n, lk_act act, float slope)
{
    const float neg = act == LK_ACT_LEAKY ? slope : 0.f;
    if (act == LK_ACT_NONE) return;
    for (size_t i = 0; i < n; i++) dx[i] *= y[i] > 0.f ? 1.f : neg;
}

#endif
