/* SPDX-License-Identifier: MIT */
/*
 * test_param.c -- the abc-parameterization against its closed forms (pcmup.h
 * section 2; docs/parameterization.md): the preset table, setters and bounds,
 * the per-layer scales a network derives from it, and what those scales do to
 * actual weights and signals as the width grows.
 */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the recipe, written out from the header ---------------------------- */

typedef struct {
    double a, b, c, sigma;
} exps;

typedef struct {
    double mult, std, lr;
} scales;

/* The preset table of pcmup.h: b = (0, 1/2, ..., 1/2 | 1), c = (-1, 0, ..., 1)
 * for muP; a = 0 and sigma = 1 always. Layer 1 is the input layer even when
 * L = 1 (its width ratio is 1 there, so the choice changes no number). */
static exps preset_row(pcmup_preset preset, size_t l, size_t n_layers)
{
    exps e = {0.0, 0.5, 0.0, 1.0};
    int input = l == 1, output = l == n_layers && !input;
    if (input)
        e.b = 0.0;
    if (preset == PCMUP_PRESET_MUP_SGD) {
        if (input)
            e.c = -1.0;
        if (output) {
            e.b = 1.0;
            e.c = 1.0;
        }
    }
    return e;
}

/* r_1 = M_1 / M_base, r_l = M_{l-1} / M_base (l >= 2), r = 1 when L = 1. */
static double width_ratio(const size_t *widths, size_t n_layers, size_t l, double base)
{
    if (n_layers == 1)
        return 1.0;
    return (double)(l == 1 ? widths[1] : widths[l - 1]) / base;
}

/* multiplier r^-a, init std sigma / sqrt(fan_in) r^-(b - b_ref), lr r^-c. */
static scales recipe(const size_t *widths, size_t n_layers, size_t l, exps e, double base)
{
    double r = width_ratio(widths, n_layers, l, base);
    double b_ref = l == 1 ? 0.0 : 0.5;
    scales s;
    s.mult = pow(r, -e.a);
    s.std = e.sigma / sqrt((double)widths[l - 1]) * pow(r, -(e.b - b_ref));
    s.lr = pow(r, -e.c);
    return s;
}

/* The library's pow against ours: both are correctly rounded to within an
 * ulp or two, so 1e-12 relative separates rounding from a wrong formula. */
#define SCALE_TOL 1e-12

static void assert_close(double got, double want, const char *what, size_t l)
{
    ck_assert_msg(fabs(got - want) <= SCALE_TOL * fabs(want), "layer %zu %s: %.17g, want %.17g",
                  l, what, got, want);
}

/* The network's multiplier, init std and eta_l / eta (any pointer may be
 * NULL), read through pcmup_net_layer_factors. */
static void layer_scales(const pcmup_net *net, size_t l, double *mult, double *std, double *lr)
{
    double f[PCMUP_FACTOR_COUNT];
    TU_OK(pcmup_net_layer_factors(net, l, f, PCMUP_FACTOR_COUNT));
    if (mult)
        *mult = f[PCMUP_FACTOR_MULTIPLIER];
    if (std)
        *std = f[PCMUP_FACTOR_INIT_STD];
    if (lr)
        *lr = f[PCMUP_FACTOR_LR];
}

static pcmup_net *make_net(size_t n_layers, const size_t *widths, const pcmup_param *p,
                           uint64_t seed)
{
    pcmup_net *net;
    TU_OK(pcmup_net_create(&net, widths, n_layers + 1, PCMUP_ACT_TANH, 0, p, seed, NULL));
    return net;
}

static pcmup_param *make_param(size_t n_layers, pcmup_preset preset, double base)
{
    pcmup_param *p;
    TU_OK(pcmup_param_create(&p, n_layers, preset, NULL));
    TU_OK(pcmup_param_set(p, PCMUP_PARAM_BASE_WIDTH, base));
    return p;
}

static double get_layer(const pcmup_param *p, size_t l, pcmup_layer_key key)
{
    double v;
    TU_OK(pcmup_param_get_layer(p, l, key, &v));
    return v;
}

static exps get_exps(const pcmup_param *p, size_t l)
{
    exps e = {get_layer(p, l, PCMUP_LAYER_A), get_layer(p, l, PCMUP_LAYER_B),
              get_layer(p, l, PCMUP_LAYER_C), get_layer(p, l, PCMUP_LAYER_SIGMA)};
    return e;
}

static void set_exps(pcmup_param *p, size_t l, exps e)
{
    TU_OK(pcmup_param_set_layer(p, l, PCMUP_LAYER_A, e.a));
    TU_OK(pcmup_param_set_layer(p, l, PCMUP_LAYER_B, e.b));
    TU_OK(pcmup_param_set_layer(p, l, PCMUP_LAYER_C, e.c));
    TU_OK(pcmup_param_set_layer(p, l, PCMUP_LAYER_SIGMA, e.sigma));
}

/* ======================================================================
 * 1. Presets, setters, bounds
 * ====================================================================== */

static void check_preset(pcmup_preset preset, size_t n_layers)
{
    pcmup_param *p;
    TU_OK(pcmup_param_create(&p, n_layers, preset, NULL));
    size_t n;
    TU_OK(pcmup_param_n_layers(p, &n));
    ck_assert_uint_eq(n, n_layers);
    for (size_t l = 1; l <= n_layers; l++) {
        exps want = preset_row(preset, l, n_layers), got = get_exps(p, l);
        /* The entries are exact binary fractions: compare exactly. */
        ck_assert_msg(memcmp(&got, &want, sizeof got) == 0,
                      "preset %d, L = %zu, layer %zu: (a, b, c, sigma) = (%g, %g, %g, %g), "
                      "want (%g, %g, %g, %g)",
                      (int)preset, n_layers, l, got.a, got.b, got.c, got.sigma, want.a, want.b,
                      want.c, want.sigma);
        ck_assert_double_eq(get_layer(p, l, PCMUP_LAYER_THETA), 2.0 * want.a + want.c);
    }
    double base;
    TU_OK(pcmup_param_get(p, PCMUP_PARAM_BASE_WIDTH, &base));
    ck_assert_double_eq(base, 64.0);
    pcmup_param_free(p);
}

START_TEST(preset_rows)
{
    const size_t depths[] = {1, 2, 3, 5};
    for (size_t i = 0; i < 4; i++) {
        check_preset(PCMUP_PRESET_SP, depths[i]);
        check_preset(PCMUP_PRESET_MUP_SGD, depths[i]);
    }
}
END_TEST

/* The rows spelled out once more, for L = 3, as literals from the table. */
START_TEST(preset_table_literal)
{
    static const double mup_b[3] = {0, 0.5, 1}, mup_c[3] = {-1, 0, 1};
    static const double sp_b[3] = {0, 0.5, 0.5};
    pcmup_param *sp = make_param(3, PCMUP_PRESET_SP, 64);
    pcmup_param *mup = make_param(3, PCMUP_PRESET_MUP_SGD, 64);
    for (size_t l = 1; l <= 3; l++) {
        ck_assert_double_eq(get_layer(sp, l, PCMUP_LAYER_B), sp_b[l - 1]);
        ck_assert_double_eq(get_layer(sp, l, PCMUP_LAYER_C), 0.0);
        ck_assert_double_eq(get_layer(mup, l, PCMUP_LAYER_B), mup_b[l - 1]);
        ck_assert_double_eq(get_layer(mup, l, PCMUP_LAYER_C), mup_c[l - 1]);
        ck_assert_double_eq(get_layer(mup, l, PCMUP_LAYER_THETA), mup_c[l - 1]);
    }
    pcmup_param_free(sp);
    pcmup_param_free(mup);
}
END_TEST

/* apply_preset overwrites every exponent but keeps the base width. */
START_TEST(apply_preset_keeps_base)
{
    pcmup_param *p = make_param(4, PCMUP_PRESET_SP, 100.0);
    for (size_t l = 1; l <= 4; l++)
        set_exps(p, l, (exps){0.75, -1.5, 3.0, 2.5});
    TU_OK(pcmup_param_apply_preset(p, PCMUP_PRESET_MUP_SGD, 0.0, 1.0));
    for (size_t l = 1; l <= 4; l++) {
        exps want = preset_row(PCMUP_PRESET_MUP_SGD, l, 4), got = get_exps(p, l);
        ck_assert(memcmp(&got, &want, sizeof got) == 0);
    }
    double base;
    TU_OK(pcmup_param_get(p, PCMUP_PARAM_BASE_WIDTH, &base));
    ck_assert_double_eq(base, 100.0);
    TU_OK(pcmup_param_apply_preset(p, PCMUP_PRESET_SP, 0.0, 1.0));
    ck_assert_double_eq(get_layer(p, 4, PCMUP_LAYER_B), 0.5);
    pcmup_param_free(p);
}
END_TEST

