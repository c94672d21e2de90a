/* store.c — the dataset directory on disk: reading and writing manifest.jsonl (the user's lines),
 * index.jsonl (where each line's copies are, its label and import time) and meta.json (classes,
 * id counter); and the read-only views on it: lds_open, lds_stats_get, lds_list. */
#include "lds_internal.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TEXT_BYTES ((size_t)1 << 30)

int lds_for_each_line(const char *text, size_t len, int (*fn)(const char *, size_t, int, void *), void *ctx)
{
    size_t i = 0;
    if (len >= 3 && (uint8_t)text[0] == 0xEF && (uint8_t)text[1] == 0xBB && (uint8_t)text[2] == 0xBF) i = 3;
    int line_no = 0;
    while (i < len) {
        size_t s = i;
        while (i < len && text[i] != '\n') i++;
        size_t e = i;
        if (i < len) i++; /* past '\n' */
        line_no++;
        while (e > s && text[e - 1] == '\r') e--;
        size_t k = s;
        while (k < e && (text[k] == ' ' || text[k] == '\t')) k++;
        if (k == e) continue; /* blank line, e.g. the trailing newline */
        int rc = fn(text + s, e - s, line_no, ctx);
        if (rc) return rc;
    }
    return 0;
}

lds_rec *lds_db_push(lds_db *db)
{
    if (db->n == db->cap) {
        size_t cap = db->cap ? db->cap * 2 : 64;
        lds_rec *nr = realloc(db->recs, cap * sizeof *nr);
        if (!nr) return NULL;
        db->recs = nr;
        db->cap = cap;
    }
    lds_rec *r = &db->recs[db->n++];
    memset(r, 0, sizeof *r);
    r->label = -1;
    return r;
}

static void rec_free(lds_rec *r)
{
    free(r->json_line);
    free(r->source_ref);
    free(r->image_rel);
    free(r->mask_rel);
    free(r->src_path);
    free(r->mask_src_path);
}

void lds_db_free(lds_db *db)
{
    for (size_t i = 0; i < db->n; i++) rec_free(&db->recs[i]);
    free(db->recs);
    memset(db, 0, sizeof *db);
}

int lds_db_class(lds_db *db, const char *name, const uint8_t rgb[3])
{
    for (int k = 1; k < db->n_classes; k++)
        if (!strcmp(db->classes[k].name, name)) return k;
    if (db->n_classes >= LDS_MAX_CLASSES) return -1;
    lds_class *c = &db->classes[db->n_classes];
    snprintf(c->name, sizeof c->name, "%s", name);
    memcpy(c->rgb, rgb, 3);
    return db->n_classes++;
}

static char *read_text(const char *dir, const char *name, size_t *len, lds_error *err)
{
    char *p = lds_path_join(dir, name);
    if (!p) {
        lds_set_error(err, "out of memory");
        return NULL;
    }
    char *t = (char *)lds_read_file(p, MAX_TEXT_BYTES, len, err);
    free(p);
    return t;
}

typedef struct {
    lds_db *db;
    size_t idx;
    const char *dir;
    lds_error *err;
} load_ctx;

static int load_manifest_line(const char *line, size_t len, int line_no, void *vctx)
{
    load_ctx *c = vctx;
    lds_rec *r = lds_db_push(c->db);
    if (!r) return -1;
    r->json_line = strndup(line, len);
    snprintf(r->where, sizeof r->where, "%s/manifest.jsonl line %d", c->dir, line_no);
    return 0;
}

static int load_index_line(const char *line, size_t len, int line_no, void *vctx)
{
    load_ctx *c = vctx;
    if (c->idx >= c->db->n) {
        lds_set_error(c->err, "%s/index.jsonl line %d: more lines than manifest.jsonl (dataset damaged)", c->dir,
                      line_no);
        return -1;
    }
    lds_rec *r = &c->db->recs[c->idx++];
    cJSON *o = cJSON_ParseWithLength(line, len);
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(o, "source-ref");
    const cJSON *img = cJSON_GetObjectItemCaseSensitive(o, "image");
    if (!cJSON_IsString(src) || !cJSON_IsString(img)) {
        lds_set_error(c->err, "%s/index.jsonl line %d: damaged entry", c->dir, line_no);
        cJSON_Delete(o);
        return -1;
    }
    r->source_ref = strdup(src->valuestring);
    r->image_rel = strdup(img->valuestring);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "mask");
    if (cJSON_IsString(m)) r->mask_rel = strdup(m->valuestring);
    r->label = cJSON_GetObjectItemCaseSensitive(o, "label") ? cJSON_GetObjectItemCaseSensitive(o, "label")->valueint : -1;
#define GETI(field, key) r->field = cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, key)) ? cJSON_GetObjectItemCaseSensitive(o, key)->valueint : 0
    GETI(mask_known, "mask_known");
    GETI(w, "w");
    GETI(h, "h");
    GETI(ch, "ch");
    GETI(defect, "defect");
#undef GETI
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "time");
    r->time = cJSON_IsNumber(t) ? t->valuedouble : 0;
    cJSON_Delete(o);
    return 0;
}

