/* SPDX-License-Identifier: MIT */
/*
 * train_loop.h -- training a built model for --epochs and evaluating it,
 * shared by pcmup-train and pcmup-sweep.
 *
 * Every rule trains an epoch at a time (pcmup_algo_train_epoch; PC's mean
 * energy after inference comes from pcmup_pc_epoch_energy), so the two
 * tools get the same numbers for the same options, and PC with FPA sees
 * the samples in BP's order.
 */
#ifndef PCMUP_TRAIN_LOOP_H
#define PCMUP_TRAIN_LOOP_H

#include "train_options.h"
#include "train_setup.h"

/* Trains m on d->train for o->epochs and evaluates it on d->test, filling
 * every field of *r but `diverged`. With report_epochs, evaluates after
 * every epoch and prints one progress line per epoch on stderr ("epoch
 * 1/3  train loss ..."); without, evaluates once at the end and prints
 * nothing. Returns 0, or -1 with *e filled: e->status is
 * PCMUP_ERR_DIVERGED when an epoch diverged (a non-finite loss or
 * weight) or the evaluation's loss is not finite, and e->what names the
 * epoch. Epochs are numbered from o->epochs_done + 1 (a resumed run). With
 * o->save, writes the checkpoint after the last epoch and every
 * o->checkpoint_every-th (train_checkpoint_save; a failure ends the run
 * with *e naming the file), and with report_epochs says so on stderr
 * ("epoch 2 saved to FILE"). */
int train_loop_run(train_model *m, const train_data *d, const train_options *o,
                   int report_epochs, train_results *r, train_error *e);

#endif /* PCMUP_TRAIN_LOOP_H */
