/* kms_keys.c — keys and what they protect: resolving a key reference (id, ARN, alias, alias ARN),
 * creating keys (and the service-owned key on first use), and wrapping / unwrapping per-model
 * data keys with XChaCha20-Poly1305 under a key's material, the key id authenticated with it. */
#include "kms_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WRAP_VERSION 1
#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
#define BLOB_BYTES (1 + NONCE_BYTES + LO_KMS_DATA_KEY_BYTES + TAG_BYTES)

void kms_key_arn(const lo_kms *k, const char *key_id, char *out, size_t cap) {
    snprintf(out, cap, "arn:aws:kms:%s:%s:key/%s", k->region, k->account, key_id);
}

void kms_alias_arn(const lo_kms *k, const char *alias, char *out, size_t cap) {
    snprintf(out, cap, "arn:aws:kms:%s:%s:%s", k->region, k->account, alias);
}

static cJSON *key_by_id(cJSON *store, const char *id) {
    cJSON *key;
    cJSON_ArrayForEach(key, cJSON_GetObjectItemCaseSensitive(store, "Keys"))
        if (!strcmp(kms_str(key, "KeyId"), id)) return key;
    return NULL;
}

static cJSON *alias_by_name(cJSON *store, const char *name) {
    cJSON *al;
    cJSON_ArrayForEach(al, cJSON_GetObjectItemCaseSensitive(store, "Aliases"))
        if (!strcmp(kms_str(al, "AliasName"), name)) return al;
    return NULL;
}

cJSON *kms_find(const lo_kms *k, cJSON *store, const char *key_ref, lo_error *err) {
    const char *ref = key_ref;
    if (!strncmp(ref, "arn:", 4)) {
        char prefix[300];
        int n = snprintf(prefix, sizeof prefix, "arn:aws:kms:%s:%s:", k->region, k->account);
        if (n <= 0 || strncmp(ref, prefix, (size_t)n)) {
            lo_error_set(err, "ValidationException", "KMS key ARN '%s' is not of this key store: its ARNs start with "
                         "'%s' (LOOKOUT_REGION / LOOKOUT_ACCOUNT_ID); see lookout list-keys", key_ref, prefix);
            return NULL;
        }
        ref += n;
        if (!strncmp(ref, "key/", 4)) ref += 4;
        else if (strncmp(ref, "alias/", 6)) {
            lo_error_set(err, "ValidationException", "KMS key ARN '%s' names neither key/<id> nor alias/<name>", key_ref);
            return NULL;
        }
    }
    const char *id = ref;
    if (!strncmp(ref, "alias/", 6)) {
        cJSON *al = alias_by_name(store, ref);
        if (!al) {
            lo_error_set(err, "NotFoundException", "alias %s is not in the local key store (lookout list-aliases shows "
                         "the aliases; create-key --alias %s makes one)", ref, ref);
            return NULL;
        }
        id = kms_str(al, "TargetKeyId");
    }
    cJSON *key = key_by_id(store, id);
    if (!key)
        lo_error_set(err, "NotFoundException", "KMS key '%s' is not in the local key store (lookout list-keys shows "
                     "the keys; lookout create-key makes one)", key_ref);
    return key;
}

static void new_uuid(char out[37]) {
    uint8_t b[16];
    randombytes_buf(b, sizeof b);
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
             b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

cJSON *kms_add_key(cJSON *store, const char *description, const char *manager, const char *alias, double now,
                   lo_error *err) {
    if (alias && alias_by_name(store, alias)) {
        lo_error_set(err, "AlreadyExistsException", "alias %s already exists (lookout list-aliases shows its key)",
                     alias);
        return NULL;
    }
    char id[37];
    do new_uuid(id);
    while (key_by_id(store, id));
    uint8_t m[LO_KMS_DATA_KEY_BYTES];
    char b64[sodium_base64_ENCODED_LEN(LO_KMS_DATA_KEY_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    crypto_aead_xchacha20poly1305_ietf_keygen(m);
    sodium_bin2base64(b64, sizeof b64, m, sizeof m, sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(m, sizeof m);
    cJSON *key = cJSON_CreateObject();
    cJSON_AddStringToObject(key, "KeyId", id);
    cJSON_AddStringToObject(key, "Description", description ? description : "");
    cJSON_AddNumberToObject(key, "CreationDate", now);
    cJSON_AddBoolToObject(key, "Enabled", 1);
    cJSON_AddStringToObject(key, "KeyManager", manager);
    cJSON_AddStringToObject(key, "Material", b64);
    sodium_memzero(b64, sizeof b64);
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(store, "Keys"), key);
    if (alias) {
        cJSON *al = cJSON_CreateObject();
        cJSON_AddStringToObject(al, "AliasName", alias);
        cJSON_AddStringToObject(al, "TargetKeyId", id);
        cJSON_AddNumberToObject(al, "CreationDate", now);
        cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(store, "Aliases"), al);
    }
    return key;
}

/* A usable key: present and enabled. The message names the reference as the user gave it. */
static cJSON *find_usable(const lo_kms *k, cJSON *store, const char *key_ref, lo_error *err) {
    cJSON *key = kms_find(k, store, key_ref, err);
    if (!key) {
        char msg[sizeof err->message];
        snprintf(msg, sizeof msg, "%s", err->message);
        lo_error_set(err, "ValidationException", "KmsKeyId %s cannot be used: %s", key_ref, msg);
        return NULL;
    }
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(key, "Enabled"))) {
        char arn[256];
        kms_key_arn(k, kms_str(key, "KeyId"), arn, sizeof arn);
        lo_error_set(err, "ValidationException", "KmsKeyId %s cannot be used: key %s is disabled (lookout enable-key "
                     "--key-id %s turns it back on)", key_ref, arn, kms_str(key, "KeyId"));
        return NULL;
    }
    return key;
}

