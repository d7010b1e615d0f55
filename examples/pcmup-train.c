/*
 * pcmup-train.c -- train a dense network on FashionMNIST with libpcmup.
 *
 * A user's program: it sees only the public header. The command line is
 * described in train_options.c (and by --help); this file loads the data,
 * builds the parameterization, network and learning rule, trains, and
 * reports. Exit status: 0 success, 1 runtime failure, 2 usage error.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "pcmup.h"
#include "train_options.h"

#define PROG "pcmup-train"

/* Everything the run owns, freed together by session_free. */
typedef struct {
    pcmup_dataset *train;
    pcmup_dataset *test;
    pcmup_param *param;
    pcmup_net *net;
    pcmup_algo *algo;
} session;

typedef struct {
    size_t train_samples;
    size_t test_samples;
    double train_loss;   /* mean over the last epoch's batches */
    double test_loss;
    double test_acc;
    double seconds;      /* training only */
} results;

/* Reports a failed library call as one line and returns exit status 1. */
static int fail(pcmup_status status, const char *what)
{
    const char *detail = pcmup_last_error();
    if (detail[0] == '\0')
        detail = pcmup_status_message(status);
    fprintf(stderr, PROG ": %s: %s (%s)\n", what, detail, pcmup_status_name(status));
    return 1;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void session_free(session *s)
{
    pcmup_algo_free(s->algo);
    pcmup_net_free(s->net);
    pcmup_param_free(s->param);
    pcmup_dataset_free(s->train);
    pcmup_dataset_free(s->test);
}

/* ---- data ---------------------------------------------------------------- */

/* Keeps the first `limit` samples; a limit past the end keeps them all. */
static int apply_limit(pcmup_dataset *ds, size_t limit, const char *what)
{
    size_t n;
    pcmup_status st = pcmup_dataset_info(ds, &n, NULL, NULL);
    if (st == PCMUP_OK && limit != 0 && limit < n)
        st = pcmup_dataset_truncate(ds, limit);
    return st == PCMUP_OK ? 0 : fail(st, what);
}

static int load_split(pcmup_dataset **out, const char *dir, pcmup_split split)
{
    char what[64];
    pcmup_status st = pcmup_dataset_load_fashion_mnist(out, dir, split, NULL);
    if (st == PCMUP_OK)
        return 0;
    snprintf(what, sizeof what, "loading the %s set",
             split == PCMUP_SPLIT_TRAIN ? "training" : "test");
    return fail(st, what);
}

/* Truncation comes first so that --standardize uses the statistics of the
 * samples actually trained on; the test set is standardised before the
 * training set, whose statistics it needs, is changed. */
static int load_data(session *s, const train_options *o)
{
    pcmup_status st;

    if (load_split(&s->train, o->data_dir, PCMUP_SPLIT_TRAIN) != 0
        || load_split(&s->test, o->data_dir, PCMUP_SPLIT_TEST) != 0
        || apply_limit(s->train, o->train_limit, "--train-limit") != 0
        || apply_limit(s->test, o->test_limit, "--test-limit") != 0)
        return 1;
    if (!o->standardize)
        return 0;
    st = pcmup_dataset_standardize(s->test, s->train);
    if (st == PCMUP_OK)
        st = pcmup_dataset_standardize(s->train, NULL);
    return st == PCMUP_OK ? 0 : fail(st, "--standardize");
}

/* ---- model --------------------------------------------------------------- */

static int build_param(session *s, const train_options *o)
{
    pcmup_status st = pcmup_param_create(&s->param, o->depth, train_preset(o), NULL);
    if (st == PCMUP_OK)
        st = pcmup_param_set(s->param, PCMUP_PARAM_BASE_WIDTH, (double)o->base_width);
    return st == PCMUP_OK ? 0 : fail(st, "creating the parameterization");
}

/* Widths {dim, M, ..., M, n_classes}, read from the training set so that
 * any IDX data of the FashionMNIST layout works. */
static int build_net(session *s, const train_options *o)
{
    size_t dim, n_classes, *widths;
    pcmup_status st = pcmup_dataset_info(s->train, NULL, &dim, &n_classes);

    if (st != PCMUP_OK)
        return fail(st, "reading the training set's shape");
    widths = malloc((o->depth + 1) * sizeof *widths);
    if (widths == NULL) {
        fprintf(stderr, PROG ": out of memory\n");
        return 1;
    }
    widths[0] = dim;
    for (size_t l = 1; l < o->depth; l++)
        widths[l] = o->width;
    widths[o->depth] = n_classes;
    st = pcmup_net_create(&s->net, o->depth, widths, o->activation,
                          o->bias ? PCMUP_NET_BIAS : 0u, s->param, o->seed, NULL);
    free(widths);
    return st == PCMUP_OK ? 0 : fail(st, "creating the network");
}

/* ---- target propagation: --fb-mu sets both the hidden mu' and mu_L ---- */
static pcmup_status configure_tp(pcmup_algo *a, const train_options *o)
{
    const struct {
        pcmup_setting key;
        double value;
    } settings[] = {
        {PCMUP_SET_BETA, o->beta},
        {PCMUP_SET_FEEDBACK, (double)o->feedback},
        {PCMUP_SET_FB_DAMPING, o->fb_mu},
        {PCMUP_SET_FB_DAMPING_TOP, o->fb_mu},
        {PCMUP_SET_FB_LR, o->fb_lr},
        {PCMUP_SET_FB_STEPS, (double)o->fb_steps},
        {PCMUP_SET_FB_NOISE, o->fb_noise},
        {PCMUP_SET_FB_ACTIVATION, (double)o->fb_activation},
    };
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        pcmup_status st = pcmup_algo_set(a, settings[i].key, settings[i].value);
        if (st != PCMUP_OK)
            return st;
    }
    return PCMUP_OK;
}

