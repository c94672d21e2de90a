/* conv_internal.h — private seams between the convolution front (conv.c) and its paths. */
#ifndef LOOKOUT_CONV_INTERNAL_H
#define LOOKOUT_CONV_INTERNAL_H
#include "kernels.h"
#include <omp.h>

int lk__threads(int threads); /* <= 0 -> all */

/* for (type i = 0; i < N; i++) BODY on T threads. One thread never enters OpenMP: libgomp
 * allocates a team for every 1-thread region, and a training step must not touch the heap. */
#define LK_PFOR(T, type, i, N, ...)                                                              \
    do {                                                                                         \
        const int lk_nt_ = (T);                                                                  \
        const type lk_n_ = (N);                                                                  \
        if (lk_nt_ > 1) {                                                                        \
            _Pragma("omp parallel for num_threads(lk_nt_) schedule(static)")                    \
            for (type i = 0; i < lk_n_; i++) __VA_ARGS__                                         \
        } else {                                                                                 \
            for (type i = 0; i < lk_n_; i++) __VA_ARGS__                                         \
        }                                                                                        \
    } while (0)

/* im2col of one image restricted to rows [k0, k0+kc) (row = (ci*k + ky)*k + kx) and output
 * positions [p0, p0+np); dst row stride ldd. col2im adds the same panel back into dx. */
void lk__im2col_panel(const lk_conv *c, const float *x, int k0, int kc, int p0, int np,
                      float *dst, int ldd);
void lk__col2im_panel(const lk_conv *c, const float *src, int lds, int k0, int kc, int p0, int np,
                      float *dx);
/* dx = act'(y) * dx over n floats (after an overwriting gradient pass). */
void lk__mask_act(float *dx, const float *y, size_t n, lk_act act, float slope);
void lk__bias_act_rows(float *y, int rows, int ld, int cols, const float *bias, lk_act act,
                       float slope);

void lk__conv_forward_ref(const lk_conv *c, const float *x, const float *w, const float *bias,
                          lk_act act, float slope, float *y, int threads);
void lk__conv_backward_data_ref(const lk_conv *c, const float *dy, const float *w, float *dx,
                                int threads);
void lk__conv_backward_weights_ref(const lk_conv *c, const float *x, const float *dy, float *dw,
                                   float *db, int threads);

size_t lk__conv_scratch_blas(const lk_conv *c, int threads);
void lk__conv_forward_blas(const lk_conv *c, const float *x, const float *w, const float *bias,
                           lk_act act, float slope, float *y, float *scratch, int threads);
void lk__conv_backward_data_blas(const lk_conv *c, const float *dy, const float *w, float *dx,
                                 float *scratch, int threads);
void lk__conv_backward_weights_blas(const lk_conv *c, const float *x, const float *dy, float *dw,
                                    float *db, float *scratch, int threads);

/* Own-GEMM paths (conv_gemm.c drives, conv_avx512.c / conv_avx2.c supply the inner kernels). */
typedef struct {
    int kc;                 /* reduction length */
    const float *ap;        /* packed A sliver: [kc][mr_max], rows past `mr` are zero */
    const float *b;         /* B rows: b + k*ldb, `nc` columns */
    size_t ldb;
    float *c;               /* C rows: c + r*ldc */
    size_t ldc;
    int mr, nc;             /* valid rows (<= isa mr) and columns */
    int accumulate;         /* 0: C = A*B, 1: C += A*B */
    int epilogue;           /* apply bias/act after the product (last k block) */
    const float *bias;      /* per row, may be NULL */
    lk_act act;
    float slope;
} lk__gemm_args;

