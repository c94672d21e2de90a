/* train_batch.c — a training batch built on all cores (see train_batch.h). */
#include "train_batch.h"

#include "train_infer.h"

#include "kernels.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define LO_BATCH_AVX512 1
/* no FMA contraction: the vector loops must round as the scalar ones do (same batches) */
#if defined(__GNUC__) && !defined(__clang__)
#define LO_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl"), optimize("fp-contract=off")))
#else
#define LO_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl")))
#endif
#endif

typedef struct {
    float *img, *clean, *donor;
    uint8_t *mask;
} slot_scratch;

struct lo_batch_builder {
    lo_batch_spec spec;
    int threads;
    int avx512;            /* the vector loops below (else the scalar code they match) */
    slot_scratch *scratch; /* one per thread */
    lo_model_data norm;    /* mean/std in lo_ensemble_set_input's form */
};

lo_batch_builder *lo_batch_builder_create(const lo_batch_spec *spec) {
    lo_batch_builder *bb = calloc(1, sizeof *bb);
    if (!bb) return NULL;
    bb->spec = *spec;
    bb->threads = spec->threads > 0 ? spec->threads : omp_get_max_threads();
#ifdef LO_BATCH_AVX512
    bb->avx512 = lk_path_get() == LK_PATH_AVX512; /* the CPU has it and LOOKOUT_KERNELS allows it */
#endif
    if (bb->threads < 1) bb->threads = 1;
    bb->scratch = calloc((size_t)bb->threads, sizeof *bb->scratch);
    const lo_bank *b = spec->bank;
    size_t plane = (size_t)b->h * b->w, px = (size_t)b->c * plane;
    for (int t = 0; bb->scratch && t < bb->threads; t++) {
        slot_scratch *s = &bb->scratch[t];
        s->img = malloc(px * sizeof(float));
        s->clean = malloc(px * sizeof(float));
        s->donor = malloc(px * sizeof(float));
        s->mask = malloc(plane);
        if (!s->img || !s->clean || !s->donor || !s->mask) {
            lo_batch_builder_free(bb);
            return NULL;
        }
    }
    if (!bb->scratch) {
        free(bb);
        return NULL;
    }
    memcpy(bb->norm.mean, spec->mean, sizeof(float) * (size_t)b->c);
    memcpy(bb->norm.std, spec->std, sizeof(float) * (size_t)b->c);
    return bb;
}

void lo_batch_builder_free(lo_batch_builder *bb) {
    if (!bb) return;
    for (int t = 0; bb->scratch && t < bb->threads; t++) {
        free(bb->scratch[t].img);
        free(bb->scratch[t].clean);
        free(bb->scratch[t].donor);
        free(bb->scratch[t].mask);
    }
    free(bb->scratch);
    free(bb);
}

/* The slot's per-pixel passes, each bit-identical to the code it replaces: lo_bank_image
 * (train_data.c) and lo_ensemble_set_input (model_infer.c) compute the same values scalar. */
#ifdef LO_BATCH_AVX512
LO_AVX512 static void bank_to_float_avx512(const uint8_t *s, float *dst, size_t n) {
    const __m512 k = _mm512_set1_ps(1.0f / 255.0f);
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(dst + i, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(s + i)))), k));
    for (; i < n; i++) dst[i] = s[i] * (1.0f / 255.0f);
}

LO_AVX512 static void normalize_avx512(const float *src, float *dst, size_t n, float m, float is) {
    const __m512 vm = _mm512_set1_ps(m), vi = _mm512_set1_ps(is);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(src + i), vm), vi));
    for (; i < n; i++) dst[i] = (src[i] - m) * is;
}
#endif

static void bank_image(const lo_batch_builder *bb, size_t i, float *dst) {
#ifdef LO_BATCH_AVX512
    if (bb->avx512) {
        const lo_bank *b = bb->spec.bank;
        size_t px = (size_t)b->c * b->h * b->w;
        bank_to_float_avx512(b->img + i * px, dst, px);
        return;
    }
#endif
    lo_bank_image(bb->spec.bank, i, dst);
}

static void set_input(const lo_batch_builder *bb, lo_net *net, int slot, const float *image) {
#ifdef LO_BATCH_AVX512
    if (bb->avx512) {
        int B, c, h, w;
        lo_net_input_shape(net, &B, &c, &h, &w);
        size_t plane = (size_t)h * w;
        float *dst = lo_net_input(net) + (size_t)slot * c * plane;
        for (int ch = 0; ch < c; ch++)
            normalize_avx512(image + ch * plane, dst + ch * plane, plane, bb->norm.mean[ch], 1.0f / bb->norm.std[ch]);
        return;
    }
#endif
    lo_ensemble_set_input(net, &bb->norm, slot, image);
}

static int mask_empty(const uint8_t *m, size_t n) {
    uint64_t acc = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v;
        memcpy(&v, m + i, 8);
        acc |= v;
    }
    for (; i < n; i++) acc |= m[i];
    return acc == 0;
}

/* Defect mask at the map's resolution: a cell is a defect when any of its pixels is. */
static void pool_any(const uint8_t *m, int h, int w, int mh, int mw, float *dst) {
    for (int y = 0; y < mh; y++) {
        int y0 = y * h / mh, y1 = (y + 1) * h / mh;
        /* defects are local: most bands of rows are empty (all of them in a normal slot) */
        if (mask_empty(m + (size_t)y0 * w, (size_t)(y1 - y0) * w)) {
            for (int x = 0; x < mw; x++) dst[y * mw + x] = 0;
            continue;
        }
        for (int x = 0; x < mw; x++) {
            int x0 = x * w / mw, x1 = (x + 1) * w / mw;
            float v = 0;
            for (int yy = y0; yy < y1 && !v; yy++)
                for (int xx = x0; xx < x1; xx++)
                    if (m[(size_t)yy * w + xx]) {
                        v = 1;
                        break;
                    }
            dst[y * mw + x] = v;
        }
    }
}

