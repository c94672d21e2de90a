/* batch_source.c — the images of a batch job: an image folder (normal/, anomaly/, loose files) or
 * a Ground Truth manifest read one line at a time, so a manifest of any length costs one line of
 * memory. source-refs resolve through the local S3 mirror and may not leave it. */
#define _GNU_SOURCE
#include "batch_internal.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define BATCH_MAX_LINE (64u * 1024u) /* one manifest line, as the dataset importer allows */

void lo_batch_item_clear(lo_batch_item *it) {
    free(it->source_ref);
    free(it->path);
    free(it->error);
    lo_detect_result_free(&it->res);
    memset(it, 0, sizeof *it);
    it->label = -1;
}

void lo_batch_item_fail(lo_batch_item *it, const char *fmt, ...) {
    char buf[2304];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    free(it->error);
    it->error = strdup(buf);
}

static int has_image_ext(const char *name) {
    const char *dot = strrchr(name, '.');
    return dot && (!strcasecmp(dot, ".png") || !strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg"));
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Appends the image files of dir (sorted) with their label; a missing dir adds nothing. */
static int add_dir(lo_batch_source *src, const char *dir, int label, int required, char *msg, size_t cap) {
    DIR *d = opendir(dir);
    if (!d) {
        if (!required && errno == ENOENT) return 0;
        snprintf(msg, cap, "cannot read the image folder %s: %s", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0, ncap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char *p = NULL;
        if (asprintf(&p, "%s/%s", dir, e->d_name) < 0) break;
        struct stat st;
        if (stat(p, &st) != 0 || !S_ISREG(st.st_mode)) { /* sub-folders (mask/) are not inputs */
            free(p);
            continue;
        }
        if (!has_image_ext(e->d_name)) {
            src->n_skipped++;
            free(p);
            continue;
        }
        if (n == ncap) {
            ncap = ncap ? 2 * ncap : 64;
            char **t = realloc(names, ncap * sizeof *t);
            if (!t) { free(p); break; }
            names = t;
        }
        names[n++] = p;
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, cmp_str);
    char **np = realloc(src->paths, (src->n + n + 1) * sizeof *np);
    int *lp = realloc(src->labels, (src->n + n + 1) * sizeof *lp);
    if (np) src->paths = np;
    if (lp) src->labels = lp;
    if (!np || !lp) {
        for (size_t i = 0; i < n; i++) free(names[i]);
        free(names);
        snprintf(msg, cap, "out of memory listing %s", dir);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        src->paths[src->n] = names[i];
        src->labels[src->n++] = label;
    }
    free(names);
    return 0;
}

int lo_batch_source_folder(lo_batch_source *src, const char *dir, char *msg, size_t cap) {
    memset(src, 0, sizeof *src);
    struct stat st;
    if (stat(dir, &st) != 0) {
        snprintf(msg, cap, "--image-folder %s: %s", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(msg, cap, "--image-folder %s is not a folder", dir);
        return -1;
    }
    char *normal = NULL, *anomaly = NULL;
    if (asprintf(&normal, "%s/normal", dir) < 0 || asprintf(&anomaly, "%s/anomaly", dir) < 0) {
        free(normal);
        snprintf(msg, cap, "out of memory");
        return -1;
    }
    int rc = add_dir(src, normal, 0, 0, msg, cap);
    if (!rc) rc = add_dir(src, anomaly, 1, 0, msg, cap);
    if (!rc) rc = add_dir(src, dir, -1, 1, msg, cap);
    free(normal);
    free(anomaly);
    if (!rc && src->n == 0) {
        snprintf(msg, cap, "--image-folder %s holds no PNG or JPEG image (looked in %s/normal/, %s/anomaly/ and %s/)",
                 dir, dir, dir, dir);
        rc = -1;
    }
    if (rc) lo_batch_source_close(src);
    return rc;
}

char *lo_batch_resolve_s3(const char *s3_root_real, const char *uri, char *msg, size_t cap) {
    if (strncmp(uri, "s3://", 5) != 0) {
        snprintf(msg, cap, "'%.512s' is not an s3://BUCKET/KEY URI", uri);
        return NULL;
    }
    const char *b = uri + 5, *slash = strchr(b, '/');
    if (!slash || slash == b || !slash[1]) {
        snprintf(msg, cap, "'%.512s' needs both a bucket and a key (s3://BUCKET/KEY)", uri);
        return NULL;
    }
    size_t bl = (size_t)(slash - b);
    int ok = bl >= 3 && bl <= 63;
    for (size_t i = 0; ok && i < bl; i++) ok = isalnum((unsigned char)b[i]) || strchr(".-_", b[i]);
    if (!ok) {
        snprintf(msg, cap, "'%.512s': the bucket is not a valid S3 bucket name (3 to 63 of a-z A-Z 0-9 . - _)", uri);
        return NULL;
    }
    /* every segment of the key must be a plain name: "", "." and ".." would walk the mirror */
    for (const char *seg = slash + 1;;) {
        const char *end = strchr(seg, '/');
        size_t sl = end ? (size_t)(end - seg) : strlen(seg);
        if (sl == 0 || (sl == 1 && seg[0] == '.') || (sl == 2 && seg[0] == '.' && seg[1] == '.')) {
            snprintf(msg, cap, "'%.512s': the key has an empty, '.' or '..' segment (it would leave the S3 mirror)", uri);
            return NULL;
        }
        if (!end) break;
        seg = end + 1;
    }
    char *joined = NULL;
    if (asprintf(&joined, "%s/%s", s3_root_real, b) < 0) {
        snprintf(msg, cap, "out of memory");
        return NULL;
    }
    char *real = realpath(joined, NULL);
    if (!real) {
        snprintf(msg, cap, "%.512s: no such object (looked for %.1024s: %s)", uri, joined, strerror(errno));
        free(joined);
        return NULL;
    }
    size_t rl = strlen(s3_root_real);
    if (strncmp(real, s3_root_real, rl) != 0 || real[rl] != '/') {
        snprintf(msg, cap, "%.512s resolves to %.1024s, outside the S3 mirror %.1024s (symlink escape refused)", uri,
                 real, s3_root_real);
        free(real);
        real = NULL;
    }
    free(joined);
    return real;
}

int lo_batch_source_manifest(lo_batch_source *src, const char *where, const char *s3_root, char *msg, size_t cap) {
    memset(src, 0, sizeof *src);
    src->s3_root_real = realpath(s3_root, NULL);
    char *path = NULL;
    if (!strncmp(where, "s3://", 5)) {
        if (!src->s3_root_real) {
            snprintf(msg, cap, "cannot resolve --manifest %s: the S3 mirror %s is missing (%s)", where, s3_root,
                     strerror(errno));
            return -1;
        }
        char m2[2048];
        path = lo_batch_resolve_s3(src->s3_root_real, where, m2, sizeof m2);
        if (!path) {
            snprintf(msg, cap, "--manifest: %s", m2);
            lo_batch_source_close(src);
            return -1;
        }
    } else {
        path = strdup(where);
    }
    src->manifest = path ? fopen(path, "r") : NULL;
    if (!src->manifest) {
        snprintf(msg, cap, "cannot open the manifest %s: %s", path ? path : where, strerror(errno));
        free(path);
        lo_batch_source_close(src);
        return -1;
    }
    src->manifest_name = path;
    return 0;
}

/* The label of a Ground Truth line: an attribute whose -metadata is an image classification
 * (class-name normal/anomaly), as the dataset importer reads it; -1 when none. */
static int line_label(const cJSON *root) {
    int label = -1;
    const cJSON *item;
    cJSON_ArrayForEach(item, root) {
        size_t kl = strlen(item->string);
        if (kl <= 9 || strcmp(item->string + kl - 9, "-metadata") || !cJSON_IsObject(item)) continue;
        if (cJSON_GetObjectItemCaseSensitive(item, "internal-color-map")) continue;
        const cJSON *cls = cJSON_GetObjectItemCaseSensitive(item, "class-name");
        if (!cJSON_IsString(cls)) continue;
        if (!strcmp(cls->valuestring, "normal")) label = 0;
        else if (!strcmp(cls->valuestring, "anomaly")) label = 1;
    }
    return label;
}

static int manifest_next(lo_batch_source *src, lo_batch_item *it, char *msg, size_t cap) {
    for (;;) {
        errno = 0;
        ssize_t len = getline(&src->line, &src->line_cap, src->manifest);
        if (len < 0) {
            if (ferror(src->manifest)) {
                snprintf(msg, cap, "reading the manifest %s after line %ld: %s", src->manifest_name, src->line_no,
                         strerror(errno ? errno : EIO));
                return -1;
            }
            return 0;
        }
        src->line_no++;
        while (len > 0 && (src->line[len - 1] == '\n' || src->line[len - 1] == '\r')) src->line[--len] = 0;
        size_t sp = 0;
        while (sp < (size_t)len && isspace((unsigned char)src->line[sp])) sp++;
        if (sp == (size_t)len) continue; /* blank lines separate nothing in JSON Lines */
        char where[64];
        snprintf(where, sizeof where, "manifest line %ld", src->line_no);
        if ((size_t)len > BATCH_MAX_LINE) {
            it->source_ref = strdup(where);
            lo_batch_item_fail(it, "%s of %s is %zd bytes; a line may be at most %u bytes", where, src->manifest_name,
                               len, BATCH_MAX_LINE);
            return 1;
        }
        cJSON *root = cJSON_ParseWithLength(src->line, (size_t)len);
        const cJSON *ref = cJSON_GetObjectItemCaseSensitive(root, "source-ref");
        if (!cJSON_IsObject(root) || !cJSON_IsString(ref) || !ref->valuestring[0]) {
            it->source_ref = strdup(where);
            lo_batch_item_fail(it, "%s of %s: %s", where, src->manifest_name,
                               !cJSON_IsObject(root) ? "not a JSON object" : "no \"source-ref\" string");
            cJSON_Delete(root);
            return 1;
        }
        it->source_ref = strdup(ref->valuestring);
        it->label = line_label(root);
        cJSON_Delete(root);
        char m2[3072];
        if (!src->s3_root_real) {
            lo_batch_item_fail(it, "%s: cannot resolve %s: the S3 mirror ($LOOKOUT_S3_ROOT) is missing", where,
                               it->source_ref);
            return 1;
        }
        it->path = lo_batch_resolve_s3(src->s3_root_real, it->source_ref, m2, sizeof m2);
        if (!it->path) lo_batch_item_fail(it, "%s: %s", where, m2);
        return 1;
    }
}

int lo_batch_source_next(lo_batch_source *src, lo_batch_item *it, char *msg, size_t cap) {
    lo_batch_item_clear(it);
    if (src->manifest) return manifest_next(src, it, msg, cap);
    if (src->next >= src->n) return 0;
    it->source_ref = strdup(src->paths[src->next]);
    it->path = strdup(src->paths[src->next]);
    it->label = src->labels[src->next];
    src->next++;
    if (!it->source_ref || !it->path) {
        snprintf(msg, cap, "out of memory");
        return -1;
    }
    return 1;
}

void lo_batch_source_close(lo_batch_source *src) {
    for (size_t i = 0; i < src->n; i++) free(src->paths[i]);
    free(src->paths);
    free(src->labels);
    if (src->manifest) fclose(src->manifest);
    free(src->manifest_name);
    free(src->s3_root_real);
    free(src->line);
    memset(src, 0, sizeof *src);
}
