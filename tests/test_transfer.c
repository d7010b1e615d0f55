/* SPDX-License-Identifier: MIT */
/*
 * test_transfer.c -- the width-transfer diagnostics of pcmup.h section 9:
 * pcmup_coord_check, pcmup_algo_trial_update, pcmup_algo_reference_update,
 * pcmup_algo_update_alignment and pcmup_algo_compare_updates.
 *
 * Truth comes from elsewhere: the coordinate check is compared with the
 * hand-written loop of testutil (tu_coord_run, the setup of
 * docs/parameterization.md, section 9) and with the muP/SP behaviour
 * measured there; the trial and reference updates with real steps of twin
 * networks; the alignment with cosines computed here, and with identities
 * (BP against itself, GNT against GN, PC under FPA = BP).
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define D 64
#define C 10
#define B 32
#define PROBE 64

/* The coordinate check's problem (docs/parameterization.md, section 9):
 * batch (x, labels) and a probe batch, as testutil's coordinate check draws
 * them. */
typedef struct {
    float *x, *probe;
    int32_t labels[B];
} problem;

static problem make_problem(void)
{
    problem p;
    p.x = tu_gaussian(B * D, 1);
    p.probe = tu_gaussian(PROBE * D, 2);
    for (int i = 0; i < B; i++)
        p.labels[i] = i % C;
    return p;
}

static void free_problem(problem *p)
{
    free(p->x);
    free(p->probe);
}

/* A 3-layer tanh network of width M with `preset` (gammabar set first),
 * seed 1234, and a rule of `kind` at learning rate lr. */
static tu_rig make_rig(pcmup_rule kind, pcmup_preset preset, double gamma_bar, size_t width,
                       double lr)
{
    const size_t widths[4] = {D, width, width, C};
    tu_rig r = tu_rig_make(kind, tu_param(3, preset, gamma_bar), widths, PCMUP_ACT_TANH, 1234, 0);
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_LR, lr));
    return r;
}

/* ---- coordinate check ---------------------------------------------------- */

/* The API's values at step 5 equal testutil's direct loop (same weights,
 * same batch, same probe) for BP, PC and TP: the API builds each width
 * from the prototype exactly as a user would by hand. The prototype's own
 * width (32) is not one of the widths checked: only its description counts. */
START_TEST(coord_check_matches_direct_loop)
{
    const struct {
        pcmup_rule kind;
        pcmup_preset preset;
        double gamma_bar, lr;
    } cases[] = {
        {PCMUP_RULE_BP, PCMUP_PRESET_MUP_SGD, 0.0, 0.5},
        {PCMUP_RULE_BP, PCMUP_PRESET_SP, 0.0, 0.5},
        {PCMUP_RULE_PC, PCMUP_PRESET_MUP_PC, -1.0, 0.5},
        {PCMUP_RULE_DTP, PCMUP_PRESET_MUP_TP, 0.0, 0.5},
    };
    const size_t widths[2] = {64, 256}, steps[1] = {5};
    problem p = make_problem();
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        tu_rig proto = make_rig(cases[c].kind, cases[c].preset, cases[c].gamma_bar, 32,
                             cases[c].lr);
        double dh[2 * 3];
        TU_OK(pcmup_coord_check(proto.algo, widths, 2, p.x, B * D, p.labels, B, p.probe,
                                PROBE * D, PROBE, steps, 1, 1234, dh, NULL, 6));
        for (size_t i = 0; i < 2; i++) {
            const tu_coord_config cfg = {cases[c].kind, cases[c].preset, cases[c].gamma_bar,
                                         cases[c].lr};
            double direct[3];
            tu_coord_run(&cfg, widths[i], 5, direct);
            for (int l = 0; l < 3; l++)
                ck_assert_msg(fabs(dh[i * 3 + l] - direct[l]) <= 1e-12 * fabs(direct[l]),
                              "case %zu width %zu layer %d: api %.9g direct %.9g", c,
                              widths[i], l + 1, dh[i * 3 + l], direct[l]);
        }
        tu_rig_free(&proto);
    }
    free_problem(&p);
}
END_TEST

