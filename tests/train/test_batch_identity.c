/* The training batches stay the same for a seed. The recipe's accuracy was tuned on these exact
 * batches, so any speed work on the builder (train_batch.c, train_defects.c, dataset/augment.c,
 * dataset/synth.c) must reproduce them bit for bit. The hashes below were recorded from the
 * builder as it was before that work (commit b9e6619); a change that alters a single bit of a
 * batch fails here. Covered:
 *  - 20 batches of 16 on the cookies training images at the recipe's first input size (160x224,
 *    3 channels; normals, real defects with masks, one anomaly made mask-less, synthetic defects)
 *    with the recipe's augmentation, on 2 threads, and the same on 1 thread (must be equal);
 *  - a fold without anomalies (half of the slots synthetic);
 *  - a generated bank of an odd size (37x53, 1 and 3 channels) so vector tails are exercised;
 *  - lds_augment with dataset/'s default settings (rotation, scale, gamma: the bilinear pass), with
 *    the recipe's on awkward shapes and values (the vector paths and their fallbacks), and
 *    every lds_synth_defect kind, with and without a donor, called directly;
 *  - the share of real defects in the defect half (not a hash: the measured share of slots).
 * Run with --print to print the hashes instead of checking them. */
#include "train/train_batch.h"
#include "train/train_data.h"
#include "ttr_util.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef LO_SHARED_DATA
#define LO_SHARED_DATA "../shared/data"
#endif

static int print_only;

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001B3ull;
    return h;
}
#define FNV0 0xCBF29CE484222325ull

static void expect(const char *what, uint64_t got, uint64_t want) {
    if (print_only) {
        printf("    %-28s 0x%016llxull\n", what, (unsigned long long)got);
        return;
    }
    CHECK(got == want, "%s: hash 0x%016llx, recorded 0x%016llx (the batches changed)", what,
          (unsigned long long)got, (unsigned long long)want);
}

typedef struct {
    lo_net *net;
    int B, c, h, w;
    float *t_img, *t_px, *w_px;
    size_t mplane;
} batch_io;

static int io_open(batch_io *io, const char *arch, int B, int c, int h, int w, int mh, int mw) {
    lo_net_config cfg = {.batch = B, .channels = c, .height = h, .width = w, .threads = 1, .training = 1};
    char msg[256];
    memset(io, 0, sizeof *io);
    io->net = lo_net_create(lo_train_arch_json(arch), &cfg, msg, sizeof msg);
    if (!io->net) {
        fprintf(stderr, "net %dx%dx%d: %s\n", c, h, w, msg);
        return -1;
    }
    io->B = B, io->c = c, io->h = h, io->w = w;
    io->mplane = (size_t)(mh > 0 ? mh : 1) * (size_t)(mw > 0 ? mw : 1);
    io->t_img = calloc((size_t)B, sizeof(float));
    io->t_px = calloc((size_t)B * io->mplane, sizeof(float));
    io->w_px = calloc((size_t)B * io->mplane, sizeof(float));
    return io->t_img && io->t_px && io->w_px ? 0 : -1;
}

static void io_close(batch_io *io) {
    lo_net_free(io->net);
    free(io->t_img), free(io->t_px), free(io->w_px);
}

/* Hash of `steps` batches from step `first`: net input, t_img, t_px, w_px. */
static uint64_t run_batches(const lo_batch_spec *spec, batch_io *io, uint64_t seed, int first, int steps) {
    lo_batch_builder *bb = lo_batch_builder_create(spec);
    if (!bb) {
        CHECK(0, "builder: out of memory");
        return 0;
    }
    uint64_t h = FNV0;
    size_t in = (size_t)io->B * io->c * io->h * io->w;
    for (int s = first; s < first + steps; s++) {
        memset(io->t_px, 0xA5, (size_t)io->B * io->mplane * sizeof(float));
        memset(io->w_px, 0xA5, (size_t)io->B * io->mplane * sizeof(float));
        lo_batch_build(bb, io->net, seed, s, io->t_img, spec->mh > 0 ? io->t_px : NULL,
                       spec->mh > 0 ? io->w_px : NULL, NULL);
        h = fnv(h, lo_net_input(io->net), in * sizeof(float));
        h = fnv(h, io->t_img, (size_t)io->B * sizeof(float));
        h = fnv(h, io->t_px, (size_t)io->B * io->mplane * sizeof(float));
        h = fnv(h, io->w_px, (size_t)io->B * io->mplane * sizeof(float));
    }
    lo_batch_builder_free(bb);
    return h;
}

