/* SPDX-License-Identifier: MIT */
/*
 * alignment.c -- how a learning rule's update relates to BP's and to the
 * Gauss-Newton direction on one batch (the paper's Figure 2; docs/transfer.md,
 * section 2).
 *
 * Every update here is a trial: the rule takes a real step with update
 * recording on, the recorded change is copied out, and the parameters,
 * momentum, random stream and the rule's persistent state are put back
 * (snapshot.h). Measuring the reference directions the same way (a BP and
 * a GNT step on the same net) means the references are exactly what those
 * rules would do, not a second implementation of them.
 */
#include "algo.h"

#include "kernel/kernel.h"

#include <math.h>
#include <string.h>

/* One recorded step that leaves no trace but the rule's diagnostics;
 * updates[l - 1] (may be NULL) receives layer l's change of W_l. */
static pcmup_status trial_step(pcmup_algo *algo, const float *x, const int32_t *labels,
                               size_t batch, float *const *updates, const char *func)
{
    const pcmup_net *net = algo->net;
    double record;
    PCMUP_TRY(pcmup_algo_get(algo, PCMUP_SET_RECORD_UPDATES, &record));
    PCMUP_TRY(pcmup__snapshot_save(algo, &algo->snapshot, func));
    PCMUP_TRY(pcmup_algo_set(algo, PCMUP_SET_RECORD_UPDATES, 1.0));
    pcmup_status s = pcmup__algo_step_trusted(algo, x, labels, batch, NULL, func);
    if (s == PCMUP_OK) {
        for (size_t l = 1; l <= net->n_layers; l++) {
            const pcmup_layer *ly = &net->layers[l - 1];
            const float *rec = algo->update + (ly->params - net->params);
            if (updates[l - 1])
                for (size_t i = 0; i < pcmup__layer_weight_count(ly); i++)
                    updates[l - 1][i] = ly->multiplier * rec[i];
        }
    }
    pcmup__snapshot_restore(algo, &algo->snapshot);
    pcmup_status restored = pcmup_algo_set(algo, PCMUP_SET_RECORD_UPDATES, record);
    assert(restored == PCMUP_OK);
    (void)restored;
    return s;
}

static pcmup_status check_step_args(const pcmup_algo *algo, const float *x, size_t x_count,
                                    const int32_t *labels, size_t batch, const char *func)
{
    const pcmup_net *net = algo->net;
    PCMUP_TRY(pcmup__par_refuse(algo, func));
    PCMUP_TRY(pcmup__net_check_batch(net, x, x_count, batch, "x", func));
    return pcmup__check_labels(labels, batch, net->widths[net->n_layers], func);
}

/* An array of per-layer pointers (updates) holds one per layer. */
static pcmup_status check_layer_count(const pcmup_algo *algo, size_t count, const char *name,
                                      const char *func)
{
    return pcmup__check_count(count, algo->net->n_layers, 1, name, func);
}

/* A reference direction is a plain step (no momentum or weight decay) of
 * the reference's rule, with the settings that define the direction at
 * that rule's defaults and every other setting of `algo` that the rule
 * accepts: the learning rate, loss and MSE targets always, and for example
 * GNT's damping when `algo` is itself a GNT rule. */
static int fixed_by(const pcmup_reference_rule *def, pcmup_setting key)
{
    if (key == PCMUP_SET_MOMENTUM || key == PCMUP_SET_WEIGHT_DECAY)
        return 1;
    for (size_t i = 0; i < def->n_fixed; i++)
        if (def->fixed[i] == key)
            return 1;
    return 0;
}

/* dst takes src's value of `key`, per-layer values included. */
static pcmup_status copy_setting(pcmup_algo *dst, const pcmup_algo *src, pcmup_setting key)
{
    double v;
    int per_layer;
    PCMUP_TRY(pcmup_algo_get(src, key, &v));
    PCMUP_TRY(pcmup_algo_set(dst, key, v));
    PCMUP_TRY(pcmup_setting_per_layer(key, &per_layer));
    for (size_t l = 1; per_layer && l < src->net->n_layers; l++) {
        PCMUP_TRY(pcmup_algo_get_layer(src, l, key, &v));
        PCMUP_TRY(pcmup_algo_set_layer(dst, l, key, v));
    }
    return PCMUP_OK;
}

