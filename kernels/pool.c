/* pool.c — max/average pooling, global average and global top-k pooling. */
#include "conv_internal.h"

#include <float.h>

void lk_maxpool_forward(int n, int c, int h, int w, int k, int stride, int pad, int oh, int ow,
                        const float *x, float *y, int32_t *argmax, int threads)
{
    LK_PFOR(lk__threads(threads), int, pl, n * c, {
        const float *xp = x + (size_t)pl * h * w;
        float *yp = y + (size_t)pl * oh * ow;
        int32_t *ap = argmax + (size_t)pl * oh * ow;
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                float best = -FLT_MAX;
                int bi = -1;
                for (int ky = 0; ky < k; ky++) {
                    int iy = oy * stride + ky - pad;
                    if (iy < 0 || iy >= h) continue;
                    for (int kx = 0; kx < k; kx++) {
                        int ix = ox * stride + kx - pad;
                        if (ix < 0 || ix >= w) continue;
                        float v = xp[iy * w + ix];
                        if (bi < 0 || v > best) { best = v; bi = iy * w + ix; }
                    }
                }
                yp[oy * ow + ox] = bi < 0 ? 0.f : best;
                ap[oy * ow + ox] = bi;
            }
    });
}

void lk_maxpool_backward(int n, int c, int h, int w, int oh, int ow, const float *dy,
                         const int32_t *argmax, float *dx, int threads)
{
    LK_PFOR(lk__threads(threads), int, pl, n * c, {
        float *dp = dx + (size_t)pl * h * w;
        const float *g = dy + (size_t)pl * oh * ow;
        const int32_t *ap = argmax + (size_t)pl * oh * ow;
        for (int i = 0; i < oh * ow; i++)
            if (ap[i] >= 0) dp[ap[i]] += g[i];
    });
}

void lk_avgpool_forward(int n, int c, int h, int w, int k, int stride, int pad, int oh, int ow,
                        const float *x, float *y, int threads)
{
    const float inv = 1.f / (float)(k * k);
    LK_PFOR(lk__threads(threads), int, pl, n * c, {
        const float *xp = x + (size_t)pl * h * w;
        float *yp = y + (size_t)pl * oh * ow;
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                float s = 0.f;
                for (int ky = 0; ky < k; ky++) {
                    int iy = oy * stride + ky - pad;
                    if (iy < 0 || iy >= h) continue;
                    for (int kx = 0; kx < k; kx++) {
                        int ix = ox * stride + kx - pad;
                        if (ix >= 0 && ix < w) s += xp[iy * w + ix];
                    }
                }
                yp[oy * ow + ox] = s * inv;
            }
    });
}

void lk_avgpool_backward(int n, int c, int h, int w, int k, int stride, int pad, int oh, int ow,
                         const float *dy, float *dx, int threads)
{
    const float inv = 1.f / (float)(k * k);
    LK_PFOR(lk__threads(threads), int, pl, n * c, {
        float *dp = dx + (size_t)pl * h * w;
        const float *g = dy + (size_t)pl * oh * ow;
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                float v = g[oy * ow + ox] * inv;
                for (int ky = 0; ky < k; ky++) {
                    int iy = oy * stride + ky - pad;
                    if (iy < 0 || iy >= h) continue;
                    for (int kx = 0; kx < k; kx++) {
                        int ix = ox * stride + kx - pad;
                        if (ix >= 0 && ix < w) dp[iy * w + ix] += v;
                    }
                }
            }
    });
}

void lk_gap_forward(int n, int c, int hw, const float *x, float *y, int threads)
{
    LK_PFOR(lk__threads(threads), int, pl, n * c, {
        const float *xp = x + (size_t)pl * hw;
        float s = 0.f;
        for (int i = 0; i < hw; i++) s += xp[i];
        y[pl] = s / (float)hw;
    });
}

void lk_gap_backward(int n, int c, int hw, const float *dy, float *dx, int threads)
{
    LK_PFOR(lk__threads(threads), int, pl, n * c, {
        float *dp = dx + (size_t)pl * hw;
        const float g = dy[pl] / (float)hw;
        for (int i = 0; i < hw; i++) dp[i] += g;
    });
}

/* Quickselect on (value, index) pairs kept in two arrays: afterwards the first k hold the k
 * largest values. O(hw) on average; ties broken by position so results are deterministic. */
static int pair_greater(float va, int ia, float vb, int ib) { return va > vb || (va == vb && ia < ib); }

static void select_topk(float *v, int32_t *ix, int len, int k)
{
    int lo = 0, hi = len - 1;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        float pv = v[mid];
        int pi = ix[mid];
        int i = lo, j = hi;
        while (i <= j) {
            while (pair_greater(v[i], ix[i], pv, pi)) i++;
            while (pair_greater(pv, pi, v[j], ix[j])) j--;
            if (i <= j) {
                float tv = v[i]; v[i] = v[j]; v[j] = tv;
                int32_t ti = ix[i]; ix[i] = ix[j]; ix[j] = ti;
                i++; j--;
            }
        }
        if (k - 1 <= j) hi = j;
        else if (k - 1 >= i) lo = i;
        else break;
    }
}

static void gtopk_planes(int n, int c, int hw, int k, const float *x, float *y, int32_t *idx,
                         float *scratch)
{
    float *v = scratch + (size_t)omp_get_thread_num() * hw * 2;
    int32_t *ix = (int32_t *)(v + hw);
#pragma omp for schedule(static)
    for (int pl = 0; pl < n * c; pl++) {
        const float *xp = x + (size_t)pl * hw;
        for (int i = 0; i < hw; i++) { v[i] = xp[i]; ix[i] = i; }
        select_topk(v, ix, hw, k);
        float s = 0.f;
        for (int i = 0; i < k; i++) { s += v[i]; idx[(size_t)pl * k + i] = ix[i]; }
        y[pl] = s / (float)k;
    }
}

void lk_gtopk_forward(int n, int c, int hw, int k, const float *x, float *y, int32_t *idx,
                      float *scratch, int threads)
{
    /* scratch: per thread hw floats, then hw int32 (same size) */
    const int nt = lk__threads(threads);
    if (nt > 1) {
#pragma omp parallel num_threads(nt)
        gtopk_planes(n, c, hw, k, x, y, idx, scratch);
    } else {
        gtopk_planes(n, c, hw, k, x, y, idx, scratch); /* orphaned for: runs serially */
    }
}

void lk_gtopk_backward(int n, int c, int hw, int k, const float *dy, const int32_t *idx,
                       float *dx, int threads)
{
    LK_PFOR(lk__threads(threads), int, pl, n * c, {
        float *dp = dx + (size_t)pl * hw;
        const float g = dy[pl] / (float)k;
        for (int i = 0; i < k; i++) dp[idx[(size_t)pl * k + i]] += g;
    });
}
