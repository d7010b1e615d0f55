/* SPDX-License-Identifier: MIT */
/*
 * tool_mpi.c -- tool_mpi.h, with MPI (PCMUP_WITH_MPI) or without it.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */

#include "tool_mpi.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#ifdef PCMUP_WITH_MPI
#include <mpi.h>
#endif

int tool_mpi_launched(void)
{
    /* Open MPI's mpirun; PMIx launchers (Open MPI 5, srun --mpi=pmix);
     * PMI-1/2 launchers (MPICH's Hydra, srun --mpi=pmi2). A Slurm batch
     * script alone sets none of them, so it stays one process. */
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK",
                                       "PMI_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (getenv(vars[i]) != NULL)
            return 1;
    return 0;
}

/* stdout (fd 1) or stderr (fd 2) to /dev/null. */
static void to_null(int fd)
{
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) {
        dup2(null, fd);
        close(null);
    }
}

void tool_mpi_hush(tool_mpi *m, int on)
{
    if (m->rank == 0)
        return;
    fflush(stderr);
    if (on && m->saved_stderr < 0) {
        m->saved_stderr = dup(2);
        to_null(2);
    } else if (!on && m->saved_stderr >= 0) {
        dup2(m->saved_stderr, 2);
        close(m->saved_stderr);
        m->saved_stderr = -1;
    }
}

static void nap_for(long ns)
{
    const struct timespec ts = {0, ns};
    nanosleep(&ts, NULL);
}

void tool_mpi_nap(void)
{
    /* 1 ms: a thousandth of a small point's time, and rank 0's scheduling
     * costs about 1 % of a processor. */
    nap_for(1000000);
}

#ifdef PCMUP_WITH_MPI

int tool_mpi_available(void)
{
    return 1;
}

int tool_mpi_start(tool_mpi *m, int *argc, char ***argv, char *err, size_t err_size)
{
    int provided;

    *m = (tool_mpi){0, 1, 0, -1};
    if (!tool_mpi_launched())
        return 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        snprintf(err, err_size, "MPI_Init_thread failed");
        return -1;
    }
    m->started = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &m->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &m->size);
    if (provided < MPI_THREAD_FUNNELED) {
        snprintf(err, err_size, "the MPI library gives no MPI_THREAD_FUNNELED");
        return -1;
    }
    if (m->size > 1 && m->rank > 0) {
        fflush(stdout);
        to_null(1);
    }
    return 0;
}

/* Waits for a non-blocking call, napping, for at most `limit_ns`: 0 done,
 * 1 timed out, -1 error. A blocking collective would poll at full speed
 * while rank 0 loads the data, say. */
