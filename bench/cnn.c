/* SPDX-License-Identifier: MIT */
/*
 * cnn.c -- pcmup-bench --cnn: how close do convolution layers come to the
 * machine's GEMM speed?
 *
 * Each case is a row of `cases` below: a name, the width M, the batch and
 * a function that measures one step of it. The cases here run a stack of
 * conv layers through the internal layer API (layers/layer.h) as BP runs
 * them in a step (rules/bp.c): every layer's forward, then from the last
 * layer back its input_vjp where the step needs the gradient for the
 * layer's input (not for the network's first layer), and its param_grad. Activations,
 * pooling and the dense layer are left out: this is the conv part of the
 * step. A case through the public API (a whole network's step) is one
 * more row with its own measure function filling the same cnn_result.
 *
 * FLOPs are the GEMM log's (2 m n k per product, nothing else), so the
 * rates are GEMM rates; 'vs peak' divides by the square sgemm's best rate
 * in the same run, and 'sgemm ref' replays the step's logged GEMM shapes
 * through cblas_sgemm alone, which tells the layer's own work (im2col,
 * col2im, copies) apart from small-shape GEMM inefficiency.
 */
#include "bench.h"

#include "algo.h"
#include "layers/layer.h"
#include "pcmup.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CONVS 4
/* Enough shapes to replay any case's step (one GEMM per sample and op at
 * worst). */
#define LOG_CAPACITY 4096

/* One conv layer of a case: input (c_in, h, w), c_out channels of a k x k
 * kernel; vjp says whether the step needs the gradient for its input. */
typedef struct {
    size_t c_in, h, w, c_out, k, stride, pad;
    int vjp;
} conv_spec;

/* What a case's measurement reports. */
typedef struct {
    timing step;       /* seconds per step: fastest, mean      */
    double flops;      /* GEMM FLOPs of one step               */
    size_t gemms;      /* GEMMs per step                       */
    double ref_best;   /* fastest replay of the step's GEMMs   */
    size_t work_bytes; /* conv workspace of all layers          */
} cnn_result;

typedef struct cnn_case cnn_case;
struct cnn_case {
    const char *name;
    size_t width, batch;
    int (*measure)(const cnn_case *c, const bench_options *o, cnn_result *r);
    size_t n_convs;
    conv_spec convs[MAX_CONVS];
    /* Whole-network cases: the rule, and PC's inference iterations. */
    pcmup_rule rule;
    size_t pc_iterations;
};

static int measure_conv_stack(const cnn_case *c, const bench_options *o, cnn_result *r);
static int measure_network(const cnn_case *c, const bench_options *o, cnn_result *r);

/* SimpleCNN's two convolutions: conv5p2 1 -> M on 28x28, then (after tanh
 * and 2x2 max pooling) conv5p2 M -> 2M on 14x14. */
#define SIMPLECNN(m)                                                                   \
    {"SimpleCNN conv part", m, 64, measure_conv_stack, 2,                              \
     {{1, 28, 28, m, 5, 1, 2, 0}, {m, 14, 14, 2 * m, 5, 1, 2, 1}}, PCMUP_RULE_BP, 0}

/* A whole SimpleCNN step on FashionMNIST-sized data through the public
 * API (pcmup_algo_step): activations, pooling, the loss and the dense
 * layer included. PC: zero initial states, T simultaneous iterations,
 * kappa 0.2 (docs/cnn.md), the Figure 4 setting. */
#define SIMPLECNN_STEP(m, rule, t)                                                     \
    {t ? "SimpleCNN PC step, T = 100" : "SimpleCNN BP step", m, 64, measure_network, 0, \
     {{0}}, rule, t}

static const cnn_case cases[] = {
    SIMPLECNN(16),
    SIMPLECNN(64),
    SIMPLECNN(128),
    /* VGG5's second stage at M = 128: conv3p1 128 -> 256 on 16x16 */
    {"VGG5 conv3p1 128->256 16x16", 128, 64, measure_conv_stack, 1,
     {{128, 16, 16, 256, 3, 1, 1, 1}}, PCMUP_RULE_BP, 0},
    SIMPLECNN_STEP(16, PCMUP_RULE_BP, 0),
    SIMPLECNN_STEP(64, PCMUP_RULE_BP, 0),
    SIMPLECNN_STEP(128, PCMUP_RULE_BP, 0),
    SIMPLECNN_STEP(16, PCMUP_RULE_PC, 100),
};
#define N_CASES (sizeof cases / sizeof cases[0])

/* The case whose ratio to the peak the issue sets a target for. */
#define TARGET_CASE 1
#define TARGET_RATIO 0.5

/* ---- a stack of conv layers ------------------------------------------------- */

