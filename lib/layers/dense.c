/* SPDX-License-Identifier: MIT */
/*
 * dense.c -- the fully connected layer: every product over a batch
 * is one GEMM on row-major, batch-major arrays (docs/architecture.md).
 */
#include "layers/layer.h"

#include <string.h>

static void dense_forward(const pcmup_layer *layer, const float *in, size_t batch, float *pre)
{
    const size_t n_in = layer->n_in, n_out = layer->n_out;
    const float *w = layer->params;
    /* pre (B, out) = m * in (B, in) . W^T (in, out) */
    pcmup__k_sgemm(layer->gemm_log, 'N', 'T', batch, n_out, n_in, layer->multiplier, in, w,
                   0.0f, pre);
    if (layer->has_bias)
        pcmup__bias_add(w + n_in * n_out, n_out, 1, batch, pre);
}

static void dense_input_vjp(const pcmup_layer *layer, const float *dpre, size_t batch,
                            float *din)
{
    /* din (B, in) = m * dpre (B, out) . W (out, in) */
    pcmup__k_sgemm(layer->gemm_log, 'N', 'N', batch, layer->n_in, layer->n_out,
                   layer->multiplier, dpre, layer->params, 0.0f, din);
}

static void dense_param_grad(const pcmup_layer *layer, const float *dpre, const float *in,
                             size_t batch, float scale, float beta, float *grad)
{
    const size_t n_in = layer->n_in, n_out = layer->n_out;
    /* dW (out, in) = m * dpre^T (out, B) . in (B, in): the chain rule through
     * W = m w puts one factor m on the gradient with respect to w. */
    pcmup__k_sgemm(layer->gemm_log, 'T', 'N', n_out, n_in, batch, scale * layer->multiplier,
                   dpre, in, beta, grad);
    if (layer->has_bias)
        pcmup__bias_grad(dpre, n_out, 1, batch, scale, beta, grad + n_in * n_out);
}

static const pcmup_layer_ops dense_ops = {
    dense_forward,
    dense_input_vjp,
    dense_param_grad,
};

size_t pcmup__dense_param_count(size_t n_in, size_t n_out, int has_bias)
{
    return n_in * n_out + (has_bias ? n_out : 0);
}

void pcmup__dense_init(pcmup_layer *layer, size_t n_in, size_t n_out, float multiplier,
                       int has_bias, float *params)
{
    layer->ops = &dense_ops;
    layer->n_in = n_in;
    layer->n_out = n_out;
    layer->n_params = pcmup__dense_param_count(n_in, n_out, has_bias);
    layer->multiplier = multiplier;
    layer->has_bias = has_bias;
    layer->params = params;
    layer->gemm_log = NULL;
    memset(&layer->conv, 0, sizeof layer->conv);
    layer->workspace = NULL;
}
