/* http_credentials.h — the server's access keys ($LOOKOUT_HOME/credentials, JSON, mode 0600):
 * who may sign requests and which lookoutvision actions each key may call. */
#ifndef LOOKOUT_HTTP_CREDENTIALS_H
#define LOOKOUT_HTTP_CREDENTIALS_H

#include <stddef.h>

typedef struct lo_http_credentials lo_http_credentials;

/* $LOOKOUT_HOME (default $HOME/.lookout) into buf; -1 if neither variable is set. */
int lo_http_home_dir(char *buf, size_t cap);

/* Opens the store at path (the file may not exist yet: no keys). The file is re-read whenever it
 * changes, so keys made while the server runs work at once. */
lo_http_credentials *lo_http_credentials_open(const char *path);
void lo_http_credentials_close(lo_http_credentials *c);

/* Secret of an active key into secret; 0, or -1 if unknown (matches lo_sigv4_secret_fn). */
int lo_http_credentials_secret(void *c, const char *access_key, char *secret, size_t cap);

/* 1 if the key may call `action` ("lookoutvision:CreateModel"); user name copied out. */
int lo_http_credentials_allows(lo_http_credentials *c, const char *access_key, const char *action,
                               char *user, size_t user_cap);

typedef struct {
    char access_key[32];
    char secret[48];
    char user[128];
    long long create_date; /* epoch seconds */
} lo_http_new_key;

/* Appends a new active key (actions NULL/0 = every action) to the file at path, atomically and
 * under a lock. Returns 0, or -1 with msg. */
int lo_http_credentials_add(const char *path, const char *user, const char *const *actions,
                            size_t n_actions, lo_http_new_key *out, char *msg, size_t msg_len);

#endif
