/* SPDX-License-Identifier: MIT */
/*
 * dataset.c -- the pcmup_dataset handle: n samples of dimension dim as
 * floats, row-major, and n int32 labels in [0, n_classes).
 *
 * Invariants, once a dataset exists: n, dim, n_classes >= 1; dim and
 * n_classes <= PCMUP_MAX_DIM; n * dim * sizeof(float) fits in size_t; every
 * value of x is finite; every label is in [0, n_classes).
 */
#include "data/dataset.h"
#include "data/idx.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

struct pcmup_dataset {
    pcmup_allocator alloc;
    size_t n, dim, n_classes;
    float *x;        /* n * dim, row-major; may have room for more rows */
    int32_t *labels; /* n */
    /* b / 255 for every byte b: the loaders scale bytes by looking them
     * up, which gives the division's floats without a division each. */
    float byte_scale[256];
};

/* ---- creation and destruction -------------------------------------------- */

/* A dataset of n samples whose x has room for `rows` of them and which has
 * no labels yet (a loader adds them); NULL when an allocation fails. */
static pcmup_dataset *dataset_start(const pcmup_allocator *a, size_t n, size_t dim,
                                    size_t rows)
{
    pcmup_dataset *ds = pcmup__alloc(a, 1, sizeof *ds);
    if (!ds)
        return NULL;
    ds->alloc = *a;
    ds->n = n;
    ds->dim = dim;
    ds->n_classes = 0;
    ds->labels = NULL;
    for (unsigned b = 0; b < 256; b++)
        ds->byte_scale[b] = (float)b / 255.0f;
    ds->x = pcmup__alloc(a, rows * dim, sizeof *ds->x);
    if (!ds->x) {
        pcmup__free(a, ds);
        return NULL;
    }
    return ds;
}

/* An empty dataset with room for n samples; sizes were checked by the
 * caller (dataset.h). */
pcmup_dataset *pcmup__dataset_new(const pcmup_allocator *a, size_t n, size_t dim,
                                  size_t n_classes)
{
    pcmup_dataset *ds = dataset_start(a, n, dim, n);
    if (!ds)
        return NULL;
    ds->n_classes = n_classes;
    ds->labels = pcmup__alloc(a, n, sizeof *ds->labels);
    if (!ds->labels) {
        pcmup_dataset_free(ds);
        return NULL;
    }
    return ds;
}

/* count values of x from bytes, scaled to [0, 1]. */
static void scale_bytes(const pcmup_dataset *ds, float *x, const unsigned char *bytes,
                        size_t count)
{
    for (size_t j = 0; j < count; j++)
        x[j] = ds->byte_scale[bytes[j]];
}

void pcmup__dataset_set_bytes(pcmup_dataset *ds, size_t i, const unsigned char *bytes,
                              int32_t label)
{
    assert(i < ds->n && label >= 0 && (size_t)label < ds->n_classes);
    scale_bytes(ds, ds->x + i * ds->dim, bytes, ds->dim);
    ds->labels[i] = label;
}

void pcmup_dataset_free(pcmup_dataset *dataset)
{
    if (!dataset)
        return;
    pcmup_allocator a = dataset->alloc;
    pcmup__free(&a, dataset->x);
    pcmup__free(&a, dataset->labels);
    pcmup__free(&a, dataset);
}

/* n, dim, n_classes within the invariants above. */
static pcmup_status check_sizes(size_t n, size_t dim, size_t n_classes, const char *func)
{
    if (n == 0 || dim == 0 || n_classes == 0)
        return pcmup__fail(PCMUP_ERR_INVALID, func,
                           "n = %zu, dim = %zu, n_classes = %zu: each must be >= 1", n, dim,
                           n_classes);
    if (dim > PCMUP_MAX_DIM || n_classes > PCMUP_MAX_DIM)
        return pcmup__fail(PCMUP_ERR_INVALID, func,
                           "dim = %zu, n_classes = %zu: each must be <= %zu", dim, n_classes,
                           PCMUP_MAX_DIM);
    int overflow = 0;
    pcmup__mul(pcmup__mul(n, dim, &overflow), sizeof(float), &overflow);
    if (overflow)
        return pcmup__fail(PCMUP_ERR_INVALID, func,
                           "n * dim = %zu * %zu floats does not fit in memory", n, dim);
    return PCMUP_OK;
}

