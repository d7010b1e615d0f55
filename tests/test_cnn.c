/* SPDX-License-Identifier: MIT */
/*
 * test_cnn.c -- convolutional networks through the public API: the builder
 * and the one-line description make the same network, refused calls name
 * the token and change nothing, shapes and weights read back as stated,
 * the forward pass matches loops written here, BP's update is the loss
 * gradient by finite differences on layer kinds the reference vectors do
 * not cover (stride 2, biases, average pooling, relu), and the rules that
 * take dense layers only refuse a CNN by name.
 */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SMALL "conv3p1:M tanh maxpool2 conv3p1s2:2M relu avgpool2 dense:3"

static pcmup_param *param3(pcmup_preset preset)
{
    pcmup_param *p = tu_param(3, preset, 0.0);
    TU_OK(pcmup_param_set(p, PCMUP_PARAM_BASE_WIDTH, 2));
    return p;
}

static pcmup_net *small_net(unsigned flags, uint64_t seed)
{
    pcmup_param *p = param3(PCMUP_PRESET_MUP_SGD);
    pcmup_net *net;
    /* 2 x 8 x 8 inputs, M = 2: conv 2->2 on 8x8, pool to 4x4, conv 2->4
     * stride 2 to 2x2, pool to 1x1, dense 4->3. */
    TU_OK(pcmup_net_create_from_text(&net, SMALL, 2, 8, 8, 2, PCMUP_ACT_TANH, flags, p, seed,
                                     NULL));
    pcmup_param_free(p);
    return net;
}

static char *describe(const pcmup_net *net)
{
    size_t n;
    TU_OK(pcmup_net_describe(net, NULL, 0, &n));
    char *text = malloc(n + 1);
    size_t again;
    TU_OK(pcmup_net_describe(net, text, n + 1, &again));
    ck_assert_uint_eq(again, n);
    ck_assert_uint_eq(strlen(text), n);
    return text;
}

/* The builder's calls and the text give the same network, bit for bit. */
START_TEST(builder_matches_text)
{
    pcmup_net_builder *b;
    TU_OK(pcmup_net_builder_create(&b, NULL));
    TU_OK(pcmup_net_builder_add_conv(b, 3, 1, 1, 1, PCMUP_LAYER_PER_WIDTH));
    TU_OK(pcmup_net_builder_set_activation(b, PCMUP_ACT_TANH));
    TU_OK(pcmup_net_builder_add_pool(b, PCMUP_POOL_MAX2));
    TU_OK(pcmup_net_builder_add_conv(b, 3, 2, 1, 2, PCMUP_LAYER_PER_WIDTH));
    TU_OK(pcmup_net_builder_set_activation(b, PCMUP_ACT_RELU));
    TU_OK(pcmup_net_builder_add_pool(b, PCMUP_POOL_AVG2));
    TU_OK(pcmup_net_builder_add_dense(b, 3, 0));
    size_t n_layers;
    TU_OK(pcmup_net_builder_n_layers(b, &n_layers));
    ck_assert_uint_eq(n_layers, 3);
    pcmup_param *p = param3(PCMUP_PRESET_MUP_SGD);
    pcmup_net *built;
    TU_OK(pcmup_net_create_from_builder(&built, b, 2, 8, 8, 2, PCMUP_ACT_TANH, 0, p, 7, NULL));
    pcmup_net *from_text = small_net(0, 7);
    char *t1 = describe(built), *t2 = describe(from_text);
    ck_assert_str_eq(t1, t2);
    ck_assert_str_eq(t1, "conv3p1:M tanh maxpool2 conv3p1s2:2M relu avgpool2 dense:3");
    for (size_t l = 1; l <= 3; l++) {
        size_t n1, n2;
        float *w1 = tu_layer_weights(built, l, &n1), *w2 = tu_layer_weights(from_text, l, &n2);
        ck_assert_uint_eq(n1, n2);
        ck_assert_int_eq(memcmp(w1, w2, n1 * sizeof *w1), 0);
        free(w1);
        free(w2);
    }
    free(t1);
    free(t2);
    pcmup_net_free(built);
    pcmup_net_free(from_text);
    pcmup_param_free(p);
    pcmup_net_builder_free(b);
}
END_TEST

