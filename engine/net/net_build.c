/* net_build.c — reads an architecture JSON into a validated layer list with inferred shapes.
 * Every error names the layer (by name or position) and the field at fault. */
#include "net_internal.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t n, const char *fmt, ...)
{
    if (err && n) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

size_t lo__layer_count(const lo_layer *l) { return (size_t)l->c * l->h * l->w; }

/* Integer field with default; -1 on a present-but-invalid value. */
static int get_int(const cJSON *o, const char *key, int def, int *out, const char *lname,
                   char *err, size_t n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v) { *out = def; return 0; }
    if (cJSON_IsBool(v)) { *out = cJSON_IsTrue(v); return 0; }
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || fabs(v->valuedouble) > 1e8)
        return fail(err, n, "layer \"%s\": field \"%s\" must be an integer", lname, key);
    *out = (int)v->valuedouble;
    return 0;
}

static int get_float(const cJSON *o, const char *key, float def, float *out, const char *lname,
                     char *err, size_t n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v) { *out = def; return 0; }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return fail(err, n, "layer \"%s\": field \"%s\" must be a number", lname, key);
    *out = (float)v->valuedouble;
    return 0;
}

static const struct { const char *name; lo_layer_type type; } type_names[] = {
    {"conv", LO_L_CONV}, {"bn", LO_L_BN}, {"relu", LO_L_RELU}, {"leaky_relu", LO_L_LEAKY},
    {"maxpool", LO_L_MAXPOOL}, {"avgpool", LO_L_AVGPOOL}, {"gap", LO_L_GAP},
    {"gtopk", LO_L_GTOPK}, {"linear", LO_L_LINEAR}, {"upsample", LO_L_UPSAMPLE},
    {"add", LO_L_ADD}, {"concat", LO_L_CONCAT}, {"sigmoid", LO_L_SIGMOID},
};

static int find_layer(const lo_net *net, int upto, const char *name)
{
    for (int i = upto - 1; i >= 0; i--)
        if (strcmp(net->layers[i].name, name) == 0) return i;
    if (strcmp(name, "input") == 0 || strcmp(name, "image") == 0) return -1;
    return -2;
}

static int input_shape(const lo_net *net, int idx, int *c, int *h, int *w)
{
    if (idx < 0) { *c = net->c; *h = net->h; *w = net->w; }
    else { *c = net->layers[idx].c; *h = net->layers[idx].h; *w = net->layers[idx].w; }
    return 0;
}

