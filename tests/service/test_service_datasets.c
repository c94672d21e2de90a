/* Datasets: image-folder and Ground Truth imports through the S3 mirror, statuses, stats,
 * entry listing with filters and pages, updates (raw and base64), failures that say why, refusal
 * of anything escaping the mirror, delete rules. */
#include "svc_test.h"

#include <dataset.h>
#include <sodium.h>

static char folder[512], s3[512];

static void copy_file(const char *from, const char *to) {
    size_t n = 0;
    FILE *f = fopen(from, "rb");
    static char buf[1 << 22];
    if (f) {
        n = fread(buf, 1, sizeof buf, f);
        fclose(f);
    }
    FILE *g = fopen(to, "wb");
    if (!f || !g || fwrite(buf, 1, n, g) != n) {
        fprintf(stderr, "cannot copy %s to %s\n", from, to);
        exit(2);
    }
    fclose(g);
}

static int entries(lo_service *s, const char *project, const char *type, const char *filter) {
    int n = 0, pages = 0;
    char token[256] = "";
    do {
        cJSON *o;
        if (token[0])
            EXPECT_OK(o, s, "ListDatasetEntries", "{\"ProjectName\": \"%s\", \"DatasetType\": \"%s\", \"MaxResults\": 4, "
                      "\"NextToken\": \"%s\"%s}", project, type, token, filter);
        else
            EXPECT_OK(o, s, "ListDatasetEntries", "{\"ProjectName\": \"%s\", \"DatasetType\": \"%s\", \"MaxResults\": 4%s}",
                      project, type, filter);
        if (!o) return -1;
        const cJSON *e;
        cJSON_ArrayForEach(e, t_get(o, "DatasetEntries")) {
            CHECK(cJSON_IsString(e) && e->valuestring[0] == '{' && strstr(e->valuestring, "source-ref"), "entry line");
            n++;
        }
        snprintf(token, sizeof token, "%s", t_str(o, "NextToken"));
        cJSON_Delete(o);
    } while (token[0] && ++pages < 100);
    return n;
}

static void check_stats(lo_service *s, const char *project, const char *type, int total, int normal, int anomaly) {
    cJSON *o;
    EXPECT_OK(o, s, "DescribeDataset", "{\"ProjectName\": \"%s\", \"DatasetType\": \"%s\"}", project, type);
    if (!o) return;
    CHECK(t_num(o, "DatasetDescription.ImageStats.Total") == total &&
              t_num(o, "DatasetDescription.ImageStats.Normal") == normal &&
              t_num(o, "DatasetDescription.ImageStats.Anomaly") == anomaly,
          "%s %s stats: total %g normal %g anomaly %g, want %d %d %d", project, type,
          t_num(o, "DatasetDescription.ImageStats.Total"), t_num(o, "DatasetDescription.ImageStats.Normal"),
          t_num(o, "DatasetDescription.ImageStats.Anomaly"), total, normal, anomaly);
    CHECK(!strcmp(t_str(o, "DatasetDescription.ProjectName"), project), "project name");
    CHECK(t_num(o, "DatasetDescription.LastUpdatedTimestamp") >= t_num(o, "DatasetDescription.CreationTimestamp"),
          "updated >= created");
    cJSON_Delete(o);
}

