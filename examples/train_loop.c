/*
 * train_loop.c -- the epoch loop of a run (train_loop.h).
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include "train_loop.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "rng.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- the PC epoch loop ------------------------------------------------------ */

/* PC reports each step's energy trace, which pcmup_algo_train_epoch
 * cannot pass on, so the loop runs PC's steps itself: a random order per
 * epoch from its own stream (seeded with S + 1, like the library's
 * shuffling), batches gathered into buffers allocated once. */
typedef struct {
    size_t *order;         /* the epoch's sample order          */
    float *batch_x;        /* (batch, dim)                      */
    int32_t *batch_labels; /* (batch)                           */
    double *trace;         /* the energy trace, T + 1 values    */
    uint64_t rng;
} pc_loop;

static void pc_loop_free(pc_loop *p)
{
    free(p->order);
    free(p->batch_x);
    free(p->batch_labels);
    free(p->trace);
}

static pcmup_status pc_loop_alloc(pc_loop *p, const train_data *d, const train_options *o)
{
    size_t n = d->train_samples, batch = o->batch < n ? o->batch : n;

    p->rng = o->seed + 1u;
    p->order = malloc(n * sizeof *p->order);
    p->batch_x = malloc(batch * d->dim * sizeof *p->batch_x);
    p->batch_labels = malloc(batch * sizeof *p->batch_labels);
    p->trace = malloc((o->inference_steps + 1) * sizeof *p->trace);
    if (p->order == NULL || p->batch_x == NULL || p->batch_labels == NULL
        || p->trace == NULL)
        return PCMUP_ERR_NOMEM;
    return PCMUP_OK;
}

/* The last value of the step's energy trace: F after inference. */
static pcmup_status final_energy(const train_model *m, pc_loop *p, const train_options *o,
                                 double *energy)
{
    size_t capacity = o->inference_steps + 1, count;
    pcmup_status st = pcmup_pc_energy_trace(m->algo, p->trace, capacity, &count);
    if (st == PCMUP_OK)
        *energy = p->trace[(count < capacity ? count : capacity) - 1];
    return st;
}

/* One batch: gathered, stepped, its loss and final energy read. */
static pcmup_status pc_batch(train_model *m, pc_loop *p, const train_data *d,
                             const train_options *o, size_t start, size_t count,
                             double *loss, double *energy)
{
    pcmup_status st = PCMUP_OK;
    for (size_t i = 0; st == PCMUP_OK && i < count; i++)
        st = pcmup_dataset_get_batch(d->train, p->order[start + i], 1,
                                     p->batch_x + i * d->dim, p->batch_labels + i);
    if (st == PCMUP_OK)
        st = pcmup_algo_step(m->algo, p->batch_x, p->batch_labels, count, loss);
    if (st == PCMUP_OK)
        st = final_energy(m, p, o, energy);
    return st;
}

/* One epoch of PC steps. Means weight each batch by its size, like
 * pcmup_algo_train_epoch's mean loss. A failing step ends the run, so
 * unlike the library's epoch it restores nothing. */
static pcmup_status pc_train_epoch(train_model *m, pc_loop *p, const train_data *d,
                                   const train_options *o, train_results *r)
{
    const size_t n = d->train_samples, batch = o->batch < n ? o->batch : n;
    double loss_sum = 0.0, energy_sum = 0.0;

    rng_shuffle(p->order, n, &p->rng);
    for (size_t start = 0; start < n; start += batch) {
        size_t count = n - start < batch ? n - start : batch;
        double loss, energy;
        pcmup_status st = pc_batch(m, p, d, o, start, count, &loss, &energy);
        if (st != PCMUP_OK)
            return st;
        loss_sum += loss * (double)count;
        energy_sum += energy * (double)count;
    }
    r->train_loss = loss_sum / (double)n;
    r->final_energy = energy_sum / (double)n;
    return PCMUP_OK;
}

/* ---- training ------------------------------------------------------------ */

static void print_epoch(const train_options *o, size_t epoch, double seconds,
                        const train_results *r)
{
    char energy[48] = "";
    if (o->algo == PCMUP_ALGO_PC)
        snprintf(energy, sizeof energy, "  energy %.6f", r->final_energy);
    fprintf(stderr, "epoch %zu/%zu  train loss %.6f%s  %.0f samples/s  test acc %.4f"
                    "  test loss %.6f\n",
            epoch, o->epochs, r->train_loss, energy,
            seconds > 0 ? (double)r->train_samples / seconds : 0.0, r->test_acc,
            r->test_loss);
}

static int run_epoch(train_model *m, pc_loop *p, const train_data *d,
                     const train_options *o, size_t epoch, int report, train_results *r,
                     train_error *e)
{
    double t0 = now_seconds(), seconds;
    pcmup_status st = o->algo == PCMUP_ALGO_PC
                          ? pc_train_epoch(m, p, d, o, r)
                          : pcmup_algo_train_epoch(m->algo, d->train, o->batch,
                                                   &r->train_loss);

    seconds = now_seconds() - t0;
    r->seconds += seconds;
    if (st != PCMUP_OK) {
        e->status = st;
        snprintf(e->what, sizeof e->what, "epoch %zu: training%s", epoch,
                 st == PCMUP_ERR_DIVERGED ? " diverged" : " failed");
        return -1;
    }
    if (!report && epoch < o->epochs)
        return 0;
    st = pcmup_algo_evaluate(m->algo, d->test, &r->test_loss, &r->test_acc);
    if (st != PCMUP_OK) {
        e->status = st;
        snprintf(e->what, sizeof e->what, "evaluating on the test set");
        return -1;
    }
    if (report)
        print_epoch(o, epoch, seconds, r);
    return 0;
}

int train_loop_run(train_model *m, const train_data *d, const train_options *o,
                   int report_epochs, train_results *r, train_error *e)
{
    pc_loop p = {0};
    int rc = 0;

    r->train_samples = d->train_samples;
    r->test_samples = d->test_samples;
    if (o->algo == PCMUP_ALGO_PC && pc_loop_alloc(&p, d, o) != PCMUP_OK) {
        e->status = PCMUP_ERR_NOMEM;
        snprintf(e->what, sizeof e->what, "allocating the PC loop's buffers");
        rc = -1;
    }
    for (size_t epoch = 1; rc == 0 && epoch <= o->epochs; epoch++)
        rc = run_epoch(m, &p, d, o, epoch, report_epochs, r, e);
    pc_loop_free(&p);
    return rc;
}
