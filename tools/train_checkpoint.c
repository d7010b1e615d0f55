/* SPDX-License-Identifier: MIT */
/*
 * train_checkpoint.c -- pcmup-train's checkpoints (train_checkpoint.h).
 */
#include "train_checkpoint.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The tool's metadata keys. */
#define KEY(name) "user.pcmup-train." name

/* Room for one value as text. */
#define TEXT_MAX 4096

/* A failure the tool found in the file; `detail` says what. */
static int checkpoint_error(train_error *e, pcmup_status status, const char *path,
                            const char *fmt, ...)
{
    va_list ap;
    e->status = status;
    snprintf(e->what, sizeof e->what, "--resume %s", path);
    va_start(ap, fmt);
    vsnprintf(e->detail, sizeof e->detail, fmt, ap);
    va_end(ap);
    return -1;
}

/* A failed library call on the file: its message tells more. */
static int library_error(train_error *e, pcmup_status status, const char *flag,
                         const char *path)
{
    e->status = status;
    e->detail[0] = '\0';
    snprintf(e->what, sizeof e->what, "%s %s", flag, path);
    return -1;
}

/* "synthetic", or the name of --dataset. */
static const char *data_name(const train_options *o)
{
    return o->synthetic ? "synthetic" : train_dataset_name(o->dataset);
}

/* ---- saving --------------------------------------------------------------- */

int train_checkpoint_save(const train_model *m, const train_data *d, const train_options *o,
                          train_error *e)
{
    char batch[32], train_limit[32], test_limit[32], train_samples[32], test_samples[32];
    snprintf(batch, sizeof batch, "%zu", o->batch);
    snprintf(train_limit, sizeof train_limit, "%zu", o->train_limit);
    snprintf(test_limit, sizeof test_limit, "%zu", o->test_limit);
    snprintf(train_samples, sizeof train_samples, "%zu", d->train_samples);
    snprintf(test_samples, sizeof test_samples, "%zu", d->test_samples);
    /* The data directory last: a synthetic run has none. */
    const char *const meta[] = {
        KEY("dataset"),       data_name(o),
        KEY("train_limit"),   train_limit,
        KEY("test_limit"),    test_limit,
        KEY("standardize"),   o->standardize ? "true" : "false",
        KEY("train_samples"), train_samples,
        KEY("test_samples"),  test_samples,
        KEY("batch"),         batch,
        KEY("data"),          o->data_dir,
    };
    const size_t n = COUNT(meta) / 2 - (o->synthetic ? 1 : 0);
    pcmup_status st = pcmup_algo_save(m->algo, o->save, meta, n);
    return st == PCMUP_OK ? 0 : library_error(e, st, "--save", o->save);
}

/* ---- reading the checkpoint's options ---------------------------------------- */

typedef struct {
    const pcmup_checkpoint *ck;
    const char *path;
    train_error *e;
} reader;

/* The value of `key`, NULL when the checkpoint has none. */
static const char *meta(const reader *r, const char *key)
{
    const char *value = NULL;
    (void)pcmup_checkpoint_metadata(r->ck, key, &value);
    return value;
}

static int unusable(const reader *r, const char *key, const char *value)
{
    return checkpoint_error(r->e, PCMUP_ERR_FORMAT, r->path,
                            "metadata \"%s\" is \"%.60s\", which pcmup-train cannot use", key,
                            value != NULL ? value : "(missing)");
}

/* The whole text is a whole number. */
static int size_of(const char *text, size_t *value)
{
    char *end;
    if (text == NULL || !isdigit((unsigned char)text[0]))
        return -1;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || v > SIZE_MAX)
        return -1;
    *value = (size_t)v;
    return 0;
}

/* The whole text is a number (the library writes them with '.', which is
 * the C locale's, pcmup-train's). */
static int double_of(const char *text, double *value)
{
    char *end;
    if (text == NULL || text[0] == '\0' || isspace((unsigned char)text[0]))
        return -1;
    *value = strtod(text, &end);
    return *end == '\0' ? 0 : -1;
}

/* A required whole number. */
static int read_size(const reader *r, const char *key, size_t *value)
{
    const char *text = meta(r, key);
    return size_of(text, value) == 0 ? 0 : unusable(r, key, text);
}

static int read_double(const reader *r, const char *key, double *value)
{
    const char *text = meta(r, key);
    return double_of(text, value) == 0 ? 0 : unusable(r, key, text);
}

/* An optional whole number (the tool's keys: a checkpoint another program
 * saved has none, and the command line's value stays). */
