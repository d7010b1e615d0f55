/*
 * net.c -- the network handle: architecture, parameters, forward pass.
 */
#include "net.h"

#include "layers/activation.h"
#include "param.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Counts the parameters, failing if the total (in floats and in bytes)
 * does not fit in size_t or a matrix does not fit a BLAS integer. */
static pcmup_status count_params(size_t n_layers, const size_t *widths, int bias,
                                 size_t *total, const char *func)
{
    int overflow = 0;
    size_t sum = 0;
    for (size_t l = 1; l <= n_layers; l++) {
        size_t w = pcmup__mul(widths[l], widths[l - 1], &overflow);
        size_t n = w + (bias ? widths[l] : 0);
        if (overflow || n < w || sum + n < sum)
            return pcmup__fail(PCMUP_ERR_INVALID, func, "layer %zu: %zu x %zu is too large", l,
                               widths[l], widths[l - 1]);
        sum += n;
    }
    pcmup__mul(sum, sizeof(float), &overflow);
    if (overflow)
        return pcmup__fail(PCMUP_ERR_INVALID, func, "%zu parameters do not fit in memory", sum);
    *total = sum;
    return PCMUP_OK;
}

static void net_destroy(pcmup_net *net)
{
    pcmup_allocator alloc = net->alloc;
    pcmup_param_free(net->param);
    pcmup__free(&alloc, net->widths);
    pcmup__free(&alloc, net->layers);
    pcmup__free(&alloc, net->lr_factor);
    pcmup__free(&alloc, net->params);
    pcmup__free(&alloc, net->work);
    pcmup__free(&alloc, net);
}

static void wire_layers(pcmup_net *net)
{
    float *block = net->params;
    int bias = (net->flags & PCMUP_NET_BIAS) != 0;
    for (size_t l = 1; l <= net->n_layers; l++) {
        pcmup_layer_scale s = pcmup__param_scale(net->param, l, net->widths);
        pcmup__dense_init(&net->layers[l - 1], net->widths[l - 1], net->widths[l],
                          (float)s.multiplier, bias, block);
        net->lr_factor[l - 1] = s.lr_factor;
        block += net->layers[l - 1].n_params;
    }
}

pcmup_status pcmup_net_create(pcmup_net **out, const size_t *widths, size_t n_widths,
                              pcmup_activation activation, unsigned flags,
                              const pcmup_param *param, uint64_t seed,
                              const pcmup_allocator *allocator)
{
    PCMUP_CHECK_NULL(out);
    PCMUP_CHECK_NULL(widths);
    PCMUP_CHECK_NULL(param);
    PCMUP_TRY(pcmup__check_widths(param, widths, n_widths, __func__));
    const size_t n_layers = n_widths - 1;
    if (!pcmup__act_valid(activation))
        return pcmup__fail(PCMUP_ERR_INVALID, __func__, "unknown activation %d",
                           (int)activation);
    if (flags & ~PCMUP_NET_BIAS)
        return pcmup__fail(PCMUP_ERR_INVALID, __func__, "unknown flags 0x%x",
                           flags & ~PCMUP_NET_BIAS);
    PCMUP_TRY(pcmup__allocator_check(allocator, __func__));
    size_t n_params = 0;
    PCMUP_TRY(count_params(n_layers, widths, (flags & PCMUP_NET_BIAS) != 0, &n_params,
                           __func__));

    pcmup_allocator alloc;
    pcmup__allocator_init(&alloc, allocator);
    pcmup_net *net = pcmup__alloc_zero(&alloc, 1, sizeof *net);
    if (!net)
        return pcmup__fail(PCMUP_ERR_NOMEM, __func__, "cannot allocate the network");
    net->alloc = alloc;
    net->n_layers = n_layers;
    net->activation = activation;
    net->flags = flags;
    net->n_params = n_params;
    net->widths = pcmup__alloc(&alloc, n_layers + 1, sizeof *net->widths);
    net->layers = pcmup__alloc_zero(&alloc, n_layers, sizeof *net->layers);
    net->lr_factor = pcmup__alloc(&alloc, n_layers, sizeof *net->lr_factor);
    net->params = pcmup__alloc(&alloc, n_params, sizeof *net->params);
    /* The net's copy of the parameterization uses the net's allocator. */
    pcmup_param *copy = NULL;
    if (pcmup_param_create(&copy, n_layers, PCMUP_PRESET_SP, &alloc) == PCMUP_OK)
        net->param = copy;
    if (!net->widths || !net->layers || !net->lr_factor || !net->params || !net->param) {
        net_destroy(net);
        return pcmup__fail(PCMUP_ERR_NOMEM, __func__, "cannot allocate %zu parameters",
                           n_params);
    }
    pcmup__param_copy(net->param, param);
    memcpy(net->widths, widths, (n_layers + 1) * sizeof *widths);
    wire_layers(net);
    pcmup_net_init_weights(net, seed);
    *out = net;
    return PCMUP_OK;
}

