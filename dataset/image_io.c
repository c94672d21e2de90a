/* image_io.c — safe decoding (format by content, header limits checked with stbi_info before any
 * decode), conversion to the model's channel count, resizing, and PNG writing.
 * JPEGs decode with libjpeg-turbo (SIMD, and DCT-domain downscaling: a 576x768 photo bound for a
 * 160x224 input decodes at 1/2 scale straight from the coefficients); PNGs, and the few JPEG
 * colour spaces libjpeg will not turn into RGB (CMYK, YCCK), with stb_image. */
#include "lds_internal.h"

#include <jpeglib.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <zlib.h>
#include <stdlib.h>
#include <string.h>

/* stb_image is compiled here, privately (STB_IMAGE_STATIC), with only its PNG and JPEG decoders
 * and an allocator that enforces a per-decode byte budget. Debian's prebuilt libstb grows its
 * inflate buffer without limit, so an 8 MB PNG whose header says 64x64 could inflate to
 * gigabytes; with the budget the decode stops at a bound computed from the header. */
static _Thread_local size_t lds_stb_budget, lds_stb_used;
static _Thread_local int lds_stb_over;

static void *lds_stb_malloc(size_t n)
{
    if (lds_stb_budget && lds_stb_used + n > lds_stb_budget) {
        lds_stb_over = 1;
        return NULL;
    }
    void *p = malloc(n);
    if (p) lds_stb_used += malloc_usable_size(p);
    return p;
}

static void lds_stb_free(void *p)
{
    if (!p) return;
    size_t n = malloc_usable_size(p);
    lds_stb_used = lds_stb_used > n ? lds_stb_used - n : 0;
    free(p);
}

static void *lds_stb_realloc(void *p, size_t n)
{
    size_t old = p ? malloc_usable_size(p) : 0;
    if (lds_stb_budget && lds_stb_used - old + n > lds_stb_budget) {
        lds_stb_over = 1;
        return NULL;
    }
    void *q = realloc(p, n);
    if (q) lds_stb_used = lds_stb_used - old + malloc_usable_size(q);
    return q;
}

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STBI_MALLOC(n) lds_stb_malloc(n)
#define STBI_REALLOC(p, n) lds_stb_realloc(p, n)
#define STBI_FREE(p) lds_stb_free(p)
/* stb declares entry points it never defines when decoders are left out; the diagnostic fires at
 * the end of the file, so it stays off for the whole file. */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wdouble-promotion"
#pragma GCC diagnostic ignored "-Wcast-qual"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#include <stb_image.h>
#pragma GCC diagnostic pop
#include <stb_image_write.h>

/* Largest decoded/compressed ratio accepted before decoding: deflate cannot expand more than
 * 1032:1 (a 258-byte match in two bits), and a baseline JPEG needs at least 2 bits per 8x8
 * block (683:1 at the widest subsampling), so complete images always pass. */
#define LDS_MAX_EXPANSION 1032u
/* A progressive JPEG walks every block once per scan; thousands of tiny scans in an 8 MB file
 * would take minutes. Encoders write about 10. */
#define LDS_MAX_JPEG_SCANS 100

