/* conv_avx512.c — AVX-512 inner kernels of our own GEMM (this file alone is compiled with
 * -mavx512*; the dispatcher only calls it when CPUID says the CPU has them).
 *
 * gemm: an 8 x 48 register tile (24 zmm accumulators): per k, 3 vector loads of B and 8
 * broadcasts of A feed 24 FMAs, enough independent chains to cover the FMA latency on both pipes.
 * Column tails use masked loads/stores, so any width runs on the same code.
 * dot: 4 x 6 dot products of long rows (weight gradients), 10 loads per 24 FMAs. */
#include <immintrin.h>

/* Stride-2 unfold/fold with lane permutes instead of scalar element moves: rows are short (a
 * 28-wide output row would otherwise be mostly scalar tail). Loads never pass s[2(n-1)]. */
#define LK_HAVE_S2
static inline __mmask16 s2_mask(int n) { return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n > 0 ? n : 0)) - 1u); }

static inline void copy_s2(float *d, const float *s, int n) /* d[j] = s[2j] */
{
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    int j = 0;
    for (; j + 16 < n; j += 16)
        _mm512_storeu_ps(d + j, _mm512_permutex2var_ps(_mm512_loadu_ps(s + 2 * j), even, _mm512_loadu_ps(s + 2 * j + 16)));
    if (j < n) {
        const int r = n - j, span = 2 * r - 1; /* elements s[2j .. 2j + span) are needed */
        __m512 a = _mm512_maskz_loadu_ps(s2_mask(span), s + 2 * j);
        __m512 b = _mm512_maskz_loadu_ps(s2_mask(span - 16), s + 2 * j + 16);
        _mm512_mask_storeu_ps(d + j, s2_mask(r), _mm512_permutex2var_ps(a, even, b));
    }
}

static inline void add_s2(float *d, const float *s, int n) /* d[2j] += s[j] */
{
    const __m512i lo = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
    const __m512i hi = _mm512_setr_epi32(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
    const __mmask16 ev = 0x5555;
    int j = 0;
    for (; j + 16 < n; j += 16) {
        __m512 sv = _mm512_loadu_ps(s + j);
        __m512 a = _mm512_loadu_ps(d + 2 * j), b = _mm512_loadu_ps(d + 2 * j + 16);
        _mm512_storeu_ps(d + 2 * j, _mm512_mask_add_ps(a, ev, a, _mm512_permutexvar_ps(lo, sv)));
        _mm512_storeu_ps(d + 2 * j + 16, _mm512_mask_add_ps(b, ev, b, _mm512_permutexvar_ps(hi, sv)));
    }
    if (j < n) {
        const int r = n - j, span = 2 * r - 1;
        const __mmask16 ma = s2_mask(span), mb = s2_mask(span - 16);
        __m512 sv = _mm512_maskz_loadu_ps(s2_mask(r), s + j);
        __m512 a = _mm512_maskz_loadu_ps(ma, d + 2 * j), b = _mm512_maskz_loadu_ps(mb, d + 2 * j + 16);
        _mm512_mask_storeu_ps(d + 2 * j, ma, _mm512_mask_add_ps(a, ev, a, _mm512_permutexvar_ps(lo, sv)));
        _mm512_mask_storeu_ps(d + 2 * j + 16, mb, _mm512_mask_add_ps(b, ev, b, _mm512_permutexvar_ps(hi, sv)));
    }
}

#include "im2col_impl.h"
#include "conv_direct_impl.h"

#define MR 8

static inline __mmask16 tail_mask(int n) { return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n > 0 ? n : 0)) - 1u); }

static inline __m512 epi(__m512 v, const lk__gemm_args *a, int r)
{
    if (a->bias) v = _mm512_add_ps(v, _mm512_set1_ps(a->bias[r]));
    if (a->act == LK_ACT_RELU) v = _mm512_max_ps(v, _mm512_setzero_ps());
    else if (a->act == LK_ACT_LEAKY) {
        __mmask16 neg = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ);
        v = _mm512_mask_mul_ps(v, neg, v, _mm512_set1_ps(a->slope));
    }
    return v;
}

