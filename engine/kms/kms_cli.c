/* kms_cli.c — `lookout create-key | list-keys | list-aliases | describe-key | disable-key |
 * enable-key`: the key store's commands, printed as `aws kms ...` prints them (KeyMetadata,
 * Keys, Aliases) through the CLI's --output formats. */
#include "kms_internal.h"
#include "cli/cli_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *key_id, *description, *alias, *output;
} kms_args;

static int usage(const char *cmd, const char *synopsis, const char *fmt, const char *arg) {
    fprintf(stderr, "\nusage: lookout %s %s\n\nlookout %s: error: ", cmd, synopsis, cmd);
    fprintf(stderr, fmt, arg);
    fputs("\n\n", stderr);
    return LO_CLI_EXIT_USAGE;
}

/* allowed: the options the command takes, e.g. "--key-id"; returns -1 when done (printed help),
 * 0 ok, or the usage exit code. */
static int parse(int argc, char **argv, const char *const *allowed, const char *synopsis, const char *help,
                 kms_args *a) {
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "help") || !strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("NAME\n       %s -\n\nDESCRIPTION\n%s\nSYNOPSIS\n            %s\n          %s\n", argv[0], help,
                   argv[0], synopsis);
            return -1;
        }
        const char **slot = NULL;
        if (!strcmp(argv[i], "--output")) slot = &a->output;
        for (const char *const *o = allowed; *o && !slot; o++) {
            if (strcmp(argv[i], *o)) continue;
            slot = !strcmp(*o, "--key-id")        ? &a->key_id
                   : !strcmp(*o, "--description") ? &a->description
                                                  : &a->alias;
        }
        if (!slot) return usage(argv[0], synopsis, "Unknown options: %s", argv[i]);
        if (i + 1 >= argc) return usage(argv[0], synopsis, "argument %s: expected one argument", argv[i]);
        *slot = argv[++i];
    }
    if (a->output && strcmp(a->output, "json") && strcmp(a->output, "text") && strcmp(a->output, "table") &&
        strcmp(a->output, "yaml"))
        return usage(argv[0], synopsis, "argument --output: Invalid choice '%s' (json, text, table, yaml)", a->output);
    return 0;
}

static int open_kms(lo_kms *k, const char *operation) {
    lo_error err;
    lo_service *s = lo_service_open(&err);
    if (!s) return lo_cli_service_error(operation, &err);
    lo_kms_init(k, lo_service_home(s));
    lo_service_close(s);
    return 0;
}

static int print_out(const cJSON *v, const char *format, const char *title) {
    lo_sbuf b = {0};
    lo_cli_format(format ? format : "json", v, title, &b);
    fputs(lo_sbuf_str(&b), stdout);
    if (b.len && b.s[b.len - 1] != '\n') fputc('\n', stdout);
    lo_sbuf_free(&b);
    return 0;
}

static void add_time(cJSON *o, const char *name, double epoch) {
    char iso[64];
    lo_cli_iso8601(epoch, iso, sizeof iso);
    cJSON_AddStringToObject(o, name, iso);
}

/* DescribeKey's KeyMetadata for a stored key. */
static cJSON *key_metadata(const lo_kms *k, const cJSON *key) {
    char arn[256];
    kms_key_arn(k, kms_str(key, "KeyId"), arn, sizeof arn);
    int enabled = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(key, "Enabled"));
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "AWSAccountId", k->account);
    cJSON_AddStringToObject(m, "KeyId", kms_str(key, "KeyId"));
    cJSON_AddStringToObject(m, "Arn", arn);
    add_time(m, "CreationDate", cJSON_GetObjectItemCaseSensitive(key, "CreationDate")->valuedouble);
    cJSON_AddBoolToObject(m, "Enabled", enabled);
    cJSON_AddStringToObject(m, "Description", kms_str(key, "Description"));
    cJSON_AddStringToObject(m, "KeyUsage", "ENCRYPT_DECRYPT");
    cJSON_AddStringToObject(m, "KeyState", enabled ? "Enabled" : "Disabled");
    cJSON_AddStringToObject(m, "Origin", "AWS_KMS");
    cJSON_AddStringToObject(m, "KeyManager", kms_str(key, "KeyManager"));
    cJSON_AddStringToObject(m, "CustomerMasterKeySpec", "SYMMETRIC_DEFAULT");
    cJSON_AddStringToObject(m, "KeySpec", "SYMMETRIC_DEFAULT");
    cJSON *alg = cJSON_AddArrayToObject(m, "EncryptionAlgorithms");
    cJSON_AddItemToArray(alg, cJSON_CreateString("SYMMETRIC_DEFAULT"));
    cJSON_AddBoolToObject(m, "MultiRegion", 0);
    cJSON *out = cJSON_CreateObject();
    cJSON_AddItemToObject(out, "KeyMetadata", m);
    return out;
}

