/* SPDX-License-Identifier: MIT */
/*
 * step.c -- one learning rule's step to time, and the replay of its level-3
 * products (step.h).
 */
#include "step.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "algo.h"
#include "bench.h"

/* ---- learning-rule steps through the library ------------------------------ */

int report(pcmup_status st, const char *what)
{
    if (st != PCMUP_OK)
        fprintf(stderr, PROG ": %s: %s (%s)\n", what, pcmup_last_error(),
                pcmup_status_name(st));
    return st != PCMUP_OK;
}

void step_bench_free(step_bench *b)
{
    pcmup_algo_free(b->algo);
    pcmup_net_free(b->net);
    pcmup_param_free(b->param);
    free(b->x);
    free(b->labels);
}

/* Each rule under its muP; PC's with gamma bar 0 has BP's exponents, and
 * GNT's preset is its e_B = 1 row (the exponents do not change the cost). */
static pcmup_preset mup_preset(pcmup_rule rule)
{
    switch (rule) {
    case PCMUP_RULE_PC: return PCMUP_PRESET_MUP_PC;
    case PCMUP_RULE_GNT: return PCMUP_PRESET_MUP_GNT;
    case PCMUP_RULE_TP:
    case PCMUP_RULE_DTP: return PCMUP_PRESET_MUP_TP;
    default: return PCMUP_PRESET_MUP_SGD;
    }
}

static int algo_set(pcmup_algo *a, pcmup_setting key, double value)
{
    return report(pcmup_algo_set(a, key, value), "pcmup_algo_set");
}

/* The settings of c's rule beyond the shared ones. */
static int configure_rule(pcmup_algo *a, const step_config *c)
{
    switch (c->rule) {
    case PCMUP_RULE_PC:
        return algo_set(a, PCMUP_SET_PC_ITERATIONS, (double)c->t)
            || (c->t > 1
                && (algo_set(a, PCMUP_SET_PC_SCHEDULE, PCMUP_PC_SCHEDULE_SIMULTANEOUS)
                    || algo_set(a, PCMUP_SET_PC_KAPPA, 0.2)));
    case PCMUP_RULE_GNT:
        return algo_set(a, PCMUP_SET_GNT_POWER, c->gnt_power)
            || algo_set(a, PCMUP_SET_GNT_VARIANT, c->gnt_variant);
    case PCMUP_RULE_TP:
    case PCMUP_RULE_DTP:
        return algo_set(a, PCMUP_SET_TP_FEEDBACK, c->feedback);
    default:
        return 0;
    }
}

/* A small learning rate: the labels are random, and the cost of a step
 * does not depend on it. */
int step_bench_init(step_bench *b, const step_config *c, const size_t *widths, size_t batch)
{
    uint64_t rng = 99;
    memset(b, 0, sizeof *b);
    b->batch = batch;
    b->x = alloc_floats(batch * INPUTS, &rng);
    b->labels = xmalloc(batch * sizeof *b->labels);
    for (size_t i = 0; i < batch; i++)
        b->labels[i] = (int32_t)(rng_next(&rng) % CLASSES);
    return report(pcmup_param_create(&b->param, DEPTH, mup_preset(c->rule), NULL),
                  "pcmup_param_create")
        || report(pcmup_net_create(&b->net, widths, DEPTH + 1, PCMUP_ACT_TANH, 0, b->param,
                                   1, NULL),
                  "pcmup_net_create")
        || report(pcmup_algo_create(&b->algo, c->rule, b->net, 2, NULL), "pcmup_algo_create")
        || algo_set(b->algo, PCMUP_SET_LR, 0.001)
        || configure_rule(b->algo, c);
}

int step_bench_step(void *ctx)
{
    step_bench *b = ctx;
    return report(pcmup_algo_step(b->algo, b->x, b->batch * INPUTS, b->labels, b->batch, NULL),
                  "pcmup_algo_step");
}
/* ---- replaying a step's level-3 products ----------------------------------- */

/* n elements of arbitrary values in [0, 1): their values do not change a
 * product's time, but denormals or NaNs could. */
static void *alloc_elements(const pcmup__gemm_shape *s, size_t n, uint64_t *rng)
{
    float *f;
    double *d;
    if (s->precision != 'd')
        return alloc_floats(n, rng);
    f = alloc_floats(n, rng);
    d = xmalloc(n * sizeof *d);
    for (size_t i = 0; i < n; i++)
        d[i] = f[i];
    free(f);
    return d;
}

/* The k x k identity: a trsm solves in place, so the replay's repetitions
 * solve the same b again and again; against the identity its values stay
 * where they are (a random triangle would grow or shrink them towards
 * overflow or denormals), and a trsm's time does not depend on them. */
static void *alloc_identity(const pcmup__gemm_shape *s)
{
    const size_t k = s->k;
    double *d = xmalloc(k * k * sizeof *d);
    for (size_t i = 0; i < k * k; i++)
        d[i] = i % (k + 1) == 0 ? 1.0 : 0.0;
    return d;
}

static int same_shape(const pcmup__gemm_shape *x, const pcmup__gemm_shape *y)
{
    return x->kind == y->kind && x->precision == y->precision && x->trans_a == y->trans_a
        && x->trans_b == y->trans_b && x->side == y->side && x->m == y->m && x->n == y->n
        && x->k == y->k;
}

