/* SPDX-License-Identifier: MIT */
/*
 * tool_mpi_data.h -- rank 0's loaded data set, sent to every rank of an
 * MPI job, so that only rank 0 reads the data files (a cluster's other
 * nodes need not see them) and every rank trains on the same floats.
 */
#ifndef PCMUP_TOOL_MPI_DATA_H
#define PCMUP_TOOL_MPI_DATA_H

#include "tool_mpi.h"
#include "train_setup.h"

/* Collective. On rank 0, *d is loaded (train_data_load); on the others it
 * is filled with a copy of it, bit for bit. Returns 0, or -1 with *e
 * filled (on the rank that failed: out of memory) and *d empty there. */
int tool_mpi_share_data(const tool_mpi *m, train_data *d, train_error *e);

/* The options' data on every rank: loaded by rank 0 (train_data_load),
 * then shared. A failure is reported once as train_error_report(prog, ..)
 * does, by the rank that failed. Returns 0 or 1, the same on every rank
 * (collective), with *d empty after 1. */
int tool_mpi_load_data(const tool_mpi *m, const train_options *o, train_data *d,
                       const char *prog);

#endif /* PCMUP_TOOL_MPI_DATA_H */
