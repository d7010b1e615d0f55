/* SPDX-License-Identifier: MIT */
/*
 * test_api_memory.c -- allocators at the edges of the API (api_fixture.h).
 *
 * A whole life cycle runs with the k-th allocation failing, for every k
 * until a run has no failure left. The first call that meets the failure
 * must return PCMUP_ERR_NOMEM with a message naming it; retried with a
 * working allocator it must then succeed (the failure left a usable
 * object); at the end, freeing everything returns every block. Then the
 * same for a create-train-evaluate sequence of every rule, which also
 * checks that the failing call changed nothing, seen or unseen (see
 * nomem_every_rule). Every byte a handle owns goes through its allocator.
 */
#define _POSIX_C_SOURCE 200809L
#include "api_fixture.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#define LB 3 /* life-cycle batch */

typedef struct {
    tu_counter cnt;
    pcmup_allocator counting; /* counts and injects failures */
    pcmup_allocator a;        /* checks the contract, then calls counting */
    size_t null_frees;        /* free_fn(NULL) calls: the header rules them out */
    pcmup_param *p, *clone;
    pcmup_net *net;
    pcmup_algo *algo;
    pcmup_dataset *ds, *idx, *cifar;
    float out[2 * N * C];
    const char *idx_images, *idx_labels, *cifar_dir;
} life;

/* The allocator handed to the library: the counting one, plus a record of
 * free_fn(NULL) calls ("free_fn is never called with NULL"). */
static void *strict_malloc(void *user, size_t size)
{
    life *s = user;
    return s->counting.malloc_fn(s->counting.user, size);
}

static void *strict_realloc(void *user, void *ptr, size_t size)
{
    life *s = user;
    return s->counting.realloc_fn(s->counting.user, ptr, size);
}

static void strict_free(void *user, void *ptr)
{
    life *s = user;
    if (!ptr)
        s->null_frees++;
    s->counting.free_fn(s->counting.user, ptr);
}

static pcmup_status st_param(life *s)
{
    return pcmup_param_create(&s->p, NL, PCMUP_PRESET_MUP_SGD, &s->a);
}
static pcmup_status st_clone(life *s) { return pcmup_param_clone(&s->clone, s->p); }
static pcmup_status st_net(life *s)
{
    return pcmup_net_create(&s->net, WIDTHS, NL + 1, PCMUP_ACT_TANH, PCMUP_NET_BIAS, s->clone,
                            3, &s->a);
}
static pcmup_status st_algo(life *s)
{
    return pcmup_algo_create(&s->algo, PCMUP_RULE_BP, s->net, 4, &s->a);
}
static pcmup_status st_momentum(life *s)
{
    return pcmup_algo_set(s->algo, PCMUP_SET_MOMENTUM, 0.9);
}
static pcmup_status st_step(life *s)
{
    return pcmup_algo_step(s->algo, w.x, LB * D, w.labels, LB, NULL);
}
static pcmup_status st_forward(life *s)
{
    return pcmup_net_forward(s->net, w.x, LB * D, LB, s->out, LB * C);
}
/* A larger batch grows the forward scratch (realloc of a live block). */
static pcmup_status st_forward_grow(life *s)
{
    float x[N * D];
    TU_OK(pcmup_dataset_get_batch(w.data, 0, N, x, N * D, NULL));
    return pcmup_net_forward_layer(s->net, x, N * D, N, 2, PCMUP_SIGNAL_POST, s->out, N * 6);
}
static pcmup_status st_dataset(life *s)
{
    float x[N * D];
    int32_t labels[N];
    TU_OK(pcmup_dataset_get_batch(w.data, 0, N, x, N * D, labels));
    return pcmup_dataset_from_arrays(&s->ds, N, D, C, x, N * D, labels, &s->a);
}
static pcmup_status st_epoch(life *s) { return pcmup_algo_train_epoch(s->algo, s->ds, 5, NULL); }
static pcmup_status st_evaluate(life *s)
{
    return pcmup_algo_evaluate(s->algo, s->ds, NULL, NULL);
}
static pcmup_status st_truncate(life *s) { return pcmup_dataset_truncate(s->ds, N / 2); }
static pcmup_status st_load_idx(life *s)
{
    return pcmup_dataset_load_idx(&s->idx, s->idx_images, s->idx_labels, &s->a);
}
static pcmup_status st_load_cifar(life *s)
{
    return pcmup_dataset_load_cifar10(&s->cifar, s->cifar_dir, PCMUP_SPLIT_TEST, &s->a);
}

typedef struct {
    const char *fn;
    pcmup_status (*run)(life *);
    int allocates; /* must meet an injected failure for some k */
    int tolerant;  /* may absorb a failed allocation and succeed */
} life_step;