/* KMS's constraints: Description up to 8192 characters; alias names alias/[a-zA-Z0-9/_-]+ up to
 * 256, and alias/aws/ is reserved for keys the service owns. */
static int check_create(const kms_args *a, lo_error *err) {
    if (a->description) {
        if (strlen(a->description) > 8192) {
            lo_error_set(err, "ValidationException", "1 validation error detected: Value at 'description' failed to "
                         "satisfy constraint: Member must have length less than or equal to 8192");
            return -1;
        }
        for (const char *p = a->description; *p; p++)
            if ((unsigned char)*p < 0x20 && *p != '\t' && *p != '\n') {
                lo_error_set(err, "ValidationException", "Description contains a control character (0x%02x)",
                             (unsigned char)*p);
                return -1;
            }
    }
    if (a->alias) {
        const char *n = a->alias;
        int ok = !strncmp(n, "alias/", 6) && strlen(n) > 6 && strlen(n) <= 256;
        for (const char *p = n + 6; ok && *p; p++)
            ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '/' ||
                 *p == '_' || *p == '-';
        if (!ok) {
            lo_error_set(err, "ValidationException", "1 validation error detected: Value '%s' at 'aliasName' failed to "
                         "satisfy constraint: Member must satisfy regular expression pattern: ^alias/[a-zA-Z0-9/_-]+$",
                         n);
            return -1;
        }
        if (!strncmp(n, "alias/aws/", 10)) {
            lo_error_set(err, "NotAuthorizedException", "alias %s: names beginning with alias/aws/ are reserved for "
                         "keys the service owns", n);
            return -1;
        }
    }
    return 0;
}

int lo_kms_create_key_main(int argc, char **argv) {
    static const char *const opts[] = {"--description", "--alias", NULL};
    static const char *syn = "[--description <value>] [--alias <alias/NAME>]";
    kms_args a;
    int rc = parse(argc, argv, opts, syn,
                   "       Creates a key in the local key store ($LOOKOUT_HOME/kms/keys.json, mode 0600)\n"
                   "       and prints its KeyMetadata as KMS CreateKey does. Use its KeyId, Arn or the\n"
                   "       alias with create-model --kms-key-id to encrypt the model's copy of the\n"
                   "       training and test images. An extension of Lookout for Vision.\n",
                   &a);
    if (rc) return rc < 0 ? 0 : rc;
    lo_kms k;
    if ((rc = open_kms(&k, "CreateKey"))) return rc;
    lo_error err;
    if (check_create(&a, &err)) return lo_cli_service_error("CreateKey", &err);
    int fd = kms_lock(&k, &err);
    if (fd < 0) return lo_cli_service_error("CreateKey", &err);
    cJSON *store = kms_load(&k, &err), *out = NULL;
    cJSON *key = store ? kms_add_key(store, a.description, "CUSTOMER", a.alias, kms_now(), &err) : NULL;
    if (key && kms_save(&k, store, &err) == 0) out = key_metadata(&k, key);
    kms_unlock(fd);
    cJSON_Delete(store);
    if (!out) return lo_cli_service_error("CreateKey", &err);
    print_out(out, a.output, "CreateKey");
    cJSON_Delete(out);
    return 0;
}

int lo_kms_describe_key_main(int argc, char **argv) {
    static const char *const opts[] = {"--key-id", NULL};
    static const char *syn = "--key-id <value>";
    kms_args a;
    int rc = parse(argc, argv, opts, syn,
                   "       Shows a key of the local key store as KMS DescribeKey does. --key-id takes\n"
                   "       the key id, its ARN, alias/NAME or the alias ARN.\n",
                   &a);
    if (rc) return rc < 0 ? 0 : rc;
    if (!a.key_id) return usage(argv[0], syn, "the following arguments are required: %s", "--key-id");
    lo_kms k;
    if ((rc = open_kms(&k, "DescribeKey"))) return rc;
    lo_error err;
    int fd = kms_lock(&k, &err);
    if (fd < 0) return lo_cli_service_error("DescribeKey", &err);
    cJSON *store = kms_load(&k, &err), *out = NULL;
    cJSON *key = store ? kms_find(&k, store, a.key_id, &err) : NULL;
    if (key) out = key_metadata(&k, key);
    kms_unlock(fd);
    cJSON_Delete(store);
    if (!out) return lo_cli_service_error("DescribeKey", &err);
    print_out(out, a.output, "DescribeKey");
    cJSON_Delete(out);
    return 0;
}

