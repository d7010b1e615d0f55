/* SPDX-License-Identifier: MIT */
/*
 * test_pc_linear.c -- the exact inference equilibrium of predictive coding
 * on deep linear networks (pcmup_pc_linear_equilibrium; the paper's
 * Theorem 4.2 and Corollary 4.3; docs/pc.md, sections 12 and 13.2):
 *   (a) the reference case pc_linear_closed_form;
 *   (b) the stationarity equations, checked independently in double;
 *   (c) long iterated inference (a real PC step) reaches the same update;
 *   (d) Corollary 4.3 under muP: ||C_gamma|| and the PC-vs-BP cosines
 *       across widths;
 *   (e) argument validation.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LAYERS 8

/* ---- the equilibrium's outputs ---------------------------------------------- */

typedef struct {
    size_t n_layers, batch, widths[MAX_LAYERS + 1];
    float *eps[MAX_LAYERS], *states[MAX_LAYERS], *updates[MAX_LAYERS], *c_gamma;
    double norm, energy;
} eq_result;

static void eq_alloc(eq_result *r, const pcmup_net *net, size_t batch)
{
    memset(r, 0, sizeof *r);
    TU_OK(pcmup_net_n_layers(net, &r->n_layers));
    ck_assert_uint_le(r->n_layers, MAX_LAYERS);
    r->batch = batch;
    for (size_t l = 1; l <= r->n_layers; l++) {
        size_t out, in;
        TU_OK(pcmup_net_layer_shape(net, l, &out, &in));
        r->widths[l - 1] = in, r->widths[l] = out;
    }
    for (size_t l = 1; l <= r->n_layers; l++) {
        r->eps[l - 1] = calloc(batch * r->widths[l], sizeof(float));
        r->updates[l - 1] = calloc(r->widths[l] * r->widths[l - 1], sizeof(float));
        if (l < r->n_layers)
            r->states[l - 1] = calloc(batch * r->widths[l], sizeof(float));
    }
    size_t c = r->widths[r->n_layers];
    r->c_gamma = calloc(c * c, sizeof(float));
}

static void eq_free(eq_result *r)
{
    for (size_t l = 0; l < r->n_layers; l++) {
        free(r->eps[l]);
        free(r->states[l]);
        free(r->updates[l]);
    }
    free(r->c_gamma);
}

/* The closed form on `batch` samples x (batch, M_0) into r's outputs. */
static pcmup_status eq_call(const pcmup_algo *pc, const float *x, const int32_t *labels,
                            size_t batch, eq_result *r)
{
    const size_t L = r->n_layers, c = r->widths[L];
    return pcmup_pc_linear_equilibrium(pc, x, batch * r->widths[0], labels, batch, r->eps, L,
                                       r->states, L - 1, r->updates, L, r->c_gamma, c * c,
                                       &r->norm, &r->energy);
}

static pcmup_status eq_run(const pcmup_algo *pc, const float *x, const int32_t *labels,
                           eq_result *r)
{
    return eq_call(pc, x, labels, r->batch, r);
}

/* ---- small double helpers ---------------------------------------------------------- */

static double *to_double(const float *src, size_t n)
{
    double *d = malloc(n * sizeof *d);
    for (size_t i = 0; i < n; i++)
        d[i] = src[i];
    return d;
}

static double *weights_d(const pcmup_net *net, size_t l, size_t *out, size_t *in)
{
    TU_OK(pcmup_net_layer_shape(net, l, out, in));
    size_t n = *out * *in;
    float *w = malloc(n * sizeof *w);
    TU_OK(pcmup_net_get_weights(net, l, w, n));
    double *d = to_double(w, n);
    free(w);
    return d;
}

/* max |a - ref| / max |ref| with a in float. */
static double rel_err_f(const float *a, const double *ref, size_t n)
{
    double *ad = to_double(a, n);
    double e = tu_rel_err(ad, ref, n);
    free(ad);
    return e;
}

/* Gammas of a PC algorithm, [l - 1] for layer l = 1..L. */
static void gammas(const pcmup_algo *pc, size_t n_layers, double *g)
{
    for (size_t l = 1; l < n_layers; l++)
        TU_OK(pcmup_algo_get_layer(pc, l, PCMUP_SET_PC_GAMMA_HIDDEN, &g[l - 1]));
    TU_OK(pcmup_pc_gamma_out(pc, &g[n_layers - 1]));
}

/* Largest eigenvalue of a symmetric PSD n x n matrix by power iteration,
 * independent of the library's Jacobi routine. */
static double power_iteration(const double *a, size_t n)
{
    double v[64], w[64], lambda = 0;
    ck_assert_uint_le(n, 64);
    for (size_t i = 0; i < n; i++)
        v[i] = 1.0 + 0.1 * (double)i;
    for (int it = 0; it < 5000; it++) {
        double norm = 0;
        for (size_t i = 0; i < n; i++) {
            w[i] = 0;
            for (size_t j = 0; j < n; j++)
                w[i] += a[i * n + j] * v[j];
            norm += w[i] * w[i];
        }
        norm = sqrt(norm);
        if (norm == 0)
            return 0;
        lambda = 0;
        for (size_t i = 0; i < n; i++) {
            lambda += v[i] * w[i];
            v[i] = w[i] / norm;
        }
    }
    return lambda;
}

