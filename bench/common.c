/* SPDX-License-Identifier: MIT */
/*
 * common.c -- what pcmup-bench's modes share: the clock, arbitrary data,
 * timing a piece of work, and the sgemm peak probe (bench.h).
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include "bench.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* xorshift64*: the benchmark needs arbitrary data, not good randomness. */
uint64_t rng_next(uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 0x2545F4914F6CDD1Dull;
}

void fill_uniform(float *a, size_t n, uint64_t *state)
{
    for (size_t i = 0; i < n; i++)
        a[i] = (float)(rng_next(state) >> 40) / (float)(1u << 24);
}

/* The benchmark cannot do anything useful without its buffers. */
void *xmalloc(size_t bytes)
{
    void *p = malloc(bytes);
    if (p == NULL) {
        fprintf(stderr, PROG ": out of memory (%zu bytes)\n", bytes);
        exit(1);
    }
    return p;
}

float *alloc_floats(size_t n, uint64_t *state)
{
    float *a = xmalloc(n * sizeof *a);
    fill_uniform(a, n, state);
    return a;
}

/* ---- timing -------------------------------------------------------------- */

/* `warmup` untimed runs, then repetitions until at least min_seconds have
 * passed (and at least two ran). Other processes can only add time, so
 * on a shared machine the fastest repetition is the faithful measure of
 * the work's cost; the mean is what a user waits. -1 on failure. */
int time_work(work_fn fn, void *ctx, const bench_options *o, timing *t)
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

void peak_probe_init(peak_probe *p, size_t n)
{
    uint64_t rng = 12345;
    p->n = (int)n;
    p->a = alloc_floats(n * n, &rng);
    p->b = alloc_floats(n * n, &rng);
    p->c = alloc_floats(n * n, &rng);
    p->best_gflops = 0.0;
    p->runs = 0;
}

void peak_probe_free(peak_probe *p)
{
    free(p->a);
    free(p->b);
    free(p->c);
}

void peak_probe_gemm(const peak_probe *p)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, p->n, p->n, p->n, 1.0f, p->a,
                p->n, p->b, p->n, 0.0f, p->c, p->n);
}

/* The peak is what the machine can do, so it is the fastest of all runs;
 * the runs are spread over the whole benchmark because on a shared
 * machine the neighbours' load comes and goes. */
void peak_probe_run(peak_probe *p, int reps)
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
