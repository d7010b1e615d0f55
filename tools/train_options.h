/* SPDX-License-Identifier: MIT */
/*
 * train_options.h -- the command line of pcmup-train.
 *
 * The flags are a contract: later versions add flags and values but never
 * change the meaning of an existing one. Parsing is strict so that a typo
 * in a sweep script fails loudly instead of silently training something
 * else.
 *
 * The learning rules' settings (learning rate, loss, PC's kappa, ...) are
 * the library's: their flags, defaults, ranges and help come from its
 * settings table (pcmup_setting_*), each as --NAME with the table's name
 * ("--pc-kappa"), and as the flag the program had before the table where
 * there was one ("--kappa"). An options struct holds every setting's value
 * for the run; read it with train_value.
 */
#ifndef PCMUP_TRAIN_OPTIONS_H
#define PCMUP_TRAIN_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "jsonl.h"
#include "pcmup.h"

/* Room for the library's settings; a library with more offers the first
 * TRAIN_MAX_SETTINGS only. */
#define TRAIN_MAX_SETTINGS 128

/* The data set --dataset names; --data is the directory of its files. */
typedef enum {
    TRAIN_DATASET_FASHION_MNIST = 0, /* the four IDX files, plain or .gz     */
    TRAIN_DATASET_CIFAR10 = 1        /* data_batch_1..5.bin, test_batch.bin */
} train_dataset;

typedef struct {
    pcmup_rule algo;
    pcmup_preset preset;
    pcmup_activation activation;
    size_t width;        /* hidden width M                                 */
    size_t depth;        /* number of weight layers L                      */
    const char *net;     /* --net: a network description (NULL: the MLP)   */
    size_t input_shape[3]; /* C, H, W of an input (--input-shape) for --net */
    size_t base_width;   /* M_base of the parameterization                 */
    size_t epochs;
    size_t batch;
    size_t train_limit;  /* 0 = the whole training set                     */
    size_t test_limit;   /* 0 = the whole test set                         */
    int threads;         /* 0 = leave the BLAS library's default           */
    uint64_t seed;
    int bias;
    int standardize;
    int synthetic;       /* the --synthetic problem instead of FashionMNIST */
    int json;
    const char *data_dir;
    size_t max_data_bytes; /* the loaders' limit (pcmup_dataset_load_*_limited) */
    train_dataset dataset; /* --dataset                                      */
    int data_given;        /* whether --data was given                       */
    double gamma_bar;    /* gammabar_L of the parameterization (pc only)   */

    /* The library's settings, by their place in its enumeration
     * (pcmup_setting_at): the run's value, the library's default unless a
     * flag set it, and the flag that set it as it was spelled (NULL). */
    double value[TRAIN_MAX_SETTINGS];
    const char *given[TRAIN_MAX_SETTINGS];

    /* Whether --width, --gamma-bar, --depth and --activation were given. */
    int width_given;
    int gamma_bar_given;
    int depth_given;
    int input_shape_given;

    /* pcmup-train's checkpoints (train_options_offer_checkpoints): --save
     * FILE (NULL: none), written after the last epoch and, with
     * --checkpoint-every N (0: never), after every N-th epoch counted over
     * the whole training including the epochs before --resume; --resume
     * FILE (NULL: a new run). epochs_done is the epoch count the resumed
     * checkpoint holds (0 for a new run): this run's epochs are
     * epochs_done + 1 .. epochs_done + epochs. */
    const char *save;
    size_t checkpoint_every;
    const char *resume;
    size_t epochs_done;

    /* pcmup-train's --layer-parallel (offered with the checkpoints): under
     * mpirun, each rank trains a block of the layers (pc, simultaneous). */
    int layer_parallel;

    /* Which of the run's own flags were given (train_flag_given). */
    uint64_t flags_given;
} train_options;

/* What pcmup_train_parse decided. */
typedef enum {
    TRAIN_PARSE_RUN = 0,    /* options are valid: train                     */
    TRAIN_PARSE_EXIT = 1,   /* --help or --version was printed: exit 0      */
    TRAIN_PARSE_USAGE = 2   /* a usage error was reported on stderr: exit 2 */
} train_parse_result;

