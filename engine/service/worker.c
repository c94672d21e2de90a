/* worker.c — the detached training worker (`lookout __worker <project> <version>`): trains on the
 * model's dataset snapshots, evaluates on the test images, writes the evaluation files into the S3
 * mirror, and records TRAINED or TRAINING_FAILED. It holds the model's worker.lock (inherited as
 * fd 3 from create-model) until it exits, which is how describe-model tells a dead worker. */
#include "svc_internal.h"
#include "train/train.h"
#include "kms/kms.h"
#include "worker_kfold.h"

#include <dataset.h>
#include <errno.h>
#include <eval.h>
#include <sodium.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    lo_service *s;
    char model_dir[SVC_PATH_MAX];
    double last_write;
} progress_ctx;

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

/* StatusMessage while TRAINING: a small file replaced atomically, at most once a second. */
static void on_progress(void *ctx, double fraction, const char *message) {
    progress_ctx *p = ctx;
    double now = svc_now();
    if (now - p->last_write < 1.0 && fraction < 1.0) return;
    p->last_write = now;
    char text[512], path[SVC_PATH_MAX + 16];
    int n = svc_fmt(text, sizeof text, "Training: %d%%%s%s", (int)(fraction * 100.0 + 0.5),
                     message && *message ? " - " : "", message ? message : "");
    if (n < 0) return;
    if ((size_t)n >= sizeof text) n = (int)sizeof text - 1;
    svc_fmt(path, sizeof path, "%s/progress.txt", p->model_dir);
    lo_error e;
    svc_write_atomic(path, text, (size_t)n, &e);
}

/* Creates the folders of <s3_root>/<rel> one by one, refusing any that resolves outside the
 * mirror (a symbolic link placed in the bucket must not carry our files elsewhere). */
static int mkdirs_in_mirror(lo_service *s, const char *rel_dir, lo_error *err) {
    char path[SVC_PATH_MAX * 2];
    size_t rl = strlen(s->s3_root);
    svc_fmt(path, sizeof path, "%s/%s", s->s3_root, rel_dir);
    for (char *p = path + rl + 1;; p++) {
        if (*p != '/' && *p != 0) continue;
        char c = *p;
        *p = 0;
        struct stat st;
        if (lstat(path, &st) != 0) {
            if (mkdir(path, 0755) != 0 && errno != EEXIST) {
                lo_error_set(err, "InternalServerException", "cannot create %s: %s", path, strerror(errno));
                return -1;
            }
        } else if (S_ISLNK(st.st_mode)) {
            char real[PATH_MAX];
            if (!realpath(path, real) || strncmp(real, s->s3_root, rl) != 0 || (real[rl] != '/' && real[rl] != 0)) {
                lo_error_set(err, "ValidationException", "%s is a symbolic link leading out of the S3 mirror %s", path,
                             s->s3_root);
                return -1;
            }
        } else if (!S_ISDIR(st.st_mode)) {
            lo_error_set(err, "ValidationException", "%s is a file, not a folder, in the S3 mirror", path);
            return -1;
        }
        *p = c;
        if (c == 0) break;
    }
    return 0;
}

static const char *str_member(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* Records the final state under the project lock. */
static int finish(lo_service *s, const char *project, long version, const char *status, const char *message,
                  cJSON *extra) {
    lo_error err;
    int pl = svc_lock_project(s, project, &err);
    if (pl < 0) {
        logf_("cannot record %s: %s", status, err.message);
        cJSON_Delete(extra);
        return -1;
    }
    char dir[SVC_PATH_MAX], p[SVC_PATH_MAX + 16];
    svc_model_dir(s, project, version, dir);
    svc_fmt(p, sizeof p, "%s/model.json", dir);
    cJSON *m = svc_read_json(p, &err);
    int rc = -1;
    if (m) {
        cJSON_ReplaceItemInObject(m, "Status", cJSON_CreateString(status));
        cJSON_ReplaceItemInObject(m, "StatusMessage", cJSON_CreateString(message));
        if (extra) {
            cJSON *it = extra->child;
            while (it) {
                cJSON *next = it->next;
                cJSON *d = cJSON_DetachItemViaPointer(extra, it);
                cJSON_DeleteItemFromObject(m, d->string);
                cJSON_AddItemToObject(m, d->string, d);
                it = next;
            }
        }
        rc = svc_model_save(s, project, version, m, &err);
        if (rc) logf_("cannot record %s: %s", status, err.message);
        cJSON_Delete(m);
    }
    svc_fmt(p, sizeof p, "%s/progress.txt", dir);
    unlink(p);
    cJSON_Delete(extra);
    svc_unlock(pl);
    logf_("%s: %s", status, message);
    return rc;
}

static cJSON *s3_object(const char *bucket, const char *key) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "Bucket", bucket);
    cJSON_AddStringToObject(o, "Key", key);
    return o;
}

