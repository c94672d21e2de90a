/* hosting.c — StartModel, StopModel, DetectAnomalies. "Hosted" is a state on disk (so every
 * process agrees); the loaded network is cached in the lo_service so a long-lived server answers
 * from memory. Each cached model has its own mutex for loading; detects run in parallel, on one
 * model too (a loaded lo_model keeps a workspace per core and lends one to each detect). */
#include "svc_internal.h"
#include "train/train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct svc_hosted {
    char project[256];
    long version;
    double created;        /* the model's CreationTimestamp: a re-created project reuses version 1 */
    lo_model *model;
    pthread_mutex_t mu;    /* serializes loading this model */
    int refs;              /* callers using the entry; freed when 0 and dropped */
    bool dropped;
    svc_hosted *next;
};

static void entry_free(svc_hosted *h) {
    if (h->model) lo_model_free(h->model);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

static svc_hosted *entry_get(lo_service *s, const char *project, long version, double created) {
    pthread_mutex_lock(&s->mu);
    svc_hosted **pp = &s->hosted, *h = NULL;
    for (; *pp; pp = &(*pp)->next) {
        if ((*pp)->version == version && !strcmp((*pp)->project, project)) {
            h = *pp;
            break;
        }
    }
    if (h && h->created != created) { /* a different model under the same name: forget the old one */
        *pp = h->next;
        h->dropped = true;
        if (h->refs == 0) entry_free(h);
        h = NULL;
    }
    if (!h && (h = calloc(1, sizeof *h)) != NULL) {
        svc_fmt(h->project, sizeof h->project, "%s", project);
        h->version = version;
        h->created = created;
        pthread_mutex_init(&h->mu, NULL);
        h->next = s->hosted;
        s->hosted = h;
    }
    if (h) h->refs++;
    pthread_mutex_unlock(&s->mu);
    return h;
}

static void entry_put(lo_service *s, svc_hosted *h) {
    pthread_mutex_lock(&s->mu);
    if (--h->refs == 0 && h->dropped) entry_free(h);
    pthread_mutex_unlock(&s->mu);
}

void svc_hosted_drop(lo_service *s, const char *project, long version) {
    pthread_mutex_lock(&s->mu);
    for (svc_hosted **pp = &s->hosted; *pp; pp = &(*pp)->next) {
        svc_hosted *h = *pp;
        if (h->version != version || strcmp(h->project, project)) continue;
        *pp = h->next;
        h->dropped = true;
        if (h->refs == 0) entry_free(h);
        break;
    }
    pthread_mutex_unlock(&s->mu);
}

void svc_hosted_free_all(lo_service *s) {
    pthread_mutex_lock(&s->mu);
    while (s->hosted) {
        svc_hosted *h = s->hosted;
        s->hosted = h->next;
        entry_free(h);
    }
    pthread_mutex_unlock(&s->mu);
}

static double created_of(const cJSON *m) {
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(m, "CreationTimestamp");
    return cJSON_IsNumber(c) ? c->valuedouble : 0;
}

static const char *status_of(const cJSON *m) {
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(m, "Status");
    return cJSON_IsString(st) ? st->valuestring : "";
}

/* Loads the model into its entry if needed; call with h->mu held. */
static int entry_load(lo_service *s, svc_hosted *h, lo_error *err) {
    if (h->model) return 0;
    char dir[SVC_PATH_MAX], p[SVC_PATH_MAX + 16];
    svc_model_dir(s, h->project, h->version, dir);
    svc_fmt(p, sizeof p, "%s/model.bin", dir);
    lo_train_error terr = {{0}};
    h->model = lo_model_load(p, &terr);
    if (!h->model) {
        lo_error_set(err, "InternalServerException", "cannot load model version %ld of project %s: %s", h->version,
                     h->project, terr.message[0] ? terr.message : "unknown error");
        return -1;
    }
    return 0;
}

static int get_pv(const cJSON *in, const char *op, const char *const *members, const char **project,
                  const char **version, lo_error *err) {
    const char *tok;
    if (svc_check_members(in, op, members, err) || svc_get_string(in, "ProjectName", true, project, err) ||
        svc_check_project_name("ProjectName", *project, err) || svc_get_string(in, "ModelVersion", true, version, err) ||
        svc_check_model_version("ModelVersion", *version, true, err) ||
        svc_get_string(in, "ClientToken", false, &tok, err))
        return -1;
    return tok ? svc_check_client_token(tok, err) : 0;
}

static int get_units(const cJSON *in, const char *field, bool required, int *out, lo_error *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, field);
    *out = 0;
    if (!v || cJSON_IsNull(v)) {
        if (!required) return 0;
        lo_error_set(err, "ValidationException", "missing required parameter %s (the number of inference units, e.g. 1)",
                     field);
        return -1;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 1e6 || v->valuedouble != (double)(int)v->valuedouble) {
        lo_error_set(err, "ValidationException", "%s must be an integer of at least 1", field);
        return -1;
    }
    *out = (int)v->valuedouble;
    return 0;
}