/* A clone equals the original and shares nothing with it. */
START_TEST(clone_is_deep)
{
    pcmup_param *p = make_param(3, PCMUP_PRESET_MUP_SGD, 32.0), *q;
    TU_OK(pcmup_param_set_layer(p, 2, PCMUP_LAYER_SIGMA, 1.25));
    TU_OK(pcmup_param_clone(&q, p));
    size_t n;
    TU_OK(pcmup_param_n_layers(q, &n));
    ck_assert_uint_eq(n, 3);
    for (size_t l = 1; l <= 3; l++) {
        exps a = get_exps(p, l), b = get_exps(q, l);
        ck_assert(memcmp(&a, &b, sizeof a) == 0);
    }
    for (size_t l = 1; l <= 3; l++)
        set_exps(q, l, (exps){1.0, 1.0, 1.0, 3.0});
    TU_OK(pcmup_param_set(q, PCMUP_PARAM_BASE_WIDTH, 7.0));
    double base;
    TU_OK(pcmup_param_get(p, PCMUP_PARAM_BASE_WIDTH, &base));
    ck_assert_double_eq(base, 32.0);
    for (size_t l = 1; l <= 3; l++) {
        exps want = preset_row(PCMUP_PRESET_MUP_SGD, l, 3);
        if (l == 2)
            want.sigma = 1.25;
        exps got = get_exps(p, l);
        ck_assert(memcmp(&got, &want, sizeof got) == 0);
    }
    /* The clone outlives its original. */
    pcmup_param_free(p);
    ck_assert_double_eq(get_layer(q, 3, PCMUP_LAYER_SIGMA), 3.0);
    pcmup_param_free(q);
}
END_TEST

/* "The network keeps its own copy of the parameterization." */
START_TEST(net_copies_param)
{
    const size_t widths[] = {20, 128, 10};
    pcmup_param *p = make_param(2, PCMUP_PRESET_MUP_SGD, 64.0);
    pcmup_net *net = make_net(2, widths, p, 1);
    double std_before, std_after;
    layer_scales(net, 2, NULL, &std_before, NULL);
    TU_OK(pcmup_param_set_layer(p, 2, PCMUP_LAYER_B, 0.0));
    TU_OK(pcmup_param_set(p, PCMUP_PARAM_BASE_WIDTH, 8.0));
    layer_scales(net, 2, NULL, &std_after, NULL);
    ck_assert_double_eq(std_before, std_after);
    const pcmup_param *own;
    TU_OK(pcmup_net_param(net, &own));
    ck_assert_ptr_ne(own, p);
    ck_assert_double_eq(get_layer(own, 2, PCMUP_LAYER_B), 1.0);
    double base;
    TU_OK(pcmup_param_get(own, PCMUP_PARAM_BASE_WIDTH, &base));
    ck_assert_double_eq(base, 64.0);
    pcmup_param_free(p);
    ck_assert_double_eq(get_layer(own, 1, PCMUP_LAYER_C), -1.0); /* still alive */
    pcmup_net_free(net);
}
END_TEST

typedef struct {
    pcmup_layer_key key;
    double lo, hi;
} key_bounds;

/* pcmup.h section 2: a, b in [-2, 2], c in [-4, 4], sigma in (0, 100]. */
static const key_bounds documented[] = {
    {PCMUP_LAYER_A, -2.0, 2.0},
    {PCMUP_LAYER_B, -2.0, 2.0},
    {PCMUP_LAYER_C, -4.0, 4.0},
    {PCMUP_LAYER_SIGMA, 0.0, 100.0},
};

START_TEST(layer_bounds_documented)
{
    for (size_t i = 0; i < 4; i++) {
        double lo, hi;
        TU_OK(pcmup_param_layer_bounds(documented[i].key, &lo, &hi));
        ck_assert_double_eq(lo, documented[i].lo);
        ck_assert_double_eq(hi, documented[i].hi);
    }
    /* THETA = 2a + c spans 2 [-2, 2] + [-4, 4]. */
    double lo, hi;
    TU_OK(pcmup_param_layer_bounds(PCMUP_LAYER_THETA, &lo, &hi));
    ck_assert_double_eq(lo, -8.0);
    ck_assert_double_eq(hi, 8.0);
    TU_OK(pcmup_param_bounds(PCMUP_PARAM_BASE_WIDTH, &lo, &hi));
    ck_assert_double_eq(lo, 1.0);
    ck_assert_double_eq(hi, 2147483647.0);
}
END_TEST

/* Values at and inside the bounds read back exactly, on every layer. */
START_TEST(set_get_round_trip)
{
    pcmup_param *p = make_param(3, PCMUP_PRESET_SP, 64.0);
    for (size_t i = 0; i < 4; i++) {
        pcmup_layer_key key = documented[i].key;
        double lo = documented[i].lo, hi = documented[i].hi;
        /* SIGMA's lo is exclusive: use the smallest double above it. */
        double lo_ok = key == PCMUP_LAYER_SIGMA ? nextafter(lo, 1.0) : lo;
        const double values[] = {lo_ok, hi, 0.5 * (lo + hi) + 0.1, 0.3141592653589793,
                                 nextafter(hi, lo)};
        for (size_t l = 1; l <= 3; l++)
            for (size_t j = 0; j < 5; j++) {
                TU_OK(pcmup_param_set_layer(p, l, key, values[j]));
                ck_assert_double_eq(get_layer(p, l, key), values[j]);
            }
    }
    const double widths[] = {1.0, 2147483647.0, 64.0, 1000.5};
    for (size_t j = 0; j < 4; j++) {
        double v;
        TU_OK(pcmup_param_set(p, PCMUP_PARAM_BASE_WIDTH, widths[j]));
        TU_OK(pcmup_param_get(p, PCMUP_PARAM_BASE_WIDTH, &v));
        ck_assert_double_eq(v, widths[j]);
    }
    pcmup_param_free(p);
}
END_TEST

/* Setting one layer's value leaves every other layer and key alone. */
START_TEST(set_touches_one_slot)
{
    pcmup_param *p = make_param(4, PCMUP_PRESET_MUP_SGD, 64.0);
    TU_OK(pcmup_param_set_layer(p, 3, PCMUP_LAYER_C, 2.5));
    for (size_t l = 1; l <= 4; l++) {
        exps want = preset_row(PCMUP_PRESET_MUP_SGD, l, 4), got = get_exps(p, l);
        if (l == 3)
            want.c = 2.5;
        ck_assert_msg(memcmp(&got, &want, sizeof got) == 0, "layer %zu changed", l);
    }
    pcmup_param_free(p);
}
END_TEST

/* THETA cannot be set, and always reads 2a + c. */
START_TEST(theta_read_only)
{
    pcmup_param *p = make_param(2, PCMUP_PRESET_MUP_SGD, 64.0);
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_param_set_layer(p, 1, PCMUP_LAYER_THETA, 0.0));
    ck_assert_double_eq(get_layer(p, 1, PCMUP_LAYER_THETA), -1.0);
    const double as[] = {-2.0, -0.75, 0.0, 1.5, 2.0}, cs[] = {-4.0, -1.25, 0.0, 3.0};
    for (size_t i = 0; i < 5; i++)
        for (size_t j = 0; j < 4; j++) {
            TU_OK(pcmup_param_set_layer(p, 2, PCMUP_LAYER_A, as[i]));
            TU_OK(pcmup_param_set_layer(p, 2, PCMUP_LAYER_C, cs[j]));
            ck_assert_double_eq(get_layer(p, 2, PCMUP_LAYER_THETA), 2.0 * as[i] + cs[j]);
        }
    pcmup_param_free(p);
}
END_TEST

/* ======================================================================
 * 2. Per-layer scales at a width
 * ====================================================================== */

static void check_scales(const size_t *widths, size_t n_layers, const pcmup_param *p)
{
    double base;
    TU_OK(pcmup_param_get(p, PCMUP_PARAM_BASE_WIDTH, &base));
    pcmup_net *net = make_net(n_layers, widths, p, 1);
    for (size_t l = 1; l <= n_layers; l++) {
        scales want = recipe(widths, n_layers, l, get_exps(p, l), base);
        double m, s, lr;
        layer_scales(net, l, &m, &s, &lr);
        assert_close(m, want.mult, "multiplier", l);
        assert_close(s, want.std, "init std", l);
        assert_close(lr, want.lr, "lr factor", l);
    }
    pcmup_net_free(net);
}

/* {784, M, M, 10}, base 64, both presets, against the recipe. */
START_TEST(scales_mlp_recipe)
{
    const size_t ms[] = {64, 256, 1024};
    for (size_t i = 0; i < 3; i++) {
        const size_t widths[] = {784, ms[i], ms[i], 10};
        pcmup_param *sp = make_param(3, PCMUP_PRESET_SP, 64.0);
        pcmup_param *mup = make_param(3, PCMUP_PRESET_MUP_SGD, 64.0);
        check_scales(widths, 3, sp);
        check_scales(widths, 3, mup);
        pcmup_param_free(sp);
        pcmup_param_free(mup);
    }
}
END_TEST

/* The same numbers as closed forms (docs/parameterization.md, section 5):
 * std(W_1) = 1/sqrt(784) = 1/28 for both; hidden std 1/sqrt(M); output std
 * 1/sqrt(M) under SP and sqrt(M_base)/M under muP; muP learning rates
 * M/M_base, 1, M_base/M. */
