/* SPDX-License-Identifier: MIT */
/*
 * pcmup-train.c -- train a dense network on FashionMNIST with libpcmup.
 *
 * A user's program: it sees only the public header. The command line is
 * described in train_options.c (and by --help); the run is built by
 * train_setup.c (data, parameterization, network, learning rule, the JSON
 * keys) and trained by train_loop.c, which pcmup-sweep shares; this file
 * puts them together and reports; train_checkpoint.c saves (--save) and
 * resumes (--resume) runs. Exit status: 0 success, 1 runtime failure, 2
 * usage error.
 *
 * Under an MPI launcher (mpirun -n R, R > 1) it trains data-parallel:
 * every rank parses the same command line, holds rank 0's data (sent by
 * tool_mpi_data.c) and builds the same model from the same seeds; the
 * library splits every global --batch and the evaluation over the ranks
 * and sums through train_mpi.c's reducer, so every rank ends with the
 * weights of the single-process run (to float rounding). Rank 0 alone
 * prints and writes --save's checkpoints.
 *
 * With --layer-parallel (PC, simultaneous schedule) each rank owns a block
 * of the layers instead (train_mpi.c's layer split): every rank passes the
 * whole batch, the library exchanges the blocks' boundaries between
 * neighbouring ranks, and train_loop.c brings every rank's copy of the
 * other blocks up to date before each evaluation (and so before --save).
 */
#include <stdio.h>

#include "jsonl.h"
#include "pcmup.h"
#include "tool_mpi.h"
#include "tool_mpi_data.h"
#include "train_checkpoint.h"
#include "train_loop.h"
#include "train_options.h"
#include "train_setup.h"
#ifdef PCMUP_WITH_MPI
#include "train_mpi.h"
#endif

#define PROG "pcmup-train"

/* ---- data-parallel ------------------------------------------------------- */

/* A data-parallel or layer-parallel run's communication: the ranks, and
 * the bytes moved per training step (evaluation and the syncs before it
 * excluded). ranks 1: none, unless layer-parallel. Layer-parallel: the
 * bytes all the ranks sent to their neighbours (exchanged) and the bytes
 * of the sums one rank made (summed); bytes_per_step is their total. */
typedef struct {
    int ranks;
    double bytes_per_step;
    int layer_parallel;
    double exchanged_per_step, summed_per_step;
    size_t first, last; /* rank 0's block */
} train_comm;

/* ---- reporting ----------------------------------------------------------- */

static void print_json(const train_options *o, const train_model *m, const train_results *r,
                       const train_comm *c)
{
    jsonl_writer w;
    jsonl_begin(&w, stdout);
    train_put_settings(&w, o, m->width, m->gamma_L);
    /* Only for a resumed run: the keys of other runs stay as they were. */
    if (o->resume != NULL) {
        jsonl_put_string(&w, "resumed_from", o->resume);
        jsonl_put_size(&w, "start_epoch", o->epochs_done);
    }
    train_put_results(&w, o, r);
    /* Only under MPI: a single process's keys stay as they were. */
    if (c->ranks > 1 || c->layer_parallel) {
        jsonl_put_size(&w, "ranks", (size_t)c->ranks);
        jsonl_put_number(&w, "comm_bytes_per_step", c->bytes_per_step);
    }
    if (c->layer_parallel) {
        jsonl_put_bool(&w, "layer_parallel", 1);
        jsonl_put_number(&w, "exchange_bytes_per_step", c->exchanged_per_step);
        jsonl_put_number(&w, "sum_bytes_per_step", c->summed_per_step);
    }
    jsonl_end(&w);
}

/* The value of setting `key`, and the word for it. */
static double v(const train_options *o, pcmup_setting key)
{
    return train_value(o, key);
}

static const char *word(const train_options *o, pcmup_setting key)
{
    return train_value_word(o, key);
}

