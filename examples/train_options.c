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
#define MAX_DIM 2147483647ull /* the library's width limit (32-bit BLAS) */

/* Command-line names, indexed by the enum's value. */
static const char *const algo_names[] = {
    [PCMUP_ALGO_BP] = "bp",
    /* ---- target propagation ---- */
    [PCMUP_ALGO_TP] = "tp",
    [PCMUP_ALGO_DTP] = "dtp",
};
static const char *const param_names[] = {"sp", "mup"};
static const char *const activation_names[] = {"tanh", "relu", "identity"};
static const char *const loss_names[] = {"mse", "ce"};
/* ---- target propagation ---- */
static const char *const feedback_names[] = {"closed", "trained"};
static const char *const fb_activation_names[] = {
    [PCMUP_ACT_TANH] = "tanh",
    [PCMUP_ACT_IDENTITY] = "linear",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *name_or_unknown(const char *const *names, size_t n, int value)
{
    return (value >= 0 && (size_t)value < n && names[value]) ? names[value] : "unknown";
}

const char *train_algo_name(pcmup_algo_kind algo)
{
    return name_or_unknown(algo_names, COUNT(algo_names), (int)algo);
}

const char *train_param_name(pcmup_preset preset)
{
    return name_or_unknown(param_names, COUNT(param_names), (int)preset);
}

const char *train_activation_name(pcmup_activation act)
{
    return name_or_unknown(activation_names, COUNT(activation_names), (int)act);
}

const char *train_loss_name(pcmup_loss loss)
{
    return name_or_unknown(loss_names, COUNT(loss_names), (int)loss);
}

/* ---- target propagation ---- */
int train_is_tp(pcmup_algo_kind algo)
{
    return algo == PCMUP_ALGO_TP || algo == PCMUP_ALGO_DTP;
}

pcmup_preset train_preset(const train_options *opts)
{
    if (opts->preset == PCMUP_PRESET_MUP_SGD && train_is_tp(opts->algo))
        return PCMUP_PRESET_MUP_TP;
    return opts->preset;
}

const char *train_feedback_name(pcmup_feedback feedback)
{
    return name_or_unknown(feedback_names, COUNT(feedback_names), (int)feedback);
}

const char *train_fb_activation_name(pcmup_activation act)
{
    return name_or_unknown(fb_activation_names, COUNT(fb_activation_names), (int)act);
}

void train_options_default(train_options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->algo = PCMUP_ALGO_BP;
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
     * one epoch diverges from about 0.09 up, and 0.05 is as good as the
     * best measured values (0.05-0.08) with a margin, at every width from
     * 64 to 2048 under muP. */
    opts->lr = 0.05;
    opts->centred = 1;
    opts->data_dir = PCMUP_FASHION_MNIST_DIR;
    /* ---- target propagation: the library's defaults (pcmup.h) ---- */
    opts->beta = 1.0;
    opts->feedback = PCMUP_FEEDBACK_CLOSED;
    opts->fb_mu = 1.0;
    opts->fb_lr = 0.05;
    opts->fb_steps = 1;
    opts->fb_noise = 0.1;
    opts->fb_activation = PCMUP_ACT_IDENTITY;
}

static void print_help(void)
{
    printf(
"Usage: " PROG " [OPTION]...\n"
"Train a dense network on FashionMNIST with libpcmup and report its test\n"
"accuracy. Progress goes to stderr, one line per epoch; the result goes to\n"
"stdout.\n"
"\n"
"Model:\n"
"  --algo NAME          learning rule: bp (backpropagation + SGD), tp (target\n"
"                       propagation) or dtp (difference target propagation) [bp]\n"
"  --param NAME         parameterization: mup (the rule's muP: SGD's for bp,\n"
"                       b_L = 1/2 and c = (0, 1, 1) for tp and dtp) or sp [mup]\n"
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
"                       parameterization [0.05]\n"
"  --momentum MU        heavy-ball momentum, 0 <= MU < 1 [0]\n"
"  --weight-decay W     L2 coefficient added to the gradient [0]\n"
"  --epochs N           passes over the training set [1]\n"
"  --batch B            minibatch size [64]\n"
"  --seed S             weights are drawn from S and the epoch order from\n"
"                       S + 1; 0..2^64-1 [1]\n"
"\n"
"Target propagation (--algo tp or dtp only):\n"
"  --beta B             output target t_L = f - B dloss/df, B > 0 [1]\n"
"  --feedback NAME      closed (ridge regression on each batch) or trained\n"
"                       (learned feedback weights) [closed]\n"
"  --fb-mu MU           feedback ridge damping, MU > 0: mu' of the hidden\n"
"                       layers (times M/base width under mup) and mu_L [1]\n"
"  --fb-lr LR           trained feedback learning rate (hidden layers' divided\n"
"                       by M/base width under mup) [0.05]\n"
"  --fb-steps K         trained feedback SGD steps per batch, 1..10000 [1]\n"
"  --fb-noise S         std of the noise when training feedback [0.1]\n"
"  --fb-activation NAME trained feedback nonlinearity: linear or tanh [linear]\n"
"\n"
"Data:\n"
"  --data DIR           FashionMNIST directory (the four IDX files, plain\n"
"                       or .gz) [" PCMUP_FASHION_MNIST_DIR "]\n"
"  --train-limit N      train on the first N training samples only\n"
"                       (all of them if N is larger than the set)\n"
"  --test-limit N       evaluate on the first N test samples only\n"
"  --standardize        standardise training and test inputs with the mean\n"
"                       and std of the (limited) training set\n"
"\n"
"Output and machine:\n"
"  --json               make the last line of stdout one JSON object with\n"
"                       the settings and the results (train_loss, test_loss,\n"
"                       test_acc, seconds, samples_per_second, ...)\n"
"  --threads N          number of BLAS threads, 1..1024 [BLAS default,\n"
"                       reported as 0 in the JSON]\n"
"  --help, -h           print this help and exit\n"
"  --version            print the program and library versions and exit\n"
"\n"
"train_loss is the mean loss over the last epoch's batches; seconds counts\n"
"training only (not loading or evaluation).\n"
"\n"
"Exit status: 0 on success, 1 on a runtime failure (missing data, library\n"
"error, divergence), 2 on a usage error.\n"
"\n"
"Options take their value as the next argument or after '=':\n"
"  " PROG " --width 1024 --lr=0.05 --json\n");
}

static void print_version(void)
{
    printf(PROG " (libpcmup %s)\n", pcmup_version_string());
}

/* Reports a usage error as one line on stderr. */
static train_parse_result usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs(PROG ": ", stderr);
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
 * library's own bounds (see check_setting_ranges). */
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

static int parse_name(const char *flag, const char *text, const char *const *names,
                      size_t n, int *out)
{
    /* names may have gaps (enum values the program does not offer) */
    for (size_t i = 0; i < n; i++) {
        if (names[i] && strcmp(text, names[i]) == 0) {
            *out = (int)i;
            return 0;
        }
    }
    fprintf(stderr, PROG ": %s: unknown value '%s', expected one of:", flag, text);
    for (size_t i = 0; i < n; i++)
        if (names[i])
            fprintf(stderr, " %s", names[i]);
    fputs(" (see --help)\n", stderr);
    return -1;
}

typedef enum {
    OPT_ALGO, OPT_PARAM, OPT_WIDTH, OPT_DEPTH, OPT_BASE_WIDTH, OPT_ACTIVATION,
    OPT_BIAS, OPT_LOSS, OPT_CENTRED, OPT_LR, OPT_MOMENTUM, OPT_WEIGHT_DECAY,
    OPT_EPOCHS, OPT_BATCH, OPT_SEED, OPT_DATA, OPT_TRAIN_LIMIT, OPT_TEST_LIMIT,
    OPT_STANDARDIZE, OPT_JSON, OPT_THREADS, OPT_HELP, OPT_VERSION,
    /* ---- target propagation ---- */
    OPT_BETA, OPT_FEEDBACK, OPT_FB_MU, OPT_FB_LR, OPT_FB_STEPS, OPT_FB_NOISE,
    OPT_FB_ACTIVATION
} option_id;

typedef struct {
    const char *name;
    option_id id;
    int takes_value;
} option_spec;

static const option_spec option_table[] = {
    {"--algo", OPT_ALGO, 1},          {"--param", OPT_PARAM, 1},
    {"--width", OPT_WIDTH, 1},        {"--depth", OPT_DEPTH, 1},
    {"--base-width", OPT_BASE_WIDTH, 1}, {"--activation", OPT_ACTIVATION, 1},
    {"--bias", OPT_BIAS, 0},          {"--loss", OPT_LOSS, 1},
    {"--centred", OPT_CENTRED, 1},    {"--lr", OPT_LR, 1},
    {"--momentum", OPT_MOMENTUM, 1},  {"--weight-decay", OPT_WEIGHT_DECAY, 1},
    {"--epochs", OPT_EPOCHS, 1},      {"--batch", OPT_BATCH, 1},
    {"--seed", OPT_SEED, 1},          {"--data", OPT_DATA, 1},
    {"--train-limit", OPT_TRAIN_LIMIT, 1}, {"--test-limit", OPT_TEST_LIMIT, 1},
    {"--standardize", OPT_STANDARDIZE, 0}, {"--json", OPT_JSON, 0},
    {"--threads", OPT_THREADS, 1},    {"--help", OPT_HELP, 0},
    {"-h", OPT_HELP, 0},              {"--version", OPT_VERSION, 0},
    /* ---- target propagation ---- */
    {"--beta", OPT_BETA, 1},          {"--feedback", OPT_FEEDBACK, 1},
    {"--fb-mu", OPT_FB_MU, 1},        {"--fb-lr", OPT_FB_LR, 1},
    {"--fb-steps", OPT_FB_STEPS, 1},  {"--fb-noise", OPT_FB_NOISE, 1},
    {"--fb-activation", OPT_FB_ACTIVATION, 1},
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

/* Enum-valued options; 1 if `spec` is not one of them. */
static int apply_enum(train_options *o, const option_spec *spec, const char *v)
{
    const char *f = spec->name;
    int e;

    switch (spec->id) {
    case OPT_ALGO:
        if (parse_name(f, v, algo_names, COUNT(algo_names), &e) != 0)
            return -1;
        o->algo = (pcmup_algo_kind)e;
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
    /* ---- target propagation ---- */
    case OPT_FEEDBACK:
        if (parse_name(f, v, feedback_names, COUNT(feedback_names), &e) != 0)
            return -1;
        o->feedback = (pcmup_feedback)e;
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

/* ---- target propagation: the numeric TP options; 1 if `spec` is not one. */
static int apply_tp_value(train_options *o, const option_spec *spec, const char *v)
{
    const char *f = spec->name;
    switch (spec->id) {
    case OPT_BETA: return parse_real(f, v, &o->beta);
    case OPT_FB_MU: return parse_real(f, v, &o->fb_mu);
    case OPT_FB_LR: return parse_real(f, v, &o->fb_lr);
    case OPT_FB_NOISE: return parse_real(f, v, &o->fb_noise);
    case OPT_FB_STEPS: return parse_size(f, v, 1, MAX_DIM, &o->fb_steps);
    default: return 1;
    }
}

static int is_tp_option(option_id id)
{
    return id >= OPT_BETA && id <= OPT_FB_ACTIVATION;
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
    default:
        return 1;
    }
}

/* Stores one option's value; -1 after reporting a usage error. */
static int apply_value(train_options *o, const option_spec *spec, const char *v)
{
    const char *f = spec->name;
    int rc;

    if (is_tp_option(spec->id) && o->tp_flag == NULL)
        o->tp_flag = spec->name;
    if ((rc = apply_enum(o, spec, v)) <= 0 || (rc = apply_int(o, spec, v)) <= 0
        || (rc = apply_tp_value(o, spec, v)) <= 0)
        return rc;
    switch (spec->id) {
    case OPT_WIDTH: return parse_size(f, v, 1, MAX_DIM, &o->width);
    case OPT_DEPTH: return parse_size(f, v, 1, 1024, &o->depth);
    case OPT_BASE_WIDTH: return parse_size(f, v, 1, MAX_DIM, &o->base_width);
    case OPT_EPOCHS: return parse_size(f, v, 1, 1000000, &o->epochs);
    case OPT_BATCH: return parse_size(f, v, 1, MAX_DIM, &o->batch);
    case OPT_TRAIN_LIMIT: return parse_size(f, v, 1, MAX_DIM, &o->train_limit);
    case OPT_TEST_LIMIT: return parse_size(f, v, 1, MAX_DIM, &o->test_limit);
    case OPT_LR: return parse_real(f, v, &o->lr);
    case OPT_MOMENTUM: return parse_real(f, v, &o->momentum);
    case OPT_WEIGHT_DECAY: return parse_real(f, v, &o->weight_decay);
    case OPT_DATA: o->data_dir = v; return 0;
    default: return -1; /* every option with a value is handled above */
    }
}

/* Flags without a value. Returns 1 when the program should exit now. */
static int apply_flag(train_options *o, option_id id)
{
    switch (id) {
    case OPT_BIAS: o->bias = 1; return 0;
    case OPT_STANDARDIZE: o->standardize = 1; return 0;
    case OPT_JSON: o->json = 1; return 0;
    case OPT_HELP: print_help(); return 1;
    case OPT_VERSION: print_version(); return 1;
    default: return 0;
    }
}

/* The library owns the valid ranges of its settings; asking it keeps the
 * program right when they change. A bad value is the user's mistake, so it
 * is a usage error here rather than a runtime failure later. */
/* Settings whose lower bound is exclusive (pcmup_algo_bounds). */
static int lo_is_open(pcmup_setting key)
{
    return key == PCMUP_SET_BETA || key == PCMUP_SET_FB_DAMPING;
}

static int check_setting(const train_options *o, pcmup_setting key, const char *flag,
                         double v)
{
    double lo, hi;
    if (pcmup_algo_bounds(o->algo, key, &lo, &hi) != PCMUP_OK)
        return 0; /* the algorithm will report it when the setting is applied */
    int open_lo = lo_is_open(key), open_hi = key == PCMUP_SET_MOMENTUM;
    if (v < lo || v > hi || (open_hi && v >= hi) || (open_lo && v <= lo)) {
        usage_error("%s: %g is outside %c%g, %g%c", flag, v, open_lo ? '(' : '[', lo, hi,
                    open_hi ? ')' : ']');
        return -1;
    }
    return 0;
}

/* ---- target propagation: its flags need --algo tp or dtp ---- */
static int check_tp_ranges(const train_options *o)
{
    if (!train_is_tp(o->algo)) {
        if (o->tp_flag != NULL) {
            usage_error("%s applies to --algo tp or dtp only", o->tp_flag);
            return -1;
        }
        return 0;
    }
    if (check_setting(o, PCMUP_SET_BETA, "--beta", o->beta) != 0
        || check_setting(o, PCMUP_SET_FB_DAMPING, "--fb-mu", o->fb_mu) != 0
        || check_setting(o, PCMUP_SET_FB_LR, "--fb-lr", o->fb_lr) != 0
        || check_setting(o, PCMUP_SET_FB_STEPS, "--fb-steps", (double)o->fb_steps) != 0)
        return -1;
    return check_setting(o, PCMUP_SET_FB_NOISE, "--fb-noise", o->fb_noise);
}

static int check_setting_ranges(const train_options *o)
{
    if (check_setting(o, PCMUP_SET_LR, "--lr", o->lr) != 0)
        return -1;
    if (check_setting(o, PCMUP_SET_MOMENTUM, "--momentum", o->momentum) != 0)
        return -1;
    if (check_tp_ranges(o) != 0)
        return -1;
    return check_setting(o, PCMUP_SET_WEIGHT_DECAY, "--weight-decay", o->weight_decay);
}

train_parse_result train_options_parse(train_options *opts, int argc, char **argv)
{
    train_options_default(opts);
    for (int i = 1; i < argc; i++) {
        const char *value;
        const option_spec *spec = find_option(argv[i], &value);

        if (spec == NULL)
            return usage_error("unknown option '%s'", argv[i]);
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
    return check_setting_ranges(opts) == 0 ? TRAIN_PARSE_RUN : TRAIN_PARSE_USAGE;
}
