/* SPDX-License-Identifier: MIT */
/*
 * idx_read.h -- the IDX fuzz targets' way through lib/data/idx.c: a whole
 * buffer read as one IDX file, with what the invariants compare.
 */
#ifndef PCMUP_FUZZ_IDX_READ_H
#define PCMUP_FUZZ_IDX_READ_H

#include "data/idx.h"

/* Data bigger than this is not read (the fuzzer's inputs are small; a
 * header may claim anything): the result is then `limited`. */
#define FUZZ_MAX_DATA ((size_t)16 << 20)

typedef struct {
    pcmup_status status;
    int limited;       /* the header passed, its data exceeds FUZZ_MAX_DATA */
    pcmup__idx idx;    /* when status is PCMUP_OK */
} fuzz_idx_result;

/* Reads bytes[0..len) as an IDX file of `kind` (plain or gzip, as the
 * library sees it) and checks the reader's own invariants: the status is
 * OK or FORMAT (nothing else can fail on a buffer), a failure leaves a
 * message naming the caller, and the sizes are within the header's
 * bounds. Free the result with fuzz_idx_free. */
void fuzz_idx_read(const uint8_t *bytes, size_t len, pcmup__idx_kind kind,
                   fuzz_idx_result *res);
void fuzz_idx_free(fuzz_idx_result *res);

/* Whether two results are the same: status, and for OK the same sizes
 * and bytes. */
int fuzz_idx_same(const fuzz_idx_result *a, const fuzz_idx_result *b);

#endif /* PCMUP_FUZZ_IDX_READ_H */
