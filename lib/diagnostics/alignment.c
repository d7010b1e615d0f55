/*
 * alignment.c -- how a learning rule's update relates to BP's and to the
 * Gauss-Newton direction on one batch (paper-spec 6.3 E7-E8, Figure 2).
 *
 * Every update here is a trial: the rule takes a real step with update
 * recording on, the recorded change is copied out, and the parameters,
 * momentum, random stream and trained feedback are put back. Measuring the
 * reference directions the same way (a BP and a GNT step on the same net)
 * means the references are exactly what those rules would do, not a
 * second implementation of them.
 */
#include "algo.h"

#include "kernel/kernel.h"

#include <math.h>
#include <string.h>

/* What a trial step changes and must put back. */
typedef struct {
    float *params;        /* n_params */
    float *velocity;      /* n_params, when the rule has momentum state */
    float *feedback;      /* n_feedback, when the net has feedback weights */
    unsigned char *fb_ready;
    pcmup_rng rng;
    double record;        /* the PCMUP_SET_RECORD_UPDATES setting */
} trial_state;

static void trial_state_free(const pcmup_allocator *a, trial_state *s)
{
    pcmup__free(a, s->params);
    pcmup__free(a, s->velocity);
    pcmup__free(a, s->feedback);
    pcmup__free(a, s->fb_ready);
}

static pcmup_status trial_save(pcmup_algo *algo, trial_state *s, const char *func)
{
    const pcmup_net *net = algo->net;
    const pcmup_allocator *a = &algo->alloc;
    memset(s, 0, sizeof *s);
    s->params = pcmup__alloc(a, net->n_params, sizeof(float));
    if (algo->velocity)
        s->velocity = pcmup__alloc(a, net->n_params, sizeof(float));
    if (net->feedback) {
        s->feedback = pcmup__alloc(a, net->n_feedback, sizeof(float));
        s->fb_ready = pcmup__alloc(a, net->n_layers, 1);
    }
    if (!s->params || (algo->velocity && !s->velocity) ||
        (net->feedback && (!s->feedback || !s->fb_ready))) {
        trial_state_free(a, s);
        return pcmup__fail(PCMUP_ERR_NOMEM, func, "cannot allocate a copy of the parameters");
    }
    memcpy(s->params, net->params, net->n_params * sizeof(float));
    if (s->velocity)
        memcpy(s->velocity, algo->velocity, net->n_params * sizeof(float));
    if (s->feedback) {
        memcpy(s->feedback, net->feedback, net->n_feedback * sizeof(float));
        memcpy(s->fb_ready, net->fb_ready, net->n_layers);
    }
    s->rng = algo->rng;
    s->record = algo->settings[PCMUP_SET_RECORD_UPDATES];
    return PCMUP_OK;
}

/* Puts everything back. Velocity that the trial step allocated (momentum
 * switched on since the last step) starts from zero, as it would have. */
static void trial_restore(pcmup_algo *algo, trial_state *s)
{
    pcmup_net *net = algo->net;
    memcpy(net->params, s->params, net->n_params * sizeof(float));
    if (s->velocity)
        memcpy(algo->velocity, s->velocity, net->n_params * sizeof(float));
    else if (algo->velocity)
        memset(algo->velocity, 0, net->n_params * sizeof(float));
    if (s->feedback) {
        memcpy(net->feedback, s->feedback, net->n_feedback * sizeof(float));
        memcpy(net->fb_ready, s->fb_ready, net->n_layers);
    } else if (net->feedback) {
        /* The trial drew the feedback for the first time: undraw it. */
        memset(net->fb_ready, 0, net->n_layers);
    }
    algo->rng = s->rng;
    algo->settings[PCMUP_SET_RECORD_UPDATES] = s->record;
    trial_state_free(&algo->alloc, s);
}

/* One recorded step that leaves no trace but the rule's diagnostics;
 * updates[l - 1] (may be NULL) receives layer l's change of W_l. */
static pcmup_status trial_step(pcmup_algo *algo, const float *x, const int32_t *labels,
                               size_t batch, float *const *updates, const char *func)
{
    const pcmup_net *net = algo->net;
    trial_state saved;
    PCMUP_TRY(trial_save(algo, &saved, func));
    algo->settings[PCMUP_SET_RECORD_UPDATES] = 1.0;
    pcmup_status s = pcmup__algo_step_trusted(algo, x, labels, batch, NULL, func);
    if (s == PCMUP_OK) {
        for (size_t l = 1; l <= net->n_layers; l++) {
            const pcmup_layer *ly = &net->layers[l - 1];
            const float *rec = algo->update + (ly->params - net->params);
            if (updates[l - 1])
                for (size_t i = 0; i < ly->n_in * ly->n_out; i++)
                    updates[l - 1][i] = ly->multiplier * rec[i];
        }
    }
    trial_restore(algo, &saved);
    return s;
}

static pcmup_status check_step_args(const pcmup_algo *algo, const float *x,
                                    const int32_t *labels, size_t batch, const char *func)
{
    const pcmup_net *net = algo->net;
    PCMUP_TRY(pcmup__net_check_batch(net, x, batch, func));
    return pcmup__check_labels(labels, batch, net->widths[net->n_layers], func);
}

