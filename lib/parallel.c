/* SPDX-License-Identifier: MIT */
/*
 * parallel.c -- data-parallel training: the caller's reducer, and the sums
 * over the workers that the rules make through it (pcmup.h, section 5,
 * "Data-parallel training"; docs/architecture.md, section 9).
 *
 * The library holds no communication of its own: a reduction is one call
 * of the caller's sum_fn on a buffer the algorithm owns. Every helper here
 * is a no-op without a reducer, which is what keeps a single process bit
 * for bit as it was.
 */
#include "algo.h"

#include <stdio.h>
#include <string.h>

/* The members a caller's struct must cover: up to `user`. */
#define REDUCER_MIN_SIZE (offsetof(pcmup_reducer, user) + sizeof(void *))

static pcmup_status check_reducer(const pcmup_reducer *r, const char *func)
{
    if (r->size < REDUCER_MIN_SIZE)
        return pcmup__fail(PCMUP_ERR_INVALID, func,
                           "reducer size %zu is smaller than this release's %zu: initialise "
                           "it with PCMUP_REDUCER_INIT",
                           r->size, (size_t)REDUCER_MIN_SIZE);
    if (r->n_workers < 1)
        return pcmup__fail(PCMUP_ERR_INVALID, func, "reducer n_workers is 0");
    if (r->rank >= r->n_workers)
        return pcmup__fail(PCMUP_ERR_INVALID, func, "reducer rank %zu is not below n_workers %zu",
                           r->rank, r->n_workers);
    if (!r->sum_fn)
        return pcmup__fail(PCMUP_ERR_INVALID, func, "reducer sum_fn is NULL");
    return PCMUP_OK;
}

pcmup_status pcmup_algo_set_reducer(pcmup_algo *algo, const pcmup_reducer *reducer)
{
    PCMUP_CHECK_NULL(algo);
    if (!reducer) {
        algo->has_reducer = 0;
        return PCMUP_OK;
    }
    PCMUP_TRY(check_reducer(reducer, __func__));
    if (!algo->rule->data_parallel)
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, __func__,
                           "%s cannot train data-parallel in this release", algo->rule->name);
    if (algo->has_split)
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, __func__,
                           "the algorithm trains layer-parallel already (a layer split); "
                           "remove it first");
    /* New buffers first: a failure leaves the algorithm as it was. */
    const size_t n = algo->net->n_params;
    float *buf = pcmup__alloc(&algo->alloc, n, sizeof *buf);
    double *counts = pcmup__alloc(&algo->alloc, reducer->n_workers, sizeof *counts);
    if (!buf || !counts) {
        pcmup__free(&algo->alloc, buf);
        pcmup__free(&algo->alloc, counts);
        return pcmup__fail(PCMUP_ERR_NOMEM, __func__, "cannot allocate the reduction buffers");
    }
    pcmup__free(&algo->alloc, algo->reduce_buf);
    pcmup__free(&algo->alloc, algo->reduce_counts);
    algo->reduce_buf = buf;
    algo->reduce_counts = counts;
    /* Only the members this release knows; a newer caller's extra ones
     * are not read. */
    memset(&algo->reducer, 0, sizeof algo->reducer);
    memcpy(&algo->reducer, reducer, REDUCER_MIN_SIZE);
    algo->reducer.size = sizeof algo->reducer;
    algo->has_reducer = 1;
    return PCMUP_OK;
}

void pcmup__par_begin(pcmup_algo *algo, const char *func)
{
    algo->reduce_status = PCMUP_OK;
    algo->reduce_func = func;
}

/* One sum_fn call, its failure recorded; `whose` names the callback's
 * owner in the message, `where` the worker. */
static void call_sum(pcmup_algo *algo, int (*sum_fn)(void *, void *, size_t, int), void *user,
                     const char *whose, const char *where, void *buf, size_t count, int type)
{
    if (algo->reduce_status != PCMUP_OK)
        return;
    int rc = sum_fn(user, buf, count, type);
    if (rc != 0)
        algo->reduce_status = pcmup__fail(PCMUP_ERR_IO, algo->reduce_func,
                                          "the %s's sum_fn returned %d (sum of %zu %s%s); the "
                                          "call changed nothing",
                                          whose, rc, count,
                                          type == PCMUP_REDUCE_FLOAT64 ? "doubles" : "floats",
                                          where);
}

static void sum(pcmup_algo *algo, void *buf, size_t count, int type)
{
    if (!algo->has_reducer || algo->reducer.n_workers == 1)
        return;
    char where[64];
    snprintf(where, sizeof where, " on rank %zu of %zu", algo->reducer.rank,
             algo->reducer.n_workers);
    call_sum(algo, algo->reducer.sum_fn, algo->reducer.user, "reducer", where, buf, count,
             type);
}