typedef struct {
    pcmup_layer layer;
    float *params, *grad, *work;
    float *in, *pre, *dpre, *din; /* batch rows */
    int vjp;
} conv_buffers;

typedef struct {
    size_t n, batch;
    conv_buffers convs[MAX_CONVS];
} conv_stack;

static void conv_stack_init(conv_stack *s, const cnn_case *c)
{
    uint64_t rng = 4242;
    memset(s, 0, sizeof *s);
    s->n = c->n_convs;
    s->batch = c->batch;
    for (size_t l = 0; l < s->n; l++) {
        const conv_spec *g = &c->convs[l];
        conv_buffers *b = &s->convs[l];
        size_t n_params = pcmup__conv_param_count(g->c_in, g->c_out, g->k, 0);
        b->params = alloc_floats(n_params, &rng);
        b->grad = alloc_floats(n_params, &rng);
        pcmup__conv_init(&b->layer, g->c_in, g->h, g->w, g->c_out, g->k, g->stride, g->pad,
                         0.1f, 0, b->params, NULL);
        b->work = alloc_floats(pcmup__conv_workspace_floats(&b->layer), &rng);
        b->layer.workspace = b->work;
        b->in = alloc_floats(c->batch * b->layer.n_in, &rng);
        b->din = alloc_floats(c->batch * b->layer.n_in, &rng);
        b->pre = alloc_floats(c->batch * b->layer.n_out, &rng);
        b->dpre = alloc_floats(c->batch * b->layer.n_out, &rng);
        b->vjp = g->vjp;
    }
}

static void conv_stack_free(conv_stack *s)
{
    for (size_t l = 0; l < s->n; l++) {
        conv_buffers *b = &s->convs[l];
        free(b->params), free(b->grad), free(b->work);
        free(b->in), free(b->din), free(b->pre), free(b->dpre);
    }
}

static void conv_stack_set_log(conv_stack *s, pcmup__gemm_log *log)
{
    for (size_t l = 0; l < s->n; l++)
        s->convs[l].layer.gemm_log = log;
}

/* BP's order: forwards up the stack, then back down. Each layer reads its
 * own input buffer, so the data stay fixed from step to step. */
static int conv_stack_step(void *ctx)
{
    conv_stack *s = ctx;
    for (size_t l = 0; l < s->n; l++) {
        conv_buffers *b = &s->convs[l];
        b->layer.ops->forward(&b->layer, b->in, s->batch, b->pre);
    }
    for (size_t l = s->n; l-- > 0;) {
        conv_buffers *b = &s->convs[l];
        if (b->vjp)
            b->layer.ops->input_vjp(&b->layer, b->dpre, s->batch, b->din);
        b->layer.ops->param_grad(&b->layer, b->dpre, b->in, s->batch,
                                 -0.01f / (float)s->batch, 0.0f, b->grad);
    }
    return 0;
}

/* ---- replaying logged GEMM shapes ------------------------------------------ */

typedef struct {
    const pcmup__gemm_shape *shapes;
    size_t n;
    float *a, *b, *c;
} gemm_replay;

static void gemm_replay_init(gemm_replay *g, const pcmup__gemm_shape *shapes, size_t n)
{
    uint64_t rng = 99;
    size_t na = 1, nb = 1, nc = 1;
    for (size_t i = 0; i < n; i++) {
        const pcmup__gemm_shape *s = &shapes[i];
        na = s->m * s->k > na ? s->m * s->k : na;
        nb = s->k * s->n > nb ? s->k * s->n : nb;
        nc = s->m * s->n > nc ? s->m * s->n : nc;
    }
    g->shapes = shapes;
    g->n = n;
    g->a = alloc_floats(na, &rng);
    g->b = alloc_floats(nb, &rng);
    g->c = alloc_floats(nc, &rng);
}

static void gemm_replay_free(gemm_replay *g)
{
    free(g->a), free(g->b), free(g->c);
}

static int gemm_replay_run(void *ctx)
{
    const gemm_replay *g = ctx;
    for (size_t i = 0; i < g->n; i++) {
        const pcmup__gemm_shape *s = &g->shapes[i];
        int m = (int)s->m, n = (int)s->n, k = (int)s->k;
        cblas_sgemm(CblasRowMajor, s->trans_a == 'T' ? CblasTrans : CblasNoTrans,
                    s->trans_b == 'T' ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, g->a,
                    s->trans_a == 'T' ? m : k, g->b, s->trans_b == 'T' ? k : n, 0.0f, g->c,
                    n);
    }
    return 0;
}

/* One step with the log attached gives the flops and the shapes; then the
 * step and the replay of its shapes are timed, without the log. */
