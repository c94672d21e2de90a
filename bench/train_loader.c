/* train_loader — issue 4: "during training the loader never stalls the kernels". Training
 * decodes every image once into an in-memory bank (train_data.c); each step then builds its
 * batch (bank -> float, augmentation, synthetic defects, input normalization, pixel targets, as
 * train_member.c does per slot) and runs forward, loss, backward and the AdamW update. This
 * times, on the cookies training images at the recipe's first input size and batch (16) with 2
 * threads:
 *   (i)   the whole step (build + forward/backward/update),
 *   (ii)  the batch building alone,
 *   (iii) forward/backward/update alone on a fixed batch,
 * and prints the share of the step spent building; then (ii) and (i) again with the batch built
 * on both cores by lo_batch_build (engine/train/train_batch.c); then where the building time
 * goes, part by part (lo_batch_profile: bank -> float, augmentation, each synthetic defect kind,
 * normalization, pixel targets; thread CPU time, serially, the same batches). Process CPU time
 * is printed too: it stays meaningful when other jobs share the cores.
 * Usage: train_loader [SHARED_DATA_DIR] [STEPS] */
#include "train/train_batch.h"
#include "train/train_data.h"
#include "train/train_infer.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef LO_SHARED_DATA_DIR
#define LO_SHARED_DATA_DIR "../shared/data"
#endif
#define BATCH 16     /* train_run.c's LO_BATCH */
#define LONG_SIDE 224 /* train_run.c's first candidate */

