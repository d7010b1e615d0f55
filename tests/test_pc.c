/* SPDX-License-Identifier: MIT */
/*
 * test_pc.c -- predictive coding against what the paper proves or
 * measures: the reduction to BP under FPA, the energy's descent during
 * inference, PC's drift toward BP (gammabar_L = 0) or away from it
 * (gammabar_L = -1) as width grows, the coordinate check of its muP, and
 * the validation of its settings.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers --------------------------------------------------------------- */

/* A 3-layer tanh net D -> M -> M -> C from `seed` under `preset` with
 * gamma bar `gbar` (base width 64), and an algorithm of `kind` that records
 * its updates. */
static tu_rig make_rig(pcmup_rule kind, pcmup_preset preset, double gbar, size_t d,
                       size_t m, size_t c, uint64_t seed)
{
    const size_t widths[4] = {d, m, m, c};
    return tu_rig_make(kind, tu_param(3, preset, gbar), widths, PCMUP_ACT_TANH, seed, 1);
}

/* ---- FPA: PC is BP ------------------------------------------------------------- */

/* With FPA, forward init, one sequential sweep and kappa gamma = 1, PC's
 * update is BP's with the hidden layers' rates times gamma_L under
 * convention A (every layer times gamma_L under B) -- the paper's Figure 1
 * (left); docs/pc.md, section 6. gammabar = -1 at M = 256 makes
 * gamma_L = 4, so the factor shows. */
static void check_fpa_is_bp(pcmup_pc_last_layer conv, double gbar)
{
    const size_t d = 20, m = 256, c = 5, batch = 16;
    float *x = tu_gaussian(batch * d, 7);
    int32_t *labels = tu_cyclic_labels(batch, c);
    pcmup_preset preset = conv == PCMUP_PC_LAST_LAYER_A ? PCMUP_PRESET_MUP_PC : PCMUP_PRESET_MUP_PC_B;
    tu_rig pc = make_rig(PCMUP_RULE_PC, preset, gbar, d, m, c, 3);
    tu_rig bp = make_rig(PCMUP_RULE_BP, preset, gbar, d, m, c, 3);
    TU_OK(pcmup_algo_set(pc.algo, PCMUP_SET_PC_FPA, 1));
    TU_OK(pcmup_algo_set(pc.algo, PCMUP_SET_PC_LAST_LAYER, conv));
    double gamma_out;
    TU_OK(pcmup_pc_gamma_out(pc.algo, &gamma_out));
    ck_assert_double_eq_tol(gamma_out, pow(256.0 / 64.0, -gbar), 1e-12);
    TU_OK(pcmup_algo_step(pc.algo, x, batch * pc.widths[0], labels, batch, NULL));
    TU_OK(pcmup_algo_step(bp.algo, x, batch * bp.widths[0], labels, batch, NULL));
    for (size_t l = 1; l <= 3; l++) {
        size_t n;
        float *u_pc = tu_layer_update(&pc, l, &n), *u_bp = tu_layer_update(&bp, l, &n);
        double factor = (l < 3 || conv == PCMUP_PC_LAST_LAYER_B) ? gamma_out : 1.0;
        double diff = 0, scale = 0;
        for (size_t i = 0; i < n; i++) {
            diff = fmax(diff, fabs(u_pc[i] - factor * u_bp[i]));
            scale = fmax(scale, fabs(factor * u_bp[i]));
        }
        /* Same float operations up to the order of a few products. */
        ck_assert_msg(diff < 1e-5 * scale, "layer %zu: rel diff %g", l, diff / scale);
        free(u_pc);
        free(u_bp);
    }
    tu_rig_free(&pc);
    tu_rig_free(&bp);
    free(x);
    free(labels);
}

START_TEST(fpa_equals_bp_convention_a) { check_fpa_is_bp(PCMUP_PC_LAST_LAYER_A, -1.0); }
END_TEST
START_TEST(fpa_equals_bp_convention_b) { check_fpa_is_bp(PCMUP_PC_LAST_LAYER_B, -1.0); }
END_TEST
START_TEST(fpa_equals_bp_gamma_one) { check_fpa_is_bp(PCMUP_PC_LAST_LAYER_A, 0.0); }
END_TEST

