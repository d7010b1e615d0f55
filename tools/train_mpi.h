/* SPDX-License-Identifier: MIT */
/*
 * train_mpi.h -- pcmup-train's data-parallel reducer over MPI: the two
 * callbacks of pcmup_reducer (pcmup.h, section 5) as MPI_Allreduce and
 * MPI_Allgatherv on MPI_COMM_WORLD, counting the bytes they move. Built
 * only with MPI (tools/CMakeLists.txt); the library itself links no MPI.
 */
#ifndef PCMUP_TRAIN_MPI_H
#define PCMUP_TRAIN_MPI_H

#include <stddef.h>
#include <stdint.h>

#include "pcmup.h"
#include "tool_mpi.h"

/* The reducer's user data: must outlive the algorithm's use of it. The
 * counts are this rank's, and the same on every rank (the calls are
 * collective, with the same counts). */
typedef struct {
    uint64_t bytes; /* sum_fn: count x element size; gather_fn: all_count floats */
    uint64_t calls; /* callback calls                                             */
} train_mpi_stats;

/* Makes `algo` rank m->rank of m->size data-parallel workers, with *stats
 * zeroed and counting. PCMUP_OK or the status of pcmup_algo_set_reducer
 * (its message in pcmup_last_error). */
pcmup_status train_mpi_set_reducer(const tool_mpi *m, pcmup_algo *algo,
                                   train_mpi_stats *stats);

#endif /* PCMUP_TRAIN_MPI_H */
