/* models.c — CreateModel, DescribeModel, ListModels, DeleteModel. A model version is a folder
 * with model.json; create-model snapshots the datasets into it and hands it to a detached worker
 * (worker.c) that holds worker.lock for its whole life. A TRAINING model whose lock is free has
 * lost its worker: that is how a kill -9 or a crash shows up, without any timer. */
#include "svc_internal.h"
#include "kms/kms.h"

#include <dataset.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char *str_member(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void copy_keys(cJSON *dst, const cJSON *src, const char *const *keys) {
    for (; *keys; keys++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(src, *keys);
        if (v && !cJSON_IsNull(v)) cJSON_AddItemToObject(dst, *keys, cJSON_Duplicate(v, true));
    }
}

static cJSON *model_metadata(const cJSON *meta) {
    static const char *const keys[] = {"CreationTimestamp", "ModelVersion", "ModelArn", "Description", "Status",
                                       "StatusMessage", "Performance", NULL};
    cJSON *m = cJSON_CreateObject();
    copy_keys(m, meta, keys);
    return m;
}

static cJSON *model_description(const cJSON *meta) {
    static const char *const keys[] = {"ModelVersion", "ModelArn", "CreationTimestamp", "Description", "Status",
                                       "StatusMessage", "Performance", "OutputConfig", "EvaluationManifest",
                                       "EvaluationResult", "EvaluationEndTimestamp", "KmsKeyId",
                                       "MinInferenceUnits", "MaxInferenceUnits", NULL};
    cJSON *m = cJSON_CreateObject();
    copy_keys(m, meta, keys);
    return m;
}

static long highest_version(lo_service *s, const char *project) {
    char dir[SVC_PATH_MAX + 16], pd[SVC_PATH_MAX];
    svc_project_dir(s, project, pd);
    svc_fmt(dir, sizeof dir, "%s/models", pd);
    char **names;
    size_t n;
    svc_list_names(dir, &names, &n);
    long best = 0;
    for (size_t i = 0; i < n; i++) {
        long v = strtol(names[i], NULL, 10);
        if (v > best) best = v;
    }
    svc_free_names(names, n);
    return best;
}

int svc_resolve_version(lo_service *s, const char *project, const char *version, long *out, lo_error *err) {
    if (svc_require_project(s, project, err)) return -1;
    long v = strcmp(version, "latest") ? strtol(version, NULL, 10) : highest_version(s, project);
    char dir[SVC_PATH_MAX], p[SVC_PATH_MAX + 16];
    svc_model_dir(s, project, v, dir);
    svc_fmt(p, sizeof p, "%s/model.json", dir);
    if (v <= 0 || !svc_exists(p)) {
        if (!strcmp(version, "latest"))
            lo_error_set(err, "ResourceNotFoundException", "project %s has no models yet (create one with create-model)",
                         project);
        else
            lo_error_set(err, "ResourceNotFoundException",
                         "model version %s of project %s does not exist (list-models shows the versions)", version,
                         project);
        return -1;
    }
    *out = v;
    return 0;
}

int svc_model_save(lo_service *s, const char *project, long version, const cJSON *meta, lo_error *err) {
    char dir[SVC_PATH_MAX], p[SVC_PATH_MAX + 16];
    svc_model_dir(s, project, version, dir);
    svc_fmt(p, sizeof p, "%s/model.json", dir);
    return svc_write_json(p, meta, err);
}

static cJSON *read_model(lo_service *s, const char *project, long version, lo_error *err) {
    char dir[SVC_PATH_MAX], p[SVC_PATH_MAX + 16];
    svc_model_dir(s, project, version, dir);
    svc_fmt(p, sizeof p, "%s/model.json", dir);
    cJSON *m = svc_read_json(p, err);
    if (!m && errno == ENOENT)
        lo_error_set(err, "ResourceNotFoundException", "model version %ld of project %s does not exist", version,
                     project);
    return m;
}

/* 1 when a worker holds the model's lock (alive), 0 when nobody does. The probe takes a shared
 * lock so that two probes at once (threads of the server, other processes) never mistake each
 * other for a worker; the worker's lock is exclusive. Any doubt counts as alive: declaring a
 * running training dead would be the worse mistake. */
static int worker_alive(const char *model_dir) {
    char p[SVC_PATH_MAX + 16];
    svc_fmt(p, sizeof p, "%s/worker.lock", model_dir);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? 0 : 1;
    int rc;
    while ((rc = flock(fd, LOCK_SH | LOCK_NB)) != 0 && errno == EINTR) {}
    int busy = rc != 0;
    close(fd);
    return busy;
}

