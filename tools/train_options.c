/* SPDX-License-Identifier: MIT */
/*
 * train_options.c -- strict parsing of pcmup-train's command line.
 *
 * Every value is checked completely (the whole string must be a number in
 * range, an enum value must be one of the listed names) because the program
 * is mostly run from sweep scripts, where a silently misread flag costs a
 * whole run.
 *
 * Two kinds of flags: the run's own (model, data, training loop), listed
 * in option_table below, and the learning rules' settings, which the
 * library describes (pcmup_setting_*): their flags, defaults, ranges and
 * help are made from its table, with the older flag names kept as
 * aliases (the `history` table).
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

/* Whether --save, --resume and --checkpoint-every are flags: pcmup-train's
 * only (a sweep point or a coordinate check has no state worth keeping);
 * --layer-parallel too (a sweep spreads its points over the ranks). */
static int checkpoints_offered;

void train_options_offer_checkpoints(void)
{
    checkpoints_offered = 1;
}
#define MAX_DIM 2147483647ull /* the library's width limit (32-bit BLAS) */

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Command-line names, indexed by the enum's value; NULL for a value the
 * program does not offer. */
static const char *const algo_names[] = {
    [PCMUP_RULE_BP] = "bp", [PCMUP_RULE_PC] = "pc", [PCMUP_RULE_GNT] = "gnt",
    [PCMUP_RULE_TP] = "tp", [PCMUP_RULE_DTP] = "dtp",
};
static const char *const param_names[] = {"sp", "mup"};
static const char *const activation_names[] = {"tanh", "relu", "identity"};
static const char *const dataset_names[] = {
    [TRAIN_DATASET_FASHION_MNIST] = "fashion-mnist", [TRAIN_DATASET_CIFAR10] = "cifar10",
};

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

const char *train_dataset_name(train_dataset dataset)
{
    return name_or_unknown(dataset_names, COUNT(dataset_names), (int)dataset);
}

/* The value `text` names; -1 if none. */
static int find_name(const char *text, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (names[i] != NULL && strcmp(text, names[i]) == 0)
            return (int)i;
    return -1;
}

int train_activation_find(const char *name, pcmup_activation *act)
{
    int i = find_name(name, activation_names, COUNT(activation_names));
    if (i >= 0)
        *act = (pcmup_activation)i;
    return i >= 0 ? 0 : -1;
}

int train_dataset_find(const char *name, train_dataset *dataset)
{
    int i = find_name(name, dataset_names, COUNT(dataset_names));
    if (i >= 0)
        *dataset = (train_dataset)i;
    return i >= 0 ? 0 : -1;
}

int train_is_tp(pcmup_rule algo)
{
    return algo == PCMUP_RULE_TP || algo == PCMUP_RULE_DTP;
}

/* ---- the settings' flags before the library's table ------------------------ */

/* The flags pcmup-train had for settings before the library described
 * them. Their names, their value words and the JSON keys of runs are a
 * contract (users' scripts, README.md, docs/reproduce.sh, and result
 * files that pcmup-sweep resumes by their configuration string), so they
 * stay, as aliases of the table's names. Listed in the order the JSON has
 * always had. */
typedef struct {
    pcmup_setting key;
    const char *flag;
    const char *json;
    /* The flag's own words for the values, by value (NULL: the library's
     * value names, or a number). */
    const char *const *words;
    size_t n_words;
    /* What pcmup-train adds to the library's description in --help. */
    const char *note;
} history;

static const char *const schedule_words[] = {"seq", "sim"};
static const char *const switch_words[] = {"off", "on"};
static const char *const last_layer_words[] = {"A", "B"};
static const char *const fb_activation_words[] = {
    [PCMUP_ACT_TANH] = "tanh", [PCMUP_ACT_IDENTITY] = "linear",
};
#define WORDS(a) (a), COUNT(a)

static const history histories[] = {
    {PCMUP_SET_LOSS, "--loss", "loss", NULL, 0, NULL},
    {PCMUP_SET_LR, "--lr", "lr", NULL, 0,
     "the default suits bp, pc (gamma bar 0 or -1), tp and dtp; gnt diverges at it on raw "
     "pixels and wants about 0.01"},
    {PCMUP_SET_MOMENTUM, "--momentum", "momentum", NULL, 0, NULL},
    {PCMUP_SET_WEIGHT_DECAY, "--weight-decay", "weight_decay", NULL, 0, NULL},
    {PCMUP_SET_MSE_CENTRED, "--centred", "centred", NULL, 0, NULL},
    {PCMUP_SET_PC_GAMMA_OUT_BASE, "--gamma-out", "gamma_out", NULL, 0, NULL},
    {PCMUP_SET_PC_GAMMA_HIDDEN, "--gamma-hidden", "gamma_hidden", NULL, 0, NULL},
    {PCMUP_SET_PC_KAPPA, "--kappa", "kappa", NULL, 0, NULL},
    {PCMUP_SET_PC_ITERATIONS, "--T", "T", NULL, 0, NULL},
    {PCMUP_SET_PC_SCHEDULE, "--schedule", "schedule", WORDS(schedule_words), NULL},
    {PCMUP_SET_PC_INIT, "--init", "init", NULL, 0, NULL},
    {PCMUP_SET_PC_INIT_STD, "--init-std", "init_std", NULL, 0, NULL},
    {PCMUP_SET_PC_FPA, "--fpa", "fpa", WORDS(switch_words), NULL},
    {PCMUP_SET_PC_TIMING, "--timing", "timing", NULL, 0, NULL},
    {PCMUP_SET_PC_LAST_LAYER, "--last-layer", "last_layer", WORDS(last_layer_words),
     "under --param mup, c_L = 1 (A) or 1 - G (B)"},
    {PCMUP_SET_PC_TOLERANCE, "--tolerance", "tolerance", NULL, 0, NULL},
    {PCMUP_SET_GNT_POWER, "--eB", "e_B", NULL, 0, NULL},
    {PCMUP_SET_GNT_DAMPING, "--rho", "rho", NULL, 0,
     "the hidden layers use rho' (M / base)^-(2 b_L - 1)"},
    {PCMUP_SET_GNT_VARIANT, "--gn", "gn_variant", NULL, 0, NULL},
    {PCMUP_SET_GNT_OUTPUT, "--gnt-output", "gnt_output", NULL, 0, NULL},
    {PCMUP_SET_TP_BETA, "--beta", "beta", NULL, 0, NULL},
    {PCMUP_SET_TP_FEEDBACK, "--feedback", "feedback", NULL, 0, NULL},
    {PCMUP_SET_TP_FB_DAMPING, "--fb-mu", "fb_mu", NULL, 0,
     "times M / base width under mup; also sets mu_L unless --fb-mu-top is given"},
    {PCMUP_SET_TP_FB_DAMPING_TOP, "--fb-mu-top", "fb_mu_top", NULL, 0,
     "tp (not dtp) wants a small one, such as 0.01"},
    {PCMUP_SET_TP_FB_LR, "--fb-lr", "fb_lr", NULL, 0,
     "the hidden layers' is divided by M / base width under mup"},
    {PCMUP_SET_TP_FB_STEPS, "--fb-steps", "fb_steps", NULL, 0, NULL},
    {PCMUP_SET_TP_FB_NOISE, "--fb-noise", "fb_noise", NULL, 0, NULL},
    {PCMUP_SET_TP_FB_ACTIVATION, "--fb-activation", "fb_activation",
     WORDS(fb_activation_words), NULL},
};

