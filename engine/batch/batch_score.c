/* batch_score.c — scores a batch of images on all cores. lo_model_detect is not thread-safe (each
 * lo_model owns its decode buffer and network activations), so every worker thread has its own
 * lo_model; the network's own OpenMP regions then run single-threaded inside the workers, which
 * splits the work per image instead of per layer (no synchronization inside an image). */
#include "batch_internal.h"
#include "kernels.h"

#include <errno.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define BATCH_MAX_IMAGE_BYTES (8u * 1024u * 1024u) /* detect-anomalies' Body limit */

int lo_batch_scorer_open(lo_batch_scorer *sc, const char *model_path, int max_workers, char *msg, size_t cap) {
    memset(sc, 0, sizeof *sc);
    int w = omp_get_max_threads();
    /* OpenBLAS (pthread build) must not be called from inside an OpenMP region (DESIGN.md §6) */
    if (!strcmp(lk_path_name(), "blas")) w = 1;
    if (max_workers > 0 && w > max_workers) w = max_workers;
    if (w < 1) w = 1;
    sc->models = calloc((size_t)w, sizeof *sc->models);
    if (!sc->models) {
        snprintf(msg, cap, "out of memory");
        return -1;
    }
    for (int i = 0; i < w; i++) {
        lo_train_error terr = {{0}};
        sc->models[i] = lo_model_load(model_path, &terr);
        if (!sc->models[i]) {
            snprintf(msg, cap, "cannot load the model: %s", terr.message[0] ? terr.message : model_path);
            sc->n_workers = i;
            lo_batch_scorer_close(sc);
            return -1;
        }
    }
    sc->n_workers = w;
    return 0;
}

void lo_batch_scorer_close(lo_batch_scorer *sc) {
    for (int i = 0; i < sc->n_workers; i++) lo_model_free(sc->models[i]);
    free(sc->models);
    memset(sc, 0, sizeof *sc);
}

static uint8_t *read_image(lo_batch_item *it, size_t *len) {
    FILE *f = fopen(it->path, "rb");
    if (!f) {
        lo_batch_item_fail(it, "cannot open %s: %s", it->path, strerror(errno));
        return NULL;
    }
    struct stat st;
    uint8_t *data = NULL;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        lo_batch_item_fail(it, "%s is not a regular file", it->path);
    } else if (st.st_size == 0) {
        lo_batch_item_fail(it, "%s is empty (0 bytes)", it->path);
    } else if ((unsigned long long)st.st_size > BATCH_MAX_IMAGE_BYTES) {
        lo_batch_item_fail(it, "%s is %lld bytes; images may be at most 8 MB (%u bytes)", it->path,
                           (long long)st.st_size, BATCH_MAX_IMAGE_BYTES);
    } else if (!(data = malloc((size_t)st.st_size))) {
        lo_batch_item_fail(it, "out of memory reading %s", it->path);
    } else if (fread(data, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        lo_batch_item_fail(it, "cannot read %s: %s", it->path, ferror(f) ? strerror(errno) : "file shrank");
        free(data);
        data = NULL;
    } else {
        *len = (size_t)st.st_size;
    }
    fclose(f);
    return data;
}

static void score_one(lo_model *m, lo_batch_item *it) {
    if (it->error || !it->path) return;
    size_t len = 0;
    uint8_t *data = read_image(it, &len);
    if (!data) return;
    lo_train_error terr = {{0}};
    if (lo_model_detect(m, data, len, it->path, &it->res, &terr) != 0)
        lo_batch_item_fail(it, "%s", terr.message[0] ? terr.message : "the image could not be scored");
    lo_detect_result_free(&it->res); /* the mask PNG is not kept: the line has the areas */
    free(data);
}

void lo_batch_score(lo_batch_scorer *sc, lo_batch_item *items, size_t n) {
    int w = sc->n_workers;
    if (w <= 1 || n <= 1) {
        for (size_t i = 0; i < n; i++) score_one(sc->models[0], &items[i]);
        return;
    }
    /* one level of threading: the kernels' regions inside a worker get a team of one */
    omp_set_max_active_levels(1);
#pragma omp parallel for num_threads(w) schedule(dynamic, 1)
    for (size_t i = 0; i < n; i++) score_one(sc->models[omp_get_thread_num()], &items[i]);
}
