/* SPDX-License-Identifier: MIT */
/*
 * test_dataset.c -- datasets: arrays, IDX files (plain and gzip, valid and
 * malformed), FashionMNIST's file layout, standardisation, batches,
 * one-hot targets, heads (the first samples of a file only), and memory
 * accounting under injected allocation failures. The installed
 * FashionMNIST is test_dataset_installed.c's.
 *
 * IDX files are generated in a fresh directory under /tmp per test; gzip
 * files by zlib's gzwrite, or member by member with deflate where a test
 * needs members, trailing bytes or a stream cut short.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */

#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* A pointer no call may write: failed loads must leave *out as it was. */
static char sentinel_storage;
#define SENTINEL ((pcmup_dataset *)(void *)&sentinel_storage)

/* ---- temporary directory ----------------------------------------------- */

static char tmpdir[64];

static void make_tmpdir(void) { tu_make_tmpdir(tmpdir, sizeof tmpdir, "pcmup-dataset"); }
static void remove_tmpdir(void) { tu_remove_tmpdir(tmpdir); }

/* Path of a file in the temporary directory. A few rotating buffers, so
 * that one call can take two paths. */
static const char *tmp_path(const char *name)
{
    static char buf[4][512];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", tmpdir, name);
    return p;
}

/* ---- building IDX files ------------------------------------------------ */

typedef struct {
    unsigned char *p;
    size_t len;
} bytes;

static void put(bytes *b, const void *src, size_t n)
{
    b->p = realloc(b->p, b->len + n + 1);
    ck_assert(b->p != NULL);
    memcpy(b->p + b->len, src, n);
    b->len += n;
}

static void put_be32(bytes *b, uint32_t v)
{
    unsigned char be[4] = {v >> 24, v >> 16, v >> 8, v};
    put(b, be, 4);
}

/* An IDX file: magic 0 0 type ndims, the dimensions, then `data`. */
static bytes idx_bytes(unsigned type, unsigned ndims, const uint32_t *dims,
                       const unsigned char *data, size_t data_len)
{
    bytes b = {NULL, 0};
    unsigned char magic[4] = {0, 0, type, ndims};
    put(&b, magic, 4);
    for (unsigned i = 0; i < ndims; i++)
        put_be32(&b, dims[i]);
    if (data_len)
        put(&b, data, data_len);
    return b;
}

static void write_plain(const char *name, bytes b)
{
    FILE *f = fopen(tmp_path(name), "wb");
    ck_assert_msg(f != NULL, "cannot create %s", tmp_path(name));
    ck_assert(fwrite(b.p, 1, b.len, f) == b.len);
    fclose(f);
}

static void write_gz(const char *name, bytes b)
{
    gzFile gz = gzopen(tmp_path(name), "wb");
    ck_assert_msg(gz != NULL, "cannot create %s", tmp_path(name));
    ck_assert(gzwrite(gz, b.p, (unsigned)b.len) == (int)b.len);
    ck_assert(gzclose(gz) == Z_OK);
}

/* Writes `b` plain or gzip-compressed (by the name's suffix) and frees it. */
static void write_file(const char *name, bytes b)
{
    size_t len = strlen(name);
    if (len > 3 && strcmp(name + len - 3, ".gz") == 0)
        write_gz(name, b);
    else
        write_plain(name, b);
    free(b.p);
}

/* The small reference data: 3 samples of 2 x 2 pixels, labels 0 2 1. */
static const unsigned char small_pixels[12] = {0, 255, 17, 128, 1, 2, 3, 4, 250, 251, 252, 253};
static const unsigned char small_labels[3] = {0, 2, 1};

static void write_small_images(const char *name)
{
    const uint32_t dims[3] = {3, 2, 2};
    write_file(name, idx_bytes(0x08, 3, dims, small_pixels, sizeof small_pixels));
}

static void write_small_labels(const char *name)
{
    const uint32_t dims[1] = {3};
    write_file(name, idx_bytes(0x08, 1, dims, small_labels, sizeof small_labels));
}

/* A bigger file (100 samples of 28 x 28, more than the reader's first
 * buffer) with pixel = (i * 7) mod 256 and label = i mod 10. */
#define MEDIUM_N 100
#define MEDIUM_DIM 784

/* Its bytes, as medium_bytes makes them. */
static unsigned char medium_pixels[MEDIUM_N * MEDIUM_DIM], medium_labels[MEDIUM_N];

static void medium_bytes(void)
{
    for (size_t i = 0; i < sizeof medium_pixels; i++)
        medium_pixels[i] = (unsigned char)(i * 7);
    for (size_t i = 0; i < MEDIUM_N; i++)
        medium_labels[i] = (unsigned char)(i % 10);
}

static void write_medium(const char *images, const char *labels)
{
    medium_bytes();
    const uint32_t idims[3] = {MEDIUM_N, 28, 28}, ldims[1] = {MEDIUM_N};
    write_file(images, idx_bytes(0x08, 3, idims, medium_pixels, sizeof medium_pixels));
    write_file(labels, idx_bytes(0x08, 1, ldims, medium_labels, sizeof medium_labels));
}

/* ---- checking datasets ------------------------------------------------- */

static void check_info(const pcmup_dataset *ds, size_t n, size_t dim, size_t n_classes)
{
    size_t got_n, got_dim, got_classes;
    TU_OK(pcmup_dataset_info(ds, &got_n, &got_dim, &got_classes));
    ck_assert_uint_eq(got_n, n);
    ck_assert_uint_eq(got_dim, dim);
    ck_assert_uint_eq(got_classes, n_classes);
}

/* The dataset's contents equal pixels / 255 and labels. */
static void check_bytes_loaded(const pcmup_dataset *ds, const unsigned char *pixels,
                               const unsigned char *labels, size_t n, size_t dim)
{
    float *x = malloc(n * dim * sizeof *x);
    int32_t *lab = malloc(n * sizeof *lab);
    TU_OK(pcmup_dataset_get_batch(ds, 0, n, x, n * dim, lab));
    for (size_t i = 0; i < n * dim; i++)
        ck_assert_msg(x[i] == (float)pixels[i] / 255.0f, "x[%zu] = %g", i, x[i]);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(lab[i], labels[i]);
    free(x);
    free(lab);
}

static void check_small(const pcmup_dataset *ds)
{
    check_info(ds, 3, 4, 3);
    check_bytes_loaded(ds, small_pixels, small_labels, 3, 4);
}

static void assert_message_has(const char *part)
{
    ck_assert_msg(strstr(pcmup_last_error(), part) != NULL, "message \"%s\" lacks \"%s\"",
                  pcmup_last_error(), part);
}

/* load_idx fails with `want`, names `part` in its message and leaves *out. */
static void expect_load_fails(pcmup_status want, const char *images, const char *labels,
                              const char *part)
{
    pcmup_dataset *ds = SENTINEL;
    TU_FAILS(want, pcmup_dataset_load_idx(&ds, tmp_path(images), tmp_path(labels), NULL));
    ck_assert_ptr_eq(ds, SENTINEL);
    assert_message_has(part);
}

/* ---- valid IDX files ---------------------------------------------------- */

START_TEST(plain_round_trip)
{
    write_small_images("img");
    write_small_labels("lab");
    pcmup_dataset *ds = NULL;
    TU_OK(pcmup_dataset_load_idx(&ds, tmp_path("img"), tmp_path("lab"), NULL));
    check_small(ds);
    pcmup_dataset_free(ds);
}
END_TEST

START_TEST(gzip_round_trip)
{
    write_small_images("img.gz");
    write_small_labels("lab.gz");
    pcmup_dataset *ds = NULL;
    TU_OK(pcmup_dataset_load_idx(&ds, tmp_path("img.gz"), tmp_path("lab.gz"), NULL));
    check_small(ds);
    pcmup_dataset_free(ds);
}
END_TEST

/* zlib reads gzip data whatever the name; only ".gz" names are checked. */
START_TEST(gzip_data_without_gz_name)
{
    write_small_images("img.gz");
    ck_assert_int_eq(rename(tmp_path("img.gz"), tmp_path("img")), 0);
    write_small_labels("lab");
    pcmup_dataset *ds = NULL;
    TU_OK(pcmup_dataset_load_idx(&ds, tmp_path("img"), tmp_path("lab"), NULL));
    check_small(ds);
    pcmup_dataset_free(ds);
}
END_TEST

START_TEST(medium_files_grow_the_buffer)
{
    const char *names[2][2] = {{"mi", "ml"}, {"mi.gz", "ml.gz"}};
    for (int g = 0; g < 2; g++) {
        write_medium(names[g][0], names[g][1]);
        pcmup_dataset *ds = NULL;
        TU_OK(pcmup_dataset_load_idx(&ds, tmp_path(names[g][0]), tmp_path(names[g][1]), NULL));
        check_info(ds, MEDIUM_N, MEDIUM_DIM, 10);
        check_bytes_loaded(ds, medium_pixels, medium_labels, MEDIUM_N, MEDIUM_DIM);
        pcmup_dataset_free(ds);
    }
}
END_TEST

/* 1000 samples of 28 x 28 (784000 bytes): the loader converts image bytes
 * a chunk of some 64 KiB at a time and grows x several times. Every byte
 * value must come out as b / 255 in the right place, plain and gzip; and a
 * file cut short in its last chunk, or in its first, is refused with the
 * count of bytes that did arrive. */
#define LARGE_N 1000

