/* SPDX-License-Identifier: MIT */
/*
 * rule.h -- the interface every learning rule implements.
 *
 * A learning rule is one file in lib/rules/ that defines one
 * `const pcmup_rule_ops pcmup__rule_NAME`, and one line in the table of
 * registry.c, the only file that names it. Everything
 * else -- the algorithm handle, settings, the optimizer, the epoch loop,
 * rollback of a failed epoch, trial updates, alignment and the coordinate
 * check -- is generic code that reaches the rule only through this table.
 * docs/architecture.md (section 7) walks through a complete rule.
 *
 * Settings. A rule with settings of its own defines their rows
 * (pcmup_setting_row, settings.h: name, description, default, bounds, per
 * layer or not, value names) in its file and points `settings` at them;
 * settings.c finds them through the registry, so every pcmup_setting_*
 * function, pcmup_algo_set and the docs' settings table know them without
 * another edit. Their keys are new pcmup_setting values in pcmup.h.
 *
 * Read the table in the order the library calls it:
 *
 *   pcmup_algo_create   create_state                  once
 *   each step           reserve, then step            every step
 *   pcmup_algo_train_epoch   step_diagnostic          after each step
 *   snapshots           list_persistent, load_persistent
 *   pcmup_algo_free     free_state                    once
 *
 * State. A rule keeps what it needs between steps -- scratch buffers,
 * diagnostics, learned quantities -- in a struct of its own, defined in
 * its file and reached as `algo->state` (an opaque pointer: no other file
 * knows its layout). A rule without state (BP) leaves the state hooks NULL.
 *
 * Persistent state. Part of a rule's state may be *persistent*: it
 * changes as training goes and a run cannot be continued without it (TP's
 * trained feedback weights V_l). Scratch and diagnostics are not. The
 * rule describes its persistent state as a list of named entries, tensors
 * and scalars. The library copies that list to undo a step (a failed
 * epoch, a trial update: lib/snapshot.c), and a checkpoint will write it
 * to a file; `load_persistent` takes such a list back.
 */
#ifndef PCMUP_RULE_H
#define PCMUP_RULE_H

#include "internal.h"
#include "settings.h"

/* One entry of a rule's persistent state: a tensor (rank 1 or 2, floats)
 * or a scalar (rank 0, a double). `name` and `layer` together are its key,
 * stable across versions, so a checkpoint can find it again. */
typedef struct {
    const char *name;   /* for example "feedback" */
    size_t layer;       /* the layer l (1..L) it belongs to; 0: the whole rule */
    size_t rank;        /* 0: `value`; 1 or 2: `data` */
    size_t shape[2];    /* rows, columns; 1 for a dimension the rank lacks */
    const float *data;  /* shape[0] * shape[1] floats, row-major */
    double value;
} pcmup_rule_entry;

/* Floats a tensor entry holds (0 for a scalar). */
static inline size_t pcmup__entry_floats(const pcmup_rule_entry *e)
{
    return e->rank ? e->shape[0] * e->shape[1] : 0;
}

