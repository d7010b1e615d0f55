/* SPDX-License-Identifier: MIT */
/*
 * cifar.c -- the CIFAR-10 binary format: pcmup_dataset_load_cifar10.
 *
 * A batch file is a sequence of 3073-byte records: one label byte (0..9),
 * then a 3 x 32 x 32 image, channel-major (the 1024 red bytes, then green,
 * then blue, each plane row-major). That is the library's NCHW flatten
 * order, so a record's image bytes become a dataset row as they are. The
 * training split is data_batch_1.bin .. data_batch_5.bin in that order,
 * the test split test_batch.bin.
 *
 * The format has no header, so a file's size is all there is to judge it
 * by: it must be a positive whole number of records, which also catches a
 * truncated download. Every file of the split is opened and sized before
 * the dataset is allocated, so a missing file, a wrong size or a split
 * over the byte limit costs no more than the paths; records are then parsed in chunks from
 * the file, or straight from a caller's buffer (the fuzz target's way in,
 * pcmup__dataset_load_cifar10_mem): both go through parse_records.
 * A head (pcmup_dataset_load_cifar10_head) reads records up to its last
 * sample and stops: the files after it are opened and sized, not read.
 */
#include "data/dataset.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define CIFAR_DIM 3072 /* 3 x 32 x 32 */
#define CIFAR_RECORD (1 + CIFAR_DIM)
#define CIFAR_CLASSES 10
#define CIFAR_TRAIN_FILES 5
#define CIFAR_MAX_SOURCES 6
/* Records read from a file at a time (393 KB): the file's bytes are never
 * held whole next to the dataset's floats. */
#define CHUNK_RECORDS 128

/* One batch: a file being read, or a caller's bytes. */
typedef struct {
    const char *name;           /* the path, or "batch N", for messages */
    char *path;                 /* a file's path, owned                 */
    FILE *file;                 /* NULL for bytes                       */
    const unsigned char *bytes; /* the whole batch when file is NULL    */
    size_t records;
} batch;

/* ---- sizes --------------------------------------------------------------- */

/* A batch of len bytes holds a positive whole number of records. */
static pcmup_status count_records(batch *b, size_t len, const char *caller)
{
    if (len == 0)
        return pcmup__fail(PCMUP_ERR_FORMAT, caller,
                           "%s: empty: a CIFAR-10 batch holds records of %d bytes (a label "
                           "byte and a 3 x 32 x 32 image)",
                           b->name, CIFAR_RECORD);
    if (len % CIFAR_RECORD != 0)
        return pcmup__fail(PCMUP_ERR_FORMAT, caller,
                           "%s: %zu bytes is not a whole number of %d-byte records (%zu "
                           "records and %zu bytes): truncated, or not a CIFAR-10 batch",
                           b->name, len, CIFAR_RECORD, len / CIFAR_RECORD,
                           len % CIFAR_RECORD);
    b->records = len / CIFAR_RECORD;
    return PCMUP_OK;
}

/* The samples to load: the batches' records in all, or the first
 * max_samples of them, within the byte limit. A sum too large for a
 * dataset's size in bytes to be computed is too large to hold at all,
 * which only a 32-bit machine can meet. */
static pcmup_status total_records(const batch *b, size_t n_batches, const char *name,
                                  const char *source, size_t max_samples, size_t max_bytes,
                                  const char *caller, size_t *n)
{
    const size_t per_sample = CIFAR_DIM * sizeof(float) + sizeof(int32_t);
    *n = 0;
    for (size_t i = 0; i < n_batches; i++) {
        if (b[i].records > SIZE_MAX / per_sample - *n)
            return pcmup__fail(PCMUP_ERR_FORMAT, caller,
                               "%s: more records than this machine can hold", name);
        *n += b[i].records;
    }
    if (*n > max_samples) {
        *n = max_samples;
        source = "loading the first";
    }
    return pcmup__dataset_check_limit(name, source, *n, CIFAR_DIM, max_bytes, caller);
}

/* ---- records ------------------------------------------------------------- */

