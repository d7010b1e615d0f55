/* SPDX-License-Identifier: MIT */
/*
 * param.c -- the parameterization handle: per-layer abc exponents, init
 * scales, the base width and the exponents of the rules' width-scaled
 * settings, filled from a preset table; and every width-dependent factor
 * computed from them (docs/parameterization.md, sections 5 and 6).
 *
 * A preset is a row of numbers by layer role (input, hidden, output), not
 * a code path: adding a preset is adding a row. A factor is one small
 * function and one entry of factor_table.
 */
#include "param.h"

#include <math.h>
#include <string.h>

#define MAX_LAYERS 1024

struct pcmup_param {
    pcmup_allocator alloc;
    size_t n_layers;
    double keys[4];            /* indexed by pcmup_param_key */
    double *a, *b, *c, *sigma; /* n_layers each, one allocation, a first */
    /* The preset the values came from, for a checkpoint's record; -1
     * once a layer exponent, gammabar_L or a feedback exponent was set by
     * hand since (the base width is not part of a preset). */
    int preset;
};

/* Layer roles, the columns of a preset row. */
enum { ROLE_INPUT, ROLE_HIDDEN, ROLE_OUTPUT, N_ROLES };

/* c = c0 + c_gbar gammabar_L + c_eb e_B: the PC rows depend on gammabar_L,
 * the GNT row on e_B, both arguments of pcmup_param_apply_preset. */
typedef struct {
    double b[N_ROLES];
    double c0[N_ROLES];
    double c_gbar[N_ROLES];
    double c_eb[N_ROLES];
    /* The preset's PCMUP_PARAM_FB_DAMPING_EXP and PCMUP_PARAM_FB_LR_EXP. */
    double fb_damping_exp, fb_lr_exp;
} preset_row;

/* The paper's Table 1 (section 2 for SP and SGD's muP, Theorem 4.1 for PC,
 * Proposition 3.3 for GNT, Theorem 5.1 for TP, whose output keeps
 * b_L = 1/2); docs/parameterization.md. a = 0, sigma = 1. */
static const preset_row preset_table[] = {
    [PCMUP_PRESET_SP] = {{0.0, 0.5, 0.5}, {0.0, 0.0, 0.0}, {0.0, 0.0, 0.0}, {0.0, 0.0, 0.0},
                         0.0, 0.0},
    [PCMUP_PRESET_MUP_SGD] = {{0.0, 0.5, 1.0}, {-1.0, 0.0, 1.0}, {0.0, 0.0, 0.0},
                              {0.0, 0.0, 0.0}, 0.0, 0.0},
    [PCMUP_PRESET_MUP_PC] = {{0.0, 0.5, 1.0}, {-1.0, 0.0, 1.0}, {-1.0, -1.0, 0.0},
                             {0.0, 0.0, 0.0}, 0.0, 0.0},
    [PCMUP_PRESET_MUP_PC_B] = {{0.0, 0.5, 1.0}, {-1.0, 0.0, 1.0}, {-1.0, -1.0, -1.0},
                               {0.0, 0.0, 0.0}, 0.0, 0.0},
    [PCMUP_PRESET_MUP_GNT] = {{0.0, 0.5, 1.0}, {-1.0, 0.0, 1.0}, {0.0, 0.0, 0.0},
                              {1.0, 1.0, 0.0}, 0.0, 0.0},
    [PCMUP_PRESET_MUP_TP] = {{0.0, 0.5, 0.5}, {0.0, 1.0, 1.0}, {0.0, 0.0, 0.0},
                             {0.0, 0.0, 0.0}, 1.0, 1.0},
};

#define N_PRESETS (sizeof preset_table / sizeof preset_table[0])

/* What pcmup_param_create gives the preset's arguments. */
#define DEFAULT_GAMMA_BAR 0.0
#define DEFAULT_E_B 1.0

typedef struct {
    const char *name;
    double lo, hi;
} bounds;

static const bounds layer_bounds[] = {
    [PCMUP_LAYER_A] = {"a", -2.0, 2.0},
    [PCMUP_LAYER_B] = {"b", -2.0, 2.0},
    [PCMUP_LAYER_C] = {"c", -4.0, 4.0},
    [PCMUP_LAYER_SIGMA] = {"sigma", 0.0, 100.0},
    [PCMUP_LAYER_THETA] = {"theta", -8.0, 8.0},
};

