/* SPDX-License-Identifier: MIT */
/*
 * test_bp.c -- backpropagation with SGD against independent truth: a step
 * computed by hand, finite differences of the loss, the abc-equivalence
 * of the parameterization, closed forms of momentum and weight decay, and
 * the contracts of the step (no allocation after the first, divergence
 * leaves the weights, seeds reproduce bitwise).
 */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers ----------------------------------------------------- */

/* A net whose parameterization is neutral: SP (a = 0, c = 0), so every
 * multiplier and learning-rate factor is 1 whatever the widths. */
static pcmup_net *neutral_net(size_t n_layers, const size_t *widths, pcmup_activation act,
                              unsigned flags, uint64_t seed)
{
    pcmup_param *p;
    TU_OK(pcmup_param_create(&p, n_layers, PCMUP_PRESET_SP, NULL));
    pcmup_net *net;
    TU_OK(pcmup_net_create(&net, widths, n_layers + 1, act, flags, p, seed, NULL));
    pcmup_param_free(p);
    return net;
}

static float *get_all_weights(const pcmup_net *net, size_t *total)
{
    size_t n_layers, sum = 0;
    TU_OK(pcmup_net_n_layers(net, &n_layers));
    for (size_t l = 1; l <= n_layers; l++) {
        size_t o, i;
        TU_OK(pcmup_net_layer_shape(net, l, &o, &i));
        sum += o * i;
    }
    float *w = malloc(sum * sizeof *w), *p = w;
    for (size_t l = 1; l <= n_layers; l++) {
        size_t o, i;
        TU_OK(pcmup_net_layer_shape(net, l, &o, &i));
        TU_OK(pcmup_net_get_weights(net, l, p, o * i));
        p += o * i;
    }
    *total = sum;
    return w;
}

/* ---- one step by hand -------------------------------------------------- */

/* 2 -> 2 -> 1 tanh network, MSE with plain one-hot... a single output and
 * class 0 means target y = 1 (plain) or 0 (centred, 1 - 1/C with C = 1).
 * Everything below is the chain rule written out for this net. */
START_TEST(step_matches_hand_computation)
{
    const size_t widths[] = {2, 2, 1};
    pcmup_net *net = neutral_net(2, widths, PCMUP_ACT_TANH, 0, 1);
    const float w1[4] = {0.5f, -0.3f, 0.2f, 0.8f}; /* (2, 2) */
    const float w2[2] = {0.7f, -0.4f};             /* (1, 2) */
    TU_OK(pcmup_net_set_weights(net, 1, w1, 4));
    TU_OK(pcmup_net_set_weights(net, 2, w2, 2));
    const float x[4] = {1.0f, 2.0f, -0.5f, 0.25f}; /* two samples */
    const int32_t labels[2] = {0, 0};
    pcmup_algo *bp;
    TU_OK(pcmup_algo_create(&bp, PCMUP_RULE_BP, net, 1, NULL));
    TU_OK(pcmup_algo_set(bp, PCMUP_SET_MSE_CENTRED, 0));
    const double eta = 0.3;
    TU_OK(pcmup_algo_set(bp, PCMUP_SET_LR, eta));

    double g1[4] = {0}, g2[2] = {0}, loss = 0;
    for (int b = 0; b < 2; b++) {
        const float *xb = x + 2 * b;
        double h[2], dh[2];
        for (int j = 0; j < 2; j++)
            h[j] = tanh(w1[2 * j] * xb[0] + w1[2 * j + 1] * xb[1]);
        double f = w2[0] * h[0] + w2[1] * h[1];
        double e = f - 1.0; /* y = e_0 = 1 */
        loss += 0.5 * e * e / 2;
        for (int j = 0; j < 2; j++) {
            g2[j] += e * h[j] / 2;
            dh[j] = e * w2[j] * (1 - h[j] * h[j]);
            g1[2 * j] += dh[j] * xb[0] / 2;
            g1[2 * j + 1] += dh[j] * xb[1] / 2;
        }
    }
    double got_loss;
    TU_OK(pcmup_algo_step(bp, x, 2 * widths[0], labels, 2, &got_loss));
    ck_assert_double_eq_tol(got_loss, loss, 1e-6);
    float w1n[4], w2n[2];
    TU_OK(pcmup_net_get_weights(net, 1, w1n, 4));
    TU_OK(pcmup_net_get_weights(net, 2, w2n, 2));
    for (int i = 0; i < 4; i++)
        ck_assert_double_eq_tol(w1n[i], w1[i] - eta * g1[i], 1e-6);
    for (int i = 0; i < 2; i++)
        ck_assert_double_eq_tol(w2n[i], w2[i] - eta * g2[i], 1e-6);
    pcmup_algo_free(bp);
    pcmup_net_free(net);
}
END_TEST

