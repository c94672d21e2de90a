/* train_member.c — trains one network (one fold's member, or one candidate) and scores images
 * with it.
 *
 * A step fills a class-balanced batch: half normal images, half defects (real anomalies when the
 * fold has them, synthetic defects pasted on normals always). The loss is binary cross-entropy on
 * the image score (pooled from the map) plus per-pixel BCE on the map where the defect's extent
 * is known (real masks, synthetic masks, and "all clear" on normal images); with two or more
 * defect classes, plus per-cell softmax cross-entropy of the class head on the cells of real
 * defects whose class the mask gives (train_classes.c). AdamW, warm-up then cosine decay.
 */
#include "train_member.h"

#include "train_batch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double lo_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* One phase of a member: its network, the batches for it and their targets. */
typedef struct {
    lo_net *net;
    lo_batch_builder *bb;
    float *t_px, *w_px;
    uint8_t *t_cls;
    int has_map, n_cls;
} member_phase;

static void phase_free(member_phase *ph) {
    lo_batch_builder_free(ph->bb);
    free(ph->t_px), free(ph->w_px), free(ph->t_cls);
    lo_net_free(ph->net);
    memset(ph, 0, sizeof *ph);
}

/* spec: the fold's images and the recipe; its bank and map size are set here */
static int phase_make(const lo_member_job *job, const lo_bank *bank, lo_batch_spec spec, member_phase *ph,
                      lo_train_error *err) {
    memset(ph, 0, sizeof *ph);
    lo_net_config cfg = {.batch = job->batch, .channels = bank->c, .height = bank->h, .width = bank->w,
                         .threads = job->threads, .training = 1};
    char msg[512];
    ph->net = lo_net_create(job->arch_json, &cfg, msg, sizeof msg);
    if (!ph->net) {
        snprintf(err->message, sizeof err->message, "training: network: %s", msg);
        return -1;
    }
    /* outputs: map, score and, with several defect classes, the class head (train_classes.c) */
    ph->has_map = lo_net_output_count(ph->net) >= 2;
    ph->n_cls = ph->has_map ? lo_net_class_count(ph->net) : 0;
    int d[4] = {0, 0, 1, 1};
    if (ph->has_map) lo_net_output(ph->net, 0, d);
    size_t cells = (size_t)job->batch * d[2] * d[3] + 1;
    spec.bank = bank;
    spec.mh = ph->has_map ? d[2] : 0;
    spec.mw = ph->has_map ? d[3] : 0;
    spec.n_classes = ph->n_cls;
    /* synthetic defects keep their least area as a share of the image */
    spec.min_defect_px = (int)((double)spec.min_defect_px * bank->h * bank->w / ((double)job->bank->h * job->bank->w));
    ph->t_px = malloc(cells * sizeof *ph->t_px);
    ph->w_px = malloc(cells * sizeof *ph->w_px);
    ph->t_cls = ph->n_cls > 0 ? malloc(cells) : NULL;
    ph->bb = lo_batch_builder_create(&spec);
    if (!ph->t_px || !ph->w_px || (ph->n_cls > 0 && !ph->t_cls) || !ph->bb) {
        snprintf(err->message, sizeof err->message, "training: out of memory");
        phase_free(ph);
        return -1;
    }
    return 0;
}

/* The switch to the full input: a full-size phase takes over ph's parameters and BN statistics
 * (the network is fully convolutional, so their layout does not depend on the input size). */
static int phase_grow(const lo_member_job *job, lo_batch_spec spec, member_phase *ph, lo_train_error *err) {
    member_phase full;
    if (phase_make(job, job->bank, spec, &full, err) != 0) return -1;
    memcpy(lo_net_params(full.net), lo_net_params(ph->net), lo_net_param_count(ph->net) * sizeof(float));
    size_t ns = lo_net_state_count(ph->net);
    if (ns) memcpy(lo_net_state(full.net), lo_net_state(ph->net), ns * sizeof(float));
    phase_free(ph);
    *ph = full;
    return 0;
}

void lo_schedule_init(lo_schedule *s, int steps) {
    s->steps = steps;
    s->warm = steps / 20 + 1;
    s->s0 = 0;
    s->p0 = 0;
}

