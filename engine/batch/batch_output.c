/* batch_output.c — the job's JSON Lines file: one line per image, streamed into a temporary file
 * beside the target and renamed into place only when the job ends (fsync, rename, fsync of the
 * folder), so a reader of the S3 mirror never sees half a result file. */
#define _GNU_SOURCE
#include "batch_internal.h"
#include "batch_output.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *lo_batch_line(const lo_batch_item *it, int segmentation) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "source-ref", it->source_ref ? it->source_ref : "");
    if (it->label >= 0) cJSON_AddStringToObject(o, "GroundTruth", it->label ? "anomaly" : "normal");
    if (it->error) {
        cJSON_AddStringToObject(o, "Error", it->error);
    } else {
        const lo_detect_result *r = &it->res;
        cJSON_AddBoolToObject(o, "IsAnomalous", r->is_anomalous);
        cJSON_AddNumberToObject(o, "Confidence", r->confidence);
        cJSON_AddNumberToObject(o, "AnomalyScore", r->score);
        if (segmentation) {
            /* the fraction of the image the predicted mask marks as any defect class */
            double area = 0;
            cJSON *list = cJSON_AddArrayToObject(o, "Anomalies");
            for (int i = 0; i < r->n_anomalies && i < 32; i++) {
                if (i > 0) area += r->anomalies[i].total_percentage_area;
                cJSON *a = cJSON_CreateObject();
                cJSON_AddStringToObject(a, "Name", r->anomalies[i].name);
                cJSON *pa = cJSON_AddObjectToObject(a, "PixelAnomaly");
                cJSON_AddNumberToObject(pa, "TotalPercentageArea", r->anomalies[i].total_percentage_area);
                cJSON_AddStringToObject(pa, "Color", r->anomalies[i].hex_color);
                cJSON_AddItemToArray(list, a);
            }
            cJSON_AddNumberToObject(o, "AnomalyAreaFraction", area);
        } else {
            /* a classification model predicts no mask: there is no area to report */
            cJSON_AddNullToObject(o, "AnomalyAreaFraction");
        }
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

int lo_batch_mkdirs(const char *dir, char *msg, size_t cap) {
    char *p = strdup(dir);
    if (!p) {
        snprintf(msg, cap, "out of memory");
        return -1;
    }
    for (char *c = p + 1;; c++) {
        if (*c == '/' || !*c) {
            char keep = *c;
            *c = 0;
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                snprintf(msg, cap, "cannot create the folder %s: %s", p, strerror(errno));
                free(p);
                return -1;
            }
            *c = keep;
            if (!keep) break;
        }
    }
    free(p);
    return 0;
}

int lo_batch_writer_open(lo_batch_writer *w, const char *final_path, char *msg, size_t cap) {
    memset(w, 0, sizeof *w);
    snprintf(w->final_path, sizeof w->final_path, "%s", final_path);
    snprintf(w->tmp_path, sizeof w->tmp_path, "%s.tmp.%ld", final_path, (long)getpid());
    int fd = open(w->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 || !(w->f = fdopen(fd, "w"))) {
        snprintf(msg, cap, "cannot create %s: %s", w->tmp_path, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    return 0;
}

int lo_batch_writer_line(lo_batch_writer *w, const char *line, char *msg, size_t cap) {
    if (fputs(line, w->f) == EOF || fputc('\n', w->f) == EOF) {
        snprintf(msg, cap, "cannot write %s: %s", w->tmp_path, strerror(errno));
        return -1;
    }
    return 0;
}

int lo_batch_writer_commit(lo_batch_writer *w, char *msg, size_t cap) {
    int rc = fflush(w->f) == 0 && fsync(fileno(w->f)) == 0 ? 0 : -1;
    int e = errno;
    if (fclose(w->f) != 0 && rc == 0) {
        rc = -1;
        e = errno;
    }
    w->f = NULL;
    if (rc == 0 && rename(w->tmp_path, w->final_path) != 0) {
        rc = -1;
        e = errno;
    }
    if (rc != 0) {
        snprintf(msg, cap, "cannot write %s: %s", w->final_path, strerror(e));
        unlink(w->tmp_path);
        return -1;
    }
    char *dir = strdup(w->final_path);
    char *slash = dir ? strrchr(dir, '/') : NULL;
    if (slash) {
        *slash = 0;
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd); /* the rename itself must survive a crash */
            close(dfd);
        }
    }
    free(dir);
    return 0;
}

void lo_batch_writer_abort(lo_batch_writer *w) {
    if (w->f) {
        fclose(w->f);
        w->f = NULL;
        unlink(w->tmp_path);
    }
}