/* ---- the energy during inference ------------------------------------------------ */

/* F-ini leaves only the output term: F_0 = gamma_L * loss. */
START_TEST(forward_init_energy_is_output_loss)
{
    const size_t batch = 8;
    float *x = tu_gaussian(batch * 12, 3);
    int32_t *labels = tu_cyclic_labels(batch, 4);
    tu_rig r = make_rig(PCMUP_RULE_PC, PCMUP_PRESET_MUP_PC, -1.0, 12, 128, 4, 5);
    double loss, gamma_out, trace[2];
    size_t count;
    TU_OK(pcmup_algo_step(r.algo, x, batch * r.widths[0], labels, batch, &loss));
    TU_OK(pcmup_pc_gamma_out(r.algo, &gamma_out));
    TU_OK(pcmup_pc_energy_trace(r.algo, trace, 2, &count));
    ck_assert_uint_eq(count, 2);
    ck_assert_double_eq_tol(trace[0], gamma_out * loss, 1e-6 * trace[0]);
    /* One sweep lowers the energy (kappa = 1 is inside the bound here). */
    ck_assert_double_lt(trace[1], trace[0]);
    tu_rig_free(&r);
    free(x);
    free(labels);
}
END_TEST

/* The epoch's mean energy after inference: with the whole set in one batch
 * the epoch is one step, so it is that step's last energy; before any
 * epoch, and for another rule, there is none. */
START_TEST(epoch_energy_is_mean_final_energy)
{
    const size_t n = 8;
    float *x = tu_gaussian(n * 12, 4);
    int32_t *labels = tu_cyclic_labels(n, 4);
    tu_rig r = make_rig(PCMUP_RULE_PC, PCMUP_PRESET_MUP_PC, 0.0, 12, 64, 4, 6);
    tu_rig bp = make_rig(PCMUP_RULE_BP, PCMUP_PRESET_MUP_SGD, 0.0, 12, 64, 4, 6);
    pcmup_dataset *ds;
    double mean, trace[2];
    size_t count;
    TU_OK(pcmup_dataset_from_arrays(&ds, n, 12, 4, x, n * 12, labels, NULL));
    TU_FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_pc_epoch_energy(r.algo, &mean));
    TU_OK(pcmup_algo_step(r.algo, x, n * r.widths[0], labels, n, NULL));
    TU_FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_pc_epoch_energy(r.algo, &mean));
    TU_OK(pcmup_algo_train_epoch(r.algo, ds, n, NULL));
    TU_OK(pcmup_pc_epoch_energy(r.algo, &mean));
    TU_OK(pcmup_pc_energy_trace(r.algo, trace, 2, &count));
    ck_assert_double_eq_tol(mean, trace[1], 1e-12 * trace[1]);
    TU_OK(pcmup_algo_train_epoch(bp.algo, ds, n, NULL));
    TU_FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_pc_epoch_energy(bp.algo, &mean));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_pc_epoch_energy(r.algo, NULL));
    pcmup_dataset_free(ds);
    tu_rig_free(&r);
    tu_rig_free(&bp);
    free(x);
    free(labels);
}
END_TEST

/* Inference is gradient descent on F with steps inside the stability bound
 * of docs/pc.md, section 3 (kappa < 2 / (gamma + gamma'_L sigma^2
 * lambda_max(H)) = 1 for MSE at the defaults; the simultaneous schedule
 * couples layers, so it gets half of that): the energy never increases,
 * whatever the start. Allow float rounding of the energy itself (1e-6
 * relative). */
