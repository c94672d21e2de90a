/* accuracy.c — issue 5's accuracy benchmark: for each shared dataset, build the protocol's train
 * and test parts (accuracy_protocol.c), import them, train with the default recipe and report
 * test F1, precision, recall, ROC AUC, AP and the training wall time.
 *
 * Where the test part is below Lookout's minimum for a separate test dataset (10 normal + 10
 * anomalous; cookies has 14 + 8) the train part is imported alone as a single dataset and the
 * test images are scored with lo_model_detect, as detect-anomalies would. For the others the run's
 * own test predictions are used, and detect-anomalies is run on every test image too to check it
 * gives the same verdicts.
 *
 *   accuracy [--data DIR] [--work DIR] [--only a,b] [--threads N] [--budget S] [--seed N]
 *            [--arch NAME] [--steps N] [--normal-only] [--prepare-only]
 *
 * --steps caps the steps per member (with a large --budget the run no longer depends on the box's
 * load: recipe comparisons); --normal-only trains on normal images alone (accuracy_protocol.c).
 */
#define _GNU_SOURCE
#include "accuracy_protocol.h"
#include "dataset.h"
#include "eval.h"
#include "train/train.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#ifndef LO_SHARED_DATA_DIR
#define LO_SHARED_DATA_DIR "../shared/data"
#endif

typedef struct {
    const char *name;
    int max_train_normal;
} dataset_spec;

static const dataset_spec specs[] = {
    {"cookies", 0}, {"aliens", 0}, {"magnetic_tile", 300}, {"elpv_mono", 0},
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void on_progress(void *ctx, double fraction, const char *message) {
    (void)ctx;
    fprintf(stderr, "\r  [%3.0f%%] %-110.110s", 100 * fraction, message);
    fflush(stderr);
}

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

typedef struct {
    float *scores;
    uint8_t *truth;
    size_t n, cap;
    int disagreements;
} score_list;

static void push(score_list *s, float v, int truth) {
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 256;
        s->scores = realloc(s->scores, s->cap * sizeof *s->scores);
        s->truth = realloc(s->truth, s->cap);
    }
    s->scores[s->n] = v;
    s->truth[s->n++] = (uint8_t)truth;
}

/* Scores every image of folder/{normal,anomaly} with detect (single-dataset mode). */
static int detect_folder(lo_model *m, const char *folder, score_list *out) {
    for (int lab = 0; lab < 2; lab++) {
        char dir[8192];
        snprintf(dir, sizeof dir, "%s/%s", folder, lab ? "anomaly" : "normal");
        DIR *d = opendir(dir);
        if (!d) continue;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            char path[8500];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            size_t len;
            uint8_t *buf = read_file(path, &len);
            lo_detect_result r;
            lo_train_error err;
            if (!buf || lo_model_detect(m, buf, len, path, &r, &err) != 0) {
                fprintf(stderr, "detect %s: %s\n", path, buf ? err.message : "cannot read");
                free(buf);
                closedir(d);
                return -1;
            }
            push(out, r.score, lab);
            lo_detect_result_free(&r);
            free(buf);
        }
        closedir(d);
    }
    return 0;
}

