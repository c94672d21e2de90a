/* accuracy_protocol.c — issue 5's accuracy protocol: which images of a shared dataset are train
 * and which are test, laid out as two ImageFolder trees (normal/, anomaly/, mask/) that
 * `lds_import_folder` or `lookout create-dataset --dataset-source ImageFolder=...` import. Files are
 * hard links (the import refuses symlinks that leave the folder), copies across file systems.
 *
 *  - where manifest.csv has a split column, it is used;
 *  - otherwise each label's image paths are sorted and index i with i % 10 in {2, 5, 8} is test;
 *  - at most `max_train_normal` training normals (evenly spaced in sorted order; 300 for
 *    magnetic_tile, 0 = all).
 *
 * Normal-only mode (no defect photos, as a new line's first project has): the test part above is
 * left out; of its training part every third normal (index j % 3 == 1 in sorted order) and every
 * anomaly are the test, and the remaining normals the training set. The test images then come
 * from the same session as the training ones (cookies' own test photos are another session: the
 * first normal-only try on them measured that shift, ROC AUC 0.28, not the defects).
 */
#define _GNU_SOURCE
#include "accuracy_protocol.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    char split[16], label[16], image[512], mask[512];
} row;

static int cmp_row(const void *a, const void *b) { return strcmp(((const row *)a)->image, ((const row *)b)->image); }

/* splits a CSV line on commas (the manifests quote nothing) */
static int csv_fields(char *line, char **f, int max) {
    int n = 0;
    f[n++] = line;
    for (char *p = line; *p && n < max; p++)
        if (*p == ',') {
            *p = 0;
            f[n++] = p + 1;
        }
    return n;
}

static int mkdirs(const char *path) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
            *p = '/';
        }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* hard link, or a copy when src is on another file system */
static int place(const char *src, const char *dst) {
    if (link(src, dst) == 0 || errno == EEXIST) return 0;
    FILE *in = fopen(src, "rb"), *out = in ? fopen(dst, "wb") : NULL;
    int rc = in && out ? 0 : -1;
    char buf[65536];
    size_t n;
    while (rc == 0 && (n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n) rc = -1;
    if (in) fclose(in);
    if (out && fclose(out) != 0) rc = -1;
    return rc;
}

static int link_into(const char *data_dir, const row *r, const char *dest, char *err, size_t errlen) {
    char src[8192], dst[8192], sub[4600];
    const char *base = strrchr(r->image, '/');
    base = base ? base + 1 : r->image;
    snprintf(sub, sizeof sub, "%s/%s", dest, strcmp(r->label, "anomaly") == 0 ? "anomaly" : "normal");
    if (mkdirs(sub) != 0) return snprintf(err, errlen, "cannot create %s: %s", sub, strerror(errno)), -1;
    snprintf(src, sizeof src, "%s/%s", data_dir, r->image);
    snprintf(dst, sizeof dst, "%s/%s", sub, base);
    if (place(src, dst) != 0)
        return snprintf(err, errlen, "cannot link %s: %s", dst, strerror(errno)), -1;
    if (r->mask[0] && strcmp(r->label, "anomaly") == 0) {
        /* the ImageFolder layout finds the mask by the image's stem */
        char stem[512];
        snprintf(stem, sizeof stem, "%s", base);
        char *dot = strrchr(stem, '.');
        if (dot) *dot = 0;
        snprintf(sub, sizeof sub, "%s/mask", dest);
        if (mkdirs(sub) != 0) return snprintf(err, errlen, "cannot create %s", sub), -1;
        snprintf(src, sizeof src, "%s/%s", data_dir, r->mask);
        snprintf(dst, sizeof dst, "%s/%s.png", sub, stem);
        if (place(src, dst) != 0)
            return snprintf(err, errlen, "cannot link %s: %s", dst, strerror(errno)), -1;
    }
    return 0;
}

int acc_protocol_prepare(const char *data_dir, int max_train_normal, int normal_only, const char *train_dir,
                         const char *test_dir, acc_split_counts *counts, char *err, size_t errlen) {
    memset(counts, 0, sizeof *counts);
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest.csv", data_dir);
    FILE *f = fopen(path, "r");
    if (!f) return snprintf(err, errlen, "%s: %s", path, strerror(errno)), -1;
    size_t cap = 256, n = 0;
    row *rows = malloc(cap * sizeof *rows);
    char line[4096];
    int has_split = 0, lineno = 0;
    while (fgets(line, sizeof line, f)) {
        if (lineno++ == 0) continue; /* header */
        line[strcspn(line, "\r\n")] = 0;
        char *fl[8];
        if (csv_fields(line, fl, 8) < 4) continue;
        if (n == cap) rows = realloc(rows, (cap *= 2) * sizeof *rows);
        row *r = &rows[n++];
        snprintf(r->split, sizeof r->split, "%s", fl[0]);
        snprintf(r->label, sizeof r->label, "%s", fl[1]);
        snprintf(r->image, sizeof r->image, "%s", fl[2]);
        snprintf(r->mask, sizeof r->mask, "%s", fl[3]);
        has_split |= r->split[0] != 0;
    }
    fclose(f);
    qsort(rows, n, sizeof *rows, cmp_row);
    /* 0 train, 1 test */
    int *part = calloc(n + 1, sizeof *part);
    for (int lab = 0; lab < 2; lab++) {
        const char *want = lab ? "anomaly" : "normal";
        size_t i_class = 0, n_train_class = 0;
        for (size_t i = 0; i < n; i++) {
            if (strcmp(rows[i].label, want) != 0) continue;
            if (has_split) part[i] = strcmp(rows[i].split, "test") == 0;
            else {
                int m = (int)(i_class % 10);
                part[i] = m == 2 || m == 5 || m == 8;
            }
            i_class++;
            if (!part[i]) n_train_class++;
        }
        /* cap the training normals, evenly spaced over the sorted order */
        if (lab == 0 && max_train_normal > 0 && n_train_class > (size_t)max_train_normal) {
            size_t j = 0, kept = 0;
            for (size_t i = 0; i < n; i++) {
                if (strcmp(rows[i].label, want) != 0 || part[i]) continue;
                /* keep train normal j when it is the first at or after k * n / max for some k */
                size_t k = kept;
                if (k < (size_t)max_train_normal && j >= k * n_train_class / (size_t)max_train_normal) kept++;
                else part[i] = -1; /* dropped */
                j++;
            }
        }
    }
    if (normal_only) {
        size_t j = 0;
        for (size_t i = 0; i < n; i++) {
            if (part[i] != 0) part[i] = -1;
            else if (strcmp(rows[i].label, "anomaly") == 0) part[i] = 1;
            else part[i] = j++ % 3 == 1;
        }
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (part[i] < 0) continue;
        int anom = strcmp(rows[i].label, "anomaly") == 0;
        if (part[i]) anom ? counts->test_anomaly++ : counts->test_normal++;
        else anom ? counts->train_anomaly++ : counts->train_normal++;
        rc = link_into(data_dir, &rows[i], part[i] ? test_dir : train_dir, err, errlen);
    }
    counts->used_manifest_split = has_split;
    free(part);
    free(rows);
    return rc;
}
