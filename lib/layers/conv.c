/*
 * conv.c -- the 2-D convolution layer, through im2col and one GEMM per
 * chunk of samples and op (layer.h states the maps and the parameter
 * layout).
 *
 * The im2col matrix `col` of a chunk of n samples has a row per kernel tap
 * r = (c, s, t) (c_in k^2 rows, the order of W's columns) and a column per
 * sample and output position (q, i, j) (n h_out w_out columns): col[r][q,
 * i, j] is the input value tap r reads for output (i, j) of sample q, or 0
 * in the padding. With the chunk's rows of a (c_out, n hw) array `e` in
 * the same column order,
 *
 *   forward     e    (c_out, n hw) = m W (c_out, ckk) . col
 *   input_vjp   dcol (ckk, n hw)   = m W^T . e, scattered back (col2im)
 *   param_grad  dW   (c_out, ckk) += scale m e . col^T     (K = n hw)
 *
 * Why chunks: at the sizes of small CNNs one sample's GEMMs are thin (the
 * first layer of SimpleCNN has K = 25), and a GEMM over several samples
 * runs nearer the machine's peak. The batch is NCHW, so sample q's block
 * of e is its (c_out, hw) row of the batch: e is gathered from, or
 * scattered to, the batch by contiguous copies of hw floats, O(output)
 * next to the GEMM's O(output ckk). A chunk of one sample needs no copy:
 * its e is the batch row itself.
 *
 * Everything lives in the layer's workspace, so the ops never allocate;
 * the chunk is fixed at init from the geometry, so the workspace does
 * not depend on the batch.
 */
#include "internal.h"
#include "layers/layer.h"

#include <string.h>

/* The workspace aims at this many floats (4 MiB): large enough for
 * GEMMs of a few thousand columns at SimpleCNN's sizes, small enough to
 * stay near the caches. A sample that alone needs more gets a chunk of 1. */
#define WORKSPACE_BUDGET ((size_t)1 << 20)
/* More columns than this per GEMM gain nothing measurable. */
#define TARGET_COLUMNS ((size_t)8192)

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

/* Rows of the im2col matrix (= columns of W) and its columns per sample. */
static size_t taps(const pcmup__conv_geom *g)
{
    return g->c_in * g->k * g->k;
}

static size_t positions(const pcmup__conv_geom *g)
{
    return g->h_out * g->w_out;
}

/* Samples per GEMM: as many as the budget and TARGET_COLUMNS allow, at
 * least one. A function of the geometry only. */
static size_t chunk_for(const pcmup__conv_geom *g)
{
    const size_t hw = positions(g), per_sample = hw * (taps(g) + g->c_out);
    size_t n = WORKSPACE_BUDGET / per_sample;
    const size_t enough = (TARGET_COLUMNS + hw - 1) / hw;
    n = n < enough ? n : enough;
    return n > 0 ? n : 1;
}

size_t pcmup__conv_workspace_floats(const pcmup_layer *layer)
{
    const pcmup__conv_geom *g = &layer->conv;
    const size_t hw = positions(g);
    /* a chunk of one writes e straight into the batch: col alone */
    if (g->chunk <= 1)
        return taps(g) * hw;
    return g->chunk * hw * (taps(g) + g->c_out);
}

/* ---- im2col and its adjoint ---------------------------------------------- */

/* The outputs o in [0, n_out) whose tap `tap` reads inside the image along
 * one axis: o stride + tap - pad in [0, n_in), that is [*lo, *hi). The one
 * place that knows stride and padding; im2col and col2im both use it. */
static void inside_span(size_t n_out, size_t n_in, size_t stride, size_t tap, size_t pad,
                        size_t *lo, size_t *hi)
{
    size_t a = tap >= pad ? 0 : (pad - tap + stride - 1) / stride;
    size_t b = n_in + pad > tap ? (n_in + pad - tap + stride - 1) / stride : 0;
    b = b < n_out ? b : n_out;
    *lo = a < b ? a : b;
    *hi = b;
}

