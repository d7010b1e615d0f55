/* SPDX-License-Identifier: MIT */
/*
 * algo.h -- the algorithm handle's insides, shared by the learning rules.
 *
 * Each learning rule (lib/rules/) provides a `pcmup_rule_ops` (rules/rule.h)
 * and keeps its own state behind algo->state. algo.c owns everything
 * common: settings, scratch memory, argument checks, and the descent step
 * that turns a layer's error signal into a weight update.
 */
#ifndef PCMUP_ALGO_H
#define PCMUP_ALGO_H

#include "internal.h"
#include "kernel/kernel.h"
#include "net.h"
#include "rng.h"
#include "rules/rule.h"
#include "snapshot.h"

/* algo->settings[key] holds setting `key`: room for ten groups of keys
 * (pcmup.h numbers them from 0, 100, 200, ...; 400 is the next free), so
 * a new rule's settings need no change here. A rule's file asserts that
 * its group fits. */
#define PCMUP_SETTINGS_CAP 1000

struct pcmup_algo {
    pcmup_allocator alloc;
    const pcmup_rule_ops *rule;
    void *state;        /* the rule's own (rule->create_state), or NULL */
    pcmup_net *net;
    pcmup_rng rng;
    /* Every setting the rule accepts, by key (the others stay 0); a
     * per-layer one as last set for all layers. */
    double settings[PCMUP_SETTINGS_CAP];
    /* n_layers values for each per-layer setting the rule accepts
     * (settings.c lays them out; read them with pcmup__setting_layer). */
    double *layer_settings;

    /* Per-step scratch, sized for batch_cap samples (one block). */
    size_t batch_cap;
    float *scratch;
    float **acts;       /* acts[l - 1]: h_l (B, M_l), acts[L - 1] = f */
    /* phis[l - 1]: a_l = phi(u_l) (B, n_out of layer l) where layer l
     * pools; acts[l - 1] itself where it does not (the same values). */
    float **phis;
    /* Three (B, max width) error buffers; the third only for a network
     * that pools (NULL otherwise): the gradient of a pooled output. */
    float *delta[3];

    /* Optimizer state, allocated when momentum or weight decay is used. */
    float *velocity;    /* n_params */
    /* The last step's parameter changes (PCMUP_SET_RECORD_UPDATES). */
    float *update;      /* n_params */
    int update_valid;

    /* Completed epochs and steps (pcmup_algo_counters); a failed or trial
     * step's snapshot puts them back with the rest. */
    uint64_t epochs, steps;

    /* The rule's step_diagnostic averaged over the last completed epoch. */
    double epoch_diagnostic;
    int epoch_diagnostic_valid;
    /* The alignment ratio of the last recorded step. */
    double alignment;
    int alignment_valid;

    /* Epoch state: a shuffled order and a gathered batch. */
    size_t *order;
    size_t order_cap;
    float *batch_x;
    int32_t *batch_labels;
    size_t batch_x_cap;
    /* What a step or an epoch that fails, or a trial step, puts back. */
    pcmup_snapshot snapshot;
    /* Room for the rule's persistent entries, listed after every step to
     * check that they are finite. */
    pcmup_rule_entry *entry_list;
    size_t entry_list_cap;

    /* The GEMMs of the last step, for benchmarks; NULL (not counting)
     * unless pcmup__algo_count_gemms made one. */
    pcmup__gemm_log *gemm_log;

    /* Data parallelism (parallel.c): the caller's reducer when has_reducer.
     * A step's samples are global_batch in all, this worker's starting at
     * batch_offset (without a reducer: the step's batch and 0). */
    int has_reducer;
    pcmup_reducer reducer;
    size_t global_batch, batch_offset;
    float *reduce_buf;         /* n_params floats: local sums before the sum */
    double *reduce_counts;     /* n_workers: the shares of a pcmup_algo_step */
    /* The step's first failed reduction (PCMUP_OK: none); after one, no
     * further callback is made until the next step begins. */
    pcmup_status reduce_status;
    const char *reduce_func;   /* the public function that reports it */