/* the cookies training images, banked as training banks them */
static void cookies_case(void) {
    char tmp[] = "/tmp/lookout-batchid-XXXXXX", src[1024], ds[1100];
    if (!mkdtemp(tmp)) {
        CHECK(0, "mkdtemp");
        return;
    }
    snprintf(src, sizeof src, "%s/cookies/train", LO_SHARED_DATA);
    snprintf(ds, sizeof ds, "%s/ds", tmp);
    lds_error le, warn = {0};
    lds_set *set = NULL;
    if (lds_import_folder(ds, src, &warn, &le) != 0 || lds_open(ds, &set, &le) != 0) {
        CHECK(0, "cookies import: %s", le.message);
        return;
    }
    size_t *items = malloc(set->n * sizeof *items), n = 0;
    int *labels = malloc(set->n * sizeof *labels);
    for (size_t i = 0; i < set->n; i++)
        if (set->entries[i].label >= 0) labels[n] = set->entries[i].label, items[n++] = i;
    int h, w, capped;
    lo_train_input_size(set, items, n, 224, &h, &w, &capped);
    CHECK(w == 160 && h == 224, "cookies input %dx%d, expected 160x224", w, h);
    lo_bank bank;
    lo_train_error te;
    if (lo_bank_load(&bank, set, items, n, 3, h, w, 1, 0, &te) != 0) {
        CHECK(0, "bank: %s", te.message);
        lds_free(set), free(items), free(labels);
        return;
    }
    size_t *normals = malloc(n * sizeof(size_t)), *anoms = malloc(n * sizeof(size_t)), nn = 0, na = 0;
    for (size_t i = 0; i < n; i++) {
        if (labels[i] == 0) normals[nn++] = i;
        else anoms[na++] = i;
    }
    CHECK(bank.mask != NULL && na >= 2, "cookies: %zu anomalies, masks %s", na, bank.mask ? "yes" : "no");
    if (bank.mask && na >= 2) bank.has_mask[anoms[1]] = 0; /* a real anomaly without a mask: weight 0 */
    lds_augment_config aug;
    lo_train_augment_config(&aug);
    float mean[3], sd[3];
    lo_bank_stats(&bank, mean, sd);
    batch_io io;
    int mh = h / 8, mw = w / 8; /* compact-fcn's map at this size, checked below */
    if (io_open(&io, "compact-fcn", 16, 3, h, w, mh, mw) == 0) {
        int d[4];
        lo_net_output(io.net, 0, d);
        CHECK(d[2] == mh && d[3] == mw, "compact-fcn map %dx%d, expected %dx%d", d[3], d[2], mw, mh);
        lo_batch_spec spec = {.bank = &bank, .normals = normals, .anoms = anoms, .nn = nn, .na = na, .aug = &aug,
                              .mean = mean, .std = sd, .mh = mh, .mw = mw, .pos_pixel_weight = 3.0f,
                              .threads = 2};
        uint64_t two = run_batches(&spec, &io, 11, 0, 20);
        expect("cookies, 20 batches", two, 0xe58e2fdf3ad25814ull);
        spec.threads = 1;
        uint64_t one = run_batches(&spec, &io, 11, 0, 20);
        CHECK(one == two, "1 thread and 2 threads built different batches");
        spec.threads = 2;
        spec.na = 0; /* a fold without anomalies */
        expect("cookies, no anomalies", run_batches(&spec, &io, 5, 100, 6), 0xd4ff9c3aae633489ull);
        spec.na = na;
        spec.mh = spec.mw = 0; /* a net without a map: image targets only */
        expect("cookies, no map", run_batches(&spec, &io, 3, 7, 3), 0x13fb8161478a0b5aull);
    }
    io_close(&io);
    lo_bank_free(&bank);
    lds_free(set);
    free(items), free(labels), free(normals), free(anoms);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    CHECK(system(cmd) == 0, "rm");
}

