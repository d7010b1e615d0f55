/* SPDX-License-Identifier: MIT */
/*
 * test_kernel.c -- the numeric kernels of lib/kernel against closed forms
 * (Cholesky factors and solves of known matrices, the spectrum of the
 * second-difference matrix, exact sums, rounding of conversions, products
 * against their defining sums), and the GEMM log against a count of BP's
 * products made by hand.
 *
 * An internal test: it links a static build of lib/ and includes its
 * headers (tests/CMakeLists.txt, PCMUP_INTERNAL_TESTS).
 */
#include "testutil.h"

#include "algo.h"
#include "kernel/kernel.h"
#include "layers/activation.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---------------------------------------------------------------- */

static const double pi = 3.14159265358979323846;

/* Deterministic, irregular test values in [-1, 1]: no generator needed. */
static double wiggle(size_t i, double phase)
{
    return sin(1.37 * (double)i + phase);
}

/* a = M M^T + n I for an irregular M: symmetric positive definite and
 * well conditioned. */
static double *spd_matrix(size_t n)
{
    double *m = malloc(n * n * sizeof *m), *a = malloc(n * n * sizeof *a);
    for (size_t i = 0; i < n * n; i++)
        m[i] = wiggle(i, 0.3);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double s = i == j ? (double)n : 0.0;
            for (size_t k = 0; k < n; k++)
                s += m[i * n + k] * m[j * n + k];
            a[i * n + j] = s;
        }
    free(m);
    return a;
}

/* max |(G G^T)_ij - a_ij| / max |a_ij| over the lower triangle of g. */
static double factor_error(const double *g, const double *a, size_t n)
{
    double err = 0.0, scale = 0.0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j <= i; j++) {
            double s = 0.0;
            for (size_t k = 0; k <= j; k++)
                s += g[i * n + k] * g[j * n + k];
            err = fmax(err, fabs(s - a[i * n + j]));
            scale = fmax(scale, fabs(a[i * n + j]));
        }
    return err / scale;
}

/* The second-difference matrix: 2 on the diagonal, -1 beside it. Its
 * eigenvalues are 2 - 2 cos(k pi / (n + 1)), k = 1..n, with eigenvectors
 * sin(j k pi / (n + 1)). */
static double *second_difference(size_t n)
{
    double *a = calloc(n * n, sizeof *a);
    for (size_t i = 0; i < n; i++) {
        a[i * n + i] = 2.0;
        if (i + 1 < n)
            a[i * n + i + 1] = a[(i + 1) * n + i] = -1.0;
    }
    return a;
}

static double second_difference_eigenvalue(size_t n, size_t k)
{
    return 2.0 - 2.0 * cos((double)k * pi / (double)(n + 1));
}

/* The eigensolver under test: 0 LAPACK (or its fallback), 1 Jacobi. */
static int eig(int jacobi, double *a, size_t n, double *w, int vectors)
{
    size_t need = jacobi ? n * n : pcmup__k_sym_eig_work(n, vectors);
    double *work = malloc(need * sizeof *work);
    int r = jacobi ? pcmup__k_sym_eig_jacobi(a, n, w, vectors, work)
                   : pcmup__k_sym_eig(a, n, w, vectors, work);
    free(work);
    return r;
}

/* ---- Cholesky --------------------------------------------------------------- */

/* G = [[2, 0, 0], [1, 3, 0], [-1, 2, 1]] gives A = G G^T; the factor is
 * unique (positive diagonal), so both kernels must return G. */
static void check_known_factor(size_t (*chol)(double *, size_t))
{
    const double g[9] = {2, 0, 0, 1, 3, 0, -1, 2, 1};
    double a[9];
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 3; j++) {
            double s = 0.0;
            for (size_t k = 0; k < 3; k++)
                s += g[i * 3 + k] * g[j * 3 + k];
            a[i * 3 + j] = s;
        }
    ck_assert_uint_eq(chol(a, 3), 0);
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j <= i; j++)
            ck_assert_double_eq_tol(a[i * 3 + j], g[i * 3 + j], 1e-15);
}