/* the cosine's progress at step: p0 at the last re-plan's step s0, 1 at the schedule's end */
static double schedule_progress(const lo_schedule *s, int step) {
    return s->p0 + (1 - s->p0) * ((double)(step - s->s0) / (s->steps - s->s0));
}

void lo_schedule_resize(lo_schedule *s, int step, int steps) {
    if (steps <= step || steps == s->steps) return;
    s->p0 = schedule_progress(s, step);
    s->s0 = step;
    s->steps = steps;
    /* a warm-up that has ended stays ended (lengthened past 20x its step, it would begin again) */
    if (step < s->warm) s->warm = steps / 20 + 1;
}

float lo_schedule_lr(const lo_schedule *s, int step, float lr) {
    if (step < s->warm) return lr * (float)(step + 1) / (float)s->warm;
    double prog = schedule_progress(s, step);
    return lr * (0.02f + 0.98f * 0.5f * (1.0f + (float)cos(M_PI * prog)));
}

int lo_member_train(const lo_member_job *job, lo_net **net_out, int *steps_planned, lo_train_error *err) {
    const lo_bank *b = job->bank;
    int B = job->batch;
    /* progressive resizing: the first part of the schedule on the shrunk bank */
    int small = job->bank_small && job->small_fraction > 0 && job->bank_small->n == b->n &&
                job->bank_small->h < b->h && job->bank_small->w <= b->w;
    /* a small step's cost against a full one, until both are timed: not quite the pixel ratio, a
     * step also has costs that do not shrink with the image (lookout-bench, compact-fcn, batch 16,
     * 2 threads: 41.5 ms at 160x160 against 64.2 ms at 224x224, 0.65 for 0.51 of the pixels) */
    double cost_ratio = 1;
    if (small) cost_ratio = 0.3 + 0.7 * (double)job->bank_small->h * job->bank_small->w / ((double)b->h * b->w);

    size_t *normals = malloc((b->n + 1) * sizeof *normals), *anoms = malloc((b->n + 1) * sizeof *anoms);
    float *t_img = malloc(B * sizeof *t_img);
    if (!normals || !anoms || !t_img) {
        snprintf(err->message, sizeof err->message, "training: out of memory");
        free(normals), free(anoms), free(t_img);
        return -1;
    }
    size_t nn = 0, na = 0;
    for (size_t i = 0; i < b->n; i++) {
        if (!job->in_train[i]) continue;
        if (job->labels[i] == 0) normals[nn++] = i;
        else if (job->labels[i] == 1) anoms[na++] = i;
    }
    if (nn == 0) {
        snprintf(err->message, sizeof err->message, "training: no normal images in the fold");
        free(normals), free(anoms), free(t_img);
        return -1;
    }
    lo_batch_spec bspec = {.normals = normals, .anoms = anoms, .nn = nn, .na = na, .real_share = job->real_share,
                           .aug = job->aug, .mean = job->mean, .std = job->std,
                           .pos_pixel_weight = job->pos_pixel_weight, .threads = job->threads,
                           .min_defect_px = job->min_defect_px};
    member_phase ph;
    if (phase_make(job, small ? job->bank_small : b, bspec, &ph, err) != 0) {
        free(normals), free(anoms), free(t_img);
        return -1;
    }
    lo_net *net = ph.net;
    int si = ph.has_map ? 1 : 0;
    lo_opt_config oc = {.kind = LO_OPT_ADAMW, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
                        .weight_decay = job->weight_decay};
    /* the optimizer works on the flat parameter vector, whose layout does not depend on the
     * input size: the same state serves both phases */
    lo_opt *opt = lo_opt_create(net, &oc);
    /* early stopping: checkpoints at these fractions of the schedule (all after the switch) */
    static const double checkpoints[] = {0.5, 0.7, 0.85, 1.0};
    size_t np = lo_net_param_count(net), ns = lo_net_state_count(net);
    float *best_params = job->validate ? malloc((np + 1) * sizeof(float)) : NULL;
    float *best_state = job->validate ? malloc((ns + 1) * sizeof(float)) : NULL;
    if (!opt || (job->validate && (!best_params || !best_state))) {
        snprintf(err->message, sizeof err->message, "training: out of memory");
        free(normals), free(anoms), free(t_img), free(best_params), free(best_state);
        lo_opt_free(opt);
        phase_free(&ph);
        return -1;
    }
    lo_net_init_params(net, job->seed);
    int next_cp = 0, worse_in_a_row = 0, best_step = 0, last_checked = 0;
    double best_val = -1e300;

    int steps = job->steps;
    lo_schedule sched;
    lo_schedule_init(&sched, steps);
    int switch_at = small ? (int)(job->small_fraction * steps) : 0, switched = !small;
    double ema = 0, t_phase = lo_now_s(), t_timed = t_phase, sec_small = 0;
    /* seconds spent scoring held-out images since t_timed (not a step's cost: timed apart, so a
     * checkpoint right after the switch does not make the full-size steps look slow), and the
     * last such scoring's */
    double t_held_out = 0, sec_held_out = 0;
    const int probe = 4; /* steps timed before the member's length is fixed (and after the switch) */
    int phase_step0 = 0, timed_from = -1, rc = 0;
    int step;
    for (step = 0; step < steps; step++) {
        if (job->deadline > 0 && lo_now_s() > job->deadline) break;
        if (!switched && step >= switch_at) {
            double now = lo_now_s();
            sec_small = timed_from >= 0 && step > timed_from ? (now - t_timed - t_held_out) / (step - timed_from) : 0;
            if (phase_grow(job, bspec, &ph, err) != 0) {
                rc = -1;
                break;
            }
            net = ph.net;
            switched = 1;
            t_phase = now;
            phase_step0 = step;
            timed_from = -1;
        }
        /* timed after a few steps, then re-checked as the box's load changes */
        int since = step - phase_step0;
        if (job->replan && (since == probe || (since > probe && step % 25 == 0))) {
            /* the first steps warm caches and page in the arena: time from the probe on. The
             * probe's own estimate includes them, so it counts three quarters: a member that fits
             * is not re-planned over a slow start (a re-plan changes its schedule, so its result:
             * aliens gained a false alarm over 0.19 s per step measured there, 0.12 s after) and a
             * box that is really slower is caught at step 25 */
            double now = lo_now_s(), sec;
            if (since == probe) {
                sec = 0.75 * (now - t_phase) / probe;
                t_timed = now;
                timed_from = step;
                t_held_out = 0;
            } else {
                sec = (now - t_timed - t_held_out) / (step - timed_from);
            }
            /* as seconds per step of the whole schedule; a small step is taken to cost cost_ratio
             * of a full one until both have been timed */
            double sec_s = !switched ? sec : sec_small > 0 ? sec_small : sec * cost_ratio;
            double sec_f = switched ? sec : sec / cost_ratio;
            double f = !small ? 0 : switched ? (double)switch_at / steps : job->small_fraction;
            double mean_sec = f * sec_s + (1 - f) * sec_f + 4 * sec_held_out / steps; /* + the checkpoints' scoring */
            int fit = job->replan(job->ctx, mean_sec, job->steps, steps);
            /* a member may lengthen again at any point (the box's stall has passed): the schedule
             * goes on from the learning rate it has reached (lo_schedule_resize) */
            if (fit != steps) {
                steps = fit > step + 1 ? fit : step + 1;
                lo_schedule_resize(&sched, step, steps);
                if (!switched) switch_at = (int)(job->small_fraction * steps);
            }
        }
        /* the batch (slots built in parallel, each from its own seeded stream: train_batch.c) */
        lo_batch_build(ph.bb, net, job->seed, step, t_img, ph.has_map ? ph.t_px : NULL, ph.has_map ? ph.w_px : NULL,
                       ph.t_cls);
        float lr = lo_schedule_lr(&sched, step, job->lr);
        lo_net_zero_grad(net);
        lo_net_forward(net, 1);
        float loss = lo_net_loss_bce(net, si, t_img, NULL);
        if (ph.has_map) loss += lo_net_loss_bce(net, 0, ph.t_px, ph.w_px);
        /* which defect class, on the cells of real defects whose class the mask gives */
        if (ph.n_cls > 0) loss += lo_net_loss_pixel_ce(net, 2, ph.t_cls, NULL);
        lo_net_backward(net);
        lo_opt_step(opt, net, lr);
        ema = step == 0 ? loss : 0.95 * ema + 0.05 * loss;
        if (job->on_step) job->on_step(job->ctx, step + 1, steps, (float)ema);
        while (best_params && best_state && next_cp < 4 && step + 1 >= (int)ceil(checkpoints[next_cp] * steps)) {
            next_cp++;
            if (!switched) continue; /* in the small phase: not the network the member hands back */
            last_checked = step + 1;
            double t_v = lo_now_s();
            double v = job->validate(job->ctx, net);
            sec_held_out = lo_now_s() - t_v;
            t_held_out += sec_held_out;
            if (!(v == v)) continue; /* nothing to validate on */
            if (v >= best_val) {
                best_val = v;
                best_step = step + 1;
                memcpy(best_params, lo_net_params(net), np * sizeof(float));
                if (ns) memcpy(best_state, lo_net_state(net), ns * sizeof(float));
            }
            worse_in_a_row = v < best_val - 0.01 ? worse_in_a_row + 1 : 0;
        }
        if (worse_in_a_row >= 2) {
            step++;
            steps = step; /* stopped early: the schedule is what ran */
            break;
        }
    }
    if (rc == 0 && !switched) {
        /* cut before the switch: hand back a full-size network all the same */
        if (phase_grow(job, bspec, &ph, err) != 0) rc = -1;
        net = ph.net;
    }
    if (rc == 0) {
        /* cut by the deadline between checkpoints: the state it ended in competes too */
        if (best_step > 0 && last_checked != step && step > 0 && job->validate(job->ctx, net) >= best_val)
            best_step = step;
        if (job->last_validated) *job->last_validated = best_step > 0 && best_step == step;
        if (best_step > 0 && best_step != step) {
            memcpy(lo_net_params(net), best_params, np * sizeof(float));
            if (ns) memcpy(lo_net_state(net), best_state, ns * sizeof(float));
        }
        if (job->best_step) *job->best_step = best_step > 0 ? best_step : step;
    }
    free(best_params);
    free(best_state);
    free(normals), free(anoms), free(t_img);
    lo_opt_free(opt);
    if (rc == 0) ph.net = NULL; /* the caller's now */
    phase_free(&ph);
    if (rc != 0) return -1;
    *net_out = net;
    *steps_planned = steps;
    return step;
}

