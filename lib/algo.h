/*
 * algo.h -- the algorithm handle's insides, shared by the learning rules.
 *
 * Each learning rule (algo_bp.c, ...) provides a `pcmup_rule_ops`: its
 * name, the settings it uses and its step function. algo.c owns everything
 * common: settings, scratch memory, argument checks, and the descent step
 * that turns a layer's error signal into a weight update.
 */
#ifndef PCMUP_ALGO_H
#define PCMUP_ALGO_H

#include "internal.h"
#include "kernel/kernel.h"
#include "net.h"
#include "rng.h"

#define PCMUP_N_SETTINGS 30

/* A setting's bit in a rule's settings mask (64 bits: room to grow). */
#define PCMUP_BIT(key) ((uint64_t)1 << (key))

/* The settings every rule has: the optimizer, the loss, update recording. */
#define PCMUP_COMMON_SETTINGS                                                   \
    (PCMUP_BIT(PCMUP_SET_LR) | PCMUP_BIT(PCMUP_SET_LOSS) | PCMUP_BIT(PCMUP_SET_MSE_CENTRED) |  \
     PCMUP_BIT(PCMUP_SET_MOMENTUM) | PCMUP_BIT(PCMUP_SET_WEIGHT_DECAY) |                \
     PCMUP_BIT(PCMUP_SET_RECORD_UPDATES))

typedef struct pcmup_rule_ops {
    const char *name;
    /* Bit k set: setting k applies to this rule. */
    uint64_t settings_mask;
    /* Floats of rule-specific scratch for a batch (NULL: none). Allocated
     * with the shared scratch, at algo->rule_scratch. */
    size_t (*scratch_floats)(const pcmup_net *net, size_t batch);
    /* Checks settings that depend on each other and sizes any buffer the
     * settings decide (NULL: nothing to do). May allocate; nothing else
     * in a step does. */
    pcmup_status (*prepare)(pcmup_algo *algo, const char *func);
    /* One training step; arguments already validated and scratch reserved
     * for `batch`. Must leave the weights untouched when it fails, and
     * report failures under `func`, the public function the caller called. */
    pcmup_status (*step)(pcmup_algo *algo, const float *x, const int32_t *labels,
                         size_t batch, double *loss, const char *func);
    /* A number the last step produced that pcmup_algo_train_epoch averages
     * over its samples, into epoch_diagnostic (NULL: none). PC's is the
     * energy after inference. */
    double (*step_diagnostic)(const pcmup_algo *algo);
} pcmup_rule_ops;

extern const pcmup_rule_ops pcmup__rule_bp;
extern const pcmup_rule_ops pcmup__rule_pc;
/* ---- Gauss-Newton target ---- */
extern const pcmup_rule_ops pcmup__rule_gnt;
/* ---- end Gauss-Newton target ---- */
/* ---- target propagation (algo_tp.c) ---- */
extern const pcmup_rule_ops pcmup__rule_tp;
extern const pcmup_rule_ops pcmup__rule_dtp;

/* Predictive coding's diagnostics, kept from its last step (algo_pc.c). */
typedef struct {
    double *energy;       /* energy trace, energy_cap values */
    size_t energy_cap;
    size_t energy_count;  /* 0 before the first step */
    double *error_norms;  /* L values */
    unsigned char *fresh; /* L + 1 flags used during a step */
} pcmup_pc_record;

/* ---- Gauss-Newton target ---- */
/* The Gauss-Newton rule's double-precision workspace for its dense
 * problems (algo_gnt.c), sized by its prepare hook. */