static void last_log_line(const char *model_dir, char *out, size_t cap) {
    char p[SVC_PATH_MAX + 16];
    svc_fmt(p, sizeof p, "%s/log.txt", model_dir);
    out[0] = 0;
    size_t n = 0;
    char *text = svc_read_file(p, &n);
    if (!text) return;
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r')) text[--n] = 0;
    char *nl = strrchr(text, '\n');
    svc_fmt(out, cap, "%s", nl ? nl + 1 : text);
    free(text);
}

static cJSON *model_load(lo_service *s, const char *project, long version, bool locked, lo_error *err) {
    cJSON *m = read_model(s, project, version, err);
    if (!m || strcmp(str_member(m, "Status"), "TRAINING") != 0) return m;
    char dir[SVC_PATH_MAX];
    svc_model_dir(s, project, version, dir);
    if (worker_alive(dir)) {
        char p[SVC_PATH_MAX + 16];
        svc_fmt(p, sizeof p, "%s/progress.txt", dir);
        char *prog = svc_read_file(p, NULL);
        if (prog && *prog) cJSON_ReplaceItemInObject(m, "StatusMessage", cJSON_CreateString(prog));
        free(prog);
        return m;
    }
    /* The worker is gone. Re-check under the project lock: it may have just finished. */
    int pl = -1;
    if (!locked) {
        cJSON_Delete(m);
        pl = svc_lock_project(s, project, err);
        if (pl < 0) return NULL;
        m = read_model(s, project, version, err);
    }
    if (m && !strcmp(str_member(m, "Status"), "TRAINING") && !worker_alive(dir)) {
        char last[512], msg[1024];
        last_log_line(dir, last, sizeof last);
        svc_fmt(msg, sizeof msg,
                 "the training process ended unexpectedly (it was killed or crashed before finishing%s%s%s); "
                 "create the model again", last[0] ? "; last log line: \"" : "", last, last[0] ? "\"" : "");
        cJSON_ReplaceItemInObject(m, "Status", cJSON_CreateString("TRAINING_FAILED"));
        cJSON_ReplaceItemInObject(m, "StatusMessage", cJSON_CreateString(msg));
        lo_error e2;
        svc_model_save(s, project, version, m, &e2); /* best effort: describe still answers */
        svc_sweep_eval_temps(s, project, version, m);
    }
    svc_unlock(pl);
    return m;
}

cJSON *svc_model_load(lo_service *s, const char *project, long version, lo_error *err) {
    return model_load(s, project, version, false, err);
}

cJSON *svc_model_load_locked(lo_service *s, const char *project, long version, lo_error *err) {
    return model_load(s, project, version, true, err);
}

/* ---- CreateModel ---------------------------------------------------------------------------- */

static int check_output_config(const cJSON *oc, lo_error *err) {
    static const char *const om[] = {"S3Location", NULL}, *const lm[] = {"Bucket", "Prefix", NULL};
    if (!oc) {
        lo_error_set(err, "ValidationException", "missing required parameter OutputConfig "
                                                 "(e.g. OutputConfig={S3Location={Bucket=my-bucket,Prefix=runs/}})");
        return -1;
    }
    if (!cJSON_IsObject(oc)) {
        lo_error_set(err, "ValidationException", "OutputConfig must be {\"S3Location\": {\"Bucket\": ..., \"Prefix\": ...}}");
        return -1;
    }
    if (svc_check_members(oc, "OutputConfig", om, err)) return -1;
    const cJSON *loc = cJSON_GetObjectItemCaseSensitive(oc, "S3Location");
    if (!loc) {
        lo_error_set(err, "ValidationException", "missing required parameter OutputConfig.S3Location");
        return -1;
    }
    if (!cJSON_IsObject(loc)) {
        lo_error_set(err, "ValidationException", "OutputConfig.S3Location must be {\"Bucket\": ..., \"Prefix\": ...}");
        return -1;
    }
    const char *bucket, *prefix;
    if (svc_check_members(loc, "OutputConfig.S3Location", lm, err) ||
        svc_get_string(loc, "Bucket", true, &bucket, err) ||
        svc_check_bucket("OutputConfig.S3Location.Bucket", bucket, err) ||
        svc_get_string(loc, "Prefix", false, &prefix, err))
        return -1;
    return prefix ? svc_check_s3_key("OutputConfig.S3Location.Prefix", prefix, true, err) : 0;
}

