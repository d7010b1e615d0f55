/* SPDX-License-Identifier: MIT */
/*
 * rng.h -- the example tools' own small random stream.
 *
 * The library's streams are private to it; the tools need one of their
 * own for the --synthetic data set and pcmup-coord's Gaussian problem. splitmix64 is small, fast and well mixed, and its
 * whole state is one integer, so a seed reproduces a stream exactly on
 * every platform.
 */
#ifndef PCMUP_EXAMPLES_RNG_H
#define PCMUP_EXAMPLES_RNG_H

#include <stddef.h>
#include <stdint.h>

/* The next 64 random bits; *state is the seed before the first call. */
uint64_t rng_next(uint64_t *state);

/* A standard normal value (Box-Muller, one value per call so the stream
 * holds no hidden spare). */
double rng_normal(uint64_t *state);

#endif /* PCMUP_EXAMPLES_RNG_H */
