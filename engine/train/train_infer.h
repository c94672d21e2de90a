/* train_infer.h — scoring with an ensemble of member networks, shared by inference
 * (model_infer.c) and the training run's test scoring (train_run.c). Internal to engine/train. */
#ifndef LOOKOUT_TRAIN_INFER_H
#define LOOKOUT_TRAIN_INFER_H

#include "train_internal.h"
#include "net/net.h"

/* Normalizes image [c][h][w] (values in [0,1]) into batch slot `slot` of the net's input. */
void lo_ensemble_set_input(lo_net *net, const lo_model_data *md, int slot, const float *image);
/* Checks that the net's outputs and tensor counts match the model data; message in err. */
int lo_ensemble_check(lo_net *net, const lo_model_data *md, char *err, size_t errlen);
/* Scores the n images in the net's input with member `member` (already loaded): runs forward(net)
 * and adds its logits / n_members into score[n], map[n][mh][mw] and, when the net has a class
 * head (lo_net_class_count > 0) and cls is non-NULL, cls[n][k][mh][mw] (member 0 overwrites).
 * With md->flip_average the mirror images are scored too, with md->flip_average_v the images
 * turned upside down (both: 4 views), each view counting equally (the maps are mirrored back);
 * the net's input is left mirrored then. */
void lo_ensemble_member_pass(lo_net *net, const lo_model_data *md, int n, int member, float *score, float *map,
                             float *cls, void (*forward)(lo_net *));
/* Defect classes of the net's class head (output 2), 0 without one. */
int lo_net_class_count(const lo_net *net);
/* Mirrors every image of the net's input batch left-right in place. */
void lo_flip_input(lo_net *net);
void lo_ensemble_map_shape(lo_net *net, const lo_model_data *md, int *mh, int *mw);
/* Copies member `member`'s parameters and state into net. */
void lo_model_load_member(lo_net *net, const lo_model_data *md, int member);
/* Class per pixel (0 background, 1 defect) at ow x oh from the mean map logits; all background
 * when the image's verdict is normal, so mask and verdict never disagree. */
void lo_model_class_mask(const lo_model_data *md, const float *map_logit, int mh, int mw,
                         int is_anomalous, int ow, int oh, uint8_t *out);
/* The mask (class indices) at the original image's size ow x oh: lo_model_class_mask, then each
 * defect pixel's class from the class head (cls_logit with k classes; k = 0: none). With
 * md->fit the image fills only lds_fit_box's rectangle of the input (mirrored around it): the
 * mask is painted at the size the whole input has at the image's scale and the rectangle is cut
 * out. -1 when out of memory (out is then all background). */
int lo_model_paint(const lo_model_data *md, const float *map_logit, const float *cls_logit, int k, int mh, int mw,
                   int is_anomalous, int ow, int oh, uint8_t *out);
const lo_model_data *lo_model_data_of(const lo_model *m);
/* Each member's logit for one encoded image (logits[n_members], views averaged as a detect
 * averages them; their mean is the detect's logit): for bench/member_scores. */
int lo_model_member_logits(lo_model *m, const uint8_t *data, size_t len, const char *what, float *logits,
                           lo_train_error *err);

/* Most workspaces (concurrent detects) a loaded model keeps; it makes one per core up to this. */
#define LO_INFER_WORKSPACES 8

#endif