/* One 8 x 48 tile; `full` is a compile-time constant at both call sites, so full tiles use plain
 * loads and stores and only the column tail pays for masks. */
static inline __attribute__((always_inline)) void gemm_tile(const lk__gemm_args *a, int j, int full)
{
    const int kc = a->kc, mr = a->mr, rem = a->nc - j;
    const size_t ldb = a->ldb, ldc = a->ldc;
    const __mmask16 m0 = full ? 0xffff : tail_mask(rem), m1 = full ? 0xffff : tail_mask(rem - 16),
                    m2 = full ? 0xffff : tail_mask(rem - 32);
    const float *B = a->b + j;
    float *C = a->c + j;
    __m512 c[MR][3];
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
        if (a->accumulate && r < mr) {
            c[r][0] = full ? _mm512_loadu_ps(C + r * ldc) : _mm512_maskz_loadu_ps(m0, C + r * ldc);
            c[r][1] = full ? _mm512_loadu_ps(C + r * ldc + 16) : _mm512_maskz_loadu_ps(m1, C + r * ldc + 16);
            c[r][2] = full ? _mm512_loadu_ps(C + r * ldc + 32) : _mm512_maskz_loadu_ps(m2, C + r * ldc + 32);
        } else {
            c[r][0] = c[r][1] = c[r][2] = _mm512_setzero_ps();
        }
    }
    const float *ap = a->ap;
    for (int k = 0; k < kc; k++, ap += MR) {
        const float *bk = B + k * ldb;
        __m512 b0 = full ? _mm512_loadu_ps(bk) : _mm512_maskz_loadu_ps(m0, bk);
        __m512 b1 = full ? _mm512_loadu_ps(bk + 16) : _mm512_maskz_loadu_ps(m1, bk + 16);
        __m512 b2 = full ? _mm512_loadu_ps(bk + 32) : _mm512_maskz_loadu_ps(m2, bk + 32);
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            __m512 av = _mm512_set1_ps(ap[r]);
            c[r][0] = _mm512_fmadd_ps(av, b0, c[r][0]);
            c[r][1] = _mm512_fmadd_ps(av, b1, c[r][1]);
            c[r][2] = _mm512_fmadd_ps(av, b2, c[r][2]);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
        if (r >= mr) break;
        __m512 v0 = c[r][0], v1 = c[r][1], v2 = c[r][2];
        if (a->epilogue) { v0 = epi(v0, a, r); v1 = epi(v1, a, r); v2 = epi(v2, a, r); }
        if (full) {
            _mm512_storeu_ps(C + r * ldc, v0);
            _mm512_storeu_ps(C + r * ldc + 16, v1);
            _mm512_storeu_ps(C + r * ldc + 32, v2);
        } else {
            _mm512_mask_storeu_ps(C + r * ldc, m0, v0);
            _mm512_mask_storeu_ps(C + r * ldc + 16, m1, v1);
            _mm512_mask_storeu_ps(C + r * ldc + 32, m2, v2);
        }
    }
}

static void gemm_avx512(const lk__gemm_args *a)
{
    int j = 0;
    for (; j + 48 <= a->nc; j += 48) gemm_tile(a, j, 1);
    if (j < a->nc) gemm_tile(a, j, 0);
}

#define DI 4
#define DJ 6

/* One DI x DJ block; every array index is a compile-time constant after unrolling, so the 24
 * accumulators stay in registers (a variable index would force them to the stack). */
