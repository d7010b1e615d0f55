/* SPDX-License-Identifier: MIT */
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

/* ---- building ------------------------------------------------------------
 * Both ways to make a network -- pcmup_net_create's widths and a
 * description (net_builder.c) -- first set up every layer's shapes with no
 * memory behind them (net_alloc, then init_mlp_layers or init_desc_layers),
 * then net_finish counts the parameters, allocates them and the conv
 * scratch in one place, and draws the weights. */

static void net_destroy(pcmup_net *net)
{
    pcmup_allocator alloc = net->alloc;
    pcmup_param_free(net->param);
    pcmup__free(&alloc, net->widths);
    pcmup__free(&alloc, net->scale_widths);
    pcmup__free(&alloc, net->layers);
    pcmup__free(&alloc, net->lr_factor);
    pcmup__free(&alloc, net->params);
    pcmup__free(&alloc, net->work);
    pcmup__free(&alloc, net->conv_work);
    pcmup__free(&alloc, net->desc);
    pcmup__free(&alloc, net);
}

/* A network of n_layers layers with its arrays but no parameters yet. */
static pcmup_status net_alloc(pcmup_net **out, size_t n_layers, pcmup_activation activation,
                              unsigned flags, const pcmup_param *param,
                              const pcmup_allocator *allocator, const char *func)
{
    pcmup_allocator alloc;
    pcmup__allocator_init(&alloc, allocator);
    pcmup_net *net = pcmup__alloc_zero(&alloc, 1, sizeof *net);
    if (!net)
        return pcmup__fail(PCMUP_ERR_NOMEM, func, "cannot allocate the network");
    net->alloc = alloc;
    net->n_layers = n_layers;
    net->activation = activation;
    net->flags = flags;
    net->widths = pcmup__alloc(&alloc, n_layers + 1, sizeof *net->widths);
    net->scale_widths = pcmup__alloc(&alloc, n_layers + 1, sizeof *net->scale_widths);
    net->layers = pcmup__alloc_zero(&alloc, n_layers, sizeof *net->layers);
    net->lr_factor = pcmup__alloc(&alloc, n_layers, sizeof *net->lr_factor);
    /* The net's copy of the parameterization uses the net's allocator. */
    pcmup_param *copy = NULL;
    if (pcmup_param_create(&copy, n_layers, PCMUP_PRESET_SP, &alloc) == PCMUP_OK)
        net->param = copy;
    if (!net->widths || !net->scale_widths || !net->layers || !net->lr_factor || !net->param) {
        net_destroy(net);
        return pcmup__fail(PCMUP_ERR_NOMEM, func, "cannot allocate the network");
    }
    pcmup__param_copy(net->param, param);
    *out = net;
    return PCMUP_OK;
}

/* pcmup_net_create's layers: dense, `activation` on every hidden layer. */
static pcmup_status init_mlp_layers(pcmup_net *net, const size_t *widths, const char *func)
{
    const int bias = (net->flags & PCMUP_NET_BIAS) != 0;
    const size_t L = net->n_layers;
    for (size_t l = 1; l <= L; l++) {
        int overflow = 0;
        pcmup__mul(widths[l], widths[l - 1], &overflow);
        if (overflow)
            return pcmup__fail(PCMUP_ERR_INVALID, func, "layer %zu: %zu x %zu is too large", l,
                               widths[l], widths[l - 1]);
        pcmup_layer *ly = &net->layers[l - 1];
        pcmup__dense_init(ly, widths[l - 1], widths[l], 1.0f, bias, NULL);
        pcmup__layer_set_post(ly, l < L ? net->activation : PCMUP_ACT_IDENTITY,
                              PCMUP__POOL_NONE);
    }
    memcpy(net->widths, widths, (L + 1) * sizeof *widths);
    memcpy(net->scale_widths, widths, (L + 1) * sizeof *widths);
    net->is_mlp = 1;
    return PCMUP_OK;
}

_Static_assert((int)PCMUP__POOL_MAX2 == (int)PCMUP__NETDESC_POOL_MAX &&
                   (int)PCMUP__POOL_AVG2 == (int)PCMUP__NETDESC_POOL_AVG,
               "one numbering of the pools");

