/* SPDX-License-Identifier: MIT */
/*
 * train_setup.c -- data, model and JSON keys of one training run
 * (train_setup.h).
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream */

#include "train_setup.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

/* Fills *e after a failed library call and returns -1, so a failing step
 * is one line. */
static int set_error(train_error *e, pcmup_status status, const char *fmt, ...)
{
    va_list ap;
    e->status = status;
    e->detail[0] = '\0';
    va_start(ap, fmt);
    vsnprintf(e->what, sizeof e->what, fmt, ap);
    va_end(ap);
    return -1;
}

/* set_error for a failure the tool found itself, which `detail` explains
 * (the library's last message is about something else). */
static int set_own_error(train_error *e, pcmup_status status, const char *what,
                         const char *detail)
{
    set_error(e, status, "%s", what);
    snprintf(e->detail, sizeof e->detail, "%s", detail);
    return -1;
}

void train_error_report(const char *prog, const train_error *e)
{
    const char *detail = e->detail[0] != '\0' ? e->detail : pcmup_last_error();
    if (detail[0] == '\0')
        detail = pcmup_status_message(e->status);
    fprintf(stderr, "%s: %s: %s (%s)\n", prog, e->what, detail,
            pcmup_status_name(e->status));
}

/* ---- data ---------------------------------------------------------------- */

void train_data_free(train_data *d)
{
    pcmup_dataset_free(d->train);
    pcmup_dataset_free(d->test);
    memset(d, 0, sizeof *d);
}

/* One split of --dataset from --data: its first `limit` samples (0: all),
 * read by the head loaders, which stop reading and decompressing there. */
static int load_split(pcmup_dataset **out, const train_options *o, pcmup_split split,
                      size_t limit, train_error *e)
{
    size_t max_samples = limit != 0 ? limit : SIZE_MAX;
    pcmup_status st =
        o->dataset == TRAIN_DATASET_CIFAR10
            ? pcmup_dataset_load_cifar10_head(out, o->data_dir, split, max_samples,
                                              o->max_data_bytes, NULL)
            : pcmup_dataset_load_fashion_mnist_head(out, o->data_dir, split, max_samples,
                                                    o->max_data_bytes, NULL);
    if (st == PCMUP_OK)
        return 0;
    return set_error(e, st, "loading the %s set",
                     split == PCMUP_SPLIT_TRAIN ? "training" : "test");
}

/* The test set first: the training rows are then the last memory written,
 * still in the cache when the first epoch reads them (loaded first, they
 * were evicted by the rest of the load, and the first epoch of a short
 * run read them from memory while later epochs found them cached). */
static int load_dataset(train_data *d, const train_options *o, train_error *e)
{
    if (load_split(&d->test, o, PCMUP_SPLIT_TEST, o->test_limit, e) != 0
        || load_split(&d->train, o, PCMUP_SPLIT_TRAIN, o->train_limit, e) != 0)
        return -1;
    return 0;
}

/* ---- the --synthetic problem ---------------------------------------------- */

enum {
    SYNTHETIC_DIM = 64,
    SYNTHETIC_CLASSES = 10,
    SYNTHETIC_TRAIN = 2048, /* samples when --train-limit is not given */
    SYNTHETIC_TEST = 1024   /* samples when --test-limit is not given  */
};

/* Independent streams for the teacher and each split, all from --seed:
 * the test set does not depend on how many training samples were drawn.
 * The seed goes through splitmix once so that nearby seeds and stream
 * numbers give unrelated streams. */
static uint64_t synthetic_stream(uint64_t seed, uint64_t stream)
{
    uint64_t state = seed ^ (0x53594E5448455449ull + stream); /* "SYNTHETI" */
    return rng_next(&state);
}

/* The class whose teacher column has the largest product with x. */
static int32_t teacher_label(const float *x, const double *teacher)
{
    double best = -HUGE_VAL;
    int32_t label = 0;
    for (int32_t k = 0; k < SYNTHETIC_CLASSES; k++) {
        double score = 0.0;
        for (size_t i = 0; i < SYNTHETIC_DIM; i++)
            score += (double)x[i] * teacher[i * SYNTHETIC_CLASSES + (size_t)k];
        if (score > best) {
            best = score;
            label = k;
        }
    }
    return label;
}

