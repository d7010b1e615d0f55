/* SPDX-License-Identifier: MIT */
/*
 * test_cifar.c -- pcmup_dataset_load_cifar10 on CIFAR-10 batch files the
 * tests write: values, labels and the order of the five training batches,
 * the file read in chunks, every malformed file (empty, truncated, a size
 * that is not a whole number of records, a label above 9, a missing file,
 * a directory), heads (the first records only), the byte limit, its
 * arguments, and memory: every byte through the caller's allocator and
 * each allocation failure a clean PCMUP_ERR_NOMEM. No Debian package ships CIFAR-10, so every file here
 * is made up; record r of a file has bytes chosen so that no two records
 * of a split are alike.
 */
#define _POSIX_C_SOURCE 200809L /* mkdir, unlink */

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DIM 3072
#define RECORD (1 + DIM)

/* A pointer no call may write: failed loads must leave *out as it was. */
static char sentinel_storage;
#define SENTINEL ((pcmup_dataset *)(void *)&sentinel_storage)

static const char *const train_files[5] = {"data_batch_1.bin", "data_batch_2.bin",
                                           "data_batch_3.bin", "data_batch_4.bin",
                                           "data_batch_5.bin"};

/* ---- temporary directory ----------------------------------------------- */

static char tmpdir[64];

static void make_tmpdir(void) { tu_make_tmpdir(tmpdir, sizeof tmpdir, "pcmup-cifar"); }
static void remove_tmpdir(void) { tu_remove_tmpdir(tmpdir); }

static const char *tmp_path(const char *name)
{
    static char buf[512];
    snprintf(buf, sizeof buf, "%s/%s", tmpdir, name);
    return buf;
}

/* ---- writing batches --------------------------------------------------- */

/* The label of record r of file f, and its pixel j: arbitrary, but every
 * record of a split distinct, every byte value and label 0..9 used. */
static unsigned char label_of(unsigned f, size_t r)
{
    return (unsigned char)((3 * f + r) % 10);
}
static unsigned char pixel_of(unsigned f, size_t r, size_t j)
{
    return (unsigned char)((f * 131 + r * 37 + j * 13 + j / 1024 * 71) % 256);
}

/* The bytes of file f with `records` records, malloc'd. */
static unsigned char *batch_bytes(unsigned f, size_t records)
{
    unsigned char *b = malloc(records * RECORD);
    ck_assert_ptr_nonnull(b);
    for (size_t r = 0; r < records; r++) {
        b[r * RECORD] = label_of(f, r);
        for (size_t j = 0; j < DIM; j++)
            b[r * RECORD + 1 + j] = pixel_of(f, r, j);
    }
    return b;
}

static void write_bytes(const char *name, const unsigned char *b, size_t len)
{
    FILE *file = fopen(tmp_path(name), "wb");
    ck_assert_msg(file != NULL, "cannot create %s", tmp_path(name));
    ck_assert_uint_eq(fwrite(b, 1, len, file), len);
    ck_assert_int_eq(fclose(file), 0);
}

/* File f (`name`) with `records` records, its last `cut` bytes left out
 * (cut < 0: -cut bytes of junk appended). */
static void write_batch_cut(const char *name, unsigned f, size_t records, long cut)
{
    unsigned char *b = batch_bytes(f, records + 1);
    memset(b + records * RECORD, 0x5a, RECORD);
    write_bytes(name, b, (size_t)((long)(records * RECORD) - cut));
    free(b);
}

static void write_batch(const char *name, unsigned f, size_t records)
{
    write_batch_cut(name, f, records, 0);
}

/* The records per file of the training split the tests write: unequal, so
 * that a file's rows landing at the wrong offset shows. */
static const size_t train_records[5] = {3, 1, 2, 3, 1};
#define TRAIN_N 10
#define TEST_N 4
#define TEST_FILE 9 /* test_batch.bin's f */

static void write_split(void)
{
    for (unsigned f = 0; f < 5; f++)
        write_batch(train_files[f], f, train_records[f]);
    write_batch("test_batch.bin", TEST_FILE, TEST_N);
}

