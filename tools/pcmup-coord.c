/* SPDX-License-Identifier: MIT */
/*
 * pcmup-coord.c -- the coordinate check and update alignment of one
 * configuration across widths, from the command line.
 *
 *   pcmup-coord [pcmup-train flags] [--widths 64,256,1024] [--steps 1,5]
 *               [--probe 64] [--inputs 64] [--classes 10] [--fashion]
 *               [--alignment [--closed-form]] [--training] [--label TEXT]
 *               [--json]
 *
 * Every pcmup-train flag describes the configuration (--algo, --param,
 * --lr, --depth, the rule's settings, --seed, --batch ...), except --width:
 * the hidden widths are --widths. The problem is that of
 * docs/parameterization.md, section 9: --batch Gaussian inputs of
 * dimension --inputs with labels i mod --classes, and a probe batch of
 * --probe further Gaussian inputs, all drawn from --seed;
 * --fashion takes the first --batch FashionMNIST training images and the
 * --probe after them instead (--data DIR and --dataset as for pcmup-train).
 *
 * Default mode, the coordinate check (pcmup_coord_check): for each width
 * and each step count in --steps, per layer mean |h_l(t) - h_l(0)| and
 * mean |h_l(t)| on the probe batch (f for the last layer); "inf" marks a
 * run that diverged.
 *
 * --training (coord_training.h): the same measurements along a real
 * training run -- pcmup-train's data set in shuffled minibatches over
 * epochs, --steps counting minibatch steps (default 0,10,100,1000) -- on
 * the first --probe (default 256) test samples; rows get "mode":
 * "training".
 *
 * --alignment (pcmup_algo_update_alignment): for each width, per layer the
 * cosine of the rule's update with BP's and with the Gauss-Newton (GNT,
 * e_B = 1) update on the batch, and the norm ratios. With --closed-form
 * (PC on a linear network: --algo pc --activation identity, MSE loss) the
 * update is PC's at the exact inference equilibrium (Theorem 4.2,
 * pcmup_pc_linear_equilibrium), and ||C_gamma||, the equilibrium
 * energy F* / B and the same over gamma_L (the output loss left after
 * inference, (1/2B) sum_b e_b^T (I + C_gamma)^-1 e_b) are reported too.
 *
 * --json writes one JSON object per line instead of a table: per (width,
 * step, layer) the keys label, config, every pcmup-train setting key,
 * step, layer, signal ("h" or "f"), dh and h_abs (null when diverged),
 * and with --training mode ("training") after the settings; in
 * alignment mode per (width, layer) cos_bp, cos_gn, ratio_bp, ratio_gn
 * (and c_gamma_norm, energy, energy_per_gamma with --closed-form). pcmup-plot coord draws
 * the coordinate-check rows, pcmup-plot training the --training rows.
 *
 * Exit status: 0 success, 1 runtime failure, 2 usage error.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord_output.h"
#include "coord_training.h"
#include "jsonl.h"
#include "pcmup.h"
#include "rng.h"
#include "train_options.h"
#include "train_setup.h"

#define PROG "pcmup-coord"

typedef struct {
    size_t widths[64], n_widths;
    size_t steps[64], n_steps;
    size_t probe, inputs, classes;
    int fashion, alignment, closed_form, training;
    int steps_given, probe_given, problem_given; /* --inputs or --classes */
    const char *label;
} coord_options;

static int usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, PROG ": %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    return 2;
}

/* "64,256,1024" into at most 64 numbers in [1, max]. */
static int parse_list(const char *text, size_t *dst, size_t *n, size_t min, size_t max)
{
    const char *p = text;
    *n = 0;
    for (;;) {
        char *end;
        errno = 0;
        if (*p < '0' || *p > '9')
            return -1;
        unsigned long long v = strtoull(p, &end, 10);
        if (errno != 0 || end == p || v < min || v > max || *n == 64)
            return -1;
        dst[(*n)++] = (size_t)v;
        if (*end == '\0')
            return 0;
        if (*end != ',')
            return -1;
        p = end + 1;
    }
}

static int parse_count(const char *text, size_t *dst, size_t max)
{
    size_t n;
    return parse_list(text, dst, &n, 1, max) == 0 && n == 1 ? 0 : -1;
}