static void check_energy_descends(pcmup_pc_schedule schedule, pcmup_pc_init init, double kappa,
                                  double gbar)
{
    const size_t batch = 16, t_max = 40;
    float *x = tu_gaussian(batch * 16, 11);
    int32_t *labels = tu_cyclic_labels(batch, 4);
    tu_rig r = make_rig(PCMUP_RULE_PC, PCMUP_PRESET_MUP_PC, gbar, 16, 64, 4, 9);
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_PC_SCHEDULE, schedule));
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_PC_INIT, init));
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_PC_KAPPA, kappa));
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_PC_ITERATIONS, (double)t_max));
    TU_OK(pcmup_algo_step(r.algo, x, batch * r.widths[0], labels, batch, NULL));
    double trace[64];
    size_t count;
    TU_OK(pcmup_pc_energy_trace(r.algo, trace, 64, &count));
    ck_assert_uint_eq(count, t_max + 1);
    for (size_t t = 1; t < count; t++)
        ck_assert_msg(trace[t] <= trace[t - 1] + 1e-6 * fabs(trace[0]),
                      "energy rose at iteration %zu: %.9g -> %.9g", t, trace[t - 1], trace[t]);
    ck_assert_msg(trace[count - 1] < 0.9 * trace[0], "energy barely moved: %g -> %g", trace[0],
                  trace[count - 1]);
    tu_rig_free(&r);
    free(x);
    free(labels);
}

START_TEST(energy_descends_sequential_forward)
{
    check_energy_descends(PCMUP_PC_SCHEDULE_SEQUENTIAL, PCMUP_PC_INIT_FORWARD, 0.5, 0.0);
}
END_TEST
START_TEST(energy_descends_sequential_zero)
{
    check_energy_descends(PCMUP_PC_SCHEDULE_SEQUENTIAL, PCMUP_PC_INIT_ZERO, 0.5, -1.0);
}
END_TEST
START_TEST(energy_descends_simultaneous_random)
{
    check_energy_descends(PCMUP_PC_SCHEDULE_SIMULTANEOUS, PCMUP_PC_INIT_RANDOM, 0.25, -1.0);
}
END_TEST

/* Early stop: with a loose tolerance the inference ends before T, at the
 * first iteration whose relative decrease fell below it. */
START_TEST(tolerance_stops_inference_early)
{
    const size_t batch = 16;
    float *x = tu_gaussian(batch * 16, 11);
    int32_t *labels = tu_cyclic_labels(batch, 4);
    tu_rig r = make_rig(PCMUP_RULE_PC, PCMUP_PRESET_MUP_PC, 0.0, 16, 64, 4, 9);
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_PC_KAPPA, 0.2));
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_PC_ITERATIONS, 500));
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_PC_TOLERANCE, 1e-3));
    TU_OK(pcmup_algo_step(r.algo, x, batch * r.widths[0], labels, batch, NULL));
    double trace[501];
    size_t count;
    TU_OK(pcmup_pc_energy_trace(r.algo, trace, 501, &count));
    ck_assert_uint_lt(count, 501);
    ck_assert_uint_gt(count, 2);
    double last = (trace[count - 2] - trace[count - 1]) / trace[count - 2];
    ck_assert_double_lt(last, 1e-3);
    for (size_t t = 1; t + 1 < count; t++)
        ck_assert_double_ge((trace[t - 1] - trace[t]) / trace[t - 1], 1e-3);
    tu_rig_free(&r);
    free(x);
    free(labels);
}
END_TEST

/* Cache timing with an early stop uses the errors cached in the last sweep
 * run: the same update as a run told to stop there (T = iterations run). */
START_TEST(cache_timing_survives_early_stop)
{
    const size_t batch = 16;
    float *x = tu_gaussian(batch * 16, 11);
    int32_t *labels = tu_cyclic_labels(batch, 4);
    tu_rig early = make_rig(PCMUP_RULE_PC, PCMUP_PRESET_MUP_PC, 0.0, 16, 64, 4, 9);
    tu_rig fixed = make_rig(PCMUP_RULE_PC, PCMUP_PRESET_MUP_PC, 0.0, 16, 64, 4, 9);
    TU_OK(pcmup_algo_set(early.algo, PCMUP_SET_PC_TIMING, PCMUP_PC_TIMING_CACHE));
    TU_OK(pcmup_algo_set(early.algo, PCMUP_SET_PC_KAPPA, 0.2));
    TU_OK(pcmup_algo_set(early.algo, PCMUP_SET_PC_ITERATIONS, 500));
    TU_OK(pcmup_algo_set(early.algo, PCMUP_SET_PC_TOLERANCE, 1e-2));
    TU_OK(pcmup_algo_step(early.algo, x, batch * early.widths[0], labels, batch, NULL));
    size_t count;
    TU_OK(pcmup_pc_energy_trace(early.algo, NULL, 0, &count));
    ck_assert_uint_gt(count, 2);
    ck_assert_uint_lt(count, 501);
    TU_OK(pcmup_algo_set(fixed.algo, PCMUP_SET_PC_TIMING, PCMUP_PC_TIMING_CACHE));
    TU_OK(pcmup_algo_set(fixed.algo, PCMUP_SET_PC_KAPPA, 0.2));
    TU_OK(pcmup_algo_set(fixed.algo, PCMUP_SET_PC_ITERATIONS, (double)(count - 1)));
    TU_OK(pcmup_algo_step(fixed.algo, x, batch * fixed.widths[0], labels, batch, NULL));
    for (size_t l = 1; l <= 3; l++) {
        size_t n;
        float *a = tu_layer_update(&early, l, &n), *b = tu_layer_update(&fixed, l, &n);
        ck_assert_msg(memcmp(a, b, n * sizeof *a) == 0, "layer %zu differs", l);
        free(a);
        free(b);
    }
    tu_rig_free(&early);
    tu_rig_free(&fixed);
    free(x);
    free(labels);
}
END_TEST

