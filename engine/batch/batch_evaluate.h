/* batch_evaluate.h — metrics and report of a labelled batch (batch_evaluate.c). Internal. */
#ifndef LOOKOUT_BATCH_EVALUATE_H
#define LOOKOUT_BATCH_EVALUATE_H

#include "batch_internal.h"
#include "eval.h"

#include <stdint.h>

typedef struct {
    float *scores;
    uint8_t *labels, *predicted;
    double *confidence;
    char **paths;
    size_t n, cap;
} lo_batch_eval;

/* Keeps a scored, labelled item's facts (others are ignored); -1 when out of memory. */
int lo_batch_eval_add(lo_batch_eval *ev, const lo_batch_item *it);
/* Computes the metrics (95 % bootstrap intervals, fixed seed) at the cut the verdicts used and
 * writes the EvaluationResult-like JSON and the HTML report. -1 with msg. */
int lo_batch_eval_write(const lo_batch_eval *ev, const lev_details *d, const char *result_path,
                        const char *report_path, lev_metrics *m, char *msg, size_t cap);
void lo_batch_eval_free(lo_batch_eval *ev);

#endif