/* A described network's layers, from the resolved shapes. */
static void init_desc_layers(pcmup_net *net, const pcmup__netdesc *d,
                             const pcmup__netdesc_shape *shapes)
{
    const int bias = (net->flags & PCMUP_NET_BIAS) != 0;
    const size_t L = net->n_layers;
    net->widths[0] = shapes[0].n_in;
    net->scale_widths[0] = shapes[0].n_in;
    int is_mlp = 1;
    for (size_t l = 1; l <= L; l++) {
        const pcmup__netdesc_layer *dl = &d->layers[l - 1];
        const pcmup__netdesc_shape *s = &shapes[l - 1];
        pcmup_layer *ly = &net->layers[l - 1];
        if (dl->kind == PCMUP__NETDESC_CONV)
            pcmup__conv_init(ly, s->c_in, s->h_in, s->w_in, s->c_out, dl->k, dl->stride,
                             dl->pad, 1.0f, bias, NULL, NULL);
        else
            pcmup__dense_init(ly, s->n_in, s->n_out, 1.0f, bias, NULL);
        pcmup_activation act = l < L ? s->activation : PCMUP_ACT_IDENTITY;
        pcmup__layer_set_post(ly, act, (pcmup__pool)dl->pool);
        net->widths[l] = ly->n_post;
        net->scale_widths[l] = l < L ? net->width_m : ly->n_out;
        if (dl->kind != PCMUP__NETDESC_DENSE || (l < L && act != net->activation))
            is_mlp = 0;
    }
    net->is_mlp = is_mlp;
}

/* Sums the layers' parameters, failing if the total (in floats and in
 * bytes) does not fit in size_t. */
static pcmup_status count_params(const pcmup_net *net, size_t *total, const char *func)
{
    int overflow = 0;
    size_t sum = 0;
    for (size_t l = 1; l <= net->n_layers; l++) {
        size_t n = net->layers[l - 1].n_params;
        overflow |= sum + n < sum;
        sum += n;
    }
    pcmup__mul(sum, sizeof(float), &overflow);
    if (overflow)
        return pcmup__fail(PCMUP_ERR_INVALID, func, "the parameters do not fit in memory");
    *total = sum;
    return PCMUP_OK;
}

/* The parameters, the conv scratch, each layer's scales, then the weights. */
static pcmup_status net_finish(pcmup_net *net, uint64_t seed, const char *func)
{
    PCMUP_TRY(count_params(net, &net->n_params, func));
    size_t conv_floats = 0;
    for (size_t l = 1; l <= net->n_layers; l++) {
        const pcmup_layer *ly = &net->layers[l - 1];
        size_t n = ly->conv.k ? pcmup__conv_workspace_floats(ly) : 0;
        conv_floats = n > conv_floats ? n : conv_floats;
    }
    net->params = pcmup__alloc(&net->alloc, net->n_params, sizeof *net->params);
    if (conv_floats)
        net->conv_work = pcmup__alloc(&net->alloc, conv_floats, sizeof(float));
    if (!net->params || (conv_floats && !net->conv_work))
        return pcmup__fail(PCMUP_ERR_NOMEM, func, "cannot allocate %zu parameters",
                           net->n_params);
    float *block = net->params;
    for (size_t l = 1; l <= net->n_layers; l++) {
        pcmup_layer *ly = &net->layers[l - 1];
        pcmup_layer_scale s = pcmup__param_scale(net->param, l, net->scale_widths,
                                                 pcmup__layer_fan_in(ly));
        ly->multiplier = (float)s.multiplier;
        ly->params = block;
        ly->workspace = ly->conv.k ? net->conv_work : NULL;
        net->lr_factor[l - 1] = s.lr_factor;
        block += ly->n_params;
    }
    pcmup_net_init_weights(net, seed);
    return PCMUP_OK;
}

static pcmup_status check_flags(pcmup_activation activation, unsigned flags, const char *func)
{
    if (!pcmup__act_valid(activation))
        return pcmup__fail(PCMUP_ERR_INVALID, func, "unknown activation %d", (int)activation);
    if (flags & ~PCMUP_NET_BIAS)
        return pcmup__fail(PCMUP_ERR_INVALID, func, "unknown flags 0x%x",
                           flags & ~PCMUP_NET_BIAS);
    return PCMUP_OK;
}

static pcmup_status create_mlp(pcmup_net **out, const size_t *widths, size_t n_widths,
                               pcmup_activation activation, unsigned flags,
                               const pcmup_param *param, uint64_t seed,
                               const pcmup_allocator *allocator, const char *func)
{
    PCMUP_TRY(pcmup__check_widths(param, widths, n_widths, func));
    PCMUP_TRY(check_flags(activation, flags, func));
    PCMUP_TRY(pcmup__allocator_check(allocator, func));
    pcmup_net *net = NULL;
    PCMUP_TRY(net_alloc(&net, n_widths - 1, activation, flags, param, allocator, func));
    pcmup_status s = init_mlp_layers(net, widths, func);
    if (s == PCMUP_OK)
        s = net_finish(net, seed, func);
    if (s != PCMUP_OK) {
        net_destroy(net);
        return s;
    }
    *out = net;
    return PCMUP_OK;
}

