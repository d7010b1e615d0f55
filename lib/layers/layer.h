/* SPDX-License-Identifier: MIT */
/*
 * layer.h -- the layer interface every algorithm is written against.
 *
 * A layer is one step of the network: its parameterised linear part,
 * pre = A(in; params), batch-major: `in` is (B, n_in), `pre` is (B, n_out),
 * followed by a parameter-free map g = P o phi (the activation, then 2x2
 * pooling or nothing) that takes pre to the layer's output h (B, n_post),
 * the next layer's input. The output layer's g is the identity.
 * An algorithm needs exactly three things from the linear part:
 *
 *   forward     pre = A(in)
 *   input_vjp   din = (d pre / d in)^T dpre     (row by row)
 *   param_grad  grad = beta * grad + scale * sum_b (d pre_b / d params)^T dpre_b
 *
 * BP chains them with the activation derivative; predictive coding uses
 * input_vjp for the state gradients and param_grad with its own errors;
 * target propagation uses param_grad with target differences. A new layer
 * kind (convolution) provides a new ops table; no algorithm changes.
 * For g, the rules use pcmup__layer_post and pcmup__layer_post_vjp
 * (post.c), written once for every layer kind.
 *
 * Parameters live in one contiguous float array per layer, in the order the
 * layer documents (dense: weights (out, in) row-major, then the bias), so
 * param_grad with grad = params and beta = 1 applies an SGD step in place:
 * param_grad never reads params.
 *
 * Convolutions see a (B, C, H, W) activation as B rows of C*H*W values
 * (NCHW, row-major), so n_in = C_in H_in W_in and n_out = C_out H_out W_out
 * and the three ops keep their signatures. A convolution also needs
 * scratch memory for its im2col matrices; the ops never allocate, so the
 * layer's OWNER allocates `workspace` once, pcmup__conv_workspace_floats
 * floats, and hands it to pcmup__conv_init. The ops of one layer use it in
 * turn, so two threads must not run ops of the same conv layer at once.
 */
#ifndef PCMUP_LAYER_H
#define PCMUP_LAYER_H

#include "kernel/kernel.h"
#include "pcmup.h"

#include <stddef.h>

typedef struct pcmup_layer pcmup_layer;

/* The geometry of a 2-D convolution: input (c_in, h_in, w_in), a square
 * k x k kernel moved by `stride`, `pad` zeros on every side of both spatial
 * axes, output (c_out, h_out, w_out). All zero for a dense layer.
 * `chunk` is how many samples one GEMM of the ops covers, chosen by
 * pcmup__conv_init from the rest of the geometry; it sizes the workspace.
 * Tests lower it (before sizing the workspace) to reach chunk boundaries;
 * any value >= 1 gives the same results up to float rounding. */
typedef struct {
    size_t c_in, h_in, w_in;
    size_t c_out, h_out, w_out;
    size_t k, stride, pad;
    size_t chunk;
} pcmup__conv_geom;

/* The pooling after a conv layer's activation (2x2, stride 2). */
typedef enum {
    PCMUP__POOL_NONE = 0,
    PCMUP__POOL_MAX2 = 1, /* the gradient goes to the first maximum of each window */
    PCMUP__POOL_AVG2 = 2
} pcmup__pool;

typedef struct {
    void (*forward)(const pcmup_layer *layer, const float *in, size_t batch, float *pre);
    void (*input_vjp)(const pcmup_layer *layer, const float *dpre, size_t batch, float *din);
    void (*param_grad)(const pcmup_layer *layer, const float *dpre, const float *in,
                       size_t batch, float scale, float beta, float *grad);
} pcmup_layer_ops;

struct pcmup_layer {
    const pcmup_layer_ops *ops;
    size_t n_in, n_out;
    size_t n_params;   /* length of params */
    float multiplier;  /* forward multiplier r^-a of the abc-parameterization */
    int has_bias;
    float *params;     /* owned by the network's single parameter block */
    /* Where the layer's GEMMs are counted: the stepping algorithm's log
     * during a step (pcmup__net_set_gemm_log), NULL otherwise. */
    pcmup__gemm_log *gemm_log;
    /* Convolutions only (zero / NULL for dense): the geometry, and scratch
     * of pcmup__conv_workspace_floats floats owned by whoever owns the
     * layer (the ops only borrow it). */
    pcmup__conv_geom conv;
    float *workspace;
    /* g = P o phi (pcmup__layer_set_post): the activation (identity for
     * the output layer), the pooling, and the size of g's output. */
    pcmup_activation activation;
    pcmup__pool pool;
    size_t n_post;
};

/* A dense layer: pre = multiplier * in W^T (+ bias). Parameters: W (out, in)
 * row-major, then bias (out) if has_bias. The bias is not multiplied. */
