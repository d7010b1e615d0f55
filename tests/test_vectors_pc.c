/* SPDX-License-Identifier: MIT */
/*
 * test_vectors_pc.c -- predictive coding reproduces the independent
 * double-precision reference steps in tests/data/vectors (pc_*): the
 * weight update, the loss and the energy trace, float rounding aside.
 */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The recorded update is the float GEMM's output, free of the W + dW
 * rounding; float signals through a few GEMMs and T <= 5 inference
 * iterations keep it within 3e-6 of the reference (measured worst 2.7e-6). A convention error
 * (a missing gamma, r factor, sign, or the wrong timing) is >= 1e-2. */
#define UPDATE_TOL 2e-5

static double setting_code(const char *value, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(value, names[i]) == 0)
            return i;
    ck_abort_msg("unknown setting value %s", value);
    return -1;
}

static void configure(pcmup_algo *pc, const tu_case *c)
{
    static const char *const losses[] = {"mse", "ce"};
    static const char *const schedules[] = {"sequential", "simultaneous"};
    static const char *const inits[] = {"forward", "zero", "random"};
    static const char *const timings[] = {"end", "cache"};
    static const char *const conventions[] = {"A", "B"};
    size_t n_layers = (size_t)tu_case_num(c, "L");
    TU_OK(pcmup_algo_set(pc, PCMUP_SET_LR, tu_case_num(c, "eta")));
    TU_OK(pcmup_algo_set(pc, PCMUP_SET_LOSS, setting_code(tu_case_str(c, "loss"), losses, 2)));
    TU_OK(pcmup_algo_set(pc, PCMUP_SET_RECORD_UPDATES, 1));
    TU_OK(pcmup_algo_set(pc, PCMUP_SET_PC_GAMMA_OUT_BASE, tu_case_num(c, "gamma_L_prime")));
    TU_OK(pcmup_algo_set(pc, PCMUP_SET_PC_LAST_LAYER,
                         setting_code(tu_case_str(c, "last_layer_convention"), conventions, 2)));
    for (size_t l = 1; l < n_layers; l++)
        TU_OK(pcmup_algo_set_layer(pc, l, PCMUP_SET_PC_GAMMA_HIDDEN,
                                   tu_case_list(c, "gamma_hidden", l - 1)));
    if (strcmp(tu_case_str(c, "inference"), "equilibrium") == 0)
        return;
    for (size_t l = 1; l < n_layers; l++)
        TU_OK(pcmup_algo_set_layer(pc, l, PCMUP_SET_PC_KAPPA, tu_case_list(c, "kappa_l", l - 1)));
    TU_OK(pcmup_algo_set(pc, PCMUP_SET_PC_ITERATIONS, tu_case_num(c, "T")));
    TU_OK(pcmup_algo_set(pc, PCMUP_SET_PC_SCHEDULE,
                         setting_code(tu_case_str(c, "schedule"), schedules, 2)));
    TU_OK(pcmup_algo_set(pc, PCMUP_SET_PC_INIT, setting_code(tu_case_str(c, "init"), inits, 3)));
    TU_OK(pcmup_algo_set(pc, PCMUP_SET_PC_TIMING, setting_code(tu_case_str(c, "timing"), timings, 2)));
    TU_OK(pcmup_algo_set(pc, PCMUP_SET_PC_FPA, tu_case_num(c, "fpa")));
}

static void run_case(const char *name)
{
    tu_case_run r = tu_case_begin(name);
    const tu_case *c = r.c;
    TU_OK(pcmup_algo_create(&r.algo, PCMUP_RULE_PC, r.net, 1, NULL));
    configure(r.algo, c);

    size_t n_layers = (size_t)tu_case_num(c, "L");
    double gamma_out;
    TU_OK(pcmup_pc_gamma_out(r.algo, &gamma_out));
    double want_gamma = tu_case_list(c, "gamma_l", n_layers - 1);
    ck_assert_msg(fabs(gamma_out - want_gamma) < 1e-12 * want_gamma, "%s: gamma_L %g vs %g",
                  name, gamma_out, want_gamma);

    tu_case_step(&r);
    /* The recorded update, and the weights moved by exactly it (up to
     * rounding). */
    tu_case_check_recorded(&r, UPDATE_TOL);

    if (tu_case_num(c, "fpa") == 0) {
        size_t n_trace, count;
        double *trace = tu_case_f64(c, "energy_trace", &n_trace);
        double got[16];
        TU_OK(pcmup_pc_energy_trace(r.algo, got, 16, &count));
        ck_assert_uint_eq(count, n_trace);
        for (size_t t = 0; t < n_trace; t++)
            ck_assert_msg(fabs(got[t] - trace[t]) < 1e-5 * fabs(trace[0]) + 1e-7,
                          "%s: energy[%zu] %.9g vs %.9g", name, t, got[t], trace[t]);
        free(trace);
    }
    tu_case_end(&r);
}

START_TEST(pc_default) { run_case("pc_default"); }
END_TEST
START_TEST(pc_gbar_m1) { run_case("pc_gbar_m1"); }
END_TEST
START_TEST(pc_fpa) { run_case("pc_fpa"); }
END_TEST
START_TEST(pc_sim_T5) { run_case("pc_sim_T5"); }
END_TEST
START_TEST(pc_cache) { run_case("pc_cache"); }
END_TEST
START_TEST(pc_zero_init_T5) { run_case("pc_zero_init_T5"); }
END_TEST
START_TEST(pc_convB_gbar_m1) { run_case("pc_convB_gbar_m1"); }
END_TEST
START_TEST(pc_ce) { run_case("pc_ce"); }
END_TEST
START_TEST(pc_L4) { run_case("pc_L4"); }
END_TEST
/* CNNs: states on the pre-activations, predictions through pooling. */
START_TEST(cnn_pc_default) { run_case("cnn_pc_default"); }
END_TEST
START_TEST(cnn_pc_zero_T8_gbar_m1) { run_case("cnn_pc_zero_T8_gbar_m1"); }
END_TEST
START_TEST(cnn_pc_avgpool_relu) { run_case("cnn_pc_avgpool_relu"); }
END_TEST

int main(void)
{
    const TTest *tests[] = {
        pc_default,
        pc_gbar_m1,
        pc_fpa,
        pc_sim_T5,
        pc_cache,
        pc_zero_init_T5,
        pc_convB_gbar_m1,
        pc_ce,
        pc_L4,
        cnn_pc_default,
        cnn_pc_zero_T8_gbar_m1,
        cnn_pc_avgpool_relu,
    };
    return tu_run_tests("vectors_pc", 0, NULL, NULL, tests, TU_COUNT(tests));
}
