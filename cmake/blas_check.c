/* SPDX-License-Identifier: MIT */
/* Configure-time check: CBLAS takes the integer width libpcmup passes. */
#include <cblas.h>
#include <stdio.h>

int main(void)
{
#ifdef OPENBLAS_CONFIG_H
    if (sizeof(blasint) != sizeof(int)) {
        printf("blasint is %d bytes, libpcmup passes %d-byte int", (int)sizeof(blasint),
               (int)sizeof(int));
        return 1;
    }
#endif
    /* (2x3) * (3x2): a wrong integer width garbles m, n, k and the result. */
    const float a[6] = {1, 2, 3, 4, 5, 6};
    const float b[6] = {7, 8, 9, 10, 11, 12};
    float c[4] = {0, 0, 0, 0};
    const float want[4] = {58, 64, 139, 154};
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2, 2, 3, 1.0f, a, 3, b, 2, 0.0f,
                c, 2);
    for (int i = 0; i < 4; i++) {
        if (c[i] != want[i]) {
            printf("sgemm returned %g at %d, expected %g", c[i], i, want[i]);
            return 1;
        }
    }
    printf("sgemm with %d-byte integers ok", (int)sizeof(int));
    return 0;
}
