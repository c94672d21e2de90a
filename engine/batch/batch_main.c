/* batch_main.c — `lookout batch-detect`: options, the streaming loop (read a batch, score it on
 * all cores, append its lines), the progress line, the evaluation files and the JSON summary. */
#define _GNU_SOURCE
#include "batch.h"
#include "batch_evaluate.h"
#include "batch_internal.h"
#include "batch_output.h"
#include "cli/cli_internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BATCH_OP "BatchDetect" /* the operation name in error messages, AWS style */
#define BATCH_DEFAULT_SIZE 16
#define BATCH_MAX_SIZE 4096

typedef struct {
    const char *project, *version, *folder, *manifest, *output_config;
    int batch_size;
    char bucket[64];
    char prefix[1025];
} batch_args;

static int service_fail(const char *type, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int service_fail(const char *type, const char *fmt, ...) {
    lo_error e;
    memset(&e, 0, sizeof e);
    snprintf(e.type, sizeof e.type, "%s", type);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.message, sizeof e.message, fmt, ap);
    va_end(ap);
    return lo_cli_service_error(BATCH_OP, &e);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* S3Location={Bucket=b,Prefix=p/} or JSON, parsed and validated as create-model's OutputConfig. */
static int parse_output_config(batch_args *a) {
    const lo_cli_operation *op = lo_cli_find_operation("create-model");
    const lo_cli_member *mem = op ? lo_cli_find_member(op->input, "OutputConfig") : NULL;
    if (!mem) return service_fail("InternalServerException", "the OutputConfig shape is missing from the model");
    lo_sbuf err = {0};
    char *vals[1] = {(char *)a->output_config};
    cJSON *v = lo_cli_param_from_argv(mem->shape, "output-config", vals, 1, &err);
    if (!v) {
        int rc = lo_cli_param_error(lo_sbuf_str(&err));
        lo_sbuf_free(&err);
        return rc;
    }
    if (lo_cli_validate(mem->shape, v, "OutputConfig", &err) > 0) {
        if (err.len && err.s[err.len - 1] == '\n') err.s[--err.len] = 0;
        fprintf(stderr, "\nParameter validation failed:\n%s\n", lo_sbuf_str(&err));
        lo_sbuf_free(&err);
        cJSON_Delete(v);
        return LO_CLI_EXIT_USAGE;
    }
    lo_sbuf_free(&err);
    const cJSON *loc = cJSON_GetObjectItemCaseSensitive(v, "S3Location");
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(loc, "Bucket"), *p = cJSON_GetObjectItemCaseSensitive(loc, "Prefix");
    const char *bucket = cJSON_IsString(b) ? b->valuestring : "", *prefix = cJSON_IsString(p) ? p->valuestring : "";
    int rc = 0;
    size_t bl = strlen(bucket), pl = strlen(prefix);
    int ok = bl >= 3 && bl <= 63;
    for (size_t i = 0; ok && i < bl; i++) ok = isalnum((unsigned char)bucket[i]) || strchr(".-_", bucket[i]);
    if (!ok || !strcmp(bucket, "..")) {
        rc = service_fail("ValidationException", "invalid value \"%.80s\" for OutputConfig.S3Location.Bucket: must be "
                          "3 to 63 characters of [0-9A-Za-z.-_]", bucket);
        goto done;
    }
    ok = pl <= 1024;
    for (size_t i = 0; ok && i < pl; i++) {
        unsigned char c = (unsigned char)prefix[i];
        ok = isalnum(c) || strchr("!_.*'()-", c) || (i > 0 && c == '/');
    }
    /* "." and ".." segments would walk out of the bucket's folder in the mirror */
    for (const char *seg = prefix; ok && *seg;) {
        const char *end = strchr(seg, '/');
        size_t sl = end ? (size_t)(end - seg) : strlen(seg);
        if ((end && sl == 0) || (sl == 1 && seg[0] == '.') || (sl == 2 && seg[0] == '.' && seg[1] == '.')) ok = 0;
        if (!end) break;
        seg = end + 1;
    }
    if (!ok) {
        rc = service_fail("ValidationException", "invalid value \"%.80s\" for OutputConfig.S3Location.Prefix: at most "
                          "1024 characters matching ^([a-zA-Z0-9!_.*'()-][/a-zA-Z0-9!_.*'()-]*)?$, without empty, "
                          "'.' or '..' segments", prefix);
        goto done;
    }
    snprintf(a->bucket, sizeof a->bucket, "%s", bucket);
    snprintf(a->prefix, sizeof a->prefix, "%s", prefix);
done:
    cJSON_Delete(v);
    return rc;
}

static int parse_args(int argc, char **argv, batch_args *a) {
    memset(a, 0, sizeof *a);
    a->batch_size = BATCH_DEFAULT_SIZE;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char **slot = !strcmp(o, "--project-name")    ? &a->project
                            : !strcmp(o, "--model-version") ? &a->version
                            : !strcmp(o, "--image-folder")  ? &a->folder
                            : !strcmp(o, "--manifest")      ? &a->manifest
                            : !strcmp(o, "--output-config") ? &a->output_config
                                                            : NULL;
        int is_size = !strcmp(o, "--batch-size"), is_output = !strcmp(o, "--output");
        if (!slot && !is_size && !is_output) return lo_cli_usage_error("Unknown options: %s", o);
        if (i + 1 >= argc) return lo_cli_usage_error("argument %s: expected one argument", o);
        const char *v = argv[++i];
        if (slot) {
            *slot = v;
        } else if (is_output) {
            if (strcmp(v, "json")) return lo_cli_usage_error("argument --output: batch-detect prints json only, not '%s'", v);
        } else {
            char *end;
            errno = 0;
            long n = strtol(v, &end, 10);
            if (*v == 0 || *end || errno || n < 1 || n > BATCH_MAX_SIZE)
                return lo_cli_usage_error("argument --batch-size: invalid value '%s' (an integer from 1 to %d)", v,
                                          BATCH_MAX_SIZE);
            a->batch_size = (int)n;
        }
    }
    char missing[160] = "";
    if (!a->project) strcat(missing, ", --project-name");
    if (!a->version) strcat(missing, ", --model-version");
    if (!a->output_config) strcat(missing, ", --output-config");
    if (!a->folder && !a->manifest) strcat(missing, ", --image-folder or --manifest");
    if (missing[0]) return lo_cli_usage_error("the following arguments are required: %s", missing + 2);
    if (a->folder && a->manifest)
        return lo_cli_usage_error("argument --manifest: not allowed with argument --image-folder (give one input)");
    return parse_output_config(a);
}