/* A reproducible stream for test inputs (testutil's generator): a batch
 * and its labels are drawn in turn from it. */
static tu_rng rng;

static void reseed(uint32_t seed)
{
    rng.state = seed;
}

static float *gaussian_batch(size_t batch, size_t dim)
{
    float *x = malloc(batch * dim * sizeof *x);
    for (size_t i = 0; i < batch * dim; i++)
        x[i] = (float)tu_rng_normal(&rng);
    return x;
}

static int32_t *random_labels(size_t batch, size_t n_classes)
{
    int32_t *labels = malloc(batch * sizeof *labels);
    for (size_t i = 0; i < batch; i++)
        labels[i] = (int32_t)(tu_rng_uniform(&rng) * (double)n_classes);
    return labels;
}

/* ---- (a) the reference case ---------------------------------------------------------- */

/* Tolerance against the float64 reference. The library reads X and W as
 * floats (relative rounding 6e-8) and returns floats (another 6e-8); the
 * map from X, W to the outputs is well conditioned here (I + C_gamma >= I,
 * and the hidden errors are linear in eps_L), so the measured error is
 * about 1e-7 (printed below). 1e-5 leaves a factor ~100 of margin while a
 * convention error (a gamma ratio, a missing gamma_l, eta_l or the 1/B) is
 * at least 1e-1. */
#define REF_TOL 1e-5

static pcmup_algo *reference_pc(const tu_case *c, pcmup_net *net)
{
    pcmup_algo *pc;
    TU_OK(pcmup_algo_create(&pc, PCMUP_RULE_PC, net, 1, NULL));
    size_t n_layers = (size_t)tu_case_num(c, "L");
    TU_OK(pcmup_algo_set(pc, PCMUP_SET_LR, tu_case_num(c, "eta")));
    TU_OK(pcmup_algo_set(pc, PCMUP_SET_PC_GAMMA_OUT_BASE, tu_case_num(c, "gamma_L_prime")));
    for (size_t l = 1; l < n_layers; l++)
        TU_OK(pcmup_algo_set_layer(pc, l, PCMUP_SET_PC_GAMMA_HIDDEN,
                                   tu_case_list(c, "gamma_hidden", l - 1)));
    double g_out;
    TU_OK(pcmup_pc_gamma_out(pc, &g_out));
    ck_assert_double_eq_tol(g_out, tu_case_list(c, "gamma_l", n_layers - 1), 1e-12);
    return pc;
}

static double compare_file(const tu_case *c, const char *file, const float *mine)
{
    size_t n;
    double *ref = tu_case_f64(c, file, &n);
    double e = rel_err_f(mine, ref, n);
    free(ref);
    printf("  %-8s rel. error %.2e\n", file, e);
    ck_assert_msg(e < REF_TOL, "%s: relative error %.3g", file, e);
    return e;
}

START_TEST(reference_case)
{
    tu_case *c = tu_case_load("pc_linear_closed_form");
    pcmup_net *net = tu_case_net(c);
    size_t batch, n_labels, x_count;
    float *x = tu_case_x(c, &batch, &x_count);
    int32_t *labels = tu_case_i32(c, "labels", &n_labels);
    pcmup_algo *pc = reference_pc(c, net);
    eq_result r;
    eq_alloc(&r, net, batch);
    TU_OK(eq_run(pc, x, labels, &r));

    printf("pc_linear_closed_form against the float64 reference:\n");
    char name[16];
    for (size_t l = 1; l <= r.n_layers; l++) {
        snprintf(name, sizeof name, "eps%zu", l);
        compare_file(c, name, r.eps[l - 1]);
        snprintf(name, sizeof name, "dW%zu", l);
        compare_file(c, name, r.updates[l - 1]);
        if (l < r.n_layers) {
            snprintf(name, sizeof name, "x%zu", l);
            compare_file(c, name, r.states[l - 1]);
        }
    }
    compare_file(c, "Cgamma", r.c_gamma);
    double want = tu_case_num(c, "energy_equilibrium");
    printf("  energy   rel. error %.2e\n", fabs(r.energy - want) / want);
    ck_assert_msg(fabs(r.energy - want) < REF_TOL * want, "energy %.9g vs %.9g", r.energy, want);

    /* The spectral norm against power iteration on the reference C_gamma. */
    size_t n;
    double *cg = tu_case_f64(c, "Cgamma", &n);
    double lambda = power_iteration(cg, r.widths[r.n_layers]);
    printf("  ||C_gamma|| %.9g (power iteration on the reference: %.9g)\n", r.norm, lambda);
    ck_assert_msg(fabs(r.norm - lambda) < REF_TOL * lambda, "norm %.9g vs %.9g", r.norm, lambda);
    free(cg);

    /* Every output may be NULL; what is computed does not change. */
    double energy2 = 0;
    TU_OK(pcmup_pc_linear_equilibrium(pc, x, x_count, labels, batch, NULL, 0, NULL, 0, NULL, 0,
                                      NULL, 0, NULL, &energy2));
    ck_assert(energy2 == r.energy);
    TU_OK(pcmup_pc_linear_equilibrium(pc, x, x_count, labels, batch, NULL, 0, NULL, 0, NULL, 0,
                                      NULL, 0, NULL, NULL));

    eq_free(&r);
    pcmup_algo_free(pc);
    pcmup_net_free(net);
    free(x);
    free(labels);
    tu_case_free(c);
}
END_TEST

