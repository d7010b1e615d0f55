/* SPDX-License-Identifier: MIT */
/*
 * activation.c -- tanh, relu and identity.
 */
#include "layers/activation.h"

#include <string.h>

static PCMUP_VECTOR_CLONES void tanh_forward(const float *u, float *h, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h[i] = pcmup__tanh_float(u[i]);
}

static PCMUP_VECTOR_CLONES void tanh_backward_from_post(const float *h, float *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        d[i] *= 1.0f - h[i] * h[i];
}

void pcmup__act_forward(pcmup_activation act, const float *u, float *h, size_t n)
{
    switch (act) {
    case PCMUP_ACT_TANH:
        tanh_forward(u, h, n);
        break;
    case PCMUP_ACT_RELU:
        /* Written so that NaN passes through (NaN < 0 is false): mapping
         * it to 0 would hide a diverged layer from everything after it. */
        for (size_t i = 0; i < n; i++)
            h[i] = u[i] < 0.0f ? 0.0f : u[i];
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
        /* phi'(0) = 0, and relu(u) > 0 exactly when u > 0. Where h is
         * NaN, h * 0 keeps it NaN instead of zeroing the error. */
        for (size_t i = 0; i < n; i++)
            d[i] = h[i] > 0.0f ? d[i] : h[i] * 0.0f;
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
