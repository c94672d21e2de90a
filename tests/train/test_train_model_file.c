/* The model file: round trip, and a clear refusal of truncated, altered, foreign and
 * future-version files (never read past the end: the ASan build checks that). */
#include "train/train_internal.h"
#include "ttr_util.h"

#include <math.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

static uint8_t *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(*len);
    if (fread(b, 1, *len, f) != *len) *len = 0;
    fclose(f);
    return b;
}

int main(void) {
    lo_model_data md = {0};
    md.arch_json = (char *)lo_train_arch_json("compact-fcn");
    CHECK(md.arch_json != NULL, "compact-fcn is embedded");
    CHECK(lo_train_arch_json("no-such-arch") == NULL, "unknown arch");
    snprintf(md.arch_name, sizeof md.arch_name, "compact-fcn");
    md.channels = 3, md.height = 160, md.width = 224;
    for (int c = 0; c < 3; c++) md.mean[c] = 0.4f + 0.1f * c, md.std[c] = 0.2f;
    md.threshold = 0.37f, md.calib_slope = 1.7f, md.pixel_threshold = 0.5f;
    md.has_map = 1, md.segmentation = 1, md.n_classes = 2;
    snprintf(md.class_names[0], 64, "background");
    snprintf(md.class_names[1], 64, "cracked");
    md.class_rgb[1][0] = 0x23, md.class_rgb[1][1] = 0xa4, md.class_rgb[1][2] = 0x36;
    md.n_members = 3, md.n_params = 1000, md.n_state = 40;
    md.params = malloc(3 * 1000 * sizeof(float));
    md.state = malloc(3 * 40 * sizeof(float));
    for (int i = 0; i < 3000; i++) md.params[i] = sinf((float)i);
    for (int i = 0; i < 120; i++) md.state[i] = (float)i;
    snprintf(md.recipe, sizeof md.recipe, "test");
    md.flip_average = 1;
    md.flip_average_v = 1;
    md.fit = 1;
    char path[] = "/tmp/ttr_model_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    lo_train_error err;
    CHECK(lo_model_data_write(path, &md, &err) == 0, "%s", err.message);

    lo_model_data back;
    CHECK(lo_model_data_read(path, &back, &err) == 0, "%s", err.message);
    CHECK(back.height == 160 && back.width == 224 && back.channels == 3, "input size");
    CHECK(back.threshold == md.threshold && back.calib_slope == md.calib_slope, "threshold");
    CHECK(back.n_members == 3 && back.n_params == 1000 && back.n_state == 40, "counts");
    CHECK(memcmp(back.params, md.params, 3000 * sizeof(float)) == 0, "params bit-exact");
    CHECK(memcmp(back.state, md.state, 120 * sizeof(float)) == 0, "state bit-exact");
    CHECK(strcmp(back.class_names[1], "cracked") == 0 && back.class_rgb[1][1] == 0xa4, "classes");
    CHECK(strcmp(back.arch_json, md.arch_json) == 0, "architecture");
    CHECK(back.segmentation == 1 && back.has_map == 1 && back.flip_average == 1 &&
              back.flip_average_v == 1 && back.fit == 1, "flags");
    lo_model_data_free(&back);

    size_t len;
    uint8_t *buf = slurp(path, &len);
    /* every truncation is refused */
    for (size_t cut = 0; cut < len; cut += (cut < 64 ? 1 : 997)) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, buf, cut);
        CHECK(lo_model_data_parse(copy, cut, "t.bin", &back, &err) == -1, "truncated at %zu accepted", cut);
        free(copy);
    }
    CHECK(strstr(err.message, "t.bin") != NULL, "names the file: %s", err.message);
    /* one flipped bit anywhere is caught */
    for (size_t pos = 0; pos < len; pos += 1 + len / 50) {
        buf[pos] ^= 0x10;
        CHECK(lo_model_data_parse(buf, len, "a.bin", &back, &err) == -1, "flip at %zu accepted", pos);
        buf[pos] ^= 0x10;
    }
    CHECK(lo_model_data_parse(buf, len, "ok.bin", &back, &err) == 0, "%s", err.message);
    lo_model_data_free(&back);
    /* foreign file and newer format version */
    const char *png = "\x89PNG\r\n\x1a\n0000000000000000000000000000000000000000000000000000000000000";
    CHECK(lo_model_data_parse((const uint8_t *)png, strlen(png), "x.png", &back, &err) == -1 &&
              strstr(err.message, "not a lookout model"), "foreign: %s", err.message);
    buf[8] = 9;
    CHECK(lo_model_data_parse(buf, len, "v.bin", &back, &err) == -1 && strstr(err.message, "version 9"),
          "version: %s", err.message);
    /* the public loader refuses it too, with the path in the message */
    lo_model *m = lo_model_load("/nonexistent/model.bin", &err);
    CHECK(m == NULL && strstr(err.message, "/nonexistent/model.bin"), "missing file: %s", err.message);
    free(buf);
    unlink(path);
    free(md.params);
    free(md.state);
    return TTR_DONE();
}
