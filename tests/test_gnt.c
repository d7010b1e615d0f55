/* SPDX-License-Identifier: MIT */
/*
 * test_gnt.c -- the Gauss-Newton target against what it must be: BP at
 * e_B = 0; an explicit double-precision computation with formed Jacobians
 * and M x M matrix powers (so the push-through evaluation on the Gram
 * side and the direct one are both checked, batch and per-sample, MSE and
 * cross-entropy, e_B = 1 and 1/2); the Jacobian against finite
 * differences; the minimum-norm Gauss-Newton step of a linear network;
 * the coordinate check of its muP; its damping scaling; settings
 * validation, failure without side effects, and no allocation per step.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXL 4

/* ---- a network and its algorithm ------------------------------------------- */

/* A tanh (or `act`) net of widths[0..n_layers] under `preset` with base
 * width `base`, and an algorithm of `kind` that records its updates. */
static tu_rig make_rig(pcmup_rule kind, pcmup_preset preset, double base, size_t n_layers,
                       const size_t *widths, pcmup_activation act, uint64_t seed)
{
    pcmup_param *p;
    TU_OK(pcmup_param_create(&p, n_layers, preset, NULL));
    TU_OK(pcmup_param_set(p, PCMUP_PARAM_BASE_WIDTH, base));
    return tu_rig_make(kind, p, widths, act, seed, 1);
}

static size_t layer_size(const tu_rig *r, size_t l)
{
    return r->widths[l] * r->widths[l - 1];
}

static double lr_factor(const tu_rig *r, size_t l)
{
    return tu_net_factor(r->net, l, PCMUP_FACTOR_LR);
}

/* Labels out of class order: (7 i + 1) mod c. */
static int32_t *cyclic_labels(size_t n, size_t c)
{
    int32_t *labels = malloc(n * sizeof *labels);
    for (size_t i = 0; i < n; i++)
        labels[i] = (int32_t)((i * 7 + 1) % c);
    return labels;
}

/* ---- dense double helpers (the test's own) ---------------------------------- */

/* Eigen-decomposition of the symmetric n x n a by cyclic Jacobi: a is
 * destroyed, w gets the eigenvalues and v (n x n) the eigenvectors as
 * columns. Written here so that the reference shares nothing with the
 * library. */
static void jacobi(double *a, size_t n, double *w, double *v)
{
    for (size_t i = 0; i < n * n; i++)
        v[i] = i % (n + 1) == 0 ? 1.0 : 0.0;
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0, tot = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) {
                tot += a[i * n + j] * a[i * n + j];
                if (i != j)
                    off += a[i * n + j] * a[i * n + j];
            }
        if (off <= 1e-30 * tot)
            break;
        for (size_t p = 0; p < n; p++)
            for (size_t q = p + 1; q < n; q++) {
                double apq = a[p * n + q];
                if (apq == 0)
                    continue;
                double theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
                double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (size_t k = 0; k < n; k++) { /* columns p, q */
                    double akp = a[k * n + p], akq = a[k * n + q];
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for (size_t k = 0; k < n; k++) { /* rows p, q */
                    double apk = a[p * n + k], aqk = a[q * n + k];
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for (size_t k = 0; k < n; k++) {
                    double vkp = v[k * n + p], vkq = v[k * n + q];
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
    }
    for (size_t i = 0; i < n; i++)
        w[i] = a[i * n + i];
}

/* out = p^(-e) for the symmetric positive definite n x n p. */
static void sym_power(const double *p, size_t n, double e, double *out)
{
    double *a = malloc(n * n * sizeof *a), *v = malloc(n * n * sizeof *v),
           *w = malloc(n * sizeof *w);
    memcpy(a, p, n * n * sizeof *a);
    jacobi(a, n, w, v);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double s = 0;
            for (size_t k = 0; k < n; k++)
                s += v[i * n + k] * pow(w[k], -e) * v[j * n + k];
            out[i * n + j] = s;
        }
    free(a);
    free(v);
    free(w);
}

/* Solves the n x n system a z = b (Gaussian elimination, partial pivots). */
static void solve(const double *a_in, size_t n, const double *b, double *z)
{
    double *a = malloc(n * (n + 1) * sizeof *a);
    for (size_t i = 0; i < n; i++) {
        memcpy(a + i * (n + 1), a_in + i * n, n * sizeof *a);
        a[i * (n + 1) + n] = b[i];
    }
    for (size_t k = 0; k < n; k++) {
        size_t piv = k;
        for (size_t i = k + 1; i < n; i++)
            if (fabs(a[i * (n + 1) + k]) > fabs(a[piv * (n + 1) + k]))
                piv = i;
        for (size_t j = 0; j <= n; j++) {
            double t = a[k * (n + 1) + j];
            a[k * (n + 1) + j] = a[piv * (n + 1) + j];
            a[piv * (n + 1) + j] = t;
        }
        for (size_t i = k + 1; i < n; i++) {
            double f = a[i * (n + 1) + k] / a[k * (n + 1) + k];
            for (size_t j = k; j <= n; j++)
                a[i * (n + 1) + j] -= f * a[k * (n + 1) + j];
        }
    }
    for (size_t i = n; i-- > 0;) {
        double s = a[i * (n + 1) + n];
        for (size_t j = i + 1; j < n; j++)
            s -= a[i * (n + 1) + j] * z[j];
        z[i] = s / a[i * (n + 1) + i];
    }
    free(a);
}

static double max_abs_diff_rel(const double *a, const double *b, size_t n)
{
    double d = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        d = fmax(d, fabs(a[i] - b[i]));
        s = fmax(s, fabs(b[i]));
    }
    return d / s;
}

/* ---- the reference: formed Jacobians, M x M matrices, double precision ------ */

typedef struct {
    size_t n_layers, batch, c;
    const size_t *widths;
    pcmup_activation act;
    double *h[MAXL + 1];   /* h_l (B x M_l); h[0] = X, h[L] = f */
    double *jac[MAXL + 1]; /* J_l: B blocks of C x M_l */
    double *g;             /* dl/df (B x C) */
    double *k;             /* K_b: B blocks of C x C */
} reference;

static double act_deriv(pcmup_activation act, double h)
{
    if (act == PCMUP_ACT_TANH)
        return 1 - h * h;
    if (act == PCMUP_ACT_RELU)
        return h > 0;
    return 1;
}

static double act_apply(pcmup_activation act, double u)
{
    if (act == PCMUP_ACT_TANH)
        return tanh(u);
    if (act == PCMUP_ACT_RELU)
        return u > 0 ? u : 0;
    return u;
}

