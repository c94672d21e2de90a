/* train_batch.h — building a training step's batch on all cores. Internal to engine/train.
 *
 * What one slot gets is train_member.c's recipe: half normal images, 30 % real defects (with
 * their masks), 20 % synthetic defects on an augmented normal (50 % when the fold has no
 * anomalies); augmentation; normalization into the net's input slot; the image target and, for
 * nets with a map, the per-cell defect target and its weight. Slots are independent: slot s of
 * step `step` draws from its own random stream seeded by (seed, step, s), so the batch is the
 * same whatever the thread count, and the slots are built in parallel (OpenMP over slots, each
 * thread with its own scratch images made once here).
 *
 * Measured (bench/train_loader, cookies 160x224, batch 16): building one batch serially costs
 * 77-94 ms of CPU, as much as the forward/backward/update's 105 ms; on 2 threads it takes about
 * half the wall time. */
#ifndef LOOKOUT_TRAIN_BATCH_H
#define LOOKOUT_TRAIN_BATCH_H

#include "net/net.h" /* first: train_internal.h names lo_net */
#include "train_data.h"

typedef struct {
    const lo_bank *bank;
    const size_t *normals, *anoms; /* bank items of the fold's normal and anomalous images */
    size_t nn, na;                 /* nn >= 1 */
    const lds_augment_config *aug;
    const float *mean, *std;       /* input normalization, per channel */
    int mh, mw;                    /* the net's map size; 0 when it has no map */
    float pos_pixel_weight;        /* weight of a defect cell in the pixel loss (others 1) */
    int threads;                   /* 0 = all */
} lo_batch_spec;

typedef struct lo_batch_builder lo_batch_builder;

/* NULL when out of memory. The spec's pointers must outlive the builder. */
lo_batch_builder *lo_batch_builder_create(const lo_batch_spec *spec);
void lo_batch_builder_free(lo_batch_builder *bb);

/* Fills slots [0, B) of net's input (B = the net's batch) for step `step`, and the targets:
 * t_img[B] (1 = defect), and when spec->mh > 0, t_px[B][mh][mw] (1 = a defect pixel in the cell)
 * and w_px[B][mh][mw] (0 where the slot's mask is unknown: a real anomaly without a mask). */
void lo_batch_build(lo_batch_builder *bb, lo_net *net, uint64_t seed, int step, float *t_img, float *t_px,
                    float *w_px);

#endif