static const life_step life_steps[] = {
    {"pcmup_param_create", st_param, 1, 0},
    {"pcmup_param_clone", st_clone, 1, 0},
    {"pcmup_net_create", st_net, 1, 0},
    {"pcmup_algo_create", st_algo, 1, 0},
    {"pcmup_algo_set", st_momentum, 0, 0},
    {"pcmup_algo_step", st_step, 1, 0},
    {"pcmup_net_forward", st_forward, 1, 0},
    {"pcmup_net_forward_layer", st_forward_grow, 1, 0},
    {"pcmup_dataset_from_arrays", st_dataset, 1, 0},
    {"pcmup_algo_train_epoch", st_epoch, 1, 0},
    {"pcmup_algo_evaluate", st_evaluate, 1, 0},
    /* Shrinking is best effort: a failed realloc keeps the larger block. */
    {"pcmup_dataset_truncate", st_truncate, 0, 1},
    {"pcmup_dataset_load_idx", st_load_idx, 1, 0},
    {"pcmup_dataset_load_cifar10", st_load_cifar, 1, 0},
};
#define N_LIFE_STEPS (sizeof life_steps / sizeof life_steps[0])

static void life_free(life *s)
{
    pcmup_algo_free(s->algo);
    pcmup_net_free(s->net);
    pcmup_param_free(s->clone);
    pcmup_param_free(s->p);
    pcmup_dataset_free(s->ds);
    pcmup_dataset_free(s->idx);
    pcmup_dataset_free(s->cifar);
}

/* Runs one step; returns 1 if it met the injected failure. */
static int life_run_step(life *s, const life_step *st, size_t k)
{
    size_t pending = s->cnt.fail_after;
    pcmup_status got = st->run(s);
    int met = pending != 0 && s->cnt.fail_after == 0;
    if (!met || (st->tolerant && got == PCMUP_OK)) {
        ck_assert_msg(got == PCMUP_OK, "k = %zu: %s -> %s (%s)", k, st->fn,
                      pcmup_status_name(got), pcmup_last_error());
        return met;
    }
    ck_assert_msg(got == PCMUP_ERR_NOMEM, "k = %zu: %s -> %s after a failed allocation", k,
                  st->fn, pcmup_status_name(got));
    ck_assert_msg(strncmp(pcmup_last_error(), st->fn, strlen(st->fn)) == 0,
                  "k = %zu: message \"%s\" does not name %s", k, pcmup_last_error(), st->fn);
    got = st->run(s); /* the allocator works again */
    ck_assert_msg(got == PCMUP_OK, "k = %zu: %s failed again after NOMEM: %s (%s)", k, st->fn,
                  pcmup_status_name(got), pcmup_last_error());
    return 1;
}

/* One life cycle with the k-th allocation failing; returns the index of the
 * step that met the failure, or -1 if none did. */
static int life_cycle(size_t k, const char *images, const char *labels, const char *cifar)
{
    life s;
    memset(&s, 0, sizeof s);
    s.counting = tu_counting_allocator(&s.cnt);
    pcmup_allocator strict = PCMUP_ALLOCATOR_INIT(strict_malloc, strict_realloc, strict_free, &s);
    s.a = strict;
    s.cnt.fail_after = k;
    s.idx_images = images;
    s.idx_labels = labels;
    s.cifar_dir = cifar;
    int failed_at = -1;
    for (size_t i = 0; i < N_LIFE_STEPS; i++)
        if (life_run_step(&s, &life_steps[i], k) && failed_at < 0)
            failed_at = (int)i;
    life_free(&s);
    ck_assert_msg(s.cnt.live == 0, "k = %zu: %ld blocks leaked", k, s.cnt.live);
    ck_assert_msg(s.null_frees == 0, "k = %zu: free_fn called %zu times with NULL", k,
                  s.null_frees);
    return failed_at;
}

/* A tiny IDX pair: 4 images of 2 x 3 bytes and their labels. */
static void write_file(const char *path, const unsigned char *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(bytes, 1, n, f), n);
    fclose(f);
}
static void write_idx_pair(const char *images, const char *labels)
{
    unsigned char img[4 + 12 + 24] = {0, 0, 8, 3, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, 3};
    for (int i = 0; i < 24; i++)
        img[16 + i] = (unsigned char)(i * 10);
    const unsigned char lab[] = {0, 0, 8, 1, 0, 0, 0, 4, 0, 1, 2, 1};
    write_file(images, img, 16 + 24);
    write_file(labels, lab, sizeof lab);
}

/* A CIFAR-10 directory whose test split is 2 records. */
static void write_cifar_dir(const char *dir, char *test_batch, size_t size)
{
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    snprintf(test_batch, size, "%s/test_batch.bin", dir);
    unsigned char rec[2 * 3073];
    for (size_t i = 0; i < sizeof rec; i++)
        rec[i] = (unsigned char)(i % 3073 == 0 ? i / 3073 : i % 251);
    write_file(test_batch, rec, sizeof rec);
}

