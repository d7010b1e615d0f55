/* SPDX-License-Identifier: MIT */
/*
 * test_safetensors.c -- the safetensors module (lib/checkpoint/safetensors.c):
 * files written and read back (ranks 0 to 4, a zero-sized tensor, metadata
 * with escapes and non-ASCII text), the writer's exact bytes against a
 * header written out by hand, files built here byte by byte (independent
 * of the writer) read as the format's description says, every kind of
 * corruption refused with PCMUP_ERR_FORMAT and a message naming it, the
 * writer's refusals, its atomic replacement of a file, and every
 * allocation failing in turn without a leak.
 *
 * An internal test: it links a static build of lib/ and includes its
 * headers (tests/CMakeLists.txt, PCMUP_INTERNAL_TESTS). The CRC-32 values
 * come from zlib, which the format names.
 */
#include "testutil.h"

#include "checkpoint/safetensors.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define FUNC "test_safetensors"

/* ---- helpers ------------------------------------------------------------------ */

/* A fresh directory (64 bytes) and the path (128) of `name` in it. */
static void make_dir(char *dir, char *path, const char *name)
{
    tu_make_tmpdir(dir, 64, "pcmup-st");
    snprintf(path, 128, "%s/%s", dir, name);
}

/* 8-byte length, header, data: a file built without the writer, in memory
 * from a's malloc (the parser takes it over and frees it through a). */
static unsigned char *build(const pcmup_allocator *a, const char *header, size_t header_len,
                            const void *data, size_t data_len, size_t *size)
{
    *size = 8 + header_len + data_len;
    unsigned char *b = a->malloc_fn(a->user, *size ? *size : 1);
    ck_assert_ptr_nonnull(b);
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)((uint64_t)header_len >> (8 * i));
    memcpy(b + 8, header, header_len);
    if (data_len)
        memcpy(b + 8 + header_len, data, data_len);
    return b;
}

static char *read_whole(const char *path, size_t *size)
{
    FILE *fp = fopen(path, "rb");
    ck_assert_msg(fp != NULL, "cannot open %s", path);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, fp), (size_t)n);
    b[n] = '\0';
    fclose(fp);
    *size = (size_t)n;
    return b;
}

static void write_whole(const char *path, const void *b, size_t n)
{
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(b, 1, n, fp), n);
    fclose(fp);
}

static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static uint32_t crc(const void *p, size_t n)
{
    return (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)n);
}

/* The last error is "test_safetensors: <...want...>". */
static void check_message(const char *want)
{
    const char *msg = pcmup_last_error();
    ck_assert_msg(strncmp(msg, FUNC ": ", strlen(FUNC) + 2) == 0, "message \"%s\"", msg);
    ck_assert_msg(strstr(msg, want) != NULL, "message \"%s\" lacks \"%s\"", msg, want);
}

static void check_empty(const pcmup__st_file *f)
{
    pcmup__st_file zero;
    memset(&zero, 0, sizeof zero);
    ck_assert_msg(memcmp(f, &zero, sizeof zero) == 0, "*f not empty after a failure");
}

/* The bytes must be refused with PCMUP_ERR_FORMAT naming `want`, without
 * a leak (the parser frees them). */
static void refuse_bytes(const char *header, size_t header_len, const void *data,
                         size_t data_len, const char *want)
{
    tu_counter c;
    pcmup_allocator a = tu_counting_allocator(&c);
    size_t size;
    unsigned char *b = build(&a, header, header_len, data, data_len, &size);
    pcmup__st_file f;
    pcmup_status s = pcmup__st_parse(&f, b, size, &a, FUNC);
    ck_assert_msg(s == PCMUP_ERR_FORMAT, "header %.*s: %s (%s)", (int)header_len, header,
                  pcmup_status_name(s), pcmup_last_error());
    check_message(want);
    check_empty(&f);
    ck_assert_int_eq(c.live, 0);
    pcmup__st_free(&f);
}

static void refuse(const char *header, const void *data, size_t data_len, const char *want)
{
    refuse_bytes(header, strlen(header), data, data_len, want);
}

static void parse_ok(pcmup__st_file *f, const char *header, const void *data, size_t data_len,
                     const pcmup_allocator *a)
{
    size_t size;
    unsigned char *b = build(a, header, strlen(header), data, data_len, &size);
    TU_OK(pcmup__st_parse(f, b, size, a, FUNC));
}

static void check_tensor(const pcmup__st_tensor *t, const char *name, size_t rank,
                         const size_t *shape, const float *data)
{
    ck_assert_str_eq(t->name, name);
    ck_assert_uint_eq(t->rank, rank);
    for (size_t i = 0; i < rank; i++)
        ck_assert_uint_eq(t->shape[i], shape[i]);
    size_t n = pcmup__st_floats(t);
    ck_assert_uint_eq((uintptr_t)t->data % _Alignof(float), 0);
    if (n)
        ck_assert_mem_eq(t->data, data, n * sizeof(float));
}

/* ---- the writer and the reader together ---------------------------------------- */

static const char *const META_VALUE = "quote\" backslash\\ newline\n tab\t bell\x07 "
                                      "\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 /";

