/* kms.h — the local key store, an extension shaped like AWS KMS: customer keys (create-key,
 * list-keys, list-aliases, describe-key, disable-key, enable-key) and the service-owned key
 * (alias/aws/lookoutvision, made on first use), used to wrap the per-model data keys that
 * encrypt a model version's dataset snapshot (DESIGN.md §5, --kms-key-id).
 *
 * Store: $LOOKOUT_HOME/kms/keys.json (mode 0600; folder 0700), every change under an exclusive
 * flock on $LOOKOUT_HOME/kms/lock and written temp + fsync + rename. Key material never leaves
 * the store; callers get data keys (32 bytes) and their wrapped form only.
 *
 * Errors: -1 with lo_error filled (ValidationException for a bad or unusable key reference,
 * NotFoundException / DisabledException / AlreadyExistsException from the key commands,
 * InternalServerException for a damaged store, naming the file). */
#ifndef LOOKOUT_KMS_H
#define LOOKOUT_KMS_H

#include "service/service.h"

#include <stddef.h>
#include <stdint.h>

#define LO_KMS_DATA_KEY_BYTES 32
#define LO_KMS_SERVICE_ALIAS "alias/aws/lookoutvision"

typedef struct {
    char home[4096];   /* $LOOKOUT_HOME (resolved) */
    char region[128];  /* LOOKOUT_REGION, default "local" */
    char account[64];  /* LOOKOUT_ACCOUNT_ID, default "000000000000" */
} lo_kms;

/* Region and account from the environment (as lo_service_open reads them), home as given. */
void lo_kms_init(lo_kms *k, const char *home);

/* Checks that key_ref (a key id, its ARN, alias/NAME or an alias ARN) names an enabled key;
 * writes the key's ARN to arn (cap >= 256). ValidationException naming key_ref otherwise. */
int lo_kms_check_usable(const lo_kms *k, const char *key_ref, char *arn, size_t cap, lo_error *err);

/* A fresh random data key, and the same wrapped (encrypted) by key_ref's key, or by the service
 * key when key_ref is NULL: *wrapped is a new JSON object {"KeyId": <key ARN>, "CiphertextBlob":
 * <base64>} (as KMS GenerateDataKey returns). The caller wipes plain with sodium_memzero. */
int lo_kms_generate_data_key(const lo_kms *k, const char *key_ref, uint8_t plain[LO_KMS_DATA_KEY_BYTES],
                             cJSON **wrapped, lo_error *err);

/* Unwraps what lo_kms_generate_data_key returned; fails when the key is gone or disabled, or
 * the blob was altered. */
int lo_kms_decrypt_data_key(const lo_kms *k, const cJSON *wrapped, uint8_t plain[LO_KMS_DATA_KEY_BYTES],
                            lo_error *err);

/* Parses and checks the text of a key store file; `what` names it in errors. New cJSON or NULL. */
cJSON *lo_kms_store_parse(const char *text, size_t len, const char *what, lo_error *err);

/* The commands (argv[0] is the command name); print as the AWS CLI prints `aws kms ...`. */
int lo_kms_create_key_main(int argc, char **argv);
int lo_kms_list_keys_main(int argc, char **argv);
int lo_kms_list_aliases_main(int argc, char **argv);
int lo_kms_describe_key_main(int argc, char **argv);
int lo_kms_disable_key_main(int argc, char **argv);
int lo_kms_enable_key_main(int argc, char **argv);

#endif
