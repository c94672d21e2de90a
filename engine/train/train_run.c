/* train_run.c — lo_train_run: from dataset snapshots to a model file, a threshold and scored
 * test images. The default recipe (one for every dataset; only its sizes follow the data):
 *
 *  1. Input: the images' median aspect (square when nearly square), long side 224 and 320 as two
 *     candidates (the second only when the images are that large); grayscale stays 1 channel.
 *     Images of mixed shapes (lo_train_fit_mode) keep their aspect inside the input, mirrored
 *     around it, instead of each being stretched its own way.
 *     Flips (left-right, up-down) augment the training images unless the normal images show that
 *     orientation (lo_train_orientation: a mirrored alien lying head-left is not a normal alien);
 *     every score is the mean over the views training flips to (the image, its mirror image, and
 *     with up-down flips both of them upside down).
 *  2. k = 3 stratified folds of the training images. Fold 0 is trained at both resolutions and
 *     the candidate with the better held-out ranking (ROC AUC, then AP; real defects when the
 *     fold has them, synthetic ones otherwise) is kept; folds 1..2 train that candidate only.
 *     Each member trains on its two folds with batches of half normal images, half defects (real
 *     ones and synthetic ones from dataset/'s lds_synth_defect, on dataset/'s augmentation; a
 *     part on a plain background also gets chips, missing pieces at its outline), and
 *     stops early on its held-out fold: checkpoints at 50/70/85/100 % of its schedule, the best
 *     one kept, training ended once two in a row fall clearly below it.
 *     When the budget leaves room and a detect stays cheap (LO_MAX_DETECT_PX), the folds are drawn
 *     again and trained again: up to LO_MAX_REPEATS rounds of k members.
 *  3. Every training image then has an out-of-fold score: the mean over the members that did not
 *     see it (one per round). The threshold comes from those scores: the middle of the max-F1
 *     plateau when the training set holds anomalies; with normal-only training, the 95th
 *     percentile of a distribution fitted to the normal scores (logit space, median and MAD),
 *     each fold's scores first moved to the folds' mean median (the served mean has no one
 *     member's offset). The confidence is a logistic fit on the same scores, centred on the
 *     threshold.
 *  4. The model is the ensemble of all the fold members (mean logit): no retraining on all data, so
 *     the scores the threshold was chosen on come from models like the ones that serve.
 * Steps per member follow the training set's size (about 120 passes, 250..1500 steps) so a run is
 * reproducible for a seed and thread count when it fits the wall-clock budget. When the first
 * member shows it does not, the second candidate is skipped and the members are shortened to fit
 * (logged: that run then depends on timing); a hard deadline stops anything that still overruns.
 */
#define _GNU_SOURCE
#include "train_member.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define LO_DEFAULT_SEED 20201120u
/* create-model must finish within 5 minutes on 2 cores: training, test scoring and evaluation
 * files (the worker's start and the evaluation take a few seconds) */
#define LO_DEFAULT_BUDGET_S 285.0
#define LO_FOLDS 3
/* a further round is trained when this many times its measured time is left: 1.5 (session 8)
 * gave aliens one round on a box 1.6x slower (90 s a round, 130 s left), and one round scores
 * test F1 0.909 there against 0.941 with two (session 10) */
#define LO_ROUND_MARGIN 1.2
#define LO_BATCH 16
#define LO_TEST_FRACTION 0.2
/* Progressive resizing: the first 45 % of a member's steps train on the images shrunk to about
 * half the pixels (lo_train_small_side), the rest at the full input. */
#define LO_SMALL_FRACTION 0.45
/* Repeated k-fold: when the budget leaves room after the k members, the folds are drawn again
 * and k more members trained, up to LO_MAX_REPEATS rounds. A detect then costs members x views
 * forward passes over the input's pixels; LO_MAX_DETECT_PX bounds that product at what the
 * cookies model costs (3 members x 4 views x 160x224), the model the 30 ms detect target was
 * measured on. So a part scored on one view at 224x160 may get 4 rounds, one at 320x224 2, and
 * cookies, tiles and solar cells keep one. */
#define LO_MAX_REPEATS 4
#define LO_MAX_MEMBERS (LO_FOLDS * LO_MAX_REPEATS)
#define LO_MAX_DETECT_PX (3.0 * 4 * 160 * 224)

static const int lo_candidate_sides[2] = {224, 320};

