/* http_load — load benchmark of `lookout serve`: N detect-anomalies requests (default 200) from
 * C concurrent clients (default 8), each signed with SigV4 like the AWS SDKs, latency p50/p99.
 *
 * With no arguments it builds everything itself: a temp LOOKOUT_HOME, an access key, a server on a
 * free loopback port, a project trained on 20 normal + 10 anomalous cookie photos from the shared
 * data, the model hosted; then the load, then clean-up. With --endpoint/--key/--secret/--project/
 * --version it loads an existing server whose model is already hosted. */
#define _GNU_SOURCE
#include "http/http_sigv4.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef LO_LOOKOUT_BIN
#define LO_LOOKOUT_BIN "lookout"
#endif
#ifndef LO_SHARED_DATA
#define LO_SHARED_DATA "../shared/data"
#endif

typedef struct {
    int port;
    char key[64], secret[128], region[64];
} endpoint;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); b = NULL; }
    fclose(f);
    if (b) { b[n] = '\0'; *len = (size_t)n; }
    return b;
}

/* One signed request over a fresh loopback connection (Connection: close). Returns the HTTP
 * status (-1 on a transport error) and the body in *resp (caller frees). */
static int call(const endpoint *ep, const char *method, const char *path, const char *ctype, const void *body,
                size_t body_len, char **resp) {
    *resp = NULL;
    char amz_date[17], host[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(amz_date, sizeof amz_date, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(host, sizeof host, "127.0.0.1:%d", ep->port);
    lo_http_kv h[3] = {{"Host", host}, {"X-Amz-Date", amz_date}, {"Content-Type", ctype ? ctype : ""}};
    lo_http_request rq = {method, path, NULL, 0, h, ctype ? 3 : 2, body, body_len};
    const char *signed_headers = ctype ? "content-type;host;x-amz-date" : "host;x-amz-date";
    char hash[65], sig[65], msg[256];
    lo_sigv4_sha256_hex(body ? body : (const void *)"", body_len, hash);
    char *creq = lo_sigv4_canonical_request(&rq, signed_headers, hash, msg, sizeof msg);
    if (!creq) return -1;
    char scope_date[9];
    memcpy(scope_date, amz_date, 8);
    scope_date[8] = '\0';
    lo_sigv4_sign(ep->secret, amz_date, scope_date, ep->region, "lookoutvision", creq, sig);
    free(creq);
    char head[2048];
    int hn = snprintf(head, sizeof head,
                      "%s %s HTTP/1.1\r\nHost: %s\r\nX-Amz-Date: %s\r\n%s%s%sAuthorization: AWS4-HMAC-SHA256 "
                      "Credential=%s/%s/%s/lookoutvision/aws4_request, SignedHeaders=%s, Signature=%s\r\n"
                      "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                      method, path, host, amz_date, ctype ? "Content-Type: " : "", ctype ? ctype : "",
                      ctype ? "\r\n" : "", ep->key, scope_date, ep->region, signed_headers, sig, body_len);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)ep->port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    const char *parts[2] = {head, body};
    size_t lens[2] = {(size_t)hn, body_len};
    for (int i = 0; i < 2; i++)
        for (size_t off = 0; off < lens[i];) {
            ssize_t w = send(fd, parts[i] + off, lens[i] - off, MSG_NOSIGNAL);
            if (w <= 0) { close(fd); return -1; }
            off += (size_t)w;
        }
    size_t cap = 8192, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n + 4096 > cap) buf = realloc(buf, cap *= 2);
        ssize_t r = recv(fd, buf + n, cap - n - 1, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    int status = -1;
    char *sep = strstr(buf, "\r\n\r\n");
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1 || !sep) {
        free(buf);
        return -1;
    }
    memmove(buf, sep + 4, n - (size_t)(sep + 4 - buf) + 1);
    *resp = buf;
    return status;
}

static cJSON *call_json(const endpoint *ep, const char *method, const char *path, const char *json, int want) {
    char *resp;
    int st = call(ep, method, path, json ? "application/json" : NULL, json, json ? strlen(json) : 0, &resp);
    if (st != want) {
        fprintf(stderr, "http_load: %s %s -> %d %s\n", method, path, st, resp ? resp : "");
        free(resp);
        return NULL;
    }
    cJSON *o = cJSON_Parse(resp);
    free(resp);
    return o;
}

/* ---- the load ---- */
typedef struct {
    const endpoint *ep;
    const char *path;
    int describe; /* GET DescribeModel instead of DetectAnomalies: the server's own overhead */
    char **images;
    size_t *image_len;
    int n_images;
    atomic_int next;
    int total;
    double *lat;
    atomic_int errors, anomalous;
} load;