START_TEST(nomem_injection)
{
    char images[64], labels[64], cifar[64], cifar_test[96];
    snprintf(images, sizeof images, "/tmp/pcmup_api_%ld_img", (long)getpid());
    snprintf(labels, sizeof labels, "/tmp/pcmup_api_%ld_lab", (long)getpid());
    snprintf(cifar, sizeof cifar, "/tmp/pcmup_api_%ld_cifar", (long)getpid());
    write_idx_pair(images, labels);
    write_cifar_dir(cifar, cifar_test, sizeof cifar_test);
    int met[N_LIFE_STEPS] = {0};
    size_t k = 1;
    for (;; k++) {
        ck_assert_msg(k < 1000, "the life cycle never ran without failure");
        int at = life_cycle(k, images, labels, cifar);
        if (at < 0)
            break;
        met[at] = 1;
    }
    unlink(images);
    unlink(labels);
    unlink(cifar_test);
    rmdir(cifar);
    for (size_t i = 0; i < N_LIFE_STEPS; i++)
        ck_assert_msg(!life_steps[i].allocates || met[i],
                      "%s never met an allocation failure: does it use the allocator?",
                      life_steps[i].fn);
    ck_assert_uint_gt(k, N_LIFE_STEPS);
}
END_TEST

/* ---- every rule: create, train and evaluate with one allocation failing ----
 *
 * For each rule, and the settings that make a rule allocate more (momentum,
 * recorded updates, PC's schedules and its deep-linear closed form, GNT's
 * per-sample variant, trained feedback), a create-train-evaluate sequence
 * runs with the k-th allocation failing, for every k until a run meets no
 * failure. The call that meets it must return PCMUP_ERR_NOMEM, naming
 * itself, and leave the caller's objects as they were: weights and biases,
 * trained feedback and the recorded last update byte-identical, its
 * out-parameters unwritten, a create function's handle still NULL. What
 * the API does not show (momentum, the random stream, a rule's inner
 * state) must be unchanged too: the call is retried with a working
 * allocator, and after it, and after every later call, the weights, the
 * feedback, the last update and every output must be bitwise those of the
 * run where nothing failed.
 * Freeing everything returns every block. */

typedef struct {
    const char *name;
    pcmup_rule rule;
    pcmup_preset preset;
    pcmup_activation act;
    unsigned net_flags;
    int n_settings;
    pcmup_setting keys[4];
    double values[4];
    int linear; /* also solves PC's deep-linear equilibrium */
} rule_config;

static const rule_config rule_configs[] = {
    {"BP", PCMUP_RULE_BP, PCMUP_PRESET_MUP_SGD, PCMUP_ACT_TANH, PCMUP_NET_BIAS, 3,
     {PCMUP_SET_MOMENTUM, PCMUP_SET_WEIGHT_DECAY, PCMUP_SET_RECORD_UPDATES}, {0.9, 1e-3, 1}, 0},
    {"PC, cached errors", PCMUP_RULE_PC, PCMUP_PRESET_MUP_PC, PCMUP_ACT_TANH, PCMUP_NET_BIAS,
     4, {PCMUP_SET_PC_ITERATIONS, PCMUP_SET_PC_TIMING, PCMUP_SET_MOMENTUM,
         PCMUP_SET_RECORD_UPDATES}, {3, PCMUP_PC_TIMING_CACHE, 0.9, 1}, 0},
    {"PC simultaneous, random init, FPA", PCMUP_RULE_PC, PCMUP_PRESET_MUP_PC, PCMUP_ACT_TANH,
     0, 4, {PCMUP_SET_PC_SCHEDULE, PCMUP_SET_PC_INIT, PCMUP_SET_PC_FPA, PCMUP_SET_PC_ITERATIONS},
     {PCMUP_PC_SCHEDULE_SIMULTANEOUS, PCMUP_PC_INIT_RANDOM, 1, 2}, 0},
    {"PC deep linear, closed form", PCMUP_RULE_PC, PCMUP_PRESET_MUP_PC, PCMUP_ACT_IDENTITY, 0,
     2, {PCMUP_SET_PC_ITERATIONS, PCMUP_SET_MOMENTUM}, {2, 0.5}, 1},
    {"GNT", PCMUP_RULE_GNT, PCMUP_PRESET_MUP_GNT, PCMUP_ACT_TANH, PCMUP_NET_BIAS, 2,
     {PCMUP_SET_MOMENTUM, PCMUP_SET_RECORD_UPDATES}, {0.9, 1}, 0},
    {"GNT per sample, hidden layers only", PCMUP_RULE_GNT, PCMUP_PRESET_MUP_GNT,
     PCMUP_ACT_TANH, 0, 3, {PCMUP_SET_GNT_VARIANT, PCMUP_SET_GNT_OUTPUT, PCMUP_SET_MOMENTUM},
     {PCMUP_GNT_SAMPLE, 0, 0.5}, 0},
    {"TP", PCMUP_RULE_TP, PCMUP_PRESET_MUP_TP, PCMUP_ACT_TANH, PCMUP_NET_BIAS, 1,
     {PCMUP_SET_MOMENTUM}, {0.9}, 0},
    {"TP trained feedback", PCMUP_RULE_TP, PCMUP_PRESET_MUP_TP, PCMUP_ACT_TANH, 0, 3,
     {PCMUP_SET_TP_FEEDBACK, PCMUP_SET_TP_FB_STEPS, PCMUP_SET_MOMENTUM},
     {PCMUP_TP_FEEDBACK_TRAINED, 2, 0.5}, 0},
    {"DTP", PCMUP_RULE_DTP, PCMUP_PRESET_MUP_TP, PCMUP_ACT_TANH, PCMUP_NET_BIAS, 1,
     {PCMUP_SET_RECORD_UPDATES}, {1}, 0},
    {"DTP trained tanh feedback", PCMUP_RULE_DTP, PCMUP_PRESET_MUP_TP, PCMUP_ACT_TANH, 0, 3,
     {PCMUP_SET_TP_FEEDBACK, PCMUP_SET_TP_FB_ACTIVATION, PCMUP_SET_MOMENTUM},
     {PCMUP_TP_FEEDBACK_TRAINED, PCMUP_ACT_TANH, 0.9}, 0},
};

