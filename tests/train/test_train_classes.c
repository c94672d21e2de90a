/* test_train_classes — Lookout's per-class mask colours become classes (issue 5, segmentation).
 *
 *  1. Units: lo_arch_with_class_head (a third output on compact-fcn, none on compact-cls),
 *     lo_pool_class (majority defect class per cell, 255 elsewhere), lo_classes_paint (argmax of
 *     the class logits on defect pixels only), and the class loss ignoring every cell when no
 *     cell has a class (zero loss, zero gradient).
 *  2. End to end: a Ground Truth manifest of 96x96 plain-texture images, 30 normal and 30
 *     anomalous, half with a red square ("scratch", #ff0000 in the mask), half with a dark disc
 *     ("dent", #0000ff), trained with a short schedule; detect-anomalies on 12 freshly drawn
 *     anomalies (in no dataset) must name the right class on >= 80 % of the pixels that are
 *     defect in both the truth and the returned AnomalyMask, and both classes must appear in the
 *     Anomalies lists.
 *  3. The same images with one defect colour (ImageFolder import) train a model whose network
 *     has exactly the two outputs (map, score) it had before.
 * argv[1] = steps per member (default 120), argv[2] = architecture (default tiny-fcn). */
#define _GNU_SOURCE
#include "dataset.h"
#include "lds_internal.h"
#include "net/net.h"
#include "train/train_infer.h"
#include "ttr_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define S 96