static int parse_rgb(const char *s, uint8_t rgb[3])
{
    unsigned v;
    if (!s || sscanf(s, "#%6x", &v) != 1) return -1;
    rgb[0] = (uint8_t)(v >> 16);
    rgb[1] = (uint8_t)(v >> 8);
    rgb[2] = (uint8_t)v;
    return 0;
}

int lds_db_load(const char *dir, lds_db *db, lds_error *err)
{
    memset(db, 0, sizeof *db);
    size_t len;
    char *meta = read_text(dir, "meta.json", &len, err);
    if (!meta) {
        lds_set_error(err, "%s is not a dataset directory (meta.json missing or unreadable)", dir);
        return -1;
    }
    cJSON *m = cJSON_ParseWithLength(meta, len);
    free(meta);
    const cJSON *classes = cJSON_GetObjectItemCaseSensitive(m, "classes");
    const cJSON *next = cJSON_GetObjectItemCaseSensitive(m, "next_id");
    if (!cJSON_IsArray(classes) || !cJSON_IsNumber(next)) {
        lds_set_error(err, "%s/meta.json: damaged", dir);
        cJSON_Delete(m);
        return -1;
    }
    db->next_id = (int64_t)next->valuedouble;
    const cJSON *c;
    cJSON_ArrayForEach(c, classes)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "name");
        const cJSON *rgb = cJSON_GetObjectItemCaseSensitive(c, "rgb");
        if (db->n_classes >= LDS_MAX_CLASSES || !cJSON_IsString(name) || !cJSON_IsString(rgb)) break;
        lds_class *k = &db->classes[db->n_classes++];
        snprintf(k->name, sizeof k->name, "%s", name->valuestring);
        parse_rgb(rgb->valuestring, k->rgb);
    }
    cJSON_Delete(m);
    if (db->n_classes == 0) {
        lds_set_error(err, "%s/meta.json: no classes (damaged)", dir);
        return -1;
    }
    load_ctx ctx = {db, 0, dir, err};
    char *man = read_text(dir, "manifest.jsonl", &len, err);
    if (!man) goto fail;
    int rc = lds_for_each_line(man, len, load_manifest_line, &ctx);
    free(man);
    if (rc) {
        lds_set_error(err, "%s: out of memory loading manifest.jsonl", dir);
        goto fail;
    }
    char *idx = read_text(dir, "index.jsonl", &len, err);
    if (!idx) goto fail;
    rc = lds_for_each_line(idx, len, load_index_line, &ctx);
    free(idx);
    if (rc) goto fail;
    if (ctx.idx != db->n) {
        lds_set_error(err, "%s: index.jsonl has %zu lines, manifest.jsonl %zu (dataset damaged)", dir, ctx.idx,
                      db->n);
        goto fail;
    }
    return 0;
fail:
    lds_db_free(db);
    return -1;
}

/* Growable text buffer for the .jsonl files. */
typedef struct {
    char *p;
    size_t n, cap;
    int oom;
} tbuf;

static void tb_put(tbuf *b, const char *s, size_t len)
{
    if (b->oom) return;
    if (b->n + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + len + 1) cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, len);
    b->n += len;
    b->p[b->n] = 0;
}

static int write_tbuf(const char *dir, const char *name, tbuf *b, lds_error *err)
{
    if (b->oom) {
        lds_set_error(err, "out of memory writing %s", name);
        return -1;
    }
    char *p = lds_path_join(dir, name);
    int rc = p ? lds_write_file(p, b->p ? b->p : "", b->n, err) : -1;
    free(p);
    return rc;
}

int lds_db_write_text(const char *dir, const lds_db *db, lds_error *err)
{
    tbuf man = {0}, idx = {0};
    int rc = -1;
    for (size_t i = 0; i < db->n; i++) {
        const lds_rec *r = &db->recs[i];
        tb_put(&man, r->json_line, strlen(r->json_line));
        tb_put(&man, "\n", 1);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "source-ref", r->source_ref);
        cJSON_AddStringToObject(o, "image", r->image_rel);
        if (r->mask_rel) cJSON_AddStringToObject(o, "mask", r->mask_rel);
        else cJSON_AddNullToObject(o, "mask");
        cJSON_AddNumberToObject(o, "label", r->label);
        cJSON_AddNumberToObject(o, "mask_known", r->mask_known);
        cJSON_AddNumberToObject(o, "w", r->w);
        cJSON_AddNumberToObject(o, "h", r->h);
        cJSON_AddNumberToObject(o, "ch", r->ch);
        cJSON_AddNumberToObject(o, "defect", r->defect);
        cJSON_AddNumberToObject(o, "time", r->time);
        char *s = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (!s) {
            idx.oom = 1;
            break;
        }
        tb_put(&idx, s, strlen(s));
        tb_put(&idx, "\n", 1);
        free(s);
    }
    cJSON *m = cJSON_CreateObject();
    cJSON_AddNumberToObject(m, "format", 1);
    cJSON_AddNumberToObject(m, "next_id", (double)db->next_id);
    cJSON *cl = cJSON_AddArrayToObject(m, "classes");
    for (int k = 0; k < db->n_classes; k++) {
        cJSON *c = cJSON_CreateObject();
        char hex[8];
        snprintf(hex, sizeof hex, "#%02x%02x%02x", db->classes[k].rgb[0], db->classes[k].rgb[1],
                 db->classes[k].rgb[2]);
        cJSON_AddStringToObject(c, "name", db->classes[k].name);
        cJSON_AddStringToObject(c, "rgb", hex);
        cJSON_AddItemToArray(cl, c);
    }
    char *ms = cJSON_Print(m);
    cJSON_Delete(m);
    tbuf meta = {0};
    if (ms) tb_put(&meta, ms, strlen(ms));
    else meta.oom = 1;
    free(ms);
    if (write_tbuf(dir, "manifest.jsonl", &man, err) == 0 && write_tbuf(dir, "index.jsonl", &idx, err) == 0 &&
        write_tbuf(dir, "meta.json", &meta, err) == 0)
        rc = 0;
    free(man.p);
    free(idx.p);
    free(meta.p);
    return rc;
}