static reference reference_pass(const tu_rig *r, const float *x, const int32_t *labels,
                                size_t batch, pcmup_loss loss)
{
    reference ref;
    memset(&ref, 0, sizeof ref);
    const size_t n_layers = r->n_layers, c = r->widths[n_layers];
    ref.n_layers = n_layers;
    ref.batch = batch;
    ref.c = c;
    ref.widths = r->widths;
    const pcmup_activation act = r->act;
    ref.act = act;
    double *w[MAXL + 1];
    for (size_t l = 1; l <= n_layers; l++)
        w[l] = tu_layer_weights_f64(r->net, l);
    ref.h[0] = malloc(batch * r->widths[0] * sizeof(double));
    for (size_t i = 0; i < batch * r->widths[0]; i++)
        ref.h[0][i] = x[i];
    for (size_t l = 1; l <= n_layers; l++) {
        const size_t m = r->widths[l], in = r->widths[l - 1];
        ref.h[l] = malloc(batch * m * sizeof(double));
        for (size_t b = 0; b < batch; b++)
            for (size_t i = 0; i < m; i++) {
                double s = 0;
                for (size_t j = 0; j < in; j++)
                    s += w[l][i * in + j] * ref.h[l - 1][b * in + j];
                ref.h[l][b * m + i] = l < n_layers ? act_apply(act, s) : s;
            }
    }
    /* J_L = I; J_l = J_{l+1} W_{l+1} diag(phi'(u_l)). */
    for (size_t l = n_layers; l >= 1; l--) {
        const size_t m = r->widths[l];
        ref.jac[l] = calloc(batch * c * m, sizeof(double));
        for (size_t b = 0; b < batch; b++) {
            double *jl = ref.jac[l] + b * c * m;
            if (l == n_layers) {
                for (size_t i = 0; i < c; i++)
                    jl[i * c + i] = 1;
                continue;
            }
            const double *ju = ref.jac[l + 1] + b * c * r->widths[l + 1];
            const size_t mu = r->widths[l + 1];
            for (size_t i = 0; i < c; i++)
                for (size_t j = 0; j < m; j++) {
                    double s = 0;
                    for (size_t k = 0; k < mu; k++)
                        s += ju[i * mu + k] * w[l + 1][k * m + j];
                    jl[i * m + j] = s * act_deriv(act, ref.h[l][b * m + j]);
                }
        }
    }
    ref.g = malloc(batch * c * sizeof(double));
    ref.k = calloc(batch * c * c, sizeof(double));
    const double *f = ref.h[n_layers];
    for (size_t b = 0; b < batch; b++) {
        double *gb = ref.g + b * c, *kb = ref.k + b * c * c;
        if (loss == PCMUP_LOSS_MSE) {
            for (size_t i = 0; i < c; i++) {
                gb[i] = f[b * c + i] - ((size_t)labels[b] == i ? 1.0 : 0.0) + 1.0 / (double)c;
                kb[i * c + i] = 1;
            }
        } else {
            double mx = f[b * c], z = 0, p[16];
            for (size_t i = 1; i < c; i++)
                mx = fmax(mx, f[b * c + i]);
            for (size_t i = 0; i < c; i++)
                z += p[i] = exp(f[b * c + i] - mx);
            for (size_t i = 0; i < c; i++) {
                p[i] /= z;
                gb[i] = p[i] - ((size_t)labels[b] == i ? 1.0 : 0.0);
            }
            for (size_t i = 0; i < c; i++)
                for (size_t j = 0; j < c; j++)
                    kb[i * c + j] = (i == j ? p[i] : 0.0) - p[i] * p[j];
        }
    }
    for (size_t l = 1; l <= n_layers; l++)
        free(w[l]);
    return ref;
}

static void reference_free(reference *ref)
{
    for (size_t l = 0; l <= ref->n_layers; l++) {
        free(ref->h[l]);
        free(ref->jac[l]);
    }
    free(ref->g);
    free(ref->k);
}

/* J_l[b]^T K_b J_l[b] added (times `scale`) into p (M_l x M_l). */
static void add_gauss_newton(const reference *ref, size_t l, size_t b, double scale, double *p)
{
    const size_t m = ref->widths[l], c = ref->c;
    const double *j = ref->jac[l] + b * c * m, *k = ref->k + b * c * c;
    for (size_t i1 = 0; i1 < m; i1++)
        for (size_t i2 = 0; i2 < m; i2++) {
            double s = 0;
            for (size_t a = 0; a < c; a++)
                for (size_t bb = 0; bb < c; bb++)
                    s += j[a * m + i1] * k[a * c + bb] * j[bb * m + i2];
            p[i1 * m + i2] += scale * s;
        }
}

/* delta_{l,b} = J_l[b]^T g_b (M_l). */
static void bp_signal(const reference *ref, size_t l, size_t b, double *delta)
{
    const size_t m = ref->widths[l], c = ref->c;
    const double *j = ref->jac[l] + b * c * m;
    for (size_t i = 0; i < m; i++) {
        double s = 0;
        for (size_t a = 0; a < c; a++)
            s += j[a * m + i] * ref->g[b * c + a];
        delta[i] = s;
    }
}

/* The reference update of layer l: dW = -eta_l P^-e g_l (batch) or
 * (eta_l / B) sum_b du_b h_{l-1,b}^T with du_b = -(J^T K J + rho)^-e delta_b
 * (sample), for the whole-matrix (M_l x M_{l-1}) out. */
static void reference_update(const reference *ref, size_t l, int sample, double e, double rho,
                             double eta_l, double *out)
{
    const size_t m = ref->widths[l], in = ref->widths[l - 1], batch = ref->batch;
    double *p = malloc(m * m * sizeof *p), *pe = malloc(m * m * sizeof *pe);
    double *delta = malloc(m * sizeof *delta), *du = malloc(batch * m * sizeof *du);
    memset(out, 0, m * in * sizeof *out);
    if (!sample) {
        memset(p, 0, m * m * sizeof *p);
        for (size_t b = 0; b < batch; b++)
            add_gauss_newton(ref, l, b, 1.0 / (double)batch, p);
        for (size_t i = 0; i < m; i++)
            p[i * m + i] += rho;
        sym_power(p, m, e, pe);
    }
    for (size_t b = 0; b < batch; b++) {
        bp_signal(ref, l, b, delta);
        if (sample) {
            memset(p, 0, m * m * sizeof *p);
            add_gauss_newton(ref, l, b, 1.0, p);
            for (size_t i = 0; i < m; i++)
                p[i * m + i] += rho;
            sym_power(p, m, e, pe);
        }
        for (size_t i = 0; i < m; i++) {
            double s = 0;
            for (size_t j = 0; j < m; j++)
                s += pe[i * m + j] * delta[j];
            du[b * m + i] = -s;
        }
    }
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < in; j++) {
            double s = 0;
            for (size_t b = 0; b < batch; b++)
                s += du[b * m + i] * ref->h[l - 1][b * in + j];
            out[i * in + j] = eta_l * s / (double)batch;
        }
    free(p);
    free(pe);
    free(delta);
    free(du);
}

/* ---- e_B = 0 is BP ----------------------------------------------------------- */

static void check_power_zero_is_bp(pcmup_loss loss, pcmup_gnt_variant variant)
{
    const size_t widths[] = {12, 48, 48, 5}, batch = 9;
    float *x = tu_gaussian(batch * 12, 3);
    int32_t *labels = cyclic_labels(batch, 5);
    tu_rig gnt = make_rig(PCMUP_RULE_GNT, PCMUP_PRESET_MUP_GNT, 16, 3, widths, PCMUP_ACT_TANH, 4);
    tu_rig bp = make_rig(PCMUP_RULE_BP, PCMUP_PRESET_MUP_GNT, 16, 3, widths, PCMUP_ACT_TANH, 4);
    TU_OK(pcmup_algo_set(gnt.algo, PCMUP_SET_GNT_POWER, 0));
    TU_OK(pcmup_algo_set(gnt.algo, PCMUP_SET_GNT_VARIANT, variant));
    TU_OK(pcmup_algo_set(gnt.algo, PCMUP_SET_LOSS, loss));
    TU_OK(pcmup_algo_set(bp.algo, PCMUP_SET_LOSS, loss));
    size_t sizes[3];
    TU_OK(pcmup_gnt_system_size(gnt.algo, batch, sizes, 3));
    for (int l = 0; l < 3; l++)
        ck_assert_uint_eq(sizes[l], 0);
    for (int step = 0; step < 3; step++) {
        double loss_gnt, loss_bp;
        TU_OK(pcmup_algo_step(gnt.algo, x, batch * widths[0], labels, batch, &loss_gnt));
        TU_OK(pcmup_algo_step(bp.algo, x, batch * widths[0], labels, batch, &loss_bp));
        ck_assert_double_eq(loss_gnt, loss_bp);
        for (size_t l = 1; l <= 3; l++) {
            double *a = tu_layer_update_f64(&gnt, l), *b = tu_layer_update_f64(&bp, l);
            double err = max_abs_diff_rel(a, b, layer_size(&gnt, l));
            ck_assert_msg(err < 1e-6, "step %d layer %zu: %g", step, l, err);
            free(a);
            free(b);
        }
    }
    tu_rig_free(&gnt);
    tu_rig_free(&bp);
    free(x);
    free(labels);
}

