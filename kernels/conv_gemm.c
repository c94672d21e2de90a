/* conv_gemm.c — convolution on our own GEMM kernels (AVX-512 or AVX2, see conv_avx*.c).
 *
 * Why a GEMM micro-kernel and not a blocked-layout direct convolution: the network keeps NCHW at
 * every boundary (BN, pooling, the dataset and the model file all speak NCHW), and one register
 * tile serves all three directions and every kernel size/stride. The im2col is never materialized
 * for a whole image: it is unfolded panel by panel (a few hundred output positions x 128 rows)
 * into a per-thread buffer that stays in L2 while the kernel streams over it.
 *
 *   forward      y[co][p]   = W[co][r] * col[r][p]      A = packed W, B = col panel, epilogue
 *                                                         adds bias and applies the activation
 *   bwd-data     dcol[r][p] = W^T[r][co] * dy[co][p]    A = packed W^T, B = dy, then col2im
 *   bwd-weights  dW[co][r] += sum_p dy[co][p] col[r][p] dot kernel over long rows, per-thread
 *                                                         partial dW reduced at the end
 * Work is split over (image, panel) for forward/bwd-weights and over images for bwd-data
 * (col2im of neighbouring panels overlaps). Small planes run several whole images side by side in
 * one panel instead (see group_small and w_group). */
#include "conv_internal.h"

#include <omp.h>
#include <string.h>

#define MR_MAX 8
#define KC_F 192 /* most rows per forward k block; blocks are balanced (144 = 1 x 144, not 128 + 16) */
#define NC_F 256
#define KC_W 64
#define NC_W 1024

static int is_pointwise(const lk_conv *c) { return c->k == 1 && c->stride == 1 && c->pad == 0; }
static size_t up16(size_t x) { return (x + 15) & ~(size_t)15; }

static int nc_data(const lk_conv *c)
{
    int kk = c->cin * c->k * c->k;
    int nc = (98304 / kk) & ~15;
    return nc < 64 ? 64 : nc > 512 ? 512 : nc;
}

static size_t pack_floats(const lk_conv *c)
{
    size_t kk = (size_t)c->cin * c->k * c->k;
    size_t a = ((size_t)c->cout + MR_MAX) * kk, b = (kk + MR_MAX) * (size_t)c->cout;
    return up16(a > b ? a : b);
}

static size_t panel_floats(const lk_conv *c)
{
    size_t kk = (size_t)c->cin * c->k * c->k;
    size_t f = (size_t)KC_F * NC_F, d = kk * (size_t)(nc_data(c) + 16), w = (size_t)KC_W * (NC_W + 16);
    size_t m = f > d ? f : d;
    return up16(m > w ? m : w);
}

/* Weight gradients of small planes (P < 512, e.g. 14x14) gather several images into one panel so
 * the dot products run over >= 512 positions instead of P (short dots are all reduction). */
#define W_GROUP_LEN 1024
static int w_group(const lk_conv *c, int threads)
{
    int P = c->oh * c->ow;
    if (P >= 512) return 1;
    int gmax = W_GROUP_LEN / P;
    gmax = gmax < 1 ? 1 : gmax > c->n ? c->n : gmax;
    /* Fewest images on the busiest thread, among groups at least half the longest: 32 images
     * of 14x14 in groups of 5 made 7 tasks, 4 on one thread and 3 on the other. */
    int best = gmax, best_cost = -1;
    for (int g = gmax; g >= 1 && 2 * g >= gmax; g--) {
        int tasks = (c->n + g - 1) / g, cost = ((tasks + threads - 1) / threads) * g;
        if (best_cost < 0 || cost < best_cost) { best = g; best_cost = cost; }
    }
    return best;
}

/* Forward and bwd-data of small planes (P <= NC_F: 14x14, 7x7, ...) gather G whole images into one
 * panel of G*P columns. A register tile is 48 columns (16 with AVX2) whatever its fill, so one 7x7
 * image (P = 49) costs two tiles for 51 % useful work, and 8 images side by side 9 tiles for 91 %.
 * At most W_GROUP_LEN columns: the per-thread C (forward) or dy panel (bwd-data) lives in the
 * grouped dy part of priv_floats. G minimizes the tiles on the busiest thread (schedule(static)
 * gives the first ntask % T threads one task more), ties to the smaller group; 1 = per image.
 * Pointwise layers read B straight from x / write dx directly and stay per image. */
