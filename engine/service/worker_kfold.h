/* worker_kfold.h — create-model's k-fold evaluation extension (EvaluationFolds / --evaluation-folds),
 * run by the training worker after the model itself is trained and evaluated. */
#ifndef LOOKOUT_WORKER_KFOLD_H
#define LOOKOUT_WORKER_KFOLD_H

#include "svc_internal.h"

#include <dataset.h>
#include <stdio.h>
#include <eval.h>

#define SVC_KFOLD_MAX 10
#define SVC_KFOLD_SEED 0x6b666f6c64ULL /* fixed: the same datasets give the same folds */

typedef struct {
    int n_runs;                       /* 0: no k-fold evaluation was asked for */
    lev_fold_run runs[SVC_KFOLD_MAX];
    lev_fold_summary summary;         /* over the completed folds */
    uint64_t seed;
    double budget_s;                  /* training time budget of each fold */
} svc_kfold;

/* When meta (model.json) has "EvaluationFolds" K (2..10): splits the labeled images of the model's
 * dataset snapshots (<model_dir>/datasets/train and, when present, test) into K stratified folds
 * (by label and dominant defect class, seeded), and for each fold trains on the other K-1 folds
 * and scores it at the fold model's own threshold. total_budget_s (0 = 300 s, the training
 * default) is divided among the folds. The fold datasets and models live under
 * <model_dir>/kfold/ and are deleted afterwards. StatusMessage reads "Evaluation fold i/K ..."
 * meanwhile. Never fails: a fold that cannot be built or trained is reported as failed with its
 * reason. Progress and results go to log. */
svc_kfold svc_kfold_evaluate(const char *model_dir, const cJSON *meta, double total_budget_s, FILE *log);

/* Colours of the segmentation classes as the model's masks use them (the colour each class has in
 * the training snapshot, "#rrggbb"), for the EvaluationManifest's internal-color-map. A stopgap
 * until lo_train_result carries them: the model takes its class colours from the train snapshot
 * in the same class order, so they are looked up there by name. Classes not found keep NULL. */
typedef struct {
    char hex[LDS_MAX_CLASSES][8];
    const char *ptr[LDS_MAX_CLASSES]; /* ptr[i] = hex[i] or NULL; pass as lev_details.class_colors */
} svc_class_colors;
void svc_snapshot_class_colors(const char *train_dir, char *const *class_names, int n_classes, svc_class_colors *out);

#endif