START_TEST(power_zero_is_bp_batch_mse) { check_power_zero_is_bp(PCMUP_LOSS_MSE, PCMUP_GNT_BATCH); }
END_TEST
START_TEST(power_zero_is_bp_sample_ce) { check_power_zero_is_bp(PCMUP_LOSS_CE, PCMUP_GNT_SAMPLE); }
END_TEST

/* ---- against the explicit M x M computation ---------------------------------- */

/* A float implementation against double: the Gram matrices are float
 * GEMMs solved in double, so the preconditioned signals carry float
 * rounding times the conditioning of P (||J^T K J|| / rho <= ~1e2 here),
 * and the cross-entropy push-through form cancels two terms of size
 * ||Delta|| / rho. Measured worst 6e-7 over every case below; a wrong
 * convention (1/B in P, a damping exponent, a missing K_b, the wrong side
 * of the push-through) is >= 1e-2. */
#define EXPLICIT_TOL 1e-5

typedef struct {
    size_t widths[4], batch;
    pcmup_loss loss;
    pcmup_gnt_variant variant;
    double power;
} explicit_case;

static void check_explicit(const explicit_case *ec)
{
    const size_t n_layers = 3, c = ec->widths[3], batch = ec->batch;
    float *x = tu_gaussian(batch * ec->widths[0], 5);
    int32_t *labels = cyclic_labels(batch, c);
    /* Base width 8 < M: the muP damping and learning rates are not 1. */
    tu_rig r = make_rig(PCMUP_RULE_GNT, PCMUP_PRESET_MUP_GNT, 8, n_layers, ec->widths,
                     PCMUP_ACT_TANH, 11);
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_LOSS, ec->loss));
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_GNT_POWER, ec->power));
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_GNT_VARIANT, ec->variant));
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_GNT_DAMPING, 0.05));
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_LR, 0.1));
    reference ref = reference_pass(&r, x, labels, batch, ec->loss);
    TU_OK(pcmup_algo_step(r.algo, x, batch * ec->widths[0], labels, batch, NULL));

    /* rho_l = rho' (M / 8)^-(2 b_L - 1) with b_L = 1; rho_L = rho'. */
    const double ratio = (double)ec->widths[2] / 8.0;
    size_t sizes[3];
    TU_OK(pcmup_gnt_system_size(r.algo, batch, sizes, 3));
    for (size_t l = 1; l <= n_layers; l++) {
        const double rho = l < n_layers ? 0.05 / ratio : 0.05;
        const size_t m = ec->widths[l], n = layer_size(&r, l);
        size_t want_size = ec->variant == PCMUP_GNT_SAMPLE ? c
                           : batch * c < m                  ? batch * c
                                                            : m;
        ck_assert_uint_eq(sizes[l - 1], want_size);
        double *want = malloc(n * sizeof *want);
        reference_update(&ref, l, ec->variant == PCMUP_GNT_SAMPLE, ec->power, rho,
                         0.1 * lr_factor(&r, l), want);
        double *got = tu_layer_update_f64(&r, l);
        double err = max_abs_diff_rel(got, want, n);
        printf("%s %s e_B %.2f widths %zu-%zu-%zu-%zu B %zu layer %zu (system %zu): rel err "
               "%.2e\n",
               ec->variant == PCMUP_GNT_SAMPLE ? "sample" : "batch ",
               ec->loss == PCMUP_LOSS_CE ? "ce " : "mse", ec->power, ec->widths[0],
               ec->widths[1], ec->widths[2], ec->widths[3], batch, l, sizes[l - 1], err);
        ck_assert_msg(err < EXPLICIT_TOL, "layer %zu: rel err %g", l, err);
        free(want);
        free(got);
    }
    reference_free(&ref);
    tu_rig_free(&r);
    free(x);
    free(labels);
}

/* B C = 15 < M = 40: the hidden layers go through the Gram matrix. */
#define GRAM {6, 40, 40, 3}, 5
/* B C = 18 > M = 10: the hidden layers solve with P_l itself. */
#define DIRECT {6, 10, 10, 3}, 6

