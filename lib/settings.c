/*
 * settings.c -- an algorithm's settings: the table of every setting (name,
 * default, bounds, per layer or not), and the functions that set, get and
 * bound them.
 */
#include "algo.h"

#include <math.h>

typedef struct {
    const char *name;
    double fallback;   /* the default */
    double lo, hi;
    int lo_open;       /* lo itself is excluded */
    int hi_open;       /* hi itself is excluded */
    int integral;      /* enum or flag: whole numbers only */
    int per_layer;     /* one value per hidden layer */
} setting_info;

static const setting_info settings_table[PCMUP_N_SETTINGS] = {
    [PCMUP_SET_LR] = {"learning rate", 0.05, 0.0, 1e6, 0, 0, 0, 0},
    [PCMUP_SET_LOSS] = {"loss", PCMUP_LOSS_MSE, PCMUP_LOSS_MSE, PCMUP_LOSS_CE, 0, 0, 1, 0},
    [PCMUP_SET_MSE_CENTRED] = {"MSE centring", 1.0, 0.0, 1.0, 0, 0, 1, 0},
    [PCMUP_SET_MOMENTUM] = {"momentum", 0.0, 0.0, 1.0, 0, 1, 0, 0},
    [PCMUP_SET_WEIGHT_DECAY] = {"weight decay", 0.0, 0.0, 1e6, 0, 0, 0, 0},
    [PCMUP_SET_RECORD_UPDATES] = {"update recording", 0.0, 0.0, 1.0, 0, 0, 1, 0},
    [PCMUP_SET_PC_GAMMA_HIDDEN] = {"hidden precision gamma_l", 1.0, 0.0, 1e6, 1, 0, 0, 1},
    [PCMUP_SET_PC_GAMMA_OUT_BASE] = {"output precision gamma'_L", 1.0, 0.0, 1e6, 1, 0, 0, 0},
    [PCMUP_SET_PC_KAPPA] = {"inference step kappa_l", 1.0, 0.0, 1e3, 0, 0, 0, 1},
    [PCMUP_SET_PC_ITERATIONS] = {"inference iterations T", 1.0, 1.0, 1e6, 0, 0, 1, 0},
    [PCMUP_SET_PC_SCHEDULE] = {"schedule", PCMUP_PC_SCHEDULE_SEQUENTIAL, PCMUP_PC_SCHEDULE_SEQUENTIAL,
                            PCMUP_PC_SCHEDULE_SIMULTANEOUS, 0, 0, 1, 0},
    [PCMUP_SET_PC_INIT] = {"state initialisation", PCMUP_PC_INIT_FORWARD, PCMUP_PC_INIT_FORWARD,
                        PCMUP_PC_INIT_RANDOM, 0, 0, 1, 0},
    [PCMUP_SET_PC_INIT_STD] = {"random init std", 1.0, 0.0, 1e6, 0, 0, 0, 0},
    [PCMUP_SET_PC_FPA] = {"fixed prediction assumption", 0.0, 0.0, 1.0, 0, 0, 1, 0},
    [PCMUP_SET_PC_TIMING] = {"error timing", PCMUP_PC_TIMING_END, PCMUP_PC_TIMING_END,
                          PCMUP_PC_TIMING_CACHE, 0, 0, 1, 0},
    [PCMUP_SET_PC_LAST_LAYER] = {"last-layer convention", PCMUP_PC_LAST_LAYER_A, PCMUP_PC_LAST_LAYER_A,
                              PCMUP_PC_LAST_LAYER_B, 0, 0, 1, 0},
    [PCMUP_SET_PC_TOLERANCE] = {"inference tolerance", 0.0, 0.0, 1.0, 0, 0, 0, 0},
    /* ---- Gauss-Newton target ---- */
    [PCMUP_SET_GNT_POWER] = {"GNT power e_B", 1.0, 0.0, 1.0, 0, 0, 0, 0},
    /* rho' = 1e-2: the middle of paper-spec 6.2's grid {1e-3, 1e-2, 1e-1}. */
    [PCMUP_SET_GNT_DAMPING] = {"damping rho'", 1e-2, 0.0, 1e6, 1, 0, 0, 0},
    [PCMUP_SET_GNT_VARIANT] = {"GNT variant", PCMUP_GNT_BATCH, PCMUP_GNT_BATCH,
                               PCMUP_GNT_SAMPLE, 0, 0, 1, 0},
    [PCMUP_SET_GNT_OUTPUT] = {"output-layer preconditioning", 1.0, 0.0, 1.0, 0, 0, 1, 0},
    /* ---- end Gauss-Newton target ---- */
    /* ---- target propagation (paper-spec 4.1, 4.4; docs/tp.md) ---- */
    [PCMUP_SET_TP_BETA] = {"output target step beta", 1.0, 0.0, 1e6, 1, 0, 0, 0},
    [PCMUP_SET_TP_FEEDBACK] = {"feedback", PCMUP_TP_FEEDBACK_CLOSED, PCMUP_TP_FEEDBACK_CLOSED,
                            PCMUP_TP_FEEDBACK_TRAINED, 0, 0, 1, 0},
    [PCMUP_SET_TP_FB_DAMPING] = {"feedback damping mu'", 1.0, 0.0, 1e6, 1, 0, 0, 0},
    [PCMUP_SET_TP_FB_DAMPING_TOP] = {"top feedback damping mu_L", 1.0, 0.0, 1e6, 1, 0, 0, 0},
    [PCMUP_SET_TP_FB_LR] = {"feedback learning rate", 0.05, 0.0, 1e6, 0, 0, 0, 0},
    [PCMUP_SET_TP_FB_STEPS] = {"feedback iterations K_fb", 1.0, 1.0, 1e4, 0, 0, 1, 0},
    [PCMUP_SET_TP_FB_NOISE] = {"feedback noise sigma", 0.1, 0.0, 1e3, 0, 0, 0, 0},
    [PCMUP_SET_TP_FB_ACTIVATION] = {"feedback activation psi", PCMUP_ACT_IDENTITY, PCMUP_ACT_TANH,
                                 PCMUP_ACT_IDENTITY, 0, 0, 1, 0},
    [PCMUP_SET_TP_FB_INIT_STD] = {"feedback init std sigma_V", 1.0, 0.0, 1e6, 0, 0, 0, 0},
};

