/*
 * settings.c -- an algorithm's settings: the one table that describes
 * every setting (name, description, group, default, bounds, per layer or
 * not, the rules that accept it, the names of its values), the public
 * functions that read it, and the ones that set and read settings on a
 * handle, which all check a value the same way (check_value).
 */
#include "algo.h"

#include <math.h>
#include <string.h>

/* Every key fits algo->settings: the last group's block ends at the cap. */
_Static_assert(PCMUP_GROUP_TP + 100 <= PCMUP_SETTINGS_CAP,
               "algo->settings has no room for the last group");

/* The rules that accept a setting, one bit per pcmup_rule. */
#define RULE(r) (1u << (r))
#define ALL_RULES (~0u)
#define R_PC RULE(PCMUP_RULE_PC)
#define R_GNT RULE(PCMUP_RULE_GNT)
#define R_TP (RULE(PCMUP_RULE_TP) | RULE(PCMUP_RULE_DTP))

/* Which ends of [lo, hi] are excluded. */
enum { LO_OPEN = 1, HI_OPEN = 2 };

/* flags */
enum {
    WHOLE = 1,     /* whole numbers only */
    PER_LAYER = 2  /* one value per hidden layer */
};

/* An enum-valued setting's values: names[v] names value v, NULL for a
 * value in between that the setting refuses. Its bounds are the first and
 * last named values. */
typedef struct {
    const char *const *names;
    size_t count;
} value_names;

#define VALUES(array) {(array), sizeof(array) / sizeof((array)[0])}

typedef struct {
    pcmup_setting key;
    const char *name;
    const char *description;
    pcmup_setting_group group;
    double fallback;     /* the default */
    double lo, hi;       /* bounds, unless the setting has value names */
    unsigned open;       /* LO_OPEN, HI_OPEN */
    unsigned flags;      /* WHOLE, PER_LAYER */
    unsigned rules;      /* RULE(r) set: rule r accepts it */
    value_names values;  /* {NULL, 0} unless enum-valued */
} setting_info;

static const char *const loss_names[] = {
    [PCMUP_LOSS_MSE] = "mse", [PCMUP_LOSS_CE] = "ce",
};
static const char *const schedule_names[] = {
    [PCMUP_PC_SCHEDULE_SEQUENTIAL] = "sequential",
    [PCMUP_PC_SCHEDULE_SIMULTANEOUS] = "simultaneous",
};
static const char *const init_names[] = {
    [PCMUP_PC_INIT_FORWARD] = "forward", [PCMUP_PC_INIT_ZERO] = "zero",
    [PCMUP_PC_INIT_RANDOM] = "random",
};
static const char *const timing_names[] = {
    [PCMUP_PC_TIMING_END] = "end", [PCMUP_PC_TIMING_CACHE] = "cache",
};
static const char *const last_layer_names[] = {
    [PCMUP_PC_LAST_LAYER_A] = "a", [PCMUP_PC_LAST_LAYER_B] = "b",
};
static const char *const gnt_variant_names[] = {
    [PCMUP_GNT_BATCH] = "batch", [PCMUP_GNT_SAMPLE] = "sample",
};
static const char *const feedback_names[] = {
    [PCMUP_TP_FEEDBACK_CLOSED] = "closed", [PCMUP_TP_FEEDBACK_TRAINED] = "trained",
};
/* Trained feedback has no relu: psi must be invertible for its targets
 * (docs/tp.md). */
static const char *const fb_activation_names[] = {
    [PCMUP_ACT_TANH] = "tanh", [PCMUP_ACT_IDENTITY] = "identity",
};

/* In increasing key order: pcmup_setting_at enumerates it as it stands.
 * Columns: key, name, description, group, default, lo, hi, open ends,
 * flags, rules, value names. */
