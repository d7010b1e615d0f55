/* SPDX-License-Identifier: MIT */
/*
 * test_data_parallel.c -- data-parallel training through a reducer
 * (pcmup_algo_set_reducer) equals the single process with the same global
 * batch, to float rounding.
 *
 * The workers are threads of this process, each with its own network and
 * algorithm built from the same seeds. Their reducer is workers.h's: a
 * barrier, then every worker adds all the buffers in rank order -- what
 * MPI_Allreduce does between processes -- and a gather in rank order
 * (MPI_Allgatherv). Every run (R = 2 and R = 3 workers, and the single
 * process, which is the independent truth here) takes the same sequence: steps on
 * global batches of 7 (split 4 + 3 and 3 + 2 + 2) and of 2 (a worker with
 * an empty share on 3), one epoch over 23 samples in batches of 7 (last
 * batch 2), and an evaluation. The workers must end with the single
 * process's weights (and trained feedback) and report its losses, energies
 * and accuracy to a tolerance of 1e-5 relative: the sums are the same
 * numbers added in another order, a few float roundings apart, where any
 * missing reduction or misplaced random draw moves things by percents.
 * All the workers' weights must be bitwise equal: they applied the same
 * sums. The learning rates and inference steps are moderate on purpose:
 * at kappa = 1 or a BP learning rate of 0.2 on this small net, training
 * itself amplifies a rounding difference some fivefold a step (measured
 * with one worker, whose only change is the order of the update's
 * multiply and sum), and a tolerance would have to grow with it.
 *
 * Also: a callback that fails is PCMUP_ERR_IO with the objects unchanged;
 * a NULL reducer gives back the single process bit for bit; invalid
 * reducers and unsupported rules are refused. Threads never call Check:
 * they record statuses, the main thread asserts.
 */
#define _POSIX_C_SOURCE 200809L
#include "workers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_LAYERS 3
#define D_IN 9
#define N_CLASSES 5
#define N_SAMPLES 23
#define MAX_WORKERS 3
#define TOL 1e-5
/* Odd widths, so that no share of the noise is aligned with anything.
 * Closed-form feedback solves
 * a hidden layer's ridge system one way when M_{l-1} > B (here, for B = 7
 * and 2) and another when M_{l-1} <= B (`narrow`, for B = 7); GNT's batch
 * variant works on P_l's side for B C >= M_l (B = 7) and on the Gram
 * side otherwise (B = 2, gathering the Jacobian rows). */
static const size_t widths[N_LAYERS + 1] = {D_IN, 15, 11, N_CLASSES};
static const size_t narrow[N_LAYERS + 1] = {D_IN, 6, 4, N_CLASSES};

/* The steps' global batches (the last is smaller than 3 workers), then an
 * epoch in batches of EPOCH_BATCH. */
static const size_t step_batches[] = {7, 7, 2, 7};
#define EPOCH_BATCH 7

typedef struct {
    const char *name;
    pcmup_rule rule;
    pcmup_preset preset;
    unsigned net_flags;
    int n;
    pcmup_setting keys[8];
    double values[8];
    const size_t *widths; /* NULL: `widths` */
} config;

