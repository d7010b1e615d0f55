/* SPDX-License-Identifier: MIT */
/*
 * safetensors.h -- the safetensors file format, read and written with no
 * dependency beyond zlib's crc32: what checkpoints (checkpoint.c) are
 * stored in, so that PyTorch, JAX and a few lines of NumPy read them too.
 *
 * A file is
 *
 *     8 bytes     N, the header's length, unsigned little-endian
 *     N bytes     the header: a UTF-8 JSON object, padded with spaces
 *     the rest    the data: every tensor's bytes, little-endian, C order
 *
 * The header maps each tensor's name to {"dtype", "shape", "data_offsets"}
 * (offsets relative to the start of the data, [begin, end)), and the
 * optional key "__metadata__" to an object of strings. Only F32 tensors
 * are written and accepted here: checkpoints hold nothing else.
 *
 * The reader trusts nothing: the header length against the file, the JSON
 * (strictly RFC 8259, valid UTF-8, no duplicate keys), every shape against
 * its byte range (overflow checked), and the ranges against each other:
 * they must cover the data exactly, without overlap or hole, as the
 * format's description asks. Its allocations are bounded by the header's
 * length. When the metadata holds "crc32" (8 lower-case hex digits, which
 * the writer always adds), it must be the CRC-32 (zlib's) of the data.
 *
 * The writer lays the tensors out in the order given, computes the
 * CRC-32, and writes the file safely: into a new temporary file in the
 * same directory, flushed to disk (fsync), then renamed over `path`, so
 * that a failure at any point leaves an existing file at `path` intact.
 */
#ifndef PCMUP_SAFETENSORS_H
#define PCMUP_SAFETENSORS_H

#include "internal.h"

/* A tensor has at most this many dimensions (a convolution's 4). */
#define PCMUP__ST_MAX_RANK 8
/* The largest header accepted or written (the format's reference
 * implementation uses the same limit). */
#define PCMUP__ST_MAX_HEADER ((size_t)100000000)

/* One F32 tensor. rank 0 is a scalar (one float). */
typedef struct {
    const char *name;                  /* UTF-8, non-empty, not "__metadata__" */
    size_t rank;
    size_t shape[PCMUP__ST_MAX_RANK];
    const float *data;                 /* product(shape) floats */
} pcmup__st_tensor;

/* One metadata entry: both strings UTF-8. */
typedef struct {
    const char *key;
    const char *value;
} pcmup__st_meta;

/* A file read and checked. Every string and array is owned by it; tensor
 * data points into `bytes`. */
typedef struct {
    pcmup_allocator alloc;
    unsigned char *bytes;        /* the whole file */
    size_t size;
    pcmup__st_tensor *tensors;   /* by offset (then end, then name), NULL if none */
    size_t n_tensors;
    pcmup__st_meta *meta;        /* in the order of the header, NULL if none */
    size_t n_meta;
    /* Tensor data is aligned for floats only when the header length is a
     * multiple of 4 (the writer pads it to 8); otherwise the reader copies
     * the data to an aligned block, which `aligned` owns. */
    float *aligned;
    char *strings;               /* the names, keys and values, unescaped */
} pcmup__st_file;

/* Parses `size` bytes, which *f takes over (freed with it, through
 * `alloc`, also on failure). Errors are PCMUP_ERR_FORMAT with a message
 * naming what is wrong ("tensor \"layer1.weight\": data_offsets [0, 12]
 * hold 12 bytes, its shape [2, 2] needs 16"), PCMUP_ERR_NOMEM, reported
 * under `func`. On failure *f is empty (pcmup__st_free is a no-op). */
pcmup_status pcmup__st_parse(pcmup__st_file *f, unsigned char *bytes, size_t size,
                             const pcmup_allocator *alloc, const char *func);

/* The same, except that "crc32" is not compared with the data (its form
 * is still checked): for the checkpoint fuzz target alone, whose random
 * inputs must get past the CRC to reach the code behind it. */
pcmup_status pcmup__st_parse_unchecked(pcmup__st_file *f, unsigned char *bytes, size_t size,
                                       const pcmup_allocator *alloc, const char *func);

/* Reads the file at `path` whole (PCMUP_ERR_IO when it cannot be opened
 * or read, naming the path and strerror) and parses it. */
pcmup_status pcmup__st_read(pcmup__st_file *f, const char *path, const pcmup_allocator *alloc,
                            const char *func);

void pcmup__st_free(pcmup__st_file *f);

/* The tensor or metadata value of that name, or NULL. */
const pcmup__st_tensor *pcmup__st_tensor_find(const pcmup__st_file *f, const char *name);
const char *pcmup__st_meta_find(const pcmup__st_file *f, const char *key);

/* Floats a tensor holds (the product of its shape; 1 for a scalar). The
 * reader has checked it does not overflow. */
size_t pcmup__st_floats(const pcmup__st_tensor *t);

/* Writes the tensors and the metadata (plus "crc32") to `path` as above.
 * PCMUP_ERR_INVALID for a name or key that is empty, repeated, not UTF-8
 * or reserved ("__metadata__", "crc32"); PCMUP_ERR_IO naming the path and
 * strerror when the file cannot be written; PCMUP_ERR_NOMEM. */
pcmup_status pcmup__st_write(const char *path, const pcmup__st_tensor *tensors,
                             size_t n_tensors, const pcmup__st_meta *meta, size_t n_meta,
                             const pcmup_allocator *alloc, const char *func);

#endif
