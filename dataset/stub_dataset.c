/* TEMPORARY: placeholders so the tree links while dataset/ is written in parallel.
 * The dataset owner deletes each function from here as it lands for real; this file must be gone
 * before any issue is called resolved. */
#include "dataset.h"
#include <stdio.h>
#include <string.h>
#define NI(err) do { if (err) snprintf((err)->message, sizeof (err)->message, "%s: not implemented yet", __func__); return -1; } while (0)
int lds_import_manifest(const char *d, const char *m, const char *s, lds_error *w, lds_error *err) { (void)d; (void)m; (void)s; (void)w; NI(err); }
int lds_import_folder(const char *d, const char *f, lds_error *w, lds_error *err) { (void)d; (void)f; (void)w; NI(err); }
int lds_create_empty(const char *d, lds_error *err) { (void)d; NI(err); }
int lds_update(const char *d, const char *c, size_t l, const char *s, lds_error *err) { (void)d; (void)c; (void)l; (void)s; NI(err); }
int lds_snapshot(const char *d, const char *t, lds_error *err) { (void)d; (void)t; NI(err); }
int lds_stats_get(const char *d, lds_stats *o, lds_error *err) { (void)d; (void)o; NI(err); }
int lds_list(const char *d, const lds_filter *f, int64_t i, int64_t m, void (*fn)(const char *, void *), void *c, int64_t *n, lds_error *err) { (void)d; (void)f; (void)i; (void)m; (void)fn; (void)c; (void)n; NI(err); }
int lds_open(const char *d, lds_set **o, lds_error *err) { (void)d; (void)o; NI(err); }
void lds_free(lds_set *s) { (void)s; }
int lds_load_image(const char *p, int c, int w, int h, float *d, lds_error *err) { (void)p; (void)c; (void)w; (void)h; (void)d; NI(err); }
int lds_load_image_memory(const uint8_t *b, size_t l, const char *wh, int c, int w, int h, float *d, int *ow, int *oh, lds_error *err) { (void)b; (void)l; (void)wh; (void)c; (void)w; (void)h; (void)d; (void)ow; (void)oh; NI(err); }
int lds_load_mask(const lds_set *s, const char *p, int w, int h, uint8_t *d, lds_error *err) { (void)s; (void)p; (void)w; (void)h; (void)d; NI(err); }
int lds_write_png(const char *p, const uint8_t *px, int w, int h, int c, lds_error *err) { (void)p; (void)px; (void)w; (void)h; (void)c; NI(err); }
uint8_t *lds_encode_png(const uint8_t *px, int w, int h, int c, size_t *l) { (void)px; (void)w; (void)h; (void)c; (void)l; return NULL; }
void lds_split(const lds_set *s, double f, uint64_t seed, uint8_t *t) { (void)f; (void)seed; memset(t, 0, s->n); }
void lds_augment_defaults(lds_augment_config *c) { memset(c, 0, sizeof *c); }
void lds_augment(float *i, uint8_t *m, int c, int h, int w, const lds_augment_config *cfg, uint64_t *r) { (void)i; (void)m; (void)c; (void)h; (void)w; (void)cfg; (void)r; }
void lds_synth_defect(float *i, uint8_t *m, int c, int h, int w, lds_synth_kind k, const float *s, uint64_t *r) { (void)i; (void)m; (void)c; (void)h; (void)w; (void)k; (void)s; (void)r; }
int lds_demo_generate(const char *f, int n, int a, uint64_t s, lds_error *err) { (void)f; (void)n; (void)a; (void)s; NI(err); }