START_TEST(cholesky_of_known_factor)
{
    check_known_factor(pcmup__k_chol);
    check_known_factor(pcmup__k_chol_unblocked);
}
END_TEST

/* A matrix of order 60: G G^T reproduces it to rounding, and both kernels
 * agree. */
START_TEST(cholesky_reconstructs)
{
    const size_t n = 60;
    double *a = spd_matrix(n), *g1 = malloc(n * n * sizeof *g1), *g2 = malloc(n * n * sizeof *g2);
    memcpy(g1, a, n * n * sizeof *a);
    memcpy(g2, a, n * n * sizeof *a);
    ck_assert_uint_eq(pcmup__k_chol(g1, n), 0);
    ck_assert_uint_eq(pcmup__k_chol_unblocked(g2, n), 0);
    ck_assert_double_lt(factor_error(g1, a, n), 1e-14);
    ck_assert_double_lt(factor_error(g2, a, n), 1e-14);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j <= i; j++)
            ck_assert_double_eq_tol(g1[i * n + j], g2[i * n + j], 1e-12);
    free(a);
    free(g1);
    free(g2);
}
END_TEST

/* [[1, 2], [2, 1]] has eigenvalues 3 and -1: the second pivot is
 * 1 - 4 = -3, so the factorisation fails there (return 2 = pivot 1 + 1).
 * A non-finite diagonal fails too. */
static void check_refusals(size_t (*chol)(double *, size_t))
{
    double indefinite[4] = {1, 2, 2, 1};
    ck_assert_uint_eq(chol(indefinite, 2), 2);
    double nan_diag[4] = {1, 0, 0, NAN};
    ck_assert_uint_ne(chol(nan_diag, 2), 0);
    double inf_diag[4] = {INFINITY, 0, 0, 1};
    ck_assert_uint_ne(chol(inf_diag, 2), 0);
}

START_TEST(cholesky_refuses_indefinite_and_nonfinite)
{
    check_refusals(pcmup__k_chol);
    check_refusals(pcmup__k_chol_unblocked);
}
END_TEST

/* A = [[3, 2], [2, 2]] + I = [[4, 2], [2, 3]], A^-1 = [[3, -2], [-2, 4]] / 8:
 * the rows (1, 0) and (0, 1) solve to A^-1's rows. */
START_TEST(spd_solve_rows_closed_form)
{
    double a[4] = {3, 2, 2, 2}, b[4] = {1, 0, 0, 1};
    pcmup__k_add_diagonal(a, 2, 1.0);
    ck_assert_double_eq(a[0], 4.0);
    ck_assert_double_eq(a[1], 2.0);
    ck_assert_double_eq(a[3], 3.0);
    ck_assert_uint_eq(pcmup__k_chol(a, 2), 0);
    pcmup__k_spd_solve_rows(a, 2, b, 2);
    const double inv[4] = {3.0 / 8, -2.0 / 8, -2.0 / 8, 4.0 / 8};
    for (size_t i = 0; i < 4; i++)
        ck_assert_double_eq_tol(b[i], inv[i], 1e-15);
}
END_TEST

/* Z = B A^-1 for 7 right-hand sides of order 60: the residual Z A - B is
 * at rounding level (A is well conditioned). */
START_TEST(spd_solve_rows_residual)
{
    const size_t n = 60, r = 7;
    double *a = spd_matrix(n), *g = malloc(n * n * sizeof *g);
    double *b = malloc(r * n * sizeof *b), *z = malloc(r * n * sizeof *z);
    memcpy(g, a, n * n * sizeof *a);
    for (size_t i = 0; i < r * n; i++)
        b[i] = z[i] = wiggle(i, 1.1);
    ck_assert_uint_eq(pcmup__k_chol(g, n), 0);
    pcmup__k_spd_solve_rows(g, n, z, r);
    double worst = 0.0;
    for (size_t i = 0; i < r; i++)
        for (size_t j = 0; j < n; j++) {
            double s = 0.0;
            for (size_t k = 0; k < n; k++)
                s += z[i * n + k] * a[k * n + j];
            worst = fmax(worst, fabs(s - b[i * n + j]));
        }
    ck_assert_double_lt(worst, 1e-13);
    free(a);
    free(g);
    free(b);
    free(z);
}
END_TEST

