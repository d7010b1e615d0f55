/* SPDX-License-Identifier: MIT */
/*
 * sweep_jobs.c -- the scheduler of sweep_jobs.h and its forked workers.
 *
 * Each worker has two pipes: the caller writes a task index (8 bytes) to
 * one, the worker answers on the other with its run's status (4 bytes),
 * the message's length (8 bytes) and the message. Closing the task pipe
 * tells an idle worker to exit; a worker whose caller is gone sees the
 * task pipe end and exits too. A worker that dies shows up as the end of
 * its result pipe while it holds a task.
 */
#define _POSIX_C_SOURCE 200809L /* sigaction, strsignal */

#include "sweep_jobs.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the order ----------------------------------------------------------- */

typedef struct {
    double cost;
    size_t index;
} ranked;

static int by_cost(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->cost != y->cost)
        return x->cost > y->cost ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

int sweep_jobs_order(const double *cost, size_t n, size_t *order)
{
    ranked *r = malloc((n > 0 ? n : 1) * sizeof *r);
    if (r == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        r[i] = (ranked){cost[i], i};
    qsort(r, n, sizeof *r, by_cost);
    for (size_t i = 0; i < n; i++)
        order[i] = r[i].index;
    free(r);
    return 0;
}

/* ---- the queue ------------------------------------------------------------ */

int sweep_jobs_queue_init(sweep_jobs_queue *q, const sweep_jobs_calls *calls,
                          const double *cost, size_t n)
{
    *q = (sweep_jobs_queue){calls, malloc((n > 0 ? n : 1) * sizeof *q->order), n, 0, 0};
    if (q->order != NULL && sweep_jobs_order(cost, n, q->order) == 0)
        return 0;
    free(q->order);
    q->order = NULL;
    return -1;
}

void sweep_jobs_queue_free(sweep_jobs_queue *q)
{
    free(q->order);
    q->order = NULL;
}

int sweep_jobs_queue_next(sweep_jobs_queue *q, size_t *task)
{
    if (q->next == q->n)
        return 0;
    *task = q->order[q->next++];
    return 1;
}

sweep_jobs_result sweep_jobs_queue_done(sweep_jobs_queue *q, size_t task, int status,
                                        const char *msg, size_t len)
{
    q->finished++;
    if (q->calls->done(q->calls->ctx, task, status, msg, len) != 0 || status != 0)
        return SWEEP_JOBS_STOPPED;
    return SWEEP_JOBS_OK;
}

void sweep_jobs_describe(const sweep_jobs_calls *calls, size_t task, char *buf,
                         size_t size)
{
    if (calls->describe != NULL)
        calls->describe(calls->ctx, task, buf, size);
    else
        snprintf(buf, size, "task %zu", task);
}

/* ---- signals -------------------------------------------------------------- */

/* The signal that interrupted the call, or 0. A handler can only reach
 * file-scope state; the one catcher at a time owns it. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    interrupted = sig;
}

static const int caught[4] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};

void sweep_jobs_signals_catch(sweep_jobs_signals *saved)
{
    struct sigaction act;

    /* No SA_RESTART: a signal wakes poll at once. */
    memset(&act, 0, sizeof act);
    sigemptyset(&act.sa_mask);
    interrupted = 0;
    for (int i = 0; i < 4; i++) {
        act.sa_handler = caught[i] == SIGPIPE ? SIG_IGN : on_signal;
        sigaction(caught[i], &act, &saved->old[i]);
    }
}

void sweep_jobs_signals_restore(const sweep_jobs_signals *saved)
{
    for (int i = 0; i < 4; i++)
        sigaction(caught[i], &saved->old[i], NULL);
}

int sweep_jobs_interrupted(void)
{
    return (int)interrupted;
}

/* ---- reading and writing whole messages ----------------------------------- */

/* 0 once all of buf is written; -1 on an error. */
static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t k = write(fd, p, len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        len -= (size_t)k;
    }
    return 0;
}

/* 0 once buf is full; 1 at the end of the pipe before the first byte;
 * -1 on an error or an end in the middle. */
static int read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    size_t got = 0;
    while (got < len) {
        ssize_t k = read(fd, p + got, len - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return k == 0 && got == 0 ? 1 : -1;
        got += (size_t)k;
    }
    return 0;
}

/* ---- the state of one call ------------------------------------------------ */

typedef struct {
    pid_t pid;     /* 0 once reaped                              */
    int task_fd;   /* the caller writes task indices; -1 closed  */
    int result_fd; /* the caller reads results; -1 closed        */
    int busy;
    size_t task;
} worker;

typedef struct {
    const sweep_jobs_calls *calls;
    worker *w;
    unsigned n_w;
    sweep_jobs_queue q;
    char *err;
    size_t err_size;
} pool;