/* --training trains on pcmup-train's data set (FashionMNIST, or
 * --synthetic) for many more steps than the one-batch check needs, and
 * probes with more samples, since its changes are averages over a real
 * run. The flags of the other problems do not apply. */
static int training_defaults(coord_options *c)
{
    static const size_t steps[] = {0, 10, 100, 1000};
    if (c->alignment)
        return usage_error("--training and --alignment are different modes", NULL);
    if (c->fashion || c->problem_given)
        return usage_error("--training trains on pcmup-train's data (FashionMNIST or "
                           "--synthetic): --fashion, --inputs and --classes do not apply",
                           NULL);
    if (!c->steps_given) {
        memcpy(c->steps, steps, sizeof steps);
        c->n_steps = sizeof steps / sizeof steps[0];
    }
    if (!c->probe_given)
        c->probe = 256;
    return 0;
}

/* Takes pcmup-coord's own flags out of argv; the rest goes to the
 * pcmup-train parser in rest[] (rest[0] = argv[0]). Returns 0 or the
 * usage exit status. */
static int split_args(int argc, char **argv, coord_options *c, char **rest, int *n_rest)
{
    *n_rest = 0;
    rest[(*n_rest)++] = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes_value = 1;
        if (strcmp(a, "--widths") == 0) {
            if (!v || parse_list(v, c->widths, &c->n_widths, 1, 1u << 20) != 0)
                return usage_error("--widths needs widths like 64,256,1024", v);
        } else if (strcmp(a, "--steps") == 0) {
            if (!v || parse_list(v, c->steps, &c->n_steps, 0, 1000000) != 0)
                return usage_error("--steps needs step counts like 1,5,10", v);
            for (size_t k = 1; k < c->n_steps; k++)
                if (c->steps[k] <= c->steps[k - 1])
                    return usage_error("--steps must increase", v);
            c->steps_given = 1;
        } else if (strcmp(a, "--probe") == 0) {
            if (!v || parse_count(v, &c->probe, 100000) != 0)
                return usage_error("--probe needs a sample count in [1, 100000]", v);
            c->probe_given = 1;
        } else if (strcmp(a, "--inputs") == 0) {
            if (!v || parse_count(v, &c->inputs, 100000) != 0)
                return usage_error("--inputs needs a dimension in [1, 100000]", v);
            c->problem_given = 1;
        } else if (strcmp(a, "--classes") == 0) {
            if (!v || parse_count(v, &c->classes, 100000) != 0)
                return usage_error("--classes needs a count in [1, 100000]", v);
            c->problem_given = 1;
        } else if (strcmp(a, "--label") == 0) {
            if (!v)
                return usage_error("--label needs a value", NULL);
            c->label = v;
        } else {
            takes_value = 0;
            if (strcmp(a, "--fashion") == 0)
                c->fashion = 1;
            else if (strcmp(a, "--alignment") == 0)
                c->alignment = 1;
            else if (strcmp(a, "--closed-form") == 0)
                c->closed_form = 1;
            else if (strcmp(a, "--training") == 0)
                c->training = 1;
            else if (strcmp(a, "--width") == 0)
                return usage_error("the hidden widths are --widths, not --width", NULL);
            else
                rest[(*n_rest)++] = argv[i];
        }
        i += takes_value;
    }
    if (c->closed_form && !c->alignment)
        return usage_error("--closed-form is a mode of --alignment", NULL);
    return c->training ? training_defaults(c) : 0;
}

