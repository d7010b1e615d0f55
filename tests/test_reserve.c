/* SPDX-License-Identifier: MIT */
/*
 * test_reserve.c -- pcmup_algo_reserve: after it, steps and epochs of the
 * reserved batch allocate nothing (an epoch only its sample order, once),
 * the results are bit for bit those of a run without it, and a failed
 * reservation changes nothing. Every rule, plain SGD and momentum with
 * recorded updates (which add buffers to reserve and to snapshot).
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#define DEPTH 3
#define BATCH 16
#define SAMPLES 40 /* two full batches and a partial one per epoch */

static const size_t WIDTHS[DEPTH + 1] = {20, 32, 24, 4};

typedef struct {
    const char *name;
    pcmup_rule rule;
    double momentum;
    double record; /* PCMUP_SET_RECORD_UPDATES */
} config;

static const config CONFIGS[] = {
    {"bp", PCMUP_RULE_BP, 0.0, 0.0},   {"bp momentum", PCMUP_RULE_BP, 0.5, 1.0},
    {"pc", PCMUP_RULE_PC, 0.0, 0.0},   {"pc momentum", PCMUP_RULE_PC, 0.5, 1.0},
    {"gnt", PCMUP_RULE_GNT, 0.0, 0.0}, {"gnt momentum", PCMUP_RULE_GNT, 0.5, 1.0},
    {"tp", PCMUP_RULE_TP, 0.0, 0.0},   {"dtp momentum", PCMUP_RULE_DTP, 0.5, 1.0},
};

typedef struct {
    pcmup_param *param;
    pcmup_net *net;
    pcmup_algo *algo;
} model;

/* The same model every time for a config: same seeds, same settings. */
static void build(model *m, const config *c, const pcmup_allocator *alloc)
{
    TU_OK(pcmup_param_create(&m->param, DEPTH, PCMUP_PRESET_SP, alloc));
    TU_OK(pcmup_net_create(&m->net, WIDTHS, DEPTH + 1, PCMUP_ACT_TANH, PCMUP_NET_BIAS,
                           m->param, 7, alloc));
    TU_OK(pcmup_algo_create(&m->algo, c->rule, m->net, 11, alloc));
    TU_OK(pcmup_algo_set(m->algo, PCMUP_SET_LR, 0.05));
    TU_OK(pcmup_algo_set(m->algo, PCMUP_SET_MOMENTUM, c->momentum));
    TU_OK(pcmup_algo_set(m->algo, PCMUP_SET_RECORD_UPDATES, c->record));
}

static void release(model *m)
{
    pcmup_algo_free(m->algo);
    pcmup_net_free(m->net);
    pcmup_param_free(m->param);
    memset(m, 0, sizeof *m);
}

static size_t calls(const tu_counter *cnt)
{
    return cnt->n_malloc + cnt->n_realloc;
}

/* What a run computed: every layer's weights and the losses on the way. */
typedef struct {
    float *w[DEPTH];
    size_t n[DEPTH];
    double loss[4];
} outcome;

static void outcome_free(outcome *o)
{
    for (size_t l = 0; l < DEPTH; l++)
        free(o->w[l]);
}

/* Two steps (a full and a smaller batch) and two epochs. With cnt (the
 * model was reserved for BATCH through the counting allocator): the steps
 * allocate nothing, the first epoch one block (its sample order) and the
 * second nothing. */