START_TEST(round_trip)
{
    char dir[64], path[128];
    make_dir(dir, path, "model.safetensors");
    float scalar = -2.5f, vec[3] = {1, -0.0f, 3e-38f}, mat[6], t3[24], t4[2 * 3 * 1 * 2];
    for (size_t i = 0; i < 6; i++)
        mat[i] = (float)i * 0.125f - 0.3f;
    for (size_t i = 0; i < 24; i++)
        t3[i] = (float)(i * i) / 7.0f;
    for (size_t i = 0; i < 12; i++)
        t4[i] = i % 2 ? 1e30f : -1e-30f;
    pcmup__st_tensor in[] = {
        {"scalar", 0, {0}, &scalar},
        {"layer1.weight", 2, {2, 3}, mat},
        {"empty", 3, {3, 0, 2}, NULL},
        {"\xce\xb8 \"x\"\\", 1, {3}, vec},
        {"conv", 4, {2, 3, 1, 2}, t4},
        {"t3", 3, {2, 3, 4}, t3},
    };
    pcmup__st_meta meta[] = {{"format", "pt"}, {"\xc3\xa9\n\"k\"", META_VALUE}, {"z", ""}};
    TU_OK(pcmup__st_write(path, in, TU_COUNT(in), meta, TU_COUNT(meta), NULL, FUNC));
    ck_assert_uint_eq(count_entries(dir), 1); /* no temporary left */

    /* The file's layout, from its bytes. */
    size_t size;
    unsigned char *raw = (unsigned char *)read_whole(path, &size);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | raw[i];
    ck_assert_uint_eq((8 + n) % 8, 0);
    size_t data_size = (1 + 6 + 0 + 3 + 12 + 24) * 4;
    ck_assert_uint_eq(size, 8 + n + data_size);
    ck_assert_int_eq(raw[8], '{');
    ck_assert(memcmp(raw + 8, "{\"__metadata__\":{\"format\":\"pt\"", 30) == 0);
    unsigned char *data = raw + 8 + n;
    ck_assert_mem_eq(data, &scalar, 4);
    ck_assert_mem_eq(data + 4, mat, 24);
    ck_assert_mem_eq(data + 28, vec, 12);

    tu_counter c;
    pcmup_allocator a = tu_counting_allocator(&c);
    pcmup__st_file f;
    TU_OK(pcmup__st_read(&f, path, &a, FUNC));
    ck_assert_uint_eq(f.size, size);
    ck_assert_ptr_null(f.aligned);
    ck_assert_uint_eq(f.n_tensors, TU_COUNT(in));
    /* Written in the order given, read in the order of the offsets. */
    for (size_t i = 0; i < TU_COUNT(in); i++) {
        const float *expect = in[i].data;
        check_tensor(&f.tensors[i], in[i].name, in[i].rank, in[i].shape, expect);
        ck_assert_ptr_eq(pcmup__st_tensor_find(&f, in[i].name), &f.tensors[i]);
    }
    ck_assert_uint_eq(f.n_meta, 4);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_str_eq(f.meta[i].key, meta[i].key);
        ck_assert_str_eq(f.meta[i].value, meta[i].value);
    }
    ck_assert_str_eq(pcmup__st_meta_find(&f, "\xc3\xa9\n\"k\""), META_VALUE);
    ck_assert_str_eq(f.meta[3].key, "crc32");
    char want[9];
    snprintf(want, sizeof want, "%08lx", (unsigned long)crc(data, data_size));
    ck_assert_str_eq(f.meta[3].value, want);
    ck_assert_ptr_null(pcmup__st_tensor_find(&f, "missing"));
    ck_assert_ptr_null(pcmup__st_meta_find(&f, "missing"));
    pcmup__st_free(&f);
    check_empty(&f);
    pcmup__st_free(&f); /* twice: a no-op */
    pcmup__st_free(NULL);
    ck_assert_int_eq(c.live, 0);
    free(raw);
    tu_remove_tmpdir(dir);
}
END_TEST

/* The writer's bytes, against a header written out here. */
START_TEST(writer_exact_bytes)
{
    char dir[64], path[128];
    make_dir(dir, path, "w.safetensors");
    float w[2] = {1.0f, -2.0f}, b = 0.5f;
    pcmup__st_tensor t[] = {{"w", 1, {2}, w}, {"b\x01", 0, {0}, &b}};
    pcmup__st_meta m[] = {{"k", "v"}};
    TU_OK(pcmup__st_write(path, t, 2, m, 1, NULL, FUNC));
    unsigned char data[12];
    memcpy(data, w, 8);
    memcpy(data + 8, &b, 4);
    char header[256];
    int len = snprintf(header, sizeof header,
                       "{\"__metadata__\":{\"k\":\"v\",\"crc32\":\"%08lx\"},"
                       "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                       "\"b\\u0001\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[8,12]}}",
                       (unsigned long)crc(data, 12));
    while ((8 + len) % 8)
        header[len++] = ' ';
    size_t size;
    char *got = read_whole(path, &size);
    ck_assert_uint_eq(size, 8 + (size_t)len + 12);
    ck_assert_uint_eq((unsigned char)got[0], (unsigned)len);
    ck_assert_mem_eq(got + 1, "\0\0\0\0\0\0\0", 7);
    ck_assert_mem_eq(got + 8, header, (size_t)len);
    ck_assert_mem_eq(got + 8 + len, data, 12);
    free(got);

    /* No tensors, no metadata: only the CRC of nothing. */
    TU_OK(pcmup__st_write(path, NULL, 0, NULL, 0, NULL, FUNC));
    got = read_whole(path, &size);
    const char *empty = "{\"__metadata__\":{\"crc32\":\"00000000\"}}";
    ck_assert_uint_eq(size, 8 + 40);
    ck_assert_mem_eq(got + 8, empty, strlen(empty));
    for (size_t i = strlen(empty); i < 40; i++)
        ck_assert_int_eq(got[8 + i], ' ');
    free(got);
    tu_remove_tmpdir(dir);
}
END_TEST

