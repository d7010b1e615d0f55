/*
 * alloc.c -- the allocator every handle sends its memory through.
 */
#include "internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void *default_malloc(void *user, size_t size)
{
    (void)user;
    return malloc(size);
}

static void *default_realloc(void *user, void *ptr, size_t size)
{
    (void)user;
    return realloc(ptr, size);
}

static void default_free(void *user, void *ptr)
{
    (void)user;
    free(ptr);
}

int pcmup__allocator_valid(const pcmup_allocator *a)
{
    return a == NULL || (a->malloc_fn && a->realloc_fn && a->free_fn);
}

void pcmup__allocator_init(pcmup_allocator *dst, const pcmup_allocator *src)
{
    if (src) {
        *dst = *src;
        return;
    }
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

void *pcmup__alloc_zero(const pcmup_allocator *a, size_t n, size_t size)
{
    void *p = pcmup__alloc(a, n, size);
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
    void *p = pcmup__alloc(a, n, size);
    if (!p)
        return pcmup__fail(PCMUP_ERR_NOMEM, func, "cannot allocate %s (%zu x %zu bytes)", what,
                           n, size);
    pcmup__free(a, *buf);
    *buf = p;
    *cap = n;
    return PCMUP_OK;
}
