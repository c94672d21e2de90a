/* image_metrics.c — image-level metrics: confusion counts, precision/recall/F1 at the threshold,
 * ROC AUC and average precision over scores (scikit-learn's tie rules), the curves the report
 * draws, the max-F1 threshold and the stratified bootstrap intervals. Definitions in eval.h. */
#include "eval_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lev__fail(lev_error *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return -1;
}

typedef struct {
    float s;
    uint8_t y;
} scored;

static int cmp_desc(const void *a, const void *b)
{
    float x = ((const scored *)a)->s, y = ((const scored *)b)->s;
    return (x < y) - (x > y);
}

/* Sorted copy, highest score first; NULL on allocation failure. */
static scored *sorted_desc(const float *scores, const uint8_t *is_anomaly, size_t n)
{
    scored *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        v[i].s = scores[i];
        v[i].y = is_anomaly[i] ? 1 : 0;
    }
    qsort(v, n, sizeof *v, cmp_desc);
    return v;
}

static double ratio0(double num, double den) { return den > 0 ? num / den : 0.0; }

static double f1_of(int64_t tp, int64_t fp, int64_t fn)
{
    return ratio0(2.0 * (double)tp, 2.0 * (double)tp + (double)fp + (double)fn);
}

/* Mann-Whitney with ties counting half, walking groups of equal scores from the top: every
 * positive in a group beats the negatives in all lower groups and ties with the group's negatives. */
static double roc_auc_sorted(const scored *v, size_t n, int64_t n_pos, int64_t n_neg)
{
    if (n_pos == 0 || n_neg == 0)
        return -1.0;
    double wins = 0;
    int64_t neg_above = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        int64_t gp = 0, gn = 0;
        while (j < n && v[j].s == v[i].s) {
            if (v[j].y)
                gp++;
            else
                gn++;
            j++;
        }
        int64_t neg_below = n_neg - neg_above - gn;
        wins += (double)gp * (double)neg_below + 0.5 * (double)gp * (double)gn;
        neg_above += gn;
        i = j;
    }
    return wins / ((double)n_pos * (double)n_neg);
}

static double average_precision_sorted(const scored *v, size_t n, int64_t n_pos)
{
    if (n_pos == 0)
        return -1.0;
    double ap = 0, prev_recall = 0;
    int64_t tp = 0, fp = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && v[j].s == v[i].s) {
            if (v[j].y)
                tp++;
            else
                fp++;
            j++;
        }
        double recall = (double)tp / (double)n_pos;
        ap += (recall - prev_recall) * ((double)tp / (double)(tp + fp));
        prev_recall = recall;
        i = j;
    }
    return ap;
}

int lev__curves_compute(const float *scores, const uint8_t *is_anomaly, size_t n, lev__curves *out)
{
    memset(out, 0, sizeof *out);
    scored *v = sorted_desc(scores, is_anomaly, n);
    if (!v)
        return -1;
    int64_t n_pos = 0, n_neg = 0;
    for (size_t i = 0; i < n; i++)
        n_pos += v[i].y, n_neg += !v[i].y;
    size_t cap = n + 1;
    double *mem = malloc(5 * cap * sizeof *mem);
    if (!mem) {
        free(v);
        return -1;
    }
    out->fpr = mem;
    out->tpr = mem + cap;
    out->precision = mem + 2 * cap;
    out->recall = mem + 3 * cap;
    out->threshold = mem + 4 * cap;
    /* Origin: nothing predicted positive; precision 1 by the usual PR-curve convention. */
    out->fpr[0] = out->tpr[0] = out->recall[0] = 0;
    out->precision[0] = 1;
    out->threshold[0] = INFINITY;
    size_t k = 1;
    int64_t tp = 0, fp = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && v[j].s == v[i].s) {
            if (v[j].y)
                tp++;
            else
                fp++;
            j++;
        }
        out->fpr[k] = ratio0((double)fp, (double)n_neg);
        out->tpr[k] = out->recall[k] = ratio0((double)tp, (double)n_pos);
        out->precision[k] = ratio0((double)tp, (double)(tp + fp));
        out->threshold[k] = v[i].s;
        k++;
        i = j;
    }
    out->n = k;
    free(v);
    return 0;
}

void lev__curves_free(lev__curves *c)
{
    free(c->fpr); /* one block */
    memset(c, 0, sizeof *c);
}

