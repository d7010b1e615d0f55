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
 */
#include <stdio.h>

#include "jsonl.h"
#include "pcmup.h"
#include "train_checkpoint.h"
#include "train_loop.h"
#include "train_options.h"
#include "train_setup.h"

#define PROG "pcmup-train"

/* ---- reporting ----------------------------------------------------------- */

static void print_json(const train_options *o, const train_model *m, const train_results *r)
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

static void print_summary(const train_options *o, const train_model *m, const train_results *r)
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

/* Trains and reports; *o has the checkpoint's options when resuming. */
static int run(const train_options *o, const pcmup_checkpoint *ck)
{
    train_data d = {0};
    train_model m = {0};
    train_results r = {0};
    train_error e = {0};
    pcmup_status st;
    int rc = 0;

    if (o->threads > 0 && (st = pcmup_set_blas_threads(o->threads)) != PCMUP_OK) {
        e.status = st;
        snprintf(e.what, sizeof e.what, "--threads");
        rc = -1;
    }
    if (rc == 0)
        rc = train_data_load(&d, o, &e);
    if (rc == 0)
        rc = build_model(&m, ck, o, &d, &e);
    if (rc == 0)
        rc = train_loop_run(&m, &d, o, 1, &r, &e);
    if (rc != 0)
        train_error_report(PROG, &e);
    else if (o->json)
        print_json(o, &m, &r);
    else
        print_summary(o, &m, &r);
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

int main(int argc, char **argv)
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
    if (rc == 0)
        rc = run(&opts, ck);
    /* opts points into the checkpoint (train_resume_options). */
    pcmup_checkpoint_free(ck);
    if (rc != 0)
        return rc;
    return fflush(stdout) == 0 ? 0 : 1;
}
