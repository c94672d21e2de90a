/* test_dataset_import.c — imports every dataset of ../shared/data through both sources (image
 * folder, and a Ground Truth manifest generated here with s3:// refs), checks the counts against
 * its manifest.csv, imports the cookies manifest as AWS shipped it, and exercises stats, list
 * filters and pagination, update, snapshot and reading back pixels and masks.
 * Usage: test_dataset_import SHARED_DATA_DIR [small|large|all] */
#include "tds_util.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>

static const char *g_data;

typedef struct {
    int n;
    char first[4096];
} collect;

static void collect_line(const char *line, void *ctx)
{
    collect *c = ctx;
    if (c->n++ == 0) snprintf(c->first, sizeof c->first, "%s", line);
}

static int64_t count_list(const char *dir, const lds_filter *f)
{
    collect c = {0};
    int64_t next;
    lds_error e;
    if (lds_list(dir, f, 0, 0, collect_line, &c, &next, &e) != 0) {
        fprintf(stderr, "lds_list: %s\n", e.message);
        return -1;
    }
    return c.n;
}

static void check_stats(const char *dir, const char *what, int64_t normal, int64_t anomaly)
{
    lds_stats st;
    lds_error e;
    CHECK(lds_stats_get(dir, &st, &e) == 0, "%s: %s", what, e.message);
    CHECK(st.total == normal + anomaly && st.normal == normal && st.anomaly == anomaly &&
              st.labeled == normal + anomaly,
          "%s: stats total %lld normal %lld anomaly %lld, want %lld/%lld", what, (long long)st.total,
          (long long)st.normal, (long long)st.anomaly, (long long)normal, (long long)anomaly);
}

/* Import a shared dataset as an image folder; split "" means DIR itself, else DIR/split. */
static void folder_case(const char *tmp, const char *name, const char *split, int want_channels)
{
    char src[1024], dst[1024], what[256];
    snprintf(src, sizeof src, "%s/%s%s%s", g_data, name, *split ? "/" : "", split);
    snprintf(dst, sizeof dst, "%s/folder-%s-%s", tmp, name, *split ? split : "all");
    snprintf(what, sizeof what, "folder %s %s", name, split);
    lds_error warn = {{0}}, err = {{0}};
    int rc = lds_import_folder(dst, src, &warn, &err);
    CHECK(rc == 0, "%s: %s", what, err.message);
    if (rc) return;
    int n_norm = tds_csv_count(g_data, name, split, "normal"), n_anom = tds_csv_count(g_data, name, split, "anomaly");
    check_stats(dst, what, n_norm, n_anom);
    lds_set *set;
    CHECK(lds_open(dst, &set, &err) == 0, "%s: open: %s", what, err.message);
    CHECK(set->channels == want_channels, "%s: channels %d want %d", what, set->channels, want_channels);
    int masks = 0, known = 0, abs_refs = 1;
    for (size_t i = 0; i < set->n; i++) {
        masks += set->entries[i].mask_path != NULL;
        known += set->entries[i].mask_known;
        abs_refs &= set->entries[i].source_ref[0] == '/';
    }
    CHECK(abs_refs, "%s: image-folder source-refs must be absolute paths", what);
    if (!strcmp(name, "magnetic_tile")) {
        CHECK(masks == 392 && known == 388, "%s: %d masks, %d known (want 392, 388)", what, masks, known);
        CHECK(strstr(warn.message, "exp3_num_45042") && strstr(warn.message, "exp4_num_45057"),
              "%s: warnings should name the empty masks: %s", what, warn.message);
        CHECK(set->n_classes == 2 && !strcmp(set->classes[1].name, "anomaly"), "%s: classes", what);
    }
    if (!strcmp(name, "cookies") && !strcmp(split, "train"))
        CHECK(masks == 32 && known == 32, "%s: %d masks %d known", what, masks, known);
    lds_free(set);
}

