/* dataset.h — the one public header of dataset/: turns a Ground Truth manifest or an image folder
 * into a project dataset directory, and a dataset directory into training/test tensors.
 *
 * A dataset directory is owned by this module. Its layout (callers treat it as opaque):
 *   DIR/manifest.jsonl   one Ground Truth JSON line per image, as the user gave it (source-ref
 *                        keeps the user's s3:// URI or, for an image folder, the file's path)
 *   DIR/images/...       the imported copies of the images (decoded later, never re-read from source)
 *   DIR/masks/...        the imported copies of the masks
 *   DIR/index.jsonl      internal: per line, where its image/mask copies are and its parsed label
 * Every function that changes a directory is all-or-nothing: it builds the new content beside it
 * and renames it into place; on error nothing changed and err says why (naming file/line/field).
 *
 * Conventions (stb style): functions return 0 on success, -1 on error with lds_error filled.
 */
#ifndef LOOKOUT_DATASET_H
#define LOOKOUT_DATASET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    char message[2048]; /* human-readable; names the offending file, line, field or value */
} lds_error;

/* Lookout for Vision's limits (DESIGN.md §4). */
#define LDS_MIN_SIDE 64
#define LDS_MAX_SIDE 4096
#define LDS_MAX_BYTES (8u * 1024u * 1024u)
#define LDS_MAX_CLASSES 32
/* Limits on what enters through a manifest or a folder (dataset/README.md "Limits"). */
#define LDS_MAX_ENTRIES 16000                     /* images per dataset (Lookout's dataset quota) */
#define LDS_MAX_LINE_BYTES (64u * 1024u)          /* one manifest line */
#define LDS_MAX_MANIFEST_BYTES (64u * 1024u * 1024u) /* one manifest file or change list */
#define LDS_MAX_JSON_DEPTH 16                     /* nesting in one line (Ground Truth needs 4) */

/* ---- import / update (used by the service) -------------------------------------------- */

/* Imports a Ground Truth manifest (JSON Lines) at manifest_path; its s3:// source-refs and
 * mask refs resolve under s3_root ($LOOKOUT_S3_ROOT). dest_dir must not exist; it is created
 * complete or not at all. warnings (may be NULL) receives non-fatal notes (e.g. an empty mask). */
int lds_import_manifest(const char *dest_dir, const char *manifest_path, const char *s3_root,
                        lds_error *warnings, lds_error *err);

/* Imports DIR/normal/, DIR/anomaly/ and DIR/mask/<stem>.png (DESIGN.md §4). */
int lds_import_folder(const char *dest_dir, const char *folder, lds_error *warnings, lds_error *err);

/* Creates an empty dataset directory (CreateDataset with no DatasetSource). */
int lds_create_empty(const char *dest_dir, lds_error *err);

/* UpdateDatasetEntries: changes is JSON Lines; a line whose source-ref exists replaces that
 * entry whole, new lines are added. All-or-nothing. */
int lds_update(const char *dataset_dir, const char *changes, size_t changes_len, const char *s3_root,
               lds_error *err);

/* Copies (hard-links where possible) a dataset directory: the snapshot a model trains on. */
int lds_snapshot(const char *dataset_dir, const char *dest_dir, lds_error *err);

/* Encryption at rest: the same snapshot with every image and mask copy encrypted
 * (XChaCha20-Poly1305 under `key`, LDS_DATA_KEY_BYTES bytes; see envelope.c). The text files
 * (manifest, index) stay plain. All-or-nothing like lds_snapshot. */
#define LDS_DATA_KEY_BYTES 32
int lds_snapshot_encrypted(const char *dataset_dir, const char *dest_dir, const uint8_t *key, lds_error *err);
/* The data key every later read in this process opens encrypted copies with (lds_open,
 * lds_load_image, lds_load_mask stay unchanged for callers). Copied; NULL wipes it. Set it before
 * reader threads start. Without it, reading an encrypted copy is an error naming the file. */
