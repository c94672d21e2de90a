/* linear.c — fully connected layer; classifier heads are tiny, so plain loops suffice. */
#include "conv_internal.h"

void lk_linear_forward(int n, int in, int out, const float *x, const float *w, const float *b,
                       float *y)
{
    for (int i = 0; i < n; i++)
        for (int o = 0; o < out; o++) {
            const float *xr = x + (size_t)i * in, *wr = w + (size_t)o * in;
            float s = 0.f;
            for (int j = 0; j < in; j++) s += xr[j] * wr[j];
            y[(size_t)i * out + o] = s + (b ? b[o] : 0.f);
        }
}

void lk_linear_backward(int n, int in, int out, const float *x, const float *w, const float *dy,
                        float *dx, float *dw, float *db)
{
    for (int i = 0; i < n; i++)
        for (int o = 0; o < out; o++) {
            const float g = dy[(size_t)i * out + o];
            const float *xr = x + (size_t)i * in, *wr = w + (size_t)o * in;
            float *dwr = dw + (size_t)o * in;
            for (int j = 0; j < in; j++) dwr[j] += g * xr[j];
            if (dx) {
                float *dxr = dx + (size_t)i * in;
                for (int j = 0; j < in; j++) dxr[j] += g * wr[j];
            }
            if (db) db[o] += g;
        }
}