static pcmup_status check_key(const pcmup_rule_ops *rule, pcmup_setting key,
                              const char *func)
{
    /* A gap in the table is a value no rule of this build knows. */
    if ((unsigned)key >= PCMUP_N_SETTINGS || !settings_table[key].name)
        return pcmup__fail(PCMUP_ERR_INVALID, func, "unknown setting %d", (int)key);
    if (!(rule->settings_mask & PCMUP_BIT(key)))
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, func, "%s does not use the %s setting",
                           rule->name, settings_table[key].name);
    return PCMUP_OK;
}

void pcmup__settings_init(pcmup_algo *algo)
{
    for (int k = 0; k < PCMUP_N_SETTINGS; k++)
        algo->settings[k] = settings_table[k].fallback;
}

void pcmup__settings_init_layers(pcmup_algo *algo)
{
    for (size_t i = 0; i < algo->net->n_layers; i++) {
        algo->layer_gamma[i] = settings_table[PCMUP_SET_PC_GAMMA_HIDDEN].fallback;
        algo->layer_kappa[i] = settings_table[PCMUP_SET_PC_KAPPA].fallback;
    }
}

static pcmup_status check_value(pcmup_setting key, double value, const char *func)
{
    const setting_info *s = &settings_table[key];
    int above_lo = s->lo_open ? value > s->lo : value >= s->lo;
    int below_hi = s->hi_open ? value < s->hi : value <= s->hi;
    if (!isfinite(value) || !above_lo || !below_hi)
        return pcmup__fail(PCMUP_ERR_INVALID, func, "%s = %g is outside %c%g, %g%c", s->name,
                           value, s->lo_open ? '(' : '[', s->lo, s->hi, s->hi_open ? ')' : ']');
    if (s->integral && value != floor(value))
        return pcmup__fail(PCMUP_ERR_INVALID, func, "%s = %g is not a whole number", s->name,
                           value);
    /* ---- target propagation: psi is identity or tanh, not relu ---- */
    if (key == PCMUP_SET_TP_FB_ACTIVATION && value == PCMUP_ACT_RELU)
        return pcmup__fail(PCMUP_ERR_INVALID, func,
                           "%s must be PCMUP_ACT_IDENTITY or PCMUP_ACT_TANH, not relu", s->name);
    return PCMUP_OK;
}