static inline void dot_block(int len, const float *const ar[DI], const float *const br[DJ],
                             float out[DI][DJ])
{
    __m512 acc[DI][DJ];
#pragma GCC unroll 4
    for (int i = 0; i < DI; i++)
#pragma GCC unroll 6
        for (int j = 0; j < DJ; j++) acc[i][j] = _mm512_setzero_ps();
    int p = 0;
    for (; p + 16 <= len; p += 16) {
        __m512 av[DI];
#pragma GCC unroll 4
        for (int i = 0; i < DI; i++) av[i] = _mm512_loadu_ps(ar[i] + p);
#pragma GCC unroll 6
        for (int j = 0; j < DJ; j++) {
            __m512 bv = _mm512_loadu_ps(br[j] + p);
#pragma GCC unroll 4
            for (int i = 0; i < DI; i++) acc[i][j] = _mm512_fmadd_ps(av[i], bv, acc[i][j]);
        }
    }
    if (p < len) {
        const __mmask16 mk = tail_mask(len - p);
        __m512 av[DI];
#pragma GCC unroll 4
        for (int i = 0; i < DI; i++) av[i] = _mm512_maskz_loadu_ps(mk, ar[i] + p);
#pragma GCC unroll 6
        for (int j = 0; j < DJ; j++) {
            __m512 bv = _mm512_maskz_loadu_ps(mk, br[j] + p);
#pragma GCC unroll 4
            for (int i = 0; i < DI; i++) acc[i][j] = _mm512_fmadd_ps(av[i], bv, acc[i][j]);
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < DI; i++)
#pragma GCC unroll 6
        for (int j = 0; j < DJ; j++) out[i][j] = _mm512_reduce_add_ps(acc[i][j]);
}

static void dot_avx512(int m, int n, int len, const float *A, size_t lda, const float *B, size_t ldb,
                       float *C, size_t ldc)
{
    /* B rows outer: the DJ rows of B stay in L1 while the A rows stream from L2, which moves
     * (n / DJ) * m rows from L2 instead of (m / DI) * n (the dots wait on those loads) */
    for (int j0 = 0; j0 < n; j0 += DJ)
        for (int i0 = 0; i0 < m; i0 += DI) {
            const float *ar[DI], *br[DJ];
            /* rows past the edge re-read a valid row; their sums are dropped */
            for (int i = 0; i < DI; i++) ar[i] = A + (size_t)(i0 + i < m ? i0 + i : m - 1) * lda;
            for (int j = 0; j < DJ; j++) br[j] = B + (size_t)(j0 + j < n ? j0 + j : n - 1) * ldb;
            float out[DI][DJ];
            dot_block(len, ar, br, out);
            for (int i = 0; i < DI && i0 + i < m; i++)
                for (int j = 0; j < DJ && j0 + j < n; j++) C[(size_t)(i0 + i) * ldc + j0 + j] += out[i][j];
        }
}

/* Unfold of panels made of whole output rows with stride 1 or 2: each output row is a few
 * 16-lane chunks whose load masks (the zero padding) depend only on kx and the chunk, so they are
 * computed once per call; a row then costs two masked loads, a permute and a masked store per
 * chunk. Narrow layers (8-28 wide rows) spent most of their unfolding in per-segment bookkeeping. */
#define ROW_CHUNKS_MAX 64
/* Per (kx, chunk) load masks of the 16 or 32-float input window (valid input columns that an
 * output lane reads), the same as output lanes (mv), and per chunk the output mask. */
static void row_masks(const lk_conv *c, __mmask16 ma[15][ROW_CHUNKS_MAX], __mmask16 mb[15][ROW_CHUNKS_MAX],
                      __mmask16 mv[15][ROW_CHUNKS_MAX], __mmask16 md[ROW_CHUNKS_MAX])
{
    const int K = c->k, S = c->stride, P = c->pad, ow = c->ow, w = c->w;
    const int nch = (ow + 15) / 16;
    for (int ch = 0; ch < nch; ch++) {
        const int cnt = ow - ch * 16 < 16 ? ow - ch * 16 : 16;
        md[ch] = (__mmask16)((1u << cnt) - 1u);
        for (int kx = 0; kx < K; kx++) {
            unsigned a = 0, b = 0, v = 0;
            for (int l = 0; l < cnt; l++) {
                int e = S == 2 ? 2 * l : l; /* element of the load window */
                int ix = ch * 16 * S + kx - P + e;
                if (ix >= 0 && ix < w) {
                    if (e < 16) a |= 1u << e; else b |= 1u << (e - 16);
                    v |= 1u << l; /* output lane l reads a real input column */
                }
            }
            ma[kx][ch] = (__mmask16)a;
            mb[kx][ch] = (__mmask16)b;
            mv[kx][ch] = (__mmask16)v;
        }
    }
}

/* 3x3, stride 2, pad 1 (the downsampling convolution): the three kx rows of one (channel, ky)
 * read the same input window. Two loads and two permutes give even (kx = 1) and odd (kx = 2)
 * columns, and kx = 0 is the odd vector shifted one lane with the previous chunk's last odd
 * column: 2 loads + 3 shuffles per 3 output vectors instead of 6 loads + 3 shuffles. */
static inline __mmask16 win_mask(int valid) { return valid >= 16 ? (__mmask16)0xffff : valid <= 0 ? 0 : (__mmask16)((1u << valid) - 1u); }

static int is_k3s2p1(const lk_conv *c, int p0, int np)
{
    return c->k == 3 && c->stride == 2 && c->pad == 1 && p0 % c->ow == 0 && np % c->ow == 0;
}

static void im2col_k3s2(const lk_conv *c, const float *x, int k0, int kc, int p0, int np,
                        float *dst, int ldd)
{
    const int ow = c->ow, w = c->w, h = c->h, nch = (ow + 15) / 16;
    const int oy0 = p0 / ow, rows = np / ow;
    const __m512i ie = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i io = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    const int iy_lo = 2 * oy0 - 1 < 0 ? 0 : 2 * oy0 - 1, iy_hi = 2 * (oy0 + rows) > h ? h : 2 * (oy0 + rows);
    const float *x_end = x + (size_t)c->cin * h * w;
    for (int g = k0 / 3; g * 3 < k0 + kc; g++) { /* g = ci*3 + ky */
        const int ci = g / 3, ky = g % 3;
        const float *xp = x + (size_t)ci * h * w;
        /* see im2col_avx512: the next channel's rows are prefetched, spread over the output
         * rows of ky = 0 (a burst of a few hundred prefetches stalled on the fill buffers) */
        const int pf_on = ky == 0 && xp + (size_t)h * w + (size_t)iy_hi * w <= x_end;
        float *d[3];
        int want[3];
        for (int kx = 0; kx < 3; kx++) {
            const int r = g * 3 + kx;
            want[kx] = r >= k0 && r < k0 + kc;
            d[kx] = dst + (size_t)(r - k0) * ldd;
        }
        for (int oy = oy0; oy < oy0 + rows; oy++) {
            const int iy = 2 * oy + ky - 1;
            const size_t o = (size_t)(oy - oy0) * ow;
            if (pf_on) {
                const int a = iy < iy_lo ? iy_lo : iy, b = iy + 3 > iy_hi ? iy_hi : iy + 3;
                const char *pf = (const char *)(xp + (size_t)h * w + (size_t)a * w);
                const char *pf_end = (const char *)(xp + (size_t)h * w + (size_t)b * w);
                for (; pf < pf_end; pf += 64) _mm_prefetch(pf, _MM_HINT_T0);
            }
            if (iy < 0 || iy >= h) {
                for (int kx = 0; kx < 3; kx++)
                    if (want[kx])
                        for (int ch = 0; ch < nch; ch++)
                            _mm512_mask_storeu_ps(d[kx] + o + ch * 16, win_mask(ow - ch * 16), _mm512_setzero_ps());
                continue;
            }
            const float *row = xp + (size_t)iy * w;
            __m512 prev = _mm512_setzero_ps(); /* column -1: padding */
            for (int ch = 0; ch < nch; ch++) {
                const int base = ch * 32;
                __m512 a, b;
                if (base + 32 <= w) { a = _mm512_loadu_ps(row + base); b = _mm512_loadu_ps(row + base + 16); }
                else { a = _mm512_maskz_loadu_ps(win_mask(w - base), row + base); b = _mm512_maskz_loadu_ps(win_mask(w - base - 16), row + base + 16); }
                const __m512 ev = _mm512_permutex2var_ps(a, ie, b), od = _mm512_permutex2var_ps(a, io, b);
                const __m512 k0v = _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(od), _mm512_castps_si512(prev), 15));
                prev = od;
                const int cnt = ow - ch * 16;
                if (cnt >= 16) {
                    if (want[0]) _mm512_storeu_ps(d[0] + o + ch * 16, k0v);
                    if (want[1]) _mm512_storeu_ps(d[1] + o + ch * 16, ev);
                    if (want[2]) _mm512_storeu_ps(d[2] + o + ch * 16, od);
                } else {
                    const __mmask16 m = win_mask(cnt);
                    if (want[0]) _mm512_mask_storeu_ps(d[0] + o + ch * 16, m, k0v);
                    if (want[1]) _mm512_mask_storeu_ps(d[1] + o + ch * 16, m, ev);
                    if (want[2]) _mm512_mask_storeu_ps(d[2] + o + ch * 16, m, od);
                }
            }
        }
    }
}

