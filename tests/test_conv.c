/* SPDX-License-Identifier: MIT */
/*
 * test_conv.c -- the convolution layer and 2 x 2 pooling of lib/layers
 * against independent truth: direct nested-loop convolutions in double
 * (the formulas of tests/data/vectors' README, section "CNN cases"),
 * the adjoint identities <A x, y> = <x, A^T y>, central finite differences
 * of a scalar loss, closed-form scale/beta arithmetic, hand-made pooling
 * windows (ties, NaN), and the GEMM log's count.
 *
 * An internal test: it links a static build of lib/ and includes its
 * headers (tests/CMakeLists.txt, PCMUP_INTERNAL_TESTS).
 */
#include "testutil.h"

#include "layers/layer.h"
#include "layers/pool.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- a conv layer of one geometry, with its buffers ------------------------- */

typedef struct {
    size_t c_in, h, w, c_out, k, stride, pad;
    int bias;
    float mult;
    size_t batch;
    size_t chunk; /* samples per GEMM; 0: the layer's own choice */
} geometry;

/* Several geometries: k 1/3/5, stride 1/2, pad 0/1/2, channels > 1, odd and
 * non-square images, bias on and off, multipliers != 1, batches > 1; each
 * batch is one chunk of the layer's own size (conv_chunk_boundaries
 * below splits batches). */
static const geometry geometries[] = {
    {1, 8, 8, 4, 3, 1, 1, 0, 1.0f, 4, 0}, {3, 7, 6, 2, 3, 2, 1, 1, 0.5f, 3, 0},
    {2, 9, 9, 3, 5, 1, 2, 1, 2.0f, 2, 0}, {4, 5, 6, 5, 1, 1, 0, 1, 0.25f, 2, 0},
    {2, 6, 5, 3, 1, 2, 0, 0, 1.5f, 3, 0}, {3, 10, 7, 2, 5, 2, 0, 0, 0.75f, 2, 0},
    {2, 4, 4, 2, 3, 1, 0, 1, 1.0f, 5, 0}, {1, 5, 5, 3, 5, 2, 2, 1, 3.0f, 1, 0},
};

/* One product of the convolution's definition: pre[out] gets
 * W[weight] * in[in] (indices into the batch's arrays and W). */
typedef struct {
    size_t out, weight, in;
} term;

typedef struct {
    geometry g;
    pcmup_layer layer;
    float *params, *work, *x;
    size_t n_in, n_out, n_params, h_out, w_out;
    term *terms; /* every product that reads the image, not the padding */
    size_t n_terms;
} rig;

static void list_terms(rig *r);

/* A layer of geometry g, uniform parameters and inputs in (-1, 1); the
 * workspace has 16 guard floats past its end set to 12345. */
static rig rig_make(geometry g, uint32_t seed)
{
    rig r = {.g = g};
    ck_assert(pcmup__conv_geometry_valid(g.c_in, g.h, g.w, g.c_out, g.k, g.stride, g.pad));
    r.n_params = pcmup__conv_param_count(g.c_in, g.c_out, g.k, g.bias);
    r.params = tu_uniform(r.n_params, seed);
    pcmup__conv_init(&r.layer, g.c_in, g.h, g.w, g.c_out, g.k, g.stride, g.pad, g.mult, g.bias,
                     r.params, NULL);
    ck_assert_uint_ge(r.layer.conv.chunk, 1);
    if (g.chunk != 0)
        r.layer.conv.chunk = g.chunk; /* before sizing the workspace, as layer.h says */
    size_t n_work = pcmup__conv_workspace_floats(&r.layer);
    r.work = malloc((n_work + 16) * sizeof *r.work);
    for (size_t i = 0; i < n_work + 16; i++)
        r.work[i] = 12345.0f;
    r.layer.workspace = r.work;
    r.h_out = (g.h + 2 * g.pad - g.k) / g.stride + 1;
    r.w_out = (g.w + 2 * g.pad - g.k) / g.stride + 1;
    r.n_in = g.c_in * g.h * g.w;
    r.n_out = g.c_out * r.h_out * r.w_out;
    ck_assert_uint_eq(r.layer.n_in, r.n_in);
    ck_assert_uint_eq(r.layer.n_out, r.n_out);
    r.x = tu_uniform(g.batch * r.n_in, seed + 1);
    list_terms(&r);
    return r;
}

/* The workspace guard is intact: the ops stayed inside the size asked. */
static void rig_free(rig *r)
{
    size_t n_work = pcmup__conv_workspace_floats(&r->layer);
    for (size_t i = n_work; i < n_work + 16; i++)
        ck_assert_float_eq(r->work[i], 12345.0f);
    free(r->params);
    free(r->work);
    free(r->x);
    free(r->terms);
}

static double *widen(const float *x, size_t n)
{
    double *d = malloc(n * sizeof *d);
    for (size_t i = 0; i < n; i++)
        d[i] = x[i];
    return d;
}

