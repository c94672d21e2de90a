/* kill -9 of the real training worker at instants spread over its whole run (training, evaluation,
 * writing the files, recording the result), then the invariants: the model ends TRAINED or
 * TRAINING_FAILED ("ended unexpectedly" when the kill came first), the S3 mirror holds no
 * half-written evaluation file (each one there parses whole, no temporaries), and the other
 * model and the dataset are unchanged. Slow: labelled so. */
#include "svc_test.h"

#include <dataset.h>
#include <dirent.h>
#include <signal.h>
#include <sys/time.h>

static double now_s(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

/* The worker's pid, found by its command line `... __worker P V`. */
static pid_t find_worker(const char *project, long version) {
    char want[128];
    int wl = snprintf(want, sizeof want, "__worker%c%s%c%ld", 0, project, 0, version);
    DIR *d = opendir("/proc");
    struct dirent *e;
    pid_t found = -1;
    while (d && (e = readdir(d)) != NULL) {
        char p[300], buf[4096];
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        snprintf(p, sizeof p, "/proc/%s/cmdline", e->d_name);
        FILE *f = fopen(p, "rb");
        if (!f) continue;
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        for (size_t i = 0; i + (size_t)wl <= n; i++)
            if (!memcmp(buf + i, want, (size_t)wl) && (i + (size_t)wl == n || buf[i + (size_t)wl] == 0)) {
                found = (pid_t)atol(e->d_name);
                break;
            }
        if (found > 0) break;
    }
    if (d) closedir(d);
    return found;
}

static cJSON *wait_final(lo_service *s, long v) {
    for (int i = 0; i < 3000; i++) {
        cJSON *d = t_call(s, "DescribeModel", "{\"ProjectName\": \"w\", \"ModelVersion\": \"%ld\"}", v);
        if (!d || strcmp(t_str(d, "ModelDescription.Status"), "TRAINING") != 0) return d;
        cJSON_Delete(d);
        usleep(100000);
    }
    return NULL;
}

/* Every evaluation file in the bucket parses whole; no temporaries. */
static void check_mirror(const char *dir, int run) {
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        CHECK(strstr(e->d_name, ".tmp.") == NULL, "run %d: temporary %s left in the mirror", run, e->d_name);
        char p[1200];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (!strncmp(e->d_name, "EvaluationResult-", 17) && !strstr(e->d_name, ".tmp.")) {
            FILE *f = fopen(p, "rb");
            static char buf[1 << 20];
            size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
            if (f) fclose(f);
            buf[n] = 0;
            cJSON *j = cJSON_Parse(buf);
            CHECK(j != NULL, "run %d: %s parses whole", run, e->d_name);
            cJSON_Delete(j);
        }
    }
    if (d) closedir(d);
}

