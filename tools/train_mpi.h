/* SPDX-License-Identifier: MIT */
/*
 * train_mpi.h -- pcmup-train's data-parallel reducer over MPI: the two
 * callbacks of pcmup_reducer (pcmup.h, section 5) as MPI_Allreduce and
 * MPI_Allgatherv on MPI_COMM_WORLD, counting the bytes they move; and
 * its layer split (--layer-parallel), whose exchange_fn sends to and
 * receives from the neighbouring ranks. Built only with MPI
 * (tools/CMakeLists.txt); the library itself links no MPI.
 */
#ifndef PCMUP_TRAIN_MPI_H
#define PCMUP_TRAIN_MPI_H

#include <stddef.h>
#include <stdint.h>

#include "pcmup.h"
#include "tool_mpi.h"

/* The callbacks' user data: must outlive the algorithm's use of it. The
 * counts are this rank's; bytes and calls are the same on every rank (the
 * calls are collective, with the same counts), sent differs between the
 * ranks of a layer-parallel job (the end blocks have one neighbour). */
typedef struct {
    uint64_t bytes; /* sum_fn: count x element size; gather_fn: all_count floats */
    uint64_t calls; /* sum_fn and gather_fn calls                                 */
    uint64_t sent;  /* layer-parallel exchange_fn: floats sent x 4                */
    uint64_t exchanges; /* exchange_fn calls                                      */
} train_mpi_stats;

/* Makes `algo` rank m->rank of m->size data-parallel workers, with *stats
 * zeroed and counting. PCMUP_OK or the status of pcmup_algo_set_reducer
 * (its message in pcmup_last_error). */
pcmup_status train_mpi_set_reducer(const tool_mpi *m, pcmup_algo *algo,
                                   train_mpi_stats *stats);

/* The block of layers rank `rank` of `ranks` owns: contiguous blocks in
 * rank order, one layer at least each, chosen so that the largest
 * block's parameter count (params[l - 1] for layer l) is as small as it
 * can be -- what bounds an inference iteration's time. 0, or -1 when
 * ranks is not in 1..n_layers or memory runs out. */
int train_mpi_block(const size_t *params, size_t n_layers, size_t ranks, size_t rank,
                     size_t *first, size_t *last);

/* Makes `algo` the owner of rank m->rank's block of a layer-parallel
 * group of m->size ranks (pcmup_algo_set_layer_split), exchanging with
 * ranks m->rank - 1 and + 1 (MPI_Irecv, MPI_Isend, MPI_Waitall) and
 * summing with MPI_Allreduce, *stats zeroed and counting; *first and
 * *last receive the block. PCMUP_OK or the status of
 * pcmup_algo_set_layer_split (its message in pcmup_last_error). */
pcmup_status train_mpi_set_layer_split(const tool_mpi *m, pcmup_algo *algo, pcmup_net *net,
                                       train_mpi_stats *stats, size_t *first, size_t *last);

/* `value` summed over the ranks (MPI_Allreduce); 0 when MPI fails. */
uint64_t train_mpi_total(uint64_t value);

#endif /* PCMUP_TRAIN_MPI_H */
