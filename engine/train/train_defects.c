/* train_defects.c — the recipe's mix of synthetic defects (the kinds themselves are dataset/'s
 * lds_synth_defect). Real defects span tiny spots to large areas, so the mix favours the small,
 * local kinds (a network that finds a 1 % blotch also finds a 20 % one) and keeps a few large
 * CutPaste and DRAEM-style Perlin blends. The mask keeps only pixels that visibly changed: a
 * pasted patch that happens to match what was there is not a defect to learn.
 */
#include "net/net.h"
#include "train_batch.h"
#include "train_internal.h"

#include "dataset.h"
#include "kernels.h"

#include <math.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define LO_DEFECT_AVX512 1
#endif

/* cumulative weights over lds_synth_kind: cutpaste, scar, perlin, patch, erase, blotch. A part on
 * a plain background also gets chips (missing pieces at its outline) in LO_CHIP_SHARE of its
 * defects; other images draw exactly as before. */
#define LO_BASE_KINDS 6
static const double lo_defect_mix[LO_BASE_KINDS] = {0.04, 0.24, 0.34, 0.58, 0.79, 1.0};
#define LO_CHIP_SHARE 0.3

/* mask[i] stays set only where some channel moved by more than 0.04 (the same as comparing the
 * largest channel change, for finite and NaN values alike); returns the mask's count */
static int keep_visible_scalar(uint8_t *mask, const float *img, const float *clean, int c, size_t plane, size_t from) {
    int count = 0;
    for (size_t i = from; i < plane; i++) {
        float d = 0;
        for (int ch = 0; ch < c; ch++) d = fmaxf(d, fabsf(img[ch * plane + i] - clean[ch * plane + i]));
        mask[i] = mask[i] && d > 0.04f;
        count += mask[i];
    }
    return count;
}

#ifdef LO_DEFECT_AVX512
/* 16 pixels at a time; blocks whose mask bytes are all 0 (most of the image: defects are local)
 * only need that test */
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) static int keep_visible_avx512(uint8_t *mask, const float *img,
                                                                                   const float *clean, int c,
                                                                                   size_t plane) {
    int count = 0;
    size_t i = 0;
    const __m512 thr = _mm512_set1_ps(0.04f), absmask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
    for (; i + 16 <= plane; i += 16) {
        __m128i m = _mm_loadu_si128((const __m128i *)(mask + i));
        __mmask16 set = _mm_test_epi8_mask(m, m);
        if (!set) continue;
        __mmask16 vis = 0;
        for (int ch = 0; ch < c; ch++) {
            __m512 d = _mm512_sub_ps(_mm512_loadu_ps(img + ch * plane + i), _mm512_loadu_ps(clean + ch * plane + i));
            vis |= _mm512_cmp_ps_mask(_mm512_and_ps(d, absmask), thr, _CMP_GT_OQ);
        }
        __mmask16 keep = set & vis;
        _mm_storeu_si128((__m128i *)(mask + i), _mm_maskz_mov_epi8(keep, _mm_set1_epi8(1)));
        count += __builtin_popcount(keep);
    }
    return count + keep_visible_scalar(mask, img, clean, c, plane, i);
}
#endif

static int keep_visible(uint8_t *mask, const float *img, const float *clean, int c, size_t plane) {
#ifdef LO_DEFECT_AVX512
    if (lk_path_get() == LK_PATH_AVX512) return keep_visible_avx512(mask, img, clean, c, plane);
#endif
    return keep_visible_scalar(mask, img, clean, c, plane, 0);
}

static double thread_cpu_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int lo_train_make_defect_timed(float *img, const float *clean, const float *donor, uint8_t *mask, int c, int h,
                               int w, int min_px, uint64_t *rng, double *kind_s, int *kind_n) {
    if (min_px < 4) min_px = 4;
    size_t plane = (size_t)h * w, px = (size_t)c * plane;
    int plain = lds_synth_plain_background(clean, c, h, w, NULL);
    for (int attempt = 0; attempt < 8; attempt++) {
        double t0 = kind_s ? thread_cpu_s() : 0;
        memcpy(img, clean, px * sizeof *img);
        double u = lo_rng_uniform(rng);
        int kind = 0;
        while (kind < LO_BASE_KINDS - 1 && u >= lo_defect_mix[kind]) kind++;
        if (plain && lo_rng_uniform(rng) < LO_CHIP_SHARE) kind = LDS_SYNTH_CHIP;
        lds_synth_defect(img, mask, c, h, w, (lds_synth_kind)kind, donor, rng);
        int count = keep_visible(mask, img, clean, c, plane);
        if (kind_s) kind_s[kind] += thread_cpu_s() - t0, kind_n[kind]++;
        if (count >= min_px) return count;
    }
    memcpy(img, clean, px * sizeof *img);
    memset(mask, 0, plane);
    return 0;
}

int lo_train_make_defect(float *img, const float *clean, const float *donor, uint8_t *mask, int c, int h, int w,
                         int min_px, uint64_t *rng) {
    return lo_train_make_defect_timed(img, clean, donor, mask, c, h, w, min_px, rng, NULL, NULL);
}
