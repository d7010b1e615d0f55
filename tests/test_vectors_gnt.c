/*
 * test_vectors_gnt.c -- the Gauss-Newton target reproduces the independent
 * double-precision reference steps in tests/data/vectors (gnt_*): batch
 * e_B = 1 under MSE, batch e_B = 1/2 under cross-entropy (with its muP
 * c = (e_B - 1, e_B, 1) set by hand), and the per-sample variant.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The recorded update is the float GEMMs' output, free of the W + dW
 * rounding. Float Jacobians and Gram matrices, solved in double, land
 * within a few 1e-7 of the reference (measured worst in the run's log);
 * a convention error (the 1/B in P, a damping exponent, K_b for CE, the
 * output layer left out) is >= 1e-3. */
#define UPDATE_TOL 2e-5

static void configure(pcmup_algo *gnt, const tu_case *c)
{
    const char *loss = tu_case_str(c, "loss");
    const char *variant = tu_case_str(c, "gnt_variant");
    TU_OK(pcmup_algo_set(gnt, PCMUP_SET_LR, tu_case_num(c, "eta")));
    TU_OK(pcmup_algo_set(gnt, PCMUP_SET_LOSS,
                         strcmp(loss, "ce") == 0 ? PCMUP_LOSS_CE : PCMUP_LOSS_MSE));
    TU_OK(pcmup_algo_set(gnt, PCMUP_SET_RECORD_UPDATES, 1));
    TU_OK(pcmup_algo_set(gnt, PCMUP_SET_GNT_POWER, tu_case_num(c, "e_B")));
    TU_OK(pcmup_algo_set(gnt, PCMUP_SET_GNT_DAMPING, tu_case_num(c, "rho_prime")));
    ck_assert(strcmp(variant, "batch") == 0 || strcmp(variant, "sample") == 0);
    TU_OK(pcmup_algo_set(gnt, PCMUP_SET_GNT_VARIANT,
                         strcmp(variant, "sample") == 0 ? PCMUP_GNT_SAMPLE : PCMUP_GNT_BATCH));
    /* "Every layer, the output layer included, is preconditioned." */
    TU_OK(pcmup_algo_set(gnt, PCMUP_SET_GNT_OUTPUT, 1));
}

static void run_case(const char *name)
{
    tu_case *c = tu_case_load(name);
    pcmup_net *net = tu_case_net(c);
    size_t batch, n_labels;
    float *x = tu_case_x(c, &batch);
    int32_t *labels = tu_case_i32(c, "labels", &n_labels);
    pcmup_algo *gnt;
    TU_OK(pcmup_algo_create(&gnt, PCMUP_RULE_GNT, net, 1, NULL));
    configure(gnt, c);

    /* The damping the step uses is the case's rho_l. */
    size_t n_layers = (size_t)tu_case_num(c, "L");
    double rho[16];
    TU_OK(pcmup_gnt_damping(gnt, rho, n_layers));
    for (size_t l = 1; l <= n_layers; l++) {
        double want = tu_case_list(c, "rho_l", l - 1);
        ck_assert_msg(fabs(rho[l - 1] - want) < 1e-12 * want, "%s: rho_%zu %g vs %g", name, l,
                      rho[l - 1], want);
    }

    double loss;
    TU_OK(pcmup_algo_step(gnt, x, labels, batch, &loss));
    double want_loss = tu_case_num(c, "loss_before");
    ck_assert_msg(fabs(loss - want_loss) < 1e-5 * want_loss, "%s: loss %.9g vs %.9g", name,
                  loss, want_loss);
    double err = tu_case_recorded_error(c, gnt);
    printf("%s: update error %.3g\n", name, err);
    ck_assert_msg(err < UPDATE_TOL, "%s: update error %.3g", name, err);
    ck_assert_msg(tu_case_update_error(c, net) < 10 * UPDATE_TOL, "%s: weights", name);
    pcmup_algo_free(gnt);
    pcmup_net_free(net);
    free(x);
    free(labels);
    tu_case_free(c);
}

START_TEST(gnt_batch_eB1_mse) { run_case("gnt_batch_eB1_mse"); }
END_TEST
START_TEST(gnt_batch_eBhalf_ce) { run_case("gnt_batch_eBhalf_ce"); }
END_TEST
START_TEST(gnt_sample_eB1_mse) { run_case("gnt_sample_eB1_mse"); }
END_TEST

int main(void)
{
    Suite *s = suite_create("vectors_gnt");
    TCase *tc = tcase_create("reference");
    tcase_add_test(tc, gnt_batch_eB1_mse);
    tcase_add_test(tc, gnt_batch_eBhalf_ce);
    tcase_add_test(tc, gnt_sample_eB1_mse);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
