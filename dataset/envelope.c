/* envelope.c — encryption at rest of the image and mask copies in a model's dataset snapshot.
 * An encrypted copy is an envelope: magic, a random 24-byte nonce, then XChaCha20-Poly1305
 * (libsodium) of the original bytes. The file's base name is authenticated with it, so copies
 * cannot be swapped for one another unnoticed. The 32-byte data key comes from the caller (the
 * engine unwraps it through its key store): this module never sees a key store.
 *
 * Readers stay transparent: lds_read_file opens an envelope with the process's data key
 * (lds_set_data_key), so lds_open / lds_load_image / lds_load_mask work on an encrypted snapshot
 * exactly as on a plain one, and a tampered file fails authentication instead of decoding. */
#include "lds_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const uint8_t magic[LDS_ENVELOPE_MAGIC_BYTES] = {'L', 'K', 'E', 'N', 'V', '1', '\r', '\n'};

/* One key per process: the worker trains one model. Set before the (OpenMP) readers start and
 * cleared after they end, so readers only ever see a stable value. */
static uint8_t data_key[LDS_DATA_KEY_BYTES];
static int have_data_key;

void lds_set_data_key(const uint8_t *key)
{
    if (key) {
        memcpy(data_key, key, sizeof data_key);
        have_data_key = 1;
    } else {
        sodium_memzero(data_key, sizeof data_key);
        have_data_key = 0;
    }
}

int lds_is_encrypted(const uint8_t *data, size_t len)
{
    return data && len >= sizeof magic && memcmp(data, magic, sizeof magic) == 0;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* Associated data: magic + base name (binds the ciphertext to the name it was written under). */
static uint8_t *make_ad(const char *name, size_t *ad_len)
{
    const char *b = base_name(name);
    size_t bl = strlen(b);
    uint8_t *ad = malloc(sizeof magic + bl + 1);
    if (!ad) return NULL;
    memcpy(ad, magic, sizeof magic);
    memcpy(ad + sizeof magic, b, bl);
    *ad_len = sizeof magic + bl;
    return ad;
}

uint8_t *lds_envelope_seal(const uint8_t *plain, size_t len, const char *name, const uint8_t *key, size_t *out_len,
                           lds_error *err)
{
    if (sodium_init() < 0) {
        lds_set_error(err, "%s: libsodium failed to initialise", name);
        return NULL;
    }
    size_t ad_len = 0;
    uint8_t *ad = make_ad(name, &ad_len);
    uint8_t *out = malloc(len + LDS_ENVELOPE_OVERHEAD);
    if (!ad || !out) {
        free(ad);
        free(out);
        lds_set_error(err, "%s: out of memory encrypting %zu bytes", name, len);
        return NULL;
    }
    memcpy(out, magic, sizeof magic);
    uint8_t *nonce = out + sizeof magic;
    randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + sizeof magic + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
                                               &clen, plain, len, ad, ad_len, NULL, nonce, key);
    free(ad);
    *out_len = sizeof magic + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + (size_t)clen;
    return out;
}

uint8_t *lds_envelope_open(const uint8_t *data, size_t len, const char *name, const uint8_t *key, size_t *out_len,
                           lds_error *err)
{
    if (!lds_is_encrypted(data, len)) {
        lds_set_error(err, "%s: not an encrypted file (no envelope header)", name);
        return NULL;
    }
    if (len < LDS_ENVELOPE_OVERHEAD) {
        lds_set_error(err, "%s: encrypted file is truncated (%zu bytes, an envelope has at least %d)", name, len,
                      LDS_ENVELOPE_OVERHEAD);
        return NULL;
    }
    if (!key) {
        lds_set_error(err, "%s: the file is encrypted and no data key was given (only the training worker of its "
                      "model can read it)", name);
        return NULL;
    }
    if (sodium_init() < 0) {
        lds_set_error(err, "%s: libsodium failed to initialise", name);
        return NULL;
    }
    size_t ad_len = 0;
    uint8_t *ad = make_ad(name, &ad_len);
    size_t clen = len - sizeof magic - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
    uint8_t *plain = malloc(clen + 1); /* +1: NUL for text users, as lds_read_file promises */
    if (!ad || !plain) {
        free(ad);
        free(plain);
        lds_set_error(err, "%s: out of memory decrypting %zu bytes", name, len);
        return NULL;
    }
    unsigned long long plen = 0;
    const uint8_t *nonce = data + sizeof magic;
    int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &plen, NULL, nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
                                                        clen, ad, ad_len, nonce, key);
    free(ad);
    if (rc != 0) {
        free(plain);
        lds_set_error(err, "%s: authentication failed: the encrypted file was altered, renamed or belongs to another "
                      "key; the model's dataset snapshot is damaged (create the model again)", name);
        return NULL;
    }
    plain[plen] = 0;
    *out_len = (size_t)plen;
    return plain;
}

