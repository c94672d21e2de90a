/* Projects: create/describe/list/delete, their errors, constraint validation, pagination,
 * ClientToken replay and mismatch, ARNs, error-to-HTTP-status mapping. */
#include "svc_test.h"

static void test_create_describe_delete(lo_service *s) {
    cJSON *o;
    EXPECT_OK(o, s, "CreateProject", "{\"ProjectName\": \"cookies-1\"}");
    CHECK(!strcmp(t_str(o, "ProjectMetadata.ProjectName"), "cookies-1"), "name");
    CHECK(!strcmp(t_str(o, "ProjectMetadata.ProjectArn"), "arn:aws:lookoutvision:eu-west-1:123456789012:project/cookies-1"),
          "arn %s", t_str(o, "ProjectMetadata.ProjectArn"));
    double ts = t_num(o, "ProjectMetadata.CreationTimestamp");
    CHECK(ts > 1.6e9 && ts < 4e9, "timestamp is epoch seconds: %f", ts);
    cJSON_Delete(o);

    EXPECT_ERR("ConflictException", "already exists", s, "CreateProject", "{\"ProjectName\": \"cookies-1\"}");
    CHECK(t_err.http_status == 409, "status %d", t_err.http_status);

    EXPECT_OK(o, s, "DescribeProject", "{\"ProjectName\": \"cookies-1\"}");
    CHECK(!strcmp(t_str(o, "ProjectDescription.ProjectName"), "cookies-1"), "describe name");
    CHECK(cJSON_IsArray(t_get(o, "ProjectDescription.Datasets")) &&
              cJSON_GetArraySize(t_get(o, "ProjectDescription.Datasets")) == 0, "no datasets");
    CHECK(t_num(o, "ProjectDescription.CreationTimestamp") == ts, "same creation time");
    cJSON_Delete(o);

    EXPECT_ERR("ResourceNotFoundException", "nope", s, "DescribeProject", "{\"ProjectName\": \"nope\"}");
    CHECK(t_err.http_status == 404, "status %d", t_err.http_status);
    EXPECT_ERR("ResourceNotFoundException", "nope", s, "DeleteProject", "{\"ProjectName\": \"nope\"}");

    EXPECT_OK(o, s, "DeleteProject", "{\"ProjectName\": \"cookies-1\"}");
    CHECK(!strcmp(t_str(o, "ProjectArn"), "arn:aws:lookoutvision:eu-west-1:123456789012:project/cookies-1"), "delete arn");
    cJSON_Delete(o);
    EXPECT_ERR("ResourceNotFoundException", NULL, s, "DescribeProject", "{\"ProjectName\": \"cookies-1\"}");
    /* the name is free again */
    EXPECT_OK(o, s, "CreateProject", "{\"ProjectName\": \"cookies-1\"}");
    cJSON_Delete(o);
    EXPECT_OK(o, s, "DeleteProject", "{\"ProjectName\": \"cookies-1\"}");
    cJSON_Delete(o);
}

static void test_validation(lo_service *s) {
    EXPECT_ERR("ValidationException", "ProjectName", s, "CreateProject", "{}");
    CHECK(t_err.http_status == 400, "status %d", t_err.http_status);
    EXPECT_ERR("ValidationException", "\"-abc\"", s, "CreateProject", "{\"ProjectName\": \"-abc\"}");
    EXPECT_ERR("ValidationException", "\"a b\"", s, "CreateProject", "{\"ProjectName\": \"a b\"}");
    EXPECT_ERR("ValidationException", "ProjectName", s, "CreateProject", "{\"ProjectName\": \"\"}");
    EXPECT_ERR("ValidationException", "ProjectName", s, "CreateProject", "{\"ProjectName\": \"../etc\"}");
    EXPECT_ERR("ValidationException", "string", s, "CreateProject", "{\"ProjectName\": 5}");
    char long_name[300];
    memset(long_name, 'a', 256);
    long_name[256] = 0;
    EXPECT_ERR("ValidationException", "255", s, "CreateProject", "{\"ProjectName\": \"%s\"}", long_name);
    long_name[255] = 0; /* exactly 255 is allowed */
    cJSON *o;
    EXPECT_OK(o, s, "CreateProject", "{\"ProjectName\": \"%s\"}", long_name);
    cJSON_Delete(o);
    EXPECT_OK(o, s, "DeleteProject", "{\"ProjectName\": \"%s\"}", long_name);
    cJSON_Delete(o);
    EXPECT_ERR("ValidationException", "Projectname", s, "CreateProject", "{\"Projectname\": \"x\"}");
    EXPECT_ERR("ValidationException", "ClientToken", s, "CreateProject",
               "{\"ProjectName\": \"x\", \"ClientToken\": \"bad token!\"}");
    EXPECT_ERR("ValidationException", "ClientToken", s, "CreateProject",
               "{\"ProjectName\": \"x\", \"ClientToken\": \"%s\"}",
               "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"); /* 65 */
    EXPECT_ERR("ValidationException", "MaxResults", s, "ListProjects", "{\"MaxResults\": 0}");
    EXPECT_ERR("ValidationException", "MaxResults", s, "ListProjects", "{\"MaxResults\": 101}");
    EXPECT_ERR("ValidationException", "MaxResults", s, "ListProjects", "{\"MaxResults\": 2.5}");
    EXPECT_ERR("ValidationException", "NextToken", s, "ListProjects", "{\"NextToken\": \"garbage\"}");
    EXPECT_ERR("ValidationException", "NextToken", s, "ListProjects", "{\"NextToken\": \"a b\"}");
    EXPECT_ERR("ValidationException", "unknown operation", s, "CreateWidget", "{}");
    EXPECT_ERR("ValidationException", "not supported", s, "StartModelPackagingJob", "{}");
    EXPECT_ERR("ValidationException", "not supported", s, "ListModelPackagingJobs", "{\"ProjectName\": \"x\"}");
    /* a NULL input is "no members" */
    cJSON *out = NULL;
    CHECK(lo_service_call(s, "ListProjects", NULL, NULL, 0, &out, &t_err) == 0, "NULL input: %s", t_err.message);
    cJSON_Delete(out);
}