static pcmup_status check_values(const float *x, size_t count, size_t dim, const char *func)
{
    for (size_t i = 0; i < count; i++)
        if (!isfinite(x[i]))
            return pcmup__fail(PCMUP_ERR_INVALID, func,
                               "x[%zu] (sample %zu, coordinate %zu) is not finite", i,
                               i / dim, i % dim);
    return PCMUP_OK;
}

pcmup_status pcmup_dataset_from_arrays(pcmup_dataset **out, size_t n, size_t dim,
                                       size_t n_classes, const float *x, size_t x_count,
                                       const int32_t *labels,
                                       const pcmup_allocator *allocator)
{
    PCMUP_CHECK_NULL(out);
    PCMUP_CHECK_NULL(x);
    PCMUP_CHECK_NULL(labels);
    PCMUP_TRY(pcmup__allocator_check(allocator, __func__));
    PCMUP_TRY(check_sizes(n, dim, n_classes, __func__));
    PCMUP_TRY(pcmup__check_count(x_count, n, dim, "x_count", __func__));
    PCMUP_TRY(check_values(x, n * dim, dim, __func__));
    PCMUP_TRY(pcmup__check_labels(labels, n, n_classes, __func__));

    pcmup_allocator a;
    pcmup__allocator_init(&a, allocator);
    pcmup_dataset *ds = pcmup__dataset_new(&a, n, dim, n_classes);
    if (!ds)
        return pcmup__fail(PCMUP_ERR_NOMEM, __func__, "%zu samples of dimension %zu", n, dim);
    memcpy(ds->x, x, n * dim * sizeof *x);
    memcpy(ds->labels, labels, n * sizeof *labels);
    *out = ds;
    return PCMUP_OK;
}

/* ---- loading IDX files --------------------------------------------------- */

/* n_classes for a label file: the largest label + 1, or `fixed` (when
 * non-zero), in which case every label must be below it. */
static pcmup_status label_classes(const pcmup__idx *lab, size_t fixed, const char *path,
                                  const char *caller, size_t *n_classes)
{
    unsigned max = 0;
    for (size_t i = 0; i < lab->count; i++) {
        if (fixed && lab->data[i] >= fixed)
            return pcmup__fail(PCMUP_ERR_FORMAT, caller,
                               "%s: label %zu is %u, expected < %zu", path, i, lab->data[i],
                               fixed);
        if (lab->data[i] > max)
            max = lab->data[i];
    }
    *n_classes = fixed ? fixed : (size_t)max + 1;
    return PCMUP_OK;
}

/* Gives the dataset its labels from a label file's bytes: they fit
 * n_classes (`fixed`, or max + 1 when 0). */
static pcmup_status add_labels(pcmup_dataset *ds, const pcmup__idx *lab,
                               const char *labels_name, size_t fixed, const char *caller)
{
    size_t n_classes = 0;
    PCMUP_TRY(label_classes(lab, fixed, labels_name, caller, &n_classes));
    ds->labels = pcmup__alloc(&ds->alloc, ds->n, sizeof *ds->labels);
    if (!ds->labels)
        return pcmup__fail(PCMUP_ERR_NOMEM, caller, "%zu labels", ds->n);
    for (size_t i = 0; i < ds->n; i++)
        ds->labels[i] = lab->data[i];
    ds->n_classes = n_classes;
    return PCMUP_OK;
}

/* Image bytes decompressed per pass of the conversion: they are still in
 * the cache when it reads them, and one pass's floats (4 times as many
 * bytes) are the first allocation for x. */