static void print_pc_summary(const train_options *o, const train_model *m)
{
    printf("pc: gamma bar %g, gamma'_L %g (gamma_L %g), gamma_l %g, kappa %g, T %g %s,"
           " init %s",
           o->gamma_bar, v(o, PCMUP_SET_PC_GAMMA_OUT_BASE), m->gamma_L,
           v(o, PCMUP_SET_PC_GAMMA_HIDDEN), v(o, PCMUP_SET_PC_KAPPA),
           v(o, PCMUP_SET_PC_ITERATIONS), word(o, PCMUP_SET_PC_SCHEDULE),
           word(o, PCMUP_SET_PC_INIT));
    if (v(o, PCMUP_SET_PC_INIT) == PCMUP_PC_INIT_RANDOM)
        printf(" (std %g)", v(o, PCMUP_SET_PC_INIT_STD));
    printf(", fpa %s, timing %s, last layer %s", word(o, PCMUP_SET_PC_FPA),
           word(o, PCMUP_SET_PC_TIMING), word(o, PCMUP_SET_PC_LAST_LAYER));
    if (v(o, PCMUP_SET_PC_TOLERANCE) > 0.0)
        printf(", tolerance %g", v(o, PCMUP_SET_PC_TOLERANCE));
    printf("\n");
}

static void print_summary(const train_options *o, const train_model *m, const train_results *r,
                          const train_comm *c)
{
    printf("%s %s, width %zu, depth %zu, %s, %s loss, lr %g, batch %zu, %zu epoch%s\n",
           train_algo_name(o->algo), train_param_name(o->preset), o->width, o->depth,
           train_activation_name(o->activation), word(o, PCMUP_SET_LOSS), v(o, PCMUP_SET_LR),
           o->batch, o->epochs, o->epochs == 1 ? "" : "s");
    if (o->resume != NULL)
        printf("resumed from %s after epoch %zu\n", o->resume, o->epochs_done);
    if (o->algo == PCMUP_RULE_PC) {
        print_pc_summary(o, m);
    } else if (o->algo == PCMUP_RULE_GNT) {
        printf("gnt: e_B %g, rho' %g, %s variant, output layer %s\n",
               v(o, PCMUP_SET_GNT_POWER), v(o, PCMUP_SET_GNT_DAMPING),
               word(o, PCMUP_SET_GNT_VARIANT),
               v(o, PCMUP_SET_GNT_OUTPUT) != 0.0 ? "preconditioned" : "plain gradient");
    } else if (train_is_tp(o->algo)) {
        const double steps = v(o, PCMUP_SET_TP_FB_STEPS);
        printf("%s: beta %g, %s feedback, mu %g (top %g), feedback lr %g, %g step%s, noise %g,"
               " %s\n",
               train_algo_name(o->algo), v(o, PCMUP_SET_TP_BETA), word(o, PCMUP_SET_TP_FEEDBACK),
               v(o, PCMUP_SET_TP_FB_DAMPING), v(o, PCMUP_SET_TP_FB_DAMPING_TOP),
               v(o, PCMUP_SET_TP_FB_LR), steps, steps == 1 ? "" : "s", v(o, PCMUP_SET_TP_FB_NOISE),
               word(o, PCMUP_SET_TP_FB_ACTIVATION));
    }
    printf("test accuracy %.4f, test loss %.6f, train loss %.6f (%zu train / %zu test samples)\n",
           r->test_acc, r->test_loss, r->train_loss, r->train_samples, r->test_samples);
    if (o->algo == PCMUP_RULE_PC)
        printf("mean energy after inference %.6f\n", r->final_energy);
    printf("trained in %.2f s, %.0f samples/s\n", r->seconds,
           train_samples_per_second(o, r));
    if (c->layer_parallel)
        printf("layer-parallel over %d MPI ranks (rank 0: layers %zu..%zu), %.0f bytes "
               "exchanged and %.0f summed per step\n",
               c->ranks, c->first, c->last, c->exchanged_per_step, c->summed_per_step);
    else if (c->ranks > 1)
        printf("data-parallel over %d MPI ranks, %.0f bytes communicated per step\n",
               c->ranks, c->bytes_per_step);
}

/* ---- main ---------------------------------------------------------------- */

/* The model: the checkpoint's when resuming, else built from the options. */
static int build_model(train_model *m, const pcmup_checkpoint *ck, const train_options *o,
                       const train_data *d, train_error *e)
{
    if (ck != NULL)
        return train_resume_model(m, ck, o, d, e);
    return train_model_build(m, o, d->dim, d->n_classes, o->width, e);
}