/* Every PC buffer is sized by the first step: later steps (any init, either
 * schedule, cache timing, recording) allocate nothing. */
START_TEST(no_allocation_after_first_step)
{
    tu_counter counter;
    pcmup_allocator alloc = tu_counting_allocator(&counter);
    const size_t widths[] = {12, 32, 32, 4}, batch = 8;
    pcmup_param *p;
    TU_OK(pcmup_param_create(&p, 3, PCMUP_PRESET_MUP_PC, &alloc));
    pcmup_net *net;
    TU_OK(pcmup_net_create(&net, widths, 4, PCMUP_ACT_TANH, 0, p, 1, &alloc));
    pcmup_algo *pc;
    TU_OK(pcmup_algo_create(&pc, PCMUP_RULE_PC, net, 1, &alloc));
    TU_OK(pcmup_algo_set(pc, PCMUP_SET_PC_ITERATIONS, 4));
    TU_OK(pcmup_algo_set(pc, PCMUP_SET_RECORD_UPDATES, 1));
    float *x = tu_gaussian(batch * 12, 5);
    int32_t *labels = tu_cyclic_labels(batch, 4);
    TU_OK(pcmup_algo_step(pc, x, batch * widths[0], labels, batch, NULL));
    size_t calls = counter.n_malloc + counter.n_realloc;
    const double inits[] = {PCMUP_PC_INIT_ZERO, PCMUP_PC_INIT_RANDOM, PCMUP_PC_INIT_FORWARD};
    for (int i = 0; i < 3; i++) {
        TU_OK(pcmup_algo_set(pc, PCMUP_SET_PC_INIT, inits[i]));
        TU_OK(pcmup_algo_set(pc, PCMUP_SET_PC_SCHEDULE, i == 1 ? PCMUP_PC_SCHEDULE_SIMULTANEOUS
                                                             : PCMUP_PC_SCHEDULE_SEQUENTIAL));
        TU_OK(pcmup_algo_set(pc, PCMUP_SET_PC_TIMING, i == 2 ? PCMUP_PC_TIMING_CACHE : PCMUP_PC_TIMING_END));
        TU_OK(pcmup_algo_step(pc, x, (batch - (size_t)i) * widths[0], labels, batch - (size_t)i,
                              NULL));
    }
    ck_assert_uint_eq(counter.n_malloc + counter.n_realloc, calls);
    pcmup_algo_free(pc);
    pcmup_net_free(net);
    pcmup_param_free(p);
    ck_assert_int_eq(counter.live, 0);
    free(x);
    free(labels);
}
END_TEST

/* ---- PC versus BP as width grows ----------------------------------------------------- */

/* Near the inference equilibrium (T = 50, kappa = 0.2), per layer
 * cos(PC update, BP update). gammabar = 0: C_gamma = O(1/M), PC -> BP
 * (Corollary 4.3); the numpy prototype measures .96/.96/.91 at M = 64 and
 * 1.00 by 4096 (docs/pc.md, section 13.1). gammabar = -1:
 * C_gamma = Theta(1), the output layer stays Gauss-Newton-like (~.96). */
