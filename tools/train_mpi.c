/* SPDX-License-Identifier: MIT */
/*
 * train_mpi.c -- train_mpi.h. Blocking collectives, unlike tool_mpi.c's
 * napping waits: every rank computes the same share of every step, so a
 * rank waits only for the slowest's last few operations, and a nap would
 * add its length to every one of the step's many reductions.
 */
#include "train_mpi.h"

#include <limits.h>
#include <stdlib.h>

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
    stats->bytes = 0;
    stats->calls = 0;
    return pcmup_algo_set_reducer(algo, &r);
}
