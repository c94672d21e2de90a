/* kms_store.c — the key store file: parsing and checking it, loading, locking and writing it
 * (temp, fsync, rename, mode 0600) under $LOOKOUT_HOME/kms/. */
#include "kms_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STORE_MAX_BYTES ((size_t)16 << 20)

void lo_kms_init(lo_kms *k, const char *home) {
    const char *region = getenv("LOOKOUT_REGION"), *account = getenv("LOOKOUT_ACCOUNT_ID");
    snprintf(k->home, sizeof k->home, "%s", home);
    snprintf(k->region, sizeof k->region, "%s", region && *region ? region : "local");
    snprintf(k->account, sizeof k->account, "%s", account && *account ? account : "000000000000");
}

double kms_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)(ts.tv_nsec / 1000000) / 1000.0;
}

const char *kms_str(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void kms_dir(const lo_kms *k, char *out, size_t cap) { snprintf(out, cap, "%.4000s/kms", k->home); }

void kms_store_path(const lo_kms *k, char *out, size_t cap) { snprintf(out, cap, "%.4000s/kms/keys.json", k->home); }

static int ensure_dir(const lo_kms *k, lo_error *err) {
    char d[4200];
    kms_dir(k, d, sizeof d);
    if (mkdir(d, 0700) != 0 && errno != EEXIST) {
        lo_error_set(err, "InternalServerException", "cannot create the key store folder %s: %s", d, strerror(errno));
        return -1;
    }
    return 0;
}

/* Temporaries of a writer that died between write and rename (kill -9); with the lock held no
 * one else is writing, so every one is stale. */
static void sweep_temps(const lo_kms *k) {
    char d[4200];
    kms_dir(k, d, sizeof d);
    DIR *dir = opendir(d);
    if (!dir) return;
    struct dirent *e;
    while ((e = readdir(dir)))
        if (!strncmp(e->d_name, "keys.json.tmp.", 14)) unlinkat(dirfd(dir), e->d_name, 0);
    closedir(dir);
}

int kms_lock(const lo_kms *k, lo_error *err) {
    if (ensure_dir(k, err)) return -1;
    char p[4200];
    snprintf(p, sizeof p, "%.4000s/kms/lock", k->home);
    int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        lo_error_set(err, "InternalServerException", "cannot open the key store lock %s: %s", p, strerror(errno));
        return -1;
    }
    int rc;
    while ((rc = flock(fd, LOCK_EX)) != 0 && errno == EINTR) {}
    if (rc != 0) {
        lo_error_set(err, "InternalServerException", "cannot lock %s: %s", p, strerror(errno));
        close(fd);
        return -1;
    }
    sweep_temps(k);
    return fd;
}

void kms_unlock(int fd) {
    if (fd >= 0) close(fd);
}

static int bad(lo_error *err, const char *what, const char *fmt, const char *detail) {
    char msg[1024];
    snprintf(msg, sizeof msg, fmt, detail);
    lo_error_set(err, "InternalServerException", "key store %s is damaged: %s", what, msg);
    return -1;
}

static int check_uuid(const char *s) {
    if (strlen(s) != 36) return -1;
    for (int i = 0; i < 36; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') return -1;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return -1;
        }
    }
    return 0;
}

