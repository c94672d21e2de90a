/* http_credentials.c — loading, checking and appending access keys. The secrets are kept in
 * memory only as long as the server runs and are never written to a log. */
#include "http_credentials.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    char access_key[32];
    char secret[128];
    char user[128];
    int active;
    char **actions; /* NULL = every action */
    size_t n_actions;
} key_entry;

struct lo_http_credentials {
    char path[4096];
    pthread_mutex_t lock;
    key_entry *keys;
    size_t n_keys;
    int loaded;
    struct stat seen; /* identity of the file last read (st_ino == 0: absent) */
};

int lo_http_home_dir(char *buf, size_t cap) {
    const char *h = getenv("LOOKOUT_HOME");
    if (h && *h) return snprintf(buf, cap, "%s", h) < (int)cap ? 0 : -1;
    const char *home = getenv("HOME");
    if (!home || !*home) return -1;
    return snprintf(buf, cap, "%s/.lookout", home) < (int)cap ? 0 : -1;
}

static void free_keys(key_entry *k, size_t n) {
    for (size_t i = 0; i < n; i++) {
        sodium_memzero(k[i].secret, sizeof k[i].secret);
        for (size_t j = 0; j < k[i].n_actions; j++) free(k[i].actions[j]);
        free(k[i].actions);
    }
    free(k);
}

static char *read_file(const char *path, size_t *len, struct stat *st) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    if (fstat(fd, st) || st->st_size > (16 << 20)) { close(fd); errno = EFBIG; return NULL; }
    size_t n = (size_t)st->st_size;
    char *buf = malloc(n + 1);
    size_t got = 0;
    while (buf && got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r <= 0) { free(buf); buf = NULL; break; }
        got += (size_t)r;
    }
    close(fd);
    if (buf) { buf[got] = '\0'; *len = got; }
    return buf;
}

/* Parses the file into keys; -1 with a message naming the file and field on any defect. */
static int parse_store(const char *path, const char *text, size_t len, key_entry **out, size_t *n_out,
                       char *msg, size_t msg_len) {
    *out = NULL;
    *n_out = 0;
    cJSON *doc = cJSON_ParseWithLength(text, len);
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc, "AccessKeys");
    if (!cJSON_IsArray(arr)) {
        snprintf(msg, msg_len, "%s: not a lookout credentials file (expected {\"AccessKeys\": [...]})", path);
        cJSON_Delete(doc);
        return -1;
    }
    size_t n = (size_t)cJSON_GetArraySize(arr);
    key_entry *keys = calloc(n ? n : 1, sizeof *keys);
    if (!keys) { cJSON_Delete(doc); snprintf(msg, msg_len, "out of memory"); return -1; }
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "AccessKeyId");
        const cJSON *sec = cJSON_GetObjectItemCaseSensitive(e, "SecretAccessKey");
        const cJSON *user = cJSON_GetObjectItemCaseSensitive(e, "UserName");
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(e, "Status");
        const cJSON *acts = cJSON_GetObjectItemCaseSensitive(e, "Actions");
        if (!cJSON_IsString(id) || !cJSON_IsString(sec) || strlen(id->valuestring) >= sizeof keys[i].access_key ||
            strlen(sec->valuestring) >= sizeof keys[i].secret || !*id->valuestring || !*sec->valuestring) {
            snprintf(msg, msg_len, "%s: AccessKeys[%zu] needs string AccessKeyId and SecretAccessKey", path, i);
            goto bad;
        }
        key_entry *k = &keys[i];
        snprintf(k->access_key, sizeof k->access_key, "%s", id->valuestring);
        snprintf(k->secret, sizeof k->secret, "%s", sec->valuestring);
        snprintf(k->user, sizeof k->user, "%s", cJSON_IsString(user) ? user->valuestring : "lookout");
        k->active = !cJSON_IsString(status) || strcmp(status->valuestring, "Active") == 0;
        if (acts && !cJSON_IsNull(acts)) {
            if (!cJSON_IsArray(acts)) {
                snprintf(msg, msg_len, "%s: AccessKeys[%zu].Actions must be a list of action names", path, i);
                i++;
                goto bad;
            }
            size_t na = (size_t)cJSON_GetArraySize(acts);
            k->actions = calloc(na ? na : 1, sizeof *k->actions);
            if (!k->actions) { i++; goto bad; }
            const cJSON *a;
            cJSON_ArrayForEach(a, acts) {
                if (!cJSON_IsString(a)) {
                    snprintf(msg, msg_len, "%s: AccessKeys[%zu].Actions holds a non-string", path, i);
                    i++;
                    goto bad;
                }
                if (!(k->actions[k->n_actions] = strdup(a->valuestring))) { i++; goto bad; }
                k->n_actions++;
            }
        }
        i++;
    }
    cJSON_Delete(doc);
    *out = keys;
    *n_out = n;
    return 0;