static int group_small(const lk__isa *isa, const lk_conv *c, int threads)
{
    const int P = c->oh * c->ow, nr = isa->nr;
    if (P > NC_F || is_pointwise(c)) return 1;
    const int gmax = W_GROUP_LEN / P < c->n ? W_GROUP_LEN / P : c->n;
    int best = 1;
    long best_cost = -1;
    for (int g = 1; g <= gmax; g++) {
        const int ntask = (c->n + g - 1) / g, q = ntask / threads, r = ntask % threads;
        long cost = 0;
        for (int t = 0, t0 = 0; t < threads && t0 < ntask; t++) {
            const int t1 = t0 + q + (t < r);
            long tiles = 0;
            for (int k = t0; k < t1; k++) {
                const int imgs = c->n - k * g < g ? c->n - k * g : g;
                tiles += (imgs * P + nr - 1) / nr;
            }
            cost = tiles > cost ? tiles : cost;
            t0 = t1;
        }
        if (best_cost < 0 || cost < best_cost) { best = g; best_cost = cost; }
    }
    return best;
}

static size_t priv_floats(const lk_conv *c)
{
    /* partial dW + db, then the grouped dy panel */
    return up16((size_t)c->cout * c->cin * c->k * c->k + c->cout) + (size_t)c->cout * (W_GROUP_LEN + 16);
}

size_t lk__conv_scratch_gemm(const lk_conv *c, int threads)
{
    return pack_floats(c) + (size_t)threads * (panel_floats(c) + priv_floats(c));
}

/* A slivers of `mr` rows: ap[s][k][r] = M[row s*mr + r][k], zero past `rows`. */
static void pack_rows(const float *m, int rows, int cols, size_t rs, size_t cs, int mr, float *ap)
{
    for (int s = 0; s * mr < rows; s++)
        for (int k = 0; k < cols; k++)
            for (int r = 0; r < mr; r++) {
                int row = s * mr + r;
                ap[((size_t)s * cols + k) * mr + r] = row < rows ? m[(size_t)row * rs + (size_t)k * cs] : 0.f;
            }
}

/* Everything a worker needs; workers use orphaned `omp for`, so the same function runs inside a
 * parallel region or, for one thread, without entering OpenMP at all (no team allocation). */
typedef struct {
    const lk__isa *isa;
    const lk_conv *c;
    const float *x, *w, *bias, *dy, *act_y;
    float *y, *dx, *dw, *db, *ap, *panels;
    lk_act act;
    float slope;
    int accumulate;
    size_t pstride;
} job;

static void run(void (*fn)(const job *), const job *j, int T)
{
    if (T > 1) {
#pragma omp parallel num_threads(T)
        fn(j);
    } else {
        fn(j);
    }
}

/* G images per task (group_small): each k block unfolds the G images side by side, the GEMM runs
 * over all G*P columns into a per-thread C, and each image's rows are copied out at the end. */
static void forward_grouped(const job *j, int G)
{
    const lk_conv *c = j->c;
    const int MR = j->isa->mr, KK = c->cin * c->k * c->k, P = c->oh * c->ow, M = c->cout;
    const int ntask = (c->n + G - 1) / G, ld = (int)up16((size_t)G * P);
    const size_t xplane = (size_t)c->cin * c->h * c->w;
    float *col = j->panels + (size_t)omp_get_thread_num() * j->pstride, *cg = col + panel_floats(c);
    /* balanced k blocks of at most KC_F rows that fit the panel buffer at ld columns */
    const int kmax = panel_floats(c) / (size_t)ld < KC_F ? (int)(panel_floats(c) / (size_t)ld) : KC_F;
    const int nkb = (KK + kmax - 1) / kmax, kstep = (KK + nkb - 1) / nkb;
#pragma omp for schedule(static)
    for (int t = 0; t < ntask; t++) {
        const int n0 = t * G, g = c->n - n0 < G ? c->n - n0 : G;
        for (int k0 = 0; k0 < KK; k0 += kstep) {
            const int kc = KK - k0 < kstep ? KK - k0 : kstep;
            for (int i = 0; i < g; i++)
                j->isa->im2col(c, j->x + (size_t)(n0 + i) * xplane, k0, kc, 0, P, col + (size_t)i * P, ld);
            lk__gemm_args a;
            a.b = col; a.ldb = (size_t)ld;
            a.kc = kc; a.ldc = (size_t)ld; a.nc = g * P;
            a.accumulate = k0 > 0;
            a.epilogue = k0 + kc == KK;
            a.act = j->act; a.slope = j->slope;
            for (int s = 0; s * MR < M; s++) {
                a.ap = j->ap + ((size_t)s * KK + k0) * MR;
                a.c = cg + (size_t)s * MR * ld;
                a.mr = M - s * MR < MR ? M - s * MR : MR;
                a.bias = j->bias ? j->bias + s * MR : NULL;
                j->isa->gemm(&a);
            }
        }
        for (int i = 0; i < g; i++)
            for (int co = 0; co < M; co++)
                memcpy(j->y + ((size_t)(n0 + i) * M + co) * P, cg + (size_t)co * ld + (size_t)i * P,
                       (size_t)P * sizeof(float));
    }
}

