/* service.c — opening the service (where state lives) and routing an operation name to its
 * handler. The handlers live in projects.c, datasets.c, models.c, hosting.c and tags.c. */
#include "svc_internal.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lo_error_set(lo_error *err, const char *type, const char *fmt, ...) {
    if (!err) return;
    static const struct { const char *type; int status; } map[] = {
        {"ValidationException", 400},           {"AccessDeniedException", 403},
        {"ResourceNotFoundException", 404},     {"ConflictException", 409},
        {"ServiceQuotaExceededException", 402}, {"ThrottlingException", 429},
        {"InternalServerException", 500},
    };
    svc_fmt(err->type, sizeof err->type, "%s", type);
    err->http_status = 500;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(map[i].type, type)) err->http_status = map[i].status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

static int env_path(const char *name, const char *fallback, char *out, lo_error *err) {
    const char *v = getenv(name);
    if (!v || !*v) v = fallback;
    if (!v) {
        lo_error_set(err, "InternalServerException", "neither %s nor HOME is set: set %s to the state folder", name,
                     name);
        return -1;
    }
    if (strlen(v) > 2048) {
        lo_error_set(err, "ValidationException", "%s is too long (%zu characters)", name, strlen(v));
        return -1;
    }
    if (svc_mkdirs(v, err)) return -1;
    /* Absolute and symlink-free: the worker runs elsewhere and mirror checks compare prefixes. */
    char real[PATH_MAX];
    if (!realpath(v, real) || strlen(real) > 2048) {
        lo_error_set(err, "InternalServerException", "cannot resolve %s=%s: %s", name, v,
                     strlen(v) > 2048 ? "longer than 2048 bytes" : strerror(errno));
        return -1;
    }
    svc_fmt(out, SVC_PATH_MAX, "%s", real);
    return 0;
}

/* trash/<pid>.<rand> is what a delete renamed away; if that process died before removing it,
 * finish the job (never touch a living process's entry). */
static void sweep_trash(const char *home) {
    char dir[SVC_PATH_MAX + 16];
    svc_fmt(dir, sizeof dir, "%s/trash", home);
    char **names;
    size_t n;
    if (svc_list_names(dir, &names, &n)) return;
    for (size_t i = 0; i < n; i++) {
        long pid = strtol(names[i], NULL, 10);
        if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno != ESRCH)) continue;
        char sub[SVC_PATH_MAX + 300];
        svc_fmt(sub, sizeof sub, "%s/%s", dir, names[i]);
        svc_rmtree(sub);
    }
    svc_free_names(names, n);
}

lo_service *lo_service_open(lo_error *err) {
    if (sodium_init() < 0) {
        lo_error_set(err, "InternalServerException", "libsodium failed to initialize");
        return NULL;
    }
    lo_service *s = calloc(1, sizeof *s);
    if (!s) {
        lo_error_set(err, "InternalServerException", "out of memory");
        return NULL;
    }
    char def[SVC_PATH_MAX];
    const char *home = getenv("HOME");
    if (home) svc_fmt(def, sizeof def, "%s/.lookout", home);
    if (env_path("LOOKOUT_HOME", home ? def : NULL, s->home, err)) goto fail;
    svc_fmt(def, sizeof def, "%s/s3", s->home);
    if (env_path("LOOKOUT_S3_ROOT", def, s->s3_root, err)) goto fail;
    const char *region = getenv("LOOKOUT_REGION"), *account = getenv("LOOKOUT_ACCOUNT_ID");
    svc_fmt(s->region, sizeof s->region, "%s", region && *region ? region : "local");
    svc_fmt(s->account, sizeof s->account, "%s", account && *account ? account : "000000000000");
    char p[SVC_PATH_MAX + 16];
    svc_fmt(p, sizeof p, "%s/projects", s->home);
    if (svc_mkdirs(p, err)) goto fail;
    sweep_trash(s->home);
    pthread_mutex_init(&s->mu, NULL);
    return s;
fail:
    free(s);
    return NULL;
}

void lo_service_close(lo_service *s) {
    if (!s) return;
    svc_hosted_free_all(s);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

const char *lo_service_home(const lo_service *s) { return s->home; }
const char *lo_service_s3_root(const lo_service *s) { return s->s3_root; }

static int not_on_box(lo_service *s, const cJSON *in, const uint8_t *b, size_t bl, cJSON **out, lo_error *err) {
    (void)s; (void)in; (void)b; (void)bl; (void)out;
    lo_error_set(err, "ValidationException",
                 "model packaging jobs (AWS IoT Greengrass components) are not supported on this box: the model "
                 "already runs here; use start-model and detect-anomalies");
    return -1;
}

static const struct {
    const char *name;
    svc_handler fn;
} ops[] = {
    {"CreateProject", svc_create_project},
    {"DescribeProject", svc_describe_project},
    {"ListProjects", svc_list_projects},
    {"DeleteProject", svc_delete_project},
    {"CreateDataset", svc_create_dataset},
    {"DescribeDataset", svc_describe_dataset},
    {"ListDatasetEntries", svc_list_dataset_entries},
    {"UpdateDatasetEntries", svc_update_dataset_entries},
    {"DeleteDataset", svc_delete_dataset},
    {"CreateModel", svc_create_model},
    {"DescribeModel", svc_describe_model},
    {"ListModels", svc_list_models},
    {"DeleteModel", svc_delete_model},
    {"StartModel", svc_start_model},
    {"StopModel", svc_stop_model},
    {"DetectAnomalies", svc_detect_anomalies},
    {"TagResource", svc_tag_resource},
    {"UntagResource", svc_untag_resource},
    {"ListTagsForResource", svc_list_tags_for_resource},
    {"StartModelPackagingJob", not_on_box},
    {"DescribeModelPackagingJob", not_on_box},
    {"ListModelPackagingJobs", not_on_box},
};

int lo_service_call(lo_service *s, const char *operation, const cJSON *input, const uint8_t *body,
                    size_t body_len, cJSON **output, lo_error *err) {
    *output = NULL;
    memset(err, 0, sizeof *err);
    if (input && !cJSON_IsObject(input)) {
        lo_error_set(err, "ValidationException", "the %s request must be a JSON object", operation);
        return -1;
    }
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (strcmp(ops[i].name, operation)) continue;
        int rc = ops[i].fn(s, input, body, body_len, output, err);
        if (rc != 0) {
            cJSON_Delete(*output);
            *output = NULL;
            if (!err->type[0]) lo_error_set(err, "InternalServerException", "%s failed", operation);
            return -1;
        }
        if (!*output) *output = cJSON_CreateObject();
        return 0;
    }
    lo_error_set(err, "ValidationException", "unknown operation \"%s\"", operation);
    return -1;
}
