/* SPDX-License-Identifier: MIT */
/*
 * algo.c -- the algorithm handle: creation, settings, scratch memory, the
 * checks every step shares, and the descent step that applies updates.
 */
#include "algo.h"

#include "kernel/kernel.h"
#include "layers/activation.h"
#include "loss.h"

#include <math.h>
#include <string.h>

/* A dense-only rule (rule.h) refuses a network with any other layer. */
static pcmup_status check_layers(const pcmup_rule_ops *ops, const pcmup_net *net,
                                 const char *func)
{
    if (!ops->dense_only || net->is_mlp)
        return PCMUP_OK;
    /* Only a convolution pools (layers/post.c), so the kind says it all. */
    for (size_t l = 1; l <= net->n_layers; l++)
        if (net->layers[l - 1].conv.k)
            return pcmup__fail(PCMUP_ERR_UNSUPPORTED, func,
                               "%s takes dense layers only, and layer %zu is a convolution "
                               "(docs/cnn.md lists the rules for convolutional networks)",
                               ops->name, l);
    return pcmup__fail(PCMUP_ERR_UNSUPPORTED, func,
                       "%s needs one activation on every hidden layer", ops->name);
}

pcmup_status pcmup_algo_create(pcmup_algo **out, pcmup_rule rule, pcmup_net *net,
                               uint64_t seed, const pcmup_allocator *allocator)
{
    PCMUP_CHECK_NULL(out);
    PCMUP_CHECK_NULL(net);
    const pcmup_rule_ops *ops = NULL;
    PCMUP_TRY(pcmup__algo_rule_of(rule, &ops, __func__));
    PCMUP_TRY(check_layers(ops, net, __func__));
    PCMUP_TRY(pcmup__allocator_check(allocator, __func__));
    pcmup_allocator alloc;
    pcmup__allocator_init(&alloc, allocator);
    pcmup_algo *algo = pcmup__alloc_zero(&alloc, 1, sizeof *algo);
    if (!algo)
        return pcmup__fail(PCMUP_ERR_NOMEM, __func__, "cannot allocate the algorithm");
    algo->alloc = alloc;
    algo->rule = ops;
    algo->net = net;
    pcmup__rng_seed(&algo->rng, seed);
    pcmup_status s = pcmup__settings_init(algo, __func__);
    if (s != PCMUP_OK) {
        pcmup__free(&alloc, algo);
        return s;
    }
    if (ops->create_state)
        s = ops->create_state(algo, &algo->state, __func__);
    if (s != PCMUP_OK) {
        pcmup__free(&alloc, algo->layer_settings);
        pcmup__free(&alloc, algo);
        return s;
    }
    *out = algo;
    return PCMUP_OK;
}

pcmup_status pcmup_algo_rule(const pcmup_algo *algo, pcmup_rule *rule)
{
    PCMUP_CHECK_NULL(algo);
    PCMUP_CHECK_NULL(rule);
    *rule = algo->rule->id;
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
    pcmup__free(&alloc, algo->update);
    pcmup__free(&alloc, algo->gemm_log);
    pcmup__free(&alloc, algo->layer_settings);
    if (algo->state)
        algo->rule->free_state(algo, algo->state);
    pcmup__snapshot_free(algo, &algo->snapshot);
    pcmup__free(&alloc, algo->entry_list);
    pcmup__free(&alloc, algo->order);
    pcmup__free(&alloc, algo->batch_x);
    pcmup__free(&alloc, algo->batch_labels);
    pcmup__free(&alloc, algo->reduce_buf);
    pcmup__free(&alloc, algo->reduce_counts);
    pcmup__free(&alloc, algo->split_buf);
    pcmup__free(&alloc, algo->split_owned);
    pcmup__free(&alloc, algo);
}

/* ---- scratch ------------------------------------------------------------- */

