/*
 * vec.c -- sums over float vectors in double, and conversions between
 * float and double (kernel.h).
 *
 * The sums are plain loops in a fixed order rather than cblas_sdot or
 * cblas_dsdot: the diagnostics they feed (energies, distances, norms) are
 * compared against reference values, and a fixed order gives the same
 * number on every machine and BLAS kernel.
 */
#include "kernel/kernel.h"

double pcmup__k_sum_sq(const float *x, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)x[i] * (double)x[i];
    return s;
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
