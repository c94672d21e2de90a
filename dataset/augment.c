/* augment.c — random training-time augmentation. All geometric changes (flips, 90° turns, shift,
 * small rotation and scale) are composed into one affine map and applied in a single resampling
 * pass, bilinear for the image and nearest for the mask, through the same coordinates — so the
 * mask stays aligned with the image. Photometric changes touch the image only. */
#include "lds_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define LDS_AUG_AVX512 1
#endif

/* The vector paths below compute exactly what the scalar loops compute, bit for bit (the
 * training batches were tuned on them and must not move): the same float operations in the same
 * order, no FMA contraction (separate multiply and add), clamps as compare-and-select (so -0 and
 * NaN pass through as in `v < 0 ? 0 : v > 1 ? 1 : v`), and a mean summed in any order only when
 * that sum is provably exact (see plane_sum). tests/train/test_batch_identity.c checks it. */
static int use_avx512(void)
{
#ifdef LDS_AUG_AVX512
    /* LOOKOUT_KERNELS (kernels/dispatch.c) set to a path other than avx512 selects the scalar
     * loops here too: the identity test runs both */
    const char *env = getenv("LOOKOUT_KERNELS");
    if (env && *env && strcmp(env, "avx512") != 0) return 0;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
#else
    return 0;
#endif
}

/* splitmix64, as lds_rng_next (fs_util.c), inlined: the noise draws one per pixel */
static inline uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
#define LDS_GOLDEN 0x9E3779B97F4A7C15ull

#ifdef LDS_AUG_AVX512
/* GCC would fuse a multiply and an add of these intrinsics into an FMA (one rounding instead of
 * two): not the scalar result, so contraction is off in these functions */
#if defined(__GNUC__) && !defined(__clang__)
#define LDS_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl"), optimize("fp-contract=off")))
#else
#define LDS_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl")))
#endif

/* p[x] = src[xs[x]] for one row. xs is a clamped x -> x - t or x -> w - 1 - (x - t): monotonic
 * with steps of 0 or 1, so a block of 16 whose ends are 15 apart is a plain run (a load) or a
 * reversed one (a load and a lane reversal); only the blocks at a clamped edge need a gather. */
LDS_AVX512 static void gather_row_avx512(float *dst, const float *src, const int *xs, int w)
{
    const __m512i rev = _mm512_setr_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    int x = 0;
    for (; x + 16 <= w; x += 16) {
        int a = xs[x], b = xs[x + 15];
        __m512 v;
        if (b - a == 15) v = _mm512_loadu_ps(src + a);
        else if (a - b == 15) v = _mm512_permutexvar_ps(rev, _mm512_loadu_ps(src + b));
        else v = _mm512_i32gather_ps(_mm512_loadu_si512(xs + x), src, 4);
        _mm512_storeu_ps(dst + x, v);
    }
    for (; x < w; x++) dst[x] = src[xs[x]];
}

/* One plane through the index tables, dst[y][x] = src[ys[y]][xs[x]] (dst a separate buffer),
 * summing what it writes as plane_sum_avx512 does; returns the same exactness verdict. */
LDS_AVX512 static int gather_plane_sum_avx512(float *dst, const float *src, const int *xs, const int *ys, int h,
                                              int w, double *sum)
{
    __m512d a0 = _mm512_setzero_pd(), a1 = _mm512_setzero_pd();
    const __m512 lo = _mm512_set1_ps(0x1p-14f), zero = _mm512_setzero_ps();
    __mmask16 bad = 0;
    double t = 0;
    for (int y = 0; y < h; y++) {
        float *d = dst + (size_t)y * w;
        gather_row_avx512(d, src + (size_t)ys[y] * w, xs, w);
        int x = 0;
        for (; x + 16 <= w; x += 16) {
            __m512 v = _mm512_loadu_ps(d + x); /* just written: in L1 */
            bad |= ~(_mm512_cmp_ps_mask(v, lo, _CMP_GE_OQ) | _mm512_cmp_ps_mask(v, zero, _CMP_EQ_OQ));
            a0 = _mm512_add_pd(a0, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
            a1 = _mm512_add_pd(a1, _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1)));
        }
        for (; x < w; x++) {
            if (!(d[x] >= 0x1p-14f || d[x] == 0)) bad = 1;
            t += d[x];
        }
    }
    t += _mm512_reduce_add_pd(_mm512_add_pd(a0, a1));
    *sum = t;
    return !bad && t < 65536.0;
}

