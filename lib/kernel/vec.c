/* SPDX-License-Identifier: MIT */
/*
 * vec.c -- sums over float vectors in double, the finiteness test, and
 * conversions between float and double (kernel.h).
 *
 * The sums are loops in a fixed order rather than cblas_sdot or
 * cblas_dsdot: the diagnostics they feed (energies, distances, norms) are
 * compared against reference values, and a fixed order gives the same
 * number on every machine and BLAS kernel. The order is SUM_LANES
 * interleaved partial sums (element i goes to lane i % SUM_LANES), added
 * lane 0 first, then the tail: independent lanes let the compiler use
 * vector registers without -ffast-math, where one running sum would wait
 * on each addition's latency.
 */
#include "kernel/kernel.h"

#include "internal.h"

#include <stdint.h>
#include <string.h>

#define SUM_LANES 8

/* sum_i x[i] * y[i] in double, in the fixed order above. */
static PCMUP_VECTOR_CLONES double dot_in_lanes(const float *x, const float *y, size_t n)
{
    double lane[SUM_LANES] = {0.0};
    size_t i = 0;
    for (; i + SUM_LANES <= n; i += SUM_LANES)
        for (size_t k = 0; k < SUM_LANES; k++)
            lane[k] += (double)x[i + k] * (double)y[i + k];
    double s = 0.0;
    for (size_t k = 0; k < SUM_LANES; k++)
        s += lane[k];
    for (; i < n; i++)
        s += (double)x[i] * (double)y[i];
    return s;
}

double pcmup__k_sum_sq(const float *x, size_t n)
{
    return dot_in_lanes(x, x, n);
}

/* On the bits, so the loop vectorises without -ffast-math (which would
 * assume NaN away), and with SSE2's integer add and or alone: a float is
 * not finite exactly when its exponent bits are all ones, so when
 * |x| as an integer is at least 0x7f800000 -- and then, and only then,
 * adding 0x00800000 carries into bit 31. */
int pcmup__k_all_finite(const float *x, size_t n)
{
    uint32_t carries = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &x[i], sizeof bits);
        carries |= (bits & 0x7fffffffu) + 0x00800000u;
    }
    return (carries & 0x80000000u) == 0;
}

double pcmup__k_dot(const float *x, const float *y, size_t n)
{
    return dot_in_lanes(x, y, n);
}

void pcmup__k_f32_to_f64(double *dst, const float *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = (double)src[i];
}

void pcmup__k_f64_to_f32(float *dst, const double *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = (float)src[i];
}

void pcmup__k_f32_to_f64_lower(double *dst, const float *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pcmup__k_f32_to_f64(dst + i * n, src + i * n, i + 1);
}