START_TEST(explicit_gram_batch)
{
    const explicit_case cases[] = {
        {GRAM, PCMUP_LOSS_MSE, PCMUP_GNT_BATCH, 1.0},
        {GRAM, PCMUP_LOSS_MSE, PCMUP_GNT_BATCH, 0.5},
        {GRAM, PCMUP_LOSS_CE, PCMUP_GNT_BATCH, 1.0},
        {GRAM, PCMUP_LOSS_CE, PCMUP_GNT_BATCH, 0.5},
        {GRAM, PCMUP_LOSS_MSE, PCMUP_GNT_BATCH, 0.25},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_explicit(&cases[i]);
}
END_TEST

START_TEST(explicit_direct_batch)
{
    const explicit_case cases[] = {
        {DIRECT, PCMUP_LOSS_MSE, PCMUP_GNT_BATCH, 1.0},
        {DIRECT, PCMUP_LOSS_MSE, PCMUP_GNT_BATCH, 0.5},
        {DIRECT, PCMUP_LOSS_CE, PCMUP_GNT_BATCH, 1.0},
        {DIRECT, PCMUP_LOSS_CE, PCMUP_GNT_BATCH, 0.5},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_explicit(&cases[i]);
}
END_TEST

START_TEST(explicit_sample)
{
    const explicit_case cases[] = {
        {GRAM, PCMUP_LOSS_MSE, PCMUP_GNT_SAMPLE, 1.0},
        {GRAM, PCMUP_LOSS_MSE, PCMUP_GNT_SAMPLE, 0.5},
        {GRAM, PCMUP_LOSS_CE, PCMUP_GNT_SAMPLE, 1.0},
        {GRAM, PCMUP_LOSS_CE, PCMUP_GNT_SAMPLE, 0.5},
        {DIRECT, PCMUP_LOSS_CE, PCMUP_GNT_SAMPLE, 0.5},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_explicit(&cases[i]);
}
END_TEST

/* ---- the Jacobian against finite differences ----------------------------------- */

/* f as a function of u_l: the layers above l evaluated in double. */
static void forward_from(const tu_rig *r, double *const *w, size_t l, const double *u, double *f)
{
    double cur[256], next[256];
    size_t m = r->widths[l];
    for (size_t i = 0; i < m; i++)
        cur[i] = tanh(u[i]);
    for (size_t k = l + 1; k <= r->n_layers; k++) {
        const size_t out = r->widths[k];
        for (size_t i = 0; i < out; i++) {
            double s = 0;
            for (size_t j = 0; j < m; j++)
                s += w[k][i * m + j] * cur[j];
            next[i] = k < r->n_layers ? tanh(s) : s;
        }
        m = out;
        memcpy(cur, next, m * sizeof *cur);
    }
    memcpy(f, cur, m * sizeof *f);
}

/* One sample, MSE, e_B = 1: P_l = J^T J + rho I and delta = J^T g, so the
 * update of layer l is the rank-one -eta_l y h_{l-1}^T with
 * y = (J^T J + rho)^-1 J^T g = J^T (J J^T + rho)^-1 g (push-through).
 * y is read back from the recorded update, y = -dW h / (eta_l |h|^2),
 * and compared with the same formula evaluated with J from central
 * differences of f(u_l) in double (h = 1e-5: truncation ~1e-10, far below
 * the float error of the rule). This checks every column of the Jacobian
 * the rule builds (C = 3 outputs) without exposing it, and shows the
 * update moves u_l along J^T (J J^T + rho)^-1 e -- the damped
 * Gauss-Newton target direction -- for each hidden layer. */
START_TEST(jacobian_matches_finite_differences)
{
    const size_t widths[] = {7, 24, 20, 3}, c = 3;
    float *x = tu_gaussian(7, 9);
    int32_t label = 2;
    tu_rig r = make_rig(PCMUP_RULE_GNT, PCMUP_PRESET_MUP_GNT, 8, 3, widths, PCMUP_ACT_TANH, 5);
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_LR, 0.1));
    double *w[4];
    for (size_t l = 1; l <= 3; l++)
        w[l] = tu_layer_weights_f64(r.net, l);
    /* u_1, u_2 and f of the float network, in double. */
    double u[3][64], h[3][64], f[3];
    for (size_t i = 0; i < 7; i++)
        h[0][i] = x[i];
    for (size_t l = 1; l <= 3; l++)
        for (size_t i = 0; i < widths[l]; i++) {
            double s = 0;
            for (size_t j = 0; j < widths[l - 1]; j++)
                s += w[l][i * widths[l - 1] + j] * h[l - 1][j];
            if (l < 3) {
                u[l][i] = s;
                h[l][i] = tanh(s);
            } else {
                f[i] = s;
            }
        }
    double g[3];
    for (size_t i = 0; i < c; i++)
        g[i] = f[i] - ((size_t)label == i ? 1.0 : 0.0) + 1.0 / 3.0;
    double rho[3];
    TU_OK(pcmup_gnt_damping(r.algo, rho, 3));
    TU_OK(pcmup_algo_step(r.algo, x, widths[0], &label, 1, NULL));
    for (size_t l = 1; l <= 2; l++) {
        const size_t m = widths[l], in = widths[l - 1];
        /* J (C x m) by central differences. */
        double jac[3][64], up[64], fp[3], fm[3];
        for (size_t j = 0; j < m; j++) {
            const double step = 1e-5;
            memcpy(up, u[l], m * sizeof *up);
            up[j] += step;
            forward_from(&r, w, l, up, fp);
            up[j] -= 2 * step;
            forward_from(&r, w, l, up, fm);
            for (size_t i = 0; i < c; i++)
                jac[i][j] = (fp[i] - fm[i]) / (2 * step);
        }
        /* y_fd = J^T (J J^T + rho)^-1 g. */
        double jjt[9], z[3], y_fd[64], y[64];
        for (size_t a = 0; a < c; a++)
            for (size_t b = 0; b < c; b++) {
                double s = a == b ? rho[l - 1] : 0;
                for (size_t j = 0; j < m; j++)
                    s += jac[a][j] * jac[b][j];
                jjt[a * c + b] = s;
            }
        solve(jjt, c, g, z);
        for (size_t j = 0; j < m; j++)
            y_fd[j] = jac[0][j] * z[0] + jac[1][j] * z[1] + jac[2][j] * z[2];
        /* y from the rank-one update. */
        double *dw = tu_layer_update_f64(&r, l), hh = 0;
        const double eta_l = 0.1 * lr_factor(&r, l);
        for (size_t j = 0; j < in; j++)
            hh += h[l - 1][j] * h[l - 1][j];
        for (size_t i = 0; i < m; i++) {
            double s = 0;
            for (size_t j = 0; j < in; j++)
                s += dw[i * in + j] * h[l - 1][j];
            y[i] = -s / (eta_l * hh);
        }
        double err = max_abs_diff_rel(y, y_fd, m);
        printf("layer %zu: update direction vs finite-difference Jacobian: rel err %.2e\n", l,
               err);
        ck_assert_msg(err < 1e-4, "layer %zu: %g", l, err);
        free(dw);
    }
    for (size_t l = 1; l <= 3; l++)
        free(w[l]);
    tu_rig_free(&r);
    free(x);
}
END_TEST

/* ---- linear networks: the exact minimum-norm Gauss-Newton step ------------------- */

/* A linear network (identity activation), MSE, per-sample variant, e_B = 1:
 * J_l = W_L ... W_{l+1} is the same for every sample and moving u_l by du
 * moves f by exactly J_l du. The per-sample target displacement
 * du_b = J^T (J J^T + rho)^-1 e_b tends, as rho -> 0 (J of full row rank),
 * to J^+ e_b: the smallest du with J du = e_b = y_b - f_b, i.e. the exact
 * minimum-norm Gauss-Newton step, which puts f on the label. dU is read
 * back from dW_l = (eta_l / B) dU^T H_{l-1} (B <= M_{l-1}, H of full row
 * rank): dU^T = (B / eta_l) dW H^T (H H^T)^-1. SP, so rho_l = rho' = 1e-7:
 * the damping's bias (~rho / sigma_min(J)^2 ~ 1e-7) is far below the
 * float error; the MSE evaluation has no cancellation, so a tiny rho
 * costs no precision. */
START_TEST(linear_sample_targets_are_min_norm_gauss_newton)
{
    const size_t widths[] = {6, 12, 9, 3}, batch = 4, c = 3;
    float *x = tu_gaussian(batch * 6, 13);
    int32_t *labels = cyclic_labels(batch, c);
    tu_rig r = make_rig(PCMUP_RULE_GNT, PCMUP_PRESET_SP, 64, 3, widths, PCMUP_ACT_IDENTITY, 3);
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_GNT_VARIANT, PCMUP_GNT_SAMPLE));
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_GNT_DAMPING, 1e-7));
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_LR, 0.1));
    double *w[4], *h[4];
    for (size_t l = 1; l <= 3; l++)
        w[l] = tu_layer_weights_f64(r.net, l);
    h[0] = malloc(batch * 6 * sizeof(double));
    for (size_t i = 0; i < batch * 6; i++)
        h[0][i] = x[i];
    for (size_t l = 1; l <= 3; l++) {
        h[l] = calloc(batch * widths[l], sizeof(double));
        for (size_t b = 0; b < batch; b++)
            for (size_t i = 0; i < widths[l]; i++)
                for (size_t j = 0; j < widths[l - 1]; j++)
                    h[l][b * widths[l] + i] +=
                        w[l][i * widths[l - 1] + j] * h[l - 1][b * widths[l - 1] + j];
    }
    TU_OK(pcmup_algo_step(r.algo, x, batch * widths[0], labels, batch, NULL));
    /* J_l = W_3 ... W_{l+1} (C x M_l): J_3 = I, J_2 = W_3, J_1 = W_3 W_2. */
    double jac[4][3 * 12];
    memset(jac, 0, sizeof jac);
    for (size_t i = 0; i < c; i++)
        jac[3][i * c + i] = 1;
    for (size_t l = 2; l >= 1; l--)
        for (size_t i = 0; i < c; i++)
            for (size_t j = 0; j < widths[l]; j++) {
                double s = 0;
                for (size_t k = 0; k < widths[l + 1]; k++)
                    s += jac[l + 1][i * widths[l + 1] + k] * w[l + 1][k * widths[l] + j];
                jac[l][i * widths[l] + j] = s;
            }
    for (size_t l = 1; l <= 3; l++) {
        const size_t m = widths[l], in = widths[l - 1];
        const double eta_l = 0.1 * lr_factor(&r, l);
        double *dw = tu_layer_update_f64(&r, l);
        /* dU^T = (B / eta) dW H^T (H H^T)^-1, column by column of dU^T. */
        double hht[16], dwht[12 * 4];
        for (size_t a = 0; a < batch; a++)
            for (size_t b = 0; b < batch; b++) {
                double s = 0;
                for (size_t j = 0; j < in; j++)
                    s += h[l - 1][a * in + j] * h[l - 1][b * in + j];
                hht[a * batch + b] = s;
            }
        for (size_t i = 0; i < m; i++)
            for (size_t b = 0; b < batch; b++) {
                double s = 0;
                for (size_t j = 0; j < in; j++)
                    s += dw[i * in + j] * h[l - 1][b * in + j];
                dwht[i * batch + b] = s * (double)batch / eta_l;
            }
        double worst_hit = 0, worst_min = 0;
        for (size_t b = 0; b < batch; b++) {
            double du[12], e[3], jjt[9], z[3], jpe[12];
            for (size_t i = 0; i < m; i++) {
                /* row i of dU^T (H H^T)^... : solve (H H^T) t = (dW H^T)_i */
                double t[4];
                solve(hht, batch, dwht + i * batch, t);
                du[i] = t[b];
            }
            for (size_t i = 0; i < c; i++)
                e[i] = ((size_t)labels[b] == i ? 1.0 : 0.0) - 1.0 / 3.0 - h[3][b * c + i];
            /* The target is hit: J du = e. */
            double enorm = 0, miss = 0;
            for (size_t i = 0; i < c; i++) {
                double s = 0;
                for (size_t j = 0; j < m; j++)
                    s += jac[l][i * m + j] * du[j];
                miss = fmax(miss, fabs(s - e[i]));
                enorm = fmax(enorm, fabs(e[i]));
            }
            worst_hit = fmax(worst_hit, miss / enorm);
            /* And du = J^+ e = J^T (J J^T)^-1 e, the minimum-norm step. */
            for (size_t a = 0; a < c; a++)
                for (size_t bb = 0; bb < c; bb++) {
                    double s = 0;
                    for (size_t j = 0; j < m; j++)
                        s += jac[l][a * m + j] * jac[l][bb * m + j];
                    jjt[a * c + bb] = s;
                }
            solve(jjt, c, e, z);
            for (size_t j = 0; j < m; j++)
                jpe[j] = jac[l][0 * m + j] * z[0] + jac[l][1 * m + j] * z[1] +
                         jac[l][2 * m + j] * z[2];
            worst_min = fmax(worst_min, max_abs_diff_rel(du, jpe, m));
        }
        printf("linear layer %zu: |J du - e| / |e| %.2e, |du - J^+ e| / |J^+ e| %.2e\n", l,
               worst_hit, worst_min);
        ck_assert_msg(worst_hit < 1e-4, "layer %zu: target missed by %g", l, worst_hit);
        ck_assert_msg(worst_min < 1e-4, "layer %zu: not the minimum-norm step (%g)", l,
                      worst_min);
        free(dw);
    }
    for (size_t l = 0; l <= 3; l++) {
        free(h[l]);
        if (l)
            free(w[l]);
    }
    tu_rig_free(&r);
    free(x);
    free(labels);
}
END_TEST