/* Momentum, weight decay and the MSE target are set only when they matter,
 * so that a learning rule without them still runs with the defaults. */
static pcmup_status configure_algo(pcmup_algo *a, const train_options *o)
{
    pcmup_status st = pcmup_algo_set(a, PCMUP_SET_LR, o->lr);
    if (st == PCMUP_OK)
        st = pcmup_algo_set(a, PCMUP_SET_LOSS, (double)o->loss);
    if (st == PCMUP_OK && o->loss == PCMUP_LOSS_MSE)
        st = pcmup_algo_set(a, PCMUP_SET_MSE_CENTRED, (double)o->centred);
    if (st == PCMUP_OK && o->momentum != 0.0)
        st = pcmup_algo_set(a, PCMUP_SET_MOMENTUM, o->momentum);
    if (st == PCMUP_OK && o->weight_decay != 0.0)
        st = pcmup_algo_set(a, PCMUP_SET_WEIGHT_DECAY, o->weight_decay);
    if (st == PCMUP_OK && train_is_tp(o->algo))
        st = configure_tp(a, o);
    return st;
}

/* The shuffling stream gets its own seed so it is not the weights' stream. */
static int build_algo(session *s, const train_options *o)
{
    pcmup_status st = pcmup_algo_create(&s->algo, o->algo, s->net, o->seed + 1u, NULL);
    if (st != PCMUP_OK)
        return fail(st, "creating the learning rule");
    st = configure_algo(s->algo, o);
    return st == PCMUP_OK ? 0 : fail(st, "configuring the learning rule");
}

/* ---- training ------------------------------------------------------------ */

static int run_epoch(session *s, const train_options *o, size_t epoch, results *r)
{
    char what[64];
    double t0 = now_seconds(), seconds;
    pcmup_status st = pcmup_algo_train_epoch(s->algo, s->train, o->batch, &r->train_loss);

    seconds = now_seconds() - t0;
    r->seconds += seconds;
    if (st != PCMUP_OK) {
        snprintf(what, sizeof what, "epoch %zu: training%s", epoch,
                 st == PCMUP_ERR_DIVERGED ? " diverged" : " failed");
        return fail(st, what);
    }
    st = pcmup_algo_evaluate(s->algo, s->test, &r->test_loss, &r->test_acc);
    if (st != PCMUP_OK)
        return fail(st, "evaluating on the test set");
    fprintf(stderr, "epoch %zu/%zu  train loss %.6f  %.0f samples/s  test acc %.4f"
                    "  test loss %.6f\n",
            epoch, o->epochs, r->train_loss,
            seconds > 0 ? (double)r->train_samples / seconds : 0.0, r->test_acc,
            r->test_loss);
    return 0;
}

static int train(session *s, const train_options *o, results *r)
{
    pcmup_status st = pcmup_dataset_info(s->train, &r->train_samples, NULL, NULL);
    if (st == PCMUP_OK)
        st = pcmup_dataset_info(s->test, &r->test_samples, NULL, NULL);
    if (st != PCMUP_OK)
        return fail(st, "reading the dataset sizes");
    for (size_t epoch = 1; epoch <= o->epochs; epoch++) {
        if (run_epoch(s, o, epoch, r) != 0)
            return 1;
    }
    return 0;
}

/* ---- reporting ----------------------------------------------------------- */