static int complete_within(MPI_Request *req, long long limit_ns)
{
    long long waited = 0;
    long ns = 100000;
    int done = 0;
    while (waited < limit_ns) {
        if (MPI_Test(req, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS)
            return -1;
        if (done)
            return 0;
        /* Longer and longer naps, up to 4 ms: these waits are for a
         * whole load, or the last rank's last point, and what they wait
         * for is one message. */
        nap_for(ns);
        waited += ns;
        ns = ns < 4000000 ? 2 * ns : ns;
    }
    return 1;
}

/* complete_within, without a limit: 0 done, -1 error. */
static int complete(MPI_Request *req)
{
    return complete_within(req, LLONG_MAX) == 0 ? 0 : -1;
}

int tool_mpi_agree(const tool_mpi *m, int rc)
{
    int all = rc;
    MPI_Request req;
    if (m->size > 1
        && (MPI_Iallreduce(&rc, &all, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD, &req)
                != MPI_SUCCESS
            || complete(&req) != 0))
        return rc != 0 ? rc : 1;
    return all;
}

/* MPI counts are ints: large buffers go in pieces of 1 GiB. */
#define CHUNK ((size_t)1 << 30)

int tool_mpi_bcast(const tool_mpi *m, void *buf, size_t len)
{
    char *p = buf;
    MPI_Request req;

    if (m->size == 1)
        return 0;
    /* First wait, napping, for every rank to be here (rank 0 may still be
     * loading); then the blocking broadcast, which polls but is short. A
     * non-blocking one would move only when tested: napping between
     * tests made a 31 MB broadcast take seconds. */
    if (MPI_Ibarrier(MPI_COMM_WORLD, &req) != MPI_SUCCESS || complete(&req) != 0)
        return -1;
    for (size_t done = 0; done < len; done += CHUNK) {
        size_t k = len - done < CHUNK ? len - done : CHUNK;
        if (MPI_Bcast(p + done, (int)k, MPI_BYTE, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
            return -1;
    }
    return 0;
}

int tool_mpi_send(const tool_mpi *m, int dest, int tag, const void *buf, size_t len)
{
    (void)m;
    if (len > INT_MAX)
        return -1;
    return MPI_Send(buf, (int)len, MPI_BYTE, dest, tag, MPI_COMM_WORLD) == MPI_SUCCESS ? 0
                                                                                        : -1;
}

int tool_mpi_probe(const tool_mpi *m, int tag, int *source, size_t *len)
{
    MPI_Status st;
    int flag = 0, count = 0;
    (void)m;
    MPI_Iprobe(MPI_ANY_SOURCE, tag, MPI_COMM_WORLD, &flag, &st);
    if (!flag)
        return 0;
    MPI_Get_count(&st, MPI_BYTE, &count);
    *source = st.MPI_SOURCE;
    *len = (size_t)count;
    return 1;
}

int tool_mpi_wait(const tool_mpi *m, int tag, int *source, size_t *len, int (*stop)(void))
{
    while (!tool_mpi_probe(m, tag, source, len)) {
        if (stop != NULL && stop())
            return 0;
        tool_mpi_nap();
    }
    return 1;
}

int tool_mpi_recv(const tool_mpi *m, int source, int tag, void *buf, size_t len)
{
    (void)m;
    if (len > INT_MAX)
        return -1;
    return MPI_Recv(buf, (int)len, MPI_BYTE, source, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE)
                   == MPI_SUCCESS
               ? 0
               : -1;
}

/* How long a failing rank waits at the end for the others. A failure every
 * rank meets (a diverged step, a refused option) brings them here within
 * a step of each other; one rank's own (rank 0 could not write a
 * checkpoint, say) leaves the others waiting inside a collective of the
 * next step, for good: then the wait runs out and the job is ended. */
#define FAILED_FINISH_WAIT_NS 10000000000LL

int tool_mpi_finish(tool_mpi *m, int rc)
{
    MPI_Request req;
    if (m->started) {
        fflush(NULL);
        /* MPI_Finalize waits for the last rank polling (about a tenth of a
         * processor, measured); a rank done early naps here instead. */
        if (m->size > 1 && MPI_Ibarrier(MPI_COMM_WORLD, &req) == MPI_SUCCESS) {
            if (rc == 0)
                complete(&req);
            else if (complete_within(&req, FAILED_FINISH_WAIT_NS) != 0)
                MPI_Abort(MPI_COMM_WORLD, rc);
        }
        MPI_Finalize();
        m->started = 0;
    }
    return rc;
}

int tool_mpi_abort(tool_mpi *m, int rc)
{
    if (m->started && m->size > 1) {
        fflush(NULL);
        MPI_Abort(MPI_COMM_WORLD, rc);
    }
    return tool_mpi_finish(m, rc);
}

#else /* no MPI: one rank */

int tool_mpi_available(void)
{
    return 0;
}

int tool_mpi_start(tool_mpi *m, int *argc, char ***argv, char *err, size_t err_size)
{
    /* Several copies started by a launcher would each run the whole job
     * (a sweep's every point, into the same file): refused. */
    static const char *const sizes[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"};
    (void)argc, (void)argv;
    *m = (tool_mpi){0, 1, 0, -1};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        const char *v = getenv(sizes[i]);
        if (v != NULL && atoi(v) > 1) {
            snprintf(err, err_size, "built without MPI, but started as one of %s "
                     "processes by an MPI launcher; rebuild with MPI (libopenmpi-dev), "
                     "or run one process", v);
            return -1;
        }
    }
    return 0;
}

int tool_mpi_agree(const tool_mpi *m, int rc)
{
    (void)m;
    return rc;
}

int tool_mpi_bcast(const tool_mpi *m, void *buf, size_t len)
{
    (void)m, (void)buf, (void)len;
    return 0;
}

int tool_mpi_send(const tool_mpi *m, int dest, int tag, const void *buf, size_t len)
{
    (void)m, (void)dest, (void)tag, (void)buf, (void)len;
    return -1;
}

int tool_mpi_probe(const tool_mpi *m, int tag, int *source, size_t *len)
{
    (void)m, (void)tag, (void)source, (void)len;
    return 0;
}

int tool_mpi_wait(const tool_mpi *m, int tag, int *source, size_t *len, int (*stop)(void))
{
    (void)m, (void)tag, (void)source, (void)len, (void)stop;
    return 0;
}

int tool_mpi_recv(const tool_mpi *m, int source, int tag, void *buf, size_t len)
{
    (void)m, (void)source, (void)tag, (void)buf, (void)len;
    return -1;
}

int tool_mpi_finish(tool_mpi *m, int rc)
{
    (void)m;
    return rc;
}

int tool_mpi_abort(tool_mpi *m, int rc)
{
    (void)m;
    return rc;
}

#endif
