/* SPDX-License-Identifier: MIT */
/*
 * step.h -- one learning rule's training step to time, as pcmup-bench's MLP
 * tables (bench.c) and its roofline mode (roofline.c) build it: the network
 * 784 -> M -> M -> 10 (depth 3, tanh) under the rule's muP, random inputs
 * and labels, stepped through the public pcmup_algo_step (step.c); and the
 * replay of a step's logged level-3 products through the BLAS directly.
 */
#ifndef PCMUP_BENCH_STEP_H
#define PCMUP_BENCH_STEP_H

#include <stddef.h>
#include <stdint.h>

#include "kernel/kernel.h"
#include "pcmup.h"

#define DEPTH 3
#define INPUTS 784
#define CLASSES 10

/* One learning rule's step to time; the fields of other rules are
 * ignored. Everything not named here keeps the library's default. */
typedef struct {
    pcmup_rule rule;
    size_t t;                      /* PC: inference iterations; T > 1 runs
                                      the simultaneous schedule, kappa 0.2 */
    double gnt_power;              /* GNT: e_B                             */
    pcmup_gnt_variant gnt_variant; /* GNT                                  */
    pcmup_tp_feedback feedback;    /* TP, DTP                              */
} step_config;

/* A column of a rule's table. */
typedef struct {
    const char *name;
    step_config config;
} named_config;

typedef struct {
    pcmup_param *param;
    pcmup_net *net;
    pcmup_algo *algo;
    float *x;
    int32_t *labels;
    size_t batch;
} step_bench;

/* Prints st's message when it is not PCMUP_OK; non-zero then. */
int report(pcmup_status st, const char *what);

/* c's rule on 784 -> widths[1] -> widths[2] -> 10 with random data of
 * `batch` samples; non-zero on failure (step_bench_free it anyway). */
int step_bench_init(step_bench *b, const step_config *c, const size_t *widths, size_t batch);
void step_bench_free(step_bench *b);
/* One pcmup_algo_step (a work_fn): the public step, snapshot included. */
int step_bench_step(void *ctx);

/* ---- replaying a step's level-3 products ------------------------------------
 * The products a step logged (pcmup__algo_count_gemms: GEMMs, SYRKs and
 * TRSMs, kernel.h), each on buffers of its own size filled once, run back
 * to back through the kernel's own wrappers with the logged alpha and beta
 * (cblas_?gemm, cblas_?syrk, cblas_dtrsm): what the step would cost if it
 * were nothing but its level-3 products. Products of one shape share
 * buffers. A trsm's triangle is the identity (its time does not depend on
 * the values; repeated in-place solves then neither overflow nor decay to
 * denormals). */
typedef struct {
    size_t count;
    pcmup__gemm_shape *shapes;
    void **a, **b, **c; /* per shape, float or double as its precision */
    uint64_t flops;
} gemm_replay;

/* Copies the log's shapes (every one: the log must have kept them all)
 * and allocates their buffers; non-zero when the log overflowed. */
int gemm_replay_init(gemm_replay *r, const pcmup__gemm_log *log);
void gemm_replay_free(gemm_replay *r);
/* Every product once, in the logged order (a work_fn). */
int gemm_replay_run(void *ctx);

/* Steps b (once or twice) with its products logged, then builds r from the
 * log; non-zero on failure. Counting stays on: one branch per product. */
int step_bench_record(step_bench *b, gemm_replay *r);

#endif