/* ---- checking ---------------------------------------------------------- */

/* The dataset holds files[0..n_files)'s records in order, as written. */
static void check_records(const pcmup_dataset *ds, const unsigned *files,
                          const size_t *records, size_t n_files)
{
    size_t total = 0;
    for (size_t i = 0; i < n_files; i++)
        total += records[i];
    size_t n, dim, classes;
    TU_OK(pcmup_dataset_info(ds, &n, &dim, &classes));
    ck_assert_uint_eq(n, total);
    ck_assert_uint_eq(dim, DIM);
    ck_assert_uint_eq(classes, 10);
    float *x = malloc(total * DIM * sizeof *x);
    int32_t *labels = malloc(total * sizeof *labels);
    ck_assert(x && labels);
    TU_OK(pcmup_dataset_get_batch(ds, 0, total, x, total * DIM, labels));
    /* One assertion per row: Check records every assertion it passes. */
    size_t row = 0;
    for (size_t i = 0; i < n_files; i++)
        for (size_t r = 0; r < records[i]; r++, row++) {
            ck_assert_int_eq(labels[row], label_of(files[i], r));
            size_t j = 0;
            while (j < DIM && x[row * DIM + j] == (float)pixel_of(files[i], r, j) / 255.0f)
                j++;
            ck_assert_msg(j == DIM, "row %zu (file %u record %zu) x[%zu] = %g", row, files[i],
                          r, j, j < DIM ? x[row * DIM + j] : 0.0f);
        }
    free(x);
    free(labels);
}

static void assert_message_has(const char *part)
{
    ck_assert_msg(strstr(pcmup_last_error(), part) != NULL, "message \"%s\" lacks \"%s\"",
                  pcmup_last_error(), part);
}

/* Loading `split` fails with `want`, names the function, `part1` and
 * `part2` (may be NULL) in its message, and leaves *out alone. */
static void expect_fails(pcmup_split split, pcmup_status want, const char *part1,
                         const char *part2)
{
    pcmup_dataset *ds = SENTINEL;
    TU_FAILS_IN(want, pcmup_dataset_load_cifar10, &ds, tmpdir, split, NULL);
    ck_assert_ptr_eq(ds, SENTINEL);
    assert_message_has(part1);
    if (part2)
        assert_message_has(part2);
}

/* ---- valid files --------------------------------------------------------- */

static const unsigned train_file_ids[5] = {0, 1, 2, 3, 4};
static const unsigned test_file_id[1] = {TEST_FILE};

/* `split` loads and holds its files' records, records[i] of file i, as written. */
static void expect_loads(pcmup_split split, const size_t *records)
{
    pcmup_dataset *ds = NULL;
    TU_OK(pcmup_dataset_load_cifar10(&ds, tmpdir, split, NULL));
    int train = split == PCMUP_SPLIT_TRAIN;
    check_records(ds, train ? train_file_ids : test_file_id, records, train ? 5 : 1);
    pcmup_dataset_free(ds);
}

START_TEST(train_split_concatenates_in_order)
{
    write_split();
    expect_loads(PCMUP_SPLIT_TRAIN, train_records);
}
END_TEST

START_TEST(test_split_is_test_batch)
{
    write_split();
    const size_t records[1] = {TEST_N};
    expect_loads(PCMUP_SPLIT_TEST, records);
}
END_TEST

/* A record's image is channel-major and stays so: planes of 1024 bytes
 * for red, green and blue, each row-major, as NCHW flattens (C, H, W). */
