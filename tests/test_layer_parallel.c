/* SPDX-License-Identifier: MIT */
/*
 * test_layer_parallel.c -- layer-parallel predictive coding through a
 * layer split (pcmup_algo_set_layer_split) equals the single-process
 * simultaneous run.
 *
 * The workers are threads of this process, each with its own network and
 * algorithm built from the same seeds, each owning a block of the L = 4
 * layers. Their callbacks are workers.h's: the exchange_fn is a set of
 * mailboxes, one per direction of each link between neighbours (MPI's
 * Isend/Irecv/Waitall, buffered), the sum_fn a barrier at which every
 * worker adds all the buffers in worker order (MPI_Allreduce). A failing
 * callback breaks the whole group: every callback after it, and every
 * wait in progress, fails too, as an aborting MPI job would.
 *
 * Every run -- the single process (the independent truth: no split, the
 * same library's plain simultaneous inference) and each split -- takes the
 * same sequence: steps on batches of 7, 7, 2 and 7, one epoch over 23
 * samples in batches of 7, a sync, and an evaluation. The splits: two
 * workers (2 + 2, and 3 + 1: a worker owning the output alone), three
 * (1 + 2 + 1), four (one layer each: L workers) and 1 + 3. Each worker must
 * end with the single process's weights and biases, and report its step
 * and epoch losses, energy trace, error norms, epoch energy and
 * evaluation. The tolerance is 1e-6 relative, but in this build the
 * numbers come out bitwise equal (measured: every difference 0): a worker
 * performs exactly the single process's operations on its layers, on the
 * same numbers, and the sums over workers add zeros. A wrong or missing
 * exchange moves the energies and weights by far more (removing the
 * backward message, or sending the wrong layer's states, breaks every
 * configuration here by 1e-3 or more).
 *
 * Also: argument checks, the refusals (rules, schedule, reducer, update
 * record, trial updates, a conv net, blocks that do not cover 1..L,
 * stale copies), a NULL split giving back the single process bit for bit,
 * callbacks that fail (PCMUP_ERR_IO on every worker with the objects
 * unchanged), and a divergence in one worker's layers reported by all. Threads never call Check: they record statuses, the main
 * thread asserts.
 */
#define _POSIX_C_SOURCE 200809L
#include "workers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N_LAYERS 4
#define D_IN 9
#define N_CLASSES 5
#define N_SAMPLES 23
#define MAX_WORKERS N_LAYERS
#define MAX_TRACE 64
#define TOL 1e-6

/* Odd widths, none equal to its neighbour's, so that a message of the
 * wrong layer has the wrong length as well as the wrong values. */
static const size_t widths[N_LAYERS + 1] = {D_IN, 15, 11, 13, N_CLASSES};

static const size_t step_batches[] = {7, 7, 2, 7};
#define EPOCH_BATCH 7

typedef struct {
    const char *name;
    unsigned net_flags;
    int n;
    pcmup_setting keys[8];
    double values[8];
} config;

