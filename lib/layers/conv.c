/*
 * conv.c -- the 2-D convolution layer, through im2col and one GEMM per
 * sample and op (layer.h states the maps and the parameter layout).
 *
 * For one sample, the im2col matrix `col` has a row per kernel tap
 * r = (c, s, t) (c_in k^2 rows, the order of W's columns) and a column per
 * output position (i, j) (h_out w_out columns): col[r][i, j] is the input
 * value tap r reads for output (i, j), or 0 in the padding. Then
 *
 *   forward     pre_b (c_out, hw)  = m W (c_out, ckk) . col_b
 *   input_vjp   dcol  (ckk, hw)    = m W^T . dpre_b, scattered back (col2im)
 *   param_grad  dW    (c_out, ckk) += scale m dpre_b . col_b^T
 *
 * and pre_b, dpre_b are already the NCHW rows of the batch: no transposes.
 * `col` lives in the layer's workspace, so the ops never allocate.
 */
#include "internal.h"
#include "layers/layer.h"

#include <string.h>

/* ---- geometry ----------------------------------------------------------- */

size_t pcmup__conv_out_size(size_t n, size_t k, size_t stride, size_t pad)
{
    if (k == 0 || stride == 0 || n == 0 || pad > PCMUP_MAX_DIM || n > PCMUP_MAX_DIM)
        return 0;
    if (k > n + 2 * pad)
        return 0;
    return (n + 2 * pad - k) / stride + 1;
}

/* a * b, or 0 when it exceeds PCMUP_MAX_DIM (no size here is 0). */
static size_t dim_product(size_t a, size_t b)
{
    int overflow = 0;
    size_t p = pcmup__mul(a, b, &overflow);
    return overflow || p > PCMUP_MAX_DIM ? 0 : p;
}

int pcmup__conv_geometry_valid(size_t c_in, size_t h_in, size_t w_in, size_t c_out, size_t k,
                               size_t stride, size_t pad)
{
    const size_t h_out = pcmup__conv_out_size(h_in, k, stride, pad);
    const size_t w_out = pcmup__conv_out_size(w_in, k, stride, pad);
    if (c_in == 0 || c_out == 0 || h_out == 0 || w_out == 0)
        return 0;
    /* Every count a GEMM, a row of the batch or the workspace holds. */
    const size_t ckk = dim_product(c_in, dim_product(k, k));
    const size_t hw_out = dim_product(h_out, w_out);
    const size_t n_in = dim_product(c_in, dim_product(h_in, w_in));
    return ckk && hw_out && n_in && dim_product(c_out, hw_out) && dim_product(c_out, ckk) &&
           dim_product(ckk, hw_out);
}

size_t pcmup__conv_param_count(size_t c_in, size_t c_out, size_t k, int has_bias)
{
    return c_out * c_in * k * k + (has_bias ? c_out : 0);
}

/* Rows of the im2col matrix (= columns of W) and its columns. */
static size_t taps(const pcmup__conv_geom *g)
{
    return g->c_in * g->k * g->k;
}

static size_t positions(const pcmup__conv_geom *g)
{
    return g->h_out * g->w_out;
}

size_t pcmup__conv_workspace_floats(const pcmup_layer *layer)
{
    return taps(&layer->conv) * positions(&layer->conv);
}

/* ---- im2col and its adjoint ---------------------------------------------- */

/* Where tap r reads for output (i, j): its offset in the sample's
 * (c_in, h_in, w_in) image, or -1 in the zero padding. The one place that
 * knows stride and padding; im2col and col2im both walk it. */
static ptrdiff_t tap_source(const pcmup__conv_geom *g, size_t r, size_t i, size_t j)
{
    const size_t c = r / (g->k * g->k), s = r / g->k % g->k, t = r % g->k;
    /* coordinates in the padded image, then back in the real one */
    const size_t y = i * g->stride + s, x = j * g->stride + t;
    if (y < g->pad || x < g->pad || y - g->pad >= g->h_in || x - g->pad >= g->w_in)
        return -1;
    return (ptrdiff_t)((c * g->h_in + (y - g->pad)) * g->w_in + (x - g->pad));
}

/* col (taps x positions) = the patches of one sample's image. */
static void im2col(const pcmup__conv_geom *g, const float *image, float *col)
{
    const size_t hw = positions(g);
    for (size_t r = 0; r < taps(g); r++)
        for (size_t p = 0; p < hw; p++) {
            ptrdiff_t src = tap_source(g, r, p / g->w_out, p % g->w_out);
            col[r * hw + p] = src < 0 ? 0.0f : image[src];
        }
}