static void print_help(void)
{
    printf("usage: " PROG " [pcmup-train flags] [--widths LIST] [--steps LIST] [--probe N]\n"
           "       [--inputs D] [--classes C] [--fashion] [--alignment [--closed-form]]\n"
           "       [--training] [--label TEXT] [--json]\n\n"
           "The coordinate check (default), Delta h across training (--training) or\n"
           "update alignment of one configuration across hidden widths. Every\n"
           "pcmup-train flag but --width describes the configuration (see\n"
           "pcmup-train --help).\n\n"
           "  --widths LIST   hidden widths (default 64,256,1024,4096)\n"
           "  --steps LIST    training steps at which to measure, increasing (default 1,5,10;\n"
           "                  with --training 0,10,100,1000)\n"
           "  --probe N       probe batch size (default 64; with --training 256)\n"
           "  --inputs D      Gaussian input dimension (default 64)\n"
           "  --classes C     number of classes/outputs (default 10)\n"
           "  --fashion       images of --dataset (FashionMNIST by default) from --data\n"
           "                  instead of Gaussian inputs\n"
           "  --alignment     cosine and norm ratio of the rule's update against BP and GN\n"
           "  --closed-form   with --alignment, PC's update at the exact equilibrium of a\n"
           "                  linear network (--algo pc --activation identity)\n"
           "  --training      train as pcmup-train does (its data set, shuffled minibatches\n"
           "                  of --batch over epochs) and measure mean |h_l(t) - h_l(0)| on\n"
           "                  the first N test samples (--probe) after each minibatch step\n"
           "                  count in --steps; rows get \"mode\": \"training\"\n"
           "  --label TEXT    name of the configuration in --json rows\n"
           "  --json          JSON lines instead of a table\n");
}

/* ---- the problem ------------------------------------------------------------- */

typedef struct {
    float *x, *probe;      /* (batch, dim), (n_probe, dim) */
    int32_t *labels;       /* batch                        */
    size_t batch, n_probe, dim, classes;
} problem;

static void problem_free(problem *p)
{
    free(p->x);
    free(p->probe);
    free(p->labels);
}

static int problem_alloc(problem *p)
{
    p->x = malloc(p->batch * p->dim * sizeof *p->x);
    p->probe = malloc(p->n_probe * p->dim * sizeof *p->probe);
    p->labels = malloc(p->batch * sizeof *p->labels);
    if (p->x && p->probe && p->labels)
        return 0;
    fprintf(stderr, PROG ": out of memory\n");
    return 1;
}

/* The coordinate check's problem (docs/parameterization.md, section 9):
 * N(0, 1) inputs, labels i mod C. */
static int gaussian_problem(problem *p, const train_options *o, const coord_options *c)
{
    uint64_t state = o->seed ^ 0x636f6f7264ull; /* a stream apart from the weights' */
    p->batch = o->batch;
    p->n_probe = c->probe;
    p->dim = c->inputs;
    p->classes = c->classes;
    if (problem_alloc(p) != 0)
        return 1;
    for (size_t i = 0; i < p->batch * p->dim; i++)
        p->x[i] = (float)rng_normal(&state);
    for (size_t i = 0; i < p->n_probe * p->dim; i++)
        p->probe[i] = (float)rng_normal(&state);
    for (size_t i = 0; i < p->batch; i++)
        p->labels[i] = (int32_t)(i % p->classes);
    return 0;
}

/* The first --batch training images, and the --probe after them. */
static int fashion_problem(problem *p, const train_options *o, const coord_options *c)
{
    train_data d;
    train_error e;
    pcmup_status st;
    if (train_data_load(&d, o, &e) != 0) {
        train_error_report(PROG, &e);
        return 1;
    }
    p->batch = o->batch;
    p->n_probe = c->probe;
    p->dim = d.dim;
    p->classes = d.n_classes;
    if (p->batch + p->n_probe > d.train_samples) {
        fprintf(stderr, PROG ": --batch + --probe = %zu is more than the %zu training samples\n",
                p->batch + p->n_probe, d.train_samples);
        train_data_free(&d);
        return 1;
    }
    if (problem_alloc(p) != 0) {
        train_data_free(&d);
        return 1;
    }
    st = pcmup_dataset_get_batch(d.train, 0, p->batch, p->x, p->batch * p->dim, p->labels);
    if (st == PCMUP_OK)
        st = pcmup_dataset_get_batch(d.train, p->batch, p->n_probe, p->probe,
                                     p->n_probe * p->dim, NULL);
    train_data_free(&d);
    if (st != PCMUP_OK) {
        fprintf(stderr, PROG ": reading the batch: %s\n", pcmup_last_error());
        return 1;
    }
    return 0;
}

/* ---- the coordinate check ------------------------------------------------------ */

