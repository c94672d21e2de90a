/* eval.h — the one public header of eval/: metrics, threshold choice, bootstrap intervals, and the
 * Lookout for Vision evaluation files (EvaluationResult, EvaluationManifest) plus the HTML report.
 * Anomaly = positive class throughout. Functions return 0 on success, -1 with lev_error filled.
 */
#ifndef LOOKOUT_EVAL_H
#define LOOKOUT_EVAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    char message[1024];
} lev_error;

typedef struct {
    double lo, hi; /* 95 % bootstrap interval */
} lev_interval;

typedef struct {
    int64_t tp, fp, tn, fn;
    double precision, recall, f1;  /* at the threshold; 0 (never NaN) when undefined, see notes */
    double roc_auc, average_precision; /* over scores; -1 when undefined (single class) */
    int precision_undefined;       /* no predicted positives */
    int recall_undefined;          /* no actual positives */
    lev_interval precision_ci, recall_ci, f1_ci;
    char note[256];                /* explains undefined values, empty otherwise */
} lev_metrics;

/* scores: higher = more anomalous; is_anomaly: ground truth 0/1; predicted positive when
 * score >= threshold. Bootstrap with n_boot resamples (0 = none) seeded by seed. */
int lev_image_metrics(const float *scores, const uint8_t *is_anomaly, size_t n, float threshold,
                      int n_boot, uint64_t seed, lev_metrics *out, lev_error *err);

/* Threshold that maximizes F1 on (scores, labels); ties broken toward the midpoint between the
 * neighbouring scores. Returns NaN when there are no positives. */
float lev_threshold_max_f1(const float *scores, const uint8_t *is_anomaly, size_t n);

/* Per defect class pixel metrics (PixelAnomalyClassMetrics), accumulated image by image. */
typedef struct {
    char class_name[64];
    double precision, recall, f1, aiou;
    int64_t tp, fp, fn;       /* pixel counts */
    double iou_sum;           /* sum over images of IoU, for AIOU */
    int64_t n_images;         /* images where this class appears in truth or prediction */
} lev_pixel_class;

typedef struct {
    lev_pixel_class classes[32]; /* index 0 unused (background) */
    int n_classes;               /* including background */
} lev_pixel_metrics;

void lev_pixel_init(lev_pixel_metrics *pm, const char *const *class_names, int n_classes);
/* truth and pred: class index per pixel (0 = background), same size. */
void lev_pixel_add(lev_pixel_metrics *pm, const uint8_t *truth, const uint8_t *pred, size_t n_pixels);
void lev_pixel_finish(lev_pixel_metrics *pm);

/* What the files say about the model. */
typedef struct {
    const char *project_name;
    const char *model_version;     /* "1", "2", ... */
    const char *model_arn;
    int64_t end_time;              /* epoch seconds */
    int64_t n_training_images, n_testing_images;
} lev_details;

/* One test image's prediction, for the evaluation manifest and the report. */
typedef struct {
    const char *json_line;         /* the ground-truth Ground Truth line of the test image */
    const char *image_path;        /* local copy (for report thumbnails) */
    float score;
    double confidence;             /* of the verdict, 0..1 */
    int is_anomaly_truth;          /* -1 unknown */
    int predicted_anomalous;
    const char *predicted_mask_ref; /* s3:// URI of the predicted mask written beside, or NULL */
    const float *heatmap;          /* optional [hm_h][hm_w] in 0..1, for the report */
    int hm_w, hm_h;
} lev_prediction;

/* Writes <dir>/<prefix>EvaluationResult-<project>-<version>.json atomically (temp, fsync,
 * rename). pixel may be NULL (classification model). */
int lev_write_result(const char *path, const lev_details *d, const lev_metrics *m,
                     const lev_pixel_metrics *pixel, lev_error *err);
/* JSON Lines, one per test image, atomically. */
int lev_write_manifest(const char *path, const lev_details *d, const lev_prediction *p, size_t n,
                       lev_error *err);
/* Self-contained HTML report, atomically. */
int lev_write_report(const char *path, const lev_details *d, const lev_metrics *m,
                     const lev_pixel_metrics *pixel, const lev_prediction *p, size_t n,
                     float threshold, lev_error *err);

#ifdef __cplusplus
}
#endif
#endif
