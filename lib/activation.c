/*
 * activation.c -- tanh, relu and identity.
 */
#include "activation.h"

#include <math.h>
#include <string.h>

void pcmup__act_forward(pcmup_activation act, const float *u, float *h, size_t n)
{
    switch (act) {
    case PCMUP_ACT_TANH:
        for (size_t i = 0; i < n; i++)
            h[i] = tanhf(u[i]);
        break;
    case PCMUP_ACT_RELU:
        for (size_t i = 0; i < n; i++)
            h[i] = u[i] > 0.0f ? u[i] : 0.0f;
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
        for (size_t i = 0; i < n; i++)
            d[i] *= 1.0f - h[i] * h[i];
        break;
    case PCMUP_ACT_RELU:
        /* phi'(0) = 0, and relu(u) > 0 exactly when u > 0. */
        for (size_t i = 0; i < n; i++)
            d[i] = h[i] > 0.0f ? d[i] : 0.0f;
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