int lds_stats_get(const char *dataset_dir, lds_stats *out, lds_error *err)
{
    lds_db db;
    if (lds_db_load(dataset_dir, &db, err) != 0) return -1;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < db.n; i++) {
        out->total++;
        if (db.recs[i].label >= 0) out->labeled++;
        if (db.recs[i].label == 0) out->normal++;
        if (db.recs[i].label == 1) out->anomaly++;
    }
    lds_db_free(&db);
    return 0;
}

static int matches(const lds_rec *r, const lds_filter *f)
{
    if (!f) return 1;
    if (f->labeled == 0 && r->label >= 0) return 0;
    if (f->labeled == 1 && r->label < 0) return 0;
    if (f->anomaly_class) {
        int want = !strcmp(f->anomaly_class, "normal") ? 0 : !strcmp(f->anomaly_class, "anomaly") ? 1 : -2;
        if (r->label != want) return 0;
    }
    if (f->source_ref_contains && *f->source_ref_contains && !strstr(r->source_ref, f->source_ref_contains))
        return 0;
    if (f->before && !(r->time < (double)f->before)) return 0;
    if (f->after && !(r->time > (double)f->after)) return 0;
    return 1;
}

int lds_list(const char *dataset_dir, const lds_filter *filter, int64_t index, int64_t max,
             void (*fn)(const char *json_line, void *ctx), void *ctx, int64_t *next_index, lds_error *err)
{
    if (index < 0) {
        lds_set_error(err, "list: negative starting index %lld", (long long)index);
        return -1;
    }
    lds_db db;
    if (lds_db_load(dataset_dir, &db, err) != 0) return -1;
    int64_t k = 0, returned = 0, next = -1;
    for (size_t i = 0; i < db.n; i++) {
        if (!matches(&db.recs[i], filter)) continue;
        if (k >= index) {
            if (max > 0 && returned >= max) {
                next = k;
                break;
            }
            if (fn) fn(db.recs[i].json_line, ctx);
            returned++;
        }
        k++;
    }
    if (next_index) *next_index = next;
    lds_db_free(&db);
    return 0;
}

int lds_open(const char *dataset_dir, lds_set **out, lds_error *err)
{
    *out = NULL;
    lds_db db;
    if (lds_db_load(dataset_dir, &db, err) != 0) return -1;
    lds_set *s = calloc(1, sizeof *s);
    if (!s || !(s->entries = calloc(db.n ? db.n : 1, sizeof *s->entries))) {
        free(s);
        lds_db_free(&db);
        lds_set_error(err, "out of memory opening %s", dataset_dir);
        return -1;
    }
    s->n = db.n;
    s->n_classes = db.n_classes;
    memcpy(s->classes, db.classes, sizeof s->classes);
    int all_gray = db.n > 0;
    for (size_t i = 0; i < db.n; i++) {
        lds_rec *r = &db.recs[i];
        lds_entry *e = &s->entries[i];
        e->source_ref = r->source_ref;
        e->json_line = r->json_line;
        r->source_ref = r->json_line = NULL; /* moved */
        e->image_path = lds_path_join(dataset_dir, r->image_rel);
        e->mask_path = r->mask_rel ? lds_path_join(dataset_dir, r->mask_rel) : NULL;
        e->label = r->label;
        e->mask_known = r->mask_known;
        e->width = r->w;
        e->height = r->h;
        e->defect_class = r->defect;
        if (r->ch > 2) all_gray = 0;
    }
    s->channels = all_gray ? 1 : 3;
    lds_db_free(&db);
    *out = s;
    return 0;
}

void lds_free(lds_set *set)
{
    if (!set) return;
    for (size_t i = 0; i < set->n; i++) {
        free(set->entries[i].source_ref);
        free(set->entries[i].json_line);
        free(set->entries[i].image_path);
        free(set->entries[i].mask_path);
    }
    free(set->entries);
    free(set);
}