/* The fold of the same shape: per (channel, ky, output row), dx[2ox] += s1[ox] and
 * dx[2ox+1] += s2[ox] + s0[ox+1], interleaved in registers: one read-modify-write of the input
 * row instead of three (column -1, fed by s0[0], is padding). */
static inline __m512 act_mask(__m512 v, const float *y, __mmask16 m, int full, lk_act act, __m512 slope)
{
    const __m512 yv = full ? _mm512_loadu_ps(y) : _mm512_maskz_loadu_ps(m, y);
    const __mmask16 pos = _mm512_cmp_ps_mask(yv, _mm512_setzero_ps(), _CMP_GT_OQ);
    return act == LK_ACT_RELU ? _mm512_maskz_mov_ps(pos, v) : _mm512_mask_mov_ps(_mm512_mul_ps(v, slope), pos, v);
}

/* overwrite: every input row is written (not added) by its first contribution in the order the
 * panels run, so dx needs no zeroing pass; act != NONE: each contribution is multiplied by
 * act'(act_y) (a 0/1/slope factor distributes over the sum), so no masking pass either. */
static void fold_k3s2(const lk_conv *c, const float *src, int lds, int p0, int np, float *dx,
                      int overwrite, lk_act act, float slope, const float *act_y)
{
    const int ow = c->ow, w = c->w, h = c->h, nch = (ow + 15) / 16;
    const int oy0 = p0 / ow, rows = np / ow;
    const __m512i ilo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i ihi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const __m512 slope_v = _mm512_set1_ps(slope);
    for (int g = 0; g < c->cin * 3; g++) {
        const int ci = g / 3, ky = g % 3;
        float *xp = dx + (size_t)ci * h * w;
        const float *yp = act_y ? act_y + (size_t)ci * h * w : NULL;
        const float *s0 = src + (size_t)(g * 3) * lds, *s1 = s0 + lds, *s2 = s1 + lds;
        for (int oy = oy0; oy < oy0 + rows; oy++, s0 += ow, s1 += ow, s2 += ow) {
            const int iy = 2 * oy + ky - 1;
            if (iy < 0 || iy >= h) continue;
            if (ky == 0 && ci + 1 < c->cin) {
                /* the next channel's rows of dx and act_y: the fold stalled on both (stride-2
                 * row walks over two arrays the hardware prefetcher did not follow) */
                const int a = iy < 0 ? 0 : iy, b = oy + 1 == oy0 + rows ? iy + 3 : iy + 2;
                const size_t off = (size_t)h * w + (size_t)a * w, len = (size_t)((b > h ? h : b) - a) * w;
                for (size_t e = 0; e < len; e += 16) {
                    _mm_prefetch((const char *)(xp + off + e), _MM_HINT_T0);
                    if (yp) _mm_prefetch((const char *)(yp + off + e), _MM_HINT_T0);
                }
            }
            /* first contribution to row iy (see the comment above the function) */
            const int write = overwrite && (ky == 1 || (ky == 0 && oy - 1 >= oy0) || (ky == 2 && oy + 1 >= oy0 + rows));
            float *row = xp + (size_t)iy * w;
            const float *yrow = yp ? yp + (size_t)iy * w : NULL;
            __m512 c0 = _mm512_maskz_loadu_ps(win_mask(ow), s0);
            for (int ch = 0; ch < nch; ch++) {
                const __mmask16 m = win_mask(ow - ch * 16);
                const __m512 n0 = _mm512_maskz_loadu_ps(win_mask(ow - ch * 16 - 16), s0 + ch * 16 + 16);
                const __m512 v1 = _mm512_maskz_loadu_ps(m, s1 + ch * 16), v2 = _mm512_maskz_loadu_ps(m, s2 + ch * 16);
                const __m512 sh = _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(n0), _mm512_castps_si512(c0), 1));
                const __m512 od = _mm512_add_ps(v2, sh);
                c0 = n0;
                __m512 lo = _mm512_permutex2var_ps(v1, ilo, od), hi = _mm512_permutex2var_ps(v1, ihi, od);
                float *dp = row + ch * 32;
                const int base = ch * 32, full = base + 32 <= w;
                const __mmask16 ma = full ? (__mmask16)0xffff : win_mask(w - base), mb = full ? (__mmask16)0xffff : win_mask(w - base - 16);
                if (yrow && act != LK_ACT_NONE) {
                    lo = act_mask(lo, yrow + base, ma, full, act, slope_v);
                    hi = act_mask(hi, yrow + base + 16, mb, full, act, slope_v);
                }
                if (full) {
                    if (!write) { lo = _mm512_add_ps(_mm512_loadu_ps(dp), lo); hi = _mm512_add_ps(_mm512_loadu_ps(dp + 16), hi); }
                    _mm512_storeu_ps(dp, lo);
                    _mm512_storeu_ps(dp + 16, hi);
                } else {
                    if (!write) { lo = _mm512_add_ps(_mm512_maskz_loadu_ps(ma, dp), lo); hi = _mm512_add_ps(_mm512_maskz_loadu_ps(mb, dp + 16), hi); }
                    _mm512_mask_storeu_ps(dp, ma, lo);
                    _mm512_mask_storeu_ps(dp + 16, mb, hi);
                }
            }
        }
    }
}

