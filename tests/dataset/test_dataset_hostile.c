/* test_dataset_hostile.c — hostile input through dataset/ (issue 8 §6): decompression bombs,
 * oversized manifests, deep JSON, non-UTF-8 names, shell metacharacters, and refs trying to
 * leave the S3 mirror. Each case runs in a forked child so its wall time and peak RSS are its
 * own; each must be refused (or, for shell metacharacters, work) with a message naming the
 * file/line/value, within TIME_LIMIT seconds and MEM_LIMIT_MB of peak memory. Prints a table. */
#include "tds_util.h"

#include <errno.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

#define TIME_LIMIT 5.0
#define MEM_LIMIT_MB 256.0

static const char *g_data;
static char *g_tmp, *g_root; /* g_root: the S3 mirror; bucket "b" inside */
static int g_case;

static char *rootfile(const char *rel)
{
    char *p = tds_join(g_root, rel);
    return p;
}

static void write_bytes(const char *path, const void *d, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(d, 1, n, f) != n) {
        perror(path);
        exit(2);
    }
    fclose(f);
}

/* A one-line manifest pointing at s3://b/<key> labelled normal. */
static char *manifest_for(const char *name, const char *ref_json)
{
    char *p = tds_join(g_tmp, name);
    FILE *f = fopen(p, "wb");
    fprintf(f,
            "{\"source-ref\":\"%s\",\"l\":0,\"l-metadata\":{\"class-name\":\"normal\","
            "\"type\":\"groundtruth/image-classification\"}}\n",
            ref_json);
    fclose(f);
    return p;
}

/* ---- fixtures: bombs ---------------------------------------------------------------------- */

/* 4096x4096 RGBA 16-bit declared in IHDR, followed by a 64-byte stored zlib block: 128 MiB of
 * pixels claimed by a file of about 120 bytes. */
static void make_png16_tiny(const char *path)
{
    FILE *f = fopen(path, "wb");
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
    fwrite(sig, 1, 8, f);
    uint8_t ihdr[13] = {0};
    tds_be32(ihdr, 4096);
    tds_be32(ihdr + 4, 4096);
    ihdr[8] = 16;
    ihdr[9] = 6;
    tds_chunk(f, "IHDR", ihdr, 13);
    uint8_t z[2 + 5 + 64 + 4] = {0x78, 0x01, 1, 64, 0, (uint8_t)~64, 0xff};
    tds_chunk(f, "IDAT", z, sizeof z);
    tds_chunk(f, "IEND", NULL, 0);
    fclose(f);
}

/* LSB-first bit writer for a deflate stream. */
typedef struct {
    uint8_t *d;
    size_t n;
    uint32_t acc;
    int bits;
} bitw;

static void put_bits(bitw *w, uint32_t v, int n)
{
    w->acc |= v << w->bits;
    w->bits += n;
    while (w->bits >= 8) {
        w->d[w->n++] = (uint8_t)w->acc;
        w->acc >>= 8;
        w->bits -= 8;
    }
}

/* Fixed-Huffman codes are written MSB-first: reverse them for the LSB-first stream. */
static void put_code(bitw *w, uint32_t code, int n)
{
    uint32_t r = 0;
    for (int i = 0; i < n; i++) r |= ((code >> i) & 1u) << (n - 1 - i);
    put_bits(w, r, n);
}

/* A PNG whose IHDR says 64x64 gray but whose IDAT is ~8 MB of "repeat 258 zeros" (13 bits each):
 * it inflates to about 1.3 GB, 300000 times what the header allows. */