/* A setting whose value is another's unless its own flag is given: one
 * flag has always set both TP dampings. */
static const struct {
    pcmup_setting key, leader;
} followers[] = {
    {PCMUP_SET_TP_FB_DAMPING_TOP, PCMUP_SET_TP_FB_DAMPING},
};

/* pcmup-train never reads the updates this would record. */
static const pcmup_setting not_offered[] = {PCMUP_SET_RECORD_UPDATES};

static const history *history_of(pcmup_setting key)
{
    for (size_t i = 0; i < COUNT(histories); i++)
        if (histories[i].key == key)
            return &histories[i];
    return NULL;
}

static const char *history_word(const history *h, double value)
{
    if (h == NULL || h->words == NULL || !(value >= 0.0) || value >= (double)h->n_words
        || value != floor(value))
        return NULL;
    return h->words[(size_t)value];
}

/* ---- the library's settings --------------------------------------------------- */

/* How many settings the options hold. */
static size_t n_settings(void)
{
    size_t n = pcmup_setting_count();
    return n < TRAIN_MAX_SETTINGS ? n : TRAIN_MAX_SETTINGS;
}

static pcmup_setting key_at(size_t i)
{
    pcmup_setting key = PCMUP_SET_LR;
    (void)pcmup_setting_at(i, &key); /* i < n_settings(): cannot fail */
    return key;
}

/* The setting's place in the options; n_settings() if it has none. */
static size_t index_of(pcmup_setting key)
{
    size_t i = 0;
    while (i < n_settings() && key_at(i) != key)
        i++;
    return i;
}

static int offered(pcmup_setting key)
{
    for (size_t i = 0; i < COUNT(not_offered); i++)
        if (not_offered[i] == key)
            return 0;
    return 1;
}

static const char *setting_name(pcmup_setting key)
{
    const char *name = "?";
    (void)pcmup_setting_name(key, &name);
    return name;
}

static int accepts(pcmup_setting key, pcmup_rule rule)
{
    int yes = 0;
    return pcmup_setting_accepts(key, rule, &yes) == PCMUP_OK && yes;
}

static int has_value_names(pcmup_setting key)
{
    const char *name;
    return pcmup_setting_value_name(key, pcmup_setting_bounds(key).lo, &name) == PCMUP_OK;
}

/* "--pc-kappa" for pc_kappa. */
static void table_flag(pcmup_setting key, char *buf, size_t size)
{
    snprintf(buf, size, "--%s", setting_name(key));
    for (char *c = buf + 2; *c != '\0'; c++)
        if (*c == '_')
            *c = '-';
}

double train_value(const train_options *o, pcmup_setting key)
{
    size_t i = index_of(key);
    double v = 0.0;
    if (i < n_settings())
        return o->value[i];
    (void)pcmup_setting_default(key, &v);
    return v;
}

void train_set_value(train_options *o, pcmup_setting key, double value)
{
    size_t i = index_of(key);
    if (i < n_settings())
        o->value[i] = value;
}

int train_value_given(const train_options *o, pcmup_setting key)
{
    size_t i = index_of(key);
    return i < n_settings() && o->given[i] != NULL;
}

const char *train_value_word(const train_options *o, pcmup_setting key)
{
    const double v = train_value(o, key);
    const char *word = history_word(history_of(key), v);
    if (word == NULL && pcmup_setting_value_name(key, v, &word) != PCMUP_OK)
        return NULL;
    return word;
}

pcmup_status train_apply_settings(const train_options *o, pcmup_algo *algo)
{
    pcmup_status st = PCMUP_OK;
    for (size_t i = 0; st == PCMUP_OK && i < n_settings(); i++) {
        const pcmup_setting key = key_at(i);
        if (offered(key) && accepts(key, o->algo))
            st = pcmup_algo_set(algo, key, o->value[i]);
    }
    return st;
}

/* ---- JSON --------------------------------------------------------------------- */

void train_put_setting(jsonl_writer *w, const train_options *o, pcmup_setting key)
{
    const history *h = history_of(key);
    const char *json = h != NULL ? h->json : setting_name(key);
    const char *word = train_value_word(o, key);
    if (word != NULL && h != NULL && h->words != NULL && !has_value_names(key))
        jsonl_put_bool(w, json, train_value(o, key) != 0.0);
    else if (word != NULL)
        jsonl_put_string(w, json, word);
    else
        jsonl_put_number(w, json, train_value(o, key));
}

