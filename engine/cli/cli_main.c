/* cli_main.c — `lookout <command> [options]`: the command registry and top-level dispatch, the
 * AWS-CLI-like usage text and `lookout help`. Service operations come from the generated table
 * (cli_operations.c); every other command is one entry in `commands` plus one function, so
 * extension commands slot in the same way. */
#include "engine.h"
#include "cli_internal.h"
#include "http/http.h"
#include "batch/batch.h"
#include "kms/kms.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
    const char *summary;               /* one line for `lookout help`; NULL hides the command */
    const char *help;                  /* `lookout help <name>` */
} lo_cli_command;

static int worker_main(int argc, char **argv) {
    if (argc != 3) return lo_cli_usage_error("usage: lookout __worker <project> <version>");
    return lo_service_worker_main(argv[1], argv[2]);
}

static int help_main(int argc, char **argv);

static const lo_cli_command commands[] = {
    {"help", help_main, "Shows this overview, or the manual of one command: lookout help <command>.",
     "NAME\n       help -\n\nSYNOPSIS\n            lookout help [<command>]\n"},
    {"wait", lo_cli_wait_main, "Waits until a condition is met: lookout wait model-trained --project-name P "
                               "--model-version V.",
     "NAME\n       wait -\n\nDESCRIPTION\n"
     "       Polls describe-model until the model version has finished training. Draws a\n"
     "       progress bar when stderr is a terminal. Exits 0 when the model is TRAINED\n"
     "       (or already hosted), 255 when it ends TRAINING_FAILED (the StatusMessage is\n"
     "       printed on stderr) or the wait times out, 254 on a service error.\n\n"
     "SYNOPSIS\n            wait model-trained\n          --project-name <value>\n          --model-version <value>\n"
     "          [--delay <seconds>]        (default 1)\n          [--max-wait <seconds>]     (default 86400)\n"},
    {"demo", lo_cli_demo_main, "Generates a small synthetic dataset, trains a model on it and shows the results.",
     "NAME\n       demo -\n\nDESCRIPTION\n"
     "       Generates the project's deterministic synthetic dataset of product images\n"
     "       with defects under $LOOKOUT_HOME/demo/, creates a project and a dataset from\n"
     "       it (ImageFolder), runs create-model with OutputConfig\n"
     "       S3Location={Bucket=lookout-demo,Prefix=demo/}, waits for training, prints\n"
     "       describe-model and where the evaluation files went (under $LOOKOUT_S3_ROOT).\n\n"
     "SYNOPSIS\n            demo\n"},
    {"batch-detect", lo_batch_detect_main,
     "Scores a folder or manifest of images with a trained model; JSON Lines results, metrics when labelled.",
     "NAME\n       batch-detect -\n\nDESCRIPTION\n"
     "       An extension of Lookout for Vision: scores every image of --image-folder\n"
     "       (DIR/normal/ and DIR/anomaly/ are labelled, images directly in DIR are not)\n"
     "       or of a Ground Truth --manifest (s3://BUCKET/KEY under $LOOKOUT_S3_ROOT, or a\n"
     "       local path) with a TRAINED or hosted model version, without hosting it. Writes\n"
     "       <Prefix>BatchDetect-<project>-<version>-<time>.jsonl under the OutputConfig,\n"
     "       one JSON line per image: source-ref, GroundTruth (labelled input), IsAnomalous,\n"
     "       Confidence, AnomalyScore, AnomalyAreaFraction (null for classification\n"
     "       models) and Anomalies (segmentation), or Error for an image that could not be\n"
     "       read or scored (the job goes on). With labelled images it also writes\n"
     "       BatchEvaluationResult-...json (EvaluationResult layout) and\n"
     "       BatchEvaluationReport-...html beside it. Streams in batches over all cores,\n"
     "       shows progress on a terminal, prints a JSON summary. Exit 0, 252 on a usage\n"
     "       error, 254 on a service error.\n\n"
     "SYNOPSIS\n            batch-detect\n          --project-name <value>\n          --model-version <value>\n"
     "          --image-folder <value> | --manifest <value>\n"
     "          --output-config <value>    (S3Location={Bucket=b,Prefix=p/})\n"
     "          [--batch-size <value>]     (default 16)\n"},
    {"serve", lo_http_serve_main, "Serves the Lookout for Vision REST API over HTTP (SigV4 authenticated).", NULL},
    {"create-access-key", lo_http_access_key_main, "Creates an access key for `lookout serve` clients.", NULL},
    /* the local key store for --kms-key-id (engine/kms), shaped like `aws kms` */
    {"create-key", lo_kms_create_key_main, "Creates a key in the local key store for create-model --kms-key-id.", NULL},
    {"list-keys", lo_kms_list_keys_main, "Lists the keys of the local key store.", NULL},
    {"list-aliases", lo_kms_list_aliases_main, "Lists the aliases of the local key store.", NULL},
    {"describe-key", lo_kms_describe_key_main, "Shows a key of the local key store (id, ARN or alias).", NULL},
    {"disable-key", lo_kms_disable_key_main, "Disables a key: create-model refuses it, its models cannot train.", NULL},
    {"enable-key", lo_kms_enable_key_main, "Enables a disabled key again.", NULL},
    {"__worker", worker_main, NULL, NULL}, /* the detached training worker */
};
static const int n_commands = (int)(sizeof commands / sizeof commands[0]);

