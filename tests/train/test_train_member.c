/* lo_member_train's early stopping: the member ends as its best checkpoint, and says whether that
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
    double r = v->calls < v->n_script ? v->script[v->calls] : 0;
    v->calls++;
    return r;
}

int main(void) {
    const int c = 3, h = 32, w = 32;
    const size_t n = 12, plane = (size_t)h * w;
    lo_bank bank = {.n = n, .c = c, .h = h, .w = w};
    bank.img = malloc(n * c * plane);
    bank.mask = calloc(n, plane);
    bank.has_mask = calloc(n, 1);
    uint64_t r = 99;
    for (size_t i = 0; i < n * c * plane; i++) bank.img[i] = (uint8_t)(80 + lo_rng_next(&r) % 60);
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
    free(bank.img), free(bank.mask), free(bank.has_mask);
    if (!ttr_failures) printf("member: early stopping keeps the best checkpoint and reports when it was scored last\n");
    return TTR_DONE();
}
