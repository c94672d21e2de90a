/* report_html.c — EvaluationReport-<project>-<version>.html: one self-contained page a quality
 * engineer can open anywhere (inline CSS and SVG, images as data: URIs, no script, no network). */
#include "eval_internal.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static const char *css =
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#222;max-width:1200px}"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd}"
    ".sub{color:#666;font-size:13px}table{border-collapse:collapse;font-size:14px}"
    "td,th{border:1px solid #ccc;padding:5px 10px;text-align:right}th{background:#f4f4f4}"
    "td.l,th.l{text-align:left}.charts{display:flex;flex-wrap:wrap;gap:16px}"
    ".charts svg{border:1px solid #ddd}.note{background:#fff7e0;border:1px solid #f0d080;padding:6px 10px;"
    "font-size:13px;margin:8px 0}.grid{display:flex;flex-wrap:wrap;gap:12px}"
    "figure{margin:0;border:1px solid #ddd;padding:6px;background:#fafafa;max-width:220px}"
    "figcaption{font-size:12px;overflow-wrap:anywhere}.bad{color:#b00}.ok{color:#070}"
    "td.cm{font-size:18px;min-width:70px;text-align:center}";

static void metric_row(lev__buf *b, const char *name, double v, const lev_interval *ci, int n_boot, const char *why)
{
    lev__buf_printf(b, "<tr><th class='l'>%s</th>", name);
    if (v < 0)
        lev__buf_printf(b, "<td>undefined</td>");
    else
        lev__buf_printf(b, "<td>%.3f</td>", v);
    if (ci && n_boot > 0)
        lev__buf_printf(b, "<td>%.3f &ndash; %.3f</td>", ci->lo, ci->hi);
    else
        lev__buf_puts(b, "<td>&ndash;</td>");
    lev__buf_puts(b, "<td class='l'>");
    lev__buf_html(b, why);
    lev__buf_puts(b, "</td></tr>\n");
}

