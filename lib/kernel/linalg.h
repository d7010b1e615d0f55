/*
 * linalg.h -- small dense kernels in double precision: Cholesky
 * factorisation and solve of a symmetric positive definite system, and the
 * eigendecomposition of a symmetric matrix by cyclic Jacobi rotations.
 *
 * They serve the small systems of the local rules: the M_L x M_L matrix
 * I + C_gamma of linear predictive coding at equilibrium (pc_linear.c) and
 * the damped curvature matrices of the Gauss-Newton family (algo_gnt.c).
 * Matrices are n x n, row-major, and every buffer is the caller's: nothing
 * here allocates. Large products stay with CBLAS.
 *
 * Two sets of kernels. The first (pcmup__chol_*, pcmup__sym_eig) is written
 * out and needs nothing but libm: right for matrices of a few dozen rows.
 * The second (pcmup__spd_*, pcmup__sym_eigvec) serves the Gauss-Newton
 * rule, whose Gram matrices have hundreds of rows (B C = 640 for a batch of
 * 64 and 10 classes): it calls LAPACK's dpotrf and dsyevd from the BLAS
 * library when the build found them there (PCMUP_HAVE_LAPACK; OpenBLAS
 * ships LAPACK), and falls back on the first set otherwise. Measured on a
 * 640 x 640 matrix: Jacobi 9.5 s, dsyevd 0.07 s; Cholesky 23 ms by hand,
 * 5 ms by dpotrf (see linalg.c).
 */
#ifndef PCMUP_LINALG_H
#define PCMUP_LINALG_H

#include <stddef.h>

/* Factorises the symmetric matrix a = G G^T in place: on return the lower
 * triangle (diagonal included) holds the Cholesky factor G and the strict
 * upper triangle is zero. Only the lower triangle of a is read. Returns 0,
 * or k + 1 if the k-th pivot (0-based) is not positive (or not finite), in
 * which case a is left partly factorised and must not be used. */
size_t pcmup__chol_factor(double *a, size_t n);

/* Solves (G G^T) z = b for n_rhs right-hand sides stored as the rows of b
 * (n_rhs x n, row-major), in place, with g from pcmup__chol_factor. */
void pcmup__chol_solve(const double *g, size_t n, double *b, size_t n_rhs);

/* Largest number of Jacobi sweeps before pcmup__sym_eig gives up. Cyclic
 * Jacobi converges quadratically once the off-diagonal part is small;
 * 6 to 12 sweeps reach rounding level for the sizes used here. */
#define PCMUP_JACOBI_MAX_SWEEPS 64

/* Eigendecomposition a = V diag(w) V^T of the symmetric n x n matrix a
 * (both triangles set; a is overwritten). w (n) receives the eigenvalues
 * in ascending order and v (n x n, may be NULL) the orthonormal
 * eigenvectors as columns: column j of v belongs to w[j]. Rotates until
 * the off-diagonal Frobenius norm is below 1e-15 times the matrix's
 * Frobenius norm, so each eigenvalue is within about 1e-15 ||a||_F.
 * Returns 0, or -1 when a holds a non-finite value (or one beyond about
 * 1e150 in magnitude, whose square overflows) or
 * PCMUP_JACOBI_MAX_SWEEPS sweeps were not enough (w and v then hold the
 * last iterate, unsorted). */
int pcmup__sym_eig(double *a, size_t n, double *w, double *v);

/* ---- the Gauss-Newton kernels (LAPACK when available) -------------------- */

/* Whether the kernels below run on LAPACK (1) or on the written-out ones. */
int pcmup__linalg_has_lapack(void);

/* Factorises the symmetric positive definite a = G G^T: on return the lower
 * triangle (diagonal included) holds G; the strict upper triangle is left
 * unspecified. Only the lower triangle of a is read. Returns 0, or k + 1 if
 * the k-th pivot is not positive or not finite. */
size_t pcmup__spd_factor(double *a, size_t n);

/* b <- b (G G^T)^-1 for the n_rhs x n row-major b, with G from
 * pcmup__spd_factor: every row of b is solved against the symmetric
 * matrix. */
void pcmup__spd_solve_rows(const double *g, size_t n, double *b, size_t n_rhs);

/* Workspace of pcmup__sym_eigvec for order n: the number of doubles it
 * returns and, in *n_int, the number of ints. 0 when n is 0 or the sizes
 * do not fit LAPACK's 32-bit integers. */
size_t pcmup__sym_eigvec_work(size_t n, size_t *n_int);

/* Eigendecomposition of the symmetric a (only its lower triangle is read):
 * w receives the eigenvalues in ascending order and row j of a the unit
 * eigenvector of w[j], so that a_in = a_out^T diag(w) a_out. `work` and
 * `iwork` hold what pcmup__sym_eigvec_work asks for. Returns 0, or -1 if a
 * holds a non-finite value or the solver did not converge. */
int pcmup__sym_eigvec(double *a, size_t n, double *w, double *work, int *iwork);

#endif