START_TEST(scales_mlp_closed_form)
{
    const size_t ms[] = {64, 256, 1024};
    for (size_t i = 0; i < 3; i++) {
        double M = (double)ms[i];
        const size_t widths[] = {784, ms[i], ms[i], 10};
        pcmup_param *mup = make_param(3, PCMUP_PRESET_MUP_SGD, 64.0);
        pcmup_param *sp = make_param(3, PCMUP_PRESET_SP, 64.0);
        pcmup_net *nm = make_net(3, widths, mup, 1), *ns = make_net(3, widths, sp, 1);
        const double mup_std[] = {1.0 / 28.0, 1.0 / sqrt(M), 8.0 / M};
        const double mup_lr[] = {M / 64.0, 1.0, 64.0 / M};
        const double sp_std[] = {1.0 / 28.0, 1.0 / sqrt(M), 1.0 / sqrt(M)};
        for (size_t l = 1; l <= 3; l++) {
            double m, s, lr;
            layer_scales(nm, l, &m, &s, &lr);
            assert_close(m, 1.0, "muP multiplier", l);
            assert_close(s, mup_std[l - 1], "muP init std", l);
            assert_close(lr, mup_lr[l - 1], "muP lr factor", l);
            layer_scales(ns, l, &m, &s, &lr);
            assert_close(m, 1.0, "SP multiplier", l);
            assert_close(s, sp_std[l - 1], "SP init std", l);
            assert_close(lr, 1.0, "SP lr factor", l);
        }
        pcmup_net_free(nm);
        pcmup_net_free(ns);
        pcmup_param_free(mup);
        pcmup_param_free(sp);
    }
}
END_TEST

/* Unequal widths {10, 32, 48, 3}: r_1 = 32/64 (fan-out of the input layer),
 * r_2 = 32/64 and r_3 = 48/64 (fan-ins), with exponents that make every
 * factor of the recipe visible, at two base widths. */
START_TEST(scales_unequal_widths)
{
    const size_t widths[] = {10, 32, 48, 3};
    const exps custom[3] = {{0.5, 0.25, -1.5, 2.0}, {-1.0, 1.0, 0.5, 0.5}, {2.0, -0.5, 3.0, 1.5}};
    const double bases[] = {64.0, 16.0};
    for (size_t i = 0; i < 2; i++) {
        pcmup_param *p = make_param(3, PCMUP_PRESET_MUP_SGD, bases[i]);
        check_scales(widths, 3, p);
        for (size_t l = 1; l <= 3; l++)
            set_exps(p, l, custom[l - 1]);
        check_scales(widths, 3, p);
        pcmup_param_free(p);
    }
    /* One value by hand: layer 3 (48 -> 3), base 64, r = 48/64 = 0.75,
     * b - 1/2 = -1: std = 1.5 / sqrt(48) * 0.75^1; multiplier 0.75^-2;
     * lr 0.75^-3. */
    pcmup_param *p = make_param(3, PCMUP_PRESET_SP, 64.0);
    set_exps(p, 3, custom[2]);
    pcmup_net *net = make_net(3, widths, p, 1);
    double m, s, lr;
    layer_scales(net, 3, &m, &s, &lr);
    assert_close(s, 1.5 / sqrt(48.0) * 0.75, "std by hand", 3);
    assert_close(m, 1.0 / (0.75 * 0.75), "multiplier by hand", 3);
    assert_close(lr, 1.0 / (0.75 * 0.75 * 0.75), "lr by hand", 3);
    pcmup_net_free(net);
    pcmup_param_free(p);
}
END_TEST

/* A single layer has no width: r = 1 whatever its exponents. */
START_TEST(scales_single_layer)
{
    const size_t widths[] = {784, 10};
    pcmup_param *p = make_param(1, PCMUP_PRESET_MUP_SGD, 2.0);
    set_exps(p, 1, (exps){1.5, 2.0, -3.0, 4.0});
    pcmup_net *net = make_net(1, widths, p, 1);
    double m, s, lr;
    layer_scales(net, 1, &m, &s, &lr);
    ck_assert_double_eq(m, 1.0);
    assert_close(s, 4.0 / 28.0, "std", 1);
    ck_assert_double_eq(lr, 1.0);
    pcmup_net_free(net);
    pcmup_param_free(p);
}
END_TEST

/* At M = M_base every parameterization gives the same numbers (the
 * muTransfer anchor): SP and muP scales coincide, and so do the weights
 * drawn from the same seed, bit for bit. */
START_TEST(anchor_at_base_width)
{
    const size_t widths[] = {784, 64, 64, 64, 10};
    pcmup_param *sp = make_param(4, PCMUP_PRESET_SP, 64.0);
    pcmup_param *mup = make_param(4, PCMUP_PRESET_MUP_SGD, 64.0);
    pcmup_net *ns = make_net(4, widths, sp, 99), *nm = make_net(4, widths, mup, 99);
    for (size_t l = 1; l <= 4; l++) {
        double s1[3], s2[3];
        layer_scales(ns, l, &s1[0], &s1[1], &s1[2]);
        layer_scales(nm, l, &s2[0], &s2[1], &s2[2]);
        ck_assert_msg(memcmp(s1, s2, sizeof s1) == 0, "layer %zu scales differ", l);
        size_t n = widths[l] * widths[l - 1];
        float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
        TU_OK(pcmup_net_get_weights(ns, l, a, n));
        TU_OK(pcmup_net_get_weights(nm, l, b, n));
        ck_assert_msg(memcmp(a, b, n * sizeof *a) == 0, "layer %zu weights differ", l);
        free(a);
        free(b);
    }
    pcmup_net_free(ns);
    pcmup_net_free(nm);
    pcmup_param_free(sp);
    pcmup_param_free(mup);
}
END_TEST

/* ======================================================================
 * 3. Initial weights and signals versus width, measured
 * ====================================================================== */

static const size_t sweep[] = {64, 256, 1024, 2048};
#define N_SWEEP 4
#define SEED 2024

static double mean_of(const float *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    return s / (double)n;
}

/* Root mean square: the std about the known mean 0. */
static double rms_of(const float *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)v[i] * v[i];
    return sqrt(s / (double)n);
}

/* The std of n Gaussian draws, estimated about the true mean 0, has a
 * relative standard error of 1/sqrt(2n) (delta method on a chi-square with
 * n degrees of freedom). Six of those: a false alarm is a < 1e-8 event,
 * while a wrong exponent is off by a factor of at least sqrt(2). The mean
 * has standard error std/sqrt(n); six of those too. */
static void check_layer_draws(const pcmup_net *net, size_t l, double want_std, size_t m)
{
    size_t n;
    float *v = tu_layer_weights(net, l, &n);
    double rms = rms_of(v, n), mean = mean_of(v, n);
    double tol = 6.0 / sqrt(2.0 * (double)n);
    ck_assert_msg(fabs(rms / want_std - 1.0) < tol,
                  "M = %zu, layer %zu: std %.6g, want %.6g (tol %.3g)", m, l, rms, want_std, tol);
    ck_assert_msg(fabs(mean) < 6.0 * want_std / sqrt((double)n), "M = %zu, layer %zu: mean %g", m,
                  l, mean);
    free(v);
}

static void check_init_stats(pcmup_preset preset)
{
    for (size_t i = 0; i < N_SWEEP; i++) {
        const size_t widths[] = {784, sweep[i], sweep[i], 10};
        pcmup_param *p = make_param(3, preset, 64.0);
        pcmup_net *net = make_net(3, widths, p, SEED);
        for (size_t l = 1; l <= 3; l++) {
            scales want = recipe(widths, 3, l, preset_row(preset, l, 3), 64.0);
            check_layer_draws(net, l, want.std, sweep[i]);
        }
        pcmup_net_free(net);
        pcmup_param_free(p);
    }
}

START_TEST(init_std_sp) { check_init_stats(PCMUP_PRESET_SP); }
END_TEST

START_TEST(init_std_mup) { check_init_stats(PCMUP_PRESET_MUP_SGD); }
END_TEST

/* The muP output layer is the SP one scaled by sqrt(M_base / M), draw for
 * draw: same seed, same stream, only the std differs (float rounding of
 * each product aside: 2^-23 relative). */
START_TEST(mup_output_is_scaled_sp)
{
    const size_t widths[] = {784, 1024, 1024, 10};
    pcmup_param *sp = make_param(3, PCMUP_PRESET_SP, 64.0);
    pcmup_param *mup = make_param(3, PCMUP_PRESET_MUP_SGD, 64.0);
    pcmup_net *ns = make_net(3, widths, sp, SEED), *nm = make_net(3, widths, mup, SEED);
    size_t n;
    float *a = tu_layer_weights(ns, 3, &n), *b = tu_layer_weights(nm, 3, &n);
    const double ratio = sqrt(64.0 / 1024.0);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabs(b[i] - ratio * a[i]) <= 2.5e-7 * fabs(b[i]) + 1e-30,
                      "weight %zu: %.9g vs %.9g * %.9g", i, b[i], ratio, a[i]);
    free(a);
    free(b);
    pcmup_net_free(ns);
    pcmup_net_free(nm);
    pcmup_param_free(sp);
    pcmup_param_free(mup);
}
END_TEST

/* ---- signals ----------------------------------------------------------- */

#define SB 64   /* samples */
#define SD 784  /* input dimension */

/* Standard normal input, the test's own (testutil's generator). */
static float *gaussian_batch(void)
{
    return tu_gaussian(SB * SD, 2654435769u);
}

/* E[tanh(s Z)^2] for Z ~ N(0, 1), by Simpson's rule on [-12, 12] (the
 * integrand is smooth and its tails beyond 12 weigh < 1e-30). */
static double tanh2_mean(double s)
{
    const int n = 4000;
    const double lo = -12.0, h = 24.0 / n;
    double sum = 0;
    for (int i = 0; i <= n; i++) {
        double z = lo + i * h, t = tanh(s * z);
        double f = t * t * exp(-0.5 * z * z);
        sum += f * (i == 0 || i == n ? 1 : (i % 2 ? 4 : 2));
    }
    return sum * h / 3.0 / sqrt(2.0 * 3.141592653589793);
}