static void header(lev__buf *b, const lev_details *d, const lev_metrics *m, float threshold)
{
    char when[40];
    lev__iso_time(d->end_time, when);
    lev__buf_puts(b, "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n<title>Evaluation of ");
    lev__buf_html(b, d->project_name);
    lev__buf_puts(b, " version ");
    lev__buf_html(b, d->model_version);
    lev__buf_printf(b, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>Evaluation of ", css);
    lev__buf_html(b, d->project_name);
    lev__buf_puts(b, ", model version ");
    lev__buf_html(b, d->model_version);
    lev__buf_puts(b, "</h1>\n<div class='sub'>");
    lev__buf_html(b, d->model_arn);
    lev__buf_printf(b, "<br>evaluation finished %s UTC &middot; %lld training images &middot; %lld test images "
                       "(%lld anomalous, %lld normal) &middot; threshold %.4g</div>\n",
                    when, (long long)d->n_training_images, (long long)d->n_testing_images, (long long)m->n_anomalies,
                    (long long)m->n_normals, (double)threshold);
}

static void metrics_table(lev__buf *b, const lev_metrics *m)
{
    lev__buf_puts(b, "<h2>Metrics</h2>\n");
    if (m->note[0]) {
        lev__buf_puts(b, "<div class='note'>");
        lev__buf_html(b, m->note);
        lev__buf_puts(b, "</div>\n");
    }
    lev__buf_puts(b, "<table>\n<tr><th class='l'>metric</th><th>value</th><th>95 % interval</th><th class='l'>meaning</th></tr>\n");
    metric_row(b, "Precision", m->precision, &m->precision_ci, m->n_boot, "of the images flagged anomalous, the share that were");
    metric_row(b, "Recall", m->recall, &m->recall_ci, m->n_boot, "of the anomalous images, the share that were flagged");
    metric_row(b, "F1 score", m->f1, &m->f1_ci, m->n_boot, "harmonic mean of precision and recall");
    metric_row(b, "ROC AUC", m->roc_auc, NULL, 0, "chance that an anomalous image scores above a normal one (any threshold)");
    metric_row(b, "Average precision", m->average_precision, NULL, 0, "area under the precision-recall steps (any threshold)");
    lev__buf_puts(b, "</table>\n");
    if (m->n_boot > 0)
        lev__buf_printf(b, "<p class='sub'>Intervals: stratified percentile bootstrap, %d resamples (anomalies and normals "
                           "resampled separately, threshold fixed), seed %llu. With few test anomalies one miss moves "
                           "recall a lot: read the interval, not just the value.</p>\n",
                        m->n_boot, (unsigned long long)m->seed);
}

/* One row per fold as run: a failed fold shows its reason instead of numbers. */
static void fold_runs_table(lev__buf *b, const lev_details *d)
{
    lev__buf_puts(b, "<p class='sub'>Fold by fold:</p>\n<table>\n<tr><th>fold</th><th>train</th><th>held out</th><th>threshold</th><th>precision</th>"
                     "<th>recall</th><th>F1</th><th>ROC AUC</th><th>AP</th><th>TP / FP / FN / TN</th><th>seconds</th></tr>\n");
    for (int i = 0; i < d->n_fold_runs; i++) {
        const lev_fold_run *r = &d->fold_runs[i];
        lev__buf_printf(b, "<tr><td>%d</td><td>%lld</td><td>%lld</td>", i + 1, (long long)r->n_train,
                        (long long)r->n_test);
        if (!r->ok) {
            lev__buf_puts(b, "<td class='l bad' colspan='7'>failed: ");
            lev__buf_html(b, r->error[0] ? r->error : "unknown reason");
            lev__buf_printf(b, "</td><td>%.0f</td></tr>\n", r->seconds);
            continue;
        }
        const lev_metrics *m = &r->m;
        lev__buf_printf(b, "<td>%.4g</td><td>%.3f</td><td>%.3f</td><td>%.3f</td>", (double)m->threshold, m->precision,
                        m->recall, m->f1);
        if (m->roc_auc < 0)
            lev__buf_puts(b, "<td>undefined</td>");
        else
            lev__buf_printf(b, "<td>%.3f</td>", m->roc_auc);
        if (m->average_precision < 0)
            lev__buf_puts(b, "<td>undefined</td>");
        else
            lev__buf_printf(b, "<td>%.3f</td>", m->average_precision);
        lev__buf_printf(b, "<td>%lld / %lld / %lld / %lld</td><td>%.0f</td></tr>\n", (long long)m->tp, (long long)m->fp,
                        (long long)m->fn, (long long)m->tn, r->seconds);
    }
    lev__buf_puts(b, "</table>\n");
}

static void folds_table(lev__buf *b, const lev_details *d)
{
    const lev_fold_summary *f = d->folds;
    int requested = d->fold_runs && d->n_fold_runs > 0 ? d->n_fold_runs : f->n_folds;
    lev__buf_printf(b, "<h2>Cross-validation (%d folds", requested);
    if (f->n_folds != requested)
        lev__buf_printf(b, ", %d completed", f->n_folds);
    lev__buf_puts(b, ")</h2>\n");
    if (d->fold_runs && d->n_fold_runs > 0) {
        lev__buf_printf(b, "<p class='sub'>The labeled training and test images together, split into %d stratified "
                           "folds (seed %llu); each fold's model is trained on the other folds",
                        d->n_fold_runs, (unsigned long long)d->fold_seed);
        if (d->fold_budget_s > 0)
            lev__buf_printf(b, " within %.0f s", d->fold_budget_s);
        lev__buf_puts(b, " and scores its held-out fold at its own threshold. The spread across folds says how much "
                         "the numbers above depend on which images happened to be in the test set; with a share of "
                         "the training time each, fold models can score below the model itself.</p>\n");
    }
    if (f->n_folds == 0) {
        lev__buf_puts(b, "<p class='note'>No fold completed: no mean or spread.</p>\n");
        if (d->fold_runs && d->n_fold_runs > 0)
            fold_runs_table(b, d);
        return;
    }
    lev__buf_puts(b, "<table>\n<tr><th class='l'>metric</th><th>mean</th><th>standard deviation</th></tr>\n");
    const struct {
        const char *name;
        double mean, sd;
    } rows[] = {{"Precision", f->precision_mean, f->precision_sd}, {"Recall", f->recall_mean, f->recall_sd},
                {"F1 score", f->f1_mean, f->f1_sd}, {"ROC AUC", f->roc_auc_mean, f->roc_auc_sd},
                {"Average precision", f->ap_mean, f->ap_sd}};
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        if (rows[i].mean < 0)
            lev__buf_printf(b, "<tr><th class='l'>%s</th><td>undefined</td><td>&ndash;</td></tr>\n", rows[i].name);
        else
            lev__buf_printf(b, "<tr><th class='l'>%s</th><td>%.3f</td><td>&plusmn; %.3f</td></tr>\n", rows[i].name,
                            rows[i].mean, rows[i].sd);
    }
    lev__buf_puts(b, "</table>\n");
    if (d->fold_runs && d->n_fold_runs > 0)
        fold_runs_table(b, d);
}

