/* SPDX-License-Identifier: MIT */
/*
 * fuzz_cifar.c -- libFuzzer target: raw bytes as CIFAR-10 batch files,
 * through the loader's parser (lib/data/cifar.c) by its internal memory
 * entry point, pcmup__dataset_load_cifar10_mem.
 *
 * The input is loaded as one batch, and as two: cut after half its whole
 * records (so the first is empty when there is less than two records'
 * worth). What must happen is worked out here from the bytes alone: the
 * batches load exactly when each is a positive whole number of 3073-byte
 * records and every record's first byte is at most 9; otherwise the
 * failure is PCMUP_ERR_FORMAT naming the first batch of a wrong size, or
 * else the batch and record of the first bad label, and *out is left
 * alone. A load holds the records in order, bytes / 255 and labels; and
 * the byte limit admits it at its exact size and refuses it one byte
 * below.
 */
#include "fuzz.h"
#include "internal.h"

#include <string.h>

#define RECORD 3073
#define DIM 3072
#define FUNC "pcmup__dataset_load_cifar10_mem"

static char sentinel_storage;
#define SENTINEL ((pcmup_dataset *)(void *)&sentinel_storage)

/* What the loader must say about the batches: "" when they load, else
 * the start of its message after "FUNC: ". */
static void expected(const uint8_t *const *b, const size_t *len, size_t n, char *want,
                     size_t size)
{
    want[0] = '\0';
    for (size_t i = 0; i < n; i++)
        if (len[i] == 0 || len[i] % RECORD != 0) {
            if (len[i] == 0)
                snprintf(want, size, "batch %zu: empty", i + 1);
            else
                snprintf(want, size, "batch %zu: %zu bytes is not", i + 1, len[i]);
            return;
        }
    for (size_t i = 0; i < n; i++)
        for (size_t r = 0; r < len[i] / RECORD; r++)
            if (b[i][r * RECORD] > 9) {
                snprintf(want, size, "batch %zu: record %zu ", i + 1, r);
                return;
            }
}

/* The dataset holds the batches' records in order. */
static void check_dataset(const pcmup_dataset *ds, const uint8_t *const *b,
                          const size_t *len, size_t n_batches)
{
    size_t n, dim, classes, want_n = 0;
    for (size_t i = 0; i < n_batches; i++)
        want_n += len[i] / RECORD;
    FUZZ_ASSERT(pcmup_dataset_info(ds, &n, &dim, &classes) == PCMUP_OK);
    FUZZ_ASSERT(n == want_n && dim == DIM && classes == 10);
    float *x = malloc(n * DIM * sizeof *x);
    int32_t *labels = malloc(n * sizeof *labels);
    FUZZ_ASSERT(x && labels);
    FUZZ_ASSERT(pcmup_dataset_get_batch(ds, 0, n, x, n * DIM, labels) == PCMUP_OK);
    size_t row = 0;
    for (size_t i = 0; i < n_batches; i++)
        for (size_t r = 0; r < len[i] / RECORD; r++, row++) {
            const uint8_t *rec = b[i] + r * RECORD;
            FUZZ_ASSERT(labels[row] == rec[0]);
            for (size_t j = 0; j < DIM; j++)
                FUZZ_ASSERT(x[row * DIM + j] == (float)rec[1 + j] / 255.0f);
        }
    free(x);
    free(labels);
}

static void load(const uint8_t *const *b, const size_t *len, size_t n_batches)
{
    char want[64];
    expected(b, len, n_batches, want, sizeof want);
    pcmup_dataset *ds = SENTINEL;
    pcmup_status s = pcmup__dataset_load_cifar10_mem(&ds, b, len, n_batches, SIZE_MAX, NULL);
    if (want[0] != '\0') {
        const char *msg = pcmup_last_error();
        FUZZ_ASSERT(s == PCMUP_ERR_FORMAT && ds == SENTINEL);
        FUZZ_ASSERT(strncmp(msg, FUNC ": ", strlen(FUNC) + 2) == 0);
        FUZZ_ASSERT(strncmp(msg + strlen(FUNC) + 2, want, strlen(want)) == 0);
        return;
    }
    FUZZ_ASSERT(s == PCMUP_OK);
    check_dataset(ds, b, len, n_batches);
    size_t n;
    FUZZ_ASSERT(pcmup_dataset_info(ds, &n, NULL, NULL) == PCMUP_OK);
    pcmup_dataset_free(ds);
    /* The limit: the exact size passes, a byte less does not. */
    size_t bytes = n * (DIM * sizeof(float) + sizeof(int32_t));
    FUZZ_ASSERT(pcmup__dataset_load_cifar10_mem(&ds, b, len, n_batches, bytes, NULL) ==
                PCMUP_OK);
    pcmup_dataset_free(ds);
    ds = SENTINEL;
    FUZZ_ASSERT(pcmup__dataset_load_cifar10_mem(&ds, b, len, n_batches, bytes - 1, NULL) ==
                PCMUP_ERR_FORMAT);
    FUZZ_ASSERT(ds == SENTINEL && strstr(pcmup_last_error(), "over the limit") != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t empty[1];
    const uint8_t *p = size ? data : empty;
    const uint8_t *one[1] = {p};
    const size_t one_len[1] = {size};
    load(one, one_len, 1);
    size_t cut = size / RECORD / 2 * RECORD;
    const uint8_t *two[2] = {p, p + cut};
    const size_t two_len[2] = {cut, size - cut};
    load(two, two_len, 2);
    return 0;
}
