/* SPDX-License-Identifier: MIT */
/*
 * pcmup-sweep.c -- a learning-rate x width sweep of one training
 * configuration, the data of muP's "the best learning rate does not move
 * with width" plots.
 *
 * Usage:
 *   pcmup-sweep [CONFIGURATION FLAGS] [--widths LIST] [--log2-lr FROM:TO[:STEP]]
 *               --out FILE [--shard I/N] [--jobs N] [--label TEXT]
 *               [--diverge-loss X] [--best-by KEY]
 *   pcmup-sweep --summary FILE [--best-by KEY]
 *
 * The configuration flags are pcmup-train's (train_options.c), except
 * --width (use --widths), --json (rows always go to --out) and --lr
 * together with --log2-lr (--lr alone sweeps that one learning rate).
 *
 * The grid is every hidden width of --widths [64,128,256,512,1024] times
 * every lr = 2^k for k = FROM, FROM + STEP, ... up to TO (inclusive within
 * rounding) [-8:0:1], enumerated width-major then lr ascending. Point i
 * (from 0) belongs to shard (i mod N) + 1, so N shards run every point
 * exactly once.
 *
 * The data are loaded once. For each point of the shard not already in
 * --out, the parameterization, network and learning rule are built fresh
 * at that width and lr (train_setup.c), trained for --epochs and
 * evaluated on the test set (train_loop.c, as pcmup-train does), and ONE
 * JSON line is appended to --out and flushed at once: an interrupted
 * sweep loses at most the point it was running. A row has every key of
 * pcmup-train --json for that run, plus
 *   log2_lr   k
 *   diverged  true when an epoch failed with PCMUP_ERR_DIVERGED, or the
 *             final train or test loss is not finite or above
 *             --diverge-loss [1e4]; train_loss, test_loss, test_acc (and
 *             final_energy) are then null
 *   config    "algo=bp param=mup depth=3 ...": every setting that changes
 *             the result except width and lr (train_config_string)
 *   label     --label, or "ALGO PARAM" and the configuration flags given
 *             (without --algo, --param and --threads)
 * Resuming: a point whose (config, width, lr) already has a row in --out
 * (lr within a relative 1e-9) is skipped, and the count said on stderr.
 *
 * Several points at once (--jobs N, sweep_jobs.c): the data are loaded,
 * then N worker processes are forked (sharing the data copy-on-write),
 * each with its own BLAS thread count; the costliest points go first, each
 * next point to the next free worker, and the rows come back through
 * pipes. This process alone writes --out, in the grid's order: a finished
 * row waits for the points before it, and when the sweep stops early
 * (a failed point, a dead worker, SIGINT/SIGTERM/SIGHUP) the finished rows
 * are written before it exits with status 1. A row depends on its BLAS
 * thread count ("threads" in the row; docs/reproduction.md, "Results and
 * the BLAS thread count") and on nothing else of the schedule, so --jobs N
 * gives the rows of a serial sweep with the same --threads.
 * Default: from the processors this process may use (P) and the widths,
 * not from the points left, so a resumed sweep runs as the first run
 * would have: points of width >= 2048 run P/2 at a time with 2 threads,
 * narrower ones P at a time with 1 thread (measured on 2 cores; see
 * JOBS_WIDE_WIDTH); --threads T alone runs P/T at a time; one processor,
 * or --jobs 1, runs in this process as before.
 *
 * Under MPI (mpirun -n R, R > 1; sweep_mpi.c): rank 0 loads the data
 * and sends them to every rank (tool_mpi_data.c), reads --out to skip
 * the points done and tells every rank which are left; then each point
 * runs wholly on one rank, with --threads [1] BLAS threads, the costliest
 * first, each next one to the next free rank, rank 0 included (on a
 * thread beside its scheduling). Rank 0 alone writes --out, in the grid's
 * order, and the progress; the rows are a serial sweep's with the same
 * --threads. --jobs above 1 is refused: the ranks are the jobs. A failed
 * point, or a rank that dies (the launcher then ends every rank, which
 * reaches rank 0 as SIGTERM), stops the job with the finished rows
 * written and a non-zero exit status (rank 0 ends the job with MPI_Abort
 * after a failed point or a signal; the launcher says how a dead rank
 * ended). One rank, or a build without MPI, is the sweep described
 * above.
 *
 * Progress goes to stderr, one line per point, with a time-left estimate
 * that weights the points left by their network's parameter count (times
 * the epochs), calibrated by the seconds measured so far. At the end the
 * table of --summary for this configuration goes to stdout.
 *
 * --summary FILE trains nothing: for every config in FILE (several
 * shards' outputs concatenated, say), per width, the best lr (by
 * --best-by [test_acc], largest for a key containing "acc", smallest for
 * a loss, among rows that did not diverge; ties go to the smaller lr),
 * its value, how many lrs diverged, and how far the best lr moved from
 * the smallest to the largest width, in log2 and in grid steps.
 *
 * Exit status: 0 success (diverged points included), 1 runtime failure,
 * 2 usage error.
 */
#define _GNU_SOURCE /* sched_getaffinity; also clock_gettime, open_memstream */

#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jsonl.h"
#include "pcmup.h"
#include "sweep_jobs.h"
#ifdef PCMUP_WITH_MPI
#include "sweep_mpi.h"
#endif
#include "sweep_summary.h"
#include "tool_mpi.h"
#include "tool_mpi_data.h"
#include "train_loop.h"
#include "train_options.h"
#include "train_setup.h"

#define PROG "pcmup-sweep"
#define MAX_WIDTHS 64
#define MAX_LRS 1000
#define MAX_WIDTH 2147483647ull /* the library's width limit (32-bit BLAS) */
#define MAX_JOBS 1024

