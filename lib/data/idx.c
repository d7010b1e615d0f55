/* SPDX-License-Identifier: MIT */
/*
 * idx.c -- reads IDX files (MNIST / FashionMNIST), plain or gzip, from a
 * file or from memory.
 *
 * Bytes come from a source (a file read in chunks, or a caller's buffer;
 * the rest of the reader cannot tell them apart) through a decoder: a copy
 * for plain data, zlib's inflate for gzip data, recognised by its magic
 * 1f 8b (an IDX file starts with 00 00). The reader asks the decoder for
 * exactly the bytes it needs, so decompression never runs ahead of the
 * header's sizes.
 *
 * The header is distrusted: its sizes are checked for overflow and
 * plausibility, and the data buffer grows with the bytes that actually
 * arrive rather than being allocated from the claimed size, so a 100-byte
 * file claiming 2^32 samples fails as truncated after a small allocation.
 *
 * zlib's state and window are allocated through the caller's allocator
 * (zalloc / zfree), like every other byte the loaders use.
 */
#include "data/idx.h"
#include "data/dataset.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#define IDX_TYPE_UBYTE 0x08
#define IDX_MAX_DIMS 255 /* ndims is a single byte */

/* Size of the first data buffer; it doubles while data keeps arriving, so
 * memory stays within about twice what the file really holds. */
#define FIRST_CHUNK ((size_t)1 << 16)
/* Bytes read from a file at a time. */
#define IN_CHUNK ((size_t)1 << 16)
/* zlib counts in unsigned ints: hand it at most this per call. */
#define MAX_INFLATE ((size_t)1 << 30)
/* 15-bit window, +16: a gzip wrapper (not zlib's own, not raw deflate). */
#define GZIP_WINDOW_BITS (15 + 16)

typedef pcmup__idx_reader reader;

/* ---- the source: a file or a buffer -------------------------------------- */

static pcmup_status open_source(reader *r, const pcmup__idx_input *in)
{
    if (!in->path) {
        r->in = in->bytes;
        r->in_len = in->len;
        r->in_end = 1;
        return PCMUP_OK;
    }
    errno = 0;
    r->file = fopen(in->path, "rb");
    if (!r->file)
        return pcmup__fail(PCMUP_ERR_IO, r->caller, "%s: %s", r->name, pcmup__errno_text(errno));
    r->buf = pcmup__alloc(r->alloc, IN_CHUNK, 1);
    if (!r->buf)
        return pcmup__fail(PCMUP_ERR_NOMEM, r->caller, "%s: cannot allocate %zu bytes",
                           r->name, IN_CHUNK);
    r->in = r->buf;
    return PCMUP_OK;
}

/* Makes at least `want` (<= IN_CHUNK) unconsumed bytes available, unless
 * the source ends first. A buffer source has everything already. */
static pcmup_status source_fill(reader *r, size_t want)
{
    if (r->in_len >= want || r->in_end)
        return PCMUP_OK;
    memmove(r->buf, r->in, r->in_len);
    r->in = r->buf;
    while (r->in_len < want && !r->in_end) {
        size_t ask = IN_CHUNK - r->in_len;
        errno = 0;
        size_t got = fread(r->buf + r->in_len, 1, ask, r->file);
        r->in_len += got;
        if (got < ask) {
            if (ferror(r->file)) /* a directory, for one */
                return pcmup__fail(PCMUP_ERR_IO, r->caller, "%s: %s", r->name,
                                   pcmup__errno_text(errno));
            r->in_end = 1;
        }
    }
    return PCMUP_OK;
}

static void consume(reader *r, size_t n)
{
    r->in += n;
    r->in_len -= n;
}

/* ---- the plain decoder --------------------------------------------------- */

/* Copies up to len bytes; *got < len only at the end of the source. */
static pcmup_status plain_read(reader *r, unsigned char *out, size_t len, size_t *got)
{
    *got = 0;
    while (*got < len) {
        PCMUP_TRY(source_fill(r, 1));
        if (r->in_len == 0)
            break;
        size_t n = r->in_len < len - *got ? r->in_len : len - *got;
        memcpy(out + *got, r->in, n);
        consume(r, n);
        *got += n;
    }
    return PCMUP_OK;
}

/* ---- the gzip decoder ---------------------------------------------------- */

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    return pcmup__alloc(opaque, items, size);
}

static void z_free(voidpf opaque, voidpf p)
{
    pcmup__free(opaque, p);
}