START_TEST(large_files_load_in_chunks)
{
    static unsigned char pixels[LARGE_N * MEDIUM_DIM];
    unsigned char labels[LARGE_N];
    for (size_t i = 0; i < sizeof pixels; i++)
        pixels[i] = (unsigned char)(i * 7 + i / 4096);
    for (size_t i = 0; i < LARGE_N; i++)
        labels[i] = (unsigned char)(i % 10);
    const uint32_t idims[3] = {LARGE_N, 28, 28}, ldims[1] = {LARGE_N};
    const char *names[2][2] = {{"li", "ll"}, {"li.gz", "ll.gz"}};
    for (int g = 0; g < 2; g++) {
        write_file(names[g][0], idx_bytes(0x08, 3, idims, pixels, sizeof pixels));
        write_file(names[g][1], idx_bytes(0x08, 1, ldims, labels, sizeof labels));
        pcmup_dataset *ds = NULL;
        TU_OK(pcmup_dataset_load_idx(&ds, tmp_path(names[g][0]), tmp_path(names[g][1]), NULL));
        check_info(ds, LARGE_N, MEDIUM_DIM, 10);
        check_bytes_loaded(ds, pixels, labels, LARGE_N, MEDIUM_DIM);
        pcmup_dataset_free(ds);

        write_file(names[g][0], idx_bytes(0x08, 3, idims, pixels, sizeof pixels - 5));
        expect_load_fails(PCMUP_ERR_FORMAT, names[g][0], names[g][1],
                          "truncated: expected 1000 samples of 784 bytes, got 783995 bytes");
        write_file(names[g][0], idx_bytes(0x08, 3, idims, pixels, 1000));
        expect_load_fails(PCMUP_ERR_FORMAT, names[g][0], names[g][1],
                          "truncated: expected 1000 samples of 784 bytes, got 1000 bytes");
    }
}
END_TEST

START_TEST(one_dimensional_images)
{
    const uint32_t dims[1] = {3};
    const unsigned char px[3] = {10, 20, 30};
    write_file("img", idx_bytes(0x08, 1, dims, px, 3));
    write_small_labels("lab");
    pcmup_dataset *ds = NULL;
    TU_OK(pcmup_dataset_load_idx(&ds, tmp_path("img"), tmp_path("lab"), NULL));
    check_info(ds, 3, 1, 3);
    check_bytes_loaded(ds, px, small_labels, 3, 1);
    pcmup_dataset_free(ds);
}
END_TEST

START_TEST(four_dimensional_images_flatten)
{
    const uint32_t dims[4] = {3, 1, 2, 2};
    write_file("img", idx_bytes(0x08, 4, dims, small_pixels, sizeof small_pixels));
    write_small_labels("lab");
    pcmup_dataset *ds = NULL;
    TU_OK(pcmup_dataset_load_idx(&ds, tmp_path("img"), tmp_path("lab"), NULL));
    check_small(ds);
    pcmup_dataset_free(ds);
}
END_TEST

/* ---- malformed IDX files ----------------------------------------------- */

START_TEST(bad_magic)
{
    bytes b = idx_bytes(0x08, 0, NULL, NULL, 0);
    b.p[0] = 0x01; /* a file that is not IDX at all */
    const uint32_t dims[3] = {3, 2, 2};
    for (int i = 0; i < 3; i++)
        put_be32(&b, dims[i]);
    put(&b, small_pixels, sizeof small_pixels);
    write_file("img", b);
    write_small_labels("lab");
    expect_load_fails(PCMUP_ERR_FORMAT, "img", "lab", "bad magic");
}
END_TEST

START_TEST(wrong_type_byte)
{
    const uint32_t dims[3] = {3, 2, 2};
    const unsigned types[] = {0x09, 0x0b, 0x0c, 0x0d, 0x0e, 0x00};
    write_small_labels("lab");
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        write_file("img", idx_bytes(types[t], 3, dims, small_pixels, sizeof small_pixels));
        expect_load_fails(PCMUP_ERR_FORMAT, "img", "lab", "element type");
    }
    /* A wrong type in the label file too. */
    write_small_images("img");
    const uint32_t ldims[1] = {3};
    write_file("lab", idx_bytes(0x0d, 1, ldims, small_labels, sizeof small_labels));
    expect_load_fails(PCMUP_ERR_FORMAT, "img", "lab", tmp_path("lab"));
}
END_TEST

START_TEST(truncated_header)
{
    write_small_labels("lab");
    bytes full = idx_bytes(0x08, 3, (const uint32_t[]){3, 2, 2}, small_pixels, 12);
    /* Cut inside the magic and inside the dimensions; also an empty file. */
    const size_t cuts[] = {0, 3, 4, 6, 15};
    for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
        bytes b = {NULL, 0};
        put(&b, full.p, cuts[c]);
        write_file("img", b);
        expect_load_fails(PCMUP_ERR_FORMAT, "img", "lab", "truncated header");
    }
    free(full.p);
}
END_TEST

START_TEST(truncated_data)
{
    write_small_labels("lab");
    const uint32_t dims[3] = {3, 2, 2};
    write_file("img", idx_bytes(0x08, 3, dims, small_pixels, sizeof small_pixels - 1));
    expect_load_fails(PCMUP_ERR_FORMAT, "img", "lab", "truncated: expected 3 samples");

    /* The same in a gzip file, and after the reader's buffer has grown. */
    write_file("img.gz", idx_bytes(0x08, 3, dims, small_pixels, sizeof small_pixels - 1));
    expect_load_fails(PCMUP_ERR_FORMAT, "img.gz", "lab", "img.gz: truncated");
    static unsigned char big[MEDIUM_N * MEDIUM_DIM];
    const uint32_t mdims[3] = {MEDIUM_N, 28, 28};
    write_file("mi", idx_bytes(0x08, 3, mdims, big, sizeof big - 1));
    write_file("ml", idx_bytes(0x08, 1, (const uint32_t[]){MEDIUM_N}, big, MEDIUM_N));
    expect_load_fails(PCMUP_ERR_FORMAT, "mi", "ml", "truncated");

    write_small_images("img");
    const uint32_t ldims[1] = {3};
    write_file("lab.gz", idx_bytes(0x08, 1, ldims, small_labels, 2));
    expect_load_fails(PCMUP_ERR_FORMAT, "img", "lab.gz",
                      "lab.gz: truncated: expected 3 labels, got 2");
}
END_TEST

/* A gzip file cut short: in the data, and in the trailer only (all data
 * present, but the CRC check missing). */
START_TEST(truncated_gzip_stream)
{
    write_small_labels("lab");
    write_small_images("img.gz");
    FILE *f = fopen(tmp_path("img.gz"), "rb");
    unsigned char buf[256];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    ck_assert_uint_gt(len, 20);
    const size_t cuts[] = {len - 4, len - 8, len - 12, 12};
    for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
        bytes b = {NULL, 0};
        put(&b, buf, cuts[c]);
        write_plain("img.gz", b);
        free(b.p);
        expect_load_fails(PCMUP_ERR_FORMAT, "img.gz", "lab", "truncated");
    }
}
END_TEST

START_TEST(corrupt_gzip_data)
{
    write_small_labels("lab");
    write_medium("mi.gz", "ml.gz");
    FILE *f = fopen(tmp_path("mi.gz"), "rb");
    static unsigned char buf[1 << 17];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    ck_assert_uint_gt(len, 40);
    for (size_t i = 12; i < len - 8; i += 3)
        buf[i] ^= 0x5a;
    bytes b = {NULL, 0};
    put(&b, buf, len);
    write_plain("mi.gz", b);
    free(b.p);
    expect_load_fails(PCMUP_ERR_FORMAT, "mi.gz", "ml.gz", "mi.gz");
}
END_TEST

START_TEST(dimension_product_overflow)
{
    write_small_labels("lab");
    const uint32_t cases[][4] = {
        {3, 65536, 65536, 1},            /* 2^32 per sample           */
        {3, 0xffffffffu, 0xffffffffu, 1}, /* wraps a 64-bit product   */
        {3, 46341, 46341, 1},            /* just over 2^31 - 1        */
        {1, 0x80000000u, 1, 1},          /* 2^31 in one dimension     */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        write_file("img", idx_bytes(0x08, 4, cases[c], small_pixels, sizeof small_pixels));
        expect_load_fails(PCMUP_ERR_FORMAT, "img", "lab", "exceeds");
    }
}
END_TEST

/* Each sample fits, but all of them as floats would exceed any address
 * space (2^32 - 1 samples of 2^31 - 1 bytes, times 4). */
START_TEST(total_size_overflow)
{
    write_small_labels("lab");
    write_file("img", idx_bytes(0x08, 2, (const uint32_t[]){0xffffffffu, 0x7fffffffu},
                                small_pixels, sizeof small_pixels));
    expect_load_fails(PCMUP_ERR_FORMAT, "img", "lab", "too large");
}
END_TEST

START_TEST(zero_dimensions)
{
    write_small_labels("lab");
    write_file("img", idx_bytes(0x08, 3, (const uint32_t[]){0, 2, 2}, NULL, 0));
    expect_load_fails(PCMUP_ERR_FORMAT, "img", "lab", "0 samples");
    write_file("img", idx_bytes(0x08, 3, (const uint32_t[]){3, 0, 2}, NULL, 0));
    expect_load_fails(PCMUP_ERR_FORMAT, "img", "lab", "dimension 1 is 0");
    write_file("img", idx_bytes(0x08, 0, NULL, small_pixels, sizeof small_pixels));
    expect_load_fails(PCMUP_ERR_FORMAT, "img", "lab", "0 dimensions");
    write_small_images("img");
    write_file("lab", idx_bytes(0x08, 1, (const uint32_t[]){0}, NULL, 0));
    expect_load_fails(PCMUP_ERR_FORMAT, "img", "lab", "0 samples");
}
END_TEST

