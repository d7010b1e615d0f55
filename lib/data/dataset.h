/* SPDX-License-Identifier: MIT */
/*
 * dataset.h -- what dataset.c gives the file loaders (its own IDX and
 * FashionMNIST loading, and cifar.c), so that every loader builds its
 * dataset, scales its bytes, applies the byte limit and names its files
 * the same way. Internal; nothing here is exported.
 */
#ifndef PCMUP_DATA_DATASET_H
#define PCMUP_DATA_DATASET_H

#include "internal.h"

/* An uninitialised dataset of n samples of dimension dim and n_classes
 * classes, every byte from `a` (copied into the dataset); NULL when an
 * allocation fails. The caller has checked the sizes (n * dim floats fit
 * in size_t) and fills every row with pcmup__dataset_set_bytes. */
pcmup_dataset *pcmup__dataset_new(const pcmup_allocator *a, size_t n, size_t dim,
                                  size_t n_classes);

/* Row i: dim bytes scaled to [0, 1] (b / 255, as every loader of image
 * bytes scales them) and its label (in [0, n_classes): checked by the
 * caller). */
void pcmup__dataset_set_bytes(pcmup_dataset *ds, size_t i, const unsigned char *bytes,
                              int32_t label);

/* max_bytes of a _limited loader: 0 is PCMUP_ERR_INVALID. */
pcmup_status pcmup__dataset_check_max_bytes(size_t max_bytes, const char *caller);

/* max_samples of a _head loader: 0 is PCMUP_ERR_INVALID (SIZE_MAX: all). */
pcmup_status pcmup__dataset_check_max_samples(size_t max_samples, const char *caller);

/* The loaders' byte limit (pcmup.h, PCMUP_DATASET_MAX_BYTES_DEFAULT), judged
 * before any data is read: n samples of dimension dim must take at most
 * max_bytes. Otherwise PCMUP_ERR_FORMAT, with the message
 * "<name>: <source> <n> samples of dimension <dim>, a dataset of B bytes,
 * over the limit of max_bytes bytes", where `source` says where the count
 * comes from ("the header declares"). */
pcmup_status pcmup__dataset_check_limit(const char *name, const char *source, size_t n,
                                        size_t dim, size_t max_bytes, const char *caller);

/* The checks a directory loader (FashionMNIST, CIFAR-10) makes after its
 * NULL checks: a known split, max_samples >= 1 (SIZE_MAX for a whole
 * split), max_bytes >= 1 and a usable allocator, which it then copies, or
 * the default, into *a. */
pcmup_status pcmup__dataset_loader_start(pcmup_split split, size_t max_samples,
                                         size_t max_bytes, const pcmup_allocator *allocator,
                                         pcmup_allocator *a, const char *caller);

/* "dir/name" in a buffer from `a` with room for `extra` more characters
 * (a suffix the caller may append). */
pcmup_status pcmup__dataset_path(const pcmup_allocator *a, const char *dir, const char *name,
                                 size_t extra, const char *caller, char **path);

/* A short text for an errno value after a failed fopen or fread
 * ("no such file or directory"). strerror() is not thread-safe and
 * strerror_r() has two incompatible signatures, so the loaders name the
 * common causes themselves. */
const char *pcmup__errno_text(int err);

#endif /* PCMUP_DATA_DATASET_H */
