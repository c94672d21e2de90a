/* conv_direct_impl.h — direct 3x3 stride-1 convolution for layers with few output channels (the
 * anomaly map's 1-channel head, a defect-class head). There the GEMM's 8-row register tile is
 * mostly zero rows, and every unfolded element is used once, so the unfold costs as much as the
 * product: the map layer ran at 8-10 GFLOP/s against 100-200 for the trunk.
 *
 * Each plane is copied into a zero-padded buffer whose rows are a multiple of 4 vectors wide (plus
 * the kernel's reach), so every tap is a plain shifted row of full vectors and a block of output
 * columns stays in four register accumulators. Included by each SIMD file; the vector is a zmm or
 * a ymm. Every output is computed by one task in a fixed order: results do not depend on the
 * thread count. */
#ifndef LOOKOUT_CONV_DIRECT_IMPL_H
#define LOOKOUT_CONV_DIRECT_IMPL_H
#include "conv_internal.h"

#include <string.h>

#ifdef __AVX512F__
typedef float dv __attribute__((vector_size(64)));
#define DV 16        /* floats per vector */
#else
typedef float dv __attribute__((vector_size(32)));
#define DV 8
#endif
#define DSEG (4 * DV) /* output columns per register block: 4 vectors */
#define DK 3
#define DROWS 8      /* output rows per task */

