/*
 * snapshot.c -- saving and restoring what a step changes (snapshot.h).
 */
#include "algo.h"

#include <string.h>

/* The rule's persistent entries, their tensors copied into snap->data. */
static pcmup_status save_rule(pcmup_algo *algo, pcmup_snapshot *snap, const char *func)
{
    const pcmup_rule_ops *rule = algo->rule;
    snap->n_entries = 0;
    if (!rule->list_persistent)
        return PCMUP_OK;
    size_t n = rule->list_persistent(algo, NULL, 0), floats = 0;
    PCMUP_TRY(pcmup__grow(&algo->alloc, (void **)&snap->entries, &snap->entries_cap, n,
                          sizeof *snap->entries, "a snapshot", func));
    rule->list_persistent(algo, snap->entries, n);
    for (size_t i = 0; i < n; i++)
        floats += pcmup__entry_floats(&snap->entries[i]);
    PCMUP_TRY(pcmup__grow(&algo->alloc, (void **)&snap->data, &snap->data_cap, floats,
                          sizeof(float), "a snapshot", func));
    float *at = snap->data;
    for (size_t i = 0; i < n; i++) {
        pcmup_rule_entry *e = &snap->entries[i];
        const size_t k = pcmup__entry_floats(e);
        if (k) {
            memcpy(at, e->data, k * sizeof *at);
            e->data = at;
            at += k;
        }
    }
    snap->n_entries = n;
    return PCMUP_OK;
}

/* A copy of n_params floats, allocated once. */
static pcmup_status reserve_params(pcmup_algo *algo, float **copy, const char *func)
{
    size_t cap = *copy ? algo->net->n_params : 0;
    return pcmup__grow(&algo->alloc, (void **)copy, &cap, algo->net->n_params, sizeof(float),
                       "a snapshot", func);
}

pcmup_status pcmup__snapshot_save(pcmup_algo *algo, pcmup_snapshot *snap, const char *func)
{
    const size_t n = algo->net->n_params;
    PCMUP_TRY(reserve_params(algo, &snap->params, func));
    if (algo->velocity)
        PCMUP_TRY(reserve_params(algo, &snap->velocity, func));
    PCMUP_TRY(save_rule(algo, snap, func));
    memcpy(snap->params, algo->net->params, n * sizeof(float));
    snap->had_velocity = algo->velocity != NULL;
    if (algo->velocity)
        memcpy(snap->velocity, algo->velocity, n * sizeof(float));
    snap->rng = algo->rng;
    return PCMUP_OK;
}

void pcmup__snapshot_restore(pcmup_algo *algo, const pcmup_snapshot *snap)
{
    const size_t n = algo->net->n_params;
    memcpy(algo->net->params, snap->params, n * sizeof(float));
    if (algo->velocity && snap->had_velocity)
        memcpy(algo->velocity, snap->velocity, n * sizeof(float));
    else if (algo->velocity)
        memset(algo->velocity, 0, n * sizeof(float));
    algo->rng = snap->rng;
    if (algo->rule->load_persistent) {
        /* The algorithm held every entry's storage when it listed them. */
        pcmup_status s = algo->rule->load_persistent(algo, snap->entries, snap->n_entries,
                                                     __func__);
        assert(s == PCMUP_OK);
        (void)s;
    }
}

void pcmup__snapshot_free(pcmup_algo *algo, pcmup_snapshot *snap)
{
    pcmup__free(&algo->alloc, snap->params);
    pcmup__free(&algo->alloc, snap->velocity);
    pcmup__free(&algo->alloc, snap->entries);
    pcmup__free(&algo->alloc, snap->data);
    memset(snap, 0, sizeof *snap);
}