static void make_idat_bomb(const char *path, size_t idat_bytes)
{
    bitw w = {malloc(idat_bytes + 16), 0, 0, 0};
    w.d[w.n++] = 0x78;
    w.d[w.n++] = 0x01;
    put_bits(&w, 1, 1);             /* BFINAL */
    put_bits(&w, 1, 2);             /* fixed Huffman */
    put_code(&w, 0x30 + 0, 8);      /* literal 0 */
    while (w.n < idat_bytes - 8) {
        put_code(&w, 0xC0 + 5, 8);  /* length symbol 285 = 258 bytes */
        put_code(&w, 0, 5);         /* distance 1 */
    }
    put_code(&w, 0, 7);             /* end of block */
    put_bits(&w, 0, 7);
    w.d[w.n++] = 0, w.d[w.n++] = 0, w.d[w.n++] = 0, w.d[w.n++] = 1; /* adler (not checked) */
    FILE *f = fopen(path, "wb");
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
    fwrite(sig, 1, 8, f);
    uint8_t ihdr[13] = {0};
    tds_be32(ihdr, 64);
    tds_be32(ihdr + 4, 64);
    ihdr[8] = 8;
    tds_chunk(f, "IHDR", ihdr, 13);
    tds_chunk(f, "IDAT", w.d, (uint32_t)w.n);
    tds_chunk(f, "IEND", NULL, 0);
    fclose(f);
    free(w.d);
}

/* The cookies JPEG with its SOF dimensions rewritten (and optionally cut to keep bytes). */
static int make_jpeg_lie(const char *path, int w, int h, size_t keep)
{
    char src[1024];
    snprintf(src, sizeof src, "%s/cookies/train/normal/normal-1.jpg", g_data);
    size_t len;
    lds_error e;
    uint8_t *d = lds_read_file(src, 1 << 24, &len, &e);
    if (!d) return -1;
    for (size_t i = 2; i + 9 < len; i++) {
        if (d[i] == 0xFF && (d[i + 1] == 0xC0 || d[i + 1] == 0xC2)) {
            d[i + 5] = (uint8_t)(h >> 8), d[i + 6] = (uint8_t)h;
            d[i + 7] = (uint8_t)(w >> 8), d[i + 8] = (uint8_t)w;
            break;
        }
    }
    write_bytes(path, d, keep && keep < len ? keep : len);
    free(d);
    return 0;
}

/* ---- running one case in a child ------------------------------------------------------------ */

typedef int (*case_fn)(lds_error *err); /* returns the import's rc */

/* Runs fn in a child; expects rc (0 or -1) and, on -1, `expect` in the message. Prints a row. */
static void run_case(const char *label, case_fn fn, int want_rc, const char *expect)
{
    int pfd[2];
    if (pipe(pfd) != 0) exit(2);
    fflush(stdout);
    fflush(stderr);
    g_case++;
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        lds_error err = {{0}};
        int rc = fn(&err);
        char out[sizeof err.message + 16];
        int n = snprintf(out, sizeof out, "%d|%s", rc, err.message);
        if (write(pfd[1], out, (size_t)(n < (int)sizeof out ? n : (int)sizeof out - 1)) < 0) _exit(3);
        _exit(0);
    }
    close(pfd[1]);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char buf[4200] = {0};
    size_t got = 0;
    ssize_t r;
    while ((r = read(pfd[0], buf + got, sizeof buf - 1 - got)) > 0) got += (size_t)r;
    close(pfd[0]);
    int status = 0;
    struct rusage ru;
    wait4(pid, &status, 0, &ru);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    double mb = (double)ru.ru_maxrss / 1024.0;
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: child died (status 0x%x)", label, status);
    int rc = atoi(buf);
    const char *msg = strchr(buf, '|') ? strchr(buf, '|') + 1 : "";
    CHECK(rc == want_rc, "%s: rc %d, want %d (%s)", label, rc, want_rc, msg);
    if (expect) CHECK(strstr(msg, expect) != NULL, "%s: message '%s' should mention '%s'", label, msg, expect);
    CHECK(secs < TIME_LIMIT, "%s: took %.2f s (limit %.0f)", label, secs, TIME_LIMIT);
    CHECK(mb < MEM_LIMIT_MB, "%s: peak RSS %.0f MB (limit %.0f)", label, mb, MEM_LIMIT_MB);
    printf("| %-34s | %7.3f s | %6.1f MB | %s\n", label, secs, mb, want_rc == 0 && rc == 0 ? "(imported)" : msg);
}