static void train(model *m, const pcmup_dataset *ds, const float *x, const int32_t *labels,
                  tu_counter *cnt, const char *name, outcome *out)
{
    size_t before = cnt ? calls(cnt) : 0;
    TU_OK(pcmup_algo_step(m->algo, x, BATCH * WIDTHS[0], labels, BATCH, &out->loss[0]));
    TU_OK(pcmup_algo_step(m->algo, x, (BATCH - 3) * WIDTHS[0], labels, BATCH - 3,
                          &out->loss[1]));
    if (cnt)
        ck_assert_msg(calls(cnt) == before, "%s: steps allocated %zu blocks after reserve",
                      name, calls(cnt) - before);
    TU_OK(pcmup_algo_train_epoch(m->algo, ds, BATCH, &out->loss[2]));
    if (cnt)
        ck_assert_msg(calls(cnt) == before + 1,
                      "%s: the first epoch allocated %zu blocks, want 1 (the order)", name,
                      calls(cnt) - before);
    TU_OK(pcmup_algo_train_epoch(m->algo, ds, BATCH, &out->loss[3]));
    if (cnt)
        ck_assert_msg(calls(cnt) == before + 1, "%s: the second epoch allocated", name);
    for (size_t l = 0; l < DEPTH; l++)
        out->w[l] = tu_layer_weights(m->net, l + 1, &out->n[l]);
}

static void assert_same(const outcome *a, const outcome *b, const char *name)
{
    for (size_t i = 0; i < 4; i++)
        ck_assert_msg(memcmp(&a->loss[i], &b->loss[i], sizeof a->loss[i]) == 0,
                      "%s: loss %zu differs (%.17g vs %.17g)", name, i, a->loss[i], b->loss[i]);
    for (size_t l = 0; l < DEPTH; l++) {
        ck_assert_uint_eq(a->n[l], b->n[l]);
        ck_assert_msg(memcmp(a->w[l], b->w[l], a->n[l] * sizeof(float)) == 0,
                      "%s: layer %zu weights differ with and without reserve", name, l + 1);
    }
}

typedef struct {
    float *x;
    int32_t *labels;
    pcmup_dataset *ds;
} data;

static data make_data(void)
{
    data d;
    d.x = tu_uniform(SAMPLES * WIDTHS[0], 3);
    d.labels = tu_cyclic_labels(SAMPLES, WIDTHS[DEPTH]);
    TU_OK(pcmup_dataset_from_arrays(&d.ds, SAMPLES, WIDTHS[0], WIDTHS[DEPTH], d.x,
                                    SAMPLES * WIDTHS[0], d.labels, NULL));
    return d;
}

static void data_free(data *d)
{
    pcmup_dataset_free(d->ds);
    free(d->x);
    free(d->labels);
}

/* The reference run: the default allocator, no reserve. */
static void reference(const config *c, const data *d, outcome *out)
{
    model m;
    build(&m, c, NULL);
    train(&m, d->ds, d->x, d->labels, NULL, c->name, out);
    release(&m);
}

START_TEST(reserved_runs_allocate_nothing_and_match)
{
    data d = make_data();
    for (size_t i = 0; i < TU_COUNT(CONFIGS); i++) {
        const config *c = &CONFIGS[i];
        outcome want, got;
        reference(c, &d, &want);
        tu_counter cnt;
        pcmup_allocator alloc = tu_counting_allocator(&cnt);
        model m;
        build(&m, c, &alloc);
        size_t before = calls(&cnt);
        TU_OK(pcmup_algo_reserve(m.algo, BATCH));
        ck_assert_msg(calls(&cnt) > before, "%s: reserve allocated nothing", c->name);
        /* A second reserve of the same or a smaller batch has nothing to do. */
        before = calls(&cnt);
        TU_OK(pcmup_algo_reserve(m.algo, BATCH));
        TU_OK(pcmup_algo_reserve(m.algo, 1));
        ck_assert_uint_eq(calls(&cnt), before);
        train(&m, d.ds, d.x, d.labels, &cnt, c->name, &got);
        assert_same(&want, &got, c->name);
        uint64_t epochs, steps;
        TU_OK(pcmup_algo_counters(m.algo, &epochs, &steps));
        ck_assert_uint_eq(epochs, 2);
        ck_assert_uint_eq(steps, 2 + 2 * 3);
        release(&m);
        ck_assert_int_eq(cnt.live, 0);
        outcome_free(&want);
        outcome_free(&got);
    }
    data_free(&d);
}
END_TEST