static void forward_worker(const job *j)
{
    const lk_conv *c = j->c;
    const int G = group_small(j->isa, c, omp_get_num_threads());
    if (G > 1) {
        forward_grouped(j, G);
        return;
    }
    const int MR = j->isa->mr, KK = c->cin * c->k * c->k, P = c->oh * c->ow;
    /* Short reductions (the first layer: 27 rows) get proportionally wider panels in the same
     * buffer: fewer, longer GEMM calls. Whole output rows per panel when they fit (the unfold's
     * fast path). */
    int ncf = KK >= KC_F ? NC_F : (KC_F * NC_F / KK) & ~15;
    ncf = ncf > 2048 ? 2048 : ncf < NC_F ? NC_F : ncf;
    const int NC = c->ow <= ncf ? (ncf / c->ow) * c->ow : ncf;
    const int npan = (P + NC - 1) / NC, ntask = c->n * npan, pw = is_pointwise(c);
    float *col = j->panels + (size_t)omp_get_thread_num() * j->pstride;
#pragma omp for schedule(static)
    for (int t = 0; t < ntask; t++) {
        const int n = t / npan, p0 = (t % npan) * NC;
        const int np = P - p0 < NC ? P - p0 : NC;
        const float *xn = j->x + (size_t)n * c->cin * c->h * c->w;
        float *yn = j->y + (size_t)n * c->cout * P;
        const int nkb = (KK + KC_F - 1) / KC_F, kstep = (KK + nkb - 1) / nkb;
        for (int k0 = 0; k0 < KK; k0 += kstep) {
            const int kc = KK - k0 < kstep ? KK - k0 : kstep;
            lk__gemm_args g;
            if (pw) {
                g.b = xn + (size_t)k0 * P + p0;
                g.ldb = (size_t)P;
            } else {
                j->isa->im2col(c, xn, k0, kc, p0, np, col, ncf);
                g.b = col;
                g.ldb = (size_t)ncf;
            }
            g.kc = kc; g.ldc = (size_t)P; g.nc = np;
            g.accumulate = k0 > 0;
            g.epilogue = k0 + kc == KK;
            g.act = j->act; g.slope = j->slope;
            for (int s = 0; s * MR < c->cout; s++) {
                g.ap = j->ap + ((size_t)s * KK + k0) * MR;
                g.c = yn + (size_t)s * MR * P + p0;
                g.mr = c->cout - s * MR < MR ? c->cout - s * MR : MR;
                g.bias = j->bias ? j->bias + s * MR : NULL;
                j->isa->gemm(&g);
            }
        }
    }
}

void lk__conv_forward_gemm(const lk__isa *isa, const lk_conv *c, const float *x, const float *w,
                           const float *bias, lk_act act, float slope, float *y, float *scratch,
                           int threads)
{
    const int KK = c->cin * c->k * c->k;
    job j = {.isa = isa, .c = c, .x = x, .w = w, .bias = bias, .y = y, .act = act, .slope = slope,
             .ap = scratch, .panels = scratch + pack_floats(c), .pstride = panel_floats(c) + priv_floats(c)};
    pack_rows(w, c->cout, KK, (size_t)KK, 1, isa->mr, j.ap);
    run(forward_worker, &j, lk__threads(threads));
}

/* rows [a, b) of every channel of one image's input gradient */
static void rows_zero(const job *j, float *dxn, int a, int b)
{
    const lk_conv *c = j->c;
    for (int ci = 0; ci < c->cin; ci++)
        memset(dxn + ((size_t)ci * c->h + a) * c->w, 0, (size_t)(b - a) * c->w * sizeof(float));
}

