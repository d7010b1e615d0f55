/*
 * algo.c -- the algorithm handle: creation, settings, scratch memory, the
 * checks every step shares, and the descent step that applies updates.
 */
#include "algo.h"

#include "loss.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

/* The rules, indexed by pcmup_algo_kind. */
static const pcmup_algo_rule *const rules[] = {
    [PCMUP_ALGO_BP] = &pcmup__rule_bp,
};
#define N_RULES (sizeof rules / sizeof rules[0])

typedef struct {
    const char *name;
    double fallback;   /* the default */
    double lo, hi;
    int hi_open;       /* hi itself is excluded */
    int integral;      /* enum or flag: whole numbers only */
} setting_info;

static const setting_info settings_table[PCMUP_N_SETTINGS] = {
    [PCMUP_SET_LR] = {"learning rate", 0.1, 0.0, 1e6, 0, 0},
    [PCMUP_SET_LOSS] = {"loss", PCMUP_LOSS_MSE, PCMUP_LOSS_MSE, PCMUP_LOSS_CE, 0, 1},
    [PCMUP_SET_MSE_CENTRED] = {"MSE centring", 1.0, 0.0, 1.0, 0, 1},
    [PCMUP_SET_MOMENTUM] = {"momentum", 0.0, 0.0, 1.0, 1, 0},
    [PCMUP_SET_WEIGHT_DECAY] = {"weight decay", 0.0, 0.0, 1e6, 0, 0},
};

static pcmup_status check_kind(pcmup_algo_kind kind, const char *func)
{
    if ((unsigned)kind >= N_RULES || !rules[kind])
        return pcmup__fail(PCMUP_ERR_INVALID, func, "unknown algorithm kind %d", (int)kind);
    return PCMUP_OK;
}

static pcmup_status check_key(const pcmup_algo_rule *rule, pcmup_setting key,
                              const char *func)
{
    if ((unsigned)key >= PCMUP_N_SETTINGS)
        return pcmup__fail(PCMUP_ERR_INVALID, func, "unknown setting %d", (int)key);
    if (!(rule->settings_mask & (1u << key)))
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, func, "%s does not use the %s setting",
                           rule->name, settings_table[key].name);
    return PCMUP_OK;
}

pcmup_status pcmup_algo_create(pcmup_algo **out, pcmup_algo_kind kind, pcmup_net *net,
                               uint64_t seed, const pcmup_allocator *allocator)
{
    PCMUP_CHECK_NULL(out);
    PCMUP_CHECK_NULL(net);
    PCMUP_TRY(check_kind(kind, __func__));
    if (!pcmup__allocator_valid(allocator))
        return pcmup__fail(PCMUP_ERR_INVALID, __func__, "allocator has a NULL function");
    pcmup_allocator alloc;
    pcmup__allocator_init(&alloc, allocator);
    pcmup_algo *algo = pcmup__alloc_zero(&alloc, 1, sizeof *algo);
    if (!algo)
        return pcmup__fail(PCMUP_ERR_NOMEM, __func__, "cannot allocate the algorithm");
    algo->alloc = alloc;
    algo->kind = kind;
    algo->rule = rules[kind];
    algo->net = net;
    pcmup__rng_seed(&algo->rng, seed);
    for (int k = 0; k < PCMUP_N_SETTINGS; k++)
        algo->settings[k] = settings_table[k].fallback;
    *out = algo;
    return PCMUP_OK;
}

void pcmup_algo_free(pcmup_algo *algo)
{
    if (!algo)
        return;
    pcmup_allocator alloc = algo->alloc;
    pcmup__free(&alloc, algo->scratch);
    pcmup__free(&alloc, algo->acts);
    pcmup__free(&alloc, algo->velocity);
    pcmup__free(&alloc, algo->order);
    pcmup__free(&alloc, algo->batch_x);
    pcmup__free(&alloc, algo->batch_labels);
    pcmup__free(&alloc, algo->snapshot);
    pcmup__free(&alloc, algo);
}