static pcmup_status take_settings(pcmup_algo *r, const pcmup_algo *algo,
                                  const pcmup_reference_rule *def)
{
    for (size_t i = 0; i < pcmup_setting_count(); i++) {
        pcmup_setting key;
        int mine, theirs;
        PCMUP_TRY(pcmup_setting_at(i, &key));
        PCMUP_TRY(pcmup_setting_accepts(key, algo->rule->id, &mine));
        PCMUP_TRY(pcmup_setting_accepts(key, def->rule, &theirs));
        if (mine && theirs && !fixed_by(def, key))
            PCMUP_TRY(copy_setting(r, algo, key));
    }
    return PCMUP_OK;
}

static pcmup_status make_reference(pcmup_algo **out, const pcmup_algo *algo,
                                   pcmup_reference ref, const char *func)
{
    const pcmup_reference_rule *def = pcmup__reference_rule(ref);
    pcmup_algo *r = NULL;
    pcmup_status s = pcmup_algo_create(&r, def->rule, algo->net, 0, &algo->alloc);
    if (s == PCMUP_OK)
        s = take_settings(r, algo, def);
    if (s != PCMUP_OK) {
        pcmup_algo_free(r);
        return pcmup__fail(s, func, "cannot create the reference rule");
    }
    *out = r;
    return PCMUP_OK;
}

static pcmup_status reference_update(pcmup_algo *algo, pcmup_reference ref, const float *x,
                                     const int32_t *labels, size_t batch,
                                     float *const *updates, const char *func)
{
    pcmup_algo *r = NULL;
    PCMUP_TRY(make_reference(&r, algo, ref, func));
    pcmup_status s = trial_step(r, x, labels, batch, updates, func);
    pcmup_algo_free(r);
    return s;
}

pcmup_status pcmup_algo_trial_update(pcmup_algo *algo, const float *x, size_t x_count,
                                     const int32_t *labels, size_t batch, float *const *updates,
                                     size_t updates_count)
{
    PCMUP_CHECK_NULL(algo);
    PCMUP_CHECK_NULL(updates);
    PCMUP_TRY(check_layer_count(algo, updates_count, "updates_count", __func__));
    PCMUP_TRY(check_step_args(algo, x, x_count, labels, batch, __func__));
    return trial_step(algo, x, labels, batch, updates, __func__);
}

pcmup_status pcmup_algo_reference_update(pcmup_algo *algo, pcmup_reference ref,
                                         const float *x, size_t x_count, const int32_t *labels,
                                         size_t batch, float *const *updates,
                                         size_t updates_count)
{
    PCMUP_CHECK_NULL(algo);
    PCMUP_CHECK_NULL(updates);
    if (!pcmup__reference_rule(ref))
        return pcmup__fail(PCMUP_ERR_INVALID, __func__, "unknown reference %d", (int)ref);
    PCMUP_TRY(check_layer_count(algo, updates_count, "updates_count", __func__));
    PCMUP_TRY(check_step_args(algo, x, x_count, labels, batch, __func__));
    return reference_update(algo, ref, x, labels, batch, updates, __func__);
}

/* ---- the summary: cosines and norm ratios per layer ---------------------- */

/* Per-layer update sets in one block: BP's, GN's and, when the rule's own
 * trial update is wanted too, the rule's. */
typedef struct {
    float *block;
    float **bp, **gn, **own;
} update_sets;

static pcmup_status update_sets_alloc(update_sets *u, const pcmup_algo *algo, int with_own,
                                      const char *func)
{
    const pcmup_net *net = algo->net;
    const size_t L = net->n_layers, n_sets = with_own ? 3 : 2;
    size_t total = 0;
    for (size_t l = 0; l < L; l++)
        total += pcmup__layer_weight_count(&net->layers[l]);
    u->block = pcmup__alloc(&algo->alloc, n_sets * total, sizeof(float));
    u->bp = pcmup__alloc(&algo->alloc, n_sets * L, sizeof(float *));
    if (!u->block || !u->bp) {
        pcmup__free(&algo->alloc, u->block);
        pcmup__free(&algo->alloc, u->bp);
        return pcmup__fail(PCMUP_ERR_NOMEM, func, "cannot allocate the reference updates");
    }
    u->gn = u->bp + L;
    u->own = with_own ? u->gn + L : NULL;
    float *p = u->block;
    for (size_t set = 0; set < n_sets; set++)
        for (size_t l = 0; l < L; l++) {
            u->bp[set * L + l] = p;
            p += pcmup__layer_weight_count(&net->layers[l]);
        }
    return PCMUP_OK;
}

static void update_sets_free(const pcmup_algo *algo, update_sets *u)
{
    pcmup__free(&algo->alloc, u->block);
    pcmup__free(&algo->alloc, u->bp);
}

/* cos(a, b) and |a| / |b| in double precision, with the conventions of
 * pcmup.h for zero updates (never NaN). */
