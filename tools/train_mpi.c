/* SPDX-License-Identifier: MIT */
/*
 * train_mpi.c -- train_mpi.h. Blocking collectives, unlike tool_mpi.c's
 * napping waits: every rank computes the same share of every step, so a
 * rank waits only for the slowest's last few operations, and a nap would
 * add its length to every one of the step's many reductions.
 */
#include "train_mpi.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

/* Sums go in slices of at most 1 MiB of floats. Open MPI's allreduce takes
 * a temporary buffer the size of its message: above glibc's largest mmap
 * threshold (32 MiB) that is a fresh mapping per call, faulted in page by
 * page. Measured with 2 ranks on the 2-core machine (shared memory), 80 MB
 * (BP at width 4096) took 240 ms in one call and 11 ms in 1 MiB slices;
 * 7.4 MB took 0.8 ms either way. Each element is still summed by one
 * allreduce over the same ranks, so a result stays fixed for a fixed
 * number of ranks. The slice also keeps counts within MPI's int. */
enum { SUM_SLICE_BYTES = 1 << 20 };

static int sum(void *user, void *buf, size_t count, int type)
{
    train_mpi_stats *s = user;
    const MPI_Datatype t = type == PCMUP_REDUCE_FLOAT64 ? MPI_DOUBLE : MPI_FLOAT;
    const size_t size = type == PCMUP_REDUCE_FLOAT64 ? sizeof(double) : sizeof(float);
    char *p = buf;

    s->calls++;
    s->bytes += (uint64_t)(count * size);
    while (count > 0) {
        const size_t slice = SUM_SLICE_BYTES / size;
        const size_t k = count < slice ? count : slice;
        if (MPI_Allreduce(MPI_IN_PLACE, p, (int)k, t, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS)
            return 1;
        p += k * size;
        count -= k;
    }
    return 0;
}

/* Every rank's count first (they may differ: the shares of a batch), then
 * the floats, in rank order. */
static int gather(void *user, const float *mine, size_t count_mine, float *all,
                  size_t all_count)
{
    train_mpi_stats *s = user;
    int n = 0, rc = 1, mine_i = (int)count_mine;
    int *counts = NULL, *offsets = NULL;
    size_t total = 0;

    s->calls++;
    s->bytes += (uint64_t)(all_count * sizeof(float));
    if (count_mine > (size_t)INT_MAX || MPI_Comm_size(MPI_COMM_WORLD, &n) != MPI_SUCCESS)
        return 1;
    counts = malloc((size_t)n * sizeof *counts);
    offsets = malloc((size_t)n * sizeof *offsets);
    if (counts != NULL && offsets != NULL
        && MPI_Allgather(&mine_i, 1, MPI_INT, counts, 1, MPI_INT, MPI_COMM_WORLD)
               == MPI_SUCCESS) {
        for (int r = 0; r < n; r++) {
            offsets[r] = (int)total;
            total += (size_t)counts[r];
        }
        /* The offsets are int too: a larger whole is refused, on every
         * rank alike (each has every count). */
        if (total == all_count && total <= (size_t)INT_MAX)
            rc = MPI_Allgatherv(mine, mine_i, MPI_FLOAT, all, counts, offsets, MPI_FLOAT,
                                MPI_COMM_WORLD) != MPI_SUCCESS;
    }
    free(counts);
    free(offsets);
    return rc;
}

pcmup_status train_mpi_set_reducer(const tool_mpi *m, pcmup_algo *algo,
                                   train_mpi_stats *stats)
{
    pcmup_reducer r = PCMUP_REDUCER_INIT((size_t)m->rank, (size_t)m->size, sum, gather, stats);
    memset(stats, 0, sizeof *stats);
    return pcmup_algo_set_reducer(algo, &r);
}

/* ---- layer-parallel -------------------------------------------------------- */

/* Messages travelling up the layers (to rank + 1) and down (to rank - 1):
 * two tags, so the two directions between a pair never match each other. */
enum { TAG_UP = 71, TAG_DOWN = 72 };

/* Floats to a neighbour in slices of at most INT_MAX (MPI counts are int):
 * posts the receives and sends of one slice each way, then waits. */
static int exchange(void *user, const float *to_prev, size_t to_prev_count, float *from_prev,
                    size_t from_prev_count, const float *to_next, size_t to_next_count,
                    float *from_next, size_t from_next_count)
{
    train_mpi_stats *s = user;
    int rank = 0;
    s->exchanges++;
    s->sent += (uint64_t)((to_prev_count + to_next_count) * sizeof(float));
    if (MPI_Comm_rank(MPI_COMM_WORLD, &rank) != MPI_SUCCESS)
        return 1;
    for (size_t at = 0;; at += (size_t)INT_MAX) {
        MPI_Request req[4];
        int n = 0;
        const size_t slice[4] = {from_prev_count, from_next_count, to_prev_count,
                                 to_next_count};
        size_t k[4];
        for (int i = 0; i < 4; i++)
            k[i] = slice[i] > at ? (slice[i] - at < (size_t)INT_MAX ? slice[i] - at
                                                                     : (size_t)INT_MAX)
                                 : 0;
        if (k[0] + k[1] + k[2] + k[3] == 0)
            return 0;
        int rc = MPI_SUCCESS;
        if (k[0])
            rc |= MPI_Irecv(from_prev + at, (int)k[0], MPI_FLOAT, rank - 1, TAG_UP,
                            MPI_COMM_WORLD, &req[n++]);
        if (k[1])
            rc |= MPI_Irecv(from_next + at, (int)k[1], MPI_FLOAT, rank + 1, TAG_DOWN,
                            MPI_COMM_WORLD, &req[n++]);
        if (k[2])
            rc |= MPI_Isend(to_prev + at, (int)k[2], MPI_FLOAT, rank - 1, TAG_DOWN,
                            MPI_COMM_WORLD, &req[n++]);
        if (k[3])
            rc |= MPI_Isend(to_next + at, (int)k[3], MPI_FLOAT, rank + 1, TAG_UP,
                            MPI_COMM_WORLD, &req[n++]);
        if (rc != MPI_SUCCESS || MPI_Waitall(n, req, MPI_STATUSES_IGNORE) != MPI_SUCCESS)
            return 1;
    }
}

/* Layers 1..n cut into `parts` blocks as evenly as possible, by dynamic
 * programming over the cuts: best[j * w + p] is the largest block of the
 * best cut of layers 1..j into p blocks, cut[j * w + p] where its last
 * block starts (less one). O(R L^2) for L layers, R ranks: nothing. */
int train_mpi_block(const size_t *params, size_t n_layers, size_t ranks, size_t rank,
                    size_t *first, size_t *last)
{
    const size_t w = ranks + 1, n = (n_layers + 1) * w;
    size_t *best = malloc(n * sizeof *best), *cut = malloc(n * sizeof *cut);
    size_t *prefix = malloc((n_layers + 1) * sizeof *prefix);
    if (best == NULL || cut == NULL || prefix == NULL || ranks < 1 || ranks > n_layers) {
        free(best), free(cut), free(prefix);
        return -1;
    }
    prefix[0] = 0;
    for (size_t l = 1; l <= n_layers; l++)
        prefix[l] = prefix[l - 1] + params[l - 1];
    for (size_t j = 1; j <= n_layers; j++) {
        best[j * w + 1] = prefix[j];
        cut[j * w + 1] = 0;
        for (size_t p = 2; p <= ranks && p <= j; p++) {
            best[j * w + p] = SIZE_MAX;
            for (size_t c = p - 1; c < j; c++) {
                const size_t tail = prefix[j] - prefix[c], head = best[c * w + p - 1];
                const size_t worst = head > tail ? head : tail;
                if (worst < best[j * w + p]) {
                    best[j * w + p] = worst;
                    cut[j * w + p] = c;
                }
            }
        }
    }
    /* Walk the cuts back from the last block to this rank's. */
    size_t end = n_layers;
    for (size_t p = ranks; p > rank + 1; p--)
        end = cut[end * w + p];
    *last = end;
    *first = cut[end * w + rank + 1] + 1;
    free(best), free(cut), free(prefix);
    return 0;
}

pcmup_status train_mpi_set_layer_split(const tool_mpi *m, pcmup_algo *algo, pcmup_net *net,
                                       train_mpi_stats *stats, size_t *first, size_t *last)
{
    size_t n_layers = 0, out = 0, in = 0;
    pcmup_status st = pcmup_net_n_layers(net, &n_layers);
    if (st != PCMUP_OK)
        return st;
    size_t *params = malloc(n_layers * sizeof *params);
    if (params == NULL)
        return PCMUP_ERR_NOMEM;
    for (size_t l = 1; l <= n_layers && st == PCMUP_OK; l++) {
        st = pcmup_net_layer_shape(net, l, &out, &in);
        params[l - 1] = out * in;
    }
    if (st == PCMUP_OK
        && train_mpi_block(params, n_layers, (size_t)m->size, (size_t)m->rank, first, last)
               != 0)
        st = PCMUP_ERR_NOMEM;
    if (st == PCMUP_OK) {
        pcmup_layer_split s = PCMUP_LAYER_SPLIT_INIT(*first, *last, exchange, sum, stats);
        memset(stats, 0, sizeof *stats);
        st = pcmup_algo_set_layer_split(algo, &s);
    }
    free(params);
    return st;
}

uint64_t train_mpi_total(uint64_t value)
{
    unsigned long long v = value, total = 0;
    if (MPI_Allreduce(&v, &total, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, MPI_COMM_WORLD)
        != MPI_SUCCESS)
        return 0;
    return total;
}
