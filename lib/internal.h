/* SPDX-License-Identifier: MIT */
/*
 * internal.h -- what every file in lib/ shares: the allocator, error
 * reporting and the guards every public function starts with.
 * Nothing here is exported from the shared library.
 */
#ifndef PCMUP_INTERNAL_H
#define PCMUP_INTERNAL_H

#include "pcmup.h"

#include <assert.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#  define PCMUP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#  define PCMUP_PRINTF(f, a)
#endif

/* PCMUP_VECTOR_CLONES before an elementwise loop's static function (GCC
 * exports the dispatcher of a non-static one, hidden or not): on x86-64
 * Linux, GCC compiles it for AVX-512, AVX2 and the baseline, and the
 * loader picks the widest the CPU has (an ifunc). The baseline's SSE2
 * does 4 floats an instruction, so tanh and PC's state updates cost as
 * much as a narrow layer's GEMMs without it. The clones compute the same
 * bits: no FMA contraction (-ffp-contract=off, CMakeLists.txt), and
 * vectorising reorders no float operation (no reductions in them).
 * Not under ThreadSanitizer: the loader runs an ifunc's resolver before
 * TSan's runtime is up, and the instrumented resolver crashes (every
 * program, at start). ASan and UBSan builds keep the clones. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) \
    && !defined(PCMUP_NO_VECTOR_CLONES) && !defined(__SANITIZE_THREAD__)
#  define PCMUP_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#  define PCMUP_VECTOR_CLONES
#endif
/* On the scalar helpers such a loop calls (tanh_float): each clone must
 * inline its own copy, or it calls one scalar baseline function per element. */
#if defined(__GNUC__)
#  define PCMUP_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#  define PCMUP_ALWAYS_INLINE inline
#endif

/* ---- allocator (alloc.c) ----------------------------------------------------
 * Every handle copies the caller's allocator (or the default) at creation
 * and sends all its memory through it. */
void pcmup__allocator_init(pcmup_allocator *dst, const pcmup_allocator *src);
/* Returns NULL on overflow of n * size or when the allocator fails. */
void *pcmup__alloc(const pcmup_allocator *a, size_t n, size_t size);
void *pcmup__alloc_zero(const pcmup_allocator *a, size_t n, size_t size);
/* pcmup__alloc, with every page of the block faulted in now (contents
 * unspecified): for the buffers a step writes, so that the first step does
 * not pay the page faults (alloc.c says why). */
void *pcmup__alloc_populated(const pcmup_allocator *a, size_t n, size_t size);
void pcmup__free(const pcmup_allocator *a, void *p);
/* PCMUP_OK for a usable allocator: NULL (the default), or a struct whose
 * size covers this release's members and whose three functions are set;
 * else PCMUP_ERR_INVALID reported under `func`. */
pcmup_status pcmup__allocator_check(const pcmup_allocator *a, const char *func);
/* Makes *buf hold n elements of `size` bytes unless it holds *cap >= n
 * already; the contents are not kept, and *cap becomes n. A new block is
 * populated (pcmup__alloc_populated): grow reserves what steps write. On failure
 * (PCMUP_ERR_NOMEM naming `what`) *buf and *cap are as they were. */
pcmup_status pcmup__grow(const pcmup_allocator *a, void **buf, size_t *cap, size_t n,
                         size_t size, const char *what, const char *func);

/* ---- errors (error.c) -------------------------------------------------------
 * pcmup__fail records "func: message" as this thread's last error and
 * returns `status`, so a public function reports with
 *     return pcmup__fail(PCMUP_ERR_SHAPE, __func__, "layer %zu: ...", l);   */
pcmup_status pcmup__fail(pcmup_status status, const char *func, const char *fmt, ...)
    PCMUP_PRINTF(3, 4);

#define PCMUP_CHECK_NULL(ptr)                                                  \
    do {                                                                       \
        if ((ptr) == NULL)                                                     \
            return pcmup__fail(PCMUP_ERR_NULL, __func__, "%s is NULL", #ptr);  \
    } while (0)

/* Propagates a failing status from a callee. */
#define PCMUP_TRY(expr)                                                        \
    do {                                                                       \
        pcmup_status pcmup__s = (expr);                                        \
        if (pcmup__s != PCMUP_OK)                                              \
            return pcmup__s;                                                   \
    } while (0)

/* Labels non-NULL, and each in [0, n_classes): the check every entry point
 * that takes class labels shares. */
pcmup_status pcmup__check_labels(const int32_t *labels, size_t n, size_t n_classes,
                                 const char *func);

/* The check every function that reads or writes a caller's array makes
 * before it touches the array or anything else: PCMUP_ERR_SHAPE unless
 * `given`, the value of the caller's count argument `name`, is rows * cols
 * (cols = 1 for a plain count), with a message naming both counts:
 * "x_count is 783, expected 784 (1 x 784)". */
pcmup_status pcmup__check_count(size_t given, size_t rows, size_t cols, const char *name,
                                const char *func);

/* Largest dimension BLAS (32-bit integers) can take. */
#define PCMUP_MAX_DIM ((size_t)2147483647)

/* Product a*b, or 0 with *overflow set when it does not fit in size_t. */
size_t pcmup__mul(size_t a, size_t b, int *overflow);

/* ---- settings (settings.c) --------------------------------------------------
 * The check pcmup_algo_set applies to a value of `key`, for a value that
 * stands for a setting elsewhere (the parameterization's e_B). */
pcmup_status pcmup__setting_check(pcmup_setting key, double value, const char *func);

/* ---- dataset internals (dataset.c) ------------------------------------------
 * Read-only views used by the training loop. */
const float *pcmup__dataset_x(const pcmup_dataset *ds);
const int32_t *pcmup__dataset_labels(const pcmup_dataset *ds);
/* pcmup_dataset_load_idx_limited on two files' contents in memory (messages
 * call them "images" and "labels"): the same reader, for the fuzz targets
 * (tests/fuzz/). */
pcmup_status pcmup__dataset_load_idx_mem(pcmup_dataset **out, const void *images,
                                         size_t images_len, const void *labels,
                                         size_t labels_len, size_t max_bytes,
                                         const pcmup_allocator *allocator);
/* pcmup_dataset_load_cifar10_limited on n_batches (1 .. 6) CIFAR-10 batch
 * files' contents in memory, batches[i] of lens[i] bytes, concatenated in
 * order (messages call them "batch 1", "batch 2", ...): the same parser
 * (lib/data/cifar.c), for the fuzz target. */
pcmup_status pcmup__dataset_load_cifar10_mem(pcmup_dataset **out,
                                             const unsigned char *const *batches,
                                             const size_t *lens, size_t n_batches,
                                             size_t max_bytes,
                                             const pcmup_allocator *allocator);

#endif /* PCMUP_INTERNAL_H */
