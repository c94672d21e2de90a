/* optim.c — parameter updates over flat buffers, PyTorch semantics so results are comparable. */
#include "conv_internal.h"

#include <math.h>

void lk_sgd_step(size_t count, float *p, const float *g, float *v, float lr, float momentum,
                 float weight_decay)
{
    for (size_t i = 0; i < count; i++) {
        float d = g[i] + weight_decay * p[i];
        v[i] = momentum * v[i] + d;
        p[i] -= lr * v[i];
    }
}

void lk_adamw_step(size_t count, float *p, const float *g, float *m, float *v, int64_t t, float lr,
                   float beta1, float beta2, float eps, float weight_decay)
{
    const float bc1 = 1.f - powf(beta1, (float)t), bc2 = 1.f - powf(beta2, (float)t);
    const float step = lr / bc1, rbc2 = 1.f / sqrtf(bc2);
    for (size_t i = 0; i < count; i++) {
        p[i] -= lr * weight_decay * p[i];
        m[i] = beta1 * m[i] + (1.f - beta1) * g[i];
        v[i] = beta2 * v[i] + (1.f - beta2) * g[i] * g[i];
        p[i] -= step * m[i] / (sqrtf(v[i]) * rbc2 + eps);
    }
}