/* Copies predicted masks next to the evaluation files so the manifest's refs resolve. */
static char *publish_mask(lo_service *s, const char *bucket, const char *prefix, const char *project, long version,
                          const char *mask_path) {
    const char *base = strrchr(mask_path, '/');
    base = base ? base + 1 : mask_path;
    char rel_dir[SVC_PATH_MAX], key[SVC_PATH_MAX], dest[SVC_PATH_MAX * 2];
    svc_fmt(key, sizeof key, "%sEvaluationMasks-%s-%ld/%s", prefix, project, version, base);
    svc_fmt(rel_dir, sizeof rel_dir, "%s/%sEvaluationMasks-%s-%ld", bucket, prefix, project, version);
    lo_error err;
    if (mkdirs_in_mirror(s, rel_dir, &err)) return NULL;
    size_t n;
    char *data = svc_read_file(mask_path, &n);
    if (!data) return NULL;
    svc_fmt(dest, sizeof dest, "%s/%s/%s", s->s3_root, bucket, key);
    int rc = svc_write_atomic(dest, data, n, &err);
    free(data);
    if (rc) return NULL;
    char *uri = malloc(strlen(bucket) + strlen(key) + 8);
    if (uri) sprintf(uri, "s3://%s/%s", bucket, key);
    return uri;
}

