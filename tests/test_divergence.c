/* SPDX-License-Identifier: MIT */
/*
 * test_divergence.c -- a call that trains never reports success with
 * weights that are not finite, and one that fails puts everything back.
 *
 * The sweep of issue 10: every rule x learning rates 1e2, 1e4, 1e6 x
 * tanh, relu, identity x one step or a one-batch epoch (90 configurations),
 * plus the state a plain run does not have (momentum, TP's trained
 * feedback, biases). For each configuration two twins are built from the
 * same seeds. Twin A takes the large-rate call; twin B does not. Then
 * * PCMUP_OK: every weight and bias is finite, and evaluating gives a
 *   finite loss or PCMUP_ERR_DIVERGED (finite but huge weights may still
 *   overflow the outputs), never a number that is not one;
 * * an error: it is PCMUP_ERR_DIVERGED, A's weights and biases are
 *   byte-identical to B's, and after one more ordinary epoch at a small
 *   rate on both twins they still are: the momentum, the random stream
 *   and the trained feedback were put back too, since each feeds that
 *   epoch.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_SAMPLES 48
#define DIM 10
#define N_CLASSES 4
#define L 3

static const size_t widths[L + 1] = {DIM, 24, 16, N_CLASSES};

typedef struct {
    pcmup_rule rule;
    double lr;
    pcmup_activation act;
    int epoch;       /* 0: one pcmup_algo_step on the whole set; 1: an epoch */
    double momentum;
    int trained_fb;  /* TP/DTP with trained feedback */
    unsigned bias;   /* PCMUP_NET_BIAS or 0 */
} config;

typedef struct {
    pcmup_param *param;
    pcmup_net *net;
    pcmup_algo *algo;
} twin;

/* What the sweep found, printed at the end and checked for coverage. */
typedef struct {
    size_t ok, diverged, ok_eval_diverged;
} tally;

static float data_x[N_SAMPLES * DIM];
static int32_t data_labels[N_SAMPLES];

static void make_data(void)
{
    /* Inputs of scale 3, so that a large rate overflows within one step. */
    float *g = tu_gaussian(N_SAMPLES * DIM, 21);
    for (size_t i = 0; i < N_SAMPLES * DIM; i++)
        data_x[i] = 3.0f * g[i];
    free(g);
    for (size_t i = 0; i < N_SAMPLES; i++)
        data_labels[i] = (int32_t)(i % N_CLASSES);
}

static twin twin_make(const config *c)
{
    twin t;
    t.param = tu_param(L, PCMUP_PRESET_SP, 0.0);
    TU_OK(pcmup_net_create(&t.net, widths, L + 1, c->act, c->bias, t.param, 7, NULL));
    TU_OK(pcmup_algo_create(&t.algo, c->rule, t.net, 3, NULL));
    if (c->momentum != 0.0)
        TU_OK(pcmup_algo_set(t.algo, PCMUP_SET_MOMENTUM, c->momentum));
    if (c->trained_fb)
        TU_OK(pcmup_algo_set(t.algo, PCMUP_SET_TP_FEEDBACK, PCMUP_TP_FEEDBACK_TRAINED));
    return t;
}

static void twin_free(twin *t)
{
    pcmup_algo_free(t->algo);
    pcmup_net_free(t->net);
    pcmup_param_free(t->param);
}

/* Every weight and bias of the network, concatenated (malloc'd). */
static float *all_params(const pcmup_net *net, size_t *count)
{
    size_t n;
    TU_OK(pcmup_net_param_count(net, &n));
    float *p = malloc(n * sizeof *p), *at = p;
    for (size_t l = 1; l <= L; l++) {
        size_t w = widths[l] * widths[l - 1];
        TU_OK(pcmup_net_get_weights(net, l, at, w));
        at += w;
        if (pcmup_net_get_bias(net, l, at, widths[l]) == PCMUP_OK)
            at += widths[l];
    }
    ck_assert_uint_eq((size_t)(at - p), n);
    *count = n;
    return p;
}

static int all_finite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

static pcmup_status train_once(twin *t, const pcmup_dataset *ds, const config *c)
{
    if (c->epoch)
        return pcmup_algo_train_epoch(t->algo, ds, N_SAMPLES, NULL);
    return pcmup_algo_step(t->algo, data_x, N_SAMPLES * DIM, data_labels, N_SAMPLES, NULL);
}

static void describe(const config *c, char *buf, size_t size)
{
    snprintf(buf, size, "rule %d lr %g act %d %s momentum %g%s%s", (int)c->rule, c->lr,
             (int)c->act, c->epoch ? "epoch" : "step", c->momentum,
             c->trained_fb ? " trained feedback" : "", c->bias ? " bias" : "");
}