/* image = im2col^T (col): every entry of col goes back to the pixel it was
 * read from, summed where windows overlap; padding entries are dropped. */
static void col2im(const pcmup__conv_geom *g, const float *col, float *image)
{
    const size_t hw = positions(g);
    memset(image, 0, g->c_in * g->h_in * g->w_in * sizeof *image);
    for (size_t r = 0; r < taps(g); r++)
        for (size_t p = 0; p < hw; p++) {
            ptrdiff_t dst = tap_source(g, r, p / g->w_out, p % g->w_out);
            if (dst >= 0)
                image[dst] += col[r * hw + p];
        }
}

/* ---- the ops ----------------------------------------------------------------- */

static void conv_forward(const pcmup_layer *layer, const float *in, size_t batch, float *pre)
{
    const pcmup__conv_geom *g = &layer->conv;
    const size_t ckk = taps(g), hw = positions(g);
    for (size_t b = 0; b < batch; b++) {
        im2col(g, in + b * layer->n_in, layer->workspace);
        pcmup__k_sgemm(layer->gemm_log, 'N', 'N', g->c_out, hw, ckk, layer->multiplier,
                       layer->params, layer->workspace, 0.0f, pre + b * layer->n_out);
    }
    if (layer->has_bias)
        pcmup__bias_add(layer->params + g->c_out * ckk, g->c_out, hw, batch, pre);
}

static void conv_input_vjp(const pcmup_layer *layer, const float *dpre, size_t batch,
                           float *din)
{
    const pcmup__conv_geom *g = &layer->conv;
    const size_t ckk = taps(g), hw = positions(g);
    for (size_t b = 0; b < batch; b++) {
        pcmup__k_sgemm(layer->gemm_log, 'T', 'N', ckk, hw, g->c_out, layer->multiplier,
                       layer->params, dpre + b * layer->n_out, 0.0f, layer->workspace);
        col2im(g, layer->workspace, din + b * layer->n_in);
    }
}

static void conv_param_grad(const pcmup_layer *layer, const float *dpre, const float *in,
                            size_t batch, float scale, float beta, float *grad)
{
    const pcmup__conv_geom *g = &layer->conv;
    const size_t ckk = taps(g), hw = positions(g);
    /* beta applies once: to the first sample's product, or alone when the
     * batch is empty. As in dense, the factor m comes from W = m w. */
    if (batch == 0 && beta != 1.0f)
        pcmup__k_sscal(g->c_out * ckk, beta, grad);
    for (size_t b = 0; b < batch; b++) {
        im2col(g, in + b * layer->n_in, layer->workspace);
        pcmup__k_sgemm(layer->gemm_log, 'N', 'T', g->c_out, ckk, hw, scale * layer->multiplier,
                       dpre + b * layer->n_out, layer->workspace, b == 0 ? beta : 1.0f, grad);
    }
    if (layer->has_bias)
        pcmup__bias_grad(dpre, g->c_out, hw, batch, scale, beta, grad + g->c_out * ckk);
}

static const pcmup_layer_ops conv_ops = {
    conv_forward,
    conv_input_vjp,
    conv_param_grad,
};

void pcmup__conv_init(pcmup_layer *layer, size_t c_in, size_t h_in, size_t w_in, size_t c_out,
                      size_t k, size_t stride, size_t pad, float multiplier, int has_bias,
                      float *params, float *workspace)
{
    assert(pcmup__conv_geometry_valid(c_in, h_in, w_in, c_out, k, stride, pad));
    pcmup__conv_geom *g = &layer->conv;
    *g = (pcmup__conv_geom){c_in, h_in, w_in, c_out, 0, 0, k, stride, pad};
    g->h_out = pcmup__conv_out_size(h_in, k, stride, pad);
    g->w_out = pcmup__conv_out_size(w_in, k, stride, pad);
    layer->ops = &conv_ops;
    layer->n_in = c_in * h_in * w_in;
    layer->n_out = c_out * g->h_out * g->w_out;
    layer->n_params = pcmup__conv_param_count(c_in, c_out, k, has_bias);
    layer->multiplier = multiplier;
    layer->has_bias = has_bias;
    layer->params = params;
    layer->gemm_log = NULL;
    layer->workspace = workspace;
}
