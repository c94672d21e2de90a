/* worker_kfold.c — the k-fold evaluation extension of create-model (EvaluationFolds). After the
 * model is trained and evaluated as usual, the labeled images of its train and test snapshots are
 * split into K stratified folds; K more trainings each learn from K-1 folds and score the held-out
 * one at their own threshold. The spread across folds tells a quality engineer how much the one
 * test-set figure depends on which images happened to land in the test set.
 *
 * Fold datasets are built through the dataset module's public API only: a Ground Truth manifest
 * whose refs point at the snapshot's already imported copies (s3://<snapshot>/images/..., with the
 * snapshot's parent folder as the S3 root) is imported with lds_import_manifest. The copies'
 * masks hold class indices, so the lines carry a colour map of grey levels (index i = #iiiiii)
 * under the class names of the snapshot: the import maps them back to the same classes. */
#include "worker_kfold.h"
#include "train/train.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TOTAL_BUDGET_S 300.0 /* the training module's default budget */

typedef struct {
    const lds_set *set;
    const lds_entry *e;
    const char *bucket;     /* "train" / "test": the snapshot folder's name */
    const char *root;       /* the snapshot folder (for the keys) */
    uint64_t rank;          /* seeded hash of the source-ref: order inside a stratum */
    int stratum;            /* 0 normal, 1 + defect class for anomalies */
    int fold;
} kf_item;