typedef struct {
    double *work;       /* work_cap doubles */
    size_t work_cap;
} pcmup_gnt_record;
/* ---- end Gauss-Newton target ---- */
/* ---- target propagation: diagnostics and double scratch (algo_tp.c) ---- */
typedef struct {
    int valid;            /* a step has run */
    double *distances;    /* L: rms ||t_l - h_l|| */
    double *fb_before;    /* L - 1: reconstruction loss, feedback layers 2..L */
    double *fb_after;     /* L - 1 */
    double *work;         /* the ridge solves' double scratch */
    size_t work_batch;    /* batch it is sized for */
    float **bufs;         /* per-layer pointers into rule_scratch */
    /* train_epoch's copy of the net's feedback (trained feedback only). */
    float *fb_snapshot;
    unsigned char *fb_ready_snapshot;
} pcmup_tp_record;

struct pcmup_algo {
    pcmup_allocator alloc;
    pcmup_rule kind;
    const pcmup_rule_ops *rule;
    pcmup_net *net;
    pcmup_rng rng;
    double settings[PCMUP_N_SETTINGS];
    /* Per-layer settings (GAMMA, KAPPA), n_layers each; [l - 1] is layer l. */
    double *layer_gamma, *layer_kappa;

    /* Per-step scratch, sized for batch_cap samples (one block). */
    size_t batch_cap;
    float *scratch;
    float **acts;       /* acts[l - 1]: h_l (B, M_l), acts[L - 1] = f */
    float *delta[2];    /* two (B, max M_l) error buffers */
    float *rule_scratch; /* rule->scratch_floats(net, batch_cap) floats */

    /* Optimizer state, allocated when momentum or weight decay is used. */
    float *velocity;    /* n_params */
    /* The last step's parameter changes (PCMUP_SET_RECORD_UPDATES). */
    float *update;      /* n_params */
    int update_valid;

    pcmup_pc_record pc;
    float **pc_bufs;    /* 6 * n_layers pointers into rule_scratch */
    /* ---- Gauss-Newton target ---- */
    pcmup_gnt_record gnt;
    /* ---- end Gauss-Newton target ---- */

    /* ---- target propagation ---- */
    pcmup_tp_record tp;
    /* The rule's step_diagnostic averaged over the last completed epoch. */
    double epoch_diagnostic;
    int epoch_diagnostic_valid;
    /* ---- alignment ratio of the last recorded step (any rule) ---- */
    double alignment;
    int alignment_valid;

    /* Epoch state: a shuffled order, a gathered batch, and a snapshot of
     * the parameters so a failing epoch can be undone. */
    size_t *order;
    size_t order_cap;
    float *batch_x;
    int32_t *batch_labels;
    size_t batch_x_cap;
    float *snapshot;    /* 2 * n_params: params, then velocity */

    /* The GEMMs of the last step, for benchmarks; NULL (not counting)
     * unless pcmup__algo_count_gemms made one. */
    pcmup__gemm_log *gemm_log;
};

/* The rule of `kind`, or PCMUP_ERR_INVALID for a kind this build lacks. */
pcmup_status pcmup__algo_rule_of(pcmup_rule kind, const pcmup_rule_ops **rule,
                                 const char *func);

/* Every setting, and every per-layer setting of every layer, at its
 * default (settings.c). */
void pcmup__settings_init(pcmup_algo *algo);
void pcmup__settings_init_layers(pcmup_algo *algo);

/* Grows the per-step scratch to `batch` samples. */
pcmup_status pcmup__algo_reserve(pcmup_algo *algo, size_t batch, const char *func);

/* A step on data already checked (finite, labels in range). */
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

/* Batch-mean loss of f = acts[L - 1] and, into grad (B, C), the per-sample
 * dl/df of the algorithm's loss. */
double pcmup__algo_loss_grad(const pcmup_algo *algo, const int32_t *labels, size_t batch,
                             float *grad);

/* The descent step every rule ends with. `err` (B, M_l) is the error at
 * layer l's pre-activation and `in` (B, M_{l-1}) the layer input; the
 * update is params -= eta_l * (1/B * grad(err, in) + wd * params), with
 * heavy-ball momentum when set. eta_l = eta * r^-c_l. */
void pcmup__algo_descend(pcmup_algo *algo, size_t layer, const float *err, const float *in,
                         size_t batch);

#endif