#define IMAGE_CHUNK ((size_t)1 << 16)

/* Room in ds->x for `need` rows (of at most ds->n): the capacity *cap
 * doubles, so x grows with the data that arrives rather than with what the
 * header claims, and growing costs about one copy of x in all. A new
 * block and a copy rather than realloc: realloc moves a large block's
 * pages (mremap), and on some virtual machines moved pages are slow to
 * read the first time, which made a short run's first epoch slow. */
static pcmup_status reserve_rows(pcmup_dataset *ds, size_t need, size_t *cap,
                                 const char *name, const char *caller)
{
    if (need <= *cap)
        return PCMUP_OK;
    size_t rows = *cap <= ds->n / 2 ? *cap * 2 : ds->n;
    if (rows < need)
        rows = need;
    size_t bytes = rows * ds->dim * sizeof *ds->x; /* <= n * dim floats: fits */
    float *x = pcmup__alloc(&ds->alloc, rows * ds->dim, sizeof *ds->x);
    if (!x)
        return pcmup__fail(PCMUP_ERR_NOMEM, caller, "%s: cannot allocate %zu bytes", name,
                           bytes);
    memcpy(x, ds->x, *cap * ds->dim * sizeof *x);
    pcmup__free(&ds->alloc, ds->x);
    ds->x = x;
    *cap = rows;
    return PCMUP_OK;
}

/* The image file's first ds->n samples into ds->x, a chunk at a time:
 * decompressed into a small buffer and converted from there, with no copy
 * of the whole file's bytes. What follows them is checked only when they
 * are the whole file: a head stops decompressing at its last sample. */
static pcmup_status read_images(pcmup__idx_reader *r, pcmup_dataset *ds, size_t chunk_rows,
                                size_t cap, unsigned char *chunk, const char *caller)
{
    const size_t dim = ds->dim;
    for (size_t row = 0, rows; row < ds->n; row += rows) {
        rows = ds->n - row < chunk_rows ? ds->n - row : chunk_rows;
        PCMUP_TRY(pcmup__idx_read_exact(r, chunk, rows * dim, row * dim));
        PCMUP_TRY(reserve_rows(ds, row + rows, &cap, r->name, caller));
        scale_bytes(ds, ds->x + row * dim, chunk, rows * dim);
    }
    return ds->n == r->count ? pcmup__idx_check_end(r) : PCMUP_OK;
}

/* A dataset of the image file's first n samples, without labels yet. x
 * starts with room for `rows` of them (at least one chunk's). */
static pcmup_status images_dataset(pcmup__idx_reader *r, size_t n, size_t rows,
                                   const pcmup_allocator *a, const char *caller,
                                   pcmup_dataset **out)
{
    const size_t dim = r->item_size;
    size_t chunk_rows = dim < IMAGE_CHUNK ? IMAGE_CHUNK / dim : 1;
    if (chunk_rows > n)
        chunk_rows = n;
    if (rows < chunk_rows)
        rows = chunk_rows;
    unsigned char *chunk = pcmup__alloc(a, chunk_rows, dim);
    pcmup_dataset *ds = chunk ? dataset_start(a, n, dim, rows) : NULL;
    if (!ds) {
        pcmup__free(a, chunk);
        return pcmup__fail(PCMUP_ERR_NOMEM, caller, "%s: cannot allocate %zu samples",
                           r->name, rows);
    }
    pcmup_status s = read_images(r, ds, chunk_rows, rows, chunk, caller);
    pcmup__free(a, chunk);
    if (s != PCMUP_OK) {
        pcmup_dataset_free(ds);
        return s;
    }
    *out = ds;
    return PCMUP_OK;
}

/* The bytes a dataset of n samples of dimension dim holds (its x and its
 * labels), or SIZE_MAX when that does not fit in size_t. */