/* ---- the direct convolution in double ---------------------------------------- */

/* The terms of the README's definition, written out by nested loops:
 * pre[b, o, i, j] = sum_{c, u, v} W[o, c, u, v] in_p[b, c, i stride + u,
 * j stride + v], in_p the input padded with zeros (those terms vanish and
 * are left out). The three direct maps below each walk this list. */
static void list_terms(rig *r)
{
    const geometry *g = &r->g;
    r->terms = malloc(g->batch * r->n_out * g->c_in * g->k * g->k * sizeof *r->terms);
    r->n_terms = 0;
    for (size_t b = 0; b < g->batch; b++)
        for (size_t o = 0; o < g->c_out; o++)
            for (size_t i = 0; i < r->h_out; i++)
                for (size_t j = 0; j < r->w_out; j++)
                    for (size_t c = 0; c < g->c_in; c++)
                        for (size_t u = 0; u < g->k; u++)
                            for (size_t v = 0; v < g->k; v++) {
                                size_t y = i * g->stride + u, x = j * g->stride + v;
                                if (y < g->pad || x < g->pad || y - g->pad >= g->h ||
                                    x - g->pad >= g->w)
                                    continue;
                                r->terms[r->n_terms++] = (term){
                                    ((b * g->c_out + o) * r->h_out + i) * r->w_out + j,
                                    ((o * g->c_in + c) * g->k + u) * g->k + v,
                                    ((b * g->c_in + c) * g->h + y - g->pad) * g->w + x - g->pad};
                            }
}

/* pre = mult * conv(in, W) (+ bias), by the definition. */
static double *direct_forward(const rig *r, const double *w, const double *in)
{
    const geometry *g = &r->g;
    double *pre = calloc(g->batch * r->n_out, sizeof *pre);
    for (size_t q = 0; q < r->n_terms; q++)
        pre[r->terms[q].out] += w[r->terms[q].weight] * in[r->terms[q].in];
    const size_t hw = r->h_out * r->w_out, n_w = g->c_out * g->c_in * g->k * g->k;
    for (size_t i = 0; i < g->batch * r->n_out; i++)
        pre[i] = g->mult * pre[i] + (g->bias ? w[n_w + i / hw % g->c_out] : 0.0);
    return pre;
}

/* 0.5 ||direct_forward(w, in) - t||^2: the scalar loss the finite
 * differences differentiate. */
static double loss(const rig *r, const double *w, const double *in, const double *t)
{
    double *pre = direct_forward(r, w, in), l = 0.0;
    for (size_t i = 0; i < r->g.batch * r->n_out; i++)
        l += 0.5 * (pre[i] - t[i]) * (pre[i] - t[i]);
    free(pre);
    return l;
}

/* Central difference of the loss in coordinate i of v (w or in). */
static double central_difference(const rig *r, double *w, double *in, double *v, size_t i,
                                 const double *t)
{
    const double h = 1e-3, keep = v[i];
    v[i] = keep + h;
    double up = loss(r, w, in, t);
    v[i] = keep - h;
    double down = loss(r, w, in, t);
    v[i] = keep;
    return (up - down) / (2 * h);
}

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static double max_abs(const double *a, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(a[i]));
    return m;
}

/* |lhs - rhs| small against |lhs|: the two sides of an adjoint identity. */
static void assert_adjoint(double lhs, double rhs, size_t gi)
{
    ck_assert_msg(fabs(lhs - rhs) < 1e-5 * (1.0 + fabs(lhs)), "geometry %zu: %g vs %g", gi, lhs,
                  rhs);
}

/* tu_rel_err(got, want) below tol. */
static void assert_close(const double *got, const double *want, size_t n, double tol,
                         const char *what, size_t gi)
{
    double err = tu_rel_err(got, want, n);
    ck_assert_msg(err < tol, "geometry %zu, %s: rel err %g", gi, what, err);
}

/* ---- convolution: forward ------------------------------------------------------ */

START_TEST(conv_forward_matches_direct)
{
    for (size_t gi = 0; gi < TU_COUNT(geometries); gi++) {
        rig r = rig_make(geometries[gi], 10 + (uint32_t)gi);
        const size_t n = r.g.batch * r.n_out;
        float *pre = malloc(n * sizeof *pre);
        r.layer.ops->forward(&r.layer, r.x, r.g.batch, pre);
        double *w = widen(r.params, r.n_params), *x = widen(r.x, r.g.batch * r.n_in);
        double *want = direct_forward(&r, w, x), *got = widen(pre, n);
        assert_close(got, want, n, 1e-6, "forward", gi);
        free(pre), free(w), free(x), free(want), free(got);
        rig_free(&r);
    }
}
END_TEST

