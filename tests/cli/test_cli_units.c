/* test_cli_units.c — the CLI's parts on their own: shorthand parser, YAML input, parameter
 * building and validation, output formatters, Python-style numbers and ISO 8601 times.
 * Without arguments it runs its own cases; with arguments it is a driver that
 * tests/cli/test_reference.py compares with awscli/botocore themselves:
 *   test_cli_units --shorthand TEXT           parsed JSON, or "ERROR\n<message>"
 *   test_cli_units --format FMT OP FILE       FILE holds a service response for operation OP
 *                                             (API name); prints it as --output FMT would
 *   test_cli_units --yaml FILE                the JSON that --cli-input-yaml would read */
#include "cli/cli_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0, checks = 0;

#define CHECK(cond, ...)                                                \
    do {                                                                \
        checks++;                                                       \
        if (!(cond)) {                                                  \
            failures++;                                                 \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);        \
            fprintf(stderr, __VA_ARGS__);                               \
            fputc('\n', stderr);                                        \
        }                                                               \
    } while (0)

static char *shorthand_json(const char *in, char **err_out) {
    lo_sbuf err = {0};
    cJSON *v = lo_cli_shorthand_parse(in, &err);
    char *s = v ? cJSON_PrintUnformatted(v) : NULL;
    cJSON_Delete(v);
    if (err_out) *err_out = err.s ? strdup(err.s) : NULL;
    lo_sbuf_free(&err);
    return s;
}

static void expect_shorthand(const char *in, const char *want) {
    char *err = NULL;
    char *got = shorthand_json(in, &err);
    CHECK(got && !strcmp(got, want), "shorthand %s: got %s want %s (err %s)", in, got ? got : "NULL", want,
          err ? err : "");
    free(got);
    free(err);
}

static void expect_shorthand_error(const char *in, const char *want_err) {
    char *err = NULL;
    char *got = shorthand_json(in, &err);
    CHECK(!got && err && !strcmp(err, want_err), "shorthand %s: got %s / error [%s], want error [%s]", in,
          got ? got : "NULL", err ? err : "", want_err);
    free(got);
    free(err);
}

static void test_shorthand(void) {
    expect_shorthand("S3Location={Bucket=b,Prefix=p/}", "{\"S3Location\":{\"Bucket\":\"b\",\"Prefix\":\"p/\"}}");
    expect_shorthand("Key=k,Value=v", "{\"Key\":\"k\",\"Value\":\"v\"}");
    expect_shorthand("DatasetSource={GroundTruthManifest={S3Object={Bucket=b,Key=k}}}",
                     "{\"DatasetSource\":{\"GroundTruthManifest\":{\"S3Object\":{\"Bucket\":\"b\",\"Key\":\"k\"}}}}");
    expect_shorthand("a=b,c,d=e", "{\"a\":[\"b\",\"c\"],\"d\":\"e\"}");
    expect_shorthand("a=[x,y],b=[]", "{\"a\":[\"x\",\"y\"],\"b\":[]}");
    expect_shorthand("a='x,y',b=\"p q\"", "{\"a\":\"x,y\",\"b\":\"p q\"}");
    expect_shorthand("a=b\\,c", "{\"a\":\"b,c\"}");
    expect_shorthand("a= spaced value ", "{\"a\":\"spaced value\"}");
    expect_shorthand("a=", "{\"a\":\"\"}");
    expect_shorthand("a={b=[{c=d}]}", "{\"a\":{\"b\":[{\"c\":\"d\"}]}}");
    expect_shorthand("k=\xc3\xa9t\xc3\xa9", "{\"k\":\"\xc3\xa9t\xc3\xa9\"}");
    expect_shorthand_error("S3Location={Bucket=b", "Expected: ',', received: 'EOF' for input:\n"
                                                   "S3Location={Bucket=b\n                    ^");
    expect_shorthand_error("a", "Expected: '=', received: 'EOF' for input:\na\n ^");
    expect_shorthand_error("a=b,a=c", "Second instance of key \"a\" encountered for input:\na=b,a=c\n    ^\n"
                                      "This is often because there is a preceding \",\" instead of a space.");
    expect_shorthand_error("a='unterminated", "Expected: '<singled quoted>', received: '<none>' for input:\n"
                                              "a='unterminated\n  ^");
}