static int fail(lo_train_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(lo_train_error *err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return -1;
}

static void logf_(FILE *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(FILE *log, const char *fmt, ...) {
    if (!log) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(log, fmt, ap);
    va_end(ap);
    fputc('\n', log);
    fflush(log);
}

static float sigmoidf_(float z) { return 1.0f / (1.0f + expf(-z)); }

/* ROC AUC with ties counted half (Mann-Whitney); -1 without both classes. */
static double auc_of(const float *s, const uint8_t *y, size_t n) {
    double pairs = 0, wins = 0;
    for (size_t i = 0; i < n; i++) {
        if (!y[i]) continue;
        for (size_t j = 0; j < n; j++) {
            if (y[j]) continue;
            pairs++;
            wins += s[i] > s[j] ? 1.0 : s[i] == s[j] ? 0.5 : 0.0;
        }
    }
    return pairs > 0 ? wins / pairs : -1;
}

/* Average precision (step-wise, sklearn's definition with ties grouped). */
static double ap_of(const float *s, const uint8_t *y, size_t n) {
    size_t npos = 0;
    for (size_t i = 0; i < n; i++) npos += y[i] != 0;
    if (!npos) return -1;
    double ap = 0, prev_recall = 0;
    /* O(n^2): fine for the few hundred held-out images of a fold */
    float *th = malloc(n * sizeof *th);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        int dup = 0;
        for (size_t j = 0; j < m; j++)
            if (th[j] == s[i]) dup = 1;
        if (!dup) th[m++] = s[i];
    }
    /* descending thresholds */
    for (size_t i = 0; i < m; i++)
        for (size_t j = i + 1; j < m; j++)
            if (th[j] > th[i]) {
                float t = th[i];
                th[i] = th[j];
                th[j] = t;
            }
    for (size_t k = 0; k < m; k++) {
        size_t tp = 0, pp = 0;
        for (size_t i = 0; i < n; i++)
            if (s[i] >= th[k]) pp++, tp += y[i] != 0;
        double r = (double)tp / (double)npos, p = pp ? (double)tp / (double)pp : 1;
        ap += (r - prev_recall) * p;
        prev_recall = r;
    }
    free(th);
    return ap;
}

typedef struct {
    const lo_train_request *req;
    double t0;
    long done, total;      /* steps over the whole run, for the fraction and the ETA */
    long base;             /* steps done before the current member */
    char stage[160];
    double last_val;
    double last_report;
    double deadline;       /* training must end by then */
    double member_start;
    int members_left;      /* including the one training now */
    int shortened;         /* some member's final plan was shortened to fit */
    int member_shortened;  /* the latest plan of the member training now is */
    struct fold_scoring *val;  /* the member training now: what early stopping scores */
    double epoch_steps;    /* steps per pass over a member's training images */
    double last_frac;      /* the fraction reported last: it never goes back when a round is added */
} progress_ctx;

/* Each member gets an even share of the time left; a machine slower than the plan (or a busy
 * one) shortens the member to fit, and says so, since the run then depends on timing. */
static int replan(void *vctx, double sec_per_step, int planned, int current) {
    progress_ctx *p = vctx;
    double share = 0.95 * (p->deadline - p->member_start) / (p->members_left > 0 ? p->members_left : 1);
    int fit = sec_per_step > 0 ? (int)floor(share / sec_per_step) : planned;
    if (fit > planned) fit = planned;
    if (fit < 20) fit = planned < 20 ? planned : 20;
    p->member_shortened = fit < planned;
    if (fit == current) return current;
    p->total += fit - current;
    if (abs(fit - current) * 20 > current)
        logf_(p->req->log, "time budget: %s re-planned to %d of %d steps (%.3f s per step; this run is not "
                           "reproducible)", p->stage, fit, planned, sec_per_step);
    return fit;
}

static void on_step(void *vctx, int step, int steps, float loss) {
    progress_ctx *p = vctx;
    p->done = p->base + step;
    double now = lo_now_s();
    if (step != steps && now - p->last_report < 1.0) return;
    p->last_report = now;
    double el = now - p->t0;
    double eta = p->done > 0 ? el / (double)p->done * (double)(p->total - p->done) : 0;
    char msg[320];
    double epoch = p->epoch_steps > 0 ? step / p->epoch_steps : 0;
    if (p->last_val >= 0)
        snprintf(msg, sizeof msg, "%s: epoch %.1f, step %d/%d, loss %.4f, last validation AUC %.3f, ETA %.0f s",
                 p->stage, epoch, step, steps, loss, p->last_val, eta);
    else
        snprintf(msg, sizeof msg, "%s: epoch %.1f, step %d/%d, loss %.4f, ETA %.0f s", p->stage, epoch, step, steps,
                 loss, eta);
    double frac = p->total > 0 ? (double)p->done / (double)p->total : 0;
    if (frac < p->last_frac) frac = p->last_frac;
    p->last_frac = frac;
    if (p->req->progress) p->req->progress(p->req->progress_ctx, frac < 0 ? 0 : frac > 0.99 ? 0.99 : frac, msg);
    if (step == steps || step % 50 == 0) logf_(p->req->log, "%s", msg);
}

typedef struct {
    int h, w;
    lo_bank bank;
    lo_bank bank_small;  /* bank shrunk for the first part of each member (progressive resizing) */
    int steps;
    float *oof;          /* out-of-fold logits per train item (filled fold by fold, each round) */
    float *oof_synth;    /* per train item: logit of its synthetic-defect version (normals) */
    float *oof_sum, *synth_sum;  /* both summed over the rounds whose member held the item out */
    uint8_t *oof_n;      /* how many valid members held the item out */
    double sec_member;   /* wall time of this candidate's fold-0 member */
    float *params, *state;  /* [LO_MAX_MEMBERS][...], member r * LO_FOLDS + f */
    size_t n_params, n_state;
    int mh, mw, has_map;
    int n_cls;           /* defect classes of the class head; 0 = none */
    int cut;             /* a member stopped at the deadline */
    uint8_t valid[LO_MAX_MEMBERS];  /* the member trained at least half its schedule */
    int min_defect_px;   /* a synthetic defect's least visible pixels (lo_train_make_defect) */
    double real_share;   /* batch slots given to real defects (lo_batch_spec) */
    int steps_run[LO_MAX_MEMBERS];
} candidate;

static void candidate_free(candidate *c) {
    lo_bank_free(&c->bank);
    lo_bank_free(&c->bank_small);
    free(c->oof);
    free(c->oof_synth);
    free(c->oof_sum);
    free(c->synth_sum);
    free(c->oof_n);
    free(c->params);
    free(c->state);
    memset(c, 0, sizeof *c);
}

/* Seconds to score n_test images with a round's members over every view, from the measured
 * seconds per training step per input pixel: a forward costs about a third of a training step's
 * per-image work; half, to be safe. */
static double round_scoring_s(size_t n_test, int views, double sec_per_px_step, double px) {
    return (double)n_test * LO_FOLDS * views * sec_per_px_step * px / LO_BATCH * 0.5;
}

/* Standard error of a ROC AUC measured on n_pos positives and n_neg negatives (Hanley & McNeil,
 * 1982). */
static double auc_se(double a, size_t n_pos, size_t n_neg) {
    if (n_pos == 0 || n_neg == 0) return 0;
    double q1 = a / (2 - a), q2 = 2 * a * a / (1 + a);
    double v = (a * (1 - a) + ((double)n_pos - 1) * (q1 - a * a) + ((double)n_neg - 1) * (q2 - a * a)) /
               ((double)n_pos * (double)n_neg);
    return v > 0 ? sqrt(v) : 0;
}

/* Held-out ranking quality of one fold: real defects when the fold holds them, else synthetic.
 * *n_pos and *n_neg (may be NULL) get the counts it was measured on. */
static void fold_quality(const candidate *c, const int *labels, const int *fold, size_t n, int f,
                         double *auc, double *ap, size_t *n_pos, size_t *n_neg) {
    float *s = calloc(2 * n + 1, sizeof *s);
    uint8_t *y = calloc(2 * n + 1, 1);
    size_t m = 0, pos = 0;
    for (size_t i = 0; i < n; i++)
        if (fold[i] == f && labels[i] >= 0) s[m] = c->oof[i], y[m] = (uint8_t)labels[i], pos += labels[i] == 1, m++;
    size_t m_real = m;
    if (pos == 0)
        for (size_t i = 0; i < n; i++)
            if (fold[i] == f && labels[i] == 0) s[m] = c->oof_synth[i], y[m] = 1, m++;
    *auc = auc_of(s, y, m);
    *ap = ap_of(s, y, m);
    if (pos == 0) pos = m - m_real; /* the synthetic versions of the fold's normals */
    if (n_pos) *n_pos = pos;
    if (n_neg) *n_neg = m - pos;
    free(s);
    free(y);
}

/* What scoring a member's held-out fold needs: its real images, and synthetic defects on its
 * normal images (texture from the fold's training normals), the same every time it is called. */
struct fold_scoring {
    candidate *c;
    const int *labels, *fold;
    size_t n;
    int f;
    const size_t *held, *held_normal, *donors;
    size_t nh, nhn, nd;
    lo_model_data norm;
    uint64_t seed;
    float *tmp;
};

static void score_fold(struct fold_scoring *v, lo_net *net) {
    lo_member_score(net, &v->norm, &v->c->bank, v->held, v->nh, 0, 0, NULL, 0, v->seed, v->tmp, NULL, NULL);
    for (size_t i = 0; i < v->nh; i++) v->c->oof[v->held[i]] = v->tmp[i];
    lo_member_score(net, &v->norm, &v->c->bank, v->held_normal, v->nhn, 1, v->c->min_defect_px, v->donors, v->nd,
                    v->seed ^ 0xabcdefu, v->tmp, NULL, NULL);
    for (size_t i = 0; i < v->nhn; i++) v->c->oof_synth[v->held_normal[i]] = v->tmp[i];
}

/* early stopping's score: held-out ROC AUC, AP breaking ties */
static double validate_fold(void *vctx, lo_net *net) {
    progress_ctx *p = vctx;
    struct fold_scoring *v = p->val;
    score_fold(v, net);
    double auc, ap;
    fold_quality(v->c, v->labels, v->fold, v->n, v->f, &auc, &ap, NULL, NULL);
    if (auc < 0) return NAN;
    logf_(p->req->log, "%s: step %ld, held-out ROC AUC %.4f, AP %.4f", p->stage, p->done - p->base, auc, ap);
    p->last_val = auc;
    return auc + 0.01 * (ap > 0 ? ap : 0);
}

static int train_fold(candidate *c, const char *arch_json, const int *labels, const int *fold, size_t n, int f,
                      int member, const lo_train_request *req, uint64_t seed, double deadline, const float *mean,
                      const float *std, const lds_augment_config *aug, progress_ctx *pc, lo_train_error *err) {
    uint8_t *in_train = malloc(n + 1);
    size_t *held = malloc((n + 1) * sizeof *held), *held_normal = malloc((n + 1) * sizeof *held_normal);
    size_t *donors = malloc((n + 1) * sizeof *donors);
    size_t nh = 0, nhn = 0, nd = 0;
    for (size_t i = 0; i < n; i++) {
        in_train[i] = fold[i] != f;
        if (fold[i] == f) {
            held[nh++] = i;
            if (labels[i] == 0) held_normal[nhn++] = i;
        } else if (labels[i] == 0)
            donors[nd++] = i;
    }
    struct fold_scoring val = {.c = c, .labels = labels, .fold = fold, .n = n, .f = f, .held = held,
                               .held_normal = held_normal, .donors = donors, .nh = nh, .nhn = nhn, .nd = nd,
                               .seed = seed, .tmp = malloc((nh + 1) * sizeof(float))};
    memcpy(val.norm.mean, mean, sizeof val.norm.mean);
    memcpy(val.norm.std, std, sizeof val.norm.std);
    /* held-out images are scored as the model will score */
    val.norm.flip_average = aug->flip_h;
    val.norm.flip_average_v = aug->flip_v;
    pc->val = &val;
    int best_step = 0, last_validated = 0;
    lo_member_job job = {.arch_json = arch_json, .bank = &c->bank, .bank_small = &c->bank_small,
                         .small_fraction = LO_SMALL_FRACTION, .labels = labels, .in_train = in_train,
                         .batch = LO_BATCH, .steps = c->steps, .threads = req->threads, .lr = 3e-3f,
                         .weight_decay = 1e-4f, .pos_pixel_weight = 3.0f, .min_defect_px = c->min_defect_px,
                         .real_share = c->real_share,
                         .seed = seed + 1000003u * (uint64_t)(member + 1) + (uint64_t)c->h * 7919u + (uint64_t)c->w,
                         .deadline = deadline, .mean = mean, .std = std, .aug = aug, .on_step = on_step,
                         .replan = replan, .validate = validate_fold, .ctx = pc, .best_step = &best_step,
                         .last_validated = &last_validated};
    lo_net *net = NULL;
    int planned = c->steps;
    pc->member_start = lo_now_s();
    pc->member_shortened = 0;
    pc->deadline = deadline;
    int done = lo_member_train(&job, &net, &planned, err);
    pc->val = NULL;
    if (done < 0) {
        free(in_train), free(held), free(held_normal), free(donors), free(val.tmp);
        return -1;
    }
    if (done < planned || best_step != done)
        logf_(req->log, "%s: early stopping kept step %d of %d run (%d planned)", pc->stage, best_step, done, planned);
    c->steps_run[member] = done;
    c->valid[member] = done >= planned / 2 && done >= 5;
    if (done < planned) {
        c->cut = 1;
        logf_(req->log, "time budget: %s stopped at step %d of %d (this run is not reproducible)%s", pc->stage,
              done, planned, c->valid[member] ? "" : "; this member is left out of the ensemble");
    }
    /* shortened by its last plan (a pessimistic first estimate taken back does not count) */
    if (pc->member_shortened) pc->shortened = 1;
    if (pc->shortened) c->cut = 1;
    pc->total -= planned - done;
    pc->base += done;
    pc->done = pc->base;
    size_t np = lo_net_param_count(net), ns = lo_net_state_count(net);
    if (!c->params) {
        c->n_params = np;
        c->n_state = ns;
        c->params = calloc(LO_MAX_MEMBERS * np + 1, sizeof(float));
        c->state = calloc(LO_MAX_MEMBERS * ns + 1, sizeof(float));
        c->has_map = lo_net_output_count(net) >= 2; /* map, score (and a class head) */
        c->n_cls = c->has_map ? lo_net_class_count(net) : 0;
        int d[4] = {0, 0, 0, 0};
        if (c->has_map) lo_net_output(net, 0, d);
        c->mh = d[2];
        c->mw = d[3];
    }
    memcpy(c->params + (size_t)member * np, lo_net_params(net), np * sizeof(float));
    if (ns) memcpy(c->state + (size_t)member * ns, lo_net_state(net), ns * sizeof(float));
    /* the held-out scores: the last checkpoint's when the member ended as it (a budget-bound
     * member does; scoring magnetic_tile's held-out fold takes 1.6 s), else scored again */
    if (!last_validated) score_fold(&val, net);
    free(val.tmp);
    lo_net_free(net);
    free(in_train), free(held), free(held_normal), free(donors);
    double auc, ap;
    fold_quality(c, labels, fold, n, f, &auc, &ap, NULL, NULL);
    pc->last_val = auc;
    logf_(req->log, "%s: held-out ROC AUC %.4f, AP %.4f", pc->stage, auc, ap);
    if (c->valid[member])
        for (size_t i = 0; i < n; i++)
            if (fold[i] == f) c->oof_sum[i] += c->oof[i], c->synth_sum[i] += c->oof_synth[i], c->oof_n[i]++;
    return 0;
}

/* an item's out-of-fold logit: the mean over the members that held it out */
static float oof_mean(const candidate *c, size_t i) { return c->oof_sum[i] / (float)c->oof_n[i]; }
static float synth_mean(const candidate *c, size_t i) { return c->synth_sum[i] / (float)c->oof_n[i]; }

static const char *flips_name(const lds_augment_config *aug) {
    return aug->flip_h && aug->flip_v ? "both" : aug->flip_h ? "left-right" : aug->flip_v ? "up-down" : "none";
}

static int count_label(const lds_set *s, const uint8_t *sel, int want, int label) {
    int n = 0;
    for (size_t i = 0; i < s->n; i++)
        if ((!sel || sel[i] == want) && s->entries[i].label == label) n++;
    return n;
}

static int mkdir_p(const char *dir) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
            *p = '/';
        }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* split.json: which image went where, with the score each got from a member that did not train
 * on it (out-of-fold for training images: a high score on a "normal" image is worth a look at
 * its label), and the ensemble's score on each test image. */
