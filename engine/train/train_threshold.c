/* train_threshold.c — the decision threshold and the confidence calibration.
 *
 * Both work on out-of-fold probabilities: every training image scored by the fold model that did
 * not see it, so there are as many scores as training images instead of a handful of validation
 * images. Thresholds and the calibration live in logit space, where model scores are spread
 * evenly and "halfway" means something.
 */
#include "train_internal.h"

#include <math.h>
#include <stdlib.h>

static double logit(double p) {
    p = p < 1e-7 ? 1e-7 : p > 1 - 1e-7 ? 1 - 1e-7 : p;
    return log(p / (1 - p));
}
static double sigmoid(double z) { return 1.0 / (1.0 + exp(-z)); }

typedef struct {
    float p;
    uint8_t y;
} scored;

static int by_p_desc(const void *a, const void *b) {
    float x = ((const scored *)a)->p, y = ((const scored *)b)->p;
    return x > y ? -1 : x < y ? 1 : 0;
}

float lo_threshold_f1_plateau(const float *p, const uint8_t *y, size_t n, double *best_f1) {
    size_t npos = 0;
    for (size_t i = 0; i < n; i++) npos += y[i] != 0;
    if (best_f1) *best_f1 = 0;
    if (npos == 0 || n == 0) return NAN;
    scored *s = malloc(n * sizeof *s);
    double *f1 = malloc(n * sizeof *f1), *cut = malloc(n * sizeof *cut);
    for (size_t i = 0; i < n; i++) s[i].p = p[i], s[i].y = y[i] != 0;
    qsort(s, n, sizeof *s, by_p_desc);
    /* cut j: the top j+1 scores are called anomalous; only cuts between distinct scores count */
    size_t tp = 0, m = 0;
    for (size_t j = 0; j < n; j++) {
        tp += s[j].y;
        if (j + 1 < n && s[j + 1].p == s[j].p) continue;
        size_t fp = j + 1 - tp, fn = npos - tp;
        f1[m] = 2.0 * (double)tp / (double)(2 * tp + fp + fn);
        double lo = j + 1 < n ? logit(s[j + 1].p) : logit(s[j].p) - 1.0;
        cut[m] = 0.5 * (logit(s[j].p) + lo);
        m++;
    }
    size_t best = 0;
    for (size_t j = 1; j < m; j++)
        if (f1[j] > f1[best]) best = j;
    /* the run of near-best cuts around the best one; its middle is the threshold least
     * sensitive to one image more or less on either side */
    const double tol = 0.02;
    size_t a = best, b = best;
    while (a > 0 && f1[a - 1] >= f1[best] - tol) a--;
    while (b + 1 < m && f1[b + 1] >= f1[best] - tol) b++;
    double t = 0.5 * (cut[a] + cut[b]);
    if (best_f1) *best_f1 = f1[best];
    free(s);
    free(f1);
    free(cut);
    return (float)sigmoid(t);
}

static int by_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

float lo_threshold_normal_quantile(const float *p_normal, size_t n, double q) {
    if (n == 0) return 0.5f;
    float *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = (float)logit(p_normal[i]);
    qsort(v, n, sizeof *v, by_float);
    double pos = q * (double)(n - 1);
    size_t i0 = (size_t)floor(pos);
    size_t i1 = i0 + 1 < n ? i0 + 1 : i0;
    double z = v[i0] + (pos - (double)i0) * (v[i1] - v[i0]);
    free(v);
    return (float)sigmoid(z);
}

static int by_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* median of v[n] (n > 0; sorts v) */
static double median_of(double *v, size_t n) {
    qsort(v, n, sizeof *v, by_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

float lo_threshold_normal_tail(const float *p_normal, size_t n, double k) {
    if (n == 0) return 0.5f;
    double *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = logit(p_normal[i]);
    double med = median_of(v, n);
    for (size_t i = 0; i < n; i++) v[i] = fabs(v[i] - med);
    double mad = median_of(v, n);
    free(v);
    /* 1.4826 MAD estimates the standard deviation of a normal distribution */
    return (float)sigmoid(med + k * 1.4826 * mad);
}

void lo_threshold_fold_shifts(const float *logit, const int *fold, size_t n, int folds, double *shift) {
    double *v = malloc((n + 1) * sizeof *v), mean = 0;
    int used = 0;
    for (int f = 0; f < folds; f++) {
        size_t m = 0;
        for (size_t i = 0; v && i < n; i++)
            if (fold[i] == f) v[m++] = logit[i];
        shift[f] = m ? median_of(v, m) : NAN;
        if (m) mean += shift[f], used++;
    }
    free(v);
    mean = used ? mean / used : 0;
    for (int f = 0; f < folds; f++) shift[f] = isnan(shift[f]) ? 0 : mean - shift[f];
}

static double calib_objective(const float *p, const uint8_t *y, size_t n, double lt, double la) {
    double a = exp(la), ll = 0;
    for (size_t i = 0; i < n; i++) {
        double z = a * (logit(p[i]) - lt);
        /* log sigmoid without overflow */
        double ls = z >= 0 ? -log1p(exp(-z)) : z - log1p(exp(z));
        double lns = -z >= 0 ? -log1p(exp(z)) : -z - log1p(exp(-z));
        ll += y[i] ? ls : lns;
    }
    /* weak prior toward slope 1 keeps separable scores from an infinite slope (confidence 1.0
     * for everything) */
    return ll - 0.5 * (la / 1.5) * (la / 1.5);
}

float lo_calibrate_slope(const float *p, const uint8_t *y, size_t n, float t) {
    double lt = logit(t), lo = -7, hi = 7;
    for (int it = 0; it < 80; it++) { /* the objective is concave in the slope: ternary search */
        double m1 = lo + (hi - lo) / 3, m2 = hi - (hi - lo) / 3;
        if (calib_objective(p, y, n, lt, m1) < calib_objective(p, y, n, lt, m2)) lo = m1;
        else hi = m2;
    }
    return (float)exp(0.5 * (lo + hi));
}

double lo_confidence(float p, float threshold, float slope, int *is_anomalous) {
    int a = p >= threshold;
    double pa = sigmoid(slope * (logit(p) - logit(threshold)));
    if (is_anomalous) *is_anomalous = a;
    return a ? pa : 1.0 - pa;
}
