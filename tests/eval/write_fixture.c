/* write_fixture.c — test driver: builds small classification and segmentation evaluations from
 * images it draws itself and writes their EvaluationResult, EvaluationManifest and report into
 * OUTDIR, plus scores.tsv (what validate_files.py recomputes the metrics from). Also checks that
 * writing where it cannot fails with a message naming the path.
 * Usage: write_fixture OUTDIR [REAL_IMAGE]  (REAL_IMAGE, e.g. a JPEG of ../shared/data, stands in for
 * test image 9, a missed anomaly, so a real photo goes through decode, downscale and overlay) */
#include "eval.h"

#include <math.h>
#include <stb/stb_image_write.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 24
#define HM 16

static int fail(const char *what, const lev_error *e)
{
    fprintf(stderr, "write_fixture: %s: %s\n", what, e ? e->message : "");
    return 1;
}

/* A 96x64 gray-green part with a dark blob where an anomaly is. */
static int draw(const char *path, int anomalous, int i)
{
    enum { W = 96, H = 64 };
    static uint8_t px[W * H * 3];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t *p = px + (y * W + x) * 3;
            int d = (x - 30 - i) * (x - 30 - i) + (y - 30) * (y - 30);
            int blob = anomalous && d < 80;
            p[0] = (uint8_t)(blob ? 40 : 120 + (x + y) % 20);
            p[1] = (uint8_t)(blob ? 30 : 170);
            p[2] = (uint8_t)(blob ? 30 : 110);
        }
    return stbi_write_png(path, W, H, 3, px, W * 3) ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: %s OUTDIR [REAL_IMAGE]\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    char path[4096], tsv[4096];
    static char lines[N][1024], images[N][4096], masks[N][4096];
    static float heat[N][HM * HM];
    float scores[N];
    uint8_t truth[N];
    lev_prediction pred[N];
    memset(pred, 0, sizeof pred);
    const float threshold = 0.5f;

    snprintf(tsv, sizeof tsv, "%s/scores.tsv", dir);
    FILE *f = fopen(tsv, "w");
    if (!f)
        return fail(tsv, NULL);
    for (int i = 0; i < N; i++) {
        int anomalous = i % 2;
        /* Scores that overlap a little: a few misses and false alarms, and a tie at the threshold. */
        float s = anomalous ? 0.35f + 0.05f * (float)(i % 9) : 0.1f + 0.04f * (float)(i % 11);
        if (i == 4)
            s = 0.5f;
        scores[i] = s;
        truth[i] = (uint8_t)anomalous;
        snprintf(images[i], sizeof images[i], "%s/img%02d.png", dir, i);
        if (draw(images[i], anomalous, i) != 0)
            return fail(images[i], NULL);
        snprintf(lines[i], sizeof lines[i],
                 "{\"source-ref\":\"s3://bucket/parts/img%02d.png\",\"anomaly-label\":%d,"
                 "\"anomaly-label-metadata\":{\"class-name\":\"%s\",\"type\":\"groundtruth/image-classification\","
                 "\"human-annotated\":\"yes\",\"creation-date\":\"2026-01-02T03:04:05.000\",\"job-name\":\"labeling-job/parts\"}}",
                 i, anomalous, anomalous ? "anomaly" : "normal");
        for (int k = 0; k < HM * HM; k++) {
            int x = k % HM, y = k / HM;
            float d = (float)((x - 5) * (x - 5) + (y - 8) * (y - 8));
            heat[i][k] = s * expf(-d / 12.0f);
        }
        if (i == 6) /* NaN in a heat map must not poison the thumbnail */
            heat[i][3] = NAN;
        pred[i].json_line = lines[i];
        pred[i].image_path = images[i];
        pred[i].score = s;
        pred[i].predicted_anomalous = s >= threshold;
        pred[i].confidence = pred[i].predicted_anomalous ? s : 1 - s;
        pred[i].is_anomaly_truth = anomalous;
        pred[i].heatmap = heat[i];
        pred[i].hm_w = pred[i].hm_h = HM;
        fprintf(f, "%.9g\t%d\t%d\n", (double)s, anomalous, pred[i].predicted_anomalous);
    }
    /* One unreadable image: the report says so instead of failing. Make it a misclassification. */
    snprintf(images[1], sizeof images[1], "%s/missing.png", dir); /* image 1 is a missed anomaly */
    if (argc == 3)
        snprintf(images[9], sizeof images[9], "%s", argv[2]);
    fclose(f);

    lev_metrics m;
    lev_error e;
    if (lev_image_metrics(scores, truth, N, threshold, 1000, 7, &m, &e) != 0)
        return fail("metrics", &e);
    lev_details d = {.project_name = "parts", .model_version = "1",
                     .model_arn = "arn:aws:lookoutvision:local:000000000000:model/parts/1",
                     .end_time = 1795000000, .n_training_images = 40, .n_testing_images = N};
    snprintf(path, sizeof path, "%s/out/EvaluationResult-parts-1.json", dir);
    if (lev_write_result(path, &d, &m, NULL, &e) != 0)
        return fail("result", &e);
    snprintf(path, sizeof path, "%s/out/EvaluationManifest-parts-1.json", dir);
    if (lev_write_manifest(path, &d, pred, N, &e) != 0)
        return fail("manifest", &e);
    snprintf(path, sizeof path, "%s/out/EvaluationReport-parts-1.html", dir);
    if (lev_write_report(path, &d, &m, NULL, pred, N, threshold, &e) != 0)
        return fail("report", &e);
    /* Written twice: the second replaces the first atomically (no temp file left). */
    if (lev_write_report(path, &d, &m, NULL, pred, N, threshold, &e) != 0)
        return fail("report again", &e);

    /* Segmentation: two defect classes, predicted masks referenced, pixel metrics. */
    const char *names[] = {"background", "scratch", "dent"};
    const char *colors[] = {"#ffffff", "#2ca02c", "#1f77b4"};
    lev_pixel_metrics pm;
    lev_pixel_init(&pm, names, 3);
    for (int i = 0; i < N; i++) {
        uint8_t t[HM * HM] = {0}, p[HM * HM] = {0};
        if (truth[i])
            memset(t + HM * 4, i % 4 == 1 ? 1 : 2, HM * 3);
        if (pred[i].predicted_anomalous)
            memset(p + HM * 5, i % 4 == 1 ? 1 : 2, HM * 3);
        if (i != 2) /* image 2's mask is unknown: left out of the pixel metrics */
            lev_pixel_add(&pm, t, p, HM * HM);
        snprintf(masks[i], sizeof masks[i], "s3://bucket/out/masks/img%02d.png", i);
        pred[i].predicted_mask_ref = masks[i];
    }
    lev_pixel_finish(&pm);
    lev_details ds = d;
    ds.project_name = "seg";
    ds.model_version = "2";
    ds.model_arn = "arn:aws:lookoutvision:local:000000000000:model/seg/2";
    ds.n_classes = 3;
    ds.class_names = names;
    ds.class_colors = colors;
    ds.job_name = "training-job/seg-2";
    /* Three folds' metrics for the cross-validation block. */
    lev_metrics fm[3];
    memset(fm, 0, sizeof fm);
    fm[0].precision = 0.8, fm[1].precision = 0.9, fm[2].precision = 1.0;
    fm[0].recall = fm[1].recall = fm[2].recall = 0.5;
    fm[0].f1 = 0.6, fm[1].f1 = 0.7, fm[2].f1 = 0.8;
    fm[0].roc_auc = 0.9, fm[1].roc_auc = -1, fm[2].roc_auc = 0.8;
    fm[0].average_precision = fm[1].average_precision = fm[2].average_precision = -1;
    lev_fold_summary folds;
    lev_folds_summarize(fm, 3, &folds);
    ds.folds = &folds;
    snprintf(path, sizeof path, "%s/out/EvaluationResult-seg-2.json", dir);
    if (lev_write_result(path, &ds, &m, &pm, &e) != 0)
        return fail("seg result", &e);
    snprintf(path, sizeof path, "%s/out/EvaluationManifest-seg-2.json", dir);
    if (lev_write_manifest(path, &ds, pred, N, &e) != 0)
        return fail("seg manifest", &e);
    snprintf(path, sizeof path, "%s/out/EvaluationReport-seg-2.html", dir);
    if (lev_write_report(path, &ds, &m, &pm, pred, N, threshold, &e) != 0)
        return fail("seg report", &e);

    /* Single class in test (normals only), no bootstrap: undefined metrics as null. */
    uint8_t normals[N] = {0};
    lev_metrics ms;
    if (lev_image_metrics(scores, normals, N, 2.0f, 0, 0, &ms, &e) != 0)
        return fail("single-class metrics", &e);
    lev_details d1 = d;
    d1.project_name = "single";
    snprintf(path, sizeof path, "%s/out/EvaluationResult-single-1.json", dir);
    if (lev_write_result(path, &d1, &ms, NULL, &e) != 0)
        return fail("single-class result", &e);

    /* Errors: a path below a regular file cannot be created; a bad ground-truth line is named. */
    snprintf(path, sizeof path, "%s/scores.tsv/EvaluationResult-x-1.json", dir);
    if (lev_write_result(path, &d, &m, NULL, &e) == 0 || !strstr(e.message, path)) {
        fprintf(stderr, "write_fixture: writing below a file should fail naming %s (got: %s)\n", path, e.message);
        return 1;
    }
    pred[5].json_line = "{\"source-ref\": broken";
    snprintf(path, sizeof path, "%s/out/EvaluationManifest-bad-1.json", dir);
    if (lev_write_manifest(path, &d, pred, N, &e) == 0 || !strstr(e.message, "test image 5")) {
        fprintf(stderr, "write_fixture: a broken ground-truth line should be refused naming image 5 (got: %s)\n",
                e.message);
        return 1;
    }
    printf("fixture written to %s/out\n", dir);
    return 0;
}