/* ---- the output layer ------------------------------------------------------------- */

/* Under MSE the output layer's matrix is (1/B) sum_b I + rho' = (1 + rho') I:
 * its preconditioned update is BP's divided by 1 + rho'. With output
 * preconditioning off it is BP's own. Same learning rates (both use the
 * MUP_GNT exponents). */
static void check_output_layer(int precondition)
{
    const size_t widths[] = {10, 32, 32, 4}, batch = 8;
    float *x = tu_gaussian(batch * 10, 21);
    int32_t *labels = cyclic_labels(batch, 4);
    tu_rig gnt = make_rig(PCMUP_RULE_GNT, PCMUP_PRESET_MUP_GNT, 16, 3, widths, PCMUP_ACT_TANH, 2);
    tu_rig bp = make_rig(PCMUP_RULE_BP, PCMUP_PRESET_MUP_GNT, 16, 3, widths, PCMUP_ACT_TANH, 2);
    TU_OK(pcmup_algo_set(gnt.algo, PCMUP_SET_GNT_OUTPUT, precondition));
    TU_OK(pcmup_algo_set(gnt.algo, PCMUP_SET_GNT_DAMPING, 0.25));
    size_t sizes[3];
    TU_OK(pcmup_gnt_system_size(gnt.algo, batch, sizes, 3));
    ck_assert_uint_eq(sizes[2], precondition ? 4 : 0);
    TU_OK(pcmup_algo_step(gnt.algo, x, batch * widths[0], labels, batch, NULL));
    TU_OK(pcmup_algo_step(bp.algo, x, batch * widths[0], labels, batch, NULL));
    double *a = tu_layer_update_f64(&gnt, 3), *b = tu_layer_update_f64(&bp, 3);
    const size_t n = layer_size(&gnt, 3);
    for (size_t i = 0; i < n; i++)
        b[i] /= precondition ? 1.25 : 1.0;
    double err = max_abs_diff_rel(a, b, n);
    ck_assert_msg(err < 1e-5, "output layer: rel err %g", err);
    free(a);
    free(b);
    tu_rig_free(&gnt);
    tu_rig_free(&bp);
    free(x);
    free(labels);
}

START_TEST(output_layer_preconditioned_is_bp_over_one_plus_rho) { check_output_layer(1); }
END_TEST
START_TEST(output_layer_unpreconditioned_is_bp) { check_output_layer(0); }
END_TEST

/* ---- damping ---------------------------------------------------------------------- */

/* rho_l = rho' (M / M_base)^-(2 b_L - 1) below the output, rho' at it:
 * rho' M_base / M under muP (b_L = 1), constant under SP (b_L = 1/2), and
 * whatever b_L a custom parameterization gives. */
START_TEST(damping_follows_the_output_exponent)
{
    const size_t ms[] = {64, 256, 1024};
    for (size_t k = 0; k < 3; k++) {
        const size_t widths[] = {8, ms[k], ms[k], ms[k], 5};
        tu_rig mup = make_rig(PCMUP_RULE_GNT, PCMUP_PRESET_MUP_GNT, 32, 4, widths, PCMUP_ACT_TANH, 1);
        tu_rig sp = make_rig(PCMUP_RULE_GNT, PCMUP_PRESET_SP, 32, 4, widths, PCMUP_ACT_TANH, 1);
        TU_OK(pcmup_algo_set(mup.algo, PCMUP_SET_GNT_DAMPING, 0.03));
        double rho[4], rho_sp[4];
        TU_OK(pcmup_gnt_damping(mup.algo, rho, 4));
        TU_OK(pcmup_gnt_damping(sp.algo, rho_sp, 4));
        const double r = (double)ms[k] / 32.0;
        for (int l = 0; l < 3; l++) {
            ck_assert_double_eq_tol(rho[l], 0.03 / r, 1e-15);
            ck_assert_double_eq_tol(rho_sp[l], 1e-2, 1e-17);
        }
        ck_assert_double_eq(rho[3], 0.03);
        ck_assert_double_eq(rho_sp[3], 1e-2);
        /* b_L = 3/4: exponent -(2 b_L - 1) = -1/2. */
        pcmup_param *p;
        TU_OK(pcmup_param_create(&p, 4, PCMUP_PRESET_MUP_GNT, NULL));
        TU_OK(pcmup_param_set(p, PCMUP_PARAM_BASE_WIDTH, 32));
        TU_OK(pcmup_param_set_layer(p, 4, PCMUP_LAYER_B, 0.75));
        pcmup_net *net;
        pcmup_algo *a;
        TU_OK(pcmup_net_create(&net, widths, 5, PCMUP_ACT_TANH, 0, p, 1, NULL));
        TU_OK(pcmup_algo_create(&a, PCMUP_RULE_GNT, net, 1, NULL));
        TU_OK(pcmup_gnt_damping(a, rho, 4));
        ck_assert_double_eq_tol(rho[1], 1e-2 / sqrt(r), 1e-15);
        pcmup_algo_free(a);
        pcmup_net_free(net);
        pcmup_param_free(p);
        tu_rig_free(&mup);
        tu_rig_free(&sp);
    }
}
END_TEST

