/* SPDX-License-Identifier: MIT */
/*
 * sweep_mpi.c -- the scheduler of sweep_mpi.h and its workers.
 *
 * Two kinds of message: a task (rank 0 to a worker rank: the task index
 * as 8 bytes, NO_TASK for "nothing left, stop") and a result (a worker
 * rank to rank 0: the run's status as 4 bytes, then the message). Rank 0's
 * own worker is a thread that makes no MPI call; rank 0's main thread,
 * the only one that does, checks it and the messages in turn, napping when
 * neither has news.
 */
#define _POSIX_C_SOURCE 200809L /* strsignal */

#include "sweep_mpi.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAG_TASK 1
#define TAG_RESULT 2
#define NO_TASK UINT64_MAX

/* ---- rank 0's own worker, a thread ------------------------------------- */

typedef struct {
    const sweep_jobs_calls *calls;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int started;
    int has_task; /* set by the scheduler, cleared by the thread when done */
    int finished; /* set by the thread, cleared by the scheduler           */
    int quit;
    size_t task;
    int status;
    char *msg;
    size_t len;
} local_worker;

static void *local_main(void *arg)
{
    local_worker *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->has_task && !w->quit)
            pthread_cond_wait(&w->wake, &w->lock);
        if (w->quit)
            break;
        size_t task = w->task;
        char *msg = NULL;
        size_t len = 0;
        pthread_mutex_unlock(&w->lock);
        int status = w->calls->run(w->calls->ctx, task, &msg, &len);
        pthread_mutex_lock(&w->lock);
        w->status = status;
        w->msg = msg;
        w->len = msg != NULL ? len : 0;
        w->has_task = 0;
        w->finished = 1;
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* The thread, with the signals blocked so that they reach the scheduler. */
static int local_start(local_worker *w)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    w->started = pthread_create(&w->thread, NULL, local_main, w) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return w->started ? 0 : -1;
}

static void local_give(local_worker *w, size_t task)
{
    pthread_mutex_lock(&w->lock);
    w->task = task;
    w->has_task = 1;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
}

/* 1 when the thread finished its task: its result, now the caller's. */
static int local_take(local_worker *w, int *status, char **msg, size_t *len)
{
    int got;
    pthread_mutex_lock(&w->lock);
    got = w->finished;
    if (got) {
        *status = w->status, *msg = w->msg, *len = w->len;
        w->finished = 0;
        w->msg = NULL;
    }
    pthread_mutex_unlock(&w->lock);
    return got;
}

/* Ends an idle thread. A busy one cannot be stopped: it is left running
 * for tool_mpi_abort to end with the process, and 1 is returned. */
static int local_stop(local_worker *w)
{
    int busy;
    if (!w->started)
        return 0;
    pthread_mutex_lock(&w->lock);
    busy = w->has_task;
    w->quit = 1;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    if (busy)
        return 1;
    pthread_join(w->thread, NULL);
    free(w->msg);
    w->started = 0;
    return 0;
}

/* ---- rank 0: the scheduler --------------------------------------------- */

typedef struct {
    const tool_mpi *m;
    sweep_jobs_queue q;
    local_worker local;
    int *busy;     /* per rank; rank 0's is the thread's */
    size_t *task;  /* per rank: the task it runs         */
    char *err;
    size_t err_size;
} scheduler;

static void set_err(scheduler *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, s->err_size, fmt, ap);
    va_end(ap);
}

/* Hands rank r its next task, or tells it to stop when none is left. */
static sweep_jobs_result assign(scheduler *s, int r)
{
    size_t next;
    uint64_t task = NO_TASK;

    if (sweep_jobs_queue_next(&s->q, &next)) {
        task = next;
        s->task[r] = next;
        s->busy[r] = 1;
    }
    if (r == 0) {
        if (task != NO_TASK)
            local_give(&s->local, next);
        return SWEEP_JOBS_OK;
    }
    if (tool_mpi_send(s->m, r, TAG_TASK, &task, sizeof task) == 0)
        return SWEEP_JOBS_OK;
    set_err(s, "sending a task to rank %d failed", r);
    return SWEEP_JOBS_SYSTEM;
}

static sweep_jobs_result finished(scheduler *s, int r, int status, const char *msg,
                                  size_t len)
{
    sweep_jobs_result res;
    s->busy[r] = 0;
    res = sweep_jobs_queue_done(&s->q, s->task[r], status, msg, len);
    return res == SWEEP_JOBS_OK ? assign(s, r) : res;
}

/* A result from a worker rank; *got = 1 when there was one. */
static sweep_jobs_result take_message(scheduler *s, int *got)
{
    int source;
    size_t len;
    int32_t status;
    char *buf;
    sweep_jobs_result res;

    if (!(*got = tool_mpi_probe(s->m, TAG_RESULT, &source, &len)))
        return SWEEP_JOBS_OK;
    if ((buf = malloc(len + 1)) == NULL)
        return set_err(s, "out of memory"), SWEEP_JOBS_SYSTEM;
    if (tool_mpi_recv(s->m, source, TAG_RESULT, buf, len) != 0 || len < sizeof status
        || source <= 0 || source >= s->m->size || !s->busy[source]) {
        free(buf);
        return set_err(s, "a bad result message from rank %d", source), SWEEP_JOBS_SYSTEM;
    }
    buf[len] = '\0';
    memcpy(&status, buf, sizeof status);
    res = finished(s, source, status, buf + sizeof status, len - sizeof status);
    free(buf);
    return res;
}