static cJSON *param(const char *op, const char *member, char **vals, int n, lo_sbuf *err) {
    const lo_cli_operation *o = lo_cli_find_operation(op);
    const lo_cli_member *m = NULL;
    for (int i = 0; i < lo_cli_shapes[o->input].n_members; i++)
        if (!strcmp(lo_cli_shapes[o->input].members[i].cli_name, member)) m = &lo_cli_shapes[o->input].members[i];
    if (!m) return NULL;
    return lo_cli_param_from_argv(m->shape, m->cli_name, vals, n, err);
}

static void expect_param(const char *op, const char *member, char **vals, int n, const char *want) {
    lo_sbuf err = {0};
    cJSON *v = param(op, member, vals, n, &err);
    char *got = v ? cJSON_PrintUnformatted(v) : NULL;
    CHECK(got && !strcmp(got, want), "%s --%s: got %s want %s (%s)", op, member, got ? got : "NULL", want,
          lo_sbuf_str(&err));
    free(got);
    cJSON_Delete(v);
    lo_sbuf_free(&err);
}

static void test_params(void) {
    char *tags[] = {"Key=k,Value=v", "Key=k2,Value=v2"};
    expect_param("create-model", "tags", tags, 2, "[{\"Key\":\"k\",\"Value\":\"v\"},{\"Key\":\"k2\",\"Value\":\"v2\"}]");
    char *tags_json[] = {"[{\"Key\":\"a\",\"Value\":\"b\"}]"};
    expect_param("create-model", "tags", tags_json, 1, "[{\"Key\":\"a\",\"Value\":\"b\"}]");
    char *keys[] = {"k1", "k2"};
    expect_param("untag-resource", "tag-keys", keys, 2, "[\"k1\",\"k2\"]");
    char *max[] = {"7"};
    expect_param("list-models", "max-results", max, 1, "7");
    char *oc[] = {"{\"S3Location\": {\"Bucket\": \"bb\"}}"};
    expect_param("create-model", "output-config", oc, 1, "{\"S3Location\":{\"Bucket\":\"bb\"}}");

    /* file:// and fileb:// */
    const char *path = "/tmp/lookout-test-cli-units-param.json";
    FILE *f = fopen(path, "w");
    fputs("S3Location={Bucket=from-file,Prefix=x/}", f);
    fclose(f);
    char *oc_file[] = {"file:///tmp/lookout-test-cli-units-param.json"};
    expect_param("create-model", "output-config", oc_file, 1, "{\"S3Location\":{\"Bucket\":\"from-file\",\"Prefix\":\"x/\"}}");
    f = fopen(path, "wb");
    fputs("{\"source-ref\":\"s3://b/k.png\"}\n", f);
    fclose(f);
    char *changes[] = {"fileb:///tmp/lookout-test-cli-units-param.json"};
    expect_param("update-dataset-entries", "changes", changes, 1, "\"eyJzb3VyY2UtcmVmIjoiczM6Ly9iL2sucG5nIn0K\"");
    remove(path);

    lo_sbuf err = {0};
    char *missing[] = {"file:///nonexistent/lookout/x.json"};
    CHECK(!param("create-model", "output-config", missing, 1, &err) &&
              strstr(lo_sbuf_str(&err), "Unable to load paramfile file:///nonexistent/lookout/x.json"),
          "missing paramfile: %s", lo_sbuf_str(&err));
    lo_sbuf_free(&err);
    char *badjson[] = {"{\"S3Location\": "};
    CHECK(!param("create-model", "output-config", badjson, 1, &err) &&
              strstr(lo_sbuf_str(&err), "Error parsing parameter '--output-config': Invalid JSON:"),
          "bad json: %s", lo_sbuf_str(&err));
    lo_sbuf_free(&err);
    char *badb64[] = {"a!b"};
    CHECK(!param("update-dataset-entries", "changes", badb64, 1, &err) &&
              !strcmp(lo_sbuf_str(&err), "Invalid base64: \"a!b\""), "bad base64: %s", lo_sbuf_str(&err));
    lo_sbuf_free(&err);

    /* validation, botocore's messages */
    const lo_cli_operation *cm = lo_cli_find_operation("create-model");
    cJSON *in = cJSON_Parse("{\"ProjectName\":\"\",\"OutputConfig\":{\"S3Location\":{\"Bucket\":\"b\",\"Foo\":1}},"
                            "\"Tags\":[{\"Key\":\"k\"}]}");
    int n = lo_cli_validate(cm->input, in, "", &err);
    CHECK(n == 4, "validation count %d: %s", n, lo_sbuf_str(&err));
    CHECK(strstr(lo_sbuf_str(&err), "Invalid length for parameter ProjectName, value: 0, valid min length: 1\n") != NULL,
          "%s", lo_sbuf_str(&err));
    CHECK(strstr(lo_sbuf_str(&err), "Invalid length for parameter OutputConfig.S3Location.Bucket, value: 1, valid min "
                                    "length: 3\n") != NULL, "%s", lo_sbuf_str(&err));
    CHECK(strstr(lo_sbuf_str(&err), "Unknown parameter in OutputConfig.S3Location: \"Foo\", must be one of: Bucket, "
                                    "Prefix\n") != NULL, "%s", lo_sbuf_str(&err));
    CHECK(strstr(lo_sbuf_str(&err), "Missing required parameter in Tags[0]: \"Value\"\n") != NULL, "%s",
          lo_sbuf_str(&err));
    cJSON_Delete(in);
    lo_sbuf_free(&err);
    const lo_cli_operation *lm = lo_cli_find_operation("list-models");
    in = cJSON_Parse("{\"ProjectName\":\"p\",\"MaxResults\":0}");
    CHECK(lo_cli_validate(lm->input, in, "", &err) == 1 &&
              !strcmp(lo_sbuf_str(&err), "Invalid value for parameter MaxResults, value: 0, valid min value: 1\n"),
          "%s", lo_sbuf_str(&err));
    cJSON_Delete(in);
    lo_sbuf_free(&err);
    in = cJSON_Parse("{\"ProjectName\":5}");
    CHECK(lo_cli_validate(lm->input, in, "", &err) == 1 &&
              !strcmp(lo_sbuf_str(&err), "Invalid type for parameter ProjectName, value: 5, type: <class 'int'>, "
                                         "valid types: <class 'str'>\n"), "%s", lo_sbuf_str(&err));
    cJSON_Delete(in);
    lo_sbuf_free(&err);
    /* timestamps in input become epoch seconds on the wire */
    const lo_cli_operation *le = lo_cli_find_operation("list-dataset-entries");
    in = cJSON_Parse("{\"ProjectName\":\"p\",\"DatasetType\":\"train\",\"BeforeCreationDate\":\"2020-06-23T00:00:00\","
                     "\"AfterCreationDate\":\"2020-06-23T01:00:00+01:00\"}");
    CHECK(lo_cli_validate(le->input, in, "", &err) == 0, "%s", lo_sbuf_str(&err));
    CHECK(cJSON_GetObjectItem(in, "BeforeCreationDate")->valuedouble == 1592870400.0, "ISO date to epoch");
    CHECK(cJSON_GetObjectItem(in, "AfterCreationDate")->valuedouble == 1592870400.0, "ISO date with zone to epoch");
    cJSON_Delete(in);
    lo_sbuf_free(&err);
    /* idempotency tokens appear when absent, untouched when given */
    in = cJSON_Parse("{\"ProjectName\":\"p\"}");
    lo_cli_fill_idempotency(cm->input, in);
    const cJSON *tok = cJSON_GetObjectItem(in, "ClientToken");
    CHECK(cJSON_IsString(tok) && strlen(tok->valuestring) == 36 && tok->valuestring[14] == '4', "uuid token");
    cJSON_Delete(in);
}