/* n samples x ~ N(0, I), labelled by the teacher. */
static int synthetic_split(pcmup_dataset **out, size_t n, const double *teacher,
                           uint64_t rng, const char *what, train_error *e)
{
    float *x = malloc(n * SYNTHETIC_DIM * sizeof *x);
    int32_t *labels = malloc(n * sizeof *labels);

    if (x == NULL || labels == NULL) {
        free(x);
        free(labels);
        return set_own_error(e, PCMUP_ERR_NOMEM, what, "out of memory");
    }
    for (size_t s = 0; s < n; s++) {
        float *xs = x + s * SYNTHETIC_DIM;
        for (size_t i = 0; i < SYNTHETIC_DIM; i++)
            xs[i] = (float)rng_normal(&rng);
        labels[s] = teacher_label(xs, teacher);
    }
    pcmup_status st = pcmup_dataset_from_arrays(out, n, SYNTHETIC_DIM, SYNTHETIC_CLASSES, x,
                                                n * SYNTHETIC_DIM, labels, NULL);
    free(x);
    free(labels);
    return st == PCMUP_OK ? 0 : set_error(e, st, "%s", what);
}

static int load_synthetic(train_data *d, const train_options *o, train_error *e)
{
    double teacher[SYNTHETIC_DIM * SYNTHETIC_CLASSES];
    uint64_t rng = synthetic_stream(o->seed, 0);
    size_t n_train = o->train_limit != 0 ? o->train_limit : SYNTHETIC_TRAIN;
    size_t n_test = o->test_limit != 0 ? o->test_limit : SYNTHETIC_TEST;

    for (size_t i = 0; i < sizeof teacher / sizeof teacher[0]; i++)
        teacher[i] = rng_normal(&rng);
    if (synthetic_split(&d->train, n_train, teacher, synthetic_stream(o->seed, 1),
                        "drawing the synthetic training set", e) != 0
        || synthetic_split(&d->test, n_test, teacher, synthetic_stream(o->seed, 2),
                           "drawing the synthetic test set", e) != 0)
        return -1;
    return 0;
}

/* The shapes every later step reads. The network is built for the
 * training set, so a test set of another shape would fail only at the
 * first evaluation, after an epoch of training: say so now. */
static int read_shapes(train_data *d, train_error *e)
{
    size_t test_dim, test_classes;
    pcmup_status st = pcmup_dataset_info(d->train, &d->train_samples, &d->dim,
                                         &d->n_classes);
    if (st == PCMUP_OK)
        st = pcmup_dataset_info(d->test, &d->test_samples, &test_dim, &test_classes);
    if (st != PCMUP_OK)
        return set_error(e, st, "reading the dataset sizes");
    if (test_dim == d->dim && test_classes == d->n_classes)
        return 0;
    char detail[160];
    snprintf(detail, sizeof detail,
             "the test set has samples of dimension %zu and %zu classes, the training set "
             "%zu and %zu",
             test_dim, test_classes, d->dim, d->n_classes);
    return set_own_error(e, PCMUP_ERR_SHAPE, "checking the test set", detail);
}

/* Truncation comes first so that --standardize uses the statistics of the
 * samples actually trained on; the test set is standardised before the
 * training set, whose statistics it needs, is changed. */
int train_data_load(train_data *d, const train_options *o, train_error *e)
{
    pcmup_status st = PCMUP_OK;

    memset(d, 0, sizeof *d);
    if ((o->synthetic ? load_synthetic(d, o, e) : load_dataset(d, o, e)) != 0)
        goto fail;
    if (o->standardize) {
        st = pcmup_dataset_standardize(d->test, d->train);
        if (st == PCMUP_OK)
            st = pcmup_dataset_standardize(d->train, NULL);
        if (st != PCMUP_OK) {
            set_error(e, st, "--standardize");
            goto fail;
        }
    }
    if (read_shapes(d, e) == 0)
        return 0;
fail:
    train_data_free(d);
    return -1;
}

/* ---- model --------------------------------------------------------------- */

/* The preset's PC and GNT rows depend on gammabar_L and e_B, which the
 * options hold for every rule (at their defaults where unused). */
int train_build_param(pcmup_param **out, const train_options *o, train_error *e)
{
    pcmup_preset preset = train_effective_preset(o);
    *out = NULL;
    pcmup_status st = pcmup_param_create(out, o->depth, preset, NULL);
    if (st == PCMUP_OK)
        st = pcmup_param_apply_preset(*out, preset, o->gamma_bar,
                                      train_value(o, PCMUP_SET_GNT_POWER));
    if (st == PCMUP_OK)
        st = pcmup_param_set(*out, PCMUP_PARAM_BASE_WIDTH, (double)o->base_width);
    if (st == PCMUP_OK)
        return 0;
    pcmup_param_free(*out);
    *out = NULL;
    return set_error(e, st, "creating the parameterization");
}

/* --net: the description at the input shape, which must hold the data's
 * dim values. */