int lo_cli_usage_error(const char *fmt, ...) {
    va_list ap;
    fputs("\nusage: lookout [options] <command> [parameters]\nTo see help text, you can run:\n\n"
          "  lookout help\n  lookout <command> help\n\nlookout: error: ",
          stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n\n", stderr);
    return LO_CLI_EXIT_USAGE;
}

static int invalid_command(void) {
    /* every visible command, two columns as argparse shows choices */
    const char *names[128];
    int n = 0;
    for (int i = 0; i < lo_cli_n_operations && n < 128; i++) names[n++] = lo_cli_operations[i].cli_name;
    for (int i = 0; i < n_commands && n < 128; i++)
        if (commands[i].summary) names[n++] = commands[i].name;
    lo_sbuf b = {0};
    lo_sbuf_puts(&b, "argument command: Invalid choice, valid choices are:\n\n");
    for (int i = 0; i < n; i += 2) {
        if (i + 1 < n) lo_sbuf_printf(&b, "%-40s | %-40s\n", names[i], names[i + 1]);
        else lo_sbuf_printf(&b, "%-40s\n", names[i]);
    }
    b.s[--b.len] = 0;
    int rc = lo_cli_usage_error("%s", lo_sbuf_str(&b));
    lo_sbuf_free(&b);
    return rc;
}

static void print_overview(void) {
    printf("NAME\n       lookout -\n\nDESCRIPTION\n"
           "       lookout is an on-device replacement for Amazon Lookout for Vision. Its\n"
           "       commands, options, shorthand and JSON values, output formats and errors\n"
           "       are those of `aws lookoutvision`; state lives under $LOOKOUT_HOME and the\n"
           "       evaluation files under $LOOKOUT_S3_ROOT, laid out like the S3 bucket.\n\n"
           "SYNOPSIS\n          lookout [options] <command> [parameters]\n\n"
           "       Use lookout <command> help for information on a specific command.\n\n"
           "GLOBAL OPTIONS\n"
           "       --output (string) json (default), text, table or yaml.\n"
           "       --no-paginate (boolean) One service call on list commands.\n"
           "       --cli-input-json | --cli-input-yaml (string) Arguments from JSON/YAML.\n"
           "       --generate-cli-skeleton (string) input, output or yaml-input.\n\n"
           "AVAILABLE COMMANDS\n");
    for (int i = 0; i < lo_cli_n_operations; i++)
        printf("       o %-24s %s\n", lo_cli_operations[i].cli_name, lo_cli_operations[i].summary);
    for (int i = 0; i < n_commands; i++)
        if (commands[i].summary) printf("       o %-24s %s\n", commands[i].name, commands[i].summary);
}

static int help_main(int argc, char **argv) {
    if (argc < 2) {
        print_overview();
        return 0;
    }
    const lo_cli_operation *op = lo_cli_find_operation(argv[1]);
    if (op) {
        lo_cli_print_help(op, stdout);
        return 0;
    }
    for (int i = 0; i < n_commands; i++)
        if (commands[i].summary && !strcmp(commands[i].name, argv[1])) {
            if (commands[i].help) {
                fputs(commands[i].help, stdout);
                return 0;
            }
            char *sub[] = {(char *)commands[i].name, "help", NULL};
            return commands[i].run(2, sub);
        }
    return invalid_command();
}

int lo_cli_main(int argc, char **argv) {
    /* global options may come before the command (aws --output text lookoutvision ...) */
    int cmd = 1;
    const char *global_output = NULL;
    while (cmd < argc && argv[cmd][0] == '-' && argv[cmd][1] == '-') {
        if (!strcmp(argv[cmd], "--version")) {
            printf("lookout/0.1 (Amazon Lookout for Vision 2020-11-20 compatible)\n");
            return 0;
        }
        if (!strcmp(argv[cmd], "--output") && cmd + 1 < argc) {
            global_output = argv[cmd + 1];
            cmd += 2;
            continue;
        }
        if (!strcmp(argv[cmd], "--no-cli-pager") || !strcmp(argv[cmd], "--debug")) {
            cmd++;
            continue;
        }
        if ((!strcmp(argv[cmd], "--region") || !strcmp(argv[cmd], "--profile") || !strcmp(argv[cmd], "--color")) &&
            cmd + 1 < argc) { /* accepted for aws-style scripts; lookout is local */
            cmd += 2;
            continue;
        }
        break;
    }
    if (cmd >= argc) return lo_cli_usage_error("the following arguments are required: command");
    const char *name = argv[cmd];
    char **sub = argv + cmd;
    int sub_argc = argc - cmd;
    /* keep a leading --output by handing it to the command */
    char **with_output = NULL;
    if (global_output) {
        with_output = calloc((size_t)sub_argc + 3, sizeof(char *));
        for (int i = 0; i < sub_argc; i++) with_output[i] = sub[i];
        with_output[sub_argc] = "--output";
        with_output[sub_argc + 1] = (char *)global_output;
        sub = with_output;
        sub_argc += 2;
    }
    int rc = -1;
    const lo_cli_operation *op = lo_cli_find_operation(name);
    if (op) {
        rc = lo_cli_run_operation(op, sub_argc, sub);
    } else {
        for (int i = 0; i < n_commands; i++)
            if (!strcmp(commands[i].name, name)) {
                if (commands[i].help && sub_argc == 2 && !strcmp(sub[1], "help")) {
                    fputs(commands[i].help, stdout);
                    rc = 0;
                } else {
                    rc = commands[i].run(sub_argc, sub);
                }
                break;
            }
        if (rc == -1) rc = invalid_command();
    }
    free(with_output);
    return rc;
}
