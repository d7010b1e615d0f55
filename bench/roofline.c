/* SPDX-License-Identifier: MIT */
/*
 * roofline.c -- pcmup-bench --roofline: how far is each learning rule's
 * training step from the time of its own GEMMs (every level-3 product it
 * issues: GEMMs, and the SYRKs and TRSMs of the rules' solves)?
 *
 * For every rule configuration, width M and batch B: the network
 * 784 -> M -> M -> 10 (depth 3, tanh) under the rule's muP, random data
 * (step.h). One step runs with the library's GEMM log on (the kernel
 * module records every level-3 product a step issues, with its alpha and
 * beta); then, in the same run, the step (public pcmup_algo_step:
 * argument checks and the snapshot a failed step would put back
 * included) and the replay of exactly the logged products (back to back
 * on buffers of their shapes, the same calls, step.h) are
 * timed as the rest of the benchmark times work (untimed warm-up,
 * repetitions, the fastest kept: other processes can only add time), in
 * alternating rounds. The ratio step / GEMM is the cost of everything
 * that is not a level-3 product (elementwise work, LAPACK's factorisations,
 * level-1/2 BLAS, copies): 1 would be a step that is nothing but its
 * products. "GEMM" in the output means any of them.
 *
 * Cases whose first step after the logged one took longer than
 * MAX_STEP_SECONDS are skipped with a note unless --all: at width 4096
 * the costly rules (PC T = 20, GNT batch at B = 256) take seconds a step.
 */
#include <cblas.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "step.h"

/* The targets: step time at most this many times its GEMM time. */
#define TARGET_WIDE 1.15   /* width 256 and up */
#define TARGET_NARROW 1.3  /* below */
#define TARGET_WIDE_FROM 256

/* A case whose warm step took longer is skipped unless --all. */
#define MAX_STEP_SECONDS 1.0

#define MAX_LIST 16

/* The step and its replay are timed in this many alternating rounds. */
#define ROUNDS 3

static const named_config roofline_rules[] = {
    {"bp", {.rule = PCMUP_RULE_BP}},
    {"pc-seq1", {.rule = PCMUP_RULE_PC, .t = 1}},
    {"pc-sim20", {.rule = PCMUP_RULE_PC, .t = 20}},
    {"gnt-batch",
     {.rule = PCMUP_RULE_GNT, .gnt_power = 1.0, .gnt_variant = PCMUP_GNT_BATCH}},
    {"gnt-sample",
     {.rule = PCMUP_RULE_GNT, .gnt_power = 1.0, .gnt_variant = PCMUP_GNT_SAMPLE}},
    {"tp-closed", {.rule = PCMUP_RULE_TP, .feedback = PCMUP_TP_FEEDBACK_CLOSED}},
    {"tp-trained", {.rule = PCMUP_RULE_TP, .feedback = PCMUP_TP_FEEDBACK_TRAINED}},
    {"dtp-closed", {.rule = PCMUP_RULE_DTP, .feedback = PCMUP_TP_FEEDBACK_CLOSED}},
    {"dtp-trained", {.rule = PCMUP_RULE_DTP, .feedback = PCMUP_TP_FEEDBACK_TRAINED}},
};
#define N_RULES (sizeof roofline_rules / sizeof roofline_rules[0])

static const size_t default_widths[] = {64, 256, 1024, 4096};
static const size_t default_batches[] = {64, 256};

typedef struct {
    size_t widths[MAX_LIST], batches[MAX_LIST], rules[MAX_LIST]; /* rules: indices */
    size_t n_widths, n_batches, n_rules;
} grid;

/* ---- the grid from the options ------------------------------------------- */

/* "64,256": 1..1048576 each; -1 on a bad list. */
static int parse_sizes(const char *text, size_t *out, size_t *n)
{
    const char *p = text;
    *n = 0;
    for (;;) {
        char *end;
        long v;
        errno = 0;
        v = strtol(p, &end, 10);
        if (end == p || errno == ERANGE || v < 1 || v > 1048576 || *n == MAX_LIST
            || (*end != ',' && *end != '\0'))
            return -1;
        out[(*n)++] = (size_t)v;
        if (*end == '\0')
            return 0;
        p = end + 1;
    }
}