/* ---- finite differences -------------------------------------------------- */

/* Central differences of the batch-mean loss (evaluated through the public
 * API, accumulated in double) against the update BP applies with eta = 1
 * (so W_after - W_before = -gradient exactly, up to the float rounding of
 * W). Error budget: truncation h^2/6 |l'''| ~ 2e-7 for h = 1e-3 on these
 * O(1) signals; float rounding of the loss ~ 1e-7 * |l| / (2h) ~ 1e-4.
 * Tolerance 2e-3 relative to the largest gradient entry, plus 3e-4. */
static double loss_of(pcmup_algo *algo, const pcmup_dataset *ds)
{
    double loss;
    TU_OK(pcmup_algo_evaluate(algo, ds, &loss, NULL));
    return loss;
}

/* Central differences hold only where the loss is smooth: under ReLU no
 * hidden pre-activation may lie within reach of a step (a weight moved by h
 * moves it by about h times an O(1) signal), or the difference straddles a
 * kink. 10 h keeps every one clear. */
static void assert_away_from_kinks(pcmup_net *net, const float *x, size_t batch,
                                   const size_t *widths, double margin)
{
    for (size_t l = 1; l < 3; l++) {
        float *u = malloc(batch * widths[l] * sizeof *u);
        TU_OK(pcmup_net_forward_layer(net, x, batch * widths[0], batch, l, PCMUP_SIGNAL_PRE, u,
                                      batch * widths[l]));
        for (size_t i = 0; i < batch * widths[l]; i++)
            ck_assert_msg(fabs(u[i]) > margin, "layer %zu: pre-activation %g at a ReLU kink", l,
                          u[i]);
        free(u);
    }
}

static void check_fd(pcmup_activation act, pcmup_loss loss_kind, int centred, unsigned flags)
{
    const size_t widths[] = {5, 7, 6, 4}, batch = 6;
    pcmup_net *net = neutral_net(3, widths, act, flags, 11);
    float *x = tu_uniform(batch * widths[0], 4); /* clear of ReLU kinks */
    const int32_t labels[6] = {0, 3, 1, 2, 2, 0};
    pcmup_dataset *ds;
    TU_OK(pcmup_dataset_from_arrays(&ds, batch, widths[0], 4, x, batch * widths[0], labels, NULL));
    pcmup_algo *algo;
    TU_OK(pcmup_algo_create(&algo, PCMUP_RULE_BP, net, 1, NULL));
    TU_OK(pcmup_algo_set(algo, PCMUP_SET_LOSS, loss_kind));
    TU_OK(pcmup_algo_set(algo, PCMUP_SET_MSE_CENTRED, centred));
    TU_OK(pcmup_algo_set(algo, PCMUP_SET_LR, 1.0));
    const float h = 1e-3f;
    if (act == PCMUP_ACT_RELU)
        assert_away_from_kinks(net, x, batch, widths, 10.0 * h);

    for (size_t l = 1; l <= 3; l++) {
        size_t n = widths[l] * widths[l - 1];
        float *w = malloc(n * sizeof *w), *after = malloc(n * sizeof *after);
        double *fd = malloc(n * sizeof *fd), *bp = malloc(n * sizeof *bp);
        TU_OK(pcmup_net_get_weights(net, l, w, n));
        for (size_t i = 0; i < n; i++) {
            float keep = w[i];
            w[i] = keep + h;
            TU_OK(pcmup_net_set_weights(net, l, w, n));
            double up = loss_of(algo, ds);
            w[i] = keep - h;
            TU_OK(pcmup_net_set_weights(net, l, w, n));
            double down = loss_of(algo, ds);
            w[i] = keep;
            fd[i] = (up - down) / (2.0 * h);
        }
        TU_OK(pcmup_net_set_weights(net, l, w, n));
        /* One step with eta = 1 moves every layer; undo it afterwards. */
        size_t total;
        float *all = get_all_weights(net, &total);
        TU_OK(pcmup_algo_step(algo, x, batch * widths[0], labels, batch, NULL));
        TU_OK(pcmup_net_get_weights(net, l, after, n));
        double gmax = 0;
        for (size_t i = 0; i < n; i++) {
            bp[i] = (double)w[i] - (double)after[i];
            gmax = fmax(gmax, fabs(bp[i]));
        }
        for (size_t i = 0; i < n; i++)
            ck_assert_msg(fabs(fd[i] - bp[i]) <= 2e-3 * gmax + 3e-4,
                          "act %d loss %d layer %zu entry %zu: fd %.6g bp %.6g", act, loss_kind,
                          l, i, fd[i], bp[i]);
        float *p = all;
        for (size_t k = 1; k <= 3; k++) {
            size_t nk = widths[k] * widths[k - 1];
            TU_OK(pcmup_net_set_weights(net, k, p, nk));
            p += nk;
        }
        free(all);
        free(w);
        free(after);
        free(fd);
        free(bp);
    }
    pcmup_algo_free(algo);
    pcmup_dataset_free(ds);
    pcmup_net_free(net);
    free(x);
}

