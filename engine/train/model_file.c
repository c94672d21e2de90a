/* model_file.c — the model file: a self-describing, versioned binary.
 *
 *   offset 0   "LOOKOUTM"                 magic (8 bytes)
 *          8   u32 format version (1)     little-endian throughout
 *         12   u32 reserved (0)
 *         16   u64 payload length P
 *         24   payload: u32 M, M bytes of meta JSON (input size, normalization, threshold,
 *                       calibration, classes, member/tensor counts, recipe)
 *                       u32 A, A bytes of architecture JSON (models/NAME.json as trained)
 *                       f32 params[members][n_params], f32 state[members][n_state]
 *     24 + P   32-byte BLAKE2b (libsodium crypto_generichash) of everything before it
 *
 * The reader checks size, magic, version and checksum before it parses anything, and every
 * length against what is left, so a truncated, altered or foreign file is refused by name.
 */
#define _GNU_SOURCE
#include "train_internal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEADER_BYTES 24u
#define HASH_BYTES 32u

static int fail(lo_train_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(lo_train_error *err, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static void put_u32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put_u64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static uint32_t get_u32(const uint8_t *p) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
    return v;
}
static uint64_t get_u64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}
static void put_f32s(uint8_t *p, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        put_u32(p + 4 * i, u);
    }
}
static void get_f32s(float *x, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t u = get_u32(p + 4 * i);
        memcpy(&x[i], &u, 4);
    }
}

static cJSON *meta_to_json(const lo_model_data *md) {
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "format", "lookout-model");
    cJSON_AddStringToObject(m, "arch", md->arch_name);
    cJSON *in = cJSON_AddObjectToObject(m, "input");
    cJSON_AddNumberToObject(in, "channels", md->channels);
    cJSON_AddNumberToObject(in, "height", md->height);
    cJSON_AddNumberToObject(in, "width", md->width);
    cJSON *norm = cJSON_AddObjectToObject(m, "normalization");
    cJSON *mean = cJSON_AddArrayToObject(norm, "mean"), *sd = cJSON_AddArrayToObject(norm, "std");
    for (int c = 0; c < md->channels; c++) {
        cJSON_AddItemToArray(mean, cJSON_CreateNumber(md->mean[c]));
        cJSON_AddItemToArray(sd, cJSON_CreateNumber(md->std[c]));
    }
    cJSON_AddNumberToObject(m, "threshold", md->threshold);
    cJSON_AddNumberToObject(m, "calibration_slope", md->calib_slope);
    cJSON_AddNumberToObject(m, "pixel_threshold", md->pixel_threshold);
    cJSON_AddBoolToObject(m, "has_map", md->has_map);
    cJSON_AddBoolToObject(m, "segmentation", md->segmentation);
    cJSON *cls = cJSON_AddArrayToObject(m, "classes");
    for (int k = 0; k < md->n_classes; k++) {
        cJSON *c = cJSON_CreateObject();
        char hex[8];
        snprintf(hex, sizeof hex, "#%02x%02x%02x", md->class_rgb[k][0], md->class_rgb[k][1], md->class_rgb[k][2]);
        cJSON_AddStringToObject(c, "name", md->class_names[k]);
        cJSON_AddStringToObject(c, "color", hex);
        cJSON_AddItemToArray(cls, c);
    }
    cJSON_AddNumberToObject(m, "members", md->n_members);
    if (md->flip_average) cJSON_AddBoolToObject(m, "flip_average", 1);
    if (md->flip_average_v) cJSON_AddBoolToObject(m, "flip_average_v", 1);
    if (md->fit) cJSON_AddStringToObject(m, "resize", "fit");
    cJSON_AddNumberToObject(m, "params", (double)md->n_params);
    cJSON_AddNumberToObject(m, "state", (double)md->n_state);
    cJSON_AddStringToObject(m, "recipe", md->recipe);
    return m;
}