static size_t dataset_bytes(size_t n, size_t dim)
{
    int overflow = 0;
    size_t x = pcmup__mul(pcmup__mul(n, dim, &overflow), sizeof(float), &overflow);
    size_t labels = pcmup__mul(n, sizeof(int32_t), &overflow);
    return overflow || x > SIZE_MAX - labels ? SIZE_MAX : x + labels;
}

/* The caller's limit, judged on sizes known before any data is read or
 * decompressed (dataset.h). A refusal is PCMUP_ERR_FORMAT, the status of a
 * file too large to hold at all (check_total in idx.c): the file is
 * refused as input, and PCMUP_ERR_NOMEM keeps meaning that an allocator
 * said no. */
pcmup_status pcmup__dataset_check_limit(const char *name, const char *source, size_t n,
                                        size_t dim, size_t max_bytes, const char *caller)
{
    size_t bytes = dataset_bytes(n, dim);
    if (bytes > max_bytes)
        return pcmup__fail(PCMUP_ERR_FORMAT, caller,
                           "%s: %s %zu samples of dimension %zu, a dataset of %zu bytes, "
                           "over the limit of %zu bytes%s",
                           name, source, n, dim, bytes, max_bytes,
                           max_bytes == PCMUP_DATASET_MAX_BYTES_DEFAULT
                               ? " (the default, PCMUP_DATASET_MAX_BYTES_DEFAULT)"
                               : "");
    return PCMUP_OK;
}

/* What the two headers declare: the counts must agree and the n samples
 * to be loaded (all of them, or the first max_samples) fit the caller's
 * limit. */
static pcmup_status check_headers(const pcmup__idx_reader *img,
                                  const pcmup__idx_reader *lab, size_t n, size_t max_bytes,
                                  const char *caller)
{
    if (img->count != lab->count)
        return pcmup__fail(PCMUP_ERR_FORMAT, caller, "%s has %zu samples but %s has %zu labels",
                           img->name, img->count, lab->name, lab->count);
    return pcmup__dataset_check_limit(img->name,
                                      n == img->count ? "the header declares"
                                                      : "loading the first",
                                      n, img->item_size, max_bytes, caller);
}

/* Both files open: the data of their first max_samples samples (of all,
 * when they hold no more), then the dataset. */
static pcmup_status load_opened(pcmup__idx_reader *img_r, pcmup__idx_reader *lab_r,
                                size_t max_samples, size_t fixed_classes, size_t max_bytes,
                                const pcmup_allocator *a, const char *caller,
                                pcmup_dataset **out)
{
    size_t n = img_r->count < max_samples ? img_r->count : max_samples;
    PCMUP_TRY(check_headers(img_r, lab_r, n, max_bytes, caller));
    pcmup_dataset *ds = NULL;
    /* A head's size is the caller's own number, not the header's: x is
     * allocated for it at once, and written once, in order, without the
     * copies of growing (so the rows are the last memory written when the
     * first epoch reads them). The header's count is still not trusted. */
    PCMUP_TRY(images_dataset(img_r, n, n < img_r->count ? n : 0, a, caller, &ds));
    pcmup__idx lab;
    pcmup_status s = pcmup__idx_read_head(lab_r, n, &lab);
    if (s == PCMUP_OK) {
        s = add_labels(ds, &lab, lab_r->name, fixed_classes, caller);
        pcmup__free(a, lab.data);
    }
    if (s != PCMUP_OK) {
        pcmup_dataset_free(ds);
        return s;
    }
    *out = ds;
    return PCMUP_OK;
}

/* Shared by every loader: both headers are read before either file's data,
 * so a count mismatch or a size over the limit costs no decompression.
 * max_samples is SIZE_MAX for a whole file. */
