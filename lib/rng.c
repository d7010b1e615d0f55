/* SPDX-License-Identifier: MIT */
/*
 * rng.c -- xoshiro256** (Blackman and Vigna), seeded by splitmix64 so that
 * any 64-bit seed, zero included, gives a well-mixed state.
 */
#include "rng.h"
#include "rng_ziggurat.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void pcmup__rng_seed(pcmup_rng *rng, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&seed);
}

uint64_t pcmup__rng_next(pcmup_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double pcmup__rng_uniform(pcmup_rng *rng)
{
    return (double)(pcmup__rng_next(rng) >> 11) * 0x1.0p-53;
}

double pcmup__rng_normal(pcmup_rng *rng)
{
    /* 1 - u is in (0, 1], so the log is finite. */
    double u1 = 1.0 - pcmup__rng_uniform(rng);
    double u2 = pcmup__rng_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

size_t pcmup__rng_below(pcmup_rng *rng, size_t n)
{
    /* Rejection: accept draws below the largest multiple of n. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
        x = pcmup__rng_next(rng);
    } while (x >= limit);
    return (size_t)(x % n);
}

/* The tail beyond r of the ziggurat's base layer (Marsaglia's method): a
 * draw of r + a with a exponential of rate r, kept with probability
 * exp(-a^2 / 2), which turns the exponential's density into the normal's
 * beyond r. 1 - u is in (0, 1], so both logs are finite. */
static double normal_tail(pcmup_rng *rng)
{
    for (;;) {
        double a = -log(1.0 - pcmup__rng_uniform(rng)) / ZIGGURAT_R;
        double b = -log(1.0 - pcmup__rng_uniform(rng));
        if (b + b >= a * a)
            return ZIGGURAT_R + a;
    }
}

/* One 64-bit draw picks the layer (bits 0-6), the sign (bit 7) and the
 * point's x in the layer's rectangle (bits 11-63); x inside the next
 * layer's width lies under the curve for sure (about 98.8% of draws). The
 * rest: the tail for the base layer, else the wedge test against f(x). */
double pcmup__rng_normal_fast(pcmup_rng *rng)
{
    for (;;) {
        uint64_t bits = pcmup__rng_next(rng);
        unsigned layer = (unsigned)(bits & (ZIGGURAT_LAYERS - 1));
        double sign = (bits & ZIGGURAT_LAYERS) ? -1.0 : 1.0;
        double x = (double)(bits >> 11) * 0x1.0p-53 * ziggurat_x[layer];
        if (x < ziggurat_x[layer + 1])
            return sign * x;
        if (layer == 0)
            return sign * normal_tail(rng);
        double y = ziggurat_f[layer] +
                   pcmup__rng_uniform(rng) * (ziggurat_f[layer + 1] - ziggurat_f[layer]);
        if (y < exp(-0.5 * x * x))
            return sign * x;
    }
}

void pcmup__rng_skip_normals_fast(pcmup_rng *rng, uint64_t n)
{
    /* The ziggurat takes a varying number of draws per value (one, most
     * of the time), so the only way past n values is to draw them. */
    for (uint64_t i = 0; i < n; i++)
        (void)pcmup__rng_normal_fast(rng);
}