static double *layer_slot(const pcmup_algo *algo, pcmup_setting key)
{
    return key == PCMUP_SET_PC_GAMMA_HIDDEN ? algo->layer_gamma : algo->layer_kappa;
}

pcmup_status pcmup_algo_set(pcmup_algo *algo, pcmup_setting key, double value)
{
    PCMUP_CHECK_NULL(algo);
    PCMUP_TRY(check_key(algo->rule, key, __func__));
    PCMUP_TRY(check_value(key, value, __func__));
    algo->settings[key] = value;
    if (settings_table[key].per_layer)
        for (size_t i = 0; i < algo->net->n_layers; i++)
            layer_slot(algo, key)[i] = value;
    return PCMUP_OK;
}

/* A per-layer key of this rule, and a hidden layer 1 <= l < L. */
static pcmup_status check_layer_key(const pcmup_algo *algo, size_t layer, pcmup_setting key,
                                    const char *func)
{
    PCMUP_TRY(check_key(algo->rule, key, func));
    if (!settings_table[key].per_layer)
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, func, "the %s setting is not per layer",
                           settings_table[key].name);
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
    PCMUP_TRY(check_layer_key(algo, layer, key, __func__));
    PCMUP_TRY(check_value(key, value, __func__));
    layer_slot(algo, key)[layer - 1] = value;
    return PCMUP_OK;
}

pcmup_status pcmup_algo_get_layer(const pcmup_algo *algo, size_t layer, pcmup_setting key,
                                  double *value)
{
    PCMUP_CHECK_NULL(algo);
    PCMUP_CHECK_NULL(value);
    PCMUP_TRY(check_layer_key(algo, layer, key, __func__));
    *value = layer_slot(algo, key)[layer - 1];
    return PCMUP_OK;
}

pcmup_status pcmup_algo_get(const pcmup_algo *algo, pcmup_setting key, double *value)
{
    PCMUP_CHECK_NULL(algo);
    PCMUP_CHECK_NULL(value);
    PCMUP_TRY(check_key(algo->rule, key, __func__));
    *value = algo->settings[key];
    return PCMUP_OK;
}

pcmup_status pcmup_algo_bounds(pcmup_rule kind, pcmup_setting key, double *lo,
                               double *hi)
{
    PCMUP_CHECK_NULL(lo);
    PCMUP_CHECK_NULL(hi);
    const pcmup_rule_ops *rule = NULL;
    PCMUP_TRY(pcmup__algo_rule_of(kind, &rule, __func__));
    PCMUP_TRY(check_key(rule, key, __func__));
    *lo = settings_table[key].lo;
    *hi = settings_table[key].hi;
    return PCMUP_OK;
}

void pcmup__settings_copy(pcmup_algo *dst, const pcmup_algo *src)
{
    const uint64_t shared = dst->rule->settings_mask & src->rule->settings_mask;
    const size_t n_layers = dst->net->n_layers;
    assert(n_layers == src->net->n_layers);
    for (int k = 0; k < PCMUP_N_SETTINGS; k++) {
        if (!(shared & PCMUP_BIT(k)))
            continue;
        dst->settings[k] = src->settings[k];
        if (settings_table[k].per_layer)
            for (size_t i = 0; i < n_layers; i++)
                layer_slot(dst, (pcmup_setting)k)[i] = layer_slot(src, (pcmup_setting)k)[i];
    }
}