/* a generated bank: textured images, anomalies with a square mask (one without a mask) */
static void generated_case(int c, int h, int w, const char *what, uint64_t want) {
    const size_t n = 10, plane = (size_t)h * w;
    lo_bank bank = {.n = n, .c = c, .h = h, .w = w};
    bank.img = malloc(n * c * plane);
    bank.mask = calloc(n, plane);
    bank.has_mask = calloc(n, 1);
    uint64_t r = 1234 + (uint64_t)c;
    for (size_t i = 0; i < n * c * plane; i++) {
        size_t k = i % plane;
        int x = (int)(k % (size_t)w), y = (int)(k / (size_t)w);
        bank.img[i] = (uint8_t)(90 + 40 * ((x / 5 + y / 7) & 1) + (int)(lo_rng_next(&r) % 40));
    }
    size_t normals[7] = {0, 1, 2, 3, 4, 5, 6}, anoms[3] = {7, 8, 9};
    for (int a = 0; a < 2; a++) {
        bank.has_mask[anoms[a]] = 1;
        for (int y = h / 3; y < h / 3 + 6 + 3 * a; y++)
            for (int x = w / 4; x < w / 4 + 5 + a; x++) bank.mask[anoms[a] * plane + (size_t)y * w + x] = 1;
    }
    lds_augment_config aug;
    lo_train_augment_config(&aug);
    float mean[3] = {0.45f, 0.5f, 0.55f}, sd[3] = {0.2f, 0.25f, 0.3f};
    batch_io io;
    /* the net only holds the input here (a classifier: any size); the builder takes the map size
     * from the spec */
    if (io_open(&io, "compact-cls", 6, c, h, w, 5, 7) == 0) {
        lo_batch_spec spec = {.bank = &bank, .normals = normals, .anoms = anoms, .nn = 7, .na = 3, .aug = &aug,
                              .mean = mean, .std = sd, .mh = 5, .mw = 7, .pos_pixel_weight = 2.0f, .threads = 2};
        expect(what, run_batches(&spec, &io, 99, 0, 12), want);
    }
    io_close(&io);
    free(bank.img), free(bank.mask), free(bank.has_mask);
}