/* The sweep's own flags; every other argument describes the run. */
typedef struct {
    size_t widths[MAX_WIDTHS];
    size_t n_widths;
    double log2_from, log2_to, log2_step;
    int log2_given;
    const char *out;
    const char *summary;
    const char *label;
    unsigned long shard, shards; /* shard I of N, 1 <= I <= N */
    double diverge_loss;
    const char *best_by;
    unsigned long jobs; /* 0: decided from the widths (run_points) */
} sweep_options;

/* One (width, lr) of the grid. */
typedef struct {
    size_t index; /* in the whole grid, width-major, from 0 */
    size_t width;
    double log2_lr;
    double lr;
    double cost;  /* parameter count times epochs */
} grid_point;

/* One line on stderr: "pcmup-sweep: MESSAGE[SUFFIX]". */
static void report(const char *suffix, const char *fmt, va_list ap)
{
    fputs(PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "%s\n", suffix);
}

/* Reports a usage error; returns exit status 2. */
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(" (see --help)", fmt, ap);
    va_end(ap);
    return 2;
}

/* Reports a runtime failure; returns exit status 1. */
static int runtime_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report("", fmt, ap);
    va_end(ap);
    return 1;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- the command line ---------------------------------------------------- */

static void print_help(void)
{
    fputs(
"Usage: " PROG " [CONFIGURATION FLAGS] [--widths LIST] [--log2-lr FROM:TO[:STEP]]\n"
"                   --out FILE [--shard I/N] [--jobs N] [--label TEXT]\n"
"                   [--diverge-loss X] [--best-by KEY]\n"
"       " PROG " --summary FILE [--best-by KEY]\n"
"Train one configuration at every hidden width and learning rate of a grid,\n"
"appending one JSON line per point to FILE, and print per width the best\n"
"learning rate. The data are loaded once; each point is built fresh, trained\n"
"for --epochs and evaluated on the test set, exactly as pcmup-train does.\n"
"\n"
"Sweep:\n"
"  --widths LIST        hidden widths, comma-separated, each 1..2147483647\n"
"                       [64,128,256,512,1024]\n"
"  --log2-lr FROM:TO[:STEP]\n"
"                       learning rates 2^k for k = FROM, FROM + STEP, ... up\n"
"                       to TO (inclusive within rounding); FROM <= TO, STEP\n"
"                       > 0 [1]; at most 1000 values [-8:0:1]. --lr ETA\n"
"                       instead sweeps the one rate ETA (> 0)\n"
"  --out FILE           JSON lines are appended here, one per point, flushed\n"
"                       at once (required)\n"
"  --shard I/N          run only shard I of N (1 <= I <= N): the points are\n"
"                       numbered width-major, then lr ascending, from 0, and\n"
"                       point i belongs to shard (i mod N) + 1 [1/1]\n"
"  --jobs N             run N points at a time, 1..1024, each in a worker\n"
"                       process with --threads BLAS threads [processors / N];\n"
"                       the widest points first; rows are still written in\n"
"                       the grid's order, by this process. Default, with P\n"
"                       processors: widths >= 2048 run P/2 at a time with 2\n"
"                       threads, narrower ones P at a time with 1 thread\n"
"                       (two 1-thread runs side by side beat one 2-thread\n"
"                       run below width 2048 on 2 cores); --threads T alone\n"
"                       gives P/T at a time; --jobs 1 runs in this process.\n"
"                       A row depends on its thread count (\"threads\" in\n"
"                       the row), not on --jobs: --jobs N gives a serial\n"
"                       sweep's rows with the same --threads\n"
"  --label TEXT         a human name of the configuration for the rows\n"
"                       [ALGO PARAM and the configuration flags given, without\n"
"                       --algo, --param and --threads]\n"
"  --diverge-loss X     a point whose final train or test loss is above X\n"
"                       (or not finite) diverged, X > 0 [1e4]\n"
"  --summary FILE       train nothing: print the table below for every\n"
"                       configuration in FILE\n"
"  --best-by KEY        what makes a learning rate best in the table:\n"
"                       test_acc (largest) [test_acc], train_loss or\n"
"                       test_loss (smallest); any numeric key, largest when\n"
"                       its name contains \"acc\"\n"
"\n"
"A row has every key of pcmup-train --json for that run, plus log2_lr (k),\n"
"diverged (true when an epoch failed with a non-finite loss, or the final\n"
"train or test loss is above --diverge-loss or not finite; train_loss,\n"
"test_loss, test_acc and final_energy are then null), config (\"algo=bp\n"
"param=mup depth=3 ...\": every setting that changes the result except width\n"
"and lr) and label. Points whose (config, width, lr) already have a row in\n"
"FILE are skipped, so rerunning an interrupted sweep finishes it.\n"
"\n"
"The table, per width: the best lr (by --best-by among the rows of this\n"
"config in FILE that did not diverge, ties to the smaller lr), its value\n"
"and how many lrs diverged; then how far the best lr moved between the\n"
"smallest and the largest width, in log2 and in grid steps.\n"
"\n", stdout);
    fputs(
"Configuration flags, as for pcmup-train, except --width (use --widths),\n"
"--json (rows always go to FILE), and --lr together with --log2-lr:\n"
"\n", stdout);
    train_options_print_config_help();
    fputs(
"  --help, -h           print this help and exit\n"
"  --version            print the program and library versions and exit\n"
"\n"
"Under MPI (mpirun -n R, srun; R > 1 ranks, in a build with MPI): rank 0\n"
"loads the data and sends them to every rank, skips the points done, then\n"
"hands each point to the next free rank (itself included), the widest first;\n"
"each point runs on one rank with --threads [1] BLAS threads, and rank 0\n"
"alone writes FILE, in the grid's order, and the progress. The rows are a\n"
"serial sweep's with the same --threads. --jobs above 1 is refused there.\n"
"\n"
"Progress goes to stderr, one line per point as it finishes, with an\n"
"estimate of the time left (points weighted by their network's parameter\n"
"count). A sweep that stops early (a failed point, a worker that died,\n"
"SIGINT or SIGTERM) says why, writes the rows finished so far and exits 1;\n"
"rerunning it runs the rest.\n"
"\n"
"Exit status: 0 on success (diverged points included), 1 on a runtime\n"
"failure (missing data, unreadable FILE, library error), 2 on a usage error.\n"
"\n"
"Example:\n"
"  " PROG " --algo pc --gamma-bar -1 --widths 64,256,1024 --log2-lr -8:0 \\\n"
"      --train-limit 10000 --epochs 3 --out pc.jsonl\n", stdout);
}