int lds_sniff_format(const uint8_t *d, size_t len)
{
    static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
    if (len >= 8 && memcmp(d, png_magic, 8) == 0) return LDS_FMT_PNG;
    if (len >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return LDS_FMT_JPEG;
    return LDS_FMT_UNKNOWN;
}

/* JPEG markers checked before stb reads any of them (stbi_info parses the tables too). */
static int check_jpeg_markers(const uint8_t *d, size_t len, const char *what, lds_error *err)
{
    int scans = 0;
    for (size_t i = 0; i + 1 < len; i++) {
        if (d[i] != 0xFF) continue;
        if (d[i + 1] == 0xDA) scans++;
        if (d[i + 1] != 0xC4 || i + 4 > len) continue;
        /* stb_image (2022) fills a 257-entry table from a DHT's 16 code counts without checking
         * that they sum to at most 256: a crafted table writes past it (found by fuzz_image). */
        /* walk the tables as stb does: it reads 17 bytes per table whatever the length says */
        long left = ((long)d[i + 2] << 8 | d[i + 3]) - 2;
        size_t p = i + 4;
        while (left > 0 && p < len) {
            unsigned n = 0;
            for (size_t k = 1; k <= 16 && p + k < len; k++) n += d[p + k];
            if (n > 256) {
                lds_set_error(err, "%s: JPEG Huffman table at byte %zu declares %u codes (at most 256): corrupt "
                                   "or crafted, refused before decoding",
                              what, p, n);
                return -1;
            }
            p += 17 + n;
            left -= 17 + (long)n;
        }
    }
    if (scans > LDS_MAX_JPEG_SCANS) {
        lds_set_error(err, "%s: JPEG with %d scans (the limit is %d; encoders write about 10): refused, "
                           "decoding would take minutes",
                      what, scans, LDS_MAX_JPEG_SCANS);
        return -1;
    }
    return 0;
}

/* stb_image offsets a NULL buffer when the first IDAT chunk is empty (undefined behaviour, found
 * by fuzz_image); no encoder writes one, so such files are refused. */
static int check_png_chunks(const uint8_t *d, size_t len, const char *what, lds_error *err)
{
    for (size_t p = 8; p + 8 <= len;) {
        size_t n = (size_t)d[p] << 24 | (size_t)d[p + 1] << 16 | (size_t)d[p + 2] << 8 | d[p + 3];
        if (!memcmp(d + p + 4, "IDAT", 4)) {
            if (n == 0) {
                lds_set_error(err, "%s: PNG whose first IDAT chunk (byte %zu) is empty: refused", what, p);
                return -1;
            }
            return 0;
        }
        if (n > len - p - 8) return 0; /* truncated: stb reports it */
        p += n + 12;
    }
    return 0;
}

/* Refuses, before any decoding, files whose header declares far more pixel data than the
 * compressed bytes could hold (LDS_MAX_EXPANSION). For PNG
 * the bound is on the inflated rows (bit depth and samples from IHDR, so 1-bit masks are judged
 * by their real size); for JPEG on the decoded 8-bit pixels. */
static int check_expansion(const uint8_t *d, size_t len, const char *what, int w, int h, int comp, lds_error *err)
{
    double pixels = (double)w * (double)h, need;
    const char *kind;
    char desc[64];
    if (lds_sniff_format(d, len) == LDS_FMT_PNG) {
        if (len < 29) return 0; /* stbi_info accepted it; nothing to bound */
        int depth = d[24], ctype = d[25];
        static const int samples[7] = {1, 0, 3, 1, 2, 0, 4};
        static const char *names[7] = {"gray", "?", "RGB", "palette", "gray+alpha", "?", "RGBA"};
        int ns = ctype <= 6 && samples[ctype] ? samples[ctype] : comp;
        need = pixels * ns * depth / 8.0;
        snprintf(desc, sizeof desc, "%d-bit %s", depth, ctype <= 6 ? names[ctype] : "?");
        kind = "PNG";
    } else {
        need = pixels * comp;
        snprintf(desc, sizeof desc, "%d-channel", comp);
        kind = "JPEG";
    }
    if (need > (double)LDS_MAX_EXPANSION * (double)len) {
        lds_set_error(err, "%s: header declares %dx%d %s pixels (%.1f MB of data) in a %zu-byte file: more "
                           "than %u times expansion, which no complete %s reaches (a decompression bomb or a "
                           "truncated file); refused before decoding",
                      what, w, h, desc, need / 1e6, len, LDS_MAX_EXPANSION, kind);
        return -1;
    }
    return 0;
}

int lds_check_header(const uint8_t *data, size_t len, const char *what, int *w, int *h, int *comp,
                     lds_error *err)
{
    if (len > LDS_MAX_BYTES) {
        lds_set_error(err, "%s: %zu bytes, over the limit of %u bytes (8 MB)", what, len, LDS_MAX_BYTES);
        return -1;
    }
    if (len > (size_t)0x7fffffff) { /* stbi takes an int length */
        lds_set_error(err, "%s: too large", what);
        return -1;
    }
    if (lds_sniff_format(data, len) == LDS_FMT_UNKNOWN) {
        lds_set_error(err, "%s: not a PNG or JPEG image (checked by content, not by file name)", what);
        return -1;
    }
    if (lds_sniff_format(data, len) == LDS_FMT_JPEG && check_jpeg_markers(data, len, what, err) != 0) return -1;
    if (lds_sniff_format(data, len) == LDS_FMT_PNG && check_png_chunks(data, len, what, err) != 0) return -1;
    int iw = 0, ih = 0, ic = 0;
    if (!stbi_info_from_memory(data, (int)len, &iw, &ih, &ic)) {
        lds_set_error(err, "%s: unreadable image header (%s)", what, stbi_failure_reason());
        return -1;
    }
    if (iw < LDS_MIN_SIDE || ih < LDS_MIN_SIDE || iw > LDS_MAX_SIDE || ih > LDS_MAX_SIDE) {
        lds_set_error(err, "%s: %dx%d pixels; each side must be %d to %d pixels", what, iw, ih, LDS_MIN_SIDE,
                      LDS_MAX_SIDE);
        return -1;
    }
    if (check_expansion(data, len, what, iw, ih, ic, err) != 0) return -1;
    if (w) *w = iw;
    if (h) *h = ih;
    if (comp) *comp = ic;
    return 0;
}

int lds_check_mask_header(const uint8_t *png, size_t len, const char *what, int want_w, int want_h, lds_error *err)
{
    if (lds_sniff_format(png, len) != LDS_FMT_PNG) {
        lds_set_error(err, "%s: a mask must be a PNG image (checked by content)", what);
        return -1;
    }
    int w = 0, h = 0, c = 0;
    if (len <= (size_t)0x7fffffff && stbi_info_from_memory(png, (int)len, &w, &h, &c) && (w != want_w || h != want_h)) {
        lds_set_error(err, "%s: mask is %dx%d but its image is %dx%d", what, w, h, want_w, want_h);
        return -1;
    }
    return lds_check_header(png, len, what, NULL, NULL, NULL, err);
}

/* libjpeg reports errors through error_exit, which must not return: it longjmps back to the
 * decode with the message. Warnings (corrupt data, premature end of file) are errors too: a
 * damaged image is refused rather than trained on with made-up blocks. Nothing is printed. */
typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX];
} lds_jpeg_err;