static void *client(void *arg) {
    load *L = arg;
    for (;;) {
        int i = atomic_fetch_add(&L->next, 1);
        if (i >= L->total) break;
        int k = i % L->n_images;
        char *resp;
        double t0 = now_s();
        int st = L->describe ? call(L->ep, "GET", L->path, NULL, NULL, 0, &resp)
                             : call(L->ep, "POST", L->path, "image/jpeg", L->images[k], L->image_len[k], &resp);
        L->lat[i] = now_s() - t0;
        cJSON *o = st == 200 ? cJSON_Parse(resp) : NULL;
        if (L->describe) {
            const cJSON *md = cJSON_GetObjectItem(o, "ModelDescription");
            if (!cJSON_IsString(cJSON_GetObjectItem(md, "Status")) && atomic_fetch_add(&L->errors, 1) < 3)
                fprintf(stderr, "http_load: request %d -> %d %.200s\n", i, st, resp ? resp : "");
            cJSON_Delete(o);
            free(resp);
            continue;
        }
        const cJSON *r = cJSON_GetObjectItem(o, "DetectAnomalyResult");
        const cJSON *c = cJSON_GetObjectItem(r, "Confidence");
        if (!cJSON_IsBool(cJSON_GetObjectItem(r, "IsAnomalous")) || !cJSON_IsNumber(c) || c->valuedouble < 0 ||
            c->valuedouble > 1) {
            if (atomic_fetch_add(&L->errors, 1) < 3) fprintf(stderr, "http_load: request %d -> %d %.200s\n", i, st, resp ? resp : "");
        } else if (cJSON_IsTrue(cJSON_GetObjectItem(r, "IsAnomalous"))) {
            atomic_fetch_add(&L->anomalous, 1);
        }
        cJSON_Delete(o);
        free(resp);
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int run_load(const endpoint *ep, const char *project, const char *version, const char *data, int total,
                    int clients, int describe) {
    char path[512];
    snprintf(path, sizeof path, "/2020-11-20/projects/%s/models/%s%s", project, version, describe ? "" : "/detect");
    load L = {.ep = ep, .path = path, .total = total, .describe = describe};
    L.images = calloc(8, sizeof *L.images);
    L.image_len = calloc(8, sizeof *L.image_len);
    for (int i = 0; i < 8; i++) { /* 4 normal + 4 anomalous test photos the model never saw */
        char p[1024];
        snprintf(p, sizeof p, "%s/cookies/test/%s/test-%s-%d.jpg", data, i < 4 ? "normal" : "anomaly",
                 i < 4 ? "normal" : "anomaly", i % 4 + 1);
        if (!(L.images[L.n_images] = slurp(p, &L.image_len[L.n_images]))) {
            fprintf(stderr, "http_load: cannot read %s\n", p);
            return 1;
        }
        L.n_images++;
    }
    L.lat = calloc((size_t)total, sizeof *L.lat);
    pthread_t *th = calloc((size_t)clients, sizeof *th);
    double t0 = now_s();
    for (int i = 0; i < clients; i++) pthread_create(&th[i], NULL, client, &L);
    for (int i = 0; i < clients; i++) pthread_join(th[i], NULL);
    double wall = now_s() - t0;
    qsort(L.lat, (size_t)total, sizeof *L.lat, cmp_double);
    double sum = 0;
    for (int i = 0; i < total; i++) sum += L.lat[i];
#define PCT(p) (L.lat[(int)((p) / 100.0 * (total - 1) + 0.5)] * 1e3)
    if (describe)
        printf("http_load: %d describe-model (HTTP + SigV4 + service overhead, no inference), %d concurrent clients, "
               "%d errors\n", total, clients, atomic_load(&L.errors));
    else
        printf("http_load: %d detect-anomalies (JPEG 576x768, ~%zu KB; 4 normal + 4 anomalous test photos), %d "
               "concurrent clients, %d errors, %d judged anomalous\n", total, L.image_len[0] / 1024, clients,
               atomic_load(&L.errors), atomic_load(&L.anomalous));
    printf("http_load: wall %.2f s, %.1f req/s; latency ms: mean %.1f p50 %.1f p90 %.1f p99 %.1f max %.1f\n", wall,
           total / wall, sum / total * 1e3, PCT(50), PCT(90), PCT(99), L.lat[total - 1] * 1e3);
    for (int i = 0; i < L.n_images; i++) free(L.images[i]);
    free(L.images);
    free(L.image_len);
    free(L.lat);
    free(th);
    return atomic_load(&L.errors) ? 1 : 0;
}

/* ---- self-contained setup ---- */
static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb; (void)flag; (void)ftw;
    return remove(p);
}

static int copy_file(const char *from, const char *to) {
    size_t n;
    char *b = slurp(from, &n);
    if (!b) return -1;
    FILE *f = fopen(to, "wb");
    int ok = f && fwrite(b, 1, n, f) == n;
    if (f) fclose(f);
    free(b);
    return ok ? 0 : -1;
}

static int setup_and_run(const char *lookout, const char *data, int total, int clients) {
    char home[] = "/tmp/lookout-http-load-XXXXXX";
    if (!mkdtemp(home)) { perror("mkdtemp"); return 1; }
    setenv("LOOKOUT_HOME", home, 1);
    unsetenv("LOOKOUT_S3_ROOT");
    const char *reg = getenv("LOOKOUT_REGION");
    endpoint ep = {0};
    snprintf(ep.region, sizeof ep.region, "%s", reg && *reg ? reg : "local");
    int rc = 1;
    pid_t server = -1;
    char cmd[4096], dir[256], *out = NULL;
    snprintf(cmd, sizeof cmd, "'%s' create-access-key --user-name bench", lookout);
    FILE *p = popen(cmd, "r");
    char keyjson[2048] = "";
    size_t kn = p ? fread(keyjson, 1, sizeof keyjson - 1, p) : 0;
    keyjson[kn] = '\0';
    if (p) pclose(p);
    cJSON *k = cJSON_Parse(keyjson), *ak = cJSON_GetObjectItem(k, "AccessKey");
    if (!cJSON_IsString(cJSON_GetObjectItem(ak, "AccessKeyId"))) {
        fprintf(stderr, "http_load: `%s` gave no key: %s\n", cmd, keyjson);
        cJSON_Delete(k);
        goto out;
    }
    snprintf(ep.key, sizeof ep.key, "%s", cJSON_GetObjectItem(ak, "AccessKeyId")->valuestring);
    snprintf(ep.secret, sizeof ep.secret, "%s", cJSON_GetObjectItem(ak, "SecretAccessKey")->valuestring);
    cJSON_Delete(k);

    /* 20 normal + 10 anomalous training photos into the local S3 mirror, with a manifest */
    snprintf(dir, sizeof dir, "%s/s3", home);
    mkdir(dir, 0700);
    snprintf(dir, sizeof dir, "%s/s3/bench", home);
    mkdir(dir, 0700);
    char man_path[4400];
    snprintf(man_path, sizeof man_path, "%s/train.manifest", dir);
    FILE *man = fopen(man_path, "w");
    for (int i = 0; man && i < 30; i++) {
        const char *cls = i < 20 ? "normal" : "anomaly";
        int n = i < 20 ? i + 1 : i - 19;
        char from[2048], to[4400];
        snprintf(from, sizeof from, "%s/cookies/train/%s/%s-%d.jpg", data, cls, cls, n);
        snprintf(to, sizeof to, "%s/%s-%d.jpg", dir, cls, n);
        if (copy_file(from, to)) {
            fprintf(stderr, "http_load: cannot copy %s (is --data the shared data folder?)\n", from);
            fclose(man);
            goto out;
        }
        fprintf(man, "{\"source-ref\":\"s3://bench/%s-%d.jpg\",\"anomaly-label\":%d,\"anomaly-label-metadata\":"
                     "{\"class-name\":\"%s\",\"type\":\"groundtruth/image-classification\",\"human-annotated\":\"yes\","
                     "\"job-name\":\"bench\",\"creation-date\":\"2024-01-01T00:00:00\",\"confidence\":1}}\n",
                cls, n, i < 20 ? 0 : 1, cls);
    }
    if (!man) goto out;
    fclose(man);

    int pipefd[2];
    if (pipe(pipefd)) goto out;
    server = fork();
    if (server == 0) {
        dup2(pipefd[1], 1);
        close(pipefd[0]);
        execl(lookout, lookout, "serve", "--host", "127.0.0.1", "--port", "0", "--quiet", (char *)NULL);
        _exit(127);
    }
    close(pipefd[1]);
    FILE *sp = fdopen(pipefd[0], "r");
    char line[512] = "";
    if (!fgets(line, sizeof line, sp) || !strstr(line, "127.0.0.1:")) {
        fprintf(stderr, "http_load: lookout serve did not start (%s)\n", line);
        goto out;
    }
    ep.port = atoi(strstr(line, "127.0.0.1:") + 10);

    double t0 = now_s();
    cJSON *o;
    if (!(o = call_json(&ep, "POST", "/2020-11-20/projects", "{\"ProjectName\":\"bench\"}", 200))) goto out;
    cJSON_Delete(o);
    if (!(o = call_json(&ep, "POST", "/2020-11-20/projects/bench/datasets",
                        "{\"DatasetType\":\"train\",\"DatasetSource\":{\"GroundTruthManifest\":{\"S3Object\":"
                        "{\"Bucket\":\"bench\",\"Key\":\"train.manifest\"}}}}", 202)))
        goto out;
    cJSON_Delete(o);
    for (;;) {
        if (!(o = call_json(&ep, "GET", "/2020-11-20/projects/bench/datasets/train", NULL, 200))) goto out;
        const cJSON *st = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "DatasetDescription"), "Status");
        int done = cJSON_IsString(st) && strcmp(st->valuestring, "CREATE_COMPLETE") == 0;
        int failed = !cJSON_IsString(st) || strstr(st->valuestring, "FAILED");
        cJSON_Delete(o);
        if (failed) { fprintf(stderr, "http_load: dataset import failed\n"); goto out; }
        if (done) break;
        sleep(1);
    }
    if (!(o = call_json(&ep, "POST", "/2020-11-20/projects/bench/models",
                        "{\"OutputConfig\":{\"S3Location\":{\"Bucket\":\"bench\",\"Prefix\":\"out/\"}}}", 202)))
        goto out;
    cJSON_Delete(o);
    fprintf(stderr, "http_load: training a model on 30 photos (once, before the load)...\n");
    const char *want = "TRAINED";
    for (int started = 0;;) {
        if (!(o = call_json(&ep, "GET", "/2020-11-20/projects/bench/models/1", NULL, 200))) goto out;
        const cJSON *st = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "ModelDescription"), "Status");
        const char *s = cJSON_IsString(st) ? st->valuestring : "?";
        if (strstr(s, "FAILED")) {
            const cJSON *m = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "ModelDescription"), "StatusMessage");
            fprintf(stderr, "http_load: model %s: %s\n", s, cJSON_IsString(m) ? m->valuestring : "");
            cJSON_Delete(o);
            goto out;
        }
        int reached = strcmp(s, want) == 0;
        cJSON_Delete(o);
        if (reached && started) break;
        if (reached) {
            fprintf(stderr, "http_load: trained in %.0f s; starting the model\n", now_s() - t0);
            if (!(o = call_json(&ep, "POST", "/2020-11-20/projects/bench/models/1/start", "{\"MinInferenceUnits\":1}", 202)))
                goto out;
            cJSON_Delete(o);
            started = 1;
            want = "HOSTED";
            continue;
        }
        sleep(1);
    }
    rc = run_load(&ep, "bench", "1", data, total, clients, 0);
    rc |= run_load(&ep, "bench", "1", data, 2000, clients, 1);