/* The number of training images from the model's own EvaluationResult, when it is still there. */
static int64_t training_images(lo_service *s, const cJSON *desc) {
    const cJSON *loc = cJSON_GetObjectItemCaseSensitive(desc, "EvaluationResult");
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(loc, "Bucket"), *k = cJSON_GetObjectItemCaseSensitive(loc, "Key");
    if (!cJSON_IsString(b) || !cJSON_IsString(k)) return 0;
    char *root = realpath(lo_service_s3_root(s), NULL), *uri = NULL, msg[256];
    if (!root || asprintf(&uri, "s3://%s/%s", b->valuestring, k->valuestring) < 0) {
        free(root);
        return 0;
    }
    char *path = lo_batch_resolve_s3(root, uri, msg, sizeof msg);
    free(root);
    free(uri);
    size_t len = 0;
    char *text = path ? lo_cli_read_file(path, &len) : NULL;
    free(path);
    cJSON *doc = text ? cJSON_ParseWithLength(text, len) : NULL;
    free(text);
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "EvaluationDetails"),
                                                      "NumberOfTrainingImages");
    int64_t r = cJSON_IsNumber(n) ? (int64_t)n->valuedouble : 0;
    cJSON_Delete(doc);
    return r;
}

static void draw_progress(size_t done, size_t total, size_t errors, double elapsed) {
    char bar[31];
    int width = 30;
    double f = total ? (double)done / (double)total : 0;
    for (int i = 0; i < width; i++) bar[i] = total && i < (int)(f * width + 0.5) ? '#' : '.';
    bar[width] = 0;
    if (total) fprintf(stderr, "\r[%s] %zu/%zu images", bar, done, total);
    else fprintf(stderr, "\r%zu images", done);
    fprintf(stderr, "  %.1f img/s  %zu error%s   ", elapsed > 0 ? (double)done / elapsed : 0.0, errors,
            errors == 1 ? "" : "s");
    fflush(stderr);
}

