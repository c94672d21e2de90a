/* train_internal.h — what the files of engine/train share: the in-memory model, the model file,
 * the random generator, augmentation and synthetic defects. Not used outside engine/train
 * (tests and bench include it to exercise the model file and the recipe directly).
 */
#ifndef LOOKOUT_TRAIN_INTERNAL_H
#define LOOKOUT_TRAIN_INTERNAL_H

#include "train.h"

#include <stddef.h>
#include <stdint.h>

#define LO_MODEL_MAGIC "LOOKOUTM"   /* 8 bytes, no terminator in the file */
#define LO_MODEL_FORMAT_VERSION 1u
#define LO_MODEL_MAX_MEMBERS 12
#define LO_MODEL_MAX_CLASSES 32

/* A trained model: an ensemble of members (the k fold models) sharing one architecture. Scores
 * are the mean of the members' logits; the verdict compares sigmoid(score) with `threshold`. */
typedef struct {
    char *arch_json;        /* architecture as trained (NUL-terminated) */
    char arch_name[64];
    int channels, height, width;  /* network input */
    float mean[3], std[3];  /* input normalization: (x - mean) / std per channel, x in [0,1] */
    float threshold;        /* on the anomaly probability sigmoid(mean logit), in (0,1) */
    float calib_slope;      /* P(anomaly) = sigmoid(calib_slope * (logit(p) - logit(threshold))) */
    float pixel_threshold;  /* heatmap probability above which a pixel is a defect */
    int has_map;            /* the network outputs an anomaly map (output 0) besides the score */
    int segmentation;       /* trained with masks: detect returns Anomalies and AnomalyMask */
    int n_classes;          /* segmentation: including background at [0] */
    char class_names[LO_MODEL_MAX_CLASSES][64];
    uint8_t class_rgb[LO_MODEL_MAX_CLASSES][3];
    int n_members;
    int flip_average;       /* score = mean over the image and its mirror image (test-time flip) */
    int flip_average_v;     /* and over the image turned upside down (with flip_average: 4 views) */
    int fit;                /* images keep their aspect inside the input, mirrored around it (lds_load_image_fit) */
    uint64_t n_params, n_state;  /* per member */
    float *params;          /* [n_members][n_params] */
    float *state;           /* [n_members][n_state] */
    char recipe[512];       /* what was chosen, for describe/log */
} lo_model_data;

/* Writes the model file atomically (temp, fsync, rename). */
int lo_model_data_write(const char *path, const lo_model_data *md, lo_train_error *err);
/* Reads and checks a model file; `what` names it in errors. Never reads past len. */
int lo_model_data_parse(const uint8_t *buf, size_t len, const char *what, lo_model_data *md,
                        lo_train_error *err);
int lo_model_data_read(const char *path, lo_model_data *md, lo_train_error *err);
void lo_model_data_free(lo_model_data *md);

/* The architecture JSON compiled in from models/NAME.json, or NULL. */
const char *lo_train_arch_json(const char *name);

/* ---- random numbers (seeded, reproducible) ------------------------------------------------ */
static inline uint64_t lo_rng_next(uint64_t *s) {
    /* splitmix64: one state word, good enough for sampling and augmentation */
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static inline double lo_rng_uniform(uint64_t *s) { return (double)(lo_rng_next(s) >> 11) * 0x1.0p-53; }
static inline int lo_rng_int(uint64_t *s, int n) { return n <= 1 ? 0 : (int)(lo_rng_uniform(s) * n); }

/* ---- synthetic defects (engine/train/train_defects.c) ------------------------------------ *
 * Images are planar floats in [0,1], masks 0/1 bytes at the image's size. */
/* Writes into img a copy of clean with one synthetic defect (texture from donor, may be NULL) and
 * its mask (visibly changed pixels only); returns the mask's pixel count, 0 when eight tries gave
 * none with at least min_px (>= 4) visible pixels (img is then clean, mask empty). Deterministic
 * for an rng state. */
int lo_train_make_defect(float *img, const float *clean, const float *donor, uint8_t *mask, int c, int h, int w,
                         int min_px, uint64_t *rng);

/* ---- threshold and calibration (engine/train/train_threshold.c) --------------------------- */
/* Threshold on probabilities maximizing F1 over (p, y), taking the middle of the plateau of
 * near-best thresholds (robust on few images). Returns NaN without positives. */
float lo_threshold_f1_plateau(const float *p, const uint8_t *y, size_t n, double *best_f1);
/* High quantile of normal probabilities (normal-only validation). */
float lo_threshold_normal_quantile(const float *p_normal, size_t n, double q);
/* Upper tail of the normal scores as a fitted distribution: sigmoid(median + k * sd) of their
 * logits, sd estimated robustly (1.4826 MAD), so one odd normal image does not set it. */
float lo_threshold_normal_tail(const float *p_normal, size_t n, double k);
/* shift[f] (logit) moving fold f's median out-of-fold normal logit to the mean of the folds'
 * medians (0 for a fold without scores). The served score is the members' mean, so a member's
 * own offset is not what new normal images get: pooled raw, one member scoring its held-out
 * normals high stretches the normals' tail the normal-only threshold is read from. */
void lo_threshold_fold_shifts(const float *logit, const int *fold, size_t n, int folds, double *shift);
/* Slope a of P(anomaly) = sigmoid(a (logit p - logit t)) by maximum likelihood. */
float lo_calibrate_slope(const float *p, const uint8_t *y, size_t n, float t);
double lo_confidence(float p, float threshold, float slope, int *is_anomalous);

/* ---- per-class segmentation (engine/train/train_classes.c) -------------------------------- *
 * With two or more defect classes in the training masks the architecture gets a class head:
 * a conv layer LO_CLASS_HEAD_NAME reading what the map reads, one logit per defect class
 * (channel c = class c + 1 of lo_model_data.classes), listed as output 2 after map and score. */
#define LO_CLASS_HEAD_NAME "cls"
/* Distinct defect classes (non-zero values) in the masks of items with has_mask[i]; *max_class
 * gets the largest (0 when none). */
int lo_classes_in_masks(const uint8_t *mask, const uint8_t *has_mask, size_t n, size_t plane, int *max_class);
/* arch_json with the class head of k >= 2 classes added (malloc'd); NULL when the architecture
 * has no conv map as its first of two outputs (e.g. a classifier), or names a layer "cls". */
char *lo_arch_with_class_head(const char *arch_json, int k);
/* Class target per map cell from a class-index mask m[h][w]: the majority defect class among the
 * cell's pixels as a head index (class - 1), 255 (ignored) where the cell holds no class 1..k. */
void lo_pool_class(const uint8_t *m, int h, int w, int mh, int mw, int k, uint8_t *dst);
/* Gives each defect pixel (non-zero) of mask[oh][ow] its class 1..k: the argmax of the class
 * logits cls_logit[k][mh][mw] bilinearly sampled at the pixel. Background pixels stay 0. */
void lo_classes_paint(const float *cls_logit, int k, int mh, int mw, int ow, int oh, uint8_t *mask);

#endif
