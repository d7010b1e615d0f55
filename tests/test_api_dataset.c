/* SPDX-License-Identifier: MIT */
/*
 * test_api_dataset.c -- pcmup_dataset at the edges of the API
 * (api_fixture.h): NULL pointers, invalid sizes, labels, values and
 * ranges, counts that do not match a shape, and a failed call leaves the
 * dataset and the caller's arrays as they were.
 */
#include "api_fixture.h"

#include <math.h>
#include <string.h>

START_TEST(null_dataset)
{
    pcmup_dataset *ds = NULL;
    float x[D] = {0}, y[C];
    int32_t label = 0;
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_load_idx, NULL, "/nonexistent/i", "/nonexistent/l",
          NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_load_idx, &ds, NULL, "/nonexistent/l", NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_load_idx, &ds, "/nonexistent/i", NULL, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_load_fashion_mnist, NULL, "/nonexistent",
          PCMUP_SPLIT_TEST, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_load_idx_limited, NULL, "/nonexistent/i",
          "/nonexistent/l", 1000, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_load_idx_limited, &ds, NULL, "/nonexistent/l", 1000,
          NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_load_idx_limited, &ds, "/nonexistent/i", NULL, 1000,
          NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_load_fashion_mnist_limited, NULL, "/nonexistent",
          PCMUP_SPLIT_TEST, 1000, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_load_cifar10, NULL, "/nonexistent", PCMUP_SPLIT_TEST,
          NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_load_cifar10, &ds, NULL, PCMUP_SPLIT_TEST, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_load_cifar10_limited, NULL, "/nonexistent",
          PCMUP_SPLIT_TEST, 1000, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_load_cifar10_limited, &ds, NULL, PCMUP_SPLIT_TEST,
          1000, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_from_arrays, NULL, 1, D, C, x, D, &label, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_from_arrays, &ds, 1, D, C, NULL, D, &label, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_from_arrays, &ds, 1, D, C, x, D, NULL, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_info, NULL, NULL, NULL, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_truncate, NULL, 1);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_standardize, NULL, w.data);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_get_batch, NULL, 0, 1, x, D, &label);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_one_hot, NULL, 0, 1, 1, y, C);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_one_hot, w.data, 0, 1, 1, NULL, C);
    ck_assert_ptr_null(ds);
}
END_TEST

START_TEST(invalid_dataset)
{
    pcmup_dataset *ds = NULL;
    float x[2 * D] = {0};
    int32_t labels[2] = {0, 1};
    const pcmup_allocator *broken = broken_allocators();
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_from_arrays, &ds, 0, D, C, x, 0, labels, NULL);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_from_arrays, &ds, 2, 0, C, x, 0, labels, NULL);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_from_arrays, &ds, 2, D, 0, x, 2 * D, labels, NULL);
    for (int i = 0; i < 3; i++)
        FAILS(PCMUP_ERR_INVALID, pcmup_dataset_from_arrays, &ds, 2, D, C, x, 2 * D, labels,
              &broken[i]);
    labels[1] = C;
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_from_arrays, &ds, 2, D, C, x, 2 * D, labels, NULL);
    labels[1] = -1;
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_from_arrays, &ds, 2, D, C, x, 2 * D, labels, NULL);
    labels[1] = 1;
    x[2 * D - 1] = NAN;
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_from_arrays, &ds, 2, D, C, x, 2 * D, labels, NULL);
    x[2 * D - 1] = INFINITY;
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_from_arrays, &ds, 2, D, C, x, 2 * D, labels, NULL);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_load_fashion_mnist, &ds, "/nonexistent",
          (pcmup_split)BAD_ENUM, NULL);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_load_fashion_mnist, &ds, "/nonexistent",
          PCMUP_SPLIT_TEST, &broken[0]);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_load_idx, &ds, "/nonexistent/i", "/nonexistent/l",
          &broken[2]);
    FAILS(PCMUP_ERR_IO, pcmup_dataset_load_idx, &ds, "/nonexistent/i", "/nonexistent/l", NULL);
    FAILS(PCMUP_ERR_IO, pcmup_dataset_load_fashion_mnist, &ds, "/nonexistent", PCMUP_SPLIT_TRAIN,
          NULL);
    /* The limited loaders: a limit of 0 bytes, then the same checks. */
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_load_idx_limited, &ds, "/nonexistent/i",
          "/nonexistent/l", 0, NULL);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_load_fashion_mnist_limited, &ds, "/nonexistent",
          PCMUP_SPLIT_TEST, 0, NULL);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_load_fashion_mnist_limited, &ds, "/nonexistent",
          (pcmup_split)BAD_ENUM, 1000, NULL);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_load_idx_limited, &ds, "/nonexistent/i",
          "/nonexistent/l", 1000, &broken[1]);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_load_fashion_mnist_limited, &ds, "/nonexistent",
          PCMUP_SPLIT_TEST, 1000, &broken[0]);
    FAILS(PCMUP_ERR_IO, pcmup_dataset_load_idx_limited, &ds, "/nonexistent/i",
          "/nonexistent/l", SIZE_MAX, NULL);
    FAILS(PCMUP_ERR_IO, pcmup_dataset_load_fashion_mnist_limited, &ds, "/nonexistent",
          PCMUP_SPLIT_TRAIN, SIZE_MAX, NULL);
    /* CIFAR-10: the same checks, in the same order. */
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_load_cifar10, &ds, "/nonexistent",
          (pcmup_split)BAD_ENUM, NULL);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_load_cifar10, &ds, "/nonexistent",
          PCMUP_SPLIT_TEST, &broken[0]);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_load_cifar10_limited, &ds, "/nonexistent",
          PCMUP_SPLIT_TEST, 0, NULL);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_load_cifar10_limited, &ds, "/nonexistent",
          PCMUP_SPLIT_TEST, 1000, &broken[1]);
    FAILS(PCMUP_ERR_IO, pcmup_dataset_load_cifar10, &ds, "/nonexistent", PCMUP_SPLIT_TRAIN,
          NULL);
    FAILS(PCMUP_ERR_IO, pcmup_dataset_load_cifar10_limited, &ds, "/nonexistent",
          PCMUP_SPLIT_TEST, SIZE_MAX, NULL);
    ck_assert_ptr_null(ds);
}
END_TEST