int svc_start_model(lo_service *s, const cJSON *in, const uint8_t *b, size_t bl, cJSON **out, lo_error *err) {
    (void)b; (void)bl;
    static const char *const members[] = {"ProjectName", "ModelVersion", "MinInferenceUnits", "ClientToken",
                                          "MaxInferenceUnits", NULL};
    const char *project, *version;
    int min_u, max_u;
    if (get_pv(in, "StartModel", members, &project, &version, err) ||
        get_units(in, "MinInferenceUnits", true, &min_u, err) || get_units(in, "MaxInferenceUnits", false, &max_u, err))
        return -1;
    if (max_u && max_u < min_u) {
        lo_error_set(err, "ValidationException", "MaxInferenceUnits (%d) must be at least MinInferenceUnits (%d)", max_u,
                     min_u);
        return -1;
    }
    int pl = svc_lock_project(s, project, err);
    if (pl < 0) return -1;
    int rc = -1;
    long v;
    cJSON *replay = NULL, *m = NULL;
    int t = svc_token_check(s, "StartModel", in, &replay, err);
    if (t < 0) goto done;
    if (t == 1) { *out = replay; rc = 0; goto done; }
    if (svc_resolve_version(s, project, version, &v, err)) goto done;
    m = svc_model_load_locked(s, project, v, err);
    if (!m) goto done;
    const char *st = status_of(m);
    if (strcmp(st, "TRAINED") && strcmp(st, "HOSTED") && strcmp(st, "HOSTING_FAILED")) {
        lo_error_set(err, "ConflictException", "model version %ld of project %s is %s; only a TRAINED model can be "
                     "started", v, project, st);
        goto done;
    }
    cJSON_ReplaceItemInObject(m, "Status", cJSON_CreateString("STARTING_HOSTING"));
    cJSON_ReplaceItemInObject(m, "StatusMessage", cJSON_CreateString("Hosting starting"));
    if (svc_model_save(s, project, v, m, err)) goto done;
    svc_hosted *h = entry_get(s, project, v, created_of(m));
    lo_error lerr = {{0}, {0}, 0};
    int lrc = -1;
    if (h) {
        pthread_mutex_lock(&h->mu);
        lrc = entry_load(s, h, &lerr);
        pthread_mutex_unlock(&h->mu);
        entry_put(s, h);
    } else {
        lo_error_set(&lerr, "InternalServerException", "out of memory");
    }
    const char *final = lrc == 0 ? "HOSTED" : "HOSTING_FAILED";
    cJSON_ReplaceItemInObject(m, "Status", cJSON_CreateString(final));
    cJSON_ReplaceItemInObject(m, "StatusMessage", cJSON_CreateString(lrc == 0 ? "Hosted" : lerr.message));
    cJSON_DeleteItemFromObject(m, "MinInferenceUnits");
    cJSON_DeleteItemFromObject(m, "MaxInferenceUnits");
    cJSON_AddNumberToObject(m, "MinInferenceUnits", min_u);
    cJSON_AddNumberToObject(m, "MaxInferenceUnits", max_u ? max_u : min_u);
    if (lrc != 0) svc_hosted_drop(s, project, v);
    if (svc_model_save(s, project, v, m, err)) goto done;
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "Status", final);
    if (svc_token_store(s, "StartModel", in, *out, err)) goto done;
    rc = 0;