static const bounds param_bounds[] = {
    [PCMUP_PARAM_BASE_WIDTH] = {"base width", 1.0, 2147483647.0},
    [PCMUP_PARAM_GAMMA_BAR] = {"gammabar_L", -1.0, 0.0},
    [PCMUP_PARAM_FB_DAMPING_EXP] = {"feedback damping exponent", 0.0, 2.0},
    [PCMUP_PARAM_FB_LR_EXP] = {"feedback learning-rate exponent", -2.0, 2.0},
};

static const double param_defaults[] = {
    [PCMUP_PARAM_BASE_WIDTH] = 64.0,
    [PCMUP_PARAM_GAMMA_BAR] = DEFAULT_GAMMA_BAR,
    [PCMUP_PARAM_FB_DAMPING_EXP] = 0.0,
    [PCMUP_PARAM_FB_LR_EXP] = 0.0,
};

#define N_LAYER_KEYS (sizeof layer_bounds / sizeof layer_bounds[0])
#define N_PARAM_KEYS (sizeof param_bounds / sizeof param_bounds[0])
_Static_assert(N_PARAM_KEYS == sizeof ((pcmup_param *)0)->keys / sizeof(double),
               "one slot per parameterization key");

static int role_of(size_t layer, size_t n_layers)
{
    if (layer == 1)
        return ROLE_INPUT; /* a single-layer net has no width: role is moot */
    return layer == n_layers ? ROLE_OUTPUT : ROLE_HIDDEN;
}

/* Everything a preset decides, so the result depends on its arguments
 * alone and never on what was set before. */
static void fill_from_preset(pcmup_param *p, pcmup_preset preset, double gbar, double e_b)
{
    const preset_row *row = &preset_table[preset];
    for (size_t l = 1; l <= p->n_layers; l++) {
        int role = role_of(l, p->n_layers);
        p->a[l - 1] = 0.0;
        p->b[l - 1] = row->b[role];
        p->c[l - 1] = row->c0[role] + row->c_gbar[role] * gbar + row->c_eb[role] * e_b;
        p->sigma[l - 1] = 1.0;
    }
    p->keys[PCMUP_PARAM_GAMMA_BAR] = gbar;
    p->keys[PCMUP_PARAM_FB_DAMPING_EXP] = row->fb_damping_exp;
    p->keys[PCMUP_PARAM_FB_LR_EXP] = row->fb_lr_exp;
    p->preset = (int)preset;
}

static pcmup_status check_preset(pcmup_preset preset, const char *func)
{
    /* Every preset has b_L > 0; an all-zero row is a gap in the enum
     * (a value another build defines), not a preset. */
    if ((unsigned)preset >= N_PRESETS || preset_table[preset].b[ROLE_OUTPUT] == 0.0)
        return pcmup__fail(PCMUP_ERR_INVALID, func, "unknown preset %d", (int)preset);
    return PCMUP_OK;
}

static pcmup_param *param_new(const pcmup_allocator *alloc, size_t n_layers)
{
    pcmup_param *p = pcmup__alloc(alloc, 1, sizeof *p);
    if (!p)
        return NULL;
    p->alloc = *alloc;
    p->n_layers = n_layers;
    memcpy(p->keys, param_defaults, sizeof p->keys);
    p->a = pcmup__alloc(alloc, 4 * n_layers, sizeof(double));
    if (!p->a) {
        pcmup__free(alloc, p);
        return NULL;
    }
    p->b = p->a + n_layers;
    p->c = p->b + n_layers;
    p->sigma = p->c + n_layers;
    return p;
}

pcmup_status pcmup_param_create(pcmup_param **out, size_t n_layers, pcmup_preset preset,
                                const pcmup_allocator *allocator)
{
    PCMUP_CHECK_NULL(out);
    if (n_layers < 1 || n_layers > MAX_LAYERS)
        return pcmup__fail(PCMUP_ERR_INVALID, __func__, "n_layers %zu is outside [1, %d]",
                           n_layers, MAX_LAYERS);
    PCMUP_TRY(check_preset(preset, __func__));
    PCMUP_TRY(pcmup__allocator_check(allocator, __func__));
    pcmup_allocator alloc;
    pcmup__allocator_init(&alloc, allocator);
    pcmup_param *p = param_new(&alloc, n_layers);
    if (!p)
        return pcmup__fail(PCMUP_ERR_NOMEM, __func__, "cannot allocate %zu layers", n_layers);
    fill_from_preset(p, preset, DEFAULT_GAMMA_BAR, DEFAULT_E_B);
    *out = p;
    return PCMUP_OK;
}

