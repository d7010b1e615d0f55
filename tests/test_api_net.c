/* SPDX-License-Identifier: MIT */
/*
 * test_api_net.c -- pcmup_net at the edges of the API (api_fixture.h): NULL
 * pointers, invalid activations, flags, widths and layers, counts that do
 * not match a shape (one too small or too large for every array the
 * caller passes), non-finite values, and a failed call leaves the network
 * and its outputs as they were.
 */
#include "api_fixture.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

START_TEST(null_net_create)
{
    pcmup_net *net = NULL;
    FAILS(PCMUP_ERR_NULL, pcmup_net_create, NULL, WIDTHS, NL + 1, PCMUP_ACT_TANH, 0, w.param, 1,
          NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_net_create, &net, NULL, NL + 1, PCMUP_ACT_TANH, 0, w.param, 1,
          NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_net_create, &net, WIDTHS, NL + 1, PCMUP_ACT_TANH, 0, NULL, 1,
          NULL);
    ck_assert_ptr_null(net);
}
END_TEST

START_TEST(null_net_queries)
{
    const pcmup_param *p;
    size_t n, out, in;
    double f[PCMUP_FACTOR_COUNT];
    FAILS(PCMUP_ERR_NULL, pcmup_net_init_weights, NULL, 1);
    FAILS(PCMUP_ERR_NULL, pcmup_net_param, NULL, &p);
    FAILS(PCMUP_ERR_NULL, pcmup_net_param, w.net, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_net_n_layers, NULL, &n);
    FAILS(PCMUP_ERR_NULL, pcmup_net_n_layers, w.net, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_net_layer_shape, NULL, 1, &out, &in);
    FAILS(PCMUP_ERR_NULL, pcmup_net_layer_shape, w.net, 1, NULL, &in);
    FAILS(PCMUP_ERR_NULL, pcmup_net_layer_shape, w.net, 1, &out, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_net_param_count, NULL, &n);
    FAILS(PCMUP_ERR_NULL, pcmup_net_param_count, w.net, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_net_layer_factors, NULL, 1, f, PCMUP_FACTOR_COUNT);
    FAILS(PCMUP_ERR_NULL, pcmup_net_layer_factors, w.net, 1, NULL, PCMUP_FACTOR_COUNT);
}
END_TEST

START_TEST(null_net_arrays)
{
    float buf[64] = {0}, out[B * C];
    FAILS(PCMUP_ERR_NULL, pcmup_net_get_weights, NULL, 1, buf, 35);
    FAILS(PCMUP_ERR_NULL, pcmup_net_get_weights, w.net, 1, NULL, 35);
    FAILS(PCMUP_ERR_NULL, pcmup_net_set_weights, NULL, 1, buf, 35);
    FAILS(PCMUP_ERR_NULL, pcmup_net_set_weights, w.net, 1, NULL, 35);
    FAILS(PCMUP_ERR_NULL, pcmup_net_get_bias, NULL, 1, buf, 7);
    FAILS(PCMUP_ERR_NULL, pcmup_net_get_bias, w.net, 1, NULL, 7);
    FAILS(PCMUP_ERR_NULL, pcmup_net_set_bias, NULL, 1, buf, 7);
    FAILS(PCMUP_ERR_NULL, pcmup_net_set_bias, w.net, 1, NULL, 7);
    FAILS(PCMUP_ERR_NULL, pcmup_net_forward, NULL, w.x, B * D, B, out, B * C);
    FAILS(PCMUP_ERR_NULL, pcmup_net_forward, w.net, NULL, B * D, B, out, B * C);
    FAILS(PCMUP_ERR_NULL, pcmup_net_forward, w.net, w.x, B * D, B, NULL, B * C);
    FAILS(PCMUP_ERR_NULL, pcmup_net_forward_layer, NULL, w.x, B * D, B, 1, PCMUP_SIGNAL_PRE,
          buf, B * 7);
    FAILS(PCMUP_ERR_NULL, pcmup_net_forward_layer, w.net, NULL, B * D, B, 1, PCMUP_SIGNAL_PRE,
          buf, B * 7);
    FAILS(PCMUP_ERR_NULL, pcmup_net_forward_layer, w.net, w.x, B * D, B, 1, PCMUP_SIGNAL_PRE,
          NULL, B * 7);
}
END_TEST

