/*
 * linalg.c -- Cholesky and symmetric eigendecompositions on dense double
 * matrices: written-out kernels for small matrices, and LAPACK (from the
 * BLAS library) for the Gauss-Newton rule's larger ones.
 *
 * Why hand-written kernels at all: the matrices predictive coding needs
 * (M_L x M_L, the number of outputs) are small. At that size the O(n^3)
 * loops below cost microseconds, less than the GEMMs around them. Jacobi
 * is chosen for the eigenproblem because it is short, needs no workspace
 * beyond the matrix and its eigenvectors, and is robust: every rotation is
 * orthogonal, it computes small eigenvalues to high relative accuracy, and
 * it needs no tridiagonal reduction or shifts to converge.
 *
 * Why LAPACK for the Gauss-Newton rule: its Gram matrices have B C rows
 * (640 for a batch of 64 and 10 classes) or M_l rows, and there the
 * written-out kernels are far too slow. Measured on this project's build
 * machine (2 cores, OpenBLAS 0.3.21), per factorisation:
 *
 *   order   Cholesky by hand   dpotrf   Jacobi    dsyevd
 *     256        1.3 ms        0.8 ms    1.4 s    12 ms
 *     640         23 ms          5 ms    9.5 s    67 ms
 *    1280        200 ms         20 ms      -     380 ms
 *
 * OpenBLAS ships LAPACK in the same library, so this adds no dependency;
 * the build checks for the two symbols (cmake/BlasChecks.cmake) and the
 * written-out kernels remain the fallback (-DPCMUP_USE_LAPACK=OFF forces
 * it). dsyevd (divide and conquer) rather than dsyevr: equally fast here,
 * and it needs no second n x n matrix for the eigenvectors.
 */
#include "kernel/linalg.h"

#include <cblas.h>
#include <math.h>

/* ---- Cholesky ------------------------------------------------------------- */

/* sum_{k < m} x[k] y[k] */
static double dot(const double *x, const double *y, size_t m)
{
    double s = 0.0;
    for (size_t k = 0; k < m; k++)
        s += x[k] * y[k];
    return s;
}

size_t pcmup__chol_factor(double *a, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        double *row_j = a + j * n;
        double d = row_j[j] - dot(row_j, row_j, j);
        /* !(d > 0) also catches NaN. */
        if (!(d > 0.0) || !isfinite(d))
            return j + 1;
        row_j[j] = sqrt(d);
        for (size_t i = j + 1; i < n; i++) {
            double *row_i = a + i * n;
            row_i[j] = (row_i[j] - dot(row_i, row_j, j)) / row_j[j];
            row_j[i] = 0.0;
        }
    }
    return 0;
}

/* Forward substitution G y = b, then back substitution G^T z = y. */
static void chol_solve_one(const double *g, size_t n, double *b)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (b[i] - dot(g + i * n, b, i)) / g[i * n + i];
    for (size_t i = n; i-- > 0;) {
        double s = b[i];
        for (size_t k = i + 1; k < n; k++)
            s -= g[k * n + i] * b[k];
        b[i] = s / g[i * n + i];
    }
}

void pcmup__chol_solve(const double *g, size_t n, double *b, size_t n_rhs)
{
    for (size_t r = 0; r < n_rhs; r++)
        chol_solve_one(g, n, b + r * n);
}

/* ---- cyclic Jacobi ------------------------------------------------------------ */

static double off_diagonal_sq(const double *a, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            s += 2.0 * a[i * n + j] * a[i * n + j];
    return s;
}

static double frobenius_sq(const double *a, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n * n; i++)
        s += a[i] * a[i];
    return s;
}

/* Columns p and q of the n x n matrix m become c m_p - s m_q and
 * s m_p + c m_q. */
static void rotate_columns(double *m, size_t n, size_t p, size_t q, double c, double s)
{
    for (size_t k = 0; k < n; k++) {
        double mp = m[k * n + p], mq = m[k * n + q];
        m[k * n + p] = c * mp - s * mq;
        m[k * n + q] = s * mp + c * mq;
    }
}

/* a <- J^T a J with the plane rotation J that zeroes a[p][q]: the angle
 * from t = tan(phi), the smaller root of t^2 + 2 theta t - 1 = 0, so that
 * |phi| <= pi/4 and the rotation disturbs the rest of a least. */
static void jacobi_rotate(double *a, double *v, size_t n, size_t p, size_t q)
{
    const double apq = a[p * n + q];
    if (apq == 0.0)
        return;
    const double theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
    double t = 1.0 / (fabs(theta) + sqrt(theta * theta + 1.0));
    if (theta < 0.0)
        t = -t;
    const double c = 1.0 / sqrt(t * t + 1.0), s = t * c;
    for (size_t k = 0; k < n; k++) {
        if (k == p || k == q)
            continue;
        double akp = a[k * n + p], akq = a[k * n + q];
        a[k * n + p] = a[p * n + k] = c * akp - s * akq;
        a[k * n + q] = a[q * n + k] = s * akp + c * akq;
    }
    a[p * n + p] -= t * apq;
    a[q * n + q] += t * apq;
    a[p * n + q] = a[q * n + p] = 0.0;
    if (v)
        rotate_columns(v, n, p, q, c, s);
}

