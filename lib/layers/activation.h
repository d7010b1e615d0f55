/* SPDX-License-Identifier: MIT */
/*
 * activation.h -- the elementwise nonlinearities phi and their derivatives.
 */
#ifndef PCMUP_ACTIVATION_H
#define PCMUP_ACTIVATION_H

#include "internal.h"

#include <math.h>
#include <stddef.h>
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
 * |x| is clamped at 9, where tanh rounds to 1 in float; NaN stays NaN.
 * Here, inline, so that each clone of activation.c's loops gets its own
 * vectorised copy, and tests can check the loops against it element by
 * element. */
static PCMUP_ALWAYS_INLINE float pcmup__exp_neg(float y) /* exp(y) for y in [-18, 0] */
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

static PCMUP_ALWAYS_INLINE float pcmup__tanh_float(float x)
{
    float a = fabsf(x) < 9.0f ? fabsf(x) : 9.0f;
    float z = a * a;
    float p = -0.00573119476f;
    p = p * z + 0.0206647237f;
    p = p * z - 0.053748442f;
    p = p * z + 0.133315611f;
    p = p * z - 0.333332871f;
    float small = a + a * z * p;
    float e = pcmup__exp_neg(-2.0f * a);
    float large = (1.0f - e) / (1.0f + e);
    float t = a < 0.625f ? small : large;
    t = x < 0.0f ? -t : t;
    return x != x ? x : t;
}


/* One element of the loops below, inline for loops elsewhere that fuse
 * an activation into other work (PC's state updates): phi(u), and
 * d * phi'(u) with phi' read off h = phi(u). Relu is written so that NaN
 * passes through (NaN < 0 is false; h * 0 keeps a NaN h): mapping it to 0
 * would hide a diverged layer from everything after it. phi'(0) = 0, and
 * relu(u) > 0 exactly when u > 0. */
static PCMUP_ALWAYS_INLINE float pcmup__act_value(pcmup_activation act, float u)
{
    switch (act) {
    case PCMUP_ACT_TANH: return pcmup__tanh_float(u);
    case PCMUP_ACT_RELU: return u < 0.0f ? 0.0f : u;
    default: return u;
    }
}

static PCMUP_ALWAYS_INLINE float pcmup__act_slope_times(pcmup_activation act, float h, float d)
{
    switch (act) {
    case PCMUP_ACT_TANH: return d * (1.0f - h * h);
    case PCMUP_ACT_RELU: return h > 0.0f ? d : h * 0.0f;
    default: return d;
    }
}

/* h[i] = phi(u[i]); h may equal u. */
void pcmup__act_forward(pcmup_activation act, const float *u, float *h, size_t n);
/* d[i] *= phi'(u[i]), with phi' read off h = phi(u) (tanh: 1 - h^2,
 * relu: h > 0, identity: 1), so the backward pass needs no stored u. */
void pcmup__act_backward_from_post(pcmup_activation act, const float *h, float *d, size_t n);
int pcmup__act_valid(pcmup_activation act);
const char *pcmup__act_name(pcmup_activation act);

#endif
