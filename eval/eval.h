/* eval.h — the one public header of eval/: metrics, threshold choice, bootstrap intervals, and the
 * Lookout for Vision evaluation files (EvaluationResult, EvaluationManifest) plus the HTML report.
 * Anomaly = positive class throughout. Functions return 0 on success, -1 with lev_error filled.
 *
 * Definitions (tests/eval/ checks them against scikit-learn 1.2):
 *  - Precision, recall, F1 at the threshold; predicted positive when score >= threshold.
 *    F1 = 2TP / (2TP + FP + FN). A ratio with a zero denominator is reported as 0 (scikit-learn's
 *    zero_division=0), flagged in *_undefined and explained in note; JSON never holds NaN.
 *  - ROC AUC: area under the ROC curve with tied scores counting half (= Mann-Whitney U / (P*N),
 *    scikit-learn's roc_auc_score). Undefined (-1; JSON null) unless both classes are present.
 *  - Average precision: scikit-learn's average_precision_score, sum over distinct thresholds of
 *    (R_k - R_k-1) * P_k, tied scores forming one step. Undefined (-1; JSON null) without
 *    anomalies; with anomalies only it is 1.
 *  - Bootstrap: stratified percentile bootstrap. Each resample draws the anomalies and the normals
 *    separately with replacement (so the class counts of the test set are kept and recall is
 *    always defined); the threshold stays fixed; the interval is the 2.5th..97.5th percentile of
 *    the resampled values (linear interpolation, numpy's default). Same seed, same interval.
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
    lev_interval precision_ci, recall_ci, f1_ci; /* = the point value when n_boot is 0 */
    char note[256];                /* explains undefined values, empty otherwise */
    /* Added fields (zero in older callers' copies is harmless: lev_image_metrics fills them). */
    float threshold;               /* the threshold the counts were taken at */
    int n_boot;                    /* bootstrap resamples behind the intervals; 0 = none */
    uint64_t seed;                 /* seed of the bootstrap */
    int64_t n_anomalies, n_normals;
} lev_metrics;

/* scores: higher = more anomalous; is_anomaly: ground truth 0/1; predicted positive when
 * score >= threshold. Bootstrap with n_boot resamples (0 = none) seeded by seed. */
int lev_image_metrics(const float *scores, const uint8_t *is_anomaly, size_t n, float threshold,
                      int n_boot, uint64_t seed, lev_metrics *out, lev_error *err);

/* Threshold that maximizes F1 on (scores, labels); ties broken toward the midpoint between the
 * neighbouring scores. Returns NaN when there are no positives. Precisely: the best cut between
 * two neighbouring distinct scores a > b is returned as their midpoint (so the threshold keeps the
 * same margin to both); among cuts with equal F1 the lower threshold (higher recall: a missed
 * defect costs more than a false alarm) wins; when the best cut predicts every image anomalous
 * the lowest score is returned. */
float lev_threshold_max_f1(const float *scores, const uint8_t *is_anomaly, size_t n);

/* Per defect class pixel metrics (PixelAnomalyClassMetrics), accumulated image by image. */
typedef struct {
    char class_name[64];
    double precision, recall, f1, aiou;
    int64_t tp, fp, fn;       /* pixel counts */
    double iou_sum;           /* sum over images of IoU, for AIOU */
    int64_t n_images;         /* images where this class appears in truth or prediction */
    int64_t n_truth_images;   /* images whose true mask has this class ("found in" the test set) */
} lev_pixel_class;

typedef struct {
    lev_pixel_class classes[32]; /* index 0 = background: only its n_images is used (images added) */
    int n_classes;               /* including background */
} lev_pixel_metrics;

/* Precision/Recall/F1 are pooled over all pixels of all added images (micro average); AIOU is the
 * mean over images of IoU = TP/(TP+FP+FN) of that class, over the images where the class is in the
 * truth or the prediction (an image where it is in neither has no IoU; a false detection on a
 * clean image counts as IoU 0). Call lev_pixel_add only for test images whose true mask is known
 * (a normal image's mask is all background). Pixel values >= n_classes count as background.
 * n_classes is clamped to 1..32; class_names may be NULL (names "class<i>"). */
void lev_pixel_init(lev_pixel_metrics *pm, const char *const *class_names, int n_classes);
/* truth and pred: class index per pixel (0 = background), same size. */
void lev_pixel_add(lev_pixel_metrics *pm, const uint8_t *truth, const uint8_t *pred, size_t n_pixels);
void lev_pixel_finish(lev_pixel_metrics *pm);
/* Number of images added so far (0: no test masks, PixelAnomalyClassMetrics is written empty). */
int64_t lev_pixel_images(const lev_pixel_metrics *pm);

/* k-fold summary (create-model --evaluation-folds): mean and sample standard deviation over the
 * folds' metrics of precision, recall, F1, ROC AUC and AP (undefined fold values are skipped). */
typedef struct {
    int n_folds;
    double precision_mean, precision_sd, recall_mean, recall_sd, f1_mean, f1_sd;
    double roc_auc_mean, roc_auc_sd, ap_mean, ap_sd; /* -1 when no fold defined them */
} lev_fold_summary;
void lev_folds_summarize(const lev_metrics *folds, int n_folds, lev_fold_summary *out);

