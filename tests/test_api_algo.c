/* SPDX-License-Identifier: MIT */
/*
 * test_api_algo.c -- pcmup_algo at the edges of the API (api_fixture.h):
 * the documented settings, NULL pointers, invalid rules, settings, batches
 * and labels, datasets that do not fit the network, counts that do not
 * match a shape (for the step, the trial and reference updates, the
 * alignment summaries, the coordinate check and PC's linear equilibrium),
 * and a failed or diverged step or epoch leaves the network and the
 * algorithm as they were.
 */
#include "api_fixture.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N_SETTINGS 5
static void settings_snapshot(const pcmup_algo *algo, double *out)
{
    for (int k = 0; k < N_SETTINGS; k++)
        TU_OK(pcmup_algo_get(algo, (pcmup_setting)k, &out[k]));
}

static void assert_settings_are(const pcmup_algo *algo, const double *before, const char *what)
{
    double now[N_SETTINGS];
    settings_snapshot(algo, now);
    ck_assert_msg(memcmp(now, before, sizeof now) == 0, "a setting changed after %s", what);
}

/* The common settings' defaults and ranges, as the library reports them:
 * what the INVALID checks below are measured against. */
START_TEST(algo_settings_documented)
{
    static const struct {
        pcmup_setting key;
        double fallback, lo, hi;
    } doc[] = {
        {PCMUP_SET_LR, 0.05, 0.0, 1e6},
        {PCMUP_SET_LOSS, PCMUP_LOSS_MSE, PCMUP_LOSS_MSE, PCMUP_LOSS_CE},
        {PCMUP_SET_MSE_CENTRED, 1.0, 0.0, 1.0},
        {PCMUP_SET_MOMENTUM, 0.0, 0.0, 1.0},
        {PCMUP_SET_WEIGHT_DECAY, 0.0, 0.0, 1e6},
    };
    for (size_t i = 0; i < sizeof doc / sizeof doc[0]; i++) {
        double v;
        TU_OK(pcmup_algo_get(w.algo, doc[i].key, &v));
        pcmup_bounds b = pcmup_setting_bounds(doc[i].key);
        TU_OK(b.status);
        ck_assert_msg(v == doc[i].fallback, "setting %d default %g", (int)doc[i].key, v);
        ck_assert_msg(b.lo == doc[i].lo && b.hi == doc[i].hi, "setting %d bounds [%g, %g]",
                      (int)doc[i].key, b.lo, b.hi);
    }
}
END_TEST

/* pcmup_algo_rule reports the rule each algorithm was created with. */
START_TEST(algo_reports_its_rule)
{
    const pcmup_rule rules[] = {PCMUP_RULE_BP, PCMUP_RULE_PC, PCMUP_RULE_GNT, PCMUP_RULE_TP,
                                PCMUP_RULE_DTP};
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        pcmup_algo *a;
        pcmup_rule got = (pcmup_rule)BAD_ENUM;
        TU_OK(pcmup_algo_create(&a, rules[i], w.net, 1, NULL));
        TU_OK(pcmup_algo_rule(a, &got));
        ck_assert_int_eq(got, rules[i]);
        pcmup_algo_free(a);
    }
}
END_TEST