int lo_model_data_write(const char *path, const lo_model_data *md, lo_train_error *err) {
    if (sodium_init() < 0) return fail(err, "model file %s: libsodium failed to initialize", path);
    cJSON *mj = meta_to_json(md);
    char *meta = cJSON_PrintUnformatted(mj);
    cJSON_Delete(mj);
    if (!meta) return fail(err, "model file %s: out of memory", path);
    size_t meta_len = strlen(meta), arch_len = strlen(md->arch_json);
    size_t n_f = (size_t)md->n_members * (size_t)(md->n_params + md->n_state);
    size_t payload = 4 + meta_len + 4 + arch_len + 4 * n_f;
    size_t total = HEADER_BYTES + payload + HASH_BYTES;
    uint8_t *buf = malloc(total);
    if (!buf) {
        free(meta);
        return fail(err, "model file %s: out of memory (%zu bytes)", path, total);
    }
    memcpy(buf, LO_MODEL_MAGIC, 8);
    put_u32(buf + 8, LO_MODEL_FORMAT_VERSION);
    put_u32(buf + 12, 0);
    put_u64(buf + 16, payload);
    uint8_t *p = buf + HEADER_BYTES;
    put_u32(p, (uint32_t)meta_len);
    memcpy(p + 4, meta, meta_len);
    p += 4 + meta_len;
    put_u32(p, (uint32_t)arch_len);
    memcpy(p + 4, md->arch_json, arch_len);
    p += 4 + arch_len;
    size_t np = (size_t)md->n_members * md->n_params, ns = (size_t)md->n_members * md->n_state;
    put_f32s(p, md->params, np);
    p += 4 * np;
    put_f32s(p, md->state, ns);
    p += 4 * ns;
    crypto_generichash(p, HASH_BYTES, buf, HEADER_BYTES + payload, NULL, 0);
    free(meta);

    /* atomic: a crash leaves the old file or the new one */
    size_t plen = strlen(path) + 16;
    char *tmp = malloc(plen);
    snprintf(tmp, plen, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        free(buf);
        free(tmp);
        return fail(err, "model file %s: cannot create: %s", path, strerror(e));
    }
    size_t off = 0;
    while (off < total) {
        ssize_t w = write(fd, buf + off, total - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            free(buf);
            free(tmp);
            return fail(err, "model file %s: write failed: %s", path, strerror(e));
        }
        off += (size_t)w;
    }
    free(buf);
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        free(tmp);
        return fail(err, "model file %s: cannot commit: %s", path, strerror(e));
    }
    free(tmp);
    return 0;
}

static int json_int(const cJSON *o, const char *key, int lo, int hi, int *out, const char *what,
                    lo_train_error *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < lo ||
        v->valuedouble > hi)
        return fail(err, "model file %s: field \"%s\" missing or out of range [%d, %d]", what, key, lo, hi);
    *out = (int)v->valuedouble;
    return 0;
}

static int json_float(const cJSON *o, const char *key, double lo, double hi, float *out, const char *what,
                      lo_train_error *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi))
        return fail(err, "model file %s: field \"%s\" missing or out of range [%g, %g]", what, key, lo, hi);
    *out = (float)v->valuedouble;
    return 0;
}

static int parse_hex_color(const char *s, uint8_t rgb[3]) {
    if (!s || strlen(s) != 7 || s[0] != '#') return -1;
    for (int i = 0; i < 3; i++) {
        unsigned v = 0;
        for (int j = 0; j < 2; j++) {
            char ch = s[1 + 2 * i + j];
            int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                  : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
            if (d < 0) return -1;
            v = v * 16 + (unsigned)d;
        }
        rgb[i] = (uint8_t)v;
    }
    return 0;
}

