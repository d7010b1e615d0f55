/*
 * linalg.h -- small dense kernels in double precision: Cholesky
 * factorisation and solve of a symmetric positive definite system, and the
 * eigendecomposition of a symmetric matrix by cyclic Jacobi rotations.
 *
 * They serve the small systems of the local rules: the M_L x M_L matrix
 * I + C_gamma of linear predictive coding at equilibrium (pc_linear.c) and
 * the damped curvature matrices of the Gauss-Newton family. Matrices are
 * n x n, row-major, and every buffer is the caller's: nothing here
 * allocates. Large products stay with CBLAS; these kernels are written out
 * because CBLAS has no factorisations, and pulling in LAPACK for matrices
 * of a few dozen rows would add a dependency for no gain (see linalg.c).
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

#endif