static const config configs[] = {
    {"bp", PCMUP_RULE_BP, PCMUP_PRESET_MUP_SGD, PCMUP_NET_BIAS, 1, {PCMUP_SET_LR}, {0.05}, NULL},
    {"bp momentum, decay, ce, record", PCMUP_RULE_BP, PCMUP_PRESET_MUP_SGD, 0, 5,
     {PCMUP_SET_LR, PCMUP_SET_MOMENTUM, PCMUP_SET_WEIGHT_DECAY, PCMUP_SET_LOSS,
      PCMUP_SET_RECORD_UPDATES},
     {0.05, 0.5, 1e-3, PCMUP_LOSS_CE, 1}, NULL},
    {"pc sequential", PCMUP_RULE_PC, PCMUP_PRESET_MUP_PC, PCMUP_NET_BIAS, 3,
     {PCMUP_SET_LR, PCMUP_SET_PC_ITERATIONS, PCMUP_SET_PC_KAPPA}, {0.05, 5, 0.3}, NULL},
    {"pc simultaneous, zero init, momentum", PCMUP_RULE_PC, PCMUP_PRESET_MUP_PC, 0, 6,
     {PCMUP_SET_LR, PCMUP_SET_PC_ITERATIONS, PCMUP_SET_PC_SCHEDULE, PCMUP_SET_PC_INIT,
      PCMUP_SET_PC_KAPPA, PCMUP_SET_MOMENTUM},
     {0.1, 6, PCMUP_PC_SCHEDULE_SIMULTANEOUS, PCMUP_PC_INIT_ZERO, 0.3, 0.5}, NULL},
    {"pc random init", PCMUP_RULE_PC, PCMUP_PRESET_MUP_PC, 0, 5,
     {PCMUP_SET_LR, PCMUP_SET_PC_ITERATIONS, PCMUP_SET_PC_INIT, PCMUP_SET_PC_INIT_STD,
      PCMUP_SET_PC_KAPPA},
     {0.1, 4, PCMUP_PC_INIT_RANDOM, 0.5, 0.3}, NULL},
    {"pc fpa, cache, last layer b, record", PCMUP_RULE_PC, PCMUP_PRESET_MUP_PC_B, 0, 6,
     {PCMUP_SET_LR, PCMUP_SET_PC_ITERATIONS, PCMUP_SET_PC_FPA, PCMUP_SET_PC_TIMING,
      PCMUP_SET_PC_LAST_LAYER, PCMUP_SET_RECORD_UPDATES},
     {0.1, 5, 1, PCMUP_PC_TIMING_CACHE, PCMUP_PC_LAST_LAYER_B, 1}, NULL},
    {"pc tolerance, ce, decay", PCMUP_RULE_PC, PCMUP_PRESET_MUP_PC, 0, 6,
     {PCMUP_SET_LR, PCMUP_SET_PC_ITERATIONS, PCMUP_SET_PC_TOLERANCE, PCMUP_SET_LOSS,
      PCMUP_SET_WEIGHT_DECAY, PCMUP_SET_PC_KAPPA},
     {0.1, 40, 0.02, PCMUP_LOSS_CE, 1e-3, 0.2}, NULL},
    {"tp trained, noise", PCMUP_RULE_TP, PCMUP_PRESET_MUP_TP, 0, 5,
     {PCMUP_SET_LR, PCMUP_SET_TP_FEEDBACK, PCMUP_SET_TP_FB_STEPS, PCMUP_SET_TP_FB_NOISE,
      PCMUP_SET_TP_FB_ACTIVATION},
     {0.1, PCMUP_TP_FEEDBACK_TRAINED, 2, 0.1, PCMUP_ACT_IDENTITY}, NULL},
    {"dtp trained tanh, noise, momentum", PCMUP_RULE_DTP, PCMUP_PRESET_MUP_TP, 0, 6,
     {PCMUP_SET_LR, PCMUP_SET_TP_FEEDBACK, PCMUP_SET_TP_FB_STEPS, PCMUP_SET_TP_FB_NOISE,
      PCMUP_SET_TP_FB_ACTIVATION, PCMUP_SET_MOMENTUM},
     {0.1, PCMUP_TP_FEEDBACK_TRAINED, 3, 0.05, PCMUP_ACT_TANH, 0.5}, NULL},
    {"dtp trained, no noise", PCMUP_RULE_DTP, PCMUP_PRESET_MUP_TP, 0, 3,
     {PCMUP_SET_LR, PCMUP_SET_TP_FEEDBACK, PCMUP_SET_TP_FB_STEPS},
     {0.1, PCMUP_TP_FEEDBACK_TRAINED, 1}, NULL},
    {"tp closed", PCMUP_RULE_TP, PCMUP_PRESET_MUP_TP, 0, 2,
     {PCMUP_SET_LR, PCMUP_SET_TP_FEEDBACK}, {0.1, PCMUP_TP_FEEDBACK_CLOSED}, NULL},
    {"dtp closed, narrow, momentum", PCMUP_RULE_DTP, PCMUP_PRESET_MUP_TP, 0, 3,
     {PCMUP_SET_LR, PCMUP_SET_TP_FEEDBACK, PCMUP_SET_MOMENTUM},
     {0.1, PCMUP_TP_FEEDBACK_CLOSED, 0.5}, narrow},
    {"gnt batch", PCMUP_RULE_GNT, PCMUP_PRESET_MUP_GNT, 0, 2,
     {PCMUP_SET_LR, PCMUP_SET_GNT_VARIANT}, {0.05, PCMUP_GNT_BATCH}, NULL},
    {"gnt batch, ce, power 0.5, record", PCMUP_RULE_GNT, PCMUP_PRESET_MUP_GNT, 0, 5,
     {PCMUP_SET_LR, PCMUP_SET_GNT_VARIANT, PCMUP_SET_LOSS, PCMUP_SET_GNT_POWER,
      PCMUP_SET_RECORD_UPDATES},
     {0.05, PCMUP_GNT_BATCH, PCMUP_LOSS_CE, 0.5, 1}, NULL},
    {"gnt sample, ce, output", PCMUP_RULE_GNT, PCMUP_PRESET_MUP_GNT, 0, 4,
     {PCMUP_SET_LR, PCMUP_SET_GNT_VARIANT, PCMUP_SET_LOSS, PCMUP_SET_GNT_OUTPUT},
     {0.05, PCMUP_GNT_SAMPLE, PCMUP_LOSS_CE, 1}, NULL},
    {"gnt sample, mse, no output", PCMUP_RULE_GNT, PCMUP_PRESET_MUP_GNT, 0, 3,
     {PCMUP_SET_LR, PCMUP_SET_GNT_VARIANT, PCMUP_SET_GNT_OUTPUT},
     {0.05, PCMUP_GNT_SAMPLE, 0}, NULL},
};

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
    size_t rank, n_workers; /* 0, 1 for the single process */
    /* What the run reports. */
    pcmup_status status;
    char message[256];
    double step_loss[TU_COUNT(step_batches)];
    double epoch_loss, eval_loss, eval_acc;
    double energy_last, epoch_energy; /* PC: last step's final energy */
    size_t energy_count;
    double alignment;
} run;