/* ---- files built here ------------------------------------------------------------ */

/* Keys in any order, blanks, escapes, a zero-sized tensor sharing an
 * offset, metadata between tensors; the tensors come out by offset. */
START_TEST(hand_written_file)
{
    const float d[5] = {1.5f, -2.0f, 3.25f, 4.0f, 1e-3f};
    /* "\u00e9\ud83d\ude00" is U+00E9 U+1F600. */
    const char *header =
        "{\"b\" :\t{\"shape\": [1, 1], \"dtype\": \"F32\", \"data_offsets\": [16, 20]},\n"
        " \"__metadata__\" : {\"format\": \"pt\", \"note\": \"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"},\r\n"
        " \"a\\u00e9\\ud83d\\ude00\":{\"data_offsets\":[0,16],\"dtype\":\"F32\",\"shape\":[2,2]},"
        " \"z\": {\"dtype\": \"F32\", \"shape\": [0, 7], \"data_offsets\": [0, 0]},"
        " \"zz\": {\"dtype\": \"F32\", \"shape\": [5, 0], \"data_offsets\": [20, 20]}}   ";
    ck_assert_uint_ne((8 + strlen(header)) % 4, 0); /* unaligned: copied */
    tu_counter c;
    pcmup_allocator a = tu_counting_allocator(&c);
    pcmup__st_file f;
    parse_ok(&f, header, d, sizeof d, &a);
    ck_assert_ptr_nonnull(f.aligned);
    ck_assert_uint_eq(f.n_tensors, 4);
    check_tensor(&f.tensors[0], "z", 2, (size_t[]){0, 7}, NULL);
    check_tensor(&f.tensors[1], "a\xc3\xa9\xf0\x9f\x98\x80", 2, (size_t[]){2, 2}, d);
    check_tensor(&f.tensors[2], "b", 2, (size_t[]){1, 1}, d + 4);
    check_tensor(&f.tensors[3], "zz", 2, (size_t[]){5, 0}, NULL);
    ck_assert_uint_eq(f.n_meta, 2);
    ck_assert_str_eq(f.meta[0].key, "format");
    ck_assert_str_eq(f.meta[1].value, "a\"b\\c/d\b\f\n\r\t");
    pcmup__st_free(&f);

    /* Aligned (8 + N a multiple of 4): the data stay in the file's bytes. */
    char header2[128];
    snprintf(header2, sizeof header2,
             "{\"x\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}");
    while ((8 + strlen(header2)) % 8)
        strcat(header2, " ");
    parse_ok(&f, header2, d + 2, 4, &a);
    ck_assert_ptr_null(f.aligned);
    ck_assert_ptr_eq(f.tensors[0].data, (const void *)(f.bytes + 8 + strlen(header2)));
    ck_assert_float_eq(f.tensors[0].data[0], 3.25f);
    ck_assert_uint_eq(pcmup__st_floats(&f.tensors[0]), 1);
    pcmup__st_free(&f);

    /* Nothing at all, and an empty metadata object. */
    parse_ok(&f, "{}", NULL, 0, &a);
    ck_assert_uint_eq(f.n_tensors + f.n_meta, 0);
    pcmup__st_free(&f);
    parse_ok(&f, "{\"__metadata__\":{}}", NULL, 0, &a);
    ck_assert_uint_eq(f.n_tensors + f.n_meta, 0);
    pcmup__st_free(&f);

    /* A correct crc32 is accepted. */
    char header3[160];
    snprintf(header3, sizeof header3,
             "{\"__metadata__\":{\"crc32\":\"%08lx\"},"
             "\"v\":{\"dtype\":\"F32\",\"shape\":[5],\"data_offsets\":[0,20]}}",
             (unsigned long)crc(d, sizeof d));
    parse_ok(&f, header3, d, sizeof d, &a);
    check_tensor(&f.tensors[0], "v", 1, (size_t[]){5}, d);
    pcmup__st_free(&f);
    ck_assert_int_eq(c.live, 0);
}
END_TEST

/* ---- corruptions ------------------------------------------------------------------ */

#define T(name, shape, b, e)                                                   \
    "\"" name "\":{\"dtype\":\"F32\",\"shape\":" shape ",\"data_offsets\":[" #b "," #e "]}"

