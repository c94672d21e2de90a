/* fs_util.c — errors, whole-file I/O, recursive mkdir/delete, and path containment checks that
 * keep every source-ref inside its S3 root or image folder. */
#include "lds_internal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void lds_set_error(lds_error *err, const char *fmt, ...)
{
    if (!err) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

void lds_prefix_error(lds_error *err, const char *prefix)
{
    if (!err) return;
    char tmp[sizeof err->message];
    size_t lp = strlen(prefix), lm = strnlen(err->message, sizeof err->message - 1);
    if (lp > sizeof tmp - 3) lp = sizeof tmp - 3;
    memcpy(tmp, prefix, lp);
    tmp[lp] = ':';
    tmp[lp + 1] = ' ';
    size_t room = sizeof tmp - lp - 3;
    if (lm > room) lm = room;
    memcpy(tmp + lp + 2, err->message, lm);
    tmp[lp + 2 + lm] = 0;
    memcpy(err->message, tmp, sizeof tmp);
}

void lds_add_warning(lds_error *w, const char *fmt, ...)
{
    if (!w) return;
    size_t used = strnlen(w->message, sizeof w->message);
    if (used + 2 >= sizeof w->message) return;
    if (used) w->message[used++] = '\n';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->message + used, sizeof w->message - used, fmt, ap);
    va_end(ap);
}

