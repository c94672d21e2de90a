/* test_dataset_pixels.c — decoding every accepted pixel format (8-bit gray, gray+alpha, RGB,
 * RGBA, 16-bit gray/RGB PNG, JPEG) to 1 or 3 channels, and the resize rules: area average when
 * shrinking, bilinear when enlarging, nearest for masks.
 * Usage: test_dataset_pixels SHARED_DATA_DIR */
#include "tds_util.h"

#include <math.h>

static uint8_t *encode(const uint8_t *px, int w, int h, int c, size_t *len)
{
    uint8_t *png = lds_encode_png(px, w, h, c, len);
    if (!png) {
        fprintf(stderr, "encode failed\n");
        exit(2);
    }
    return png;
}

static void test_formats(const char *tmp)
{
    const int W = 64, H = 64;
    uint8_t px[64 * 64 * 4];
    /* one known pixel (0,0): R=200 G=100 B=50, alpha 128 where present; gray 77 */
    for (int c = 1; c <= 4; c++) {
        for (int i = 0; i < W * H; i++)
            for (int k = 0; k < c; k++) {
                uint8_t v = c <= 2 ? (k == 0 ? 77 : 128) : (k == 0 ? 200 : k == 1 ? 100 : k == 2 ? 50 : 128);
                px[i * c + k] = v;
            }
        size_t len;
        uint8_t *png = encode(px, W, H, c, &len);
        float out3[3 * 8 * 8], out1[8 * 8];
        lds_error e;
        int ow = 0, oh = 0;
        CHECK(lds_load_image_memory(png, len, "mem", 3, 8, 8, out3, &ow, &oh, &e) == 0, "%d channels: %s", c, e.message);
        CHECK(ow == W && oh == H, "original size %dx%d", ow, oh);
        CHECK(lds_load_image_memory(png, len, "mem", 1, 8, 8, out1, NULL, NULL, &e) == 0, "%s", e.message);
        float r = c <= 2 ? 77 / 255.f : 200 / 255.f, g = c <= 2 ? r : 100 / 255.f, b = c <= 2 ? r : 50 / 255.f;
        float y = c <= 2 ? r : 0.299f * r + 0.587f * g + 0.114f * b;
        CHECK(fabsf(out3[0] - r) < 1e-5f && fabsf(out3[64] - g) < 1e-5f && fabsf(out3[128] - b) < 1e-5f,
              "%d channels -> RGB: %f %f %f", c, out3[0], out3[64], out3[128]);
        CHECK(fabsf(out1[0] - y) < 1e-5f, "%d channels -> gray: %f want %f", c, out1[0], y);
        free(png);
    }
    /* 16-bit PNGs, gray and RGB: 0x8080 reads as 128/255 */
    uint16_t s16[64 * 64 * 3];
    for (int i = 0; i < 64 * 64 * 3; i++) s16[i] = (uint16_t)(i % 3 == 0 ? 0x8080 : i % 3 == 1 ? 0xffff : 0);
    char p[2048];
    snprintf(p, sizeof p, "%s/rgb16.png", tmp);
    tds_write_png16(p, s16, 64, 64, 3);
    float o[3 * 4 * 4];
    lds_error e;
    CHECK(lds_load_image(p, 3, 4, 4, o, &e) == 0, "16-bit RGB: %s", e.message);
    CHECK(fabsf(o[0] - 128 / 255.f) < 1e-5f && fabsf(o[16] - 1.f) < 1e-5f && o[32] == 0.f, "16-bit RGB values %f %f %f",
          o[0], o[16], o[32]);
    for (int i = 0; i < 64 * 64; i++) s16[i] = 0x8080;
    snprintf(p, sizeof p, "%s/gray16.png", tmp);
    tds_write_png16(p, s16, 64, 64, 1);
    CHECK(lds_load_image(p, 1, 4, 4, o, &e) == 0, "16-bit gray: %s", e.message);
    CHECK(fabsf(o[5] - 128 / 255.f) < 1e-5f, "16-bit gray %f", o[5]);
    /* bad arguments are errors, not crashes */
    CHECK(lds_load_image(p, 2, 4, 4, o, &e) != 0 && strstr(e.message, "channels"), "channels=2 refused");
    CHECK(lds_load_image(p, 1, 0, 4, o, &e) != 0, "zero output width refused");
    CHECK(lds_load_image_memory((const uint8_t *)"", 0, "empty body", 3, 4, 4, o, NULL, NULL, &e) != 0 &&
              strstr(e.message, "empty body"),
          "empty buffer: %s", e.message);
}