/* Base-10 digits only, like train_options.c: no sign, no blanks. */
static int parse_count(const char *text, unsigned long long hi, unsigned long long *out)
{
    char *end;
    if (text[0] < '0' || text[0] > '9')
        return -1;
    errno = 0;
    *out = strtoull(text, &end, 10);
    return (errno == ERANGE || *end != '\0' || *out < 1 || *out > hi) ? -1 : 0;
}

static int parse_finite(const char *text, double *out)
{
    char *end;
    errno = 0;
    *out = strtod(text, &end);
    return (end == text || *end != '\0' || text[0] == ' ' || errno == ERANGE
            || !isfinite(*out)) ? -1 : 0;
}

static int parse_widths(sweep_options *s, const char *text)
{
    char buf[1024];
    unsigned long long w;

    if (strlen(text) >= sizeof buf)
        return usage_error("--widths: list too long");
    strcpy(buf, text);
    s->n_widths = 0;
    /* strtok would skip empty items; "64,,128" is a typo to report. */
    for (char *item = buf, *comma;; item = comma + 1) {
        comma = strchr(item, ',');
        if (comma != NULL)
            *comma = '\0';
        if (parse_count(item, MAX_WIDTH, &w) != 0)
            return usage_error("--widths: expected widths in [1, %llu] separated by "
                               "commas, got '%s'", MAX_WIDTH, text);
        if (s->n_widths == MAX_WIDTHS)
            return usage_error("--widths: more than %d widths", MAX_WIDTHS);
        s->widths[s->n_widths++] = (size_t)w;
        if (comma == NULL)
            return 0;
    }
}

/* The number of lrs FROM:TO:STEP gives; the 1e-9 lets TO in despite the
 * rounding of (TO - FROM) / STEP. */
static size_t lr_count(const sweep_options *s)
{
    return (size_t)floor((s->log2_to - s->log2_from) / s->log2_step + 1e-9) + 1;
}

static int parse_log2_lr(sweep_options *s, const char *text)
{
    char buf[256], *second, *third;

    if (strlen(text) >= sizeof buf)
        return usage_error("--log2-lr: expected FROM:TO[:STEP], got '%s'", text);
    strcpy(buf, text);
    second = strchr(buf, ':');
    third = second != NULL ? strchr(second + 1, ':') : NULL;
    if (second != NULL)
        *second++ = '\0';
    if (third != NULL)
        *third++ = '\0';
    s->log2_step = 1.0;
    if (second == NULL || parse_finite(buf, &s->log2_from) != 0
        || parse_finite(second, &s->log2_to) != 0
        || (third != NULL && parse_finite(third, &s->log2_step) != 0))
        return usage_error("--log2-lr: expected FROM:TO[:STEP], got '%s'", text);
    if (s->log2_step <= 0.0)
        return usage_error("--log2-lr: STEP must be > 0, got '%s'", text);
    if (s->log2_from > s->log2_to)
        return usage_error("--log2-lr: FROM must be <= TO, got '%s'", text);
    if ((s->log2_to - s->log2_from) / s->log2_step >= MAX_LRS)
        return usage_error("--log2-lr: more than %d learning rates in '%s'", MAX_LRS,
                           text);
    if (fabs(s->log2_from) > 1000.0 || fabs(s->log2_to) > 1000.0)
        return usage_error("--log2-lr: 2^k must be a finite double, got '%s'", text);
    s->log2_given = 1;
    return 0;
}

static int parse_shard(sweep_options *s, const char *text)
{
    unsigned long long i, n;
    const char *slash = strchr(text, '/');
    char first[32];

    if (slash == NULL || (size_t)(slash - text) >= sizeof first)
        return usage_error("--shard: expected I/N, got '%s'", text);
    memcpy(first, text, (size_t)(slash - text));
    first[slash - text] = '\0';
    if (parse_count(first, 1000000, &i) != 0 || parse_count(slash + 1, 1000000, &n) != 0
        || i > n)
        return usage_error("--shard: expected I/N with 1 <= I <= N, got '%s'", text);
    s->shard = (unsigned long)i;
    s->shards = (unsigned long)n;
    return 0;
}

/* Stores the value of the sweep flag `name`; 2 after a usage error. */
static int apply_sweep_flag(sweep_options *s, const char *name, const char *value)
{
    if (strcmp(name, "--widths") == 0)
        return parse_widths(s, value);
    if (strcmp(name, "--log2-lr") == 0)
        return parse_log2_lr(s, value);
    if (strcmp(name, "--shard") == 0)
        return parse_shard(s, value);
    if (strcmp(name, "--jobs") == 0) {
        unsigned long long n;
        if (parse_count(value, MAX_JOBS, &n) != 0)
            return usage_error("--jobs: expected a count in [1, %d], got '%s'", MAX_JOBS,
                               value);
        s->jobs = (unsigned long)n;
        return 0;
    }
    if (strcmp(name, "--diverge-loss") == 0) {
        if (parse_finite(value, &s->diverge_loss) != 0 || s->diverge_loss <= 0.0)
            return usage_error("--diverge-loss: expected a number > 0, got '%s'", value);
        return 0;
    }
    if (strcmp(name, "--out") == 0)
        s->out = value;
    else if (strcmp(name, "--summary") == 0)
        s->summary = value;
    else if (strcmp(name, "--best-by") == 0 && *value == '\0')
        return usage_error("--best-by needs a key, such as train_loss");
    else if (strcmp(name, "--best-by") == 0)
        s->best_by = value;
    else
        s->label = value;
    return 0;
}