int kms_material(const cJSON *key, uint8_t out[LO_KMS_DATA_KEY_BYTES], lo_error *err) {
    const char *b64 = kms_str(key, "Material");
    size_t n = 0;
    if (sodium_base642bin(out, LO_KMS_DATA_KEY_BYTES, b64, strlen(b64), NULL, &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        n != LO_KMS_DATA_KEY_BYTES) {
        sodium_memzero(out, LO_KMS_DATA_KEY_BYTES);
        lo_error_set(err, "InternalServerException", "key %s in the key store has damaged key material",
                     kms_str(key, "KeyId"));
        return -1;
    }
    return 0;
}

cJSON *lo_kms_store_parse(const char *text, size_t len, const char *what, lo_error *err) {
    if (len > STORE_MAX_BYTES) {
        bad(err, what, "%s", "larger than 16 MB");
        return NULL;
    }
    cJSON *doc = cJSON_ParseWithLength(text, len);
    if (!doc || !cJSON_IsObject(doc)) {
        bad(err, what, "%s", "not a JSON object");
        cJSON_Delete(doc);
        return NULL;
    }
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(doc, "Version");
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(doc, "Keys");
    const cJSON *aliases = cJSON_GetObjectItemCaseSensitive(doc, "Aliases");
    if (!cJSON_IsNumber(ver) || ver->valuedouble != 1.0) {
        bad(err, what, "%s", "\"Version\" is not 1");
        goto fail;
    }
    if (!cJSON_IsArray(keys) || !cJSON_IsArray(aliases)) {
        bad(err, what, "%s", "\"Keys\" and \"Aliases\" must be arrays");
        goto fail;
    }
    const cJSON *key;
    cJSON_ArrayForEach(key, keys) {
        uint8_t m[LO_KMS_DATA_KEY_BYTES];
        const char *id = kms_str(key, "KeyId");
        const cJSON *cd = cJSON_GetObjectItemCaseSensitive(key, "CreationDate");
        const cJSON *en = cJSON_GetObjectItemCaseSensitive(key, "Enabled");
        const char *mgr = kms_str(key, "KeyManager");
        if (!cJSON_IsObject(key) || check_uuid(id)) {
            bad(err, what, "a key has no valid \"KeyId\" (a UUID) %s", "");
            goto fail;
        }
        if (!cJSON_IsNumber(cd) || !cJSON_IsBool(en) || (strcmp(mgr, "CUSTOMER") && strcmp(mgr, "AWS")) ||
            !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(key, "Description"))) {
            bad(err, what, "key %s lacks CreationDate, Enabled, Description or KeyManager", id);
            goto fail;
        }
        lo_error e2;
        if (kms_material(key, m, &e2)) {
            bad(err, what, "key %s has no 32-byte \"Material\"", id);
            goto fail;
        }
        sodium_memzero(m, sizeof m);
        for (const cJSON *o = keys->child; o != key; o = o->next)
            if (!strcmp(kms_str(o, "KeyId"), id)) {
                bad(err, what, "key %s appears twice", id);
                goto fail;
            }
    }
    const cJSON *al;
    cJSON_ArrayForEach(al, aliases) {
        const char *name = kms_str(al, "AliasName"), *target = kms_str(al, "TargetKeyId");
        if (!cJSON_IsObject(al) || strncmp(name, "alias/", 6) || strlen(name) > 256) {
            bad(err, what, "%s", "an alias has no valid \"AliasName\" (alias/...)");
            goto fail;
        }
        int found = 0;
        cJSON_ArrayForEach(key, keys) found |= !strcmp(kms_str(key, "KeyId"), target);
        if (!found) {
            bad(err, what, "alias %s points at no key of the store", name);
            goto fail;
        }
    }
    return doc;
fail:
    cJSON_Delete(doc);
    return NULL;
}

cJSON *kms_load(const lo_kms *k, lo_error *err) {
    char p[4200];
    kms_store_path(k, p, sizeof p);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT) {
            lo_error_set(err, "InternalServerException", "cannot open the key store %s: %s", p, strerror(errno));
            return NULL;
        }
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddNumberToObject(doc, "Version", 1);
        cJSON_AddArrayToObject(doc, "Keys");
        cJSON_AddArrayToObject(doc, "Aliases");
        return doc;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > STORE_MAX_BYTES) {
        close(fd);
        bad(err, p, "%s", "not a regular file of at most 16 MB");
        return NULL;
    }
    if (st.st_mode & 077) /* someone loosened it: say so rather than serve keys from an open file */
        fprintf(stderr, "warning: key store %s is readable by others (mode %03o); run chmod 600 on it\n", p,
                (unsigned)(st.st_mode & 0777));
    size_t n = (size_t)st.st_size, got = 0;
    char *text = malloc(n + 1);
    while (text && got < n) {
        ssize_t r = read(fd, text + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (!text || got != n) {
        free(text);
        lo_error_set(err, "InternalServerException", "cannot read the key store %s", p);
        return NULL;
    }
    cJSON *doc = lo_kms_store_parse(text, n, p, err);
    sodium_memzero(text, n);
    free(text);
    return doc;
}

int kms_save(const lo_kms *k, const cJSON *store, lo_error *err) {
    if (ensure_dir(k, err)) return -1;
    char p[4200], tmp[4300];
    kms_store_path(k, p, sizeof p);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%08x", p, (long)getpid(), randombytes_random());
    char *text = cJSON_Print(store);
    if (!text) {
        lo_error_set(err, "InternalServerException", "out of memory writing the key store");
        return -1;
    }
    size_t n = strlen(text), done = 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int rc = -1;
    if (fd >= 0) {
        while (done < n) {
            ssize_t w = write(fd, text + done, n - done);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) break;
            done += (size_t)w;
        }
        if (done == n && fsync(fd) == 0) rc = 0;
        if (close(fd) != 0) rc = -1;
        if (rc == 0 && rename(tmp, p) != 0) rc = -1;
    }
    if (rc != 0) {
        lo_error_set(err, "InternalServerException", "cannot write the key store %s: %s", p, strerror(errno));
        unlink(tmp);
    } else {
        char d[4200];
        kms_dir(k, d, sizeof d);
        int dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    sodium_memzero(text, n);
    free(text);
    return rc;
}