typedef struct {
    int mr;                 /* rows of a packed A sliver */
    int nr;                 /* columns of a register tile (a tail tile costs a whole one) */
    void (*gemm)(const lk__gemm_args *a);
    /* C[i][j] += sum_p A[i*lda + p] * B[j*ldb + p], i < m, j < n, p < len */
    void (*dot)(int m, int n, int len, const float *a, size_t lda, const float *b, size_t ldb,
                float *c, size_t ldc);
    /* lk__im2col_panel / lk__col2im_panel compiled for this ISA */
    void (*im2col)(const lk_conv *c, const float *x, int k0, int kc, int p0, int np, float *dst,
                   int ldd);
    void (*col2im)(const lk_conv *c, const float *src, int lds, int k0, int kc, int p0, int np,
                   float *dx);
    void (*mask_act)(float *dx, const float *y, size_t n, lk_act act, float slope);
    /* out[i] += sum_p A[i*lda + p], i < m, p < len (bias gradients: a scalar loop here is a
     * 4-cycle add chain per element, which cost the first layer more than its dot products) */
    void (*row_sums)(int m, int len, const float *a, size_t lda, float *out);
    /* col2im of a whole-row panel covering all KK rows, overwriting rows on their first
     * contribution (overwrite = 1) and applying act'(act_y) per contribution (act != NONE):
     * returns -1 (nothing done) for shapes it does not handle. NULL: none. */
    int (*fold_fused)(const lk_conv *c, const float *src, int lds, int p0, int np, float *dx,
                      int overwrite, lk_act act, float slope, const float *act_y);
    /* direct 3x3 stride-1 convolution for few output channels (conv_direct_impl.h), taken
     * when lk__conv_direct_ok */
    void (*direct_forward)(const lk_conv *c, const float *x, const float *w, const float *bias,
                           lk_act act, float slope, float *y, float *scratch, int threads);
    void (*direct_backward_data)(const lk_conv *c, const float *dy, const float *w, float *dx,
                                 int accumulate, lk_act act, float slope, const float *act_y,
                                 float *scratch, int threads);
    void (*direct_backward_weights)(const lk_conv *c, const float *x, const float *dy, float *dw,
                                    float *db, float *scratch, int threads);
    /* direct 3x3 stride-1 convolution for many output channels (conv_direct_impl.h), taken when
     * lk__conv_dm_ok; dm_backward_weights may be NULL (the GEMM's is faster on that isa) */
    void (*dm_forward)(const lk_conv *c, const float *x, const float *w, const float *bias, lk_act act,
                       float slope, float *y, float *scratch, int threads);
    void (*dm_backward_data)(const lk_conv *c, const float *dy, const float *w, float *dx, int accumulate,
                             lk_act act, float slope, const float *act_y, float *scratch, int threads);
    void (*dm_backward_weights)(const lk_conv *c, const float *x, const float *dy, float *dw, float *db,
                                float *scratch, int threads);
} lk__isa;

extern const lk__isa lk__isa_avx512;
int lk__conv_direct_ok(const lk_conv *c);
size_t lk__conv_scratch_direct(const lk_conv *c, int threads);

/* The many-output direct path: the shapes it takes (all directions; the weight gradient only where
 * the isa has one), and its blocking (shared by the ISA files and the scratch sizing, so both see
 * the same numbers). */
int lk__conv_dm_ok(const lk_conv *c);
#define LK_DM_CO 6  /* output channels per register block (packed weights come in these) */
#define LK_DM_Q 64  /* positions are computed in multiples of this (every ISA's block divides it) */
typedef struct {
    int hp, ld;     /* a padded input plane: rows, and the row stride shared with the outputs */
    int G, ngroups; /* images stacked in one task's buffer, and how many such groups */
    size_t span;    /* G * hp * ld */
    size_t qr;      /* stacked output positions computed per channel, rounded up to LK_DM_Q */
    size_t cs;      /* channel stride of the padded buffer: the last block's reach stays inside */
} lk__dm_geom;
/* stride-1 3x3 convolution of n images of hi x wi planes padded by pad */
void lk__dm_geom_get(int n, int hi, int wi, int pad, lk__dm_geom *g);
extern const lk__isa lk__isa_avx2;

size_t lk__conv_scratch_gemm(const lk_conv *c, int threads);
void lk__conv_forward_gemm(const lk__isa *isa, const lk_conv *c, const float *x, const float *w,
                           const float *bias, lk_act act, float slope, float *y, float *scratch,
                           int threads);
void lk__conv_backward_data_gemm(const lk__isa *isa, const lk_conv *c, const float *dy,
                                 const float *w, float *dx, int accumulate, lk_act act,
                                 float slope, const float *act_y, float *scratch, int threads);
void lk__conv_backward_weights_gemm(const lk__isa *isa, const lk_conv *c, const float *x,
                                    const float *dy, float *dw, float *db, float *scratch,
                                    int threads);

#endif