#define N_OUTS 5 /* the doubles the sequence's calls report */
#define UPDATE_FLOATS (7 * 5 + 6 * 7 + 3 * 6) /* every layer's W_l of WIDTHS */

typedef struct {
    const rule_config *cfg;
    tu_counter cnt;
    pcmup_allocator a;
    pcmup_param *p;
    pcmup_net *net;
    pcmup_algo *algo;
    pcmup_dataset *ds;
    /* The calls' outputs: losses, accuracy, PC's equilibrium energy and
     * its updates. */
    double outs[N_OUTS];
    float eq_updates[UPDATE_FLOATS];
} rule_run;

/* The fixture's base width: the layers' factors near 1 at these widths. */
static pcmup_status rr_param(rule_run *r)
{
    pcmup_status s = pcmup_param_create(&r->p, NL, r->cfg->preset, &r->a);
    return s == PCMUP_OK ? pcmup_param_set(r->p, PCMUP_PARAM_BASE_WIDTH, 4.0) : s;
}
static pcmup_status rr_net(rule_run *r)
{
    return pcmup_net_create(&r->net, WIDTHS, NL + 1, r->cfg->act, r->cfg->net_flags, r->p, 3,
                            &r->a);
}
static pcmup_status rr_algo(rule_run *r)
{
    return pcmup_algo_create(&r->algo, r->cfg->rule, r->net, 4, &r->a);
}
static pcmup_status rr_settings(rule_run *r)
{
    pcmup_status s = pcmup_algo_set(r->algo, PCMUP_SET_LR, 0.05);
    for (int i = 0; i < r->cfg->n_settings && s == PCMUP_OK; i++)
        s = pcmup_algo_set(r->algo, r->cfg->keys[i], r->cfg->values[i]);
    return s;
}
static pcmup_status rr_dataset(rule_run *r)
{
    float x[N * D];
    int32_t labels[N];
    TU_OK(pcmup_dataset_get_batch(w.data, 0, N, x, N * D, labels));
    return pcmup_dataset_from_arrays(&r->ds, N, D, C, x, N * D, labels, &r->a);
}
static pcmup_status rr_step(rule_run *r)
{
    return pcmup_algo_step(r->algo, w.x, B * D, w.labels, B, &r->outs[0]);
}
static pcmup_status rr_epoch(rule_run *r)
{
    return pcmup_algo_train_epoch(r->algo, r->ds, 5, &r->outs[1]);
}
/* A batch larger than any before grows the scratch while momentum,
 * feedback and the last update exist. */