static void run_make(run *r, const config *cfg, size_t rank, size_t n_workers, tw_group *g)
{
    memset(r, 0, sizeof *r);
    r->cfg = cfg;
    r->rank = rank;
    r->n_workers = n_workers;
    r->param = tu_param(N_LAYERS, cfg->preset, 0.0);
    TU_OK(pcmup_net_create(&r->net, cfg->widths ? cfg->widths : widths, N_LAYERS + 1,
                           PCMUP_ACT_TANH, cfg->net_flags, r->param, 99, NULL));
    TU_OK(pcmup_algo_create(&r->algo, cfg->rule, r->net, 5, NULL));
    for (int i = 0; i < cfg->n; i++)
        TU_OK(pcmup_algo_set(r->algo, cfg->keys[i], cfg->values[i]));
    TU_OK(pcmup_dataset_from_arrays(&r->data, N_SAMPLES, D_IN, N_CLASSES, data_x,
                                    TU_COUNT(data_x), data_labels, NULL));
    if (g) {
        r->ctx = (tw_worker){g, rank, 0, 0};
        pcmup_reducer red = PCMUP_REDUCER_INIT(rank, n_workers, tw_sum, tw_gather, &r->ctx);
        TU_OK(pcmup_algo_set_reducer(r->algo, &red));
    }
}

static void run_free(run *r)
{
    pcmup_dataset_free(r->data);
    pcmup_algo_free(r->algo);
    pcmup_net_free(r->net);
    pcmup_param_free(r->param);
}

