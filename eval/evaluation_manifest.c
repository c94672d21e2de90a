/* evaluation_manifest.c — EvaluationManifest-<project>-<version>.json: JSON Lines, each test image's
 * ground-truth line plus what the model detected, in Lookout for Vision's documented keys. */
#include "eval_internal.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add_model_keys(cJSON *meta, const lev_details *d, const char *when, const char *job)
{
    cJSON_AddStringToObject(meta, "human-annotated", "no");
    cJSON_AddStringToObject(meta, "creation-date", when);
    cJSON_AddStringToObject(meta, "job-name", job);
    cJSON_AddStringToObject(meta, "model-arn", d->model_arn ? d->model_arn : "");
    cJSON_AddStringToObject(meta, "project-name", d->project_name ? d->project_name : "");
    cJSON_AddStringToObject(meta, "model-version", d->model_version ? d->model_version : "");
}

static cJSON *color_map(const lev_details *d)
{
    cJSON *map = cJSON_CreateObject();
    for (int c = 0; c < d->n_classes && d->class_names; c++) {
        char key[16];
        snprintf(key, sizeof key, "%d", c);
        cJSON *e = cJSON_AddObjectToObject(map, key);
        const char *name = d->class_names[c] ? d->class_names[c] : "";
        /* Lookout spells the background class BACKGROUND in its color maps. */
        cJSON_AddStringToObject(e, "class-name", c == 0 ? "BACKGROUND" : name);
        if (d->class_colors && d->class_colors[c])
            cJSON_AddStringToObject(e, "hex-color", d->class_colors[c]);
    }
    return map;
}

/* One line; NULL with err filled. */
static char *manifest_line(const lev_details *d, const lev_prediction *p, size_t i, const char *when,
                           const char *job, lev_error *err)
{
    cJSON *o;
    if (p->json_line) {
        o = cJSON_Parse(p->json_line);
        if (!o || !cJSON_IsObject(o)) {
            cJSON_Delete(o);
            lev__fail(err, "test image %zu (%s): its ground-truth line is not a JSON object", i,
                      p->image_path ? p->image_path : "?");
            return NULL;
        }
    } else {
        if (!p->image_path) {
            lev__fail(err, "test image %zu: neither a ground-truth line nor an image path", i);
            return NULL;
        }
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "source-ref", p->image_path);
    }
    /* A re-evaluated manifest may already carry detections: ours replace them. */
    const char *ours[] = {"anomaly-label-detected", "anomaly-label-detected-metadata", "anomaly-mask-ref-detected",
                          "anomaly-mask-ref-detected-metadata"};
    for (size_t k = 0; k < sizeof ours / sizeof *ours; k++)
        cJSON_DeleteItemFromObjectCaseSensitive(o, ours[k]);

    cJSON_AddNumberToObject(o, "anomaly-label-detected", p->predicted_anomalous ? 1 : 0);
    cJSON *meta = cJSON_AddObjectToObject(o, "anomaly-label-detected-metadata");
    cJSON_AddStringToObject(meta, "class-name", p->predicted_anomalous ? "anomaly" : "normal");
    double conf = p->confidence;
    if (!(conf >= 0))
        conf = 0; /* also NaN */
    if (conf > 1)
        conf = 1;
    cJSON_AddNumberToObject(meta, "confidence", conf);
    cJSON_AddStringToObject(meta, "type", "groundtruth/image-classification");
    add_model_keys(meta, d, when, job);

    if (p->predicted_mask_ref) {
        cJSON_AddStringToObject(o, "anomaly-mask-ref-detected", p->predicted_mask_ref);
        cJSON *mm = cJSON_AddObjectToObject(o, "anomaly-mask-ref-detected-metadata");
        cJSON_AddItemToObject(mm, "internal-color-map", color_map(d));
        cJSON_AddStringToObject(mm, "type", "groundtruth/semantic-segmentation");
        add_model_keys(mm, d, when, job);
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s)
        lev__fail(err, "test image %zu: out of memory formatting its manifest line", i);
    return s;
}

int lev_write_manifest(const char *path, const lev_details *d, const lev_prediction *p, size_t n,
                       lev_error *err)
{
    if (!d || (n > 0 && !p))
        return lev__fail(err, "%s: no model details or predictions to write", path ? path : "(null)");
    char when[40];
    lev__iso_time(d->end_time, when);
    const char *job = d->job_name && *d->job_name ? d->job_name : "training-job/anomaly-detection";
    lev__buf b = {0};
    for (size_t i = 0; i < n; i++) {
        char *line = manifest_line(d, &p[i], i, when, job, err);
        if (!line) {
            lev__buf_free(&b);
            if (err) {
                char why[sizeof err->message];
                memcpy(why, err->message, sizeof why);
                lev__fail(err, "%s: %s", path, why);
            }
            return -1;
        }
        lev__buf_append(&b, line, strlen(line));
        lev__buf_puts(&b, "\n");
        free(line);
    }
    if (b.failed) {
        lev__buf_free(&b);
        return lev__fail(err, "%s: out of memory assembling %zu manifest lines", path, n);
    }
    int rc = lev__write_atomic(path, b.data ? b.data : "", b.len, err);
    lev__buf_free(&b);
    return rc;
}
