/* test_dataset_split_augment.c — split stratification and reproducibility, augmentation keeping
 * image and mask aligned, and synthetic defects being deterministic with masks that mark what
 * changed. */
#include "tds_util.h"

#include <math.h>

static lds_set *fake_set(int n_norm, int n_anom_a, int n_anom_b, int n_unlab)
{
    lds_set *s = calloc(1, sizeof *s);
    int n = n_norm + n_anom_a + n_anom_b + n_unlab;
    s->entries = calloc((size_t)n, sizeof *s->entries);
    s->n = (size_t)n;
    s->n_classes = 3;
    for (int i = 0; i < n; i++) {
        lds_entry *e = &s->entries[i];
        char ref[64];
        snprintf(ref, sizeof ref, "s3://b/img-%04d.jpg", i);
        e->source_ref = strdup(ref);
        e->label = i < n_norm ? 0 : i < n_norm + n_anom_a + n_anom_b ? 1 : -1;
        e->defect_class = i < n_norm ? 0 : i < n_norm + n_anom_a ? 1 : i < n_norm + n_anom_a + n_anom_b ? 2 : 0;
    }
    return s;
}

static void test_split(void)
{
    lds_set *s = fake_set(100, 30, 10, 7);
    uint8_t *a = malloc(s->n), *b = malloc(s->n), *c = malloc(s->n);
    lds_split(s, 0.2, 42, a);
    lds_split(s, 0.2, 42, b);
    lds_split(s, 0.2, 43, c);
    CHECK(!memcmp(a, b, s->n), "same seed must give the same split");
    CHECK(memcmp(a, c, s->n) != 0, "another seed must give another split");
    int cnt[4] = {0};
    for (size_t i = 0; i < s->n; i++) {
        const lds_entry *e = &s->entries[i];
        if (!a[i]) continue;
        if (e->label < 0) cnt[3]++;
        else if (e->label == 0) cnt[0]++;
        else cnt[e->defect_class]++;
    }
    CHECK(cnt[0] == 20 && cnt[1] == 6 && cnt[2] == 2 && cnt[3] == 0,
          "stratified counts normal %d class1 %d class2 %d unlabeled %d (want 20 6 2 0)", cnt[0], cnt[1], cnt[2], cnt[3]);
    /* independence from order: reverse the entries, the same images go to test */
    lds_entry *rev = malloc(sizeof *rev * s->n);
    for (size_t i = 0; i < s->n; i++) rev[i] = s->entries[s->n - 1 - i];
    lds_entry *orig = s->entries;
    s->entries = rev;
    lds_split(s, 0.2, 42, b);
    int same = 1;
    for (size_t i = 0; i < s->n; i++) same &= b[i] == a[s->n - 1 - i];
    CHECK(same, "the split must follow the images, not their order");
    s->entries = orig;
    free(rev);
    /* independence from where the images are stored: the same folder and file names elsewhere */
    for (size_t i = 0; i < s->n; i++) {
        char ref[96];
        snprintf(ref, sizeof ref, "/home/someone/elsewhere/b/img-%04zu.jpg", i);
        free(s->entries[i].source_ref);
        s->entries[i].source_ref = strdup(ref);
    }
    lds_split(s, 0.2, 42, b);
    CHECK(!memcmp(a, b, s->n), "the split must not depend on where the images are stored");
    /* validation held out of the training part only */
    for (size_t i = 0; i < s->n; i++) b[i] = !a[i];
    lds_split_among(s, b, 0.25, 7, c);
    int overlap = 0, nval = 0;
    for (size_t i = 0; i < s->n; i++) {
        overlap += c[i] && a[i];
        nval += c[i];
    }
    CHECK(overlap == 0 && nval == 20 + 6 + 2, "validation part: %d chosen, %d overlap test", nval, overlap);
    free(a);
    free(b);
    free(c);
    for (size_t i = 0; i < s->n; i++) free(s->entries[i].source_ref);
    free(s->entries);
    free(s);
}

/* An image whose channel 0 is exactly 1 where the mask is set and 0 elsewhere (plus a ramp in
 * channel 1): after any augmentation without photometric changes, the mask must still sit where
 * channel 0 is bright. */
