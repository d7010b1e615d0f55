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
    tu_case *c = tu_case_load(name);
    pcmup_net *net = tu_case_net(c);
    size_t batch, n_labels;
    float *x = tu_case_x(c, &batch);
    int32_t *labels = tu_case_i32(c, "labels", &n_labels);
    ck_assert_uint_eq(n_labels, batch);

    pcmup_algo *bp;
    TU_OK(pcmup_algo_create(&bp, PCMUP_RULE_BP, net, 1, NULL));
    TU_OK(pcmup_algo_set(bp, PCMUP_SET_LR, tu_case_num(c, "eta")));
    int ce = strcmp(tu_case_str(c, "loss"), "ce") == 0;
    TU_OK(pcmup_algo_set(bp, PCMUP_SET_LOSS, ce ? PCMUP_LOSS_CE : PCMUP_LOSS_MSE));

    /* The per-layer learning rates the case lists follow from b, c, M_base. */
    for (size_t l = 1; l <= (size_t)tu_case_num(c, "L"); l++) {
        double lr_factor = tu_net_factor(net, l, PCMUP_FACTOR_LR);
        double want = tu_case_list(c, "eta_l", l - 1);
        ck_assert_msg(fabs(lr_factor * tu_case_num(c, "eta") - want) < 1e-12 * want,
                      "%s: eta_%zu", name, l);
    }

    double loss;
    TU_OK(pcmup_algo_step(bp, x, labels, batch, &loss));
    double want_loss = tu_case_num(c, "loss_before");
    ck_assert_msg(fabs(loss - want_loss) < 1e-5 * want_loss, "%s: loss %.9g, reference %.9g",
                  name, loss, want_loss);
    double err = tu_case_update_error(c, net);
    ck_assert_msg(err < UPDATE_TOL, "%s: update error %.3g", name, err);

    pcmup_algo_free(bp);
    pcmup_net_free(net);
    free(x);
    free(labels);
    tu_case_free(c);
}

START_TEST(bp_sp_mse) { run_case("bp_sp_mse"); }
END_TEST
START_TEST(bp_mup_mse) { run_case("bp_mup_mse"); }
END_TEST
START_TEST(bp_mup_ce_relu) { run_case("bp_mup_ce_relu"); }
END_TEST
START_TEST(bp_mup_L4) { run_case("bp_mup_L4"); }
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
    Suite *s = suite_create("vectors_bp");
    TCase *tc = tcase_create("reference");
    tcase_add_test(tc, bp_sp_mse);
    tcase_add_test(tc, bp_mup_mse);
    tcase_add_test(tc, bp_mup_ce_relu);
    tcase_add_test(tc, bp_mup_L4);
    tcase_add_test(tc, init_std_matches_reference);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
