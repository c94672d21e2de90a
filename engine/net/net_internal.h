/* net_internal.h — the executor's data structures, shared by the files of engine/net only. */
#ifndef LOOKOUT_NET_INTERNAL_H
#define LOOKOUT_NET_INTERNAL_H

#include "kernels.h"
#include "net.h"

#define LO_NET_MAX_INPUTS 16
#define LO_NET_MAX_OUTPUTS 16
#define LO_NET_NAME_MAX 64

typedef enum {
    LO_L_CONV, LO_L_BN, LO_L_RELU, LO_L_LEAKY, LO_L_MAXPOOL, LO_L_AVGPOOL, LO_L_GAP, LO_L_GTOPK,
    LO_L_LINEAR, LO_L_UPSAMPLE, LO_L_ADD, LO_L_CONCAT, LO_L_SIGMOID
} lo_layer_type;

typedef struct {
    char name[LO_NET_NAME_MAX];
    lo_layer_type type;
    int nin;
    int in[LO_NET_MAX_INPUTS]; /* layer index; -1 = the image */
    /* hyper-parameters */
    int out, k, stride, pad, bias, topk, mode;
    float slope, momentum, eps;
    int c, h, w;               /* output shape per image */
    /* parameters: conv/linear weights+bias, bn gamma (w) + beta (b) */
    size_t woff, wcount, boff, bcount, soff;
    lk_conv conv;
    lk_act fused_act;          /* conv/bn: activation applied in its output pass (a fused relu) */
    int fused_into;            /* conv/bn: index of the relu whose output it writes, else -1 */
    int fused_from;            /* relu: the conv/bn that computes it, else -1 */
    int is_output;
    /* backward fusion (decided at create): */
    int bwd_absorbed;          /* relu/leaky whose backward runs inside the next conv's bwd-data,
                                  or inside its own bn's backward */
    int bwd_target;            /* conv: layer receiving its input gradient (skips an absorbed relu) */
    int bwd_act_from;          /* conv: the absorbed activation layer (after its input); bn: the
                                  one after its output, whose gradient it reads; else -1 */
    int dx_overwrite;          /* conv/act: its input gradient has no other writer: overwrite */
    int dy_written;            /* this layer's gradient is overwritten by its only consumer */
    int needs_grad;            /* the gradient of this layer's output is needed */
    float *y, *dy;
    float *mean, *invstd;      /* bn statistics used by the last forward */
    int32_t *idx;              /* maxpool argmax, gtopk selection */
    int bn_frozen;             /* last forward used running statistics */
    /* profile (seconds, accumulated while net->profile is on) */
    double t_fwd, t_bwd_data, t_bwd_w;
} lo_layer;

struct lo_net {
    char name[LO_NET_NAME_MAX];
    lo_net_head head;
    int batch, c, h, w, threads, training;
    int nlayers;
    lo_layer *layers;
    int nout;
    int out[LO_NET_MAX_OUTPUTS];
    size_t nparams, nstate;
    lk_arena *arena;
    float *input, *dinput;
    int want_input_grad;
    float *params, *grads, *state;
    float *scratch;
    size_t scratch_floats;
    int32_t *labels;
    size_t labels_count;
    int profile;
};

/* net_build.c: parse + validate the JSON into layers (no buffers yet). */
int lo__net_parse(lo_net *net, const char *json, const lo_net_config *cfg, char *err, size_t errlen);
size_t lo__layer_count(const lo_layer *l); /* floats per image of the output */

#endif
