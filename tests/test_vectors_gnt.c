/* SPDX-License-Identifier: MIT */
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
    tu_case_run r = tu_case_begin(name);
    const tu_case *c = r.c;
    TU_OK(pcmup_algo_create(&r.algo, PCMUP_RULE_GNT, r.net, 1, NULL));
    configure(r.algo, c);

    /* The damping the step uses is the case's rho_l. */
    size_t n_layers = (size_t)tu_case_num(c, "L");
    double rho[16];
    TU_OK(pcmup_gnt_damping(r.algo, rho, n_layers));
    for (size_t l = 1; l <= n_layers; l++) {
        double want = tu_case_list(c, "rho_l", l - 1);
        ck_assert_msg(fabs(rho[l - 1] - want) < 1e-12 * want, "%s: rho_%zu %g vs %g", name, l,
                      rho[l - 1], want);
    }

    tu_case_step(&r);
    printf("%s: update error %.3g\n", name, tu_case_check_recorded(&r, UPDATE_TOL));
    tu_case_end(&r);
}

START_TEST(gnt_batch_eB1_mse) { run_case("gnt_batch_eB1_mse"); }
END_TEST
START_TEST(gnt_batch_eBhalf_ce) { run_case("gnt_batch_eBhalf_ce"); }
END_TEST
START_TEST(gnt_sample_eB1_mse) { run_case("gnt_sample_eB1_mse"); }
END_TEST

int main(void)
{
    const TTest *tests[] = {
        gnt_batch_eB1_mse,
        gnt_batch_eBhalf_ce,
        gnt_sample_eB1_mse,
    };
    return tu_run_tests("vectors_gnt", 0, NULL, NULL, tests, TU_COUNT(tests));
}
