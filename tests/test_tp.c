/* SPDX-License-Identifier: MIT */
/*
 * test_tp.c -- target propagation and difference target propagation against
 * what the paper states and docs/tp.md derives: DTP with exact inverse
 * feedback is the Gauss-Newton target, the closed-form feedback solves its
 * ridge normal equations and reconstructs the batch as the damping vanishes,
 * trained feedback descends its reconstruction loss, the muP coordinate
 * check (b_L = 1/2 flat, b_L = 1 shrinking, SP growing), the alignment
 * exponent (TP ~ 1/2, BP ~ 1), the feedback weights' storage in the network,
 * the validation of settings, and that steps allocate nothing after the
 * first.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ----------------------------------------------------------------- */

/* A net of widths[0..n_layers] under `preset` (base width 64) and an
 * algorithm of `kind` recording its updates. */
static tu_rig make_rig(pcmup_rule kind, pcmup_preset preset, size_t n_layers,
                       const size_t *widths, pcmup_activation act, uint64_t seed)
{
    pcmup_param *p;
    TU_OK(pcmup_param_create(&p, n_layers, preset, NULL));
    return tu_rig_make(kind, p, widths, act, seed, 1);
}

/* ---- small dense double algebra, row-major ------------------------------------- */

/* c (n x m) = a (n x k) b (k x m); ta / tb: use a^T (a stored k x n) / b^T. */
static void mat_mul(const double *a, const double *b, double *c, size_t n, size_t k,
                    size_t m, int ta, int tb)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < m; j++) {
            double s = 0.0;
            for (size_t p = 0; p < k; p++)
                s += (ta ? a[p * n + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * m + j]);
            c[i * m + j] = s;
        }
}

/* In-place inverse of the n x n matrix a by Gauss-Jordan with partial
 * pivoting (the test's own, independent of the library's Cholesky). */
static void invert(double *a, size_t n)
{
    double *w = calloc(n * 2 * n, sizeof *w);
    for (size_t i = 0; i < n; i++) {
        memcpy(w + i * 2 * n, a + i * n, n * sizeof *a);
        w[i * 2 * n + n + i] = 1.0;
    }
    for (size_t col = 0; col < n; col++) {
        size_t piv = col;
        for (size_t i = col + 1; i < n; i++)
            if (fabs(w[i * 2 * n + col]) > fabs(w[piv * 2 * n + col]))
                piv = i;
        ck_assert_msg(fabs(w[piv * 2 * n + col]) > 1e-12, "singular matrix");
        for (size_t j = 0; j < 2 * n; j++) {
            double t = w[col * 2 * n + j];
            w[col * 2 * n + j] = w[piv * 2 * n + j];
            w[piv * 2 * n + j] = t;
        }
        double d = w[col * 2 * n + col];
        for (size_t j = 0; j < 2 * n; j++)
            w[col * 2 * n + j] /= d;
        for (size_t i = 0; i < n; i++) {
            if (i == col)
                continue;
            double f = w[i * 2 * n + col];
            for (size_t j = 0; j < 2 * n; j++)
                w[i * 2 * n + j] -= f * w[col * 2 * n + j];
        }
    }
    for (size_t i = 0; i < n; i++)
        memcpy(a + i * n, w + i * 2 * n + n, n * sizeof *a);
    free(w);
}

static double max_abs(const double *a, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(a[i]));
    return m;
}

/* Centred (or plain) one-hot targets minus... : g = f - y, (B, C). */
static void mse_grad(const double *f, const int32_t *labels, size_t b, size_t c, int centred,
                     double *g)
{
    for (size_t i = 0; i < b; i++)
        for (size_t k = 0; k < c; k++) {
            double y = ((int32_t)k == labels[i] ? 1.0 : 0.0) - (centred ? 1.0 / (double)c : 0.0);
            g[i * c + k] = f[i * c + k] - y;
        }
}

/* Square, well-conditioned weights s (I + 0.25 G / sqrt(n)). */
static void set_near_identity(pcmup_net *net, size_t l, size_t n, double s, unsigned seed)
{
    float *g = tu_gaussian(n * n, seed);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            g[i * n + j] = (float)(s * ((i == j ? 1.0 : 0.0) + 0.25 * g[i * n + j] / sqrt((double)n)));
    TU_OK(pcmup_net_set_weights(net, l, g, n * n));
    free(g);
}

/* ---- DTP with exact feedback is the Gauss-Newton target ------------------------ */

/* A linear net with square invertible layers (D = M = C = n) and feedback
 * V_l = W_l^-1 (so G_l inverts layer l exactly; fb_lr = 0 keeps it so).
 * DTP: t_{l-1} - h_{l-1} = W_l^-1 (t_l - h_l), hence
 *   t_l - h_l = J_l^-1 (t_L - f),   J_l = W_L ... W_{l+1} = df/dh_l.
 * The Gauss-Newton target (docs/gnt.md, section 1; Meulemans et al. 2020)
 * at layer l is the minimum-norm solution of J_l d = e,
 * e = t_L - f = -beta dl/df: d = J_l^T (J_l J_l^T)^-1 e
 * (the per-sample damped form J^T (J J^T + rho)^-1 e as rho -> 0), which
 * for an invertible J_l is J_l^-1 e. So DTP's targets are the Gauss-Newton
 * targets, and its update is W_l += (eta/B) (J_l^-1 E_L)^T h_{l-1} (phi = id).
 * With exact inverse feedback and no reconstruction error TP agrees. The
 * reference is built here in double from the weights alone. */
