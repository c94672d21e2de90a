/* lookout_bench.c — how close the kernels run to the machine, and how fast a training step is.
 *
 *   lookout-bench [--net FILE] [--size N] [--batch B] [--threads T] [--json] [--seconds S]
 *
 * Without --size / --threads it runs 128 and 224 at 1 and 2 threads. Per conv layer and direction
 * it prints GFLOP/s, the fraction of the peak that its own FMA probe measures in the same run at
 * the same thread count, and OpenBLAS sgemm's rate on the same GEMM shapes; then whole training
 * step and inference images/s of the network, and where the step's time goes. */
#include "kernels.h"
#include "net.h"

#include <cblas.h>
#include <immintrin.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* --cpu-time: clocks count process CPU seconds / threads instead of wall time. On a box shared
 * with other jobs this measures the code rather than the neighbours (for development only: the
 * reported figures use wall time). */
static int cpu_clock, cur_threads = 1;
static double now(void)
{
    if (!cpu_clock) return omp_get_wtime();
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ((double)ts.tv_sec + ts.tv_nsec * 1e-9) / cur_threads;
}

/* ---- FMA probe: 12 independent accumulator chains per thread, enough to fill both FMA pipes. */
__attribute__((target("avx512f"))) static double probe_avx512(long iters)
{
    /* every index constant after unrolling, so the chains live in registers, not on the stack */
    __m512 a[12], m = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
#pragma GCC unroll 12
    for (int i = 0; i < 12; i++) a[i] = _mm512_set1_ps((float)i);
    for (long it = 0; it < iters; it++)
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++) a[i] = _mm512_fmadd_ps(a[i], m, b);
    float s = 0;
#pragma GCC unroll 12
    for (int i = 0; i < 12; i++) s += _mm512_reduce_add_ps(a[i]);
    return s;
}

__attribute__((target("avx2,fma"))) static double probe_avx2(long iters)
{
    __m256 a[12], m = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
#pragma GCC unroll 12
    for (int i = 0; i < 12; i++) a[i] = _mm256_set1_ps((float)i);
    for (long it = 0; it < iters; it++)
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++) a[i] = _mm256_fmadd_ps(a[i], m, b);
    float s = 0, t[8];
#pragma GCC unroll 12
    for (int i = 0; i < 12; i++) { _mm256_storeu_ps(t, a[i]); for (int j = 0; j < 8; j++) s += t[j]; }
    return s;
}

static volatile double sink;

/* GFLOP/s of T threads running the probe together, best of 3. */
static double fma_peak(int T)
{
    int wide = lk_path_supported(LK_PATH_AVX512);
    const long iters = 4000000;
    const double flops_per_thread = (double)iters * 12 * (wide ? 16 : 8) * 2;
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now();
#pragma omp parallel num_threads(T)
        {
            double s = wide ? probe_avx512(iters) : probe_avx2(iters);
#pragma omp atomic
            sink += s;
        }
        double g = flops_per_thread * T / (now() - t0) / 1e9;
        if (g > best) best = g;
    }
    return best;
}

static void fill(float *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) { seed = seed * 1664525u + 1013904223u; p[i] = (float)((seed >> 9) & 0xffff) / 32768.f - 1.f; }
}

/* Median-free but robust enough: best of repeated runs for >= min_s total. */
#define TIME_BEST(best, min_s, stmt) do { double _tot = 0; best = 1e30; int _r = 0; \
    while (_tot < (min_s) || _r < 3) { double _t0 = now(); stmt; double _d = now() - _t0; _tot += _d; _r++; if (_d < best) best = _d; } } while (0)

typedef struct {
    char name[64];
    const char *dir;
    double gflops, frac, blas_gflops;
} layer_row;

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) { free(s); s = NULL; }
    if (s) s[n] = 0;
    fclose(f);
    return s;
}

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct {
    double peak, train_ips, infer_ips, step_ms;
    double train_ips_cpu, infer_ips_cpu; /* images per CPU-second per thread: robust on a shared box */
    layer_row rows[192];
    int nrows;
    double prof_fwd[64], prof_bwd[64], prof_bwd_w[64];
    char prof_name[64][64];
    int nprof;
    double prof_total;
} result;

