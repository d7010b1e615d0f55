/* SPDX-License-Identifier: MIT */
/*
 * bench.c -- how close does a BP training step come to the machine's GEMM
 * speed?
 *
 * Prints the cblas_sgemm peak on a large square product, then for BP steps
 * (pcmup_algo_step, depth 3, 784 -> M -> M -> 10, muP, random data) at
 * several widths and batch sizes: samples/s, achieved GFLOP/s, the ratio to
 * the peak, and the ratio to cblas_sgemm run directly on the step's own
 * GEMM shapes, the products the step logged replayed (step.h), which
 * tells library overhead apart from small-shape GEMM inefficiency. Then
 * the other learning rules' steps against BP's on the same network at widths 256 and 1024, batch 64 and 256, each under its
 * muP: predictive coding (gamma bar 0) for the default single sweep (T = 1,
 * sequential) and for T = 20 (simultaneous); the Gauss-Newton target
 * (batch variant at e_B = 1 and 1/2, sample variant at e_B = 1); TP and DTP
 * with closed-form and trained feedback.
 *
 * With --cnn it measures convolution layers instead (cnn.c); with
 * --roofline every rule's step against its own level-3 products (roofline.c).
 *
 *   pcmup-bench [--threads N] [--quick] [--no-gnt] [--cnn]
 *   pcmup-bench --roofline [--widths LIST] [--batches LIST] [--rules LIST]
 *               [--json] [--all]
 */
#include <cblas.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "pcmup.h"
#include "step.h"

static const size_t bench_widths[] = {256, 1024, 4096};
static const size_t bench_batches[] = {64, 256};
#define N_WIDTHS (sizeof bench_widths / sizeof bench_widths[0])
#define N_BATCHES (sizeof bench_batches / sizeof bench_batches[0])

/* The other rules against BP (PC, GNT, TP/DTP): these widths and batches. */
static const size_t vs_widths[] = {256, 1024};
static const size_t vs_batches[] = {64, 256};
#define N_VS_WIDTHS (sizeof vs_widths / sizeof vs_widths[0])
#define N_VS_BATCHES (sizeof vs_batches / sizeof vs_batches[0])
/* The two PC cases: single-shot sequential inference (the default)
 * and T = 20 simultaneous iterations (kappa 0.2, inside the stability
 * bound; the cost does not depend on kappa). */
static const size_t pc_iterations[] = {1, 20};
#define N_PC_T (sizeof pc_iterations / sizeof pc_iterations[0])

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

/* FLOPs of one PC step (sequential schedule, forward init, no FPA), GEMMs
 * only, each 2 B in_l out_l. The library recomputes an error only when its
 * prediction moved (moving x_l shifts eps_l by exactly -kappa g), and
 * forward init starts with every error known, so:
 *   forward pass                       every layer
 *   per iteration: the sweep           one input VJP per hidden layer l,
 *                                      of layer l+1 (layers 2..L)
 *                  the errors after    the predictions of layers 2..L,
 *                                      whose inputs moved
 *   weight update                      every layer's weight gradient
 * that is, BP's GEMMs plus one more pass through layers 2..L at T = 1, and
 * two more such passes per further iteration. */
static double pc_step_flops(const size_t *widths, size_t depth, size_t batch, size_t t)
{
    double all = 0.0, inner = 0.0;
    for (size_t l = 1; l <= depth; l++) {
        double io = (double)widths[l - 1] * (double)widths[l];
        all += io;
        if (l >= 2)
            inner += io;
    }
    return 2.0 * (double)batch * (2.0 * all + 2.0 * (double)t * inner);
}

static const step_config bp_config = {.rule = PCMUP_RULE_BP};

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
    step_bench bp;
    gemm_replay gemms = {0};
    int rc;

    rc = step_bench_init(&bp, &bp_config, widths, batch);
    if (rc == 0)
        rc = time_work(step_bench_step, &bp, o, &step);
    if (rc == 0)
        rc = step_bench_record(&bp, &gemms);
    step_bench_free(&bp);
    if (rc == 0)
        rc = time_work(gemm_replay_run, &gemms, o, &ref);
    gemm_replay_free(&gemms);
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

/* ---- the other rules against BP ------------------------------------------- */

/* The fastest step of c's rule, in seconds; for GNT also the order of the
 * hidden layers' dense problem (order may be NULL). Non-zero on failure. */