/* The share pcmup.h promises for train_epoch, used for the steps too. */
static void share(size_t n, size_t rank, size_t workers, size_t *first, size_t *count)
{
    size_t base = n / workers, extra = n % workers;
    *first = rank * base + (rank < extra ? rank : extra);
    *count = base + (rank < extra ? 1 : 0);
}

/* Records a failure of the run; NULL, for the thread's return. */
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
    for (size_t s = 0; s < TU_COUNT(step_batches); s++) {
        size_t first, count;
        share(step_batches[s], r->rank, r->n_workers, &first, &count);
        const size_t at = start + first;
        pcmup_status st = pcmup_algo_step(r->algo, count ? data_x + at * D_IN : NULL,
                                          count * D_IN, count ? data_labels + at : NULL, count,
                                          &r->step_loss[s]);
        if (st != PCMUP_OK)
            return run_failed(r, st);
        start += step_batches[s];
    }
    if (r->cfg->rule == PCMUP_RULE_PC) {
        double trace[64];
        if (pcmup_pc_energy_trace(r->algo, trace, 64, &r->energy_count) != PCMUP_OK)
            return run_failed(r, PCMUP_ERR_INVALID);
        r->energy_last = trace[r->energy_count - 1];
    }
    double record = 0.0;
    pcmup_algo_get(r->algo, PCMUP_SET_RECORD_UPDATES, &record);
    if (record != 0.0 && pcmup_algo_alignment_ratio(r->algo, &r->alignment) != PCMUP_OK)
        return run_failed(r, PCMUP_ERR_INVALID);
    pcmup_status st = pcmup_algo_train_epoch(r->algo, r->data, EPOCH_BATCH, &r->epoch_loss);
    if (st != PCMUP_OK)
        return run_failed(r, st);
    if (r->cfg->rule == PCMUP_RULE_PC &&
        pcmup_pc_epoch_energy(r->algo, &r->epoch_energy) != PCMUP_OK)
        return run_failed(r, PCMUP_ERR_INVALID);
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

static void assert_close(double got, double want, const char *what, const run *w)
{
    double scale = fabs(want) > 1.0 ? fabs(want) : 1.0;
    ck_assert_msg(fabs(got - want) <= TOL * scale, "%s, %zu workers, rank %zu: %s %.9g, single %.9g",
                  w->cfg->name, w->n_workers, w->rank, what, got, want);
}

/* Layer l's weights (or trained feedback, or bias) of a run, malloc'd. */
static float *read_array(const run *r, int which, size_t l, size_t *n)
{
    const size_t *w = r->cfg->widths ? r->cfg->widths : widths;
    size_t out = w[l], in = w[l - 1];
    *n = which == 2 ? out : out * in;
    float *a = malloc(*n * sizeof *a);
    pcmup_status s = which == 0   ? pcmup_net_get_weights(r->net, l, a, *n)
                     : which == 1 ? pcmup_tp_get_feedback(r->algo, l, a, in * out)
                                  : pcmup_net_get_bias(r->net, l, a, *n);
    TU_OK(s);
    return a;
}

static void assert_arrays(const run *w, const run *single, const run *rank0)
{
    int has_feedback = (single->cfg->rule == PCMUP_RULE_TP || single->cfg->rule == PCMUP_RULE_DTP)
                       && single->cfg->values[1] == PCMUP_TP_FEEDBACK_TRAINED;
    int has_bias = (single->cfg->net_flags & PCMUP_NET_BIAS) != 0;
    for (int which = 0; which < 3; which++) {
        if ((which == 1 && !has_feedback) || (which == 2 && !has_bias))
            continue;
        for (size_t l = which == 1 ? 2 : 1; l <= N_LAYERS; l++) {
            size_t n;
            float *got = read_array(w, which, l, &n), *want = read_array(single, which, l, &n);
            float *first = read_array(rank0, which, l, &n);
            double err = 0.0, scale = 0.0;
            for (size_t i = 0; i < n; i++) {
                err = fmax(err, fabs((double)got[i] - want[i]));
                scale = fmax(scale, fabs((double)want[i]));
            }
            ck_assert_msg(err <= TOL * scale, "%s, %zu workers, rank %zu: array %d of layer %zu "
                          "off by %g (scale %g)", w->cfg->name, w->n_workers, w->rank, which, l,
                          err, scale);
            ck_assert_msg(memcmp(got, first, n * sizeof *got) == 0,
                          "%s: ranks %zu and 0 differ in array %d of layer %zu", w->cfg->name,
                          w->rank, which, l);
            free(got);
            free(want);
            free(first);
        }
    }
}

