/*
 * layer.h -- the layer interface every algorithm is written against.
 *
 * A layer is the parameterised linear part of one step of the network,
 * pre = A(in; params), batch-major: `in` is (B, n_in), `pre` is (B, n_out).
 * The activation is applied by the network, elementwise, on top of it.
 * An algorithm needs exactly three things from a layer:
 *
 *   forward     pre = A(in)
 *   input_vjp   din = (d pre / d in)^T dpre     (row by row)
 *   param_grad  grad = beta * grad + scale * sum_b (d pre_b / d params)^T dpre_b
 *
 * BP chains them with the activation derivative; predictive coding uses
 * input_vjp for the state gradients and param_grad with its own errors;
 * target propagation uses param_grad with target differences. A new layer
 * kind (convolution) provides a new ops table; no algorithm changes.
 *
 * Parameters live in one contiguous float array per layer, in the order the
 * layer documents (dense: weights (out, in) row-major, then the bias), so
 * param_grad with grad = params and beta = 1 applies an SGD step in place.
 */
#ifndef PCMUP_LAYER_H
#define PCMUP_LAYER_H

#include "kernel/kernel.h"

#include <stddef.h>

typedef struct pcmup_layer pcmup_layer;

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
};

/* A dense layer: pre = multiplier * in W^T (+ bias). Parameters: W (out, in)
 * row-major, then bias (out) if has_bias. The bias is not multiplied. */
void pcmup__dense_init(pcmup_layer *layer, size_t n_in, size_t n_out, float multiplier,
                       int has_bias, float *params);
size_t pcmup__dense_param_count(size_t n_in, size_t n_out, int has_bias);

#endif
