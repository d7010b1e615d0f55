/*
 * idx.c -- reads IDX files (MNIST / FashionMNIST), plain or gzip.
 *
 * Every file goes through zlib's gz* functions, which read plain files
 * transparently. The header is distrusted: its sizes are checked for
 * overflow and plausibility, and the data buffer grows with the bytes that
 * actually arrive rather than being allocated from the claimed size, so a
 * 100-byte file claiming 2^32 samples fails as truncated after a small
 * allocation.
 *
 * zlib's own stream buffers (allocated inside gzopen/gzread and freed by
 * gzclose) do not go through the caller's allocator; gzopen offers no hook.
 */
#include "data/idx.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#define IDX_TYPE_UBYTE 0x08
#define IDX_MAX_DIMS 255 /* ndims is a single byte */

/* Size of the first data buffer; it doubles while data keeps arriving, so
 * memory stays within about twice what the file really holds. */
#define FIRST_CHUNK ((size_t)1 << 16)
/* gzread takes an unsigned and returns an int: read at most this per call. */
#define MAX_READ ((size_t)1 << 30)

/* An open file being parsed, with what its error messages need. */
typedef struct {
    gzFile gz;
    const char *path;
    const char *caller;
    pcmup__idx_kind kind;
} reader;

/* ---- opening ------------------------------------------------------------- */

/* strerror() is not thread-safe and strerror_r() has two incompatible
 * signatures, so name the common causes ourselves. */
static const char *errno_text(int err)
{
    switch (err) {
    case ENOENT: return "no such file or directory";
    case EACCES: return "permission denied";
    case EISDIR: return "is a directory";
    case ENOMEM: return "out of memory";
    default: return "cannot open or read";
    }
}

static int has_gz_suffix(const char *path)
{
    size_t len = strlen(path);
    return len >= 3 && strcmp(path + len - 3, ".gz") == 0;
}

/* zlib would happily read a plain file named *.gz as plain data; a file
 * claiming to be compressed but not being so is more likely a mistake (a
 * half-written download, a renamed file) than intended. */
static pcmup_status check_gzip_magic(const char *path, const char *caller)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return pcmup__fail(PCMUP_ERR_IO, caller, "%s: %s", path, errno_text(errno));
    unsigned char magic[2] = {0, 0};
    size_t got = fread(magic, 1, sizeof magic, f);
    int read_failed = ferror(f), err = errno;
    fclose(f);
    if (read_failed) /* a directory, for one */
        return pcmup__fail(PCMUP_ERR_IO, caller, "%s: %s", path, errno_text(err));
    if (got != 2 || magic[0] != 0x1f || magic[1] != 0x8b)
        return pcmup__fail(PCMUP_ERR_FORMAT, caller,
                           "%s: name ends in \".gz\" but the file is not gzip data",
                           path);
    return PCMUP_OK;
}

static pcmup_status open_reader(reader *r, const char *path, pcmup__idx_kind kind,
                                const char *caller)
{
    r->path = path;
    r->caller = caller;
    r->kind = kind;
    if (has_gz_suffix(path))
        PCMUP_TRY(check_gzip_magic(path, caller));
    errno = 0;
    r->gz = gzopen(path, "rb");
    if (!r->gz)
        return pcmup__fail(PCMUP_ERR_IO, caller, "%s: %s", path, errno_text(errno));
    return PCMUP_OK;
}

/* ---- reading ------------------------------------------------------------- */

/* A failed gzread: the system (IO) or the compressed stream (FORMAT). */
static pcmup_status read_error(const reader *r)
{
    int code = Z_OK;
    const char *msg = gzerror(r->gz, &code);
    if (code == Z_ERRNO)
        return pcmup__fail(PCMUP_ERR_IO, r->caller, "%s: read error: %s", r->path,
                           errno_text(errno));
    if (code == Z_MEM_ERROR)
        return pcmup__fail(PCMUP_ERR_NOMEM, r->caller, "%s: zlib out of memory", r->path);
    return pcmup__fail(PCMUP_ERR_FORMAT, r->caller, "%s: corrupt gzip data: %s", r->path,
                       msg ? msg : "unknown zlib error");
}