/* One sample's patches into col, its rows ld floats apart (ld >= hw: the
 * sample's block of a chunk's col). Row by row of the output, each a
 * zero head, a copy of the image row, a zero tail. */
static void im2col(const pcmup__conv_geom *g, const float *image, float *col, size_t ld)
{
    const size_t k = g->k, st = g->stride, wo = g->w_out;
    for (size_t r = 0; r < taps(g); r++) {
        const size_t c = r / (k * k), s = r / k % k, t = r % k;
        const float *plane = image + c * g->h_in * g->w_in;
        size_t i0, i1, j0, j1;
        inside_span(g->h_out, g->h_in, st, s, g->pad, &i0, &i1);
        inside_span(wo, g->w_in, st, t, g->pad, &j0, &j1);
        float *row = col + r * ld;
        memset(row, 0, i0 * wo * sizeof *row);
        for (size_t i = i0; i < i1; i++) {
            float *dst = row + i * wo;
            memset(dst, 0, j0 * sizeof *dst);
            memset(dst + j1, 0, (wo - j1) * sizeof *dst);
            if (j0 == j1)
                continue;
            /* the image pixel output (i, j0) reads */
            const float *src = plane + (i * st + s - g->pad) * g->w_in + j0 * st + t - g->pad;
            if (st == 1)
                memcpy(dst + j0, src, (j1 - j0) * sizeof *dst);
            else
                for (size_t j = 0; j < j1 - j0; j++)
                    dst[j0 + j] = src[j * st];
        }
        memset(row + i1 * wo, 0, (g->h_out - i1) * wo * sizeof *row);
    }
}

/* image = im2col^T (col): every entry of col goes back to the pixel it was
 * read from, summed where windows overlap; padding entries are dropped. */
static void col2im(const pcmup__conv_geom *g, const float *col, size_t ld, float *image)
{
    const size_t k = g->k, st = g->stride, wo = g->w_out;
    memset(image, 0, g->c_in * g->h_in * g->w_in * sizeof *image);
    for (size_t r = 0; r < taps(g); r++) {
        const size_t c = r / (k * k), s = r / k % k, t = r % k;
        float *plane = image + c * g->h_in * g->w_in;
        size_t i0, i1, j0, j1;
        inside_span(g->h_out, g->h_in, st, s, g->pad, &i0, &i1);
        inside_span(wo, g->w_in, st, t, g->pad, &j0, &j1);
        for (size_t i = i0; i < i1 && j0 < j1; i++) {
            const float *src = col + r * ld + i * wo + j0;
            float *dst = plane + (i * st + s - g->pad) * g->w_in + j0 * st + t - g->pad;
            if (st == 1) /* the common case, written so that it vectorises */
                for (size_t j = 0; j < j1 - j0; j++)
                    dst[j] += src[j];
            else
                for (size_t j = 0; j < j1 - j0; j++)
                    dst[j * st] += src[j];
        }
    }
}

/* ---- chunks ---------------------------------------------------------------- */

/* The chunk's samples [b0, b0 + n) of an NCHW batch with rows of `row`
 * floats, each (c_out, hw), to or from e (c_out, n hw). */
static void gather(const float *batch, size_t row, size_t n, size_t c_out, size_t hw,
                   float *e)
{
    for (size_t o = 0; o < c_out; o++)
        for (size_t q = 0; q < n; q++)
            memcpy(e + (o * n + q) * hw, batch + q * row + o * hw, hw * sizeof *e);
}

static void scatter(const float *e, size_t n, size_t c_out, size_t hw, size_t row,
                    float *batch)
{
    for (size_t q = 0; q < n; q++)
        for (size_t o = 0; o < c_out; o++)
            memcpy(batch + q * row + o * hw, e + (o * n + q) * hw, hw * sizeof *e);
}

/* The chunk's col, n samples of `in` side by side, at the workspace's
 * start; e follows it. */