/* manifest.csv -> Ground Truth manifest with s3://data/<name>/... refs. */
static char *manifest_from_csv(const char *name, const char *split, int *n_lines)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/manifest.csv", g_data, name);
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    size_t cap = 1 << 20, len = 0;
    char *out = malloc(cap);
    out[0] = 0;
    char line[4096];
    fgets(line, sizeof line, f);
    *n_lines = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        char *fld[8] = {0};
        int k = 0;
        for (char *p = line; k < 8; k++) {
            fld[k] = p;
            char *c = strchr(p, ',');
            if (!c) {
                k++;
                break;
            }
            *c = 0;
            p = c + 1;
        }
        if (k < 4 || strcmp(fld[0], split)) continue;
        int anomaly = !strcmp(fld[1], "anomaly");
        char cls[64] = "defect";
        if (fld[7] && strstr(fld[7], "class=MT_")) sscanf(strstr(fld[7], "class=") + 6, "%63[^;]", cls);
        char buf[4096];
        int n = snprintf(buf, sizeof buf,
                         "{\"source-ref\": \"s3://data/%s/%s\", \"anomaly-label\": %d, \"anomaly-label-metadata\": "
                         "{\"class-name\": \"%s\", \"type\": \"groundtruth/image-classification\", "
                         "\"human-annotated\": \"yes\", \"job-name\": \"test\"}",
                         name, fld[2], anomaly, anomaly ? "anomaly" : "normal");
        if (*fld[3])
            n += snprintf(buf + n, sizeof buf - (size_t)n,
                          ", \"anomaly-mask-ref\": \"s3://data/%s/%s\", \"anomaly-mask-ref-metadata\": "
                          "{\"internal-color-map\": {\"0\": {\"class-name\": \"%s\", \"hex-color\": \"#ffffff\"}}, "
                          "\"type\": \"groundtruth/semantic-segmentation\"}",
                          name, fld[3], cls);
        snprintf(buf + n, sizeof buf - (size_t)n, "}\n");
        size_t bl = strlen(buf);
        if (len + bl + 1 > cap) out = realloc(out, cap *= 2);
        memcpy(out + len, buf, bl + 1);
        len += bl;
        (*n_lines)++;
    }
    fclose(f);
    return out;
}

/* Mirrors a shared dataset into the temporary S3 root with hard links (copies across devices):
 * the manifests then point at s3://data/<name>/... inside a root the test owns. */
static void mirror_tree(const char *src, const char *dst)
{
    tds_mkdirs(dst);
    DIR *d = opendir(src);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char *s = tds_join(src, e->d_name), *t = tds_join(dst, e->d_name);
        struct stat st;
        if (stat(s, &st) == 0 && S_ISDIR(st.st_mode)) mirror_tree(s, t);
        else if (S_ISREG(st.st_mode) && !tds_exists(t)) tds_place(s, t);
        free(s);
        free(t);
    }
    if (d) closedir(d);
}