static void test_list_pagination(lo_service *s) {
    static const char *names[] = {"p-c", "p-a", "p-e", "p-b", "p-d"};
    for (int i = 0; i < 5; i++) {
        cJSON *o;
        EXPECT_OK(o, s, "CreateProject", "{\"ProjectName\": \"%s\"}", names[i]);
        cJSON_Delete(o);
    }
    char seen[8][16];
    int n = 0;
    char token[256] = "";
    int pages = 0;
    do {
        cJSON *o;
        if (token[0]) EXPECT_OK(o, s, "ListProjects", "{\"MaxResults\": 2, \"NextToken\": \"%s\"}", token);
        else EXPECT_OK(o, s, "ListProjects", "{\"MaxResults\": 2}");
        if (!o) return;
        const cJSON *p;
        cJSON_ArrayForEach(p, t_get(o, "Projects")) {
            if (n < 8) snprintf(seen[n], sizeof seen[n], "%s", t_str(p, "ProjectName"));
            n++;
            CHECK(strstr(t_str(p, "ProjectArn"), ":project/") != NULL, "arn in list");
        }
        CHECK(cJSON_GetArraySize(t_get(o, "Projects")) <= 2, "page size");
        snprintf(token, sizeof token, "%s", t_str(o, "NextToken"));
        cJSON_Delete(o);
        pages++;
    } while (token[0] && pages < 10);
    CHECK(n == 5 && pages == 3, "5 projects in 3 pages, got %d in %d", n, pages);
    for (int i = 0; i + 1 < n && i < 7; i++) CHECK(strcmp(seen[i], seen[i + 1]) < 0, "sorted: %s %s", seen[i], seen[i + 1]);
    for (int i = 0; i < 5; i++) {
        cJSON *o;
        EXPECT_OK(o, s, "DeleteProject", "{\"ProjectName\": \"%s\"}", names[i]);
        cJSON_Delete(o);
    }
    cJSON *o;
    EXPECT_OK(o, s, "ListProjects", "{}");
    CHECK(cJSON_GetArraySize(t_get(o, "Projects")) == 0 && !t_get(o, "NextToken"), "empty list, no token");
    cJSON_Delete(o);
}

static void test_client_token(lo_service *s) {
    cJSON *a, *b;
    EXPECT_OK(a, s, "CreateProject", "{\"ProjectName\": \"tok\", \"ClientToken\": \"t-1\"}");
    /* replay: same answer, even though the project now exists */
    EXPECT_OK(b, s, "CreateProject", "{\"ClientToken\": \"t-1\", \"ProjectName\": \"tok\"}");
    if (a && b) {
        char *x = cJSON_PrintUnformatted(a), *y = cJSON_PrintUnformatted(b);
        CHECK(!strcmp(x, y), "replay returns the first response: %s vs %s", x, y);
        free(x);
        free(y);
    }
    cJSON_Delete(a);
    cJSON_Delete(b);
    EXPECT_ERR("ConflictException", "ClientToken", s, "CreateProject",
               "{\"ProjectName\": \"other\", \"ClientToken\": \"t-1\"}");
    EXPECT_ERR("ResourceNotFoundException", NULL, s, "DescribeProject", "{\"ProjectName\": \"other\"}");
    /* without a token, a second create is a conflict */
    EXPECT_ERR("ConflictException", NULL, s, "CreateProject", "{\"ProjectName\": \"tok\"}");
    EXPECT_OK(a, s, "DeleteProject", "{\"ProjectName\": \"tok\", \"ClientToken\": \"d-1\"}");
    EXPECT_OK(b, s, "DeleteProject", "{\"ProjectName\": \"tok\", \"ClientToken\": \"d-1\"}");
    cJSON_Delete(a);
    cJSON_Delete(b);
}

static void test_error_statuses(void) {
    static const struct { const char *type; int status; } m[] = {
        {"ValidationException", 400}, {"AccessDeniedException", 403}, {"ResourceNotFoundException", 404},
        {"ConflictException", 409}, {"ServiceQuotaExceededException", 402}, {"ThrottlingException", 429},
        {"InternalServerException", 500},
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        lo_error e;
        lo_error_set(&e, m[i].type, "x=%d", 7);
        CHECK(e.http_status == m[i].status && !strcmp(e.message, "x=7"), "%s -> %d", m[i].type, e.http_status);
    }
}

int main(void) {
    t_setup("projects");
    setenv("LOOKOUT_REGION", "eu-west-1", 1);
    setenv("LOOKOUT_ACCOUNT_ID", "123456789012", 1);
    lo_service *s = t_open();
    CHECK(!strncmp(lo_service_home(s), "/tmp/lo-svc-projects-", 21), "home %s", lo_service_home(s));
    CHECK(strstr(lo_service_s3_root(s), "/s3") != NULL, "s3 root default %s", lo_service_s3_root(s));
    test_create_describe_delete(s);
    test_validation(s);
    test_list_pagination(s);
    test_client_token(s);
    test_error_statuses();
    lo_service_close(s);
    return t_finish();
}