static const setting_info table[] = {
    /* eta = 0.05: on raw FashionMNIST pixels (3-layer tanh, batch 64) one
     * epoch of BP diverges from about 0.085 up, and 0.05 is as good as the
     * best measured values (0.05-0.08), with a margin, at every width from
     * 64 to 2048 under muP. PC's test accuracy is flat from 0.03 to 0.085
     * (gammabar_L 0 and -1) and it diverges from 0.1 or 0.14; TP and DTP
     * learn at it; GNT diverges at it and wants about 0.01 (docs/gnt.md). */
    {PCMUP_SET_LR, "lr", "base learning rate eta (layer l: eta r^-c_l)", PCMUP_GROUP_COMMON,
     0.05, 0.0, 1e6, 0, 0, ALL_RULES, {NULL, 0}},
    {PCMUP_SET_LOSS, "loss", "loss: mean squared error or softmax cross-entropy",
     PCMUP_GROUP_COMMON, PCMUP_LOSS_MSE, 0, 0, 0, 0, ALL_RULES, VALUES(loss_names)},
    {PCMUP_SET_MSE_CENTRED, "mse_centred",
     "MSE targets: the centred one-hot e_k - 1/C (1) or the one-hot e_k (0)", PCMUP_GROUP_COMMON,
     1.0, 0.0, 1.0, 0, WHOLE, ALL_RULES, {NULL, 0}},
    {PCMUP_SET_MOMENTUM, "momentum", "heavy-ball momentum", PCMUP_GROUP_COMMON, 0.0, 0.0, 1.0,
     HI_OPEN, 0, ALL_RULES, {NULL, 0}},
    {PCMUP_SET_WEIGHT_DECAY, "weight_decay", "L2 coefficient added to the gradient",
     PCMUP_GROUP_COMMON, 0.0, 0.0, 1e6, 0, 0, ALL_RULES, {NULL, 0}},
    {PCMUP_SET_RECORD_UPDATES, "record_updates",
     "keep each step's weight update for pcmup_algo_last_update (1) or not (0)", PCMUP_GROUP_COMMON, 0.0,
     0.0, 1.0, 0, WHOLE, ALL_RULES, {NULL, 0}},

    {PCMUP_SET_PC_GAMMA_HIDDEN, "pc_gamma_hidden", "precision gamma_l of the hidden layers",
     PCMUP_GROUP_PC, 1.0, 0.0, 1e6, LO_OPEN, PER_LAYER, R_PC, {NULL, 0}},
    {PCMUP_SET_PC_GAMMA_OUT_BASE, "pc_gamma_out_base",
     "output precision gamma'_L at the base width", PCMUP_GROUP_PC, 1.0, 0.0, 1e6, LO_OPEN, 0,
     R_PC, {NULL, 0}},
    {PCMUP_SET_PC_KAPPA, "pc_kappa", "inference step kappa_l of the hidden layers",
     PCMUP_GROUP_PC, 1.0, 0.0, 1e3, 0, PER_LAYER, R_PC, {NULL, 0}},
    {PCMUP_SET_PC_ITERATIONS, "pc_iterations",
     "inference iterations T (the most, with a tolerance)", PCMUP_GROUP_PC, 1.0, 1.0, 1e6, 0,
     WHOLE, R_PC, {NULL, 0}},
    {PCMUP_SET_PC_SCHEDULE, "pc_schedule",
     "inference: sweeps from the top layer down, or every layer from one snapshot",
     PCMUP_GROUP_PC, PCMUP_PC_SCHEDULE_SEQUENTIAL, 0, 0, 0, 0, R_PC, VALUES(schedule_names)},
    {PCMUP_SET_PC_INIT, "pc_init",
     "initial states: feedforward pre-activations, zero, or random", PCMUP_GROUP_PC,
     PCMUP_PC_INIT_FORWARD, 0, 0, 0, 0, R_PC, VALUES(init_names)},
    {PCMUP_SET_PC_INIT_STD, "pc_init_std", "std of random initial states", PCMUP_GROUP_PC, 1.0,
     0.0, 1e6, 0, 0, R_PC, {NULL, 0}},
    {PCMUP_SET_PC_FPA, "pc_fpa", "the fixed prediction assumption (1) or not (0)", PCMUP_GROUP_PC, 0.0,
     0.0, 1.0, 0, WHOLE, R_PC, {NULL, 0}},
    {PCMUP_SET_PC_TIMING, "pc_timing",
     "errors of the weight update: from the final states, or cached after each layer's last "
     "update (sequential only)",
     PCMUP_GROUP_PC, PCMUP_PC_TIMING_END, 0, 0, 0, 0, R_PC, VALUES(timing_names)},
    {PCMUP_SET_PC_LAST_LAYER, "pc_last_layer",
     "output layer update: gamma_L absorbed into its learning rate (a), or the energy gradient (b)",
     PCMUP_GROUP_PC, PCMUP_PC_LAST_LAYER_A, 0, 0, 0, 0, R_PC, VALUES(last_layer_names)},
    {PCMUP_SET_PC_TOLERANCE, "pc_tolerance",
     "stop inference below this relative energy decrease; 0: never", PCMUP_GROUP_PC, 0.0, 0.0,
     1.0, 0, 0, R_PC, {NULL, 0}},

    {PCMUP_SET_GNT_POWER, "gnt_power", "power e_B of the preconditioner: 0 is SGD, 1 is GNT",
     PCMUP_GROUP_GNT, 1.0, 0.0, 1.0, 0, 0, R_GNT, {NULL, 0}},
    /* rho' = 1e-2: the middle of the grid {1e-3, 1e-2, 1e-1} docs/gnt.md
     * sweeps. */
    {PCMUP_SET_GNT_DAMPING, "gnt_damping", "damping rho' at the base width", PCMUP_GROUP_GNT,
     1e-2, 0.0, 1e6, LO_OPEN, 0, R_GNT, {NULL, 0}},
    {PCMUP_SET_GNT_VARIANT, "gnt_variant",
     "one Gauss-Newton matrix per batch, or one per sample (Gauss-Newton targets)",
     PCMUP_GROUP_GNT, PCMUP_GNT_BATCH, 0, 0, 0, 0, R_GNT, VALUES(gnt_variant_names)},
    {PCMUP_SET_GNT_OUTPUT, "gnt_output",
     "precondition the output layer too (1), or give it the plain gradient step (0)", PCMUP_GROUP_GNT,
     1.0, 0.0, 1.0, 0, WHOLE, R_GNT, {NULL, 0}},

    {PCMUP_SET_TP_BETA, "tp_beta", "output target step beta: t_L = f - beta dloss/df",
     PCMUP_GROUP_TP, 1.0, 0.0, 1e6, LO_OPEN, 0, R_TP, {NULL, 0}},
    {PCMUP_SET_TP_FEEDBACK, "tp_feedback",
     "feedback: ridge regression on each batch, or trained feedback weights",
     PCMUP_GROUP_TP, PCMUP_TP_FEEDBACK_CLOSED, 0, 0, 0, 0, R_TP, VALUES(feedback_names)},
    {PCMUP_SET_TP_FB_DAMPING, "tp_fb_damping",
     "hidden feedback ridge damping mu' at the base width", PCMUP_GROUP_TP, 1.0, 0.0, 1e6,
     LO_OPEN, 0, R_TP, {NULL, 0}},
    {PCMUP_SET_TP_FB_DAMPING_TOP, "tp_fb_damping_top", "top feedback ridge damping mu_L",
     PCMUP_GROUP_TP, 1.0, 0.0, 1e6, LO_OPEN, 0, R_TP, {NULL, 0}},
    {PCMUP_SET_TP_FB_LR, "tp_fb_lr", "trained feedback learning rate eta^V at the base width",
     PCMUP_GROUP_TP, 0.05, 0.0, 1e6, 0, 0, R_TP, {NULL, 0}},
    {PCMUP_SET_TP_FB_STEPS, "tp_fb_steps", "trained feedback SGD steps K_fb per step",
     PCMUP_GROUP_TP, 1.0, 1.0, 1e4, 0, WHOLE, R_TP, {NULL, 0}},
    {PCMUP_SET_TP_FB_NOISE, "tp_fb_noise", "std sigma of the noise when training feedback",
     PCMUP_GROUP_TP, 0.1, 0.0, 1e3, 0, 0, R_TP, {NULL, 0}},
    {PCMUP_SET_TP_FB_ACTIVATION, "tp_fb_activation", "trained feedback nonlinearity psi",
     PCMUP_GROUP_TP, PCMUP_ACT_IDENTITY, 0, 0, 0, 0, R_TP, VALUES(fb_activation_names)},
    {PCMUP_SET_TP_FB_INIT_STD, "tp_fb_init_std",
     "trained feedback weights start as N(0, sigma_V^2 / M_l): sigma_V", PCMUP_GROUP_TP, 1.0,
     0.0, 1e6, 0, 0, R_TP, {NULL, 0}},
};