uint8_t *lds_envelope_open_current(const uint8_t *data, size_t len, const char *name, size_t *out_len,
                                   lds_error *err)
{
    return lds_envelope_open(data, len, name, have_data_key ? data_key : NULL, out_len, err);
}

/* Replaces path with its envelope: temp file, fsync, rename (the old name may be a hard link to
 * the project's own copy, which must stay untouched: rename swaps the link, never writes it). */
static int encrypt_in_place(const char *path, const uint8_t *key, lds_error *err)
{
    size_t len = 0;
    uint8_t *plain = lds_read_file(path, (size_t)1 << 31, &len, err);
    if (!plain) return -1;
    size_t clen = 0;
    uint8_t *sealed = lds_envelope_seal(plain, len, path, key, &clen, err);
    sodium_memzero(plain, len);
    free(plain);
    if (!sealed) return -1;
    size_t pl = strlen(path);
    char *tmp = malloc(pl + 16);
    if (!tmp) {
        free(sealed);
        lds_set_error(err, "%s: out of memory", path);
        return -1;
    }
    memcpy(tmp, path, pl);
    memcpy(tmp + pl, ".enc.tmp", 9);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int rc = -1;
    if (fd < 0) {
        lds_set_error(err, "%s: cannot create: %s", tmp, strerror(errno));
    } else {
        size_t done = 0;
        while (done < clen) {
            ssize_t w = write(fd, sealed + done, clen - done);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) break;
            done += (size_t)w;
        }
        if (done != clen) lds_set_error(err, "%s: write failed: %s", tmp, strerror(errno));
        else if (fsync(fd) != 0) lds_set_error(err, "%s: fsync failed: %s", tmp, strerror(errno));
        else rc = 0;
        if (close(fd) != 0 && rc == 0) {
            lds_set_error(err, "%s: close failed: %s", tmp, strerror(errno));
            rc = -1;
        }
        if (rc == 0 && rename(tmp, path) != 0) {
            lds_set_error(err, "%s: cannot replace with its encrypted copy: %s", path, strerror(errno));
            rc = -1;
        }
        if (rc != 0) unlink(tmp);
    }
    free(tmp);
    free(sealed);
    return rc;
}

int lds_snapshot_encrypted(const char *dataset_dir, const char *dest_dir, const uint8_t *key, lds_error *err)
{
    if (!key) {
        lds_set_error(err, "%s: no data key to encrypt the snapshot with", dest_dir);
        return -1;
    }
    if (lds_snapshot(dataset_dir, dest_dir, err) != 0) return -1;
    lds_db db;
    if (lds_db_load(dest_dir, &db, err) != 0) {
        lds_rm_rf(dest_dir);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < db.n && rc == 0; i++) {
        const char *rels[2] = {db.recs[i].image_rel, db.recs[i].mask_rel};
        for (int k = 0; k < 2 && rc == 0; k++) {
            if (!rels[k]) continue;
            char *p = lds_path_join(dest_dir, rels[k]);
            if (!p) {
                lds_set_error(err, "out of memory");
                rc = -1;
                break;
            }
            rc = encrypt_in_place(p, key, err);
            free(p);
        }
    }
    lds_db_free(&db);
    if (rc != 0) lds_rm_rf(dest_dir); /* all-or-nothing: never a half-encrypted snapshot */
    return rc;
}

uint8_t *lds_read_copy(const char *path, size_t *out_len, lds_error *err)
{
    return lds_read_file(path, LDS_MAX_BYTES, out_len, err);
}