static int common(pcmup_setting key)
{
    pcmup_setting_group group = PCMUP_GROUP_COMMON;
    (void)pcmup_setting_group_of(key, &group);
    return group == PCMUP_GROUP_COMMON;
}

/* A rule's own setting, offered on the command line. */
static int rule_own(const train_options *o, pcmup_setting key)
{
    return offered(key) && !common(key) && accepts(key, o->algo);
}

void train_put_rule_settings(jsonl_writer *w, const train_options *o)
{
    for (size_t i = 0; i < COUNT(histories); i++)
        if (rule_own(o, histories[i].key))
            train_put_setting(w, o, histories[i].key);
    for (size_t i = 0; i < n_settings(); i++) {
        const pcmup_setting key = key_at(i);
        double def = 0.0;
        (void)pcmup_setting_default(key, &def);
        if (rule_own(o, key) && history_of(key) == NULL && o->value[i] != def)
            train_put_setting(w, o, key);
    }
}

/* ---- defaults ------------------------------------------------------------------- */

pcmup_preset train_effective_preset(const train_options *opts)
{
    if (opts->preset == PCMUP_PRESET_SP)
        return opts->preset;
    switch (opts->algo) {
    case PCMUP_RULE_PC:
        return train_value(opts, PCMUP_SET_PC_LAST_LAYER) == PCMUP_PC_LAST_LAYER_B
                   ? PCMUP_PRESET_MUP_PC_B
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

/* The settings start at the library's defaults (lib/settings.c says why
 * its learning rate suits FashionMNIST). */
void train_options_default(train_options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->algo = PCMUP_RULE_BP;
    opts->preset = PCMUP_PRESET_MUP_SGD;
    opts->activation = PCMUP_ACT_TANH;
    opts->width = 256;
    opts->depth = 3;
    /* FashionMNIST's images, for --net. */
    opts->input_shape[0] = 1;
    opts->input_shape[1] = 28;
    opts->input_shape[2] = 28;
    opts->base_width = 64;
    opts->epochs = 1;
    opts->batch = 64;
    opts->seed = 1;
    opts->data_dir = PCMUP_FASHION_MNIST_DIR;
    opts->max_data_bytes = PCMUP_DATASET_MAX_BYTES_DEFAULT;
    opts->gamma_bar = 0.0;
    for (size_t i = 0; i < n_settings(); i++)
        (void)pcmup_setting_default(key_at(i), &opts->value[i]);
}

/* ---- help ----------------------------------------------------------------------- */

#define HELP_COLUMN 23
#define HELP_WIDTH 78
/* A space the help never breaks a line at ("0 <= X < 1" stays whole). */
#define NBSP '\x1f'

/* The words of `text` from column `col` (the line so far), each line
 * after the first starting at column `indent`, wrapped before HELP_WIDTH. */
static void print_wrapped(int col, int indent, const char *text)
{
    int line_empty = 1;
    while (*text != '\0') {
        int len = (int)strcspn(text, " ");
        if (!line_empty && col + 1 + len > HELP_WIDTH) {
            putchar('\n');
            col = 0;
            line_empty = 1;
        }
        if (col < indent)
            col += printf("%*s", indent - col, "");
        else if (!line_empty)
            col += printf(" ");
        for (int k = 0; k < len; k++)
            putchar(text[k] == NBSP ? ' ' : text[k]);
        col += len;
        line_empty = 0;
        text += len;
        text += strspn(text, " ");
    }
    putchar('\n');
}

/* "  FLAGS   text", the text from HELP_COLUMN; flags too long for their
 * column get a line of their own. */
static void print_entry(const char *flags, const char *text)
{
    int col = printf("  %s", flags);
    if (col > HELP_COLUMN - 2) {
        putchar('\n');
        col = 0;
    }
    print_wrapped(col, HELP_COLUMN, text);
}

static void append(char *buf, size_t size, const char *fmt, ...)
{
    size_t used = strlen(buf);
    va_list ap;
    va_start(ap, fmt);
    if (used < size)
        vsnprintf(buf + used, size - used, fmt, ap);
    va_end(ap);
}

/* "seq|sim" (sep "|"): the words a flag takes, the history's for an old
 * flag. */
static void value_words(pcmup_setting key, const history *h, const char *sep, char *buf,
                        size_t size)
{
    const pcmup_bounds b = pcmup_setting_bounds(key);
    buf[0] = '\0';
    for (double v = b.lo; v <= b.hi; v++) {
        const char *word = history_word(h, v);
        if (word == NULL && pcmup_setting_value_name(key, v, &word) != PCMUP_OK)
            continue;
        append(buf, size, "%s%s", buf[0] != '\0' ? sep : "", word);
    }
}

/* "0 <= X < 1" from the library's bounds. */
static void range_text(pcmup_setting key, const char *metavar, char *buf, size_t size)
{
    const pcmup_bounds b = pcmup_setting_bounds(key);
    snprintf(buf, size, "%.10g%c%s%c%s%c%s%c%.10g", b.lo, NBSP, b.lo_open ? "<" : "<=", NBSP,
             metavar, NBSP, b.hi_open ? "<" : "<=", NBSP, b.hi);
}

/* "[0.05]", or "[--fb-mu]" for a follower. */
static void default_text(const train_options *d, pcmup_setting key, char *buf, size_t size)
{
    for (size_t i = 0; i < COUNT(followers); i++) {
        const history *h = history_of(followers[i].leader);
        if (followers[i].key == key && h != NULL) {
            snprintf(buf, size, "[%s]", h->flag);
            return;
        }
    }
    const char *word = train_value_word(d, key);
    if (word != NULL)
        snprintf(buf, size, "[%s]", word);
    else
        snprintf(buf, size, "[%.10g]", train_value(d, key));
}

void train_value_names(pcmup_setting key, const char *sep, char *buf, size_t size)
{
    value_words(key, NULL, sep, buf, size);
}

/* One setting's help: its old flag if it has one, and the table's. */
static void print_setting_help(const train_options *defaults, pcmup_setting key)
{
    const history *h = history_of(key);
    const int whole = pcmup_setting_bounds(key).integral;
    const char *description = "";
    char name[64], flags[256], text[512], words[128], piece[128];
    table_flag(key, name, sizeof name);
    (void)pcmup_setting_description(key, &description);
    snprintf(text, sizeof text, "%s", description);
    if (h != NULL && h->note != NULL)
        append(text, sizeof text, "; %s", h->note);
    value_words(key, h, "|", words, sizeof words);
    if (words[0] != '\0') {
        snprintf(flags, sizeof flags, "%s %s", h != NULL ? h->flag : name, words);
    } else {
        snprintf(flags, sizeof flags, "%s %s", h != NULL ? h->flag : name, whole ? "N" : "X");
        range_text(key, whole ? "N" : "X", piece, sizeof piece);
        append(text, sizeof text, "; %s", piece);
    }
    default_text(defaults, key, piece, sizeof piece);
    append(text, sizeof text, " %s", piece);
    if (h != NULL && strcmp(h->flag, name) != 0) {
        train_value_names(key, "|", words, sizeof words);
        append(text, sizeof text, "; also %s%s%s", name, words[0] != '\0' ? " " : "", words);
    }
    print_entry(flags, text);
}

/* Every offered setting of a group, in the library's order. */
static void print_group_help(pcmup_setting_group group)
{
    train_options defaults;
    train_options_default(&defaults);
    for (size_t i = 0; i < n_settings(); i++) {
        pcmup_setting_group g = PCMUP_GROUP_COMMON;
        const pcmup_setting key = key_at(i);
        if (offered(key) && pcmup_setting_group_of(key, &g) == PCMUP_OK && g == group)
            print_setting_help(&defaults, key);
    }
}

void train_rules_text(pcmup_setting key, char *buf, size_t size)
{
    size_t n = 0, seen = 0;
    buf[0] = '\0';
    for (size_t r = 0; r < COUNT(algo_names); r++)
        n += accepts(key, (pcmup_rule)r);
    for (size_t r = 0; r < COUNT(algo_names) && n < COUNT(algo_names); r++) {
        if (!accepts(key, (pcmup_rule)r))
            continue;
        seen++;
        append(buf, size, "%s%s", seen == 1 ? "" : seen == n ? " or " : ", ",
               algo_names[r]);
    }
    if (n == COUNT(algo_names))
        snprintf(buf, size, "any");
}

/* The heading of a rule's group: its title and the rules that have its
 * settings (those of `first`, its first setting). */
static void print_group_heading(pcmup_setting_group group, pcmup_setting first)
{
    static const struct {
        pcmup_setting_group group;
        const char *title;
    } titles[] = {
        {PCMUP_GROUP_PC, "Predictive coding"},
        {PCMUP_GROUP_GNT, "Gauss-Newton target"},
        {PCMUP_GROUP_TP, "Target propagation"},
    };
    const char *title = "Other settings";
    char rules[64], heading[256];
    for (size_t i = 0; i < COUNT(titles); i++)
        if (titles[i].group == group)
            title = titles[i].title;
    train_rules_text(first, rules, sizeof rules);
    snprintf(heading, sizeof heading,
             "%s (--algo %s only; any of these with another rule is a usage error):", title,
             rules);
    print_wrapped(0, 0, heading);
}

/* The groups after the common one, each once, in the library's order. */
static void print_rule_groups_help(void)
{
    int last = PCMUP_GROUP_COMMON;
    for (size_t i = 0; i < n_settings(); i++) {
        pcmup_setting_group g = PCMUP_GROUP_COMMON;
        if (pcmup_setting_group_of(key_at(i), &g) != PCMUP_OK || (int)g == last)
            continue;
        last = (int)g;
        print_group_heading(g, key_at(i));
        if (g == PCMUP_GROUP_PC)
            fputs(
"  --gamma-bar G        output exponent gammabar_L, -1..0: gamma_L =\n"
"                       gamma'_L (M/N)^-G; 0 keeps gamma_L = Theta(1) (PC ~\n"
"                       BP when wide), -1 makes it Theta(M) (Gauss-Newton-\n"
"                       like). --param mup uses the PC muP of this G,\n"
"                       c = (-1-G, -G, 1); sp allows only 0 [0]\n", stdout);
        print_group_help(g);
        putchar('\n');
    }
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
"  --net SPEC           a network description instead of the MLP, with M\n"
"                       the --width: simplecnn, vgg5, or layers such as\n"
"                       'conv5p2:M tanh maxpool2 conv5p2:2M tanh maxpool2\n"
"                       dense:10' (docs/cnn.md); sets the depth\n"
"  --input-shape CxHxW  an input image's shape for --net [1x28x28; 3x32x32\n"
"                       with --dataset cifar10]\n"
"  --bias               give every layer a bias (initialised to zero)\n"
"\n"
"Training (the learning rate and the other settings every rule has, then\n"
"the training loop):\n", stdout);
    print_group_help(PCMUP_GROUP_COMMON);
    fputs(
"  --epochs N           passes over the training set [1]\n"
"  --batch B            minibatch size [64]\n"
"  --seed S             weights (and trained feedback weights) are drawn\n"
"                       from S, the epoch order (and pc's random states,\n"
"                       the feedback noise) from S + 1; 0..2^64-1 [1]\n"
"\n"
"The learning rules' settings, above and below, are the library's: X is\n"
"a number, N a whole number. Each also has a flag of the library's name\n"
"for it (--pc-kappa for --kappa), which takes the library's names of\n"
"values (--pc-schedule sequential for --schedule seq).\n"
"\n", stdout);
    print_rule_groups_help();
    fputs(
"Data:\n"
"  --dataset NAME       fashion-mnist (inputs of dimension 784) or cifar10\n"
"                       (CIFAR-10's binary version, 3 x 32 x 32 = 3072)\n"
"                       [fashion-mnist]\n"
"  --data DIR           the dataset's directory: for fashion-mnist the four\n"
"                       IDX files, plain or .gz\n"
"                       [" PCMUP_FASHION_MNIST_DIR "]; for cifar10\n"
"                       data_batch_1.bin .. data_batch_5.bin and\n"
"                       test_batch.bin (cifar-10-batches-bin), required\n"
"  --max-data-bytes N   refuse a training or test set that would take more\n"
"                       than N bytes of memory (its floats and labels; with\n"
"                       a limit below, of the samples kept), judged from\n"
"                       the files' headers (CIFAR-10: sizes) before reading\n"
"                       them [1073741824, the library's default;\n"
"                       FashionMNIST's training set takes 188400000,\n"
"                       CIFAR-10's 614600000]\n"
"  --train-limit N      train on the first N training samples only\n"
"                       (all of them if N is larger than the set); only\n"
"                       they are read from the files\n"
"  --test-limit N       evaluate on the first N test samples only (only\n"
"                       they are read)\n"
"  --standardize        standardise training and test inputs with the mean\n"
"                       and std of the (limited) training set\n"
"  --synthetic          instead of --dataset, a synthetic problem drawn\n"
"                       from --seed: inputs of dimension 64, N(0, 1); 10\n"
"                       classes, the label of x the argmax of x V for a\n"
"                       fixed random 64 x 10 teacher V; --train-limit\n"
"                       training samples [2048] and --test-limit test\n"
"                       samples [1024]; \"data\" is \"synthetic\" in the JSON\n"
"                       and --dataset and --data are ignored\n"
"  --threads N          number of BLAS threads, 1..1024 [BLAS default,\n"
"                       reported as 0 in the JSON]\n"
"\n", stdout);
}

/* --help states the loaders' default limit in digits. */
_Static_assert(PCMUP_DATASET_MAX_BYTES_DEFAULT == 1073741824,
               "--max-data-bytes's default in --help is not the library's");

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
"Checkpoints (safetensors files, docs/checkpoints.md):\n"
"  --save FILE          after training, save the network, the rule with its\n"
"                       settings and state, and this run's data and batch\n"
"                       options to FILE (replaced atomically); no times are\n"
"                       in it, so equivalent runs write the same bytes\n"
"  --checkpoint-every N also save to --save's FILE after every N-th epoch,\n"
"                       counted over the whole training (a resumed run's\n"
"                       earlier epochs included)\n"
"  --resume FILE        go on training from a --save'd FILE for --epochs more\n"
"                       epochs, exactly as if the run had not stopped (with\n"
"                       the same --threads): the model, the rule's settings,\n"
"                       the data and --batch are FILE's; a flag that says\n"
"                       otherwise is a usage error, one that agrees is\n"
"                       accepted; --data may say where the data are now\n"
"\n"
"MPI (mpirun -n R pcmup-train ...; docs/transfer.md):\n"
"  (no flag)            data-parallel: each rank takes its share of every\n"
"                       --batch, the same result as one process\n"
"  --layer-parallel     layer-parallel predictive coding (--algo pc\n"
"                       --schedule sim): each rank owns a contiguous block\n"
"                       of the L layers (blocks balanced by parameter\n"
"                       count, 1 <= R <= L) and exchanges boundary states\n"
"                       and errors with its neighbours every inference\n"
"                       iteration; the same result as one process\n"
"\n", stdout);
    fputs(
"Output:\n"
"  --json               make the last line of stdout one JSON object with\n"
"                       the settings and the results (train_loss, test_loss,\n"
"                       test_acc, seconds, samples_per_second, ...); for pc\n"
"                       also the PC settings, gamma_L (the output precision\n"
"                       at this width) and final_energy; for gnt, tp and dtp\n"
"                       also the rule's settings; after --resume also\n"
"                       resumed_from (FILE) and start_epoch (its epochs)\n"
"  --help, -h           print this help and exit\n"
"  --version            print the program and library versions and exit\n"
"\n"
"train_loss is the mean loss over the last epoch's batches; seconds counts\n"
"training only (not loading or evaluation). For pc, final_energy is the\n"
"mean over the last epoch's batches of the energy F (a batch mean) after\n"
"each step's inference; both means weight a batch by its size.\n"
"\n"
"Exit status: 0 on success, 1 on a runtime failure (missing data, library\n"
"error, divergence, a checkpoint that cannot be read or written), 2 on a\n"
"usage error.\n"
"\n"
"Options take their value as the next argument or after '=':\n"
"  " PROG " --width 1024 --lr=0.05 --json\n", stdout);
}