/* ---- a second, less regular configuration -------------------------------------------- */

/* L = 4, unequal widths, forward multipliers != 1 (a_2 = 1/2, a_4 = -1/4),
 * gammabar_L = -1/2, uncentred targets, last-layer convention B and
 * distinct precisions: every factor of the update (m^2, s = gamma_L,
 * gamma_l, eta_l) differs from 1 somewhere. */
static const size_t odd_widths[] = {5, 7, 6, 9, 4};
#define ODD_L 4
#define ODD_B 6

static pcmup_net *odd_net(pcmup_activation act, unsigned flags)
{
    pcmup_param *p;
    TU_OK(pcmup_param_create(&p, ODD_L, PCMUP_PRESET_SP, NULL));
    TU_OK(pcmup_param_set(p, PCMUP_PARAM_BASE_WIDTH, 3));
    TU_OK(pcmup_param_apply_preset(p, PCMUP_PRESET_MUP_PC_B, -0.5, 1.0));
    TU_OK(pcmup_param_set_layer(p, 2, PCMUP_LAYER_A, 0.5));
    TU_OK(pcmup_param_set_layer(p, 4, PCMUP_LAYER_A, -0.25));
    pcmup_net *net;
    TU_OK(pcmup_net_create(&net, odd_widths, ODD_L + 1, act, flags, p, 11, NULL));
    pcmup_param_free(p);
    return net;
}

static pcmup_algo *odd_pc(pcmup_net *net)
{
    pcmup_algo *pc;
    TU_OK(pcmup_algo_create(&pc, PCMUP_RULE_PC, net, 3, NULL));
    TU_OK(pcmup_algo_set(pc, PCMUP_SET_LR, 0.3));
    TU_OK(pcmup_algo_set(pc, PCMUP_SET_MSE_CENTRED, 0));
    TU_OK(pcmup_algo_set(pc, PCMUP_SET_PC_LAST_LAYER, PCMUP_PC_LAST_LAYER_B));
    TU_OK(pcmup_algo_set(pc, PCMUP_SET_PC_GAMMA_OUT_BASE, 0.7));
    const double g[] = {0.5, 2.0, 1.5};
    for (size_t l = 1; l < ODD_L; l++)
        TU_OK(pcmup_algo_set_layer(pc, l, PCMUP_SET_PC_GAMMA_HIDDEN, g[l - 1]));
    return pc;
}

/* ---- (b) stationarity ------------------------------------------------------------------ */

/* Worst relative residual of
 *   gamma_l eps_l = gamma_{l+1} eps_{l+1} W_{l+1}     (l < L, dF/dx_l = 0)
 *   eps_l = S_l - S_{l-1} W_l^T (l < L),  eps_L = Y - S_{L-1} W_L^T,
 * computed here in double from the net's weights and the float outputs,
 * each residual relative to the largest term of its equation. */
static double stationarity_residual(const pcmup_algo *pc, const pcmup_net *net, const float *x,
                                    const int32_t *labels, int centred, const eq_result *r)
{
    const size_t n_layers = r->n_layers, b = r->batch, c = r->widths[n_layers];
    double g[MAX_LAYERS], worst = 0;
    gammas(pc, n_layers, g);
    for (size_t l = 1; l <= n_layers; l++) {
        size_t m = r->widths[l], m_in = r->widths[l - 1], out, in;
        double *w = weights_d(net, l, &out, &in);
        const float *prev = l == 1 ? x : r->states[l - 2];
        double diff = 0, scale = 0;
        for (size_t s = 0; s < b; s++)
            for (size_t j = 0; j < m; j++) {
                double pred = 0;
                for (size_t k = 0; k < m_in; k++)
                    pred += (double)prev[s * m_in + k] * w[j * m_in + k];
                double target = l < n_layers ? r->states[l - 1][s * m + j]
                                             : (j == (size_t)labels[s]) - (centred ? 1.0 / c : 0);
                diff = fmax(diff, fabs(r->eps[l - 1][s * m + j] - (target - pred)));
                scale = fmax(scale, fmax(fabs(target), fabs(pred)));
            }
        worst = fmax(worst, diff / scale);
        if (l > 1) { /* dF/dx_{l-1} = 0 */
            diff = 0, scale = 0;
            for (size_t s = 0; s < b; s++)
                for (size_t k = 0; k < m_in; k++) {
                    double back = 0;
                    for (size_t j = 0; j < m; j++)
                        back += (double)r->eps[l - 1][s * m + j] * w[j * m_in + k];
                    double lhs = g[l - 2] * r->eps[l - 2][s * m_in + k];
                    diff = fmax(diff, fabs(lhs - g[l - 1] * back));
                    scale = fmax(scale, fabs(lhs));
                }
            worst = fmax(worst, diff / scale);
        }
        free(w);
    }
    return worst;
}

