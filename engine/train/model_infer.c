/* model_infer.c — inference: load a model file, score an image, build the Anomalies list and the
 * AnomalyMask PNG for segmentation models. The training run scores its test images through the
 * same lo_ensemble_* functions, so the evaluation sees exactly what detect-anomalies returns.
 *
 * lo_model_detect is thread-safe: a model holds LO_INFER_WORKSPACES workspaces (member networks,
 * input and mask buffers, all made at load time) and each call borrows a free one, so concurrent
 * detect-anomalies requests on one hosted model run side by side, one core each (the networks
 * are single-threaded: no synchronization inside a layer). A request that finds a second
 * workspace free borrows it too and runs half of its forwards on a second thread.
 */
#include "train_infer.h"

#include "dataset.h"

#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One request's private state. */
typedef struct {
    lo_net *nets[LO_MODEL_MAX_MEMBERS];  /* one per member, single-threaded */
    float *image;                         /* decoded input [c][h][w] in [0,1] */
    float *map;                           /* mean map logits */
    float *cls;                           /* mean class-head logits [k][mh][mw] (k = 0: none) */
    int k;
    /* each (member, view) pass's share of the score, map and class logits ([member * views +
     * view][...]), summed in that order afterwards: the sum does not depend on which thread ran
     * which pass */
    float vscore[LO_MODEL_MAX_MEMBERS * 4];
    float *vmap, *vcls;
    int mh, mw;                           /* the map's size */
    uint8_t *px_cls, *rgb;                /* mask at the input's size, grown to the largest seen */
    size_t mask_cap;                      /* pixels cls and rgb hold */
    int busy;
} lo_infer_ws;

struct lo_model {
    lo_model_data md;
    int n_ws;
    lo_infer_ws ws[LO_INFER_WORKSPACES];
    pthread_mutex_t mu; /* guards busy flags only: never held during a detect */
    pthread_cond_t freed;
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
    int want = md->has_map ? 2 : 1, k = lo_net_class_count(net);
    /* a class head (third output) names the defect classes of a segmentation model */
    if (md->has_map && md->segmentation && k > 0) want = 3;
    if (lo_net_output_count(net) != want) {
        snprintf(err, errlen, "architecture %s has %d outputs, expected %d", md->arch_name,
                 lo_net_output_count(net), want);
        return -1;
    }
    int d[4];
    lo_net_output(net, md->has_map ? 1 : 0, d);
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
    if (want == 3) {
        int dm[4];
        lo_net_output(net, 0, dm);
        lo_net_output(net, 2, d);
        if (k != md->n_classes - 1 || d[2] != dm[2] || d[3] != dm[3]) {
            snprintf(err, errlen, "architecture %s: the class head has %d classes at %dx%d, the model %d defect classes "
                     "and a %dx%d map", md->arch_name, k, d[3], d[2], md->n_classes - 1, dm[3], dm[2]);
            return -1;
        }
    }
    return 0;
}

void lo_flip_input(lo_net *net) {
    int b, c, h, w;
    lo_net_input_shape(net, &b, &c, &h, &w);
    float *x = lo_net_input(net);
    for (size_t r = 0, rows = (size_t)b * c * h; r < rows; r++) {
        float *row = x + r * w;
        for (int i = 0, j = w - 1; i < j; i++, j--) {
            float t = row[i];
            row[i] = row[j];
            row[j] = t;
        }
    }
}

/* Turns every image of the net's input batch upside down in place. */
static void flip_input_v(lo_net *net) {
    int b, c, h, w;
    lo_net_input_shape(net, &b, &c, &h, &w);
    float *x = lo_net_input(net);
    for (size_t p = 0, planes = (size_t)b * c; p < planes; p++)
        for (int i = 0, j = h - 1; i < j; i++, j--) {
            float *ri = x + (p * h + i) * w, *rj = x + (p * h + j) * w;
            for (int k = 0; k < w; k++) {
                float t = ri[k];
                ri[k] = rj[k];
                rj[k] = t;
            }
        }
}

#define MIRROR_LR 1
#define MIRROR_UD 2
/* Adds weight * the rows of output `index` ([n][ch][mh][mw]) into dst, mirrored back the ways
 * (MIRROR_LR, MIRROR_UD) the input was. */
