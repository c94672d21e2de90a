/* train_data.h — training images in memory and the data-driven parts of the recipe.
 * Internal to engine/train. */
#ifndef LOOKOUT_TRAIN_DATA_H
#define LOOKOUT_TRAIN_DATA_H

#include "train_internal.h"
#include "dataset.h"

typedef struct {
    size_t n;
    int c, h, w;
    uint8_t *img;       /* [n][c][h][w], 0..255 */
    uint8_t *mask;      /* [n][h][w] class index (0 background, lds_set.classes), or NULL when no
                         * image has a mask; with one defect class it is 0/1 */
    uint8_t *has_mask;  /* [n] */
} lo_bank;

/* Input size for a target long side: the median aspect of the images (square when nearly
 * square), sides multiples of 32, never above the median image's long side (capped = 1). */
void lo_train_input_size(const lds_set *set, const size_t *items, size_t n, int long_side, int *h, int *w,
                         int *capped);
/* Whether images keep their aspect inside the input (lds_load_image_fit) rather than being
 * squashed to it: when the training images' shapes differ (90th/10th percentile of width/height
 * above 1.25), squashing stretches each one differently, a small round defect becomes a streak
 * in one and a dot in the next, and the stretch itself tells the shapes apart. *spread gets that
 * ratio. Images of one shape are squashed as before (the same stretch for all). */
int lo_train_fit_mode(const lds_set *set, const size_t *items, size_t n, double *spread);
/* An entry's mask at w x h in dst, placed as its image is (fit: inside lds_fit_box's rectangle
 * of the image's recorded size, mirrored around it, so a defect's mirrored copy is marked where
 * the network sees it). -1 with le on failure. */
int lo_load_mask_placed(const lds_set *set, const lds_entry *e, int fit, int w, int h, uint8_t *dst, lds_error *le);
/* fit: lds_load_image_fit and masks placed the same way (lo_load_mask_placed) */
int lo_bank_load(lo_bank *b, const lds_set *set, const size_t *items, size_t n, int c, int h, int w,
                 int with_masks, int fit, lo_train_error *err);
void lo_bank_free(lo_bank *b);
/* A copy of src at h x w (no larger): each pixel the mean of its footprint, each mask pixel the
 * highest class in it. For the first part of a member's schedule (train_member.c). */
int lo_bank_shrink(const lo_bank *src, int h, int w, lo_bank *dst, lo_train_error *err);
/* A side of the input for that first part: 0.71 of side (half the pixels) rounded to the nearest
 * multiple of 32, the networks' stride; side itself when that is below 64. */
int lo_train_small_side(int side);
void lo_bank_image(const lo_bank *b, size_t i, float *dst); /* to floats in [0,1] */
void lo_bank_stats(const lo_bank *b, float *mean, float *std);
/* How many of the bank's normal images (labels[i] == 0) show a part on a plain background
 * (dataset/'s lds_synth_plain_background: their synthetic defects include chips); *n_normal gets
 * the normals counted. */
size_t lo_bank_count_plain(const lo_bank *b, const int *labels, size_t *n_normal);

/* The recipe's augmentation (dataset/'s lds_augment with the switches the recipe uses). */
void lo_train_augment_config(lds_augment_config *aug);

/* Switches a flip off when the normal images have that orientation: a flip is kept unless the
 * mirror images of the normals lie LO_ORIENTED_RATIO times farther (median distance to their
 * nearest normal, on 32x32 gray thumbnails) from the normals than the normals lie from each
 * other. Measured at the training input size: aliens lying head-left 6.2 (left-right) and 2.8
 * (up-down); cookies 1.4 / 1.6, magnetic tile 1.7 / 1.7 (1.8 / 1.7 with its aspect kept), solar
 * cells 1.2 / 1.3. ratio_* are NaN with fewer than 4 normals. */
#define LO_ORIENTED_RATIO 2.5
void lo_train_orientation(const lo_bank *b, const int *labels, lds_augment_config *aug, double *ratio_h,
                          double *ratio_v);

/* Used when dataset/'s lds_split leaves a stratum out of test (see lo_train_run). */
void lo_train_split_fallback(const lds_set *set, double fraction, uint64_t seed, uint8_t *is_test);
/* Stratified k-fold assignment of items with labels 0/1. */
void lo_train_folds(const int *labels, size_t n, int k, uint64_t seed, int *fold);

#endif