/* ---- symmetric eigendecomposition ----------------------------------------------- */

/* [[2, 1], [1, 2]]: eigenvalues 1 and 3, eigenvectors (1, -1) / sqrt 2 and
 * (1, 1) / sqrt 2 (up to sign), one per row. */
static void check_two_by_two(int jacobi)
{
    double a[4] = {2, 1, 1, 2}, w[2];
    ck_assert_int_eq(eig(jacobi, a, 2, w, 1), 0);
    ck_assert_double_eq_tol(w[0], 1.0, 1e-15);
    ck_assert_double_eq_tol(w[1], 3.0, 1e-15);
    const double h = sqrt(0.5);
    ck_assert_double_eq_tol(fabs(a[0]), h, 1e-15);
    ck_assert_double_eq_tol(a[0] + a[1], 0.0, 1e-15);
    ck_assert_double_eq_tol(fabs(a[2]), h, 1e-15);
    ck_assert_double_eq_tol(a[2] - a[3], 0.0, 1e-15);
}

START_TEST(eig_two_by_two)
{
    check_two_by_two(0);
    check_two_by_two(1);
}
END_TEST

/* The second-difference matrix of order 40: the eigenvalues ascending as
 * the closed form says, and each row of the output a unit multiple of
 * sin(j k pi / (n + 1)). */
static void check_second_difference(int jacobi)
{
    const size_t n = 40;
    double *a = second_difference(n), *v = second_difference(n), w[40];
    ck_assert_int_eq(eig(jacobi, v, n, w, 1), 0);
    for (size_t k = 1; k <= n; k++) {
        ck_assert_double_eq_tol(w[k - 1], second_difference_eigenvalue(n, k), 1e-13);
        /* |cos| of the row with the closed-form vector must be 1. */
        double dot = 0.0, norm = 0.0;
        for (size_t j = 1; j <= n; j++) {
            double s = sin((double)(j * k) * pi / (double)(n + 1));
            dot += s * v[(k - 1) * n + j - 1];
            norm += s * s;
        }
        ck_assert_double_eq_tol(fabs(dot) / sqrt(norm), 1.0, 1e-12);
    }
    free(a);
    free(v);
}

START_TEST(eig_second_difference)
{
    check_second_difference(0);
    check_second_difference(1);
}
END_TEST

/* max over i, j of |sum_k x[k][i] d_k y[k][j] - want_ij|, d = NULL for 1. */
static double rows_product_error(const double *x, const double *d, const double *y,
                                 const double *want, size_t n)
{
    double worst = 0.0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double s = 0.0;
            for (size_t k = 0; k < n; k++)
                s += x[k * n + i] * (d ? d[k] : 1.0) * y[k * n + j];
            double w = want ? want[i * n + j] : (i == j ? 1.0 : 0.0);
            worst = fmax(worst, fabs(s - w));
        }
    return worst;
}

/* An irregular SPD matrix of order 30, whose eigenvector matrix is not
 * symmetric (rows and columns differ): the rows v_k of the output are
 * orthonormal (V^T V = I), satisfy A v_k = w_k v_k, and V diag(w) V^T = A. */
static void check_reconstruction(int jacobi)
{
    const size_t n = 30;
    double *a = spd_matrix(n), *v = malloc(n * n * sizeof *v), w[30];
    memcpy(v, a, n * n * sizeof *a);
    ck_assert_int_eq(eig(jacobi, v, n, w, 1), 0);
    const double scale = w[n - 1];
    for (size_t k = 0; k < n; k++) {
        if (k > 0)
            ck_assert_double_le(w[k - 1], w[k]);
        for (size_t i = 0; i < n; i++) {
            double s = 0.0;
            for (size_t j = 0; j < n; j++)
                s += a[i * n + j] * v[k * n + j];
            ck_assert_double_lt(fabs(s - w[k] * v[k * n + i]), 1e-13 * scale);
        }
    }
    ck_assert_double_lt(rows_product_error(v, NULL, v, NULL, n), 1e-13);
    ck_assert_double_lt(rows_product_error(v, w, v, a, n), 1e-13 * scale);
    free(a);
    free(v);
}