START_TEST(fd_tanh_mse) { check_fd(PCMUP_ACT_TANH, PCMUP_LOSS_MSE, 1, 0); }
END_TEST
START_TEST(fd_tanh_mse_plain) { check_fd(PCMUP_ACT_TANH, PCMUP_LOSS_MSE, 0, 0); }
END_TEST
START_TEST(fd_tanh_ce) { check_fd(PCMUP_ACT_TANH, PCMUP_LOSS_CE, 0, 0); }
END_TEST
START_TEST(fd_relu_mse) { check_fd(PCMUP_ACT_RELU, PCMUP_LOSS_MSE, 1, 0); }
END_TEST
START_TEST(fd_relu_ce) { check_fd(PCMUP_ACT_RELU, PCMUP_LOSS_CE, 0, 0); }
END_TEST
START_TEST(fd_identity_mse) { check_fd(PCMUP_ACT_IDENTITY, PCMUP_LOSS_MSE, 1, 0); }
END_TEST
START_TEST(fd_identity_ce) { check_fd(PCMUP_ACT_IDENTITY, PCMUP_LOSS_CE, 0, 0); }
END_TEST
START_TEST(fd_tanh_ce_bias) { check_fd(PCMUP_ACT_TANH, PCMUP_LOSS_CE, 0, PCMUP_NET_BIAS); }
END_TEST

/* The bias gradient is the batch mean of the pre-activation error:
 * finite differences on each bias entry. Biases start at zero, so first
 * move them off zero (relu's kink is then not at the start point). */
START_TEST(fd_bias)
{
    const size_t widths[] = {4, 6, 3}, batch = 5;
    pcmup_net *net = neutral_net(2, widths, PCMUP_ACT_TANH, PCMUP_NET_BIAS, 5);
    float *x = tu_uniform(batch * 4, 9);
    const int32_t labels[5] = {0, 1, 2, 1, 0};
    pcmup_dataset *ds;
    TU_OK(pcmup_dataset_from_arrays(&ds, batch, 4, 3, x, batch * 4, labels, NULL));
    pcmup_algo *algo;
    TU_OK(pcmup_algo_create(&algo, PCMUP_RULE_BP, net, 1, NULL));
    TU_OK(pcmup_algo_set(algo, PCMUP_SET_LR, 1.0));
    for (size_t l = 1; l <= 2; l++) {
        size_t n = widths[l];
        float b[6], after[6];
        for (size_t i = 0; i < n; i++)
            b[i] = 0.1f * (float)i - 0.2f;
        TU_OK(pcmup_net_set_bias(net, l, b, n));
        double fd[6];
        for (size_t i = 0; i < n; i++) {
            float keep = b[i];
            b[i] = keep + 1e-3f;
            TU_OK(pcmup_net_set_bias(net, l, b, n));
            double up = loss_of(algo, ds);
            b[i] = keep - 1e-3f;
            TU_OK(pcmup_net_set_bias(net, l, b, n));
            double down = loss_of(algo, ds);
            b[i] = keep;
            fd[i] = (up - down) / 2e-3;
        }
        TU_OK(pcmup_net_set_bias(net, l, b, n));
        size_t total;
        float *all = get_all_weights(net, &total);
        TU_OK(pcmup_algo_step(algo, x, batch * widths[0], labels, batch, NULL));
        TU_OK(pcmup_net_get_bias(net, l, after, n));
        for (size_t i = 0; i < n; i++)
            ck_assert_msg(fabs(fd[i] - (b[i] - after[i])) < 5e-4, "layer %zu bias %zu", l, i);
        TU_OK(pcmup_net_set_weights(net, 1, all, 24));
        TU_OK(pcmup_net_set_weights(net, 2, all + 24, 18));
        free(all);
    }
    pcmup_algo_free(algo);
    pcmup_dataset_free(ds);
    pcmup_net_free(net);
    free(x);
}
END_TEST

/* ---- the parameterization inside the update ------------------------------- */

/* With W = r^-a w and eta_l = eta r^-c, SGD on w moves the effective weight
 * by -eta r^-(2a + c) dL/dW: theta = 2a + c is what counts. Check it on one
 * step against the neutral net's gradient (r = 4 here). */
