/* net.c — the executor: plans one arena for a network and batch, runs forward and backward over
 * the layer list, and exposes the flat parameter/gradient/state vectors. */
#include "net_internal.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Profile clock: wall time, or (profile == 2) process CPU seconds per thread, which measures the
 * code rather than its neighbours on a shared box. */
static double prof_now(const lo_net *net)
{
    if (net->profile != 2) return omp_get_wtime();
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ((double)ts.tv_sec + ts.tv_nsec * 1e-9) / net->threads;
}

#define ALIGN64(x) (((x) + 63) & ~(size_t)63)

/* Carves every buffer at fixed offsets; with base == NULL it only measures. */
static size_t plan(lo_net *net, unsigned char *base)
{
    size_t off = 0;
#define CARVE(ptr, type, count) do { off = ALIGN64(off); (ptr) = base ? (type *)(base + off) : NULL; off += sizeof(type) * (size_t)(count); } while (0)
    const size_t B = (size_t)net->batch;
    CARVE(net->input, float, B * net->c * net->h * net->w);
    if (net->training) CARVE(net->dinput, float, B * net->c * net->h * net->w);
    for (int i = 0; i < net->nlayers; i++) {
        lo_layer *l = &net->layers[i];
        size_t cnt = B * lo__layer_count(l);
        if (l->fused_into >= 0) l->y = NULL; /* aliased below, once the relu has its buffer */
        else CARVE(l->y, float, cnt);
        if (net->training) CARVE(l->dy, float, cnt);
        if (l->type == LO_L_BN) { CARVE(l->mean, float, l->c); CARVE(l->invstd, float, l->c); }
        if (l->type == LO_L_MAXPOOL) CARVE(l->idx, int32_t, cnt);
        if (l->type == LO_L_GTOPK) CARVE(l->idx, int32_t, B * l->c * l->topk);
    }
    for (int i = 0; i < net->nlayers; i++)
        if (net->layers[i].fused_into >= 0) net->layers[i].y = net->layers[net->layers[i].fused_into].y;
    CARVE(net->params, float, net->nparams);
    if (net->training) CARVE(net->grads, float, net->nparams);
    CARVE(net->state, float, net->nstate);
    CARVE(net->scratch, float, net->scratch_floats);
    CARVE(net->labels, int32_t, net->labels_count);
#undef CARVE
    return ALIGN64(off);
}

static int consumers(const lo_net *net, int idx)
{
    int n = 0;
    for (int i = 0; i < net->nlayers; i++)
        for (int j = 0; j < net->layers[i].nin; j++) n += net->layers[i].in[j] == idx;
    return n;
}

/* Backward memory traffic dominates the cheap layers, so: an activation between two convs has its
 * backward folded into the second conv's bwd-data (mask applied while the image is in cache), and
 * a gradient with a single writer is overwritten instead of zeroed and accumulated. */
static void plan_backward_fusion(lo_net *net)
{
    for (int i = 0; i < net->nlayers; i++) {
        lo_layer *l = &net->layers[i];
        l->bwd_target = l->in[0];
        l->bwd_act_from = -1;
    }
    for (int i = 0; i < net->nlayers; i++) {
        lo_layer *l = &net->layers[i];
        if (l->type != LO_L_CONV && l->type != LO_L_RELU && l->type != LO_L_LEAKY && l->type != LO_L_BN) continue;
        if ((l->type == LO_L_RELU || l->type == LO_L_LEAKY) && l->bwd_absorbed) continue;
        int q = l->in[0];
        if (q < 0) continue;
        lo_layer *ql = &net->layers[q];
        if (l->type == LO_L_CONV && (ql->type == LO_L_RELU || ql->type == LO_L_LEAKY) && !ql->is_output &&
            consumers(net, q) == 1 && ql->in[0] >= 0 && !net->layers[ql->in[0]].is_output &&
            consumers(net, ql->in[0]) == 1) {
            ql->bwd_absorbed = 1;
            l->bwd_target = ql->in[0];
            l->bwd_act_from = q;
            l->dx_overwrite = 1;
            net->layers[ql->in[0]].dy_written = 1;
            ql->dy_written = 1; /* never read */
            continue;
        }
        if (!ql->is_output && consumers(net, q) == 1) {
            l->dx_overwrite = 1;
            ql->dy_written = 1;
        }
    }
    /* bn -> relu/leaky fused forward whose backward no conv absorbed (its output feeds several
     * layers, e.g. a skip connection): the bn reads the activation's gradient through act'
     * itself, instead of a separate pass writing the bn's gradient in full */
    for (int i = 0; i < net->nlayers; i++) {
        lo_layer *l = &net->layers[i];
        if ((l->type != LO_L_RELU && l->type != LO_L_LEAKY) || l->bwd_absorbed || l->fused_from < 0) continue;
        lo_layer *b = &net->layers[l->fused_from];
        if (b->type != LO_L_BN) continue;
        l->bwd_absorbed = 1;
        b->bwd_act_from = i;
        b->dy_written = 1; /* never read */
    }
}