/* The sum of p[0..n) in double, when every value is 0 or at least 2^-14 and the total is below
 * 2^16: then every value and every partial sum (all >= 0 and <= the total) is a multiple of
 * 2^-37 below 2^16, which a double holds exactly, so any order of addition gives the exact
 * total, the same as the sequential loop. Returns 0 (sum unusable) otherwise. */
LDS_AVX512 static int plane_sum_avx512(const float *p, size_t n, double *sum)
{
    __m512d a0 = _mm512_setzero_pd(), a1 = _mm512_setzero_pd();
    const __m512 lo = _mm512_set1_ps(0x1p-14f), zero = _mm512_setzero_ps();
    __mmask16 bad = 0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(p + i);
        bad |= ~(_mm512_cmp_ps_mask(v, lo, _CMP_GE_OQ) | _mm512_cmp_ps_mask(v, zero, _CMP_EQ_OQ));
        a0 = _mm512_add_pd(a0, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
        a1 = _mm512_add_pd(a1, _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1)));
    }
    double t = _mm512_reduce_add_pd(_mm512_add_pd(a0, a1));
    for (; i < n; i++) {
        if (!(p[i] >= 0x1p-14f || p[i] == 0)) bad = 1;
        t += p[i];
    }
    *sum = t;
    return !bad && t < 65536.0;
}