done:
    cJSON_Delete(m);
    svc_unlock(pl);
    return rc;
}

int svc_stop_model(lo_service *s, const cJSON *in, const uint8_t *b, size_t bl, cJSON **out, lo_error *err) {
    (void)b; (void)bl;
    static const char *const members[] = {"ProjectName", "ModelVersion", "ClientToken", NULL};
    const char *project, *version;
    if (get_pv(in, "StopModel", members, &project, &version, err)) return -1;
    int pl = svc_lock_project(s, project, err);
    if (pl < 0) return -1;
    int rc = -1;
    long v;
    cJSON *replay = NULL, *m = NULL;
    int t = svc_token_check(s, "StopModel", in, &replay, err);
    if (t < 0) goto done;
    if (t == 1) { *out = replay; rc = 0; goto done; }
    if (svc_resolve_version(s, project, version, &v, err)) goto done;
    m = svc_model_load_locked(s, project, v, err);
    if (!m) goto done;
    const char *st = status_of(m);
    if (strcmp(st, "HOSTED") && strcmp(st, "STARTING_HOSTING") && strcmp(st, "HOSTING_FAILED") &&
        strcmp(st, "STOPPING_HOSTING")) {
        lo_error_set(err, "ValidationException", "model version %ld of project %s is not hosted (status %s)", v,
                     project, st);
        goto done;
    }
    cJSON_ReplaceItemInObject(m, "Status", cJSON_CreateString("STOPPING_HOSTING"));
    cJSON_ReplaceItemInObject(m, "StatusMessage", cJSON_CreateString("Hosting stopping"));
    if (svc_model_save(s, project, v, m, err)) goto done;
    svc_hosted_drop(s, project, v);
    cJSON_ReplaceItemInObject(m, "Status", cJSON_CreateString("TRAINED"));
    cJSON_ReplaceItemInObject(m, "StatusMessage", cJSON_CreateString("Hosting stopped"));
    if (svc_model_save(s, project, v, m, err)) goto done;
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "Status", "STOPPING_HOSTING");
    if (svc_token_store(s, "StopModel", in, *out, err)) goto done;
    rc = 0;
done:
    cJSON_Delete(m);
    svc_unlock(pl);
    return rc;
}

