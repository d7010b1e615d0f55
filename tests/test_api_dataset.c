/*
 * test_api_dataset.c -- pcmup_dataset at the edges of the API
 * (api_fixture.h): NULL pointers, invalid sizes, labels, values and
 * ranges, and a failed call leaves the dataset as it was.
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
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_from_arrays, NULL, 1, D, C, x, &label, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_from_arrays, &ds, 1, D, C, NULL, &label, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_from_arrays, &ds, 1, D, C, x, NULL, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_info, NULL, NULL, NULL, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_truncate, NULL, 1);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_standardize, NULL, w.data);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_get_batch, NULL, 0, 1, x, &label);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_one_hot, NULL, 0, 1, 1, y);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_one_hot, w.data, 0, 1, 1, NULL);
    ck_assert_ptr_null(ds);
}
END_TEST

START_TEST(invalid_dataset)
{
    pcmup_dataset *ds = NULL;
    float x[2 * D] = {0};
    int32_t labels[2] = {0, 1};
    const pcmup_allocator *broken = broken_allocators();
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_from_arrays, &ds, 0, D, C, x, labels, NULL);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_from_arrays, &ds, 2, 0, C, x, labels, NULL);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_from_arrays, &ds, 2, D, 0, x, labels, NULL);
    for (int i = 0; i < 3; i++)
        FAILS(PCMUP_ERR_INVALID, pcmup_dataset_from_arrays, &ds, 2, D, C, x, labels,
              &broken[i]);
    labels[1] = C;
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_from_arrays, &ds, 2, D, C, x, labels, NULL);
    labels[1] = -1;
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_from_arrays, &ds, 2, D, C, x, labels, NULL);
    labels[1] = 1;
    x[2 * D - 1] = NAN;
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_from_arrays, &ds, 2, D, C, x, labels, NULL);
    x[2 * D - 1] = INFINITY;
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_from_arrays, &ds, 2, D, C, x, labels, NULL);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_load_fashion_mnist, &ds, "/nonexistent",
          (pcmup_split)BAD_ENUM, NULL);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_load_fashion_mnist, &ds, "/nonexistent",
          PCMUP_SPLIT_TEST, &broken[0]);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_load_idx, &ds, "/nonexistent/i", "/nonexistent/l",
          &broken[2]);
    FAILS(PCMUP_ERR_IO, pcmup_dataset_load_idx, &ds, "/nonexistent/i", "/nonexistent/l", NULL);
    FAILS(PCMUP_ERR_IO, pcmup_dataset_load_fashion_mnist, &ds, "/nonexistent", PCMUP_SPLIT_TRAIN,
          NULL);
    ck_assert_ptr_null(ds);
}
END_TEST

START_TEST(invalid_dataset_edits)
{
    float x[N * D], y[N * C];
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_truncate, w.data, 0);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_truncate, w.data, N + 1);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_get_batch, w.data, N, 1, x, NULL);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_get_batch, w.data, 1, N, x, NULL);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_get_batch, w.data, (size_t)-1, 2, x, NULL);
    /* "count 0 copies nothing", even at the end. */
    TU_OK(pcmup_dataset_get_batch(w.data, N, 0, x, NULL));
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_one_hot, w.data, N - 1, 2, 0, y);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_one_hot, w.data, 2, (size_t)-1, 0, y);
    /* A reference whose values are all equal has std 0. */
    pcmup_dataset *flat;
    float fx[2 * D];
    for (size_t i = 0; i < 2 * D; i++)
        fx[i] = 0.25f;
    TU_OK(pcmup_dataset_from_arrays(&flat, 2, D, C, fx, (int32_t[]){0, 1}, NULL));
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_standardize, w.data, flat);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_standardize, flat, NULL);
    pcmup_dataset_free(flat);
}
END_TEST

START_TEST(unchanged_dataset)
{
    float before[N * D], after[N * D];
    int32_t lb[N], la[N];
    TU_OK(pcmup_dataset_get_batch(w.data, 0, N, before, lb));
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_truncate, w.data, N + 1);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_truncate, w.data, 0);
    pcmup_dataset *flat;
    float fx[D] = {1, 1, 1, 1, 1};
    TU_OK(pcmup_dataset_from_arrays(&flat, 1, D, C, fx, (int32_t[]){0}, NULL));
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_standardize, w.data, flat);
    pcmup_dataset_free(flat);
    size_t n;
    TU_OK(pcmup_dataset_info(w.data, &n, NULL, NULL));
    ck_assert_uint_eq(n, N);
    TU_OK(pcmup_dataset_get_batch(w.data, 0, N, after, la));
    ck_assert(memcmp(before, after, sizeof before) == 0);
    ck_assert(memcmp(lb, la, sizeof lb) == 0);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {
        null_dataset,
        invalid_dataset,
        invalid_dataset_edits,
        unchanged_dataset,
    };
    return api_run("api_dataset", 60, tests, TU_COUNT(tests));
}