pcmup_status pcmup_param_clone(pcmup_param **out, const pcmup_param *param)
{
    PCMUP_CHECK_NULL(out);
    PCMUP_CHECK_NULL(param);
    pcmup_param *p = param_new(&param->alloc, param->n_layers);
    if (!p)
        return pcmup__fail(PCMUP_ERR_NOMEM, __func__, "cannot allocate %zu layers",
                           param->n_layers);
    pcmup__param_copy(p, param);
    *out = p;
    return PCMUP_OK;
}

void pcmup_param_free(pcmup_param *param)
{
    if (!param)
        return;
    pcmup_allocator alloc = param->alloc;
    pcmup__free(&alloc, param->a);
    pcmup__free(&alloc, param);
}

static pcmup_status check_value(const bounds *bd, double value, int lo_open, const char *func)
{
    int below = lo_open ? !(value > bd->lo) : !(value >= bd->lo);
    if (!isfinite(value) || below || !(value <= bd->hi))
        return pcmup__fail(PCMUP_ERR_INVALID, func, "%s = %g is outside %c%g, %g]", bd->name,
                           value, lo_open ? '(' : '[', bd->lo, bd->hi);
    return PCMUP_OK;
}

pcmup_status pcmup_param_apply_preset(pcmup_param *param, pcmup_preset preset,
                                      double gammabar_L, double e_B)
{
    PCMUP_CHECK_NULL(param);
    PCMUP_TRY(check_preset(preset, __func__));
    PCMUP_TRY(check_value(&param_bounds[PCMUP_PARAM_GAMMA_BAR], gammabar_L, 0, __func__));
    PCMUP_TRY(pcmup__setting_check(PCMUP_SET_GNT_POWER, e_B, __func__));
    fill_from_preset(param, preset, gammabar_L, e_B);
    return PCMUP_OK;
}

pcmup_status pcmup_param_n_layers(const pcmup_param *param, size_t *n_layers)
{
    PCMUP_CHECK_NULL(param);
    PCMUP_CHECK_NULL(n_layers);
    *n_layers = param->n_layers;
    return PCMUP_OK;
}

static pcmup_status check_layer_number(const pcmup_param *p, size_t layer, const char *func)
{
    if (layer < 1 || layer > p->n_layers)
        return pcmup__fail(PCMUP_ERR_INVALID, func, "layer %zu is outside [1, %zu]", layer,
                           p->n_layers);
    return PCMUP_OK;
}

static pcmup_status check_layer(const pcmup_param *p, size_t layer, pcmup_layer_key key,
                                const char *func)
{
    PCMUP_TRY(check_layer_number(p, layer, func));
    if ((unsigned)key >= N_LAYER_KEYS)
        return pcmup__fail(PCMUP_ERR_INVALID, func, "unknown layer key %d", (int)key);
    return PCMUP_OK;
}

static double *layer_slot(const pcmup_param *p, pcmup_layer_key key)
{
    switch (key) {
    case PCMUP_LAYER_A: return p->a;
    case PCMUP_LAYER_B: return p->b;
    case PCMUP_LAYER_C: return p->c;
    case PCMUP_LAYER_SIGMA: return p->sigma;
    default: return NULL;
    }
}

pcmup_status pcmup_param_set_layer(pcmup_param *param, size_t layer, pcmup_layer_key key,
                                   double value)
{
    PCMUP_CHECK_NULL(param);
    PCMUP_TRY(check_layer(param, layer, key, __func__));
    if (key == PCMUP_LAYER_THETA)
        return pcmup__fail(PCMUP_ERR_INVALID, __func__,
                           "theta = 2a + c is derived; set a or c instead");
    PCMUP_TRY(check_value(&layer_bounds[key], value, key == PCMUP_LAYER_SIGMA, __func__));
    layer_slot(param, key)[layer - 1] = value;
    param->preset = -1;
    return PCMUP_OK;
}