static int build_described_net(pcmup_net **out, const train_options *o,
                               const pcmup_param *param, size_t dim, size_t width,
                               train_error *e)
{
    const size_t *s = o->input_shape;
    if (s[0] * s[1] * s[2] != dim) {
        char detail[160];
        snprintf(detail, sizeof detail,
                 "--input-shape %zux%zux%zu holds %zu values, the data %zu", s[0], s[1], s[2],
                 s[0] * s[1] * s[2], dim);
        return set_own_error(e, PCMUP_ERR_SHAPE, "creating the network", detail);
    }
    pcmup_status st = pcmup_net_create_from_text(out, o->net, s[0], s[1], s[2], width,
                                                 o->activation, o->bias ? PCMUP_NET_BIAS : 0u,
                                                 param, o->seed, NULL);
    return st == PCMUP_OK ? 0 : set_error(e, st, "creating the network");
}

int train_build_net(pcmup_net **out, const train_options *o, const pcmup_param *param,
                    size_t dim, size_t n_classes, size_t width, train_error *e)
{
    *out = NULL;
    if (o->net)
        return build_described_net(out, o, param, dim, width, e);
    size_t *widths = malloc((o->depth + 1) * sizeof *widths);
    if (widths == NULL)
        return set_own_error(e, PCMUP_ERR_NOMEM, "creating the network", "out of memory");
    widths[0] = dim;
    for (size_t l = 1; l < o->depth; l++)
        widths[l] = width;
    widths[o->depth] = n_classes;
    pcmup_status st = pcmup_net_create(out, widths, o->depth + 1, o->activation,
                                       o->bias ? PCMUP_NET_BIAS : 0u, param, o->seed, NULL);
    free(widths);
    return st == PCMUP_OK ? 0 : set_error(e, st, "creating the network");
}

/* The shuffling stream gets its own seed so it is not the weights' stream. */
int train_build_algo(pcmup_algo **out, const train_options *o, pcmup_net *net,
                     train_error *e)
{
    pcmup_status st = pcmup_algo_create(out, o->algo, net, o->seed + 1u, NULL);
    if (st != PCMUP_OK)
        return set_error(e, st, "creating the learning rule");
    st = train_apply_settings(o, *out);
    if (st == PCMUP_OK)
        return 0;
    pcmup_algo_free(*out);
    *out = NULL;
    return set_error(e, st, "configuring the learning rule");
}

int train_model_reserve(train_model *m, const train_options *o, size_t train_samples,
                        train_error *e)
{
    size_t batch = o->batch < train_samples ? o->batch : train_samples;
    pcmup_status st = pcmup_algo_reserve(m->algo, batch > 0 ? batch : 1);
    return st == PCMUP_OK ? 0 : set_error(e, st, "reserving the training buffers");
}

void train_model_free(train_model *m)
{
    pcmup_algo_free(m->algo);
    pcmup_net_free(m->net);
    pcmup_param_free(m->param);
    memset(m, 0, sizeof *m);
}

int train_model_build(train_model *m, const train_options *o, size_t dim,
                      size_t n_classes, size_t width, train_error *e)
{
    pcmup_status st;

    memset(m, 0, sizeof *m);
    m->width = width;
    if (train_build_param(&m->param, o, e) != 0
        || train_build_net(&m->net, o, m->param, dim, n_classes, width, e) != 0
        || train_build_algo(&m->algo, o, m->net, e) != 0)
        goto fail;
    if (o->algo != PCMUP_RULE_PC)
        return 0;
    st = pcmup_pc_gamma_out(m->algo, &m->gamma_L);
    if (st == PCMUP_OK)
        return 0;
    set_error(e, st, "configuring the learning rule");
fail:
    train_model_free(m);
    return -1;
}

/* ---- the JSON keys of a run ---------------------------------------------- */

/* The order of the keys is the one runs have always had: pcmup-sweep
 * resumes a file by its rows' configuration strings. gamma_L is the
 * output precision at this width, gamma_out is gamma'_L. */
