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
/* Uniform integer in [0, n), n >= 1, without modulo bias. */
size_t pcmup__rng_below(pcmup_rng *rng, size_t n);
/* Advances the stream by n pcmup__rng_next values (a uniform takes one, a
 * normal two): a data-parallel worker steps over the numbers the other
 * workers' samples draw (algo.h, data parallelism). */
void pcmup__rng_skip(pcmup_rng *rng, uint64_t n);

#endif