START_TEST(invalid_net_create)
{
    pcmup_net *net = NULL;
    const pcmup_allocator *broken = broken_allocators();
    FAILS(PCMUP_ERR_INVALID, pcmup_net_create, &net, WIDTHS, NL + 1, (pcmup_activation)BAD_ENUM,
          0, w.param, 1, NULL);
    FAILS(PCMUP_ERR_INVALID, pcmup_net_create, &net, WIDTHS, NL + 1, (pcmup_activation)-1, 0,
          w.param, 1, NULL);
    const unsigned bad_flags[] = {2u, 4u, PCMUP_NET_BIAS | 8u, 0x80000000u, ~0u};
    for (size_t i = 0; i < 5; i++)
        FAILS(PCMUP_ERR_INVALID, pcmup_net_create, &net, WIDTHS, NL + 1, PCMUP_ACT_TANH,
              bad_flags[i], w.param, 1, NULL);
    for (int i = 0; i < 3; i++)
        FAILS(PCMUP_ERR_INVALID, pcmup_net_create, &net, WIDTHS, NL + 1, PCMUP_ACT_TANH, 0,
              w.param, 1, &broken[i]);
    ck_assert_ptr_null(net);
}
END_TEST

/* Widths outside [1, 2^31 - 1]. The header states the range but not the
 * code; these are values outside a range, which everywhere else in the
 * API (batch 0, dataset dim 0) is PCMUP_ERR_INVALID. */
START_TEST(invalid_net_widths)
{
    pcmup_net *net = NULL;
    const size_t bad[] = {0, (size_t)1 << 31, (size_t)-1};
    for (size_t pos = 0; pos <= NL; pos++) {
        for (size_t i = 0; i < 3; i++) {
            size_t widths[NL + 1];
            memcpy(widths, WIDTHS, sizeof widths);
            widths[pos] = bad[i];
            FAILS(PCMUP_ERR_INVALID, pcmup_net_create, &net, widths, NL + 1, PCMUP_ACT_TANH, 0,
                  w.param, 1, NULL);
        }
    }
    ck_assert_ptr_null(net);
}
END_TEST

/* Widths in range whose product does not fit in memory: refused, never a
 * crash or a truncated allocation. */
START_TEST(net_too_large)
{
    pcmup_net *net = NULL;
    const size_t huge[NL + 1] = {2147483647, 2147483647, 2147483647, 2147483647};
    pcmup_status s = pcmup_net_create(&net, huge, NL + 1, PCMUP_ACT_TANH, PCMUP_NET_BIAS,
                                      w.param, 1, NULL);
    ck_assert_msg(s == PCMUP_ERR_INVALID || s == PCMUP_ERR_NOMEM, "-> %s",
                  pcmup_status_name(s));
    ck_assert_ptr_null(net);
}
END_TEST

/* Every function taking a layer number rejects 0 and L + 1. */
START_TEST(invalid_net_layer)
{
    const size_t bad[] = {0, NL + 1, (size_t)-1};
    float buf[64] = {0};
    size_t out, in;
    double f[PCMUP_FACTOR_COUNT];
    for (size_t i = 0; i < 3; i++) {
        size_t l = bad[i];
        FAILS(PCMUP_ERR_INVALID, pcmup_net_layer_shape, w.net, l, &out, &in);
        FAILS(PCMUP_ERR_INVALID, pcmup_net_layer_factors, w.net, l, f, PCMUP_FACTOR_COUNT);
        FAILS(PCMUP_ERR_INVALID, pcmup_net_get_weights, w.net, l, buf, 35);
        FAILS(PCMUP_ERR_INVALID, pcmup_net_set_weights, w.net, l, buf, 35);
        FAILS(PCMUP_ERR_INVALID, pcmup_net_get_bias, w.net, l, buf, 7);
        FAILS(PCMUP_ERR_INVALID, pcmup_net_set_bias, w.net, l, buf, 7);
        FAILS(PCMUP_ERR_INVALID, pcmup_net_forward_layer, w.net, w.x, B * D, B, l,
              PCMUP_SIGNAL_POST, buf, B * 7);
    }
}
END_TEST