static pcmup_status rr_step_grow(rule_run *r)
{
    float x[N * D];
    int32_t labels[N];
    TU_OK(pcmup_dataset_get_batch(w.data, 0, N, x, N * D, labels));
    return pcmup_algo_step(r->algo, x, N * D, labels, N, &r->outs[2]);
}
static pcmup_status rr_evaluate(rule_run *r)
{
    return pcmup_algo_evaluate(r->algo, r->ds, &r->outs[3], &r->outs[4]);
}
/* PC's closed form (deep-linear configuration only): scratch for the call. */
static pcmup_status rr_linear(rule_run *r)
{
    if (!r->cfg->linear)
        return PCMUP_OK;
    float *updates[NL];
    for (size_t l = 1, at = 0; l <= NL; at += WIDTHS[l] * WIDTHS[l - 1], l++)
        updates[l - 1] = r->eq_updates + at;
    double energy;
    pcmup_status s = pcmup_pc_linear_equilibrium(r->algo, w.x, B * D, w.labels, B, NULL, 0,
                                                 NULL, 0, updates, NL, NULL, 0, NULL, &energy);
    if (s == PCMUP_OK)
        r->outs[2] += energy; /* kept among the compared outputs */
    return s;
}

typedef struct {
    const char *fn;
    pcmup_status (*run)(rule_run *);
    void *(*out)(rule_run *); /* the handle a create function makes, or NULL */
    int must_meet;            /* must meet an injected failure for some k */
} rule_call;

static void *out_param(rule_run *r) { return r->p; }
static void *out_net(rule_run *r) { return r->net; }
static void *out_algo(rule_run *r) { return r->algo; }
static void *out_ds(rule_run *r) { return r->ds; }

static const rule_call rule_calls[] = {
    {"pcmup_param_create", rr_param, out_param, 1},
    {"pcmup_net_create", rr_net, out_net, 1},
    {"pcmup_algo_create", rr_algo, out_algo, 1},
    {"pcmup_algo_set", rr_settings, NULL, 0},
    {"pcmup_dataset_from_arrays", rr_dataset, out_ds, 1},
    {"pcmup_algo_step", rr_step, NULL, 1},
    {"pcmup_algo_train_epoch", rr_epoch, NULL, 1},
    {"pcmup_algo_step", rr_step_grow, NULL, 1},
    {"pcmup_algo_evaluate", rr_evaluate, NULL, 0},
    {"pcmup_pc_linear_equilibrium", rr_linear, NULL, 0},
};
#define N_RULE_CALLS (sizeof rule_calls / sizeof rule_calls[0])

/* What the API shows of the objects: weights and biases, trained
 * feedback, the last recorded update; each array NULL while absent. */
typedef struct {
    float *net;
    size_t net_len;
    float fb[UPDATE_FLOATS], upd[UPDATE_FLOATS];
    int have_fb, have_upd;
} rule_state;

static int read_layers(const pcmup_algo *algo, float *dst, int feedback)
{
    for (size_t l = feedback ? 2 : 1; l <= NL; l++) {
        size_t n = WIDTHS[l] * WIDTHS[l - 1];
        pcmup_status s = feedback ? pcmup_tp_get_feedback(algo, l, dst, n)
                                  : pcmup_algo_last_update(algo, l, dst, n);
        if (s == PCMUP_ERR_UNSUPPORTED)
            return 0; /* not made yet (or not this rule's) */
        TU_OK(s);
        dst += n;
    }
    return 1;
}

static void state_take(const rule_run *r, rule_state *st)
{
    memset(st, 0, sizeof *st);
    if (r->net)
        st->net = net_snapshot(r->net, &st->net_len);
    if (r->algo) {
        st->have_fb = read_layers(r->algo, st->fb, 1);
        st->have_upd = read_layers(r->algo, st->upd, 0);
    }
}

static void state_assert_same(const rule_state *a, const rule_state *b, const char *what)
{
    ck_assert_msg(a->net_len == b->net_len &&
                      (a->net_len == 0 || memcmp(a->net, b->net, a->net_len * sizeof(float)) == 0),
                  "%s: the weights differ", what);
    ck_assert_msg(a->have_fb == b->have_fb &&
                      memcmp(a->fb, b->fb, sizeof a->fb) == 0,
                  "%s: the trained feedback differs", what);
    ck_assert_msg(a->have_upd == b->have_upd && memcmp(a->upd, b->upd, sizeof a->upd) == 0,
                  "%s: the last recorded update differs", what);
}

/* The outputs of the calls: a failing call must leave them unwritten. */
typedef struct {
    double outs[N_OUTS];
    float eq_updates[UPDATE_FLOATS];
} rule_outs;

static void outs_take(const rule_run *r, rule_outs *o)
{
    memcpy(o->outs, r->outs, sizeof r->outs);
    memcpy(o->eq_updates, r->eq_updates, sizeof r->eq_updates);
}

static int outs_same(const rule_outs *a, const rule_outs *b)
{
    return memcmp(a->outs, b->outs, sizeof a->outs) == 0 &&
           memcmp(a->eq_updates, b->eq_updates, sizeof a->eq_updates) == 0;
}

/* The run without failure: the state and outputs after each call, which
 * every other run must reach after the same call. */
typedef struct {
    rule_state state[N_RULE_CALLS];
    rule_outs outs[N_RULE_CALLS];
} rule_trace;