static int time_steps(const step_config *c, const size_t *widths, size_t batch,
                      const bench_options *o, double *best, size_t *order)
{
    timing step = {0.0, 0.0};
    step_bench b;
    size_t orders[DEPTH];
    int rc = step_bench_init(&b, c, widths, batch);
    if (rc == 0 && order != NULL && c->rule == PCMUP_RULE_GNT) {
        rc = report(pcmup_gnt_system_size(b.algo, batch, orders, DEPTH),
                    "pcmup_gnt_system_size");
        *order = orders[1];
    }
    if (rc == 0)
        rc = time_work(step_bench_step, &b, o, &step);
    step_bench_free(&b);
    *best = step.best;
    return rc != 0;
}

/* PC */

typedef struct {
    double bp_best;            /* seconds of BP's fastest step          */
    double pc_best[N_PC_T];    /* PC's, for each of pc_iterations       */
} pc_row;

/* BP is timed again right before PC so that both see the same machine. */
static int measure_pc_row(size_t width, size_t batch, const bench_options *o, pc_row *r)
{
    size_t widths[DEPTH + 1] = {INPUTS, width, width, CLASSES};
    if (time_steps(&bp_config, widths, batch, o, &r->bp_best, NULL) != 0)
        return 1;
    for (size_t ti = 0; ti < N_PC_T; ti++) {
        step_config pc = {.rule = PCMUP_RULE_PC, .t = pc_iterations[ti]};
        if (time_steps(&pc, widths, batch, o, &r->pc_best[ti], NULL) != 0)
            return 1;
    }
    return 0;
}

static void print_pc_table(pc_row rows[N_VS_WIDTHS][N_VS_BATCHES])
{
    char label[32];

    printf("\nPC step against BP step, same network (PC muP with gamma bar 0, whose\n"
           "exponents are BP's muP), forward init, no FPA; T=1 sequential, T=20\n"
           "simultaneous; BP timed again next to PC; fastest repetition. 'x BP' is PC's\n"
           "step time over BP's, 'model' the issue's cost model (2T + 2) / 3 BP steps,\n"
           "'GEMM x' the ratio of counted GEMM FLOPs. PC T=1 does about BP's GEMM\n"
           "work plus one more pass through layers 2..L (1.1-1.2x, not 2x): its sweep\n"
           "computes one VJP per hidden layer, like BP's backward pass, and no\n"
           "predictions (an error is recomputed only when its prediction moved), then\n"
           "the predictions of layers 2..L again from the final states. Each further\n"
           "iteration adds two such passes. Beyond GEMMs, PC evaluates tanh T + 1 times\n"
           "per hidden layer (forward pass, then after each state move), BP once.\n");
    printf("%6s %6s %12s", "M", "batch", "BP samples/s");
    for (size_t ti = 0; ti < N_PC_T; ti++) {
        snprintf(label, sizeof label, "PC T=%zu samples/s", pc_iterations[ti]);
        printf(" | %18s %6s %6s %6s", label, "x BP", "model", "GEMM x");
    }
    printf("\n");
    for (size_t wi = 0; wi < N_VS_WIDTHS; wi++) {
        for (size_t bi = 0; bi < N_VS_BATCHES; bi++) {
            const pc_row *r = &rows[wi][bi];
            size_t w = vs_widths[wi], b = vs_batches[bi];
            size_t widths[DEPTH + 1] = {INPUTS, w, w, CLASSES};
            double bp_flops = bp_step_flops(widths, DEPTH, b);
            printf("%6zu %6zu %12.0f", w, b, (double)b / r->bp_best);
            for (size_t ti = 0; ti < N_PC_T; ti++)
                printf(" | %18.0f %6.2f %6.2f %6.2f", (double)b / r->pc_best[ti],
                       r->pc_best[ti] / r->bp_best, (2.0 * pc_iterations[ti] + 2.0) / 3.0,
                       pc_step_flops(widths, DEPTH, b, pc_iterations[ti]) / bp_flops);
            printf("\n");
        }
    }
}

/* Gauss-Newton target */

static const named_config gnt_configs[] = {
    {"batch e_B=1",
     {.rule = PCMUP_RULE_GNT, .gnt_power = 1.0, .gnt_variant = PCMUP_GNT_BATCH}},
    {"batch e_B=1/2",
     {.rule = PCMUP_RULE_GNT, .gnt_power = 0.5, .gnt_variant = PCMUP_GNT_BATCH}},
    {"sample e_B=1",
     {.rule = PCMUP_RULE_GNT, .gnt_power = 1.0, .gnt_variant = PCMUP_GNT_SAMPLE}},
};
#define N_GNT_CONFIGS (sizeof gnt_configs / sizeof gnt_configs[0])

typedef struct {
    double bp_best;                 /* seconds of BP's fastest step       */
    double gnt_best[N_GNT_CONFIGS]; /* GNT's, for each of gnt_configs     */
    size_t order[N_GNT_CONFIGS];    /* the hidden layers' problem order   */
} gnt_row;