/* The MUP_GNT preset row: b = (0, 1/2, ..., 1/2, 1), c = (0, 1, ..., 1, 1). */
START_TEST(mup_gnt_preset_row)
{
    pcmup_param *p;
    TU_OK(pcmup_param_create(&p, 4, PCMUP_PRESET_MUP_GNT, NULL));
    const double b[] = {0, 0.5, 0.5, 1}, c[] = {0, 1, 1, 1};
    for (size_t l = 1; l <= 4; l++) {
        double v;
        TU_OK(pcmup_param_get_layer(p, l, PCMUP_LAYER_B, &v));
        ck_assert_double_eq(v, b[l - 1]);
        TU_OK(pcmup_param_get_layer(p, l, PCMUP_LAYER_C, &v));
        ck_assert_double_eq(v, c[l - 1]);
        TU_OK(pcmup_param_get_layer(p, l, PCMUP_LAYER_A, &v));
        ck_assert_double_eq(v, 0);
    }
    /* gammabar_L -1 makes MUP_PC the same row (paper's Table 1). */
    pcmup_param *q;
    TU_OK(pcmup_param_create(&q, 4, PCMUP_PRESET_SP, NULL));
    TU_OK(pcmup_param_apply_preset(q, PCMUP_PRESET_MUP_PC, -1, 1.0));
    for (size_t l = 1; l <= 4; l++) {
        double u, v;
        TU_OK(pcmup_param_get_layer(p, l, PCMUP_LAYER_C, &u));
        TU_OK(pcmup_param_get_layer(q, l, PCMUP_LAYER_C, &v));
        ck_assert_double_eq(u, v);
    }
    pcmup_param_free(p);
    pcmup_param_free(q);
}
END_TEST

/* ---- versus BP as damping grows -------------------------------------------- */

/* cos(GNT update, BP update) per layer, M = 256, B = 32, e_B = 1: small
 * damping mixes samples strongly (the numpy prototype: 0.26-0.74 at
 * rho' = 1e-3), large damping is GD-like (0.82-0.99 at 1e-1); docs/gnt.md,
 * section 8. */
static void cosines(double rho, double out[3])
{
    const size_t widths[] = {64, 256, 256, 10}, batch = 32;
    float *x = tu_gaussian(batch * 64, 1);
    int32_t *labels = cyclic_labels(batch, 10);
    tu_rig gnt = make_rig(PCMUP_RULE_GNT, PCMUP_PRESET_MUP_GNT, 64, 3, widths, PCMUP_ACT_TANH, 8);
    tu_rig bp = make_rig(PCMUP_RULE_BP, PCMUP_PRESET_MUP_GNT, 64, 3, widths, PCMUP_ACT_TANH, 8);
    TU_OK(pcmup_algo_set(gnt.algo, PCMUP_SET_GNT_DAMPING, rho));
    TU_OK(pcmup_algo_step(gnt.algo, x, batch * widths[0], labels, batch, NULL));
    TU_OK(pcmup_algo_step(bp.algo, x, batch * widths[0], labels, batch, NULL));
    for (size_t l = 1; l <= 3; l++) {
        double *a = tu_layer_update_f64(&gnt, l), *b = tu_layer_update_f64(&bp, l), ab = 0, aa = 0, bb = 0;
        for (size_t i = 0; i < layer_size(&gnt, l); i++) {
            ab += a[i] * b[i];
            aa += a[i] * a[i];
            bb += b[i] * b[i];
        }
        out[l - 1] = ab / sqrt(aa * bb);
        free(a);
        free(b);
    }
    printf("rho' %g: cos(GNT, BP) W1 %.3f W2 %.3f W3 %.3f\n", rho, out[0], out[1], out[2]);
    tu_rig_free(&gnt);
    tu_rig_free(&bp);
    free(x);
    free(labels);
}

START_TEST(damping_moves_gnt_toward_bp)
{
    double small[3], large[3], huge[3];
    cosines(1e-3, small);
    cosines(1e-1, large);
    cosines(1e3, huge);
    for (int l = 0; l < 3; l++) {
        if (l < 2)
            ck_assert_msg(large[l] > small[l], "layer %d: %.3f vs %.3f", l + 1, large[l],
                          small[l]);
        ck_assert_msg(small[l] > 0.0, "layer %d: %.3f", l + 1, small[l]);
        ck_assert_msg(huge[l] > 0.999, "layer %d: rho' = 1e3 is GD, cos %.4f", l + 1, huge[l]);
    }
    /* The output layer under MSE is GD at any damping. */
    ck_assert_msg(small[2] > 0.9999, "output layer: %.5f", small[2]);
}
END_TEST

/* ---- coordinate check --------------------------------------------------------------- */

#define N_WIDTHS TU_COORD_N_WIDTHS

static void coord_sweep(pcmup_preset preset, const char *name, double res[N_WIDTHS][3])
{
    /* The numpy prototype's run: eta = 0.05, rho' = 1e-2 (the default
     * damping). */
    const tu_coord_config cfg = {PCMUP_RULE_GNT, preset, 0.0, 0.05};
    tu_coord_sweep(&cfg, NAN, name, res);
}

/* GNT's muP (the numpy prototype: dh2 .24/.21/.21/.19, df .31/.23/.21/.16
 * for M = 64 to 4096, computed with the loss gradient in the preconditioner
 * rather than the Jacobian; docs/gnt.md, section 8). Measured here: dh1
 * .138/.119/.110/.107, dh2 .168/.138/.127/.123, df .138/.066/.042/.037. The
 * hidden features are flat (the band of BP's check, 3x, and the last
 * doubling within 1.5x). The output moves less at large width: M = 64 is
 * below the batch's B C = 320 Jacobian rows, where the Gauss-Newton matrix
 * has full rank and the step is a full damped Newton step; above it df
 * settles slowly (0.89x per doubling from 1024 on, like the prototype's own
 * .21 -> .16). So df gets the 3x band from 256 on, and the same 1.5x for the
 * last doubling. */
START_TEST(mup_is_flat)
{
    double res[N_WIDTHS][3];
    coord_sweep(PCMUP_PRESET_MUP_GNT, "GNT muP", res);
    for (int j = 0; j < 3; j++) {
        double lo = INFINITY, hi = 0;
        for (int k = j == 2 ? 1 : 0; k < N_WIDTHS; k++) {
            lo = fmin(lo, res[k][j]);
            hi = fmax(hi, res[k][j]);
        }
        ck_assert_msg(lo > 1e-2, "signal %d barely moves (%g)", j, lo);
        ck_assert_msg(hi / lo < 3.0, "signal %d: band %g..%g", j, lo, hi);
        double last = res[N_WIDTHS - 1][j] / res[N_WIDTHS - 2][j];
        ck_assert_msg(last > 1 / 1.5 && last < 1.5, "signal %d: 1024 -> 2048 ratio %g", j, last);
    }
}
END_TEST

