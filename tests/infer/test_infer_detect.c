/* test_infer_detect — lo_model_detect on one loaded model is thread-safe and deterministic:
 * the same images scored sequentially (alone, a detect runs half of its member/view passes on a
 * second thread), from 4 threads at once (more than the model's workspaces, so some wait and
 * most run on one thread) and from inside an OpenMP region (as batch-detect calls it) give
 * identical scores, verdicts and mask PNGs; the mask PNG has the input's size; and the detect's
 * logit is the mean of the members' view-averaged logits as lo_ensemble_member_pass (the
 * training run's test scoring) computes them. Once with one view, once with all four.
 * The model is the default architecture with random weights (what is compared does not depend
 * on training). Usage: test_infer_detect SHARED_DATA_DIR */
#include "train/train_infer.h"
#include "dataset.h"
#include "lds_internal.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N_IMG 6
#define N_THREADS 4

static int failures;
#define CHECK(cond, ...)                                                                                            \
    do {                                                                                                            \
        if (!(cond)) {                                                                                              \
            failures++;                                                                                             \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                                    \
            fprintf(stderr, __VA_ARGS__);                                                                           \
            fprintf(stderr, "\n");                                                                                  \
        }                                                                                                           \
    } while (0)

static uint8_t *img[N_IMG];
static size_t img_len[N_IMG];
static lo_detect_result ref[N_IMG];
static lo_model *model;

static int make_model(const char *path, int flips) {
    lo_model_data md = {0};
    md.arch_json = (char *)lo_train_arch_json("compact-fcn");
    snprintf(md.arch_name, sizeof md.arch_name, "compact-fcn");
    md.channels = 3, md.height = 128, md.width = 96;
    for (int c = 0; c < 3; c++) md.mean[c] = 0.4f, md.std[c] = 0.25f;
    md.threshold = 0.5f, md.calib_slope = 1, md.pixel_threshold = 0.5f;
    md.has_map = 1, md.segmentation = 1, md.n_classes = 2;
    md.flip_average = md.flip_average_v = flips;
    snprintf(md.class_names[0], 64, "background");
    snprintf(md.class_names[1], 64, "anomaly");
    md.class_rgb[1][0] = 255;
    lo_net_config cfg = {.batch = 1, .channels = 3, .height = md.height, .width = md.width, .threads = 1};
    char err[512];
    md.n_members = 3;
    for (int k = 0; k < md.n_members; k++) {
        lo_net *net = lo_net_create(md.arch_json, &cfg, err, sizeof err);
        if (!net) return fprintf(stderr, "%s\n", err), -1;
        lo_net_init_params(net, (uint64_t)k + 7);
        if (k == 0) {
            md.n_params = lo_net_param_count(net);
            md.n_state = lo_net_state_count(net);
            md.params = malloc(md.n_members * md.n_params * sizeof(float));
            md.state = malloc((md.n_members * md.n_state + 1) * sizeof(float));
        }
        memcpy(md.params + k * md.n_params, lo_net_params(net), md.n_params * sizeof(float));
        memcpy(md.state + k * md.n_state, lo_net_state(net), md.n_state * sizeof(float));
        lo_net_free(net);
    }
    lo_train_error te;
    int rc = lo_model_data_write(path, &md, &te);
    if (rc) fprintf(stderr, "%s\n", te.message);
    free(md.params);
    free(md.state);
    return rc;
}

static int same(const lo_detect_result *a, const lo_detect_result *b) {
    return a->score == b->score && a->confidence == b->confidence && a->is_anomalous == b->is_anomalous &&
           a->n_anomalies == b->n_anomalies && a->mask_png_len == b->mask_png_len &&
           (!a->mask_png_len || memcmp(a->mask_png, b->mask_png, a->mask_png_len) == 0);
}

static int score_all(int offset) {
    int bad = 0;
    for (int r = 0; r < 3; r++)
        for (int j = 0; j < N_IMG; j++) {
            int i = (j + offset) % N_IMG;
            lo_detect_result res;
            lo_train_error err;
            if (lo_model_detect(model, img[i], img_len[i], "img", &res, &err) != 0 || !same(&res, &ref[i])) bad++;
            lo_detect_result_free(&res);
        }
    return bad;
}