/* count records from `bytes` into rows row.. of ds; `first` is the index
 * of bytes' first record in its batch, for messages. */
static pcmup_status parse_records(pcmup_dataset *ds, size_t row, const unsigned char *bytes,
                                  size_t count, size_t first, const char *name,
                                  const char *caller)
{
    for (size_t i = 0; i < count; i++) {
        const unsigned char *rec = bytes + i * CIFAR_RECORD;
        if (rec[0] >= CIFAR_CLASSES)
            return pcmup__fail(PCMUP_ERR_FORMAT, caller,
                               "%s: record %zu (at byte %zu) has label %u, expected 0..9",
                               name, first + i, (first + i) * CIFAR_RECORD, rec[0]);
        pcmup__dataset_set_bytes(ds, row + i, rec + 1, rec[0]);
    }
    return PCMUP_OK;
}

/* A file ending before the size it had when it was opened, or going on
 * past it, changed while being read: the records cannot be trusted. */
static pcmup_status read_failed(const batch *b, size_t got, size_t want,
                                const char *caller)
{
    if (ferror(b->file))
        return pcmup__fail(PCMUP_ERR_IO, caller, "%s: %s", b->name,
                           pcmup__errno_text(errno));
    return pcmup__fail(PCMUP_ERR_FORMAT, caller,
                       "%s: truncated while being read: %zu of %zu bytes (the file changed)",
                       b->name, got, want);
}

/* The file's first `records` records into rows row.. of ds, CHUNK_RECORDS
 * at a time through buf. Only a file read to its end is checked for
 * having grown. */
static pcmup_status read_file(const batch *b, size_t records, pcmup_dataset *ds, size_t row,
                              unsigned char *buf, const char *caller)
{
    const size_t want = b->records * CIFAR_RECORD;
    for (size_t done = 0; done < records;) {
        size_t n = records - done < CHUNK_RECORDS ? records - done : CHUNK_RECORDS;
        errno = 0;
        size_t got = fread(buf, 1, n * CIFAR_RECORD, b->file);
        if (got < n * CIFAR_RECORD)
            return read_failed(b, done * CIFAR_RECORD + got, want, caller);
        PCMUP_TRY(parse_records(ds, row + done, buf, n, done, b->name, caller));
        done += n;
    }
    if (records == b->records && getc(b->file) != EOF)
        return pcmup__fail(PCMUP_ERR_FORMAT, caller,
                           "%s: longer than the %zu bytes it had when opened (the file "
                           "changed)",
                           b->name, want);
    return PCMUP_OK;
}

/* ---- loading ------------------------------------------------------------- */

/* The chunk buffer the files are read through: as large as the largest
 * file needs, at most CHUNK_RECORDS records; none for bytes. */
static pcmup_status chunk_buffer(const pcmup_allocator *a, const batch *b, size_t n_batches,
                                 const char *caller, unsigned char **buf)
{
    size_t records = 0;
    for (size_t i = 0; i < n_batches; i++)
        if (b[i].file && b[i].records > records)
            records = b[i].records;
    *buf = NULL;
    if (records == 0)
        return PCMUP_OK;
    if (records > CHUNK_RECORDS)
        records = CHUNK_RECORDS;
    *buf = pcmup__alloc(a, records, CIFAR_RECORD);
    if (!*buf)
        return pcmup__fail(PCMUP_ERR_NOMEM, caller, "a read buffer of %zu bytes",
                           records * CIFAR_RECORD);
    return PCMUP_OK;
}

/* The batches' records, in order, into ds, up to its n samples. */
static pcmup_status fill(pcmup_dataset *ds, size_t n, const batch *b, size_t n_batches,
                         unsigned char *buf, const char *caller)
{
    size_t row = 0;
    for (size_t i = 0; i < n_batches && row < n; i++) {
        size_t records = n - row < b[i].records ? n - row : b[i].records;
        if (b[i].file)
            PCMUP_TRY(read_file(&b[i], records, ds, row, buf, caller));
        else
            PCMUP_TRY(parse_records(ds, row, b[i].bytes, records, 0, b[i].name, caller));
        row += records;
    }
    return PCMUP_OK;
}