static void check_gauss_newton(pcmup_rule kind)
{
    const size_t n = 6, b = 10, L = 3;
    const size_t widths[4] = {n, n, n, n};
    const double beta = 0.5, eta = 0.1;
    tu_rig r = make_rig(kind, PCMUP_PRESET_SP, L, widths, PCMUP_ACT_IDENTITY, 1);
    for (size_t l = 1; l <= L; l++)
        set_near_identity(r.net, l, n, 1.0, 10 + (unsigned)l);
    double *w[4] = {NULL}, *winv[4] = {NULL};
    for (size_t l = 1; l <= L; l++) {
        w[l] = tu_layer_weights_f64(r.net, l);
        winv[l] = malloc(n * n * sizeof(double));
        memcpy(winv[l], w[l], n * n * sizeof(double));
        invert(winv[l], n);
        float vf[36];
        for (size_t i = 0; i < n * n; i++)
            vf[i] = (float)winv[l][i];
        if (l >= 2)
            TU_OK(pcmup_tp_set_feedback(r.algo, l, vf, n * n));
    }
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_LR, eta));
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_TP_BETA, beta));
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_TP_FEEDBACK, PCMUP_TP_FEEDBACK_TRAINED));
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_TP_FB_LR, 0.0));
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_TP_FB_NOISE, 0.0));
    float *xf = tu_gaussian(b * n, 5);
    int32_t *labels = tu_cyclic_labels(b, n);
    TU_OK(pcmup_algo_step(r.algo, xf, b * r.widths[0], labels, b, NULL));

    /* Reference, in double: H_l = H_{l-1} W_l^T, E_L = -beta (F - Y),
     * E_l = E_L J_l^-T with J_l^-1 = W_{l+1}^-1 ... W_L^-1. */
    double *h[4], *e[4], jinv[36], tmp[36];
    h[0] = malloc(b * n * sizeof(double));
    for (size_t i = 0; i < b * n; i++)
        h[0][i] = xf[i];
    for (size_t l = 1; l <= L; l++) {
        h[l] = malloc(b * n * sizeof(double));
        mat_mul(h[l - 1], w[l], h[l], b, n, n, 0, 1);
        e[l] = malloc(b * n * sizeof(double));
    }
    mse_grad(h[L], labels, b, n, 1, e[L]);
    for (size_t i = 0; i < b * n; i++)
        e[L][i] *= -beta;
    memcpy(jinv, winv[L], sizeof jinv);
    for (size_t l = L - 1; l >= 1; l--) {
        mat_mul(e[L], jinv, e[l], b, n, n, 0, 1); /* rows: J_l^-1 e_b */
        mat_mul(winv[l], jinv, tmp, n, n, n, 0, 0);
        memcpy(jinv, tmp, sizeof jinv);
    }
    double worst = 0.0, distances[3];
    TU_OK(pcmup_tp_target_distances(r.algo, distances, 3));
    for (size_t l = 1; l <= L; l++) {
        double want[36], *got = tu_layer_update_f64(&r, l);
        mat_mul(e[l], h[l - 1], want, n, b, n, 1, 0);
        for (size_t i = 0; i < n * n; i++)
            want[i] *= eta / (double)b;
        double diff[36];
        for (size_t i = 0; i < n * n; i++)
            diff[i] = got[i] - want[i];
        double err = max_abs(diff, n * n) / max_abs(want, n * n);
        worst = fmax(worst, err);
        double norm = 0.0;
        for (size_t i = 0; i < b * n; i++)
            norm += e[l][i] * e[l][i];
        norm = sqrt(norm / (double)b);
        ck_assert_msg(fabs(distances[l - 1] - norm) < 1e-5 * norm,
                      "layer %zu: target distance %.9g vs %.9g", l, distances[l - 1], norm);
        free(got);
    }
    printf("%s with inverse feedback vs Gauss-Newton targets: update error %.3g\n",
           kind == PCMUP_RULE_DTP ? "DTP" : "TP", worst);
    /* float rounding of X, W, W^-1 through three layers: measured ~3e-7 */
    ck_assert_msg(worst < 1e-5, "update error %.3g", worst);

    /* Not BP: the BP update of layer 1 uses J_1^T, far from J_1^-1 here. */
    double jt_e[60], bp1[36], gn1[36];
    double j1[36];
    mat_mul(w[3], w[2], j1, n, n, n, 0, 0); /* J_1 = W_3 W_2 */
    mat_mul(e[L], j1, jt_e, b, n, n, 0, 0); /* rows J_1^T e_b */
    mat_mul(jt_e, h[0], bp1, n, b, n, 1, 0);
    mat_mul(e[1], h[0], gn1, n, b, n, 1, 0);
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < n * n; i++) {
        ab += bp1[i] * gn1[i];
        aa += bp1[i] * bp1[i];
        bb += gn1[i] * gn1[i];
    }
    ck_assert_msg(ab / sqrt(aa * bb) < 0.99, "GN and BP coincide (cos %.4f)", ab / sqrt(aa * bb));
    for (size_t l = 0; l <= L; l++) {
        free(h[l]);
        if (l >= 1) {
            free(e[l]);
            free(w[l]);
            free(winv[l]);
        }
    }
    free(xf);
    free(labels);
    tu_rig_free(&r);
}

START_TEST(dtp_inverse_feedback_is_gauss_newton) { check_gauss_newton(PCMUP_RULE_DTP); }
END_TEST
START_TEST(tp_inverse_feedback_is_gauss_newton) { check_gauss_newton(PCMUP_RULE_TP); }
END_TEST

/* ---- closed-form feedback: normal equations and reconstruction ---------------- */

/* Q*_l minimises sum_b ||Q h_{l,b} - h_{l-1,b}||^2 + mu_l ||Q||^2, so it
 * satisfies the normal equations Q (H_l^T H_l + mu_l I) = H_{l-1}^T H_l
 * (H_l the (B, M_l) batch, H_3 = F). The library never forms Q*; read it
 * off DTP's targets instead: with a linear net of square layers (D = M =
 * C = B = n) and the batch X = I, layer 1's update is (eta/B) E_1^T, layer
 * 2's is (eta/B) E_2^T H_1, and E_3 = -beta (F - Y), so E_1 and E_2 come
 * back exactly, and E_{l-1} = E_l Q_l^T gives Q_3^T = E_3^-1 E_2 and
 * Q_2^T = E_2^-1 E_1 (E_l is invertible: Q_3 and E_3 are). SP keeps
 * mu_2 = mu' and mu_3 = mu_L; distinct values catch a swap. */
START_TEST(closed_form_satisfies_normal_equations)
{
    const size_t n = 6, L = 3;
    const size_t widths[4] = {n, n, n, n};
    const double eta = 0.1, beta = 1.0, mu = 0.3, mu_top = 0.7;
    tu_rig r = make_rig(PCMUP_RULE_DTP, PCMUP_PRESET_SP, L, widths, PCMUP_ACT_IDENTITY, 1);
    for (size_t l = 1; l <= L; l++)
        set_near_identity(r.net, l, n, 0.5, 20 + (unsigned)l);
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_LR, eta));
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_MSE_CENTRED, 0));
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_TP_FB_DAMPING, mu));
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_TP_FB_DAMPING_TOP, mu_top));
    float xf[36] = {0};
    for (size_t i = 0; i < n; i++)
        xf[i * n + i] = 1.0f;
    int32_t *labels = tu_cyclic_labels(n, n);
    TU_OK(pcmup_algo_step(r.algo, xf, n * r.widths[0], labels, n, NULL));

    double *w[4], h[4][36], e[4][36];
    for (size_t i = 0; i < n * n; i++)
        h[0][i] = xf[i];
    for (size_t l = 1; l <= L; l++) {
        w[l] = tu_layer_weights_f64(r.net, l);
        double *u = tu_layer_update_f64(&r, l);
        for (size_t i = 0; i < n * n; i++)
            w[l][i] -= u[i]; /* the weights of the step's forward pass */
        mat_mul(h[l - 1], w[l], h[l], n, n, n, 0, 1);
        if (l == 1) /* E_1 = (B/eta) dW_1^T */
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < n; j++)
                    e[1][i * n + j] = (double)n / eta * u[j * n + i];
        if (l == 2) { /* E_2 = (B/eta) H_1^-T dW_2^T */
            double hinv[36], ut[36];
            memcpy(hinv, h[1], sizeof hinv);
            invert(hinv, n);
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < n; j++)
                    ut[i * n + j] = (double)n / eta * u[j * n + i];
            mat_mul(hinv, ut, e[2], n, n, n, 1, 0);
        }
        free(u);
    }
    mse_grad(h[3], labels, n, n, 0, e[3]);
    for (size_t i = 0; i < n * n; i++)
        e[3][i] *= -beta;
    for (size_t l = 3; l >= 2; l--) {
        /* Q_l^T = E_l^-1 E_{l-1}; check Q (H_l^T H_l + mu I) = H_{l-1}^T H_l */
        double einv[36], qt[36], q[36], gram[36], lhs[36], rhs[36], diff[36];
        memcpy(einv, e[l], sizeof einv);
        invert(einv, n);
        mat_mul(einv, e[l - 1], qt, n, n, n, 0, 0);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++)
                q[i * n + j] = qt[j * n + i];
        mat_mul(h[l], h[l], gram, n, n, n, 1, 0);
        for (size_t i = 0; i < n; i++)
            gram[i * n + i] += l == L ? mu_top : mu;
        mat_mul(q, gram, lhs, n, n, n, 0, 0);
        mat_mul(h[l - 1], h[l], rhs, n, n, n, 1, 0);
        for (size_t i = 0; i < n * n; i++)
            diff[i] = lhs[i] - rhs[i];
        double rel = max_abs(diff, n * n) / max_abs(rhs, n * n);
        printf("Q*_%zu normal equations: relative residual %.3g\n", l, rel);
        /* float updates (1e-7) through two small inverses: measured ~1e-6 */
        ck_assert_msg(rel < 1e-4, "layer %zu: normal equations residual %.3g", l, rel);
    }
    for (size_t l = 1; l <= L; l++)
        free(w[l]);
    free(labels);
    tu_rig_free(&r);
}
END_TEST