/* Counts that are not out * in (weights) or out (bias). Layer 2 is 6 x 7. */
START_TEST(shape_net_counts)
{
    float buf[64] = {0};
    const size_t bad_w[] = {0, 41, 43, 7, 6, 35};
    for (size_t i = 0; i < 6; i++) {
        FAILS(PCMUP_ERR_SHAPE, pcmup_net_get_weights, w.net, 2, buf, bad_w[i]);
        FAILS(PCMUP_ERR_SHAPE, pcmup_net_set_weights, w.net, 2, buf, bad_w[i]);
    }
    const size_t bad_b[] = {0, 5, 7, 42};
    for (size_t i = 0; i < 4; i++) {
        FAILS(PCMUP_ERR_SHAPE, pcmup_net_get_bias, w.net, 2, buf, bad_b[i]);
        FAILS(PCMUP_ERR_SHAPE, pcmup_net_set_bias, w.net, 2, buf, bad_b[i]);
    }
    TU_OK(pcmup_net_get_weights(w.net, 2, buf, 42));
    TU_OK(pcmup_net_get_bias(w.net, 2, buf, 6));
}
END_TEST

/* n_widths must be L + 1 for the parameterization's L: one fewer or one
 * more width is PCMUP_ERR_SHAPE, and no network is made. */
START_TEST(shape_net_create)
{
    pcmup_net *net = NULL;
    FAILS(PCMUP_ERR_SHAPE, pcmup_net_create, &net, WIDTHS, NL, PCMUP_ACT_TANH, 0, w.param, 1,
          NULL);
    FAILS(PCMUP_ERR_SHAPE, pcmup_net_create, &net, WIDTHS, NL + 2, PCMUP_ACT_TANH, 0, w.param,
          1, NULL);
    FAILS(PCMUP_ERR_SHAPE, pcmup_net_create, &net, WIDTHS, 0, PCMUP_ACT_TANH, 0, w.param, 1,
          NULL);
    ck_assert_ptr_null(net);
}
END_TEST

/* x_count and out_count one too small or one too large: PCMUP_ERR_SHAPE,
 * out untouched (every float, the one past the real count included) and
 * the network as it was. Layer 2's signal is (B, 6). */
START_TEST(shape_forward_counts)
{
    size_t len;
    float *before = net_snapshot(w.net, &len);
    float out[B * 7 + 1];
    fill_sentinel(out, TU_COUNT(out));
    const size_t x_ok = B * D, f_ok = B * C, h_ok = B * 6;
    for (int k = 0; k < 2; k++) {
        FAILS(PCMUP_ERR_SHAPE, pcmup_net_forward, w.net, w.x, off_by_one(x_ok, k), B, out, f_ok);
        FAILS(PCMUP_ERR_SHAPE, pcmup_net_forward, w.net, w.x, x_ok, B, out, off_by_one(f_ok, k));
        FAILS(PCMUP_ERR_SHAPE, pcmup_net_forward_layer, w.net, w.x, off_by_one(x_ok, k), B, 2,
              PCMUP_SIGNAL_POST, out, h_ok);
        FAILS(PCMUP_ERR_SHAPE, pcmup_net_forward_layer, w.net, w.x, x_ok, B, 2,
              PCMUP_SIGNAL_POST, out, off_by_one(h_ok, k));
    }
    assert_sentinel(out, TU_COUNT(out), "a forward pass with a wrong count");
    assert_net_is(w.net, before, len, "a forward pass with a wrong count");
    free(before);
    /* The message gives both counts. */
    FAILS(PCMUP_ERR_SHAPE, pcmup_net_forward, w.net, w.x, x_ok - 1, B, out, f_ok);
    ck_assert_str_eq(pcmup_last_error(),
                     "pcmup_net_forward: x_count is 19, expected 20 (4 x 5)");
    TU_OK(pcmup_net_forward(w.net, w.x, x_ok, B, out, f_ok));
    TU_OK(pcmup_net_forward_layer(w.net, w.x, x_ok, B, 2, PCMUP_SIGNAL_PRE, out, h_ok));
}
END_TEST