START_TEST(null_algo)
{
    pcmup_algo *a = NULL;
    double v;
    FAILS(PCMUP_ERR_NULL, pcmup_algo_create, NULL, PCMUP_RULE_BP, w.net, 1, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_algo_create, &a, PCMUP_RULE_BP, NULL, 1, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_algo_set, NULL, PCMUP_SET_LR, 0.1);
    FAILS(PCMUP_ERR_NULL, pcmup_algo_get, NULL, PCMUP_SET_LR, &v);
    FAILS(PCMUP_ERR_NULL, pcmup_algo_get, w.algo, PCMUP_SET_LR, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_algo_rule, NULL, (pcmup_rule[1]){0});
    FAILS(PCMUP_ERR_NULL, pcmup_algo_rule, w.algo, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_setting_default, PCMUP_SET_LR, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_setting_accepts, PCMUP_SET_LR, PCMUP_RULE_BP, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_algo_step, NULL, w.x, B * D, w.labels, B, &v);
    FAILS(PCMUP_ERR_NULL, pcmup_algo_step, w.algo, NULL, B * D, w.labels, B, &v);
    FAILS(PCMUP_ERR_NULL, pcmup_algo_step, w.algo, w.x, B * D, NULL, B, &v);
    FAILS(PCMUP_ERR_NULL, pcmup_algo_train_epoch, NULL, w.data, 4, &v);
    FAILS(PCMUP_ERR_NULL, pcmup_algo_train_epoch, w.algo, NULL, 4, &v);
    FAILS(PCMUP_ERR_NULL, pcmup_algo_evaluate, NULL, w.data, &v, &v);
    FAILS(PCMUP_ERR_NULL, pcmup_algo_evaluate, w.algo, NULL, &v, &v);
    ck_assert_ptr_null(a);
}
END_TEST

START_TEST(invalid_algo_create)
{
    pcmup_algo *a = NULL;
    const pcmup_allocator *broken = broken_allocators();
    double v;
    FAILS(PCMUP_ERR_INVALID, pcmup_algo_create, &a, (pcmup_rule)BAD_ENUM, w.net, 1, NULL);
    FAILS(PCMUP_ERR_INVALID, pcmup_algo_create, &a, (pcmup_rule)-1, w.net, 1, NULL);
    for (int i = 0; i < 3; i++)
        FAILS(PCMUP_ERR_INVALID, pcmup_algo_create, &a, PCMUP_RULE_BP, w.net, 1, &broken[i]);
    FAILS(PCMUP_ERR_INVALID, pcmup_algo_set, w.algo, (pcmup_setting)BAD_ENUM, 0.1);
    FAILS(PCMUP_ERR_INVALID, pcmup_algo_set, w.algo, (pcmup_setting)-1, 0.1);
    FAILS(PCMUP_ERR_INVALID, pcmup_algo_get, w.algo, (pcmup_setting)BAD_ENUM, &v);
    int accepts;
    FAILS(PCMUP_ERR_INVALID, pcmup_setting_accepts, PCMUP_SET_LR, (pcmup_rule)BAD_ENUM,
          &accepts);
    BOUNDS_FAIL(PCMUP_ERR_INVALID, (pcmup_setting)BAD_ENUM);
    ck_assert_ptr_null(a);
}
END_TEST

/* Setting values outside the documented ranges, non-finite, and
 * non-integral values of enum-valued settings. */
