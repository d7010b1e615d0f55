/* SPDX-License-Identifier: MIT */
/*
 * activation.c -- tanh, relu and identity.
 */
#include "layers/activation.h"

#include <string.h>

/* tanh is the costly one: its loops are compiled per vector width. */
static PCMUP_VECTOR_CLONES void tanh_forward(const float *u, float *h, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h[i] = pcmup__act_value(PCMUP_ACT_TANH, u[i]);
}

static PCMUP_VECTOR_CLONES void tanh_backward_from_post(const float *h, float *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        d[i] = pcmup__act_slope_times(PCMUP_ACT_TANH, h[i], d[i]);
}

void pcmup__act_forward(pcmup_activation act, const float *u, float *h, size_t n)
{
    switch (act) {
    case PCMUP_ACT_TANH:
        tanh_forward(u, h, n);
        break;
    case PCMUP_ACT_RELU:
        for (size_t i = 0; i < n; i++)
            h[i] = pcmup__act_value(PCMUP_ACT_RELU, u[i]);
        break;
    case PCMUP_ACT_IDENTITY:
        if (h != u)
            memcpy(h, u, n * sizeof *h);
        break;
    }
}

void pcmup__act_backward_from_post(pcmup_activation act, const float *h, float *d, size_t n)
{
    switch (act) {
    case PCMUP_ACT_TANH:
        tanh_backward_from_post(h, d, n);
        break;
    case PCMUP_ACT_RELU:
        for (size_t i = 0; i < n; i++)
            d[i] = pcmup__act_slope_times(PCMUP_ACT_RELU, h[i], d[i]);
        break;
    case PCMUP_ACT_IDENTITY:
        break;
    }
}

int pcmup__act_valid(pcmup_activation act)
{
    return act == PCMUP_ACT_TANH || act == PCMUP_ACT_RELU || act == PCMUP_ACT_IDENTITY;
}

const char *pcmup__act_name(pcmup_activation act)
{
    switch (act) {
    case PCMUP_ACT_TANH: return "tanh";
    case PCMUP_ACT_RELU: return "relu";
    case PCMUP_ACT_IDENTITY: return "identity";
    }
    return "unknown";
}