/* Every config is PC with the simultaneous schedule. */
static const config configs[] = {
    {"T = 1, forward init, bias", PCMUP_NET_BIAS, 2, {PCMUP_SET_LR, PCMUP_SET_PC_ITERATIONS},
     {0.1, 1}},
    {"T = 20, forward init", 0, 3, {PCMUP_SET_LR, PCMUP_SET_PC_ITERATIONS, PCMUP_SET_PC_KAPPA},
     {0.1, 20, 0.2}},
    {"T = 6, zero init, momentum, decay", 0, 6,
     {PCMUP_SET_LR, PCMUP_SET_PC_ITERATIONS, PCMUP_SET_PC_INIT, PCMUP_SET_PC_KAPPA,
      PCMUP_SET_MOMENTUM, PCMUP_SET_WEIGHT_DECAY},
     {0.1, 6, PCMUP_PC_INIT_ZERO, 0.3, 0.5, 1e-3}},
    {"T = 20, random init", PCMUP_NET_BIAS, 5,
     {PCMUP_SET_LR, PCMUP_SET_PC_ITERATIONS, PCMUP_SET_PC_INIT, PCMUP_SET_PC_INIT_STD,
      PCMUP_SET_PC_KAPPA},
     {0.1, 20, PCMUP_PC_INIT_RANDOM, 0.5, 0.2}},
    {"T = 5, random init, FPA", 0, 6,
     {PCMUP_SET_LR, PCMUP_SET_PC_ITERATIONS, PCMUP_SET_PC_INIT, PCMUP_SET_PC_INIT_STD,
      PCMUP_SET_PC_KAPPA, PCMUP_SET_PC_FPA},
     {0.1, 5, PCMUP_PC_INIT_RANDOM, 0.5, 0.3, 1}},
    {"T = 4, forward init, FPA, last layer b", 0, 4,
     {PCMUP_SET_LR, PCMUP_SET_PC_ITERATIONS, PCMUP_SET_PC_FPA, PCMUP_SET_PC_LAST_LAYER},
     {0.1, 4, 1, PCMUP_PC_LAST_LAYER_B}},
    {"tolerance, ce", 0, 5,
     {PCMUP_SET_LR, PCMUP_SET_PC_ITERATIONS, PCMUP_SET_PC_TOLERANCE, PCMUP_SET_LOSS,
      PCMUP_SET_PC_KAPPA},
     {0.1, 40, 0.02, PCMUP_LOSS_CE, 0.2}},
};

/* Blocks: first layers of workers 0, 1, ... (the last ends at L). */
typedef struct {
    size_t n_workers;
    size_t first[MAX_WORKERS];
} split_def;

static const split_def splits[] = {
    {2, {1, 3}},       /* 2 + 2                    */
    {2, {1, 4}},       /* 3 + 1: the output alone  */
    {3, {1, 2, 4}},    /* 1 + 2 + 1                */
    {4, {1, 2, 3, 4}}, /* one layer each           */
    {2, {1, 2}},       /* 1 + 3                    */
};

static void block_of(const split_def *d, size_t k, size_t *first, size_t *last)
{
    *first = d->first[k];
    *last = k + 1 < d->n_workers ? d->first[k + 1] - 1 : N_LAYERS;
}

/* ---- the data ------------------------------------------------------------ */

static float data_x[N_SAMPLES * D_IN];
static int32_t data_labels[N_SAMPLES];

static void make_data(void)
{
    tw_make_data(data_x, data_labels, N_SAMPLES, D_IN, N_CLASSES);
}

/* ---- one run: the single process or one worker ---------------------------- */

typedef struct {
    const config *cfg;
    pcmup_param *param;
    pcmup_net *net;
    pcmup_algo *algo;
    pcmup_dataset *data;
    tw_worker ctx;
    size_t first, last; /* the block; 1, N_LAYERS for the single process */
    /* What the run reports. */
    pcmup_status status;
    char message[256];
    double step_loss[TU_COUNT(step_batches)];
    double trace[MAX_TRACE];
    size_t trace_count;
    double norms[N_LAYERS];
    double epoch_loss, epoch_energy, eval_loss, eval_acc;
    pcmup_status stale_eval; /* evaluate before the sync */
} run;

static void run_make(run *r, const config *cfg, tw_group *g, size_t rank, size_t first,
                     size_t last)
{
    memset(r, 0, sizeof *r);
    r->cfg = cfg;
    r->first = first;
    r->last = last;
    r->param = tu_param(N_LAYERS, PCMUP_PRESET_MUP_PC, 0.0);
    TU_OK(pcmup_net_create(&r->net, widths, N_LAYERS + 1, PCMUP_ACT_TANH, cfg->net_flags,
                           r->param, 99, NULL));
    TU_OK(pcmup_algo_create(&r->algo, PCMUP_RULE_PC, r->net, 5, NULL));
    TU_OK(pcmup_algo_set(r->algo, PCMUP_SET_PC_SCHEDULE, PCMUP_PC_SCHEDULE_SIMULTANEOUS));
    for (int i = 0; i < cfg->n; i++)
        TU_OK(pcmup_algo_set(r->algo, cfg->keys[i], cfg->values[i]));
    TU_OK(pcmup_dataset_from_arrays(&r->data, N_SAMPLES, D_IN, N_CLASSES, data_x,
                                    TU_COUNT(data_x), data_labels, NULL));
    if (g) {
        r->ctx = (tw_worker){g, rank, 0, 0};
        pcmup_layer_split s = PCMUP_LAYER_SPLIT_INIT(first, last, tw_exchange, tw_sum, &r->ctx);
        TU_OK(pcmup_algo_set_layer_split(r->algo, &s));
    }
}

