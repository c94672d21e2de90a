/* cli_demo.c — `lookout demo` (the README's `make demo`): the whole Lookout for Vision flow on
 * the project's own deterministic synthetic dataset, printed as the commands a user would type. */
#define _GNU_SOURCE
#include "cli_internal.h"
#include "dataset.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEMO_NORMAL 60
#define DEMO_ANOMALY 30
#define DEMO_SEED 20201120u

static int call(lo_service *s, const char *op, cJSON *in, cJSON **out) {
    lo_error err;
    memset(&err, 0, sizeof err);
    int rc = lo_service_call(s, op, in, NULL, 0, out, &err);
    if (rc != 0) return lo_cli_service_error(op, &err);
    return 0;
}

static void print_json(int shape, const cJSON *v) {
    cJSON *shown = lo_cli_output_prepare(shape, v);
    lo_sbuf out = {0};
    lo_cli_format_json(shown, &out);
    fputs(lo_sbuf_str(&out), stdout);
    fflush(stdout);
    lo_sbuf_free(&out);
    cJSON_Delete(shown);
}

static int output_shape(const char *cli_name) {
    const lo_cli_operation *op = lo_cli_find_operation(cli_name);
    return op ? op->output : -1;
}

int lo_cli_demo_main(int argc, char **argv) {
    (void)argv;
    if (argc > 1) return lo_cli_usage_error("demo takes no options (see `lookout help demo`)");
    lo_error err;
    memset(&err, 0, sizeof err);
    lo_service *s = lo_service_open(&err);
    if (!s) return lo_cli_service_error("CreateProject", &err);
    int rc = 0;
    cJSON *out = NULL, *final = NULL;
    char folder[4096];
    snprintf(folder, sizeof folder, "%s/demo/dataset", lo_service_home(s));
    struct stat st;
    if (stat(folder, &st) != 0) {
        char parent[4096];
        snprintf(parent, sizeof parent, "%s/demo", lo_service_home(s));
        if (mkdir(parent, 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, "lookout demo: cannot create %s: %s\n", parent, strerror(errno));
            rc = LO_CLI_EXIT_OTHER;
            goto done;
        }
        printf("Generating the demo dataset (%d normal + %d anomalous images) in %s\n", DEMO_NORMAL, DEMO_ANOMALY,
               folder);
        fflush(stdout);
        lds_error derr;
        if (lds_demo_generate(folder, DEMO_NORMAL, DEMO_ANOMALY, DEMO_SEED, &derr) != 0) {
            fprintf(stderr, "lookout demo: %s\n", derr.message);
            rc = LO_CLI_EXIT_OTHER;
            goto done;
        }
    } else {
        printf("Using the demo dataset in %s\n", folder);
    }

    /* a fresh project each run: demo, demo-2, demo-3, ... */
    char project[64] = "demo";
    for (int k = 2;; k++) {
        cJSON *in = cJSON_CreateObject();
        cJSON_AddStringToObject(in, "ProjectName", project);
        memset(&err, 0, sizeof err);
        int crc = lo_service_call(s, "CreateProject", in, NULL, 0, &out, &err);
        cJSON_Delete(in);
        if (crc == 0) break;
        if (strcmp(err.type, "ConflictException") != 0 || k > 1000) {
            rc = lo_cli_service_error("CreateProject", &err);
            goto done;
        }
        snprintf(project, sizeof project, "demo-%d", k);
    }
    printf("\n$ lookout create-project --project-name %s\n", project);
    print_json(output_shape("create-project"), out);
    cJSON_Delete(out);
    out = NULL;

    printf("\n$ lookout create-dataset --project-name %s --dataset-type train \\\n"
           "      --dataset-source ImageFolder={Path=%s}\n", project, folder);
    {
        cJSON *in = cJSON_CreateObject();
        cJSON_AddStringToObject(in, "ProjectName", project);
        cJSON_AddStringToObject(in, "DatasetType", "train");
        cJSON *src = cJSON_AddObjectToObject(in, "DatasetSource");
        cJSON *imf = cJSON_AddObjectToObject(src, "ImageFolder");
        cJSON_AddStringToObject(imf, "Path", folder);
        rc = call(s, "CreateDataset", in, &out);
        cJSON_Delete(in);
        if (rc) goto done;
        print_json(output_shape("create-dataset"), out);
        cJSON_Delete(out);
        out = NULL;
    }

    printf("\n$ lookout create-model --project-name %s \\\n"
           "      --output-config S3Location={Bucket=lookout-demo,Prefix=demo/}\n", project);
    char version[32] = "";
    {
        cJSON *in = cJSON_CreateObject();
        cJSON_AddStringToObject(in, "ProjectName", project);
        cJSON *oc = cJSON_AddObjectToObject(in, "OutputConfig");
        cJSON *loc = cJSON_AddObjectToObject(oc, "S3Location");
        cJSON_AddStringToObject(loc, "Bucket", "lookout-demo");
        cJSON_AddStringToObject(loc, "Prefix", "demo/");
        lo_cli_fill_idempotency(lo_cli_find_operation("create-model")->input, in);
        rc = call(s, "CreateModel", in, &out);
        cJSON_Delete(in);
        if (rc) goto done;
        print_json(output_shape("create-model"), out);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(out, "ModelMetadata"),
                                                          "ModelVersion");
        if (cJSON_IsString(v)) snprintf(version, sizeof version, "%s", v->valuestring);
        cJSON_Delete(out);
        out = NULL;
        if (!*version) {
            fprintf(stderr, "lookout demo: CreateModel returned no ModelVersion\n");
            rc = LO_CLI_EXIT_OTHER;
            goto done;
        }
    }

    printf("\n$ lookout wait model-trained --project-name %s --model-version %s\n", project, version);
    fflush(stdout);
    rc = lo_cli_wait_trained(s, project, version, 1.0, 86400, isatty(STDERR_FILENO), &final);
    if (final) {
        printf("\n$ lookout describe-model --project-name %s --model-version %s\n", project, version);
        print_json(output_shape("describe-model"), final);
    }
    if (rc) goto done;

    printf("\nEvaluation files (the local S3 mirror, $LOOKOUT_S3_ROOT = %s):\n", lo_service_s3_root(s));
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(final, "ModelDescription");
    const char *which[] = {"EvaluationResult", "EvaluationManifest"};
    for (int i = 0; i < 2; i++) {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(md, which[i]);
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "Bucket");
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "Key");
        if (cJSON_IsString(b) && cJSON_IsString(k))
            printf("  %-19s s3://%s/%s\n  %-19s %s/%s/%s\n", which[i], b->valuestring, k->valuestring, "",
                   lo_service_s3_root(s), b->valuestring, k->valuestring);
    }
    printf("  %-19s %s/lookout-demo/demo/ (reports and extra files beside them)\n", "all outputs",
           lo_service_s3_root(s));
done:
    cJSON_Delete(out);
    cJSON_Delete(final);
    lo_service_close(s);
    return rc;
}