static void cosines(double gbar, size_t m, double cos_out[3])
{
    const size_t d = 64, c = 10, batch = 32;
    float *x = tu_gaussian(batch * d, 1);
    int32_t *labels = tu_cyclic_labels(batch, c);
    tu_rig pc = make_rig(PCMUP_RULE_PC, PCMUP_PRESET_MUP_PC, gbar, d, m, c, 21);
    tu_rig bp = make_rig(PCMUP_RULE_BP, PCMUP_PRESET_MUP_PC, gbar, d, m, c, 21);
    TU_OK(pcmup_algo_set(pc.algo, PCMUP_SET_PC_ITERATIONS, 50));
    TU_OK(pcmup_algo_set(pc.algo, PCMUP_SET_PC_KAPPA, 0.2));
    TU_OK(pcmup_algo_step(pc.algo, x, batch * pc.widths[0], labels, batch, NULL));
    TU_OK(pcmup_algo_step(bp.algo, x, batch * bp.widths[0], labels, batch, NULL));
    for (size_t l = 1; l <= 3; l++) {
        size_t n;
        float *a = tu_layer_update(&pc, l, &n), *b = tu_layer_update(&bp, l, &n);
        cos_out[l - 1] = tu_cosine(a, b, n, NULL);
        free(a);
        free(b);
    }
    printf("gbar %4.1f M=%5zu  cos W1 %.4f  W2 %.4f  W3 %.4f\n", gbar, m, cos_out[0],
           cos_out[1], cos_out[2]);
    tu_rig_free(&pc);
    tu_rig_free(&bp);
    free(x);
    free(labels);
}

START_TEST(gammabar_zero_approaches_bp)
{
    double small[3], big[3];
    cosines(0.0, 64, small);
    cosines(0.0, 1024, big);
    for (int l = 0; l < 3; l++) {
        ck_assert_msg(big[l] > 0.99, "layer %d: cos %.4f at M = 1024", l + 1, big[l]);
        ck_assert_msg(big[l] > small[l] || big[l] > 0.999, "layer %d: %.4f -> %.4f", l + 1,
                      small[l], big[l]);
    }
}
END_TEST

START_TEST(gammabar_minus_one_stays_gauss_newton_like)
{
    double big[3];
    cosines(-1.0, 1024, big);
    /* Clearly below 1 at the output layer, yet well aligned (GN ~ GD). */
    ck_assert_msg(big[2] < 0.98, "layer 3: cos %.4f at M = 1024", big[2]);
    ck_assert_msg(big[2] > 0.5, "layer 3: cos %.4f at M = 1024", big[2]);
}
END_TEST

/* ---- coordinate check --------------------------------------------------------------- */

#define N_WIDTHS TU_COORD_N_WIDTHS

/* muP for PC (the numpy prototype's dh2: .089/.053/.041/.039 for gbar 0,
 * .089/.060/.049/.046 for gbar -1; docs/pc.md, section 13.1): the same
 * band as BP's check, 3x over 64..2048. */
static void check_flat(double gbar)
{
    const tu_coord_config cfg = {PCMUP_RULE_PC, PCMUP_PRESET_MUP_PC, gbar, 0.5};
    double res[N_WIDTHS][3];
    tu_coord_sweep(&cfg, NAN, gbar == 0.0 ? "PC muP gbar 0" : "PC muP gbar -1", res);
    for (int j = 0; j < 3; j++) {
        double lo = INFINITY, hi = 0;
        for (int k = 0; k < N_WIDTHS; k++) {
            lo = fmin(lo, res[k][j]);
            hi = fmax(hi, res[k][j]);
        }
        ck_assert_msg(lo > 1e-3 && hi / lo < 3.0, "signal %d: band %g..%g", j, lo, hi);
    }
}

START_TEST(pc_mup_gammabar_zero_is_flat) { check_flat(0.0); }
END_TEST
START_TEST(pc_mup_gammabar_minus_one_is_flat) { check_flat(-1.0); }
END_TEST

/* SP grows; so does gammabar = -1 paired with SGD's learning-rate exponents
 * (the numpy prototype: dh2 .089 -> 1.00, df .27 -> 1.5e3): wrong
 * exponents break the transfer. */
