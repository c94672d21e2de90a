/* dataset_decode — images/s for the 576x768 cookies JPEGs (bytes already in memory):
 *   stbi        stb_image's own decode (stbi_load_from_memory, RGB)
 *   lds 224     lds_load_image_memory: header check + decode + planar float + area resize to 224x224
 * each at 1 and 2 threads; best of several passes. Besides wall-clock rates it prints images per
 * CPU-second (process CPU time), which stays meaningful when other jobs share the cores.
 * Usage: dataset_decode [SHARED_DATA_DIR] [PASSES] */
#include "dataset.h"

#include <dirent.h>
#include <omp.h>
#include <stb_image.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    unsigned char *data;
    size_t len;
} blob;

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

static int load_dir(const char *dir, blob *out, int n, int cap)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) && n < cap) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".jpg")) continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        FILE *f = fopen(p, "rb");
        if (!f) continue;
        fseek(f, 0, SEEK_END);
        long sz = ftell(f);
        fseek(f, 0, SEEK_SET);
        out[n].data = malloc((size_t)sz);
        out[n].len = fread(out[n].data, 1, (size_t)sz, f);
        fclose(f);
        n++;
    }
    if (d) closedir(d);
    return n;
}

int main(int argc, char **argv)
{
    const char *data = argc > 1 ? argv[1] : LDS_BENCH_DATA;
    int passes = argc > 2 ? atoi(argv[2]) : 3;
    blob imgs[256];
    int n = 0;
    const char *subs[4] = {"train/normal", "train/anomaly", "test/normal", "test/anomaly"};
    for (int s = 0; s < 4; s++) {
        char p[2048];
        snprintf(p, sizeof p, "%s/cookies/%s", data, subs[s]);
        n = load_dir(p, imgs, n, 256);
    }
    if (n == 0) {
        fprintf(stderr, "no cookies JPEGs under %s/cookies\n", data);
        return 1;
    }
    const int S = 224;
    printf("dataset_decode: %d cookies JPEGs (576x768), best of %d passes\n", n, passes);
    for (int threads = 1; threads <= 2; threads++) {
        omp_set_num_threads(threads);
        float *buf = malloc(sizeof(float) * 3 * S * S * (size_t)threads);
        double best_stb = 1e30, best_lds = 1e30, cpu_stb = 1e30, cpu_lds = 1e30;
        int fails = 0;
        for (int p = 0; p < passes; p++) {
            double c0 = cpu_now(), t0 = now();
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : fails)
            for (int i = 0; i < n; i++) {
                int w, h, c;
                unsigned char *px = stbi_load_from_memory(imgs[i].data, (int)imgs[i].len, &w, &h, &c, 3);
                fails += px == NULL;
                stbi_image_free(px);
            }
            double t1 = now(), c1 = cpu_now();
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : fails)
            for (int i = 0; i < n; i++) {
                lds_error e;
                fails += lds_load_image_memory(imgs[i].data, imgs[i].len, "cookie", 3, S, S,
                                               buf + (size_t)3 * S * S * (size_t)omp_get_thread_num(), NULL, NULL, &e) != 0;
            }
            double t2 = now(), c2 = cpu_now();
            if (t1 - t0 < best_stb) best_stb = t1 - t0;
            if (t2 - t1 < best_lds) best_lds = t2 - t1;
            if (c1 - c0 < cpu_stb) cpu_stb = c1 - c0;
            if (c2 - c1 < cpu_lds) cpu_lds = c2 - c1;
        }
        printf("  %d thread%s  stbi decode %7.1f img/s (%6.1f per CPU-s)   lds decode+resize %dx%d %7.1f img/s "
               "(%6.1f per CPU-s)%s\n",
               threads, threads > 1 ? "s" : " ", n / best_stb, n / cpu_stb, S, S, n / best_lds, n / cpu_lds,
               fails ? "  FAILURES" : "");
        free(buf);
    }
    for (int i = 0; i < n; i++) free(imgs[i].data);
    return 0;
}
