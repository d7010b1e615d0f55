/* SPDX-License-Identifier: MIT */
/*
 * kernel.h -- the numeric kernels every other part of lib/ computes with:
 * BLAS products (blas.c), dense double linear algebra (linalg.c) and
 * vector sums and conversions (vec.c). Nothing else in lib/ includes
 * <cblas.h> or calls LAPACK.
 *
 * Conventions. Matrices are row-major and contiguous: a matrix of r rows
 * and c columns occupies r * c consecutive elements, and its leading
 * dimension is c. "op(a)" is a or its transpose, as the trans argument
 * 'N' or 'T' says. Every buffer is the caller's: nothing here allocates,
 * and nothing keeps state between calls. Sizes are size_t here and must
 * fit BLAS's 32-bit integers (callers check against PCMUP_MAX_DIM).
 *
 * Prefix pcmup__k_: the kernel's functions, hidden from the shared library
 * like every pcmup__ function.
 */
#ifndef PCMUP_KERNEL_H
#define PCMUP_KERNEL_H

#include <stddef.h>
#include <stdint.h>

/* ---- counting level-3 products (blas.c) -------------------------------------
 * A benchmark measures a step against the time of its own level-3 BLAS
 * products: it needs the exact list of them a step issues, with what it
 * takes to issue each one again the same way. A log attached to a product
 * records each one; a NULL log records nothing, so the cost when nobody
 * counts is one branch per product. Every level-3 call the library makes
 * goes through a function below that takes a log: GEMMs, SYRKs (Gram
 * matrices) and TRSMs (the triangular solves against a Cholesky factor);
 * LAPACK's factorisations are not level-3 BLAS and are not logged. The
 * names keep "gemm" from when GEMMs were all the log held. */

typedef struct {
    char kind;             /* 'g' gemm, 's' syrk (lower), 't' trsm (lower, non-unit) */
    char precision;        /* 's' (float) or 'd' (double) */
    char trans_a, trans_b; /* 'N' or 'T'; trans_b only for gemm */
    char side;             /* trsm: 'L' (op(a)^-1 b) or 'R' (b op(a)^-1); else 0 */
    /* gemm: op(a) is m x k, op(b) k x n, c m x n.
     * syrk: c is n x n (m = n), op(a) n x k.
     * trsm: b is m x n, the triangle a is k x k (k = m on the left, n on
     * the right). */
    size_t m, n, k;
    double alpha, beta;    /* beta: 0 for trsm */
} pcmup__gemm_shape;

typedef struct {
    pcmup__gemm_shape *shapes; /* capacity entries */
    size_t capacity;
    /* Products since the last clear; only the first `capacity` shapes are
     * kept when there were more, but count and flops cover all of them. */
    size_t count;
    uint64_t flops; /* sum of pcmup__gemm_flops */
} pcmup__gemm_log;

/* An empty log that keeps up to `capacity` shapes in `shapes`. */
void pcmup__gemm_log_init(pcmup__gemm_log *log, pcmup__gemm_shape *shapes, size_t capacity);
/* Forgets every recorded product (NULL: no-op). */
void pcmup__gemm_log_clear(pcmup__gemm_log *log);
/* The product's floating-point operations, one multiply and one add per
 * term: 2 m n k for a gemm, n (n + 1) k for a syrk (one triangle), m n k
 * for a trsm. */
uint64_t pcmup__gemm_flops(const pcmup__gemm_shape *shape);

/* ---- BLAS (blas.c) ------------------------------------------------------- */

/* c = alpha op(a) op(b) + beta c with op(a) m x k, op(b) k x n and c m x n;
 * recorded in `log` when it is not NULL. */
void pcmup__k_sgemm(pcmup__gemm_log *log, char trans_a, char trans_b, size_t m, size_t n,
                    size_t k, float alpha, const float *a, const float *b, float beta, float *c);
void pcmup__k_dgemm(pcmup__gemm_log *log, char trans_a, char trans_b, size_t m, size_t n,
                    size_t k, double alpha, const double *a, const double *b, double beta,
                    double *c);

/* y = alpha op(a) x + beta y for the m x n matrix a. */
void pcmup__k_sgemv(char trans, size_t m, size_t n, float alpha, const float *a,
                    const float *x, float beta, float *y);

/* The lower triangle (diagonal included) of the n x n matrix c becomes
 * alpha op(a) op(a)^T: trans 'N' takes a as n x k (c = alpha a a^T), 'T'
 * as k x n (c = alpha a^T a). The strict upper triangle is not touched.
 * Recorded in `log` when it is not NULL. */
void pcmup__k_ssyrk_lower(pcmup__gemm_log *log, char trans, size_t n, size_t k, float alpha,
                          const float *a, float *c);
void pcmup__k_dsyrk_lower(pcmup__gemm_log *log, char trans, size_t n, size_t k, double alpha,
                          const double *a, double *c);

/* b <- alpha op(g)^-1 b (side 'L', b m x n, g m x m) or b <- alpha b op(g)^-1
 * (side 'R', g n x n) with the lower triangle of g (diagonal included,
 * not unit); recorded in `log` when it is not NULL. */
void pcmup__k_dtrsm_lower(pcmup__gemm_log *log, char side, char trans, size_t m, size_t n,
                          double alpha, const double *g, double *b);

/* The two above on blocks of larger matrices: leading dimensions of
 * their own, and c = alpha op(a) op(a)^T + beta c. */