static int write_split_json(const char *path, const lds_set *tr, const size_t *train_items, const int *fold,
                            const candidate *c, size_t n_train, const lds_set *te, const size_t *test_items,
                            const float *test_logit, size_t n_test) {
    cJSON *j = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(j, "train");
    for (size_t i = 0; i < n_train; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "source-ref", tr->entries[train_items[i]].source_ref);
        cJSON_AddNumberToObject(o, "fold", fold[i]);
        cJSON_AddNumberToObject(o, "label", tr->entries[train_items[i]].label);
        if (c->oof_n[i]) {
            cJSON_AddNumberToObject(o, "out-of-fold-score", sigmoidf_(oof_mean(c, i)));
            cJSON_AddNumberToObject(o, "out-of-fold-members", c->oof_n[i]);
        }
        /* normal-only training sets its threshold from these too */
        if (c->oof_n[i] && tr->entries[train_items[i]].label == 0)
            cJSON_AddNumberToObject(o, "out-of-fold-synthetic-defect-score", sigmoidf_(synth_mean(c, i)));
        cJSON_AddItemToArray(a, o);
    }
    cJSON *b = cJSON_AddArrayToObject(j, "test");
    for (size_t i = 0; i < n_test; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "source-ref", te->entries[test_items[i]].source_ref);
        cJSON_AddNumberToObject(o, "label", te->entries[test_items[i]].label);
        cJSON_AddNumberToObject(o, "score", sigmoidf_(test_logit[i]));
        cJSON_AddItemToArray(b, o);
    }
    char *s = cJSON_Print(j);
    cJSON_Delete(j);
    FILE *f = fopen(path, "w");
    int rc = f && s && fputs(s, f) >= 0 ? 0 : -1;
    if (f && fclose(f) != 0) rc = -1;
    free(s);
    return rc;
}

