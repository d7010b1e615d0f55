/* SPDX-License-Identifier: MIT */
/*
 * test_threads.c -- separate handles train in separate threads at once and
 * get bit for bit what they get one after another.
 *
 * pcmup.h promises that a handle touches only its own state (no global
 * mutable state; the last-error message is per thread), so handles that
 * share nothing may be used from different threads at the same time. Each
 * job here has its own parameterization, network, rule, dataset and
 * allocator (malloc); jobs cover every rule, with the settings that draw
 * from the rule's random stream (PC's random state init, trained feedback
 * with noise) and momentum. The jobs first run one after another, then all
 * at once, each in its own thread, released together by a barrier, twice.
 * Every concurrent result (weights, trained feedback, epoch losses,
 * evaluation) must be bitwise the sequential one: any state shared between
 * handles, or a per-thread one read from the wrong thread, shows up as a
 * difference.
 *
 * As an ordinary test this checks bit-identity. The ThreadSanitizer build
 * (cmake -DPCMUP_SANITIZE=thread, docs/testing.md) runs it too and fails
 * on any data race inside libpcmup, even one that happened to give the
 * same numbers. OpenBLAS is not built with TSan; docs/testing.md says why
 * this test needs no suppressions for it.
 *
 * Threads never call Check: a job records its status and message, and the
 * main thread asserts.
 */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_LAYERS 3
#define D_IN 24
#define N_SAMPLES 96
#define BATCH 16
#define EPOCHS 2
#define ROUNDS 2
#define SEEDS_PER_SPEC 2
static const size_t widths[N_LAYERS + 1] = {D_IN, 40, 40, 6};

typedef struct {
    const char *name;
    pcmup_rule rule;
    pcmup_preset preset;
    double lr;
    int n_settings;
    pcmup_setting keys[4];
    double values[4];
} job_spec;

static const job_spec specs[] = {
    {"BP", PCMUP_RULE_BP, PCMUP_PRESET_MUP_SGD, 0.05, 2,
     {PCMUP_SET_MOMENTUM, PCMUP_SET_WEIGHT_DECAY}, {0.5, 1e-3}},
    {"PC", PCMUP_RULE_PC, PCMUP_PRESET_MUP_PC, 0.05, 4,
     {PCMUP_SET_PC_ITERATIONS, PCMUP_SET_PC_INIT, PCMUP_SET_PC_INIT_STD, PCMUP_SET_MOMENTUM},
     {4, PCMUP_PC_INIT_RANDOM, 0.1, 0.5}},
    {"GNT", PCMUP_RULE_GNT, PCMUP_PRESET_MUP_GNT, 0.01, 1, {PCMUP_SET_MOMENTUM}, {0.5}},
    {"TP", PCMUP_RULE_TP, PCMUP_PRESET_MUP_TP, 0.05, 1, {PCMUP_SET_TP_FB_DAMPING_TOP}, {0.01}},
    {"DTP trained feedback", PCMUP_RULE_DTP, PCMUP_PRESET_MUP_TP, 0.05, 2,
     {PCMUP_SET_TP_FEEDBACK, PCMUP_SET_TP_FB_NOISE}, {PCMUP_TP_FEEDBACK_TRAINED, 0.1}},
};
#define N_SPECS TU_COUNT(specs)
#define N_JOBS (N_SPECS * SEEDS_PER_SPEC)

/* What a job produces; compared bitwise between runs. */
typedef struct {
    pcmup_status status;
    char error[256];
    float *init;     /* every layer's weights before training */
    float *weights;  /* ... after */
    float *feedback; /* trained feedback V_2..V_L, NULL for closed feedback */
    size_t n_weights, n_feedback;
    double epoch_loss[EPOCHS], eval_loss, accuracy;
} job_result;

typedef struct {
    const job_spec *spec;
    uint64_t seed;
    pthread_barrier_t *start; /* NULL when run sequentially */
    job_result res;
} job;

static size_t weight_count(void)
{
    size_t n = 0;
    for (size_t l = 1; l <= N_LAYERS; l++)
        n += widths[l] * widths[l - 1];
    return n;
}

static pcmup_status copy_weights(const pcmup_net *net, float *dst)
{
    pcmup_status s = PCMUP_OK;
    for (size_t l = 1; l <= N_LAYERS && s == PCMUP_OK; l++) {
        s = pcmup_net_get_weights(net, l, dst, widths[l] * widths[l - 1]);
        dst += widths[l] * widths[l - 1];
    }
    return s;
}

