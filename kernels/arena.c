/* arena.c — one mapping per network: activations, gradients and scratch are carved from it once, so
 * a training step never touches the heap (page faults are expensive on the target box). */
#define _GNU_SOURCE
#include "kernels.h"

#include <stdlib.h>
#include <sys/mman.h>

struct lk_arena {
    unsigned char *base;
    size_t cap, used, mapped;
};

lk_arena *lk_arena_create(size_t bytes)
{
    lk_arena *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    size_t len = (bytes + 4095) & ~(size_t)4095;
    if (len == 0) len = 4096;
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { free(a); return NULL; }
#ifdef MADV_HUGEPAGE
    madvise(p, len, MADV_HUGEPAGE); /* advisory: fewer TLB misses and faults on big activations */
#endif
    a->base = p;
    a->cap = bytes;
    a->mapped = len;
    return a;
}

void *lk_arena_alloc(lk_arena *a, size_t bytes)
{
    size_t off = (a->used + 63) & ~(size_t)63;
    if (off > a->cap || bytes > a->cap - off) return NULL;
    a->used = off + bytes;
    return a->base + off;
}

size_t lk_arena_used(const lk_arena *a) { return a->used; }
size_t lk_arena_capacity(const lk_arena *a) { return a->cap; }

void lk_arena_free(lk_arena *a)
{
    if (!a) return;
    munmap(a->base, a->mapped);
    free(a);
}
