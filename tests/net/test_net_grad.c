/* Finite-difference gradient checks of every layer's backward, through the executor: for
 * L = sum(output * R) (R random) and for each loss, the analytic d L / d param and d L / d input
 * must match central differences. Run once per convolution path (LOOKOUT_KERNELS). */
#include "net.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned rng = 777;
static float frand(void) { rng = rng * 1664525u + 1013904223u; return (float)((rng >> 8) & 0xffff) / 32768.f - 1.f; }

static float fd_step = 2e-3f;
typedef enum { OBJ_DOT, OBJ_SOFTMAX, OBJ_PIXEL, OBJ_BCE } objective;

typedef struct {
    lo_net *net;
    objective obj;
    int training;
    float *R[4];
    int32_t labels[64];
    uint8_t pix[4096];
    float targets[4096];
    float cw[8];
} problem;

/* Loss in double over the outputs; with grad = 1 also runs backward. */
static double eval(problem *p, int grad)
{
    lo_net *net = p->net;
    lo_net_zero_grad(net);
    lo_net_forward(net, p->training);
    double L = 0;
    for (int o = 0; o < lo_net_output_count(net); o++) {
        int d[4];
        const float *y = lo_net_output(net, o, d);
        size_t n = (size_t)d[0] * d[1] * d[2] * d[3];
        float *g = lo_net_output_grad(net, o);
        if (p->obj == OBJ_DOT || o > 0) {
            for (size_t i = 0; i < n; i++) { L += (double)y[i] * p->R[o][i]; g[i] += p->R[o][i]; }
        } else if (p->obj == OBJ_SOFTMAX) {
            L += lo_net_loss_softmax_ce(net, o, p->labels, NULL);
        } else if (p->obj == OBJ_PIXEL) {
            L += lo_net_loss_pixel_ce(net, o, p->pix, p->cw);
        } else {
            L += lo_net_loss_bce(net, o, p->targets, NULL);
        }
    }
    if (grad) lo_net_backward(net);
    return L;
}

/* A coordinate whose two step sizes disagree straddles a kink (relu, max, top-k selection):
 * it is skipped, and too many skips fail the check, so kinks cannot hide a wrong gradient. */
static int skipped, checked;

/* Central difference; *kink set when the one-sided slopes disagree (a point on a kink). */
static double central(problem *p, float *v, size_t i, float h, double L0, int *kink)
{
    float keep = v[i];
    v[i] = keep + h; double lp = eval(p, 0);
    v[i] = keep - h; double lm = eval(p, 0);
    v[i] = keep;
    double fp = (lp - L0) / h, fm = (L0 - lm) / h;
    if (fabs(fp - fm) > 2e-2 * fmax(fabs(fp), fabs(fm)) + 2e-3) *kink = 1;
    return (lp - lm) / (2.0 * (double)h);
}

static int check(const char *name, float *v, const float *an, size_t n, problem *p, size_t stride)
{
    int bad = 0;
    double L0 = eval(p, 0);
    for (size_t i = 0; i < n; i += stride) {
        float h = fd_step * (fabsf(v[i]) > 1.f ? fabsf(v[i]) : 1.f);
        int kink = 0;
        double fd = central(p, v, i, h, L0, &kink), fd2 = central(p, v, i, h * 0.5f, L0, &kink);
        double a = an[i];
        double tol = 2e-2 * fmax(fabs(fd2), fabs(a)) + 2e-3;
        checked++;
        if (kink || !(fabs(fd - fd2) <= tol)) { skipped++; continue; }
        if (!(fabs(fd2 - a) <= tol)) {
            if (bad < 5) printf("  %s[%zu]: analytic %.6g finite-diff %.6g\n", name, i, a, fd2);
            bad++;
        }
    }
    return bad;
}

