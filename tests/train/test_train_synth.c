/* Synthetic defects and augmentation: deterministic for a seed, masks cover what changed,
 * values stay in [0,1]. */
#include "train/train_internal.h"
#include "ttr_util.h"

#include <math.h>
#include <string.h>

int main(void) {
    const int c = 3, h = 96, w = 128;
    size_t plane = (size_t)h * w, px = c * plane;
    float *base = malloc(px * sizeof *base), *a = malloc(px * sizeof *a), *b = malloc(px * sizeof *b);
    float *src = malloc(px * sizeof *src), *scratch = malloc(px * sizeof *scratch + plane);
    uint8_t *ma = malloc(plane), *mb = malloc(plane);
    for (size_t i = 0; i < px; i++) base[i] = 0.5f + 0.2f * sinf((float)i * 0.01f), src[i] = (float)(i % 7) / 7.0f;
    int nonempty = 0;
    for (uint64_t seed = 1; seed <= 200; seed++) {
        uint64_t r1 = seed, r2 = seed;
        memcpy(a, base, px * sizeof *a);
        memcpy(b, base, px * sizeof *b);
        int na = lo_train_synth_defect(a, ma, c, h, w, src, &r1);
        int nb = lo_train_synth_defect(b, mb, c, h, w, src, &r2);
        CHECK(na == nb && memcmp(a, b, px * sizeof *a) == 0 && memcmp(ma, mb, plane) == 0, "seed %llu not deterministic",
              (unsigned long long)seed);
        int count = 0, outside_changed = 0;
        for (size_t i = 0; i < plane; i++) {
            count += ma[i];
            float d = 0;
            for (int ch = 0; ch < c; ch++) d = fmaxf(d, fabsf(a[ch * plane + i] - base[ch * plane + i]));
            if (!ma[i] && d > 0.04f) outside_changed++;
        }
        CHECK(count == na, "count %d vs %d", count, na);
        CHECK(outside_changed == 0, "seed %llu: %d changed pixels outside the mask", (unsigned long long)seed,
              outside_changed);
        nonempty += na >= 4;
        for (size_t i = 0; i < px; i++) CHECK(a[i] >= 0 && a[i] <= 1, "range");
    }
    CHECK(nonempty > 150, "only %d of 200 defects visible", nonempty);
    /* augmentation moves image and mask together */
    lo_augment_config cfg = {.flip_h = 1, .flip_v = 1, .shift = 0.1f};
    memcpy(a, base, px * sizeof *a);
    memset(ma, 0, plane);
    for (int i = 0; i < w; i++) a[10 * w + i] = 1.0f, a[plane + 10 * w + i] = 1.0f, a[2 * plane + 10 * w + i] = 1.0f,
                                 ma[10 * w + i] = 1;
    uint64_t r = 7;
    lo_train_augment(a, ma, c, h, w, &cfg, scratch, &r);
    for (size_t i = 0; i < plane; i++)
        if (ma[i]) CHECK(a[i] == 1.0f, "mask and image moved apart at %zu", i);
    free(base), free(a), free(b), free(src), free(scratch), free(ma), free(mb);
    return TTR_DONE();
}