/* Step 0 measures the initial network: dh = 0 exactly, and h_abs is the
 * mean |h_l| of a plain forward pass of the width-M network drawn from the
 * same seed. Steps are cumulative: steps {0, 2, 5} at step 5 equal {5}. */
START_TEST(coord_check_step_zero_and_cumulative_steps)
{
    problem p = make_problem();
    tu_rig proto = make_rig(PCMUP_RULE_BP, PCMUP_PRESET_MUP_SGD, 0.0, 16, 0.5);
    const size_t widths[1] = {128}, steps3[3] = {0, 2, 5}, steps1[1] = {5};
    double dh[3 * 3], h[3 * 3], dh1[3];
    TU_OK(pcmup_coord_check(proto.algo, widths, 1, p.x, B * D, p.labels, B, p.probe, PROBE * D,
                            PROBE, steps3, 3, 99, dh, h, 9));
    TU_OK(pcmup_coord_check(proto.algo, widths, 1, p.x, B * D, p.labels, B, p.probe, PROBE * D,
                            PROBE, steps1, 1, 99, dh1, NULL, 3));

    tu_rig twin = make_rig(PCMUP_RULE_BP, PCMUP_PRESET_MUP_SGD, 0.0, 128, 0.5);
    TU_OK(pcmup_net_init_weights(twin.net, 99));
    const size_t out_w[3] = {128, 128, C};
    for (size_t l = 1; l <= 3; l++) {
        float *sig = malloc(PROBE * out_w[l - 1] * sizeof *sig);
        TU_OK(pcmup_net_forward_layer(twin.net, p.probe, PROBE * D, PROBE, l, PCMUP_SIGNAL_POST,
                                      sig, PROBE * out_w[l - 1]));
        double s = 0;
        for (size_t i = 0; i < PROBE * out_w[l - 1]; i++)
            s += fabs(sig[i]);
        s /= (double)(PROBE * out_w[l - 1]);
        ck_assert_msg(dh[l - 1] == 0.0, "layer %zu moved at step 0", l);
        ck_assert_msg(fabs(h[l - 1] - s) <= 1e-12 * s, "layer %zu: |h| %g vs %g", l,
                      h[l - 1], s);
        ck_assert_msg(dh[3 + l - 1] > 0 && dh[3 + l - 1] < dh[6 + l - 1],
                      "layer %zu: step 2 %g, step 5 %g", l, dh[3 + l - 1], dh[6 + l - 1]);
        ck_assert_msg(dh[6 + l - 1] == dh1[l - 1], "layer %zu: cumulative %g vs %g", l,
                      dh[6 + l - 1], dh1[l - 1]);
        free(sig);
    }
    tu_rig_free(&twin);
    tu_rig_free(&proto);
    free_problem(&p);
}
END_TEST

/* Through the API: under muP the features move by Theta(1) at every width
 * (within 3x from 64 to 1024, as in test_coord), under SP at the same
 * learning rate the output's update grows by orders of magnitude and the
 * last hidden layer's several-fold (the numpy prototype: .097 -> 1.0;
 * docs/parameterization.md, section 9). */
START_TEST(coord_check_mup_flat_sp_grows)
{
    problem p = make_problem();
    const size_t widths[3] = {64, 256, 1024}, steps[1] = {5};
    tu_rig mup = make_rig(PCMUP_RULE_BP, PCMUP_PRESET_MUP_SGD, 0.0, 64, 0.5);
    tu_rig sp = make_rig(PCMUP_RULE_BP, PCMUP_PRESET_SP, 0.0, 64, 0.5);
    double dm[9], ds[9];
    TU_OK(pcmup_coord_check(mup.algo, widths, 3, p.x, B * D, p.labels, B, p.probe, PROBE * D,
                            PROBE, steps, 1, 1234, dm, NULL, 9));
    TU_OK(pcmup_coord_check(sp.algo, widths, 3, p.x, B * D, p.labels, B, p.probe, PROBE * D,
                            PROBE, steps, 1, 1234, ds, NULL, 9));
    for (int l = 0; l < 3; l++) {
        double lo = fmin(dm[l], fmin(dm[3 + l], dm[6 + l]));
        double hi = fmax(dm[l], fmax(dm[3 + l], dm[6 + l]));
        printf("layer %d  muP %.4g %.4g %.4g   SP %.4g %.4g %.4g\n", l + 1, dm[l], dm[3 + l],
               dm[6 + l], ds[l], ds[3 + l], ds[6 + l]);
        ck_assert_msg(lo > 1e-3 && hi / lo < 3.0, "muP layer %d band %g..%g", l + 1, lo, hi);
    }
    ck_assert_msg(ds[6 + 2] > 100 * ds[2], "SP df %g -> %g", ds[2], ds[6 + 2]);
    ck_assert_msg(ds[6 + 1] > 4 * ds[1], "SP dh2 %g -> %g", ds[1], ds[6 + 1]);
    tu_rig_free(&mup);
    tu_rig_free(&sp);
    free_problem(&p);
}
END_TEST

