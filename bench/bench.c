/*
 * bench.c -- how close does a BP training step come to the machine's GEMM
 * speed?
 *
 * Prints the cblas_sgemm peak on a large square product, then for BP steps
 * (pcmup_algo_step, depth 3, 784 -> M -> M -> 10, muP, random data) at
 * several widths and batch sizes: samples/s, achieved GFLOP/s, the ratio to
 * the peak, and the ratio to cblas_sgemm run directly on the step's own
 * GEMM shapes (which tells library overhead apart from small-shape GEMM
 * inefficiency). Then the local rules' step times relative to BP's on the
 * same network and data: TP and DTP with closed-form and trained feedback
 * at widths 256 and 1024, batch 64 and 256.
 *
 *   pcmup-bench [--threads N] [--quick]
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <cblas.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pcmup.h"

#define PROG "pcmup-bench"
#define DEPTH 3
#define INPUTS 784
#define CLASSES 10

typedef struct {
    int threads;        /* 0 = BLAS default */
    int quick;
    size_t peak_n;      /* side of the square sgemm */
    int peak_reps;
    int warmup;         /* untimed repetitions before each measurement */
    double min_seconds; /* time at least this long per measurement */
} bench_options;

static const size_t bench_widths[] = {256, 1024, 4096};
static const size_t bench_batches[] = {64, 256};
#define N_WIDTHS (sizeof bench_widths / sizeof bench_widths[0])
#define N_BATCHES (sizeof bench_batches / sizeof bench_batches[0])

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* xorshift64*: the benchmark needs arbitrary data, not good randomness. */
static uint64_t rng_next(uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 0x2545F4914F6CDD1Dull;
}

static void fill_uniform(float *a, size_t n, uint64_t *state)
{
    for (size_t i = 0; i < n; i++)
        a[i] = (float)(rng_next(state) >> 40) / (float)(1u << 24);
}

/* The benchmark cannot do anything useful without its buffers. */
static void *xmalloc(size_t bytes)
{
    void *p = malloc(bytes);
    if (p == NULL) {
        fprintf(stderr, PROG ": out of memory (%zu bytes)\n", bytes);
        exit(1);
    }
    return p;
}

static float *alloc_floats(size_t n, uint64_t *state)
{
    float *a = xmalloc(n * sizeof *a);
    fill_uniform(a, n, state);
    return a;
}

/* ---- timing -------------------------------------------------------------- */

/* One repetition of the measured work; non-zero on failure. */
typedef int (*work_fn)(void *ctx);

typedef struct {
    double best;  /* seconds of the fastest repetition        */
    double mean;  /* seconds per repetition over the whole run */
} timing;

/* `warmup` untimed runs, then repetitions until at least min_seconds have
 * passed (and at least two ran). Other processes can only add time, so
 * on a shared machine the fastest repetition is the faithful measure of
 * the work's cost; the mean is what a user waits. -1 on failure. */
static int time_work(work_fn fn, void *ctx, const bench_options *o, timing *t)
{
    long reps = 0;
    double start, elapsed;

    for (int i = 0; i < o->warmup; i++)
        if (fn(ctx) != 0)
            return -1;
    t->best = 1e300;
    start = now_seconds();
    do {
        double t0 = now_seconds(), dt;
        if (fn(ctx) != 0)
            return -1;
        dt = now_seconds() - t0;
        if (dt < t->best)
            t->best = dt;
        reps++;
        elapsed = now_seconds() - start;
    } while (elapsed < o->min_seconds || reps < 2);
    t->mean = elapsed / (double)reps;
    return 0;
}

/* ---- sgemm peak ---------------------------------------------------------- */

/* The square product, and the best rate seen on it so far. */
typedef struct {
    int n;
    float *a, *b, *c;
    double best_gflops;
    int runs;
} peak_probe;

static void peak_probe_init(peak_probe *p, size_t n)
{
    uint64_t rng = 12345;
    p->n = (int)n;
    p->a = alloc_floats(n * n, &rng);
    p->b = alloc_floats(n * n, &rng);
    p->c = alloc_floats(n * n, &rng);
    p->best_gflops = 0.0;
    p->runs = 0;
}

static void peak_probe_free(peak_probe *p)
{
    free(p->a);
    free(p->b);
    free(p->c);
}

static void peak_probe_gemm(const peak_probe *p)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, p->n, p->n, p->n, 1.0f, p->a,
                p->n, p->b, p->n, 0.0f, p->c, p->n);
}