static void run_free(run *r)
{
    pcmup_dataset_free(r->data);
    pcmup_algo_free(r->algo);
    pcmup_net_free(r->net);
    pcmup_param_free(r->param);
}

static void *run_failed(run *r, pcmup_status s)
{
    r->status = s;
    snprintf(r->message, sizeof r->message, "%s", pcmup_last_error());
    return NULL;
}

/* The whole sequence; runs in a worker's thread. */
static void *run_all(void *arg)
{
    run *r = arg;
    size_t start = 0;
    pcmup_status st;
    for (size_t s = 0; s < TU_COUNT(step_batches); s++) {
        const size_t b = step_batches[s];
        st = pcmup_algo_step(r->algo, data_x + start * D_IN, b * D_IN, data_labels + start, b,
                             &r->step_loss[s]);
        if (st != PCMUP_OK)
            return run_failed(r, st);
        start += b;
    }
    if (pcmup_pc_energy_trace(r->algo, r->trace, MAX_TRACE, &r->trace_count) != PCMUP_OK ||
        pcmup_pc_error_norms(r->algo, r->norms, N_LAYERS) != PCMUP_OK)
        return run_failed(r, PCMUP_ERR_INVALID);
    st = pcmup_algo_train_epoch(r->algo, r->data, EPOCH_BATCH, &r->epoch_loss);
    if (st != PCMUP_OK)
        return run_failed(r, st);
    if (pcmup_pc_epoch_energy(r->algo, &r->epoch_energy) != PCMUP_OK)
        return run_failed(r, PCMUP_ERR_INVALID);
    r->stale_eval = pcmup_algo_evaluate(r->algo, r->data, NULL, NULL);
    if ((st = pcmup_algo_sync_layers(r->algo)) != PCMUP_OK)
        return run_failed(r, st);
    st = pcmup_algo_evaluate(r->algo, r->data, &r->eval_loss, &r->eval_acc);
    if (st != PCMUP_OK)
        return run_failed(r, st);
    return NULL;
}

/* The whole sequence on every worker, each in its own thread. */
static void run_group(run *w, size_t n_workers)
{
    tw_in_threads(run_all, w, sizeof *w, n_workers);
}

/* ---- comparing ------------------------------------------------------------ */

static double worst; /* the largest relative difference seen, for the record */

static void assert_close(double got, double want, const char *what, const run *w)
{
    double scale = fabs(want) > 1.0 ? fabs(want) : 1.0;
    worst = fmax(worst, fabs(got - want) / scale);
    ck_assert_msg(fabs(got - want) <= TOL * scale,
                  "%s, layers %zu..%zu: %s %.9g, single %.9g", w->cfg->name, w->first, w->last,
                  what, got, want);
}

/* Layer l's weights (which 0) or bias (1), malloc'd. */
static float *read_array(const run *r, int which, size_t l, size_t *n)
{
    *n = which ? widths[l] : widths[l] * widths[l - 1];
    float *a = malloc(*n * sizeof *a);
    TU_OK(which ? pcmup_net_get_bias(r->net, l, a, *n) : pcmup_net_get_weights(r->net, l, a, *n));
    return a;
}

static void assert_arrays(const run *w, const run *single)
{
    for (int which = 0; which < 2; which++) {
        if (which == 1 && !(single->cfg->net_flags & PCMUP_NET_BIAS))
            continue;
        for (size_t l = 1; l <= N_LAYERS; l++) {
            size_t n;
            float *got = read_array(w, which, l, &n), *want = read_array(single, which, l, &n);
            double err = 0.0, scale = 0.0;
            for (size_t i = 0; i < n; i++) {
                err = fmax(err, fabs((double)got[i] - want[i]));
                scale = fmax(scale, fabs((double)want[i]));
            }
            worst = fmax(worst, err / scale);
            ck_assert_msg(err <= TOL * scale,
                          "%s, layers %zu..%zu: %s of layer %zu off by %g (scale %g)",
                          w->cfg->name, w->first, w->last, which ? "bias" : "weights", l, err,
                          scale);
            free(got);
            free(want);
        }
    }
}