/* k = 1, stride 1, no padding is a per-pixel matrix product: checked
 * against the 1x1 closed form with hand-made numbers. */
START_TEST(conv_forward_one_by_one_closed_form)
{
    geometry g = {2, 1, 2, 1, 1, 1, 0, 1, 2.0f, 1, 0};
    rig r = rig_make(g, 3);
    const float w[3] = {3.0f, -1.0f, 0.5f}; /* W (1, 2, 1, 1), bias */
    const float x[4] = {1.0f, 2.0f, 4.0f, 8.0f}; /* channel 0: 1 2; channel 1: 4 8 */
    memcpy(r.params, w, sizeof w);
    float pre[2];
    r.layer.ops->forward(&r.layer, x, 1, pre);
    ck_assert_float_eq(pre[0], 2.0f * (3.0f * 1.0f - 4.0f) + 0.5f);
    ck_assert_float_eq(pre[1], 2.0f * (3.0f * 2.0f - 8.0f) + 0.5f);
    rig_free(&r);
}
END_TEST

/* One GEMM per chunk and op: with batch 5, chunks of 1, 2, 5 and the
 * layer's own (at least 5 for this small geometry) issue 5, 3, 1 and 1
 * per op; the flops are the batch's whatever the chunking, and the first
 * forward GEMM covers the first chunk's samples side by side. */
START_TEST(conv_gemm_log_counts)
{
    const size_t chunks[] = {1, 2, 5, 0}, per_op[] = {5, 3, 1, 1}, first_n[] = {1, 2, 5, 5};
    for (size_t ci = 0; ci < TU_COUNT(chunks); ci++) {
        geometry g = geometries[1];
        g.batch = 5;
        g.chunk = chunks[ci];
        rig r = rig_make(g, 5);
        pcmup__gemm_shape shapes[16];
        pcmup__gemm_log log;
        pcmup__gemm_log_init(&log, shapes, TU_COUNT(shapes));
        r.layer.gemm_log = &log;
        float *pre = malloc(g.batch * r.n_out * sizeof *pre);
        float *grad = calloc(r.n_params, sizeof *grad), *din = malloc(g.batch * r.n_in * 4);
        r.layer.ops->forward(&r.layer, r.x, g.batch, pre);
        r.layer.ops->input_vjp(&r.layer, pre, g.batch, din);
        r.layer.ops->param_grad(&r.layer, pre, r.x, g.batch, 1.0f, 0.0f, grad);
        ck_assert_uint_eq(log.count, 3 * per_op[ci]);
        const size_t ckk = g.c_in * g.k * g.k, hw = r.h_out * r.w_out;
        ck_assert_uint_eq(shapes[0].m, g.c_out);
        ck_assert_uint_eq(shapes[0].n, first_n[ci] * hw);
        ck_assert_uint_eq(shapes[0].k, ckk);
        ck_assert_uint_eq(log.flops, 3 * g.batch * 2 * (uint64_t)(g.c_out * hw * ckk));
        free(pre), free(grad), free(din);
        rig_free(&r);
    }
}
END_TEST

/* ---- convolution: the VJPs ------------------------------------------------------- */

/* The transposed convolution of the README: din[b, c, i', j'] =
 * mult sum W[o, c, s, t] dpre[b, o, i, j] over i stride + s - p = i' and
 * j stride + t - p = j'. */
static double *direct_input_vjp(const rig *r, const double *w, const double *dpre)
{
    double *din = calloc(r->g.batch * r->n_in, sizeof *din);
    for (size_t q = 0; q < r->n_terms; q++)
        din[r->terms[q].in] += r->g.mult * w[r->terms[q].weight] * dpre[r->terms[q].out];
    return din;
}

START_TEST(conv_input_vjp_adjoint_and_direct)
{
    for (size_t gi = 0; gi < TU_COUNT(geometries); gi++) {
        geometry g = geometries[gi];
        g.bias = 0; /* the identity holds for the linear map */
        rig r = rig_make(g, 20 + (uint32_t)gi);
        const size_t n_out = g.batch * r.n_out, n_in = g.batch * r.n_in;
        float *y = tu_uniform(n_out, 99 + (uint32_t)gi), *pre = malloc(n_out * 4),
              *din = malloc(n_in * 4);
        r.layer.ops->forward(&r.layer, r.x, g.batch, pre);
        r.layer.ops->input_vjp(&r.layer, y, g.batch, din);
        double *pre_d = widen(pre, n_out), *y_d = widen(y, n_out), *x_d = widen(r.x, n_in),
               *din_d = widen(din, n_in), *w_d = widen(r.params, r.n_params);
        assert_adjoint(dot(pre_d, y_d, n_out), dot(x_d, din_d, n_in), gi);
        double *want = direct_input_vjp(&r, w_d, y_d);
        assert_close(din_d, want, n_in, 1e-6, "input_vjp", gi);
        free(y), free(pre), free(din), free(pre_d), free(y_d), free(x_d), free(din_d);
        free(w_d), free(want);
        rig_free(&r);
    }
}
END_TEST