static int read_user_size(const reader *r, const char *key, size_t *value)
{
    const char *text = meta(r, key);
    return text == NULL || size_of(text, value) == 0 ? 0 : unusable(r, key, text);
}

static int read_bool(const reader *r, const char *key, int required, int *value)
{
    const char *text = meta(r, key);
    if (text == NULL && !required)
        return 0;
    if (text == NULL || (strcmp(text, "true") != 0 && strcmp(text, "false") != 0))
        return unusable(r, key, text);
    *value = strcmp(text, "true") == 0;
    return 0;
}

/* "a,b,c" into count sizes. */
static int read_sizes(const reader *r, const char *key, size_t *values, size_t count)
{
    const char *text = meta(r, key);
    char item[32];
    const char *at = text;
    for (size_t i = 0; at != NULL && i < count; i++) {
        size_t len = strcspn(at, ",");
        snprintf(item, sizeof item, "%.*s", (int)(len < sizeof item ? len : 0), at);
        if (size_of(item, &values[i]) != 0 || (i + 1 < count) != (at[len] == ','))
            return unusable(r, key, text);
        at += len + 1;
    }
    return at != NULL ? 0 : unusable(r, key, text);
}

/* rule, param.preset: sp or the rule's muP, which --param mup builds. */
static int read_rule_and_param(const reader *r, train_options *o)
{
    pcmup_rule rule;
    pcmup_status st = pcmup_checkpoint_rule(r->ck, &rule);
    if (st == PCMUP_ERR_UNSUPPORTED)
        return checkpoint_error(r->e, st, r->path,
                                "a network's checkpoint, not a training run's: it has no "
                                "learning rule to resume");
    if (st != PCMUP_OK)
        return library_error(r->e, st, "--resume", r->path);
    if (strcmp(train_algo_name(rule), "unknown") == 0)
        return unusable(r, "rule", meta(r, "rule"));
    o->algo = rule;
    const char *preset = meta(r, "param.preset");
    if (preset == NULL || strcmp(preset, "custom") == 0)
        return unusable(r, "param.preset", preset);
    o->preset = strcmp(preset, "sp") == 0 ? PCMUP_PRESET_SP : PCMUP_PRESET_MUP_SGD;
    size_t base_width;
    if (read_size(r, "param.base_width", &base_width) != 0
        || read_double(r, "param.gamma_bar", &o->gamma_bar) != 0)
        return -1;
    o->base_width = base_width;
    return 0;
}

/* The MLP's depth and hidden width, or the description, its input shape
 * and M. An MLP of one layer has no hidden width: --width stays. */
static int read_net(const reader *r, train_options *o)
{
    const char *kind = meta(r, "net.kind");
    const char *act = meta(r, "net.activation");
    if (read_size(r, "net.layers", &o->depth) != 0 || read_bool(r, "net.bias", 1, &o->bias) != 0)
        return -1;
    if (act == NULL || train_activation_find(act, &o->activation) != 0)
        return unusable(r, "net.activation", act);
    const char *seed = meta(r, "net.seed");
    size_t s;
    if (size_of(seed, &s) != 0)
        return unusable(r, "net.seed", seed);
    o->seed = (uint64_t)s;
    if (kind != NULL && strcmp(kind, "described") == 0) {
        o->net = meta(r, "net.description");
        o->input_shape_given = 1;
        if (o->net == NULL)
            return unusable(r, "net.description", NULL);
        return read_sizes(r, "net.input_shape", o->input_shape, 3) != 0
                       || read_size(r, "net.width", &o->width) != 0
                   ? -1
                   : 0;
    }
    if (kind == NULL || strcmp(kind, "mlp") != 0)
        return unusable(r, "net.kind", kind);
    o->net = NULL;
    size_t widths[1026];
    if (o->depth < 1 || o->depth + 1 > COUNT(widths))
        return unusable(r, "net.layers", meta(r, "net.layers"));
    if (read_sizes(r, "net.widths", widths, o->depth + 1) != 0)
        return -1;
    for (size_t l = 2; l < o->depth; l++)
        if (widths[l] != widths[1])
            return checkpoint_error(r->e, PCMUP_ERR_FORMAT, r->path,
                                    "hidden widths %zu and %zu: pcmup-train trains MLPs of "
                                    "one hidden width",
                                    widths[1], widths[l]);
    if (o->depth >= 2)
        o->width = widths[1];
    return 0;
}

/* Every setting of the rule ("setting.<name>": a value's name or a
 * number); a setting the rule does not have keeps its default. */
