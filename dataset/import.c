/* import.c — creating and changing dataset directories all-or-nothing: every new image and mask
 * is read, checked (type by content, size, header limits, full decode, mask colours) and copied
 * into a staging directory beside the target, which is renamed into place only when everything
 * passed. Sources: Ground Truth manifests (s3:// refs under the S3 root), image folders, and
 * UpdateDatasetEntries change lists; plus empty datasets and snapshots. */
#define _GNU_SOURCE
#include "lds_internal.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- staging ---------------------------------------------------------------------------- */

/* A crash (or kill -9) between staging and rename leaves DEST.staging-PID-N behind; remove the
 * ones whose process is gone so they do not pile up. Never touches a live process's staging. */
static void remove_stale_stages(const char *dest)
{
    char *copy = strdup(dest);
    if (!copy) return;
    size_t n = strlen(copy);
    while (n > 1 && copy[n - 1] == '/') copy[--n] = 0;
    char *slash = strrchr(copy, '/');
    const char *parent = slash ? (slash == copy ? "/" : copy) : ".";
    const char *base = slash ? slash + 1 : copy;
    if (slash && slash != copy) *slash = 0;
    char prefix[512];
    snprintf(prefix, sizeof prefix, "%s.staging-", base);
    size_t pl = strlen(prefix);
    DIR *d = opendir(parent);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strncmp(e->d_name, prefix, pl) != 0) continue;
        int pid = atoi(e->d_name + pl);
        if (pid <= 0 || pid == (int)getpid() || kill(pid, 0) == 0 || errno != ESRCH) continue;
        char *p = lds_path_join(parent, e->d_name);
        if (p) lds_rm_rf(p);
        free(p);
    }
    if (d) closedir(d);
    free(copy);
}

static char *stage_path(const char *dest)
{
    remove_stale_stages(dest);
    static atomic_uint counter;
    char buf[64];
    snprintf(buf, sizeof buf, ".staging-%d-%u", (int)getpid(), atomic_fetch_add(&counter, 1));
    size_t n = strlen(dest);
    while (n > 1 && dest[n - 1] == '/') n--;
    char *s = malloc(n + strlen(buf) + 1);
    if (!s) return NULL;
    memcpy(s, dest, n);
    strcpy(s + n, buf);
    return s;
}

static int stage_create(const char *stage, lds_error *err)
{
    if (mkdir(stage, 0755) != 0) {
        lds_set_error(err, "%s: cannot create staging directory: %s", stage, strerror(errno));
        return -1;
    }
    char *a = lds_path_join(stage, "images"), *b = lds_path_join(stage, "masks");
    int rc = (a && b && mkdir(a, 0755) == 0 && mkdir(b, 0755) == 0) ? 0 : -1;
    if (rc) lds_set_error(err, "%s: cannot create images/ and masks/: %s", stage, strerror(errno));
    free(a);
    free(b);
    return rc;
}

/* Makes the staged content durable, then puts it in place: a fresh name for imports, an atomic
 * exchange with the live directory for updates (the old content is then deleted). */