/* Up to CALLS calls at the large rate, stopping at the first failure: a
 * step from the initial weights rarely overflows by itself, the second
 * or third, from the weights the first left, does. */
#define CALLS 4

static void run_config(const config *c, const pcmup_dataset *ds, tally *tl)
{
    char what[160];
    describe(c, what, sizeof what);
    twin a = twin_make(c), b = twin_make(c);
    /* One ordinary step first, so that the momentum and the trained
     * feedback exist and hold something worth putting back. */
    TU_OK(pcmup_algo_set(a.algo, PCMUP_SET_LR, 1e-3));
    TU_OK(pcmup_algo_set(b.algo, PCMUP_SET_LR, 1e-3));
    TU_OK(train_once(&a, ds, c));
    TU_OK(train_once(&b, ds, c));

    TU_OK(pcmup_algo_set(a.algo, PCMUP_SET_LR, c->lr));
    TU_OK(pcmup_algo_set(b.algo, PCMUP_SET_LR, c->lr));
    pcmup_status s = PCMUP_OK;
    size_t n, done = 0;
    float *pa = NULL;
    for (; done < CALLS; done++) {
        s = train_once(&a, ds, c);
        free(pa);
        pa = all_params(a.net, &n);
        if (s != PCMUP_OK)
            break;
        tl->ok++;
        ck_assert_msg(all_finite(pa, n), "%s, call %zu: PCMUP_OK with non-finite weights",
                      what, done + 1);
        double loss = 0.0;
        pcmup_status e = pcmup_algo_evaluate(a.algo, ds, &loss, NULL);
        ck_assert_msg(e == PCMUP_OK || e == PCMUP_ERR_DIVERGED, "%s: evaluate -> %s", what,
                      pcmup_status_name(e));
        ck_assert_msg(e != PCMUP_OK || isfinite(loss), "%s: evaluate OK with loss %g", what,
                      loss);
        tl->ok_eval_diverged += e == PCMUP_ERR_DIVERGED;
    }
    if (s != PCMUP_OK) {
        tl->diverged++;
        ck_assert_msg(s == PCMUP_ERR_DIVERGED, "%s: %s (%s)", what, pcmup_status_name(s),
                      pcmup_last_error());
        /* Twin b takes the calls that succeeded, and stops where a was. */
        for (size_t k = 0; k < done; k++)
            TU_OK(train_once(&b, ds, c));
        float *pb = all_params(b.net, &n);
        ck_assert_msg(memcmp(pa, pb, n * sizeof *pa) == 0,
                      "%s: weights changed by the failed call %zu", what, done + 1);
        /* The rest of the state: one more epoch on both twins. */
        TU_OK(pcmup_algo_set(a.algo, PCMUP_SET_LR, 1e-6));
        TU_OK(pcmup_algo_set(b.algo, PCMUP_SET_LR, 1e-6));
        pcmup_status ea = pcmup_algo_train_epoch(a.algo, ds, 16, NULL);
        pcmup_status eb = pcmup_algo_train_epoch(b.algo, ds, 16, NULL);
        ck_assert_int_eq(ea, eb);
        free(pa);
        free(pb);
        pa = all_params(a.net, &n);
        pb = all_params(b.net, &n);
        ck_assert_msg(memcmp(pa, pb, n * sizeof *pa) == 0,
                      "%s: the state after a failed call differs from the state before it "
                      "(momentum, random stream or feedback not put back)",
                      what);
        free(pb);
    }
    free(pa);
    twin_free(&a);
    twin_free(&b);
}

static pcmup_dataset *make_dataset(void)
{
    pcmup_dataset *ds;
    make_data();
    TU_OK(pcmup_dataset_from_arrays(&ds, N_SAMPLES, DIM, N_CLASSES, data_x, N_SAMPLES * DIM,
                                    data_labels, NULL));
    return ds;
}

static const pcmup_rule rules[] = {PCMUP_RULE_BP, PCMUP_RULE_PC, PCMUP_RULE_TP, PCMUP_RULE_DTP,
                                   PCMUP_RULE_GNT};
static const double rates[] = {1e2, 1e4, 1e6};
static const pcmup_activation acts[] = {PCMUP_ACT_TANH, PCMUP_ACT_RELU, PCMUP_ACT_IDENTITY};