int lo_kms_check_usable(const lo_kms *k, const char *key_ref, char *arn, size_t cap, lo_error *err) {
    int fd = kms_lock(k, err);
    if (fd < 0) return -1;
    cJSON *store = kms_load(k, err);
    int rc = -1;
    cJSON *key = store ? find_usable(k, store, key_ref, err) : NULL;
    if (key) {
        kms_key_arn(k, kms_str(key, "KeyId"), arn, cap);
        rc = 0;
    }
    cJSON_Delete(store);
    kms_unlock(fd);
    return rc;
}

/* The service-owned key, created (and saved) on first use; call with the lock held. */
static cJSON *service_key(const lo_kms *k, cJSON *store, lo_error *err) {
    cJSON *al = alias_by_name(store, LO_KMS_SERVICE_ALIAS);
    if (al) return find_usable(k, store, LO_KMS_SERVICE_ALIAS, err);
    cJSON *key = kms_add_key(store, "Default key that protects my Lookout for Vision data when no other key is defined",
                             "AWS", LO_KMS_SERVICE_ALIAS, kms_now(), err);
    if (!key || kms_save(k, store, err)) return NULL;
    return key;
}

int lo_kms_generate_data_key(const lo_kms *k, const char *key_ref, uint8_t plain[LO_KMS_DATA_KEY_BYTES],
                             cJSON **wrapped, lo_error *err) {
    if (sodium_init() < 0) {
        lo_error_set(err, "InternalServerException", "libsodium failed to initialize");
        return -1;
    }
    int fd = kms_lock(k, err);
    if (fd < 0) return -1;
    cJSON *store = kms_load(k, err);
    cJSON *key = !store ? NULL : key_ref ? find_usable(k, store, key_ref, err) : service_key(k, store, err);
    uint8_t m[LO_KMS_DATA_KEY_BYTES];
    int rc = -1;
    if (key && kms_material(key, m, err) == 0) {
        const char *id = kms_str(key, "KeyId");
        uint8_t blob[BLOB_BYTES];
        blob[0] = WRAP_VERSION;
        randombytes_buf(blob + 1, NONCE_BYTES);
        crypto_aead_xchacha20poly1305_ietf_keygen(plain);
        crypto_aead_xchacha20poly1305_ietf_encrypt(blob + 1 + NONCE_BYTES, NULL, plain, LO_KMS_DATA_KEY_BYTES,
                                                   (const uint8_t *)id, strlen(id), NULL, blob + 1, m);
        sodium_memzero(m, sizeof m);
        char b64[sodium_base64_ENCODED_LEN(BLOB_BYTES, sodium_base64_VARIANT_ORIGINAL)];
        sodium_bin2base64(b64, sizeof b64, blob, sizeof blob, sodium_base64_VARIANT_ORIGINAL);
        char arn[256];
        kms_key_arn(k, id, arn, sizeof arn);
        *wrapped = cJSON_CreateObject();
        cJSON_AddStringToObject(*wrapped, "KeyId", arn);
        cJSON_AddStringToObject(*wrapped, "CiphertextBlob", b64);
        rc = 0;
    }
    cJSON_Delete(store);
    kms_unlock(fd);
    return rc;
}

int lo_kms_decrypt_data_key(const lo_kms *k, const cJSON *wrapped, uint8_t plain[LO_KMS_DATA_KEY_BYTES],
                            lo_error *err) {
    const char *arn = kms_str(wrapped, "KeyId"), *b64 = kms_str(wrapped, "CiphertextBlob");
    uint8_t blob[BLOB_BYTES];
    size_t n = 0;
    if (!*arn || sodium_base642bin(blob, sizeof blob, b64, strlen(b64), NULL, &n, NULL,
                                   sodium_base64_VARIANT_ORIGINAL) != 0 ||
        n != sizeof blob || blob[0] != WRAP_VERSION) {
        lo_error_set(err, "InternalServerException", "the wrapped data key is damaged (no KeyId or a CiphertextBlob "
                     "that is not %d bytes of version %d)", BLOB_BYTES, WRAP_VERSION);
        return -1;
    }
    int fd = kms_lock(k, err);
    if (fd < 0) return -1;
    cJSON *store = kms_load(k, err);
    cJSON *key = store ? find_usable(k, store, arn, err) : NULL;
    uint8_t m[LO_KMS_DATA_KEY_BYTES];
    int rc = -1;
    if (key && kms_material(key, m, err) == 0) {
        const char *id = kms_str(key, "KeyId");
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain, NULL, NULL, blob + 1 + NONCE_BYTES,
                                                       sizeof blob - 1 - NONCE_BYTES, (const uint8_t *)id,
                                                       strlen(id), blob + 1, m) != 0)
            lo_error_set(err, "InternalServerException", "the data key wrapped by %s failed authentication: it was "
                         "altered or the key store no longer holds the key it was made with", arn);
        else rc = 0;
        sodium_memzero(m, sizeof m);
    }
    if (rc != 0) sodium_memzero(plain, LO_KMS_DATA_KEY_BYTES);
    cJSON_Delete(store);
    kms_unlock(fd);
    return rc;
}