/* An allocator that remembers the largest request it saw. */
static void *max_malloc(void *user, size_t size)
{
    size_t *max = user;
    if (size > *max)
        *max = size;
    return malloc(size);
}

static void *max_realloc(void *user, void *p, size_t size)
{
    size_t *max = user;
    if (size > *max)
        *max = size;
    return realloc(p, size);
}

static void max_free(void *user, void *p)
{
    (void)user;
    free(p);
}

/* A header claiming 2^32 - 1 samples in a tiny file: over the default
 * limit; without a limit it must fail as truncated without asking for
 * memory in proportion to the claim. */
START_TEST(huge_claimed_count)
{
    const uint32_t cases[][3] = {{0xffffffffu, 1, 1}, {0xffffffffu, 28, 28}, {0xffffffffu, 2, 2}};
    const char *names[] = {"img", "img.gz"};
    write_file("lab", idx_bytes(0x08, 1, (const uint32_t[]){0xffffffffu}, small_labels, 3));
    for (size_t c = 0; c < 3; c++) {
        for (int g = 0; g < 2; g++) {
            write_file(names[g], idx_bytes(0x08, 3, cases[c], small_pixels, 10));
            expect_load_fails(PCMUP_ERR_FORMAT, names[g], "lab", "over the limit");
            size_t max = 0;
            pcmup_allocator a = PCMUP_ALLOCATOR_INIT(max_malloc, max_realloc, max_free, &max);
            pcmup_dataset *ds = SENTINEL;
            TU_FAILS(PCMUP_ERR_FORMAT,
                     pcmup_dataset_load_idx_limited(&ds, tmp_path(names[g]), tmp_path("lab"),
                                                    SIZE_MAX, &a));
            ck_assert_ptr_eq(ds, SENTINEL);
            assert_message_has("truncated");
            ck_assert_msg(max <= (1u << 20), "asked for %zu bytes", max);
        }
    }
    /* The same for a label file. */
    write_file("img", idx_bytes(0x08, 1, (const uint32_t[]){0xffffffffu}, small_pixels, 12));
    pcmup_dataset *ds = SENTINEL;
    TU_FAILS(PCMUP_ERR_FORMAT, pcmup_dataset_load_idx_limited(&ds, tmp_path("img"),
                                                              tmp_path("lab"), SIZE_MAX, NULL));
    ck_assert_ptr_eq(ds, SENTINEL);
    assert_message_has("truncated: expected 4294967295 samples of 1 bytes, got 12");
}
END_TEST

START_TEST(label_count_mismatch)
{
    write_small_images("img");
    const unsigned char four[4] = {0, 1, 2, 3};
    write_file("lab", idx_bytes(0x08, 1, (const uint32_t[]){4}, four, 4));
    expect_load_fails(PCMUP_ERR_FORMAT, "img", "lab", "has 3 samples but");
}
END_TEST

START_TEST(label_file_ndims)
{
    write_small_images("img");
    write_file("lab", idx_bytes(0x08, 2, (const uint32_t[]){3, 1}, small_labels, 3));
    expect_load_fails(PCMUP_ERR_FORMAT, "img", "lab", "this one has 2");
    write_file("lab", idx_bytes(0x08, 3, (const uint32_t[]){3, 2, 2}, small_pixels, 12));
    expect_load_fails(PCMUP_ERR_FORMAT, "img", "lab", "this one has 3");
}
END_TEST

START_TEST(plain_data_named_gz)
{
    write_small_images("img.gz.tmp");
    ck_assert_int_eq(rename(tmp_path("img.gz.tmp"), tmp_path("img.gz")), 0);
    write_small_labels("lab");
    expect_load_fails(PCMUP_ERR_FORMAT, "img.gz", "lab", "not gzip data");
    /* One byte is not enough for the magic either. */
    bytes b = {NULL, 0};
    put(&b, "\x1f", 1);
    write_plain("lab.gz", b);
    free(b.p);
    write_small_images("img");
    expect_load_fails(PCMUP_ERR_FORMAT, "img", "lab.gz", "not gzip data");
}
END_TEST

START_TEST(trailing_data_rejected)
{
    write_file("lab", idx_bytes(0x08, 1, (const uint32_t[]){2}, small_labels, 2));
    write_file("img", idx_bytes(0x08, 3, (const uint32_t[]){2, 2, 2}, small_pixels, 12));
    expect_load_fails(PCMUP_ERR_FORMAT, "img", "lab", "trailing data after the samples");
    /* The same inside a gzip stream, and in a label file. */
    write_file("img.gz", idx_bytes(0x08, 3, (const uint32_t[]){2, 2, 2}, small_pixels, 12));
    expect_load_fails(PCMUP_ERR_FORMAT, "img.gz", "lab", "img.gz: trailing data");
    write_small_images("img");
    write_file("lab", idx_bytes(0x08, 1, (const uint32_t[]){3}, small_pixels, 4));
    expect_load_fails(PCMUP_ERR_FORMAT, "img", "lab", "trailing data after the labels");
}
END_TEST

/* ---- gzip streams: members and what follows them ------------------------ */

/* The gzip member of `b` (one member, with its trailer), in memory. */
static bytes gzip_member(const unsigned char *p, size_t len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    ck_assert(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    bytes out = {NULL, 0};
    unsigned char chunk[4096];
    z.next_in = (Bytef *)(uintptr_t)p;
    z.avail_in = (uInt)len;
    int rc;
    do {
        z.next_out = chunk;
        z.avail_out = sizeof chunk;
        rc = deflate(&z, Z_FINISH);
        ck_assert(rc == Z_OK || rc == Z_STREAM_END);
        put(&out, chunk, sizeof chunk - z.avail_out);
    } while (rc != Z_STREAM_END);
    deflateEnd(&z);
    return out;
}

/* Writes the gzip member of `b` followed by `tail` (tail_len bytes), under
 * `name`, and frees b. */
static void write_gz_then(const char *name, bytes b, const void *tail, size_t tail_len)
{
    bytes gz = gzip_member(b.p, b.len);
    if (tail_len)
        put(&gz, tail, tail_len);
    write_plain(name, gz);
    free(gz.p);
    free(b.p);
}

static bytes small_images_bytes(void)
{
    return idx_bytes(0x08, 3, (const uint32_t[]){3, 2, 2}, small_pixels, sizeof small_pixels);
}

/* zlib's gzread ignores bytes after a gzip stream that do not start
 * another member; pcmup.h promises PCMUP_ERR_FORMAT for them. */
START_TEST(gzip_trailing_junk_rejected)
{
    write_small_labels("lab");
    const struct {
        const char *tail;
        size_t len;
    } tails[] = {{"JUNK", 4}, {"\0", 1}, {"\0\0\0\0\0\0\0\0", 8}, {"\x1f", 1}, {"\n", 1}};
    const char *names[] = {"img.gz", "img"}; /* gzip data without the name too */
    for (size_t t = 0; t < sizeof tails / sizeof tails[0]; t++) {
        for (int n = 0; n < 2; n++) {
            write_gz_then(names[n], small_images_bytes(), tails[t].tail, tails[t].len);
            expect_load_fails(PCMUP_ERR_FORMAT, names[n], "lab",
                              "trailing bytes after the end of the gzip data");
        }
    }
    /* A label file too. */
    write_small_images("img");
    write_gz_then("lab.gz",
                  idx_bytes(0x08, 1, (const uint32_t[]){3}, small_labels, sizeof small_labels),
                  "x", 1);
    expect_load_fails(PCMUP_ERR_FORMAT, "img", "lab.gz",
                      "lab.gz: trailing bytes after the end of the gzip data");
    /* Junk that starts like a gzip member but is not one. */
    write_gz_then("img.gz", small_images_bytes(), "\x1f\x8b\x08\0junk", 8);
    expect_load_fails(PCMUP_ERR_FORMAT, "img.gz", "lab", "img.gz");
}
END_TEST

/* Members written one after another are one stream (RFC 1952, gzip(1)),
 * wherever the boundary falls; an empty member adds nothing; a member
 * carrying bytes past the data is trailing data. */
START_TEST(gzip_members_concatenate)
{
    write_small_labels("lab");
    bytes all = small_images_bytes();
    for (size_t cut = 0; cut <= all.len; cut += 5) {
        bytes first = gzip_member(all.p, cut), second = gzip_member(all.p + cut, all.len - cut);
        put(&first, second.p, second.len);
        write_plain("img.gz", first);
        free(first.p);
        free(second.p);
        pcmup_dataset *ds = NULL;
        TU_OK(pcmup_dataset_load_idx(&ds, tmp_path("img.gz"), tmp_path("lab"), NULL));
        check_small(ds);
        pcmup_dataset_free(ds);
    }
    bytes empty = gzip_member(NULL, 0), extra = gzip_member((const unsigned char *)"x", 1);
    write_gz_then("img.gz", small_images_bytes(), empty.p, empty.len);
    pcmup_dataset *ds = NULL;
    TU_OK(pcmup_dataset_load_idx(&ds, tmp_path("img.gz"), tmp_path("lab"), NULL));
    check_small(ds);
    pcmup_dataset_free(ds);
    write_gz_then("img.gz", small_images_bytes(), extra.p, extra.len);
    expect_load_fails(PCMUP_ERR_FORMAT, "img.gz", "lab", "trailing data after the samples");
    free(empty.p);
    free(extra.p);
    free(all.p);
}
END_TEST

/* ---- the size limit ------------------------------------------------------ */

/* A gzip stream of `prefix` followed by mib MiB of zeros, without its
 * last block and trailer (a reader that decompressed all of it would call
 * it truncated). Each MiB after a full flush compresses to the same bytes,
 * so a gigabyte costs a megabyte of file and no time to make. */
static void write_zero_bomb(const char *name, bytes prefix, size_t mib)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    ck_assert(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) == Z_OK);
    static unsigned char zeros[1 << 20], out[1 << 20];
    bytes head = {NULL, 0}, block = {NULL, 0};
    const unsigned char *src[2] = {prefix.p, zeros};
    size_t len[2] = {prefix.len, sizeof zeros};
    bytes *dst[2] = {&head, &block};
    for (int i = 0; i < 2; i++) {
        z.next_in = (Bytef *)(uintptr_t)src[i];
        z.avail_in = (uInt)len[i];
        z.next_out = out;
        z.avail_out = sizeof out;
        ck_assert(deflate(&z, Z_FULL_FLUSH) == Z_OK);
        ck_assert(z.avail_in == 0 && z.avail_out > 0);
        put(dst[i], out, sizeof out - z.avail_out);
    }
    deflateEnd(&z);
    FILE *f = fopen(tmp_path(name), "wb");
    ck_assert(f != NULL);
    ck_assert(fwrite(head.p, 1, head.len, f) == head.len);
    for (size_t i = 0; i < mib; i++)
        ck_assert(fwrite(block.p, 1, block.len, f) == block.len);
    fclose(f);
    free(head.p);
    free(block.p);
    free(prefix.p);
}

