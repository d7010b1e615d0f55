/* SPDX-License-Identifier: MIT */
/*
 * coord_training.c -- Delta h across a real training run
 * (coord_training.h).
 */
#include "coord_training.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord_output.h"
#include "jsonl.h"
#include "pcmup.h"
#include "rng.h"
#include "train_setup.h"

/* ---- the minibatches ---------------------------------------------------------- */

/* Shuffled minibatches over epochs, as pcmup_algo_train_epoch draws them:
 * each epoch is a fresh permutation, cut into batches of `batch` samples,
 * the last one smaller when batch does not divide n. The library's
 * stream is private to it, so the permutation comes from the tools' own
 * stream, drawn from --seed: every width sees the same samples in the
 * same order, so widths differ in their width alone. */
typedef struct {
    const pcmup_dataset *train;
    size_t n, dim, batch;
    size_t *order;
    size_t next; /* the epoch's next position; n: draw a new epoch */
    uint64_t rng;
    float *x;
    int32_t *labels;
} minibatches;

static void minibatches_free(minibatches *mb)
{
    free(mb->order);
    free(mb->x);
    free(mb->labels);
}

static int minibatches_init(minibatches *mb, const train_data *d, const train_options *o)
{
    memset(mb, 0, sizeof *mb);
    mb->train = d->train;
    mb->n = d->train_samples;
    mb->dim = d->dim;
    mb->batch = o->batch < mb->n ? o->batch : mb->n;
    mb->next = mb->n;
    mb->rng = o->seed ^ 0x73687566666c65ull; /* "shuffle": apart from --synthetic's */
    mb->order = malloc(mb->n * sizeof *mb->order);
    mb->x = malloc(mb->batch * mb->dim * sizeof *mb->x);
    mb->labels = malloc(mb->batch * sizeof *mb->labels);
    return mb->order && mb->x && mb->labels ? 0 : -1;
}

static void shuffle(minibatches *mb)
{
    for (size_t i = 0; i < mb->n; i++)
        mb->order[i] = i;
    for (size_t i = mb->n - 1; i > 0; i--) {
        size_t j = (size_t)(rng_next(&mb->rng) % (i + 1));
        size_t t = mb->order[i];
        mb->order[i] = mb->order[j];
        mb->order[j] = t;
    }
    mb->next = 0;
}

/* The next minibatch into mb->x and mb->labels; *count samples. */
static pcmup_status minibatch_next(minibatches *mb, size_t *count)
{
    if (mb->next == mb->n)
        shuffle(mb);
    *count = mb->n - mb->next < mb->batch ? mb->n - mb->next : mb->batch;
    for (size_t i = 0; i < *count; i++) {
        pcmup_status st = pcmup_dataset_get_batch(mb->train, mb->order[mb->next + i], 1,
                                                  mb->x + i * mb->dim, mb->dim,
                                                  mb->labels + i);
        if (st != PCMUP_OK)
            return st;
    }
    mb->next += *count;
    return PCMUP_OK;
}

/* ---- the probe signals -------------------------------------------------------- */

/* Layer l's signal on the probe batch at step 0 (base) and now, [l - 1];
 * size[l - 1] floats each. */
typedef struct {
    size_t L, n_probe;
    size_t *size;
    float **base, **now;
} probe_signals;

static void probe_signals_free(probe_signals *s)
{
    for (size_t l = 0; l < s->L; l++) {
        if (s->base)
            free(s->base[l]);
        if (s->now)
            free(s->now[l]);
    }
    free(s->size);
    free(s->base);
    free(s->now);
    memset(s, 0, sizeof *s);
}

/* Floats per sample of h_l: what layer l + 1 takes in (M_l for a dense
 * network; a pooled C H W for a convolution with pooling, whose own
 * `out` is the size before pooling), and for l = L the outputs f. */
static pcmup_status signal_size(const pcmup_net *net, size_t l, size_t L, size_t *size)
{
    size_t out, in;
    pcmup_status st = pcmup_net_layer_shape(net, l < L ? l + 1 : L, &out, &in);
    *size = l < L ? in : out;
    return st;
}