static int parse_layer(lo_net *net, int i, const cJSON *jl, char *err, size_t n)
{
    lo_layer *l = &net->layers[i];
    memset(l, 0, sizeof *l);
    l->fused_into = l->fused_from = -1;
    if (!cJSON_IsObject(jl)) return fail(err, n, "layers[%d]: must be an object", i);
    const cJSON *jn = cJSON_GetObjectItemCaseSensitive(jl, "name");
    if (jn && (!cJSON_IsString(jn) || !jn->valuestring[0] || strlen(jn->valuestring) >= LO_NET_NAME_MAX))
        return fail(err, n, "layers[%d]: \"name\" must be a non-empty string under %d characters",
                    i, LO_NET_NAME_MAX);
    if (jn) snprintf(l->name, sizeof l->name, "%s", jn->valuestring);
    else snprintf(l->name, sizeof l->name, "layer%d", i);
    if (find_layer(net, i, l->name) >= 0)
        return fail(err, n, "layers[%d]: duplicate layer name \"%s\"", i, l->name);
    const char *nm = l->name;

    const cJSON *jt = cJSON_GetObjectItemCaseSensitive(jl, "type");
    if (!cJSON_IsString(jt)) return fail(err, n, "layer \"%s\": missing string field \"type\"", nm);
    int found = 0;
    for (size_t t = 0; t < sizeof type_names / sizeof type_names[0]; t++)
        if (strcmp(jt->valuestring, type_names[t].name) == 0) { l->type = type_names[t].type; found = 1; }
    if (!found)
        return fail(err, n, "layer \"%s\": unknown type \"%s\" (conv, bn, relu, leaky_relu, maxpool, "
                    "avgpool, gap, gtopk, linear, upsample, add, concat, sigmoid)", nm, jt->valuestring);

    /* inputs */
    const cJSON *ji = cJSON_GetObjectItemCaseSensitive(jl, "input");
    if (!ji) {
        l->nin = 1;
        l->in[0] = i - 1; /* previous layer, or the image for the first */
    } else if (cJSON_IsString(ji)) {
        l->nin = 1;
        l->in[0] = find_layer(net, i, ji->valuestring);
        if (l->in[0] == -2)
            return fail(err, n, "layer \"%s\": input \"%s\" is not an earlier layer", nm, ji->valuestring);
    } else if (cJSON_IsArray(ji)) {
        int cnt = cJSON_GetArraySize(ji);
        if (cnt < 1 || cnt > LO_NET_MAX_INPUTS)
            return fail(err, n, "layer \"%s\": \"input\" must list 1..%d layer names", nm, LO_NET_MAX_INPUTS);
        const cJSON *e;
        l->nin = 0;
        cJSON_ArrayForEach(e, ji) {
            if (!cJSON_IsString(e))
                return fail(err, n, "layer \"%s\": \"input\" entries must be layer names", nm);
            int idx = find_layer(net, i, e->valuestring);
            if (idx == -2)
                return fail(err, n, "layer \"%s\": input \"%s\" is not an earlier layer", nm, e->valuestring);
            l->in[l->nin++] = idx;
        }
    } else {
        return fail(err, n, "layer \"%s\": \"input\" must be a layer name or a list of names", nm);
    }
    int multi = l->type == LO_L_ADD || l->type == LO_L_CONCAT;
    if (multi && l->nin < 2)
        return fail(err, n, "layer \"%s\": %s needs at least 2 inputs", nm, jt->valuestring);
    if (!multi && l->nin != 1)
        return fail(err, n, "layer \"%s\": %s takes exactly 1 input", nm, jt->valuestring);

    int c, h, w;
    input_shape(net, l->in[0], &c, &h, &w);
    l->c = c; l->h = h; l->w = w;

    switch (l->type) {
    case LO_L_CONV: {
        if (get_int(jl, "out", 0, &l->out, nm, err, n) || get_int(jl, "kernel", 3, &l->k, nm, err, n) ||
            get_int(jl, "stride", 1, &l->stride, nm, err, n) ||
            get_int(jl, "pad", l->k / 2, &l->pad, nm, err, n) ||
            get_int(jl, "bias", 1, &l->bias, nm, err, n))
            return -1;
        int dil;
        if (get_int(jl, "dilation", 1, &dil, nm, err, n)) return -1;
        if (dil != 1) return fail(err, n, "layer \"%s\": \"dilation\" %d is not supported (only 1)", nm, dil);
        if (l->out < 1 || l->out > 65536) return fail(err, n, "layer \"%s\": \"out\" must be 1..65536 (got %d)", nm, l->out);
        if (l->k < 1 || l->k > 15) return fail(err, n, "layer \"%s\": \"kernel\" must be 1..15 (got %d)", nm, l->k);
        if (l->stride < 1 || l->stride > 8) return fail(err, n, "layer \"%s\": \"stride\" must be 1..8 (got %d)", nm, l->stride);
        if (l->pad < 0 || l->pad >= l->k) return fail(err, n, "layer \"%s\": \"pad\" must be 0..kernel-1 (got %d)", nm, l->pad);
        if (lk_conv_init(&l->conv, net->batch, c, h, w, l->out, l->k, l->stride, l->pad) != 0)
            return fail(err, n, "layer \"%s\": kernel %d does not fit its %dx%d input", nm, l->k, h, w);
        l->c = l->out; l->h = l->conv.oh; l->w = l->conv.ow;
        l->wcount = (size_t)l->out * c * l->k * l->k;
        l->bcount = l->bias ? (size_t)l->out : 0;
        break;
    }
    case LO_L_BN:
        if (get_float(jl, "momentum", 0.1f, &l->momentum, nm, err, n) ||
            get_float(jl, "eps", 1e-5f, &l->eps, nm, err, n))
            return -1;
        if (!(l->momentum >= 0.f && l->momentum <= 1.f)) return fail(err, n, "layer \"%s\": \"momentum\" must be in [0, 1]", nm);
        if (!(l->eps > 0.f)) return fail(err, n, "layer \"%s\": \"eps\" must be > 0", nm);
        l->wcount = l->bcount = (size_t)c;
        break;
    case LO_L_LEAKY:
        if (get_float(jl, "slope", 0.01f, &l->slope, nm, err, n)) return -1;
        /* backward reads the sign from the output, which needs a positive slope */
        if (!(l->slope > 0.f && l->slope < 1.f)) return fail(err, n, "layer \"%s\": \"slope\" must be in (0, 1) (got %g)", nm, (double)l->slope);
        break;
    case LO_L_RELU:
    case LO_L_SIGMOID:
        break;
    case LO_L_MAXPOOL:
    case LO_L_AVGPOOL:
        if (get_int(jl, "kernel", 2, &l->k, nm, err, n) || get_int(jl, "stride", l->k, &l->stride, nm, err, n) ||
            get_int(jl, "pad", 0, &l->pad, nm, err, n))
            return -1;
        if (l->k < 1 || l->k > 15) return fail(err, n, "layer \"%s\": \"kernel\" must be 1..15 (got %d)", nm, l->k);
        if (l->stride < 1 || l->stride > 15) return fail(err, n, "layer \"%s\": \"stride\" must be 1..15 (got %d)", nm, l->stride);
        if (l->pad < 0 || 2 * l->pad > l->k) return fail(err, n, "layer \"%s\": \"pad\" must be 0..kernel/2 (got %d)", nm, l->pad);
        if (h + 2 * l->pad < l->k || w + 2 * l->pad < l->k)
            return fail(err, n, "layer \"%s\": kernel %d does not fit its %dx%d input", nm, l->k, h, w);
        l->h = (h + 2 * l->pad - l->k) / l->stride + 1;
        l->w = (w + 2 * l->pad - l->k) / l->stride + 1;
        break;
    case LO_L_GAP:
        l->h = l->w = 1;
        break;
    case LO_L_GTOPK: {
        const cJSON *jk = cJSON_GetObjectItemCaseSensitive(jl, "k");
        const cJSON *jf = cJSON_GetObjectItemCaseSensitive(jl, "fraction");
        if (jk && jf) return fail(err, n, "layer \"%s\": give \"k\" or \"fraction\", not both", nm);
        if (jk) {
            if (get_int(jl, "k", 1, &l->topk, nm, err, n)) return -1;
            if (l->topk < 1) return fail(err, n, "layer \"%s\": \"k\" must be >= 1 (got %d)", nm, l->topk);
            if (l->topk > h * w) l->topk = h * w;
        } else {
            float f = 0.1f;
            if (get_float(jl, "fraction", 0.1f, &f, nm, err, n)) return -1;
            if (!(f > 0.f && f <= 1.f)) return fail(err, n, "layer \"%s\": \"fraction\" must be in (0, 1] (got %g)", nm, (double)f);
            l->topk = (int)lround((double)f * h * w);
            if (l->topk < 1) l->topk = 1;
        }
        l->h = l->w = 1;
        break;
    }
    case LO_L_LINEAR:
        if (get_int(jl, "out", 0, &l->out, nm, err, n) || get_int(jl, "bias", 1, &l->bias, nm, err, n)) return -1;
        if (l->out < 1 || l->out > 65536) return fail(err, n, "layer \"%s\": \"out\" must be 1..65536 (got %d)", nm, l->out);
        l->wcount = (size_t)l->out * c * h * w;
        l->bcount = l->bias ? (size_t)l->out : 0;
        l->c = l->out; l->h = l->w = 1;
        break;
    case LO_L_UPSAMPLE: {
        int factor;
        if (get_int(jl, "factor", 2, &factor, nm, err, n)) return -1;
        if (factor < 1 || factor > 64) return fail(err, n, "layer \"%s\": \"factor\" must be 1..64 (got %d)", nm, factor);
        l->h = h * factor; l->w = w * factor;
        const cJSON *js = cJSON_GetObjectItemCaseSensitive(jl, "size");
        if (js) {
            if (!cJSON_IsArray(js) || cJSON_GetArraySize(js) != 2 || !cJSON_IsNumber(cJSON_GetArrayItem(js, 0)) ||
                !cJSON_IsNumber(cJSON_GetArrayItem(js, 1)))
                return fail(err, n, "layer \"%s\": \"size\" must be [H, W]", nm);
            l->h = cJSON_GetArrayItem(js, 0)->valueint;
            l->w = cJSON_GetArrayItem(js, 1)->valueint;
            if (l->h < 1 || l->w < 1 || l->h > 16384 || l->w > 16384)
                return fail(err, n, "layer \"%s\": \"size\" must be positive", nm);
        }
        const cJSON *jm = cJSON_GetObjectItemCaseSensitive(jl, "mode");
        l->mode = LK_UPSAMPLE_NEAREST;
        if (jm) {
            if (cJSON_IsString(jm) && strcmp(jm->valuestring, "nearest") == 0) l->mode = LK_UPSAMPLE_NEAREST;
            else if (cJSON_IsString(jm) && strcmp(jm->valuestring, "bilinear") == 0) l->mode = LK_UPSAMPLE_BILINEAR;
            else return fail(err, n, "layer \"%s\": \"mode\" must be \"bilinear\" or \"nearest\"", nm);
        }
        break;
    }
    case LO_L_ADD:
    case LO_L_CONCAT: {
        int sumc = 0;
        for (int j = 0; j < l->nin; j++) {
            int cj, hj, wj;
            input_shape(net, l->in[j], &cj, &hj, &wj);
            const char *iname = l->in[j] < 0 ? "input" : net->layers[l->in[j]].name;
            if (hj != h || wj != w || (l->type == LO_L_ADD && cj != c))
                return fail(err, n, "layer \"%s\": input \"%s\" is %dx%dx%d but the first input is %dx%dx%d",
                            nm, iname, cj, hj, wj, c, h, w);
            sumc += cj;
        }
        if (l->type == LO_L_CONCAT) l->c = sumc;
        break;
    }
    }
    if (l->h < 1 || l->w < 1) return fail(err, n, "layer \"%s\": output would be empty", nm);
    if ((double)l->c * l->h * l->w * net->batch > 4e9)
        return fail(err, n, "layer \"%s\": output %dx%dx%dx%d is too large", nm, net->batch, l->c, l->h, l->w);
    return 0;
}