static int import_ref_case(const char *ref_json, lds_error *err)
{
    char name[64], dest[64];
    snprintf(name, sizeof name, "case%d.manifest", g_case);
    snprintf(dest, sizeof dest, "out/case%d", g_case);
    char *m = manifest_for(name, ref_json), *d = tds_join(g_tmp, dest);
    int rc = lds_import_manifest(d, m, g_root, NULL, err);
    if (rc != 0 && tds_exists(d)) rc = 99; /* a refused import must leave nothing behind */
    free(m);
    free(d);
    return rc;
}

static int import_manifest_file(const char *file, lds_error *err)
{
    char dest[64];
    snprintf(dest, sizeof dest, "out/case%d", g_case);
    char *m = tds_join(g_tmp, file), *d = tds_join(g_tmp, dest);
    int rc = lds_import_manifest(d, m, g_root, NULL, err);
    if (rc != 0 && tds_exists(d)) rc = 99;
    free(m);
    free(d);
    return rc;
}

static int c_png16_tiny(lds_error *e) { return import_ref_case("s3://b/png16-tiny.png", e); }
static int c_jpeg_huge(lds_error *e) { return import_ref_case("s3://b/jpeg-huge.jpg", e); }
static int c_jpeg_tiny(lds_error *e) { return import_ref_case("s3://b/jpeg-4096-tiny.jpg", e); }
static int c_jpeg_scans(lds_error *e) { return import_ref_case("s3://b/jpeg-scans.jpg", e); }
static int c_idat_bomb(lds_error *e) { return import_ref_case("s3://b/idat-bomb.png", e); }
static int c_idat_bomb_detect(lds_error *e)
{
    /* the detect-anomalies path: bytes in memory, not a file */
    char *p = rootfile("b/idat-bomb.png");
    size_t len;
    uint8_t *d = lds_read_file(p, LDS_MAX_BYTES, &len, e);
    free(p);
    if (!d) return -2;
    float *out = malloc(sizeof(float) * 3 * 64 * 64);
    int rc = lds_load_image_memory(d, len, "request body", 3, 64, 64, out, NULL, NULL, e);
    free(out);
    free(d);
    return rc;
}
static int c_million_lines(lds_error *e) { return import_manifest_file("million.manifest", e); }
static int c_line_100mb(lds_error *e) { return import_manifest_file("line100mb.manifest", e); }
static int c_line_10mb(lds_error *e) { return import_manifest_file("line10mb.manifest", e); }
static int c_deep_json(lds_error *e) { return import_manifest_file("deep.manifest", e); }
static int c_deep_json_update(lds_error *e)
{
    char *p = tds_join(g_tmp, "deep.manifest");
    size_t len;
    char *text = (char *)lds_read_file(p, LDS_MAX_MANIFEST_BYTES, &len, e);
    free(p);
    /* the base dataset is made here: libgomp's threads do not survive fork, so the parent never
     * starts an OpenMP region (imports run one) */
    char *m = manifest_for("base.manifest", "s3://b/good.png"), *base = tds_join(g_tmp, "out/base");
    int rc = lds_import_manifest(base, m, g_root, NULL, e);
    free(m);
    if (rc != 0) {
        lds_prefix_error(e, "base import");
        rc = -2;
    }
    if (rc == 0) rc = text ? lds_update(base, text, len, g_root, e) : -2;
    free(base);
    free(text);
    return rc;
}
static int c_non_utf8_ref(lds_error *e) { return import_ref_case("s3://b/caf\xe9.png", e); }
static int c_non_utf8_folder(lds_error *e)
{
    char *f = tds_join(g_tmp, "folder-latin1"), *d = tds_join(g_tmp, "out/latin1");
    int rc = lds_import_folder(d, f, NULL, e);
    free(f);
    free(d);
    return rc;
}
/* Shell metacharacters in the key: must import (nothing is ever given to a shell) and keep the
 * name byte for byte. */
