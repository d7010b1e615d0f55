/* SPDX-License-Identifier: MIT */
/*
 * train_setup.h -- building one training run from train_options, shared by
 * pcmup-train, pcmup-sweep and pcmup-coord.
 *
 * Three pieces, each usable alone:
 *   - the data (train_data_load): loaded, limited and standardised once;
 *   - the model (train_model_build): parameterization, network and
 *     learning rule with every setting of the options, at a width given
 *     as an argument, for an input dimension and class count given as
 *     arguments, so a tool can build many widths from one set of options
 *     without loading any data;
 *   - the JSON keys that describe a run (train_put_settings,
 *     train_put_results) and the canonical configuration string built from
 *     them (train_config_string).
 * Training itself is train_loop.h.
 *
 * Nothing here prints: a failure fills a train_error, which the tool
 * reports with its own name (train_error_report).
 */
#ifndef PCMUP_TRAIN_SETUP_H
#define PCMUP_TRAIN_SETUP_H

#include <stddef.h>

#include "jsonl.h"
#include "pcmup.h"
#include "train_options.h"

/* What failed: the status and the step, e.g. "creating the network".
 * detail is the tool's own account of a failure it found itself (its own
 * allocations: PCMUP_ERR_NOMEM; data that do not fit together); it is ""
 * when a library call failed, whose message tells more. */
typedef struct {
    pcmup_status status;
    char what[320]; /* room for a file name */
    char detail[160];
} train_error;

/* Prints "PROG: WHAT: DETAIL (STATUS_NAME)" as one line on stderr, DETAIL
 * being e->detail, else the library's last error message (for
 * PCMUP_ERR_NOMEM too: it says what could not be allocated), else the
 * status's sentence. */
void train_error_report(const char *prog, const train_error *e);

/* ---- data ---------------------------------------------------------------- */

typedef struct {
    pcmup_dataset *train;
    pcmup_dataset *test;
    size_t dim;           /* input dimension M_0          */
    size_t n_classes;     /* output dimension M_L         */
    size_t train_samples; /* after --train-limit          */
    size_t test_samples;  /* after --test-limit           */
} train_data;

/* The training and test sets the options ask for, limited and (with
 * --standardize) standardised; a test set whose samples or classes do not
 * match the training set's is an error here, before any training. 0, or
 * -1 with *e filled and *d empty. */
int train_data_load(train_data *d, const train_options *o, train_error *e);
void train_data_free(train_data *d);

/* ---- model --------------------------------------------------------------- */

typedef struct {
    pcmup_param *param;
    pcmup_net *net;
    pcmup_algo *algo;
    size_t width;   /* the hidden width it was built at              */
    double gamma_L; /* pc: the output precision at this width; else 0 */
} train_model;

/* The parameterization of the options (the width does not enter it): the
 * preset of train_effective_preset at the options' gammabar_L and e_B,
 * with their base width. */
int train_build_param(pcmup_param **out, const train_options *o, train_error *e);

/* A network of widths {dim, width, ..., width, n_classes} (o->depth
 * weight layers), weights drawn from o->seed. */
int train_build_net(pcmup_net **out, const train_options *o, const pcmup_param *param,
                    size_t dim, size_t n_classes, size_t width, train_error *e);

/* The learning rule with o->lr and every setting of its rule (defaults
 * included, so the run is what the JSON says), shuffling from o->seed + 1. */
int train_build_algo(pcmup_algo **out, const train_options *o, pcmup_net *net,
                     train_error *e);

/* All three, and gamma_L. 0, or -1 with *e filled and *m empty. */
int train_model_build(train_model *m, const train_options *o, size_t dim,
                      size_t n_classes, size_t width, train_error *e);
void train_model_free(train_model *m);

/* Allocates and faults in what training m in batches of o->batch on
 * train_samples samples will use (pcmup_algo_reserve), so that the first
 * epoch runs at the speed of the later ones. Before the first epoch's
 * clock starts; after the reducer, under MPI. 0, or -1 with *e filled. */
int train_model_reserve(train_model *m, const train_options *o, size_t train_samples,
                        train_error *e);

/* ---- the JSON keys of a run ---------------------------------------------- */

typedef struct {
    size_t train_samples;
    size_t test_samples;
    double train_loss;   /* mean over the last epoch's batches */
    double test_loss;
    double test_acc;
    double seconds;      /* training only */
    double final_energy; /* pc: mean over the last epoch's batches of the
                            energy after inference */
    int diverged;        /* the losses and accuracy are then written as null */
} train_results;

/* The settings: algo, param, width, depth, activation, loss, lr,
 * base_width, epochs, batch, seed, momentum, weight_decay, centred, bias,
 * standardize, threads, data, then the rule's own settings (for pc
 * gamma_L, the output precision at this width, among them). */
void train_put_settings(jsonl_writer *w, const train_options *o, size_t width,
                        double gamma_L);

/* The results: train_samples, test_samples, train_loss, (pc)
 * final_energy, test_loss, test_acc, seconds, samples_per_second,
 * version. */
void train_put_results(jsonl_writer *w, const train_options *o, const train_results *r);

/* Training throughput: samples times epochs over training seconds. */
double train_samples_per_second(const train_options *o, const train_results *r);

/* "key=value ..." of every setting that can change a run's result except
 * the width and the learning rate: the keys of train_put_settings without
 * width, lr, threads and gamma_L (which follows from the width), then
 * train_samples and test_samples (which --train-limit and --test-limit
 * decide). Two runs with the same string differ only in width and lr.
 * A malloc'ed string, or NULL when out of memory. */
char *train_config_string(const train_options *o, size_t train_samples,
                          size_t test_samples);

#endif /* PCMUP_TRAIN_SETUP_H */