/* The peak is what the machine can do, so it is the fastest of all runs;
 * the runs are spread over the whole benchmark because on a shared
 * machine the neighbours' load comes and goes. */
static void peak_probe_run(peak_probe *p, int reps)
{
    double flops = 2.0 * (double)p->n * (double)p->n * (double)p->n;
    for (int r = 0; r < reps; r++) {
        double t0 = now_seconds(), gflops;
        peak_probe_gemm(p);
        gflops = flops / (now_seconds() - t0) * 1e-9;
        if (gflops > p->best_gflops)
            p->best_gflops = gflops;
        p->runs++;
    }
}

/* ---- FLOP count of a BP step --------------------------------------------- */

/* FLOPs of one BP step on a batch of B, counting the three GEMMs per layer
 * l (weights out_l x in_l) and nothing else:
 *   forward           u_l = h_{l-1} W_l^T        2 B in_l out_l, every l
 *   input VJP         g_{l-1} = g_l W_l          2 B in_l out_l, l = 2..L
 *                     (layer 1 needs no gradient for the input)
 *   weight gradient   dW_l = g_l^T h_{l-1}       2 B in_l out_l, every l
 * so 2B (2 sum_l in_l out_l + sum_{l>=2} in_l out_l). Activations, the
 * loss and the SGD update are O(B M) or O(in out) and left out, so the
 * achieved rate is slightly understated. */
static double bp_step_flops(const size_t *widths, size_t depth, size_t batch)
{
    double all = 0.0, inner = 0.0;
    for (size_t l = 1; l <= depth; l++) {
        double io = (double)widths[l - 1] * (double)widths[l];
        all += io;
        if (l >= 2)
            inner += io;
    }
    return 2.0 * (double)batch * (2.0 * all + inner);
}

/* ---- the step's GEMMs through cblas_sgemm directly ----------------------- */

/* Buffers with the step's shapes: per layer, weights and their gradient,
 * and per layer boundary an activation and a gradient (batch x width). */
typedef struct {
    size_t depth;
    int batch;
    const size_t *widths;
    float *w[DEPTH + 1], *dw[DEPTH + 1];
    float *h[DEPTH + 1], *g[DEPTH + 1];
} step_gemms;

static void step_gemms_init(step_gemms *s, const size_t *widths, size_t batch)
{
    uint64_t rng = 777;
    memset(s, 0, sizeof *s);
    s->depth = DEPTH;
    s->batch = (int)batch;
    s->widths = widths;
    for (size_t l = 0; l <= DEPTH; l++) {
        s->h[l] = alloc_floats(batch * widths[l], &rng);
        s->g[l] = alloc_floats(batch * widths[l], &rng);
        if (l >= 1) {
            s->w[l] = alloc_floats(widths[l] * widths[l - 1], &rng);
            s->dw[l] = alloc_floats(widths[l] * widths[l - 1], &rng);
        }
    }
}

static void step_gemms_free(step_gemms *s)
{
    for (size_t l = 0; l <= DEPTH; l++) {
        free(s->h[l]);
        free(s->g[l]);
        free(s->w[l]);
        free(s->dw[l]);
    }
}

/* Row-major, batch-major, weights (out, in): the library's layout. */
static int step_gemms_run(void *ctx)
{
    step_gemms *s = ctx;
    int b = s->batch;

    for (size_t l = 1; l <= s->depth; l++) {
        int in = (int)s->widths[l - 1], out = (int)s->widths[l];
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b, out, in, 1.0f,
                    s->h[l - 1], in, s->w[l], in, 0.0f, s->h[l], out);
    }
    for (size_t l = s->depth; l >= 1; l--) {
        int in = (int)s->widths[l - 1], out = (int)s->widths[l];
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, b, 1.0f / (float)b,
                    s->g[l], out, s->h[l - 1], in, 0.0f, s->dw[l], in);
        if (l >= 2)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, b, in, out, 1.0f,
                        s->g[l], out, s->w[l], in, 0.0f, s->g[l - 1], in);
    }
    return 0;
}

/* ---- BP steps through the library ---------------------------------------- */

typedef struct {
    pcmup_param *param;
    pcmup_net *net;
    pcmup_algo *algo;
    float *x;
    int32_t *labels;
    size_t batch;
} bp_bench;

