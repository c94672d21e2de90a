/* train_defects.c — the recipe's mix of synthetic defects (the kinds themselves are dataset/'s
 * lds_synth_defect). Real defects span tiny spots to large areas, so the mix favours the small,
 * local kinds (a network that finds a 1 % blotch also finds a 20 % one) and keeps a few large
 * CutPaste and DRAEM-style Perlin blends. The mask keeps only pixels that visibly changed: a
 * pasted patch that happens to match what was there is not a defect to learn.
 */
#include "train_internal.h"

#include "dataset.h"

#include <math.h>
#include <string.h>

/* cumulative weights over lds_synth_kind: cutpaste, scar, perlin, patch, erase, blotch */
static const double lo_defect_mix[LDS_SYNTH_KINDS] = {0.04, 0.24, 0.34, 0.58, 0.79, 1.0};

int lo_train_make_defect(float *img, const float *clean, const float *donor, uint8_t *mask, int c, int h, int w,
                         uint64_t *rng) {
    size_t plane = (size_t)h * w, px = (size_t)c * plane;
    for (int attempt = 0; attempt < 8; attempt++) {
        memcpy(img, clean, px * sizeof *img);
        double u = lo_rng_uniform(rng);
        int kind = 0;
        while (kind < LDS_SYNTH_KINDS - 1 && u >= lo_defect_mix[kind]) kind++;
        lds_synth_defect(img, mask, c, h, w, (lds_synth_kind)kind, donor, rng);
        int count = 0;
        for (size_t i = 0; i < plane; i++) {
            float d = 0;
            for (int ch = 0; ch < c; ch++) d = fmaxf(d, fabsf(img[ch * plane + i] - clean[ch * plane + i]));
            mask[i] = mask[i] && d > 0.04f;
            count += mask[i];
        }
        if (count >= 4) return count;
    }
    memcpy(img, clean, px * sizeof *img);
    memset(mask, 0, plane);
    return 0;
}
