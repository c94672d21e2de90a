/* image_io.c — safe decoding (format by content, header limits checked with stbi_info before any
 * decode), conversion to the model's channel count, resizing, and PNG writing. */
#include "lds_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>
#include <stb_image_write.h>

int lds_sniff_format(const uint8_t *d, size_t len)
{
    static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
    if (len >= 8 && memcmp(d, png_magic, 8) == 0) return LDS_FMT_PNG;
    if (len >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return LDS_FMT_JPEG;
    return LDS_FMT_UNKNOWN;
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

uint8_t *lds_decode8(const uint8_t *data, size_t len, const char *what, int req_comp, int *w, int *h,
                     int *comp, lds_error *err)
{
    int hw, hh, hc;
    if (lds_check_header(data, len, what, &hw, &hh, &hc, err) != 0) return NULL;
    int iw = 0, ih = 0, ic = 0;
    uint8_t *px = NULL;
    if (stbi_is_16_bit_from_memory(data, (int)len)) {
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

int lds_load_image_memory(const uint8_t *data, size_t len, const char *what, int channels, int out_w,
                          int out_h, float *dst, int *orig_w, int *orig_h, lds_error *err)
{
    if (!what) what = "image";
    if (check_out_size(what, channels, out_w, out_h, err) != 0) return -1;
    int w, h, c;
    uint8_t *px = lds_decode8(data, len, what, 0, &w, &h, &c, err);
    if (!px) return -1;
    lds_resize_to_planar(px, w, h, c, dst, channels, out_w, out_h);
    free(px);
    if (orig_w) *orig_w = w;
    if (orig_h) *orig_h = h;
    return 0;
}

int lds_load_image(const char *path, int channels, int out_w, int out_h, float *dst, lds_error *err)
{
    size_t len;
    uint8_t *data = lds_read_file(path, LDS_MAX_BYTES, &len, err);
    if (!data) return -1;
    int rc = lds_load_image_memory(data, len, path, channels, out_w, out_h, dst, NULL, NULL, err);
    free(data);
    return rc;
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

uint8_t *lds_encode_png(const uint8_t *pixels, int w, int h, int channels, size_t *out_len)
{
    if (!pixels || w < 1 || h < 1 || channels < 1 || channels > 4 || !out_len) return NULL;
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