/* The residuals are float rounding of the outputs (6e-8 relative) summed
 * over at most 9 products: measured below 1e-6. A wrong precision ratio
 * or a wrong sign leaves a residual of order 1. */
#define STATIONARY_TOL 1e-5

START_TEST(stationarity)
{
    tu_case *c = tu_case_load("pc_linear_closed_form");
    pcmup_net *net = tu_case_net(c);
    size_t batch, n_labels;
    float *x = tu_case_x(c, &batch, NULL);
    int32_t *labels = tu_case_i32(c, "labels", &n_labels);
    pcmup_algo *pc = reference_pc(c, net);
    eq_result r;
    eq_alloc(&r, net, batch);
    TU_OK(eq_run(pc, x, labels, &r));
    double res = stationarity_residual(pc, net, x, labels, 1, &r);
    printf("stationarity residual: reference case %.2e", res);
    ck_assert_msg(res < STATIONARY_TOL, "reference case: residual %.3g", res);
    eq_free(&r);
    pcmup_algo_free(pc);
    pcmup_net_free(net);
    free(x);
    free(labels);
    tu_case_free(c);

    net = odd_net(PCMUP_ACT_IDENTITY, 0);
    pc = odd_pc(net);
    reseed(7);
    x = gaussian_batch(ODD_B, odd_widths[0]);
    labels = random_labels(ODD_B, odd_widths[ODD_L]);
    eq_alloc(&r, net, ODD_B);
    TU_OK(eq_run(pc, x, labels, &r));
    res = stationarity_residual(pc, net, x, labels, 0, &r);
    printf(", L = 4 net %.2e\n", res);
    ck_assert_msg(res < STATIONARY_TOL, "L = 4 net: residual %.3g", res);
    eq_free(&r);
    pcmup_algo_free(pc);
    pcmup_net_free(net);
    free(x);
    free(labels);
}
END_TEST

/* ---- (c) iterated inference converges to the closed form ------------------------------ */

/* The PC step iterates in float. After 3000 sweeps its energy trace is
 * flat to float resolution, so what is left is rounding: the float fixed
 * point sits off the exact one by rounding amplified through the
 * conditioning of the energy in the states, and the errors
 * eps_l = x_l - W_l x_{l-1} lose digits to cancellation (they are small
 * next to the states). Measured: 1.0e-6 on the reference case, 4.5e-6 on
 * the L = 4 net (updates), 2e-7 and 6e-7 (energies). 1e-4 keeps a margin
 * above 20, while a wrong factor in the closed form's update (m^2 instead
 * of m: 0.35; s = 1 under convention B: 0.21) fails clearly. */
#define ITER_TOL 1e-4

/* Runs one PC step with T sequential sweeps of step kappa from forward
 * init and compares its recorded update and final energy with the closed
 * form computed before the step (the step moves the weights). */
static void iterated_matches(pcmup_algo *pc, pcmup_net *net, const float *x,
                             const int32_t *labels, size_t batch, const char *what)
{
    eq_result r;
    eq_alloc(&r, net, batch);
    TU_OK(eq_run(pc, x, labels, &r));
    TU_OK(pcmup_algo_set(pc, PCMUP_SET_PC_ITERATIONS, 3000));
    TU_OK(pcmup_algo_set(pc, PCMUP_SET_PC_KAPPA, 0.1));
    TU_OK(pcmup_algo_set(pc, PCMUP_SET_PC_SCHEDULE, PCMUP_PC_SCHEDULE_SEQUENTIAL));
    TU_OK(pcmup_algo_set(pc, PCMUP_SET_PC_INIT, PCMUP_PC_INIT_FORWARD));
    TU_OK(pcmup_algo_set(pc, PCMUP_SET_RECORD_UPDATES, 1));
    TU_OK(pcmup_algo_step(pc, x, batch * r.widths[0], labels, batch, NULL));
    double worst = 0;
    for (size_t l = 1; l <= r.n_layers; l++) {
        size_t n = r.widths[l] * r.widths[l - 1];
        float *got = malloc(n * sizeof *got);
        TU_OK(pcmup_algo_last_update(pc, l, got, n));
        double *want = to_double(r.updates[l - 1], n);
        worst = fmax(worst, rel_err_f(got, want, n));
        free(got);
        free(want);
    }
    double trace[3001];
    size_t count;
    TU_OK(pcmup_pc_energy_trace(pc, trace, 3001, &count));
    ck_assert_uint_eq(count, 3001);
    double e_err = fabs(trace[count - 1] - r.energy) / r.energy;
    printf("iterated (T = 3000, kappa = 0.1) vs closed form, %s: update %.2e, energy %.2e\n",
           what, worst, e_err);
    ck_assert_msg(worst < ITER_TOL, "%s: update error %.3g", what, worst);
    ck_assert_msg(e_err < ITER_TOL, "%s: energy %.9g vs %.9g", what, trace[count - 1], r.energy);
    eq_free(&r);
}