START_TEST(update_scales_with_theta)
{
    const size_t widths[] = {6, 16, 3}, batch = 4;
    float *x = tu_uniform(batch * 6, 21);
    const int32_t labels[4] = {2, 0, 1, 1};
    pcmup_net *ref = neutral_net(2, widths, PCMUP_ACT_TANH, 0, 3);
    pcmup_param *p;
    TU_OK(pcmup_param_create(&p, 2, PCMUP_PRESET_SP, NULL));
    TU_OK(pcmup_param_set(p, PCMUP_PARAM_BASE_WIDTH, 4)); /* r = 16 / 4 = 4 */
    TU_OK(pcmup_param_set_layer(p, 1, PCMUP_LAYER_A, 0.5));
    TU_OK(pcmup_param_set_layer(p, 1, PCMUP_LAYER_C, -1.0)); /* theta_1 = 0 */
    TU_OK(pcmup_param_set_layer(p, 2, PCMUP_LAYER_A, -0.25));
    TU_OK(pcmup_param_set_layer(p, 2, PCMUP_LAYER_C, 1.0)); /* theta_2 = 0.5 */
    pcmup_net *net;
    TU_OK(pcmup_net_create(&net, widths, 3, PCMUP_ACT_TANH, 0, p, 3, NULL));
    pcmup_param_free(p);
    /* Same effective weights in both nets. */
    float w1[96], w2[48];
    TU_OK(pcmup_net_get_weights(ref, 1, w1, 96));
    TU_OK(pcmup_net_get_weights(ref, 2, w2, 48));
    TU_OK(pcmup_net_set_weights(net, 1, w1, 96));
    TU_OK(pcmup_net_set_weights(net, 2, w2, 48));
    pcmup_algo *a_ref, *a_net;
    TU_OK(pcmup_algo_create(&a_ref, PCMUP_RULE_BP, ref, 1, NULL));
    TU_OK(pcmup_algo_create(&a_net, PCMUP_RULE_BP, net, 1, NULL));
    TU_OK(pcmup_algo_step(a_ref, x, batch * widths[0], labels, batch, NULL));
    TU_OK(pcmup_algo_step(a_net, x, batch * widths[0], labels, batch, NULL));
    const double scale[3] = {0, 1.0, pow(4.0, -0.5)};
    const float *w0[3] = {NULL, w1, w2};
    for (size_t l = 1; l <= 2; l++) {
        size_t n = widths[l] * widths[l - 1];
        float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
        TU_OK(pcmup_net_get_weights(ref, l, a, n));
        TU_OK(pcmup_net_get_weights(net, l, b, n));
        for (size_t i = 0; i < n; i++) {
            double d_ref = a[i] - w0[l][i], d_net = b[i] - w0[l][i];
            ck_assert_msg(fabs(d_net - scale[l] * d_ref) < 1e-6 + 1e-4 * fabs(d_ref),
                          "layer %zu entry %zu: %g vs %g", l, i, d_net, scale[l] * d_ref);
        }
        free(a);
        free(b);
    }
    pcmup_algo_free(a_ref);
    pcmup_algo_free(a_net);
    pcmup_net_free(ref);
    pcmup_net_free(net);
    free(x);
}
END_TEST

/* (a, b, c) -> (a + t, b - t, c - 2t) is the same SGD dynamics (Yang & Hu
 * 2021; docs/parameterization.md, section 7): same effective init, same
 * effective learning rate. Train both for 10 steps from the same seed; the
 * outputs agree to float rounding. */
static pcmup_net *shifted_mup_net(const size_t *widths, double t)
{
    pcmup_param *p;
    TU_OK(pcmup_param_create(&p, 3, PCMUP_PRESET_MUP_SGD, NULL));
    TU_OK(pcmup_param_set(p, PCMUP_PARAM_BASE_WIDTH, 16));
    for (size_t l = 1; l <= 3; l++) {
        double a, b, c;
        TU_OK(pcmup_param_get_layer(p, l, PCMUP_LAYER_A, &a));
        TU_OK(pcmup_param_get_layer(p, l, PCMUP_LAYER_B, &b));
        TU_OK(pcmup_param_get_layer(p, l, PCMUP_LAYER_C, &c));
        TU_OK(pcmup_param_set_layer(p, l, PCMUP_LAYER_A, a + t));
        TU_OK(pcmup_param_set_layer(p, l, PCMUP_LAYER_B, b - t));
        TU_OK(pcmup_param_set_layer(p, l, PCMUP_LAYER_C, c - 2 * t));
    }
    pcmup_net *net;
    TU_OK(pcmup_net_create(&net, widths, 4, PCMUP_ACT_TANH, 0, p, 77, NULL));
    pcmup_param_free(p);
    return net;
}