static void manifest_case(const char *tmp, const char *name, const char *split)
{
    char what[256], man[1024], dst[1024];
    snprintf(what, sizeof what, "manifest %s %s", name, split);
    int n_lines;
    char *text = manifest_from_csv(name, split, &n_lines);
    CHECK(text && n_lines > 0, "%s: no manifest generated", what);
    if (!text) return;
    snprintf(man, sizeof man, "%s/%s-%s.manifest", tmp, name, split);
    snprintf(dst, sizeof dst, "%s/manifest-%s-%s", tmp, name, *split ? split : "all");
    tds_write_text(man, text);
    free(text);
    char s3_root[1024], src[1024], mirror[2200];
    snprintf(s3_root, sizeof s3_root, "%s/s3", tmp);
    snprintf(src, sizeof src, "%s/%s", g_data, name);
    snprintf(mirror, sizeof mirror, "%s/data/%s", s3_root, name);
    mirror_tree(src, mirror);
    lds_error warn = {{0}}, err = {{0}};
    int rc = lds_import_manifest(dst, man, s3_root, &warn, &err);
    CHECK(rc == 0, "%s: %s", what, err.message);
    if (rc) return;
    check_stats(dst, what, tds_csv_count(g_data, name, split, "normal"), tds_csv_count(g_data, name, split, "anomaly"));
    if (!strcmp(name, "magnetic_tile")) {
        lds_set *set;
        CHECK(lds_open(dst, &set, &err) == 0, "%s", err.message);
        /* five defect classes, each its own class index; split stratifies by them */
        CHECK(set->n_classes == 6, "%s: %d classes, want background + 5", what, set->n_classes);
        int per_class[LDS_MAX_CLASSES] = {0};
        for (size_t i = 0; i < set->n; i++) per_class[set->entries[i].defect_class]++;
        int blowhole = -1;
        for (int k = 1; k < set->n_classes; k++)
            if (!strcmp(set->classes[k].name, "MT_Blowhole")) blowhole = k;
        CHECK(blowhole > 0 && per_class[blowhole] == 115, "%s: MT_Blowhole has %d entries, want 115", what,
              blowhole > 0 ? per_class[blowhole] : -1);
        lds_free(set);
        CHECK(strstr(warn.message, "exp4_num_124690") != NULL, "%s: warning for the empty mask: %s", what,
              warn.message);
    }
}

/* The cookies manifest exactly as AWS shipped it (relative refs made s3:// under a temp root with
 * masks recoloured to the shipped #23A436 on black). */
static void cookies_as_shipped(const char *tmp)
{
    char root[1024], p[2048], q[2048];
    snprintf(root, sizeof root, "%s/s3root", tmp);
    snprintf(p, sizeof p, "%s/bucket/training-images", root);
    tds_mkdirs(p);
    snprintf(p, sizeof p, "%s/bucket/mask-images", root);
    tds_mkdirs(p);
    for (int i = 1; i <= 32; i++) {
        for (int a = 0; a < 2; a++) {
            if (!a && i > 31) continue;
            snprintf(p, sizeof p, "%s/cookies/train/%s/%s-%d.jpg", g_data, a ? "anomaly" : "normal",
                     a ? "anomaly" : "normal", i);
            snprintf(q, sizeof q, "%s/bucket/training-images/%s-%d.jpg", root, a ? "anomaly" : "normal", i);
            tds_place(p, q);
        }
        snprintf(p, sizeof p, "%s/cookies/train/mask/anomaly-%d.png", g_data, i);
        size_t len;
        lds_error e;
        uint8_t *png = lds_read_file(p, 1 << 24, &len, &e);
        int w, h;
        uint8_t *g = png ? lds_decode8(png, len, p, 1, &w, &h, NULL, &e) : NULL;
        CHECK(g != NULL, "%s", e.message);
        if (!g) return;
        uint8_t *rgb = malloc((size_t)w * (size_t)h * 3);
        for (size_t k = 0; k < (size_t)w * (size_t)h; k++) {
            rgb[3 * k] = g[k] ? 0x23 : 0;
            rgb[3 * k + 1] = g[k] ? 0xA4 : 0;
            rgb[3 * k + 2] = g[k] ? 0x36 : 0;
        }
        snprintf(q, sizeof q, "%s/bucket/mask-images/anomaly-%d.png", root, i);
        CHECK(lds_write_png(q, rgb, w, h, 3, &e) == 0, "%s", e.message);
        free(rgb);
        free(g);
        free(png);
    }
    snprintf(p, sizeof p, "%s/cookies/source_template.manifest", g_data);
    char *text = tds_read_text(p);
    CHECK(text != NULL, "cannot read %s", p);
    if (!text) return;
    /* only the bucket is added to the refs; every other byte is as shipped */
    size_t cap = strlen(text) * 2 + 1;
    char *out = malloc(cap), *o = out;
    for (const char *s = text; *s;) {
        if (!strncmp(s, "\"training-images/", 17) || !strncmp(s, "\"mask-images/", 13)) {
            o += sprintf(o, "\"s3://bucket/");
            s += 1;
        } else {
            *o++ = *s++;
        }
    }
    *o = 0;
    snprintf(q, sizeof q, "%s/shipped.manifest", tmp);
    tds_write_text(q, out);
    free(text);
    free(out);
    snprintf(p, sizeof p, "%s/cookies-shipped", tmp);
    lds_error warn = {{0}}, err = {{0}};
    int rc = lds_import_manifest(p, q, root, &warn, &err);
    CHECK(rc == 0, "cookies as shipped: %s", err.message);
    if (rc) return;
    check_stats(p, "cookies as shipped", 31, 32);
    lds_set *set;
    CHECK(lds_open(p, &set, &err) == 0, "%s", err.message);
    CHECK(set->n_classes == 2 && !strcmp(set->classes[1].name, "cracked") && set->classes[1].rgb[0] == 0x23,
          "cookies as shipped: class 1 should be 'cracked' #23a436");
    /* the mask reads back as class indices, aligned with the shipped mask */
    int known = 0;
    for (size_t i = 0; i < set->n; i++) known += set->entries[i].mask_known;
    CHECK(known == 32, "cookies as shipped: %d known masks", known);
    size_t ai = 0;
    while (ai < set->n && !set->entries[ai].mask_path) ai++;
    if (ai < set->n) {
        uint8_t *m = malloc(576 * 768);
        CHECK(lds_load_mask(set, set->entries[ai].mask_path, 576, 768, m, &err) == 0, "%s", err.message);
        size_t ones = 0;
        for (size_t k = 0; k < 576 * 768; k++) ones += m[k] == 1;
        CHECK(ones > 100, "cookies mask has %zu defect pixels", ones);
        free(m);
        /* first line returned as stored: byte-identical to the shipped text */
        CHECK(strstr(set->entries[0].json_line, "\"creation-date\": \"2022-08-22T20:52:51.851Z\"") != NULL,
              "json_line not as given: %s", set->entries[0].json_line);
    }
    lds_free(set);
}