static int list_main(int argc, char **argv, int aliases) {
    static const char *const opts[] = {NULL};
    const char *op = aliases ? "ListAliases" : "ListKeys";
    kms_args a;
    int rc = parse(argc, argv, opts, "",
                   aliases ? "       Lists the aliases of the local key store as KMS ListAliases does.\n"
                           : "       Lists the keys of the local key store as KMS ListKeys does.\n",
                   &a);
    if (rc) return rc < 0 ? 0 : rc;
    lo_kms k;
    if ((rc = open_kms(&k, op))) return rc;
    lo_error err;
    int fd = kms_lock(&k, &err);
    if (fd < 0) return lo_cli_service_error(op, &err);
    cJSON *store = kms_load(&k, &err);
    kms_unlock(fd);
    if (!store) return lo_cli_service_error(op, &err);
    cJSON *out = cJSON_CreateObject();
    char arn[512];
    const cJSON *it;
    if (!aliases) {
        cJSON *list = cJSON_AddArrayToObject(out, "Keys");
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(store, "Keys")) {
            cJSON *o = cJSON_CreateObject();
            kms_key_arn(&k, kms_str(it, "KeyId"), arn, sizeof arn);
            cJSON_AddStringToObject(o, "KeyId", kms_str(it, "KeyId"));
            cJSON_AddStringToObject(o, "KeyArn", arn);
            cJSON_AddItemToArray(list, o);
        }
    } else {
        cJSON *list = cJSON_AddArrayToObject(out, "Aliases");
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(store, "Aliases")) {
            cJSON *o = cJSON_CreateObject();
            kms_alias_arn(&k, kms_str(it, "AliasName"), arn, sizeof arn);
            cJSON_AddStringToObject(o, "AliasName", kms_str(it, "AliasName"));
            cJSON_AddStringToObject(o, "AliasArn", arn);
            cJSON_AddStringToObject(o, "TargetKeyId", kms_str(it, "TargetKeyId"));
            const cJSON *cd = cJSON_GetObjectItemCaseSensitive(it, "CreationDate");
            if (cJSON_IsNumber(cd)) add_time(o, "CreationDate", cd->valuedouble);
            cJSON_AddItemToArray(list, o);
        }
    }
    cJSON_AddBoolToObject(out, "Truncated", 0);
    cJSON_Delete(store);
    print_out(out, a.output, op);
    cJSON_Delete(out);
    return 0;
}

int lo_kms_list_keys_main(int argc, char **argv) { return list_main(argc, argv, 0); }
int lo_kms_list_aliases_main(int argc, char **argv) { return list_main(argc, argv, 1); }

static int set_enabled(int argc, char **argv, int enable) {
    static const char *const opts[] = {"--key-id", NULL};
    static const char *syn = "--key-id <value>";
    const char *op = enable ? "EnableKey" : "DisableKey";
    kms_args a;
    int rc = parse(argc, argv, opts, syn,
                   enable ? "       Enables a key of the local key store again (KMS EnableKey). Prints nothing.\n"
                          : "       Disables a key of the local key store (KMS DisableKey): create-model refuses it\n"
                            "       and models it protects cannot train until it is enabled. Prints nothing.\n",
                   &a);
    if (rc) return rc < 0 ? 0 : rc;
    if (!a.key_id) return usage(argv[0], syn, "the following arguments are required: %s", "--key-id");
    lo_kms k;
    if ((rc = open_kms(&k, op))) return rc;
    lo_error err;
    int fd = kms_lock(&k, &err);
    if (fd < 0) return lo_cli_service_error(op, &err);
    cJSON *store = kms_load(&k, &err);
    cJSON *key = store ? kms_find(&k, store, a.key_id, &err) : NULL;
    rc = -1;
    if (key && !strcmp(kms_str(key, "KeyManager"), "AWS")) {
        lo_error_set(&err, "UnsupportedOperationException", "key %s is owned by the service (%s); it cannot be %s",
                     kms_str(key, "KeyId"), LO_KMS_SERVICE_ALIAS, enable ? "enabled" : "disabled");
    } else if (key) {
        cJSON_ReplaceItemInObject(key, "Enabled", cJSON_CreateBool(enable));
        rc = kms_save(&k, store, &err);
    }
    kms_unlock(fd);
    cJSON_Delete(store);
    return rc ? lo_cli_service_error(op, &err) : 0;
}

int lo_kms_disable_key_main(int argc, char **argv) { return set_enabled(argc, argv, 0); }
int lo_kms_enable_key_main(int argc, char **argv) { return set_enabled(argc, argv, 1); }