pcmup_status pcmup__algo_reserve(pcmup_algo *algo, size_t batch, const char *func)
{
    if (batch <= algo->batch_cap)
        return PCMUP_OK;
    const pcmup_net *net = algo->net;
    const size_t n_layers = net->n_layers, wide = pcmup__net_max_width(net);
    const int pools = pcmup__net_pools(net);
    size_t per_sample = (pools ? 3 : 2) * wide;
    for (size_t l = 1; l <= n_layers; l++) {
        const pcmup_layer *ly = &net->layers[l - 1];
        per_sample += net->widths[l] + (pcmup__layer_pools(ly) ? ly->n_out : 0);
    }
    int overflow = 0;
    size_t n = pcmup__mul(per_sample, batch, &overflow);
    float *block = overflow ? NULL : pcmup__alloc_populated(&algo->alloc, n, sizeof(float));
    float **acts = algo->acts ? algo->acts
                              : pcmup__alloc(&algo->alloc, 2 * n_layers, sizeof(float *));
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
    algo->phis = acts + n_layers;
    for (size_t l = 1; l <= n_layers; l++) {
        const pcmup_layer *ly = &net->layers[l - 1];
        acts[l - 1] = block;
        block += batch * net->widths[l];
        algo->phis[l - 1] = acts[l - 1];
        if (pcmup__layer_pools(ly)) {
            algo->phis[l - 1] = block;
            block += batch * ly->n_out;
        }
    }
    algo->delta[0] = block;
    algo->delta[1] = block + batch * wide;
    algo->delta[2] = pools ? block + 2 * batch * wide : NULL;
    algo->batch_cap = batch;
    return PCMUP_OK;
}

/* The velocity buffer, needed once momentum or weight decay is non-zero,
 * and the update record, once recording is on. */
static pcmup_status reserve_optimizer(pcmup_algo *algo, const char *func)
{
    const size_t n = algo->net->n_params;
    int plain = algo->settings[PCMUP_SET_MOMENTUM] == 0.0 &&
                algo->settings[PCMUP_SET_WEIGHT_DECAY] == 0.0;
    if (!plain && !algo->velocity) {
        algo->velocity = pcmup__alloc_zero(&algo->alloc, n, sizeof(float));
        if (!algo->velocity)
            return pcmup__fail(PCMUP_ERR_NOMEM, func, "cannot allocate momentum buffers");
    }
    if (algo->settings[PCMUP_SET_RECORD_UPDATES] != 0.0 && !algo->update) {
        algo->update = pcmup__alloc_zero(&algo->alloc, n, sizeof(float));
        if (!algo->update)
            return pcmup__fail(PCMUP_ERR_NOMEM, func, "cannot allocate the update record");
    }
    return PCMUP_OK;
}

/* ---- the shared parts of a step ------------------------------------------ */

double pcmup__algo_loss_grad(pcmup_algo *algo, const int32_t *labels, size_t batch,
                             float *grad)
{
    const pcmup_net *net = algo->net;
    size_t n_classes = net->widths[net->n_layers];
    double sum = pcmup__loss_sum((pcmup_loss)algo->settings[PCMUP_SET_LOSS],
                                 algo->settings[PCMUP_SET_MSE_CENTRED] != 0.0,
                                 algo->acts[net->n_layers - 1], labels, batch, n_classes, grad);
    pcmup__par_sum_d(algo, &sum, 1);
    return sum / (double)algo->global_batch;
}

/* The end of a momentum step, shared by both descents: v += wd w (v holds
 * mu v + g / B already), the update -eta v recorded when asked, w -= eta v. */
static void apply_velocity(float *params, float *v, float *record, size_t n, float eta,
                           float wd)
{
    if (wd != 0.0f)
        pcmup__k_saxpy(n, wd, params, v);
    if (record) {
        memset(record, 0, n * sizeof *record);
        pcmup__k_saxpy(n, -eta, v, record);
    }
    pcmup__k_saxpy(n, -eta, v, params);
}

/* pcmup__algo_descend for a worker of a data-parallel group: the local
 * gradient sum is summed over the workers first (into reduce_buf), then
 * applied as the single process applies its own, with 1/B of the global
 * batch. Every worker applies the same sum: the weights and momentum stay
 * identical on all of them. */