/* A refused call names the token and leaves the builder as it was. */
START_TEST(builder_refusals)
{
    pcmup_net_builder *b;
    TU_OK(pcmup_net_builder_create(&b, NULL));
    TU_FAILS_IN(PCMUP_ERR_INVALID, pcmup_net_builder_add_pool, b, PCMUP_POOL_MAX2);
    TU_FAILS_IN(PCMUP_ERR_INVALID, pcmup_net_builder_add_conv, b, 3, 1, 1, 0, 0);
    ck_assert_ptr_nonnull(strstr(pcmup_last_error(), "'conv3p1:0'"));
    TU_FAILS_IN(PCMUP_ERR_INVALID, pcmup_net_builder_add_conv, b, 3, 0, 1, 4, 0);
    TU_FAILS_IN(PCMUP_ERR_INVALID, pcmup_net_builder_add_conv, b, 3, 1, 1, 4, 8u);
    TU_OK(pcmup_net_builder_add_dense(b, 8, 0));
    TU_FAILS_IN(PCMUP_ERR_INVALID, pcmup_net_builder_add_pool, b, PCMUP_POOL_AVG2);
    ck_assert_ptr_nonnull(strstr(pcmup_last_error(), "pooling after a dense layer"));
    TU_FAILS_IN(PCMUP_ERR_INVALID, pcmup_net_builder_add_conv, b, 3, 1, 1, 4, 0);
    ck_assert_ptr_nonnull(strstr(pcmup_last_error(), "convolution after a dense layer"));
    TU_FAILS_IN(PCMUP_ERR_INVALID, pcmup_net_builder_set_activation, b, (pcmup_activation)9);
    TU_FAILS_IN(PCMUP_ERR_INVALID, pcmup_net_builder_add_pool, b, (pcmup_pool)0);
    TU_OK(pcmup_net_builder_set_activation(b, PCMUP_ACT_RELU));
    TU_FAILS_IN(PCMUP_ERR_INVALID, pcmup_net_builder_set_activation, b, PCMUP_ACT_TANH);
    size_t n_layers;
    TU_OK(pcmup_net_builder_n_layers(b, &n_layers));
    ck_assert_uint_eq(n_layers, 1);
    /* One dense layer, then the output layer: a 2-layer MLP. */
    TU_OK(pcmup_net_builder_add_dense(b, 3, 0));
    TU_OK(pcmup_net_builder_check(b, 1, 4, 4, 8));
    pcmup_param *p = tu_param(2, PCMUP_PRESET_SP, 0.0);
    pcmup_net *net;
    TU_OK(pcmup_net_create_from_builder(&net, b, 1, 4, 4, 8, PCMUP_ACT_TANH, 0, p, 1, NULL));
    char *text = describe(net);
    ck_assert_str_eq(text, "dense:8 relu dense:3");
    free(text);
    pcmup_net_free(net);
    /* A description that does not end with a dense layer cannot be built. */
    TU_OK(pcmup_net_builder_parse(b, "simplecnn"));
    TU_FAILS_IN(PCMUP_ERR_INVALID, pcmup_net_builder_parse, b, "conv3p1:4 tanh");
    /* The output layer has no activation: a written one is refused, not
     * ignored. */
    TU_FAILS_IN(PCMUP_ERR_INVALID, pcmup_net_builder_parse, b, "conv3p1:4 dense:3 relu");
    TU_OK(pcmup_net_builder_n_layers(b, &n_layers));
    ck_assert_uint_eq(n_layers, 3);
    /* Pooling an odd size: the shape, not the grammar. */
    TU_FAILS_IN(PCMUP_ERR_SHAPE, pcmup_net_builder_check, b, 1, 14, 14, 4);
    ck_assert_ptr_nonnull(strstr(pcmup_last_error(), "maxpool2"));
    TU_OK(pcmup_net_builder_check(b, 1, 28, 28, 4));
    /* The parameterization must have the description's depth. */
    pcmup_net *none = NULL;
    TU_FAILS_IN(PCMUP_ERR_SHAPE, pcmup_net_create_from_builder, &none, b, 1, 28, 28, 4,
                PCMUP_ACT_TANH, 0, p, 1, NULL);
    ck_assert_ptr_null(none);
    pcmup_param_free(p);
    pcmup_net_builder_free(b);
}
END_TEST

/* Shapes: the weight shape, the linear map's sizes, the input shape, bias
 * counts; get and set round-trip a conv layer's weights. */