static int run_config(const char *json, int size, int batch, int T, double secs, result *R)
{
    char err[512];
    memset(R, 0, sizeof *R);
    cur_threads = T;
    R->peak = fma_peak(T);
    lo_net_config cfg = {.batch = batch, .height = size, .width = size, .threads = T, .training = 1};
    lo_net *net = lo_net_create(json, &cfg, err, sizeof err);
    if (!net) { fprintf(stderr, "lookout-bench: %s\n", err); return -1; }
    int b, c, h, w;
    lo_net_input_shape(net, &b, &c, &h, &w);
    fill(lo_net_input(net), (size_t)b * c * h * w, 1);

    /* ---- per conv layer, per direction, on the same shapes the network runs */
    openblas_set_num_threads(T);
    for (int i = 0; i < lo_net_layer_count(net); i++) {
        lo_net_layer_info_t li;
        lo_net_layer_info(net, i, &li);
        if (strcmp(li.type, "conv") != 0) continue;
        lk_conv cv;
        lk_conv_init(&cv, batch, li.cin, li.in_h, li.in_w, li.c, li.k, li.stride, li.pad);
        size_t nx = (size_t)batch * li.cin * li.in_h * li.in_w, ny = (size_t)batch * li.c * cv.oh * cv.ow;
        size_t nw = (size_t)li.c * li.cin * li.k * li.k, ns = lk_conv_scratch_floats(&cv, T);
        int KK = li.cin * li.k * li.k, P = cv.oh * cv.ow;
        size_t ncol = (size_t)KK * P;
        float *x = malloc(nx * 4), *y = malloc(ny * 4), *wt = malloc(nw * 4), *dw = calloc(nw, 4), *bias = calloc((size_t)li.c, 4);
        float *dx = calloc(nx, 4), *s = malloc(ns * 4), *A = malloc((ncol > nw ? ncol : nw) * 4), *Cm = malloc((ncol > ny ? ncol : ny) * 4);
        fill(x, nx, 2); fill(wt, nw, 3); fill(y, ny, 4); fill(A, ncol > nw ? ncol : nw, 5);
        double flops = li.flops_fwd, t, tb;
        const char *dirs[3] = {"fwd", "bwd-data", "bwd-weights"};
        for (int d = 0; d < 3; d++) {
            if (d == 1 && i == 0) continue; /* the first layer's input needs no gradient */
            if (d == 0) TIME_BEST(t, 0.3 * secs, lk_conv_forward(&cv, x, wt, bias, LK_ACT_RELU, 0.f, y, s, T));
            else if (d == 1) TIME_BEST(t, 0.3 * secs, lk_conv_backward_data(&cv, y, wt, dx, s, T));
            else TIME_BEST(t, 0.3 * secs, lk_conv_backward_weights(&cv, x, y, dw, bias, s, T));
            /* OpenBLAS on the GEMMs of the same direction: one call per image, as im2col+GEMM does */
            if (d == 0) TIME_BEST(tb, 0.2 * secs, for (int n = 0; n < batch; n++)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, li.c, P, KK, 1.f, wt, KK, A, P, 0.f, Cm, P));
            else if (d == 1) TIME_BEST(tb, 0.2 * secs, for (int n = 0; n < batch; n++)
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, KK, P, li.c, 1.f, wt, KK, y, P, 0.f, Cm, P));
            else TIME_BEST(tb, 0.2 * secs, for (int n = 0; n < batch; n++)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, li.c, KK, P, 1.f, y, P, A, P, 1.f, dw, KK));
            layer_row *r = &R->rows[R->nrows++];
            snprintf(r->name, sizeof r->name, "%s", li.name);
            r->dir = dirs[d];
            r->gflops = flops / t / 1e9;
            r->frac = r->gflops / R->peak;
            r->blas_gflops = flops / tb / 1e9;
        }
        free(x); free(y); free(wt); free(dw); free(bias); free(dx); free(s); free(A); free(Cm);
    }

    /* ---- whole training step */
    lo_opt_config oc = {.kind = LO_OPT_SGD, .momentum = 0.9f};
    lo_opt *opt = lo_opt_create(net, &oc);
    int32_t *labels = malloc(sizeof(int32_t) * (size_t)batch);
    for (int i = 0; i < batch; i++) labels[i] = i & 1;