int main(int argc, char **argv) {
    (void)argc;
    (void)argv;
    if (!getenv("LOOKOUT_WORKER_BIN")) {
        fprintf(stderr, "set LOOKOUT_WORKER_BIN to the lookout binary\n");
        return 1;
    }
    t_setup("wkill");
    char folder[600];
    snprintf(folder, sizeof folder, "%s/images", t_home);
    lds_error derr;
    if (lds_demo_generate(folder, 24, 12, 21, &derr) != 0) {
        fprintf(stderr, "lds_demo_generate: %s\n", derr.message);
        return 1;
    }
    int runs = getenv("LOOKOUT_KILL_RUNS") ? atoi(getenv("LOOKOUT_KILL_RUNS")) : 12;
    lo_service *s = t_open();
    cJSON *o;
    EXPECT_OK(o, s, "CreateProject", "{\"ProjectName\": \"w\"}");
    cJSON_Delete(o);
    EXPECT_OK(o, s, "CreateDataset", "{\"ProjectName\": \"w\", \"DatasetType\": \"train\", "
              "\"DatasetSource\": {\"ImageFolder\": {\"Path\": \"%s\"}}}", folder);
    cJSON_Delete(o);
    const char *create = "{\"ProjectName\": \"w\", \"OutputConfig\": {\"S3Location\": {\"Bucket\": \"bkt\"}}}";

    /* a reference run, untouched: its length spreads the kills, its description must not change.
     * Its budget grows if this machine is too slow (or sanitized) to train within it. */
    static const char *const budgets[] = {"15", "60", "240"};
    cJSON *ref = NULL;
    double full = 0;
    long ref_v = 0;
    for (int attempt = 0; attempt < 3; attempt++) {
        setenv("LOOKOUT_TRAIN_TIME_BUDGET", budgets[attempt], 1);
        double t0 = now_s();
        EXPECT_OK(o, s, "CreateModel", "%s", create);
        ref_v = o ? strtol(t_str(o, "ModelMetadata.ModelVersion"), NULL, 10) : 0;
        cJSON_Delete(o);
        ref = wait_final(s, ref_v);
        full = now_s() - t0;
        if (!ref || strcmp(t_str(ref, "ModelDescription.Status"), "TRAINING_FAILED") ||
            !strstr(t_str(ref, "ModelDescription.StatusMessage"), "time budget") || attempt == 2)
            break;
        cJSON_Delete(ref);
        ref = NULL;
    }
    CHECK(ref && !strcmp(t_str(ref, "ModelDescription.Status"), "TRAINED"), "reference run: %s",
          ref ? t_str(ref, "ModelDescription.StatusMessage") : "timeout");
    char *ref_text = ref ? cJSON_PrintUnformatted(ref) : NULL;
    cJSON_Delete(ref);
    EXPECT_OK(o, s, "DescribeDataset", "{\"ProjectName\": \"w\", \"DatasetType\": \"train\"}");
    char *ds_text = o ? cJSON_PrintUnformatted(t_get(o, "DatasetDescription.ImageStats")) : NULL;
    cJSON_Delete(o);

    char bucket[700];
    snprintf(bucket, sizeof bucket, "%s/bkt", lo_service_s3_root(s));
    int failed = 0, trained = 0, missed = 0, other = 0;
    for (int r = 0; r < runs; r++) {
        long v = ref_v + 1 + r;
        double at = full * 1.1 * (r + 0.5) / runs;
        double start = now_s();
        EXPECT_OK(o, s, "CreateModel", "%s", create);
        cJSON_Delete(o);
        while (now_s() - start < at) usleep(2000);
        pid_t pid = find_worker("w", v);
        for (int k = 0; pid <= 0 && k < 100; k++) { /* not exec'd yet at the earliest instants */
            usleep(5000);
            pid = find_worker("w", v);
        }
        if (pid > 0) kill(pid, SIGKILL);
        else missed++;
        cJSON *d = wait_final(s, v);
        const char *st = d ? t_str(d, "ModelDescription.Status") : "(timeout)";
        if (!strcmp(st, "TRAINED")) trained++;
        else if (!strcmp(st, "TRAINING_FAILED")) {
            /* killed: "ended unexpectedly"; a worker that ended first (e.g. its budget was too short
             * on a loaded machine) keeps the reason it recorded */
            if (strstr(t_str(d, "ModelDescription.StatusMessage"), "ended unexpectedly")) failed++;
            else other++;
            CHECK(t_str(d, "ModelDescription.StatusMessage")[0], "run %d: TRAINING_FAILED says why", r);
        } else
            CHECK(0, "run %d: final status %s", r, st);
        cJSON_Delete(d);
        check_mirror(bucket, r);
        cJSON *again = t_call(s, "DescribeModel", "{\"ProjectName\": \"w\", \"ModelVersion\": \"%ld\"}", ref_v);
        char *t = again ? cJSON_PrintUnformatted(again) : NULL;
        CHECK(t && ref_text && !strcmp(t, ref_text), "run %d: the other model is unchanged", r);
        free(t);
        cJSON_Delete(again);
    }
    EXPECT_OK(o, s, "DescribeDataset", "{\"ProjectName\": \"w\", \"DatasetType\": \"train\"}");
    char *ds2 = o ? cJSON_PrintUnformatted(t_get(o, "DatasetDescription.ImageStats")) : NULL;
    CHECK(ds_text && ds2 && !strcmp(ds_text, ds2), "the dataset is unchanged");
    cJSON_Delete(o);
    free(ds2);
    free(ds_text);
    free(ref_text);
    CHECK(failed > 0, "some kills caught the worker running");
    printf("worker killed at %d instants over a %.1f s run: %d ended unexpectedly, %d TRAINED first, %d failed first "
           "for their own reason, %d gone before the kill; invariant violations: %d\n", runs, full, failed, trained,
           other, missed, t_failures);
    lo_service_close(s);
    return t_finish();
}