float lev_threshold_max_f1(const float *scores, const uint8_t *is_anomaly, size_t n)
{
    int64_t n_pos = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(scores[i]))
            return NAN;
        n_pos += is_anomaly[i] ? 1 : 0;
    }
    if (n_pos == 0)
        return NAN;
    scored *v = sorted_desc(scores, is_anomaly, n);
    if (!v)
        return NAN;
    double best = -1;
    float best_t = NAN;
    int64_t tp = 0, fp = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && v[j].s == v[i].s) {
            if (v[j].y)
                tp++;
            else
                fp++;
            j++;
        }
        double f1 = f1_of(tp, fp, n_pos - tp);
        if (f1 >= best) { /* >=: on ties the lower threshold (walked later) wins */
            best = f1;
            float hi = v[i].s;
            if (j < n) {
                float lo = v[j].s;
                float mid = (float)(((double)hi + (double)lo) / 2.0);
                best_t = (mid > lo && mid <= hi) ? mid : hi; /* adjacent floats: no midpoint */
            } else {
                best_t = hi;
            }
        }
        i = j;
    }
    free(v);
    return best_t;
}

static void append_note(lev_metrics *m, const char *text)
{
    size_t len = strlen(m->note);
    snprintf(m->note + len, sizeof m->note - len, "%s%s", len ? "; " : "", text);
}

/* 64-bit generator for the bootstrap: splitmix64 seeding xoshiro256** (fast, reproducible on every
 * platform, unlike rand()). */