static void assert_matches(const run *w, const run *single)
{
    ck_assert_msg(w->status == PCMUP_OK, "%s, layers %zu..%zu: %s", w->cfg->name, w->first,
                  w->last, w->message);
    for (size_t s = 0; s < TU_COUNT(step_batches); s++)
        assert_close(w->step_loss[s], single->step_loss[s], "step loss", w);
    ck_assert_uint_eq(w->trace_count, single->trace_count);
    for (size_t t = 0; t < w->trace_count && t < MAX_TRACE; t++)
        assert_close(w->trace[t], single->trace[t], "energy", w);
    for (size_t l = 0; l < N_LAYERS; l++)
        assert_close(w->norms[l], single->norms[l], "error norm", w);
    assert_close(w->epoch_loss, single->epoch_loss, "epoch loss", w);
    assert_close(w->epoch_energy, single->epoch_energy, "epoch energy", w);
    assert_close(w->eval_loss, single->eval_loss, "evaluation loss", w);
    assert_close(w->eval_acc, single->eval_acc, "accuracy", w);
    /* Before the sync a worker of several refuses to evaluate its copy. */
    ck_assert_int_eq(w->stale_eval, PCMUP_ERR_UNSUPPORTED);
    assert_arrays(w, single);
}

START_TEST(test_matches_single_process)
{
    make_data();
    const config *cfg = &configs[_i];
    run single;
    run_make(&single, cfg, NULL, 0, 1, N_LAYERS);
    run_all(&single);
    ck_assert_msg(single.status == PCMUP_OK, "%s: %s", cfg->name, single.message);
    /* The sequence trains, and inference moves the energy. */
    ck_assert(single.step_loss[3] != single.step_loss[0]);
    ck_assert(single.trace[single.trace_count - 1] != single.trace[0] ||
              single.trace_count == 1);
    if (cfg->keys[2] == PCMUP_SET_PC_TOLERANCE)
        ck_assert_uint_lt(single.trace_count, 41); /* the tolerance did stop it */
    for (size_t d = 0; d < TU_COUNT(splits); d++) {
        const split_def *def = &splits[d];
        tw_group g;
        tw_group_init(&g, def->n_workers);
        run w[MAX_WORKERS];
        for (size_t k = 0; k < def->n_workers; k++) {
            size_t first, last;
            block_of(def, k, &first, &last);
            run_make(&w[k], cfg, &g, k, first, last);
        }
        run_group(w, def->n_workers);
        for (size_t k = 0; k < def->n_workers; k++)
            assert_matches(&w[k], &single);
        for (size_t k = 0; k < def->n_workers; k++)
            run_free(&w[k]);
        tw_group_destroy(&g);
    }
    run_free(&single);
    fprintf(stderr, "layer_parallel %s: largest relative difference %g\n", cfg->name, worst);
}
END_TEST

/* ---- failures ------------------------------------------------------------- */

static void *step_once(void *arg)
{
    run *r = arg;
    double loss;
    r->status = pcmup_algo_step(r->algo, data_x, 7 * D_IN, data_labels, 7, &loss);
    snprintf(r->message, sizeof r->message, "%s", pcmup_last_error());
    return NULL;
}

/* One step on every worker, each in its thread. */
static void steps_all(run *w, size_t n_workers)
{
    tw_in_threads(step_once, w, sizeof *w, n_workers);
}

typedef struct {
    run *r;
    int what; /* 0: a step, 1: an epoch, 2: a sync */
    pcmup_status status;
    char message[256];
} failing_job;

static void *failing_call(void *arg)
{
    failing_job *j = arg;
    run *r = j->r;
    double loss;
    if (j->what == 0)
        j->status = pcmup_algo_step(r->algo, data_x, 7 * D_IN, data_labels, 7, &loss);
    else if (j->what == 1)
        j->status = pcmup_algo_train_epoch(r->algo, r->data, EPOCH_BATCH, &loss);
    else
        j->status = pcmup_algo_sync_layers(r->algo);
    snprintf(j->message, sizeof j->message, "%s", pcmup_last_error());
    return NULL;
}

