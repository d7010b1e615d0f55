/* SPDX-License-Identifier: MIT */
/*
 * test_sweep_jobs.c -- the scheduler behind pcmup-sweep --jobs
 * (sweep_jobs.h): every task runs once, the costliest first, messages
 * arrive whole, and a task that fails, a worker that crashes or exits
 * ends the call with the right result and no worker left behind.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sweep_jobs.h"

#define MAX_TASKS 64

/* What a test's tasks do, and what the caller's side saw. */
typedef struct {
    size_t fail_at;    /* run returns 1 for this task           */
    size_t crash_at;   /* run dies of SIGKILL for this task     */
    size_t exit_at;    /* run _exits with status 7 for this task */
    size_t stop_at;    /* done returns 1 for this task          */
    size_t msg_bytes;  /* the length of every message           */
    size_t seen[MAX_TASKS];
    int status[MAX_TASKS];
    size_t done_order[MAX_TASKS];
    size_t n_done;
    pid_t pids[MAX_TASKS];
    int bad_message;
} fixture;

#define NONE ((size_t)-1)

static void fixture_init(fixture *f)
{
    memset(f, 0, sizeof *f);
    f->fail_at = f->crash_at = f->exit_at = f->stop_at = NONE;
    f->msg_bytes = 16;
}

/* The message of task t: its index, the worker's pid, then bytes t + i. */
static int run(void *ctx, size_t task, char **msg, size_t *len)
{
    const fixture *f = ctx;
    const pid_t pid = getpid();
    /* SIGKILL, not SIGSEGV: a sanitizer build catches SIGSEGV and turns
     * it into an exit (status 86), while no one can catch SIGKILL, so the
     * worker dies of a signal in every build. */
    if (task == f->crash_at)
        raise(SIGKILL);
    if (task == f->exit_at)
        _exit(7);
    if (task == f->fail_at)
        return 1;
    *len = sizeof task + sizeof pid + f->msg_bytes;
    *msg = malloc(*len);
    memcpy(*msg, &task, sizeof task);
    memcpy(*msg + sizeof task, &pid, sizeof pid);
    for (size_t i = 0; i < f->msg_bytes; i++)
        (*msg)[sizeof task + sizeof pid + i] = (char)(task + i);
    return 0;
}

static int done(void *ctx, size_t task, int status, const char *msg, size_t len)
{
    fixture *f = ctx;
    size_t echoed;
    f->seen[task]++;
    f->status[task] = status;
    f->done_order[f->n_done++] = task;
    if (status != 0)
        return 0;
    if (len != sizeof echoed + sizeof(pid_t) + f->msg_bytes) {
        f->bad_message = 1;
        return 0;
    }
    memcpy(&echoed, msg, sizeof echoed);
    memcpy(&f->pids[task], msg + sizeof echoed, sizeof(pid_t));
    f->bad_message |= echoed != task;
    for (size_t i = 0; i < f->msg_bytes; i++)
        f->bad_message |= msg[sizeof echoed + sizeof(pid_t) + i] != (char)(task + i);
    return task == f->stop_at;
}

static void describe(void *ctx, size_t task, char *buf, size_t size)
{
    (void)ctx;
    snprintf(buf, size, "point number %zu", task);
}

static sweep_jobs_result run_tasks(fixture *f, const double *cost, size_t n, unsigned workers,
                                   char *err, size_t err_size)
{
    const sweep_jobs_calls calls = {f, NULL, run, done, describe};
    return sweep_jobs_run(&calls, cost, n, workers, err, err_size);
}

/* n tasks of equal cost. */
static sweep_jobs_result run_equal(fixture *f, size_t n, unsigned workers, char *err,
                                   size_t err_size)
{
    double cost[MAX_TASKS];
    for (size_t i = 0; i < n; i++)
        cost[i] = 1.0;
    return run_tasks(f, cost, n, workers, err, err_size);
}

/* No worker outlives the call. */
static void assert_no_children(void)
{
    errno = 0;
    ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
    ck_assert_int_eq(errno, ECHILD);
}

START_TEST(order_costliest_first)
{
    const double cost[] = {1, 5, 2, 5, 0.5};
    size_t order[5];
    const size_t want[] = {1, 3, 2, 0, 4};
    ck_assert_int_eq(sweep_jobs_order(cost, 5, order), 0);
    for (size_t i = 0; i < 5; i++)
        ck_assert_uint_eq(order[i], want[i]);
}
END_TEST