static int train_and_evaluate(lo_service *s, const char *project, long version, const cJSON *meta,
                              char *why, size_t why_cap, cJSON **extra) {
    char dir[SVC_PATH_MAX], train_dir[SVC_PATH_MAX + 32], test_dir[SVC_PATH_MAX + 32];
    svc_model_dir(s, project, version, dir);
    svc_fmt(train_dir, sizeof train_dir, "%s/datasets/train", dir);
    svc_fmt(test_dir, sizeof test_dir, "%s/datasets/test", dir);
    const cJSON *loc = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(meta, "OutputConfig"),
                                                        "S3Location");
    const char *bucket = str_member(loc, "Bucket"), *prefix = str_member(loc, "Prefix");
    char ver[32], arn[512];
    svc_fmt(ver, sizeof ver, "%ld", version);
    svc_model_arn(s, project, version, arn, sizeof arn);

    progress_ctx pc = {.s = s, .last_write = 0};
    svc_fmt(pc.model_dir, sizeof pc.model_dir, "%s", dir);
    lo_train_request req = {
        .train_dir = train_dir,
        .test_dir = svc_exists(test_dir) ? test_dir : NULL,
        .model_dir = dir,
        .log = stdout,
        .progress = on_progress,
        .progress_ctx = &pc,
    };
    /* An extension for boxes that must train in a fixed window (and for tests): seconds of
     * wall-clock training, otherwise the training module's default. */
    const char *budget = getenv("LOOKOUT_TRAIN_TIME_BUDGET");
    if (budget && *budget) {
        char *end;
        double b = strtod(budget, &end);
        if (*end || !(b > 0 && b <= 1e6)) logf_("ignoring LOOKOUT_TRAIN_TIME_BUDGET=%s (want seconds > 0)", budget);
        else req.time_budget_s = b;
    }
    lo_train_result res;
    memset(&res, 0, sizeof res);
    lo_train_error terr = {{0}};
    logf_("training %s version %ld (train %s, test %s)", project, version, train_dir,
          req.test_dir ? req.test_dir : "split from train");
    if (lo_train_run(&req, &res, &terr) != 0) {
        svc_fmt(why, why_cap, "%s", terr.message[0] ? terr.message : "training failed");
        return -1;
    }
    logf_("trained: %s", res.summary);

    int rc = -1;
    size_t n = (size_t)res.n_test, nl = 0;
    float *scores = calloc(n ? n : 1, sizeof *scores);
    uint8_t *labels = calloc(n ? n : 1, 1);
    lev_prediction *preds = calloc(n ? n : 1, sizeof *preds);
    char **mask_refs = calloc(n ? n : 1, sizeof *mask_refs);
    lev_pixel_metrics *pm = NULL;
    if (!scores || !labels || !preds || !mask_refs) {
        svc_fmt(why, why_cap, "out of memory evaluating %zu test images", n);
        goto done;
    }
    if (res.segmentation && res.n_classes > 1) {
        pm = calloc(1, sizeof *pm);
        if (pm) lev_pixel_init(pm, (const char *const *)res.class_names, res.n_classes);
    }
    for (size_t i = 0; i < n; i++) {
        const lo_test_prediction *t = &res.test[i];
        if (t->truth >= 0) {
            scores[nl] = t->score;
            labels[nl] = (uint8_t)(t->truth == 1);
            nl++;
        }
        if (pm && t->truth_mask && t->pred_mask && t->hm_w > 0 && t->hm_h > 0)
            lev_pixel_add(pm, t->truth_mask, t->pred_mask, (size_t)t->hm_w * (size_t)t->hm_h);
        if (t->mask_path) mask_refs[i] = publish_mask(s, bucket, prefix, project, version, t->mask_path);
        preds[i] = (lev_prediction){
            .json_line = t->json_line,
            .image_path = t->image_path,
            .score = t->score,
            .confidence = t->confidence,
            .is_anomaly_truth = t->truth,
            .predicted_anomalous = t->predicted_anomalous,
            .predicted_mask_ref = mask_refs[i],
            .heatmap = t->heatmap,
            .hm_w = t->hm_w,
            .hm_h = t->hm_h,
        };
    }
    if (pm) lev_pixel_finish(pm);
    if (nl == 0) {
        svc_fmt(why, why_cap, "no labeled test images to evaluate the model on (%zu test images)", n);
        goto done;
    }
    lev_metrics m;
    lev_error eerr = {{0}};
    if (lev_image_metrics(scores, labels, nl, res.threshold, 1000, 0x5eed, &m, &eerr) != 0) {
        svc_fmt(why, why_cap, "evaluation failed: %s", eerr.message);
        goto done;
    }
    logf_("test images %zu (labeled %zu): precision %.4f recall %.4f F1 %.4f ROC AUC %.4f AP %.4f threshold %g%s%s", n,
          nl, m.precision, m.recall, m.f1, m.roc_auc, m.average_precision, (double)res.threshold,
          m.note[0] ? " - " : "", m.note);

    lo_error err;
    if (mkdirs_in_mirror(s, bucket, &err)) {
        svc_fmt(why, why_cap, "cannot write the evaluation files: %s", err.message);
        goto done;
    }
    char rel_dir[SVC_PATH_MAX];
    svc_fmt(rel_dir, sizeof rel_dir, "%s/%s", bucket, prefix);
    char *slash = strrchr(rel_dir, '/');
    if (slash) *slash = 0; /* folder part of the prefix; the rest starts the file names */
    if (mkdirs_in_mirror(s, rel_dir, &err)) {
        svc_fmt(why, why_cap, "cannot write the evaluation files: %s", err.message);
        goto done;
    }
    char key_result[SVC_PATH_MAX], key_manifest[SVC_PATH_MAX], key_report[SVC_PATH_MAX];
    char p_result[SVC_PATH_MAX * 2], p_manifest[SVC_PATH_MAX * 2], p_report[SVC_PATH_MAX * 2];
    svc_fmt(key_result, sizeof key_result, "%sEvaluationResult-%s-%ld.json", prefix, project, version);
    svc_fmt(key_manifest, sizeof key_manifest, "%sEvaluationManifest-%s-%ld.json", prefix, project, version);
    svc_fmt(key_report, sizeof key_report, "%sEvaluationReport-%s-%ld.html", prefix, project, version);
    svc_fmt(p_result, sizeof p_result, "%s/%s/%s", s->s3_root, bucket, key_result);
    svc_fmt(p_manifest, sizeof p_manifest, "%s/%s/%s", s->s3_root, bucket, key_manifest);
    svc_fmt(p_report, sizeof p_report, "%s/%s/%s", s->s3_root, bucket, key_report);
    svc_kfold kf = svc_kfold_evaluate(dir, meta, req.time_budget_s, stdout); /* EvaluationFolds extension */
    svc_class_colors colors;
    svc_snapshot_class_colors(train_dir, res.class_names, res.n_classes, &colors);
    double end = svc_now();
    lev_details d = {
        .project_name = project,
        .model_version = ver,
        .model_arn = arn,
        .end_time = (int64_t)end,
        .n_training_images = res.n_train,
        .n_testing_images = res.n_test,
        .n_classes = res.segmentation ? res.n_classes : 0,
        .class_names = (const char *const *)res.class_names,
        .class_colors = colors.ptr,
        .folds = kf.n_runs ? &kf.summary : NULL,
        .fold_runs = kf.runs,
        .n_fold_runs = kf.n_runs,
        .fold_seed = kf.seed,
        .fold_budget_s = kf.budget_s,
    };
    if (lev_write_manifest(p_manifest, &d, preds, n, &eerr) || lev_write_result(p_result, &d, &m, pm, &eerr)) {
        svc_fmt(why, why_cap, "cannot write the evaluation files: %s", eerr.message);
        goto done;
    }
    if (lev_write_report(p_report, &d, &m, pm, preds, n, res.threshold, &eerr))
        logf_("report not written: %s", eerr.message); /* the report is an extra, not the contract */
    logf_("wrote s3://%s/%s and s3://%s/%s", bucket, key_result, bucket, key_manifest);

    *extra = cJSON_CreateObject();
    cJSON *perf = cJSON_AddObjectToObject(*extra, "Performance");
    cJSON_AddNumberToObject(perf, "F1Score", m.f1);
    cJSON_AddNumberToObject(perf, "Recall", m.recall);
    cJSON_AddNumberToObject(perf, "Precision", m.precision);
    cJSON_AddItemToObject(*extra, "EvaluationManifest", s3_object(bucket, key_manifest));
    cJSON_AddItemToObject(*extra, "EvaluationResult", s3_object(bucket, key_result));
    cJSON_AddNumberToObject(*extra, "EvaluationEndTimestamp", end);
    rc = 0;
