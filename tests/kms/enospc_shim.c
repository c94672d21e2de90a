/* LD_PRELOAD shim for the disk-full test: write() and pwrite() to a file whose path contains
 * one of the ':'-separated strings in LOOKOUT_TEST_ENOSPC fail with ENOSPC, as on a full disk.
 * Everything else goes through. The worker inherits it from create-model's environment. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int full(int fd) {
    const char *pat = getenv("LOOKOUT_TEST_ENOSPC");
    if (!pat || !*pat || fd < 3) return 0;
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0) return 0;
    path[n] = 0;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", pat);
    for (char *save = NULL, *tok = strtok_r(buf, ":", &save); tok; tok = strtok_r(NULL, ":", &save))
        if (strstr(path, tok)) return 1;
    return 0;
}

ssize_t write(int fd, const void *data, size_t len) {
    static ssize_t (*real)(int, const void *, size_t);
    if (!real) real = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    if (full(fd)) {
        errno = ENOSPC;
        return -1;
    }
    return real(fd, data, len);
}

ssize_t pwrite(int fd, const void *data, size_t len, off_t off) {
    static ssize_t (*real)(int, const void *, size_t, off_t);
    if (!real) real = (ssize_t(*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
    if (full(fd)) {
        errno = ENOSPC;
        return -1;
    }
    return real(fd, data, len, off);
}
