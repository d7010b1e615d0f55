/* SPDX-License-Identifier: MIT */
/*
 * test_coord.c -- the coordinate check of BP (docs/parameterization.md,
 * section 9; muP as Yang & Hu 2021 define it): after a few SGD steps at a
 * fixed learning rate, how far have the features h_l and the output f
 * moved, per coordinate, as the width grows?
 *
 * Under muP the answer is Theta(1): the same at every width. Under SP the
 * output update grows with width (and the hidden features saturate), so
 * the learning rate that works at one width fails at a larger one.
 * Setup: tu_coord_run (the problem of docs/parameterization.md, section 9),
 * eta = 0.5, 5 steps.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>

#define N_WIDTHS TU_COORD_N_WIDTHS

static void sweep(pcmup_preset preset, double res[N_WIDTHS][3])
{
    const tu_coord_config cfg = {PCMUP_RULE_BP, preset, 0.0, 0.5};
    tu_coord_sweep(&cfg, NAN, preset == PCMUP_PRESET_SP ? "SP" : "muP", res);
}

/* muP: every layer's feature update stays within a constant band. The numpy
 * prototype's run moves by at most 2.4x from M = 64 to 4096, settling by
 * 1024 (finite-width corrections decay like 1/sqrt(M)); allow 3x over
 * 64..2048 and at most 1.5x between the two largest widths. Everything must
 * move. */
START_TEST(mup_feature_updates_are_width_independent)
{
    double res[N_WIDTHS][3];
    sweep(PCMUP_PRESET_MUP_SGD, res);
    for (int j = 0; j < 3; j++) {
        double lo = INFINITY, hi = 0;
        for (int k = 0; k < N_WIDTHS; k++) {
            lo = fmin(lo, res[k][j]);
            hi = fmax(hi, res[k][j]);
        }
        ck_assert_msg(lo > 1e-3, "signal %d barely moves (%g)", j, lo);
        ck_assert_msg(hi / lo < 3.0, "signal %d: band %g..%g", j, lo, hi);
        double last = res[N_WIDTHS - 1][j] / res[N_WIDTHS - 2][j];
        ck_assert_msg(last > 1 / 1.5 && last < 1.5, "signal %d: 1024 -> 2048 ratio %g", j, last);
    }
}
END_TEST

/* SP at the same learning rate: the output update grows with width by orders
 * of magnitude (or the run diverges), and the last hidden layer's update
 * grows several-fold (the numpy prototype measures .097 -> 1.0;
 * docs/parameterization.md, section 9). */
START_TEST(sp_feature_updates_grow_with_width)
{
    double res[N_WIDTHS][3];
    sweep(PCMUP_PRESET_SP, res);
    const double *small = res[0], *big = res[N_WIDTHS - 1];
    ck_assert(isfinite(small[2]));
    ck_assert_msg(big[2] / small[2] > 100, "df grows only %g x", big[2] / small[2]);
    ck_assert_msg(big[1] / small[1] > 4, "dh2 grows only %g x", big[1] / small[1]);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {
        mup_feature_updates_are_width_independent,
        sp_feature_updates_grow_with_width,
    };
    return tu_run_tests("coord", 600, NULL, NULL, tests, TU_COUNT(tests));
}