/* A learning rate far too large: the check reports +infinity from the
 * diverging step on, returns PCMUP_OK, and leaves the prototype's
 * weights as they were. */
START_TEST(coord_check_reports_divergence_as_infinity)
{
    problem p = make_problem();
    tu_rig proto = make_rig(PCMUP_RULE_BP, PCMUP_PRESET_SP, 0.0, 64, 1e5);
    const size_t widths[1] = {512}, steps[2] = {0, 30};
    float before[D * 64], after[D * 64];
    TU_OK(pcmup_net_get_weights(proto.net, 1, before, D * 64));
    double dh[6];
    TU_OK(pcmup_coord_check(proto.algo, widths, 1, p.x, B * D, p.labels, B, NULL, 0, 0, steps, 2,
                            7, dh, NULL, 6));
    for (int l = 0; l < 3; l++) {
        ck_assert(dh[l] == 0.0);
        ck_assert_msg(isinf(dh[3 + l]) && dh[3 + l] > 0, "layer %d: %g", l + 1, dh[3 + l]);
    }
    TU_OK(pcmup_net_get_weights(proto.net, 1, after, D * 64));
    ck_assert(memcmp(before, after, sizeof before) == 0);
    tu_rig_free(&proto);
    free_problem(&p);
}
END_TEST

/* The rebuilt rules take the prototype's per-layer settings, not only
 * their common value: with kappa_1 = kappa_2 = 0 set layer by layer (the
 * value set for all layers stays 1), PC's states never move from the
 * forward pass, every hidden error stays exactly 0, and only the output
 * layer learns, so h_1 and h_2 do not move at all. */
START_TEST(coord_check_copies_per_layer_settings)
{
    problem p = make_problem();
    tu_rig proto = make_rig(PCMUP_RULE_PC, PCMUP_PRESET_MUP_PC, 0.0, 32, 0.5);
    const size_t widths[1] = {64}, steps[1] = {3};
    double dh[3], moving[3];
    TU_OK(pcmup_coord_check(proto.algo, widths, 1, p.x, B * D, p.labels, B, p.probe, PROBE * D,
                            PROBE, steps, 1, 5, moving, NULL, 3));
    TU_OK(pcmup_algo_set_layer(proto.algo, 1, PCMUP_SET_PC_KAPPA, 0.0));
    TU_OK(pcmup_algo_set_layer(proto.algo, 2, PCMUP_SET_PC_KAPPA, 0.0));
    TU_OK(pcmup_coord_check(proto.algo, widths, 1, p.x, B * D, p.labels, B, p.probe, PROBE * D,
                            PROBE, steps, 1, 5, dh, NULL, 3));
    ck_assert_msg(moving[0] > 0 && moving[1] > 0, "kappa 1: %g %g", moving[0], moving[1]);
    ck_assert_msg(dh[0] == 0.0 && dh[1] == 0.0, "kappa 0: %g %g", dh[0], dh[1]);
    ck_assert_msg(dh[2] > 0, "the output layer still learns");
    tu_rig_free(&proto);
    free_problem(&p);
}
END_TEST