static int rule_index(const char *name, size_t len, size_t *out)
{
    for (size_t i = 0; i < N_RULES; i++)
        if (strlen(roofline_rules[i].name) == len
            && strncmp(roofline_rules[i].name, name, len) == 0) {
            *out = i;
            return 0;
        }
    return -1;
}

static int parse_rules(const char *text, grid *g)
{
    const char *p = text;
    g->n_rules = 0;
    for (;;) {
        size_t len = strcspn(p, ",");
        if (g->n_rules == MAX_LIST || rule_index(p, len, &g->rules[g->n_rules]) != 0)
            return -1;
        g->n_rules++;
        if (p[len] == '\0')
            return 0;
        p += len + 1;
    }
}

static void print_rule_names(FILE *f)
{
    for (size_t i = 0; i < N_RULES; i++)
        fprintf(f, "%s%s", i ? ", " : "", roofline_rules[i].name);
    fprintf(f, "\n");
}

static int make_grid(const bench_options *o, grid *g)
{
    memset(g, 0, sizeof *g);
    if (o->widths ? parse_sizes(o->widths, g->widths, &g->n_widths) != 0 : 0) {
        fprintf(stderr, PROG ": --widths: expected a comma list of 1..1048576, got '%s'\n",
                o->widths);
        return 2;
    }
    if (o->batches ? parse_sizes(o->batches, g->batches, &g->n_batches) != 0 : 0) {
        fprintf(stderr, PROG ": --batches: expected a comma list of 1..1048576, got '%s'\n",
                o->batches);
        return 2;
    }
    if (o->rules ? parse_rules(o->rules, g) != 0 : 0) {
        fprintf(stderr, PROG ": --rules: bad list '%s'; the rules are: ", o->rules);
        print_rule_names(stderr);
        return 2;
    }
    if (!o->widths) {
        memcpy(g->widths, default_widths, sizeof default_widths);
        g->n_widths = sizeof default_widths / sizeof default_widths[0];
    }
    if (!o->batches) {
        memcpy(g->batches, default_batches, sizeof default_batches);
        g->n_batches = sizeof default_batches / sizeof default_batches[0];
    }
    if (!o->rules) {
        for (size_t i = 0; i < N_RULES; i++)
            g->rules[i] = i;
        g->n_rules = N_RULES;
    }
    return 0;
}

/* ---- one case ------------------------------------------------------------ */

typedef struct {
    const char *rule;
    size_t width, batch;
    int skipped;          /* its warm step took longer than the cap     */
    double record_s;      /* one warm step, untimed (also when skipped) */
    double step_s, gemm_s; /* fastest repetitions                       */
    size_t gemms;         /* products per step                          */
    double gflop;         /* their FLOPs, 1e9                           */
} roofline_case;

static double target_for(size_t width)
{
    return width >= TARGET_WIDE_FROM ? TARGET_WIDE : TARGET_NARROW;
}

/* The step and the replay in ROUNDS alternating rounds of min_seconds /
 * ROUNDS each, the fastest repetition of each kept: a neighbour's load
 * that comes and goes then reaches both alike, not one of them only
 * (one round each let the ratio swing from 0.6 to 1.3 at width 4096 on a
 * machine shared with a CI run). */
static int time_alternating(step_bench *b, gemm_replay *replay, const bench_options *o,
                            double *step_s, double *gemm_s)
{
    bench_options round = *o;
    round.min_seconds = o->min_seconds / ROUNDS;
    *step_s = *gemm_s = 1e300;
    for (int r = 0; r < ROUNDS; r++) {
        timing step, gemm;
        if (time_work(step_bench_step, b, &round, &step) != 0
            || time_work(gemm_replay_run, replay, &round, &gemm) != 0)
            return -1;
        *step_s = step.best < *step_s ? step.best : *step_s;
        *gemm_s = gemm.best < *gemm_s ? gemm.best : *gemm_s;
        round.warmup = 0; /* warm from the first round on */
    }
    return 0;
}

/* Records the step's products, then times the step and their replay back
 * to back. Non-zero on failure. */