/* The batches, sized, as one dataset of (at most) their first max_samples
 * records; `name` and `source` describe them in a refusal by the limit.
 * *out is written only on success. */
static pcmup_status load_batches(pcmup_dataset **out, const batch *b, size_t n_batches,
                                 const char *name, const char *source, size_t max_samples,
                                 size_t max_bytes, const pcmup_allocator *a,
                                 const char *caller)
{
    size_t n;
    PCMUP_TRY(total_records(b, n_batches, name, source, max_samples, max_bytes, caller, &n));
    pcmup_dataset *ds = pcmup__dataset_new(a, n, CIFAR_DIM, CIFAR_CLASSES);
    if (!ds)
        return pcmup__fail(PCMUP_ERR_NOMEM, caller, "%zu samples of dimension %d", n,
                           CIFAR_DIM);
    unsigned char *buf;
    pcmup_status s = chunk_buffer(a, b, n_batches, caller, &buf);
    if (s == PCMUP_OK)
        s = fill(ds, n, b, n_batches, buf, caller);
    pcmup__free(a, buf);
    if (s != PCMUP_OK) {
        pcmup_dataset_free(ds);
        return s;
    }
    *out = ds;
    return PCMUP_OK;
}

/* ---- files --------------------------------------------------------------- */

/* The file's size by seeking to its end. Reading one byte first makes a
 * directory (which fopen opens on Linux) fail as unreadable rather than
 * report a nonsense size. */
static pcmup_status file_size(const batch *b, const char *caller, size_t *len)
{
    errno = 0;
    if (getc(b->file) == EOF && ferror(b->file))
        return pcmup__fail(PCMUP_ERR_IO, caller, "%s: %s", b->name,
                           pcmup__errno_text(errno));
    long end = -1;
    if (fseek(b->file, 0, SEEK_END) == 0)
        end = ftell(b->file);
    if (end < 0 || fseek(b->file, 0, SEEK_SET) != 0)
        return pcmup__fail(PCMUP_ERR_IO, caller, "%s: cannot find its size", b->name);
    *len = (size_t)end;
    return PCMUP_OK;
}

static pcmup_status open_batch(batch *b, char *path, const char *caller)
{
    b->name = b->path = path;
    errno = 0;
    b->file = fopen(path, "rb");
    if (!b->file)
        return pcmup__fail(PCMUP_ERR_IO, caller, "%s: %s", path, pcmup__errno_text(errno));
    size_t len = 0;
    PCMUP_TRY(file_size(b, caller, &len));
    return count_records(b, len, caller);
}

static void close_batches(const pcmup_allocator *a, batch *b, size_t n_batches)
{
    for (size_t i = 0; i < n_batches; i++) {
        if (b[i].file)
            fclose(b[i].file);
        pcmup__free(a, b[i].path);
    }
}

/* The split's file names, in the order their records are concatenated. */
static size_t split_files(pcmup_split split, const char *names[CIFAR_MAX_SOURCES])
{
    static const char *const train[CIFAR_TRAIN_FILES] = {
        "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
        "data_batch_5.bin"};
    if (split == PCMUP_SPLIT_TEST) {
        names[0] = "test_batch.bin";
        return 1;
    }
    memcpy(names, train, sizeof train);
    return CIFAR_TRAIN_FILES;
}

/* Opens and sizes every file of the split (the first problem stops it),
 * then loads them. */
static pcmup_status load_dir(pcmup_dataset **out, const char *dir, pcmup_split split,
                             size_t max_samples, size_t max_bytes, const pcmup_allocator *a,
                             const char *caller)
{
    const char *names[CIFAR_MAX_SOURCES];
    size_t n_files = split_files(split, names);
    batch b[CIFAR_MAX_SOURCES];
    memset(b, 0, sizeof b);
    pcmup_status s = PCMUP_OK;
    for (size_t i = 0; i < n_files && s == PCMUP_OK; i++) {
        char *path;
        s = pcmup__dataset_path(a, dir, names[i], 0, caller, &path);
        if (s == PCMUP_OK)
            s = open_batch(&b[i], path, caller);
    }
    if (s == PCMUP_OK)
        s = load_batches(out, b, n_files, dir,
                         split == PCMUP_SPLIT_TEST ? "test_batch.bin holds"
                                                   : "data_batch_1..5.bin hold",
                         max_samples, max_bytes, a, caller);
    close_batches(a, b, n_files);
    return s;
}