static void expect_yaml(const char *yaml, const char *want) {
    lo_sbuf err = {0};
    cJSON *v = lo_cli_yaml_parse(yaml, strlen(yaml), &err);
    char *got = v ? cJSON_PrintUnformatted(v) : NULL;
    CHECK(got && !strcmp(got, want), "yaml [%s]: got %s want %s (%s)", yaml, got ? got : "NULL", want, lo_sbuf_str(&err));
    free(got);
    cJSON_Delete(v);
    lo_sbuf_free(&err);
}

static void test_yaml(void) {
    expect_yaml("ProjectName: 'p'  # comment\nMaxResults: 5\nLabeled: true\n",
                "{\"ProjectName\":\"p\",\"MaxResults\":5,\"Labeled\":true}");
    expect_yaml("Tags:\n- Key: k\n  Value: '1'\n- Key: k2\n  Value: 2\n",
                "{\"Tags\":[{\"Key\":\"k\",\"Value\":\"1\"},{\"Key\":\"k2\",\"Value\":2}]}");
    expect_yaml("A: ~\nB: null\nC: 1.5\nD: \"x: y\"\nE: [a, b]\nF: {g: h}\nG: !!binary ''\nH: yes\n",
                "{\"A\":null,\"B\":null,\"C\":1.5,\"D\":\"x: y\",\"E\":[\"a\",\"b\"],\"F\":{\"g\":\"h\"},\"G\":\"\",\"H\":\"yes\"}");
    expect_yaml("BeforeCreationDate: 1970-01-01 00:00:00\n", "{\"BeforeCreationDate\":\"1970-01-01 00:00:00\"}");
    lo_sbuf err = {0};
    const char *bad = "a: [1, 2\n";
    CHECK(!lo_cli_yaml_parse(bad, strlen(bad), &err) && strstr(lo_sbuf_str(&err), "line"), "bad yaml: %s",
          lo_sbuf_str(&err));
    lo_sbuf_free(&err);
    /* the billion laughs stay bounded */
    const char *lol = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                      "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                      "g: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
    cJSON *v = lo_cli_yaml_parse(lol, strlen(lol), &err);
    CHECK(!v && strstr(lo_sbuf_str(&err), "too large"), "alias bomb must be refused: %s", lo_sbuf_str(&err));
    cJSON_Delete(v);
    lo_sbuf_free(&err);
}