static void lds_jpeg_error_exit(j_common_ptr ci)
{
    lds_jpeg_err *e = (lds_jpeg_err *)ci->err;
    ci->err->format_message(ci, e->msg);
    longjmp(e->jb, 1);
}

static void lds_jpeg_emit(j_common_ptr ci, int level)
{
    if (level < 0) lds_jpeg_error_exit(ci); /* a warning; trace levels (>= 0) are ignored */
}

static void lds_jpeg_output(j_common_ptr ci) { (void)ci; }

/* Decodes a JPEG (header already checked) at 1/denom scale (denom 1, 2, 4 or 8) to 8-bit gray or
 * RGB as the file holds. Returns 1 (nothing decoded, no error) for colour spaces it leaves to
 * stb_image, 0 with *out set, -1 on error. budget bounds libjpeg's large buffers. */
static int jpeg_decode(const uint8_t *data, size_t len, const char *what, int denom, size_t budget, uint8_t **out,
                       int *w, int *h, int *comp, lds_error *err)
{
    struct jpeg_decompress_struct ci;
    lds_jpeg_err je;
    uint8_t *volatile px = NULL;
    ci.err = jpeg_std_error(&je.pub);
    je.pub.error_exit = lds_jpeg_error_exit;
    je.pub.emit_message = lds_jpeg_emit;
    je.pub.output_message = lds_jpeg_output;
    je.msg[0] = 0;
    if (setjmp(je.jb)) {
        jpeg_destroy_decompress(&ci);
        free(px);
        lds_set_error(err, "%s: corrupt or truncated JPEG (%s)", what, je.msg);
        return -1;
    }
    jpeg_create_decompress(&ci);
    ci.mem->max_memory_to_use = (long)(budget < (size_t)LONG_MAX ? budget : (size_t)LONG_MAX);
    jpeg_mem_src(&ci, data, (unsigned long)len);
    jpeg_read_header(&ci, TRUE);
    if (ci.jpeg_color_space == JCS_GRAYSCALE) {
        ci.out_color_space = JCS_GRAYSCALE;
    } else if (ci.jpeg_color_space == JCS_YCbCr || ci.jpeg_color_space == JCS_RGB) {
        ci.out_color_space = JCS_RGB;
    } else {
        jpeg_destroy_decompress(&ci);
        return 1;
    }
    ci.scale_num = 1;
    ci.scale_denom = (unsigned)denom;
    jpeg_start_decompress(&ci);
    size_t stride = (size_t)ci.output_width * (size_t)ci.output_components;
    px = malloc(stride * ci.output_height + 1);
    if (!px) {
        jpeg_destroy_decompress(&ci);
        lds_set_error(err, "%s: out of memory for %ux%u pixels", what, ci.output_width, ci.output_height);
        return -1;
    }
    while (ci.output_scanline < ci.output_height) {
        JSAMPROW rows[4];
        for (int k = 0; k < 4; k++) rows[k] = px + (size_t)(ci.output_scanline + (unsigned)k) * stride;
        jpeg_read_scanlines(&ci, rows, ci.output_height - ci.output_scanline < 4 ? ci.output_height - ci.output_scanline : 4);
    }
    jpeg_finish_decompress(&ci);
    *w = (int)ci.output_width;
    *h = (int)ci.output_height;
    *comp = ci.output_components;
    jpeg_destroy_decompress(&ci);
    *out = px;
    return 0;
}