/* The rule that gives a reference direction, with the settings of `algo`
 * that define the objective (learning rate, loss, MSE targets). */
static pcmup_status make_reference(pcmup_algo **out, const pcmup_algo *algo,
                                   pcmup_reference ref, const char *func)
{
    pcmup_algo *r = NULL;
    pcmup_status s = pcmup_algo_create(&r, ref == PCMUP_REFERENCE_BP ? PCMUP_RULE_BP
                                                                     : PCMUP_RULE_GNT,
                                       algo->net, 0, &algo->alloc);
    if (s != PCMUP_OK)
        return pcmup__fail(s, func, "cannot create the reference rule");
    r->settings[PCMUP_SET_LR] = algo->settings[PCMUP_SET_LR];
    r->settings[PCMUP_SET_LOSS] = algo->settings[PCMUP_SET_LOSS];
    r->settings[PCMUP_SET_MSE_CENTRED] = algo->settings[PCMUP_SET_MSE_CENTRED];
    if (ref == PCMUP_REFERENCE_GN && algo->kind == PCMUP_RULE_GNT)
        r->settings[PCMUP_SET_GNT_DAMPING] = algo->settings[PCMUP_SET_GNT_DAMPING];
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

pcmup_status pcmup_algo_trial_update(pcmup_algo *algo, const float *x, const int32_t *labels,
                                     size_t batch, float *const *updates)
{
    PCMUP_CHECK_NULL(algo);
    PCMUP_CHECK_NULL(updates);
    PCMUP_TRY(check_step_args(algo, x, labels, batch, __func__));
    return trial_step(algo, x, labels, batch, updates, __func__);
}

pcmup_status pcmup_algo_reference_update(pcmup_algo *algo, pcmup_reference ref,
                                         const float *x, const int32_t *labels, size_t batch,
                                         float *const *updates)
{
    PCMUP_CHECK_NULL(algo);
    PCMUP_CHECK_NULL(updates);
    if (ref != PCMUP_REFERENCE_BP && ref != PCMUP_REFERENCE_GN)
        return pcmup__fail(PCMUP_ERR_INVALID, __func__, "unknown reference %d", (int)ref);
    PCMUP_TRY(check_step_args(algo, x, labels, batch, __func__));
    return reference_update(algo, ref, x, labels, batch, updates, __func__);
}

/* ---- the summary: cosines and norm ratios per layer ---- */

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
        total += net->layers[l].n_in * net->layers[l].n_out;
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
            p += net->layers[l].n_in * net->layers[l].n_out;
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
        const size_t n = net->layers[l].n_in * net->layers[l].n_out;
        compare(own[l], u->bp[l], n, out->cos_bp ? &out->cos_bp[l] : NULL,
                out->ratio_bp ? &out->ratio_bp[l] : NULL);
        if (want_gn)
            compare(own[l], u->gn[l], n, out->cos_gn ? &out->cos_gn[l] : NULL,
                    out->ratio_gn ? &out->ratio_gn[l] : NULL);
    }
    return s;
}

static pcmup_status check_count(const pcmup_algo *algo, size_t count, const char *func)
{
    if (count != algo->net->n_layers)
        return pcmup__fail(PCMUP_ERR_SHAPE, func, "count %zu is not the layer count %zu",
                           count, algo->net->n_layers);
    return PCMUP_OK;
}

pcmup_status pcmup_algo_update_alignment(pcmup_algo *algo, const float *x,
                                         const int32_t *labels, size_t batch, double *cos_bp,
                                         double *cos_gn, double *ratio_bp, double *ratio_gn,
                                         size_t count)
{
    PCMUP_CHECK_NULL(algo);
    PCMUP_TRY(check_count(algo, count, __func__));
    PCMUP_TRY(check_step_args(algo, x, labels, batch, __func__));
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

pcmup_status pcmup_algo_compare_updates(pcmup_algo *algo, const float *x,
                                        const int32_t *labels, size_t batch,
                                        const float *const *updates, double *cos_bp,
                                        double *cos_gn, double *ratio_bp, double *ratio_gn,
                                        size_t count)
{
    PCMUP_CHECK_NULL(algo);
    PCMUP_CHECK_NULL(updates);
    PCMUP_TRY(check_count(algo, count, __func__));
    const pcmup_net *net = algo->net;
    for (size_t l = 0; l < count; l++) {
        if (!updates[l])
            return pcmup__fail(PCMUP_ERR_NULL, __func__, "updates[%zu] is NULL", l);
        for (size_t i = 0; i < net->layers[l].n_in * net->layers[l].n_out; i++)
            if (!isfinite(updates[l][i]))
                return pcmup__fail(PCMUP_ERR_INVALID, __func__,
                                   "layer %zu: update entry %zu is not finite", l + 1, i);
    }
    PCMUP_TRY(check_step_args(algo, x, labels, batch, __func__));
    const alignment_out out = {cos_bp, cos_gn, ratio_bp, ratio_gn};
    update_sets u = {0};
    PCMUP_TRY(update_sets_alloc(&u, algo, 0, __func__));
    pcmup_status s = compare_with_references(algo, x, labels, batch, updates, &u, &out, __func__);
    update_sets_free(algo, &u);
    return s;
}