static int run(const char *title, const char *json, int batch, objective obj, int training)
{
    char err[256];
    lo_net_config cfg = {.batch = batch, .threads = 1, .training = 1};
    lo_net *net = lo_net_create(json, &cfg, err, sizeof err);
    if (!net) { printf("FAIL %s: create: %s\n", title, err); return 1; }
    problem p = {.net = net, .obj = obj, .training = training};
    int b, c, h, w;
    lo_net_input_shape(net, &b, &c, &h, &w);
    float *x = lo_net_input(net);
    size_t nx = (size_t)b * c * h * w;
    for (size_t i = 0; i < nx; i++) x[i] = frand();
    lo_net_init_params(net, 42);
    float *params = lo_net_params(net);
    size_t np = lo_net_param_count(net);
    for (size_t i = 0; i < np; i++) params[i] += 0.05f * frand(); /* BN beta/gamma and biases off 0/1 */
    for (int o = 0; o < lo_net_output_count(net); o++) {
        int d[4];
        lo_net_output(net, o, d);
        size_t n = (size_t)d[0] * d[1] * d[2] * d[3];
        p.R[o] = malloc(n * sizeof(float));
        for (size_t i = 0; i < n; i++) p.R[o][i] = frand();
        if (o == 0) {
            for (int i = 0; i < d[0] && i < 64; i++) p.labels[i] = (int32_t)(i % d[1]);
            for (size_t i = 0; i < n && i < 4096; i++) {
                p.pix[i] = (uint8_t)(i % 7 == 3 ? 255 : i % (size_t)d[1]);
                p.targets[i] = (float)(i % 3) * 0.5f;
            }
            for (int i = 0; i < 8; i++) p.cw[i] = 0.5f + 0.25f * (float)i;
        }
    }
    float *dx = lo_net_input_grad(net);
    eval(&p, 1);
    float *an_p = malloc(np * sizeof(float)), *an_x = malloc(nx * sizeof(float));
    memcpy(an_p, lo_net_grads(net), np * sizeof(float));
    memcpy(an_x, dx, nx * sizeof(float));
    skipped = checked = 0;
    int bad = check("param", params, an_p, np, &p, np > 300 ? 3 : 1);
    bad += check("input", x, an_x, nx, &p, nx > 300 ? 4 : 1);
    if (skipped * 20 > checked) { printf("  too many kinks: %d of %d skipped\n", skipped, checked); bad++; }
    printf("%s %s: %zu params, %zu inputs, %d checked, %d at kinks, %d mismatches\n", bad ? "FAIL" : "ok  ",
           title, np, nx, checked, skipped, bad);
    for (int o = 0; o < lo_net_output_count(net); o++) free(p.R[o]);
    free(an_p); free(an_x);
    lo_net_free(net);
    return bad ? 1 : 0;
}