START_TEST(abc_shift_gives_same_trajectory)
{
    const size_t widths[] = {12, 64, 64, 5}, batch = 16;
    float *x = tu_uniform(batch * 12, 8);
    int32_t labels[16];
    for (size_t i = 0; i < batch; i++)
        labels[i] = (int32_t)(i % 5);
    const double shifts[] = {0.5, -0.5, 1.0};
    pcmup_net *base = shifted_mup_net(widths, 0.0);
    pcmup_algo *a0;
    TU_OK(pcmup_algo_create(&a0, PCMUP_RULE_BP, base, 1, NULL));
    TU_OK(pcmup_algo_set(a0, PCMUP_SET_LR, 0.5));
    pcmup_net *nets[3];
    pcmup_algo *algos[3];
    for (int k = 0; k < 3; k++) {
        nets[k] = shifted_mup_net(widths, shifts[k]);
        TU_OK(pcmup_algo_create(&algos[k], PCMUP_RULE_BP, nets[k], 1, NULL));
        TU_OK(pcmup_algo_set(algos[k], PCMUP_SET_LR, 0.5));
    }
    float f0[80], fk[80];
    for (int step = 0; step < 10; step++) {
        TU_OK(pcmup_algo_step(a0, x, batch * widths[0], labels, batch, NULL));
        for (int k = 0; k < 3; k++)
            TU_OK(pcmup_algo_step(algos[k], x, batch * widths[0], labels, batch, NULL));
    }
    TU_OK(pcmup_net_forward(base, x, batch * widths[0], batch, f0, batch * widths[3]));
    double fscale = 0;
    for (int i = 0; i < 80; i++)
        fscale = fmax(fscale, fabs(f0[i]));
    for (int k = 0; k < 3; k++) {
        TU_OK(pcmup_net_forward(nets[k], x, batch * widths[0], batch, fk, batch * widths[3]));
        /* r^t and r^-t are not exact in float: a few ulps per step. */
        for (int i = 0; i < 80; i++)
            ck_assert_msg(fabs(fk[i] - f0[i]) < 1e-4 * fscale, "shift %g output %d: %g vs %g",
                          shifts[k], i, fk[i], f0[i]);
        pcmup_algo_free(algos[k]);
        pcmup_net_free(nets[k]);
    }
    /* And the training did move the outputs (the check is not vacuous). */
    pcmup_net *fresh = shifted_mup_net(widths, 0.0);
    TU_OK(pcmup_net_forward(fresh, x, batch * widths[0], batch, fk, batch * widths[3]));
    double moved = 0;
    for (int i = 0; i < 80; i++)
        moved = fmax(moved, fabs(fk[i] - f0[i]));
    ck_assert_msg(moved > 1e-2 * fscale, "training did not move the outputs");
    pcmup_net_free(fresh);
    pcmup_algo_free(a0);
    pcmup_net_free(base);
    free(x);
}
END_TEST

/* ---- momentum and weight decay, closed forms ------------------------------ */

/* Heavy ball: v1 = g1, W1 = W0 - eta g1; v2 = mu g1 + g2, W2 = W1 - eta v2.
 * A plain-SGD twin gives g2 at W1, so W2 = W2_plain - eta mu g1
 * = W2_plain + mu (W1 - W0). */
START_TEST(momentum_closed_form)
{
    const size_t widths[] = {5, 8, 3}, batch = 6;
    float *x = tu_uniform(batch * 5, 4);
    const int32_t labels[6] = {0, 1, 2, 0, 1, 2};
    pcmup_net *nm = neutral_net(2, widths, PCMUP_ACT_TANH, 0, 9);
    pcmup_net *np = neutral_net(2, widths, PCMUP_ACT_TANH, 0, 9);
    pcmup_algo *am, *ap;
    TU_OK(pcmup_algo_create(&am, PCMUP_RULE_BP, nm, 1, NULL));
    TU_OK(pcmup_algo_create(&ap, PCMUP_RULE_BP, np, 1, NULL));
    const double mu = 0.9;
    TU_OK(pcmup_algo_set(am, PCMUP_SET_MOMENTUM, mu));
    size_t n;
    float *w0 = get_all_weights(nm, &n);
    TU_OK(pcmup_algo_step(am, x, batch * widths[0], labels, batch, NULL));
    TU_OK(pcmup_algo_step(ap, x, batch * widths[0], labels, batch, NULL));
    float *w1 = get_all_weights(nm, &n), *w1p = get_all_weights(np, &n);
    for (size_t i = 0; i < n; i++)
        ck_assert_float_eq_tol(w1[i], w1p[i], 1e-7f);
    TU_OK(pcmup_algo_step(am, x, batch * widths[0], labels, batch, NULL));
    TU_OK(pcmup_algo_step(ap, x, batch * widths[0], labels, batch, NULL));
    float *w2 = get_all_weights(nm, &n), *w2p = get_all_weights(np, &n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabs(w2[i] - (w2p[i] + mu * (w1[i] - w0[i]))) < 1e-6, "entry %zu", i);
    free(w0);
    free(w1);
    free(w1p);
    free(w2);
    free(w2p);
    pcmup_algo_free(am);
    pcmup_algo_free(ap);
    pcmup_net_free(nm);
    pcmup_net_free(np);
    free(x);
}
END_TEST

