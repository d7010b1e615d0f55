/* SPDX-License-Identifier: MIT */
/*
 * sweep_summary.c -- the best learning rate per width (sweep_summary.h).
 *
 * Quadratic scans over the rows: a sweep file holds hundreds of rows, and
 * plain loops keep the table's rules easy to check.
 */
#include "sweep_summary.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The best lr of one width. */
typedef struct {
    size_t width;
    size_t rows;
    size_t diverged;
    int found;         /* a row that did not diverge exists */
    double log2_lr;
    double lr;
    double value;      /* of the metric at the best lr */
} width_best;

/* Which key ranks the rows, and in which direction. */
typedef struct {
    const char *key;
    int larger_is_better; /* accuracies; losses are better smaller */
} ranking;

static const char *row_config(const jsonl_row *row)
{
    return jsonl_string(row, "config", NULL);
}

/* A diverged row, or one without the metric, cannot be the best. */
static int row_diverged(const jsonl_row *row, const ranking *r)
{
    const jsonl_field *f = jsonl_get(row, "diverged");
    return (f != NULL && f->type == JSONL_BOOL && f->number != 0.0)
           || isnan(jsonl_number(row, r->key, NAN));
}

static int better(const ranking *r, double v, double than)
{
    return r->larger_is_better ? v > than : v < than;
}

static void consider(width_best *b, const jsonl_row *row, const ranking *r)
{
    double v = jsonl_number(row, r->key, NAN), lr = jsonl_number(row, "lr", NAN);

    b->rows++;
    if (row_diverged(row, r)) {
        b->diverged++;
        return;
    }
    if (b->found && (better(r, b->value, v) || (v == b->value && lr >= b->lr)))
        return;
    b->found = 1;
    b->value = v;
    b->lr = lr;
    b->log2_lr = jsonl_number(row, "log2_lr", log2(lr));
}

static int compare_widths(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* The distinct widths of the config's rows, ascending; malloc'ed. */
static size_t *config_widths(const jsonl_row *rows, size_t n_rows, const char *config,
                             size_t *n_widths)
{
    size_t *widths = malloc((n_rows + 1) * sizeof *widths), n = 0;
    if (widths == NULL)
        return NULL;
    for (size_t i = 0; i < n_rows; i++) {
        const char *c = row_config(&rows[i]);
        size_t w = (size_t)jsonl_number(&rows[i], "width", 0.0), j = 0;
        if (c == NULL || strcmp(c, config) != 0)
            continue;
        while (j < n && widths[j] != w)
            j++;
        if (j == n)
            widths[n++] = w;
    }
    qsort(widths, n, sizeof *widths, compare_widths);
    *n_widths = n;
    return widths;
}

/* The smallest positive spacing of the config's log2_lr values; 0 when
 * there is a single lr. */
static double grid_step(const jsonl_row *rows, size_t n_rows, const char *config)
{
    double step = 0.0;
    for (size_t i = 0; i < n_rows; i++) {
        const char *ci = row_config(&rows[i]);
        double ki = jsonl_number(&rows[i], "log2_lr", NAN);
        for (size_t j = 0; ci != NULL && strcmp(ci, config) == 0 && j < n_rows; j++) {
            const char *cj = row_config(&rows[j]);
            double d = jsonl_number(&rows[j], "log2_lr", NAN) - ki;
            if (cj != NULL && strcmp(cj, config) == 0 && d > 1e-9 && (step == 0.0 || d < step))
                step = d;
        }
    }
    return step;
}

static width_best best_of_width(const jsonl_row *rows, size_t n_rows, const char *config,
                                size_t width, const ranking *r)
{
    width_best b = {0};
    b.width = width;
    for (size_t i = 0; i < n_rows; i++) {
        const char *c = row_config(&rows[i]);
        if (c != NULL && strcmp(c, config) == 0
            && (size_t)jsonl_number(&rows[i], "width", 0.0) == width)
            consider(&b, &rows[i], r);
    }
    return b;
}

static void print_width(FILE *out, const width_best *b)
{
    if (b->found)
        fprintf(out, "  %7zu  2^%-6g %-10g %10.4g  %zu/%zu\n", b->width, b->log2_lr, b->lr,
                b->value, b->diverged, b->rows);
    else
        fprintf(out, "  %7zu  %-20s %10s  %zu/%zu\n", b->width, "-", "-", b->diverged,
                b->rows);
}

static void print_move(FILE *out, const width_best *first, const width_best *last,
                       double step)
{
    double moved;
    if (!first->found || !last->found) {
        fprintf(out, "best lr from width %zu to %zu: unknown (every lr diverged at one"
                     " of them)\n", first->width, last->width);
        return;
    }
    moved = last->log2_lr - first->log2_lr;
    fprintf(out, "best lr from width %zu to %zu: moved %+g in log2", first->width,
            last->width, moved);
    if (step > 0.0)
        fprintf(out, " = %+g grid steps of %g", moved / step, step);
    fputc('\n', out);
}

static void print_config(FILE *out, const jsonl_row *rows, size_t n_rows,
                         const jsonl_row *first_row, const ranking *r)
{
    const char *config = row_config(first_row);
    size_t n_widths, *widths = config_widths(rows, n_rows, config, &n_widths);
    width_best lo = {0}, hi = {0};

    if (widths == NULL) {
        fprintf(out, "out of memory\n");
        return;
    }
    fprintf(out, "%s\n  config: %s\n", jsonl_string(first_row, "label", "(no label)"),
            config);
    fprintf(out, "  %7s  %-20s %10s  %s\n", "width", "best lr", r->key, "diverged");
    for (size_t i = 0; i < n_widths; i++) {
        width_best b = best_of_width(rows, n_rows, config, widths[i], r);
        print_width(out, &b);
        if (i == 0)
            lo = b;
        hi = b;
    }
    if (n_widths > 1)
        print_move(out, &lo, &hi, grid_step(rows, n_rows, config));
    free(widths);
}

/* Whether an earlier row has the same config (it was printed then). */
static int seen_before(const jsonl_row *rows, size_t i)
{
    for (size_t j = 0; j < i; j++) {
        const char *c = row_config(&rows[j]);
        if (c != NULL && strcmp(c, row_config(&rows[i])) == 0)
            return 1;
    }
    return 0;
}

void sweep_summary_print(FILE *out, const jsonl_row *rows, size_t n_rows,
                         const char *config, const char *metric)
{
    const ranking r = {metric, strstr(metric, "acc") != NULL};
    size_t printed = 0;
    for (size_t i = 0; i < n_rows; i++) {
        const char *c = row_config(&rows[i]);
        if (c == NULL || (config != NULL && strcmp(c, config) != 0) || seen_before(rows, i))
            continue;
        if (printed++ > 0)
            fputc('\n', out);
        print_config(out, rows, n_rows, &rows[i], &r);
    }
    if (printed == 0)
        fprintf(out, "no pcmup-sweep rows%s\n", config != NULL ? " of this config" : "");
}