START_TEST(eig_reconstructs)
{
    check_reconstruction(0);
    check_reconstruction(1);
}
END_TEST

/* Only the lower triangle is read: garbage above the diagonal changes
 * nothing. Without eigenvectors the eigenvalues are the same. */
START_TEST(eig_reads_lower_triangle_only)
{
    const size_t n = 12;
    double *a = second_difference(n), w_full[12], w_vals[12];
    ck_assert_int_eq(eig(0, a, n, w_full, 1), 0);
    free(a);
    a = second_difference(n);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            a[i * n + j] = 1e300;
    ck_assert_int_eq(eig(0, a, n, w_vals, 0), 0);
    for (size_t k = 0; k < n; k++)
        ck_assert_double_eq_tol(w_vals[k], w_full[k], 1e-14);
    free(a);
}
END_TEST

START_TEST(eig_refuses_nonfinite)
{
    double a[4] = {1, 0, NAN, 1}, w[2];
    ck_assert_int_eq(eig(0, a, 2, w, 1), -1);
    double b[4] = {INFINITY, 0, 0, 1};
    ck_assert_int_eq(eig(1, b, 2, w, 1), -1);
    ck_assert_uint_eq(pcmup__k_sym_eig_work(0, 1), 0);
}
END_TEST

/* ---- vectors ------------------------------------------------------------------- */

/* sum_{i=1}^n i^2 = n (n + 1) (2n + 1) / 6 and sum i = n (n + 1) / 2,
 * exact in double for n = 1000. */
START_TEST(sums_closed_form)
{
    const size_t n = 1000;
    float *x = malloc(n * sizeof *x), *ones = malloc(n * sizeof *ones);
    for (size_t i = 0; i < n; i++) {
        x[i] = (float)(i + 1);
        ones[i] = 1.0f;
    }
    ck_assert_double_eq(pcmup__k_sum_sq(x, n), 1000.0 * 1001.0 * 2001.0 / 6.0);
    ck_assert_double_eq(pcmup__k_dot(x, ones, n), 1000.0 * 1001.0 / 2.0);
    ck_assert_double_eq(pcmup__k_sum_sq(x, 0), 0.0);
    free(x);
    free(ones);
}
END_TEST

/* The sums' documented order (vec.c): eight interleaved lanes, added
 * lane 0 first, then the tail. x = (1, t, t, ...) with t = 2^-54, half an
 * ulp of 1 or less, over 16 blocks of 8 and a tail of 3: lane 0 stays 1
 * (each t is lost against it), lanes 1..7 hold 16 t = 2^-50 exactly and
 * survive being added to 1, the tail's t are lost again. So the sum is
 * 1 + 7 * 2^-50; a single running sum would give exactly 1. */
START_TEST(sums_in_fixed_lanes)
{
    enum { N = 8 * 16 + 3 };
    float x[N], ones[N];
    for (size_t i = 0; i < N; i++) {
        x[i] = i == 0 ? 1.0f : ldexpf(1.0f, -54);
        ones[i] = 1.0f;
    }
    ck_assert_double_eq(pcmup__k_dot(x, ones, N), 1.0 + 7.0 * ldexp(1.0, -50));
    ck_assert_double_eq(pcmup__k_dot(ones, x, N), 1.0 + 7.0 * ldexp(1.0, -50));
}
END_TEST

/* Finite means not infinite and not NaN, whatever the sign, payload or
 * position (the vectorised body and the scalar tail). */