/* L2 weight decay adds wd * w to the gradient: W1 = W1_plain - eta wd W0. */
START_TEST(weight_decay_closed_form)
{
    const size_t widths[] = {5, 8, 3}, batch = 6;
    float *x = tu_uniform(batch * 5, 4);
    const int32_t labels[6] = {0, 1, 2, 0, 1, 2};
    pcmup_net *nd = neutral_net(2, widths, PCMUP_ACT_TANH, 0, 9);
    pcmup_net *np = neutral_net(2, widths, PCMUP_ACT_TANH, 0, 9);
    pcmup_algo *ad, *ap;
    TU_OK(pcmup_algo_create(&ad, PCMUP_RULE_BP, nd, 1, NULL));
    TU_OK(pcmup_algo_create(&ap, PCMUP_RULE_BP, np, 1, NULL));
    const double wd = 0.05, eta = 0.1;
    TU_OK(pcmup_algo_set(ad, PCMUP_SET_WEIGHT_DECAY, wd));
    TU_OK(pcmup_algo_set(ad, PCMUP_SET_LR, eta));
    TU_OK(pcmup_algo_set(ap, PCMUP_SET_LR, eta));
    size_t n;
    float *w0 = get_all_weights(nd, &n);
    TU_OK(pcmup_algo_step(ad, x, batch * widths[0], labels, batch, NULL));
    TU_OK(pcmup_algo_step(ap, x, batch * widths[0], labels, batch, NULL));
    float *w1 = get_all_weights(nd, &n), *w1p = get_all_weights(np, &n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabs(w1[i] - (w1p[i] - eta * wd * w0[i])) < 1e-6, "entry %zu", i);
    free(w0);
    free(w1);
    free(w1p);
    pcmup_algo_free(ad);
    pcmup_algo_free(ap);
    pcmup_net_free(nd);
    pcmup_net_free(np);
    free(x);
}
END_TEST

/* ---- contracts of a step ----------------------------------------------------- */

START_TEST(no_allocation_after_first_step)
{
    tu_counter counter;
    pcmup_allocator alloc = tu_counting_allocator(&counter);
    const size_t widths[] = {20, 32, 32, 4}, batch = 16;
    pcmup_param *p;
    TU_OK(pcmup_param_create(&p, 3, PCMUP_PRESET_MUP_SGD, &alloc));
    pcmup_net *net;
    TU_OK(pcmup_net_create(&net, widths, 4, PCMUP_ACT_TANH, 0, p, 1, &alloc));
    pcmup_algo *algo;
    TU_OK(pcmup_algo_create(&algo, PCMUP_RULE_BP, net, 1, &alloc));
    TU_OK(pcmup_algo_set(algo, PCMUP_SET_MOMENTUM, 0.5));
    float *x = tu_uniform(batch * 20, 2);
    int32_t labels[16];
    for (size_t i = 0; i < batch; i++)
        labels[i] = (int32_t)(i % 4);
    TU_OK(pcmup_algo_step(algo, x, batch * widths[0], labels, batch, NULL));
    size_t calls = counter.n_malloc + counter.n_realloc;
    ck_assert_uint_gt(calls, 0);
    for (int i = 0; i < 20; i++)
        TU_OK(pcmup_algo_step(algo, x, (batch - (size_t)(i % 3)) * widths[0], labels,
                              batch - (size_t)(i % 3), NULL));
    ck_assert_uint_eq(counter.n_malloc + counter.n_realloc, calls);

    /* Epochs: the first sizes its buffers, the second allocates nothing. */
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
}
END_TEST

/* A learning rate far past stability blows the loss up; the step that sees
 * a non-finite loss reports it and leaves the weights as they were. */