pcmup_status pcmup_algo_set(pcmup_algo *algo, pcmup_setting key, double value)
{
    PCMUP_CHECK_NULL(algo);
    PCMUP_TRY(check_key(algo->rule, key, __func__));
    const setting_info *s = &settings_table[key];
    int in_range = value >= s->lo && (s->hi_open ? value < s->hi : value <= s->hi);
    if (!isfinite(value) || !in_range)
        return pcmup__fail(PCMUP_ERR_INVALID, __func__, "%s = %g is outside [%g, %g%c", s->name,
                           value, s->lo, s->hi, s->hi_open ? ')' : ']');
    if (s->integral && value != floor(value))
        return pcmup__fail(PCMUP_ERR_INVALID, __func__, "%s = %g is not a whole number",
                           s->name, value);
    algo->settings[key] = value;
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

pcmup_status pcmup_algo_bounds(pcmup_algo_kind kind, pcmup_setting key, double *lo,
                               double *hi)
{
    PCMUP_CHECK_NULL(lo);
    PCMUP_CHECK_NULL(hi);
    PCMUP_TRY(check_kind(kind, __func__));
    PCMUP_TRY(check_key(rules[kind], key, __func__));
    *lo = settings_table[key].lo;
    *hi = settings_table[key].hi;
    return PCMUP_OK;
}

/* ---- scratch -------------------------------------------------------------- */

pcmup_status pcmup__algo_reserve(pcmup_algo *algo, size_t batch, const char *func)
{
    if (batch <= algo->batch_cap)
        return PCMUP_OK;
    const pcmup_net *net = algo->net;
    size_t per_sample = 2 * pcmup__net_max_width(net);
    for (size_t l = 1; l <= net->n_layers; l++)
        per_sample += net->widths[l];
    int overflow = 0;
    size_t n = pcmup__mul(per_sample, batch, &overflow);
    float *block = overflow ? NULL : pcmup__alloc(&algo->alloc, n, sizeof(float));
    float **acts = algo->acts ? algo->acts
                              : pcmup__alloc(&algo->alloc, net->n_layers, sizeof(float *));
    if (!block || !acts) {
        pcmup__free(&algo->alloc, block);
        if (acts != algo->acts)
            pcmup__free(&algo->alloc, acts);
        return pcmup__fail(PCMUP_ERR_NOMEM, func, "cannot allocate scratch for batch %zu",
                           batch);
    }
    pcmup__free(&algo->alloc, algo->scratch);
    algo->scratch = block;
    algo->acts = acts;
    for (size_t l = 1; l <= net->n_layers; l++) {
        acts[l - 1] = block;
        block += batch * net->widths[l];
    }
    algo->delta[0] = block;
    algo->delta[1] = block + batch * pcmup__net_max_width(net);
    algo->batch_cap = batch;
    return PCMUP_OK;
}

/* The velocity buffer, needed once momentum or weight decay is non-zero. */
static pcmup_status reserve_velocity(pcmup_algo *algo, const char *func)
{
    int plain = algo->settings[PCMUP_SET_MOMENTUM] == 0.0 &&
                algo->settings[PCMUP_SET_WEIGHT_DECAY] == 0.0;
    if (plain || algo->velocity)
        return PCMUP_OK;
    algo->velocity = pcmup__alloc_zero(&algo->alloc, algo->net->n_params, sizeof(float));
    if (!algo->velocity)
        return pcmup__fail(PCMUP_ERR_NOMEM, func, "cannot allocate momentum buffers");
    return PCMUP_OK;
}

/* ---- the shared parts of a step ------------------------------------------- */

double pcmup__algo_loss_grad(const pcmup_algo *algo, const int32_t *labels, size_t batch,
                             float *grad)
{
    const pcmup_net *net = algo->net;
    size_t n_classes = net->widths[net->n_layers];
    double sum = pcmup__loss_sum((pcmup_loss)algo->settings[PCMUP_SET_LOSS],
                                 algo->settings[PCMUP_SET_MSE_CENTRED] != 0.0,
                                 algo->acts[net->n_layers - 1], labels, batch, n_classes, grad);
    return sum / (double)batch;
}

void pcmup__algo_descend(pcmup_algo *algo, size_t layer, const float *err, const float *in,
                         size_t batch)
{
    pcmup_net *net = algo->net;
    pcmup_layer *ly = &net->layers[layer - 1];
    const float eta = (float)(algo->settings[PCMUP_SET_LR] * net->lr_factor[layer - 1]);
    const float inv_b = 1.0f / (float)batch;
    const float mu = (float)algo->settings[PCMUP_SET_MOMENTUM];
    const float wd = (float)algo->settings[PCMUP_SET_WEIGHT_DECAY];
    if (mu == 0.0f && wd == 0.0f) {
        /* Plain SGD: one GEMM straight into the parameters. */
        ly->ops->param_grad(ly, err, in, batch, -eta * inv_b, 1.0f, ly->params);
        return;
    }
    /* v = mu v + (g / B + wd w);  w -= eta v */
    float *v = algo->velocity + (ly->params - net->params);
    const int n = (int)ly->n_params;
    ly->ops->param_grad(ly, err, in, batch, inv_b, mu, v);
    if (wd != 0.0f)
        cblas_saxpy(n, wd, ly->params, 1, v, 1);
    cblas_saxpy(n, -eta, v, 1, ly->params, 1);
}

static pcmup_status check_labels(const int32_t *labels, size_t batch, size_t n_classes,
                                 const char *func)
{
    if (!labels)
        return pcmup__fail(PCMUP_ERR_NULL, func, "labels is NULL");
    for (size_t i = 0; i < batch; i++)
        if (labels[i] < 0 || (size_t)labels[i] >= n_classes)
            return pcmup__fail(PCMUP_ERR_INVALID, func,
                               "label %d of sample %zu is outside [0, %zu)", (int)labels[i], i,
                               n_classes);
    return PCMUP_OK;
}

/* Steps without re-validating: used by the epoch loop on checked data. */
pcmup_status pcmup__algo_step_trusted(pcmup_algo *algo, const float *x, const int32_t *labels,
                                      size_t batch, double *loss, const char *func)
{
    PCMUP_TRY(pcmup__algo_reserve(algo, batch, func));
    PCMUP_TRY(reserve_velocity(algo, func));
    return algo->rule->step(algo, x, labels, batch, loss, func);
}

pcmup_status pcmup_algo_step(pcmup_algo *algo, const float *x, const int32_t *labels,
                             size_t batch, double *loss)
{
    PCMUP_CHECK_NULL(algo);
    const pcmup_net *net = algo->net;
    PCMUP_TRY(pcmup__net_check_batch(net, x, batch, __func__));
    PCMUP_TRY(check_labels(labels, batch, net->widths[net->n_layers], __func__));
    return pcmup__algo_step_trusted(algo, x, labels, batch, loss, __func__);
}