static void confusion(lev__buf *b, const lev_metrics *m)
{
    lev__buf_puts(b, "<h2>Confusion matrix</h2>\n<table>\n<tr><th></th><th>predicted anomalous</th><th>predicted normal</th></tr>\n");
    lev__buf_printf(b, "<tr><th class='l'>anomalous</th><td class='cm ok'>%lld<br><small>true positive</small></td>"
                       "<td class='cm bad'>%lld<br><small>missed (false negative)</small></td></tr>\n",
                    (long long)m->tp, (long long)m->fn);
    lev__buf_printf(b, "<tr><th class='l'>normal</th><td class='cm bad'>%lld<br><small>false alarm (false positive)</small></td>"
                       "<td class='cm ok'>%lld<br><small>true negative</small></td></tr>\n</table>\n",
                    (long long)m->fp, (long long)m->tn);
}

static void pixel_table(lev__buf *b, const lev_pixel_metrics *pm)
{
    lev__buf_puts(b, "<h2>Per defect label (pixels)</h2>\n");
    if (lev_pixel_images(pm) == 0) {
        lev__buf_puts(b, "<div class='note'>No test image has a known mask: pixel metrics were not computed.</div>\n");
        return;
    }
    lev__buf_printf(b, "<p class='sub'>Over %lld test images with known masks. AIOU: mean over images of the "
                       "intersection over union of predicted and true masks of the label.</p>\n",
                    (long long)lev_pixel_images(pm));
    lev__buf_puts(b, "<table>\n<tr><th class='l'>label</th><th>images with label</th><th>precision</th><th>recall</th>"
                       "<th>F1 score</th><th>AIOU</th></tr>\n");
    for (int c = 1; c < pm->n_classes && c < 32; c++) {
        const lev_pixel_class *k = &pm->classes[c];
        if (k->n_truth_images == 0 && k->n_images == 0)
            continue;
        lev__buf_puts(b, "<tr><td class='l'>");
        lev__buf_html(b, k->class_name);
        lev__buf_printf(b, "</td><td>%lld</td><td>%.3f</td><td>%.3f</td><td>%.3f</td><td>%.3f</td></tr>\n",
                        (long long)k->n_truth_images, k->precision, k->recall, k->f1, k->aiou);
    }
    lev__buf_puts(b, "</table>\n");
}

/* The user knows the image by its source-ref (the imported copy has an internal name). */
static void caption_name(lev__buf *b, const lev_prediction *q)
{
    cJSON *o = q->json_line ? cJSON_Parse(q->json_line) : NULL;
    const cJSON *ref = cJSON_GetObjectItemCaseSensitive(o, "source-ref");
    if (cJSON_IsString(ref) && ref->valuestring[0]) {
        lev__buf_html(b, ref->valuestring);
    } else {
        const char *name = q->image_path ? q->image_path : "";
        const char *slash = strrchr(name, '/');
        lev__buf_html(b, slash ? slash + 1 : name);
    }
    cJSON_Delete(o);
}