void pcmup__par_sum_step_d(pcmup_algo *algo, double *buf, size_t count)
{
    if (algo->has_split)
        call_sum(algo, algo->split.sum_fn, algo->split.user, "layer split", "", buf, count,
                 PCMUP_REDUCE_FLOAT64);
    else
        sum(algo, buf, count, PCMUP_REDUCE_FLOAT64);
}

void pcmup__par_sum_f(pcmup_algo *algo, float *buf, size_t count)
{
    sum(algo, buf, count, PCMUP_REDUCE_FLOAT32);
}

void pcmup__par_sum_d(pcmup_algo *algo, double *buf, size_t count)
{
    sum(algo, buf, count, PCMUP_REDUCE_FLOAT64);
}

void pcmup__par_share(const pcmup_algo *algo, size_t n, size_t *first, size_t *count)
{
    if (!algo->has_reducer) {
        *first = 0;
        *count = n;
        return;
    }
    const size_t workers = algo->reducer.n_workers, rank = algo->reducer.rank;
    const size_t base = n / workers, extra = n % workers;
    *first = rank * base + (rank < extra ? rank : extra);
    *count = base + (rank < extra ? 1 : 0);
}

void pcmup__par_gather_f(pcmup_algo *algo, const float *mine, size_t count_mine, float *all,
                         size_t all_count)
{
    if (!algo->has_reducer || algo->reducer.n_workers == 1) {
        assert(count_mine == all_count);
        if (mine != all)
            memmove(all, mine, count_mine * sizeof *all);
        return;
    }
    if (algo->reduce_status != PCMUP_OK)
        return;
    const pcmup_reducer *r = &algo->reducer;
    assert(r->gather_fn); /* pcmup__par_need_gather checked it */
    int rc = r->gather_fn(r->user, mine, count_mine, all, all_count);
    if (rc != 0)
        algo->reduce_status = pcmup__fail(PCMUP_ERR_IO, algo->reduce_func,
                                          "the reducer's gather_fn returned %d (%zu of %zu "
                                          "floats on rank %zu of %zu); the call changed nothing",
                                          rc, count_mine, all_count, r->rank, r->n_workers);
}

size_t pcmup__par_reserve_batch(const pcmup_algo *algo, size_t batch)
{
    if (algo->has_reducer && algo->global_batch > batch)
        return algo->global_batch;
    return batch;
}

pcmup_status pcmup__par_need_gather(const pcmup_algo *algo, const char *what, const char *func)
{
    if (algo->has_reducer && algo->reducer.n_workers > 1 && !algo->reducer.gather_fn)
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, func,
                           "%s needs the whole batch's %s on every worker: give the reducer "
                           "a gather_fn",
                           algo->rule->name, what);
    return PCMUP_OK;
}

pcmup_status pcmup__par_exchange_batch(pcmup_algo *algo, size_t batch, const char *func)
{
    algo->global_batch = batch;
    algo->batch_offset = 0;
    if (!algo->has_reducer)
        return PCMUP_OK;
    /* Each worker puts its batch at its rank; the sum is every share. A
     * double holds any batch exactly (batches are below 2^31). */
    const size_t workers = algo->reducer.n_workers, rank = algo->reducer.rank;
    double *counts = algo->reduce_counts;
    memset(counts, 0, workers * sizeof *counts);
    counts[rank] = (double)batch;
    pcmup__par_begin(algo, func);
    pcmup__par_sum_d(algo, counts, workers);
    PCMUP_TRY(algo->reduce_status);
    double total = 0.0, before = 0.0;
    for (size_t i = 0; i < workers; i++) {
        total += counts[i];
        before += i < rank ? counts[i] : 0.0;
    }
    if (counts[rank] != (double)batch || !(total >= 1.0) || total > (double)PCMUP_MAX_DIM)
        return pcmup__fail(PCMUP_ERR_INVALID, func,
                           "the workers' batches add up to %g (this worker's: %zu); the global "
                           "batch must be in [1, %zu], each worker's share at its rank",
                           total, batch, PCMUP_MAX_DIM);
    algo->global_batch = (size_t)total;
    algo->batch_offset = (size_t)before;
    return PCMUP_OK;
}

pcmup_status pcmup__par_refuse(const pcmup_algo *algo, const char *func)
{
    if (algo->has_reducer)
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, func,
                           "a trial update steps on one worker's batch alone; remove the "
                           "reducer (pcmup_algo_set_reducer with NULL) first");
    if (algo->has_split)
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, func,
                           "a trial update steps on one worker's layers alone; remove the "
                           "layer split (pcmup_algo_set_layer_split with NULL) first");
    return PCMUP_OK;
}
