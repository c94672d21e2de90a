/* net.h — a network graph read from an architecture JSON (models/NAME.json) and run on kernels/.
 * Internal to engine/ (training, inference and the benchmark use it).
 *
 * Architecture JSON (validated with clear errors naming the layer and field):
 *   { "name": "compact-seg", "head": "classifier" | "segmentation",
 *     "input": { "size": [H, W] | H, "channels": 3 },   (defaults; the caller may override)
 *     "layers": [ { "name": "c1", "type": "conv", "out": 16, "kernel": 3, "stride": 2, "pad": 1,
 *                   "bias": true, "input": "prev-layer-name" | ["a","b"] }, ... ],
 *     "outputs": ["logits"] }
 *   types: conv, bn, relu, leaky_relu (slope), maxpool/avgpool (kernel, stride, pad),
 *          gap (global average), gtopk (global top-k mean, "k" or "fraction"), linear (out),
 *          upsample ("factor", "mode": bilinear|nearest), add, concat, sigmoid.
 *   "input" defaults to the previous layer; the first layer reads the image (also named "input").
 *   Defaults: conv kernel 3, stride 1, pad kernel/2, bias true, dilation must be 1; bn momentum
 *   0.1, eps 1e-5; leaky_relu slope 0.01 (must be in (0,1)); pools kernel 2, stride = kernel,
 *   pad 0 (avgpool counts padding); gtopk fraction 0.1; upsample factor 2, mode nearest, or an
 *   explicit "size": [H, W]; "outputs" defaults to the last layer.
 *
 * Tensors are NCHW float32 at the boundaries (input, outputs, output gradients); the executor
 * may use another layout inside. All activations, gradients and scratch live in one arena sized
 * at lo_net_create; forward/backward/optimizer steps do not allocate.
 */
#ifndef LOOKOUT_NET_H
#define LOOKOUT_NET_H

#include <stddef.h>
#include <stdint.h>

typedef struct lo_net lo_net;

typedef enum { LO_HEAD_CLASSIFIER = 0, LO_HEAD_SEGMENTATION = 1 } lo_net_head;

typedef struct {
    int batch;
    int channels, height, width; /* 0 = take from the JSON's "input" */
    int threads;                 /* OpenMP threads; 0 = all */
    int training;                /* 0: inference only (no gradient buffers) */
} lo_net_config;

lo_net *lo_net_create(const char *arch_json, const lo_net_config *cfg, char *err, size_t errlen);
void lo_net_free(lo_net *net);

const char *lo_net_name(const lo_net *net);
lo_net_head lo_net_head_type(const lo_net *net);
void lo_net_input_shape(const lo_net *net, int *batch, int *c, int *h, int *w);
size_t lo_net_arena_bytes(const lo_net *net);

/* Input buffer [batch][c][h][w] to fill before forward. */
float *lo_net_input(lo_net *net);
void lo_net_forward(lo_net *net, int training); /* training: batch-norm uses batch statistics */

int lo_net_output_count(const lo_net *net);
/* dims[4] = N, C, H, W (classifier: H = W = 1). */
const float *lo_net_output(const lo_net *net, int index, int dims[4]);
/* Gradient of the loss w.r.t. output `index`, same shape; zeroed by lo_net_zero_grad. */
float *lo_net_output_grad(lo_net *net, int index);

void lo_net_zero_grad(lo_net *net);
void lo_net_backward(lo_net *net); /* parameter gradients into lo_net_grads */

/* Flat parameter vector (weights, biases, BN gamma/beta) and its gradient. */
size_t lo_net_param_count(const lo_net *net);
float *lo_net_params(lo_net *net);
float *lo_net_grads(lo_net *net);
/* Non-trained state saved with the model (BN running mean/var). */
size_t lo_net_state_count(const lo_net *net);
float *lo_net_state(lo_net *net);
void lo_net_init_params(lo_net *net, uint64_t seed); /* He-normal conv/linear, BN gamma 1 beta 0 */

/* Losses: return the mean loss and ADD its gradient into lo_net_output_grad(net, index).
 * Means are weighted: sum(w_i * loss_i) / sum(w_i); labels outside [0, K) are skipped. */
/* Classifier output [N][K]: softmax cross-entropy; weights [N] per image, may be NULL (all 1). */
float lo_net_loss_softmax_ce(lo_net *net, int index, const int32_t *labels, const float *weights);
/* Segmentation output [N][K][H][W]: per-pixel softmax CE; label 255 = ignore; class_weights[K]
 * may be NULL. labels are [N][H][W] at the output's resolution. */
float lo_net_loss_pixel_ce(lo_net *net, int index, const uint8_t *labels, const float *class_weights);
/* Output [N][1][H][W] or [N][1]: binary cross-entropy with logits; targets same shape, 0..1. */
float lo_net_loss_bce(lo_net *net, int index, const float *targets, const float *weights);

/* Gradient w.r.t. the input image (same shape as lo_net_input); calling this turns on its
 * computation in lo_net_backward. NULL for an inference-only net. */
float *lo_net_input_grad(lo_net *net);
int lo_net_threads(const lo_net *net);

/* Per-layer timing for benchmarks (off by default; enabling resets the counters; on = 1 wall
 * clock, 2 process CPU time per thread). */
typedef struct {
    const char *name, *type;
    int c, h, w;                  /* output per image */
    int cin, in_h, in_w, k, stride, pad; /* conv only */
    int fused;                    /* an activation computed inside the preceding conv */
    double flops_fwd;             /* conv: 2*N*Cout*OH*OW*Cin*K*K (backward passes do the same) */
    double t_fwd, t_bwd_data, t_bwd_w; /* seconds accumulated; non-conv backward is in t_bwd_data */
} lo_net_layer_info_t;
void lo_net_profile_enable(lo_net *net, int on);
int lo_net_layer_count(const lo_net *net);
int lo_net_layer_info(const lo_net *net, int index, lo_net_layer_info_t *info);

/* Optimizers over the flat parameter vector. Weight decay applies to conv/linear weights only
 * (not biases or BN). SGD: PyTorch's momentum form. AdamW: beta1/beta2/eps all 0 = defaults
 * 0.9/0.999/1e-8. */
typedef enum { LO_OPT_SGD = 0, LO_OPT_ADAMW = 1 } lo_opt_kind;
typedef struct {
    lo_opt_kind kind;
    float momentum;          /* SGD */
    float beta1, beta2, eps; /* AdamW */
    float weight_decay;
} lo_opt_config;
typedef struct lo_opt lo_opt;
lo_opt *lo_opt_create(lo_net *net, const lo_opt_config *cfg);
void lo_opt_step(lo_opt *opt, lo_net *net, float lr);
void lo_opt_free(lo_opt *opt);

#endif
