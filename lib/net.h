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

    /* ---- target propagation: trained feedback weights ----
     * V_l (M_{l-1}, M_l) for l = 2..L in one block of n_feedback floats,
     * V_l at fb_offset[l - 1] (fb_offset[0] unused); NULL until first
     * needed. fb_ready[l - 1] is set once V_l was drawn or set. */
    uint64_t seed;           /* of pcmup_net_create or the last init_weights */
    float *feedback;
    size_t n_feedback;
    size_t *fb_offset;       /* n_layers entries */
    unsigned char *fb_ready; /* n_layers entries */
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

/* Validates a batch for this net: x non-NULL, 1 <= batch, batch * width
 * sizes fit BLAS integers, every value finite. */
pcmup_status pcmup__net_check_batch(const pcmup_net *net, const float *x, size_t batch,
                                    const char *func);

/* ---- target propagation: trained feedback weights ---- */

/* Allocates the feedback block (uninitialised, nothing ready) through the
 * net's allocator if it does not exist yet. */
pcmup_status pcmup__net_feedback_reserve(pcmup_net *net, const char *func);
/* V_l, 2 <= l <= L; the block must exist. */
float *pcmup__net_feedback(const pcmup_net *net, size_t layer);
/* Draws every V_l that is not ready from N(0, std_v^2 / M_l), layer l from
 * a stream derived from the net's seed and l; the block must exist. */
void pcmup__net_feedback_draw(pcmup_net *net, double std_v);

#endif
