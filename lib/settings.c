/* SPDX-License-Identifier: MIT */
/*
 * settings.c -- an algorithm's settings. Each setting is a row
 * (settings.h): the rows every rule accepts are here, each rule's own are
 * in its file, reached through the registry (rules/rule.h). Here: the
 * public functions that answer from those rows by scanning them (there are
 * a few dozen), and the ones that set and read settings on a handle, which
 * all check a value the same way (check_value).
 */
#include "algo.h"

#include <math.h>
#include <string.h>

static const char *const loss_names[] = {
    [PCMUP_LOSS_MSE] = "mse", [PCMUP_LOSS_CE] = "ce",
};

/* The settings every rule accepts, in increasing key order. Columns: key,
 * name, description, group, default, lo, hi, open ends, flags, value
 * names (settings.h). */
static const pcmup_setting_row common[] = {
    /* eta = 0.05: on raw FashionMNIST pixels (3-layer tanh, batch 64) one
     * epoch of BP diverges from about 0.085 up, and 0.05 is as good as the
     * best measured values (0.05-0.08), with a margin, at every width from
     * 64 to 2048 under muP. PC's test accuracy is flat from 0.03 to 0.085
     * (gammabar_L 0 and -1) and it diverges from 0.1 or 0.14; TP and DTP
     * learn at it; GNT diverges at it and wants about 0.01 (docs/gnt.md). */
    {PCMUP_SET_LR, "lr", "base learning rate eta (layer l: eta r^-c_l)", PCMUP_GROUP_COMMON,
     0.05, 0.0, 1e6, 0, 0, {NULL, 0}},
    {PCMUP_SET_LOSS, "loss", "loss: mean squared error or softmax cross-entropy",
     PCMUP_GROUP_COMMON, PCMUP_LOSS_MSE, 0, 0, 0, 0, PCMUP_VALUES(loss_names)},
    {PCMUP_SET_MSE_CENTRED, "mse_centred",
     "MSE targets: the centred one-hot e_k - 1/C (1) or the one-hot e_k (0)", PCMUP_GROUP_COMMON,
     1.0, 0.0, 1.0, 0, PCMUP_WHOLE, {NULL, 0}},
    {PCMUP_SET_MOMENTUM, "momentum", "heavy-ball momentum", PCMUP_GROUP_COMMON, 0.0, 0.0, 1.0,
     PCMUP_HI_OPEN, 0, {NULL, 0}},
    {PCMUP_SET_WEIGHT_DECAY, "weight_decay", "L2 coefficient added to the gradient",
     PCMUP_GROUP_COMMON, 0.0, 0.0, 1e6, 0, 0, {NULL, 0}},
    {PCMUP_SET_RECORD_UPDATES, "record_updates",
     "keep each step's weight update for pcmup_algo_last_update (1) or not (0)", PCMUP_GROUP_COMMON, 0.0,
     0.0, 1.0, 0, PCMUP_WHOLE, {NULL, 0}},
};

#define N_COMMON (sizeof common / sizeof common[0])

/* ---- the tables ---------------------------------------------------------- */

/* The rows of table t: 0 the common rows, id + 1 rule id's own rows,
 * unless a rule before it gives the same rows (TP and DTP share theirs):
 * then, or for a rule without settings, none. */
static const pcmup_setting_row *table_rows(size_t t, size_t *n)
{
    *n = N_COMMON;
    if (t == 0)
        return common;
    *n = 0;
    const pcmup_rule_ops *rule = pcmup__rule_at(t - 1);
    if (!rule || !rule->settings)
        return NULL;
    for (size_t before = 0; before + 1 < t; before++) {
        const pcmup_rule_ops *other = pcmup__rule_at(before);
        if (other && other->settings == rule->settings)
            return NULL;
    }
    *n = rule->n_settings;
    return rule->settings;
}

/* A walk over every row, each once: the common rows, then each rule's
 * (registry order). Start it at {0}. */
typedef struct {
    size_t next_table;
    const pcmup_setting_row *rows;  /* the table being walked, n rows */
    size_t n, row;
} row_walk;

static const pcmup_setting_row *next_row(row_walk *w)
{
    while (w->row == w->n) {
        if (w->next_table > pcmup__rule_count())
            return NULL;
        w->rows = table_rows(w->next_table++, &w->n);
        w->row = 0;
    }
    return &w->rows[w->row++];
}

/* The key's row, or NULL for a key no setting has. */
static const pcmup_setting_row *info_of(pcmup_setting key)
{
    row_walk w = {0};
    for (const pcmup_setting_row *s; (s = next_row(&w));)
        if (s->key == key)
            return s;
    return NULL;
}

/* How many rows have a key below `key`: the place of key's row in
 * increasing key order. */
static size_t rows_below(pcmup_setting key)
{
    size_t n = 0;
    row_walk w = {0};
    for (const pcmup_setting_row *s; (s = next_row(&w));)
        n += s->key < key;
    return n;
}

static size_t n_rows(void)
{
    size_t n = 0;
    row_walk w = {0};
    while (next_row(&w))
        n++;
    return n;
}