static void test_image_folder(lo_service *s) {
    cJSON *o;
    EXPECT_OK(o, s, "CreateProject", "{\"ProjectName\": \"ds\"}");
    cJSON_Delete(o);
    EXPECT_OK(o, s, "CreateDataset", "{\"ProjectName\": \"ds\", \"DatasetType\": \"train\", "
              "\"DatasetSource\": {\"ImageFolder\": {\"Path\": \"%s\"}}}", folder);
    CHECK(!strcmp(t_str(o, "DatasetMetadata.Status"), "CREATE_COMPLETE"), "status %s: %s",
          t_str(o, "DatasetMetadata.Status"), t_str(o, "DatasetMetadata.StatusMessage"));
    CHECK(!strcmp(t_str(o, "DatasetMetadata.DatasetType"), "train"), "type");
    cJSON_Delete(o);
    check_stats(s, "ds", "train", 18, 12, 6);
    EXPECT_ERR("ConflictException", "already has a train dataset", s, "CreateDataset",
               "{\"ProjectName\": \"ds\", \"DatasetType\": \"train\"}");

    EXPECT_OK(o, s, "DescribeProject", "{\"ProjectName\": \"ds\"}");
    const cJSON *d = t_get(o, "ProjectDescription.Datasets");
    CHECK(cJSON_GetArraySize(d) == 1 && !strcmp(t_str(cJSON_GetArrayItem(d, 0), "DatasetType"), "train") &&
              !strcmp(t_str(cJSON_GetArrayItem(d, 0), "Status"), "CREATE_COMPLETE"), "project lists the dataset");
    cJSON_Delete(o);

    CHECK(entries(s, "ds", "train", "") == 18, "18 entries in pages of 4");
    CHECK(entries(s, "ds", "train", ", \"AnomalyClass\": \"anomaly\"") == 6, "6 anomalies");
    CHECK(entries(s, "ds", "train", ", \"AnomalyClass\": \"normal\"") == 12, "12 normal");
    CHECK(entries(s, "ds", "train", ", \"Labeled\": true") == 18, "all labeled");
    CHECK(entries(s, "ds", "train", ", \"Labeled\": false") == 0, "none unlabeled");
    CHECK(entries(s, "ds", "train", ", \"SourceRefContains\": \"anomaly-0001\"") == 1, "source-ref filter");
    EXPECT_ERR("ValidationException", "AnomalyClass", s, "ListDatasetEntries",
               "{\"ProjectName\": \"ds\", \"DatasetType\": \"train\", \"AnomalyClass\": \"weird\"}");
    EXPECT_ERR("ValidationException", "Labeled", s, "ListDatasetEntries",
               "{\"ProjectName\": \"ds\", \"DatasetType\": \"train\", \"Labeled\": \"yes\"}");
    EXPECT_ERR("ValidationException", "SourceRefContains", s, "ListDatasetEntries",
               "{\"ProjectName\": \"ds\", \"DatasetType\": \"train\", \"SourceRefContains\": \"   \"}");
    EXPECT_ERR("ResourceNotFoundException", "no test dataset", s, "ListDatasetEntries",
               "{\"ProjectName\": \"ds\", \"DatasetType\": \"test\"}");
    EXPECT_ERR("ValidationException", "DatasetType", s, "DescribeDataset",
               "{\"ProjectName\": \"ds\", \"DatasetType\": \"validation\"}");
    EXPECT_ERR("ResourceNotFoundException", "project", s, "DescribeDataset",
               "{\"ProjectName\": \"none\", \"DatasetType\": \"train\"}");
    EXPECT_ERR("ValidationException", "not a folder", s, "CreateDataset",
               "{\"ProjectName\": \"ds\", \"DatasetType\": \"test\", \"DatasetSource\": {\"ImageFolder\": "
               "{\"Path\": \"/nonexistent/dir\"}}}");
    EXPECT_ERR("ValidationException", "not both", s, "CreateDataset",
               "{\"ProjectName\": \"ds\", \"DatasetType\": \"test\", \"DatasetSource\": {\"ImageFolder\": "
               "{\"Path\": \"/tmp\"}, \"GroundTruthManifest\": {}}}");
    EXPECT_ERR("ValidationException", "Foo", s, "CreateDataset",
               "{\"ProjectName\": \"ds\", \"DatasetType\": \"test\", \"DatasetSource\": {\"Foo\": 1}}");
    EXPECT_ERR("ConflictException", "dataset", s, "DeleteProject", "{\"ProjectName\": \"ds\"}");
}