/* How a run went: the calls that met the failure. */
typedef struct {
    int met[N_RULE_CALLS];
} rule_tally;

/* Runs call i; returns 1 if it met the injected failure. After it (and its
 * retry), the state and outputs must be the trace's (recorded there when
 * `record`). */
static int rule_run_call(rule_run *r, size_t i, size_t k, rule_trace *trace, int record,
                         rule_tally *tally)
{
    const rule_call *c = &rule_calls[i];
    char what[160];
    snprintf(what, sizeof what, "%s, k = %zu: %s (call %zu)", r->cfg->name, k, c->fn, i);
    rule_state before, after;
    rule_outs outs_before, outs_after;
    state_take(r, &before);
    outs_take(r, &outs_before);
    size_t pending = r->cnt.fail_after;
    pcmup_status got = c->run(r);
    int met = pending != 0 && r->cnt.fail_after == 0;
    if (!met) {
        ck_assert_msg(got == PCMUP_OK, "%s -> %s (%s)", what, pcmup_status_name(got),
                      pcmup_last_error());
    } else {
        ck_assert_msg(got == PCMUP_ERR_NOMEM, "%s -> %s after a failed allocation", what,
                      pcmup_status_name(got));
        ck_assert_msg(strncmp(pcmup_last_error(), c->fn, strlen(c->fn)) == 0,
                      "%s: message \"%s\" does not name it", what, pcmup_last_error());
        ck_assert_msg(!c->out || c->out(r) == NULL, "%s: made a handle", what);
        outs_take(r, &outs_after);
        ck_assert_msg(outs_same(&outs_before, &outs_after), "%s: wrote an output", what);
        state_take(r, &after);
        state_assert_same(&before, &after, what);
        free(after.net);
        got = c->run(r); /* the allocator works again */
        ck_assert_msg(got == PCMUP_OK, "%s failed again after NOMEM: %s (%s)", what,
                      pcmup_status_name(got), pcmup_last_error());
    }
    free(before.net);
    if (met)
        tally->met[i] = 1;
    if (record) {
        state_take(r, &trace->state[i]);
        outs_take(r, &trace->outs[i]);
        return met;
    }
    /* Momentum, the random stream and a rule's inner state do not show:
     * they were unchanged if what follows is what would have followed. */
    strcat(what, ", then as without failure");
    state_take(r, &after);
    state_assert_same(&trace->state[i], &after, what);
    free(after.net);
    outs_take(r, &outs_after);
    ck_assert_msg(outs_same(&trace->outs[i], &outs_after), "%s: the outputs differ", what);
    return met;
}

static void rule_run_free(rule_run *r)
{
    pcmup_algo_free(r->algo);
    pcmup_net_free(r->net);
    pcmup_param_free(r->p);
    pcmup_dataset_free(r->ds);
}

/* The sequence with the k-th allocation failing (k = 0: none, recording
 * the trace). Returns whether a call met the failure. */
static int rule_sequence(const rule_config *cfg, size_t k, rule_trace *trace,
                         rule_tally *tally)
{
    rule_run r;
    memset(&r, 0, sizeof r);
    r.cfg = cfg;
    r.a = tu_counting_allocator(&r.cnt);
    r.cnt.fail_after = k;
    fill_sentinel_d(r.outs, N_OUTS);
    fill_sentinel(r.eq_updates, UPDATE_FLOATS);
    int any = 0;
    for (size_t i = 0; i < N_RULE_CALLS; i++)
        any |= rule_run_call(&r, i, k, trace, k == 0, tally);
    rule_run_free(&r);
    ck_assert_msg(r.cnt.live == 0, "%s, k = %zu: %ld blocks leaked", cfg->name, k, r.cnt.live);
    return any;
}

static void nomem_rule(const rule_config *cfg)
{
    static rule_trace trace;
    rule_tally tally;
    memset(&tally, 0, sizeof tally);
    ck_assert_int_eq(rule_sequence(cfg, 0, &trace, &tally), 0);
    ck_assert_msg(trace.state[N_RULE_CALLS - 1].net_len > 0, "%s: no weights", cfg->name);
    size_t k = 1;
    while (rule_sequence(cfg, k, &trace, &tally))
        ck_assert_msg(++k < 2000, "%s: the sequence never ran without failure", cfg->name);
    for (size_t i = 0; i < N_RULE_CALLS; i++) {
        ck_assert_msg(!rule_calls[i].must_meet || tally.met[i],
                      "%s: call %zu (%s) never met an allocation failure", cfg->name, i,
                      rule_calls[i].fn);
        free(trace.state[i].net);
    }
    printf("%s: %zu allocations failed in turn\n", cfg->name, k - 1);
}

START_TEST(nomem_every_rule)
{
    for (size_t i = 0; i < TU_COUNT(rule_configs); i++)
        nomem_rule(&rule_configs[i]);
}
END_TEST