/* The program name usage errors and --version print ["pcmup-train"]. */
void train_options_set_program(const char *name);

/* Makes --save, --resume and --checkpoint-every flags of the parser (for
 * pcmup-train; the other tools leave them unknown). */
void train_options_offer_checkpoints(void);

/* Prints the help of every flag describing a run (model, training, the
 * rules' flags, data, --threads), for a tool's --help. */
void train_options_print_config_help(void);

/* The defaults documented in --help. */
void train_options_default(train_options *opts);

/* Fills *opts from argv (after setting the defaults). Prints --help and
 * --version itself, and a one-line "pcmup-train: ..." message for a usage
 * error (the program name is train_options_set_program's). */
train_parse_result train_options_parse(train_options *opts, int argc, char **argv);

/* With --resume the model comes from the checkpoint, so
 * train_options_parse checks only what does not depend on it (each value
 * on its own); once the checkpoint's options are in *opts, this makes the
 * checks a new run's parse makes (a rule's flag with another rule, --net
 * at its input shape, ...), printing a usage error like the parser's.
 * Settings whose flags were not given keep their values (none follows
 * another, as the checkpoint has them all). */
train_parse_result train_options_check(train_options *opts);

/* Whether `flag` ("--width"), one of the run's own flags (not a
 * setting's: see train_value_given), was on the command line. */
int train_flag_given(const train_options *o, const char *flag);

/* The value a name of the command line stands for; 0, or -1 for a name it
 * does not have. */
int train_activation_find(const char *name, pcmup_activation *act);
int train_dataset_find(const char *name, train_dataset *dataset);

/* A setting's value for the run, whether --algo's rule has it or not. */
double train_value(const train_options *o, pcmup_setting key);
/* Sets it as its flag would (pcmup-sweep sets each point's lr). */
void train_set_value(train_options *o, pcmup_setting key, double value);
/* Whether a flag gave it. */
int train_value_given(const train_options *o, pcmup_setting key);
/* The word the command line has for the value of an enum-valued or on/off
 * setting ("seq", "on", "closed"); NULL for other settings. */
const char *train_value_word(const train_options *o, pcmup_setting key);

/* Sets every setting of the algorithm's rule to the run's value, defaults
 * included, so the run is what the JSON says. */
pcmup_status train_apply_settings(const train_options *o, pcmup_algo *algo);

/* Writes a setting as its JSON key: a number, a string for an enum-valued
 * one, true or false for an on/off one whose flag takes on|off. */
void train_put_setting(jsonl_writer *w, const train_options *o, pcmup_setting key);
/* Writes every setting of --algo's rule outside the common group: the
 * ones runs have always written, always, in the order they always had;
 * the others when the value is not the default. */
void train_put_rule_settings(jsonl_writer *w, const train_options *o);

/* The library's names of an enum-valued setting's values, joined by sep
 * ("" for other settings). */
void train_value_names(pcmup_setting key, const char *sep, char *buf, size_t size);
/* The command-line names of the rules that have a setting: "pc",
 * "tp or dtp", "any" for every rule. */
void train_rules_text(pcmup_setting key, char *buf, size_t size);

/* The preset to build: --param mup is muP for the learning rule:
 * PCMUP_PRESET_MUP_SGD for bp; for pc PCMUP_PRESET_MUP_PC (or MUP_PC_B with
 * --last-layer B), to be applied after setting gammabar_L;
 * PCMUP_PRESET_MUP_GNT for gnt (its c is then set for e_B, see
 * pcmup-train.c); PCMUP_PRESET_MUP_TP for tp and dtp. */
pcmup_preset train_effective_preset(const train_options *opts);

/* Whether the learning rule is TP or DTP. */
int train_is_tp(pcmup_rule algo);

/* Names of enum values as accepted on the command line ("mup", "tanh", ...).
 * train_param_name gives "mup" for every muP preset. */
const char *train_algo_name(pcmup_rule algo);
const char *train_param_name(pcmup_preset preset);
const char *train_activation_name(pcmup_activation act);
const char *train_dataset_name(train_dataset dataset);

#endif /* PCMUP_TRAIN_OPTIONS_H */
