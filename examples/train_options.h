/*
 * train_options.h -- the command line of pcmup-train.
 *
 * The flags are a contract: later versions add flags and values but never
 * change the meaning of an existing one. Parsing is strict so that a typo
 * in a sweep script fails loudly instead of silently training something
 * else.
 */
#ifndef PCMUP_TRAIN_OPTIONS_H
#define PCMUP_TRAIN_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "pcmup.h"

typedef struct {
    pcmup_algo_kind algo;
    pcmup_preset preset;
    pcmup_activation activation;
    pcmup_loss loss;
    size_t width;        /* hidden width M                                 */
    size_t depth;        /* number of weight layers L                      */
    size_t base_width;   /* M_base of the parameterization                 */
    size_t epochs;
    size_t batch;
    size_t train_limit;  /* 0 = the whole training set                     */
    size_t test_limit;   /* 0 = the whole test set                         */
    int threads;         /* 0 = leave the BLAS library's default           */
    uint64_t seed;
    double lr;
    double momentum;
    double weight_decay;
    int centred;         /* MSE target: 1 = e_k - 1/C, 0 = e_k             */
    int bias;
    int standardize;
    int json;
    const char *data_dir;

    /* ---- target propagation (--algo tp, dtp) ---- */
    double beta;                   /* output target step                  */
    pcmup_feedback feedback;
    double fb_mu;                  /* mu' and mu_L                        */
    double fb_lr;                  /* eta^V                               */
    size_t fb_steps;               /* K_fb                                */
    double fb_noise;               /* sigma                               */
    pcmup_activation fb_activation; /* identity ("linear") or tanh        */
    const char *tp_flag;           /* the first TP flag given, or NULL    */
} train_options;

/* What pcmup_train_parse decided. */
typedef enum {
    TRAIN_PARSE_RUN = 0,    /* options are valid: train                     */
    TRAIN_PARSE_EXIT = 1,   /* --help or --version was printed: exit 0      */
    TRAIN_PARSE_USAGE = 2   /* a usage error was reported on stderr: exit 2 */
} train_parse_result;

/* The defaults documented in --help. */
void train_options_default(train_options *opts);

/* Fills *opts from argv (after setting the defaults). Prints --help and
 * --version itself, and a one-line "pcmup-train: ..." message for a usage
 * error. */
train_parse_result train_options_parse(train_options *opts, int argc, char **argv);

/* Names of enum values as accepted on the command line ("mup", "tanh", ...). */
const char *train_algo_name(pcmup_algo_kind algo);
const char *train_param_name(pcmup_preset preset);
const char *train_activation_name(pcmup_activation act);
const char *train_loss_name(pcmup_loss loss);

/* ---- target propagation ---- */
/* Whether the algorithm is TP or DTP. */
int train_is_tp(pcmup_algo_kind algo);
/* The preset --param names for this algorithm: mup is PCMUP_PRESET_MUP_TP
 * for tp and dtp, PCMUP_PRESET_MUP_SGD otherwise. */
pcmup_preset train_preset(const train_options *opts);
const char *train_feedback_name(pcmup_feedback feedback);
const char *train_fb_activation_name(pcmup_activation act);

#endif /* PCMUP_TRAIN_OPTIONS_H */
