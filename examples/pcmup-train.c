/*
 * pcmup-train.c -- train a dense network on FashionMNIST with libpcmup.
 *
 * A user's program: it sees only the public header. The command line is
 * described in train_options.c (and by --help); this file loads the data,
 * builds the parameterization, network and learning rule, trains, and
 * reports. BP, GNT, TP and DTP train an epoch at a time; PC step by step,
 * to read each step's energy. Exit status: 0 success, 1 runtime failure,
 * 2 usage error.
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

/* Everything the run owns, freed together by session_free. The last four
 * are the PC epoch loop's, allocated once before training. */
typedef struct {
    pcmup_dataset *train;
    pcmup_dataset *test;
    pcmup_param *param;
    pcmup_net *net;
    pcmup_algo *algo;
    size_t *order;         /* the epoch's sample order          */
    float *batch_x;        /* (batch, dim)                      */
    int32_t *batch_labels; /* (batch)                           */
    double *trace;         /* the energy trace, T + 1 values    */
} session;

typedef struct {
    size_t train_samples;
    size_t test_samples;
    double train_loss;   /* mean over the last epoch's batches */
    double test_loss;
    double test_acc;
    double seconds;      /* training only */
    double gamma_L;      /* PC: the output precision at this width */
    double final_energy; /* PC: mean over the last epoch's batches of the
                            energy after inference */
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
    free(s->order);
    free(s->batch_x);
    free(s->batch_labels);
    free(s->trace);
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

/* GNT's muP learning-rate exponents for a fractional power (paper-spec
 * 2.2): c = (e_B - 1, e_B, ..., e_B, 1); MUP_GNT is the e_B = 1 row. */
static pcmup_status set_gnt_mup_exponents(pcmup_param *p, const train_options *o)
{
    pcmup_status st = PCMUP_OK;
    for (size_t l = 1; l <= o->depth && st == PCMUP_OK; l++) {
        double c = l == 1 ? o->gnt_power - 1.0 : (l == o->depth ? 1.0 : o->gnt_power);
        st = pcmup_param_set_layer(p, l, PCMUP_LAYER_C, c);
    }
    return st;
}

/* A PC muP row depends on gammabar_L when it is applied, so gammabar_L is
 * set first and the preset applied again. */
static int build_param(session *s, const train_options *o)
{
    pcmup_preset preset = train_effective_preset(o);
    pcmup_status st = pcmup_param_create(&s->param, o->depth, preset, NULL);
    if (st == PCMUP_OK)
        st = pcmup_param_set(s->param, PCMUP_PARAM_BASE_WIDTH, (double)o->base_width);
    if (st == PCMUP_OK
        && (preset == PCMUP_PRESET_MUP_PC || preset == PCMUP_PRESET_MUP_PC_B)) {
        st = pcmup_param_set(s->param, PCMUP_PARAM_GAMMA_BAR, o->gamma_bar);
        if (st == PCMUP_OK)
            st = pcmup_param_apply_preset(s->param, preset);
    }
    if (st == PCMUP_OK && preset == PCMUP_PRESET_MUP_GNT && o->gnt_power != 1.0)
        st = set_gnt_mup_exponents(s->param, o);
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
    return st;
}

/* Every PC setting, defaults included, so the run is what the JSON says. */
static pcmup_status configure_pc(pcmup_algo *a, const train_options *o)
{
    const struct {
        pcmup_setting key;
        double value;
    } pc[] = {
        {PCMUP_SET_GAMMA_OUT, o->gamma_out},
        {PCMUP_SET_GAMMA, o->gamma_hidden},
        {PCMUP_SET_KAPPA, o->kappa},
        {PCMUP_SET_T, (double)o->inference_steps},
        {PCMUP_SET_SCHEDULE, (double)o->schedule},
        {PCMUP_SET_INIT, (double)o->init},
        {PCMUP_SET_INIT_STD, o->init_std},
        {PCMUP_SET_FPA, (double)o->fpa},
        {PCMUP_SET_TIMING, (double)o->timing},
        {PCMUP_SET_LAST_LAYER, (double)o->last_layer},
        {PCMUP_SET_TOLERANCE, o->tolerance},
    };
    pcmup_status st = PCMUP_OK;
    for (size_t i = 0; st == PCMUP_OK && i < sizeof pc / sizeof pc[0]; i++)
        st = pcmup_algo_set(a, pc[i].key, pc[i].value);
    return st;
}

/* Every GNT setting, likewise. */
static pcmup_status configure_gnt(pcmup_algo *a, const train_options *o)
{
    pcmup_status st = pcmup_algo_set(a, PCMUP_SET_GNT_POWER, o->gnt_power);
    if (st == PCMUP_OK)
        st = pcmup_algo_set(a, PCMUP_SET_DAMPING, o->gnt_damping);
    if (st == PCMUP_OK)
        st = pcmup_algo_set(a, PCMUP_SET_GNT_VARIANT, (double)o->gnt_variant);
    if (st == PCMUP_OK)
        st = pcmup_algo_set(a, PCMUP_SET_GNT_OUTPUT, (double)o->gnt_output);
    return st;
}

/* Every TP setting, likewise. */
static pcmup_status configure_tp(pcmup_algo *a, const train_options *o)
{
    const struct {
        pcmup_setting key;
        double value;
    } tp[] = {
        {PCMUP_SET_BETA, o->beta},
        {PCMUP_SET_FEEDBACK, (double)o->feedback},
        {PCMUP_SET_FB_DAMPING, o->fb_mu},
        {PCMUP_SET_FB_DAMPING_TOP, train_fb_mu_top(o)},
        {PCMUP_SET_FB_LR, o->fb_lr},
        {PCMUP_SET_FB_STEPS, (double)o->fb_steps},
        {PCMUP_SET_FB_NOISE, o->fb_noise},
        {PCMUP_SET_FB_ACTIVATION, (double)o->fb_activation},
    };
    pcmup_status st = PCMUP_OK;
    for (size_t i = 0; st == PCMUP_OK && i < sizeof tp / sizeof tp[0]; i++)
        st = pcmup_algo_set(a, tp[i].key, tp[i].value);
    return st;
}

/* The settings of the chosen rule beyond the shared ones. */
static pcmup_status configure_rule(pcmup_algo *a, const train_options *o)
{
    switch (o->algo) {
    case PCMUP_ALGO_PC: return configure_pc(a, o);
    case PCMUP_ALGO_GNT: return configure_gnt(a, o);
    case PCMUP_ALGO_TP:
    case PCMUP_ALGO_DTP: return configure_tp(a, o);
    default: return PCMUP_OK;
    }
}

/* The shuffling stream gets its own seed so it is not the weights' stream. */
static int build_algo(session *s, const train_options *o, results *r)
{
    pcmup_status st = pcmup_algo_create(&s->algo, o->algo, s->net, o->seed + 1u, NULL);
    if (st != PCMUP_OK)
        return fail(st, "creating the learning rule");
    st = configure_algo(s->algo, o);
    if (st == PCMUP_OK)
        st = configure_rule(s->algo, o);
    if (st == PCMUP_OK && o->algo == PCMUP_ALGO_PC)
        st = pcmup_pc_gamma_out(s->algo, &r->gamma_L);
    return st == PCMUP_OK ? 0 : fail(st, "configuring the learning rule");
}

/* ---- the PC epoch loop ------------------------------------------------------ */

/* PC reports each step's energy trace, which pcmup_algo_train_epoch
 * cannot pass on, so the program runs PC's steps itself: a random order
 * per epoch from its own stream (seeded with S + 1, like the library's
 * shuffling), batches gathered into buffers allocated once. */

/* splitmix64: a small, well-mixed generator is all shuffling needs. */
static uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n), n >= 1, without modulo bias. */
static size_t rng_below(uint64_t *state, size_t n)
{
    uint64_t bound = (uint64_t)n, threshold = (0 - bound) % bound, v;
    do
        v = rng_next(state);
    while (v < threshold);
    return (size_t)(v % bound);
}