/* SP at the same learning rate: one global rate, constant damping: the
 * output update grows by orders of magnitude with width. */
START_TEST(sp_grows)
{
    double res[N_WIDTHS][3];
    coord_sweep(PCMUP_PRESET_SP, "GNT SP", res);
    ck_assert(isfinite(res[0][2]));
    ck_assert_msg(!(res[N_WIDTHS - 1][2] / res[0][2] < 100), "df grows only %g x",
                  res[N_WIDTHS - 1][2] / res[0][2]);
}
END_TEST

/* ---- settings, failures, memory ------------------------------------------------------- */

START_TEST(invalid_settings_are_rejected)
{
    const size_t widths[] = {8, 16, 16, 3};
    tu_rig r = make_rig(PCMUP_RULE_GNT, PCMUP_PRESET_MUP_GNT, 8, 3, widths, PCMUP_ACT_TANH, 1);
    const struct {
        pcmup_setting key;
        double value;
    } bad[] = {
        {PCMUP_SET_GNT_DAMPING, -1e-2},      {PCMUP_SET_GNT_DAMPING, 0},
        {PCMUP_SET_GNT_DAMPING, NAN},        {PCMUP_SET_GNT_DAMPING, INFINITY},
        {PCMUP_SET_GNT_DAMPING, 2e6},        {PCMUP_SET_GNT_POWER, -0.1},
        {PCMUP_SET_GNT_POWER, 1.5},      {PCMUP_SET_GNT_POWER, NAN},
        {PCMUP_SET_GNT_VARIANT, 2},      {PCMUP_SET_GNT_VARIANT, 0.5},
        {PCMUP_SET_GNT_VARIANT, -1},     {PCMUP_SET_GNT_OUTPUT, 2},
        {PCMUP_SET_GNT_OUTPUT, NAN},     {PCMUP_SET_LR, -1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double before, after;
        TU_OK(pcmup_algo_get(r.algo, bad[i].key, &before));
        TU_FAILS(PCMUP_ERR_INVALID, pcmup_algo_set(r.algo, bad[i].key, bad[i].value));
        TU_OK(pcmup_algo_get(r.algo, bad[i].key, &after));
        ck_assert_msg(before == after, "setting %d changed", (int)bad[i].key);
    }
    /* Defaults and bounds. */
    const struct {
        pcmup_setting key;
        double def, lo, hi;
    } table[] = {
        {PCMUP_SET_GNT_POWER, 1, 0, 1},
        {PCMUP_SET_GNT_DAMPING, 1e-2, 0, 1e6},
        {PCMUP_SET_GNT_VARIANT, PCMUP_GNT_BATCH, PCMUP_GNT_BATCH, PCMUP_GNT_SAMPLE},
        {PCMUP_SET_GNT_OUTPUT, 1, 0, 1},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        double v;
        TU_OK(pcmup_algo_get(r.algo, table[i].key, &v));
        pcmup_bounds b = pcmup_setting_bounds(table[i].key);
        TU_OK(b.status);
        ck_assert_double_eq(v, table[i].def);
        ck_assert_double_eq(b.lo, table[i].lo);
        ck_assert_double_eq(b.hi, table[i].hi);
    }
    /* Edges are accepted. */
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_GNT_POWER, 0));
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_GNT_POWER, 1));
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_GNT_DAMPING, 1e6));
    /* GNT keys are not BP's or PC's, PC's are not GNT's; not per layer. */
    const size_t w2[] = {8, 16, 16, 3};
    tu_rig bp = make_rig(PCMUP_RULE_BP, PCMUP_PRESET_MUP_SGD, 8, 3, w2, PCMUP_ACT_TANH, 1);
    tu_rig pc = make_rig(PCMUP_RULE_PC, PCMUP_PRESET_MUP_PC, 8, 3, w2, PCMUP_ACT_TANH, 1);
    TU_FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_algo_set(bp.algo, PCMUP_SET_GNT_DAMPING, 0.1));
    TU_FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_algo_set(pc.algo, PCMUP_SET_GNT_POWER, 0.5));
    TU_FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_algo_set(r.algo, PCMUP_SET_PC_KAPPA, 0.5));
    TU_FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_algo_set_layer(r.algo, 1, PCMUP_SET_GNT_DAMPING, 0.1));
    double rho[3];
    size_t sizes[3];
    int accepts = 1;
    TU_OK(pcmup_setting_accepts(PCMUP_SET_GNT_POWER, PCMUP_RULE_BP, &accepts));
    ck_assert_int_eq(accepts, 0);
    /* Diagnostics: the right kind, the right count, non-NULL. */
    TU_FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_gnt_damping(bp.algo, rho, 3));
    TU_FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_gnt_system_size(pc.algo, 4, sizes, 3));
    TU_FAILS(PCMUP_ERR_SHAPE, pcmup_gnt_damping(r.algo, rho, 2));
    TU_FAILS(PCMUP_ERR_SHAPE, pcmup_gnt_system_size(r.algo, 4, sizes, 4));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_gnt_damping(NULL, rho, 3));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_gnt_damping(r.algo, NULL, 3));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_gnt_system_size(r.algo, 4, NULL, 3));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_gnt_system_size(r.algo, 0, sizes, 3));
    tu_rig_free(&bp);
    tu_rig_free(&pc);
    tu_rig_free(&r);
}
END_TEST

static int same_weights(const tu_rig *r, float *const *saved)
{
    for (size_t l = 1; l <= r->n_layers; l++) {
        size_t n = layer_size(r, l);
        float *now = malloc(n * sizeof *now);
        TU_OK(pcmup_net_get_weights(r->net, l, now, n));
        int same = memcmp(now, saved[l - 1], n * sizeof *now) == 0;
        free(now);
        if (!same)
            return 0;
    }
    return 1;
}

/* A system that cannot be solved leaves every weight as it was. A ReLU
 * network whose first layer is dead (positive inputs, negative weights)
 * has zero Jacobians below the output, so with a damping of 1e-300 the
 * Gram-side solve overflows: DIVERGED, and layer 3, whose update was
 * finite, has not moved either. A non-finite loss is refused the same
 * way. */
START_TEST(failed_step_changes_nothing)
{
    const size_t widths[] = {4, 16, 16, 2}, batch = 3;
    tu_rig r = make_rig(PCMUP_RULE_GNT, PCMUP_PRESET_MUP_GNT, 8, 3, widths, PCMUP_ACT_RELU, 1);
    float w1[64], x[12];
    for (int i = 0; i < 64; i++)
        w1[i] = -0.5f;
    for (int i = 0; i < 12; i++)
        x[i] = 1.0f + 0.1f * (float)i;
    TU_OK(pcmup_net_set_weights(r.net, 1, w1, 64));
    int32_t labels[3] = {0, 1, 0};
    float *saved[3];
    for (size_t l = 1; l <= 3; l++) {
        saved[l - 1] = malloc(layer_size(&r, l) * sizeof(float));
        TU_OK(pcmup_net_get_weights(r.net, l, saved[l - 1], layer_size(&r, l)));
    }
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_GNT_DAMPING, 1e-300));
    TU_FAILS(PCMUP_ERR_DIVERGED, pcmup_algo_step(r.algo, x, batch * widths[0], labels, batch,
                                                 NULL));
    ck_assert(same_weights(&r, saved));
    /* An output that overflows: tanh features all positive, output
     * weights near FLT_MAX. */
    tu_rig t = make_rig(PCMUP_RULE_GNT, PCMUP_PRESET_MUP_GNT, 8, 3, widths, PCMUP_ACT_TANH, 1);
    float w2[256], w3[32];
    for (int i = 0; i < 64; i++)
        w1[i] = 0.5f;
    for (int i = 0; i < 256; i++)
        w2[i] = 0.5f;
    for (int i = 0; i < 32; i++)
        w3[i] = 3e38f;
    TU_OK(pcmup_net_set_weights(t.net, 1, w1, 64));
    TU_OK(pcmup_net_set_weights(t.net, 2, w2, 256));
    TU_OK(pcmup_net_set_weights(t.net, 3, w3, 32));
    for (size_t l = 1; l <= 3; l++)
        TU_OK(pcmup_net_get_weights(t.net, l, saved[l - 1], layer_size(&t, l)));
    TU_FAILS(PCMUP_ERR_DIVERGED, pcmup_algo_step(t.algo, x, batch * widths[0], labels, batch,
                                                 NULL));
    ck_assert(same_weights(&t, saved));
    tu_rig_free(&t);
    for (int l = 0; l < 3; l++)
        free(saved[l]);
    tu_rig_free(&r);
}
END_TEST