/* What a decoder may hold at once for a genuine image of this header: the compressed data (grown
 * by doubling), the inflated rows, the pixels and one converted copy, with sides rounded up to
 * JPEG's 32-pixel MCUs. Anything beyond is data the header does not account for. */
static size_t decode_budget(size_t len, int hw, int hh, int hc, int req_comp, int is16)
{
    size_t cmax = (size_t)(hc > req_comp ? hc : req_comp);
    size_t dpad = (size_t)((hw + 31) / 32 * 32) * (size_t)((hh + 31) / 32 * 32) * cmax * (is16 ? 2u : 1u);
    return 2 * len + 5 * dpad + ((size_t)1 << 20);
}

static uint8_t *stb_decode(const uint8_t *data, size_t len, const char *what, int req_comp, int hw, int hh, int hc,
                           int *w, int *h, int *comp, lds_error *err);

/* The one decode path, after lds_check_header gave hw x hh x hc: libjpeg-turbo for JPEG at
 * 1/denom scale (when req_comp is 0 or the file's own channel count), else stb_image at full size. */
static uint8_t *decode_scaled(const uint8_t *data, size_t len, const char *what, int req_comp, int denom, int hw,
                              int hh, int hc, int *w, int *h, int *comp, lds_error *err)
{
    if (lds_sniff_format(data, len) == LDS_FMT_JPEG && (req_comp == 0 || req_comp == hc)) {
        uint8_t *px = NULL;
        int iw = 0, ih = 0, ic = 0;
        int rc = jpeg_decode(data, len, what, denom, decode_budget(len, hw, hh, hc, req_comp, 0), &px, &iw, &ih,
                             &ic, err);
        if (rc < 0) return NULL;
        if (rc == 0) {
            int ew = (hw + denom - 1) / denom, eh = (hh + denom - 1) / denom;
            if (iw != ew || ih != eh || (req_comp && ic != req_comp)) {
                lds_set_error(err, "%s: header says %dx%d but the data decodes to %dx%d at 1/%d scale", what, hw,
                              hh, iw, ih, denom);
                free(px);
                return NULL;
            }
            *w = iw;
            *h = ih;
            if (comp) *comp = ic;
            return px;
        }
    }
    return stb_decode(data, len, what, req_comp, hw, hh, hc, w, h, comp, err);
}

/* stb_image decode of a header-checked PNG (or CMYK JPEG) of header size hw x hh x hc. */
static uint8_t *stb_decode(const uint8_t *data, size_t len, const char *what, int req_comp, int hw, int hh, int hc,
                           int *w, int *h, int *comp, lds_error *err)
{
    int iw = 0, ih = 0, ic = 0;
    uint8_t *px = NULL;
    int is16 = stbi_is_16_bit_from_memory(data, (int)len);
    size_t budget = decode_budget(len, hw, hh, hc, req_comp, is16);
    lds_stb_budget = budget;
    lds_stb_used = 0;
    lds_stb_over = 0;
    if (is16) {
        uint16_t *p16 = stbi_load_16_from_memory(data, (int)len, &iw, &ih, &ic, req_comp);
        if (p16) {
            int oc = req_comp ? req_comp : ic;
            size_t n = (size_t)iw * (size_t)ih * (size_t)oc;
            px = malloc(n ? n : 1);
            if (px)
                for (size_t i = 0; i < n; i++) px[i] = (uint8_t)((p16[i] + 128u) / 257u);
            stbi_image_free(p16);
            if (!px) {
                lds_set_error(err, "%s: out of memory", what);
                return NULL;
            }
        }
    } else {
        px = stbi_load_from_memory(data, (int)len, &iw, &ih, &ic, req_comp);
    }
    lds_stb_budget = 0;
    if (!px && lds_stb_over) {
        lds_set_error(err, "%s: decoding needs more than %.1f MB, the most a %dx%d image may take: its compressed "
                           "data inflates past what the header declares (a decompression bomb?); refused",
                      what, (double)budget / 1e6, hw, hh);
        return NULL;
    }
    if (!px) {
        lds_set_error(err, "%s: corrupt or truncated image (%s)", what, stbi_failure_reason());
        return NULL;
    }
    if (iw != hw || ih != hh) { /* the header lied about the size: refuse rather than trust either */
        lds_set_error(err, "%s: header says %dx%d but the data decodes to %dx%d", what, hw, hh, iw, ih);
        free(px);
        return NULL;
    }
    *w = iw;
    *h = ih;
    if (comp) *comp = ic;
    return px;
}

uint8_t *lds_decode8(const uint8_t *data, size_t len, const char *what, int req_comp, int *w, int *h,
                     int *comp, lds_error *err)
{
    int hw, hh, hc;
    if (lds_check_header(data, len, what, &hw, &hh, &hc, err) != 0) return NULL;
    return decode_scaled(data, len, what, req_comp, 1, hw, hh, hc, w, h, comp, err);
}

