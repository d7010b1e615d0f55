/* SPDX-License-Identifier: MIT */
/*
 * test_rng.c -- the handles' random stream (lib/rng.c) against the
 * distributions it claims: the ziggurat's normals (pcmup__rng_normal_fast)
 * and Box-Muller's (pcmup__rng_normal) against the normal CDF by a
 * Kolmogorov-Smirnov distance, their moments, and the tail beyond the
 * ziggurat's base layer, where a wrong tail or wedge test shows first.
 * Fixed seeds: each check either holds for its stream or not; the bounds
 * sit at about 5 standard errors, so a correct generator fails none of
 * them for any seed in practice, and a wrong one fails them by far.
 *
 * An internal test: it links a static build of lib/ (tests/CMakeLists.txt,
 * PCMUP_INTERNAL_TESTS).
 */
#include "testutil.h"

#include "rng.h"

#include <math.h>
#include <stdlib.h>

enum { N_DRAWS = 400000 };

typedef double (*normal_fn)(pcmup_rng *);

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double normal_cdf(double x)
{
    return 0.5 * erfc(-x / sqrt(2.0));
}

static double *draw(normal_fn fn, uint64_t seed)
{
    double *z = malloc(N_DRAWS * sizeof *z);
    ck_assert_ptr_nonnull(z);
    pcmup_rng rng;
    pcmup__rng_seed(&rng, seed);
    for (size_t i = 0; i < N_DRAWS; i++) {
        z[i] = fn(&rng);
        ck_assert(isfinite(z[i]));
    }
    return z;
}

/* sup |F_n - Phi| over the sorted sample. At n = 400000 the statistic's
 * 1e-6 quantile is about 2.6 / sqrt(n) = 0.0041. */
static void check_ks(double *z)
{
    qsort(z, N_DRAWS, sizeof *z, by_value);
    double worst = 0.0;
    for (size_t i = 0; i < N_DRAWS; i++) {
        double phi = normal_cdf(z[i]);
        double below = fabs(phi - (double)i / N_DRAWS);
        double above = fabs((double)(i + 1) / N_DRAWS - phi);
        worst = fmax(worst, fmax(below, above));
    }
    ck_assert_msg(worst < 2.6 / sqrt((double)N_DRAWS), "KS distance %g", worst);
}

/* Mean 0, variance 1, kurtosis 3: standard errors 1/sqrt(n), sqrt(2/n)
 * and sqrt(96/n); bounds at 5 of them. */
static void check_moments(const double *z)
{
    double m1 = 0.0, m2 = 0.0, m4 = 0.0;
    for (size_t i = 0; i < N_DRAWS; i++) {
        m1 += z[i];
        m2 += z[i] * z[i];
        m4 += z[i] * z[i] * z[i] * z[i];
    }
    const double n = N_DRAWS;
    m1 /= n, m2 /= n, m4 /= n;
    ck_assert_msg(fabs(m1) < 5.0 / sqrt(n), "mean %g", m1);
    ck_assert_msg(fabs(m2 - 1.0) < 5.0 * sqrt(2.0 / n), "variance %g", m2);
    ck_assert_msg(fabs(m4 - 3.0) < 5.0 * sqrt(96.0 / n), "fourth moment %g", m4);
}

/* The counts beyond t (both signs) against n P(|Z| > t), binomial
 * standard deviation, 5 of them: t = 3.4426 is where the ziggurat's tail
 * starts, t = 2.5 is inside its wedges. */
static void check_tail(const double *z, double t)
{
    size_t beyond = 0;
    for (size_t i = 0; i < N_DRAWS; i++)
        beyond += fabs(z[i]) > t;
    double p = erfc(t / sqrt(2.0)), expect = N_DRAWS * p;
    double sd = sqrt(N_DRAWS * p * (1.0 - p));
    ck_assert_msg(fabs((double)beyond - expect) < 5.0 * sd, "beyond %g: %zu, expected %.1f", t,
                  beyond, expect);
}

static void check_normal(normal_fn fn, uint64_t seed)
{
    double *z = draw(fn, seed);
    check_moments(z);
    check_tail(z, 2.5);
    check_tail(z, 3.4426198558966519);
    check_tail(z, 4.0);
    check_ks(z);
    free(z);
}

START_TEST(ziggurat_is_standard_normal)
{
    check_normal(pcmup__rng_normal_fast, 1);
    check_normal(pcmup__rng_normal_fast, 20261203);
}
END_TEST

START_TEST(box_muller_is_standard_normal)
{
    check_normal(pcmup__rng_normal, 7);
}
END_TEST

/* The two halves of a ziggurat draw are independent: the sign (bit 7)
 * against the layer (bits 0-6) and the value (bits 11-63). Positive and
 * negative values are equally frequent, also among the large ones. */
START_TEST(ziggurat_signs_are_symmetric)
{
    double *z = draw(pcmup__rng_normal_fast, 3);
    size_t positive = 0, large = 0, large_positive = 0;
    for (size_t i = 0; i < N_DRAWS; i++) {
        positive += z[i] > 0.0;
        if (fabs(z[i]) > 2.0) {
            large++;
            large_positive += z[i] > 0.0;
        }
    }
    ck_assert_msg(fabs((double)positive - N_DRAWS / 2.0) < 5.0 * sqrt(N_DRAWS / 4.0),
                  "%zu positive of %d", positive, N_DRAWS);
    ck_assert_msg(fabs((double)large_positive - large / 2.0) < 5.0 * sqrt(large / 4.0),
                  "%zu positive of %zu beyond 2", large_positive, large);
    free(z);
}
END_TEST

/* The same seed gives the same stream (the library's determinism rests
 * on it), a different one another. */
START_TEST(ziggurat_is_deterministic)
{
    pcmup_rng a, b, c;
    pcmup__rng_seed(&a, 42);
    pcmup__rng_seed(&b, 42);
    pcmup__rng_seed(&c, 43);
    int differs = 0;
    for (int i = 0; i < 1000; i++) {
        double x = pcmup__rng_normal_fast(&a);
        ck_assert(x == pcmup__rng_normal_fast(&b));
        differs |= x != pcmup__rng_normal_fast(&c);
    }
    ck_assert(differs);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rng");
    TCase *normal = tcase_create("normal");
    tcase_set_timeout(normal, 60);
    tcase_add_test(normal, ziggurat_is_standard_normal);
    tcase_add_test(normal, box_muller_is_standard_normal);
    tcase_add_test(normal, ziggurat_signs_are_symmetric);
    tcase_add_test(normal, ziggurat_is_deterministic);
    suite_add_tcase(s, normal);
    return tu_run_suite(s);
}