/* Row i of the rows `rule` accepts: the common rows, then its own; NULL
 * past the last. */
static const pcmup_setting_row *rule_row(const pcmup_rule_ops *rule, size_t i)
{
    if (i < N_COMMON)
        return &common[i];
    return i - N_COMMON < rule->n_settings ? &rule->settings[i - N_COMMON] : NULL;
}

/* The row of `key` among the rows `rule` accepts, or NULL. */
static const pcmup_setting_row *rule_row_of(const pcmup_rule_ops *rule, pcmup_setting key)
{
    const pcmup_setting_row *t;
    for (size_t i = 0; (t = rule_row(rule, i)); i++)
        if (t->key == key)
            return t;
    return NULL;
}

/* Whether `rule` accepts the row. */
static int rule_accepts(const pcmup_rule_ops *rule, const pcmup_setting_row *s)
{
    return rule_row_of(rule, s->key) == s;
}

static pcmup_status find_info(pcmup_setting key, const pcmup_setting_row **info,
                              const char *func)
{
    *info = info_of(key);
    if (!*info)
        return pcmup__fail(PCMUP_ERR_INVALID, func, "unknown setting %d", (int)key);
    return PCMUP_OK;
}

static pcmup_bounds bounds_of(const pcmup_setting_row *s)
{
    pcmup_bounds b = {PCMUP_OK, s->lo, s->hi, (s->open & PCMUP_LO_OPEN) != 0,
                      (s->open & PCMUP_HI_OPEN) != 0, (s->flags & PCMUP_WHOLE) != 0};
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
static const char *name_of_value(const pcmup_setting_row *s, double value)
{
    if (!s->values.names || !(value >= 0.0) || value >= (double)s->values.count ||
        value != floor(value))
        return NULL;
    return s->values.names[(size_t)value];
}

/* The one check of a value, wherever a setting is set. */
static pcmup_status check_value(const pcmup_setting_row *s, double value, const char *func)
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
    const pcmup_setting_row *s;
    PCMUP_TRY(find_info(key, &s, func));
    return check_value(s, value, func);
}

/* The key's row if `rule` accepts it. */
static pcmup_status check_key(const pcmup_rule_ops *rule, pcmup_setting key,
                              const pcmup_setting_row **info, const char *func)
{
    PCMUP_TRY(find_info(key, info, func));
    if (!rule_accepts(rule, *info))
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, func, "%s does not use the %s setting",
                           rule->name, (*info)->name);
    return PCMUP_OK;
}

/* ---- what the library knows about each setting --------------------------- */

size_t pcmup_setting_count(void)
{
    return n_rows();
}

pcmup_status pcmup_setting_at(size_t index, pcmup_setting *key)
{
    PCMUP_CHECK_NULL(key);
    const size_t count = n_rows();
    if (index >= count)
        return pcmup__fail(PCMUP_ERR_INVALID, __func__, "index %zu is not below the count %zu",
                           index, count);
    row_walk w = {0};
    const pcmup_setting_row *s = next_row(&w);
    while (rows_below(s->key) != index)
        s = next_row(&w);
    *key = s->key;
    return PCMUP_OK;
}

pcmup_status pcmup_setting_name(pcmup_setting key, const char **name)
{
    PCMUP_CHECK_NULL(name);
    const pcmup_setting_row *s;
    PCMUP_TRY(find_info(key, &s, __func__));
    *name = s->name;
    return PCMUP_OK;
}

pcmup_status pcmup_setting_find(const char *name, pcmup_setting *key)
{
    PCMUP_CHECK_NULL(name);
    PCMUP_CHECK_NULL(key);
    row_walk w = {0};
    for (const pcmup_setting_row *s; (s = next_row(&w));) {
        if (strcmp(s->name, name) == 0) {
            *key = s->key;
            return PCMUP_OK;
        }
    }
    return pcmup__fail(PCMUP_ERR_INVALID, __func__, "no setting is named \"%s\"", name);
}

pcmup_status pcmup_setting_description(pcmup_setting key, const char **text)
{
    PCMUP_CHECK_NULL(text);
    const pcmup_setting_row *s;
    PCMUP_TRY(find_info(key, &s, __func__));
    *text = s->description;
    return PCMUP_OK;
}

pcmup_status pcmup_setting_group_of(pcmup_setting key, pcmup_setting_group *group)
{
    PCMUP_CHECK_NULL(group);
    const pcmup_setting_row *s;
    PCMUP_TRY(find_info(key, &s, __func__));
    *group = s->group;
    return PCMUP_OK;
}

pcmup_status pcmup_setting_default(pcmup_setting key, double *value)
{
    PCMUP_CHECK_NULL(value);
    const pcmup_setting_row *s;
    PCMUP_TRY(find_info(key, &s, __func__));
    *value = s->fallback;
    return PCMUP_OK;
}

pcmup_bounds pcmup_setting_bounds(pcmup_setting key)
{
    const pcmup_setting_row *s;
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
    const pcmup_setting_row *s;
    PCMUP_TRY(find_info(key, &s, __func__));
    *per_layer = (s->flags & PCMUP_PER_LAYER) != 0;
    return PCMUP_OK;
}

