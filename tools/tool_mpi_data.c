/* SPDX-License-Identifier: MIT */
/*
 * tool_mpi_data.c -- tool_mpi_data.h: each split as its shape, then its
 * inputs and labels, broadcast from rank 0 and rebuilt with
 * pcmup_dataset_from_arrays on the other ranks.
 */
#include "tool_mpi_data.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(train_error *e, pcmup_status st, const char *what)
{
    e->status = st;
    snprintf(e->what, sizeof e->what, "%s", what);
    e->detail[0] = '\0';
    return -1;
}

/* One split: rank 0's *set, a new one on the other ranks. */
static int share_split(const tool_mpi *m, pcmup_dataset **set, train_error *e)
{
    uint64_t shape[3] = {0, 0, 0}; /* samples, dim, classes */
    size_t n = 0, dim = 0, classes = 0;
    float *x = NULL;
    int32_t *labels = NULL;
    int ok;

    if (m->rank == 0 && pcmup_dataset_info(*set, &n, &dim, &classes) == PCMUP_OK)
        shape[0] = n, shape[1] = dim, shape[2] = classes;
    if (tool_mpi_bcast(m, shape, sizeof shape) != 0)
        return fail(e, PCMUP_ERR_IO, "sending the data's shape");
    n = (size_t)shape[0], dim = (size_t)shape[1], classes = (size_t)shape[2];
    x = malloc(n * dim * sizeof *x + 1);
    labels = malloc(n * sizeof *labels + 1);
    ok = x != NULL && labels != NULL;
    if (ok && m->rank == 0)
        ok = pcmup_dataset_get_batch(*set, 0, n, x, n * dim, labels) == PCMUP_OK;
    /* Every rank must take part in the broadcasts, or none may. */
    if (tool_mpi_agree(m, !ok) != 0) {
        free(x), free(labels);
        return fail(e, PCMUP_ERR_NOMEM, "copying the data to every rank");
    }
    ok = tool_mpi_bcast(m, x, n * dim * sizeof *x) == 0
         && tool_mpi_bcast(m, labels, n * sizeof *labels) == 0;
    if (ok && m->rank > 0)
        ok = pcmup_dataset_from_arrays(set, n, dim, classes, x, n * dim, labels, NULL)
             == PCMUP_OK;
    free(x), free(labels);
    return ok ? 0 : fail(e, PCMUP_ERR_NOMEM, "copying the data to every rank");
}

int tool_mpi_share_data(const tool_mpi *m, train_data *d, train_error *e)
{
    uint64_t sizes[4];

    if (m->size == 1)
        return 0;
    if (m->rank > 0)
        memset(d, 0, sizeof *d);
    sizes[0] = d->dim, sizes[1] = d->n_classes;
    sizes[2] = d->train_samples, sizes[3] = d->test_samples;
    if (tool_mpi_bcast(m, sizes, sizeof sizes) != 0)
        return fail(e, PCMUP_ERR_IO, "sending the data's shape");
    d->dim = (size_t)sizes[0], d->n_classes = (size_t)sizes[1];
    d->train_samples = (size_t)sizes[2], d->test_samples = (size_t)sizes[3];
    if (share_split(m, &d->train, e) == 0 && share_split(m, &d->test, e) == 0)
        return 0;
    if (m->rank > 0)
        train_data_free(d);
    return -1;
}

int tool_mpi_load_data(const tool_mpi *m, const train_options *o, train_data *d,
                       const char *prog)
{
    train_error e = {0};
    int rc = 0;

    if (m->rank == 0 && train_data_load(d, o, &e) != 0) {
        train_error_report(prog, &e);
        rc = 1;
    }
    if (tool_mpi_agree(m, rc) != 0)
        return 1;
    if (tool_mpi_share_data(m, d, &e) != 0) {
        train_error_report(prog, &e);
        rc = 1;
    }
    if (tool_mpi_agree(m, rc) == 0)
        return 0;
    train_data_free(d);
    return 1;
}
