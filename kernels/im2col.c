/* im2col.c — unfold (and fold back) a panel of one image so convolution becomes a matrix product.
 * Panels are row segments: each copy is contiguous (stride 1) or strided along an input row, which
 * the compiler vectorizes; the padding border is handled once per segment, not per element. */
#include "conv_internal.h"

#include <string.h>

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

void lk__im2col_panel(const lk_conv *c, const float *x, int k0, int kc, int p0, int np,
                      float *dst, int ldd)
{
    const int K = c->k, S = c->stride, P = c->pad, ow = c->ow;
    for (int r = k0; r < k0 + kc; r++) {
        const int ci = r / (K * K), ky = (r / K) % K, kx = r % K;
        const float *xp = x + (size_t)ci * c->h * c->w;
        float *d = dst + (size_t)(r - k0) * ldd;
        int lo, hi;
        valid_range(c, kx, &lo, &hi);
        int p = p0, end = p0 + np;
        while (p < end) {
            int oy = p / ow, ox = p % ow;
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
                } else {
                    for (; j < b; j++) dd[j - ox] = row[j * S];
                }
                for (; j < ox + len; j++) dd[j - ox] = 0.f;
            }
            p += len;
        }
    }
}

void lk__col2im_panel(const lk_conv *c, const float *src, int lds, int k0, int kc, int p0, int np,
                      float *dx)
{
    const int K = c->k, S = c->stride, P = c->pad, ow = c->ow;
    for (int r = k0; r < k0 + kc; r++) {
        const int ci = r / (K * K), ky = (r / K) % K, kx = r % K;
        float *xp = dx + (size_t)ci * c->h * c->w;
        const float *s = src + (size_t)(r - k0) * lds;
        int lo, hi;
        valid_range(c, kx, &lo, &hi);
        int p = p0, end = p0 + np;
        while (p < end) {
            int oy = p / ow, ox = p % ow;
            int len = ow - ox < end - p ? ow - ox : end - p;
            int iy = oy * S + ky - P;
            if (iy >= 0 && iy < c->h) {
                float *row = xp + (size_t)iy * c->w + kx - P;
                const float *ss = s + (p - p0) - ox;
                int a = lo > ox ? lo : ox, b = hi < ox + len ? hi : ox + len;
                if (S == 1)
                    for (int j = a; j < b; j++) row[j] += ss[j];
                else
                    for (int j = a; j < b; j++) row[j * S] += ss[j];
            }
            p += len;
        }
    }
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
    if (act == LK_ACT_RELU)
        for (size_t i = 0; i < n; i++) dx[i] = y[i] > 0.f ? dx[i] : 0.f;
    else if (act == LK_ACT_LEAKY)
        for (size_t i = 0; i < n; i++) dx[i] = y[i] > 0.f ? dx[i] : dx[i] * slope;
}