/* Reads up to len bytes; *got < len only at the end of the data, which
 * for a gzip stream cut short is where the stream stops (check_at_end
 * tells the two apart). */
static pcmup_status read_bytes(const reader *r, void *buf, size_t len, size_t *got)
{
    unsigned char *p = buf;
    *got = 0;
    while (*got < len) {
        size_t want = len - *got < MAX_READ ? len - *got : MAX_READ;
        int n = gzread(r->gz, p + *got, (unsigned)want);
        if (n < 0)
            return read_error(r);
        if (n == 0)
            break;
        *got += (size_t)n;
    }
    return PCMUP_OK;
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
                           "%s: bad magic 0x%02x%02x%02x%02x: not an IDX file", r->path,
                           magic[0], magic[1], magic[2], magic[3]);
    if (magic[2] != IDX_TYPE_UBYTE)
        return pcmup__fail(PCMUP_ERR_FORMAT, r->caller,
                           "%s: element type 0x%02x not supported (only 0x08, unsigned byte)",
                           r->path, magic[2]);
    unsigned ndims = magic[3];
    if (ndims == 0)
        return pcmup__fail(PCMUP_ERR_FORMAT, r->caller, "%s: 0 dimensions (no sample count)",
                           r->path);
    if (r->kind == PCMUP__IDX_LABELS && ndims != 1)
        return pcmup__fail(PCMUP_ERR_FORMAT, r->caller,
                           "%s: a label file has 1 dimension, this one has %u", r->path,
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
                               r->path, i);
        if (product > PCMUP_MAX_DIM / dims[i])
            return pcmup__fail(PCMUP_ERR_FORMAT, r->caller,
                               "%s: sample size (product of dimensions 1..%u) exceeds %zu",
                               r->path, ndims - 1, PCMUP_MAX_DIM);
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
                           r->path, count, item);
    return PCMUP_OK;
}

static pcmup_status read_header(const reader *r, size_t *count, size_t *item)
{
    unsigned char magic[4];
    size_t got;
    PCMUP_TRY(read_bytes(r, magic, sizeof magic, &got));
    if (got < sizeof magic)
        return pcmup__fail(PCMUP_ERR_FORMAT, r->caller,
                           "%s: truncated header: %zu of 4 magic bytes", r->path, got);
    PCMUP_TRY(check_magic(r, magic));

    unsigned ndims = magic[3];
    unsigned char raw[IDX_MAX_DIMS * 4];
    PCMUP_TRY(read_bytes(r, raw, (size_t)ndims * 4, &got));
    if (got < (size_t)ndims * 4)
        return pcmup__fail(PCMUP_ERR_FORMAT, r->caller,
                           "%s: truncated header: expected %u dimensions, got %zu bytes of them",
                           r->path, ndims, got);
    uint32_t dims[IDX_MAX_DIMS] = {0};
    for (unsigned i = 0; i < ndims; i++)
        dims[i] = be32(raw + 4 * i);

    if (dims[0] == 0)
        return pcmup__fail(PCMUP_ERR_FORMAT, r->caller, "%s: 0 samples", r->path);
    *count = dims[0];
    PCMUP_TRY(sample_size(r, dims, ndims, item));
    return check_total(r, *count, *item);
}

/* ---- the data ------------------------------------------------------------ */