static void test_augment_alignment(void)
{
    const int C = 3, H = 48, W = 64;
    const size_t plane = (size_t)H * W;
    float *img = malloc(sizeof(float) * plane * C);
    uint8_t *mask = malloc(plane);
    lds_augment_config cfg;
    lds_augment_defaults(&cfg);
    cfg.flip_v = 1;
    cfg.rot90 = 1; /* ignored for non-square inputs */
    cfg.shift = 0.1f;
    cfg.rotate_deg = 10;
    cfg.scale = 0.1f;
    cfg.brightness = cfg.contrast = cfg.gamma = cfg.noise = 0;
    uint64_t rng = 1234;
    double worst = 0;
    for (int trial = 0; trial < 200; trial++) {
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                int in = (x >= 8 && x < 30 && y >= 5 && y < 20) || hypotf(x - 45.f, y - 32.f) < 9;
                img[(size_t)y * W + x] = in ? 1.f : 0.f;
                img[plane + (size_t)y * W + x] = (float)x / W;
                img[2 * plane + (size_t)y * W + x] = (float)y / H;
                mask[(size_t)y * W + x] = (uint8_t)in;
            }
        lds_augment(img, mask, C, H, W, &cfg, &rng);
        size_t bad = 0, on = 0;
        for (size_t i = 0; i < plane; i++) {
            int bright = img[i] > 0.5f;
            bad += bright != mask[i];
            on += mask[i];
        }
        /* bilinear vs nearest may disagree on the boundary only: < 4% of the pixels */
        double frac = (double)bad / (double)plane;
        if (frac > worst) worst = frac;
        CHECK(on > 0, "trial %d: the mask vanished", trial);
    }
    CHECK(worst < 0.04, "augmentation misaligned image and mask: worst %.3f of pixels differ", worst);
    /* 90° turns on a square image are exact permutations of the pixels */
    const int S = 32;
    float sq[32 * 32], orig[32 * 32];
    uint8_t sm[32 * 32];
    lds_augment_config r90 = {0};
    r90.rot90 = 1;
    r90.flip_h = 1;
    int seen_turn = 0;
    for (int trial = 0; trial < 20; trial++) {
        for (int i = 0; i < S * S; i++) orig[i] = sq[i] = (float)i / (S * S), sm[i] = (uint8_t)(i % 251);
        lds_augment(sq, sm, 1, S, S, &r90, &rng);
        int exact = 1;
        for (int i = 0; i < S * S; i++) {
            int k = (int)lroundf(sq[i] * S * S);
            exact &= k >= 0 && k < S * S && fabsf(sq[i] - orig[k]) < 1e-6f && sm[i] == (uint8_t)(k % 251);
        }
        seen_turn |= sq[0] != orig[0];
        CHECK(exact, "trial %d: rot90/flip must permute pixels exactly, same for the mask", trial);
    }
    CHECK(seen_turn, "rot90/flip never changed the image in 20 draws");
    /* switched off means off */
    lds_augment_config none = {0};
    for (int i = 0; i < S * S; i++) orig[i] = sq[i] = (float)i / (S * S);
    lds_augment(sq, NULL, 1, S, S, &none, &rng);
    CHECK(!memcmp(sq, orig, sizeof sq), "an all-zero config must leave the image unchanged");
    free(img);
    free(mask);
}

static void test_synth(void)
{
    const int C = 3, H = 64, W = 80;
    const size_t plane = (size_t)H * W, n = plane * C;
    float *base = malloc(sizeof(float) * n), *a = malloc(sizeof(float) * n), *b = malloc(sizeof(float) * n);
    float *src = malloc(sizeof(float) * n);
    uint8_t *ma = malloc(plane), *mb = malloc(plane);
    for (size_t i = 0; i < n; i++) {
        base[i] = 0.3f + 0.2f * sinf((float)i * 0.37f);
        src[i] = 0.9f;
    }
    const char *names[LDS_SYNTH_KINDS] = {"cutpaste", "scar", "perlin", "patch", "erase", "blotch", "chip"};
    for (int kind = 0; kind < LDS_SYNTH_KINDS; kind++) {
        if (kind == LDS_SYNTH_CHIP) { /* a texture has no outline to chip: nothing changes */
            uint64_t r = 3;
            memcpy(a, base, sizeof(float) * n);
            lds_synth_defect(a, ma, C, H, W, LDS_SYNTH_CHIP, NULL, &r);
            size_t on = 0;
            for (size_t i = 0; i < plane; i++) on += ma[i];
            CHECK(!lds_synth_plain_background(base, C, H, W, NULL), "a texture taken for a part on a plain background");
            CHECK(on == 0 && !memcmp(a, base, sizeof(float) * n), "chip changed a texture (%zu pixels)", on);
            continue;
        }
        for (int with_src = 0; with_src < 2; with_src++) {
            for (int trial = 0; trial < 10; trial++) {
                uint64_t r1 = 99 + (uint64_t)trial, r2 = r1;
                memcpy(a, base, sizeof(float) * n);
                memcpy(b, base, sizeof(float) * n);
                lds_synth_defect(a, ma, C, H, W, (lds_synth_kind)kind, with_src ? src : NULL, &r1);
                lds_synth_defect(b, mb, C, H, W, (lds_synth_kind)kind, with_src ? src : NULL, &r2);
                CHECK(!memcmp(a, b, sizeof(float) * n) && !memcmp(ma, mb, plane) && r1 == r2,
                      "%s: not deterministic for one seed", names[kind]);
                size_t on = 0, changed_outside = 0, changed_inside = 0;
                for (size_t i = 0; i < plane; i++) {
                    int ch = 0;
                    for (int c = 0; c < C; c++) ch |= fabsf(a[(size_t)c * plane + i] - base[(size_t)c * plane + i]) > 1e-6f;
                    on += ma[i];
                    if (ma[i]) changed_inside += ch;
                    else changed_outside += ch;
                }
                CHECK(on > 0 && on < plane, "%s: mask covers %zu of %zu pixels", names[kind], on, plane);
                CHECK(changed_outside == 0, "%s: %zu pixels changed outside the mask", names[kind], changed_outside);
                CHECK(changed_inside > on / 2, "%s: only %zu of %zu masked pixels changed", names[kind],
                      changed_inside, on);
            }
        }
    }
    uint64_t r1 = 5, r2 = 6;
    memcpy(a, base, sizeof(float) * n);
    memcpy(b, base, sizeof(float) * n);
    lds_synth_defect(a, ma, C, H, W, LDS_SYNTH_PERLIN, NULL, &r1);
    lds_synth_defect(b, mb, C, H, W, LDS_SYNTH_PERLIN, NULL, &r2);
    CHECK(memcmp(ma, mb, plane) != 0, "different seeds should give different Perlin masks");
    free(base);
    free(a);
    free(b);
    free(src);
    free(ma);
    free(mb);
}