/* A callback of worker 1 failing at its k-th call breaks the group: every
 * worker's call returns PCMUP_ERR_IO, and its weights, momentum-driven
 * state and counters are as before the call. */
START_TEST(test_failing_callback)
{
    make_data();
    const config *cfg = &configs[2]; /* momentum: several kinds of state */
    const split_def *def = &splits[2]; /* three workers: a middle one fails */
    /* Worker 1 (layers 2..3) in a step of T = 6 from zero states: the
     * forward pass (calls 1, 2: receive, send), the loss (3), the first
     * states (4) and energy (5), each iteration's two exchanges and
     * energy (6..23), the error norms (24) and the agreement on the
     * outcome (25, after the weights moved). */
    const size_t fail_at[] = {1, 2, 4, 7, 11, 20, 25};
    for (int what = 0; what < 3; what++) {
        for (size_t f = 0; f < TU_COUNT(fail_at); f++) {
            tw_group g;
            tw_group_init(&g, def->n_workers);
            run w[MAX_WORKERS];
            failing_job jobs[MAX_WORKERS];
            float **before[MAX_WORKERS];
            for (size_t k = 0; k < def->n_workers; k++) {
                size_t first, last;
                block_of(def, k, &first, &last);
                run_make(&w[k], cfg, &g, k, first, last);
            }
            run_group(w, def->n_workers); /* momentum and counters to keep */
            if (what == 2)
                steps_all(w, def->n_workers); /* a stale copy, for the sync */
            for (size_t k = 0; k < def->n_workers; k++) {
                ck_assert_msg(w[k].status == PCMUP_OK, "%s", w[k].message);
                w[k].ctx.calls = 0;
                w[k].ctx.fail_at = k == 1 ? fail_at[f] : 0;
                before[k] = tw_weights_copy(w[k].net, N_LAYERS);
                jobs[k] = (failing_job){&w[k], what, PCMUP_OK, ""};
            }
            uint64_t epochs0, steps0, epochs, steps;
            TU_OK(pcmup_algo_counters(w[0].algo, &epochs0, &steps0));
            tw_in_threads(failing_call, jobs, sizeof *jobs, def->n_workers);
            for (size_t k = 0; k < def->n_workers; k++) {
                /* A sync makes two sums (weights, momentum): later failures never happen. */
                int expect_fail = what != 2 || fail_at[f] <= 2;
                ck_assert_msg(jobs[k].status == (expect_fail ? PCMUP_ERR_IO : PCMUP_OK),
                              "job %d, fail at %zu, worker %zu: %s", what, fail_at[f], k,
                              jobs[k].message);
                if (expect_fail && k == 1)
                    ck_assert_msg(strstr(jobs[k].message, "returned 42") != NULL, "%s",
                                  jobs[k].message);
                TU_OK(pcmup_algo_counters(w[k].algo, &epochs, &steps));
                if (what < 2 || expect_fail) {
                    ck_assert_uint_eq(epochs, epochs0);
                    ck_assert_uint_eq(steps, steps0);
                    size_t l = tw_weights_changed(w[k].net, before[k], N_LAYERS);
                    ck_assert_msg(l == 0, "job %d, fail at %zu: worker %zu's layer %zu changed",
                                  what, fail_at[f], k, l);
                }
                tw_weights_free(before[k], N_LAYERS);
            }
            for (size_t k = 0; k < def->n_workers; k++)
                run_free(&w[k]);
            tw_group_destroy(&g);
        }
    }
}
END_TEST