/* dL/dx of L = 0.5 ||conv(x) - t||^2 is input_vjp(conv(x) - t); dL/dparams
 * is param_grad(conv(x) - t, x): both against central differences of the
 * loss computed in double by the direct convolution. */
START_TEST(conv_vjps_match_finite_differences)
{
    for (size_t gi = 0; gi < TU_COUNT(geometries); gi++) {
        rig r = rig_make(geometries[gi], 30 + (uint32_t)gi);
        const size_t n_out = r.g.batch * r.n_out, n_in = r.g.batch * r.n_in;
        float *tf = tu_uniform(n_out, 77), *pre = malloc(n_out * 4), *din = malloc(n_in * 4),
              *grad = malloc(r.n_params * 4);
        double *t = widen(tf, n_out);
        r.layer.ops->forward(&r.layer, r.x, r.g.batch, pre);
        for (size_t i = 0; i < n_out; i++)
            pre[i] -= tf[i];
        r.layer.ops->input_vjp(&r.layer, pre, r.g.batch, din);
        r.layer.ops->param_grad(&r.layer, pre, r.x, r.g.batch, 1.0f, 0.0f, grad);
        double *w = widen(r.params, r.n_params), *x = widen(r.x, n_in);
        double *fd_x = malloc(n_in * sizeof *fd_x), *fd_w = malloc(r.n_params * sizeof *fd_w);
        for (size_t i = 0; i < n_in; i++)
            fd_x[i] = central_difference(&r, w, x, x, i, t);
        for (size_t i = 0; i < r.n_params; i++)
            fd_w[i] = central_difference(&r, w, x, w, i, t);
        double *din_d = widen(din, n_in), *grad_d = widen(grad, r.n_params);
        assert_close(din_d, fd_x, n_in, 1e-5, "input_vjp vs differences", gi);
        assert_close(grad_d, fd_w, r.n_params, 1e-5, "param_grad vs differences", gi);
        ck_assert(max_abs(fd_w, r.n_params) > 0.1); /* a real gradient, not zeros */
        free(t), free(tf), free(pre), free(din), free(grad), free(w), free(x), free(fd_x);
        free(fd_w), free(din_d), free(grad_d);
        rig_free(&r);
    }
}
END_TEST

/* The README's weight gradient, times the multiplier: grad[o, c, s, t] =
 * mult sum_{b, i, j} E[b, o, i, j] Ap[b, c, i stride + s, j stride + t]
 * (Ap: A padded), without bias. */
static double *direct_param_grad(const rig *r, const double *e, const double *a)
{
    double *grad = calloc(r->n_params, sizeof *grad);
    for (size_t q = 0; q < r->n_terms; q++)
        grad[r->terms[q].weight] += r->g.mult * e[r->terms[q].out] * a[r->terms[q].in];
    return grad;
}

/* param_grad against direct_param_grad, and <conv_W(x), y> = <W, grad(y, x)>
 * for the linear map W -> conv_W(x) (no bias). */
START_TEST(conv_param_grad_adjoint_and_direct)
{
    for (size_t gi = 0; gi < TU_COUNT(geometries); gi++) {
        geometry g = geometries[gi];
        g.bias = 0;
        rig r = rig_make(g, 40 + (uint32_t)gi);
        const size_t n_out = g.batch * r.n_out, n_in = g.batch * r.n_in;
        float *y = tu_uniform(n_out, 55), *pre = malloc(n_out * 4),
              *grad = malloc(r.n_params * 4);
        r.layer.ops->forward(&r.layer, r.x, g.batch, pre);
        r.layer.ops->param_grad(&r.layer, y, r.x, g.batch, 1.0f, 0.0f, grad);
        double *pre_d = widen(pre, n_out), *y_d = widen(y, n_out), *x_d = widen(r.x, n_in),
               *w_d = widen(r.params, r.n_params), *grad_d = widen(grad, r.n_params);
        assert_adjoint(dot(pre_d, y_d, n_out), dot(w_d, grad_d, r.n_params), gi);
        double *want = direct_param_grad(&r, y_d, x_d);
        assert_close(grad_d, want, r.n_params, 1e-6, "param_grad", gi);
        free(y), free(pre), free(grad), free(pre_d), free(y_d), free(x_d), free(w_d);
        free(grad_d), free(want);
        rig_free(&r);
    }
}
END_TEST

/* grad = beta grad + scale G for G = param_grad(scale 1, beta 0), bias
 * included; and grad = params, beta = 1, scale = -lr is SGD in place. */
