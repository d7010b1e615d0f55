/* SPDX-License-Identifier: MIT */
/*
 * coord.c -- the coordinate check (docs/transfer.md, section 1): does
 * training move every layer's features by Theta(1) at every width, as muP
 * requires (the paper's section 2; Yang & Hu 2021)?
 *
 * One description -- a prototype algorithm on a network of any width --
 * is rebuilt at each requested hidden width: same depth, input and output
 * sizes, activation, biases, parameterization, rule and settings. Each copy
 * trains on one batch for the requested number of steps, and a probe batch
 * is pushed through every layer at step 0 and at each reported step.
 */
#include "algo.h"

#include <math.h>
#include <string.h>

/* The network and rule of the prototype, rebuilt with hidden width M. */
typedef struct {
    pcmup_net *net;
    pcmup_algo *algo;
} coord_model;

static void coord_model_free(coord_model *m)
{
    pcmup_algo_free(m->algo);
    pcmup_net_free(m->net);
}

static pcmup_status coord_model_build(coord_model *m, const pcmup_algo *proto, size_t width,
                                      uint64_t seed, const char *func)
{
    memset(m, 0, sizeof *m);
    pcmup_status s = pcmup__net_create_like(proto->net, width, seed, &proto->alloc, &m->net,
                                            func);
    if (s == PCMUP_OK)
        s = pcmup_algo_create(&m->algo, proto->rule->id, m->net, seed + 1u, &proto->alloc);
    if (s != PCMUP_OK) {
        coord_model_free(m);
        return pcmup__fail(s, func, "width %zu: cannot build the network", width);
    }
    s = pcmup__settings_copy(m->algo, proto, func);
    if (s != PCMUP_OK)
        coord_model_free(m);
    return s;
}

static double mean_abs(const float *a, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += fabs((double)a[i]);
    return s / (double)n;
}

static double mean_abs_diff(const float *a, const float *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += fabs((double)a[i] - (double)b[i]);
    return s / (double)n;
}

/* A non-finite mean (overflowed features) is reported as +infinity. */
static double finite_or_inf(double v)
{
    return isfinite(v) ? v : INFINITY;
}

/* Runs one width: dh and h_abs receive n_steps * L values; base[l - 1]
 * and now[l - 1] hold layer l's probe signals at step 0 and now (f for
 * l = L); phis[l - 1] is scratch for a pooling layer's phi(u). After a diverged step every later value is +infinity. */
static pcmup_status coord_one_width(coord_model *m, const float *x, const int32_t *labels,
                                    size_t batch, const float *probe, size_t probe_batch,
                                    const size_t *steps, size_t n_steps, float **base,
                                    float **now, float **phis, double *dh, double *h_abs,
                                    const char *func)
{
    const pcmup_net *net = m->net;
    const size_t L = net->n_layers;
    size_t done = 0;
    int diverged = 0;
    pcmup__net_forward_all(net, probe, probe_batch, base, phis);
    for (size_t k = 0; k < n_steps; k++) {
        while (!diverged && done < steps[k]) {
            pcmup_status s = pcmup__algo_step_trusted(m->algo, x, labels, batch, NULL, func);
            if (s == PCMUP_ERR_DIVERGED)
                diverged = 1;
            else if (s != PCMUP_OK)
                return s;
            done++;
        }
        if (!diverged)
            pcmup__net_forward_all(net, probe, probe_batch, now, phis);
        for (size_t l = 0; l < L; l++) {
            const size_t n = probe_batch * net->widths[l + 1];
            dh[k * L + l] = diverged ? INFINITY : finite_or_inf(mean_abs_diff(now[l], base[l], n));
            h_abs[k * L + l] = diverged ? INFINITY : finite_or_inf(mean_abs(now[l], n));
        }
    }
    return PCMUP_OK;
}

/* One block for a width's probe signals: sig[0 .. L) and sig[L .. 2L)
 * receive layer l's base and current signals (widths[l] values per
 * sample), sig[2L .. 3L) one shared phi scratch (a forward pass needs one
 * layer's at a time). NULL when out of memory. */
static float *coord_signals(const pcmup_net *net, size_t probe_batch, float **sig,
                            const pcmup_allocator *a)
{
    const size_t L = net->n_layers;
    size_t per_sample = pcmup__net_max_width(net);
    for (size_t l = 1; l <= L; l++)
        per_sample += 2 * net->widths[l];
    int overflow = 0;
    size_t n = pcmup__mul(per_sample, probe_batch, &overflow);
    float *block = overflow ? NULL : pcmup__alloc(a, n, sizeof(float));
    if (!block)
        return NULL;
    float *p = block;
    for (size_t l = 1; l <= L; l++) {
        sig[l - 1] = p, p += probe_batch * net->widths[l];
        sig[L + l - 1] = p, p += probe_batch * net->widths[l];
    }
    for (size_t l = 1; l <= L; l++)
        sig[2 * L + l - 1] = p;
    return block;
}

