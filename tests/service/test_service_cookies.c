/* Real data through the service: ../shared/data/cookies (train and test folders as the train and
 * test datasets: refused with the counts, as cookies' test split has 8 anomalies; then the train
 * folder alone, split internally), create-model with the real worker, TRAINED with Performance and the evaluation
 * files, start, detect a test image of each class, stop, delete. Slow: labelled so. */
#include "svc_test.h"

#include <sys/time.h>

static double now_s(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

static cJSON *detect_file(lo_service *s, const char *path, lo_error *e) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        lo_error_set(e, "ValidationException", "cannot open %s", path);
        return NULL;
    }
    static uint8_t buf[8 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    cJSON *in = cJSON_Parse("{\"ProjectName\": \"cookies\", \"ModelVersion\": \"latest\", \"ContentType\": \"image/jpeg\"}");
    cJSON *out = NULL;
    int rc = lo_service_call(s, "DetectAnomalies", in, buf, n, &out, e);
    cJSON_Delete(in);
    return rc == 0 ? out : NULL;
}

int main(int argc, char **argv) {
    if (argc < 2 || !getenv("LOOKOUT_WORKER_BIN")) {
        fprintf(stderr, "usage: LOOKOUT_WORKER_BIN=lookout %s SHARED_DATA_DIR\n", argv[0]);
        return 1;
    }
    char train[1024], test[1024];
    snprintf(train, sizeof train, "%s/cookies/train", argv[1]);
    snprintf(test, sizeof test, "%s/cookies/test", argv[1]);
    if (access(train, F_OK) != 0) {
        fprintf(stderr, "no cookies data at %s\n", train);
        return 1;
    }
    t_setup("cookies");
    lo_service *s = t_open();
    cJSON *o;
    EXPECT_OK(o, s, "CreateProject", "{\"ProjectName\": \"cookies\"}");
    cJSON_Delete(o);
    static const char *const types[] = {"train", "test"};
    const char *dirs[] = {train, test};
    for (int i = 0; i < 2; i++) {
        EXPECT_OK(o, s, "CreateDataset", "{\"ProjectName\": \"cookies\", \"DatasetType\": \"%s\", "
                  "\"DatasetSource\": {\"ImageFolder\": {\"Path\": \"%s\"}}}", types[i], dirs[i]);
        CHECK(o && !strcmp(t_str(o, "DatasetMetadata.Status"), "CREATE_COMPLETE"), "%s import: %s", types[i],
              t_str(o, "DatasetMetadata.StatusMessage"));
        cJSON_Delete(o);
    }
    EXPECT_OK(o, s, "DescribeDataset", "{\"ProjectName\": \"cookies\", \"DatasetType\": \"train\"}");
    CHECK(t_num(o, "DatasetDescription.ImageStats.Normal") == 31 && t_num(o, "DatasetDescription.ImageStats.Anomaly") == 32,
          "train counts 31 + 32");
    cJSON_Delete(o);
    EXPECT_OK(o, s, "DescribeDataset", "{\"ProjectName\": \"cookies\", \"DatasetType\": \"test\"}");
    CHECK(t_num(o, "DatasetDescription.ImageStats.Normal") == 14 && t_num(o, "DatasetDescription.ImageStats.Anomaly") == 8,
          "test counts 14 + 8");
    cJSON_Delete(o);

    /* cookies' own test split has 8 anomalies, below Lookout's 10: the service says so with counts */
    EXPECT_OK(o, s, "CreateModel", "{\"ProjectName\": \"cookies\", \"OutputConfig\": {\"S3Location\": "
              "{\"Bucket\": \"factory\", \"Prefix\": \"cookies/\"}}}");
    cJSON_Delete(o);
    cJSON *d = NULL;
    double t0 = now_s();
    for (;;) {
        d = t_call(s, "DescribeModel", "{\"ProjectName\": \"cookies\", \"ModelVersion\": \"1\"}");
        if (!d || strcmp(t_str(d, "ModelDescription.Status"), "TRAINING") != 0 || now_s() - t0 > 600) break;
        cJSON_Delete(d);
        sleep(1);
    }
    CHECK(d && !strcmp(t_str(d, "ModelDescription.Status"), "TRAINING_FAILED") &&
              strstr(t_str(d, "ModelDescription.StatusMessage"), "8"),
          "separate test set of 14 + 8: %s: %s", d ? t_str(d, "ModelDescription.Status") : "?",
          d ? t_str(d, "ModelDescription.StatusMessage") : t_err.message);
    if (d) printf("cookies v1: %s\n", t_str(d, "ModelDescription.StatusMessage"));
    cJSON_Delete(d);

    /* one dataset of 31 + 32, split internally: trains */
    EXPECT_OK(o, s, "DeleteDataset", "{\"ProjectName\": \"cookies\", \"DatasetType\": \"test\"}");
    cJSON_Delete(o);
    /* more time if this machine is too loaded to train within the first budget */
    static const char *const budgets[] = {"60", "300"};
    long v = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        setenv("LOOKOUT_TRAIN_TIME_BUDGET", budgets[attempt], 1);
        t0 = now_s();
        EXPECT_OK(o, s, "CreateModel", "{\"ProjectName\": \"cookies\", \"OutputConfig\": {\"S3Location\": "
                  "{\"Bucket\": \"factory\", \"Prefix\": \"cookies/\"}}, \"Tags\": [{\"Key\": \"line\", \"Value\": \"1\"}]}");
        v = o ? strtol(t_str(o, "ModelMetadata.ModelVersion"), NULL, 10) : 0;
        CHECK(v == 2 + attempt, "version %ld", v);
        cJSON_Delete(o);
        for (;;) {
            d = t_call(s, "DescribeModel", "{\"ProjectName\": \"cookies\", \"ModelVersion\": \"%ld\"}", v);
            if (!d || strcmp(t_str(d, "ModelDescription.Status"), "TRAINING") != 0 || now_s() - t0 > 1200) break;
            cJSON_Delete(d);
            sleep(1);
        }
        if (!d || !strstr(t_str(d, "ModelDescription.StatusMessage"), "time budget") || attempt == 1) break;
        cJSON_Delete(d);
        d = NULL;
    }
    CHECK(d && !strcmp(t_str(d, "ModelDescription.Status"), "TRAINED"), "cookies model: %s: %s",
          d ? t_str(d, "ModelDescription.Status") : "?", d ? t_str(d, "ModelDescription.StatusMessage") : t_err.message);
    if (d) {
        printf("cookies v%ld: %s after %.0f s; F1 %.3f recall %.3f precision %.3f\n", v, t_str(d, "ModelDescription.Status"),
               now_s() - t0, t_num(d, "ModelDescription.Performance.F1Score"),
               t_num(d, "ModelDescription.Performance.Recall"), t_num(d, "ModelDescription.Performance.Precision"));
        char p[2048];
        snprintf(p, sizeof p, "%s/factory/cookies/EvaluationResult-cookies-%ld.json", lo_service_s3_root(s), v);
        CHECK(access(p, F_OK) == 0, "%s", p);
        snprintf(p, sizeof p, "%s/factory/cookies/EvaluationManifest-cookies-%ld.json", lo_service_s3_root(s), v);
        CHECK(access(p, F_OK) == 0, "%s", p);
    }
    cJSON_Delete(d);

    EXPECT_OK(o, s, "StartModel", "{\"ProjectName\": \"cookies\", \"ModelVersion\": \"%ld\", \"MinInferenceUnits\": 1}", v);
    CHECK(o && !strcmp(t_str(o, "Status"), "HOSTED"), "hosted");
    cJSON_Delete(o);
    static const char *const imgs[] = {"test/normal/test-normal-1.jpg", "test/anomaly/test-anomaly-1.jpg"};
    for (int i = 0; i < 2; i++) {
        char p[1200];
        snprintf(p, sizeof p, "%s/cookies/%s", argv[1], imgs[i]);
        lo_error e;
        o = detect_file(s, p, &e);
        CHECK(o != NULL, "detect %s: %s", imgs[i], e.message);
        if (o) {
            char *text = cJSON_PrintUnformatted(t_get(o, "DetectAnomalyResult"));
            if (text && strlen(text) > 300) strcpy(text + 290, "...");
            printf("%s: %s\n", imgs[i], text ? text : "");
            free(text);
        }
        cJSON_Delete(o);
    }
    EXPECT_OK(o, s, "StopModel", "{\"ProjectName\": \"cookies\", \"ModelVersion\": \"%ld\"}", v);
    cJSON_Delete(o);
    for (long k = 1; k <= v; k++) {
        EXPECT_OK(o, s, "DeleteModel", "{\"ProjectName\": \"cookies\", \"ModelVersion\": \"%ld\"}", k);
        cJSON_Delete(o);
    }
    EXPECT_OK(o, s, "DeleteDataset", "{\"ProjectName\": \"cookies\", \"DatasetType\": \"train\"}");
    cJSON_Delete(o);
    EXPECT_OK(o, s, "DeleteProject", "{\"ProjectName\": \"cookies\"}");
    cJSON_Delete(o);
    lo_service_close(s);
    return t_finish();
}