static pcmup_status gzip_start(reader *r)
{
    r->z.zalloc = z_alloc;
    r->z.zfree = z_free;
    r->z.opaque = (voidpf)r->alloc;
    int rc = inflateInit2(&r->z, GZIP_WINDOW_BITS);
    if (rc == Z_MEM_ERROR)
        return pcmup__fail(PCMUP_ERR_NOMEM, r->caller, "%s: zlib out of memory", r->name);
    if (rc != Z_OK)
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, r->caller,
                           "%s: zlib cannot start (error %d, version %s)", r->name, rc,
                           zlibVersion());
    r->z_ready = 1;
    return PCMUP_OK;
}

static pcmup_status inflate_error(const reader *r, int rc)
{
    if (rc == Z_MEM_ERROR)
        return pcmup__fail(PCMUP_ERR_NOMEM, r->caller, "%s: zlib out of memory", r->name);
    return pcmup__fail(PCMUP_ERR_FORMAT, r->caller, "%s: corrupt gzip data: %s", r->name,
                       r->z.msg ? r->z.msg : "unknown zlib error");
}

/* After a member's end: the file ends, or another member starts (gzip(1)
 * reads concatenated members as one stream, and so do we). Anything else
 * is junk after the gzip data, which zlib's gzread would silently ignore
 * but which means the file is not what its writer meant. */
static pcmup_status next_member(reader *r)
{
    PCMUP_TRY(source_fill(r, 2));
    if (r->in_len == 0) {
        r->gzip_done = 1;
        return PCMUP_OK;
    }
    if (r->in_len < 2 || r->in[0] != 0x1f || r->in[1] != 0x8b)
        return pcmup__fail(PCMUP_ERR_FORMAT, r->caller,
                           "%s: trailing bytes after the end of the gzip data", r->name);
    if (inflateReset(&r->z) != Z_OK)
        return inflate_error(r, Z_STREAM_ERROR);
    r->member_ended = 0;
    return PCMUP_OK;
}

/* One inflate call from the pending input into out[0..len); adds what it
 * wrote to *got. */
static pcmup_status inflate_some(reader *r, unsigned char *out, size_t len, size_t *got)
{
    size_t in_n = r->in_len < MAX_INFLATE ? r->in_len : MAX_INFLATE;
    size_t out_n = len < MAX_INFLATE ? len : MAX_INFLATE;
    r->z.next_in = (Bytef *)(uintptr_t)r->in; /* zlib does not write it */
    r->z.avail_in = (uInt)in_n;
    r->z.next_out = out;
    r->z.avail_out = (uInt)out_n;
    int rc = inflate(&r->z, Z_NO_FLUSH);
    consume(r, in_n - r->z.avail_in);
    *got += out_n - r->z.avail_out;
    if (rc == Z_STREAM_END)
        r->member_ended = 1;
    else if (rc != Z_OK && rc != Z_BUF_ERROR)
        return inflate_error(r, rc);
    return PCMUP_OK;
}

/* Decompresses up to len bytes; *got < len only where the last member
 * ends. A stream cut short is an error here (zlib would report it like an
 * end), so a file whose gzip trailer, and with it the CRC check, is
 * missing does not pass. */
static pcmup_status gzip_read(reader *r, unsigned char *out, size_t len, size_t *got)
{
    *got = 0;
    while (*got < len && !r->gzip_done) {
        if (r->member_ended) {
            PCMUP_TRY(next_member(r));
            continue;
        }
        PCMUP_TRY(source_fill(r, 1));
        if (r->in_len == 0)
            return pcmup__fail(PCMUP_ERR_FORMAT, r->caller,
                               "%s: truncated: the gzip stream ends early", r->name);
        PCMUP_TRY(inflate_some(r, out + *got, len - *got, got));
    }
    return PCMUP_OK;
}

/* Reads up to len bytes; *got < len only at the end of the data. */
static pcmup_status read_bytes(reader *r, void *buf, size_t len, size_t *got)
{
    return r->gzip ? gzip_read(r, buf, len, got) : plain_read(r, buf, len, got);
}

static int has_gz_suffix(const char *path)
{
    size_t len = strlen(path);
    return len >= 3 && strcmp(path + len - 3, ".gz") == 0;
}

/* Gzip data whatever the name; a name ending in ".gz" must be gzip data,
 * because a file claiming to be compressed but not being so is more likely
 * a mistake (a half-written download, a renamed file) than intended. */
static pcmup_status choose_decoder(reader *r, const pcmup__idx_input *in)
{
    PCMUP_TRY(source_fill(r, 2));
    r->gzip = r->in_len >= 2 && r->in[0] == 0x1f && r->in[1] == 0x8b;
    if (!r->gzip && in->path && has_gz_suffix(in->path))
        return pcmup__fail(PCMUP_ERR_FORMAT, r->caller,
                           "%s: name ends in \".gz\" but the file is not gzip data",
                           r->name);
    return r->gzip ? gzip_start(r) : PCMUP_OK;
}