/* The sweep's arguments, and `count`, the number of results per output:
 * n_widths * n_steps * L. */
static pcmup_status check_coord_args(const pcmup_algo *proto, const size_t *widths,
                                     size_t n_widths, const size_t *steps, size_t n_steps,
                                     size_t count, const char *func)
{
    const size_t L = proto->net->n_layers;
    if (L < 2)
        return pcmup__fail(PCMUP_ERR_INVALID, func,
                           "a single-layer network has no hidden width to vary");
    if (n_widths == 0 || n_steps == 0)
        return pcmup__fail(PCMUP_ERR_INVALID, func, "no widths or no steps");
    int overflow = 0;
    size_t per_width = pcmup__mul(n_steps, L, &overflow);
    if (overflow)
        return pcmup__fail(PCMUP_ERR_INVALID, func, "%zu steps are too many", n_steps);
    PCMUP_TRY(pcmup__check_count(count, n_widths, per_width, "count", func));
    for (size_t i = 0; i < n_widths; i++)
        if (widths[i] < 1 || widths[i] > PCMUP_MAX_DIM)
            return pcmup__fail(PCMUP_ERR_INVALID, func, "width %zu is outside [1, %zu]",
                               widths[i], PCMUP_MAX_DIM);
    for (size_t k = 0; k < n_steps; k++)
        if (k > 0 && steps[k] <= steps[k - 1])
            return pcmup__fail(PCMUP_ERR_INVALID, func,
                               "steps must increase: steps[%zu] = %zu after %zu", k, steps[k],
                               steps[k - 1]);
    return PCMUP_OK;
}

pcmup_status pcmup_coord_check(const pcmup_algo *prototype, const size_t *widths,
                               size_t n_widths, const float *x, size_t x_count,
                               const int32_t *labels, size_t batch, const float *probe,
                               size_t probe_count, size_t probe_batch, const size_t *steps,
                               size_t n_steps, uint64_t seed, double *dh, double *h_abs,
                               size_t count)
{
    PCMUP_CHECK_NULL(prototype);
    PCMUP_CHECK_NULL(widths);
    PCMUP_CHECK_NULL(steps);
    const pcmup_net *pn = prototype->net;
    const size_t L = pn->n_layers;
    PCMUP_TRY(check_coord_args(prototype, widths, n_widths, steps, n_steps, count, __func__));
    PCMUP_TRY(pcmup__net_check_batch(pn, x, x_count, batch, "x", __func__));
    PCMUP_TRY(pcmup__check_labels(labels, batch, pn->widths[L], __func__));
    if (probe) {
        PCMUP_TRY(pcmup__net_check_batch(pn, probe, probe_count, probe_batch, "probe",
                                         __func__));
    } else {
        probe = x;
        probe_batch = batch;
    }

    /* Results go to the caller only once every width has run. */
    const pcmup_allocator *a = &prototype->alloc;
    const size_t per_width = n_steps * L, total = n_widths * per_width;
    double *res = pcmup__alloc(a, 2 * total, sizeof(double));
    float **sig = pcmup__alloc(a, 3 * L, sizeof(float *));
    pcmup_status s = PCMUP_OK;
    if (!res || !sig)
        s = pcmup__fail(PCMUP_ERR_NOMEM, __func__, "cannot allocate the probe signals");
    for (size_t i = 0; s == PCMUP_OK && i < n_widths; i++) {
        coord_model m;
        s = coord_model_build(&m, prototype, widths[i], seed, __func__);
        if (s != PCMUP_OK)
            break;
        float *block = coord_signals(m.net, probe_batch, sig, a);
        if (!block)
            s = pcmup__fail(PCMUP_ERR_NOMEM, __func__, "cannot allocate the probe signals");
        else
            s = coord_one_width(&m, x, labels, batch, probe, probe_batch, steps, n_steps, sig,
                                sig + L, sig + 2 * L, res + i * per_width,
                                res + total + i * per_width, __func__);
        pcmup__free(a, block);
        coord_model_free(&m);
    }
    if (s == PCMUP_OK) {
        if (dh)
            memcpy(dh, res, total * sizeof(double));
        if (h_abs)
            memcpy(h_abs, res + total, total * sizeof(double));
    }
    pcmup__free(a, res);
    pcmup__free(a, sig);
    return s;
}
