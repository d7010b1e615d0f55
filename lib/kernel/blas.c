/* SPDX-License-Identifier: MIT */
/*
 * blas.c -- the CBLAS calls of the library, on contiguous row-major
 * arrays, and the GEMM log (kernel.h).
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

/* ---- the GEMM log -------------------------------------------------------- */

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
    return 2 * (uint64_t)shape->m * (uint64_t)shape->n * (uint64_t)shape->k;
}

static void record(pcmup__gemm_log *log, char precision, char trans_a, char trans_b, size_t m,
                   size_t n, size_t k)
{
    const pcmup__gemm_shape shape = {precision, trans_a, trans_b, m, n, k};
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
        record(log, 's', trans_a, trans_b, m, n, k);
    const int lda = (int)(trans_a == 'T' ? m : k), ldb = (int)(trans_b == 'T' ? k : n);
    cblas_sgemm(CblasRowMajor, cblas_trans(trans_a), cblas_trans(trans_b), (int)m, (int)n,
                (int)k, alpha, a, lda, b, ldb, beta, c, (int)n);
}

void pcmup__k_dgemm(pcmup__gemm_log *log, char trans_a, char trans_b, size_t m, size_t n,
                    size_t k, double alpha, const double *a, const double *b, double beta,
                    double *c)
{
    if (log)
        record(log, 'd', trans_a, trans_b, m, n, k);
    const int lda = (int)(trans_a == 'T' ? m : k), ldb = (int)(trans_b == 'T' ? k : n);
    cblas_dgemm(CblasRowMajor, cblas_trans(trans_a), cblas_trans(trans_b), (int)m, (int)n,
                (int)k, alpha, a, lda, b, ldb, beta, c, (int)n);
}

void pcmup__k_ssyrk_lower(char trans, size_t n, size_t k, float alpha, const float *a,
                          float *c)
{
    const int lda = (int)(trans == 'T' ? n : k);
    cblas_ssyrk(CblasRowMajor, CblasLower, cblas_trans(trans), (int)n, (int)k, alpha, a, lda,
                0.0f, c, (int)n);
}

void pcmup__k_dsyrk_lower(char trans, size_t n, size_t k, double alpha, const double *a,
                          double *c)
{
    const int lda = (int)(trans == 'T' ? n : k);
    cblas_dsyrk(CblasRowMajor, CblasLower, cblas_trans(trans), (int)n, (int)k, alpha, a, lda,
                0.0, c, (int)n);
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