int svc_detect_anomalies(lo_service *s, const cJSON *in, const uint8_t *body, size_t body_len, cJSON **out,
                         lo_error *err) {
    static const char *const members[] = {"ProjectName", "ModelVersion", "Body", "ContentType", NULL};
    const char *project, *version, *ctype, *b64;
    if (get_pv(in, "DetectAnomalies", members, &project, &version, err) ||
        svc_get_string(in, "ContentType", true, &ctype, err) || svc_get_string(in, "Body", false, &b64, err))
        return -1;
    uint8_t *decoded = NULL;
    if (!body && b64) { /* JSON callers may carry the blob base64 in the document */
        decoded = svc_b64_decode(b64, &body_len);
        if (!decoded) {
            lo_error_set(err, "ValidationException", "Body is not valid base64");
            return -1;
        }
        body = decoded;
    }
    int rc = -1;
    cJSON *m = NULL;
    svc_hosted *h = NULL;
    lo_detect_result r;
    memset(&r, 0, sizeof r);
    bool have_result = false;
    bool png = !strcmp(ctype, "image/png"), jpeg = !strcmp(ctype, "image/jpeg");
    if (!png && !jpeg) {
        lo_error_set(err, "ValidationException", "invalid value \"%.64s\" for ContentType: must be image/jpeg or image/png",
                     ctype);
        goto done;
    }
    if (!body || body_len == 0) {
        lo_error_set(err, "ValidationException", "missing required parameter Body (the image bytes)");
        goto done;
    }
    if (body_len > 8u * 1024u * 1024u) {
        lo_error_set(err, "ValidationException", "Body is %zu bytes; images may be at most 8 MB (8388608 bytes)", body_len);
        goto done;
    }
    static const uint8_t png_magic[4] = {0x89, 'P', 'N', 'G'}, jpg_magic[3] = {0xFF, 0xD8, 0xFF};
    if ((png && (body_len < 4 || memcmp(body, png_magic, 4))) || (jpeg && (body_len < 3 || memcmp(body, jpg_magic, 3)))) {
        lo_error_set(err, "ValidationException", "ContentType is %s but Body is not a %s image", ctype, png ? "PNG" : "JPEG");
        goto done;
    }
    long v;
    if (svc_resolve_version(s, project, version, &v, err)) goto done;
    m = svc_model_load(s, project, v, err);
    if (!m) goto done;
    if (strcmp(status_of(m), "HOSTED") != 0) {
        svc_hosted_drop(s, project, v);
        lo_error_set(err, "ValidationException", "model version %ld of project %s is not hosted (status %s); start it "
                     "with start-model first", v, project, status_of(m));
        goto done;
    }
    h = entry_get(s, project, v, created_of(m));
    if (!h) {
        lo_error_set(err, "InternalServerException", "out of memory");
        goto done;
    }
    pthread_mutex_lock(&h->mu);
    int drc = entry_load(s, h, err);
    pthread_mutex_unlock(&h->mu);
    lo_train_error terr = {{0}};
    if (drc == 0) {
        /* outside the lock: lo_model_detect is thread-safe, and our reference keeps the model */
        drc = lo_model_detect(h->model, body, body_len, "Body", &r, &terr);
        if (drc != 0)
            lo_error_set(err, "ValidationException", "%s", terr.message[0] ? terr.message : "the image could not be scored");
        else
            have_result = true;
    }
    if (drc != 0) goto done;

    *out = cJSON_CreateObject();
    cJSON *res = cJSON_AddObjectToObject(*out, "DetectAnomalyResult");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(res, "Source"), "Type", "direct");
    cJSON_AddBoolToObject(res, "IsAnomalous", r.is_anomalous);
    cJSON_AddNumberToObject(res, "Confidence", r.confidence);
    if (r.n_anomalies > 0) {
        cJSON *list = cJSON_AddArrayToObject(res, "Anomalies");
        for (int i = 0; i < r.n_anomalies && i < 32; i++) {
            cJSON *a = cJSON_CreateObject();
            cJSON_AddStringToObject(a, "Name", r.anomalies[i].name);
            cJSON *pa = cJSON_AddObjectToObject(a, "PixelAnomaly");
            cJSON_AddNumberToObject(pa, "TotalPercentageArea", r.anomalies[i].total_percentage_area);
            cJSON_AddStringToObject(pa, "Color", r.anomalies[i].hex_color);
            cJSON_AddItemToArray(list, a);
        }
    }
    if (r.mask_png && r.mask_png_len) {
        char *mask = svc_b64_encode(r.mask_png, r.mask_png_len);
        if (mask) cJSON_AddStringToObject(res, "AnomalyMask", mask);
        free(mask);
    }
    rc = 0;
done:
    if (have_result) lo_detect_result_free(&r);
    if (h) entry_put(s, h);
    cJSON_Delete(m);
    free(decoded);
    return rc;
}