/* A split taken away again is the single process bit for bit. */
START_TEST(test_null_split_restores)
{
    make_data();
    tw_group g;
    tw_group_init(&g, 2);
    run plain, undone;
    run_make(&plain, &configs[3], NULL, 0, 1, N_LAYERS);
    run_make(&undone, &configs[3], &g, 0, 1, 2);
    TU_OK(pcmup_algo_set_layer_split(undone.algo, NULL));
    run_all(&plain);
    run_all(&undone);
    ck_assert_msg(undone.status == PCMUP_OK, "%s", undone.message);
    ck_assert_uint_eq(undone.ctx.calls, 0);
    ck_assert(memcmp(plain.step_loss, undone.step_loss, sizeof plain.step_loss) == 0);
    ck_assert(memcmp(plain.trace, undone.trace, sizeof plain.trace) == 0);
    ck_assert(plain.eval_loss == undone.eval_loss);
    /* Without a split nothing is stale, and the sync does nothing. */
    ck_assert_int_eq(plain.stale_eval, PCMUP_OK);
    for (size_t l = 1; l <= N_LAYERS; l++) {
        size_t n;
        float *a = read_array(&plain, 0, l, &n), *b = read_array(&undone, 0, l, &n);
        ck_assert_msg(memcmp(a, b, n * sizeof *a) == 0, "layer %zu", l);
        free(a);
        free(b);
    }
    run_free(&plain);
    run_free(&undone);
    tw_group_destroy(&g);
}
END_TEST

static size_t never_calls;

static int never_sum(void *user, void *buf, size_t count, int type)
{
    (void)user, (void)buf, (void)count, (void)type;
    never_calls++;
    return 1;
}

static int never_exchange(void *user, const float *a, size_t an, float *b, size_t bn,
                          const float *c, size_t cn, float *d, size_t dn)
{
    (void)user, (void)a, (void)an, (void)b, (void)bn, (void)c, (void)cn, (void)d, (void)dn;
    never_calls++;
    return 1;
}

