/* SPDX-License-Identifier: MIT */
/*
 * idx_read.c -- see idx_read.h.
 */
#include "idx_read.h"

#include "fuzz.h"

#include <string.h>

#define CALLER "fuzz_idx_read"

static void check_failure(pcmup_status s)
{
    FUZZ_ASSERT(s == PCMUP_ERR_FORMAT);
    FUZZ_ASSERT(strncmp(pcmup_last_error(), CALLER ": ", strlen(CALLER ": ")) == 0);
}

void fuzz_idx_read(const uint8_t *bytes, size_t len, pcmup__idx_kind kind,
                   fuzz_idx_result *res)
{
    static const uint8_t empty[1];
    pcmup_allocator a;
    pcmup__allocator_init(&a, NULL);
    const pcmup__idx_input in = {NULL, len ? bytes : empty, len, "input"};
    pcmup__idx_reader r;
    memset(res, 0, sizeof *res);
    res->status = pcmup__idx_open(&r, &a, &in, kind, CALLER);
    if (res->status != PCMUP_OK) {
        check_failure(res->status);
        return;
    }
    FUZZ_ASSERT(r.count >= 1 && r.item_size >= 1 && r.item_size <= PCMUP_MAX_DIM);
    FUZZ_ASSERT(kind == PCMUP__IDX_IMAGES || r.item_size == 1);
    if (r.count > FUZZ_MAX_DATA / r.item_size) {
        res->limited = 1;
        res->status = PCMUP_ERR_FORMAT;
    } else {
        res->status = pcmup__idx_read_data(&r, &res->idx);
        if (res->status != PCMUP_OK)
            check_failure(res->status);
        else
            FUZZ_ASSERT(res->idx.count == r.count && res->idx.item_size == r.item_size);
    }
    pcmup__idx_close(&r);
}

void fuzz_idx_free(fuzz_idx_result *res)
{
    if (res->status == PCMUP_OK)
        free(res->idx.data);
    res->idx.data = NULL;
}

int fuzz_idx_same(const fuzz_idx_result *a, const fuzz_idx_result *b)
{
    if (a->status != b->status || a->limited != b->limited)
        return 0;
    if (a->status != PCMUP_OK)
        return 1;
    return a->idx.count == b->idx.count && a->idx.item_size == b->idx.item_size &&
           memcmp(a->idx.data, b->idx.data, a->idx.count * a->idx.item_size) == 0;
}