/* Infinite-width mean squares of h_1 and h_2 for this input: u_1 of sample
 * b is N(0, std_1^2 |x_b|^2); u_2 is N(0, std_2^2 M q_1) = N(0, q_1) with
 * q_1 = E h_1^2 (hidden std 1/sqrt(M) under both presets). */
static void predict_hidden(const float *x, double *q1, double *q2)
{
    double s1 = 0, s2 = 0;
    for (size_t b = 0; b < SB; b++) {
        double norm2 = 0;
        for (size_t j = 0; j < SD; j++)
            norm2 += (double)x[b * SD + j] * x[b * SD + j];
        double q = tanh2_mean(sqrt(norm2) / 28.0);
        s1 += q;
        s2 += tanh2_mean(sqrt(q));
    }
    *q1 = s1 / SB;
    *q2 = s2 / SB;
}

typedef struct {
    double h[2]; /* rms of h_1, h_2 */
    double f;    /* rms of the output */
} signal_rms;

static signal_rms measure(pcmup_preset preset, size_t m, const float *x)
{
    const size_t widths[] = {SD, m, m, 10};
    pcmup_param *p = make_param(3, preset, 64.0);
    pcmup_net *net = make_net(3, widths, p, SEED);
    float *buf = malloc(SB * m * sizeof *buf);
    signal_rms r;
    for (size_t l = 1; l <= 2; l++) {
        TU_OK(pcmup_net_forward_layer(net, x, SB * SD, SB, l, PCMUP_SIGNAL_POST, buf, SB * m));
        r.h[l - 1] = rms_of(buf, SB * m);
    }
    TU_OK(pcmup_net_forward(net, x, SB * SD, SB, buf, SB * 10));
    r.f = rms_of(buf, SB * 10);
    free(buf);
    pcmup_net_free(net);
    pcmup_param_free(p);
    return r;
}

/* Relative noise of rms(f) = rms of 10 x 64 outputs f = W_L h: given the
 * hidden signals, each row w of W_L gives w^T G w with G the (M x M)
 * second moment of the 64 h's, whose relative variance is
 * 2 tr(G^2) / tr(G)^2 ~ 2 (1/B + 1/M) for nearly orthogonal h's; 10 rows
 * average it, and the rms halves the relative error of the mean square.
 * The h's are themselves random at finite M, which adds about another 1/M:
 * with 2 (1/B + 2/M) the estimate matches the spread measured over 200
 * seeds (4.8% at M = 64, 3.7% at 256, 2.8% at 2048). */
static double f_noise(size_t m)
{
    return 0.5 * sqrt(2.0 * (1.0 / SB + 2.0 / (double)m) / 10.0);
}

/* Hidden signals at every width sit within 6% of the width-independent
 * prediction. Their finite-width fluctuation is an average over 64 x M
 * nearly independent tanh^2 values and over the M rows of W_l: the spread
 * of rms(h_2) measured over 200 seeds is 1.1% at M = 64 (the noisiest
 * width), so 6% is more than five standard deviations, while a hidden std
 * off by a factor r^(1/4) (a quarter-step error in b) already moves
 * rms(h_2) by 22% at M = 256. So both presets keep h_l = Theta(1). */
static void check_hidden(const signal_rms *r, double q1, double q2, const char *name)
{
    const double want[2] = {sqrt(q1), sqrt(q2)};
    for (size_t i = 0; i < N_SWEEP; i++)
        for (int l = 0; l < 2; l++)
            ck_assert_msg(fabs(r[i].h[l] / want[l] - 1.0) < 0.06,
                          "%s, M = %zu: rms(h_%d) = %.4f, infinite-width %.4f", name, sweep[i],
                          l + 1, r[i].h[l], want[l]);
}

START_TEST(signal_scales_vs_width)
{
    float *x = gaussian_batch();
    double q1, q2;
    predict_hidden(x, &q1, &q2);
    signal_rms sp[N_SWEEP], mup[N_SWEEP];
    for (size_t i = 0; i < N_SWEEP; i++) {
        sp[i] = measure(PCMUP_PRESET_SP, sweep[i], x);
        mup[i] = measure(PCMUP_PRESET_MUP_SGD, sweep[i], x);
    }
    check_hidden(sp, q1, q2, "SP");
    check_hidden(mup, q1, q2, "muP");
    /* Output: rms(f) = std_L sqrt(M) rms(h_2); five standard errors. */
    for (size_t i = 0; i < N_SWEEP; i++) {
        double m = (double)sweep[i], tol = 5.0 * f_noise(sweep[i]);
        double sp_want = sqrt(q2), mup_want = sqrt(q2) * 8.0 / sqrt(m);
        ck_assert_msg(fabs(sp[i].f / sp_want - 1.0) < tol, "SP, M = %zu: rms(f) %.4f, want %.4f",
                      sweep[i], sp[i].f, sp_want);
        ck_assert_msg(fabs(mup[i].f / mup_want - 1.0) < tol,
                      "muP, M = %zu: rms(f) %.4f, want %.4f", sweep[i], mup[i].f, mup_want);
    }
    /* The ratio across the sweep: SP's is 1, muP's sqrt(64/2048); the two
     * widths' errors add in quadrature. */
    double tol = 5.0 * hypot(f_noise(64), f_noise(2048));
    double sp_ratio = sp[N_SWEEP - 1].f / sp[0].f, mup_ratio = mup[N_SWEEP - 1].f / mup[0].f;
    ck_assert_msg(fabs(sp_ratio - 1.0) < tol, "SP: f(2048)/f(64) = %.4f", sp_ratio);
    ck_assert_msg(fabs(mup_ratio / sqrt(64.0 / 2048.0) - 1.0) < tol,
                  "muP: f(2048)/f(64) = %.4f, want %.4f", mup_ratio, sqrt(64.0 / 2048.0));
    free(x);
}
END_TEST

/* Post- and pre-activation signals agree: h_l = tanh(u_l) for l < L, and
 * for l = L both are f, the output of pcmup_net_forward. Both tanh's are
 * float approximations within a few ulps of 1 (|tanh| <= 1), so they
 * agree to 1e-6 absolute. */
START_TEST(signals_pre_post)
{
    const size_t widths[] = {SD, 96, 80, 10};
    float *x = gaussian_batch();
    pcmup_param *p = make_param(3, PCMUP_PRESET_MUP_SGD, 64.0);
    pcmup_net *net = make_net(3, widths, p, SEED);
    float *pre = malloc(SB * 96 * sizeof *pre), *post = malloc(SB * 96 * sizeof *post);
    for (size_t l = 1; l <= 2; l++) {
        TU_OK(pcmup_net_forward_layer(net, x, SB * SD, SB, l, PCMUP_SIGNAL_PRE, pre,
                                      SB * widths[l]));
        TU_OK(pcmup_net_forward_layer(net, x, SB * SD, SB, l, PCMUP_SIGNAL_POST, post,
                                      SB * widths[l]));
        for (size_t i = 0; i < SB * widths[l]; i++)
            ck_assert_msg(fabsf(post[i] - tanhf(pre[i])) <= 1e-6f, "layer %zu, %zu", l, i);
    }
    float f[SB * 10];
    TU_OK(pcmup_net_forward(net, x, SB * SD, SB, f, SB * 10));
    TU_OK(pcmup_net_forward_layer(net, x, SB * SD, SB, 3, PCMUP_SIGNAL_PRE, pre, SB * 10));
    TU_OK(pcmup_net_forward_layer(net, x, SB * SD, SB, 3, PCMUP_SIGNAL_POST, post, SB * 10));
    ck_assert(memcmp(pre, f, sizeof f) == 0);
    ck_assert(memcmp(post, f, sizeof f) == 0);
    free(pre);
    free(post);
    free(x);
    pcmup_net_free(net);
    pcmup_param_free(p);
}
END_TEST

/* ======================================================================
 * 4. Seeds
 * ====================================================================== */

/* All weights (and biases when present) of a net, through the public API. */
static float *all_params(const pcmup_net *net, size_t *total)
{
    size_t n_layers, out, in;
    TU_OK(pcmup_net_n_layers(net, &n_layers));
    TU_OK(pcmup_net_param_count(net, total));
    float *v = malloc(*total * sizeof *v), *p = v;
    for (size_t l = 1; l <= n_layers; l++) {
        TU_OK(pcmup_net_layer_shape(net, l, &out, &in));
        TU_OK(pcmup_net_get_weights(net, l, p, out * in));
        p += out * in;
        if (pcmup_net_get_bias(net, l, p, out) == PCMUP_OK)
            p += out;
    }
    ck_assert_uint_eq((size_t)(p - v), *total);
    return v;
}

static size_t count_equal(const float *a, const float *b, size_t n)
{
    size_t same = 0;
    for (size_t i = 0; i < n; i++)
        same += memcmp(&a[i], &b[i], sizeof *a) == 0;
    return same;
}

static pcmup_net *bias_net(const pcmup_param *p, uint64_t seed)
{
    static const size_t widths[] = {30, 40, 50, 5};
    pcmup_net *net;
    TU_OK(pcmup_net_create(&net, widths, 4, PCMUP_ACT_RELU, PCMUP_NET_BIAS, p, seed, NULL));
    return net;
}