START_TEST(iterated_inference)
{
    tu_case *c = tu_case_load("pc_linear_closed_form");
    pcmup_net *net = tu_case_net(c);
    size_t batch, n_labels;
    float *x = tu_case_x(c, &batch, NULL);
    int32_t *labels = tu_case_i32(c, "labels", &n_labels);
    pcmup_algo *pc = reference_pc(c, net);
    iterated_matches(pc, net, x, labels, batch, "reference case");
    pcmup_algo_free(pc);
    pcmup_net_free(net);
    free(x);
    free(labels);
    tu_case_free(c);

    net = odd_net(PCMUP_ACT_IDENTITY, 0);
    pc = odd_pc(net);
    reseed(7);
    x = gaussian_batch(ODD_B, odd_widths[0]);
    labels = random_labels(ODD_B, odd_widths[ODD_L]);
    iterated_matches(pc, net, x, labels, ODD_B, "L = 4 net, a != 0, convention B");
    pcmup_algo_free(pc);
    pcmup_net_free(net);
    free(x);
    free(labels);
}
END_TEST

/* ---- (d) Corollary 4.3 under muP --------------------------------------------------------- */

#define MUP_D 64
#define MUP_B 32
#define MUP_BASE 64
static const size_t mup_widths[] = {64, 256, 1024};
#define N_MUP_WIDTHS 3

typedef struct {
    double norm;   /* ||C_gamma|| */
    double cos[3]; /* cos(PC equilibrium update, BP update), layers 1..3 */
} mup_point;

static pcmup_net *mup_net(size_t m, size_t n_classes, double gbar)
{
    pcmup_param *p;
    TU_OK(pcmup_param_create(&p, 3, PCMUP_PRESET_SP, NULL));
    TU_OK(pcmup_param_set(p, PCMUP_PARAM_BASE_WIDTH, MUP_BASE));
    TU_OK(pcmup_param_apply_preset(p, PCMUP_PRESET_MUP_PC, gbar, 1.0));
    const size_t widths[] = {MUP_D, m, m, n_classes};
    pcmup_net *net;
    TU_OK(pcmup_net_create(&net, widths, 4, PCMUP_ACT_IDENTITY, 0, p, 2024, NULL));
    pcmup_param_free(p);
    return net;
}

/* With one output the centred one-hot target is identically 0, so e = -f,
 * which vanishes with width under muP (f = O(M^-1/2) with b_L = 1) and
 * takes PC's correction with it: every cosine then tends to 1 whatever
 * gammabar. The plain target 1 keeps e = Theta(1). */
static pcmup_algo *mup_algo(pcmup_net *net, pcmup_rule kind, size_t n_classes)
{
    pcmup_algo *a;
    TU_OK(pcmup_algo_create(&a, kind, net, 1, NULL));
    TU_OK(pcmup_algo_set(a, PCMUP_SET_LR, 0.1));
    TU_OK(pcmup_algo_set(a, PCMUP_SET_MSE_CENTRED, n_classes > 1));
    TU_OK(pcmup_algo_set(a, PCMUP_SET_RECORD_UPDATES, 1));
    return a;
}

static mup_point mup_measure(size_t m, size_t n_classes, double gbar, const float *x,
                             const int32_t *labels)
{
    mup_point pt;
    pcmup_net *net = mup_net(m, n_classes, gbar), *net_bp = mup_net(m, n_classes, gbar);
    pcmup_algo *pc = mup_algo(net, PCMUP_RULE_PC, n_classes);
    pcmup_algo *bp = mup_algo(net_bp, PCMUP_RULE_BP, n_classes);
    eq_result r;
    eq_alloc(&r, net, MUP_B);
    TU_OK(eq_run(pc, x, labels, &r));
    pt.norm = r.norm;
    /* The Jacobi eigenvalue against power iteration on the returned
     * C_gamma (float-rounded, hence 1e-5). */
    size_t c = r.widths[3];
    double *cg = to_double(r.c_gamma, c * c);
    double lambda = power_iteration(cg, c);
    ck_assert_msg(fabs(r.norm - lambda) < 1e-5 * lambda, "||C_gamma|| %.9g vs %.9g", r.norm,
                  lambda);
    free(cg);
    TU_OK(pcmup_algo_step(bp, x, MUP_B * MUP_D, labels, MUP_B, NULL));
    for (size_t l = 1; l <= 3; l++) {
        size_t n = r.widths[l] * r.widths[l - 1];
        float *g = malloc(n * sizeof *g);
        TU_OK(pcmup_algo_last_update(bp, l, g, n));
        pt.cos[l - 1] = tu_cosine(r.updates[l - 1], g, n, NULL);
        free(g);
    }
    eq_free(&r);
    pcmup_algo_free(pc);
    pcmup_algo_free(bp);
    pcmup_net_free(net);
    pcmup_net_free(net_bp);
    return pt;
}