START_TEST(shapes_and_weights)
{
    pcmup_net *net = small_net(PCMUP_NET_BIAS, 3);
    size_t dims[4], rank, out, in;
    TU_OK(pcmup_net_weight_shape(net, 2, dims, 4, &rank));
    ck_assert_uint_eq(rank, 4);
    ck_assert_uint_eq(dims[0], 4);
    ck_assert_uint_eq(dims[1], 2);
    ck_assert_uint_eq(dims[2], 3);
    ck_assert_uint_eq(dims[3], 3);
    TU_OK(pcmup_net_weight_shape(net, 3, dims, 4, &rank));
    ck_assert_uint_eq(rank, 2);
    ck_assert_uint_eq(dims[0], 3);
    ck_assert_uint_eq(dims[1], 4);
    TU_OK(pcmup_net_layer_shape(net, 1, &out, &in));
    ck_assert_uint_eq(out, 2 * 8 * 8);
    ck_assert_uint_eq(in, 2 * 8 * 8);
    size_t c, h, w;
    TU_OK(pcmup_net_input_shape(net, &c, &h, &w));
    ck_assert(c == 2 && h == 8 && w == 8);
    float wt[72], back[72], bias[4] = {0.5f, -1, 2, 0};
    for (size_t i = 0; i < 72; i++)
        wt[i] = (float)i / 64.0f - 0.5f;
    TU_FAILS_IN(PCMUP_ERR_SHAPE, pcmup_net_set_weights, net, 2, wt, 2 * 4 * 2 * 4);
    TU_OK(pcmup_net_set_weights(net, 2, wt, 72));
    TU_OK(pcmup_net_get_weights(net, 2, back, 72));
    for (size_t i = 0; i < 72; i++)
        ck_assert_float_eq_tol(back[i], wt[i], 2e-7f * fabsf(wt[i]) + 1e-30f);
    TU_FAILS_IN(PCMUP_ERR_SHAPE, pcmup_net_set_bias, net, 2, bias, 2 * 2 * 4);
    TU_OK(pcmup_net_set_bias(net, 2, bias, 4));
    size_t count;
    TU_OK(pcmup_net_param_count(net, &count));
    ck_assert_uint_eq(count, (36 + 2) + (72 + 4) + (12 + 3));
    pcmup_net_free(net);
}
END_TEST

/* y = tanh of a 3x3 pad-1 cross-correlation of x (1 x n x n) with k, then
 * 2x2 max pooling: the first layer of a net, written as plain loops. */
static void conv_tanh_maxpool(const float *x, size_t n, const float *k, size_t c_out,
                              float *pooled)
{
    const size_t m = n / 2;
    for (size_t o = 0; o < c_out; o++)
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < m; j++) {
                double best = -INFINITY;
                for (size_t di = 0; di < 2; di++)
                    for (size_t dj = 0; dj < 2; dj++) {
                        const long r0 = (long)(2 * i + di), c0 = (long)(2 * j + dj);
                        double u = 0;
                        for (long s = -1; s <= 1; s++)
                            for (long t = -1; t <= 1; t++) {
                                long r = r0 + s, cc = c0 + t;
                                if (r >= 0 && cc >= 0 && r < (long)n && cc < (long)n)
                                    u += k[o * 9 + (size_t)(s + 1) * 3 + (size_t)(t + 1)]
                                         * x[(size_t)r * n + (size_t)cc];
                            }
                        best = fmax(best, tanh(u));
                    }
                pooled[(o * m + i) * m + j] = (float)best;
            }
}

START_TEST(forward_matches_loops)
{
    /* A 3x3 first layer, checked sample by sample against the loops. */
    pcmup_param *p = tu_param(2, PCMUP_PRESET_SP, 0.0);
    pcmup_net *net;
    TU_OK(pcmup_net_create_from_text(&net, "conv3p1:M tanh maxpool2 dense:10", 1, 12, 12, 3,
                                     PCMUP_ACT_TANH, 0, p, 5, NULL));
    float *x = tu_gaussian(2 * 144, 11);
    size_t n_w;
    float *w1 = tu_layer_weights(net, 1, &n_w);
    float got[2 * 108], pre[2 * 432], want[108];
    TU_OK(pcmup_net_forward_layer(net, x, 288, 2, 1, PCMUP_SIGNAL_POST, got, 216));
    TU_FAILS_IN(PCMUP_ERR_SHAPE, pcmup_net_forward_layer, net, x, 288, 2, 1, PCMUP_SIGNAL_PRE,
                got, 216);
    TU_OK(pcmup_net_forward_layer(net, x, 288, 2, 1, PCMUP_SIGNAL_PRE, pre, 864));
    for (size_t b = 0; b < 2; b++) {
        conv_tanh_maxpool(x + b * 144, 12, w1, 3, want);
        for (size_t i = 0; i < 108; i++)
            ck_assert_msg(fabsf(got[b * 108 + i] - want[i]) < 1e-5f, "sample %zu value %zu: %g vs %g",
                          b, i, got[b * 108 + i], want[i]);
    }
    free(w1);
    free(x);
    pcmup_net_free(net);
    pcmup_param_free(p);
}
END_TEST