/* The sweep's flags, all of which take a value. */
static int is_sweep_flag(const char *name, size_t len)
{
    static const char *const flags[] = {"--widths", "--log2-lr", "--out", "--shard",
                                        "--label", "--diverge-loss", "--summary",
                                        "--best-by", "--jobs"};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (strlen(flags[i]) == len && strncmp(name, flags[i], len) == 0)
            return 1;
    return 0;
}

static void sweep_options_default(sweep_options *s)
{
    static const size_t widths[] = {64, 128, 256, 512, 1024};
    memset(s, 0, sizeof *s);
    memcpy(s->widths, widths, sizeof widths);
    s->n_widths = sizeof widths / sizeof widths[0];
    s->log2_from = -8.0;
    s->log2_to = 0.0;
    s->log2_step = 1.0;
    s->shard = 1;
    s->shards = 1;
    s->diverge_loss = 1e4;
    s->best_by = "test_acc";
}

/* Takes the sweep's flags out of argv; the rest (argv[0] first) goes to
 * *rest, for train_options_parse. Returns 0, -1 after --help, or 2. */
static int split_args(sweep_options *s, int argc, char **argv, char **rest, int *n_rest)
{
    *n_rest = 0;
    rest[(*n_rest)++] = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        size_t len = eq != NULL ? (size_t)(eq - argv[i]) : strlen(argv[i]);
        char name[32];
        int rc;

        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            print_help();
            return -1;
        }
        if (!is_sweep_flag(argv[i], len)) {
            rest[(*n_rest)++] = argv[i];
            continue;
        }
        memcpy(name, argv[i], len); /* is_sweep_flag: len < sizeof name */
        name[len] = '\0';
        if (eq == NULL && i + 1 >= argc)
            return usage_error("%s needs a value", name);
        if ((rc = apply_sweep_flag(s, name, eq != NULL ? eq + 1 : argv[++i])) != 0)
            return rc;
    }
    rest[*n_rest] = NULL;
    return 0;
}

/* The sweep's limits on the configuration flags, checked once the train
 * parser has accepted them. */
static int check_config(const sweep_options *s, const train_options *o)
{
    if (o->width_given)
        return usage_error("--width: give the hidden widths with --widths");
    if (o->json)
        return usage_error("--json: the rows always go to --out as JSON lines");
    const int lr_given = train_value_given(o, PCMUP_SET_LR);
    if (lr_given && s->log2_given)
        return usage_error("--lr and --log2-lr: give one or the other");
    if (lr_given && train_value(o, PCMUP_SET_LR) <= 0.0)
        return usage_error("--lr: a swept learning rate must be > 0");
    if (s->out == NULL)
        return usage_error("--out FILE is required");
    return 0;
}

/* 1 if rest[i] is FLAG or FLAG=VALUE; *skip is how many words it takes. */
static int names_flag(char **rest, int i, const char *flag, int *skip)
{
    size_t len = strlen(flag);
    if (strncmp(rest[i], flag, len) != 0)
        return 0;
    if (rest[i][len] == '\0') {
        *skip = rest[i + 1] != NULL ? 2 : 1;
        return 1;
    }
    *skip = 1;
    return rest[i][len] == '=';
}

/* "ALGO PARAM" and the configuration flags as given, without --algo,
 * --param (already said) and --threads (no effect on the result). */
static char *default_label(const train_options *o, char **rest, int n_rest)
{
    size_t size = 64;
    char *label;

    for (int i = 1; i < n_rest; i++)
        size += strlen(rest[i]) + 1;
    if ((label = malloc(size)) == NULL)
        return NULL;
    snprintf(label, size, "%s %s", train_algo_name(o->algo), train_param_name(o->preset));
    for (int i = 1; i < n_rest;) {
        int skip = 1;
        if (names_flag(rest, i, "--algo", &skip) || names_flag(rest, i, "--param", &skip)
            || names_flag(rest, i, "--threads", &skip)) {
            i += skip;
            continue;
        }
        strcat(label, " ");
        strcat(label, rest[i++]);
    }
    return label;
}

/* ---- the grid ------------------------------------------------------------ */

/* The cost of a point: its network's parameter count times the epochs,
 * as a step's work grows with the parameters. Built once per width. */
static int width_cost(const train_options *o, const train_data *d, size_t width,
                      double *cost)
{
    pcmup_param *param = NULL;
    pcmup_net *net = NULL;
    size_t count = 0;
    train_error e = {0};
    pcmup_status st = PCMUP_OK;
    int rc = train_build_param(&param, o, &e);

    if (rc == 0)
        rc = train_build_net(&net, o, param, d->dim, d->n_classes, width, &e);
    if (rc == 0 && (st = pcmup_net_param_count(net, &count)) != PCMUP_OK) {
        e.status = st;
        snprintf(e.what, sizeof e.what, "counting the parameters");
        rc = -1;
    }
    pcmup_net_free(net);
    pcmup_param_free(param);
    if (rc != 0) {
        train_error_report(PROG, &e);
        return 1;
    }
    *cost = (double)count * (double)o->epochs;
    return 0;
}

/* Every point of the grid in this shard, width-major then lr ascending.
 * *points is malloc'ed. */