START_TEST(test_invalid_splits)
{
    make_data();
    run r;
    run_make(&r, &configs[0], NULL, 0, 1, N_LAYERS);
    const pcmup_layer_split ok = PCMUP_LAYER_SPLIT_INIT(2, 3, never_exchange, never_sum, NULL);
    pcmup_layer_split bad = ok;
    bad.size = sizeof(size_t) * 3;
    TU_FAILS_IN(PCMUP_ERR_INVALID, pcmup_algo_set_layer_split, r.algo, &bad);
    bad = ok;
    bad.first_layer = 0;
    TU_FAILS_IN(PCMUP_ERR_INVALID, pcmup_algo_set_layer_split, r.algo, &bad);
    bad = ok;
    bad.first_layer = 3, bad.last_layer = 2;
    TU_FAILS_IN(PCMUP_ERR_INVALID, pcmup_algo_set_layer_split, r.algo, &bad);
    bad = ok;
    bad.last_layer = N_LAYERS + 1;
    TU_FAILS_IN(PCMUP_ERR_INVALID, pcmup_algo_set_layer_split, r.algo, &bad);
    bad = ok;
    bad.exchange_fn = NULL;
    TU_FAILS_IN(PCMUP_ERR_INVALID, pcmup_algo_set_layer_split, r.algo, &bad);
    bad = ok;
    bad.sum_fn = NULL;
    TU_FAILS_IN(PCMUP_ERR_INVALID, pcmup_algo_set_layer_split, r.algo, &bad);
    TU_FAILS_IN(PCMUP_ERR_NULL, pcmup_algo_set_layer_split, NULL, &ok);
    /* A reducer and a split exclude each other, either way round. */
    pcmup_reducer red = PCMUP_REDUCER_INIT(0, 2, never_sum, NULL, NULL);
    TU_OK(pcmup_algo_set_reducer(r.algo, &red));
    TU_FAILS_IN(PCMUP_ERR_UNSUPPORTED, pcmup_algo_set_layer_split, r.algo, &ok);
    TU_OK(pcmup_algo_set_reducer(r.algo, NULL));
    /* A larger struct from a newer header is fine. */
    struct {
        pcmup_layer_split s;
        double later;
    } newer = {ok, 1.0};
    newer.s.size = sizeof newer;
    TU_OK(pcmup_algo_set_layer_split(r.algo, &newer.s));
    TU_FAILS_IN(PCMUP_ERR_UNSUPPORTED, pcmup_algo_set_reducer, r.algo, &red);
    /* Refused before any callback: the sequential schedule, the update
     * record, trial updates; and a worker's arguments are checked first. */
    never_calls = 0;
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_PC_SCHEDULE, PCMUP_PC_SCHEDULE_SEQUENTIAL));
    TU_FAILS_IN(PCMUP_ERR_UNSUPPORTED, pcmup_algo_step, r.algo, data_x, 7 * D_IN, data_labels,
                7, NULL);
    TU_FAILS_IN(PCMUP_ERR_UNSUPPORTED, pcmup_algo_train_epoch, r.algo, r.data, 7, NULL);
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_PC_SCHEDULE, PCMUP_PC_SCHEDULE_SIMULTANEOUS));
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_RECORD_UPDATES, 1));
    TU_FAILS_IN(PCMUP_ERR_UNSUPPORTED, pcmup_algo_step, r.algo, data_x, 7 * D_IN, data_labels,
                7, NULL);
    TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_RECORD_UPDATES, 0));
    float *updates[N_LAYERS] = {NULL, NULL, NULL, NULL};
    TU_FAILS_IN(PCMUP_ERR_UNSUPPORTED, pcmup_algo_trial_update, r.algo, data_x, 7 * D_IN,
                data_labels, 7, updates, N_LAYERS);
    TU_FAILS_IN(PCMUP_ERR_SHAPE, pcmup_algo_step, r.algo, data_x, 5, data_labels, 7, NULL);
    ck_assert_uint_eq(never_calls, 0);
    /* The first callback failing is PCMUP_ERR_IO, nothing changed. */
    double loss = -1.0;
    TU_FAILS_IN(PCMUP_ERR_IO, pcmup_algo_step, r.algo, data_x, 7 * D_IN, data_labels, 7, &loss);
    ck_assert(strstr(pcmup_last_error(), "sum_fn returned 1") != NULL);
    ck_assert(loss == -1.0);
    /* Nothing is stale after a failed step: the sync calls nothing. */
    size_t calls = never_calls;
    TU_OK(pcmup_algo_sync_layers(r.algo));
    ck_assert_uint_eq(never_calls, calls);
    run_free(&r);

    /* Other rules refuse a split, as does a convolutional network. */
    pcmup_param *param = tu_param(N_LAYERS, PCMUP_PRESET_MUP_SGD, 0.0);
    pcmup_net *net;
    pcmup_algo *bp;
    TU_OK(pcmup_net_create(&net, widths, N_LAYERS + 1, PCMUP_ACT_TANH, 0, param, 1, NULL));
    TU_OK(pcmup_algo_create(&bp, PCMUP_RULE_BP, net, 1, NULL));
    TU_FAILS_IN(PCMUP_ERR_UNSUPPORTED, pcmup_algo_set_layer_split, bp, &ok);
    pcmup_algo_free(bp);
    pcmup_net_free(net);
    pcmup_param_free(param);
    param = tu_param(2, PCMUP_PRESET_MUP_PC, 0.0);
    TU_OK(pcmup_net_create_from_text(&net, "conv3p1:M tanh dense:5", 1, 6, 6, 4, PCMUP_ACT_TANH,
                                     0, param, 1, NULL));
    pcmup_algo *pc;
    TU_OK(pcmup_algo_create(&pc, PCMUP_RULE_PC, net, 1, NULL));
    const pcmup_layer_split conv = PCMUP_LAYER_SPLIT_INIT(1, 1, never_exchange, never_sum, NULL);
    TU_FAILS_IN(PCMUP_ERR_UNSUPPORTED, pcmup_algo_set_layer_split, pc, &conv);
    pcmup_algo_free(pc);
    pcmup_net_free(net);
    pcmup_param_free(param);
}
END_TEST

/* Blocks that overlap or leave a layer out are refused at the first step,
 * on every worker (they all see the same ownership sum); a stale copy is
 * refused by pcmup_algo_save too. */