START_TEST(bias_unsupported)
{
    float buf[8] = {0};
    for (size_t l = 1; l <= NL; l++) {
        FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_net_get_bias, w.plain, l, buf, WIDTHS[l]);
        FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_net_set_bias, w.plain, l, buf, WIDTHS[l]);
    }
}
END_TEST

START_TEST(nonfinite_weights_and_bias)
{
    const float bad[] = {NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < 3; i++) {
        float v[42];
        TU_OK(pcmup_net_get_weights(w.net, 2, v, 42));
        v[41] = bad[i]; /* the last value: every one must be checked */
        FAILS(PCMUP_ERR_INVALID, pcmup_net_set_weights, w.net, 2, v, 42);
        float b[6] = {0};
        b[5] = bad[i];
        FAILS(PCMUP_ERR_INVALID, pcmup_net_set_bias, w.net, 2, b, 6);
    }
}
END_TEST

/* set_weights stores w = W / multiplier in float. With a = -2 at r = 1/64
 * (widths {4, 1, 3}, base 64) the multiplier is 2^-12, so a finite
 * W = 1e35 needs w = 4.1e38 > FLT_MAX. The call must refuse it (INVALID,
 * nothing stored) or store it so that get_weights gives W back; it must
 * not leave a non-finite weight inside the network. */
START_TEST(set_weights_overflow)
{
    TU_OK(pcmup_param_create(&w.p2, 2, PCMUP_PRESET_SP, NULL));
    TU_OK(pcmup_param_set_layer(w.p2, 2, PCMUP_LAYER_A, -2.0));
    TU_OK(pcmup_net_create(&w.net2, (size_t[]){4, 1, 3}, 3, PCMUP_ACT_TANH, 0, w.p2, 1, NULL));
    double m;
    TU_OK(pcmup_net_layer_factors(w.net2, 2, &m, 1));
    ck_assert_double_eq(m, 0x1.0p-12);
    float before[3], v[3] = {1e35f, -1e35f, 1.0f}, back[3];
    TU_OK(pcmup_net_get_weights(w.net2, 2, before, 3));
    pcmup_status s = pcmup_net_set_weights(w.net2, 2, v, 3);
    TU_OK(pcmup_net_get_weights(w.net2, 2, back, 3));
    if (s == PCMUP_ERR_INVALID) {
        ck_assert(memcmp(back, before, sizeof back) == 0);
        return;
    }
    ck_assert_msg(s == PCMUP_OK, "-> %s", pcmup_status_name(s));
    for (int i = 0; i < 3; i++)
        ck_assert_msg(back[i] == v[i], "set %g, read back %g", v[i], back[i]);
}
END_TEST

START_TEST(invalid_forward)
{
    float out[2 * B * 7];
    float x[B * D];
    FAILS(PCMUP_ERR_INVALID, pcmup_net_forward, w.net, w.x, 0, 0, out, 0);
    FAILS(PCMUP_ERR_INVALID, pcmup_net_forward_layer, w.net, w.x, 0, 0, 1, PCMUP_SIGNAL_PRE, out,
          0);
    /* Too large for BLAS integers: refused before x is read. */
    FAILS(PCMUP_ERR_INVALID, pcmup_net_forward, w.net, w.x, B * D, (size_t)1 << 31, out, B * C);
    FAILS(PCMUP_ERR_INVALID, pcmup_net_forward, w.net, w.x, B * D, (size_t)-1, out, B * C);
    FAILS(PCMUP_ERR_INVALID, pcmup_net_forward_layer, w.net, w.x, B * D, B, 1,
          (pcmup_signal)BAD_ENUM, out, B * 7);
    FAILS(PCMUP_ERR_INVALID, pcmup_net_forward_layer, w.net, w.x, B * D, B, 1, (pcmup_signal)-1,
          out, B * 7);
    const float bad[] = {NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < 3; i++) {
        memcpy(x, w.x, sizeof x);
        x[B * D - 1] = bad[i];
        FAILS(PCMUP_ERR_INVALID, pcmup_net_forward, w.net, x, B * D, B, out, B * C);
        FAILS(PCMUP_ERR_INVALID, pcmup_net_forward_layer, w.net, x, B * D, B, 2,
              PCMUP_SIGNAL_POST, out, B * 6);
    }
}
END_TEST