static float *chunk_col(const pcmup_layer *layer, const float *in, size_t n)
{
    const pcmup__conv_geom *g = &layer->conv;
    const size_t hw = positions(g);
    for (size_t q = 0; q < n; q++)
        im2col(g, in + q * layer->n_in, layer->workspace + q * hw, n * hw);
    return layer->workspace;
}

static float *chunk_e(const pcmup_layer *layer)
{
    return layer->workspace + taps(&layer->conv) * positions(&layer->conv) * layer->conv.chunk;
}

/* ---- the ops ----------------------------------------------------------------- */

static void conv_forward(const pcmup_layer *layer, const float *in, size_t batch, float *pre)
{
    const pcmup__conv_geom *g = &layer->conv;
    const size_t ckk = taps(g), hw = positions(g);
    for (size_t b0 = 0; b0 < batch; b0 += g->chunk) {
        const size_t n = batch - b0 < g->chunk ? batch - b0 : g->chunk;
        const float *col = chunk_col(layer, in + b0 * layer->n_in, n);
        float *out = pre + b0 * layer->n_out;
        float *e = n == 1 ? out : chunk_e(layer);
        pcmup__k_sgemm(layer->gemm_log, 'N', 'N', g->c_out, n * hw, ckk, layer->multiplier,
                       layer->params, col, 0.0f, e);
        if (n > 1)
            scatter(e, n, g->c_out, hw, layer->n_out, out);
    }
    if (layer->has_bias)
        pcmup__bias_add(layer->params + g->c_out * ckk, g->c_out, hw, batch, pre);
}

static void conv_input_vjp(const pcmup_layer *layer, const float *dpre, size_t batch,
                           float *din)
{
    const pcmup__conv_geom *g = &layer->conv;
    const size_t ckk = taps(g), hw = positions(g);
    for (size_t b0 = 0; b0 < batch; b0 += g->chunk) {
        const size_t n = batch - b0 < g->chunk ? batch - b0 : g->chunk;
        const float *e = dpre + b0 * layer->n_out;
        if (n > 1) {
            gather(e, layer->n_out, n, g->c_out, hw, chunk_e(layer));
            e = chunk_e(layer);
        }
        pcmup__k_sgemm(layer->gemm_log, 'T', 'N', ckk, n * hw, g->c_out, layer->multiplier,
                       layer->params, e, 0.0f, layer->workspace);
        for (size_t q = 0; q < n; q++)
            col2im(g, layer->workspace + q * hw, n * hw, din + (b0 + q) * layer->n_in);
    }
}

static void conv_param_grad(const pcmup_layer *layer, const float *dpre, const float *in,
                            size_t batch, float scale, float beta, float *grad)
{
    const pcmup__conv_geom *g = &layer->conv;
    const size_t ckk = taps(g), hw = positions(g);
    /* beta applies once: to the first chunk's product, or alone when the
     * batch is empty. As in dense, the factor m comes from W = m w. */
    if (batch == 0 && beta != 1.0f)
        pcmup__k_sscal(g->c_out * ckk, beta, grad);
    for (size_t b0 = 0; b0 < batch; b0 += g->chunk) {
        const size_t n = batch - b0 < g->chunk ? batch - b0 : g->chunk;
        const float *col = chunk_col(layer, in + b0 * layer->n_in, n);
        const float *e = dpre + b0 * layer->n_out;
        if (n > 1) {
            gather(e, layer->n_out, n, g->c_out, hw, chunk_e(layer));
            e = chunk_e(layer);
        }
        pcmup__k_sgemm(layer->gemm_log, 'N', 'T', g->c_out, ckk, n * hw,
                       scale * layer->multiplier, e, col, b0 == 0 ? beta : 1.0f, grad);
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
    *g = (pcmup__conv_geom){c_in, h_in, w_in, c_out, 0, 0, k, stride, pad, 0};
    g->h_out = pcmup__conv_out_size(h_in, k, stride, pad);
    g->w_out = pcmup__conv_out_size(w_in, k, stride, pad);
    g->chunk = chunk_for(g);
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
