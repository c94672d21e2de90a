/* http_serve.c — `lookout serve`: the Lookout for Vision REST-JSON endpoint over libmicrohttpd.
 * One thread per connection, so a slow client or a slow inference holds only its own thread;
 * idle connections are dropped after --timeout seconds; bodies are bounded per operation. */
#include "http.h"
#include "http_credentials.h"
#include "http_hosting.h"
#include "http_route.h"
#include "http_sigv4.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#define USAGE_EXIT 252
/* An oversized body is read and thrown away (so the client sees our 413, not a reset) up to this
 * multiple of the limit; beyond it we answer from the headers and close. */
#define DRAIN_FACTOR 4

typedef struct {
    lo_service *svc;
    lo_http_credentials *creds;
    char region[64];
    char account[32];
    int quiet;
} server;

typedef struct {
    size_t limit;
    uint8_t *body;
    size_t len, cap, received;
    int too_large;
    struct timeval start;
} conn_state;

typedef struct {
    lo_http_kv *kv;
    size_t n, cap;
    int oom;
} kv_vec;

/* ---- responses ---- */

static void request_id(char out[37]) {
    unsigned char r[16];
    randombytes_buf(r, sizeof r);
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1],
             r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
}

static enum MHD_Result send_json(struct MHD_Connection *c, int status, char *json, const char *error_type) {
    size_t n = strlen(json);
    struct MHD_Response *r = MHD_create_response_from_buffer(n, json, MHD_RESPMEM_MUST_FREE);
    if (!r) { free(json); return MHD_NO; }
    char rid[37];
    request_id(rid);
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "x-amzn-RequestId", rid);
    if (error_type) MHD_add_response_header(r, "x-amzn-ErrorType", error_type);
    if (error_type && (status == 429 || status == 500 || status == 503))
        MHD_add_response_header(r, "Retry-After", "1");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

/* botocore reads the code from x-amzn-ErrorType and the text from "message" (or "Message"). */
static enum MHD_Result send_error(struct MHD_Connection *c, const lo_error *e) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "message", e->message);
    cJSON_AddStringToObject(o, "Message", e->message);
    char *json = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!json) return MHD_NO;
    return send_json(c, e->http_status ? e->http_status : 500, json, e->type[0] ? e->type : "InternalServerException");
}

static void set_error(lo_error *e, const char *type, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void set_error(lo_error *e, const char *type, int status, const char *fmt, ...) {
    snprintf(e->type, sizeof e->type, "%s", type);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    e->http_status = status;
}

/* The service fills http_status from the exception name; keep a sane one if it did not. */
static int status_for(const lo_error *e) {
    static const struct { const char *type; int status; } map[] = {
        {"ValidationException", 400}, {"ServiceQuotaExceededException", 402}, {"AccessDeniedException", 403},
        {"ResourceNotFoundException", 404}, {"ConflictException", 409}, {"ThrottlingException", 429},
        {"InternalServerException", 500}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(e->type, map[i].type) == 0) return map[i].status;
    return e->http_status >= 400 && e->http_status < 600 ? e->http_status : 500;
}

/* ---- request assembly ---- */

static enum MHD_Result collect_kv(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
    (void)kind;
    kv_vec *v = cls;
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        lo_http_kv *p = realloc(v->kv, cap * sizeof *p);
        if (!p) { v->oom = 1; return MHD_NO; }
        v->kv = p;
        v->cap = cap;
    }
    v->kv[v->n].name = key;
    v->kv[v->n].value = value;
    v->n++;
    return MHD_YES;
}

/* Identity: we decode path labels and query values ourselves, after SigV4 has seen them raw
 * (an ARN label arrives as arn%3Aaws%3A... and must not be split at its '/'). */
static size_t keep_escaped(void *cls, struct MHD_Connection *c, char *s) {
    (void)cls;
    (void)c;
    return strlen(s);
}

static double ms_since(const struct timeval *t0) {
    struct timeval t1;
    gettimeofday(&t1, NULL);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_usec - t0->tv_usec) / 1e3;
}