static void set_err(pool *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err, p->err_size, fmt, ap);
    va_end(ap);
}

static void describe(const pool *p, size_t task, char *buf, size_t size)
{
    sweep_jobs_describe(p->calls, task, buf, size);
}

/* "exited with status 3", "killed by signal 11 (Segmentation fault)". */
static void describe_status(int status, char *buf, size_t size)
{
    if (WIFSIGNALED(status))
        snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else if (WIFEXITED(status))
        snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
    else
        snprintf(buf, size, "ended (wait status %d)", status);
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* ---- the worker's side ---------------------------------------------------- */

/* Runs tasks until the task pipe ends; never returns. */
static void worker_main(const sweep_jobs_calls *c, unsigned id, int task_fd, int result_fd)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
    uint64_t task;

    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        signal(sigs[i], SIG_DFL);
    if (c->init != NULL && c->init(c->ctx, id) != 0)
        _exit(3);
    while (read_all(task_fd, &task, sizeof task) == 0) {
        char *msg = NULL;
        size_t len = 0;
        int32_t status = (int32_t)c->run(c->ctx, (size_t)task, &msg, &len);
        uint64_t len64 = msg != NULL ? len : 0;
        fflush(NULL); /* what the run said on stderr/stdout, before the caller goes on */
        if (write_all(result_fd, &status, sizeof status) != 0
            || write_all(result_fd, &len64, sizeof len64) != 0
            || write_all(result_fd, msg, (size_t)len64) != 0)
            _exit(4);
        free(msg);
    }
    _exit(0);
}

/* ---- the caller's side ---------------------------------------------------- */

/* Forks worker `id`; it closes the caller's ends of every pipe so far, so
 * that only the caller holds them (a dead worker's pipe then ends). */
static int start_worker(pool *p, unsigned id)
{
    int to[2], from[2];
    pid_t pid;

    if (pipe(to) != 0)
        return set_err(p, "pipe: %s", strerror(errno)), -1;
    if (pipe(from) != 0) {
        set_err(p, "pipe: %s", strerror(errno));
        close(to[0]);
        close(to[1]);
        return -1;
    }
    fflush(NULL);
    if ((pid = fork()) < 0) {
        set_err(p, "fork: %s", strerror(errno));
        close(to[0]), close(to[1]), close(from[0]), close(from[1]);
        return -1;
    }
    if (pid == 0) {
        for (unsigned j = 0; j < id; j++)
            close_fd(&p->w[j].task_fd), close_fd(&p->w[j].result_fd);
        close(to[1]);
        close(from[0]);
        worker_main(p->calls, id, to[0], from[1]);
    }
    close(to[0]);
    close(from[1]);
    p->w[id] = (worker){pid, to[1], from[0], 0, 0};
    return 0;
}

/* Hands the next task to worker w, or lets it exit when none is left. */
static int assign(pool *p, worker *w)
{
    char name[128];
    size_t next;
    uint64_t task;

    if (!sweep_jobs_queue_next(&p->q, &next)) {
        close_fd(&w->task_fd);
        return 0;
    }
    task = next;
    w->task = next;
    w->busy = 1;
    if (write_all(w->task_fd, &task, sizeof task) == 0)
        return 0;
    describe(p, w->task, name, sizeof name);
    set_err(p, "handing %s to worker pid %ld: %s", name, (long)w->pid, strerror(errno));
    return -1;
}

/* The end of worker w's result pipe in a task: why it ended. */
static sweep_jobs_result worker_died(pool *p, worker *w)
{
    char name[128], how[128] = "ended";
    const pid_t pid = w->pid;
    int status;

    describe(p, w->task, name, sizeof name);
    close_fd(&w->task_fd);
    if (waitpid(pid, &status, 0) == pid) {
        describe_status(status, how, sizeof how);
        w->pid = 0;
    }
    set_err(p, "a worker (pid %ld) %s while running %s", (long)pid, how, name);
    return SWEEP_JOBS_DIED;
}

/* Reads worker w's answer and passes it on. */
static sweep_jobs_result collect(pool *p, worker *w)
{
    int32_t status;
    uint64_t len;
    char *msg = NULL;
    int rc = read_all(w->result_fd, &status, sizeof status);

    if (rc == 0)
        rc = read_all(w->result_fd, &len, sizeof len) != 0 ? -1 : 0;
    if (rc == 0 && (msg = malloc(len + 1)) == NULL)
        return set_err(p, "out of memory"), SWEEP_JOBS_SYSTEM;
    if (rc == 0)
        rc = read_all(w->result_fd, msg, (size_t)len) != 0 ? -1 : 0;
    if (rc != 0) {
        free(msg);
        return worker_died(p, w);
    }
    msg[len] = '\0';
    w->busy = 0;
    sweep_jobs_result r = sweep_jobs_queue_done(&p->q, w->task, status, msg, (size_t)len);
    free(msg);
    if (r != SWEEP_JOBS_OK)
        return r;
    return assign(p, w) == 0 ? SWEEP_JOBS_OK : SWEEP_JOBS_SYSTEM;
}