/* BP's recorded update is -eta_l times the gradient of the batch loss,
 * which central differences of pcmup_algo_evaluate's loss give
 * independently, on a net with stride 2, biases, average pooling and relu. */
START_TEST(bp_update_is_the_gradient)
{
    pcmup_net *net = small_net(PCMUP_NET_BIAS, 9);
    const size_t batch = 5, dim = 128;
    float *x = tu_gaussian(batch * dim, 21);
    int32_t *labels = tu_cyclic_labels(batch, 3);
    pcmup_dataset *data;
    TU_OK(pcmup_dataset_from_arrays(&data, batch, dim, 3, x, batch * dim, labels, NULL));
    pcmup_algo *bp;
    TU_OK(pcmup_algo_create(&bp, PCMUP_RULE_BP, net, 1, NULL));
    TU_OK(pcmup_algo_set(bp, PCMUP_SET_LOSS, PCMUP_LOSS_CE));
    TU_OK(pcmup_algo_set(bp, PCMUP_SET_RECORD_UPDATES, 1));
    const double eta = 1e-3;
    TU_OK(pcmup_algo_set(bp, PCMUP_SET_LR, eta));

    /* The finite differences first, at the starting weights. */
    double worst = 0.0;
    float grads[3][72];
    size_t n_w[3];
    for (size_t l = 1; l <= 3; l++) {
        float *w = tu_layer_weights(net, l, &n_w[l - 1]);
        for (size_t i = 0; i < n_w[l - 1]; i++) {
            const float keep = w[i], step = 1e-2f * fmaxf(fabsf(keep), 0.1f);
            double lp, lm, acc;
            w[i] = keep + step;
            TU_OK(pcmup_net_set_weights(net, l, w, n_w[l - 1]));
            TU_OK(pcmup_algo_evaluate(bp, data, &lp, &acc));
            w[i] = keep - step;
            TU_OK(pcmup_net_set_weights(net, l, w, n_w[l - 1]));
            TU_OK(pcmup_algo_evaluate(bp, data, &lm, &acc));
            w[i] = keep;
            TU_OK(pcmup_net_set_weights(net, l, w, n_w[l - 1]));
            grads[l - 1][i] = (float)((lp - lm) / (2.0 * (double)step));
        }
        free(w);
    }
    TU_OK(pcmup_algo_step(bp, x, batch * dim, labels, batch, NULL));
    for (size_t l = 1; l <= 3; l++) {
        float upd[72];
        TU_OK(pcmup_algo_last_update(bp, l, upd, n_w[l - 1]));
        const double eta_l = eta * tu_net_factor(net, l, PCMUP_FACTOR_LR);
        /* dW = -eta_l grad W, with W = m w and the gradient taken in W. */
        double num = 0, den = 0;
        for (size_t i = 0; i < n_w[l - 1]; i++) {
            double want = -eta_l * grads[l - 1][i]
                          * pow(tu_net_factor(net, l, PCMUP_FACTOR_MULTIPLIER), 2);
            num += (upd[i] - want) * (upd[i] - want);
            den += want * want;
        }
        double rel = sqrt(num / den);
        worst = rel > worst ? rel : worst;
        ck_assert_msg(rel < 2e-2, "layer %zu: update vs finite differences %.3g", l, rel);
    }
    pcmup_algo_free(bp);
    pcmup_dataset_free(data);
    pcmup_net_free(net);
    free(x);
    free(labels);
}
END_TEST

/* With forward initialisation, one sequential sweep, kappa gamma = 1 and
 * the fixed prediction assumption, PC's update is BP's exactly
 * (paper-spec, "FPA"; gamma_L = 1 here): on a CNN this pins FPA's use of
 * the feedforward phi(u) and pooled h through every layer kind. */