/* Small multi-class segmentation set in the documented colour-map form, then list/update/snapshot. */
static void documented_form_and_service_ops(const char *tmp)
{
    char root[1024], p[2048];
    snprintf(root, sizeof root, "%s/s3doc", tmp);
    snprintf(p, sizeof p, "%s/b/img", root);
    tds_mkdirs(p);
    const int W = 80, H = 64;
    size_t cap = 1 << 16, len = 0;
    char *man = malloc(cap);
    man[0] = 0;
    lds_error e;
    for (int i = 0; i < 6; i++) {
        snprintf(p, sizeof p, "%s/b/img/%d.png", root, i);
        tds_write_picture(p, W, H, 3, (unsigned)i);
        int anomaly = i >= 3;
        /* documented form: white background, defects from "1" */
        uint8_t *m = malloc((size_t)W * H * 3);
        memset(m, 255, (size_t)W * H * 3);
        if (anomaly)
            for (int y = 10; y < 20; y++)
                for (int x = 10; x < 30; x++) {
                    uint8_t *px = m + 3 * ((size_t)y * W + (size_t)x);
                    int cls2 = i == 5 && x >= 20;
                    px[0] = cls2 ? 0x00 : 0xff;
                    px[1] = cls2 ? 0x00 : 0x00;
                    px[2] = cls2 ? 0xff : 0x00;
                }
        snprintf(p, sizeof p, "%s/b/img/%d-mask.png", root, i);
        CHECK(lds_write_png(p, m, W, H, 3, &e) == 0, "%s", e.message);
        free(m);
        len += (size_t)snprintf(man + len, cap - len,
                                "{\"source-ref\":\"s3://b/img/%d.png\",\"lbl\":%d,\"lbl-metadata\":{\"class-name\":\"%s\","
                                "\"type\":\"groundtruth/image-classification\"},\"seg-ref\":\"s3://b/img/%d-mask.png\","
                                "\"seg-ref-metadata\":{\"internal-color-map\":{\"0\":{\"class-name\":\"BACKGROUND\","
                                "\"hex-color\":\"#ffffff\"},\"1\":{\"class-name\":\"scratch\",\"hex-color\":\"#ff0000\"},"
                                "\"2\":{\"class-name\":\"dent\",\"hex-color\":\"#0000ff\"}},\"type\":"
                                "\"groundtruth/semantic-segmentation\"}}\n",
                                i, anomaly, anomaly ? "anomaly" : "normal", i);
    }
    /* one unlabeled line (other class-name) */
    snprintf(p, sizeof p, "%s/b/img/u.png", root);
    tds_write_picture(p, W, H, 1, 9);
    len += (size_t)snprintf(man + len, cap - len,
                            "{\"source-ref\":\"s3://b/img/u.png\",\"x-metadata\":{\"class-name\":\"maybe\","
                            "\"type\":\"groundtruth/image-classification\"}}\n");
    char mp[1024], dir[1024];
    snprintf(mp, sizeof mp, "%s/doc.manifest", tmp);
    tds_write_text(mp, man);
    snprintf(dir, sizeof dir, "%s/doc", tmp);
    lds_error warn = {{0}};
    int rc = lds_import_manifest(dir, mp, root, &warn, &e);
    CHECK(rc == 0, "documented form: %s", e.message);
    if (rc) {
        free(man);
        return;
    }
    lds_stats st;
    CHECK(lds_stats_get(dir, &st, &e) == 0 && st.total == 7 && st.labeled == 6 && st.normal == 3 && st.anomaly == 3,
          "documented form stats %lld %lld %lld %lld", (long long)st.total, (long long)st.labeled,
          (long long)st.normal, (long long)st.anomaly);
    lds_set *set;
    CHECK(lds_open(dir, &set, &e) == 0, "%s", e.message);
    CHECK(set->n_classes == 3 && !strcmp(set->classes[1].name, "scratch") && !strcmp(set->classes[2].name, "dent"),
          "documented form classes");
    uint8_t m[40 * 32];
    CHECK(lds_load_mask(set, set->entries[5].mask_path, 40, 32, m, &e) == 0, "%s", e.message);
    CHECK(m[0] == 0 && m[7 * 40 + 6] == 1 && m[7 * 40 + 12] == 2, "mask classes after halving: %d %d %d", m[0],
          m[7 * 40 + 6], m[7 * 40 + 12]);
    CHECK(set->entries[0].mask_known == 0 && set->entries[3].mask_known == 1, "mask_known");
    CHECK(set->entries[6].label == -1, "other class-name must be unlabeled");
    /* the image reads back at its own size exactly (area/bilinear at 1:1 is the identity) */
    float *img = malloc(sizeof(float) * 3 * W * H);
    CHECK(lds_load_image(set->entries[1].image_path, 3, W, H, img, &e) == 0, "%s", e.message);
    CHECK(fabsf(img[0] - (float)((1 * 17) & 255) / 255.f) < 1e-6f, "pixel (0,0) = %f", img[0]);
    free(img);
    lds_free(set);

    /* list: filters and pagination */
    lds_filter f = {.labeled = -1};
    CHECK(count_list(dir, &f) == 7, "list all");
    f.labeled = 0;
    CHECK(count_list(dir, &f) == 1, "list unlabeled");
    f.labeled = 1;
    f.anomaly_class = "anomaly";
    CHECK(count_list(dir, &f) == 3, "list anomaly");
    f = (lds_filter){.labeled = -1, .source_ref_contains = "img/4"};
    CHECK(count_list(dir, &f) == 1, "list source-ref-contains");
    f = (lds_filter){.labeled = -1};
    collect c = {0};
    int64_t next = 0, total = 0, idx = 0;
    do {
        c.n = 0;
        CHECK(lds_list(dir, &f, idx, 3, collect_line, &c, &next, &e) == 0, "%s", e.message);
        total += c.n;
        CHECK(c.n <= 3, "page too long");
        idx = next;
    } while (next >= 0 && total < 100);
    CHECK(total == 7, "pagination returned %lld", (long long)total);
    int64_t t_import = (int64_t)lds_now();
    f.after = t_import + 1;
    CHECK(count_list(dir, &f) == 0, "after filter");
    f.after = 0;
    f.before = t_import + 2;
    CHECK(count_list(dir, &f) == 7, "before filter");

    /* snapshot: identical content, independent directory */
    char snap[1024];
    snprintf(snap, sizeof snap, "%s/snap", tmp);
    CHECK(lds_snapshot(dir, snap, &e) == 0, "snapshot: %s", e.message);
    CHECK(lds_stats_get(snap, &st, &e) == 0 && st.total == 7, "snapshot stats");

    /* update: replace entry 0 (normal -> anomaly with a mask), add a new one */
    sleep(1);
    double t_before_update = lds_now();
    snprintf(p, sizeof p, "%s/b/img/new.png", root);
    tds_write_picture(p, W, H, 3, 42);
    char changes[4096];
    snprintf(changes, sizeof changes,
             "{\"source-ref\":\"s3://b/img/0.png\",\"l-metadata\":{\"class-name\":\"anomaly\",\"type\":"
             "\"groundtruth/image-classification\"}}\n"
             "{\"source-ref\":\"s3://b/img/new.png\",\"l-metadata\":{\"class-name\":\"normal\",\"type\":"
             "\"groundtruth/image-classification\"}}\n");
    CHECK(lds_update(dir, changes, strlen(changes), root, &e) == 0, "update: %s", e.message);
    CHECK(lds_stats_get(dir, &st, &e) == 0 && st.total == 8 && st.normal == 3 && st.anomaly == 4,
          "after update: %lld %lld %lld", (long long)st.total, (long long)st.normal, (long long)st.anomaly);
    f = (lds_filter){.labeled = -1, .after = (int64_t)t_before_update};
    CHECK(count_list(dir, &f) == 2, "after-update filter gives %lld", (long long)count_list(dir, &f));
    CHECK(lds_stats_get(snap, &st, &e) == 0 && st.total == 7, "snapshot must not change with the dataset");
    c.n = 0;
    f = (lds_filter){.labeled = -1};
    lds_list(dir, &f, 0, 1, collect_line, &c, &next, &e);
    CHECK(strstr(c.first, "\"l-metadata\"") != NULL, "replaced entry keeps its position: %s", c.first);
    free(man);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s SHARED_DATA_DIR\n", argv[0]);
        return 2;
    }
    g_data = argv[1];
    /* "large" = magnetic_tile (1344 images) through both sources; "small" = everything else */
    const char *part = argc > 2 ? argv[2] : "all";
    int large = strcmp(part, "small") != 0, small = strcmp(part, "large") != 0;
    char *tmp = tds_tmpdir("import");
    if (small) {
        folder_case(tmp, "cookies", "train", 3);
        folder_case(tmp, "cookies", "test", 3);
        folder_case(tmp, "aliens", "", 3);
        folder_case(tmp, "elpv_mono", "", 1);
        manifest_case(tmp, "cookies", "train");
        manifest_case(tmp, "cookies", "test");
        manifest_case(tmp, "aliens", "");
        manifest_case(tmp, "elpv_mono", "");
        cookies_as_shipped(tmp);
        documented_form_and_service_ops(tmp);
    }
    if (large) {
        folder_case(tmp, "magnetic_tile", "", 1);
        manifest_case(tmp, "magnetic_tile", "");
    }
    if (!tds_failures && !getenv("LDS_KEEP")) lds_rm_rf(tmp);
    else fprintf(stderr, "left %s\n", tmp);
    free(tmp);
    return tds_done("test_dataset_import");
}