START_TEST(divergence_is_reported_and_harmless)
{
    const size_t widths[] = {5, 8, 3}, batch = 6;
    float *x = tu_uniform(batch * 5, 4);
    const int32_t labels[6] = {0, 1, 2, 0, 1, 2};
    pcmup_net *net = neutral_net(2, widths, PCMUP_ACT_IDENTITY, 0, 9);
    pcmup_algo *algo;
    TU_OK(pcmup_algo_create(&algo, PCMUP_RULE_BP, net, 1, NULL));
    TU_OK(pcmup_algo_set(algo, PCMUP_SET_LR, 1e5));
    pcmup_status s = PCMUP_OK;
    size_t n;
    float *before = NULL;
    for (int i = 0; i < 200 && s == PCMUP_OK; i++) {
        free(before);
        before = get_all_weights(net, &n);
        s = pcmup_algo_step(algo, x, batch * widths[0], labels, batch, NULL);
    }
    ck_assert_int_eq(s, PCMUP_ERR_DIVERGED);
    float *after = get_all_weights(net, &n);
    ck_assert(memcmp(before, after, n * sizeof *after) == 0);
    free(before);
    free(after);

    /* A failing epoch undoes its earlier steps. */
    TU_OK(pcmup_net_init_weights(net, 9));
    pcmup_dataset *ds;
    TU_OK(pcmup_dataset_from_arrays(&ds, batch, 5, 3, x, batch * 5, labels, NULL));
    before = NULL;
    s = PCMUP_OK;
    for (int i = 0; i < 50 && s == PCMUP_OK; i++) {
        free(before);
        before = get_all_weights(net, &n);
        s = pcmup_algo_train_epoch(algo, ds, 1, NULL);
    }
    ck_assert_int_eq(s, PCMUP_ERR_DIVERGED);
    after = get_all_weights(net, &n);
    ck_assert(memcmp(before, after, n * sizeof *after) == 0);
    free(before);
    free(after);
    pcmup_dataset_free(ds);
    pcmup_algo_free(algo);
    pcmup_net_free(net);
    free(x);
}
END_TEST

/* Same seeds, same data: bitwise the same weights after two epochs; a
 * different shuffling seed gives different weights. */
static float *train_two_epochs(uint64_t net_seed, uint64_t algo_seed, size_t *n)
{
    const size_t widths[] = {10, 24, 24, 3}, count = 50;
    float *x = tu_uniform(count * 10, 5);
    int32_t labels[50];
    for (size_t i = 0; i < count; i++)
        labels[i] = (int32_t)(i % 3);
    pcmup_param *p;
    TU_OK(pcmup_param_create(&p, 3, PCMUP_PRESET_MUP_SGD, NULL));
    pcmup_net *net;
    TU_OK(pcmup_net_create(&net, widths, 4, PCMUP_ACT_TANH, 0, p, net_seed, NULL));
    pcmup_algo *algo;
    TU_OK(pcmup_algo_create(&algo, PCMUP_RULE_BP, net, algo_seed, NULL));
    pcmup_dataset *ds;
    TU_OK(pcmup_dataset_from_arrays(&ds, count, 10, 3, x, count * 10, labels, NULL));
    TU_OK(pcmup_algo_train_epoch(algo, ds, 8, NULL));
    TU_OK(pcmup_algo_train_epoch(algo, ds, 8, NULL));
    float *w = get_all_weights(net, n);
    pcmup_dataset_free(ds);
    pcmup_algo_free(algo);
    pcmup_net_free(net);
    pcmup_param_free(p);
    free(x);
    return w;
}

START_TEST(training_is_reproducible)
{
    size_t n;
    float *a = train_two_epochs(3, 4, &n), *b = train_two_epochs(3, 4, &n);
    float *c = train_two_epochs(3, 5, &n);
    ck_assert(memcmp(a, b, n * sizeof *a) == 0);
    ck_assert(memcmp(a, c, n * sizeof *a) != 0);
    free(a);
    free(b);
    free(c);
}
END_TEST

/* A full-batch epoch is one step on the whole set, whatever the shuffled
 * order (the gradient is a sum; only float summation order differs). */
