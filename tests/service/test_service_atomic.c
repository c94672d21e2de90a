/* Atomicity: every state file goes through write-temp/fsync/rename, so (1) a failed write (fsync
 * made to fail here, as on a full disk) leaves the old state and no temporaries, and (2) kill -9 of
 * a command at random instants during create-dataset / create-model / delete-model leaves the old
 * or the new state, never a torn one, and never a stuck lock. */
#include "svc_test.h"

#include <dataset.h>
#include <dirent.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>

/* The engine is linked statically into this program, so this definition replaces libc's fsync
 * for the service's calls: the Nth call from now fails with ENOSPC. */
static int fsync_fail_at = -1, fsync_calls = 0;
int fsync(int fd) {
    if (fsync_fail_at >= 0 && ++fsync_calls == fsync_fail_at) {
        errno = ENOSPC;
        return -1;
    }
    return (int)syscall(SYS_fsync, fd);
}

static void fail_fsync(int nth) {
    fsync_calls = 0;
    fsync_fail_at = nth;
}

static char self_exe[600], folder[600], quitter[600];

static double now_s(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

/* Counts files whose name holds `needle` under dir (recursively). */
static int count_named(const char *dir, const char *needle) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (strstr(e->d_name, needle)) n++;
        char sub[1200];
        snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode)) n += count_named(sub, needle);
    }
    closedir(d);
    return n;
}

static int tag_count(lo_service *s) {
    cJSON *o = t_call(s, "ListTagsForResource", "{\"ResourceArn\": \"arn:aws:lookoutvision:local:000000000000:project/a\"}");
    int n = o ? cJSON_GetArraySize(t_get(o, "Tags")) : -1;
    cJSON_Delete(o);
    return n;
}

static void test_failed_writes(lo_service *s) {
    cJSON *o;
    EXPECT_OK(o, s, "CreateProject", "{\"ProjectName\": \"a\"}");
    cJSON_Delete(o);
    EXPECT_OK(o, s, "TagResource", "{\"ResourceArn\": \"arn:aws:lookoutvision:local:000000000000:project/a\", "
              "\"Tags\": [{\"Key\": \"k1\", \"Value\": \"v1\"}]}");
    cJSON_Delete(o);

    fail_fsync(1);
    EXPECT_ERR("InternalServerException", "disk full", s, "TagResource",
               "{\"ResourceArn\": \"arn:aws:lookoutvision:local:000000000000:project/a\", "
               "\"Tags\": [{\"Key\": \"k2\", \"Value\": \"v2\"}]}");
    fail_fsync(-1);
    CHECK(tag_count(s) == 1, "the old tags survive a failed write: %d", tag_count(s));

    fail_fsync(1);
    EXPECT_ERR("InternalServerException", "disk full", s, "CreateProject", "{\"ProjectName\": \"b\"}");
    fail_fsync(-1);
    EXPECT_ERR("ResourceNotFoundException", NULL, s, "DescribeProject", "{\"ProjectName\": \"b\"}");

    EXPECT_OK(o, s, "CreateDataset", "{\"ProjectName\": \"a\", \"DatasetType\": \"train\", "
              "\"DatasetSource\": {\"ImageFolder\": {\"Path\": \"%s\"}}}", folder);
    cJSON_Delete(o);
    /* CreateModel with its k-th durable write failing, for every k it has: each call succeeds or
     * fails whole, and versions stay unique and increasing. */
    setenv("LOOKOUT_WORKER_BIN", quitter, 1);
    int ok = 0, failed = 0;
    for (int k = 1; k <= 12; k++) {
        fail_fsync(k);
        o = t_call(s, "CreateModel", "{\"ProjectName\": \"a\", \"OutputConfig\": {\"S3Location\": {\"Bucket\": \"bkt\"}}}");
        fail_fsync(-1);
        if (o) ok++;
        else {
            failed++;
            CHECK(strstr(t_err.message, "disk full") != NULL || strstr(t_err.message, "No space") != NULL,
                  "k=%d: %s", k, t_err.message);
        }
        cJSON_Delete(o);
    }
    CHECK(failed >= 2 && ok >= 1, "the injected failures hit (%d failed, %d succeeded)", failed, ok);
    EXPECT_OK(o, s, "ListModels", "{\"ProjectName\": \"a\"}");
    const cJSON *m;
    long prev = 0;
    int listed = 0;
    cJSON_ArrayForEach(m, t_get(o, "Models")) {
        long v = strtol(t_str(m, "ModelVersion"), NULL, 10);
        CHECK(v > prev, "versions increase: %ld after %ld", v, prev);
        prev = v;
        listed++;
        cJSON *d = t_call(s, "DescribeModel", "{\"ProjectName\": \"a\", \"ModelVersion\": \"%ld\"}", v);
        CHECK(d != NULL, "model %ld readable: %s", v, t_err.message);
        cJSON_Delete(d);
    }
    cJSON_Delete(o);
    CHECK(listed == ok, "%d models listed for %d successful creates", listed, ok);
    /* the next version is above every version ever handed out */
    EXPECT_OK(o, s, "CreateModel", "{\"ProjectName\": \"a\", \"OutputConfig\": {\"S3Location\": {\"Bucket\": \"bkt\"}}}");
    CHECK(strtol(t_str(o, "ModelMetadata.ModelVersion"), NULL, 10) > prev, "fresh version %s > %ld",
          t_str(o, "ModelMetadata.ModelVersion"), prev);
    cJSON_Delete(o);

    char dir[600];
    snprintf(dir, sizeof dir, "%s/projects", t_home);
    CHECK(count_named(dir, ".tmp.") == 0, "no temporary files left behind");
    CHECK(count_named(dir, ".new") == 0, "no half-built folders left behind");
}