static void test_update(lo_service *s) {
    cJSON *o;
    EXPECT_OK(o, s, "CreateDataset", "{\"ProjectName\": \"ds\", \"DatasetType\": \"test\"}");
    CHECK(!strcmp(t_str(o, "DatasetMetadata.Status"), "CREATE_COMPLETE"), "empty dataset: %s",
          t_str(o, "DatasetMetadata.StatusMessage"));
    cJSON_Delete(o);
    check_stats(s, "ds", "test", 0, 0, 0);

    char p[1024];
    snprintf(p, sizeof p, "%s/bkt/imgs", s3);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", p);
    CHECK(system(cmd) == 0, "mkdir");
    char from[1024], to[1024];
    snprintf(from, sizeof from, "%s/normal/normal-0000.png", folder);
    snprintf(to, sizeof to, "%s/bkt/imgs/n0.png", s3);
    copy_file(from, to);
    snprintf(from, sizeof from, "%s/anomaly/anomaly-0000.png", folder);
    snprintf(to, sizeof to, "%s/bkt/imgs/a0.png", s3);
    copy_file(from, to);

    /* raw JSON Lines */
    EXPECT_OK(o, s, "UpdateDatasetEntries", "{\"ProjectName\": \"ds\", \"DatasetType\": \"test\", \"Changes\": "
              "\"{\\\"source-ref\\\": \\\"s3://bkt/imgs/n0.png\\\", \\\"anomaly-label\\\": 0, "
              "\\\"anomaly-label-metadata\\\": {\\\"class-name\\\": \\\"normal\\\"}}\\n\"}");
    CHECK(!strcmp(t_str(o, "Status"), "UPDATE_COMPLETE"), "update status %s", t_str(o, "Status"));
    cJSON_Delete(o);
    check_stats(s, "ds", "test", 1, 1, 0);

    /* base64, as the wire carries a blob */
    const char *line = "{\"source-ref\": \"s3://bkt/imgs/a0.png\", \"anomaly-label\": 1, "
                       "\"anomaly-label-metadata\": {\"class-name\": \"anomaly\"}}\n";
    char b64[1024];
    sodium_bin2base64(b64, sizeof b64, (const unsigned char *)line, strlen(line), sodium_base64_VARIANT_ORIGINAL);
    EXPECT_OK(o, s, "UpdateDatasetEntries",
              "{\"ProjectName\": \"ds\", \"DatasetType\": \"test\", \"Changes\": \"%s\", \"ClientToken\": \"u1\"}", b64);
    CHECK(!strcmp(t_str(o, "Status"), "UPDATE_COMPLETE"), "base64 update status %s", t_str(o, "Status"));
    cJSON_Delete(o);
    check_stats(s, "ds", "test", 2, 1, 1);
    EXPECT_ERR("ConflictException", "ClientToken", s, "UpdateDatasetEntries",
               "{\"ProjectName\": \"ds\", \"DatasetType\": \"train\", \"Changes\": \"%s\", \"ClientToken\": \"u1\"}", b64);

    /* the same source-ref again replaces, never duplicates */
    EXPECT_OK(o, s, "UpdateDatasetEntries", "{\"ProjectName\": \"ds\", \"DatasetType\": \"test\", \"Changes\": \"%s\"}",
              b64);
    cJSON_Delete(o);
    check_stats(s, "ds", "test", 2, 1, 1);

    EXPECT_ERR("ValidationException", "line 1", s, "UpdateDatasetEntries",
               "{\"ProjectName\": \"ds\", \"DatasetType\": \"test\", \"Changes\": \"{not json\"}");
    EXPECT_ERR("ValidationException", "base64", s, "UpdateDatasetEntries",
               "{\"ProjectName\": \"ds\", \"DatasetType\": \"test\", \"Changes\": \"!!!\"}");
    EXPECT_ERR("ValidationException", "Changes", s, "UpdateDatasetEntries",
               "{\"ProjectName\": \"ds\", \"DatasetType\": \"test\"}");

    /* an update naming a missing image fails whole and says why; the dataset is unchanged */
    EXPECT_OK(o, s, "UpdateDatasetEntries", "{\"ProjectName\": \"ds\", \"DatasetType\": \"test\", \"Changes\": "
              "\"{\\\"source-ref\\\": \\\"s3://bkt/imgs/missing.png\\\", \\\"anomaly-label\\\": 0, "
              "\\\"anomaly-label-metadata\\\": {\\\"class-name\\\": \\\"normal\\\"}}\"}");
    CHECK(o && !strcmp(t_str(o, "Status"), "UPDATE_FAILED_ROLLBACK_COMPLETE"), "failed update status %s",
          t_str(o, "Status"));
    cJSON_Delete(o);
    EXPECT_OK(o, s, "DescribeDataset", "{\"ProjectName\": \"ds\", \"DatasetType\": \"test\"}");
    CHECK(strstr(t_str(o, "DatasetDescription.StatusMessage"), "missing.png") != NULL, "message names the file: %s",
          t_str(o, "DatasetDescription.StatusMessage"));
    cJSON_Delete(o);
    check_stats(s, "ds", "test", 2, 1, 1);
}