/* One output sample of a separable resize: a run of source indices and their weights. */
typedef struct {
    int start, count;
    int woff; /* offset into the weight array */
} lds_tap;

/* Area averaging when shrinking (each output pixel is the mean of the source area it covers),
 * bilinear with centre alignment when enlarging or keeping the size. */
static float *build_taps(int n_in, int n_out, lds_tap *taps)
{
    int max_taps = n_out < n_in ? (int)ceil((double)n_in / n_out) + 2 : 2;
    float *wts = malloc(sizeof(float) * (size_t)n_out * (size_t)max_taps);
    if (!wts) return NULL;
    for (int i = 0; i < n_out; i++) {
        lds_tap *t = &taps[i];
        t->woff = i * max_taps;
        if (n_out < n_in) {
            double scale = (double)n_in / n_out;
            double x0 = i * scale, x1 = (i + 1) * scale;
            int j0 = (int)floor(x0), j1 = (int)ceil(x1);
            if (j1 > n_in) j1 = n_in;
            t->start = j0;
            t->count = 0;
            for (int j = j0; j < j1; j++) {
                double a = x0 > j ? x0 : j, b = x1 < j + 1 ? x1 : j + 1;
                wts[t->woff + t->count++] = (float)((b - a) / scale);
            }
        } else {
            double x = (i + 0.5) * n_in / n_out - 0.5;
            if (x < 0) x = 0;
            if (x > n_in - 1) x = n_in - 1;
            int j0 = (int)floor(x);
            double f = x - j0;
            t->start = j0;
            if (j0 + 1 < n_in && f > 0) {
                t->count = 2;
                wts[t->woff] = (float)(1 - f);
                wts[t->woff + 1] = (float)f;
            } else {
                t->count = 1;
                wts[t->woff] = 1.0f;
            }
        }
    }
    return wts;
}

/* Converts one source row to dst_c float planes of width w (alpha is ignored: Lookout's images
 * are opaque photographs), then resizes it horizontally into hrow[dst_c][out_w]. */
static void convert_row(const uint8_t *s, int w, int src_c, int dst_c, float *row, const lds_tap *tx,
                        const float *wx, int out_w, float *hrow)
{
    const float inv = 1.0f / 255.0f;
    if (src_c >= 3) {
        for (int x = 0; x < w; x++, s += src_c) {
            float r = s[0] * inv, g = s[1] * inv, b = s[2] * inv;
            if (dst_c == 1) {
                row[x] = 0.299f * r + 0.587f * g + 0.114f * b;
            } else {
                row[x] = r;
                row[w + x] = g;
                row[2 * w + x] = b;
            }
        }
    } else {
        for (int x = 0; x < w; x++, s += src_c) {
            float v = s[0] * inv;
            row[x] = v;
            if (dst_c == 3) row[w + x] = row[2 * w + x] = v;
        }
    }
    for (int c = 0; c < dst_c; c++) {
        const float *rc = row + (size_t)c * (size_t)w;
        float *o = hrow + (size_t)c * (size_t)out_w;
        for (int x = 0; x < out_w; x++) {
            const lds_tap *t = &tx[x];
            const float *wt = wx + t->woff, *in = rc + t->start;
            float acc = 0;
            for (int k = 0; k < t->count; k++) acc += wt[k] * in[k];
            o[x] = acc;
        }
    }
}

/* Separable resize streamed row by row: horizontally resized source rows live in a small ring
 * (as many rows as the widest vertical tap), so no image-sized temporary is allocated — fresh
 * multi-megabyte buffers cost page faults on every image. */