START_TEST(coord_check_rejects_bad_arguments)
{
    problem p = make_problem();
    tu_rig proto = make_rig(PCMUP_RULE_BP, PCMUP_PRESET_MUP_SGD, 0.0, 16, 0.1);
    const size_t widths[2] = {16, 0}, steps[2] = {3, 3};
    double dh[6] = {42, 42, 42, 42, 42, 42};
    TU_FAILS(PCMUP_ERR_NULL, pcmup_coord_check(NULL, widths, 1, p.x, B * D, p.labels, B, NULL, 0,
                                               0, steps, 1, 1, dh, NULL, 3));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_coord_check(proto.algo, widths, 2, p.x, B * D, p.labels, B,
                                                  NULL, 0, 0, steps, 1, 1, dh, NULL, 6));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_coord_check(proto.algo, widths, 1, p.x, B * D, p.labels, B,
                                                  NULL, 0, 0, steps, 2, 1, dh, NULL, 6));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_coord_check(proto.algo, widths, 0, p.x, B * D, p.labels, B,
                                                  NULL, 0, 0, steps, 1, 1, dh, NULL, 0));
    int32_t bad[B];
    memcpy(bad, p.labels, sizeof bad);
    bad[3] = C;
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_coord_check(proto.algo, widths, 1, p.x, B * D, bad, B, NULL,
                                                  0, 0, steps, 1, 1, dh, NULL, 3));
    for (int i = 0; i < 6; i++)
        ck_assert(dh[i] == 42);

    /* A single-layer network has no width to vary. */
    pcmup_param *p1;
    pcmup_net *n1;
    pcmup_algo *a1;
    const size_t w1[2] = {D, C};
    TU_OK(pcmup_param_create(&p1, 1, PCMUP_PRESET_MUP_SGD, NULL));
    TU_OK(pcmup_net_create(&n1, w1, 2, PCMUP_ACT_TANH, 0, p1, 1, NULL));
    TU_OK(pcmup_algo_create(&a1, PCMUP_RULE_BP, n1, 1, NULL));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_coord_check(a1, widths, 1, p.x, B * D, p.labels, B, NULL, 0,
                                                  0, steps, 1, 1, dh, NULL, 1));
    pcmup_algo_free(a1);
    pcmup_net_free(n1);
    pcmup_param_free(p1);
    tu_rig_free(&proto);
    free_problem(&p);
}
END_TEST

/* ---- trial and reference updates ------------------------------------------ */

static float **alloc_updates(const pcmup_net *net)
{
    float **u = calloc(3, sizeof *u);
    for (size_t l = 1; l <= 3; l++) {
        size_t out, in;
        TU_OK(pcmup_net_layer_shape(net, l, &out, &in));
        u[l - 1] = calloc(out * in, sizeof(float));
    }
    return u;
}

static void free_updates(float **u)
{
    for (int l = 0; l < 3; l++)
        free(u[l]);
    free(u);
}

static size_t layer_size(const pcmup_net *net, size_t l)
{
    size_t out, in;
    TU_OK(pcmup_net_layer_shape(net, l, &out, &in));
    return out * in;
}

/* The trial update is the update a real step records, and a trial leaves
 * nothing behind: after it, a real step of the rule (with momentum, and
 * for TP with trained feedback and noise from the random stream) is
 * bitwise the step of a twin that never had a trial. */