START_TEST(pc_wrong_exponents_grow)
{
    const tu_coord_config sp = {PCMUP_RULE_PC, PCMUP_PRESET_SP, 0.0, 0.5};
    const tu_coord_config wrong = {PCMUP_RULE_PC, PCMUP_PRESET_MUP_SGD, -1.0, 0.5};
    double res[N_WIDTHS][3];
    tu_coord_sweep(&sp, NAN, "PC SP", res);
    ck_assert_msg(res[N_WIDTHS - 1][2] / res[0][2] > 100, "SP df grows only %g x",
                  res[N_WIDTHS - 1][2] / res[0][2]);
    tu_coord_sweep(&wrong, NAN, "PC gbar -1, SGD c", res);
    ck_assert_msg(res[N_WIDTHS - 1][1] / res[0][1] > 4, "dh2 grows only %g x",
                  res[N_WIDTHS - 1][1] / res[0][1]);
    ck_assert_msg(res[N_WIDTHS - 1][2] / res[0][2] > 10, "df grows only %g x",
                  res[N_WIDTHS - 1][2] / res[0][2]);
}
END_TEST

/* ---- settings ---------------------------------------------------------------------- */

START_TEST(invalid_settings_are_rejected)
{
    tu_rig r = make_rig(PCMUP_RULE_PC, PCMUP_PRESET_MUP_PC, 0.0, 8, 16, 3, 1);
    const struct {
        pcmup_setting key;
        double value;
    } bad[] = {
        {PCMUP_SET_PC_ITERATIONS, 0},          {PCMUP_SET_PC_ITERATIONS, 2.5},         {PCMUP_SET_PC_KAPPA, -0.1},
        {PCMUP_SET_PC_KAPPA, NAN},    {PCMUP_SET_PC_GAMMA_HIDDEN, 0},       {PCMUP_SET_PC_GAMMA_HIDDEN, -1},
        {PCMUP_SET_PC_GAMMA_HIDDEN, NAN},    {PCMUP_SET_PC_GAMMA_OUT_BASE, 0},   {PCMUP_SET_PC_GAMMA_OUT_BASE, INFINITY},
        {PCMUP_SET_PC_INIT_STD, -1},  {PCMUP_SET_PC_INIT_STD, NAN},  {PCMUP_SET_PC_SCHEDULE, 2},
        {PCMUP_SET_PC_INIT, 3},       {PCMUP_SET_PC_TIMING, 0.5},    {PCMUP_SET_PC_FPA, 2},
        {PCMUP_SET_PC_LAST_LAYER, 2}, {PCMUP_SET_PC_TOLERANCE, -1e-3},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double before, after;
        TU_OK(pcmup_algo_get(r.algo, bad[i].key, &before));
        TU_FAILS(PCMUP_ERR_INVALID, pcmup_algo_set(r.algo, bad[i].key, bad[i].value));
        TU_OK(pcmup_algo_get(r.algo, bad[i].key, &after));
        ck_assert_msg(before == after, "setting %d changed", (int)bad[i].key);
    }
    /* Per-layer keys: hidden layers only, valid values only. */
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_algo_set_layer(r.algo, 3, PCMUP_SET_PC_GAMMA_HIDDEN, 1));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_algo_set_layer(r.algo, 0, PCMUP_SET_PC_KAPPA, 1));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_algo_set_layer(r.algo, 1, PCMUP_SET_PC_KAPPA, -2));
    TU_FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_algo_set_layer(r.algo, 1, PCMUP_SET_PC_ITERATIONS, 2));
    double kappa;
    TU_OK(pcmup_algo_get_layer(r.algo, 1, PCMUP_SET_PC_KAPPA, &kappa));
    ck_assert_double_eq(kappa, 1.0);
    /* PC settings do not exist for BP; gamma bar outside [-1, 0] is refused. */
    tu_rig bp = make_rig(PCMUP_RULE_BP, PCMUP_PRESET_MUP_SGD, 0.0, 8, 16, 3, 1);
    TU_FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_algo_set(bp.algo, PCMUP_SET_PC_KAPPA, 0.5));
    TU_FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_pc_gamma_out(bp.algo, &kappa));
    TU_FAILS(PCMUP_ERR_INVALID,
             pcmup_param_apply_preset(r.param, PCMUP_PRESET_MUP_PC, -1.5, 1.0));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_param_apply_preset(r.param, PCMUP_PRESET_MUP_PC, 0.5, 1.0));
    tu_rig_free(&bp);

    /* Cache timing needs the sequential schedule: the step refuses and the
     * weights stay. */
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_PC_TIMING, PCMUP_PC_TIMING_CACHE));
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_PC_SCHEDULE, PCMUP_PC_SCHEDULE_SIMULTANEOUS));
    float *x = tu_gaussian(4 * 8, 1), w[128], w_after[128];
    int32_t labels[4] = {0, 1, 2, 0};
    TU_OK(pcmup_net_get_weights(r.net, 1, w, 128));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_algo_step(r.algo, x, 4 * r.widths[0], labels, 4, NULL));
    TU_OK(pcmup_net_get_weights(r.net, 1, w_after, 128));
    ck_assert(memcmp(w, w_after, sizeof w) == 0);
    free(x);
    tu_rig_free(&r);
}
END_TEST

