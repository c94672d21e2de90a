/* lo_member_train's early stopping, progressive resizing and lo_bank_shrink.
 *
 * Early stopping: the member ends as its best checkpoint, and says whether that
 * is the state its held-out images were last scored in (train_run.c then keeps those scores
 * instead of scoring the fold again). A scripted validate returns chosen held-out scores and
 * records a checksum of the weights it saw. */
#include "train/train_member.h"
#include "train/train_internal.h"
#include "ttr_util.h"

#include <math.h>
#include <string.h>

typedef struct {
    const double *script;
    int n_script, calls;
    double seen[8];
    int min_h, max_h; /* input heights of the nets validate saw */
} val_ctx;

static double checksum(lo_net *net) {
    const float *p = lo_net_params(net);
    size_t n = lo_net_param_count(net);
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)p[i] * (double)(i % 97 + 1);
    return s;
}

static double scripted(void *vctx, lo_net *net) {
    val_ctx *v = vctx;
    if (v->calls < 8) v->seen[v->calls] = checksum(net);
    int b, c, h, w;
    lo_net_input_shape(net, &b, &c, &h, &w);
    if (v->calls == 0 || h < v->min_h) v->min_h = h;
    if (v->calls == 0 || h > v->max_h) v->max_h = h;
    double r = v->calls < v->n_script ? v->script[v->calls] : 0;
    v->calls++;
    return r;
}

/* n images of c x h x w with pixels lo + (random % span), no masks yet */
static lo_bank random_bank(size_t n, int c, int h, int w, int lo, int span, uint64_t seed) {
    lo_bank b = {.n = n, .c = c, .h = h, .w = w};
    size_t plane = (size_t)h * w;
    b.img = malloc(n * c * plane);
    b.mask = calloc(n, plane);
    b.has_mask = calloc(n, 1);
    for (size_t i = 0; i < n * c * plane; i++) b.img[i] = (uint8_t)(lo + lo_rng_next(&seed) % (uint64_t)span);
    return b;
}

/* lo_bank_shrink against a reference that replicates each source pixel ry x rx times and then
 * averages (or takes the max over) blocks of by x bx: exact for these ratios */
static void check_shrink(void) {
    const int c = 2, h = 64, w = 64, oh = 48, ow = 40, ry = 3, rx = 5, by = 4, bx = 8;
    const size_t n = 2, plane = (size_t)h * w;
    lo_bank src = random_bank(n, c, h, w, 0, 256, 7);
    src.has_mask[1] = 1;
    src.mask[plane + 10 * w + 13] = 1; /* one-pixel defects must survive */
    src.mask[plane + 40 * w + 50] = 2;
    lo_bank dst;
    lo_train_error err;
    CHECK(lo_bank_shrink(&src, oh, ow, &dst, &err) == 0, "shrink failed: %s", err.message);
    int bad_px = 0, bad_mask = 0, defects = 0;
    for (size_t i = 0; i < n; i++) {
        for (int ch = 0; ch < c; ch++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++) {
                    double sum = 0;
                    for (int y = oy * by; y < (oy + 1) * by; y++)
                        for (int x = ox * bx; x < (ox + 1) * bx; x++)
                            sum += src.img[(i * c + ch) * plane + (size_t)(y / ry) * w + x / rx];
                    double want = sum / (by * bx);
                    bad_px += fabs(dst.img[(i * c + ch) * (size_t)oh * ow + (size_t)oy * ow + ox] - want) > 0.51;
                }
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                int want = 0;
                for (int y = oy * by; y < (oy + 1) * by; y++)
                    for (int x = ox * bx; x < (ox + 1) * bx; x++) {
                        int m = src.mask[i * plane + (size_t)(y / ry) * w + x / rx];
                        want = m > want ? m : want;
                    }
                int got = dst.mask[i * (size_t)oh * ow + (size_t)oy * ow + ox];
                bad_mask += got != want;
                defects += got != 0;
            }
        CHECK(dst.has_mask[i] == src.has_mask[i], "image %zu: has_mask %d, want %d", i, dst.has_mask[i],
              src.has_mask[i]);
    }
    CHECK(bad_px == 0, "%d shrunk pixels are not the mean of their footprint", bad_px);
    CHECK(bad_mask == 0 && defects > 0, "%d shrunk mask pixels wrong (%d defect pixels)", bad_mask, defects);
    lo_bank bigger;
    CHECK(lo_bank_shrink(&src, 65, 64, &bigger, &err) != 0 && strstr(err.message, "65"),
          "growing a bank is refused with the size named");
    lo_bank_free(&dst);
    lo_bank_free(&src);
}

