/* cli_wait.c — `lookout wait model-trained`: polls DescribeModel until training ends, with a
 * progress bar when stderr is a terminal. Lookout for Vision has no waiter in botocore; this one
 * follows the AWS CLI's waiter conventions (exit 255 and "Waiter ... failed" on a failure state). */
#define _GNU_SOURCE
#include "cli_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A fraction from the status message when it says one ("epoch 3/20", "42%"), else -1. */
static double progress_fraction(const char *msg) {
    if (!msg) return -1;
    const char *pct = strchr(msg, '%');
    if (pct) {
        const char *p = pct;
        while (p > msg && ((p[-1] >= '0' && p[-1] <= '9') || p[-1] == '.')) p--;
        if (p < pct) return fmin(1.0, atof(p) / 100.0);
    }
    for (const char *p = msg; (p = strchr(p, '/')); p++) {
        const char *a = p;
        while (a > msg && a[-1] >= '0' && a[-1] <= '9') a--;
        if (a == p || !(p[1] >= '1' && p[1] <= '9')) continue;
        double num = atof(a), den = atof(p + 1);
        if (den > 0) return fmin(1.0, num / den);
    }
    return -1;
}

static void draw_bar(const char *status, const char *msg, double elapsed, int tick) {
    char bar[31];
    double f = progress_fraction(msg);
    int width = 30;
    if (f >= 0) {
        int full = (int)(f * width + 0.5);
        for (int i = 0; i < width; i++) bar[i] = i < full ? '#' : '.';
    } else { /* no measure of progress: a sweeping block shows it is alive */
        int pos = tick % (2 * (width - 4));
        if (pos >= width - 4) pos = 2 * (width - 4) - pos;
        for (int i = 0; i < width; i++) bar[i] = (i >= pos && i < pos + 4) ? '#' : '.';
    }
    bar[width] = 0;
    int secs = (int)elapsed;
    char line[640];
    snprintf(line, sizeof line, "[%s] %-17s %d:%02d  %s", bar, status ? status : "", secs / 60, secs % 60,
             msg ? msg : "");
    /* one line that never wraps, or the carriage return cannot redraw it */
    struct winsize ws;
    int cols = ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 ? ws.ws_col - 1 : 79;
    for (char *c = line; *c; c++)
        if ((unsigned char)*c < 0x20) *c = ' ';
    fprintf(stderr, "\r%-*.*s", cols, cols, line);
    fflush(stderr);
}

