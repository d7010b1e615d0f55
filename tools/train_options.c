/*
 * train_options.c -- strict parsing of pcmup-train's command line.
 *
 * Every value is checked completely (the whole string must be a number in
 * range, an enum value must be one of the listed names) because the program
 * is mostly run from sweep scripts, where a silently misread flag costs a
 * whole run.
 */
#include "train_options.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "pcmup-train"

/* The name usage errors and --version begin with: pcmup-sweep parses its
 * configuration with this parser too (train_options_set_program). */
static const char *program_name = PROG;

void train_options_set_program(const char *name)
{
    program_name = name;
}
#define MAX_DIM 2147483647ull /* the library's width limit (32-bit BLAS) */

/* Command-line names, indexed by the enum's value; NULL for a value the
 * program does not offer. */
static const char *const algo_names[] = {
    [PCMUP_RULE_BP] = "bp", [PCMUP_RULE_PC] = "pc", [PCMUP_RULE_GNT] = "gnt",
    [PCMUP_RULE_TP] = "tp", [PCMUP_RULE_DTP] = "dtp",
};
static const char *const param_names[] = {"sp", "mup"};
static const char *const activation_names[] = {"tanh", "relu", "identity"};
static const char *const loss_names[] = {"mse", "ce"};
static const char *const schedule_names[] = {"seq", "sim"};
static const char *const init_names[] = {"forward", "zero", "random"};
static const char *const timing_names[] = {"end", "cache"};
static const char *const last_layer_names[] = {"A", "B"};
static const char *const switch_names[] = {"off", "on"};
static const char *const gnt_variant_names[] = {
    [PCMUP_GNT_BATCH] = "batch", [PCMUP_GNT_SAMPLE] = "sample",
};
static const char *const feedback_names[] = {
    [PCMUP_TP_FEEDBACK_CLOSED] = "closed", [PCMUP_TP_FEEDBACK_TRAINED] = "trained",
};
/* The library refuses relu for trained feedback. */
static const char *const fb_activation_names[] = {
    [PCMUP_ACT_TANH] = "tanh", [PCMUP_ACT_IDENTITY] = "linear",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *name_or_unknown(const char *const *names, size_t n, int value)
{
    return (value >= 0 && (size_t)value < n && names[value] != NULL) ? names[value]
                                                                     : "unknown";
}

const char *train_algo_name(pcmup_rule algo)
{
    return name_or_unknown(algo_names, COUNT(algo_names), (int)algo);
}

/* Every muP row is "mup" on the command line: which one is built depends
 * on the learning rule (train_effective_preset). */
const char *train_param_name(pcmup_preset preset)
{
    return preset == PCMUP_PRESET_SP ? param_names[0] : param_names[1];
}

const char *train_activation_name(pcmup_activation act)
{
    return name_or_unknown(activation_names, COUNT(activation_names), (int)act);
}

const char *train_loss_name(pcmup_loss loss)
{
    return name_or_unknown(loss_names, COUNT(loss_names), (int)loss);
}

const char *train_schedule_name(pcmup_pc_schedule schedule)
{
    return name_or_unknown(schedule_names, COUNT(schedule_names), (int)schedule);
}

const char *train_init_name(pcmup_pc_init init)
{
    return name_or_unknown(init_names, COUNT(init_names), (int)init);
}

const char *train_timing_name(pcmup_pc_timing timing)
{
    return name_or_unknown(timing_names, COUNT(timing_names), (int)timing);
}

const char *train_last_layer_name(pcmup_pc_last_layer last_layer)
{
    return name_or_unknown(last_layer_names, COUNT(last_layer_names), (int)last_layer);
}

const char *train_gnt_variant_name(pcmup_gnt_variant variant)
{
    return name_or_unknown(gnt_variant_names, COUNT(gnt_variant_names), (int)variant);
}

const char *train_feedback_name(pcmup_tp_feedback feedback)
{
    return name_or_unknown(feedback_names, COUNT(feedback_names), (int)feedback);
}

const char *train_fb_activation_name(pcmup_activation act)
{
    return name_or_unknown(fb_activation_names, COUNT(fb_activation_names), (int)act);
}

int train_is_tp(pcmup_rule algo)
{
    return algo == PCMUP_RULE_TP || algo == PCMUP_RULE_DTP;
}

pcmup_preset train_effective_preset(const train_options *opts)
{
    if (opts->preset == PCMUP_PRESET_SP)
        return opts->preset;
    switch (opts->algo) {
    case PCMUP_RULE_PC:
        return opts->last_layer == PCMUP_PC_LAST_LAYER_B ? PCMUP_PRESET_MUP_PC_B
                                                      : PCMUP_PRESET_MUP_PC;
    case PCMUP_RULE_GNT:
        return PCMUP_PRESET_MUP_GNT;
    case PCMUP_RULE_TP:
    case PCMUP_RULE_DTP:
        return PCMUP_PRESET_MUP_TP;
    default:
        return PCMUP_PRESET_MUP_SGD;
    }
}

void train_options_default(train_options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->algo = PCMUP_RULE_BP;
    opts->preset = PCMUP_PRESET_MUP_SGD;
    opts->activation = PCMUP_ACT_TANH;
    opts->loss = PCMUP_LOSS_MSE;
    opts->width = 256;
    opts->depth = 3;
    opts->base_width = 64;
    opts->epochs = 1;
    opts->batch = 64;
    opts->seed = 1;
    /* Like the library default: on raw FashionMNIST pixels at these defaults
     * one epoch of BP diverges from about 0.085 up, and 0.05 is as good as
     * the best measured values (0.05-0.08) with a margin, at every width
     * from 64 to 2048 under muP. It suits PC as well (widths 256 and 1024,
     * gamma bar 0 and -1, 5 seeds at 256): test accuracy is flat from 0.03
     * to 0.085 within seed noise, and PC diverges from 0.1 (gamma bar 0)
     * or 0.14 (-1). TP and DTP learn at it too (DTP closed is best near
     * 0.1); GNT diverges at it and wants about 0.01 (docs/gnt.md). */
    opts->lr = 0.05;
    opts->centred = 1;
    opts->data_dir = PCMUP_FASHION_MNIST_DIR;
    /* The library's PC defaults: the paper's single-shot setting. */
    opts->gamma_bar = 0.0;
    opts->gamma_out = 1.0;
    opts->gamma_hidden = 1.0;
    opts->kappa = 1.0;
    opts->inference_steps = 1;
    opts->schedule = PCMUP_PC_SCHEDULE_SEQUENTIAL;
    opts->init = PCMUP_PC_INIT_FORWARD;
    opts->init_std = 1.0;
    opts->fpa = 0;
    opts->timing = PCMUP_PC_TIMING_END;
    opts->last_layer = PCMUP_PC_LAST_LAYER_A;
    opts->tolerance = 0.0;
    /* The library's GNT defaults: GNT itself (e_B = 1), batch variant. */
    opts->gnt_power = 1.0;
    opts->gnt_damping = 1e-2;
    opts->gnt_variant = PCMUP_GNT_BATCH;
    opts->gnt_output = 1;
    /* The library's TP defaults, mu' and mu_L alike. */
    opts->beta = 1.0;
    opts->feedback = PCMUP_TP_FEEDBACK_CLOSED;
    opts->fb_mu = 1.0;
    opts->fb_mu_top = -1.0;
    opts->fb_lr = 0.05;
    opts->fb_steps = 1;
    opts->fb_noise = 0.1;
    opts->fb_activation = PCMUP_ACT_IDENTITY;
}

/* In pieces: C99 promises string literals of 4095 characters only. */
void train_options_print_config_help(void)
{
    fputs(
"Model:\n"
"  --algo NAME          learning rule: bp (backpropagation + SGD), pc\n"
"                       (predictive coding), gnt (Gauss-Newton target), tp\n"
"                       (target propagation) or dtp (difference target\n"
"                       propagation); the rules' own flags are below [bp]\n"
"  --param NAME         parameterization: mup (muP of the learning rule:\n"
"                       SGD's for bp; for pc the PC muP with --gamma-bar;\n"
"                       for gnt b = (0, 1/2, 1) and c = (e_B - 1, e_B, 1),\n"
"                       the MUP_GNT preset at e_B = 1; for tp and dtp\n"
"                       b = (0, 1/2, 1/2) and c = (0, 1, 1)) or sp [mup]\n"
"  --width M            hidden width, 1..2147483647 [256]\n"
"  --depth L            number of weight layers, 1..1024; the widths are\n"
"                       {784, M, ..., M, 10} with L-1 hidden layers [3]\n"
"  --base-width N       base width of the parameterization; at M = N every\n"
"                       parameterization is the same network [64]\n"
"  --activation NAME    tanh, relu or identity [tanh]\n"
"  --bias               give every layer a bias (initialised to zero)\n"
"\n"
"Training:\n"
"  --loss NAME          mse or ce (softmax cross-entropy) [mse]\n"
"  --centred 0|1        MSE target: 1 = centred one-hot e_k - 1/10,\n"
"                       0 = plain one-hot e_k [1]\n"
"  --lr ETA             base learning rate, scaled per layer by the\n"
"                       parameterization; the default suits bp, pc (gamma\n"
"                       bar 0 or -1), tp and dtp; gnt diverges at it on raw\n"
"                       pixels and wants about 0.01 [0.05]\n"
"  --momentum MU        heavy-ball momentum, 0 <= MU < 1 [0]\n"
"  --weight-decay W     L2 coefficient added to the gradient [0]\n"
"  --epochs N           passes over the training set [1]\n"
"  --batch B            minibatch size [64]\n"
"  --seed S             weights (and trained feedback weights) are drawn\n"
"                       from S, the epoch order (and pc's random states,\n"
"                       the feedback noise) from S + 1; 0..2^64-1 [1]\n"
"\n", stdout);
    fputs(
"Predictive coding (--algo pc only; any of these with another rule is a\n"
"usage error):\n"
"  --gamma-bar G        output exponent gammabar_L, -1..0: gamma_L =\n"
"                       gamma'_L (M/N)^-G; 0 keeps gamma_L = Theta(1) (PC ~\n"
"                       BP when wide), -1 makes it Theta(M) (Gauss-Newton-\n"
"                       like). --param mup uses the PC muP of this G,\n"
"                       c = (-1-G, -G, 1); sp allows only 0 [0]\n"
"  --gamma-out G        gamma'_L, the output precision at the base width,\n"
"                       > 0 [1]\n"
"  --gamma-hidden G     precision gamma_l of every hidden layer, > 0 [1]\n"
"  --kappa K            inference step kappa_l of every hidden layer,\n"
"                       0..1000 [1]\n"
"  --T N                inference iterations (the maximum with\n"
"                       --tolerance), 1..1000000 [1]\n"
"  --schedule NAME      seq (sweeps from the top layer down, each layer\n"
"                       sees the freshest states) or sim (all layers from\n"
"                       one snapshot) [seq]\n"
"  --init NAME          state initialisation: forward (feedforward\n"
"                       pre-activations), zero or random [forward]\n"
"  --init-std S         std of --init random, 0..1e6 [1]\n"
"  --fpa on|off         fixed prediction assumption [off]\n"
"  --timing NAME        errors of the weight update: end (from the final\n"
"                       states) or cache (kept right after each layer's\n"
"                       last update; needs --schedule seq) [end]\n"
"  --last-layer A|B     output layer update: A absorbs gamma_L into its\n"
"                       learning rate (c_L = 1), B is the raw energy\n"
"                       gradient (c_L = 1 - G under mup) [A]\n"
"  --tolerance TOL      stop inference once the energy's relative decrease\n"
"                       over an iteration is below TOL, 0..1; 0 = off [0]\n"
"\n", stdout);
    fputs(
"Gauss-Newton target (--algo gnt only; any of these with another rule is a\n"
"usage error):\n"
"  --eB E               power e_B of the preconditioner, 0..1; 0 is SGD,\n"
"                       1 is GNT [1]\n"
"  --rho R              damping rho' at the base width, > 0; the hidden\n"
"                       layers use rho' (M / base)^-(2 b_L - 1) [0.01]\n"
"  --gn NAME            batch (one Gauss-Newton matrix per batch) or sample\n"
"                       (one per sample: Gauss-Newton targets) [batch]\n"
"  --gnt-output 0|1     1: precondition the output layer too; 0: plain\n"
"                       gradient step there [1]\n"
"\n", stdout);
    fputs(
"Target propagation (--algo tp or dtp only; any of these with another rule\n"
"is a usage error):\n"
"  --beta B             output target t_L = f - B dloss/df, B > 0 [1]\n"
"  --feedback NAME      closed (ridge regression on each batch) or trained\n"
"                       (learned feedback weights) [closed]\n"
"  --fb-mu MU           feedback ridge damping, MU > 0: mu' of the hidden\n"
"                       layers (times M/base width under mup), and mu_L\n"
"                       unless --fb-mu-top is given [1]\n"
"  --fb-mu-top MU       top feedback damping mu_L, MU > 0; tp (not dtp)\n"
"                       wants a small one, such as 0.01 [--fb-mu]\n"
"  --fb-lr LR           trained feedback learning rate (hidden layers' divided\n"
"                       by M/base width under mup) [0.05]\n"
"  --fb-steps K         trained feedback SGD steps per batch, 1..10000 [1]\n"
"  --fb-noise S         std of the noise when training feedback [0.1]\n"
"  --fb-activation NAME trained feedback nonlinearity: linear or tanh [linear]\n"
"\n", stdout);
    fputs(
"Data:\n"
"  --data DIR           FashionMNIST directory (the four IDX files, plain\n"
"                       or .gz) [" PCMUP_FASHION_MNIST_DIR "]\n"
"  --train-limit N      train on the first N training samples only\n"
"                       (all of them if N is larger than the set)\n"
"  --test-limit N       evaluate on the first N test samples only\n"
"  --standardize        standardise training and test inputs with the mean\n"
"                       and std of the (limited) training set\n"
"  --synthetic          instead of FashionMNIST, a synthetic problem drawn\n"
"                       from --seed: inputs of dimension 64, N(0, 1); 10\n"
"                       classes, the label of x the argmax of x V for a\n"
"                       fixed random 64 x 10 teacher V; --train-limit\n"
"                       training samples [2048] and --test-limit test\n"
"                       samples [1024]; \"data\" is \"synthetic\" in the JSON\n"
"                       and --data is ignored\n"
"  --threads N          number of BLAS threads, 1..1024 [BLAS default,\n"
"                       reported as 0 in the JSON]\n"
"\n", stdout);
}

static void print_help(void)
{
    fputs(
"Usage: " PROG " [OPTION]...\n"
"Train a dense network on FashionMNIST with libpcmup and report its test\n"
"accuracy. Progress goes to stderr, one line per epoch; the result goes to\n"
"stdout.\n"
"\n", stdout);
    train_options_print_config_help();
    fputs(
"Output:\n"
"  --json               make the last line of stdout one JSON object with\n"
"                       the settings and the results (train_loss, test_loss,\n"
"                       test_acc, seconds, samples_per_second, ...); for pc\n"
"                       also the PC settings, gamma_L (the output precision\n"
"                       at this width) and final_energy; for gnt, tp and dtp\n"
"                       also the rule's settings\n"
"  --help, -h           print this help and exit\n"
"  --version            print the program and library versions and exit\n"
"\n"
"train_loss is the mean loss over the last epoch's batches; seconds counts\n"
"training only (not loading or evaluation). For pc, final_energy is the\n"
"mean over the last epoch's batches of the energy F (a batch mean) after\n"
"each step's inference; both means weight a batch by its size.\n"
"\n"
"Exit status: 0 on success, 1 on a runtime failure (missing data, library\n"
"error, divergence), 2 on a usage error.\n"
"\n"
"Options take their value as the next argument or after '=':\n"
"  " PROG " --width 1024 --lr=0.05 --json\n", stdout);
}

static void print_version(void)
{
    printf("%s (libpcmup %s)\n", program_name, pcmup_version_string());
}

/* Reports a usage error as one line on stderr. */
static train_parse_result usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", program_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (see --help)\n", stderr);
    return TRAIN_PARSE_USAGE;
}