START_TEST(same_seed_same_weights)
{
    pcmup_param *p = make_param(3, PCMUP_PRESET_MUP_SGD, 16.0);
    pcmup_net *a = bias_net(p, 5), *b = bias_net(p, 5), *c = bias_net(p, 6);
    size_t n;
    float *wa = all_params(a, &n), *wb = all_params(b, &n), *wc = all_params(c, &n);
    ck_assert_uint_eq(count_equal(wa, wb, n), n);
    /* Only the zero biases (50 + 40 + 5 = 95 of them) may coincide. */
    ck_assert_uint_le(count_equal(wa, wc, n), 95 + 5);
    free(wa);
    free(wb);
    free(wc);
    pcmup_net_free(a);
    pcmup_net_free(b);
    pcmup_net_free(c);
    pcmup_param_free(p);
}
END_TEST

/* init_weights(seed) redraws exactly what creation with that seed drew,
 * biases back to zero, whatever the net held before. */
START_TEST(init_weights_reproduces)
{
    pcmup_param *p = make_param(3, PCMUP_PRESET_MUP_SGD, 16.0);
    pcmup_net *a = bias_net(p, 5), *c = bias_net(p, 6);
    size_t n;
    float *created = all_params(a, &n), *created_c = all_params(c, &n);
    float junk[50 * 40];
    for (size_t i = 0; i < 50 * 40; i++)
        junk[i] = 0.5f;
    TU_OK(pcmup_net_set_weights(a, 2, junk, 50 * 40));
    TU_OK(pcmup_net_set_bias(a, 2, junk, 50));
    TU_OK(pcmup_net_init_weights(a, 5));
    float *again = all_params(a, &n);
    ck_assert_uint_eq(count_equal(created, again, n), n);
    float bias[50];
    TU_OK(pcmup_net_get_bias(a, 2, bias, 50));
    for (size_t i = 0; i < 50; i++)
        ck_assert_float_eq(bias[i], 0.0f);
    TU_OK(pcmup_net_init_weights(a, 6));
    free(again);
    again = all_params(a, &n);
    ck_assert_uint_eq(count_equal(created_c, again, n), n);
    free(created);
    free(created_c);
    free(again);
    pcmup_net_free(a);
    pcmup_net_free(c);
    pcmup_param_free(p);
}
END_TEST

/* ======================================================================
 * 5. Custom exponents
 * ====================================================================== */

/* a = 1 on the hidden layer of {784, 256, 256, 10} (r = 4): the multiplier
 * is r^-1 = 1/4, the draws of w are those of a = 0 (the std of w depends on
 * b only), so the effective weights are exactly 1/4 of the a = 0 ones and
 * their std is r^-a s_l. */
START_TEST(multiplier_scales_effective_weights)
{
    const size_t widths[] = {784, 256, 256, 10};
    pcmup_param *p0 = make_param(3, PCMUP_PRESET_SP, 64.0), *p1;
    TU_OK(pcmup_param_clone(&p1, p0));
    TU_OK(pcmup_param_set_layer(p1, 2, PCMUP_LAYER_A, 1.0));
    pcmup_net *n0 = make_net(3, widths, p0, SEED), *n1 = make_net(3, widths, p1, SEED);
    double m0, s0, lr0, m1, s1, lr1;
    layer_scales(n0, 2, &m0, &s0, &lr0);
    layer_scales(n1, 2, &m1, &s1, &lr1);
    ck_assert_double_eq(m0, 1.0);
    assert_close(m1, 0.25, "multiplier", 2);
    ck_assert_double_eq(s1, s0);
    ck_assert_double_eq(lr1, lr0);
    for (size_t l = 1; l <= 3; l++) {
        size_t n;
        float *w0 = tu_layer_weights(n0, l, &n), *w1 = tu_layer_weights(n1, l, &n);
        float k = l == 2 ? 0.25f : 1.0f; /* a power of two: exact in float */
        for (size_t i = 0; i < n; i++)
            ck_assert_msg(w1[i] == k * w0[i], "layer %zu weight %zu", l, i);
        free(w0);
        free(w1);
    }
    check_layer_draws(n1, 2, 0.25 * s0, 256);
    pcmup_net_free(n0);
    pcmup_net_free(n1);
    pcmup_param_free(p0);
    pcmup_param_free(p1);
}
END_TEST

/* get/set speak in effective weights W = r^-a w: a round trip returns what
 * was set, exactly when the multiplier is a power of two (r = 4: 1/4 and
 * 2), and otherwise within the two float roundings of W / m and m * w
 * (r = 3: 1/3 and sqrt(3); 2 ulps, 2^-23 relative, plus margin). */
static void round_trip(double base, int exact)
{
    const size_t widths[] = {6, 12, 4};
    pcmup_param *p = make_param(2, PCMUP_PRESET_SP, base);
    TU_OK(pcmup_param_set_layer(p, 1, PCMUP_LAYER_A, 1.0));
    TU_OK(pcmup_param_set_layer(p, 2, PCMUP_LAYER_A, -0.5));
    pcmup_net *net = make_net(2, widths, p, 3);
    for (size_t l = 1; l <= 2; l++) {
        size_t n = widths[l] * widths[l - 1];
        float v[72], back[72];
        for (size_t i = 0; i < n; i++)
            v[i] = (float)(i + 1) * 0.37f - 7.0f;
        TU_OK(pcmup_net_set_weights(net, l, v, n));
        TU_OK(pcmup_net_get_weights(net, l, back, n));
        for (size_t i = 0; i < n; i++) {
            double tol = exact ? 0.0 : 0x1.0p-22 * fabs(v[i]);
            ck_assert_msg(fabs(back[i] - v[i]) <= tol, "base %g, layer %zu, %zu: %.9g vs %.9g",
                          base, l, i, back[i], v[i]);
        }
    }
    pcmup_net_free(net);
    pcmup_param_free(p);
}

START_TEST(set_get_effective_weights)
{
    round_trip(3.0, 1);
    round_trip(4.0, 0);
}
END_TEST

/* The forward pass uses W = r^-a w: a two-layer identity network computes
 * f = W_2 W_1 x with the effective weights that get_weights reports. */
START_TEST(forward_uses_multiplier)
{
    const size_t widths[] = {6, 8, 4};
    pcmup_param *p = make_param(2, PCMUP_PRESET_MUP_SGD, 4.0); /* r = 2 */
    TU_OK(pcmup_param_set_layer(p, 1, PCMUP_LAYER_A, 1.0));
    TU_OK(pcmup_param_set_layer(p, 2, PCMUP_LAYER_A, -0.5));
    pcmup_net *net;
    TU_OK(pcmup_net_create(&net, widths, 3, PCMUP_ACT_IDENTITY, 0, p, 8, NULL));
    double m1, m2;
    layer_scales(net, 1, &m1, NULL, NULL);
    layer_scales(net, 2, &m2, NULL, NULL);
    assert_close(m1, 0.5, "multiplier", 1);
    assert_close(m2, sqrt(2.0), "multiplier", 2);
    float w1[48], w2[32], x[3 * 6], f[3 * 4];
    TU_OK(pcmup_net_get_weights(net, 1, w1, 48));
    TU_OK(pcmup_net_get_weights(net, 2, w2, 32));
    for (size_t i = 0; i < 18; i++)
        x[i] = (float)((int)(i % 7) - 3) * 0.5f;
    TU_OK(pcmup_net_forward(net, x, 18, 3, f, 12));
    for (size_t b = 0; b < 3; b++)
        for (size_t k = 0; k < 4; k++) {
            double want = 0, scale = 0;
            for (size_t j = 0; j < 8; j++) {
                double h = 0;
                for (size_t i = 0; i < 6; i++)
                    h += (double)w1[j * 6 + i] * x[b * 6 + i];
                want += (double)w2[k * 8 + j] * h;
                scale += fabs((double)w2[k * 8 + j] * h);
            }
            /* float sums of 6 and 8 terms: a few ulps of the magnitude. */
            ck_assert_msg(fabs(f[b * 4 + k] - want) <= 1e-5 * scale + 1e-12,
                          "f[%zu][%zu] = %.8g, want %.8g", b, k, f[b * 4 + k], want);
        }
    pcmup_net_free(net);
    pcmup_param_free(p);
}
END_TEST

/* ======================================================================
 * 6. Presets with their arguments, and every width-dependent factor
 * ====================================================================== */

/* A preset and its arguments gammabar_L (g) and e_B (e). */
typedef struct {
    pcmup_preset preset;
    double g, e;
} preset_args;

/* What pcmup.h's preset table says, by role (input, hidden, output), with
 * the feedback exponents. */
typedef struct {
    double b[3], c[3], fb_damping, fb_lr;
} closed_row;

static closed_row closed_form_row(preset_args a)
{
    const double g = a.g, e = a.e;
    switch (a.preset) {
    case PCMUP_PRESET_SP: return (closed_row){{0, 0.5, 0.5}, {0, 0, 0}, 0, 0};
    case PCMUP_PRESET_MUP_SGD: return (closed_row){{0, 0.5, 1}, {-1, 0, 1}, 0, 0};
    case PCMUP_PRESET_MUP_PC: return (closed_row){{0, 0.5, 1}, {-1 - g, -g, 1}, 0, 0};
    case PCMUP_PRESET_MUP_PC_B: return (closed_row){{0, 0.5, 1}, {-1 - g, -g, 1 - g}, 0, 0};
    case PCMUP_PRESET_MUP_GNT: return (closed_row){{0, 0.5, 1}, {e - 1, e, 1}, 0, 0};
    case PCMUP_PRESET_MUP_TP: return (closed_row){{0, 0.5, 0.5}, {0, 1, 1}, 1, 1};
    }
    ck_abort_msg("unknown preset %d", (int)a.preset);
    return (closed_row){{0}, {0}, 0, 0};
}