lo_net *lo_net_create(const char *arch_json, const lo_net_config *cfg, char *err, size_t errlen)
{
    if (!cfg || cfg->batch < 1 || cfg->batch > 65536) {
        if (err && errlen) snprintf(err, errlen, "lo_net_create: batch must be 1..65536 (got %d)", cfg ? cfg->batch : 0);
        return NULL;
    }
    lo_net *net = calloc(1, sizeof *net);
    if (!net) { if (err && errlen) snprintf(err, errlen, "out of memory"); return NULL; }
    net->batch = cfg->batch;
    net->threads = cfg->threads > 0 ? cfg->threads : omp_get_max_threads();
    net->training = cfg->training != 0;
    if (lo__net_parse(net, arch_json, cfg, err, errlen) != 0) { lo_net_free(net); return NULL; }

    /* parameter/state layout, fusion, scratch */
    size_t scratch = 0, maxhw = 1;
    for (int i = 0; i < net->nlayers; i++) {
        lo_layer *l = &net->layers[i];
        l->woff = net->nparams; net->nparams += l->wcount;
        l->boff = net->nparams; net->nparams += l->bcount;
        if (l->type == LO_L_BN) { l->soff = net->nstate; net->nstate += 2 * (size_t)l->c; }
        if (l->type == LO_L_CONV) {
            size_t s = lk_conv_scratch_floats(&l->conv, net->threads);
            if (s > scratch) scratch = s;
        }
        if (l->type == LO_L_GTOPK) {
            int in = l->in[0];
            size_t hw = in < 0 ? (size_t)net->h * net->w : (size_t)net->layers[in].h * net->layers[in].w;
            if (2 * hw * net->threads > scratch) scratch = 2 * hw * net->threads;
        }
        /* conv or bn -> relu/leaky with nothing else reading it: the activation runs in the
         * producer's output pass and the pre-activation tensor is never stored (neither's
         * backward needs it: conv reads its input, bn its input and statistics). */
        if ((l->type == LO_L_RELU || l->type == LO_L_LEAKY) && l->in[0] >= 0) {
            lo_layer *p = &net->layers[l->in[0]];
            if ((p->type == LO_L_CONV || p->type == LO_L_BN) && !p->is_output && consumers(net, l->in[0]) == 1) {
                p->fused_into = i;
                p->fused_act = l->type == LO_L_RELU ? LK_ACT_RELU : LK_ACT_LEAKY;
                p->slope = l->slope;
                l->fused_from = l->in[0];
            }
        }
    }
    plan_backward_fusion(net);
    for (int o = 0; o < net->nout; o++) {
        size_t hw = (size_t)net->layers[net->out[o]].h * net->layers[net->out[o]].w;
        if (hw > maxhw) maxhw = hw;
    }
    net->scratch_floats = scratch;
    net->labels_count = (size_t)net->batch * maxhw;
    size_t bytes = plan(net, NULL);
    net->arena = lk_arena_create(bytes);
    if (!net->arena) {
        if (err && errlen) snprintf(err, errlen, "architecture \"%s\": cannot map %zu MB for batch %d", net->name, bytes >> 20, net->batch);
        lo_net_free(net);
        return NULL;
    }
    unsigned char *base = lk_arena_alloc(net->arena, bytes);
    plan(net, base);
    lo_net_init_params(net, 1);
    if (net->training) memset(net->grads, 0, net->nparams * sizeof(float));
    return net;
}