done:
    for (size_t i = 0; mask_refs && i < n; i++) free(mask_refs[i]);
    free(mask_refs);
    free(scores);
    free(labels);
    free(preds);
    free(pm);
    lo_train_result_free(&res);
    return rc;
}

/* Before any training: the snapshot's data key, unwrapped through the key store and handed to
 * the dataset layer (which decrypts every image and mask read in this process with it), and the
 * memory guard. A disabled or missing key fails here, before any work. */
static int prepare_run(lo_service *s, const char *dir, char *why, size_t why_cap) {
    char p[SVC_PATH_MAX + 32], train_dir[SVC_PATH_MAX + 32], test_dir[SVC_PATH_MAX + 32];
    svc_fmt(p, sizeof p, "%s/data_key.json", dir);
    lo_error err;
    cJSON *wrapped = svc_read_json(p, &err);
    if (wrapped) {
        uint8_t key[LO_KMS_DATA_KEY_BYTES];
        lo_kms k;
        lo_kms_init(&k, s->home);
        int rc = lo_kms_decrypt_data_key(&k, wrapped, key, &err);
        cJSON_Delete(wrapped);
        if (rc) {
            svc_fmt(why, why_cap, "cannot decrypt the model's dataset snapshot: %s", err.message);
            return -1;
        }
        lds_set_data_key(key);
        sodium_memzero(key, sizeof key);
        logf_("dataset snapshot is encrypted; data key unwrapped through the key store");
    } else if (errno != ENOENT) {
        svc_fmt(why, why_cap, "cannot read the wrapped data key %s: %s", p,
                errno == EINVAL ? "not valid JSON" : strerror(errno));
        return -1;
    } /* else: a version made before encryption at rest (plain snapshot) */

    svc_fmt(train_dir, sizeof train_dir, "%s/datasets/train", dir);
    svc_fmt(test_dir, sizeof test_dir, "%s/datasets/test", dir);
    lo_train_memory mem;
    lo_train_error terr = {{0}};
    if (lo_train_memory_estimate(train_dir, svc_exists(test_dir) ? test_dir : NULL, &mem, &terr) != 0) {
        svc_fmt(why, why_cap, "%s", terr.message);
        return -1;
    }
    char msg[1536];
    int fit = lo_train_memory_check(&mem, msg, sizeof msg);
    logf_("%s", msg);
    if (fit != 0) {
        svc_fmt(why, why_cap, "%s", msg);
        return -1;
    }
    return 0;
}

/* A full disk shows up as ENOSPC in whichever write hit it first; the StatusMessage says so in
 * words, then keeps the detail (which file). */
static void explain_disk_full(char *why, size_t why_cap) {
    if (!strstr(why, strerror(ENOSPC)) || !strncmp(why, "the disk is full", 16)) return;
    char detail[2048];
    svc_fmt(detail, sizeof detail, "%s", why);
    svc_fmt(why, why_cap, "the disk is full (No space left on device): free space under LOOKOUT_HOME and the S3 "
            "mirror and create the model again; %s", detail);
}

/* After a worker died: its temporaries in the S3 mirror (evaluation files being written when it was
 * killed) are removed so the mirror holds only whole files. Names as the writers make them:
 * <final name>.tmp.<pid>.<n>. */
