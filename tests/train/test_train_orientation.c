/* The recipe's orientation rule (lo_train_orientation): flips stay on for parts without a fixed
 * orientation and are switched off, per axis, when the normal images all face one way. */
#include "train/train_data.h"
#include "ttr_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N 30
#define S 64

static double jitter(uint64_t *rng, double amp) { return (lo_rng_uniform(rng) * 2 - 1) * amp; }

/* kind 0: a part lying head-left with one arm up (faces one way in both axes);
 * kind 1: left-right symmetric, but with a top and a bottom (up-down orientation only);
 * kind 2: texture with no orientation */
static void make_bank(lo_bank *b, int kind, uint64_t seed) {
    memset(b, 0, sizeof *b);
    b->n = N, b->c = 1, b->h = S, b->w = S;
    b->img = malloc((size_t)N * S * S);
    uint64_t rng = seed;
    for (int i = 0; i < N; i++) {
        uint8_t *im = b->img + (size_t)i * S * S;
        double hx = 14 + jitter(&rng, 2), hy = 32 + jitter(&rng, 2), ay = 14 + jitter(&rng, 2);
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++) {
                double v = 0.9;
                if (kind == 0) {
                    if ((x - hx) * (x - hx) + (y - hy) * (y - hy) < 80) v = 0.2;       /* head */
                    if (x > hx && x < 56 && fabs(y - hy) < 5) v = 0.3;                  /* body */
                    if (fabs(x - 34.0) < 3 && y > ay && y < hy) v = 0.3;                 /* arm up */
                } else if (kind == 1) {
                    if (y < 12 + ay / 7) v = 0.1;                                      /* dark top band */
                    if (fabs(x - 31.5) < 10 && y > 20 && y < 50) v = 0.4;               /* centred body */
                } else {
                    v = lo_rng_uniform(&rng);
                }
                v += jitter(&rng, 0.03);
                im[y * S + x] = (uint8_t)lround(255 * (v < 0 ? 0 : v > 1 ? 1 : v));
            }
    }
}

int main(void) {
    int labels[N];
    for (int i = 0; i < N; i++) labels[i] = 0;
    static const char *const names[3] = {"head-left part", "top-bottom part", "texture"};
    const int want_h[3] = {0, 1, 1}, want_v[3] = {0, 0, 1};
    for (int kind = 0; kind < 3; kind++) {
        lo_bank b;
        make_bank(&b, kind, 42u + (uint64_t)kind);
        lds_augment_config aug;
        lo_train_augment_config(&aug);
        CHECK(aug.flip_h && aug.flip_v, "the recipe starts with both flips");
        double rh, rv;
        lo_train_orientation(&b, labels, &aug, &rh, &rv);
        CHECK(aug.flip_h == want_h[kind] && aug.flip_v == want_v[kind],
              "%s: flips left-right %d up-down %d (ratios %.2f, %.2f)", names[kind], aug.flip_h, aug.flip_v, rh, rv);
        /* anomalies do not vote: with every image labelled anomalous there is nothing to tell */
        int anom[N];
        for (int i = 0; i < N; i++) anom[i] = 1;
        lds_augment_config keep;
        lo_train_augment_config(&keep);
        lo_train_orientation(&b, anom, &keep, &rh, &rv);
        CHECK(keep.flip_h && keep.flip_v && isnan(rh) && isnan(rv), "%s: no normals, flips kept", names[kind]);
        lo_bank_free(&b);
    }
    return TTR_DONE();
}
