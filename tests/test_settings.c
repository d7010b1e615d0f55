/* SPDX-License-Identifier: MIT */
/*
 * test_settings.c -- the settings table as the public API describes it,
 * against independent truths: the key names spelled in pcmup.h, the
 * group each key's number falls in, and what pcmup_algo_set,
 * pcmup_algo_set_layer and pcmup_algo_get of every rule actually do.
 */
#include "testutil.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

#define N_RULES 5
static const pcmup_rule rules[N_RULES] = {PCMUP_RULE_BP, PCMUP_RULE_PC, PCMUP_RULE_GNT,
                                          PCMUP_RULE_TP, PCMUP_RULE_DTP};

/* Every key of pcmup.h with its spelling there. */
#define KEY(k) {k, #k}
static const struct {
    pcmup_setting key;
    const char *spelled;
} keys[] = {
    KEY(PCMUP_SET_LR),
    KEY(PCMUP_SET_LOSS),
    KEY(PCMUP_SET_MSE_CENTRED),
    KEY(PCMUP_SET_MOMENTUM),
    KEY(PCMUP_SET_WEIGHT_DECAY),
    KEY(PCMUP_SET_RECORD_UPDATES),
    KEY(PCMUP_SET_PC_GAMMA_HIDDEN),
    KEY(PCMUP_SET_PC_GAMMA_OUT_BASE),
    KEY(PCMUP_SET_PC_KAPPA),
    KEY(PCMUP_SET_PC_ITERATIONS),
    KEY(PCMUP_SET_PC_SCHEDULE),
    KEY(PCMUP_SET_PC_INIT),
    KEY(PCMUP_SET_PC_INIT_STD),
    KEY(PCMUP_SET_PC_FPA),
    KEY(PCMUP_SET_PC_TIMING),
    KEY(PCMUP_SET_PC_LAST_LAYER),
    KEY(PCMUP_SET_PC_TOLERANCE),
    KEY(PCMUP_SET_GNT_POWER),
    KEY(PCMUP_SET_GNT_DAMPING),
    KEY(PCMUP_SET_GNT_VARIANT),
    KEY(PCMUP_SET_GNT_OUTPUT),
    KEY(PCMUP_SET_TP_BETA),
    KEY(PCMUP_SET_TP_FEEDBACK),
    KEY(PCMUP_SET_TP_FB_DAMPING),
    KEY(PCMUP_SET_TP_FB_DAMPING_TOP),
    KEY(PCMUP_SET_TP_FB_LR),
    KEY(PCMUP_SET_TP_FB_STEPS),
    KEY(PCMUP_SET_TP_FB_NOISE),
    KEY(PCMUP_SET_TP_FB_ACTIVATION),
    KEY(PCMUP_SET_TP_FB_INIT_STD),
};
#define N_KEYS (sizeof keys / sizeof keys[0])

/* Numbers no setting has: inside the groups' gaps and outside them. */
static const int unknown_keys[] = {-1, 6, 99, 111, 199, 204, 299, 309, 399, 400, 1000};
#define N_UNKNOWN (sizeof unknown_keys / sizeof unknown_keys[0])

/* ---- a network with an algorithm of every rule --------------------------------- */

static pcmup_param *param;
static pcmup_net *net;
static pcmup_algo *algos[N_RULES];

static void setup(void)
{
    const size_t widths[] = {4, 6, 6, 3};
    TU_OK(pcmup_param_create(&param, 3, PCMUP_PRESET_MUP_SGD, NULL));
    TU_OK(pcmup_net_create(&net, widths, 4, PCMUP_ACT_TANH, 0, param, 1, NULL));
    for (size_t r = 0; r < N_RULES; r++)
        TU_OK(pcmup_algo_create(&algos[r], rules[r], net, 2, NULL));
}

static void teardown(void)
{
    for (size_t r = 0; r < N_RULES; r++)
        pcmup_algo_free(algos[r]);
    pcmup_net_free(net);
    pcmup_param_free(param);
}

