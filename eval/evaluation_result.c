/* evaluation_result.c — EvaluationResult-<project>-<version>.json in the schema Lookout for Vision
 * documented, with our additions under the single key "LookoutExtensions" (see eval.h). */
#include "eval_internal.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Undefined metrics go out as null, never NaN (not JSON) nor a made-up number. */
static void add_metric_or_null(cJSON *o, const char *key, double v)
{
    if (v < 0)
        cJSON_AddNullToObject(o, key);
    else
        cJSON_AddNumberToObject(o, key, v);
}

static void add_interval(cJSON *o, const char *key, lev_interval iv)
{
    cJSON *x = cJSON_AddObjectToObject(o, key);
    cJSON_AddNumberToObject(x, "Lower", iv.lo);
    cJSON_AddNumberToObject(x, "Upper", iv.hi);
}

static void add_notes(cJSON *notes, const char *text)
{
    /* lev_metrics.note joins its notes with "; ". */
    const char *p = text;
    while (p && *p) {
        const char *end = strstr(p, "; ");
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char *one = strndup(p, n);
        if (one) {
            cJSON_AddItemToArray(notes, cJSON_CreateString(one));
            free(one);
        }
        p = end ? end + 2 : NULL;
    }
}

/* The folds one by one, so a reader can check the mean and spread and see which fold failed. */
static void add_fold_runs(cJSON *cv, const lev_details *d)
{
    int completed = 0;
    for (int i = 0; i < d->n_fold_runs; i++)
        completed += d->fold_runs[i].ok != 0;
    cJSON_AddNumberToObject(cv, "FoldsRequested", d->n_fold_runs);
    cJSON_AddNumberToObject(cv, "FoldsCompleted", completed);
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)d->fold_seed);
    cJSON_AddStringToObject(cv, "Seed", seed);
    if (d->fold_budget_s > 0)
        cJSON_AddNumberToObject(cv, "TimeBudgetSecondsPerFold", d->fold_budget_s);
    cJSON *arr = cJSON_AddArrayToObject(cv, "FoldResults");
    for (int i = 0; i < d->n_fold_runs; i++) {
        const lev_fold_run *r = &d->fold_runs[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "Fold", i + 1);
        cJSON_AddStringToObject(o, "Status", r->ok ? "COMPLETED" : "FAILED");
        if (!r->ok)
            cJSON_AddStringToObject(o, "StatusMessage", r->error[0] ? r->error : "failed");
        cJSON_AddNumberToObject(o, "NumberOfTrainingImages", (double)r->n_train);
        cJSON_AddNumberToObject(o, "NumberOfTestingImages", (double)r->n_test);
        if (r->ok) {
            const lev_metrics *m = &r->m;
            cJSON_AddNumberToObject(o, "Threshold", (double)m->threshold);
            cJSON_AddNumberToObject(o, "Precision", m->precision);
            cJSON_AddNumberToObject(o, "Recall", m->recall);
            cJSON_AddNumberToObject(o, "F1Score", m->f1);
            add_metric_or_null(o, "ROCAUC", m->roc_auc);
            add_metric_or_null(o, "AveragePrecision", m->average_precision);
            cJSON *cm = cJSON_AddObjectToObject(o, "ConfusionMatrix");
            cJSON_AddNumberToObject(cm, "TruePositives", (double)m->tp);
            cJSON_AddNumberToObject(cm, "FalsePositives", (double)m->fp);
            cJSON_AddNumberToObject(cm, "TrueNegatives", (double)m->tn);
            cJSON_AddNumberToObject(cm, "FalseNegatives", (double)m->fn);
            if (m->note[0])
                cJSON_AddStringToObject(o, "Note", m->note);
        }
        cJSON_AddNumberToObject(o, "Seconds", r->seconds);
        cJSON_AddItemToArray(arr, o);
    }
}