static const char *sigv4_error_type(lo_sigv4_status st) {
    switch (st) {
    case LO_SIGV4_MISSING: return "MissingAuthenticationTokenException";
    case LO_SIGV4_INCOMPLETE: return "IncompleteSignatureException";
    case LO_SIGV4_UNRECOGNIZED: return "UnrecognizedClientException";
    default: return "InvalidSignatureException";
    }
}

/* Everything after the body has arrived: authenticate, route, authorize, call the service. */
static enum MHD_Result handle(server *srv, struct MHD_Connection *c, const char *url, const char *method,
                              conn_state *cs, int *status_out, const char **op_out, char *akid) {
    kv_vec headers = {0}, query = {0};
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_kv, &headers);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_kv, &query);
    lo_http_request rq = {method, url, query.kv, query.n, headers.kv, headers.n, cs->body, cs->len};
    lo_error e = {0};
    cJSON *input = NULL, *output = NULL;
    lo_http_labels labels = {0};
    enum MHD_Result ret;
    const lo_http_op *op = NULL;
    if (headers.oom || query.oom) {
        set_error(&e, "InternalServerException", 500, "out of memory reading the request");
        goto fail;
    }
    char msg[1024];
    lo_sigv4_status st = lo_sigv4_verify(&rq, srv->region, "lookoutvision", time(NULL), lo_http_credentials_secret,
                                         srv->creds, akid, 129, msg, sizeof msg);
    if (st != LO_SIGV4_OK) {
        set_error(&e, sigv4_error_type(st), 403, "%s", msg);
        goto fail;
    }
    int path_known = 0;
    op = lo_http_route(method, url, &labels, &path_known);
    if (!op) {
        if (path_known)
            set_error(&e, "ValidationException", 405, "%s is not allowed on %s", method, url);
        else
            set_error(&e, "ResourceNotFoundException", 404,
                      "no lookoutvision operation matches %s %s (paths start with /2020-11-20/)", method, url);
        goto fail;
    }
    *op_out = op->name;
    const uint8_t *blob;
    size_t blob_len;
    if (lo_http_build_input(op, &rq, &labels, &input, &blob, &blob_len, &e)) goto fail;
    char actions[2][64];
    int n_actions = lo_http_required_actions(op, input, actions);
    for (int i = 0; i < n_actions; i++) {
        char user[128] = "lookout";
        if (!lo_http_credentials_allows(srv->creds, akid, actions[i], user, sizeof user)) {
            set_error(&e, "AccessDeniedException", 403,
                      "User: arn:aws:iam::%s:user/%s is not authorized to perform: %s%s (access key %s; "
                      "create a key with `lookout create-access-key --actions ...` that includes it)",
                      srv->account, user, actions[i],
                      i ? " (CreateModel with Tags also tags the model)" : "", akid);
            goto fail;
        }
    }
    if (lo_service_call(srv->svc, op->name, input, blob, blob_len, &output, &e)) {
        e.http_status = status_for(&e);
        goto fail;
    }
    char *json = output ? cJSON_PrintUnformatted(output) : strdup("{}");
    if (!json) {
        set_error(&e, "InternalServerException", 500, "out of memory writing the response");
        goto fail;
    }
    *status_out = op->success_code;
    ret = send_json(c, op->success_code, json, NULL);
    goto done;
fail:
    *status_out = e.http_status;
    ret = send_error(c, &e);
done:
    cJSON_Delete(input);
    cJSON_Delete(output);
    lo_http_labels_free(&labels);
    free(headers.kv);
    free(query.kv);
    return ret;
}

