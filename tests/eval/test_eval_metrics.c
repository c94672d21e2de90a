/* test_eval_metrics.c — image and pixel metrics against hand-computed cases, the edge cases
 * (no predicted positives, one class only, ties), the max-F1 threshold, bootstrap reproducibility
 * and the k-fold summary. */
#include "eval.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                             \
        }                                                                           \
    } while (0)
#define NEAR(a, b) CHECK(fabs((double)(a) - (double)(b)) < 1e-9)

static void hand_computed(void)
{
    /* Anomalies at 0.9, 0.8, 0.6, 0.3; normals at 0.7, 0.5, 0.4, 0.2; threshold 0.55:
     * TP 3 (0.9 0.8 0.6), FP 1 (0.7), FN 1 (0.3), TN 3. AUC: 4+4+3+1 = 12 of 16 pairs.
     * AP: steps at recall .25 (P 1), .5 (P 1), .75 (P 3/4), 1 (P 4/7). */
    const float s[] = {0.9f, 0.8f, 0.7f, 0.6f, 0.5f, 0.4f, 0.3f, 0.2f};
    const uint8_t y[] = {1, 1, 0, 1, 0, 0, 1, 0};
    lev_metrics m;
    lev_error e;
    CHECK(lev_image_metrics(s, y, 8, 0.55f, 0, 0, &m, &e) == 0);
    CHECK(m.tp == 3 && m.fp == 1 && m.fn == 1 && m.tn == 3);
    NEAR(m.precision, 0.75);
    NEAR(m.recall, 0.75);
    NEAR(m.f1, 0.75);
    NEAR(m.roc_auc, 0.75);
    NEAR(m.average_precision, 0.25 + 0.25 + 0.25 * 0.75 + 0.25 * 4.0 / 7.0);
    CHECK(m.note[0] == 0 && !m.precision_undefined && !m.recall_undefined);
    CHECK(m.n_anomalies == 4 && m.n_normals == 4 && m.threshold == 0.55f);
    /* Without bootstrap the interval collapses onto the value. */
    CHECK(m.n_boot == 0 && m.f1_ci.lo == m.f1 && m.f1_ci.hi == m.f1);

    /* Score exactly at the threshold counts as anomalous (score >= threshold). */
    CHECK(lev_image_metrics(s, y, 8, 0.6f, 0, 0, &m, &e) == 0);
    CHECK(m.tp == 3 && m.fp == 1);
}

static void ties(void)
{
    lev_metrics m;
    lev_error e;
    const float all_same[] = {0.5f, 0.5f, 0.5f, 0.5f};
    const uint8_t y1[] = {1, 0, 1, 0};
    CHECK(lev_image_metrics(all_same, y1, 4, 0.5f, 0, 0, &m, &e) == 0);
    NEAR(m.roc_auc, 0.5); /* every pair tied: half each */
    NEAR(m.average_precision, 0.5); /* one step to recall 1 at precision 1/2 */

    /* Anomaly 0.8 beats both normals (2); anomaly 0.5 ties normal 0.5 (1/2) and beats 0.2 (1). */
    const float s[] = {0.8f, 0.5f, 0.5f, 0.2f};
    const uint8_t y[] = {1, 1, 0, 0};
    CHECK(lev_image_metrics(s, y, 4, 0.6f, 0, 0, &m, &e) == 0);
    NEAR(m.roc_auc, 3.5 / 4.0);
    NEAR(m.average_precision, 0.5 * 1.0 + 0.5 * 2.0 / 3.0); /* the tied pair is one step */
}

static void edge_cases(void)
{
    lev_metrics m;
    lev_error e;
    const float s[] = {0.1f, 0.2f, 0.3f, 0.4f};
    const uint8_t y[] = {0, 1, 0, 1};
    /* No predicted positives: precision 0 with a note, never NaN. */
    CHECK(lev_image_metrics(s, y, 4, 2.0f, 100, 7, &m, &e) == 0);
    CHECK(m.precision == 0 && m.precision_undefined && !isnan(m.precision));
    CHECK(m.recall == 0 && m.f1 == 0 && !isnan(m.f1));
    CHECK(strstr(m.note, "precision reported as 0") != NULL);
    CHECK(m.roc_auc >= 0); /* scores still rank both classes */
    CHECK(!isnan(m.precision_ci.lo) && !isnan(m.precision_ci.hi));

    /* Normals only: ROC AUC and AP undefined (-1), recall undefined. */
    const uint8_t none[] = {0, 0, 0, 0};
    CHECK(lev_image_metrics(s, none, 4, 0.25f, 50, 1, &m, &e) == 0);
    CHECK(m.roc_auc == -1 && m.average_precision == -1 && m.recall_undefined);
    CHECK(m.precision == 0 && m.recall == 0 && m.fp == 2 && m.tn == 2);
    CHECK(strstr(m.note, "no anomalous test images") != NULL);

    /* Anomalies only: ROC AUC undefined, AP is 1 (every flagged image is an anomaly). */
    const uint8_t all[] = {1, 1, 1, 1};
    CHECK(lev_image_metrics(s, all, 4, 0.25f, 0, 0, &m, &e) == 0);
    CHECK(m.roc_auc == -1);
    NEAR(m.average_precision, 1.0);
    NEAR(m.precision, 1.0);
    NEAR(m.recall, 0.5);
    CHECK(strstr(m.note, "ROC AUC undefined") != NULL);

    /* Empty test set: defined zeros, no crash. */
    CHECK(lev_image_metrics(NULL, NULL, 0, 0.5f, 10, 0, &m, &e) == 0);
    CHECK(m.f1 == 0 && m.roc_auc == -1 && m.note[0]);

    /* Bad input is refused with a message naming the image and value. */
    const float bad[] = {0.1f, NAN};
    const uint8_t yb[] = {0, 1};
    CHECK(lev_image_metrics(bad, yb, 2, 0.5f, 0, 0, &m, &e) == -1);
    CHECK(strstr(e.message, "image 1") != NULL);
    const uint8_t badlabel[] = {0, 2};
    CHECK(lev_image_metrics(s, badlabel, 2, 0.5f, 0, 0, &m, &e) == -1);
    CHECK(strstr(e.message, "label of test image 1 is 2") != NULL);
    CHECK(lev_image_metrics(s, y, 4, NAN, 0, 0, &m, &e) == -1);
}