static int report(pcmup_status st, const char *what)
{
    if (st != PCMUP_OK)
        fprintf(stderr, PROG ": %s: %s (%s)\n", what, pcmup_last_error(),
                pcmup_status_name(st));
    return st != PCMUP_OK;
}

static void bp_bench_free(bp_bench *b)
{
    pcmup_algo_free(b->algo);
    pcmup_net_free(b->net);
    pcmup_param_free(b->param);
    free(b->x);
    free(b->labels);
}

/* A small learning rate: the labels are random, and the cost of a step
 * does not depend on it. */
static int bp_bench_init(bp_bench *b, const size_t *widths, size_t batch)
{
    uint64_t rng = 99;
    memset(b, 0, sizeof *b);
    b->batch = batch;
    b->x = alloc_floats(batch * INPUTS, &rng);
    b->labels = xmalloc(batch * sizeof *b->labels);
    for (size_t i = 0; i < batch; i++)
        b->labels[i] = (int32_t)(rng_next(&rng) % CLASSES);
    return report(pcmup_param_create(&b->param, DEPTH, PCMUP_PRESET_MUP_SGD, NULL),
                  "pcmup_param_create")
        || report(pcmup_net_create(&b->net, DEPTH, widths, PCMUP_ACT_TANH, 0, b->param,
                                   1, NULL),
                  "pcmup_net_create")
        || report(pcmup_algo_create(&b->algo, PCMUP_ALGO_BP, b->net, 2, NULL),
                  "pcmup_algo_create")
        || report(pcmup_algo_set(b->algo, PCMUP_SET_LR, 0.001), "pcmup_algo_set");
}

static int bp_bench_step(void *ctx)
{
    bp_bench *b = ctx;
    return report(pcmup_algo_step(b->algo, b->x, b->labels, b->batch, NULL),
                  "pcmup_algo_step");
}

/* ---- target propagation: step times relative to BP ------------------------ */

static const size_t tp_widths[] = {256, 1024};
#define N_TP_WIDTHS (sizeof tp_widths / sizeof tp_widths[0])

/* The columns: BP, then TP/DTP x closed/trained. */
typedef struct {
    const char *name;
    pcmup_algo_kind kind;
    pcmup_preset preset;
    pcmup_feedback feedback;
} rule_column;

static const rule_column rule_columns[] = {
    {"BP", PCMUP_ALGO_BP, PCMUP_PRESET_MUP_SGD, PCMUP_FEEDBACK_CLOSED},
    {"TP closed", PCMUP_ALGO_TP, PCMUP_PRESET_MUP_TP, PCMUP_FEEDBACK_CLOSED},
    {"TP trained", PCMUP_ALGO_TP, PCMUP_PRESET_MUP_TP, PCMUP_FEEDBACK_TRAINED},
    {"DTP closed", PCMUP_ALGO_DTP, PCMUP_PRESET_MUP_TP, PCMUP_FEEDBACK_CLOSED},
    {"DTP trained", PCMUP_ALGO_DTP, PCMUP_PRESET_MUP_TP, PCMUP_FEEDBACK_TRAINED},
};
#define N_RULE_COLUMNS (sizeof rule_columns / sizeof rule_columns[0])

/* bp_bench_init for any rule: the rule's own muP and default settings
 * (trained feedback: one feedback iteration, noise 0.1). */
static int rule_bench_init(bp_bench *b, const size_t *widths, size_t batch,
                           const rule_column *col)
{
    uint64_t rng = 99;
    memset(b, 0, sizeof *b);
    b->batch = batch;
    b->x = alloc_floats(batch * INPUTS, &rng);
    b->labels = xmalloc(batch * sizeof *b->labels);
    for (size_t i = 0; i < batch; i++)
        b->labels[i] = (int32_t)(rng_next(&rng) % CLASSES);
    if (report(pcmup_param_create(&b->param, DEPTH, col->preset, NULL), "pcmup_param_create")
        || report(pcmup_net_create(&b->net, DEPTH, widths, PCMUP_ACT_TANH, 0, b->param, 1,
                                   NULL),
                  "pcmup_net_create")
        || report(pcmup_algo_create(&b->algo, col->kind, b->net, 2, NULL), "pcmup_algo_create")
        || report(pcmup_algo_set(b->algo, PCMUP_SET_LR, 0.001), "pcmup_algo_set"))
        return 1;
    if (col->kind == PCMUP_ALGO_BP)
        return 0;
    return report(pcmup_algo_set(b->algo, PCMUP_SET_FEEDBACK, col->feedback), "pcmup_algo_set");
}