static void log_line(server *srv, const char *method, const char *url, int status, const char *op,
                     const char *akid, const conn_state *cs) {
    if (srv->quiet) return;
    /* never the Authorization header or a secret: the access key id is the public half */
    fprintf(stderr, "lookout serve: %s %s -> %d %s %.1f ms%s%s\n", method, url, status, op ? op : "-",
            ms_since(&cs->start), akid && *akid ? " key=" : "", akid ? akid : "");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
    (void)version;
    server *srv = cls;
    conn_state *cs = *con_cls;
    if (!cs) {
        cs = calloc(1, sizeof *cs);
        if (!cs) return MHD_NO;
        *con_cls = cs;
        gettimeofday(&cs->start, NULL);
        cs->limit = lo_http_body_limit_for(method, url);
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        unsigned long long declared = cl ? strtoull(cl, NULL, 10) : 0;
        if (declared > cs->limit) {
            cs->too_large = 1;
            if (declared > (unsigned long long)cs->limit * DRAIN_FACTOR) {
                lo_error e;
                set_error(&e, "ValidationException", 413, "request body of %llu bytes is over the %zu-byte "
                          "limit (%s)", declared, cs->limit,
                          cs->limit == LO_HTTP_MAX_IMAGE_BODY ? "detect-anomalies images are at most 8 MB"
                                                              : "JSON requests are at most 10 MB");
                log_line(srv, method, url, 413, NULL, NULL, cs);
                return send_error(c, &e);
            }
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        cs->received += n;
        *upload_data_size = 0;
        if (!cs->too_large && cs->len + n > cs->limit) {
            cs->too_large = 1;
            free(cs->body);
            cs->body = NULL;
            cs->len = cs->cap = 0;
        }
        if (cs->too_large) return cs->received > cs->limit * DRAIN_FACTOR ? MHD_NO : MHD_YES;
        if (cs->len + n > cs->cap) {
            size_t cap = cs->cap ? cs->cap : 4096;
            while (cap < cs->len + n) cap *= 2;
            if (cap > cs->limit) cap = cs->limit;
            uint8_t *p = realloc(cs->body, cap);
            if (!p) return MHD_NO;
            cs->body = p;
            cs->cap = cap;
        }
        memcpy(cs->body + cs->len, upload_data, n);
        cs->len += n;
        return MHD_YES;
    }
    if (cs->too_large) {
        lo_error e;
        size_t got = cs->received;
        set_error(&e, "ValidationException", 413, "request body of %zu bytes is over the %zu-byte limit (%s)",
                  got, cs->limit,
                  cs->limit == LO_HTTP_MAX_IMAGE_BODY ? "detect-anomalies images are at most 8 MB"
                                                      : "JSON requests are at most 10 MB");
        log_line(srv, method, url, 413, NULL, NULL, cs);
        return send_error(c, &e);
    }
    int status = 500;
    const char *op = NULL;
    char akid[129] = "";
    enum MHD_Result r = handle(srv, c, url, method, cs, &status, &op, akid);
    log_line(srv, method, url, status, op, akid, cs);
    return r;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
    (void)cls;
    (void)c;
    (void)toe;
    conn_state *cs = *con_cls;
    if (cs) {
        free(cs->body);
        free(cs);
    }
    *con_cls = NULL;
}

/* ---- command line ---- */

static void usage(FILE *f) {
    fprintf(f,
            "usage: lookout serve [--host 127.0.0.1] [--port 8088] [--timeout 30] [--max-connections 256] [--quiet]\n\n"
            "Serves the Amazon Lookout for Vision API (REST-JSON, 2020-11-20) so the AWS CLI and SDKs work\n"
            "with --endpoint-url http://HOST:PORT. Requests must be signed (SigV4, service lookoutvision,\n"
            "region $LOOKOUT_REGION, default local) with a key from `lookout create-access-key`.\n"
            "--port 0 picks a free port; the address is printed on stdout. Stops on SIGINT/SIGTERM.\n");
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out) {
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || *end || errno || v > max || *s == '-') return -1;
    *out = v;
    return 0;
}