static void assert_matches(const run *w, const run *single, const run *rank0)
{
    ck_assert_msg(w->status == PCMUP_OK, "%s, %zu workers, rank %zu: %s", w->cfg->name,
                  w->n_workers, w->rank, w->message);
    for (size_t s = 0; s < TU_COUNT(step_batches); s++)
        assert_close(w->step_loss[s], single->step_loss[s], "step loss", w);
    assert_close(w->epoch_loss, single->epoch_loss, "epoch loss", w);
    assert_close(w->eval_loss, single->eval_loss, "evaluation loss", w);
    assert_close(w->eval_acc, single->eval_acc, "accuracy", w);
    assert_close(w->energy_last, single->energy_last, "final energy", w);
    assert_close(w->epoch_energy, single->epoch_energy, "epoch energy", w);
    assert_close(w->alignment, single->alignment, "alignment ratio", w);
    ck_assert_uint_eq(w->energy_count, single->energy_count);
    assert_arrays(w, single, rank0);
}

START_TEST(test_matches_single_process)
{
    make_data();
    const config *cfg = &configs[_i];
    run single;
    run_make(&single, cfg, 0, 1, NULL);
    run_all(&single);
    ck_assert_msg(single.status == PCMUP_OK, "%s: %s", cfg->name, single.message);
    /* The sequence trains: a test of equal numbers needs numbers that moved. */
    ck_assert(single.step_loss[3] != single.step_loss[0]);
    if (cfg->rule == PCMUP_RULE_PC && cfg->keys[2] == PCMUP_SET_PC_TOLERANCE)
        ck_assert_uint_lt(single.energy_count, 41); /* the tolerance did stop it */
    for (size_t n_workers = 2; n_workers <= MAX_WORKERS; n_workers++) {
        tw_group g;
        tw_group_init(&g, n_workers);
        run w[MAX_WORKERS];
        for (size_t k = 0; k < n_workers; k++)
            run_make(&w[k], cfg, k, n_workers, &g);
        run_group(w, n_workers);
        for (size_t k = 0; k < n_workers; k++)
            assert_matches(&w[k], &single, &w[0]);
        for (size_t k = 0; k < n_workers; k++)
            run_free(&w[k]);
        tw_group_destroy(&g);
    }
    run_free(&single);
}
END_TEST

/* ---- failures ------------------------------------------------------------- */

typedef struct {
    run *r;
    int what; /* 0: a step, 1: an epoch, 2: an evaluation */
    pcmup_status status;
    char message[256];
} failing_job;

static void *failing_call(void *arg)
{
    failing_job *j = arg;
    run *r = j->r;
    size_t first, count;
    share(7, r->rank, r->n_workers, &first, &count);
    double loss;
    if (j->what == 0)
        j->status = pcmup_algo_step(r->algo, data_x + first * D_IN, count * D_IN,
                                    data_labels + first, count, &loss);
    else if (j->what == 1)
        j->status = pcmup_algo_train_epoch(r->algo, r->data, EPOCH_BATCH, &loss);
    else
        j->status = pcmup_algo_evaluate(r->algo, r->data, &loss, NULL);
    snprintf(j->message, sizeof j->message, "%s", pcmup_last_error());
    return NULL;
}

/* A callback failing at its k-th call, on every worker alike: the call
 * returns PCMUP_ERR_IO naming sum_fn, and weights, momentum and counters
 * are as before it. */