static double samples_per_second(const train_options *o, const results *r)
{
    return r->seconds > 0 ? (double)r->train_samples * (double)o->epochs / r->seconds
                          : 0.0;
}

/* JSON has no inf or nan. */
static void json_number(const char *key, double v)
{
    if (isfinite(v))
        printf(",\"%s\":%.9g", key, v);
    else
        printf(",\"%s\":null", key);
}

static void json_string(const char *key, const char *v)
{
    printf(",\"%s\":\"", key);
    for (; *v; v++) {
        unsigned char c = (unsigned char)*v;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void json_size(const char *key, size_t v)
{
    printf(",\"%s\":%zu", key, v);
}

static void print_json(const train_options *o, const results *r)
{
    printf("{\"algo\":\"%s\"", train_algo_name(o->algo));
    json_string("param", train_param_name(o->preset));
    json_size("width", o->width);
    json_size("depth", o->depth);
    json_string("activation", train_activation_name(o->activation));
    json_string("loss", train_loss_name(o->loss));
    json_number("lr", o->lr);
    json_size("base_width", o->base_width);
    json_size("epochs", o->epochs);
    json_size("batch", o->batch);
    printf(",\"seed\":%" PRIu64, o->seed);
    json_number("momentum", o->momentum);
    json_number("weight_decay", o->weight_decay);
    printf(",\"centred\":%d,\"bias\":%s,\"standardize\":%s", o->centred,
           o->bias ? "true" : "false", o->standardize ? "true" : "false");
    printf(",\"threads\":%d", o->threads);
    json_string("data", o->data_dir);
    if (train_is_tp(o->algo)) { /* ---- target propagation ---- */
        json_number("beta", o->beta);
        json_string("feedback", train_feedback_name(o->feedback));
        json_number("fb_mu", o->fb_mu);
        json_number("fb_lr", o->fb_lr);
        json_size("fb_steps", o->fb_steps);
        json_number("fb_noise", o->fb_noise);
        json_string("fb_activation", train_fb_activation_name(o->fb_activation));
    }
    json_size("train_samples", r->train_samples);
    json_size("test_samples", r->test_samples);
    json_number("train_loss", r->train_loss);
    json_number("test_loss", r->test_loss);
    json_number("test_acc", r->test_acc);
    json_number("seconds", r->seconds);
    json_number("samples_per_second", samples_per_second(o, r));
    json_string("version", pcmup_version_string());
    printf("}\n");
}

static void print_summary(const train_options *o, const results *r)
{
    printf("%s %s, width %zu, depth %zu, %s, %s loss, lr %g, batch %zu, %zu epoch%s\n",
           train_algo_name(o->algo), train_param_name(o->preset), o->width, o->depth,
           train_activation_name(o->activation), train_loss_name(o->loss), o->lr,
           o->batch, o->epochs, o->epochs == 1 ? "" : "s");
    if (train_is_tp(o->algo))
        printf("beta %g, %s feedback, mu %g, feedback lr %g, %zu step%s, noise %g, %s\n",
               o->beta, train_feedback_name(o->feedback), o->fb_mu, o->fb_lr, o->fb_steps,
               o->fb_steps == 1 ? "" : "s", o->fb_noise,
               train_fb_activation_name(o->fb_activation));
    printf("test accuracy %.4f, test loss %.6f, train loss %.6f (%zu train / %zu test samples)\n",
           r->test_acc, r->test_loss, r->train_loss, r->train_samples, r->test_samples);
    printf("trained in %.2f s, %.0f samples/s\n", r->seconds, samples_per_second(o, r));
}

/* ---- main ---------------------------------------------------------------- */

static int run(const train_options *o)
{
    session s = {0};
    results r = {0};
    int rc = 0;
    pcmup_status st;

    if (o->threads > 0 && (st = pcmup_set_blas_threads(o->threads)) != PCMUP_OK)
        return fail(st, "--threads");
    rc = load_data(&s, o);
    if (rc == 0)
        rc = build_param(&s, o);
    if (rc == 0)
        rc = build_net(&s, o);
    if (rc == 0)
        rc = build_algo(&s, o);
    if (rc == 0)
        rc = train(&s, o, &r);
    if (rc == 0 && o->json)
        print_json(o, &r);
    else if (rc == 0)
        print_summary(o, &r);
    session_free(&s);
    return rc;
}

int main(int argc, char **argv)
{
    train_options opts;

    switch (train_options_parse(&opts, argc, argv)) {
    case TRAIN_PARSE_RUN: break;
    case TRAIN_PARSE_EXIT: return 0;
    default: return 2;
    }
    if (run(&opts) != 0)
        return 1;
    return fflush(stdout) == 0 ? 0 : 1;
}