void pcmup_net_free(pcmup_net *net)
{
    if (net)
        net_destroy(net);
}

pcmup_status pcmup_net_init_weights(pcmup_net *net, uint64_t seed)
{
    PCMUP_CHECK_NULL(net);
    pcmup_rng rng;
    pcmup__rng_seed(&rng, seed);
    net->seed = seed;
    net->generation++;
    for (size_t l = 1; l <= net->n_layers; l++) {
        pcmup_layer *layer = &net->layers[l - 1];
        double std = pcmup__param_scale(net->param, l, net->widths).init_std;
        size_t n_w = layer->n_in * layer->n_out;
        for (size_t i = 0; i < n_w; i++)
            layer->params[i] = (float)(std * pcmup__rng_normal(&rng));
        for (size_t i = n_w; i < layer->n_params; i++)
            layer->params[i] = 0.0f;
    }
    return PCMUP_OK;
}

pcmup_status pcmup_net_param(const pcmup_net *net, const pcmup_param **param)
{
    PCMUP_CHECK_NULL(net);
    PCMUP_CHECK_NULL(param);
    *param = net->param;
    return PCMUP_OK;
}

pcmup_status pcmup_net_n_layers(const pcmup_net *net, size_t *n_layers)
{
    PCMUP_CHECK_NULL(net);
    PCMUP_CHECK_NULL(n_layers);
    *n_layers = net->n_layers;
    return PCMUP_OK;
}

static pcmup_status check_layer_index(const pcmup_net *net, size_t layer, const char *func)
{
    if (layer < 1 || layer > net->n_layers)
        return pcmup__fail(PCMUP_ERR_INVALID, func, "layer %zu is outside [1, %zu]", layer,
                           net->n_layers);
    return PCMUP_OK;
}

pcmup_status pcmup_net_layer_shape(const pcmup_net *net, size_t layer, size_t *out,
                                   size_t *in)
{
    PCMUP_CHECK_NULL(net);
    PCMUP_CHECK_NULL(out);
    PCMUP_CHECK_NULL(in);
    PCMUP_TRY(check_layer_index(net, layer, __func__));
    *out = net->widths[layer];
    *in = net->widths[layer - 1];
    return PCMUP_OK;
}

pcmup_status pcmup_net_param_count(const pcmup_net *net, size_t *count)
{
    PCMUP_CHECK_NULL(net);
    PCMUP_CHECK_NULL(count);
    *count = net->n_params;
    return PCMUP_OK;
}

pcmup_status pcmup_net_layer_factors(const pcmup_net *net, size_t layer, double *dst,
                                     size_t count)
{
    PCMUP_CHECK_NULL(net);
    return pcmup__param_factors(net->param, net->widths, layer, dst, count, __func__);
}

/* Checks the caller's array length against what the layer holds. */
static pcmup_status check_count(const pcmup_net *net, size_t layer, size_t want, size_t count,
                                const char *what, const char *func)
{
    if (count != want)
        return pcmup__fail(PCMUP_ERR_SHAPE, func, "layer %zu: %s count %zu does not match %zu",
                           layer, what, count, want);
    (void)net;
    return PCMUP_OK;
}

pcmup_status pcmup__check_finite(const float *v, size_t n, size_t layer, const char *func)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return pcmup__fail(PCMUP_ERR_INVALID, func, "layer %zu: value %zu is not finite",
                               layer, i);
    return PCMUP_OK;
}

