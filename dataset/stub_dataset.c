/* TEMPORARY: placeholders so the tree links while dataset/ is written in parallel.
 * The dataset owner deletes each function from here as it lands for real; this file must be gone
 * before any issue is called resolved. */
#include "dataset.h"
#include <stdio.h>
#include <string.h>
#define NI(err) do { if (err) snprintf((err)->message, sizeof (err)->message, "%s: not implemented yet", __func__); return -1; } while (0)
void lds_split(const lds_set *s, double f, uint64_t seed, uint8_t *t) { (void)f; (void)seed; memset(t, 0, s->n); }
void lds_augment_defaults(lds_augment_config *c) { memset(c, 0, sizeof *c); }
void lds_augment(float *i, uint8_t *m, int c, int h, int w, const lds_augment_config *cfg, uint64_t *r) { (void)i; (void)m; (void)c; (void)h; (void)w; (void)cfg; (void)r; }
void lds_synth_defect(float *i, uint8_t *m, int c, int h, int w, lds_synth_kind k, const float *s, uint64_t *r) { (void)i; (void)m; (void)c; (void)h; (void)w; (void)k; (void)s; (void)r; }