static void max_f1(void)
{
    /* Same set as hand_computed: best cut (F1 .75) lies between 0.6 and 0.5, so 0.55. */
    const float s[] = {0.9f, 0.8f, 0.7f, 0.6f, 0.5f, 0.4f, 0.3f, 0.2f};
    const uint8_t y[] = {1, 1, 0, 1, 0, 0, 1, 0};
    float t = lev_threshold_max_f1(s, y, 8);
    CHECK(t > 0.5f && t <= 0.6f);
    NEAR(t, 0.55f);
    lev_metrics m;
    lev_error e;
    CHECK(lev_image_metrics(s, y, 8, t, 0, 0, &m, &e) == 0);
    NEAR(m.f1, 0.75);

    /* F1 2/3 both when cutting below 0.9 (TP1 FN1) and below 0.6 (TP2 FP2): the lower wins. */
    const float s2[] = {0.9f, 0.8f, 0.7f, 0.6f};
    const uint8_t y2[] = {1, 0, 0, 1};
    CHECK(lev_threshold_max_f1(s2, y2, 4) == 0.6f);

    /* Order of the input does not matter; ties in scores form one cut. */
    const float s3[] = {0.2f, 0.7f, 0.7f, 0.1f};
    const uint8_t y3[] = {0, 1, 0, 0};
    t = lev_threshold_max_f1(s3, y3, 4);
    NEAR(t, 0.45f);

    const uint8_t none[] = {0, 0, 0, 0};
    CHECK(isnan(lev_threshold_max_f1(s2, none, 4)));
    CHECK(isnan(lev_threshold_max_f1(s2, y2, 0)));
}

static void bootstrap(void)
{
    /* 20 anomalies with recall .75 and 20 normals with 2 false alarms. */
    float s[40];
    uint8_t y[40];
    for (int i = 0; i < 20; i++) {
        y[i] = 1;
        s[i] = i < 15 ? 0.9f : 0.1f;
        y[20 + i] = 0;
        s[20 + i] = i < 2 ? 0.8f : 0.2f;
    }
    lev_metrics a, b, c;
    lev_error e;
    CHECK(lev_image_metrics(s, y, 40, 0.5f, 2000, 42, &a, &e) == 0);
    CHECK(lev_image_metrics(s, y, 40, 0.5f, 2000, 42, &b, &e) == 0);
    CHECK(lev_image_metrics(s, y, 40, 0.5f, 2000, 43, &c, &e) == 0);
    CHECK(a.n_boot == 2000 && a.seed == 42);
    /* Same seed, same intervals to the bit. */
    CHECK(memcmp(&a.f1_ci, &b.f1_ci, sizeof a.f1_ci) == 0);
    CHECK(memcmp(&a.recall_ci, &b.recall_ci, sizeof a.recall_ci) == 0);
    CHECK(memcmp(&a.precision_ci, &b.precision_ci, sizeof a.precision_ci) == 0);
    /* Another seed moves at least one bound a little, but not the picture. */
    CHECK(memcmp(&a.recall_ci, &c.recall_ci, sizeof a.recall_ci) != 0 ||
          memcmp(&a.f1_ci, &c.f1_ci, sizeof a.f1_ci) != 0 ||
          memcmp(&a.precision_ci, &c.precision_ci, sizeof a.precision_ci) != 0);
    CHECK(fabs(a.recall_ci.lo - c.recall_ci.lo) <= 0.051);
    /* Recall 15/20: binomial sd ~0.097, so the 95 % interval is about 0.55..0.95. */
    CHECK(a.recall_ci.lo >= 0.5 && a.recall_ci.lo <= 0.6);
    CHECK(a.recall_ci.hi >= 0.9 && a.recall_ci.hi <= 0.95 + 1e-12);
    CHECK(a.recall_ci.lo <= a.recall && a.recall <= a.recall_ci.hi);
    CHECK(a.precision_ci.lo <= a.precision && a.precision <= a.precision_ci.hi && a.precision_ci.hi <= 1.0);
    CHECK(a.f1_ci.lo <= a.f1 && a.f1 <= a.f1_ci.hi);
    /* Stratified: with one (detected) anomaly among 40 images, every resample keeps it, so recall
     * is 1 in all of them. Unstratified, ~36 % of resamples would have no anomaly at all. */
    float s1[40];
    uint8_t y1[40];
    for (int i = 0; i < 40; i++) {
        y1[i] = i == 0;
        s1[i] = i == 0 ? 0.9f : (i < 5 ? 0.6f : 0.1f);
    }
    CHECK(lev_image_metrics(s1, y1, 40, 0.5f, 500, 1, &a, &e) == 0);
    CHECK(a.recall_ci.lo == 1.0 && a.recall_ci.hi == 1.0);
    CHECK(a.precision_ci.lo < a.precision_ci.hi);
}

