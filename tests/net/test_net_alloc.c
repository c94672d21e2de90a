/* A training step must not touch the heap (DESIGN §6): malloc and friends are interposed here and
 * counted over steps after a warm-up (first-step effects such as the OpenMP thread pool are
 * allowed). Not built under sanitizers, which own malloc. */
#include "net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static volatile int counting;
static volatile long allocs;

void *malloc(size_t n) { if (counting) __atomic_add_fetch(&allocs, 1, __ATOMIC_RELAXED); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { if (counting) __atomic_add_fetch(&allocs, 1, __ATOMIC_RELAXED); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { if (counting) __atomic_add_fetch(&allocs, 1, __ATOMIC_RELAXED); return __libc_realloc(p, n); }
void *memalign(size_t a, size_t n) { if (counting) __atomic_add_fetch(&allocs, 1, __ATOMIC_RELAXED); return __libc_memalign(a, n); }
void *aligned_alloc(size_t a, size_t n) { return memalign(a, n); }
int posix_memalign(void **p, size_t a, size_t n) { *p = memalign(a, n); return *p ? 0 : 12; }
void free(void *p) { __libc_free(p); }

static const char *arch =
    "{\"name\":\"alloc\",\"input\":{\"size\":[37,41],\"channels\":3},\"layers\":["
    "{\"name\":\"c1\",\"type\":\"conv\",\"out\":16,\"kernel\":3,\"stride\":2},"
    "{\"name\":\"b1\",\"type\":\"bn\"},{\"name\":\"r1\",\"type\":\"relu\"},"
    "{\"name\":\"c2\",\"type\":\"conv\",\"out\":24,\"kernel\":3},{\"name\":\"r2\",\"type\":\"leaky_relu\"},"
    "{\"name\":\"p\",\"type\":\"maxpool\"},"
    "{\"name\":\"c3\",\"type\":\"conv\",\"out\":8,\"kernel\":1,\"pad\":0},"
    "{\"name\":\"up\",\"type\":\"upsample\",\"mode\":\"bilinear\",\"size\":[19,21]},"
    "{\"name\":\"cat\",\"type\":\"concat\",\"input\":[\"up\",\"r2\"]},"
    "{\"name\":\"seg\",\"type\":\"conv\",\"out\":2,\"kernel\":1,\"pad\":0},"
    "{\"name\":\"g\",\"type\":\"gtopk\",\"fraction\":0.1,\"input\":\"cat\"},"
    "{\"name\":\"fc\",\"type\":\"linear\",\"out\":2}],"
    "\"outputs\":[\"seg\",\"fc\"]}";

int main(void)
{
    char err[256];
    lo_net_config cfg = {.batch = 4, .threads = 2, .training = 1};
    lo_net *net = lo_net_create(arch, &cfg, err, sizeof err);
    if (!net) { printf("create: %s\n", err); return 1; }
    int b, c, h, w, d[4];
    lo_net_input_shape(net, &b, &c, &h, &w);
    for (size_t i = 0; i < (size_t)b * c * h * w; i++) lo_net_input(net)[i] = (float)(i % 17) / 17.f;
    lo_net_output(net, 0, d);
    size_t npix = (size_t)d[0] * d[2] * d[3];
    uint8_t *pix = malloc(npix);
    for (size_t i = 0; i < npix; i++) pix[i] = (uint8_t)(i % 3 == 0);
    int32_t labels[4] = {0, 1, 0, 1};
    int rc = 0;
    for (int kind = 0; kind < 2; kind++) {
        lo_opt_config oc = {.kind = kind ? LO_OPT_ADAMW : LO_OPT_SGD, .momentum = 0.9f, .weight_decay = 1e-4f};
        lo_opt *opt = lo_opt_create(net, &oc);
        for (int step = 0; step < 5; step++) {
            counting = step >= 2;
            lo_net_zero_grad(net);
            lo_net_forward(net, 1);
            lo_net_loss_pixel_ce(net, 0, pix, NULL);
            lo_net_loss_softmax_ce(net, 1, labels, NULL);
            lo_net_backward(net);
            lo_opt_step(opt, net, 1e-3f);
            lo_net_forward(net, 0); /* inference pass too */
            counting = 0;
        }
        printf("%s: %ld heap allocations in 3 steps (arena %zu bytes)\n", kind ? "adamw" : "sgd", allocs,
               lo_net_arena_bytes(net));
        if (allocs) rc = 1;
        allocs = 0;
        lo_opt_free(opt);
    }
    free(pix);
    lo_net_free(net);
    return rc;
}
