/* conv_direct.c — when the direct 3x3 kernels (conv_direct_impl.h) take a layer, and their scratch. */
#include "conv_internal.h"

/* Up to 3 output channels: a GEMM tile of 8 rows is then at most 3/8 useful, and its unfold is
 * read at most 3 times. Stride 1 only (the heads that have few outputs keep the map's size). */
int lk__conv_direct_ok(const lk_conv *c) { return c->k == 3 && c->stride == 1 && c->cout <= 3; }

size_t lk__conv_scratch_direct(const lk_conv *c, int threads)
{
    if (!lk__conv_direct_ok(c)) return 0;
    /* mirrors conv_direct_impl.h: padded row blocks (8 rows + reach) a task, the padded dy of
     * the weight gradient, the turned kernels of the data gradient; sized for 16-float vectors,
     * which also covers the 8-float ones */
    const size_t ldo = ((size_t)c->ow + 63) / 64 * 64 + 16, ldi = ((size_t)c->w + 63) / 64 * 64 + 16;
    const size_t fwd = (size_t)threads * ((size_t)c->cin * 10 * ldo + 64);
    const size_t data = ((size_t)c->cin * c->cout * 9 + 15) / 16 * 16 +
                        (size_t)threads * ((size_t)c->cout * 10 * ldi + 64);
    const size_t wts = (size_t)c->n * c->cout * c->oh * (ldo - 16) + (size_t)threads * (c->oh + 2) * ldo;
    size_t m = fwd > data ? fwd : data;
    return m > wts ? m : wts;
}