static void test_numbers_times(void) {
    struct {
        double v;
        const char *want;
    } cases[] = {{0.5, "0.5"}, {1.0, "1.0"}, {0.1, "0.1"}, {1.0 / 3, "0.3333333333333333"}, {1e16, "1e+16"},
                 {1234567890123456.0, "1234567890123456.0"}, {0.0001, "0.0001"}, {0.00001, "1e-05"}, {-2.5, "-2.5"},
                 {0.0, "0.0"}, {123.456, "123.456"}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char buf[64];
        lo_cli_float_repr(cases[i].v, buf, sizeof buf);
        CHECK(!strcmp(buf, cases[i].want), "repr(%.17g) = %s, want %s", cases[i].v, buf, cases[i].want);
    }
    setenv("TZ", "UTC", 1);
    char buf[64];
    lo_cli_iso8601(1606780800.0, buf, sizeof buf);
    CHECK(!strcmp(buf, "2020-12-01T00:00:00+00:00"), "iso %s", buf);
    lo_cli_iso8601(1606780800.25, buf, sizeof buf);
    CHECK(!strcmp(buf, "2020-12-01T00:00:00.250000+00:00"), "iso fraction %s", buf);
    setenv("TZ", "Asia/Kolkata", 1);
    lo_cli_iso8601(1606780800.0, buf, sizeof buf);
    CHECK(!strcmp(buf, "2020-12-01T05:30:00+05:30"), "iso local %s", buf);
    setenv("TZ", "UTC", 1);
}

static char *fmt(const char *format, const char *json, const char *title) {
    cJSON *v = cJSON_Parse(json);
    lo_sbuf out = {0};
    if (!strcmp(format, "table")) lo_cli_format_table(v, title, 80, &out);
    else lo_cli_format(format, v, title, &out);
    cJSON_Delete(v);
    char *s = strdup(lo_sbuf_str(&out));
    lo_sbuf_free(&out);
    return s;
}

