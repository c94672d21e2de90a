/* dataset_import — wall time to import whole datasets (read, check, fully decode, copy) and then
 * to decode + resize every imported image once for training (224x224, the model's channels).
 * Wall and process CPU seconds are both printed: the CPU figure holds up on a shared machine.
 * Usage: dataset_import [SHARED_DATA_DIR]   (threads: OMP_NUM_THREADS) */
#include "dataset.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* internal helper of the dataset module, declared here to clean up */
void lds_rm_rf(const char *path);

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void run(const char *data, const char *name, const char *tmp)
{
    char src[2048], dst[2048];
    snprintf(src, sizeof src, "%s/%s", data, name);
    snprintf(dst, sizeof dst, "%s/ds", tmp);
    lds_rm_rf(dst);
    lds_error warn = {{0}}, err;
    double c0 = cpu_now(), t0 = now();
    if (lds_import_folder(dst, src, &warn, &err) != 0) {
        fprintf(stderr, "import %s: %s\n", name, err.message);
        exit(1);
    }
    double t_import = now() - t0, c_import = cpu_now() - c0;
    lds_set *set;
    if (lds_open(dst, &set, &err) != 0) {
        fprintf(stderr, "%s\n", err.message);
        exit(1);
    }
    const int S = 224;
    size_t plane = (size_t)S * S * (size_t)set->channels;
    float *buf = malloc(sizeof(float) * plane * (size_t)omp_get_max_threads());
    int failed = 0;
    c0 = cpu_now();
    t0 = now();
#pragma omp parallel for schedule(dynamic, 4) reduction(+ : failed)
    for (long i = 0; i < (long)set->n; i++) {
        lds_error e;
        float *out = buf + plane * (size_t)omp_get_thread_num();
        failed += lds_load_image(set->entries[i].image_path, set->channels, S, S, out, &e) != 0;
    }
    double t_decode = now() - t0, c_decode = cpu_now() - c0;
    printf("%-14s %5zu images  import %6.2f s wall, %6.2f s CPU (%6.1f img/s)   decode+resize to %dx%dx%d %5.2f s "
           "wall, %5.2f s CPU (%6.1f img/s)%s\n",
           name, set->n, t_import, c_import, (double)set->n / t_import, S, S, set->channels, t_decode, c_decode,
           (double)set->n / t_decode, failed ? "  FAILURES" : "");
    free(buf);
    lds_free(set);
    lds_rm_rf(dst);
}

int main(int argc, char **argv)
{
    const char *data = argc > 1 ? argv[1] : LDS_BENCH_DATA;
    char tmpl[] = "/tmp/lds-bench-XXXXXX";
    char *tmp = mkdtemp(tmpl);
    if (!tmp) return 1;
    printf("dataset_import: %d thread(s) (OMP_NUM_THREADS), data %s\n", omp_get_max_threads(), data);
    run(data, "magnetic_tile", tmp);
    run(data, "cookies/train", tmp);
    run(data, "cookies/test", tmp);
    lds_rm_rf(tmp);
    return 0;
}