/* The learning-rate schedule: never resized it is the plain warm-up and cosine; resized at a
 * step, shorter or longer, the rate at that step does not jump and then falls to the new end. */
static void check_schedule(void) {
    const float lr = 3e-3f;
    lo_schedule s;
    lo_schedule_init(&s, 1000);
    int bad = 0;
    for (int step = 0; step < 1000; step++) {
        int warm = 1000 / 20 + 1;
        float want = step < warm ? lr * (float)(step + 1) / (float)warm
                                 : lr * (0.02f + 0.98f * 0.5f * (1.0f + (float)cos(M_PI * ((double)step / 1000))));
        bad += lo_schedule_lr(&s, step, lr) != want;
    }
    CHECK(bad == 0, "%d steps of an unresized schedule differ from warm-up and cosine", bad);
    /* planned, resized (shorter) at a step first or not (0), then resized at a step to */
    static const struct {
        int planned, first_at, first_to, at, to;
    } cases[] = {
        {1000, 0, 0, 300, 600},   /* shortened */
        {1000, 0, 0, 300, 700},   /* shortened less */
        {1000, 300, 600, 500, 1500}, /* shortened, then (the stall over) lengthened */
        {100, 0, 0, 10, 1500},    /* lengthened past 20x its step: no second warm-up */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        lo_schedule_init(&s, cases[k].planned);
        if (cases[k].first_at) lo_schedule_resize(&s, cases[k].first_at, cases[k].first_to);
        int at = cases[k].at, to = cases[k].to;
        float before = lo_schedule_lr(&s, at, lr);
        lo_schedule_resize(&s, at, to);
        float after = lo_schedule_lr(&s, at, lr);
        CHECK(fabsf(after - before) <= 1e-6f * lr, "case %zu, resized to %d at step %d: the rate jumps from %g to %g",
              k, to, at, before, after);
        int rising = 0;
        for (int step = at + 1; step < to; step++)
            rising += lo_schedule_lr(&s, step, lr) > lo_schedule_lr(&s, step - 1, lr);
        CHECK(rising == 0, "case %zu, resized to %d at step %d: the rate rises at %d steps", k, to, at, rising);
        float last = lo_schedule_lr(&s, to - 1, lr);
        CHECK(last < 0.03f * lr, "case %zu, resized to %d at step %d: the last step's rate is %g, not near 0.02 x %g",
              k, to, at, last, lr);
    }
}

/* a replan that shortens the member at its first call and lengthens it again at its second,
 * past 40 % of the shortened schedule (after a stall of the box) */
typedef struct {
    int calls, first, second;
} replan_script;

static int scripted_replan(void *vctx, double sec_per_step, int planned, int current) {
    (void)sec_per_step, (void)current;
    replan_script *r = vctx;
    r->calls++;
    return r->calls == 1 ? r->first : r->calls == 2 ? r->second : planned;
}