static void test_formatters(void) {
    const char *doc = "{\"Projects\":[{\"ProjectName\":\"a\",\"ProjectArn\":\"arn:a\"},"
                      "{\"ProjectName\":\"b\",\"ProjectArn\":\"arn:b\"}],\"NextToken\":\"t\"}";
    char *s = fmt("json", doc, "ListProjects");
    CHECK(!strcmp(s, "{\n    \"Projects\": [\n        {\n            \"ProjectName\": \"a\",\n            \"ProjectArn\": "
                     "\"arn:a\"\n        },\n        {\n            \"ProjectName\": \"b\",\n            \"ProjectArn\": "
                     "\"arn:b\"\n        }\n    ],\n    \"NextToken\": \"t\"\n}\n"), "json:\n%s", s);
    free(s);
    s = fmt("text", doc, "ListProjects");
    CHECK(!strcmp(s, "t\nPROJECTS\tarn:a\ta\nPROJECTS\tarn:b\tb\n"), "text:\n%s", s);
    free(s);
    s = fmt("yaml", doc, "ListProjects");
    CHECK(!strcmp(s, "NextToken: t\nProjects:\n- ProjectArn: arn:a\n  ProjectName: a\n- ProjectArn: arn:b\n"
                     "  ProjectName: b\n"), "yaml:\n%s", s);
    free(s);
    s = fmt("table", "{\"Tags\":[{\"Key\":\"k\",\"Value\":\"v\"}]}", "ListTagsForResource");
    /* exactly what awscli's TableFormatter prints for this document */
    CHECK(!strcmp(s, "---------------------\n"
                     "|ListTagsForResource|\n"
                     "+-------------------+\n"
                     "||      Tags       ||\n"
                     "|+------+----------+|\n"
                     "||  Key |  Value   ||\n"
                     "|+------+----------+|\n"
                     "||  k   |  v       ||\n"
                     "|+------+----------+|\n"), "table:\n%s", s);
    free(s);
    s = fmt("json", "{}", "DeleteDataset");
    CHECK(!strcmp(s, ""), "empty response prints nothing in json: [%s]", s);
    free(s);
    s = fmt("yaml", "{\"S\":\"yes: no\",\"T\":\"2020-01-01T00:00:00+00:00\",\"N\":\"123\",\"E\":\"\",\"Q\":\"it's\","
                    "\"L\":[]}", "X");
    CHECK(!strcmp(s, "E: ''\nL: []\nN: '123'\nQ: it's\nS: 'yes: no'\nT: '2020-01-01T00:00:00+00:00'\n"), "yaml quoting:\n%s", s);
    free(s);
    /* prepare: timestamps to ISO, floats keep their ".0" */
    const lo_cli_operation *dm = lo_cli_find_operation("describe-model");
    cJSON *resp = cJSON_Parse("{\"ModelDescription\":{\"CreationTimestamp\":1606780800,\"Performance\":{\"F1Score\":1,"
                              "\"Recall\":0.5}}}");
    cJSON *shown = lo_cli_output_prepare(dm->output, resp);
    lo_sbuf out = {0};
    lo_cli_format_json(shown, &out);
    CHECK(strstr(lo_sbuf_str(&out), "\"CreationTimestamp\": \"2020-12-01T00:00:00+00:00\"") &&
              strstr(lo_sbuf_str(&out), "\"F1Score\": 1.0") && strstr(lo_sbuf_str(&out), "\"Recall\": 0.5"),
          "prepare:\n%s", lo_sbuf_str(&out));
    lo_sbuf_free(&out);
    cJSON_Delete(shown);
    cJSON_Delete(resp);
}

static int driver(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--shorthand")) {
        char *err = NULL;
        char *got = shorthand_json(argv[2], &err);
        if (got) printf("%s\n", got);
        else printf("ERROR\n%s\n", err ? err : "");
        free(got);
        free(err);
        return 0;
    }
    if (argc == 5 && !strcmp(argv[1], "--format")) {
        int out_shape = -1;
        for (int i = 0; i < lo_cli_n_operations; i++)
            if (!strcmp(lo_cli_operations[i].name, argv[3])) out_shape = lo_cli_operations[i].output;
        size_t len;
        char *text = lo_cli_read_file(argv[4], &len);
        cJSON *v = text ? cJSON_Parse(text) : NULL;
        free(text);
        if (!v) return 2;
        cJSON *shown = lo_cli_output_prepare(out_shape, v);
        lo_sbuf out = {0};
        if (!strcmp(argv[2], "table")) lo_cli_format_table(shown, argv[3], 80, &out);
        else lo_cli_format(argv[2], shown, argv[3], &out);
        fputs(lo_sbuf_str(&out), stdout);
        lo_sbuf_free(&out);
        cJSON_Delete(shown);
        cJSON_Delete(v);
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "--yaml")) {
        size_t len;
        char *text = lo_cli_read_file(argv[2], &len);
        lo_sbuf err = {0};
        cJSON *v = text ? lo_cli_yaml_parse(text, len, &err) : NULL;
        free(text);
        char *s = v ? cJSON_PrintUnformatted(v) : NULL;
        if (s) printf("%s\n", s);
        else printf("ERROR\n%s\n", lo_sbuf_str(&err));
        free(s);
        cJSON_Delete(v);
        lo_sbuf_free(&err);
        return 0;
    }
    fprintf(stderr, "usage: test_cli_units [--shorthand TEXT | --format FMT OP FILE | --yaml FILE]\n");
    return 2;
}

int main(int argc, char **argv) {
    if (argc > 1) return driver(argc, argv);
    test_shorthand();
    test_params();
    test_yaml();
    test_numbers_times();
    test_formatters();
    printf("%d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