typedef struct pcmup_rule_ops {
    /* The public id of the rule (pcmup_algo_rule reports it) and its short
     * name, used in error messages: "gnt does not use the ... setting". */
    pcmup_rule id;
    const char *name;

    /* 1: the rule's mathematics is written for dense layers with one
     * hidden activation (TP's inverses, GNT's Jacobians), and
     * pcmup_algo_create refuses any other network with
     * PCMUP_ERR_UNSUPPORTED naming the layer. 0: the rule reaches layers
     * only through layer.h (the linear ops and pcmup__layer_post[_vjp]),
     * so it trains every network. */
    int dense_only;

    /* 1: the rule trains data-parallel (pcmup_algo_set_reducer): every
     * batch sum of its step goes through the reductions of algo.h (a
     * system over the whole batch gathers what it is made of), its random
     * draws step over the other workers' (pcmup__rng_skip), its reserve
     * sizes for the global batch (pcmup__par_reserve_batch) and refuses
     * what it cannot do (a gather without gather_fn). 0: a reducer is
     * PCMUP_ERR_UNSUPPORTED. docs/architecture.md, section 9. */
    int data_parallel;

    /* 1: the rule trains layer-parallel (pcmup_algo_set_layer_split): its
     * step works on the layers pcmup__split_range gives, exchanges the
     * boundary through pcmup__split_exchange and sums its diagnostics with
     * pcmup__par_sum_step_d. 0: a split is PCMUP_ERR_UNSUPPORTED. */
    int layer_parallel;

    /* The rule's own settings: n_settings rows (settings.h), defined in
     * the rule's file, keys in the rule's group of pcmup.h. The rule
     * accepts these and the common rows of settings.c, nothing else.
     * Rules that share settings point at the same rows (TP and DTP).
     * NULL, 0: only the common settings (BP). */
    const pcmup_setting_row *settings;
    size_t n_settings;

    /* Allocates the rule's state into *state at pcmup_algo_create; algo is
     * complete (net, settings at their defaults, allocator). Allocate only
     * what does not depend on the batch or the settings: `reserve` sizes
     * the rest. NULL: the rule has no state and algo->state stays NULL. */
    pcmup_status (*create_state)(pcmup_algo *algo, void **state, const char *func);
    /* Releases a state create_state made, with everything it grew to
     * (through algo->alloc). Called with a non-NULL state only. */
    void (*free_state)(pcmup_algo *algo, void *state);

    /* Called before every step, after the shared scratch (activations,
     * algo->delta) and the optimizer buffers are reserved for `batch`.
     * Checks the settings that depend on each other and grows every
     * buffer the step will use for `batch` samples at the current
     * settings. The only hook that may allocate: once it succeeds, the
     * step allocates nothing. A failure must leave the weights and the
     * persistent state as they were (new memory first, then free the old).
     * NULL: nothing to reserve. */
    pcmup_status (*reserve)(pcmup_algo *algo, size_t batch, const char *func);

    /* One training step on `batch` samples, arguments validated and
     * `reserve` done; `loss` is never NULL. Ends each layer's work with
     * pcmup__algo_descend. It reports failures under `func`, the public
     * function the user called. When it fails, its caller puts back the
     * state from before the step (snapshot.h), so a rule may stop
     * anywhere; it checks the loss before updating all the same, so that
     * a divergence is reported where it starts. When it succeeds, the
     * caller checks that the weights, momentum and persistent state it
     * left are finite (algo.c). */
    pcmup_status (*step)(pcmup_algo *algo, const float *x, const int32_t *labels,
                         size_t batch, double *loss, const char *func);

    /* A number of the last step that pcmup_algo_train_epoch averages over
     * its samples into algo->epoch_diagnostic (PC: the energy after
     * inference). NULL: none. */
    double (*step_diagnostic)(const pcmup_algo *algo);

    /* The persistent state as it is now: writes min(count, capacity)
     * entries to dst (dst may be NULL when capacity is 0) and returns the
     * count. Tensor data points into the state; the list is valid until
     * the next call that changes the algorithm. NULL: nothing persistent. */
    size_t (*list_persistent)(const pcmup_algo *algo, pcmup_rule_entry *dst,
                               size_t capacity);
    /* The most persistent state the rule can come to hold before its next
     * `reserve` without allocating: *n_entries entries whose tensors hold
     * *n_floats floats in all, at least what list_persistent gives now.
     * The snapshot taken before a step reserves that much, so that a step
     * that creates state (TP's first trained feedback) leaves nothing for
     * the next snapshot to allocate, and the step nothing to allocate for
     * its finiteness check. NULL exactly when list_persistent is NULL. */
    void (*persistent_bound)(const pcmup_algo *algo, size_t *n_entries, size_t *n_floats);
    /* Makes the persistent state exactly `src` (count entries, in the form
     * list_persistent gives; what is not listed is forgotten, as if never
     * learned). Checks every entry before it changes anything. It may need
     * to allocate only when the state never held an entry's storage: taking
     * back a list the same algorithm gave (a snapshot) cannot fail. NULL
     * exactly when list_persistent is NULL. */
    pcmup_status (*load_persistent)(pcmup_algo *algo, const pcmup_rule_entry *src,
                                    size_t count, const char *func);
} pcmup_rule_ops;

/* The rule with this id (registry.c), or PCMUP_ERR_INVALID for an id this
 * build lacks. */
pcmup_status pcmup__algo_rule_of(pcmup_rule id, const pcmup_rule_ops **rule,
                                 const char *func);

/* The registry's ids run from 0 to pcmup__rule_count() - 1;
 * pcmup__rule_at(id) is that rule, or NULL for an id this build lacks.
 * For walking every rule without failing on a missing one. */
size_t pcmup__rule_count(void);
const pcmup_rule_ops *pcmup__rule_at(size_t id);

/* A reference direction of pcmup_algo_reference_update: the rule that
 * takes it, and the settings that define the direction, which keep the
 * rule's defaults whatever the caller's rule uses (the caller's other
 * settings carry over). */
typedef struct {
    pcmup_rule rule;
    const pcmup_setting *fixed;
    size_t n_fixed;
} pcmup_reference_rule;

/* The definition of `ref`, or NULL for a reference this build lacks. */
const pcmup_reference_rule *pcmup__reference_rule(pcmup_reference ref);

#endif
