/*
 * version.c -- runtime version queries and the BLAS thread control.
 */
#include "internal.h"

#ifdef PCMUP_HAVE_OPENBLAS_THREADS
#include <cblas.h>
#endif

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
#ifdef PCMUP_HAVE_OPENBLAS_THREADS
    openblas_set_num_threads(n);
    return PCMUP_OK;
#else
    return pcmup__fail(PCMUP_ERR_UNSUPPORTED, __func__,
                       "the BLAS library libpcmup was built with has no thread control");
#endif
}
