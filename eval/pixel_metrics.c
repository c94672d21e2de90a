/* pixel_metrics.c — per defect class pixel metrics of segmentation models (PixelAnomalyClassMetrics):
 * pooled pixel precision/recall/F1 and AIOU, the mean over images of the IoU. Definitions in eval.h. */
#include "eval_internal.h"

#include <stdio.h>
#include <string.h>

#define LEV_MAX_CLASSES 32

void lev_pixel_init(lev_pixel_metrics *pm, const char *const *class_names, int n_classes)
{
    memset(pm, 0, sizeof *pm);
    if (n_classes < 1)
        n_classes = 1;
    if (n_classes > LEV_MAX_CLASSES)
        n_classes = LEV_MAX_CLASSES;
    pm->n_classes = n_classes;
    for (int c = 0; c < n_classes; c++) {
        if (class_names && class_names[c])
            snprintf(pm->classes[c].class_name, sizeof pm->classes[c].class_name, "%s", class_names[c]);
        else if (c == 0)
            snprintf(pm->classes[c].class_name, sizeof pm->classes[c].class_name, "background");
        else
            snprintf(pm->classes[c].class_name, sizeof pm->classes[c].class_name, "class%d", c);
    }
}

void lev_pixel_add(lev_pixel_metrics *pm, const uint8_t *truth, const uint8_t *pred, size_t n_pixels)
{
    int64_t tp[LEV_MAX_CLASSES] = {0}, fp[LEV_MAX_CLASSES] = {0}, fn[LEV_MAX_CLASSES] = {0};
    int nc = pm->n_classes;
    for (size_t i = 0; i < n_pixels; i++) {
        int t = truth[i] < nc ? truth[i] : 0, p = pred[i] < nc ? pred[i] : 0;
        if (t == p)
            tp[t]++;
        else {
            fp[p]++;
            fn[t]++;
        }
    }
    /* The background's own counts (index 0) are never reported: Lookout lists anomaly labels only. */
    for (int c = 1; c < nc; c++) {
        lev_pixel_class *k = &pm->classes[c];
        k->tp += tp[c];
        k->fp += fp[c];
        k->fn += fn[c];
        int64_t uni = tp[c] + fp[c] + fn[c];
        if (uni > 0) {
            k->iou_sum += (double)tp[c] / (double)uni;
            k->n_images++;
        }
        if (tp[c] + fn[c] > 0)
            k->n_truth_images++;
    }
    pm->classes[0].n_images++; /* the background slot counts the images added */
}

int64_t lev_pixel_images(const lev_pixel_metrics *pm) { return pm->classes[0].n_images; }

void lev_pixel_finish(lev_pixel_metrics *pm)
{
    for (int c = 1; c < pm->n_classes; c++) {
        lev_pixel_class *k = &pm->classes[c];
        double tp = (double)k->tp, fp = (double)k->fp, fn = (double)k->fn;
        k->precision = tp + fp > 0 ? tp / (tp + fp) : 0;
        k->recall = tp + fn > 0 ? tp / (tp + fn) : 0;
        k->f1 = 2 * tp + fp + fn > 0 ? 2 * tp / (2 * tp + fp + fn) : 0;
        k->aiou = k->n_images > 0 ? k->iou_sum / (double)k->n_images : 0;
    }
}
