/* SPDX-License-Identifier: MIT */
/*
 * test_vectors_tp.c -- target propagation and difference target
 * propagation reproduce the independent double-precision reference steps
 * in tests/data/vectors (tp_closed, dtp_closed, dtp_closed_L4,
 * dtp_trained_linear): the weight updates, the loss and, for trained
 * feedback, the feedback weights after their training step.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The recorded update is the float GEMM's output. Float signals through
 * the forward pass, one double-precision B x B or C x C ridge solve per
 * feedback layer and two GEMMs per layer keep it within a few 1e-6 of the
 * reference (measured: updates 2.4e-7 .. 4.2e-7, trained V 1.4e-6; the
 * printed errors). A convention error
 * (a missing r factor in mu_l or eta^V_l, TP for DTP, a sign, phi' on the
 * wrong side) is >= 1e-2. */
#define UPDATE_TOL 2e-5

static void configure(pcmup_algo *tp, const tu_case *c)
{
    TU_OK(pcmup_algo_set(tp, PCMUP_SET_LR, tu_case_num(c, "eta")));
    ck_assert_str_eq(tu_case_str(c, "loss"), "mse");
    TU_OK(pcmup_algo_set(tp, PCMUP_SET_LOSS, PCMUP_LOSS_MSE));
    TU_OK(pcmup_algo_set(tp, PCMUP_SET_RECORD_UPDATES, 1));
    TU_OK(pcmup_algo_set(tp, PCMUP_SET_TP_BETA, tu_case_num(c, "beta")));
    if (strcmp(tu_case_str(c, "feedback"), "closed") == 0) {
        TU_OK(pcmup_algo_set(tp, PCMUP_SET_TP_FEEDBACK, PCMUP_TP_FEEDBACK_CLOSED));
        TU_OK(pcmup_algo_set(tp, PCMUP_SET_TP_FB_DAMPING, tu_case_num(c, "mu_prime")));
        TU_OK(pcmup_algo_set(tp, PCMUP_SET_TP_FB_DAMPING_TOP, tu_case_num(c, "mu_top")));
        return;
    }
    ck_assert_str_eq(tu_case_str(c, "feedback"), "trained");
    TU_OK(pcmup_algo_set(tp, PCMUP_SET_TP_FEEDBACK, PCMUP_TP_FEEDBACK_TRAINED));
    TU_OK(pcmup_algo_set(tp, PCMUP_SET_TP_FB_STEPS, tu_case_num(c, "fb_steps")));
    TU_OK(pcmup_algo_set(tp, PCMUP_SET_TP_FB_NOISE, tu_case_num(c, "fb_sigma")));
    TU_OK(pcmup_algo_set(tp, PCMUP_SET_TP_FB_LR, tu_case_num(c, "fb_lr")));
    TU_OK(pcmup_algo_set(tp, PCMUP_SET_TP_FB_ACTIVATION, PCMUP_ACT_IDENTITY));
}

/* The case's hidden mu_l and eta^V_l are the muP ones, mu' r and
 * eta^V / r: feedback exponents 1 and 1. */
static void check_case_is_mup(const tu_case *c)
{
    size_t n_layers = (size_t)tu_case_num(c, "L");
    double r = tu_case_num(c, "r");
    ck_assert_str_eq(tu_case_str(c, "param"), "mup");
    for (size_t l = 2; l < n_layers; l++) {
        if (tu_case_has(c, "mu_l"))
            ck_assert_double_eq_tol(tu_case_list(c, "mu_l", l - 2),
                                    tu_case_num(c, "mu_prime") * r, 1e-12);
        else
            ck_assert_double_eq_tol(tu_case_list(c, "fb_lr_l", l - 2),
                                    tu_case_num(c, "fb_lr") / r, 1e-12);
    }
}

/* tu_case_net's network `ref` (the case's b, c, M_base and weights),
 * rebuilt from a copy of its parameterization with the muP feedback
 * exponents; ref is freed. */
static pcmup_net *case_net(const tu_case *c, pcmup_net *ref)
{
    size_t n_layers = (size_t)tu_case_num(c, "L");
    size_t widths[16];
    for (size_t i = 0; i <= n_layers; i++)
        widths[i] = (size_t)tu_case_list(c, "widths", i);
    const pcmup_param *p0;
    TU_OK(pcmup_net_param(ref, &p0));
    pcmup_param *p;
    TU_OK(pcmup_param_clone(&p, p0));
    TU_OK(pcmup_param_set(p, PCMUP_PARAM_FB_DAMPING_EXP, 1.0));
    TU_OK(pcmup_param_set(p, PCMUP_PARAM_FB_LR_EXP, 1.0));
    pcmup_net *net;
    TU_OK(pcmup_net_create(&net, widths, n_layers + 1, PCMUP_ACT_TANH, 0, p, 1, NULL));
    ck_assert_str_eq(tu_case_str(c, "activation"), "tanh");
    for (size_t l = 1; l <= n_layers; l++) {
        size_t out, in;
        TU_OK(pcmup_net_layer_shape(ref, l, &out, &in));
        float *w = malloc(out * in * sizeof *w);
        TU_OK(pcmup_net_get_weights(ref, l, w, out * in));
        TU_OK(pcmup_net_set_weights(net, l, w, out * in));
        free(w);
    }
    pcmup_param_free(p);
    pcmup_net_free(ref);
    check_case_is_mup(c);
    return net;
}

/* Loads V<l> of a trained case into the algorithm. */
static void load_feedback(pcmup_algo *tp, const tu_case *c)
{
    size_t n_layers = (size_t)tu_case_num(c, "L");
    for (size_t l = 2; l <= n_layers; l++) {
        char name[16];
        snprintf(name, sizeof name, "V%zu", l);
        size_t n;
        float *v = tu_case_f32(c, name, &n);
        TU_OK(pcmup_tp_set_feedback(tp, l, v, n));
        free(v);
    }
}

static void run_case(const char *name)
{
    tu_case_run r = tu_case_begin(name);
    const tu_case *c = r.c;
    r.net = case_net(c, r.net);
    const char *alg = tu_case_str(c, "alg");
    TU_OK(pcmup_algo_create(&r.algo, strcmp(alg, "dtp") == 0 ? PCMUP_RULE_DTP : PCMUP_RULE_TP,
                            r.net, 1, NULL));
    configure(r.algo, c);
    int trained = strcmp(tu_case_str(c, "feedback"), "trained") == 0;
    if (trained)
        load_feedback(r.algo, c);

    tu_case_step(&r);
    printf("%-20s update error %.3g", name, tu_case_check_recorded(&r, UPDATE_TOL));
    if (trained) {
        double fb = tu_case_feedback_error(c, r.algo);
        printf("  feedback error %.3g", fb);
        ck_assert_msg(fb < UPDATE_TOL, "%s: feedback error %.3g", name, fb);
    }
    printf("\n");
    tu_case_end(&r);
}

START_TEST(tp_closed) { run_case("tp_closed"); }
END_TEST
START_TEST(dtp_closed) { run_case("dtp_closed"); }
END_TEST
START_TEST(dtp_closed_L4) { run_case("dtp_closed_L4"); }
END_TEST
START_TEST(dtp_trained_linear) { run_case("dtp_trained_linear"); }
END_TEST

int main(void)
{
    const TTest *tests[] = {
        tp_closed,
        dtp_closed,
        dtp_closed_L4,
        dtp_trained_linear,
    };
    return tu_run_tests("vectors_tp", 0, NULL, NULL, tests, TU_COUNT(tests));
}