static int role(size_t l, size_t n_layers)
{
    return l == 1 ? 0 : l == n_layers ? 2 : 1;
}

/* SP and every muP preset, the PC ones at three gammabar_L, GNT at three
 * powers; SP with gammabar_L = -1 (PC's gamma_L then scales under SP). */
static const preset_args all_presets[] = {
    {PCMUP_PRESET_SP, 0, 1},        {PCMUP_PRESET_SP, -1, 1},
    {PCMUP_PRESET_MUP_SGD, 0, 1},   {PCMUP_PRESET_MUP_PC, 0, 1},
    {PCMUP_PRESET_MUP_PC, -0.5, 1}, {PCMUP_PRESET_MUP_PC, -1, 1},
    {PCMUP_PRESET_MUP_PC_B, 0, 1},  {PCMUP_PRESET_MUP_PC_B, -0.5, 1},
    {PCMUP_PRESET_MUP_PC_B, -1, 1}, {PCMUP_PRESET_MUP_GNT, 0, 1},
    {PCMUP_PRESET_MUP_GNT, 0, 0},   {PCMUP_PRESET_MUP_GNT, 0, 0.5},
    {PCMUP_PRESET_MUP_GNT, -1, 0.25}, {PCMUP_PRESET_MUP_TP, 0, 1},
};
#define N_ALL_PRESETS (sizeof all_presets / sizeof all_presets[0])

static pcmup_param *preset_param(size_t n_layers, preset_args a, double base)
{
    pcmup_param *p = make_param(n_layers, PCMUP_PRESET_SP, base);
    TU_OK(pcmup_param_apply_preset(p, a.preset, a.g, a.e));
    return p;
}

static double get_key(const pcmup_param *p, pcmup_param_key key)
{
    double v;
    TU_OK(pcmup_param_get(p, key, &v));
    return v;
}

/* Every layer value and key of two parameterizations, exactly. */
static void assert_same_param(const pcmup_param *p, const pcmup_param *q, const char *what)
{
    size_t n;
    TU_OK(pcmup_param_n_layers(p, &n));
    for (size_t l = 1; l <= n; l++) {
        exps a = get_exps(p, l), b = get_exps(q, l);
        ck_assert_msg(memcmp(&a, &b, sizeof a) == 0, "%s: layer %zu differs", what, l);
    }
    for (int key = PCMUP_PARAM_BASE_WIDTH; key <= PCMUP_PARAM_FB_LR_EXP; key++)
        ck_assert_msg(get_key(p, (pcmup_param_key)key) == get_key(q, (pcmup_param_key)key),
                      "%s: key %d differs", what, key);
}

/* The rows of pcmup.h, gammabar_L kept as PCMUP_PARAM_GAMMA_BAR for every
 * preset, and the feedback exponents. */
START_TEST(preset_rows_with_arguments)
{
    for (size_t i = 0; i < N_ALL_PRESETS; i++)
        for (size_t n_layers = 1; n_layers <= 4; n_layers++) {
            preset_args a = all_presets[i];
            closed_row want = closed_form_row(a);
            pcmup_param *p = preset_param(n_layers, a, 64);
            for (size_t l = 1; l <= n_layers; l++) {
                exps got = get_exps(p, l);
                int k = role(l, n_layers);
                ck_assert_msg(got.a == 0 && got.sigma == 1 && got.b == want.b[k]
                                  && got.c == want.c[k],
                              "preset %d (g %g, e %g), L = %zu, layer %zu: b %g c %g, want %g %g",
                              (int)a.preset, a.g, a.e, n_layers, l, got.b, got.c, want.b[k],
                              want.c[k]);
            }
            ck_assert_double_eq(get_key(p, PCMUP_PARAM_GAMMA_BAR), a.g);
            ck_assert_double_eq(get_key(p, PCMUP_PARAM_FB_DAMPING_EXP), want.fb_damping);
            ck_assert_double_eq(get_key(p, PCMUP_PARAM_FB_LR_EXP), want.fb_lr);
            pcmup_param_free(p);
        }
}
END_TEST

/* The paper's Table 1 caption: PC's muP is SGD's at gammabar_L = 0 and
 * GNT's at -1; GNT's at e_B = 0 (plain SGD) is SGD's. */
START_TEST(preset_identities)
{
    const preset_args same[][2] = {
        {{PCMUP_PRESET_MUP_PC, 0, 1}, {PCMUP_PRESET_MUP_SGD, 0, 1}},
        {{PCMUP_PRESET_MUP_PC, -1, 1}, {PCMUP_PRESET_MUP_GNT, -1, 1}},
        {{PCMUP_PRESET_MUP_GNT, 0, 0}, {PCMUP_PRESET_MUP_SGD, 0, 0}},
    };
    for (size_t i = 0; i < 3; i++) {
        pcmup_param *p = preset_param(5, same[i][0], 64), *q = preset_param(5, same[i][1], 64);
        assert_same_param(p, q, "Table 1 identity");
        pcmup_param_free(p);
        pcmup_param_free(q);
    }
}
END_TEST

/* A state reached by every setter: exponents, feedback exponents and an
 * earlier preset with other arguments. */
static pcmup_param *scribbled_param(size_t n_layers, double base)
{
    pcmup_param *p = make_param(n_layers, PCMUP_PRESET_MUP_TP, base);
    TU_OK(pcmup_param_apply_preset(p, PCMUP_PRESET_MUP_PC_B, -0.75, 0.3));
    for (size_t l = 1; l <= n_layers; l++)
        set_exps(p, l, (exps){0.25 * (double)l, -1.0, 3.5, 7.0});
    TU_OK(pcmup_param_set(p, PCMUP_PARAM_FB_DAMPING_EXP, 1.75));
    TU_OK(pcmup_param_set(p, PCMUP_PARAM_FB_LR_EXP, -1.25));
    return p;
}

/* A preset's result depends on its arguments (and the base width) only:
 * the same from a fresh parameterization, from one every setter has
 * touched, and applied twice. */
START_TEST(preset_independent_of_history)
{
    for (size_t i = 0; i < N_ALL_PRESETS; i++) {
        preset_args a = all_presets[i];
        pcmup_param *fresh = preset_param(4, a, 48.0);
        pcmup_param *used = scribbled_param(4, 48.0);
        TU_OK(pcmup_param_apply_preset(used, a.preset, a.g, a.e));
        assert_same_param(fresh, used, "after other calls");
        TU_OK(pcmup_param_apply_preset(used, a.preset, a.g, a.e));
        assert_same_param(fresh, used, "applied twice");
        pcmup_param_free(fresh);
        pcmup_param_free(used);
    }
}
END_TEST

/* gammabar_L is given with the preset: setting it alone is refused loudly
 * before and after a preset, and changes nothing, so "set gammabar_L, then
 * apply the preset" and "apply, then set" cannot silently differ. */
START_TEST(gamma_bar_only_with_preset)
{
    pcmup_param *before = make_param(3, PCMUP_PRESET_SP, 64.0);
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_param_set(before, PCMUP_PARAM_GAMMA_BAR, -1.0));
    ck_assert_double_eq(get_key(before, PCMUP_PARAM_GAMMA_BAR), 0.0);
    TU_OK(pcmup_param_apply_preset(before, PCMUP_PRESET_MUP_PC, -1.0, 1.0));

    pcmup_param *after = make_param(3, PCMUP_PRESET_SP, 64.0);
    TU_OK(pcmup_param_apply_preset(after, PCMUP_PRESET_MUP_PC, -1.0, 1.0));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_param_set(after, PCMUP_PARAM_GAMMA_BAR, -0.5));
    ck_assert_str_eq(pcmup_last_error(),
                     "pcmup_param_set: gammabar_L is an argument of pcmup_param_apply_preset");

    assert_same_param(before, after, "either order");
    ck_assert_double_eq(get_key(after, PCMUP_PARAM_GAMMA_BAR), -1.0);
    ck_assert_double_eq(get_layer(after, 2, PCMUP_LAYER_C), 1.0);
    /* Its bounds are still reported: they are the argument's. */
    double lo, hi;
    TU_OK(pcmup_param_bounds(PCMUP_PARAM_GAMMA_BAR, &lo, &hi));
    ck_assert(lo == -1.0 && hi == 0.0);
    pcmup_param_free(before);
    pcmup_param_free(after);
}
END_TEST

/* gammabar_L outside [-1, 0] or e_B outside [0, 1], for any preset, and
 * unknown presets are refused with the parameterization unchanged. */
