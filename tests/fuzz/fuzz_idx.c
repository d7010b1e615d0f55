/* SPDX-License-Identifier: MIT */
/*
 * fuzz_idx.c -- libFuzzer target: raw bytes as IDX files, through the
 * reader (lib/data/idx.c) and the dataset loader (lib/data/dataset.c).
 *
 * The input is read as an image file and as a label file, then loaded as
 * a dataset twice: with itself as the label file (a 1-dimensional file is
 * both) and, when it reads as images, with a label file made to match.
 * Plain or gzip: the reader decides by the magic, as for files. Checks:
 * the reader's invariants (idx_read.h); a label file is an image file of
 * dimension 1; a dataset loads exactly when its files read, holding their
 * bytes / 255 and their labels.
 */
#include "fuzz.h"
#include "idx_read.h"

#include <string.h>

/* The datasets made here are at most FUZZ_MAX_DATA bytes of file, so at
 * most 8 times that in floats and labels. */
#define MAX_DATASET (8 * FUZZ_MAX_DATA)

/* The dataset holds `img`'s bytes / 255 and `labels`. */
static void check_dataset(const pcmup_dataset *ds, const pcmup__idx *img,
                          const uint8_t *labels)
{
    size_t n, dim, n_classes, values = img->count * img->item_size;
    FUZZ_ASSERT(pcmup_dataset_info(ds, &n, &dim, &n_classes) == PCMUP_OK);
    FUZZ_ASSERT(n == img->count && dim == img->item_size);
    float *x = malloc(values * sizeof *x);
    int32_t *lab = malloc(n * sizeof *lab);
    FUZZ_ASSERT(x && lab);
    FUZZ_ASSERT(pcmup_dataset_get_batch(ds, 0, n, x, values, lab) == PCMUP_OK);
    for (size_t i = 0; i < values; i++)
        FUZZ_ASSERT(x[i] == (float)img->data[i] / 255.0f);
    int32_t max = 0;
    for (size_t i = 0; i < n; i++) {
        FUZZ_ASSERT(lab[i] == labels[i]);
        max = lab[i] > max ? lab[i] : max;
    }
    FUZZ_ASSERT(n_classes == (size_t)max + 1);
    free(x);
    free(lab);
}

/* A label file for n samples: label i is i mod 10. */
static uint8_t *make_labels(size_t n, size_t *len)
{
    uint8_t *b = malloc(8 + n);
    FUZZ_ASSERT(b);
    const uint8_t head[8] = {0, 0, 8, 1, (uint8_t)(n >> 24), (uint8_t)(n >> 16),
                             (uint8_t)(n >> 8), (uint8_t)n};
    memcpy(b, head, 8);
    for (size_t i = 0; i < n; i++)
        b[8 + i] = (uint8_t)(i % 10);
    *len = 8 + n;
    return b;
}

/* The input as both files: loads exactly when it reads as labels. */
static void load_as_both(const uint8_t *data, size_t size, const fuzz_idx_result *lab)
{
    static const uint8_t empty[1];
    const uint8_t *p = size ? data : empty;
    pcmup_dataset *ds = NULL;
    pcmup_status s = pcmup__dataset_load_idx_mem(&ds, p, size, p, size, MAX_DATASET, NULL);
    if (lab->limited) {
        pcmup_dataset_free(ds);
        return;
    }
    FUZZ_ASSERT((s == PCMUP_OK) == (lab->status == PCMUP_OK));
    if (s == PCMUP_OK)
        check_dataset(ds, &lab->idx, lab->idx.data);
    else
        FUZZ_ASSERT(s == PCMUP_ERR_FORMAT && ds == NULL);
    pcmup_dataset_free(ds);
}

/* The input as images with matching labels: loads. */
static void load_with_labels(const uint8_t *data, size_t size, const fuzz_idx_result *img)
{
    size_t lab_len;
    uint8_t *labels = make_labels(img->idx.count, &lab_len);
    pcmup_dataset *ds = NULL;
    pcmup_status s =
        pcmup__dataset_load_idx_mem(&ds, data, size, labels, lab_len, MAX_DATASET, NULL);
    FUZZ_ASSERT(s == PCMUP_OK);
    check_dataset(ds, &img->idx, labels + 8);
    pcmup_dataset_free(ds);
    free(labels);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_idx_result img, lab;
    fuzz_idx_read(data, size, PCMUP__IDX_IMAGES, &img);
    fuzz_idx_read(data, size, PCMUP__IDX_LABELS, &lab);
    if (lab.status == PCMUP_OK)
        FUZZ_ASSERT(fuzz_idx_same(&img, &lab) && img.idx.item_size == 1);
    load_as_both(data, size, &lab);
    /* A count past 2^32 - 1 cannot be written in a label file's header. */
    if (img.status == PCMUP_OK && img.idx.count <= 0xffffffffu)
        load_with_labels(data, size, &img);
    fuzz_idx_free(&img);
    fuzz_idx_free(&lab);
    return 0;
}
