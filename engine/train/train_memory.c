/* train_memory.c — the memory guard of a training run: an upper bound of what the run will hold
 * (train.h, lo_train_memory) compared with the memory the box can give it, so a run that cannot
 * fit fails at once with both numbers instead of being killed by the OOM killer halfway. */
#include "train_data.h"
#include "net/net.h"

#include <dataset.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEM_BATCH 16                       /* the recipe's batch (train_run.c LO_BATCH) */
#define MEM_BASE_BYTES ((uint64_t)96 << 20) /* binary, OpenBLAS/OpenMP buffers, decode scratch */
#define MEM_ARCH "compact-fcn"            /* the worker's default architecture */

static const int mem_sides[2] = {224, 320}; /* the recipe's candidate long sides */

int lo_train_parse_bytes(const char *text, uint64_t *out) {
    if (!text || !*text) return -1;
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || !(v >= 0)) return -1;
    double mul = 1;
    switch (*end) {
    case 'k': case 'K': mul = 1024.0, end++; break;
    case 'm': case 'M': mul = 1024.0 * 1024, end++; break;
    case 'g': case 'G': mul = 1024.0 * 1024 * 1024, end++; break;
    case 't': case 'T': mul = 1024.0 * 1024 * 1024 * 1024, end++; break;
    default: break;
    }
    if (mul > 1 && end[0] == 'i' && end[1] == 'B') end += 2;
    else if (*end == 'B') end++;
    if (*end || v * mul > 1.8e19) return -1;
    *out = (uint64_t)(v * mul);
    return 0;
}

/* Arena bytes of the default architecture at h x w, batch 16; 0 when it cannot be made. The
 * arena is mapped, not touched, when a net is made: asking costs no memory. */
static uint64_t arena_bytes(int c, int h, int w, int training) {
    const char *arch = lo_train_arch_json(MEM_ARCH);
    if (!arch) return 0;
    char msg[256];
    lo_net_config cfg = {.batch = MEM_BATCH, .channels = c, .height = h, .width = w, .threads = 1,
                         .training = training};
    lo_net *net = lo_net_create(arch, &cfg, msg, sizeof msg);
    uint64_t b = net ? (uint64_t)lo_net_arena_bytes(net) : 0;
    lo_net_free(net);
    return b;
}

int lo_train_memory_estimate(const char *train_dir, const char *test_dir, lo_train_memory *out,
                             lo_train_error *err) {
    memset(out, 0, sizeof *out);
    const char *dirs[2] = {train_dir, test_dir};
    lds_set *sets[2] = {NULL, NULL};
    int channels = 1;
    for (int d = 0; d < 2; d++) {
        if (!dirs[d]) continue;
        lds_error le;
        if (lds_open(dirs[d], &sets[d], &le) != 0) {
            snprintf(err->message, sizeof err->message, "memory estimate: %.2000s", le.message);
            lds_free(sets[0]);
            return -1;
        }
        out->n_images += (int64_t)sets[d]->n;
        if (sets[d]->channels > channels) channels = sets[d]->channels;
        for (size_t i = 0; i < sets[d]->n; i++) out->with_masks |= sets[d]->entries[i].mask_known;
    }
    out->channels = channels;
    /* the input sizes the recipe will use (capped at the typical image, as train_run.c does) */
    size_t n_tr = sets[0]->n;
    size_t *items = malloc((n_tr ? n_tr : 1) * sizeof *items);
    if (!items) {
        snprintf(err->message, sizeof err->message, "memory estimate: out of memory");
        lds_free(sets[0]);
        lds_free(sets[1]);
        return -1;
    }
    for (size_t i = 0; i < n_tr; i++) items[i] = i;
    uint64_t n = (uint64_t)out->n_images, per_px = (uint64_t)channels + (out->with_masks ? 1u : 0u);
    uint64_t px_max = 0;
    int hmax = 0, wmax = 0;
    for (int k = 0; k < 2; k++) {
        int h, w, capped;
        lo_train_input_size(sets[0], items, n_tr, mem_sides[k], &h, &w, &capped);
        uint64_t px = (uint64_t)h * (uint64_t)w;
        /* every image may sit in a candidate bank at each size, and in its shrunk copy for the
         * first part of each member */
        out->bank_bytes += n * per_px * (px + (uint64_t)lo_train_small_side(h) * (uint64_t)lo_train_small_side(w));
        if (px > px_max) px_max = px, hmax = h, wmax = w;
    }
    free(items);
    lds_free(sets[0]);
    lds_free(sets[1]);
    out->bank_bytes += n * (uint64_t)channels * px_max; /* the test bank at the kept size */
    /* a training net, then the inference net that scores the test images */
    out->net_bytes = arena_bytes(channels, hmax, wmax, 1) + arena_bytes(channels, hmax, wmax, 0);
    if (!out->net_bytes) out->net_bytes = (uint64_t)MEM_BATCH * px_max * 128 * sizeof(float); /* 128 floats/px */
    out->base_bytes = MEM_BASE_BYTES;
    out->total_bytes = out->bank_bytes + out->net_bytes + out->base_bytes;
    return 0;
}

