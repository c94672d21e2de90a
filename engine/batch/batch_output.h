/* batch_output.h — the result file of a batch job (batch_output.c). Internal to engine/batch. */
#ifndef LOOKOUT_BATCH_OUTPUT_H
#define LOOKOUT_BATCH_OUTPUT_H

#include "batch_internal.h"

typedef struct {
    char final_path[4608];
    char tmp_path[4640];
    FILE *f;
} lo_batch_writer;

/* The JSON line of one image (malloc'd): source-ref, GroundTruth when labelled, then either
 * IsAnomalous / Confidence / AnomalyScore / AnomalyAreaFraction (/ Anomalies) or Error. */
char *lo_batch_line(const lo_batch_item *it, int segmentation);
int lo_batch_mkdirs(const char *dir, char *msg, size_t cap);
int lo_batch_writer_open(lo_batch_writer *w, const char *final_path, char *msg, size_t cap);
int lo_batch_writer_line(lo_batch_writer *w, const char *line, char *msg, size_t cap);
/* fflush + fsync + rename + fsync of the folder; the temporary is removed on failure. */
int lo_batch_writer_commit(lo_batch_writer *w, char *msg, size_t cap);
void lo_batch_writer_abort(lo_batch_writer *w);

#endif