pcmup_status pcmup_net_get_weights(const pcmup_net *net, size_t layer, float *dst,
                                   size_t count)
{
    PCMUP_CHECK_NULL(net);
    PCMUP_CHECK_NULL(dst);
    PCMUP_TRY(check_layer_index(net, layer, __func__));
    const pcmup_layer *ly = &net->layers[layer - 1];
    size_t n = ly->n_in * ly->n_out;
    PCMUP_TRY(check_count(net, layer, n, count, "weight", __func__));
    for (size_t i = 0; i < n; i++)
        dst[i] = ly->multiplier * ly->params[i];
    return PCMUP_OK;
}

pcmup_status pcmup_net_set_weights(pcmup_net *net, size_t layer, const float *src,
                                   size_t count)
{
    PCMUP_CHECK_NULL(net);
    PCMUP_CHECK_NULL(src);
    PCMUP_TRY(check_layer_index(net, layer, __func__));
    pcmup_layer *ly = &net->layers[layer - 1];
    size_t n = ly->n_in * ly->n_out;
    PCMUP_TRY(check_count(net, layer, n, count, "weight", __func__));
    PCMUP_TRY(pcmup__check_finite(src, n, layer, __func__));
    /* A small multiplier can push a finite W past FLT_MAX once divided. */
    for (size_t i = 0; i < n; i++)
        if (!isfinite(src[i] / ly->multiplier))
            return pcmup__fail(PCMUP_ERR_INVALID, __func__,
                               "layer %zu: value %zu (%g) / multiplier %g overflows a float",
                               layer, i, src[i], ly->multiplier);
    for (size_t i = 0; i < n; i++)
        ly->params[i] = src[i] / ly->multiplier;
    return PCMUP_OK;
}

static pcmup_status bias_of(const pcmup_net *net, size_t layer, size_t count, float **bias,
                            const char *func)
{
    PCMUP_TRY(check_layer_index(net, layer, func));
    const pcmup_layer *ly = &net->layers[layer - 1];
    if (!ly->has_bias)
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, func,
                           "the network was created without PCMUP_NET_BIAS");
    PCMUP_TRY(check_count(net, layer, ly->n_out, count, "bias", func));
    *bias = ly->params + ly->n_in * ly->n_out;
    return PCMUP_OK;
}

pcmup_status pcmup_net_get_bias(const pcmup_net *net, size_t layer, float *dst, size_t count)
{
    PCMUP_CHECK_NULL(net);
    PCMUP_CHECK_NULL(dst);
    float *bias = NULL;
    PCMUP_TRY(bias_of(net, layer, count, &bias, __func__));
    memcpy(dst, bias, count * sizeof *dst);
    return PCMUP_OK;
}

pcmup_status pcmup_net_set_bias(pcmup_net *net, size_t layer, const float *src, size_t count)
{
    PCMUP_CHECK_NULL(net);
    PCMUP_CHECK_NULL(src);
    float *bias = NULL;
    PCMUP_TRY(bias_of(net, layer, count, &bias, __func__));
    PCMUP_TRY(pcmup__check_finite(src, count, layer, __func__));
    memcpy(bias, src, count * sizeof *src);
    return PCMUP_OK;
}

size_t pcmup__net_max_width(const pcmup_net *net)
{
    size_t m = 0;
    for (size_t l = 1; l <= net->n_layers; l++)
        if (net->widths[l] > m)
            m = net->widths[l];
    return m;
}

pcmup_status pcmup__net_check_batch(const pcmup_net *net, const float *x, size_t x_count,
                                    size_t batch, const char *name, const char *func)
{
    if (!x)
        return pcmup__fail(PCMUP_ERR_NULL, func, "%s is NULL", name);
    if (batch < 1 || batch > PCMUP_MAX_DIM)
        return pcmup__fail(PCMUP_ERR_INVALID, func, "batch %zu is outside [1, %zu]", batch,
                           PCMUP_MAX_DIM);
    char count_name[32];
    snprintf(count_name, sizeof count_name, "%s_count", name);
    PCMUP_TRY(pcmup__check_count(x_count, batch, net->widths[0], count_name, func));
    int overflow = 0;
    size_t widest = net->widths[0] > pcmup__net_max_width(net) ? net->widths[0]
                                                                : pcmup__net_max_width(net);
    pcmup__mul(pcmup__mul(batch, widest, &overflow), 2 * sizeof(float), &overflow);
    if (overflow)
        return pcmup__fail(PCMUP_ERR_INVALID, func, "batch %zu is too large for this network",
                           batch);
    size_t n = batch * net->widths[0];
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return pcmup__fail(PCMUP_ERR_INVALID, func, "%s[%zu][%zu] is not finite", name,
                               i / net->widths[0], i % net->widths[0]);
    return PCMUP_OK;
}