typedef struct {
    uint64_t s[4];
} rng_t;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [0, n) without modulo bias (Lemire's multiply-shift with rejection). */
static uint64_t rng_below(rng_t *r, uint64_t n)
{
    unsigned __int128 m = (unsigned __int128)rng_next(r) * n;
    uint64_t lo = (uint64_t)m;
    if (lo < n) {
        uint64_t limit = (0 - n) % n;
        while (lo < limit) {
            m = (unsigned __int128)rng_next(r) * n;
            lo = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* numpy.percentile's default (linear interpolation between order statistics). */
static double percentile_sorted(const double *v, int n, double q)
{
    double pos = q * (double)(n - 1);
    int lo = (int)floor(pos);
    int hi = lo + 1 < n ? lo + 1 : lo;
    double frac = pos - lo;
    return v[lo] + (v[hi] - v[lo]) * frac;
}

static int bootstrap(const float *scores, const uint8_t *y, size_t n, float threshold, int n_boot,
                     uint64_t seed, lev_metrics *m, lev_error *err)
{
    /* Per class, which members are predicted positive; a resample only needs hit counts. */
    size_t n_pos = (size_t)m->n_anomalies, n_neg = (size_t)m->n_normals;
    uint8_t *pos_hit = malloc(n_pos + 1), *neg_hit = malloc(n_neg + 1);
    double *vals = malloc(3 * (size_t)n_boot * sizeof *vals);
    if (!pos_hit || !neg_hit || !vals) {
        free(pos_hit);
        free(neg_hit);
        free(vals);
        return lev__fail(err, "bootstrap: out of memory for %d resamples of %zu images", n_boot, n);
    }
    size_t ip = 0, in = 0;
    for (size_t i = 0; i < n; i++) {
        if (y[i])
            pos_hit[ip++] = scores[i] >= threshold;
        else
            neg_hit[in++] = scores[i] >= threshold;
    }
    rng_t r;
    uint64_t x = seed;
    for (int k = 0; k < 4; k++)
        r.s[k] = splitmix64(&x);
    double *prec = vals, *rec = vals + n_boot, *f1 = vals + 2 * (size_t)n_boot;
    for (int b = 0; b < n_boot; b++) {
        int64_t tp = 0, fp = 0;
        for (size_t i = 0; i < n_pos; i++)
            tp += pos_hit[rng_below(&r, n_pos)];
        for (size_t i = 0; i < n_neg; i++)
            fp += neg_hit[rng_below(&r, n_neg)];
        int64_t fn = (int64_t)n_pos - tp;
        prec[b] = ratio0((double)tp, (double)(tp + fp));
        rec[b] = ratio0((double)tp, (double)n_pos);
        f1[b] = f1_of(tp, fp, fn);
    }
    qsort(prec, (size_t)n_boot, sizeof *prec, cmp_double);
    qsort(rec, (size_t)n_boot, sizeof *rec, cmp_double);
    qsort(f1, (size_t)n_boot, sizeof *f1, cmp_double);
    m->precision_ci = (lev_interval){percentile_sorted(prec, n_boot, 0.025), percentile_sorted(prec, n_boot, 0.975)};
    m->recall_ci = (lev_interval){percentile_sorted(rec, n_boot, 0.025), percentile_sorted(rec, n_boot, 0.975)};
    m->f1_ci = (lev_interval){percentile_sorted(f1, n_boot, 0.025), percentile_sorted(f1, n_boot, 0.975)};
    free(pos_hit);
    free(neg_hit);
    free(vals);
    return 0;
}

int lev_image_metrics(const float *scores, const uint8_t *is_anomaly, size_t n, float threshold,
                      int n_boot, uint64_t seed, lev_metrics *out, lev_error *err)
{
    if (!out)
        return lev__fail(err, "lev_image_metrics: no output struct");
    memset(out, 0, sizeof *out);
    if (n > 0 && (!scores || !is_anomaly))
        return lev__fail(err, "lev_image_metrics: scores or labels missing for %zu images", n);
    if (!isfinite(threshold))
        return lev__fail(err, "lev_image_metrics: threshold %g is not a finite number", (double)threshold);
    if (n_boot < 0 || n_boot > 1000000)
        return lev__fail(err, "lev_image_metrics: bootstrap resamples %d out of range 0..1000000", n_boot);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(scores[i]))
            return lev__fail(err, "lev_image_metrics: score of test image %zu is %g, not a finite number", i,
                             (double)scores[i]);
        if (is_anomaly[i] > 1)
            return lev__fail(err, "lev_image_metrics: label of test image %zu is %u, expected 0 (normal) or 1 (anomaly)",
                             i, is_anomaly[i]);
    }
    out->threshold = threshold;
    out->seed = seed;
    for (size_t i = 0; i < n; i++) {
        int pred = scores[i] >= threshold;
        if (is_anomaly[i]) {
            out->n_anomalies++;
            if (pred)
                out->tp++;
            else
                out->fn++;
        } else {
            out->n_normals++;
            if (pred)
                out->fp++;
            else
                out->tn++;
        }
    }
    out->precision_undefined = out->tp + out->fp == 0;
    out->recall_undefined = out->n_anomalies == 0;
    out->precision = ratio0((double)out->tp, (double)(out->tp + out->fp));
    out->recall = ratio0((double)out->tp, (double)out->n_anomalies);
    out->f1 = f1_of(out->tp, out->fp, out->fn);

    scored *v = sorted_desc(scores, is_anomaly, n);
    if (!v)
        return lev__fail(err, "lev_image_metrics: out of memory sorting %zu scores", n);
    out->roc_auc = roc_auc_sorted(v, n, out->n_anomalies, out->n_normals);
    out->average_precision = average_precision_sorted(v, n, out->n_anomalies);
    free(v);

    if (n == 0)
        append_note(out, "no test images: every metric reported as 0, ROC AUC and average precision undefined");
    else {
        if (out->precision_undefined)
            append_note(out, "no image predicted anomalous at the threshold: precision reported as 0");
        if (out->recall_undefined)
            append_note(out, "no anomalous test images: recall reported as 0, ROC AUC and average precision undefined");
        else if (out->n_normals == 0)
            append_note(out, "no normal test images: ROC AUC undefined");
    }

    out->precision_ci = (lev_interval){out->precision, out->precision};
    out->recall_ci = (lev_interval){out->recall, out->recall};
    out->f1_ci = (lev_interval){out->f1, out->f1};
    if (n_boot > 0 && n > 0) {
        if (bootstrap(scores, is_anomaly, n, threshold, n_boot, seed, out, err) != 0)
            return -1;
        out->n_boot = n_boot;
    }
    return 0;
}

void lev_folds_summarize(const lev_metrics *folds, int n_folds, lev_fold_summary *out)
{
    memset(out, 0, sizeof *out);
    out->n_folds = n_folds;
    /* Welford per metric; undefined fold values (negative AUC/AP) are skipped. */
    double *means[5] = {&out->precision_mean, &out->recall_mean, &out->f1_mean, &out->roc_auc_mean, &out->ap_mean};
    double *sds[5] = {&out->precision_sd, &out->recall_sd, &out->f1_sd, &out->roc_auc_sd, &out->ap_sd};
    for (int k = 0; k < 5; k++) {
        double mean = 0, m2 = 0;
        int cnt = 0;
        for (int f = 0; f < n_folds; f++) {
            const lev_metrics *m = &folds[f];
            double x = k == 0 ? m->precision : k == 1 ? m->recall : k == 2 ? m->f1 : k == 3 ? m->roc_auc : m->average_precision;
            if (k >= 3 && x < 0)
                continue;
            cnt++;
            double d = x - mean;
            mean += d / cnt;
            m2 += d * (x - mean);
        }
        *means[k] = cnt ? mean : (k >= 3 ? -1 : 0);
        *sds[k] = cnt > 1 ? sqrt(m2 / (cnt - 1)) : (cnt ? 0 : (k >= 3 ? -1 : 0));
    }
}
