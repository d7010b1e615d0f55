/* SPDX-License-Identifier: MIT */
/*
 * post.c -- g = P o phi, the parameter-free map after a layer's linear
 * part: the activation, then 2x2 pooling or nothing (layer.h). Every rule
 * goes through these two functions, so a rule written for dense layers
 * runs on convolutions with pooling unchanged.
 */
#include "layers/layer.h"

#include "layers/activation.h"
#include "layers/pool.h"

#include <assert.h>

void pcmup__layer_set_post(pcmup_layer *layer, pcmup_activation activation, pcmup__pool pool)
{
    assert(pool == PCMUP__POOL_NONE || layer->conv.k > 0);
    layer->activation = activation;
    layer->pool = pool;
    layer->n_post = pool == PCMUP__POOL_NONE ? layer->n_out : layer->n_out / 4;
}

int pcmup__layer_pools(const pcmup_layer *layer)
{
    return layer->pool != PCMUP__POOL_NONE;
}

void pcmup__layer_post(const pcmup_layer *layer, const float *pre, size_t batch, float *a,
                       float *h)
{
    pcmup__act_forward(layer->activation, pre, a, batch * layer->n_out);
    const pcmup__conv_geom *g = &layer->conv;
    switch (layer->pool) {
    case PCMUP__POOL_NONE:
        assert(h == a);
        break;
    case PCMUP__POOL_MAX2:
        pcmup__maxpool2_forward(a, batch, g->c_out, g->h_out, g->w_out, h);
        break;
    case PCMUP__POOL_AVG2:
        pcmup__avgpool2_forward(a, batch, g->c_out, g->h_out, g->w_out, h);
        break;
    }
}

void pcmup__layer_post_vjp(const pcmup_layer *layer, const float *a, const float *dh,
                           size_t batch, float *dpre)
{
    const pcmup__conv_geom *g = &layer->conv;
    switch (layer->pool) {
    case PCMUP__POOL_NONE:
        if (dpre != dh)
            for (size_t i = 0; i < batch * layer->n_out; i++)
                dpre[i] = dh[i];
        break;
    case PCMUP__POOL_MAX2:
        pcmup__maxpool2_vjp(a, dh, batch, g->c_out, g->h_out, g->w_out, dpre);
        break;
    case PCMUP__POOL_AVG2:
        pcmup__avgpool2_vjp(dh, batch, g->c_out, g->h_out, g->w_out, dpre);
        break;
    }
    pcmup__act_backward_from_post(layer->activation, a, dpre, batch * layer->n_out);
}

size_t pcmup__layer_weight_count(const pcmup_layer *layer)
{
    size_t bias = !layer->has_bias ? 0 : layer->conv.k ? layer->conv.c_out : layer->n_out;
    return layer->n_params - bias;
}

size_t pcmup__layer_fan_in(const pcmup_layer *layer)
{
    const pcmup__conv_geom *g = &layer->conv;
    return g->k ? g->c_in * g->k * g->k : layer->n_in;
}