/* The first product of the same shape before i, or i. */
static size_t first_of_shape(const gemm_replay *r, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (same_shape(&r->shapes[j], &r->shapes[i]))
            return j;
    return i;
}

/* The buffers of one product: a, b (gemm only) and c (for a trsm, a is the
 * triangle and c the right-hand sides). */
static void alloc_product(gemm_replay *r, size_t i, uint64_t *rng)
{
    const pcmup__gemm_shape *s = &r->shapes[i];
    r->b[i] = NULL;
    switch (s->kind) {
    case 's':
        r->a[i] = alloc_elements(s, s->n * s->k, rng);
        r->c[i] = alloc_elements(s, s->n * s->n, rng);
        break;
    case 't':
        r->a[i] = alloc_identity(s);
        r->c[i] = alloc_elements(s, s->m * s->n, rng);
        break;
    default:
        r->a[i] = alloc_elements(s, s->m * s->k, rng);
        r->b[i] = alloc_elements(s, s->k * s->n, rng);
        r->c[i] = alloc_elements(s, s->m * s->n, rng);
    }
}

/* Products of one shape share their buffers, as a step's repeated products
 * (PC's iterations, GNT's per-sample solves) reuse the same few buffers:
 * this keeps the replay's memory and cache footprint near the step's. */
int gemm_replay_init(gemm_replay *r, const pcmup__gemm_log *log)
{
    uint64_t rng = 4242;
    memset(r, 0, sizeof *r);
    if (log == NULL || log->count > log->capacity) {
        fprintf(stderr, PROG ": the GEMM log kept %zu of %zu products\n",
                log ? log->capacity : 0, log ? log->count : 0);
        return 1;
    }
    r->count = log->count;
    r->flops = log->flops;
    r->shapes = xmalloc((r->count + 1) * sizeof *r->shapes);
    r->a = xmalloc((r->count + 1) * sizeof *r->a);
    r->b = xmalloc((r->count + 1) * sizeof *r->b);
    r->c = xmalloc((r->count + 1) * sizeof *r->c);
    for (size_t i = 0; i < r->count; i++) {
        size_t j;
        r->shapes[i] = log->shapes[i];
        j = first_of_shape(r, i);
        if (j < i) {
            r->a[i] = r->a[j];
            r->b[i] = r->b[j];
            r->c[i] = r->c[j];
            continue;
        }
        alloc_product(r, i, &rng);
    }
    return 0;
}

void gemm_replay_free(gemm_replay *r)
{
    for (size_t i = 0; i < r->count; i++) {
        if (first_of_shape(r, i) < i)
            continue;
        free(r->a[i]);
        free(r->b[i]);
        free(r->c[i]);
    }
    free(r->shapes);
    free(r->a);
    free(r->b);
    free(r->c);
    memset(r, 0, sizeof *r);
}

/* Through the kernel's own wrappers (kernel.h, no log) with the logged
 * alpha and beta, so that the replay passes BLAS exactly the arguments
 * the step passed (a beta of 1 reads c, as the step's updates do). */
static void replay_one(const pcmup__gemm_shape *s, void *a, void *b, void *c)
{
    const int d = s->precision == 'd';
    switch (s->kind) {
    case 's':
        if (d)
            pcmup__k_dsyrk_lower_ld(NULL, s->trans_a, s->n, s->k, s->alpha, a,
                                    s->trans_a == 'T' ? s->n : s->k, s->beta, c, s->n);
        else
            pcmup__k_ssyrk_lower(NULL, s->trans_a, s->n, s->k, (float)s->alpha, a, c);
        break;
    case 't':
        pcmup__k_dtrsm_lower(NULL, s->side, s->trans_a, s->m, s->n, s->alpha, a, c);
        break;
    default:
        if (d)
            pcmup__k_dgemm(NULL, s->trans_a, s->trans_b, s->m, s->n, s->k, s->alpha, a, b,
                           s->beta, c);
        else
            pcmup__k_sgemm(NULL, s->trans_a, s->trans_b, s->m, s->n, s->k, (float)s->alpha, a,
                           b, (float)s->beta, c);
    }
}

int gemm_replay_run(void *ctx)
{
    gemm_replay *r = ctx;
    for (size_t i = 0; i < r->count; i++)
        replay_one(&r->shapes[i], r->a[i], r->b[i], r->c[i]);
    return 0;
}

/* A first step with a small log says how many products a step issues;
 * a second with room for them all records them (a step's products do not
 * depend on its data). */
int step_bench_record(step_bench *b, gemm_replay *r)
{
    const pcmup__gemm_log *log;
    size_t capacity = 64;
    memset(r, 0, sizeof *r);
    for (int pass = 0; pass < 2; pass++) {
        if (report(pcmup__algo_count_gemms(b->algo, capacity, PROG), "counting GEMMs")
            || step_bench_step(b))
            return 1;
        log = pcmup__algo_last_step_gemms(b->algo);
        if (log->count <= capacity)
            break;
        capacity = log->count;
    }
    return gemm_replay_init(r, log);
}
