/* dispatch.c — which convolution path runs: the best this CPU supports, or LOOKOUT_KERNELS. */
#include "kernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const path_names[] = {"ref", "blas", "avx2", "avx512"};
static int current = -1;

int lk_path_supported(lk_path p)
{
    switch (p) {
    case LK_PATH_REF:
    case LK_PATH_BLAS: return 1;
    case LK_PATH_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case LK_PATH_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
    }
    return 0;
}

const char *lk_path_str(lk_path p)
{
    return (unsigned)p < 4 ? path_names[p] : "?";
}

int lk_path_parse(const char *s, lk_path *out)
{
    for (int i = 0; i < 4; i++)
        if (s && strcmp(s, path_names[i]) == 0) { *out = (lk_path)i; return 0; }
    return -1;
}

lk_path lk_path_get(void)
{
    if (current >= 0) return (lk_path)current;
    lk_path p = LK_PATH_AVX512;
    while (!lk_path_supported(p)) p = (lk_path)(p - 1);
    const char *env = getenv("LOOKOUT_KERNELS");
    lk_path want;
    if (env && *env) {
        if (lk_path_parse(env, &want) != 0)
            fprintf(stderr, "lookout: LOOKOUT_KERNELS=%s is not one of avx512|avx2|blas|ref; using %s\n",
                    env, lk_path_str(p));
        else if (!lk_path_supported(want))
            fprintf(stderr, "lookout: LOOKOUT_KERNELS=%s is not supported by this CPU; using %s\n",
                    env, lk_path_str(p));
        else
            p = want;
    }
    current = (int)p;
    return p;
}

int lk_path_set(lk_path p)
{
    if ((unsigned)p > LK_PATH_AVX512 || !lk_path_supported(p)) return -1;
    current = (int)p;
    return 0;
}

const char *lk_path_name(void) { return lk_path_str(lk_path_get()); }