/* An algorithm whose rule accepts the key. */
static pcmup_algo *accepting_algo(pcmup_setting key)
{
    for (size_t r = 0; r < N_RULES; r++) {
        int accepts = 0;
        TU_OK(pcmup_setting_accepts(key, rules[r], &accepts));
        if (accepts)
            return algos[r];
    }
    ck_abort_msg("no rule accepts setting %d", (int)key);
    return NULL;
}

static int inside(pcmup_bounds b, double v)
{
    int above = b.lo_open ? v > b.lo : v >= b.lo;
    int below = b.hi_open ? v < b.hi : v <= b.hi;
    return above && below && (!b.integral || v == floor(v));
}

static int has_value_names(pcmup_setting key)
{
    const char *name;
    return pcmup_setting_value_name(key, pcmup_setting_bounds(key).lo, &name) !=
           PCMUP_ERR_UNSUPPORTED;
}

/* ---- the table's shape ----------------------------------------------------------- */

/* Every key enumerated once, in increasing order, and nothing else. */
START_TEST(enumeration_lists_every_key)
{
    ck_assert_uint_eq(pcmup_setting_count(), N_KEYS);
    pcmup_setting prev = (pcmup_setting)-1;
    for (size_t i = 0; i < pcmup_setting_count(); i++) {
        pcmup_setting key;
        TU_OK(pcmup_setting_at(i, &key));
        ck_assert_msg(i == 0 || key > prev, "key %d after %d", (int)key, (int)prev);
        ck_assert_int_eq(key, keys[i].key);
        prev = key;
    }
    pcmup_setting key = PCMUP_SET_LR;
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_setting_at(pcmup_setting_count(), &key));
    ck_assert_int_eq(key, PCMUP_SET_LR);
}
END_TEST

/* The name is the key's spelling, lower case, without PCMUP_SET_: unique,
 * and find gives the key back. */
START_TEST(names_are_the_keys_spelling)
{
    const size_t prefix = strlen("PCMUP_SET_");
    for (size_t i = 0; i < N_KEYS; i++) {
        char want[64];
        const char *name;
        size_t n = 0;
        for (const char *c = keys[i].spelled + prefix; *c; c++)
            want[n++] = (char)tolower((unsigned char)*c);
        want[n] = '\0';
        TU_OK(pcmup_setting_name(keys[i].key, &name));
        ck_assert_str_eq(name, want);
        pcmup_setting found;
        TU_OK(pcmup_setting_find(name, &found));
        ck_assert_int_eq(found, keys[i].key);
        for (size_t j = 0; j < i; j++) {
            const char *other;
            TU_OK(pcmup_setting_name(keys[j].key, &other));
            ck_assert_str_ne(name, other);
        }
    }
    pcmup_setting key = PCMUP_SET_LR;
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_setting_find("LR", &key));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_setting_find("kappa", &key));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_setting_find("", &key));
    ck_assert_int_eq(key, PCMUP_SET_LR);
}
END_TEST

START_TEST(descriptions_are_one_line)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        const char *text;
        TU_OK(pcmup_setting_description(keys[i].key, &text));
        ck_assert_msg(strlen(text) > 10 && !strchr(text, '\n'), "setting %d: \"%s\"",
                      (int)keys[i].key, text);
    }
}
END_TEST

/* A key's group is the block of 100 numbers it falls in, and the group
 * says which rules have it. */
START_TEST(groups_are_blocks_of_keys)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        const pcmup_setting key = keys[i].key;
        pcmup_setting_group group;
        TU_OK(pcmup_setting_group_of(key, &group));
        ck_assert_int_eq(group, (int)key / 100 * 100);
        for (size_t r = 0; r < N_RULES; r++) {
            int accepts, want;
            TU_OK(pcmup_setting_accepts(key, rules[r], &accepts));
            switch (group) {
            case PCMUP_GROUP_COMMON: want = 1; break;
            case PCMUP_GROUP_PC: want = rules[r] == PCMUP_RULE_PC; break;
            case PCMUP_GROUP_GNT: want = rules[r] == PCMUP_RULE_GNT; break;
            case PCMUP_GROUP_TP:
                want = rules[r] == PCMUP_RULE_TP || rules[r] == PCMUP_RULE_DTP;
                break;
            default: ck_abort_msg("setting %d: group %d", (int)key, (int)group);
            }
            ck_assert_msg(accepts == want, "setting %d, rule %d", (int)key, (int)rules[r]);
        }
    }
}
END_TEST