static int c_shell_manifest(lds_error *e)
{
    int rc = import_ref_case("s3://b/x;touch PWNED;$(touch PWNED2)`touch PWNED3`|&<>*?'\\\" !.png", e);
    if (rc == 0) {
        char dest[64];
        snprintf(dest, sizeof dest, "out/case%d", g_case);
        char *d = tds_join(g_tmp, dest);
        lds_set *set = NULL;
        if (lds_open(d, &set, e) != 0) rc = -3;
        else if (set->n != 1 || strcmp(set->entries[0].source_ref,
                                        "s3://b/x;touch PWNED;$(touch PWNED2)`touch PWNED3`|&<>*?'\" !.png")) {
            lds_set_error(e, "source-ref changed: %s", set->n ? set->entries[0].source_ref : "(none)");
            rc = -4;
        }
        lds_free(set);
        free(d);
    }
    return rc;
}
static int c_shell_folder(lds_error *e)
{
    char *f = tds_join(g_tmp, "folder-shell"), *d = tds_join(g_tmp, "out/shell");
    int rc = lds_import_folder(d, f, NULL, e);
    free(f);
    free(d);
    return rc;
}
static int c_dotdot(lds_error *e) { return import_ref_case("s3://b/../outside/secret.png", e); }
static int c_bucket_dotdot(lds_error *e) { return import_ref_case("s3://../outside/secret.png", e); }
static int c_absolute(lds_error *e) { return import_ref_case("s3:///etc/passwd", e); }
static int c_empty_comp(lds_error *e) { return import_ref_case("s3://b//etc/passwd", e); }
static int c_dot_comp(lds_error *e) { return import_ref_case("s3://b/./good.png", e); }
static int c_symlink(lds_error *e) { return import_ref_case("s3://b/link/secret.png", e); }
static int c_bucket_symlink(lds_error *e) { return import_ref_case("s3://evil/secret.png", e); }
static int c_percent(lds_error *e) { return import_ref_case("s3://b/%2e%2e/%2e%2e/outside/secret.png", e); }
static int c_nul_escape(lds_error *e) { return import_ref_case("s3://b/good.png\\u0000/../../outside/secret.png", e); }
static int c_nul_raw(lds_error *e)
{
    char *p = tds_join(g_tmp, "rawnul.manifest");
    static const char line[] = "{\"source-ref\":\"s3://b/good.png\0/../../outside/secret.png\"}\n";
    write_bytes(p, line, sizeof line - 1);
    free(p);
    return import_manifest_file("rawnul.manifest", e);
}