static void *thread_main(void *arg) {
    intptr_t bad = score_all((int)(intptr_t)arg);
    return (void *)bad;
}

static void run(const char *data, int flips) {
    char path[] = "/tmp/lookout-test-infer-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || make_model(path, flips) != 0) {
        CHECK(0, "could not write the model");
        return;
    }
    close(fd);
    lo_train_error err;
    model = lo_model_load(path, &err);
    remove(path);
    CHECK(model != NULL, "load: %s", err.message);
    if (!model) return;
    static const char *names[N_IMG] = {"cookies/test/anomaly/test-anomaly-1.jpg", "cookies/test/normal/test-normal-1.jpg",
                                       "cookies/train/anomaly/anomaly-1.jpg", "cookies/train/normal/normal-1.jpg",
                                       "cookies/train/normal/normal-2.jpg", "cookies/train/anomaly/anomaly-2.jpg"};
    for (int i = 0; i < N_IMG; i++) {
        char p[2048];
        snprintf(p, sizeof p, "%s/%s", data, names[i]);
        lds_error le;
        img[i] = lds_read_file(p, LDS_MAX_BYTES, &img_len[i], &le);
        CHECK(img[i] != NULL, "%s", le.message);
        if (!img[i]) return;
        CHECK(lo_model_detect(model, img[i], img_len[i], p, &ref[i], &err) == 0, "%s", err.message);
        int w = 0, h = 0, c = 0;
        CHECK(ref[i].mask_png && lds_check_header(ref[i].mask_png, ref[i].mask_png_len, "mask", &w, &h, &c, &le) == 0 &&
                  w == 576 && h == 768,
              "%s: mask PNG %dx%d, want the input's 576x768", names[i], w, h);
        float logits[LO_MODEL_MAX_MEMBERS];
        CHECK(lo_model_member_logits(model, img[i], img_len[i], p, logits, &err) == 0, "%s", err.message);
        double mean = 0, z = log(ref[i].score / (1 - ref[i].score));
        int n = lo_model_data_of(model)->n_members;
        for (int k = 0; k < n; k++) mean += logits[k] / n;
        CHECK(fabs(mean - z) < 1e-4 * (1 + fabs(z)), "%s (%d views): detect logit %.6f, members' mean %.6f", names[i],
              flips ? 4 : 1, z, mean);
    }
    pthread_t th[N_THREADS];
    for (int t = 0; t < N_THREADS; t++) pthread_create(&th[t], NULL, thread_main, (void *)(intptr_t)t);
    int bad = 0;
    for (int t = 0; t < N_THREADS; t++) {
        void *r;
        pthread_join(th[t], &r);
        bad += (int)(intptr_t)r;
    }
    CHECK(bad == 0, "%d of %d concurrent detects differ from the sequential ones", bad, N_THREADS * 3 * N_IMG);
    int bad_omp = 0;
#pragma omp parallel for num_threads(2) reduction(+ : bad_omp)
    for (int t = 0; t < 2; t++) bad_omp += score_all(t);
    CHECK(bad_omp == 0, "%d detects inside an OpenMP region differ", bad_omp);
    printf("%d view(s): %d sequential, %d concurrent (%d threads) and %d in-OpenMP detects agree\n", flips ? 4 : 1,
           N_IMG, N_THREADS * 3 * N_IMG, N_THREADS, 2 * 3 * N_IMG);
    for (int i = 0; i < N_IMG; i++) {
        lo_detect_result_free(&ref[i]);
        free(img[i]);
    }
    lo_model_free(model);
}

int main(int argc, char **argv) {
    const char *data = argc > 1 ? argv[1] : "../shared/data";
    run(data, 0);
    run(data, 1);
    if (failures) fprintf(stderr, "%d failure(s)\n", failures);
    return failures ? 1 : 0;
}