/* Base-10 digits only: strtoull alone would accept " 12", "+12" and wrap
 * "-12" around to a huge value. */
static int parse_uint(const char *flag, const char *text, unsigned long long lo,
                      unsigned long long hi, unsigned long long *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = isdigit((unsigned char)text[0]) ? strtoull(text, &end, 10) : 0;
    if (!isdigit((unsigned char)text[0]) || errno == ERANGE || *end != '\0' || v < lo
        || v > hi) {
        usage_error("%s: expected an integer in [%llu, %llu], got '%s'", flag, lo, hi,
                    text);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_size(const char *flag, const char *text, unsigned long long lo,
                      unsigned long long hi, size_t *out)
{
    unsigned long long v;
    if (hi > (unsigned long long)SIZE_MAX)
        hi = (unsigned long long)SIZE_MAX;
    if (parse_uint(flag, text, lo, hi, &v) != 0)
        return -1;
    *out = (size_t)v;
    return 0;
}

/* A finite decimal number; the range is checked later against the
 * library's own bounds (see check_settings). */
static int parse_real(const char *flag, const char *text, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(text, &end);
    if (end == text || *end != '\0' || isspace((unsigned char)text[0])
        || errno == ERANGE || !isfinite(v)) {
        usage_error("%s: expected a finite number, got '%s'", flag, text);
        return -1;
    }
    *out = v;
    return 0;
}

/* T is a whole number: read it as one, in the library's range. */
static int parse_steps(const char *flag, const char *text, size_t *out)
{
    double lo = 1.0, hi = (double)MAX_DIM;
    if (pcmup_algo_bounds(PCMUP_RULE_PC, PCMUP_SET_PC_ITERATIONS, &lo, &hi) != PCMUP_OK || lo < 0.0
        || hi < lo || hi > (double)MAX_DIM) {
        lo = 1.0;
        hi = (double)MAX_DIM;
    }
    return parse_size(flag, text, (unsigned long long)lo, (unsigned long long)hi, out);
}

/* names may have gaps (NULL): enum values the program does not offer. */
static int parse_name(const char *flag, const char *text, const char *const *names,
                      size_t n, int *out)
{
    for (size_t i = 0; i < n; i++) {
        if (names[i] != NULL && strcmp(text, names[i]) == 0) {
            *out = (int)i;
            return 0;
        }
    }
    fprintf(stderr, "%s: %s: unknown value '%s', expected one of:", program_name, flag,
            text);
    for (size_t i = 0; i < n; i++)
        if (names[i] != NULL)
            fprintf(stderr, " %s", names[i]);
    fputs(" (see --help)\n", stderr);
    return -1;
}

typedef enum {
    OPT_ALGO, OPT_PARAM, OPT_WIDTH, OPT_DEPTH, OPT_BASE_WIDTH, OPT_ACTIVATION,
    OPT_BIAS, OPT_LOSS, OPT_CENTRED, OPT_LR, OPT_MOMENTUM, OPT_WEIGHT_DECAY,
    OPT_EPOCHS, OPT_BATCH, OPT_SEED, OPT_DATA, OPT_TRAIN_LIMIT, OPT_TEST_LIMIT,
    OPT_STANDARDIZE, OPT_SYNTHETIC, OPT_JSON, OPT_THREADS, OPT_HELP, OPT_VERSION,
    /* predictive coding */
    OPT_GAMMA_BAR, OPT_GAMMA_OUT, OPT_GAMMA_HIDDEN, OPT_KAPPA, OPT_T, OPT_SCHEDULE,
    OPT_INIT, OPT_INIT_STD, OPT_FPA, OPT_TIMING, OPT_LAST_LAYER, OPT_TOLERANCE,
    /* Gauss-Newton target */
    OPT_GNT_POWER, OPT_GNT_DAMPING, OPT_GNT_VARIANT, OPT_GNT_OUTPUT,
    /* target propagation */
    OPT_BETA, OPT_FEEDBACK, OPT_FB_MU, OPT_FB_MU_TOP, OPT_FB_LR, OPT_FB_STEPS, OPT_FB_NOISE,
    OPT_FB_ACTIVATION
} option_id;

/* Which learning rules an option belongs to. */
typedef enum { FOR_ALL, FOR_PC, FOR_GNT, FOR_TP } option_rule;

typedef struct {
    const char *name;
    option_id id;
    int takes_value;
    option_rule rule;
} option_spec;

static const option_spec option_table[] = {
    {"--algo", OPT_ALGO, 1, FOR_ALL},             {"--param", OPT_PARAM, 1, FOR_ALL},
    {"--width", OPT_WIDTH, 1, FOR_ALL},           {"--depth", OPT_DEPTH, 1, FOR_ALL},
    {"--base-width", OPT_BASE_WIDTH, 1, FOR_ALL},
    {"--activation", OPT_ACTIVATION, 1, FOR_ALL},
    {"--bias", OPT_BIAS, 0, FOR_ALL},             {"--loss", OPT_LOSS, 1, FOR_ALL},
    {"--centred", OPT_CENTRED, 1, FOR_ALL},       {"--lr", OPT_LR, 1, FOR_ALL},
    {"--momentum", OPT_MOMENTUM, 1, FOR_ALL},
    {"--weight-decay", OPT_WEIGHT_DECAY, 1, FOR_ALL},
    {"--epochs", OPT_EPOCHS, 1, FOR_ALL},         {"--batch", OPT_BATCH, 1, FOR_ALL},
    {"--seed", OPT_SEED, 1, FOR_ALL},             {"--data", OPT_DATA, 1, FOR_ALL},
    {"--train-limit", OPT_TRAIN_LIMIT, 1, FOR_ALL},
    {"--test-limit", OPT_TEST_LIMIT, 1, FOR_ALL},
    {"--standardize", OPT_STANDARDIZE, 0, FOR_ALL},
    {"--synthetic", OPT_SYNTHETIC, 0, FOR_ALL},   {"--json", OPT_JSON, 0, FOR_ALL},
    {"--threads", OPT_THREADS, 1, FOR_ALL},       {"--help", OPT_HELP, 0, FOR_ALL},
    {"-h", OPT_HELP, 0, FOR_ALL},                 {"--version", OPT_VERSION, 0, FOR_ALL},
    /* predictive coding */
    {"--gamma-bar", OPT_GAMMA_BAR, 1, FOR_PC},    {"--gamma-out", OPT_GAMMA_OUT, 1, FOR_PC},
    {"--gamma-hidden", OPT_GAMMA_HIDDEN, 1, FOR_PC}, {"--kappa", OPT_KAPPA, 1, FOR_PC},
    {"--T", OPT_T, 1, FOR_PC},                    {"--schedule", OPT_SCHEDULE, 1, FOR_PC},
    {"--init", OPT_INIT, 1, FOR_PC},              {"--init-std", OPT_INIT_STD, 1, FOR_PC},
    {"--fpa", OPT_FPA, 1, FOR_PC},                {"--timing", OPT_TIMING, 1, FOR_PC},
    {"--last-layer", OPT_LAST_LAYER, 1, FOR_PC},  {"--tolerance", OPT_TOLERANCE, 1, FOR_PC},
    /* Gauss-Newton target */
    {"--eB", OPT_GNT_POWER, 1, FOR_GNT},          {"--rho", OPT_GNT_DAMPING, 1, FOR_GNT},
    {"--gn", OPT_GNT_VARIANT, 1, FOR_GNT},        {"--gnt-output", OPT_GNT_OUTPUT, 1, FOR_GNT},
    /* target propagation */
    {"--beta", OPT_BETA, 1, FOR_TP},              {"--feedback", OPT_FEEDBACK, 1, FOR_TP},
    {"--fb-mu", OPT_FB_MU, 1, FOR_TP},            {"--fb-mu-top", OPT_FB_MU_TOP, 1, FOR_TP},
    {"--fb-lr", OPT_FB_LR, 1, FOR_TP},
    {"--fb-steps", OPT_FB_STEPS, 1, FOR_TP},      {"--fb-noise", OPT_FB_NOISE, 1, FOR_TP},
    {"--fb-activation", OPT_FB_ACTIVATION, 1, FOR_TP},
};

/* Finds the option `arg` names, splitting "--name=value"; *value is the
 * part after '=' or NULL. */
static const option_spec *find_option(const char *arg, const char **value)
{
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);

    *value = eq ? eq + 1 : NULL;
    for (size_t i = 0; i < COUNT(option_table); i++) {
        const char *name = option_table[i].name;
        if (strlen(name) == len && strncmp(arg, name, len) == 0)
            return &option_table[i];
    }
    return NULL;
}

/* The rules' enum-valued options; 1 if `spec` is not one of them. */
static int apply_rule_enum(train_options *o, const option_spec *spec, const char *v)
{
    const char *f = spec->name;
    int e;

    switch (spec->id) {
    case OPT_SCHEDULE:
        if (parse_name(f, v, schedule_names, COUNT(schedule_names), &e) != 0)
            return -1;
        o->schedule = (pcmup_pc_schedule)e;
        return 0;
    case OPT_INIT:
        if (parse_name(f, v, init_names, COUNT(init_names), &e) != 0)
            return -1;
        o->init = (pcmup_pc_init)e;
        return 0;
    case OPT_FPA:
        if (parse_name(f, v, switch_names, COUNT(switch_names), &e) != 0)
            return -1;
        o->fpa = e;
        return 0;
    case OPT_TIMING:
        if (parse_name(f, v, timing_names, COUNT(timing_names), &e) != 0)
            return -1;
        o->timing = (pcmup_pc_timing)e;
        return 0;
    case OPT_LAST_LAYER:
        if (parse_name(f, v, last_layer_names, COUNT(last_layer_names), &e) != 0)
            return -1;
        o->last_layer = (pcmup_pc_last_layer)e;
        return 0;
    case OPT_GNT_VARIANT:
        if (parse_name(f, v, gnt_variant_names, COUNT(gnt_variant_names), &e) != 0)
            return -1;
        o->gnt_variant = (pcmup_gnt_variant)e;
        return 0;
    case OPT_FEEDBACK:
        if (parse_name(f, v, feedback_names, COUNT(feedback_names), &e) != 0)
            return -1;
        o->feedback = (pcmup_tp_feedback)e;
        return 0;
    case OPT_FB_ACTIVATION:
        if (parse_name(f, v, fb_activation_names, COUNT(fb_activation_names), &e) != 0)
            return -1;
        o->fb_activation = (pcmup_activation)e;
        return 0;
    default:
        return 1;
    }
}

/* Enum-valued options; 1 if `spec` is not one of them. */
static int apply_enum(train_options *o, const option_spec *spec, const char *v)
{
    const char *f = spec->name;
    int e;

    switch (spec->id) {
    case OPT_ALGO:
        if (parse_name(f, v, algo_names, COUNT(algo_names), &e) != 0)
            return -1;
        o->algo = (pcmup_rule)e;
        return 0;
    case OPT_PARAM:
        if (parse_name(f, v, param_names, COUNT(param_names), &e) != 0)
            return -1;
        o->preset = (pcmup_preset)e;
        return 0;
    case OPT_ACTIVATION:
        if (parse_name(f, v, activation_names, COUNT(activation_names), &e) != 0)
            return -1;
        o->activation = (pcmup_activation)e;
        return 0;
    case OPT_LOSS:
        if (parse_name(f, v, loss_names, COUNT(loss_names), &e) != 0)
            return -1;
        o->loss = (pcmup_loss)e;
        return 0;
    default:
        return apply_rule_enum(o, spec, v);
    }
}

/* Integer options that are not sizes; 1 if `spec` is not one of them. */
static int apply_int(train_options *o, const option_spec *spec, const char *v)
{
    const char *f = spec->name;
    unsigned long long u;

    switch (spec->id) {
    case OPT_CENTRED:
        if (parse_uint(f, v, 0, 1, &u) != 0)
            return -1;
        o->centred = (int)u;
        return 0;
    case OPT_THREADS:
        if (parse_uint(f, v, 1, 1024, &u) != 0)
            return -1;
        o->threads = (int)u;
        return 0;
    case OPT_SEED:
        if (parse_uint(f, v, 0, UINT64_MAX, &u) != 0)
            return -1;
        o->seed = (uint64_t)u;
        return 0;
    case OPT_GNT_OUTPUT:
        if (parse_uint(f, v, 0, 1, &u) != 0)
            return -1;
        o->gnt_output = (int)u;
        return 0;
    default:
        return 1;
    }
}

/* Stores one option's value; -1 after reporting a usage error. */
static int apply_value(train_options *o, const option_spec *spec, const char *v)
{
    const char *f = spec->name;
    int rc;

    if ((rc = apply_enum(o, spec, v)) <= 0 || (rc = apply_int(o, spec, v)) <= 0)
        return rc;
    switch (spec->id) {
    case OPT_WIDTH: o->width_given = 1; return parse_size(f, v, 1, MAX_DIM, &o->width);
    case OPT_DEPTH: return parse_size(f, v, 1, 1024, &o->depth);
    case OPT_BASE_WIDTH: return parse_size(f, v, 1, MAX_DIM, &o->base_width);
    case OPT_EPOCHS: return parse_size(f, v, 1, 1000000, &o->epochs);
    case OPT_BATCH: return parse_size(f, v, 1, MAX_DIM, &o->batch);
    case OPT_TRAIN_LIMIT: return parse_size(f, v, 1, MAX_DIM, &o->train_limit);
    case OPT_TEST_LIMIT: return parse_size(f, v, 1, MAX_DIM, &o->test_limit);
    case OPT_LR: o->lr_given = 1; return parse_real(f, v, &o->lr);
    case OPT_MOMENTUM: return parse_real(f, v, &o->momentum);
    case OPT_WEIGHT_DECAY: return parse_real(f, v, &o->weight_decay);
    case OPT_DATA: o->data_dir = v; return 0;
    /* The rules' ranges are the library's, checked in check_rule_settings. */
    case OPT_GAMMA_BAR: return parse_real(f, v, &o->gamma_bar);
    case OPT_GAMMA_OUT: return parse_real(f, v, &o->gamma_out);
    case OPT_GAMMA_HIDDEN: return parse_real(f, v, &o->gamma_hidden);
    case OPT_KAPPA: return parse_real(f, v, &o->kappa);
    case OPT_T: return parse_steps(f, v, &o->inference_steps);
    case OPT_INIT_STD: return parse_real(f, v, &o->init_std);
    case OPT_TOLERANCE: return parse_real(f, v, &o->tolerance);
    case OPT_GNT_POWER: return parse_real(f, v, &o->gnt_power);
    case OPT_GNT_DAMPING: return parse_real(f, v, &o->gnt_damping);
    case OPT_BETA: return parse_real(f, v, &o->beta);
    case OPT_FB_MU: return parse_real(f, v, &o->fb_mu);
    case OPT_FB_MU_TOP: return parse_real(f, v, &o->fb_mu_top);
    case OPT_FB_LR: return parse_real(f, v, &o->fb_lr);
    case OPT_FB_STEPS: return parse_size(f, v, 1, MAX_DIM, &o->fb_steps);
    case OPT_FB_NOISE: return parse_real(f, v, &o->fb_noise);
    default: return -1; /* every option with a value is handled above */
    }
}

/* Flags without a value. Returns 1 when the program should exit now. */
static int apply_flag(train_options *o, option_id id)
{
    switch (id) {
    case OPT_BIAS: o->bias = 1; return 0;
    case OPT_STANDARDIZE: o->standardize = 1; return 0;
    case OPT_SYNTHETIC: o->synthetic = 1; return 0;
    case OPT_JSON: o->json = 1; return 0;
    case OPT_HELP: print_help(); return 1;
    case OPT_VERSION: print_version(); return 1;
    default: return 0;
    }
}

/* The library owns the valid ranges of its settings; asking it keeps the
 * program right when they change. A bad value is the user's mistake, so it
 * is a usage error here rather than a runtime failure later. */
static int check_setting(const train_options *o, pcmup_setting key, const char *flag,
                         double v)
{
    /* pcmup_algo_bounds reports closed ranges; the header says which ends
     * are open. */
    int lo_open = key == PCMUP_SET_PC_GAMMA_HIDDEN || key == PCMUP_SET_PC_GAMMA_OUT_BASE
                  || key == PCMUP_SET_GNT_DAMPING || key == PCMUP_SET_TP_BETA
                  || key == PCMUP_SET_TP_FB_DAMPING || key == PCMUP_SET_TP_FB_DAMPING_TOP;
    int hi_open = key == PCMUP_SET_MOMENTUM;
    double lo, hi;
    if (pcmup_algo_bounds(o->algo, key, &lo, &hi) != PCMUP_OK)
        return 0; /* the algorithm will report it when the setting is applied */
    if (v < lo || v > hi || (lo_open && v <= lo) || (hi_open && v >= hi)) {
        usage_error("%s: %g is outside %c%g, %g%c", flag, v, lo_open ? '(' : '[', lo, hi,
                    hi_open ? ')' : ']');
        return -1;
    }
    return 0;
}

/* gammabar_L belongs to the parameterization, and only muP uses it: SP
 * keeps gamma_L = gamma'_L at every width. */
static int check_gamma_bar(const train_options *o)
{
    double lo, hi;
    if (pcmup_param_bounds(PCMUP_PARAM_GAMMA_BAR, &lo, &hi) == PCMUP_OK
        && (o->gamma_bar < lo || o->gamma_bar > hi)) {
        usage_error("--gamma-bar: %g is outside [%g, %g]", o->gamma_bar, lo, hi);
        return -1;
    }
    if (o->gamma_bar != 0.0 && o->preset == PCMUP_PRESET_SP) {
        usage_error("--gamma-bar: %g needs --param mup (sp keeps gamma_L = gamma'_L)",
                    o->gamma_bar);
        return -1;
    }
    return 0;
}

/* The library would only refuse timing cache with the simultaneous
 * schedule at the first step; it is a contradiction on the command line. */
static int check_pc_settings(const train_options *o)
{
    if (check_gamma_bar(o) != 0
        || check_setting(o, PCMUP_SET_PC_GAMMA_OUT_BASE, "--gamma-out", o->gamma_out) != 0
        || check_setting(o, PCMUP_SET_PC_GAMMA_HIDDEN, "--gamma-hidden", o->gamma_hidden) != 0
        || check_setting(o, PCMUP_SET_PC_KAPPA, "--kappa", o->kappa) != 0
        || check_setting(o, PCMUP_SET_PC_INIT_STD, "--init-std", o->init_std) != 0
        || check_setting(o, PCMUP_SET_PC_TOLERANCE, "--tolerance", o->tolerance) != 0)
        return -1;
    if (o->timing == PCMUP_PC_TIMING_CACHE && o->schedule != PCMUP_PC_SCHEDULE_SEQUENTIAL) {
        usage_error("--timing cache needs --schedule seq");
        return -1;
    }
    return 0;
}

static int check_gnt_settings(const train_options *o)
{
    if (check_setting(o, PCMUP_SET_GNT_POWER, "--eB", o->gnt_power) != 0
        || check_setting(o, PCMUP_SET_GNT_DAMPING, "--rho", o->gnt_damping) != 0)
        return -1;
    return 0;
}

/* mu_L: --fb-mu-top if given, else --fb-mu. */
double train_fb_mu_top(const train_options *o)
{
    return o->fb_mu_top < 0.0 ? o->fb_mu : o->fb_mu_top;
}

static int check_tp_settings(const train_options *o)
{
    if (check_setting(o, PCMUP_SET_TP_BETA, "--beta", o->beta) != 0
        || check_setting(o, PCMUP_SET_TP_FB_DAMPING, "--fb-mu", o->fb_mu) != 0
        || check_setting(o, PCMUP_SET_TP_FB_DAMPING_TOP, "--fb-mu-top", train_fb_mu_top(o)) != 0
        || check_setting(o, PCMUP_SET_TP_FB_LR, "--fb-lr", o->fb_lr) != 0
        || check_setting(o, PCMUP_SET_TP_FB_STEPS, "--fb-steps", (double)o->fb_steps) != 0
        || check_setting(o, PCMUP_SET_TP_FB_NOISE, "--fb-noise", o->fb_noise) != 0)
        return -1;
    return 0;
}

/* A flag of another rule than --algo's would be silently ignored. */
static int check_rule_flags(const train_options *o)
{
    if (o->pc_flag != NULL && o->algo != PCMUP_RULE_PC) {
        usage_error("%s applies to --algo pc only", o->pc_flag);
        return -1;
    }
    if (o->gnt_flag != NULL && o->algo != PCMUP_RULE_GNT) {
        usage_error("%s applies to --algo gnt only", o->gnt_flag);
        return -1;
    }
    if (o->tp_flag != NULL && !train_is_tp(o->algo)) {
        usage_error("%s applies to --algo tp or dtp only", o->tp_flag);
        return -1;
    }
    return 0;
}

static int check_rule_settings(const train_options *o)
{
    switch (o->algo) {
    case PCMUP_RULE_PC: return check_pc_settings(o);
    case PCMUP_RULE_GNT: return check_gnt_settings(o);
    case PCMUP_RULE_TP:
    case PCMUP_RULE_DTP: return check_tp_settings(o);
    default: return 0;
    }
}

/* Runs once the whole command line is read, as --algo may come last. */
static int check_settings(const train_options *o)
{
    if (check_rule_flags(o) != 0)
        return -1;
    if (check_setting(o, PCMUP_SET_LR, "--lr", o->lr) != 0
        || check_setting(o, PCMUP_SET_MOMENTUM, "--momentum", o->momentum) != 0
        || check_setting(o, PCMUP_SET_WEIGHT_DECAY, "--weight-decay", o->weight_decay) != 0)
        return -1;
    return check_rule_settings(o);
}

/* Remembers the first flag of each rule's group. */
static void note_rule_flag(train_options *o, const option_spec *spec)
{
    const char **first = spec->rule == FOR_PC    ? &o->pc_flag
                         : spec->rule == FOR_GNT ? &o->gnt_flag
                         : spec->rule == FOR_TP  ? &o->tp_flag
                                                 : NULL;
    if (first != NULL && *first == NULL)
        *first = spec->name;
}

train_parse_result train_options_parse(train_options *opts, int argc, char **argv)
{
    train_options_default(opts);
    for (int i = 1; i < argc; i++) {
        const char *value;
        const option_spec *spec = find_option(argv[i], &value);

        if (spec == NULL)
            return usage_error("unknown option '%s'", argv[i]);
        note_rule_flag(opts, spec);
        if (!spec->takes_value) {
            if (value != NULL)
                return usage_error("%s takes no value", spec->name);
            if (apply_flag(opts, spec->id))
                return TRAIN_PARSE_EXIT;
            continue;
        }
        if (value == NULL) {
            if (i + 1 >= argc)
                return usage_error("%s needs a value", spec->name);
            value = argv[++i];
        }
        if (apply_value(opts, spec, value) != 0)
            return TRAIN_PARSE_USAGE;
    }
    return check_settings(opts) == 0 ? TRAIN_PARSE_RUN : TRAIN_PARSE_USAGE;
}