/* ---- the header ---------------------------------------------------------- */

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static pcmup_status check_magic(const reader *r, const unsigned char magic[4])
{
    if (magic[0] != 0 || magic[1] != 0)
        return pcmup__fail(PCMUP_ERR_FORMAT, r->caller,
                           "%s: bad magic 0x%02x%02x%02x%02x: not an IDX file", r->name,
                           magic[0], magic[1], magic[2], magic[3]);
    if (magic[2] != IDX_TYPE_UBYTE)
        return pcmup__fail(PCMUP_ERR_FORMAT, r->caller,
                           "%s: element type 0x%02x not supported (only 0x08, unsigned byte)",
                           r->name, magic[2]);
    unsigned ndims = magic[3];
    if (ndims == 0)
        return pcmup__fail(PCMUP_ERR_FORMAT, r->caller, "%s: 0 dimensions (no sample count)",
                           r->name);
    if (r->kind == PCMUP__IDX_LABELS && ndims != 1)
        return pcmup__fail(PCMUP_ERR_FORMAT, r->caller,
                           "%s: a label file has 1 dimension, this one has %u", r->name,
                           ndims);
    return PCMUP_OK;
}

/* Product of dims[1..ndims-1]: the bytes per sample. Bounded by
 * PCMUP_MAX_DIM because a sample is one input vector of a network. */
static pcmup_status sample_size(const reader *r, const uint32_t *dims, unsigned ndims,
                                size_t *item)
{
    uint64_t product = 1;
    for (unsigned i = 1; i < ndims; i++) {
        if (dims[i] == 0)
            return pcmup__fail(PCMUP_ERR_FORMAT, r->caller, "%s: dimension %u is 0",
                               r->name, i);
        if (product > PCMUP_MAX_DIM / dims[i])
            return pcmup__fail(PCMUP_ERR_FORMAT, r->caller,
                               "%s: sample size (product of dimensions 1..%u) exceeds %zu",
                               r->name, ndims - 1, PCMUP_MAX_DIM);
        product *= dims[i];
    }
    *item = (size_t)product;
    return PCMUP_OK;
}

/* The dataset will hold count * item floats: that size must be
 * representable, or the file cannot be loaded on this machine at all. */
static pcmup_status check_total(const reader *r, size_t count, size_t item)
{
    int overflow = 0;
    size_t values = pcmup__mul(count, item, &overflow);
    pcmup__mul(values, sizeof(float), &overflow);
    if (overflow)
        return pcmup__fail(PCMUP_ERR_FORMAT, r->caller,
                           "%s: %zu samples of %zu bytes is too large to hold in memory",
                           r->name, count, item);
    return PCMUP_OK;
}

static pcmup_status read_header(reader *r)
{
    unsigned char magic[4];
    size_t got;
    PCMUP_TRY(read_bytes(r, magic, sizeof magic, &got));
    if (got < sizeof magic)
        return pcmup__fail(PCMUP_ERR_FORMAT, r->caller,
                           "%s: truncated header: %zu of 4 magic bytes", r->name, got);
    PCMUP_TRY(check_magic(r, magic));

    unsigned ndims = magic[3];
    unsigned char raw[IDX_MAX_DIMS * 4];
    PCMUP_TRY(read_bytes(r, raw, (size_t)ndims * 4, &got));
    if (got < (size_t)ndims * 4)
        return pcmup__fail(PCMUP_ERR_FORMAT, r->caller,
                           "%s: truncated header: expected %u dimensions, got %zu bytes of them",
                           r->name, ndims, got);
    uint32_t dims[IDX_MAX_DIMS] = {0};
    for (unsigned i = 0; i < ndims; i++)
        dims[i] = be32(raw + 4 * i);

    if (dims[0] == 0)
        return pcmup__fail(PCMUP_ERR_FORMAT, r->caller, "%s: 0 samples", r->name);
    r->count = dims[0];
    PCMUP_TRY(sample_size(r, dims, ndims, &r->item_size));
    return check_total(r, r->count, r->item_size);
}

/* ---- opening and closing ------------------------------------------------- */

pcmup_status pcmup__idx_open(pcmup__idx_reader *r, const pcmup_allocator *a,
                             const pcmup__idx_input *in, pcmup__idx_kind kind,
                             const char *caller)
{
    assert(r && a && in && caller && (in->path || in->bytes || in->len == 0));
    memset(r, 0, sizeof *r);
    r->alloc = a;
    r->name = in->path ? in->path : in->name;
    r->caller = caller;
    r->kind = kind;
    pcmup_status s = open_source(r, in);
    if (s == PCMUP_OK)
        s = choose_decoder(r, in);
    if (s == PCMUP_OK)
        s = read_header(r);
    if (s != PCMUP_OK)
        pcmup__idx_close(r);
    return s;
}