static pcmup_status probe_signals_init(probe_signals *s, const pcmup_net *net,
                                       size_t n_probe)
{
    memset(s, 0, sizeof *s);
    pcmup_status st = pcmup_net_n_layers(net, &s->L);
    if (st != PCMUP_OK)
        return st;
    s->n_probe = n_probe;
    s->size = calloc(s->L, sizeof *s->size);
    s->base = calloc(s->L, sizeof *s->base);
    s->now = calloc(s->L, sizeof *s->now);
    if (!s->size || !s->base || !s->now)
        return PCMUP_ERR_NOMEM;
    for (size_t l = 1; l <= s->L; l++) {
        if ((st = signal_size(net, l, s->L, &s->size[l - 1])) != PCMUP_OK)
            return st;
        s->base[l - 1] = malloc(n_probe * s->size[l - 1] * sizeof(float));
        s->now[l - 1] = malloc(n_probe * s->size[l - 1] * sizeof(float));
        if (!s->base[l - 1] || !s->now[l - 1])
            return PCMUP_ERR_NOMEM;
    }
    return PCMUP_OK;
}

/* Every layer's post-activation signal (f for l = L) into dst. */
static pcmup_status probe_forward(pcmup_net *net, const probe_signals *s, const float *probe,
                                  size_t dim, float **dst)
{
    for (size_t l = 1; l <= s->L; l++) {
        pcmup_status st = pcmup_net_forward_layer(net, probe, s->n_probe * dim, s->n_probe, l,
                                                  PCMUP_SIGNAL_POST, dst[l - 1],
                                                  s->n_probe * s->size[l - 1]);
        if (st != PCMUP_OK)
            return st;
    }
    return PCMUP_OK;
}

/* Overflowed features report +infinity, as pcmup_coord_check does. */
static double finite_or_inf(double v)
{
    return isfinite(v) ? v : INFINITY;
}

/* dh[l - 1] = mean |now - base| and h_abs[l - 1] = mean |now|. */
static void probe_measure(const probe_signals *s, double *dh, double *h_abs)
{
    for (size_t l = 0; l < s->L; l++) {
        const size_t n = s->n_probe * s->size[l];
        double d = 0.0, h = 0.0;
        for (size_t i = 0; i < n; i++) {
            d += fabs((double)s->now[l][i] - (double)s->base[l][i]);
            h += fabs((double)s->now[l][i]);
        }
        dh[l] = finite_or_inf(d / (double)n);
        h_abs[l] = finite_or_inf(h / (double)n);
    }
}

/* ---- one width ------------------------------------------------------------------ */

/* Trains m from its initial weights, filling dh and h_abs (n_steps * L
 * values each, step-major). After a diverged step (which
 * pcmup_algo_step undoes) the run stops and every later value is
 * +infinity. */
static pcmup_status train_width(train_model *m, minibatches *mb, const probe_signals *s,
                                const float *probe, const coord_training *c, double *dh,
                                double *h_abs)
{
    pcmup_status st = probe_forward(m->net, s, probe, mb->dim, s->base);
    size_t done = 0;
    int diverged = 0;
    for (size_t k = 0; st == PCMUP_OK && k < c->n_steps; k++) {
        while (st == PCMUP_OK && !diverged && done < c->steps[k]) {
            size_t count;
            st = minibatch_next(mb, &count);
            if (st == PCMUP_OK)
                st = pcmup_algo_step(m->algo, mb->x, count * mb->dim, mb->labels, count,
                                     NULL);
            if (st == PCMUP_ERR_DIVERGED) {
                diverged = 1;
                st = PCMUP_OK;
            }
            done++;
        }
        if (st == PCMUP_OK && !diverged)
            st = probe_forward(m->net, s, probe, mb->dim, s->now);
        if (st != PCMUP_OK)
            break;
        probe_measure(s, dh + k * s->L, h_abs + k * s->L);
        for (size_t l = 0; diverged && l < s->L; l++)
            dh[k * s->L + l] = h_abs[k * s->L + l] = INFINITY;
    }
    return st;
}

static void write_width(const train_options *o, const coord_training *c, const char *config,
                        const train_model *m, size_t L, const double *dh,
                        const double *h_abs)
{
    for (size_t k = 0; k < c->n_steps; k++) {
        if (!o->json) {
            coord_table_line(m->width, c->steps[k], L, dh + k * L, h_abs + k * L);
            continue;
        }
        for (size_t l = 1; l <= L; l++) {
            jsonl_writer w;
            coord_row_begin(&w, o, c->label, config, m->width, m->gamma_L);
            jsonl_put_string(&w, "mode", "training");
            coord_row_layer(&w, c->steps[k], l, L, dh[k * L + l - 1], h_abs[k * L + l - 1]);
            jsonl_end(&w);
        }
    }
    fflush(stdout); /* a long run shows each width as it finishes */
}