static void misclassified(lev__buf *b, const lev_prediction *p, size_t n)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += p[i].is_anomaly_truth >= 0 && (p[i].predicted_anomalous != 0) != (p[i].is_anomaly_truth != 0);
    lev__buf_printf(b, "<h2>Misclassified test images (%zu)</h2>\n", bad);
    if (!bad) {
        lev__buf_puts(b, "<p>Every labelled test image was classified correctly.</p>\n");
        return;
    }
    /* The legend uses the thumbnail's blend: colour (255, 255(1-v), 0) at opacity 0.65 v. */
    lev__buf_puts(b, "<p class='sub'>Heat map overlaid, anomaly probability 0 "
                     "<span style='display:inline-block;width:160px;height:10px;vertical-align:middle;"
                     "border:1px solid #ccc;background:linear-gradient(to right,rgba(255,255,0,0),"
                     "rgba(255,128,0,.33),rgba(255,0,0,.65))'></span> 1</p>\n<div class='grid'>\n");
    for (size_t i = 0; i < n; i++) {
        const lev_prediction *q = &p[i];
        if (q->is_anomaly_truth < 0 || (q->predicted_anomalous != 0) == (q->is_anomaly_truth != 0))
            continue;
        lev__buf_puts(b, "<figure>");
        size_t len = 0;
        lev_error why;
        uint8_t *png = lev__thumbnail_png(q, 200, &len, &why);
        if (png) {
            lev__buf_puts(b, "<img alt='test image' src='data:image/png;base64,");
            lev__buf_base64(b, png, len);
            lev__buf_puts(b, "'>");
            free(png);
        } else {
            lev__buf_puts(b, "<div class='note'>");
            lev__buf_html(b, why.message);
            lev__buf_puts(b, "</div>");
        }
        lev__buf_printf(b, "<figcaption><b class='bad'>%s</b> &middot; score %.4g &middot; confidence %.2f<br>",
                        q->is_anomaly_truth ? "missed anomaly" : "false alarm", (double)q->score, q->confidence);
        caption_name(b, q);
        lev__buf_puts(b, "</figcaption></figure>\n");
    }
    lev__buf_puts(b, "</div>\n");
}

int lev_write_report(const char *path, const lev_details *d, const lev_metrics *m,
                     const lev_pixel_metrics *pixel, const lev_prediction *p, size_t n,
                     float threshold, lev_error *err)
{
    if (!d || !m || (n > 0 && !p))
        return lev__fail(err, "%s: no model details, metrics or predictions for the report", path ? path : "(null)");
    /* Curves from the labelled predictions. */
    float *scores = malloc((n ? n : 1) * sizeof *scores);
    uint8_t *labels = malloc(n ? n : 1);
    if (!scores || !labels) {
        free(scores);
        free(labels);
        return lev__fail(err, "%s: out of memory", path);
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (p[i].is_anomaly_truth >= 0) {
            scores[k] = p[i].score;
            labels[k++] = p[i].is_anomaly_truth ? 1 : 0;
        }
    lev__curves curves;
    int crc = lev__curves_compute(scores, labels, k, &curves);
    free(scores);
    free(labels);
    if (crc != 0)
        return lev__fail(err, "%s: out of memory computing the curves", path);

    lev__buf b = {0};
    header(&b, d, m, threshold);
    metrics_table(&b, m);
    if (d->folds && (d->folds->n_folds > 0 || (d->fold_runs && d->n_fold_runs > 0)))
        folds_table(&b, d);
    lev__buf_puts(&b, "<h2>Curves and scores</h2>\n<div class='charts'>\n");
    lev__svg_roc(&b, &curves, m);
    lev__svg_pr(&b, &curves, m);
    lev__svg_histogram(&b, p, n, threshold);
    lev__buf_puts(&b, "</div>\n");
    lev__curves_free(&curves);
    confusion(&b, m);
    if (pixel)
        pixel_table(&b, pixel);
    misclassified(&b, p, n);
    lev__buf_puts(&b, "</body>\n</html>\n");
    if (b.failed) {
        lev__buf_free(&b);
        return lev__fail(err, "%s: out of memory assembling the report", path);
    }
    int rc = lev__write_atomic(path, b.data, b.len, err);
    lev__buf_free(&b);
    return rc;
}