static void forward_inference(lo_net *net) { lo_net_forward(net, 0); }

void lo_member_score(lo_net *net, const lo_model_data *norm, const lo_bank *b, const size_t *ids, size_t n,
                     int synthetic, int min_defect_px, const size_t *donors, size_t n_donors, uint64_t seed,
                     float *logit, float *maps, float *cls_maps) {
    int B, c, h, w;
    lo_net_input_shape(net, &B, &c, &h, &w);
    int has_map = lo_net_output_count(net) >= 2, n_cls = has_map ? lo_net_class_count(net) : 0;
    int d[4] = {0, 0, 1, 1};
    if (has_map) lo_net_output(net, 0, d);
    size_t mplane = (size_t)d[2] * d[3], px = (size_t)c * h * w;
    float *img = malloc(px * sizeof *img), *clean = malloc(px * sizeof *clean), *donor = malloc(px * sizeof *donor);
    uint8_t *mask = malloc((size_t)h * w);
    /* this member alone, flip-averaged when the model will be */
    lo_model_data one = *norm;
    one.n_members = 1;
    one.has_map = has_map;
    for (size_t i0 = 0; i0 < n; i0 += (size_t)B) {
        size_t cnt = n - i0 < (size_t)B ? n - i0 : (size_t)B;
        for (int s = 0; s < B; s++) {
            size_t i = i0 + ((size_t)s < cnt ? (size_t)s : 0); /* pad a short batch with its first image */
            lo_bank_image(b, ids[i], img);
            if (synthetic && n_donors > 0) {
                /* seeded per image: the same synthetic defect whatever the batch layout */
                uint64_t rng = seed ^ (0x9E37u * (uint64_t)(ids[i] + 1));
                memcpy(clean, img, px * sizeof *img);
                lo_bank_image(b, donors[lo_rng_int(&rng, (int)n_donors)], donor);
                lo_train_make_defect(img, clean, donor, mask, c, h, w, min_defect_px, &rng);
            }
            lo_ensemble_set_input(net, norm, s, img);
        }
        lo_ensemble_member_pass(net, &one, (int)cnt, 0, logit + i0, has_map && maps ? maps + i0 * mplane : NULL,
                                    n_cls && cls_maps ? cls_maps + i0 * n_cls * mplane : NULL, forward_inference);
    }
    free(img), free(clean), free(donor), free(mask);
}
