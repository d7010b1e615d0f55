/* SPDX-License-Identifier: MIT */
/*
 * test_dataset_installed.c -- the installed FashionMNIST (Debian's
 * dataset-fashion-mnist) as pcmup_dataset_load_fashion_mnist reads it from
 * PCMUP_FASHION_MNIST_DIR. Skipped (exit status 77, TU_SKIPPED) when the
 * package is absent; test_dataset.c covers the loader on files of its own.
 * Also its heads (pcmup_dataset_load_fashion_mnist_head) against the whole
 * splits truncated.
 */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>

/* Checks one split: shape, 10 classes, pixels in [0, 1] reaching both
 * ends, and the balanced classes FashionMNIST has. */
static void check_fashion_split(pcmup_split split, size_t n_expected)
{
    pcmup_dataset *ds = NULL;
    TU_OK(pcmup_dataset_load_fashion_mnist(&ds, NULL, split, NULL));
    size_t n, dim, n_classes;
    TU_OK(pcmup_dataset_info(ds, &n, &dim, &n_classes));
    ck_assert_uint_eq(n, n_expected);
    ck_assert_uint_eq(dim, 784);
    ck_assert_uint_eq(n_classes, 10);
    enum { CHUNK = 1000 };
    float *x = malloc((size_t)CHUNK * 784 * sizeof *x);
    int32_t labels[CHUNK];
    size_t per_class[10] = {0};
    float lo = 1, hi = 0;
    for (size_t start = 0; start < n_expected; start += CHUNK) {
        TU_OK(pcmup_dataset_get_batch(ds, start, CHUNK, x, CHUNK * 784, labels));
        for (size_t i = 0; i < (size_t)CHUNK * 784; i++) {
            lo = fminf(lo, x[i]);
            hi = fmaxf(hi, x[i]);
        }
        for (size_t i = 0; i < CHUNK; i++) {
            ck_assert(labels[i] >= 0 && labels[i] < 10);
            per_class[labels[i]]++;
        }
    }
    ck_assert(lo == 0.0f && hi == 1.0f);
    for (int k = 0; k < 10; k++)
        ck_assert_uint_eq(per_class[k], n_expected / 10);
    free(x);
    pcmup_dataset_free(ds);
}

/* The first n samples of a split by pcmup_dataset_load_fashion_mnist_head
 * are bit for bit the whole split truncated to n: every float, every
 * label, and the shape. */
static void check_fashion_head(pcmup_split split, size_t n)
{
    pcmup_dataset *whole = NULL, *head = NULL;
    TU_OK(pcmup_dataset_load_fashion_mnist(&whole, NULL, split, NULL));
    TU_OK(pcmup_dataset_truncate(whole, n));
    TU_OK(pcmup_dataset_load_fashion_mnist_head(&head, NULL, split, n,
                                                PCMUP_DATASET_MAX_BYTES_DEFAULT, NULL));
    size_t n_classes;
    TU_OK(pcmup_dataset_info(head, NULL, NULL, &n_classes));
    ck_assert_uint_eq(n_classes, 10);
    tu_check_head_of(head, whole, n);
    pcmup_dataset_free(whole);
    pcmup_dataset_free(head);
}

START_TEST(installed_fashion_mnist_head)
{
    check_fashion_head(PCMUP_SPLIT_TRAIN, 1);
    check_fashion_head(PCMUP_SPLIT_TRAIN, 10000);
    check_fashion_head(PCMUP_SPLIT_TRAIN, 59999);
    check_fashion_head(PCMUP_SPLIT_TEST, 2000);
    check_fashion_head(PCMUP_SPLIT_TEST, 10000);
}
END_TEST

START_TEST(installed_fashion_mnist)
{
    check_fashion_split(PCMUP_SPLIT_TRAIN, 60000);
    check_fashion_split(PCMUP_SPLIT_TEST, 10000);
}
END_TEST

int main(void)
{
    if (!tu_have_fashion_mnist())
        return TU_SKIPPED;
    const TTest *tests[] = {installed_fashion_mnist, installed_fashion_mnist_head};
    /* 600 s: slow under valgrind. */
    return tu_run_tests("dataset_installed", 600, NULL, NULL, tests, TU_COUNT(tests));
}
