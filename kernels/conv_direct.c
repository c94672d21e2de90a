/* conv_direct.c — when the direct 3x3 kernels (conv_direct_impl.h) take a layer, and their scratch. */
#include "conv_internal.h"

/* Up to 3 output channels: a GEMM tile of 8 rows is then at most 3/8 useful, and its unfold is
 * read at most 3 times. Stride 1 only (the heads that have few outputs keep the map's size). */
int lk__conv_direct_ok(const lk_conv *c) { return c->k == 3 && c->stride == 1 && c->cout <= 3; }

/* More outputs, stride 1: the GEMM then reads an unfold 9x the input (and for 16-48 outputs runs
 * few register tiles), where the direct kernel reads the padded input itself but also computes the
 * positions on the padding (2 columns a row, 2 rows an image) and drops them. Measured on 2 cores
 * (AVX-512, batch 1 and 16, 16-96 channels): all three directions beat the GEMM from 20x20 planes
 * (83 % of the computed positions kept) up, and lose at 16x16 and below (79 %) except by a few
 * percent here and there; so: at least 80 % kept, and no more outputs than measured. */
int lk__conv_dm_ok(const lk_conv *c)
{
    if (c->k != 3 || c->stride != 1 || c->cout <= 3 || c->cout > 96) return 0;
    return (long)c->oh * c->ow * 5 >= (long)(c->oh + 2) * (c->ow + 2) * 4;
}

static size_t up(size_t x, size_t m) { return (x + m - 1) / m * m; }

/* Images are stacked until a task's plane is ~2048 positions (small planes: fewer, longer runs and
 * less rounding waste); group gi holds images [gi*n/ngroups, (gi+1)*n/ngroups), at most G. Depends
 * on the shape only: the weight gradient sums per group, so its rounding must not follow the
 * thread count. */
void lk__dm_geom_get(int n, int hi, int wi, int pad, lk__dm_geom *g)
{
    g->hp = hi + 2 * pad;
    g->ld = wi + 2 * pad;
    const size_t plane = (size_t)g->hp * g->ld;
    int gmax = (int)((2048 + plane - 1) / plane);
    gmax = gmax < 1 ? 1 : gmax > n ? n : gmax;
    g->ngroups = (n + gmax - 1) / gmax;
    g->G = (n + g->ngroups - 1) / g->ngroups;
    g->span = (size_t)g->G * plane;
    /* outputs of the last image end 2 rows before its padded plane does */
    g->qr = up(g->span - 2 * (size_t)g->ld, LK_DM_Q);
    g->cs = up(g->span + 2 * (size_t)g->ld + 2 + LK_DM_Q, 16);
}

/* mirrors conv_direct_impl.h's dm_run (packed weights, then per thread the padded inputs and the
 * staged outputs) for nin -> nout planes of hi x wi padded by pad */
static size_t dm_run_scratch(int n, int nin, int hi, int wi, int pad, int nout, int threads)
{
    lk__dm_geom g;
    lk__dm_geom_get(n, hi, wi, pad, &g);
    const size_t rows = up((size_t)nout, LK_DM_CO);
    return up(rows * nin * 9, 16) + (size_t)threads * ((size_t)nin * g.cs + rows * g.qr);
}

static size_t dm_scratch(const lk_conv *c, int threads)
{
    const size_t f = dm_run_scratch(c->n, c->cin, c->h, c->w, c->pad, c->cout, threads);
    const size_t d = dm_run_scratch(c->n, c->cout, c->oh, c->ow, 2 - c->pad, c->cin, threads);
    /* the weight gradient: per group partials, then per thread x and dy */
    lk__dm_geom g;
    lk__dm_geom_get(c->n, c->h, c->w, c->pad, &g);
    const size_t wts = (size_t)g.ngroups * up((size_t)c->cout * c->cin * 9 + c->cout, 16) +
                       (size_t)threads * ((size_t)c->cin * g.cs + (size_t)c->cout * up(g.span, LK_DM_Q));
    const size_t m = f > d ? f : d;
    return m > wts ? m : wts;
}

size_t lk__conv_scratch_direct(const lk_conv *c, int threads)
{
    if (lk__conv_dm_ok(c)) return dm_scratch(c, threads);
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