static int meta_from_json(const cJSON *m, lo_model_data *md, const char *what, lo_train_error *err) {
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(m, "format");
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, "lookout-model") != 0)
        return fail(err, "model file %s: meta data is not a lookout model's", what);
    const cJSON *arch = cJSON_GetObjectItemCaseSensitive(m, "arch");
    if (!cJSON_IsString(arch) || strlen(arch->valuestring) >= sizeof md->arch_name)
        return fail(err, "model file %s: field \"arch\" missing or too long", what);
    snprintf(md->arch_name, sizeof md->arch_name, "%s", arch->valuestring);
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(m, "input");
    if (!cJSON_IsObject(in)) return fail(err, "model file %s: field \"input\" missing", what);
    if (json_int(in, "channels", 1, 3, &md->channels, what, err) || md->channels == 2)
        return fail(err, "model file %s: input channels must be 1 or 3", what);
    if (json_int(in, "height", 8, 4096, &md->height, what, err) ||
        json_int(in, "width", 8, 4096, &md->width, what, err))
        return -1;
    const cJSON *norm = cJSON_GetObjectItemCaseSensitive(m, "normalization");
    const cJSON *mean = cJSON_GetObjectItemCaseSensitive(norm, "mean");
    const cJSON *sd = cJSON_GetObjectItemCaseSensitive(norm, "std");
    if (!cJSON_IsArray(mean) || !cJSON_IsArray(sd) || cJSON_GetArraySize(mean) != md->channels ||
        cJSON_GetArraySize(sd) != md->channels)
        return fail(err, "model file %s: field \"normalization\" must give mean and std per channel", what);
    for (int c = 0; c < md->channels; c++) {
        const cJSON *a = cJSON_GetArrayItem(mean, c), *b = cJSON_GetArrayItem(sd, c);
        if (!cJSON_IsNumber(a) || !cJSON_IsNumber(b) || !(b->valuedouble > 1e-6 && b->valuedouble < 1e3) ||
            !(fabs(a->valuedouble) < 1e3))
            return fail(err, "model file %s: normalization of channel %d is invalid", what, c);
        md->mean[c] = (float)a->valuedouble;
        md->std[c] = (float)b->valuedouble;
    }
    if (json_float(m, "threshold", 1e-7, 1 - 1e-7, &md->threshold, what, err) ||
        json_float(m, "calibration_slope", 1e-4, 1e4, &md->calib_slope, what, err) ||
        json_float(m, "pixel_threshold", 1e-7, 1 - 1e-7, &md->pixel_threshold, what, err))
        return -1;
    const cJSON *hm = cJSON_GetObjectItemCaseSensitive(m, "has_map");
    const cJSON *seg = cJSON_GetObjectItemCaseSensitive(m, "segmentation");
    if (!cJSON_IsBool(hm) || !cJSON_IsBool(seg))
        return fail(err, "model file %s: fields \"has_map\"/\"segmentation\" must be booleans", what);
    md->has_map = cJSON_IsTrue(hm);
    md->segmentation = cJSON_IsTrue(seg);
    if (md->segmentation && !md->has_map)
        return fail(err, "model file %s: a segmentation model needs an anomaly map", what);
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(m, "classes");
    if (!cJSON_IsArray(cls) || cJSON_GetArraySize(cls) > LO_MODEL_MAX_CLASSES)
        return fail(err, "model file %s: field \"classes\" must be an array of at most %d", what,
                    LO_MODEL_MAX_CLASSES);
    md->n_classes = cJSON_GetArraySize(cls);
    if (md->segmentation && md->n_classes < 2)
        return fail(err, "model file %s: a segmentation model needs background and a defect class", what);
    for (int k = 0; k < md->n_classes; k++) {
        const cJSON *c = cJSON_GetArrayItem(cls, k);
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(c, "name");
        const cJSON *col = cJSON_GetObjectItemCaseSensitive(c, "color");
        if (!cJSON_IsString(nm) || strlen(nm->valuestring) >= 64 || !cJSON_IsString(col) ||
            parse_hex_color(col->valuestring, md->class_rgb[k]) != 0)
            return fail(err, "model file %s: class %d needs a name (< 64 bytes) and a #rrggbb color", what, k);
        snprintf(md->class_names[k], sizeof md->class_names[k], "%s", nm->valuestring);
    }
    if (json_int(m, "members", 1, LO_MODEL_MAX_MEMBERS, &md->n_members, what, err)) return -1;
    /* optional (absent in files written before it): the score averages the mirror image's */
    const cJSON *fa = cJSON_GetObjectItemCaseSensitive(m, "flip_average");
    if (fa && !cJSON_IsBool(fa)) return fail(err, "model file %s: field \"flip_average\" must be a boolean", what);
    md->flip_average = cJSON_IsTrue(fa);
    const cJSON *fv = cJSON_GetObjectItemCaseSensitive(m, "flip_average_v");
    if (fv && !cJSON_IsBool(fv)) return fail(err, "model file %s: field \"flip_average_v\" must be a boolean", what);
    md->flip_average_v = cJSON_IsTrue(fv);
    /* absent in files written before aspect-preserving input: "squash" */
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(m, "resize");
    if (rs && (!cJSON_IsString(rs) || (strcmp(rs->valuestring, "fit") && strcmp(rs->valuestring, "squash"))))
        return fail(err, "model file %s: field \"resize\" must be \"fit\" or \"squash\"", what);
    md->fit = rs && !strcmp(rs->valuestring, "fit");
    const cJSON *np = cJSON_GetObjectItemCaseSensitive(m, "params");
    const cJSON *ns = cJSON_GetObjectItemCaseSensitive(m, "state");
    if (!cJSON_IsNumber(np) || !cJSON_IsNumber(ns) || np->valuedouble < 1 || np->valuedouble > 1e9 ||
        ns->valuedouble < 0 || ns->valuedouble > 1e9 || np->valuedouble != floor(np->valuedouble) ||
        ns->valuedouble != floor(ns->valuedouble))
        return fail(err, "model file %s: tensor sizes \"params\"/\"state\" are invalid", what);
    md->n_params = (uint64_t)np->valuedouble;
    md->n_state = (uint64_t)ns->valuedouble;
    const cJSON *rc = cJSON_GetObjectItemCaseSensitive(m, "recipe");
    snprintf(md->recipe, sizeof md->recipe, "%s", cJSON_IsString(rc) ? rc->valuestring : "");
    return 0;
}