void pcmup__dense_init(pcmup_layer *layer, size_t n_in, size_t n_out, float multiplier,
                       int has_bias, float *params);
size_t pcmup__dense_param_count(size_t n_in, size_t n_out, int has_bias);

/* ---- 2-D convolution (conv.c) ------------------------------------------------
 * pre[b, o, i, j] = multiplier * sum_{c, s, t} W[o, c, s, t]
 *                   * in_p[b, c, i*stride + s, j*stride + t]  (+ bias[o])
 * with in_p the input padded by `pad` zeros: cross-correlation (the kernel
 * is not flipped). Parameters: W (c_out, c_in, k, k) row-major, then bias
 * (c_out) if has_bias; the bias is not multiplied, as dense's. */

/* The output size along one spatial axis, (n + 2 pad - k) / stride + 1,
 * or 0 when the geometry is invalid (k or stride 0, or k > n + 2 pad). */
size_t pcmup__conv_out_size(size_t n, size_t k, size_t stride, size_t pad);
/* 1 when a convolution of this geometry exists and every size its GEMMs
 * see fits BLAS's integers (PCMUP_MAX_DIM), else 0. Never aborts: the
 * caller turns 0 into its own error. */
int pcmup__conv_geometry_valid(size_t c_in, size_t h_in, size_t w_in, size_t c_out, size_t k,
                               size_t stride, size_t pad);
size_t pcmup__conv_param_count(size_t c_in, size_t c_out, size_t k, int has_bias);
/* Requires a valid geometry (pcmup__conv_geometry_valid) and `workspace`
 * of pcmup__conv_workspace_floats(layer) floats, which the caller may
 * allocate after this call (set layer->workspace then) since the size
 * depends on the geometry only. */
void pcmup__conv_init(pcmup_layer *layer, size_t c_in, size_t h_in, size_t w_in, size_t c_out,
                      size_t k, size_t stride, size_t pad, float multiplier, int has_bias,
                      float *params, float *workspace);
/* The floats of workspace a conv layer needs. The ops treat a batch in
 * chunks of conv.chunk samples, one GEMM per chunk and op, so the size
 * depends on the geometry only, never on the batch: with chunk = n and
 * hw = h_out w_out, the chunk's im2col matrix (c_in k^2) x (n hw) and, when
 * n > 1, the chunk's outputs or output gradients (c_out) x (n hw), that is
 * n hw (c_in k^2 + c_out); with n = 1, (c_in k^2) hw. pcmup__conv_init
 * picks n so that this stays near 4 MiB or below (n = 1 when one sample
 * alone needs more). */
size_t pcmup__conv_workspace_floats(const pcmup_layer *layer);

/* ---- g = P o phi, the map after the linear part (post.c) ---------------------
 * Pooling needs a conv layer (it pools the (c_out, h_out, w_out) map, both
 * sizes even). a = phi(pre) is what the derivative and max pooling's
 * arg-max are read from, so the forward keeps it: without pooling a is
 * the output h itself. */

/* Sets g after pcmup__dense_init / pcmup__conv_init; n_post follows. */
void pcmup__layer_set_post(pcmup_layer *layer, pcmup_activation activation, pcmup__pool pool);
/* 1 when g pools (so a and h are different arrays of different sizes). */
int pcmup__layer_pools(const pcmup_layer *layer);
/* a = phi(pre) (a may be pre: in place), then h = P(a) (h must be a when
 * the layer does not pool, and distinct from it when it does). */
void pcmup__layer_post(const pcmup_layer *layer, const float *pre, size_t batch, float *a,
                       float *h);
/* dpre = phi'(pre) * P^T dh, read off a = phi(pre). dpre may be dh when
 * the layer does not pool (in place); with pooling they are distinct. */
void pcmup__layer_post_vjp(const pcmup_layer *layer, const float *a, const float *dh,
                           size_t batch, float *dpre);
/* The number of weights (params without the bias): (out, in) for dense,
 * (c_out, c_in, k, k) for conv; and a weight's fan-in (in, c_in k^2). */
size_t pcmup__layer_weight_count(const pcmup_layer *layer);
size_t pcmup__layer_fan_in(const pcmup_layer *layer);

/* ---- biases shared by the layer kinds (bias.c) -------------------------------
 * A bias has one value per channel, added at each of `spatial` positions of
 * every channel (dense: spatial = 1). x is (batch, channels, spatial). */

/* x[b, c, j] += bias[c] */
void pcmup__bias_add(const float *bias, size_t channels, size_t spatial, size_t batch,
                     float *x);
/* gbias = beta gbias + scale sum_{b, j} d[b, c, j] */
void pcmup__bias_grad(const float *d, size_t channels, size_t spatial, size_t batch,
                      float scale, float beta, float *gbias);

#endif