/* The reconstruction residual of Q*_l on the batch is -mu (Gram + mu
 * I_B)^-1 H_{l-1}: for a hidden layer with B <= M_l and full-rank H_l it
 * vanishes like mu^2 in the loss as mu -> 0 (Q*_l h_l = h_{l-1} on the
 * batch). At the top, f has C < B columns and cannot reconstruct h_{L-1}:
 * the loss stays of the order of h_{L-1}'s own. Reported through
 * pcmup_tp_feedback_loss (closed form: before = after). */
START_TEST(closed_form_reconstructs_as_damping_vanishes)
{
    const size_t b = 16, widths[4] = {20, 64, 64, 10};
    const double mus[3] = {1e-1, 1e-3, 1e-6};
    float *x = tu_gaussian(b * widths[0], 3);
    int32_t *labels = tu_cyclic_labels(b, 10);
    double hidden[3], top[3], scale = 0.0;
    for (int k = 0; k < 3; k++) {
        tu_rig r = make_rig(PCMUP_RULE_DTP, PCMUP_PRESET_SP, 3, widths, PCMUP_ACT_TANH, 4);
        TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_LR, 0.0));
        TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_TP_FB_DAMPING, mus[k]));
        TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_TP_FB_DAMPING_TOP, mus[k]));
        TU_OK(pcmup_algo_step(r.algo, x, b * r.widths[0], labels, b, NULL));
        double before[2], after[2];
        TU_OK(pcmup_tp_feedback_loss(r.algo, before, after, 2));
        ck_assert_double_eq(before[0], after[0]);
        ck_assert_double_eq(before[1], after[1]);
        hidden[k] = after[0];
        top[k] = after[1];
        if (k == 0) { /* (1/2B) ||H_1||^2, the loss of G = 0 */
            float h1[16 * 64];
            TU_OK(pcmup_net_forward_layer(r.net, x, b * r.widths[0], b, 1, PCMUP_SIGNAL_POST, h1,
                                          b * r.widths[1]));
            for (size_t i = 0; i < b * 64; i++)
                scale += 0.5 * (double)h1[i] * h1[i] / (double)b;
        }
        printf("mu %g: hidden reconstruction loss %.3g, top %.3g (h scale %.3g)\n", mus[k],
               hidden[k], top[k], scale);
        tu_rig_free(&r);
    }
    ck_assert(hidden[0] > hidden[1] && hidden[1] > hidden[2]);
    /* (mu / lambda_min)^2 relative: far below float rounding of h itself */
    ck_assert_msg(hidden[2] < 1e-10 * scale, "hidden loss %.3g at mu 1e-6", hidden[2]);
    ck_assert_msg(top[2] > 0.05 * scale, "top loss %.3g: f cannot reconstruct h_2", top[2]);
    free(x);
    free(labels);
}
END_TEST

/* ---- trained feedback ------------------------------------------------------------ */

/* With the weights held (eta = 0) and the data fixed, every step is K_fb
 * SGD iterations on the same quadratic (identity psi, no noise):
 * the reconstruction loss falls monotonically from step to step and within
 * each step (before > after), for every feedback layer. eta^V = 0.05 is
 * well inside the stable range (step x curvature ~ 0.05 x ||h||^2 < 2). */
static void check_feedback_descends(pcmup_activation psi, double noise, size_t k_fb)
{
    const size_t b = 32, widths[4] = {20, 64, 64, 10};
    float *x = tu_gaussian(b * widths[0], 8);
    int32_t *labels = tu_cyclic_labels(b, 10);
    tu_rig r = make_rig(PCMUP_RULE_DTP, PCMUP_PRESET_MUP_TP, 3, widths, PCMUP_ACT_TANH, 6);
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_LR, 0.0));
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_TP_FEEDBACK, PCMUP_TP_FEEDBACK_TRAINED));
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_TP_FB_ACTIVATION, psi));
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_TP_FB_NOISE, noise));
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_TP_FB_STEPS, (double)k_fb));
    double first[2] = {0, 0}, prev[2] = {INFINITY, INFINITY}, before[2], after[2];
    for (int t = 0; t < 30; t++) {
        TU_OK(pcmup_algo_step(r.algo, x, b * r.widths[0], labels, b, NULL));
        TU_OK(pcmup_tp_feedback_loss(r.algo, before, after, 2));
        for (int l = 0; l < 2; l++) {
            if (t == 0)
                first[l] = before[l];
            if (noise == 0.0) {
                ck_assert_msg(after[l] < before[l], "step %d layer %d: %g -> %g", t, l + 2,
                              before[l], after[l]);
                /* the next step starts where this one ended */
                ck_assert_msg(before[l] <= prev[l] * (1 + 1e-6), "step %d layer %d", t, l + 2);
            }
            prev[l] = after[l];
        }
    }
    printf("feedback psi %s noise %g K %zu: loss layer 2 %.4g -> %.4g, layer 3 %.4g -> %.4g\n",
           psi == PCMUP_ACT_TANH ? "tanh" : "id", noise, k_fb, first[0], prev[0], first[1],
           prev[1]);
    for (int l = 0; l < 2; l++)
        ck_assert_msg(prev[l] < 0.5 * first[l], "layer %d: %g -> %g", l + 2, first[l], prev[l]);
    tu_rig_free(&r);
    free(x);
    free(labels);
}

START_TEST(trained_feedback_descends_linear) { check_feedback_descends(PCMUP_ACT_IDENTITY, 0.0, 1); }
END_TEST
START_TEST(trained_feedback_descends_tanh) { check_feedback_descends(PCMUP_ACT_TANH, 0.0, 3); }
END_TEST
START_TEST(trained_feedback_descends_with_noise)
{
    check_feedback_descends(PCMUP_ACT_IDENTITY, 0.1, 2);
}
END_TEST

/* ---- exact identities --------------------------------------------------------------- */

/* The output layer's update is BP's times beta, whatever the feedback:
 * dW_L = (eta_L / B)(t_L - f)^T h_{L-1} = -beta (eta_L / B) g^T h_{L-1}. A
 * single-layer net has nothing to propagate: TP is then beta x BP. */
static void check_top_is_beta_bp(size_t n_layers, const size_t *widths, pcmup_rule kind)
{
    const size_t b = 12;
    const double beta = 2.5;
    float *x = tu_gaussian(b * widths[0], 9);
    int32_t *labels = tu_cyclic_labels(b, widths[n_layers]);
    tu_rig tp = make_rig(kind, PCMUP_PRESET_MUP_TP, n_layers, widths, PCMUP_ACT_TANH, 2);
    tu_rig bp = make_rig(PCMUP_RULE_BP, PCMUP_PRESET_MUP_TP, n_layers, widths, PCMUP_ACT_TANH, 2);
    TU_OK(pcmup_algo_set(tp.algo, PCMUP_SET_TP_BETA, beta));
    TU_OK(pcmup_algo_step(tp.algo, x, b * tp.widths[0], labels, b, NULL));
    TU_OK(pcmup_algo_step(bp.algo, x, b * bp.widths[0], labels, b, NULL));
    size_t out, in;
    TU_OK(pcmup_net_layer_shape(tp.net, n_layers, &out, &in));
    double *a = tu_layer_update_f64(&tp, n_layers), *c = tu_layer_update_f64(&bp, n_layers);
    double diff = 0.0, scale = 0.0;
    for (size_t i = 0; i < out * in; i++) {
        diff = fmax(diff, fabs(a[i] - beta * c[i]));
        scale = fmax(scale, fabs(beta * c[i]));
    }
    ck_assert_msg(diff < 1e-5 * scale, "L = %zu: rel diff %g", n_layers, diff / scale);
    free(a);
    free(c);
    tu_rig_free(&tp);
    tu_rig_free(&bp);
    free(x);
    free(labels);
}

