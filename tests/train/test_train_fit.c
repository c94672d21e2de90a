/* Aspect-preserving input (lo_train_fit_mode, lo_model_paint): the rule keeps squashing for
 * images of one shape and switches to fit for mixed shapes, and a fit model's mask lands on the
 * original image where the map saw the defect, not where a squashed image would have put it. */
#include "train/train_data.h"
#include "train/train_infer.h"
#include "ttr_util.h"

#include <stdlib.h>
#include <string.h>

static int fit_for(const int (*sizes)[2], size_t n, double *spread) {
    lds_set set;
    memset(&set, 0, sizeof set);
    lds_entry *e = calloc(n, sizeof *e);
    size_t *items = malloc(n * sizeof *items);
    for (size_t i = 0; i < n; i++) e[i].width = sizes[i][0], e[i].height = sizes[i][1], items[i] = i;
    set.entries = e;
    set.n = n;
    int fit = lo_train_fit_mode(&set, items, n, spread);
    free(e);
    free(items);
    return fit;
}

static void test_rule(void) {
    int one[20][2], mixed[20][2], near[20][2];
    for (int i = 0; i < 20; i++) {
        one[i][0] = 576, one[i][1] = 768;                   /* cookies: all one shape */
        mixed[i][0] = 103 + 27 * i, mixed[i][1] = 300;      /* magnetic-tile-like ROI crops */
        near[i][0] = 300 + i, near[i][1] = 300;             /* within 7 % of square */
    }
    double s;
    CHECK(fit_for(one, 20, &s) == 0 && s == 1.0, "one shape squashes (spread %.2f)", s);
    CHECK(fit_for(mixed, 20, &s) == 1 && s > 3, "mixed shapes fit (spread %.2f)", s);
    CHECK(fit_for(near, 20, &s) == 0 && s < 1.1, "nearly one shape squashes (spread %.2f)", s);
    CHECK(fit_for(one, 1, &s) == 0, "one image squashes");
}

/* a 32x32 input, an 8x8 map (stride 4) with one hot cell; the image is 64x32 (W x H), so its
 * box is 32x16 at y = 8: map rows 2..5 hold it. The hot cell (row 3, col 6) covers input
 * x 24..27, y 12..15, i.e. image x 48..55, y 8..15 at the image's scale (2x). */
static void test_paint(void) {
    lo_model_data md;
    memset(&md, 0, sizeof md);
    md.width = md.height = 32;
    md.pixel_threshold = 0.5f;
    md.n_classes = 2;
    md.fit = 1;
    float map[64];
    for (int i = 0; i < 64; i++) map[i] = -8;
    map[3 * 8 + 6] = 8;
    uint8_t *out = malloc(64 * 32);
    CHECK(lo_model_paint(&md, map, NULL, 0, 8, 8, 1, 64, 32, out) == 0, "paint");
    int n = 0, xs = 0, ys = 0;
    for (int y = 0; y < 32; y++)
        for (int x = 0; x < 64; x++)
            if (out[y * 64 + x]) n++, xs += x, ys += y;
    CHECK(n > 0, "the defect is painted");
    if (n) {
        double cx = (double)xs / n, cy = (double)ys / n;
        CHECK(cx > 46 && cx < 58 && cy > 6 && cy < 18, "painted where the map saw it: centre %.1f,%.1f", cx, cy);
    }
    /* squashed, the same cell would sit at y 24..31 of the image's 32 rows */
    md.fit = 0;
    CHECK(lo_model_paint(&md, map, NULL, 0, 8, 8, 1, 64, 32, out) == 0, "paint squashed");
    n = ys = 0;
    for (int y = 0; y < 32; y++)
        for (int x = 0; x < 64; x++)
            if (out[y * 64 + x]) n++, ys += y;
    CHECK(n > 0 && (double)ys / n > 9, "squashed paints lower (centre row %.1f)", n ? (double)ys / n : -1.0);
    /* a normal verdict paints nothing, fit or not */
    md.fit = 1;
    lo_model_paint(&md, map, NULL, 0, 8, 8, 0, 64, 32, out);
    for (int i = 0; i < 64 * 32; i++) n = i == 0 ? out[i] : n + out[i];
    CHECK(n == 0, "normal verdict: empty mask");
    free(out);
}

int main(void) {
    test_rule();
    test_paint();
    return TTR_DONE();
}
