/* store.c — the service's on-disk primitives: atomic file replacement, locks, deletes by rename,
 * and where each piece of state lives. Every state change goes through these so a crash at any
 * instant leaves the old or the new state (DESIGN.md §3). */
#include "svc_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

int svc_fmt(char *out, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    return n;
}

double svc_now(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    /* Millisecond resolution: the wire format carries epoch seconds with a fraction. */
    return (double)tv.tv_sec + (double)(tv.tv_usec / 1000) / 1000.0;
}

int svc_fsync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static void parent_of(const char *path, char *out) {
    svc_fmt(out, SVC_PATH_MAX, "%s", path);
    char *slash = strrchr(out, '/');
    if (slash == out) out[1] = 0;
    else if (slash) *slash = 0;
    else svc_fmt(out, SVC_PATH_MAX, ".");
}

int svc_write_atomic(const char *path, const void *data, size_t len, lo_error *err) {
    char tmp[SVC_PATH_MAX + 64];
    svc_fmt(tmp, sizeof tmp, "%s.tmp.%ld.%08x", path, (long)getpid(), randombytes_random());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        lo_error_set(err, "InternalServerException", "cannot create %s: %s", tmp, strerror(errno));
        return -1;
    }
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            close(fd);
            unlink(tmp);
            lo_error_set(err, "InternalServerException", "cannot write %s: %s%s", path, strerror(e),
                         e == ENOSPC ? " (disk full: free space and retry)" : "");
            return -1;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        lo_error_set(err, "InternalServerException", "cannot flush %s: %s%s", path, strerror(e),
                     e == ENOSPC ? " (disk full: free space and retry)" : "");
        return -1;
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        lo_error_set(err, "InternalServerException", "cannot replace %s: %s", path, strerror(e));
        return -1;
    }
    char dir[SVC_PATH_MAX];
    parent_of(path, dir);
    svc_fsync_dir(dir);
    return 0;
}

int svc_write_json(const char *path, const cJSON *doc, lo_error *err) {
    char *text = cJSON_Print(doc);
    if (!text) {
        lo_error_set(err, "InternalServerException", "out of memory writing %s", path);
        return -1;
    }
    size_t n = strlen(text);
    int rc = svc_write_atomic(path, text, n, err);
    free(text);
    return rc;
}

char *svc_read_file(const char *path, size_t *len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (!buf) { close(fd); errno = ENOMEM; return NULL; }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) { int e = errno; free(buf); close(fd); errno = e; return NULL; }
        if (r == 0) break;
        n += (size_t)r;
        if (n == cap) {
            cap *= 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) free(buf);
            buf = nb;
        }
    }
    close(fd);
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

cJSON *svc_read_json(const char *path, lo_error *err) {
    char *text = svc_read_file(path, NULL);
    if (!text) return NULL;
    cJSON *doc = cJSON_Parse(text);
    free(text);
    if (!doc) {
        lo_error_set(err, "InternalServerException", "state file %s is not valid JSON", path);
        errno = EINVAL;
    }
    return doc;
}

bool svc_exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

int svc_mkdirs(const char *path, lo_error *err) {
    char buf[SVC_PATH_MAX];
    svc_fmt(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == 0) {
            char c = *p;
            *p = 0;
            if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
                lo_error_set(err, "InternalServerException", "cannot create directory %s: %s", buf,
                             strerror(errno));
                return -1;
            }
            *p = c;
            if (c == 0) break;
        }
    }
    return 0;
}

int svc_rmtree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode)) return unlink(path);
    DIR *d = opendir(path);
    if (!d) return -1;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char sub[SVC_PATH_MAX];
        int n = svc_fmt(sub, sizeof sub, "%s/%s", path, e->d_name);
        if (n < 0 || (size_t)n >= sizeof sub) { rc = -1; continue; }
        if (svc_rmtree(sub) != 0) rc = -1;
    }
    closedir(d);
    if (rmdir(path) != 0) rc = -1;
    return rc;
}

int svc_remove_atomic(lo_service *s, const char *path, lo_error *err) {
    char trash[SVC_PATH_MAX], dest[SVC_PATH_MAX + 64];
    svc_fmt(trash, sizeof trash, "%s/trash", s->home);
    if (svc_mkdirs(trash, err) != 0) return -1;
    svc_fmt(dest, sizeof dest, "%s/%ld.%08x", trash, (long)getpid(), randombytes_random());
    if (rename(path, dest) != 0) {
        lo_error_set(err, "InternalServerException", "cannot remove %s: %s", path, strerror(errno));
        return -1;
    }
    char dir[SVC_PATH_MAX];
    parent_of(path, dir);
    svc_fsync_dir(dir);
    svc_fsync_dir(trash);
    svc_rmtree(dest); /* best effort: what is left in trash is garbage, never state */
    return 0;
}