/* Waits for the next answers (a second at a time, to notice a signal). */
static sweep_jobs_result wait_round(pool *p, struct pollfd *fds)
{
    nfds_t m = 0;
    int k;

    for (unsigned i = 0; i < p->n_w; i++)
        if (p->w[i].busy)
            fds[m++] = (struct pollfd){p->w[i].result_fd, POLLIN, 0};
    k = poll(fds, m, 1000);
    if (sweep_jobs_interrupted())
        return set_err(p, "interrupted by signal %d (%s)", sweep_jobs_interrupted(),
                       strsignal(sweep_jobs_interrupted())),
               SWEEP_JOBS_INTERRUPTED;
    if (k < 0 && errno != EINTR)
        return set_err(p, "poll: %s", strerror(errno)), SWEEP_JOBS_SYSTEM;
    for (nfds_t j = 0; k > 0 && j < m; j++) {
        if (fds[j].revents == 0)
            continue;
        for (unsigned i = 0; i < p->n_w; i++) {
            sweep_jobs_result r;
            if (p->w[i].busy && p->w[i].result_fd == fds[j].fd
                && (r = collect(p, &p->w[i])) != SWEEP_JOBS_OK)
                return r;
        }
    }
    return SWEEP_JOBS_OK;
}

/* Ends every worker: idle ones by closing their task pipe, busy ones (after
 * a failure) by SIGTERM; then reaps them. A worker that exits with a
 * failure after its last task makes an OK result a DIED one. */
static sweep_jobs_result stop_all(pool *p, sweep_jobs_result r)
{
    for (unsigned i = 0; i < p->n_w; i++) {
        worker *w = &p->w[i];
        close_fd(&w->task_fd);
        if (w->pid > 0 && w->busy)
            kill(w->pid, SIGTERM);
    }
    for (unsigned i = 0; i < p->n_w; i++) {
        worker *w = &p->w[i];
        int status;
        char how[128];
        if (w->pid > 0 && waitpid(w->pid, &status, 0) == w->pid && r == SWEEP_JOBS_OK
            && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
            describe_status(status, how, sizeof how);
            set_err(p, "a worker (pid %ld) %s after its last task", (long)w->pid, how);
            r = SWEEP_JOBS_DIED;
        }
        close_fd(&w->result_fd);
    }
    return r;
}

static sweep_jobs_result run_pool(pool *p)
{
    sweep_jobs_result r = SWEEP_JOBS_OK;
    struct pollfd *fds = malloc(p->n_w * sizeof *fds);

    if (fds == NULL)
        return set_err(p, "out of memory"), SWEEP_JOBS_SYSTEM;
    for (unsigned i = 0; i < p->n_w && r == SWEEP_JOBS_OK; i++) {
        if (start_worker(p, i) != 0) {
            p->n_w = i;
            r = SWEEP_JOBS_SYSTEM;
        } else if (assign(p, &p->w[i]) != 0) {
            p->n_w = i + 1;
            r = SWEEP_JOBS_SYSTEM;
        }
    }
    while (r == SWEEP_JOBS_OK && p->q.finished < p->q.n)
        r = wait_round(p, fds);
    free(fds);
    return stop_all(p, r);
}

sweep_jobs_result sweep_jobs_run(const sweep_jobs_calls *calls, const double *cost, size_t n,
                                 unsigned n_workers, char *err, size_t err_size)
{
    pool p = {calls, NULL, n_workers < n ? n_workers : (unsigned)n, {0}, err, err_size};
    sweep_jobs_signals saved;
    sweep_jobs_result r;

    if (err_size > 0)
        err[0] = '\0';
    if (n == 0)
        return SWEEP_JOBS_OK;
    p.w = calloc(p.n_w, sizeof *p.w);
    if (p.w == NULL || sweep_jobs_queue_init(&p.q, calls, cost, n) != 0) {
        free(p.w);
        return set_err(&p, "out of memory"), SWEEP_JOBS_SYSTEM;
    }
    sweep_jobs_signals_catch(&saved);
    r = run_pool(&p);
    sweep_jobs_signals_restore(&saved);
    free(p.w);
    sweep_jobs_queue_free(&p.q);
    return r;
}