START_TEST(output_update_is_beta_times_bp)
{
    const size_t w1[2] = {12, 5}, w2[3] = {12, 32, 5}, w4[5] = {12, 32, 32, 32, 5};
    check_top_is_beta_bp(1, w1, PCMUP_RULE_TP);
    check_top_is_beta_bp(2, w2, PCMUP_RULE_DTP);
    check_top_is_beta_bp(4, w4, PCMUP_RULE_TP);
}
END_TEST

/* ---- coordinate checks -------------------------------------------------------- */

#define N_WIDTHS TU_COORD_N_WIDTHS

/* muP (b_L = 1/2, c = (0, 1, 1), mu_l = mu' r) at eta = 0.5, the BP check's
 * rate: the numpy prototype's run (its TP/DTP row: dh2 .155/.113/.105/.102,
 * df .33/.26/.23/.23 over 64..4096; docs/tp.md, section 8.1) settles within
 * 1.5x; allow the same 3x band as BP's and PC's checks over 64..2048, and
 * 1.5x between the two largest widths. Everything must move. */
static void check_mup_flat(pcmup_rule kind, const char *name)
{
    const tu_coord_config cfg = {kind, PCMUP_PRESET_MUP_TP, 0.0, 0.5};
    double res[N_WIDTHS][3];
    tu_coord_sweep(&cfg, NAN, name, res);
    for (int j = 0; j < 3; j++) {
        double lo = INFINITY, hi = 0;
        for (int k = 0; k < N_WIDTHS; k++) {
            lo = fmin(lo, res[k][j]);
            hi = fmax(hi, res[k][j]);
        }
        ck_assert_msg(lo > 1e-2 && hi / lo < 3.0, "signal %d: band %g..%g", j, lo, hi);
        double last = res[N_WIDTHS - 1][j] / res[N_WIDTHS - 2][j];
        ck_assert_msg(last > 1 / 1.5 && last < 1.5, "signal %d: 1024 -> 2048 ratio %g", j, last);
    }
}

START_TEST(tp_mup_is_flat) { check_mup_flat(PCMUP_RULE_TP, "TP muP"); }
END_TEST
START_TEST(dtp_mup_is_flat) { check_mup_flat(PCMUP_RULE_DTP, "DTP muP"); }
END_TEST

/* b_L = 1 (BP's muP output layer) with TP's c: f = Theta(M^-1/2) at init, so
 * the top regression Q*_L ~ h f^T / mu_L and the output's updates fade with
 * width (the numpy prototype: df .33 -> .13 over 64..4096; why TP keeps
 * b_L = 1/2: docs/tp.md, section 6): df must shrink by at least a third from
 * 64 to 2048 while muP's does not. SP (one learning rate, width-independent
 * damping): df grows by orders of magnitude (the prototype: 8.7e8 at 4096)
 * and dh2 grows too (measured 1.9x for TP, 4x for DTP over 64..2048; the
 * prototype 5x over 64..4096). */
static void check_wrong_scalings(pcmup_rule kind, const char *name)
{
    char label[64];
    double res[N_WIDTHS][3];
    const tu_coord_config lazy = {kind, PCMUP_PRESET_MUP_TP, 0.0, 0.5};
    snprintf(label, sizeof label, "%s b_L = 1", name);
    tu_coord_sweep(&lazy, 1.0, label, res);
    ck_assert_msg(res[N_WIDTHS - 1][2] < (2.0 / 3.0) * res[0][2], "df %g -> %g", res[0][2],
                  res[N_WIDTHS - 1][2]);
    for (int k = 1; k < N_WIDTHS; k++)
        ck_assert_msg(res[k][2] < res[k - 1][2] * 1.05, "df rises at M = %zu", tu_coord_widths[k]);
    const tu_coord_config sp = {kind, PCMUP_PRESET_SP, 0.0, 0.5};
    snprintf(label, sizeof label, "%s SP", name);
    tu_coord_sweep(&sp, NAN, label, res);
    ck_assert(isfinite(res[0][2]));
    ck_assert_msg(res[N_WIDTHS - 1][2] / res[0][2] > 100, "SP df grows only %g x",
                  res[N_WIDTHS - 1][2] / res[0][2]);
    ck_assert_msg(res[N_WIDTHS - 1][1] / res[0][1] > 1.5, "SP dh2 grows only %g x",
                  res[N_WIDTHS - 1][1] / res[0][1]);
}

START_TEST(tp_wrong_scalings) { check_wrong_scalings(PCMUP_RULE_TP, "TP"); }
END_TEST
START_TEST(dtp_wrong_scalings) { check_wrong_scalings(PCMUP_RULE_DTP, "DTP"); }
END_TEST

/* Why TP needs b_L = 1/2 (docs/tp.md, section 6), on the first step (DTP,
 * closed form). With b_L = 1/2, f = Theta(1) and Q*_L = Theta(1): the top
 * hidden target difference ||t_{L-1} - h_{L-1}|| / sqrt(M) and the share of
 * h_{L-1} that G_L(f) fails to reconstruct stay put as M grows. With
 * b_L = 1, f = Theta(M^-1/2): once B |f|^2 << mu_L, Q*_L ~ h f^T / mu_L
 * fades like M^-1/2, so DTP's top target difference fades and G_L(f) -> 0,
 * which leaves TP's target t_{L-1} = G_L(t_L) at 0 (its difference from h is
 * -h: the unreconstructed share -> 1). Over 64..2048 the crossover from the
 * regression regime (B |f|^2 >> mu_L at M = 64) is still under way, so the
 * fade is partial (the numpy prototype's dh2 row for b_L = 1 decays the same
 * slow way); the bounds below sit between the two regimes' measured values. */
static void top_signals(size_t m, double b_out, double *target, double *unreconstructed)
{
    const size_t widths[4] = {64, m, m, 10};
    float *x = tu_gaussian(32 * 64, 1);
    int32_t *labels = tu_cyclic_labels(32, 10);
    pcmup_param *p;
    TU_OK(pcmup_param_create(&p, 3, PCMUP_PRESET_MUP_TP, NULL));
    TU_OK(pcmup_param_set_layer(p, 3, PCMUP_LAYER_B, b_out));
    tu_rig r = tu_rig_make(PCMUP_RULE_DTP, p, widths, PCMUP_ACT_TANH, 1234, 0);
    float *h = malloc(32 * m * sizeof *h);
    TU_OK(pcmup_net_forward_layer(r.net, x, 32 * r.widths[0], 32, 2, PCMUP_SIGNAL_POST, h,
                                  32 * r.widths[2]));
    double scale = 0.0;
    for (size_t i = 0; i < 32 * m; i++)
        scale += 0.5 * (double)h[i] * h[i] / 32.0;
    TU_OK(pcmup_algo_step(r.algo, x, 32 * r.widths[0], labels, 32, NULL));
    double d[3], loss[2];
    TU_OK(pcmup_tp_target_distances(r.algo, d, 3));
    TU_OK(pcmup_tp_feedback_loss(r.algo, NULL, loss, 2));
    *target = d[1] / sqrt((double)m);
    *unreconstructed = loss[1] / scale;
    tu_rig_free(&r);
    free(h);
    free(x);
    free(labels);
}

