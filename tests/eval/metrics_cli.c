/* metrics_cli.c — test driver for check_sklearn.py: reads score sets on stdin, each a header line
 * "THRESHOLD N" followed by N lines "score label", and prints one JSON line per set with
 * lev_image_metrics and lev_threshold_max_f1 (one process for all sets keeps the test fast). */
#include "eval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    char tok[64];
    size_t n;
    while (scanf("%63s %zu", tok, &n) == 2) {
        float threshold = strtof(tok, NULL);
        float *s = malloc((n ? n : 1) * sizeof *s);
        uint8_t *y = malloc(n ? n : 1);
        if (!s || !y)
            return 3;
        for (size_t i = 0; i < n; i++) {
            int lab;
            if (scanf("%63s %d", tok, &lab) != 2) {
                fprintf(stderr, "metrics_cli: set truncated at line %zu\n", i);
                return 2;
            }
            s[i] = strtof(tok, NULL);
            y[i] = (uint8_t)lab;
        }
        lev_metrics m;
        lev_error e;
        if (lev_image_metrics(s, y, n, threshold, 0, 0, &m, &e) != 0) {
            fprintf(stderr, "%s\n", e.message);
            return 1;
        }
        float t = lev_threshold_max_f1(s, y, n);
        printf("{\"tp\":%lld,\"fp\":%lld,\"tn\":%lld,\"fn\":%lld,\"precision\":%.17g,\"recall\":%.17g,\"f1\":%.17g,"
               "\"roc_auc\":%.17g,\"average_precision\":%.17g,\"precision_undefined\":%d,\"recall_undefined\":%d,"
               "\"max_f1_threshold\":%s%.9g%s,\"note\":\"%s\"}\n",
               (long long)m.tp, (long long)m.fp, (long long)m.tn, (long long)m.fn, m.precision, m.recall, m.f1,
               m.roc_auc, m.average_precision, m.precision_undefined, m.recall_undefined, isnan(t) ? "\"" : "",
               (double)t, isnan(t) ? "\"" : "", m.note);
        free(s);
        free(y);
    }
    return 0;
}