START_TEST(preset_argument_checks)
{
    pcmup_param *p = scribbled_param(3, 32.0), *copy;
    TU_OK(pcmup_param_clone(&copy, p));
    const double bad_g[] = {-1.5, nextafter(-1.0, -2.0), nextafter(0.0, 1.0), 0.5, NAN, INFINITY};
    const double bad_e[] = {-0.1, nextafter(1.0, 2.0), 2.0, NAN, -INFINITY};
    for (int preset = PCMUP_PRESET_SP; preset <= PCMUP_PRESET_MUP_TP; preset++) {
        for (size_t i = 0; i < 6; i++)
            TU_FAILS(PCMUP_ERR_INVALID,
                     pcmup_param_apply_preset(p, (pcmup_preset)preset, bad_g[i], 1.0));
        for (size_t i = 0; i < 5; i++)
            TU_FAILS(PCMUP_ERR_INVALID,
                     pcmup_param_apply_preset(p, (pcmup_preset)preset, 0.0, bad_e[i]));
    }
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_param_apply_preset(p, (pcmup_preset)6, 0.0, 1.0));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_param_apply_preset(p, (pcmup_preset)-1, 0.0, 1.0));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_param_apply_preset(NULL, PCMUP_PRESET_SP, 0.0, 1.0));
    assert_same_param(p, copy, "after refused presets");
    /* The ends of both ranges are accepted. */
    TU_OK(pcmup_param_apply_preset(p, PCMUP_PRESET_MUP_GNT, -1.0, 0.0));
    TU_OK(pcmup_param_apply_preset(p, PCMUP_PRESET_MUP_PC, 0.0, 1.0));
    pcmup_param_free(p);
    pcmup_param_free(copy);
}
END_TEST

/* The factors of pcmup.h at equal hidden widths M (r = M / 64 for every
 * layer), from the preset's closed-form row. */
static void closed_form_factors(preset_args a, size_t n_layers, size_t l, double m,
                                double f[PCMUP_FACTOR_COUNT])
{
    const closed_row row = closed_form_row(a);
    const double r = m / 64.0, b = row.b[role(l, n_layers)], c = row.c[role(l, n_layers)];
    const int hidden_feedback = l >= 2 && l < n_layers;
    f[PCMUP_FACTOR_MULTIPLIER] = 1.0;
    f[PCMUP_FACTOR_INIT_STD] = l == 1 ? 1.0 / 28.0 : pow(r, -(b - 0.5)) / sqrt(m);
    f[PCMUP_FACTOR_LR] = pow(r, -c);
    f[PCMUP_FACTOR_PC_GAMMA] = l == n_layers ? pow(r, -a.g) : 1.0;
    f[PCMUP_FACTOR_GNT_DAMPING] = l < n_layers ? pow(r, -(2.0 * row.b[2] - 1.0)) : 1.0;
    f[PCMUP_FACTOR_TP_FB_DAMPING] = hidden_feedback ? pow(r, row.fb_damping) : 1.0;
    f[PCMUP_FACTOR_TP_FB_LR] = hidden_feedback ? pow(r, -row.fb_lr) : 1.0;
    f[PCMUP_FACTOR_WIDTH_RATIO] = r;
}

static const char *const factor_names[PCMUP_FACTOR_COUNT] = {
    "multiplier", "init std", "lr", "pc gamma", "gnt damping", "tp fb damping", "tp fb lr",
    "width ratio",
};

/* {784, M, ..., M, 10}, L = 3 and 4, base 64, every preset and width. */
START_TEST(factors_closed_form)
{
    const size_t ms[] = {16, 64, 256, 1000};
    for (size_t i = 0; i < N_ALL_PRESETS; i++)
        for (size_t n_layers = 3; n_layers <= 4; n_layers++)
            for (size_t j = 0; j < 4; j++) {
                size_t widths[5] = {784, ms[j], ms[j], ms[j], 10};
                widths[n_layers] = 10;
                pcmup_param *p = preset_param(n_layers, all_presets[i], 64.0);
                for (size_t l = 1; l <= n_layers; l++) {
                    double got[PCMUP_FACTOR_COUNT], want[PCMUP_FACTOR_COUNT];
                    TU_OK(pcmup_param_layer_factors(p, widths, n_layers + 1, l, got,
                                                    PCMUP_FACTOR_COUNT));
                    closed_form_factors(all_presets[i], n_layers, l, (double)ms[j], want);
                    for (int k = 0; k < PCMUP_FACTOR_COUNT; k++)
                        assert_close(got[k], want[k], factor_names[k], l);
                }
                pcmup_param_free(p);
            }
}
END_TEST

/* A few numbers by hand at M = 256 (r = 4), L = 4: muP's GNT damping
 * rho' / 4, TP's feedback damping 4 mu' and learning rate eta^V / 4 on
 * the hidden feedback layers, PC's gamma_L 4 gamma'_L at gammabar_L = -1
 * and 2 gamma'_L at -1/2. */
START_TEST(factors_by_hand)
{
    const size_t widths[] = {784, 256, 256, 256, 10};
    double f[PCMUP_FACTOR_COUNT];
    pcmup_param *gnt = preset_param(4, (preset_args){PCMUP_PRESET_MUP_GNT, 0, 1}, 64);
    for (size_t l = 1; l <= 4; l++) {
        TU_OK(pcmup_param_layer_factors(gnt, widths, 5, l, f, PCMUP_FACTOR_COUNT));
        ck_assert_double_eq(f[PCMUP_FACTOR_GNT_DAMPING], l < 4 ? 0.25 : 1.0);
        ck_assert_double_eq(f[PCMUP_FACTOR_TP_FB_DAMPING], 1.0);
    }
    pcmup_param *tp = preset_param(4, (preset_args){PCMUP_PRESET_MUP_TP, 0, 1}, 64);
    for (size_t l = 1; l <= 4; l++) {
        TU_OK(pcmup_param_layer_factors(tp, widths, 5, l, f, PCMUP_FACTOR_COUNT));
        int hidden = l == 2 || l == 3;
        ck_assert_double_eq(f[PCMUP_FACTOR_TP_FB_DAMPING], hidden ? 4.0 : 1.0);
        ck_assert_double_eq(f[PCMUP_FACTOR_TP_FB_LR], hidden ? 0.25 : 1.0);
        ck_assert_double_eq(f[PCMUP_FACTOR_GNT_DAMPING], 1.0); /* b_L = 1/2 */
        ck_assert_double_eq(f[PCMUP_FACTOR_PC_GAMMA], 1.0);
    }
    const double gbar[] = {-1.0, -0.5}, gamma[] = {4.0, 2.0};
    for (size_t i = 0; i < 2; i++) {
        pcmup_param *pc = preset_param(4, (preset_args){PCMUP_PRESET_MUP_PC, gbar[i], 1}, 64);
        TU_OK(pcmup_param_layer_factors(pc, widths, 5, 4, f, PCMUP_FACTOR_COUNT));
        ck_assert_double_eq(f[PCMUP_FACTOR_PC_GAMMA], gamma[i]);
        TU_OK(pcmup_param_layer_factors(pc, widths, 5, 3, f, PCMUP_FACTOR_COUNT));
        ck_assert_double_eq(f[PCMUP_FACTOR_PC_GAMMA], 1.0);
        pcmup_param_free(pc);
    }
    pcmup_param_free(gnt);
    pcmup_param_free(tp);
}
END_TEST

/* Unequal widths {10, 32, 48, 24, 3}, base 16, show which width each
 * factor reads: r_L = 24 / 16 for PC and GNT, M_l / 16 (48 / 16 for layer
 * 2, 24 / 16 for layer 3) for TP's feedback. b_L = 3/4, gammabar_L =
 * -1/2, feedback exponents 1/2 and 3/2. */
START_TEST(factors_unequal_widths)
{
    const size_t widths[] = {10, 32, 48, 24, 3};
    pcmup_param *p = preset_param(4, (preset_args){PCMUP_PRESET_SP, -0.5, 1}, 16);
    TU_OK(pcmup_param_set_layer(p, 4, PCMUP_LAYER_B, 0.75));
    TU_OK(pcmup_param_set(p, PCMUP_PARAM_FB_DAMPING_EXP, 0.5));
    TU_OK(pcmup_param_set(p, PCMUP_PARAM_FB_LR_EXP, 1.5));
    const double ratio[] = {2.0, 2.0, 3.0, 1.5};
    const double gnt[] = {1 / sqrt(1.5), 1 / sqrt(1.5), 1 / sqrt(1.5), 1.0};
    const double pc[] = {1.0, 1.0, 1.0, sqrt(1.5)};
    const double fb_damping[] = {1.0, sqrt(3.0), sqrt(1.5), 1.0};
    const double fb_lr[] = {1.0, 1 / (3.0 * sqrt(3.0)), 1 / (1.5 * sqrt(1.5)), 1.0};
    for (size_t l = 1; l <= 4; l++) {
        double f[PCMUP_FACTOR_COUNT];
        TU_OK(pcmup_param_layer_factors(p, widths, 5, l, f, PCMUP_FACTOR_COUNT));
        assert_close(f[PCMUP_FACTOR_WIDTH_RATIO], ratio[l - 1], "ratio", l);
        assert_close(f[PCMUP_FACTOR_GNT_DAMPING], gnt[l - 1], "gnt damping", l);
        assert_close(f[PCMUP_FACTOR_PC_GAMMA], pc[l - 1], "pc gamma", l);
        assert_close(f[PCMUP_FACTOR_TP_FB_DAMPING], fb_damping[l - 1], "tp fb damping", l);
        assert_close(f[PCMUP_FACTOR_TP_FB_LR], fb_lr[l - 1], "tp fb lr", l);
    }
    pcmup_param_free(p);
}
END_TEST