START_TEST(all_finite_on_the_bits)
{
    enum { N = 37 };
    float x[N];
    const float finite[] = {0.0f, -0.0f, FLT_MAX, -FLT_MAX, FLT_MIN, 1e-45f, -1e-45f, 1.0f};
    const float bad[] = {INFINITY, -INFINITY, NAN, -NAN};
    for (size_t i = 0; i < N; i++)
        x[i] = finite[i % (sizeof finite / sizeof *finite)];
    ck_assert(pcmup__k_all_finite(x, N));
    ck_assert(pcmup__k_all_finite(x, 0));
    for (size_t b = 0; b < sizeof bad / sizeof *bad; b++)
        for (size_t at = 0; at < N; at++) {
            float keep = x[at];
            x[at] = bad[b];
            ck_assert_msg(!pcmup__k_all_finite(x, N), "bad value %zu at %zu passed", b, at);
            ck_assert(pcmup__k_all_finite(x, at)); /* the prefix before it */
            x[at] = keep;
        }
    uint32_t nan_bits = 0x7f800001u; /* the smallest-payload NaN */
    memcpy(&x[5], &nan_bits, sizeof nan_bits);
    ck_assert(!pcmup__k_all_finite(x, N));
}
END_TEST

/* The activation loops (compiled for AVX-512, AVX2 and the baseline,
 * the CPU picking one: internal.h) give the same bits as the scalar
 * formula, element by element, body and tail: whichever clone this CPU
 * runs, a user's CPU gets the same network outputs. */
START_TEST(tanh_loops_match_the_scalar_formula)
{
    enum { N = 100003 };
    float *u = malloc(N * sizeof *u), *h = malloc(N * sizeof *h), *d = malloc(N * sizeof *d);
    for (size_t i = 0; i < N; i++)
        u[i] = (float)(-12.0 + 24.0 * (double)i / (N - 1)) * (i % 7 == 3 ? 1e-3f : 1.0f);
    u[17] = NAN, u[18] = INFINITY, u[19] = -INFINITY, u[20] = -0.0f, u[N - 1] = FLT_MAX;
    pcmup__act_forward(PCMUP_ACT_TANH, u, h, N);
    for (size_t i = 0; i < N; i++) {
        float want = pcmup__tanh_float(u[i]);
        ck_assert_msg(memcmp(&h[i], &want, sizeof want) == 0, "tanh(%.9g): loop %.9g, scalar %.9g",
                      u[i], h[i], want);
        d[i] = u[i];
    }
    pcmup__act_backward_from_post(PCMUP_ACT_TANH, h, d, N);
    for (size_t i = 0; i < N; i++) {
        float want = u[i] * (1.0f - h[i] * h[i]);
        ck_assert_msg(memcmp(&d[i], &want, sizeof want) == 0 || (isnan(d[i]) && isnan(want)),
                      "tanh' at %.9g", u[i]);
    }
    free(u);
    free(h);
    free(d);
}
END_TEST

/* float -> double -> float is the identity (normal, subnormal, huge,
 * signed zero, infinity); double -> float rounds to nearest, ties to
 * even; the argument order is memcpy's. */
START_TEST(conversions_round_trip)
{
    const float x[] = {0.0f, -0.0f, 1.0f, -3.5f, 1e-40f, 3.4e38f, INFINITY, 0.1f, 1.0f / 3.0f};
    const size_t n = sizeof x / sizeof x[0];
    double d[sizeof x / sizeof x[0]];
    float back[sizeof x / sizeof x[0]];
    pcmup__k_f32_to_f64(d, x, n);
    pcmup__k_f64_to_f32(back, d, n);
    ck_assert_int_eq(memcmp(back, x, sizeof x), 0);
    ck_assert_double_eq(d[7], (double)0.1f);
    const double up[3] = {1.0 + ldexp(1.0, -24), 1.0 + 3.0 * ldexp(1.0, -25), 1.0 + 1e-12};
    float rounded[3];
    pcmup__k_f64_to_f32(rounded, up, 3);
    ck_assert_float_eq(rounded[0], 1.0f); /* a tie: to even */
    ck_assert_float_eq(rounded[1], 1.0f + ldexpf(1.0f, -23));
    ck_assert_float_eq(rounded[2], 1.0f);
}
END_TEST