START_TEST(invalid_dataset_edits)
{
    float x[N * D], y[N * C];
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_truncate, w.data, 0);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_truncate, w.data, N + 1);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_get_batch, w.data, N, 1, x, D, NULL);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_get_batch, w.data, 1, N, x, N * D, NULL);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_get_batch, w.data, (size_t)-1, 2, x, 2 * D, NULL);
    /* "n = 0 copies nothing", even at the end. */
    TU_OK(pcmup_dataset_get_batch(w.data, N, 0, x, 0, NULL));
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_one_hot, w.data, N - 1, 2, 0, y, 2 * C);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_one_hot, w.data, 2, (size_t)-1, 0, y, N * C);
    /* A reference whose values are all equal has std 0. */
    pcmup_dataset *flat;
    float fx[2 * D];
    for (size_t i = 0; i < 2 * D; i++)
        fx[i] = 0.25f;
    TU_OK(pcmup_dataset_from_arrays(&flat, 2, D, C, fx, 2 * D, (int32_t[]){0, 1}, NULL));
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_standardize, w.data, flat);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_standardize, flat, NULL);
    pcmup_dataset_free(flat);
}
END_TEST

START_TEST(unchanged_dataset)
{
    float before[N * D], after[N * D];
    int32_t lb[N], la[N];
    TU_OK(pcmup_dataset_get_batch(w.data, 0, N, before, N * D, lb));
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_truncate, w.data, N + 1);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_truncate, w.data, 0);
    pcmup_dataset *flat;
    float fx[D] = {1, 1, 1, 1, 1};
    TU_OK(pcmup_dataset_from_arrays(&flat, 1, D, C, fx, D, (int32_t[]){0}, NULL));
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_standardize, w.data, flat);
    pcmup_dataset_free(flat);
    size_t n;
    TU_OK(pcmup_dataset_info(w.data, &n, NULL, NULL));
    ck_assert_uint_eq(n, N);
    TU_OK(pcmup_dataset_get_batch(w.data, 0, N, after, N * D, la));
    ck_assert(memcmp(before, after, sizeof before) == 0);
    ck_assert(memcmp(lb, la, sizeof lb) == 0);
}
END_TEST

/* Counts one too small or one too large: PCMUP_ERR_SHAPE, no dataset made,
 * and the caller's arrays untouched (labels too, when x's count is wrong). */
START_TEST(shape_dataset_counts)
{
    pcmup_dataset *ds = NULL;
    float x[3 * D + 1] = {0}, y[3 * C + 1];
    int32_t labels[3] = {0, 1, 2}, got[3] = {-7, -7, -7};
    for (int k = 0; k < 2; k++)
        FAILS(PCMUP_ERR_SHAPE, pcmup_dataset_from_arrays, &ds, 3, D, C, x,
              off_by_one(3 * D, k), labels, NULL);
    ck_assert_ptr_null(ds);
    fill_sentinel(x, TU_COUNT(x));
    fill_sentinel(y, TU_COUNT(y));
    for (int k = 0; k < 2; k++) {
        FAILS(PCMUP_ERR_SHAPE, pcmup_dataset_get_batch, w.data, 1, 3, x, off_by_one(3 * D, k),
              got);
        FAILS(PCMUP_ERR_SHAPE, pcmup_dataset_one_hot, w.data, 1, 3, 1, y, off_by_one(3 * C, k));
    }
    assert_sentinel(x, TU_COUNT(x), "pcmup_dataset_get_batch");
    assert_sentinel(y, TU_COUNT(y), "pcmup_dataset_one_hot");
    for (size_t i = 0; i < 3; i++)
        ck_assert_int_eq(got[i], -7);
    /* The message gives both counts; x's count is not looked at without x. */
    FAILS(PCMUP_ERR_SHAPE, pcmup_dataset_one_hot, w.data, 1, 3, 1, y, 3 * C + 1);
    ck_assert_str_eq(pcmup_last_error(),
                     "pcmup_dataset_one_hot: y_count is 10, expected 9 (3 x 3)");
    TU_OK(pcmup_dataset_get_batch(w.data, 1, 3, NULL, 0, got));
    TU_OK(pcmup_dataset_get_batch(w.data, 1, 3, x, 3 * D, got));
    TU_OK(pcmup_dataset_one_hot(w.data, 1, 3, 1, y, 3 * C));
}
END_TEST

int main(void)
{
    const TTest *tests[] = {
        null_dataset,
        invalid_dataset,
        invalid_dataset_edits,
        unchanged_dataset,
        shape_dataset_counts,
    };
    return api_run("api_dataset", 60, tests, TU_COUNT(tests));
}
