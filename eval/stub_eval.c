/* TEMPORARY: placeholders so the tree links while eval/ is written in parallel.
 * The eval owner deletes each function from here as it lands; this file must be gone before any
 * issue is called resolved. */
#include "eval.h"
#include <math.h>
#include <stdio.h>
#include <string.h>
#define NI(err) do { if (err) snprintf((err)->message, sizeof (err)->message, "%s: not implemented yet", __func__); return -1; } while (0)
int lev_image_metrics(const float *s, const uint8_t *a, size_t n, float t, int nb, uint64_t seed, lev_metrics *o, lev_error *err) { (void)s; (void)a; (void)n; (void)t; (void)nb; (void)seed; (void)o; NI(err); }
float lev_threshold_max_f1(const float *s, const uint8_t *a, size_t n) { (void)s; (void)a; (void)n; return NAN; }
void lev_pixel_init(lev_pixel_metrics *pm, const char *const *names, int n) { (void)names; memset(pm, 0, sizeof *pm); pm->n_classes = n; }
void lev_pixel_add(lev_pixel_metrics *pm, const uint8_t *t, const uint8_t *p, size_t n) { (void)pm; (void)t; (void)p; (void)n; }
void lev_pixel_finish(lev_pixel_metrics *pm) { (void)pm; }
int lev_write_result(const char *p, const lev_details *d, const lev_metrics *m, const lev_pixel_metrics *px, lev_error *err) { (void)p; (void)d; (void)m; (void)px; NI(err); }
int lev_write_manifest(const char *p, const lev_details *d, const lev_prediction *pr, size_t n, lev_error *err) { (void)p; (void)d; (void)pr; (void)n; NI(err); }
int lev_write_report(const char *p, const lev_details *d, const lev_metrics *m, const lev_pixel_metrics *px, const lev_prediction *pr, size_t n, float t, lev_error *err) { (void)p; (void)d; (void)m; (void)px; (void)pr; (void)n; (void)t; NI(err); }