static bool dataset_usable(const char *status) {
    return !strcmp(status, "CREATE_COMPLETE") || !strcmp(status, "UPDATE_COMPLETE") ||
           !strcmp(status, "UPDATE_FAILED_ROLLBACK_COMPLETE");
}

/* Starts `<exe> __worker <project> <version>` detached (double fork + setsid), stdio to the log,
 * and hands it lock_fd as fd 3 so the lock is never free between here and the worker's start. */
static int spawn_worker(lo_service *s, const char *project, long version, const char *model_dir, int lock_fd,
                        lo_error *err) {
    char exe[PATH_MAX];
    const char *bin = getenv("LOOKOUT_WORKER_BIN");
    if (bin && *bin) svc_fmt(exe, sizeof exe, "%s", bin);
    else {
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n <= 0) {
            lo_error_set(err, "InternalServerException", "cannot find the lookout binary to start training: %s",
                         strerror(errno));
            return -1;
        }
        exe[n] = 0;
    }
    char log[SVC_PATH_MAX + 16], ver[32];
    svc_fmt(log, sizeof log, "%s/log.txt", model_dir);
    svc_fmt(ver, sizeof ver, "%ld", version);
    int log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (log_fd < 0 || null_fd < 0) {
        lo_error_set(err, "InternalServerException", "cannot open %s: %s", log, strerror(errno));
        if (log_fd >= 0) close(log_fd);
        if (null_fd >= 0) close(null_fd);
        return -1;
    }
    /* Everything the child needs is built before fork: after fork only async-signal-safe calls
     * (the HTTP server forks from one of several threads). */
    size_t ne = 0;
    while (environ[ne]) ne++;
    char **envp = calloc(ne + 4, sizeof *envp);
    char e_home[SVC_PATH_MAX + 32], e_s3[SVC_PATH_MAX + 32];
    svc_fmt(e_home, sizeof e_home, "LOOKOUT_HOME=%s", s->home);
    svc_fmt(e_s3, sizeof e_s3, "LOOKOUT_S3_ROOT=%s", s->s3_root);
    size_t k = 0;
    if (envp) {
        for (size_t i = 0; i < ne; i++)
            if (strncmp(environ[i], "LOOKOUT_HOME=", 13) && strncmp(environ[i], "LOOKOUT_S3_ROOT=", 16) &&
                strncmp(environ[i], "LOOKOUT_WORKER_LOCK_FD=", 23))
                envp[k++] = environ[i];
        envp[k++] = e_home;
        envp[k++] = e_s3;
        envp[k++] = "LOOKOUT_WORKER_LOCK_FD=3";
    }
    char *argv[] = {exe, "__worker", (char *)project, ver, NULL};
    pid_t pid = envp ? fork() : -1;
    if (pid == 0) {
        setsid();
        pid_t p2 = fork();
        if (p2 != 0) _exit(p2 < 0 ? 1 : 0);
        /* fd 3 first: lock_fd may itself be 0..2 in odd setups, so move it out of the way. */
        int lk = fcntl(lock_fd, F_DUPFD, 10);
        if (lk < 0 || dup2(null_fd, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0 || dup2(lk, 3) < 0)
            _exit(126);
        if (chdir(model_dir) != 0) _exit(126);
        closefrom(4);
        execve(exe, argv, envp);
        /* into the model's log, so the StatusMessage can say what went wrong */
        static const char msg[] = "cannot execute the training worker (set LOOKOUT_WORKER_BIN to the lookout binary): ";
        if (write(2, msg, sizeof msg - 1) < 0 || write(2, exe, strlen(exe)) < 0 || write(2, "\n", 1) < 0) _exit(127);
        _exit(127);
    }
    int status = 0;
    int rc = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        lo_error_set(err, "InternalServerException", "cannot start the training worker %s: %s", exe,
                     pid < 0 ? strerror(errno) : "fork failed");
        rc = -1;
    }
    free(envp);
    close(log_fd);
    close(null_fd);
    return rc;
}

