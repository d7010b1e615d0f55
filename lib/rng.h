/* SPDX-License-Identifier: MIT */
/*
 * rng.h -- the random stream every handle owns (xoshiro256**, seeded
 * through splitmix64). There is no global generator: a handle's stream is
 * fully determined by the seed it was given.
 */
#ifndef PCMUP_RNG_H
#define PCMUP_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t s[4];
} pcmup_rng;

void pcmup__rng_seed(pcmup_rng *rng, uint64_t seed);
uint64_t pcmup__rng_next(pcmup_rng *rng);
/* Uniform in [0, 1) with 53 random bits. */
double pcmup__rng_uniform(pcmup_rng *rng);
/* Standard normal (Box-Muller; both values of a pair are not kept, so the
 * stream has no hidden state beyond s[]). */
double pcmup__rng_normal(pcmup_rng *rng);
/* Standard normal by the ziggurat (rng_ziggurat.h): one 64-bit draw and a
 * table lookup for most values, against a log and a cosine for
 * Box-Muller: for the noise drawn in every step (TP's feedback training,
 * PC's random state init). The initial weights keep pcmup__rng_normal, so
 * that a seed gives the same network as before. */
double pcmup__rng_normal_fast(pcmup_rng *rng);
/* Uniform integer in [0, n), n >= 1, without modulo bias. */
size_t pcmup__rng_below(pcmup_rng *rng, size_t n);
/* Advances the stream past n values of pcmup__rng_normal_fast, as
 * drawing them would: a data-parallel worker steps over the noise the
 * other workers' samples draw (docs/architecture.md, section 9). */
void pcmup__rng_skip_normals_fast(pcmup_rng *rng, uint64_t n);

#endif
