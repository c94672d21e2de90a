/* Threshold rules and the confidence calibration on hand-made score sets. */
#include "train/train_internal.h"
#include "ttr_util.h"

#include <math.h>
#include <string.h>

int main(void) {
    /* separable: the threshold falls between the classes, in the middle of the gap (logit space) */
    float p[8] = {0.01f, 0.02f, 0.05f, 0.1f, 0.9f, 0.95f, 0.98f, 0.99f};
    uint8_t y[8] = {0, 0, 0, 0, 1, 1, 1, 1};
    double f1;
    float t = lo_threshold_f1_plateau(p, y, 8, &f1);
    CHECK(f1 == 1.0, "best F1 %g", f1);
    CHECK(t > 0.1f && t < 0.9f && fabsf(t - 0.5f) < 0.02f, "threshold %g", t);
    /* one normal mixed in among the anomalies: F1 optimum still separates most */
    float q[10] = {0.1f, 0.2f, 0.3f, 0.35f, 0.8f, 0.6f, 0.7f, 0.75f, 0.9f, 0.95f};
    uint8_t z[10] = {0, 0, 0, 0, 0, 1, 1, 1, 1, 1};
    t = lo_threshold_f1_plateau(q, z, 10, &f1);
    CHECK(t > 0.35f && t <= 0.6f, "threshold %g (f1 %g)", t, f1);
    CHECK(isnan(lo_threshold_f1_plateau(q, (const uint8_t[10]){0}, 10, &f1)), "no positives -> NaN");
    /* quantile of normals */
    float n[5] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f};
    CHECK(fabsf(lo_threshold_normal_quantile(n, 5, 1.0) - 0.5f) < 1e-5f, "max");
    CHECK(fabsf(lo_threshold_normal_quantile(n, 5, 0.5) - 0.3f) < 1e-5f, "median");
    /* normal-only: the fitted tail sits above the bulk of the normals, and one odd normal image
     * (a mislabeled defect, say) does not drag it up as the empirical maximum would */
    float nn[20];
    for (int i = 0; i < 20; i++) nn[i] = 1.0f / (1.0f + expf(-(-3.0f + 0.1f * (float)(i % 10) - 0.05f * (float)(i / 10))));
    float tail = lo_threshold_normal_tail(nn, 20, 1.645);
    float top = lo_threshold_normal_quantile(nn, 20, 1.0);
    CHECK(tail > lo_threshold_normal_quantile(nn, 20, 0.5), "tail %g above the median", tail);
    nn[19] = 0.97f; /* the outlier */
    float tail2 = lo_threshold_normal_tail(nn, 20, 1.645);
    CHECK(fabsf(tail2 - tail) < 0.02f, "outlier moved the tail from %g to %g", tail, tail2);
    CHECK(lo_threshold_normal_quantile(nn, 20, 0.99) > 0.5f && tail2 < 0.2f, "99th pct %g vs tail %g (max was %g)",
          lo_threshold_normal_quantile(nn, 20, 0.99), tail2, top);
    /* fold shifts: three members whose held-out normals sit at different heights are re-centred
     * on the mean of their medians, which pulls the tail the threshold reads back to the bulk;
     * members that agree are left alone */
    {
        float lg[30], pr[30], pa[30];
        int fo[30];
        for (int i = 0; i < 30; i++) {
            fo[i] = i % 3;
            lg[i] = (fo[i] == 1 ? 2.0f : fo[i] == 2 ? -3.0f : -0.5f) + 0.05f * (float)(i / 3);
        }
        double sh[4];
        lo_threshold_fold_shifts(lg, fo, 30, 3, sh);
        CHECK(fabs(sh[0] + sh[1] + sh[2]) < 1e-6 && fabs(sh[1] - (-0.5 - 2.0)) < 1e-5 && fabs(sh[2] - 2.5) < 1e-5,
              "shifts %g %g %g", sh[0], sh[1], sh[2]);
        for (int i = 0; i < 30; i++) pr[i] = 1.0f / (1.0f + expf(-lg[i])), pa[i] = 1.0f / (1.0f + expf(-(lg[i] + (float)sh[fo[i]])));
        float raw = lo_threshold_normal_tail(pr, 30, 1.645), aligned = lo_threshold_normal_tail(pa, 30, 1.645);
        CHECK(raw > 0.85f && aligned < 0.6f, "tail raw %g, re-centred %g", raw, aligned);
        for (int i = 0; i < 30; i++) lg[i] = 0.1f * (float)(i / 3) - 1.0f; /* every fold the same */
        lo_threshold_fold_shifts(lg, fo, 30, 3, sh);
        CHECK(fabs(sh[0]) < 1e-6 && fabs(sh[1]) < 1e-6 && fabs(sh[2]) < 1e-6, "agreeing folds moved %g %g %g", sh[0],
              sh[1], sh[2]);
        for (int i = 0; i < 30; i++) lg[i] = fo[i] == 0 ? -1.0f : -2.0f;
        lo_threshold_fold_shifts(lg, fo, 30, 4, sh); /* a fold with no scores: no shift, not in the mean */
        CHECK(sh[3] == 0 && fabs(sh[0] + 2.0 / 3) < 1e-6, "empty fold %g, fold 0 %g", sh[3], sh[0]);
    }
    /* calibration: confidence >= 0.5 for the verdict, grows away from the threshold */
    float a = lo_calibrate_slope(p, y, 8, 0.5f);
    CHECK(a > 0.1f && a < 1100.0f, "slope %g", a);
    int anom;
    double c1 = lo_confidence(0.55f, 0.5f, a, &anom);
    CHECK(anom == 1 && c1 >= 0.5, "conf %g", c1);
    double c2 = lo_confidence(0.99f, 0.5f, a, &anom);
    CHECK(anom == 1 && c2 > c1, "conf %g > %g", c2, c1);
    double c3 = lo_confidence(0.01f, 0.5f, a, &anom);
    CHECK(anom == 0 && c3 > 0.5 && c3 <= 1.0, "conf normal %g", c3);
    /* overlapping scores give a flatter slope than separable ones */
    float r[8] = {0.2f, 0.8f, 0.3f, 0.7f, 0.4f, 0.6f, 0.1f, 0.9f};
    uint8_t s[8] = {1, 0, 0, 1, 1, 0, 0, 1};
    float b = lo_calibrate_slope(r, s, 8, 0.5f);
    CHECK(b < a, "overlap slope %g < separable %g", b, a);
    return TTR_DONE();
}
