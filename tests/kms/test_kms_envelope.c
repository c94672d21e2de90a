/* The dataset layer's encryption at rest (dataset/envelope.c) without the service: an encrypted
 * snapshot holds no image bytes, reads back identical with the key, refuses to read without it,
 * names the file on a flipped byte / wrong key / swapped name / truncation, and leaves the
 * project's own copies untouched. */
#include <dataset.h>
#include "lds_internal.h"

#include <dirent.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int failures = 0;
#define CHECK(cond, ...)                                                                      \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            failures++;                                                                       \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond);          \
            fprintf(stderr, __VA_ARGS__);                                                     \
            fprintf(stderr, "\n");                                                            \
        }                                                                                     \
    } while (0)

static uint8_t *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)len + 1);
    *n = fread(b, 1, (size_t)len, f);
    fclose(f);
    return b;
}

static void spit(const char *path, const uint8_t *d, size_t n) {
    FILE *f = fopen(path, "wb");
    fwrite(d, 1, n, f);
    fclose(f);
}

/* first file in DIR/sub (sorted), written to out */
static int first_file(const char *dir, const char *sub, char *out, size_t cap) {
    char d[1024];
    snprintf(d, sizeof d, "%s/%s", dir, sub);
    struct dirent **list;
    int n = scandir(d, &list, NULL, alphasort), found = 0;
    for (int i = 0; i < n; i++) {
        if (!found && list[i]->d_name[0] != '.') {
            snprintf(out, cap, "%s/%s", d, list[i]->d_name);
            found = 1;
        }
        free(list[i]);
    }
    if (n >= 0) free(list);
    return found ? 0 : -1;
}

int main(void) {
    if (sodium_init() < 0) return 2;
    char root[] = "/tmp/lo-kms-env-XXXXXX";
    if (!mkdtemp(root)) return 2;
    char folder[600], ds[600], snap[600], plain_snap[600];
    snprintf(folder, sizeof folder, "%s/folder", root);
    snprintf(ds, sizeof ds, "%s/ds", root);
    snprintf(snap, sizeof snap, "%s/snap", root);
    snprintf(plain_snap, sizeof plain_snap, "%s/plain", root);
    lds_error err, warn = {{0}};
    if (lds_demo_generate(folder, 6, 4, 3, &err) || lds_import_folder(ds, folder, &warn, &err)) {
        fprintf(stderr, "setup: %s\n", err.message);
        return 2;
    }
    uint8_t key[LDS_DATA_KEY_BYTES], other[LDS_DATA_KEY_BYTES];
    randombytes_buf(key, sizeof key);
    randombytes_buf(other, sizeof other);
    CHECK(lds_snapshot_encrypted(ds, snap, key, &err) == 0, "encrypted snapshot: %s", err.message);
    CHECK(lds_snapshot(ds, plain_snap, &err) == 0, "plain snapshot: %s", err.message);

    char img[1400], mask[1400], orig[1400];
    CHECK(first_file(snap, "images", img, sizeof img) == 0, "no images in %s", snap);
    CHECK(first_file(snap, "masks", mask, sizeof mask) == 0, "no masks in %s", snap);
    CHECK(first_file(ds, "images", orig, sizeof orig) == 0, "no images in %s", ds);
    size_t n_enc = 0, n_orig = 0;
    uint8_t *enc = slurp(img, &n_enc), *plain = slurp(orig, &n_orig);
    CHECK(enc && lds_is_encrypted(enc, n_enc), "%s is not an envelope", img);
    CHECK(enc && n_enc == n_orig + LDS_ENVELOPE_OVERHEAD, "%s: %zu bytes, plain %zu", img, n_enc, n_orig);
    CHECK(plain && !lds_is_encrypted(plain, n_orig) && lds_sniff_format(plain, n_orig) != LDS_FMT_UNKNOWN,
          "the project's own copy %s was changed", orig);
    CHECK(enc && lds_sniff_format(enc, n_enc) == LDS_FMT_UNKNOWN, "%s still looks like an image", img);
    struct stat st;
    CHECK(stat(img, &st) == 0 && (st.st_mode & 077) == 0, "%s mode %o, want 0600", img, st.st_mode & 0777);

    /* without the key: an error naming the file, not pixels */
    lds_set_data_key(NULL);
    float *px = malloc(3 * 64 * 64 * sizeof(float)), *px2 = malloc(3 * 64 * 64 * sizeof(float));
    memset(&err, 0, sizeof err);
    CHECK(lds_load_image(img, 3, 64, 64, px, &err) != 0 && strstr(err.message, img) &&
              strstr(err.message, "no data key"), "read without key: '%s'", err.message);
    /* with it: the same pixels as the plain snapshot; lds_open and masks work unchanged */
    lds_set_data_key(key);
    char plain_img[1400];
    first_file(plain_snap, "images", plain_img, sizeof plain_img);
    CHECK(lds_load_image(img, 3, 64, 64, px, &err) == 0, "decrypting read: %s", err.message);
    CHECK(lds_load_image(plain_img, 3, 64, 64, px2, &err) == 0, "plain read: %s", err.message);
    CHECK(memcmp(px, px2, 3 * 64 * 64 * sizeof(float)) == 0, "decrypted pixels differ from the plain ones");
    lds_set *set = NULL;
    CHECK(lds_open(snap, &set, &err) == 0, "lds_open on the encrypted snapshot: %s", err.message);
    uint8_t m[32 * 32];
    CHECK(set && lds_load_mask(set, mask, 32, 32, m, &err) == 0, "mask read: %s", err.message);
    lds_free(set);

    /* the wrong key, a flipped byte anywhere, a truncation, another file's name: refused */
    lds_set_data_key(other);
    CHECK(lds_load_image(img, 3, 64, 64, px, &err) != 0 && strstr(err.message, "authentication failed"),
          "wrong key: '%s'", err.message);
    lds_set_data_key(key);
    size_t spots[3] = {LDS_ENVELOPE_MAGIC_BYTES + 3, n_enc / 2, n_enc - 1};
    for (int i = 0; i < 3 && enc; i++) {
        enc[spots[i]] ^= 0x01;
        spit(img, enc, n_enc);
        memset(&err, 0, sizeof err);
        CHECK(lds_load_image(img, 3, 64, 64, px, &err) != 0 && strstr(err.message, img) &&
                  strstr(err.message, "authentication failed"), "byte %zu flipped: '%s'", spots[i], err.message);
        enc[spots[i]] ^= 0x01;
    }
    if (enc) spit(img, enc, n_enc - 20);
    CHECK(lds_load_image(img, 3, 64, 64, px, &err) != 0, "truncated envelope read");
    if (enc) spit(img, enc, n_enc);
    CHECK(lds_load_image(img, 3, 64, 64, px, &err) == 0, "restored: %s", err.message);
    char moved[1500];
    snprintf(moved, sizeof moved, "%s.renamed.png", img);
    if (enc) spit(moved, enc, n_enc);
    CHECK(lds_load_image(moved, 3, 64, 64, px, &err) != 0 && strstr(err.message, "authentication failed"),
          "an envelope under another name must not open: '%s'", err.message);
    lds_set_data_key(NULL);

    free(px);
    free(px2);
    free(enc);
    free(plain);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (failures == 0 && system(cmd) != 0) fprintf(stderr, "could not remove %s\n", root);
    if (failures) fprintf(stderr, "%d check(s) failed; files in %s\n", failures, root);
    return failures ? 1 : 0;
}
