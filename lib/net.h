/*
 * net.h -- the network's insides, shared with the algorithms.
 */
#ifndef PCMUP_NET_H
#define PCMUP_NET_H

#include "internal.h"
#include "layers/layer.h"

struct pcmup_net {
    pcmup_allocator alloc;
    size_t n_layers;
    size_t *widths;          /* M_0..M_L */
    pcmup_activation activation;
    unsigned flags;
    pcmup_param *param;      /* the net's own copy */
    pcmup_layer *layers;     /* layers[l - 1] is layer l */
    double *lr_factor;       /* eta_l / eta, per layer */
    float *params;           /* every layer's parameters, one block */
    size_t n_params;
    float *work;             /* forward-pass scratch, grows on demand */
    size_t work_cap;         /* floats */

    /* The seed of pcmup_net_create or of the last pcmup_net_init_weights,
     * and how many times the weights were drawn: a rule's state drawn
     * along with the weights (from streams derived from this seed) is
     * stale once the generation moves on. */
    uint64_t seed;
    uint64_t generation;
};

/* Largest of M_1..M_L (the widths an algorithm keeps per-sample signals of). */
size_t pcmup__net_max_width(const pcmup_net *net);

/* Forward pass storing every layer's output: acts[l - 1] receives h_l
 * (B, M_l) for l < L and acts[L - 1] receives f = u_L. The arrays must
 * hold batch * M_l floats. Arguments are trusted (validated by callers). */
void pcmup__net_forward_all(const pcmup_net *net, const float *x, size_t batch,
                            float *const *acts);

/* Points every layer's GEMM log at `log` (NULL: stop counting). */
void pcmup__net_set_gemm_log(pcmup_net *net, pcmup__gemm_log *log);

/* Validates a caller's input batch for this net, in this order: x
 * non-NULL, batch in [1, PCMUP_MAX_DIM], x_count = batch * M_0 (checked
 * before x is read), batch * width sizes that fit the scratch, every value
 * finite. `name` is the batch's parameter ("x", "probe"): messages name it
 * and its count ("probe_count"). */
pcmup_status pcmup__net_check_batch(const pcmup_net *net, const float *x, size_t x_count,
                                    size_t batch, const char *name, const char *func);

/* PCMUP_ERR_INVALID, naming layer `layer` and the first bad index, unless
 * every one of v's n values is finite. */
pcmup_status pcmup__check_finite(const float *v, size_t n, size_t layer, const char *func);

#endif