static void coord_table(const coord_options *c, size_t L, const double *dh, const double *h)
{
    coord_table_header(L);
    for (size_t i = 0; i < c->n_widths; i++)
        for (size_t k = 0; k < c->n_steps; k++) {
            const size_t at = (i * c->n_steps + k) * L;
            coord_table_line(c->widths[i], c->steps[k], L, dh + at, h + at);
        }
}

/* PC's output precision gamma_L at a width, which its rows report (0 for
 * the other rules, whose rows do not have it): gamma'_L times the
 * parameterization's factor, which depends on the hidden width alone. */
static int width_gamma_L(const train_options *o, size_t width, double *gamma_L)
{
    *gamma_L = 0.0;
    if (o->algo != PCMUP_RULE_PC)
        return 0;
    pcmup_param *param;
    train_error e;
    if (train_build_param(&param, o, &e) != 0) {
        train_error_report(PROG, &e);
        return 1;
    }
    size_t *widths = malloc((o->depth + 1) * sizeof *widths);
    if (widths == NULL) {
        pcmup_param_free(param);
        fprintf(stderr, PROG ": out of memory\n");
        return 1;
    }
    for (size_t l = 0; l <= o->depth; l++)
        widths[l] = l == 0 || l == o->depth ? 1 : width;
    double factors[PCMUP_FACTOR_COUNT];
    pcmup_status st = pcmup_param_layer_factors(param, widths, o->depth + 1, o->depth,
                                                 factors, PCMUP_FACTOR_COUNT);
    free(widths);
    pcmup_param_free(param);
    if (st != PCMUP_OK) {
        fprintf(stderr, PROG ": gamma_L at width %zu: %s (%s)\n", width, pcmup_last_error(),
                pcmup_status_name(st));
        return 1;
    }
    *gamma_L = train_value(o, PCMUP_SET_PC_GAMMA_OUT_BASE) * factors[PCMUP_FACTOR_PC_GAMMA];
    return 0;
}

static int coord_json(const train_options *o, const coord_options *c, const char *config,
                      size_t L, const double *dh, const double *h)
{
    for (size_t i = 0; i < c->n_widths; i++) {
        double gamma_L;
        if (width_gamma_L(o, c->widths[i], &gamma_L) != 0)
            return 1;
        for (size_t k = 0; k < c->n_steps; k++)
            for (size_t l = 1; l <= L; l++) {
                const size_t at = (i * c->n_steps + k) * L + l - 1;
                jsonl_writer w;
                coord_row_begin(&w, o, c->label, config, c->widths[i], gamma_L);
                coord_row_layer(&w, c->steps[k], l, L, dh[at], h[at]);
                jsonl_end(&w);
            }
    }
    return 0;
}

static int run_coord(const train_options *o, const coord_options *c, const problem *p,
                     const char *config)
{
    train_model proto;
    train_error e;
    const size_t L = o->depth, n = c->n_widths * c->n_steps * L;
    double *dh = malloc(n * sizeof *dh), *h = malloc(n * sizeof *h);
    int rc = 1;

    if (!dh || !h) {
        fprintf(stderr, PROG ": out of memory\n");
    } else if (train_model_build(&proto, o, p->dim, p->classes, c->widths[0], &e) != 0) {
        train_error_report(PROG, &e);
    } else {
        pcmup_status st = pcmup_coord_check(proto.algo, c->widths, c->n_widths, p->x,
                                            p->batch * p->dim, p->labels, p->batch, p->probe,
                                            p->n_probe * p->dim, p->n_probe, c->steps,
                                            c->n_steps, o->seed, dh, h, n);
        train_model_free(&proto);
        if (st != PCMUP_OK)
            fprintf(stderr, PROG ": %s (%s)\n", pcmup_last_error(), pcmup_status_name(st));
        else if (o->json)
            rc = coord_json(o, c, config, L, dh, h);
        else {
            coord_table(c, L, dh, h);
            rc = 0;
        }
    }
    free(dh);
    free(h);
    return rc;
}

/* ---- update alignment ------------------------------------------------------------ */

/* One width's alignment: per layer ([l - 1], at most 64 layers) the
 * cosines and norm ratios against BP and GN and, for the closed form,
 * ||C_gamma|| and the energy. */
typedef struct {
    double cos_bp[64], cos_gn[64], ratio_bp[64], ratio_gn[64];
    double c_gamma_norm, energy;
} width_alignment;