static int measure_gnt_row(size_t width, size_t batch, const bench_options *o, gnt_row *r)
{
    size_t widths[DEPTH + 1] = {INPUTS, width, width, CLASSES};
    if (time_steps(&bp_config, widths, batch, o, &r->bp_best, NULL) != 0)
        return 1;
    for (size_t g = 0; g < N_GNT_CONFIGS; g++)
        if (time_steps(&gnt_configs[g].config, widths, batch, o, &r->gnt_best[g],
                       &r->order[g])
            != 0)
            return 1;
    return 0;
}

static void print_gnt_table(gnt_row rows[N_VS_WIDTHS][N_VS_BATCHES])
{
    printf("\nGauss-Newton target step against BP step, same network, GNT under its muP\n"
           "(MUP_GNT), rho' = 1e-2, output layer preconditioned; BP timed again next\n"
           "to GNT; fastest repetition in ms and its ratio to BP's. [n] is the order\n"
           "of the hidden layers' dense problem (min(B C, M) for batch, C per sample).\n"
           "LAPACK: dpotrf for e_B = 1, dsyevd for e_B = 1/2 (docs/gnt.md).\n");
    printf("%6s %6s %9s", "M", "batch", "BP ms");
    for (size_t g = 0; g < N_GNT_CONFIGS; g++)
        printf("  %24s", gnt_configs[g].name);
    printf("\n");
    for (size_t wi = 0; wi < N_VS_WIDTHS; wi++) {
        for (size_t bi = 0; bi < N_VS_BATCHES; bi++) {
            const gnt_row *r = &rows[wi][bi];
            printf("%6zu %6zu %9.2f", vs_widths[wi], vs_batches[bi], 1e3 * r->bp_best);
            for (size_t g = 0; g < N_GNT_CONFIGS; g++)
                printf("  %9.2f ms %5.1fx [%4zu]", 1e3 * r->gnt_best[g],
                       r->gnt_best[g] / r->bp_best, r->order[g]);
            printf("\n");
        }
    }
}

/* Target propagation */

static const named_config tp_configs[] = {
    {"TP closed", {.rule = PCMUP_RULE_TP, .feedback = PCMUP_TP_FEEDBACK_CLOSED}},
    {"TP trained", {.rule = PCMUP_RULE_TP, .feedback = PCMUP_TP_FEEDBACK_TRAINED}},
    {"DTP closed", {.rule = PCMUP_RULE_DTP, .feedback = PCMUP_TP_FEEDBACK_CLOSED}},
    {"DTP trained", {.rule = PCMUP_RULE_DTP, .feedback = PCMUP_TP_FEEDBACK_TRAINED}},
};
#define N_TP_CONFIGS (sizeof tp_configs / sizeof tp_configs[0])

typedef struct {
    double bp_best;               /* seconds of BP's fastest step       */
    double tp_best[N_TP_CONFIGS]; /* for each of tp_configs             */
} tp_row;

static int measure_tp_row(size_t width, size_t batch, const bench_options *o, tp_row *r)
{
    size_t widths[DEPTH + 1] = {INPUTS, width, width, CLASSES};
    if (time_steps(&bp_config, widths, batch, o, &r->bp_best, NULL) != 0)
        return 1;
    for (size_t k = 0; k < N_TP_CONFIGS; k++)
        if (time_steps(&tp_configs[k].config, widths, batch, o, &r->tp_best[k], NULL) != 0)
            return 1;
    return 0;
}

static void print_tp_table(tp_row rows[N_VS_WIDTHS][N_VS_BATCHES])
{
    printf("\nTP and DTP steps against BP step, same network, each under its muP\n"
           "(MUP_TP), default settings (trained feedback: 1 feedback iteration per\n"
           "step, noise 0.1); BP timed again next to them; step time over BP's, from\n"
           "the fastest repetitions.\n");
    printf("%6s %6s %9s", "M", "batch", "BP ms");
    for (size_t k = 0; k < N_TP_CONFIGS; k++)
        printf(" %12s", tp_configs[k].name);
    printf("\n");
    for (size_t wi = 0; wi < N_VS_WIDTHS; wi++) {
        for (size_t bi = 0; bi < N_VS_BATCHES; bi++) {
            const tp_row *r = &rows[wi][bi];
            printf("%6zu %6zu %9.3f", vs_widths[wi], vs_batches[bi], 1e3 * r->bp_best);
            for (size_t k = 0; k < N_TP_CONFIGS; k++)
                printf(" %11.2fx", r->tp_best[k] / r->bp_best);
            printf("\n");
        }
    }
}

