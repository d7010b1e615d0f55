/* SPDX-License-Identifier: MIT */
/*
 * bp.c -- backpropagation: the exact gradient of the batch-mean loss,
 * applied by SGD: the baseline every other rule is compared with (its muP
 * is Yang & Hu 2021's; docs/parameterization.md, section 5).
 *
 *   delta_L = dl/df;   delta_l = phi'(u_l) * (W_{l+1}^T delta_{l+1})
 * (with pooling, delta_l = g_l'(u_l)^T (A_{l+1}^T delta_{l+1}), layer.h)
 *   W_l -= eta_l (1/B) delta_l^T h_{l-1}
 *
 * Every layer's update comes from the same forward pass: layer l's
 * input-VJP runs before layer l's weights move.
 */
#include "algo.h"

#include <math.h>

static pcmup_status bp_step(pcmup_algo *algo, const float *x, const int32_t *labels,
                            size_t batch, double *loss_out, const char *func)
{
    pcmup_net *net = algo->net;
    const size_t n_layers = net->n_layers;
    pcmup__net_forward_all(net, x, batch, algo->acts, algo->phis);
    float *delta = algo->delta[0], *delta_below = algo->delta[1];
    double loss = pcmup__algo_loss_grad(algo, labels, batch, delta);
    if (!isfinite(loss))
        return pcmup__fail(PCMUP_ERR_DIVERGED, func,
                           "the loss is %g before the step; weights left unchanged", loss);
    for (size_t l = n_layers; l >= 1; l--) {
        const pcmup_layer *layer = &net->layers[l - 1];
        const float *in = l > 1 ? algo->acts[l - 2] : x;
        if (l > 1) {
            /* dh_{l-1} = A_l^T delta_l, then delta_{l-1} = g_{l-1}'^T dh. */
            const pcmup_layer *below = &net->layers[l - 2];
            float *dh = pcmup__layer_pools(below) ? algo->delta[2] : delta_below;
            layer->ops->input_vjp(layer, delta, batch, dh);
            pcmup__layer_post_vjp(below, algo->phis[l - 2], dh, batch, delta_below);
        }
        pcmup__algo_descend(algo, l, delta, in, batch);
        float *t = delta;
        delta = delta_below;
        delta_below = t;
    }
    if (loss_out)
        *loss_out = loss;
    return PCMUP_OK;
}

/* BP keeps nothing between steps: no state hooks. */
const pcmup_rule_ops pcmup__rule_bp = {
    .id = PCMUP_RULE_BP,
    .name = "bp",
    .data_parallel = 1,
    .step = bp_step,
};