#define N_SETTINGS (sizeof table / sizeof table[0])

/* ---- the table ----------------------------------------------------------- */

/* The key's entry, or NULL for a key no setting has. */
static const setting_info *info_of(pcmup_setting key)
{
    for (size_t i = 0; i < N_SETTINGS; i++)
        if (table[i].key == key)
            return &table[i];
    return NULL;
}

static pcmup_status find_info(pcmup_setting key, const setting_info **info, const char *func)
{
    *info = info_of(key);
    if (!*info)
        return pcmup__fail(PCMUP_ERR_INVALID, func, "unknown setting %d", (int)key);
    return PCMUP_OK;
}

static pcmup_bounds bounds_of(const setting_info *s)
{
    pcmup_bounds b = {PCMUP_OK, s->lo, s->hi, (s->open & LO_OPEN) != 0,
                      (s->open & HI_OPEN) != 0, (s->flags & WHOLE) != 0};
    if (s->values.names) {
        size_t first = 0;
        while (!s->values.names[first])
            first++;
        b.lo = (double)first;
        b.hi = (double)(s->values.count - 1);
        b.integral = 1;
    }
    return b;
}

/* The value's name; NULL for a value the setting refuses, or any value
 * of a setting without names. */
static const char *name_of_value(const setting_info *s, double value)
{
    if (!s->values.names || !(value >= 0.0) || value >= (double)s->values.count ||
        value != floor(value))
        return NULL;
    return s->values.names[(size_t)value];
}