START_TEST(invalid_algo_settings)
{
    static const struct {
        pcmup_setting key;
        double value;
    } bad[] = {
        {PCMUP_SET_LR, -1e-9},          {PCMUP_SET_LR, 1.000001e6},
        {PCMUP_SET_LR, NAN},            {PCMUP_SET_LR, INFINITY},
        {PCMUP_SET_LR, -INFINITY},      {PCMUP_SET_LOSS, 0.5},
        {PCMUP_SET_LOSS, 2.0},          {PCMUP_SET_LOSS, -1.0},
        {PCMUP_SET_LOSS, NAN},          {PCMUP_SET_MSE_CENTRED, 0.5},
        {PCMUP_SET_MSE_CENTRED, 2.0},   {PCMUP_SET_MSE_CENTRED, -1.0},
        {PCMUP_SET_MOMENTUM, 1.0},      {PCMUP_SET_MOMENTUM, -0.1},
        {PCMUP_SET_MOMENTUM, 1.5},      {PCMUP_SET_MOMENTUM, NAN},
        {PCMUP_SET_WEIGHT_DECAY, -1.0}, {PCMUP_SET_WEIGHT_DECAY, 2e6},
        {PCMUP_SET_WEIGHT_DECAY, NAN},  {PCMUP_SET_WEIGHT_DECAY, INFINITY},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        FAILS(PCMUP_ERR_INVALID, pcmup_algo_set, w.algo, bad[i].key, bad[i].value);
    /* The edges of the ranges are accepted; momentum's hi is exclusive. */
    TU_OK(pcmup_algo_set(w.algo, PCMUP_SET_LR, 0.0));
    TU_OK(pcmup_algo_set(w.algo, PCMUP_SET_LR, 1e6));
    TU_OK(pcmup_algo_set(w.algo, PCMUP_SET_MOMENTUM, nextafter(1.0, 0.0)));
    TU_OK(pcmup_algo_set(w.algo, PCMUP_SET_LOSS, PCMUP_LOSS_CE));
    TU_OK(pcmup_algo_set(w.algo, PCMUP_SET_WEIGHT_DECAY, 1e6));
}
END_TEST

START_TEST(invalid_step)
{
    float x[B * D];
    int32_t labels[B];
    double loss;
    FAILS(PCMUP_ERR_INVALID, pcmup_algo_step, w.algo, w.x, 0, w.labels, 0, &loss);
    FAILS(PCMUP_ERR_INVALID, pcmup_algo_step, w.algo, w.x, B * D, w.labels, (size_t)1 << 31,
          &loss);
    const int32_t bad_labels[] = {-1, C, 1000, INT32_MIN};
    for (size_t i = 0; i < 4; i++) {
        memcpy(labels, w.labels, sizeof labels);
        labels[B - 1] = bad_labels[i];
        FAILS(PCMUP_ERR_INVALID, pcmup_algo_step, w.algo, w.x, B * D, labels, B, &loss);
    }
    const float bad_x[] = {NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < 3; i++) {
        memcpy(x, w.x, sizeof x);
        x[B * D - 1] = bad_x[i];
        FAILS(PCMUP_ERR_INVALID, pcmup_algo_step, w.algo, x, B * D, w.labels, B, &loss);
    }
}
END_TEST

/* A dataset must fit the network: dim = M_0, n_classes <= M_L. */
START_TEST(shape_dataset_vs_net)
{
    pcmup_dataset *wide, *many;
    float x[2 * (D + 1)] = {0};
    TU_OK(pcmup_dataset_from_arrays(&wide, 2, D + 1, C, x, 2 * (D + 1), (int32_t[]){0, 1},
                                    NULL));
    TU_OK(pcmup_dataset_from_arrays(&many, 2, D, C + 2, x, 2 * D, (int32_t[]){0, C + 1}, NULL));
    double v;
    FAILS(PCMUP_ERR_SHAPE, pcmup_algo_train_epoch, w.algo, wide, 2, &v);
    FAILS(PCMUP_ERR_SHAPE, pcmup_algo_evaluate, w.algo, wide, &v, &v);
    FAILS(PCMUP_ERR_SHAPE, pcmup_algo_train_epoch, w.algo, many, 2, &v);
    FAILS(PCMUP_ERR_SHAPE, pcmup_algo_evaluate, w.algo, many, &v, &v);
    FAILS(PCMUP_ERR_INVALID, pcmup_algo_train_epoch, w.algo, w.data, 0, &v);
    FAILS(PCMUP_ERR_INVALID, pcmup_algo_train_epoch, w.algo, w.data, (size_t)1 << 31, &v);
    pcmup_dataset_free(wide);
    pcmup_dataset_free(many);
}
END_TEST

START_TEST(unchanged_settings)
{
    TU_OK(pcmup_algo_set(w.algo, PCMUP_SET_LR, 0.37));
    TU_OK(pcmup_algo_set(w.algo, PCMUP_SET_MOMENTUM, 0.5));
    double before[N_SETTINGS];
    settings_snapshot(w.algo, before);
    FAILS(PCMUP_ERR_INVALID, pcmup_algo_set, w.algo, PCMUP_SET_LR, -1.0);
    FAILS(PCMUP_ERR_INVALID, pcmup_algo_set, w.algo, PCMUP_SET_MOMENTUM, 1.0);
    FAILS(PCMUP_ERR_INVALID, pcmup_algo_set, w.algo, PCMUP_SET_LOSS, 0.5);
    FAILS(PCMUP_ERR_INVALID, pcmup_algo_set, w.algo, (pcmup_setting)BAD_ENUM, 0.0);
    assert_settings_are(w.algo, before, "failing pcmup_algo_set");
}
END_TEST

/* A twin of the fixture's net and algorithm: same seeds, same settings. */
static void make_twin(pcmup_net **net, pcmup_algo **algo)
{
    TU_OK(pcmup_net_create(net, WIDTHS, NL + 1, PCMUP_ACT_TANH, PCMUP_NET_BIAS, w.param, 11,
                           NULL));
    set_biases(*net);
    TU_OK(pcmup_algo_create(algo, PCMUP_RULE_BP, *net, 13, NULL));
}

static void set_both(pcmup_algo *a, pcmup_algo *b, pcmup_setting key, double value)
{
    TU_OK(pcmup_algo_set(a, key, value));
    TU_OK(pcmup_algo_set(b, key, value));
}

/* Nets that must be bitwise equal. */
static void assert_same_nets(const pcmup_net *a, const pcmup_net *b, const char *what)
{
    size_t la, lb;
    float *sa = net_snapshot(a, &la), *sb = net_snapshot(b, &lb);
    ck_assert_uint_eq(la, lb);
    ck_assert_msg(memcmp(sa, sb, la * sizeof *sa) == 0, "%s", what);
    free(sa);
    free(sb);
}

/* A step that fails on the last sample's label changes nothing, visible or
 * hidden: afterwards the algorithm steps exactly like a twin that never
 * saw the failing call (momentum on, so its velocity state counts too). */
START_TEST(unchanged_after_step)
{
    pcmup_net *net2;
    pcmup_algo *algo2;
    make_twin(&net2, &algo2);
    set_both(w.algo, algo2, PCMUP_SET_MOMENTUM, 0.9);
    TU_OK(pcmup_algo_step(w.algo, w.x, B * D, w.labels, B, NULL));
    TU_OK(pcmup_algo_step(algo2, w.x, B * D, w.labels, B, NULL));
    size_t len;
    float *before = net_snapshot(w.net, &len);
    int32_t labels[B];
    memcpy(labels, w.labels, sizeof labels);
    labels[B - 1] = C;
    double loss = -7.0;
    FAILS(PCMUP_ERR_INVALID, pcmup_algo_step, w.algo, w.x, B * D, labels, B, &loss);
    ck_assert_double_eq(loss, -7.0);
    float x[B * D];
    memcpy(x, w.x, sizeof x);
    x[B * D - 1] = NAN;
    FAILS(PCMUP_ERR_INVALID, pcmup_algo_step, w.algo, x, B * D, w.labels, B, &loss);
    assert_net_is(w.net, before, len, "a failing step");
    TU_OK(pcmup_algo_step(w.algo, w.x, B * D, w.labels, B, NULL));
    TU_OK(pcmup_algo_step(algo2, w.x, B * D, w.labels, B, NULL));
    assert_same_nets(w.net, net2, "a failing step changed the algorithm's state");
    free(before);
    pcmup_algo_free(algo2);
    pcmup_net_free(net2);
}
END_TEST

/* ---- counts that do not match a shape --------------------------------------
 * Every count one too small or one too large is PCMUP_ERR_SHAPE, and the
 * call leaves its outputs as they were (SENTINEL), the network too, and
 * the algorithm: afterwards it steps exactly like a twin. */

/* Per-layer output arrays of the fixture's network, [l - 1] (M_l, M_{l-1}),
 * filled with SENTINEL; one more pointer than layers, so that a pointer
 * count one too large stays inside the array. */
static const size_t LAYER_SIZE[NL] = {7 * D, 6 * 7, C * 6};
typedef struct {
    float block[7 * D + 6 * 7 + C * 6];
    float *at[NL + 1];
} layer_arrays;

static void layer_arrays_init(layer_arrays *u)
{
    fill_sentinel(u->block, TU_COUNT(u->block));
    float *p = u->block;
    for (size_t l = 0; l < NL; l++) {
        u->at[l] = p;
        p += LAYER_SIZE[l];
    }
    u->at[NL] = NULL;
}

/* A twin of the fixture's algorithm steps once with it: the same result
 * means the failing calls before left no trace in the algorithm. */
static void assert_steps_like_twin(const char *what)
{
    pcmup_net *net2;
    pcmup_algo *algo2;
    make_twin(&net2, &algo2);
    TU_OK(pcmup_algo_step(w.algo, w.x, B * D, w.labels, B, NULL));
    TU_OK(pcmup_algo_step(algo2, w.x, B * D, w.labels, B, NULL));
    assert_same_nets(w.net, net2, what);
    pcmup_algo_free(algo2);
    pcmup_net_free(net2);
}

START_TEST(shape_step_and_updates)
{
    size_t len;
    float *before = net_snapshot(w.net, &len);
    double loss = SENTINEL;
    layer_arrays u;
    layer_arrays_init(&u);
    for (int k = 0; k < 2; k++) {
        const size_t x_bad = off_by_one(B * D, k), l_bad = off_by_one(NL, k);
        FAILS(PCMUP_ERR_SHAPE, pcmup_algo_step, w.algo, w.x, x_bad, w.labels, B, &loss);
        FAILS(PCMUP_ERR_SHAPE, pcmup_algo_trial_update, w.algo, w.x, x_bad, w.labels, B, u.at,
              NL);
        FAILS(PCMUP_ERR_SHAPE, pcmup_algo_trial_update, w.algo, w.x, B * D, w.labels, B, u.at,
              l_bad);
        for (int ref = PCMUP_REFERENCE_BP; ref <= PCMUP_REFERENCE_GN; ref++) {
            FAILS(PCMUP_ERR_SHAPE, pcmup_algo_reference_update, w.algo, (pcmup_reference)ref,
                  w.x, x_bad, w.labels, B, u.at, NL);
            FAILS(PCMUP_ERR_SHAPE, pcmup_algo_reference_update, w.algo, (pcmup_reference)ref,
                  w.x, B * D, w.labels, B, u.at, l_bad);
        }
    }
    ck_assert_double_eq(loss, SENTINEL);
    assert_sentinel(u.block, TU_COUNT(u.block), "a step or trial update with a wrong count");
    assert_net_is(w.net, before, len, "a step or trial update with a wrong count");
    free(before);
    assert_steps_like_twin("a step or trial update with a wrong count changed the algorithm");
}
END_TEST

START_TEST(shape_alignment_summaries)
{
    size_t len;
    float *before = net_snapshot(w.net, &len);
    double out[4][NL + 1];
    fill_sentinel_d(&out[0][0], 4 * (NL + 1));
    layer_arrays mine;
    layer_arrays_init(&mine);
    for (size_t i = 0; i < TU_COUNT(mine.block); i++)
        mine.block[i] = 0.5f; /* finite: compare_updates checks its entries */
    const float *const *updates = (const float *const *)mine.at;
    for (int k = 0; k < 2; k++) {
        const size_t x_bad = off_by_one(B * D, k), l_bad = off_by_one(NL, k);
        FAILS(PCMUP_ERR_SHAPE, pcmup_algo_update_alignment, w.algo, w.x, x_bad, w.labels, B,
              out[0], out[1], out[2], out[3], NL);
        FAILS(PCMUP_ERR_SHAPE, pcmup_algo_update_alignment, w.algo, w.x, B * D, w.labels, B,
              out[0], out[1], out[2], out[3], l_bad);
        FAILS(PCMUP_ERR_SHAPE, pcmup_algo_compare_updates, w.algo, w.x, x_bad, w.labels, B,
              updates, NL, out[0], out[1], out[2], out[3], NL);
        FAILS(PCMUP_ERR_SHAPE, pcmup_algo_compare_updates, w.algo, w.x, B * D, w.labels, B,
              updates, l_bad, out[0], out[1], out[2], out[3], NL);
        FAILS(PCMUP_ERR_SHAPE, pcmup_algo_compare_updates, w.algo, w.x, B * D, w.labels, B,
              updates, NL, out[0], out[1], out[2], out[3], l_bad);
    }
    assert_sentinel_d(&out[0][0], 4 * (NL + 1), "an alignment summary with a wrong count");
    assert_net_is(w.net, before, len, "an alignment summary with a wrong count");
    free(before);
    assert_steps_like_twin("an alignment summary with a wrong count changed the algorithm");
}
END_TEST

/* Two widths and two step counts: each output holds 2 * 2 * NL values. */
START_TEST(shape_coord_check)
{
    const size_t widths[] = {4, 8}, steps[] = {0, 1}, n_out = 2 * 2 * NL;
    double dh[2 * 2 * NL + 1], h_abs[2 * 2 * NL + 1];
    fill_sentinel_d(dh, TU_COUNT(dh));
    fill_sentinel_d(h_abs, TU_COUNT(h_abs));
    const size_t probe_b = 2;
    for (int k = 0; k < 2; k++) {
        FAILS(PCMUP_ERR_SHAPE, pcmup_coord_check, w.algo, widths, 2, w.x, off_by_one(B * D, k),
              w.labels, B, w.x, probe_b * D, probe_b, steps, 2, 1, dh, h_abs, n_out);
        FAILS(PCMUP_ERR_SHAPE, pcmup_coord_check, w.algo, widths, 2, w.x, B * D, w.labels, B,
              w.x, off_by_one(probe_b * D, k), probe_b, steps, 2, 1, dh, h_abs, n_out);
        FAILS(PCMUP_ERR_SHAPE, pcmup_coord_check, w.algo, widths, 2, w.x, B * D, w.labels, B,
              w.x, probe_b * D, probe_b, steps, 2, 1, dh, h_abs, off_by_one(n_out, k));
    }
    assert_sentinel_d(dh, TU_COUNT(dh), "pcmup_coord_check");
    assert_sentinel_d(h_abs, TU_COUNT(h_abs), "pcmup_coord_check");
    /* Without a probe its count is not looked at; the right counts run. */
    TU_OK(pcmup_coord_check(w.algo, widths, 2, w.x, B * D, w.labels, B, NULL, 99, 99, steps, 2,
                            1, dh, h_abs, n_out));
    ck_assert_double_eq(dh[n_out], SENTINEL);
}
END_TEST

/* PC on a linear network without biases (the closed form's domain). */
START_TEST(shape_linear_equilibrium)
{
    TU_OK(pcmup_param_create(&w.p2, NL, PCMUP_PRESET_SP, NULL));
    TU_OK(pcmup_net_create(&w.net2, WIDTHS, NL + 1, PCMUP_ACT_IDENTITY, 0, w.p2, 3, NULL));
    TU_OK(pcmup_algo_create(&w.algo2, PCMUP_RULE_PC, w.net2, 4, NULL));
    const pcmup_algo *pc = w.algo2;
    size_t len;
    float *before = net_snapshot(w.net2, &len);
    /* eps_l and the states are (B, M_l); one block serves both. */
    float acts[2][B * (7 + 6 + C)], c_gamma[C * C + 1];
    float *eps[NL + 1] = {acts[0], acts[0] + B * 7, acts[0] + B * 13, NULL};
    float *states[NL] = {acts[1], acts[1] + B * 7, NULL};
    layer_arrays u;
    layer_arrays_init(&u);
    fill_sentinel(&acts[0][0], 2 * TU_COUNT(acts[0]));
    fill_sentinel(c_gamma, TU_COUNT(c_gamma));
    double norm = SENTINEL, energy = SENTINEL;
    for (int k = 0; k < 2; k++) {
        const size_t l_bad = off_by_one(NL, k);
        FAILS(PCMUP_ERR_SHAPE, pcmup_pc_linear_equilibrium, pc, w.x, off_by_one(B * D, k),
              w.labels, B, eps, NL, states, NL - 1, u.at, NL, c_gamma, C * C, &norm, &energy);
        FAILS(PCMUP_ERR_SHAPE, pcmup_pc_linear_equilibrium, pc, w.x, B * D, w.labels, B, eps,
              l_bad, states, NL - 1, u.at, NL, c_gamma, C * C, &norm, &energy);
        FAILS(PCMUP_ERR_SHAPE, pcmup_pc_linear_equilibrium, pc, w.x, B * D, w.labels, B, eps, NL,
              states, off_by_one(NL - 1, k), u.at, NL, c_gamma, C * C, &norm, &energy);
        FAILS(PCMUP_ERR_SHAPE, pcmup_pc_linear_equilibrium, pc, w.x, B * D, w.labels, B, eps, NL,
              states, NL - 1, u.at, l_bad, c_gamma, C * C, &norm, &energy);
        FAILS(PCMUP_ERR_SHAPE, pcmup_pc_linear_equilibrium, pc, w.x, B * D, w.labels, B, eps, NL,
              states, NL - 1, u.at, NL, c_gamma, off_by_one(C * C, k), &norm, &energy);
    }
    assert_sentinel(&acts[0][0], 2 * TU_COUNT(acts[0]), "pcmup_pc_linear_equilibrium");
    assert_sentinel(u.block, TU_COUNT(u.block), "pcmup_pc_linear_equilibrium");
    assert_sentinel(c_gamma, TU_COUNT(c_gamma), "pcmup_pc_linear_equilibrium");
    ck_assert_double_eq(norm, SENTINEL);
    ck_assert_double_eq(energy, SENTINEL);
    assert_net_is(w.net2, before, len, "pcmup_pc_linear_equilibrium");
    free(before);
    /* The count of an output left NULL is not looked at. */
    TU_OK(pcmup_pc_linear_equilibrium(pc, w.x, B * D, w.labels, B, NULL, 0, NULL, 0, NULL, 0,
                                      NULL, 0, &norm, &energy));
    TU_OK(pcmup_pc_linear_equilibrium(pc, w.x, B * D, w.labels, B, eps, NL, states, NL - 1,
                                      u.at, NL, c_gamma, C * C, &norm, &energy));
    ck_assert_float_eq(c_gamma[C * C], (float)SENTINEL);
}
END_TEST

/* An identity network whose output overflows float: the loss is infinite
 * before the step, which must report DIVERGED and move nothing. */
START_TEST(diverged_step_changes_nothing)
{
    pcmup_param *p;
    pcmup_net *net;
    pcmup_algo *algo;
    TU_OK(pcmup_param_create(&p, 1, PCMUP_PRESET_SP, NULL));
    TU_OK(pcmup_net_create(&net, (size_t[]){D, C}, 2, PCMUP_ACT_IDENTITY, 0, p, 1, NULL));
    float big[D * C], x[B * D];
    for (size_t i = 0; i < D * C; i++)
        big[i] = 3e38f;
    for (size_t i = 0; i < B * D; i++)
        x[i] = 1.0f; /* each output is 5 * 3e38 > FLT_MAX */
    TU_OK(pcmup_net_set_weights(net, 1, big, D * C));
    TU_OK(pcmup_algo_create(&algo, PCMUP_RULE_BP, net, 1, NULL));
    size_t len;
    float *before = net_snapshot(net, &len);
    double loss = -7.0;
    FAILS(PCMUP_ERR_DIVERGED, pcmup_algo_step, algo, x, B * D, w.labels, B, &loss);
    ck_assert_double_eq(loss, -7.0);
    assert_net_is(net, before, len, "a diverged step");
    free(before);
    pcmup_algo_free(algo);
    pcmup_net_free(net);
    pcmup_param_free(p);
}
END_TEST

/* An identity network with a huge learning rate blows up within a few
 * steps of an epoch. The failing epoch must restore the weights and the
 * algorithm's random stream and momentum: a following epoch must match a
 * twin's that never diverged, bit for bit. */
static void make_linear(pcmup_param *p, pcmup_net **net, pcmup_algo **algo)
{
    TU_OK(pcmup_net_create(net, (size_t[]){D, 16, C}, 3, PCMUP_ACT_IDENTITY, 0, p, 5, NULL));
    TU_OK(pcmup_algo_create(algo, PCMUP_RULE_BP, *net, 6, NULL));
}

START_TEST(diverged_epoch_restores)
{
    pcmup_param *p;
    pcmup_net *net, *net2;
    pcmup_algo *algo, *algo2;
    TU_OK(pcmup_param_create(&p, 2, PCMUP_PRESET_SP, NULL));
    make_linear(p, &net, &algo);
    make_linear(p, &net2, &algo2);
    set_both(algo, algo2, PCMUP_SET_MOMENTUM, 0.5);
    size_t len;
    float *before = net_snapshot(net, &len);
    TU_OK(pcmup_algo_set(algo, PCMUP_SET_LR, 1e6));
    double mean = -7.0;
    TU_FAILS(PCMUP_ERR_DIVERGED, pcmup_algo_train_epoch(algo, w.data, 1, &mean));
    ck_assert_double_eq(mean, -7.0);
    assert_net_is(net, before, len, "a diverged epoch");
    TU_OK(pcmup_algo_set(algo, PCMUP_SET_LR, 0.01));
    TU_OK(pcmup_algo_set(algo2, PCMUP_SET_LR, 0.01));
    TU_OK(pcmup_algo_train_epoch(algo, w.data, 3, NULL));
    TU_OK(pcmup_algo_train_epoch(algo2, w.data, 3, NULL));
    assert_same_nets(net, net2, "a diverged epoch left state behind");
    free(before);
    pcmup_algo_free(algo);
    pcmup_algo_free(algo2);
    pcmup_net_free(net);
    pcmup_net_free(net2);
    pcmup_param_free(p);
}
END_TEST

/* The failing call was pcmup_algo_train_epoch, so its message must say so
 * (the header's convention "<function>: <detail>"), even though the
 * failure was met inside one of its steps. */
START_TEST(diverged_epoch_message)
{
    TU_OK(pcmup_param_create(&w.p2, 2, PCMUP_PRESET_SP, NULL));
    make_linear(w.p2, &w.net2, &w.algo2);
    TU_OK(pcmup_algo_set(w.algo2, PCMUP_SET_LR, 1e6));
    FAILS(PCMUP_ERR_DIVERGED, pcmup_algo_train_epoch, w.algo2, w.data, 1, NULL);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {
        algo_settings_documented,
        algo_reports_its_rule,
        null_algo,
        invalid_algo_create,
        invalid_algo_settings,
        invalid_step,
        shape_dataset_vs_net,
        unchanged_settings,
        unchanged_after_step,
        shape_step_and_updates,
        shape_alignment_summaries,
        shape_coord_check,
        shape_linear_equilibrium,
        diverged_step_changes_nothing,
        diverged_epoch_restores,
        diverged_epoch_message,
    };
    return api_run("api_algo", 60, tests, TU_COUNT(tests));
}