void lo_net_free(lo_net *net)
{
    if (!net) return;
    lk_arena_free(net->arena);
    free(net->layers);
    free(net);
}

const char *lo_net_name(const lo_net *net) { return net->name; }
lo_net_head lo_net_head_type(const lo_net *net) { return net->head; }
void lo_net_input_shape(const lo_net *net, int *b, int *c, int *h, int *w)
{
    *b = net->batch; *c = net->c; *h = net->h; *w = net->w;
}
size_t lo_net_arena_bytes(const lo_net *net) { return lk_arena_capacity(net->arena); }
float *lo_net_input(lo_net *net) { return net->input; }
int lo_net_output_count(const lo_net *net) { return net->nout; }

const float *lo_net_output(const lo_net *net, int index, int dims[4])
{
    if (index < 0 || index >= net->nout) return NULL;
    const lo_layer *l = &net->layers[net->out[index]];
    if (dims) { dims[0] = net->batch; dims[1] = l->c; dims[2] = l->h; dims[3] = l->w; }
    return l->y;
}

float *lo_net_output_grad(lo_net *net, int index)
{
    if (index < 0 || index >= net->nout || !net->training) return NULL;
    return net->layers[net->out[index]].dy;
}

float *lo_net_input_grad(lo_net *net)
{
    if (!net->training) return NULL;
    net->want_input_grad = 1;
    return net->dinput;
}

size_t lo_net_param_count(const lo_net *net) { return net->nparams; }
float *lo_net_params(lo_net *net) { return net->params; }
float *lo_net_grads(lo_net *net) { return net->grads; }
size_t lo_net_state_count(const lo_net *net) { return net->nstate; }
float *lo_net_state(lo_net *net) { return net->state; }
int lo_net_threads(const lo_net *net) { return net->threads; }

void lo_net_zero_grad(lo_net *net)
{
    if (!net->training) return;
    memset(net->grads, 0, net->nparams * sizeof(float));
    for (int o = 0; o < net->nout; o++) {
        lo_layer *l = &net->layers[net->out[o]];
        memset(l->dy, 0, (size_t)net->batch * lo__layer_count(l) * sizeof(float));
    }
}

/* splitmix64 + Box-Muller: reproducible across platforms for a given seed. */
static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double uniform01(uint64_t *s) { return ((double)(mix(s) >> 11) + 0.5) / 9007199254740992.0; }

void lo_net_init_params(lo_net *net, uint64_t seed)
{
    uint64_t s = seed;
    for (int i = 0; i < net->nlayers; i++) {
        lo_layer *l = &net->layers[i];
        float *w = net->params + l->woff, *b = net->params + l->boff;
        if (l->type == LO_L_CONV || l->type == LO_L_LINEAR) {
            double fan_in = (double)l->wcount / l->out;
            double sd = sqrt(2.0 / fan_in);
            for (size_t j = 0; j < l->wcount; j++)
                w[j] = (float)(sd * sqrt(-2.0 * log(uniform01(&s))) * cos(6.283185307179586 * uniform01(&s)));
            for (size_t j = 0; j < l->bcount; j++) b[j] = 0.f;
        } else if (l->type == LO_L_BN) {
            for (int j = 0; j < l->c; j++) { w[j] = 1.f; b[j] = 0.f; }
            float *st = net->state + l->soff;
            for (int j = 0; j < l->c; j++) { st[j] = 0.f; st[l->c + j] = 1.f; }
        }
    }
}

