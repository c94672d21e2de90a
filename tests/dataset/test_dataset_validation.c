/* test_dataset_validation.c — a corpus of bad inputs made here, each of which must fail an import
 * and an update with its own clear message (naming the file/line/value) and change nothing: the
 * import leaves no directory behind, the update leaves the dataset byte-identical. Also: a UTF-8
 * BOM and CRLF line ends are accepted (editors on Windows write them), image folders with bad
 * content are refused the same way.
 * Usage: test_dataset_validation SHARED_DATA_DIR */
#include "tds_util.h"

#include <dirent.h>

static const char *g_data;
static char g_tmp[1024], g_root[1024], g_out[1024], g_base[1024];

#define GOOD_LINE(ref, cls)                                                                               \
    "{\"source-ref\":\"" ref "\",\"l\":1,\"l-metadata\":{\"class-name\":\"" cls "\",\"type\":"             \
    "\"groundtruth/image-classification\"}}"
#define SEG_LINE(ref, cls, mask, color)                                                                   \
    "{\"source-ref\":\"" ref "\",\"l-metadata\":{\"class-name\":\"" cls "\",\"type\":"                     \
    "\"groundtruth/image-classification\"},\"m-ref\":\"" mask "\",\"m-ref-metadata\":{\"internal-color-map\":" \
    "{\"0\":{\"class-name\":\"BACKGROUND\",\"hex-color\":\"#ffffff\"},\"1\":{\"class-name\":\"dent\","       \
    "\"hex-color\":\"" color "\"}}}}"

static void rootfile(const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s/b/%s", g_root, name);
}

static void make_fixtures(void)
{
    char p[2048], q[2048];
    snprintf(p, sizeof p, "%s/b/sub", g_root);
    tds_mkdirs(p);
    rootfile("good.png", p, sizeof p);
    tds_write_picture(p, 80, 64, 3, 1);
    rootfile("good2.png", p, sizeof p);
    tds_write_picture(p, 80, 64, 3, 2);
    rootfile("sub/good3.png", p, sizeof p);
    tds_write_picture(p, 80, 64, 1, 3);
    /* truncated JPEG: a real photo cut in half */
    snprintf(q, sizeof q, "%s/cookies/train/normal/normal-1.jpg", g_data);
    size_t len;
    lds_error e;
    uint8_t *jpg = lds_read_file(q, 1 << 24, &len, &e);
    if (!jpg) {
        fprintf(stderr, "%s\n", e.message);
        exit(2);
    }
    rootfile("trunc.jpg", p, sizeof p);
    lds_write_file(p, jpg, len / 2, &e);
    rootfile("photo.jpg", p, sizeof p);
    lds_write_file(p, jpg, len, &e);
    free(jpg);
    /* PNG whose IHDR claims 200x64 while the data holds 80x64 */
    rootfile("good.png", q, sizeof q);
    uint8_t *png = lds_read_file(q, 1 << 24, &len, &e);
    png[16 + 2] = 0;
    png[16 + 3] = 200;
    uint32_t crc = tds_crc(png + 12, 17, 0);
    tds_be32(png + 29, crc);
    rootfile("lying.png", p, sizeof p);
    lds_write_file(p, png, len, &e);
    /* 9 MB: a valid PNG padded past the limit */
    uint8_t *big = calloc(9u << 20, 1);
    memcpy(big, png, len);
    rootfile("big.png", p, sizeof p);
    lds_write_file(p, big, 9u << 20, &e);
    free(big);
    free(png);
    rootfile("wide.png", p, sizeof p);
    tds_write_picture(p, 5000, 10, 1, 4);
    rootfile("tiny.png", p, sizeof p);
    tds_write_picture(p, 30, 30, 3, 5);
    rootfile("text.png", p, sizeof p);
    tds_write_text(p, "this is not an image\n");
    /* masks: right, wrong size, unknown colour, JPEG, defect on a normal image */
    uint8_t *m = malloc(80 * 64 * 3);
    memset(m, 255, 80 * 64 * 3);
    rootfile("mask-empty.png", p, sizeof p);
    lds_write_png(p, m, 80, 64, 3, &e);
    for (int i = 0; i < 100; i++) m[3 * (20 * 80 + i % 40) + 1] = m[3 * (20 * 80 + i % 40) + 2] = 0;
    rootfile("mask-red.png", p, sizeof p);
    lds_write_png(p, m, 80, 64, 3, &e);
    m[3 * (40 * 80 + 7)] = 0x12;
    m[3 * (40 * 80 + 7) + 1] = 0x34;
    m[3 * (40 * 80 + 7) + 2] = 0x56;
    rootfile("mask-unknown.png", p, sizeof p);
    lds_write_png(p, m, 80, 64, 3, &e);
    rootfile("mask-small.png", p, sizeof p);
    lds_write_png(p, m, 64, 64, 3, &e);
    free(m);
    rootfile("mask.jpg", p, sizeof p);
    snprintf(q, sizeof q, "%s/b/photo.jpg", g_root);
    tds_place(q, p);
    /* a symlink inside the root pointing outside it */
    rootfile("escape.png", p, sizeof p);
    snprintf(q, sizeof q, "%s/aliens/normal/1.png", g_data);
    char *real = realpath(q, NULL);
    if (!real || symlink(real, p) != 0) {
        perror("symlink");
        exit(2);
    }
    free(real);
    /* a file outside the root reachable with .. */
    snprintf(p, sizeof p, "%s/outside.png", g_tmp);
    tds_write_picture(p, 80, 64, 3, 6);
}

