/* SPDX-License-Identifier: MIT */
/*
 * sweep_mpi.h -- sweep_jobs.h's tasks on the ranks of an MPI job.
 *
 * pcmup-sweep under mpirun: rank 0 is the scheduler (sweep_jobs_queue:
 * the costliest task first, each next task to the next free rank) and the
 * only rank that sees the tasks' messages (`done`); it also runs tasks
 * itself, on a thread of its own, so that R ranks on R processors keep R
 * processors busy (its scheduling sleeps between checks). Ranks 1 .. R - 1
 * run the tasks they are given. A task runs wholly on one rank.
 *
 * Every rank calls sweep_mpi_run with the same calls, costs and n (task i
 * must mean the same on every rank). `init` runs once on every rank
 * (worker = its rank), before its first task; `run` wherever a task goes.
 */
#ifndef PCMUP_SWEEP_MPI_H
#define PCMUP_SWEEP_MPI_H

#include "sweep_jobs.h"
#include "tool_mpi.h"

/* Returns on rank 0 as sweep_jobs_run does, except SWEEP_JOBS_DIED: a
 * rank that dies ends the whole job through the launcher, which reaches
 * rank 0 as SIGTERM (SWEEP_JOBS_INTERRUPTED). On the other ranks, OK once
 * rank 0 says there is nothing left, SWEEP_JOBS_SYSTEM when a message
 * fails. A result other than OK leaves ranks busy or waiting: rank 0's
 * caller must then end the job with tool_mpi_abort (after writing what it
 * has); after OK every rank may tool_mpi_finish. */
sweep_jobs_result sweep_mpi_run(const sweep_jobs_calls *calls, const double *cost, size_t n,
                                const tool_mpi *m, char *err, size_t err_size);

#endif /* PCMUP_SWEEP_MPI_H */