/* L = 1 has no width: every factor is 1 but the init std, sigma / sqrt(D). */
START_TEST(factors_single_layer)
{
    const size_t widths[] = {784, 10};
    for (size_t i = 0; i < N_ALL_PRESETS; i++) {
        pcmup_param *p = preset_param(1, all_presets[i], 2.0);
        double f[PCMUP_FACTOR_COUNT];
        TU_OK(pcmup_param_layer_factors(p, widths, 2, 1, f, PCMUP_FACTOR_COUNT));
        for (int k = 0; k < PCMUP_FACTOR_COUNT; k++)
            ck_assert_double_eq(f[k], k == PCMUP_FACTOR_INIT_STD ? 1.0 / 28.0 : 1.0);
        pcmup_param_free(p);
    }
}
END_TEST

/* The network's query is the parameterization's at the network's widths,
 * bit for bit, for every preset and slot. */
START_TEST(net_factors_are_param_factors)
{
    const size_t widths[] = {30, 96, 40, 72, 5};
    for (size_t i = 0; i < N_ALL_PRESETS; i++) {
        pcmup_param *p = preset_param(4, all_presets[i], 24.0);
        pcmup_net *net = make_net(4, widths, p, 3);
        for (size_t l = 1; l <= 4; l++) {
            double a[PCMUP_FACTOR_COUNT], b[PCMUP_FACTOR_COUNT];
            TU_OK(pcmup_param_layer_factors(p, widths, 5, l, a, PCMUP_FACTOR_COUNT));
            TU_OK(pcmup_net_layer_factors(net, l, b, PCMUP_FACTOR_COUNT));
            ck_assert_msg(memcmp(a, b, sizeof a) == 0, "preset %zu layer %zu", i, l);
        }
        pcmup_net_free(net);
        pcmup_param_free(p);
    }
}
END_TEST

/* The rules use exactly the base setting times the factor: PC's gamma_L
 * and GNT's rho_l at a width, with non-trivial base settings. */
START_TEST(rules_use_the_factors)
{
    const size_t widths[] = {12, 320, 320, 4};
    pcmup_param *p = preset_param(3, (preset_args){PCMUP_PRESET_MUP_PC, -0.7, 1}, 64.0);
    pcmup_net *net = make_net(3, widths, p, 5);
    double f[3][PCMUP_FACTOR_COUNT];
    for (size_t l = 1; l <= 3; l++)
        TU_OK(pcmup_param_layer_factors(p, widths, 4, l, f[l - 1], PCMUP_FACTOR_COUNT));

    pcmup_algo *pc;
    TU_OK(pcmup_algo_create(&pc, PCMUP_RULE_PC, net, 1, NULL));
    TU_OK(pcmup_algo_set(pc, PCMUP_SET_PC_GAMMA_OUT_BASE, 0.3));
    double gamma_out;
    TU_OK(pcmup_pc_gamma_out(pc, &gamma_out));
    ck_assert_double_eq(gamma_out, 0.3 * f[2][PCMUP_FACTOR_PC_GAMMA]);
    pcmup_algo_free(pc);

    pcmup_algo *gnt;
    TU_OK(pcmup_algo_create(&gnt, PCMUP_RULE_GNT, net, 1, NULL));
    TU_OK(pcmup_algo_set(gnt, PCMUP_SET_GNT_DAMPING, 0.07));
    double rho[3];
    TU_OK(pcmup_gnt_damping(gnt, rho, 3));
    for (size_t l = 1; l <= 3; l++)
        ck_assert_double_eq(rho[l - 1], 0.07 * f[l - 1][PCMUP_FACTOR_GNT_DAMPING]);
    ck_assert_double_eq_tol(rho[0], 0.07 / 5.0, 1e-15); /* r = 320 / 64 = 5 */
    pcmup_algo_free(gnt);
    pcmup_net_free(net);
    pcmup_param_free(p);
}
END_TEST

static const double SENTINEL = -12345.0;

static void fill_sentinel(double *f, size_t n)
{
    for (size_t k = 0; k < n; k++)
        f[k] = SENTINEL;
}

static void assert_sentinel(const double *f, size_t n)
{
    for (size_t k = 0; k < n; k++)
        ck_assert_msg(f[k] == SENTINEL, "slot %zu written", k);
}

/* NULL pointers, a widths array of the wrong length or with a width out
 * of range, a bad layer and too many slots are refused with dst
 * untouched; fewer slots write only those. */
START_TEST(factors_argument_checks)
{
    pcmup_param *p = make_param(3, PCMUP_PRESET_MUP_SGD, 64.0);
    const size_t widths[] = {8, 128, 128, 4};
    double f[PCMUP_FACTOR_COUNT + 1];
    fill_sentinel(f, PCMUP_FACTOR_COUNT + 1);
    TU_FAILS(PCMUP_ERR_NULL, pcmup_param_layer_factors(NULL, widths, 4, 1, f, 1));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_param_layer_factors(p, NULL, 4, 1, f, 1));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_param_layer_factors(p, widths, 4, 1, NULL, 1));
    TU_FAILS(PCMUP_ERR_SHAPE, pcmup_param_layer_factors(p, widths, 3, 1, f, 1));
    TU_FAILS(PCMUP_ERR_SHAPE, pcmup_param_layer_factors(p, widths, 5, 1, f, 1));
    const size_t zero[] = {8, 0, 128, 4}, huge[] = {8, 128, (size_t)1 << 31, 4};
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_param_layer_factors(p, zero, 4, 1, f, 1));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_param_layer_factors(p, huge, 4, 1, f, 1));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_param_layer_factors(p, widths, 4, 0, f, 1));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_param_layer_factors(p, widths, 4, 4, f, 1));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_param_layer_factors(p, widths, 4, 1, f,
                                                          PCMUP_FACTOR_COUNT + 1));
    assert_sentinel(f, PCMUP_FACTOR_COUNT + 1);

    /* An older program asks for fewer slots: the first ones, nothing more. */
    TU_OK(pcmup_param_layer_factors(p, widths, 4, 3, f, 3));
    ck_assert_double_eq(f[PCMUP_FACTOR_MULTIPLIER], 1.0);
    assert_close(f[PCMUP_FACTOR_LR], 0.5, "lr", 3); /* c_L = 1, r = 2 */
    assert_sentinel(f + 3, PCMUP_FACTOR_COUNT - 2);
    TU_OK(pcmup_param_layer_factors(p, widths, 4, 3, f, 0));

    pcmup_net *net = make_net(3, widths, p, 1);
    fill_sentinel(f, PCMUP_FACTOR_COUNT + 1);
    TU_FAILS(PCMUP_ERR_NULL, pcmup_net_layer_factors(NULL, 1, f, 1));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_net_layer_factors(net, 1, NULL, 1));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_net_layer_factors(net, 0, f, 1));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_net_layer_factors(net, 4, f, 1));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_net_layer_factors(net, 1, f, PCMUP_FACTOR_COUNT + 1));
    assert_sentinel(f, PCMUP_FACTOR_COUNT + 1);
    pcmup_net_free(net);
    pcmup_param_free(p);
}
END_TEST

/* ====================================================================== */

int main(void)
{
    Suite *s = suite_create("param");
    TCase *presets = tcase_create("presets");
    tcase_add_test(presets, preset_rows);
    tcase_add_test(presets, preset_table_literal);
    tcase_add_test(presets, apply_preset_keeps_base);
    tcase_add_test(presets, clone_is_deep);
    tcase_add_test(presets, net_copies_param);
    tcase_add_test(presets, layer_bounds_documented);
    tcase_add_test(presets, set_get_round_trip);
    tcase_add_test(presets, set_touches_one_slot);
    tcase_add_test(presets, theta_read_only);
    suite_add_tcase(s, presets);

    TCase *sc = tcase_create("scales");
    tcase_add_test(sc, scales_mlp_recipe);
    tcase_add_test(sc, scales_mlp_closed_form);
    tcase_add_test(sc, scales_unequal_widths);
    tcase_add_test(sc, scales_single_layer);
    tcase_add_test(sc, anchor_at_base_width);
    suite_add_tcase(s, sc);

    TCase *width = tcase_create("width");
    tcase_set_timeout(width, 120);
    tcase_add_test(width, init_std_sp);
    tcase_add_test(width, init_std_mup);
    tcase_add_test(width, mup_output_is_scaled_sp);
    tcase_add_test(width, signal_scales_vs_width);
    tcase_add_test(width, signals_pre_post);
    suite_add_tcase(s, width);

    TCase *seeds = tcase_create("seeds");
    tcase_add_test(seeds, same_seed_same_weights);
    tcase_add_test(seeds, init_weights_reproduces);
    suite_add_tcase(s, seeds);

    TCase *custom = tcase_create("custom");
    tcase_set_timeout(custom, 120);
    tcase_add_test(custom, multiplier_scales_effective_weights);
    tcase_add_test(custom, set_get_effective_weights);
    tcase_add_test(custom, forward_uses_multiplier);
    suite_add_tcase(s, custom);

    TCase *factors = tcase_create("factors");
    tcase_add_test(factors, preset_rows_with_arguments);
    tcase_add_test(factors, preset_identities);
    tcase_add_test(factors, preset_independent_of_history);
    tcase_add_test(factors, gamma_bar_only_with_preset);
    tcase_add_test(factors, preset_argument_checks);
    tcase_add_test(factors, factors_closed_form);
    tcase_add_test(factors, factors_by_hand);
    tcase_add_test(factors, factors_unequal_widths);
    tcase_add_test(factors, factors_single_layer);
    tcase_add_test(factors, net_factors_are_param_factors);
    tcase_add_test(factors, rules_use_the_factors);
    tcase_add_test(factors, factors_argument_checks);
    suite_add_tcase(s, factors);
    return tu_run_suite(s);
}
