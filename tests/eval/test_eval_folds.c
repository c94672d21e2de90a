/* test_eval_folds.c — the k-fold results in the EvaluationResult and the report, and the class map
 * of segmentation lines in the EvaluationManifest, on hand-made folds:
 *   test_eval_folds OUT_DIR */
#include <eval.h>

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int failures, checks;

#define CHECK(cond, ...)                                                                                                \
    do {                                                                                                               \
        checks++;                                                                                                      \
        if (!(cond)) {                                                                                                 \
            failures++;                                                                                                \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                                       \
            fprintf(stderr, __VA_ARGS__);                                                                              \
            fputc('\n', stderr);                                                                                       \
        }                                                                                                              \
    } while (0)

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s)
        s[n] = 0;
    fclose(f);
    return s;
}

static const cJSON *path_get(const cJSON *o, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);
    return b ? cJSON_GetObjectItemCaseSensitive(x, b) : x;
}

static double num(const cJSON *o, const char *a, const char *b)
{
    const cJSON *x = path_get(o, a, b);
    return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

/* Two completed folds, one failed: the summary is over the completed ones, the failed one says why. */
static void folds_in_result_and_report(const char *dir)
{
    const float s1[] = {0.9f, 0.8f, 0.3f, 0.2f, 0.6f, 0.1f};
    const uint8_t l1[] = {1, 1, 0, 0, 0, 1}; /* at 0.5: tp 2, fp 1, fn 1 -> F1 2/3 */
    const float s2[] = {0.7f, 0.9f, 0.2f, 0.4f, 0.1f, 0.3f};
    const uint8_t l2[] = {1, 1, 0, 0, 0, 0}; /* all right: F1 1 */
    lev_fold_run runs[3];
    memset(runs, 0, sizeof runs);
    lev_error err = {{0}};
    CHECK(lev_image_metrics(s1, l1, 6, 0.5f, 0, 0, &runs[0].m, &err) == 0, "%s", err.message);
    CHECK(lev_image_metrics(s2, l2, 6, 0.5f, 0, 0, &runs[2].m, &err) == 0, "%s", err.message);
    runs[0].ok = runs[2].ok = 1;
    runs[0].n_train = runs[1].n_train = runs[2].n_train = 12;
    runs[0].n_test = runs[1].n_test = runs[2].n_test = 6;
    snprintf(runs[1].error, sizeof runs[1].error, "training failed: the <test> dataset has 3 normal images");
    lev_metrics done[2] = {runs[0].m, runs[2].m};
    lev_fold_summary sum;
    lev_folds_summarize(done, 2, &sum);

    lev_details d = {.project_name = "p", .model_version = "1", .model_arn = "arn:x", .end_time = 1700000000,
                     .n_training_images = 18, .n_testing_images = 6, .folds = &sum, .fold_runs = runs,
                     .n_fold_runs = 3, .fold_seed = 42, .fold_budget_s = 100};
    char path[4096];
    snprintf(path, sizeof path, "%s/EvaluationResult-p-1.json", dir);
    CHECK(lev_write_result(path, &d, &runs[0].m, NULL, &err) == 0, "%s", err.message);
    char *text = slurp(path);
    cJSON *doc = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *cv = path_get(path_get(doc, "LookoutExtensions", NULL), "CrossValidation", NULL);
    CHECK(cJSON_IsObject(cv), "CrossValidation present");
    CHECK(num(cv, "Folds", NULL) == 2 && num(cv, "FoldsRequested", NULL) == 3 && num(cv, "FoldsCompleted", NULL) == 2,
          "fold counts");
    double f1a = 2.0 / 3.0, f1b = 1.0, mean = (f1a + f1b) / 2, sd = sqrt(((f1a - mean) * (f1a - mean) +
                                                                          (f1b - mean) * (f1b - mean)) / 1);
    CHECK(fabs(num(cv, "F1Score", "Mean") - mean) < 1e-12, "F1 mean %g, want %g", num(cv, "F1Score", "Mean"), mean);
    CHECK(fabs(num(cv, "F1Score", "StandardDeviation") - sd) < 1e-12, "F1 SD %g, want %g (sample SD)",
          num(cv, "F1Score", "StandardDeviation"), sd);
    const cJSON *fr = cJSON_GetObjectItemCaseSensitive(cv, "FoldResults");
    CHECK(cJSON_GetArraySize(fr) == 3, "3 fold results");
    const cJSON *f1 = cJSON_GetArrayItem(fr, 0), *f2 = cJSON_GetArrayItem(fr, 1);
    CHECK(num(f1, "Fold", NULL) == 1 && fabs(num(f1, "F1Score", NULL) - f1a) < 1e-12 &&
              num(f1, "ConfusionMatrix", "FalsePositives") == 1,
          "fold 1 values");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(f2, "Status");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(f2, "StatusMessage");
    CHECK(cJSON_IsString(st) && !strcmp(st->valuestring, "FAILED") && cJSON_IsString(msg) &&
              strstr(msg->valuestring, "3 normal images") && !cJSON_GetObjectItemCaseSensitive(f2, "F1Score"),
          "the failed fold says why and has no numbers");
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(cv, "Seed");
    CHECK(cJSON_IsString(seed) && !strcmp(seed->valuestring, "42"), "seed as a string");
    cJSON_Delete(doc);

    snprintf(path, sizeof path, "%s/EvaluationReport-p-1.html", dir);
    lev_prediction p[6];
    memset(p, 0, sizeof p);
    for (int i = 0; i < 6; i++) {
        p[i].score = s1[i];
        p[i].is_anomaly_truth = l1[i];
        p[i].predicted_anomalous = s1[i] >= 0.5f;
        p[i].confidence = 0.5;
    }
    CHECK(lev_write_report(path, &d, &runs[0].m, NULL, p, 6, 0.5f, &err) == 0, "%s", err.message);
    text = slurp(path);
    CHECK(text && strstr(text, "Cross-validation (3 folds, 2 completed)"), "report heading");
    CHECK(text && strstr(text, "failed: training failed: the &lt;test&gt; dataset"), "report: failed fold, escaped");
    CHECK(text && strstr(text, "<tr><td>1</td><td>12</td><td>6</td><td>0.5</td><td>0.667</td>"), "report: fold 1 row");
    free(text);

    /* no fold completed: null means, not a made-up 0 */
    lev_folds_summarize(done, 0, &sum);
    runs[0].ok = runs[2].ok = 0;
    snprintf(path, sizeof path, "%s/EvaluationResult-p-2.json", dir);
    CHECK(lev_write_result(path, &d, &done[0], NULL, &err) == 0, "%s", err.message);
    text = slurp(path);
    doc = text ? cJSON_Parse(text) : NULL;
    free(text);
    cv = path_get(path_get(doc, "LookoutExtensions", NULL), "CrossValidation", NULL);
    CHECK(cJSON_IsNull(path_get(path_get(cv, "F1Score", NULL), "Mean", NULL)) && num(cv, "FoldsCompleted", NULL) == 0,
          "all folds failed: Mean null");
    cJSON_Delete(doc);
}

/* Segmentation lines carry the class map of the predicted masks: BACKGROUND first, #rrggbb each. */
static void class_map_in_manifest(const char *dir)
{
    const char *names[] = {"background", "scratch", "dent"};
    const char *colors[] = {"#000000", "#ff0000", "#00ff00"};
    lev_details d = {.project_name = "p", .model_version = "1", .model_arn = "arn:x", .end_time = 1700000000,
                     .n_classes = 3, .class_names = names, .class_colors = colors};
    lev_prediction p = {.json_line = "{\"source-ref\":\"s3://b/a.png\"}", .score = 0.9f, .confidence = 0.8,
                        .is_anomaly_truth = 1, .predicted_anomalous = 1, .predicted_mask_ref = "s3://b/m/a.png"};
    char path[4096];
    snprintf(path, sizeof path, "%s/EvaluationManifest-p-1.json", dir);
    lev_error err = {{0}};
    CHECK(lev_write_manifest(path, &d, &p, 1, &err) == 0, "%s", err.message);
    char *text = slurp(path);
    cJSON *line = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *map = path_get(path_get(line, "anomaly-mask-ref-detected-metadata", NULL), "internal-color-map", NULL);
    CHECK(cJSON_GetArraySize(map) == 3, "3 classes in the map");
    const char *want_names[] = {"BACKGROUND", "scratch", "dent"};
    for (int c = 0; c < 3; c++) {
        char key[4];
        snprintf(key, sizeof key, "%d", c);
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(map, key);
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(e, "class-name");
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(e, "hex-color");
        CHECK(cJSON_IsString(n) && !strcmp(n->valuestring, want_names[c]) && cJSON_IsString(h) &&
                  !strcmp(h->valuestring, colors[c]),
              "class %d in the map", c);
    }
    cJSON_Delete(line);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
        return 2;
    }
    mkdir(argv[1], 0755);
    folds_in_result_and_report(argv[1]);
    class_map_in_manifest(argv[1]);
    printf("%d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
