/* SPDX-License-Identifier: MIT */
/*
 * test_rules.c -- the rule interface of lib/rules/rule.h: the registry
 * keeps the hooks' contract, a rule's persistent state is what its public
 * getters report, loading a list of entries checks it and takes it back,
 * and one snapshot puts back everything a step changes.
 *
 * The truth is the public API (pcmup_tp_get_feedback, the weights, the
 * next step of a twin), not the hooks themselves. An internal test: it
 * links a static build of lib/ and includes its headers
 * (tests/CMakeLists.txt, PCMUP_INTERNAL_TESTS).
 */
#include "testutil.h"

#include "algo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define D 6
#define H 16
#define C 3
#define B 8

static const size_t widths[4] = {D, H, H, C};

/* A 3-layer tanh net (seed 3) and a rule of `kind` (seed 1), with a
 * batch x and its labels. */
typedef struct {
    tu_rig rig;
    pcmup_net *net;
    pcmup_algo *algo;
    float *x;
    int32_t *labels;
} rig;

static rig make_rig(pcmup_rule kind)
{
    rig r;
    r.rig = tu_rig_make(kind, tu_param(3, PCMUP_PRESET_SP, 0.0), widths, PCMUP_ACT_TANH, 3, 0);
    r.net = r.rig.net;
    r.algo = r.rig.algo;
    r.x = tu_gaussian(B * D, 4);
    r.labels = tu_cyclic_labels(B, C);
    return r;
}

static void free_rig(rig *r)
{
    tu_rig_free(&r->rig);
    free(r->x);
    free(r->labels);
}

/* A DTP rule with trained feedback, after one step (every V_l drawn and
 * trained once). */
static rig trained_rig(void)
{
    rig r = make_rig(PCMUP_RULE_DTP);
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_TP_FEEDBACK, PCMUP_TP_FEEDBACK_TRAINED));
    TU_OK(pcmup_algo_step(r.algo, r.x, B * D, r.labels, B, NULL));
    return r;
}

/* Every rule of the table: its id is its index, it steps, and its state
 * hooks come in pairs (a state it creates it frees; a persistent state it
 * lists it loads). */
START_TEST(registry_keeps_the_contract)
{
    const pcmup_rule ids[] = {PCMUP_RULE_BP, PCMUP_RULE_PC, PCMUP_RULE_GNT, PCMUP_RULE_TP,
                              PCMUP_RULE_DTP};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        const pcmup_rule_ops *ops = NULL;
        TU_OK(pcmup__algo_rule_of(ids[i], &ops, "test"));
        ck_assert_int_eq(ops->id, ids[i]);
        ck_assert_ptr_nonnull(ops->name);
        ck_assert_ptr_nonnull(ops->step);
        ck_assert(!ops->create_state == !ops->free_state);
        ck_assert(!ops->list_persistent == !ops->load_persistent);
        ck_assert(!ops->list_persistent == !ops->persistent_bound);
    }
    const pcmup_rule_ops *ops = NULL;
    TU_FAILS(PCMUP_ERR_INVALID, pcmup__algo_rule_of((pcmup_rule)99, &ops, "test"));
    ck_assert_ptr_null(pcmup__reference_rule((pcmup_reference)2));
}
END_TEST

/* TP's persistent state is one "feedback" tensor per layer 2..L, shaped
 * (M_{l-1}, M_l), holding what pcmup_tp_get_feedback reports; before the
 * first draw, and for closed-form feedback, the list is empty. */
START_TEST(tp_lists_its_feedback)
{
    rig fresh = make_rig(PCMUP_RULE_TP);
    ck_assert_uint_eq(fresh.algo->rule->list_persistent(fresh.algo, NULL, 0), 0);
    TU_OK(pcmup_algo_step(fresh.algo, fresh.x, B * D, fresh.labels, B, NULL));
    ck_assert_uint_eq(fresh.algo->rule->list_persistent(fresh.algo, NULL, 0), 0);
    free_rig(&fresh);

    rig r = trained_rig();
    pcmup_rule_entry e[3];
    ck_assert_uint_eq(r.algo->rule->list_persistent(r.algo, e, 3), 2);
    for (size_t i = 0; i < 2; i++) {
        const size_t l = i + 2, n = widths[l - 1] * widths[l];
        ck_assert_str_eq(e[i].name, "feedback");
        ck_assert_uint_eq(e[i].layer, l);
        ck_assert_uint_eq(e[i].rank, 2);
        ck_assert(e[i].shape[0] == widths[l - 1] && e[i].shape[1] == widths[l]);
        float *v = malloc(n * sizeof *v);
        TU_OK(pcmup_tp_get_feedback(r.algo, l, v, n));
        ck_assert(memcmp(v, e[i].data, n * sizeof *v) == 0);
        free(v);
    }
    /* Other rules have nothing persistent. */
    rig bp = make_rig(PCMUP_RULE_BP);
    ck_assert_ptr_null(bp.algo->rule->list_persistent);
    free_rig(&bp);
    free_rig(&r);
}
END_TEST

/* Loading checks every entry first (name, layer, shape, data, finite
 * values) and changes nothing on failure; a valid list becomes the state,
 * and what it does not list is forgotten. */