static void compare(const float *a, const float *b, size_t n, double *cosine, double *ratio)
{
    const double ab = pcmup__k_dot(a, b, n), aa = pcmup__k_sum_sq(a, n),
                 bb = pcmup__k_sum_sq(b, n);
    if (cosine)
        *cosine = aa > 0.0 && bb > 0.0 ? ab / sqrt(aa * bb) : 0.0;
    if (ratio)
        *ratio = bb > 0.0 ? sqrt(aa / bb) : (aa > 0.0 ? INFINITY : 1.0);
}

/* The outputs of the summary, [l - 1] per layer; any may be NULL. */
typedef struct {
    double *cos_bp, *cos_gn, *ratio_bp, *ratio_gn;
} alignment_out;

/* Takes the reference steps into u->bp and u->gn (GN only when asked for)
 * and compares `own` with them; writes *out only when every step worked. */
static pcmup_status compare_with_references(pcmup_algo *algo, const float *x,
                                            const int32_t *labels, size_t batch,
                                            const float *const *own, update_sets *u,
                                            const alignment_out *out, const char *func)
{
    const pcmup_net *net = algo->net;
    const int want_gn = out->cos_gn || out->ratio_gn;
    pcmup_status s = reference_update(algo, PCMUP_REFERENCE_BP, x, labels, batch, u->bp, func);
    if (s == PCMUP_OK && want_gn)
        s = reference_update(algo, PCMUP_REFERENCE_GN, x, labels, batch, u->gn, func);
    for (size_t l = 0; s == PCMUP_OK && l < net->n_layers; l++) {
        const size_t n = pcmup__layer_weight_count(&net->layers[l]);
        compare(own[l], u->bp[l], n, out->cos_bp ? &out->cos_bp[l] : NULL,
                out->ratio_bp ? &out->ratio_bp[l] : NULL);
        if (want_gn)
            compare(own[l], u->gn[l], n, out->cos_gn ? &out->cos_gn[l] : NULL,
                    out->ratio_gn ? &out->ratio_gn[l] : NULL);
    }
    return s;
}

pcmup_status pcmup_algo_update_alignment(pcmup_algo *algo, const float *x, size_t x_count,
                                         const int32_t *labels, size_t batch, double *cos_bp,
                                         double *cos_gn, double *ratio_bp, double *ratio_gn,
                                         size_t count)
{
    PCMUP_CHECK_NULL(algo);
    PCMUP_TRY(check_layer_count(algo, count, "count", __func__));
    PCMUP_TRY(check_step_args(algo, x, x_count, labels, batch, __func__));
    const alignment_out out = {cos_bp, cos_gn, ratio_bp, ratio_gn};
    update_sets u = {0};
    PCMUP_TRY(update_sets_alloc(&u, algo, 1, __func__));
    pcmup_status s = trial_step(algo, x, labels, batch, u.own, __func__);
    if (s == PCMUP_OK)
        s = compare_with_references(algo, x, labels, batch, (const float *const *)u.own, &u,
                                    &out, __func__);
    update_sets_free(algo, &u);
    return s;
}

pcmup_status pcmup_algo_compare_updates(pcmup_algo *algo, const float *x, size_t x_count,
                                        const int32_t *labels, size_t batch,
                                        const float *const *updates, size_t updates_count,
                                        double *cos_bp, double *cos_gn, double *ratio_bp,
                                        double *ratio_gn, size_t count)
{
    PCMUP_CHECK_NULL(algo);
    PCMUP_CHECK_NULL(updates);
    PCMUP_TRY(check_layer_count(algo, updates_count, "updates_count", __func__));
    PCMUP_TRY(check_layer_count(algo, count, "count", __func__));
    const pcmup_net *net = algo->net;
    for (size_t l = 0; l < updates_count; l++) {
        if (!updates[l])
            return pcmup__fail(PCMUP_ERR_NULL, __func__, "updates[%zu] is NULL", l);
        for (size_t i = 0; i < pcmup__layer_weight_count(&net->layers[l]); i++)
            if (!isfinite(updates[l][i]))
                return pcmup__fail(PCMUP_ERR_INVALID, __func__,
                                   "layer %zu: update entry %zu is not finite", l + 1, i);
    }
    PCMUP_TRY(check_step_args(algo, x, x_count, labels, batch, __func__));
    const alignment_out out = {cos_bp, cos_gn, ratio_bp, ratio_gn};
    update_sets u = {0};
    PCMUP_TRY(update_sets_alloc(&u, algo, 0, __func__));
    pcmup_status s = compare_with_references(algo, x, labels, batch, updates, &u, &out, __func__);
    update_sets_free(algo, &u);
    return s;
}