static uint64_t lcg(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

/* One picture: gray-blue noise, and for kind 1 a red square, kind 2 a dark disc. truth gets the
 * class index per pixel (0 background). */
static void draw(uint64_t *seed, int kind, uint8_t *px, uint8_t *truth) {
    memset(truth, 0, S * S);
    for (int k = 0; k < S * S; k++) {
        uint8_t v = (uint8_t)(110 + lcg(seed) % 40);
        px[3 * k] = v, px[3 * k + 1] = v, px[3 * k + 2] = (uint8_t)(v + 10);
    }
    if (!kind) return;
    int r = 6 + (int)(lcg(seed) % 4), cx = 14 + (int)(lcg(seed) % 68), cy = 14 + (int)(lcg(seed) % 68);
    for (int y = cy - r; y <= cy + r; y++)
        for (int x = cx - r; x <= cx + r; x++) {
            int in = kind == 1 || (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r;
            if (!in) continue;
            uint8_t *p = px + 3 * (y * S + x);
            if (kind == 1) p[0] = 200, p[1] = 40, p[2] = 40;
            else p[0] = 30, p[1] = 30, p[2] = 35;
            truth[y * S + x] = (uint8_t)kind;
        }
}

static const uint8_t class_rgb[3][3] = {{255, 255, 255}, {255, 0, 0}, {0, 0, 255}};

/* root/b/img/N.png (+ N-mask.png for anomalies) and root/two.manifest; and an ImageFolder of the
 * same pictures with 0/255 masks at root/folder (one defect class). Anomalies alternate scratch
 * and dent, or are all of kind `only` (1 or 2; the manifest's colour map still names both). */
static int make_fixture(const char *root, int n_normal, int n_anom, uint64_t seed, int only) {
    char p[600];
    lds_error le;
    const char *dirs[] = {"", "b", "b/img", "folder", "folder/normal", "folder/anomaly", "folder/mask"};
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
        snprintf(p, sizeof p, "%s/%s", root, dirs[i]);
        mkdir(p, 0755);
    }
    snprintf(p, sizeof p, "%s/two.manifest", root);
    FILE *man = fopen(p, "w");
    if (!man) return -1;
    uint8_t *px = malloc(S * S * 3), *truth = malloc(S * S), *rgb = malloc(S * S * 3), *bin = malloc(S * S);
    int rc = 0;
    for (int i = 0; i < n_normal + n_anom && rc == 0; i++) {
        int anom = i >= n_normal, kind = anom ? (only ? only : 1 + (i - n_normal) % 2) : 0;
        draw(&seed, kind, px, truth);
        snprintf(p, sizeof p, "%s/b/img/%d.png", root, i);
        rc |= lds_write_png(p, px, S, S, 3, &le);
        snprintf(p, sizeof p, "%s/folder/%s/img%03d.png", root, anom ? "anomaly" : "normal", i);
        rc |= lds_write_png(p, px, S, S, 3, &le);
        if (!anom) {
            fprintf(man, "{\"source-ref\":\"s3://b/img/%d.png\",\"lbl\":0,\"lbl-metadata\":{\"class-name\":\"normal\","
                         "\"type\":\"groundtruth/image-classification\"}}\n", i);
            continue;
        }
        for (int k = 0; k < S * S; k++) memcpy(rgb + 3 * k, class_rgb[truth[k]], 3), bin[k] = truth[k] ? 255 : 0;
        snprintf(p, sizeof p, "%s/b/img/%d-mask.png", root, i);
        rc |= lds_write_png(p, rgb, S, S, 3, &le);
        snprintf(p, sizeof p, "%s/folder/mask/img%03d.png", root, i);
        rc |= lds_write_png(p, bin, S, S, 1, &le);
        fprintf(man, "{\"source-ref\":\"s3://b/img/%d.png\",\"lbl\":1,\"lbl-metadata\":{\"class-name\":\"anomaly\","
                     "\"type\":\"groundtruth/image-classification\"},\"seg-ref\":\"s3://b/img/%d-mask.png\","
                     "\"seg-ref-metadata\":{\"internal-color-map\":{\"0\":{\"class-name\":\"BACKGROUND\","
                     "\"hex-color\":\"#ffffff\"},\"1\":{\"class-name\":\"scratch\",\"hex-color\":\"#ff0000\"},"
                     "\"2\":{\"class-name\":\"dent\",\"hex-color\":\"#0000ff\"}},\"type\":"
                     "\"groundtruth/semantic-segmentation\"}}\n", i, i);
    }
    if (fclose(man) != 0) rc = -1;
    free(px), free(truth), free(rgb), free(bin);
    return rc;
}

static void test_units(void) {
    /* the class head: a third output reading what the map reads; none on a classifier */
    char *a = lo_arch_with_class_head(lo_train_arch_json("compact-fcn"), 2);
    CHECK(a != NULL, "compact-fcn gets a class head");
    CHECK(lo_arch_with_class_head(lo_train_arch_json("compact-cls"), 2) == NULL, "compact-cls has no map");
    CHECK(lo_arch_with_class_head(lo_train_arch_json("compact-fcn"), 1) == NULL, "one class: no head");
    if (a) {
        char msg[256];
        lo_net_config cfg = {.batch = 2, .height = 64, .width = 64, .threads = 1, .training = 1};
        lo_net *net = lo_net_create(a, &cfg, msg, sizeof msg);
        CHECK(net != NULL, "%s", msg);
        if (net) {
            int dm[4], dc[4];
            lo_net_output(net, 0, dm);
            lo_net_output(net, 2, dc);
            CHECK(lo_net_output_count(net) == 3 && lo_net_class_count(net) == 2, "3 outputs, 2 classes");
            CHECK(dc[1] == 2 && dc[2] == dm[2] && dc[3] == dm[3], "class head %dx%dx%d, map %dx%d", dc[1], dc[2],
                  dc[3], dm[2], dm[3]);
            /* no cell with a class: the class loss is 0 and adds no gradient */
            size_t cells = (size_t)2 * dm[2] * dm[3];
            uint8_t *lab = malloc(cells);
            memset(lab, 255, cells);
            lo_net_init_params(net, 3);
            lo_net_forward(net, 1);
            lo_net_zero_grad(net);
            float l0 = lo_net_loss_pixel_ce(net, 2, lab, NULL);
            const float *g = lo_net_output_grad(net, 2);
            double gs = 0;
            for (size_t i = 0; i < cells * 2; i++) gs += fabs(g[i]);
            CHECK(l0 == 0 && gs == 0, "all ignored: loss %g, |grad| %g", l0, gs);
            /* one labelled cell: loss log(1 + e^(z_other - z_label)) > 0, gradient on that cell only */
            lab[5] = 1;
            float l1 = lo_net_loss_pixel_ce(net, 2, lab, NULL);
            const float *z = lo_net_output(net, 2, dc);
            size_t hw = (size_t)dm[2] * dm[3];
            double want = log1p(exp((double)z[5] - (double)z[hw + 5]));
            CHECK(fabs(l1 - want) < 1e-4, "loss %g, want %g", l1, want);
            gs = 0;
            for (size_t i = 0; i < cells * 2; i++) gs += i % hw == 5 ? 0 : fabs(g[i]);
            CHECK(gs == 0 && g[5] > 0 && g[hw + 5] < 0, "gradient on the labelled cell only");
            free(lab);
            lo_net_free(net);
        }
        free(a);
    }
    /* majority class per cell (as head index), 255 where no defect class */
    uint8_t m[4 * 4] = {0, 1, 2, 2,
                        0, 1, 2, 2,
                        0, 0, 0, 0,
                        0, 0, 2, 1};
    uint8_t t[4];
    lo_pool_class(m, 4, 4, 2, 2, 2, t);
    CHECK(t[0] == 0 && t[1] == 1 && t[2] == 255 && t[3] == 0, "pool %d %d %d %d (tie: lower class)", t[0], t[1],
          t[2], t[3]);
    /* painting: defect pixels take the argmax class, background stays */
    float logit[2 * 1 * 2] = {1, -1, /* class 1 */ 0, 0 /* class 2 */};
    uint8_t px[4] = {1, 1, 0, 1};
    lo_classes_paint(logit, 2, 1, 2, 4, 1, px);
    CHECK(px[0] == 1 && px[1] == 1 && px[2] == 0 && px[3] == 2, "paint %d %d %d %d", px[0], px[1], px[2], px[3]);

    /* an anomalous verdict whose map has one cell standing out, below the pixel threshold:
     * resampled to a size where no pixel falls on the cell's centre, the peak's neighbourhood is
     * still painted (the peak of the cells, e^1 above the resampled values, painted nothing) */
    float map[5 * 5];
    for (int i = 0; i < 25; i++) map[i] = -12;
    map[12] = -1;
    lo_model_data md = {.pixel_threshold = 0.5f};
    uint8_t out[8 * 8];
    lo_model_class_mask(&md, map, 5, 5, 1, 8, 8, out);
    int painted = 0, far = 0;
    for (int y = 0; y < 8; y++)
        for (int x = 0; x < 8; x++) painted += out[y * 8 + x], far += out[y * 8 + x] && (abs(x - 4) > 1 || abs(y - 4) > 1);
    CHECK(painted > 0 && far == 0, "one-cell peak: %d pixels painted, %d away from it", painted, far);
    lo_model_class_mask(&md, map, 5, 5, 0, 8, 8, out);
    painted = 0;
    for (int i = 0; i < 64; i++) painted += out[i];
    CHECK(painted == 0, "a normal verdict paints nothing (%d)", painted);
}

static uint8_t *png_of(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(*len + 1);
    if (fread(b, 1, *len, f) != *len) *len = 0;
    fclose(f);
    return b;
}

/* Outputs of the network a model file describes. */
static int model_outputs(const char *model_dir, int *n_classes) {
    char p[700];
    snprintf(p, sizeof p, "%s/model.bin", model_dir);
    lo_model_data md;
    lo_train_error err;
    if (lo_model_data_read(p, &md, &err) != 0) return -1;
    lo_net_config cfg = {.batch = 1, .channels = md.channels, .height = md.height, .width = md.width, .threads = 1};
    char msg[256];
    lo_net *net = lo_net_create(md.arch_json, &cfg, msg, sizeof msg);
    int n = net ? lo_net_output_count(net) : -1;
    *n_classes = md.n_classes;
    lo_net_free(net);
    lo_model_data_free(&md);
    return n;
}

int main(int argc, char **argv) {
    int steps = argc > 1 ? atoi(argv[1]) : 120;
    const char *arch = argc > 2 ? argv[2] : "tiny-fcn";
    test_units();
    char root[] = "/tmp/ttc_XXXXXX";
    if (!mkdtemp(root)) return 1;
    char p[700], ds[600], ds1[600], model[600], model1[600];
    snprintf(ds, sizeof ds, "%s/ds", root);
    snprintf(ds1, sizeof ds1, "%s/ds1", root);
    snprintf(model, sizeof model, "%s/model", root);
    snprintf(model1, sizeof model1, "%s/model1", root);
    lds_error le, warn;
    CHECK(make_fixture(root, 30, 30, 21, 0) == 0, "fixture");
    snprintf(p, sizeof p, "%s/two.manifest", root);
    CHECK(lds_import_manifest(ds, p, root, &warn, &le) == 0, "%s", le.message);
    snprintf(p, sizeof p, "%s/folder", root);
    CHECK(lds_import_folder(ds1, p, &warn, &le) == 0, "%s", le.message);

    lo_train_result res;
    lo_train_error err;
    lo_train_request req = {.train_dir = ds, .model_dir = model, .threads = 1, .time_budget_s = 300,
                            .arch = arch, .seed = 3, .max_steps = steps};
    int rc = lo_train_run(&req, &res, &err);
    CHECK(rc == 0, "%s", err.message);
    if (rc != 0) return TTR_DONE();
    CHECK(res.segmentation && res.n_classes == 3 && strcmp(res.class_names[1], "scratch") == 0 &&
              strcmp(res.class_names[2], "dent") == 0, "classes %d", res.n_classes);
    int ncls = 0;
    CHECK(model_outputs(model, &ncls) == 3 && ncls == 3, "two defect classes: map, score and class head");
    /* the run's own evaluation masks (map resolution) name the classes too */
    size_t ev_both = 0, ev_right = 0, ev_px[3] = {0};
    for (int64_t i = 0; i < res.n_test; i++) {
        const lo_test_prediction *t = &res.test[i];
        if (!t->pred_mask) continue;
        for (int k = 0; k < t->hm_w * t->hm_h; k++) {
            if (t->pred_mask[k] < 3) ev_px[t->pred_mask[k]]++;
            if (t->truth_mask && t->truth_mask[k] && t->pred_mask[k])
                ev_both++, ev_right += t->truth_mask[k] == t->pred_mask[k];
        }
    }
    fprintf(stderr, "evaluation masks: %zu scratch and %zu dent cells; class right on %zu of %zu\n", ev_px[1],
            ev_px[2], ev_right, ev_both);
    CHECK(ev_px[1] > 0 && ev_px[2] > 0 && ev_both > 0 && ev_right >= ev_both * 4 / 5, "evaluation masks");
    lo_train_result_free(&res);

    snprintf(p, sizeof p, "%s/model.bin", model);
    lo_model *m = lo_model_load(p, &err);
    CHECK(m != NULL, "%s", err.message);
    size_t both = 0, right = 0, per_class[3] = {0}, right_class[3] = {0};
    int seen[3] = {0}, flagged = 0;
    uint64_t seed = 777;
    const int n_held = 12;
    uint8_t *px = malloc(S * S * 3), *truth = malloc(S * S);
    for (int i = 0; m && i < n_held; i++) {
        int kind = 1 + i % 2;
        draw(&seed, kind, px, truth);
        snprintf(p, sizeof p, "%s/held-%d.png", root, i);
        CHECK(lds_write_png(p, px, S, S, 3, &le) == 0, "%s", le.message);
        size_t len = 0;
        uint8_t *buf = png_of(p, &len);
        lo_detect_result r;
        if (!buf || lo_model_detect(m, buf, len, p, &r, &err) != 0) {
            CHECK(0, "detect: %s", err.message);
            free(buf);
            continue;
        }
        flagged += r.is_anomalous;
        if (i < 2) { /* what the README shows */
            fprintf(stderr, "held-out %s image: IsAnomalous %d, Anomalies:", kind == 1 ? "scratch" : "dent",
                    r.is_anomalous);
            for (int k = 0; k < r.n_anomalies; k++)
                fprintf(stderr, " %s %s %.4f;", r.anomalies[k].name, r.anomalies[k].hex_color,
                        r.anomalies[k].total_percentage_area);
            fputc('\n', stderr);
        }
        for (int k = 1; k < r.n_anomalies; k++)
            for (int c = 1; c <= 2; c++)
                if (strcmp(r.anomalies[k].name, c == 1 ? "scratch" : "dent") == 0) {
                    seen[c]++;
                    char hex[8];
                    snprintf(hex, sizeof hex, "#%02x%02x%02x", class_rgb[c][0], class_rgb[c][1], class_rgb[c][2]);
                    CHECK(strcmp(r.anomalies[k].hex_color, hex) == 0, "%s colour %s", r.anomalies[k].name,
                          r.anomalies[k].hex_color);
                }
        int w = 0, h = 0, comp = 0;
        uint8_t *mk = lds_decode8(r.mask_png, r.mask_png_len, "mask", 3, &w, &h, &comp, &le);
        CHECK(mk && w == S && h == S, "mask %dx%d", w, h);
        for (int k = 0; mk && w == S && h == S && k < S * S; k++) {
            int pc = 0;
            for (int c = 1; c <= 2; c++)
                if (memcmp(mk + 3 * k, class_rgb[c], 3) == 0) pc = c;
            if (!truth[k] || !pc) continue;
            both++, right += pc == truth[k];
            per_class[truth[k]]++, right_class[truth[k]] += pc == truth[k];
        }
        free(mk);
        lo_detect_result_free(&r);
        free(buf);
    }
    free(px), free(truth);
    lo_model_free(m);
    double acc = both ? (double)right / (double)both : 0;
    fprintf(stderr, "held-out: %d/%d flagged; class right on %zu of %zu defect pixels (%.3f; scratch %.3f of %zu, "
                    "dent %.3f of %zu); Anomalies lists: scratch %d, dent %d\n", flagged, n_held, right, both, acc,
            per_class[1] ? (double)right_class[1] / (double)per_class[1] : 0, per_class[1],
            per_class[2] ? (double)right_class[2] / (double)per_class[2] : 0, per_class[2], seen[1], seen[2]);
    CHECK(flagged >= n_held * 3 / 4, "%d of %d held-out anomalies flagged", flagged, n_held);
    CHECK(both >= 200 && acc >= 0.8, "class accuracy %.3f on %zu pixels", acc, both);
    CHECK(seen[1] > 0 && seen[2] > 0, "both classes in the Anomalies lists (%d, %d)", seen[1], seen[2]);

    /* one defect class: the network keeps its two outputs */
    lo_train_request one = req;
    one.train_dir = ds1;
    one.model_dir = model1;
    one.max_steps = 10;
    rc = lo_train_run(&one, &res, &err);
    CHECK(rc == 0, "%s", err.message);
    if (rc == 0) {
        CHECK(model_outputs(model1, &ncls) == 2 && ncls == 2, "one defect class: map and score only");
        lo_train_result_free(&res);
    }

    /* only the second colour in the masks: its defects are painted in its colour, not the first's */
    char dsd[700], modeld[700], rootd[600];
    snprintf(rootd, sizeof rootd, "%s/dent-only", root);
    snprintf(dsd, sizeof dsd, "%s/ds", rootd);
    snprintf(modeld, sizeof modeld, "%s/model", rootd);
    CHECK(make_fixture(rootd, 30, 30, 23, 2) == 0, "fixture");
    snprintf(p, sizeof p, "%s/two.manifest", rootd);
    CHECK(lds_import_manifest(dsd, p, rootd, &warn, &le) == 0, "%s", le.message);
    lo_train_request dent = req;
    dent.train_dir = dsd;
    dent.model_dir = modeld;
    dent.max_steps = steps / 2;
    rc = lo_train_run(&dent, &res, &err);
    CHECK(rc == 0, "%s", err.message);
    if (rc == 0) {
        size_t dent_cells = 0, scratch_cells = 0;
        for (int64_t i = 0; i < res.n_test; i++)
            for (int k = 0; res.test[i].pred_mask && k < res.test[i].hm_w * res.test[i].hm_h; k++)
                dent_cells += res.test[i].pred_mask[k] == 2, scratch_cells += res.test[i].pred_mask[k] == 1;
        fprintf(stderr, "dent-only: evaluation masks paint %zu dent and %zu scratch cells\n", dent_cells,
                scratch_cells);
        CHECK(dent_cells > 0 && scratch_cells == 0, "dent-only painted as scratch");
        lo_train_result_free(&res);
    }

    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", root);
    return TTR_DONE();
}
