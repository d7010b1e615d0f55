/* SPDX-License-Identifier: MIT */
/*
 * train.c -- loops over a dataset: one training epoch, and evaluation.
 */
#include "algo.h"

#include "loss.h"

#include <math.h>
#include <string.h>

/* Samples per forward pass when evaluating. */
#define EVAL_CHUNK 256

static pcmup_status check_dataset(const pcmup_algo *algo, const pcmup_dataset *ds,
                                  size_t *n, const char *func)
{
    size_t dim, n_classes;
    PCMUP_TRY(pcmup_dataset_info(ds, n, &dim, &n_classes));
    const pcmup_net *net = algo->net;
    if (dim != net->widths[0])
        return pcmup__fail(PCMUP_ERR_SHAPE, func,
                           "dataset dimension %zu does not match the input width %zu", dim,
                           net->widths[0]);
    if (n_classes > net->widths[net->n_layers])
        return pcmup__fail(PCMUP_ERR_SHAPE, func,
                           "dataset has %zu classes but the network only %zu outputs",
                           n_classes, net->widths[net->n_layers]);
    return PCMUP_OK;
}

/* Grows a buffer to `n` elements of `size` bytes, populated (the epoch
 * writes all of it); keeps it on failure. */
static pcmup_status grow(pcmup_algo *algo, void **buf, size_t n, size_t size, const char *func)
{
    void *p = pcmup__alloc_populated(&algo->alloc, n, size);
    if (!p)
        return pcmup__fail(PCMUP_ERR_NOMEM, func, "cannot allocate %zu x %zu bytes", n, size);
    pcmup__free(&algo->alloc, *buf);
    *buf = p;
    return PCMUP_OK;
}

/* What an epoch in batches of `batch` uses besides the order of the
 * samples and the snapshot: the gathered batch and the step's buffers. A
 * data-parallel worker takes its share of every global batch (the largest
 * share, *share, is the first rank's of a full batch). Leaves global_batch
 * and batch_offset set for the first batch. */
static pcmup_status reserve_batches(pcmup_algo *algo, size_t batch, size_t *share_out,
                                    const char *func)
{
    const pcmup_net *net = algo->net;
    size_t first, share;
    pcmup__par_share(algo, batch, &first, &share);
    *share_out = share;
    algo->global_batch = batch; /* the largest, for the rules' reserve */
    algo->batch_offset = first;
    if (share > algo->batch_x_cap) {
        PCMUP_TRY(grow(algo, (void **)&algo->batch_x, share * net->widths[0], sizeof(float),
                       func));
        PCMUP_TRY(grow(algo, (void **)&algo->batch_labels, share, sizeof(int32_t), func));
        algo->batch_x_cap = share;
    }
    return pcmup__algo_reserve_step(algo, share, func);
}

pcmup_status pcmup_algo_reserve(pcmup_algo *algo, size_t batch)
{
    PCMUP_CHECK_NULL(algo);
    if (batch < 1 || batch > PCMUP_MAX_DIM)
        return pcmup__fail(PCMUP_ERR_INVALID, __func__, "batch %zu is outside [1, %zu]", batch,
                           PCMUP_MAX_DIM);
    /* Every step and epoch sets these before it uses them; put them back
     * all the same, so that the call changes nothing but capacity. */
    const size_t global_batch = algo->global_batch, batch_offset = algo->batch_offset;
    size_t share;
    pcmup_status s = reserve_batches(algo, batch, &share, __func__);
    /* The snapshot too, which a step or an epoch grows as it saves. */
    if (s == PCMUP_OK)
        s = pcmup__snapshot_reserve(algo, &algo->snapshot, __func__);
    if (s == PCMUP_OK)
        pcmup__algo_warm_blas(algo, share);
    algo->global_batch = global_batch;
    algo->batch_offset = batch_offset;
    return s;
}