/* A file of a few hundred KB declaring 400000 images of 28 x 28 (a
 * 1.25 GB dataset) is refused by the default limit from its header:
 * nothing like its size is allocated, and the message gives both sizes. */
START_TEST(limit_refuses_declared_size)
{
    const uint32_t dims[3] = {400000, 28, 28};
    write_zero_bomb("img.gz", idx_bytes(0x08, 3, dims, NULL, 0), 300);
    write_zero_bomb("lab.gz", idx_bytes(0x08, 1, dims, NULL, 0), 1);
    struct stat st;
    ck_assert_int_eq(stat(tmp_path("img.gz"), &st), 0);
    ck_assert_int_lt(st.st_size, 400 * 1000);
    size_t max = 0;
    pcmup_allocator a = PCMUP_ALLOCATOR_INIT(max_malloc, max_realloc, max_free, &max);
    pcmup_dataset *ds = SENTINEL;
    TU_FAILS(PCMUP_ERR_FORMAT,
             pcmup_dataset_load_idx(&ds, tmp_path("img.gz"), tmp_path("lab.gz"), &a));
    ck_assert_ptr_eq(ds, SENTINEL);
    /* 400000 * 784 * 4 + 400000 * 4 bytes; the limit is 2^30. */
    assert_message_has("400000 samples of dimension 784, a dataset of 1256000000 bytes");
    assert_message_has("over the limit of 1073741824 bytes");
    ck_assert_msg(max <= (1u << 20), "asked for %zu bytes", max);

    /* The FashionMNIST loader applies the same default. */
    ck_assert_int_eq(rename(tmp_path("img.gz"), tmp_path("train-images-idx3-ubyte.gz")), 0);
    ck_assert_int_eq(rename(tmp_path("lab.gz"), tmp_path("train-labels-idx1-ubyte.gz")), 0);
    TU_FAILS(PCMUP_ERR_FORMAT,
             pcmup_dataset_load_fashion_mnist(&ds, tmpdir, PCMUP_SPLIT_TRAIN, NULL));
    assert_message_has("over the limit of 1073741824 bytes");
    TU_FAILS(PCMUP_ERR_FORMAT, pcmup_dataset_load_fashion_mnist_limited(
                                   &ds, tmpdir, PCMUP_SPLIT_TRAIN, 1255999999, NULL));
    assert_message_has("over the limit of 1255999999 bytes");
    ck_assert_ptr_eq(ds, SENTINEL);
}
END_TEST

/* FashionMNIST's training split (60000 x 784) is within the default: a
 * header declaring it gets past the limit to the data (which is missing
 * here, so the load fails as truncated, not as too large). */
START_TEST(limit_default_admits_fashion_mnist)
{
    write_file("img", idx_bytes(0x08, 3, (const uint32_t[]){60000, 28, 28}, small_pixels, 12));
    write_file("lab", idx_bytes(0x08, 1, (const uint32_t[]){60000}, small_labels, 3));
    expect_load_fails(PCMUP_ERR_FORMAT, "img", "lab", "truncated: expected 60000 samples");
    /* 60000 * 785 * 4 bytes is the exact limit that admits it. */
    pcmup_dataset *ds = SENTINEL;
    TU_FAILS(PCMUP_ERR_FORMAT, pcmup_dataset_load_idx_limited(&ds, tmp_path("img"),
                                                              tmp_path("lab"), 188400000, NULL));
    assert_message_has("truncated");
    TU_FAILS(PCMUP_ERR_FORMAT, pcmup_dataset_load_idx_limited(&ds, tmp_path("img"),
                                                              tmp_path("lab"), 188399999, NULL));
    assert_message_has("a dataset of 188400000 bytes, over the limit of 188399999 bytes");
    ck_assert_ptr_eq(ds, SENTINEL);
}
END_TEST

/* The small files (3 samples of 4 values: 3 * 4 * 4 + 3 * 4 = 60 bytes)
 * load with a limit of 60 and not 59, plain and gzip. */
START_TEST(limit_just_under_and_over)
{
    const char *names[2][2] = {{"img", "lab"}, {"img.gz", "lab.gz"}};
    for (int g = 0; g < 2; g++) {
        write_small_images(names[g][0]);
        write_small_labels(names[g][1]);
        const char *img = tmp_path(names[g][0]), *lab = tmp_path(names[g][1]);
        const size_t ok_limits[] = {60, 61, SIZE_MAX};
        for (size_t i = 0; i < 3; i++) {
            pcmup_dataset *ds = NULL;
            TU_OK(pcmup_dataset_load_idx_limited(&ds, img, lab, ok_limits[i], NULL));
            check_small(ds);
            pcmup_dataset_free(ds);
        }
        const size_t bad_limits[] = {59, 1};
        for (size_t i = 0; i < 2; i++) {
            pcmup_dataset *ds = SENTINEL;
            TU_FAILS(PCMUP_ERR_FORMAT,
                     pcmup_dataset_load_idx_limited(&ds, img, lab, bad_limits[i], NULL));
            ck_assert_ptr_eq(ds, SENTINEL);
            assert_message_has("3 samples of dimension 4, a dataset of 60 bytes");
            assert_message_has(bad_limits[i] == 1 ? "limit of 1 bytes" : "limit of 59 bytes");
        }
        pcmup_dataset *ds = SENTINEL;
        TU_FAILS(PCMUP_ERR_INVALID, pcmup_dataset_load_idx_limited(&ds, img, lab, 0, NULL));
        ck_assert_ptr_eq(ds, SENTINEL);
    }
}
END_TEST

/* A small header followed by a gigabyte of compressed zeros: the reader
 * stops one byte past the declared data and calls the rest trailing data.
 * Had it decompressed the stream to its end, it would have found it cut
 * short instead (write_zero_bomb leaves out the end). */
START_TEST(limit_stops_decompression)
{
    write_small_labels("lab");
    write_zero_bomb("img.gz", small_images_bytes(), 1024);
    expect_load_fails(PCMUP_ERR_FORMAT, "img.gz", "lab", "img.gz: trailing data after the samples");
    /* With the last pixel byte missing, the first zero completes the data
     * and the second is trailing. */
    write_zero_bomb("img.gz",
                    idx_bytes(0x08, 3, (const uint32_t[]){3, 2, 2}, small_pixels, 11), 1024);
    expect_load_fails(PCMUP_ERR_FORMAT, "img.gz", "lab", "trailing data after the samples");
}
END_TEST

START_TEST(missing_files)
{
    write_small_images("img");
    write_small_labels("lab");
    expect_load_fails(PCMUP_ERR_IO, "nope", "lab", "nope");
    expect_load_fails(PCMUP_ERR_IO, "img", "nope", "nope");
    expect_load_fails(PCMUP_ERR_IO, "nope.gz", "lab", "nope.gz");
    /* A directory opens but cannot be read. */
    pcmup_dataset *ds = SENTINEL;
    TU_FAILS(PCMUP_ERR_IO, pcmup_dataset_load_idx(&ds, tmpdir, tmp_path("lab"), NULL));
    ck_assert_ptr_eq(ds, SENTINEL);
    ck_assert_int_eq(mkdir(tmp_path("dir.gz"), 0700), 0);
    expect_load_fails(PCMUP_ERR_IO, "dir.gz", "lab", "dir.gz: is a directory");
    rmdir(tmp_path("dir.gz"));
}
END_TEST

/* ---- heads: the first samples only ------------------------------------- */

/* The medium files (labels i mod 10), plain and gzip: a head of n
 * samples is the whole file truncated to n, and holds pixels (i * 7) mod
 * 256 / 255 itself. Its n_classes is the largest loaded label + 1: n for
 * n < 10, then 10 like the whole file's. */