#define STEP() do { lo_net_zero_grad(net); lo_net_forward(net, 1); lo_net_loss_softmax_ce(net, 0, labels, NULL); \
                    lo_net_backward(net); lo_opt_step(opt, net, 1e-3f); } while (0)
    STEP(); STEP();
    int steps = 0;
    double t0 = now(), c0 = cpu_seconds();
    while (now() - t0 < secs || steps < 3) { STEP(); steps++; }
    double dt = (now() - t0) / steps;
    R->train_ips_cpu = batch * steps / ((cpu_seconds() - c0) / T);
    R->step_ms = dt * 1e3;
    R->train_ips = batch / dt;
    /* where the time goes */
    lo_net_profile_enable(net, cpu_clock ? 2 : 1);
    for (int i = 0; i < 3; i++) STEP();
    for (int i = 0; i < lo_net_layer_count(net) && i < 64; i++) {
        lo_net_layer_info_t li;
        lo_net_layer_info(net, i, &li);
        snprintf(R->prof_name[i], 64, "%s%s", li.name, li.fused ? "(fused)" : "");
        R->prof_fwd[i] = li.t_fwd / 3;
        R->prof_bwd[i] = (li.t_bwd_data + li.t_bwd_w) / 3;
        R->prof_bwd_w[i] = li.t_bwd_w / 3;
        R->prof_total += R->prof_fwd[i] + R->prof_bwd[i];
        R->nprof = i + 1;
    }
    lo_net_profile_enable(net, 0);
    lo_opt_free(opt);
    free(labels);
    lo_net_free(net);

    /* ---- inference */
    cfg.training = 0;
    net = lo_net_create(json, &cfg, err, sizeof err);
    if (!net) { fprintf(stderr, "lookout-bench: %s\n", err); return -1; }
    fill(lo_net_input(net), (size_t)b * c * h * w, 1);
    lo_net_forward(net, 0);
    steps = 0;
    t0 = now();
    c0 = cpu_seconds();
    while (now() - t0 < secs || steps < 3) { lo_net_forward(net, 0); steps++; }
    R->infer_ips = batch * steps / (now() - t0);
    R->infer_ips_cpu = batch * steps / ((cpu_seconds() - c0) / T);
    lo_net_free(net);
    return 0;
}

static void print_text(const result *R, int size, int batch, int T)
{
    printf("\n== %dx%d batch %d, %d thread%s, path %s: FMA peak %.1f GFLOP/s\n", size, size, batch, T,
           T > 1 ? "s" : "", lk_path_name(), R->peak);
    printf("  %-8s %-12s %9s %8s %12s\n", "layer", "direction", "GFLOP/s", "of peak", "sgemm GF/s");
    for (int i = 0; i < R->nrows; i++)
        printf("  %-8s %-12s %9.1f %7.1f%% %12.1f\n", R->rows[i].name, R->rows[i].dir, R->rows[i].gflops,
               100 * R->rows[i].frac, R->rows[i].blas_gflops);
    printf("  training step: %.1f ms = %.1f img/s;  inference: %.1f img/s\n", R->step_ms, R->train_ips, R->infer_ips);
    printf("  per CPU-second per thread: training %.1f img/s, inference %.1f img/s\n", R->train_ips_cpu, R->infer_ips_cpu);
    printf("  step breakdown (profiled):\n");
    for (int i = 0; i < R->nprof; i++)
        printf("    %-14s fwd %7.2f ms  bwd %7.2f ms (weights %6.2f)  %4.1f%%\n", R->prof_name[i], R->prof_fwd[i] * 1e3,
               R->prof_bwd[i] * 1e3, R->prof_bwd_w[i] * 1e3, 100 * (R->prof_fwd[i] + R->prof_bwd[i]) / R->prof_total);
}

