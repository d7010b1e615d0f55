/* SPDX-License-Identifier: MIT */
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
 * place that knows stride and padding: tap_span_of below builds on it. */
static void inside_span(size_t n_out, size_t n_in, size_t stride, size_t tap, size_t pad,
                        size_t *lo, size_t *hi)
{
    size_t a = tap >= pad ? 0 : (pad - tap + stride - 1) / stride;
    size_t b = n_in + pad > tap ? (n_in + pad - tap + stride - 1) / stride : 0;
    b = b < n_out ? b : n_out;
    *lo = a < b ? a : b;
    *hi = b;
}

/* Where tap r = (c, s, t) reads inside the image: the outputs (i, j) with
 * i in [i0, i1) and j in [j0, j1), and the image offset of the pixel that
 * output (i0, j0) reads. 0 when the tap reads only padding. */
typedef struct {
    size_t i0, i1, j0, j1, offset;
} tap_span;

static int tap_span_of(const pcmup__conv_geom *g, size_t r, tap_span *sp)
{
    const size_t k = g->k, c = r / (k * k), s = r / k % k, t = r % k;
    inside_span(g->h_out, g->h_in, g->stride, s, g->pad, &sp->i0, &sp->i1);
    inside_span(g->w_out, g->w_in, g->stride, t, g->pad, &sp->j0, &sp->j1);
    if (sp->i0 == sp->i1 || sp->j0 == sp->j1)
        return 0;
    sp->offset = (c * g->h_in + sp->i0 * g->stride + s - g->pad) * g->w_in +
                 sp->j0 * g->stride + t - g->pad;
    return 1;
}

/* With stride 1 and w_out = w_in ("same" width, the CNNs of the paper),
 * output (i, j) of a tap reads image offset + (i - i0) w + (j - j0): the
 * row of col is one contiguous block of the image, from output (i0, j0)
 * to (i1 - 1, j1 - 1), except for the entries of the columns j < j0 and
 * j >= j1 inside it, which read padding. So each tap is one copy (or one
 * sum) and a fix-up of those edge entries, instead of a copy per row. */
static int same_width(const pcmup__conv_geom *g)
{
    return g->stride == 1 && g->w_out == g->w_in;
}

/* Zeroes the edge entries of a tap's block (see same_width). */
static void zero_edges(float *row, size_t wo, const tap_span *sp)
{
    for (size_t i = sp->i0; i < sp->i1; i++) {
        for (size_t j = 0; j < sp->j0; j++)
            row[i * wo + j] = 0.0f;
        for (size_t j = sp->j1; j < wo; j++)
            row[i * wo + j] = 0.0f;
    }
}

/* The general case's row i of a tap: a zero head, the image pixels, a
 * zero tail. */
static void im2col_row(const pcmup__conv_geom *g, const tap_span *sp, const float *src,
                       float *dst)
{
    const size_t st = g->stride;
    memset(dst, 0, sp->j0 * sizeof *dst);
    if (st == 1)
        memcpy(dst + sp->j0, src, (sp->j1 - sp->j0) * sizeof *dst);
    else
        for (size_t j = 0; j < sp->j1 - sp->j0; j++)
            dst[sp->j0 + j] = src[j * st];
    memset(dst + sp->j1, 0, (g->w_out - sp->j1) * sizeof *dst);
}

/* One sample's patches into col, its rows ld floats apart (ld >= hw: the
 * sample's block of a chunk's col). */
static void im2col(const pcmup__conv_geom *g, const float *image, float *col, size_t ld)
{
    const size_t wo = g->w_out, hw = positions(g);
    for (size_t r = 0; r < taps(g); r++) {
        float *row = col + r * ld;
        tap_span sp;
        if (!tap_span_of(g, r, &sp)) {
            memset(row, 0, hw * sizeof *row);
            continue;
        }
        const size_t first = sp.i0 * wo + sp.j0, last = (sp.i1 - 1) * wo + sp.j1;
        if (same_width(g)) {
            memset(row, 0, first * sizeof *row);
            memcpy(row + first, image + sp.offset, (last - first) * sizeof *row);
            memset(row + last, 0, (hw - last) * sizeof *row);
            zero_edges(row, wo, &sp);
            continue;
        }
        memset(row, 0, sp.i0 * wo * sizeof *row);
        for (size_t i = sp.i0; i < sp.i1; i++)
            im2col_row(g, &sp, image + sp.offset + (i - sp.i0) * g->stride * g->w_in,
                       row + i * wo);
        memset(row + sp.i1 * wo, 0, (hw - sp.i1 * wo) * sizeof *row);
    }
}

/* image = im2col^T (col): every entry of col goes back to the pixel it was
 * read from, summed where windows overlap; padding entries are dropped.
 * col is scratch: the same-width path zeroes its padding entries first. */
static void col2im(const pcmup__conv_geom *g, float *col, size_t ld, float *image)
{
    const size_t st = g->stride, wo = g->w_out;
    memset(image, 0, g->c_in * g->h_in * g->w_in * sizeof *image);
    for (size_t r = 0; r < taps(g); r++) {
        float *row = col + r * ld;
        tap_span sp;
        if (!tap_span_of(g, r, &sp))
            continue;
        float *dst = image + sp.offset;
        if (same_width(g)) {
            const size_t first = sp.i0 * wo + sp.j0, last = (sp.i1 - 1) * wo + sp.j1;
            zero_edges(row, wo, &sp);
            for (size_t p = 0; p < last - first; p++)
                dst[p] += row[first + p];
            continue;
        }
        for (size_t i = sp.i0; i < sp.i1; i++) {
            const float *src = row + i * wo + sp.j0;
            float *d = dst + (i - sp.i0) * st * g->w_in;
            for (size_t j = 0; j < sp.j1 - sp.j0; j++)
                d[j * st] += src[j];
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

/* Samples in the chunk that starts at sample b0. */
static size_t chunk_len(const pcmup__conv_geom *g, size_t batch, size_t b0)
{
    return batch - b0 < g->chunk ? batch - b0 : g->chunk;
}

/* The chunk's output gradients as e (c_out, n hw): for one sample its
 * batch row `dpre` itself, else gathered into the workspace. */
static const float *chunk_dpre(const pcmup_layer *layer, const float *dpre, size_t n)
{
    if (n == 1)
        return dpre;
    gather(dpre, layer->n_out, n, layer->conv.c_out, positions(&layer->conv), chunk_e(layer));
    return chunk_e(layer);
}

/* ---- the ops ----------------------------------------------------------------- */

static void conv_forward(const pcmup_layer *layer, const float *in, size_t batch, float *pre)
{
    const pcmup__conv_geom *g = &layer->conv;
    const size_t ckk = taps(g), hw = positions(g);
    for (size_t b0 = 0; b0 < batch; b0 += g->chunk) {
        const size_t n = chunk_len(g, batch, b0);
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
        const size_t n = chunk_len(g, batch, b0);
        const float *e = chunk_dpre(layer, dpre + b0 * layer->n_out, n);
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
        const size_t n = chunk_len(g, batch, b0);
        const float *col = chunk_col(layer, in + b0 * layer->n_in, n);
        const float *e = chunk_dpre(layer, dpre + b0 * layer->n_out, n);
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