static void print_version(void)
{
    printf("%s (libpcmup %s)\n", program_name, pcmup_version_string());
}

/* ---- parsing values --------------------------------------------------------------- */

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

/* CxHxW, three whole numbers in [1, MAX_DIM]: an input image's shape. */
static int parse_shape(const char *flag, const char *text, size_t shape[3])
{
    unsigned long long v[3];
    char tail;
    if (sscanf(text, "%llux%llux%llu%c", &v[0], &v[1], &v[2], &tail) != 3 || v[0] < 1
        || v[1] < 1 || v[2] < 1 || v[0] > MAX_DIM || v[1] > MAX_DIM || v[2] > MAX_DIM
        || !isdigit((unsigned char)text[0])) {
        usage_error("%s: expected CxHxW such as 1x28x28, got '%s'", flag, text);
        return -1;
    }
    for (int i = 0; i < 3; i++)
        shape[i] = (size_t)v[i];
    return 0;
}

/* A directory name: not empty, which the library would take for the
 * root (as it takes "dir" + "/" + file name). */
static int parse_dir(const char *flag, const char *text, const char **out)
{
    if (text[0] == '\0') {
        usage_error("%s: expected a directory, got an empty string", flag);
        return -1;
    }
    *out = text;
    return 0;
}

/* A file name: not empty. */
static int parse_path(const char *flag, const char *text, const char **out)
{
    if (text[0] == '\0') {
        usage_error("%s: expected a file name, got an empty string", flag);
        return -1;
    }
    *out = text;
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

/* names may have gaps (NULL): enum values the program does not offer. */
static int parse_name(const char *flag, const char *text, const char *const *names,
                      size_t n, int *out)
{
    if ((*out = find_name(text, names, n)) >= 0)
        return 0;
    fprintf(stderr, "%s: %s: unknown value '%s', expected one of:", program_name, flag,
            text);
    for (size_t i = 0; i < n; i++)
        if (names[i] != NULL)
            fprintf(stderr, " %s", names[i]);
    fputs(" (see --help)\n", stderr);
    return -1;
}

/* A word a setting's flag takes: an old flag its own words only, the
 * table's flag the library's value names and the old words as aliases. */
static int setting_word(pcmup_setting key, const history *h, int old_flag, const char *text,
                        double *value)
{
    const pcmup_bounds b = pcmup_setting_bounds(key);
    for (double v = b.lo; v <= b.hi; v++) {
        const char *word = history_word(h, v);
        if (word != NULL && strcmp(word, text) == 0) {
            *value = v;
            return 1;
        }
    }
    return !(old_flag && h != NULL && h->words != NULL)
           && pcmup_setting_value_find(key, text, value) == PCMUP_OK;
}

/* The value of a setting's flag: a word (see setting_word) or, for a
 * setting without named values, a number. */
static int parse_setting(const char *flag, pcmup_setting key, int old_flag, const char *text,
                         double *value)
{
    const history *h = history_of(key);
    char words[128];
    if (setting_word(key, h, old_flag, text, value))
        return 0;
    if (!has_value_names(key) && !(old_flag && h != NULL && h->words != NULL))
        return parse_real(flag, text, value);
    value_words(key, old_flag ? h : NULL, " ", words, sizeof words);
    usage_error("%s: unknown value '%s', expected one of: %s", flag, text, words);
    return -1;
}

/* ---- the options ---------------------------------------------------------------- */

typedef enum {
    OPT_ALGO, OPT_PARAM, OPT_WIDTH, OPT_DEPTH, OPT_BASE_WIDTH, OPT_ACTIVATION,
    OPT_BIAS, OPT_EPOCHS, OPT_BATCH, OPT_SEED, OPT_DATA, OPT_TRAIN_LIMIT, OPT_TEST_LIMIT,
    OPT_STANDARDIZE, OPT_SYNTHETIC, OPT_JSON, OPT_THREADS, OPT_HELP, OPT_VERSION,
    OPT_GAMMA_BAR, OPT_MAX_DATA_BYTES, OPT_NET, OPT_INPUT_SHAPE,
    OPT_DATASET, OPT_SAVE, OPT_RESUME, OPT_CHECKPOINT_EVERY, OPT_LAYER_PARALLEL,
    OPT_SETTING /* a setting of the library: not in option_table */
} option_id;

typedef struct {
    const char *name;
    option_id id;
    int takes_value;
} option_spec;

static const option_spec option_table[] = {
    {"--algo", OPT_ALGO, 1},             {"--param", OPT_PARAM, 1},
    {"--width", OPT_WIDTH, 1},           {"--depth", OPT_DEPTH, 1},
    {"--base-width", OPT_BASE_WIDTH, 1}, {"--activation", OPT_ACTIVATION, 1},
    {"--bias", OPT_BIAS, 0},             {"--epochs", OPT_EPOCHS, 1},
    {"--batch", OPT_BATCH, 1},           {"--seed", OPT_SEED, 1},
    {"--data", OPT_DATA, 1},             {"--train-limit", OPT_TRAIN_LIMIT, 1},
    {"--test-limit", OPT_TEST_LIMIT, 1}, {"--standardize", OPT_STANDARDIZE, 0},
    {"--synthetic", OPT_SYNTHETIC, 0},   {"--json", OPT_JSON, 0},
    {"--threads", OPT_THREADS, 1},       {"--help", OPT_HELP, 0},
    {"-h", OPT_HELP, 0},                 {"--version", OPT_VERSION, 0},
    /* gammabar_L belongs to the parameterization, not to a setting. */
    {"--gamma-bar", OPT_GAMMA_BAR, 1},
    {"--max-data-bytes", OPT_MAX_DATA_BYTES, 1},
    {"--net", OPT_NET, 1},               {"--input-shape", OPT_INPUT_SHAPE, 1},
    {"--dataset", OPT_DATASET, 1},
    /* pcmup-train's only (train_options_offer_checkpoints). */
    {"--save", OPT_SAVE, 1},             {"--resume", OPT_RESUME, 1},
    {"--checkpoint-every", OPT_CHECKPOINT_EVERY, 1},
    {"--layer-parallel", OPT_LAYER_PARALLEL, 0},
};

/* train_options.flags_given has a bit per entry. */
_Static_assert(COUNT(option_table) <= 64, "flags_given has 64 bits");

static int checkpoint_option(option_id id)
{
    return id == OPT_SAVE || id == OPT_RESUME || id == OPT_CHECKPOINT_EVERY
           || id == OPT_LAYER_PARALLEL;
}

int train_flag_given(const train_options *o, const char *flag)
{
    for (size_t i = 0; i < COUNT(option_table); i++)
        if (strcmp(option_table[i].name, flag) == 0)
            return (int)((o->flags_given >> i) & 1u);
    return 0;
}

/* What a command-line word names. */
typedef struct {
    const option_spec *spec; /* NULL: a setting                     */
    size_t setting;          /* the setting's index in the options   */
    int old_flag;            /* the setting named by its history     */
    const char *value;       /* after '=', or NULL                   */
    int len;                 /* of the flag's name                   */
} option_match;

/* Whether arg's name part (len characters) is `name`. */
static int names(const char *arg, size_t len, const char *name)
{
    return strlen(name) == len && strncmp(arg, name, len) == 0;
}

/* Finds the option `arg` names, splitting "--name=value". */
static int find_option(const char *arg, option_match *m)
{
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);

    memset(m, 0, sizeof *m);
    m->value = eq ? eq + 1 : NULL;
    m->len = (int)len;
    for (size_t i = 0; i < COUNT(option_table); i++) {
        if (checkpoint_option(option_table[i].id) && !checkpoints_offered)
            continue;
        if (names(arg, len, option_table[i].name)) {
            m->spec = &option_table[i];
            return 1;
        }
    }
    for (size_t i = 0; i < n_settings(); i++) {
        const pcmup_setting key = key_at(i);
        const history *h = history_of(key);
        char flag[64];
        table_flag(key, flag, sizeof flag);
        if (!offered(key))
            continue;
        m->setting = i;
        m->old_flag = h != NULL && names(arg, len, h->flag);
        if (m->old_flag || names(arg, len, flag))
            return 1;
    }
    return 0;
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
    case OPT_DATASET:
        if (parse_name(f, v, dataset_names, COUNT(dataset_names), &e) != 0)
            return -1;
        o->dataset = (train_dataset)e;
        return 0;
    default:
        return 1;
    }
}

