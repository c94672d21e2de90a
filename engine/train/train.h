/* train.h — training a model version from its dataset snapshots, the model file, and inference.
 * Internal to engine/ (the service's worker and detect-anomalies use it).
 */
#ifndef LOOKOUT_TRAIN_H
#define LOOKOUT_TRAIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    char message[2048];
} lo_train_error;

typedef struct {
    const char *train_dir;  /* dataset directory (dataset.h), required */
    const char *test_dir;   /* NULL: a single dataset, split internally (lds_split) */
    const char *model_dir;  /* writes model.bin, split.json and predicted masks here */
    uint64_t seed;          /* 0 = default */
    int threads;            /* 0 = all cores */
    double time_budget_s;   /* wall-clock budget for training; 0 = default */
    const char *arch;       /* NULL = choose from the data; else an embedded models/<arch>.json */
    FILE *log;              /* the model's log (progress, candidates tried), may be NULL */
    /* Progress for describe-model's StatusMessage and a foreground bar; may be NULL. */
    void (*progress)(void *ctx, double fraction, const char *message);
    void *progress_ctx;
    int max_steps;          /* 0 = the recipe's; else caps the training steps per member (tests) */
} lo_train_request;

/* One scored test image. */
typedef struct {
    char *json_line;        /* the image's Ground Truth line (copied) */
    char *image_path;       /* its imported copy */
    int truth;              /* -1 unlabeled, 0 normal, 1 anomaly */
    uint8_t *truth_mask;    /* segmentation: class per pixel at hm size, or NULL when unknown */
    float score;            /* anomaly score, higher = more anomalous */
    double confidence;      /* calibrated probability of the verdict */
    int predicted_anomalous;
    char *mask_path;        /* predicted mask PNG in model_dir (segmentation), or NULL */
    float *heatmap;         /* [hm_h][hm_w] anomaly probability, or NULL */
    uint8_t *pred_mask;     /* segmentation: predicted class per pixel at hm size, or NULL */
    int hm_w, hm_h;
} lo_test_prediction;

typedef struct {
    float threshold;
    int64_t n_train, n_test;
    lo_test_prediction *test;  /* n_test predictions */
    int test_from_train;       /* 1 when the test images came from splitting the train dataset */
    int segmentation;          /* 1 when the model predicts masks */
    char **class_names;        /* segmentation: names, [0] = background */
    int n_classes;
    char summary[1024];        /* what was tried and chosen, one line */
} lo_train_result;

/* Trains, chooses the threshold, scores the test images. 0 on success; -1 with err (e.g. too few
 * images: the message gives the counts and the minimums of DESIGN.md §4). */
int lo_train_run(const lo_train_request *req, lo_train_result *out, lo_train_error *err);
void lo_train_result_free(lo_train_result *r);

/* ---- inference ---------------------------------------------------------------------------- */

typedef struct lo_model lo_model;

/* Loads a model file; refuses a truncated, altered or foreign file with a clear message. */
lo_model *lo_model_load(const char *path, lo_train_error *err);
void lo_model_free(lo_model *m);
int lo_model_is_segmentation(const lo_model *m);

typedef struct {
    int is_anomalous;
    double confidence;
    float score;
    /* segmentation models only: */
    int n_anomalies;                 /* entries in anomalies[], background first */
    struct {
        char name[64];
        char hex_color[8];           /* "#rrggbb" */
        double total_percentage_area;
    } anomalies[32];
    uint8_t *mask_png;               /* AnomalyMask PNG at the input's size (malloc'd), or NULL */
    size_t mask_png_len;
} lo_detect_result;

/* Scores one encoded image (PNG or JPEG bytes). `what` names the input in errors. */
int lo_model_detect(lo_model *m, const uint8_t *data, size_t len, const char *what,
                    lo_detect_result *out, lo_train_error *err);
void lo_detect_result_free(lo_detect_result *r);

/* ---- memory guard (train_memory.c) --------------------------------------------------------- */

/* A rough upper bound of the memory one training run needs, from the dataset snapshots alone:
 * the in-memory image banks (images x channels x h x w bytes at both candidate sizes, long side
 * 224 and 320 as lo_train_input_size caps them, masks likewise, the test bank at the larger)
 * plus the network arenas at the larger size (lo_net_arena_bytes of the default architecture,
 * batch 16: the training net and the scoring net) plus a fixed base for the process (code,
 * BLAS and OpenMP buffers). An upper bound: every image is counted in every bank. */
typedef struct {
    int64_t n_images;       /* train + test entries */
    int channels;
    int with_masks;
    uint64_t bank_bytes, net_bytes, base_bytes, total_bytes;
} lo_train_memory;
int lo_train_memory_estimate(const char *train_dir, const char *test_dir, lo_train_memory *out,
                             lo_train_error *err);
/* Compares the estimate with what the box has: MemAvailable (/proc/meminfo), the cgroup's
 * memory.max minus memory.current when set, and LOOKOUT_MAX_MEMORY (bytes, K/M/G/T suffixes,
 * powers of 1024). 0: fits (msg gets a one-line summary for the log); 1: does not fit (msg gives
 * the estimate and the limit); -1: LOOKOUT_MAX_MEMORY is not a size (msg says so). */
int lo_train_memory_check(const lo_train_memory *m, char *msg, size_t cap);
/* "512M", "2G", "1048576", "1.5G" -> bytes; -1 when not a size. */
int lo_train_parse_bytes(const char *text, uint64_t *out);

#endif