static pcmup_status load_pair(pcmup_dataset **out, const pcmup__idx_input *images,
                              const pcmup__idx_input *labels, size_t max_samples,
                              size_t fixed_classes, size_t max_bytes,
                              const pcmup_allocator *a, const char *caller)
{
    pcmup__idx_reader img, lab;
    PCMUP_TRY(pcmup__idx_open(&img, a, images, PCMUP__IDX_IMAGES, caller));
    pcmup_status s = pcmup__idx_open(&lab, a, labels, PCMUP__IDX_LABELS, caller);
    if (s == PCMUP_OK) {
        s = load_opened(&img, &lab, max_samples, fixed_classes, max_bytes, a, caller, out);
        pcmup__idx_close(&lab);
    }
    pcmup__idx_close(&img);
    return s;
}

pcmup_status pcmup__dataset_check_max_bytes(size_t max_bytes, const char *caller)
{
    if (max_bytes == 0)
        return pcmup__fail(PCMUP_ERR_INVALID, caller,
                           "max_bytes is 0 (PCMUP_DATASET_MAX_BYTES_DEFAULT is the default, "
                           "SIZE_MAX no limit)");
    return PCMUP_OK;
}

pcmup_status pcmup__dataset_check_max_samples(size_t max_samples, const char *caller)
{
    if (max_samples == 0)
        return pcmup__fail(PCMUP_ERR_INVALID, caller,
                           "max_samples is 0: a dataset holds at least 1 sample (SIZE_MAX "
                           "loads them all)");
    return PCMUP_OK;
}

/* What pcmup_dataset_load_idx and its _limited and _head twins share after
 * their NULL checks. */
static pcmup_status load_idx(pcmup_dataset **out, const char *images_path,
                             const char *labels_path, size_t max_samples, size_t max_bytes,
                             const pcmup_allocator *allocator, const char *caller)
{
    PCMUP_TRY(pcmup__dataset_check_max_samples(max_samples, caller));
    PCMUP_TRY(pcmup__dataset_check_max_bytes(max_bytes, caller));
    PCMUP_TRY(pcmup__allocator_check(allocator, caller));
    pcmup_allocator a;
    pcmup__allocator_init(&a, allocator);
    const pcmup__idx_input images = {images_path, NULL, 0, images_path};
    const pcmup__idx_input labels = {labels_path, NULL, 0, labels_path};
    return load_pair(out, &images, &labels, max_samples, 0, max_bytes, &a, caller);
}

pcmup_status pcmup_dataset_load_idx_head(pcmup_dataset **out, const char *images_path,
                                         const char *labels_path, size_t max_samples,
                                         size_t max_bytes, const pcmup_allocator *allocator)
{
    PCMUP_CHECK_NULL(out);
    PCMUP_CHECK_NULL(images_path);
    PCMUP_CHECK_NULL(labels_path);
    return load_idx(out, images_path, labels_path, max_samples, max_bytes, allocator,
                    __func__);
}

pcmup_status pcmup_dataset_load_idx_limited(pcmup_dataset **out, const char *images_path,
                                            const char *labels_path, size_t max_bytes,
                                            const pcmup_allocator *allocator)
{
    PCMUP_CHECK_NULL(out);
    PCMUP_CHECK_NULL(images_path);
    PCMUP_CHECK_NULL(labels_path);
    return load_idx(out, images_path, labels_path, SIZE_MAX, max_bytes, allocator,
                    __func__);
}

pcmup_status pcmup_dataset_load_idx(pcmup_dataset **out, const char *images_path,
                                    const char *labels_path,
                                    const pcmup_allocator *allocator)
{
    PCMUP_CHECK_NULL(out);
    PCMUP_CHECK_NULL(images_path);
    PCMUP_CHECK_NULL(labels_path);
    return load_idx(out, images_path, labels_path, SIZE_MAX, PCMUP_DATASET_MAX_BYTES_DEFAULT,
                    allocator, __func__);
}

