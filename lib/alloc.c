/* SPDX-License-Identifier: MIT */
/*
 * alloc.c -- the allocator every handle sends its memory through.
 */
#define _DEFAULT_SOURCE /* madvise, MADV_HUGEPAGE, MADV_POPULATE_WRITE */

#include "internal.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

/* Blocks this large (a dataset, a wide network's buffers) ask for
 * transparent huge pages where the system offers them on request: first
 * touching a block then costs one page fault per 2 MiB rather than per
 * 4 KiB, which is most of the time it takes to load FashionMNIST and a
 * visible part of a short run's first epoch. Only the default allocator
 * does this; a caller's allocator decides for itself. */
#define HUGE_ADVICE_MIN ((size_t)4 << 20)

static void advise_huge(void *p, size_t size)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (!p || size < HUGE_ADVICE_MIN)
        return;
    /* The whole pages the block spans, not only its aligned 2 MiB: advice
     * on part of a mapping splits it, and realloc could then no longer
     * grow the block in place (mremap) but would copy it. */
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0)
        return;
    uintptr_t mask = (uintptr_t)page - 1;
    uintptr_t start = (uintptr_t)p & ~mask;
    uintptr_t end = ((uintptr_t)p + size + mask) & ~mask;
    /* Advice only: a system without huge pages refuses, and nothing changes. */
    (void)madvise((void *)start, (size_t)(end - start), MADV_HUGEPAGE);
#else
    (void)p;
    (void)size;
#endif
}

static void *default_malloc(void *user, size_t size)
{
    (void)user;
    void *p = malloc(size);
    advise_huge(p, size);
    return p;
}

static void *default_realloc(void *user, void *ptr, size_t size)
{
    (void)user;
    void *p = realloc(ptr, size);
    advise_huge(p, size);
    return p;
}

static void default_free(void *user, void *ptr)
{
    (void)user;
    free(ptr);
}

/* The members every caller's struct has: those of the first release with
 * a size field. Later releases add members after `user`. */
#define ALLOCATOR_MIN_SIZE (offsetof(pcmup_allocator, user) + sizeof(void *))

pcmup_status pcmup__allocator_check(const pcmup_allocator *a, const char *func)
{
    if (a == NULL)
        return PCMUP_OK;
    if (a->size < ALLOCATOR_MIN_SIZE)
        return pcmup__fail(PCMUP_ERR_INVALID, func,
                           "allocator->size is %zu, less than the %zu bytes of its members "
                           "(set it to sizeof(pcmup_allocator), or use PCMUP_ALLOCATOR_INIT)",
                           a->size, (size_t)ALLOCATOR_MIN_SIZE);
    if (!a->malloc_fn || !a->realloc_fn || !a->free_fn)
        return pcmup__fail(PCMUP_ERR_INVALID, func, "allocator has a NULL function");
    return PCMUP_OK;
}

void pcmup__allocator_init(pcmup_allocator *dst, const pcmup_allocator *src)
{
    if (src) {
        /* A caller built against a newer header may pass a larger struct:
         * keep the members this release knows. An older, smaller one
         * leaves the members it lacks zero. */
        size_t n = src->size < sizeof *dst ? src->size : sizeof *dst;
        memset(dst, 0, sizeof *dst);
        memcpy(dst, src, n);
        dst->size = sizeof *dst;
        return;
    }
    dst->size = sizeof *dst;
    dst->malloc_fn = default_malloc;
    dst->realloc_fn = default_realloc;
    dst->free_fn = default_free;
    dst->user = NULL;
}

size_t pcmup__mul(size_t a, size_t b, int *overflow)
{
    if (a != 0 && b > SIZE_MAX / a) {
        *overflow = 1;
        return 0;
    }
    return a * b;
}

void *pcmup__alloc(const pcmup_allocator *a, size_t n, size_t size)
{
    int overflow = 0;
    size_t bytes = pcmup__mul(n, size, &overflow);
    if (overflow)
        return NULL;
    /* malloc(0) may return NULL legitimately; ask for one byte instead so
     * that NULL always means failure. */
    return a->malloc_fn(a->user, bytes ? bytes : 1);
}

/* ---- populating a block ---------------------------------------------------
 * A block a step writes is faulted in when it is reserved, not by the
 * first step that writes it: a first-touch page fault costs 10 to 60 us on
 * a virtual machine, and the hundred or so pages of a small network's
 * buffers were most of what made a short run's first epoch slower than the
 * next (docs/benchmark.md, "The first epoch"). */

static size_t page_size(void)
{
#if defined(__linux__)
    long page = sysconf(_SC_PAGESIZE);
    if (page > 0)
        return (size_t)page;
#endif
    return 4096;
}

/* The default allocator's blocks lie in private anonymous memory (the
 * heap, or malloc's own mappings): one madvise (Linux 5.14 and later)
 * faults in their whole pages in one call, cheaper than one fault per
 * page. 1 when it did; 0 to touch the pages instead (an older kernel
 * refuses with EINVAL, headers without the flag). */
static int populate_advice(void *p, size_t bytes)
{
#if defined(__linux__) && defined(MADV_POPULATE_WRITE)
    const uintptr_t mask = (uintptr_t)page_size() - 1;
    uintptr_t start = ((uintptr_t)p + mask) & ~mask;
    uintptr_t end = ((uintptr_t)p + bytes) & ~mask;
    if (end <= start)
        return 0;
    return madvise((void *)start, (size_t)(end - start), MADV_POPULATE_WRITE) == 0;
#else
    (void)p;
    (void)bytes;
    return 0;
#endif
}

/* Writes a zero into every page of a fresh block (whose contents nobody
 * reads before writing them). A caller's allocator may hand out any
 * memory, so only this, never madvise, for its blocks. */
static void touch_pages(void *p, size_t bytes)
{
    volatile unsigned char *c = p;
    const size_t page = page_size();
    for (size_t i = 0; i < bytes; i += page)
        c[i] = 0;
    c[bytes - 1] = 0;
}

void *pcmup__alloc_populated(const pcmup_allocator *a, size_t n, size_t size)
{
    void *p = pcmup__alloc(a, n, size);
    const size_t bytes = n * size; /* pcmup__alloc checked the product */
    if (!p || bytes == 0)
        return p;
    if (a->malloc_fn == default_malloc && populate_advice(p, bytes)) {
        touch_pages(p, 1); /* the partial pages at either end */
        touch_pages((unsigned char *)p + bytes - 1, 1);
        return p;
    }
    touch_pages(p, bytes);
    return p;
}

/* The memset faults every page in anyway; populated first, the default
 * allocator's pages come in one call instead of one fault each. */
void *pcmup__alloc_zero(const pcmup_allocator *a, size_t n, size_t size)
{
    void *p = pcmup__alloc_populated(a, n, size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void pcmup__free(const pcmup_allocator *a, void *p)
{
    if (p)
        a->free_fn(a->user, p);
}

pcmup_status pcmup__grow(const pcmup_allocator *a, void **buf, size_t *cap, size_t n,
                         size_t size, const char *what, const char *func)
{
    if (n == 0 || (*buf && *cap >= n))
        return PCMUP_OK;
    void *p = pcmup__alloc_populated(a, n, size);
    if (!p)
        return pcmup__fail(PCMUP_ERR_NOMEM, func, "cannot allocate %s (%zu x %zu bytes)", what,
                           n, size);
    pcmup__free(a, *buf);
    *buf = p;
    *cap = n;
    return PCMUP_OK;
}
