/* SPDX-License-Identifier: MIT */
/*
 * bench.h -- what the modes of pcmup-bench share (common.c): options,
 * arbitrary data, timing, and the sgemm peak every ratio is taken against.
 * bench.c is the MLP mode (BP and the other rules' steps through the public
 * API), cnn.c the --cnn mode (convolution layers through the internal
 * layer API), roofline.c the --roofline mode (each rule's step against its
 * own GEMMs); step.c builds the steps both MLP modes time.
 */
#ifndef PCMUP_BENCH_H
#define PCMUP_BENCH_H

#include <stddef.h>
#include <stdint.h>

#define PROG "pcmup-bench"

typedef struct {
    int threads;        /* 0 = BLAS default */
    int quick;
    int no_gnt;         /* skip the Gauss-Newton table */
    int cnn;            /* the convolution cases instead of the MLP tables */
    size_t peak_n;      /* side of the square sgemm */
    int peak_reps;
    int warmup;         /* untimed repetitions before each measurement */
    double min_seconds; /* time at least this long per measurement */
    /* --roofline (roofline.c): each rule's step against its own GEMMs. */
    int roofline;
    int json;           /* JSON lines instead of the table             */
    int all;            /* also the cases the step-time cap would skip  */
    const char *widths, *batches, *rules; /* comma lists, NULL: default */
} bench_options;

double now_seconds(void);
/* xorshift64*: the benchmark needs arbitrary data, not good randomness. */
uint64_t rng_next(uint64_t *state);
/* Uniform in [0, 1). */
void fill_uniform(float *a, size_t n, uint64_t *state);
/* malloc, or exit(1) with a message: the benchmark needs its buffers. */
void *xmalloc(size_t bytes);
float *alloc_floats(size_t n, uint64_t *state);

/* One repetition of the measured work; non-zero on failure. */
typedef int (*work_fn)(void *ctx);

typedef struct {
    double best;  /* seconds of the fastest repetition        */
    double mean;  /* seconds per repetition over the whole run */
} timing;

/* `warmup` untimed runs, then repetitions until at least min_seconds have
 * passed (and at least two ran); -1 on failure. */
int time_work(work_fn fn, void *ctx, const bench_options *o, timing *t);

/* The square product, and the best rate seen on it so far. */
typedef struct {
    int n;
    float *a, *b, *c;
    double best_gflops;
    int runs;
} peak_probe;

void peak_probe_init(peak_probe *p, size_t n);
void peak_probe_free(peak_probe *p);
/* One product, untimed (a warm-up). */
void peak_probe_gemm(const peak_probe *p);
/* `reps` timed products; best_gflops keeps the fastest rate seen. */
void peak_probe_run(peak_probe *p, int reps);

/* The --cnn mode (cnn.c): 0 on success, 1 on failure. */
int bench_cnn(const bench_options *o);
/* The --roofline mode (roofline.c): 0 on success, 1 on failure, 2 on a
 * bad --widths, --batches or --rules list. */
int bench_roofline(const bench_options *o);

#endif