START_TEST(image_is_nchw)
{
    unsigned char rec[RECORD];
    rec[0] = 7;
    for (size_t c = 0; c < 3; c++)
        for (size_t h = 0; h < 32; h++)
            for (size_t w = 0; w < 32; w++)
                rec[1 + c * 1024 + h * 32 + w] = (unsigned char)(c * 80 + h + w);
    write_bytes("test_batch.bin", rec, RECORD);
    pcmup_dataset *ds = NULL;
    TU_OK(pcmup_dataset_load_cifar10(&ds, tmpdir, PCMUP_SPLIT_TEST, NULL));
    float x[DIM];
    int32_t label;
    TU_OK(pcmup_dataset_get_batch(ds, 0, 1, x, DIM, &label));
    ck_assert_int_eq(label, 7);
    /* Green at row 2, column 5; blue at the last pixel; red at the first. */
    ck_assert(x[1 * 1024 + 2 * 32 + 5] == (float)(80 + 2 + 5) / 255.0f);
    ck_assert(x[2 * 1024 + 31 * 32 + 31] == (float)(160 + 62) / 255.0f);
    ck_assert(x[0] == 0.0f);
    pcmup_dataset_free(ds);
}
END_TEST

/* More records than one chunk (128): the file is read in pieces. */
START_TEST(large_file_read_in_chunks)
{
    write_split();
    write_batch("test_batch.bin", TEST_FILE, 300);
    write_batch("data_batch_3.bin", 2, 129);
    const size_t test_records[1] = {300};
    expect_loads(PCMUP_SPLIT_TEST, test_records);
    const size_t records[5] = {3, 1, 129, 3, 1};
    expect_loads(PCMUP_SPLIT_TRAIN, records);
}
END_TEST

/* ---- heads ---------------------------------------------------------------- */

/* pcmup_dataset_load_cifar10_head(n) holds the first n records of the
 * split, across file boundaries and chunks, as written; n past the end
 * gives them all. */
static void expect_head(size_t n, const size_t *records)
{
    size_t head[5], left = n;
    for (size_t i = 0; i < 5; i++) {
        head[i] = left < records[i] ? left : records[i];
        left -= head[i];
    }
    pcmup_dataset *ds = NULL;
    TU_OK(pcmup_dataset_load_cifar10_head(&ds, tmpdir, PCMUP_SPLIT_TRAIN, n, SIZE_MAX, NULL));
    check_records(ds, train_file_ids, head, 5);
    pcmup_dataset_free(ds);
}

START_TEST(head_is_the_first_records)
{
    write_split();
    for (size_t n = 1; n <= TRAIN_N + 1; n++)
        expect_head(n, train_records);
    expect_head(SIZE_MAX, train_records);
    write_batch("data_batch_3.bin", 2, 129);
    const size_t records[5] = {3, 1, 129, 3, 1};
    const size_t ns[] = {5, 100, 132, 133, 134, 137};
    for (size_t i = 0; i < TU_COUNT(ns); i++)
        expect_head(ns[i], records);
}
END_TEST

/* Records after the head are not read: a label of 10 there passes, one in
 * it does not. The files are still all opened and sized, so a missing or
 * ill-sized one fails whatever the head. The limit counts the head. */
START_TEST(head_does_not_read_the_rest)
{
    write_split();
    unsigned char *b = batch_bytes(3, 3);
    b[1 * RECORD] = 10; /* record 1 of file 4: sample 7 of the split */
    write_bytes("data_batch_4.bin", b, 3 * RECORD);
    free(b);
    expect_head(7, train_records);
    pcmup_dataset *ds = SENTINEL;
    TU_FAILS_IN(PCMUP_ERR_FORMAT, pcmup_dataset_load_cifar10_head, &ds, tmpdir,
                PCMUP_SPLIT_TRAIN, 8, SIZE_MAX, NULL);
    assert_message_has("data_batch_4.bin: record 1");

    write_batch_cut("data_batch_5.bin", 4, 1, 1);
    TU_FAILS_IN(PCMUP_ERR_FORMAT, pcmup_dataset_load_cifar10_head, &ds, tmpdir,
                PCMUP_SPLIT_TRAIN, 1, SIZE_MAX, NULL);
    assert_message_has("data_batch_5.bin: 3072 bytes");
    unlink(tmp_path("data_batch_5.bin"));
    TU_FAILS_IN(PCMUP_ERR_IO, pcmup_dataset_load_cifar10_head, &ds, tmpdir,
                PCMUP_SPLIT_TRAIN, 1, SIZE_MAX, NULL);
    write_batch("data_batch_5.bin", 4, 1);

    /* 2 samples: 2 * 3072 * 4 + 2 * 4 = 24584 bytes. */
    TU_OK(pcmup_dataset_load_cifar10_head(&ds, tmpdir, PCMUP_SPLIT_TRAIN, 2, 24584, NULL));
    pcmup_dataset_free(ds);
    ds = SENTINEL;
    TU_FAILS_IN(PCMUP_ERR_FORMAT, pcmup_dataset_load_cifar10_head, &ds, tmpdir,
                PCMUP_SPLIT_TRAIN, 2, 24583, NULL);
    assert_message_has("loading the first 2 samples of dimension 3072, a dataset of 24584 "
                       "bytes, over the limit of 24583 bytes");
    ck_assert_ptr_eq(ds, SENTINEL);
}
END_TEST

