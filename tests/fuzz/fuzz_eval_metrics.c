/* fuzz_eval_metrics.c — libFuzzer harness for eval's metrics: arbitrary scores (NaN, inf,
 * denormals, ties), labels and thresholds must give a clean error or values in range, never a
 * crash, NaN or an out-of-range metric; arbitrary masks must give pixel metrics in 0..1. */
#include "eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void check(int ok)
{
    if (!ok)
        abort();
}

static int in01(double v) { return v >= 0 && v <= 1; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 6)
        return 0;
    float threshold;
    memcpy(&threshold, data, 4);
    int n_boot = data[4] % 8;
    int n_classes = 1 + data[5] % 4;
    data += 6;
    size -= 6;
    size_t n = size / 5;
    float *s = malloc((n ? n : 1) * sizeof *s);
    uint8_t *y = malloc(n ? n : 1);
    if (!s || !y) {
        free(s);
        free(y);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        memcpy(&s[i], data + 5 * i, 4);
        y[i] = data[5 * i + 4] & 1;
    }
    lev_metrics m;
    lev_error e;
    if (lev_image_metrics(s, y, n, threshold, n_boot, 1, &m, &e) == 0) {
        check(in01(m.precision) && in01(m.recall) && in01(m.f1));
        check(m.roc_auc == -1 || in01(m.roc_auc));
        check(m.average_precision == -1 || in01(m.average_precision));
        check(m.tp + m.fp + m.tn + m.fn == (int64_t)n);
        check(in01(m.f1_ci.lo) && in01(m.f1_ci.hi) && m.f1_ci.lo <= m.f1_ci.hi);
    } else {
        check(e.message[0] != 0);
    }
    float t = lev_threshold_max_f1(s, y, n);
    if (!isnan(t)) {
        check(isfinite(t));
        if (lev_image_metrics(s, y, n, t, 0, 0, &m, &e) == 0)
            check(m.tp > 0);
    }
    /* The same bytes as two masks. */
    lev_pixel_metrics pm;
    lev_pixel_init(&pm, NULL, n_classes);
    size_t half = size / 2;
    lev_pixel_add(&pm, data, data + half, half);
    lev_pixel_finish(&pm);
    for (int c = 1; c < pm.n_classes; c++)
        check(in01(pm.classes[c].precision) && in01(pm.classes[c].recall) && in01(pm.classes[c].f1) &&
              in01(pm.classes[c].aiou));
    free(s);
    free(y);
    return 0;
}