void lds_set_data_key(const uint8_t *key);
/* 1 when the bytes start with the envelope header of an encrypted copy. */
int lds_is_encrypted(const uint8_t *data, size_t len);
/* The bytes of an imported image or mask copy (at most LDS_MAX_BYTES), decrypted with the data
 * key when encrypted: for readers outside this module (e.g. report thumbnails). malloc'd. */
uint8_t *lds_read_copy(const char *path, size_t *out_len, lds_error *err);

typedef struct {
    int64_t total, labeled, normal, anomaly;
} lds_stats;
int lds_stats_get(const char *dataset_dir, lds_stats *out, lds_error *err);

/* ListDatasetEntries filters; zero/NULL members mean "no filter". */
typedef struct {
    int labeled;               /* -1 any, 0 unlabeled only, 1 labeled only */
    const char *anomaly_class; /* "normal" or "anomaly" (class-name), NULL any */
    const char *source_ref_contains;
    int64_t before, after;     /* epoch seconds on the entry's creation time; 0 = no bound */
} lds_filter;
/* Calls fn(line, ctx) for each matching manifest line, in order, starting at the index'th match
 * (pagination); stops after max lines (0 = all). *next_index gets the index of the first line not
 * returned, or -1 when there is none. */
int lds_list(const char *dataset_dir, const lds_filter *filter, int64_t index, int64_t max,
             void (*fn)(const char *json_line, void *ctx), void *ctx, int64_t *next_index,
             lds_error *err);

/* ---- reading a dataset for training / evaluation (used by engine/train) --------------- */

typedef struct {
    char name[64];     /* class-name, e.g. "cracked"; index 0 is always "background" */
    uint8_t rgb[3];    /* colour in the mask */
} lds_class;

typedef struct {
    char *source_ref;  /* as in the manifest */
    char *json_line;   /* the whole Ground Truth line (for the evaluation manifest) */
    char *image_path;  /* the imported copy */
    char *mask_path;   /* imported mask copy or NULL */
    int label;         /* -1 unlabeled, 0 normal, 1 anomaly */
    int mask_known;    /* 1 when the mask exists and is not all background */
    int width, height; /* of the image */
    int defect_class;  /* index into lds_set.classes of the mask's largest defect, 0 if none */
} lds_entry;

typedef struct {
    lds_entry *entries;
    size_t n;
    lds_class classes[LDS_MAX_CLASSES]; /* classes[0] = background */
    int n_classes;                      /* including background */
    int channels;                       /* 1 when every image is gray, else 3 */
} lds_set;

int lds_open(const char *dataset_dir, lds_set **out, lds_error *err);
void lds_free(lds_set *set);

/* Decodes an image file (by content: PNG/JPEG), checks the header limits with stbi_info before
 * decoding, converts to `channels` (1 or 3) and resizes to out_w x out_h (area-average down,
 * bilinear up), writing planar floats in [0,1] to dst[channels][out_h][out_w]. */
int lds_load_image(const char *path, int channels, int out_w, int out_h, float *dst, lds_error *err);
/* Same for bytes in memory (detect-anomalies body); `what` names it in errors. Also returns the
 * original size in *orig_w, *orig_h (may be NULL). */
int lds_load_image_memory(const uint8_t *data, size_t len, const char *what, int channels, int out_w,
                          int out_h, float *dst, int *orig_w, int *orig_h, lds_error *err);
/* Aspect-preserving variants: the image is resized to lds_fit_box's rectangle (the largest one
 * of its aspect inside out_w x out_h, centred) and the rest is filled by mirroring it, so images
 * of different shapes keep their proportions (small defects are not stretched differently in
 * each) while the network still sees texture, not a border. */
int lds_load_image_fit(const char *path, int channels, int out_w, int out_h, float *dst, lds_error *err);
int lds_load_image_fit_memory(const uint8_t *data, size_t len, const char *what, int channels, int out_w,
                              int out_h, float *dst, int *orig_w, int *orig_h, lds_error *err);