static void rows_mask(const job *j, float *dxn, const float *yn, int a, int b)
{
    const lk_conv *c = j->c;
    for (int ci = 0; ci < c->cin; ci++) {
        const size_t off = ((size_t)ci * c->h + a) * c->w;
        j->isa->mask_act(dxn + off, yn + off, (size_t)(b - a) * c->w, j->act, j->slope);
    }
}

/* G images per task (group_small): their dy side by side is B, and dcol of all G images is computed
 * in blocks of rows that fit the panel buffer, each folded back image by image. Blocks of whole input
 * channels (a multiple of mr and of k*k rows) fold as a convolution of those channels alone, so the
 * isa's fused fold (3x3 stride 2: overwrite and mask in the fold, one pass per input row) still runs:
 * 14x14 -> 7x7 gained 15 % with row-range folds, 60 % with these. Otherwise (lcm(mr, k*k) rows do not
 * fit) blocks are row ranges, and overwrite zeroes and masks whole planes. */
static void backward_data_grouped(const job *j, int G)
{
    const lk_conv *c = j->c;
    const int MR = j->isa->mr, KK = c->cin * c->k * c->k, P = c->oh * c->ow, M = c->cout, kk2 = c->k * c->k;
    const int ntask = (c->n + G - 1) / G, ld = (int)up16((size_t)G * P);
    const size_t plane = (size_t)c->cin * c->h * c->w, cplane = (size_t)c->h * c->w;
    float *dcol = j->panels + (size_t)omp_get_thread_num() * j->pstride, *dyg = dcol + panel_floats(c);
    int unit = MR;
    while (unit % kk2) unit += MR;
    int rb = (int)(panel_floats(c) / (size_t)ld);
    rb = rb >= KK ? KK : rb >= unit ? rb / unit * unit : rb / MR * MR;
    const int whole = rb % kk2 == 0, ovw = !j->accumulate;
#pragma omp for schedule(static)
    for (int t = 0; t < ntask; t++) {
        const int n0 = t * G, g = c->n - n0 < G ? c->n - n0 : G;
        float *dx0 = j->dx + (size_t)n0 * plane;
        const float *y0 = j->act != LK_ACT_NONE ? j->act_y + (size_t)n0 * plane : NULL;
        for (int co = 0; co < M; co++)
            for (int i = 0; i < g; i++)
                memcpy(dyg + (size_t)co * ld + (size_t)i * P, j->dy + ((size_t)(n0 + i) * M + co) * P,
                       (size_t)P * sizeof(float));
        if (ovw && !whole) memset(dx0, 0, (size_t)g * plane * sizeof(float));
        for (int r0 = 0; r0 < KK; r0 += rb) {
            const int rows = KK - r0 < rb ? KK - r0 : rb;
            lk__gemm_args a = {0};
            a.kc = M; a.b = dyg; a.ldb = (size_t)ld; a.nc = g * P; a.ldc = (size_t)ld;
            for (int s = r0 / MR; s * MR < r0 + rows; s++) {
                a.ap = j->ap + (size_t)s * M * MR;
                a.mr = KK - s * MR < MR ? KK - s * MR : MR;
                a.c = dcol + (size_t)(s * MR - r0) * ld;
                j->isa->gemm(&a);
            }
            lk_conv sub = *c; /* the block's input channels */
            sub.cin = rows / kk2;
            const size_t off = (size_t)(r0 / kk2) * cplane, len = (size_t)sub.cin * cplane;
            for (int i = 0; i < g; i++) {
                const float *src = dcol + (size_t)i * P;
                float *dxi = dx0 + (size_t)i * plane;
                if (!whole) {
                    j->isa->col2im(c, src, ld, r0, rows, 0, P, dxi);
                    continue;
                }
                const float *yi = y0 ? y0 + (size_t)i * plane + off : NULL;
                if (j->isa->fold_fused &&
                    j->isa->fold_fused(&sub, src, ld, 0, P, dxi + off, ovw, j->act, j->slope, yi) == 0)
                    continue;
                if (ovw) memset(dxi + off, 0, len * sizeof(float));
                j->isa->col2im(&sub, src, ld, 0, rows, 0, P, dxi + off);
                if (yi) j->isa->mask_act(dxi + off, yi, len, j->act, j->slope);
            }
        }
        if (!whole && y0) j->isa->mask_act(dx0, y0, (size_t)g * plane, j->act, j->slope);
    }
}

