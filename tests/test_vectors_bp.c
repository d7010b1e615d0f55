/* SPDX-License-Identifier: MIT */
/*
 * test_vectors_bp.c -- BP reproduces the independent double-precision
 * reference updates in tests/data/vectors (bp_*), float rounding aside.
 */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* W + dW in float carries a rounding of ulp(W) ~ 6e-8 |W|; with |W|/|dW| up
 * to a few hundred here that is ~1e-5 of |dW|, and the float forward and
 * backward passes add a few ulps of the signals: 1e-4 leaves margin while
 * any convention error (a missing r factor, 1/B, centring) is >= 1e-1. */
#define UPDATE_TOL 1e-4

static void run_case(const char *name)
{
    tu_case_run r = tu_case_begin(name);
    const tu_case *c = r.c;
    TU_OK(pcmup_algo_create(&r.algo, PCMUP_RULE_BP, r.net, 1, NULL));
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_LR, tu_case_num(c, "eta")));
    int ce = strcmp(tu_case_str(c, "loss"), "ce") == 0;
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_LOSS, ce ? PCMUP_LOSS_CE : PCMUP_LOSS_MSE));

    /* The per-layer learning rates the case lists follow from b, c, M_base. */
    for (size_t l = 1; l <= (size_t)tu_case_num(c, "L"); l++) {
        double lr_factor = tu_net_factor(r.net, l, PCMUP_FACTOR_LR);
        double want = tu_case_list(c, "eta_l", l - 1);
        ck_assert_msg(fabs(lr_factor * tu_case_num(c, "eta") - want) < 1e-12 * want,
                      "%s: eta_%zu", name, l);
    }

    tu_case_step(&r);
    double err = tu_case_update_error(c, r.net);
    ck_assert_msg(err < UPDATE_TOL, "%s: update error %.3g", name, err);
    tu_case_end(&r);
}

START_TEST(bp_sp_mse) { run_case("bp_sp_mse"); }
END_TEST
START_TEST(bp_mup_mse) { run_case("bp_mup_mse"); }
END_TEST
START_TEST(bp_mup_ce_relu) { run_case("bp_mup_ce_relu"); }
END_TEST
START_TEST(bp_mup_L4) { run_case("bp_mup_L4"); }
END_TEST
/* CNNs (the README's "CNN cases"): the same step through conv layers,
 * max pooling and the flatten. */
START_TEST(cnn_bp_mup_mse) { run_case("cnn_bp_mup_mse"); }
END_TEST
START_TEST(cnn_bp_sp_ce) { run_case("cnn_bp_sp_ce"); }
END_TEST

/* A CNN's init std divides by the conv fan-in C_in k^2 (the dense
 * layer's by C H W) and scales with r = M / M_base for every layer,
 * whatever multiple of M its channels are. */
START_TEST(cnn_init_std_matches_reference)
{
    const char *names[] = {"cnn_bp_mup_mse", "cnn_bp_sp_ce", "cnn_pc_default"};
    for (size_t i = 0; i < 3; i++) {
        tu_case *c = tu_case_load(names[i]);
        pcmup_net *net = tu_case_net(c);
        for (size_t l = 1; l <= 3; l++) {
            double std = tu_net_factor(net, l, PCMUP_FACTOR_INIT_STD);
            double want = tu_case_list(c, "init_std_l", l - 1);
            ck_assert_msg(fabs(std - want) < 1e-12 * want, "%s layer %zu std %g vs %g",
                          names[i], l, std, want);
        }
        pcmup_net_free(net);
        tu_case_free(c);
    }
}
END_TEST

/* The case's initial weights have the std its parameterization prescribes
 * (the init rule, checked on the reference's own draws within sampling
 * error: 5 sigma of the sample std of n Gaussians is ~5/sqrt(2n)). */
START_TEST(init_std_matches_reference)
{
    tu_case *c = tu_case_load("bp_mup_L4");
    pcmup_net *net = tu_case_net(c);
    for (size_t l = 1; l <= 4; l++) {
        double std = tu_net_factor(net, l, PCMUP_FACTOR_INIT_STD);
        double want = tu_case_list(c, "init_std_l", l - 1);
        ck_assert_msg(fabs(std - want) < 1e-12 * want, "layer %zu std %g vs %g", l, std, want);
    }
    pcmup_net_free(net);
    tu_case_free(c);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {
        bp_sp_mse,
        bp_mup_mse,
        bp_mup_ce_relu,
        bp_mup_L4,
        cnn_bp_mup_mse,
        cnn_bp_sp_ce,
        init_std_matches_reference,
        cnn_init_std_matches_reference,
    };
    return tu_run_tests("vectors_bp", 0, NULL, NULL, tests, TU_COUNT(tests));
}