static void logf_(FILE *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(FILE *log, const char *fmt, ...) {
    if (!log) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(log, fmt, ap);
    va_end(ap);
    fputc('\n', log);
    fflush(log);
}

/* FNV-1a of the source-ref, finished with splitmix64 of the seed: follows the image, not its
 * position in the manifest, so reordering a dataset does not reshuffle the folds. */
static uint64_t hash_ref(const char *s, uint64_t seed) {
    uint64_t h = 1469598103934665603ULL ^ seed;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    h += 0x9e3779b97f4a7c15ULL;
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
}

static int cmp_item(const void *a, const void *b) {
    const kf_item *x = a, *y = b;
    if (x->stratum != y->stratum) return x->stratum < y->stratum ? -1 : 1;
    if (x->rank != y->rank) return x->rank < y->rank ? -1 : 1;
    return strcmp(x->e->source_ref, y->e->source_ref);
}

/* Deals each stratum round-robin over the folds, each stratum starting where the previous one
 * stopped, so both the class mix and the fold sizes stay even. */
static void assign_folds(kf_item *it, size_t n, int k) {
    qsort(it, n, sizeof *it, cmp_item);
    for (size_t i = 0; i < n; i++) it[i].fold = (int)(i % (size_t)k);
}

/* "<root>/<key>" -> key, or NULL when path is not under root. */
static const char *key_under(const char *root, const char *path) {
    size_t rl = strlen(root);
    if (!path || strncmp(path, root, rl) != 0 || path[rl] != '/') return NULL;
    return path + rl + 1;
}

/* One Ground Truth line for an item: the imported copy as source-ref, its label, and its stored
 * class-index mask with a grey-level colour map. NULL (why filled) on failure. */
static char *fold_line(const kf_item *it, char *why, size_t why_cap) {
    const lds_entry *e = it->e;
    const char *img = key_under(it->root, e->image_path);
    const char *msk = e->mask_path ? key_under(it->root, e->mask_path) : NULL;
    if (!img || (e->mask_path && !msk)) {
        svc_fmt(why, why_cap, "image copy %s is not inside its dataset %s", e->image_path, it->root);
        return NULL;
    }
    char ref[SVC_PATH_MAX];
    cJSON *o = cJSON_CreateObject();
    svc_fmt(ref, sizeof ref, "s3://%s/%s", it->bucket, img);
    cJSON_AddStringToObject(o, "source-ref", ref);
    cJSON_AddNumberToObject(o, "anomaly-label", e->label == 1 ? 1 : 0);
    cJSON *lm = cJSON_AddObjectToObject(o, "anomaly-label-metadata");
    cJSON_AddStringToObject(lm, "class-name", e->label == 1 ? "anomaly" : "normal");
    cJSON_AddStringToObject(lm, "type", "groundtruth/image-classification");
    cJSON_AddStringToObject(lm, "job-name", "lookout-kfold-evaluation");
    if (msk) {
        svc_fmt(ref, sizeof ref, "s3://%s/%s", it->bucket, msk);
        cJSON_AddStringToObject(o, "anomaly-mask-ref", ref);
        cJSON *mm = cJSON_AddObjectToObject(o, "anomaly-mask-ref-metadata");
        cJSON *map = cJSON_AddObjectToObject(mm, "internal-color-map");
        for (int c = 0; c < it->set->n_classes; c++) {
            char key[16], hex[8];
            svc_fmt(key, sizeof key, "%d", c);
            svc_fmt(hex, sizeof hex, "#%02x%02x%02x", c, c, c);
            cJSON *ce = cJSON_AddObjectToObject(map, key);
            cJSON_AddStringToObject(ce, "class-name", c == 0 ? "BACKGROUND" : it->set->classes[c].name);
            cJSON_AddStringToObject(ce, "hex-color", hex);
        }
        cJSON_AddStringToObject(mm, "type", "groundtruth/semantic-segmentation");
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s) svc_fmt(why, why_cap, "out of memory writing a fold manifest line");
    return s;
}

/* Writes the lines of the items whose (fold == k) == held_out into manifest_path, then imports
 * them as a dataset at dest. The snapshots' parent folder is the S3 root of the refs. */
static int build_dataset(const kf_item *it, size_t n, int k, int held_out, const char *s3_root,
                         const char *manifest_path, const char *dest, int64_t *count, char *why, size_t why_cap) {
    FILE *f = fopen(manifest_path, "w");
    if (!f) {
        svc_fmt(why, why_cap, "cannot write %s: %s", manifest_path, strerror(errno));
        return -1;
    }
    *count = 0;
    for (size_t i = 0; i < n; i++) {
        if ((it[i].fold == k) != held_out) continue;
        char *line = fold_line(&it[i], why, why_cap);
        if (!line) {
            fclose(f);
            return -1;
        }
        fputs(line, f);
        fputc('\n', f);
        free(line);
        (*count)++;
    }
    if (fclose(f) != 0) {
        svc_fmt(why, why_cap, "cannot write %s", manifest_path);
        return -1;
    }
    lds_error warn = {{0}}, lerr = {{0}};
    if (lds_import_manifest(dest, manifest_path, s3_root, &warn, &lerr) != 0) {
        svc_fmt(why, why_cap, "cannot build the fold's %s dataset: %s", held_out ? "test" : "training",
                lerr.message);
        return -1;
    }
    return 0;
}

typedef struct {
    char path[SVC_PATH_MAX + 32];
    int fold, k;
    double last_write;
} fold_progress;

/* Keeps describe-model's StatusMessage saying which fold runs (status stays TRAINING). */
static void write_progress(fold_progress *p, double fraction, const char *message) {
    char text[512];
    int n = svc_fmt(text, sizeof text, "Evaluation fold %d/%d: %d%%%s%s", p->fold, p->k,
                    (int)(fraction * 100.0 + 0.5), message && *message ? " - " : "", message ? message : "");
    if (n < 0) return;
    if ((size_t)n >= sizeof text) n = (int)sizeof text - 1;
    lo_error e;
    svc_write_atomic(p->path, text, (size_t)n, &e);
}

static void on_fold_progress(void *ctx, double fraction, const char *message) {
    fold_progress *p = ctx;
    double now = svc_now();
    if (now - p->last_write < 1.0 && fraction < 1.0) return;
    p->last_write = now;
    write_progress(p, fraction, message);
}

/* Trains fold k on the other folds and scores it; fills r. */
static void run_fold(const kf_item *it, size_t n, int k, int n_folds, const char *model_dir, const char *s3_root,
                     double budget, FILE *log, lev_fold_run *r) {
    double t0 = svc_now();
    char dir[SVC_PATH_MAX + 64], train[SVC_PATH_MAX + 96], test[SVC_PATH_MAX + 96], mf[SVC_PATH_MAX + 96];
    svc_fmt(dir, sizeof dir, "%s/kfold/fold-%d", model_dir, k + 1);
    svc_rmtree(dir);
    lo_error lerr;
    if (svc_mkdirs(dir, &lerr) != 0) {
        svc_fmt(r->error, sizeof r->error, "%s", lerr.message);
        r->seconds = svc_now() - t0;
        return;
    }
    fold_progress fp = {.fold = k + 1, .k = n_folds, .last_write = 0};
    svc_fmt(fp.path, sizeof fp.path, "%s/progress.txt", model_dir);
    write_progress(&fp, 0, "building the fold datasets");

    svc_fmt(train, sizeof train, "%s/train", dir);
    svc_fmt(test, sizeof test, "%s/test", dir);
    svc_fmt(mf, sizeof mf, "%s/train.manifest", dir);
    int rc = build_dataset(it, n, k, 0, s3_root, mf, train, &r->n_train, r->error, sizeof r->error);
    svc_fmt(mf, sizeof mf, "%s/test.manifest", dir);
    if (rc == 0) rc = build_dataset(it, n, k, 1, s3_root, mf, test, &r->n_test, r->error, sizeof r->error);
    if (rc == 0) {
        lo_train_request req = {
            .train_dir = train,
            .test_dir = test,
            .model_dir = dir,
            .log = log,
            .progress = on_fold_progress,
            .progress_ctx = &fp,
            .time_budget_s = budget,
        };
        lo_train_result res;
        memset(&res, 0, sizeof res);
        lo_train_error terr = {{0}};
        logf_(log, "evaluation fold %d/%d: training on %lld images, holding out %lld", k + 1, n_folds,
              (long long)r->n_train, (long long)r->n_test);
        if (lo_train_run(&req, &res, &terr) != 0) {
            svc_fmt(r->error, sizeof r->error, "training failed: %s", terr.message[0] ? terr.message : "no reason given");
        } else {
            size_t nt = (size_t)res.n_test, nl = 0;
            float *scores = calloc(nt ? nt : 1, sizeof *scores);
            uint8_t *labels = calloc(nt ? nt : 1, 1);
            if (!scores || !labels) {
                svc_fmt(r->error, sizeof r->error, "out of memory scoring %zu images", nt);
            } else {
                for (size_t i = 0; i < nt; i++) {
                    if (res.test[i].truth < 0) continue;
                    scores[nl] = res.test[i].score;
                    labels[nl++] = (uint8_t)(res.test[i].truth == 1);
                }
                lev_error eerr = {{0}};
                if (nl == 0) svc_fmt(r->error, sizeof r->error, "no labeled image was scored in the held-out fold");
                else if (lev_image_metrics(scores, labels, nl, res.threshold, 0, 0, &r->m, &eerr) != 0)
                    svc_fmt(r->error, sizeof r->error, "metrics: %s", eerr.message);
                else r->ok = 1;
            }
            free(scores);
            free(labels);
        }
        lo_train_result_free(&res);
    }
    r->seconds = svc_now() - t0;
    if (r->ok)
        logf_(log, "evaluation fold %d/%d: precision %.4f recall %.4f F1 %.4f ROC AUC %.4f threshold %g (%.0f s)", k + 1,
              n_folds, r->m.precision, r->m.recall, r->m.f1, r->m.roc_auc, (double)r->m.threshold, r->seconds);
    else
        logf_(log, "evaluation fold %d/%d failed (the model is not affected): %s", k + 1, n_folds, r->error);
    svc_rmtree(dir); /* the fold's datasets, model and masks are scratch */
}

/* Opens a snapshot and appends its labeled entries to items. */
static int collect(const char *dataset_dir, const char *bucket, lds_set **set, kf_item **items, size_t *n,
                   uint64_t seed, char *why, size_t why_cap) {
    lds_error lerr = {{0}};
    if (lds_open(dataset_dir, set, &lerr) != 0) {
        svc_fmt(why, why_cap, "cannot open %s: %s", dataset_dir, lerr.message);
        return -1;
    }
    kf_item *grown = realloc(*items, (*n + (*set)->n + 1) * sizeof *grown);
    if (!grown) {
        svc_fmt(why, why_cap, "out of memory");
        return -1;
    }
    *items = grown;
    for (size_t i = 0; i < (*set)->n; i++) {
        const lds_entry *e = &(*set)->entries[i];
        if (e->label < 0) continue; /* unlabeled images cannot be scored */
        grown[(*n)++] = (kf_item){
            .set = *set,
            .e = e,
            .bucket = bucket,
            .root = dataset_dir,
            .rank = hash_ref(e->source_ref ? e->source_ref : e->image_path, seed),
            .stratum = e->label == 1 ? 1 + e->defect_class : 0,
        };
    }
    return 0;
}

svc_kfold svc_kfold_evaluate(const char *model_dir, const cJSON *meta, double total_budget_s, FILE *log) {
    svc_kfold kf;
    memset(&kf, 0, sizeof kf);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(meta, "EvaluationFolds");
    if (!cJSON_IsNumber(v)) return kf;
    int k = v->valueint;
    if (k < 2 || k > SVC_KFOLD_MAX) {
        logf_(log, "ignoring EvaluationFolds %d in model.json (want 2..%d)", k, SVC_KFOLD_MAX);
        return kf;
    }
    kf.n_runs = k;
    kf.seed = SVC_KFOLD_SEED;
    kf.budget_s = (total_budget_s > 0 ? total_budget_s : DEFAULT_TOTAL_BUDGET_S) / k;
    logf_(log, "k-fold evaluation: %d folds over the labeled train+test images, %.1f s of training each "
               "(the time budget divided by %d)", k, kf.budget_s, k);

    char s3_root[SVC_PATH_MAX + 16], train[SVC_PATH_MAX + 32], test[SVC_PATH_MAX + 32], kdir[SVC_PATH_MAX + 16];
    svc_fmt(s3_root, sizeof s3_root, "%s/datasets", model_dir);
    svc_fmt(train, sizeof train, "%s/train", s3_root);
    svc_fmt(test, sizeof test, "%s/test", s3_root);
    svc_fmt(kdir, sizeof kdir, "%s/kfold", model_dir);
    svc_rmtree(kdir); /* left by a killed worker */

    char why[512] = "";
    lds_set *sets[2] = {NULL, NULL};
    kf_item *items = NULL;
    size_t n = 0;
    int rc = collect(train, "train", &sets[0], &items, &n, kf.seed, why, sizeof why);
    if (rc == 0 && svc_exists(test)) rc = collect(test, "test", &sets[1], &items, &n, kf.seed, why, sizeof why);
    if (rc == 0 && n < (size_t)k) {
        svc_fmt(why, sizeof why, "%zu labeled images cannot make %d folds", n, k);
        rc = -1;
    }
    if (rc != 0) {
        for (int i = 0; i < k; i++) svc_fmt(kf.runs[i].error, sizeof kf.runs[i].error, "%s", why);
        logf_(log, "k-fold evaluation not run: %s", why);
    } else {
        assign_folds(items, n, k);
        for (int i = 0; i < k; i++) run_fold(items, n, i, k, model_dir, s3_root, kf.budget_s, log, &kf.runs[i]);
    }
    svc_rmtree(kdir);
    free(items);
    lds_free(sets[0]);
    lds_free(sets[1]);

    lev_metrics done[SVC_KFOLD_MAX];
    int nd = 0;
    for (int i = 0; i < k; i++)
        if (kf.runs[i].ok) done[nd++] = kf.runs[i].m;
    lev_folds_summarize(done, nd, &kf.summary);
    if (nd > 0)
        logf_(log, "k-fold evaluation: %d/%d folds completed; F1 %.4f +- %.4f, precision %.4f +- %.4f, recall %.4f +- %.4f",
              nd, k, kf.summary.f1_mean, kf.summary.f1_sd, kf.summary.precision_mean, kf.summary.precision_sd,
              kf.summary.recall_mean, kf.summary.recall_sd);
    else
        logf_(log, "k-fold evaluation: no fold completed");
    return kf;
}

void svc_snapshot_class_colors(const char *train_dir, char *const *class_names, int n_classes, svc_class_colors *out) {
    memset(out, 0, sizeof *out);
    lds_set *set = NULL;
    lds_error lerr = {{0}};
    if (!class_names || n_classes <= 0 || lds_open(train_dir, &set, &lerr) != 0) return;
    for (int c = 0; c < n_classes && c < LDS_MAX_CLASSES; c++) {
        for (int j = 0; j < set->n_classes; j++) {
            if (!class_names[c] || (c > 0 && strcmp(set->classes[j].name, class_names[c]) != 0) || (c == 0 && j != 0))
                continue;
            const uint8_t *rgb = set->classes[j].rgb;
            svc_fmt(out->hex[c], sizeof out->hex[c], "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
            out->ptr[c] = out->hex[c];
            break;
        }
    }
    lds_free(set);
}