static int build_grid(const sweep_options *s, const train_options *o, const train_data *d,
                      grid_point **points, size_t *n_points)
{
    const int lr_given = train_value_given(o, PCMUP_SET_LR);
    const double lr = train_value(o, PCMUP_SET_LR);
    size_t n_lrs = lr_given ? 1 : lr_count(s), index = 0;
    grid_point *p = malloc(s->n_widths * n_lrs * sizeof *p);

    *points = p;
    *n_points = 0;
    if (p == NULL)
        return runtime_error("out of memory");
    for (size_t w = 0; w < s->n_widths; w++) {
        double cost;
        if (width_cost(o, d, s->widths[w], &cost) != 0)
            return 1;
        for (size_t k = 0; k < n_lrs; k++, index++) {
            grid_point *q = &p[*n_points];
            if (index % s->shards != s->shard - 1)
                continue;
            q->index = index;
            q->width = s->widths[w];
            q->log2_lr = lr_given ? log2(lr) : s->log2_from + (double)k * s->log2_step;
            q->lr = lr_given ? lr : exp2(q->log2_lr);
            q->cost = cost;
            (*n_points)++;
        }
    }
    return 0;
}

/* ---- resuming ------------------------------------------------------------ */

static int same_lr(double a, double b)
{
    return fabs(a - b) <= 1e-9 * fmax(fabs(a), fabs(b));
}

/* Whether a row of `config` at this width and lr exists. */
static int already_done(const jsonl_row *rows, size_t n_rows, const char *config,
                        const grid_point *p)
{
    for (size_t i = 0; i < n_rows; i++) {
        const char *c = jsonl_string(&rows[i], "config", NULL);
        if (c != NULL && strcmp(c, config) == 0
            && jsonl_number(&rows[i], "width", -1.0) == (double)p->width
            && same_lr(jsonl_number(&rows[i], "lr", NAN), p->lr))
            return 1;
    }
    return 0;
}

/* Drops the points --out already has; says how many on stderr. */
static int drop_done(const sweep_options *s, const char *config, grid_point *points,
                     size_t *n_points)
{
    jsonl_row *rows;
    size_t n_rows, kept = 0;
    char err[512];

    if (jsonl_read_file(s->out, &rows, &n_rows, err, sizeof err) != 0)
        return runtime_error("reading --out: %s", err);
    for (size_t i = 0; i < *n_points; i++)
        if (!already_done(rows, n_rows, config, &points[i]))
            points[kept++] = points[i];
    jsonl_rows_free(rows, n_rows);
    if (kept < *n_points)
        fprintf(stderr, PROG ": skipped %zu of %zu point%s already in %s\n",
                *n_points - kept, *n_points, *n_points == 1 ? "" : "s", s->out);
    *n_points = kept;
    return 0;
}

/* ---- running the points -------------------------------------------------- */

/* What every point shares, and the sweep's progress. */
typedef struct {
    const tool_mpi *mpi;
    int must_abort;   /* MPI: some rank may be busy; end the job with MPI_Abort */
    const sweep_options *s;
    const train_options *base; /* --threads is the per-run count */
    const train_data *data;
    const char *config;
    const char *label;
    FILE *out;
    const grid_point *points;
    size_t n_points;
    char **rows;      /* --jobs: finished rows not yet written, by point */
    size_t *task_point; /* --jobs: the point of each task of a batch     */
    size_t next_row;  /* the first point whose row is not written yet    */
    size_t n_done;
    double cost_total, cost_done, t0;
} sweep_run;

/* What the progress line says about a finished point. */
typedef struct {
    int diverged;
    double test_acc;
    double seconds;
} point_outcome;

/* A loss the library calls finite can still be a blown-up run (6e37). */
static int blew_up(const train_results *r, double limit)
{
    return !isfinite(r->train_loss) || r->train_loss > limit || !isfinite(r->test_loss)
           || r->test_loss > limit;
}

/* The point's JSON line, malloc'ed; NULL when out of memory. */
static char *format_row(const sweep_run *c, const train_options *o, const grid_point *p,
                        const train_model *m, const train_results *r)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    jsonl_writer w;

    if (f == NULL)
        return NULL;
    jsonl_begin(&w, f);
    train_put_settings(&w, o, p->width, m->gamma_L);
    train_put_results(&w, o, r);
    jsonl_put_number(&w, "log2_lr", p->log2_lr);
    jsonl_put_bool(&w, "diverged", r->diverged);
    jsonl_put_string(&w, "config", c->config);
    jsonl_put_string(&w, "label", c->label);
    jsonl_end(&w);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* Appends a row to --out, flushed at once. */
static int write_row(const sweep_run *c, const char *row)
{
    if (fputs(row, c->out) == EOF || fflush(c->out) != 0 || ferror(c->out))
        return runtime_error("writing %s: %s", c->s->out, strerror(errno));
    return 0;
}

/* Builds, trains and evaluates one point; *row is its JSON line
 * (malloc'ed). Divergence is a result; any other failure is reported
 * here and returns 1. */
static int train_point(const sweep_run *c, const grid_point *p, point_outcome *out,
                       char **row)
{
    train_options o = *c->base;
    train_model m = {0};
    train_error e = {0};
    train_results r;
    double t0 = now_seconds();
    int rc;

    train_set_value(&o, PCMUP_SET_LR, p->lr);
    memset(&r, 0, sizeof r);
    rc = train_model_build(&m, &o, c->data->dim, c->data->n_classes, p->width, &e);
    if (rc == 0 && train_loop_run(&m, c->data, &o, 0, &r, &e) != 0) {
        r.diverged = e.status == PCMUP_ERR_DIVERGED;
        rc = r.diverged ? 0 : -1;
    }
    if (rc != 0) {
        train_error_report(PROG, &e);
        train_model_free(&m);
        return 1;
    }
    r.diverged = r.diverged || blew_up(&r, c->s->diverge_loss);
    *row = format_row(c, &o, p, &m, &r);
    train_model_free(&m);
    if (*row == NULL)
        return runtime_error("out of memory");
    *out = (point_outcome){r.diverged, r.test_acc, now_seconds() - t0};
    return 0;
}