int main(void)
{
    int fails = 0;
    if (getenv("FD_STEP")) fd_step = (float)atof(getenv("FD_STEP"));
    const char *classifier =
        "{\"name\":\"t1\",\"input\":{\"size\":[9,11],\"channels\":3},\"layers\":["
        "{\"name\":\"c1\",\"type\":\"conv\",\"out\":5,\"kernel\":3,\"stride\":2,\"pad\":1},"
        "{\"name\":\"b1\",\"type\":\"bn\"},{\"name\":\"r1\",\"type\":\"relu\"},"
        "{\"name\":\"c2\",\"type\":\"conv\",\"out\":4,\"kernel\":1,\"pad\":0},"
        "{\"name\":\"l2\",\"type\":\"leaky_relu\",\"slope\":0.1},"
        "{\"name\":\"p2\",\"type\":\"maxpool\",\"kernel\":2,\"stride\":1},"
        "{\"name\":\"c3\",\"type\":\"conv\",\"out\":3,\"kernel\":5,\"pad\":2,\"bias\":false},"
        "{\"name\":\"a3\",\"type\":\"avgpool\",\"kernel\":3,\"stride\":1,\"pad\":1},"
        "{\"name\":\"g\",\"type\":\"gtopk\",\"fraction\":0.3},"
        "{\"name\":\"fc\",\"type\":\"linear\",\"out\":3}]}";
    const char *segment =
        "{\"name\":\"t2\",\"head\":\"segmentation\",\"input\":{\"size\":8,\"channels\":2},\"layers\":["
        "{\"name\":\"c1\",\"type\":\"conv\",\"out\":4,\"kernel\":3,\"stride\":2},"
        "{\"name\":\"s1\",\"type\":\"sigmoid\"},"
        "{\"name\":\"u1\",\"type\":\"upsample\",\"factor\":2,\"mode\":\"bilinear\"},"
        "{\"name\":\"cat\",\"type\":\"concat\",\"input\":[\"u1\",\"input\"]},"
        "{\"name\":\"c2\",\"type\":\"conv\",\"out\":3,\"kernel\":7,\"pad\":3},"
        "{\"name\":\"c3\",\"type\":\"conv\",\"out\":3,\"kernel\":3,\"stride\":2,\"input\":\"input\"},"
        "{\"name\":\"u3\",\"type\":\"upsample\",\"mode\":\"nearest\"},"
        "{\"name\":\"sum\",\"type\":\"add\",\"input\":[\"c2\",\"u3\"]},"
        "{\"name\":\"b\",\"type\":\"bn\"},"
        "{\"name\":\"gap\",\"type\":\"gap\",\"input\":\"c1\"},"
        "{\"name\":\"fc\",\"type\":\"linear\",\"out\":2}],"
        "\"outputs\":[\"b\",\"fc\"]}";
    const char *bce =
        "{\"name\":\"t3\",\"input\":{\"size\":[6,5],\"channels\":1},\"layers\":["
        "{\"name\":\"c1\",\"type\":\"conv\",\"out\":3,\"kernel\":3},"
        "{\"name\":\"r\",\"type\":\"relu\"},"
        "{\"name\":\"c2\",\"type\":\"conv\",\"out\":1,\"kernel\":3,\"stride\":1}]}";
    /* bn -> relu/leaky read by two layers each: the bn takes the activation's gradient through
     * act' itself (no conv absorbs it); the 1-channel 3x3 map runs the direct kernels */
    const char *branch =
        "{\"name\":\"t4\",\"head\":\"segmentation\",\"input\":{\"size\":[6,4],\"channels\":2},\"layers\":["
        "{\"name\":\"c1\",\"type\":\"conv\",\"out\":4,\"kernel\":3,\"pad\":1,\"bias\":false},"
        "{\"name\":\"b1\",\"type\":\"bn\"},{\"name\":\"r1\",\"type\":\"relu\"},"
        "{\"name\":\"c2\",\"type\":\"conv\",\"out\":3,\"kernel\":3,\"stride\":2,\"pad\":1,\"bias\":false},"
        "{\"name\":\"b2\",\"type\":\"bn\"},{\"name\":\"l2\",\"type\":\"leaky_relu\",\"slope\":0.1},"
        "{\"name\":\"u2\",\"type\":\"upsample\",\"factor\":2,\"mode\":\"bilinear\"},"
        "{\"name\":\"cat\",\"type\":\"concat\",\"input\":[\"u2\",\"r1\"]},"
        "{\"name\":\"map\",\"type\":\"conv\",\"out\":1,\"kernel\":3,\"pad\":1},"
        "{\"name\":\"gap\",\"type\":\"gap\",\"input\":\"l2\"},"
        "{\"name\":\"fc\",\"type\":\"linear\",\"out\":1}],"
        "\"outputs\":[\"map\",\"fc\"]}";
    fails += run("classifier / dot", classifier, 3, OBJ_DOT, 1);
    fails += run("classifier / softmax-ce", classifier, 3, OBJ_SOFTMAX, 1);
    fails += run("classifier / bn frozen", classifier, 2, OBJ_DOT, 0);
    fails += run("segmentation / dot", segment, 2, OBJ_DOT, 1);
    fails += run("segmentation / pixel-ce", segment, 2, OBJ_PIXEL, 1);
    fails += run("bce", bce, 2, OBJ_BCE, 1);
    fails += run("branch / dot", branch, 2, OBJ_DOT, 1);
    return fails ? 1 : 0;
}
