/* SPDX-License-Identifier: MIT */
/*
 * test_net.c -- the forward pass against direct computation: every
 * activation, biases, the multiplier, the per-layer signals, and the
 * accuracy of the library's own single-precision tanh.
 */
#include "testutil.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

/* A 1 -> 1 -> 1 network whose first layer is the identity map, so the
 * first layer's post-activation is phi(x) itself. */
static pcmup_net *scalar_net(pcmup_activation act)
{
    const size_t widths[] = {1, 1, 1};
    pcmup_param *p;
    TU_OK(pcmup_param_create(&p, 2, PCMUP_PRESET_SP, NULL));
    pcmup_net *net;
    TU_OK(pcmup_net_create(&net, widths, 3, act, 0, p, 1, NULL));
    pcmup_param_free(p);
    const float one = 1.0f;
    TU_OK(pcmup_net_set_weights(net, 1, &one, 1));
    return net;
}

/* The library's tanh against double-precision tanh on a dense grid of
 * [-12, 12] and on tiny arguments: within 2 float epsilons of the result
 * (relative 2.4e-7; measured worst 1.3e-7), and exact odd symmetry. */
START_TEST(tanh_is_accurate)
{
    pcmup_net *net = scalar_net(PCMUP_ACT_TANH);
    const size_t n = 240001 + 40;
    float *x = malloc(n * sizeof *x), *h = malloc(n * sizeof *h);
    for (size_t i = 0; i < 240001; i++)
        x[i] = (float)(-12.0 + 24.0 * (double)i / 240000.0);
    for (size_t i = 0; i < 40; i++)
        x[240001 + i] = (float)((i % 2 ? -1.0 : 1.0) * pow(10.0, -(double)i / 2.0));
    TU_OK(pcmup_net_forward_layer(net, x, n, n, 1, PCMUP_SIGNAL_POST, h, n));
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double want = tanh((double)x[i]);
        double err = fabs((double)h[i] - want) / fmax(fabs(want), FLT_MIN);
        worst = fmax(worst, err);
        ck_assert_msg(err <= 2 * FLT_EPSILON, "tanh(%.9g) = %.9g, want %.9g (rel %.3g)",
                      x[i], h[i], want, err);
    }
    for (size_t i = 0; i < 240001; i++)
        ck_assert_msg(h[i] == -h[240000 - i], "tanh not odd at %g", x[i]);
    free(x);
    free(h);
    pcmup_net_free(net);
}
END_TEST

START_TEST(relu_and_identity_are_exact)
{
    pcmup_net *relu = scalar_net(PCMUP_ACT_RELU), *id = scalar_net(PCMUP_ACT_IDENTITY);
    const float x[5] = {-2.5f, -0.0f, 0.0f, 1e-30f, 3.25f};
    float h[5];
    TU_OK(pcmup_net_forward_layer(relu, x, 5, 5, 1, PCMUP_SIGNAL_POST, h, 5));
    for (int i = 0; i < 5; i++)
        ck_assert_float_eq(h[i], x[i] > 0 ? x[i] : 0.0f);
    TU_OK(pcmup_net_forward_layer(id, x, 5, 5, 1, PCMUP_SIGNAL_POST, h, 5));
    for (int i = 0; i < 5; i++)
        ck_assert_float_eq(h[i], x[i]);
    pcmup_net_free(relu);
    pcmup_net_free(id);
}
END_TEST

/* A 3 -> 4 -> 2 tanh net with biases and a multiplier (a = 1 at r = 2),
 * forward computed here in double from the effective weights. */
START_TEST(forward_matches_direct_computation)
{
    const size_t widths[] = {3, 4, 2};
    pcmup_param *p;
    TU_OK(pcmup_param_create(&p, 2, PCMUP_PRESET_MUP_SGD, NULL));
    TU_OK(pcmup_param_set(p, PCMUP_PARAM_BASE_WIDTH, 2)); /* r = 2 */
    TU_OK(pcmup_param_set_layer(p, 2, PCMUP_LAYER_A, 1.0));
    pcmup_net *net;
    TU_OK(pcmup_net_create(&net, widths, 3, PCMUP_ACT_TANH, PCMUP_NET_BIAS, p, 5, NULL));
    pcmup_param_free(p);
    double m = tu_net_factor(net, 2, PCMUP_FACTOR_MULTIPLIER);
    ck_assert_double_eq_tol(m, 0.5, 1e-15);
    const float b1[4] = {0.1f, -0.2f, 0.3f, 0.0f}, b2[2] = {0.05f, -0.5f};
    TU_OK(pcmup_net_set_bias(net, 1, b1, 4));
    TU_OK(pcmup_net_set_bias(net, 2, b2, 2));
    float w1[12], w2[8];
    TU_OK(pcmup_net_get_weights(net, 1, w1, 12));
    TU_OK(pcmup_net_get_weights(net, 2, w2, 8));
    const float x[6] = {0.5f, -1.0f, 2.0f, 0.0f, 0.25f, -0.75f};
    float u1[8], h1[8], f[4];
    TU_OK(pcmup_net_forward_layer(net, x, 6, 2, 1, PCMUP_SIGNAL_PRE, u1, 8));
    TU_OK(pcmup_net_forward_layer(net, x, 6, 2, 1, PCMUP_SIGNAL_POST, h1, 8));
    TU_OK(pcmup_net_forward(net, x, 6, 2, f, 4));
    for (int b = 0; b < 2; b++) {
        double h[4];
        for (int j = 0; j < 4; j++) {
            double u = b1[j];
            for (int i = 0; i < 3; i++)
                u += (double)w1[3 * j + i] * x[3 * b + i];
            h[j] = tanh(u);
            ck_assert_double_eq_tol(u1[4 * b + j], u, 1e-6);
            ck_assert_double_eq_tol(h1[4 * b + j], h[j], 1e-6);
        }
        for (int k = 0; k < 2; k++) {
            double out = b2[k];
            for (int j = 0; j < 4; j++)
                out += (double)w2[4 * k + j] * h[j];
            ck_assert_double_eq_tol(f[2 * b + k], out, 1e-6);
        }
    }
    /* The output layer's POST signal is f itself (no output nonlinearity). */
    float f2[4];
    TU_OK(pcmup_net_forward_layer(net, x, 6, 2, 2, PCMUP_SIGNAL_POST, f2, 4));
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq(f2[i], f[i]);
    pcmup_net_free(net);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {
        tanh_is_accurate,
        relu_and_identity_are_exact,
        forward_matches_direct_computation,
    };
    return tu_run_tests("net", 0, NULL, NULL, tests, TU_COUNT(tests));
}