START_TEST(truncated_at_every_length)
{
    const float d[3] = {1, 2, 3};
    const char *header = "{\"__metadata__\":{\"k\":\"v\"}," T("a", "[2]", 0, 8) ","
                         T("b", "[]", 8, 12) "}  ";
    size_t size;
    pcmup_allocator def;
    pcmup__allocator_init(&def, NULL);
    unsigned char *whole = build(&def, header, strlen(header), d, sizeof d, &size);
    for (size_t len = 0; len < size; len++) {
        tu_counter c;
        pcmup_allocator a = tu_counting_allocator(&c);
        unsigned char *b = a.malloc_fn(a.user, len ? len : 1);
        memcpy(b, whole, len);
        pcmup__st_file f;
        pcmup_status s = pcmup__st_parse(&f, b, len, &a, FUNC);
        ck_assert_msg(s == PCMUP_ERR_FORMAT, "%zu of %zu bytes: %s", len, size,
                      pcmup_status_name(s));
        check_message("");
        check_empty(&f);
        ck_assert_int_eq(c.live, 0);
    }
    pcmup__st_file f;
    TU_OK(pcmup__st_parse(&f, whole, size, NULL, FUNC));
    pcmup__st_free(&f);
}
END_TEST

START_TEST(length_field_refused)
{
    tu_counter c;
    pcmup_allocator a = tu_counting_allocator(&c);
    pcmup__st_file f;
    unsigned char *b = a.malloc_fn(a.user, 7);
    memset(b, 0, 7);
    TU_FAILS(PCMUP_ERR_FORMAT, pcmup__st_parse(&f, b, 7, &a, FUNC));
    check_message("7 bytes: shorter than the 8-byte header length");
    /* The length says more than the file holds. */
    size_t size;
    b = build(&a, "{}", 2, NULL, 0, &size);
    b[0] = 3;
    TU_FAILS(PCMUP_ERR_FORMAT, pcmup__st_parse(&f, b, size, &a, FUNC));
    check_message("header length 3, but only 2 bytes follow the length");
    b = build(&a, "{}", 2, NULL, 0, &size);
    memset(b, 0xff, 8);
    TU_FAILS(PCMUP_ERR_FORMAT, pcmup__st_parse(&f, b, size, &a, FUNC));
    check_message("header length 18446744073709551615 exceeds the limit of 100000000");
    b = build(&a, "{}", 2, NULL, 0, &size);
    uint64_t over = PCMUP__ST_MAX_HEADER + 1;
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(over >> (8 * i));
    TU_FAILS(PCMUP_ERR_FORMAT, pcmup__st_parse(&f, b, size, &a, FUNC));
    check_message("exceeds the limit");
    ck_assert_int_eq(c.live, 0);
    refuse(" {}", NULL, 0, "does not start with '{'");
    refuse("[]", NULL, 0, "does not start with '{'");
    refuse("", NULL, 0, "does not start with '{'");
}
END_TEST

START_TEST(bad_json_refused)
{
    const float d[1] = {1};
    const struct {
        const char *header, *want;
    } cases[] = {
        {"{", "header ends at byte 1, expected a tensor name"},
        {"{}x", "header byte 2: 'x', expected nothing but spaces"},
        {"{}\n", "header byte 2: 0x0a, expected nothing but spaces"},
        {"{}\0 ", "header byte 2: 0x00"},
        {"{" T("a", "[1]", 0, 4) ",}", "header byte 54: '}', expected a tensor name"},
        {"{\"a\" {}}", "expected ':' after a tensor name"},
        {"{'a':{}}", "header byte 1: ''', expected a tensor name"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1,],\"data_offsets\":[0,4]}}",
         "expected a dimension"},
        {"{\"a\":{\"dtype\":\"F32\" \"shape\":[1],\"data_offsets\":[0,4]}}",
         "expected ',' or '}' in a tensor"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[01],\"data_offsets\":[0,4]}}", "leading zero"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}",
         "'-', expected a dimension"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}}",
         "a dimension must be an integer"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4e0]}}",
         "an offset must be an integer"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,18446744073709551616]}}",
         "an offset exceeds 18446744073709551615"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}",
         "expected ']' after the two data_offsets"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":1,\"data_offsets\":[0,4]}}",
         "expected '[' opening a shape"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":null}}",
         "expected '[' opening data_offsets"},
        {"{\"a\":true}", "expected '{' opening a tensor"},
        {"{\"a\":{\"dtype\":F32,\"shape\":[1],\"data_offsets\":[0,4]}}",
         "expected a string (the dtype)"},
        {"{\"a\\x\":{}}", "header byte 4: 'x', expected an escape"},
        {"{\"a\\u12\":{}}", "\\u needs four hex digits"},
        {"{\"a\\ud800\":{}}", "\\uD800 is a high surrogate without a low one"},
        {"{\"a\\ud800\\u0041\":{}}", "high surrogate without a low one"},
        {"{\"a\\udc00\":{}}", "\\uDC00 is a low surrogate without a high one"},
        {"{\"a\tb\":{}}", "control character 0x09 in a string"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}", "header ends"},
        {"{\"a", "expected '\"' closing the string"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}{}",
         "nothing but spaces"},
    };
    for (size_t i = 0; i < TU_COUNT(cases); i++) {
        size_t len = strlen(cases[i].header);
        if (i == 3)
            len = 4; /* the NUL is part of the header */
        refuse_bytes(cases[i].header, len, d, sizeof d, cases[i].want);
    }
}
END_TEST

