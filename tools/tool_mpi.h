/* SPDX-License-Identifier: MIT */
/*
 * tool_mpi.h -- the command-line tools' MPI: starting it, who prints, and
 * the few messages the tools exchange. Never part of the library: libpcmup
 * stays free of MPI. Built without MPI (none at configure time, or
 * PCMUP_WITH_MPI=OFF), every program is a job of one rank and the message
 * functions fail; started by a launcher as one of several processes, it
 * refuses to start (each would run the whole job).
 *
 * MPI starts only when a launcher started the program (mpirun, mpiexec,
 * srun: tool_mpi_launched), so a tool run by hand behaves as one built
 * without MPI and pays nothing for it.
 *
 * Who prints: rank 0. On the other ranks of a job of several ranks stdout
 * goes to /dev/null for good, and stderr while tool_mpi_hush is on, for the
 * work every rank does alike (parsing the command line, say), whose
 * messages rank 0 already gives.
 *
 * Ending: tool_mpi_finish when every rank reaches it (MPI_Finalize waits
 * for all of them), tool_mpi_abort when some rank may be busy or waiting:
 * it ends the whole job, through the launcher, with the status given.
 * Nothing here calls exit, or MPI_Abort but as these two say.
 */
#ifndef PCMUP_TOOL_MPI_H
#define PCMUP_TOOL_MPI_H

#include <stddef.h>

typedef struct {
    int rank;    /* 0 .. size - 1                          */
    int size;    /* 1 without MPI or outside a launcher    */
    int started; /* MPI_Init ran, so MPI_Finalize must too */
    int saved_stderr; /* tool_mpi_hush's copy, or -1       */
} tool_mpi;

/* 1 when an MPI launcher started this process (Open MPI's mpirun, a PMI
 * or PMIx launcher such as Slurm's srun), from its environment. */
int tool_mpi_launched(void);

/* 1 when the tools were built with MPI. */
int tool_mpi_available(void);

/* Starts MPI when built with it and launched, with one thread making MPI
 * calls (MPI_THREAD_FUNNELED; other threads may compute); otherwise rank
 * 0 of 1. Returns 0, or -1 with err set. */
int tool_mpi_start(tool_mpi *m, int *argc, char ***argv, char *err, size_t err_size);

/* On ranks other than 0: stderr to /dev/null (on = 1) or back (on = 0). */
void tool_mpi_hush(tool_mpi *m, int on);

/* Every rank's rc, agreed: the largest. Collective; like every wait here,
 * it naps rather than spin. */
int tool_mpi_agree(const tool_mpi *m, int rc);

/* Rank 0's len bytes at buf to every rank. Collective; 0 or -1. */
int tool_mpi_bcast(const tool_mpi *m, void *buf, size_t len);

/* Point-to-point bytes. Waiting sleeps between checks rather than spin
 * (Open MPI's blocking calls poll a processor at full speed, which the
 * ranks computing beside a waiting one would lose). */
int tool_mpi_send(const tool_mpi *m, int dest, int tag, const void *buf, size_t len);
/* 1 when a message with `tag` from any rank waits, with *source and *len
 * set; 0 when none does. Never blocks. */
int tool_mpi_probe(const tool_mpi *m, int tag, int *source, size_t *len);
/* Waits for a message with `tag` as tool_mpi_probe, until `stop` (may be
 * NULL) returns nonzero: then returns 0. */
int tool_mpi_wait(const tool_mpi *m, int tag, int *source, size_t *len, int (*stop)(void));
/* Receives the message tool_mpi_probe found (len bytes). 0 or -1. */
int tool_mpi_recv(const tool_mpi *m, int source, int tag, void *buf, size_t len);

/* A short sleep, for a loop that checks other things besides messages. */
void tool_mpi_nap(void);

/* Every rank ends here together: MPI_Finalize. Returns rc. A rank with
 * rc != 0 waits at most 10 s for the others, then ends the job
 * (MPI_Abort with rc): they may be waiting for it in a collective. */
int tool_mpi_finish(tool_mpi *m, int rc);

/* Ends the whole job with status rc (MPI_Abort) after flushing stdio;
 * without MPI, or in a job of one rank, returns rc for main to return. */
int tool_mpi_abort(tool_mpi *m, int rc);

#endif /* PCMUP_TOOL_MPI_H */
