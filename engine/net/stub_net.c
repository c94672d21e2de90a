/* TEMPORARY: placeholders so the tree links while engine/net is written in parallel.
 * Removed by the net owner as the real executor lands. */
#include "net.h"
#include <stdio.h>
lo_net *lo_net_create(const char *a, const lo_net_config *c, char *err, size_t n) { (void)a; (void)c; if (err) snprintf(err, n, "lo_net_create: not implemented yet"); return NULL; }
void lo_net_free(lo_net *n) { (void)n; }
const char *lo_net_name(const lo_net *n) { (void)n; return ""; }
lo_net_head lo_net_head_type(const lo_net *n) { (void)n; return LO_HEAD_CLASSIFIER; }
void lo_net_input_shape(const lo_net *n, int *b, int *c, int *h, int *w) { (void)n; *b = *c = *h = *w = 0; }
size_t lo_net_arena_bytes(const lo_net *n) { (void)n; return 0; }
float *lo_net_input(lo_net *n) { (void)n; return NULL; }
void lo_net_forward(lo_net *n, int t) { (void)n; (void)t; }
int lo_net_output_count(const lo_net *n) { (void)n; return 0; }
const float *lo_net_output(const lo_net *n, int i, int d[4]) { (void)n; (void)i; (void)d; return NULL; }
float *lo_net_output_grad(lo_net *n, int i) { (void)n; (void)i; return NULL; }
void lo_net_zero_grad(lo_net *n) { (void)n; }
void lo_net_backward(lo_net *n) { (void)n; }
size_t lo_net_param_count(const lo_net *n) { (void)n; return 0; }
float *lo_net_params(lo_net *n) { (void)n; return NULL; }
float *lo_net_grads(lo_net *n) { (void)n; return NULL; }
size_t lo_net_state_count(const lo_net *n) { (void)n; return 0; }
float *lo_net_state(lo_net *n) { (void)n; return NULL; }
void lo_net_init_params(lo_net *n, uint64_t s) { (void)n; (void)s; }
float lo_net_loss_softmax_ce(lo_net *n, int i, const int32_t *l, const float *w) { (void)n; (void)i; (void)l; (void)w; return 0; }
float lo_net_loss_pixel_ce(lo_net *n, int i, const uint8_t *l, const float *w) { (void)n; (void)i; (void)l; (void)w; return 0; }
float lo_net_loss_bce(lo_net *n, int i, const float *t, const float *w) { (void)n; (void)i; (void)t; (void)w; return 0; }
lo_opt *lo_opt_create(lo_net *n, const lo_opt_config *c) { (void)n; (void)c; return NULL; }
void lo_opt_step(lo_opt *o, lo_net *n, float lr) { (void)o; (void)n; (void)lr; }
void lo_opt_free(lo_opt *o) { (void)o; }