void lds_fit_box(int iw, int ih, int out_w, int out_h, int *x, int *y, int *fw, int *fh);
/* src[fh][fw] (e.g. a mask loaded at lds_fit_box's size) centred in dst[out_h][out_w], mirrored
 * around it the same way as the image */
void lds_fit_mirror_u8(const uint8_t *src, int fw, int fh, uint8_t *dst, int out_w, int out_h);
/* Loads a mask, maps colours to class indices of set->classes (0 = background), resizes with
 * nearest neighbour to out_w x out_h into dst[out_h][out_w]. */
int lds_load_mask(const lds_set *set, const char *path, int out_w, int out_h, uint8_t *dst, lds_error *err);

/* Writes an 8-bit PNG (gray, RGB or RGBA by channels) to path or to a malloc'd buffer. */
int lds_write_png(const char *path, const uint8_t *pixels, int w, int h, int channels, lds_error *err);
uint8_t *lds_encode_png(const uint8_t *pixels, int w, int h, int channels, size_t *out_len);

/* ---- split, augmentation, synthetic defects ------------------------------------------- */

/* Stratified (by label, and by defect class where masks say), seeded split: is_test[i] = 1 for
 * about test_fraction of each stratum. Unlabeled entries are never put in test. */
void lds_split(const lds_set *set, double test_fraction, uint64_t seed, uint8_t *is_test);
/* The same among the entries with eligible[i] != 0 only (others get chosen[i] = 0): e.g. the
 * validation part held out of the training entries (eligible = !is_test). */
void lds_split_among(const lds_set *set, const uint8_t *eligible, double fraction, uint64_t seed,
                     uint8_t *chosen);

typedef struct {
    int flip_h, flip_v, rot90;  /* switches: some parts have an orientation */
    float shift;                /* max shift as a fraction of the side */
    float rotate_deg, scale;    /* small rotation (degrees) and scale (+-fraction) */
    float brightness, contrast, gamma, noise;
} lds_augment_config;
void lds_augment_defaults(lds_augment_config *cfg);

/* Applies one random augmentation to img[c][h][w] and (if non-NULL) mask[h][w] identically.
 * rng is the caller's 64-bit state (advanced). */
void lds_augment(float *img, uint8_t *mask, int c, int h, int w, const lds_augment_config *cfg,
                 uint64_t *rng);

typedef enum {
    LDS_SYNTH_CUTPASTE = 0, LDS_SYNTH_SCAR = 1, LDS_SYNTH_PERLIN = 2, /* large: CutPaste and DRAEM */
    LDS_SYNTH_PATCH = 3, LDS_SYNTH_ERASE = 4, LDS_SYNTH_BLOTCH = 5,   /* small, local */
    LDS_SYNTH_CHIP = 6, /* a part on a plain background only (lds_synth_plain_background) */
    LDS_SYNTH_KINDS = 7
} lds_synth_kind;
/* Pastes a synthetic defect into img[c][h][w]; writes the defect mask (1 = defect) to mask.
 * source (may be NULL, else same shape) supplies foreign texture. Deterministic given rng. */
void lds_synth_defect(float *img, uint8_t *mask, int c, int h, int w, lds_synth_kind kind,
                      const float *source, uint64_t *rng);

/* 1 when img[c][h][w] shows a part on a plain background (the border is one colour, the part
 * covers 5-60 % of the image), writing that colour to bg[min(c,16)] (bg may be NULL); LDS_SYNTH_CHIP
 * leaves the mask empty on other images. */
int lds_synth_plain_background(const float *img, int c, int h, int w, float *bg);

/* Generates the demo dataset (DESIGN.md: made by the project, deterministic): a folder in the
 * ImageFolder layout (normal/, anomaly/, mask/) of synthetic product images with defects. */
int lds_demo_generate(const char *folder, int n_normal, int n_anomaly, uint64_t seed, lds_error *err);

#ifdef __cplusplus
}
#endif
#endif
