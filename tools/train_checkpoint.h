/* SPDX-License-Identifier: MIT */
/*
 * train_checkpoint.h -- pcmup-train's checkpoints: --save, --resume and
 * --checkpoint-every.
 *
 * A checkpoint is the library's (pcmup_algo_save): the network, the
 * parameterization, the rule with every setting, its state, random
 * stream and counters. pcmup-train adds, as "user.pcmup-train.*"
 * metadata, what decides a run but is the tool's, not the library's: the
 * data (which set, its directory, the limits, standardisation, the
 * sample counts) and the batch size. Nothing in it depends on the time or
 * the machine, so two equivalent runs write the same bytes.
 *
 * Resuming takes every one of these from the checkpoint: a flag on the
 * command line that says otherwise is a usage error (the run would not be
 * the one it continues), a flag that agrees is accepted. The model is
 * the checkpoint's own (pcmup_net_create_from_checkpoint and
 * pcmup_algo_create_from_checkpoint), so training goes on exactly as if
 * it had not stopped.
 */
#ifndef PCMUP_TRAIN_CHECKPOINT_H
#define PCMUP_TRAIN_CHECKPOINT_H

#include "pcmup.h"
#include "train_options.h"
#include "train_setup.h"

/* Writes m's algorithm to o->save with the tool's metadata. 0, or -1
 * with *e filled (naming the file). */
int train_checkpoint_save(const train_model *m, const train_data *d, const train_options *o,
                          train_error *e);

/* What train_resume_options returns. */
typedef enum {
    TRAIN_RESUME_OK = 0,
    TRAIN_RESUME_FAILED = 1, /* *e filled: a runtime failure (exit 1)          */
    TRAIN_RESUME_USAGE = 2   /* a usage error was printed on stderr (exit 2)   */
} train_resume_result;

/* Opens o->resume into *ck and replaces the model, data and training
 * options of *o by the checkpoint's, after checking that every flag the
 * command line gave agrees with them; o->epochs_done is the checkpoint's
 * epoch count. *o then points into *ck (the --net description, the data
 * directory): free *ck after the last use of *o. On failure *ck is NULL. */
train_resume_result train_resume_options(train_options *o, pcmup_checkpoint **ck,
                                         const char *prog, train_error *e);

/* The checkpoint's network and algorithm, for data of dimension dim and
 * n_classes classes (and d->train_samples samples when the checkpoint
 * says how many it trained on). 0, or -1 with *e filled and *m empty. */
int train_resume_model(train_model *m, const pcmup_checkpoint *ck, const train_options *o,
                       const train_data *d, train_error *e);

#endif /* PCMUP_TRAIN_CHECKPOINT_H */