/* The MUP_PC preset rows: c = (-1 - g, -g, 1) (A) and c_L = 1 - g (B). */
START_TEST(pc_presets_follow_gammabar)
{
    const double gbars[] = {0.0, -0.5, -1.0};
    for (int k = 0; k < 3; k++) {
        double g = gbars[k], c1, c2, c3;
        pcmup_param *p;
        TU_OK(pcmup_param_create(&p, 3, PCMUP_PRESET_SP, NULL));
        TU_OK(pcmup_param_apply_preset(p, PCMUP_PRESET_MUP_PC, g, 1.0));
        TU_OK(pcmup_param_get_layer(p, 1, PCMUP_LAYER_C, &c1));
        TU_OK(pcmup_param_get_layer(p, 2, PCMUP_LAYER_C, &c2));
        TU_OK(pcmup_param_get_layer(p, 3, PCMUP_LAYER_C, &c3));
        ck_assert_double_eq(c1, -1 - g);
        ck_assert_double_eq(c2, -g);
        ck_assert_double_eq(c3, 1);
        TU_OK(pcmup_param_apply_preset(p, PCMUP_PRESET_MUP_PC_B, g, 1.0));
        TU_OK(pcmup_param_get_layer(p, 3, PCMUP_LAYER_C, &c3));
        ck_assert_double_eq(c3, 1 - g);
        pcmup_param_free(p);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pc");
    TCase *exact = tcase_create("exact");
    tcase_add_test(exact, fpa_equals_bp_convention_a);
    tcase_add_test(exact, fpa_equals_bp_convention_b);
    tcase_add_test(exact, fpa_equals_bp_gamma_one);
    tcase_add_test(exact, forward_init_energy_is_output_loss);
    tcase_add_test(exact, epoch_energy_is_mean_final_energy);
    tcase_add_test(exact, pc_presets_follow_gammabar);
    tcase_add_test(exact, invalid_settings_are_rejected);
    tcase_add_test(exact, no_allocation_after_first_step);
    suite_add_tcase(s, exact);
    TCase *inference = tcase_create("inference");
    tcase_add_test(inference, energy_descends_sequential_forward);
    tcase_add_test(inference, energy_descends_sequential_zero);
    tcase_add_test(inference, energy_descends_simultaneous_random);
    tcase_add_test(inference, tolerance_stops_inference_early);
    tcase_add_test(inference, cache_timing_survives_early_stop);
    suite_add_tcase(s, inference);
    TCase *width = tcase_create("width");
    tcase_set_timeout(width, 900);
    tcase_add_test(width, gammabar_zero_approaches_bp);
    tcase_add_test(width, gammabar_minus_one_stays_gauss_newton_like);
    tcase_add_test(width, pc_mup_gammabar_zero_is_flat);
    tcase_add_test(width, pc_mup_gammabar_minus_one_is_flat);
    tcase_add_test(width, pc_wrong_exponents_grow);
    suite_add_tcase(s, width);
    return tu_run_suite(s);
}
