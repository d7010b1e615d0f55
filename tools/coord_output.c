/* SPDX-License-Identifier: MIT */
/*
 * coord_output.c -- pcmup-coord's table lines and JSON rows
 * (coord_output.h).
 */
#include "coord_output.h"

#include <math.h>
#include <stdio.h>

#include "train_setup.h"

void coord_row_begin(jsonl_writer *w, const train_options *o, const char *label,
                     const char *config, size_t width, double gamma_L)
{
    jsonl_begin(w, stdout);
    jsonl_put_string(w, "label", label ? label : config);
    jsonl_put_string(w, "config", config);
    train_put_settings(w, o, width, gamma_L);
}

void coord_row_layer(jsonl_writer *w, size_t step, size_t layer, size_t L, double dh,
                     double h_abs)
{
    jsonl_put_size(w, "step", step);
    jsonl_put_size(w, "layer", layer);
    jsonl_put_string(w, "signal", layer < L ? "h" : "f");
    jsonl_put_number(w, "dh", dh);
    jsonl_put_number(w, "h_abs", h_abs);
}

static void print_number(double v)
{
    if (isinf(v))
        printf(" %9s", "inf");
    else
        printf(" %9.4g", v);
}

void coord_table_header(size_t L)
{
    printf("%7s %7s", "width", "step");
    for (size_t l = 1; l <= L; l++) {
        char name[32];
        snprintf(name, sizeof name, l < L ? "dh_%zu" : "df", l);
        printf(" %9s", name);
    }
    for (size_t l = 1; l <= L; l++) {
        char name[32];
        snprintf(name, sizeof name, l < L ? "|h_%zu|" : "|f|", l);
        printf(" %9s", name);
    }
    printf("\n");
}

void coord_table_line(size_t width, size_t step, size_t L, const double *dh,
                      const double *h_abs)
{
    printf("%7zu %7zu", width, step);
    for (size_t l = 0; l < L; l++)
        print_number(dh[l]);
    for (size_t l = 0; l < L; l++)
        print_number(h_abs[l]);
    printf("\n");
}