out:
    free(out);
    if (server > 0) {
        kill(server, SIGTERM);
        waitpid(server, NULL, 0);
    }
    nftw(home, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return rc;
}

int main(int argc, char **argv) {
    const char *lookout = LO_LOOKOUT_BIN, *data = LO_SHARED_DATA, *project = NULL, *version = "1";
    int total = 200, clients = 8;
    endpoint ep = {0};
    snprintf(ep.region, sizeof ep.region, "local");
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (!strcmp(a, "--lookout")) lookout = v;
        else if (!strcmp(a, "--data")) data = v;
        else if (!strcmp(a, "--requests")) total = atoi(v);
        else if (!strcmp(a, "--clients")) clients = atoi(v);
        else if (!strcmp(a, "--port")) ep.port = atoi(v);
        else if (!strcmp(a, "--key")) snprintf(ep.key, sizeof ep.key, "%s", v);
        else if (!strcmp(a, "--secret")) snprintf(ep.secret, sizeof ep.secret, "%s", v);
        else if (!strcmp(a, "--region")) snprintf(ep.region, sizeof ep.region, "%s", v);
        else if (!strcmp(a, "--project")) project = v;
        else if (!strcmp(a, "--version")) version = v;
        else {
            fprintf(stderr, "usage: http_load [--lookout BIN] [--data DIR] [--requests 200] [--clients 8]\n"
                            "       http_load --port P --key AK --secret SK [--region local] --project P [--version 1] ...\n");
            return 2;
        }
    }
    if (argc % 2 == 0 || total < 1 || clients < 1) {
        fprintf(stderr, "http_load: options come in pairs; --requests/--clients must be >= 1\n");
        return 2;
    }
    if (sodium_init() < 0) return 1;
    signal(SIGPIPE, SIG_IGN);
    if (project) return run_load(&ep, project, version, data, total, clients, 0) | run_load(&ep, project, version, data, 2000, clients, 1);
    return setup_and_run(lookout, data, total, clients);
}