pcmup_status pcmup_param_get_layer(const pcmup_param *param, size_t layer,
                                   pcmup_layer_key key, double *value)
{
    PCMUP_CHECK_NULL(param);
    PCMUP_CHECK_NULL(value);
    PCMUP_TRY(check_layer(param, layer, key, __func__));
    if (key == PCMUP_LAYER_THETA)
        *value = 2.0 * param->a[layer - 1] + param->c[layer - 1];
    else
        *value = layer_slot(param, key)[layer - 1];
    return PCMUP_OK;
}

pcmup_status pcmup_param_layer_bounds(pcmup_layer_key key, double *lo, double *hi)
{
    PCMUP_CHECK_NULL(lo);
    PCMUP_CHECK_NULL(hi);
    if ((unsigned)key >= N_LAYER_KEYS)
        return pcmup__fail(PCMUP_ERR_INVALID, __func__, "unknown layer key %d", (int)key);
    *lo = layer_bounds[key].lo;
    *hi = layer_bounds[key].hi;
    return PCMUP_OK;
}

static pcmup_status check_param_key(pcmup_param_key key, const char *func)
{
    if ((unsigned)key >= N_PARAM_KEYS)
        return pcmup__fail(PCMUP_ERR_INVALID, func, "unknown parameterization key %d",
                           (int)key);
    return PCMUP_OK;
}

pcmup_status pcmup_param_set(pcmup_param *param, pcmup_param_key key, double value)
{
    PCMUP_CHECK_NULL(param);
    PCMUP_TRY(check_param_key(key, __func__));
    /* The PC presets' c depends on gammabar_L: set alone, it would leave
     * them behind, and the order of two calls would silently matter. */
    if (key == PCMUP_PARAM_GAMMA_BAR)
        return pcmup__fail(PCMUP_ERR_INVALID, __func__,
                           "gammabar_L is an argument of pcmup_param_apply_preset");
    return pcmup__param_set_value(param, key, value, __func__);
}

pcmup_status pcmup__param_set_value(pcmup_param *param, pcmup_param_key key, double value,
                                    const char *func)
{
    PCMUP_TRY(check_param_key(key, func));
    PCMUP_TRY(check_value(&param_bounds[key], value, 0, func));
    param->keys[key] = value;
    if (key != PCMUP_PARAM_BASE_WIDTH)
        param->preset = -1;
    return PCMUP_OK;
}

pcmup_status pcmup_param_get(const pcmup_param *param, pcmup_param_key key, double *value)
{
    PCMUP_CHECK_NULL(param);
    PCMUP_CHECK_NULL(value);
    PCMUP_TRY(check_param_key(key, __func__));
    *value = param->keys[key];
    return PCMUP_OK;
}

pcmup_status pcmup_param_bounds(pcmup_param_key key, double *lo, double *hi)
{
    PCMUP_CHECK_NULL(lo);
    PCMUP_CHECK_NULL(hi);
    PCMUP_TRY(check_param_key(key, __func__));
    *lo = param_bounds[key].lo;
    *hi = param_bounds[key].hi;
    return PCMUP_OK;
}

/* The factors of pcmup_factor, each a function of the parameterization,
 * the network widths and the layer.
 *
 * r_l: the width a layer's exponents refer to is the input layer's fan-out
 * (its fan-in, the data dimension, does not grow) and every other layer's
 * fan-in; a single-layer network has no width. */
static double width_ratio(const pcmup_param *p, const size_t *widths, size_t layer)
{
    if (p->n_layers == 1)
        return 1.0;
    double width = (double)(layer == 1 ? widths[1] : widths[layer - 1]);
    return width / p->keys[PCMUP_PARAM_BASE_WIDTH];
}

static double multiplier(const pcmup_param *p, const size_t *widths, size_t fan_in,
                         size_t layer)
{
    (void)fan_in;
    return pow(width_ratio(p, widths, layer), -p->a[layer - 1]);
}

/* A layer whose fan-in grows with width already gets 1/sqrt(M) from the
 * fan-in factor, which is b = 1/2; b measures the excess over that. */
static double init_std(const pcmup_param *p, const size_t *widths, size_t fan_in,
                       size_t layer)
{
    const size_t i = layer - 1;
    const double b_ref = layer == 1 ? 0.0 : 0.5;
    return p->sigma[i] / sqrt((double)fan_in)
           * pow(width_ratio(p, widths, layer), -(p->b[i] - b_ref));
}

