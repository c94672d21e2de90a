/* http_hosting.c — bringing hosted models back when the server starts. A model the user started
 * stays HOSTED in the service's state across a restart, but its weights lived in the old process;
 * service.h has no "reload hosted models" call yet, so we ask through the public operations:
 * every model listed as HOSTED (or left STARTING_HOSTING) is started again. */
#include "http_hosting.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void restart_project_models(lo_service *s, const char *project) {
    char *next = NULL;
    do {
        cJSON *in = cJSON_CreateObject(), *out = NULL;
        lo_error err = {0};
        cJSON_AddStringToObject(in, "ProjectName", project);
        if (next) cJSON_AddStringToObject(in, "NextToken", next);
        free(next);
        next = NULL;
        int rc = lo_service_call(s, "ListModels", in, NULL, 0, &out, &err);
        cJSON_Delete(in);
        if (rc) {
            fprintf(stderr, "lookout serve: restoring hosted models of %s: ListModels failed: %s: %s\n",
                    project, err.type, err.message);
            return;
        }
        const cJSON *m;
        cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(out, "Models")) {
            const cJSON *st = cJSON_GetObjectItemCaseSensitive(m, "Status");
            const cJSON *ver = cJSON_GetObjectItemCaseSensitive(m, "ModelVersion");
            if (!cJSON_IsString(st) || !cJSON_IsString(ver)) continue;
            if (strcmp(st->valuestring, "HOSTED") != 0 && strcmp(st->valuestring, "STARTING_HOSTING") != 0)
                continue;
            cJSON *sin = cJSON_CreateObject(), *sout = NULL;
            lo_error serr = {0};
            cJSON_AddStringToObject(sin, "ProjectName", project);
            cJSON_AddStringToObject(sin, "ModelVersion", ver->valuestring);
            cJSON_AddNumberToObject(sin, "MinInferenceUnits", 1);
            if (lo_service_call(s, "StartModel", sin, NULL, 0, &sout, &serr))
                fprintf(stderr, "lookout serve: could not re-host %s version %s: %s: %s\n", project,
                        ver->valuestring, serr.type, serr.message);
            else
                fprintf(stderr, "lookout serve: re-hosting %s version %s\n", project, ver->valuestring);
            cJSON_Delete(sin);
            cJSON_Delete(sout);
        }
        const cJSON *nt = cJSON_GetObjectItemCaseSensitive(out, "NextToken");
        if (cJSON_IsString(nt) && *nt->valuestring) next = strdup(nt->valuestring);
        cJSON_Delete(out);
    } while (next);
}

void lo_http_restore_hosted(lo_service *s) {
    char *next = NULL;
    do {
        cJSON *in = cJSON_CreateObject(), *out = NULL;
        lo_error err = {0};
        if (next) cJSON_AddStringToObject(in, "NextToken", next);
        free(next);
        next = NULL;
        int rc = lo_service_call(s, "ListProjects", in, NULL, 0, &out, &err);
        cJSON_Delete(in);
        if (rc) {
            fprintf(stderr, "lookout serve: cannot restore hosted models: ListProjects failed: %s: %s\n",
                    err.type, err.message);
            return;
        }
        const cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(out, "Projects")) {
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(p, "ProjectName");
            if (cJSON_IsString(name)) restart_project_models(s, name->valuestring);
        }
        const cJSON *nt = cJSON_GetObjectItemCaseSensitive(out, "NextToken");
        if (cJSON_IsString(nt) && *nt->valuestring) next = strdup(nt->valuestring);
        cJSON_Delete(out);
    } while (next);
}
