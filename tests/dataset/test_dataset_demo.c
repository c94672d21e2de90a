/* test_dataset_demo.c — the demo dataset is deterministic per seed, imports cleanly as an image
 * folder, and every anomalous image has a non-empty mask that marks a visible change. */
#include "tds_util.h"

static int same_file(const char *a, const char *b)
{
    size_t la, lb;
    lds_error e;
    uint8_t *x = lds_read_file(a, 1 << 24, &la, &e), *y = lds_read_file(b, 1 << 24, &lb, &e);
    int same = x && y && la == lb && !memcmp(x, y, la);
    free(x);
    free(y);
    return same;
}

int main(void)
{
    char *tmp = tds_tmpdir("demo");
    char a[1024], b[1024], c[1024], p[2048], q[2048];
    snprintf(a, sizeof a, "%s/a", tmp);
    snprintf(b, sizeof b, "%s/b", tmp);
    snprintf(c, sizeof c, "%s/c", tmp);
    lds_error e;
    CHECK(lds_demo_generate(a, 12, 8, 7, &e) == 0, "%s", e.message);
    CHECK(lds_demo_generate(b, 12, 8, 7, &e) == 0, "%s", e.message);
    CHECK(lds_demo_generate(c, 12, 8, 8, &e) == 0, "%s", e.message);
    CHECK(lds_demo_generate(a, 1, 1, 7, &e) != 0 && strstr(e.message, "exists"), "existing folder refused");
    int differ = 0;
    for (int i = 0; i < 8; i++) {
        snprintf(p, sizeof p, "%s/anomaly/anomaly-%04d.png", a, i);
        snprintf(q, sizeof q, "%s/anomaly/anomaly-%04d.png", b, i);
        CHECK(same_file(p, q), "seed 7 twice must give identical %s", p);
        snprintf(q, sizeof q, "%s/anomaly/anomaly-%04d.png", c, i);
        differ += !same_file(p, q);
        snprintf(p, sizeof p, "%s/mask/anomaly-%04d.png", a, i);
        snprintf(q, sizeof q, "%s/mask/anomaly-%04d.png", b, i);
        CHECK(same_file(p, q), "seed 7 twice must give identical %s", p);
    }
    CHECK(differ == 8, "another seed must give other images (%d of 8 differ)", differ);
    char ds[1024];
    snprintf(ds, sizeof ds, "%s/ds", tmp);
    lds_error warn = {{0}};
    CHECK(lds_import_folder(ds, a, &warn, &e) == 0, "%s", e.message);
    lds_stats st;
    CHECK(lds_stats_get(ds, &st, &e) == 0 && st.normal == 12 && st.anomaly == 8, "demo stats");
    CHECK(warn.message[0] == 0, "no warnings expected: %s", warn.message);
    lds_set *set;
    CHECK(lds_open(ds, &set, &e) == 0, "%s", e.message);
    int known = 0;
    for (size_t i = 0; i < set->n; i++) known += set->entries[i].mask_known;
    CHECK(known == 8, "every demo anomaly has a defect mask (%d of 8)", known);
    CHECK(set->channels == 3, "demo images are RGB");
    lds_free(set);
    if (!tds_failures) lds_rm_rf(tmp);
    free(tmp);
    return tds_done("test_dataset_demo");
}