bad:
    cJSON_Delete(doc);
    free_keys(keys, i);
    return -1;
}

/* Re-reads the file if it changed since the last look. Called with c->lock held. */
static void refresh(lo_http_credentials *c) {
    struct stat st;
    if (stat(c->path, &st) != 0) {
        if (c->loaded && c->seen.st_ino == 0) return;
        free_keys(c->keys, c->n_keys);
        c->keys = NULL;
        c->n_keys = 0;
        memset(&c->seen, 0, sizeof c->seen);
        c->loaded = 1;
        return;
    }
    if (c->loaded && st.st_ino == c->seen.st_ino && st.st_dev == c->seen.st_dev && st.st_size == c->seen.st_size &&
        st.st_mode == c->seen.st_mode && st.st_mtim.tv_sec == c->seen.st_mtim.tv_sec &&
        st.st_mtim.tv_nsec == c->seen.st_mtim.tv_nsec && st.st_ctim.tv_sec == c->seen.st_ctim.tv_sec &&
        st.st_ctim.tv_nsec == c->seen.st_ctim.tv_nsec)
        return;
    free_keys(c->keys, c->n_keys);
    c->keys = NULL;
    c->n_keys = 0;
    c->seen = st;
    c->loaded = 1;
    /* a key readable by others is a leaked key: refuse them all until the mode is fixed */
    if (st.st_mode & 077) {
        fprintf(stderr, "lookout serve: %s is accessible by group/others (mode %04o); no key is "
                        "accepted until you run: chmod 600 %s\n", c->path, (unsigned)(st.st_mode & 07777), c->path);
        return;
    }
    size_t len = 0;
    char *text = read_file(c->path, &len, &st);
    if (!text) {
        fprintf(stderr, "lookout serve: cannot read %s: %s; no key is accepted\n", c->path, strerror(errno));
        return;
    }
    char msg[4400];
    if (parse_store(c->path, text, len, &c->keys, &c->n_keys, msg, sizeof msg))
        fprintf(stderr, "lookout serve: %s; no key is accepted until it is fixed\n", msg);
    sodium_memzero(text, len);
    free(text);
}

lo_http_credentials *lo_http_credentials_open(const char *path) {
    lo_http_credentials *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    snprintf(c->path, sizeof c->path, "%s", path);
    pthread_mutex_init(&c->lock, NULL);
    pthread_mutex_lock(&c->lock);
    refresh(c);
    pthread_mutex_unlock(&c->lock);
    return c;
}