static void sweep(double *a, double *v, size_t n)
{
    for (size_t p = 0; p + 1 < n; p++)
        for (size_t q = p + 1; q < n; q++)
            jacobi_rotate(a, v, n, p, q);
}

/* Selection sort of w ascending, carrying v's columns along. */
static void sort_ascending(double *w, double *v, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        size_t best = i;
        for (size_t j = i + 1; j < n; j++)
            if (w[j] < w[best])
                best = j;
        if (best == i)
            continue;
        double tmp = w[i];
        w[i] = w[best];
        w[best] = tmp;
        for (size_t k = 0; v && k < n; k++) {
            tmp = v[k * n + i];
            v[k * n + i] = v[k * n + best];
            v[k * n + best] = tmp;
        }
    }
}

int pcmup__sym_eig(double *a, size_t n, double *w, double *v)
{
    for (size_t i = 0; v && i < n * n; i++)
        v[i] = (i % (n + 1) == 0) ? 1.0 : 0.0;
    /* The Frobenius norm is invariant under the rotations: one target. */
    const double norm_sq = frobenius_sq(a, n);
    const double tol_sq = 1e-30 * norm_sq;
    int converged = isfinite(norm_sq);
    if (converged) {
        int sweeps = 0;
        while (off_diagonal_sq(a, n) > tol_sq && sweeps < PCMUP_JACOBI_MAX_SWEEPS) {
            sweep(a, v, n);
            sweeps++;
        }
        converged = off_diagonal_sq(a, n) <= tol_sq;
    }
    for (size_t i = 0; i < n; i++)
        w[i] = a[i * n + i];
    if (!converged)
        return -1;
    sort_ascending(w, v, n);
    return 0;
}

/* ---- the Gauss-Newton kernels ------------------------------------------------ */

#ifdef PCMUP_HAVE_LAPACK
/* The Fortran LAPACK interface (LP64, like the CBLAS the build checked),
 * with gfortran's hidden lengths of the character arguments. A symmetric
 * row-major matrix is its own column-major transpose, so the row-major
 * lower triangle is LAPACK's upper one ("U"). */
extern void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info,
                    size_t uplo_len);
extern void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a,
                    const int *lda, double *w, double *work, const int *lwork, int *iwork,
                    const int *liwork, int *info, size_t jobz_len, size_t uplo_len);
#endif

int pcmup__linalg_has_lapack(void)
{
#ifdef PCMUP_HAVE_LAPACK
    return 1;
#else
    return 0;
#endif
}

size_t pcmup__spd_factor(double *a, size_t n)
{
#ifdef PCMUP_HAVE_LAPACK
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a[i * n + i]))
            return i + 1;
    const int ni = (int)n;
    int info = 0;
    dpotrf_("U", &ni, a, &ni, &info, 1);
    /* dpotrf leaves the factor partly computed when a pivot fails; a NaN
     * off the diagonal shows up as a non-finite factor. */
    if (info != 0)
        return info > 0 ? (size_t)info : 1;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a[i * n + i]))
            return i + 1;
    return 0;
#else
    return pcmup__chol_factor(a, n);
#endif
}

void pcmup__spd_solve_rows(const double *g, size_t n, double *b, size_t n_rhs)
{
    /* Z G G^T = B: first W G^T = B, then Z G = W. */
    const int ni = (int)n, nr = (int)n_rhs;
    cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, nr, ni, 1.0,
                g, ni, b, ni);
    cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasNoTrans, CblasNonUnit, nr, ni, 1.0,
                g, ni, b, ni);
}

size_t pcmup__sym_eigvec_work(size_t n, size_t *n_int)
{
    *n_int = 0;
    if (n == 0 || n > 30000)
        return 0; /* 2 n^2 must fit an int */
#ifdef PCMUP_HAVE_LAPACK
    *n_int = 3 + 5 * n;
    return 1 + 6 * n + 2 * n * n;
#else
    *n_int = 1;
    return n * n; /* Jacobi's eigenvectors */
#endif
}

static int all_finite(const double *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j <= i; j++)
            if (!isfinite(a[i * n + j]))
                return 0;
    return 1;
}

int pcmup__sym_eigvec(double *a, size_t n, double *w, double *work, int *iwork)
{
    /* LAPACK gives no promise on NaN input; refuse it here. */
    if (!all_finite(a, n))
        return -1;
#ifdef PCMUP_HAVE_LAPACK
    size_t n_int;
    const int ni = (int)n, lwork = (int)pcmup__sym_eigvec_work(n, &n_int),
              liwork = (int)n_int;
    int info = 0;
    /* Column-major eigenvectors as columns are row-major rows. */
    dsyevd_("V", "U", &ni, a, &ni, w, work, &lwork, iwork, &liwork, &info, 1, 1);
    return info == 0 ? 0 : -1;
#else
    (void)iwork;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            a[i * n + j] = a[j * n + i];
    if (pcmup__sym_eig(a, n, w, work) != 0)
        return -1;
    /* Jacobi's eigenvectors are the columns of work: transpose into a. */
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            a[j * n + i] = work[i * n + j];
    return 0;
#endif
}
