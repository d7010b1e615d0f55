/* SPDX-License-Identifier: MIT */
/*
 * layer_split.c -- layer-parallel training: the caller's layer split, the
 * exchanges and checks the rules make through it, and the sync that
 * brings every worker's copy of the network up to date (pcmup.h, section
 * 5, "Layer-parallel predictive coding"; docs/architecture.md, section 9).
 *
 * As for a reducer (parallel.c), the library holds no communication of
 * its own; every helper is a no-op without a split.
 */
#include "algo.h"

#include <string.h>

/* The members a caller's struct must cover: up to `user`. */
#define SPLIT_MIN_SIZE (offsetof(pcmup_layer_split, user) + sizeof(void *))

static pcmup_status check_split(const pcmup_algo *algo, const pcmup_layer_split *s,
                                const char *func)
{
    const size_t n_layers = algo->net->n_layers;
    if (s->size < SPLIT_MIN_SIZE)
        return pcmup__fail(PCMUP_ERR_INVALID, func,
                           "layer split size %zu is smaller than this release's %zu: "
                           "initialise it with PCMUP_LAYER_SPLIT_INIT",
                           s->size, (size_t)SPLIT_MIN_SIZE);
    if (s->first_layer < 1 || s->first_layer > s->last_layer || s->last_layer > n_layers)
        return pcmup__fail(PCMUP_ERR_INVALID, func,
                           "layers %zu..%zu are not a block of 1..%zu", s->first_layer,
                           s->last_layer, n_layers);
    if (!s->exchange_fn || !s->sum_fn)
        return pcmup__fail(PCMUP_ERR_INVALID, func, "layer split %s is NULL",
                           s->exchange_fn ? "sum_fn" : "exchange_fn");
    if (!algo->rule->layer_parallel)
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, func,
                           "%s cannot train layer-parallel (only predictive coding can)",
                           algo->rule->name);
    if (!algo->net->is_mlp)
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, func,
                           "layer-parallel training takes dense networks only");
    if (algo->has_reducer)
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, func,
                           "the algorithm trains data-parallel already (a reducer); remove it "
                           "first");
    return PCMUP_OK;
}

pcmup_status pcmup_algo_set_layer_split(pcmup_algo *algo, const pcmup_layer_split *split)
{
    PCMUP_CHECK_NULL(algo);
    if (!split) {
        algo->has_split = 0;
        algo->split_stale = 0;
        return PCMUP_OK;
    }
    PCMUP_TRY(check_split(algo, split, __func__));
    /* New buffers first: a failure leaves the algorithm as it was. */
    const size_t n = algo->net->n_params, n_layers = algo->net->n_layers;
    float *buf = pcmup__alloc(&algo->alloc, n, sizeof *buf);
    double *owned = pcmup__alloc(&algo->alloc, n_layers, sizeof *owned);
    if (!buf || !owned) {
        pcmup__free(&algo->alloc, buf);
        pcmup__free(&algo->alloc, owned);
        return pcmup__fail(PCMUP_ERR_NOMEM, __func__, "cannot allocate the split's buffers");
    }
    pcmup__free(&algo->alloc, algo->split_buf);
    pcmup__free(&algo->alloc, algo->split_owned);
    algo->split_buf = buf;
    algo->split_buf_cap = n;
    algo->split_owned = owned;
    /* Only the members this release knows. */
    memset(&algo->split, 0, sizeof algo->split);
    memcpy(&algo->split, split, SPLIT_MIN_SIZE);
    algo->split.size = sizeof algo->split;
    algo->has_split = 1;
    algo->split_checked = 0;
    algo->split_stale = 0;
    return PCMUP_OK;
}

void pcmup__split_range(const pcmup_algo *algo, size_t *first, size_t *last)
{
    *first = algo->has_split ? algo->split.first_layer : 1;
    *last = algo->has_split ? algo->split.last_layer : algo->net->n_layers;
}

/* Does this worker hold every layer (no split, or a split of one block)? */
static int owns_all(const pcmup_algo *algo)
{
    size_t first, last;
    pcmup__split_range(algo, &first, &last);
    return first == 1 && last == algo->net->n_layers;
}

void pcmup__split_exchange(pcmup_algo *algo, const float *to_prev, size_t to_prev_count,
                           float *from_prev, size_t from_prev_count, const float *to_next,
                           size_t to_next_count, float *from_next, size_t from_next_count)
{
    if (!algo->has_split || algo->reduce_status != PCMUP_OK)
        return;
    const pcmup_layer_split *s = &algo->split;
    /* A direction with nothing in it passes NULL, as pcmup.h promises. */
    int rc = s->exchange_fn(s->user, to_prev_count ? to_prev : NULL, to_prev_count,
                            from_prev_count ? from_prev : NULL, from_prev_count,
                            to_next_count ? to_next : NULL, to_next_count,
                            from_next_count ? from_next : NULL, from_next_count);
    if (rc != 0)
        algo->reduce_status = pcmup__fail(
            PCMUP_ERR_IO, algo->reduce_func,
            "the layer split's exchange_fn returned %d (layers %zu..%zu sending %zu and %zu "
            "floats, receiving %zu and %zu); the call changed nothing",
            rc, s->first_layer, s->last_layer, to_prev_count, to_next_count, from_prev_count,
            from_next_count);
}