int lo_model_data_parse(const uint8_t *buf, size_t len, const char *what, lo_model_data *md,
                        lo_train_error *err) {
    memset(md, 0, sizeof *md);
    if (len < HEADER_BYTES + HASH_BYTES || memcmp(buf, LO_MODEL_MAGIC, 8) != 0)
        return fail(err, "model file %s: not a lookout model file (bad magic or too short: %zu bytes)", what, len);
    uint32_t ver = get_u32(buf + 8);
    if (ver != LO_MODEL_FORMAT_VERSION)
        return fail(err, "model file %s: format version %u is not supported (this build reads version %u)",
                    what, ver, LO_MODEL_FORMAT_VERSION);
    uint64_t payload = get_u64(buf + 16);
    if (payload != len - HEADER_BYTES - HASH_BYTES)
        return fail(err, "model file %s: truncated or padded: header announces %llu payload bytes, file holds %zu",
                    what, (unsigned long long)payload, len - HEADER_BYTES - HASH_BYTES);
    if (sodium_init() < 0) return fail(err, "model file %s: libsodium failed to initialize", what);
    uint8_t hash[HASH_BYTES];
    crypto_generichash(hash, HASH_BYTES, buf, HEADER_BYTES + payload, NULL, 0);
    if (sodium_memcmp(hash, buf + HEADER_BYTES + payload, HASH_BYTES) != 0)
        return fail(err, "model file %s: checksum mismatch (the file was altered or damaged)", what);

    const uint8_t *p = buf + HEADER_BYTES, *end = buf + HEADER_BYTES + payload;
    if (end - p < 4) return fail(err, "model file %s: meta data length missing", what);
    uint32_t meta_len = get_u32(p);
    p += 4;
    if ((uint64_t)(end - p) < meta_len) return fail(err, "model file %s: meta data runs past the payload", what);
    cJSON *meta = cJSON_ParseWithLength((const char *)p, meta_len);
    p += meta_len;
    if (!cJSON_IsObject(meta)) {
        cJSON_Delete(meta);
        return fail(err, "model file %s: meta data is not a JSON object", what);
    }
    int rc = meta_from_json(meta, md, what, err);
    cJSON_Delete(meta);
    if (rc) return -1;
    if (end - p < 4) return fail(err, "model file %s: architecture length missing", what);
    uint32_t arch_len = get_u32(p);
    p += 4;
    if ((uint64_t)(end - p) < arch_len) return fail(err, "model file %s: architecture runs past the payload", what);
    md->arch_json = malloc((size_t)arch_len + 1);
    if (!md->arch_json) return fail(err, "model file %s: out of memory", what);
    memcpy(md->arch_json, p, arch_len);
    md->arch_json[arch_len] = 0;
    if (strlen(md->arch_json) != arch_len) {
        lo_model_data_free(md);
        return fail(err, "model file %s: architecture JSON holds a NUL byte", what);
    }
    p += arch_len;
    uint64_t n_f = (uint64_t)md->n_members * (md->n_params + md->n_state);
    if ((uint64_t)(end - p) != 4 * n_f) {
        lo_model_data_free(md);
        return fail(err, "model file %s: tensor data is %llu bytes, meta data announces %llu", what,
                    (unsigned long long)(end - p), (unsigned long long)(4 * n_f));
    }
    size_t np = (size_t)(md->n_members * md->n_params), ns = (size_t)(md->n_members * md->n_state);
    md->params = malloc(4 * np);
    md->state = malloc(4 * ns + 4);
    if (!md->params || !md->state) {
        lo_model_data_free(md);
        return fail(err, "model file %s: out of memory", what);
    }
    get_f32s(md->params, p, np);
    get_f32s(md->state, p + 4 * np, ns);
    for (size_t i = 0; i < np; i++)
        if (!isfinite(md->params[i])) {
            lo_model_data_free(md);
            return fail(err, "model file %s: parameter %zu is not finite", what, i);
        }
    return 0;
}

int lo_model_data_read(const char *path, lo_model_data *md, lo_train_error *err) {
    memset(md, 0, sizeof *md);
    FILE *f = fopen(path, "rb");
    if (!f) return fail(err, "model file %s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return fail(err, "model file %s: not a regular file", path);
    }
    if (st.st_size > (off_t)4 << 30) {
        fclose(f);
        return fail(err, "model file %s: too large (%lld bytes)", path, (long long)st.st_size);
    }
    size_t len = (size_t)st.st_size;
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf || fread(buf, 1, len, f) != len) {
        free(buf);
        fclose(f);
        return fail(err, "model file %s: read failed", path);
    }
    fclose(f);
    int rc = lo_model_data_parse(buf, len, path, md, err);
    free(buf);
    return rc;
}

void lo_model_data_free(lo_model_data *md) {
    if (!md) return;
    free(md->arch_json);
    free(md->params);
    free(md->state);
    md->arch_json = NULL;
    md->params = md->state = NULL;
}

extern const struct {
    const char *name;
    const char *json;
} lo_models_embedded[];

const char *lo_train_arch_json(const char *name) {
    for (int i = 0; lo_models_embedded[i].name; i++)
        if (strcmp(lo_models_embedded[i].name, name) == 0) return lo_models_embedded[i].json;
    return NULL;
}