static cJSON *s3_object(const char *bucket, const char *key) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "Bucket", bucket);
    cJSON_AddStringToObject(o, "Key", key);
    return o;
}

static void add_metric(cJSON *o, const char *name, double v) {
    if (v < 0) cJSON_AddNullToObject(o, name); /* undefined (one class only), as in EvaluationResult */
    else cJSON_AddNumberToObject(o, name, v);
}

int lo_batch_detect_main(int argc, char **argv) {
    batch_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc;

    lo_error err;
    memset(&err, 0, sizeof err);
    lo_service *s = lo_service_open(&err);
    if (!s) return lo_cli_service_error(BATCH_OP, &err);
    char model_path[4608], msg[4096];
    lo_batch_source src;
    memset(&src, 0, sizeof src);
    lo_batch_scorer sc;
    memset(&sc, 0, sizeof sc);
    lo_batch_writer w;
    memset(&w, 0, sizeof w);
    lo_batch_eval ev;
    memset(&ev, 0, sizeof ev);
    lo_batch_item *items = NULL;
    cJSON *desc = NULL, *summary = NULL;
    char *out_dir = NULL, *key = NULL, *result_key = NULL, *report_key = NULL;
    rc = LO_CLI_EXIT_SERVICE;

    if (lo_service_model_file(s, a.project, a.version, model_path, sizeof model_path, &err) != 0) {
        rc = lo_cli_service_error(BATCH_OP, &err);
        goto done;
    }
    {
        cJSON *in = cJSON_CreateObject();
        cJSON_AddStringToObject(in, "ProjectName", a.project);
        cJSON_AddStringToObject(in, "ModelVersion", a.version);
        int drc = lo_service_call(s, "DescribeModel", in, NULL, 0, &desc, &err);
        cJSON_Delete(in);
        if (drc != 0) {
            rc = lo_cli_service_error(BATCH_OP, &err);
            goto done;
        }
    }
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(desc, "ModelDescription");
    const cJSON *jv = cJSON_GetObjectItemCaseSensitive(md, "ModelVersion"), *ja = cJSON_GetObjectItemCaseSensitive(md, "ModelArn");
    const char *version = cJSON_IsString(jv) ? jv->valuestring : a.version;
    const char *arn = cJSON_IsString(ja) ? ja->valuestring : "";

    if ((a.folder ? lo_batch_source_folder(&src, a.folder, msg, sizeof msg)
                  : lo_batch_source_manifest(&src, a.manifest, lo_service_s3_root(s), msg, sizeof msg)) != 0) {
        rc = service_fail("ValidationException", "%s", msg);
        goto done;
    }
    if (lo_batch_scorer_open(&sc, model_path, a.batch_size, msg, sizeof msg) != 0) {
        rc = service_fail("InternalServerException", "%s", msg);
        goto done;
    }
    int segmentation = lo_model_is_segmentation(sc.models[0]);

    /* <Prefix>BatchDetect-<project>-<version>-<UTC time>.jsonl, the prefix concatenated as given */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char stamp[48];
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
    snprintf(stamp + strlen(stamp), sizeof stamp - strlen(stamp), "%03ldZ", ts.tv_nsec / 1000000);
    if (asprintf(&key, "%sBatchDetect-%s-%s-%s.jsonl", a.prefix, a.project, version, stamp) < 0 ||
        asprintf(&result_key, "%sBatchEvaluationResult-%s-%s-%s.json", a.prefix, a.project, version, stamp) < 0 ||
        asprintf(&report_key, "%sBatchEvaluationReport-%s-%s-%s.html", a.prefix, a.project, version, stamp) < 0 ||
        asprintf(&out_dir, "%s/%s/%s", lo_service_s3_root(s), a.bucket, key) < 0) {
        rc = service_fail("InternalServerException", "out of memory");
        goto done;
    }
    *strrchr(out_dir, '/') = 0;
    if (lo_batch_mkdirs(out_dir, msg, sizeof msg) != 0) {
        rc = service_fail("InternalServerException", "%s", msg);
        goto done;
    }
    {
        /* the bucket folder may be a symlink: the output must still land inside the mirror */
        char *root = realpath(lo_service_s3_root(s), NULL), *real = realpath(out_dir, NULL);
        size_t rl = root ? strlen(root) : 0;
        int inside = root && real && !strncmp(real, root, rl) && real[rl] == '/';
        if (!inside)
            snprintf(msg, sizeof msg, "the output folder %s resolves to %s, outside the S3 mirror %s", out_dir,
                     real ? real : "(unresolvable)", root ? root : lo_service_s3_root(s));
        free(root);
        free(real);
        if (!inside) {
            rc = service_fail("AccessDeniedException", "%s", msg);
            goto done;
        }
    }
    char final_path[4608];
    snprintf(final_path, sizeof final_path, "%s/%s/%s", lo_service_s3_root(s), a.bucket, key);
    if (lo_batch_writer_open(&w, final_path, msg, sizeof msg) != 0) {
        rc = service_fail("InternalServerException", "%s", msg);
        goto done;
    }

    items = calloc((size_t)a.batch_size, sizeof *items);
    if (!items) {
        rc = service_fail("InternalServerException", "out of memory for a batch of %d images", a.batch_size);
        goto done;
    }
    for (int i = 0; i < a.batch_size; i++) items[i].label = -1;
    int tty = isatty(STDERR_FILENO);
    double t0 = now_s();
    size_t n_done = 0, n_anom = 0, n_norm = 0, n_err = 0, n_labelled = 0;
    for (int more = 1; more;) {
        size_t n = 0;
        while (n < (size_t)a.batch_size) {
            int r = lo_batch_source_next(&src, &items[n], msg, sizeof msg);
            if (r < 0) {
                rc = service_fail("InternalServerException", "%s", msg);
                goto done;
            }
            if (r == 0) {
                more = 0;
                break;
            }
            n++;
        }
        lo_batch_score(&sc, items, n);
        for (size_t i = 0; i < n; i++) {
            char *line = lo_batch_line(&items[i], segmentation);
            int wr = line ? lo_batch_writer_line(&w, line, msg, sizeof msg) : -1;
            free(line);
            if (wr != 0) {
                rc = service_fail("InternalServerException", "%s", line ? msg : "out of memory");
                goto done;
            }
            if (items[i].error) n_err++;
            else if (items[i].res.is_anomalous) n_anom++;
            else n_norm++;
            if (!items[i].error && items[i].label >= 0) n_labelled++;
            if (lo_batch_eval_add(&ev, &items[i]) != 0) {
                rc = service_fail("InternalServerException", "out of memory keeping the scores");
                goto done;
            }
            lo_batch_item_clear(&items[i]);
        }
        n_done += n;
        if (tty) draw_progress(n_done, src.manifest ? 0 : src.n, n_err, now_s() - t0);
    }
    if (tty) fputc('\n', stderr);
    if (lo_batch_writer_commit(&w, msg, sizeof msg) != 0) {
        rc = service_fail("InternalServerException", "%s", msg);
        goto done;
    }
    double elapsed = now_s() - t0;

    summary = cJSON_CreateObject();
    cJSON_AddStringToObject(summary, "ProjectName", a.project);
    cJSON_AddStringToObject(summary, "ModelVersion", version);
    cJSON_AddNumberToObject(summary, "NumberOfImages", (double)n_done);
    cJSON_AddNumberToObject(summary, "NumberOfAnomalous", (double)n_anom);
    cJSON_AddNumberToObject(summary, "NumberOfNormal", (double)n_norm);
    cJSON_AddNumberToObject(summary, "NumberOfErrors", (double)n_err);
    cJSON_AddNumberToObject(summary, "NumberOfLabeledImages", (double)n_labelled);
    if (src.n_skipped) cJSON_AddNumberToObject(summary, "NumberOfSkippedFiles", (double)src.n_skipped);
    cJSON_AddItemToObject(summary, "Output", s3_object(a.bucket, key));
    if (ev.n > 0) {
        char rpath[4608], hpath[4608];
        snprintf(rpath, sizeof rpath, "%s/%s/%s", lo_service_s3_root(s), a.bucket, result_key);
        snprintf(hpath, sizeof hpath, "%s/%s/%s", lo_service_s3_root(s), a.bucket, report_key);
        char job[64];
        snprintf(job, sizeof job, "batch-detect-%s", stamp);
        lev_details d = {.project_name = a.project, .model_version = version, .model_arn = arn,
                         .end_time = (int64_t)time(NULL), .n_training_images = training_images(s, md),
                         .n_testing_images = (int64_t)ev.n, .job_name = job};
        lev_metrics m;
        if (lo_batch_eval_write(&ev, &d, rpath, hpath, &m, msg, sizeof msg) != 0) {
            rc = service_fail("InternalServerException", "%s", msg);
            goto done;
        }
        cJSON_AddItemToObject(summary, "EvaluationResult", s3_object(a.bucket, result_key));
        cJSON_AddItemToObject(summary, "EvaluationReport", s3_object(a.bucket, report_key));
        cJSON *mt = cJSON_AddObjectToObject(summary, "Metrics");
        cJSON_AddNumberToObject(mt, "Precision", m.precision);
        cJSON_AddNumberToObject(mt, "Recall", m.recall);
        cJSON_AddNumberToObject(mt, "F1Score", m.f1);
        add_metric(mt, "ROCAUC", m.roc_auc);
        add_metric(mt, "AveragePrecision", m.average_precision);
        cJSON *cm = cJSON_AddObjectToObject(mt, "ConfusionMatrix");
        cJSON_AddNumberToObject(cm, "TruePositives", (double)m.tp);
        cJSON_AddNumberToObject(cm, "FalsePositives", (double)m.fp);
        cJSON_AddNumberToObject(cm, "TrueNegatives", (double)m.tn);
        cJSON_AddNumberToObject(cm, "FalseNegatives", (double)m.fn);
        if (m.note[0]) cJSON_AddStringToObject(mt, "Note", m.note);
    }
    cJSON_AddNumberToObject(summary, "Workers", sc.n_workers);
    cJSON_AddNumberToObject(summary, "ElapsedSeconds", (double)(int64_t)(elapsed * 1000) / 1000.0);
    lo_sbuf out = {0};
    lo_cli_format_json(summary, &out);
    fputs(lo_sbuf_str(&out), stdout);
    lo_sbuf_free(&out);
    rc = 0;
done:
    lo_batch_writer_abort(&w);
    if (items)
        for (int i = 0; i < a.batch_size; i++) lo_batch_item_clear(&items[i]);
    free(items);
    lo_batch_eval_free(&ev);
    lo_batch_scorer_close(&sc);
    lo_batch_source_close(&src);
    cJSON_Delete(desc);
    cJSON_Delete(summary);
    free(out_dir);
    free(key);
    free(result_key);
    free(report_key);
    lo_service_close(s);
    return rc;
}