START_TEST(full_batch_epoch_is_one_step)
{
    const size_t widths[] = {6, 10, 3}, count = 12;
    float *x = tu_uniform(count * 6, 13);
    int32_t labels[12];
    for (size_t i = 0; i < count; i++)
        labels[i] = (int32_t)((i * 7) % 3);
    pcmup_net *n1 = neutral_net(2, widths, PCMUP_ACT_TANH, 0, 2);
    pcmup_net *n2 = neutral_net(2, widths, PCMUP_ACT_TANH, 0, 2);
    pcmup_algo *a1, *a2;
    TU_OK(pcmup_algo_create(&a1, PCMUP_RULE_BP, n1, 1, NULL));
    TU_OK(pcmup_algo_create(&a2, PCMUP_RULE_BP, n2, 1, NULL));
    pcmup_dataset *ds;
    TU_OK(pcmup_dataset_from_arrays(&ds, count, 6, 3, x, count * 6, labels, NULL));
    double epoch_loss, step_loss;
    TU_OK(pcmup_algo_train_epoch(a1, ds, count, &epoch_loss));
    TU_OK(pcmup_algo_step(a2, x, count * widths[0], labels, count, &step_loss));
    ck_assert_double_eq_tol(epoch_loss, step_loss, 1e-6);
    size_t n;
    float *w1 = get_all_weights(n1, &n), *w2 = get_all_weights(n2, &n);
    for (size_t i = 0; i < n; i++)
        ck_assert_float_eq_tol(w1[i], w2[i], 1e-6f);
    free(w1);
    free(w2);
    pcmup_dataset_free(ds);
    pcmup_algo_free(a1);
    pcmup_algo_free(a2);
    pcmup_net_free(n1);
    pcmup_net_free(n2);
    free(x);
}
END_TEST

/* evaluate's accuracy and loss agree with the forward pass and the loss
 * written out here. */
START_TEST(evaluate_matches_forward)
{
    const size_t widths[] = {6, 10, 4}, count = 300; /* > one evaluation chunk */
    float *x = tu_uniform(count * 6, 17);
    int32_t *labels = malloc(count * sizeof *labels);
    for (size_t i = 0; i < count; i++)
        labels[i] = (int32_t)((i * 5) % 4);
    pcmup_net *net = neutral_net(2, widths, PCMUP_ACT_TANH, 0, 2);
    pcmup_algo *algo;
    TU_OK(pcmup_algo_create(&algo, PCMUP_RULE_BP, net, 1, NULL));
    TU_OK(pcmup_algo_set(algo, PCMUP_SET_LOSS, PCMUP_LOSS_CE));
    pcmup_dataset *ds;
    TU_OK(pcmup_dataset_from_arrays(&ds, count, 6, 4, x, count * 6, labels, NULL));
    float *f = malloc(count * 4 * sizeof *f);
    TU_OK(pcmup_net_forward(net, x, count * widths[0], count, f, count * widths[2]));
    double loss = 0;
    size_t correct = 0;
    for (size_t i = 0; i < count; i++) {
        const float *fi = f + 4 * i;
        double z = 0;
        size_t best = 0;
        for (size_t j = 0; j < 4; j++) {
            z += exp(fi[j]);
            if (fi[j] > fi[best])
                best = j;
        }
        loss += log(z) - fi[labels[i]];
        correct += best == (size_t)labels[i];
    }
    double got_loss, got_acc;
    TU_OK(pcmup_algo_evaluate(algo, ds, &got_loss, &got_acc));
    ck_assert_double_eq_tol(got_loss, loss / count, 1e-6);
    ck_assert_double_eq_tol(got_acc, (double)correct / count, 1e-12);
    free(f);
    free(labels);
    pcmup_dataset_free(ds);
    pcmup_algo_free(algo);
    pcmup_net_free(net);
    free(x);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bp");
    TCase *exact = tcase_create("exact");
    tcase_add_test(exact, step_matches_hand_computation);
    tcase_add_test(exact, update_scales_with_theta);
    tcase_add_test(exact, abc_shift_gives_same_trajectory);
    tcase_add_test(exact, momentum_closed_form);
    tcase_add_test(exact, weight_decay_closed_form);
    tcase_add_test(exact, full_batch_epoch_is_one_step);
    tcase_add_test(exact, evaluate_matches_forward);
    suite_add_tcase(s, exact);
    TCase *fd = tcase_create("finite_differences");
    tcase_add_test(fd, fd_tanh_mse);
    tcase_add_test(fd, fd_tanh_mse_plain);
    tcase_add_test(fd, fd_tanh_ce);
    tcase_add_test(fd, fd_relu_mse);
    tcase_add_test(fd, fd_relu_ce);
    tcase_add_test(fd, fd_identity_mse);
    tcase_add_test(fd, fd_identity_ce);
    tcase_add_test(fd, fd_tanh_ce_bias);
    tcase_add_test(fd, fd_bias);
    suite_add_tcase(s, fd);
    TCase *contracts = tcase_create("contracts");
    tcase_add_test(contracts, no_allocation_after_first_step);
    tcase_add_test(contracts, divergence_is_reported_and_harmless);
    tcase_add_test(contracts, training_is_reproducible);
    suite_add_tcase(s, contracts);
    return tu_run_suite(s);
}
