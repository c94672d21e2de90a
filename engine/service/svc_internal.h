/* svc_internal.h — what the files of engine/service share: the service struct, on-disk state
 * helpers (atomic writes, locks, paths), input validation and the operation handlers.
 * Not used outside engine/service.
 *
 * On-disk layout under $LOOKOUT_HOME (DESIGN.md §3):
 *   lock                          global flock: project create/delete
 *   tokens/<sha256>.json          ClientToken records (idempotency)
 *   trash/                        renamed-away state being removed (delete is rename + rm -rf)
 *   projects/<name>/project.json  ProjectName, CreationTimestamp, Tags
 *   projects/<name>/lock          per-project flock serializing every change in the project
 *   projects/<name>/next_version  next model version (never decreases: versions are never reused)
 *   projects/<name>/datasets/<train|test>/meta.json + data/ (a dataset.h directory)
 *   projects/<name>/models/<v>/model.json, worker.lock, progress.txt, log.txt, datasets/, model.bin
 *                                 data_key.json (the snapshot's data key, wrapped by engine/kms)
 */
#ifndef LOOKOUT_SVC_INTERNAL_H
#define LOOKOUT_SVC_INTERNAL_H

#include "service.h"
#include <pthread.h>
#include <stdbool.h>

#define SVC_PATH_MAX 4096
#define SVC_TOKEN_WINDOW_S (8.0 * 3600.0)

typedef struct svc_hosted svc_hosted;

struct lo_service {
    char home[SVC_PATH_MAX];
    char s3_root[SVC_PATH_MAX];
    char region[128];
    char account[64];
    pthread_mutex_t mu;     /* guards `hosted` (the loaded-model cache) */
    svc_hosted *hosted;
};

/* ---- store.c: files, locks, paths ---------------------------------------------------------- */

/* snprintf for paths and messages. Lengths are bounded by validation (home <= 2048 bytes, names
 * <= 255, keys <= 1024), so truncation cannot happen; the wrapper keeps gcc's
 * -Wformat-truncation from flagging every path join. */