/* The fuzz targets' way in (internal.h): the same code as the files'. */
pcmup_status pcmup__dataset_load_idx_mem(pcmup_dataset **out, const void *images,
                                         size_t images_len, const void *labels,
                                         size_t labels_len, size_t max_bytes,
                                         const pcmup_allocator *allocator)
{
    PCMUP_CHECK_NULL(out);
    PCMUP_CHECK_NULL(images);
    PCMUP_CHECK_NULL(labels);
    PCMUP_TRY(pcmup__dataset_check_max_bytes(max_bytes, __func__));
    PCMUP_TRY(pcmup__allocator_check(allocator, __func__));
    pcmup_allocator a;
    pcmup__allocator_init(&a, allocator);
    const pcmup__idx_input img = {NULL, images, images_len, "images"};
    const pcmup__idx_input lab = {NULL, labels, labels_len, "labels"};
    return load_pair(out, &img, &lab, SIZE_MAX, 0, max_bytes, &a, __func__);
}

/* ---- files and directories (dataset.h) ---------------------------------- */

const char *pcmup__errno_text(int err)
{
    switch (err) {
    case ENOENT: return "no such file or directory";
    case EACCES: return "permission denied";
    case EISDIR: return "is a directory";
    case ENOMEM: return "out of memory";
    default: return "cannot open or read";
    }
}

static int file_exists(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    fclose(f);
    return 1;
}

pcmup_status pcmup__dataset_path(const pcmup_allocator *a, const char *dir, const char *name,
                                 size_t extra, const char *caller, char **path)
{
    size_t size = strlen(dir) + 1 + strlen(name) + extra + 1;
    char *p = pcmup__alloc(a, size, 1);
    if (!p)
        return pcmup__fail(PCMUP_ERR_NOMEM, caller, "path of %zu bytes", size);
    snprintf(p, size, "%s/%s", dir, name);
    *path = p;
    return PCMUP_OK;
}

pcmup_status pcmup__dataset_loader_start(pcmup_split split, size_t max_samples,
                                         size_t max_bytes, const pcmup_allocator *allocator,
                                         pcmup_allocator *a, const char *caller)
{
    if (split != PCMUP_SPLIT_TRAIN && split != PCMUP_SPLIT_TEST)
        return pcmup__fail(PCMUP_ERR_INVALID, caller, "unknown split %d", (int)split);
    PCMUP_TRY(pcmup__dataset_check_max_samples(max_samples, caller));
    PCMUP_TRY(pcmup__dataset_check_max_bytes(max_bytes, caller));
    PCMUP_TRY(pcmup__allocator_check(allocator, caller));
    pcmup__allocator_init(a, allocator);
    return PCMUP_OK;
}

/* ---- FashionMNIST -------------------------------------------------------- */

/* "dir/name" if that file exists, else "dir/name.gz" (the directory may be
 * any length). */
static pcmup_status split_path(const pcmup_allocator *a, const char *dir, const char *name,
                               const char *caller, char **path)
{
    PCMUP_TRY(pcmup__dataset_path(a, dir, name, strlen(".gz"), caller, path));
    if (!file_exists(*path))
        strcat(*path, ".gz");
    return PCMUP_OK;
}

static pcmup_status load_fashion_files(pcmup_dataset **out, const char *dir,
                                       const char *images_name, const char *labels_name,
                                       size_t max_samples, size_t max_bytes,
                                       const pcmup_allocator *a, const char *caller)
{
    char *images_path = NULL, *labels_path = NULL;
    pcmup_status s = split_path(a, dir, images_name, caller, &images_path);
    if (s == PCMUP_OK)
        s = split_path(a, dir, labels_name, caller, &labels_path);
    if (s == PCMUP_OK) {
        const pcmup__idx_input images = {images_path, NULL, 0, images_path};
        const pcmup__idx_input labels = {labels_path, NULL, 0, labels_path};
        s = load_pair(out, &images, &labels, max_samples, 10, max_bytes, a, caller);
    }
    pcmup__free(a, images_path);
    pcmup__free(a, labels_path);
    return s;
}

/* What pcmup_dataset_load_fashion_mnist and its _limited and _head twins
 * share after their NULL check. */
