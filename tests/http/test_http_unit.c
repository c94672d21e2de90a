/* Unit tests of the HTTP room without a socket: SigV4 against AWS's documented example and its
 * failure modes, canonicalization edge cases, the route table against botocore's service model
 * (argv[1] = lookoutvision/2020-11-20/service-2.json), and request assembly. */
#include "http/http_route.h"
#include "http/http_sigv4.h"

#include <cjson/cJSON.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
#define CHECK(c, ...)                                                              \
    do {                                                                           \
        if (!(c)) {                                                                \
            failures++;                                                            \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #c);  \
            fprintf(stderr, __VA_ARGS__);                                          \
            fputc('\n', stderr);                                                   \
        }                                                                          \
    } while (0)

/* ---- SigV4: the example of AWS's "Create a signed AWS API request" page (IAM ListUsers) ---- */
static const char *EX_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

static int ex_secret(void *ctx, const char *ak, char *secret, size_t cap) {
    (void)ctx;
    if (strcmp(ak, "AKIDEXAMPLE") != 0) return -1;
    snprintf(secret, cap, "%s", EX_SECRET);
    return 0;
}

static void test_sigv4_example(void) {
    lo_http_kv q[] = {{"Version", "2010-05-08"}, {"Action", "ListUsers"}}; /* order must not matter */
    char auth[512];
    lo_http_kv h[] = {{"Host", "iam.amazonaws.com"},
                      {"Content-Type", "application/x-www-form-urlencoded;  charset=utf-8 "},
                      {"X-Amz-Date", "20150830T123600Z"},
                      {"Authorization", auth},
                      {"User-Agent", "not signed"}};
    snprintf(auth, sizeof auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
                                "SignedHeaders=content-type;host;x-amz-date, "
                                "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
    lo_http_request rq = {"GET", "/", q, 2, h, 5, NULL, 0};
    char msg[512], hash[65];
    char *creq = lo_sigv4_canonical_request(&rq, "content-type;host;x-amz-date",
                                            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", msg,
                                            sizeof msg);
    CHECK(creq != NULL, "%s", msg);
    if (creq) {
        lo_sigv4_sha256_hex(creq, strlen(creq), hash);
        CHECK(strcmp(hash, "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59") == 0,
              "canonical request hash %s; request was:\n%s", hash, creq);
        free(creq);
    }
    long long t = lo_sigv4_parse_amz_date("20150830T123600Z");
    CHECK(t == 1440938160LL, "parse_amz_date gave %lld", t);
    char ak[129];
    lo_sigv4_status st = lo_sigv4_verify(&rq, "us-east-1", "iam", (time_t)t + 60, ex_secret, NULL, ak, sizeof ak,
                                         msg, sizeof msg);
    CHECK(st == LO_SIGV4_OK && strcmp(ak, "AKIDEXAMPLE") == 0, "verify: %d %s", (int)st, msg);

    /* 15-minute skew either way */
    st = lo_sigv4_verify(&rq, "us-east-1", "iam", (time_t)t + 15 * 60 + 1, ex_secret, NULL, ak, sizeof ak, msg, sizeof msg);
    CHECK(st == LO_SIGV4_INVALID && strstr(msg, "Signature expired"), "late: %d %s", (int)st, msg);
    st = lo_sigv4_verify(&rq, "us-east-1", "iam", (time_t)t - 15 * 60 - 1, ex_secret, NULL, ak, sizeof ak, msg, sizeof msg);
    CHECK(st == LO_SIGV4_INVALID && strstr(msg, "not yet current"), "early: %d %s", (int)st, msg);
    st = lo_sigv4_verify(&rq, "us-east-1", "iam", (time_t)t + 15 * 60, ex_secret, NULL, ak, sizeof ak, msg, sizeof msg);
    CHECK(st == LO_SIGV4_OK, "at the 15-minute edge: %d %s", (int)st, msg);
    /* other region / service */
    st = lo_sigv4_verify(&rq, "local", "iam", (time_t)t, ex_secret, NULL, ak, sizeof ak, msg, sizeof msg);
    CHECK(st == LO_SIGV4_INVALID && strstr(msg, "region"), "region: %d %s", (int)st, msg);
    st = lo_sigv4_verify(&rq, "us-east-1", "lookoutvision", (time_t)t, ex_secret, NULL, ak, sizeof ak, msg, sizeof msg);
    CHECK(st == LO_SIGV4_INVALID && strstr(msg, "service"), "service: %d %s", (int)st, msg);
    /* a changed header value, query value, body or method breaks the signature */
    h[0].value = "iam.amazonaws.com:8080";
    st = lo_sigv4_verify(&rq, "us-east-1", "iam", (time_t)t, ex_secret, NULL, ak, sizeof ak, msg, sizeof msg);
    CHECK(st == LO_SIGV4_INVALID, "changed host accepted");
    h[0].value = "iam.amazonaws.com";
    q[0].value = "2010-05-09";
    st = lo_sigv4_verify(&rq, "us-east-1", "iam", (time_t)t, ex_secret, NULL, ak, sizeof ak, msg, sizeof msg);
    CHECK(st == LO_SIGV4_INVALID, "changed query accepted");
    q[0].value = "2010-05-08";
    rq.body = (const uint8_t *)"x";
    rq.body_len = 1;
    st = lo_sigv4_verify(&rq, "us-east-1", "iam", (time_t)t, ex_secret, NULL, ak, sizeof ak, msg, sizeof msg);
    CHECK(st == LO_SIGV4_INVALID, "changed body accepted");
    rq.body = NULL;
    rq.body_len = 0;
    rq.method = "POST";
    st = lo_sigv4_verify(&rq, "us-east-1", "iam", (time_t)t, ex_secret, NULL, ak, sizeof ak, msg, sizeof msg);
    CHECK(st == LO_SIGV4_INVALID, "changed method accepted");
    rq.method = "GET";
    /* one flipped signature digit */
    char *sig = strstr(auth, "Signature=") + 10;
    sig[63] = sig[63] == '7' ? '8' : '7';
    st = lo_sigv4_verify(&rq, "us-east-1", "iam", (time_t)t, ex_secret, NULL, ak, sizeof ak, msg, sizeof msg);
    CHECK(st == LO_SIGV4_INVALID && strstr(msg, "does not match"), "flipped signature: %d %s", (int)st, msg);
    /* unknown key, unsigned, malformed */
    snprintf(auth, sizeof auth, "AWS4-HMAC-SHA256 Credential=AKIDOTHER/20150830/us-east-1/iam/aws4_request, "
                                "SignedHeaders=content-type;host;x-amz-date, Signature=%064d", 0);
    st = lo_sigv4_verify(&rq, "us-east-1", "iam", (time_t)t, ex_secret, NULL, ak, sizeof ak, msg, sizeof msg);
    CHECK(st == LO_SIGV4_UNRECOGNIZED, "unknown key: %d %s", (int)st, msg);
    rq.n_headers = 3; /* no Authorization */
    st = lo_sigv4_verify(&rq, "us-east-1", "iam", (time_t)t, ex_secret, NULL, ak, sizeof ak, msg, sizeof msg);
    CHECK(st == LO_SIGV4_MISSING, "unsigned: %d %s", (int)st, msg);
    rq.n_headers = 5;
    static const char *bad[] = {
        "AWS4-HMAC-SHA1 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=00",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam, SignedHeaders=host, Signature=00",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/2015083/us-east-1/iam/aws4_request, SignedHeaders=host",
        "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=0000000000000000000000000000000000000000000000000000000000000000",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=x-amz-date, "
        "Signature=0000000000000000000000000000000000000000000000000000000000000000",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=host, "
        "Signature=zz00000000000000000000000000000000000000000000000000000000000000",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(auth, sizeof auth, "%s", bad[i]);
        st = lo_sigv4_verify(&rq, "us-east-1", "iam", (time_t)t, ex_secret, NULL, ak, sizeof ak, msg, sizeof msg);
        CHECK(st == LO_SIGV4_INCOMPLETE, "malformed header %zu gave %d (%s)", i, (int)st, msg);
    }
}

/* botocore double-encodes the path and sorts the query it put in the URL */
static void test_canonical_forms(void) {
    lo_http_kv q[] = {{"tagKeys", "b%20c"}, {"tagKeys", "a"}, {"maxResults", "5"}, {"e%7E", NULL}};
    lo_http_kv h[] = {{"Host", "127.0.0.1:8088"}, {"X-Multi", " a   b "}, {"x-multi", "c"}};
    lo_http_request rq = {"DELETE", "/2020-11-20//tags/./x/../arn%3Aaws%3Alookoutvision%3Alocal%3A0%3Aproject%2Fp",
                          q, 4, h, 3, NULL, 0};
    char msg[256];
    char *c = lo_sigv4_canonical_request(&rq, "host;x-multi", "HASH", msg, sizeof msg);
    const char *want = "DELETE\n/2020-11-20/tags/arn%253Aaws%253Alookoutvision%253Alocal%253A0%253Aproject%252Fp\n"
                       "e~=&maxResults=5&tagKeys=a&tagKeys=b%20c\nhost:127.0.0.1:8088\nx-multi:a b,c\n\nhost;x-multi\nHASH";
    CHECK(c && strcmp(c, want) == 0, "canonical request\n%s\nwanted\n%s", c ? c : msg, want);
    free(c);
    c = lo_sigv4_canonical_request(&rq, "host;x-absent", "HASH", msg, sizeof msg);
    CHECK(!c && strstr(msg, "x-absent"), "missing signed header accepted");
    free(c);
    q[0].value = "%zz";
    c = lo_sigv4_canonical_request(&rq, "host", "HASH", msg, sizeof msg);
    CHECK(!c, "malformed query escape accepted");
    free(c);
}

/* ---- the route table against botocore's model ---- */
static const lo_http_op *op_named(const char *name) {
    for (const lo_http_op *op = lo_http_ops; op->name; op++)
        if (strcmp(op->name, name) == 0) return op;
    return NULL;
}

static const char *loc_name(lo_http_location l) {
    return l == LO_LOC_URI ? "uri" : l == LO_LOC_QUERY ? "querystring" : l == LO_LOC_HEADER ? "header" : "payload";
}

static void test_table_matches_model(const char *model_path) {
    FILE *f = fopen(model_path, "rb");
    CHECK(f != NULL, "cannot open %s (install awscli / python3-botocore)", model_path);
    if (!f) return;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    size_t got = fread(text, 1, (size_t)n, f);
    fclose(f);
    text[got] = '\0';
    cJSON *model = cJSON_Parse(text);
    free(text);
    const cJSON *ops = cJSON_GetObjectItem(model, "operations"), *shapes = cJSON_GetObjectItem(model, "shapes");
    CHECK(ops && shapes, "%s is not a botocore service model", model_path);
    int n_model = 0, n_table = 0;
    for (const lo_http_op *op = lo_http_ops; op->name; op++) n_table++;
    const cJSON *o;
    cJSON_ArrayForEach(o, ops) {
        n_model++;
        const lo_http_op *op = op_named(o->string);
        CHECK(op != NULL, "operation %s is not routed", o->string);
        if (!op) continue;
        const cJSON *http = cJSON_GetObjectItem(o, "http");
        const cJSON *code = cJSON_GetObjectItem(http, "responseCode");
        CHECK(strcmp(op->method, cJSON_GetObjectItem(http, "method")->valuestring) == 0, "%s method", op->name);
        CHECK(strcmp(op->uri, cJSON_GetObjectItem(http, "requestUri")->valuestring) == 0, "%s uri %s", op->name, op->uri);
        CHECK(op->success_code == (code ? code->valueint : 200), "%s success code %d", op->name, op->success_code);
        const cJSON *in = cJSON_GetObjectItem(shapes, cJSON_GetObjectItem(cJSON_GetObjectItem(o, "input"), "shape")->valuestring);
        const cJSON *payload = cJSON_GetObjectItem(in, "payload");
        int n_bound = 0;
        const cJSON *m;
        cJSON_ArrayForEach(m, cJSON_GetObjectItem(in, "members")) {
            const cJSON *loc = cJSON_GetObjectItem(m, "location"), *ln = cJSON_GetObjectItem(m, "locationName");
            int is_payload = payload && strcmp(payload->valuestring, m->string) == 0;
            if (!loc && !is_payload) continue; /* a JSON body member */
            n_bound++;
            const lo_http_binding *b = NULL;
            for (size_t i = 0; i < LO_HTTP_MAX_BINDINGS && op->bindings[i].member; i++)
                if (strcmp(op->bindings[i].member, m->string) == 0) b = &op->bindings[i];
            CHECK(b != NULL, "%s.%s is not bound", op->name, m->string);
            if (!b) continue;
            if (is_payload) {
                CHECK(b->location == LO_LOC_PAYLOAD, "%s.%s should be the payload", op->name, m->string);
                continue;
            }
            CHECK(strcmp(loc_name(b->location), loc->valuestring) == 0 && strcmp(b->wire_name, ln->valuestring) == 0,
                  "%s.%s bound to %s %s, model says %s %s", op->name, m->string, loc_name(b->location), b->wire_name,
                  loc->valuestring, ln->valuestring);
        }
        int n_ours = 0;
        for (size_t i = 0; i < LO_HTTP_MAX_BINDINGS && op->bindings[i].member; i++) n_ours++;
        CHECK(n_ours == n_bound, "%s binds %d members, the model %d", op->name, n_ours, n_bound);
    }
    CHECK(n_model == n_table, "model has %d operations, table %d", n_model, n_table);
    cJSON_Delete(model);
}

/* ---- routing and input assembly ---- */
static void test_route_and_input(void) {
    lo_http_labels l;
    int known;
    const lo_http_op *op = lo_http_route("GET", "/2020-11-20/tags/arn%3Aaws%3Alookoutvision%3Alocal%3A0%3Amodel%2Fp%2F1", &l, &known);
    CHECK(op && strcmp(op->name, "ListTagsForResource") == 0 && l.n == 1 &&
              strcmp(l.value[0], "arn:aws:lookoutvision:local:0:model/p/1") == 0,
          "ARN label");
    lo_http_labels_free(&l);
    op = lo_http_route("POST", "/2020-11-20/projects/p1/models/3/detect", &l, &known);
    CHECK(op && strcmp(op->name, "DetectAnomalies") == 0 && l.n == 2 && strcmp(l.name[1], "ModelVersion") == 0 &&
              strcmp(l.value[1], "3") == 0, "detect route");
    lo_http_labels_free(&l);
    op = lo_http_route("PUT", "/2020-11-20/projects/p1", &l, &known);
    CHECK(!op && known == 1, "PUT on a project path should be 'method not allowed'");
    op = lo_http_route("GET", "/2020-11-20/projects/p1/nothing", &l, &known);
    CHECK(!op && known == 0, "unknown path");
    op = lo_http_route("GET", "/2020-11-20/projects//models", &l, &known);
    CHECK(!op, "empty label accepted");
    op = lo_http_route("GET", "/2020-11-20/projects/a%00b", &l, &known);
    CHECK(!op, "NUL in a label accepted");

    /* ListDatasetEntries: every query type */
    op = lo_http_route("GET", "/2020-11-20/projects/p/datasets/train/entries", &l, &known);
    lo_http_kv q[] = {{"labeled", "true"}, {"maxResults", "25"}, {"createdBefore", "2024-05-01T10%3A00%3A00Z"},
                      {"createdAfter", "1700000000"}, {"sourceRefContains", "s3%3A%2F%2Fb"}, {"junk", "ignored"}};
    lo_http_request rq = {"GET", "/x", q, 6, NULL, 0, NULL, 0};
    cJSON *in = NULL;
    const uint8_t *blob;
    size_t blen;
    lo_error err;
    CHECK(op && lo_http_build_input(op, &rq, &l, &in, &blob, &blen, &err) == 0, "build: %s", err.message);
    char *s = cJSON_PrintUnformatted(in);
    CHECK(s && strcmp(s, "{\"ProjectName\":\"p\",\"DatasetType\":\"train\",\"Labeled\":true,\"BeforeCreationDate\":1714557600,"
                         "\"AfterCreationDate\":1700000000,\"MaxResults\":25,\"SourceRefContains\":\"s3://b\"}") == 0,
          "input %s", s);
    free(s);
    cJSON_Delete(in);
    q[1].value = "25x";
    CHECK(lo_http_build_input(op, &rq, &l, &in, &blob, &blen, &err) == -1 && strcmp(err.type, "ValidationException") == 0 &&
              strstr(err.message, "maxResults") && err.http_status == 400,
          "bad integer: %s", err.message);
    q[1].value = "25";
    q[0].value = "yes";
    CHECK(lo_http_build_input(op, &rq, &l, &in, &blob, &blen, &err) == -1 && strstr(err.message, "labeled"), "bad bool");
    lo_http_labels_free(&l);

    /* CreateModel: body JSON + header token; a body ProjectName cannot override the path */
    op = lo_http_route("POST", "/2020-11-20/projects/real/models", &l, &known);
    const char *body = "{\"ProjectName\":\"other\",\"OutputConfig\":{\"S3Location\":{\"Bucket\":\"b\"}},\"Tags\":[{\"Key\":\"k\",\"Value\":\"v\"}]}";
    lo_http_kv h[] = {{"x-amzn-client-token", "tok-1"}};
    lo_http_request rq2 = {"POST", "/x", NULL, 0, h, 1, (const uint8_t *)body, strlen(body)};
    CHECK(lo_http_build_input(op, &rq2, &l, &in, &blob, &blen, &err) == 0, "%s", err.message);
    CHECK(strcmp(cJSON_GetObjectItem(in, "ProjectName")->valuestring, "real") == 0, "path label must win");
    CHECK(strcmp(cJSON_GetObjectItem(in, "ClientToken")->valuestring, "tok-1") == 0, "client token header");
    char acts[2][64];
    int na = lo_http_required_actions(op, in, acts);
    CHECK(na == 2 && strcmp(acts[0], "lookoutvision:CreateModel") == 0 && strcmp(acts[1], "lookoutvision:TagResource") == 0,
          "CreateModel with Tags needs TagResource (%d)", na);
    cJSON_Delete(in);
    rq2.body = (const uint8_t *)"[1,2]";
    rq2.body_len = 5;
    CHECK(lo_http_build_input(op, &rq2, &l, &in, &blob, &blen, &err) == -1 && strcmp(err.type, "SerializationException") == 0,
          "array body accepted");
    rq2.body = (const uint8_t *)"{\"a\":";
    rq2.body_len = 5;
    CHECK(lo_http_build_input(op, &rq2, &l, &in, &blob, &blen, &err) == -1 && strcmp(err.type, "SerializationException") == 0,
          "truncated body accepted");
    lo_http_labels_free(&l);

    /* UntagResource: repeated tagKeys become a list; DetectAnomalies: raw payload + Content-Type */
    op = lo_http_route("DELETE", "/2020-11-20/tags/arn", &l, &known);
    lo_http_kv q3[] = {{"tagKeys", "a"}, {"tagKeys", "b%2Cc"}};
    lo_http_request rq3 = {"DELETE", "/x", q3, 2, NULL, 0, NULL, 0};
    CHECK(lo_http_build_input(op, &rq3, &l, &in, &blob, &blen, &err) == 0, "%s", err.message);
    s = cJSON_PrintUnformatted(cJSON_GetObjectItem(in, "TagKeys"));
    CHECK(s && strcmp(s, "[\"a\",\"b,c\"]") == 0, "TagKeys %s", s);
    free(s);
    cJSON_Delete(in);
    lo_http_labels_free(&l);
    op = lo_http_route("POST", "/2020-11-20/projects/p/models/1/detect", &l, &known);
    lo_http_kv h4[] = {{"Content-Type", "image/png"}};
    lo_http_request rq4 = {"POST", "/x", NULL, 0, h4, 1, (const uint8_t *)"\x89PNG", 4};
    CHECK(lo_http_build_input(op, &rq4, &l, &in, &blob, &blen, &err) == 0 && blob == rq4.body && blen == 4 &&
              strcmp(cJSON_GetObjectItem(in, "ContentType")->valuestring, "image/png") == 0,
          "detect payload");
    cJSON_Delete(in);
    lo_http_labels_free(&l);
    CHECK(lo_http_body_limit_for("POST", "/2020-11-20/projects/p/models/1/detect") == LO_HTTP_MAX_IMAGE_BODY, "image limit");
    CHECK(lo_http_body_limit_for("POST", "/2020-11-20/projects") == LO_HTTP_MAX_JSON_BODY, "json limit");
}

int main(int argc, char **argv) {
    if (sodium_init() < 0) return 1;
    test_sigv4_example();
    test_canonical_forms();
    test_route_and_input();
    test_table_matches_model(argc > 1 ? argv[1]
                                      : "/usr/lib/python3/dist-packages/botocore/data/lookoutvision/2020-11-20/service-2.json");
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("ok\n");
    return 0;
}
