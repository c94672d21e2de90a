/* loss.c — softmax cross-entropy (per sample or per pixel) and BCE with logits, numerically
 * stable (max-shifted log-sum-exp, softplus), each adding its gradient into the caller's buffer. */
#include "conv_internal.h"

#include <math.h>

float lk_softmax_ce(int n, int k, int hw, const float *logits, const int32_t *labels,
                    int ignore_label, const float *weights, const float *class_weights,
                    float *grad)
{
    double loss = 0, norm = 0;
    for (int i = 0; i < n; i++)
        for (int p = 0; p < hw; p++) {
            int lab = labels[(size_t)i * hw + p];
            if (lab == ignore_label || lab < 0 || lab >= k) continue;
            float wgt = (weights ? weights[i] : 1.f) * (class_weights ? class_weights[lab] : 1.f);
            norm += wgt;
        }
    if (norm <= 0) return 0.f;
    const float inv = (float)(1.0 / norm);
    for (int i = 0; i < n; i++)
        for (int p = 0; p < hw; p++) {
            int lab = labels[(size_t)i * hw + p];
            if (lab == ignore_label || lab < 0 || lab >= k) continue;
            float wgt = (weights ? weights[i] : 1.f) * (class_weights ? class_weights[lab] : 1.f);
            const float *z = logits + (size_t)i * k * hw + p;
            float *g = grad + (size_t)i * k * hw + p;
            float mx = z[0];
            for (int j = 1; j < k; j++) mx = z[(size_t)j * hw] > mx ? z[(size_t)j * hw] : mx;
            double se = 0;
            for (int j = 0; j < k; j++) se += exp((double)z[(size_t)j * hw] - mx);
            double lse = mx + log(se);
            loss += wgt * (lse - z[(size_t)lab * hw]);
            for (int j = 0; j < k; j++) {
                float pj = (float)exp((double)z[(size_t)j * hw] - lse);
                g[(size_t)j * hw] += wgt * inv * (pj - (j == lab ? 1.f : 0.f));
            }
        }
    return (float)(loss / norm);
}

float lk_bce_logits(size_t count, const float *logits, const float *targets,
                    const float *weights, float *grad)
{
    if (count == 0) return 0.f;
    double loss = 0;
    const float inv = 1.f / (float)count;
    for (size_t i = 0; i < count; i++) {
        float z = logits[i], t = targets[i], wgt = weights ? weights[i] : 1.f;
        /* log(1+e^z) - t*z, written to never overflow */
        double sp = z > 0 ? z + log1p(exp(-(double)z)) : log1p(exp((double)z));
        loss += wgt * (sp - (double)t * z);
        float s = 1.f / (1.f + expf(-z));
        grad[i] += wgt * inv * (s - t);
    }
    return (float)(loss / (double)count);
}
