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

int lo_member_train(const lo_member_job *job, lo_net **net_out, int *steps_planned, lo_train_error *err) {
    const lo_bank *b = job->bank;
    lo_net_config cfg = {.batch = job->batch, .channels = b->c, .height = b->h, .width = b->w,
                         .threads = job->threads, .training = 1};
    char msg[512];
    lo_net *net = lo_net_create(job->arch_json, &cfg, msg, sizeof msg);
    if (!net) {
        snprintf(err->message, sizeof err->message, "training: network: %s", msg);
        return -1;
    }
    /* outputs: map, score and, with several defect classes, the class head (train_classes.c) */
    int has_map = lo_net_output_count(net) >= 2, si = has_map ? 1 : 0;
    int n_cls = has_map ? lo_net_class_count(net) : 0;
    int d[4] = {0, 0, 1, 1};
    if (has_map) lo_net_output(net, 0, d);
    int mh = d[2], mw = d[3];
    size_t mplane = (size_t)mh * mw;
    int B = job->batch;

    size_t *normals = malloc((b->n + 1) * sizeof *normals), *anoms = malloc((b->n + 1) * sizeof *anoms);
    size_t nn = 0, na = 0;
    for (size_t i = 0; i < b->n; i++) {
        if (!job->in_train[i]) continue;
        if (job->labels[i] == 0) normals[nn++] = i;
        else if (job->labels[i] == 1) anoms[na++] = i;
    }
    float *t_img = malloc(B * sizeof *t_img);
    float *t_px = malloc((B * mplane + 1) * sizeof *t_px), *w_px = malloc((B * mplane + 1) * sizeof *w_px);
    uint8_t *t_cls = n_cls > 0 ? malloc(B * mplane + 1) : NULL;
    lo_opt_config oc = {.kind = LO_OPT_ADAMW, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
                        .weight_decay = job->weight_decay};
    lo_opt *opt = lo_opt_create(net, &oc);
    if (!normals || !anoms || !t_img || !t_px || !w_px || (n_cls > 0 && !t_cls) || !opt || nn == 0) {
        snprintf(err->message, sizeof err->message, nn == 0 ? "training: no normal images in the fold"
                                                             : "training: out of memory");
        free(normals), free(anoms), free(t_img), free(t_px), free(w_px), free(t_cls);
        lo_opt_free(opt);
        lo_net_free(net);
        return -1;
    }
    lo_net_init_params(net, job->seed);
    /* early stopping: checkpoints at these fractions of the schedule */
    static const double checkpoints[] = {0.5, 0.7, 0.85, 1.0};
    int next_cp = 0, worse_in_a_row = 0, best_step = 0, last_checked = 0;
    double best_val = -1e300;
    size_t np = lo_net_param_count(net), ns = lo_net_state_count(net);
    float *best_params = job->validate ? malloc((np + 1) * sizeof(float)) : NULL;
    float *best_state = job->validate ? malloc((ns + 1) * sizeof(float)) : NULL;

    lo_batch_spec bspec = {.bank = b, .normals = normals, .anoms = anoms, .nn = nn, .na = na, .aug = job->aug,
                           .mean = job->mean, .std = job->std, .mh = has_map ? mh : 0, .mw = has_map ? mw : 0,
                           .pos_pixel_weight = job->pos_pixel_weight, .threads = job->threads,
                           .min_defect_px = job->min_defect_px, .n_classes = n_cls};
    lo_batch_builder *bb = lo_batch_builder_create(&bspec);
    if (!bb) {
        snprintf(err->message, sizeof err->message, "training: out of memory");
        free(normals), free(anoms), free(t_img), free(t_px), free(w_px), free(t_cls), free(best_params),
            free(best_state);
        lo_opt_free(opt);
        lo_net_free(net);
        return -1;
    }
    int steps = job->steps;
    int warm = steps / 20 + 1;
    double ema = 0, t_start = lo_now_s(), t_probe = t_start;
    const int probe = 4; /* steps timed before the member's length is fixed */
    int step;
    for (step = 0; step < steps; step++) {
        if (job->deadline > 0 && lo_now_s() > job->deadline) break;
        /* timed after a few steps, then re-checked as the box's load changes */
        if (job->replan && (step == probe || (step > probe && step % 25 == 0))) {
            /* the first steps warm caches and page in the arena: time from the probe on. The
             * probe's own estimate includes them, so it counts three quarters: a member that fits
             * is not re-planned over a slow start (a re-plan changes its schedule, so its result:
             * aliens gained a false alarm over 0.19 s per step measured there, 0.12 s after) and a
             * box that is really slower is caught at step 25 */
            double now = lo_now_s(),
                   sec = step == probe ? 0.75 * (now - t_start) / step : (now - t_probe) / (step - probe);
            if (step == probe) t_probe = now;
            int fit = job->replan(job->ctx, sec, job->steps, steps);
            if (fit > steps && step > (int)(0.4 * steps)) fit = steps; /* too late to lengthen */
            if (fit != steps) {
                steps = fit > step + 1 ? fit : step + 1;
                warm = steps / 20 + 1;
            }
        }
        /* the batch (slots built in parallel, each from its own seeded stream: train_batch.c) */
        lo_batch_build(bb, net, job->seed, step, t_img, has_map ? t_px : NULL, has_map ? w_px : NULL, t_cls);
        double prog = (double)step / steps;
        float lr = step < warm ? job->lr * (float)(step + 1) / (float)warm
                               : job->lr * (0.02f + 0.98f * 0.5f * (1.0f + (float)cos(M_PI * prog)));
        lo_net_zero_grad(net);
        lo_net_forward(net, 1);
        float loss = lo_net_loss_bce(net, si, t_img, NULL);
        if (has_map) loss += lo_net_loss_bce(net, 0, t_px, w_px);
        /* which defect class, on the cells of real defects whose class the mask gives */
        if (n_cls > 0) loss += lo_net_loss_pixel_ce(net, 2, t_cls, NULL);
        lo_net_backward(net);
        lo_opt_step(opt, net, lr);
        ema = step == 0 ? loss : 0.95 * ema + 0.05 * loss;
        if (job->on_step) job->on_step(job->ctx, step + 1, steps, (float)ema);
        while (best_params && best_state && next_cp < 4 && step + 1 >= (int)ceil(checkpoints[next_cp] * steps)) {
            next_cp++;
            last_checked = step + 1;
            double v = job->validate(job->ctx, net);
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
    /* cut by the deadline between checkpoints: the state it ended in competes too */
    if (best_step > 0 && last_checked != step && step > 0 && job->validate(job->ctx, net) >= best_val) best_step = step;
    if (job->last_validated) *job->last_validated = best_step > 0 && best_step == step;
    if (best_step > 0 && best_step != step) {
        memcpy(lo_net_params(net), best_params, np * sizeof(float));
        if (ns) memcpy(lo_net_state(net), best_state, ns * sizeof(float));
    }
    if (job->best_step) *job->best_step = best_step > 0 ? best_step : step;
    free(best_params);
    free(best_state);
    lo_batch_builder_free(bb);
    free(normals), free(anoms), free(t_img), free(t_px), free(w_px), free(t_cls);
    lo_opt_free(opt);
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
