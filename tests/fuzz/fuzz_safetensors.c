/* SPDX-License-Identifier: MIT */
/*
 * fuzz_safetensors.c -- libFuzzer target: the safetensors reader
 * (lib/checkpoint/safetensors.c) on any bytes.
 *
 * The input is the whole file; pcmup__st_parse takes over a malloc'd copy
 * (the default allocator frees it). Checks: a failure is PCMUP_ERR_FORMAT
 * with a message naming the caller, and leaves the file struct empty; a
 * success has every tensor of rank <= PCMUP__ST_MAX_RANK, named by a
 * non-empty NUL-terminated string that pcmup__st_tensor_find finds (names
 * are unique), its data inside the data section (or its aligned copy),
 * float-aligned, in the order of the offsets, the byte counts adding up
 * to the data section exactly; every metadata key found by
 * pcmup__st_meta_find with its first value (keys are unique), and a
 * "crc32" entry, if any, equal to the data's CRC-32.
 */
#include "fuzz.h"

#include "checkpoint/safetensors.h"

#include <string.h>
#include <zlib.h>

#define FUNC "fuzz_safetensors"

static void check_failure(pcmup_status s, const pcmup__st_file *f)
{
    const char *msg = pcmup_last_error();
    FUZZ_ASSERT(s == PCMUP_ERR_FORMAT);
    FUZZ_ASSERT(strncmp(msg, FUNC ": ", strlen(FUNC) + 2) == 0 && msg[strlen(FUNC) + 2]);
    FUZZ_ASSERT(f->bytes == NULL && f->tensors == NULL && f->meta == NULL &&
                f->aligned == NULL && f->strings == NULL && f->n_tensors == 0 &&
                f->n_meta == 0);
}

/* The string lies in the strings' block (the header's n bytes), NUL within. */
static int in_strings(const pcmup__st_file *f, const char *s, size_t n)
{
    return s >= f->strings && s < f->strings + n &&
           memchr(s, '\0', (size_t)(f->strings + n - s)) != NULL;
}

static void check_tensors(const pcmup__st_file *f, const unsigned char *data, size_t data_size,
                          size_t n)
{
    const unsigned char *base = f->aligned ? (const unsigned char *)f->aligned : data;
    size_t at = 0;
    for (size_t i = 0; i < f->n_tensors; i++) {
        const pcmup__st_tensor *t = &f->tensors[i];
        FUZZ_ASSERT(t->rank <= PCMUP__ST_MAX_RANK);
        FUZZ_ASSERT(in_strings(f, t->name, n) && t->name[0] != '\0');
        FUZZ_ASSERT(strcmp(t->name, "__metadata__") != 0);
        FUZZ_ASSERT(pcmup__st_tensor_find(f, t->name) == t);
        const unsigned char *p = (const unsigned char *)t->data;
        FUZZ_ASSERT((uintptr_t)p % _Alignof(float) == 0);
        /* In the order of the offsets, each where the previous one ended. */
        FUZZ_ASSERT(p == base + at);
        size_t bytes = pcmup__st_floats(t) * sizeof(float);
        FUZZ_ASSERT(bytes <= data_size - at);
        if (f->aligned && bytes)
            FUZZ_ASSERT(memcmp(p, data + at, bytes) == 0);
        at += bytes;
    }
    FUZZ_ASSERT(at == data_size);
}

static void check_meta(const pcmup__st_file *f, const unsigned char *data, size_t data_size,
                       size_t n)
{
    for (size_t i = 0; i < f->n_meta; i++) {
        FUZZ_ASSERT(in_strings(f, f->meta[i].key, n) && in_strings(f, f->meta[i].value, n));
        FUZZ_ASSERT(pcmup__st_meta_find(f, f->meta[i].key) == f->meta[i].value);
    }
    const char *crc = pcmup__st_meta_find(f, "crc32");
    if (crc) {
        char want[9];
        uLong c = crc32(0L, Z_NULL, 0);
        c = crc32(c, data, (uInt)data_size); /* inputs are far below 4 GB */
        snprintf(want, sizeof want, "%08lx", (unsigned long)c);
        FUZZ_ASSERT(strcmp(crc, want) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size)
{
    unsigned char *bytes = malloc(size ? size : 1);
    FUZZ_ASSERT(bytes);
    memcpy(bytes, input, size);
    pcmup__st_file f;
    pcmup_status s = pcmup__st_parse(&f, bytes, size, NULL, FUNC);
    if (s != PCMUP_OK) {
        check_failure(s, &f);
        return 0;
    }
    FUZZ_ASSERT(f.bytes == bytes && f.size == size && size >= 8);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | input[i];
    FUZZ_ASSERT(n >= 2 && n <= size - 8 && input[8] == '{');
    const unsigned char *data = input + 8 + n;
    size_t data_size = size - 8 - (size_t)n;
    FUZZ_ASSERT(f.aligned == NULL || (8 + n) % sizeof(float) != 0);
    check_tensors(&f, f.bytes + 8 + n, data_size, (size_t)n);
    check_meta(&f, data, data_size, (size_t)n);
    pcmup__st_free(&f);
    return 0;
}