START_TEST(schema_refused)
{
    const float d[4] = {1, 2, 3, 4};
    refuse("{" T("a", "[1]", 0, 4) "," T("a", "[3]", 4, 16) "}", d, 16, "tensor \"a\" twice");
    refuse("{\"__metadata__\":{\"k\":\"1\",\"j\":\"\",\"k\":\"2\"}," T("a", "[4]", 0, 16) "}",
           d, 16, "metadata key \"k\" twice");
    refuse("{\"__metadata__\":{},\"__metadata__\":{}," T("a", "[4]", 0, 16) "}", d, 16,
           "\"__metadata__\" twice");
    refuse("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}",
           d, 16, "tensor \"a\": field \"dtype\" twice");
    refuse("{\"a\":{\"dtype\":\"F16\",\"shape\":[8],\"data_offsets\":[0,16]}}", d, 16,
           "tensor \"a\": dtype \"F16\": only F32 is supported");
    refuse("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16],\"x\":1}}", d, 16,
           "tensor \"a\": unknown field \"x\"");
    refuse("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,16]}}", d, 16,
           "tensor \"a\": no \"shape\"");
    refuse("{\"a\":{}}", d, 16, "tensor \"a\": no \"dtype\"");
    refuse("{\"\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", d, 16,
           "a tensor has an empty name");
    refuse("{\"__metadata__\":{\"k\":1}}", NULL, 0,
           "metadata \"k\": header byte 21: the value is not a string");
    refuse("{\"__metadata__\":{\"k\":{\"a\":\"b\"}}}", NULL, 0, "the value is not a string");
    refuse("{\"__metadata__\":[]}", NULL, 0, "expected '{' opening __metadata__");
    refuse("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}",
           d, 4, "tensor \"a\": shape has more than 8 dimensions");
    refuse("{\"a\\u0000b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", d, 16,
           "header byte 3: \\u0000 (NUL) in a string");
    refuse("{\"__metadata__\":{\"k\":\"a\\u0000\"}}", NULL, 0, "\\u0000 (NUL)");
}
END_TEST

START_TEST(ranges_refused)
{
    const float d[4] = {1, 2, 3, 4};
    refuse("{" T("a", "[2]", 0, 8) "," T("b", "[4]", 8, 24) "}", d, 16,
           "tensor \"b\": data_offsets [8, 24] pass the end of the 16 data bytes");
    refuse("{" T("a", "[2]", 8, 0) "}", d, 8,
           "tensor \"a\": data_offsets [8, 0] end before they begin");
    refuse("{" T("a", "[2]", 0, 8) "," T("b", "[2]", 4, 12) "}", d, 12,
           "tensor \"b\": data_offsets [4, 12] overlap tensor \"a\" (which ends at 8)");
    refuse("{" T("a", "[2]", 0, 8) "," T("b", "[1]", 12, 16) "}", d, 16,
           "no tensor holds data bytes [8, 12) (tensor \"b\" begins at 12)");
    refuse("{" T("a", "[2]", 4, 12) "}", d, 12, "no tensor holds data bytes [0, 4)");
    refuse("{" T("a", "[2]", 0, 8) "}", d, 12,
           "no tensor holds data bytes [8, 12): the tensors end at 8");
    refuse("{}", d, 4, "no tensor holds data bytes [0, 4)");
    refuse("{" T("a", "[2, 2]", 0, 12) "}", d, 12,
           "tensor \"a\": data_offsets [0, 12] hold 12 bytes, its shape [2, 2] needs 16");
    refuse("{" T("a", "[]", 0, 0) "}", NULL, 0,
           "data_offsets [0, 0] hold 0 bytes, its shape [] needs 4");
    refuse("{" T("a", "[4294967296, 4294967296, 0]", 0, 0) "}", NULL, 0,
           "tensor \"a\": its shape [4294967296, 4294967296, 0] needs more than "
           "18446744073709551615 bytes");
    refuse("{" T("a", "[4611686018427387904]", 0, 0) "}", NULL, 0, "needs more than");
    /* A zero-sized tensor inside another one's range. */
    refuse("{" T("a", "[2]", 0, 8) "," T("z", "[0]", 4, 4) "}", d, 8,
           "tensor \"z\": data_offsets [4, 4] overlap tensor \"a\"");
}
END_TEST

START_TEST(crc_refused)
{
    float d[4] = {1, 2, 3, 4};
    char header[200];
    snprintf(header, sizeof header,
             "{\"__metadata__\":{\"crc32\":\"%08lx\"}," T("a", "[4]", 0, 16) "}",
             (unsigned long)crc(d, sizeof d));
    unsigned char flipped[16];
    memcpy(flipped, d, 16);
    flipped[9] ^= 0x10;
    char want[80];
    snprintf(want, sizeof want, "the 16 data bytes' CRC-32 is %08lx",
             (unsigned long)crc(flipped, 16));
    refuse(header, flipped, 16, want);
    refuse("{\"__metadata__\":{\"crc32\":\"ABCDEF01\"}}", NULL, 0,
           "metadata crc32 \"ABCDEF01\" is not 8 lower-case hex digits");
    refuse("{\"__metadata__\":{\"crc32\":\"0000000\"}}", NULL, 0, "not 8 lower-case hex");
    refuse("{\"__metadata__\":{\"crc32\":\"000000000\"}}", NULL, 0, "not 8 lower-case hex");
    refuse("{\"__metadata__\":{\"crc32\":\"0000000g\"}}", NULL, 0, "not 8 lower-case hex");
    refuse("{\"__metadata__\":{\"crc32\":\"-0000000\"}}", NULL, 0, "not 8 lower-case hex");
    refuse("{\"__metadata__\":{\"crc32\":\"00000001\"}}", NULL, 0,
           "metadata crc32 is 00000001, the 0 data bytes' CRC-32 is 00000000");
}
END_TEST

