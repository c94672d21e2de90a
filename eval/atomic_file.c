/* atomic_file.c — crash-safe file replacement: a reader sees the old file or the new one, never a
 * torn one (temp file in the same directory, fsync, rename, fsync of the directory). */
#include "eval_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* mkdir -p of the directory part of path. */
static int make_parents(const char *path, lev_error *err)
{
    char *dir = strdup(path);
    if (!dir)
        return lev__fail(err, "%s: out of memory", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) {
        free(dir);
        return 0;
    }
    *slash = 0;
    for (char *p = dir + 1; ; p++) {
        if (*p == '/' || *p == 0) {
            char c = *p;
            *p = 0;
            if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
                lev__fail(err, "%s: cannot create directory %s: %s", path, dir, strerror(errno));
                free(dir);
                return -1;
            }
            *p = c;
            if (c == 0)
                break;
        }
    }
    free(dir);
    return 0;
}

static int fsync_dir_of(const char *path)
{
    char *dir = strdup(path);
    if (!dir)
        return -1;
    char *slash = strrchr(dir, '/');
    const char *d = ".";
    if (slash) {
        if (slash == dir)
            slash[1] = 0;
        else
            *slash = 0;
        d = dir;
    }
    int fd = open(d, O_RDONLY | O_DIRECTORY);
    int rc = -1;
    if (fd >= 0) {
        rc = fsync(fd);
        close(fd);
    }
    free(dir);
    return rc;
}

int lev__write_atomic(const char *path, const void *data, size_t len, lev_error *err)
{
    if (!path || !*path)
        return lev__fail(err, "no output path given");
    if (make_parents(path, err) != 0)
        return -1;
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 64);
    if (!tmp)
        return lev__fail(err, "%s: out of memory", path);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(tmp, plen + 64, "%s.tmp.%ld.%ld", path, (long)getpid(), (long)ts.tv_nsec);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        lev__fail(err, "%s: cannot create temporary file %s: %s", path, tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            goto fail;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0)
        goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0)
        goto fail;
    free(tmp);
    if (fsync_dir_of(path) != 0)
        return lev__fail(err, "%s: written, but syncing its directory failed: %s", path, strerror(errno));
    return 0;
fail:
    lev__fail(err, "%s: write failed: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    free(tmp);
    return -1;
}

void lev__iso_time(int64_t epoch_s, char out[40])
{
    time_t t = (time_t)epoch_s;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, 40, "%Y-%m-%dT%H:%M:%S.000000", &tm) == 0)
        snprintf(out, 40, "1970-01-01T00:00:00.000000");
}