/* child mode: run one operation, so the parent can kill -9 it mid-way */
static int child_main(const char *op, const char *json) {
    lo_service *s = t_open();
    cJSON *in = cJSON_Parse(json);
    cJSON *out = NULL;
    lo_error e;
    int rc = lo_service_call(s, op, in, NULL, 0, &out, &e);
    cJSON_Delete(in);
    cJSON_Delete(out);
    lo_service_close(s);
    return rc == 0 ? 0 : 1;
}

static double run_child(const char *op, const char *json, double kill_after) {
    double t0 = now_s();
    pid_t pid = fork();
    if (pid == 0) {
        execl(self_exe, self_exe, "child", op, json, (char *)NULL);
        _exit(127);
    }
    if (kill_after >= 0) {
        usleep((useconds_t)(kill_after * 1e6));
        kill(pid, SIGKILL);
    }
    int st;
    waitpid(pid, &st, 0);
    return now_s() - t0;
}

static void test_kill_create_dataset(lo_service *s, int runs) {
    char json[1200];
    snprintf(json, sizeof json, "{\"ProjectName\": \"k\", \"DatasetType\": \"train\", \"DatasetSource\": "
             "{\"ImageFolder\": {\"Path\": \"%s\"}}}", folder);
    cJSON *o;
    EXPECT_OK(o, s, "CreateProject", "{\"ProjectName\": \"k\"}");
    cJSON_Delete(o);
    double full = run_child("CreateDataset", json, -1);
    EXPECT_OK(o, s, "DeleteDataset", "{\"ProjectName\": \"k\", \"DatasetType\": \"train\"}");
    cJSON_Delete(o);
    int absent = 0, complete = 0;
    for (int r = 0; r < runs; r++) {
        double at = full * 1.2 * (double)r / runs;
        run_child("CreateDataset", json, at);
        o = t_call(s, "DescribeDataset", "{\"ProjectName\": \"k\", \"DatasetType\": \"train\"}");
        if (!o) {
            CHECK(!strcmp(t_err.type, "ResourceNotFoundException"), "run %d: %s", r, t_err.message);
            absent++;
            continue;
        }
        CHECK(!strcmp(t_str(o, "DatasetDescription.Status"), "CREATE_COMPLETE") &&
                  t_num(o, "DatasetDescription.ImageStats.Total") == 15,
              "run %d (kill at %.3f s): a dataset that exists is complete: %s, %g images", r, at,
              t_str(o, "DatasetDescription.Status"), t_num(o, "DatasetDescription.ImageStats.Total"));
        complete++;
        cJSON_Delete(o);
        /* the lock is free and the state usable: delete works at once */
        EXPECT_OK(o, s, "DeleteDataset", "{\"ProjectName\": \"k\", \"DatasetType\": \"train\"}");
        cJSON_Delete(o);
    }
    printf("create-dataset killed %d times (import takes %.3f s): %d left nothing, %d left it complete\n", runs, full,
           absent, complete);
    CHECK(absent > 0, "some kills landed before the end");
}

