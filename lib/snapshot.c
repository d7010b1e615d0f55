/* SPDX-License-Identifier: MIT */
/*
 * snapshot.c -- saving and restoring what a step changes (snapshot.h).
 */
#include "algo.h"

#include <string.h>

/* Room for the rule's persistent entries, as many as they can come to be
 * before the rule's next reserve (persistent_bound), and the list of
 * those there are now, whose number *count receives. */
static pcmup_status reserve_rule(pcmup_algo *algo, pcmup_snapshot *snap, size_t *count,
                                 const char *func)
{
    const pcmup_rule_ops *rule = algo->rule;
    *count = 0;
    if (!rule->list_persistent)
        return PCMUP_OK;
    size_t room_entries, room_floats, floats = 0;
    rule->persistent_bound(algo, &room_entries, &room_floats);
    PCMUP_TRY(pcmup__grow(&algo->alloc, (void **)&snap->entries, &snap->entries_cap,
                          room_entries, sizeof *snap->entries, "a snapshot", func));
    PCMUP_TRY(pcmup__grow(&algo->alloc, (void **)&snap->data, &snap->data_cap, room_floats,
                          sizeof(float), "a snapshot", func));
    size_t n = rule->list_persistent(algo, snap->entries, room_entries);
    for (size_t i = 0; i < n; i++)
        floats += pcmup__entry_floats(&snap->entries[i]);
    assert(n <= room_entries && floats <= room_floats); /* rule.h: the bound holds */
    *count = n;
    return PCMUP_OK;
}

/* The entries reserve_rule listed, their tensors copied into snap->data. */
static void save_rule(pcmup_snapshot *snap, size_t n)
{
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
}

/* A copy of n_params floats, allocated once. */
static pcmup_status reserve_params(pcmup_algo *algo, float **copy, const char *func)
{
    size_t cap = *copy ? algo->net->n_params : 0;
    return pcmup__grow(&algo->alloc, (void **)copy, &cap, algo->net->n_params, sizeof(float),
                       "a snapshot", func);
}

static pcmup_status reserve_all(pcmup_algo *algo, pcmup_snapshot *snap, size_t *n_entries,
                                const char *func)
{
    PCMUP_TRY(reserve_params(algo, &snap->params, func));
    if (algo->velocity)
        PCMUP_TRY(reserve_params(algo, &snap->velocity, func));
    if (algo->update)
        PCMUP_TRY(reserve_params(algo, &snap->update, func));
    return reserve_rule(algo, snap, n_entries, func);
}

pcmup_status pcmup__snapshot_reserve(pcmup_algo *algo, pcmup_snapshot *snap, const char *func)
{
    size_t n_entries;
    pcmup_status s = reserve_all(algo, snap, &n_entries, func);
    snap->n_entries = 0; /* listed, not saved: nothing to restore */
    return s;
}

pcmup_status pcmup__snapshot_save(pcmup_algo *algo, pcmup_snapshot *snap, const char *func)
{
    const size_t n = algo->net->n_params;
    size_t n_entries;
    pcmup_status s = reserve_all(algo, snap, &n_entries, func);
    if (s != PCMUP_OK) {
        snap->n_entries = 0;
        return s;
    }
    save_rule(snap, n_entries);
    memcpy(snap->params, algo->net->params, n * sizeof(float));
    snap->had_velocity = algo->velocity != NULL;
    if (algo->velocity)
        memcpy(snap->velocity, algo->velocity, n * sizeof(float));
    snap->rng = algo->rng;
    snap->epochs = algo->epochs;
    snap->steps = algo->steps;
    snap->update_valid = algo->update_valid;
    if (algo->update_valid)
        memcpy(snap->update, algo->update, n * sizeof(float));
    snap->alignment = algo->alignment;
    snap->alignment_valid = algo->alignment_valid;
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
    algo->epochs = snap->epochs;
    algo->steps = snap->steps;
    algo->update_valid = snap->update_valid;
    if (snap->update_valid)
        memcpy(algo->update, snap->update, n * sizeof(float));
    algo->alignment = snap->alignment;
    algo->alignment_valid = snap->alignment_valid;
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
    pcmup__free(&algo->alloc, snap->update);
    pcmup__free(&algo->alloc, snap->entries);
    pcmup__free(&algo->alloc, snap->data);
    memset(snap, 0, sizeof *snap);
}