static double thread_cpu_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* with a profile, the time since *t goes to *part and *t moves on */
static void lap(lo_batch_parts *pr, double *part, double *t) {
    if (!pr) return;
    double now = thread_cpu_s();
    *part += now - *t;
    *t = now;
}

static void build_slot(const lo_batch_builder *bb, slot_scratch *sc, lo_net *net, int s, uint64_t rng,
                       float *t_img, float *t_px, float *w_px, uint8_t *t_cls, lo_batch_parts *pr) {
    const lo_batch_spec *sp = &bb->spec;
    const lo_bank *b = sp->bank;
    size_t plane = (size_t)b->h * b->w;
    double t = pr ? thread_cpu_s() : 0, t_start = t;
    double u = lo_rng_uniform(&rng);
    double real_end = 0.5 + (sp->real_share > 0 ? sp->real_share : 0.3);
    int real_defect = sp->na > 0 && u >= 0.5 && u < real_end;
    int synthetic = u >= (sp->na > 0 ? real_end : 0.5);
    size_t base = real_defect ? sp->anoms[lo_rng_int(&rng, (int)sp->na)] : sp->normals[lo_rng_int(&rng, (int)sp->nn)];
    int known = 1; /* pixel targets known for this slot */
    if (synthetic) {
        /* augment the clean base first, so defects are not tied to the canonical pose */
        bank_image(bb, base, sc->clean);
        lap(pr, pr ? &pr->bank : NULL, &t);
        lds_augment(sc->clean, NULL, b->c, b->h, b->w, sp->aug, &rng);
        lap(pr, pr ? &pr->augment : NULL, &t);
        bank_image(bb, sp->normals[lo_rng_int(&rng, (int)sp->nn)], sc->donor);
        lap(pr, pr ? &pr->bank : NULL, &t);
        lo_train_make_defect_timed(sc->img, sc->clean, sc->donor, sc->mask, b->c, b->h, b->w, sp->min_defect_px, &rng,
                                   pr ? pr->defect : NULL, pr ? pr->defect_n : NULL);
        if (pr) t = thread_cpu_s();
    } else {
        bank_image(bb, base, sc->img);
        if (real_defect && b->mask && b->has_mask[base]) memcpy(sc->mask, b->mask + base * plane, plane);
        else memset(sc->mask, 0, plane);
        known = !real_defect || (b->mask && b->has_mask[base]);
        lap(pr, pr ? &pr->bank : NULL, &t);
        lds_augment(sc->img, sc->mask, b->c, b->h, b->w, sp->aug, &rng);
        lap(pr, pr ? &pr->augment : NULL, &t);
    }
    set_input(bb, net, s, sc->img);
    lap(pr, pr ? &pr->normalize : NULL, &t);
    t_img[s] = (real_defect || synthetic) ? 1.0f : 0.0f;
    if (sp->mh > 0 && t_px && w_px) {
        size_t mplane = (size_t)sp->mh * sp->mw;
        float *tp = t_px + s * mplane, *wp = w_px + s * mplane;
        pool_any(sc->mask, b->h, b->w, sp->mh, sp->mw, tp);
        for (size_t k = 0; k < mplane; k++) wp[k] = known ? (tp[k] > 0 ? sp->pos_pixel_weight : 1.0f) : 0.0f;
        if (sp->n_classes > 0 && t_cls) {
            /* the class is known only from a real mask (synthetic defects have none) */
            uint8_t *tc = t_cls + s * mplane;
            if (real_defect && known) lo_pool_class(sc->mask, b->h, b->w, sp->mh, sp->mw, sp->n_classes, tc);
            else memset(tc, 255, mplane);
        }
    }
    lap(pr, pr ? &pr->targets : NULL, &t);
    if (pr) pr->total += t - t_start, pr->slots++;
}

static uint64_t slot_seed(uint64_t seed, int step, int s) {
    uint64_t rng = seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(step + 1)) ^ (0xD1B54A32D192ED03ull * (uint64_t)(s + 1));
    lo_rng_next(&rng); /* decorrelate neighbouring seeds */
    return rng;
}

void lo_batch_build(lo_batch_builder *bb, lo_net *net, uint64_t seed, int step, float *t_img, float *t_px,
                    float *w_px, uint8_t *t_cls) {
    int B, c, h, w;
    lo_net_input_shape(net, &B, &c, &h, &w);
    /* Slots are independent tasks of uneven cost (synthetic ones do twice the work): dynamic. */
#pragma omp parallel for num_threads(bb->threads) schedule(dynamic, 1)
    for (int s = 0; s < B; s++)
        build_slot(bb, &bb->scratch[omp_get_thread_num()], net, s, slot_seed(seed, step, s), t_img, t_px, w_px, t_cls,
                   NULL);
}

void lo_batch_profile(lo_batch_builder *bb, lo_net *net, uint64_t seed, int first, int steps, float *t_img,
                      float *t_px, float *w_px, lo_batch_parts *parts) {
    int B, c, h, w;
    lo_net_input_shape(net, &B, &c, &h, &w);
    for (int step = first; step < first + steps; step++)
        for (int s = 0; s < B; s++)
            build_slot(bb, &bb->scratch[0], net, s, slot_seed(seed, step, s), t_img, t_px, w_px, NULL, parts);
}