START_TEST(trial_update_is_the_step_and_leaves_no_trace)
{
    const pcmup_rule kinds[3] = {PCMUP_RULE_PC, PCMUP_RULE_TP, PCMUP_RULE_GNT};
    const pcmup_preset presets[3] = {PCMUP_PRESET_MUP_PC, PCMUP_PRESET_MUP_TP,
                                     PCMUP_PRESET_MUP_GNT};
    problem p = make_problem();
    for (int k = 0; k < 3; k++) {
        tu_rig a = make_rig(kinds[k], presets[k], 0.0, 48, 0.1);
        tu_rig twin = make_rig(kinds[k], presets[k], 0.0, 48, 0.1);
        pcmup_algo *both[2] = {a.algo, twin.algo};
        for (int j = 0; j < 2; j++) {
            TU_OK(pcmup_algo_set(both[j], PCMUP_SET_MOMENTUM, 0.9));
            TU_OK(pcmup_algo_set(both[j], PCMUP_SET_RECORD_UPDATES, 1));
            if (kinds[k] == PCMUP_RULE_PC)
                TU_OK(pcmup_algo_set(both[j], PCMUP_SET_PC_INIT, PCMUP_PC_INIT_RANDOM));
            if (kinds[k] == PCMUP_RULE_TP)
                TU_OK(pcmup_algo_set(both[j], PCMUP_SET_TP_FEEDBACK, PCMUP_TP_FEEDBACK_TRAINED));
            /* One real step first so that momentum has a velocity. */
            TU_OK(pcmup_algo_step(both[j], p.probe, B * D, p.labels, B, NULL));
        }
        float **trial = alloc_updates(a.net), **real = alloc_updates(a.net);
        TU_OK(pcmup_algo_trial_update(a.algo, p.x, B * D, p.labels, B, trial, 3));
        TU_OK(pcmup_algo_step(a.algo, p.x, B * D, p.labels, B, NULL));
        TU_OK(pcmup_algo_step(twin.algo, p.x, B * D, p.labels, B, NULL));
        for (size_t l = 1; l <= 3; l++) {
            size_t n = layer_size(a.net, l);
            float *wa = malloc(n * sizeof *wa), *wt = malloc(n * sizeof *wt);
            TU_OK(pcmup_net_get_weights(a.net, l, wa, n));
            TU_OK(pcmup_net_get_weights(twin.net, l, wt, n));
            ck_assert_msg(memcmp(wa, wt, n * sizeof *wa) == 0, "kind %d layer %zu differs",
                          kinds[k], l);
            TU_OK(pcmup_algo_last_update(twin.algo, l, real[l - 1], n));
            ck_assert_msg(memcmp(trial[l - 1], real[l - 1], n * sizeof(float)) == 0,
                          "kind %d layer %zu: trial is not the step", kinds[k], l);
            free(wa);
            free(wt);
        }
        free_updates(trial);
        free_updates(real);
        tu_rig_free(&a);
        tu_rig_free(&twin);
    }
    free_problem(&p);
}
END_TEST

/* The reference updates of `caller` equal the recorded steps of a BP and
 * a GNT twin set up by hand (the caller's preset, learning rate 0.2,
 * cross-entropy, GNT's damping rho) from the same weights. */
static void check_references_are_twin_steps(const tu_rig *caller, pcmup_preset preset,
                                            double rho, const problem *p)
{
    const pcmup_rule kinds[2] = {PCMUP_RULE_BP, PCMUP_RULE_GNT};
    const pcmup_reference refs[2] = {PCMUP_REFERENCE_BP, PCMUP_REFERENCE_GN};
    for (int k = 0; k < 2; k++) {
        tu_rig twin = make_rig(kinds[k], preset, 0.0, 40, 0.2);
        TU_OK(pcmup_algo_set(twin.algo, PCMUP_SET_LOSS, PCMUP_LOSS_CE));
        if (kinds[k] == PCMUP_RULE_GNT)
            TU_OK(pcmup_algo_set(twin.algo, PCMUP_SET_GNT_DAMPING, rho));
        TU_OK(pcmup_algo_set(twin.algo, PCMUP_SET_RECORD_UPDATES, 1));
        TU_OK(pcmup_algo_step(twin.algo, p->x, B * D, p->labels, B, NULL));
        float **ref = alloc_updates(caller->net);
        TU_OK(pcmup_algo_reference_update(caller->algo, refs[k], p->x, B * D, p->labels, B, ref,
                                          3));
        for (size_t l = 1; l <= 3; l++) {
            size_t n = layer_size(caller->net, l);
            float *real = malloc(n * sizeof *real);
            TU_OK(pcmup_algo_last_update(twin.algo, l, real, n));
            ck_assert_msg(memcmp(real, ref[l - 1], n * sizeof *real) == 0,
                          "reference %d layer %zu", k, l);
            free(real);
        }
        free_updates(ref);
        tu_rig_free(&twin);
    }
}

/* The references are the steps BP and GNT (e_B = 1, default damping) take
 * from the same weights, at the rule's learning rate and loss; a PC rule
 * with its own settings asks for them. */