/* dataset/'s functions directly: the default augmentation (bilinear pass, gamma) and every kind */
static void direct_case(void) {
    const int c = 3, h = 45, w = 61;
    const size_t plane = (size_t)h * w, px = c * plane;
    float *base = malloc(px * sizeof(float)), *img = malloc(px * sizeof(float)), *don = malloc(px * sizeof(float));
    uint8_t *mask = malloc(plane);
    uint64_t r = 77;
    for (size_t i = 0; i < px; i++) base[i] = (float)(lo_rng_next(&r) % 256) / 255.0f;
    for (size_t i = 0; i < px; i++) don[i] = (float)((i * 7) % 256) / 255.0f;
    lds_augment_config def;
    lds_augment_defaults(&def);
    def.flip_v = def.rot90 = 1;
    uint64_t ha = FNV0;
    for (uint64_t s = 1; s <= 40; s++) {
        uint64_t rng = s;
        memcpy(img, base, px * sizeof(float));
        for (size_t i = 0; i < plane; i++) mask[i] = (uint8_t)((i / 13) & 1);
        lds_augment(img, mask, c, h, w, &def, &rng);
        ha = fnv(fnv(fnv(ha, img, px * sizeof(float)), mask, plane), &rng, sizeof rng);
        rng = s + 1000; /* and without a mask, on the square size 90° turns need */
        memcpy(img, base, (size_t)c * h * h * sizeof(float));
        lds_augment(img, NULL, c, h, h, &def, &rng);
        ha = fnv(fnv(ha, img, (size_t)c * h * h * sizeof(float)), &rng, sizeof rng);
    }
    expect("lds_augment defaults", ha, 0x4c3fa5483afb5165ull);
    /* the recipe's settings (the vector paths) on awkward inputs: odd widths, a 1-pixel-short
     * vector, values too small for the mean's exact parallel sum, and a sum too large for it */
    lds_augment_config rec;
    lo_train_augment_config(&rec);
    static const int shapes[][3] = {{3, 45, 61}, {1, 17, 16}, {2, 5, 100}, {1, 320, 448}};
    uint64_t hr = FNV0;
    for (int k = 0; k < 4; k++) {
        int sc = shapes[k][0], sh = shapes[k][1], sw = shapes[k][2];
        size_t spl = (size_t)sh * sw, spx = (size_t)sc * spl;
        float *im = malloc(spx * sizeof(float));
        uint8_t *mk = malloc(spl);
        for (uint64_t s = 1; s <= 6; s++) {
            uint64_t rr = s * 5 + (uint64_t)k;
            for (size_t i = 0; i < spx; i++)
                im[i] = k == 3 ? 1.0f : s == 2 ? (float)(lo_rng_next(&rr) % 1000) * 1e-7f : (float)(lo_rng_next(&rr) % 256) / 255.0f;
            for (size_t i = 0; i < spl; i++) mk[i] = (uint8_t)(s & 1 ? (i / 7) % 5 == 0 : 0);
            uint64_t rng = s;
            lds_augment(im, s < 5 ? mk : NULL, sc, sh, sw, &rec, &rng);
            hr = fnv(fnv(fnv(hr, im, spx * sizeof(float)), mk, spl), &rng, sizeof rng);
        }
        free(im), free(mk);
    }
    expect("lds_augment recipe", hr, 0x86970ffba1e80f23ull);
    uint64_t hs = FNV0;
    for (int kind = 0; kind < LDS_SYNTH_CHIP; kind++) /* the kinds on a texture (a chip needs a part) */
        for (uint64_t s = 1; s <= 12; s++) {
            uint64_t rng = s * 31 + (uint64_t)kind;
            memcpy(img, base, px * sizeof(float));
            lds_synth_defect(img, mask, c, h, w, (lds_synth_kind)kind, s & 1 ? don : NULL, &rng);
            hs = fnv(fnv(fnv(hs, img, px * sizeof(float)), mask, plane), &rng, sizeof rng);
        }
    expect("lds_synth_defect kinds", hs, 0x4b8a7242f4fa4ff0ull);
    /* chips, and the recipe's mix, on a part (a disc and a bar) lying on a plain background */
    float *part = malloc(px * sizeof(float));
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int ch = 0; ch < c; ch++)
                part[(size_t)ch * plane + (size_t)y * w + x] =
                    (x - 20) * (x - 20) + (y - 22) * (y - 22) < 100 || (x >= 20 && x < 52 && y >= 19 && y < 25)
                        ? 0.2f + 0.25f * (float)ch : 0.95f;
    uint64_t hc = FNV0;
    for (uint64_t s = 1; s <= 24; s++) {
        uint64_t rng = s * 17;
        memcpy(img, part, px * sizeof(float));
        if (s <= 12) lds_synth_defect(img, mask, c, h, w, LDS_SYNTH_CHIP, NULL, &rng);
        else {
            int cnt = lo_train_make_defect(img, part, don, mask, c, h, w, 4, &rng);
            hc = fnv(hc, &cnt, sizeof cnt);
        }
        hc = fnv(fnv(fnv(hc, img, px * sizeof(float)), mask, plane), &rng, sizeof rng);
    }
    free(part);
    expect("chips on a part", hc, 0x494d28b61172ba6aull);
    uint64_t hd = FNV0;
    for (uint64_t s = 1; s <= 60; s++) {
        uint64_t rng = s;
        int cnt = lo_train_make_defect(img, base, s % 3 ? don : NULL, mask, c, h, w, 4, &rng);
        hd = fnv(fnv(fnv(fnv(hd, img, px * sizeof(float)), mask, plane), &rng, sizeof rng), &cnt, sizeof cnt);
    }
    expect("lo_train_make_defect", hd, 0x8cf3fe6ac635da55ull);
    free(base), free(img), free(don), free(mask);
}