/* ---- malformed files ----------------------------------------------------- */

START_TEST(truncated_record)
{
    write_split();
    write_batch_cut("data_batch_2.bin", 1, 3, 1);
    expect_fails(PCMUP_SPLIT_TRAIN, PCMUP_ERR_FORMAT, "data_batch_2.bin: 9218 bytes",
                 "not a whole number of 3073-byte records (2 records and 3072 bytes)");
    write_batch_cut("test_batch.bin", TEST_FILE, 1, 3000);
    expect_fails(PCMUP_SPLIT_TEST, PCMUP_ERR_FORMAT, "test_batch.bin: 73 bytes",
                 "truncated");
}
END_TEST

START_TEST(size_not_a_multiple)
{
    write_split();
    write_batch_cut("data_batch_5.bin", 4, 3, -5);
    expect_fails(PCMUP_SPLIT_TRAIN, PCMUP_ERR_FORMAT, "data_batch_5.bin: 9224 bytes",
                 "(3 records and 5 bytes)");
}
END_TEST

START_TEST(label_10)
{
    write_split();
    unsigned char *b = batch_bytes(3, 3);
    b[2 * RECORD] = 10;
    write_bytes("data_batch_4.bin", b, 3 * RECORD);
    expect_fails(PCMUP_SPLIT_TRAIN, PCMUP_ERR_FORMAT, "data_batch_4.bin: record 2",
                 "has label 10, expected 0..9");
    b[2 * RECORD] = 255;
    write_bytes("test_batch.bin", b, 3 * RECORD);
    expect_fails(PCMUP_SPLIT_TEST, PCMUP_ERR_FORMAT, "test_batch.bin: record 2 (at byte 6146)",
                 "label 255");
    free(b);
}
END_TEST

/* A bad label past the first chunk: the message counts records from the
 * file's start, not the chunk's. */
START_TEST(label_10_in_a_later_chunk)
{
    write_split();
    unsigned char *b = batch_bytes(TEST_FILE, 200);
    b[150 * RECORD] = 10;
    write_bytes("test_batch.bin", b, 200 * RECORD);
    free(b);
    expect_fails(PCMUP_SPLIT_TEST, PCMUP_ERR_FORMAT, "test_batch.bin: record 150 (at byte 460950)",
                 NULL);
}
END_TEST

START_TEST(missing_file)
{
    write_split();
    ck_assert_int_eq(unlink(tmp_path("data_batch_3.bin")), 0);
    char want[600];
    snprintf(want, sizeof want, "%s/data_batch_3.bin: no such file or directory", tmpdir);
    expect_fails(PCMUP_SPLIT_TRAIN, PCMUP_ERR_IO, want, NULL);
    /* The test split does not need it. */
    pcmup_dataset *ds = NULL;
    TU_OK(pcmup_dataset_load_cifar10(&ds, tmpdir, PCMUP_SPLIT_TEST, NULL));
    pcmup_dataset_free(ds);
    ck_assert_int_eq(unlink(tmp_path("test_batch.bin")), 0);
    expect_fails(PCMUP_SPLIT_TEST, PCMUP_ERR_IO, "/test_batch.bin: no such file", NULL);
}
END_TEST

START_TEST(empty_file)
{
    write_split();
    write_bytes("data_batch_1.bin", (const unsigned char *)"", 0);
    expect_fails(PCMUP_SPLIT_TRAIN, PCMUP_ERR_FORMAT, "data_batch_1.bin: empty", NULL);
}
END_TEST

