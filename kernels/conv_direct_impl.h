/* conv_direct_impl.h — direct 3x3 stride-1 convolution for layers with few output channels (the
 * anomaly map's 1-channel head, a defect-class head). There the GEMM's 8-row register tile is
 * mostly zero rows, and every unfolded element is used once, so the unfold costs as much as the
 * product: the map layer ran at 8-10 GFLOP/s against 100-200 for the trunk.
 *
 * Each plane is copied into a zero-padded buffer whose rows are a multiple of 4 vectors wide (plus
 * the kernel's reach), so every tap is a plain shifted row of full vectors and a block of output
 * columns stays in four register accumulators. Included by each SIMD file; the vector is a zmm or
 * a ymm. Every output is computed by one task in a fixed order: results do not depend on the
 * thread count. The second half of the file is the same idea for many output channels (the
 * trunk's stride-1 layers, lk__conv_dm_ok). */
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

/* lane sum as a tree (halves added until one lane is left): the many-output weight gradient
 * reduces 27 vectors per block, and a chain of scalar adds ran it 15-20 % slower (28x28, 56x56) */
static inline float dsum(dv v)
{
    float a[DV];
    memcpy(a, &v, sizeof v);
    for (int w = DV / 2; w >= 1; w /= 2)
        for (int i = 0; i < w; i++) a[i] += a[i + w];
    return a[0];
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

/* ---- Many output channels (lk__conv_dm_ok): the trunk's 3x3 stride-1 layers ----------------
 *
 * The GEMM path unfolds 9 rows per input channel and then runs a tile of cout (16-48) rows over
 * them; here the input planes of a group of images are copied once into zero-padded planes
 * stacked one after the other (rows ld = w + 2 pad wide), so output position q = (image, oy, ox)
 * reads tap (ky, kx) at q + ky*ld + kx: every tap is the same flat shift for all positions. A
 * register block is LK_DM_CO output channels x DMV vectors of consecutive positions; per input
 * channel and tap it loads DMV vectors and broadcasts one weight per output. Positions on the
 * padding columns and rows between images are computed and dropped. Each output is one chain
 * over (input channel, tap) in a fixed order, whatever the grouping or thread count. */
#ifdef __AVX512F__
#define DMV 4  /* 6 x 4 zmm accumulators + 4 inputs + a broadcast */
#define DWCO 3 /* weight gradient: 3 outputs x 9 taps zmm accumulators + 3 dy + 1 x */
#else
#define DMV 2  /* 6 x 2 of the 16 ymm */
#endif

static size_t dm_up(size_t x, size_t m) { return (x + m - 1) / m * m; }

/* slices of the output blocks per image group: 1, or one per thread when the groups alone would
 * leave a thread idle (never more than the blocks) */
static int dm_slices(int ngroups, int nt, int nblocks)
{
    const int nsl = ngroups % nt == 0 ? 1 : nt;
    return nsl > nblocks ? nblocks : nsl;
}

/* gn planes (hi x wi, img floats apart) into one buffer of padded planes of hp x ld, zero past
 * the last one up to cs */
static void dm_pad(const float *src, size_t img, int gn, int hi, int wi, int pad, int hp, int ld, float *dst,
                   size_t cs)
{
    float *d = dst;
    for (int g = 0; g < gn; g++, src += img)
        for (int r = 0; r < hp; r++, d += ld) {
            const int y = r - pad;
            if (y < 0 || y >= hi) {
                memset(d, 0, (size_t)ld * sizeof(float));
                continue;
            }
            memset(d, 0, (size_t)pad * sizeof(float));
            memcpy(d + pad, src + (size_t)y * wi, (size_t)wi * sizeof(float));
            memset(d + pad + wi, 0, (size_t)pad * sizeof(float));
        }
    memset(d, 0, (cs - (size_t)(d - dst)) * sizeof(float));
}

/* wp[b][i][t][o] = the weight of output b*LK_DM_CO + o from input i at tap t (zero past nout):
 * src[o*so + i*si + t], or tap 8 - t when flip (the data gradient's turned kernels) */
static void dm_pack(const float *src, int nout, int nin, size_t so, size_t si, int flip, float *wp, int threads)
{
    const int ncb = (nout + LK_DM_CO - 1) / LK_DM_CO;
    LK_PFOR(lk__threads(threads), int, b, ncb, {
        float *d = wp + (size_t)b * nin * 9 * LK_DM_CO;
        for (int i = 0; i < nin; i++)
            for (int t = 0; t < 9; t++)
                for (int o = 0; o < LK_DM_CO; o++, d++) {
                    const int co = b * LK_DM_CO + o;
                    *d = co < nout ? src[(size_t)co * so + (size_t)i * si + (size_t)(flip ? 8 - t : t)] : 0.f;
                }
    });
}

/* out[o][0 .. DMV*DV) (rows os apart) = sum over nin padded planes (cs apart) and taps of
 * wp[i][t][o] * in[i][t's shift + position] */
static inline void dm_block(const float *in, size_t cs, int nin, int ld, const float *wp, float *out, size_t os)
{
    dv acc[LK_DM_CO][DMV];
#pragma GCC unroll 6
    for (int o = 0; o < LK_DM_CO; o++)
#pragma GCC unroll 4
        for (int v = 0; v < DMV; v++) acc[o][v] = (dv){0};
    for (int i = 0; i < nin; i++, in += cs, wp += 9 * LK_DM_CO) {
#pragma GCC unroll 9
        for (int t = 0; t < 9; t++) {
            const float *p = in + (size_t)(t / 3) * ld + t % 3;
            dv xv[DMV];
#pragma GCC unroll 4
            for (int v = 0; v < DMV; v++) xv[v] = dload(p + v * DV);
#pragma GCC unroll 6
            for (int o = 0; o < LK_DM_CO; o++) {
                const float wv = wp[t * LK_DM_CO + o];
#pragma GCC unroll 4
                for (int v = 0; v < DMV; v++) acc[o][v] += wv * xv[v];
            }
        }
    }
#pragma GCC unroll 6
    for (int o = 0; o < LK_DM_CO; o++)
#pragma GCC unroll 4
        for (int v = 0; v < DMV; v++) memcpy(out + (size_t)o * os + v * DV, &acc[o][v], sizeof(dv));
}

/* What a task does with its staged outputs: the forward's bias and activation into y, or the data
 * gradient's store (added, or written and taken through act'(act_y)) into dx. */
typedef struct {
    float *out;
    int data;
    const float *bias;
    lk_act act;
    float slope;
    int accumulate;
    const float *act_y;
} dm_epi;

/* The stride-1 3x3 convolution of n images of nin planes (hi x wi, padded by pad) into nout planes
 * by packed weights wp. Tasks are (group of images, slice of output blocks); slices only when the
 * groups alone would leave a thread idle, and they repeat the padding, never an output. */
static void dm_run(int n, int nin, int hi, int wi, int pad, int nout, const float *in, const float *wp,
                   float *bufs, const dm_epi *e, int threads)
{
    lk__dm_geom g;
    lk__dm_geom_get(n, hi, wi, pad, &g);
    const int nt = lk__threads(threads), ncb = (nout + LK_DM_CO - 1) / LK_DM_CO;
    const int ho = g.hp - 2, wo = g.ld - 2;
    const size_t plane = (size_t)g.hp * g.ld, iplane = (size_t)hi * wi, oplane = (size_t)ho * wo;
    const size_t per = (size_t)nin * g.cs + (size_t)ncb * LK_DM_CO * g.qr;
    const int nsl = dm_slices(g.ngroups, nt, ncb);
    LK_PFOR(nt, int, t, g.ngroups * nsl, {
        const int gi = t / nsl, s = t % nsl, n0 = gi * n / g.ngroups, gn = (gi + 1) * n / g.ngroups - n0;
        const int b0 = s * ncb / nsl, b1 = (s + 1) * ncb / nsl;
        float *ib = bufs + (size_t)omp_get_thread_num() * per, *ob = ib + (size_t)nin * g.cs;
        for (int i = 0; i < nin; i++)
            dm_pad(in + ((size_t)n0 * nin + i) * iplane, (size_t)nin * iplane, gn, hi, wi, pad, g.hp, g.ld,
                   ib + (size_t)i * g.cs, g.cs);
        const size_t qn = dm_up((size_t)gn * plane - 2 * (size_t)g.ld, DMV * DV);
        for (size_t q0 = 0; q0 < qn; q0 += DMV * DV)
            for (int b = b0; b < b1; b++)
                dm_block(ib + q0, g.cs, nin, g.ld, wp + (size_t)b * nin * 9 * LK_DM_CO,
                         ob + (size_t)b * LK_DM_CO * g.qr + q0, g.qr);
        const int o1 = b1 * LK_DM_CO < nout ? b1 * LK_DM_CO : nout;
        for (int o = b0 * LK_DM_CO; o < o1; o++)
            for (int k = 0; k < gn; k++)
                for (int oy = 0; oy < ho; oy++) {
                    const float *src = ob + (size_t)o * g.qr + (size_t)k * plane + (size_t)oy * g.ld;
                    const size_t off = ((size_t)(n0 + k) * nout + o) * oplane + (size_t)oy * wo;
                    if (e->data) {
                        dstore(e->out + off, src, e->act_y ? e->act_y + off : NULL, wo, e->accumulate, e->act,
                               e->slope);
                    } else {
                        memcpy(e->out + off, src, (size_t)wo * sizeof(float));
                        lk__bias_act_rows(e->out + off, 1, wo, wo, e->bias ? e->bias + o : NULL, e->act, e->slope);
                    }
                }
    });
}

static void dm_forward_impl(const lk_conv *c, const float *x, const float *w, const float *bias, lk_act act,
                            float slope, float *y, float *scratch, int threads)
{
    const size_t np = dm_up(dm_up((size_t)c->cout, LK_DM_CO) * c->cin * 9, 16);
    dm_pack(w, c->cout, c->cin, (size_t)c->cin * 9, 9, 0, scratch, threads);
    const dm_epi e = {.out = y, .bias = bias, .act = act, .slope = slope};
    dm_run(c->n, c->cin, c->h, c->w, c->pad, c->cout, x, scratch, scratch + np, &e, threads);
}

/* dx = the forward of dy padded by 2 - pad, kernels turned 180 degrees, channel roles swapped */
static void dm_backward_data_impl(const lk_conv *c, const float *dy, const float *w, float *dx, int accumulate,
                                  lk_act act, float slope, const float *act_y, float *scratch, int threads)
{
    const size_t np = dm_up(dm_up((size_t)c->cin, LK_DM_CO) * c->cout * 9, 16);
    dm_pack(w, c->cin, c->cout, 9, (size_t)c->cin * 9, 1, scratch, threads);
    const dm_epi e = {.out = dx, .data = 1, .act = accumulate ? LK_ACT_NONE : act, .slope = slope,
                      .accumulate = accumulate, .act_y = accumulate || act == LK_ACT_NONE ? NULL : act_y};
    dm_run(c->n, c->cout, c->oh, c->ow, 2 - c->pad, c->cin, dy, scratch, scratch + np, &e, threads);
}

#ifdef DWCO
/* (AVX2 has none: 16 ymm hold 9 taps of one output, 10 loads per 9 FMAs, slower than its GEMM.)
 * DWCO outputs x 9 taps of one input channel over positions [0, qn): g rows of dy laid out like
 * the outputs (zero on the dropped positions, so they add nothing), x a padded buffer */
static inline void dm_wblock(const float *const g[DWCO], const float *x, int ld, size_t qn, float *out, size_t os)
{
    dv acc[DWCO][9];
#pragma GCC unroll 3
    for (int o = 0; o < DWCO; o++)
#pragma GCC unroll 9
        for (int t = 0; t < 9; t++) acc[o][t] = (dv){0};
    for (size_t q = 0; q < qn; q += DV) {
        dv gv[DWCO];
#pragma GCC unroll 3
        for (int o = 0; o < DWCO; o++) gv[o] = dload(g[o] + q);
#pragma GCC unroll 9
        for (int t = 0; t < 9; t++) {
            dv xv = dload(x + q + (size_t)(t / 3) * ld + t % 3);
            /* one load feeding DWCO FMAs: GCC would fold it into each FMA as a memory operand,
             * and the loads (most of them split over two lines) are then the bottleneck */
            __asm__("" : "+v"(xv));
#pragma GCC unroll 3
            for (int o = 0; o < DWCO; o++) acc[o][t] += gv[o] * xv;
        }
    }
#pragma GCC unroll 3
    for (int o = 0; o < DWCO; o++)
#pragma GCC unroll 9
        for (int t = 0; t < 9; t++) out[(size_t)o * os + t] = dsum(acc[o][t]);
}

/* dw[co][ci][tap] += sum over images and positions of dy[co] * x[ci] shifted by the tap. A task
 * (group of images, slice of outputs) writes its group's partial sums; the groups are shape-only
 * (lk__dm_geom_get) and added in order at the end, so the result does not follow the threads. */
static void dm_backward_weights_impl(const lk_conv *c, const float *x, const float *dy, float *dw, float *db,
                                     float *scratch, int threads)
{
    lk__dm_geom g;
    lk__dm_geom_get(c->n, c->h, c->w, c->pad, &g);
    const int nt = lk__threads(threads), ncb = (c->cout + DWCO - 1) / DWCO;
    const size_t nw = (size_t)c->cout * c->cin * 9, pst = dm_up(nw + (size_t)c->cout, 16);
    const size_t plane = (size_t)g.hp * g.ld, iplane = (size_t)c->h * c->w, oplane = (size_t)c->oh * c->ow;
    const size_t gs = dm_up(g.span, LK_DM_Q), per = (size_t)c->cin * g.cs + (size_t)c->cout * gs;
    float *part = scratch, *bufs = scratch + (size_t)g.ngroups * pst;
    const int nsl = dm_slices(g.ngroups, nt, ncb);
    LK_PFOR(nt, int, t, g.ngroups * nsl, {
        const int gi = t / nsl, s = t % nsl, n0 = gi * c->n / g.ngroups, gn = (gi + 1) * c->n / g.ngroups - n0;
        const int co0 = s * ncb / nsl * DWCO, co1 = (s + 1) * ncb / nsl * DWCO < c->cout ? (s + 1) * ncb / nsl * DWCO : c->cout;
        float *xb = bufs + (size_t)omp_get_thread_num() * per, *gb = xb + (size_t)c->cin * g.cs;
        float *pw = part + (size_t)gi * pst;
        const size_t qn = dm_up((size_t)gn * plane - 2 * (size_t)g.ld, DV);
        for (int ci = 0; ci < c->cin; ci++)
            dm_pad(x + ((size_t)n0 * c->cin + ci) * iplane, (size_t)c->cin * iplane, gn, c->h, c->w, c->pad, g.hp,
                   g.ld, xb + (size_t)ci * g.cs, g.cs);
        /* dy at the positions of the outputs, zero elsewhere */
        for (int co = co0; co < co1; co++) {
            float *d = gb + (size_t)co * gs;
            memset(d, 0, gs * sizeof(float));
            for (int k = 0; k < gn; k++)
                for (int oy = 0; oy < c->oh; oy++)
                    memcpy(d + (size_t)k * plane + (size_t)oy * g.ld,
                           dy + ((size_t)(n0 + k) * c->cout + co) * oplane + (size_t)oy * c->ow,
                           (size_t)c->ow * sizeof(float));
            if (db) {
                dv sv = (dv){0};
                for (size_t q = 0; q < qn; q += DV) sv += dload(d + q);
                pw[nw + co] = dsum(sv);
            }
        }
        for (int co = co0; co < co1; co += DWCO) {
            /* rows past the last output re-read a real row; their sums are dropped */
            const float *gr[DWCO];
            for (int o = 0; o < DWCO; o++) gr[o] = gb + (size_t)(co + o < c->cout ? co + o : c->cout - 1) * gs;
            float tmp[DWCO * 9];
            for (int ci = 0; ci < c->cin; ci++) {
                dm_wblock(gr, xb + (size_t)ci * g.cs, g.ld, qn, tmp, 9);
                for (int o = 0; o < DWCO && co + o < c->cout; o++)
                    memcpy(pw + ((size_t)(co + o) * c->cin + ci) * 9, tmp + o * 9, 9 * sizeof(float));
            }
        }
    });
    /* the groups' partials, added in group order */
    const size_t tot = nw + (db ? (size_t)c->cout : 0);
    const int chunks = (int)((tot + 1023) / 1024);
    LK_PFOR(nt, int, k, chunks, {
        const size_t i1 = ((size_t)k + 1) * 1024 < tot ? ((size_t)k + 1) * 1024 : tot;
        for (size_t i = (size_t)k * 1024; i < i1; i++) {
            float sum = 0.f;
            for (int q = 0; q < g.ngroups; q++) sum += part[(size_t)q * pst + i];
            if (i < nw) dw[i] += sum;
            else db[i - nw] += sum;
        }
    });
}

#endif /* DWCO */
#endif
