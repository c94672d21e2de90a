/* net_loss.c — losses over the network's outputs, adding their gradients into the output grads. */
#include "net_internal.h"

static lo_layer *out_layer(lo_net *net, int index)
{
    if (index < 0 || index >= net->nout || !net->training) return NULL;
    return &net->layers[net->out[index]];
}

float lo_net_loss_softmax_ce(lo_net *net, int index, const int32_t *labels, const float *weights)
{
    lo_layer *l = out_layer(net, index);
    if (!l) return 0.f;
    /* classifier: one label per image over the C logits (H*W must be 1) */
    int hw = l->h * l->w;
    if (hw != 1) return lk_softmax_ce(net->batch, l->c * hw, 1, l->y, labels, -1, weights, NULL, l->dy);
    return lk_softmax_ce(net->batch, l->c, 1, l->y, labels, -1, weights, NULL, l->dy);
}

float lo_net_loss_pixel_ce(lo_net *net, int index, const uint8_t *labels, const float *class_weights)
{
    lo_layer *l = out_layer(net, index);
    if (!l) return 0.f;
    size_t cnt = (size_t)net->batch * l->h * l->w;
    for (size_t i = 0; i < cnt; i++) net->labels[i] = labels[i] == 255 ? -1 : (int32_t)labels[i];
    return lk_softmax_ce(net->batch, l->c, l->h * l->w, l->y, net->labels, -1, NULL, class_weights, l->dy);
}

float lo_net_loss_bce(lo_net *net, int index, const float *targets, const float *weights)
{
    lo_layer *l = out_layer(net, index);
    if (!l) return 0.f;
    return lk_bce_logits((size_t)net->batch * lo__layer_count(l), l->y, targets, weights, l->dy);
}