START_TEST(reference_updates_are_bp_and_gnt_steps)
{
    problem p = make_problem();
    tu_rig pc = make_rig(PCMUP_RULE_PC, PCMUP_PRESET_MUP_PC, 0.0, 40, 0.2);
    TU_OK(pcmup_algo_set(pc.algo, PCMUP_SET_LOSS, PCMUP_LOSS_CE));
    check_references_are_twin_steps(&pc, PCMUP_PRESET_MUP_PC, 1e-2, &p);
    tu_rig_free(&pc);
    free_problem(&p);
}
END_TEST

/* A reference takes every setting of the caller that its rule accepts,
 * except those that define the direction: a GNT caller's damping, loss and
 * learning rate carry over to GN, its e_B, variant and weight decay do not
 * (GN is e_B = 1, the batch variant, a plain step), and BP takes the
 * learning rate and loss only. */
START_TEST(reference_takes_the_callers_settings)
{
    problem p = make_problem();
    tu_rig gnt = make_rig(PCMUP_RULE_GNT, PCMUP_PRESET_MUP_GNT, 0.0, 40, 0.2);
    TU_OK(pcmup_algo_set(gnt.algo, PCMUP_SET_LOSS, PCMUP_LOSS_CE));
    TU_OK(pcmup_algo_set(gnt.algo, PCMUP_SET_GNT_DAMPING, 0.3));
    TU_OK(pcmup_algo_set(gnt.algo, PCMUP_SET_GNT_POWER, 0.5));
    TU_OK(pcmup_algo_set(gnt.algo, PCMUP_SET_GNT_VARIANT, PCMUP_GNT_SAMPLE));
    TU_OK(pcmup_algo_set(gnt.algo, PCMUP_SET_WEIGHT_DECAY, 0.5));
    check_references_are_twin_steps(&gnt, PCMUP_PRESET_MUP_GNT, 0.3, &p);
    double v;
    TU_OK(pcmup_algo_get(gnt.algo, PCMUP_SET_GNT_POWER, &v));
    ck_assert(v == 0.5);
    tu_rig_free(&gnt);
    free_problem(&p);
}
END_TEST

/* ---- the alignment summary --------------------------------------------------- */

/* The summary is the cosine and norm ratio of the trial and reference
 * updates, computed here independently. */
START_TEST(alignment_is_cosine_of_trial_and_references)
{
    problem p = make_problem();
    tu_rig pc = make_rig(PCMUP_RULE_PC, PCMUP_PRESET_MUP_PC, -1.0, 96, 0.1);
    double cb[3], cg[3], rb[3], rg[3];
    TU_OK(pcmup_algo_update_alignment(pc.algo, p.x, B * D, p.labels, B, cb, cg, rb, rg, 3));
    float **own = alloc_updates(pc.net), **bp = alloc_updates(pc.net),
          **gn = alloc_updates(pc.net);
    TU_OK(pcmup_algo_trial_update(pc.algo, p.x, B * D, p.labels, B, own, 3));
    TU_OK(pcmup_algo_reference_update(pc.algo, PCMUP_REFERENCE_BP, p.x, B * D, p.labels, B, bp, 3));
    TU_OK(pcmup_algo_reference_update(pc.algo, PCMUP_REFERENCE_GN, p.x, B * D, p.labels, B, gn, 3));
    for (size_t l = 1; l <= 3; l++) {
        size_t n = layer_size(pc.net, l);
        double r1, r2, c1 = tu_cosine(own[l - 1], bp[l - 1], n, &r1),
                       c2 = tu_cosine(own[l - 1], gn[l - 1], n, &r2);
        printf("PC gbar -1 layer %zu: cos BP %.4f GN %.4f  ratio BP %.4f GN %.4f\n", l,
               cb[l - 1], cg[l - 1], rb[l - 1], rg[l - 1]);
        ck_assert(fabs(cb[l - 1] - c1) < 1e-12 && fabs(cg[l - 1] - c2) < 1e-12);
        ck_assert(fabs(rb[l - 1] - r1) < 1e-12 * r1 && fabs(rg[l - 1] - r2) < 1e-12 * r2);
        ck_assert(cb[l - 1] > 0.3 && cb[l - 1] <= 1.0 + 1e-12);
    }
    /* Given the trial update, pcmup_algo_compare_updates is the summary. */
    double cb2[3], cg2[3], rb2[3], rg2[3];
    TU_OK(pcmup_algo_compare_updates(pc.algo, p.x, B * D, p.labels, B, (const float *const *)own,
                                     3, cb2, cg2, rb2, rg2, 3));
    for (int l = 0; l < 3; l++)
        ck_assert(cb2[l] == cb[l] && cg2[l] == cg[l] && rb2[l] == rb[l] && rg2[l] == rg[l]);
    TU_FAILS(PCMUP_ERR_SHAPE, pcmup_algo_compare_updates(pc.algo, p.x, B * D, p.labels, B,
                                                         (const float *const *)own, 3, cb2, NULL,
                                                         NULL, NULL, 2));
    own[1][7] = NAN;
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_algo_compare_updates(pc.algo, p.x, B * D, p.labels, B,
                                                           (const float *const *)own, 3, cb2,
                                                           NULL, NULL, NULL, 3));
    const float *missing[3] = {own[0], NULL, own[2]};
    TU_FAILS(PCMUP_ERR_NULL, pcmup_algo_compare_updates(pc.algo, p.x, B * D, p.labels, B, missing,
                                                        3, cb2, NULL, NULL, NULL, 3));
    ck_assert(cb2[0] == cb[0]); /* failures wrote nothing */
    free_updates(own);
    free_updates(bp);
    free_updates(gn);
    tu_rig_free(&pc);
    free_problem(&p);
}
END_TEST