int lo_train_run(const lo_train_request *req, lo_train_result *out, lo_train_error *err) {
    memset(out, 0, sizeof *out);
    double t0 = lo_now_s();
    uint64_t seed = req->seed ? req->seed : LO_DEFAULT_SEED;
    double budget = req->time_budget_s > 0 ? req->time_budget_s : LO_DEFAULT_BUDGET_S;
    if (!req->train_dir || !req->model_dir) return fail(err, "training: train_dir and model_dir are required");
    const char *arch_name = req->arch ? req->arch : "compact-fcn";
    const char *arch_json = lo_train_arch_json(arch_name);
    if (!arch_json) return fail(err, "training: unknown architecture \"%s\" (models/%s.json is not built in)", arch_name, arch_name);

    lds_error le;
    lds_set *tr = NULL, *te = NULL;
    if (lds_open(req->train_dir, &tr, &le) != 0) return fail(err, "training dataset: %s", le.message);
    if (req->test_dir && lds_open(req->test_dir, &te, &le) != 0) {
        lds_free(tr);
        return fail(err, "test dataset: %s", le.message);
    }
    int rc = -1;
    uint8_t *is_test = calloc(tr->n + 1, 1);
    size_t *train_items = malloc((tr->n + 1) * sizeof *train_items);
    size_t *test_items = malloc(((te ? te->n : tr->n) + 1) * sizeof *test_items);
    int *labels = NULL, *fold = NULL;
    candidate cand[2];
    memset(cand, 0, sizeof cand);
    lo_bank test_bank = {0};
    lo_net *net = NULL;
    lo_model_data md = {0};
    float *test_logit = NULL, *test_map = NULL, *test_cls = NULL;
    char *arch_cls = NULL; /* arch_json with a class head (train_classes.c), when one is added */
    size_t n_train = 0, n_test = 0;

    /* DESIGN.md §4 minimums */
    int trn = count_label(tr, NULL, 0, 0), tra = count_label(tr, NULL, 0, 1);
    if (!te) {
        if (trn < 20 || tra < 10) {
            fail(err, "training: the dataset has %d normal and %d anomalous labeled images; a single dataset "
                      "needs at least 20 normal and 10 anomalous (or add a separate test dataset)", trn, tra);
            goto done;
        }
        lds_split(tr, LO_TEST_FRACTION, seed, is_test);
        if (count_label(tr, is_test, 1, 0) == 0 || count_label(tr, is_test, 1, 1) == 0 ||
            count_label(tr, is_test, 0, 0) < 10)
            lo_train_split_fallback(tr, LO_TEST_FRACTION, seed, is_test);
    } else {
        int ten = count_label(te, NULL, 0, 0), tea = count_label(te, NULL, 0, 1);
        if (trn < 10 || ten < 10 || tea < 10) {
            fail(err, "training: the training dataset has %d normal images (needs at least 10) and the test "
                      "dataset %d normal and %d anomalous (needs at least 10 of each)", trn, ten, tea);
            goto done;
        }
    }
    for (size_t i = 0; i < tr->n; i++)
        if (!is_test[i] && tr->entries[i].label >= 0) train_items[n_train++] = i;
    const lds_set *ts = te ? te : tr;
    for (size_t i = 0; i < ts->n; i++)
        if (te ? 1 : is_test[i]) test_items[n_test++] = i;

    labels = malloc(n_train * sizeof *labels);
    fold = malloc(n_train * sizeof *fold);
    int n_anom = 0, n_norm = 0, n_masked = 0;
    for (size_t i = 0; i < n_train; i++) {
        const lds_entry *e = &tr->entries[train_items[i]];
        labels[i] = e->label;
        n_anom += e->label == 1;
        n_norm += e->label == 0;
        n_masked += e->label == 1 && e->mask_known && e->mask_path;
    }
    int with_masks = n_masked > 0;
    lo_train_folds(labels, n_train, LO_FOLDS, seed, fold);
    int channels = tr->channels == 1 ? 1 : 3;
    logf_(req->log, "training on %zu images (%d normal, %d anomalous%s), testing on %zu (%s); architecture %s; "
                    "seed %llu, %d threads, budget %.0f s", n_train, n_norm, n_anom,
          with_masks ? ", with masks" : "", n_test, te ? "separate test dataset" : "split from the dataset",
          arch_name, (unsigned long long)seed, req->threads, budget);
    if (n_anom == 0)
        logf_(req->log, "no anomalous training images: normal-only mode (defects are synthetic)");

    double aspect_spread;
    int fit = lo_train_fit_mode(tr, train_items, n_train, &aspect_spread);
    /* A real defect whose mask is known teaches the map where it is as well as the image that it
     * is one; without masks it teaches the image label alone, and synthetic defects (exact masks)
     * get the larger part of the defect slots: 20 % real, 30 % synthetic, not 30 / 20. aliens (no
     * masks), seeds default / 11 / 12: test ROC AUC 0.987 / 0.977 / 0.954 -> 0.993 / 0.984 /
     * 1.000, F1 0.941 / 0.941 / 0.914 -> 0.971 / 0.941 / 0.941. */
    double real_share = 2 * n_masked >= n_anom ? 0.3 : 0.2;
    /* candidates: two input resolutions */
    int n_cand = 0;
    for (int k = 0; k < 2; k++) {
        int h, w, capped;
        lo_train_input_size(tr, train_items, n_train, lo_candidate_sides[k], &h, &w, &capped);
        if (n_cand > 0 && h == cand[n_cand - 1].h && w == cand[n_cand - 1].w) continue;
        cand[n_cand].h = h;
        cand[n_cand].w = w;
        n_cand++;
    }
    /* steps: ~120 passes over a fold's training images, 250..1500 steps (test ROC AUC on elpv
     * still rose from 600 to 1800 steps; early stopping guards the small sets). On the larger
     * sets the wall-clock budget is what ends a member: the re-plan shortens it to fit. */
    double fold_n = (double)n_train * (LO_FOLDS - 1) / LO_FOLDS;
    int want_steps = (int)lround(120.0 * fold_n / LO_BATCH);
    want_steps = want_steps < 250 ? 250 : want_steps > 1500 ? 1500 : want_steps;
    if (req->max_steps > 0 && want_steps > req->max_steps) want_steps = req->max_steps;
    for (int k = 0; k < n_cand; k++) {
        cand[k].steps = want_steps;
        /* Normal-only training learns defects from synthetic ones alone: each must then cover at
         * least 0.5 % of the image. The smallest (down to 4 visibly changed pixels, often on the
         * background) were too faint to tell from clean images and acted as label noise: aliens
         * trained on normals alone reached held-out ROC AUC 0.58 on real missing limbs with them,
         * 0.82-0.83 without (cookies 0.88 either way). With real anomalies the mix stays as tuned. */
        cand[k].min_defect_px = n_anom > 0 ? 0 : cand[k].h * cand[k].w / 200;
        cand[k].real_share = real_share;
        cand[k].oof = calloc(n_train, sizeof(float));
        cand[k].oof_synth = calloc(n_train, sizeof(float));
        cand[k].oof_sum = calloc(n_train, sizeof(float));
        cand[k].synth_sum = calloc(n_train, sizeof(float));
        cand[k].oof_n = calloc(n_train, 1);
        if (lo_bank_load(&cand[k].bank, tr, train_items, n_train, channels, cand[k].h, cand[k].w, with_masks, fit,
                         err) ||
            lo_bank_shrink(&cand[k].bank, lo_train_small_side(cand[k].h), lo_train_small_side(cand[k].w), &cand[k].bank_small,
                           err))
            goto done;
    }
    /* two or more defect classes in the masks (or one that is not the class map's first, which
     * the binary map alone would paint in the first one's colour): a class head names them */
    int max_class = 0, n_present = with_masks ? lo_classes_in_masks(cand[0].bank.mask, cand[0].bank.has_mask,
                                                                    n_train, (size_t)cand[0].h * cand[0].w,
                                                                    &max_class) : 0;
    if ((n_present >= 2 || max_class >= 2) &&
        (arch_cls = lo_arch_with_class_head(arch_json, tr->n_classes - 1)) != NULL) {
        arch_json = arch_cls;
        logf_(req->log, "the masks hold %d of the %d defect classes: a class head names each defect pixel's class",
              n_present, tr->n_classes - 1);
    }
    if (n_anom > 0)
        logf_(req->log, "batches: half normal images, %.0f %% real anomalies, %.0f %% synthetic defects (%d of %d "
                        "real anomalies have a mask)", 100.0 * real_share, 100.0 * (0.5 - real_share),
              n_masked, n_anom);
    float mean[3] = {0}, std[3] = {1, 1, 1};
    lo_bank_stats(&cand[0].bank, mean, std);
    lds_augment_config aug;
    lo_train_augment_config(&aug);
    double orient_h, orient_v;
    lo_train_orientation(&cand[0].bank, labels, &aug, &orient_h, &orient_v);
    logf_(req->log, "orientation: mirrored normal images lie %.2fx (left-right) and %.2fx (up-down) as far from the "
                    "normals as they lie from each other; flips used: %s", orient_h, orient_v,
          flips_name(&aug));
    size_t n_normals, n_plain = lo_bank_count_plain(&cand[0].bank, labels, &n_normals);
    logf_(req->log, "background: %zu of %zu normal images show a part on a plain background%s", n_plain, n_normals,
          n_plain ? " (their synthetic defects include chips at the part's outline)" : "");
    char cands[64];
    if (n_cand > 1) snprintf(cands, sizeof cands, "%dx%d and %dx%d", cand[0].w, cand[0].h, cand[1].w, cand[1].h);
    else snprintf(cands, sizeof cands, "%dx%d", cand[0].w, cand[0].h);
    logf_(req->log, "plan: %d folds, input %s (%s: the middle 80 %% of the images' width/height ratios span %.2fx), "
                    "%d steps of %d images per member", LO_FOLDS, cands,
          fit ? "each image keeps its aspect, mirrored around it" : "images resized to it", aspect_spread,
          want_steps, LO_BATCH);

    progress_ctx pc = {.req = req, .t0 = t0, .last_val = -1, .epoch_steps = fold_n / LO_BATCH};
    pc.total = (long)want_steps * (LO_FOLDS + n_cand - 1);
    /* the last 4 % of the budget is kept for scoring the test images and writing files (more when
     * the first member shows scoring the test set will take longer). With 8 % the
     * budget-bound runs ended 15-40 s inside their 285 s, time their members could have trained. */
    double deadline = t0 + budget * 0.96;
    double sec_per_px_step = 0; /* measured on the first member: seconds per step per input pixel */
    const int views = (aug.flip_h ? 2 : 1) * (aug.flip_v ? 2 : 1); /* scored per image */

    /* fold 0 for every candidate, keep the best */
    int best = 0, tried = 0;
    double best_auc = -2, best_ap = -2, best_se = 0;
    for (int k = 0; k < n_cand; k++) {
        double px = (double)cand[k].h * cand[k].w;
        if (k > 0) {
            /* the larger candidate is tried only when it and the remaining folds fit the budget */
            double need = sec_per_px_step * px * cand[k].steps * LO_FOLDS;
            if (pc.shortened || lo_now_s() + need > deadline) {
                logf_(req->log, "candidate %dx%d not tried: it would need about %.0f s, %.0f s are left", cand[k].w,
                      cand[k].h, need, deadline - lo_now_s());
                pc.total -= cand[k].steps;
                continue;
            }
        }
        snprintf(pc.stage, sizeof pc.stage, "candidate %dx%d, fold 1/%d", cand[k].w, cand[k].h, LO_FOLDS);
        double t_member = lo_now_s();
        pc.members_left = LO_FOLDS;
        if (train_fold(&cand[k], arch_json, labels, fold, n_train, 0, 0, req, seed, deadline, mean, std, &aug, &pc,
                       err))
            goto done;
        cand[k].sec_member = lo_now_s() - t_member;
        if (k == 0 && cand[k].steps_run[0] > 0) {
            sec_per_px_step = (lo_now_s() - t_member) / (px * cand[k].steps_run[0]);
            /* keep time to score the test images with every member */
            double scoring = round_scoring_s(n_test, views, sec_per_px_step, px);
            double d2 = t0 + budget * 0.985 - scoring;
            if (d2 < deadline) deadline = d2 > lo_now_s() ? d2 : lo_now_s();
        }
        tried++;
        double auc, ap;
        size_t n_pos, n_neg;
        fold_quality(&cand[k], labels, fold, n_train, 0, &auc, &ap, &n_pos, &n_neg);
        /* the larger input must win by more than the smaller one's ROC AUC can tell apart on this
         * fold (its standard error): it costs twice the time at inference, and fewer rounds fit.
         * With a 0.005 margin aliens' fold 1 (14 + 14 images, SE about 0.05) picked 320x224 over
         * 224x160 on 0.9337 against 0.9286, one round fitted instead of two, and test F1 fell
         * from 0.941 to 0.848 (the 320x224 runs on record: 0.889, 0.889, 0.941). */
        double margin = k > 0 ? fmax(0.005, best_se) : 0;
        if (auc > best_auc + margin || (auc >= best_auc - 1e-9 && ap > best_ap + margin)) {
            if (k > 0)
                logf_(req->log, "candidate %dx%d wins on fold 1 by more than %.4f (the standard error of the kept "
                                "one's ROC AUC)", cand[k].w, cand[k].h, margin);
            best = k;
            best_auc = auc;
            best_ap = ap;
            best_se = auc_se(auc, n_pos, n_neg);
        } else if (k > 0) {
            logf_(req->log, "candidate %dx%d kept: %dx%d's fold-1 ROC AUC %.4f does not beat %.4f by more than %.4f "
                            "(its standard error)", cand[best].w, cand[best].h, cand[k].w, cand[k].h, auc, best_auc,
                  margin);
        }
    }
    candidate *c = &cand[best];
    logf_(req->log, "kept candidate %dx%d of %d tried (fold-1 held-out ROC AUC %.4f, AP %.4f)", c->w, c->h, tried,
          best_auc, best_ap);
    for (int k = 0; k < n_cand; k++)
        if (k != best) candidate_free(&cand[k]);
    double t_round = lo_now_s();
    for (int f = 1; f < LO_FOLDS; f++) {
        snprintf(pc.stage, sizeof pc.stage, "%dx%d, fold %d/%d", c->w, c->h, f + 1, LO_FOLDS);
        pc.members_left = LO_FOLDS - f;
        if (train_fold(c, arch_json, labels, fold, n_train, f, f, req, seed, deadline, mean, std, &aug, &pc, err))
            goto done;
    }
    /* more rounds of k members on freshly drawn folds, when each fits the budget with a fifth of
     * its time to spare (its test scoring included; a member the box slows is shortened, and the
     * deadline keeps 4 % of the budget besides) and a detect stays within LO_MAX_DETECT_PX. Each
     * image's out-of-fold score is then the mean of several members that did not see it, as each
     * test score is the mean of the whole ensemble: the threshold is chosen on scores like the
     * ones it is applied to (aliens: single members' held-out normals spread 2.5x wider, in logit
     * SD, than the ensemble's test normals). Normal-only training keeps one round: its threshold re-centres
     * each fold's scores. */
    int rounds = 1;
    int max_rounds = (int)(LO_MAX_DETECT_PX / ((double)LO_FOLDS * views * c->h * c->w));
    if (max_rounds > LO_MAX_REPEATS) max_rounds = LO_MAX_REPEATS;
    if (n_anom > 0 && !c->cut && max_rounds > 1) {
        /* scoring the test images with a round's members, as the deadline already keeps for the first */
        double scoring = round_scoring_s(n_test, views, sec_per_px_step, (double)c->h * c->w);
        double round_s = lo_now_s() - t_round + c->sec_member + scoring;
        int fit_rounds = 1 + (int)floor(fmax(0, deadline - lo_now_s()) / (LO_ROUND_MARGIN * round_s));
        rounds = fit_rounds < max_rounds ? fit_rounds : max_rounds;
        logf_(req->log, "rounds: %d of k = %d members (a round takes about %.0f s, %.0f s are left; at most %d: "
                        "%d view%s per member at %dx%d, a detect's forward passes over at most %.0f input pixels)",
              rounds, LO_FOLDS, round_s, deadline - lo_now_s(), max_rounds, views, views == 1 ? "" : "s", c->w,
              c->h, LO_MAX_DETECT_PX);
        deadline -= (rounds - 1) * scoring;
        pc.total += (long)(rounds - 1) * LO_FOLDS * c->steps;
    }
    int *fold_r = rounds > 1 ? malloc(n_train * sizeof *fold_r) : NULL;
    if (!fold_r) rounds = 1;
    for (int r = 1; r < rounds; r++) {
        lo_train_folds(labels, n_train, LO_FOLDS, seed + 0x9e3779b97f4a7c15ull * (uint64_t)r, fold_r);
        for (int f = 0; f < LO_FOLDS; f++) {
            snprintf(pc.stage, sizeof pc.stage, "%dx%d, round %d/%d, fold %d/%d", c->w, c->h, r + 1, rounds, f + 1,
                     LO_FOLDS);
            pc.members_left = (rounds - r) * LO_FOLDS - f;
            if (train_fold(c, arch_json, labels, fold_r, n_train, f, r * LO_FOLDS + f, req, seed, deadline, mean,
                           std, &aug, &pc, err)) {
                free(fold_r);
                goto done;
            }
        }
    }
    free(fold_r);
    int n_members = rounds * LO_FOLDS;
    int n_valid = 0;
    for (int f = 0; f < n_members; f++) n_valid += c->valid[f];
    if (n_valid == 0) {
        fail(err, "training: the time budget (%.0f s) was too short to train any member; allow more time", budget);
        goto done;
    }

    /* threshold and calibration from the out-of-fold scores */
    float *p = malloc(2 * n_train * sizeof *p);
    uint8_t *y = malloc(2 * n_train);
    size_t m = 0;
    char rule[400];
    float threshold;
    if (n_anom > 0) {
        for (size_t i = 0; i < n_train; i++)
            if (c->oof_n[i]) p[m] = sigmoidf_(oof_mean(c, i)), y[m] = (uint8_t)labels[i], m++;
        double f1;
        threshold = lo_threshold_f1_plateau(p, y, m, &f1);
        snprintf(rule, sizeof rule, "threshold %.4f: middle of the max-F1 plateau of %zu out-of-fold scores%s "
                 "(%d normal, %d anomalous; out-of-fold F1 %.3f, ROC AUC %.3f)", threshold, m,
                 rounds > 1 ? " (each the mean of the members that held the image out)" : "", n_norm, n_anom, f1,
                 auc_of(p, y, m));
    } else {
        /* each fold's scores re-centred on the folds' mean median (lo_threshold_fold_shifts):
         * aliens trained on normals alone had one member score its held-out normals 0.72-0.95,
         * the others 0.04-0.65, and the raw pool put the threshold at 0.98 (test F1 0.09) */
        float *lg = malloc((n_train + 1) * sizeof *lg);
        int *fo = malloc((n_train + 1) * sizeof *fo);
        size_t nv = 0;
        for (size_t i = 0; lg && fo && i < n_train; i++)
            if (c->oof_n[i]) lg[nv] = oof_mean(c, i), fo[nv] = fold[i], nv++;
        double shift[LO_FOLDS];
        lo_threshold_fold_shifts(lg, fo, nv, LO_FOLDS, shift);
        free(lg), free(fo);
        for (size_t i = 0; i < n_train; i++)
            if (c->oof_n[i]) p[m++] = sigmoidf_(oof_mean(c, i) + (float)shift[fold[i]]);
        /* a high quantile of the normals' scores: the 95th percentile of a distribution fitted to
         * them, i.e. about 5 % of normal parts flagged. (The empirical 99th percentile of 20
         * normals is their maximum: on cookies trained on normals alone it passed 81 % of real
         * cracks, test F1 0.32 at ROC AUC 0.93.) */
        threshold = lo_threshold_normal_tail(p, m, 1.645);
        float q = lo_threshold_normal_quantile(p, m, 0.99);
        float *ps = malloc(n_train * sizeof *ps);
        size_t ns_ = 0;
        for (size_t i = 0; i < n_train; i++)
            if (c->oof_n[i]) ps[ns_++] = sigmoidf_(synth_mean(c, i) + (float)shift[fold[i]]);
        size_t caught = 0;
        for (size_t i = 0; i < ns_; i++) caught += ps[i] >= threshold;
        snprintf(rule, sizeof rule, "threshold %.4f: normal-only training, 95th percentile of a distribution "
                 "fitted to %zu out-of-fold normal scores, each fold's moved %+.2f/%+.2f/%+.2f (logit) to the "
                 "folds' mean median (their 99th percentile: %.4f); it flags %zu of %zu synthetic defects",
                 threshold, m, shift[0], shift[1], shift[2], q, caught, ns_);
        for (size_t i = 0; i < m; i++) y[i] = 0;
        for (size_t i = 0; i < ns_; i++) p[m] = ps[i], y[m] = 1, m++;
        free(ps);
    }
    if (!(threshold > 0 && threshold < 1)) threshold = 0.5f;
    threshold = fminf(fmaxf(threshold, 1e-6f), 1 - 1e-6f);
    float slope = lo_calibrate_slope(p, y, m, threshold);
    free(p);
    free(y);
    logf_(req->log, "%s; confidence slope %.3f", rule, slope);

    /* the model */
    md.arch_json = (char *)arch_json;
    snprintf(md.arch_name, sizeof md.arch_name, "%s", arch_name);
    md.channels = channels;
    md.height = c->h;
    md.width = c->w;
    memcpy(md.mean, mean, sizeof mean);
    memcpy(md.std, std, sizeof std);
    md.threshold = threshold;
    md.calib_slope = slope;
    md.flip_average = aug.flip_h;
    md.flip_average_v = aug.flip_v;
    md.fit = fit;
    md.pixel_threshold = 0.5f;
    md.has_map = c->has_map;
    md.segmentation = with_masks && c->has_map;
    if (md.segmentation) {
        md.n_classes = tr->n_classes < 2 ? 2 : tr->n_classes;
        for (int k = 0; k < md.n_classes && k < LO_MODEL_MAX_CLASSES; k++) {
            snprintf(md.class_names[k], sizeof md.class_names[k], "%s",
                     k < tr->n_classes ? tr->classes[k].name : "anomaly");
            memcpy(md.class_rgb[k], tr->classes[k].rgb, 3);
        }
    }
    /* the ensemble: members that trained at least half their schedule, packed to the front */
    md.n_members = 0;
    for (int f = 0; f < n_members; f++) {
        if (!c->valid[f]) continue;
        if (md.n_members != f) {
            memmove(c->params + (size_t)md.n_members * c->n_params, c->params + (size_t)f * c->n_params,
                    c->n_params * sizeof(float));
            memmove(c->state + (size_t)md.n_members * c->n_state, c->state + (size_t)f * c->n_state,
                    c->n_state * sizeof(float));
        }
        md.n_members++;
    }
    md.n_params = c->n_params;
    md.n_state = c->n_state;
    md.params = c->params;
    md.state = c->state;
    char steps_list[LO_MAX_MEMBERS * 8] = "", rounds_text[32] = "";
    for (int f = 0; f < n_members; f++)
        snprintf(steps_list + strlen(steps_list), sizeof steps_list - strlen(steps_list), "%s%d", f ? "/" : "",
                 c->steps_run[f]);
    if (rounds > 1) snprintf(rounds_text, sizeof rounds_text, " x %d rounds", rounds);
    snprintf(md.recipe, sizeof md.recipe, "%s %dx%dx%d%s, %d-fold%s ensemble of %d, steps %s, flips %s%s; %s",
             arch_name, channels, c->w, c->h, fit ? " (aspect kept)" : "", LO_FOLDS, rounds_text, md.n_members,
             steps_list, flips_name(&aug),
             md.flip_average && md.flip_average_v ? " (scores 4-view averaged)"
             : md.flip_average || md.flip_average_v ? " (scores mirror-averaged)" : "",
             rule);
    if (mkdir_p(req->model_dir) != 0) {
        fail(err, "training: cannot create %s: %s", req->model_dir, strerror(errno));
        goto done;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/model.bin", req->model_dir);
    if (lo_model_data_write(path, &md, err) != 0) goto done;

    /* score the test images with the ensemble, as detect-anomalies will */
    if (lo_bank_load(&test_bank, ts, test_items, n_test, channels, c->h, c->w, 0, fit, err)) goto done;
    {
        lo_net_config cfg = {.batch = LO_BATCH, .channels = channels, .height = c->h, .width = c->w,
                             .threads = req->threads, .training = 0};
        char msg[512];
        net = lo_net_create(arch_json, &cfg, msg, sizeof msg);
        if (!net) {
            fail(err, "training: network: %s", msg);
            goto done;
        }
    }
    size_t mplane = (size_t)c->mh * c->mw;
    test_logit = calloc(n_test + 1, sizeof *test_logit);
    test_map = calloc(n_test * mplane + 1, sizeof *test_map);
    size_t cplane = (size_t)c->n_cls * mplane;
    test_cls = calloc(n_test * cplane + 1, sizeof *test_cls);
    float *one = malloc((n_test + 1) * sizeof *one), *onemap = malloc((n_test * mplane + 1) * sizeof *onemap);
    float *onecls = malloc((n_test * cplane + 1) * sizeof *onecls);
    size_t *ids = malloc((n_test + 1) * sizeof *ids);
    for (size_t i = 0; i < n_test; i++) ids[i] = i;
    for (int k = 0; k < md.n_members; k++) {
        lo_model_load_member(net, &md, k);
        lo_member_score(net, &md, &test_bank, ids, n_test, 0, 0, NULL, 0, 0, one, c->has_map ? onemap : NULL,
                            c->n_cls ? onecls : NULL);
        for (size_t i = 0; i < n_test; i++) test_logit[i] += one[i] / (float)md.n_members;
        if (c->has_map)
            for (size_t i = 0; i < n_test * mplane; i++) test_map[i] += onemap[i] / (float)md.n_members;
        for (size_t i = 0; i < n_test * cplane; i++) test_cls[i] += onecls[i] / (float)md.n_members;
    }
    free(one);
    free(onemap);
    free(onecls);
    free(ids);

    out->test = calloc(n_test + 1, sizeof *out->test);
    out->n_test = (int64_t)n_test;
    out->n_train = (int64_t)n_train;
    out->threshold = threshold;
    out->test_from_train = te == NULL;
    out->segmentation = md.segmentation;
    if (md.segmentation) {
        snprintf(path, sizeof path, "%s/masks", req->model_dir);
        mkdir_p(path);
    }
    int tp = 0, fp = 0, fn = 0, tn = 0;
    for (size_t i = 0; i < n_test; i++) {
        const lds_entry *e = &ts->entries[test_items[i]];
        lo_test_prediction *t = &out->test[i];
        t->json_line = strdup(e->json_line ? e->json_line : "");
        t->image_path = strdup(e->image_path ? e->image_path : "");
        t->truth = e->label;
        t->score = sigmoidf_(test_logit[i]);
        t->confidence = lo_confidence(t->score, threshold, slope, &t->predicted_anomalous);
        if (e->label == 1) t->predicted_anomalous ? tp++ : fn++;
        if (e->label == 0) t->predicted_anomalous ? fp++ : tn++;
        if (c->has_map) {
            t->hm_w = c->mw;
            t->hm_h = c->mh;
            t->heatmap = malloc(mplane * sizeof *t->heatmap);
            for (size_t k = 0; k < mplane; k++) t->heatmap[k] = sigmoidf_(test_map[i * mplane + k]);
        }
        if (md.segmentation) {
            const float *ml = test_map + i * mplane;
            t->pred_mask = malloc(mplane);
            lo_model_class_mask(&md, ml, c->mh, c->mw, t->predicted_anomalous, c->mw, c->mh, t->pred_mask);
            if (c->n_cls) lo_classes_paint(test_cls + i * cplane, c->n_cls, c->mh, c->mw, c->mw, c->mh, t->pred_mask);
            if (e->mask_path && e->mask_known) {
                /* at the map's size, placed as the image was (unreadable: no pixel metrics) */
                t->truth_mask = malloc(mplane);
                if (t->truth_mask && lo_load_mask_placed(ts, e, fit, c->mw, c->mh, t->truth_mask, &le) != 0) {
                    free(t->truth_mask);
                    t->truth_mask = NULL;
                }
            } else if (e->label == 0) {
                t->truth_mask = calloc(mplane, 1);
            }
            int ow = e->width > 0 ? e->width : c->w, oh = e->height > 0 ? e->height : c->h;
            uint8_t *cls = malloc((size_t)ow * oh), *rgb = malloc((size_t)ow * oh * 3);
            lo_model_paint(&md, ml, test_cls + i * cplane, c->n_cls, c->mh, c->mw, t->predicted_anomalous, ow, oh, cls);
            for (size_t k = 0; k < (size_t)ow * oh; k++)
                memcpy(rgb + 3 * k, md.class_rgb[cls[k] < md.n_classes ? cls[k] : 0], 3);
            snprintf(path, sizeof path, "%s/masks/test-%05zu.png", req->model_dir, i);
            if (lds_write_png(path, rgb, ow, oh, 3, &le) == 0) t->mask_path = strdup(path);
            free(cls);
            free(rgb);
        }
    }
    if (md.segmentation) {
        out->n_classes = md.n_classes;
        out->class_names = calloc((size_t)md.n_classes, sizeof *out->class_names);
        for (int k = 0; k < md.n_classes; k++) out->class_names[k] = strdup(md.class_names[k]);
    }
    snprintf(path, sizeof path, "%s/split.json", req->model_dir);
    if (write_split_json(path, tr, train_items, fold, c, n_train, ts, test_items, test_logit, n_test) != 0)
        logf_(req->log, "warning: could not write %s", path);
    snprintf(out->summary, sizeof out->summary, "%s; test %d tp %d fp %d fn %d tn; %.0f s%s", md.recipe, tp, fp, fn,
             tn, lo_now_s() - t0, c->cut ? "; cut by the time budget" : "");
    logf_(req->log, "done in %.1f s: %s", lo_now_s() - t0, out->summary);
    if (req->progress) req->progress(req->progress_ctx, 1.0, "trained");
    rc = 0;

done:
    if (rc != 0) lo_train_result_free(out);
    lo_net_free(net);
    free(test_logit);
    free(test_map);
    free(test_cls);
    free(arch_cls);
    lo_bank_free(&test_bank);
    for (int k = 0; k < 2; k++) candidate_free(&cand[k]);
    free(is_test);
    free(train_items);
    free(test_items);
    free(labels);
    free(fold);
    lds_free(tr);
    lds_free(te);
    return rc;
}

void lo_train_result_free(lo_train_result *r) {
    if (!r) return;
    for (int64_t i = 0; r->test && i < r->n_test; i++) {
        lo_test_prediction *t = &r->test[i];
        free(t->json_line);
        free(t->image_path);
        free(t->truth_mask);
        free(t->mask_path);
        free(t->heatmap);
        free(t->pred_mask);
    }
    free(r->test);
    for (int k = 0; r->class_names && k < r->n_classes; k++) free(r->class_names[k]);
    free(r->class_names);
    memset(r, 0, sizeof *r);
}