/* brightness/contrast, clamp, noise, clamp (no gamma): the scalar loop's operations per pixel */
LDS_AVX512 static void photometric_avx512(const float *src, float *p, size_t n, float mu, float contr, float bright,
                                          float sigma, uint64_t *noise_rng)
{
    const __m512 vmu = _mm512_set1_ps(mu), vc = _mm512_set1_ps(contr), vb = _mm512_set1_ps(bright);
    const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.f);
    const __m512 unit = _mm512_set1_ps(1.f / 65536.f), two = _mm512_set1_ps(2.f);
    const float k = sigma * 1.7320508f; /* sqrt(12 / 4) */
    const __m512 vk = _mm512_set1_ps(k);
    const __m512i flip16 = _mm512_set1_epi16((short)0x8000), ones16 = _mm512_set1_epi16(1);
    const __m512i evens = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512 bias = _mm512_set1_ps(131072.f);
    uint64_t s = *noise_rng;
    /* lane j of the two counters holds the state of pixel i + j (first 8) and i + 8 + j */
    __m512i c0 = _mm512_add_epi64(_mm512_set1_epi64((long long)s),
                                  _mm512_mullo_epi64(_mm512_set1_epi64((long long)LDS_GOLDEN),
                                                     _mm512_setr_epi64(1, 2, 3, 4, 5, 6, 7, 8)));
    __m512i c1 = _mm512_add_epi64(c0, _mm512_set1_epi64((long long)(8 * LDS_GOLDEN)));
    const __m512i step = _mm512_set1_epi64((long long)(16 * LDS_GOLDEN));
    const __m512i k1 = _mm512_set1_epi64((long long)0xBF58476D1CE4E5B9ull);
    const __m512i k2 = _mm512_set1_epi64((long long)0x94D049BB133111EBull);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(src + i), vmu), vc), vmu), vb);
        /* max(0, v) is `v < 0 ? 0 : v` exactly (the second operand comes back for NaN and for
         * equal zeros, so -0 and NaN pass through); min(1, v) likewise */
        v = _mm512_min_ps(one, _mm512_max_ps(zero, v));
        if (sigma > 0) {
            __m512i t[2];
            for (int half = 0; half < 2; half++) {
                __m512i z = half ? c1 : c0;
                z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 30)), k1);
                z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)), k2);
                z = _mm512_xor_si512(z, _mm512_srli_epi64(z, 31));
                /* the four 16-bit parts summed as integers (exact, as the float sum is): offset
                 * to signed for madd's pairwise sums, then the two 32-bit halves of each lane */
                __m512i q = _mm512_madd_epi16(_mm512_xor_si512(z, flip16), ones16);
                t[half] = _mm512_add_epi32(q, _mm512_srli_epi64(q, 32));
            }
            c0 = _mm512_add_epi64(c0, step);
            c1 = _mm512_add_epi64(c1, step);
            /* the low 32 bits of each lane: pixel sums - 131072, 16 pixels in order */
            __m512 sum = _mm512_add_ps(_mm512_cvtepi32_ps(_mm512_permutex2var_epi32(t[0], evens, t[1])), bias);
            v = _mm512_add_ps(v, _mm512_mul_ps(vk, _mm512_sub_ps(_mm512_mul_ps(sum, unit), two)));
            v = _mm512_min_ps(one, _mm512_max_ps(zero, v));
        }
        _mm512_storeu_ps(p + i, v);
    }
    if (sigma > 0) s += (uint64_t)i * LDS_GOLDEN;
    for (; i < n; i++) {
        float v = (src[i] - mu) * contr + mu + bright;
        v = v < 0 ? 0 : v > 1 ? 1 : v;
        if (sigma > 0) {
            uint64_t r = mix64(s += LDS_GOLDEN);
            float sum = (float)(r & 0xffff) + (float)((r >> 16) & 0xffff) + (float)((r >> 32) & 0xffff) +
                        (float)(r >> 48);
            v += k * (sum * (1.f / 65536.f) - 2.f);
        }
        p[i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
    *noise_rng = s;
}
#endif

static int mask_is_empty(const uint8_t *m, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (m[i]) return 0;
    return 1;
}

void lds_augment_defaults(lds_augment_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->flip_h = 1;
    cfg->flip_v = 0; /* many parts have a top and a bottom: opt in */
    cfg->rot90 = 0;
    cfg->shift = 0.05f;
    cfg->rotate_deg = 5.0f;
    cfg->scale = 0.05f;
    cfg->brightness = 0.08f;
    cfg->contrast = 0.10f;
    cfg->gamma = 0.10f;
    cfg->noise = 0.02f;
}

static float sym(uint64_t *rng, float a) { return (float)(lds_rng_uniform(rng) * 2 - 1) * a; }

void lds_augment(float *img, uint8_t *mask, int c, int h, int w, const lds_augment_config *cfg, uint64_t *rng)
{
    if (!img || c < 1 || h < 1 || w < 1 || !cfg) return;
    /* Draw every random number up front, in a fixed order, whatever is switched on: the same
     * rng state gives the same augmentation with or without a mask. */
    int fh = cfg->flip_h && lds_rng_uniform(rng) < 0.5;
    int fv = cfg->flip_v && lds_rng_uniform(rng) < 0.5;
    int k90 = cfg->rot90 && h == w ? (int)(lds_rng_next(rng) & 3) : 0;
    float tx = roundf(sym(rng, cfg->shift) * (float)w), ty = roundf(sym(rng, cfg->shift) * (float)h);
    float ang = sym(rng, cfg->rotate_deg) * 3.14159265f / 180.f;
    float sc = 1 + sym(rng, cfg->scale);
    float bright = sym(rng, cfg->brightness), contr = 1 + sym(rng, cfg->contrast);
    float gam = expf(sym(rng, cfg->gamma));
    float sigma = cfg->noise * (float)lds_rng_uniform(rng);
    uint64_t noise_rng = lds_rng_next(rng);

    /* Inverse map, centred coordinates: src = A (dst - t). Forward = shift . rotscale . rot90 . flip. */
    float a00 = 1, a01 = 0, a10 = 0, a11 = 1;
    float ca = cosf(-ang) / sc, sa = sinf(-ang) / sc;
    /* inverse rotscale */
    float r00 = ca, r01 = -sa, r10 = sa, r11 = ca;
    /* inverse rot90^k: rotate by -k*90° */
    float q00 = 1, q01 = 0, q10 = 0, q11 = 1;
    for (int k = 0; k < k90; k++) { /* multiply by [[0,1],[-1,0]] (rotation by -90°) */
        float n00 = q10, n01 = q11, n10 = -q00, n11 = -q01;
        q00 = n00; q01 = n01; q10 = n10; q11 = n11;
    }
    /* A = F^-1 Q^-1 R^-1 (F is its own inverse) */
    float m00 = q00 * r00 + q01 * r10, m01 = q00 * r01 + q01 * r11;
    float m10 = q10 * r00 + q11 * r10, m11 = q10 * r01 + q11 * r11;
    a00 = (fh ? -1.f : 1.f) * m00;
    a01 = (fh ? -1.f : 1.f) * m01;
    a10 = (fv ? -1.f : 1.f) * m10;
    a11 = (fv ? -1.f : 1.f) * m11;
    int identity = !fh && !fv && !k90 && tx == 0 && ty == 0 && ang == 0 && sc == 1;
    int photometric = !(bright == 0 && contr == 1 && gam == 1 && sigma == 0);

    const size_t plane = (size_t)h * (size_t)w;
    /* Flips and whole-pixel shifts only (no rotation, scale or 90° turn): every output pixel
     * reads one source pixel, so the map is a row and a column index table and the pass a copy
     * (the general bilinear pass would compute the same values several times slower). */
    /* one block: the index tables, then a copy of one plane (each channel's source, then the
     * mask's, since rows may be read after they are overwritten) */
    int *xs = !identity && !k90 && ang == 0 && sc == 1
                  ? malloc(sizeof(int) * (size_t)(w + h) + sizeof(float) * plane) : NULL;
    if (xs) {
        int *ys = xs + w;
        float *copy = (float *)(ys + h);
        for (int x = 0; x < w; x++) { /* the general pass's clamped coordinate, exactly */
            int u = x - (int)tx, sx = fh ? w - 1 - u : u;
            xs[x] = sx < 0 ? 0 : sx > w - 1 ? w - 1 : sx;
        }
        for (int y = 0; y < h; y++) {
            int v = y - (int)ty, sy = fv ? h - 1 - v : v;
            ys[y] = sy < 0 ? 0 : sy > h - 1 ? h - 1 : sy;
        }
        int vec = use_avx512();
#ifdef LDS_AUG_AVX512
        if (vec && photometric && gam == 1.f) {
            /* two passes a channel instead of four (copy, gather, sum, photometric): gather into
             * the scratch plane while summing, then the photometric pass back into the image;
             * channels in order, so the noise stream is consumed as below */
            for (int ch = 0; ch < c; ch++) {
                float *p = img + (size_t)ch * plane;
                double mean;
                if (!gather_plane_sum_avx512(copy, p, xs, ys, h, w, &mean)) {
                    mean = 0; /* not provably exact in any order: the sequential sum */
                    for (size_t i = 0; i < plane; i++) mean += copy[i];
                }
                photometric_avx512(copy, p, plane, (float)(mean / (double)plane), contr, bright, sigma, &noise_rng);
            }
            photometric = 0; /* done */
        } else
#endif
            for (int ch = 0; ch < c; ch++) {
                float *p = img + (size_t)ch * plane;
                memcpy(copy, p, sizeof(float) * plane);
#ifdef LDS_AUG_AVX512
                if (vec) {
                    for (int y = 0; y < h; y++) gather_row_avx512(p + (size_t)y * w, copy + (size_t)ys[y] * w, xs, w);
                    continue;
                }
#endif
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++) p[(size_t)y * w + x] = copy[(size_t)ys[y] * w + xs[x]];
            }
        (void)vec;
        if (mask && !mask_is_empty(mask, plane)) { /* an empty mask maps to itself */
            uint8_t *m = (uint8_t *)copy;
            memcpy(m, mask, plane);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) mask[(size_t)y * w + x] = m[(size_t)ys[y] * w + xs[x]];
        }
        free(xs);
        identity = 1; /* geometry done */
    }
    if (!identity) {
        float *out = malloc(sizeof(float) * plane * (size_t)c);
        uint8_t *mout = mask ? malloc(plane) : NULL;
        if (!out || (mask && !mout)) {
            free(out);
            free(mout);
            return; /* out of memory: leave the sample unaugmented rather than misaligned */
        }
        const float cx = w * 0.5f, cy = h * 0.5f;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                float u = x + 0.5f - cx - tx, v = y + 0.5f - cy - ty;
                float sx = a00 * u + a01 * v + cx - 0.5f, sy = a10 * u + a11 * v + cy - 0.5f;
                /* clamp to the edge: a replicated border reads as background, not as a black bar */
                if (sx < 0) sx = 0;
                if (sy < 0) sy = 0;
                if (sx > w - 1) sx = (float)(w - 1);
                if (sy > h - 1) sy = (float)(h - 1);
                int x0 = (int)sx, y0 = (int)sy;
                int x1 = x0 + 1 < w ? x0 + 1 : x0, y1 = y0 + 1 < h ? y0 + 1 : y0;
                float fx = sx - x0, fy = sy - y0;
                size_t o = (size_t)y * (size_t)w + (size_t)x;
                for (int ch = 0; ch < c; ch++) {
                    const float *p = img + (size_t)ch * plane;
                    float top = p[(size_t)y0 * w + x0] * (1 - fx) + p[(size_t)y0 * w + x1] * fx;
                    float bot = p[(size_t)y1 * w + x0] * (1 - fx) + p[(size_t)y1 * w + x1] * fx;
                    out[(size_t)ch * plane + o] = top * (1 - fy) + bot * fy;
                }
                if (mask) {
                    int nx = (int)lroundf(sx), ny = (int)lroundf(sy);
                    mout[o] = mask[(size_t)ny * (size_t)w + (size_t)nx];
                }
            }
        }
        memcpy(img, out, sizeof(float) * plane * (size_t)c);
        if (mask) memcpy(mask, mout, plane);
        free(out);
        free(mout);
    }

    /* photometric: brightness, contrast around the mean, gamma, noise. Per pixel this runs for
     * every training image of every step, so gamma is a table and the noise is a sum of four
     * 16-bit uniforms from one draw (Irwin-Hall: near-Gaussian, unit variance after scaling)
     * instead of a Box-Muller with its log and cos. */
    if (!photometric) return;