static void add_planes(lo_net *net, int index, int n, float weight, int mirrored, int overwrite, float *dst) {
    int d[4];
    const float *m = lo_net_output(net, index, d);
    int mh = d[2], mw = d[3];
    size_t rows = (size_t)n * d[1] * mh;
    for (size_t r = 0; r < rows; r++) {
        size_t src = mirrored & MIRROR_UD ? r - r % (size_t)mh + (size_t)(mh - 1) - r % (size_t)mh : r;
        for (int x = 0; x < mw; x++)
            dst[r * mw + x] = (overwrite ? 0 : dst[r * mw + x]) +
                              m[src * mw + (mirrored & MIRROR_LR ? mw - 1 - x : x)] * weight;
    }
}

/* Adds weight * (one forward's outputs) into score[n] and map[n][mh][mw] (and the class head's
 * logits into cls); mirrored: the maps are mirrored back first. */
static void add_outputs(lo_net *net, const lo_model_data *md, int n, float weight, int mirrored, int overwrite,
                        float *score, float *map, float *cls) {
    int d[4];
    const float *s = lo_net_output(net, md->has_map ? 1 : 0, d);
    for (int i = 0; i < n; i++) score[i] = (overwrite ? 0 : score[i]) + s[i] * weight;
    if (md->has_map && map) add_planes(net, 0, n, weight, mirrored, overwrite, map);
    if (md->has_map && cls && lo_net_class_count(net) > 0) add_planes(net, 2, n, weight, mirrored, overwrite, cls);
}

static int view_count(const lo_model_data *md) { return (md->flip_average ? 2 : 1) * (md->flip_average_v ? 2 : 1); }

/* The mirrors (MIRROR_LR | MIRROR_UD) view v shows, in the views' order: as is, left-right, both,
 * up-down, so one flip of the input leads from each view to the next. */
static int view_mirrors(const lo_model_data *md, int v) {
    const int lr = md->flip_average ? 2 : 1;
    return (lr == 2 && ((v % 2) ^ (v / 2)) ? MIRROR_LR : 0) | (v / lr ? MIRROR_UD : 0);
}

/* Flips the net's input the ways `flips` says. */
static void mirror_input(lo_net *net, int flips) {
    if (flips & MIRROR_LR) lo_flip_input(net);
    if (flips & MIRROR_UD) flip_input_v(net);
}