START_TEST(invalid_utf8_refused)
{
    const char *bad[] = {
        "\x80",             /* a lone continuation byte */
        "\xc0\x80",         /* overlong NUL */
        "\xc1\xbf",         /* overlong */
        "\xe0\x9f\xbf",     /* overlong below U+0800 */
        "\xed\xa0\x80",     /* U+D800, a surrogate */
        "\xed\xbf\xbf",     /* U+DFFF */
        "\xf0\x8f\xbf\xbf", /* overlong below U+10000 */
        "\xf4\x90\x80\x80", /* U+110000 */
        "\xf5\x80\x80\x80",
        "\xff",
        "\xe2\x82",         /* cut short */
        "\xe2\x28\xa1",     /* bad continuation */
    };
    for (size_t i = 0; i < TU_COUNT(bad); i++) {
        char header[64];
        snprintf(header, sizeof header, "{\"__metadata__\":{\"k\":\"a%sb\"}}", bad[i]);
        refuse(header, NULL, 0, "header byte 23: invalid UTF-8");
    }
    /* The largest code points of each length are fine. */
    tu_counter c;
    pcmup_allocator a = tu_counting_allocator(&c);
    pcmup__st_file f;
    parse_ok(&f, "{\"__metadata__\":{\"k\":\"\x7f\xdf\xbf\xef\xbf\xbf\xf4\x8f\xbf\xbf"
                 "\\uffff\\udbff\\udfff\"}}", NULL, 0, &a);
    ck_assert_str_eq(f.meta[0].value, "\x7f\xdf\xbf\xef\xbf\xbf\xf4\x8f\xbf\xbf"
                                      "\xef\xbf\xbf\xf4\x8f\xbf\xbf");
    pcmup__st_free(&f);
    ck_assert_int_eq(c.live, 0);
}
END_TEST

/* ---- the writer's refusals, files ------------------------------------------------- */

START_TEST(writer_refusals)
{
    char dir[64], path[128];
    make_dir(dir, path, "x.safetensors");
    float v[2] = {1, 2};
    const struct {
        pcmup__st_tensor t[2];
        size_t n;
        pcmup__st_meta m[2];
        size_t n_meta;
        pcmup_status want;
        const char *msg;
    } cases[] = {
        {{{"a", 1, {2}, v}, {"a", 0, {0}, v}}, 2, {{0}}, 0, PCMUP_ERR_INVALID,
         "tensor name \"a\" is given twice"},
        {{{"__metadata__", 1, {2}, v}}, 1, {{0}}, 0, PCMUP_ERR_INVALID,
         "tensor name 0 is \"__metadata__\", which is reserved"},
        {{{"", 1, {2}, v}}, 1, {{0}}, 0, PCMUP_ERR_INVALID, "tensor name 0 is empty"},
        {{{"a", 1, {2}, v}, {"\xc0\x80", 1, {2}, v}}, 2, {{0}}, 0, PCMUP_ERR_INVALID,
         "tensor name 1 is not UTF-8"},
        {{{NULL, 1, {2}, v}}, 1, {{0}}, 0, PCMUP_ERR_NULL, "tensor name 0 is NULL"},
        {{{"a", 9, {1}, v}}, 1, {{0}}, 0, PCMUP_ERR_INVALID, "tensor \"a\": rank 9 exceeds 8"},
        {{{"a", 1, {2}, NULL}}, 1, {{0}}, 0, PCMUP_ERR_NULL, "tensor \"a\": data is NULL"},
        {{{"a", 2, {SIZE_MAX / 2, 2}, v}}, 1, {{0}}, 0, PCMUP_ERR_INVALID,
         "tensor \"a\": the data exceeds SIZE_MAX bytes"},
        {{{"a", 1, {2}, v}}, 1, {{"crc32", "0"}}, 1, PCMUP_ERR_INVALID,
         "metadata key 0 is \"crc32\", which is reserved"},
        {{{"a", 1, {2}, v}}, 1, {{"k", "1"}, {"k", "2"}}, 2, PCMUP_ERR_INVALID,
         "metadata key \"k\" is given twice"},
        {{{"a", 1, {2}, v}}, 1, {{"k", "1"}, {"", "2"}}, 2, PCMUP_ERR_INVALID,
         "metadata key 1 is empty"},
        {{{"a", 1, {2}, v}}, 1, {{"k", "\xed\xa0\x80"}}, 1, PCMUP_ERR_INVALID,
         "metadata \"k\": value is not UTF-8"},
        {{{"a", 1, {2}, v}}, 1, {{"k", NULL}}, 1, PCMUP_ERR_NULL,
         "metadata \"k\": value is NULL"},
    };
    for (size_t i = 0; i < TU_COUNT(cases); i++) {
        tu_counter c;
        pcmup_allocator a = tu_counting_allocator(&c);
        pcmup_status s = pcmup__st_write(path, cases[i].t, cases[i].n, cases[i].m,
                                         cases[i].n_meta, &a, FUNC);
        ck_assert_msg(s == cases[i].want, "case %zu: %s (%s)", i, pcmup_status_name(s),
                      pcmup_last_error());
        check_message(cases[i].msg);
        ck_assert_int_eq(c.live, 0);
        ck_assert_uint_eq(count_entries(dir), 0);
    }
    TU_FAILS(PCMUP_ERR_NULL, pcmup__st_write(NULL, NULL, 0, NULL, 0, NULL, FUNC));
    TU_FAILS(PCMUP_ERR_NULL, pcmup__st_write(path, NULL, 1, NULL, 0, NULL, FUNC));
    TU_FAILS(PCMUP_ERR_NULL, pcmup__st_write(path, NULL, 0, NULL, 1, NULL, FUNC));
    /* A metadata key may equal a tensor name, and "__metadata__" is only
     * reserved for tensors. */
    pcmup__st_tensor t[] = {{"a", 1, {2}, v}};
    pcmup__st_meta m[] = {{"a", "x"}, {"__metadata__", "y"}};
    TU_OK(pcmup__st_write(path, t, 1, m, 2, NULL, FUNC));
    tu_remove_tmpdir(dir);
}
END_TEST