START_TEST(lower_conversion_leaves_upper)
{
    const float src[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    double dst[9];
    for (size_t i = 0; i < 9; i++)
        dst[i] = -1.0;
    pcmup__k_f32_to_f64_lower(dst, src, 3);
    const double want[9] = {1, -1, -1, 4, 5, -1, 7, 8, 9};
    for (size_t i = 0; i < 9; i++)
        ck_assert_double_eq(dst[i], want[i]);
}
END_TEST

/* ---- BLAS wrappers against their defining sums ----------------------------------- */

/* op(x)[i][j] of a row-major matrix stored as r x c (before op). */
static double at(const float *x, size_t c, char trans, size_t i, size_t j)
{
    return trans == 'T' ? x[j * c + i] : x[i * c + j];
}

/* c = 0.5 op(a) op(b) + 2 c for m = 3, n = 4, k = 5, every transposition;
 * the sums in double are exact to float rounding. */
START_TEST(sgemm_every_transposition)
{
    const size_t m = 3, n = 4, k = 5;
    const char t[2] = {'N', 'T'};
    float a[15], b[20], c[12], c0[12];
    for (size_t i = 0; i < 15; i++)
        a[i] = (float)wiggle(i, 0.1);
    for (size_t i = 0; i < 20; i++)
        b[i] = (float)wiggle(i, 0.2);
    for (size_t i = 0; i < 12; i++)
        c0[i] = (float)wiggle(i, 0.4);
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            memcpy(c, c0, sizeof c);
            pcmup__k_sgemm(NULL, t[ta], t[tb], m, n, k, 0.5f, a, b, 2.0f, c);
            for (size_t i = 0; i < m; i++)
                for (size_t j = 0; j < n; j++) {
                    double s = 2.0 * c0[i * n + j];
                    for (size_t p = 0; p < k; p++)
                        s += 0.5 * at(a, t[ta] == 'T' ? m : k, t[ta], i, p) *
                             at(b, t[tb] == 'T' ? k : n, t[tb], p, j);
                    ck_assert_double_eq_tol(c[i * n + j], s, 1e-5);
                }
        }
}
END_TEST

/* The lower triangle of a a^T ('N', a 3 x 5) and a^T a ('T', a 5 x 3);
 * the strict upper triangle keeps its value. */
START_TEST(syrk_lower_both_ways)
{
    float a[15], c[9];
    for (size_t i = 0; i < 15; i++)
        a[i] = (float)wiggle(i, 0.5);
    for (int trans = 0; trans < 2; trans++) {
        for (size_t i = 0; i < 9; i++)
            c[i] = 7.0f;
        pcmup__k_ssyrk_lower(trans ? 'T' : 'N', 3, 5, 2.0f, a, c);
        for (size_t i = 0; i < 3; i++)
            for (size_t j = 0; j < 3; j++) {
                double s = 0.0;
                for (size_t p = 0; p < 5; p++)
                    s += trans ? (double)a[p * 3 + i] * a[p * 3 + j]
                               : (double)a[i * 5 + p] * a[j * 5 + p];
                ck_assert_double_eq_tol(c[i * 3 + j], j <= i ? 2.0 * s : 7.0, 1e-5);
            }
    }
}
END_TEST

START_TEST(sgemv_both_ways)
{
    float a[12], x[4], y[4];
    for (size_t i = 0; i < 12; i++)
        a[i] = (float)wiggle(i, 0.6);
    for (size_t i = 0; i < 4; i++)
        x[i] = (float)wiggle(i, 0.9);
    /* y (3) = a (3 x 4) x (4), then y (4) = a^T y (3) + y. */
    pcmup__k_sgemv('N', 3, 4, 1.0f, a, x, 0.0f, y);
    for (size_t i = 0; i < 3; i++)
        ck_assert_double_eq_tol(y[i], pcmup__k_dot(a + i * 4, x, 4), 1e-6);
    float z[4] = {1, 1, 1, 1};
    pcmup__k_sgemv('T', 3, 4, 1.0f, a, y, 1.0f, z);
    for (size_t j = 0; j < 4; j++) {
        double s = 1.0;
        for (size_t i = 0; i < 3; i++)
            s += (double)a[i * 4 + j] * y[i];
        ck_assert_double_eq_tol(z[j], s, 1e-5);
    }
}
END_TEST

