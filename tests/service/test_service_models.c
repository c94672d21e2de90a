/* Models without training: stand-in workers (shell scripts) let these tests check the service's
 * own rules: validation, version numbering (also under 8 concurrent processes, never reused after
 * delete), ClientToken replay and mismatch, crash detection by the worker's lock (kill -9),
 * delete/hosting conflicts, tags by ARN, snapshots, "latest", pagination. */
#include "svc_test.h"

#include <dataset.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>

static char sleeper[512], quitter[512];

static double now_s(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

static long worker_pid(int version) {
    char p[600];
    snprintf(p, sizeof p, "%s/worker-%d.pid", t_home, version);
    for (int i = 0; i < 200; i++) {
        FILE *f = fopen(p, "r");
        long pid = 0;
        if (f) {
            if (fscanf(f, "%ld", &pid) != 1) pid = 0;
            fclose(f);
        }
        if (pid > 0) return pid;
        usleep(50000);
    }
    return -1;
}

static const char *model_status(lo_service *s, const char *project, const char *version, char *msg, size_t cap) {
    static char st[64];
    if (msg && cap) msg[0] = 0;
    cJSON *o = t_call(s, "DescribeModel", "{\"ProjectName\": \"%s\", \"ModelVersion\": \"%s\"}", project, version);
    snprintf(st, sizeof st, "%s", o ? t_str(o, "ModelDescription.Status") : "(error)");
    if (msg) {
        const char *m = o ? t_str(o, "ModelDescription.StatusMessage") : t_err.message;
        size_t k = strlen(m) < cap ? strlen(m) : cap - 1;
        memcpy(msg, m, k);
        msg[k] = 0;
    }
    cJSON_Delete(o);
    return st;
}

static const char *create_ok = "{\"ProjectName\": \"m\", \"OutputConfig\": {\"S3Location\": {\"Bucket\": \"out-bkt\", "
                               "\"Prefix\": \"runs/\"}}%s}";

static void test_validation(lo_service *s) {
    EXPECT_ERR("ValidationException", "OutputConfig", s, "CreateModel", "{\"ProjectName\": \"m\"}");
    EXPECT_ERR("ValidationException", "S3Location", s, "CreateModel", "{\"ProjectName\": \"m\", \"OutputConfig\": {}}");
    EXPECT_ERR("ValidationException", "Bucket", s, "CreateModel",
               "{\"ProjectName\": \"m\", \"OutputConfig\": {\"S3Location\": {\"Bucket\": \"a\"}}}");
    EXPECT_ERR("ValidationException", "Bucket", s, "CreateModel",
               "{\"ProjectName\": \"m\", \"OutputConfig\": {\"S3Location\": {\"Bucket\": \"bad/bucket\"}}}");
    EXPECT_ERR("ValidationException", "..", s, "CreateModel",
               "{\"ProjectName\": \"m\", \"OutputConfig\": {\"S3Location\": {\"Bucket\": \"bkt\", \"Prefix\": \"a/../../x/\"}}}");
    EXPECT_ERR("ValidationException", "Prefix", s, "CreateModel",
               "{\"ProjectName\": \"m\", \"OutputConfig\": {\"S3Location\": {\"Bucket\": \"bkt\", \"Prefix\": \"/abs\"}}}");
    EXPECT_ERR("ValidationException", "Description", s, "CreateModel", create_ok, ", \"Description\": \"has space\"");
    EXPECT_ERR("ValidationException", "KmsKeyId", s, "CreateModel", create_ok, ", \"KmsKeyId\": \"-bad\"");
    EXPECT_ERR("ValidationException", "aws:", s, "CreateModel", create_ok, ", \"Tags\": [{\"Key\": \"aws:x\", \"Value\": \"v\"}]");
    EXPECT_ERR("ValidationException", "twice", s, "CreateModel", create_ok,
               ", \"Tags\": [{\"Key\": \"k\", \"Value\": \"1\"}, {\"Key\": \"k\", \"Value\": \"2\"}]");
    EXPECT_ERR("ValidationException", "Value", s, "CreateModel", create_ok, ", \"Tags\": [{\"Key\": \"k\"}]");
    EXPECT_ERR("ValidationException", "Tags[0].Key", s, "CreateModel", create_ok,
               ", \"Tags\": [{\"Key\": \"bad\\u0001\", \"Value\": \"v\"}]");
    EXPECT_ERR("ValidationException", "Colour", s, "CreateModel", create_ok, ", \"Colour\": 1");
    EXPECT_ERR("ValidationException", "no train dataset", s, "CreateModel", create_ok, "");
    EXPECT_ERR("ResourceNotFoundException", "nope", s, "CreateModel",
               "{\"ProjectName\": \"nope\", \"OutputConfig\": {\"S3Location\": {\"Bucket\": \"bkt\"}}}");
    EXPECT_ERR("ValidationException", "ModelVersion", s, "DescribeModel", "{\"ProjectName\": \"m\", \"ModelVersion\": \"0\"}");
    EXPECT_ERR("ValidationException", "ModelVersion", s, "DescribeModel", "{\"ProjectName\": \"m\", \"ModelVersion\": \"v1\"}");
    EXPECT_ERR("ValidationException", "ModelVersion", s, "DeleteModel", "{\"ProjectName\": \"m\", \"ModelVersion\": \"latest\"}");
    EXPECT_ERR("ResourceNotFoundException", "no models", s, "DescribeModel", "{\"ProjectName\": \"m\", \"ModelVersion\": \"latest\"}");
    EXPECT_ERR("ResourceNotFoundException", "7", s, "DescribeModel", "{\"ProjectName\": \"m\", \"ModelVersion\": \"7\"}");
    EXPECT_ERR("ValidationException", "MinInferenceUnits", s, "StartModel", "{\"ProjectName\": \"m\", \"ModelVersion\": \"1\"}");
    EXPECT_ERR("ValidationException", "MinInferenceUnits", s, "StartModel",
               "{\"ProjectName\": \"m\", \"ModelVersion\": \"1\", \"MinInferenceUnits\": 0}");
    EXPECT_ERR("ValidationException", "MaxInferenceUnits", s, "StartModel",
               "{\"ProjectName\": \"m\", \"ModelVersion\": \"1\", \"MinInferenceUnits\": 2, \"MaxInferenceUnits\": 1}");
}

static void make_train_dataset(lo_service *s, const char *folder) {
    cJSON *o;
    EXPECT_OK(o, s, "CreateDataset", "{\"ProjectName\": \"m\", \"DatasetType\": \"train\", "
              "\"DatasetSource\": {\"ImageFolder\": {\"Path\": \"%s\"}}}", folder);
    CHECK(o && !strcmp(t_str(o, "DatasetMetadata.Status"), "CREATE_COMPLETE"), "dataset: %s",
          t_str(o, "DatasetMetadata.StatusMessage"));
    cJSON_Delete(o);
}

static void test_crash_detection(lo_service *s) {
    setenv("LOOKOUT_WORKER_BIN", sleeper, 1);
    double t0 = now_s();
    cJSON *o;
    EXPECT_OK(o, s, "CreateModel", create_ok, ", \"Description\": \"first\", \"Tags\": [{\"Key\": \"line\", \"Value\": \"3\"}]");
    double dt = now_s() - t0;
    CHECK(dt < 1.0, "create-model answers in under a second (%.3f s)", dt);
    CHECK(!strcmp(t_str(o, "ModelMetadata.Status"), "TRAINING"), "status %s", t_str(o, "ModelMetadata.Status"));
    CHECK(!strcmp(t_str(o, "ModelMetadata.ModelVersion"), "1"), "version %s", t_str(o, "ModelMetadata.ModelVersion"));
    CHECK(!strcmp(t_str(o, "ModelMetadata.ModelArn"), "arn:aws:lookoutvision:local:000000000000:model/m/1"), "arn %s",
          t_str(o, "ModelMetadata.ModelArn"));
    CHECK(!strcmp(t_str(o, "ModelMetadata.Description"), "first"), "description");
    CHECK(t_num(o, "ModelMetadata.CreationTimestamp") > 1.6e9, "timestamp");
    cJSON_Delete(o);

    long pid = worker_pid(1);
    CHECK(pid > 0, "the worker started");
    char msg[1024];
    CHECK(!strcmp(model_status(s, "m", "1", msg, sizeof msg), "TRAINING"), "alive worker: still TRAINING (%s)", msg);
    /* the model was given a snapshot of the dataset */
    char p[700];
    snprintf(p, sizeof p, "%s/projects/m/models/1/datasets/train", t_home);
    CHECK(access(p, F_OK) == 0, "snapshot at %s", p);
    EXPECT_ERR("ConflictException", "TRAINING", s, "DeleteModel", "{\"ProjectName\": \"m\", \"ModelVersion\": \"1\"}");
    EXPECT_ERR("ConflictException", "TRAINING", s, "StartModel",
               "{\"ProjectName\": \"m\", \"ModelVersion\": \"1\", \"MinInferenceUnits\": 1}");
    EXPECT_ERR("ValidationException", "not hosted", s, "StopModel", "{\"ProjectName\": \"m\", \"ModelVersion\": \"1\"}");
    EXPECT_ERR("ConflictException", "still has", s, "DeleteProject", "{\"ProjectName\": \"m\"}");

    if (pid > 0) kill((pid_t)pid, SIGKILL);
    const char *st = "";
    for (int i = 0; i < 100; i++) { /* the kernel releases the lock as the process dies */
        st = model_status(s, "m", "1", msg, sizeof msg);
        if (strcmp(st, "TRAINING")) break;
        usleep(20000);
    }
    CHECK(!strcmp(st, "TRAINING_FAILED"), "after kill -9: %s", st);
    CHECK(strstr(msg, "the training process ended unexpectedly") != NULL, "message: %s", msg);
    /* persisted, not just computed */
    snprintf(p, sizeof p, "%s/projects/m/models/1/model.json", t_home);
    char *text = NULL;
    FILE *f = fopen(p, "r");
    if (f) {
        text = calloc(1, 65536);
        if (fread(text, 1, 65535, f) == 0) text[0] = 0;
        fclose(f);
    }
    CHECK(text && strstr(text, "TRAINING_FAILED"), "model.json records TRAINING_FAILED");
    free(text);

    /* a worker that exits without recording anything is caught the same way */
    setenv("LOOKOUT_WORKER_BIN", quitter, 1);
    EXPECT_OK(o, s, "CreateModel", create_ok, "");
    CHECK(!strcmp(t_str(o, "ModelMetadata.ModelVersion"), "2"), "version 2: %s", t_str(o, "ModelMetadata.ModelVersion"));
    cJSON_Delete(o);
    st = "";
    for (int i = 0; i < 200; i++) {
        st = model_status(s, "m", "2", msg, sizeof msg);
        if (strcmp(st, "TRAINING")) break;
        usleep(20000);
    }
    CHECK(!strcmp(st, "TRAINING_FAILED") && strstr(msg, "ended unexpectedly"), "silent exit: %s %s", st, msg);

    /* a worker binary that does not exist: the model says so */
    setenv("LOOKOUT_WORKER_BIN", "/nonexistent/lookout", 1);
    EXPECT_OK(o, s, "CreateModel", create_ok, "");
    cJSON_Delete(o);
    for (int i = 0; i < 200; i++) {
        st = model_status(s, "m", "3", msg, sizeof msg);
        if (strcmp(st, "TRAINING")) break;
        usleep(20000);
    }
    CHECK(!strcmp(st, "TRAINING_FAILED") && strstr(msg, "cannot execute the training worker"), "missing worker binary: %s %s",
          st, msg);
    setenv("LOOKOUT_WORKER_BIN", quitter, 1);
}

static void test_versions_and_tokens(lo_service *s) {
    cJSON *a, *b, *o;
    EXPECT_OK(a, s, "CreateModel", create_ok, ", \"ClientToken\": \"tok-1\", \"Description\": \"d\"");
    const char *v = t_str(a, "ModelMetadata.ModelVersion");
    CHECK(!strcmp(v, "4"), "version 4: %s", v);
    EXPECT_OK(b, s, "CreateModel", create_ok, ", \"Description\": \"d\", \"ClientToken\": \"tok-1\"");
    if (a && b) {
        char *x = cJSON_PrintUnformatted(a), *y = cJSON_PrintUnformatted(b);
        CHECK(!strcmp(x, y), "replay gives the first ModelMetadata: %s vs %s", x, y);
        free(x);
        free(y);
    }
    cJSON_Delete(a);
    cJSON_Delete(b);
    EXPECT_ERR("ConflictException", "tok-1", s, "CreateModel", create_ok, ", \"Description\": \"other\", \"ClientToken\": \"tok-1\"");
    EXPECT_OK(o, s, "ListModels", "{\"ProjectName\": \"m\"}");
    CHECK(cJSON_GetArraySize(t_get(o, "Models")) == 4, "the replay started nothing: %d models",
          cJSON_GetArraySize(t_get(o, "Models")));
    cJSON_Delete(o);

    /* deleted versions are never handed out again, not even the highest */
    for (int i = 0; i < 300 && strcmp(model_status(s, "m", "4", NULL, 0), "TRAINING") == 0; i++) usleep(20000);
    EXPECT_OK(o, s, "DeleteModel", "{\"ProjectName\": \"m\", \"ModelVersion\": \"4\"}");
    CHECK(!strcmp(t_str(o, "ModelArn"), "arn:aws:lookoutvision:local:000000000000:model/m/4"), "delete arn %s",
          t_str(o, "ModelArn"));
    cJSON_Delete(o);
    EXPECT_ERR("ResourceNotFoundException", NULL, s, "DescribeModel", "{\"ProjectName\": \"m\", \"ModelVersion\": \"4\"}");
    EXPECT_OK(o, s, "CreateModel", create_ok, "");
    CHECK(!strcmp(t_str(o, "ModelMetadata.ModelVersion"), "5"), "after deleting 4 the next is 5: %s",
          t_str(o, "ModelMetadata.ModelVersion"));
    cJSON_Delete(o);
    EXPECT_OK(o, s, "DescribeModel", "{\"ProjectName\": \"m\", \"ModelVersion\": \"latest\"}");
    CHECK(!strcmp(t_str(o, "ModelDescription.ModelVersion"), "5"), "latest is 5");
    CHECK(!strcmp(t_str(o, "ModelDescription.OutputConfig.S3Location.Bucket"), "out-bkt"), "OutputConfig kept");
    cJSON_Delete(o);
}

/* 8 processes at the same instant: 8 distinct versions. The children exec this program afresh
 * (`child` mode): a forked copy of a process that already ran OpenMP regions may hang in libgomp. */
static char self_exe[600];

static int child_main(void) {
    char go;
    if (read(0, &go, 1) < 0) return 3; /* all children are released together at EOF */
    lo_service *cs = t_open();
    cJSON *o = t_call(cs, "CreateModel", create_ok, "");
    printf("%s", o ? t_str(o, "ModelMetadata.ModelVersion") : t_err.message);
    cJSON_Delete(o);
    lo_service_close(cs);
    return o ? 0 : 1;
}

static void test_concurrent_create(void) {
    enum { N = 8 };
    int fds[N][2];
    pid_t pids[N];
    int go[2];
    CHECK(pipe(go) == 0, "pipe");
    for (int i = 0; i < N; i++) {
        CHECK(pipe(fds[i]) == 0, "pipe");
        pids[i] = fork();
        if (pids[i] == 0) {
            dup2(go[0], 0);
            dup2(fds[i][1], 1);
            close(go[0]);
            close(go[1]); /* else this child's own copy keeps the start signal from ever coming */
            close(fds[i][0]);
            close(fds[i][1]);
            for (int j = 0; j < i; j++) close(fds[j][0]);
            execl(self_exe, self_exe, "child", (char *)NULL);
            _exit(127);
        }
        close(fds[i][1]);
    }
    close(go[0]);
    close(go[1]);
    long versions[N];
    for (int i = 0; i < N; i++) {
        char buf[2048] = {0};
        ssize_t n = read(fds[i][0], buf, sizeof buf - 1);
        close(fds[i][0]);
        int st;
        waitpid(pids[i], &st, 0);
        versions[i] = n > 0 ? strtol(buf, NULL, 10) : -1;
        CHECK(versions[i] >= 6 && versions[i] <= 13, "child %d got version %s", i, buf);
    }
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++) CHECK(versions[i] != versions[j], "versions %ld twice", versions[i]);
}

