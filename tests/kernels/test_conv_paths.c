/* Every convolution path against the plain-C reference on random odd shapes, all three directions.
 * Tolerance: max |path - ref| <= 2e-4 * max(1, max |ref|) (float accumulation vs the reference's
 * double accumulation over up to a few thousand terms). */
#include "kernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned rng = 12345;
static float frand(void) { rng = rng * 1664525u + 1013904223u; return (float)((rng >> 8) & 0xffff) / 32768.f - 1.f; }
static void fill(float *p, size_t n) { for (size_t i = 0; i < n; i++) p[i] = frand(); }

static int failures = 0;

static void compare(const char *what, const char *path, const lk_conv *c, const float *ref,
                    const float *got, size_t n)
{
    double mx = 1, err = 0;
    for (size_t i = 0; i < n; i++) {
        if (fabs(ref[i]) > mx) mx = fabs(ref[i]);
        double e = fabs((double)ref[i] - got[i]);
        if (!(e <= err)) err = e; /* NaN sticks */
    }
    if (!(err <= 2e-4 * mx)) {
        printf("FAIL %s %s n%d cin%d %dx%d cout%d k%d s%d p%d: max err %.3g (scale %.3g)\n", what, path,
               c->n, c->cin, c->h, c->w, c->cout, c->k, c->stride, c->pad, err, mx);
        failures++;
    }
}