static inline dv dload(const float *p)
{
    dv v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline float dsum(dv v)
{
    float s = 0.f;
    for (int i = 0; i < DV; i++) s += v[i];
    return s;
}

/* rows [r0, r0+nr) of a plane (h x w) padded by `top` rows and `left` columns, into dst rows of ld
 * floats (zero outside the plane) */
static void dpad_rows(const float *src, int h, int w, int top, int left, int r0, int nr, float *dst, int ld)
{
    for (int r = 0; r < nr; r++) {
        float *d = dst + (size_t)r * ld;
        const int y = r0 + r - top;
        memset(d, 0, (size_t)ld * sizeof(float));
        if (y >= 0 && y < h) memcpy(d + left, src + (size_t)y * w, (size_t)w * sizeof(float));
    }
}

/* out[0..DSEG) = sum over `nch` padded planes (row stride ld, DROWS + 2 rows apart by cs floats)
 * of k[ch][ky][kx] * in[ch][ky][kx + col], with in already at the output row and segment */
static inline void dtaps(float *out, const float *in, size_t cs, int ld, int nch, const float *k, size_t ks)
{
    dv s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
    for (int ch = 0; ch < nch; ch++, in += cs, k += ks)
        for (int ky = 0; ky < DK; ky++)
            for (int kx = 0; kx < DK; kx++) {
                const float *p = in + (size_t)ky * ld + kx;
                const float wv = k[ky * DK + kx];
                s0 += wv * dload(p);
                s1 += wv * dload(p + DV);
                s2 += wv * dload(p + 2 * DV);
                s3 += wv * dload(p + 3 * DV);
            }
    memcpy(out, &s0, sizeof s0);
    memcpy(out + DV, &s1, sizeof s1);
    memcpy(out + 2 * DV, &s2, sizeof s2);
    memcpy(out + 3 * DV, &s3, sizeof s3);
}

static int dld(int cols) { return (cols + DSEG - 1) / DSEG * DSEG + DV; } /* >= segments + reach */

/* m outputs of a block into dx: added, or written and taken through act'(ay) */
static void dstore(float *restrict d, const float *restrict seg, const float *ay, int m, int accumulate, lk_act act,
                   float slope)
{
    if (accumulate) {
        for (int j = 0; j < m; j++) d[j] += seg[j];
        return;
    }
    memcpy(d, seg, (size_t)m * sizeof(float));
    if (ay) mask_act_impl(d, ay, (size_t)m, act, slope);
}

static int dtasks(int n, int rows) { return n * ((rows + DROWS - 1) / DROWS); }

static void direct_forward_impl(const lk_conv *c, const float *x, const float *w, const float *bias,
                                lk_act act, float slope, float *y, float *scratch, int threads)
{
    const int ld = dld(c->ow), nb = (c->oh + DROWS - 1) / DROWS, pr = DROWS + DK - 1;
    const size_t cs = (size_t)pr * ld, per = (size_t)c->cin * cs + DSEG, KK = (size_t)c->cin * DK * DK;
    const size_t P = (size_t)c->oh * c->ow;
    LK_PFOR(lk__threads(threads), int, t, dtasks(c->n, c->oh), {
        const int n = t / nb, oy0 = (t % nb) * DROWS, rows = c->oh - oy0 < DROWS ? c->oh - oy0 : DROWS;
        float *buf = scratch + (size_t)omp_get_thread_num() * per, *seg = buf + (size_t)c->cin * cs;
        for (int ci = 0; ci < c->cin; ci++)
            dpad_rows(x + ((size_t)n * c->cin + ci) * c->h * c->w, c->h, c->w, c->pad, c->pad, oy0, rows + DK - 1,
                      buf + ci * cs, ld);
        for (int co = 0; co < c->cout; co++) {
            for (int r = 0; r < rows; r++) {
                float *yr = y + ((size_t)n * c->cout + co) * P + (size_t)(oy0 + r) * c->ow;
                for (int s0 = 0; s0 < c->ow; s0 += DSEG) {
                    dtaps(seg, buf + (size_t)r * ld + s0, cs, ld, c->cin, w + co * KK, DK * DK);
                    memcpy(yr + s0, seg, (size_t)(c->ow - s0 < DSEG ? c->ow - s0 : DSEG) * sizeof(float));
                }
                lk__bias_act_rows(yr, 1, c->ow, c->ow, bias ? bias + co : NULL, act, slope);
            }
        }
    });
}

/* dx = the forward of dy (padded by DK - 1 - pad) with each kernel turned 180 degrees and the
 * channel roles swapped; flipped weights are packed first (kt[ci][co][tap]) */
static void direct_backward_data_impl(const lk_conv *c, const float *dy, const float *w, float *dx,
                                      int accumulate, lk_act act, float slope, const float *act_y,
                                      float *scratch, int threads)
{
    const int ld = dld(c->w), nb = (c->h + DROWS - 1) / DROWS, pr = DROWS + DK - 1, q = DK - 1 - c->pad;
    const size_t cs = (size_t)pr * ld, per = (size_t)c->cout * cs + DSEG, T9 = DK * DK;
    const size_t plane = (size_t)c->h * c->w, oplane = (size_t)c->oh * c->ow;
    const int nt = lk__threads(threads);
    float *kt = scratch;
    for (int co = 0; co < c->cout; co++)
        for (int ci = 0; ci < c->cin; ci++)
            for (size_t t = 0; t < T9; t++)
                kt[((size_t)ci * c->cout + co) * T9 + t] = w[((size_t)co * c->cin + ci) * T9 + (T9 - 1 - t)];
    float *bufs = scratch + ((size_t)c->cin * c->cout * T9 + 15) / 16 * 16;
    LK_PFOR(nt, int, t, dtasks(c->n, c->h), {
        const int n = t / nb, iy0 = (t % nb) * DROWS, rows = c->h - iy0 < DROWS ? c->h - iy0 : DROWS;
        float *buf = bufs + (size_t)omp_get_thread_num() * per, *seg = buf + (size_t)c->cout * cs;
        for (int co = 0; co < c->cout; co++)
            dpad_rows(dy + ((size_t)n * c->cout + co) * oplane, c->oh, c->ow, q, q, iy0, rows + DK - 1,
                      buf + co * cs, ld);
        for (int ci = 0; ci < c->cin; ci++)
            for (int r = 0; r < rows; r++) {
                const size_t off = ((size_t)n * c->cin + ci) * plane + (size_t)(iy0 + r) * c->w;
                float *d = dx + off;
                const float *ay = act_y ? act_y + off : NULL;
                for (int s0 = 0; s0 < c->w; s0 += DSEG) {
                    dtaps(seg, buf + (size_t)r * ld + s0, cs, ld, c->cout, kt + (size_t)ci * c->cout * T9, T9);
                    dstore(d + s0, seg, ay ? ay + s0 : NULL, c->w - s0 < DSEG ? c->w - s0 : DSEG, accumulate, act,
                           slope);
                }
            }
    });
}

/* dw[co][ci][tap] += sum over images and positions of dy[co] * x[ci] shifted by the tap: one task
 * per input channel (it owns those weights), dy copied once into zero-padded rows so the extra
 * lanes add nothing */
static void direct_backward_weights_impl(const lk_conv *c, const float *x, const float *dy, float *dw,
                                         float *db, float *scratch, int threads)
{
    const int ldg = dld(c->ow) - DV, ldx = dld(c->ow), nt = lk__threads(threads);
    const size_t gplane = (size_t)c->oh * ldg, xplane = (size_t)(c->oh + DK - 1) * ldx;
    const size_t oplane = (size_t)c->oh * c->ow, T9 = DK * DK;
    float *g = scratch, *bufs = scratch + (size_t)c->n * c->cout * gplane;
    LK_PFOR(nt, int, t, c->n * c->cout, {
        dpad_rows(dy + (size_t)t * oplane, c->oh, c->ow, 0, 0, 0, c->oh, g + (size_t)t * gplane, ldg);
    });
    LK_PFOR(nt, int, ci, c->cin, {
        float *xb = bufs + (size_t)omp_get_thread_num() * xplane;
        for (int co = 0; co < c->cout; co++) {
            dv acc[DK * DK];
            memset(acc, 0, sizeof acc);
            for (int n = 0; n < c->n; n++) {
                /* the same padded input plane serves every co; cout is small, so refilling it
                 * per co costs less than keeping cout accumulator sets live */
                dpad_rows(x + ((size_t)n * c->cin + ci) * c->h * c->w, c->h, c->w, c->pad, c->pad, 0, c->oh + DK - 1,
                          xb, ldx);
                const float *gp = g + ((size_t)n * c->cout + co) * gplane;
                for (int oy = 0; oy < c->oh; oy++)
                    for (int s0 = 0; s0 < ldg; s0 += DV) {
                        const dv gv = dload(gp + (size_t)oy * ldg + s0);
                        const float *xr = xb + (size_t)oy * ldx + s0;
                        for (int ky = 0; ky < DK; ky++)
                            for (int kx = 0; kx < DK; kx++) acc[ky * DK + kx] += gv * dload(xr + (size_t)ky * ldx + kx);
                    }
            }
            float *d = dw + ((size_t)co * c->cin + ci) * T9;
            for (size_t k = 0; k < T9; k++) d[k] += dsum(acc[k]);
        }
    });
    if (db)
        for (int co = 0; co < c->cout; co++) {
            double s = 0;
            for (int n = 0; n < c->n; n++) {
                const float *p = dy + ((size_t)n * c->cout + co) * oplane;
                for (size_t i = 0; i < oplane; i++) s += p[i];
            }
            db[co] += (float)s;
        }
}

#endif