/* V_2..V_L when the rule trains its feedback. */
static pcmup_status copy_feedback(const pcmup_algo *algo, job_result *r)
{
    double fb;
    pcmup_rule rule;
    pcmup_status s = pcmup_algo_rule(algo, &rule);
    if (s != PCMUP_OK || (rule != PCMUP_RULE_TP && rule != PCMUP_RULE_DTP))
        return s;
    if ((s = pcmup_algo_get(algo, PCMUP_SET_TP_FEEDBACK, &fb)) != PCMUP_OK ||
        fb != PCMUP_TP_FEEDBACK_TRAINED)
        return s;
    for (size_t l = 2; l <= N_LAYERS; l++)
        r->n_feedback += widths[l - 1] * widths[l];
    r->feedback = malloc(r->n_feedback * sizeof(float));
    float *dst = r->feedback;
    for (size_t l = 2; l <= N_LAYERS && s == PCMUP_OK; l++) {
        s = pcmup_tp_get_feedback(algo, l, dst, widths[l - 1] * widths[l]);
        dst += widths[l - 1] * widths[l];
    }
    return s;
}

/* The job's own data: inputs drawn from its seed, cyclic labels. */
static pcmup_status make_dataset(pcmup_dataset **ds, uint64_t seed)
{
    float x[N_SAMPLES * D_IN];
    int32_t labels[N_SAMPLES];
    tu_fill_uniform(x, N_SAMPLES * widths[0], (uint32_t)seed * 7919u + 1u);
    for (size_t i = 0; i < N_SAMPLES; i++)
        labels[i] = (int32_t)((i * 5 + seed) % widths[N_LAYERS]);
    return pcmup_dataset_from_arrays(ds, N_SAMPLES, widths[0], widths[N_LAYERS], x,
                                     N_SAMPLES * widths[0], labels, NULL);
}

#define TRY(call)                                                              \
    do {                                                                       \
        if ((s = (call)) != PCMUP_OK)                                          \
            goto done;                                                         \
    } while (0)

/* Creates, trains, evaluates and frees one job's handles. */
static pcmup_status train_job(const job_spec *spec, uint64_t seed, job_result *r)
{
    pcmup_param *p = NULL;
    pcmup_net *net = NULL;
    pcmup_algo *algo = NULL;
    pcmup_dataset *ds = NULL;
    pcmup_status s;
    r->n_weights = weight_count();
    r->init = malloc(r->n_weights * sizeof(float));
    r->weights = malloc(r->n_weights * sizeof(float));
    TRY(pcmup_param_create(&p, N_LAYERS, spec->preset, NULL));
    TRY(pcmup_net_create(&net, widths, N_LAYERS + 1, PCMUP_ACT_TANH, 0, p, seed, NULL));
    TRY(pcmup_algo_create(&algo, spec->rule, net, seed + 100, NULL));
    TRY(pcmup_algo_set(algo, PCMUP_SET_LR, spec->lr));
    for (int i = 0; i < spec->n_settings; i++)
        TRY(pcmup_algo_set(algo, spec->keys[i], spec->values[i]));
    TRY(make_dataset(&ds, seed));
    TRY(copy_weights(net, r->init));
    for (int e = 0; e < EPOCHS; e++)
        TRY(pcmup_algo_train_epoch(algo, ds, BATCH, &r->epoch_loss[e]));
    TRY(pcmup_algo_evaluate(algo, ds, &r->eval_loss, &r->accuracy));
    TRY(copy_weights(net, r->weights));
    TRY(copy_feedback(algo, r));
done:
    if (s != PCMUP_OK) /* pcmup_last_error is this thread's */
        snprintf(r->error, sizeof r->error, "%s", pcmup_last_error());
    pcmup_algo_free(algo);
    pcmup_net_free(net);
    pcmup_param_free(p);
    pcmup_dataset_free(ds);
    return s;
}

static void *run_job(void *arg)
{
    job *j = arg;
    if (j->start)
        pthread_barrier_wait(j->start);
    j->res.status = train_job(j->spec, j->seed, &j->res);
    return NULL;
}

static void result_free(job_result *r)
{
    free(r->init);
    free(r->weights);
    free(r->feedback);
    memset(r, 0, sizeof *r);
}