static int measure_conv_stack(const cnn_case *c, const bench_options *o, cnn_result *r)
{
    static pcmup__gemm_shape shapes[LOG_CAPACITY];
    pcmup__gemm_log log;
    conv_stack s;
    gemm_replay replay;
    timing ref;
    int rc;

    conv_stack_init(&s, c);
    pcmup__gemm_log_init(&log, shapes, LOG_CAPACITY);
    conv_stack_set_log(&s, &log);
    conv_stack_step(&s);
    conv_stack_set_log(&s, NULL);
    if (log.count > LOG_CAPACITY) {
        fprintf(stderr, PROG ": %s: %zu GEMMs per step, more than the log keeps\n", c->name,
                log.count);
        conv_stack_free(&s);
        return 1;
    }
    r->flops = (double)log.flops;
    r->gemms = log.count;
    r->work_bytes = 0;
    for (size_t l = 0; l < s.n; l++)
        r->work_bytes += pcmup__conv_workspace_floats(&s.convs[l].layer) * sizeof(float);
    rc = time_work(conv_stack_step, &s, o, &r->step);
    conv_stack_free(&s);
    if (rc != 0)
        return 1;
    gemm_replay_init(&replay, shapes, log.count);
    rc = time_work(gemm_replay_run, &replay, o, &ref);
    gemm_replay_free(&replay);
    r->ref_best = ref.best;
    return rc != 0;
}

/* ---- a whole network's step -------------------------------------------------- */

typedef struct {
    pcmup_algo *algo;
    float *x;
    int32_t *labels;
    size_t batch;
} net_step;

static int net_step_run(void *ctx)
{
    net_step *s = ctx;
    return pcmup_algo_step(s->algo, s->x, s->batch * 784, s->labels, s->batch, NULL) != PCMUP_OK;
}

static int fail(const cnn_case *c, const char *what)
{
    fprintf(stderr, PROG ": %s, M = %zu: %s: %s\n", c->name, c->width, what, pcmup_last_error());
    return 1;
}

/* The rule's step on the SimpleCNN at width M (base width 64), random
 * inputs in [0, 1) and cyclic labels; the GEMM log of one step gives the
 * FLOPs and the shapes to replay. */
static int measure_network(const cnn_case *c, const bench_options *o, cnn_result *r)
{
    uint64_t rng = 7;
    pcmup_param *param = NULL;
    pcmup_net *net = NULL;
    net_step s = {NULL, alloc_floats(c->batch * 784, &rng), xmalloc(c->batch * sizeof(int32_t)),
                  c->batch};
    int rc = 1;
    for (size_t i = 0; i < c->batch; i++)
        s.labels[i] = (int32_t)(i % 10);
    pcmup_preset preset = c->rule == PCMUP_RULE_PC ? PCMUP_PRESET_MUP_PC : PCMUP_PRESET_MUP_SGD;
    if (pcmup_param_create(&param, 3, preset, NULL) != PCMUP_OK ||
        pcmup_net_create_from_text(&net, "simplecnn", 1, 28, 28, c->width, PCMUP_ACT_TANH, 0,
                                   param, 1, NULL) != PCMUP_OK ||
        pcmup_algo_create(&s.algo, c->rule, net, 1, NULL) != PCMUP_OK ||
        pcmup_algo_set(s.algo, PCMUP_SET_LR, 1e-4) != PCMUP_OK) {
        rc = fail(c, "setting up");
        goto done;
    }
    if (c->pc_iterations &&
        (pcmup_algo_set(s.algo, PCMUP_SET_PC_ITERATIONS, (double)c->pc_iterations) ||
         pcmup_algo_set(s.algo, PCMUP_SET_PC_INIT, PCMUP_PC_INIT_ZERO) ||
         pcmup_algo_set(s.algo, PCMUP_SET_PC_SCHEDULE, PCMUP_PC_SCHEDULE_SIMULTANEOUS) ||
         pcmup_algo_set(s.algo, PCMUP_SET_PC_KAPPA, 0.2))) {
        rc = fail(c, "setting up PC");
        goto done;
    }
    if (pcmup__algo_count_gemms(s.algo, LOG_CAPACITY, "bench") != PCMUP_OK ||
        net_step_run(&s) != 0) {
        rc = fail(c, "the first step");
        goto done;
    }
    const pcmup__gemm_log *log = pcmup__algo_last_step_gemms(s.algo);
    static pcmup__gemm_shape shapes[LOG_CAPACITY];
    if (log->count > LOG_CAPACITY) {
        fprintf(stderr, PROG ": %s: %zu GEMMs per step, more than the log keeps\n", c->name,
                log->count);
        goto done;
    }
    memcpy(shapes, log->shapes, log->count * sizeof *shapes);
    r->flops = (double)log->flops;
    r->gemms = log->count;
    r->work_bytes = 0;
    for (size_t l = 0; l < net->n_layers; l++) {
        const pcmup_layer *ly = &net->layers[l];
        size_t b = ly->conv.k ? pcmup__conv_workspace_floats(ly) * sizeof(float) : 0;
        r->work_bytes = b > r->work_bytes ? b : r->work_bytes;
    }
    pcmup__algo_count_gemms(s.algo, 0, "bench");
    if (time_work(net_step_run, &s, o, &r->step) != 0) {
        rc = fail(c, "a step");
        goto done;
    }
    gemm_replay replay;
    timing ref;
    gemm_replay_init(&replay, shapes, r->gemms);
    rc = time_work(gemm_replay_run, &replay, o, &ref) != 0;
    gemm_replay_free(&replay);
    r->ref_best = ref.best;
done:
    pcmup_algo_free(s.algo);
    pcmup_net_free(net);
    pcmup_param_free(param);
    free(s.x);
    free(s.labels);
    return rc;
}