START_TEST(read_errors)
{
    char dir[64], path[128];
    tu_make_tmpdir(dir, sizeof dir, "pcmup-st");
    pcmup__st_file f;
    snprintf(path, sizeof path, "%s/missing", dir);
    TU_FAILS(PCMUP_ERR_IO, pcmup__st_read(&f, path, NULL, FUNC));
    char want[200];
    snprintf(want, sizeof want, "cannot open %s: No such file or directory", path);
    check_message(want);
    check_empty(&f);
    TU_FAILS(PCMUP_ERR_IO, pcmup__st_read(&f, dir, NULL, FUNC));
    snprintf(want, sizeof want, "cannot read %s: not a regular file", dir);
    check_message(want);
    check_empty(&f);
    /* A file that is not safetensors: FORMAT, through the same parser. */
    snprintf(path, sizeof path, "%s/junk", dir);
    write_whole(path, "hello, world", 12);
    TU_FAILS(PCMUP_ERR_FORMAT, pcmup__st_read(&f, path, NULL, FUNC));
    check_message("header length");
    check_empty(&f);
    tu_remove_tmpdir(dir);
}
END_TEST

START_TEST(atomic_write)
{
    char dir[64], path[128], sub[128];
    tu_make_tmpdir(dir, sizeof dir, "pcmup-st");
    float v[64];
    for (size_t i = 0; i < 64; i++)
        v[i] = (float)i;
    pcmup__st_tensor small[] = {{"a", 1, {2}, v}};
    pcmup__st_tensor big[] = {{"a", 1, {64}, v}};

    /* No such directory. */
    snprintf(path, sizeof path, "%s/none/x.safetensors", dir);
    TU_FAILS(PCMUP_ERR_IO, pcmup__st_write(path, small, 1, NULL, 0, NULL, FUNC));
    char want[200];
    snprintf(want, sizeof want, "cannot write %s: No such file or directory", path);
    check_message(want);

    /* The old file, then a write that fails half-way (a file size limit
     * makes write() fail with EFBIG, as root too): the old bytes remain,
     * and no temporary is left. */
    snprintf(path, sizeof path, "%s/x.safetensors", dir);
    TU_OK(pcmup__st_write(path, small, 1, NULL, 0, NULL, FUNC));
    size_t old_size, size;
    char *old = read_whole(path, &old_size);
    struct rlimit saved, lim;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &saved), 0);
    lim = saved;
    lim.rlim_cur = 150;
    signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    TU_FAILS(PCMUP_ERR_IO, pcmup__st_write(path, big, 1, NULL, 0, NULL, FUNC));
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &saved), 0);
    snprintf(want, sizeof want, "cannot write %s: File too large", path);
    check_message(want);
    char *now = read_whole(path, &size);
    ck_assert_uint_eq(size, old_size);
    ck_assert_mem_eq(now, old, size);
    free(now);
    ck_assert_uint_eq(count_entries(dir), 1);

    /* A directory in the way: the rename fails, the temporary goes. */
    snprintf(sub, sizeof sub, "%s/d", dir);
    ck_assert_int_eq(mkdir(sub, 0777), 0);
    TU_FAILS(PCMUP_ERR_IO, pcmup__st_write(sub, small, 1, NULL, 0, NULL, FUNC));
    ck_assert_uint_eq(count_entries(dir), 2);
    ck_assert_uint_eq(count_entries(sub), 0);

    /* A directory we may not write to (not for root, who may). */
    if (geteuid() != 0) {
        char ro[160];
        snprintf(ro, sizeof ro, "%s/x.safetensors", sub);
        write_whole(ro, old, old_size);
        ck_assert_int_eq(chmod(sub, 0555), 0);
        TU_FAILS(PCMUP_ERR_IO, pcmup__st_write(ro, big, 1, NULL, 0, NULL, FUNC));
        check_message("Permission denied");
        ck_assert_int_eq(chmod(sub, 0777), 0);
        now = read_whole(ro, &size);
        ck_assert_uint_eq(size, old_size);
        ck_assert_mem_eq(now, old, size);
        free(now);
        ck_assert_uint_eq(count_entries(sub), 1);
    }

    /* A successful write replaces the file whole. */
    TU_OK(pcmup__st_write(path, big, 1, NULL, 0, NULL, FUNC));
    pcmup__st_file f;
    TU_OK(pcmup__st_read(&f, path, NULL, FUNC));
    check_tensor(&f.tensors[0], "a", 1, (size_t[]){64}, v);
    pcmup__st_free(&f);
    ck_assert_uint_eq(count_entries(dir), 2);
    /* A relative path (the directory sync then opens "."). */
    char cwd[256];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    ck_assert_int_eq(chdir(dir), 0);
    TU_OK(pcmup__st_write("rel.safetensors", small, 1, NULL, 0, NULL, FUNC));
    TU_OK(pcmup__st_read(&f, "rel.safetensors", NULL, FUNC));
    pcmup__st_free(&f);
    ck_assert_int_eq(chdir(cwd), 0);
    ck_assert_uint_eq(count_entries(dir), 3);
    free(old);
    tu_remove_tmpdir(sub);
    tu_remove_tmpdir(dir);
}
END_TEST