/* Seconds of the fastest step of each column at one width and batch. */
static int measure_rules(size_t width, size_t batch, const bench_options *o,
                         double seconds[N_RULE_COLUMNS])
{
    size_t widths[DEPTH + 1] = {INPUTS, width, width, CLASSES};
    for (size_t k = 0; k < N_RULE_COLUMNS; k++) {
        bp_bench b;
        timing t = {0.0, 0.0};
        int rc = rule_bench_init(&b, widths, batch, &rule_columns[k]);
        if (rc == 0)
            rc = time_work(bp_bench_step, &b, o, &t);
        bp_bench_free(&b);
        if (rc != 0)
            return 1;
        seconds[k] = t.best;
    }
    return 0;
}

static void print_rules(double seconds[N_TP_WIDTHS][N_BATCHES][N_RULE_COLUMNS])
{
    printf("\nLocal rules: step time relative to BP's (fastest repetition; depth %d,\n"
           "%d -> M -> M -> %d, tanh, MSE, each rule under its muP, default settings;\n"
           "trained feedback: 1 feedback iteration per step, noise 0.1).\n",
           DEPTH, INPUTS, CLASSES);
    printf("%6s %6s %9s", "M", "batch", "BP ms");
    for (size_t k = 1; k < N_RULE_COLUMNS; k++)
        printf(" %12s", rule_columns[k].name);
    printf("\n");
    for (size_t wi = 0; wi < N_TP_WIDTHS; wi++)
        for (size_t bi = 0; bi < N_BATCHES; bi++) {
            const double *s = seconds[wi][bi];
            printf("%6zu %6zu %9.3f", tp_widths[wi], bench_batches[bi], 1e3 * s[0]);
            for (size_t k = 1; k < N_RULE_COLUMNS; k++)
                printf(" %11.2fx", s[k] / s[0]);
            printf("\n");
        }
}

/* ---- one table row ------------------------------------------------------- */

typedef struct {
    double samples_per_s;      /* fastest step                   */
    double mean_samples_per_s; /* over the whole timed run       */
    double gflops;             /* achieved by the fastest step   */
    double ref_gflops;         /* fastest cblas_sgemm sequence on
                                  the same shapes                */
} row_result;

static int measure_row(size_t width, size_t batch, const bench_options *o,
                       row_result *r)
{
    size_t widths[DEPTH + 1] = {INPUTS, width, width, CLASSES};
    double flops = bp_step_flops(widths, DEPTH, batch);
    timing step = {0.0, 0.0}, ref = {0.0, 0.0};
    bp_bench bp;
    step_gemms gemms;
    int rc;

    rc = bp_bench_init(&bp, widths, batch);
    if (rc == 0)
        rc = time_work(bp_bench_step, &bp, o, &step);
    bp_bench_free(&bp);
    if (rc != 0)
        return 1;
    step_gemms_init(&gemms, widths, batch);
    rc = time_work(step_gemms_run, &gemms, o, &ref);
    step_gemms_free(&gemms);
    if (rc != 0)
        return 1;
    r->samples_per_s = (double)batch / step.best;
    r->mean_samples_per_s = (double)batch / step.mean;
    r->gflops = flops / step.best * 1e-9;
    r->ref_gflops = flops / ref.best * 1e-9;
    return 0;
}

static void print_header(void)
{
    printf("BP step, depth %d (%d -> M -> M -> %d), muP, tanh, MSE. Rates from the\n"
           "fastest repetition (samples/s also as the mean over the run); GFLOP/s\n"
           "counts GEMM FLOPs only; 'sgemm ref' runs the step's GEMMs directly.\n",
           DEPTH, INPUTS, CLASSES);
    printf("%6s %6s %10s %10s %9s %8s %10s %8s\n", "M", "batch", "samples/s", "(mean)",
           "GFLOP/s", "vs peak", "sgemm ref", "vs ref");
}

static void print_row(size_t width, size_t batch, const row_result *r, double peak)
{
    printf("%6zu %6zu %10.0f %10.0f %9.2f %7.1f%% %10.2f %7.1f%%\n", width, batch,
           r->samples_per_s, r->mean_samples_per_s, r->gflops,
           100.0 * r->gflops / peak, r->ref_gflops, 100.0 * r->gflops / r->ref_gflops);
}