/* ---- the table against what the handles do ------------------------------------- */

/* pcmup_setting_accepts answers what pcmup_algo_set and get do. */
START_TEST(rule_masks_match_set)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        const pcmup_setting key = keys[i].key;
        double def, v;
        TU_OK(pcmup_setting_default(key, &def));
        for (size_t r = 0; r < N_RULES; r++) {
            int accepts;
            TU_OK(pcmup_setting_accepts(key, rules[r], &accepts));
            if (accepts) {
                TU_OK(pcmup_algo_set(algos[r], key, def));
                TU_OK(pcmup_algo_get(algos[r], key, &v));
            } else {
                TU_FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_algo_set(algos[r], key, def));
                TU_FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_algo_get(algos[r], key, &v));
            }
        }
    }
}
END_TEST

/* The default is inside the bounds, a named value for an enum-valued
 * setting, and what a new algorithm holds (on every hidden layer). */
START_TEST(defaults_are_inside_bounds)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        const pcmup_setting key = keys[i].key;
        double def, v;
        int per_layer;
        const char *name;
        TU_OK(pcmup_setting_default(key, &def));
        pcmup_bounds b = pcmup_setting_bounds(key);
        TU_OK(b.status);
        ck_assert_msg(b.lo < b.hi && inside(b, def), "setting %d: default %g", (int)key, def);
        if (has_value_names(key))
            TU_OK(pcmup_setting_value_name(key, def, &name));
        pcmup_algo *a = accepting_algo(key);
        TU_OK(pcmup_algo_get(a, key, &v));
        ck_assert_double_eq(v, def);
        TU_OK(pcmup_setting_per_layer(key, &per_layer));
        for (size_t l = 1; per_layer && l < 3; l++) {
            TU_OK(pcmup_algo_get_layer(a, l, key, &v));
            ck_assert_double_eq(v, def);
        }
    }
}
END_TEST

/* An open end refuses the end itself and takes the next number in; a
 * closed end takes the end; past an end is refused. */
START_TEST(bounds_match_set)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        const pcmup_setting key = keys[i].key;
        pcmup_bounds b = pcmup_setting_bounds(key);
        pcmup_algo *a = accepting_algo(key);
        const double step = b.integral ? 1.0 : 0.0;
        if (b.lo_open) {
            TU_FAILS(PCMUP_ERR_INVALID, pcmup_algo_set(a, key, b.lo));
            TU_OK(pcmup_algo_set(a, key, b.integral ? b.lo + 1 : nextafter(b.lo, b.hi)));
        } else {
            TU_OK(pcmup_algo_set(a, key, b.lo));
            TU_FAILS(PCMUP_ERR_INVALID,
                     pcmup_algo_set(a, key, step ? b.lo - step : nextafter(b.lo, -INFINITY)));
        }
        if (b.hi_open) {
            TU_FAILS(PCMUP_ERR_INVALID, pcmup_algo_set(a, key, b.hi));
            TU_OK(pcmup_algo_set(a, key, b.integral ? b.hi - 1 : nextafter(b.hi, b.lo)));
        } else {
            TU_OK(pcmup_algo_set(a, key, b.hi));
            TU_FAILS(PCMUP_ERR_INVALID,
                     pcmup_algo_set(a, key, step ? b.hi + step : nextafter(b.hi, INFINITY)));
        }
        TU_FAILS(PCMUP_ERR_INVALID, pcmup_algo_set(a, key, NAN));
        TU_FAILS(PCMUP_ERR_INVALID, pcmup_algo_set(a, key, INFINITY));
        if (b.integral)
            TU_FAILS(PCMUP_ERR_INVALID, pcmup_algo_set(a, key, b.hi - 0.5));
        double def;
        TU_OK(pcmup_setting_default(key, &def));
        TU_OK(pcmup_algo_set(a, key, def));
    }
}
END_TEST

