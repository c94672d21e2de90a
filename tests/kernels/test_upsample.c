/* Bilinear and nearest upsampling against a per-pixel reference written from PyTorch's
 * align_corners = false definition, forward and backward, on odd and shrinking shapes, 1 and 2
 * threads. The backward is checked as the adjoint: <up(x), g> == <x, up^T(g)>, and per element
 * against the reference's scatter. */
#include "kernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned rng = 777;
static float frand(void) { rng = rng * 1664525u + 1013904223u; return (float)((rng >> 8) & 0xffff) / 32768.f - 1.f; }

static double src_coord(int o, int in, int out)
{
    double s = (o + 0.5) * in / out - 0.5;
    return s < 0 ? 0 : s;
}

/* the weight output (oy, ox) gives input (iy, ix) */
static double weight(int iy, int ix, int oy, int ox, int h, int w, int oh, int ow, int nearest)
{
    if (nearest) {
        int ny = (int)floor((double)oy * h / oh), nx = (int)floor((double)ox * w / ow);
        if (ny > h - 1) ny = h - 1;
        if (nx > w - 1) nx = w - 1;
        return ny == iy && nx == ix;
    }
    double sy = src_coord(oy, h, oh), sx = src_coord(ox, w, ow);
    int y0 = (int)sy, x0 = (int)sx;
    if (y0 > h - 1) y0 = h - 1;
    if (x0 > w - 1) x0 = w - 1;
    int y1 = y0 + 1 < h ? y0 + 1 : h - 1, x1 = x0 + 1 < w ? x0 + 1 : w - 1;
    double fy = sy - y0, fx = sx - x0, wy = 0, wx = 0;
    if (iy == y0) wy += 1 - fy;
    if (iy == y1) wy += fy;
    if (ix == x0) wx += 1 - fx;
    if (ix == x1) wx += fx;
    return wy * wx;
}

int main(void)
{
    static const int shapes[][4] = {{7, 7, 14, 14}, {14, 14, 28, 28}, {5, 9, 19, 21}, {1, 1, 4, 3},
                                    {9, 6, 4, 5},   {3, 8, 3, 16},    {28, 20, 56, 40}, {2, 3, 7, 2}};
    int failures = 0;
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
        for (int nearest = 0; nearest < 2; nearest++)
            for (int threads = 1; threads <= 2; threads++) {
                int n = 2, c = 3, h = shapes[si][0], w = shapes[si][1], oh = shapes[si][2], ow = shapes[si][3];
                size_t in = (size_t)n * c * h * w, out = (size_t)n * c * oh * ow;
                float *x = malloc(in * sizeof *x), *y = malloc(out * sizeof *y);
                float *g = malloc(out * sizeof *g), *dx = malloc(in * sizeof *dx);
                for (size_t i = 0; i < in; i++) x[i] = frand();
                for (size_t i = 0; i < out; i++) g[i] = frand();
                for (size_t i = 0; i < in; i++) dx[i] = 0.5f; /* the backward adds to dx */
                lk_upsample_mode mode = nearest ? LK_UPSAMPLE_NEAREST : LK_UPSAMPLE_BILINEAR;
                lk_upsample_forward(mode, n, c, h, w, oh, ow, x, y, threads);
                lk_upsample_backward(mode, n, c, h, w, oh, ow, g, dx, threads);
                /* the resize as a matrix, weight[o][i], output pixel o from input pixel i: the
                 * forward is weight x, the backward adds weight^T g */
                size_t np_in = (size_t)h * w, np_out = (size_t)oh * ow;
                double *wt = malloc(np_out * np_in * sizeof *wt), *yref = malloc(np_out * sizeof *yref);
                double *dref = malloc(np_in * sizeof *dref);
                for (size_t o = 0; o < np_out; o++)
                    for (size_t i = 0; i < np_in; i++)
                        wt[o * np_in + i] = weight((int)(i / w), (int)(i % w), (int)(o / ow), (int)(o % ow), h, w, oh,
                                                   ow, nearest);
                double err_f = 0, err_b = 0;
                for (int p = 0; p < n * c; p++) {
                    const float *xp = x + (size_t)p * np_in, *gp = g + (size_t)p * np_out;
                    for (size_t i = 0; i < np_in; i++) dref[i] = 0.5;
                    for (size_t o = 0; o < np_out; o++) {
                        yref[o] = 0;
                        for (size_t i = 0; i < np_in; i++) {
                            yref[o] += wt[o * np_in + i] * xp[i];
                            dref[i] += wt[o * np_in + i] * gp[o];
                        }
                    }
                    for (size_t o = 0; o < np_out; o++) {
                        double e = fabs(yref[o] - y[(size_t)p * np_out + o]);
                        if (!(e <= err_f)) err_f = e;
                    }
                    for (size_t i = 0; i < np_in; i++) {
                        double e = fabs(dref[i] - dx[(size_t)p * np_in + i]);
                        if (!(e <= err_b)) err_b = e;
                    }
                }
                free(wt), free(yref), free(dref);
                if (!(err_f <= 1e-5) || !(err_b <= 1e-4)) {
                    printf("FAIL %s %dx%d -> %dx%d, %d threads: forward err %.3g, backward err %.3g\n",
                           nearest ? "nearest" : "bilinear", h, w, oh, ow, threads, err_f, err_b);
                    failures++;
                }
                free(x), free(y), free(g), free(dx);
            }
    if (failures) return 1;
    printf("upsample: forward and backward match the reference on %zu shapes x 2 modes x 1-2 threads\n",
           sizeof shapes / sizeof shapes[0]);
    return 0;
}
