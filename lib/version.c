/* SPDX-License-Identifier: MIT */
/*
 * version.c -- runtime version queries and the BLAS thread control.
 */
#include "internal.h"
#include "kernel/kernel.h"

#define PCMUP_STR_(x) #x
#define PCMUP_STR(x) PCMUP_STR_(x)

const char *pcmup_version_string(void)
{
    return PCMUP_STR(PCMUP_VERSION_MAJOR) "." PCMUP_STR(PCMUP_VERSION_MINOR) "." PCMUP_STR(
        PCMUP_VERSION_PATCH);
}

unsigned pcmup_version_number(void)
{
    return PCMUP_VERSION_NUMBER;
}

pcmup_status pcmup_set_blas_threads(int n)
{
    if (n < 1)
        return pcmup__fail(PCMUP_ERR_INVALID, __func__, "thread count %d is below 1", n);
    if (pcmup__k_set_threads(n) != 0)
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, __func__,
                           "the BLAS library libpcmup was built with has no thread control");
    return PCMUP_OK;
}