/* An enum-valued setting takes exactly its named values, and the names
 * and values map to each other. */
START_TEST(enum_settings_refuse_unlisted_values)
{
    size_t n_enums = 0;
    for (size_t i = 0; i < N_KEYS; i++) {
        const pcmup_setting key = keys[i].key;
        const char *name;
        double value;
        if (!has_value_names(key)) {
            TU_FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_setting_value_name(key, 0, &name));
            TU_FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_setting_value_find(key, "on", &value));
            continue;
        }
        n_enums++;
        pcmup_bounds b = pcmup_setting_bounds(key);
        ck_assert_msg(b.integral, "setting %d has names but takes fractions", (int)key);
        pcmup_algo *a = accepting_algo(key);
        for (double v = b.lo - 2; v <= b.hi + 2; v++) {
            pcmup_status named = pcmup_setting_value_name(key, v, &name);
            if (named == PCMUP_OK) {
                TU_OK(pcmup_algo_set(a, key, v));
                TU_OK(pcmup_setting_value_find(key, name, &value));
                ck_assert_double_eq(value, v);
            } else {
                ck_assert_int_eq(named, PCMUP_ERR_INVALID);
                TU_FAILS(PCMUP_ERR_INVALID, pcmup_algo_set(a, key, v));
            }
        }
        TU_FAILS(PCMUP_ERR_INVALID, pcmup_setting_value_name(key, b.lo + 0.5, &name));
        TU_FAILS(PCMUP_ERR_INVALID, pcmup_setting_value_find(key, "no such value", &value));
    }
    ck_assert_uint_eq(n_enums, 8);
}
END_TEST

/* The names of a few values, spelled as their enum constants. */
START_TEST(value_names_are_the_enums_spelling)
{
    static const struct {
        pcmup_setting key;
        int value;
        const char *name;
    } want[] = {
        {PCMUP_SET_LOSS, PCMUP_LOSS_CE, "ce"},
        {PCMUP_SET_PC_SCHEDULE, PCMUP_PC_SCHEDULE_SEQUENTIAL, "sequential"},
        {PCMUP_SET_PC_SCHEDULE, PCMUP_PC_SCHEDULE_SIMULTANEOUS, "simultaneous"},
        {PCMUP_SET_PC_INIT, PCMUP_PC_INIT_RANDOM, "random"},
        {PCMUP_SET_PC_TIMING, PCMUP_PC_TIMING_CACHE, "cache"},
        {PCMUP_SET_PC_LAST_LAYER, PCMUP_PC_LAST_LAYER_B, "b"},
        {PCMUP_SET_GNT_VARIANT, PCMUP_GNT_SAMPLE, "sample"},
        {PCMUP_SET_TP_FEEDBACK, PCMUP_TP_FEEDBACK_TRAINED, "trained"},
        {PCMUP_SET_TP_FB_ACTIVATION, PCMUP_ACT_IDENTITY, "identity"},
        {PCMUP_SET_TP_FB_ACTIVATION, PCMUP_ACT_TANH, "tanh"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const char *name;
        TU_OK(pcmup_setting_value_name(want[i].key, want[i].value, &name));
        ck_assert_str_eq(name, want[i].name);
    }
    /* Trained feedback's psi must be invertible: no relu. */
    const char *name;
    double v;
    TU_FAILS(PCMUP_ERR_INVALID,
             pcmup_setting_value_name(PCMUP_SET_TP_FB_ACTIVATION, PCMUP_ACT_RELU, &name));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_setting_value_find(PCMUP_SET_TP_FB_ACTIVATION, "relu", &v));
}
END_TEST