/* "[3/18] width 256 lr 2^-3 (0.125): test acc 0.8123, 2.1 s; about 40 s
 * left": the wall time per unit of cost so far, times the cost left. */
static void print_progress(sweep_run *c, const grid_point *p, const point_outcome *r)
{
    const double elapsed = now_seconds() - c->t0;
    c->n_done++;
    c->cost_done += p->cost;
    fprintf(stderr, "[%zu/%zu] width %zu lr 2^%g (%g): ", c->n_done, c->n_points, p->width,
            p->log2_lr, p->lr);
    if (r->diverged)
        fprintf(stderr, "diverged");
    else
        fprintf(stderr, "test acc %.4f", r->test_acc);
    fprintf(stderr, ", %.1f s; about %.0f s left\n", r->seconds,
            c->cost_done > 0.0 ? elapsed / c->cost_done * (c->cost_total - c->cost_done)
                               : 0.0);
}

/* One point after the other, in this process. */
static int run_serial(sweep_run *c)
{
    for (size_t i = 0; i < c->n_points; i++) {
        point_outcome r;
        char *row = NULL;
        int rc = train_point(c, &c->points[i], &r, &row);
        if (rc == 0)
            rc = write_row(c, row);
        free(row);
        if (rc != 0)
            return 1;
        print_progress(c, &c->points[i], &r);
    }
    return 0;
}

/* ---- --jobs: several points at once (sweep_jobs.h) ----------------------- */

/* In a worker: its BLAS threads, before its first point. */
static int job_init(void *ctx, unsigned worker)
{
    const sweep_run *c = ctx;
    (void)worker;
    if (c->base->threads > 0 && pcmup_set_blas_threads(c->base->threads) != PCMUP_OK)
        return runtime_error("--threads: %s", pcmup_last_error());
    return 0;
}

/* In a worker: the outcome, then the row, as one message. */
static int job_run(void *ctx, size_t task, char **msg, size_t *len)
{
    const sweep_run *c = ctx;
    point_outcome r;
    char *row = NULL;

    if (train_point(c, &c->points[c->task_point[task]], &r, &row) != 0)
        return 1;
    *len = sizeof r + strlen(row);
    if ((*msg = malloc(*len)) == NULL) {
        free(row);
        return runtime_error("out of memory");
    }
    memcpy(*msg, &r, sizeof r);
    memcpy(*msg + sizeof r, row, *len - sizeof r);
    free(row);
    return 0;
}

static void job_describe(void *ctx, size_t task, char *buf, size_t size)
{
    const sweep_run *c = ctx;
    const grid_point *p = &c->points[c->task_point[task]];
    snprintf(buf, size, "width %zu lr 2^%g", p->width, p->log2_lr);
}

/* Writes the finished rows from next_row on: up to the first missing one,
 * or (all = 1, when the sweep stops early) every one. */
static int write_finished(sweep_run *c, int all)
{
    int rc = 0;
    for (size_t i = c->next_row; i < c->n_points; i++) {
        if (c->rows[i] == NULL && !all)
            break;
        if (c->rows[i] != NULL && rc == 0)
            rc = write_row(c, c->rows[i]);
        free(c->rows[i]);
        c->rows[i] = NULL;
        c->next_row = i + 1;
    }
    return rc;
}

/* In the sweep's process: a finished point. Rows keep the grid's order in
 * --out, so a row waits for the points before it. */
static int job_done(void *ctx, size_t task, int status, const char *msg, size_t len)
{
    sweep_run *c = ctx;
    point_outcome r;
    char name[128];

    if (status != 0 || len < sizeof r) {
        job_describe(ctx, task, name, sizeof name);
        return runtime_error("%s failed; stopping", name);
    }
    memcpy(&r, msg, sizeof r);
    if ((c->rows[c->task_point[task]] = strdup(msg + sizeof r)) == NULL)
        return runtime_error("out of memory");
    print_progress(c, &c->points[c->task_point[task]], &r);
    return write_finished(c, 0);
}

/* The points of a batch (--jobs): those with width in [lo, hi). */
typedef struct {
    size_t lo, hi;
    unsigned long jobs;
    int threads;
} batch;

/* "2 jobs at a time, 1 BLAS thread each, widths below 2048" on stderr. */
static void announce_batch(const sweep_run *c, const batch *b, unsigned long jobs)
{
    if (c->mpi->rank > 0)
        return; /* rank 0 says it */
    if (c->mpi->size > 1)
        fprintf(stderr, PROG ": %d MPI ranks, one point at a time each, %d BLAS thread%s "
                "each", c->mpi->size, b->threads, b->threads == 1 ? "" : "s");
    else
        fprintf(stderr, PROG ": %lu job%s at a time, %d BLAS thread%s each", jobs,
                jobs == 1 ? "" : "s", b->threads, b->threads == 1 ? "" : "s");
    if (b->lo > 0 || b->hi < SIZE_MAX)
        fprintf(stderr, b->lo > 0 ? ", widths from %zu\n" : ", widths below %zu\n",
                b->lo > 0 ? b->lo : b->hi);
    else
        fputc('\n', stderr);
}

/* Runs one batch on its workers; the rows it finishes go to c->rows.
 * Returns a sweep_jobs_result, said on stderr when it is a failure. */