/* After the first step at a batch size (and the settings that size
 * buffers), steps allocate nothing: batch and sample variants, e_B = 1 and
 * fractional, smaller batches, epochs. */
START_TEST(no_allocation_after_first_step)
{
    tu_counter counter;
    pcmup_allocator alloc = tu_counting_allocator(&counter);
    const size_t widths[] = {20, 48, 40, 4}, batch = 16;
    pcmup_param *p;
    TU_OK(pcmup_param_create(&p, 3, PCMUP_PRESET_MUP_GNT, &alloc));
    pcmup_net *net;
    TU_OK(pcmup_net_create(&net, widths, 4, PCMUP_ACT_TANH, 0, p, 1, &alloc));
    pcmup_algo *algo;
    TU_OK(pcmup_algo_create(&algo, PCMUP_RULE_GNT, net, 1, &alloc));
    TU_OK(pcmup_algo_set(algo, PCMUP_SET_GNT_POWER, 0.5));
    TU_OK(pcmup_algo_set(algo, PCMUP_SET_LOSS, PCMUP_LOSS_CE));
    float *x = tu_gaussian(batch * 20, 2);
    int32_t *labels = cyclic_labels(batch, 4);
    TU_OK(pcmup_algo_step(algo, x, batch * widths[0], labels, batch, NULL));
    size_t calls = counter.n_malloc + counter.n_realloc;
    ck_assert_uint_gt(calls, 0);
    for (int i = 0; i < 12; i++) {
        TU_OK(pcmup_algo_set(algo, PCMUP_SET_GNT_POWER, i % 2 ? 1.0 : 0.5));
        TU_OK(pcmup_algo_set(algo, PCMUP_SET_GNT_VARIANT, i % 3 == 0 ? 1 : 0));
        TU_OK(pcmup_algo_set(algo, PCMUP_SET_LOSS, i % 4 < 2));
        TU_OK(pcmup_algo_step(algo, x, (batch - (size_t)(i % 5)) * widths[0], labels,
                              batch - (size_t)(i % 5), NULL));
    }
    ck_assert_uint_eq(counter.n_malloc + counter.n_realloc, calls);
    pcmup_dataset *ds;
    TU_OK(pcmup_dataset_from_arrays(&ds, batch, 20, 4, x, batch * 20, labels, NULL));
    TU_OK(pcmup_algo_train_epoch(algo, ds, 5, NULL));
    calls = counter.n_malloc + counter.n_realloc;
    TU_OK(pcmup_algo_train_epoch(algo, ds, 5, NULL));
    ck_assert_uint_eq(counter.n_malloc + counter.n_realloc, calls);
    pcmup_dataset_free(ds);
    pcmup_algo_free(algo);
    pcmup_net_free(net);
    pcmup_param_free(p);
    ck_assert_int_eq(counter.live, 0);
    free(x);
    free(labels);
}
END_TEST

/* Every allocation of a GNT handle can fail: the step reports NOMEM,
 * changes nothing, and works once memory is back. */
START_TEST(allocation_failures_are_clean)
{
    const size_t widths[] = {20, 48, 40, 4}, batch = 16;
    float *x = tu_gaussian(batch * 20, 2);
    int32_t *labels = cyclic_labels(batch, 4);
    for (size_t k = 1; k < 12; k++) {
        tu_counter counter;
        pcmup_allocator alloc = tu_counting_allocator(&counter);
        pcmup_param *p;
        TU_OK(pcmup_param_create(&p, 3, PCMUP_PRESET_MUP_GNT, &alloc));
        pcmup_net *net;
        TU_OK(pcmup_net_create(&net, widths, 4, PCMUP_ACT_TANH, 0, p, 1, &alloc));
        pcmup_algo *algo;
        TU_OK(pcmup_algo_create(&algo, PCMUP_RULE_GNT, net, 1, &alloc));
        TU_OK(pcmup_algo_set(algo, PCMUP_SET_GNT_POWER, 0.5));
        float before[48 * 20], after[48 * 20];
        TU_OK(pcmup_net_get_weights(net, 1, before, 48 * 20));
        counter.fail_after = k;
        pcmup_status s = pcmup_algo_step(algo, x, batch * widths[0], labels, batch, NULL);
        ck_assert(s == PCMUP_OK || s == PCMUP_ERR_NOMEM);
        if (s == PCMUP_ERR_NOMEM) {
            TU_OK(pcmup_net_get_weights(net, 1, after, 48 * 20));
            ck_assert(memcmp(before, after, sizeof before) == 0);
        }
        counter.fail_after = 0;
        TU_OK(pcmup_algo_step(algo, x, batch * widths[0], labels, batch, NULL));
        pcmup_algo_free(algo);
        pcmup_net_free(net);
        pcmup_param_free(p);
        ck_assert_int_eq(counter.live, 0);
    }
    free(x);
    free(labels);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gnt");
    TCase *exact = tcase_create("exact");
    tcase_add_test(exact, power_zero_is_bp_batch_mse);
    tcase_add_test(exact, power_zero_is_bp_sample_ce);
    tcase_add_test(exact, explicit_gram_batch);
    tcase_add_test(exact, explicit_direct_batch);
    tcase_add_test(exact, explicit_sample);
    tcase_add_test(exact, jacobian_matches_finite_differences);
    tcase_add_test(exact, linear_sample_targets_are_min_norm_gauss_newton);
    tcase_add_test(exact, output_layer_preconditioned_is_bp_over_one_plus_rho);
    tcase_add_test(exact, output_layer_unpreconditioned_is_bp);
    tcase_add_test(exact, damping_follows_the_output_exponent);
    tcase_add_test(exact, mup_gnt_preset_row);
    suite_add_tcase(s, exact);
    TCase *contract = tcase_create("contract");
    tcase_add_test(contract, invalid_settings_are_rejected);
    tcase_add_test(contract, failed_step_changes_nothing);
    tcase_add_test(contract, no_allocation_after_first_step);
    tcase_add_test(contract, allocation_failures_are_clean);
    suite_add_tcase(s, contract);
    TCase *width = tcase_create("width");
    tcase_set_timeout(width, 900);
    tcase_add_test(width, damping_moves_gnt_toward_bp);
    tcase_add_test(width, mup_is_flat);
    tcase_add_test(width, sp_grows);
    suite_add_tcase(s, width);
    return tu_run_suite(s);
}
