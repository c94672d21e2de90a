/* member_scores.c — what each member of a trained ensemble contributes: every member's logit for
 * every image of FOLDER/{normal,anomaly}, then each member's ROC AUC and normal median, and the
 * ranking of the ensembles of its first k, 2k, ... members (its rounds). For recipe work: the
 * accuracy table shows one ensemble's test figures, this shows how much of them is one member.
 *
 *   member_scores MODEL.bin FOLDER [FOLDER...]
 *
 * e.g. build/bench/member_scores /tmp/acc/aliens/model/model.bin /tmp/acc/aliens/src-test
 */
#define _GNU_SOURCE
#include "dataset.h"
#include "eval.h"
#include "train/train_infer.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    float *logit; /* [n][members] */
    uint8_t *truth;
    char **path;
    size_t n, cap;
    int members;
} table;

static int name_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Scores FOLDER/normal and FOLDER/anomaly, in file-name order. */
static int score_folder(lo_model *m, const char *folder, table *t) {
    for (int lab = 0; lab < 2; lab++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s", folder, lab ? "anomaly" : "normal");
        DIR *d = opendir(dir);
        if (!d) continue;
        char **names = NULL;
        size_t nn = 0;
        struct dirent *e;
        while ((e = readdir(d)))
            if (e->d_name[0] != '.') {
                names = realloc(names, (nn + 1) * sizeof *names);
                names[nn++] = strdup(e->d_name);
            }
        closedir(d);
        if (nn) qsort(names, nn, sizeof *names, name_cmp);
        for (size_t i = 0; i < nn; i++) {
            if (t->n == t->cap) {
                t->cap = t->cap ? 2 * t->cap : 256;
                t->logit = realloc(t->logit, t->cap * t->members * sizeof *t->logit);
                t->truth = realloc(t->truth, t->cap);
                t->path = realloc(t->path, t->cap * sizeof *t->path);
            }
            if (asprintf(&t->path[t->n], "%s/%s", dir, names[i]) < 0) return -1;
            size_t len;
            lds_error le;
            uint8_t *buf = lds_read_copy(t->path[t->n], &len, &le);
            lo_train_error err;
            if (!buf || lo_model_member_logits(m, buf, len, t->path[t->n], t->logit + t->n * t->members, &err)) {
                fprintf(stderr, "%s\n", buf ? err.message : le.message);
                free(buf);
                return -1;
            }
            free(buf);
            t->truth[t->n++] = (uint8_t)lab;
            free(names[i]);
        }
        free(names);
    }
    return 0;
}

static int float_cmp(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* the ensemble of members [0, upto): mean logit, as a detect computes it */
static void ensemble(const table *t, int upto, float *out) {
    for (size_t i = 0; i < t->n; i++) {
        double s = 0;
        for (int k = 0; k < upto; k++) s += t->logit[i * t->members + k];
        out[i] = (float)(s / upto);
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL.bin FOLDER [FOLDER...]  (each FOLDER holds normal/ and anomaly/)\n",
                argv[0]);
        return 2;
    }
    lo_train_error err;
    lo_model *m = lo_model_load(argv[1], &err);
    if (!m) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    const lo_model_data *md = lo_model_data_of(m);
    table t = {.members = md->n_members};
    for (int a = 2; a < argc; a++)
        if (score_folder(m, argv[a], &t) != 0) return 1;
    if (t.n == 0) {
        fprintf(stderr, "no images under %s/{normal,anomaly}\n", argv[2]);
        return 1;
    }
    float thr_logit = logf(md->threshold / (1 - md->threshold));
    printf("%s: %d members, threshold %.4f (logit %.3f); %s\n\n", argv[1], t.members, md->threshold, thr_logit,
           md->recipe);
    printf("label ensemble-logit member logits... image\n");
    float *ens = malloc(t.n * sizeof *ens), *col = malloc(t.n * sizeof *col);
    ensemble(&t, t.members, ens);
    for (size_t i = 0; i < t.n; i++) {
        printf("%s %7.3f ", t.truth[i] ? "A" : "n", ens[i]);
        for (int k = 0; k < t.members; k++) printf(" %6.3f", t.logit[i * t.members + k]);
        printf("  %s\n", t.path[i]);
    }
    printf("\nmember  ROC-AUC  AP     normal-median  anomaly-median\n");
    float *norm = malloc(t.n * sizeof *norm), *anom = malloc(t.n * sizeof *anom);
    for (int k = 0; k < t.members; k++) {
        size_t nn = 0, na = 0;
        for (size_t i = 0; i < t.n; i++) {
            col[i] = t.logit[i * t.members + k];
            if (t.truth[i]) anom[na++] = col[i];
            else norm[nn++] = col[i];
        }
        qsort(norm, nn, sizeof *norm, float_cmp);
        qsort(anom, na, sizeof *anom, float_cmp);
        lev_metrics mt;
        lev_error le;
        if (lev_image_metrics(col, t.truth, t.n, 0, 0, 0, &mt, &le) != 0) return 1;
        printf("%6d  %7.4f  %.4f %9.3f %14.3f\n", k + 1, mt.roc_auc, mt.average_precision,
               nn ? norm[nn / 2] : NAN, na ? anom[na / 2] : NAN);
    }
    free(norm);
    free(anom);
    /* rounds: the ensembles of the first 3, 6, ... members (train_run.c's k = 3), then all */
    printf("\nfirst members  ROC-AUC  AP      F1 at the model's threshold\n");
    for (int upto = 3; upto <= t.members + 2; upto += 3) {
        int u = upto > t.members ? t.members : upto;
        ensemble(&t, u, col);
        lev_metrics mt;
        lev_error le;
        if (lev_image_metrics(col, t.truth, t.n, thr_logit, 0, 0, &mt, &le) != 0) return 1;
        printf("%13d  %7.4f  %.4f  %.4f (%lld tp %lld fp %lld fn)\n", u, mt.roc_auc, mt.average_precision, mt.f1,
               (long long)mt.tp, (long long)mt.fp, (long long)mt.fn);
        if (u == t.members) break;
    }
    for (size_t i = 0; i < t.n; i++) free(t.path[i]);
    free(t.path), free(t.logit), free(t.truth), free(ens), free(col);
    lo_model_free(m);
    return 0;
}