static sweep_jobs_result run_batch(sweep_run *c, const batch *b)
{
    const sweep_jobs_calls calls = {c, job_init, job_run, job_done, job_describe};
    train_options o = *c->base;
    const train_options *given = c->base;
    double *cost = malloc((c->n_points > 0 ? c->n_points : 1) * sizeof *cost);
    size_t n = 0;
    unsigned long jobs;
    char err[512];
    sweep_jobs_result r;

    if (cost == NULL)
        return runtime_error("out of memory"), SWEEP_JOBS_SYSTEM;
    for (size_t i = 0; i < c->n_points; i++)
        if (c->points[i].width >= b->lo && c->points[i].width < b->hi) {
            c->task_point[n] = i;
            cost[n++] = c->points[i].cost;
        }
    if (n == 0) {
        free(cost);
        return SWEEP_JOBS_OK;
    }
    jobs = b->jobs < n ? b->jobs : (unsigned long)n;
    o.threads = b->threads;
    c->base = &o;
    announce_batch(c, b, jobs);
#ifdef PCMUP_WITH_MPI
    if (c->mpi->size > 1)
        r = sweep_mpi_run(&calls, cost, n, c->mpi, err, sizeof err);
    else
#endif
        r = sweep_jobs_run(&calls, cost, n, (unsigned)jobs, err, sizeof err);
    c->base = given;
    free(cost);
    if (r != SWEEP_JOBS_OK && r != SWEEP_JOBS_STOPPED)
        runtime_error("%s", err);
    return r;
}

/* Runs the batches one after the other on worker processes, then writes
 * what is left of the rows; after a failure, the rows finished so far. */
static int run_jobs(sweep_run *c, const batch *batches, size_t n_batches)
{
    const size_t size = c->n_points > 0 ? c->n_points : 1;
    sweep_jobs_result r = SWEEP_JOBS_OK;
    int rc;

    c->rows = calloc(size, sizeof *c->rows);
    c->task_point = malloc(size * sizeof *c->task_point);
    if (c->rows == NULL || c->task_point == NULL)
        r = SWEEP_JOBS_SYSTEM, runtime_error("out of memory");
    for (size_t i = 0; i < n_batches && r == SWEEP_JOBS_OK; i++)
        r = run_batch(c, &batches[i]);
    rc = c->rows != NULL ? write_finished(c, 1) : 1;
    c->must_abort = c->mpi->size > 1 && (r != SWEEP_JOBS_OK || rc != 0);
    if (r != SWEEP_JOBS_OK && rc == 0 && c->mpi->rank == 0)
        fprintf(stderr, PROG ": %zu of %zu points finished and written to %s; rerun to "
                "run the rest\n", c->n_done, c->n_points, c->s->out);
    free(c->rows);
    free(c->task_point);
    c->rows = NULL;
    c->task_point = NULL;
    return r == SWEEP_JOBS_OK ? rc : 1;
}

/* ---- main ---------------------------------------------------------------- */

/* The table of this configuration's rows in --out, old and new. */
static int print_config_summary(const char *path, const char *config, const char *best_by)
{
    jsonl_row *rows;
    size_t n_rows;
    char err[512];
    if (jsonl_read_file(path, &rows, &n_rows, err, sizeof err) != 0)
        return runtime_error("reading %s: %s", path, err);
    sweep_summary_print(stdout, rows, n_rows, config, best_by);
    jsonl_rows_free(rows, n_rows);
    return 0;
}

/* The processors this process may run on. */
static unsigned long cpu_count(void)
{
    cpu_set_t set;
    long n;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return (unsigned long)CPU_COUNT(&set);
    n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned long)n : 1;
}

/* From this width on, --jobs's default gives a point two BLAS threads:
 * below it, two single-threaded runs side by side beat one run with two
 * threads; from it on, they lose (docs/reproduction.md, "Performance"). */
#define JOBS_WIDE_WIDTH 2048

/* Runs the points: in this process (--jobs 1, or one processor), or on
 * worker processes. Neither the jobs nor the threads depend on how many
 * points are left, so that a resumed sweep runs its points as the first
 * run would have. */
static int run_points(sweep_run *c)
{
    const unsigned long cpus = cpu_count();
    const int threads = c->base->threads;
    unsigned long jobs = c->s->jobs;
    batch b[2];

    if (c->mpi->size > 1) {
        /* The ranks are the jobs (run refused --jobs > 1). */
        b[0] = (batch){0, SIZE_MAX, (unsigned long)c->mpi->size, threads > 0 ? threads : 1};
        return run_jobs(c, b, 1);
    }
    if (jobs == 0 && threads > 0)
        jobs = cpus / (unsigned long)threads > 0 ? cpus / (unsigned long)threads : 1;
    if (jobs == 1 || (jobs == 0 && cpus == 1))
        return run_serial(c);
    if (jobs > 1) {
        b[0] = (batch){0, SIZE_MAX, jobs,
                       threads > 0 ? threads : (int)(cpus / jobs > 0 ? cpus / jobs : 1)};
        return run_jobs(c, b, 1);
    }
    /* The default: the wide points first, with the processors in pairs. */
    b[0] = (batch){JOBS_WIDE_WIDTH, SIZE_MAX, cpus / 2, 2};
    b[1] = (batch){0, JOBS_WIDE_WIDTH, cpus, 1};
    return run_jobs(c, b, 2);
}

/* Keeps the points of *points whose grid index is in left[0 .. n_left). */
static void keep_listed(grid_point *points, size_t *n_points, const uint64_t *left,
                        size_t n_left)
{
    size_t kept = 0, k = 0;
    for (size_t i = 0; i < *n_points && k < n_left; i++)
        if (points[i].index == left[k]) {
            points[kept++] = points[i];
            k++;
        }
    *n_points = kept;
}

/* Drops the points --out already has: rank 0 reads it and tells the other
 * ranks which points are left, so that every rank holds the same list
 * (a task is an index into it). Returns 0, 1 or 2, the same on every rank. */