/* per_layer answers whether pcmup_algo_set_layer works, and set_layer
 * checks values as pcmup_algo_set does. */
START_TEST(per_layer_flags_match_set_layer)
{
    size_t n_per_layer = 0;
    for (size_t i = 0; i < N_KEYS; i++) {
        const pcmup_setting key = keys[i].key;
        int per_layer;
        double def, v;
        TU_OK(pcmup_setting_per_layer(key, &per_layer));
        TU_OK(pcmup_setting_default(key, &def));
        pcmup_algo *a = accepting_algo(key);
        if (!per_layer) {
            TU_FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_algo_set_layer(a, 1, key, def));
            TU_FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_algo_get_layer(a, 1, key, &v));
            continue;
        }
        n_per_layer++;
        pcmup_bounds b = pcmup_setting_bounds(key);
        const double inner = b.lo + 0.25 * (b.hi - b.lo);
        TU_OK(pcmup_algo_set_layer(a, 2, key, inner));
        TU_OK(pcmup_algo_get_layer(a, 2, key, &v));
        ck_assert_double_eq(v, inner);
        TU_OK(pcmup_algo_get_layer(a, 1, key, &v));
        ck_assert_double_eq(v, def);
        /* Every value pcmup_algo_set refuses, set_layer refuses. */
        const double bad[] = {b.lo_open ? b.lo : b.lo - 1, b.hi_open ? b.hi : b.hi * 2, NAN};
        for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
            TU_FAILS(PCMUP_ERR_INVALID, pcmup_algo_set(a, key, bad[k]));
            TU_FAILS(PCMUP_ERR_INVALID, pcmup_algo_set_layer(a, 1, key, bad[k]));
        }
        TU_OK(pcmup_algo_get_layer(a, 2, key, &v));
        ck_assert_double_eq(v, inner);
        /* Only hidden layers. */
        TU_FAILS(PCMUP_ERR_INVALID, pcmup_algo_set_layer(a, 0, key, def));
        TU_FAILS(PCMUP_ERR_INVALID, pcmup_algo_set_layer(a, 3, key, def));
        /* set covers every layer. */
        TU_OK(pcmup_algo_set(a, key, def));
        TU_OK(pcmup_algo_get_layer(a, 2, key, &v));
        ck_assert_double_eq(v, def);
    }
    ck_assert_uint_eq(n_per_layer, 2);
}
END_TEST

/* ---- failures ------------------------------------------------------------------ */

START_TEST(unknown_keys_are_invalid)
{
    for (size_t i = 0; i < N_UNKNOWN; i++) {
        const pcmup_setting key = (pcmup_setting)unknown_keys[i];
        const char *text = "untouched";
        double v = 42.0;
        int flag = 7;
        pcmup_setting_group group = PCMUP_GROUP_TP;
        TU_FAILS(PCMUP_ERR_INVALID, pcmup_setting_name(key, &text));
        TU_FAILS(PCMUP_ERR_INVALID, pcmup_setting_description(key, &text));
        TU_FAILS(PCMUP_ERR_INVALID, pcmup_setting_group_of(key, &group));
        TU_FAILS(PCMUP_ERR_INVALID, pcmup_setting_default(key, &v));
        TU_FAILS(PCMUP_ERR_INVALID, pcmup_setting_per_layer(key, &flag));
        TU_FAILS(PCMUP_ERR_INVALID, pcmup_setting_accepts(key, PCMUP_RULE_BP, &flag));
        TU_FAILS(PCMUP_ERR_INVALID, pcmup_setting_value_name(key, 0, &text));
        TU_FAILS(PCMUP_ERR_INVALID, pcmup_setting_value_find(key, "mse", &v));
        TU_FAILS(PCMUP_ERR_INVALID, pcmup_algo_set(algos[0], key, 0.0));
        TU_FAILS(PCMUP_ERR_INVALID, pcmup_algo_get(algos[0], key, &v));
        TU_FAILS(PCMUP_ERR_INVALID, pcmup_algo_set_layer(algos[1], 1, key, 1.0));
        ck_assert_str_eq(text, "untouched");
        ck_assert_double_eq(v, 42.0);
        ck_assert_int_eq(flag, 7);
        ck_assert_int_eq(group, PCMUP_GROUP_TP);
        pcmup_bounds b = pcmup_setting_bounds(key);
        ck_assert_int_eq(b.status, PCMUP_ERR_INVALID);
        ck_assert(b.lo == 0.0 && b.hi == 0.0 && !b.lo_open && !b.hi_open && !b.integral);
        ck_assert_ptr_nonnull(strstr(pcmup_last_error(), "pcmup_setting_bounds: "));
    }
    int flag = 7;
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_setting_accepts(PCMUP_SET_LR, (pcmup_rule)5, &flag));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_setting_accepts(PCMUP_SET_LR, (pcmup_rule)-1, &flag));
    ck_assert_int_eq(flag, 7);
}
END_TEST