void lds_resize_to_planar(const uint8_t *src, int w, int h, int src_c, float *dst, int dst_c, int out_w,
                          int out_h)
{
    lds_tap *tx = malloc(sizeof(lds_tap) * (size_t)out_w), *ty = malloc(sizeof(lds_tap) * (size_t)out_h);
    float *wx = tx ? build_taps(w, out_w, tx) : NULL, *wy = ty ? build_taps(h, out_h, ty) : NULL;
    int ring_n = 1;
    for (int y = 0; ty && wy && y < out_h; y++)
        if (ty[y].count > ring_n) ring_n = ty[y].count;
    const size_t hsz = (size_t)dst_c * (size_t)out_w;
    float *row = malloc(sizeof(float) * (size_t)w * (size_t)dst_c);
    float *ring = malloc(sizeof(float) * hsz * (size_t)ring_n);
    int *ring_row = malloc(sizeof(int) * (size_t)ring_n);
    if (!tx || !ty || !wx || !wy || !row || !ring || !ring_row) {
        /* out of memory for a few KB: leave a defined (black) result rather than crash */
        memset(dst, 0, sizeof(float) * (size_t)dst_c * (size_t)out_w * (size_t)out_h);
        goto done;
    }
    for (int k = 0; k < ring_n; k++) ring_row[k] = -1;
    const size_t oplane = (size_t)out_w * (size_t)out_h;
    for (int y = 0; y < out_h; y++) {
        const lds_tap *t = &ty[y];
        for (int k = 0; k < t->count; k++) {
            int sy = t->start + k, slot = sy % ring_n;
            if (ring_row[slot] != sy) {
                convert_row(src + (size_t)sy * (size_t)w * (size_t)src_c, w, src_c, dst_c, row, tx, wx, out_w,
                            ring + (size_t)slot * hsz);
                ring_row[slot] = sy;
            }
        }
        for (int c = 0; c < dst_c; c++) {
            float *o = dst + (size_t)c * oplane + (size_t)y * (size_t)out_w;
            const float *r0 = ring + (size_t)(t->start % ring_n) * hsz + (size_t)c * (size_t)out_w;
            float w0 = wy[t->woff];
            for (int x = 0; x < out_w; x++) o[x] = w0 * r0[x];
            for (int k = 1; k < t->count; k++) {
                const float *rk = ring + (size_t)((t->start + k) % ring_n) * hsz + (size_t)c * (size_t)out_w;
                float wk = wy[t->woff + k];
                for (int x = 0; x < out_w; x++) o[x] += wk * rk[x];
            }
        }
    }
done:
    free(tx);
    free(ty);
    free(wx);
    free(wy);
    free(row);
    free(ring);
    free(ring_row);
}

void lds_resize_nearest_u8(const uint8_t *src, int w, int h, uint8_t *dst, int out_w, int out_h)
{
    for (int y = 0; y < out_h; y++) {
        int sy = (int)(((int64_t)y * 2 + 1) * h / (2 * (int64_t)out_h));
        const uint8_t *s = src + (size_t)sy * (size_t)w;
        uint8_t *o = dst + (size_t)y * (size_t)out_w;
        for (int x = 0; x < out_w; x++) o[x] = s[((int64_t)x * 2 + 1) * w / (2 * (int64_t)out_w)];
    }
}

static int check_out_size(const char *what, int channels, int out_w, int out_h, lds_error *err)
{
    if (channels != 1 && channels != 3) {
        lds_set_error(err, "%s: channels must be 1 or 3, not %d", what, channels);
        return -1;
    }
    if (out_w < 1 || out_h < 1 || out_w > 16384 || out_h > 16384) {
        lds_set_error(err, "%s: output size %dx%d out of range", what, out_w, out_h);
        return -1;
    }
    return 0;
}

void lds_fit_box(int iw, int ih, int out_w, int out_h, int *x, int *y, int *fw, int *fh)
{
    int w = out_w, h = out_h;
    if (iw > 0 && ih > 0) {
        if ((int64_t)iw * out_h >= (int64_t)ih * out_w) /* wider than the output: full width */
            h = (int)(((int64_t)ih * out_w * 2 + iw) / (2 * (int64_t)iw));
        else
            w = (int)(((int64_t)iw * out_h * 2 + ih) / (2 * (int64_t)ih));
    }
    w = w < 1 ? 1 : w > out_w ? out_w : w;
    h = h < 1 ? 1 : h > out_h ? out_h : h;
    *fw = w;
    *fh = h;
    *x = (out_w - w) / 2;
    *y = (out_h - h) / 2;
}

/* i reflected into [0, n) (edge pixels not repeated), for any distance outside */
static int mirror_index(int i, int n)
{
    if (n <= 1) return 0;
    int p = 2 * n - 2;
    i %= p;
    if (i < 0) i += p;
    return i < n ? i : p - i;
}

void lds_fit_mirror_u8(const uint8_t *src, int fw, int fh, uint8_t *dst, int out_w, int out_h)
{
    int x0 = (out_w - fw) / 2, y0 = (out_h - fh) / 2;
    for (int y = 0; y < out_h; y++) {
        const uint8_t *s = src + (size_t)mirror_index(y - y0, fh) * (size_t)fw;
        uint8_t *o = dst + (size_t)y * (size_t)out_w;
        for (int x = 0; x < out_w; x++) o[x] = s[mirror_index(x - x0, fw)];
    }
}