/* ---- the table ---------------------------------------------------------------- */

static void print_table(const cnn_result *rows, double peak)
{
    printf("Conv-part cases: convolution layers, BP order (forwards; then back down\n"
           "input_vjp, except for the network's first layer, and param_grad), random data,\n"
           "no activation or pooling. Step cases: pcmup_algo_step on the whole SimpleCNN\n"
           "(base width 64, random inputs; PC: zero init, simultaneous, kappa 0.2).\n"
           "Rates from the fastest repetition (samples/s also as the mean over the run);\n"
           "GFLOP/s counts GEMM FLOPs only (the GEMM log); 'sgemm ref' runs the step's\n"
           "logged GEMM shapes through cblas_sgemm alone.\n");
    printf("%-30s %5s %5s %10s %10s %8s %8s %9s %7s %6s %8s\n", "case", "M", "batch",
           "samples/s", "(mean)", "GFLOP/s", "vs peak", "sgemm ref", "vs ref", "GEMMs",
           "work MB");
    for (size_t i = 0; i < N_CASES; i++) {
        const cnn_result *r = &rows[i];
        double gflops = r->flops / r->step.best * 1e-9;
        double ref = r->flops / r->ref_best * 1e-9;
        printf("%-30s %5zu %5zu %10.0f %10.0f %8.2f %7.1f%% %9.2f %6.1f%% %6zu %8.2f\n",
               cases[i].name, cases[i].width, cases[i].batch,
               (double)cases[i].batch / r->step.best, (double)cases[i].batch / r->step.mean,
               gflops, 100.0 * gflops / peak, ref, 100.0 * gflops / ref, r->gemms,
               (double)r->work_bytes / (1024.0 * 1024.0));
    }
    const cnn_result *t = &rows[TARGET_CASE];
    double ratio = t->flops / t->step.best * 1e-9 / peak;
    printf("\n%s, M = %zu, batch %zu: %.1f%% of sgemm peak (target >= %.0f%%: %s)\n",
           cases[TARGET_CASE].name, cases[TARGET_CASE].width, cases[TARGET_CASE].batch,
           100.0 * ratio, 100.0 * TARGET_RATIO, ratio >= TARGET_RATIO ? "met" : "NOT met");
}

/* Measures every case before printing, with peak runs before, between and
 * after them, as the MLP mode does. */
int bench_cnn(const bench_options *o)
{
    cnn_result rows[N_CASES];
    peak_probe peak;

    peak_probe_init(&peak, o->peak_n);
    peak_probe_gemm(&peak); /* warm-up: thread start, page faults */
    peak_probe_run(&peak, o->peak_reps);
    for (size_t i = 0; i < N_CASES; i++) {
        fprintf(stderr, PROG ": measuring %s, M = %zu, batch %zu\n", cases[i].name,
                cases[i].width, cases[i].batch);
        if (cases[i].measure(&cases[i], o, &rows[i]) != 0) {
            peak_probe_free(&peak);
            return 1;
        }
        peak_probe_run(&peak, 1);
    }
    peak_probe_run(&peak, o->peak_reps);
    peak_probe_free(&peak);

    printf("libpcmup %s, OpenBLAS %d thread(s)\n", pcmup_version_string(),
           openblas_get_num_threads());
    printf("sgemm peak (%zu^3, best of %d runs spread over the benchmark): %.2f GFLOP/s\n\n",
           o->peak_n, peak.runs, peak.best_gflops);
    print_table(rows, peak.best_gflops);
    return 0;
}