START_TEST(conv_param_grad_scale_beta)
{
    geometry g = geometries[2]; /* with bias, batch 2 */
    rig r = rig_make(g, 50);
    const size_t n_out = g.batch * r.n_out;
    float *e = tu_uniform(n_out, 51), *base = malloc(r.n_params * 4),
          *g0 = tu_uniform(r.n_params, 52), *grad = malloc(r.n_params * 4);
    r.layer.ops->param_grad(&r.layer, e, r.x, g.batch, 1.0f, 0.0f, base);
    const float beta_scale[][2] = {{0.5f, -0.25f}, {1.0f, 2.0f}, {0.0f, 3.0f}, {-1.5f, 0.0f}};
    for (size_t q = 0; q < TU_COUNT(beta_scale); q++) {
        const float beta = beta_scale[q][0], scale = beta_scale[q][1];
        memcpy(grad, g0, r.n_params * 4);
        r.layer.ops->param_grad(&r.layer, e, r.x, g.batch, scale, beta, grad);
        for (size_t i = 0; i < r.n_params; i++) {
            double want = (double)beta * g0[i] + (double)scale * base[i];
            ck_assert_msg(fabs(grad[i] - want) < 1e-5 * (1.0 + fabs(want)),
                          "beta %g scale %g, param %zu: %g vs %g", beta, scale, i, grad[i],
                          want);
        }
    }
    /* SGD in place: params - lr G */
    float *before = malloc(r.n_params * 4);
    memcpy(before, r.params, r.n_params * 4);
    r.layer.ops->param_grad(&r.layer, e, r.x, g.batch, -0.1f, 1.0f, r.params);
    for (size_t i = 0; i < r.n_params; i++)
        ck_assert_msg(fabs(r.params[i] - (before[i] - 0.1 * base[i])) < 1e-6, "param %zu", i);
    free(e), free(base), free(g0), free(grad), free(before);
    rig_free(&r);
}
END_TEST

/* An empty batch still applies beta: grad = beta grad. */
START_TEST(conv_param_grad_empty_batch)
{
    rig r = rig_make(geometries[1], 60);
    float *grad = tu_uniform(r.n_params, 61), *g0 = malloc(r.n_params * 4);
    memcpy(g0, grad, r.n_params * 4);
    r.layer.ops->param_grad(&r.layer, NULL, NULL, 0, 1.0f, 0.5f, grad);
    for (size_t i = 0; i < r.n_params; i++)
        ck_assert_float_eq(grad[i], 0.5f * g0[i]);
    free(grad), free(g0);
    rig_free(&r);
}
END_TEST

START_TEST(conv_geometry_validation)
{
    ck_assert_uint_eq(pcmup__conv_out_size(8, 3, 1, 1), 8);
    ck_assert_uint_eq(pcmup__conv_out_size(7, 3, 2, 1), 4);  /* (7 + 2 - 3) / 2 + 1 */
    ck_assert_uint_eq(pcmup__conv_out_size(28, 5, 1, 2), 28);
    ck_assert_uint_eq(pcmup__conv_out_size(4, 5, 1, 0), 0);  /* kernel larger than image */
    ck_assert_uint_eq(pcmup__conv_out_size(4, 5, 1, 1), 2);  /* padding makes it fit */
    ck_assert_uint_eq(pcmup__conv_out_size(4, 0, 1, 0), 0);
    ck_assert_uint_eq(pcmup__conv_out_size(4, 3, 0, 0), 0);
    ck_assert_uint_eq(pcmup__conv_out_size(0, 1, 1, 0), 0);
    ck_assert_int_eq(pcmup__conv_geometry_valid(1, 28, 28, 16, 5, 1, 2), 1);
    ck_assert_int_eq(pcmup__conv_geometry_valid(0, 28, 28, 16, 5, 1, 2), 0);
    ck_assert_int_eq(pcmup__conv_geometry_valid(1, 28, 28, 0, 5, 1, 2), 0);
    ck_assert_int_eq(pcmup__conv_geometry_valid(1, 3, 3, 1, 5, 1, 0), 0);
    ck_assert_int_eq(pcmup__conv_geometry_valid(1, 3, 3, 1, 3, 0, 0), 0);
    /* sizes past BLAS's integers: c_in k^2 or the workspace overflow */
    ck_assert_int_eq(pcmup__conv_geometry_valid((size_t)1 << 30, 1, 1, 1, 3, 1, 1), 0);
    ck_assert_int_eq(pcmup__conv_geometry_valid(1, (size_t)1 << 20, (size_t)1 << 20, 1, 1, 1, 0),
                     0);
    ck_assert_int_eq(pcmup__conv_geometry_valid(1, 4, 4, 1, 3, 1, SIZE_MAX / 2), 0);
    ck_assert_uint_eq(pcmup__conv_param_count(3, 4, 5, 0), 4 * 3 * 25);
    ck_assert_uint_eq(pcmup__conv_param_count(3, 4, 5, 1), 4 * 3 * 25 + 4);
    pcmup_layer layer;
    pcmup__conv_init(&layer, 3, 7, 6, 2, 3, 2, 1, 1.0f, 0, NULL, NULL);
    /* per sample of a chunk: its im2col block (3 * 9) x (4 * 3) and its
     * (2 channels) x (4 * 3) outputs; a chunk of one: the im2col alone */
    const size_t n = layer.conv.chunk;
    ck_assert_uint_gt(n, 1); /* a small layer: several samples per GEMM */
    ck_assert_uint_eq(pcmup__conv_workspace_floats(&layer), n * 12 * (27 + 2));
    layer.conv.chunk = 1;
    ck_assert_uint_eq(pcmup__conv_workspace_floats(&layer), 27 * 12);
    /* a sample whose im2col alone is 4608 x 1024 floats (18 MiB): one per
     * GEMM, nothing more than that matrix */
    pcmup__conv_init(&layer, 512, 32, 32, 512, 3, 1, 1, 1.0f, 0, NULL, NULL);
    ck_assert_uint_eq(layer.conv.chunk, 1);
    ck_assert_uint_eq(pcmup__conv_workspace_floats(&layer), 4608 * 1024);
    /* SimpleCNN's layers at M = 8 .. 128: a few MiB at most, whatever the
     * batch later is (the size is the geometry's alone) */
    for (size_t m = 8; m <= 128; m *= 2) {
        pcmup__conv_init(&layer, 1, 28, 28, m, 5, 1, 2, 1.0f, 0, NULL, NULL);
        ck_assert_uint_le(pcmup__conv_workspace_floats(&layer) * sizeof(float), 4u << 20);
        pcmup__conv_init(&layer, m, 14, 14, 2 * m, 5, 1, 2, 1.0f, 0, NULL, NULL);
        ck_assert_uint_le(pcmup__conv_workspace_floats(&layer) * sizeof(float), 4u << 20);
    }
}
END_TEST

