/* SPDX-License-Identifier: MIT */
/*
 * coord_output.h -- the table lines and JSON rows that pcmup-coord's
 * coordinate check and its --training mode share, so the two print the
 * same columns and keys and pcmup-plot reads both alike.
 */
#ifndef PCMUP_COORD_OUTPUT_H
#define PCMUP_COORD_OUTPUT_H

#include <stddef.h>

#include "jsonl.h"
#include "train_options.h"

/* Starts a row on stdout with what every row begins with: "label" (the
 * configuration when label is NULL), "config", and the pcmup-train
 * setting keys at this width (train_put_settings). */
void coord_row_begin(jsonl_writer *w, const train_options *o, const char *label,
                     const char *config, size_t width, double gamma_L);

/* The per-layer keys of one measurement: step, layer, signal ("h", or
 * "f" for layer L), dh and h_abs (null when not finite: diverged). */
void coord_row_layer(jsonl_writer *w, size_t step, size_t layer, size_t L, double dh,
                     double h_abs);

/* The table: a header "width step dh_1 .. df |h_1| .. |f|", and one line
 * per (width, step) with L values of dh and L of h_abs; "inf" marks a
 * diverged run. */
void coord_table_header(size_t L);
void coord_table_line(size_t width, size_t step, size_t L, const double *dh,
                      const double *h_abs);

#endif /* PCMUP_COORD_OUTPUT_H */