START_TEST(top_targets_fade_with_b_out_one)
{
    double t[2][2], u[2][2]; /* [b_L 1/2, 1][M 64, 2048] */
    for (int k = 0; k < 2; k++)
        for (int j = 0; j < 2; j++)
            top_signals(j ? 2048 : 64, k ? 1.0 : 0.5, &t[k][j], &u[k][j]);
    printf("top target difference per coordinate, M 64 -> 2048: b_L 1/2 %.4g -> %.4g, "
           "b_L 1 %.4g -> %.4g\n", t[0][0], t[0][1], t[1][0], t[1][1]);
    printf("share of h_2 not reconstructed from f, M 64 -> 2048: b_L 1/2 %.4g -> %.4g, "
           "b_L 1 %.4g -> %.4g\n", u[0][0], u[0][1], u[1][0], u[1][1]);
    /* measured: target 0.336 -> 0.321 (1/2), 0.336 -> 0.218 (1); share
     * 0.45 -> 0.58 (1/2), 0.45 -> 0.85 (1) */
    ck_assert_msg(t[0][1] > 0.8 * t[0][0], "b_L 1/2: target %g -> %g", t[0][0], t[0][1]);
    ck_assert_msg(t[1][1] < 0.75 * t[1][0], "b_L 1: target %g -> %g", t[1][0], t[1][1]);
    ck_assert_msg(u[0][1] < 0.7, "b_L 1/2: share %g -> %g", u[0][0], u[0][1]);
    ck_assert_msg(u[1][1] > 0.75 && u[1][1] > u[0][1] + 0.15, "b_L 1: share %g -> %g",
                  u[1][0], u[1][1]);
}
END_TEST

/* ---- alignment exponent (docs/tp.md, sections 6 and 8.2) --------------------- */

/* R(M) after one step from init on the coordinate check's setup (D = 64,
 * C = 10, B = 32, tanh, centred MSE, eta = 0.5), each algorithm under its
 * own muP. Returns the least-squares slope of log R on log M over
 * 256..2048, averaged over three seeds (net and data). */
static double alignment_exponent(pcmup_rule kind, pcmup_preset preset, double gbar)
{
    static const size_t ms[4] = {256, 512, 1024, 2048};
    static const char *const names[] = {"BP", "PC", "?", "TP", "DTP"};
    double mean = 0.0;
    for (unsigned seed = 1; seed <= 3; seed++) {
        double sx = 0, sy = 0, sxx = 0, sxy = 0;
        for (int k = 0; k < 4; k++) {
            const size_t widths[4] = {64, ms[k], ms[k], 10};
            float *x = tu_gaussian(32 * 64, seed);
            int32_t *labels = tu_cyclic_labels(32, 10);
            tu_rig r = tu_rig_make(kind, tu_param(3, preset, gbar), widths, PCMUP_ACT_TANH,
                                   1000 + seed, 1);
            TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_LR, 0.5));
            TU_OK(pcmup_algo_step(r.algo, x, 32 * r.widths[0], labels, 32, NULL));
            double ratio;
            TU_OK(pcmup_algo_alignment_ratio(r.algo, &ratio));
            if (seed == 1)
                printf("%s M=%5zu  R %.4g\n", names[kind], ms[k], ratio);
            double lx = log((double)ms[k]), ly = log(ratio);
            sx += lx, sy += ly, sxx += lx * lx, sxy += lx * ly;
            tu_rig_free(&r);
            free(x);
            free(labels);
        }
        mean += (4 * sxy - sx * sy) / (4 * sxx - sx * sx) / 3.0;
    }
    return mean;
}

/* BP sends dh_{L-1} through W_L^T: W_L dh sums M aligned terms, R ~ M
 * (omega 1; the numpy prototype measures 0.98), and so does PC
 * (gammabar_L = -1, prototype 0.99). TP's dh_{L-1} comes from a regression
 * on f and is not aligned with W_L: R ~ sqrt(M) (omega 1/2, the paper's
 * section 5; prototype 0.54). Measured here, single seeds: BP 0.967..0.985,
 * TP 0.44..0.54 (six seeds); the finite-width correction to R_BP is O(1)
 * against O(M), to R_TP O(1) against O(sqrt M) with a seed-to-seed spread of
 * about 0.035 in the slope over a factor 8 of width. The mean of three seeds
 * has a spread near 0.02, so 0.15 around 1/2 and 0.07 around 1 leave 5
 * standard deviations while still telling 1/2 from 1 apart. */
START_TEST(alignment_exponents)
{
    double bp = alignment_exponent(PCMUP_RULE_BP, PCMUP_PRESET_MUP_SGD, 0.0);
    double pc = alignment_exponent(PCMUP_RULE_PC, PCMUP_PRESET_MUP_PC, -1.0);
    double tp = alignment_exponent(PCMUP_RULE_TP, PCMUP_PRESET_MUP_TP, 0.0);
    printf("alignment exponent omega_L: BP %.3f, PC (gammabar -1) %.3f, TP %.3f\n", bp, pc, tp);
    ck_assert_msg(fabs(bp - 1.0) < 0.07, "BP omega %.3f", bp);
    ck_assert_msg(fabs(pc - 1.0) < 0.07, "PC omega %.3f", pc);
    ck_assert_msg(fabs(tp - 0.5) < 0.15, "TP omega %.3f", tp);
}
END_TEST

START_TEST(alignment_needs_a_recorded_step)
{
    const size_t widths[4] = {8, 16, 16, 3};
    float *x = tu_gaussian(4 * 8, 1);
    int32_t labels[4] = {0, 1, 2, 0};
    tu_rig r = make_rig(PCMUP_RULE_TP, PCMUP_PRESET_MUP_TP, 3, widths, PCMUP_ACT_TANH, 1);
    double ratio;
    TU_FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_algo_alignment_ratio(r.algo, &ratio));
    TU_OK(pcmup_algo_step(r.algo, x, 4 * r.widths[0], labels, 4, NULL));
    TU_OK(pcmup_algo_alignment_ratio(r.algo, &ratio));
    ck_assert(isfinite(ratio) && ratio > 0);
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_RECORD_UPDATES, 0));
    TU_OK(pcmup_algo_step(r.algo, x, 4 * r.widths[0], labels, 4, NULL));
    TU_FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_algo_alignment_ratio(r.algo, &ratio));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_algo_alignment_ratio(r.algo, NULL));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_algo_alignment_ratio(NULL, &ratio));
    tu_rig_free(&r);
    free(x);
}
END_TEST

/* ---- feedback weights of the algorithm ---------------------------------------------- */

static float *feedback_of(const pcmup_algo *tp, size_t l, size_t n)
{
    float *v = malloc(n * sizeof *v);
    TU_OK(pcmup_tp_get_feedback(tp, l, v, n));
    return v;
}

/* Drawn at the first trained step from the net's seed: N(0, sigma_V^2 /
 * M_l), the same bits for the same seed, different per layer; set/get round
 * trips; init_weights forgets them and the next step draws from the new
 * seed; each algorithm has its own, and only TP and DTP have any. */
