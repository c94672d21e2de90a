/* TEMPORARY: placeholders so the tree links while engine/service is written in parallel.
 * Removed by the service owner as the real code lands. */
#include "service.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
struct lo_service { int unused; };
void lo_error_set(lo_error *err, const char *type, const char *fmt, ...) {
    va_list ap; snprintf(err->type, sizeof err->type, "%s", type);
    va_start(ap, fmt); vsnprintf(err->message, sizeof err->message, fmt, ap); va_end(ap);
    err->http_status = 500;
}
lo_service *lo_service_open(lo_error *err) { (void)err; return calloc(1, sizeof(lo_service)); }
void lo_service_close(lo_service *s) { free(s); }
const char *lo_service_home(const lo_service *s) { (void)s; return ""; }
const char *lo_service_s3_root(const lo_service *s) { (void)s; return ""; }
int lo_service_call(lo_service *s, const char *op, const cJSON *in, const uint8_t *b, size_t bl, cJSON **out, lo_error *err) {
    (void)s; (void)in; (void)b; (void)bl; *out = NULL;
    lo_error_set(err, "InternalServerException", "%s: not implemented yet", op); return -1;
}
int lo_service_worker_main(const char *p, const char *v) { (void)p; (void)v; return 1; }