static void test_manifest(lo_service *s) {
    cJSON *o;
    EXPECT_OK(o, s, "CreateProject", "{\"ProjectName\": \"gt\"}");
    cJSON_Delete(o);
    char p[1024];
    snprintf(p, sizeof p, "%s/bkt/manifests/train.manifest", s3);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/bkt/manifests'", s3);
    CHECK(system(cmd) == 0, "mkdir");
    FILE *f = fopen(p, "w");
    fprintf(f, "{\"source-ref\": \"s3://bkt/imgs/n0.png\", \"anomaly-label\": 0, \"anomaly-label-metadata\": "
               "{\"class-name\": \"normal\", \"type\": \"groundtruth/image-classification\"}}\n"
               "{\"source-ref\": \"s3://bkt/imgs/a0.png\", \"anomaly-label\": 1, \"anomaly-label-metadata\": "
               "{\"class-name\": \"anomaly\", \"type\": \"groundtruth/image-classification\"}}\n");
    fclose(f);
    EXPECT_OK(o, s, "CreateDataset", "{\"ProjectName\": \"gt\", \"DatasetType\": \"train\", \"DatasetSource\": "
              "{\"GroundTruthManifest\": {\"S3Object\": {\"Bucket\": \"bkt\", \"Key\": \"manifests/train.manifest\"}}}}");
    CHECK(!strcmp(t_str(o, "DatasetMetadata.Status"), "CREATE_COMPLETE"), "manifest import: %s",
          t_str(o, "DatasetMetadata.StatusMessage"));
    cJSON_Delete(o);
    check_stats(s, "gt", "train", 2, 1, 1);

    /* the mirror is never left */
    EXPECT_ERR("ValidationException", "..", s, "CreateDataset", "{\"ProjectName\": \"gt\", \"DatasetType\": \"test\", "
               "\"DatasetSource\": {\"GroundTruthManifest\": {\"S3Object\": {\"Bucket\": \"bkt\", \"Key\": "
               "\"../../../../etc/passwd\"}}}}");
    EXPECT_ERR("ValidationException", "Key", s, "CreateDataset", "{\"ProjectName\": \"gt\", \"DatasetType\": \"test\", "
               "\"DatasetSource\": {\"GroundTruthManifest\": {\"S3Object\": {\"Bucket\": \"bkt\", \"Key\": "
               "\"/etc/passwd\"}}}}");
    EXPECT_ERR("ValidationException", "Bucket", s, "CreateDataset", "{\"ProjectName\": \"gt\", \"DatasetType\": \"test\", "
               "\"DatasetSource\": {\"GroundTruthManifest\": {\"S3Object\": {\"Bucket\": \"..\", \"Key\": \"x\"}}}}");
    char link[1024];
    snprintf(link, sizeof link, "%s/bkt/manifests/out.manifest", s3);
    CHECK(symlink("/etc/hostname", link) == 0, "symlink: %s", strerror(errno));
    EXPECT_ERR("ValidationException", "outside the S3 mirror", s, "CreateDataset", "{\"ProjectName\": \"gt\", "
               "\"DatasetType\": \"test\", \"DatasetSource\": {\"GroundTruthManifest\": {\"S3Object\": "
               "{\"Bucket\": \"bkt\", \"Key\": \"manifests/out.manifest\"}}}}");
    EXPECT_ERR("ValidationException", "does not exist", s, "CreateDataset", "{\"ProjectName\": \"gt\", "
               "\"DatasetType\": \"test\", \"DatasetSource\": {\"GroundTruthManifest\": {\"S3Object\": "
               "{\"Bucket\": \"bkt\", \"Key\": \"manifests/nope.manifest\"}}}}");
    EXPECT_ERR("ValidationException", "S3Object", s, "CreateDataset", "{\"ProjectName\": \"gt\", "
               "\"DatasetType\": \"test\", \"DatasetSource\": {\"GroundTruthManifest\": {}}}");
    EXPECT_ERR("ResourceNotFoundException", "test", s, "DescribeDataset", "{\"ProjectName\": \"gt\", \"DatasetType\": \"test\"}");
}