static int read_settings(const reader *r, train_options *o)
{
    for (size_t i = 0; i < pcmup_setting_count(); i++) {
        pcmup_setting key;
        const char *name = "";
        char mkey[128];
        double v;
        (void)pcmup_setting_at(i, &key);
        (void)pcmup_setting_name(key, &name);
        snprintf(mkey, sizeof mkey, "setting.%s", name);
        const char *text = meta(r, mkey);
        if (text == NULL)
            continue;
        if (pcmup_setting_value_find(key, text, &v) != PCMUP_OK && double_of(text, &v) != 0)
            return unusable(r, mkey, text);
        train_set_value(o, key, v);
    }
    return 0;
}

/* The data and the batch: the tool's keys. The directory is where the
 * data were, which --data may change (it says where, not what). */
static int read_data(const reader *r, train_options *o)
{
    const char *dataset = meta(r, KEY("dataset"));
    if (dataset != NULL) {
        o->synthetic = strcmp(dataset, "synthetic") == 0;
        if (!o->synthetic && train_dataset_find(dataset, &o->dataset) != 0)
            return unusable(r, KEY("dataset"), dataset);
    }
    const char *dir = meta(r, KEY("data"));
    if (dir != NULL && !o->data_given) {
        o->data_dir = dir;
        o->data_given = 1;
    }
    return read_user_size(r, KEY("train_limit"), &o->train_limit) != 0
                   || read_user_size(r, KEY("test_limit"), &o->test_limit) != 0
                   || read_user_size(r, KEY("batch"), &o->batch) != 0
                   || read_bool(r, KEY("standardize"), 0, &o->standardize) != 0
               ? -1
               : 0;
}

static int read_options(const reader *r, train_options *o)
{
    size_t epochs;
    if (read_rule_and_param(r, o) != 0 || read_net(r, o) != 0 || read_settings(r, o) != 0
        || read_data(r, o) != 0 || read_size(r, "epochs", &epochs) != 0)
        return -1;
    o->epochs_done = epochs;
    return 0;
}

/* ---- flags against the checkpoint --------------------------------------------- */