    /* Layer parallelism (layer_split.c): the caller's split when has_split.
     * Reductions and exchanges record their failures in reduce_status too. */
    int has_split;
    pcmup_layer_split split;
    int split_checked;         /* the blocks were found to cover 1..L once */
    int split_stale;           /* other workers' layers moved since the last sync */
    float *split_buf;          /* n_params (2 n_params with momentum): the sync's sum */
    size_t split_buf_cap;
    double *split_owned;       /* L: the ownership check's sum */
};

/* ---- settings (settings.c) ----------------------------------------------- */

/* Allocates algo->layer_settings and sets every setting, on every layer
 * for a per-layer one, to its default. */
pcmup_status pcmup__settings_init(pcmup_algo *algo, const char *func);

/* A per-layer setting's value at layer l (1 <= l <= L). */
double pcmup__setting_layer(const pcmup_algo *algo, pcmup_setting key, size_t layer);

/* dst, an algorithm of src's rule on a network of src's depth, takes
 * every setting of src, per-layer values included, each checked as
 * pcmup_algo_set checks it; on failure dst is unchanged. */
pcmup_status pcmup__settings_copy(pcmup_algo *dst, const pcmup_algo *src, const char *func);

/* ---- scratch, steps and the descent step (algo.c) ------------------------- */

/* Grows the shared per-step scratch (activations, error buffers) to
 * `batch` samples; the rule's own buffers are its reserve hook's. */
pcmup_status pcmup__algo_reserve(pcmup_algo *algo, size_t batch, const char *func);

/* Everything a step on `batch` samples needs: the scratch above, the
 * optimizer's buffers and the rule's (its reserve hook). Done before a
 * snapshot is saved, so that the snapshot covers what the step changes. */
pcmup_status pcmup__algo_reserve_step(pcmup_algo *algo, size_t batch, const char *func);

/* One product of each shape the dense layers' step issues at `batch`, on
 * scratch (blas_warm.c): OpenBLAS faults in its work buffer now rather than
 * in the first step. Needs the step's buffers, the gathered batch and the
 * snapshot reserved for `batch`; does nothing otherwise. Changes no result. */
void pcmup__algo_warm_blas(pcmup_algo *algo, size_t batch);

/* A step on data already checked (finite, labels in range). It ends by
 * checking that the weights, momentum and persistent rule state are
 * finite (else PCMUP_ERR_DIVERGED). A failure may leave the state changed:
 * the caller puts back the snapshot it took (snapshot.h). */
pcmup_status pcmup__algo_step_trusted(pcmup_algo *algo, const float *x, const int32_t *labels,
                                      size_t batch, double *loss, const char *func);

/* Counts the GEMMs of every step from now on, in a log of `capacity`
 * shapes owned by the handle (0: frees it and stops counting). Each step
 * clears the log, then records every GEMM it issues: its layers', its
 * rule's and, with update recording, the alignment ratio's. For the
 * benchmarks, which time a step against its own GEMMs. */
pcmup_status pcmup__algo_count_gemms(pcmup_algo *algo, size_t capacity, const char *func);

/* The log of the last step (NULL when not counting): log->count GEMMs and
 * log->flops flops; the first min(count, capacity) shapes are kept. */
const pcmup__gemm_log *pcmup__algo_last_step_gemms(const pcmup_algo *algo);

/* Batch-mean loss of f = acts[L - 1] (the global batch's, under a
 * reducer) and, into grad (B, C), the per-sample dl/df of the algorithm's
 * loss. */
double pcmup__algo_loss_grad(pcmup_algo *algo, const int32_t *labels, size_t batch,
                             float *grad);

/* The descent step every rule ends with. `err` (B, M_l) is the error at
 * layer l's pre-activation and `in` (B, M_{l-1}) the layer input; the
 * update is params -= eta_l * (1/B * grad(err, in) + wd * params), with
 * heavy-ball momentum when set. eta_l = eta * r^-c_l. */
void pcmup__algo_descend(pcmup_algo *algo, size_t layer, const float *err, const float *in,
                         size_t batch);

/* ---- data parallelism (parallel.c) ---------------------------------------
 * Every helper is a no-op without a reducer, so a rule calls them
 * unconditionally and a single process computes exactly what it did
 * before. A failed callback is recorded in algo->reduce_status (and the
 * buffer is left with this worker's own values); pcmup__algo_step_trusted
 * turns it into the step's status. */

