/* split.c — stratified, seeded train/test split. Strata are (label, defect class): normal,
 * unlabeled-excluded, and one stratum per dominant defect class of the anomalies. Inside a
 * stratum the entries are ranked by a hash of (seed, the source-ref's last two path parts), so
 * the split depends only on the seed and each image's identity: reordering or adding other
 * images does not move it, and neither does moving the dataset (another bucket, another folder
 * holding the same normal/ and anomaly/ folders). */
#include "lds_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t key;
    size_t index;
} ranked;

static uint64_t hash_ref(const char *s, uint64_t seed)
{
    /* "normal/12.png" of "/home/me/parts/normal/12.png" or "s3://b/p/normal/12.png": the whole
     * path made the split, and so the F1 of a model, depend on where the images were stored */
    const char *last = strrchr(s, '/');
    if (last) {
        const char *p = last;
        while (p > s && p[-1] != '/') p--;
        s = p > s ? p : (last == s ? last + 1 : s);
    }
    uint64_t h = 1469598103934665603ull ^ seed; /* FNV-1a, then mixed */
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return lds_rng_next(&h);
}

static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

void lds_split_among(const lds_set *set, const uint8_t *eligible, double fraction, uint64_t seed, uint8_t *chosen)
{
    memset(chosen, 0, set->n);
    if (!(fraction > 0)) return;
    ranked *r = malloc(sizeof *r * (set->n ? set->n : 1));
    if (!r) return;
    /* stratum id: 0 normal, 1 + defect class for anomalies */
    for (int stratum = 0; stratum <= LDS_MAX_CLASSES; stratum++) {
        size_t n = 0;
        for (size_t i = 0; i < set->n; i++) {
            const lds_entry *e = &set->entries[i];
            if (e->label < 0 || (eligible && !eligible[i])) continue;
            int s = e->label == 0 ? 0 : 1 + (e->defect_class > 0 && e->defect_class < LDS_MAX_CLASSES ? e->defect_class : 0);
            if (s != stratum) continue;
            r[n].key = hash_ref(e->source_ref ? e->source_ref : "", seed);
            r[n].index = i;
            n++;
        }
        if (n < 2) continue; /* a lone image stays in training */
        qsort(r, n, sizeof *r, cmp_ranked);
        size_t k = (size_t)llround(fraction * (double)n);
        if (k < 1) k = 1;
        if (k > n - 1) k = n - 1;
        for (size_t j = 0; j < k; j++) chosen[r[j].index] = 1;
    }
    free(r);
}

void lds_split(const lds_set *set, double test_fraction, uint64_t seed, uint8_t *is_test)
{
    lds_split_among(set, NULL, test_fraction, seed, is_test);
}
