/*
 * idx.h -- the IDX file reader (the MNIST / FashionMNIST format), used by
 * dataset.c to build datasets. Internal; nothing here is exported.
 *
 * An IDX file is a 4-byte magic (0x00 0x00 type ndims), ndims big-endian
 * uint32 dimensions, then the data in row-major order. Only type 0x08
 * (unsigned byte) is read. The file may be gzip-compressed; a name ending
 * in ".gz" must be.
 */
#ifndef PCMUP_IDX_H
#define PCMUP_IDX_H

#include "internal.h"

/* What the file must hold. */
typedef enum {
    PCMUP__IDX_IMAGES, /* ndims >= 1: dims[0] samples, the rest flattened */
    PCMUP__IDX_LABELS  /* ndims == 1: one byte per sample                 */
} pcmup__idx_kind;

/* A file's contents: count samples of item_size bytes each. */
typedef struct {
    size_t count;        /* dims[0], >= 1                              */
    size_t item_size;    /* product of dims[1..], in [1, PCMUP_MAX_DIM] */
    unsigned char *data; /* count * item_size bytes, from the allocator */
} pcmup__idx;

/* Reads `path` whole into *out (data allocated through `a`; the caller
 * frees it with pcmup__free). `caller` names the public function in error
 * messages. Trailing bytes after the data are rejected, because they mean
 * the header's dimensions do not describe the file.
 * Returns PCMUP_ERR_IO (cannot open or read), PCMUP_ERR_FORMAT (malformed,
 * truncated, implausible sizes) or PCMUP_ERR_NOMEM; *out is untouched on
 * failure. */
pcmup_status pcmup__idx_read(const pcmup_allocator *a, const char *path,
                             pcmup__idx_kind kind, const char *caller, pcmup__idx *out);

#endif /* PCMUP_IDX_H */
