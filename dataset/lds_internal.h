/* lds_internal.h — helpers shared by the dataset module's .c files (not part of the public seam). */
#ifndef LOOKOUT_LDS_INTERNAL_H
#define LOOKOUT_LDS_INTERNAL_H

#include "dataset.h"
#include <stdarg.h>
#include <stdio.h>

/* ---- errors ---- */
void lds_set_error(lds_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends one line to a warnings buffer (truncates silently when full). */
/* Puts "prefix: " in front of err's message. */
void lds_prefix_error(lds_error *err, const char *prefix);
void lds_add_warning(lds_error *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- files ---- */
/* Reads a whole regular file (at most max_bytes; larger files are an error naming the size). */
uint8_t *lds_read_file(const char *path, size_t max_bytes, size_t *out_len, lds_error *err);
/* An encrypted file (an envelope, see envelope.c) is opened with the data key given to
 * lds_set_data_key; max_bytes then limits the decrypted size. A tampered envelope is an error
 * naming the file ("authentication failed"). */
/* Writes a file and fsyncs it. */
int lds_write_file(const char *path, const void *data, size_t len, lds_error *err);
int lds_mkdir_p(const char *path, lds_error *err);
/* Recursive delete; best effort (used for staging dirs and replaced content). */
void lds_rm_rf(const char *path);
/* Joins a and b with one '/' into a malloc'd string. */
char *lds_path_join(const char *a, const char *b);
/* Resolves `rel` below `root`: refuses absolute paths, ".." components, empty components, and
 * (after realpath) anything that lands outside root, e.g. through a symlink. Returns the real path
 * (malloc'd) or NULL with err naming `what`. The file must exist. */
char *lds_resolve_inside(const char *root, const char *rel, const char *what, lds_error *err);
/* Resolves s3://BUCKET/KEY under s3_root. */
char *lds_resolve_s3(const char *s3_root, const char *uri, const char *what, lds_error *err);

/* ---- envelopes: encryption at rest (envelope.c) ---- */
#define LDS_ENVELOPE_MAGIC_BYTES 8
/* magic + XChaCha20 nonce + Poly1305 tag */
#define LDS_ENVELOPE_OVERHEAD (LDS_ENVELOPE_MAGIC_BYTES + 24 + 16)
/* name: the file's path (its base name is authenticated). Results are malloc'd (the opened one
 * with a NUL after the data). */
uint8_t *lds_envelope_seal(const uint8_t *plain, size_t len, const char *name, const uint8_t *key, size_t *out_len,
                           lds_error *err);
uint8_t *lds_envelope_open(const uint8_t *data, size_t len, const char *name, const uint8_t *key, size_t *out_len,
                           lds_error *err);
/* lds_envelope_open with the key of lds_set_data_key (an error naming the file when none). */
uint8_t *lds_envelope_open_current(const uint8_t *data, size_t len, const char *name, size_t *out_len,
                                   lds_error *err);

/* ---- time ---- */
double lds_now(void); /* epoch seconds, sub-second resolution */

/* ---- pixels ---- */
enum { LDS_FMT_UNKNOWN = 0, LDS_FMT_PNG = 1, LDS_FMT_JPEG = 2 };
/* Image type by content (magic bytes), never by extension. */
int lds_sniff_format(const uint8_t *data, size_t len);
/* Checks format, byte size and (via stbi_info) dimensions against Lookout's limits without
 * decoding. Fills w, h, comp (may be NULL). */
int lds_check_header(const uint8_t *data, size_t len, const char *what, int *w, int *h, int *comp,
                     lds_error *err);
/* For masks: must be a PNG whose header says exactly want_w x want_h, then the usual limits. */
int lds_check_mask_header(const uint8_t *png, size_t len, const char *what, int want_w, int want_h, lds_error *err);
/* Decodes (after lds_check_header) to 8-bit with req_comp channels (0 = as stored); 16-bit PNGs
 * are scaled to 8 bits. Result freed with free(). */
uint8_t *lds_decode8(const uint8_t *data, size_t len, const char *what, int req_comp, int *w, int *h,
                     int *comp, lds_error *err);

/* Converts interleaved 8-bit pixels (src_c channels) to planar floats with dst_c (1 or 3) channels
 * and resizes to out_w x out_h: area average when shrinking, bilinear when enlarging (per axis). */
void lds_resize_to_planar(const uint8_t *src, int w, int h, int src_c, float *dst, int dst_c, int out_w,
                          int out_h);
/* Nearest-neighbour resize of an 8-bit single-channel image. */
void lds_resize_nearest_u8(const uint8_t *src, int w, int h, uint8_t *dst, int out_w, int out_h);

/* ---- colour maps of segmentation lines ---- */
typedef struct {
    char name[64];
    uint8_t rgb[3];
} lds_color_entry;

typedef struct {
    int n;                                 /* defect classes in the line's colour map */
    lds_color_entry defects[LDS_MAX_CLASSES];
    uint8_t background[3];                 /* #ffffff when given as BACKGROUND, else black */
} lds_color_map;

/* One parsed Ground Truth line. Strings point into malloc'd copies owned by the struct. */
typedef struct {
    char *source_ref;
    char *mask_ref;       /* NULL when the line has no segmentation attribute */
    int label;            /* -1 unlabeled, 0 normal, 1 anomaly */
    lds_color_map cmap;   /* valid when mask_ref */
} lds_line;

/* Offset of the first byte that is not valid UTF-8 in s, or (size_t)-1 when all of it is. */
size_t lds_utf8_invalid_at(const char *s, size_t len);

/* Parses one JSON line (len bytes, need not be NUL-terminated). `where` prefixes errors
 * (e.g. "manifest m.jsonl line 7"). */
int lds_line_parse(const char *text, size_t len, const char *where, lds_line *out, lds_error *err);
void lds_line_free(lds_line *l);

/* Turns a user's mask (PNG bytes) into class indices using the line's colour map, where
 * class_of[k] is the dataset class index of cmap->defects[k]. The mask must be a real PNG of
 * exactly want_w x want_h. Returns malloc'd indices [h][w]; *n_defect_px counts non-background. */
uint8_t *lds_mask_to_indices(const uint8_t *png, size_t len, const char *what, int want_w, int want_h,
                             const lds_color_map *cmap, const int *class_of, size_t *n_defect_px,
                             int *dominant_class, lds_error *err);

/* ---- the dataset directory (store.c) ---- */
/* One entry as kept in DIR/index.jsonl plus its manifest line; during an import or update it
 * also carries where the new content comes from. */
typedef struct {
    char *json_line;     /* the user's line as given (no trailing CR/LF) */
    char *source_ref;
    char *image_rel;     /* e.g. "images/00000012.jpg" */
    char *mask_rel;      /* NULL without mask */
    int label, mask_known, w, h, ch, defect;
    double time;         /* import time, epoch seconds */
    /* import-time only */
    char *src_path, *mask_src_path;
    int mask_binary;     /* image-folder mask: 0 = good, non-zero = defect class 1 */
    lds_color_map cmap;
    int class_of[LDS_MAX_CLASSES];
    int is_new;
    char where[512];     /* "manifest.jsonl line 7": prefixes errors */
} lds_rec;

typedef struct {
    lds_rec *recs;
    size_t n, cap;
    lds_class classes[LDS_MAX_CLASSES];
    int n_classes;
    int64_t next_id;     /* names of new image copies: never reused within a directory */
} lds_db;

int lds_db_load(const char *dir, lds_db *db, lds_error *err);
void lds_db_free(lds_db *db);
lds_rec *lds_db_push(lds_db *db);
/* Writes manifest.jsonl, index.jsonl and meta.json of db into dir. */
int lds_db_write_text(const char *dir, const lds_db *db, lds_error *err);
/* Returns the dataset class index for (name, rgb), adding it if new; -1 when full. */
int lds_db_class(lds_db *db, const char *name, const uint8_t rgb[3]);

/* Splits text into lines (skipping a leading UTF-8 BOM, stripping CR, skipping blank lines) and
 * calls fn(line, len, line_no, ctx) for each; stops and returns fn's non-zero result. */
int lds_for_each_line(const char *text, size_t len, int (*fn)(const char *, size_t, int, void *), void *ctx);

/* ---- random numbers: splitmix64, the caller's 64-bit state ---- */
uint64_t lds_rng_next(uint64_t *s);
double lds_rng_uniform(uint64_t *s); /* [0,1) */
float lds_rng_normal(uint64_t *s);
#endif