static int drop_done_everywhere(const tool_mpi *m, const sweep_options *s,
                                const char *config, grid_point *points, size_t *n_points)
{
    const size_t n_all = *n_points;
    uint64_t *left = malloc((n_all + 1) * sizeof *left);
    int rc = left == NULL ? runtime_error("out of memory") : 0;

    if (rc == 0 && m->rank == 0)
        rc = drop_done(s, config, points, n_points);
    rc = tool_mpi_agree(m, rc);
    if (rc == 0 && m->size > 1) {
        left[0] = *n_points;
        for (size_t i = 0; m->rank == 0 && i < *n_points; i++)
            left[i + 1] = points[i].index;
        if (tool_mpi_bcast(m, left, (n_all + 1) * sizeof *left) != 0)
            rc = runtime_error("sending the points left to every rank");
        else if (m->rank > 0)
            keep_listed(points, n_points, left + 1, (size_t)left[0]);
    }
    free(left);
    return rc;
}

/* Sweeps; *must_abort tells main to end an MPI job with MPI_Abort. */
static int sweep(const sweep_options *s, const train_options *o, const char *label,
                 tool_mpi *m, int *must_abort)
{
    sweep_run c = {.mpi = m, .s = s, .base = o, .label = label};
    const int root = m->rank == 0;
    train_data d = {0};
    grid_point *points = NULL;
    size_t n_points = 0;
    char *config = NULL;
    int rc = 0;

    /* Only rank 0 reads files (the broadcast is measured in
     * docs/reproduction.md). */
    if (tool_mpi_load_data(m, o, &d, PROG) != 0)
        return 1;
    c.data = &d;
    c.config = config = train_config_string(o, d.train_samples, d.test_samples);
    if (config == NULL)
        rc = runtime_error("out of memory");
    if (rc == 0)
        rc = build_grid(s, o, &d, &points, &n_points);
    if ((rc = tool_mpi_agree(m, rc)) == 0)
        rc = drop_done_everywhere(m, s, config, points, &n_points);
    if (rc == 0 && root && (c.out = fopen(s->out, "a")) == NULL)
        rc = runtime_error("opening %s: %s", s->out, strerror(errno));
    if ((rc = tool_mpi_agree(m, rc)) == 0) {
        c.points = points;
        c.n_points = n_points;
        for (size_t i = 0; i < n_points; i++)
            c.cost_total += points[i].cost;
        c.t0 = now_seconds();
        tool_mpi_hush(m, 0); /* a worker rank's failure is its own to say */
        rc = run_points(&c);
        *must_abort = c.must_abort;
    }
    if (c.out != NULL && fclose(c.out) != 0 && rc == 0)
        rc = runtime_error("writing %s: %s", s->out, strerror(errno));
    if (rc == 0 && root)
        rc = print_config_summary(s->out, config, s->best_by);
    free(points);
    free(config);
    train_data_free(&d);
    return rc;
}

/* The configuration flags, checked; 0, -1 after --version, or 2. */
static int parse_config(const sweep_options *s, train_options *o, char **rest, int n_rest)
{
    switch (train_options_parse(o, n_rest, rest)) {
    case TRAIN_PARSE_RUN: return check_config(s, o);
    case TRAIN_PARSE_EXIT: return -1;
    default: return 2;
    }
}

/* Parses, then sweeps; an exit status, or -1 for "exit 0 now". Every rank
 * of an MPI job parses the same arguments; rank 0 says what is wrong. */
static int run(int argc, char **argv, char **rest, tool_mpi *m, int *must_abort)
{
    sweep_options s;
    train_options o;
    char *label = NULL;
    int n_rest = 0, rc;

    tool_mpi_hush(m, 1);
    sweep_options_default(&s);
    rc = split_args(&s, argc, argv, rest, &n_rest);
    if (rc != 0)
        return rc;
    if (s.summary != NULL && (n_rest != 1 || s.out != NULL))
        return usage_error("--summary FILE takes no other flags");
    if (s.summary != NULL)
        return m->rank == 0 ? print_config_summary(s.summary, NULL, s.best_by) : 0;
    if ((rc = parse_config(&s, &o, rest, n_rest)) != 0)
        return rc;
    if (m->size > 1 && s.jobs > 1)
        return usage_error("--jobs %lu: under MPI the ranks are the jobs, one point at a "
                           "time each; give their count to the launcher (mpirun -n) and "
                           "each point's BLAS threads with --threads", s.jobs);
    if (o.threads > 0 && pcmup_set_blas_threads(o.threads) != PCMUP_OK)
        return runtime_error("--threads: %s", pcmup_last_error());
    if (s.label == NULL && (s.label = label = default_label(&o, rest, n_rest)) == NULL)
        return runtime_error("out of memory");
    rc = sweep(&s, &o, s.label, m, must_abort);
    free(label);
    return rc;
}

int main(int argc, char **argv)
{
    tool_mpi m;
    char err[256], **rest;
    int rc, must_abort = 0;

    if (tool_mpi_start(&m, &argc, &argv, err, sizeof err) != 0)
        return tool_mpi_abort(&m, runtime_error("MPI: %s", err));
    if ((rest = malloc(((size_t)argc + 1) * sizeof *rest)) == NULL)
        return tool_mpi_abort(&m, runtime_error("out of memory"));
    train_options_set_program(PROG);
    rc = run(argc, argv, rest, &m, &must_abort);
    free(rest);
    if (rc < 0)
        rc = 0;
    else if (rc == 0 && fflush(stdout) != 0)
        rc = 1;
    return must_abort ? tool_mpi_abort(&m, rc != 0 ? rc : 1) : tool_mpi_finish(&m, rc);
}