/* Layer l's forward: pre-activation into out, then phi in place if l < L
 * and the caller wants the post-activation. */
static void layer_forward(const pcmup_net *net, size_t l, const float *in, size_t batch,
                          float *out, int post)
{
    const pcmup_layer *ly = &net->layers[l - 1];
    ly->ops->forward(ly, in, batch, out);
    if (post && l < net->n_layers)
        pcmup__act_forward(net->activation, out, out, batch * ly->n_out);
}

void pcmup__net_forward_all(const pcmup_net *net, const float *x, size_t batch,
                            float *const *acts)
{
    const float *in = x;
    for (size_t l = 1; l <= net->n_layers; l++) {
        layer_forward(net, l, in, batch, acts[l - 1], 1);
        in = acts[l - 1];
    }
}

void pcmup__net_set_gemm_log(pcmup_net *net, pcmup__gemm_log *log)
{
    for (size_t l = 1; l <= net->n_layers; l++)
        net->layers[l - 1].gemm_log = log;
}

/* Two ping-pong buffers of batch * max width floats. */
static pcmup_status reserve_work(pcmup_net *net, size_t batch, const char *func)
{
    size_t need = 2 * batch * pcmup__net_max_width(net);
    if (need <= net->work_cap)
        return PCMUP_OK;
    float *w = net->alloc.realloc_fn(net->alloc.user, net->work, need * sizeof(float));
    if (!w)
        return pcmup__fail(PCMUP_ERR_NOMEM, func, "cannot allocate %zu floats of scratch",
                           need);
    net->work = w;
    net->work_cap = need;
    return PCMUP_OK;
}

/* Runs layers 1..upto, leaving layer `upto`'s output in out. */
static void forward_to(pcmup_net *net, const float *x, size_t batch, size_t upto, int post,
                       float *out)
{
    float *buf[2] = {net->work, net->work + batch * pcmup__net_max_width(net)};
    const float *in = x;
    for (size_t l = 1; l < upto; l++) {
        float *dst = buf[l % 2];
        layer_forward(net, l, in, batch, dst, 1);
        in = dst;
    }
    layer_forward(net, upto, in, batch, out, post);
}

pcmup_status pcmup_net_forward(pcmup_net *net, const float *x, size_t x_count, size_t batch,
                               float *out, size_t out_count)
{
    PCMUP_CHECK_NULL(net);
    PCMUP_CHECK_NULL(out);
    PCMUP_TRY(pcmup__net_check_batch(net, x, x_count, batch, "x", __func__));
    PCMUP_TRY(pcmup__check_count(out_count, batch, net->widths[net->n_layers], "out_count",
                                 __func__));
    PCMUP_TRY(reserve_work(net, batch, __func__));
    forward_to(net, x, batch, net->n_layers, 1, out);
    return PCMUP_OK;
}

pcmup_status pcmup_net_forward_layer(pcmup_net *net, const float *x, size_t x_count,
                                     size_t batch, size_t layer, pcmup_signal signal,
                                     float *out, size_t out_count)
{
    PCMUP_CHECK_NULL(net);
    PCMUP_CHECK_NULL(out);
    PCMUP_TRY(check_layer_index(net, layer, __func__));
    if (signal != PCMUP_SIGNAL_PRE && signal != PCMUP_SIGNAL_POST)
        return pcmup__fail(PCMUP_ERR_INVALID, __func__, "unknown signal %d", (int)signal);
    PCMUP_TRY(pcmup__net_check_batch(net, x, x_count, batch, "x", __func__));
    PCMUP_TRY(pcmup__check_count(out_count, batch, net->widths[layer], "out_count", __func__));
    PCMUP_TRY(reserve_work(net, batch, __func__));
    forward_to(net, x, batch, layer, signal == PCMUP_SIGNAL_POST, out);
    return PCMUP_OK;
}
