/* train_batch.c — a training batch built on all cores (see train_batch.h). */
#include "train_batch.h"

#include "train_infer.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    float *img, *clean, *donor;
    uint8_t *mask;
} slot_scratch;

struct lo_batch_builder {
    lo_batch_spec spec;
    int threads;
    slot_scratch *scratch; /* one per thread */
    lo_model_data norm;    /* mean/std in lo_ensemble_set_input's form */
};

lo_batch_builder *lo_batch_builder_create(const lo_batch_spec *spec) {
    lo_batch_builder *bb = calloc(1, sizeof *bb);
    if (!bb) return NULL;
    bb->spec = *spec;
    bb->threads = spec->threads > 0 ? spec->threads : omp_get_max_threads();
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

/* Defect mask at the map's resolution: a cell is a defect when any of its pixels is. */
static void pool_any(const uint8_t *m, int h, int w, int mh, int mw, float *dst) {
    for (int y = 0; y < mh; y++)
        for (int x = 0; x < mw; x++) {
            int y0 = y * h / mh, y1 = (y + 1) * h / mh, x0 = x * w / mw, x1 = (x + 1) * w / mw;
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

static void build_slot(const lo_batch_builder *bb, slot_scratch *sc, lo_net *net, int s, uint64_t rng,
                       float *t_img, float *t_px, float *w_px) {
    const lo_batch_spec *sp = &bb->spec;
    const lo_bank *b = sp->bank;
    size_t plane = (size_t)b->h * b->w;
    double u = lo_rng_uniform(&rng);
    int real_defect = sp->na > 0 && u >= 0.5 && u < 0.8;
    int synthetic = u >= (sp->na > 0 ? 0.8 : 0.5);
    size_t base = real_defect ? sp->anoms[lo_rng_int(&rng, (int)sp->na)] : sp->normals[lo_rng_int(&rng, (int)sp->nn)];
    int known = 1; /* pixel targets known for this slot */
    if (synthetic) {
        /* augment the clean base first, so defects are not tied to the canonical pose */
        lo_bank_image(b, base, sc->clean);
        lds_augment(sc->clean, NULL, b->c, b->h, b->w, sp->aug, &rng);
        lo_bank_image(b, sp->normals[lo_rng_int(&rng, (int)sp->nn)], sc->donor);
        lo_train_make_defect(sc->img, sc->clean, sc->donor, sc->mask, b->c, b->h, b->w, &rng);
    } else {
        lo_bank_image(b, base, sc->img);
        if (real_defect && b->mask && b->has_mask[base]) memcpy(sc->mask, b->mask + base * plane, plane);
        else memset(sc->mask, 0, plane);
        known = !real_defect || (b->mask && b->has_mask[base]);
        lds_augment(sc->img, sc->mask, b->c, b->h, b->w, sp->aug, &rng);
    }
    lo_ensemble_set_input(net, &bb->norm, s, sc->img);
    t_img[s] = (real_defect || synthetic) ? 1.0f : 0.0f;
    if (sp->mh > 0 && t_px && w_px) {
        size_t mplane = (size_t)sp->mh * sp->mw;
        float *tp = t_px + s * mplane, *wp = w_px + s * mplane;
        pool_any(sc->mask, b->h, b->w, sp->mh, sp->mw, tp);
        for (size_t k = 0; k < mplane; k++) wp[k] = known ? (tp[k] > 0 ? sp->pos_pixel_weight : 1.0f) : 0.0f;
    }
}

void lo_batch_build(lo_batch_builder *bb, lo_net *net, uint64_t seed, int step, float *t_img, float *t_px,
                    float *w_px) {
    int B, c, h, w;
    lo_net_input_shape(net, &B, &c, &h, &w);
    /* Slots are independent tasks of uneven cost (synthetic ones do twice the work): dynamic. */
#pragma omp parallel for num_threads(bb->threads) schedule(dynamic, 1)
    for (int s = 0; s < B; s++) {
        uint64_t rng = seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(step + 1)) ^ (0xD1B54A32D192ED03ull * (uint64_t)(s + 1));
        lo_rng_next(&rng); /* decorrelate neighbouring seeds */
        build_slot(bb, &bb->scratch[omp_get_thread_num()], net, s, rng, t_img, t_px, w_px);
    }
}