int svc_create_model(lo_service *s, const cJSON *in, const uint8_t *b, size_t bl, cJSON **out, lo_error *err) {
    (void)b; (void)bl;
    static const char *const members[] = {"ProjectName", "Description", "ClientToken", "OutputConfig", "KmsKeyId",
                                          "Tags", "EvaluationFolds", NULL};
    const char *project, *desc, *tok, *kms;
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(in, "Tags");
    /* Extension (not in botocore's model): k-fold evaluation after training, 2..10 folds. */
    const cJSON *folds = cJSON_GetObjectItemCaseSensitive(in, "EvaluationFolds");
    if (folds && !cJSON_IsNull(folds) &&
        (!cJSON_IsNumber(folds) || folds->valuedouble != (double)(int)folds->valuedouble || folds->valueint < 2 ||
         folds->valueint > 10)) {
        char *v = cJSON_PrintUnformatted(folds);
        lo_error_set(err, "ValidationException", "1 validation error detected: Value '%s' at 'evaluationFolds' failed "
                     "to satisfy constraint: Member must be an integer between 2 and 10", v ? v : "?");
        free(v);
        return -1;
    }
    if (svc_check_members(in, "CreateModel", members, err) || svc_get_string(in, "ProjectName", true, &project, err) ||
        svc_check_project_name("ProjectName", project, err) || svc_get_string(in, "Description", false, &desc, err) ||
        (desc && svc_check_description(desc, err)) || svc_get_string(in, "ClientToken", false, &tok, err) ||
        (tok && svc_check_client_token(tok, err)) || svc_get_string(in, "KmsKeyId", false, &kms, err) ||
        (kms && svc_check_kms_key_id(kms, err)) ||
        check_output_config(cJSON_GetObjectItemCaseSensitive(in, "OutputConfig"), err) ||
        (tags && !cJSON_IsNull(tags) && svc_check_tag_list("Tags", tags, err)))
        return -1;

    char pd[SVC_PATH_MAX], p[SVC_PATH_MAX + 96], tmp[SVC_PATH_MAX + 64] = "", final[SVC_PATH_MAX];
    char ddir[2][SVC_PATH_MAX];
    int pl = svc_lock_project(s, project, err);
    if (pl < 0) return -1;
    int rc = -1, lock_fd = -1;
    cJSON *replay = NULL, *meta = NULL, *wrapped_key = NULL;
    uint8_t data_key[LO_KMS_DATA_KEY_BYTES];
    sodium_memzero(data_key, sizeof data_key);
    int t = svc_token_check(s, "CreateModel", in, &replay, err);
    if (t < 0) goto done;
    if (t == 1) { *out = replay; rc = 0; goto done; }

    static const char *const types[] = {"train", "test"};
    bool have[2] = {false, false};
    for (int i = 0; i < 2; i++) {
        cJSON *dm = svc_dataset_metadata(s, project, types[i]);
        if (!dm) continue;
        const char *st = str_member(dm, "Status");
        if (!dataset_usable(st)) {
            lo_error_set(err, "ValidationException", "the %s dataset of project %s is %s%s%s; fix or re-create it "
                         "before training", types[i], project, st, str_member(dm, "StatusMessage")[0] ? ": " : "",
                         str_member(dm, "StatusMessage"));
            cJSON_Delete(dm);
            goto done;
        }
        cJSON_Delete(dm);
        have[i] = true;
        char dd[SVC_PATH_MAX];
        svc_dataset_dir(s, project, types[i], dd);
        svc_fmt(ddir[i], SVC_PATH_MAX, "%.4000s/data", dd);
    }
    if (!have[0]) {
        lo_error_set(err, "ValidationException", "project %s has no train dataset; create one with create-dataset "
                     "--dataset-type train", project);
        goto done;
    }

    /* Encryption at rest (DESIGN.md §5): a fresh data key for this version, wrapped by the
     * --kms-key-id key or the service-owned one. An unknown or disabled key is refused here,
     * before a version is taken. */
    lo_kms kms_ctx;
    lo_kms_init(&kms_ctx, s->home);
    if (lo_kms_generate_data_key(&kms_ctx, kms, data_key, &wrapped_key, err)) goto done;

    /* The version is taken (and the counter persisted) before anything else, so no crash or
     * delete can ever hand it out again. */
    svc_project_dir(s, project, pd);
    svc_fmt(p, sizeof p, "%s/next_version", pd);
    char *nv = svc_read_file(p, NULL);
    long version = nv ? strtol(nv, NULL, 10) : 1;
    free(nv);
    long hi = highest_version(s, project);
    if (version <= hi) version = hi + 1;
    if (version < 1) version = 1;
    char buf[32];
    int bn = svc_fmt(buf, sizeof buf, "%ld\n", version + 1);
    if (svc_write_atomic(p, buf, (size_t)bn, err)) goto done;

    svc_fmt(tmp, sizeof tmp, "%s/models/.new-%ld.%08x", pd, version, randombytes_random());
    for (int i = 0; i < 2; i++) {
        if (!have[i]) continue;
        svc_fmt(p, sizeof p, "%s/datasets", tmp);
        if (svc_mkdirs(p, err)) goto done;
        svc_fmt(p, sizeof p, "%s/datasets/%s", tmp, types[i]);
        lds_error derr;
        if (lds_snapshot_encrypted(ddir[i], p, data_key, &derr) != 0) {
            lo_error_set(err, "InternalServerException", "cannot snapshot the %s dataset for training: %s", types[i],
                         derr.message);
            goto done;
        }
    }
    /* the wrapped data key: the worker unwraps it through the key store (worker.c) */
    svc_fmt(p, sizeof p, "%s/data_key.json", tmp);
    if (svc_write_json(p, wrapped_key, err) || chmod(p, 0600) != 0) goto done;
    char arn[512];
    svc_model_arn(s, project, version, arn, sizeof arn);
    meta = cJSON_CreateObject();
    cJSON_AddNumberToObject(meta, "CreationTimestamp", svc_now());
    svc_fmt(buf, sizeof buf, "%ld", version);
    cJSON_AddStringToObject(meta, "ModelVersion", buf);
    cJSON_AddStringToObject(meta, "ModelArn", arn);
    if (desc) cJSON_AddStringToObject(meta, "Description", desc);
    cJSON_AddStringToObject(meta, "Status", "TRAINING");
    cJSON_AddStringToObject(meta, "StatusMessage", "Training started");
    cJSON_AddItemToObject(meta, "OutputConfig",
                          cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(in, "OutputConfig"), true));
    if (kms) cJSON_AddStringToObject(meta, "KmsKeyId", kms);
    if (folds && cJSON_IsNumber(folds)) cJSON_AddNumberToObject(meta, "EvaluationFolds", folds->valueint);
    cJSON_AddItemToObject(meta, "Tags", tags && !cJSON_IsNull(tags) ? cJSON_Duplicate(tags, true) : cJSON_CreateArray());
    svc_fmt(p, sizeof p, "%s/model.json", tmp);
    if (svc_write_json(p, meta, err)) goto done;
    /* Lock before the folder becomes visible: a describe must never see TRAINING with a free lock
     * unless the worker really is gone. */
    svc_fmt(p, sizeof p, "%s/worker.lock", tmp);
    lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd < 0 || flock(lock_fd, LOCK_EX) != 0) {
        lo_error_set(err, "InternalServerException", "cannot lock %s: %s", p, strerror(errno));
        goto done;
    }
    svc_model_dir(s, project, version, final);
    if (rename(tmp, final) != 0) {
        lo_error_set(err, "InternalServerException", "cannot create %s: %s", final, strerror(errno));
        goto done;
    }
    tmp[0] = 0;
    svc_fmt(p, sizeof p, "%s/models", pd);
    svc_fsync_dir(p);
    lo_error serr;
    if (spawn_worker(s, project, version, final, lock_fd, &serr) != 0) {
        cJSON_ReplaceItemInObject(meta, "Status", cJSON_CreateString("TRAINING_FAILED"));
        cJSON_ReplaceItemInObject(meta, "StatusMessage", cJSON_CreateString(serr.message));
        if (svc_model_save(s, project, version, meta, err)) goto done;
    }
    *out = cJSON_CreateObject();
    cJSON_AddItemToObject(*out, "ModelMetadata", model_metadata(meta));
    if (svc_token_store(s, "CreateModel", in, *out, err)) goto done;
    rc = 0;