static void descend_reduced(pcmup_algo *algo, pcmup_layer *ly, const float *err,
                            const float *in, size_t batch)
{
    pcmup_net *net = algo->net;
    const size_t layer = (size_t)(ly - net->layers) + 1;
    const float eta = (float)(algo->settings[PCMUP_SET_LR] * net->lr_factor[layer - 1]);
    const float inv_b = 1.0f / (float)algo->global_batch;
    const float mu = (float)algo->settings[PCMUP_SET_MOMENTUM];
    const float wd = (float)algo->settings[PCMUP_SET_WEIGHT_DECAY];
    const size_t offset = (size_t)(ly->params - net->params);
    const size_t n = ly->n_params;
    float *g = algo->reduce_buf + offset;
    float *record = algo->settings[PCMUP_SET_RECORD_UPDATES] != 0.0 ? algo->update + offset
                                                                    : NULL;
    ly->ops->param_grad(ly, err, in, batch, 1.0f, 0.0f, g);
    pcmup__par_sum_f(algo, g, n);
    if (mu == 0.0f && wd == 0.0f) {
        if (record) {
            memset(record, 0, n * sizeof *record);
            pcmup__k_saxpy(n, -eta * inv_b, g, record);
        }
        pcmup__k_saxpy(n, -eta * inv_b, g, ly->params);
        return;
    }
    float *v = algo->velocity + offset;
    pcmup__k_sscal(n, mu, v);
    pcmup__k_saxpy(n, inv_b, g, v);
    apply_velocity(ly->params, v, record, n, eta, wd);
}

void pcmup__algo_descend(pcmup_algo *algo, size_t layer, const float *err, const float *in,
                         size_t batch)
{
    if (algo->has_reducer) {
        descend_reduced(algo, &algo->net->layers[layer - 1], err, in, batch);
        return;
    }

    pcmup_net *net = algo->net;
    pcmup_layer *ly = &net->layers[layer - 1];
    const float eta = (float)(algo->settings[PCMUP_SET_LR] * net->lr_factor[layer - 1]);
    const float inv_b = 1.0f / (float)batch;
    const float mu = (float)algo->settings[PCMUP_SET_MOMENTUM];
    const float wd = (float)algo->settings[PCMUP_SET_WEIGHT_DECAY];
    const size_t offset = (size_t)(ly->params - net->params);
    const size_t n = ly->n_params;
    float *record = algo->settings[PCMUP_SET_RECORD_UPDATES] != 0.0 ? algo->update + offset
                                                                    : NULL;
    if (mu == 0.0f && wd == 0.0f) {
        if (!record) {
            /* Plain SGD: one GEMM straight into the parameters. */
            ly->ops->param_grad(ly, err, in, batch, -eta * inv_b, 1.0f, ly->params);
            return;
        }
        ly->ops->param_grad(ly, err, in, batch, -eta * inv_b, 0.0f, record);
        pcmup__k_saxpy(n, 1.0f, record, ly->params);
        return;
    }
    /* v = mu v + (g / B + wd w);  w -= eta v */
    float *v = algo->velocity + offset;
    ly->ops->param_grad(ly, err, in, batch, inv_b, mu, v);
    apply_velocity(ly->params, v, record, n, eta, wd);
}

/* ---- the alignment ratio ---------------------------------------------------
 * After a recorded step: dh = h_{L-1}(new weights) - h_{L-1}(the step's
 * forward pass, still in acts[L - 2]) on the step's batch, and W_L before
 * the step = m (w_now - recorded change). Uses the two delta buffers, free
 * once the rule's step is over, so it allocates nothing. The ratio and why it
 * separates TP from BP and PC: docs/tp.md, sections 6 and 7. */