/* A green part (a body and a long thin arm) on white: chips take part pixels at the outline,
 * turn them white, mask exactly them, and land mostly at the far end of the arm. */
static void test_chip(void)
{
    const int C = 3, H = 80, W = 120;
    const size_t plane = (size_t)H * W, n = plane * C;
    float *base = malloc(sizeof(float) * n), *a = malloc(sizeof(float) * n);
    uint8_t *m = malloc(plane), *part = malloc(plane);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            size_t i = (size_t)y * W + x;
            part[i] = (x >= 20 && x < 50 && y >= 20 && y < 60) || (x >= 50 && x < 110 && y >= 36 && y < 44);
            const float green[3] = {0.3f, 0.8f, 0.2f};
            for (int c = 0; c < C; c++) base[(size_t)c * plane + i] = part[i] ? green[c] : 0.97f;
        }
    float bg[3];
    CHECK(lds_synth_plain_background(base, C, H, W, bg), "the part on white is not seen as one");
    CHECK(fabsf(bg[0] - 0.97f) < 1e-4f && fabsf(bg[1] - 0.97f) < 1e-4f, "background colour %.3f %.3f", bg[0], bg[1]);
    int at_arm_end = 0;
    for (int trial = 0; trial < 40; trial++) {
        uint64_t r = 1000 + (uint64_t)trial;
        memcpy(a, base, sizeof(float) * n);
        lds_synth_defect(a, m, C, H, W, LDS_SYNTH_CHIP, NULL, &r);
        size_t on = 0, bad = 0, outline = 0;
        double sx = 0;
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                size_t i = (size_t)y * W + x;
                int changed = 0;
                for (int c = 0; c < C; c++) changed |= a[(size_t)c * plane + i] != base[(size_t)c * plane + i];
                if (changed != m[i] || (m[i] && (!part[i] || a[i] != 0.97f))) bad++;
                if (!m[i]) continue;
                on++, sx += x;
                /* a chipped pixel next to background that was already there: the chip opens the outline */
                if ((x > 0 && !part[i - 1]) || (x + 1 < W && !part[i + 1]) || (y > 0 && !part[i - W]) ||
                    (y + 1 < H && !part[i + W]))
                    outline++;
            }
        CHECK(on > 0 && on < plane / 5, "chip %d: %zu pixels", trial, on);
        CHECK(bad == 0, "chip %d: %zu pixels changed outside the mask, or masked without becoming background", trial, bad);
        CHECK(outline > 0, "chip %d does not open the part's outline", trial);
        at_arm_end += on > 0 && sx / on > 85;
    }
    CHECK(at_arm_end >= 15, "only %d of 40 chips at the arm's far end (the tips break most)", at_arm_end);
    free(base), free(a), free(m), free(part);
}

int main(void)
{
    test_split();
    test_augment_alignment();
    test_synth();
    test_chip();
    return tds_done("test_dataset_split_augment");
}