static void backward_data_worker(const job *j)
{
    const lk_conv *c = j->c;
    const int G = group_small(j->isa, c, omp_get_num_threads());
    if (G > 1) {
        backward_data_grouped(j, G);
        return;
    }
    const int MR = j->isa->mr, KK = c->cin * c->k * c->k, P = c->oh * c->ow;
    const int NCD = nc_data(c), ldd = NCD + 16, pw = is_pointwise(c);
    const int NC = c->ow <= NCD ? (NCD / c->ow) * c->ow : NCD; /* whole rows when they fit */
    float *dcol = j->panels + (size_t)omp_get_thread_num() * j->pstride;
#pragma omp for schedule(static)
    for (int n = 0; n < c->n; n++) {
        const float *dyn = j->dy + (size_t)n * c->cout * P;
        const size_t plane = (size_t)c->cin * c->h * c->w;
        float *dxn = j->dx + (size_t)n * plane;
        /* Overwrite: input rows are zeroed just before the first panel that folds into them,
         * and the activation mask is applied to rows as soon as no later panel adds to them:
         * both passes then touch rows the fold has in cache (whole-plane passes cost as much as
         * the fold itself on the wider layers). */
        const int fold_zero = !j->accumulate && !pw, fold_mask = j->act != LK_ACT_NONE && !pw;
        int zero_hi = 0, mask_hi = 0;
        for (int p0 = 0; p0 < P; p0 += NC) {
            const int np = P - p0 < NC ? P - p0 : NC;
            lk__gemm_args g = {0};
            g.kc = c->cout; g.b = dyn + p0; g.ldb = (size_t)P; g.nc = np;
            for (int s = 0; s * MR < KK; s++) {
                g.ap = j->ap + (size_t)s * c->cout * MR;
                g.mr = KK - s * MR < MR ? KK - s * MR : MR;
                if (pw) { /* dx is the col matrix itself: write straight into it */
                    g.c = dxn + (size_t)s * MR * P + p0; g.ldc = (size_t)P; g.accumulate = j->accumulate;
                } else {
                    g.c = dcol + (size_t)s * MR * ldd; g.ldc = (size_t)ldd; g.accumulate = 0;
                }
                j->isa->gemm(&g);
            }
            if (pw) continue;
            if (j->isa->fold_fused &&
                j->isa->fold_fused(c, dcol, ldd, p0, np, dxn, !j->accumulate, j->act, j->slope,
                                   j->act ? j->act_y + (size_t)n * plane : NULL) == 0) {
                zero_hi = mask_hi = c->h; /* done by the fold itself */
                continue;
            }
            if (fold_zero) {
                int hi = ((p0 + np - 1) / c->ow) * c->stride + c->k - c->pad;
                hi = hi > c->h ? c->h : hi;
                if (hi > zero_hi) rows_zero(j, dxn, zero_hi, hi);
                zero_hi = hi > zero_hi ? hi : zero_hi;
            }
            j->isa->col2im(c, dcol, ldd, 0, KK, p0, np, dxn);
            if (fold_mask) {
                /* rows below the next panel's first input row are final */
                int done = p0 + np >= P ? c->h : ((p0 + np) / c->ow) * c->stride - c->pad;
                done = done > c->h ? c->h : done;
                if (fold_zero && done > zero_hi) done = zero_hi;
                if (done > mask_hi) rows_mask(j, dxn, j->act_y + (size_t)n * plane, mask_hi, done);
                mask_hi = done > mask_hi ? done : mask_hi;
            }
        }
        if (fold_zero && zero_hi < c->h) rows_zero(j, dxn, zero_hi, c->h); /* rows no output reads */
        if (fold_mask && mask_hi < c->h) rows_mask(j, dxn, j->act_y + (size_t)n * plane, mask_hi, c->h);
        if (pw && j->act != LK_ACT_NONE) j->isa->mask_act(dxn, j->act_y + (size_t)n * plane, plane, j->act, j->slope);
    }
}

void lk__conv_backward_data_gemm(const lk__isa *isa, const lk_conv *c, const float *dy,
                                 const float *w, float *dx, int accumulate, lk_act act,
                                 float slope, const float *act_y, float *scratch, int threads)
{
    const int KK = c->cin * c->k * c->k;
    job j = {.isa = isa, .c = c, .dy = dy, .w = w, .dx = dx, .accumulate = accumulate, .act = act,
             .slope = slope, .act_y = act_y, .ap = scratch, .panels = scratch + pack_floats(c),
             .pstride = panel_floats(c) + priv_floats(c)};
    pack_rows(w, KK, c->cout, 1, (size_t)KK, isa->mr, j.ap); /* rows of W^T */
    run(backward_data_worker, &j, lk__threads(threads));
}