static void test_kill_create_delete_model(lo_service *s, int runs) {
    cJSON *o;
    EXPECT_OK(o, s, "CreateDataset", "{\"ProjectName\": \"k\", \"DatasetType\": \"train\", "
              "\"DatasetSource\": {\"ImageFolder\": {\"Path\": \"%s\"}}}", folder);
    cJSON_Delete(o);
    const char *create = "{\"ProjectName\": \"k\", \"OutputConfig\": {\"S3Location\": {\"Bucket\": \"bkt\"}}}";
    double full = run_child("CreateModel", create, -1);
    long seen_max = 0;
    for (int r = 0; r < runs; r++) {
        run_child("CreateModel", create, full * 1.2 * (double)r / runs);
        o = t_call(s, "ListModels", "{\"ProjectName\": \"k\"}");
        CHECK(o != NULL, "list after kill: %s", t_err.message);
        const cJSON *m;
        cJSON_ArrayForEach(m, t_get(o, "Models")) {
            long v = strtol(t_str(m, "ModelVersion"), NULL, 10);
            const char *st = t_str(m, "Status");
            CHECK(!strcmp(st, "TRAINING") || !strcmp(st, "TRAINING_FAILED"), "model %ld status %s", v, st);
            if (v > seen_max) seen_max = v;
        }
        cJSON_Delete(o);
    }
    /* now kill delete-model mid-way: the model is there whole or gone */
    o = t_call(s, "ListModels", "{\"ProjectName\": \"k\"}");
    int n = 0;
    char versions[64][16];
    const cJSON *m;
    cJSON_ArrayForEach(m, t_get(o, "Models")) {
        if (n < 64) snprintf(versions[n++], sizeof versions[0], "%s", t_str(m, "ModelVersion"));
    }
    cJSON_Delete(o);
    for (int i = 0; i < n; i++) {
        char json[1200];
        snprintf(json, sizeof json, "{\"ProjectName\": \"k\", \"ModelVersion\": \"%s\"}", versions[i]);
        for (int w = 0; w < 100; w++) { /* wait out the stand-in worker */
            cJSON *d = t_call(s, "DescribeModel", "%s", json);
            bool training = d && !strcmp(t_str(d, "ModelDescription.Status"), "TRAINING");
            cJSON_Delete(d);
            if (!training) break;
            usleep(20000);
        }
        run_child("DeleteModel", json, 0.0005 * (i % 8));
        cJSON *d = t_call(s, "DescribeModel", "%s", json);
        if (d) CHECK(!strcmp(t_str(d, "ModelDescription.Status"), "TRAINING_FAILED"), "whole model left");
        else CHECK(!strcmp(t_err.type, "ResourceNotFoundException"), "gone: %s", t_err.message);
        cJSON_Delete(d);
    }
    EXPECT_OK(o, s, "CreateModel", "%s", create);
    CHECK(strtol(t_str(o, "ModelMetadata.ModelVersion"), NULL, 10) > seen_max, "no version handed out twice: %s vs %ld",
          t_str(o, "ModelMetadata.ModelVersion"), seen_max);
    cJSON_Delete(o);
}

/* 6 update-dataset-entries at once: serialized by the project lock, none lost. */
static void test_parallel_updates(lo_service *s) {
    cJSON *o;
    EXPECT_OK(o, s, "CreateProject", "{\"ProjectName\": \"u\"}");
    cJSON_Delete(o);
    EXPECT_OK(o, s, "CreateDataset", "{\"ProjectName\": \"u\", \"DatasetType\": \"test\"}");
    cJSON_Delete(o);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/bkt/u' && for i in 0 1 2 3 4 5; do cp '%s/normal/normal-000'$i'.png' "
             "'%s/bkt/u/'$i'.png'; done", lo_service_s3_root(s), folder, lo_service_s3_root(s));
    CHECK(system(cmd) == 0, "copy images into the mirror");
    enum { N = 6 };
    pid_t pids[N];
    for (int i = 0; i < N; i++) {
        char json[512];
        snprintf(json, sizeof json, "{\"ProjectName\": \"u\", \"DatasetType\": \"test\", \"Changes\": "
                 "\"{\\\"source-ref\\\": \\\"s3://bkt/u/%d.png\\\", \\\"anomaly-label\\\": 0, "
                 "\\\"anomaly-label-metadata\\\": {\\\"class-name\\\": \\\"normal\\\"}}\"}", i);
        pids[i] = fork();
        if (pids[i] == 0) {
            execl(self_exe, self_exe, "child", "UpdateDatasetEntries", json, (char *)NULL);
            _exit(127);
        }
    }
    for (int i = 0; i < N; i++) {
        int st = 0;
        waitpid(pids[i], &st, 0);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "update %d succeeded", i);
    }
    EXPECT_OK(o, s, "DescribeDataset", "{\"ProjectName\": \"u\", \"DatasetType\": \"test\"}");
    CHECK(t_num(o, "DatasetDescription.ImageStats.Total") == N, "all %d parallel updates kept: %g", N,
          t_num(o, "DatasetDescription.ImageStats.Total"));
    cJSON_Delete(o);
}

int main(int argc, char **argv) {
    if (argc > 3 && !strcmp(argv[1], "child")) return child_main(argv[2], argv[3]);
    ssize_t n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    self_exe[n > 0 ? n : 0] = 0;
    t_setup("atomic");
    snprintf(folder, sizeof folder, "%s/images", t_home);
    snprintf(quitter, sizeof quitter, "%s/quitter.sh", t_home);
    t_write_script(quitter, "exit 0");
    setenv("LOOKOUT_WORKER_BIN", quitter, 1);
    lds_error derr;
    if (lds_demo_generate(folder, 10, 5, 9, &derr) != 0) {
        fprintf(stderr, "lds_demo_generate: %s\n", derr.message);
        return 1;
    }
    lo_service *s = t_open();
    test_failed_writes(s);
    test_kill_create_dataset(s, 30);
    test_kill_create_delete_model(s, 25);
    test_parallel_updates(s);
    /* whatever the kills left half-built is swept by the next command that takes the lock */
    cJSON *o = t_call(s, "TagResource", "{\"ResourceArn\": \"arn:aws:lookoutvision:local:000000000000:project/k\", "
                      "\"Tags\": [{\"Key\": \"swept\", \"Value\": \"yes\"}]}");
    cJSON_Delete(o);
    char dir[600];
    snprintf(dir, sizeof dir, "%s/projects", t_home);
    CHECK(count_named(dir, ".new") == 0, "no half-built folders after the kills: %d", count_named(dir, ".new"));
    lo_service_close(s);
    return t_finish();
}
