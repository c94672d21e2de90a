/* model_infer.c — inference: load a model file, score an image, build the Anomalies list and the
 * AnomalyMask PNG for segmentation models. The training run scores its test images through the
 * same lo_ensemble_* functions, so the evaluation sees exactly what detect-anomalies returns.
 */
#include "train_infer.h"

#include "dataset.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lo_model {
    lo_model_data md;
    lo_net *nets[LO_MODEL_MAX_MEMBERS];  /* one per member: no parameter copies per request */
    float *image;                         /* decoded input [c][h][w] in [0,1] */
    float *map;                           /* mean map logits */
};

static int fail(lo_train_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(lo_train_error *err, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static float sigmoidf_(float z) { return 1.0f / (1.0f + expf(-z)); }

void lo_ensemble_set_input(lo_net *net, const lo_model_data *md, int slot, const float *image) {
    int b, c, h, w;
    lo_net_input_shape(net, &b, &c, &h, &w);
    size_t plane = (size_t)h * w;
    float *dst = lo_net_input(net) + (size_t)slot * c * plane;
    for (int ch = 0; ch < c; ch++) {
        float m = md->mean[ch], is = 1.0f / md->std[ch];
        for (size_t i = 0; i < plane; i++) dst[ch * plane + i] = (image[ch * plane + i] - m) * is;
    }
}

int lo_ensemble_check(lo_net *net, const lo_model_data *md, char *err, size_t errlen) {
    int b, c, h, w;
    lo_net_input_shape(net, &b, &c, &h, &w);
    if (lo_net_param_count(net) != md->n_params || lo_net_state_count(net) != md->n_state) {
        snprintf(err, errlen, "architecture %s has %zu parameters and %zu state values, the file holds %llu and %llu",
                 md->arch_name, lo_net_param_count(net), lo_net_state_count(net),
                 (unsigned long long)md->n_params, (unsigned long long)md->n_state);
        return -1;
    }
    int want = md->has_map ? 2 : 1;
    if (lo_net_output_count(net) != want) {
        snprintf(err, errlen, "architecture %s has %d outputs, expected %d", md->arch_name,
                 lo_net_output_count(net), want);
        return -1;
    }
    int d[4];
    lo_net_output(net, want - 1, d);
    if (d[1] != 1 || d[2] * d[3] != 1) {
        snprintf(err, errlen, "architecture %s: the score output must be [N][1], it is [N][%d][%d][%d]",
                 md->arch_name, d[1], d[2], d[3]);
        return -1;
    }
    if (md->has_map) {
        lo_net_output(net, 0, d);
        if (d[1] != 1) {
            snprintf(err, errlen, "architecture %s: the map output must have 1 channel, it has %d", md->arch_name, d[1]);
            return -1;
        }
    }
    return 0;
}

void lo_ensemble_accumulate(lo_net *net, const lo_model_data *md, int n, int member, float *score,
                            float *map) {
    int d[4];
    int si = md->has_map ? 1 : 0;
    const float *s = lo_net_output(net, si, d);
    for (int i = 0; i < n; i++) score[i] = (member ? score[i] : 0) + s[i] / (float)md->n_members;
    if (md->has_map && map) {
        const float *m = lo_net_output(net, 0, d);
        size_t cnt = (size_t)n * d[2] * d[3];
        for (size_t i = 0; i < cnt; i++) map[i] = (member ? map[i] : 0) + m[i] / (float)md->n_members;
    }
}

void lo_ensemble_map_shape(lo_net *net, const lo_model_data *md, int *mh, int *mw) {
    int d[4] = {0, 0, 0, 0};
    if (md->has_map) lo_net_output(net, 0, d);
    *mh = d[2];
    *mw = d[3];
}

void lo_model_load_member(lo_net *net, const lo_model_data *md, int member) {
    memcpy(lo_net_params(net), md->params + (size_t)member * md->n_params, md->n_params * sizeof(float));
    if (md->n_state)
        memcpy(lo_net_state(net), md->state + (size_t)member * md->n_state, md->n_state * sizeof(float));
}

lo_model *lo_model_load(const char *path, lo_train_error *err) {
    lo_model *m = calloc(1, sizeof *m);
    if (!m) {
        fail(err, "model %s: out of memory", path);
        return NULL;
    }
    if (lo_model_data_read(path, &m->md, err) != 0) {
        free(m);
        return NULL;
    }
    for (int k = 0; k < m->md.n_members; k++) {
        lo_net_config cfg = {.batch = 1, .channels = m->md.channels, .height = m->md.height,
                             .width = m->md.width, .threads = 0, .training = 0};
        char msg[512];
        m->nets[k] = lo_net_create(m->md.arch_json, &cfg, msg, sizeof msg);
        if (!m->nets[k] || lo_ensemble_check(m->nets[k], &m->md, msg, sizeof msg) != 0) {
            fail(err, "model file %s: %s", path, msg);
            lo_model_free(m);
            return NULL;
        }
        lo_model_load_member(m->nets[k], &m->md, k);
    }
    int mh, mw;
    lo_ensemble_map_shape(m->nets[0], &m->md, &mh, &mw);
    m->image = malloc((size_t)m->md.channels * m->md.height * m->md.width * sizeof(float));
    m->map = malloc(((size_t)mh * mw + 1) * sizeof(float));
    if (!m->image || !m->map) {
        fail(err, "model %s: out of memory", path);
        lo_model_free(m);
        return NULL;
    }
    return m;
}

void lo_model_free(lo_model *m) {
    if (!m) return;
    for (int k = 0; k < LO_MODEL_MAX_MEMBERS; k++) lo_net_free(m->nets[k]);
    free(m->image);
    free(m->map);
    lo_model_data_free(&m->md);
    free(m);
}

int lo_model_is_segmentation(const lo_model *m) { return m ? m->md.segmentation : 0; }

const lo_model_data *lo_model_data_of(const lo_model *m) { return &m->md; }

/* Bilinear sample of a [mh][mw] map at output pixel (x, y) of an ow x oh image (pixel centres
 * aligned, as the network's stride maps them). */
static float sample_map(const float *map, int mh, int mw, int ow, int oh, int x, int y) {
    float fx = ((float)x + 0.5f) * (float)mw / (float)ow - 0.5f;
    float fy = ((float)y + 0.5f) * (float)mh / (float)oh - 0.5f;
    fx = fx < 0 ? 0 : fx > mw - 1 ? (float)(mw - 1) : fx;
    fy = fy < 0 ? 0 : fy > mh - 1 ? (float)(mh - 1) : fy;
    int x0 = (int)fx, y0 = (int)fy;
    int x1 = x0 + 1 < mw ? x0 + 1 : x0, y1 = y0 + 1 < mh ? y0 + 1 : y0;
    float ax = fx - (float)x0, ay = fy - (float)y0;
    float top = map[y0 * mw + x0] * (1 - ax) + map[y0 * mw + x1] * ax;
    float bot = map[y1 * mw + x0] * (1 - ax) + map[y1 * mw + x1] * ax;
    return top * (1 - ay) + bot * ay;
}

void lo_model_class_mask(const lo_model_data *md, const float *map_logit, int mh, int mw, int is_anomalous,
                         int ow, int oh, uint8_t *out) {
    float zt = logf(md->pixel_threshold / (1 - md->pixel_threshold));
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++)
            out[(size_t)y * ow + x] =
                is_anomalous && sample_map(map_logit, mh, mw, ow, oh, x, y) >= zt ? 1 : 0;
}

int lo_model_detect(lo_model *m, const uint8_t *data, size_t len, const char *what,
                    lo_detect_result *out, lo_train_error *err) {
    memset(out, 0, sizeof *out);
    if (!m) return fail(err, "%s: no model loaded", what);
    lo_model_data *md = &m->md;
    int ow = 0, oh = 0;
    lds_error le;
    if (lds_load_image_memory(data, len, what, md->channels, md->width, md->height, m->image, &ow, &oh, &le) != 0)
        return fail(err, "%s", le.message);
    float score = 0;
    for (int k = 0; k < md->n_members; k++) {
        lo_ensemble_set_input(m->nets[k], md, 0, m->image);
        lo_net_forward(m->nets[k], 0);
        lo_ensemble_accumulate(m->nets[k], md, 1, k, &score, m->map);
    }
    float p = sigmoidf_(score);
    out->score = p;
    out->confidence = lo_confidence(p, md->threshold, md->calib_slope, &out->is_anomalous);
    if (!md->segmentation) return 0;

    int mh, mw;
    lo_ensemble_map_shape(m->nets[0], md, &mh, &mw);
    size_t npx = (size_t)ow * oh;
    uint8_t *cls = malloc(npx), *rgb = malloc(npx * 3);
    if (!cls || !rgb) {
        free(cls);
        free(rgb);
        return fail(err, "%s: out of memory for the %dx%d mask", what, ow, oh);
    }
    lo_model_class_mask(md, m->map, mh, mw, out->is_anomalous, ow, oh, cls);
    int64_t count[LO_MODEL_MAX_CLASSES] = {0};
    for (size_t i = 0; i < npx; i++) {
        int c = cls[i] < md->n_classes ? cls[i] : 0;
        count[c]++;
        memcpy(rgb + 3 * i, md->class_rgb[c], 3);
    }
    free(cls);
    for (int c = 0; c < md->n_classes && out->n_anomalies < 32; c++) {
        if (c > 0 && count[c] == 0) continue; /* background first, then the classes found */
        int j = out->n_anomalies++;
        snprintf(out->anomalies[j].name, sizeof out->anomalies[j].name, "%s", md->class_names[c]);
        snprintf(out->anomalies[j].hex_color, sizeof out->anomalies[j].hex_color, "#%02x%02x%02x",
                 md->class_rgb[c][0], md->class_rgb[c][1], md->class_rgb[c][2]);
        out->anomalies[j].total_percentage_area = (double)count[c] / (double)npx;
    }
    out->mask_png = lds_encode_png(rgb, ow, oh, 3, &out->mask_png_len);
    free(rgb);
    if (!out->mask_png) {
        lo_detect_result_free(out);
        return fail(err, "%s: could not encode the anomaly mask PNG", what);
    }
    return 0;
}

void lo_detect_result_free(lo_detect_result *r) {
    if (!r) return;
    free(r->mask_png);
    r->mask_png = NULL;
    r->mask_png_len = 0;
}