static void fit_mirror_f32(const float *src, int c, int fw, int fh, float *dst, int out_w, int out_h)
{
    int x0 = (out_w - fw) / 2, y0 = (out_h - fh) / 2;
    for (int ch = 0; ch < c; ch++)
        for (int y = 0; y < out_h; y++) {
            const float *s = src + ((size_t)ch * (size_t)fh + (size_t)mirror_index(y - y0, fh)) * (size_t)fw;
            float *o = dst + ((size_t)ch * (size_t)out_h + (size_t)y) * (size_t)out_w;
            for (int x = 0; x < out_w; x++) o[x] = s[mirror_index(x - x0, fw)];
        }
}

static int load_memory(const uint8_t *data, size_t len, const char *what, int channels, int out_w, int out_h,
                       int fit, float *dst, int *orig_w, int *orig_h, lds_error *err)
{
    if (!what) what = "image";
    if (check_out_size(what, channels, out_w, out_h, err) != 0) return -1;
    int hw, hh, hc, w, h, c;
    if (lds_check_header(data, len, what, &hw, &hh, &hc, err) != 0) return -1;
    int bx = 0, by = 0, fw = out_w, fh = out_h;
    if (fit) lds_fit_box(hw, hh, out_w, out_h, &bx, &by, &fw, &fh);
    /* A JPEG shrunk to at most half its size decodes at 1/2, 1/4 or 1/8 scale (libjpeg's scaled
     * IDCT, a low-pass of the same coefficients), then the area resize does the rest: far fewer
     * pixels to decode, colour-convert and average. Never below the output size. */
    int denom = 8;
    while (denom > 1 && ((hw + denom - 1) / denom < fw || (hh + denom - 1) / denom < fh)) denom /= 2;
    uint8_t *px = decode_scaled(data, len, what, 0, denom, hw, hh, hc, &w, &h, &c, err);
    if (!px) return -1;
    if (fw == out_w && fh == out_h) {
        lds_resize_to_planar(px, w, h, c, dst, channels, out_w, out_h);
    } else {
        float *box = malloc(sizeof(float) * (size_t)channels * (size_t)fw * (size_t)fh);
        if (!box) {
            free(px);
            lds_set_error(err, "%s: out of memory for a %dx%d image", what, fw, fh);
            return -1;
        }
        lds_resize_to_planar(px, w, h, c, box, channels, fw, fh);
        fit_mirror_f32(box, channels, fw, fh, dst, out_w, out_h);
        free(box);
    }
    free(px);
    if (orig_w) *orig_w = hw;
    if (orig_h) *orig_h = hh;
    return 0;
}

int lds_load_image_memory(const uint8_t *data, size_t len, const char *what, int channels, int out_w,
                          int out_h, float *dst, int *orig_w, int *orig_h, lds_error *err)
{
    return load_memory(data, len, what, channels, out_w, out_h, 0, dst, orig_w, orig_h, err);
}

int lds_load_image_fit_memory(const uint8_t *data, size_t len, const char *what, int channels, int out_w,
                              int out_h, float *dst, int *orig_w, int *orig_h, lds_error *err)
{
    return load_memory(data, len, what, channels, out_w, out_h, 1, dst, orig_w, orig_h, err);
}

static int load_file(const char *path, int channels, int out_w, int out_h, int fit, float *dst, lds_error *err)
{
    size_t len;
    uint8_t *data = lds_read_file(path, LDS_MAX_BYTES, &len, err);
    if (!data) return -1;
    int rc = load_memory(data, len, path, channels, out_w, out_h, fit, dst, NULL, NULL, err);
    free(data);
    return rc;
}

int lds_load_image(const char *path, int channels, int out_w, int out_h, float *dst, lds_error *err)
{
    return load_file(path, channels, out_w, out_h, 0, dst, err);
}

int lds_load_image_fit(const char *path, int channels, int out_w, int out_h, float *dst, lds_error *err)
{
    return load_file(path, channels, out_w, out_h, 1, dst, err);
}

typedef struct {
    uint8_t *buf;
    size_t len, cap;
    int failed;
} png_sink;

static void png_sink_write(void *ctx, void *data, int size)
{
    png_sink *s = ctx;
    if (s->failed || size <= 0) return;
    if (s->len + (size_t)size > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 65536;
        while (cap < s->len + (size_t)size) cap *= 2;
        uint8_t *nb = realloc(s->buf, cap);
        if (!nb) {
            s->failed = 1;
            return;
        }
        s->buf = nb;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, data, (size_t)size);
    s->len += (size_t)size;
}

static void png_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static void png_chunk(png_sink *s, const char *type, const uint8_t *data, size_t n)
{
    uint8_t hdr[8], crc[4];
    png_put32(hdr, (uint32_t)n);
    memcpy(hdr + 4, type, 4);
    uLong c = crc32(0L, hdr + 4, 4);
    if (n) c = crc32(c, data, (uInt)n);
    png_put32(crc, (uint32_t)c);
    png_sink_write(s, hdr, 8);
    if (n) png_sink_write(s, (void *)data, (int)n);
    png_sink_write(s, crc, 4);
}