static double now_s(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct {
    float *t_img, *t_px, *w_px;
} targets;

static void train_step(lo_net *net, lo_opt *opt, const targets *q)
{
    lo_net_zero_grad(net);
    lo_net_forward(net, 1);
    lo_net_loss_bce(net, 1, q->t_img, NULL);
    lo_net_loss_bce(net, 0, q->t_px, NULL);
    lo_net_backward(net);
    lo_opt_step(opt, net, 1e-3f);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

int main(int argc, char **argv)
{
    const char *data = argc > 1 ? argv[1] : LO_SHARED_DATA_DIR;
    int steps = argc > 2 ? atoi(argv[2]) : 30;
    if (steps < 3) steps = 3;
    const int threads = 2;
    omp_set_num_threads(threads);
    char tmp[] = "/tmp/lookout-loader-XXXXXX", src[2048], ds[2100];
    if (!mkdtemp(tmp)) return perror("mkdtemp"), 1;
    snprintf(src, sizeof src, "%s/cookies/train", data);
    snprintf(ds, sizeof ds, "%s/ds", tmp);
    lds_error le, warn = {0};
    lds_set *set = NULL;
    if (lds_import_folder(ds, src, &warn, &le) != 0 || lds_open(ds, &set, &le) != 0)
        return fprintf(stderr, "%s\n", le.message), 1;
    size_t *items = malloc(set->n * sizeof *items), n = 0;
    int *labels = malloc(set->n * sizeof *labels);
    for (size_t i = 0; i < set->n; i++)
        if (set->entries[i].label >= 0) labels[n] = set->entries[i].label, items[n++] = i;
    int h, w, capped;
    lo_train_input_size(set, items, n, LONG_SIDE, &h, &w, &capped);
    lo_bank bank;
    lo_train_error te;
    double t0 = now_s(CLOCK_MONOTONIC);
    if (lo_bank_load(&bank, set, items, n, 3, h, w, 1, 0, &te) != 0) return fprintf(stderr, "%s\n", te.message), 1;
    double t_bank = now_s(CLOCK_MONOTONIC) - t0;

    lo_net_config cfg = {.batch = BATCH, .channels = 3, .height = h, .width = w, .threads = threads, .training = 1};
    char msg[512];
    lo_net *net = lo_net_create(lo_train_arch_json("compact-fcn"), &cfg, msg, sizeof msg);
    if (!net) return fprintf(stderr, "%s\n", msg), 1;
    lo_net_init_params(net, 1);
    lo_opt_config oc = {.kind = LO_OPT_ADAMW, .weight_decay = 1e-4f};
    lo_opt *opt = lo_opt_create(net, &oc);
    int d[4];
    lo_net_output(net, 0, d);
    size_t *normals = malloc(n * sizeof(size_t)), *anoms = malloc(n * sizeof(size_t)), nn = 0, na = 0;
    for (size_t i = 0; i < n; i++) {
        if (labels[i] == 0) normals[nn++] = i;
        else anoms[na++] = i;
    }
    lds_augment_config aug;
    lo_train_augment_config(&aug);
    float mean[3], sd[3];
    lo_bank_stats(&bank, mean, sd);
    /* train_member.c's builder, on one thread (serial) and on all of them */
    lo_batch_spec spec = {.bank = &bank, .normals = normals, .anoms = anoms, .nn = nn, .na = na, .aug = &aug,
                          .mean = mean, .std = sd, .mh = d[2], .mw = d[3], .pos_pixel_weight = 1.0f, .threads = 1};
    lo_batch_builder *serial = lo_batch_builder_create(&spec);
    spec.threads = threads;
    lo_batch_builder *bb = lo_batch_builder_create(&spec);
    size_t mplane = (size_t)d[2] * d[3];
    targets q = {malloc(BATCH * sizeof(float)), malloc(BATCH * mplane * sizeof(float)),
                 malloc(BATCH * mplane * sizeof(float))};
    if (!serial || !bb || !q.t_img || !q.t_px || !q.w_px) return fprintf(stderr, "out of memory\n"), 1;

    double *tb = malloc(steps * sizeof(double)), *tk = malloc(steps * sizeof(double)),
           *ts = malloc(steps * sizeof(double));
    double cpu_b = 0, cpu_k = 0, cpu_s = 0;
    lo_batch_build(serial, net, 7, 0, q.t_img, q.t_px, q.w_px, NULL); /* warm-up */
    train_step(net, opt, &q);
    for (int i = 0; i < steps; i++) { /* (ii) building alone */
        double c0 = now_s(CLOCK_PROCESS_CPUTIME_ID), w0 = now_s(CLOCK_MONOTONIC);
        lo_batch_build(serial, net, 7, i, q.t_img, q.t_px, q.w_px, NULL);
        tb[i] = now_s(CLOCK_MONOTONIC) - w0, cpu_b += now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    }
    for (int i = 0; i < steps; i++) { /* (iii) kernels alone, on the last batch */
        double c0 = now_s(CLOCK_PROCESS_CPUTIME_ID), w0 = now_s(CLOCK_MONOTONIC);
        train_step(net, opt, &q);
        tk[i] = now_s(CLOCK_MONOTONIC) - w0, cpu_k += now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    }
    for (int i = 0; i < steps; i++) { /* (i) the whole step */
        double c0 = now_s(CLOCK_PROCESS_CPUTIME_ID), w0 = now_s(CLOCK_MONOTONIC);
        lo_batch_build(serial, net, 7, i, q.t_img, q.t_px, q.w_px, NULL);
        train_step(net, opt, &q);
        ts[i] = now_s(CLOCK_MONOTONIC) - w0, cpu_s += now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    }
    qsort(tb, steps, sizeof(double), cmp_d);
    qsort(tk, steps, sizeof(double), cmp_d);
    qsort(ts, steps, sizeof(double), cmp_d);
    double mb = tb[steps / 2], mk = tk[steps / 2], ms = ts[steps / 2];
    /* minimums too: other jobs on the cores only add time, so min/min is the share on an idle box */
    double nb = tb[0], ns = ts[0];

    /* the same with the parallel builder */
    double cpu_pb = 0, cpu_ps = 0;
    lo_batch_build(bb, net, 7, 0, q.t_img, q.t_px, q.w_px, NULL);
    for (int i = 0; i < steps; i++) {
        double c0 = now_s(CLOCK_PROCESS_CPUTIME_ID), w0 = now_s(CLOCK_MONOTONIC);
        lo_batch_build(bb, net, 7, i, q.t_img, q.t_px, q.w_px, NULL);
        tb[i] = now_s(CLOCK_MONOTONIC) - w0, cpu_pb += now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    }
    for (int i = 0; i < steps; i++) {
        double c0 = now_s(CLOCK_PROCESS_CPUTIME_ID), w0 = now_s(CLOCK_MONOTONIC);
        lo_batch_build(bb, net, 7, i, q.t_img, q.t_px, q.w_px, NULL);
        train_step(net, opt, &q);
        ts[i] = now_s(CLOCK_MONOTONIC) - w0, cpu_ps += now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    }
    /* where the building time goes: the same batches, serially, with a timer around each part */
    lo_batch_parts parts = {0};
    lo_batch_profile(serial, net, 7, 0, steps, q.t_img, q.t_px, q.w_px, &parts);
    lo_batch_builder_free(bb);
    lo_batch_builder_free(serial);
    qsort(tb, steps, sizeof(double), cmp_d);
    qsort(ts, steps, sizeof(double), cmp_d);
    double pb = tb[steps / 2], ps = ts[steps / 2], npb = tb[0], nps = ts[0];
    printf("train_loader: cookies train, %zu images banked at %dx%d in %.2f s; batch %d, %d threads, %d steps each\n",
           n, w, h, t_bank, BATCH, threads, steps);
    printf("  (i)   whole step:              median %7.1f ms  (CPU %.1f ms/step)\n", 1e3 * ms, 1e3 * cpu_s / steps);
    printf("  (ii)  batch building alone:    median %7.1f ms  (CPU %.1f ms/step, 1 thread)\n", 1e3 * mb,
           1e3 * cpu_b / steps);
    printf("  (iii) forward/backward/update: median %7.1f ms  (CPU %.1f ms/step)\n", 1e3 * mk, 1e3 * cpu_k / steps);
    printf("  batch building is %.1f %% of the step (median build / median step; %.1f %% by minimums, %.1f / %.1f ms)\n",
           100.0 * mb / ms, 100.0 * nb / ns, 1e3 * nb, 1e3 * ns);
    printf("  with lo_batch_build on %d threads:\n", threads);
    printf("  (i)   whole step:              median %7.1f ms  (CPU %.1f ms/step)\n", 1e3 * ps, 1e3 * cpu_ps / steps);
    printf("  (ii)  batch building alone:    median %7.1f ms  (CPU %.1f ms/step)\n", 1e3 * pb, 1e3 * cpu_pb / steps);
    printf("  batch building is %.1f %% of the step (%.1f %% by minimums, %.1f / %.1f ms)\n", 100.0 * pb / ps,
           100.0 * npb / nps, 1e3 * npb, 1e3 * nps);
    static const char *const kind_names[LDS_SYNTH_KINDS] = {"cutpaste", "scar", "perlin", "patch", "erase", "blotch", "chip"};
    double per = 1e3 / steps; /* ms of CPU per batch */
    printf("  per part (1 thread, thread CPU ms per batch of %d, %d slots in all):\n", BATCH, parts.slots);
    printf("    bank -> float     %6.2f\n", per * parts.bank);
    printf("    augment           %6.2f\n", per * parts.augment);
    double dsum = 0;
    for (int k = 0; k < LDS_SYNTH_KINDS; k++) {
        dsum += parts.defect[k];
        printf("    defect %-10s %6.2f  (%d tries, %.3f ms each)\n", kind_names[k], per * parts.defect[k],
               parts.defect_n[k], parts.defect_n[k] ? 1e3 * parts.defect[k] / parts.defect_n[k] : 0.0);
    }
    printf("    normalize         %6.2f\n", per * parts.normalize);
    printf("    pixel targets     %6.2f\n", per * parts.targets);
    double rest = parts.total - parts.bank - parts.augment - dsum - parts.normalize - parts.targets;
    printf("    other             %6.2f\n    whole slot loop   %6.2f\n", per * rest, per * parts.total);

    lo_opt_free(opt);
    lo_net_free(net);
    lo_bank_free(&bank);
    lds_free(set);
    free(items), free(labels), free(normals), free(anoms), free(q.t_img), free(q.t_px), free(q.w_px);
    free(tb), free(tk), free(ts);
    char cmd[2200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : 1;
}