/* Integer options that are not sizes; 1 if `spec` is not one of them. */
static int apply_int(train_options *o, const option_spec *spec, const char *v)
{
    const char *f = spec->name;
    unsigned long long u;

    switch (spec->id) {
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

    if ((rc = apply_enum(o, spec, v)) <= 0 || (rc = apply_int(o, spec, v)) <= 0)
        return rc;
    switch (spec->id) {
    case OPT_WIDTH: o->width_given = 1; return parse_size(f, v, 1, MAX_DIM, &o->width);
    case OPT_DEPTH: o->depth_given = 1; return parse_size(f, v, 1, 1024, &o->depth);
    case OPT_NET: o->net = v; return 0;
    case OPT_INPUT_SHAPE: o->input_shape_given = 1; return parse_shape(f, v, o->input_shape);
    case OPT_BASE_WIDTH: return parse_size(f, v, 1, MAX_DIM, &o->base_width);
    case OPT_EPOCHS: return parse_size(f, v, 1, 1000000, &o->epochs);
    case OPT_BATCH: return parse_size(f, v, 1, MAX_DIM, &o->batch);
    case OPT_TRAIN_LIMIT: return parse_size(f, v, 1, MAX_DIM, &o->train_limit);
    case OPT_TEST_LIMIT: return parse_size(f, v, 1, MAX_DIM, &o->test_limit);
    case OPT_DATA: o->data_given = 1; return parse_dir(f, v, &o->data_dir);
    case OPT_MAX_DATA_BYTES: return parse_size(f, v, 1, UINT64_MAX, &o->max_data_bytes);
    case OPT_GAMMA_BAR: o->gamma_bar_given = 1; return parse_real(f, v, &o->gamma_bar);
    case OPT_SAVE: return parse_path(f, v, &o->save);
    case OPT_RESUME: return parse_path(f, v, &o->resume);
    case OPT_CHECKPOINT_EVERY: return parse_size(f, v, 1, 1000000, &o->checkpoint_every);
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
    case OPT_LAYER_PARALLEL: o->layer_parallel = 1; return 0;
    case OPT_HELP: print_help(); return 1;
    case OPT_VERSION: print_version(); return 1;
    default: return 0;
    }
}

/* A setting's flag and its value. The flag is kept as spelled (up to '=')
 * for the messages of check_settings. */
static int apply_setting(train_options *o, const option_match *m, const char *arg,
                         const char *v)
{
    char flag[64];
    snprintf(flag, sizeof flag, "%.*s", m->len, arg);
    if (parse_setting(flag, key_at(m->setting), m->old_flag, v, &o->value[m->setting]) != 0)
        return -1;
    o->given[m->setting] = arg;
    return 0;
}

/* ---- checks once the command line is read ------------------------------------------ */

/* The flag that gave setting i, as spelled. */
static int given_len(const train_options *o, size_t i)
{
    return (int)strcspn(o->given[i], "=");
}

/* A rule's setting with another --algo would be silently ignored. */
static int check_rule_flags(const train_options *o)
{
    for (size_t i = 0; i < n_settings(); i++) {
        const pcmup_setting key = key_at(i);
        char rules[64];
        if (o->given[i] == NULL || accepts(key, o->algo))
            continue;
        train_rules_text(key, rules, sizeof rules);
        usage_error("%.*s applies to --algo %s only", given_len(o, i), o->given[i], rules);
        return -1;
    }
    if (o->gamma_bar_given && o->algo != PCMUP_RULE_PC) {
        usage_error("--gamma-bar applies to --algo pc only");
        return -1;
    }
    return 0;
}

/* The library owns the valid ranges of its settings; asking it keeps the
 * program right when they change. A bad value is the user's mistake, so it
 * is a usage error here rather than a runtime failure later. */
static int check_value(const train_options *o, size_t i)
{
    const pcmup_bounds b = pcmup_setting_bounds(key_at(i));
    const double v = o->value[i];
    const int len = given_len(o, i);
    if ((b.lo_open ? v <= b.lo : v < b.lo) || (b.hi_open ? v >= b.hi : v > b.hi)) {
        usage_error("%.*s: %g is outside %c%g, %g%c", len, o->given[i], v,
                    b.lo_open ? '(' : '[', b.lo, b.hi, b.hi_open ? ')' : ']');
        return -1;
    }
    if (b.integral && v != floor(v)) {
        usage_error("%.*s: %g is not a whole number", len, o->given[i], v);
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
static int check_pc_timing(const train_options *o)
{
    if (o->algo == PCMUP_RULE_PC
        && train_value(o, PCMUP_SET_PC_TIMING) == PCMUP_PC_TIMING_CACHE
        && train_value(o, PCMUP_SET_PC_SCHEDULE) != PCMUP_PC_SCHEDULE_SEQUENTIAL) {
        usage_error("--timing cache needs --schedule seq");
        return -1;
    }
    return 0;
}

/* The library trains layer-parallel only PC with the simultaneous
 * schedule on a dense network; anything else is a contradiction on the
 * command line. (The MPI side -- a launcher, at most L ranks -- is
 * checked when the ranks are known: pcmup-train.c.) */
static int check_layer_parallel(const train_options *o)
{
    if (!o->layer_parallel)
        return 0;
    if (o->algo != PCMUP_RULE_PC
        || train_value(o, PCMUP_SET_PC_SCHEDULE) != PCMUP_PC_SCHEDULE_SIMULTANEOUS) {
        usage_error("--layer-parallel needs --algo pc --schedule sim");
        return -1;
    }
    if (o->net != NULL) {
        usage_error("--layer-parallel takes the dense network of --depth, not --net");
        return -1;
    }
    return 0;
}

/* --net: the description must parse and exist at --input-shape and
 * --width (a bad one is the user's mistake: exit 2); its layers set the
 * depth. */
static int check_net(train_options *o)
{
    if (o->net == NULL) {
        if (o->input_shape_given)
            usage_error("--input-shape applies to --net only");
        return o->input_shape_given ? -1 : 0;
    }
    if (o->depth_given) {
        usage_error("--depth and --net: the description gives the depth");
        return -1;
    }
    pcmup_net_builder *b = NULL;
    pcmup_status st = pcmup_net_builder_create(&b, NULL);
    if (st == PCMUP_OK)
        st = pcmup_net_builder_parse(b, o->net);
    if (st == PCMUP_OK)
        st = pcmup_net_builder_check(b, o->input_shape[0], o->input_shape[1], o->input_shape[2],
                                     o->width);
    if (st == PCMUP_OK)
        st = pcmup_net_builder_n_layers(b, &o->depth);
    pcmup_net_builder_free(b);
    if (st != PCMUP_OK) {
        usage_error("--net '%s': %s", o->net, pcmup_last_error());
        return -1;
    }
    return 0;
}

/* A follower not given takes its leader's value. */
static void follow(train_options *o)
{
    for (size_t i = 0; i < COUNT(followers); i++)
        if (!train_value_given(o, followers[i].key))
            train_set_value(o, followers[i].key, train_value(o, followers[i].leader));
}

/* FashionMNIST has a default directory (Debian's package); CIFAR-10 has
 * none, and FashionMNIST's directory would only fail later. CIFAR-10's
 * images are 3 x 32 x 32: --net's input shape unless --input-shape says
 * otherwise. */
static int check_dataset(train_options *o)
{
    if (o->dataset != TRAIN_DATASET_CIFAR10)
        return 0;
    if (!o->data_given && !o->synthetic) {
        usage_error("--dataset cifar10 needs --data DIR (CIFAR-10 has no default directory)");
        return -1;
    }
    if (!o->input_shape_given) {
        o->input_shape[0] = 3;
        o->input_shape[1] = 32;
        o->input_shape[2] = 32;
    }
    return 0;
}

/* Runs once the whole command line is read, as --algo may come last. */
static int check_settings(train_options *o)
{
    if (check_rule_flags(o) != 0 || check_dataset(o) != 0)
        return -1;
    for (size_t i = 0; i < n_settings(); i++)
        if (o->given[i] != NULL && check_value(o, i) != 0)
            return -1;
    if ((o->algo == PCMUP_RULE_PC && check_gamma_bar(o) != 0) || check_pc_timing(o) != 0)
        return -1;
    if (check_layer_parallel(o) != 0)
        return -1;
    if (check_net(o) != 0)
        return -1;
    if (o->resume == NULL)
        follow(o);
    return 0;
}

train_parse_result train_options_check(train_options *opts)
{
    return check_settings(opts) == 0 ? TRAIN_PARSE_RUN : TRAIN_PARSE_USAGE;
}

/* The checkpoint flags together; with --resume also what can be checked
 * before its checkpoint is read: each setting's value on its own. */
static int check_alone(const train_options *o)
{
    if (o->checkpoint_every != 0 && o->save == NULL) {
        usage_error("--checkpoint-every needs --save FILE");
        return -1;
    }
    for (size_t i = 0; o->resume != NULL && i < n_settings(); i++)
        if (o->given[i] != NULL && check_value(o, i) != 0)
            return -1;
    return 0;
}

train_parse_result train_options_parse(train_options *opts, int argc, char **argv)
{
    train_options_default(opts);
    for (int i = 1; i < argc; i++) {
        option_match m;
        const char *arg = argv[i];
        const char *value;

        if (!find_option(arg, &m))
            return usage_error("unknown option '%s'", arg);
        if (m.spec != NULL)
            opts->flags_given |= (uint64_t)1 << (m.spec - option_table);
        if (m.spec != NULL && !m.spec->takes_value) {
            if (m.value != NULL)
                return usage_error("%s takes no value", m.spec->name);
            if (apply_flag(opts, m.spec->id))
                return TRAIN_PARSE_EXIT;
            continue;
        }
        value = m.value;
        if (value == NULL) {
            if (i + 1 >= argc)
                return usage_error("%.*s needs a value", m.len, arg);
            value = argv[++i];
        }
        if ((m.spec != NULL ? apply_value(opts, m.spec, value)
                            : apply_setting(opts, &m, arg, value)) != 0)
            return TRAIN_PARSE_USAGE;
    }
    if (check_alone(opts) != 0)
        return TRAIN_PARSE_USAGE;
    /* With --resume the rest waits for the checkpoint (train_options_check). */
    return opts->resume != NULL ? TRAIN_PARSE_RUN : train_options_check(opts);
}
