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
/* A PNG with 16-bit samples (stb_image_write only writes 8-bit): stored deflate blocks. */
static inline uint32_t tds_crc(const uint8_t *d, size_t n, uint32_t crc)
{
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= d[i];
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
    }
    return ~crc;
}

static inline void tds_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static inline void tds_chunk(FILE *f, const char *type, const uint8_t *d, uint32_t n)
{
    uint8_t hdr[8];
    tds_be32(hdr, n);
    memcpy(hdr + 4, type, 4);
    fwrite(hdr, 1, 8, f);
    if (n) fwrite(d, 1, n, f);
    uint8_t crc[4];
    tds_be32(crc, tds_crc(d, n, tds_crc((const uint8_t *)type, 4, 0)));
    fwrite(crc, 1, 4, f);
}

/* samples: h*w*channels 16-bit values; channels 1 (gray) or 3 (RGB). */
static inline void tds_write_png16(const char *path, const uint16_t *samples, int w, int h, int channels)
{
    size_t row = 1 + (size_t)w * (size_t)channels * 2, raw_n = row * (size_t)h;
    uint8_t *raw = malloc(raw_n);
    for (int y = 0; y < h; y++) {
        raw[(size_t)y * row] = 0;
        for (int i = 0; i < w * channels; i++) {
            uint16_t v = samples[(size_t)y * (size_t)w * (size_t)channels + (size_t)i];
            raw[(size_t)y * row + 1 + 2 * (size_t)i] = (uint8_t)(v >> 8);
            raw[(size_t)y * row + 2 + 2 * (size_t)i] = (uint8_t)v;
        }
    }
    size_t nblocks = (raw_n + 65534) / 65535, zn = 2 + raw_n + 5 * nblocks + 4;
    uint8_t *z = malloc(zn), *o = z;
    *o++ = 0x78; *o++ = 0x01;
    uint32_t s1 = 1, s2 = 0;
    for (size_t i = 0; i < raw_n; i++) { s1 = (s1 + raw[i]) % 65521; s2 = (s2 + s1) % 65521; }
    for (size_t off = 0; off < raw_n; off += 65535) {
        size_t n = raw_n - off < 65535 ? raw_n - off : 65535;
        *o++ = off + n == raw_n;
        *o++ = (uint8_t)n; *o++ = (uint8_t)(n >> 8);
        *o++ = (uint8_t)~n; *o++ = (uint8_t)(~n >> 8);
        memcpy(o, raw + off, n);
        o += n;
    }
    tds_be32(o, s2 << 16 | s1);
    FILE *f = fopen(path, "wb");
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
    fwrite(sig, 1, 8, f);
    uint8_t ihdr[13];
    tds_be32(ihdr, (uint32_t)w);
    tds_be32(ihdr + 4, (uint32_t)h);
    ihdr[8] = 16; ihdr[9] = channels == 3 ? 2 : 0; ihdr[10] = ihdr[11] = ihdr[12] = 0;
    tds_chunk(f, "IHDR", ihdr, 13);
    tds_chunk(f, "IDAT", z, (uint32_t)zn);
    tds_chunk(f, "IEND", NULL, 0);
    fclose(f);
    free(raw);
    free(z);
}
#endif