START_TEST(feedback_weights_live_in_the_algorithm)
{
    const size_t widths[4] = {10, 256, 256, 10}, b = 8;
    float *x = tu_gaussian(b * 10, 2);
    int32_t *labels = tu_cyclic_labels(b, 10);
    tu_rig r = make_rig(PCMUP_RULE_DTP, PCMUP_PRESET_MUP_TP, 3, widths, PCMUP_ACT_TANH, 77);
    const size_t n2 = 256 * 256, n3 = 256 * 10;
    float *v = malloc(n2 * sizeof *v);
    TU_FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_tp_get_feedback(r.algo, 2, v, n2));
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_TP_FEEDBACK, PCMUP_TP_FEEDBACK_TRAINED));
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_TP_FB_INIT_STD, 2.0));
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_TP_FB_LR, 0.0));
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_TP_FB_NOISE, 0.0));
    TU_OK(pcmup_algo_step(r.algo, x, b * r.widths[0], labels, b, NULL));
    float *v2 = feedback_of(r.algo, 2, n2), *v3 = feedback_of(r.algo, 3, n3);
    double s2 = 0, s3 = 0;
    for (size_t i = 0; i < n2; i++)
        s2 += (double)v2[i] * v2[i];
    for (size_t i = 0; i < n3; i++)
        s3 += (double)v3[i] * v3[i];
    /* std sigma_V / sqrt(M_l): 2/16 for V_2 (fan-in 256), 2/sqrt(10) for V_3 */
    ck_assert_double_eq_tol(sqrt(s2 / n2), 2.0 / 16.0, 0.01 * 2.0 / 16.0);
    ck_assert_double_eq_tol(sqrt(s3 / n3), 2.0 / sqrt(10.0), 0.05 * 2.0 / sqrt(10.0));

    /* The same seed elsewhere draws the same V. */
    tu_rig twin = make_rig(PCMUP_RULE_TP, PCMUP_PRESET_MUP_TP, 3, widths, PCMUP_ACT_TANH, 77);
    TU_OK(pcmup_algo_set(twin.algo, PCMUP_SET_TP_FEEDBACK, PCMUP_TP_FEEDBACK_TRAINED));
    TU_OK(pcmup_algo_set(twin.algo, PCMUP_SET_TP_FB_INIT_STD, 2.0));
    TU_OK(pcmup_algo_set(twin.algo, PCMUP_SET_TP_FB_LR, 0.0));
    TU_OK(pcmup_algo_step(twin.algo, x, b * twin.widths[0], labels, b, NULL));
    float *t2 = feedback_of(twin.algo, 2, n2);
    ck_assert(memcmp(t2, v2, n2 * sizeof *v2) == 0);
    free(t2);
    tu_rig_free(&twin);

    /* Round trip, and a set layer is kept by the next step (lr 0). */
    for (size_t i = 0; i < n3; i++)
        v[i] = (float)i / 1000.0f;
    TU_OK(pcmup_tp_set_feedback(r.algo, 3, v, n3));
    TU_OK(pcmup_algo_step(r.algo, x, b * r.widths[0], labels, b, NULL));
    float *back = feedback_of(r.algo, 3, n3);
    ck_assert(memcmp(back, v, n3 * sizeof *v) == 0);
    free(back);

    /* A new seed: forgotten, then drawn again, differently. */
    TU_OK(pcmup_net_init_weights(r.net, 78));
    TU_FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_tp_get_feedback(r.algo, 2, v, n2));
    TU_OK(pcmup_algo_step(r.algo, x, b * r.widths[0], labels, b, NULL));
    float *w2 = feedback_of(r.algo, 2, n2);
    ck_assert(memcmp(w2, v2, n2 * sizeof *v2) != 0);
    free(w2);

    /* Argument checks: layers 2..L, exact counts, finite values. */
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_tp_get_feedback(r.algo, 1, v, 10 * 256));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_tp_set_feedback(r.algo, 4, v, 10));
    TU_FAILS(PCMUP_ERR_SHAPE, pcmup_tp_get_feedback(r.algo, 2, v, n2 - 1));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_tp_get_feedback(r.algo, 2, NULL, n2));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_tp_set_feedback(NULL, 2, v, n2));
    pcmup_algo *other, *bp;
    TU_OK(pcmup_algo_create(&other, PCMUP_RULE_TP, r.net, 1, NULL));
    TU_FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_tp_get_feedback(other, 2, v, n2));
    TU_OK(pcmup_algo_create(&bp, PCMUP_RULE_BP, r.net, 1, NULL));
    TU_FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_tp_get_feedback(bp, 2, v, n2));
    TU_FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_tp_set_feedback(bp, 2, v, n2));
    pcmup_algo_free(bp);
    pcmup_algo_free(other);
    float *before = feedback_of(r.algo, 3, n3);
    v[5] = NAN;
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_tp_set_feedback(r.algo, 3, v, n3));
    float *after = feedback_of(r.algo, 3, n3);
    ck_assert(memcmp(before, after, n3 * sizeof *v) == 0);
    free(before);
    free(after);
    free(v);
    free(v2);
    free(v3);
    tu_rig_free(&r);
    free(x);
    free(labels);
}
END_TEST

/* The epoch tests' problem: 64 samples of dimension 6, three classes, on
 * a DTP rule with trained feedback (widths 6, 16, 16, 3). */
typedef struct {
    float *x;
    int32_t *labels;
    pcmup_dataset *ds;
} epoch_problem;

static epoch_problem make_epoch_problem(void)
{
    const size_t n = 64;
    epoch_problem e = {tu_gaussian(n * 6, 12), tu_cyclic_labels(n, 3), NULL};
    TU_OK(pcmup_dataset_from_arrays(&e.ds, n, 6, 3, e.x, n * 6, e.labels, NULL));
    return e;
}

static void free_epoch_problem(epoch_problem *e)
{
    pcmup_dataset_free(e->ds);
    free(e->x);
    free(e->labels);
}

static tu_rig trained_dtp_rig(void)
{
    const size_t widths[4] = {6, 16, 16, 3};
    tu_rig r = make_rig(PCMUP_RULE_DTP, PCMUP_PRESET_MUP_TP, 3, widths, PCMUP_ACT_TANH, 3);
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_TP_FEEDBACK, PCMUP_TP_FEEDBACK_TRAINED));
    return r;
}

/* An epoch that fails restores the trained feedback with the weights: a
 * huge learning rate makes the second step's loss non-finite. */
START_TEST(failed_epoch_restores_feedback)
{
    epoch_problem e = make_epoch_problem();
    tu_rig r = trained_dtp_rig();
    TU_OK(pcmup_algo_train_epoch(r.algo, e.ds, 16, NULL)); /* draws and trains V */
    float *v_start = feedback_of(r.algo, 2, 16 * 16), w_start[96], w_now[96];
    TU_OK(pcmup_net_get_weights(r.net, 1, w_start, 96));
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_LR, 1e6));
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_TP_FB_LR, 1e6));
    TU_FAILS(PCMUP_ERR_DIVERGED, pcmup_algo_train_epoch(r.algo, e.ds, 16, NULL));
    float *v_now = feedback_of(r.algo, 2, 16 * 16);
    TU_OK(pcmup_net_get_weights(r.net, 1, w_now, 96));
    ck_assert(memcmp(v_start, v_now, 16 * 16 * sizeof(float)) == 0);
    ck_assert(memcmp(w_start, w_now, sizeof w_now) == 0);
    free(v_start);
    free(v_now);
    tu_rig_free(&r);
    free_epoch_problem(&e);
}
END_TEST

/* A failed epoch and a trial update that drew the feedback for the first
 * time undo the draw: afterwards V is "not drawn yet", and the next real
 * step draws exactly what a twin that never had them draws. */
START_TEST(undone_steps_forget_a_first_draw)
{
    epoch_problem e = make_epoch_problem();
    tu_rig r = trained_dtp_rig(), twin = trained_dtp_rig();
    float v[16 * 16];
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_LR, 1e6));
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_TP_FB_LR, 1e6));
    TU_FAILS(PCMUP_ERR_DIVERGED, pcmup_algo_train_epoch(r.algo, e.ds, 16, NULL));
    TU_FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_tp_get_feedback(r.algo, 2, v, 16 * 16));
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_LR, 0.05));
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_TP_FB_LR, 0.05));
    float *skip[3] = {NULL, NULL, NULL};
    TU_OK(pcmup_algo_trial_update(r.algo, e.x, 16 * r.widths[0], e.labels, 16, skip, 3));
    TU_FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_tp_get_feedback(r.algo, 2, v, 16 * 16));
    TU_OK(pcmup_algo_step(r.algo, e.x, 16 * r.widths[0], e.labels, 16, NULL));
    TU_OK(pcmup_algo_step(twin.algo, e.x, 16 * twin.widths[0], e.labels, 16, NULL));
    const size_t counts[2] = {16 * 16, 16 * 3};
    for (size_t l = 2; l <= 3; l++) {
        float *mine = feedback_of(r.algo, l, counts[l - 2]);
        float *theirs = feedback_of(twin.algo, l, counts[l - 2]);
        ck_assert_msg(memcmp(mine, theirs, counts[l - 2] * sizeof *mine) == 0, "V_%zu differs",
                      l);
        free(mine);
        free(theirs);
    }
    tu_rig_free(&r);
    tu_rig_free(&twin);
    free_epoch_problem(&e);
}
END_TEST