static void record_alignment(pcmup_algo *algo, const float *x, size_t batch)
{
    const pcmup_net *net = algo->net;
    const size_t n_layers = net->n_layers;
    algo->alignment_valid = 0;
    if (n_layers < 2)
        return;
    float *buf[2] = {algo->delta[0], algo->delta[1]};
    const float *in = x;
    for (size_t l = 1; l < n_layers; l++) {
        float *h = buf[l % 2];
        float *a = pcmup__layer_pools(&net->layers[l - 1]) ? algo->delta[2] : h;
        pcmup__net_layer_forward(net, l, in, batch, a, h);
        in = h;
    }
    const pcmup_layer *top = &net->layers[n_layers - 1];
    const size_t m = top->n_in, c = top->n_out, n_dh = batch * m;
    float *dh = buf[(n_layers - 1) % 2], *y = buf[n_layers % 2];
    const float *h_before = algo->acts[n_layers - 2];
    for (size_t i = 0; i < n_dh; i++)
        dh[i] -= h_before[i];
    /* y = dh W_before^T with W_before = mult (w - rec). */
    const float *rec = algo->update + (top->params - net->params);
    pcmup__k_sgemm(algo->gemm_log, 'N', 'T', batch, c, m, top->multiplier, dh, top->params,
                   0.0f, y);
    pcmup__k_sgemm(algo->gemm_log, 'N', 'T', batch, c, m, -top->multiplier, dh, rec, 1.0f, y);
    double w_sq = 0.0;
    for (size_t i = 0; i < m * c; i++) {
        double w = (double)top->multiplier * ((double)top->params[i] - (double)rec[i]);
        w_sq += w * w;
    }
    /* Over the global batch (the weights are the same on every worker). */
    const size_t global = algo->global_batch;
    double sums[2] = {pcmup__k_sum_sq(dh, n_dh), pcmup__k_sum_sq(y, batch * c)};
    pcmup__par_sum_d(algo, sums, 2);
    const double rms_w = sqrt(w_sq / (double)(m * c));
    const double rms_dh = sqrt(sums[0] / (double)(global * m));
    const double rms_y = sqrt(sums[1] / (double)(global * c));
    if (!(rms_w > 0.0) || !(rms_dh > 0.0) || !isfinite(rms_y))
        return;
    algo->alignment = rms_y / (rms_w * rms_dh);
    algo->alignment_valid = isfinite(algo->alignment);
}

pcmup_status pcmup_algo_alignment_ratio(const pcmup_algo *algo, double *ratio)
{
    PCMUP_CHECK_NULL(algo);
    PCMUP_CHECK_NULL(ratio);
    if (!algo->alignment_valid)
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, __func__,
                           "no alignment ratio: it needs a step taken with "
                           "PCMUP_SET_RECORD_UPDATES, a hidden layer, and a step that "
                           "moved h_{L-1}");
    *ratio = algo->alignment;
    return PCMUP_OK;
}

/* ---- divergence ----------------------------------------------------------
 * The loss a rule checks before updating is finite, yet the update can
 * still overflow (a large learning rate times a large error), and relu
 * or a saturated tanh would then hide the NaN from every later loss. So
 * after every step the whole trained state is checked: one pass over the
 * parameters, far cheaper than the step's GEMMs. */

static pcmup_status diverged(const char *func, const char *what, size_t layer)
{
    return pcmup__fail(PCMUP_ERR_DIVERGED, func,
                       "the step left %s of layer %zu not finite (learning rate too large?)",
                       what, layer);
}

/* PCMUP_OK when the parameters, the momentum and the rule's persistent
 * state are all finite; else PCMUP_ERR_DIVERGED naming the first that is
 * not. */
static pcmup_status check_finite(pcmup_algo *algo, const char *func)
{
    const pcmup_net *net = algo->net;
    for (size_t l = 1; l <= net->n_layers; l++) {
        const pcmup_layer *ly = &net->layers[l - 1];
        const size_t offset = (size_t)(ly->params - net->params);
        if (!pcmup__k_all_finite(ly->params, ly->n_params))
            return diverged(func, "the weights", l);
        if (algo->velocity && !pcmup__k_all_finite(algo->velocity + offset, ly->n_params))
            return diverged(func, "the momentum", l);
    }
    if (!algo->rule->list_persistent)
        return PCMUP_OK;
    /* reserve_entry_list made room for the most a step can create. */
    size_t n = algo->rule->list_persistent(algo, algo->entry_list, algo->entry_list_cap);
    assert(n <= algo->entry_list_cap);
    n = n < algo->entry_list_cap ? n : algo->entry_list_cap;
    for (size_t i = 0; i < n; i++) {
        const pcmup_rule_entry *e = &algo->entry_list[i];
        int finite = e->rank ? pcmup__k_all_finite(e->data, pcmup__entry_floats(e))
                             : isfinite(e->value);
        if (!finite)
            return diverged(func, e->name, e->layer);
    }
    return PCMUP_OK;
}

