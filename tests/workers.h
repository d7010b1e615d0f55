/* SPDX-License-Identifier: MIT */
/*
 * workers.h -- threads as workers: what test_data_parallel.c and
 * test_layer_parallel.c share to stand in for MPI ranks inside one
 * process. A group of worker threads meets through pcmup's callbacks:
 *
 *   tw_sum       a sum_fn: a barrier, then every worker adds all the
 *                buffers in rank order into a copy of its own and writes
 *                it back once all have read (MPI_Allreduce: the same bits
 *                everywhere);
 *   tw_gather    a gather_fn: every worker copies every worker's floats,
 *                in rank order (MPI_Allgatherv);
 *   tw_exchange  an exchange_fn: mailboxes, one per direction of each
 *                link between neighbours; a send copies its floats into
 *                the receiver's queue and never waits, a receive waits
 *                for its message and checks its length (MPI's
 *                Isend/Irecv/Waitall, buffered).
 *
 * Each callback's user pointer is the worker's tw_worker. A callback can
 * be made to fail (tw_worker.fail_at); a failure breaks the whole group:
 * every callback after it, and every wait in progress, fails too, as an
 * aborting MPI job would. Worker threads never call Check: the tests
 * record statuses and the main thread asserts.
 */
#ifndef PCMUP_TEST_WORKERS_H
#define PCMUP_TEST_WORKERS_H

#include <pthread.h>

#include "testutil.h"

#define TW_MAX_WORKERS 4

typedef struct tw_message tw_message;

typedef struct {
    pthread_mutex_t lock; /* guards everything below but n_workers */
    pthread_cond_t changed;
    size_t n_workers;
    /* box[k][0]: messages to worker k from k - 1; box[k][1]: from k + 1. */
    tw_message *box[TW_MAX_WORKERS][2];
    /* Every worker's buffer (and float count, for the gather); they are
     * written before a barrier and read after it. */
    const void *bufs[TW_MAX_WORKERS];
    size_t counts[TW_MAX_WORKERS];
    /* The barrier: who has arrived, and how many times all have. */
    size_t arrived;
    unsigned long generation;
    int broken; /* a callback failed: every later one fails too */
} tw_group;

typedef struct {
    tw_group *g;
    size_t rank;
    size_t calls;   /* callback calls so far (all kinds) */
    size_t fail_at; /* 1-based call that returns 42; 0: none */
} tw_worker;

void tw_group_init(tw_group *g, size_t n_workers);
void tw_group_destroy(tw_group *g);

/* The callbacks (pcmup_reducer's sum_fn and gather_fn, pcmup_layer_split's
 * exchange_fn). They return 0; 42 at the call fail_at; 99 once the group
 * is broken; 7, 8 or 9 for what only a library bug would pass them (an
 * unknown type, counts that do not add up or that have no neighbour, a
 * message of the wrong length). */
int tw_sum(void *user, void *buf, size_t count, int type);
int tw_gather(void *user, const float *mine, size_t count_mine, float *all, size_t all_count);
int tw_exchange(void *user, const float *to_prev, size_t to_prev_count, float *from_prev,
                size_t from_prev_count, const float *to_next, size_t to_next_count,
                float *from_next, size_t from_next_count);

/* fn(item k) for every k < n of the array items (elements of item_size
 * bytes), each in its own thread, joined. */
void tw_in_threads(void *(*fn)(void *), void *items, size_t item_size, size_t n);

/* The tests' synthetic data: n samples of d_in uniform floats (seed 11)
 * and labels (7 i + 3) mod n_classes, which every class gets. */
void tw_make_data(float *x, int32_t *labels, size_t n, size_t d_in, size_t n_classes);

/* Copies of layers 1..n_layers' weights, for checking that a failed call
 * changed nothing: the first layer whose weights differ from the copy,
 * 0 if none. */
float **tw_weights_copy(const pcmup_net *net, size_t n_layers);
size_t tw_weights_changed(const pcmup_net *net, float *const *copy, size_t n_layers);
void tw_weights_free(float **copy, size_t n_layers);

#endif