START_TEST(unchanged_after_set_weights)
{
    size_t len;
    float *before = net_snapshot(w.net, &len);
    float v[42];
    TU_OK(pcmup_net_get_weights(w.net, 2, v, 42));
    for (size_t i = 0; i < 42; i++)
        v[i] += 1.0f;
    v[21] = NAN; /* in the middle: the first half must not have been stored */
    FAILS(PCMUP_ERR_INVALID, pcmup_net_set_weights, w.net, 2, v, 42);
    assert_net_is(w.net, before, len, "set_weights with a NaN");
    v[21] = 0.0f;
    FAILS(PCMUP_ERR_SHAPE, pcmup_net_set_weights, w.net, 2, v, 41);
    FAILS(PCMUP_ERR_INVALID, pcmup_net_set_weights, w.net, NL + 1, v, 42);
    assert_net_is(w.net, before, len, "set_weights with a bad count or layer");
    float b[7] = {1, 2, 3, 4, 5, 6, 7};
    FAILS(PCMUP_ERR_SHAPE, pcmup_net_set_bias, w.net, 2, b, 7);
    b[3] = INFINITY;
    FAILS(PCMUP_ERR_INVALID, pcmup_net_set_bias, w.net, 2, b, 6);
    assert_net_is(w.net, before, len, "set_bias");
    free(before);
}
END_TEST

START_TEST(unchanged_after_forward)
{
    size_t len;
    float *before = net_snapshot(w.net, &len);
    float x[B * D], out[B * C];
    memcpy(x, w.x, sizeof x);
    x[7] = NAN;
    FAILS(PCMUP_ERR_INVALID, pcmup_net_forward, w.net, x, B * D, B, out, B * C);
    assert_net_is(w.net, before, len, "a failing forward");
    free(before);
}
END_TEST

/* The builder and the description API: NULL pointers, bad enums and
 * flags, bad sizes; outputs stay unwritten on failure. */