/* ---- options and main ---------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f, "Usage: " PROG " [--threads N] [--quick]\n"
               "  --threads N  BLAS threads (default: the BLAS library's choice)\n"
               "  --quick      smaller sgemm, shorter timings (a smoke run)\n");
}

static int parse_threads(const char *text, int *out)
{
    char *end;
    long v;
    errno = 0;
    v = strtol(text, &end, 10);
    if (end == text || *end != '\0' || errno == ERANGE || v < 1 || v > 1024)
        return -1;
    *out = (int)v;
    return 0;
}

/* 0 ok, 1 exit 0 (help), 2 usage error. */
static int parse_args(bench_options *o, int argc, char **argv)
{
    *o = (bench_options){0, 0, 2048, 5, 2, 0.5};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            o->quick = 1;
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            if (parse_threads(argv[++i], &o->threads) != 0) {
                fprintf(stderr, PROG ": --threads: expected 1..1024, got '%s'\n", argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 1;
        } else {
            fprintf(stderr, PROG ": unknown or incomplete option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (o->quick)
        *o = (bench_options){o->threads, 1, 1024, 2, 1, 0.1};
    return 0;
}

static void print_summary(row_result rows[N_WIDTHS][N_BATCHES], double peak)
{
    for (size_t wi = 0; wi < N_WIDTHS; wi++) {
        for (size_t bi = 0; bi < N_BATCHES; bi++) {
            double ratio = rows[wi][bi].gflops / peak;
            if (bench_widths[wi] != 1024 || bench_batches[bi] != 256)
                continue;
            printf("\nwidth 1024, batch 256: BP step at %.1f%% of sgemm peak "
                   "(target >= 60%%: %s)\n",
                   100.0 * ratio, ratio >= 0.6 ? "met" : "NOT met");
        }
    }
}

/* Measures every row before printing any, with peak runs before, between
 * and after them, so that the ratios use the best the machine showed. */
int main(int argc, char **argv)
{
    row_result rows[N_WIDTHS][N_BATCHES];
    bench_options o;
    peak_probe peak;
    int rc = parse_args(&o, argc, argv);

    if (rc != 0)
        return rc == 1 ? 0 : 2;
    if (o.threads > 0 && report(pcmup_set_blas_threads(o.threads), "--threads"))
        return 1;
    peak_probe_init(&peak, o.peak_n);
    peak_probe_gemm(&peak); /* warm-up: thread start, page faults */
    peak_probe_run(&peak, o.peak_reps);
    for (size_t wi = 0; wi < N_WIDTHS; wi++) {
        for (size_t bi = 0; bi < N_BATCHES; bi++) {
            fprintf(stderr, PROG ": measuring M = %zu, batch %zu\n", bench_widths[wi],
                    bench_batches[bi]);
            if (measure_row(bench_widths[wi], bench_batches[bi], &o, &rows[wi][bi]) != 0)
                return 1;
            peak_probe_run(&peak, 1);
        }
    }
    /* ---- target propagation ---- */
    static double rule_seconds[N_TP_WIDTHS][N_BATCHES][N_RULE_COLUMNS];
    for (size_t wi = 0; wi < N_TP_WIDTHS; wi++)
        for (size_t bi = 0; bi < N_BATCHES; bi++) {
            fprintf(stderr, PROG ": measuring local rules, M = %zu, batch %zu\n",
                    tp_widths[wi], bench_batches[bi]);
            if (measure_rules(tp_widths[wi], bench_batches[bi], &o, rule_seconds[wi][bi]) != 0)
                return 1;
        }
    peak_probe_run(&peak, o.peak_reps);
    peak_probe_free(&peak);

    printf("libpcmup %s, OpenBLAS %d thread(s)\n", pcmup_version_string(),
           openblas_get_num_threads());
    printf("sgemm peak (%zu^3, best of %d runs spread over the benchmark): %.2f GFLOP/s\n\n",
           o.peak_n, peak.runs, peak.best_gflops);
    print_header();
    for (size_t wi = 0; wi < N_WIDTHS; wi++)
        for (size_t bi = 0; bi < N_BATCHES; bi++)
            print_row(bench_widths[wi], bench_batches[bi], &rows[wi][bi], peak.best_gflops);
    print_summary(rows, peak.best_gflops);
    print_rules(rule_seconds);
    return 0;
}