int main(void) {
    check_shrink();
    check_schedule();
    const int c = 3, h = 32, w = 32;
    const size_t n = 12;
    lo_bank bank = random_bank(n, c, h, w, 80, 60, 99);
    int labels[12] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1};
    uint8_t in_train[12];
    memset(in_train, 1, sizeof in_train);
    lds_augment_config aug;
    lo_train_augment_config(&aug);
    float mean[3] = {0.4f, 0.4f, 0.4f}, sd[3] = {0.1f, 0.1f, 0.1f};

    /* 20 steps: checkpoints after steps 10, 14, 17 and 20 */
    static const struct {
        const char *what;
        double script[4];
        int n;
        int want_best, want_steps, want_last_validated, want_state; /* want_state: which call's weights */
    } cases[] = {
        {"rising: ends as the last checkpoint", {0.5, 0.6, 0.7, 0.8}, 4, 20, 20, 1, 3},
        {"falling: stops early, back to the first", {0.9, 0.5, 0.4, 0.3}, 4, 10, 17, 0, 0},
        {"best in the middle: the latest of equals", {0.5, 0.9, 0.9, 0.895}, 4, 17, 20, 0, 2},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        val_ctx v = {.script = cases[k].script, .n_script = cases[k].n};
        int best = -1, last_validated = -1, planned = 0;
        lo_member_job job = {.arch_json = lo_train_arch_json("tiny-fcn"), .bank = &bank, .labels = labels,
                             .in_train = in_train, .batch = 4, .steps = 20, .threads = 1, .lr = 1e-2f,
                             .weight_decay = 1e-4f, .pos_pixel_weight = 3.0f, .seed = 5, .mean = mean,
                             .std = sd, .aug = &aug, .validate = scripted, .ctx = &v, .best_step = &best,
                             .last_validated = &last_validated};
        lo_net *net = NULL;
        lo_train_error err;
        int done = lo_member_train(&job, &net, &planned, &err);
        CHECK(done == cases[k].want_steps, "%s: %d steps run, want %d", cases[k].what, done, cases[k].want_steps);
        CHECK(best == cases[k].want_best, "%s: kept step %d, want %d", cases[k].what, best, cases[k].want_best);
        CHECK(last_validated == cases[k].want_last_validated, "%s: last_validated %d, want %d", cases[k].what,
              last_validated, cases[k].want_last_validated);
        if (net) {
            double got = checksum(net), want = v.seen[cases[k].want_state];
            CHECK(got == want, "%s: the member's weights are not those of validate call %d", cases[k].what,
                  cases[k].want_state + 1);
            /* what last_validated promises: these are the weights the last call saw */
            if (last_validated == 1)
                CHECK(got == v.seen[v.calls - 1], "%s: last_validated but the weights differ from the last call",
                      cases[k].what);
            else
                CHECK(got != v.seen[v.calls - 1], "%s: the weights are the last call's but last_validated is 0",
                      cases[k].what);
        }
        lo_net_free(net);
    }

    /* re-planned at step 4 to 40 steps, at step 25 (62 % of them) back to 60: the member runs 60 */
    {
        replan_script r = {.first = 40, .second = 60};
        int planned = 0;
        lo_member_job job = {.arch_json = lo_train_arch_json("tiny-fcn"), .bank = &bank, .labels = labels,
                             .in_train = in_train, .batch = 4, .steps = 60, .threads = 1, .lr = 1e-2f,
                             .weight_decay = 1e-4f, .pos_pixel_weight = 3.0f, .seed = 5, .mean = mean,
                             .std = sd, .aug = &aug, .replan = scripted_replan, .ctx = &r};
        lo_net *net = NULL;
        lo_train_error err;
        int done = lo_member_train(&job, &net, &planned, &err);
        CHECK(done == 60 && planned == 60, "shortened to 40, lengthened to 60 at step 25: %d steps run of %d planned",
              done, planned);
        CHECK(r.calls >= 2, "replan called %d times", r.calls);
        lo_net_free(net);
    }
    free(bank.img), free(bank.mask), free(bank.has_mask);

    /* progressive resizing: 64x64 images, the first half of the steps on a 32x32 copy */
    lo_bank big = random_bank(n, c, 64, 64, 80, 60, 100), small;
    lo_train_error err;
    CHECK(lo_bank_shrink(&big, 32, 32, &small, &err) == 0, "shrink: %s", err.message);
    double sums[5];
    float *kept[5] = {0};
    size_t np = 0;
    static const double rising[4] = {0.5, 0.6, 0.7, 0.8};
    static const double fraction[5] = {0.5, 0.5, 0.5, 1.0, 0.95};
    for (int run = 0; run < 5; run++) {
        /* runs 0 and 1 the same (reproducible), 2 without the small phase, 3 all small (cut
         * before the switch: a full-size net is handed back all the same), 4 switching before the
         * last step (so all but one step's change must have been carried over) */
        val_ctx v = {.script = rising, .n_script = 4};
        int best = -1, planned = 0;
        lo_member_job job = {.arch_json = lo_train_arch_json("tiny-fcn"), .bank = &big,
                             .bank_small = run == 2 ? NULL : &small, .small_fraction = fraction[run],
                             .labels = labels, .in_train = in_train, .batch = 4, .steps = 20, .threads = 1,
                             .lr = 1e-2f, .weight_decay = 1e-4f, .pos_pixel_weight = 3.0f, .seed = 5, .mean = mean,
                             .std = sd, .aug = &aug, .validate = scripted, .ctx = &v, .best_step = &best};
        lo_net *net = NULL;
        int done = lo_member_train(&job, &net, &planned, &err);
        CHECK(done == 20 && net, "progressive run %d: %d steps (%s)", run, done, done < 0 ? err.message : "");
        if (!net) continue;
        int bb, cc, hh, ww;
        lo_net_input_shape(net, &bb, &cc, &hh, &ww);
        CHECK(hh == 64 && ww == 64, "progressive run %d: the member comes back at %dx%d, not 64x64", run, ww, hh);
        /* checkpoints after steps 10, 14, 17, 20; those before the switch are not scored */
        int want_calls = run == 2 ? 4 : run == 3 ? 0 : run == 4 ? 1 : 3;
        CHECK(v.calls == want_calls, "progressive run %d: %d checkpoints scored, want %d", run, v.calls, want_calls);
        if (v.calls) CHECK(v.min_h == 64 && v.max_h == 64, "progressive run %d: a checkpoint scored a %d..%d-high net",
                           run, v.min_h, v.max_h);
        sums[run] = checksum(net);
        np = lo_net_param_count(net);
        kept[run] = malloc(np * sizeof(float));
        memcpy(kept[run], lo_net_params(net), np * sizeof(float));
        lo_net_free(net);
    }
    /* the parameters carry over at the switch: one full-size step after 19 small ones moves them
     * far less than the 20 steps moved them from their initial values */
    lo_net_config icfg = {.batch = 4, .channels = c, .height = 64, .width = 64, .threads = 1, .training = 1};
    char msg[256];
    lo_net *init = lo_net_create(lo_train_arch_json("tiny-fcn"), &icfg, msg, sizeof msg);
    if (init && kept[3] && kept[4]) {
        /* a member cut before the switch is the small phase's network, not a new one */
        double from_new = 0;
        for (size_t i = 0; i < np; i++) from_new += fabs(kept[3][i] - lo_net_params(init)[i]);
        CHECK(from_new > 0, "a member cut before the switch came back as a new network");
        lo_net_init_params(init, 5);
        double moved = 0, last_step = 0;
        for (size_t i = 0; i < np; i++) {
            moved += fabs(kept[3][i] - lo_net_params(init)[i]);
            last_step += fabs(kept[4][i] - kept[3][i]);
        }
        CHECK(moved > 0 && last_step < 0.5 * moved,
              "the switch lost the small phase's training (L1 %.3g after it, %.3g moved in all)", last_step, moved);
    }
    lo_net_free(init);
    for (int run = 0; run < 5; run++) free(kept[run]);
    CHECK(sums[0] == sums[1], "progressive training is not reproducible");
    CHECK(sums[0] != sums[2], "the small phase changed nothing");
    lo_bank_free(&big);
    lo_bank_free(&small);
    if (!ttr_failures) printf("member: early stopping keeps the best checkpoint and reports when it was scored last; "
                              "progressive resizing hands back a full-size member; shrunk banks match the reference\n");
    return TTR_DONE();
}
