/* svc_test.h — helpers for the service tests: a fresh LOOKOUT_HOME per test program, calls by
 * JSON text, and checks that count failures (the program exits non-zero if any failed). */
#ifndef LOOKOUT_SVC_TEST_H
#define LOOKOUT_SVC_TEST_H

#include "service/service.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int t_failures = 0;
static lo_error t_err;
static char t_home[256];

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            t_failures++;                                                                          \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond);               \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
        }                                                                                          \
    } while (0)

__attribute__((unused)) static void t_rm_rf(const char *path) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", path);
}

/* A fresh home; LOOKOUT_S3_ROOT defaults inside it. */
__attribute__((unused)) static void t_setup(const char *name) {
    snprintf(t_home, sizeof t_home, "/tmp/lo-svc-%s-XXXXXX", name);
    if (!mkdtemp(t_home)) {
        perror("mkdtemp");
        exit(2);
    }
    setenv("LOOKOUT_HOME", t_home, 1);
    unsetenv("LOOKOUT_S3_ROOT");
    unsetenv("LOOKOUT_REGION");
    unsetenv("LOOKOUT_ACCOUNT_ID");
}

__attribute__((unused)) static int t_finish(void) {
    if (t_failures == 0) t_rm_rf(t_home);
    else fprintf(stderr, "%d check(s) failed; state kept in %s\n", t_failures, t_home);
    return t_failures ? 1 : 0;
}

/* Calls op with printf-formatted JSON input; returns the output (caller frees) or NULL with t_err. */
static cJSON *t_call(lo_service *s, const char *op, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static cJSON *t_call(lo_service *s, const char *op, const char *fmt, ...) {
    char buf[16384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    cJSON *in = cJSON_Parse(buf);
    if (!in) {
        fprintf(stderr, "test bug: bad JSON for %s: %s\n", op, buf);
        exit(2);
    }
    cJSON *out = NULL;
    memset(&t_err, 0, sizeof t_err);
    int rc = lo_service_call(s, op, in, NULL, 0, &out, &t_err);
    cJSON_Delete(in);
    if (rc != 0 && out) {
        fprintf(stderr, "%s: error with output\n", op);
        t_failures++;
    }
    return rc == 0 ? out : NULL;
}

#define EXPECT_OK(out, s, op, ...)                                                                 \
    do {                                                                                           \
        out = t_call(s, op, __VA_ARGS__);                                                          \
        CHECK(out != NULL, "%s failed: %s: %s", op, t_err.type, t_err.message);                   \
    } while (0)

/* Expects the call to fail with `type` and a message containing `needle` (may be NULL). */
#define EXPECT_ERR(etype_, needle_, s, op, ...)                                                   \
    do {                                                                                           \
        cJSON *o_ = t_call(s, op, __VA_ARGS__);                                                    \
        const char *n_ = (needle_);                                                                \
        CHECK(o_ == NULL, "%s should have failed with %s", op, etype_);                            \
        cJSON_Delete(o_);                                                                          \
        if (!o_) {                                                                                 \
            CHECK(!strcmp(t_err.type, etype_), "%s: expected %s, got %s: %s", op, etype_,          \
                  t_err.type, t_err.message);                                                      \
            CHECK(n_ == NULL || strstr(t_err.message, n_) != NULL, "%s: message \"%s\" lacks \"%s\"", \
                  op, t_err.message, n_ ? n_ : "");                                                \
        }                                                                                          \
    } while (0)

/* Dotted path lookup: "ModelMetadata.Status". */
__attribute__((unused)) static const cJSON *t_get(const cJSON *o, const char *path) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *tok = strtok(buf, "."); tok && o; tok = strtok(NULL, ".")) o = cJSON_GetObjectItemCaseSensitive(o, tok);
    return o;
}

__attribute__((unused)) static const char *t_str(const cJSON *o, const char *path) {
    const cJSON *v = t_get(o, path);
    return cJSON_IsString(v) ? v->valuestring : "";
}

__attribute__((unused)) static double t_num(const cJSON *o, const char *path) {
    const cJSON *v = t_get(o, path);
    return cJSON_IsNumber(v) ? v->valuedouble : -1e300;
}

__attribute__((unused)) static lo_service *t_open(void) {
    lo_error e;
    lo_service *s = lo_service_open(&e);
    if (!s) {
        fprintf(stderr, "lo_service_open: %s\n", e.message);
        exit(2);
    }
    return s;
}

/* Writes an executable shell script (a stand-in training worker). */
__attribute__((unused)) static void t_write_script(const char *path, const char *body) {
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(2);
    }
    fprintf(f, "#!/bin/sh\n%s\n", body);
    fclose(f);
    chmod(path, 0755);
}

#endif