/* ---- the GEMM log ----------------------------------------------------------------- */

/* Three products into a log of two: all three counted, two kept. */
START_TEST(gemm_log_counts_past_capacity)
{
    pcmup__gemm_shape shapes[2];
    pcmup__gemm_log log;
    pcmup__gemm_log_init(&log, shapes, 2);
    float a[6] = {0}, b[6] = {0}, c[9];
    pcmup__k_sgemm(&log, 'N', 'T', 3, 3, 2, 1.0f, a, b, 0.0f, c);
    double ad[6] = {0}, bd[6] = {0}, cd[4];
    pcmup__k_dgemm(&log, 'T', 'N', 2, 2, 3, 1.0, ad, bd, 0.0, cd);
    pcmup__k_sgemm(&log, 'N', 'N', 1, 1, 6, 1.0f, a, b, 0.0f, c);
    ck_assert_uint_eq(log.count, 3);
    ck_assert_uint_eq(log.flops, 2 * (3 * 3 * 2) + 2 * (2 * 2 * 3) + 2 * 6);
    ck_assert_int_eq(shapes[1].precision, 'd');
    ck_assert_int_eq(shapes[1].trans_a, 'T');
    ck_assert_uint_eq(shapes[1].k, 3);
    pcmup__gemm_log_clear(&log);
    ck_assert_uint_eq(log.count, 0);
    ck_assert_uint_eq(log.flops, 0);
}
END_TEST

/* The 784-64-64-10 network of the paper's MLP experiments. */
static const size_t bp_widths[4] = {784, 64, 64, 10};
#define BP_BATCH 32

static void bp_batch(float *x, int32_t *labels)
{
    for (size_t i = 0; i < BP_BATCH * 784; i++)
        x[i] = (float)wiggle(i, 0.0);
    for (size_t b = 0; b < BP_BATCH; b++)
        labels[b] = (int32_t)(b % 10);
}

static void check_shape(const pcmup__gemm_shape *s, char ta, char tb, size_t m, size_t n,
                        size_t k)
{
    ck_assert_int_eq(s->precision, 's');
    ck_assert_int_eq(s->trans_a, ta);
    ck_assert_int_eq(s->trans_b, tb);
    ck_assert_uint_eq(s->m, m);
    ck_assert_uint_eq(s->n, n);
    ck_assert_uint_eq(s->k, k);
}

/* One BP step, batch B = 32, counted by hand (layer l maps M_{l-1} to M_l):
 *
 *   forward, l = 1..3:    pre_l = h_{l-1} W_l^T     N T  B x M_l x M_{l-1}
 *   backward, l = 3..1:   delta_{l-1} = delta_l W_l  N N  B x M_{l-1} x M_l  (l > 1)
 *                         dW_l = delta_l^T h_{l-1}   T N  M_l x M_{l-1} x B
 *
 * 3 + 2 + 3 = 8 GEMMs. Flops 2 m n k each: the forward products and the
 * weight gradients both cost 2 B sum_l M_l M_{l-1} = 2 * 32 * (784 * 64 +
 * 64 * 64 + 64 * 10) = 3 514 368; the two input-VJPs 2 * 32 * (10 * 64 +
 * 64 * 64) = 303 104. Total 7 331 840. */