pcmup_status pcmup_setting_accepts(pcmup_setting key, pcmup_rule rule, int *accepts)
{
    PCMUP_CHECK_NULL(accepts);
    const pcmup_rule_ops *ops = NULL;
    const pcmup_setting_row *s;
    PCMUP_TRY(pcmup__algo_rule_of(rule, &ops, __func__));
    PCMUP_TRY(find_info(key, &s, __func__));
    *accepts = rule_accepts(ops, s);
    return PCMUP_OK;
}

/* The entry of an enum-valued setting. */
static pcmup_status find_named(pcmup_setting key, const pcmup_setting_row **info, const char *func)
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
    const pcmup_setting_row *s;
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
    const pcmup_setting_row *s;
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

/* How many per-layer rows of the algorithm's rule have a key below `key`.
 * algo->layer_settings holds n_layers values for each per-layer setting
 * the rule accepts, in key order: the rule's hot loops read them
 * (pcmup__setting_layer), so this scans only the rule's rows. */
static size_t per_layer_below(const pcmup_algo *algo, pcmup_setting key)
{
    size_t n = 0;
    const pcmup_setting_row *t;
    for (size_t i = 0; (t = rule_row(algo->rule, i)); i++)
        n += t->key < key && (t->flags & PCMUP_PER_LAYER);
    return n;
}

/* Where a per-layer setting's values start in algo->layer_settings. */
static double *layer_values(const pcmup_algo *algo, const pcmup_setting_row *s)
{
    return algo->layer_settings + per_layer_below(algo, s->key) * algo->net->n_layers;
}

static size_t n_per_layer(const pcmup_algo *algo)
{
    return per_layer_below(algo, (pcmup_setting)PCMUP_SETTINGS_CAP);
}

/* Stores a checked value: a per-layer setting's on every layer too. */
static void store(pcmup_algo *algo, const pcmup_setting_row *s, double value)
{
    assert((unsigned)s->key < PCMUP_SETTINGS_CAP);
    algo->settings[s->key] = value;
    if (s->flags & PCMUP_PER_LAYER) {
        double *v = layer_values(algo, s);
        for (size_t i = 0; i < algo->net->n_layers; i++)
            v[i] = value;
    }
}

pcmup_status pcmup__settings_init(pcmup_algo *algo, const char *func)
{
    const size_t n = n_per_layer(algo) * algo->net->n_layers;
    algo->layer_settings = pcmup__alloc(&algo->alloc, n ? n : 1, sizeof(double));
    if (!algo->layer_settings)
        return pcmup__fail(PCMUP_ERR_NOMEM, func, "cannot allocate the per-layer settings");
    const pcmup_setting_row *s;
    for (size_t i = 0; (s = rule_row(algo->rule, i)); i++)
        store(algo, s, s->fallback);
    return PCMUP_OK;
}

double pcmup__setting_layer(const pcmup_algo *algo, pcmup_setting key, size_t layer)
{
    const pcmup_setting_row *s = rule_row_of(algo->rule, key);
    assert(s && (s->flags & PCMUP_PER_LAYER) && layer >= 1 && layer <= algo->net->n_layers);
    return layer_values(algo, s)[layer - 1];
}

pcmup_status pcmup_algo_set(pcmup_algo *algo, pcmup_setting key, double value)
{
    PCMUP_CHECK_NULL(algo);
    const pcmup_setting_row *s;
    PCMUP_TRY(check_key(algo->rule, key, &s, __func__));
    PCMUP_TRY(check_value(s, value, __func__));
    store(algo, s, value);
    return PCMUP_OK;
}

pcmup_status pcmup_algo_get(const pcmup_algo *algo, pcmup_setting key, double *value)
{
    PCMUP_CHECK_NULL(algo);
    PCMUP_CHECK_NULL(value);
    const pcmup_setting_row *s;
    PCMUP_TRY(check_key(algo->rule, key, &s, __func__));
    *value = algo->settings[key];
    return PCMUP_OK;
}

/* A per-layer key of this rule, and a hidden layer 1 <= l < L. */
static pcmup_status check_layer_key(const pcmup_algo *algo, size_t layer, pcmup_setting key,
                                    const pcmup_setting_row **info, const char *func)
{
    PCMUP_TRY(check_key(algo->rule, key, info, func));
    if (!((*info)->flags & PCMUP_PER_LAYER))
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
    const pcmup_setting_row *s;
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
    const pcmup_setting_row *s;
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
    const pcmup_setting_row *s;
    for (size_t i = 0; (s = rule_row(src->rule, i)); i++) {
        PCMUP_TRY(check_value(s, src->settings[s->key], func));
        for (size_t l = 0; (s->flags & PCMUP_PER_LAYER) && l + 1 < n_layers; l++)
            PCMUP_TRY(check_value(s, layer_values(src, s)[l], func));
    }
    memcpy(dst->settings, src->settings, sizeof dst->settings);
    memcpy(dst->layer_settings, src->layer_settings,
           n_per_layer(src) * n_layers * sizeof(double));
    return PCMUP_OK;
}