static void shuffle(pcmup_rng *rng, size_t *order, size_t n)
{
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = pcmup__rng_below(rng, i + 1);
        size_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

static void gather(pcmup_algo *algo, const pcmup_dataset *ds, const size_t *idx, size_t count)
{
    const size_t dim = algo->net->widths[0];
    const float *x = pcmup__dataset_x(ds);
    const int32_t *labels = pcmup__dataset_labels(ds);
    for (size_t i = 0; i < count; i++) {
        memcpy(algo->batch_x + i * dim, x + idx[i] * dim, dim * sizeof(float));
        algo->batch_labels[i] = labels[idx[i]];
    }
}

pcmup_status pcmup_algo_train_epoch(pcmup_algo *algo, const pcmup_dataset *dataset,
                                    size_t batch, double *mean_loss)
{
    PCMUP_CHECK_NULL(algo);
    PCMUP_CHECK_NULL(dataset);
    size_t n;
    PCMUP_TRY(check_dataset(algo, dataset, &n, __func__));
    if (batch < 1 || batch > PCMUP_MAX_DIM)
        return pcmup__fail(PCMUP_ERR_INVALID, __func__, "batch %zu is outside [1, %zu]", batch,
                           PCMUP_MAX_DIM);
    if (batch > n)
        batch = n;
    if (n > algo->order_cap) {
        PCMUP_TRY(grow(algo, (void **)&algo->order, n, sizeof(size_t), __func__));
        algo->order_cap = n;
    }
    size_t share;
    PCMUP_TRY(reserve_batches(algo, batch, &share, __func__));
    /* A failing epoch puts back what it started from (snapshot.h). */
    PCMUP_TRY(pcmup__snapshot_save(algo, &algo->snapshot, __func__));
    shuffle(&algo->rng, algo->order, n);
    double total = 0.0, diagnostic_total = 0.0;
    for (size_t start = 0; start < n; start += batch) {
        size_t count = n - start < batch ? n - start : batch, first, mine;
        pcmup__par_share(algo, count, &first, &mine);
        gather(algo, dataset, algo->order + start + first, mine);
        algo->global_batch = count;
        algo->batch_offset = first;
        double loss;
        pcmup_status s = pcmup__algo_step_trusted(algo, algo->batch_x, algo->batch_labels,
                                                  mine, &loss, __func__);
        if (s != PCMUP_OK) {
            pcmup__snapshot_restore(algo, &algo->snapshot);
            return s;
        }
        total += loss * (double)count;
        if (algo->rule->step_diagnostic)
            diagnostic_total += algo->rule->step_diagnostic(algo) * (double)count;
    }
    if (algo->rule->step_diagnostic) {
        algo->epoch_diagnostic = diagnostic_total / (double)n;
        algo->epoch_diagnostic_valid = 1;
    }
    algo->epochs++;
    if (mean_loss)
        *mean_loss = total / (double)n;
    return PCMUP_OK;
}

pcmup_status pcmup_algo_evaluate(pcmup_algo *algo, const pcmup_dataset *dataset, double *loss,
                                 double *accuracy)
{
    PCMUP_CHECK_NULL(algo);
    PCMUP_CHECK_NULL(dataset);
    size_t n_all, first, n;
    PCMUP_TRY(check_dataset(algo, dataset, &n_all, __func__));
    PCMUP_TRY(pcmup__split_refuse_stale(algo, __func__));
    /* A data-parallel worker evaluates its share (pcmup.h). */
    pcmup__par_share(algo, n_all, &first, &n);
    size_t chunk = n < EVAL_CHUNK ? n : EVAL_CHUNK;
    chunk = chunk ? chunk : 1;
    if (algo->batch_cap > chunk)
        chunk = n < algo->batch_cap ? n : algo->batch_cap;
    PCMUP_TRY(pcmup__algo_reserve(algo, chunk, __func__));

    const pcmup_net *net = algo->net;
    const size_t dim = net->widths[0], n_out = net->widths[net->n_layers];
    const float *x = pcmup__dataset_x(dataset) + first * dim;
    const int32_t *labels = pcmup__dataset_labels(dataset) + first;
    const float *f = algo->acts[net->n_layers - 1];
    double sum = 0.0;
    size_t correct = 0;
    for (size_t start = 0; start < n; start += chunk) {
        size_t count = n - start < chunk ? n - start : chunk;
        pcmup__net_forward_all(net, x + start * dim, count, algo->acts, algo->phis);
        sum += pcmup__loss_sum((pcmup_loss)algo->settings[PCMUP_SET_LOSS],
                               algo->settings[PCMUP_SET_MSE_CENTRED] != 0.0, f,
                               labels + start, count, n_out, NULL);
        correct += pcmup__count_correct(f, labels + start, count, n_out);
    }
    /* The whole dataset's sums; a count below 2^53 is exact in a double. */
    double sums[2] = {sum, (double)correct};
    pcmup__par_begin(algo, __func__);
    pcmup__par_sum_d(algo, sums, 2);
    PCMUP_TRY(algo->reduce_status);
    sum = sums[0];
    n = n_all;
    /* An overflowing network has no meaningful loss or accuracy. */
    if (!isfinite(sum))
        return pcmup__fail(PCMUP_ERR_DIVERGED, __func__,
                           "the loss over the dataset is not finite (%g): the network's "
                           "outputs overflow, its weights have diverged",
                           sum / (double)n);
    if (loss)
        *loss = sum / (double)n;
    if (accuracy)
        *accuracy = sums[1] / (double)n;
    return PCMUP_OK;
}