/* Everything one width needs and frees. */
typedef struct {
    train_model model;
    probe_signals signals;
    double *dh, *h_abs;
} width_run;

static void width_run_free(width_run *r)
{
    train_model_free(&r->model);
    probe_signals_free(&r->signals);
    free(r->dh);
    free(r->h_abs);
}

static int run_width(const train_options *o, const coord_training *c, const train_data *d,
                     const float *probe, const char *config, size_t width, int first,
                     const char *prog)
{
    width_run r = {0};
    train_error e;
    minibatches mb;
    pcmup_status st = PCMUP_ERR_NOMEM;
    int rc = 1;

    if (minibatches_init(&mb, d, o) != 0) {
        fprintf(stderr, "%s: out of memory\n", prog);
    } else if (train_model_build(&r.model, o, d->dim, d->n_classes, width, &e) != 0) {
        train_error_report(prog, &e);
    } else {
        st = probe_signals_init(&r.signals, r.model.net, c->probe);
        r.dh = st == PCMUP_OK ? malloc(c->n_steps * r.signals.L * sizeof *r.dh) : NULL;
        r.h_abs = r.dh ? malloc(c->n_steps * r.signals.L * sizeof *r.h_abs) : NULL;
        if (st == PCMUP_OK && !r.h_abs)
            st = PCMUP_ERR_NOMEM;
        if (st == PCMUP_OK)
            st = train_width(&r.model, &mb, &r.signals, probe, c, r.dh, r.h_abs);
        if (st == PCMUP_OK) {
            if (first && !o->json)
                coord_table_header(r.signals.L);
            write_width(o, c, config, &r.model, r.signals.L, r.dh, r.h_abs);
            rc = 0;
        } else {
            fprintf(stderr, "%s: width %zu: %s (%s)\n", prog, width,
                    st == PCMUP_ERR_NOMEM ? "out of memory" : pcmup_last_error(),
                    pcmup_status_name(st));
        }
    }
    minibatches_free(&mb);
    width_run_free(&r);
    return rc;
}

/* ---- the run -------------------------------------------------------------------- */

/* The first c->probe test samples. */
static float *load_probe(const train_data *d, const coord_training *c, const char *prog)
{
    if (c->probe > d->test_samples) {
        fprintf(stderr, "%s: --probe %zu is more than the %zu test samples\n", prog, c->probe,
                d->test_samples);
        return NULL;
    }
    float *probe = malloc(c->probe * d->dim * sizeof *probe);
    if (!probe) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return NULL;
    }
    pcmup_status st = pcmup_dataset_get_batch(d->test, 0, c->probe, probe, c->probe * d->dim,
                                              NULL);
    if (st == PCMUP_OK)
        return probe;
    fprintf(stderr, "%s: reading the probe batch: %s (%s)\n", prog, pcmup_last_error(),
            pcmup_status_name(st));
    free(probe);
    return NULL;
}

/* The rows' configuration: the mode changes the result, so it is part of
 * it, first, so that the coordinate check's rows never share it. */
static char *training_config(const train_options *o, const train_data *d, size_t probe)
{
    char *rest = train_config_string(o, d->train_samples, probe);
    char *config = rest ? malloc(strlen(rest) + sizeof "mode=training ") : NULL;
    if (config)
        sprintf(config, "mode=training %s", rest);
    free(rest);
    return config;
}

int coord_training_run(const train_options *o, const coord_training *c, const char *prog)
{
    train_data d;
    train_error e;
    float *probe = NULL;
    char *config = NULL;
    int rc = 1;

    if (train_data_load(&d, o, &e) != 0) {
        train_error_report(prog, &e);
        return 1;
    }
    probe = load_probe(&d, c, prog);
    config = probe ? training_config(o, &d, c->probe) : NULL;
    if (probe && !config)
        fprintf(stderr, "%s: out of memory\n", prog);
    if (config) {
        rc = 0;
        for (size_t i = 0; rc == 0 && i < c->n_widths; i++)
            rc = run_width(o, c, &d, probe, config, c->widths[i], i == 0, prog);
    }
    free(config);
    free(probe);
    train_data_free(&d);
    return rc;
}
