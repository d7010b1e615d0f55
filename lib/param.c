/*
 * param.c -- the parameterization handle: per-layer abc exponents, init
 * scales and the base width, filled from a preset table.
 *
 * A preset is a row of numbers by layer role (input, hidden, output), not
 * a code path: adding a preset is adding a row.
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
};

/* Layer roles, the columns of a preset row. */
enum { ROLE_INPUT, ROLE_HIDDEN, ROLE_OUTPUT, N_ROLES };

/* c = c0 + c_gbar * gammabar_L: the PC rows depend on the output exponent. */
typedef struct {
    double b[N_ROLES];
    double c0[N_ROLES];
    double c_gbar[N_ROLES];
    /* ---- target propagation: the values the preset gives
     * PCMUP_PARAM_FB_DAMPING_EXP and PCMUP_PARAM_FB_LR_EXP (0 unless set). */
    double fb_damping_exp, fb_lr_exp;
} preset_row;

/* paper-spec table 1.6 and section 3.4; docs/parameterization.md.
 * a = 0, sigma = 1. */
static const preset_row preset_table[] = {
    [PCMUP_PRESET_SP] = {{0.0, 0.5, 0.5}, {0.0, 0.0, 0.0}, {0.0, 0.0, 0.0}},
    [PCMUP_PRESET_MUP_SGD] = {{0.0, 0.5, 1.0}, {-1.0, 0.0, 1.0}, {0.0, 0.0, 0.0}},
    [PCMUP_PRESET_MUP_PC] = {{0.0, 0.5, 1.0}, {-1.0, 0.0, 1.0}, {-1.0, -1.0, 0.0}},
    [PCMUP_PRESET_MUP_PC_B] = {{0.0, 0.5, 1.0}, {-1.0, 0.0, 1.0}, {-1.0, -1.0, -1.0}},
    /* ---- Gauss-Newton target: paper-spec 2.2, e_B = 1 ---- */
    [PCMUP_PRESET_MUP_GNT] = {{0.0, 0.5, 1.0}, {0.0, 1.0, 1.0}, {0.0, 0.0, 0.0}},
    /* ---- end Gauss-Newton target ---- */
    /* ---- target propagation: paper-spec 4.2; the output keeps b_L = 1/2 ---- */
    [PCMUP_PRESET_MUP_TP] = {{0.0, 0.5, 0.5}, {0.0, 1.0, 1.0}, {0.0, 0.0, 0.0}, 1.0, 1.0},
};

#define N_PRESETS (sizeof preset_table / sizeof preset_table[0])

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
    [PCMUP_PARAM_GAMMA_BAR] = 0.0,
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

static void fill_from_preset(pcmup_param *p, pcmup_preset preset)
{
    const preset_row *row = &preset_table[preset];
    const double gbar = p->keys[PCMUP_PARAM_GAMMA_BAR];
    for (size_t l = 1; l <= p->n_layers; l++) {
        int role = role_of(l, p->n_layers);
        p->a[l - 1] = 0.0;
        p->b[l - 1] = row->b[role];
        p->c[l - 1] = row->c0[role] + row->c_gbar[role] * gbar;
        p->sigma[l - 1] = 1.0;
    }
    p->keys[PCMUP_PARAM_FB_DAMPING_EXP] = row->fb_damping_exp;
    p->keys[PCMUP_PARAM_FB_LR_EXP] = row->fb_lr_exp;
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
    if (!pcmup__allocator_valid(allocator))
        return pcmup__fail(PCMUP_ERR_INVALID, __func__, "allocator has a NULL function");
    pcmup_allocator alloc;
    pcmup__allocator_init(&alloc, allocator);
    pcmup_param *p = param_new(&alloc, n_layers);
    if (!p)
        return pcmup__fail(PCMUP_ERR_NOMEM, __func__, "cannot allocate %zu layers", n_layers);
    fill_from_preset(p, preset);
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

pcmup_status pcmup_param_apply_preset(pcmup_param *param, pcmup_preset preset)
{
    PCMUP_CHECK_NULL(param);
    PCMUP_TRY(check_preset(preset, __func__));
    fill_from_preset(param, preset);
    return PCMUP_OK;
}

pcmup_status pcmup_param_n_layers(const pcmup_param *param, size_t *n_layers)
{
    PCMUP_CHECK_NULL(param);
    PCMUP_CHECK_NULL(n_layers);
    *n_layers = param->n_layers;
    return PCMUP_OK;
}

static pcmup_status check_layer(const pcmup_param *p, size_t layer, pcmup_layer_key key,
                                const char *func)
{
    if (layer < 1 || layer > p->n_layers)
        return pcmup__fail(PCMUP_ERR_INVALID, func, "layer %zu is outside [1, %zu]", layer,
                           p->n_layers);
    if ((unsigned)key >= N_LAYER_KEYS)
        return pcmup__fail(PCMUP_ERR_INVALID, func, "unknown layer key %d", (int)key);
    return PCMUP_OK;
}

static pcmup_status check_value(const bounds *bd, double value, int lo_open, const char *func)
{
    int below = lo_open ? !(value > bd->lo) : !(value >= bd->lo);
    if (!isfinite(value) || below || !(value <= bd->hi))
        return pcmup__fail(PCMUP_ERR_INVALID, func, "%s = %g is outside %c%g, %g]", bd->name,
                           value, lo_open ? '(' : '[', bd->lo, bd->hi);
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
    PCMUP_TRY(check_value(&param_bounds[key], value, 0, __func__));
    param->keys[key] = value;
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

/* The width a layer's exponents refer to: the input layer's fan-out (its
 * fan-in, the data dimension, does not grow), every other layer's fan-in. */
static double layer_width(size_t layer, size_t n_layers, const size_t *widths)
{
    if (n_layers == 1)
        return 0.0;
    return (double)(layer == 1 ? widths[1] : widths[layer - 1]);
}

pcmup_layer_scale pcmup__param_scale(const pcmup_param *p, size_t layer, const size_t *widths)
{
    assert(layer >= 1 && layer <= p->n_layers);
    size_t i = layer - 1;
    double width = layer_width(layer, p->n_layers, widths);
    double r = width > 0.0 ? width / p->keys[PCMUP_PARAM_BASE_WIDTH] : 1.0;
    double fan_in = (double)widths[layer - 1];
    /* A layer whose fan-in grows with width already gets 1/sqrt(M) from the
     * fan-in factor, which is b = 1/2; b measures the excess over that. */
    double b_ref = (layer == 1) ? 0.0 : 0.5;
    pcmup_layer_scale s;
    s.ratio = r;
    s.multiplier = pow(r, -p->a[i]);
    s.init_std = p->sigma[i] / sqrt(fan_in) * pow(r, -(p->b[i] - b_ref));
    s.lr_factor = pow(r, -p->c[i]);
    return s;
}

void pcmup__param_copy(pcmup_param *dst, const pcmup_param *src)
{
    assert(dst->n_layers == src->n_layers);
    memcpy(dst->keys, src->keys, sizeof dst->keys);
    memcpy(dst->a, src->a, 4 * src->n_layers * sizeof(double));
}

double pcmup__param_key(const pcmup_param *p, pcmup_param_key key)
{
    return p->keys[key];
}