/* Per-layer update arrays of a model, [l - 1] = (M_l, M_{l-1}). */
static float **alloc_updates(const pcmup_net *net, size_t L)
{
    float **u = calloc(L, sizeof *u);
    for (size_t l = 1; u && l <= L; l++) {
        size_t out, in;
        if (pcmup_net_layer_shape(net, l, &out, &in) != PCMUP_OK
            || !(u[l - 1] = malloc(out * in * sizeof(float)))) {
            for (size_t j = 0; j + 1 < l; j++)
                free(u[j]);
            free(u);
            return NULL;
        }
    }
    return u;
}

static void free_updates(float **u, size_t L)
{
    for (size_t l = 0; u && l < L; l++)
        free(u[l]);
    free(u);
}

/* PC's update at the linear equilibrium against the two references. */
static pcmup_status closed_form_alignment(train_model *m, const problem *p, size_t L,
                                          width_alignment *out)
{
    float **own = alloc_updates(m->net, L);
    pcmup_status st = PCMUP_ERR_NOMEM;
    if (own)
        st = pcmup_pc_linear_equilibrium(m->algo, p->x, p->batch * p->dim, p->labels,
                                         p->batch, NULL, 0, NULL, 0, own, L, NULL, 0,
                                         &out->c_gamma_norm, &out->energy);
    if (st == PCMUP_OK)
        st = pcmup_algo_compare_updates(m->algo, p->x, p->batch * p->dim, p->labels, p->batch,
                                        (const float *const *)own, L, out->cos_bp,
                                        out->cos_gn, out->ratio_bp, out->ratio_gn, L);
    free_updates(own, L);
    return st;
}

/* 1 when some layer of net is a convolution (rank-4 weights). */
static int has_conv(const pcmup_net *net, size_t L)
{
    for (size_t l = 1; l <= L; l++) {
        size_t rank = 0;
        if (pcmup_net_weight_shape(net, l, NULL, 0, &rank) == PCMUP_OK && rank == 4)
            return 1;
    }
    return 0;
}

/* GN's reference is GNT's step, which takes dense layers only: on a
 * network with convolutions the GN columns are NaN (null in JSON) and BP's
 * stay. */
static pcmup_status rule_alignment(train_model *m, const problem *p, size_t L,
                                   width_alignment *out)
{
    pcmup_status s = pcmup_algo_update_alignment(m->algo, p->x, p->batch * p->dim, p->labels,
                                                 p->batch, out->cos_bp, out->cos_gn,
                                                 out->ratio_bp, out->ratio_gn, L);
    if (s != PCMUP_ERR_UNSUPPORTED || m->net == NULL || !has_conv(m->net, L))
        return s;
    for (size_t l = 0; l < L; l++)
        out->cos_gn[l] = out->ratio_gn[l] = NAN;
    return pcmup_algo_update_alignment(m->algo, p->x, p->batch * p->dim, p->labels, p->batch,
                                       out->cos_bp, NULL, out->ratio_bp, NULL, L);
}

static void alignment_row(const train_options *o, const coord_options *c, const char *config,
                          const train_model *m, size_t L, const width_alignment *a)
{
    for (size_t l = 1; l <= L; l++) {
        const double v[4] = {a->cos_bp[l - 1], a->cos_gn[l - 1], a->ratio_bp[l - 1],
                             a->ratio_gn[l - 1]};
        if (!o->json) {
            printf("%7zu %5zu %9.4f %9.4f %9.4g %9.4g", m->width, l, v[0], v[1], v[2], v[3]);
            if (c->closed_form)
                printf(" %11.4g %11.4g %11.4g", a->c_gamma_norm, a->energy,
                       a->energy / m->gamma_L);
            printf("\n");
            continue;
        }
        jsonl_writer w;
        coord_row_begin(&w, o, c->label, config, m->width, m->gamma_L);
        jsonl_put_size(&w, "layer", l);
        jsonl_put_number(&w, "cos_bp", v[0]);
        jsonl_put_number(&w, "cos_gn", v[1]);
        jsonl_put_number(&w, "ratio_bp", v[2]);
        jsonl_put_number(&w, "ratio_gn", v[3]);
        if (c->closed_form) {
            jsonl_put_number(&w, "c_gamma_norm", a->c_gamma_norm);
            jsonl_put_number(&w, "energy", a->energy);
            jsonl_put_number(&w, "energy_per_gamma", a->energy / m->gamma_L);
        }
        jsonl_end(&w);
    }
}

