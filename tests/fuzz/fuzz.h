/* SPDX-License-Identifier: MIT */
/*
 * fuzz.h -- what the fuzz targets share: the libFuzzer entry point each
 * defines, and the checks that end a run when an invariant breaks.
 *
 * Built with clang -fsanitize=fuzzer each target is a fuzzer; linked with
 * replay.c by any compiler it replays its committed corpus as an ordinary
 * ctest test (README).
 */
#ifndef PCMUP_FUZZ_H
#define PCMUP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant the target checks: a failure is a finding, so it aborts,
 * which libFuzzer reports with the input that caused it (and replay with
 * the file). */
#define FUZZ_ASSERT(cond)                                                      \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__,    \
                    __LINE__, #cond);                                          \
            abort();                                                           \
        }                                                                      \
    } while (0)

#endif /* PCMUP_FUZZ_H */