static void mup_sweep(size_t n_classes, double gbar, mup_point *pts)
{
    reseed(2654435769u); /* the same batch for every width */
    float *x = gaussian_batch(MUP_B, MUP_D);
    int32_t *labels = random_labels(MUP_B, n_classes);
    for (size_t i = 0; i < N_MUP_WIDTHS; i++) {
        pts[i] = mup_measure(mup_widths[i], n_classes, gbar, x, labels);
        printf("  C = %2zu  gammabar = %2g  M = %4zu  ||C_gamma|| = %8.4f  cos W1 %.6f  W2 %.4f"
               "  W3 %.4f\n",
               n_classes, gbar, mup_widths[i], pts[i].norm, pts[i].cos[0], pts[i].cos[1],
               pts[i].cos[2]);
    }
    free(x);
    free(labels);
}

/* ||C_gamma|| = Theta(M^(-1 - gammabar)) (Corollary 4.3): with gammabar = 0
 * it is ~1/M, so 16 times the width should divide it by ~16 (measured 20
 * and 15); 8 allows for the finite-width corrections and the sampling of
 * one batch. With gammabar = -1 it tends to a constant (about 2 I here:
 * each of the two terms of C_gamma tends to I); the measured spread across
 * widths is at most 1.25, against the bound 2. */
static void check_norms(const mup_point *g0, const mup_point *g1, size_t n_classes)
{
    double ratio = g0[N_MUP_WIDTHS - 1].norm / g0[0].norm;
    ck_assert_msg(ratio < 1.0 / 8, "C = %zu, gammabar 0: ||C_gamma|| shrank by %.3g only",
                  n_classes, 1 / ratio);
    double lo = g1[0].norm, hi = g1[0].norm;
    for (size_t i = 1; i < N_MUP_WIDTHS; i++)
        lo = fmin(lo, g1[i].norm), hi = fmax(hi, g1[i].norm);
    ck_assert_msg(hi < 2 * lo, "C = %zu, gammabar -1: ||C_gamma|| from %.3g to %.3g", n_classes,
                  lo, hi);
}

/* At the base width both gammabar give gamma_L = 1 and r^-c = 1: the
 * same numbers exactly. */
static void check_base_width(const mup_point *g0, const mup_point *g1)
{
    ck_assert(g0[0].norm == g1[0].norm);
    for (size_t l = 0; l < 3; l++)
        ck_assert(g0[0].cos[l] == g1[0].cos[l]);
}

/* gammabar = 0: C_gamma -> 0, so PC -> gamma_L x GD and every layer's
 * cosine rises toward 1. Each step up in width must not lower it (a
 * slack of 1e-6 for a layer already at 1, i.e. layer 1 with C = 1), the
 * distance 1 - cos must shrink at least 4-fold from M = 64 to 1024
 * (measured 30 to 250-fold; with gammabar = -1 the last layer's barely
 * moves), and layer 3 must be above 0.98 at M = 1024 (measured 0.995 and
 * 0.999). */
static void check_gd_limit(const mup_point *g0, size_t n_classes)
{
    for (size_t l = 0; l < 3; l++) {
        for (size_t i = 1; i < N_MUP_WIDTHS; i++)
            ck_assert_msg(g0[i].cos[l] > g0[i - 1].cos[l] - 1e-6,
                          "C = %zu, layer %zu: cosine fell from %.6f to %.6f", n_classes, l + 1,
                          g0[i - 1].cos[l], g0[i].cos[l]);
        double first = 1 - g0[0].cos[l], last = 1 - g0[N_MUP_WIDTHS - 1].cos[l];
        if (first > 1e-5)
            ck_assert_msg(last < first / 4, "C = %zu, layer %zu: 1 - cos %.3g -> %.3g",
                          n_classes, l + 1, first, last);
    }
    ck_assert_msg(g0[N_MUP_WIDTHS - 1].cos[2] > 0.98, "C = %zu: layer 3 cosine %.4f",
                  n_classes, g0[N_MUP_WIDTHS - 1].cos[2]);
}

