/* batch_internal.h — what the files of engine/batch share: one image of the job (its input and
 * its result), the image sources (folder, manifest) and the parallel scorer. */
#ifndef LOOKOUT_BATCH_INTERNAL_H
#define LOOKOUT_BATCH_INTERNAL_H

#include "train/train.h"

#include <stddef.h>
#include <stdio.h>

typedef struct {
    char *source_ref;     /* what the output line names: the manifest's source-ref or the file path */
    char *path;           /* local file to score; NULL when the input already failed (error set) */
    int label;            /* -1 unlabelled, 0 normal, 1 anomaly */
    char *error;          /* why this image has no result (bad line, unreadable or undecodable file) */
    lo_detect_result res; /* valid when error == NULL after scoring (mask_png already freed) */
} lo_batch_item;

void lo_batch_item_clear(lo_batch_item *it);
/* Sets it->error from a printf format (replacing an earlier one). */
void lo_batch_item_fail(lo_batch_item *it, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- batch_source.c: where the images come from --------------------------------------------- */

typedef struct {
    /* folder: the listed files (names are small; images are read one at a time) */
    char **paths;
    int *labels;
    size_t n, next;
    /* manifest: read line by line */
    FILE *manifest;
    char *manifest_name;
    char *s3_root_real;   /* realpath of $LOOKOUT_S3_ROOT: source-refs must resolve inside it */
    long line_no;
    char *line;
    size_t line_cap;
    size_t n_skipped;     /* folder files that are not images by extension */
} lo_batch_source;

/* DIR/normal/ (label 0) and DIR/anomaly/ (label 1), then images directly in DIR (unlabelled);
 * each part in name order. -1 with msg when the folder cannot be read or holds no image. */
int lo_batch_source_folder(lo_batch_source *src, const char *dir, char *msg, size_t cap);
/* A Ground Truth manifest (JSON Lines): an s3://BUCKET/KEY under s3_root, or a local path. */
int lo_batch_source_manifest(lo_batch_source *src, const char *where, const char *s3_root, char *msg, size_t cap);
/* Fills the next item: 1, or 0 at the end, or -1 (msg) when the input cannot be read further. A bad
 * manifest line is not an error of the job: the item comes back with its error set. */
int lo_batch_source_next(lo_batch_source *src, lo_batch_item *it, char *msg, size_t cap);
void lo_batch_source_close(lo_batch_source *src);
/* s3://BUCKET/KEY -> malloc'd local path inside s3_root_real (which must be a realpath), refusing
 * "." and ".." segments, absolute keys and symlinks that lead out; NULL with msg. */
char *lo_batch_resolve_s3(const char *s3_root_real, const char *uri, char *msg, size_t cap);

/* ---- batch_score.c: scoring a batch on all cores -------------------------------------------- */

typedef struct {
    lo_model **models; /* one per worker: lo_model_detect keeps per-model scratch buffers */
    int n_workers;
} lo_batch_scorer;

/* Loads the model once per worker (workers = cores, at most max_workers). -1 with msg. */
int lo_batch_scorer_open(lo_batch_scorer *sc, const char *model_path, int max_workers, char *msg, size_t cap);
void lo_batch_scorer_close(lo_batch_scorer *sc);
/* Scores every item without an error; a file that cannot be read or decoded sets that item's error. */
void lo_batch_score(lo_batch_scorer *sc, lo_batch_item *items, size_t n);

#endif
