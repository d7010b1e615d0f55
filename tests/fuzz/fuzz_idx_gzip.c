/* SPDX-License-Identifier: MIT */
/*
 * fuzz_idx_gzip.c -- libFuzzer target: the gzip path of the IDX reader
 * (lib/data/idx.c), checked against the plain path.
 *
 * Input: a mode byte, a parameter byte, then a payload. By mode % 4:
 *   0  the payload gzipped (one member) reads exactly as the payload;
 *   1  the same in two members, split where the parameter says;
 *   2  one member followed by junk (the parameter byte, 1 to 4 times)
 *      never loads: PCMUP_ERR_FORMAT;
 *   3  the payload itself as gzip data (1f 8b put in front if missing):
 *      whatever the decoder makes of corrupt streams, it keeps the
 *      reader's invariants (idx_read.h).
 * A payload that is gzip data itself is read as such on the plain side,
 * so modes 0 and 1 only run the gzip side for it.
 */
#include "fuzz.h"
#include "idx_read.h"

#include <string.h>
#include <zlib.h>

typedef struct {
    uint8_t *p;
    size_t len;
} buf;

/* Appends the gzip member of src[0..len) to *b. */
static void gzip_member(buf *b, const uint8_t *src, size_t len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    FUZZ_ASSERT(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    size_t bound = deflateBound(&z, (uLong)len) + 32;
    b->p = realloc(b->p, b->len + bound);
    FUZZ_ASSERT(b->p);
    static const uint8_t none[1];
    z.next_in = (Bytef *)(uintptr_t)(len ? src : none);
    z.avail_in = (uInt)len;
    z.next_out = b->p + b->len;
    z.avail_out = (uInt)bound;
    FUZZ_ASSERT(deflate(&z, Z_FINISH) == Z_STREAM_END);
    b->len += bound - z.avail_out;
    deflateEnd(&z);
}

static void append(buf *b, const uint8_t *src, size_t len)
{
    b->p = realloc(b->p, b->len + len + 1);
    FUZZ_ASSERT(b->p);
    memcpy(b->p + b->len, src, len);
    b->len += len;
}

/* Reads b as an image file, frees b. */
static void read_buf(buf *b, fuzz_idx_result *res)
{
    fuzz_idx_read(b->p, b->len, PCMUP__IDX_IMAGES, res);
    free(b->p);
    b->p = NULL;
    b->len = 0;
}

static int is_gzip(const uint8_t *p, size_t len)
{
    return len >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int mode = data[0] % 4;
    uint8_t param = data[1];
    const uint8_t *payload = data + 2;
    size_t len = size - 2;
    buf gz = {NULL, 0};
    fuzz_idx_result got, plain;

    switch (mode) {
    case 0:
    case 1: {
        size_t cut = mode == 0 ? len : len * param / 255;
        gzip_member(&gz, payload, cut);
        if (mode == 1)
            gzip_member(&gz, payload + cut, len - cut);
        read_buf(&gz, &got);
        if (!is_gzip(payload, len)) {
            fuzz_idx_read(payload, len, PCMUP__IDX_IMAGES, &plain);
            FUZZ_ASSERT(fuzz_idx_same(&got, &plain));
            fuzz_idx_free(&plain);
        }
        break;
    }
    case 2: {
        uint8_t junk[4];
        size_t n = 1 + param % 4;
        memset(junk, param == 0x1f ? 'J' : param, sizeof junk);
        gzip_member(&gz, payload, len);
        append(&gz, junk, n);
        read_buf(&gz, &got);
        FUZZ_ASSERT(got.status == PCMUP_ERR_FORMAT);
        break;
    }
    default:
        if (!is_gzip(payload, len))
            append(&gz, (const uint8_t *)"\x1f\x8b", 2);
        append(&gz, payload, len);
        read_buf(&gz, &got);
        break;
    }
    fuzz_idx_free(&got);
    return 0;
}