START_TEST(head_equals_truncated_load)
{
    const char *names[2][2] = {{"mi", "ml"}, {"mi.gz", "ml.gz"}};
    const size_t ns[] = {1, 7, 10, 64, MEDIUM_N - 1, MEDIUM_N, MEDIUM_N + 1, SIZE_MAX};
    for (int g = 0; g < 2; g++) {
        write_medium(names[g][0], names[g][1]);
        const char *img = tmp_path(names[g][0]), *lab = tmp_path(names[g][1]);
        for (size_t k = 0; k < TU_COUNT(ns); k++) {
            size_t n = ns[k] < MEDIUM_N ? ns[k] : MEDIUM_N;
            pcmup_dataset *whole = NULL, *head = NULL;
            TU_OK(pcmup_dataset_load_idx(&whole, img, lab, NULL));
            TU_OK(pcmup_dataset_truncate(whole, n));
            TU_OK(pcmup_dataset_load_idx_head(&head, img, lab, ns[k], SIZE_MAX, NULL));
            tu_check_head_of(head, whole, n);
            check_info(head, n, MEDIUM_DIM, n < 10 ? n : 10);
            check_bytes_loaded(head, medium_pixels, medium_labels, n, MEDIUM_DIM);
            pcmup_dataset_free(whole);
            pcmup_dataset_free(head);
        }
    }
}
END_TEST

/* What comes after the head is not read: a file cut short, or followed
 * by junk, after it still loads, plain and gzip; cut short within it, it
 * does not. A head of the whole file checks everything, as the whole
 * load does. */
START_TEST(head_does_not_read_the_rest)
{
    medium_bytes();
    const unsigned char *pixels = medium_pixels;
    unsigned char lab[MEDIUM_N];
    memcpy(lab, medium_labels, sizeof lab);
    const uint32_t idims[3] = {MEDIUM_N, 28, 28}, ldims[1] = {MEDIUM_N};
    const char *names[2][2] = {{"mi", "ml"}, {"mi.gz", "ml.gz"}};
    for (int g = 0; g < 2; g++) {
        const char *img = names[g][0], *labs = names[g][1];
        /* 40 samples and 40 labels of the declared 100. */
        write_file(img, idx_bytes(0x08, 3, idims, pixels, 40 * MEDIUM_DIM));
        write_file(labs, idx_bytes(0x08, 1, ldims, lab, 40));
        pcmup_dataset *ds = NULL;
        TU_OK(pcmup_dataset_load_idx_head(&ds, tmp_path(img), tmp_path(labs), 40, SIZE_MAX,
                                          NULL));
        check_info(ds, 40, MEDIUM_DIM, 10);
        check_bytes_loaded(ds, pixels, lab, 40, MEDIUM_DIM);
        pcmup_dataset_free(ds);
        expect_load_fails(PCMUP_ERR_FORMAT, img, labs, "truncated: expected 100 samples");
        ds = SENTINEL;
        TU_FAILS(PCMUP_ERR_FORMAT, pcmup_dataset_load_idx_head(&ds, tmp_path(img),
                                                               tmp_path(labs), 41, SIZE_MAX,
                                                               NULL));
        ck_assert_ptr_eq(ds, SENTINEL);
        assert_message_has("truncated");

        /* All 100 samples, then junk (a label byte of 200 after the head
         * is not looked at either). */
        lab[60] = 200;
        bytes junk = idx_bytes(0x08, 3, idims, pixels, sizeof medium_pixels);
        put(&junk, "junk", 4);
        write_file(img, junk);
        write_file(labs, idx_bytes(0x08, 1, ldims, lab, MEDIUM_N));
        TU_OK(pcmup_dataset_load_idx_head(&ds, tmp_path(img), tmp_path(labs), 60, SIZE_MAX,
                                          NULL));
        check_info(ds, 60, MEDIUM_DIM, 10);
        pcmup_dataset_free(ds);
        ds = SENTINEL;
        TU_FAILS(PCMUP_ERR_FORMAT, pcmup_dataset_load_idx_head(&ds, tmp_path(img),
                                                               tmp_path(labs), SIZE_MAX,
                                                               SIZE_MAX, NULL));
        ck_assert_ptr_eq(ds, SENTINEL);
        assert_message_has("trailing data after the samples");
        lab[60] = 0;
    }
}
END_TEST

/* A small header then a gigabyte of compressed zeros and no gzip end: the
 * head's decompression stops at its last sample, so the file loads (in
 * well under the second the whole gigabyte would take), and the limit
 * counts the loaded samples, not the declared ones. */
START_TEST(head_stops_decompressing)
{
    const uint32_t dims[3] = {400000, 28, 28};
    write_zero_bomb("img.gz", idx_bytes(0x08, 3, dims, NULL, 0), 1024);
    write_zero_bomb("lab.gz", idx_bytes(0x08, 1, dims, NULL, 0), 1);
    const char *img = tmp_path("img.gz"), *lab = tmp_path("lab.gz");
    size_t max = 0;
    pcmup_allocator a = PCMUP_ALLOCATOR_INIT(max_malloc, max_realloc, max_free, &max);
    pcmup_dataset *ds = NULL;
    /* 1000 * 784 * 4 + 1000 * 4 = 3140000 bytes. */
    TU_OK(pcmup_dataset_load_idx_head(&ds, img, lab, 1000, 3140000, &a));
    check_info(ds, 1000, 784, 1);
    float x[784];
    TU_OK(pcmup_dataset_get_batch(ds, 999, 1, x, 784, NULL));
    for (size_t i = 0; i < 784; i++)
        ck_assert(x[i] == 0.0f);
    pcmup_dataset_free(ds);
    ck_assert_msg(max <= 4u << 20, "asked for %zu bytes at once", max);

    ds = SENTINEL;
    TU_FAILS(PCMUP_ERR_FORMAT, pcmup_dataset_load_idx_head(&ds, img, lab, 1000, 3139999, NULL));
    assert_message_has("loading the first 1000 samples of dimension 784, a dataset of 3140000 "
                       "bytes, over the limit of 3139999 bytes");
    TU_FAILS(PCMUP_ERR_FORMAT, pcmup_dataset_load_idx_head(&ds, img, lab, SIZE_MAX,
                                                           PCMUP_DATASET_MAX_BYTES_DEFAULT,
                                                           NULL));
    assert_message_has("the header declares 400000 samples");
    ck_assert_ptr_eq(ds, SENTINEL);
}
END_TEST

/* The headers are still checked in full: a count mismatch, a bad magic,
 * max_samples 0 and max_bytes 0 fail whatever the head. */
START_TEST(head_checks_headers_and_arguments)
{
    write_small_images("img");
    const uint32_t ldims[1] = {2};
    write_file("lab2", idx_bytes(0x08, 1, ldims, small_labels, 2));
    pcmup_dataset *ds = SENTINEL;
    TU_FAILS(PCMUP_ERR_FORMAT, pcmup_dataset_load_idx_head(&ds, tmp_path("img"),
                                                           tmp_path("lab2"), 1, SIZE_MAX,
                                                           NULL));
    assert_message_has("has 3 samples but");
    write_small_labels("lab");
    const uint32_t dims[3] = {3, 2, 2};
    write_file("bad", idx_bytes(0x0d, 3, dims, small_pixels, sizeof small_pixels));
    TU_FAILS(PCMUP_ERR_FORMAT, pcmup_dataset_load_idx_head(&ds, tmp_path("bad"),
                                                           tmp_path("lab"), 1, SIZE_MAX,
                                                           NULL));
    assert_message_has("element type 0x0d not supported");
    TU_FAILS_IN(PCMUP_ERR_INVALID, pcmup_dataset_load_idx_head, &ds, tmp_path("img"),
                tmp_path("lab"), 0, SIZE_MAX, NULL);
    assert_message_has("max_samples is 0");
    TU_FAILS_IN(PCMUP_ERR_INVALID, pcmup_dataset_load_idx_head, &ds, tmp_path("img"),
                tmp_path("lab"), 1, 0, NULL);
    write_small_images("train-images-idx3-ubyte");
    write_small_labels("train-labels-idx1-ubyte");
    TU_FAILS_IN(PCMUP_ERR_INVALID, pcmup_dataset_load_fashion_mnist_head, &ds, tmpdir,
                PCMUP_SPLIT_TRAIN, 0, SIZE_MAX, NULL);
    TU_FAILS_IN(PCMUP_ERR_INVALID, pcmup_dataset_load_fashion_mnist_head, &ds, tmpdir,
                (pcmup_split)7, 1, SIZE_MAX, NULL);
    TU_FAILS_IN(PCMUP_ERR_INVALID, pcmup_dataset_load_cifar10_head, &ds, tmpdir,
                PCMUP_SPLIT_TRAIN, 0, SIZE_MAX, NULL);
    TU_FAILS(PCMUP_ERR_NULL, pcmup_dataset_load_idx_head(NULL, "a", "b", 1, 1, NULL));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_dataset_load_idx_head(&ds, NULL, "b", 1, 1, NULL));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_dataset_load_idx_head(&ds, "a", NULL, 1, 1, NULL));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_dataset_load_fashion_mnist_head(
                                 NULL, tmpdir, PCMUP_SPLIT_TRAIN, 1, 1, NULL));
    TU_FAILS(PCMUP_ERR_NULL,
             pcmup_dataset_load_cifar10_head(&ds, NULL, PCMUP_SPLIT_TRAIN, 1, 1, NULL));
    ck_assert_ptr_eq(ds, SENTINEL);

    /* The FashionMNIST head: 2 of the 3 small samples, 10 classes. */
    ds = NULL;
    TU_OK(pcmup_dataset_load_fashion_mnist_head(&ds, tmpdir, PCMUP_SPLIT_TRAIN, 2, 40, NULL));
    check_info(ds, 2, 4, 10);
    check_bytes_loaded(ds, small_pixels, small_labels, 2, 4);
    pcmup_dataset_free(ds);
}
END_TEST