/* One fold of the k-fold evaluation as run: its metrics at the fold model's own threshold, or why
 * it failed (a failed fold is reported, it does not fail the model). */
typedef struct {
    int ok;                    /* 1: trained and scored; 0: failed, reason in error */
    char error[512];
    int64_t n_train, n_test;   /* labeled images trained on / held out and scored */
    double seconds;            /* wall-clock time of the fold */
    lev_metrics m;             /* valid when ok (threshold in m.threshold) */
} lev_fold_run;

/* What the files say about the model. */
typedef struct {
    const char *project_name;
    const char *model_version;     /* "1", "2", ... */
    const char *model_arn;
    int64_t end_time;              /* epoch seconds */
    int64_t n_training_images, n_testing_images;
    /* Added, optional (NULL/0 = default): */
    const char *job_name;          /* manifest job-name; default "training-job/anomaly-detection" */
    int n_classes;                 /* segmentation: classes incl. background [0], for the colour */
    const char *const *class_names;/* map of the predicted masks in the manifest */
    const char *const *class_colors; /* "#rrggbb" per class */
    const lev_fold_summary *folds; /* k-fold results: LookoutExtensions.CrossValidation + report */
    const lev_fold_run *fold_runs; /* the folds one by one (NULL: summary only); n_fold_runs of them */
    int n_fold_runs;
    uint64_t fold_seed;            /* seed of the fold assignment (reported with the folds) */
    double fold_budget_s;          /* training time budget of each fold, seconds (0: not reported) */
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

/* The files are written atomically: a temp file beside the target, fsync, rename, fsync of the
 * directory; missing parent directories are created.
 *
 * EvaluationResult (the schema Lookout for Vision documented): Version 1, EvaluationDetails
 * {ModelArn, EvaluationEndTimestamp, NumberOfTrainingImages, NumberOfTestingImages},
 * AggregatedEvaluationResults.Metrics {ROCAUC, AveragePrecision, Precision, Recall, F1Score and,
 * when pixel != NULL, PixelAnomalyClassMetrics [{ClassName, Precision, Recall, F1Score, AIOU}] for
 * each class found in the test masks}. Undefined ROCAUC/AveragePrecision are JSON null. Everything
 * Lookout did not have sits under the one top-level key "LookoutExtensions": Threshold,
 * ConfusionMatrix {TruePositives, FalsePositives, TrueNegatives, FalseNegatives},
 * NumberOfTestAnomalies/Normals, BootstrapConfidenceIntervals {Method, ConfidenceLevel,
 * Resamples, Seed (decimal string: 64 bits do not fit a JSON double), Precision/Recall/F1Score
 * {Lower, Upper}} (absent when n_boot was 0),
 * PixelAnomalyClassCounts (per class pixel TP/FP/FN, images), CrossValidation {Folds, Precision/
 * Recall/F1Score/ROCAUC/AveragePrecision {Mean, StandardDeviation}} (when d->folds; with
 * d->fold_runs also FoldsRequested, FoldsCompleted, Seed, TimeBudgetSecondsPerFold and FoldResults
 * [{Fold, Status COMPLETED|FAILED, StatusMessage (failed), NumberOfTrainingImages,
 * NumberOfTestingImages, Threshold, Precision, Recall, F1Score, ROCAUC, AveragePrecision,
 * ConfusionMatrix, Seconds}]; the summary is over the completed folds), Notes. */
int lev_write_result(const char *path, const lev_details *d, const lev_metrics *m,
                     const lev_pixel_metrics *pixel, lev_error *err);
/* JSON Lines, one per test image: the image's ground-truth line (json_line; when NULL, just
 * {"source-ref": image_path}) plus "anomaly-label-detected" (1/0) and
 * "anomaly-label-detected-metadata" {class-name "anomaly"/"normal", confidence, type
 * "groundtruth/image-classification", human-annotated "no", creation-date, job-name, model-arn,
 * project-name, model-version}. With predicted_mask_ref: "anomaly-mask-ref-detected" and
 * "anomaly-mask-ref-detected-metadata" {internal-color-map (from d's classes), type
 * "groundtruth/semantic-segmentation", human-annotated "no", creation-date, job-name, model-arn,
 * project-name, model-version} (the names AWS's edge agent used for predicted masks). */
int lev_write_manifest(const char *path, const lev_details *d, const lev_prediction *p, size_t n,
                       lev_error *err);
/* Self-contained HTML report (inline SVG, base64 PNG, no network), atomically: metrics with
 * intervals, ROC and precision-recall curves with the threshold marked, score histogram, confusion
 * matrix, pixel metrics, and each misclassified labelled image as a thumbnail with its heat map. */
int lev_write_report(const char *path, const lev_details *d, const lev_metrics *m,
                     const lev_pixel_metrics *pixel, const lev_prediction *p, size_t n,
                     float threshold, lev_error *err);


#ifdef __cplusplus
}
#endif
#endif