static void test_resize(void)
{
    /* area: 1-pixel checkerboard halved averages to exactly 0.5 */
    uint8_t cb[64 * 64];
    for (int y = 0; y < 64; y++)
        for (int x = 0; x < 64; x++) cb[y * 64 + x] = ((x + y) & 1) ? 255 : 0;
    float o[32 * 32];
    lds_resize_to_planar(cb, 64, 64, 1, o, 1, 32, 32);
    int ok = 1;
    for (int i = 0; i < 32 * 32; i++) ok &= fabsf(o[i] - 0.5f) < 1e-6f;
    CHECK(ok, "area-average halving of a checkerboard must give 0.5 everywhere");
    /* area with a non-integer factor keeps the mean */
    uint8_t ramp[100 * 70];
    double mean_in = 0;
    for (int i = 0; i < 100 * 70; i++) mean_in += ramp[i] = (uint8_t)((i * 7) % 256);
    mean_in /= 100 * 70 * 255.0;
    float o2[37 * 23];
    lds_resize_to_planar(ramp, 100, 70, 1, o2, 1, 37, 23);
    double mean_out = 0;
    for (int i = 0; i < 37 * 23; i++) mean_out += o2[i];
    mean_out /= 37 * 23;
    CHECK(fabs(mean_out - mean_in) < 0.01, "area resize by 2.7x keeps the mean: %f vs %f", mean_out, mean_in);
    /* bilinear: a 2-pixel row 0,255 enlarged to 4 gives 0, .25, .75, 1 (centre-aligned) */
    uint8_t two[2] = {0, 255};
    float o3[4];
    lds_resize_to_planar(two, 2, 1, 1, o3, 1, 4, 1);
    CHECK(fabsf(o3[0]) < 1e-6f && fabsf(o3[1] - 0.25f) < 1e-6f && fabsf(o3[2] - 0.75f) < 1e-6f && fabsf(o3[3] - 1) < 1e-6f,
          "bilinear 2->4: %f %f %f %f", o3[0], o3[1], o3[2], o3[3]);
    /* nearest for masks: values survive unchanged (no new classes appear) */
    uint8_t m[6 * 4] = {0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3};
    uint8_t mo[3 * 2];
    lds_resize_nearest_u8(m, 6, 4, mo, 3, 2);
    CHECK(mo[0] == 0 && mo[1] == 1 && mo[2] == 2 && mo[3] == 3 && mo[5] == 3, "nearest mask %d %d %d %d", mo[0], mo[1],
          mo[2], mo[3]);
}

static void test_jpeg(const char *data)
{
    char p[2048];
    snprintf(p, sizeof p, "%s/cookies/train/normal/normal-1.jpg", data);
    float *o = malloc(sizeof(float) * 3 * 224 * 224);
    lds_error e;
    CHECK(lds_load_image(p, 3, 224, 224, o, &e) == 0, "cookie JPEG: %s", e.message);
    float lo = 1, hi = 0;
    for (int i = 0; i < 3 * 224 * 224; i++) {
        lo = fminf(lo, o[i]);
        hi = fmaxf(hi, o[i]);
    }
    CHECK(lo >= 0 && hi <= 1 && hi - lo > 0.3f, "cookie pixel range %f..%f", lo, hi);
    free(o);
}

/* Through the whole path (folder import, copies, lds_open, load at other sizes): the mask must
 * sit on the dark blot of its image, shrunk or enlarged alike. */
static void test_mask_alignment(const char *tmp)
{
    const int W = 96, H = 80;
    char src[2048], p[2200], ds[2048];
    snprintf(src, sizeof src, "%s/blot", tmp);
    snprintf(p, sizeof p, "%s/anomaly", src);
    tds_mkdirs(p);
    snprintf(p, sizeof p, "%s/mask", src);
    tds_mkdirs(p);
    uint8_t *px = malloc((size_t)W * H * 3), *m = calloc((size_t)W * H, 1);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int in = (x - 70) * (x - 70) + (y - 20) * (y - 20) <= 64;
            m[y * W + x] = in ? 255 : 0;
            for (int c = 0; c < 3; c++) px[3 * (y * W + x) + c] = in ? 20 : (uint8_t)(140 + ((x * 7 + y * 3) % 20));
        }
    lds_error e;
    snprintf(p, sizeof p, "%s/anomaly/a.png", src);
    CHECK(lds_write_png(p, px, W, H, 3, &e) == 0, "%s", e.message);
    snprintf(p, sizeof p, "%s/mask/a.png", src);
    CHECK(lds_write_png(p, m, W, H, 1, &e) == 0, "%s", e.message);
    free(px);
    free(m);
    snprintf(ds, sizeof ds, "%s/blot-ds", tmp);
    lds_error warn = {{0}};
    CHECK(lds_import_folder(ds, src, &warn, &e) == 0, "%s", e.message);
    lds_set *set;
    if (lds_open(ds, &set, &e) != 0) {
        CHECK(0, "%s", e.message);
        return;
    }
    const int sizes[3][2] = {{128, 128}, {48, 40}, {96, 80}};
    for (int k = 0; k < 3; k++) {
        int ow = sizes[k][0], oh = sizes[k][1];
        float *img = malloc(sizeof(float) * 3 * (size_t)ow * (size_t)oh);
        uint8_t *mk = malloc((size_t)ow * (size_t)oh);
        CHECK(lds_load_image(set->entries[0].image_path, 3, ow, oh, img, &e) == 0, "%s", e.message);
        CHECK(lds_load_mask(set, set->entries[0].mask_path, ow, oh, mk, &e) == 0, "%s", e.message);
        double in = 0, out = 0;
        int n_in = 0, n_out = 0;
        for (int i = 0; i < ow * oh; i++) {
            if (mk[i]) in += img[i], n_in++;
            else out += img[i], n_out++;
        }
        CHECK(n_in > 0 && in / n_in < 0.25 && out / n_out > 0.5, "%dx%d: mask not on the blot (in %.2f, out %.2f, %d px)",
              ow, oh, n_in ? in / n_in : -1, n_out ? out / n_out : -1, n_in);
        free(img);
        free(mk);
    }
    lds_free(set);
}