START_TEST(tp_load_checks_then_takes_the_list)
{
    rig r = trained_rig();
    const pcmup_rule_ops *ops = r.algo->rule;
    float v2[H * H], v3[H * C], got[H * H];
    for (size_t i = 0; i < H * H; i++)
        v2[i] = (float)i / 256.0f;
    for (size_t i = 0; i < H * C; i++)
        v3[i] = -(float)i;
    TU_OK(pcmup_tp_get_feedback(r.algo, 2, got, H * H));
    const pcmup_rule_entry good[2] = {{"feedback", 2, 2, {H, H}, v2, 0.0},
                                      {"feedback", 3, 2, {H, C}, v3, 0.0}};
    struct {
        pcmup_rule_entry e;
        pcmup_status want;
    } bad[] = {
        {{"weights", 2, 2, {H, H}, v2, 0.0}, PCMUP_ERR_INVALID},
        {{"feedback", 1, 2, {D, H}, v2, 0.0}, PCMUP_ERR_SHAPE},
        {{"feedback", 4, 2, {C, C}, v2, 0.0}, PCMUP_ERR_SHAPE},
        {{"feedback", 3, 2, {C, H}, v3, 0.0}, PCMUP_ERR_SHAPE},
        {{"feedback", 2, 0, {1, 1}, NULL, 1.0}, PCMUP_ERR_SHAPE},
        {{"feedback", 2, 2, {H, H}, NULL, 0.0}, PCMUP_ERR_NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const pcmup_rule_entry list[2] = {good[0], bad[i].e};
        TU_FAILS(bad[i].want, ops->load_persistent(r.algo, list, 2, "test"));
    }
    v3[5] = NAN;
    TU_FAILS(PCMUP_ERR_INVALID, ops->load_persistent(r.algo, good, 2, "test"));
    v3[5] = 0.0f;
    float after[H * H];
    TU_OK(pcmup_tp_get_feedback(r.algo, 2, after, H * H));
    ck_assert(memcmp(got, after, sizeof got) == 0); /* failures changed nothing */

    TU_OK(ops->load_persistent(r.algo, good, 2, "test"));
    TU_OK(pcmup_tp_get_feedback(r.algo, 2, after, H * H));
    ck_assert(memcmp(v2, after, sizeof v2) == 0);
    TU_OK(ops->load_persistent(r.algo, good + 1, 1, "test"));
    TU_FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_tp_get_feedback(r.algo, 2, after, H * H));
    TU_OK(pcmup_tp_get_feedback(r.algo, 3, after, H * C));
    ck_assert(memcmp(v3, after, sizeof v3) == 0);
    free_rig(&r);
}
END_TEST

/* Save, take two steps with momentum, restore: the weights, the velocity,
 * the random stream and the feedback are back, so the next step is
 * bitwise a twin's that never took the two. */
START_TEST(snapshot_puts_back_what_steps_change)
{
    rig r = trained_rig(), twin = trained_rig();
    for (int k = 0; k < 2; k++) {
        pcmup_algo *a = k ? twin.algo : r.algo;
        TU_OK(pcmup_algo_set(a, PCMUP_SET_MOMENTUM, 0.9));
        TU_OK(pcmup_algo_set(a, PCMUP_SET_TP_FB_NOISE, 0.5));
        TU_OK(pcmup_algo_step(a, r.x, B * D, r.labels, B, NULL));
    }
    pcmup_snapshot snap = {0};
    TU_OK(pcmup__snapshot_save(r.algo, &snap, "test"));
    TU_OK(pcmup_algo_step(r.algo, r.x, B * D, r.labels, B, NULL));
    TU_OK(pcmup_algo_step(r.algo, r.x, B * D, r.labels, B, NULL));
    pcmup__snapshot_restore(r.algo, &snap);
    TU_OK(pcmup_algo_step(r.algo, r.x, B * D, r.labels, B, NULL));
    TU_OK(pcmup_algo_step(twin.algo, r.x, B * D, r.labels, B, NULL));
    for (size_t l = 1; l <= 3; l++) {
        const size_t n = widths[l - 1] * widths[l];
        float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
        TU_OK(pcmup_net_get_weights(r.net, l, a, n));
        TU_OK(pcmup_net_get_weights(twin.net, l, b, n));
        ck_assert_msg(memcmp(a, b, n * sizeof *a) == 0, "W_%zu", l);
        if (l >= 2) {
            TU_OK(pcmup_tp_get_feedback(r.algo, l, a, n));
            TU_OK(pcmup_tp_get_feedback(twin.algo, l, b, n));
            ck_assert_msg(memcmp(a, b, n * sizeof *a) == 0, "V_%zu", l);
        }
        free(a);
        free(b);
    }
    pcmup__snapshot_free(r.algo, &snap);
    free_rig(&r);
    free_rig(&twin);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rules");
    TCase *tc = tcase_create("rules");
    tcase_add_test(tc, registry_keeps_the_contract);
    tcase_add_test(tc, tp_lists_its_feedback);
    tcase_add_test(tc, tp_load_checks_then_takes_the_list);
    tcase_add_test(tc, snapshot_puts_back_what_steps_change);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
