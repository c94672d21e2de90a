/* train_member.h — training one network and scoring images with it. Internal to engine/train. */
#ifndef LOOKOUT_TRAIN_MEMBER_H
#define LOOKOUT_TRAIN_MEMBER_H

#include "train_data.h"
#include "train_infer.h"

typedef struct {
    const char *arch_json;
    const lo_bank *bank;
    /* Progressive resizing (NULL = off): the first small_fraction of the steps train on this
     * shrunk copy of bank (lo_bank_shrink; sides multiples of 32), at about half the pixels, so
     * a budget-bound member runs more steps; the rest, and everything scored, at bank's size.
     * The parameters carry over: the network is fully convolutional. */
    const lo_bank *bank_small;
    double small_fraction;
    const int *labels;          /* per bank item: 0 normal, 1 anomaly, -1 unlabeled (unused) */
    const uint8_t *in_train;    /* per bank item: 1 = this member trains on it */
    int batch, steps, threads;
    float lr, weight_decay, pos_pixel_weight;
    int min_defect_px;          /* a synthetic defect's least visible pixels (lo_train_make_defect) */
    double real_share;          /* batch slots given to real defects (lo_batch_spec; 0 = 0.3) */
    uint64_t seed;
    double deadline;            /* lo_now_s() value after which training stops; 0 = none */
    const float *mean, *std;
    const lds_augment_config *aug;
    void (*on_step)(void *ctx, int step, int steps, float loss);
    /* after a few steps and every 25: given the measured seconds per step, the planned and the
     * current step count, returns the step count to run (<= planned; the schedule is resized to
     * it by lo_schedule_resize, at any step: shorter when the box slows, longer again when it
     * recovers). NULL = keep steps. */
    int (*replan)(void *ctx, double sec_per_step, int planned, int current);
    /* Early stopping: the held-out score (higher is better) of the net as it is now, called at the
     * checkpoints; NULL = train to the end. The member ends as its best checkpoint (the latest of
     * equals: later ones have had the learning rate annealed) and stops once two checkpoints in
     * a row fall clearly below the best. */
    double (*validate)(void *ctx, lo_net *net);
    void *ctx;
    int *best_step;             /* out (may be NULL): the step of the checkpoint kept */
    /* out (may be NULL): 1 when the network returned is the one validate last saw, so what that
     * call scored still stands and need not be scored again */
    int *last_validated;
} lo_member_job;

double lo_now_s(void);

/* A member's learning rate: linear warm-up over the first steps/20 + 1 steps, then cosine decay
 * from lr to 0.02 lr at the last step. A re-plan resizes it without a jump: the cosine's
 * progress goes on from where it was at that step (p0 at step s0) to 1 at the new last step.
 * Never resized, it is the plain cosine over step / steps. */
typedef struct {
    int steps, warm, s0;
    double p0;
} lo_schedule;
void lo_schedule_init(lo_schedule *s, int steps);
/* at step (the next to run), to end after steps in all; no-op unless steps > step */
void lo_schedule_resize(lo_schedule *s, int step, int steps);
float lo_schedule_lr(const lo_schedule *s, int step, float lr);

/* Trains a fresh network; on success *net holds it (caller frees), *steps_planned the schedule's
 * length (after replan) and the number of steps done is returned (fewer when the deadline cut
 * it); -1 with err on failure. */
int lo_member_train(const lo_member_job *job, lo_net **net, int *steps_planned, lo_train_error *err);

/* Scores bank items ids[0..n) with net in inference mode: logit[n] and, when the net has a map
 * and maps is non-NULL, maps[n][mh][mw] (logits), and when it has a class head
 * (lo_net_class_count) and cls_maps is non-NULL, its logits cls_maps[n][k][mh][mw]. synthetic:
 * score a synthetic-defect version of each image instead (seeded per image, texture from one of
 * donors). */
void lo_member_score(lo_net *net, const lo_model_data *norm, const lo_bank *b, const size_t *ids, size_t n,
                     int synthetic, int min_defect_px, const size_t *donors, size_t n_donors, uint64_t seed,
                     float *logit, float *maps, float *cls_maps);

#endif