static int fold_fused_avx512(const lk_conv *c, const float *src, int lds, int p0, int np, float *dx,
                             int overwrite, lk_act act, float slope, const float *act_y)
{
    if (!is_k3s2p1(c, p0, np)) return -1;
    fold_k3s2(c, src, lds, p0, np, dx, overwrite, act, slope, act_y);
    return 0;
}

static void im2col_avx512(const lk_conv *c, const float *x, int k0, int kc, int p0, int np,
                          float *dst, int ldd)
{
    const int K = c->k, S = c->stride, P = c->pad, ow = c->ow, w = c->w;
    const int nch = (ow + 15) / 16;
    if (is_k3s2p1(c, p0, np)) {
        im2col_k3s2(c, x, k0, kc, p0, np, dst, ldd);
        return;
    }
    if (S > 2 || p0 % ow || np % ow || nch > ROW_CHUNKS_MAX) {
        im2col_panel_impl(c, x, k0, kc, p0, np, dst, ldd);
        return;
    }
    __mmask16 ma[15][ROW_CHUNKS_MAX], mb[15][ROW_CHUNKS_MAX], mv[15][ROW_CHUNKS_MAX], md[ROW_CHUNKS_MAX];
    row_masks(c, ma, mb, mv, md);
    const float *x_end = x + (size_t)c->cin * c->h * w;
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const int oy0 = p0 / ow, rows = np / ow;
    /* input rows this panel reads, per channel: [iy_lo, iy_hi) */
    const int iy_lo = oy0 * S - P < 0 ? 0 : oy0 * S - P;
    const int iy_hi = (oy0 + rows - 1) * S + K - P > c->h ? c->h : (oy0 + rows - 1) * S + K - P;
    int ci = k0 / (K * K), ky = (k0 / K) % K, kx = k0 % K;
    for (int r = k0; r < k0 + kc; r++) {
        const float *xp = x + (size_t)ci * c->h * w;
        float *d = dst + (size_t)(r - k0) * ldd;
        /* Entering a channel: prefetch the next channel's rows. Each channel's few rows are a
         * short burst the hardware prefetcher does not see coming, and the unfold stalled on
         * those loads (most of its time in the profile). */
        if (r == k0 || (ky == 0 && kx == 0)) {
            const char *pf = (const char *)(xp + (size_t)c->h * w + (size_t)iy_lo * w);
            const char *pf_end = (const char *)(xp + (size_t)c->h * w + (size_t)iy_hi * w);
            if ((const float *)pf_end <= x_end)
                for (; pf < pf_end; pf += 64) _mm_prefetch(pf, _MM_HINT_T0);
        }
        for (int oy = oy0; oy < oy0 + rows; oy++, d += ow) {
            const int iy = oy * S + ky - P;
            if (iy < 0 || iy >= c->h) {
                for (int ch = 0; ch < nch; ch++) _mm512_mask_storeu_ps(d + ch * 16, md[ch], _mm512_setzero_ps());
                continue;
            }
            /* window start may sit before the row (left padding): those lanes are masked off */
            const float *row = xp + (size_t)iy * w + kx - P;
            for (int ch = 0; ch < nch; ch++) {
                const float *src = row + ch * 16 * S;
                __m512 v;
                /* Full-width loads whenever the window lies inside this image's tensor (partial
                 * mask loads are several times slower on this core); lanes reading padding
                 * positions (neighbouring rows) are zeroed by the permute's mask instead. */
                const int inside = src >= x && src + 16 * S <= x_end;
                if (S == 2)
                    v = inside ? _mm512_maskz_permutex2var_ps(mv[kx][ch], _mm512_loadu_ps(src), even, _mm512_loadu_ps(src + 16))
                               : _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(ma[kx][ch], src), even,
                                                        _mm512_maskz_loadu_ps(mb[kx][ch], src + 16));
                else
                    v = inside ? _mm512_maskz_mov_ps(mv[kx][ch], _mm512_loadu_ps(src)) : _mm512_maskz_loadu_ps(ma[kx][ch], src);
                if (md[ch] == 0xffff) _mm512_storeu_ps(d + ch * 16, v);
                else _mm512_mask_storeu_ps(d + ch * 16, md[ch], v);
            }
        }
        if (++kx == K) { kx = 0; if (++ky == K) { ky = 0; ci++; } }
    }
}

