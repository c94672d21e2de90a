/* kms_internal.h — what the files of engine/kms share: the key store document, its lock, and
 * key lookup. Not used outside engine/kms. */
#ifndef LOOKOUT_KMS_INTERNAL_H
#define LOOKOUT_KMS_INTERNAL_H

#include "kms.h"

#include <stdbool.h>

/* keys.json:
 *   {"Version": 1,
 *    "Keys": [{"KeyId": uuid, "Description": s, "CreationDate": epoch, "Enabled": bool,
 *              "KeyManager": "CUSTOMER"|"AWS", "Material": base64 of 32 bytes}, ...],
 *    "Aliases": [{"AliasName": "alias/...", "TargetKeyId": uuid, "CreationDate": epoch}, ...]} */

/* Takes the store's lock (creating kms/ 0700 and the lock file 0600); fd or -1 with err. */
int kms_lock(const lo_kms *k, lo_error *err);
void kms_unlock(int fd);
/* Loads keys.json (an empty store when missing); NULL with err when unreadable or damaged. */
cJSON *kms_load(const lo_kms *k, lo_error *err);
/* Writes keys.json atomically, mode 0600. */
int kms_save(const lo_kms *k, const cJSON *store, lo_error *err);
void kms_store_path(const lo_kms *k, char *out, size_t cap);

void kms_key_arn(const lo_kms *k, const char *key_id, char *out, size_t cap);
void kms_alias_arn(const lo_kms *k, const char *alias, char *out, size_t cap);
/* The key object that key_ref (id, key ARN, alias name, alias ARN) names, or NULL with a
 * NotFoundException (ValidationException for a malformed reference) naming key_ref. */
cJSON *kms_find(const lo_kms *k, cJSON *store, const char *key_ref, lo_error *err);
/* Adds a fresh key (and alias, may be NULL); returns the key object inside store. */
cJSON *kms_add_key(cJSON *store, const char *description, const char *manager, const char *alias, double now,
                   lo_error *err);
/* Decodes a key's material into out (32 bytes); -1 with err when damaged. */
int kms_material(const cJSON *key, uint8_t out[LO_KMS_DATA_KEY_BYTES], lo_error *err);
const char *kms_str(const cJSON *o, const char *k);
double kms_now(void);

#endif
