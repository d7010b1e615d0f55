/* SPDX-License-Identifier: MIT */
/*
 * sweep_jobs.h -- runs independent tasks on several workers at once, the
 * most expensive first, each next task to the next free worker.
 *
 * pcmup-sweep's --jobs: a task is one grid point. The scheduling (the
 * order, which task is next, what a finished task means: the queue below)
 * is kept apart from how a worker is reached. sweep_jobs_run's workers are
 * processes forked from the caller, so they share the caller's memory (the
 * loaded data set) copy-on-write and each has its own process-wide state
 * (the BLAS thread count); sweep_mpi.h's are MPI ranks, with the same
 * calls and the same queue.
 *
 * The caller gives three functions. In each worker, once, `init`; then
 * `run` for every task handed to it, which returns a message (bytes the
 * caller defines: a finished row, say). In the caller's process, `done`
 * for every finished task, in the order they finish. Nothing else crosses
 * between the two sides.
 */
#ifndef PCMUP_SWEEP_JOBS_H
#define PCMUP_SWEEP_JOBS_H

#include <signal.h>
#include <stddef.h>

typedef struct {
    void *ctx;
    /* In worker `worker` (0 .. n_workers - 1), before its first task;
     * nonzero ends that worker (reported as a failure). */
    int (*init)(void *ctx, unsigned worker);
    /* In a worker: runs `task`, sets *msg (malloc'ed, may be NULL) and
     * *len. Returns 0, or nonzero when the task failed (the message then
     * says why, or is empty when the worker reported it itself). */
    int (*run)(void *ctx, size_t task, char **msg, size_t *len);
    /* In the caller: `task` finished with run's return value `status` and
     * message. Returns 0 to go on, nonzero to stop every worker. */
    int (*done)(void *ctx, size_t task, int status, const char *msg, size_t len);
    /* Optional: names `task` in messages ("width 256 lr 2^-3"); without it,
     * "task I". */
    void (*describe)(void *ctx, size_t task, char *buf, size_t size);
} sweep_jobs_calls;

typedef enum {
    SWEEP_JOBS_OK = 0,
    SWEEP_JOBS_STOPPED,     /* a task failed, or `done` asked to stop          */
    SWEEP_JOBS_DIED,        /* a worker ended (crashed, killed) within a task  */
    SWEEP_JOBS_INTERRUPTED, /* SIGINT, SIGTERM or SIGHUP reached the caller    */
    SWEEP_JOBS_SYSTEM       /* fork, pipe, read or write failed                */
} sweep_jobs_result;

/* The order tasks are handed out in: by cost, largest first, ties by
 * index. order[] gets the n task indices. Returns 0, or -1 out of memory. */
int sweep_jobs_order(const double *cost, size_t n, size_t *order);

/* ---- the queue: the scheduling, apart from the workers ----------------- */

typedef struct {
    const sweep_jobs_calls *calls;
    size_t *order; /* sweep_jobs_order's */
    size_t n, next, finished;
} sweep_jobs_queue;

/* The queue of tasks 0 .. n - 1 in sweep_jobs_order's order. Returns 0,
 * or -1 out of memory (then nothing to free). */
int sweep_jobs_queue_init(sweep_jobs_queue *q, const sweep_jobs_calls *calls,
                          const double *cost, size_t n);
void sweep_jobs_queue_free(sweep_jobs_queue *q);

/* The next task to hand to a free worker: 1 with *task set, or 0 when
 * every task has been handed out. */
int sweep_jobs_queue_next(sweep_jobs_queue *q, size_t *task);

/* A worker finished `task`: passes it to calls->done. SWEEP_JOBS_OK to go
 * on, SWEEP_JOBS_STOPPED when the task failed or done asked to stop. */
sweep_jobs_result sweep_jobs_queue_done(sweep_jobs_queue *q, size_t task, int status,
                                        const char *msg, size_t len);

/* calls->describe, or "task I" without it. */
void sweep_jobs_describe(const sweep_jobs_calls *calls, size_t task, char *buf,
                         size_t size);

/* SIGINT, SIGTERM and SIGHUP set a flag (no SA_RESTART, so a blocking call
 * wakes up) and SIGPIPE is ignored, until sweep_jobs_signals_restore. One
 * catcher at a time per process. */
typedef struct {
    struct sigaction old[4];
} sweep_jobs_signals;
void sweep_jobs_signals_catch(sweep_jobs_signals *saved);
void sweep_jobs_signals_restore(const sweep_jobs_signals *saved);
/* The signal caught since sweep_jobs_signals_catch, or 0. */
int sweep_jobs_interrupted(void);

/* ---- forked workers ------------------------------------------------------ */

/* Runs tasks 0 .. n - 1 (cost[i] is task i's relative cost) on n_workers
 * forked processes, at most n of them; returns when every task is done,
 * or at the first failure, after ending every worker (no worker outlives
 * the call). On a result other than SWEEP_JOBS_OK and SWEEP_JOBS_STOPPED,
 * err says what happened (which task, which signal). The caller's stdio
 * buffers are flushed before forking; a worker never returns from this
 * function (it _exits). While it runs, SIGPIPE is ignored and SIGINT,
 * SIGTERM and SIGHUP end the call with SWEEP_JOBS_INTERRUPTED. */
sweep_jobs_result sweep_jobs_run(const sweep_jobs_calls *calls, const double *cost, size_t n,
                                 unsigned n_workers, char *err, size_t err_size);

#endif /* PCMUP_SWEEP_JOBS_H */
