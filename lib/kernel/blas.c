/* SPDX-License-Identifier: MIT */
/*
 * blas.c -- the CBLAS calls of the library, on contiguous row-major
 * arrays, and the log of level-3 products (kernel.h).
 *
 * One place turns size_t into BLAS's int and 'N' / 'T' into CBLAS's
 * enums, so the layers and rules write products as the formulas read.
 */
#include "kernel/kernel.h"

#include <cblas.h>

static enum CBLAS_TRANSPOSE cblas_trans(char trans)
{
    return trans == 'T' ? CblasTrans : CblasNoTrans;
}

/* ---- the level-3 log -------------------------------------------------------- */

void pcmup__gemm_log_init(pcmup__gemm_log *log, pcmup__gemm_shape *shapes, size_t capacity)
{
    log->shapes = shapes;
    log->capacity = capacity;
    pcmup__gemm_log_clear(log);
}

void pcmup__gemm_log_clear(pcmup__gemm_log *log)
{
    if (!log)
        return;
    log->count = 0;
    log->flops = 0;
}

uint64_t pcmup__gemm_flops(const pcmup__gemm_shape *shape)
{
    const uint64_t m = shape->m, n = shape->n, k = shape->k;
    switch (shape->kind) {
    case 's': return n * (n + 1) * k;
    case 't': return m * n * k;
    default: return 2 * m * n * k;
    }
}

static void record(pcmup__gemm_log *log, pcmup__gemm_shape shape)
{
    if (log->count < log->capacity)
        log->shapes[log->count] = shape;
    log->count++;
    log->flops += pcmup__gemm_flops(&shape);
}

/* ---- level 3 ------------------------------------------------------------- */

void pcmup__k_sgemm(pcmup__gemm_log *log, char trans_a, char trans_b, size_t m, size_t n,
                    size_t k, float alpha, const float *a, const float *b, float beta, float *c)
{
    if (log)
        record(log, (pcmup__gemm_shape){'g', 's', trans_a, trans_b, 0, m, n, k, alpha, beta});
    const int lda = (int)(trans_a == 'T' ? m : k), ldb = (int)(trans_b == 'T' ? k : n);
    cblas_sgemm(CblasRowMajor, cblas_trans(trans_a), cblas_trans(trans_b), (int)m, (int)n,
                (int)k, alpha, a, lda, b, ldb, beta, c, (int)n);
}

void pcmup__k_dgemm(pcmup__gemm_log *log, char trans_a, char trans_b, size_t m, size_t n,
                    size_t k, double alpha, const double *a, const double *b, double beta,
                    double *c)
{
    if (log)
        record(log, (pcmup__gemm_shape){'g', 'd', trans_a, trans_b, 0, m, n, k, alpha, beta});
    const int lda = (int)(trans_a == 'T' ? m : k), ldb = (int)(trans_b == 'T' ? k : n);
    cblas_dgemm(CblasRowMajor, cblas_trans(trans_a), cblas_trans(trans_b), (int)m, (int)n,
                (int)k, alpha, a, lda, b, ldb, beta, c, (int)n);
}

void pcmup__k_ssyrk_lower(pcmup__gemm_log *log, char trans, size_t n, size_t k, float alpha,
                          const float *a, float *c)
{
    if (log)
        record(log, (pcmup__gemm_shape){'s', 's', trans, 0, 0, n, n, k, alpha, 0.0});
    const int lda = (int)(trans == 'T' ? n : k);
    cblas_ssyrk(CblasRowMajor, CblasLower, cblas_trans(trans), (int)n, (int)k, alpha, a, lda,
                0.0f, c, (int)n);
}

void pcmup__k_dsyrk_lower_ld(pcmup__gemm_log *log, char trans, size_t n, size_t k,
                             double alpha, const double *a, size_t lda, double beta, double *c,
                             size_t ldc)
{
    if (log)
        record(log, (pcmup__gemm_shape){'s', 'd', trans, 0, 0, n, n, k, alpha, beta});
    cblas_dsyrk(CblasRowMajor, CblasLower, cblas_trans(trans), (int)n, (int)k, alpha, a,
                (int)lda, beta, c, (int)ldc);
}

void pcmup__k_dsyrk_lower(pcmup__gemm_log *log, char trans, size_t n, size_t k, double alpha,
                          const double *a, double *c)
{
    pcmup__k_dsyrk_lower_ld(log, trans, n, k, alpha, a, trans == 'T' ? n : k, 0.0, c, n);
}

void pcmup__k_dtrsm_lower_ld(pcmup__gemm_log *log, char side, char trans, size_t m, size_t n,
                             double alpha, const double *g, size_t ldg, double *b, size_t ldb)
{
    if (log)
        record(log, (pcmup__gemm_shape){'t', 'd', trans, 0, side, m, n, side == 'L' ? m : n,
                                        alpha, 0.0});
    cblas_dtrsm(CblasRowMajor, side == 'L' ? CblasLeft : CblasRight, CblasLower,
                cblas_trans(trans), CblasNonUnit, (int)m, (int)n, alpha, g, (int)ldg, b,
                (int)ldb);
}

void pcmup__k_dtrsm_lower(pcmup__gemm_log *log, char side, char trans, size_t m, size_t n,
                          double alpha, const double *g, double *b)
{
    pcmup__k_dtrsm_lower_ld(log, side, trans, m, n, alpha, g, side == 'L' ? m : n, b, n);
}

/* ---- levels 1 and 2 ------------------------------------------------------ */

void pcmup__k_sgemv(char trans, size_t m, size_t n, float alpha, const float *a,
                    const float *x, float beta, float *y)
{
    cblas_sgemv(CblasRowMajor, cblas_trans(trans), (int)m, (int)n, alpha, a, (int)n, x, 1,
                beta, y, 1);
}

void pcmup__k_saxpy(size_t n, float alpha, const float *x, float *y)
{
    cblas_saxpy((int)n, alpha, x, 1, y, 1);
}

void pcmup__k_sscal(size_t n, float alpha, float *x)
{
    cblas_sscal((int)n, alpha, x, 1);
}

void pcmup__k_dscal(size_t n, double alpha, double *x)
{
    cblas_dscal((int)n, alpha, x, 1);
}

/* ---- threads ------------------------------------------------------------- */

int pcmup__k_set_threads(int n)
{
#ifdef PCMUP_HAVE_OPENBLAS_THREADS
    openblas_set_num_threads(n);
    return 0;
#else
    (void)n;
    return -1;
#endif
}