int lev_write_result(const char *path, const lev_details *d, const lev_metrics *m,
                     const lev_pixel_metrics *pixel, lev_error *err)
{
    if (!d || !m)
        return lev__fail(err, "%s: no model details or metrics to write", path ? path : "(null)");
    char when[40];
    lev__iso_time(d->end_time, when);

    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "Version", 1);
    cJSON *det = cJSON_AddObjectToObject(root, "EvaluationDetails");
    cJSON_AddStringToObject(det, "ModelArn", d->model_arn ? d->model_arn : "");
    cJSON_AddStringToObject(det, "EvaluationEndTimestamp", when);
    cJSON_AddNumberToObject(det, "NumberOfTrainingImages", (double)d->n_training_images);
    cJSON_AddNumberToObject(det, "NumberOfTestingImages", (double)d->n_testing_images);

    cJSON *agg = cJSON_AddObjectToObject(root, "AggregatedEvaluationResults");
    cJSON *met = cJSON_AddObjectToObject(agg, "Metrics");
    add_metric_or_null(met, "ROCAUC", m->roc_auc);
    add_metric_or_null(met, "AveragePrecision", m->average_precision);
    cJSON_AddNumberToObject(met, "Precision", m->precision);
    cJSON_AddNumberToObject(met, "Recall", m->recall);
    cJSON_AddNumberToObject(met, "F1Score", m->f1);

    cJSON *ext = cJSON_CreateObject();
    cJSON_AddNumberToObject(ext, "Threshold", (double)m->threshold);
    cJSON *cm = cJSON_AddObjectToObject(ext, "ConfusionMatrix");
    cJSON_AddNumberToObject(cm, "TruePositives", (double)m->tp);
    cJSON_AddNumberToObject(cm, "FalsePositives", (double)m->fp);
    cJSON_AddNumberToObject(cm, "TrueNegatives", (double)m->tn);
    cJSON_AddNumberToObject(cm, "FalseNegatives", (double)m->fn);
    cJSON_AddNumberToObject(ext, "NumberOfTestAnomalies", (double)m->n_anomalies);
    cJSON_AddNumberToObject(ext, "NumberOfTestNormals", (double)m->n_normals);
    if (m->n_boot > 0) {
        cJSON *bs = cJSON_AddObjectToObject(ext, "BootstrapConfidenceIntervals");
        cJSON_AddStringToObject(bs, "Method", "stratified percentile bootstrap (anomalies and normals resampled "
                                              "separately with replacement, threshold fixed)");
        cJSON_AddNumberToObject(bs, "ConfidenceLevel", 0.95);
        cJSON_AddNumberToObject(bs, "Resamples", m->n_boot);
        /* As a string: a 64-bit seed does not survive a JSON double. */
        char seed[32];
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)m->seed);
        cJSON_AddStringToObject(bs, "Seed", seed);
        add_interval(bs, "Precision", m->precision_ci);
        add_interval(bs, "Recall", m->recall_ci);
        add_interval(bs, "F1Score", m->f1_ci);
    }
    if (d->folds && (d->folds->n_folds > 0 || (d->fold_runs && d->n_fold_runs > 0))) {
        const lev_fold_summary *f = d->folds;
        cJSON *cv = cJSON_AddObjectToObject(ext, "CrossValidation");
        cJSON_AddNumberToObject(cv, "Folds", f->n_folds);
        const struct {
            const char *key;
            double mean, sd;
        } rows[] = {{"Precision", f->precision_mean, f->precision_sd}, {"Recall", f->recall_mean, f->recall_sd},
                    {"F1Score", f->f1_mean, f->f1_sd}, {"ROCAUC", f->roc_auc_mean, f->roc_auc_sd},
                    {"AveragePrecision", f->ap_mean, f->ap_sd}};
        for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
            cJSON *o = cJSON_AddObjectToObject(cv, rows[i].key);
            /* no completed fold: nothing to average (null, not a made-up 0) */
            add_metric_or_null(o, "Mean", f->n_folds > 0 ? rows[i].mean : -1);
            add_metric_or_null(o, "StandardDeviation", f->n_folds > 0 ? rows[i].sd : -1);
        }
        if (d->fold_runs && d->n_fold_runs > 0)
            add_fold_runs(cv, d);
    }
    cJSON *notes = cJSON_CreateArray();
    add_notes(notes, m->note);

    if (pixel) {
        cJSON *arr = cJSON_AddArrayToObject(met, "PixelAnomalyClassMetrics");
        cJSON *counts = cJSON_AddArrayToObject(ext, "PixelAnomalyClassCounts");
        for (int c = 1; c < pixel->n_classes && c < 32; c++) {
            const lev_pixel_class *k = &pixel->classes[c];
            if (k->n_truth_images == 0)
                continue; /* Lookout lists the labels found in the test set */
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "Precision", k->precision);
            cJSON_AddNumberToObject(o, "Recall", k->recall);
            cJSON_AddNumberToObject(o, "F1Score", k->f1);
            cJSON_AddNumberToObject(o, "AIOU", k->aiou);
            cJSON_AddStringToObject(o, "ClassName", k->class_name);
            cJSON_AddItemToArray(arr, o);
            cJSON *q = cJSON_CreateObject();
            cJSON_AddStringToObject(q, "ClassName", k->class_name);
            cJSON_AddNumberToObject(q, "TruePositivePixels", (double)k->tp);
            cJSON_AddNumberToObject(q, "FalsePositivePixels", (double)k->fp);
            cJSON_AddNumberToObject(q, "FalseNegativePixels", (double)k->fn);
            cJSON_AddNumberToObject(q, "ImagesWithLabel", (double)k->n_truth_images);
            cJSON_AddNumberToObject(q, "ImagesInAIOU", (double)k->n_images);
            cJSON_AddItemToArray(counts, q);
        }
        cJSON_AddNumberToObject(ext, "NumberOfTestImagesWithMasks", (double)lev_pixel_images(pixel));
        if (lev_pixel_images(pixel) == 0)
            cJSON_AddItemToArray(notes, cJSON_CreateString("no test image has a known mask: pixel metrics not computed"));
    }
    cJSON_AddItemToObject(ext, "Notes", notes);
    cJSON_AddItemToObject(root, "LookoutExtensions", ext);

    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return lev__fail(err, "%s: out of memory formatting the evaluation result", path);
    size_t len = strlen(text);
    int rc = lev__write_atomic(path, text, len, err);
    free(text);
    return rc;
}
