/* http_access_key.c — `lookout create-access-key [--user-name NAME] [--actions a,b,...]`: makes a
 * key pair for `lookout serve` and prints it in IAM CreateAccessKey's shape (the only time the
 * secret is shown). */
#include "http.h"
#include "http_credentials.h"
#include "http_route.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#define USAGE_EXIT 252

static void usage(FILE *f) {
    fprintf(f,
            "usage: lookout create-access-key [--user-name NAME] [--actions ACTION[,ACTION...]]\n\n"
            "Creates an access key for `lookout serve` in $LOOKOUT_HOME/credentials (mode 0600) and\n"
            "prints it as IAM's CreateAccessKey does. Use the pair as AWS_ACCESS_KEY_ID and\n"
            "AWS_SECRET_ACCESS_KEY with `aws lookoutvision ... --endpoint-url http://HOST:PORT`.\n\n"
            "  --actions   the lookoutvision actions the key may call, e.g.\n"
            "              lookoutvision:DescribeModel,lookoutvision:DetectAnomalies\n"
            "              (default: every action, lookoutvision:*). CreateModel with Tags also needs\n"
            "              lookoutvision:TagResource.\n"
            "  --user-name the name the key is reported under (default: lookout)\n");
}

/* mkdir -p with 0700 for the parts we create. */
static int make_dirs(const char *path) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(buf, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

/* Canonical spelling of an action name, or NULL if it names no lookoutvision action. */
static const char *canonical_action(const char *a, char *buf, size_t cap) {
    if (strcmp(a, "*") == 0 || strcasecmp(a, "lookoutvision:*") == 0) return "lookoutvision:*";
    if (strncasecmp(a, "lookoutvision:", 14) != 0) return NULL;
    for (const lo_http_op *op = lo_http_ops; op->name; op++)
        if (strcasecmp(a + 14, op->name) == 0) {
            snprintf(buf, cap, "lookoutvision:%s", op->name);
            return buf;
        }
    return NULL;
}

static void print_json_string(const char *s) {
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20) printf("\\u%04x", (unsigned char)*s);
        else putchar(*s);
    }
    putchar('"');
}

int lo_http_access_key_main(int argc, char **argv) {
    const char *user = NULL, *actions_arg = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 || strcmp(a, "help") == 0) {
            usage(stdout);
            return 0;
        }
        const char **slot = strcmp(a, "--actions") == 0 ? &actions_arg : strcmp(a, "--user-name") == 0 ? &user : NULL;
        if (!slot) {
            fprintf(stderr, "lookout create-access-key: unknown option '%s'\n\n", a);
            usage(stderr);
            return USAGE_EXIT;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "lookout create-access-key: %s needs a value\n\n", a);
            usage(stderr);
            return USAGE_EXIT;
        }
        *slot = argv[++i];
    }
    if (user && (strlen(user) == 0 || strlen(user) > 64 || strspn(user, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+=,.@_-") != strlen(user))) {
        fprintf(stderr, "lookout create-access-key: --user-name '%s' must be 1-64 of [A-Za-z0-9+=,.@_-] (as IAM user names)\n", user);
        return USAGE_EXIT;
    }
    /* --actions: comma- or space-separated names */
    const char *acts[64];
    char names[64][64];
    size_t n = 0;
    char *copy = actions_arg ? strdup(actions_arg) : NULL;
    if (actions_arg && !copy) return 255;
    for (char *save = NULL, *tok = copy ? strtok_r(copy, ", ", &save) : NULL; tok; tok = strtok_r(NULL, ", ", &save)) {
        if (n == 64) {
            fprintf(stderr, "lookout create-access-key: --actions lists more than 64 actions\n");
            free(copy);
            return USAGE_EXIT;
        }
        const char *c = canonical_action(tok, names[n], sizeof names[n]);
        if (!c) {
            fprintf(stderr, "lookout create-access-key: --actions: '%s' is not a lookoutvision action "
                            "(write e.g. lookoutvision:CreateModel, or lookoutvision:* for all)\n", tok);
            free(copy);
            return USAGE_EXIT;
        }
        acts[n++] = c;
    }
    free(copy);
    if (actions_arg && n == 0) {
        fprintf(stderr, "lookout create-access-key: --actions is empty; name at least one action\n");
        return USAGE_EXIT;
    }
    char home[4096], path[4200], msg[1024];
    if (lo_http_home_dir(home, sizeof home) || make_dirs(home)) {
        fprintf(stderr, "lookout create-access-key: cannot use LOOKOUT_HOME '%s': %s\n",
                getenv("LOOKOUT_HOME") ? getenv("LOOKOUT_HOME") : "(unset; HOME unset too)", strerror(errno));
        return 255;
    }
    snprintf(path, sizeof path, "%s/credentials", home);
    lo_http_new_key k;
    if (lo_http_credentials_add(path, user, acts, n, &k, msg, sizeof msg)) {
        fprintf(stderr, "lookout create-access-key: %s\n", msg);
        return 255;
    }
    char when[40];
    time_t t = (time_t)k.create_date;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
    printf("{\n    \"AccessKey\": {\n        \"UserName\": ");
    print_json_string(k.user);
    printf(",\n        \"AccessKeyId\": ");
    print_json_string(k.access_key);
    printf(",\n        \"Status\": \"Active\",\n        \"SecretAccessKey\": ");
    print_json_string(k.secret);
    printf(",\n        \"CreateDate\": \"%s\"\n    }\n}\n", when);
    memset(k.secret, 0, sizeof k.secret);
    return 0;
}