/* The one check of a value, wherever a setting is set. */
static pcmup_status check_value(const setting_info *s, double value, const char *func)
{
    const pcmup_bounds b = bounds_of(s);
    int above_lo = b.lo_open ? value > b.lo : value >= b.lo;
    int below_hi = b.hi_open ? value < b.hi : value <= b.hi;
    if (!isfinite(value) || !above_lo || !below_hi)
        return pcmup__fail(PCMUP_ERR_INVALID, func, "%s = %g is outside %c%g, %g%c", s->name,
                           value, b.lo_open ? '(' : '[', b.lo, b.hi, b.hi_open ? ')' : ']');
    if (b.integral && value != floor(value))
        return pcmup__fail(PCMUP_ERR_INVALID, func, "%s = %g is not a whole number", s->name,
                           value);
    if (s->values.names && !name_of_value(s, value))
        return pcmup__fail(PCMUP_ERR_INVALID, func, "%s = %g names none of its values",
                           s->name, value);
    return PCMUP_OK;
}

pcmup_status pcmup__setting_check(pcmup_setting key, double value, const char *func)
{
    const setting_info *s;
    PCMUP_TRY(find_info(key, &s, func));
    return check_value(s, value, func);
}

/* The key's entry if `kind` accepts it. */
static pcmup_status check_key(pcmup_rule kind, pcmup_setting key, const setting_info **info,
                              const char *func)
{
    PCMUP_TRY(find_info(key, info, func));
    if (!((*info)->rules & RULE(kind))) {
        const pcmup_rule_ops *rule = NULL;
        PCMUP_TRY(pcmup__algo_rule_of(kind, &rule, func));
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, func, "%s does not use the %s setting",
                           rule->name, (*info)->name);
    }
    return PCMUP_OK;
}

/* ---- what the library knows about each setting --------------------------- */

size_t pcmup_setting_count(void)
{
    return N_SETTINGS;
}

pcmup_status pcmup_setting_at(size_t index, pcmup_setting *key)
{
    PCMUP_CHECK_NULL(key);
    if (index >= N_SETTINGS)
        return pcmup__fail(PCMUP_ERR_INVALID, __func__, "index %zu is not below the count %zu",
                           index, (size_t)N_SETTINGS);
    *key = table[index].key;
    return PCMUP_OK;
}

pcmup_status pcmup_setting_name(pcmup_setting key, const char **name)
{
    PCMUP_CHECK_NULL(name);
    const setting_info *s;
    PCMUP_TRY(find_info(key, &s, __func__));
    *name = s->name;
    return PCMUP_OK;
}

pcmup_status pcmup_setting_find(const char *name, pcmup_setting *key)
{
    PCMUP_CHECK_NULL(name);
    PCMUP_CHECK_NULL(key);
    for (size_t i = 0; i < N_SETTINGS; i++) {
        if (strcmp(table[i].name, name) == 0) {
            *key = table[i].key;
            return PCMUP_OK;
        }
    }
    return pcmup__fail(PCMUP_ERR_INVALID, __func__, "no setting is named \"%s\"", name);
}