/* ---- FashionMNIST from a directory ------------------------------------ */

/* Parts of an allocator whose malloc_fn is missing: never to be called. */
static void *realloc_never_called(void *user, void *p, size_t size)
{
    (void)user, (void)p, (void)size;
    ck_abort_msg("realloc_fn of an invalid allocator was called");
    return NULL;
}

static void free_never_called(void *user, void *p)
{
    (void)user, (void)p;
    ck_abort_msg("free_fn of an invalid allocator was called");
}

START_TEST(fashion_layout)
{
    write_small_images("train-images-idx3-ubyte");
    write_small_labels("train-labels-idx1-ubyte.gz");
    pcmup_dataset *ds = NULL;
    TU_OK(pcmup_dataset_load_fashion_mnist(&ds, tmpdir, PCMUP_SPLIT_TRAIN, NULL));
    check_info(ds, 3, 4, 10); /* 10 classes whatever the largest label */
    check_bytes_loaded(ds, small_pixels, small_labels, 3, 4);
    pcmup_dataset_free(ds);

    /* The test split's files are absent. */
    ds = SENTINEL;
    TU_FAILS(PCMUP_ERR_IO, pcmup_dataset_load_fashion_mnist(&ds, tmpdir, PCMUP_SPLIT_TEST, NULL));
    ck_assert_ptr_eq(ds, SENTINEL);
    assert_message_has("t10k-images-idx3-ubyte.gz");
}
END_TEST

/* The plain file wins over the gzip one when both exist. */
START_TEST(fashion_prefers_plain)
{
    write_small_images("t10k-images-idx3-ubyte");
    write_small_labels("t10k-labels-idx1-ubyte");
    write_medium("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz");
    pcmup_dataset *ds = NULL;
    TU_OK(pcmup_dataset_load_fashion_mnist(&ds, tmpdir, PCMUP_SPLIT_TEST, NULL));
    check_info(ds, 3, 4, 10);
    pcmup_dataset_free(ds);
}
END_TEST

START_TEST(fashion_rejects_label_10)
{
    write_small_images("train-images-idx3-ubyte");
    const unsigned char lab[3] = {0, 10, 1};
    write_file("train-labels-idx1-ubyte", idx_bytes(0x08, 1, (const uint32_t[]){3}, lab, 3));
    pcmup_dataset *ds = SENTINEL;
    TU_FAILS(PCMUP_ERR_FORMAT,
             pcmup_dataset_load_fashion_mnist(&ds, tmpdir, PCMUP_SPLIT_TRAIN, NULL));
    ck_assert_ptr_eq(ds, SENTINEL);
    assert_message_has("label 1 is 10");

    /* load_idx takes the same file, with 11 classes. */
    ds = NULL;
    TU_OK(pcmup_dataset_load_idx(&ds, tmp_path("train-images-idx3-ubyte"),
                                 tmp_path("train-labels-idx1-ubyte"), NULL));
    check_info(ds, 3, 4, 11);
    pcmup_dataset_free(ds);
}
END_TEST

START_TEST(loaders_reject_broken_allocator)
{
    write_small_images("img");
    write_small_labels("lab");
    pcmup_allocator broken =
        PCMUP_ALLOCATOR_INIT(NULL, realloc_never_called, free_never_called, NULL);
    pcmup_dataset *ds = SENTINEL;
    TU_FAILS(PCMUP_ERR_INVALID,
             pcmup_dataset_load_idx(&ds, tmp_path("img"), tmp_path("lab"), &broken));
    TU_FAILS(PCMUP_ERR_INVALID,
             pcmup_dataset_load_fashion_mnist(&ds, tmpdir, PCMUP_SPLIT_TRAIN, &broken));
    ck_assert_ptr_eq(ds, SENTINEL);
}
END_TEST

START_TEST(fashion_bad_split)
{
    pcmup_dataset *ds = SENTINEL;
    TU_FAILS(PCMUP_ERR_INVALID,
             pcmup_dataset_load_fashion_mnist(&ds, tmpdir, (pcmup_split)2, NULL));
    TU_FAILS(PCMUP_ERR_INVALID,
             pcmup_dataset_load_fashion_mnist(&ds, tmpdir, (pcmup_split)-1, NULL));
    ck_assert_ptr_eq(ds, SENTINEL);
}
END_TEST

/* ---- from_arrays -------------------------------------------------------- */

static const float arr_x[8] = {1, 2, 3, 4, 5, 6, 7, 8}; /* 4 samples of 2 */
static const int32_t arr_labels[4] = {0, 1, 2, 1};

static pcmup_dataset *make_arrays(void)
{
    pcmup_dataset *ds = NULL;
    TU_OK(pcmup_dataset_from_arrays(&ds, 4, 2, 3, arr_x, 8, arr_labels, NULL));
    return ds;
}

START_TEST(from_arrays_copies)
{
    float x[8];
    memcpy(x, arr_x, sizeof x);
    int32_t labels[4] = {0, 1, 2, 1};
    pcmup_dataset *ds = NULL;
    TU_OK(pcmup_dataset_from_arrays(&ds, 4, 2, 3, x, 8, labels, NULL));
    x[0] = 99; /* the dataset holds its own copy */
    labels[0] = 2;
    check_info(ds, 4, 2, 3);
    float got[8];
    int32_t got_labels[4];
    TU_OK(pcmup_dataset_get_batch(ds, 0, 4, got, 8, got_labels));
    ck_assert_mem_eq(got, arr_x, sizeof got);
    ck_assert_mem_eq(got_labels, arr_labels, sizeof got_labels);
    pcmup_dataset_free(ds);
}
END_TEST

static void expect_arrays_fail(pcmup_status want, size_t n, size_t dim, size_t n_classes,
                               const float *x, const int32_t *labels,
                               const pcmup_allocator *a)
{
    pcmup_dataset *ds = SENTINEL;
    TU_FAILS(want, pcmup_dataset_from_arrays(&ds, n, dim, n_classes, x, n * dim, labels, a));
    ck_assert_ptr_eq(ds, SENTINEL);
}

START_TEST(from_arrays_validates)
{
    float x[8];
    memcpy(x, arr_x, sizeof x);
    int32_t labels[4] = {0, 1, 2, 1};
    x[5] = NAN;
    expect_arrays_fail(PCMUP_ERR_INVALID, 4, 2, 3, x, labels, NULL);
    x[5] = INFINITY;
    expect_arrays_fail(PCMUP_ERR_INVALID, 4, 2, 3, x, labels, NULL);
    x[5] = -INFINITY;
    expect_arrays_fail(PCMUP_ERR_INVALID, 4, 2, 3, x, labels, NULL);
    assert_message_has("x[5]");
    x[5] = 6;
    labels[3] = 3;
    expect_arrays_fail(PCMUP_ERR_INVALID, 4, 2, 3, x, labels, NULL);
    assert_message_has("label 3 of sample 3");
    labels[3] = -1;
    expect_arrays_fail(PCMUP_ERR_INVALID, 4, 2, 3, x, labels, NULL);
    labels[3] = 1;

    expect_arrays_fail(PCMUP_ERR_INVALID, 0, 2, 3, x, labels, NULL);
    expect_arrays_fail(PCMUP_ERR_INVALID, 4, 0, 3, x, labels, NULL);
    expect_arrays_fail(PCMUP_ERR_INVALID, 4, 2, 0, x, labels, NULL);
    expect_arrays_fail(PCMUP_ERR_INVALID, SIZE_MAX / 2, 3, 3, x, labels, NULL);
    expect_arrays_fail(PCMUP_ERR_INVALID, 1, (size_t)1 << 31, 3, x, labels, NULL);
    expect_arrays_fail(PCMUP_ERR_INVALID, 4, 2, (size_t)1 << 31, x, labels, NULL);
    expect_arrays_fail(PCMUP_ERR_NULL, 4, 2, 3, NULL, labels, NULL);
    expect_arrays_fail(PCMUP_ERR_NULL, 4, 2, 3, x, NULL, NULL);
    TU_FAILS(PCMUP_ERR_NULL, pcmup_dataset_from_arrays(NULL, 4, 2, 3, x, 8, labels, NULL));

    pcmup_allocator broken = PCMUP_ALLOCATOR_INIT(NULL, NULL, NULL, NULL);
    expect_arrays_fail(PCMUP_ERR_INVALID, 4, 2, 3, x, labels, &broken);

    /* Labels may leave classes unused. */
    pcmup_dataset *ds = NULL;
    TU_OK(pcmup_dataset_from_arrays(&ds, 4, 2, 7, x, 8, labels, NULL));
    check_info(ds, 4, 2, 7);
    pcmup_dataset_free(ds);
}
END_TEST

/* ---- truncate ------------------------------------------------------------ */