static double lr_factor(const pcmup_param *p, const size_t *widths, size_t fan_in,
                        size_t layer)
{
    (void)fan_in;
    return pow(width_ratio(p, widths, layer), -p->c[layer - 1]);
}

/* gamma_L = gamma'_L r_L^-gammabar_L (Theorem 4.1); the hidden precisions
 * are Theta(1). */
static double pc_gamma(const pcmup_param *p, const size_t *widths, size_t fan_in,
                       size_t layer)
{
    (void)fan_in;
    if (layer < p->n_layers)
        return 1.0;
    return pow(width_ratio(p, widths, layer), -p->keys[PCMUP_PARAM_GAMMA_BAR]);
}

/* rho_l = rho' r_L^-(2 b_L - 1) below the output, rho' at it (Proposition
 * 3.3): rho' M_base / M under muP, rho' under SP. */
static double gnt_damping(const pcmup_param *p, const size_t *widths, size_t fan_in,
                          size_t layer)
{
    (void)fan_in;
    const size_t n = p->n_layers;
    if (layer == n)
        return 1.0;
    return pow(width_ratio(p, widths, n), -(2.0 * p->b[n - 1] - 1.0));
}

/* Feedback layer l maps layer l's output back to layer l - 1; the hidden
 * ones 2 <= l < L read M_l, layer l + 1's fan-in. The top one reads the
 * outputs, whose number does not grow, and layer 1 has none. */
static double feedback_ratio(const pcmup_param *p, const size_t *widths, size_t layer)
{
    return width_ratio(p, widths, layer + 1);
}

static int hidden_feedback(const pcmup_param *p, size_t layer)
{
    return layer >= 2 && layer < p->n_layers;
}

/* mu_l = mu' r^x, in proportion to h_l^T h_l = Theta(M) under muP
 * (Theorem 5.1). */
static double tp_fb_damping(const pcmup_param *p, const size_t *widths, size_t fan_in,
                            size_t layer)
{
    (void)fan_in;
    if (!hidden_feedback(p, layer))
        return 1.0;
    return pow(feedback_ratio(p, widths, layer), p->keys[PCMUP_PARAM_FB_DAMPING_EXP]);
}

static double tp_fb_lr(const pcmup_param *p, const size_t *widths, size_t fan_in,
                       size_t layer)
{
    (void)fan_in;
    if (!hidden_feedback(p, layer))
        return 1.0;
    return pow(feedback_ratio(p, widths, layer), -p->keys[PCMUP_PARAM_FB_LR_EXP]);
}

static double width_ratio_factor(const pcmup_param *p, const size_t *widths, size_t fan_in,
                                 size_t layer)
{
    (void)fan_in;
    return width_ratio(p, widths, layer);
}

/* fan_in: the fan-in of layer l's weights (M_{l-1} for a dense layer,
 * C_{l-1} k^2 for a convolution); only the init std reads it. */
typedef double factor_fn(const pcmup_param *p, const size_t *widths, size_t fan_in,
                         size_t layer);

static factor_fn *const factor_table[] = {
    [PCMUP_FACTOR_MULTIPLIER] = multiplier,
    [PCMUP_FACTOR_INIT_STD] = init_std,
    [PCMUP_FACTOR_LR] = lr_factor,
    [PCMUP_FACTOR_PC_GAMMA] = pc_gamma,
    [PCMUP_FACTOR_GNT_DAMPING] = gnt_damping,
    [PCMUP_FACTOR_TP_FB_DAMPING] = tp_fb_damping,
    [PCMUP_FACTOR_TP_FB_LR] = tp_fb_lr,
    [PCMUP_FACTOR_WIDTH_RATIO] = width_ratio_factor,
};

_Static_assert(sizeof factor_table / sizeof factor_table[0] == PCMUP_FACTOR_COUNT,
               "one function per factor");

double pcmup__param_factor(const pcmup_param *p, const size_t *widths, size_t layer,
                           pcmup_factor f)
{
    assert(layer >= 1 && layer <= p->n_layers);
    assert((unsigned)f < PCMUP_FACTOR_COUNT);
    return factor_table[f](p, widths, widths[layer - 1], layer);
}