START_TEST(test_blocks_checked)
{
    make_data();
    /* 1..2 and 2..4 (layer 2 twice), then 1..2 and 4..4 (layer 3 never). */
    const size_t blocks[2][2][2] = {{{1, 2}, {2, 4}}, {{1, 2}, {4, 4}}};
    for (int c = 0; c < 2; c++) {
        tw_group g;
        tw_group_init(&g, 2);
        run w[2];
        for (size_t k = 0; k < 2; k++)
            run_make(&w[k], &configs[0], &g, k, blocks[c][k][0], blocks[c][k][1]);
        steps_all(w, 2);
        for (size_t k = 0; k < 2; k++) {
            ck_assert_msg(w[k].status == PCMUP_ERR_INVALID, "%s", w[k].message);
            ck_assert_msg(strstr(w[k].message, c == 0 ? "layer 2 is owned by 2" :
                                                        "layer 3 is owned by 0") != NULL,
                          "%s", w[k].message);
            run_free(&w[k]);
        }
        tw_group_destroy(&g);
    }
    /* A good split's copy is stale after a step until the sync. */
    tw_group g;
    tw_group_init(&g, 2);
    run w[2];
    for (size_t k = 0; k < 2; k++)
        run_make(&w[k], &configs[0], &g, k, k ? 3 : 1, k ? 4 : 2);
    steps_all(w, 2);
    char path[] = "/tmp/pcmup_layer_parallel_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    for (size_t k = 0; k < 2; k++) {
        ck_assert_msg(w[k].status == PCMUP_OK, "%s", w[k].message);
        TU_FAILS_IN(PCMUP_ERR_UNSUPPORTED, pcmup_algo_save, w[k].algo, path, NULL, 0);
        run_free(&w[k]);
    }
    remove(path);
    tw_group_destroy(&g);
}
END_TEST

/* An output bias of 1e37: the loss (a double) stays finite, and a
 * learning rate far past 2 makes the step overshoot it to infinity, while
 * kappa = 0 keeps the states, and so the hidden errors and updates, at 0
 * (at 3e38 the state gradient itself would overflow, and 0 x inf make
 * layer 3 NaN).
 * The single process reports layer 4 diverged; split 1..3 and 4, the
 * worker of 1..3 sees its own layers finite and must report the
 * divergence all the same, both putting their weights back. */
static void huge_output_bias(run *r)
{
    float b[N_CLASSES];
    TU_OK(pcmup_net_get_bias(r->net, N_LAYERS, b, N_CLASSES));
    b[0] = 1e37f;
    TU_OK(pcmup_net_set_bias(r->net, N_LAYERS, b, N_CLASSES));
}

START_TEST(test_divergence_agreed)
{
    make_data();
    static const config overshoot = {"overshoot", PCMUP_NET_BIAS, 3,
                                     {PCMUP_SET_LR, PCMUP_SET_PC_ITERATIONS, PCMUP_SET_PC_KAPPA},
                                     {1000.0, 1, 0.0}};
    const config *cfg = &overshoot;
    run single;
    run_make(&single, cfg, NULL, 0, 1, N_LAYERS);
    huge_output_bias(&single);
    step_once(&single);
    ck_assert_msg(single.status == PCMUP_ERR_DIVERGED && strstr(single.message, "layer 4"),
                  "%s", single.message);
    run_free(&single);
    tw_group g;
    tw_group_init(&g, 2);
    run w[2];
    float **before[2];
    for (size_t k = 0; k < 2; k++) {
        run_make(&w[k], cfg, &g, k, k ? 4 : 1, k ? 4 : 3);
        huge_output_bias(&w[k]);
        before[k] = tw_weights_copy(w[k].net, N_LAYERS);
    }
    steps_all(w, 2);
    for (size_t k = 0; k < 2; k++) {
        ck_assert_msg(w[k].status == PCMUP_ERR_DIVERGED, "worker %zu: %s", k, w[k].message);
        if (k == 0)
            ck_assert_msg(strstr(w[k].message, "another worker") != NULL, "%s", w[k].message);
        ck_assert_uint_eq(tw_weights_changed(w[k].net, before[k], N_LAYERS), 0);
        tw_weights_free(before[k], N_LAYERS);
        run_free(&w[k]);
    }
    tw_group_destroy(&g);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("layer_parallel");
    TCase *tc = tcase_create("layer_parallel");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_matches_single_process, 0, (int)TU_COUNT(configs));
    tcase_add_test(tc, test_failing_callback);
    tcase_add_test(tc, test_null_split_restores);
    tcase_add_test(tc, test_invalid_splits);
    tcase_add_test(tc, test_blocks_checked);
    tcase_add_test(tc, test_divergence_agreed);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
