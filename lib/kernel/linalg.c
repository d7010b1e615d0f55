/* SPDX-License-Identifier: MIT */
/*
 * linalg.c -- Cholesky factorisation, solves against it, and symmetric
 * eigendecompositions of dense double matrices (kernel.h): LAPACK from the
 * BLAS library when the build found it, written-out kernels otherwise.
 *
 * Who needs them: the ridge systems of target propagation's closed-form
 * feedback (B x B or C x C), the M_L x M_L matrix I + C_gamma of linear
 * predictive coding at equilibrium, and the damped Gauss-Newton matrices
 * (B C x B C or M_l x M_l: 640 rows for a batch of 64 and 10 classes).
 *
 * Why LAPACK: at the Gauss-Newton sizes the written-out kernels are far
 * too slow. Measured on this project's build machine (2 cores, OpenBLAS
 * 0.3.21), per factorisation:
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
 *
 * Why split the Cholesky factorisation (pcmup__k_chol_log): above order
 * 96 it recurses on halves, and the off-diagonal blocks go through dtrsm
 * and dsyrk. That is what dpotrf does inside, and as fast (best of 30 on
 * a loaded 2-core machine, OpenBLAS 0.3.21, dpotrf vs recursive):
 *
 *   order   1 thread            2 threads
 *    256    0.17 / 0.18 ms      0.33 / 0.33 ms
 *    640    2.24 / 2.26 ms      4.2  / 2.8  ms
 *   1024    13.3 / 12.7 ms      18.5 / 16.4 ms
 *
 * but the level-3 products are then the kernel's
 * own calls, which the GEMM log records: the benchmark counts them as
 * GEMM-class work, as it counts the Gram matrices (docs/benchmark.md).
 * Below order 17 the written-out kernels run instead: there a LAPACK or
 * BLAS call costs more than the arithmetic (GNT's per-sample C x C
 * systems, one per sample and layer).
 *
 * Why Jacobi for the fallback eigensolver: it is short, needs no workspace
 * beyond the eigenvectors, and is robust: every rotation is orthogonal, it
 * computes small eigenvalues to high relative accuracy, and it needs no
 * tridiagonal reduction or shifts to converge.
 */
#include "kernel/kernel.h"

#include <math.h>
#include <string.h>

void pcmup__k_add_diagonal(double *a, size_t n, double v)
{
    for (size_t i = 0; i < n; i++)
        a[i * n + i] += v;
}

/* ---- Cholesky by hand ---------------------------------------------------- */

/* sum_{k < m} x[k] y[k] */
static double dot(const double *x, const double *y, size_t m)
{
    double s = 0.0;
    for (size_t k = 0; k < m; k++)
        s += x[k] * y[k];
    return s;
}

size_t pcmup__k_chol_unblocked(double *a, size_t n)
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

/* ---- cyclic Jacobi ------------------------------------------------------- */

/* Largest number of sweeps before Jacobi gives up. Cyclic Jacobi converges
 * quadratically once the off-diagonal part is small; 6 to 12 sweeps reach
 * rounding level for the sizes used here. */
#define JACOBI_MAX_SWEEPS 64

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

/* Rows p and q of the n x n matrix m become c m_p - s m_q and s m_p + c m_q:
 * V^T <- J^T V^T, so that V accumulates the rotations as columns. */
static void rotate_rows(double *m, size_t n, size_t p, size_t q, double c, double s)
{
    double *mp = m + p * n, *mq = m + q * n;
    for (size_t k = 0; k < n; k++) {
        const double x = mp[k], y = mq[k];
        mp[k] = c * x - s * y;
        mq[k] = s * x + c * y;
    }
}

/* a <- J^T a J with the plane rotation J that zeroes a[p][q]: the angle
 * from t = tan(phi), the smaller root of t^2 + 2 theta t - 1 = 0, so that
 * |phi| <= pi/4 and the rotation disturbs the rest of a least. */
static void jacobi_rotate(double *a, double *vt, size_t n, size_t p, size_t q)
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
    if (vt)
        rotate_rows(vt, n, p, q, c, s);
}

static void sweep(double *a, double *vt, size_t n)
{
    for (size_t p = 0; p + 1 < n; p++)
        for (size_t q = p + 1; q < n; q++)
            jacobi_rotate(a, vt, n, p, q);
}

static void swap_rows(double *m, size_t n, size_t i, size_t j)
{
    for (size_t k = 0; k < n; k++) {
        const double t = m[i * n + k];
        m[i * n + k] = m[j * n + k];
        m[j * n + k] = t;
    }
}