static const float *in_y(const lo_net *net, int idx) { return idx < 0 ? net->input : net->layers[idx].y; }
/* Gradient buffer of a layer input, or NULL when nobody needs it. */
static float *in_dy(const lo_net *net, int idx, const unsigned char *need)
{
    if (idx < 0) return net->want_input_grad ? net->dinput : NULL;
    return need[idx] ? net->layers[idx].dy : NULL;
}

static void layer_forward(lo_net *net, lo_layer *l, int training)
{
    const int B = net->batch, T = net->threads;
    const float *x = in_y(net, l->in[0]);
    int ic, ih, iw;
    if (l->in[0] < 0) { ic = net->c; ih = net->h; iw = net->w; }
    else { ic = net->layers[l->in[0]].c; ih = net->layers[l->in[0]].h; iw = net->layers[l->in[0]].w; }
    const size_t cnt = (size_t)B * lo__layer_count(l);
    float *W = net->params + l->woff, *bias = l->bcount ? net->params + l->boff : NULL;
    switch (l->type) {
    case LO_L_CONV:
        lk_conv_forward(&l->conv, x, W, bias, l->fused_act, l->slope, l->y, net->scratch, T);
        break;
    case LO_L_BN: {
        float *st = net->state + l->soff;
        if (training) {
            lk_bn_forward_train(B, l->c, l->h * l->w, x, W, net->params + l->boff, l->y, l->mean,
                                l->invstd, st, st + l->c, l->momentum, l->eps, l->fused_act, l->slope, T);
            l->bn_frozen = 0;
        } else {
            lk_bn_forward_infer(B, l->c, l->h * l->w, x, W, net->params + l->boff, st, st + l->c,
                                l->eps, l->y, l->mean, l->invstd, l->fused_act, l->slope, T);
            l->bn_frozen = 1;
        }
        break;
    }
    case LO_L_RELU:
        if (l->fused_from < 0) lk_act_forward(LK_ACT_RELU, 0.f, cnt, x, l->y, T);
        break;
    case LO_L_LEAKY:
        if (l->fused_from < 0) lk_act_forward(LK_ACT_LEAKY, l->slope, cnt, x, l->y, T);
        break;
    case LO_L_SIGMOID: lk_sigmoid_forward(cnt, x, l->y, T); break;
    case LO_L_MAXPOOL:
        lk_maxpool_forward(B, ic, ih, iw, l->k, l->stride, l->pad, l->h, l->w, x, l->y, l->idx, T);
        break;
    case LO_L_AVGPOOL:
        lk_avgpool_forward(B, ic, ih, iw, l->k, l->stride, l->pad, l->h, l->w, x, l->y, T);
        break;
    case LO_L_GAP: lk_gap_forward(B, ic, ih * iw, x, l->y, T); break;
    case LO_L_GTOPK:
        lk_gtopk_forward(B, ic, ih * iw, l->topk, x, l->y, l->idx, net->scratch, T);
        break;
    case LO_L_LINEAR: lk_linear_forward(B, ic * ih * iw, l->out, x, W, bias, l->y); break;
    case LO_L_UPSAMPLE:
        lk_upsample_forward((lk_upsample_mode)l->mode, B, ic, ih, iw, l->h, l->w, x, l->y, T);
        break;
    case LO_L_ADD:
        memcpy(l->y, x, cnt * sizeof(float));
        for (int j = 1; j < l->nin; j++) lk_add(cnt, in_y(net, l->in[j]), l->y, T);
        break;
    case LO_L_CONCAT: {
        const size_t hw = (size_t)l->h * l->w;
        for (int b = 0; b < B; b++) {
            size_t coff = 0;
            for (int j = 0; j < l->nin; j++) {
                int cj = l->in[j] < 0 ? net->c : net->layers[l->in[j]].c;
                memcpy(l->y + ((size_t)b * l->c + coff) * hw, in_y(net, l->in[j]) + (size_t)b * cj * hw,
                       (size_t)cj * hw * sizeof(float));
                coff += (size_t)cj;
            }
        }
        break;
    }
    }
}

