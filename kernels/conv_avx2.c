/* conv_avx2.c — AVX2+FMA inner kernels (the fallback for CPUs without AVX-512): a 6 x 16 tile
 * (12 ymm accumulators) for the GEMM and 3 x 4 dot products for weight gradients. */
#include "im2col_impl.h"
#include "conv_direct_impl.h"

#include <immintrin.h>

#define MR 6

static inline __m256i tail_mask(int n)
{
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n < 0 ? 0 : n), idx);
}

static inline __m256 epi(__m256 v, const lk__gemm_args *a, int r)
{
    if (a->bias) v = _mm256_add_ps(v, _mm256_set1_ps(a->bias[r]));
    if (a->act == LK_ACT_RELU) v = _mm256_max_ps(v, _mm256_setzero_ps());
    else if (a->act == LK_ACT_LEAKY) {
        __m256 neg = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ);
        v = _mm256_blendv_ps(v, _mm256_mul_ps(v, _mm256_set1_ps(a->slope)), neg);
    }
    return v;
}

static void gemm_avx2(const lk__gemm_args *a)
{
    const int kc = a->kc, mr = a->mr;
    const size_t ldb = a->ldb, ldc = a->ldc;
    for (int j = 0; j < a->nc; j += 16) {
        const int rem = a->nc - j;
        const __m256i m0 = tail_mask(rem), m1 = tail_mask(rem - 8);
        const float *B = a->b + j;
        float *C = a->c + j;
        __m256 c[MR][2];
#pragma GCC unroll 6
        for (int r = 0; r < MR; r++) {
            if (a->accumulate && r < mr) {
                c[r][0] = _mm256_maskload_ps(C + r * ldc, m0);
                c[r][1] = _mm256_maskload_ps(C + r * ldc + 8, m1);
            } else {
                c[r][0] = c[r][1] = _mm256_setzero_ps();
            }
        }
        const float *ap = a->ap;
        for (int k = 0; k < kc; k++, ap += MR) {
            const float *bk = B + k * ldb;
            __m256 b0 = _mm256_maskload_ps(bk, m0), b1 = _mm256_maskload_ps(bk + 8, m1);
#pragma GCC unroll 6
            for (int r = 0; r < MR; r++) {
                __m256 av = _mm256_broadcast_ss(ap + r);
                c[r][0] = _mm256_fmadd_ps(av, b0, c[r][0]);
                c[r][1] = _mm256_fmadd_ps(av, b1, c[r][1]);
            }
        }
#pragma GCC unroll 6
        for (int r = 0; r < MR; r++) {
            if (r >= mr) break;
            __m256 v0 = c[r][0], v1 = c[r][1];
            if (a->epilogue) { v0 = epi(v0, a, r); v1 = epi(v1, a, r); }
            _mm256_maskstore_ps(C + r * ldc, m0, v0);
            _mm256_maskstore_ps(C + r * ldc + 8, m1, v1);
        }
    }
}

#define DI 3
#define DJ 4

static inline float hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline void dot_block(int len, const float *const ar[DI], const float *const br[DJ],
                             float out[DI][DJ])
{
    __m256 acc[DI][DJ];
#pragma GCC unroll 3
    for (int i = 0; i < DI; i++)
#pragma GCC unroll 4
        for (int j = 0; j < DJ; j++) acc[i][j] = _mm256_setzero_ps();
    int p = 0;
    for (; p + 8 <= len; p += 8) {
        __m256 av[DI];
#pragma GCC unroll 3
        for (int i = 0; i < DI; i++) av[i] = _mm256_loadu_ps(ar[i] + p);
#pragma GCC unroll 4
        for (int j = 0; j < DJ; j++) {
            __m256 bv = _mm256_loadu_ps(br[j] + p);
#pragma GCC unroll 3
            for (int i = 0; i < DI; i++) acc[i][j] = _mm256_fmadd_ps(av[i], bv, acc[i][j]);
        }
    }
    if (p < len) {
        const __m256i mk = tail_mask(len - p);
        __m256 av[DI];
#pragma GCC unroll 3
        for (int i = 0; i < DI; i++) av[i] = _mm256_maskload_ps(ar[i] + p, mk);
#pragma GCC unroll 4
        for (int j = 0; j < DJ; j++) {
            __m256 bv = _mm256_maskload_ps(br[j] + p, mk);
#pragma GCC unroll 3
            for (int i = 0; i < DI; i++) acc[i][j] = _mm256_fmadd_ps(av[i], bv, acc[i][j]);
        }
    }
#pragma GCC unroll 3
    for (int i = 0; i < DI; i++)
#pragma GCC unroll 4
        for (int j = 0; j < DJ; j++) out[i][j] = hsum(acc[i][j]);
}

static void dot_avx2(int m, int n, int len, const float *A, size_t lda, const float *B, size_t ldb,
                     float *C, size_t ldc)
{
    for (int i0 = 0; i0 < m; i0 += DI)
        for (int j0 = 0; j0 < n; j0 += DJ) {
            const float *ar[DI], *br[DJ];
            for (int i = 0; i < DI; i++) ar[i] = A + (size_t)(i0 + i < m ? i0 + i : m - 1) * lda;
            for (int j = 0; j < DJ; j++) br[j] = B + (size_t)(j0 + j < n ? j0 + j : n - 1) * ldb;
            float out[DI][DJ];
            dot_block(len, ar, br, out);
            for (int i = 0; i < DI && i0 + i < m; i++)
                for (int j = 0; j < DJ && j0 + j < n; j++) C[(size_t)(i0 + i) * ldc + j0 + j] += out[i][j];
        }
}

static void row_sums_avx2(int m, int len, const float *A, size_t lda, float *out)
{
    for (int i = 0; i < m; i++) {
        const float *r = A + (size_t)i * lda;
        __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
        int p = 0;
        for (; p + 32 <= len; p += 32) {
            s0 = _mm256_add_ps(s0, _mm256_loadu_ps(r + p));
            s1 = _mm256_add_ps(s1, _mm256_loadu_ps(r + p + 8));
            s2 = _mm256_add_ps(s2, _mm256_loadu_ps(r + p + 16));
            s3 = _mm256_add_ps(s3, _mm256_loadu_ps(r + p + 24));
        }
        for (; p < len; p += 8) s0 = _mm256_add_ps(s0, _mm256_maskload_ps(r + p, tail_mask(len - p)));
        out[i] += hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    }
}

const lk__isa lk__isa_avx2 = {MR, 16, gemm_avx2, dot_avx2, im2col_panel_impl, col2im_panel_impl, mask_act_impl,
                              row_sums_avx2, NULL, direct_forward_impl, direct_backward_data_impl,
                              direct_backward_weights_impl, dm_forward_impl, dm_backward_data_impl, NULL};
