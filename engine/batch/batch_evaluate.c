/* batch_evaluate.c — metrics of a batch whose images are labelled. Only the small per-image facts
 * are kept (score, label, verdict, confidence, path), never the images, so the job's memory does
 * not grow with image data. The files come from eval/ (the same writers as create-model's). */
#include "batch_evaluate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int lo_batch_eval_add(lo_batch_eval *ev, const lo_batch_item *it) {
    if (it->label < 0 || it->error) return 0;
    if (ev->n == ev->cap) {
        size_t c = ev->cap ? 2 * ev->cap : 256;
        float *s = realloc(ev->scores, c * sizeof *s);
        if (s) ev->scores = s;
        uint8_t *l = realloc(ev->labels, c);
        if (l) ev->labels = l;
        uint8_t *p = realloc(ev->predicted, c);
        if (p) ev->predicted = p;
        double *cf = realloc(ev->confidence, c * sizeof *cf);
        if (cf) ev->confidence = cf;
        char **pa = realloc(ev->paths, c * sizeof *pa);
        if (pa) ev->paths = pa;
        if (!s || !l || !p || !cf || !pa) return -1;
        ev->cap = c;
    }
    char *path = strdup(it->path);
    if (!path) return -1;
    ev->scores[ev->n] = it->res.score;
    ev->labels[ev->n] = (uint8_t)it->label;
    ev->predicted[ev->n] = (uint8_t)(it->res.is_anomalous != 0);
    ev->confidence[ev->n] = it->res.confidence;
    ev->paths[ev->n] = path;
    ev->n++;
    return 0;
}

/* The model's threshold is inside its file; the verdicts are "score >= threshold", so the lowest
 * score judged anomalous is a cut that reproduces every verdict exactly (and above the highest
 * score when nothing was judged anomalous). */
static float verdict_threshold(const lo_batch_eval *ev) {
    float lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < ev->n; i++) {
        if (ev->predicted[i] && ev->scores[i] < lo) lo = ev->scores[i];
        if (ev->scores[i] > hi) hi = ev->scores[i];
    }
    return isfinite(lo) ? lo : nextafterf(hi, INFINITY);
}

int lo_batch_eval_write(const lo_batch_eval *ev, const lev_details *d, const char *result_path,
                        const char *report_path, lev_metrics *m, char *msg, size_t cap) {
    float thr = verdict_threshold(ev);
    lev_error le = {{0}};
    if (lev_image_metrics(ev->scores, ev->labels, ev->n, thr, 1000, 20261128u, m, &le) != 0) {
        snprintf(msg, cap, "metrics: %s", le.message);
        return -1;
    }
    if (lev_write_result(result_path, d, m, NULL, &le) != 0) {
        snprintf(msg, cap, "%s", le.message);
        return -1;
    }
    lev_prediction *p = calloc(ev->n ? ev->n : 1, sizeof *p);
    if (!p) {
        snprintf(msg, cap, "out of memory for the report of %zu images", ev->n);
        return -1;
    }
    for (size_t i = 0; i < ev->n; i++) {
        p[i].image_path = ev->paths[i];
        p[i].score = ev->scores[i];
        p[i].confidence = ev->confidence[i];
        p[i].is_anomaly_truth = ev->labels[i];
        p[i].predicted_anomalous = ev->predicted[i];
    }
    int rc = lev_write_report(report_path, d, m, NULL, p, ev->n, thr, &le);
    free(p);
    if (rc != 0) {
        snprintf(msg, cap, "%s", le.message);
        return -1;
    }
    return 0;
}

void lo_batch_eval_free(lo_batch_eval *ev) {
    for (size_t i = 0; i < ev->n; i++) free(ev->paths[i]);
    free(ev->scores);
    free(ev->labels);
    free(ev->predicted);
    free(ev->confidence);
    free(ev->paths);
    memset(ev, 0, sizeof *ev);
}