void lo_http_credentials_close(lo_http_credentials *c) {
    if (!c) return;
    free_keys(c->keys, c->n_keys);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static key_entry *find(lo_http_credentials *c, const char *access_key) {
    for (size_t i = 0; i < c->n_keys; i++)
        if (c->keys[i].active && strcmp(c->keys[i].access_key, access_key) == 0) return &c->keys[i];
    return NULL;
}

int lo_http_credentials_secret(void *ctx, const char *access_key, char *secret, size_t cap) {
    lo_http_credentials *c = ctx;
    pthread_mutex_lock(&c->lock);
    refresh(c);
    key_entry *k = find(c, access_key);
    int rc = -1;
    if (k && strlen(k->secret) < cap) {
        memcpy(secret, k->secret, strlen(k->secret) + 1);
        rc = 0;
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int lo_http_credentials_allows(lo_http_credentials *c, const char *access_key, const char *action,
                               char *user, size_t user_cap) {
    pthread_mutex_lock(&c->lock);
    key_entry *k = find(c, access_key);
    int ok = 0;
    if (k) {
        if (user && user_cap) snprintf(user, user_cap, "%s", k->user);
        if (!k->actions) ok = 1;
        for (size_t i = 0; k->actions && i < k->n_actions && !ok; i++)
            ok = strcmp(k->actions[i], "*") == 0 || strcasecmp(k->actions[i], "lookoutvision:*") == 0 ||
                 strcasecmp(k->actions[i], action) == 0; /* IAM action names ignore case */
    }
    pthread_mutex_unlock(&c->lock);
    return ok;
}

static void random_chars(char *out, size_t n, const char *alphabet) {
    uint32_t m = (uint32_t)strlen(alphabet);
    for (size_t i = 0; i < n; i++) out[i] = alphabet[randombytes_uniform(m)];
    out[n] = '\0';
}

static int write_all(int fd, const char *s, size_t n) {
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

int lo_http_credentials_add(const char *path, const char *user, const char *const *actions,
                            size_t n_actions, lo_http_new_key *out, char *msg, size_t msg_len) {
    if (sodium_init() < 0) { snprintf(msg, msg_len, "libsodium failed to initialise"); return -1; }
    char lock_path[4200], tmp_path[4200], dir[4096];
    snprintf(lock_path, sizeof lock_path, "%s.lock", path);
    snprintf(tmp_path, sizeof tmp_path, "%s.tmp.%ld", path, (long)getpid());
    snprintf(dir, sizeof dir, "%s", path);
    int lfd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lfd < 0 || flock(lfd, LOCK_EX) != 0) {
        snprintf(msg, msg_len, "cannot lock %s: %s", lock_path, strerror(errno));
        if (lfd >= 0) close(lfd);
        return -1;
    }
    int rc = -1;
    cJSON *doc = NULL;
    char *text = NULL;
    size_t len = 0;
    struct stat st;
    if ((text = read_file(path, &len, &st)) != NULL) {
        doc = cJSON_ParseWithLength(text, len);
        sodium_memzero(text, len);
        if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "AccessKeys"))) {
            snprintf(msg, msg_len, "%s exists but is not a lookout credentials file; move it away first", path);
            goto out;
        }
    } else if (errno == ENOENT) {
        doc = cJSON_CreateObject();
        cJSON_AddNumberToObject(doc, "Version", 1);
        cJSON_AddArrayToObject(doc, "AccessKeys");
    } else {
        snprintf(msg, msg_len, "cannot read %s: %s", path, strerror(errno));
        goto out;
    }
    memset(out, 0, sizeof *out);
    random_chars(out->access_key + 4, 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
    memcpy(out->access_key, "AKIA", 4);
    random_chars(out->secret, 40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
    snprintf(out->user, sizeof out->user, "%s", user && *user ? user : "lookout");
    out->create_date = (long long)time(NULL);
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "UserName", out->user);
    cJSON_AddStringToObject(e, "AccessKeyId", out->access_key);
    cJSON_AddStringToObject(e, "SecretAccessKey", out->secret);
    cJSON_AddStringToObject(e, "Status", "Active");
    cJSON_AddNumberToObject(e, "CreateDate", (double)out->create_date);
    cJSON *acts = cJSON_AddArrayToObject(e, "Actions");
    if (!actions || n_actions == 0) cJSON_AddItemToArray(acts, cJSON_CreateString("lookoutvision:*"));
    for (size_t i = 0; actions && i < n_actions; i++) cJSON_AddItemToArray(acts, cJSON_CreateString(actions[i]));
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(doc, "AccessKeys"), e);
    char *json = cJSON_Print(doc);
    if (!json) { snprintf(msg, msg_len, "out of memory"); goto out; }
    /* temp + fsync + rename: a crash leaves the old file or the new one, never half of it */
    int fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || fchmod(fd, 0600) || write_all(fd, json, strlen(json)) || write_all(fd, "\n", 1) || fsync(fd)) {
        snprintf(msg, msg_len, "cannot write %s: %s", tmp_path, strerror(errno));
        if (fd >= 0) close(fd);
        unlink(tmp_path);
        sodium_memzero(json, strlen(json));
        free(json);
        goto out;
    }
    close(fd);
    sodium_memzero(json, strlen(json));
    free(json);
    if (rename(tmp_path, path) != 0) {
        snprintf(msg, msg_len, "cannot rename %s to %s: %s", tmp_path, path, strerror(errno));
        unlink(tmp_path);
        goto out;
    }
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) { fsync(dfd); close(dfd); }
    rc = 0;
out:
    free(text);
    cJSON_Delete(doc); /* cJSON keeps no other copy; the secret strings go with it */
    flock(lfd, LOCK_UN);
    close(lfd);
    return rc;
}