/* An RGB image of at most 16 colours (an anomaly mask: background and a few classes) as a palette
 * PNG of 1, 2 or 4 bits per pixel, unfiltered, deflated with zlib's run-length strategy: for a
 * 576x768 mask about a millisecond, where stb's generic RGB writer (filter search, level 8) takes
 * tens. Returns NULL when the image has more colours or on failure (the caller falls back). */
static uint8_t *encode_png_palette(const uint8_t *px, int w, int h, size_t *out_len)
{
    uint8_t pal[16][3];
    int n = 0, last = -1;
    size_t npx = (size_t)w * (size_t)h;
    uint8_t *idx = malloc(npx);
    if (!idx) return NULL;
    for (size_t i = 0; i < npx; i++) {
        const uint8_t *p = px + 3 * i;
        if (last < 0 || memcmp(p, pal[last], 3) != 0) {
            int k = 0;
            while (k < n && memcmp(p, pal[k], 3) != 0) k++;
            if (k == n) {
                if (n == 16) {
                    free(idx);
                    return NULL;
                }
                memcpy(pal[n++], p, 3);
            }
            last = k;
        }
        idx[i] = (uint8_t)last;
    }
    int bits = n <= 2 ? 1 : n <= 4 ? 2 : 4, per = 8 / bits;
    size_t row = ((size_t)w * (size_t)bits + 7) / 8, raw_n = (size_t)h * (row + 1);
    uint8_t *raw = calloc(raw_n, 1);
    uLongf zcap = compressBound((uLong)raw_n);
    uint8_t *z = raw ? malloc(zcap) : NULL;
    if (!raw || !z) {
        free(idx);
        free(raw);
        free(z);
        return NULL;
    }
    for (int y = 0; y < h; y++) { /* filter byte 0 (none), then pixels packed high bits first */
        uint8_t *r = raw + (size_t)y * (row + 1) + 1;
        const uint8_t *ir = idx + (size_t)y * (size_t)w;
        for (int x = 0; x < w; x++) r[x / per] |= (uint8_t)(ir[x] << (8 - bits * (x % per + 1)));
    }
    free(idx);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    int ok = deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 15, 8, Z_RLE) == Z_OK;
    if (ok) {
        zs.next_in = raw;
        zs.avail_in = (uInt)raw_n;
        zs.next_out = z;
        zs.avail_out = (uInt)zcap;
        ok = deflate(&zs, Z_FINISH) == Z_STREAM_END;
        deflateEnd(&zs);
    }
    free(raw);
    if (!ok) {
        free(z);
        return NULL;
    }
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
    uint8_t ihdr[13];
    png_put32(ihdr, (uint32_t)w);
    png_put32(ihdr + 4, (uint32_t)h);
    ihdr[8] = (uint8_t)bits, ihdr[9] = 3, ihdr[10] = ihdr[11] = ihdr[12] = 0; /* palette, no interlace */
    png_sink s = {0};
    png_sink_write(&s, (void *)sig, 8);
    png_chunk(&s, "IHDR", ihdr, 13);
    png_chunk(&s, "PLTE", &pal[0][0], (size_t)n * 3);
    png_chunk(&s, "IDAT", z, zs.total_out);
    png_chunk(&s, "IEND", NULL, 0);
    free(z);
    if (s.failed) {
        free(s.buf);
        return NULL;
    }
    *out_len = s.len;
    return s.buf;
}

uint8_t *lds_encode_png(const uint8_t *pixels, int w, int h, int channels, size_t *out_len)
{
    if (!pixels || w < 1 || h < 1 || channels < 1 || channels > 4 || !out_len) return NULL;
    if (channels == 3 && (size_t)w * (size_t)h < ((size_t)1 << 30)) {
        uint8_t *p = encode_png_palette(pixels, w, h, out_len);
        if (p) return p;
    }
    png_sink s = {0};
    if (!stbi_write_png_to_func(png_sink_write, &s, w, h, channels, pixels, w * channels) || s.failed) {
        free(s.buf);
        return NULL;
    }
    *out_len = s.len;
    return s.buf;
}

int lds_write_png(const char *path, const uint8_t *pixels, int w, int h, int channels, lds_error *err)
{
    size_t len;
    uint8_t *png = lds_encode_png(pixels, w, h, channels, &len);
    if (!png) {
        lds_set_error(err, "%s: cannot encode a %dx%d PNG with %d channels", path, w, h, channels);
        return -1;
    }
    int rc = lds_write_file(path, png, len, err);
    free(png);
    return rc;
}