/* --layer-parallel needs ranks to split the layers over: a launcher, and
 * no more ranks than layers. 0, or -1 with *e filled. */
static int check_layer_parallel(const train_options *o, const tool_mpi *mpi, train_error *e)
{
    if (!o->layer_parallel)
        return 0;
    e->status = PCMUP_ERR_UNSUPPORTED;
    snprintf(e->what, sizeof e->what, "--layer-parallel");
    if (!mpi->started) {
        snprintf(e->detail, sizeof e->detail,
                 "needs MPI: run it under mpirun -n R, 1 <= R <= %zu%s", o->depth,
                 tool_mpi_available() ? "" : " (this build has no MPI)");
        return -1;
    }
    if ((size_t)mpi->size > o->depth) {
        snprintf(e->detail, sizeof e->detail,
                 "%d ranks for %zu layers: each rank needs a layer of its own", mpi->size,
                 o->depth);
        return -1;
    }
    return 0;
}

/* The model on every rank, and under MPI the reducer that makes the ranks
 * one data-parallel group, or the layer split of --layer-parallel. 0, or
 * -1 with *e filled (on the ranks that failed; rank 0 says it if it did). */
static int build_run(train_model *m, const pcmup_checkpoint *ck, const train_options *o,
                     const train_data *d, const tool_mpi *mpi, void *stats, train_comm *c,
                     train_error *e)
{
    if (check_layer_parallel(o, mpi, e) != 0)
        return -1;
    int rc = build_model(m, ck, o, d, e);
#ifdef PCMUP_WITH_MPI
    pcmup_status st = PCMUP_OK;
    if (rc == 0 && o->layer_parallel)
        st = train_mpi_set_layer_split(mpi, m->algo, m->net, stats, &c->first, &c->last);
    else if (rc == 0 && mpi->size > 1)
        st = train_mpi_set_reducer(mpi, m->algo, stats);
    if (st != PCMUP_OK) {
        e->status = st;
        snprintf(e->what, sizeof e->what, "training over %d MPI ranks", mpi->size);
        rc = -1;
    }
#else
    (void)mpi, (void)stats, (void)c;
#endif
    return rc;
}

/* The reducer's bytes per training step: its count over the run less the
 * evaluations' (one per epoch, train_loop_run's progress lines), which a
 * further evaluation measures. */
static int measure_comm(train_comm *c, const train_model *m, const train_options *o,
                        const train_data *d, void *stats)
{
#ifdef PCMUP_WITH_MPI
    train_mpi_stats *s = stats;
    const size_t batch = o->batch < d->train_samples ? o->batch : d->train_samples;
    const size_t steps = o->epochs * ((d->train_samples + batch - 1) / batch);
    const uint64_t total = s->bytes;
    double loss, acc;

    if (c->layer_parallel) {
        /* The evaluations sum nothing; the sync before each (one per
         * epoch) sums the parameters, and the momentum when there is one. */
        size_t n_params = 0;
        if (pcmup_net_param_count(m->net, &n_params) != PCMUP_OK)
            return -1;
        const int momentum = train_value(o, PCMUP_SET_MOMENTUM) != 0.0
                             || train_value(o, PCMUP_SET_WEIGHT_DECAY) != 0.0;
        const uint64_t sync = (uint64_t)n_params * sizeof(float) * (momentum ? 2 : 1);
        const uint64_t sent = train_mpi_total(s->sent);
        c->summed_per_step = steps == 0 ? 0.0
                             : (double)(total - o->epochs * sync) / (double)steps;
        c->exchanged_per_step = steps == 0 ? 0.0 : (double)sent / (double)steps;
        c->bytes_per_step = c->summed_per_step + c->exchanged_per_step;
        return 0;
    }

    s->bytes = 0;
    if (pcmup_algo_evaluate(m->algo, d->test, &loss, &acc) != PCMUP_OK)
        return -1;
    c->bytes_per_step = steps == 0 ? 0.0
                        : (double)(total - o->epochs * s->bytes) / (double)steps;
#else
    (void)c, (void)m, (void)o, (void)d, (void)stats;
#endif
    return 0;
}