static void jobs_init(job *jobs, pthread_barrier_t *start)
{
    memset(jobs, 0, N_JOBS * sizeof *jobs);
    for (size_t i = 0; i < N_JOBS; i++) {
        jobs[i].spec = &specs[i / SEEDS_PER_SPEC];
        jobs[i].seed = 1 + i % SEEDS_PER_SPEC;
        jobs[i].start = start;
    }
}

static void assert_ok(const job *j, const char *how)
{
    ck_assert_msg(j->res.status == PCMUP_OK, "%s seed %d (%s): %s: %s", j->spec->name,
                  (int)j->seed, how, pcmup_status_name(j->res.status), j->res.error);
}

/* Bitwise equality of everything a job produced. */
static void assert_same(const job *j, const job_result *want, int round)
{
    const job_result *got = &j->res;
    const char *name = j->spec->name;
    ck_assert_uint_eq(got->n_weights, want->n_weights);
    ck_assert_uint_eq(got->n_feedback, want->n_feedback);
    ck_assert_msg(memcmp(got->init, want->init, want->n_weights * sizeof(float)) == 0,
                  "%s seed %d, round %d: initial weights differ", name, (int)j->seed, round);
    ck_assert_msg(memcmp(got->weights, want->weights, want->n_weights * sizeof(float)) == 0,
                  "%s seed %d, round %d: trained weights differ from the sequential run",
                  name, (int)j->seed, round);
    ck_assert_msg(want->n_feedback == 0 ||
                      memcmp(got->feedback, want->feedback,
                             want->n_feedback * sizeof(float)) == 0,
                  "%s seed %d, round %d: trained feedback differs", name, (int)j->seed, round);
    ck_assert_msg(memcmp(got->epoch_loss, want->epoch_loss, sizeof want->epoch_loss) == 0 &&
                      memcmp(&got->eval_loss, &want->eval_loss, sizeof(double)) == 0 &&
                      memcmp(&got->accuracy, &want->accuracy, sizeof(double)) == 0,
                  "%s seed %d, round %d: losses %.17g %.17g / %.17g, sequentially %.17g "
                  "%.17g / %.17g",
                  name, (int)j->seed, round, got->epoch_loss[0], got->epoch_loss[1],
                  got->eval_loss, want->epoch_loss[0], want->epoch_loss[1], want->eval_loss);
}

/* The comparison means something only if training did something, and if
 * different seeds give different runs. */
static void assert_trained(const job *jobs)
{
    for (size_t i = 0; i < N_JOBS; i++) {
        const job_result *r = &jobs[i].res;
        ck_assert_msg(memcmp(r->init, r->weights, r->n_weights * sizeof(float)) != 0,
                      "%s seed %d: training left the weights as they were",
                      jobs[i].spec->name, (int)jobs[i].seed);
        if (i % SEEDS_PER_SPEC)
            ck_assert_msg(memcmp(r->weights, jobs[i - 1].res.weights,
                                 r->n_weights * sizeof(float)) != 0,
                          "%s: seeds %d and %d trained to the same weights",
                          jobs[i].spec->name, (int)jobs[i - 1].seed, (int)jobs[i].seed);
    }
}

START_TEST(concurrent_runs_match_sequential)
{
    static job sequential[N_JOBS], concurrent[N_JOBS];
    jobs_init(sequential, NULL);
    for (size_t i = 0; i < N_JOBS; i++) {
        run_job(&sequential[i]);
        assert_ok(&sequential[i], "sequential");
    }
    assert_trained(sequential);
    for (int round = 0; round < ROUNDS; round++) {
        pthread_barrier_t start;
        pthread_t threads[N_JOBS];
        ck_assert_int_eq(pthread_barrier_init(&start, NULL, N_JOBS), 0);
        jobs_init(concurrent, &start);
        for (size_t i = 0; i < N_JOBS; i++)
            ck_assert_int_eq(pthread_create(&threads[i], NULL, run_job, &concurrent[i]), 0);
        for (size_t i = 0; i < N_JOBS; i++)
            ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
        pthread_barrier_destroy(&start);
        for (size_t i = 0; i < N_JOBS; i++) {
            assert_ok(&concurrent[i], "concurrent");
            assert_same(&concurrent[i], &sequential[i].res, round);
            result_free(&concurrent[i].res);
        }
    }
    for (size_t i = 0; i < N_JOBS; i++)
        result_free(&sequential[i].res);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {concurrent_runs_match_sequential};
    return tu_run_tests("threads", 600, NULL, NULL, tests, TU_COUNT(tests));
}
