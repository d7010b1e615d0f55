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
    pcmup_rule algo;
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
    int synthetic;       /* the --synthetic problem instead of FashionMNIST */
    int json;
    const char *data_dir;

    /* Predictive coding (--algo pc only). */
    double gamma_bar;    /* gammabar_L of the parameterization             */
    double gamma_out;    /* gamma'_L                                       */
    double gamma_hidden; /* gamma_l, every hidden layer                    */
    double kappa;        /* kappa_l, every hidden layer                    */
    size_t inference_steps; /* T                                           */
    pcmup_pc_schedule schedule;
    pcmup_pc_init init;
    double init_std;
    int fpa;
    pcmup_pc_timing timing;
    pcmup_pc_last_layer last_layer;
    double tolerance;

    /* Gauss-Newton target (--algo gnt only). */
    double gnt_power;    /* e_B                                            */
    double gnt_damping;  /* rho'                                           */
    pcmup_gnt_variant gnt_variant;
    int gnt_output;      /* 1: precondition the output layer too           */

    /* Target propagation (--algo tp or dtp only). */
    double beta;         /* output target step                             */
    pcmup_tp_feedback feedback;
    double fb_mu;        /* mu', and mu_L unless --fb-mu-top is given      */
    double fb_mu_top;    /* mu_L; negative: the same as fb_mu              */
    double fb_lr;        /* eta^V                                          */
    size_t fb_steps;     /* K_fb                                           */
    double fb_noise;     /* sigma                                          */
    pcmup_activation fb_activation; /* identity ("linear") or tanh         */

    /* Whether --width and --lr were given: pcmup-sweep sweeps them. */
    int width_given;
    int lr_given;

    /* The first flag of each rule-specific group given, or NULL: a flag
     * of another rule than --algo's is a usage error. */
    const char *pc_flag;
    const char *gnt_flag;
    const char *tp_flag;
} train_options;

/* What pcmup_train_parse decided. */
typedef enum {
    TRAIN_PARSE_RUN = 0,    /* options are valid: train                     */
    TRAIN_PARSE_EXIT = 1,   /* --help or --version was printed: exit 0      */
    TRAIN_PARSE_USAGE = 2   /* a usage error was reported on stderr: exit 2 */
} train_parse_result;

/* The program name usage errors and --version print ["pcmup-train"]. */
void train_options_set_program(const char *name);

/* Prints the help of every flag describing a run (model, training, the
 * rules' flags, data, --threads), for a tool's --help. */
void train_options_print_config_help(void);

/* The defaults documented in --help. */
void train_options_default(train_options *opts);

/* Fills *opts from argv (after setting the defaults). Prints --help and
 * --version itself, and a one-line "pcmup-train: ..." message for a usage
 * error (the program name is train_options_set_program's). */
train_parse_result train_options_parse(train_options *opts, int argc, char **argv);

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
const char *train_loss_name(pcmup_loss loss);
const char *train_schedule_name(pcmup_pc_schedule schedule);
const char *train_init_name(pcmup_pc_init init);
const char *train_timing_name(pcmup_pc_timing timing);
const char *train_last_layer_name(pcmup_pc_last_layer last_layer);
const char *train_gnt_variant_name(pcmup_gnt_variant variant);
const char *train_feedback_name(pcmup_tp_feedback feedback);
const char *train_fb_activation_name(pcmup_activation act);

/* The top feedback damping mu_L the options ask for. */
double train_fb_mu_top(const train_options *o);

#endif /* PCMUP_TRAIN_OPTIONS_H */