/* Fisher-Yates from the identity, as each epoch is a fresh permutation. */
static void shuffle(size_t *order, size_t n, uint64_t *state)
{
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    for (size_t i = n; i > 1; i--) {
        size_t j = rng_below(state, i), t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
}

static int pc_loop_alloc(session *s, const train_options *o, size_t n)
{
    size_t dim, batch = o->batch < n ? o->batch : n;
    pcmup_status st = pcmup_dataset_info(s->train, NULL, &dim, NULL);

    if (st != PCMUP_OK)
        return fail(st, "reading the training set's shape");
    s->order = malloc(n * sizeof *s->order);
    s->batch_x = malloc(batch * dim * sizeof *s->batch_x);
    s->batch_labels = malloc(batch * sizeof *s->batch_labels);
    s->trace = malloc((o->inference_steps + 1) * sizeof *s->trace);
    if (s->order == NULL || s->batch_x == NULL || s->batch_labels == NULL
        || s->trace == NULL) {
        fprintf(stderr, PROG ": out of memory\n");
        return 1;
    }
    return 0;
}

/* The last value of the step's energy trace: F after inference. */
static pcmup_status final_energy(const session *s, const train_options *o, double *energy)
{
    size_t capacity = o->inference_steps + 1, count;
    pcmup_status st = pcmup_pc_energy_trace(s->algo, s->trace, capacity, &count);
    if (st == PCMUP_OK)
        *energy = s->trace[(count < capacity ? count : capacity) - 1];
    return st;
}

/* One epoch of PC steps. Means weight each batch by its size, like
 * pcmup_algo_train_epoch's mean loss. A failing step ends the run, so
 * unlike the library's epoch it restores nothing. */
static pcmup_status pc_train_epoch(session *s, const train_options *o, uint64_t *rng,
                                   results *r)
{
    const size_t n = r->train_samples, batch = o->batch < n ? o->batch : n;
    size_t dim;
    double loss_sum = 0.0, energy_sum = 0.0;
    pcmup_status st = pcmup_dataset_info(s->train, NULL, &dim, NULL);

    if (st != PCMUP_OK)
        return st;
    shuffle(s->order, n, rng);
    for (size_t start = 0; start < n; start += batch) {
        size_t count = n - start < batch ? n - start : batch;
        double loss, energy;
        for (size_t i = 0; st == PCMUP_OK && i < count; i++)
            st = pcmup_dataset_get_batch(s->train, s->order[start + i], 1,
                                         s->batch_x + i * dim, s->batch_labels + i);
        if (st == PCMUP_OK)
            st = pcmup_algo_step(s->algo, s->batch_x, s->batch_labels, count, &loss);
        if (st == PCMUP_OK)
            st = final_energy(s, o, &energy);
        if (st != PCMUP_OK)
            return st;
        loss_sum += loss * (double)count;
        energy_sum += energy * (double)count;
    }
    r->train_loss = loss_sum / (double)n;
    r->final_energy = energy_sum / (double)n;
    return PCMUP_OK;
}

/* ---- training ------------------------------------------------------------ */

static int run_epoch(session *s, const train_options *o, size_t epoch, uint64_t *rng,
                     results *r)
{
    char what[64], energy[48] = "";
    double t0 = now_seconds(), seconds;
    pcmup_status st = o->algo == PCMUP_ALGO_PC
                          ? pc_train_epoch(s, o, rng, r)
                          : pcmup_algo_train_epoch(s->algo, s->train, o->batch,
                                                   &r->train_loss);

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
    if (o->algo == PCMUP_ALGO_PC)
        snprintf(energy, sizeof energy, "  energy %.6f", r->final_energy);
    fprintf(stderr, "epoch %zu/%zu  train loss %.6f%s  %.0f samples/s  test acc %.4f"
                    "  test loss %.6f\n",
            epoch, o->epochs, r->train_loss, energy,
            seconds > 0 ? (double)r->train_samples / seconds : 0.0, r->test_acc,
            r->test_loss);
    return 0;
}

static int train(session *s, const train_options *o, results *r)
{
    uint64_t rng = o->seed + 1u;
    pcmup_status st = pcmup_dataset_info(s->train, &r->train_samples, NULL, NULL);
    if (st == PCMUP_OK)
        st = pcmup_dataset_info(s->test, &r->test_samples, NULL, NULL);
    if (st != PCMUP_OK)
        return fail(st, "reading the dataset sizes");
    if (o->algo == PCMUP_ALGO_PC && pc_loop_alloc(s, o, r->train_samples) != 0)
        return 1;
    for (size_t epoch = 1; epoch <= o->epochs; epoch++) {
        if (run_epoch(s, o, epoch, &rng, r) != 0)
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

/* The PC settings as the run used them; gamma_L is the output precision
 * at this width, gamma_out is gamma'_L. */
static void print_json_pc(const train_options *o, const results *r)
{
    json_number("gamma_bar", o->gamma_bar);
    json_number("gamma_out", o->gamma_out);
    json_number("gamma_L", r->gamma_L);
    json_number("gamma_hidden", o->gamma_hidden);
    json_number("kappa", o->kappa);
    json_size("T", o->inference_steps);
    json_string("schedule", train_schedule_name(o->schedule));
    json_string("init", train_init_name(o->init));
    json_number("init_std", o->init_std);
    printf(",\"fpa\":%s", o->fpa ? "true" : "false");
    json_string("timing", train_timing_name(o->timing));
    json_string("last_layer", train_last_layer_name(o->last_layer));
    json_number("tolerance", o->tolerance);
}

static void print_json_gnt(const train_options *o)
{
    json_number("e_B", o->gnt_power);
    json_number("rho", o->gnt_damping);
    json_string("gn_variant", train_gnt_variant_name(o->gnt_variant));
    printf(",\"gnt_output\":%d", o->gnt_output);
}

static void print_json_tp(const train_options *o)
{
    json_number("beta", o->beta);
    json_string("feedback", train_feedback_name(o->feedback));
    json_number("fb_mu", o->fb_mu);
    json_number("fb_mu_top", train_fb_mu_top(o));
    json_number("fb_lr", o->fb_lr);
    json_size("fb_steps", o->fb_steps);
    json_number("fb_noise", o->fb_noise);
    json_string("fb_activation", train_fb_activation_name(o->fb_activation));
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
    if (o->algo == PCMUP_ALGO_PC)
        print_json_pc(o, r);
    else if (o->algo == PCMUP_ALGO_GNT)
        print_json_gnt(o);
    else if (train_is_tp(o->algo))
        print_json_tp(o);
    json_size("train_samples", r->train_samples);
    json_size("test_samples", r->test_samples);
    json_number("train_loss", r->train_loss);
    if (o->algo == PCMUP_ALGO_PC)
        json_number("final_energy", r->final_energy);
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
    if (o->algo == PCMUP_ALGO_PC) {
        printf("pc: gamma bar %g, gamma'_L %g (gamma_L %g), gamma_l %g, kappa %g, T %zu %s,"
               " init %s",
               o->gamma_bar, o->gamma_out, r->gamma_L, o->gamma_hidden, o->kappa,
               o->inference_steps, train_schedule_name(o->schedule), train_init_name(o->init));
        if (o->init == PCMUP_INIT_RANDOM)
            printf(" (std %g)", o->init_std);
        printf(", fpa %s, timing %s, last layer %s", o->fpa ? "on" : "off",
               train_timing_name(o->timing), train_last_layer_name(o->last_layer));
        if (o->tolerance > 0.0)
            printf(", tolerance %g", o->tolerance);
        printf("\n");
    } else if (o->algo == PCMUP_ALGO_GNT) {
        printf("gnt: e_B %g, rho' %g, %s variant, output layer %s\n", o->gnt_power,
               o->gnt_damping, train_gnt_variant_name(o->gnt_variant),
               o->gnt_output ? "preconditioned" : "plain gradient");
    } else if (train_is_tp(o->algo)) {
        printf("%s: beta %g, %s feedback, mu %g (top %g), feedback lr %g, %zu step%s, noise %g, %s\n",
               train_algo_name(o->algo), o->beta, train_feedback_name(o->feedback), o->fb_mu,
               train_fb_mu_top(o),
               o->fb_lr, o->fb_steps, o->fb_steps == 1 ? "" : "s", o->fb_noise,
               train_fb_activation_name(o->fb_activation));
    }
    printf("test accuracy %.4f, test loss %.6f, train loss %.6f (%zu train / %zu test samples)\n",
           r->test_acc, r->test_loss, r->train_loss, r->train_samples, r->test_samples);
    if (o->algo == PCMUP_ALGO_PC)
        printf("mean energy after inference %.6f\n", r->final_energy);
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
        rc = build_algo(&s, o, &r);
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