/* What pcmup_dataset_load_cifar10 and its _limited and _head twins share
 * after their NULL checks. */
static pcmup_status load_cifar10(pcmup_dataset **out, const char *dir, pcmup_split split,
                                 size_t max_samples, size_t max_bytes,
                                 const pcmup_allocator *allocator, const char *caller)
{
    pcmup_allocator a;
    PCMUP_TRY(pcmup__dataset_loader_start(split, max_samples, max_bytes, allocator, &a,
                                          caller));
    return load_dir(out, dir, split, max_samples, max_bytes, &a, caller);
}

pcmup_status pcmup_dataset_load_cifar10_head(pcmup_dataset **out, const char *dir,
                                             pcmup_split split, size_t max_samples,
                                             size_t max_bytes,
                                             const pcmup_allocator *allocator)
{
    PCMUP_CHECK_NULL(out);
    PCMUP_CHECK_NULL(dir);
    return load_cifar10(out, dir, split, max_samples, max_bytes, allocator, __func__);
}

pcmup_status pcmup_dataset_load_cifar10_limited(pcmup_dataset **out, const char *dir,
                                                pcmup_split split, size_t max_bytes,
                                                const pcmup_allocator *allocator)
{
    PCMUP_CHECK_NULL(out);
    PCMUP_CHECK_NULL(dir);
    return load_cifar10(out, dir, split, SIZE_MAX, max_bytes, allocator, __func__);
}

pcmup_status pcmup_dataset_load_cifar10(pcmup_dataset **out, const char *dir,
                                        pcmup_split split, const pcmup_allocator *allocator)
{
    PCMUP_CHECK_NULL(out);
    PCMUP_CHECK_NULL(dir);
    return load_cifar10(out, dir, split, SIZE_MAX, PCMUP_DATASET_MAX_BYTES_DEFAULT,
                        allocator, __func__);
}

/* ---- memory (internal.h) ------------------------------------------------- */

pcmup_status pcmup__dataset_load_cifar10_mem(pcmup_dataset **out,
                                             const unsigned char *const *batches,
                                             const size_t *lens, size_t n_batches,
                                             size_t max_bytes,
                                             const pcmup_allocator *allocator)
{
    PCMUP_CHECK_NULL(out);
    PCMUP_CHECK_NULL(batches);
    PCMUP_CHECK_NULL(lens);
    if (n_batches == 0 || n_batches > CIFAR_MAX_SOURCES)
        return pcmup__fail(PCMUP_ERR_INVALID, __func__, "n_batches = %zu: must be in [1, %d]",
                           n_batches, CIFAR_MAX_SOURCES);
    PCMUP_TRY(pcmup__dataset_check_max_bytes(max_bytes, __func__));
    PCMUP_TRY(pcmup__allocator_check(allocator, __func__));
    pcmup_allocator a;
    pcmup__allocator_init(&a, allocator);
    static const char *const names[CIFAR_MAX_SOURCES] = {"batch 1", "batch 2", "batch 3",
                                                         "batch 4", "batch 5", "batch 6"};
    batch b[CIFAR_MAX_SOURCES];
    memset(b, 0, sizeof b);
    for (size_t i = 0; i < n_batches; i++) {
        PCMUP_CHECK_NULL(batches[i]);
        b[i].name = names[i];
        b[i].bytes = batches[i];
        PCMUP_TRY(count_records(&b[i], lens[i], __func__));
    }
    return load_batches(out, b, n_batches, "memory", "the batches hold", SIZE_MAX, max_bytes,
                        &a, __func__);
}