START_TEST(test_failing_callback)
{
    make_data();
    const config *cfg = &configs[3]; /* PC with momentum: several kinds of state */
    /* A step makes 13 sums: the batch shares, the loss, 7 energies
     * (T = 6), the error norms and one per layer's update (the 13th, after
     * two layers moved). An epoch makes the 12 after the first per step. */
    const size_t fail_at[] = {1, 2, 5, 9, 13};
    for (int what = 0; what < 3; what++) {
        for (size_t f = 0; f < TU_COUNT(fail_at); f++) {
            tw_group g;
            tw_group_init(&g, 2);
            run w[2];
            failing_job jobs[2];
            float **before[2];
            for (size_t k = 0; k < 2; k++)
                run_make(&w[k], cfg, k, 2, &g);
            run_group(w, 2); /* momentum and counters that a failure must keep */
            for (size_t k = 0; k < 2; k++) {
                ck_assert_msg(w[k].status == PCMUP_OK, "%s", w[k].message);
                w[k].ctx.calls = 0;
                w[k].ctx.fail_at = fail_at[f];
                before[k] = tw_weights_copy(w[k].net, N_LAYERS);
                jobs[k] = (failing_job){&w[k], what, PCMUP_OK, ""};
            }
            uint64_t epochs0, steps0, epochs, steps;
            TU_OK(pcmup_algo_counters(w[0].algo, &epochs0, &steps0));
            tw_in_threads(failing_call, jobs, sizeof *jobs, 2);
            for (size_t k = 0; k < 2; k++) {
                /* The evaluation makes one sum: later failures never happen. */
                int expect_fail = what != 2 || fail_at[f] == 1;
                ck_assert_msg(jobs[k].status == (expect_fail ? PCMUP_ERR_IO : PCMUP_OK),
                              "job %d, fail at %zu: %s", what, fail_at[f], jobs[k].message);
                if (expect_fail)
                    ck_assert_msg(strstr(jobs[k].message, "sum_fn returned 42") != NULL,
                                  "%s", jobs[k].message);
                TU_OK(pcmup_algo_counters(w[k].algo, &epochs, &steps));
                if (what < 2) {
                    ck_assert_uint_eq(epochs, epochs0);
                    ck_assert_uint_eq(steps, steps0);
                    ck_assert_uint_eq(tw_weights_changed(w[k].net, before[k], N_LAYERS), 0);
                }
                tw_weights_free(before[k], N_LAYERS);
            }
            for (size_t k = 0; k < 2; k++)
                run_free(&w[k]);
            tw_group_destroy(&g);
        }
    }
}
END_TEST

/* A run that is single by its reducer being taken away again is the
 * single process bit for bit. */
START_TEST(test_null_reducer_restores)
{
    make_data();
    for (size_t c = 0; c < TU_COUNT(configs); c++) {
        tw_group g;
        tw_group_init(&g, 2);
        run plain, undone;
        run_make(&plain, &configs[c], 0, 1, NULL);
        run_make(&undone, &configs[c], 0, 2, &g);
        TU_OK(pcmup_algo_set_reducer(undone.algo, NULL));
        undone.n_workers = 1;
        run_all(&plain);
        run_all(&undone);
        ck_assert_msg(undone.status == PCMUP_OK, "%s", undone.message);
        ck_assert_uint_eq(undone.ctx.calls, 0);
        ck_assert(memcmp(plain.step_loss, undone.step_loss, sizeof plain.step_loss) == 0);
        ck_assert(plain.eval_loss == undone.eval_loss);
        for (size_t l = 1; l <= N_LAYERS; l++) {
            size_t n;
            float *a = read_array(&plain, 0, l, &n), *b = read_array(&undone, 0, l, &n);
            ck_assert_msg(memcmp(a, b, n * sizeof *a) == 0, "%s layer %zu", configs[c].name, l);
            free(a);
            free(b);
        }
        run_free(&plain);
        run_free(&undone);
        tw_group_destroy(&g);
    }
}
END_TEST

static int never_called(void *user, void *buf, size_t count, int type)
{
    (void)user, (void)buf, (void)count, (void)type;
    return 1;
}