static void print_json(const result *R, const char *netname, int size, int batch, int T)
{
    printf("{\"net\":\"%s\",\"size\":%d,\"batch\":%d,\"threads\":%d,\"path\":\"%s\",\"peak_gflops\":%.2f,"
           "\"train_img_per_s\":%.2f,\"infer_img_per_s\":%.2f,\"train_step_ms\":%.3f,"
           "\"train_img_per_cpu_s\":%.2f,\"infer_img_per_cpu_s\":%.2f,\"layers\":[",
           netname, size, batch, T, lk_path_name(), R->peak, R->train_ips, R->infer_ips, R->step_ms,
           R->train_ips_cpu, R->infer_ips_cpu);
    for (int i = 0; i < R->nrows; i++)
        printf("%s{\"name\":\"%s\",\"direction\":\"%s\",\"gflops\":%.2f,\"fraction_of_peak\":%.4f,\"sgemm_gflops\":%.2f}",
               i ? "," : "", R->rows[i].name, R->rows[i].dir, R->rows[i].gflops, R->rows[i].frac, R->rows[i].blas_gflops);
    printf("],\"breakdown_ms\":[");
    for (int i = 0; i < R->nprof; i++)
        printf("%s{\"layer\":\"%s\",\"fwd\":%.3f,\"bwd\":%.3f,\"bwd_weights\":%.3f}", i ? "," : "", R->prof_name[i], R->prof_fwd[i] * 1e3, R->prof_bwd[i] * 1e3, R->prof_bwd_w[i] * 1e3);
    printf("]}\n");
}

int main(int argc, char **argv)
{
    const char *netpath = LOOKOUT_SOURCE_DIR "/models/bench-ref.json";
    int size = 0, batch = 32, threads = 0, json = 0;
    double secs = 1.0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--net") && i + 1 < argc) netpath = argv[++i];
        else if (!strcmp(argv[i], "--size") && i + 1 < argc) size = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) secs = atof(argv[++i]);
        else if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strcmp(argv[i], "--cpu-time")) cpu_clock = 1;
        else {
            fprintf(stderr, "usage: %s [--net FILE] [--size N] [--batch B] [--threads T] [--seconds S] [--json] [--cpu-time]\n", argv[0]);
            return 2;
        }
    }
    if (batch < 1 || size < 0 || threads < 0 || !(secs > 0)) { fprintf(stderr, "lookout-bench: bad --batch/--size/--threads/--seconds\n"); return 2; }
    char *js = read_file(netpath);
    if (!js) { fprintf(stderr, "lookout-bench: cannot read %s\n", netpath); return 1; }
    int sizes[2] = {128, 224}, nsizes = 2, ths[2] = {1, 2}, nths = 2;
    if (size) { sizes[0] = size; nsizes = 1; }
    if (threads) { ths[0] = threads; nths = 1; }
    const char *base = strrchr(netpath, '/');
    base = base ? base + 1 : netpath;
    int rc = 0;
    if (json && nsizes * nths > 1) printf("[");
    for (int si = 0; si < nsizes; si++)
        for (int ti = 0; ti < nths; ti++) {
            static result R;
            if (run_config(js, sizes[si], batch, ths[ti], secs, &R) != 0) { rc = 1; continue; }
            if (json) { if (si + ti) printf(","); print_json(&R, base, sizes[si], batch, ths[ti]); }
            else print_text(&R, sizes[si], batch, ths[ti]);
            fflush(stdout);
        }
    if (json && nsizes * nths > 1) printf("]\n");
    free(js);
    return rc;
}