/* Selection sort of w ascending, carrying vt's rows along. */
static void sort_ascending(double *w, double *vt, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        size_t best = i;
        for (size_t j = i + 1; j < n; j++)
            if (w[j] < w[best])
                best = j;
        if (best == i)
            continue;
        const double t = w[i];
        w[i] = w[best];
        w[best] = t;
        if (vt)
            swap_rows(vt, n, i, best);
    }
}

/* Rotates a (both triangles) to diagonal, accumulating V^T in vt (NULL:
 * none), and leaves the diagonal in w. 0 once converged, -1 otherwise. */
static int jacobi(double *a, size_t n, double *w, double *vt)
{
    for (size_t i = 0; vt && i < n * n; i++)
        vt[i] = (i % (n + 1) == 0) ? 1.0 : 0.0;
    /* The Frobenius norm is invariant under the rotations: one target. */
    const double norm_sq = frobenius_sq(a, n);
    const double tol_sq = 1e-30 * norm_sq;
    int converged = isfinite(norm_sq);
    for (int sweeps = 0; converged && off_diagonal_sq(a, n) > tol_sq; sweeps++) {
        if (sweeps == JACOBI_MAX_SWEEPS)
            converged = 0;
        else
            sweep(a, vt, n);
    }
    for (size_t i = 0; i < n; i++)
        w[i] = a[i * n + i];
    return converged ? 0 : -1;
}

int pcmup__k_sym_eig_jacobi(double *a, size_t n, double *w, int vectors, double *work)
{
    double *vt = vectors ? work : NULL;
    if (jacobi(a, n, w, vt) != 0)
        return -1;
    sort_ascending(w, vt, n);
    if (vt)
        memcpy(a, vt, n * n * sizeof *a);
    return 0;
}

/* ---- the dispatching kernels --------------------------------------------- */

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

int pcmup__k_has_lapack(void)
{
#ifdef PCMUP_HAVE_LAPACK
    return 1;
#else
    return 0;
#endif
}

#ifdef PCMUP_HAVE_LAPACK
/* 0, or k + 1 for the first non-finite diagonal element a[k][k]. */
static size_t first_nonfinite_diagonal(const double *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a[i * n + i]))
            return i + 1;
    return 0;
}
#endif

#ifdef PCMUP_HAVE_LAPACK
/* Orders up to this are factorised by one dpotrf; larger ones split. At
 * order n the leaves then hold n * CHOL_LEAF^2 / 3 of the n^3 / 3 FLOPs
 * (1.6% at n = 640 with leaves of 80). */
#define CHOL_LEAF 96

/* The order-n block at a (leading dimension lda), recursively: L11 =
 * chol(A11); L21 = A21 L11^-T (trsm); A22 -= L21 L21^T (syrk);
 * L22 = chol(A22). The off-diagonal work, all but the leaves' FLOPs, is
 * level-3 BLAS (logged); dpotrf alone spends it inside LAPACK, which the
 * log cannot see. 0, or k + 1 for a bad pivot k (relative to the block). */
static size_t chol_block(pcmup__gemm_log *log, double *a, size_t n, size_t lda)
{
    if (n <= CHOL_LEAF) {
        const int ni = (int)n, ldi = (int)lda;
        int info = 0;
        dpotrf_("U", &ni, a, &ldi, &info, 1);
        return info == 0 ? 0 : info > 0 ? (size_t)info : 1;
    }
    const size_t n1 = n / 2, n2 = n - n1;
    double *a21 = a + n1 * lda, *a22 = a21 + n1;
    size_t bad = chol_block(log, a, n1, lda);
    if (bad)
        return bad;
    pcmup__k_dtrsm_lower_ld(log, 'R', 'T', n2, n1, 1.0, a, lda, a21, lda);
    pcmup__k_dsyrk_lower_ld(log, 'N', n2, n1, -1.0, a21, lda, 1.0, a22, lda);
    bad = chol_block(log, a22, n2, lda);
    return bad ? n1 + bad : 0;
}
#endif

/* Orders up to this are factorised and solved by the written-out loops:
 * at order C = 10 (GNT's per-sample systems, one per sample and layer)
 * a LAPACK or BLAS call costs more than its few hundred FLOPs. */
#define SMALL_ORDER 16

size_t pcmup__k_chol_log(pcmup__gemm_log *log, double *a, size_t n)
{
    if (n <= SMALL_ORDER)
        return pcmup__k_chol_unblocked(a, n);
#ifdef PCMUP_HAVE_LAPACK
    size_t bad = first_nonfinite_diagonal(a, n);
    if (bad)
        return bad;
    /* A failed pivot leaves the factor partly computed; a NaN off the
     * diagonal shows up as a non-finite factor. */
    bad = chol_block(log, a, n, n);
    return bad ? bad : first_nonfinite_diagonal(a, n);
#else
    (void)log;
    return pcmup__k_chol_unblocked(a, n);
#endif
}

