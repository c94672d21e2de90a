/* elementwise.c — activations, sums and zeroing over flat buffers. */
#include "conv_internal.h"

#include <math.h>
#include <string.h>

/* Small tensors stay on one thread; one-thread work never enters OpenMP (libgomp allocates a team
 * for every 1-thread region, and a training step must not touch the heap). */
#define EW_LOOP(count, threads, stmt)                                                            \
    do {                                                                                         \
        const int lk_nt_ = (count) > 65536 ? lk__threads(threads) : 1;                           \
        if (lk_nt_ > 1) {                                                                        \
            _Pragma("omp parallel for num_threads(lk_nt_) schedule(static)")                    \
            for (size_t i = 0; i < (count); i++) { stmt; }                                       \
        } else {                                                                                 \
            for (size_t i = 0; i < (count); i++) { stmt; }                                       \
        }                                                                                        \
    } while (0)

void lk_act_forward(lk_act act, float slope, size_t count, const float *x, float *y, int threads)
{
    if (act == LK_ACT_RELU) EW_LOOP(count, threads, y[i] = x[i] > 0.f ? x[i] : 0.f);
    else if (act == LK_ACT_LEAKY) EW_LOOP(count, threads, y[i] = x[i] > 0.f ? x[i] : x[i] * slope);
    else if (x != y) memcpy(y, x, count * sizeof(float));
}

void lk_act_backward(lk_act act, float slope, size_t count, const float *y, const float *dy,
                     float *dx, int threads)
{
    if (act == LK_ACT_RELU) EW_LOOP(count, threads, dx[i] += y[i] > 0.f ? dy[i] : 0.f);
    /* slope > 0 keeps the sign, so the output tells which side the input was on. */
    else if (act == LK_ACT_LEAKY) EW_LOOP(count, threads, dx[i] += y[i] > 0.f ? dy[i] : dy[i] * slope);
    else EW_LOOP(count, threads, dx[i] += dy[i]);
}

void lk_act_backward_set(lk_act act, float slope, size_t count, const float *y, const float *dy,
                         float *dx, int threads)
{
    if (act == LK_ACT_RELU) EW_LOOP(count, threads, dx[i] = y[i] > 0.f ? dy[i] : 0.f);
    else if (act == LK_ACT_LEAKY) EW_LOOP(count, threads, dx[i] = y[i] > 0.f ? dy[i] : dy[i] * slope);
    else memcpy(dx, dy, count * sizeof(float));
}

void lk_sigmoid_forward(size_t count, const float *x, float *y, int threads)
{
    EW_LOOP(count, threads, y[i] = 1.f / (1.f + expf(-x[i])));
}

void lk_sigmoid_backward(size_t count, const float *y, const float *dy, float *dx, int threads)
{
    EW_LOOP(count, threads, dx[i] += dy[i] * y[i] * (1.f - y[i]));
}

void lk_add(size_t count, const float *x, float *y, int threads)
{
    EW_LOOP(count, threads, y[i] += x[i]);
}

void lk_zero(size_t count, float *y, int threads)
{
    (void)threads;
    memset(y, 0, count * sizeof(float));
}
