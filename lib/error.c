/* SPDX-License-Identifier: MIT */
/*
 * error.c -- status names, the per-thread last-error message, and the
 * argument checks several entry points share.
 *
 * The message is thread-local (like errno) so that constructors, which have
 * no handle yet, can report too, and so that distinct threads never share it.
 */
#include "internal.h"

#include <stdio.h>

static _Thread_local char last_error[512];

static const struct {
    const char *name;
    const char *message;
} status_table[] = {
    [PCMUP_OK] = {"PCMUP_OK", "no error"},
    [PCMUP_ERR_NULL] = {"PCMUP_ERR_NULL", "a required pointer argument is NULL"},
    [PCMUP_ERR_INVALID] = {"PCMUP_ERR_INVALID", "an argument or setting value is invalid"},
    [PCMUP_ERR_SHAPE] = {"PCMUP_ERR_SHAPE", "sizes or widths do not match"},
    [PCMUP_ERR_NOMEM] = {"PCMUP_ERR_NOMEM", "the allocator returned NULL (out of memory)"},
    [PCMUP_ERR_IO] = {"PCMUP_ERR_IO", "a file could not be opened or read"},
    [PCMUP_ERR_FORMAT] = {"PCMUP_ERR_FORMAT", "a data file is malformed or over a limit"},
    [PCMUP_ERR_DIVERGED] = {"PCMUP_ERR_DIVERGED", "training produced a non-finite loss, weight or state"},
    [PCMUP_ERR_UNSUPPORTED] = {"PCMUP_ERR_UNSUPPORTED",
                               "a valid request this object does not serve"},
};

#define N_STATUS (sizeof status_table / sizeof status_table[0])

const char *pcmup_status_name(pcmup_status status)
{
    if ((unsigned)status >= N_STATUS)
        return "PCMUP_ERR_UNKNOWN";
    return status_table[status].name;
}

const char *pcmup_status_message(pcmup_status status)
{
    if ((unsigned)status >= N_STATUS)
        return "unknown status code";
    return status_table[status].message;
}

const char *pcmup_last_error(void)
{
    return last_error;
}

pcmup_status pcmup__fail(pcmup_status status, const char *func, const char *fmt, ...)
{
    int used = snprintf(last_error, sizeof last_error, "%s: ", func);
    if (used < 0 || (size_t)used >= sizeof last_error)
        used = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error + used, sizeof last_error - (size_t)used, fmt, ap);
    va_end(ap);
    return status;
}

pcmup_status pcmup__check_labels(const int32_t *labels, size_t n, size_t n_classes,
                                 const char *func)
{
    if (!labels)
        return pcmup__fail(PCMUP_ERR_NULL, func, "labels is NULL");
    for (size_t i = 0; i < n; i++)
        if (labels[i] < 0 || (size_t)labels[i] >= n_classes)
            return pcmup__fail(PCMUP_ERR_INVALID, func,
                               "label %ld of sample %zu is outside [0, %zu)", (long)labels[i], i,
                               n_classes);
    return PCMUP_OK;
}

pcmup_status pcmup__check_count(size_t given, size_t rows, size_t cols, const char *name,
                                const char *func)
{
    int overflow = 0;
    size_t want = pcmup__mul(rows, cols, &overflow);
    if (overflow)
        return pcmup__fail(PCMUP_ERR_SHAPE, func, "%s is %zu, expected %zu x %zu, which overflows",
                           name, given, rows, cols);
    if (given == want)
        return PCMUP_OK;
    if (cols == 1)
        return pcmup__fail(PCMUP_ERR_SHAPE, func, "%s is %zu, expected %zu", name, given, want);
    return pcmup__fail(PCMUP_ERR_SHAPE, func, "%s is %zu, expected %zu (%zu x %zu)", name, given,
                       want, rows, cols);
}
