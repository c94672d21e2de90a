/* test_train_views.c — scores averaged over mirror views (lo_ensemble_member_pass): with both
 * flips on, an image, its mirror image, the image upside down and both get the same score, and
 * each map is the others' mirror image, so a defect is painted where it is whichever way the part
 * lay; with one flip only that one is averaged; with none, the views differ (an untrained
 * network is not symmetric, which is what makes the check able to fail). */
#include "net/net.h"
#include "train/train_infer.h"
#include "train/train_internal.h"
#include "ttr_util.h"

#include <math.h>
#include <string.h>

enum { C = 3, H = 64, W = 96, B = 4 };

/* view v of img: bit 0 left-right, bit 1 upside down */
static void view(const float *img, int v, float *out) {
    for (int c = 0; c < C; c++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                int sy = v & 2 ? H - 1 - y : y, sx = v & 1 ? W - 1 - x : x;
                out[((size_t)c * H + y) * W + x] = img[((size_t)c * H + sy) * W + sx];
            }
}

static void forward(lo_net *net) { lo_net_forward(net, 0); }

/* the four views in one batch; returns the largest score difference from view 0 and, in
 * *map_diff, the largest difference between view 0's map and each view's map mirrored back */
static float spread(lo_net *net, lo_model_data *md, const float *img, float *map_diff) {
    float v[C * H * W], score[B];
    int mh, mw;
    lo_ensemble_map_shape(net, md, &mh, &mw);
    float *map = malloc(sizeof(float) * B * mh * mw);
    for (int b = 0; b < B; b++) {
        view(img, b, v);
        lo_ensemble_set_input(net, md, b, v);
    }
    lo_ensemble_member_pass(net, md, B, 0, score, map, NULL, forward);
    float ds = 0, dm = 0;
    for (int b = 1; b < B; b++) {
        ds = fmaxf(ds, fabsf(score[b] - score[0]));
        for (int y = 0; y < mh; y++)
            for (int x = 0; x < mw; x++) {
                int sy = b & 2 ? mh - 1 - y : y, sx = b & 1 ? mw - 1 - x : x;
                dm = fmaxf(dm, fabsf(map[((size_t)b * mh + sy) * mw + sx] - map[(size_t)y * mw + x]));
            }
    }
    free(map);
    *map_diff = dm;
    return ds;
}

int main(void) {
    lo_net_config cfg = {.batch = B, .channels = C, .height = H, .width = W, .threads = 1, .training = 0};
    char msg[256];
    const char *arch = lo_train_arch_json("tiny-fcn");
    lo_net *net = arch ? lo_net_create(arch, &cfg, msg, sizeof msg) : NULL;
    CHECK(net != NULL, "tiny-fcn: %s", arch ? msg : "no such architecture");
    if (!net) return TTR_DONE();
    lo_net_init_params(net, 11);
    lo_model_data md;
    memset(&md, 0, sizeof md);
    md.n_members = 1, md.has_map = 1, md.channels = C, md.height = H, md.width = W;
    for (int c = 0; c < 3; c++) md.mean[c] = 0.5f, md.std[c] = 0.25f;
    static float img[C * H * W];
    uint64_t r = 5;
    for (size_t i = 0; i < sizeof img / sizeof *img; i++) img[i] = (float)(lo_rng_next(&r) % 1000) / 1000.0f;
    for (int y = 10; y < 20; y++) /* a bright spot off every axis of symmetry */
        for (int x = 12; x < 30; x++) img[(size_t)y * W + x] = 1.0f;
    float dm;
    float ds = spread(net, &md, img, &dm);
    CHECK(ds > 1e-4f && dm > 1e-4f, "no averaging: the views should differ (score %g, map %g)", ds, dm);

    md.flip_average = 1, md.flip_average_v = 1;
    ds = spread(net, &md, img, &dm);
    CHECK(ds < 1e-4f && dm < 1e-4f, "4 views averaged: scores differ by %g, maps by %g", ds, dm);

    /* one flip: the image and that mirror image agree, the other view does not */
    float v[C * H * W], score[2];
    for (int which = 1; which <= 2; which++) {
        md.flip_average = which == 1, md.flip_average_v = which == 2;
        int mh, mw;
        lo_ensemble_map_shape(net, &md, &mh, &mw);
        float *map = malloc(sizeof(float) * 2 * mh * mw);
        lo_net_config c2 = cfg;
        c2.batch = 2;
        lo_net *n2 = lo_net_create(arch, &c2, msg, sizeof msg);
        lo_net_init_params(n2, 11);
        lo_ensemble_set_input(n2, &md, 0, img);
        view(img, which, v);
        lo_ensemble_set_input(n2, &md, 1, v);
        lo_ensemble_member_pass(n2, &md, 2, 0, score, map, NULL, forward);
        CHECK(fabsf(score[0] - score[1]) < 1e-4f, "flip %d averaged: %g vs %g", which, score[0], score[1]);
        lo_ensemble_set_input(n2, &md, 0, img);
        view(img, 3 - which, v);
        lo_ensemble_set_input(n2, &md, 1, v);
        lo_ensemble_member_pass(n2, &md, 2, 0, score, map, NULL, forward);
        CHECK(fabsf(score[0] - score[1]) > 1e-4f, "flip %d averaged: the other flip should still differ", which);
        lo_net_free(n2);
        free(map);
    }
    lo_net_free(net);
    return TTR_DONE();
}
