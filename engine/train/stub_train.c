/* TEMPORARY: placeholders so the tree links while engine/train is written in parallel.
 * Removed by the training owner as the real code lands. */
#include "train.h"
#include <stdio.h>
#include <string.h>
int lo_train_run(const lo_train_request *r, lo_train_result *o, lo_train_error *err) { (void)r; memset(o, 0, sizeof *o); snprintf(err->message, sizeof err->message, "training: not implemented yet"); return -1; }
void lo_train_result_free(lo_train_result *r) { (void)r; }
lo_model *lo_model_load(const char *p, lo_train_error *err) { (void)p; snprintf(err->message, sizeof err->message, "model loading: not implemented yet"); return NULL; }
void lo_model_free(lo_model *m) { (void)m; }
int lo_model_is_segmentation(const lo_model *m) { (void)m; return 0; }
int lo_model_detect(lo_model *m, const uint8_t *d, size_t l, const char *w, lo_detect_result *o, lo_train_error *err) { (void)m; (void)d; (void)l; (void)w; memset(o, 0, sizeof *o); snprintf(err->message, sizeof err->message, "inference: not implemented yet"); return -1; }
void lo_detect_result_free(lo_detect_result *r) { (void)r; }