static int stage_commit(const char *stage, const char *dest, int exchange, lds_error *err)
{
    int fd = open(stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        syncfs(fd);
        close(fd);
    }
    if (renameat2(AT_FDCWD, stage, AT_FDCWD, dest, exchange ? RENAME_EXCHANGE : RENAME_NOREPLACE) != 0) {
        lds_set_error(err, "%s: cannot move the new dataset into place: %s", dest, strerror(errno));
        return -1;
    }
    /* make the rename itself durable: fsync the directory that holds both names */
    char *parent = strdup(dest);
    if (parent) {
        char *slash = strrchr(parent, '/');
        if (slash) *(slash == parent ? slash + 1 : slash) = 0;
        int pfd = open(slash ? parent : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (pfd >= 0) {
            fsync(pfd);
            close(pfd);
        }
        free(parent);
    }
    if (exchange) lds_rm_rf(stage); /* now holds the old content */
    return 0;
}

/* Hard link (our copies are never modified in place), falling back to a copy across devices. */
static int link_or_copy(const char *from, const char *to, lds_error *err)
{
    if (link(from, to) == 0) return 0;
    size_t len;
    uint8_t *d = lds_read_file(from, (size_t)1 << 31, &len, err);
    if (!d) return -1;
    int rc = lds_write_file(to, d, len, err);
    free(d);
    return rc;
}

static int link_existing(const char *old_dir, const char *stage, const lds_rec *r, lds_error *err)
{
    const char *rels[2] = {r->image_rel, r->mask_rel};
    for (int k = 0; k < 2; k++) {
        if (!rels[k]) continue;
        char *a = lds_path_join(old_dir, rels[k]), *b = lds_path_join(stage, rels[k]);
        int rc = a && b ? link_or_copy(a, b, err) : -1;
        free(a);
        free(b);
        if (rc) return -1;
    }
    return 0;
}

/* ---- validating and copying one new entry ------------------------------------------------- */

static uint8_t *binary_mask_indices(const uint8_t *png, size_t len, const char *what, int want_w, int want_h,
                                    size_t *n_defect, lds_error *err)
{
    if (lds_check_mask_header(png, len, what, want_w, want_h, err) != 0) return NULL;
    int w, h;
    uint8_t *g = lds_decode8(png, len, what, 1, &w, &h, NULL, err);
    if (!g) return NULL;
    size_t n = (size_t)w * (size_t)h, d = 0;
    for (size_t i = 0; i < n; i++) {
        g[i] = g[i] ? 1 : 0;
        d += g[i];
    }
    *n_defect = d;
    return g;
}

static int process_new(lds_rec *r, int64_t id, const char *stage, lds_error *warn, lds_error *err)
{
    size_t len;
    uint8_t *img = lds_read_file(r->src_path, LDS_MAX_BYTES, &len, err);
    /* image-folder entries are named by their path already: do not say it twice */
    int named = !strcmp(r->where, r->src_path);
    if (!img) {
        if (!named) lds_prefix_error(err, r->where);
        return -1;
    }
    char what[1200];
    if (named) snprintf(what, sizeof what, "%s", r->src_path);
    else snprintf(what, sizeof what, "%s: image %s", r->where, r->src_path);
    int fmt = lds_sniff_format(img, len);
    int w, h, c;
    uint8_t *px = lds_decode8(img, len, what, 0, &w, &h, &c, err);
    if (!px) {
        free(img);
        return -1;
    }
    free(px);
    r->w = w;
    r->h = h;
    r->ch = c;
    char rel[64];
    snprintf(rel, sizeof rel, "images/%08lld.%s", (long long)id, fmt == LDS_FMT_PNG ? "png" : "jpg");
    r->image_rel = strdup(rel);
    char *dst = lds_path_join(stage, rel);
    int rc = dst ? lds_write_file(dst, img, len, err) : -1;
    free(dst);
    free(img);
    if (rc) return -1;

    r->mask_known = 0;
    r->defect = 0;
    if (!r->mask_src_path) return 0;
    uint8_t *m = lds_read_file(r->mask_src_path, LDS_MAX_BYTES, &len, err);
    if (!m) {
        lds_prefix_error(err, r->where);
        return -1;
    }
    snprintf(what, sizeof what, "%s: mask %s", r->where, r->mask_src_path);
    size_t n_defect = 0;
    int dom = 0;
    uint8_t *idx = r->mask_binary ? binary_mask_indices(m, len, what, w, h, &n_defect, err)
                                  : lds_mask_to_indices(m, len, what, w, h, &r->cmap, r->class_of, &n_defect,
                                                        &dom, err);
    free(m);
    if (!idx) return -1;
    if (r->mask_binary && n_defect) dom = 1;
    if (r->label == 0 && n_defect) {
        lds_set_error(err, "%s: labelled normal but its mask %s has %zu defect pixels", r->where, r->mask_src_path,
                      n_defect);
        free(idx);
        return -1;
    }
    if (r->label == 1 && !n_defect)
        lds_add_warning(warn, "%s: the mask %s of this anomalous image is all background; the image keeps its "
                              "anomaly label and its mask is treated as unknown",
                        r->where, r->mask_src_path);
    r->mask_known = n_defect > 0;
    r->defect = dom;
    snprintf(rel, sizeof rel, "masks/%08lld.png", (long long)id);
    r->mask_rel = strdup(rel);
    dst = lds_path_join(stage, rel);
    rc = dst ? lds_write_png(dst, idx, w, h, 1, err) : -1;
    free(dst);
    free(idx);
    return rc;
}

/* Validates and copies every new entry of db into stage (in parallel), or reports the first
 * failure in line order and how many more there were. */
static int process_all(lds_db *db, const char *old_dir, const char *stage, lds_error *warnings, lds_error *err)
{
    size_t n = db->n;
    int64_t *ids = malloc(sizeof(int64_t) * (n ? n : 1));
    lds_error *errs = calloc(n ? n : 1, sizeof *errs);
    lds_error *warns = calloc(n ? n : 1, sizeof *warns);
    char *failed = calloc(n ? n : 1, 1);
    if (!ids || !errs || !warns || !failed) {
        free(ids);
        free(errs);
        free(warns);
        free(failed);
        lds_set_error(err, "out of memory validating %zu entries", n);
        return -1;
    }
    for (size_t i = 0; i < n; i++) ids[i] = db->recs[i].is_new ? db->next_id++ : -1;
    double now = lds_now();
#pragma omp parallel for schedule(dynamic, 1)
    for (long i = 0; i < (long)n; i++) {
        lds_rec *r = &db->recs[i];
        int rc = r->is_new ? process_new(r, ids[i], stage, &warns[i], &errs[i])
                           : link_existing(old_dir, stage, r, &errs[i]);
        if (r->is_new) r->time = now;
        failed[i] = rc != 0;
    }
    int rc = 0;
    size_t n_failed = 0;
    for (size_t i = 0; i < n; i++) {
        if (failed[i] && n_failed++ == 0) {
            memcpy(err->message, errs[i].message, sizeof err->message);
            rc = -1;
        }
        if (warns[i].message[0]) lds_add_warning(warnings, "%s", warns[i].message);
    }
    if (n_failed > 1) {
        size_t l = strlen(err->message);
        snprintf(err->message + l, sizeof err->message - l, " (and %zu more entries with errors)", n_failed - 1);
    }
    free(ids);
    free(errs);
    free(warns);
    free(failed);
    return rc;
}

/* ---- manifests -------------------------------------------------------------------------- */

typedef struct {
    lds_db *db;
    const char *name;     /* for messages */
    const char *s3_root;
    lds_error *err;
    int seen_seg;
} manifest_ctx;

static int find_source_ref(const lds_db *db, const char *ref, size_t upto)
{
    for (size_t i = 0; i < upto; i++)
        if (db->recs[i].source_ref && !strcmp(db->recs[i].source_ref, ref)) return (int)i;
    return -1;
}

/* Fills r from a parsed line: resolves the image and mask through the S3 root and maps the
 * line's defect classes onto the dataset's class list. */
static int rec_from_line(manifest_ctx *c, lds_rec *r, const char *text, size_t len, lds_line *pl)
{
    lds_error *err = c->err;
    r->json_line = strndup(text, len);
    r->source_ref = pl->source_ref;
    pl->source_ref = NULL;
    r->label = pl->label;
    r->is_new = 1;
    char what[600];
    snprintf(what, sizeof what, "%s: source-ref", r->where);
    r->src_path = lds_resolve_s3(c->s3_root, r->source_ref, what, err);
    if (!r->src_path) return -1;
    if (pl->mask_ref) {
        snprintf(what, sizeof what, "%s: mask ref", r->where);
        r->mask_src_path = lds_resolve_s3(c->s3_root, pl->mask_ref, what, err);
        if (!r->mask_src_path) return -1;
        r->cmap = pl->cmap;
        if (!c->seen_seg) memcpy(c->db->classes[0].rgb, pl->cmap.background, 3);
        c->seen_seg = 1;
        for (int k = 0; k < pl->cmap.n; k++) {
            r->class_of[k] = lds_db_class(c->db, pl->cmap.defects[k].name, pl->cmap.defects[k].rgb);
            if (r->class_of[k] < 0) {
                lds_set_error(err, "%s: class '%s' would make more than %d classes in this dataset", r->where,
                              pl->cmap.defects[k].name, LDS_MAX_CLASSES - 1);
                return -1;
            }
        }
    }
    return 0;
}

static int manifest_line_cb(const char *text, size_t len, int line_no, void *vctx)
{
    manifest_ctx *c = vctx;
    char where[512];
    snprintf(where, sizeof where, "%.480s line %d", c->name, line_no);
    lds_line pl;
    if (lds_line_parse(text, len, where, &pl, c->err) != 0) return -1;
    int prev = find_source_ref(c->db, pl.source_ref, c->db->n);
    if (prev < 0 && c->db->n >= LDS_MAX_ENTRIES) {
        lds_set_error(c->err, "%s: more than %d entries; a dataset holds at most %d images", where, LDS_MAX_ENTRIES,
                      LDS_MAX_ENTRIES);
        lds_line_free(&pl);
        return -1;
    }
    lds_rec *r = NULL;
    if (prev >= 0 && c->db->recs[prev].is_new) {
        lds_set_error(c->err, "%s: source-ref '%s' appears twice (first at %s)", where, pl.source_ref,
                      c->db->recs[prev].where);
        lds_line_free(&pl);
        return -1;
    }
    if (prev >= 0) { /* an update replaces the entry whole, in its place */
        r = &c->db->recs[prev];
        free(r->json_line);
        free(r->source_ref);
        free(r->image_rel);
        free(r->mask_rel);
        memset(r, 0, sizeof *r);
        r->label = -1;
    } else {
        r = lds_db_push(c->db);
    }
    if (!r) {
        lds_set_error(c->err, "%s: out of memory", where);
        lds_line_free(&pl);
        return -1;
    }
    memcpy(r->where, where, sizeof where);
    int rc = rec_from_line(c, r, text, len, &pl);
    lds_line_free(&pl);
    return rc;
}

static void db_init_empty(lds_db *db)
{
    memset(db, 0, sizeof *db);
    db->n_classes = 1;
    strcpy(db->classes[0].name, "background");
    db->next_id = 1;
}

/* Builds the new content in a staging dir next to dest and moves it in (exchange when updating). */
static int build_and_commit(lds_db *db, const char *old_dir, const char *dest, int exchange,
                            lds_error *warnings, lds_error *err)
{
    char *stage = stage_path(dest);
    if (!stage) {
        lds_set_error(err, "out of memory");
        return -1;
    }
    int rc = stage_create(stage, err);
    if (rc == 0) rc = process_all(db, old_dir, stage, warnings, err);
    if (rc == 0) rc = lds_db_write_text(stage, db, err);
    if (rc == 0) rc = stage_commit(stage, dest, exchange, err);
    if (rc != 0) lds_rm_rf(stage);
    free(stage);
    return rc;
}

static int check_new_dest(const char *dest_dir, lds_error *err)
{
    struct stat st;
    if (lstat(dest_dir, &st) == 0) {
        lds_set_error(err, "%s already exists", dest_dir);
        return -1;
    }
    char *parent = strdup(dest_dir);
    if (!parent) return -1;
    char *slash = strrchr(parent, '/');
    int rc = 0;
    if (slash && slash != parent) {
        *slash = 0;
        rc = lds_mkdir_p(parent, err);
    }
    free(parent);
    return rc;
}

static int import_lines(const char *dest_dir, const char *text, size_t len, const char *name, const char *s3_root,
                        lds_error *warnings, lds_error *err)
{
    lds_db db;
    db_init_empty(&db);
    manifest_ctx c = {&db, name, s3_root, err, 0};
    int rc = lds_for_each_line(text, len, manifest_line_cb, &c);
    if (rc == 0 && db.n == 0) {
        lds_set_error(err, "%s has no entries (an empty manifest)", name);
        rc = -1;
    }
    if (rc == 0) rc = build_and_commit(&db, NULL, dest_dir, 0, warnings, err);
    lds_db_free(&db);
    return rc;
}

/* Streams through the manifest once in small chunks so that a file with a 60 MB line or a
 * million lines is refused after reading only as far as the first limit it breaks, never held
 * in memory whole. */
static int manifest_prescan(const char *path, lds_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        lds_set_error(err, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    static const size_t chunk = 64 * 1024;
    char *buf = malloc(chunk);
    if (!buf) {
        fclose(f);
        lds_set_error(err, "%s: out of memory", path);
        return -1;
    }
    size_t line_len = 0, n;
    long line_no = 1, entries = 0;
    int has_text = 0, rc = 0;
    while (rc == 0 && (n = fread(buf, 1, chunk, f)) > 0) {
        for (size_t i = 0; i < n; i++) {
            char ch = buf[i];
            if (ch == '\n') {
                entries += has_text;
                has_text = 0;
                line_len = 0;
                line_no++;
                continue;
            }
            if (++line_len > LDS_MAX_LINE_BYTES) {
                lds_set_error(err, "%s line %ld: longer than %u bytes, the limit for one manifest line (refused "
                                   "without reading the rest)",
                              path, line_no, LDS_MAX_LINE_BYTES);
                rc = -1;
                break;
            }
            if (ch != ' ' && ch != '\t' && ch != '\r') has_text = 1;
            if (has_text && entries >= LDS_MAX_ENTRIES) {
                lds_set_error(err, "%s line %ld: more than %d entries; a dataset holds at most %d images (refused "
                                   "without reading the rest)",
                              path, line_no, LDS_MAX_ENTRIES, LDS_MAX_ENTRIES);
                rc = -1;
                break;
            }
        }
    }
    free(buf);
    fclose(f);
    return rc;
}

int lds_import_manifest(const char *dest_dir, const char *manifest_path, const char *s3_root,
                        lds_error *warnings, lds_error *err)
{
    if (warnings) warnings->message[0] = 0;
    if (check_new_dest(dest_dir, err) != 0) return -1;
    struct stat st;
    if (stat(manifest_path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size > LDS_MAX_MANIFEST_BYTES) {
        lds_set_error(err, "%s: manifest is %lld bytes, over the limit of %u bytes (64 MiB)", manifest_path,
                      (long long)st.st_size, LDS_MAX_MANIFEST_BYTES);
        return -1;
    }
    if (manifest_prescan(manifest_path, err) != 0) return -1;
    size_t len;
    char *text = (char *)lds_read_file(manifest_path, LDS_MAX_MANIFEST_BYTES, &len, err);
    if (!text) return -1;
    int rc = import_lines(dest_dir, text, len, manifest_path, s3_root, warnings, err);
    free(text);
    return rc;
}

int lds_create_empty(const char *dest_dir, lds_error *err)
{
    if (check_new_dest(dest_dir, err) != 0) return -1;
    lds_db db;
    db_init_empty(&db);
    int rc = build_and_commit(&db, NULL, dest_dir, 0, NULL, err);
    lds_db_free(&db);
    return rc;
}

int lds_update(const char *dataset_dir, const char *changes, size_t changes_len, const char *s3_root,
               lds_error *err)
{
    if (changes_len > LDS_MAX_MANIFEST_BYTES) {
        lds_set_error(err, "changes: %zu bytes, over the limit of %u bytes (64 MiB)", changes_len,
                      LDS_MAX_MANIFEST_BYTES);
        return -1;
    }
    lds_db db;
    if (lds_db_load(dataset_dir, &db, err) != 0) return -1;
    int seen_seg = 0;
    for (size_t i = 0; i < db.n; i++) seen_seg |= db.recs[i].mask_rel != NULL;
    manifest_ctx c = {&db, "changes", s3_root, err, seen_seg};
    int rc = lds_for_each_line(changes, changes_len, manifest_line_cb, &c);
    int any_new = 0;
    for (size_t i = 0; i < db.n; i++) any_new |= db.recs[i].is_new;
    if (rc == 0 && !any_new) {
        lds_set_error(err, "changes has no entries");
        rc = -1;
    }
    if (rc == 0) rc = build_and_commit(&db, dataset_dir, dataset_dir, 1, NULL, err);
    lds_db_free(&db);
    return rc;
}

int lds_snapshot(const char *dataset_dir, const char *dest_dir, lds_error *err)
{
    if (check_new_dest(dest_dir, err) != 0) return -1;
    lds_db db;
    if (lds_db_load(dataset_dir, &db, err) != 0) return -1;
    int rc = build_and_commit(&db, dataset_dir, dest_dir, 0, NULL, err);
    lds_db_free(&db);
    return rc;
}

/* ---- image folders ---------------------------------------------------------------------- */

static int not_hidden(const struct dirent *e) { return e->d_name[0] != '.'; }

/* A file name for messages: bytes that are not printable ASCII shown as \xNN. */
static void printable_name(const char *name, char *out, size_t cap)
{
    size_t o = 0;
    for (const uint8_t *p = (const uint8_t *)name; *p && o + 5 < cap; p++) {
        if (*p >= 0x20 && *p < 0x7f) out[o++] = (char)*p;
        else o += (size_t)snprintf(out + o, cap - o, "\\x%02x", *p);
    }
    out[o] = 0;
}

static char *folder_line(const char *src_ref, int label, const char *mask_ref)
{
    char date[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "source-ref", src_ref);
    cJSON_AddNumberToObject(o, "anomaly-label", label);
    cJSON *md = cJSON_AddObjectToObject(o, "anomaly-label-metadata");
    cJSON_AddStringToObject(md, "class-name", label ? "anomaly" : "normal");
    cJSON_AddStringToObject(md, "creation-date", date);
    cJSON_AddStringToObject(md, "human-annotated", "yes");
    cJSON_AddStringToObject(md, "job-name", "lookout-image-folder");
    cJSON_AddStringToObject(md, "type", "groundtruth/image-classification");
    if (mask_ref) {
        cJSON_AddStringToObject(o, "anomaly-mask-ref", mask_ref);
        cJSON *mm = cJSON_AddObjectToObject(o, "anomaly-mask-ref-metadata");
        cJSON *cm = cJSON_AddObjectToObject(mm, "internal-color-map");
        cJSON *c0 = cJSON_AddObjectToObject(cm, "0");
        cJSON_AddStringToObject(c0, "class-name", "BACKGROUND");
        cJSON_AddStringToObject(c0, "hex-color", "#000000");
        cJSON *c1 = cJSON_AddObjectToObject(cm, "1");
        cJSON_AddStringToObject(c1, "class-name", "anomaly");
        cJSON_AddStringToObject(c1, "hex-color", "#ffffff");
        cJSON_AddStringToObject(mm, "creation-date", date);
        cJSON_AddStringToObject(mm, "human-annotated", "yes");
        cJSON_AddStringToObject(mm, "job-name", "lookout-image-folder");
        cJSON_AddStringToObject(mm, "type", "groundtruth/semantic-segmentation");
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

static int scan_class_dir(lds_db *db, const char *root, const char *sub, int label, int *mask_used,
                          struct dirent **masks, int n_masks, lds_error *err)
{
    char *dir = lds_path_join(root, sub);
    struct dirent **list = NULL;
    int n = dir ? scandir(dir, &list, not_hidden, alphasort) : -1;
    free(dir);
    if (n < 0) return 0; /* absent class folder: that class has no images */
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        const char *dn = list[i]->d_name;
        /* The stored line is JSON (UTF-8); a name that is not UTF-8 could not be written into it
         * faithfully, and silently changing it would break the link to the file. */
        if (lds_utf8_invalid_at(dn, strlen(dn)) != (size_t)-1) {
            char shown[800];
            printable_name(dn, shown, sizeof shown);
            lds_set_error(err, "%s/%s/%s: the file name is not valid UTF-8; rename it (manifest lines are UTF-8)",
                          root, sub, shown);
            rc = -1;
            break;
        }
        if (db->n >= LDS_MAX_ENTRIES) {
            lds_set_error(err, "%s/%s: more than %d images; a dataset holds at most %d", root, sub, LDS_MAX_ENTRIES,
                          LDS_MAX_ENTRIES);
            rc = -1;
            break;
        }
        char rel[1024];
        snprintf(rel, sizeof rel, "%s/%s", sub, list[i]->d_name);
        lds_rec *r = lds_db_push(db);
        if (!r) {
            lds_set_error(err, "out of memory");
            rc = -1;
            break;
        }
        char *abs = lds_path_join(root, rel);
        snprintf(r->where, sizeof r->where, "%.500s", abs ? abs : rel);
        r->source_ref = abs;
        r->label = label;
        r->is_new = 1;
        r->src_path = lds_resolve_inside(root, rel, "image folder", err);
        if (!r->src_path) {
            rc = -1;
            break;
        }
        struct stat st;
        if (stat(r->src_path, &st) != 0 || !S_ISREG(st.st_mode)) {
            lds_set_error(err, "%s: not a regular file (only images belong in %s/)", r->where, sub);
            rc = -1;
            break;
        }
        /* The mask of anomaly/<stem>.* is mask/<stem>.png. */
        char *mask_ref = NULL;
        if (label == 1) {
            const char *name = list[i]->d_name, *dot = strrchr(name, '.');
            size_t stem = dot ? (size_t)(dot - name) : strlen(name);
            for (int k = 0; k < n_masks; k++) {
                const char *mn = masks[k]->d_name;
                if (strlen(mn) == stem + 4 && !strncmp(mn, name, stem) && !strcmp(mn + stem, ".png")) {
                    char mrel[1024];
                    snprintf(mrel, sizeof mrel, "mask/%s", mn);
                    r->mask_src_path = lds_resolve_inside(root, mrel, "image folder mask", err);
                    if (!r->mask_src_path) rc = -1;
                    r->mask_binary = 1;
                    mask_used[k] = 1;
                    mask_ref = lds_path_join(root, mrel);
                    break;
                }
            }
        }
        if (rc == 0) {
            r->json_line = folder_line(abs ? abs : rel, label, mask_ref);
            if (!r->json_line) {
                lds_set_error(err, "out of memory");
                rc = -1;
            }
        }
        free(mask_ref);
    }
    for (int i = 0; i < n; i++) free(list[i]);
    free(list);
    return rc;
}

int lds_import_folder(const char *dest_dir, const char *folder, lds_error *warnings, lds_error *err)
{
    if (warnings) warnings->message[0] = 0;
    char *root = realpath(folder, NULL);
    struct stat st;
    if (!root || stat(root, &st) != 0 || !S_ISDIR(st.st_mode)) {
        lds_set_error(err, "image folder %s: not a readable directory", folder);
        free(root);
        return -1;
    }
    if (lds_utf8_invalid_at(root, strlen(root)) != (size_t)-1) {
        char shown[800];
        printable_name(root, shown, sizeof shown);
        lds_set_error(err, "image folder %s: the path is not valid UTF-8; rename it (manifest lines are UTF-8)",
                      shown);
        free(root);
        return -1;
    }
    if (check_new_dest(dest_dir, err) != 0) {
        free(root);
        return -1;
    }
    lds_db db;
    db_init_empty(&db);
    uint8_t bg[3] = {0, 0, 0}, fg[3] = {255, 255, 255};
    memcpy(db.classes[0].rgb, bg, 3);
    struct dirent **masks = NULL;
    char *mdir = lds_path_join(root, "mask");
    int n_masks = mdir ? scandir(mdir, &masks, not_hidden, alphasort) : -1;
    free(mdir);
    if (n_masks < 0) n_masks = 0;
    int *used = calloc((size_t)n_masks + 1, sizeof *used);
    int rc = used ? 0 : -1;
    if (rc == 0) rc = scan_class_dir(&db, root, "normal", 0, used, masks, n_masks, err);
    if (rc == 0) rc = scan_class_dir(&db, root, "anomaly", 1, used, masks, n_masks, err);
    if (rc == 0 && db.n == 0) {
        lds_set_error(err, "image folder %s: no images in %s/normal/ or %s/anomaly/", folder, folder, folder);
        rc = -1;
    }
    for (int k = 0; rc == 0 && k < n_masks; k++)
        if (!used[k]) lds_add_warning(warnings, "%s/mask/%s: no anomaly/ image with this stem; ignored", root,
                                      masks[k]->d_name);
    int any_mask = 0;
    for (size_t i = 0; i < db.n; i++) any_mask |= db.recs[i].mask_src_path != NULL;
    if (any_mask) lds_db_class(&db, "anomaly", fg);
    for (size_t i = 0; i < db.n; i++) db.recs[i].class_of[0] = 1;
    if (rc == 0) rc = build_and_commit(&db, NULL, dest_dir, 0, warnings, err);
    for (int k = 0; k < n_masks; k++) free(masks[k]);
    free(masks);
    free(used);
    lds_db_free(&db);
    free(root);
    return rc;
}