void svc_sweep_eval_temps(lo_service *s, const char *project, long version, const cJSON *meta) {
    const cJSON *loc = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(meta, "OutputConfig"),
                                                        "S3Location");
    const char *bucket = str_member(loc, "Bucket"), *prefix = str_member(loc, "Prefix");
    if (!*bucket) return;
    char dir[SVC_PATH_MAX * 2], base[SVC_PATH_MAX], tag[600];
    svc_fmt(dir, sizeof dir, "%s/%s/%s", s->s3_root, bucket, prefix);
    const char *slash = strrchr(prefix, '/');
    svc_fmt(base, sizeof base, "%s", slash ? slash + 1 : prefix);
    char *cut = strrchr(dir, '/');
    if (cut) *cut = 0;
    svc_fmt(tag, sizeof tag, "-%s-%ld.", project, version);
    char **names;
    size_t n;
    if (svc_list_names(dir, &names, &n)) return;
    size_t bl = strlen(base);
    for (size_t i = 0; i < n; i++) {
        const char *nm = names[i];
        if (strncmp(nm, base, bl) || strncmp(nm + bl, "Evaluation", 10) || !strstr(nm, tag) || !strstr(nm, ".tmp."))
            continue;
        char p[SVC_PATH_MAX * 3];
        svc_fmt(p, sizeof p, "%s/%s", dir, nm);
        unlink(p);
    }
    svc_free_names(names, n);
}

int lo_service_worker_main(const char *project, const char *version) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    lo_error err;
    if (svc_check_project_name("project", project, &err) || svc_check_model_version("version", version, false, &err)) {
        fprintf(stderr, "lookout __worker: %s\n", err.message);
        return 2;
    }
    lo_service *s = lo_service_open(&err);
    if (!s) {
        fprintf(stderr, "lookout __worker: %s\n", err.message);
        return 1;
    }
    long v = strtol(version, NULL, 10);
    char dir[SVC_PATH_MAX], p[SVC_PATH_MAX + 16];
    svc_model_dir(s, project, v, dir);
    /* The lock: inherited from create-model as fd 3, or (started by hand) taken here. */
    int lock_fd = -1;
    const char *inh = getenv("LOOKOUT_WORKER_LOCK_FD");
    if (inh && *inh) {
        lock_fd = atoi(inh);
        unsetenv("LOOKOUT_WORKER_LOCK_FD");
        if (flock(lock_fd, LOCK_EX | LOCK_NB) != 0) lock_fd = -1;
        else fcntl(lock_fd, F_SETFD, FD_CLOEXEC);
    }
    if (lock_fd < 0) {
        svc_fmt(p, sizeof p, "%s/worker.lock", dir);
        lock_fd = open(p, O_RDWR | O_CLOEXEC);
        if (lock_fd < 0 || flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
            fprintf(stderr, "lookout __worker: model %s/%s: %s\n", project, version,
                    lock_fd < 0 ? "no such model" : "another worker is already training it");
            lo_service_close(s);
            return 1;
        }
    }
    svc_fmt(p, sizeof p, "%s/model.json", dir);
    cJSON *meta = svc_read_json(p, &err);
    if (!meta || strcmp(str_member(meta, "Status"), "TRAINING") != 0) {
        fprintf(stderr, "lookout __worker: model %s/%s is not waiting for training\n", project, version);
        cJSON_Delete(meta);
        lo_service_close(s);
        close(lock_fd);
        return 1;
    }
    logf_("worker pid %ld started", (long)getpid());
    char why[2048] = "";
    cJSON *extra = NULL;
    int rc = prepare_run(s, dir, why, sizeof why);
    if (rc == 0) rc = train_and_evaluate(s, project, v, meta, why, sizeof why, &extra);
    lds_set_data_key(NULL); /* wiped: nothing reads the snapshot after this */
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    logf_("peak RSS %ld MB (%ld kB)", ru.ru_maxrss / 1024, ru.ru_maxrss);
    if (rc == 0) {
        rc = finish(s, project, v, "TRAINED", "Training completed", extra);
    } else {
        explain_disk_full(why, sizeof why);
        if (finish(s, project, v, "TRAINING_FAILED", why, NULL) != 0) {
            /* on a full disk even model.json may not fit: give back what this version wrote
             * (its model file) and try once more, so the reason is recorded */
            svc_fmt(p, sizeof p, "%s/model.bin", dir);
            unlink(p);
            finish(s, project, v, "TRAINING_FAILED", why, NULL);
        }
        rc = 1;
    }
    cJSON_Delete(meta);
    lo_service_close(s);
    close(lock_fd); /* only now may a describe see the lock free */
    return rc == 0 ? 0 : 1;
}