void pcmup__idx_close(pcmup__idx_reader *r)
{
    if (r->z_ready)
        inflateEnd(&r->z);
    if (r->file)
        fclose(r->file);
    pcmup__free(r->alloc, r->buf);
    r->z_ready = 0;
    r->file = NULL;
    r->buf = NULL;
}

/* ---- the data ------------------------------------------------------------ */

static pcmup_status truncated(const reader *r, size_t got)
{
    if (r->kind == PCMUP__IDX_LABELS)
        return pcmup__fail(PCMUP_ERR_FORMAT, r->caller,
                           "%s: truncated: expected %zu labels, got %zu", r->name, r->count,
                           got);
    return pcmup__fail(PCMUP_ERR_FORMAT, r->caller,
                       "%s: truncated: expected %zu samples of %zu bytes, got %zu bytes",
                       r->name, r->count, r->item_size, got);
}

/* Resizes *buf to `size` bytes; on failure *buf is still valid. */
static int grow(const pcmup_allocator *a, unsigned char **buf, size_t size)
{
    unsigned char *bigger = a->realloc_fn(a->user, *buf, size);
    if (!bigger)
        return 0;
    *buf = bigger;
    return 1;
}

/* Fills *buf (cap bytes so far) with the first `total` data bytes,
 * doubling it as long as data keeps arriving. *buf stays valid (and
 * owned by the caller) whatever happens. */
static pcmup_status fill(reader *r, unsigned char **buf, size_t cap, size_t total)
{
    size_t have = 0;
    for (;;) {
        size_t got;
        PCMUP_TRY(read_bytes(r, *buf + have, cap - have, &got));
        have += got;
        if (have == total)
            return PCMUP_OK;
        if (have < cap)
            return truncated(r, have);
        size_t next = cap <= total / 2 ? cap * 2 : total;
        if (!grow(r->alloc, buf, next))
            return pcmup__fail(PCMUP_ERR_NOMEM, r->caller, "%s: cannot allocate %zu bytes",
                               r->name, next);
        cap = next;
    }
}

pcmup_status pcmup__idx_read_exact(pcmup__idx_reader *r, unsigned char *buf, size_t len,
                                   size_t have)
{
    assert(r && buf && have <= r->count * r->item_size
           && len <= r->count * r->item_size - have);
    size_t got;
    PCMUP_TRY(read_bytes(r, buf, len, &got));
    return got == len ? PCMUP_OK : truncated(r, have + got);
}

/* Bytes after the data mean the header's dimensions do not describe the
 * file (a wrong count, a different layout), so they are an error rather
 * than silently dropped. Asking for one byte decodes at most one byte
 * past the data, however much a gzip stream would give. */
pcmup_status pcmup__idx_check_end(pcmup__idx_reader *r)
{
    unsigned char extra;
    size_t got;
    PCMUP_TRY(read_bytes(r, &extra, 1, &got));
    if (got != 0)
        return pcmup__fail(PCMUP_ERR_FORMAT, r->caller,
                           "%s: trailing data after the %s the header describes", r->name,
                           r->kind == PCMUP__IDX_LABELS ? "labels" : "samples");
    return PCMUP_OK;
}

pcmup_status pcmup__idx_read_head(pcmup__idx_reader *r, size_t n, pcmup__idx *out)
{
    assert(r && out && n >= 1 && n <= r->count);
    size_t total = n * r->item_size;
    size_t cap = total < FIRST_CHUNK ? total : FIRST_CHUNK;
    unsigned char *buf = pcmup__alloc(r->alloc, cap, 1);
    if (!buf)
        return pcmup__fail(PCMUP_ERR_NOMEM, r->caller, "%s: cannot allocate %zu bytes",
                           r->name, cap);
    pcmup_status s = fill(r, &buf, cap, total);
    if (s == PCMUP_OK && n == r->count)
        s = pcmup__idx_check_end(r);
    if (s != PCMUP_OK) {
        pcmup__free(r->alloc, buf);
        return s;
    }
    out->count = n;
    out->item_size = r->item_size;
    out->data = buf;
    return PCMUP_OK;
}

pcmup_status pcmup__idx_read_data(pcmup__idx_reader *r, pcmup__idx *out)
{
    assert(r && out);
    return pcmup__idx_read_head(r, r->count, out);
}