int svc_fmt(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
double svc_now(void);
/* Writes data to path via path.tmp.<pid>.<rand>: write, fsync, rename, fsync dir. */
int svc_write_atomic(const char *path, const void *data, size_t len, lo_error *err);
int svc_write_json(const char *path, const cJSON *doc, lo_error *err);
/* Reads a whole file (NUL-terminated). NULL with errno set when missing. */
char *svc_read_file(const char *path, size_t *len);
/* NULL when missing (errno ENOENT) or unparsable (err filled, InternalServerException). */
cJSON *svc_read_json(const char *path, lo_error *err);
int svc_mkdirs(const char *path, lo_error *err);
int svc_rmtree(const char *path);
int svc_fsync_dir(const char *dir);
bool svc_exists(const char *path);
/* Renames path into $HOME/trash and removes it there: the rename is the atomic delete. */
int svc_remove_atomic(lo_service *s, const char *path, lo_error *err);
/* Exclusive flock on a lock file (created); returns the fd, -1 with err. */
int svc_lock(const char *path, lo_error *err);
void svc_unlock(int fd);
int svc_lock_project(lo_service *s, const char *project, lo_error *err);
int svc_lock_global(lo_service *s, lo_error *err);
/* Removes ".new*" folders in dir (call with the lock that guards their creation). */
void svc_sweep_partial(const char *dir);

void svc_project_dir(const lo_service *s, const char *project, char *out);
void svc_dataset_dir(const lo_service *s, const char *project, const char *type, char *out);
void svc_model_dir(const lo_service *s, const char *project, long version, char *out);
void svc_project_arn(const lo_service *s, const char *project, char *out, size_t cap);
void svc_model_arn(const lo_service *s, const char *project, long version, char *out, size_t cap);
/* Both check the thing exists; ResourceNotFoundException otherwise. */
int svc_require_project(lo_service *s, const char *project, lo_error *err);
/* Sorted names in dir, skipping dot-files (temporaries); *n = 0 when dir is missing. */
int svc_list_names(const char *dir, char ***names, size_t *n);
void svc_free_names(char **names, size_t n);

/* base64 helpers (libsodium, original variant with padding). Caller frees. */
char *svc_b64_encode(const uint8_t *data, size_t len);
uint8_t *svc_b64_decode(const char *text, size_t *len);

/* ---- validate.c: the service model's constraints ------------------------------------------- */

/* Each returns 0 when absent-and-optional or valid, else -1 with a ValidationException naming the
 * field and the value. `required` makes absence an error. */
int svc_get_string(const cJSON *in, const char *field, bool required, const char **out, lo_error *err);
int svc_check_project_name(const char *field, const char *v, lo_error *err);
int svc_check_client_token(const char *v, lo_error *err);
int svc_check_dataset_type(const char *field, const char *v, lo_error *err);
int svc_check_model_version(const char *field, const char *v, bool allow_latest, lo_error *err);
int svc_check_description(const char *v, lo_error *err);
int svc_check_kms_key_id(const char *v, lo_error *err);
int svc_check_bucket(const char *field, const char *v, lo_error *err);
/* S3 key or prefix: pattern, length, and no "." / ".." segments (the mirror must not be escaped). */
int svc_check_s3_key(const char *field, const char *v, bool is_prefix, lo_error *err);
int svc_check_tag_list(const char *field, const cJSON *tags, lo_error *err);
int svc_check_tag_key(const char *field, const char *v, lo_error *err);
int svc_check_page(const cJSON *in, int *max_results, int64_t *start_index, lo_error *err);
char *svc_page_token(int64_t next_index);
/* Rejects members the operation does not have (a typo must not be silently ignored). */
int svc_check_members(const cJSON *in, const char *op, const char *const *allowed, lo_error *err);

/* ---- idempotency.c ------------------------------------------------------------------------- */

/* Looks a ClientToken up (call with the project or global lock held). Returns 1 and sets
 * *replay to the first call's response when the same token came with the same parameters within
 * 8 hours; 0 when new; -1 with ConflictException when the parameters differ. */
int svc_token_check(lo_service *s, const char *op, const cJSON *in, cJSON **replay, lo_error *err);
int svc_token_store(lo_service *s, const char *op, const cJSON *in, const cJSON *response, lo_error *err);

/* ---- per-area operation handlers ----------------------------------------------------------- */

typedef int (*svc_handler)(lo_service *s, const cJSON *in, const uint8_t *body, size_t body_len,
                           cJSON **out, lo_error *err);

int svc_create_project(lo_service *, const cJSON *, const uint8_t *, size_t, cJSON **, lo_error *);
int svc_describe_project(lo_service *, const cJSON *, const uint8_t *, size_t, cJSON **, lo_error *);
int svc_list_projects(lo_service *, const cJSON *, const uint8_t *, size_t, cJSON **, lo_error *);
int svc_delete_project(lo_service *, const cJSON *, const uint8_t *, size_t, cJSON **, lo_error *);
int svc_create_dataset(lo_service *, const cJSON *, const uint8_t *, size_t, cJSON **, lo_error *);
int svc_describe_dataset(lo_service *, const cJSON *, const uint8_t *, size_t, cJSON **, lo_error *);
int svc_list_dataset_entries(lo_service *, const cJSON *, const uint8_t *, size_t, cJSON **, lo_error *);
int svc_update_dataset_entries(lo_service *, const cJSON *, const uint8_t *, size_t, cJSON **, lo_error *);
int svc_delete_dataset(lo_service *, const cJSON *, const uint8_t *, size_t, cJSON **, lo_error *);
int svc_create_model(lo_service *, const cJSON *, const uint8_t *, size_t, cJSON **, lo_error *);
int svc_describe_model(lo_service *, const cJSON *, const uint8_t *, size_t, cJSON **, lo_error *);
int svc_list_models(lo_service *, const cJSON *, const uint8_t *, size_t, cJSON **, lo_error *);
int svc_delete_model(lo_service *, const cJSON *, const uint8_t *, size_t, cJSON **, lo_error *);
int svc_start_model(lo_service *, const cJSON *, const uint8_t *, size_t, cJSON **, lo_error *);
int svc_stop_model(lo_service *, const cJSON *, const uint8_t *, size_t, cJSON **, lo_error *);
int svc_detect_anomalies(lo_service *, const cJSON *, const uint8_t *, size_t, cJSON **, lo_error *);
int svc_tag_resource(lo_service *, const cJSON *, const uint8_t *, size_t, cJSON **, lo_error *);
int svc_untag_resource(lo_service *, const cJSON *, const uint8_t *, size_t, cJSON **, lo_error *);
int svc_list_tags_for_resource(lo_service *, const cJSON *, const uint8_t *, size_t, cJSON **, lo_error *);

/* datasets.c: {"DatasetType", "CreationTimestamp", "Status", "StatusMessage"} or NULL when the
 * project has no dataset of that type. */
cJSON *svc_dataset_metadata(lo_service *s, const char *project, const char *type);

/* ---- models.c, shared with hosting.c, tags.c and worker.c ---------------------------------- */

/* Resolves "latest" / a number to an existing version; ResourceNotFoundException otherwise. */
int svc_resolve_version(lo_service *s, const char *project, const char *version, long *out, lo_error *err);
/* Loads model.json, first turning a TRAINING model whose worker is gone into TRAINING_FAILED
 * (persisted). svc_model_load takes the project lock itself when it must write (call it without
 * the lock: flock would deadlock against our own descriptor); _locked is for holders of the lock. */
cJSON *svc_model_load(lo_service *s, const char *project, long version, lo_error *err);
cJSON *svc_model_load_locked(lo_service *s, const char *project, long version, lo_error *err);
int svc_model_save(lo_service *s, const char *project, long version, const cJSON *meta, lo_error *err);

/* worker.c: removes evaluation-file temporaries a dead worker left in the S3 mirror. */
void svc_sweep_eval_temps(lo_service *s, const char *project, long version, const cJSON *meta);

/* hosting.c: drops a cached model (stop-model, delete-model). */
void svc_hosted_drop(lo_service *s, const char *project, long version);
void svc_hosted_free_all(lo_service *s);

#endif