void lo_net_forward(lo_net *net, int training)
{
    for (int i = 0; i < net->nlayers; i++) {
        lo_layer *l = &net->layers[i];
        double t0 = net->profile ? prof_now(net) : 0;
        layer_forward(net, l, training);
        if (net->profile) l->t_fwd += prof_now(net) - t0;
    }
}

/* the kernel's activation for an absorbed relu/leaky layer, or none */
static lk_act act_of(const lo_layer *a)
{
    return !a ? LK_ACT_NONE : a->type == LO_L_RELU ? LK_ACT_RELU : LK_ACT_LEAKY;
}

static void layer_backward(lo_net *net, lo_layer *l, const unsigned char *need)
{
    const int B = net->batch, T = net->threads;
    const float *x = in_y(net, l->in[0]);
    float *dx = in_dy(net, l->in[0], need);
    int ic, ih, iw;
    if (l->in[0] < 0) { ic = net->c; ih = net->h; iw = net->w; }
    else { ic = net->layers[l->in[0]].c; ih = net->layers[l->in[0]].h; iw = net->layers[l->in[0]].w; }
    const size_t cnt = (size_t)B * lo__layer_count(l);
    float *W = net->params + l->woff;
    float *dW = net->grads + l->woff, *db = l->bcount ? net->grads + l->boff : NULL;
    double t0 = net->profile ? prof_now(net) : 0;
    switch (l->type) {
    case LO_L_CONV:
        lk_conv_backward_weights(&l->conv, x, l->dy, dW, db, net->scratch, T);
        if (net->profile) { double t1 = prof_now(net); l->t_bwd_w += t1 - t0; t0 = t1; }
        dx = in_dy(net, l->bwd_target, need);
        if (dx) {
            const lo_layer *a = l->bwd_act_from >= 0 ? &net->layers[l->bwd_act_from] : NULL;
            lk_conv_backward_data_ex(&l->conv, l->dy, W, dx, !l->dx_overwrite, act_of(a), a ? a->slope : 0.f,
                                     a ? a->y : NULL, net->scratch, T);
        }
        if (net->profile) l->t_bwd_data += prof_now(net) - t0;
        return;
    case LO_L_BN: {
        const lo_layer *a = l->bwd_act_from >= 0 ? &net->layers[l->bwd_act_from] : NULL;
        lk_bn_backward(B, l->c, l->h * l->w, x, a ? a->dy : l->dy, W, l->mean, l->invstd, l->bn_frozen, dx,
                       !l->dx_overwrite, dW, net->grads + l->boff, act_of(a), a ? a->slope : 0.f, a ? a->y : NULL, T);
        break;
    }
    case LO_L_RELU:
    case LO_L_LEAKY: {
        if (l->bwd_absorbed || !dx) break;
        lk_act a = l->type == LO_L_RELU ? LK_ACT_RELU : LK_ACT_LEAKY;
        if (l->dx_overwrite) lk_act_backward_set(a, l->slope, cnt, l->y, l->dy, dx, T);
        else lk_act_backward(a, l->slope, cnt, l->y, l->dy, dx, T);
        break;
    }
    case LO_L_SIGMOID:
        if (dx) lk_sigmoid_backward(cnt, l->y, l->dy, dx, T);
        break;
    case LO_L_MAXPOOL:
        if (dx) lk_maxpool_backward(B, ic, ih, iw, l->h, l->w, l->dy, l->idx, dx, T);
        break;
    case LO_L_AVGPOOL:
        if (dx) lk_avgpool_backward(B, ic, ih, iw, l->k, l->stride, l->pad, l->h, l->w, l->dy, dx, T);
        break;
    case LO_L_GAP:
        if (dx) lk_gap_backward(B, ic, ih * iw, l->dy, dx, T);
        break;
    case LO_L_GTOPK:
        if (dx) lk_gtopk_backward(B, ic, ih * iw, l->topk, l->dy, l->idx, dx, T);
        break;
    case LO_L_LINEAR:
        lk_linear_backward(B, ic * ih * iw, l->out, x, W, l->dy, dx, dW, db);
        break;
    case LO_L_UPSAMPLE:
        if (dx) lk_upsample_backward((lk_upsample_mode)l->mode, B, ic, ih, iw, l->h, l->w, l->dy, dx, T);
        break;
    case LO_L_ADD:
        for (int j = 0; j < l->nin; j++) {
            float *d = in_dy(net, l->in[j], need);
            if (d) lk_add(cnt, l->dy, d, T);
        }
        break;
    case LO_L_CONCAT: {
        const size_t hw = (size_t)l->h * l->w;
        size_t coff = 0;
        for (int j = 0; j < l->nin; j++) {
            int cj = l->in[j] < 0 ? net->c : net->layers[l->in[j]].c;
            float *d = in_dy(net, l->in[j], need);
            if (d)
                for (int b = 0; b < B; b++)
                    lk_add((size_t)cj * hw, l->dy + ((size_t)b * l->c + coff) * hw, d + (size_t)b * cj * hw, T);
            coff += (size_t)cj;
        }
        break;
    }
    }
    if (net->profile) l->t_bwd_data += prof_now(net) - t0;
}

