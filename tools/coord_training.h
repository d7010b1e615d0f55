/* SPDX-License-Identifier: MIT */
/*
 * coord_training.h -- pcmup-coord --training: Delta h across a real
 * training run (the paper's Figure 4, right).
 *
 * The coordinate check proper (pcmup_coord_check) repeats steps on one
 * batch; this mode trains as pcmup-train does instead -- the training set
 * of the options (FashionMNIST or --synthetic, with --train-limit and
 * --standardize), shuffled minibatches of --batch over as many epochs as
 * the steps need -- and at chosen minibatch steps t measures, per layer
 * l = 1..L, mean |h_l(t) - h_l(0)| and mean |h_l(t)| on a fixed probe
 * batch: the first `probe` test samples (h_l is the post-activation
 * signal of a hidden layer, f for l = L).
 *
 * The model at each width is train_model_build's, and everything else
 * goes through the public API (pcmup_net_n_layers,
 * pcmup_net_forward_layer, pcmup_algo_step), so whatever network the
 * options describe is measured the same way.
 */
#ifndef PCMUP_COORD_TRAINING_H
#define PCMUP_COORD_TRAINING_H

#include <stddef.h>

#include "train_options.h"

typedef struct {
    const size_t *widths; /* hidden widths, one run each                  */
    size_t n_widths;
    const size_t *steps;  /* increasing minibatch step counts (0 allowed) */
    size_t n_steps;
    size_t probe;         /* probe samples: the first `probe` test samples */
    const char *label;    /* the rows' "label"; NULL: their config        */
} coord_training;

/* Runs every width and writes a table (one line per width and step) or,
 * with o->json, one JSON row per (width, step, layer) on stdout, a width
 * at a time. A run that diverges reports +infinity (null in JSON) from
 * the step it diverged at on. Failures are reported on stderr as
 * "PROG: ...". Returns 0, or 1 after a failure. */
int coord_training_run(const train_options *o, const coord_training *c, const char *prog);

#endif /* PCMUP_COORD_TRAINING_H */