void pcmup__k_dsyrk_lower_ld(pcmup__gemm_log *log, char trans, size_t n, size_t k,
                             double alpha, const double *a, size_t lda, double beta, double *c,
                             size_t ldc);
void pcmup__k_dtrsm_lower_ld(pcmup__gemm_log *log, char side, char trans, size_t m, size_t n,
                             double alpha, const double *g, size_t ldg, double *b, size_t ldb);

/* Sets the BLAS library's thread count (n >= 1): 0, or -1 when the
 * library offers no such control. The setting is the BLAS library's own,
 * process-wide. */
int pcmup__k_set_threads(int n);

/* y += alpha x;  x *= alpha. */
void pcmup__k_saxpy(size_t n, float alpha, const float *x, float *y);
void pcmup__k_sscal(size_t n, float alpha, float *x);
void pcmup__k_dscal(size_t n, double alpha, double *x);

/* ---- vectors (vec.c) --------------------------------------------------------
 * Sums over float data accumulate in double, left to right. */

/* sum_i x_i^2 */
double pcmup__k_sum_sq(const float *x, size_t n);
/* 1 when every x_i is finite (no NaN, no infinity), else 0. */
int pcmup__k_all_finite(const float *x, size_t n);
/* sum_i x_i y_i */
double pcmup__k_dot(const float *x, const float *y, size_t n);

/* dst[i] = src[i] for i < n, widening or rounding to nearest; the argument
 * order is memcpy's (destination first). */
void pcmup__k_f32_to_f64(double *dst, const float *src, size_t n);
void pcmup__k_f64_to_f32(float *dst, const double *src, size_t n);
/* The lower triangle (diagonal included) of the n x n src into dst's;
 * dst's strict upper triangle is not touched. */
void pcmup__k_f32_to_f64_lower(double *dst, const float *src, size_t n);

/* ---- dense symmetric linear algebra in double (linalg.c) --------------------
 * Cholesky factorisation, solves against it, and the symmetric
 * eigendecomposition. LAPACK's dpotrf and dsyevd from the BLAS library
 * when the build found them (PCMUP_HAVE_LAPACK; OpenBLAS ships LAPACK),
 * the written-out kernels below otherwise. Only the lower triangle of a
 * symmetric input is read. */

/* a += v I for the n x n matrix a. */
void pcmup__k_add_diagonal(double *a, size_t n, double v);

/* Whether the kernels run on LAPACK (1) or on the written-out ones (0). */
int pcmup__k_has_lapack(void);

/* Factorises the symmetric positive definite a = G G^T in place: the lower
 * triangle (diagonal included) receives G, the strict upper triangle is
 * left unspecified. Returns 0, or k + 1 if the k-th pivot (0-based) is not
 * positive or not finite; a is then partly factorised and unusable. */
size_t pcmup__k_chol(double *a, size_t n);
/* The same with the level-3 products of the factorisation recorded in
 * `log`: up to order 16 it is pcmup__k_chol_unblocked (a LAPACK call
 * costs more than the arithmetic there), above order 96 it splits recursively, its off-diagonal blocks
 * by dtrsm and dsyrk, so that all but a few percent of its FLOPs are
 * level-3 products (LAPACK's dpotrf does the same inside, unseen). */
size_t pcmup__k_chol_log(pcmup__gemm_log *log, double *a, size_t n);

/* b <- b (G G^T)^-1 for the n_rhs x n matrix b, with G from pcmup__k_chol:
 * every row of b is solved against the symmetric matrix. */
void pcmup__k_spd_solve_rows(const double *g, size_t n, double *b, size_t n_rhs);
/* The same with its two triangular solves recorded in `log` (side 'R'), or
 * with side 'L': b <- (G G^T)^-1 b for the n x n_rhs matrix b (every
 * column solved). Up to order 16 with at most 16 right-hand sides the
 * solves are written-out loops, not BLAS calls, and are not logged. */
void pcmup__k_spd_solve(pcmup__gemm_log *log, char side, const double *g, size_t n, double *b,
                        size_t n_rhs);

/* The doubles of workspace pcmup__k_sym_eig needs for order n, with
 * (vectors = 1) or without eigenvectors; 0 when n is 0 or too large for
 * LAPACK's integers. */
size_t pcmup__k_sym_eig_work(size_t n, int vectors);

/* Eigendecomposition A = V diag(w) V^T of the symmetric n x n matrix in a
 * (lower triangle read; a is overwritten). w receives the eigenvalues in
 * ascending order. With vectors = 1, row j of a receives the unit
 * eigenvector of w[j], so that a holds V^T; with vectors = 0, a is left
 * unspecified. `work` holds what pcmup__k_sym_eig_work asks for. Returns
 * 0, or -1 if a holds a non-finite value or the solver did not converge. */
int pcmup__k_sym_eig(double *a, size_t n, double *w, int vectors, double *work);

/* The written-out kernels behind the two above, needing nothing but libm.
 * Compiled in every build so that the tests check them against LAPACK.
 * pcmup__k_chol_unblocked also zeroes the strict upper triangle.
 * pcmup__k_sym_eig_jacobi (cyclic Jacobi) reads both triangles and needs
 * n * n doubles of work for the eigenvectors (none without); it rotates
 * until the off-diagonal Frobenius norm is below 1e-15 times the matrix's,
 * so every eigenvalue is within about 1e-15 ||a||_F. */
size_t pcmup__k_chol_unblocked(double *a, size_t n);
int pcmup__k_sym_eig_jacobi(double *a, size_t n, double *w, int vectors, double *work);

#endif