/* Identities: BP against BP and GNT against GN are cosine 1, ratio 1; PC
 * with FPA, forward init and one sequential sweep is BP's step at the base
 * width (gamma_L = 1, convention A), so it too is cosine 1, ratio 1 (the
 * paper's Figure 1, left: PC reduces to SGD; docs/pc.md, section 6). GNT at
 * e_B = 0 is BP. */
START_TEST(alignment_identities)
{
    problem p = make_problem();
    struct {
        pcmup_rule kind;
        pcmup_preset preset;
        pcmup_setting key;
        double value;
        int against_gn;
    } cases[] = {
        {PCMUP_RULE_BP, PCMUP_PRESET_MUP_SGD, PCMUP_SET_LR, 0.1, 0},
        {PCMUP_RULE_GNT, PCMUP_PRESET_MUP_GNT, PCMUP_SET_LR, 0.1, 1},
        {PCMUP_RULE_PC, PCMUP_PRESET_MUP_PC, PCMUP_SET_PC_FPA, 1, 0},
        {PCMUP_RULE_GNT, PCMUP_PRESET_MUP_GNT, PCMUP_SET_GNT_POWER, 0, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        tu_rig r = make_rig(cases[c].kind, cases[c].preset, 0.0, 64, 0.1);
        TU_OK(pcmup_algo_set(r.algo, cases[c].key, cases[c].value));
        double cb[3], cg[3], rb[3], rg[3];
        TU_OK(pcmup_algo_update_alignment(r.algo, p.x, B * D, p.labels, B, cb, cg, rb, rg, 3));
        const double *cs = cases[c].against_gn ? cg : cb, *rs = cases[c].against_gn ? rg : rb;
        for (int l = 0; l < 3; l++)
            ck_assert_msg(fabs(cs[l] - 1) < 1e-5 && fabs(rs[l] - 1) < 1e-4,
                          "case %zu layer %d: cos %.8f ratio %.8f", c, l + 1, cs[l], rs[l]);
        tu_rig_free(&r);
    }
    free_problem(&p);
}
END_TEST

START_TEST(alignment_rejects_bad_arguments)
{
    problem p = make_problem();
    tu_rig r = make_rig(PCMUP_RULE_BP, PCMUP_PRESET_MUP_SGD, 0.0, 16, 0.1);
    double cb[3] = {5, 5, 5};
    TU_FAILS(PCMUP_ERR_SHAPE,
             pcmup_algo_update_alignment(r.algo, p.x, B * D, p.labels, B, cb, NULL, NULL, NULL, 2));
    TU_FAILS(PCMUP_ERR_NULL,
             pcmup_algo_update_alignment(r.algo, NULL, B * D, p.labels, B, cb, NULL, NULL, NULL,
                                         3));
    TU_FAILS(PCMUP_ERR_NULL,
             pcmup_algo_update_alignment(NULL, p.x, B * D, p.labels, B, cb, NULL, NULL, NULL, 3));
    TU_FAILS(PCMUP_ERR_INVALID,
             pcmup_algo_update_alignment(r.algo, p.x, 0, p.labels, 0, cb, NULL, NULL, NULL, 3));
    ck_assert(cb[0] == 5 && cb[1] == 5 && cb[2] == 5);
    float *u[3] = {NULL, NULL, NULL};
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_algo_reference_update(r.algo, (pcmup_reference)2, p.x,
                                                            B * D, p.labels, B, u, 3));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_algo_trial_update(r.algo, p.x, B * D, p.labels, B, NULL, 3));
    /* NULL entries skip layers. */
    TU_OK(pcmup_algo_trial_update(r.algo, p.x, B * D, p.labels, B, u, 3));
    tu_rig_free(&r);
    free_problem(&p);
}
END_TEST