static int run_alignment(const train_options *o, const coord_options *c, const problem *p,
                         const char *config)
{
    const size_t L = o->depth;
    width_alignment a = {.c_gamma_norm = NAN, .energy = NAN};
    if (L > 64) {
        fprintf(stderr, PROG ": --alignment supports up to 64 layers\n");
        return 1;
    }
    if (!o->json) {
        printf("%7s %5s %9s %9s %9s %9s", "width", "layer", "cos_bp", "cos_gn", "ratio_bp",
               "ratio_gn");
        if (c->closed_form)
            printf(" %11s %11s %11s", "|C_gamma|", "energy", "energy/g_L");
        printf("\n");
    }
    for (size_t i = 0; i < c->n_widths; i++) {
        train_model m;
        train_error e;
        pcmup_status st;
        if (train_model_build(&m, o, p->dim, p->classes, c->widths[i], &e) != 0) {
            train_error_report(PROG, &e);
            return 1;
        }
        st = c->closed_form ? closed_form_alignment(&m, p, L, &a) : rule_alignment(&m, p, L, &a);
        if (st == PCMUP_OK)
            alignment_row(o, c, config, &m, L, &a);
        else
            fprintf(stderr, PROG ": width %zu: %s (%s)\n", c->widths[i], pcmup_last_error(),
                    pcmup_status_name(st));
        train_model_free(&m);
        if (st != PCMUP_OK)
            return 1;
    }
    return 0;
}

/* ---- main ----------------------------------------------------------------------- */

static int has_flag(int argc, char **argv, const char *flag)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], flag) == 0)
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    coord_options c = {.widths = {64, 256, 1024, 4096}, .n_widths = 4,
                       .steps = {1, 5, 10}, .n_steps = 3,
                       .probe = 64, .inputs = 64, .classes = 10};
    train_options o;
    problem p = {0};
    char **rest = malloc((size_t)(argc + 1) * sizeof *rest);
    int n_rest, rc;

    if (!rest)
        return 1;
    if (has_flag(argc, argv, "--help")) {
        print_help();
        free(rest);
        return 0;
    }
    train_options_set_program(PROG);
    rc = split_args(argc, argv, &c, rest, &n_rest);
    if (rc == 0) {
        switch (train_options_parse(&o, n_rest, rest)) {
        case TRAIN_PARSE_RUN: break;
        case TRAIN_PARSE_EXIT: rc = -1; break;
        default: rc = 2;
        }
    }
    free(rest);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (o.depth < 2)
        return usage_error("a coordinate check needs --depth 2 or more", NULL);
    if (o.threads > 0 && pcmup_set_blas_threads(o.threads) != PCMUP_OK)
        return usage_error("--threads is not supported by this BLAS", NULL);
    if (c.training)
        return coord_training_run(&o, &(coord_training){c.widths, c.n_widths, c.steps,
                                                        c.n_steps, c.probe, c.label},
                                  PROG);
    if (o.synthetic)
        return usage_error("--synthetic does not apply: the problem is Gaussian or --fashion "
                           "(or --training)",
                           NULL);
    if (!c.fashion && o.dataset != TRAIN_DATASET_FASHION_MNIST)
        return usage_error("--dataset applies with --fashion (real data) only", NULL);
    if (!c.fashion)
        o.data_dir = "gaussian"; /* what the rows' "data" key should say */
    rc = c.fashion ? fashion_problem(&p, &o, &c) : gaussian_problem(&p, &o, &c);
    char *config = rc == 0 ? train_config_string(&o, p.batch, p.n_probe) : NULL;
    if (rc == 0 && !config) {
        fprintf(stderr, PROG ": out of memory\n");
        rc = 1;
    }
    if (rc == 0)
        rc = c.alignment ? run_alignment(&o, &c, &p, config) : run_coord(&o, &c, &p, config);
    free(config);
    problem_free(&p);
    if (rc == 0 && fflush(stdout) != 0)
        rc = 1;
    return rc;
}
