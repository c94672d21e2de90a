/* report_charts.c — the report's inline SVG charts: ROC and precision-recall curves with the
 * operating point (the model's threshold) marked, and the score histogram of normals vs anomalies. */
#include "eval_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum { W = 380, H = 320, ML = 48, MR = 16, MT = 28, MB = 44 };

static double px(double x) { return ML + x * (W - ML - MR); }
static double py(double y) { return H - MB - y * (H - MT - MB); }

static void frame(lev__buf *b, const char *title, const char *xlabel, const char *ylabel, const char *aria)
{
    /* No xmlns: inline SVG in HTML5 needs none, and the report must not name any URL. */
    lev__buf_printf(b, "<svg width='%d' height='%d' viewBox='0 0 %d %d' role='img' aria-label='",
                    W, H, W, H);
    lev__buf_html(b, aria);
    lev__buf_printf(b, "'>\n<rect x='0' y='0' width='%d' height='%d' fill='#fff'/>\n", W, H);
    lev__buf_printf(b, "<text x='%d' y='18' font-size='14' font-weight='bold'>", ML);
    lev__buf_html(b, title);
    lev__buf_puts(b, "</text>\n");
    for (int i = 0; i <= 4; i++) {
        double t = i / 4.0;
        lev__buf_printf(b, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#e5e5e5'/>\n", px(0), py(t), px(1), py(t));
        lev__buf_printf(b, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#e5e5e5'/>\n", px(t), py(0), px(t), py(1));
        lev__buf_printf(b, "<text x='%.1f' y='%.1f' font-size='11' text-anchor='end'>%.2g</text>\n", px(0) - 4, py(t) + 4, t);
        lev__buf_printf(b, "<text x='%.1f' y='%.1f' font-size='11' text-anchor='middle'>%.2g</text>\n", px(t), py(0) + 15, t);
    }
    lev__buf_printf(b, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='none' stroke='#444'/>\n", px(0), py(1),
                    px(1) - px(0), py(0) - py(1));
    lev__buf_printf(b, "<text x='%.1f' y='%d' font-size='12' text-anchor='middle'>", px(0.5), H - 8);
    lev__buf_html(b, xlabel);
    lev__buf_printf(b, "</text>\n<text x='14' y='%.1f' font-size='12' text-anchor='middle' transform='rotate(-90 14 %.1f)'>",
                    py(0.5), py(0.5));
    lev__buf_html(b, ylabel);
    lev__buf_puts(b, "</text>\n");
}

static void operating_point(lev__buf *b, double x, double y, float threshold)
{
    lev__buf_printf(b, "<circle cx='%.1f' cy='%.1f' r='6' fill='#d62728' stroke='#000'><title>threshold %.4g</title></circle>\n",
                    px(x), py(y), (double)threshold);
    double tx = px(x) + (x > 0.6 ? -10 : 10);
    lev__buf_printf(b, "<text x='%.1f' y='%.1f' font-size='11' text-anchor='%s'>threshold %.4g</text>\n", tx,
                    py(y) + (y > 0.9 ? 16 : -8), x > 0.6 ? "end" : "start", (double)threshold);
}

void lev__svg_roc(lev__buf *b, const lev__curves *c, const lev_metrics *m)
{
    char title[96];
    if (m->roc_auc >= 0)
        snprintf(title, sizeof title, "ROC curve (AUC %.3f)", m->roc_auc);
    else
        snprintf(title, sizeof title, "ROC curve (AUC undefined: one class only)");
    frame(b, title, "false positive rate", "true positive rate (recall)", "ROC curve");
    lev__buf_printf(b, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#999' stroke-dasharray='4 4'/>\n", px(0), py(0),
                    px(1), py(1));
    if (m->roc_auc >= 0) {
        lev__buf_puts(b, "<polyline fill='none' stroke='#1f77b4' stroke-width='2' points='");
        for (size_t i = 0; i < c->n; i++)
            lev__buf_printf(b, "%.1f,%.1f ", px(c->fpr[i]), py(c->tpr[i]));
        lev__buf_puts(b, "'/>\n");
        double fpr = m->n_normals ? (double)m->fp / (double)m->n_normals : 0;
        operating_point(b, fpr, m->recall, m->threshold);
    }
    lev__buf_puts(b, "</svg>\n");
}

void lev__svg_pr(lev__buf *b, const lev__curves *c, const lev_metrics *m)
{
    char title[96];
    if (m->average_precision >= 0)
        snprintf(title, sizeof title, "Precision-recall (AP %.3f)", m->average_precision);
    else
        snprintf(title, sizeof title, "Precision-recall (AP undefined: no anomalies)");
    frame(b, title, "recall", "precision", "precision-recall curve");
    if (m->average_precision >= 0) {
        /* Steps, as average precision sums them: precision P_k held over (R_k-1, R_k]. */
        lev__buf_puts(b, "<polyline fill='none' stroke='#2ca02c' stroke-width='2' points='");
        for (size_t i = 1; i < c->n; i++)
            lev__buf_printf(b, "%.1f,%.1f %.1f,%.1f ", px(c->recall[i - 1]), py(c->precision[i]), px(c->recall[i]),
                            py(c->precision[i]));
        lev__buf_puts(b, "'/>\n");
        operating_point(b, m->recall, m->precision, m->threshold);
    }
    lev__buf_puts(b, "</svg>\n");
}

void lev__svg_histogram(lev__buf *b, const lev_prediction *p, size_t n, float threshold)
{
    enum { BINS = 20 };
    double lo = threshold, hi = threshold;
    for (size_t i = 0; i < n; i++) {
        if (p[i].is_anomaly_truth < 0 || !isfinite(p[i].score))
            continue;
        if (p[i].score < lo)
            lo = p[i].score;
        if (p[i].score > hi)
            hi = p[i].score;
    }
    if (hi - lo < 1e-12) {
        lo -= 0.5;
        hi += 0.5;
    }
    int cnt[2][BINS] = {{0}};
    int top = 1;
    for (size_t i = 0; i < n; i++) {
        if (p[i].is_anomaly_truth < 0 || !isfinite(p[i].score))
            continue;
        int k = (int)((p[i].score - lo) / (hi - lo) * BINS);
        k = k < 0 ? 0 : k >= BINS ? BINS - 1 : k;
        int cls = p[i].is_anomaly_truth ? 1 : 0;
        if (++cnt[cls][k] > top)
            top = cnt[cls][k];
    }
    char ylabel[64];
    snprintf(ylabel, sizeof ylabel, "images (top = %d)", top);
    frame(b, "Scores of the test images", "anomaly score", ylabel, "score histogram");
    /* Relabel the x axis in score units over the unit-square ticks drawn by frame(). */
    lev__buf_printf(b, "<rect x='%.1f' y='%.1f' width='%.1f' height='14' fill='#fff'/>\n", px(0) - 12, py(0) + 3,
                    px(1) - px(0) + 24);
    for (int i = 0; i <= 4; i++)
        lev__buf_printf(b, "<text x='%.1f' y='%.1f' font-size='11' text-anchor='middle'>%.3g</text>\n", px(i / 4.0),
                        py(0) + 15, lo + (hi - lo) * i / 4.0);
    const char *color[2] = {"#1f77b4", "#d62728"};
    double bw = (px(1) - px(0)) / BINS;
    for (int cls = 0; cls < 2; cls++)
        for (int k = 0; k < BINS; k++) {
            if (!cnt[cls][k])
                continue;
            double h = (double)cnt[cls][k] / top;
            lev__buf_printf(b, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='%s' fill-opacity='0.55'>"
                               "<title>%d %s</title></rect>\n",
                            px(0) + k * bw + 1, py(h), bw - 2, py(0) - py(h), color[cls], cnt[cls][k],
                            cls ? "anomalous" : "normal");
        }
    double tx = px((threshold - lo) / (hi - lo));
    lev__buf_printf(b, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#000' stroke-width='2' stroke-dasharray='6 3'/>\n",
                    tx, py(0), tx, py(1));
    lev__buf_printf(b, "<text x='%.1f' y='%.1f' font-size='11'>threshold %.4g</text>\n", tx + 4, py(1) + 12, (double)threshold);
    lev__buf_printf(b, "<rect x='%.1f' y='%.1f' width='10' height='10' fill='%s' fill-opacity='0.55'/>"
                       "<text x='%.1f' y='%.1f' font-size='11'>normal</text>\n",
                    px(0) + 6, py(1) + 20, color[0], px(0) + 20, py(1) + 29);
    lev__buf_printf(b, "<rect x='%.1f' y='%.1f' width='10' height='10' fill='%s' fill-opacity='0.55'/>"
                       "<text x='%.1f' y='%.1f' font-size='11'>anomalous</text>\n",
                    px(0) + 6, py(1) + 34, color[1], px(0) + 20, py(1) + 43);
    lev__buf_puts(b, "</svg>\n");
}
