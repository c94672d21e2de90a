/* net_opt.c — SGD-momentum and AdamW over the flat parameter vector. State is allocated once at
 * lo_opt_create, so a step never touches the heap. */
#include "net_internal.h"

#include <stdlib.h>

typedef struct { size_t off, count; int decay; } seg;

struct lo_opt {
    lo_opt_config cfg;
    float *m, *v;
    int64_t t;
    seg *segs;
    int nsegs;
};

lo_opt *lo_opt_create(lo_net *net, const lo_opt_config *cfg)
{
    if (!net || !cfg || !net->training) return NULL;
    lo_opt *o = calloc(1, sizeof *o);
    if (!o) return NULL;
    o->cfg = *cfg;
    if (cfg->kind == LO_OPT_ADAMW && cfg->beta1 == 0.f && cfg->beta2 == 0.f && cfg->eps == 0.f) {
        o->cfg.beta1 = 0.9f; o->cfg.beta2 = 0.999f; o->cfg.eps = 1e-8f;
    }
    size_t n = net->nparams ? net->nparams : 1;
    o->m = calloc(n, sizeof(float));
    o->v = cfg->kind == LO_OPT_ADAMW ? calloc(n, sizeof(float)) : NULL;
    o->segs = calloc((size_t)net->nlayers * 2 + 1, sizeof(seg));
    if (!o->m || (cfg->kind == LO_OPT_ADAMW && !o->v) || !o->segs) { lo_opt_free(o); return NULL; }
    for (int i = 0; i < net->nlayers; i++) {
        const lo_layer *l = &net->layers[i];
        int decay = l->type == LO_L_CONV || l->type == LO_L_LINEAR;
        if (l->wcount) o->segs[o->nsegs++] = (seg){l->woff, l->wcount, decay};
        if (l->bcount) o->segs[o->nsegs++] = (seg){l->boff, l->bcount, 0};
    }
    return o;
}

void lo_opt_step(lo_opt *o, lo_net *net, float lr)
{
    if (!o || !net->training) return;
    o->t++;
    for (int s = 0; s < o->nsegs; s++) {
        const seg *g = &o->segs[s];
        float wd = g->decay ? o->cfg.weight_decay : 0.f;
        float *p = net->params + g->off, *gr = net->grads + g->off;
        if (o->cfg.kind == LO_OPT_ADAMW)
            lk_adamw_step(g->count, p, gr, o->m + g->off, o->v + g->off, o->t, lr, o->cfg.beta1,
                          o->cfg.beta2, o->cfg.eps, wd);
        else
            lk_sgd_step(g->count, p, gr, o->m + g->off, lr, o->cfg.momentum, wd);
    }
}

void lo_opt_free(lo_opt *o)
{
    if (!o) return;
    free(o->m);
    free(o->v);
    free(o->segs);
    free(o);
}