/* The HTTP server shares one lo_service between threads: creates from 6 threads at once. */
typedef struct {
    lo_service *s;
    long version;
    char err[2048];
} thread_job;

static void *create_thread(void *arg) {
    thread_job *j = arg;
    cJSON *in = cJSON_Parse("{\"ProjectName\": \"m\", \"OutputConfig\": {\"S3Location\": {\"Bucket\": \"out-bkt\"}}}");
    cJSON *out = NULL;
    lo_error e;
    if (lo_service_call(j->s, "CreateModel", in, NULL, 0, &out, &e) == 0)
        j->version = strtol(t_str(out, "ModelMetadata.ModelVersion"), NULL, 10);
    else
        snprintf(j->err, sizeof j->err, "%s", e.message);
    cJSON_Delete(out);
    /* and reads alongside */
    cJSON *ri = cJSON_Parse("{\"ProjectName\": \"m\"}");
    if (lo_service_call(j->s, "ListModels", ri, NULL, 0, &out, &e) != 0) snprintf(j->err, sizeof j->err, "%s", e.message);
    cJSON_Delete(out);
    cJSON_Delete(ri);
    cJSON_Delete(in);
    return NULL;
}

static void test_threads(lo_service *s) {
    enum { N = 6 };
    thread_job jobs[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        jobs[i] = (thread_job){.s = s, .version = -1};
        pthread_create(&th[i], NULL, create_thread, &jobs[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        CHECK(jobs[i].version > 13 && !jobs[i].err[0], "thread %d: version %ld %s", i, jobs[i].version, jobs[i].err);
    }
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++) CHECK(jobs[i].version != jobs[j].version, "version %ld twice", jobs[i].version);
}

static void test_list_and_tags(lo_service *s) {
    cJSON *o;
    int n = 0, pages = 0;
    long prev = 0;
    char token[256] = "";
    do {
        if (token[0]) EXPECT_OK(o, s, "ListModels", "{\"ProjectName\": \"m\", \"MaxResults\": 3, \"NextToken\": \"%s\"}", token);
        else EXPECT_OK(o, s, "ListModels", "{\"ProjectName\": \"m\", \"MaxResults\": 3}");
        if (!o) break;
        const cJSON *m;
        cJSON_ArrayForEach(m, t_get(o, "Models")) {
            long v = strtol(t_str(m, "ModelVersion"), NULL, 10);
            CHECK(v > prev, "ascending versions %ld after %ld", v, prev);
            prev = v;
            CHECK(t_get(m, "Status") && t_get(m, "ModelArn") && t_get(m, "CreationTimestamp"), "metadata members");
            CHECK(!t_get(m, "OutputConfig"), "ModelMetadata has no OutputConfig");
            n++;
        }
        snprintf(token, sizeof token, "%s", t_str(o, "NextToken"));
        cJSON_Delete(o);
    } while (token[0] && ++pages < 20);
    CHECK(n == 18, "18 models listed (1,2,3,5, 8 processes, 6 threads): %d", n);
    EXPECT_ERR("ResourceNotFoundException", NULL, s, "ListModels", "{\"ProjectName\": \"nope\"}");

    const char *arn = "arn:aws:lookoutvision:local:000000000000:model/m/1";
    EXPECT_OK(o, s, "ListTagsForResource", "{\"ResourceArn\": \"%s\"}", arn);
    CHECK(cJSON_GetArraySize(t_get(o, "Tags")) == 1 && !strcmp(t_str(cJSON_GetArrayItem(t_get(o, "Tags"), 0), "Key"), "line"),
          "tags from create-model");
    cJSON_Delete(o);
    EXPECT_OK(o, s, "TagResource", "{\"ResourceArn\": \"%s\", \"Tags\": [{\"Key\": \"line\", \"Value\": \"4\"}, "
              "{\"Key\": \"owner\", \"Value\": \"qa team\"}]}", arn);
    cJSON_Delete(o);
    EXPECT_OK(o, s, "ListTagsForResource", "{\"ResourceArn\": \"%s\"}", arn);
    const cJSON *tags = t_get(o, "Tags");
    CHECK(cJSON_GetArraySize(tags) == 2, "two tags");
    CHECK(!strcmp(t_str(cJSON_GetArrayItem(tags, 0), "Value"), "4"), "line overwritten");
    cJSON_Delete(o);
    EXPECT_OK(o, s, "UntagResource", "{\"ResourceArn\": \"%s\", \"TagKeys\": [\"line\", \"absent\"]}", arn);
    cJSON_Delete(o);
    EXPECT_OK(o, s, "ListTagsForResource", "{\"ResourceArn\": \"%s\"}", arn);
    CHECK(cJSON_GetArraySize(t_get(o, "Tags")) == 1 && !strcmp(t_str(cJSON_GetArrayItem(t_get(o, "Tags"), 0), "Key"), "owner"),
          "untagged");
    cJSON_Delete(o);
    EXPECT_OK(o, s, "TagResource", "{\"ResourceArn\": \"arn:aws:lookoutvision:local:000000000000:project/m\", "
              "\"Tags\": [{\"Key\": \"site\", \"Value\": \"\"}]}");
    cJSON_Delete(o);
    EXPECT_OK(o, s, "ListTagsForResource", "{\"ResourceArn\": \"arn:aws:lookoutvision:local:000000000000:project/m\"}");
    CHECK(cJSON_GetArraySize(t_get(o, "Tags")) == 1, "project tag");
    cJSON_Delete(o);
    EXPECT_ERR("ResourceNotFoundException", NULL, s, "ListTagsForResource",
               "{\"ResourceArn\": \"arn:aws:lookoutvision:local:000000000000:model/m/99\"}");
    EXPECT_ERR("ResourceNotFoundException", NULL, s, "ListTagsForResource",
               "{\"ResourceArn\": \"arn:aws:lookoutvision:us-east-1:111111111111:model/m/1\"}");
    EXPECT_ERR("ValidationException", "ResourceArn", s, "ListTagsForResource", "{\"ResourceArn\": \"arn:aws:s3:::bucket\"}");
    EXPECT_ERR("ValidationException", NULL, s, "ListTagsForResource",
               "{\"ResourceArn\": \"arn:aws:lookoutvision:local:000000000000:dataset/m\"}");
    EXPECT_ERR("ValidationException", "Tags", s, "TagResource", "{\"ResourceArn\": \"%s\"}", arn);
    EXPECT_ERR("ValidationException", "TagKeys", s, "UntagResource", "{\"ResourceArn\": \"%s\"}", arn);
    char many[16000];
    int k = snprintf(many, sizeof many, "[");
    for (int i = 0; i < 201; i++) k += snprintf(many + k, sizeof many - (size_t)k, "%s{\"Key\": \"k%d\", \"Value\": \"v\"}", i ? "," : "", i);
    snprintf(many + k, sizeof many - (size_t)k, "]");
    EXPECT_ERR("ValidationException", "200", s, "TagResource", "{\"ResourceArn\": \"%s\", \"Tags\": %s}", arn, many);
}

static void test_hosting_errors(lo_service *s) {
    cJSON *in = cJSON_Parse("{\"ProjectName\": \"m\", \"ModelVersion\": \"1\", \"ContentType\": \"image/png\"}");
    static const uint8_t png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    cJSON *out = NULL;
    lo_error e;
    CHECK(lo_service_call(s, "DetectAnomalies", in, png, sizeof png, &out, &e) != 0 &&
              !strcmp(e.type, "ValidationException") && strstr(e.message, "not hosted"),
          "detect on a model that is not hosted: %s %s", e.type, e.message);
    cJSON_ReplaceItemInObject(in, "ContentType", cJSON_CreateString("image/gif"));
    CHECK(lo_service_call(s, "DetectAnomalies", in, png, sizeof png, &out, &e) != 0 && strstr(e.message, "ContentType"),
          "gif refused: %s", e.message);
    cJSON_ReplaceItemInObject(in, "ContentType", cJSON_CreateString("image/jpeg"));
    CHECK(lo_service_call(s, "DetectAnomalies", in, png, sizeof png, &out, &e) != 0 && strstr(e.message, "not a JPEG"),
          "PNG bytes sent as JPEG: %s", e.message);
    CHECK(lo_service_call(s, "DetectAnomalies", in, NULL, 0, &out, &e) != 0 && strstr(e.message, "Body"),
          "no body: %s", e.message);
    cJSON_Delete(in);
    char path[4096];
    CHECK(lo_service_model_file(s, "m", "1", path, sizeof path, &e) != 0 && !strcmp(e.type, "ValidationException"),
          "no model file for a failed training: %s", e.message);
    CHECK(lo_service_model_file(s, "m", "99", path, sizeof path, &e) != 0 && !strcmp(e.type, "ResourceNotFoundException"),
          "no model file for a missing version: %s", e.message);
    EXPECT_ERR("ConflictException", "TRAINING_FAILED", s, "StartModel",
               "{\"ProjectName\": \"m\", \"ModelVersion\": \"1\", \"MinInferenceUnits\": 1}");
}

static void test_cleanup(lo_service *s) {
    cJSON *o;
    EXPECT_OK(o, s, "ListModels", "{\"ProjectName\": \"m\"}");
    const cJSON *m;
    cJSON_ArrayForEach(m, t_get(o, "Models")) {
        const char *v = t_str(m, "ModelVersion");
        for (int i = 0; i < 300 && !strcmp(model_status(s, "m", v, NULL, 0), "TRAINING"); i++) usleep(20000);
        cJSON *d;
        EXPECT_OK(d, s, "DeleteModel", "{\"ProjectName\": \"m\", \"ModelVersion\": \"%s\", \"ClientToken\": \"del-%s\"}", v, v);
        cJSON_Delete(d);
        /* a replayed delete answers as the first did */
        EXPECT_OK(d, s, "DeleteModel", "{\"ProjectName\": \"m\", \"ModelVersion\": \"%s\", \"ClientToken\": \"del-%s\"}", v, v);
        cJSON_Delete(d);
    }
    cJSON_Delete(o);
    EXPECT_OK(o, s, "DeleteDataset", "{\"ProjectName\": \"m\", \"DatasetType\": \"train\"}");
    cJSON_Delete(o);
    EXPECT_OK(o, s, "DeleteProject", "{\"ProjectName\": \"m\"}");
    cJSON_Delete(o);
    /* the project is gone, so is its version counter: a new project starts at 1 */
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "child")) return child_main();
    ssize_t n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    self_exe[n > 0 ? n : 0] = 0;
    t_setup("models");
    char folder[600];
    snprintf(folder, sizeof folder, "%s/images", t_home);
    lds_error derr;
    if (lds_demo_generate(folder, 4, 2, 3, &derr) != 0) {
        fprintf(stderr, "lds_demo_generate: %s\n", derr.message);
        return 1;
    }
    snprintf(sleeper, sizeof sleeper, "%s/sleeper.sh", t_home);
    snprintf(quitter, sizeof quitter, "%s/quitter.sh", t_home);
    /* $1=__worker $2=project $3=version; exec keeps the pid and the inherited lock (fd 3) */
    t_write_script(sleeper, "echo $$ > \"$LOOKOUT_HOME/worker-$3.pid\"; exec sleep 120");
    t_write_script(quitter, "exit 0");
    lo_service *s = t_open();
    cJSON *o;
    EXPECT_OK(o, s, "CreateProject", "{\"ProjectName\": \"m\"}");
    cJSON_Delete(o);
    test_validation(s);
    make_train_dataset(s, folder);
    test_crash_detection(s);
    test_versions_and_tokens(s);
    test_concurrent_create();
    test_threads(s);
    test_list_and_tags(s);
    test_hosting_errors(s);
    test_cleanup(s);
    lo_service_close(s);
    return t_finish();
}