/* ---- the step ------------------------------------------------------------ */

/* Room to list the rule's persistent entries after the step, as many as
 * the step can create (rule.h, persistent_bound). */
static pcmup_status reserve_entry_list(pcmup_algo *algo, const char *func)
{
    if (!algo->rule->list_persistent)
        return PCMUP_OK;
    size_t n, floats;
    algo->rule->persistent_bound(algo, &n, &floats);
    return pcmup__grow(&algo->alloc, (void **)&algo->entry_list, &algo->entry_list_cap, n,
                       sizeof *algo->entry_list, "the persistent state's list", func);
}

pcmup_status pcmup__algo_reserve_step(pcmup_algo *algo, size_t batch, const char *func)
{
    if (algo->has_reducer && !algo->rule->data_parallel)
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, func,
                           "%s cannot train data-parallel in this release", algo->rule->name);
    PCMUP_TRY(pcmup__split_check_settings(algo, func));
    /* A worker's share may be empty; its buffers still exist. */
    batch = batch ? batch : 1;
    PCMUP_TRY(pcmup__algo_reserve(algo, batch, func));
    PCMUP_TRY(reserve_optimizer(algo, func));
    if (algo->rule->reserve)
        PCMUP_TRY(algo->rule->reserve(algo, batch, func));
    return reserve_entry_list(algo, func);
}

/* Steps without re-validating: used by the epoch loop on checked data.
 * A failure may leave the state changed (PCMUP_ERR_DIVERGED does): the
 * caller puts back the snapshot it took. */
pcmup_status pcmup__algo_step_trusted(pcmup_algo *algo, const float *x, const int32_t *labels,
                                      size_t batch, double *loss, const char *func)
{
    PCMUP_TRY(pcmup__algo_reserve_step(algo, batch, func));
    int recording = algo->settings[PCMUP_SET_RECORD_UPDATES] != 0.0;
    if (!algo->has_reducer) {
        algo->global_batch = batch;
        algo->batch_offset = 0;
    }
    pcmup__par_begin(algo, func);
    pcmup__gemm_log_clear(algo->gemm_log);
    pcmup__net_set_gemm_log(algo->net, algo->gemm_log);
    double step_loss = 0.0;
    pcmup_status s = pcmup__split_check_blocks(algo, func);
    if (s == PCMUP_OK)
        s = algo->rule->step(algo, x, labels, batch, &step_loss, func);
    /* A failed reduction first: what the step computed after it is wrong. */
    if (algo->reduce_status != PCMUP_OK)
        s = algo->reduce_status;
    if (s == PCMUP_OK)
        s = check_finite(algo, func);
    /* Layer-parallel workers see their own layers diverge: all agree. */
    if (s == PCMUP_OK || s == PCMUP_ERR_DIVERGED)
        s = pcmup__split_agree(algo, s, func);
    if (s == PCMUP_OK && recording)
        record_alignment(algo, x, batch);
    if (s == PCMUP_OK)
        s = algo->reduce_status;
    if (s == PCMUP_OK) {
        if (loss)
            *loss = step_loss;
        algo->steps++;
        algo->update_valid = recording;
        if (!recording)
            algo->alignment_valid = 0;
    }
    pcmup__net_set_gemm_log(algo->net, NULL);
    return s;
}

