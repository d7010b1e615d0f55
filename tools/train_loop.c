/* SPDX-License-Identifier: MIT */
/*
 * train_loop.c -- the epoch loop of a run (train_loop.h).
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include "train_loop.h"

#include "train_checkpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>


static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- training ------------------------------------------------------------ */

/* Epochs are numbered over the whole training, a resumed run's
 * continuing from its checkpoint's count ("epoch 2/2"). */
static void print_epoch(const train_options *o, size_t epoch, double seconds,
                        const train_results *r)
{
    char energy[48] = "";
    if (o->algo == PCMUP_RULE_PC)
        snprintf(energy, sizeof energy, "  energy %.6f", r->final_energy);
    fprintf(stderr, "epoch %zu/%zu  train loss %.6f%s  %.0f samples/s  test acc %.4f"
                    "  test loss %.6f\n",
            o->epochs_done + epoch, o->epochs_done + o->epochs, r->train_loss, energy,
            seconds > 0 ? (double)r->train_samples / seconds : 0.0, r->test_acc,
            r->test_loss);
}

/* Every rule trains through pcmup_algo_train_epoch, so a PC run with FPA
 * sees the samples in the same order as the BP run it equals. */
static int run_epoch(train_model *m, const train_data *d, const train_options *o,
                     size_t epoch, int report, train_results *r, train_error *e)
{
    double t0 = now_seconds(), seconds;
    pcmup_status st = pcmup_algo_train_epoch(m->algo, d->train, o->batch, &r->train_loss);

    seconds = now_seconds() - t0;
    if (st == PCMUP_OK && o->algo == PCMUP_RULE_PC)
        st = pcmup_pc_epoch_energy(m->algo, &r->final_energy);
    r->seconds += seconds;
    if (st != PCMUP_OK) {
        e->status = st;
        snprintf(e->what, sizeof e->what, "epoch %zu: training%s", o->epochs_done + epoch,
                 st == PCMUP_ERR_DIVERGED ? " diverged" : " failed");
        return -1;
    }
    if (!report && epoch < o->epochs)
        return 0;
    /* A layer-parallel rank's copy of the other ranks' layers first (a
     * no-op for any other run). */
    st = pcmup_algo_sync_layers(m->algo);
    if (st == PCMUP_OK)
        st = pcmup_algo_evaluate(m->algo, d->test, &r->test_loss, &r->test_acc);
    if (st != PCMUP_OK) {
        e->status = st;
        snprintf(e->what, sizeof e->what, "epoch %zu: evaluating on the test set%s",
                 o->epochs_done + epoch,
                 st == PCMUP_ERR_DIVERGED ? ": training diverged" : " failed");
        return -1;
    }
    if (report)
        print_epoch(o, epoch, seconds, r);
    return 0;
}

/* --save after the last epoch, and after every --checkpoint-every-th
 * epoch of the whole training. */
static int save_due(const train_options *o, size_t epoch)
{
    return o->save != NULL
           && (epoch == o->epochs
               || (o->checkpoint_every != 0
                   && (o->epochs_done + epoch) % o->checkpoint_every == 0));
}

/* With the progress lines, one more says what was saved. */
static int save(const train_model *m, const train_data *d, const train_options *o,
                size_t epoch, int report, train_error *e)
{
    if (train_checkpoint_save(m, d, o, e) != 0)
        return -1;
    if (report)
        fprintf(stderr, "epoch %zu saved to %s\n", o->epochs_done + epoch, o->save);
    return 0;
}

int train_loop_run(train_model *m, const train_data *d, const train_options *o,
                   int report_epochs, train_results *r, train_error *e)
{
    int rc = 0;

    r->train_samples = d->train_samples;
    r->test_samples = d->test_samples;
    /* The buffers faulted in here, outside the first epoch's time. */
    if (o->epochs > 0)
        rc = train_model_reserve(m, o, d->train_samples, e);
    for (size_t epoch = 1; rc == 0 && epoch <= o->epochs; epoch++) {
        rc = run_epoch(m, d, o, epoch, report_epochs, r, e);
        if (rc == 0 && save_due(o, epoch))
            rc = save(m, d, o, epoch, report_epochs, e);
    }
    return rc;
}
