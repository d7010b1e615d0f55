/* SPDX-License-Identifier: MIT */
/*
 * rng.c -- splitmix64 and what the tools draw from it (rng.h).
 */
#include "rng.h"

#include <math.h>

uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in (0, 1]: the top 53 bits, shifted by one ulp so log() never
 * sees 0. */
static double rng_open_unit(uint64_t *state)
{
    return ((double)(rng_next(state) >> 11) + 1.0) * 0x1.0p-53;
}

double rng_normal(uint64_t *state)
{
    const double two_pi = 6.283185307179586476925286766559;
    double u = rng_open_unit(state), v = rng_open_unit(state);
    return sqrt(-2.0 * log(u)) * cos(two_pi * v);
}