/* Begins a step's reductions: clears the failure, names the caller. */
void pcmup__par_begin(pcmup_algo *algo, const char *func);

/* Sums buf over the workers, in place. */
void pcmup__par_sum_f(pcmup_algo *algo, float *buf, size_t count);
void pcmup__par_sum_d(pcmup_algo *algo, double *buf, size_t count);

/* A share of `n` items split as evenly as possible in rank order: the
 * rank's first item and count (without a reducer: 0 and n). */
void pcmup__par_share(const pcmup_algo *algo, size_t n, size_t *first, size_t *count);

/* pcmup_algo_step's shares: sums the workers' local batches into
 * algo->global_batch and this worker's offset (the shares of the ranks
 * before it). Without a reducer: batch and 0. */
pcmup_status pcmup__par_exchange_batch(pcmup_algo *algo, size_t batch, const char *func);

/* Concatenates every worker's count_mine floats in rank order into `all`
 * (all_count floats); without a reducer (or with one worker) a copy. */
void pcmup__par_gather_f(pcmup_algo *algo, const float *mine, size_t count_mine, float *all,
                         size_t all_count);

/* The batch a rule's reserve sizes its buffers for: `batch`, or under a
 * reducer the global batch when larger (set before every reserve:
 * pcmup_algo_step exchanges it first, an epoch knows it). */
size_t pcmup__par_reserve_batch(const pcmup_algo *algo, size_t batch);

/* PCMUP_ERR_UNSUPPORTED unless the reducer has a gather_fn (or there is
 * no reducer); `what` names what needs it. */
pcmup_status pcmup__par_need_gather(const pcmup_algo *algo, const char *what, const char *func);

/* PCMUP_ERR_UNSUPPORTED when the algorithm has a reducer or a layer
 * split: for the functions that step on one worker's data alone (trial
 * updates). */
pcmup_status pcmup__par_refuse(const pcmup_algo *algo, const char *func);

/* Sums buf over the step's workers: the reducer's, or a layer split's
 * (each worker puts in the values of its own layers, zeros elsewhere). */
void pcmup__par_sum_step_d(pcmup_algo *algo, double *buf, size_t count);

/* ---- layer parallelism (layer_split.c) -----------------------------------
 * Without a split a worker owns every layer and every helper is a no-op,
 * so that a single process computes exactly what it did before. */

/* This worker's layers first..last (without a split: 1..L). */
void pcmup__split_range(const pcmup_algo *algo, size_t *first, size_t *last);

/* One call of the split's exchange_fn (pcmup.h); a failure is recorded
 * in algo->reduce_status, and after one no further call is made. */
void pcmup__split_exchange(pcmup_algo *algo, const float *to_prev, size_t to_prev_count,
                           float *from_prev, size_t from_prev_count, const float *to_next,
                           size_t to_next_count, float *from_next, size_t from_next_count);

/* What a step needs before its first callback: PCMUP_ERR_UNSUPPORTED for
 * the settings a split refuses (the update record); PCMUP_OK without a
 * split. */
pcmup_status pcmup__split_check_settings(const pcmup_algo *algo, const char *func);

/* Before the first step after pcmup_algo_set_layer_split: sums the
 * ownership of every layer over the workers, PCMUP_ERR_INVALID unless
 * each is owned once. */
pcmup_status pcmup__split_check_blocks(pcmup_algo *algo, const char *func);

/* After a step: the workers agree on its outcome. s is this worker's
 * (PCMUP_OK or PCMUP_ERR_DIVERGED, from its own layers); the result is
 * PCMUP_ERR_DIVERGED on every worker when any diverged. Marks the copy
 * stale after a step that succeeded. */
pcmup_status pcmup__split_agree(pcmup_algo *algo, pcmup_status s, const char *func);

/* PCMUP_ERR_UNSUPPORTED when other workers' layers have moved since the
 * last pcmup_algo_sync_layers: for evaluation and saving. */
pcmup_status pcmup__split_refuse_stale(const pcmup_algo *algo, const char *func);

#endif