pcmup_status pcmup__split_check_settings(const pcmup_algo *algo, const char *func)
{
    if (algo->has_split && algo->settings[PCMUP_SET_RECORD_UPDATES] != 0.0)
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, func,
                           "a layer-parallel worker cannot record updates (the record and "
                           "the alignment ratio need the whole network)");
    return PCMUP_OK;
}

pcmup_status pcmup__split_check_blocks(pcmup_algo *algo, const char *func)
{
    if (!algo->has_split || algo->split_checked)
        return PCMUP_OK;
    const size_t n_layers = algo->net->n_layers;
    double *owned = algo->split_owned;
    for (size_t l = 1; l <= n_layers; l++)
        owned[l - 1] = l >= algo->split.first_layer && l <= algo->split.last_layer;
    pcmup__par_sum_step_d(algo, owned, n_layers);
    PCMUP_TRY(algo->reduce_status);
    for (size_t l = 1; l <= n_layers; l++)
        if (owned[l - 1] != 1.0)
            return pcmup__fail(PCMUP_ERR_INVALID, func,
                               "layer %zu is owned by %g workers: the blocks must cover 1..%zu "
                               "exactly once",
                               l, owned[l - 1], n_layers);
    algo->split_checked = 1;
    return PCMUP_OK;
}

pcmup_status pcmup__split_agree(pcmup_algo *algo, pcmup_status s, const char *func)
{
    if (!algo->has_split)
        return s;
    double diverged = s != PCMUP_OK;
    pcmup__par_sum_step_d(algo, &diverged, 1);
    PCMUP_TRY(algo->reduce_status);
    if (s == PCMUP_OK && diverged != 0.0)
        return pcmup__fail(PCMUP_ERR_DIVERGED, func,
                           "another worker's layers diverged (not finite after the step); "
                           "weights left unchanged");
    if (s == PCMUP_OK && !owns_all(algo))
        algo->split_stale = 1;
    return s;
}

pcmup_status pcmup__split_refuse_stale(const pcmup_algo *algo, const char *func)
{
    if (algo->has_split && algo->split_stale)
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, func,
                           "this layer-parallel worker's copy of the other workers' layers is "
                           "stale: call pcmup_algo_sync_layers on every worker first");
    return PCMUP_OK;
}

/* Each layer's values from this worker where it owns it, zeros elsewhere. */
static void own_or_zero(const pcmup_algo *algo, const float *src, float *dst)
{
    const pcmup_net *net = algo->net;
    for (size_t l = 1; l <= net->n_layers; l++) {
        const pcmup_layer *ly = &net->layers[l - 1];
        const size_t at = (size_t)(ly->params - net->params);
        if (l >= algo->split.first_layer && l <= algo->split.last_layer)
            memcpy(dst + at, src + at, ly->n_params * sizeof *dst);
        else
            memset(dst + at, 0, ly->n_params * sizeof *dst);
    }
}

pcmup_status pcmup_algo_sync_layers(pcmup_algo *algo)
{
    PCMUP_CHECK_NULL(algo);
    /* Every worker's copy is stale after the same steps (they succeed or
     * fail together), so all skip the sum alike. */
    if (!algo->has_split || !algo->split_stale)
        return PCMUP_OK;
    const size_t n = algo->net->n_params;
    const size_t parts = algo->velocity ? 2 : 1;
    PCMUP_TRY(pcmup__grow(&algo->alloc, (void **)&algo->split_buf, &algo->split_buf_cap,
                          parts * n, sizeof(float), "the sync's buffer", __func__));
    /* Sums of x and zeros are x exactly: every copy gets the owner's bits. */
    own_or_zero(algo, algo->net->params, algo->split_buf);
    if (algo->velocity)
        own_or_zero(algo, algo->velocity, algo->split_buf + n);
    pcmup__par_begin(algo, __func__);
    const pcmup_layer_split *s = &algo->split;
    for (size_t p = 0; p < parts; p++) {
        int rc = s->sum_fn(s->user, algo->split_buf + p * n, n, PCMUP_REDUCE_FLOAT32);
        if (rc != 0)
            return pcmup__fail(PCMUP_ERR_IO, __func__,
                               "the layer split's sum_fn returned %d (sum of %zu floats); "
                               "the network is unchanged",
                               rc, n);
    }
    memcpy(algo->net->params, algo->split_buf, n * sizeof(float));
    if (algo->velocity)
        memcpy(algo->velocity, algo->split_buf + n, n * sizeof(float));
    algo->split_stale = 0;
    return PCMUP_OK;
}