int main(int argc, char **argv) {
    const char *data = LO_SHARED_DATA_DIR, *only = NULL, *arch = NULL;
    char work[4096] = "";
    int threads = 2, prepare_only = 0, max_steps = 0, normal_only = 0;
    double budget = 0;
    unsigned long long seed = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--data") && i + 1 < argc) data = argv[++i];
        else if (!strcmp(argv[i], "--work") && i + 1 < argc) snprintf(work, sizeof work, "%s", argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--budget") && i + 1 < argc) budget = atof(argv[++i]);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--arch") && i + 1 < argc) arch = argv[++i];
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc) max_steps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--prepare-only")) prepare_only = 1;
        else if (!strcmp(argv[i], "--normal-only")) normal_only = 1;
        else {
            fprintf(stderr, "usage: %s [--data DIR] [--work DIR] [--only name,name] [--threads N] [--budget S] "
                            "[--seed N] [--arch NAME] [--steps N] [--normal-only] [--prepare-only]\n", argv[0]);
            return 2;
        }
    }
    if (!work[0]) {
        snprintf(work, sizeof work, "/tmp/lookout-accuracy-XXXXXX");
        if (!mkdtemp(work)) {
            perror("mkdtemp");
            return 1;
        }
    } else if (mkdir(work, 0755) != 0 && errno != EEXIST) {
        perror(work);
        return 1;
    }
    printf("work dir: %s (datasets, models and training logs)\n\n", work);
    printf("| dataset | train n/a | test n/a | F1 | precision | recall | ROC AUC | AP | train s | threshold |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|\n");
    fflush(stdout);
    int failures = 0;
    for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
        const dataset_spec *sp = &specs[k];
        if (only && !strstr(only, sp->name)) continue;
        char src[4096], dsrc_train[4200], dsrc_test[4200], ds_train[4200], ds_test[4200], model_dir[4200],
            log_path[4200], err[2048];
        snprintf(src, sizeof src, "%s/%s", data, sp->name);
        snprintf(dsrc_train, sizeof dsrc_train, "%s/%s/src-train", work, sp->name);
        snprintf(dsrc_test, sizeof dsrc_test, "%s/%s/src-test", work, sp->name);
        snprintf(ds_train, sizeof ds_train, "%s/%s/dataset-train", work, sp->name);
        snprintf(ds_test, sizeof ds_test, "%s/%s/dataset-test", work, sp->name);
        snprintf(model_dir, sizeof model_dir, "%s/%s/model", work, sp->name);
        snprintf(log_path, sizeof log_path, "%s/%s/train.log", work, sp->name);
        acc_split_counts cnt;
        if (acc_protocol_prepare(src, sp->max_train_normal, normal_only, dsrc_train, dsrc_test, &cnt, err, sizeof err) != 0) {
            printf("| %s | protocol failed: %s |\n", sp->name, err);
            failures++;
            continue;
        }
        if (prepare_only) {
            printf("| %s | %d/%d | %d/%d | prepared in %s/%s |\n", sp->name, cnt.train_normal, cnt.train_anomaly,
                   cnt.test_normal, cnt.test_anomaly, work, sp->name);
            continue;
        }
        int separate = cnt.test_normal >= 10 && cnt.test_anomaly >= 10;
        lds_error le, warn;
        if (lds_import_folder(ds_train, dsrc_train, &warn, &le) != 0 ||
            (separate && lds_import_folder(ds_test, dsrc_test, &warn, &le) != 0)) {
            printf("| %s | import failed: %s |\n", sp->name, le.message);
            failures++;
            continue;
        }
        FILE *log = fopen(log_path, "w");
        lo_train_request req = {.train_dir = ds_train, .test_dir = separate ? ds_test : NULL,
                                .model_dir = model_dir, .seed = seed, .threads = threads,
                                .time_budget_s = budget, .max_steps = max_steps, .log = log, .progress = on_progress, .arch = arch};
        lo_train_result res;
        lo_train_error terr;
        fprintf(stderr, "%s:\n", sp->name);
        double t0 = now_s();
        int rc = lo_train_run(&req, &res, &terr);
        double secs = now_s() - t0;
        fprintf(stderr, "\n");
        if (log) fclose(log);
        if (rc != 0) {
            printf("| %s | training failed: %s |\n", sp->name, terr.message);
            failures++;
            continue;
        }
        char model_path[4300];
        snprintf(model_path, sizeof model_path, "%s/model.bin", model_dir);
        lo_model *m = lo_model_load(model_path, &terr);
        score_list sl = {0};
        if (!m) {
            printf("| %s | model load failed: %s |\n", sp->name, terr.message);
            failures++;
            lo_train_result_free(&res);
            continue;
        }
        if (!separate) {
            if (detect_folder(m, dsrc_test, &sl) != 0) failures++;
        } else {
            for (int64_t i = 0; i < res.n_test; i++) {
                lo_test_prediction *t = &res.test[i];
                if (t->truth < 0) continue;
                push(&sl, t->score, t->truth);
                size_t len;
                uint8_t *buf = read_file(t->image_path, &len);
                lo_detect_result r;
                if (buf && lo_model_detect(m, buf, len, t->image_path, &r, &terr) == 0) {
                    if (r.is_anomalous != t->predicted_anomalous) sl.disagreements++;
                    lo_detect_result_free(&r);
                } else
                    sl.disagreements++;
                free(buf);
            }
        }
        lev_metrics mt;
        lev_error lerr;
        if (lev_image_metrics(sl.scores, sl.truth, sl.n, res.threshold, 0, 0, &mt, &lerr) != 0) {
            printf("| %s | metrics failed: %s |\n", sp->name, lerr.message);
            failures++;
        } else {
            printf("| %s | %d/%d | %d/%d%s | %.3f | %.3f | %.3f | %.3f | %.3f | %.0f | %.4f |\n", sp->name,
                   cnt.train_normal, cnt.train_anomaly, cnt.test_normal, cnt.test_anomaly,
                   separate ? "" : " (detect)", mt.f1, mt.precision, mt.recall, mt.roc_auc, mt.average_precision,
                   secs, res.threshold);
            if (separate && sl.disagreements)
                printf("|  | detect-anomalies disagreed with the evaluation on %d of %zu test images |\n",
                       sl.disagreements, sl.n);
        }
        printf("|  | %s |\n", res.summary);
        fflush(stdout);
        free(sl.scores);
        free(sl.truth);
        lo_model_free(m);
        lo_train_result_free(&res);
    }
    return failures ? 1 : 0;
}