static void backward_weights_worker(const job *j)
{
    const lk_conv *c = j->c;
    const int KK = c->cin * c->k * c->k, P = c->oh * c->ow, M = c->cout;
    const int G = w_group(c, omp_get_num_threads());
    /* a task is a column panel of one image, or (G > 1) G whole images side by side */
    const int NCW = c->ow <= NC_W ? (NC_W / c->ow) * c->ow : NC_W; /* whole rows when they fit */
    const int NC = G > 1 ? P : (P < NCW ? P : NCW);
    const int npan = G > 1 ? 1 : (P + NC - 1) / NC;
    const int ntask = G > 1 ? (c->n + G - 1) / G : c->n * npan, pw = is_pointwise(c);
    const int ldc = (int)up16((size_t)(G > 1 ? G * P : NC));
    const size_t wn = (size_t)M * KK;
    const int nth = omp_get_num_threads(), me = omp_get_thread_num();
    float *col = j->panels + (size_t)me * j->pstride;
    float *dwp = col + panel_floats(c), *dbp = dwp + wn;
    float *dyg = dwp + up16(wn + (size_t)M);
    memset(dwp, 0, (wn + (size_t)M) * sizeof(float));
#pragma omp for schedule(static)
    for (int t = 0; t < ntask; t++) {
        const float *a;
        size_t lda;
        int len;
        if (G > 1) {
            const int n0 = t * G, g = c->n - n0 < G ? c->n - n0 : G;
            for (int co = 0; co < M; co++)
                for (int i = 0; i < g; i++)
                    memcpy(dyg + (size_t)co * ldc + (size_t)i * P, j->dy + ((size_t)(n0 + i) * M + co) * P, (size_t)P * sizeof(float));
            len = g * P;
            a = dyg;
            lda = (size_t)ldc;
            for (int k0 = 0; k0 < KK; k0 += KC_W) {
                const int kc = KK - k0 < KC_W ? KK - k0 : KC_W;
                for (int i = 0; i < g; i++)
                    j->isa->im2col(c, j->x + (size_t)(n0 + i) * c->cin * c->h * c->w, k0, kc, 0, P, col + (size_t)i * P, ldc);
                j->isa->dot(M, kc, len, a, lda, col, (size_t)ldc, dwp + k0, (size_t)KK);
            }
        } else {
            const int n = t / npan, p0 = (t % npan) * NC;
            len = P - p0 < NC ? P - p0 : NC;
            const float *xn = j->x + (size_t)n * c->cin * c->h * c->w;
            a = j->dy + (size_t)n * M * P + p0;
            lda = (size_t)P;
            for (int k0 = 0; k0 < KK; k0 += KC_W) {
                const int kc = KK - k0 < KC_W ? KK - k0 : KC_W;
                if (pw) {
                    j->isa->dot(M, kc, len, a, lda, xn + (size_t)k0 * P + p0, (size_t)P, dwp + k0, (size_t)KK);
                } else {
                    j->isa->im2col(c, xn, k0, kc, p0, len, col, ldc);
                    j->isa->dot(M, kc, len, a, lda, col, (size_t)ldc, dwp + k0, (size_t)KK);
                }
            }
        }
        if (j->db) j->isa->row_sums(M, len, a, lda, dbp);
    }
    /* the implicit barrier above: every partial is complete */
#pragma omp for schedule(static)
    for (size_t i = 0; i < wn + (size_t)M; i++) {
        float s = 0.f;
        for (int t = 0; t < nth; t++) s += (j->panels + (size_t)t * j->pstride + panel_floats(c))[i];
        if (i < wn) j->dw[i] += s;
        else if (j->db) j->db[i - wn] += s;
    }
}

void lk__conv_backward_weights_gemm(const lk__isa *isa, const lk_conv *c, const float *x,
                                    const float *dy, float *dw, float *db, float *scratch,
                                    int threads)
{
    job j = {.isa = isa, .c = c, .x = x, .dy = dy, .dw = dw, .db = db, .ap = scratch,
             .panels = scratch + pack_floats(c), .pstride = panel_floats(c) + priv_floats(c)};
    run(backward_weights_worker, &j, lk__threads(threads));
}