START_TEST(pc_fpa_is_bp)
{
    const size_t batch = 6, dim = 128;
    float *x = tu_gaussian(batch * dim, 8);
    int32_t *labels = tu_cyclic_labels(batch, 3);
    pcmup_net *nets[2] = {small_net(PCMUP_NET_BIAS, 4), small_net(PCMUP_NET_BIAS, 4)};
    pcmup_algo *bp, *pc;
    TU_OK(pcmup_algo_create(&bp, PCMUP_RULE_BP, nets[0], 1, NULL));
    TU_OK(pcmup_algo_create(&pc, PCMUP_RULE_PC, nets[1], 1, NULL));
    pcmup_algo *both[2] = {bp, pc};
    for (int i = 0; i < 2; i++) {
        TU_OK(pcmup_algo_set(both[i], PCMUP_SET_LR, 0.05));
        TU_OK(pcmup_algo_set(both[i], PCMUP_SET_RECORD_UPDATES, 1));
    }
    TU_OK(pcmup_algo_set(pc, PCMUP_SET_PC_FPA, 1));
    TU_OK(pcmup_algo_step(bp, x, batch * dim, labels, batch, NULL));
    TU_OK(pcmup_algo_step(pc, x, batch * dim, labels, batch, NULL));
    const size_t n_w[3] = {36, 72, 12};
    for (size_t l = 1; l <= 3; l++) {
        float ub[72], up[72];
        TU_OK(pcmup_algo_last_update(bp, l, ub, n_w[l - 1]));
        TU_OK(pcmup_algo_last_update(pc, l, up, n_w[l - 1]));
        double num = 0, den = 0;
        for (size_t i = 0; i < n_w[l - 1]; i++) {
            num += (double)(up[i] - ub[i]) * (up[i] - ub[i]);
            den += (double)ub[i] * ub[i];
        }
        ck_assert_msg(den > 0 && sqrt(num / den) < 1e-5, "layer %zu: PC-FPA vs BP %.3g", l,
                      sqrt(num / den));
    }
    /* Without FPA the same step differs: the check can fail. */
    pcmup_algo_free(pc);
    pcmup_net_free(nets[1]);
    nets[1] = small_net(PCMUP_NET_BIAS, 4);
    TU_OK(pcmup_algo_create(&pc, PCMUP_RULE_PC, nets[1], 1, NULL));
    TU_OK(pcmup_algo_set(pc, PCMUP_SET_LR, 0.05));
    TU_OK(pcmup_algo_set(pc, PCMUP_SET_RECORD_UPDATES, 1));
    TU_OK(pcmup_algo_step(pc, x, batch * dim, labels, batch, NULL));
    /* (Layer 1's update is BP's even so: its input X does not move and
     * its error is BP's after one sweep; layer 2's input g(x_1) moved.) */
    float ub[72], up[72];
    TU_OK(pcmup_algo_last_update(bp, 2, ub, 72));
    TU_OK(pcmup_algo_last_update(pc, 2, up, 72));
    double diff = 0;
    for (size_t i = 0; i < 72; i++)
        diff = fmax(diff, fabs((double)up[i] - ub[i]));
    ck_assert_msg(diff > 1e-6, "PC without FPA equals BP (%g)", diff);
    pcmup_algo_free(bp);
    pcmup_algo_free(pc);
    pcmup_net_free(nets[0]);
    pcmup_net_free(nets[1]);
    free(x);
    free(labels);
}
END_TEST

/* TP, DTP and GNT are defined for dense layers; they refuse a CNN and
 * name the layer. BP and PC take it. */
START_TEST(dense_only_rules_refuse)
{
    pcmup_net *net = small_net(0, 1);
    const pcmup_rule dense_only[] = {PCMUP_RULE_TP, PCMUP_RULE_DTP, PCMUP_RULE_GNT};
    for (size_t i = 0; i < 3; i++) {
        pcmup_algo *a = NULL;
        TU_FAILS_IN(PCMUP_ERR_UNSUPPORTED, pcmup_algo_create, &a, dense_only[i], net, 1, NULL);
        ck_assert_ptr_nonnull(strstr(pcmup_last_error(), "layer 1 is a convolution"));
        ck_assert_ptr_null(a);
    }
    pcmup_algo *ok;
    TU_OK(pcmup_algo_create(&ok, PCMUP_RULE_PC, net, 1, NULL));
    pcmup_algo_free(ok);
    TU_OK(pcmup_algo_create(&ok, PCMUP_RULE_BP, net, 1, NULL));
    pcmup_algo_free(ok);
    pcmup_net_free(net);
}
END_TEST