int lo__net_parse(lo_net *net, const char *json, const lo_net_config *cfg, char *err, size_t n)
{
    if (!json) return fail(err, n, "architecture: no JSON given");
    cJSON *root = cJSON_Parse(json);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        return fail(err, n, "architecture: invalid JSON near \"%.20s\"", at ? at : "");
    }
    int rc = -1;
    if (!cJSON_IsObject(root)) { fail(err, n, "architecture: top level must be an object"); goto out; }
    const cJSON *jn = cJSON_GetObjectItemCaseSensitive(root, "name");
    snprintf(net->name, sizeof net->name, "%s", cJSON_IsString(jn) ? jn->valuestring : "unnamed");
    const cJSON *jh = cJSON_GetObjectItemCaseSensitive(root, "head");
    net->head = LO_HEAD_CLASSIFIER;
    if (jh) {
        if (cJSON_IsString(jh) && strcmp(jh->valuestring, "classifier") == 0) net->head = LO_HEAD_CLASSIFIER;
        else if (cJSON_IsString(jh) && strcmp(jh->valuestring, "segmentation") == 0) net->head = LO_HEAD_SEGMENTATION;
        else { fail(err, n, "architecture: \"head\" must be \"classifier\" or \"segmentation\""); goto out; }
    }
    /* input shape: JSON defaults, caller overrides */
    int ch = 3, hh = 0, ww = 0;
    const cJSON *jin = cJSON_GetObjectItemCaseSensitive(root, "input");
    if (jin) {
        const cJSON *js = cJSON_GetObjectItemCaseSensitive(jin, "size");
        if (cJSON_IsNumber(js)) hh = ww = js->valueint;
        else if (cJSON_IsArray(js) && cJSON_GetArraySize(js) == 2) {
            hh = cJSON_GetArrayItem(js, 0)->valueint;
            ww = cJSON_GetArrayItem(js, 1)->valueint;
        } else if (js) { fail(err, n, "architecture: \"input.size\" must be H or [H, W]"); goto out; }
        const cJSON *jc = cJSON_GetObjectItemCaseSensitive(jin, "channels");
        if (cJSON_IsNumber(jc)) ch = jc->valueint;
        else if (jc) { fail(err, n, "architecture: \"input.channels\" must be a number"); goto out; }
    }
    if (cfg->channels > 0) ch = cfg->channels;
    if (cfg->height > 0) hh = cfg->height;
    if (cfg->width > 0) ww = cfg->width;
    if (ch < 1 || ch > 4096 || hh < 1 || ww < 1 || hh > 16384 || ww > 16384) {
        fail(err, n, "architecture \"%s\": input shape %dx%dx%d is invalid (set input.size/channels or the config)",
             net->name, ch, hh, ww);
        goto out;
    }
    net->c = ch; net->h = hh; net->w = ww;

    const cJSON *jl = cJSON_GetObjectItemCaseSensitive(root, "layers");
    if (!cJSON_IsArray(jl) || cJSON_GetArraySize(jl) < 1) { fail(err, n, "architecture \"%s\": \"layers\" must be a non-empty array", net->name); goto out; }
    int nl = cJSON_GetArraySize(jl);
    if (nl > 4096) { fail(err, n, "architecture \"%s\": too many layers (%d)", net->name, nl); goto out; }
    net->layers = calloc((size_t)nl, sizeof *net->layers);
    if (!net->layers) { fail(err, n, "out of memory"); goto out; }
    net->nlayers = 0;
    for (int i = 0; i < nl; i++) {
        if (parse_layer(net, i, cJSON_GetArrayItem(jl, i), err, n) != 0) goto out;
        net->nlayers++;
    }
    const cJSON *jo = cJSON_GetObjectItemCaseSensitive(root, "outputs");
    if (jo) {
        if (!cJSON_IsArray(jo) || cJSON_GetArraySize(jo) < 1 || cJSON_GetArraySize(jo) > LO_NET_MAX_OUTPUTS) {
            fail(err, n, "architecture \"%s\": \"outputs\" must list 1..%d layer names", net->name, LO_NET_MAX_OUTPUTS);
            goto out;
        }
        const cJSON *e;
        cJSON_ArrayForEach(e, jo) {
            int idx = cJSON_IsString(e) ? find_layer(net, net->nlayers, e->valuestring) : -2;
            if (idx < 0) { fail(err, n, "architecture \"%s\": output \"%s\" is not a layer", net->name, cJSON_IsString(e) ? e->valuestring : "?"); goto out; }
            net->out[net->nout++] = idx;
            net->layers[idx].is_output = 1;
        }
    } else {
        net->out[net->nout++] = net->nlayers - 1;
        net->layers[net->nlayers - 1].is_output = 1;
    }
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}
