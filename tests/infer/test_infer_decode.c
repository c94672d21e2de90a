/* test_infer_decode — the libjpeg-turbo decode path of dataset/image_io.c:
 *  - every JPEG of the shared datasets (cookies, magnetic_tile) decodes with no libjpeg warning
 *    (warnings are errors) at the header's size, as import and training will need;
 *  - the DCT-scaled decode lds_load_image uses for a 576x768 cookie shrunk to 160x224 agrees with
 *    a full-size decode followed by the same area resize (mean and max difference bounded);
 *  - a truncated JPEG and one with corrupt entropy data give an error naming the file, and nothing
 *    is printed by libjpeg;
 *  - the mask PNG writer's palette path decodes back to the very pixels it was given.
 * Usage: test_infer_decode SHARED_DATA_DIR */
#include "dataset.h"
#include "lds_internal.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
#define CHECK(cond, ...)                                                                                            \
    do {                                                                                                            \
        if (!(cond)) {                                                                                              \
            failures++;                                                                                             \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                                    \
            fprintf(stderr, __VA_ARGS__);                                                                           \
            fprintf(stderr, "\n");                                                                                  \
        }                                                                                                           \
    } while (0)

static uint8_t *slurp(const char *path, size_t *len)
{
    lds_error e;
    uint8_t *d = lds_read_file(path, LDS_MAX_BYTES, len, &e);
    CHECK(d != NULL, "read %s: %s", path, e.message);
    return d;
}

/* Decodes every .jpg under dir (recursively) with lds_decode8; returns how many. */
static int decode_all(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        size_t l = strlen(e->d_name);
        if (e->d_type == DT_DIR) {
            n += decode_all(p);
            continue;
        }
        if (l < 5 || strcmp(e->d_name + l - 4, ".jpg")) continue;
        size_t len;
        uint8_t *data = slurp(p, &len);
        if (!data) continue;
        int hw = 0, hh = 0, hc = 0, w = 0, h = 0, c = 0;
        lds_error err;
        CHECK(lds_check_header(data, len, p, &hw, &hh, &hc, &err) == 0, "%s", err.message);
        uint8_t *px = lds_decode8(data, len, p, 0, &w, &h, &c, &err);
        CHECK(px != NULL, "%s", err.message);
        CHECK(!px || (w == hw && h == hh && c == hc), "%s: decoded %dx%dx%d, header %dx%dx%d", p, w, h, c, hw, hh, hc);
        free(px);
        free(data);
        n++;
    }
    closedir(d);
    return n;
}

static void test_scaled_matches_full(const char *data_dir)
{
    char p[2048];
    snprintf(p, sizeof p, "%s/cookies/test/anomaly/test-anomaly-1.jpg", data_dir);
    size_t len;
    uint8_t *data = slurp(p, &len);
    if (!data) return;
    const int W = 160, H = 224;
    float *scaled = malloc(sizeof(float) * 3 * W * H), *full = malloc(sizeof(float) * 3 * W * H);
    int ow = 0, oh = 0, w = 0, h = 0, c = 0;
    lds_error err;
    CHECK(lds_load_image_memory(data, len, p, 3, W, H, scaled, &ow, &oh, &err) == 0, "%s", err.message);
    CHECK(ow == 576 && oh == 768, "original size %dx%d reported, want 576x768", ow, oh);
    uint8_t *px = lds_decode8(data, len, p, 0, &w, &h, &c, &err);
    CHECK(px != NULL, "%s", err.message);
    if (px) {
        lds_resize_to_planar(px, w, h, c, full, 3, W, H);
        double sum = 0, worst = 0;
        for (int i = 0; i < 3 * W * H; i++) {
            double dv = fabs((double)scaled[i] - (double)full[i]);
            sum += dv;
            if (dv > worst) worst = dv;
        }
        double mean = sum / (3.0 * W * H);
        printf("1/2-scale decode vs full decode, both area-resized to %dx%d: mean |diff| %.5f, max %.5f (of 1)\n",
               W, H, mean, worst);
        /* The scaled IDCT reconstructs the low frequencies (a little sharper than a 2x2 box) and
         * needs no chroma upsampling: measured 1.4 levels mean, 22 at the sharpest edge. A shifted,
         * mis-scaled or channel-swapped decode is far off both bounds. */
        CHECK(mean < 3.0 / 255.0, "mean difference %.5f", mean);
        CHECK(worst < 40.0 / 255.0, "max difference %.5f", worst);
    }
    free(px);

    /* Damaged copies: an error naming the file, never a crash, exit or print. */
    size_t cut = len / 2;
    CHECK(lds_load_image_memory(data, cut, "truncated.jpg", 3, W, H, scaled, NULL, NULL, &err) != 0 &&
              strstr(err.message, "truncated.jpg"),
          "truncated JPEG accepted or unnamed: %s", err.message);
    uint8_t *bad = malloc(len);
    memcpy(bad, data, len);
    for (size_t i = len / 3; i < len / 3 + 2000; i++) bad[i] = (uint8_t)(bad[i] ^ 0x5a);
    int rc = lds_load_image_memory(bad, len, "scrambled.jpg", 3, W, H, scaled, NULL, NULL, &err);
    CHECK(rc != 0 && strstr(err.message, "scrambled.jpg"), "scrambled JPEG: rc %d %s", rc, rc ? err.message : "");
    if (rc) printf("scrambled JPEG refused: %s\n", err.message);
    free(bad);
    free(scaled);
    free(full);
    free(data);
}

static void test_palette_png(void)
{
    const int W = 97, H = 71;
    uint8_t *rgb = malloc(3 * W * H);
    static const uint8_t pal[3][3] = {{0, 0, 0}, {255, 0, 0}, {0, 200, 90}};
    for (int i = 0; i < W * H; i++) memcpy(rgb + 3 * i, pal[(i * 7 / 13 + i / W) % 3], 3);
    size_t len = 0;
    uint8_t *png = lds_encode_png(rgb, W, H, 3, &len);
    CHECK(png != NULL, "encode");
    int w = 0, h = 0, c = 0;
    lds_error err;
    uint8_t *back = png ? lds_decode8(png, len, "palette.png", 3, &w, &h, &c, &err) : NULL;
    CHECK(back && w == W && h == H, "palette PNG decode: %s", back ? "size" : err.message);
    CHECK(back && memcmp(back, rgb, 3 * W * H) == 0, "palette PNG pixels differ");
    free(back);
    free(png);
    free(rgb);
}

int main(int argc, char **argv)
{
    const char *data = argc > 1 ? argv[1] : "../shared/data";
    char p[2048];
    int n = 0;
    snprintf(p, sizeof p, "%s/cookies", data);
    n += decode_all(p);
    snprintf(p, sizeof p, "%s/magnetic_tile", data);
    n += decode_all(p);
    printf("%d shared-data JPEGs decoded without warnings\n", n);
    CHECK(n > 1000, "only %d JPEGs found under %s", n, data);
    test_scaled_matches_full(data);
    test_palette_png();
    if (failures) fprintf(stderr, "%d failure(s)\n", failures);
    return failures ? 1 : 0;
}