/* MemAvailable in bytes, 0 when unknown. */
static uint64_t mem_available(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return 0;
    char line[256];
    unsigned long long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) break;
    fclose(f);
    return (uint64_t)kb * 1024;
}

static int read_u64(const char *path, uint64_t *v) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    unsigned long long x;
    int ok = fscanf(f, "%llu", &x) == 1;
    fclose(f);
    if (!ok) return -1; /* "max": no limit */
    *v = (uint64_t)x;
    return 0;
}

/* What the cgroup (v2) still allows, 0 when there is no limit. */
static uint64_t cgroup_room(void) {
    uint64_t max, cur;
    if (read_u64("/sys/fs/cgroup/memory.max", &max) || read_u64("/sys/fs/cgroup/memory.current", &cur)) return 0;
    return max > cur ? max - cur : 1;
}

static double mb(uint64_t b) { return (double)b / (1024.0 * 1024.0); }

/* "512 MB", or bytes below a megabyte (a tiny LOOKOUT_MAX_MEMORY must not read as "0 MB") */
static const char *size_text(uint64_t b, char *buf, size_t cap) {
    if (b < 1024 * 1024) snprintf(buf, cap, "%llu bytes", (unsigned long long)b);
    else snprintf(buf, cap, "%.0f MB", mb(b));
    return buf;
}

int lo_train_memory_check(const lo_train_memory *m, char *msg, size_t cap) {
    uint64_t avail = mem_available(), room = cgroup_room(), user = 0;
    const char *env = getenv("LOOKOUT_MAX_MEMORY");
    if (env && *env && lo_train_parse_bytes(env, &user) != 0) {
        snprintf(msg, cap, "LOOKOUT_MAX_MEMORY=%s is not a size (bytes, or a number with K, M, G or T, e.g. 2G)",
                 env);
        return -1;
    }
    uint64_t limit = 0;
    const char *which = "";
    if (avail) limit = avail, which = "MemAvailable in /proc/meminfo";
    if (room && (!limit || room < limit)) limit = room, which = "the cgroup's memory.max less memory.current";
    if (user && (!limit || user < limit)) limit = user, which = "LOOKOUT_MAX_MEMORY";
    char est[512];
    snprintf(est, sizeof est, "an estimated %.0f MB (%lld images x %d channel%s%s at the candidate sizes: %.0f MB; "
             "network arenas: %.0f MB; process: %.0f MB)", mb(m->total_bytes), (long long)m->n_images, m->channels,
             m->channels == 1 ? "" : "s", m->with_masks ? " + masks" : "", mb(m->bank_bytes), mb(m->net_bytes),
             mb(m->base_bytes));
    if (limit && m->total_bytes > limit) {
        char lim[64];
        snprintf(msg, cap, "not enough memory to train: the run needs %s but the limit is %s (%s; "
                 "MemAvailable %.0f MB%s%s); free memory, raise LOOKOUT_MAX_MEMORY, or train on fewer images",
                 est, size_text(limit, lim, sizeof lim), which, mb(avail), user ? ", LOOKOUT_MAX_MEMORY=" : "",
                 user ? env : "");
        return 1;
    }
    snprintf(msg, cap, "memory: %s; limit %.0f MB (%s)", est, mb(limit), limit ? which : "none known");
    return 0;
}