int lo_http_serve_main(int argc, char **argv) {
    const char *host = "127.0.0.1", *port = "8088";
    unsigned long timeout = 30, max_conn = 256;
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 || strcmp(a, "help") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--quiet") == 0) { quiet = 1; continue; }
        if (i + 1 >= argc || (strcmp(a, "--host") && strcmp(a, "--port") && strcmp(a, "--timeout") &&
                              strcmp(a, "--max-connections"))) {
            fprintf(stderr, "lookout serve: %s '%s'\n\n", i + 1 >= argc && a[0] == '-' ? "missing value for" : "unknown option", a);
            usage(stderr);
            return USAGE_EXIT;
        }
        const char *v = argv[++i];
        unsigned long tmp;
        if (strcmp(a, "--host") == 0) host = v;
        else if (strcmp(a, "--port") == 0) {
            if (parse_uint(v, 65535, &tmp)) {
                fprintf(stderr, "lookout serve: --port '%s' must be 0-65535\n", v);
                return USAGE_EXIT;
            }
            port = v;
        } else if (strcmp(a, "--timeout") == 0) {
            if (parse_uint(v, 86400, &timeout) || timeout == 0) {
                fprintf(stderr, "lookout serve: --timeout '%s' must be 1-86400 seconds\n", v);
                return USAGE_EXIT;
            }
        } else if (parse_uint(v, 10000, &max_conn) || max_conn == 0) {
            fprintf(stderr, "lookout serve: --max-connections '%s' must be 1-10000\n", v);
            return USAGE_EXIT;
        }
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "lookout serve: libsodium failed to initialise\n");
        return 255;
    }
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(host, port, &hints, &ai);
    if (gai) {
        fprintf(stderr, "lookout serve: --host '%s': %s\n", host, gai_strerror(gai));
        return USAGE_EXIT;
    }

    server srv = {0};
    srv.quiet = quiet;
    const char *region = getenv("LOOKOUT_REGION"), *account = getenv("LOOKOUT_ACCOUNT_ID");
    snprintf(srv.region, sizeof srv.region, "%s", region && *region ? region : "local");
    snprintf(srv.account, sizeof srv.account, "%s", account && *account ? account : "000000000000");
    lo_error err = {0};
    srv.svc = lo_service_open(&err);
    if (!srv.svc) {
        fprintf(stderr, "lookout serve: %s: %s\n", err.type, err.message);
        freeaddrinfo(ai);
        return 255;
    }
    char home[4096], cred_path[4200];
    const char *svc_home = lo_service_home(srv.svc);
    if (svc_home && *svc_home) snprintf(home, sizeof home, "%s", svc_home);
    else if (lo_http_home_dir(home, sizeof home)) {
        fprintf(stderr, "lookout serve: set LOOKOUT_HOME (or HOME)\n");
        lo_service_close(srv.svc);
        freeaddrinfo(ai);
        return 255;
    }
    snprintf(cred_path, sizeof cred_path, "%s/credentials", home);
    srv.creds = lo_http_credentials_open(cred_path);
    if (!srv.creds) {
        lo_service_close(srv.svc);
        freeaddrinfo(ai);
        return 255;
    }
    lo_http_restore_hosted(srv.svc);

    /* signals are taken by sigwait below; every thread MHD starts inherits the mask */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, &srv, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)timeout, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)max_conn,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, NULL,
        MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!d) {
        fprintf(stderr, "lookout serve: cannot listen on %s port %s: %s (in use? try another --port)\n", host, port,
                strerror(errno));
        lo_http_credentials_close(srv.creds);
        lo_service_close(srv.svc);
        return 255;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned bound = info ? info->port : 0;
    int v6 = strchr(host, ':') != NULL;
    printf("lookout serve: listening on http://%s%s%s:%u (region %s)\n", v6 ? "[" : "", host, v6 ? "]" : "", bound,
           srv.region);
    fflush(stdout);
    int sig = 0;
    while (sigwait(&set, &sig) == 0 && sig != SIGINT && sig != SIGTERM) {
        /* SIGHUP: nothing to reload (credentials are re-read on change) */
    }
    if (!quiet) fprintf(stderr, "lookout serve: signal %d, stopping\n", sig);
    MHD_stop_daemon(d);
    lo_http_credentials_close(srv.creds);
    lo_service_close(srv.svc);
    return 0;
}