/* ---- chunks of samples ------------------------------------------------------------- */

/* The three ops for chunks of 1, 2, 3 and the layer's own against the
 * direct maps (the README's definition, independent of im2col), at
 * batches 1, 2 (one chunk of 2), 5 (not a multiple of 2 or 3), 11 (four
 * chunks of 3, the last short): every sample lands in its own rows,
 * whichever chunk and place in it. param_grad with beta != 0 checks that
 * beta applies once, not once per chunk. Stride 1 and 2, bias on and off. */
START_TEST(conv_chunk_boundaries)
{
    const geometry base[] = {{3, 7, 6, 4, 3, 2, 1, 1, 0.5f, 0, 0},
                             {2, 6, 6, 3, 5, 1, 2, 0, 1.5f, 0, 0}};
    const size_t chunks[] = {1, 2, 3, 0}, batches[] = {1, 2, 5, 11};
    const float scale = -2.0f, beta = 0.5f;
    for (size_t gi = 0; gi < TU_COUNT(base); gi++)
        for (size_t ci = 0; ci < TU_COUNT(chunks); ci++)
            for (size_t bi = 0; bi < TU_COUNT(batches); bi++) {
                geometry g = base[gi];
                g.chunk = chunks[ci];
                g.batch = batches[bi];
                const size_t tag = (gi * 10 + ci) * 10 + bi;
                rig r = rig_make(g, 200 + (uint32_t)tag);
                const size_t n_out = g.batch * r.n_out, n_in = g.batch * r.n_in;
                float *e = tu_uniform(n_out, 300 + (uint32_t)tag), *pre = malloc(n_out * 4),
                      *din = malloc(n_in * 4), *grad = tu_uniform(r.n_params, 7);
                double *g0 = widen(grad, r.n_params);
                r.layer.ops->forward(&r.layer, r.x, g.batch, pre);
                r.layer.ops->input_vjp(&r.layer, e, g.batch, din);
                r.layer.ops->param_grad(&r.layer, e, r.x, g.batch, scale, beta, grad);
                double *w = widen(r.params, r.n_params), *x = widen(r.x, n_in),
                       *e_d = widen(e, n_out);
                double *want_pre = direct_forward(&r, w, x);
                double *want_din = direct_input_vjp(&r, w, e_d);
                double *want_grad = direct_param_grad(&r, e_d, x);
                /* the bias's gradient: the sum of e over positions, per channel */
                const size_t n_w = g.c_out * g.c_in * g.k * g.k, hw = r.h_out * r.w_out;
                for (size_t i = 0; g.bias && i < n_out; i++)
                    want_grad[n_w + i / hw % g.c_out] += e_d[i];
                for (size_t i = 0; i < r.n_params; i++)
                    want_grad[i] = beta * g0[i] + scale * want_grad[i];
                double *got_pre = widen(pre, n_out), *got_din = widen(din, n_in),
                       *got_grad = widen(grad, r.n_params);
                assert_close(got_pre, want_pre, n_out, 1e-6, "chunked forward", tag);
                assert_close(got_din, want_din, n_in, 1e-6, "chunked input_vjp", tag);
                assert_close(got_grad, want_grad, r.n_params, 1e-6, "chunked param_grad", tag);
                free(e), free(pre), free(din), free(grad), free(g0), free(w), free(x);
                free(e_d), free(want_pre), free(want_din), free(want_grad), free(got_pre);
                free(got_din), free(got_grad);
                rig_free(&r);
            }
}
END_TEST