int main(void)
{
    /* n, cin, h, w, cout, k, stride, pad */
    static const int shapes[][8] = {
        {2, 1, 9, 11, 4, 3, 1, 1},   {2, 3, 15, 13, 16, 3, 2, 1}, {1, 17, 7, 9, 5, 3, 2, 1},
        {3, 16, 12, 12, 32, 3, 2, 1}, {2, 5, 10, 7, 7, 5, 1, 2},  {1, 3, 23, 21, 9, 7, 2, 3},
        {2, 8, 6, 6, 24, 1, 1, 0},   {2, 9, 11, 11, 3, 1, 2, 0},  {1, 33, 9, 9, 17, 3, 1, 1},
        {2, 64, 7, 7, 64, 3, 2, 1},  {1, 2, 5, 5, 1, 5, 1, 0},    {1, 4, 31, 3, 8, 3, 2, 1},
        {1, 19, 6, 5, 40, 5, 2, 2},  {2, 1, 1, 1, 3, 1, 1, 0},    {1, 48, 14, 14, 20, 3, 1, 1},
        {2, 3, 50, 47, 8, 3, 1, 1},  {5, 4, 20, 15, 6, 3, 1, 1},  {2, 5, 45, 41, 9, 3, 2, 1},
        {2, 4, 17, 19, 5, 5, 3, 2},  {1, 2, 9, 1100, 3, 3, 1, 1},
        /* 3x3 stride 2 pad 1 with several bwd-data panels (rows first written in one panel and
         * added to in the next), odd and even sizes */
        {1, 16, 61, 59, 8, 3, 2, 1}, {2, 3, 100, 99, 4, 3, 2, 1},
        /* the direct 3x3 path (1-3 outputs): the map head's shape, no/wide padding, rows of
         * several register blocks, fewer rows than a task's block, one image or many */
        {3, 48, 20, 18, 1, 3, 1, 1}, {2, 5, 9, 70, 2, 3, 1, 0}, {1, 7, 13, 129, 3, 3, 1, 2},
        {17, 4, 3, 5, 1, 3, 1, 1},   {2, 24, 40, 40, 1, 3, 1, 1},
        /* small planes, several images per GEMM (forward, bwd-data): groups with leftovers,
         * several k blocks, bwd-data row blocks short of KK, stride 2 (fused fold) and 3 */
        {16, 32, 7, 7, 24, 3, 1, 1}, {5, 24, 14, 14, 40, 3, 2, 1}, {3, 20, 5, 5, 12, 3, 1, 1},
        {7, 40, 9, 9, 13, 3, 1, 1},  {16, 128, 7, 7, 20, 3, 1, 1}, {16, 96, 14, 14, 17, 3, 2, 1},
        {4, 24, 10, 10, 30, 3, 1, 1}, {6, 8, 11, 11, 10, 5, 3, 2}, {16, 8, 7, 7, 12, 5, 1, 2},
        /* the direct 3x3 path for more outputs (planes where >= 80 % of the computed positions
         * are kept): compact-fcn's stride-1 trunk at small batch, rows that are no multiple of a
         * vector (13, 21, 25, 30, 33, 44, 57), outputs no multiple of a register block (6) or of a
         * weight-gradient block (3), one input channel, pad 0 and 2, several image groups of
         * unequal size (and a group count that does not divide among the threads), 96 outputs */
        {2, 24, 56, 56, 24, 3, 1, 1}, {2, 48, 28, 28, 48, 3, 1, 1}, {2, 96, 20, 21, 96, 3, 1, 1},
        {2, 3, 40, 13, 7, 3, 1, 1},   {3, 5, 40, 30, 13, 3, 1, 0}, {2, 9, 30, 40, 10, 3, 1, 2},
        {1, 3, 29, 57, 7, 3, 1, 1},   {2, 1, 32, 33, 11, 3, 1, 1}, {5, 4, 24, 25, 17, 3, 1, 1},
        {7, 3, 30, 30, 5, 3, 1, 1},   {3, 16, 45, 44, 20, 3, 1, 1}, {1, 24, 40, 40, 4, 3, 1, 1},
    };
    const int nshapes = (int)(sizeof shapes / sizeof shapes[0]);
    int tested_paths = 0;
    for (int p = LK_PATH_BLAS; p <= LK_PATH_AVX512; p++) {
        if (!lk_path_supported((lk_path)p)) { printf("skip %s: not supported by this CPU\n", lk_path_str((lk_path)p)); continue; }
        tested_paths++;
        for (int s = 0; s < nshapes; s++) {
            const int *d = shapes[s];
            lk_conv c;
            if (lk_conv_init(&c, d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]) != 0) { printf("bad shape %d\n", s); return 1; }
            size_t nx = (size_t)c.n * c.cin * c.h * c.w, ny = (size_t)c.n * c.cout * c.oh * c.ow;
            size_t nw = (size_t)c.cout * c.cin * c.k * c.k;
            for (int threads = 1; threads <= 2; threads++) {
                size_t ns = lk_conv_scratch_floats(&c, threads);
                float *x = malloc(nx * 4), *w = malloc(nw * 4), *b = malloc((size_t)c.cout * 4), *dy = malloc(ny * 4);
                float *y0 = malloc(ny * 4), *y1 = malloc(ny * 4), *dx0 = malloc(nx * 4), *dx1 = malloc(nx * 4);
                float *dw0 = malloc(nw * 4), *dw1 = malloc(nw * 4), *db0 = malloc((size_t)c.cout * 4), *db1 = malloc((size_t)c.cout * 4);
                float *scratch = malloc((ns ? ns : 1) * 4);
                fill(x, nx); fill(w, nw); fill(b, (size_t)c.cout); fill(dy, ny);
                for (int act = 0; act < 3; act++) {
                    lk_conv_forward_path(LK_PATH_REF, &c, x, w, act == 1 ? NULL : b, (lk_act)act, 0.1f, y0, scratch, threads);
                    memset(y1, 0xff, ny * 4); /* NaN: every output must be written */
                    lk_conv_forward_path((lk_path)p, &c, x, w, act == 1 ? NULL : b, (lk_act)act, 0.1f, y1, scratch, threads);
                    compare("forward", lk_path_str((lk_path)p), &c, y0, y1, ny);
                }
                /* backward adds: start both from the same non-zero content */
                fill(dx0, nx); memcpy(dx1, dx0, nx * 4);
                fill(dw0, nw); memcpy(dw1, dw0, nw * 4);
                fill(db0, (size_t)c.cout); memcpy(db1, db0, (size_t)c.cout * 4);
                lk_conv_backward_data_path(LK_PATH_REF, &c, dy, w, dx0, scratch, threads);
                lk_conv_backward_data_path((lk_path)p, &c, dy, w, dx1, scratch, threads);
                compare("bwd-data", lk_path_str((lk_path)p), &c, dx0, dx1, nx);
                /* fused: overwrite (+ activation mask; y = random signs stands in for relu output) */
                for (int act = 0; act < 3; act++) {
                    fill(dx0, nx); memset(dx1, 0xff, nx * 4);
                    lk_conv_backward_data_ex_path(LK_PATH_REF, &c, dy, w, dx0, 0, (lk_act)act, 0.1f, x, scratch, threads);
                    lk_conv_backward_data_ex_path((lk_path)p, &c, dy, w, dx1, 0, (lk_act)act, 0.1f, x, scratch, threads);
                    compare(act == 0 ? "bwd-data-overwrite" : act == 1 ? "bwd-data+relu" : "bwd-data+leaky", lk_path_str((lk_path)p), &c, dx0, dx1, nx);
                }
                lk_conv_backward_weights_path(LK_PATH_REF, &c, x, dy, dw0, db0, scratch, threads);
                lk_conv_backward_weights_path((lk_path)p, &c, x, dy, dw1, db1, scratch, threads);
                compare("bwd-weights", lk_path_str((lk_path)p), &c, dw0, dw1, nw);
                compare("bwd-bias", lk_path_str((lk_path)p), &c, db0, db1, (size_t)c.cout);
                free(x); free(w); free(b); free(dy); free(y0); free(y1); free(dx0); free(dx1);
                free(dw0); free(dw1); free(db0); free(db1); free(scratch);
            }
        }
    }
    printf("%d paths x %d shapes x 2 thread counts: %d failures\n", tested_paths, nshapes, failures);
    return failures ? 1 : 0;
}