START_TEST(truncate_keeps_first_rows)
{
    pcmup_dataset *ds = make_arrays();
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_dataset_truncate(ds, 0));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_dataset_truncate(ds, 5));
    check_info(ds, 4, 2, 3);
    TU_OK(pcmup_dataset_truncate(ds, 4));
    TU_OK(pcmup_dataset_truncate(ds, 2));
    check_info(ds, 2, 2, 3); /* n_classes is kept */
    float x[4];
    int32_t labels[2];
    TU_OK(pcmup_dataset_get_batch(ds, 0, 2, x, 4, labels));
    ck_assert_mem_eq(x, arr_x, sizeof x);
    ck_assert_mem_eq(labels, arr_labels, sizeof labels);
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_dataset_get_batch(ds, 0, 3, NULL, 0, NULL));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_dataset_truncate(ds, 3));
    pcmup_dataset_free(ds);
}
END_TEST

/* Shrinking memory is best effort: an allocator that cannot shrink still
 * gives a correct, truncated dataset. */
START_TEST(truncate_survives_failed_shrink)
{
    for (size_t k = 1; k <= 3; k++) {
        tu_counter c;
        pcmup_allocator a = tu_counting_allocator(&c);
        pcmup_dataset *ds = NULL;
        TU_OK(pcmup_dataset_from_arrays(&ds, 4, 2, 3, arr_x, 8, arr_labels, &a));
        c.fail_after = k;
        TU_OK(pcmup_dataset_truncate(ds, 3));
        check_info(ds, 3, 2, 3);
        float x[6];
        int32_t labels[3];
        TU_OK(pcmup_dataset_get_batch(ds, 0, 3, x, 6, labels));
        ck_assert_mem_eq(x, arr_x, sizeof x);
        ck_assert_mem_eq(labels, arr_labels, sizeof labels);
        pcmup_dataset_free(ds);
        ck_assert_int_eq(c.live, 0);
    }
}
END_TEST

/* ---- standardize ------------------------------------------------------- */

static void mean_std(const float *x, size_t n, double *mean, double *std)
{
    double s = 0, sq = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    *mean = s / (double)n;
    for (size_t i = 0; i < n; i++)
        sq += (x[i] - *mean) * (x[i] - *mean);
    *std = sqrt(sq / (double)n);
}

START_TEST(standardize_self)
{
    pcmup_dataset *ds = make_arrays();
    TU_OK(pcmup_dataset_standardize(ds, NULL));
    float x[8];
    TU_OK(pcmup_dataset_get_batch(ds, 0, 4, x, 8, NULL));
    double mean, std;
    mean_std(x, 8, &mean, &std);
    ck_assert_double_eq_tol(mean, 0.0, 1e-6);
    ck_assert_double_eq_tol(std, 1.0, 1e-6);
    pcmup_dataset_free(ds);
}
END_TEST

/* Test values standardised with the training set's population mean and
 * std: train {1..8} has mean 4.5 and std sqrt(5.25). */
START_TEST(standardize_with_reference)
{
    pcmup_dataset *train = make_arrays();
    const float test_x[4] = {0, 4.5f, 10, -3};
    const int32_t test_labels[2] = {2, 0};
    pcmup_dataset *test = NULL;
    TU_OK(pcmup_dataset_from_arrays(&test, 2, 2, 3, test_x, 4, test_labels, NULL));
    TU_OK(pcmup_dataset_standardize(test, train));
    float got[4];
    TU_OK(pcmup_dataset_get_batch(test, 0, 2, got, 4, NULL));
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq_tol(got[i], (test_x[i] - 4.5) / sqrt(5.25), 1e-6);
    /* The reference itself is untouched. */
    float train_x[8];
    TU_OK(pcmup_dataset_get_batch(train, 0, 4, train_x, 8, NULL));
    ck_assert_mem_eq(train_x, arr_x, sizeof train_x);
    pcmup_dataset_free(train);
    pcmup_dataset_free(test);
}
END_TEST

/* The dataset's values are exactly `want` (all of them). */
static void check_unchanged(const pcmup_dataset *ds, const float *want, size_t n_values)
{
    float got[16];
    size_t n, dim;
    TU_OK(pcmup_dataset_info(ds, &n, &dim, NULL));
    ck_assert_uint_eq(n * dim, n_values);
    ck_assert_uint_le(n_values, 16);
    TU_OK(pcmup_dataset_get_batch(ds, 0, n, got, n * dim, NULL));
    ck_assert_mem_eq(got, want, n_values * sizeof *got);
}

START_TEST(standardize_rejects_zero_std)
{
    const float flat[4] = {3, 3, 3, 3};
    const int32_t labels[2] = {0, 1};
    pcmup_dataset *constant = NULL, *ds = make_arrays();
    TU_OK(pcmup_dataset_from_arrays(&constant, 2, 2, 2, flat, 4, labels, NULL));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_dataset_standardize(constant, NULL));
    check_unchanged(constant, flat, 4);
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_dataset_standardize(ds, constant));
    check_unchanged(ds, arr_x, 8);
    /* A single value has std 0 as well. */
    pcmup_dataset *one = NULL;
    TU_OK(pcmup_dataset_from_arrays(&one, 1, 1, 1, arr_x, 1, arr_labels, NULL));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_dataset_standardize(one, NULL));
    pcmup_dataset_free(one);
    pcmup_dataset_free(constant);
    pcmup_dataset_free(ds);
}
END_TEST

/* A tiny reference std would turn large values into infinities. */
START_TEST(standardize_rejects_float_overflow)
{
    const float tiny[2] = {0, 1e-30f}, big[2] = {1e30f, -1e30f};
    const int32_t labels[2] = {0, 0};
    pcmup_dataset *ref = NULL, *ds = NULL;
    TU_OK(pcmup_dataset_from_arrays(&ref, 2, 1, 1, tiny, 2, labels, NULL));
    TU_OK(pcmup_dataset_from_arrays(&ds, 2, 1, 1, big, 2, labels, NULL));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_dataset_standardize(ds, ref));
    check_unchanged(ds, big, 2);
    TU_OK(pcmup_dataset_standardize(ref, NULL)); /* fine on its own */
    pcmup_dataset_free(ref);
    pcmup_dataset_free(ds);
}
END_TEST

/* ---- get_batch and one_hot --------------------------------------------- */

START_TEST(get_batch_ranges)
{
    pcmup_dataset *ds = make_arrays();
    float x[4];
    int32_t labels[2];
    TU_OK(pcmup_dataset_get_batch(ds, 1, 2, x, 4, labels));
    ck_assert_mem_eq(x, arr_x + 2, sizeof x);
    ck_assert_mem_eq(labels, arr_labels + 1, sizeof labels);

    /* Either output may be NULL. */
    memset(x, 0, sizeof x);
    TU_OK(pcmup_dataset_get_batch(ds, 2, 2, x, 4, NULL));
    ck_assert_mem_eq(x, arr_x + 4, sizeof x);
    TU_OK(pcmup_dataset_get_batch(ds, 2, 2, NULL, 0, labels));
    ck_assert_mem_eq(labels, arr_labels + 2, sizeof labels);
    TU_OK(pcmup_dataset_get_batch(ds, 0, 4, NULL, 0, NULL));
    TU_OK(pcmup_dataset_get_batch(ds, 4, 0, x, 0, labels)); /* empty, at the end */

    TU_FAILS(PCMUP_ERR_INVALID, pcmup_dataset_get_batch(ds, 3, 2, x, 4, labels));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_dataset_get_batch(ds, 5, 0, x, 0, labels));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_dataset_get_batch(ds, 1, SIZE_MAX, x, 4, labels));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_dataset_get_batch(ds, SIZE_MAX, 2, x, 4, labels));
    pcmup_dataset_free(ds);
}
END_TEST

START_TEST(one_hot_plain_and_centred)
{
    pcmup_dataset *ds = make_arrays(); /* labels 0 1 2 1, 3 classes */
    float y[4 * 3];
    TU_OK(pcmup_dataset_one_hot(ds, 0, 4, 0, y, 12));
    for (int b = 0; b < 4; b++)
        for (int k = 0; k < 3; k++)
            ck_assert(y[b * 3 + k] == (k == arr_labels[b] ? 1.0f : 0.0f));

    TU_OK(pcmup_dataset_one_hot(ds, 1, 3, 1, y, 9));
    for (int b = 0; b < 3; b++) {
        double row = 0;
        for (int k = 0; k < 3; k++) {
            float want = (float)(k == arr_labels[b + 1] ? 1.0 - 1.0 / 3 : -1.0 / 3);
            ck_assert_float_eq(y[b * 3 + k], want);
            row += y[b * 3 + k];
        }
        ck_assert_double_eq_tol(row, 0.0, 1e-6);
    }

    TU_FAILS(PCMUP_ERR_INVALID, pcmup_dataset_one_hot(ds, 3, 2, 0, y, 6));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_dataset_one_hot(ds, 2, SIZE_MAX, 1, y, 12));
    TU_FAILS(PCMUP_ERR_INVALID, pcmup_dataset_one_hot(ds, SIZE_MAX, 1, 1, y, 3));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_dataset_one_hot(ds, 0, 1, 0, NULL, 3));
    TU_OK(pcmup_dataset_one_hot(ds, 4, 0, 0, y, 0));
    pcmup_dataset_free(ds);
}
END_TEST

/* ---- NULL arguments ------------------------------------------------------ */