/* Every handle's memory goes through its allocator: counted, and all of it
 * returned on free. */
START_TEST(allocator_sees_everything)
{
    tu_counter cnt;
    pcmup_allocator a = tu_counting_allocator(&cnt);
    pcmup_param *p;
    pcmup_net *net;
    pcmup_algo *algo;
    float out[B * C];
    TU_OK(pcmup_param_create(&p, NL, PCMUP_PRESET_SP, &a));
    size_t after_param = cnt.n_malloc + cnt.n_realloc;
    ck_assert_uint_gt(after_param, 0);
    TU_OK(pcmup_net_create(&net, WIDTHS, NL + 1, PCMUP_ACT_TANH, 0, p, 1, &a));
    size_t after_net = cnt.n_malloc + cnt.n_realloc;
    ck_assert_uint_gt(after_net, after_param);
    TU_OK(pcmup_algo_create(&algo, PCMUP_RULE_BP, net, 1, &a));
    size_t after_algo = cnt.n_malloc + cnt.n_realloc;
    ck_assert_uint_gt(after_algo, after_net);
    TU_OK(pcmup_algo_step(algo, w.x, B * D, w.labels, B, NULL));
    ck_assert_uint_gt(cnt.n_malloc + cnt.n_realloc, after_algo);
    TU_OK(pcmup_net_forward(net, w.x, B * D, B, out, B * C));
    /* "after the first step at a given batch size, steps allocate nothing" */
    size_t before = cnt.n_malloc + cnt.n_realloc;
    TU_OK(pcmup_algo_step(algo, w.x, B * D, w.labels, B, NULL));
    TU_OK(pcmup_algo_step(algo, w.x, (B - 1) * D, w.labels, B - 1, NULL));
    TU_OK(pcmup_net_forward(net, w.x, B * D, B, out, B * C));
    ck_assert_uint_eq(cnt.n_malloc + cnt.n_realloc, before);
    ck_assert_int_gt(cnt.live, 0);
    pcmup_algo_free(algo);
    pcmup_net_free(net);
    pcmup_param_free(p);
    ck_assert_int_eq(cnt.live, 0);
}
END_TEST

/* "The struct is copied at creation": the caller's struct may change or
 * die right after; the handles keep using the functions and `user` they
 * were given. */
START_TEST(allocator_struct_copied)
{
    tu_counter cnt;
    pcmup_allocator a = tu_counting_allocator(&cnt);
    pcmup_param *p;
    pcmup_net *net;
    pcmup_algo *algo;
    TU_OK(pcmup_param_create(&p, NL, PCMUP_PRESET_SP, &a));
    TU_OK(pcmup_net_create(&net, WIDTHS, NL + 1, PCMUP_ACT_TANH, 0, p, 1, &a));
    TU_OK(pcmup_algo_create(&algo, PCMUP_RULE_BP, net, 1, &a));
    memset(&a, 0, sizeof a);
    size_t before = cnt.n_malloc + cnt.n_realloc;
    TU_OK(pcmup_algo_step(algo, w.x, B * D, w.labels, B, NULL));
    ck_assert_uint_gt(cnt.n_malloc + cnt.n_realloc, before);
    pcmup_algo_free(algo);
    pcmup_net_free(net);
    pcmup_param_free(p);
    ck_assert_int_eq(cnt.live, 0);
}
END_TEST

/* The size field: a struct too small for this release's members is
 * refused by every create function, and a larger one (a caller built
 * against a later header that added members after `user`) is accepted,
 * its known members used and the rest ignored. */
START_TEST(allocator_size_field)
{
    tu_counter cnt;
    pcmup_allocator a = tu_counting_allocator(&cnt);
    ck_assert_uint_eq(a.size, sizeof(pcmup_allocator));
    pcmup_param *p = NULL;
    const size_t too_small[] = {0, 1, sizeof(pcmup_allocator) - 1};
    for (size_t i = 0; i < TU_COUNT(too_small); i++) {
        a.size = too_small[i];
        FAILS(PCMUP_ERR_INVALID, pcmup_param_create, &p, NL, PCMUP_PRESET_SP, &a);
        ck_assert_ptr_null(p);
        ck_assert_ptr_nonnull(strstr(pcmup_last_error(), "size"));
    }
    struct {
        pcmup_allocator known;
        void *later_member[4]; /* what a later release might add */
    } newer;
    memset(&newer, 0xA5, sizeof newer);
    newer.known = tu_counting_allocator(&cnt);
    newer.known.size = sizeof newer;
    pcmup_net *net;
    TU_OK(pcmup_param_create(&p, NL, PCMUP_PRESET_SP, &newer.known));
    TU_OK(pcmup_net_create(&net, WIDTHS, NL + 1, PCMUP_ACT_TANH, 0, p, 1, &newer.known));
    ck_assert_int_gt(cnt.live, 0);
    pcmup_net_free(net);
    pcmup_param_free(p);
    ck_assert_int_eq(cnt.live, 0);
}
END_TEST