size_t pcmup__k_chol(double *a, size_t n)
{
    return pcmup__k_chol_log(NULL, a, n);
}

/* v <- (G G^T)^-1 v for the vector v of n elements `stride` apart:
 * G w = v forward, then G^T z = w backward. */
static void spd_solve_vector(const double *g, size_t n, double *v, size_t stride)
{
    for (size_t i = 0; i < n; i++) {
        double s = v[i * stride];
        for (size_t k = 0; k < i; k++)
            s -= g[i * n + k] * v[k * stride];
        v[i * stride] = s / g[i * n + i];
    }
    for (size_t i = n; i-- > 0;) {
        double s = v[i * stride];
        for (size_t k = i + 1; k < n; k++)
            s -= g[k * n + i] * v[k * stride];
        v[i * stride] = s / g[i * n + i];
    }
}

void pcmup__k_spd_solve(pcmup__gemm_log *log, char side, const double *g, size_t n, double *b,
                        size_t n_rhs)
{
    if (n <= SMALL_ORDER && n_rhs <= SMALL_ORDER) {
        /* A few small vectors: the loops, not two BLAS calls. */
        for (size_t j = 0; j < n_rhs; j++) {
            if (side == 'L')
                spd_solve_vector(g, n, b + j, n_rhs);
            else
                spd_solve_vector(g, n, b + j * n, 1);
        }
        return;
    }
    if (side == 'L') {
        /* G G^T Z = B: first G W = B, then G^T Z = W. */
        pcmup__k_dtrsm_lower(log, 'L', 'N', n, n_rhs, 1.0, g, b);
        pcmup__k_dtrsm_lower(log, 'L', 'T', n, n_rhs, 1.0, g, b);
        return;
    }
    /* Z G G^T = B: first W G^T = B, then Z G = W. */
    pcmup__k_dtrsm_lower(log, 'R', 'T', n_rhs, n, 1.0, g, b);
    pcmup__k_dtrsm_lower(log, 'R', 'N', n_rhs, n, 1.0, g, b);
}

void pcmup__k_spd_solve_rows(const double *g, size_t n, double *b, size_t n_rhs)
{
    pcmup__k_spd_solve(NULL, 'R', g, n, b, n_rhs);
}

#ifdef PCMUP_HAVE_LAPACK
/* dsyevd's real and integer workspace sizes (its documented minimums). */
static void dsyevd_sizes(size_t n, int vectors, size_t *n_real, size_t *n_int)
{
    *n_real = vectors ? 1 + 6 * n + 2 * n * n : 1 + 2 * n;
    *n_int = vectors ? 3 + 5 * n : 1;
}
#endif

size_t pcmup__k_sym_eig_work(size_t n, int vectors)
{
    if (n == 0 || n > 30000)
        return 0; /* 2 n^2 must fit an int */
#ifdef PCMUP_HAVE_LAPACK
    /* The ints go after the doubles, in the same buffer. */
    size_t n_real, n_int;
    dsyevd_sizes(n, vectors, &n_real, &n_int);
    return n_real + (n_int * sizeof(int) + sizeof(double) - 1) / sizeof(double);
#else
    return vectors ? n * n : 1; /* Jacobi's eigenvectors */
#endif
}

static int lower_finite(const double *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j <= i; j++)
            if (!isfinite(a[i * n + j]))
                return 0;
    return 1;
}

int pcmup__k_sym_eig(double *a, size_t n, double *w, int vectors, double *work)
{
    /* LAPACK gives no promise on NaN input; refuse it here. */
    if (!lower_finite(a, n))
        return -1;
#ifdef PCMUP_HAVE_LAPACK
    size_t n_real, n_int;
    dsyevd_sizes(n, vectors, &n_real, &n_int);
    const int ni = (int)n, lwork = (int)n_real, liwork = (int)n_int;
    /* malloc'd memory takes the type it is used as: ints after the doubles. */
    int *iwork = (int *)(work + n_real), info = 0;
    /* Column-major eigenvectors as columns are row-major rows. */
    dsyevd_(vectors ? "V" : "N", "U", &ni, a, &ni, w, work, &lwork, iwork, &liwork, &info, 1,
            1);
    return info == 0 ? 0 : -1;
#else
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            a[i * n + j] = a[j * n + i];
    return pcmup__k_sym_eig_jacobi(a, n, w, vectors, work);
#endif
}