/* ---- allocation failures ----------------------------------------------------------- */

START_TEST(allocation_failures)
{
    char dir[64], path[128];
    make_dir(dir, path, "m.safetensors");
    float v[7] = {1, 2, 3, 4, 5, 6, 7};
    pcmup__st_tensor t[] = {{"a", 1, {3}, v}, {"b", 2, {2, 2}, v + 3}, {"c", 0, {0}, v}};
    pcmup__st_meta m[] = {{"k", "v"}, {"j", "w"}};
    size_t nomem[3] = {0, 0, 0};
    for (int what = 0; what < 3; what++) {
        for (size_t k = 1;; k++) {
            tu_counter c;
            pcmup_allocator a = tu_counting_allocator(&c);
            pcmup__st_file f;
            pcmup_status s;
            if (what == 0) {
                c.fail_after = k;
                s = pcmup__st_write(path, t, 3, m, 2, &a, FUNC);
            } else if (what == 1) {
                c.fail_after = k;
                s = pcmup__st_read(&f, path, &a, FUNC);
            } else {
                size_t size;
                char *bytes = read_whole(path, &size);
                /* The same bytes from memory: all but the read's buffer. */
                unsigned char *b = a.malloc_fn(a.user, size);
                memcpy(b, bytes, size);
                free(bytes);
                c.fail_after = k;
                s = pcmup__st_parse(&f, b, size, &a, FUNC);
            }
            if (s == PCMUP_OK) {
                if (what > 0) {
                    ck_assert_uint_eq(f.n_tensors, 3);
                    pcmup__st_free(&f);
                }
                ck_assert_int_eq(c.live, 0);
                break;
            }
            ck_assert_msg(s == PCMUP_ERR_NOMEM, "what %d, allocation %zu: %s (%s)", what, k,
                          pcmup_status_name(s), pcmup_last_error());
            check_message("cannot allocate");
            ck_assert_int_eq(c.live, 0);
            if (what > 0)
                check_empty(&f);
            nomem[what]++;
        }
    }
    /* The writer: the names' and keys' checks, the header, the temporary's
     * name; the reader: the bytes, strings, metadata, tensors, entries and
     * the metadata keys' check. */
    ck_assert_uint_eq(nomem[0], 4);
    ck_assert_uint_eq(nomem[1], 6);
    ck_assert_uint_eq(nomem[2], 5);

    /* An unaligned file: the aligned copy is one more allocation. */
    const char *header = "{" T("a", "[2]", 0, 8) "}";
    ck_assert_uint_ne((8 + strlen(header)) % 4, 0);
    size_t fails = 0;
    for (size_t k = 1;; k++) {
        tu_counter c;
        pcmup_allocator a = tu_counting_allocator(&c);
        size_t size;
        unsigned char *b = build(&a, header, strlen(header), v, 8, &size);
        c.fail_after = k;
        pcmup__st_file f;
        pcmup_status s = pcmup__st_parse(&f, b, size, &a, FUNC);
        if (s == PCMUP_OK) {
            ck_assert_ptr_nonnull(f.aligned);
            pcmup__st_free(&f);
            ck_assert_int_eq(c.live, 0);
            break;
        }
        ck_assert_int_eq(s, PCMUP_ERR_NOMEM);
        ck_assert_int_eq(c.live, 0);
        fails++;
    }
    ck_assert_uint_eq(fails, 4); /* strings, tensors, entries, aligned */
    tu_remove_tmpdir(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("safetensors");
    TCase *rw = tcase_create("round_trip");
    tcase_add_test(rw, round_trip);
    tcase_add_test(rw, writer_exact_bytes);
    tcase_add_test(rw, hand_written_file);
    suite_add_tcase(s, rw);
    TCase *bad = tcase_create("refused");
    tcase_add_test(bad, truncated_at_every_length);
    tcase_add_test(bad, length_field_refused);
    tcase_add_test(bad, bad_json_refused);
    tcase_add_test(bad, schema_refused);
    tcase_add_test(bad, ranges_refused);
    tcase_add_test(bad, crc_refused);
    tcase_add_test(bad, invalid_utf8_refused);
    suite_add_tcase(s, bad);
    TCase *files = tcase_create("files");
    tcase_add_test(files, writer_refusals);
    tcase_add_test(files, read_errors);
    tcase_add_test(files, atomic_write);
    tcase_add_test(files, allocation_failures);
    suite_add_tcase(s, files);
    return tu_run_suite(s);
}