/* ---- pooling ---------------------------------------------------------------------- */

/* The max of the window at output (p, i, j) of planes of h x w, by the
 * definition: the first maximum in window order (NaN-free input). */
static size_t direct_argmax(const float *in, size_t p, size_t i, size_t j, size_t h, size_t w)
{
    size_t best = p * h * w + 2 * i * w + 2 * j;
    for (size_t u = 0; u < 2; u++)
        for (size_t v = 0; v < 2; v++) {
            size_t at = p * h * w + (2 * i + u) * w + 2 * j + v;
            if (in[at] > in[best])
                best = at;
        }
    return best;
}

START_TEST(pool_forward_and_vjp_match_direct)
{
    const size_t batch = 3, c = 2, h = 6, w = 4, n = batch * c * h * w, m = n / 4;
    /* coarse values so that ties occur */
    float *in = tu_uniform(n, 70), *dout = tu_uniform(m, 71);
    for (size_t i = 0; i < n; i++)
        in[i] = roundf(in[i] * 2.0f);
    float *out = malloc(m * 4), *din = malloc(n * 4);
    memset(din, 0x7f, n * 4); /* garbage: the VJPs must write every entry */
    pcmup__maxpool2_forward(in, batch, c, h, w, out);
    pcmup__maxpool2_vjp(in, dout, batch, c, h, w, din);
    float *want = calloc(n, 4);
    for (size_t p = 0; p < batch * c; p++)
        for (size_t i = 0; i < h / 2; i++)
            for (size_t j = 0; j < w / 2; j++) {
                size_t q = (p * (h / 2) + i) * (w / 2) + j, at = direct_argmax(in, p, i, j, h, w);
                ck_assert_float_eq(out[q], in[at]);
                want[at] = dout[q];
            }
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(din[i] == want[i], "max vjp entry %zu: %g vs %g", i, din[i], want[i]);
    pcmup__avgpool2_forward(in, batch, c, h, w, out);
    memset(din, 0x7f, n * 4);
    pcmup__avgpool2_vjp(dout, batch, c, h, w, din);
    for (size_t p = 0; p < batch * c; p++)
        for (size_t i = 0; i < h / 2; i++)
            for (size_t j = 0; j < w / 2; j++) {
                size_t q = (p * (h / 2) + i) * (w / 2) + j, o = p * h * w + 2 * i * w + 2 * j;
                double mean = ((double)in[o] + in[o + 1] + in[o + w] + in[o + w + 1]) / 4;
                ck_assert_msg(fabs(out[q] - mean) < 1e-6, "avg %zu", q);
                const size_t at[4] = {o, o + 1, o + w, o + w + 1};
                for (int e = 0; e < 4; e++)
                    ck_assert_float_eq(din[at[e]], dout[q] / 4);
            }
    free(in), free(dout), free(out), free(din), free(want);
}
END_TEST

/* <P x, y> = <x, P^T y>: exact for avg, and for max at the x whose arg-max
 * the VJP uses (max pooling is linear once the arg-max is fixed). */
START_TEST(pool_adjoint_identity)
{
    const size_t batch = 2, c = 3, h = 4, w = 8, n = batch * c * h * w, m = n / 4;
    float *x = tu_uniform(n, 80), *y = tu_uniform(m, 81), *px = malloc(m * 4),
          *pty = malloc(n * 4);
    for (int kind = 0; kind < 2; kind++) {
        if (kind == 0) {
            pcmup__maxpool2_forward(x, batch, c, h, w, px);
            pcmup__maxpool2_vjp(x, y, batch, c, h, w, pty);
        } else {
            pcmup__avgpool2_forward(x, batch, c, h, w, px);
            pcmup__avgpool2_vjp(y, batch, c, h, w, pty);
        }
        double lhs = 0.0, rhs = 0.0;
        for (size_t i = 0; i < m; i++)
            lhs += (double)px[i] * y[i];
        for (size_t i = 0; i < n; i++)
            rhs += (double)x[i] * pty[i];
        ck_assert_msg(fabs(lhs - rhs) < 1e-5, "kind %d: %g vs %g", kind, lhs, rhs);
    }
    free(x), free(y), free(px), free(pty);
}
END_TEST