/* ---- settings and parameterization ------------------------------------------------- */

START_TEST(invalid_settings_are_rejected)
{
    const size_t widths[4] = {8, 16, 16, 3};
    tu_rig r = make_rig(PCMUP_RULE_DTP, PCMUP_PRESET_MUP_TP, 3, widths, PCMUP_ACT_TANH, 1);
    const struct {
        pcmup_setting key;
        double value;
    } bad[] = {
        {PCMUP_SET_TP_BETA, 0},          {PCMUP_SET_TP_BETA, -1},          {PCMUP_SET_TP_BETA, NAN},
        {PCMUP_SET_TP_BETA, INFINITY},   {PCMUP_SET_TP_BETA, 2e6},         {PCMUP_SET_TP_FEEDBACK, 2},
        {PCMUP_SET_TP_FEEDBACK, 0.5},    {PCMUP_SET_TP_FEEDBACK, -1},      {PCMUP_SET_TP_FB_DAMPING, 0},
        {PCMUP_SET_TP_FB_DAMPING, -1},   {PCMUP_SET_TP_FB_DAMPING, NAN},   {PCMUP_SET_TP_FB_DAMPING_TOP, -0.5},
        {PCMUP_SET_TP_FB_DAMPING_TOP, 0}, {PCMUP_SET_TP_FB_LR, -1e-3},     {PCMUP_SET_TP_FB_LR, NAN},
        {PCMUP_SET_TP_FB_STEPS, 0},      {PCMUP_SET_TP_FB_STEPS, 1.5},     {PCMUP_SET_TP_FB_STEPS, 1e5},
        {PCMUP_SET_TP_FB_NOISE, -0.1},   {PCMUP_SET_TP_FB_NOISE, NAN},     {PCMUP_SET_TP_FB_ACTIVATION, PCMUP_ACT_RELU},
        {PCMUP_SET_TP_FB_ACTIVATION, 3}, {PCMUP_SET_TP_FB_ACTIVATION, -1}, {PCMUP_SET_TP_FB_INIT_STD, -1},
        {PCMUP_SET_TP_FB_INIT_STD, NAN},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double before, after;
        TU_OK(pcmup_algo_get(r.algo, bad[i].key, &before));
        TU_FAILS(PCMUP_ERR_INVALID, pcmup_algo_set(r.algo, bad[i].key, bad[i].value));
        TU_OK(pcmup_algo_get(r.algo, bad[i].key, &after));
        ck_assert_msg(before == after, "setting %d changed", (int)bad[i].key);
    }
    /* Defaults and bounds as documented. */
    const struct {
        pcmup_setting key;
        double def, lo, hi;
    } table[] = {
        {PCMUP_SET_TP_BETA, 1, 0, 1e6},
        {PCMUP_SET_TP_FEEDBACK, PCMUP_TP_FEEDBACK_CLOSED, 0, 1},
        {PCMUP_SET_TP_FB_DAMPING, 1, 0, 1e6},
        {PCMUP_SET_TP_FB_DAMPING_TOP, 1, 0, 1e6},
        {PCMUP_SET_TP_FB_LR, 0.05, 0, 1e6},
        {PCMUP_SET_TP_FB_STEPS, 1, 1, 1e4},
        {PCMUP_SET_TP_FB_NOISE, 0.1, 0, 1e3},
        {PCMUP_SET_TP_FB_ACTIVATION, PCMUP_ACT_IDENTITY, 0, 2},
        {PCMUP_SET_TP_FB_INIT_STD, 1, 0, 1e6},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        double v;
        TU_OK(pcmup_algo_get(r.algo, table[i].key, &v));
        ck_assert_double_eq(v, table[i].def);
        pcmup_bounds b = pcmup_setting_bounds(table[i].key);
        TU_OK(b.status);
        ck_assert_double_eq(b.lo, table[i].lo);
        ck_assert_double_eq(b.hi, table[i].hi);
    }
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_TP_FB_ACTIVATION, PCMUP_ACT_TANH));
    /* TP settings do not exist for BP or PC; GNT's numbers are not known here. */
    tu_rig bp = make_rig(PCMUP_RULE_BP, PCMUP_PRESET_MUP_SGD, 3, widths, PCMUP_ACT_TANH, 1);
    TU_FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_algo_set(bp.algo, PCMUP_SET_TP_BETA, 1));
    int accepts = 1;
    TU_OK(pcmup_setting_accepts(PCMUP_SET_TP_FB_LR, PCMUP_RULE_PC, &accepts));
    ck_assert_int_eq(accepts, 0);
    TU_FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_algo_set(r.algo, PCMUP_SET_PC_GAMMA_HIDDEN, 1));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_algo_set(r.algo, (pcmup_setting)30, 1));
    /* Diagnostics: TP rules only, after a step, exact counts. */
    double d[3];
    TU_FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_tp_target_distances(r.algo, d, 3));
    TU_FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_tp_feedback_loss(r.algo, d, d, 2));
    float *x = tu_gaussian(4 * 8, 1);
    int32_t labels[4] = {0, 1, 2, 0};
    TU_OK(pcmup_algo_step(bp.algo, x, 4 * bp.widths[0], labels, 4, NULL));
    TU_FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_tp_target_distances(bp.algo, d, 3));
    TU_OK(pcmup_algo_step(r.algo, x, 4 * r.widths[0], labels, 4, NULL));
    TU_OK(pcmup_tp_target_distances(r.algo, d, 3));
    TU_FAILS(PCMUP_ERR_SHAPE, pcmup_tp_target_distances(r.algo, d, 2));
    TU_FAILS(PCMUP_ERR_SHAPE, pcmup_tp_feedback_loss(r.algo, d, d, 3));
    TU_OK(pcmup_tp_feedback_loss(r.algo, NULL, d, 2));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_tp_target_distances(r.algo, NULL, 3));
    free(x);
    tu_rig_free(&bp);
    tu_rig_free(&r);
}
END_TEST

/* The MUP_TP row for L = 2..5 and its feedback exponents; every other
 * preset resets them to 0; bounds of the keys. */
START_TEST(mup_tp_preset)
{
    for (size_t n_layers = 1; n_layers <= 5; n_layers++) {
        pcmup_param *p;
        TU_OK(pcmup_param_create(&p, n_layers, PCMUP_PRESET_MUP_TP, NULL));
        for (size_t l = 1; l <= n_layers; l++) {
            double b, c;
            TU_OK(pcmup_param_get_layer(p, l, PCMUP_LAYER_B, &b));
            TU_OK(pcmup_param_get_layer(p, l, PCMUP_LAYER_C, &c));
            ck_assert_double_eq(b, l == 1 ? 0.0 : 0.5);
            ck_assert_double_eq(c, l == 1 ? 0.0 : 1.0);
        }
        double x;
        TU_OK(pcmup_param_get(p, PCMUP_PARAM_FB_DAMPING_EXP, &x));
        ck_assert_double_eq(x, 1.0);
        TU_OK(pcmup_param_get(p, PCMUP_PARAM_FB_LR_EXP, &x));
        ck_assert_double_eq(x, 1.0);
        TU_OK(pcmup_param_apply_preset(p, PCMUP_PRESET_MUP_SGD, 0.0, 1.0));
        TU_OK(pcmup_param_get(p, PCMUP_PARAM_FB_DAMPING_EXP, &x));
        ck_assert_double_eq(x, 0.0);
        TU_OK(pcmup_param_get(p, PCMUP_PARAM_FB_LR_EXP, &x));
        ck_assert_double_eq(x, 0.0);
        pcmup_param_free(p);
    }
    pcmup_param *p;
    TU_OK(pcmup_param_create(&p, 3, PCMUP_PRESET_SP, NULL));
    double lo, hi, x;
    TU_OK(pcmup_param_bounds(PCMUP_PARAM_FB_DAMPING_EXP, &lo, &hi));
    ck_assert(lo == 0 && hi == 2);
    TU_OK(pcmup_param_bounds(PCMUP_PARAM_FB_LR_EXP, &lo, &hi));
    ck_assert(lo == -2 && hi == 2);
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_param_set(p, PCMUP_PARAM_FB_DAMPING_EXP, -0.1));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_param_set(p, PCMUP_PARAM_FB_LR_EXP, 2.5));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_param_set(p, PCMUP_PARAM_FB_LR_EXP, NAN));
    TU_OK(pcmup_param_get(p, PCMUP_PARAM_FB_LR_EXP, &x));
    ck_assert_double_eq(x, 0.0);
    /* Past the last preset. */
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_param_apply_preset(p, (pcmup_preset)6, 0.0, 1.0));
    pcmup_param_free(p);
}
END_TEST