pcmup_status pcmup_net_create(pcmup_net **out, const size_t *widths, size_t n_widths,
                              pcmup_activation activation, unsigned flags,
                              const pcmup_param *param, uint64_t seed,
                              const pcmup_allocator *allocator)
{
    PCMUP_CHECK_NULL(out);
    PCMUP_CHECK_NULL(widths);
    PCMUP_CHECK_NULL(param);
    return create_mlp(out, widths, n_widths, activation, flags, param, seed, allocator,
                      __func__);
}

pcmup_status pcmup__net_create_desc(pcmup_net **out, const pcmup__netdesc *d, size_t c,
                                    size_t h, size_t w, size_t width,
                                    pcmup_activation activation, unsigned flags,
                                    const pcmup_param *param, uint64_t seed,
                                    const pcmup_allocator *allocator, const char *func)
{
    PCMUP_TRY(check_flags(activation, flags, func));
    PCMUP_TRY(pcmup__allocator_check(allocator, func));
    size_t n_layers = 0;
    PCMUP_TRY(pcmup_param_n_layers(param, &n_layers));
    if (n_layers != d->n_layers)
        return pcmup__fail(PCMUP_ERR_SHAPE, func,
                           "the description has %zu layers, the parameterization %zu",
                           d->n_layers, n_layers);
    pcmup__netdesc_shape shapes[PCMUP__NETDESC_MAX_LAYERS];
    PCMUP_TRY(pcmup__netdesc_resolve(d, c, h, w, width, activation, shapes,
                                     PCMUP__NETDESC_MAX_LAYERS, func));
    pcmup_net *net = NULL;
    PCMUP_TRY(net_alloc(&net, d->n_layers, activation, flags, param, allocator, func));
    net->desc = pcmup__alloc(&net->alloc, 1, sizeof *net->desc);
    pcmup_status s = PCMUP_OK;
    if (!net->desc) {
        s = pcmup__fail(PCMUP_ERR_NOMEM, func, "cannot allocate the network");
    } else {
        *net->desc = *d;
        net->input_c = c, net->input_h = h, net->input_w = w, net->width_m = width;
        init_desc_layers(net, d, shapes);
        s = net_finish(net, seed, func);
    }
    if (s != PCMUP_OK) {
        net_destroy(net);
        return s;
    }
    *out = net;
    return PCMUP_OK;
}

pcmup_status pcmup__net_create_like(const pcmup_net *proto, size_t width, uint64_t seed,
                                    const pcmup_allocator *alloc, pcmup_net **out,
                                    const char *func)
{
    if (proto->desc)
        return pcmup__net_create_desc(out, proto->desc, proto->input_c, proto->input_h,
                                      proto->input_w, width, proto->activation, proto->flags,
                                      proto->param, seed, alloc, func);
    const size_t L = proto->n_layers;
    size_t *widths = pcmup__alloc(alloc, L + 1, sizeof *widths);
    if (!widths)
        return pcmup__fail(PCMUP_ERR_NOMEM, func, "cannot allocate %zu widths", L + 1);
    widths[0] = proto->widths[0];
    for (size_t l = 1; l < L; l++)
        widths[l] = width;
    widths[L] = proto->widths[L];
    pcmup_status s = create_mlp(out, widths, L + 1, proto->activation, proto->flags,
                                proto->param, seed, alloc, func);
    pcmup__free(alloc, widths);
    return s;
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
        double std = pcmup__param_scale(net->param, l, net->scale_widths,
                                        pcmup__layer_fan_in(layer))
                         .init_std;
        size_t n_w = pcmup__layer_weight_count(layer);
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
    *out = net->layers[layer - 1].n_out;
    *in = net->layers[layer - 1].n_in;
    return PCMUP_OK;
}

pcmup_status pcmup_net_weight_shape(const pcmup_net *net, size_t layer, size_t *dims,
                                    size_t capacity, size_t *rank)
{
    PCMUP_CHECK_NULL(net);
    PCMUP_CHECK_NULL(rank);
    PCMUP_TRY(check_layer_index(net, layer, __func__));
    const pcmup_layer *ly = &net->layers[layer - 1];
    const pcmup__conv_geom *g = &ly->conv;
    size_t shape[4] = {ly->n_out, ly->n_in, 0, 0};
    size_t n = 2;
    if (g->k) {
        shape[0] = g->c_out, shape[1] = g->c_in, shape[2] = g->k, shape[3] = g->k;
        n = 4;
    }
    if (capacity > 0 && !dims)
        return pcmup__fail(PCMUP_ERR_NULL, __func__, "dims is NULL");
    for (size_t i = 0; i < n && i < capacity; i++)
        dims[i] = shape[i];
    *rank = n;
    return PCMUP_OK;
}

