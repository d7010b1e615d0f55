/* SPDX-License-Identifier: MIT */
/*
 * snapshot.h -- what a step changes, copied so that it can be undone: the
 * network's parameters, the momentum, the algorithm's random stream and
 * counters, the rule's persistent state and the record of the last update
 * (with its alignment ratio). One path serves every undo: a failed step (algo.c),
 * a failed epoch (train.c), trial updates and the alignment references
 * (diagnostics/alignment.c).
 *
 * Not restored: the rules' diagnostics of the last step (PC's energy
 * trace, GNT's solve statistics). They describe the last step attempted,
 * which after a divergence is the step that diverged: what one wants to
 * look at.
 */
#ifndef PCMUP_SNAPSHOT_H
#define PCMUP_SNAPSHOT_H

#include "rng.h"
#include "rules/rule.h"

typedef struct {
    float *params;             /* n_params */
    float *velocity;           /* n_params, once the algorithm has momentum state */
    int had_velocity;          /* the algorithm had it when saved */
    pcmup_rng rng;
    uint64_t epochs, steps;    /* the algorithm's counters */
    pcmup_rule_entry *entries; /* the rule's persistent state, data in `data` */
    size_t n_entries, entries_cap;
    float *data;
    size_t data_cap;
    float *update;             /* n_params, when the algorithm had a valid record */
    int update_valid;
    double alignment;
    int alignment_valid;
} pcmup_snapshot;

/* Copies the algorithm's state into snap, growing snap's buffers as
 * needed (a zeroed snap starts empty; its buffers are kept for the next
 * save). Fails only to allocate, and then changes nothing but snap. */
pcmup_status pcmup__snapshot_save(pcmup_algo *algo, pcmup_snapshot *snap, const char *func);

/* The buffers pcmup__snapshot_save would grow, grown (and populated) now,
 * holding nothing: a save that follows allocates nothing while the
 * algorithm's state keeps its size. */
pcmup_status pcmup__snapshot_reserve(pcmup_algo *algo, pcmup_snapshot *snap, const char *func);

/* Puts back what snap holds. A velocity the algorithm allocated since
 * (momentum switched on meanwhile) starts from zero, as it would have. */
void pcmup__snapshot_restore(pcmup_algo *algo, const pcmup_snapshot *snap);

/* Releases snap's buffers (through the algorithm's allocator). */
void pcmup__snapshot_free(pcmup_algo *algo, pcmup_snapshot *snap);

#endif