static int is_trained_state(const char *st) {
    static const char *const ok[] = {"TRAINED", "STARTING_HOSTING", "HOSTED", "HOSTING_FAILED", "STOPPING_HOSTING",
                                     "SYSTEM_UPDATING"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        if (!strcmp(st, ok[i])) return 1;
    return 0;
}

int lo_cli_wait_trained(lo_service *s, const char *project, const char *version, double delay_s, double timeout_s,
                        int progress, cJSON **final) {
    double t0 = now_s();
    int tick = 0;
    if (final) *final = NULL;
    for (;;) {
        cJSON *in = cJSON_CreateObject();
        cJSON_AddStringToObject(in, "ProjectName", project);
        cJSON_AddStringToObject(in, "ModelVersion", version);
        cJSON *out = NULL;
        lo_error err;
        memset(&err, 0, sizeof err);
        int rc = lo_service_call(s, "DescribeModel", in, NULL, 0, &out, &err);
        cJSON_Delete(in);
        if (rc != 0) {
            if (progress) fputs("\n", stderr);
            return lo_cli_service_error("DescribeModel", &err);
        }
        const cJSON *md = cJSON_GetObjectItemCaseSensitive(out, "ModelDescription");
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(md, "Status");
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(md, "StatusMessage");
        /* copies: the bar is redrawn after the response is freed */
        char status[64], message[512];
        snprintf(status, sizeof status, "%s", cJSON_IsString(st) ? st->valuestring : "");
        snprintf(message, sizeof message, "%s", cJSON_IsString(msg) ? msg->valuestring : "");
        double elapsed = now_s() - t0;
        if (progress) draw_bar(status, message, elapsed, tick++);
        if (is_trained_state(status)) {
            if (progress) fputs("\n", stderr);
            if (final) *final = out;
            else cJSON_Delete(out);
            return 0;
        }
        if (strcmp(status, "TRAINING") != 0) { /* TRAINING_FAILED, DELETING: it will never be trained */
            if (progress) fputs("\n", stderr);
            fprintf(stderr, "\nWaiter ModelTrained failed: Waiter encountered a terminal failure state: For expression "
                            "\"ModelDescription.Status\" we matched expected path: \"%s\"%s%s\n",
                    status, *message ? "\nStatusMessage: " : "", message);
            if (final) *final = out;
            else cJSON_Delete(out);
            return LO_CLI_EXIT_OTHER;
        }
        cJSON_Delete(out);
        if (elapsed > timeout_s) {
            if (progress) fputs("\n", stderr);
            fprintf(stderr, "\nWaiter ModelTrained failed: Max attempts exceeded (waited %.0f s for project %s model %s)\n",
                    elapsed, project, version);
            return LO_CLI_EXIT_OTHER;
        }
        /* poll faster than the delay while drawing, so the bar moves */
        double step = progress ? fmin(delay_s, 0.25) : delay_s;
        for (double slept = 0; slept < delay_s; slept += step) {
            usleep((useconds_t)(step * 1e6));
            if (progress && slept + step < delay_s) draw_bar(status, message, now_s() - t0, tick++);
        }
    }
}

int lo_cli_wait_main(int argc, char **argv) {
    if (argc < 2) return lo_cli_usage_error("the following arguments are required: wait_name (valid: model-trained)");
    if (strcmp(argv[1], "model-trained") != 0) {
        return lo_cli_usage_error("argument wait_name: Invalid choice, valid choices are:\n\nmodel-trained");
    }
    const char *project = NULL, *version = NULL;
    double delay = 1.0, max_wait = 86400;
    lo_sbuf unknown = {0};
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "help") && argc == 3) {
            lo_sbuf_free(&unknown);
            printf("NAME\n       wait model-trained -\n\nSYNOPSIS\n            wait model-trained\n"
                   "          --project-name <value>\n          --model-version <value>\n"
                   "          [--delay <seconds>]\n          [--max-wait <seconds>]\n");
            return 0;
        }
        if (!strcmp(a, "--project-name") || !strcmp(a, "--model-version") || !strcmp(a, "--delay") ||
            !strcmp(a, "--max-wait")) {
            if (!v || (v[0] == '-' && v[1] == '-')) {
                lo_sbuf_free(&unknown);
                return lo_cli_usage_error("argument %s: expected one argument", a);
            }
            if (!strcmp(a, "--project-name")) project = v;
            else if (!strcmp(a, "--model-version")) version = v;
            else {
                char *end;
                double d = strtod(v, &end);
                if (*end || !(d > 0)) {
                    lo_sbuf_free(&unknown);
                    return lo_cli_usage_error("argument %s: invalid positive number value: '%s'", a, v);
                }
                if (!strcmp(a, "--delay")) delay = d;
                else max_wait = d;
            }
            i++;
        } else if (!strcmp(a, "--output") || !strcmp(a, "--region") || !strcmp(a, "--profile")) {
            i++; /* accepted for aws-style scripts; the waiter prints nothing on success */
        } else {
            lo_sbuf_printf(&unknown, "%s%s", unknown.len ? ", " : "", a);
        }
    }
    if (!project || !version) {
        lo_sbuf_free(&unknown);
        return lo_cli_usage_error("the following arguments are required: %s%s%s", project ? "" : "--project-name",
                                  !project && !version ? ", " : "", version ? "" : "--model-version");
    }
    if (unknown.len) {
        fprintf(stderr, "\nusage: lookout [options] <command> [parameters]\nTo see help text, you can run:\n\n"
                        "  lookout help\n  lookout <command> help\n\nUnknown options: %s\n\n", lo_sbuf_str(&unknown));
        lo_sbuf_free(&unknown);
        return LO_CLI_EXIT_USAGE;
    }
    lo_sbuf_free(&unknown);
    lo_error err;
    memset(&err, 0, sizeof err);
    lo_service *s = lo_service_open(&err);
    if (!s) return lo_cli_service_error("DescribeModel", &err);
    int rc = lo_cli_wait_trained(s, project, version, delay, max_wait, isatty(STDERR_FILENO), NULL);
    lo_service_close(s);
    return rc;
}