#ifdef LDS_AUG_AVX512
    if (gam == 1.f && use_avx512()) {
        for (int ch = 0; ch < c; ch++) {
            float *p = img + (size_t)ch * plane;
            double mean;
            if (!plane_sum_avx512(p, plane, &mean)) { /* not provably exact in any order */
                mean = 0;
                for (size_t i = 0; i < plane; i++) mean += p[i];
            }
            photometric_avx512(p, p, plane, (float)(mean / (double)plane), contr, bright, sigma, &noise_rng);
        }
        return;
    }
#endif
    enum { LUT = 1024 };
    float lut[LUT + 1];
    if (gam != 1.f)
        for (int i = 0; i <= LUT; i++) lut[i] = powf((float)i / LUT, gam);
    const float unit = 1.f / 65536.f, scale = 1.7320508f; /* sqrt(12 / 4) */
    for (int ch = 0; ch < c; ch++) {
        float *p = img + (size_t)ch * plane;
        double mean = 0;
        for (size_t i = 0; i < plane; i++) mean += p[i];
        float mu = (float)(mean / (double)plane);
        for (size_t i = 0; i < plane; i++) {
            float v = (p[i] - mu) * contr + mu + bright;
            v = v < 0 ? 0 : v > 1 ? 1 : v;
            if (gam != 1.f) {
                float x = v * LUT;
                int k = (int)x;
                if (k >= LUT) k = LUT - 1;
                float f = x - (float)k;
                v = lut[k] + (lut[k + 1] - lut[k]) * f;
            }
            if (sigma > 0) {
                uint64_t r = lds_rng_next(&noise_rng);
                float sum = (float)(r & 0xffff) + (float)((r >> 16) & 0xffff) + (float)((r >> 32) & 0xffff) +
                            (float)(r >> 48);
                v += sigma * scale * (sum * unit - 2.f);
            }
            p[i] = v < 0 ? 0 : v > 1 ? 1 : v;
        }
    }
}