done:
    sodium_memzero(data_key, sizeof data_key);
    cJSON_Delete(wrapped_key);
    if (lock_fd >= 0) close(lock_fd); /* the worker holds the same lock through its copy */
    if (tmp[0]) svc_rmtree(tmp);
    cJSON_Delete(meta);
    svc_unlock(pl);
    return rc;
}

/* ---- Describe / List / Delete --------------------------------------------------------------- */

static int get_project_version(const cJSON *in, const char *op, const char *const *members, bool allow_latest,
                               const char **project, const char **version, lo_error *err) {
    const char *tok;
    if (svc_check_members(in, op, members, err) || svc_get_string(in, "ProjectName", true, project, err) ||
        svc_check_project_name("ProjectName", *project, err) ||
        svc_get_string(in, "ModelVersion", true, version, err) ||
        svc_check_model_version("ModelVersion", *version, allow_latest, err) ||
        svc_get_string(in, "ClientToken", false, &tok, err))
        return -1;
    return tok ? svc_check_client_token(tok, err) : 0;
}

int svc_describe_model(lo_service *s, const cJSON *in, const uint8_t *b, size_t bl, cJSON **out, lo_error *err) {
    (void)b; (void)bl;
    static const char *const members[] = {"ProjectName", "ModelVersion", NULL};
    const char *project, *version;
    long v;
    if (get_project_version(in, "DescribeModel", members, true, &project, &version, err) ||
        svc_resolve_version(s, project, version, &v, err))
        return -1;
    cJSON *m = svc_model_load(s, project, v, err);
    if (!m) return -1;
    *out = cJSON_CreateObject();
    cJSON_AddItemToObject(*out, "ModelDescription", model_description(m));
    cJSON_Delete(m);
    return 0;
}