void train_put_settings(jsonl_writer *w, const train_options *o, size_t width,
                        double gamma_L)
{
    jsonl_put_string(w, "algo", train_algo_name(o->algo));
    jsonl_put_string(w, "param", train_param_name(o->preset));
    jsonl_put_size(w, "width", width);
    jsonl_put_size(w, "depth", o->depth);
    if (o->net) {
        char shape[96];
        snprintf(shape, sizeof shape, "%zux%zux%zu", o->input_shape[0], o->input_shape[1],
                 o->input_shape[2]);
        jsonl_put_string(w, "net", o->net);
        jsonl_put_string(w, "input_shape", shape);
    }
    jsonl_put_string(w, "activation", train_activation_name(o->activation));
    train_put_setting(w, o, PCMUP_SET_LOSS);
    train_put_setting(w, o, PCMUP_SET_LR);
    jsonl_put_size(w, "base_width", o->base_width);
    jsonl_put_size(w, "epochs", o->epochs);
    jsonl_put_size(w, "batch", o->batch);
    jsonl_put_u64(w, "seed", (unsigned long long)o->seed);
    train_put_setting(w, o, PCMUP_SET_MOMENTUM);
    train_put_setting(w, o, PCMUP_SET_WEIGHT_DECAY);
    train_put_setting(w, o, PCMUP_SET_MSE_CENTRED);
    jsonl_put_bool(w, "bias", o->bias);
    jsonl_put_bool(w, "standardize", o->standardize);
    jsonl_put_size(w, "threads", (size_t)o->threads);
    jsonl_put_string(w, "data", o->synthetic ? "synthetic" : o->data_dir);
    /* Only when not FashionMNIST: the rows of earlier runs stay resumable. */
    if (!o->synthetic && o->dataset != TRAIN_DATASET_FASHION_MNIST)
        jsonl_put_string(w, "dataset", train_dataset_name(o->dataset));
    if (o->algo == PCMUP_RULE_PC)
        jsonl_put_number(w, "gamma_bar", o->gamma_bar);
    train_put_rule_settings(w, o);
    if (o->algo == PCMUP_RULE_PC)
        jsonl_put_number(w, "gamma_L", gamma_L);
}

double train_samples_per_second(const train_options *o, const train_results *r)
{
    return r->seconds > 0 ? (double)r->train_samples * (double)o->epochs / r->seconds
                          : 0.0;
}

/* A diverged run's numbers are meaningless (or not finite): null says so
 * in a way every JSON reader understands. */
static void put_outcome(jsonl_writer *w, const char *key, double value, int diverged)
{
    if (diverged)
        jsonl_put_null(w, key);
    else
        jsonl_put_number(w, key, value);
}

void train_put_results(jsonl_writer *w, const train_options *o, const train_results *r)
{
    jsonl_put_size(w, "train_samples", r->train_samples);
    jsonl_put_size(w, "test_samples", r->test_samples);
    put_outcome(w, "train_loss", r->train_loss, r->diverged);
    if (o->algo == PCMUP_RULE_PC)
        put_outcome(w, "final_energy", r->final_energy, r->diverged);
    put_outcome(w, "test_loss", r->test_loss, r->diverged);
    put_outcome(w, "test_acc", r->test_acc, r->diverged);
    jsonl_put_number(w, "seconds", r->seconds);
    jsonl_put_number(w, "samples_per_second", train_samples_per_second(o, r));
    jsonl_put_string(w, "version", pcmup_version_string());
}

/* The keys train_put_settings writes that the configuration leaves out. */
static int varies_within_config(const char *key)
{
    static const char *const excluded[] = {"width", "lr", "threads", "gamma_L"};
    for (size_t i = 0; i < sizeof excluded / sizeof excluded[0]; i++)
        if (strcmp(key, excluded[i]) == 0)
            return 1;
    return 0;
}

static void print_field(FILE *out, const jsonl_field *f)
{
    char number[32];
    switch (f->type) {
    case JSONL_NULL: fputs("null", out); break;
    case JSONL_BOOL: fputs(f->number != 0.0 ? "true" : "false", out); break;
    case JSONL_NUMBER:
        jsonl_format_number(number, sizeof number, f->number);
        fputs(number, out);
        break;
    case JSONL_STRING: fputs(f->string, out); break;
    }
}

/* The settings are written as JSON and read back, so the string is made
 * of exactly the keys and values a row holds, formatted one way. */
char *train_config_string(const train_options *o, size_t train_samples,
                          size_t test_samples)
{
    char *json = NULL, *config = NULL, err[80];
    size_t json_size = 0, config_size = 0, written = 0;
    FILE *mem = open_memstream(&json, &json_size);
    jsonl_writer w;
    jsonl_row row;

    if (mem == NULL)
        return NULL;
    jsonl_begin(&w, mem);
    train_put_settings(&w, o, 0, 0.0);
    jsonl_put_size(&w, "train_samples", train_samples);
    jsonl_put_size(&w, "test_samples", test_samples);
    jsonl_end(&w);
    if (fclose(mem) != 0 || jsonl_parse(json, &row, err, sizeof err) != 0) {
        free(json);
        return NULL;
    }
    free(json);
    mem = open_memstream(&config, &config_size);
    for (size_t i = 0; mem != NULL && i < row.n; i++) {
        if (varies_within_config(row.fields[i].key))
            continue;
        fprintf(mem, "%s%s=", written++ > 0 ? " " : "", row.fields[i].key);
        print_field(mem, &row.fields[i]);
    }
    jsonl_row_free(&row);
    if (mem == NULL || fclose(mem) != 0) {
        free(config);
        return NULL;
    }
    return config;
}