static void test_failed_import(lo_service *s) {
    char bad[600], cmd[2048];
    snprintf(bad, sizeof bad, "%s-bad", folder);
    snprintf(cmd, sizeof cmd, "cp -r '%s' '%s' && printf 'garbage' > '%s/normal/broken.png'", folder, bad, bad);
    CHECK(system(cmd) == 0, "make bad folder");
    cJSON *o;
    EXPECT_OK(o, s, "CreateProject", "{\"ProjectName\": \"bad\"}");
    cJSON_Delete(o);
    EXPECT_OK(o, s, "CreateDataset", "{\"ProjectName\": \"bad\", \"DatasetType\": \"train\", "
              "\"DatasetSource\": {\"ImageFolder\": {\"Path\": \"%s\"}}}", bad);
    CHECK(!strcmp(t_str(o, "DatasetMetadata.Status"), "CREATE_FAILED"), "bad import status %s",
          t_str(o, "DatasetMetadata.Status"));
    CHECK(strstr(t_str(o, "DatasetMetadata.StatusMessage"), "broken.png") != NULL, "message names the file: %s",
          t_str(o, "DatasetMetadata.StatusMessage"));
    cJSON_Delete(o);
    check_stats(s, "bad", "train", 0, 0, 0);
    CHECK(entries(s, "bad", "train", "") == 0, "no entries in a failed dataset");
    EXPECT_ERR("ConflictException", "CREATE_FAILED", s, "UpdateDatasetEntries",
               "{\"ProjectName\": \"bad\", \"DatasetType\": \"train\", \"Changes\": \"{}\"}");
    /* fix the folder and create again over the failed one */
    snprintf(cmd, sizeof cmd, "rm '%s/normal/broken.png'", bad);
    CHECK(system(cmd) == 0, "fix");
    EXPECT_OK(o, s, "CreateDataset", "{\"ProjectName\": \"bad\", \"DatasetType\": \"train\", "
              "\"DatasetSource\": {\"ImageFolder\": {\"Path\": \"%s\"}}}", bad);
    CHECK(!strcmp(t_str(o, "DatasetMetadata.Status"), "CREATE_COMPLETE"), "re-create: %s",
          t_str(o, "DatasetMetadata.StatusMessage"));
    cJSON_Delete(o);
    check_stats(s, "bad", "train", 18, 12, 6);
    t_rm_rf(bad);
}

static void test_delete(lo_service *s) {
    cJSON *o;
    static const char *const projects[] = {"ds", "gt", "bad"};
    for (int i = 0; i < 3; i++) {
        for (int k = 0; k < 2; k++) {
            const char *type = k ? "test" : "train";
            o = t_call(s, "DeleteDataset", "{\"ProjectName\": \"%s\", \"DatasetType\": \"%s\"}", projects[i], type);
            bool existed = o != NULL;
            cJSON_Delete(o);
            if (existed)
                EXPECT_ERR("ResourceNotFoundException", NULL, s, "DescribeDataset",
                           "{\"ProjectName\": \"%s\", \"DatasetType\": \"%s\"}", projects[i], type);
            else
                CHECK(!strcmp(t_err.type, "ResourceNotFoundException"), "delete missing: %s", t_err.type);
        }
        EXPECT_OK(o, s, "DeleteProject", "{\"ProjectName\": \"%s\"}", projects[i]);
        cJSON_Delete(o);
    }
}

int main(void) {
    t_setup("datasets");
    snprintf(folder, sizeof folder, "%s/images", t_home);
    lds_error derr;
    if (lds_demo_generate(folder, 12, 6, 7, &derr) != 0) {
        fprintf(stderr, "lds_demo_generate: %s\n", derr.message);
        return 1;
    }
    lo_service *s = t_open();
    snprintf(s3, sizeof s3, "%s", lo_service_s3_root(s));
    test_image_folder(s);
    test_update(s);
    test_manifest(s);
    test_failed_import(s);
    test_delete(s);
    lo_service_close(s);
    return t_finish();
}