pcmup_status pcmup_net_input_shape(const pcmup_net *net, size_t *channels, size_t *height,
                                   size_t *width)
{
    PCMUP_CHECK_NULL(net);
    PCMUP_CHECK_NULL(channels);
    PCMUP_CHECK_NULL(height);
    PCMUP_CHECK_NULL(width);
    const int described = net->desc != NULL;
    *channels = described ? net->input_c : net->widths[0];
    *height = described ? net->input_h : 1;
    *width = described ? net->input_w : 1;
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
    size_t fan_in = layer >= 1 && layer <= net->n_layers
                        ? pcmup__layer_fan_in(&net->layers[layer - 1]) : 0;
    return pcmup__param_factors(net->param, net->scale_widths, fan_in, layer, dst, count,
                                __func__);
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
    size_t n = pcmup__layer_weight_count(ly);
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
    size_t n = pcmup__layer_weight_count(ly);
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
    const size_t n_w = pcmup__layer_weight_count(ly);
    PCMUP_TRY(check_count(net, layer, ly->n_params - n_w, count, "bias", func));
    *bias = ly->params + n_w;
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
        if (net->layers[l - 1].n_out > m)
            m = net->layers[l - 1].n_out;
    return m;
}

int pcmup__net_pools(const pcmup_net *net)
{
    for (size_t l = 1; l <= net->n_layers; l++)
        if (pcmup__layer_pools(&net->layers[l - 1]))
            return 1;
    return 0;
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
    if (pcmup__k_all_finite(x, n)) /* the vectorised test; the loop below names the culprit */
        return PCMUP_OK;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return pcmup__fail(PCMUP_ERR_INVALID, func, "%s[%zu][%zu] is not finite", name,
                               i / net->widths[0], i % net->widths[0]);
    return PCMUP_OK;
}

void pcmup__net_layer_forward(const pcmup_net *net, size_t l, const float *in, size_t batch,
                              float *a, float *h)
{
    const pcmup_layer *ly = &net->layers[l - 1];
    ly->ops->forward(ly, in, batch, a);
    if (l < net->n_layers)
        pcmup__layer_post(ly, a, batch, a, h);
}

void pcmup__net_forward_all(const pcmup_net *net, const float *x, size_t batch,
                            float *const *acts, float *const *phis)
{
    const float *in = x;
    for (size_t l = 1; l <= net->n_layers; l++) {
        float *h = acts[l - 1];
        float *a = pcmup__layer_pools(&net->layers[l - 1]) ? phis[l - 1] : h;
        pcmup__net_layer_forward(net, l, in, batch, a, h);
        in = h;
    }
}

void pcmup__net_set_gemm_log(pcmup_net *net, pcmup__gemm_log *log)
{
    for (size_t l = 1; l <= net->n_layers; l++)
        net->layers[l - 1].gemm_log = log;
}

/* Three buffers of batch * max width floats: two for the layer outputs
 * in turn, one for a pooling layer's phi(u). */
static pcmup_status reserve_work(pcmup_net *net, size_t batch, const char *func)
{
    size_t need = 3 * batch * pcmup__net_max_width(net);
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

/* Runs layers 1..upto, leaving layer `upto`'s output (post = 1) or
 * pre-activation (post = 0) in out. */
static void forward_to(pcmup_net *net, const float *x, size_t batch, size_t upto, int post,
                       float *out)
{
    const size_t n = batch * pcmup__net_max_width(net);
    float *buf[2] = {net->work, net->work + n}, *phi = net->work + 2 * n;
    const float *in = x;
    for (size_t l = 1; l <= upto; l++) {
        const pcmup_layer *ly = &net->layers[l - 1];
        float *h = l == upto ? out : buf[l % 2];
        if (l == upto && !post) {
            ly->ops->forward(ly, in, batch, out);
            break;
        }
        pcmup__net_layer_forward(net, l, in, batch, pcmup__layer_pools(ly) ? phi : h, h);
        in = h;
    }
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
    const int post = signal == PCMUP_SIGNAL_POST;
    const size_t per_sample = post ? net->widths[layer] : net->layers[layer - 1].n_out;
    PCMUP_TRY(pcmup__check_count(out_count, batch, per_sample, "out_count", __func__));
    PCMUP_TRY(reserve_work(net, batch, __func__));
    forward_to(net, x, batch, layer, post, out);
    return PCMUP_OK;
}