/* C = 1: (I + C_gamma)^-1 is a scalar and x*_0 = x, so PC's W_1 update is
 * exactly parallel to BP's; 1e-5 leaves room for the float outputs
 * (measured 1 - cos < 1e-7). A matrix C_gamma would give 1 - cos ~ 1e-2
 * (the C = 10 values). */
static void check_scalar_output(const mup_point *pts)
{
    for (size_t i = 0; i < N_MUP_WIDTHS; i++)
        ck_assert_msg(pts[i].cos[0] > 1 - 1e-5, "M = %zu: layer 1 cosine %.9f", mup_widths[i],
                      pts[i].cos[0]);
}

/* gammabar = -1: C_gamma stays Theta(1) and the last layer's update keeps
 * a Theta(1) component along W_L from x*_{L-1} - h_{L-1} = Theta(1)
 * (with gamma_L = M / M_base the hidden errors gamma_L W_L^T eps_L do not
 * shrink). Its share is about ||E^T E||_F^2 / (16 ||E||_F^2) with E the
 * batch of eps_L*: for C = 1 that is B |eps|^2 / 16 (cos ~ 0.85-0.9, as the
 * numpy prototype found, docs/pc.md section 13.2; measured 0.86 at
 * M = 1024), for C = 10 with random centred one-hot labels it is ~C - 1
 * times smaller (cos -> ~0.98; measured 0.975 at 1024, 0.979 at 4096,
 * still below 1). So: C = 1 below 0.95; C = 10 at
 * least 5 times as far from 1 as with gammabar = 0 (measured 36 times),
 * and below 0.99. */
static void check_gn_limit(const mup_point *g0, const mup_point *g1, size_t n_classes)
{
    const size_t last = N_MUP_WIDTHS - 1;
    double gap1 = 1 - g1[last].cos[2], gap0 = 1 - g0[last].cos[2];
    if (n_classes == 1) {
        ck_assert_msg(g1[last].cos[2] < 0.95, "C = 1: layer 3 cosine %.4f", g1[last].cos[2]);
        return;
    }
    ck_assert_msg(g1[last].cos[2] < 0.99, "C = %zu: layer 3 cosine %.4f", n_classes,
                  g1[last].cos[2]);
    ck_assert_msg(gap1 > 5 * gap0, "C = %zu: 1 - cos %.3g (gammabar -1) vs %.3g (0)",
                  n_classes, gap1, gap0);
}

START_TEST(corollary_4_3)
{
    static const size_t classes[] = {10, 1};
    printf("Corollary 4.3, linear L = 3, muP (MUP_PC), D = 64, B = 32, M_base = 64:\n");
    for (size_t ci = 0; ci < 2; ci++) {
        const size_t n_classes = classes[ci];
        mup_point g0[N_MUP_WIDTHS], g1[N_MUP_WIDTHS];
        mup_sweep(n_classes, 0.0, g0);
        mup_sweep(n_classes, -1.0, g1);
        check_norms(g0, g1, n_classes);
        check_base_width(g0, g1);
        check_gd_limit(g0, n_classes);
        check_gn_limit(g0, g1, n_classes);
        if (n_classes == 1) {
            check_scalar_output(g0);
            check_scalar_output(g1);
        }
    }
}
END_TEST

/* ---- (e) argument validation ------------------------------------------------------------ */

#define SENTINEL 12345.0f

static void fill_sentinel(eq_result *r)
{
    for (size_t l = 1; l <= r->n_layers; l++) {
        for (size_t i = 0; i < r->batch * r->widths[l]; i++) {
            r->eps[l - 1][i] = SENTINEL;
            if (l < r->n_layers)
                r->states[l - 1][i] = SENTINEL;
        }
        for (size_t i = 0; i < r->widths[l] * r->widths[l - 1]; i++)
            r->updates[l - 1][i] = SENTINEL;
    }
    size_t c = r->widths[r->n_layers];
    for (size_t i = 0; i < c * c; i++)
        r->c_gamma[i] = SENTINEL;
    r->norm = r->energy = SENTINEL;
}

static void assert_untouched(const eq_result *r)
{
    for (size_t l = 1; l <= r->n_layers; l++) {
        for (size_t i = 0; i < r->batch * r->widths[l]; i++) {
            ck_assert(r->eps[l - 1][i] == SENTINEL);
            if (l < r->n_layers)
                ck_assert(r->states[l - 1][i] == SENTINEL);
        }
        for (size_t i = 0; i < r->widths[l] * r->widths[l - 1]; i++)
            ck_assert(r->updates[l - 1][i] == SENTINEL);
    }
    size_t c = r->widths[r->n_layers];
    for (size_t i = 0; i < c * c; i++)
        ck_assert(r->c_gamma[i] == SENTINEL);
    ck_assert(r->norm == SENTINEL && r->energy == SENTINEL);
}

/* Calls with `batch` and expects `want`, every output left as it was. */
static void expect_failure(pcmup_status want, pcmup_algo *pc, const float *x,
                           const int32_t *labels, size_t batch, eq_result *r)
{
    fill_sentinel(r);
    TU_FAILS(want, eq_call(pc, x, labels, batch, r));
    assert_untouched(r);
}