START_TEST(gemm_log_counts_bp_step)
{
    pcmup_param *p;
    TU_OK(pcmup_param_create(&p, 3, PCMUP_PRESET_MUP_SGD, NULL));
    pcmup_net *net;
    TU_OK(pcmup_net_create(&net, bp_widths, 4, PCMUP_ACT_TANH, 0, p, 1, NULL));
    pcmup_algo *bp;
    TU_OK(pcmup_algo_create(&bp, PCMUP_RULE_BP, net, 1, NULL));
    float *x = malloc(BP_BATCH * 784 * sizeof *x);
    int32_t labels[BP_BATCH];
    bp_batch(x, labels);
    ck_assert_ptr_null(pcmup__algo_last_step_gemms(bp));
    TU_OK(pcmup__algo_count_gemms(bp, 16, __func__));
    /* Twice: each step starts a fresh count. */
    for (int step = 0; step < 2; step++)
        TU_OK(pcmup_algo_step(bp, x, BP_BATCH * 784, labels, BP_BATCH, NULL));
    const pcmup__gemm_log *log = pcmup__algo_last_step_gemms(bp);
    ck_assert_uint_eq(log->count, 8);
    ck_assert_uint_eq(log->flops, 7331840);
    const pcmup__gemm_shape *s = log->shapes;
    check_shape(&s[0], 'N', 'T', 32, 64, 784);
    check_shape(&s[1], 'N', 'T', 32, 64, 64);
    check_shape(&s[2], 'N', 'T', 32, 10, 64);
    check_shape(&s[3], 'N', 'N', 32, 64, 10);
    check_shape(&s[4], 'T', 'N', 10, 64, 32);
    check_shape(&s[5], 'N', 'N', 32, 64, 64);
    check_shape(&s[6], 'T', 'N', 64, 64, 32);
    check_shape(&s[7], 'T', 'N', 64, 784, 32);
    uint64_t sum = 0;
    for (size_t i = 0; i < log->count; i++)
        sum += pcmup__gemm_flops(&s[i]);
    ck_assert_uint_eq(sum, log->flops);
    /* Recording updates adds the alignment ratio's products: the forward
     * pass to h_{L-1} (2) and y = dh (W - rec)^T (2). */
    TU_OK(pcmup_algo_set(bp, PCMUP_SET_RECORD_UPDATES, 1.0));
    TU_OK(pcmup_algo_step(bp, x, BP_BATCH * 784, labels, BP_BATCH, NULL));
    ck_assert_uint_eq(log->count, 12);
    /* Outside a step nothing is counted; freeing the log stops counting. */
    float out[BP_BATCH * 10];
    TU_OK(pcmup_net_forward(net, x, BP_BATCH * 784, BP_BATCH, out, BP_BATCH * 10));
    ck_assert_uint_eq(log->count, 12);
    TU_OK(pcmup__algo_count_gemms(bp, 0, __func__));
    ck_assert_ptr_null(pcmup__algo_last_step_gemms(bp));
    TU_OK(pcmup_algo_step(bp, x, BP_BATCH * 784, labels, BP_BATCH, NULL));
    free(x);
    pcmup_algo_free(bp);
    pcmup_net_free(net);
    pcmup_param_free(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("kernel");
    TCase *linalg = tcase_create("linalg");
    tcase_add_test(linalg, cholesky_of_known_factor);
    tcase_add_test(linalg, cholesky_reconstructs);
    tcase_add_test(linalg, cholesky_refuses_indefinite_and_nonfinite);
    tcase_add_test(linalg, spd_solve_rows_closed_form);
    tcase_add_test(linalg, spd_solve_rows_residual);
    tcase_add_test(linalg, eig_two_by_two);
    tcase_add_test(linalg, eig_second_difference);
    tcase_add_test(linalg, eig_reconstructs);
    tcase_add_test(linalg, eig_reads_lower_triangle_only);
    tcase_add_test(linalg, eig_refuses_nonfinite);
    suite_add_tcase(s, linalg);
    TCase *vec = tcase_create("vec");
    tcase_add_test(vec, sums_closed_form);
    tcase_add_test(vec, sums_in_fixed_lanes);
    tcase_add_test(vec, all_finite_on_the_bits);
    tcase_add_test(vec, tanh_loops_match_the_scalar_formula);
    tcase_add_test(vec, conversions_round_trip);
    tcase_add_test(vec, lower_conversion_leaves_upper);
    suite_add_tcase(s, vec);
    TCase *blas = tcase_create("blas");
    tcase_add_test(blas, sgemm_every_transposition);
    tcase_add_test(blas, syrk_lower_both_ways);
    tcase_add_test(blas, sgemv_both_ways);
    tcase_add_test(blas, gemm_log_counts_past_capacity);
    tcase_add_test(blas, gemm_log_counts_bp_step);
    suite_add_tcase(s, blas);
    return tu_run_suite(s);
}