static pcmup_status load_fashion(pcmup_dataset **out, const char *dir, pcmup_split split,
                                 size_t max_samples, size_t max_bytes,
                                 const pcmup_allocator *allocator, const char *caller)
{
    pcmup_allocator a;
    PCMUP_TRY(pcmup__dataset_loader_start(split, max_samples, max_bytes, allocator, &a,
                                          caller));
    int train = split == PCMUP_SPLIT_TRAIN;
    return load_fashion_files(out, dir ? dir : PCMUP_FASHION_MNIST_DIR,
                              train ? "train-images-idx3-ubyte" : "t10k-images-idx3-ubyte",
                              train ? "train-labels-idx1-ubyte" : "t10k-labels-idx1-ubyte",
                              max_samples, max_bytes, &a, caller);
}

pcmup_status pcmup_dataset_load_fashion_mnist_head(pcmup_dataset **out, const char *dir,
                                                   pcmup_split split, size_t max_samples,
                                                   size_t max_bytes,
                                                   const pcmup_allocator *allocator)
{
    PCMUP_CHECK_NULL(out);
    return load_fashion(out, dir, split, max_samples, max_bytes, allocator, __func__);
}

pcmup_status pcmup_dataset_load_fashion_mnist_limited(pcmup_dataset **out, const char *dir,
                                                      pcmup_split split, size_t max_bytes,
                                                      const pcmup_allocator *allocator)
{
    PCMUP_CHECK_NULL(out);
    return load_fashion(out, dir, split, SIZE_MAX, max_bytes, allocator, __func__);
}

pcmup_status pcmup_dataset_load_fashion_mnist(pcmup_dataset **out, const char *dir,
                                              pcmup_split split,
                                              const pcmup_allocator *allocator)
{
    PCMUP_CHECK_NULL(out);
    return load_fashion(out, dir, split, SIZE_MAX, PCMUP_DATASET_MAX_BYTES_DEFAULT,
                        allocator, __func__);
}

/* ---- queries and edits --------------------------------------------------- */

pcmup_status pcmup_dataset_info(const pcmup_dataset *dataset, size_t *n, size_t *dim,
                                size_t *n_classes)
{
    PCMUP_CHECK_NULL(dataset);
    if (n)
        *n = dataset->n;
    if (dim)
        *dim = dataset->dim;
    if (n_classes)
        *n_classes = dataset->n_classes;
    return PCMUP_OK;
}

/* Gives memory back after a truncation. Best effort: if the allocator
 * cannot shrink a block, the old, larger block stays and is still correct,
 * so this never fails. */
static void shrink(pcmup_dataset *ds)
{
    const pcmup_allocator *a = &ds->alloc;
    float *x = a->realloc_fn(a->user, ds->x, ds->n * ds->dim * sizeof *x);
    if (x)
        ds->x = x;
    int32_t *labels = a->realloc_fn(a->user, ds->labels, ds->n * sizeof *labels);
    if (labels)
        ds->labels = labels;
}

pcmup_status pcmup_dataset_truncate(pcmup_dataset *dataset, size_t n)
{
    PCMUP_CHECK_NULL(dataset);
    if (n == 0 || n > dataset->n)
        return pcmup__fail(PCMUP_ERR_INVALID, __func__,
                           "n = %zu: must be in [1, %zu] (the current size)", n, dataset->n);
    if (n == dataset->n)
        return PCMUP_OK;
    dataset->n = n;
    shrink(dataset);
    return PCMUP_OK;
}

/* Population mean and standard deviation of all values, in double; two
 * passes, because the one-pass formula loses the std of data far from 0. */
static void value_stats(const pcmup_dataset *ds, double *mean, double *std)
{
    size_t count = ds->n * ds->dim;
    double sum = 0;
    for (size_t i = 0; i < count; i++)
        sum += ds->x[i];
    double m = sum / (double)count;
    double sq = 0;
    for (size_t i = 0; i < count; i++) {
        double d = ds->x[i] - m;
        sq += d * d;
    }
    *mean = m;
    *std = sqrt(sq / (double)count);
}

