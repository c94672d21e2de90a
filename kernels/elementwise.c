/* elementwise.c — activations, sums and zeroing over flat buffers. */
#include "conv_internal.h"

#include <math.h>
#include <string.h>

#define PAR _Pragma("omp parallel for num_threads(lk__threads(threads)) schedule(static) if(count > 65536)")

void lk_act_forward(lk_act act, float slope, size_t count, const float *x, float *y, int threads)
{
    if (act == LK_ACT_RELU) {
        PAR for (size_t i = 0; i < count; i++) y[i] = x[i] > 0.f ? x[i] : 0.f;
    } else if (act == LK_ACT_LEAKY) {
        PAR for (size_t i = 0; i < count; i++) y[i] = x[i] > 0.f ? x[i] : x[i] * slope;
    } else if (x != y) {
        memcpy(y, x, count * sizeof(float));
    }
}

void lk_act_backward(lk_act act, float slope, size_t count, const float *y, const float *dy,
                     float *dx, int threads)
{
    if (act == LK_ACT_RELU) {
        PAR for (size_t i = 0; i < count; i++) dx[i] += y[i] > 0.f ? dy[i] : 0.f;
    } else if (act == LK_ACT_LEAKY) {
        /* slope > 0 keeps the sign, so the output tells which side the input was on. */
        PAR for (size_t i = 0; i < count; i++) dx[i] += y[i] > 0.f ? dy[i] : dy[i] * slope;
    } else {
        PAR for (size_t i = 0; i < count; i++) dx[i] += dy[i];
    }
}

void lk_sigmoid_forward(size_t count, const float *x, float *y, int threads)
{
    PAR for (size_t i = 0; i < count; i++) y[i] = 1.f / (1.f + expf(-x[i]));
}

void lk_sigmoid_backward(size_t count, const float *y, const float *dy, float *dx, int threads)
{
    PAR for (size_t i = 0; i < count; i++) dx[i] += dy[i] * y[i] * (1.f - y[i]);
}

void lk_add(size_t count, const float *x, float *y, int threads)
{
    PAR for (size_t i = 0; i < count; i++) y[i] += x[i];
}

void lk_zero(size_t count, float *y, int threads)
{
    (void)threads;
    memset(y, 0, count * sizeof(float));
}