void lo_net_backward(lo_net *net)
{
    if (!net->training) return;
    /* A layer's gradient is needed when a parameter (or the wanted input gradient) lies upstream. */
    unsigned char need[4096];
    for (int i = 0; i < net->nlayers; i++) {
        const lo_layer *l = &net->layers[i];
        int up = net->want_input_grad || l->wcount > 0 || l->bcount > 0;
        for (int j = 0; j < l->nin && !up; j++) up = l->in[j] >= 0 && need[l->in[j]];
        need[i] = (unsigned char)up;
    }
    for (int i = 0; i < net->nlayers; i++) {
        lo_layer *l = &net->layers[i];
        if (need[i] && !l->is_output && !l->dy_written) memset(l->dy, 0, (size_t)net->batch * lo__layer_count(l) * sizeof(float));
    }
    if (net->want_input_grad) memset(net->dinput, 0, (size_t)net->batch * net->c * net->h * net->w * sizeof(float));
    for (int i = net->nlayers - 1; i >= 0; i--)
        if (need[i]) layer_backward(net, &net->layers[i], need);
}

/* ---- profile ---- */
void lo_net_profile_enable(lo_net *net, int on)
{
    net->profile = on;
    for (int i = 0; i < net->nlayers; i++)
        net->layers[i].t_fwd = net->layers[i].t_bwd_data = net->layers[i].t_bwd_w = 0;
}

int lo_net_layer_count(const lo_net *net) { return net->nlayers; }

int lo_net_layer_info(const lo_net *net, int i, lo_net_layer_info_t *info)
{
    if (i < 0 || i >= net->nlayers) return -1;
    const lo_layer *l = &net->layers[i];
    static const char *const tn[] = {"conv", "bn", "relu", "leaky_relu", "maxpool", "avgpool", "gap",
                                     "gtopk", "linear", "upsample", "add", "concat", "sigmoid"};
    memset(info, 0, sizeof *info);
    info->name = l->name;
    info->type = tn[l->type];
    info->c = l->c; info->h = l->h; info->w = l->w;
    info->fused = l->fused_from >= 0;
    if (l->type == LO_L_CONV) {
        info->cin = l->conv.cin; info->in_h = l->conv.h; info->in_w = l->conv.w;
        info->k = l->k; info->stride = l->stride; info->pad = l->pad;
        info->flops_fwd = 2.0 * net->batch * l->conv.cout * l->conv.oh * l->conv.ow * (double)l->conv.cin * l->k * l->k;
    }
    info->t_fwd = l->t_fwd; info->t_bwd_data = l->t_bwd_data; info->t_bwd_w = l->t_bwd_w;
    return 0;
}