static pcmup_status truncated(const reader *r, size_t count, size_t item, size_t got)
{
    if (r->kind == PCMUP__IDX_LABELS)
        return pcmup__fail(PCMUP_ERR_FORMAT, r->caller,
                           "%s: truncated: expected %zu labels, got %zu", r->path, count, got);
    return pcmup__fail(PCMUP_ERR_FORMAT, r->caller,
                       "%s: truncated: expected %zu samples of %zu bytes, got %zu bytes",
                       r->path, count, item, got);
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

/* Fills *buf (cap bytes so far) with the count * item data bytes,
 * doubling it as long as data keeps arriving. *buf stays valid (and
 * owned by the caller) whatever happens. */
static pcmup_status fill(const reader *r, const pcmup_allocator *a, unsigned char **buf,
                         size_t cap, size_t count, size_t item)
{
    size_t total = count * item, have = 0;
    for (;;) {
        size_t got;
        PCMUP_TRY(read_bytes(r, *buf + have, cap - have, &got));
        have += got;
        if (have == total)
            return PCMUP_OK;
        if (have < cap)
            return truncated(r, count, item, have);
        size_t next = cap <= total / 2 ? cap * 2 : total;
        if (!grow(a, buf, next))
            return pcmup__fail(PCMUP_ERR_NOMEM, r->caller, "%s: cannot allocate %zu bytes",
                               r->path, next);
        cap = next;
    }
}

/* Reads the count * item data bytes (a size check_total accepted) into a
 * new buffer; on failure nothing is left allocated. */
static pcmup_status read_data(const reader *r, const pcmup_allocator *a, size_t count,
                              size_t item, unsigned char **out)
{
    size_t total = count * item;
    size_t cap = total < FIRST_CHUNK ? total : FIRST_CHUNK;
    unsigned char *buf = pcmup__alloc(a, cap, 1);
    if (!buf)
        return pcmup__fail(PCMUP_ERR_NOMEM, r->caller, "%s: cannot allocate %zu bytes",
                           r->path, cap);
    pcmup_status s = fill(r, a, &buf, cap, count, item);
    if (s != PCMUP_OK) {
        pcmup__free(a, buf);
        return s;
    }
    *out = buf;
    return PCMUP_OK;
}

/* Bytes after the data mean the header's dimensions do not describe the
 * file (a wrong count, a different layout), so they are an error rather
 * than silently dropped. */
static pcmup_status check_at_end(const reader *r)
{
    unsigned char extra;
    size_t got;
    PCMUP_TRY(read_bytes(r, &extra, 1, &got));
    if (got != 0)
        return pcmup__fail(PCMUP_ERR_FORMAT, r->caller,
                           "%s: trailing data after the %s the header describes", r->path,
                           r->kind == PCMUP__IDX_LABELS ? "labels" : "samples");
    /* zlib ends a gzip stream cut short like a normal end of file, only
     * noting Z_BUF_ERROR; without this check a file whose data is complete
     * but whose gzip trailer (and so its CRC check) is missing would pass. */
    int code = Z_OK;
    gzerror(r->gz, &code);
    if (code == Z_BUF_ERROR)
        return pcmup__fail(PCMUP_ERR_FORMAT, r->caller,
                           "%s: truncated: the gzip stream ends early", r->path);
    return PCMUP_OK;
}

static pcmup_status read_contents(const reader *r, const pcmup_allocator *a,
                                  pcmup__idx *out)
{
    size_t count, item;
    PCMUP_TRY(read_header(r, &count, &item));
    unsigned char *data = NULL;
    PCMUP_TRY(read_data(r, a, count, item, &data));
    pcmup_status s = check_at_end(r);
    if (s != PCMUP_OK) {
        pcmup__free(a, data);
        return s;
    }
    out->count = count;
    out->item_size = item;
    out->data = data;
    return PCMUP_OK;
}

pcmup_status pcmup__idx_read(const pcmup_allocator *a, const char *path,
                             pcmup__idx_kind kind, const char *caller, pcmup__idx *out)
{
    assert(a && path && caller && out);
    reader r;
    PCMUP_TRY(open_reader(&r, path, kind, caller));
    pcmup_status s = read_contents(&r, a, out);
    gzclose(r.gz);
    return s;
}