static int measure_case(const named_config *rule, size_t width, size_t batch,
                        const bench_options *o, roofline_case *c)
{
    size_t widths[DEPTH + 1] = {INPUTS, width, width, CLASSES};
    gemm_replay replay = {0};
    step_bench b;
    double t0;
    int rc;

    *c = (roofline_case){.rule = rule->name, .width = width, .batch = batch};
    rc = step_bench_init(&b, &rule->config, widths, batch);
    if (rc == 0)
        rc = step_bench_record(&b, &replay);
    /* The first steps pay for first-touch page faults and allocations;
     * the cap looks at one warm step. */
    t0 = now_seconds();
    if (rc == 0)
        rc = step_bench_step(&b);
    c->record_s = now_seconds() - t0;
    c->skipped = rc == 0 && !o->all && c->record_s > MAX_STEP_SECONDS;
    if (rc == 0 && !c->skipped)
        rc = time_alternating(&b, &replay, o, &c->step_s, &c->gemm_s);
    step_bench_free(&b);
    c->gemms = replay.count;
    c->gflop = (double)replay.flops * 1e-9;
    gemm_replay_free(&replay);
    return rc != 0;
}

/* ---- output ---------------------------------------------------------------- */

static void print_json(const roofline_case *c)
{
    if (c->skipped) {
        printf("{\"rule\":\"%s\",\"width\":%zu,\"batch\":%zu,\"skipped\":true,"
               "\"one_step_ms\":%.4f}\n",
               c->rule, c->width, c->batch, 1e3 * c->record_s);
        return;
    }
    printf("{\"rule\":\"%s\",\"width\":%zu,\"batch\":%zu,\"step_ms\":%.6g,\"gemm_ms\":%.6g,"
           "\"ratio\":%.6g,\"gemms\":%zu,\"gemm_gflop\":%.6g,\"target\":%.2f}\n",
           c->rule, c->width, c->batch, 1e3 * c->step_s, 1e3 * c->gemm_s,
           c->step_s / c->gemm_s, c->gemms, c->gflop, target_for(c->width));
}

static void print_table_header(const bench_options *o)
{
    const char *coretype = getenv("OPENBLAS_CORETYPE");
    printf("libpcmup %s, OpenBLAS %d thread(s), OPENBLAS_CORETYPE=%s\n",
           pcmup_version_string(), openblas_get_num_threads(), coretype ? coretype : "(unset)");
    printf("Roofline: each rule's step (pcmup_algo_step, depth 3, 784 -> M -> M -> 10,\n"
           "tanh, the rule's muP, random data) against exactly the level-3 products it\n"
           "issued (GEMM, SYRK, TRSM: \"GEMM\" below), replayed back to back with the\n"
           "same calls, alpha and beta; fastest repetition of each,\n"
           "timed in %d alternating rounds, %.2f s in all per case and kind.\n"
           "ratio = step / GEMMs; target <= %.2f at M >= %d, <= %.2f below.\n",
           ROUNDS, o->min_seconds, TARGET_WIDE, TARGET_WIDE_FROM, TARGET_NARROW);
    printf("%-12s %6s %6s %11s %11s %7s %6s %9s  %s\n", "rule", "M", "batch", "step ms",
           "GEMM ms", "ratio", "GEMMs", "GFLOP", "target");
}

static void print_table_row(const roofline_case *c)
{
    double ratio = c->step_s / c->gemm_s;
    if (c->skipped) {
        printf("%-12s %6zu %6zu   skipped: one step took %.2f s (> %.1f s; --all runs it)\n",
               c->rule, c->width, c->batch, c->record_s, MAX_STEP_SECONDS);
        return;
    }
    printf("%-12s %6zu %6zu %11.3f %11.3f %7.3f %6zu %9.3f  %s\n", c->rule, c->width,
           c->batch, 1e3 * c->step_s, 1e3 * c->gemm_s, ratio, c->gemms, c->gflop,
           ratio <= target_for(c->width) ? "met" : "NOT met");
}

/* Rows are printed as they are measured (a long run shows progress). */
int bench_roofline(const bench_options *o)
{
    grid g;
    int rc = make_grid(o, &g);
    if (rc != 0)
        return rc;
    if (!o->json)
        print_table_header(o);
    for (size_t ri = 0; ri < g.n_rules; ri++) {
        for (size_t wi = 0; wi < g.n_widths; wi++) {
            for (size_t bi = 0; bi < g.n_batches; bi++) {
                roofline_case c;
                if (measure_case(&roofline_rules[g.rules[ri]], g.widths[wi], g.batches[bi], o,
                                 &c)
                    != 0)
                    return 1;
                if (o->json)
                    print_json(&c);
                else
                    print_table_row(&c);
                fflush(stdout);
            }
        }
    }
    return 0;
}