pcmup_status pcmup_setting_description(pcmup_setting key, const char **text)
{
    PCMUP_CHECK_NULL(text);
    const setting_info *s;
    PCMUP_TRY(find_info(key, &s, __func__));
    *text = s->description;
    return PCMUP_OK;
}

pcmup_status pcmup_setting_group_of(pcmup_setting key, pcmup_setting_group *group)
{
    PCMUP_CHECK_NULL(group);
    const setting_info *s;
    PCMUP_TRY(find_info(key, &s, __func__));
    *group = s->group;
    return PCMUP_OK;
}

pcmup_status pcmup_setting_default(pcmup_setting key, double *value)
{
    PCMUP_CHECK_NULL(value);
    const setting_info *s;
    PCMUP_TRY(find_info(key, &s, __func__));
    *value = s->fallback;
    return PCMUP_OK;
}

pcmup_bounds pcmup_setting_bounds(pcmup_setting key)
{
    const setting_info *s;
    pcmup_status status = find_info(key, &s, __func__);
    if (status != PCMUP_OK) {
        pcmup_bounds none = {status, 0.0, 0.0, 0, 0, 0};
        return none;
    }
    return bounds_of(s);
}

pcmup_status pcmup_setting_per_layer(pcmup_setting key, int *per_layer)
{
    PCMUP_CHECK_NULL(per_layer);
    const setting_info *s;
    PCMUP_TRY(find_info(key, &s, __func__));
    *per_layer = (s->flags & PER_LAYER) != 0;
    return PCMUP_OK;
}

pcmup_status pcmup_setting_accepts(pcmup_setting key, pcmup_rule rule, int *accepts)
{
    PCMUP_CHECK_NULL(accepts);
    const pcmup_rule_ops *ops = NULL;
    const setting_info *s;
    PCMUP_TRY(pcmup__algo_rule_of(rule, &ops, __func__));
    PCMUP_TRY(find_info(key, &s, __func__));
    *accepts = (s->rules & RULE(rule)) != 0;
    return PCMUP_OK;
}

/* The entry of an enum-valued setting. */
static pcmup_status find_named(pcmup_setting key, const setting_info **info, const char *func)
{
    PCMUP_TRY(find_info(key, info, func));
    if (!(*info)->values.names)
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, func, "the %s setting has no named values",
                           (*info)->name);
    return PCMUP_OK;
}

pcmup_status pcmup_setting_value_name(pcmup_setting key, double value, const char **name)
{
    PCMUP_CHECK_NULL(name);
    const setting_info *s;
    PCMUP_TRY(find_named(key, &s, __func__));
    const char *found = name_of_value(s, value);
    if (!found)
        return pcmup__fail(PCMUP_ERR_INVALID, __func__, "%s has no value %g", s->name, value);
    *name = found;
    return PCMUP_OK;
}

pcmup_status pcmup_setting_value_find(pcmup_setting key, const char *name, double *value)
{
    PCMUP_CHECK_NULL(name);
    PCMUP_CHECK_NULL(value);
    const setting_info *s;
    PCMUP_TRY(find_named(key, &s, __func__));
    for (size_t v = 0; v < s->values.count; v++) {
        if (s->values.names[v] && strcmp(s->values.names[v], name) == 0) {
            *value = (double)v;
            return PCMUP_OK;
        }
    }
    return pcmup__fail(PCMUP_ERR_INVALID, __func__, "%s has no value named \"%s\"", s->name,
                       name);
}

/* ---- a handle's settings ------------------------------------------------- */

/* Where a per-layer setting's values start in algo->layer_settings: its
 * place among the per-layer settings of the table, times n_layers. */
static double *layer_values(const pcmup_algo *algo, const setting_info *s)
{
    size_t slot = 0;
    for (const setting_info *t = table; t < s; t++)
        slot += (t->flags & PER_LAYER) != 0;
    return algo->layer_settings + slot * algo->net->n_layers;
}

static size_t n_per_layer(void)
{
    size_t n = 0;
    for (size_t i = 0; i < N_SETTINGS; i++)
        n += (table[i].flags & PER_LAYER) != 0;
    return n;
}

/* Stores a checked value: a per-layer setting's on every layer too. */
static void store(pcmup_algo *algo, const setting_info *s, double value)
{
    algo->settings[s->key] = value;
    if (s->flags & PER_LAYER) {
        double *v = layer_values(algo, s);
        for (size_t i = 0; i < algo->net->n_layers; i++)
            v[i] = value;
    }
}