/* ---- options and main ---------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f, "Usage: " PROG " [--threads N] [--quick] [--no-gnt] [--cnn]\n"
               "       " PROG " --roofline [--widths LIST] [--batches LIST] [--rules LIST]\n"
               "                   [--json] [--all] [--threads N] [--quick]\n"
               "  --threads N     BLAS threads (default: the BLAS library's choice)\n"
               "  --quick         smaller sgemm, shorter timings (a smoke run)\n"
               "  --no-gnt        skip the Gauss-Newton target table\n"
               "  --cnn           the convolution cases (SimpleCNN's and a VGG5-sized\n"
               "                  layer) instead of the MLP tables\n"
               "  --roofline      each rule's step time against the time of exactly the\n"
               "                  level-3 products it issues (GEMM, SYRK, TRSM), replayed\n"
               "                  back to back with their alpha and beta\n"
               "  --widths LIST   roofline widths M, comma-separated (default\n"
               "                  64,256,1024,4096)\n"
               "  --batches LIST  roofline batch sizes (default 64,256)\n"
               "  --rules LIST    roofline rules (default all): bp, pc-seq1, pc-sim20,\n"
               "                  gnt-batch, gnt-sample, tp-closed, tp-trained,\n"
               "                  dtp-closed, dtp-trained\n"
               "  --json          roofline: JSON lines (rule, width, batch, step_ms,\n"
               "                  gemm_ms, ratio, gemms, gemm_gflop, target)\n"
               "  --all           roofline: also the cases whose step takes over 1 s\n"
               "                  (skipped by default, with a note)\n");
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
    *o = (bench_options){.peak_n = 2048, .peak_reps = 5, .warmup = 2, .min_seconds = 0.5};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            o->quick = 1;
        } else if (strcmp(argv[i], "--no-gnt") == 0) {
            o->no_gnt = 1;
        } else if (strcmp(argv[i], "--cnn") == 0) {
            o->cnn = 1;
        } else if (strcmp(argv[i], "--roofline") == 0) {
            o->roofline = 1;
        } else if (strcmp(argv[i], "--json") == 0) {
            o->json = 1;
        } else if (strcmp(argv[i], "--all") == 0) {
            o->all = 1;
        } else if (strcmp(argv[i], "--widths") == 0 && i + 1 < argc) {
            o->widths = argv[++i];
        } else if (strcmp(argv[i], "--batches") == 0 && i + 1 < argc) {
            o->batches = argv[++i];
        } else if (strcmp(argv[i], "--rules") == 0 && i + 1 < argc) {
            o->rules = argv[++i];
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
    if (!o->roofline && (o->json || o->all || o->widths || o->batches || o->rules)) {
        fprintf(stderr, PROG ": --json, --all, --widths, --batches and --rules need --roofline\n");
        return 2;
    }
    if (o->quick) {
        o->peak_n = 1024;
        o->peak_reps = 2;
        o->warmup = 1;
        o->min_seconds = 0.1;
    }
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
    pc_row pc_rows[N_VS_WIDTHS][N_VS_BATCHES];
    gnt_row gnt_rows[N_VS_WIDTHS][N_VS_BATCHES];
    tp_row tp_rows[N_VS_WIDTHS][N_VS_BATCHES];
    bench_options o;
    peak_probe peak;
    int rc = parse_args(&o, argc, argv);

    if (rc != 0)
        return rc == 1 ? 0 : 2;
    if (o.threads > 0 && report(pcmup_set_blas_threads(o.threads), "--threads"))
        return 1;
    if (o.cnn)
        return bench_cnn(&o);
    if (o.roofline)
        return bench_roofline(&o);
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
    for (size_t wi = 0; wi < N_VS_WIDTHS; wi++) {
        for (size_t bi = 0; bi < N_VS_BATCHES; bi++) {
            size_t w = vs_widths[wi], b = vs_batches[bi];
            fprintf(stderr, PROG ": measuring PC against BP, M = %zu, batch %zu\n", w, b);
            if (measure_pc_row(w, b, &o, &pc_rows[wi][bi]) != 0)
                return 1;
            peak_probe_run(&peak, 1);
            if (!o.no_gnt) {
                fprintf(stderr, PROG ": measuring GNT against BP, M = %zu, batch %zu\n", w, b);
                if (measure_gnt_row(w, b, &o, &gnt_rows[wi][bi]) != 0)
                    return 1;
                peak_probe_run(&peak, 1);
            }
            fprintf(stderr, PROG ": measuring TP and DTP against BP, M = %zu, batch %zu\n", w,
                    b);
            if (measure_tp_row(w, b, &o, &tp_rows[wi][bi]) != 0)
                return 1;
            peak_probe_run(&peak, 1);
        }
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
    print_pc_table(pc_rows);
    if (!o.no_gnt)
        print_gnt_table(gnt_rows);
    print_tp_table(tp_rows);
    return 0;
}
