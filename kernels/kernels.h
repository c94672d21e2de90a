/* kernels.h — the one public header of kernels/: the math a compact CNN needs to train and infer.
 *
 * Conventions
 *   - Tensors are NCHW float32, contiguous.
 *   - Every backward function ADDS into its gradient outputs (dx, dw, db, ...): a tensor read by
 *     several layers collects all contributions, and parameter gradients accumulate until zeroed.
 *   - `threads` is the OpenMP thread count to use (<= 0: all). Nothing here allocates except
 *     lk_arena_create; callers hand in scratch sized by the matching *_scratch_floats function.
 *   - Convolution has four paths (see lk_path); the rest is plain C the compiler vectorizes.
 */
#ifndef LOOKOUT_KERNELS_H
#define LOOKOUT_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* ---- Convolution paths, chosen by CPUID, overridable by LOOKOUT_KERNELS=avx512|avx2|blas|ref. */
typedef enum { LK_PATH_REF = 0, LK_PATH_BLAS = 1, LK_PATH_AVX2 = 2, LK_PATH_AVX512 = 3 } lk_path;
lk_path lk_path_get(void);            /* the path in use (first call reads the environment) */
int lk_path_set(lk_path path);        /* -1 when this CPU cannot run it */
int lk_path_supported(lk_path path);
const char *lk_path_str(lk_path path);
int lk_path_parse(const char *name, lk_path *out); /* -1 for an unknown name */
/* Name of the convolution path in use: "avx512", "avx2", "blas" or "ref". */
const char *lk_path_name(void);

/* ---- Arena: one mapping (hugepage-advised), bump allocation, 64-byte aligned, never shrinks. */
typedef struct lk_arena lk_arena;
lk_arena *lk_arena_create(size_t bytes);
void *lk_arena_alloc(lk_arena *arena, size_t bytes); /* NULL when full */
size_t lk_arena_used(const lk_arena *arena);
size_t lk_arena_capacity(const lk_arena *arena);
void lk_arena_free(lk_arena *arena);

/* ---- 2-D convolution (dilation 1, zero padding, square kernel). */
typedef struct {
    int n, cin, h, w;   /* input */
    int cout, k, stride, pad;
    int oh, ow;         /* output, filled by lk_conv_init */
} lk_conv;
typedef enum { LK_ACT_NONE = 0, LK_ACT_RELU = 1, LK_ACT_LEAKY = 2 } lk_act;

int lk_conv_init(lk_conv *conv, int n, int cin, int h, int w, int cout, int k, int stride, int pad);
/* Scratch (floats) any path needs for this shape at this thread count. */
size_t lk_conv_scratch_floats(const lk_conv *conv, int threads);
/* y = act(conv(x, w) + bias); w is [cout][cin][k][k]; bias may be NULL. */
void lk_conv_forward(const lk_conv *conv, const float *x, const float *w, const float *bias,
                     lk_act act, float slope, float *y, float *scratch, int threads);
void lk_conv_backward_data(const lk_conv *conv, const float *dy, const float *w, float *dx,
                           float *scratch, int threads);
/* The gradient through this convolution AND the activation that produced its input, in one pass:
 * g = conv_transpose(dy) * act'(act_y) (act_y: the activation's output, shaped like dx);
 * accumulate = 0 overwrites dx (no zeroing pass needed), 1 adds (then act must be LK_ACT_NONE). */
void lk_conv_backward_data_ex(const lk_conv *conv, const float *dy, const float *w, float *dx,
                              int accumulate, lk_act act, float slope, const float *act_y,
                              float *scratch, int threads);
/* db may be NULL (no bias). */
void lk_conv_backward_weights(const lk_conv *conv, const float *x, const float *dy, float *dw,
                              float *db, float *scratch, int threads);
/* Same operations on an explicit path (tests and benchmarks compare paths with these). */
void lk_conv_forward_path(lk_path path, const lk_conv *conv, const float *x, const float *w,
                          const float *bias, lk_act act, float slope, float *y, float *scratch,
                          int threads);
void lk_conv_backward_data_path(lk_path path, const lk_conv *conv, const float *dy, const float *w,
                                float *dx, float *scratch, int threads);
void lk_conv_backward_data_ex_path(lk_path path, const lk_conv *conv, const float *dy,
                                   const float *w, float *dx, int accumulate, lk_act act,
                                   float slope, const float *act_y, float *scratch, int threads);
void lk_conv_backward_weights_path(lk_path path, const lk_conv *conv, const float *x,
                                   const float *dy, float *dw, float *db, float *scratch,
                                   int threads);

/* ---- Elementwise. */
void lk_act_forward(lk_act act, float slope, size_t count, const float *x, float *y, int threads);
/* dx += dy * act'(y) (uses the OUTPUT y: relu/leaky keep the sign of their input). */
void lk_act_backward(lk_act act, float slope, size_t count, const float *y, const float *dy,
                     float *dx, int threads);
/* dx = dy * act'(y) (overwrites: for a tensor with a single consumer, saves zeroing dx). */
void lk_act_backward_set(lk_act act, float slope, size_t count, const float *y, const float *dy,
                         float *dx, int threads);