typedef struct {
    const char *name;
    const char *text;   /* manifest / changes content */
    const char *expect; /* substring of the error */
} bad_case;

static char *snapshot_state(const char *dir)
{
    /* the three text files plus the file names under images/ and masks/ */
    size_t cap = 1 << 20, n = 0;
    char *s = malloc(cap);
    s[0] = 0;
    const char *files[3] = {"manifest.jsonl", "index.jsonl", "meta.json"};
    for (int i = 0; i < 3; i++) {
        char *p = tds_join(dir, files[i]);
        char *t = tds_read_text(p);
        n += (size_t)snprintf(s + n, cap - n, "== %s\n%s", files[i], t ? t : "(missing)");
        free(t);
        free(p);
    }
    const char *subs[2] = {"images", "masks"};
    for (int i = 0; i < 2; i++) {
        char *p = tds_join(dir, subs[i]);
        struct dirent **list;
        int k = scandir(p, &list, NULL, alphasort);
        for (int j = 0; j < k; j++) {
            n += (size_t)snprintf(s + n, cap - n, "%s/%s\n", subs[i], list[j]->d_name);
            free(list[j]);
        }
        if (k >= 0) free(list);
        free(p);
    }
    return s;
}

static int dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    if (d) closedir(d);
    return n;
}

static void run_bad(const bad_case *c)
{
    char man[2048], dest[2048];
    snprintf(man, sizeof man, "%s/%s.manifest", g_tmp, c->name);
    tds_write_text(man, c->text);
    snprintf(dest, sizeof dest, "%s/%s", g_out, c->name);
    lds_error warn = {{0}}, err = {{0}};
    int rc = lds_import_manifest(dest, man, g_root, &warn, &err);
    CHECK(rc != 0, "%s: import should fail", c->name);
    CHECK(strstr(err.message, c->expect) != NULL, "%s: import error '%s' should mention '%s'", c->name, err.message,
          c->expect);
    CHECK(!tds_exists(dest), "%s: failed import left %s", c->name, dest);
    printf("  %-22s import: %s\n", c->name, err.message);

    char *before = snapshot_state(g_base);
    err.message[0] = 0;
    rc = lds_update(g_base, c->text, strlen(c->text), g_root, &err);
    CHECK(rc != 0, "%s: update should fail", c->name);
    CHECK(strstr(err.message, c->expect) != NULL, "%s: update error '%s' should mention '%s'", c->name, err.message,
          c->expect);
    char *after = snapshot_state(g_base);
    CHECK(!strcmp(before, after), "%s: failed update changed the dataset", c->name);
    free(before);
    free(after);
}

