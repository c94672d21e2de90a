/* train_batch.h — building a training step's batch on all cores. Internal to engine/train.
 *
 * What one slot gets is the recipe's (train_member.c, train_run.c): half normal images,
 * real_share real defects (with their masks), the rest synthetic defects on an augmented normal
 * (50 % when the fold has no anomalies); augmentation; normalization into the net's input slot;
 * the image target and, for nets with a map, the per-cell defect target and its weight. Slots
 * are independent: slot s of step `step` draws from its own random stream seeded by (seed,
 * step, s), so the batch is the same whatever the thread count, and the slots are built in
 * parallel (OpenMP over slots, each thread with its own scratch images made once here).
 *
 * Measured: see bench/train_loader (per-part costs with lo_batch_profile). */
#ifndef LOOKOUT_TRAIN_BATCH_H
#define LOOKOUT_TRAIN_BATCH_H

#include "net/net.h" /* first: train_internal.h names lo_net */
#include "train_data.h"

typedef struct {
    const lo_bank *bank;
    const size_t *normals, *anoms; /* bank items of the fold's normal and anomalous images */
    size_t nn, na;                 /* nn >= 1 */
    double real_share;             /* slots given to real defects when na > 0 (0 = 0.3); the rest of the
                                    * defect half is synthetic */
    const lds_augment_config *aug;
    const float *mean, *std;       /* input normalization, per channel */
    int mh, mw;                    /* the net's map size; 0 when it has no map */
    float pos_pixel_weight;        /* weight of a defect cell in the pixel loss (others 1) */
    int threads;                   /* 0 = all */
    int min_defect_px;             /* a synthetic defect's least visible pixels (below 4: 4) */
    int n_classes;                 /* defect classes of the net's class head; 0 = none (one class) */
} lo_batch_spec;

typedef struct lo_batch_builder lo_batch_builder;

/* NULL when out of memory. The spec's pointers must outlive the builder. */
lo_batch_builder *lo_batch_builder_create(const lo_batch_spec *spec);
void lo_batch_builder_free(lo_batch_builder *bb);

/* Fills slots [0, B) of net's input (B = the net's batch) for step `step`, and the targets:
 * t_img[B] (1 = defect), and when spec->mh > 0, t_px[B][mh][mw] (1 = a defect pixel in the cell)
 * and w_px[B][mh][mw] (0 where the slot's mask is unknown: a real anomaly without a mask); when
 * spec->n_classes > 0 and t_cls is non-NULL, t_cls[B][mh][mw]: the head index
 * (class - 1) of the majority defect class in the cell for a real anomaly with a mask, 255
 * (ignored) everywhere else (normal slots, synthetic defects, unknown masks). It draws nothing
 * from the slot's random stream: the images and the other targets do not depend on t_cls. */
void lo_batch_build(lo_batch_builder *bb, lo_net *net, uint64_t seed, int step, float *t_img, float *t_px,
                    float *w_px, uint8_t *t_cls);

/* Where a batch's building time goes: thread CPU seconds per part, summed over the slots built
 * by lo_batch_profile (bench/train_loader prints them). */
typedef struct {
    double bank;                   /* uint8 bank -> float (base image, and the donor of synthetic slots) */
    double augment;                /* lds_augment */
    double defect[LDS_SYNTH_KINDS];/* lo_train_make_defect's tries, by kind (copy, paste, visible-change mask) */
    int defect_n[LDS_SYNTH_KINDS]; /* tries of each kind */
    double normalize;              /* into the net's input */
    double targets;                /* pool_any and the pixel weights */
    double total;                  /* the whole slot */
    int slots;
} lo_batch_parts;

/* lo_batch_build for steps [first, first + steps), serially on the calling thread with timers
 * around each part; adds to *parts. The batches are the same as lo_batch_build's. */
void lo_batch_profile(lo_batch_builder *bb, lo_net *net, uint64_t seed, int first, int steps, float *t_img,
                      float *t_px, float *w_px, lo_batch_parts *parts);

/* lo_train_make_defect, adding each try's thread CPU time to kind_s[kind] and counting it in
 * kind_n[kind] (both may be NULL: untimed). */
int lo_train_make_defect_timed(float *img, const float *clean, const float *donor, uint8_t *mask, int c, int h,
                               int w, int min_px, uint64_t *rng, double *kind_s, int *kind_n);

#endif