/* The thread's result; *got = 1 when there was one. */
static sweep_jobs_result take_local(scheduler *s, int *got)
{
    int status;
    char *msg = NULL, *buf;
    size_t len = 0;
    sweep_jobs_result res;

    if (!(*got = s->busy[0] && local_take(&s->local, &status, &msg, &len)))
        return SWEEP_JOBS_OK;
    /* done reads the message as a string too, as the ranks' messages are. */
    if ((buf = malloc(len + 1)) == NULL) {
        free(msg);
        return set_err(s, "out of memory"), SWEEP_JOBS_SYSTEM;
    }
    if (len > 0)
        memcpy(buf, msg, len);
    buf[len] = '\0';
    free(msg);
    res = finished(s, 0, status, buf, len);
    free(buf);
    return res;
}

static sweep_jobs_result schedule(scheduler *s)
{
    sweep_jobs_result res = SWEEP_JOBS_OK;

    for (int r = 0; r < s->m->size && res == SWEEP_JOBS_OK; r++)
        res = assign(s, r);
    while (res == SWEEP_JOBS_OK && s->q.finished < s->q.n) {
        int got_local = 0, got_message = 0;
        if (sweep_jobs_interrupted()) {
            set_err(s, "interrupted by signal %d (%s)", sweep_jobs_interrupted(),
                    strsignal(sweep_jobs_interrupted()));
            return SWEEP_JOBS_INTERRUPTED;
        }
        res = take_local(s, &got_local);
        if (res == SWEEP_JOBS_OK)
            res = take_message(s, &got_message);
        if (!got_local && !got_message)
            tool_mpi_nap();
    }
    return res;
}

static sweep_jobs_result run_root(const sweep_jobs_calls *calls, const double *cost,
                                  size_t n, const tool_mpi *m, char *err, size_t err_size)
{
    scheduler s = {.m = m, .err = err, .err_size = err_size};
    sweep_jobs_signals saved;
    sweep_jobs_result res = SWEEP_JOBS_SYSTEM;

    s.local = (local_worker){.calls = calls};
    pthread_mutex_init(&s.local.lock, NULL);
    pthread_cond_init(&s.local.wake, NULL);
    s.busy = calloc((size_t)m->size, sizeof *s.busy);
    s.task = calloc((size_t)m->size, sizeof *s.task);
    if (s.busy == NULL || s.task == NULL || sweep_jobs_queue_init(&s.q, calls, cost, n) != 0)
        set_err(&s, "out of memory");
    else if (calls->init != NULL && calls->init(calls->ctx, 0) != 0)
        set_err(&s, "rank 0 could not start its worker");
    else if (local_start(&s.local) != 0)
        set_err(&s, "rank 0 could not start its worker thread");
    else {
        sweep_jobs_signals_catch(&saved);
        res = schedule(&s);
        sweep_jobs_signals_restore(&saved);
    }
    /* A busy thread is left to tool_mpi_abort, with what it uses. */
    if (local_stop(&s.local) == 0) {
        pthread_cond_destroy(&s.local.wake);
        pthread_mutex_destroy(&s.local.lock);
    }
    sweep_jobs_queue_free(&s.q);
    free(s.busy);
    free(s.task);
    return res;
}

/* ---- the other ranks: workers ------------------------------------------- */

/* Sends a task's status and message to rank 0 as one message. */
static int send_result(const tool_mpi *m, int32_t status, const char *msg, size_t len)
{
    char *buf = malloc(sizeof status + len);
    int rc;
    if (buf == NULL)
        return -1;
    memcpy(buf, &status, sizeof status);
    if (len > 0)
        memcpy(buf + sizeof status, msg, len);
    rc = tool_mpi_send(m, 0, TAG_RESULT, buf, sizeof status + len);
    free(buf);
    return rc;
}

static sweep_jobs_result run_worker(const sweep_jobs_calls *calls, size_t n,
                                    const tool_mpi *m, char *err, size_t err_size)
{
    if (calls->init != NULL && calls->init(calls->ctx, (unsigned)m->rank) != 0) {
        snprintf(err, err_size, "rank %d could not start its worker", m->rank);
        return SWEEP_JOBS_SYSTEM;
    }
    for (;;) {
        int source;
        size_t len;
        uint64_t task;
        char *msg = NULL;
        size_t msg_len = 0;
        int32_t status;

        tool_mpi_wait(m, TAG_TASK, &source, &len, NULL);
        if (len != sizeof task || tool_mpi_recv(m, source, TAG_TASK, &task, len) != 0
            || (task != NO_TASK && task >= n)) {
            snprintf(err, err_size, "rank %d: a bad task message", m->rank);
            return SWEEP_JOBS_SYSTEM;
        }
        if (task == NO_TASK)
            return SWEEP_JOBS_OK;
        status = (int32_t)calls->run(calls->ctx, (size_t)task, &msg, &msg_len);
        fflush(NULL); /* what the run said, before rank 0 goes on */
        if (send_result(m, status, msg, msg != NULL ? msg_len : 0) != 0) {
            free(msg);
            snprintf(err, err_size, "rank %d: sending a result failed", m->rank);
            return SWEEP_JOBS_SYSTEM;
        }
        free(msg);
    }
}

sweep_jobs_result sweep_mpi_run(const sweep_jobs_calls *calls, const double *cost, size_t n,
                                const tool_mpi *m, char *err, size_t err_size)
{
    if (err_size > 0)
        err[0] = '\0';
    return m->rank == 0 ? run_root(calls, cost, n, m, err, err_size)
                        : run_worker(calls, n, m, err, err_size);
}