/* Trains and reports; *o has the checkpoint's options when resuming. Every
 * rank of an MPI job runs it, each step together. */
static int run(const train_options *o, const pcmup_checkpoint *ck, const tool_mpi *mpi)
{
    train_data d = {0};
    train_model m = {0};
    train_results r = {0};
    train_error e = {0};
    train_comm c = {mpi->size, 0.0, o->layer_parallel, 0.0, 0.0, 0, 0};
    train_options mine = *o;
#ifdef PCMUP_WITH_MPI
    train_mpi_stats stats_store = {0};
    void *stats = &stats_store;
#else
    void *stats = NULL;
#endif
    pcmup_status st;
    int rc = 0;

    /* Rank 0 writes the checkpoints; the others hold the same weights. */
    if (mpi->rank > 0)
        mine.save = NULL;
    if (o->threads > 0 && (st = pcmup_set_blas_threads(o->threads)) != PCMUP_OK) {
        e.status = st;
        snprintf(e.what, sizeof e.what, "--threads");
        train_error_report(PROG, &e);
        rc = -1;
    }
    if (tool_mpi_agree(mpi, rc) != 0 || tool_mpi_load_data(mpi, o, &d, PROG) != 0)
        return 1;
    rc = build_run(&m, ck, o, &d, mpi, stats, &c, &e);
    /* Every rank trains, or none: the steps are collective. */
    if (tool_mpi_agree(mpi, rc) == 0) {
        rc = train_loop_run(&m, &d, &mine, 1, &r, &e);
        if (rc == 0 && (mpi->size > 1 || c.layer_parallel)
            && measure_comm(&c, &m, o, &d, stats) != 0) {
            e.status = PCMUP_ERR_IO;
            snprintf(e.what, sizeof e.what, "measuring the communication per step");
            rc = -1;
        }
    } else if (rc == 0) {
        rc = -2; /* another rank failed, and said so */
    }
    if (rc == -1)
        train_error_report(PROG, &e);
    else if (rc == 0 && o->json)
        print_json(o, &m, &r, &c);
    else if (rc == 0)
        print_summary(o, &m, &r, &c);
    train_model_free(&m);
    train_data_free(&d);
    return rc == 0 ? 0 : 1;
}

/* --resume: the checkpoint's options in *o, then the checks a new run's
 * parse makes. 0, 1 (runtime failure, reported) or 2 (usage error). */
static int resume(train_options *o, pcmup_checkpoint **ck)
{
    train_error e = {0};
    switch (train_resume_options(o, ck, PROG, &e)) {
    case TRAIN_RESUME_OK: break;
    case TRAIN_RESUME_FAILED: train_error_report(PROG, &e); return 1;
    default: return 2;
    }
    return train_options_check(o) == TRAIN_PARSE_RUN ? 0 : 2;
}

/* Parses (every rank alike, rank 0 saying what is wrong), then trains.
 * An exit status. */
static int parse_and_run(int argc, char **argv, const tool_mpi *mpi)
{
    train_options opts;
    pcmup_checkpoint *ck = NULL;
    int rc = 0;

    train_options_offer_checkpoints();
    switch (train_options_parse(&opts, argc, argv)) {
    case TRAIN_PARSE_RUN: break;
    case TRAIN_PARSE_EXIT: return 0;
    default: return 2;
    }
    if (opts.resume != NULL)
        rc = resume(&opts, &ck);
    /* A checkpoint one rank cannot read stops them all. */
    rc = tool_mpi_agree(mpi, rc);
    if (rc == 0)
        rc = run(&opts, ck, mpi);
    /* opts points into the checkpoint (train_resume_options). */
    pcmup_checkpoint_free(ck);
    if (rc != 0)
        return rc;
    return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    tool_mpi mpi;
    char err[256];

    if (tool_mpi_start(&mpi, &argc, &argv, err, sizeof err) != 0) {
        fprintf(stderr, "%s: MPI: %s\n", PROG, err);
        return tool_mpi_abort(&mpi, 1);
    }
    /* The ranks other than 0 do what rank 0 does and says. */
    tool_mpi_hush(&mpi, 1);
    return tool_mpi_finish(&mpi, parse_and_run(argc, argv, &mpi));
}