START_TEST(null_arguments)
{
    pcmup_setting key;
    const char *text;
    double v;
    int flag;
    pcmup_setting_group group;
    TU_FAILS(PCMUP_ERR_NULL, pcmup_setting_at(0, NULL));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_setting_name(PCMUP_SET_LR, NULL));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_setting_find(NULL, &key));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_setting_find("lr", NULL));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_setting_description(PCMUP_SET_LR, NULL));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_setting_group_of(PCMUP_SET_LR, NULL));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_setting_default(PCMUP_SET_LR, NULL));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_setting_per_layer(PCMUP_SET_LR, NULL));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_setting_accepts(PCMUP_SET_LR, PCMUP_RULE_BP, NULL));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_setting_value_name(PCMUP_SET_LOSS, 0, NULL));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_setting_value_find(PCMUP_SET_LOSS, NULL, &v));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_setting_value_find(PCMUP_SET_LOSS, "mse", NULL));
    (void)text;
    (void)flag;
    (void)group;
}
END_TEST

/* A failing set leaves the setting, and every layer's value, as it was. */
START_TEST(failed_set_changes_nothing)
{
    pcmup_algo *pc = algos[1];
    double v;
    TU_OK(pcmup_algo_set_layer(pc, 1, PCMUP_SET_PC_KAPPA, 0.3));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_algo_set(pc, PCMUP_SET_PC_KAPPA, -1.0));
    TU_OK(pcmup_algo_get_layer(pc, 1, PCMUP_SET_PC_KAPPA, &v));
    ck_assert_double_eq(v, 0.3);
    TU_OK(pcmup_algo_get(pc, PCMUP_SET_PC_KAPPA, &v));
    ck_assert_double_eq(v, 1.0);
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_algo_set(pc, PCMUP_SET_PC_SCHEDULE, 2.0));
    TU_OK(pcmup_algo_get(pc, PCMUP_SET_PC_SCHEDULE, &v));
    ck_assert_double_eq(v, PCMUP_PC_SCHEDULE_SEQUENTIAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("settings");
    TCase *tc = tcase_create("table");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, enumeration_lists_every_key);
    tcase_add_test(tc, names_are_the_keys_spelling);
    tcase_add_test(tc, descriptions_are_one_line);
    tcase_add_test(tc, groups_are_blocks_of_keys);
    tcase_add_test(tc, rule_masks_match_set);
    tcase_add_test(tc, defaults_are_inside_bounds);
    tcase_add_test(tc, bounds_match_set);
    tcase_add_test(tc, enum_settings_refuse_unlisted_values);
    tcase_add_test(tc, value_names_are_the_enums_spelling);
    tcase_add_test(tc, per_layer_flags_match_set_layer);
    tcase_add_test(tc, unknown_keys_are_invalid);
    tcase_add_test(tc, null_arguments);
    tcase_add_test(tc, failed_set_changes_nothing);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