int main(int argc, char **argv)
{
    g_data = argc > 1 ? argv[1] : "../shared/data";
    g_tmp = tds_tmpdir("hostile");
    g_root = tds_join(g_tmp, "s3");
    char *p, *q;
    p = rootfile("b");
    tds_mkdirs(p);
    free(p);
    p = tds_join(g_tmp, "out");
    tds_mkdirs(p);
    free(p);

    /* fixtures */
    p = rootfile("b/good.png");
    tds_write_picture(p, 64, 64, 3, 1);
    free(p);
    FILE *f;
    p = rootfile("b/png16-tiny.png");
    make_png16_tiny(p);
    free(p);
    p = rootfile("b/idat-bomb.png");
    make_idat_bomb(p, (size_t)8 * 1024 * 1024 - 4096);
    free(p);
    p = rootfile("b/jpeg-huge.jpg");
    int have_jpeg = make_jpeg_lie(p, 60000, 60000, 0) == 0;
    free(p);
    p = rootfile("b/jpeg-4096-tiny.jpg");
    have_jpeg &= make_jpeg_lie(p, 4096, 4096, 4000) == 0;
    free(p);
    /* a JPEG carrying 150 more start-of-scan markers (each progressive scan walks every block) */
    p = rootfile("b/jpeg-scans.jpg");
    have_jpeg &= make_jpeg_lie(p, 768, 576, 0) == 0;
    f = fopen(p, "ab");
    for (int i = 0; i < 150; i++) fputs("\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00", f);
    fclose(f);
    free(p);
    /* 10^6 lines (about 60 MB, under the file-size limit: the line count refuses it) */
    p = tds_join(g_tmp, "million.manifest");
    f = fopen(p, "wb");
    for (int i = 0; i < 1000000; i++) fprintf(f, "{\"source-ref\":\"s3://b/img/%07d.png\",\"l-metadata\":{}}\n", i);
    fclose(f);
    free(p);
    /* one 100 MB line (over the file-size limit) and one 10 MB line (under it) */
    char *chunk = malloc(1 << 20);
    memset(chunk, 'a', 1 << 20);
    p = tds_join(g_tmp, "line100mb.manifest");
    f = fopen(p, "wb");
    fputs("{\"source-ref\":\"s3://b/", f);
    for (int i = 0; i < 100; i++) fwrite(chunk, 1, 1 << 20, f);
    fputs(".png\"}\n", f);
    fclose(f);
    free(p);
    p = tds_join(g_tmp, "line10mb.manifest");
    f = fopen(p, "wb");
    fputs("{\"source-ref\":\"s3://b/", f);
    for (int i = 0; i < 10; i++) fwrite(chunk, 1, 1 << 20, f);
    fputs(".png\"}\n", f);
    fclose(f);
    free(p);
    free(chunk);
    /* 20000 nested arrays inside a line (40 KB: under the line-length limit) */
    p = tds_join(g_tmp, "deep.manifest");
    f = fopen(p, "wb");
    fputs("{\"source-ref\":\"s3://b/good.png\",\"x\":", f);
    for (int i = 0; i < 20000; i++) fputc('[', f);
    for (int i = 0; i < 20000; i++) fputc(']', f);
    fputs("}\n", f);
    fclose(f);
    free(p);
    /* a Latin-1 file name (not UTF-8) in an image folder */
    p = tds_join(g_tmp, "folder-latin1/normal");
    tds_mkdirs(p);
    free(p);
    p = tds_join(g_tmp, "folder-latin1/normal/caf\xe9.png");
    tds_write_picture(p, 64, 64, 3, 2);
    free(p);
    /* the same name in the S3 mirror (so only the UTF-8 rule can refuse it) */
    p = rootfile("b/caf\xe9.png");
    tds_write_picture(p, 64, 64, 3, 2);
    free(p);
    /* shell metacharacters in file names */
    const char *evil = "x;touch PWNED;$(touch PWNED2)`touch PWNED3`|&<>*?'\" !.png";
    q = tds_join(g_root, "b");
    p = tds_join(q, evil);
    tds_write_picture(p, 64, 64, 3, 3);
    free(p);
    free(q);
    p = tds_join(g_tmp, "folder-shell/anomaly");
    tds_mkdirs(p);
    free(p);
    p = tds_join(g_tmp, "folder-shell/normal");
    tds_mkdirs(p);
    q = tds_join(p, evil);
    tds_write_picture(q, 64, 64, 3, 4);
    free(q);
    free(p);
    p = tds_join(g_tmp, "folder-shell/anomaly/$(touch PWNED4);rm -rf ~.png");
    tds_write_picture(p, 64, 64, 3, 5);
    free(p);
    /* targets outside the mirror, a symlinked directory and a symlinked bucket */
    p = tds_join(g_tmp, "outside");
    tds_mkdirs(p);
    free(p);
    p = tds_join(g_tmp, "outside/secret.png");
    tds_write_picture(p, 64, 64, 3, 6);
    q = rootfile("b/link");
    CHECK(symlink("../../outside", q) == 0, "symlink: %s", strerror(errno));
    free(q);
    q = rootfile("evil");
    char *outside = tds_join(g_tmp, "outside");
    CHECK(symlink(outside, q) == 0, "symlink: %s", strerror(errno));
    free(outside);
    free(q);
    free(p);
    /* a literal "%2e%2e" directory does not exist: nothing may decode it into ".." */

    printf("| %-34s | %9s | %9s | %s\n", "hostile input", "time", "peak RSS", "message");
    run_case("PNG 4096x4096 16-bit RGBA, 119 B", c_png16_tiny, -1, "times expansion");
    if (have_jpeg) {
        run_case("JPEG declaring 60000x60000", c_jpeg_huge, -1, "60000x60000 pixels");
        run_case("JPEG declaring 4096x4096, 4000 B", c_jpeg_tiny, -1, "times expansion");
        run_case("JPEG with 150+ scans", c_jpeg_scans, -1, "scans (the limit is 100");
    }
    run_case("PNG 64x64 whose 8 MB IDAT -> 1.3 GB", c_idat_bomb, -1, "inflates past what the header declares");
    run_case("same, as detect-anomalies bytes", c_idat_bomb_detect, -1, "request body");
    run_case("manifest of 10^6 lines (60 MB)", c_million_lines, -1, "line 16001: more than 16000 entries");
    run_case("manifest: one 100 MB line", c_line_100mb, -1, "over the limit of 67108864 bytes");
    run_case("manifest: one 10 MB line", c_line_10mb, -1, "line 1: longer than 65536 bytes");
    run_case("line nested 20000 deep (import)", c_deep_json, -1, "line 1: JSON nested deeper than 16 levels");
    run_case("line nested 20000 deep (update)", c_deep_json_update, -1, "changes line 1: JSON nested deeper");
    run_case("source-ref with Latin-1 byte", c_non_utf8_ref, -1, "byte 0xe9 at column 26 is not valid UTF-8");
    run_case("folder file name with Latin-1 byte", c_non_utf8_folder, -1, "caf\\xe9.png: the file name is not valid");
    run_case("key with ; $() ` | & < > * ? ' \"", c_shell_manifest, 0, NULL);
    run_case("folder names with ; $() ` ~ etc.", c_shell_folder, 0, NULL);
    run_case("s3://b/../outside/secret.png", c_dotdot, -1, "contains '..'");
    run_case("s3://../outside/secret.png", c_bucket_dotdot, -1, "is not a valid S3 bucket name");
    run_case("s3:///etc/passwd", c_absolute, -1, "needs both a bucket and a key");
    run_case("s3://b//etc/passwd", c_empty_comp, -1, "empty path component");
    run_case("s3://b/./good.png", c_dot_comp, -1, "'.' path component");
    run_case("s3://b/link/... (symlink out)", c_symlink, -1, "symlink escape refused");
    run_case("s3://evil/... (bucket symlink out)", c_bucket_symlink, -1, "symlink escape refused");
    run_case("s3://b/%2e%2e/%2e%2e/outside/...", c_percent, -1, "/b/%2e%2e/%2e%2e/outside/secret.png does not exist");
    run_case("source-ref with \\u0000 then ../..", c_nul_escape, -1, "NUL character");
    run_case("source-ref with a raw NUL byte", c_nul_raw, -1, "NUL byte at column 31");

    /* nothing ran a shell */
    const char *names[] = {"PWNED", "PWNED2", "PWNED3", "PWNED4"};
    for (int i = 0; i < 4; i++) {
        CHECK(!tds_exists(names[i]), "%s exists in the working directory", names[i]);
        p = tds_join(g_tmp, names[i]);
        CHECK(!tds_exists(p), "%s exists", p);
        free(p);
    }
    lds_rm_rf(g_tmp);
    return tds_done("test_dataset_hostile");
}