/* ---- memory --------------------------------------------------------------------- */

/* After the first step at a batch size (and, for trained feedback, the
 * network's feedback storage), steps allocate nothing: net and algorithm
 * both use a counting allocator. A smaller batch reuses the scratch. */
static void check_no_allocation(pcmup_rule kind, pcmup_tp_feedback fb, pcmup_activation psi)
{
    tu_counter counter;
    pcmup_allocator a = tu_counting_allocator(&counter);
    const size_t widths[5] = {20, 48, 40, 32, 10}, b = 24;
    pcmup_param *p;
    TU_OK(pcmup_param_create(&p, 4, PCMUP_PRESET_MUP_TP, &a));
    pcmup_net *net;
    TU_OK(pcmup_net_create(&net, widths, 5, PCMUP_ACT_TANH, 0, p, 1, &a));
    pcmup_algo *algo;
    TU_OK(pcmup_algo_create(&algo, kind, net, 1, &a));
    TU_OK(pcmup_algo_set(algo, PCMUP_SET_TP_FEEDBACK, fb));
    TU_OK(pcmup_algo_set(algo, PCMUP_SET_TP_FB_ACTIVATION, psi));
    TU_OK(pcmup_algo_set(algo, PCMUP_SET_TP_FB_STEPS, 2));
    TU_OK(pcmup_algo_set(algo, PCMUP_SET_RECORD_UPDATES, 1));
    float *x = tu_gaussian(b * 20, 4);
    int32_t *labels = tu_cyclic_labels(b, 10);
    TU_OK(pcmup_algo_step(algo, x, b * widths[0], labels, b, NULL));
    size_t calls = counter.n_malloc + counter.n_realloc;
    for (int t = 0; t < 5; t++)
        TU_OK(pcmup_algo_step(algo, x, (t % 2 ? b : b / 2) * widths[0], labels, t % 2 ? b : b / 2,
                              NULL));
    ck_assert_uint_eq(counter.n_malloc + counter.n_realloc, calls);
    pcmup_algo_free(algo);
    pcmup_net_free(net);
    pcmup_param_free(p);
    ck_assert_int_eq(counter.live, 0);
    free(x);
    free(labels);
}

START_TEST(steps_do_not_allocate)
{
    check_no_allocation(PCMUP_RULE_TP, PCMUP_TP_FEEDBACK_CLOSED, PCMUP_ACT_IDENTITY);
    check_no_allocation(PCMUP_RULE_DTP, PCMUP_TP_FEEDBACK_CLOSED, PCMUP_ACT_IDENTITY);
    check_no_allocation(PCMUP_RULE_DTP, PCMUP_TP_FEEDBACK_TRAINED, PCMUP_ACT_IDENTITY);
    check_no_allocation(PCMUP_RULE_TP, PCMUP_TP_FEEDBACK_TRAINED, PCMUP_ACT_TANH);
}
END_TEST

/* Allocation failures in the first step leave the weights as they were
 * and a later step succeeds. */
START_TEST(allocation_failure_changes_nothing)
{
    const size_t widths[4] = {10, 24, 24, 4}, b = 8;
    float *x = tu_gaussian(b * 10, 4);
    int32_t *labels = tu_cyclic_labels(b, 4);
    for (size_t k = 1; k <= 12; k++) {
        tu_counter counter;
        pcmup_allocator a = tu_counting_allocator(&counter);
        pcmup_param *p;
        TU_OK(pcmup_param_create(&p, 3, PCMUP_PRESET_MUP_TP, NULL));
        pcmup_net *net;
        TU_OK(pcmup_net_create(&net, widths, 4, PCMUP_ACT_TANH, 0, p, 1, &a));
        pcmup_algo *algo;
        TU_OK(pcmup_algo_create(&algo, PCMUP_RULE_DTP, net, 1, &a));
        TU_OK(pcmup_algo_set(algo, PCMUP_SET_TP_FEEDBACK, PCMUP_TP_FEEDBACK_TRAINED));
        float w[240], w2[240];
        TU_OK(pcmup_net_get_weights(net, 1, w, 240));
        counter.fail_after = k;
        pcmup_status s = pcmup_algo_step(algo, x, b * widths[0], labels, b, NULL);
        ck_assert(s == PCMUP_OK || s == PCMUP_ERR_NOMEM);
        if (s == PCMUP_ERR_NOMEM) {
            TU_OK(pcmup_net_get_weights(net, 1, w2, 240));
            ck_assert(memcmp(w, w2, sizeof w) == 0);
            counter.fail_after = 0;
            TU_OK(pcmup_algo_step(algo, x, b * widths[0], labels, b, NULL));
        }
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
    Suite *s = suite_create("tp");
    TCase *exact = tcase_create("exact");
    tcase_add_test(exact, dtp_inverse_feedback_is_gauss_newton);
    tcase_add_test(exact, tp_inverse_feedback_is_gauss_newton);
    tcase_add_test(exact, closed_form_satisfies_normal_equations);
    tcase_add_test(exact, closed_form_reconstructs_as_damping_vanishes);
    tcase_add_test(exact, output_update_is_beta_times_bp);
    suite_add_tcase(s, exact);
    TCase *feedback = tcase_create("feedback");
    tcase_add_test(feedback, trained_feedback_descends_linear);
    tcase_add_test(feedback, trained_feedback_descends_tanh);
    tcase_add_test(feedback, trained_feedback_descends_with_noise);
    tcase_add_test(feedback, feedback_weights_live_in_the_algorithm);
    tcase_add_test(feedback, undone_steps_forget_a_first_draw);
    tcase_add_test(feedback, failed_epoch_restores_feedback);
    suite_add_tcase(s, feedback);
    TCase *api = tcase_create("api");
    tcase_add_test(api, invalid_settings_are_rejected);
    tcase_add_test(api, mup_tp_preset);
    tcase_add_test(api, alignment_needs_a_recorded_step);
    tcase_add_test(api, steps_do_not_allocate);
    tcase_add_test(api, allocation_failure_changes_nothing);
    suite_add_tcase(s, api);
    TCase *width = tcase_create("width");
    tcase_set_timeout(width, 900);
    tcase_add_test(width, tp_mup_is_flat);
    tcase_add_test(width, dtp_mup_is_flat);
    tcase_add_test(width, tp_wrong_scalings);
    tcase_add_test(width, dtp_wrong_scalings);
    tcase_add_test(width, top_targets_fade_with_b_out_one);
    tcase_add_test(width, alignment_exponents);
    suite_add_tcase(s, width);
    return tu_run_suite(s);
}