/* Allocation failures at every point leave the network as it was and
 * never crash; the call succeeds once the allocator does. */
START_TEST(alignment_survives_allocation_failures)
{
    problem p = make_problem();
    tu_counter counter = {0};
    pcmup_allocator alloc = tu_counting_allocator(&counter);
    const size_t widths[4] = {D, 24, 24, C};
    pcmup_param *param;
    pcmup_net *net;
    pcmup_algo *algo;
    TU_OK(pcmup_param_create(&param, 3, PCMUP_PRESET_MUP_PC, NULL));
    TU_OK(pcmup_net_create(&net, widths, 4, PCMUP_ACT_TANH, 0, param, 5, NULL));
    TU_OK(pcmup_algo_create(&algo, PCMUP_RULE_PC, net, 1, &alloc));
    float w0[24 * D], w1[24 * D];
    TU_OK(pcmup_net_get_weights(net, 1, w0, 24 * D));
    double cb[3];
    pcmup_status s = PCMUP_ERR_NOMEM;
    for (size_t k = 1; s == PCMUP_ERR_NOMEM && k < 200; k++) {
        counter.fail_after = k;
        s = pcmup_algo_update_alignment(algo, p.x, B * D, p.labels, B, cb, cb, NULL, NULL, 3);
        TU_OK(pcmup_net_get_weights(net, 1, w1, 24 * D));
        ck_assert(memcmp(w0, w1, sizeof w0) == 0);
    }
    ck_assert_msg(s == PCMUP_OK, "%s", pcmup_last_error());
    counter.fail_after = 0;
    pcmup_algo_free(algo);
    pcmup_net_free(net);
    pcmup_param_free(param);
    ck_assert_int_eq(counter.live, 0);
    free_problem(&p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("transfer");
    TCase *coord = tcase_create("coord_check");
    tcase_add_test(coord, coord_check_matches_direct_loop);
    tcase_add_test(coord, coord_check_step_zero_and_cumulative_steps);
    tcase_add_test(coord, coord_check_mup_flat_sp_grows);
    tcase_add_test(coord, coord_check_reports_divergence_as_infinity);
    tcase_add_test(coord, coord_check_copies_per_layer_settings);
    tcase_add_test(coord, coord_check_rejects_bad_arguments);
    suite_add_tcase(s, coord);
    TCase *align = tcase_create("alignment");
    tcase_add_test(align, trial_update_is_the_step_and_leaves_no_trace);
    tcase_add_test(align, reference_updates_are_bp_and_gnt_steps);
    tcase_add_test(align, reference_takes_the_callers_settings);
    tcase_add_test(align, alignment_is_cosine_of_trial_and_references);
    tcase_add_test(align, alignment_identities);
    tcase_add_test(align, alignment_rejects_bad_arguments);
    tcase_add_test(align, alignment_survives_allocation_failures);
    suite_add_tcase(s, align);
    return tu_run_suite(s);
}