pcmup_status pcmup__settings_init(pcmup_algo *algo, const char *func)
{
    const size_t n = n_per_layer() * algo->net->n_layers;
    algo->layer_settings = pcmup__alloc(&algo->alloc, n ? n : 1, sizeof(double));
    if (!algo->layer_settings)
        return pcmup__fail(PCMUP_ERR_NOMEM, func, "cannot allocate the per-layer settings");
    for (size_t i = 0; i < N_SETTINGS; i++)
        store(algo, &table[i], table[i].fallback);
    return PCMUP_OK;
}

double pcmup__setting_layer(const pcmup_algo *algo, pcmup_setting key, size_t layer)
{
    const setting_info *s = info_of(key);
    assert(s && (s->flags & PER_LAYER) && layer >= 1 && layer <= algo->net->n_layers);
    return layer_values(algo, s)[layer - 1];
}

pcmup_status pcmup_algo_set(pcmup_algo *algo, pcmup_setting key, double value)
{
    PCMUP_CHECK_NULL(algo);
    const setting_info *s;
    PCMUP_TRY(check_key(algo->rule->id, key, &s, __func__));
    PCMUP_TRY(check_value(s, value, __func__));
    store(algo, s, value);
    return PCMUP_OK;
}

pcmup_status pcmup_algo_get(const pcmup_algo *algo, pcmup_setting key, double *value)
{
    PCMUP_CHECK_NULL(algo);
    PCMUP_CHECK_NULL(value);
    const setting_info *s;
    PCMUP_TRY(check_key(algo->rule->id, key, &s, __func__));
    *value = algo->settings[key];
    return PCMUP_OK;
}

/* A per-layer key of this rule, and a hidden layer 1 <= l < L. */
static pcmup_status check_layer_key(const pcmup_algo *algo, size_t layer, pcmup_setting key,
                                    const setting_info **info, const char *func)
{
    PCMUP_TRY(check_key(algo->rule->id, key, info, func));
    if (!((*info)->flags & PER_LAYER))
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, func, "the %s setting is not per layer",
                           (*info)->name);
    if (layer < 1 || layer >= algo->net->n_layers)
        return pcmup__fail(PCMUP_ERR_INVALID, func,
                           "layer %zu is not a hidden layer (1 <= l < %zu)", layer,
                           algo->net->n_layers);
    return PCMUP_OK;
}

pcmup_status pcmup_algo_set_layer(pcmup_algo *algo, size_t layer, pcmup_setting key,
                                  double value)
{
    PCMUP_CHECK_NULL(algo);
    const setting_info *s;
    PCMUP_TRY(check_layer_key(algo, layer, key, &s, __func__));
    PCMUP_TRY(check_value(s, value, __func__));
    layer_values(algo, s)[layer - 1] = value;
    return PCMUP_OK;
}

pcmup_status pcmup_algo_get_layer(const pcmup_algo *algo, size_t layer, pcmup_setting key,
                                  double *value)
{
    PCMUP_CHECK_NULL(algo);
    PCMUP_CHECK_NULL(value);
    const setting_info *s;
    PCMUP_TRY(check_layer_key(algo, layer, key, &s, __func__));
    *value = layer_values(algo, s)[layer - 1];
    return PCMUP_OK;
}

/* Checks every value before storing any, so a failure leaves dst as it
 * was. */
pcmup_status pcmup__settings_copy(pcmup_algo *dst, const pcmup_algo *src, const char *func)
{
    const size_t n_layers = src->net->n_layers;
    if (dst->rule != src->rule || dst->net->n_layers != n_layers)
        return pcmup__fail(PCMUP_ERR_INVALID, func,
                           "settings are copied between algorithms of one rule and depth");
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const setting_info *s = &table[i];
        PCMUP_TRY(check_value(s, src->settings[s->key], func));
        for (size_t l = 0; (s->flags & PER_LAYER) && l + 1 < n_layers; l++)
            PCMUP_TRY(check_value(s, layer_values(src, s)[l], func));
    }
    memcpy(dst->settings, src->settings, sizeof dst->settings);
    memcpy(dst->layer_settings, src->layer_settings,
           n_per_layer() * n_layers * sizeof(double));
    return PCMUP_OK;
}