void lo_ensemble_member_pass(lo_net *net, const lo_model_data *md, int n, int member, float *score, float *map,
                             float *cls, void (*forward)(lo_net *)) {
    const int views = view_count(md);
    const float weight = 1.0f / (float)(md->n_members * views);
    for (int v = 0, mirrored = 0; v < views; v++) {
        const int want = view_mirrors(md, v);
        mirror_input(net, want ^ mirrored);
        mirrored = want;
        forward(net);
        add_outputs(net, md, n, weight, mirrored, member == 0 && v == 0, score, map, cls);
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

static void ws_free(lo_infer_ws *w) {
    for (int k = 0; k < LO_MODEL_MAX_MEMBERS; k++) lo_net_free(w->nets[k]);
    free(w->image);
    free(w->map);
    free(w->cls);
    free(w->vmap);
    free(w->vcls);
    free(w->px_cls);
    free(w->rgb);
    memset(w, 0, sizeof *w);
}

static int ws_init(lo_infer_ws *w, const lo_model_data *md, const char *path, lo_train_error *err) {
    for (int k = 0; k < md->n_members; k++) {
        lo_net_config cfg = {.batch = 1, .channels = md->channels, .height = md->height, .width = md->width,
                             .threads = 1, .training = 0};
        char msg[512];
        w->nets[k] = lo_net_create(md->arch_json, &cfg, msg, sizeof msg);
        if (!w->nets[k] || lo_ensemble_check(w->nets[k], md, msg, sizeof msg) != 0)
            return fail(err, "model file %s: %s", path, msg);
        lo_model_load_member(w->nets[k], md, k);
    }
    int mh, mw;
    lo_ensemble_map_shape(w->nets[0], md, &mh, &mw);
    w->mh = mh;
    w->mw = mw;
    w->image = malloc((size_t)md->channels * md->height * md->width * sizeof(float));
    w->map = malloc(((size_t)mh * mw + 1) * sizeof(float));
    w->k = md->has_map ? lo_net_class_count(w->nets[0]) : 0;
    w->cls = malloc(((size_t)w->k * mh * mw + 1) * sizeof(float));
    const size_t passes = (size_t)md->n_members * 4;
    w->vmap = malloc((passes * mh * mw + 1) * sizeof(float));
    w->vcls = malloc((passes * w->k * mh * mw + 1) * sizeof(float));
    if (!w->image || !w->map || !w->cls || !w->vmap || !w->vcls) return fail(err, "model %s: out of memory", path);
    return 0;
}

/* Workspaces: one per core, so every core can serve a request (at most LO_INFER_WORKSPACES). */
static int workspace_count(void) {
    int n = omp_get_num_procs();
    return n < 1 ? 1 : n > LO_INFER_WORKSPACES ? LO_INFER_WORKSPACES : n;
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
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->freed, NULL);
    int want = workspace_count();
    for (m->n_ws = 0; m->n_ws < want; m->n_ws++) {
        if (ws_init(&m->ws[m->n_ws], &m->md, path, err) != 0) {
            m->n_ws++;
            lo_model_free(m);
            return NULL;
        }
    }
    return m;
}

void lo_model_free(lo_model *m) {
    if (!m) return;
    for (int i = 0; i < m->n_ws; i++) ws_free(&m->ws[i]);
    pthread_mutex_destroy(&m->mu);
    pthread_cond_destroy(&m->freed);
    lo_model_data_free(&m->md);
    free(m);
}

/* Borrows a free workspace (waits while all are busy). */
static lo_infer_ws *ws_acquire(lo_model *m) {
    pthread_mutex_lock(&m->mu);
    lo_infer_ws *w = NULL;
    for (;;) {
        for (int i = 0; i < m->n_ws && !w; i++)
            if (!m->ws[i].busy) w = &m->ws[i];
        if (w) break;
        pthread_cond_wait(&m->freed, &m->mu);
    }
    w->busy = 1;
    pthread_mutex_unlock(&m->mu);
    return w;
}

static void ws_release(lo_model *m, lo_infer_ws *w) {
    pthread_mutex_lock(&m->mu);
    w->busy = 0;
    pthread_cond_signal(&m->freed);
    pthread_mutex_unlock(&m->mu);
}

int lo_model_is_segmentation(const lo_model *m) { return m ? m->md.segmentation : 0; }

const lo_model_data *lo_model_data_of(const lo_model *m) { return &m->md; }

/* Bilinear sample coordinates along one axis: output pixel i of n_out maps to source position
 * (i + 0.5) * n_in / n_out - 0.5 (pixel centres aligned, as the network's stride maps them),
 * clamped to the map. */
static void axis_taps(int n_in, int n_out, int *i0, int *i1, float *a) {
    for (int i = 0; i < n_out; i++) {
        float f = ((float)i + 0.5f) * (float)n_in / (float)n_out - 0.5f;
        f = f < 0 ? 0 : f > n_in - 1 ? (float)(n_in - 1) : f;
        i0[i] = (int)f;
        i1[i] = i0[i] + 1 < n_in ? i0[i] + 1 : i0[i];
        a[i] = f - (float)i0[i];
    }
}

/* Paints the cells at or above logit zt, bilinearly resampled to ow x oh; returns how many
 * pixels it painted and the highest resampled logit in *peak. */
static size_t paint_above(const float *map_logit, int mh, int mw, float zt, int ow, int oh, uint8_t *out,
                          float *peak) {
    size_t painted = 0;
    *peak = -INFINITY;
    int *x0 = malloc(sizeof(int) * (size_t)ow * 2), *y0 = malloc(sizeof(int) * (size_t)oh * 2);
    float *ax = malloc(sizeof(float) * (size_t)ow), *ay = malloc(sizeof(float) * (size_t)oh);
    if (!x0 || !y0 || !ax || !ay) { /* a few KB: on failure paint nothing rather than crash */
        memset(out, 0, (size_t)ow * oh);
    } else {
        int *x1 = x0 + ow, *y1 = y0 + oh;
        axis_taps(mw, ow, x0, x1, ax);
        axis_taps(mh, oh, y0, y1, ay);
        for (int y = 0; y < oh; y++) {
            const float *r0 = map_logit + (size_t)y0[y] * mw, *r1 = map_logit + (size_t)y1[y] * mw;
            float b = ay[y];
            uint8_t *o = out + (size_t)y * ow;
            for (int x = 0; x < ow; x++) {
                float a = ax[x];
                float top = r0[x0[x]] * (1 - a) + r0[x1[x]] * a;
                float bot = r1[x0[x]] * (1 - a) + r1[x1[x]] * a;
                float v = top * (1 - b) + bot * b;
                *peak = fmaxf(*peak, v);
                o[x] = v >= zt ? 1 : 0;
                painted += o[x];
            }
        }
    }
    free(x0);
    free(y0);
    free(ax);
    free(ay);
    return painted;
}

void lo_model_class_mask(const lo_model_data *md, const float *map_logit, int mh, int mw, int is_anomalous,
                         int ow, int oh, uint8_t *out) {
    if (!is_anomalous) { /* a normal verdict paints no defect */
        memset(out, 0, (size_t)ow * oh);
        return;
    }
    float zt = logf(md->pixel_threshold / (1 - md->pixel_threshold)), peak;
    /* An anomalous verdict always shows where: the image score can cross the threshold through
     * the global term while no pixel reaches the pixel threshold, and an all-background mask on
     * an anomalous image tells the user nothing. Then the pixels within a factor e of the peak's
     * odds are painted: the peak of the resampled map, since resampling lowers a one-cell peak
     * (taking the cells' peak left some masks empty). */
    if (paint_above(map_logit, mh, mw, zt, ow, oh, out, &peak) == 0 && peak > -INFINITY)
        paint_above(map_logit, mh, mw, peak - 1.0f, ow, oh, out, &peak);
}

/* A single-threaded net's kernels use orphaned `omp for` loops, which bind to the innermost
 * enclosing parallel region: inside a caller's region (batch-detect scores images in one) they
 * would split their iterations with threads running other images, and deadlock. A one-thread
 * region of its own gives them a team to bind to. */
static void forward_alone(lo_net *net) {
#pragma omp parallel num_threads(1)
    lo_net_forward(net, 0);
}

/* Borrows a free workspace if there is one, without waiting. */
static lo_infer_ws *ws_try_acquire(lo_model *m) {
    lo_infer_ws *w = NULL;
    pthread_mutex_lock(&m->mu);
    for (int i = 0; i < m->n_ws && !w; i++)
        if (!m->ws[i].busy) w = &m->ws[i];
    if (w) w->busy = 1;
    pthread_mutex_unlock(&m->mu);
    return w;
}

/* Passes [p0, p1) of an image (pass p = member p / views, view p % views, in the views' order of
 * lo_ensemble_member_pass: as is, left-right, both, up-down), each on that member's network of
 * `nets`, into its slot of w. A flip is exact, so a pass scores as it does there. */
static void run_passes(const lo_model_data *md, lo_infer_ws *w, lo_net *const *nets, int p0, int p1) {
    const int views = view_count(md);
    const float weight = 1.0f / (float)(md->n_members * views);
    const size_t mplane = (size_t)w->mh * w->mw;
    for (int p = p0; p < p1; p++) {
        lo_net *net = nets[p / views];
        const int mirrored = view_mirrors(md, p % views);
        lo_ensemble_set_input(net, md, 0, w->image);
        mirror_input(net, mirrored);
        forward_alone(net);
        add_outputs(net, md, 1, weight, mirrored, 1, &w->vscore[p], md->has_map ? w->vmap + p * mplane : NULL,
                    w->k ? w->vcls + p * w->k * mplane : NULL);
    }
}

/* out[i] = the sum over slots p (len floats each, in order) of slots[p * len + i] */
static void sum_slots(const float *slots, int passes, size_t len, float *out) {
    for (size_t i = 0; i < len; i++) {
        float v = 0;
        for (int p = 0; p < passes; p++) v += slots[p * len + i];
        out[i] = v;
    }
}

typedef struct {
    const lo_model_data *md;
    lo_infer_ws *w, *helper;
    int p0, p1;
} pass_range;

static void *run_pass_range(void *arg) {
    pass_range *r = arg;
    run_passes(r->md, r->w, r->helper->nets, r->p0, r->p1);
    return NULL;
}

/* Runs the members' forwards and averages their logits into *score, w->map and w->cls. When a
 * second workspace is free (one per core: no other request holds that core), a second thread
 * runs half of the passes on its networks: the forwards were most of a detect (cookies: 3
 * members x 4 views, 1.7 ms each, against 6 ms to decode), and that half now overlaps. A
 * request arriving meanwhile waits for the borrowed workspace at most that half. Spreading every
 * layer over both cores with OpenMP instead made a detect slower on the shared box (median 50-56
 * ms against 25-37 ms, load average 7-9): the pool's spinning threads also slowed the next
 * request's decode; this thread does not spin and ends with the detect. */
static void ensemble_forward(lo_model *m, lo_infer_ws *w, float *score) {
    const lo_model_data *md = &m->md;
    const int passes = md->n_members * view_count(md);
    lo_infer_ws *h = passes > 1 ? ws_try_acquire(m) : NULL;
    pass_range r = {md, w, h, (passes + 1) / 2, passes};
    pthread_t th;
    if (h && pthread_create(&th, NULL, run_pass_range, &r) != 0) {
        ws_release(m, h);
        h = NULL;
    }
    run_passes(md, w, w->nets, 0, h ? r.p0 : passes);
    if (h) {
        pthread_join(th, NULL);
        ws_release(m, h);
    }
    const size_t mplane = (size_t)w->mh * w->mw;
    sum_slots(w->vscore, passes, 1, score);
    if (md->has_map) sum_slots(w->vmap, passes, mplane, w->map);
    sum_slots(w->vcls, passes, (size_t)w->k * mplane, w->cls);
}

int lo_model_paint(const lo_model_data *md, const float *map_logit, const float *cls_logit, int k, int mh, int mw,
                   int is_anomalous, int ow, int oh, uint8_t *out) {
    int bx = 0, by = 0, fw = md->width, fh = md->height;
    if (md->fit) lds_fit_box(ow, oh, md->width, md->height, &bx, &by, &fw, &fh);
    if (fw == md->width && fh == md->height) { /* the image fills the input */
        lo_model_class_mask(md, map_logit, mh, mw, is_anomalous, ow, oh, out);
        if (k > 0 && is_anomalous) lo_classes_paint(cls_logit, k, mh, mw, ow, oh, out);
        return 0;
    }
    double sx = (double)ow / fw, sy = (double)oh / fh;
    int x0 = (int)lround(bx * sx), y0 = (int)lround(by * sy);
    int cw = (int)lround(md->width * sx), ch = (int)lround(md->height * sy);
    if (cw < x0 + ow) cw = x0 + ow;
    if (ch < y0 + oh) ch = y0 + oh;
    uint8_t *canvas = malloc((size_t)cw * ch);
    if (!canvas) {
        memset(out, 0, (size_t)ow * oh);
        return -1;
    }
    lo_model_class_mask(md, map_logit, mh, mw, is_anomalous, cw, ch, canvas);
    if (k > 0 && is_anomalous) lo_classes_paint(cls_logit, k, mh, mw, cw, ch, canvas);
    for (int y = 0; y < oh; y++) memcpy(out + (size_t)y * ow, canvas + (size_t)(y + y0) * cw + x0, (size_t)ow);
    free(canvas);
    return 0;
}

/* Decodes an image into w->image at the model's input, with its original size in *ow x *oh. */
static int decode_ws(const lo_model_data *md, lo_infer_ws *w, const uint8_t *data, size_t len, const char *what,
                     int *ow, int *oh, lo_train_error *err) {
    lds_error le;
    if ((md->fit ? lds_load_image_fit_memory : lds_load_image_memory)(data, len, what, md->channels, md->width,
                                                                      md->height, w->image, ow, oh, &le) != 0)
        return fail(err, "%s", le.message);
    /* the same 8-bit steps as training's image bank (train_data.c keeps images as bytes), so a
     * test image scores here exactly as the evaluation scored it */
    for (size_t i = 0, n = (size_t)md->channels * md->width * md->height; i < n; i++) {
        float v = w->image[i] * 255.0f + 0.5f;
        w->image[i] = (float)(int)(v < 0 ? 0 : v > 255 ? 255 : v) * (1.0f / 255.0f);
    }
    return 0;
}

/* The detect proper, on a borrowed workspace. */
static int detect_ws(lo_model *m, lo_infer_ws *w, const uint8_t *data, size_t len, const char *what,
                     lo_detect_result *out, lo_train_error *err) {
    lo_model_data *md = &m->md;
    int ow = 0, oh = 0;
    if (decode_ws(md, w, data, len, what, &ow, &oh, err) != 0) return -1;
    float score = 0;
    ensemble_forward(m, w, &score);
    float p = sigmoidf_(score);
    out->score = p;
    out->confidence = lo_confidence(p, md->threshold, md->calib_slope, &out->is_anomalous);
    if (!md->segmentation) return 0;

    int mh, mw;
    lo_ensemble_map_shape(w->nets[0], md, &mh, &mw);
    size_t npx = (size_t)ow * oh;
    if (npx > w->mask_cap) { /* grown, never shrunk: same-size requests allocate nothing */
        free(w->px_cls);
        free(w->rgb);
        w->px_cls = malloc(npx);
        w->rgb = malloc(npx * 3);
        w->mask_cap = w->px_cls && w->rgb ? npx : 0;
        if (!w->mask_cap) return fail(err, "%s: out of memory for the %dx%d mask", what, ow, oh);
    }
    uint8_t *cls = w->px_cls, *rgb = w->rgb;
    /* which class each defect pixel is, when the model has a class head */
    if (lo_model_paint(md, w->map, w->cls, w->k, mh, mw, out->is_anomalous, ow, oh, cls) != 0)
        return fail(err, "%s: out of memory for the %dx%d mask", what, ow, oh);
    int64_t count[LO_MODEL_MAX_CLASSES] = {0};
    for (size_t i = 0; i < npx; i++) {
        int c = cls[i] < md->n_classes ? cls[i] : 0;
        count[c]++;
        memcpy(rgb + 3 * i, md->class_rgb[c], 3);
    }
    for (int c = 0; c < md->n_classes && out->n_anomalies < 32; c++) {
        if (c > 0 && count[c] == 0) continue; /* background first, then the classes found */
        int j = out->n_anomalies++;
        snprintf(out->anomalies[j].name, sizeof out->anomalies[j].name, "%s", md->class_names[c]);
        snprintf(out->anomalies[j].hex_color, sizeof out->anomalies[j].hex_color, "#%02x%02x%02x",
                 md->class_rgb[c][0], md->class_rgb[c][1], md->class_rgb[c][2]);
        out->anomalies[j].total_percentage_area = (double)count[c] / (double)npx;
    }
    /* few colours: lds_encode_png writes a palette PNG (about 1 ms at 576x768) */
    out->mask_png = lds_encode_png(rgb, ow, oh, 3, &out->mask_png_len);
    if (!out->mask_png) {
        lo_detect_result_free(out);
        return fail(err, "%s: could not encode the anomaly mask PNG", what);
    }
    return 0;
}

int lo_model_detect(lo_model *m, const uint8_t *data, size_t len, const char *what,
                    lo_detect_result *out, lo_train_error *err) {
    memset(out, 0, sizeof *out);
    if (!m) return fail(err, "%s: no model loaded", what);
    lo_infer_ws *w = ws_acquire(m);
    int rc = detect_ws(m, w, data, len, what, out, err);
    ws_release(m, w);
    return rc;
}

int lo_model_member_logits(lo_model *m, const uint8_t *data, size_t len, const char *what, float *logits,
                           lo_train_error *err) {
    if (!m) return fail(err, "%s: no model loaded", what);
    const lo_model_data *md = &m->md;
    lo_infer_ws *w = ws_acquire(m);
    int ow, oh, rc = decode_ws(md, w, data, len, what, &ow, &oh, err);
    for (int k = 0; rc == 0 && k < md->n_members; k++) {
        /* as member 0 (its views overwrite, not add) of a one-member mean: the member's own logit */
        float t = 0;
        lo_ensemble_set_input(w->nets[k], md, 0, w->image);
        lo_ensemble_member_pass(w->nets[k], md, 1, 0, &t, NULL, NULL, forward_alone);
        logits[k] = t * (float)md->n_members;
    }
    ws_release(m, w);
    return rc;
}

void lo_detect_result_free(lo_detect_result *r) {
    if (!r) return;
    free(r->mask_png);
    r->mask_png = NULL;
    r->mask_png_len = 0;
}
