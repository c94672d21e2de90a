/* The recipe's synthetic defects: deterministic for a seed, the mask covers exactly the visibly
 * changed pixels, values stay in [0,1], and most draws give a visible defect of every size. */
#include "train/train_internal.h"
#include "ttr_util.h"

#include <math.h>
#include <string.h>

int main(void) {
    const int c = 3, h = 96, w = 128;
    size_t plane = (size_t)h * w, px = c * plane;
    float *base = malloc(px * sizeof *base), *a = malloc(px * sizeof *a), *b = malloc(px * sizeof *b);
    float *src = malloc(px * sizeof *src);
    uint8_t *ma = malloc(plane), *mb = malloc(plane);
    for (size_t i = 0; i < px; i++) base[i] = 0.5f + 0.2f * sinf((float)i * 0.01f), src[i] = (float)(i % 7) / 7.0f;
    int nonempty = 0, small = 0, large = 0;
    for (uint64_t seed = 1; seed <= 200; seed++) {
        uint64_t r1 = seed, r2 = seed;
        int na = lo_train_make_defect(a, base, seed & 1 ? src : NULL, ma, c, h, w, 4, &r1);
        int nb = lo_train_make_defect(b, base, seed & 1 ? src : NULL, mb, c, h, w, 4, &r2);
        CHECK(na == nb && memcmp(a, b, px * sizeof *a) == 0 && memcmp(ma, mb, plane) == 0, "seed %llu not deterministic",
              (unsigned long long)seed);
        int count = 0, outside_changed = 0, inside_unchanged = 0;
        for (size_t i = 0; i < plane; i++) {
            count += ma[i];
            float d = 0;
            for (int ch = 0; ch < c; ch++) d = fmaxf(d, fabsf(a[ch * plane + i] - base[ch * plane + i]));
            if (!ma[i] && d > 0.04f) outside_changed++;
            if (ma[i] && d <= 0.04f) inside_unchanged++;
        }
        CHECK(count == na, "count %d vs %d", count, na);
        CHECK(outside_changed == 0, "seed %llu: %d changed pixels outside the mask", (unsigned long long)seed,
              outside_changed);
        CHECK(inside_unchanged == 0, "seed %llu: %d masked pixels did not change", (unsigned long long)seed,
              inside_unchanged);
        nonempty += na >= 4;
        small += na >= 4 && na < (int)plane / 100;
        large += na > (int)plane / 20;
        for (size_t i = 0; i < px; i++) CHECK(a[i] >= 0 && a[i] <= 1, "range");
    }
    CHECK(nonempty > 190, "only %d of 200 defects visible", nonempty);
    CHECK(small > 40 && large > 10, "sizes: %d under 1 %% of the image, %d over 5 %%", small, large);
    free(base), free(a), free(b), free(src), free(ma), free(mb);
    return TTR_DONE();
}
