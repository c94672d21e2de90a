/* demo.c — the demo dataset, made by the project so `lookout demo` needs no download: top-down
 * photos of a machined washer on a conveyor. Normal parts vary the way real ones do (position,
 * lighting direction and level, groove phase, a printed marker at any angle, sensor noise);
 * anomalous parts add a scratch, a stain or a crack of modest contrast, with its mask. Every
 * image depends only on (seed, index), so the same call always writes the same bytes. */
#include "lds_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <stb_perlin.h>

#define DEMO_SIZE 128

typedef struct {
    float cx, cy, r_out, r_in;
    float light_angle, light_gain, groove_phase, marker_angle;
    float tint[3];
    int perlin_seed;
} demo_part;

static float smoothstep01(float e0, float e1, float x)
{
    float t = (x - e0) / (e1 - e0);
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    return t * t * (3 - 2 * t);
}

/* Renders one normal part into rgb[3][S][S] (planar floats); returns the part's "surface"
 * weight per pixel in surf (1 on the metal face, 0 elsewhere) so defects land on the part. */
static void render_part(const demo_part *p, float *rgb, float *surf, uint64_t *rng)
{
    const int S = DEMO_SIZE;
    float lx = cosf(p->light_angle), ly = sinf(p->light_angle);
    for (int y = 0; y < S; y++) {
        for (int x = 0; x < S; x++) {
            float dx = x + 0.5f - p->cx, dy = y + 0.5f - p->cy;
            float r = sqrtf(dx * dx + dy * dy);
            /* conveyor belt: dark blue-gray with a woven texture */
            float belt = 0.22f + 0.03f * stb_perlin_noise3_seed(x * 0.35f, y * 0.08f, 0.5f, 0, 0, 0, p->perlin_seed) +
                         0.015f * (((x / 3) + (y / 3)) & 1);
            float bg[3] = {belt * 0.9f, belt * 0.95f, belt * 1.1f};
            /* metal face: concentric turning grooves + low-frequency blotches, lit from one side */
            float groove = 0.035f * sinf(r * 1.7f + p->groove_phase);
            float blotch = 0.05f * stb_perlin_noise3_seed(x * 0.06f, y * 0.06f, 1.5f, 0, 0, 0, p->perlin_seed + 1);
            float shade = 0.08f * ((dx * lx + dy * ly) / (p->r_out + 1e-3f));
            float metal = (0.62f + groove + blotch + shade) * p->light_gain;
            /* chamfered rims read darker */
            float rim = smoothstep01(p->r_out - 4.f, p->r_out - 1.f, r) + 1 - smoothstep01(p->r_in + 1.f, p->r_in + 4.f, r);
            metal *= 1 - 0.35f * (rim > 1 ? 1 : rim);
            /* anti-aliased coverage of the annulus */
            float cover = (1 - smoothstep01(p->r_out - 0.7f, p->r_out + 0.7f, r)) * smoothstep01(p->r_in - 0.7f, p->r_in + 0.7f, r);
            /* soft drop shadow on the belt */
            float shadow = 1 - 0.35f * (1 - smoothstep01(p->r_out, p->r_out + 5.f, r + 2.f)) * (r > p->r_in ? 1.f : 0.f);
            size_t i = (size_t)y * S + (size_t)x;
            for (int c = 0; c < 3; c++) {
                float v = cover * metal * p->tint[c] + (1 - cover) * bg[c] * shadow;
                rgb[(size_t)c * S * S + i] = v;
            }
            surf[i] = cover * smoothstep01(p->r_in + 5.f, p->r_in + 8.f, r) * (1 - smoothstep01(p->r_out - 8.f, p->r_out - 5.f, r));
        }
    }
    /* printed marker (a small dark dot) at any angle: a normal feature the model must not flag */
    float mr = (p->r_in + p->r_out) * 0.5f;
    float mx = p->cx + mr * cosf(p->marker_angle), my = p->cy + mr * sinf(p->marker_angle);
    for (int y = (int)my - 4; y <= (int)my + 4; y++)
        for (int x = (int)mx - 4; x <= (int)mx + 4; x++) {
            if (x < 0 || y < 0 || x >= S || y >= S) continue;
            float d = hypotf(x + 0.5f - mx, y + 0.5f - my);
            float a = 1 - smoothstep01(1.8f, 2.8f, d);
            for (int c = 0; c < 3; c++) rgb[(size_t)c * S * S + (size_t)y * S + (size_t)x] *= 1 - 0.55f * a;
        }
    (void)rng;
}

/* Adds alpha-weighted darkening/brightening `amount` to the image where alpha > 0 and marks the
 * mask where the defect is visible (alpha > 0.3). */
static void apply_defect(float *rgb, uint8_t *mask, const float *alpha, float amount)
{
    const size_t n = (size_t)DEMO_SIZE * DEMO_SIZE;
    for (size_t i = 0; i < n; i++) {
        if (alpha[i] <= 0) continue;
        for (int c = 0; c < 3; c++) rgb[(size_t)c * n + i] += amount * alpha[i];
        if (alpha[i] > 0.3f) mask[i] = 255;
    }
}