/* The 90 configurations. */
START_TEST(sweep_of_90)
{
    pcmup_dataset *ds = make_dataset();
    tally tl = {0};
    size_t n = 0;
    for (size_t r = 0; r < TU_COUNT(rules); r++)
        for (size_t i = 0; i < TU_COUNT(rates); i++)
            for (size_t k = 0; k < TU_COUNT(acts); k++)
                for (int epoch = 0; epoch < 2; epoch++, n++) {
                    config c = {rules[r], rates[i], acts[k], epoch, 0.0, 0, 0};
                    run_config(&c, ds, &tl);
                }
    printf("90 configurations, up to %d calls each: %zu calls OK (all finite; %zu of them "
           "overflow when evaluated), %zu configurations diverged and were put back, 0 OK "
           "with non-finite weights\n",
           CALLS, tl.ok, tl.ok_eval_diverged, tl.diverged);
    ck_assert_uint_eq(n, 90);
    /* The sweep must exercise both outcomes, or it checks nothing. */
    ck_assert_uint_gt(tl.diverged, 30);
    ck_assert_uint_gt(tl.ok, 0);
    pcmup_dataset_free(ds);
}
END_TEST

/* State beyond the weights: momentum (BP, PC, GNT), trained feedback (TP,
 * DTP), biases; each must be put back after a divergence. */
START_TEST(momentum_feedback_and_biases_put_back)
{
    pcmup_dataset *ds = make_dataset();
    tally tl = {0};
    for (size_t r = 0; r < TU_COUNT(rules); r++)
        for (size_t i = 0; i < TU_COUNT(rates); i++)
            for (int epoch = 0; epoch < 2; epoch++) {
                int tp = rules[r] == PCMUP_RULE_TP || rules[r] == PCMUP_RULE_DTP;
                config c = {rules[r], rates[i], PCMUP_ACT_RELU, epoch, 0.9, tp,
                            PCMUP_NET_BIAS};
                run_config(&c, ds, &tl);
            }
    printf("momentum / trained feedback / biases: %zu calls OK, %zu configurations diverged "
           "and were put back\n", tl.ok, tl.diverged);
    ck_assert_uint_gt(tl.diverged, 10);
    pcmup_dataset_free(ds);
}
END_TEST

/* relu used to map NaN to 0, so a diverged layer gave a finite output of
 * 0 and every later loss looked fine. */
START_TEST(relu_passes_nan_on)
{
    /* Layer 1 overflows to (inf, inf, 0); layer 2 forms inf - inf = NaN
     * before its relu; layer 3 must see it. */
    const size_t w[] = {2, 3, 2, 2};
    pcmup_param *p = tu_param(3, PCMUP_PRESET_SP, 0.0);
    pcmup_net *net;
    TU_OK(pcmup_net_create(&net, w, 4, PCMUP_ACT_RELU, 0, p, 1, NULL));
    const float w1[6] = {3e38f, 3e38f, 3e38f, 3e38f, 0, 0};
    const float w2[6] = {1, -1, 0, 1, -1, 0}, w3[4] = {1, 0, 0, 1};
    TU_OK(pcmup_net_set_weights(net, 1, w1, 6));
    TU_OK(pcmup_net_set_weights(net, 2, w2, 6));
    TU_OK(pcmup_net_set_weights(net, 3, w3, 4));
    float x[2] = {1.0f, 1.0f}, f[2];
    TU_OK(pcmup_net_forward(net, x, 2, 1, f, 2));
    ck_assert_msg(isnan(f[0]) && isnan(f[1]), "relu hid a NaN: f = (%g, %g)", f[0], f[1]);
    pcmup_net_free(net);
    pcmup_param_free(p);
}
END_TEST

/* Evaluating a network whose outputs overflow is an error, not inf. */
START_TEST(evaluate_refuses_a_non_finite_loss)
{
    pcmup_dataset *ds = make_dataset();
    twin t = twin_make(&(config){PCMUP_RULE_BP, 0.1, PCMUP_ACT_IDENTITY, 0, 0.0, 0, 0});
    for (size_t l = 1; l <= L; l++) {
        size_t n = widths[l] * widths[l - 1];
        float *big = malloc(n * sizeof *big);
        for (size_t i = 0; i < n; i++)
            big[i] = 1e30f;
        TU_OK(pcmup_net_set_weights(t.net, l, big, n));
        free(big);
    }
    double loss = -1.0, acc = -1.0;
    TU_FAILS_IN(PCMUP_ERR_DIVERGED, pcmup_algo_evaluate, t.algo, ds, &loss, &acc);
    ck_assert(loss == -1.0 && acc == -1.0);
    /* A step from there fails in its loss check, weights untouched. */
    TU_FAILS_IN(PCMUP_ERR_DIVERGED, pcmup_algo_step, t.algo, data_x, N_SAMPLES * DIM,
                data_labels, N_SAMPLES, &loss);
    ck_assert(loss == -1.0);
    twin_free(&t);
    pcmup_dataset_free(ds);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {sweep_of_90, momentum_feedback_and_biases_put_back,
                            relu_passes_nan_on, evaluate_refuses_a_non_finite_loss};
    return tu_run_tests("divergence", 0, NULL, NULL, tests, TU_COUNT(tests));
}