START_TEST(directory_instead_of_file)
{
    write_split();
    ck_assert_int_eq(unlink(tmp_path("test_batch.bin")), 0);
    ck_assert_int_eq(mkdir(tmp_path("test_batch.bin"), 0700), 0);
    expect_fails(PCMUP_SPLIT_TEST, PCMUP_ERR_IO, "test_batch.bin: is a directory", NULL);
}
END_TEST

/* ---- the byte limit ------------------------------------------------------ */

/* The training split written: 10 samples of 3072 floats and a label. */
#define TRAIN_BYTES ((size_t)TRAIN_N * (DIM * 4 + 4))

START_TEST(limit_just_under_and_over)
{
    write_split();
    pcmup_dataset *ds = NULL;
    TU_OK(pcmup_dataset_load_cifar10_limited(&ds, tmpdir, PCMUP_SPLIT_TRAIN, TRAIN_BYTES,
                                             NULL));
    pcmup_dataset_free(ds);
    ds = SENTINEL;
    TU_FAILS_IN(PCMUP_ERR_FORMAT, pcmup_dataset_load_cifar10_limited, &ds, tmpdir,
                PCMUP_SPLIT_TRAIN, TRAIN_BYTES - 1, NULL);
    ck_assert_ptr_eq(ds, SENTINEL);
    char want[200];
    snprintf(want, sizeof want,
             ": data_batch_1..5.bin hold 10 samples of dimension 3072, a dataset of %zu "
             "bytes, over the limit of %zu bytes",
             TRAIN_BYTES, TRAIN_BYTES - 1);
    assert_message_has(want);
    assert_message_has(tmpdir);
    TU_FAILS_IN(PCMUP_ERR_FORMAT, pcmup_dataset_load_cifar10_limited, &ds, tmpdir,
                PCMUP_SPLIT_TEST, 1, NULL);
    assert_message_has("test_batch.bin holds 4 samples");
    TU_FAILS_IN(PCMUP_ERR_INVALID, pcmup_dataset_load_cifar10_limited, &ds, tmpdir,
                PCMUP_SPLIT_TRAIN, 0, NULL);
    ck_assert_ptr_eq(ds, SENTINEL);
}
END_TEST

/* The default limit holds the real training split: 50000 x 3072. */
START_TEST(limit_default_admits_cifar10)
{
    ck_assert_uint_le((size_t)50000 * (DIM * 4 + 4), PCMUP_DATASET_MAX_BYTES_DEFAULT);
}
END_TEST

/* ---- arguments ----------------------------------------------------------- */

static void *fail_malloc(void *user, size_t size) { (void)user; (void)size; return NULL; }
static void *fail_realloc(void *user, void *p, size_t size)
{
    (void)user; (void)p; (void)size;
    return NULL;
}
static void fail_free(void *user, void *p) { (void)user; (void)p; }

START_TEST(arguments)
{
    write_split();
    pcmup_dataset *ds = SENTINEL;
    TU_FAILS_IN(PCMUP_ERR_NULL, pcmup_dataset_load_cifar10, NULL, tmpdir, PCMUP_SPLIT_TRAIN,
                NULL);
    TU_FAILS_IN(PCMUP_ERR_NULL, pcmup_dataset_load_cifar10, &ds, NULL, PCMUP_SPLIT_TRAIN,
                NULL);
    TU_FAILS_IN(PCMUP_ERR_NULL, pcmup_dataset_load_cifar10_limited, NULL, tmpdir,
                PCMUP_SPLIT_TRAIN, 1000, NULL);
    TU_FAILS_IN(PCMUP_ERR_NULL, pcmup_dataset_load_cifar10_limited, &ds, NULL,
                PCMUP_SPLIT_TRAIN, 1000, NULL);
    TU_FAILS_IN(PCMUP_ERR_INVALID, pcmup_dataset_load_cifar10, &ds, tmpdir, (pcmup_split)2,
                NULL);
    assert_message_has("unknown split 2");
    TU_FAILS_IN(PCMUP_ERR_INVALID, pcmup_dataset_load_cifar10_limited, &ds, tmpdir,
                (pcmup_split)-1, SIZE_MAX, NULL);
    pcmup_allocator broken = PCMUP_ALLOCATOR_INIT(fail_malloc, fail_realloc, NULL, NULL);
    TU_FAILS_IN(PCMUP_ERR_INVALID, pcmup_dataset_load_cifar10, &ds, tmpdir,
                PCMUP_SPLIT_TEST, &broken);
    /* An allocator that always fails: NOMEM, not a crash. */
    pcmup_allocator none = PCMUP_ALLOCATOR_INIT(fail_malloc, fail_realloc, fail_free, NULL);
    TU_FAILS_IN(PCMUP_ERR_NOMEM, pcmup_dataset_load_cifar10, &ds, tmpdir, PCMUP_SPLIT_TEST,
                &none);
    ck_assert_ptr_eq(ds, SENTINEL);
}
END_TEST