static void stroke(float *alpha, const float *surf, float x0, float y0, float x1, float y1, float width)
{
    const int S = DEMO_SIZE;
    float minx = fminf(x0, x1) - width - 2, maxx = fmaxf(x0, x1) + width + 2;
    float miny = fminf(y0, y1) - width - 2, maxy = fmaxf(y0, y1) + width + 2;
    float vx = x1 - x0, vy = y1 - y0, len2 = vx * vx + vy * vy + 1e-6f;
    for (int y = (int)fmaxf(0, miny); y < (int)fminf(S, maxy); y++)
        for (int x = (int)fmaxf(0, minx); x < (int)fminf(S, maxx); x++) {
            float px = x + 0.5f - x0, py = y + 0.5f - y0;
            float t = (px * vx + py * vy) / len2;
            t = t < 0 ? 0 : t > 1 ? 1 : t;
            float d = hypotf(px - t * vx, py - t * vy);
            float a = (1 - smoothstep01(width * 0.5f, width * 0.5f + 1.f, d)) * surf[(size_t)y * S + (size_t)x];
            if (a > alpha[(size_t)y * S + (size_t)x]) alpha[(size_t)y * S + (size_t)x] = a;
        }
}

/* One defect on the metal face: 0 scratch (thin straight line, light or dark), 1 stain (soft dark
 * blob), 2 crack (dark jagged walk from the outer rim inwards). */
static void add_defect(const demo_part *p, float *rgb, uint8_t *mask, const float *surf, uint64_t *rng)
{
    const int S = DEMO_SIZE;
    float *alpha = calloc((size_t)S * S, sizeof *alpha);
    if (!alpha) return;
    int kind = (int)(lds_rng_uniform(rng) * 3);
    float ang = (float)(lds_rng_uniform(rng) * 6.283185307179586);
    float rr = p->r_in + 9 + (float)lds_rng_uniform(rng) * (p->r_out - p->r_in - 18);
    float x = p->cx + rr * cosf(ang), y = p->cy + rr * sinf(ang);
    float amount;
    if (kind == 0) {
        float dir = (float)(lds_rng_uniform(rng) * 3.14159265);
        float len = 10 + (float)lds_rng_uniform(rng) * 16;
        stroke(alpha, surf, x - len / 2 * cosf(dir), y - len / 2 * sinf(dir), x + len / 2 * cosf(dir),
               y + len / 2 * sinf(dir), 1.5f + (float)lds_rng_uniform(rng) * 1.0f);
        amount = (lds_rng_uniform(rng) < 0.5 ? -1.f : 1.f) * (0.18f + 0.12f * (float)lds_rng_uniform(rng));
    } else if (kind == 1) {
        float rad = 3.5f + (float)lds_rng_uniform(rng) * 3.5f;
        for (int yy = 0; yy < S; yy++)
            for (int xx = 0; xx < S; xx++) {
                float d = hypotf(xx + 0.5f - x, yy + 0.5f - y);
                float wob = 0.8f * stb_perlin_noise3_seed(xx * 0.4f, yy * 0.4f, 2.5f, 0, 0, 0, p->perlin_seed + 2);
                float a = (1 - smoothstep01(rad - 1.5f, rad + 1.f, d + wob)) * surf[(size_t)yy * S + (size_t)xx];
                alpha[(size_t)yy * S + (size_t)xx] = a;
            }
        amount = -(0.2f + 0.12f * (float)lds_rng_uniform(rng));
    } else {
        float cx = p->cx + (p->r_out - 6) * cosf(ang), cy = p->cy + (p->r_out - 6) * sinf(ang);
        float dir = ang + 3.14159265f;
        int steps = 5 + (int)(lds_rng_uniform(rng) * 5);
        for (int s = 0; s < steps; s++) {
            dir += (float)(lds_rng_uniform(rng) - 0.5) * 1.2f;
            float seg = 3 + (float)lds_rng_uniform(rng) * 3;
            float nx = cx + seg * cosf(dir), ny = cy + seg * sinf(dir);
            stroke(alpha, surf, cx, cy, nx, ny, 1.4f);
            cx = nx;
            cy = ny;
        }
        amount = -(0.25f + 0.1f * (float)lds_rng_uniform(rng));
    }
    apply_defect(rgb, mask, alpha, amount * p->light_gain);
    free(alpha);
}