uint8_t *lds_read_file(const char *path, size_t max_bytes, size_t *out_len, lds_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        lds_set_error(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        lds_set_error(err, "%s: not a regular file", path);
        close(fd);
        return NULL;
    }
    /* an envelope is a little larger than what it holds; the limit applies to the content */
    size_t max_read = max_bytes > SIZE_MAX - LDS_ENVELOPE_OVERHEAD ? max_bytes : max_bytes + LDS_ENVELOPE_OVERHEAD;
    if ((uint64_t)st.st_size > max_read) {
        lds_set_error(err, "%s: file is %lld bytes, over the limit of %zu bytes", path,
                      (long long)st.st_size, max_bytes);
        close(fd);
        return NULL;
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = malloc(n + 1); /* +1: room for a NUL so text users can treat it as a string */
    if (!buf) {
        lds_set_error(err, "%s: out of memory reading %zu bytes", path, n);
        close(fd);
        return NULL;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (got != n) {
        lds_set_error(err, "%s: short read (%zu of %zu bytes)", path, got, n);
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    if (lds_is_encrypted(buf, n)) {
        size_t plen = 0;
        uint8_t *plain = lds_envelope_open_current(buf, n, path, &plen, err);
        free(buf);
        if (!plain) return NULL;
        buf = plain;
        n = plen;
    }
    if (n > max_bytes) {
        lds_set_error(err, "%s: file is %zu bytes, over the limit of %zu bytes", path, n, max_bytes);
        free(buf);
        return NULL;
    }
    *out_len = n;
    return buf;
}

int lds_write_file(const char *path, const void *data, size_t len, lds_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        lds_set_error(err, "%s: cannot create: %s", path, strerror(errno));
        return -1;
    }
    const uint8_t *p = data;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, p + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            lds_set_error(err, "%s: write failed: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        done += (size_t)w;
    }
    if (close(fd) != 0) {
        lds_set_error(err, "%s: close failed: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int lds_mkdir_p(const char *path, lds_error *err)
{
    char buf[PATH_MAX];
    if (strlen(path) >= sizeof buf) {
        lds_set_error(err, "%s: path too long", path);
        return -1;
    }
    strcpy(buf, path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
            lds_set_error(err, "%s: cannot create directory: %s", buf, strerror(errno));
            return -1;
        }
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
        lds_set_error(err, "%s: cannot create directory: %s", buf, strerror(errno));
        return -1;
    }
    return 0;
}

void lds_rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d))) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
                char *sub = lds_path_join(path, e->d_name);
                if (sub) lds_rm_rf(sub);
                free(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

char *lds_path_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    while (la > 1 && a[la - 1] == '/') la--;
    char *s = malloc(la + lb + 2);
    if (!s) return NULL;
    memcpy(s, a, la);
    s[la] = '/';
    memcpy(s + la + 1, b, lb + 1);
    return s;
}

char *lds_resolve_inside(const char *root, const char *rel, const char *what, lds_error *err)
{
    if (rel[0] == '/') {
        lds_set_error(err, "%s: '%s' is an absolute path; it must be relative to %s", what, rel, root);
        return NULL;
    }
    /* Reject ".." and empty components before touching the file system: the message is clearer
     * than "outside the root", and a missing file must not hide an escape attempt. */
    for (const char *p = rel; *p;) {
        const char *q = strchr(p, '/');
        size_t n = q ? (size_t)(q - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            lds_set_error(err, "%s: '%s' contains '..'; paths may not leave %s", what, rel, root);
            return NULL;
        }
        if (n == 0) {
            lds_set_error(err, "%s: '%s' has an empty path component", what, rel);
            return NULL;
        }
        if (n == 1 && p[0] == '.') {
            lds_set_error(err, "%s: '%s' has a '.' path component", what, rel);
            return NULL;
        }
        if (!q) break;
        p = q + 1;
    }
    char *real_root = realpath(root, NULL);
    if (!real_root) {
        lds_set_error(err, "%s: root directory %s: %s", what, root, strerror(errno));
        return NULL;
    }
    char *joined = lds_path_join(real_root, rel);
    char *real = joined ? realpath(joined, NULL) : NULL;
    if (!real) {
        lds_set_error(err, "%s: %s does not exist or cannot be read (%s)", what, joined ? joined : rel,
                      strerror(errno));
        free(joined);
        free(real_root);
        return NULL;
    }
    size_t lr = strlen(real_root);
    int inside = strncmp(real, real_root, lr) == 0 && (real[lr] == '/' || (lr == 1 && real_root[0] == '/'));
    if (!inside) {
        lds_set_error(err, "%s: '%s' resolves to %s, outside %s (symlink escape refused)", what, rel, real,
                      real_root);
        free(real);
        real = NULL;
    }
    free(joined);
    free(real_root);
    return real;
}

char *lds_resolve_s3(const char *s3_root, const char *uri, const char *what, lds_error *err)
{
    if (strncmp(uri, "s3://", 5) != 0) {
        lds_set_error(err, "%s: '%s' is not an s3://BUCKET/KEY URI", what, uri);
        return NULL;
    }
    const char *b = uri + 5;
    const char *slash = strchr(b, '/');
    if (!slash || slash == b || !slash[1]) {
        lds_set_error(err, "%s: '%s' needs both a bucket and a key (s3://BUCKET/KEY)", what, uri);
        return NULL;
    }
    /* The characters of S3 bucket names (DESIGN's Bucket pattern; the 3-character minimum is not
     * enforced, local mirrors use short names); "." and ".." are not buckets. */
    size_t bl = (size_t)(slash - b);
    int bucket_ok = bl <= 63 && strncmp(b, "./", 2) != 0 && strncmp(b, "../", 3) != 0;
    for (size_t i = 0; bucket_ok && i < bl; i++)
        bucket_ok = isalnum((unsigned char)b[i]) || b[i] == '.' || b[i] == '-' || b[i] == '_';
    if (!bucket_ok) {
        lds_set_error(err, "%s: '%s': the bucket '%.*s' is not a valid S3 bucket name (up to 63 of a-z A-Z 0-9 . - _, not '.' or '..')",
                      what, uri, (int)(bl > 80 ? 80 : bl), b);
        return NULL;
    }
    if (!s3_root || !*s3_root) {
        lds_set_error(err, "%s: no S3 root set ($LOOKOUT_S3_ROOT) to resolve '%s'", what, uri);
        return NULL;
    }
    return lds_resolve_inside(s3_root, b, what, err);
}

double lds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

uint64_t lds_rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double lds_rng_uniform(uint64_t *s)
{
    return (double)(lds_rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

float lds_rng_normal(uint64_t *s)
{
    double u1 = lds_rng_uniform(s), u2 = lds_rng_uniform(s);
    if (u1 < 1e-12) u1 = 1e-12;
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}