/* A PC algorithm on odd_net(act, flags), checked to be unsupported. */
static void expect_unsupported_net(pcmup_activation act, unsigned flags, const float *x,
                                   const int32_t *labels, eq_result *r)
{
    pcmup_net *net = odd_net(act, flags);
    pcmup_algo *pc = odd_pc(net);
    expect_failure(PCMUP_ERR_UNSUPPORTED, pc, x, labels, ODD_B, r);
    pcmup_algo_free(pc);
    pcmup_net_free(net);
}

START_TEST(validation)
{
    pcmup_net *net = odd_net(PCMUP_ACT_IDENTITY, 0);
    pcmup_algo *pc = odd_pc(net);
    reseed(7);
    float *x = gaussian_batch(ODD_B, odd_widths[0]);
    int32_t *labels = random_labels(ODD_B, odd_widths[ODD_L]);
    eq_result r;
    eq_alloc(&r, net, ODD_B);

    expect_failure(PCMUP_ERR_NULL, NULL, x, labels, ODD_B, &r);
    expect_failure(PCMUP_ERR_NULL, pc, NULL, labels, ODD_B, &r);
    expect_failure(PCMUP_ERR_NULL, pc, x, NULL, ODD_B, &r);
    expect_failure(PCMUP_ERR_INVALID, pc, x, labels, 0, &r);

    labels[2] = (int32_t)odd_widths[ODD_L];
    expect_failure(PCMUP_ERR_INVALID, pc, x, labels, ODD_B, &r);
    labels[2] = -1;
    expect_failure(PCMUP_ERR_INVALID, pc, x, labels, ODD_B, &r);
    labels[2] = 0;
    x[7] = NAN;
    expect_failure(PCMUP_ERR_INVALID, pc, x, labels, ODD_B, &r);
    x[7] = 0.5f;

    TU_OK(pcmup_algo_set(pc, PCMUP_SET_LOSS, PCMUP_LOSS_CE));
    expect_failure(PCMUP_ERR_UNSUPPORTED, pc, x, labels, ODD_B, &r);
    TU_OK(pcmup_algo_set(pc, PCMUP_SET_LOSS, PCMUP_LOSS_MSE));

    pcmup_algo *bp;
    TU_OK(pcmup_algo_create(&bp, PCMUP_RULE_BP, net, 1, NULL));
    expect_failure(PCMUP_ERR_UNSUPPORTED, bp, x, labels, ODD_B, &r);
    pcmup_algo_free(bp);

    expect_unsupported_net(PCMUP_ACT_TANH, 0, x, labels, &r);
    expect_unsupported_net(PCMUP_ACT_RELU, 0, x, labels, &r);
    expect_unsupported_net(PCMUP_ACT_IDENTITY, PCMUP_NET_BIAS, x, labels, &r);

    /* After all that, the same call succeeds. */
    TU_OK(eq_run(pc, x, labels, &r));
    eq_free(&r);
    pcmup_algo_free(pc);
    pcmup_net_free(net);
    free(x);
    free(labels);
}
END_TEST

/* Scratch comes from the algorithm's allocator, is all released before
 * returning, and a failed allocation is PCMUP_ERR_NOMEM with nothing
 * written and nothing leaked. */
START_TEST(allocation)
{
    tu_counter counter;
    pcmup_allocator alloc = tu_counting_allocator(&counter);
    pcmup_net *net = odd_net(PCMUP_ACT_IDENTITY, 0);
    pcmup_algo *pc;
    TU_OK(pcmup_algo_create(&pc, PCMUP_RULE_PC, net, 3, &alloc));
    reseed(7);
    float *x = gaussian_batch(ODD_B, odd_widths[0]);
    int32_t *labels = random_labels(ODD_B, odd_widths[ODD_L]);
    eq_result r;
    eq_alloc(&r, net, ODD_B);

    long live = counter.live;
    size_t calls = counter.n_malloc;
    TU_OK(eq_run(pc, x, labels, &r));
    ck_assert_int_eq(counter.live, live);
    size_t used = counter.n_malloc - calls;
    ck_assert_uint_gt(used, 0);
    for (size_t k = 1; k <= used; k++) {
        counter.fail_after = k;
        expect_failure(PCMUP_ERR_NOMEM, pc, x, labels, ODD_B, &r);
        counter.fail_after = 0;
        ck_assert_int_eq(counter.live, live);
    }
    eq_free(&r);
    pcmup_algo_free(pc);
    ck_assert_int_eq(counter.live, 0);
    pcmup_net_free(net);
    free(x);
    free(labels);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {
        reference_case,
        stationarity,
        iterated_inference,
        corollary_4_3,
        validation,
        allocation,
    };
    return tu_run_tests("pc_linear", 0, NULL, NULL, tests, TU_COUNT(tests));
}
