/* model_file_path.c — where a trained model version's model file is, for readers outside the
 * service (batch-detect) that score with their own lo_model instead of the hosted one. */
#include "svc_internal.h"

#include <string.h>

/* States in which the version's model.bin is complete: training finished and it may be hosted. */
static int has_trained_file(const char *status) {
    static const char *const ok[] = {"TRAINED", "STARTING_HOSTING", "HOSTED", "HOSTING_FAILED", "STOPPING_HOSTING"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        if (!strcmp(status, ok[i])) return 1;
    return 0;
}

int lo_service_model_file(lo_service *s, const char *project, const char *version, char *path, size_t len,
                          lo_error *err) {
    if (svc_check_project_name("ProjectName", project, err) ||
        svc_check_model_version("ModelVersion", version, true, err))
        return -1;
    long v;
    if (svc_resolve_version(s, project, version, &v, err)) return -1;
    cJSON *m = svc_model_load(s, project, v, err);
    if (!m) return -1;
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(m, "Status");
    const char *status = cJSON_IsString(st) ? st->valuestring : "";
    int ok = has_trained_file(status);
    if (!ok)
        lo_error_set(err, "ValidationException",
                     "model version %ld of project %s is %s; only a TRAINED (or hosted) model can score images "
                     "(wait for training with `lookout wait model-trained`)",
                     v, project, status[0] ? status : "in an unknown state");
    cJSON_Delete(m);
    if (!ok) return -1;
    char dir[SVC_PATH_MAX], p[SVC_PATH_MAX + 16];
    svc_model_dir(s, project, v, dir);
    svc_fmt(p, sizeof p, "%s/model.bin", dir);
    if (!svc_exists(p)) {
        lo_error_set(err, "InternalServerException", "model version %ld of project %s is %s but its model file %s is "
                     "missing", v, project, status, p);
        return -1;
    }
    if (strlen(p) + 1 > len) {
        lo_error_set(err, "InternalServerException", "model file path %s is longer than %zu bytes", p, len - 1);
        return -1;
    }
    memcpy(path, p, strlen(p) + 1);
    return 0;
}