/* One worker runs the tasks exactly in the order of their cost. */
START_TEST(one_worker_follows_the_order)
{
    const double cost[] = {3, 1, 4, 1, 5, 9, 2, 6};
    const size_t want[] = {5, 7, 4, 2, 0, 6, 1, 3};
    fixture f;
    char err[256];
    fixture_init(&f);
    ck_assert_int_eq(run_tasks(&f, cost, 8, 1, err, sizeof err), SWEEP_JOBS_OK);
    ck_assert_uint_eq(f.n_done, 8);
    for (size_t i = 0; i < 8; i++)
        ck_assert_uint_eq(f.done_order[i], want[i]);
    ck_assert_int_eq(f.bad_message, 0);
    assert_no_children();
}
END_TEST

/* Every task once, on other processes, at most `workers` of them; large
 * messages (beyond a pipe's buffer) arrive whole. */
START_TEST(every_task_once_with_whole_messages)
{
    double cost[40];
    fixture f;
    char err[256];
    pid_t distinct[40];
    size_t n_distinct = 0;

    fixture_init(&f);
    f.msg_bytes = 200000;
    for (size_t i = 0; i < 40; i++)
        cost[i] = (double)(i % 7);
    ck_assert_int_eq(run_tasks(&f, cost, 40, 3, err, sizeof err), SWEEP_JOBS_OK);
    ck_assert_int_eq(f.bad_message, 0);
    for (size_t i = 0; i < 40; i++) {
        size_t j = 0;
        ck_assert_uint_eq(f.seen[i], 1);
        ck_assert_int_ne(f.pids[i], getpid());
        while (j < n_distinct && distinct[j] != f.pids[i])
            j++;
        if (j == n_distinct)
            distinct[n_distinct++] = f.pids[i];
    }
    ck_assert_uint_le(n_distinct, 3);
    assert_no_children();
}
END_TEST

START_TEST(a_failed_task_stops)
{
    fixture f;
    char err[256];
    fixture_init(&f);
    f.fail_at = 4;
    /* One worker: tasks 0 to 4, then nothing more is handed out. */
    ck_assert_int_eq(run_equal(&f, 20, 1, err, sizeof err), SWEEP_JOBS_STOPPED);
    ck_assert_uint_eq(f.n_done, 5);
    ck_assert_int_eq(f.status[4], 1);
    assert_no_children();
    /* Two: the other may run every other task first (when the failing
     * one is slow to be scheduled), but the failure still stops it. */
    fixture_init(&f);
    f.fail_at = 4;
    ck_assert_int_eq(run_equal(&f, 20, 2, err, sizeof err), SWEEP_JOBS_STOPPED);
    ck_assert_uint_eq(f.seen[4], 1);
    ck_assert_int_eq(f.status[4], 1);
    assert_no_children();
}
END_TEST

START_TEST(done_can_stop)
{
    fixture f;
    char err[256];
    fixture_init(&f);
    f.stop_at = 0;
    ck_assert_int_eq(run_equal(&f, 20, 1, err, sizeof err), SWEEP_JOBS_STOPPED);
    ck_assert_uint_eq(f.n_done, 1);
    assert_no_children();
}
END_TEST

START_TEST(a_crash_is_reported)
{
    fixture f;
    char err[256];
    fixture_init(&f);
    f.crash_at = 6;
    ck_assert_int_eq(run_equal(&f, 10, 2, err, sizeof err), SWEEP_JOBS_DIED);
    ck_assert_uint_eq(f.seen[6], 0);
    ck_assert_msg(strstr(err, "killed by signal 9") != NULL, "%s", err);
    ck_assert_msg(strstr(err, "point number 6") != NULL, "%s", err);
    assert_no_children();
}
END_TEST

START_TEST(an_exit_is_reported)
{
    fixture f;
    char err[256];
    fixture_init(&f);
    f.exit_at = 0;
    ck_assert_int_eq(run_equal(&f, 10, 3, err, sizeof err), SWEEP_JOBS_DIED);
    ck_assert_msg(strstr(err, "exited with status 7 while running point number 0") != NULL,
                  "%s", err);
    assert_no_children();
}
END_TEST

START_TEST(no_tasks)
{
    fixture f;
    char err[256];
    fixture_init(&f);
    ck_assert_int_eq(run_tasks(&f, NULL, 0, 4, err, sizeof err), SWEEP_JOBS_OK);
    ck_assert_uint_eq(f.n_done, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sweep_jobs");
    TCase *tc = tcase_create("core");
    SRunner *r;
    int failed;

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, order_costliest_first);
    tcase_add_test(tc, one_worker_follows_the_order);
    tcase_add_test(tc, every_task_once_with_whole_messages);
    tcase_add_test(tc, a_failed_task_stops);
    tcase_add_test(tc, done_can_stop);
    tcase_add_test(tc, a_crash_is_reported);
    tcase_add_test(tc, an_exit_is_reported);
    tcase_add_test(tc, no_tasks);
    suite_add_tcase(s, tc);
    r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed == 0 ? 0 : 1;
}