static void folder_bad(const char *name, void (*setup)(const char *dir), const char *expect)
{
    char src[2048], dest[2048];
    snprintf(src, sizeof src, "%s/folder-%s", g_tmp, name);
    char p[4096];
    snprintf(p, sizeof p, "%s/normal", src);
    tds_mkdirs(p);
    snprintf(p, sizeof p, "%s/anomaly", src);
    tds_mkdirs(p);
    snprintf(p, sizeof p, "%s/mask", src);
    tds_mkdirs(p);
    snprintf(p, sizeof p, "%s/normal/ok.png", src);
    tds_write_picture(p, 80, 64, 3, 1);
    setup(src);
    snprintf(dest, sizeof dest, "%s/folder-%s", g_out, name);
    lds_error warn = {{0}}, err = {{0}};
    CHECK(lds_import_folder(dest, src, &warn, &err) != 0, "folder %s: import should fail", name);
    CHECK(strstr(err.message, expect) != NULL, "folder %s: error '%s' should mention '%s'", name, err.message, expect);
    CHECK(!tds_exists(dest), "folder %s: failed import left %s", name, dest);
    printf("  folder %-15s import: %s\n", name, err.message);
}

static void f_text(const char *d)
{
    char p[2048];
    snprintf(p, sizeof p, "%s/anomaly/notes.png", d);
    tds_write_text(p, "hello");
}
static void f_symlink(const char *d)
{
    char p[2048], q[2048];
    snprintf(p, sizeof p, "%s/anomaly/a.png", d);
    snprintf(q, sizeof q, "%s/outside.png", g_tmp);
    if (symlink(q, p) != 0) perror("symlink");
}
static void f_mask_size(const char *d)
{
    char p[2048];
    snprintf(p, sizeof p, "%s/anomaly/a.png", d);
    tds_write_picture(p, 80, 64, 3, 2);
    snprintf(p, sizeof p, "%s/mask/a.png", d);
    tds_write_picture(p, 40, 64, 1, 2);
}
static void f_empty(const char *d)
{
    char p[2048];
    snprintf(p, sizeof p, "%s/normal/ok.png", d);
    unlink(p);
}
static void f_subdir(const char *d)
{
    char p[2048];
    snprintf(p, sizeof p, "%s/normal/more", d);
    tds_mkdirs(p);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s SHARED_DATA_DIR\n", argv[0]);
        return 2;
    }
    g_data = argv[1];
    char *tmp = tds_tmpdir("validation");
    snprintf(g_tmp, sizeof g_tmp, "%s", tmp);
    snprintf(g_root, sizeof g_root, "%s/s3", tmp);
    snprintf(g_out, sizeof g_out, "%s/out", tmp);
    snprintf(g_base, sizeof g_base, "%s/out/base", tmp);
    make_fixtures();
    tds_mkdirs(g_out);

    /* the dataset every failed update must leave alone */
    const char *good = GOOD_LINE("s3://b/good.png", "normal") "\n" SEG_LINE("s3://b/good2.png", "anomaly",
                                                                              "s3://b/mask-red.png", "#ff0000") "\n";
    char man[2048];
    snprintf(man, sizeof man, "%s/good.manifest", tmp);
    tds_write_text(man, good);
    lds_error warn = {{0}}, err = {{0}};
    CHECK(lds_import_manifest(g_base, man, g_root, &warn, &err) == 0, "base import: %s", err.message);

    static const bad_case cases[] = {
        {"truncated-jpeg", GOOD_LINE("s3://b/trunc.jpg", "normal") "\n", "corrupt or truncated"},
        {"lying-png-header", GOOD_LINE("s3://b/lying.png", "normal") "\n", "lying.png"},
        {"5000x10", GOOD_LINE("s3://b/wide.png", "normal") "\n", "5000x10 pixels"},
        {"30x30", GOOD_LINE("s3://b/tiny.png", "normal") "\n", "30x30 pixels"},
        {"9MB", GOOD_LINE("s3://b/big.png", "normal") "\n", "over the limit"},
        {"text-named-png", GOOD_LINE("s3://b/text.png", "normal") "\n", "not a PNG or JPEG"},
        {"mask-wrong-size", SEG_LINE("s3://b/good.png", "anomaly", "s3://b/mask-small.png", "#ff0000") "\n",
         "mask is 64x64 but its image is 80x64"},
        {"mask-unknown-colour", SEG_LINE("s3://b/good.png", "anomaly", "s3://b/mask-unknown.png", "#ff0000") "\n",
         "#123456, which is not in the colour map"},
        {"mask-jpeg", SEG_LINE("s3://b/photo.jpg", "anomaly", "s3://b/mask.jpg", "#ff0000") "\n", "must be a PNG"},
        {"mask-on-normal", SEG_LINE("s3://b/good.png", "normal", "s3://b/mask-red.png", "#ff0000") "\n",
         "labelled normal"},
        {"bad-hex-colour", SEG_LINE("s3://b/good.png", "anomaly", "s3://b/mask-red.png", "red") "\n", "hex-color"},
        {"dotdot", GOOD_LINE("s3://b/../../outside.png", "normal") "\n", "contains '..'"},
        {"dotdot-mask", SEG_LINE("s3://b/good.png", "anomaly", "s3://b/sub/../../../outside.png", "#ff0000") "\n",
         "contains '..'"},
        {"symlink-escape", GOOD_LINE("s3://b/escape.png", "normal") "\n", "outside"},
        {"absolute-path", GOOD_LINE("/etc/hostname", "normal") "\n", "not an s3://BUCKET/KEY URI"},
        {"empty-key", GOOD_LINE("s3://b//good.png", "normal") "\n", "empty path component"},
        {"no-key", GOOD_LINE("s3://b", "normal") "\n", "needs both a bucket and a key"},
        {"missing-object", GOOD_LINE("s3://b/nope.png", "normal") "\n", "does not exist"},
        {"malformed-json", GOOD_LINE("s3://b/good2.png", "normal") "\n{\"source-ref\": \"s3://b/good.png\",\n",
         "line 2: malformed JSON"},
        {"not-an-object", "[1, 2, 3]\n", "line 1: a manifest line must be a JSON object"},
        {"no-source-ref", "{\"l-metadata\":{\"class-name\":\"normal\"}}\n", "\"source-ref\""},
        {"trailing-garbage", GOOD_LINE("s3://b/good.png", "normal") " x\n", "unexpected text after"},
        {"duplicate", GOOD_LINE("s3://b/sub/good3.png", "normal") "\n" GOOD_LINE("s3://b/sub/good3.png", "anomaly") "\n",
         "appears twice"},
        {"empty", "", "no entries"},
        {"blank-lines", "\n  \n\r\n", "no entries"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_bad(&cases[i]);
    /* nothing but the base dataset may remain in out/: no staging directories */
    CHECK(dir_entries(g_out) == 1, "out/ has %d entries; failed imports left staging behind", dir_entries(g_out));

    /* BOM and CRLF: accepted, same result as the plain file */
    const char *bom_crlf = "\xEF\xBB\xBF" GOOD_LINE("s3://b/good.png", "normal") "\r\n" GOOD_LINE(
        "s3://b/sub/good3.png", "anomaly") "\r\n";
    snprintf(man, sizeof man, "%s/bom.manifest", tmp);
    tds_write_text(man, bom_crlf);
    char dest[2048];
    snprintf(dest, sizeof dest, "%s/bom", g_out);
    CHECK(lds_import_manifest(dest, man, g_root, &warn, &err) == 0, "BOM+CRLF manifest: %s", err.message);
    lds_stats st;
    CHECK(lds_stats_get(dest, &st, &err) == 0 && st.total == 2 && st.anomaly == 1, "BOM+CRLF stats");
    char *p = tds_join(dest, "manifest.jsonl");
    char *t = tds_read_text(p);
    CHECK(t && t[0] == '{' && !strchr(t, '\r'), "stored lines keep neither BOM nor CR");
    free(t);
    free(p);
    /* importing onto an existing dataset is refused */
    CHECK(lds_import_manifest(dest, man, g_root, &warn, &err) != 0 && strstr(err.message, "already exists"),
          "import onto an existing directory: %s", err.message);
    /* 16-bit and gray PNGs, JPEG: all accepted */
    uint16_t s16[80 * 64];
    for (int i = 0; i < 80 * 64; i++) s16[i] = (uint16_t)(i * 13);
    char q[2048];
    rootfile("deep.png", q, sizeof q);
    tds_write_png16(q, s16, 80, 64, 1);
    const char *mixed = GOOD_LINE("s3://b/deep.png", "normal") "\n" GOOD_LINE("s3://b/photo.jpg", "anomaly") "\n";
    CHECK(lds_update(g_base, mixed, strlen(mixed), g_root, &err) == 0, "update with 16-bit PNG and JPEG: %s",
          err.message);
    CHECK(lds_stats_get(g_base, &st, &err) == 0 && st.total == 4, "after good update: %lld", (long long)st.total);

    /* an empty dataset (CreateDataset without a source) grows through updates */
    char empty[2048];
    snprintf(empty, sizeof empty, "%s/empty", g_out);
    CHECK(lds_create_empty(empty, &err) == 0, "create empty: %s", err.message);
    CHECK(lds_stats_get(empty, &st, &err) == 0 && st.total == 0, "empty dataset stats");
    lds_set *set;
    CHECK(lds_open(empty, &set, &err) == 0 && set->n == 0, "open empty: %s", err.message);
    lds_free(set);
    CHECK(lds_update(empty, mixed, strlen(mixed), g_root, &err) == 0, "update empty: %s", err.message);
    CHECK(lds_stats_get(empty, &st, &err) == 0 && st.total == 2 && st.normal == 1, "empty + update stats");
    /* staging left by a dead process (kill -9 mid-import) is cleaned up by the next import */
    char stale[2100];
    snprintf(stale, sizeof stale, "%s/empty2.staging-999999-0/images", g_out);
    tds_mkdirs(stale);
    snprintf(empty, sizeof empty, "%s/empty2", g_out);
    CHECK(lds_create_empty(empty, &err) == 0, "create empty2: %s", err.message);
    snprintf(stale, sizeof stale, "%s/empty2.staging-999999-0", g_out);
    CHECK(!tds_exists(stale), "stale staging of a dead process should be removed");

    folder_bad("text", f_text, "not a PNG or JPEG");
    folder_bad("symlink", f_symlink, "symlink escape refused");
    folder_bad("mask-size", f_mask_size, "mask is 40x64 but its image is 80x64");
    folder_bad("empty", f_empty, "no images");
    folder_bad("subdir", f_subdir, "not a regular file");
    CHECK(lds_import_folder(dest, "/nonexistent/folder", &warn, &err) != 0 && strstr(err.message, "/nonexistent/folder"),
          "missing folder: %s", err.message);

    if (!tds_failures) lds_rm_rf(tmp);
    else fprintf(stderr, "left %s\n", tmp);
    free(tmp);
    return tds_done("test_dataset_validation");
}