pcmup_status pcmup__algo_count_gemms(pcmup_algo *algo, size_t capacity, const char *func)
{
    pcmup__gemm_log *log = NULL;
    if (capacity > 0) {
        /* One block: the log, then its shapes. */
        int overflow = 0;
        size_t bytes = pcmup__mul(capacity, sizeof(pcmup__gemm_shape), &overflow);
        overflow |= bytes > SIZE_MAX - sizeof *log;
        log = overflow ? NULL : pcmup__alloc(&algo->alloc, 1, sizeof *log + bytes);
        if (!log)
            return pcmup__fail(PCMUP_ERR_NOMEM, func, "cannot allocate a log of %zu GEMMs",
                               capacity);
        pcmup__gemm_log_init(log, (pcmup__gemm_shape *)(log + 1), capacity);
    }
    pcmup__free(&algo->alloc, algo->gemm_log);
    algo->gemm_log = log;
    return PCMUP_OK;
}

const pcmup__gemm_log *pcmup__algo_last_step_gemms(const pcmup_algo *algo)
{
    return algo->gemm_log;
}

pcmup_status pcmup_algo_step(pcmup_algo *algo, const float *x, size_t x_count,
                             const int32_t *labels, size_t batch, double *loss)
{
    PCMUP_CHECK_NULL(algo);
    const pcmup_net *net = algo->net;
    /* A data-parallel worker's share may be empty (pcmup.h), x and labels
     * NULL: the step then reads no sample, but passes pointers on (to
     * BLAS among others), which get a valid one. */
    static const float no_x[1];
    static const int32_t no_labels[1];
    if (algo->has_reducer && batch == 0 && x_count == 0) {
        x = x ? x : no_x;
        labels = labels ? labels : no_labels;
    } else {
        PCMUP_TRY(pcmup__net_check_batch(net, x, x_count, batch, "x", __func__));
        PCMUP_TRY(pcmup__check_labels(labels, batch, net->widths[net->n_layers], __func__));
    }
    /* A data-parallel group's global batch first (no-op for a single
     * process): a rule's reserve sizes what it gathers by it. Then the
     * reserve, so that the snapshot has room for all the step touches
     * (the momentum, say, when it was just switched on). */
    PCMUP_TRY(pcmup__par_exchange_batch(algo, batch, __func__));
    PCMUP_TRY(pcmup__algo_reserve_step(algo, batch, __func__));
    PCMUP_TRY(pcmup__snapshot_save(algo, &algo->snapshot, __func__));
    pcmup_status s = pcmup__algo_step_trusted(algo, x, labels, batch, loss, __func__);
    if (s != PCMUP_OK)
        pcmup__snapshot_restore(algo, &algo->snapshot);
    return s;
}

pcmup_status pcmup_algo_counters(const pcmup_algo *algo, uint64_t *epochs, uint64_t *steps)
{
    PCMUP_CHECK_NULL(algo);
    if (epochs)
        *epochs = algo->epochs;
    if (steps)
        *steps = algo->steps;
    return PCMUP_OK;
}

pcmup_status pcmup_algo_last_update(const pcmup_algo *algo, size_t layer, float *dst,
                                    size_t count)
{
    PCMUP_CHECK_NULL(algo);
    PCMUP_CHECK_NULL(dst);
    const pcmup_net *net = algo->net;
    if (layer < 1 || layer > net->n_layers)
        return pcmup__fail(PCMUP_ERR_INVALID, __func__, "layer %zu is outside [1, %zu]", layer,
                           net->n_layers);
    const pcmup_layer *ly = &net->layers[layer - 1];
    const size_t n = pcmup__layer_weight_count(ly);
    if (count != n)
        return pcmup__fail(PCMUP_ERR_SHAPE, __func__,
                           "layer %zu: weight count %zu does not match %zu", layer, count, n);
    if (!algo->update_valid)
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, __func__,
                           "no update recorded: set PCMUP_SET_RECORD_UPDATES before a step");
    /* Recorded as a change of w; report the change of W = multiplier * w. */
    const float *rec = algo->update + (ly->params - net->params);
    for (size_t i = 0; i < n; i++)
        dst[i] = ly->multiplier * rec[i];
    return PCMUP_OK;
}