/* The fold (bwd-data) with the same masks: read-modify-write of the input row window, adding the
 * panel row spread to the lanes it feeds. */
static void col2im_avx512(const lk_conv *c, const float *src, int lds, int k0, int kc, int p0, int np,
                          float *dx)
{
    const int K = c->k, S = c->stride, P = c->pad, ow = c->ow, w = c->w;
    const int nch = (ow + 15) / 16;
    if (is_k3s2p1(c, p0, np) && k0 == 0 && kc == c->cin * 9) {
        fold_k3s2(c, src, lds, p0, np, dx, 0, LK_ACT_NONE, 0.f, NULL);
        return;
    }
    if (S > 2 || p0 % ow || np % ow || nch > ROW_CHUNKS_MAX) {
        col2im_panel_impl(c, src, lds, k0, kc, p0, np, dx);
        return;
    }
    __mmask16 ma[15][ROW_CHUNKS_MAX], mb[15][ROW_CHUNKS_MAX], mv[15][ROW_CHUNKS_MAX], md[ROW_CHUNKS_MAX];
    row_masks(c, ma, mb, mv, md);
    const float *dx_end = dx + (size_t)c->cin * c->h * w;
    const __m512i lo = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
    const __m512i hi = _mm512_setr_epi32(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
    const int oy0 = p0 / ow, rows = np / ow;
    int ci = k0 / (K * K), ky = (k0 / K) % K, kx = k0 % K;
    for (int r = k0; r < k0 + kc; r++) {
        float *xp = dx + (size_t)ci * c->h * w;
        const float *s = src + (size_t)(r - k0) * lds;
        for (int oy = oy0; oy < oy0 + rows; oy++, s += ow) {
            const int iy = oy * S + ky - P;
            if (iy < 0 || iy >= c->h) continue;
            float *row = xp + (size_t)iy * w + kx - P;
            for (int ch = 0; ch < nch; ch++) {
                float *d = row + ch * 16 * S;
                const __mmask16 a_m = ma[kx][ch];
                __m512 sv = md[ch] == 0xffff ? _mm512_loadu_ps(s + ch * 16) : _mm512_maskz_loadu_ps(md[ch], s + ch * 16);
                /* full-width read-modify-write inside this image's gradient (only this thread
                 * writes it): lanes outside the valid ones are written back unchanged */
                const int inside = d >= dx && d + 16 * S <= dx_end;
                if (S == 2 && inside) {
                    __m512 a = _mm512_loadu_ps(d), b = _mm512_loadu_ps(d + 16);
                    _mm512_storeu_ps(d, _mm512_mask_add_ps(a, a_m, a, _mm512_permutexvar_ps(lo, sv)));
                    _mm512_storeu_ps(d + 16, _mm512_mask_add_ps(b, mb[kx][ch], b, _mm512_permutexvar_ps(hi, sv)));
                } else if (S == 2) {
                    const __mmask16 b_m = mb[kx][ch];
                    __m512 a = _mm512_maskz_loadu_ps(a_m, d), b = _mm512_maskz_loadu_ps(b_m, d + 16);
                    _mm512_mask_storeu_ps(d, a_m, _mm512_add_ps(a, _mm512_permutexvar_ps(lo, sv)));
                    _mm512_mask_storeu_ps(d + 16, b_m, _mm512_add_ps(b, _mm512_permutexvar_ps(hi, sv)));
                } else if (inside) {
                    __m512 a = _mm512_loadu_ps(d);
                    _mm512_storeu_ps(d, _mm512_mask_add_ps(a, a_m, a, sv));
                } else {
                    __m512 a = _mm512_maskz_loadu_ps(a_m, d);
                    _mm512_mask_storeu_ps(d, a_m, _mm512_add_ps(a, sv));
                }
            }
        }
        if (++kx == K) { kx = 0; if (++ky == K) { ky = 0; ci++; } }
    }
}

static void row_sums_avx512(int m, int len, const float *A, size_t lda, float *out)
{
    for (int i = 0; i < m; i++) {
        const float *r = A + (size_t)i * lda;
        __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
        int p = 0;
        for (; p + 64 <= len; p += 64) {
            s0 = _mm512_add_ps(s0, _mm512_loadu_ps(r + p));
            s1 = _mm512_add_ps(s1, _mm512_loadu_ps(r + p + 16));
            s2 = _mm512_add_ps(s2, _mm512_loadu_ps(r + p + 32));
            s3 = _mm512_add_ps(s3, _mm512_loadu_ps(r + p + 48));
        }
        for (; p < len; p += 16) s0 = _mm512_add_ps(s0, _mm512_maskz_loadu_ps(tail_mask(len - p), r + p));
        out[i] += _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
    }
}

const lk__isa lk__isa_avx512 = {MR, 48, gemm_avx512, dot_avx512, im2col_avx512, col2im_avx512, mask_act_impl,
                                row_sums_avx512, fold_fused_avx512, direct_forward_impl,
                                direct_backward_data_impl, direct_backward_weights_impl, dm_forward_impl,
                                dm_backward_data_impl, dm_backward_weights_impl};
