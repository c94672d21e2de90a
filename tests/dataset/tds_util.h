/* tds_util.h — small helpers shared by the dataset tests: checks that count failures, temp dirs,
 * manifest.csv counts of ../shared/data, and fixture writers. */
#ifndef TDS_UTIL_H
#define TDS_UTIL_H

#include "dataset.h"
#include "lds_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int tds_failures;
#define CHECK(cond, ...)                                                                     \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            tds_failures++;                                                                  \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond);          \
            fprintf(stderr, __VA_ARGS__);                                                    \
            fputc('\n', stderr);                                                             \
        }                                                                                    \
    } while (0)

static inline char *tds_tmpdir(const char *tag)
{
    char tmpl[256];
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmpl, sizeof tmpl, "%s/lds-%s-XXXXXX", base, tag);
    char *d = mkdtemp(tmpl);
    if (!d) {
        perror("mkdtemp");
        exit(2);
    }
    return strdup(d);
}

static inline char *tds_join(const char *a, const char *b)
{
    return lds_path_join(a, b);
}

/* Counts manifest.csv rows of a shared dataset: split ("" any) x label. */
static inline int tds_csv_count(const char *data, const char *name, const char *split, const char *label)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/manifest.csv", data, name);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[4096];
    int n = 0;
    fgets(line, sizeof line, f); /* header */
    while (fgets(line, sizeof line, f)) {
        char *c1 = strchr(line, ',');
        if (!c1) continue;
        char *c2 = strchr(c1 + 1, ',');
        if (!c2) continue;
        if (*split && (strncmp(line, split, (size_t)(c1 - line)) || strlen(split) != (size_t)(c1 - line))) continue;
        if ((size_t)(c2 - c1 - 1) != strlen(label) || strncmp(c1 + 1, label, strlen(label))) continue;
        n++;
    }
    fclose(f);
    return n;
}

static inline void tds_write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(2);
    }
    fwrite(text, 1, strlen(text), f);
    fclose(f);
}

static inline char *tds_read_text(const char *path)
{
    size_t len;
    lds_error e;
    return (char *)lds_read_file(path, (size_t)1 << 30, &len, &e);
}

/* A deterministic w x h RGB test picture (gradient + checker) as PNG at path. */
static inline void tds_write_picture(const char *path, int w, int h, int channels, unsigned seed)
{
    uint8_t *px = malloc((size_t)w * (size_t)h * (size_t)channels);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < channels; c++)
                px[((size_t)y * (size_t)w + (size_t)x) * (size_t)channels + (size_t)c] =
                    (uint8_t)((x * 3 + y * 5 + c * 40 + (int)seed * 17 + (((x / 8) + (y / 8)) & 1) * 60) & 255);
    lds_error e;
    if (lds_write_png(path, px, w, h, channels, &e) != 0) {
        fprintf(stderr, "%s\n", e.message);
        exit(2);
    }
    free(px);
}

static inline void tds_mkdirs(const char *path)
{
    lds_error e;
    if (lds_mkdir_p(path, &e) != 0) {
        fprintf(stderr, "%s\n", e.message);
        exit(2);
    }
}

/* Places src at dst (hard link, else copy): fixtures point into ../shared/data without copying. */
static inline void tds_place(const char *src, const char *dst)
{
    if (link(src, dst) == 0) return;
    size_t len;
    lds_error e;
    uint8_t *d = lds_read_file(src, (size_t)1 << 30, &len, &e);
    if (!d || lds_write_file(dst, d, len, &e) != 0) {
        fprintf(stderr, "%s\n", e.message);
        exit(2);
    }
    free(d);
}

static inline int tds_exists(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0;
}

static inline int tds_done(const char *name)
{
    if (tds_failures) {
        fprintf(stderr, "%s: %d check(s) failed\n", name, tds_failures);
        return 1;
    }
    printf("%s: all checks passed\n", name);
    return 0;
}
#endif