START_TEST(null_arguments)
{
    pcmup_dataset *ds = make_arrays();
    pcmup_dataset *out = SENTINEL;
    float f[8];
    int32_t l[4];
    size_t n;
    TU_FAILS(PCMUP_ERR_NULL, pcmup_dataset_load_idx(NULL, "a", "b", NULL));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_dataset_load_idx(&out, NULL, "b", NULL));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_dataset_load_idx(&out, "a", NULL, NULL));
    TU_FAILS(PCMUP_ERR_NULL,
             pcmup_dataset_load_fashion_mnist(NULL, tmpdir, PCMUP_SPLIT_TRAIN, NULL));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_dataset_from_arrays(NULL, 4, 2, 3, f, 8, l, NULL));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_dataset_from_arrays(&out, 4, 2, 3, NULL, 8, l, NULL));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_dataset_from_arrays(&out, 4, 2, 3, f, 8, NULL, NULL));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_dataset_info(NULL, &n, &n, &n));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_dataset_truncate(NULL, 1));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_dataset_standardize(NULL, ds));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_dataset_get_batch(NULL, 0, 1, f, 2, l));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_dataset_one_hot(NULL, 0, 1, 0, f, 3));
    TU_FAILS(PCMUP_ERR_NULL, pcmup_dataset_one_hot(ds, 0, 1, 0, NULL, 3));
    ck_assert_ptr_eq(out, SENTINEL);
    pcmup_dataset_free(NULL);

    /* Optional outputs really are optional. */
    TU_OK(pcmup_dataset_info(ds, NULL, NULL, NULL));
    TU_OK(pcmup_dataset_info(ds, &n, NULL, NULL));
    ck_assert_uint_eq(n, 4);
    pcmup_dataset_free(ds);
}
END_TEST

/* ---- allocators ----------------------------------------------------------- */

typedef pcmup_status (*make_fn)(pcmup_dataset **out, const pcmup_allocator *a);

static pcmup_status make_from_arrays(pcmup_dataset **out, const pcmup_allocator *a)
{
    return pcmup_dataset_from_arrays(out, 4, 2, 3, arr_x, 8, arr_labels, a);
}

static pcmup_status make_plain(pcmup_dataset **out, const pcmup_allocator *a)
{
    return pcmup_dataset_load_idx(out, tmp_path("mi"), tmp_path("ml"), a);
}

static pcmup_status make_gz(pcmup_dataset **out, const pcmup_allocator *a)
{
    return pcmup_dataset_load_idx(out, tmp_path("mi.gz"), tmp_path("ml.gz"), a);
}

static pcmup_status make_fashion(pcmup_dataset **out, const pcmup_allocator *a)
{
    return pcmup_dataset_load_fashion_mnist(out, tmpdir, PCMUP_SPLIT_TRAIN, a);
}

static pcmup_status make_head_gz(pcmup_dataset **out, const pcmup_allocator *a)
{
    return pcmup_dataset_load_idx_head(out, tmp_path("mi.gz"), tmp_path("ml.gz"), 90,
                                       SIZE_MAX, a);
}

static void write_all_inputs(void)
{
    write_medium("mi", "ml");
    write_medium("mi.gz", "ml.gz");
    write_medium("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte");
}

/* Every allocation goes through the allocator and is given back. */
static void check_counted(make_fn make)
{
    tu_counter c;
    pcmup_allocator a = tu_counting_allocator(&c);
    pcmup_dataset *ds = NULL;
    TU_OK(make(&ds, &a));
    ck_assert_uint_gt(c.n_malloc, 0);
    ck_assert_int_eq(c.live, 3); /* the handle, x and labels */
    TU_OK(pcmup_dataset_truncate(ds, 1)); /* shrinks through realloc_fn */
    ck_assert_uint_gt(c.n_realloc, 0);
    ck_assert_int_eq(c.live, 3);
    pcmup_dataset_free(ds);
    ck_assert_int_eq(c.live, 0);
    ck_assert_uint_eq(c.n_free, c.n_malloc);
}

START_TEST(counting_allocator_sees_everything)
{
    write_all_inputs();
    check_counted(make_from_arrays);
    check_counted(make_plain);
    check_counted(make_gz);
    check_counted(make_head_gz);
    check_counted(make_fashion);
}
END_TEST

/* Fails the 1st, 2nd, ... allocation in turn until the call needs no more:
 * each failure must give PCMUP_ERR_NOMEM, leave *out alone and leak
 * nothing. */
static void check_alloc_failures(make_fn make)
{
    size_t k;
    for (k = 1; k < 1000; k++) {
        tu_counter c;
        pcmup_allocator a = tu_counting_allocator(&c);
        c.fail_after = k;
        pcmup_dataset *ds = SENTINEL;
        pcmup_status s = make(&ds, &a);
        int injected = c.fail_after == 0;
        if (!injected) {
            ck_assert_msg(s == PCMUP_OK, "k = %zu: %s", k, pcmup_last_error());
            pcmup_dataset_free(ds);
            ck_assert_int_eq(c.live, 0);
            break;
        }
        ck_assert_msg(s == PCMUP_ERR_NOMEM, "failing allocation %zu gave %s (%s)", k,
                      pcmup_status_name(s), pcmup_last_error());
        ck_assert_msg(pcmup_last_error()[0] != '\0', "no message");
        ck_assert_ptr_eq(ds, SENTINEL);
        ck_assert_msg(c.live == 0, "failing allocation %zu leaked %ld blocks", k, c.live);
    }
    ck_assert_uint_gt(k, 3); /* at least the handle, x and labels were tried */
}

START_TEST(allocation_failures)
{
    write_all_inputs();
    check_alloc_failures(make_from_arrays);
    check_alloc_failures(make_plain);
    check_alloc_failures(make_gz);
    check_alloc_failures(make_head_gz);
    check_alloc_failures(make_fashion);
}
END_TEST

/* ---- suite ------------------------------------------------------------- */

static TCase *files_case(const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_add_checked_fixture(tc, make_tmpdir, remove_tmpdir);
    return tc;
}

static Suite *dataset_suite(void)
{
    Suite *s = suite_create("dataset");

    TCase *valid = files_case("idx_valid");
    tcase_add_test(valid, plain_round_trip);
    tcase_add_test(valid, gzip_round_trip);
    tcase_add_test(valid, gzip_data_without_gz_name);
    tcase_add_test(valid, medium_files_grow_the_buffer);
    tcase_add_test(valid, large_files_load_in_chunks);
    tcase_add_test(valid, one_dimensional_images);
    tcase_add_test(valid, four_dimensional_images_flatten);
    suite_add_tcase(s, valid);

    TCase *bad = files_case("idx_malformed");
    tcase_add_test(bad, bad_magic);
    tcase_add_test(bad, wrong_type_byte);
    tcase_add_test(bad, truncated_header);
    tcase_add_test(bad, truncated_data);
    tcase_add_test(bad, truncated_gzip_stream);
    tcase_add_test(bad, corrupt_gzip_data);
    tcase_add_test(bad, dimension_product_overflow);
    tcase_add_test(bad, total_size_overflow);
    tcase_add_test(bad, zero_dimensions);
    tcase_add_test(bad, huge_claimed_count);
    tcase_add_test(bad, label_count_mismatch);
    tcase_add_test(bad, label_file_ndims);
    tcase_add_test(bad, plain_data_named_gz);
    tcase_add_test(bad, trailing_data_rejected);
    tcase_add_test(bad, gzip_trailing_junk_rejected);
    tcase_add_test(bad, gzip_members_concatenate);
    tcase_add_test(bad, missing_files);
    suite_add_tcase(s, bad);

    TCase *limit = files_case("limit");
    tcase_add_test(limit, limit_refuses_declared_size);
    tcase_add_test(limit, limit_default_admits_fashion_mnist);
    tcase_add_test(limit, limit_just_under_and_over);
    tcase_add_test(limit, limit_stops_decompression);
    suite_add_tcase(s, limit);

    TCase *head = files_case("head");
    tcase_add_test(head, head_equals_truncated_load);
    tcase_add_test(head, head_does_not_read_the_rest);
    tcase_add_test(head, head_stops_decompressing);
    tcase_add_test(head, head_checks_headers_and_arguments);
    suite_add_tcase(s, head);

    TCase *fashion = files_case("fashion");
    tcase_add_test(fashion, fashion_layout);
    tcase_add_test(fashion, fashion_prefers_plain);
    tcase_add_test(fashion, fashion_rejects_label_10);
    tcase_add_test(fashion, fashion_bad_split);
    tcase_add_test(fashion, loaders_reject_broken_allocator);
    suite_add_tcase(s, fashion);

    TCase *arrays = files_case("arrays");
    tcase_add_test(arrays, from_arrays_copies);
    tcase_add_test(arrays, from_arrays_validates);
    tcase_add_test(arrays, truncate_keeps_first_rows);
    tcase_add_test(arrays, truncate_survives_failed_shrink);
    tcase_add_test(arrays, standardize_self);
    tcase_add_test(arrays, standardize_with_reference);
    tcase_add_test(arrays, standardize_rejects_zero_std);
    tcase_add_test(arrays, standardize_rejects_float_overflow);
    tcase_add_test(arrays, get_batch_ranges);
    tcase_add_test(arrays, one_hot_plain_and_centred);
    tcase_add_test(arrays, null_arguments);
    suite_add_tcase(s, arrays);

    TCase *memory = files_case("memory");
    tcase_set_timeout(memory, 120);
    tcase_add_test(memory, counting_allocator_sees_everything);
    tcase_add_test(memory, allocation_failures);
    suite_add_tcase(s, memory);

    return s;
}

int main(void)
{
    return tu_run_suite(dataset_suite());
}