START_TEST(test_invalid_reducers)
{
    make_data();
    run r;
    run_make(&r, &configs[0], 0, 1, NULL);
    pcmup_reducer ok = PCMUP_REDUCER_INIT(1, 2, never_called, NULL, NULL);
    pcmup_reducer bad = ok;
    bad.size = sizeof(size_t) * 3;
    TU_FAILS_IN(PCMUP_ERR_INVALID, pcmup_algo_set_reducer, r.algo, &bad);
    bad = ok;
    bad.rank = 2;
    TU_FAILS_IN(PCMUP_ERR_INVALID, pcmup_algo_set_reducer, r.algo, &bad);
    bad.rank = 0;
    bad.n_workers = 0;
    TU_FAILS_IN(PCMUP_ERR_INVALID, pcmup_algo_set_reducer, r.algo, &bad);
    bad = ok;
    bad.sum_fn = NULL;
    TU_FAILS_IN(PCMUP_ERR_INVALID, pcmup_algo_set_reducer, r.algo, &bad);
    TU_FAILS_IN(PCMUP_ERR_NULL, pcmup_algo_set_reducer, NULL, &ok);
    /* A larger struct from a newer header is fine: only the known members are read. */
    struct {
        pcmup_reducer r;
        double later;
    } newer = {ok, 1.0};
    newer.r.size = sizeof newer;
    TU_OK(pcmup_algo_set_reducer(r.algo, &newer.r));
    /* The trial updates refuse a reducer. */
    float *updates[N_LAYERS] = {NULL, NULL, NULL};
    TU_FAILS_IN(PCMUP_ERR_UNSUPPORTED, pcmup_algo_trial_update, r.algo, data_x, 7 * D_IN,
                data_labels, 7, updates, N_LAYERS);
    /* A worker's arguments are checked before any communication. */
    TU_FAILS_IN(PCMUP_ERR_SHAPE, pcmup_algo_step, r.algo, data_x, 5, data_labels, 7, NULL);
    run_free(&r);

    /* What needs whole matrices needs a gather_fn: closed-form feedback
     * (every batch), GNT's batch variant on the Gram side (B C < M_l: a
     * batch of 2 here, while a batch of 7 works on P_l's side). The
     * refusal comes before any sum: never_called is not called. */
    run tp;
    const config tp_cfg = {"tp", PCMUP_RULE_TP, PCMUP_PRESET_MUP_TP, 0, 0, {0}, {0}, NULL};
    run_make(&tp, &tp_cfg, 0, 1, NULL);
    TU_OK(pcmup_algo_set_reducer(tp.algo, &ok));
    TU_FAILS_IN(PCMUP_ERR_UNSUPPORTED, pcmup_algo_train_epoch, tp.algo, tp.data, 7, NULL);
    ck_assert(strstr(pcmup_last_error(), "gather_fn") != NULL);
    run_free(&tp);
    run gnt;
    const config gnt_cfg = {"gnt", PCMUP_RULE_GNT, PCMUP_PRESET_MUP_GNT, 0, 0, {0}, {0}, NULL};
    run_make(&gnt, &gnt_cfg, 0, 1, NULL);
    pcmup_reducer alone = PCMUP_REDUCER_INIT(0, 2, never_called, NULL, NULL);
    TU_OK(pcmup_algo_set_reducer(gnt.algo, &alone));
    TU_FAILS_IN(PCMUP_ERR_UNSUPPORTED, pcmup_algo_train_epoch, gnt.algo, gnt.data, 2, NULL);
    ck_assert(strstr(pcmup_last_error(), "gather_fn") != NULL);
    run_free(&gnt);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("data_parallel");
    TCase *tc = tcase_create("data_parallel");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_matches_single_process, 0, (int)TU_COUNT(configs));
    tcase_add_test(tc, test_failing_callback);
    tcase_add_test(tc, test_null_reducer_restores);
    tcase_add_test(tc, test_invalid_reducers);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