/* The k-th allocation of the reserve failing, for every k until one
 * succeeds: PCMUP_ERR_NOMEM, the weights and counters as they were, and
 * training afterwards computes what a run without the failure does. */
START_TEST(failed_reserve_changes_nothing)
{
    data d = make_data();
    const config *pick[] = {&CONFIGS[1], &CONFIGS[3], &CONFIGS[5], &CONFIGS[7]};
    for (size_t i = 0; i < TU_COUNT(pick); i++) {
        const config *c = pick[i];
        outcome want;
        reference(c, &d, &want);
        size_t k = 1;
        for (;; k++) {
            tu_counter cnt;
            pcmup_allocator alloc = tu_counting_allocator(&cnt);
            model m;
            build(&m, c, &alloc);
            outcome before, got;
            for (size_t l = 0; l < DEPTH; l++)
                before.w[l] = tu_layer_weights(m.net, l + 1, &before.n[l]);
            cnt.fail_after = k;
            pcmup_status s = pcmup_algo_reserve(m.algo, BATCH);
            int met = cnt.fail_after == 0;
            cnt.fail_after = 0;
            if (s == PCMUP_OK) {
                ck_assert_msg(!met, "%s: reserve succeeded past a failed allocation", c->name);
                outcome_free(&before);
                release(&m);
                break;
            }
            ck_assert_msg(s == PCMUP_ERR_NOMEM, "%s, k = %zu: %s", c->name, k,
                          pcmup_status_name(s));
            for (size_t l = 0; l < DEPTH; l++) {
                size_t n;
                float *now = tu_layer_weights(m.net, l + 1, &n);
                ck_assert_msg(memcmp(now, before.w[l], n * sizeof *now) == 0,
                              "%s, k = %zu: a failed reserve changed layer %zu", c->name, k,
                              l + 1);
                free(now);
            }
            uint64_t epochs, steps;
            TU_OK(pcmup_algo_counters(m.algo, &epochs, &steps));
            ck_assert_uint_eq(epochs + steps, 0);
            train(&m, d.ds, d.x, d.labels, NULL, c->name, &got);
            assert_same(&want, &got, c->name);
            outcome_free(&got);
            outcome_free(&before);
            release(&m);
            ck_assert_int_eq(cnt.live, 0);
        }
        ck_assert_msg(k > 2, "%s: the reserve met only %zu allocations", c->name, k - 1);
        outcome_free(&want);
    }
    data_free(&d);
}
END_TEST

START_TEST(reserve_checks_its_arguments)
{
    config c = CONFIGS[0];
    model m;
    build(&m, &c, NULL);
    TU_FAILS_IN(PCMUP_ERR_NULL, pcmup_algo_reserve, NULL, BATCH);
    TU_FAILS_IN(PCMUP_ERR_INVALID, pcmup_algo_reserve, m.algo, 0);
    TU_FAILS_IN(PCMUP_ERR_INVALID, pcmup_algo_reserve, m.algo, (size_t)1 << 31);
    /* A setting the rule's step refuses, the reserve refuses too. */
    release(&m);
    c = CONFIGS[2];
    build(&m, &c, NULL);
    TU_OK(pcmup_algo_set(m.algo, PCMUP_SET_PC_TIMING, PCMUP_PC_TIMING_CACHE));
    TU_OK(pcmup_algo_set(m.algo, PCMUP_SET_PC_SCHEDULE, PCMUP_PC_SCHEDULE_SIMULTANEOUS));
    TU_FAILS_IN(PCMUP_ERR_INVALID, pcmup_algo_reserve, m.algo, BATCH);
    release(&m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("reserve");
    TCase *tc = tcase_create("reserve");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, reserved_runs_allocate_nothing_and_match);
    tcase_add_test(tc, failed_reserve_changes_nothing);
    tcase_add_test(tc, reserve_checks_its_arguments);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