/* The largest |x - mean| / std must still be a finite float, or the call
 * would leave infinities in the dataset. */
static int fits_float(const pcmup_dataset *ds, double mean, double std)
{
    size_t count = ds->n * ds->dim;
    double max_dev = 0;
    for (size_t i = 0; i < count; i++)
        max_dev = fmax(max_dev, fabs(ds->x[i] - mean));
    return max_dev / std <= FLT_MAX;
}

pcmup_status pcmup_dataset_standardize(pcmup_dataset *dataset,
                                       const pcmup_dataset *reference)
{
    PCMUP_CHECK_NULL(dataset);
    const pcmup_dataset *ref = reference ? reference : dataset;
    double mean, std;
    value_stats(ref, &mean, &std);
    if (!(std > 0) || !isfinite(std) || !isfinite(mean))
        return pcmup__fail(PCMUP_ERR_INVALID, __func__,
                           "the %s's values have std %g: cannot standardise",
                           reference ? "reference" : "dataset", std);
    if (!fits_float(dataset, mean, std))
        return pcmup__fail(PCMUP_ERR_INVALID, __func__,
                           "(x - %g) / %g overflows float for some values", mean, std);
    size_t count = dataset->n * dataset->dim;
    for (size_t i = 0; i < count; i++)
        dataset->x[i] = (float)((dataset->x[i] - mean) / std);
    return PCMUP_OK;
}

/* ---- batches ------------------------------------------------------------- */

/* [start, start + n) within the dataset, without computing start + n. */
static pcmup_status check_range(const pcmup_dataset *ds, size_t start, size_t n,
                                const char *func)
{
    if (start > ds->n || n > ds->n - start)
        return pcmup__fail(PCMUP_ERR_INVALID, func,
                           "samples [%zu, %zu + %zu) are outside the dataset's %zu", start,
                           start, n, ds->n);
    return PCMUP_OK;
}

pcmup_status pcmup_dataset_get_batch(const pcmup_dataset *dataset, size_t start, size_t n,
                                     float *x, size_t x_count, int32_t *labels)
{
    PCMUP_CHECK_NULL(dataset);
    PCMUP_TRY(check_range(dataset, start, n, __func__));
    if (x) {
        PCMUP_TRY(pcmup__check_count(x_count, n, dataset->dim, "x_count", __func__));
        memcpy(x, dataset->x + start * dataset->dim, n * dataset->dim * sizeof *x);
    }
    if (labels)
        memcpy(labels, dataset->labels + start, n * sizeof *labels);
    return PCMUP_OK;
}

pcmup_status pcmup_dataset_one_hot(const pcmup_dataset *dataset, size_t start, size_t n,
                                   int centred, float *y, size_t y_count)
{
    PCMUP_CHECK_NULL(dataset);
    PCMUP_CHECK_NULL(y);
    PCMUP_TRY(check_range(dataset, start, n, __func__));
    size_t c = dataset->n_classes;
    PCMUP_TRY(pcmup__check_count(y_count, n, c, "y_count", __func__));
    /* Centring subtracts 1/C from every entry, so each row sums to 0. */
    float off = centred ? (float)(-1.0 / (double)c) : 0.0f;
    float on = centred ? (float)(1.0 - 1.0 / (double)c) : 1.0f;
    for (size_t b = 0; b < n; b++) {
        float *row = y + b * c;
        for (size_t k = 0; k < c; k++)
            row[k] = off;
        row[dataset->labels[start + b]] = on;
    }
    return PCMUP_OK;
}

/* ---- internal views ------------------------------------------------------ */

const float *pcmup__dataset_x(const pcmup_dataset *ds)
{
    assert(ds);
    return ds->x;
}

const int32_t *pcmup__dataset_labels(const pcmup_dataset *ds)
{
    assert(ds);
    return ds->labels;
}