/* ---- memory -------------------------------------------------------------- */

START_TEST(counting_allocator_sees_everything)
{
    write_split();
    write_batch("data_batch_2.bin", 1, 200); /* a chunk buffer of 128 records */
    tu_counter c;
    pcmup_allocator a = tu_counting_allocator(&c);
    pcmup_dataset *ds = NULL;
    TU_OK(pcmup_dataset_load_cifar10(&ds, tmpdir, PCMUP_SPLIT_TRAIN, &a));
    ck_assert_uint_gt(c.n_malloc, 3);
    ck_assert_int_eq(c.live, 3); /* the handle, x and labels */
    pcmup_dataset_free(ds);
    ck_assert_int_eq(c.live, 0);
    ck_assert_uint_eq(c.n_free, c.n_malloc);
}
END_TEST

/* Fails the 1st, 2nd, ... allocation in turn until the call needs no more:
 * each failure gives PCMUP_ERR_NOMEM naming the function, leaves *out
 * alone and leaks nothing. */
START_TEST(allocation_failures)
{
    write_split();
    size_t k;
    for (k = 1; k < 100; k++) {
        tu_counter c;
        pcmup_allocator a = tu_counting_allocator(&c);
        c.fail_after = k;
        pcmup_dataset *ds = SENTINEL;
        pcmup_status s = pcmup_dataset_load_cifar10(&ds, tmpdir, PCMUP_SPLIT_TRAIN, &a);
        if (c.fail_after != 0) {
            ck_assert_msg(s == PCMUP_OK, "k = %zu: %s", k, pcmup_last_error());
            check_records(ds, train_file_ids, train_records, 5);
            pcmup_dataset_free(ds);
            ck_assert_int_eq(c.live, 0);
            break;
        }
        ck_assert_msg(s == PCMUP_ERR_NOMEM, "failing allocation %zu gave %s (%s)", k,
                      pcmup_status_name(s), pcmup_last_error());
        assert_message_has("pcmup_dataset_load_cifar10: ");
        ck_assert_ptr_eq(ds, SENTINEL);
        ck_assert_msg(c.live == 0, "failing allocation %zu leaked %ld blocks", k, c.live);
    }
    /* 5 paths, the handle, x, labels and the read buffer. */
    ck_assert_uint_eq(k, 10);
}
END_TEST

/* ---- suite --------------------------------------------------------------- */

int main(void)
{
    const TTest *tests[] = {
        train_split_concatenates_in_order,
        test_split_is_test_batch,
        image_is_nchw,
        large_file_read_in_chunks,
        head_is_the_first_records,
        head_does_not_read_the_rest,
        truncated_record,
        size_not_a_multiple,
        label_10,
        label_10_in_a_later_chunk,
        missing_file,
        empty_file,
        directory_instead_of_file,
        limit_just_under_and_over,
        limit_default_admits_cifar10,
        arguments,
        counting_allocator_sees_everything,
        allocation_failures,
    };
    return tu_run_tests("cifar", 0, make_tmpdir, remove_tmpdir, tests, TU_COUNT(tests));
}