/* Ties go to the first maximum in window order (0,0), (0,1), (1,0), (1,1). */
START_TEST(maxpool_tie_rule)
{
    /* one 2 x 4 plane: two windows */
    const float in[][8] = {
        {0, 0, 5, 1, 0, 0, 5, 5},  /* all zeros -> (0,0); 5 at (0,0) and (1,0),(1,1) -> (0,0) */
        {1, 2, 3, 7, 2, 2, 7, 7},  /* 2 at (0,1),(1,0),(1,1) -> (0,1); 7 at (0,1),(1,0),(1,1) */
        {-1, -2, 4, 4, -1, -3, 9, 4}, /* -1 at (0,0) and (1,0) -> (0,0); 9 alone at (1,0) */
    };
    const size_t want_at[][2] = {{0, 2}, {1, 3}, {0, 6}};
    const float dout[2] = {10.0f, 20.0f};
    for (size_t q = 0; q < TU_COUNT(in); q++) {
        float din[8], out[2];
        pcmup__maxpool2_forward(in[q], 1, 1, 2, 4, out);
        pcmup__maxpool2_vjp(in[q], dout, 1, 1, 2, 4, din);
        for (size_t i = 0; i < 8; i++) {
            float want = i == want_at[q][0] ? 10.0f : i == want_at[q][1] ? 20.0f : 0.0f;
            ck_assert_msg(din[i] == want, "case %zu entry %zu: %g", q, i, din[i]);
        }
        ck_assert_float_eq(out[0], in[q][want_at[q][0]]);
        ck_assert_float_eq(out[1], in[q][want_at[q][1]]);
    }
}
END_TEST

/* A NaN anywhere in a window makes max pooling's output NaN, before or
 * after larger values; the gradient goes to the first NaN. Average
 * pooling propagates it by arithmetic. */
START_TEST(pool_nan_propagates)
{
    for (size_t pos = 0; pos < 4; pos++) {
        /* window order positions 0..3 in a 2 x 2 plane are indices 0..3 */
        float in[4] = {1.0f, 5.0f, -2.0f, 3.0f}, out, din[4], dout = 1.0f;
        in[pos] = NAN;
        pcmup__maxpool2_forward(in, 1, 1, 2, 2, &out);
        ck_assert_msg(isnan(out), "NaN at %zu gave %g", pos, out);
        pcmup__maxpool2_vjp(in, &dout, 1, 1, 2, 2, din);
        for (size_t i = 0; i < 4; i++)
            ck_assert_float_eq(din[i], i == pos ? 1.0f : 0.0f);
        pcmup__avgpool2_forward(in, 1, 1, 2, 2, &out);
        ck_assert(isnan(out));
    }
    float two_nans[4] = {1.0f, NAN, 7.0f, NAN}, din[4], dout = 2.0f;
    pcmup__maxpool2_vjp(two_nans, &dout, 1, 1, 2, 2, din);
    ck_assert_float_eq(din[1], 2.0f);
    ck_assert_float_eq(din[3], 0.0f);
    /* infinities are ordinary values */
    float inf[4] = {-INFINITY, INFINITY, 1.0f, INFINITY}, out;
    pcmup__maxpool2_forward(inf, 1, 1, 2, 2, &out);
    ck_assert(isinf(out) && out > 0);
}
END_TEST

START_TEST(pool_validation)
{
    ck_assert_int_eq(pcmup__pool2_valid(4, 6), 1);
    ck_assert_int_eq(pcmup__pool2_valid(2, 2), 1);
    ck_assert_int_eq(pcmup__pool2_valid(3, 4), 0);
    ck_assert_int_eq(pcmup__pool2_valid(4, 5), 0);
    ck_assert_int_eq(pcmup__pool2_valid(0, 4), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("conv");
    TCase *conv = tcase_create("conv");
    tcase_add_test(conv, conv_forward_matches_direct);
    tcase_add_test(conv, conv_forward_one_by_one_closed_form);
    tcase_add_test(conv, conv_gemm_log_counts);
    tcase_add_test(conv, conv_input_vjp_adjoint_and_direct);
    tcase_add_test(conv, conv_vjps_match_finite_differences);
    tcase_add_test(conv, conv_param_grad_adjoint_and_direct);
    tcase_add_test(conv, conv_param_grad_scale_beta);
    tcase_add_test(conv, conv_param_grad_empty_batch);
    tcase_add_test(conv, conv_geometry_validation);
    tcase_add_test(conv, conv_chunk_boundaries);
    suite_add_tcase(s, conv);
    TCase *pool = tcase_create("pool");
    tcase_add_test(pool, pool_forward_and_vjp_match_direct);
    tcase_add_test(pool, pool_adjoint_identity);
    tcase_add_test(pool, maxpool_tie_rule);
    tcase_add_test(pool, pool_nan_propagates);
    tcase_add_test(pool, pool_validation);
    suite_add_tcase(s, pool);
    return tu_run_suite(s);
}