/* The defect half's split (train_run.c gives real defects 0.3 of the slots, or 0.2 when their
 * masks are unknown): a real anomaly without a mask is the one slot whose pixel weights are all 0,
 * so counting those slots measures the share the builder gave them. */
static void mix_case(void) {
    const int c = 1, h = 37, w = 53;
    const size_t n = 10, plane = (size_t)h * w;
    lo_bank bank = {.n = n, .c = c, .h = h, .w = w};
    bank.img = malloc(n * plane);
    bank.mask = calloc(n, plane);
    bank.has_mask = calloc(n, 1); /* no image has a mask */
    uint64_t r = 99;
    for (size_t i = 0; i < n * plane; i++) bank.img[i] = (uint8_t)(60 + lo_rng_next(&r) % 120);
    size_t normals[7] = {0, 1, 2, 3, 4, 5, 6}, anoms[3] = {7, 8, 9};
    lds_augment_config aug;
    lo_train_augment_config(&aug);
    float mean[1] = {0.5f}, sd[1] = {0.25f};
    batch_io io;
    if (io_open(&io, "compact-cls", 16, c, h, w, 5, 7) == 0) {
        static const double share[2] = {0, 0.2}; /* 0: the default, 0.3 */
        static const double want[2] = {0.3, 0.2};
        for (int k = 0; k < 2; k++) {
            lo_batch_spec spec = {.bank = &bank, .normals = normals, .anoms = anoms, .nn = 7, .na = 3,
                                  .real_share = share[k], .aug = &aug, .mean = mean, .std = sd, .mh = 5, .mw = 7,
                                  .pos_pixel_weight = 2.0f, .threads = 2};
            lo_batch_builder *bb = lo_batch_builder_create(&spec);
            if (!bb) {
                CHECK(0, "builder: out of memory");
                break;
            }
            int real = 0, defect = 0, slots = 0;
            for (int s = 0; s < 150; s++) {
                lo_batch_build(bb, io.net, 5, s, io.t_img, io.t_px, io.w_px, NULL);
                for (int b = 0; b < io.B; b++, slots++) {
                    int known = 0;
                    for (size_t m = 0; m < io.mplane; m++) known |= io.w_px[(size_t)b * io.mplane + m] != 0;
                    real += !known;
                    defect += io.t_img[b] > 0.5f;
                }
            }
            lo_batch_builder_free(bb);
            double fr = (double)real / slots, fd = (double)defect / slots;
            CHECK(fabs(fr - want[k]) < 0.04 && fabs(fd - 0.5) < 0.05,
                  "real_share %.1f: %.3f of %d slots were real defects (want %.2f), %.3f defects (want 0.5)",
                  share[k], fr, slots, want[k], fd);
        }
    }
    io_close(&io);
    free(bank.img), free(bank.mask), free(bank.has_mask);
}

int main(int argc, char **argv) {
    print_only = argc > 1 && strcmp(argv[1], "--print") == 0;
    direct_case();
    generated_case(1, 37, 53, "generated 1x37x53", 0xcd71f70afc408f95ull);
    generated_case(3, 37, 53, "generated 3x37x53", 0xfae3d6e46b76cef7ull);
    cookies_case();
    mix_case();
    return TTR_DONE();
}
