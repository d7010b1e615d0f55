/* SPDX-License-Identifier: MIT */
/*
 * net.h -- the network's insides, shared with the algorithms.
 */
#ifndef PCMUP_NET_H
#define PCMUP_NET_H

#include "internal.h"
#include "layers/layer.h"
#include "netdesc.h"

struct pcmup_net {
    pcmup_allocator alloc;
    size_t n_layers;
    /* widths[0] is the input size, widths[l] layer l's output h_l
     * (layers[l - 1].n_post, after pooling). An MLP's M_0..M_L. Layer l's
     * pre-activation has layers[l - 1].n_out values, more when it pools. */
    size_t *widths;
    /* The widths the parameterization's width ratio reads (param.h):
     * an MLP's widths; for a described network the input size, then the
     * width M for every hidden layer, then the outputs. */
    size_t *scale_widths;
    /* The hidden activation of pcmup_net_create (a described network's
     * fallback); each layer keeps its own in layers[l - 1].activation. */
    pcmup_activation activation;
    /* 1 when every layer is dense, nothing pools and every hidden layer
     * uses `activation`: what the dense-only rules (TP, DTP, GNT) need. */
    int is_mlp;
    /* A network made from a description: the description, the input shape
     * and the width M; NULL for pcmup_net_create's. */
    pcmup__netdesc *desc;
    size_t input_c, input_h, input_w, width_m;
    /* Scratch of the conv layers' im2col (shared: one layer's op runs at
     * a time), the largest pcmup__conv_workspace_floats of its layers. */
    float *conv_work;
    unsigned flags;
    pcmup_param *param;      /* the net's own copy */
    pcmup_layer *layers;     /* layers[l - 1] is layer l */
    double *lr_factor;       /* eta_l / eta, per layer */
    float *params;           /* every layer's parameters, one block */
    size_t n_params;
    float *work;             /* forward-pass scratch (3 buffers), grows on demand */
    size_t work_cap;         /* floats */

    /* The seed of pcmup_net_create or of the last pcmup_net_init_weights,
     * and how many times the weights were drawn: a rule's state drawn
     * along with the weights (from streams derived from this seed) is
     * stale once the generation moves on. */
    uint64_t seed;
    uint64_t generation;
};

/* The largest per-sample signal of any layer: the largest pre-activation
 * (which is at least the layer's output). M_1..M_L's largest for an MLP. */
size_t pcmup__net_max_width(const pcmup_net *net);

/* 1 when some layer pools (so its a = phi(u) differs from its output h). */
int pcmup__net_pools(const pcmup_net *net);

/* Layer l's forward on in: u = A_l(in) into a, then for l < L a = phi(u)
 * in place and h = P(a); a must be h when layer l does not pool. For
 * l = L, h = a = f. Trusted arguments. */
void pcmup__net_layer_forward(const pcmup_net *net, size_t l, const float *in, size_t batch,
                              float *a, float *h);

/* Forward pass storing every layer's output: acts[l - 1] receives h_l
 * (B, widths[l]) for l < L and acts[L - 1] receives f = u_L. phis[l - 1]
 * receives a = phi(u_l) (B, layers[l - 1].n_out) for each layer that
 * pools (phis is read only for those; NULL for a net that never pools).
 * Arguments are trusted (validated by callers). */
void pcmup__net_forward_all(const pcmup_net *net, const float *x, size_t batch,
                            float *const *acts, float *const *phis);

/* A network from a parsed description d for inputs of c x h x w and
 * width M = `width` (pcmup_net_create_from_builder's work, under func). */
pcmup_status pcmup__net_create_desc(pcmup_net **out, const pcmup__netdesc *d, size_t c,
                                    size_t h, size_t w, size_t width,
                                    pcmup_activation activation, unsigned flags,
                                    const pcmup_param *param, uint64_t seed,
                                    const pcmup_allocator *allocator, const char *func);

/* A network like `proto` (its layers, activation, flags, parameterization)
 * with hidden width `width`: an MLP's hidden layers all get `width`
 * units, a described network is resolved again with M = width. Weights
 * from `seed`, memory from `alloc`. */
pcmup_status pcmup__net_create_like(const pcmup_net *proto, size_t width, uint64_t seed,
                                    const pcmup_allocator *alloc, pcmup_net **out,
                                    const char *func);

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
