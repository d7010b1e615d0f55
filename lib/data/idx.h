/* SPDX-License-Identifier: MIT */
/*
 * idx.h -- the IDX file reader (the MNIST / FashionMNIST format), used by
 * dataset.c to build datasets. Internal; nothing here is exported.
 *
 * An IDX file is a 4-byte magic (0x00 0x00 type ndims), ndims big-endian
 * uint32 dimensions, then the data in row-major order. Only type 0x08
 * (unsigned byte) is read. The file may be gzip-compressed (one or more
 * gzip members, as gzip(1) writes them, and nothing after the last one); a
 * name ending in ".gz" must be.
 *
 * A file is read in two steps, so that the caller can judge the sizes the
 * header declares before any of the data is read or decompressed:
 * pcmup__idx_open reads and checks the header, pcmup__idx_read_data the
 * rest. Files and memory buffers go through the same code.
 */
#ifndef PCMUP_IDX_H
#define PCMUP_IDX_H

#include "internal.h"

#include <stdio.h>
#include <zlib.h>

/* What the file must hold. */
typedef enum {
    PCMUP__IDX_IMAGES, /* ndims >= 1: dims[0] samples, the rest flattened */
    PCMUP__IDX_LABELS  /* ndims == 1: one byte per sample                 */
} pcmup__idx_kind;

/* Where a file's bytes come from: the file at `path`, or, when path is
 * NULL, the len bytes at `bytes` (which messages call `name`). */
typedef struct {
    const char *path;
    const unsigned char *bytes;
    size_t len;
    const char *name;
} pcmup__idx_input;

/* A file's contents: count samples of item_size bytes each. */
typedef struct {
    size_t count;        /* dims[0], >= 1                              */
    size_t item_size;    /* product of dims[1..], in [1, PCMUP_MAX_DIM] */
    unsigned char *data; /* count * item_size bytes, from the allocator */
} pcmup__idx;

/* An open file. Its members are idx.c's; after a successful
 * pcmup__idx_open, `count` and `item_size` hold what the header declares
 * (count * item_size * sizeof(float) fits in size_t). */
typedef struct {
    size_t count, item_size;
    /* where the bytes come from */
    const pcmup_allocator *alloc;
    const char *name, *caller;
    pcmup__idx_kind kind;
    FILE *file;                /* NULL when reading memory          */
    unsigned char *buf;        /* the file's input chunk            */
    const unsigned char *in;   /* input not yet consumed ...        */
    size_t in_len;             /* ... and its length                */
    int in_end;                /* nothing more after in[0..in_len)  */
    /* the gzip decoder (unused for plain data) */
    int gzip, z_ready, member_ended, gzip_done;
    z_stream z;
} pcmup__idx_reader;

/* Opens `in` and reads its header (caller: the public function messages
 * name). zlib allocates through `a`, which must outlive the reader.
 * Returns PCMUP_ERR_IO (cannot open or read), PCMUP_ERR_FORMAT (not IDX,
 * malformed or implausible header, corrupt gzip data) or PCMUP_ERR_NOMEM.
 * On success the reader must be closed with pcmup__idx_close; on failure
 * nothing is left open. */
pcmup_status pcmup__idx_open(pcmup__idx_reader *r, const pcmup_allocator *a,
                             const pcmup__idx_input *in, pcmup__idx_kind kind,
                             const char *caller);

/* Reads the count * item_size data bytes into *out (data allocated through
 * the reader's allocator; the caller frees it with pcmup__free). The buffer
 * grows with the bytes that arrive, so a short file claiming a large count
 * fails as truncated after a small allocation; and no more than one byte
 * past the declared data is ever decoded, so a gzip bomb behind a small
 * header costs no more than the header's sizes. Bytes after the data
 * (trailing data, or bytes after the gzip stream) are PCMUP_ERR_FORMAT,
 * because they mean the header does not describe the file. *out is
 * untouched on failure. */
pcmup_status pcmup__idx_read_data(pcmup__idx_reader *r, pcmup__idx *out);

/* pcmup__idx_read_data for the first n samples only (1 <= n <= count):
 * n * item_size bytes, and out->count is n. Nothing past them is read or
 * decompressed, so the rest of the file is not checked (a file truncated
 * or with trailing data after them passes); with n == count this is
 * pcmup__idx_read_data. */
pcmup_status pcmup__idx_read_head(pcmup__idx_reader *r, size_t n, pcmup__idx *out);

/* The same data in pieces, for a caller that converts it as it arrives
 * (dataset.c): reads the next len data bytes into buf, `have` bytes having
 * been read before (len <= count * item_size - have). A file ending first
 * is PCMUP_ERR_FORMAT, with pcmup__idx_read_data's message. */
pcmup_status pcmup__idx_read_exact(pcmup__idx_reader *r, unsigned char *buf, size_t len,
                                   size_t have);

/* After the last data byte: anything more is PCMUP_ERR_FORMAT, as in
 * pcmup__idx_read_data. */
pcmup_status pcmup__idx_check_end(pcmup__idx_reader *r);

/* Releases the reader's file, buffer and decoder. */
void pcmup__idx_close(pcmup__idx_reader *r);

#endif /* PCMUP_IDX_H */