static int write_rgb_png(const char *path, const float *rgb, uint64_t *rng, lds_error *err)
{
    const size_t n = (size_t)DEMO_SIZE * DEMO_SIZE;
    uint8_t *px = malloc(n * 3);
    if (!px) {
        lds_set_error(err, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 3; c++) {
            float v = rgb[(size_t)c * n + i] + 0.012f * lds_rng_normal(rng); /* sensor noise */
            v = v < 0 ? 0 : v > 1 ? 1 : v;
            px[3 * i + (size_t)c] = (uint8_t)(v * 255.f + 0.5f);
        }
    int rc = lds_write_png(path, px, DEMO_SIZE, DEMO_SIZE, 3, err);
    free(px);
    return rc;
}

static int demo_one(const char *dir, int index, int anomalous, uint64_t seed, lds_error *err)
{
    const int S = DEMO_SIZE;
    uint64_t rng = seed ^ (0x5DEECE66Dull * (uint64_t)(2 * index + anomalous + 1));
    lds_rng_next(&rng);
    demo_part p;
    p.cx = S / 2.f + (float)(lds_rng_uniform(&rng) - 0.5) * 10;
    p.cy = S / 2.f + (float)(lds_rng_uniform(&rng) - 0.5) * 10;
    p.r_out = S * 0.40f + (float)(lds_rng_uniform(&rng) - 0.5) * 3;
    p.r_in = S * 0.13f + (float)(lds_rng_uniform(&rng) - 0.5) * 2;
    p.light_angle = (float)(lds_rng_uniform(&rng) * 6.283185307179586);
    p.light_gain = 0.88f + 0.24f * (float)lds_rng_uniform(&rng);
    p.groove_phase = (float)(lds_rng_uniform(&rng) * 6.283185307179586);
    p.marker_angle = (float)(lds_rng_uniform(&rng) * 6.283185307179586);
    float warm = (float)(lds_rng_uniform(&rng) - 0.5) * 0.06f;
    p.tint[0] = 1.0f + warm;
    p.tint[1] = 1.0f;
    p.tint[2] = 1.0f - warm;
    p.perlin_seed = (int)(lds_rng_next(&rng) & 0xffff);
    float *rgb = malloc(sizeof(float) * 3 * (size_t)S * S);
    float *surf = malloc(sizeof(float) * (size_t)S * S);
    uint8_t *mask = calloc((size_t)S * S, 1);
    int rc = -1;
    if (!rgb || !surf || !mask) {
        lds_set_error(err, "out of memory");
        goto done;
    }
    render_part(&p, rgb, surf, &rng);
    char path[4096];
    if (anomalous) {
        add_defect(&p, rgb, mask, surf, &rng);
        if (lds_rng_uniform(&rng) < 0.25) add_defect(&p, rgb, mask, surf, &rng); /* sometimes two */
        snprintf(path, sizeof path, "%s/mask/anomaly-%04d.png", dir, index);
        if (lds_write_png(path, mask, S, S, 1, err) != 0) goto done;
        snprintf(path, sizeof path, "%s/anomaly/anomaly-%04d.png", dir, index);
    } else {
        snprintf(path, sizeof path, "%s/normal/normal-%04d.png", dir, index);
    }
    rc = write_rgb_png(path, rgb, &rng, err);
done:
    free(rgb);
    free(surf);
    free(mask);
    return rc;
}

int lds_demo_generate(const char *folder, int n_normal, int n_anomaly, uint64_t seed, lds_error *err)
{
    if (n_normal < 0 || n_anomaly < 0 || n_normal > 100000 || n_anomaly > 100000) {
        lds_set_error(err, "demo: image counts %d/%d out of range", n_normal, n_anomaly);
        return -1;
    }
    struct stat st;
    if (stat(folder, &st) == 0) {
        lds_set_error(err, "demo: %s already exists", folder);
        return -1;
    }
    /* Build beside the target and rename: a half-written demo folder never appears. */
    size_t fl = strlen(folder);
    char *tmp = malloc(fl + 16);
    if (!tmp) return -1;
    snprintf(tmp, fl + 16, "%s.partial", folder);
    lds_rm_rf(tmp);
    char sub[3][4096];
    snprintf(sub[0], sizeof sub[0], "%s/normal", tmp);
    snprintf(sub[1], sizeof sub[1], "%s/anomaly", tmp);
    snprintf(sub[2], sizeof sub[2], "%s/mask", tmp);
    int rc = 0;
    for (int k = 0; k < 3 && rc == 0; k++) rc = lds_mkdir_p(sub[k], err);
    int total = n_normal + n_anomaly, failed = 0;
    lds_error first = {{0}};
#pragma omp parallel for schedule(dynamic, 1)
    for (int i = 0; i < total; i++) {
        if (rc) continue;
        lds_error e;
        int a = i >= n_normal;
        if (demo_one(tmp, a ? i - n_normal : i, a, seed, &e) != 0) {
#pragma omp critical
            {
                if (!failed++) first = e;
            }
        }
    }
    if (rc == 0 && failed) {
        *err = first;
        rc = -1;
    }
    if (rc == 0 && rename(tmp, folder) != 0) {
        lds_set_error(err, "demo: cannot rename %s to %s", tmp, folder);
        rc = -1;
    }
    if (rc) lds_rm_rf(tmp);
    free(tmp);
    return rc;
}
