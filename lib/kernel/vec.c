/* SPDX-License-Identifier: MIT */
/*
 * vec.c -- sums over float vectors in double, the finiteness test, and
 * conversions between float and double (kernel.h).
 *
 * The sums are plain loops in a fixed order rather than cblas_sdot or
 * cblas_dsdot: the diagnostics they feed (energies, distances, norms) are
 * compared against reference values, and a fixed order gives the same
 * number on every machine and BLAS kernel.
 */
#include "kernel/kernel.h"

#include <stdint.h>
#include <string.h>

double pcmup__k_sum_sq(const float *x, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)x[i] * (double)x[i];
    return s;
}

/* On the bits, so the loop vectorises without -ffast-math (which would
 * assume NaN away): a float is not finite exactly when its exponent bits
 * are all ones, so when |x| as an integer is at least that of infinity. */
int pcmup__k_all_finite(const float *x, size_t n)
{
    const int32_t inf_bits = 0x7f800000;
    int32_t largest = 0; /* signed: |x|'s bits fit, and SSE2 compares signed */
    for (size_t i = 0; i < n; i++) {
        int32_t bits;
        memcpy(&bits, &x[i], sizeof bits);
        bits &= 0x7fffffff;
        largest = bits > largest ? bits : largest;
    }
    return largest < inf_bits;
}

double pcmup__k_dot(const float *x, const float *y, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)x[i] * (double)y[i];
    return s;
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
