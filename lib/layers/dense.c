/*
 * layer_dense.c -- the fully connected layer: every product over a batch
 * is one CBLAS GEMM on row-major, batch-major arrays (docs/architecture.md).
 */
#include "layers/layer.h"

#include <cblas.h>

static void dense_forward(const pcmup_layer *layer, const float *in, size_t batch, float *pre)
{
    const int b = (int)batch, n_in = (int)layer->n_in, n_out = (int)layer->n_out;
    const float *w = layer->params;
    /* pre (B, out) = m * in (B, in) . W^T (in, out) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b, n_out, n_in, layer->multiplier,
                in, n_in, w, n_in, 0.0f, pre, n_out);
    if (layer->has_bias) {
        const float *bias = w + layer->n_in * layer->n_out;
        for (size_t i = 0; i < batch; i++)
            cblas_saxpy(n_out, 1.0f, bias, 1, pre + i * layer->n_out, 1);
    }
}

static void dense_input_vjp(const pcmup_layer *layer, const float *dpre, size_t batch,
                            float *din)
{
    const int b = (int)batch, n_in = (int)layer->n_in, n_out = (int)layer->n_out;
    /* din (B, in) = m * dpre (B, out) . W (out, in) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, b, n_in, n_out, layer->multiplier,
                dpre, n_out, layer->params, n_in, 0.0f, din, n_in);
}

static void dense_param_grad(const pcmup_layer *layer, const float *dpre, const float *in,
                             size_t batch, float scale, float beta, float *grad)
{
    const int b = (int)batch, n_in = (int)layer->n_in, n_out = (int)layer->n_out;
    /* dW (out, in) = m * dpre^T (out, B) . in (B, in): the chain rule through
     * W = m w puts one factor m on the gradient with respect to w. */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n_out, n_in, b,
                scale * layer->multiplier, dpre, n_out, in, n_in, beta, grad, n_in);
    if (layer->has_bias) {
        float *gbias = grad + layer->n_in * layer->n_out;
        if (beta != 1.0f)
            cblas_sscal(n_out, beta, gbias, 1);
        for (size_t i = 0; i < batch; i++)
            cblas_saxpy(n_out, scale, dpre + i * layer->n_out, 1, gbias, 1);
    }
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
}