static int cmp_version(const void *a, const void *b) {
    long x = strtol(*(char *const *)a, NULL, 10), y = strtol(*(char *const *)b, NULL, 10);
    return (x > y) - (x < y);
}

int svc_list_models(lo_service *s, const cJSON *in, const uint8_t *b, size_t bl, cJSON **out, lo_error *err) {
    (void)b; (void)bl;
    static const char *const members[] = {"ProjectName", "NextToken", "MaxResults", NULL};
    const char *project;
    int max;
    int64_t start;
    if (svc_check_members(in, "ListModels", members, err) || svc_get_string(in, "ProjectName", true, &project, err) ||
        svc_check_project_name("ProjectName", project, err) || svc_check_page(in, &max, &start, err) ||
        svc_require_project(s, project, err))
        return -1;
    char pd[SVC_PATH_MAX], dir[SVC_PATH_MAX + 16];
    svc_project_dir(s, project, pd);
    svc_fmt(dir, sizeof dir, "%s/models", pd);
    char **names;
    size_t n;
    svc_list_names(dir, &names, &n);
    if (n) qsort(names, n, sizeof *names, cmp_version);
    *out = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(*out, "Models");
    int64_t i = start, added = 0;
    for (; i < (int64_t)n && added < max; i++) {
        lo_error e2;
        cJSON *m = svc_model_load(s, project, strtol(names[i], NULL, 10), &e2);
        if (!m) continue; /* deleted meanwhile */
        cJSON_AddItemToArray(list, model_metadata(m));
        cJSON_Delete(m);
        added++;
    }
    if (i < (int64_t)n) {
        char *tok = svc_page_token(i);
        cJSON_AddStringToObject(*out, "NextToken", tok);
        free(tok);
    }
    svc_free_names(names, n);
    return 0;
}

int svc_delete_model(lo_service *s, const cJSON *in, const uint8_t *b, size_t bl, cJSON **out, lo_error *err) {
    (void)b; (void)bl;
    static const char *const members[] = {"ProjectName", "ModelVersion", "ClientToken", NULL};
    const char *project, *version;
    if (get_project_version(in, "DeleteModel", members, false, &project, &version, err)) return -1;
    int pl = svc_lock_project(s, project, err);
    if (pl < 0) return -1;
    int rc = -1;
    long v;
    cJSON *replay = NULL, *m = NULL;
    int t = svc_token_check(s, "DeleteModel", in, &replay, err);
    if (t < 0) goto done;
    if (t == 1) { *out = replay; rc = 0; goto done; }
    if (svc_resolve_version(s, project, version, &v, err)) goto done;
    char dir[SVC_PATH_MAX];
    svc_model_dir(s, project, v, dir);
    m = read_model(s, project, v, err);
    if (!m) goto done;
    const char *st = str_member(m, "Status");
    if (!strcmp(st, "TRAINING") && worker_alive(dir)) {
        lo_error_set(err, "ConflictException", "model version %ld of project %s is still TRAINING; wait for it to "
                     "finish (lookout wait model-trained) before deleting it", v, project);
        goto done;
    }
    if (!strcmp(st, "HOSTED") || !strcmp(st, "STARTING_HOSTING") || !strcmp(st, "STOPPING_HOSTING")) {
        lo_error_set(err, "ConflictException", "model version %ld of project %s is %s; stop it with stop-model "
                     "before deleting it", v, project, st);
        goto done;
    }
    svc_hosted_drop(s, project, v);
    if (svc_remove_atomic(s, dir, err)) goto done;
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "ModelArn", str_member(m, "ModelArn"));
    if (svc_token_store(s, "DeleteModel", in, *out, err)) goto done;
    rc = 0;
done:
    cJSON_Delete(m);
    svc_unlock(pl);
    return rc;
}