static void pixels(void)
{
    const char *names[] = {"background", "scratch", "dent"};
    lev_pixel_metrics pm;
    lev_pixel_init(&pm, names, 3);
    uint8_t t[16], p[16];
    /* 1: scratch truth 0..3, predicted 2..5: IoU 2/6. */
    memset(t, 0, 16);
    memset(p, 0, 16);
    memset(t, 1, 4);
    memset(p + 2, 1, 4);
    lev_pixel_add(&pm, t, p, 16);
    /* 2: dent truth and prediction 0..7: IoU 1; scratch absent from both: no IoU. */
    memset(t, 0, 16);
    memset(p, 0, 16);
    memset(t, 2, 8);
    memset(p, 2, 8);
    lev_pixel_add(&pm, t, p, 16);
    /* 3: clean image, one scratch pixel predicted: scratch IoU 0. */
    memset(t, 0, 16);
    memset(p, 0, 16);
    p[5] = 1;
    lev_pixel_add(&pm, t, p, 16);
    /* 4: scratch at pixel 0 predicted as dent: IoU 0 for both. Pixel value 9 (unknown class)
     * counts as background. */
    memset(t, 0, 16);
    memset(p, 0, 16);
    t[0] = 1;
    p[0] = 2;
    p[15] = 9;
    lev_pixel_add(&pm, t, p, 16);
    lev_pixel_finish(&pm);

    CHECK(lev_pixel_images(&pm) == 4);
    const lev_pixel_class *sc = &pm.classes[1], *de = &pm.classes[2];
    CHECK(strcmp(sc->class_name, "scratch") == 0 && strcmp(de->class_name, "dent") == 0);
    CHECK(sc->tp == 2 && sc->fp == 3 && sc->fn == 3);
    CHECK(sc->n_images == 3 && sc->n_truth_images == 2);
    NEAR(sc->aiou, (1.0 / 3.0 + 0 + 0) / 3.0);
    NEAR(sc->precision, 0.4);
    NEAR(sc->recall, 0.4);
    NEAR(sc->f1, 0.4);
    CHECK(de->tp == 8 && de->fp == 1 && de->fn == 0);
    CHECK(de->n_images == 2 && de->n_truth_images == 1);
    NEAR(de->aiou, 0.5);
    NEAR(de->precision, 8.0 / 9.0);
    NEAR(de->recall, 1.0);
    NEAR(de->f1, 16.0 / 17.0);

    /* A class that never shows up has zeros, not NaN. */
    lev_pixel_init(&pm, NULL, 2);
    memset(t, 0, 16);
    lev_pixel_add(&pm, t, t, 16);
    lev_pixel_finish(&pm);
    CHECK(pm.classes[1].aiou == 0 && pm.classes[1].f1 == 0 && strcmp(pm.classes[1].class_name, "class1") == 0);
}

static void folds(void)
{
    lev_metrics f[3];
    memset(f, 0, sizeof f);
    f[0].f1 = 0.8, f[1].f1 = 0.9, f[2].f1 = 1.0;
    f[0].roc_auc = 0.9, f[1].roc_auc = -1, f[2].roc_auc = 0.7;
    lev_fold_summary s;
    lev_folds_summarize(f, 3, &s);
    CHECK(s.n_folds == 3);
    NEAR(s.f1_mean, 0.9);
    NEAR(s.f1_sd, 0.1);
    NEAR(s.roc_auc_mean, 0.8); /* the undefined fold is skipped */
    NEAR(s.roc_auc_sd, sqrt(0.02));
}

int main(void)
{
    hand_computed();
    ties();
    edge_cases();
    max_f1();
    bootstrap();
    pixels();
    folds();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("eval metrics: all checks passed\n");
    return 0;
}