int svc_lock(const char *path, lo_error *err) {
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        lo_error_set(err, "InternalServerException", "cannot open lock %s: %s", path, strerror(errno));
        return -1;
    }
    while (flock(fd, LOCK_EX) != 0) {
        if (errno == EINTR) continue;
        lo_error_set(err, "InternalServerException", "cannot lock %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

void svc_unlock(int fd) {
    if (fd >= 0) close(fd); /* closing the only descriptor releases the flock */
}

int svc_lock_global(lo_service *s, lo_error *err) {
    char p[SVC_PATH_MAX + 16];
    svc_fmt(p, sizeof p, "%s/lock", s->home);
    return svc_lock(p, err);
}

/* Half-built folders (".new*") are only ever made under the lock that is now ours, so any found
 * here belong to a command that was killed: garbage, never state. */
static void sweep_partial(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, ".new", 4) != 0) continue;
        char sub[SVC_PATH_MAX + 300];
        svc_fmt(sub, sizeof sub, "%s/%s", dir, e->d_name);
        svc_rmtree(sub);
    }
    closedir(d);
}

void svc_sweep_partial(const char *dir) { sweep_partial(dir); }

int svc_lock_project(lo_service *s, const char *project, lo_error *err) {
    char dir[SVC_PATH_MAX], p[SVC_PATH_MAX + 16];
    svc_project_dir(s, project, dir);
    svc_fmt(p, sizeof p, "%s/lock", dir);
    if (!svc_exists(dir)) {
        lo_error_set(err, "ResourceNotFoundException", "project %s does not exist (create it with create-project)",
                     project);
        return -1;
    }
    int fd = svc_lock(p, err);
    if (fd < 0) return -1;
    /* The project may have been deleted while we waited: the lock file then lives in trash. */
    if (!svc_exists(dir)) {
        svc_unlock(fd);
        lo_error_set(err, "ResourceNotFoundException", "project %s does not exist (create it with create-project)",
                     project);
        return -1;
    }
    char sub[SVC_PATH_MAX + 16];
    svc_fmt(sub, sizeof sub, "%s/datasets", dir);
    sweep_partial(sub);
    svc_fmt(sub, sizeof sub, "%s/models", dir);
    sweep_partial(sub);
    return fd;
}

void svc_project_dir(const lo_service *s, const char *project, char *out) {
    svc_fmt(out, SVC_PATH_MAX, "%s/projects/%s", s->home, project);
}

void svc_dataset_dir(const lo_service *s, const char *project, const char *type, char *out) {
    svc_fmt(out, SVC_PATH_MAX, "%s/projects/%s/datasets/%s", s->home, project, type);
}

void svc_model_dir(const lo_service *s, const char *project, long version, char *out) {
    svc_fmt(out, SVC_PATH_MAX, "%s/projects/%s/models/%ld", s->home, project, version);
}

void svc_project_arn(const lo_service *s, const char *project, char *out, size_t cap) {
    svc_fmt(out, cap, "arn:aws:lookoutvision:%s:%s:project/%s", s->region, s->account, project);
}

void svc_model_arn(const lo_service *s, const char *project, long version, char *out, size_t cap) {
    svc_fmt(out, cap, "arn:aws:lookoutvision:%s:%s:model/%s/%ld", s->region, s->account, project, version);
}

int svc_require_project(lo_service *s, const char *project, lo_error *err) {
    char dir[SVC_PATH_MAX], p[SVC_PATH_MAX + 16];
    svc_project_dir(s, project, dir);
    svc_fmt(p, sizeof p, "%s/project.json", dir);
    if (!svc_exists(p)) {
        lo_error_set(err, "ResourceNotFoundException", "project %s does not exist (create it with create-project)",
                     project);
        return -1;
    }
    return 0;
}

char *svc_b64_encode(const uint8_t *data, size_t len) {
    size_t cap = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
    char *out = malloc(cap);
    if (out) sodium_bin2base64(out, cap, data, len, sodium_base64_VARIANT_ORIGINAL);
    return out;
}

uint8_t *svc_b64_decode(const char *text, size_t *len) {
    size_t tl = strlen(text);
    uint8_t *out = malloc(tl / 4 * 3 + 4);
    if (!out) return NULL;
    const char *end = NULL;
    if (sodium_base642bin(out, tl / 4 * 3 + 4, text, tl, " \n\r\t", len, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 || (end && *end)) {
        free(out);
        return NULL;
    }
    return out;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int svc_list_names(const char *dir, char ***names, size_t *n) {
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : -1;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(*names, cap * sizeof *nn);
            if (!nn) break;
            *names = nn;
        }
        (*names)[(*n)++] = strdup(e->d_name);
    }
    closedir(d);
    if (*n) qsort(*names, *n, sizeof **names, cmp_str);
    return 0;
}

void svc_free_names(char **names, size_t n) {
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
}
