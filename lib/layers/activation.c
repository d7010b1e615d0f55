/* SPDX-License-Identifier: MIT */
/*
 * activation.c -- tanh, relu and identity.
 */
#include "layers/activation.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* tanh in single precision, written so the compiler can vectorise the loop
 * over a batch: glibc's tanhf is a scalar call of ~17 ns, which made tanh
 * cost as much as the GEMMs of a BP step at width 1024. Branch-free:
 *   |x| < 0.625: x + x^3 P(x^2), P a degree-4 least-squares fit on
 *                Chebyshev nodes (relative error 5e-9 in exact arithmetic);
 *   otherwise:   (1 - e) / (1 + e) with e = exp(-2|x|) <= 0.29, so no
 *                cancellation; exp by 2^k * Taylor-7 on |r| <= ln2/2
 *                (truncation 5e-9).
 * Measured against double tanh: relative error <= 1.3e-7 (tests/test_net.c).
 * |x| is clamped at 9, where tanh rounds to 1 in float; NaN stays NaN. */
static float exp_neg(float y) /* exp(y) for y in [-18, 0] */
{
    const float log2e = 1.44269504f, ln2_hi = 0.693145752f, ln2_lo = 1.42860677e-6f;
    const float round_magic = 12582912.0f; /* 1.5 * 2^23: adding it rounds */
    float kf = (y * log2e + round_magic) - round_magic;
    float r = (y - kf * ln2_hi) - kf * ln2_lo;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t bits = ((int32_t)kf + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static float tanh_float(float x)
{
    float a = fabsf(x) < 9.0f ? fabsf(x) : 9.0f;
    float z = a * a;
    float p = -0.00573119476f;
    p = p * z + 0.0206647237f;
    p = p * z - 0.053748442f;
    p = p * z + 0.133315611f;
    p = p * z - 0.333332871f;
    float small = a + a * z * p;
    float e = exp_neg(-2.0f * a);
    float large = (1.0f - e) / (1.0f + e);
    float t = a < 0.625f ? small : large;
    t = x < 0.0f ? -t : t;
    return x != x ? x : t;
}

void pcmup__act_forward(pcmup_activation act, const float *u, float *h, size_t n)
{
    switch (act) {
    case PCMUP_ACT_TANH:
        for (size_t i = 0; i < n; i++)
            h[i] = tanh_float(u[i]);
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
        for (size_t i = 0; i < n; i++)
            d[i] *= 1.0f - h[i] * h[i];
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