/* The shortest text that reads back as v. */
static void number_text(double v, char *buf, size_t size)
{
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(buf, size, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

static void on_off(int v, char *buf, size_t size)
{
    snprintf(buf, size, "%s", v ? "on" : "off");
}

/* A description in the library's canonical form (presets expanded), as
 * the network it gives at o's input shape and width has it; the text
 * itself when it gives none. */
static void canonical_net(const char *text, const train_options *o, char *buf, size_t size)
{
    pcmup_net_builder *b = NULL;
    pcmup_param *p = NULL;
    pcmup_net *net = NULL;
    size_t n = 0, len = 0;
    pcmup_status st = pcmup_net_builder_create(&b, NULL);
    if (st == PCMUP_OK)
        st = pcmup_net_builder_parse(b, text);
    if (st == PCMUP_OK)
        st = pcmup_net_builder_n_layers(b, &n);
    if (st == PCMUP_OK)
        st = pcmup_param_create(&p, n, PCMUP_PRESET_SP, NULL);
    if (st == PCMUP_OK)
        st = pcmup_net_create_from_builder(&net, b, o->input_shape[0], o->input_shape[1],
                                           o->input_shape[2], o->width, o->activation, 0u, p,
                                           0, NULL);
    if (st == PCMUP_OK)
        st = pcmup_net_describe(net, buf, size, &len);
    if (st != PCMUP_OK || len >= size)
        snprintf(buf, size, "%s", text);
    pcmup_net_free(net);
    pcmup_param_free(p);
    pcmup_net_builder_free(b);
}

/* A flag of the run's own as text: `of` is the options whose value is
 * written, `ck` the checkpoint's (for --net's canonical form). */
typedef void (*flag_text)(const train_options *of, const train_options *ck, char *buf,
                          size_t size);

static void algo_text(const train_options *o, const train_options *ck, char *buf, size_t size)
{
    (void)ck;
    snprintf(buf, size, "%s", train_algo_name(o->algo));
}

static void param_text(const train_options *o, const train_options *ck, char *buf, size_t size)
{
    (void)ck;
    snprintf(buf, size, "%s", train_param_name(o->preset));
}

static void width_text(const train_options *o, const train_options *ck, char *buf, size_t size)
{
    /* An MLP of one layer has no hidden width to contradict. */
    if (ck->net == NULL && ck->depth == 1)
        o = ck;
    snprintf(buf, size, "%zu", o->width);
}

static void depth_text(const train_options *o, const train_options *ck, char *buf, size_t size)
{
    (void)ck;
    snprintf(buf, size, "%zu", o->depth);
}

static void net_text(const train_options *o, const train_options *ck, char *buf, size_t size)
{
    if (o->net == NULL)
        snprintf(buf, size, "an MLP");
    else
        canonical_net(o->net, ck, buf, size);
}

static void shape_text(const train_options *o, const train_options *ck, char *buf, size_t size)
{
    if (ck->net == NULL && o == ck)
        snprintf(buf, size, "an MLP (no input shape)");
    else
        snprintf(buf, size, "%zux%zux%zu", o->input_shape[0], o->input_shape[1],
                 o->input_shape[2]);
}

static void base_width_text(const train_options *o, const train_options *ck, char *buf,
                            size_t size)
{
    (void)ck;
    snprintf(buf, size, "%zu", o->base_width);
}

static void activation_text(const train_options *o, const train_options *ck, char *buf,
                            size_t size)
{
    (void)ck;
    snprintf(buf, size, "%s", train_activation_name(o->activation));
}

static void bias_text(const train_options *o, const train_options *ck, char *buf, size_t size)
{
    (void)ck;
    on_off(o->bias, buf, size);
}

static void seed_text(const train_options *o, const train_options *ck, char *buf, size_t size)
{
    (void)ck;
    snprintf(buf, size, "%llu", (unsigned long long)o->seed);
}

static void gamma_bar_text(const train_options *o, const train_options *ck, char *buf,
                           size_t size)
{
    (void)ck;
    number_text(o->gamma_bar, buf, size);
}

static void batch_text(const train_options *o, const train_options *ck, char *buf, size_t size)
{
    (void)ck;
    snprintf(buf, size, "%zu", o->batch);
}

static void limit_text(size_t limit, char *buf, size_t size)
{
    if (limit == 0)
        snprintf(buf, size, "none (every sample)");
    else
        snprintf(buf, size, "%zu", limit);
}

static void train_limit_text(const train_options *o, const train_options *ck, char *buf,
                             size_t size)
{
    (void)ck;
    limit_text(o->train_limit, buf, size);
}

static void test_limit_text(const train_options *o, const train_options *ck, char *buf,
                            size_t size)
{
    (void)ck;
    limit_text(o->test_limit, buf, size);
}

static void standardize_text(const train_options *o, const train_options *ck, char *buf,
                             size_t size)
{
    (void)ck;
    on_off(o->standardize, buf, size);
}

static void data_text(const train_options *o, const train_options *ck, char *buf, size_t size)
{
    (void)ck;
    snprintf(buf, size, "%s", data_name(o));
}

/* The run's flags a checkpoint decides; --epochs, --threads, --json,
 * --data (where the data are) and --max-data-bytes do not contradict it. */
static const struct {
    const char *flag;
    flag_text text;
} model_flags[] = {
    {"--algo", algo_text},           {"--param", param_text},
    {"--width", width_text},         {"--depth", depth_text},
    {"--net", net_text},             {"--input-shape", shape_text},
    {"--base-width", base_width_text}, {"--activation", activation_text},
    {"--bias", bias_text},           {"--seed", seed_text},
    {"--gamma-bar", gamma_bar_text}, {"--batch", batch_text},
    {"--train-limit", train_limit_text}, {"--test-limit", test_limit_text},
    {"--standardize", standardize_text}, {"--synthetic", data_text},
    {"--dataset", data_text},
};

static train_resume_result contradiction(const char *prog, const char *flag, int flag_len,
                                         const char *mine, const char *theirs,
                                         const char *path)
{
    fprintf(stderr,
            "%s: %.*s %s contradicts the checkpoint %s, which has %s (a resumed run is the "
            "checkpoint's; see --help)\n",
            prog, flag_len, flag, mine, path, theirs);
    return TRAIN_RESUME_USAGE;
}

/* A setting's value as its flag's word or a number. */
static void setting_text(const train_options *o, pcmup_setting key, char *buf, size_t size)
{
    const char *word = train_value_word(o, key);
    if (word != NULL)
        snprintf(buf, size, "%s", word);
    else
        number_text(train_value(o, key), buf, size);
}

/* Every flag given must say what the checkpoint says. A setting of
 * another rule is left to train_options_check, which names the rules
 * that have it. */
static train_resume_result check_flags(const train_options *o, const train_options *ck,
                                       const char *prog)
{
    char mine[TEXT_MAX], theirs[TEXT_MAX];
    for (size_t i = 0; i < COUNT(model_flags); i++) {
        if (!train_flag_given(o, model_flags[i].flag))
            continue;
        model_flags[i].text(o, ck, mine, sizeof mine);
        model_flags[i].text(ck, ck, theirs, sizeof theirs);
        if (strcmp(mine, theirs) != 0)
            return contradiction(prog, model_flags[i].flag, (int)strlen(model_flags[i].flag),
                                 mine, theirs, o->resume);
    }
    for (size_t i = 0; i < pcmup_setting_count() && i < TRAIN_MAX_SETTINGS; i++) {
        pcmup_setting key;
        int accepts = 0;
        (void)pcmup_setting_at(i, &key);
        if (o->given[i] == NULL || pcmup_setting_accepts(key, ck->algo, &accepts) != PCMUP_OK
            || !accepts || train_value(o, key) == train_value(ck, key))
            continue;
        setting_text(o, key, mine, sizeof mine);
        setting_text(ck, key, theirs, sizeof theirs);
        return contradiction(prog, o->given[i], (int)strcspn(o->given[i], "="), mine, theirs,
                             o->resume);
    }
    return TRAIN_RESUME_OK;
}

train_resume_result train_resume_options(train_options *o, pcmup_checkpoint **ck,
                                         const char *prog, train_error *e)
{
    train_options from = *o;
    reader r = {NULL, o->resume, e};
    pcmup_status st = pcmup_checkpoint_open(ck, o->resume, NULL);
    if (st != PCMUP_OK) {
        *ck = NULL;
        library_error(e, st, "--resume", o->resume);
        return TRAIN_RESUME_FAILED;
    }
    r.ck = *ck;
    train_resume_result rc = read_options(&r, &from) == 0 ? check_flags(o, &from, prog)
                                                           : TRAIN_RESUME_FAILED;
    if (rc == TRAIN_RESUME_OK) {
        *o = from;
        return rc;
    }
    pcmup_checkpoint_free(*ck);
    *ck = NULL;
    return rc;
}

/* ---- the model ------------------------------------------------------------------- */

/* The data must be the ones the checkpoint trained on, as far as it can
 * tell: their shapes, and their sample count when it has it. */
static int check_data(const pcmup_net *net, const pcmup_checkpoint *ck, const train_options *o,
                      const train_data *d, train_error *e)
{
    size_t c = 0, h = 0, w = 0, layers = 0, out = 0, in = 0, samples = 0;
    const char *recorded = NULL;
    pcmup_status st = pcmup_net_input_shape(net, &c, &h, &w);
    if (st == PCMUP_OK)
        st = pcmup_net_n_layers(net, &layers);
    if (st == PCMUP_OK)
        st = pcmup_net_layer_shape(net, layers, &out, &in);
    if (st != PCMUP_OK)
        return library_error(e, st, "--resume", o->resume);
    if (c * h * w != d->dim || out != d->n_classes)
        return checkpoint_error(e, PCMUP_ERR_SHAPE, o->resume,
                                "its network takes inputs of %zu values and has %zu outputs, "
                                "the data have %zu values and %zu classes",
                                c * h * w, out, d->dim, d->n_classes);
    (void)pcmup_checkpoint_metadata(ck, KEY("train_samples"), &recorded);
    if (recorded != NULL && size_of(recorded, &samples) == 0 && samples != d->train_samples)
        return checkpoint_error(e, PCMUP_ERR_SHAPE, o->resume,
                                "it was trained on %zu samples, the training set has %zu",
                                samples, d->train_samples);
    return 0;
}

int train_resume_model(train_model *m, const pcmup_checkpoint *ck, const train_options *o,
                       const train_data *d, train_error *e)
{
    memset(m, 0, sizeof *m);
    m->width = o->width;
    pcmup_status st = pcmup_net_create_from_checkpoint(&m->net, ck, NULL);
    if (st != PCMUP_OK) {
        library_error(e, st, "--resume", o->resume);
        goto fail;
    }
    if (check_data(m->net, ck, o, d, e) != 0)
        goto fail;
    st = pcmup_algo_create_from_checkpoint(&m->algo, m->net, ck, NULL);
    if (st == PCMUP_OK && o->algo == PCMUP_RULE_PC)
        st = pcmup_pc_gamma_out(m->algo, &m->gamma_L);
    if (st == PCMUP_OK)
        return 0;
    library_error(e, st, "--resume", o->resume);
fail:
    train_model_free(m);
    return -1;
}