void lk_sigmoid_forward(size_t count, const float *x, float *y, int threads);
void lk_sigmoid_backward(size_t count, const float *y, const float *dy, float *dx, int threads);
void lk_add(size_t count, const float *x, float *y, int threads); /* y += x */
void lk_zero(size_t count, float *y, int threads);

/* ---- Batch normalization over N*H*W per channel. */
/* Training: batch statistics, saved mean/invstd for backward, running stats updated with momentum
 * (PyTorch convention: run = (1-m)*run + m*batch, running var unbiased). */
/* act: an activation applied in the same pass (BN -> ReLU without a second trip to memory). */
void lk_bn_forward_train(int n, int c, int hw, const float *x, const float *gamma,
                         const float *beta, float *y, float *mean, float *invstd,
                         float *run_mean, float *run_var, float momentum, float eps, lk_act act,
                         float slope, int threads);
/* Inference: running stats; also fills mean/invstd (if non-NULL) for a frozen backward. */
void lk_bn_forward_infer(int n, int c, int hw, const float *x, const float *gamma,
                         const float *beta, const float *run_mean, const float *run_var,
                         float eps, float *y, float *mean, float *invstd, lk_act act,
                         float slope, int threads);
/* frozen = 0: gradient through the batch statistics; 1: statistics treated as constants. */
/* dx may be NULL (input needs no gradient); accumulate = 0 overwrites dx instead of adding.
 * act != LK_ACT_NONE: dy is the gradient of the activation that follows, whose output is act_y;
 * it is taken through act'(act_y) as it is read (no separate masking pass). */
void lk_bn_backward(int n, int c, int hw, const float *x, const float *dy, const float *gamma,
                    const float *mean, const float *invstd, int frozen, float *dx, int accumulate,
                    float *dgamma, float *dbeta, lk_act act, float slope, const float *act_y,
                    int threads);

/* ---- Pooling and resampling. Output sizes: (h + 2*pad - k) / stride + 1. */
void lk_maxpool_forward(int n, int c, int h, int w, int k, int stride, int pad, int oh, int ow,
                        const float *x, float *y, int32_t *argmax, int threads);
void lk_maxpool_backward(int n, int c, int h, int w, int oh, int ow, const float *dy,
                         const int32_t *argmax, float *dx, int threads);
/* Average counts the padding (PyTorch's count_include_pad default). */
void lk_avgpool_forward(int n, int c, int h, int w, int k, int stride, int pad, int oh, int ow,
                        const float *x, float *y, int threads);
void lk_avgpool_backward(int n, int c, int h, int w, int k, int stride, int pad, int oh, int ow,
                         const float *dy, float *dx, int threads);
void lk_gap_forward(int n, int c, int hw, const float *x, float *y, int threads);
void lk_gap_backward(int n, int c, int hw, const float *dy, float *dx, int threads);
/* Mean of the k largest values of each plane; idx [n*c*k] records them; scratch = 2*hw floats a thread. */
void lk_gtopk_forward(int n, int c, int hw, int k, const float *x, float *y, int32_t *idx,
                      float *scratch, int threads);
void lk_gtopk_backward(int n, int c, int hw, int k, const float *dy, const int32_t *idx,
                       float *dx, int threads);
typedef enum { LK_UPSAMPLE_NEAREST = 0, LK_UPSAMPLE_BILINEAR = 1 } lk_upsample_mode;
/* Bilinear uses align_corners = false (PyTorch's default). */
void lk_upsample_forward(lk_upsample_mode mode, int n, int c, int h, int w, int oh, int ow,
                         const float *x, float *y, int threads);
void lk_upsample_backward(lk_upsample_mode mode, int n, int c, int h, int w, int oh, int ow,
                          const float *dy, float *dx, int threads);

/* ---- Fully connected: x [n][in], w [out][in], y [n][out]. */
void lk_linear_forward(int n, int in, int out, const float *x, const float *w, const float *b,
                       float *y);
void lk_linear_backward(int n, int in, int out, const float *x, const float *w, const float *dy,
                        float *dx, float *dw, float *db); /* dx may be NULL */

/* ---- Losses: return the loss, ADD its gradient (already divided by the normalizer) into grad. */
/* logits [n][k][hw]; labels [n][hw] (ignore_label skipped); weights per sample [n] or NULL;
 * class_weights [k] or NULL. Mean over counted items weighted by w_sample * w_class. */
float lk_softmax_ce(int n, int k, int hw, const float *logits, const int32_t *labels,
                    int ignore_label, const float *weights, const float *class_weights,
                    float *grad);
/* Elementwise BCE with logits, mean over count; weights may be NULL. */
float lk_bce_logits(size_t count, const float *logits, const float *targets,
                    const float *weights, float *grad);

/* ---- Optimizer updates over flat buffers (PyTorch semantics). */
/* v = momentum*v + g + wd*p; p -= lr*v */
void lk_sgd_step(size_t count, float *p, const float *g, float *v, float lr, float momentum,
                 float weight_decay);
/* Decoupled decay: p -= lr*wd*p; then Adam with bias correction at step t (1-based). */
void lk_adamw_step(size_t count, float *p, const float *g, float *m, float *v, int64_t t, float lr,
                   float beta1, float beta2, float eps, float weight_decay);

#endif