pcmup_status pcmup__param_factors(const pcmup_param *p, const size_t *widths, size_t fan_in,
                                  size_t layer, double *dst, size_t count, const char *func)
{
    if (!dst)
        return pcmup__fail(PCMUP_ERR_NULL, func, "dst is NULL");
    PCMUP_TRY(check_layer_number(p, layer, func));
    if (count > PCMUP_FACTOR_COUNT)
        return pcmup__fail(PCMUP_ERR_INVALID, func, "count %zu exceeds the %d factors", count,
                           PCMUP_FACTOR_COUNT);
    for (size_t k = 0; k < count; k++)
        dst[k] = factor_table[k](p, widths, fan_in ? fan_in : widths[layer - 1], layer);
    return PCMUP_OK;
}

pcmup_status pcmup__check_widths(const pcmup_param *p, const size_t *widths, size_t n_widths,
                                 const char *func)
{
    if (!widths)
        return pcmup__fail(PCMUP_ERR_NULL, func, "widths is NULL");
    if (n_widths != p->n_layers + 1)
        return pcmup__fail(PCMUP_ERR_SHAPE, func,
                           "n_widths is %zu, expected L + 1 = %zu for the parameterization's "
                           "L = %zu",
                           n_widths, p->n_layers + 1, p->n_layers);
    for (size_t i = 0; i < n_widths; i++) {
        if (widths[i] < 1 || widths[i] > PCMUP_MAX_DIM)
            return pcmup__fail(PCMUP_ERR_INVALID, func, "widths[%zu] = %zu is outside [1, %zu]",
                               i, widths[i], PCMUP_MAX_DIM);
    }
    return PCMUP_OK;
}

pcmup_status pcmup_param_layer_factors(const pcmup_param *param, const size_t *widths,
                                       size_t n_widths, size_t layer, double *dst,
                                       size_t count)
{
    PCMUP_CHECK_NULL(param);
    PCMUP_TRY(pcmup__check_widths(param, widths, n_widths, __func__));
    return pcmup__param_factors(param, widths, 0, layer, dst, count, __func__);
}

pcmup_layer_scale pcmup__param_scale(const pcmup_param *p, size_t layer, const size_t *widths,
                                     size_t fan_in)
{
    assert(layer >= 1 && layer <= p->n_layers);
    pcmup_layer_scale s = {multiplier(p, widths, fan_in, layer),
                           init_std(p, widths, fan_in, layer),
                           lr_factor(p, widths, fan_in, layer)};
    return s;
}

void pcmup__param_copy(pcmup_param *dst, const pcmup_param *src)
{
    assert(dst->n_layers == src->n_layers);
    memcpy(dst->keys, src->keys, sizeof dst->keys);
    memcpy(dst->a, src->a, 4 * src->n_layers * sizeof(double));
    dst->preset = src->preset;
}

/* The command-line spelling of each preset (pcmup-train's --param and
 * checkpoints). */
static const char *const preset_names[] = {
    [PCMUP_PRESET_SP] = "sp",           [PCMUP_PRESET_MUP_SGD] = "mup-sgd",
    [PCMUP_PRESET_MUP_PC] = "mup-pc",   [PCMUP_PRESET_MUP_PC_B] = "mup-pc-b",
    [PCMUP_PRESET_MUP_GNT] = "mup-gnt", [PCMUP_PRESET_MUP_TP] = "mup-tp",
};
_Static_assert(sizeof preset_names / sizeof preset_names[0] == N_PRESETS,
               "every preset has a name");

const char *pcmup__param_preset_name(const pcmup_param *p)
{
    return p->preset >= 0 ? preset_names[p->preset] : "custom";
}

void pcmup__param_set_preset_name(pcmup_param *p, const char *name)
{
    p->preset = -1;
    for (size_t i = 0; i < N_PRESETS; i++)
        if (strcmp(name, preset_names[i]) == 0)
            p->preset = (int)i;
}

int pcmup__param_equal(const pcmup_param *x, const pcmup_param *y)
{
    return x->n_layers == y->n_layers && memcmp(x->keys, y->keys, sizeof x->keys) == 0 &&
           memcmp(x->a, y->a, 4 * x->n_layers * sizeof(double)) == 0;
}