/* aspect kept: a 16x8 gray image in a 12x12 input fills a 12x6 box at y=3, the rows above and
 * below mirror it; the same box for masks; a square image fills the input exactly as squashed */
static void test_fit(void)
{
    int x, y, fw, fh;
    lds_fit_box(16, 8, 12, 12, &x, &y, &fw, &fh);
    CHECK(x == 0 && y == 3 && fw == 12 && fh == 6, "wide box %d,%d %dx%d", x, y, fw, fh);
    lds_fit_box(103, 400, 224, 224, &x, &y, &fw, &fh);
    CHECK(fh == 224 && fw == 58 && x == 83 && y == 0, "tall box %d,%d %dx%d", x, y, fw, fh);
    lds_fit_box(300, 300, 224, 160, &x, &y, &fw, &fh);
    CHECK(fw == 160 && fh == 160 && x == 32 && y == 0, "square in wide %d,%d %dx%d", x, y, fw, fh);
    lds_fit_box(1, 5000, 64, 64, &x, &y, &fw, &fh);
    CHECK(fw == 1 && fh == 64, "a sliver keeps one column: %dx%d", fw, fh);

    /* a 128x64 image of horizontal bands (darker to lighter downwards) in a 96x96 input: box
     * 96x48 at y = 24 */
    uint8_t px[128 * 64];
    for (int i = 0; i < 128 * 64; i++) px[i] = (uint8_t)(i / 128 / 8 * 30);
    size_t len;
    uint8_t *png = encode(px, 128, 64, 1, &len);
    float out[96 * 96], sq[96 * 96];
    int ow, oh;
    lds_error e;
    CHECK(lds_load_image_fit_memory(png, len, "fit", 1, 96, 96, out, &ow, &oh, &e) == 0, "%s", e.message);
    CHECK(ow == 128 && oh == 64, "original size %dx%d", ow, oh);
    for (int r = 24; r < 71; r++) CHECK(out[(r + 1) * 96 + 5] >= out[r * 96 + 5], "box row %d non-decreasing", r);
    CHECK(out[71 * 96] - out[24 * 96] > 0.7f, "the box spans the bands: %f..%f", out[24 * 96], out[71 * 96]);
    for (int k = 0; k < 24; k++) {
        CHECK(out[(23 - k) * 96 + 7] == out[(25 + k) * 96 + 7], "row %d mirrors row %d", 23 - k, 25 + k);
        CHECK(out[(72 + k) * 96 + 7] == out[(70 - k) * 96 + 7], "row %d mirrors row %d", 72 + k, 70 - k);
    }
    for (int c = 1; c < 96; c++) CHECK(out[40 * 96 + c] == out[40 * 96], "rows stay flat");
    CHECK(lds_load_image_memory(png, len, "sq", 1, 96, 96, sq, NULL, NULL, &e) == 0, "%s", e.message);
    CHECK(sq[0] < 0.05f && sq[95 * 96] > 0.7f, "squashed fills the input: %f %f", sq[0], sq[95 * 96]);
    free(png);
    uint8_t sqpx[64 * 64];
    for (int i = 0; i < 64 * 64; i++) sqpx[i] = (uint8_t)(i * 7);
    png = encode(sqpx, 64, 64, 1, &len);
    CHECK(lds_load_image_fit_memory(png, len, "fit", 1, 96, 96, out, NULL, NULL, &e) == 0 &&
              lds_load_image_memory(png, len, "sq", 1, 96, 96, sq, NULL, NULL, &e) == 0 &&
              memcmp(out, sq, sizeof out) == 0, "a square image fits exactly as squashed");
    free(png);

    uint8_t box[3 * 2] = {1, 0, 0, 0, 0, 2}, m[5 * 4];
    lds_fit_mirror_u8(box, 3, 2, m, 5, 4);
    /* box at x=1, y=1; rows: mirror(row 1), row 0, row 1, mirror(row 0) */
    const uint8_t want[5 * 4] = {0, 0, 0, 2, 0, /**/ 0, 1, 0, 0, 0, /**/ 0, 0, 0, 2, 0, /**/ 0, 1, 0, 0, 0};
    CHECK(memcmp(m, want, sizeof want) == 0, "mask mirrored like the image");
}

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    char *tmp = tds_tmpdir("pixels");
    test_formats(tmp);
    test_resize();
    test_fit();
    test_jpeg(argv[1]);
    test_mask_alignment(tmp);
    lds_rm_rf(tmp);
    free(tmp);
    return tds_done("test_dataset_pixels");
}
