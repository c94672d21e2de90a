/* eval_internal.h — helpers shared by the files of eval/ (not part of the public seam). */
#ifndef LOOKOUT_EVAL_INTERNAL_H
#define LOOKOUT_EVAL_INTERNAL_H

#include "eval.h"

#include <stddef.h>
#include <stdint.h>

/* printf-style error fill; err may be NULL. Always returns -1 so callers can `return lev__fail(...)`. */
int lev__fail(lev_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes len bytes to path atomically: a temp file beside it, fsync, rename, fsync of the directory.
 * Creates missing parent directories (an S3 prefix may contain '/'). */
int lev__write_atomic(const char *path, const void *data, size_t len, lev_error *err);

/* "2026-11-28T06:25:01.000000" (UTC), the form Lookout for Vision's files use. */
void lev__iso_time(int64_t epoch_s, char out[40]);

/* One point per distinct score, from the highest threshold down; point 0 is the origin of the
 * curve (nothing predicted positive). */
typedef struct {
    double *fpr, *tpr, *precision, *recall, *threshold;
    size_t n;
} lev__curves;
int lev__curves_compute(const float *scores, const uint8_t *is_anomaly, size_t n, lev__curves *out);
void lev__curves_free(lev__curves *c);

/* Growable string for the HTML/SVG writers. On allocation failure `failed` is set and further
 * appends are ignored, so writers check once at the end. */
typedef struct {
    char *data;
    size_t len, cap;
    int failed;
} lev__buf;
void lev__buf_append(lev__buf *b, const char *s, size_t n);
void lev__buf_puts(lev__buf *b, const char *s);
void lev__buf_printf(lev__buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lev__buf_html(lev__buf *b, const char *text); /* HTML-escaped */
void lev__buf_base64(lev__buf *b, const uint8_t *data, size_t n);
void lev__buf_free(lev__buf *b);

/* SVG charts for the report (report_charts.c). */
void lev__svg_roc(lev__buf *b, const lev__curves *c, const lev_metrics *m);
void lev__svg_pr(lev__buf *b, const lev__curves *c, const lev_metrics *m);
void lev__svg_histogram(lev__buf *b, const lev_prediction *p, size_t n, float threshold);

/* A thumbnail of the image (longest side max_side) with the heat map blended over it, as PNG bytes
 * (malloc'd). NULL with err filled when the image cannot be read. */
uint8_t *lev__thumbnail_png(const lev_prediction *p, int max_side, size_t *out_len, lev_error *err);

#endif