/* The coordinate check rebuilds a described network at each width M. */
START_TEST(coord_check_on_a_cnn)
{
    pcmup_net *net = small_net(0, 1);
    pcmup_algo *pc;
    TU_OK(pcmup_algo_create(&pc, PCMUP_RULE_PC, net, 1, NULL));
    TU_OK(pcmup_algo_set(pc, PCMUP_SET_LR, 0.05));
    const size_t batch = 4, widths[2] = {2, 8}, steps[2] = {1, 3};
    float *x = tu_gaussian(batch * 128, 3);
    int32_t *labels = tu_cyclic_labels(batch, 3);
    double dh[2 * 2 * 3], h[2 * 2 * 3];
    TU_OK(pcmup_coord_check(pc, widths, 2, x, batch * 128, labels, batch, NULL, 0, 0, steps, 2,
                            4, dh, h, 12));
    for (size_t i = 0; i < 12; i++) {
        ck_assert_msg(isfinite(dh[i]) && dh[i] > 0, "dh[%zu] = %g", i, dh[i]);
        ck_assert_msg(isfinite(h[i]) && h[i] > 0, "h[%zu] = %g", i, h[i]);
    }
    pcmup_algo_free(pc);
    pcmup_net_free(net);
    free(x);
    free(labels);
}
END_TEST

/* Every allocation of a CNN's life -- the builder, the net, BP and PC,
 * steps -- may fail: the call returns PCMUP_ERR_NOMEM, frees what it took
 * and leaves the weights as they were; with no failure the same sequence
 * succeeds. */
static int cnn_life(size_t fail_after, size_t *n_alloc)
{
    tu_counter cnt = {0};
    pcmup_allocator a = tu_counting_allocator(&cnt);
    pcmup_param *p = param3(PCMUP_PRESET_MUP_PC);
    float *x = tu_gaussian(4 * 128, 5);
    int32_t *labels = tu_cyclic_labels(4, 3);
    pcmup_net_builder *b = NULL;
    pcmup_net *net = NULL;
    pcmup_algo *algo = NULL;
    float before[72], after[72];
    int failed = 0;
    cnt.fail_after = fail_after;
    pcmup_status s = pcmup_net_builder_create(&b, &a);
    if (s == PCMUP_OK)
        s = pcmup_net_builder_parse(b, SMALL);
    if (s == PCMUP_OK)
        s = pcmup_net_create_from_builder(&net, b, 2, 8, 8, 2, PCMUP_ACT_TANH, PCMUP_NET_BIAS,
                                          p, 1, &a);
    const pcmup_rule rules[2] = {PCMUP_RULE_BP, PCMUP_RULE_PC};
    for (int i = 0; i < 2 && s == PCMUP_OK; i++) {
        s = pcmup_algo_create(&algo, rules[i], net, 1, &a);
        if (s == PCMUP_OK)
            s = pcmup_algo_set(algo, PCMUP_SET_MOMENTUM, 0.5);
        for (size_t batch = 2; batch <= 4 && s == PCMUP_OK; batch += 2) {
            TU_OK(pcmup_net_get_weights(net, 2, before, 72));
            s = pcmup_algo_step(algo, x, batch * 128, labels, batch, NULL);
            TU_OK(pcmup_net_get_weights(net, 2, after, 72));
            if (s != PCMUP_OK)
                ck_assert_int_eq(memcmp(before, after, sizeof before), 0);
        }
        pcmup_algo_free(algo);
        algo = NULL;
    }
    if (s != PCMUP_OK) {
        ck_assert_msg(s == PCMUP_ERR_NOMEM, "failure %zu: %s", fail_after, pcmup_last_error());
        failed = 1;
    }
    pcmup_net_free(net);
    pcmup_net_builder_free(b);
    ck_assert_msg(cnt.live == 0, "failure %zu: %ld blocks leaked", fail_after, cnt.live);
    *n_alloc = cnt.n_malloc + cnt.n_realloc;
    pcmup_param_free(p);
    free(x);
    free(labels);
    return failed;
}

START_TEST(nomem_everywhere)
{
    size_t total;
    ck_assert_int_eq(cnn_life(0, &total), 0);
    ck_assert_uint_gt(total, 10);
    for (size_t k = 1; k <= total; k++) {
        size_t n;
        ck_assert_msg(cnn_life(k, &n) == 1, "allocation %zu of %zu did not fail the run", k,
                      total);
    }
}
END_TEST

int main(void)
{
    const TTest *tests[] = {
        builder_matches_text, builder_refusals,        shapes_and_weights,
        forward_matches_loops, bp_update_is_the_gradient, dense_only_rules_refuse,
        coord_check_on_a_cnn,  nomem_everywhere,         pc_fpa_is_bp,
    };
    return tu_run_tests("cnn", 0, NULL, NULL, tests, TU_COUNT(tests));
}
