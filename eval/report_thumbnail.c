/* report_thumbnail.c — a small picture of a test image with its anomaly heat map blended over it,
 * encoded as PNG (stb_image decodes, stb_image_write encodes; Debian's libstb has both). */
#include "eval_internal.h"

#include "dataset.h"

#include <stb/stb_image.h>
#include <stb/stb_image_write.h>
#include <stdlib.h>
#include <string.h>

/* Heat map value at (u, v) in [0,1]^2, bilinear. */
static float heat_at(const lev_prediction *p, float u, float v)
{
    float x = u * (float)p->hm_w - 0.5f, y = v * (float)p->hm_h - 0.5f;
    if (x < 0)
        x = 0;
    if (y < 0)
        y = 0;
    int x0 = (int)x, y0 = (int)y;
    if (x0 > p->hm_w - 1)
        x0 = p->hm_w - 1;
    if (y0 > p->hm_h - 1)
        y0 = p->hm_h - 1;
    int x1 = x0 + 1 < p->hm_w ? x0 + 1 : x0, y1 = y0 + 1 < p->hm_h ? y0 + 1 : y0;
    float fx = x - (float)x0, fy = y - (float)y0;
    if (fx > 1)
        fx = 1;
    if (fy > 1)
        fy = 1;
    const float *h = p->heatmap;
    float top = h[y0 * p->hm_w + x0] * (1 - fx) + h[y0 * p->hm_w + x1] * fx;
    float bot = h[y1 * p->hm_w + x0] * (1 - fx) + h[y1 * p->hm_w + x1] * fx;
    float val = top * (1 - fy) + bot * fy;
    return val != val ? 0 : val < 0 ? 0 : val > 1 ? 1 : val; /* NaN-safe clamp */
}

typedef struct {
    uint8_t *data;
    size_t len, cap;
    int failed;
} png_sink;

static void sink_write(void *ctx, void *data, int size)
{
    png_sink *s = ctx;
    if (s->failed || size <= 0)
        return;
    if (s->len + (size_t)size > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16384;
        while (cap < s->len + (size_t)size)
            cap *= 2;
        uint8_t *d = realloc(s->data, cap);
        if (!d) {
            s->failed = 1;
            return;
        }
        s->data = d;
        s->cap = cap;
    }
    memcpy(s->data + s->len, data, (size_t)size);
    s->len += (size_t)size;
}

uint8_t *lev__thumbnail_png(const lev_prediction *p, int max_side, size_t *out_len, lev_error *err)
{
    const char *path = p->image_path;
    if (!path) {
        lev__fail(err, "no image path");
        return NULL;
    }
    int w, h, c;
    /* The test images are the model version's copies, encrypted at rest: read through the
     * dataset module, which decrypts them while the worker holds the data key. */
    lds_error le;
    size_t len = 0;
    uint8_t *bytes = lds_read_copy(path, &len, &le);
    if (!bytes) {
        lev__fail(err, "%s: not a readable image (%s)", path, le.message);
        return NULL;
    }
    /* Refuse absurd sizes before decoding (a report must not be the thing that exhausts memory). */
    if (len > 0x7fffffff || !stbi_info_from_memory(bytes, (int)len, &w, &h, &c)) {
        free(bytes);
        lev__fail(err, "%s: not a readable image (%s)", path, stbi_failure_reason());
        return NULL;
    }
    if (w <= 0 || h <= 0 || w > 16384 || h > 16384) {
        free(bytes);
        lev__fail(err, "%s: image size %dx%d out of range", path, w, h);
        return NULL;
    }
    uint8_t *img = stbi_load_from_memory(bytes, (int)len, &w, &h, &c, 3);
    free(bytes);
    if (!img) {
        lev__fail(err, "%s: cannot decode (%s)", path, stbi_failure_reason());
        return NULL;
    }
    int tw = w, th = h;
    if (w >= h && w > max_side) {
        tw = max_side;
        th = (int)((long)h * max_side / w);
    } else if (h > w && h > max_side) {
        th = max_side;
        tw = (int)((long)w * max_side / h);
    }
    if (tw < 1)
        tw = 1;
    if (th < 1)
        th = 1;
    uint8_t *t = malloc((size_t)tw * th * 3);
    if (!t) {
        stbi_image_free(img);
        lev__fail(err, "%s: out of memory for the thumbnail", path);
        return NULL;
    }
    int use_heat = p->heatmap && p->hm_w > 0 && p->hm_h > 0;
    for (int y = 0; y < th; y++) {
        /* Box filter over the source pixels that fall in this thumbnail pixel. */
        int y0 = (int)((long)y * h / th), y1 = (int)((long)(y + 1) * h / th);
        if (y1 <= y0)
            y1 = y0 + 1;
        for (int x = 0; x < tw; x++) {
            int x0 = (int)((long)x * w / tw), x1 = (int)((long)(x + 1) * w / tw);
            if (x1 <= x0)
                x1 = x0 + 1;
            long sum[3] = {0, 0, 0}, cnt = 0;
            for (int yy = y0; yy < y1 && yy < h; yy++)
                for (int xx = x0; xx < x1 && xx < w; xx++) {
                    const uint8_t *s = img + ((size_t)yy * w + xx) * 3;
                    sum[0] += s[0];
                    sum[1] += s[1];
                    sum[2] += s[2];
                    cnt++;
                }
            float rgb[3];
            for (int k = 0; k < 3; k++)
                rgb[k] = cnt ? (float)sum[k] / (float)cnt : 0;
            if (use_heat) {
                /* Yellow (weak) to red (strong), opacity growing with the value: clean areas
                 * stay visible, hot spots stand out. */
                float v = heat_at(p, ((float)x + 0.5f) / (float)tw, ((float)y + 0.5f) / (float)th);
                float a = 0.65f * v, hot[3] = {255.f, 255.f * (1 - v), 0.f};
                for (int k = 0; k < 3; k++)
                    rgb[k] = rgb[k] * (1 - a) + hot[k] * a;
            }
            uint8_t *o = t + ((size_t)y * tw + x) * 3;
            for (int k = 0; k < 3; k++)
                o[k] = (uint8_t)(rgb[k] + 0.5f);
        }
    }
    stbi_image_free(img);
    png_sink sink = {0};
    int ok = stbi_write_png_to_func(sink_write, &sink, tw, th, 3, t, tw * 3);
    free(t);
    if (!ok || sink.failed) {
        free(sink.data);
        lev__fail(err, "%s: PNG encoding of the thumbnail failed", path);
        return NULL;
    }
    *out_len = sink.len;
    return sink.data;
}
