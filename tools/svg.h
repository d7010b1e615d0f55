/* SPDX-License-Identifier: MIT */
/*
 * svg.h -- the few SVG pieces pcmup-plot draws: a document, a panel with
 * framed axes and ticks, curves, markers, text and legend entries.
 *
 * Nothing here knows about sweeps or coordinate checks: callers give data
 * already in plotting space (log2 of a learning rate, log10 of a change)
 * and say how ticks are labelled. Every number is printed with two
 * decimals, and a value that is not finite is never printed (it would make
 * the file unreadable to most viewers).
 */
#ifndef PCMUP_SVG_H
#define PCMUP_SVG_H

#include <stddef.h>
#include <stdio.h>

/* How an axis's data relate to its tick labels. */
typedef enum {
    SVG_LINEAR, /* data are values; ticks every 1, 2 or 5 x 10^k          */
    SVG_LOG2,   /* data are log2 values; ticks at integers, labelled "k"  */
    SVG_POW2,   /* data are log2 values; ticks at integers, labelled 2^k  */
    SVG_LOG10,  /* data are log10 values; ticks at integers, labelled 10^k */
} svg_scale;

typedef struct {
    double lo, hi; /* data range shown; hi > lo once fitted */
    svg_scale scale;
    const char *label; /* axis label, escaped when printed */
} svg_axis;

/* A panel: its plotting box in pixels and the axes mapping data into it. */
typedef struct {
    double left, top, width, height;
    svg_axis x, y;
} svg_panel;

/* Begins a document of the given size (pixels) with a white background. */
void svg_begin(FILE *out, double width, double height);
void svg_end(FILE *out);

/* Writes s with &, <, >, " and ' replaced by entities. */
void svg_escape(FILE *out, const char *s);

/* Text at (x, y); anchor is "start", "middle" or "end"; weight "normal"
 * or "bold". */
void svg_text(FILE *out, double x, double y, int size, const char *anchor,
              const char *weight, const char *text);

/* Sets a's range from the data's finite min and max (lo > hi when there
 * were none) with a margin, never empty: a single value gets a range
 * around it, and an exponent axis spans at least two units (two labelled
 * ticks; two decades on a log10 axis). */
void svg_axis_fit(svg_axis *a, double lo, double hi);

/* Data to pixels. Values outside the range map outside the box. */
double svg_px(const svg_panel *p, double x);
double svg_py(const svg_panel *p, double y);

/* Grid lines, frame, ticks, tick labels, axis labels and the title (cut
 * with an ellipsis when wider than the panel). */
void svg_panel_draw(FILE *out, const svg_panel *p, const char *title);

/* The colour at t in [0, 1] of a sequential palette (dark purple through
 * blue and green to yellow-green), as "#rrggbb". */
void svg_palette(double t, char color[8]);

/* A curve as one <path class="curve" ATTRS>: points are appended in
 * order; svg_path_gap starts a new piece (a gap) at the next point.
 * attrs is inserted verbatim (the caller's data-* attributes). */
typedef struct {
    FILE *out;
    int move_next; /* the next point starts a piece: "M", not "L" */
} svg_path;

void svg_path_begin(svg_path *path, FILE *out, const char *color, const char *attrs);
void svg_path_point(svg_path *path, double px, double py);
void svg_path_gap(svg_path *path);
void svg_path_end(svg_path *path);

/* A filled circle (a data point; outlined in white to stand out from the
 * curves under it) and an 'x' (a run without a value), with a class and
 * the caller's attributes. */
void svg_circle(FILE *out, double px, double py, double r, const char *color,
                int outlined, const char *cls, const char *attrs);
void svg_cross(FILE *out, double px, double py, double half, const char *color,
               const char *cls, const char *attrs);

/* One legend line at (x, y): a short stroke with a dot, then the text. */
void svg_legend_entry(FILE *out, double x, double y, const char *color, const char *text);

#endif /* PCMUP_SVG_H */