/* Not under AddressSanitizer: its malloc is not glibc's, whose mallinfo2
 * would then see no change whatever the library did. */
#if defined(__GLIBC__) && defined(__GLIBC_PREREQ) && !defined(__SANITIZE_ADDRESS__)
#if __GLIBC_PREREQ(2, 33)
#define HAVE_MALLINFO2 1
#endif
#endif

#ifdef HAVE_MALLINFO2
/* A bump allocator on a static arena: no byte of it comes from malloc. */
static unsigned char arena[1 << 20];
static size_t arena_used;
static long arena_live;

static void *arena_malloc(void *user, size_t size)
{
    (void)user;
    size_t need = 16 + ((size + 15) & ~(size_t)15);
    if (arena_used + need > sizeof arena)
        return NULL;
    unsigned char *p = arena + arena_used;
    arena_used += need;
    memcpy(p, &size, sizeof size);
    arena_live++;
    return p + 16;
}

static void *arena_realloc(void *user, void *ptr, size_t size)
{
    void *q = arena_malloc(user, size);
    if (q && ptr) {
        size_t old;
        memcpy(&old, (unsigned char *)ptr - 16, sizeof old);
        memcpy(q, ptr, old < size ? old : size);
        arena_live--;
    }
    return q;
}

static void arena_free(void *user, void *ptr)
{
    (void)user;
    if (ptr)
        arena_live--;
}

/* Creates, trains and evaluates with `a`; leaves the handles alive. */
static void exercise(const pcmup_allocator *a, pcmup_param **p, pcmup_net **net,
                     pcmup_algo **algo, pcmup_dataset **ds)
{
    float x[N * D];
    int32_t labels[N];
    float out[N * C];
    TU_OK(pcmup_dataset_get_batch(w.data, 0, N, x, N * D, labels));
    TU_OK(pcmup_param_create(p, NL, PCMUP_PRESET_SP, a));
    TU_OK(pcmup_net_create(net, WIDTHS, NL + 1, PCMUP_ACT_TANH, PCMUP_NET_BIAS, *p, 1, a));
    TU_OK(pcmup_algo_create(algo, PCMUP_RULE_BP, *net, 1, a));
    TU_OK(pcmup_algo_set(*algo, PCMUP_SET_MOMENTUM, 0.5));
    TU_OK(pcmup_dataset_from_arrays(ds, N, D, C, x, N * D, labels, a));
    TU_OK(pcmup_algo_step(*algo, w.x, B * D, w.labels, B, NULL));
    TU_OK(pcmup_algo_train_epoch(*algo, *ds, 5, NULL));
    TU_OK(pcmup_algo_evaluate(*algo, *ds, NULL, NULL));
    TU_OK(pcmup_net_forward(*net, x, N * D, N, out, N * C));
}

static void release(pcmup_param *p, pcmup_net *net, pcmup_algo *algo, pcmup_dataset *ds)
{
    pcmup_algo_free(algo);
    pcmup_net_free(net);
    pcmup_param_free(p);
    pcmup_dataset_free(ds);
}


/* With handles living in a static arena, the process heap does not grow:
 * nothing a handle owns bypasses its allocator. A first run with the
 * default allocator lets BLAS set up its own buffers beforehand. */
START_TEST(no_byte_bypasses_allocator)
{
    pcmup_param *p;
    pcmup_net *net;
    pcmup_algo *algo;
    pcmup_dataset *ds;
    exercise(NULL, &p, &net, &algo, &ds);
    release(p, net, algo, ds);
    pcmup_allocator a = PCMUP_ALLOCATOR_INIT(arena_malloc, arena_realloc, arena_free, NULL);
    size_t heap_before = mallinfo2().uordblks;
    exercise(&a, &p, &net, &algo, &ds);
    size_t heap_during = mallinfo2().uordblks;
    ck_assert_int_gt(arena_live, 0);
    release(p, net, algo, ds);
    ck_assert_int_eq(arena_live, 0);
    ck_assert_msg(heap_during == heap_before, "heap grew by %zd bytes outside the allocator",
                  (ssize_t)(heap_during - heap_before));
}
END_TEST

#endif

int main(void)
{
    const TTest *tests[] = {
        nomem_injection,
        nomem_every_rule,
        allocator_sees_everything,
        allocator_struct_copied,
        allocator_size_field,
#ifdef HAVE_MALLINFO2
        no_byte_bypasses_allocator,
#endif
    };
    return api_run("api_memory", 120, tests, TU_COUNT(tests));
}