START_TEST(null_and_invalid_cnn_api)
{
    pcmup_net_builder *b = NULL;
    pcmup_net *net = NULL;
    size_t n = 7, c = 7, h = 7, wd = 7, dims[4] = {7, 7, 7, 7};
    char text[8] = "keep";
    FAILS(PCMUP_ERR_NULL, pcmup_net_builder_create, NULL, NULL);
    TU_OK(pcmup_net_builder_create(&b, NULL));
    FAILS(PCMUP_ERR_NULL, pcmup_net_builder_add_conv, NULL, 3, 1, 1, 4, 0);
    FAILS(PCMUP_ERR_NULL, pcmup_net_builder_add_dense, NULL, 3, 0);
    FAILS(PCMUP_ERR_NULL, pcmup_net_builder_set_activation, NULL, PCMUP_ACT_TANH);
    FAILS(PCMUP_ERR_NULL, pcmup_net_builder_add_pool, NULL, PCMUP_POOL_MAX2);
    FAILS(PCMUP_ERR_NULL, pcmup_net_builder_parse, NULL, "simplecnn");
    FAILS(PCMUP_ERR_NULL, pcmup_net_builder_parse, b, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_net_builder_n_layers, b, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_net_builder_n_layers, NULL, &n);
    FAILS(PCMUP_ERR_NULL, pcmup_net_builder_check, NULL, 1, 28, 28, 4);
    FAILS(PCMUP_ERR_INVALID, pcmup_net_builder_check, b, 1, 28, 28, 4); /* no layers */
    FAILS(PCMUP_ERR_INVALID, pcmup_net_builder_add_dense, b, 3, 2u);
    FAILS(PCMUP_ERR_INVALID, pcmup_net_builder_add_dense, b, 0, 0);
    FAILS(PCMUP_ERR_INVALID, pcmup_net_create_from_builder, &net, b, 1, 28, 28, 4,
          PCMUP_ACT_TANH, 0, w.param, 1, NULL);
    TU_OK(pcmup_net_builder_parse(b, "conv3p1:M tanh maxpool2 dense:M dense:3"));
    FAILS(PCMUP_ERR_NULL, pcmup_net_create_from_builder, NULL, b, 1, 8, 8, 4, PCMUP_ACT_TANH,
          0, w.param, 1, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_net_create_from_builder, &net, NULL, 1, 8, 8, 4,
          PCMUP_ACT_TANH, 0, w.param, 1, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_net_create_from_builder, &net, b, 1, 8, 8, 4, PCMUP_ACT_TANH,
          0, NULL, 1, NULL);
    FAILS(PCMUP_ERR_INVALID, pcmup_net_create_from_builder, &net, b, 0, 8, 8, 4,
          PCMUP_ACT_TANH, 0, w.param, 1, NULL);
    FAILS(PCMUP_ERR_INVALID, pcmup_net_create_from_builder, &net, b, 1, 8, 8, 0,
          PCMUP_ACT_TANH, 0, w.param, 1, NULL);
    FAILS(PCMUP_ERR_INVALID, pcmup_net_create_from_builder, &net, b, 1, 8, 8, 4,
          (pcmup_activation)BAD_ENUM, 0, w.param, 1, NULL);
    FAILS(PCMUP_ERR_INVALID, pcmup_net_create_from_builder, &net, b, 1, 8, 8, 4,
          PCMUP_ACT_TANH, 4u, w.param, 1, NULL);
    FAILS(PCMUP_ERR_SHAPE, pcmup_net_create_from_builder, &net, b, 1, 7, 7, 4, PCMUP_ACT_TANH,
          0, w.param, 1, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_net_create_from_text, &net, NULL, 1, 8, 8, 4, PCMUP_ACT_TANH,
          0, w.param, 1, NULL);
    FAILS(PCMUP_ERR_INVALID, pcmup_net_create_from_text, &net, "dense:3 conv3p1:4", 1, 8, 8,
          4, PCMUP_ACT_TANH, 0, w.param, 1, NULL);
    ck_assert_ptr_null(net);
    TU_OK(pcmup_net_create_from_builder(&net, b, 1, 8, 8, 4, PCMUP_ACT_TANH, 0, w.param, 1,
                                        NULL));
    FAILS(PCMUP_ERR_NULL, pcmup_net_describe, NULL, text, sizeof text, &n);
    FAILS(PCMUP_ERR_NULL, pcmup_net_describe, net, text, sizeof text, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_net_describe, net, NULL, sizeof text, &n);
    FAILS(PCMUP_ERR_NULL, pcmup_net_input_shape, net, &c, &h, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_net_weight_shape, net, 1, NULL, 4, &n);
    FAILS(PCMUP_ERR_INVALID, pcmup_net_weight_shape, net, 0, dims, 4, &n);
    FAILS(PCMUP_ERR_INVALID, pcmup_net_weight_shape, net, NL + 1, dims, 4, &n);
    ck_assert_str_eq(text, "keep");
    ck_assert(n == 7 && c == 7 && h == 7 && wd == 7 && dims[0] == 7);
    /* A short buffer gets the start of the text and the whole length. */
    TU_OK(pcmup_net_describe(net, text, sizeof text, &n));
    ck_assert_str_eq(text, "conv3p1");
    ck_assert_uint_eq(n, strlen("conv3p1:M tanh maxpool2 dense:M dense:3"));
    TU_OK(pcmup_net_weight_shape(net, 1, dims, 2, &n));
    ck_assert(n == 4 && dims[0] == 4 && dims[1] == 1 && dims[2] == 7);
    pcmup_net_free(net);
    pcmup_net_builder_free(b);
    pcmup_net_builder_free(NULL);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {
        null_net_create,
        null_net_queries,
        null_net_arrays,
        invalid_net_create,
        invalid_net_widths,
        net_too_large,
        invalid_net_layer,
        shape_net_counts,
        shape_net_create,
        shape_forward_counts,
        bias_unsupported,
        nonfinite_weights_and_bias,
        set_weights_overflow,
        invalid_forward,
        unchanged_after_set_weights,
        unchanged_after_forward,
        null_and_invalid_cnn_api,
    };
    return api_run("api_net", 60, tests, TU_COUNT(tests));
}
