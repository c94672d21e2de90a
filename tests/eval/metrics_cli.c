/* metrics_cli.c — test driver: reads "score label" lines on stdin, prints lev_image_metrics and
 * lev_threshold_max_f1 as JSON so check_sklearn.py can compare them with scikit-learn.
 * Usage: metrics_cli THRESHOLD [N_BOOT SEED] */
#include "eval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s THRESHOLD [N_BOOT SEED] < scores\n", argv[0]);
        return 2;
    }
    float threshold = strtof(argv[1], NULL);
    int n_boot = argc > 2 ? atoi(argv[2]) : 0;
    uint64_t seed = argc > 3 ? strtoull(argv[3], NULL, 10) : 0;
    size_t cap = 1024, n = 0;
    float *s = malloc(cap * sizeof *s);
    uint8_t *y = malloc(cap);
    char tok[64];
    int lab;
    while (s && y && scanf("%63s %d", tok, &lab) == 2) {
        if (n == cap) {
            cap *= 2;
            s = realloc(s, cap * sizeof *s);
            y = realloc(y, cap);
            if (!s || !y)
                return 3;
        }
        s[n] = strtof(tok, NULL);
        y[n++] = (uint8_t)lab;
    }
    lev_metrics m;
    lev_error e;
    if (lev_image_metrics(s, y, n, threshold, n_boot, seed, &m, &e) != 0) {
        fprintf(stderr, "%s\n", e.message);
        return 1;
    }
    float t = lev_threshold_max_f1(s, y, n);
    printf("{\"tp\":%lld,\"fp\":%lld,\"tn\":%lld,\"fn\":%lld,\"precision\":%.17g,\"recall\":%.17g,\"f1\":%.17g,"
           "\"roc_auc\":%.17g,\"average_precision\":%.17g,\"precision_undefined\":%d,\"recall_undefined\":%d,"
           "\"f1_lo\":%.17g,\"f1_hi\":%.17g,\"max_f1_threshold\":%s%.9g%s,\"note\":\"%s\"}\n",
           (long long)m.tp, (long long)m.fp, (long long)m.tn, (long long)m.fn, m.precision, m.recall, m.f1, m.roc_auc,
           m.average_precision, m.precision_undefined, m.recall_undefined, m.f1_ci.lo, m.f1_ci.hi,
           isnan(t) ? "\"" : "", (double)t, isnan(t) ? "\"" : "", m.note);
    free(s);
    free(y);
    return 0;
}
