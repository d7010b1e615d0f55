/* SPDX-License-Identifier: MIT */
/*
 * svg.c -- SVG text for pcmup-plot's figures (svg.h).
 *
 * Plain fprintf of elements: the figures are a few hundred elements, and
 * the file should stay readable and diffable, so there is no DOM.
 */
#include "svg.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#define TICK_LEN 4.0
#define MAX_TICKS 64 /* far more than a fitted axis gets; bounds the loops */

/* Every coordinate goes through here: a value that is not finite would be
 * a caller's bug, but must still not reach the file. */
static double finite_or_zero(double v)
{
    assert(isfinite(v));
    return isfinite(v) ? v : 0.0;
}

void svg_begin(FILE *out, double width, double height)
{
    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
            "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\">\n",
            finite_or_zero(width), finite_or_zero(height), finite_or_zero(width),
            finite_or_zero(height));
    fprintf(out, "<rect x=\"0\" y=\"0\" width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
}

void svg_end(FILE *out)
{
    fprintf(out, "</svg>\n");
}

void svg_escape(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&apos;", out); break;
        default:
            /* XML 1.0 forbids most control characters even as entities. */
            fputc((unsigned char)*s < 0x20 ? ' ' : *s, out);
        }
    }
}

void svg_text(FILE *out, double x, double y, int size, const char *anchor,
              const char *weight, const char *text)
{
    fprintf(out, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"%d\" text-anchor=\"%s\"",
            finite_or_zero(x), finite_or_zero(y), size, anchor);
    if (strcmp(weight, "normal") != 0)
        fprintf(out, " font-weight=\"%s\"", weight);
    fputc('>', out);
    svg_escape(out, text);
    fputs("</text>\n", out);
}

/* ---- axes ---------------------------------------------------------------- */

/* Ranges are padded so that no point sits on the frame. */
static double fit_margin(const svg_axis *a, double span)
{
    if (a->scale == SVG_LINEAR)
        return 0.06 * span;
    /* Exponent axes: a learning-rate grid is whole powers of two; half a
     * grid step of room at each end keeps the end points clear. */
    return fmax(0.05 * span, 0.3);
}

void svg_axis_fit(svg_axis *a, double lo, double hi)
{
    if (!(lo <= hi)) { /* no data: an arbitrary but valid range */
        lo = 0.0;
        hi = 1.0;
    }
    double span = hi - lo;
    if (a->scale != SVG_LINEAR && span + 2.0 * fit_margin(a, span) < 2.0) {
        /* Ticks are at whole exponents: two units guarantee two labelled
         * ticks, and on a log10 axis two decades make a flat line read
         * as flat. */
        double mid = 0.5 * (lo + hi);
        a->lo = mid - 1.0;
        a->hi = mid + 1.0;
        return;
    }
    if (span <= 0.0) { /* one value: a range around it */
        double half = fabs(lo) > 1e-12 ? 0.1 * fabs(lo) : 1.0;
        a->lo = lo - half;
        a->hi = hi + half;
        return;
    }
    double m = fit_margin(a, span);
    a->lo = lo - m;
    a->hi = hi + m;
}

/* 1, 2 or 5 times a power of ten, near raw. */
static double nice_step(double raw)
{
    double mag = pow(10.0, floor(log10(raw)));
    double norm = raw / mag;
    return (norm < 1.5 ? 1.0 : norm < 3.0 ? 2.0 : norm < 7.0 ? 5.0 : 10.0) * mag;
}

/* About five ticks; exponent axes tick only at whole exponents. */
static double tick_step(const svg_axis *a)
{
    double span = a->hi - a->lo;
    if (a->scale == SVG_LINEAR)
        return nice_step(span / 5.0);
    return fmax(1.0, nice_step(span / 6.0));
}

/* The tick values in [lo, hi]; returns how many. */
static size_t axis_ticks(const svg_axis *a, double step, double *ticks)
{
    double eps = 1e-9 * (a->hi - a->lo);
    double first = ceil((a->lo - eps) / step);
    size_t n = 0;
    for (int i = 0; n < MAX_TICKS; i++) {
        double t = (first + i) * step;
        if (t > a->hi + eps)
            break;
        /* (k * step) can land a hair off zero; "-0" is an ugly label. */
        ticks[n++] = fabs(t) < eps ? 0.0 : t;
    }
    return n;
}

/* Linear tick labels: as many decimals as the step needs. */
static void linear_label(double t, double step, char *buf, size_t size)
{
    double big = fmax(fabs(t), step);
    if (step < 1e-4 || big >= 1e7) {
        snprintf(buf, size, "%.3g", t);
        return;
    }
    int decimals = (int)-floor(log10(step) + 1e-9);
    snprintf(buf, size, "%.*f", decimals > 0 ? decimals : 0, t);
}

/* A tick label for value t; svg_LOG10's are written by log10_label. */
static void tick_label(const svg_axis *a, double t, double step, char *buf, size_t size)
{
    switch (a->scale) {
    case SVG_LINEAR: linear_label(t, step, buf, size); break;
    case SVG_LOG2: snprintf(buf, size, "%.0f", t); break;
    case SVG_POW2:
        /* Widths are small powers of two; beyond 2^30 the digits would
         * not fit under a tick. */
        if (t >= 0.0 && t <= 30.0)
            snprintf(buf, size, "%.0f", pow(2.0, t));
        else
            snprintf(buf, size, "2^%.0f", t);
        break;
    case SVG_LOG10: snprintf(buf, size, "1e%.0f", t); break;
    }
}

/* "10" with the exponent raised, which reads better than "1e-3". */
static void log10_label(FILE *out, double x, double y, const char *anchor, double t)
{
    fprintf(out,
            "<text x=\"%.2f\" y=\"%.2f\" font-size=\"11\" text-anchor=\"%s\">10"
            "<tspan dy=\"-5\" font-size=\"8\">%.0f</tspan></text>\n",
            finite_or_zero(x), finite_or_zero(y), anchor, finite_or_zero(t));
}

double svg_px(const svg_panel *p, double x)
{
    return p->left + (x - p->x.lo) / (p->x.hi - p->x.lo) * p->width;
}

double svg_py(const svg_panel *p, double y)
{
    return p->top + (p->y.hi - y) / (p->y.hi - p->y.lo) * p->height;
}

static void line(FILE *out, double x1, double y1, double x2, double y2, const char *stroke,
                 double width)
{
    fprintf(out,
            "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" "
            "stroke-width=\"%.2f\"/>\n",
            finite_or_zero(x1), finite_or_zero(y1), finite_or_zero(x2), finite_or_zero(y2),
            stroke, width);
}

/* One tick on the bottom (vertical == 0) or left axis: grid line, tick
 * mark and label. */
static void draw_tick(FILE *out, const svg_panel *p, int vertical, double t, double step)
{
    const svg_axis *a = vertical ? &p->y : &p->x;
    double right = p->left + p->width, bottom = p->top + p->height;
    char label[48];
    double lx, ly;
    const char *anchor;

    if (vertical) {
        double y = svg_py(p, t);
        line(out, p->left, y, right, y, "#e6e6e6", 1.0);
        line(out, p->left - TICK_LEN, y, p->left, y, "black", 1.0);
        lx = p->left - TICK_LEN - 3.0;
        ly = y + 4.0;
        anchor = "end";
    } else {
        double x = svg_px(p, t);
        line(out, x, p->top, x, bottom, "#e6e6e6", 1.0);
        line(out, x, bottom, x, bottom + TICK_LEN, "black", 1.0);
        lx = x;
        ly = bottom + TICK_LEN + 12.0;
        anchor = "middle";
    }
    if (a->scale == SVG_LOG10) {
        log10_label(out, lx, ly, anchor, t);
        return;
    }
    tick_label(a, t, step, label, sizeof label);
    svg_text(out, lx, ly, 11, anchor, "normal", label);
}

/* Unlabelled short ticks at 2..9 x 10^k, so a log axis reads as one. */
static void draw_minor_ticks(FILE *out, const svg_panel *p, int vertical)
{
    const svg_axis *a = vertical ? &p->y : &p->x;
    double bottom = p->top + p->height;
    for (double k = floor(a->lo); k <= ceil(a->hi); k++) {
        for (int m = 2; m <= 9; m++) {
            double t = k + log10((double)m);
            if (t < a->lo || t > a->hi)
                continue;
            if (vertical)
                line(out, p->left - 2.0, svg_py(p, t), p->left, svg_py(p, t), "black", 0.8);
            else
                line(out, svg_px(p, t), bottom, svg_px(p, t), bottom + 2.0, "black", 0.8);
        }
    }
}

static void draw_axis(FILE *out, const svg_panel *p, int vertical)
{
    const svg_axis *a = vertical ? &p->y : &p->x;
    double ticks[MAX_TICKS];
    double step = tick_step(a);
    size_t n = axis_ticks(a, step, ticks);
    for (size_t i = 0; i < n; i++)
        draw_tick(out, p, vertical, ticks[i], step);
    if (a->scale == SVG_LOG10 && step == 1.0)
        draw_minor_ticks(out, p, vertical);
}

static void draw_axis_labels(FILE *out, const svg_panel *p)
{
    double cx = p->left + 0.5 * p->width, cy = p->top + 0.5 * p->height;
    svg_text(out, cx, p->top + p->height + 34.0, 12, "middle", "normal", p->x.label);
    double lx = p->left - 46.0;
    fprintf(out,
            "<text x=\"%.2f\" y=\"%.2f\" font-size=\"12\" text-anchor=\"middle\" "
            "transform=\"rotate(-90 %.2f %.2f)\">",
            finite_or_zero(lx), finite_or_zero(cy), finite_or_zero(lx), finite_or_zero(cy));
    svg_escape(out, p->y.label);
    fputs("</text>\n", out);
}

/* Bytes of the first max_chars UTF-8 characters of s (all of it if
 * shorter). */
static size_t utf8_prefix(const char *s, size_t max_chars)
{
    size_t i = 0, chars = 0;
    for (; s[i]; i++) {
        int starts_char = ((unsigned char)s[i] & 0xC0) != 0x80;
        if (starts_char && chars++ == max_chars)
            break;
    }
    return i;
}

/* A title wider than the panel's cell is cut with an ellipsis; the whole
 * text stays as a tooltip. */
static void draw_title(FILE *out, const svg_panel *p, const char *title)
{
    size_t max_chars = (size_t)((p->width + 60.0) / 7.5);
    size_t keep = utf8_prefix(title, max_chars);
    if (title[keep] == '\0') {
        svg_text(out, p->left + 0.5 * p->width, p->top - 10.0, 13, "middle", "bold", title);
        return;
    }
    keep = utf8_prefix(title, max_chars - 1);
    fprintf(out,
            "<text x=\"%.2f\" y=\"%.2f\" font-size=\"13\" text-anchor=\"middle\" "
            "font-weight=\"bold\"><title>",
            finite_or_zero(p->left + 0.5 * p->width), finite_or_zero(p->top - 10.0));
    svg_escape(out, title);
    fputs("</title>", out);
    for (size_t i = 0; i < keep; i++) {
        char one[2] = {title[i], '\0'};
        svg_escape(out, one);
    }
    fputs("\xe2\x80\xa6</text>\n", out); /* U+2026, an ellipsis */
}

void svg_panel_draw(FILE *out, const svg_panel *p, const char *title)
{
    assert(p->x.hi > p->x.lo && p->y.hi > p->y.lo);
    draw_axis(out, p, 0);
    draw_axis(out, p, 1);
    fprintf(out,
            "<rect class=\"frame\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
            "fill=\"none\" stroke=\"black\"/>\n",
            finite_or_zero(p->left), finite_or_zero(p->top), finite_or_zero(p->width),
            finite_or_zero(p->height));
    draw_axis_labels(out, p);
    draw_title(out, p, title);
}

/* ---- curves and markers ---------------------------------------------------- */

/* Viridis-like anchors, stopping before its palest yellow, which is
 * nearly invisible on white. */
static const unsigned char palette[][3] = {
    {0x44, 0x01, 0x54}, {0x48, 0x28, 0x78}, {0x3e, 0x49, 0x89},
    {0x31, 0x68, 0x8e}, {0x26, 0x82, 0x8e}, {0x1f, 0x9e, 0x89},
    {0x35, 0xb7, 0x79}, {0x6e, 0xce, 0x58}, {0xb5, 0xde, 0x2b},
};

void svg_palette(double t, char color[8])
{
    const size_t last = sizeof palette / sizeof palette[0] - 1;
    double pos = (isfinite(t) ? fmin(fmax(t, 0.0), 1.0) : 0.0) * (double)last;
    size_t i = (size_t)pos;
    if (i >= last)
        i = last - 1;
    double f = pos - (double)i;
    int rgb[3];
    for (int c = 0; c < 3; c++)
        rgb[c] = (int)lround((1.0 - f) * palette[i][c] + f * palette[i + 1][c]);
    snprintf(color, 8, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
}

void svg_path_begin(svg_path *path, FILE *out, const char *color, const char *attrs)
{
    path->out = out;
    path->move_next = 1;
    fprintf(out,
            "<path class=\"curve\" %s fill=\"none\" stroke=\"%s\" stroke-width=\"1.80\" "
            "stroke-linejoin=\"round\" d=\"",
            attrs, color);
}

void svg_path_point(svg_path *path, double px, double py)
{
    fprintf(path->out, "%s%.2f,%.2f", path->move_next ? "M" : " L", finite_or_zero(px),
            finite_or_zero(py));
    path->move_next = 0;
}

void svg_path_gap(svg_path *path)
{
    if (!path->move_next)
        fputc(' ', path->out);
    path->move_next = 1;
}

void svg_path_end(svg_path *path)
{
    fputs("\"/>\n", path->out);
}

void svg_circle(FILE *out, double px, double py, double r, const char *color,
                int outlined, const char *cls, const char *attrs)
{
    fprintf(out, "<circle class=\"%s\" %s cx=\"%.2f\" cy=\"%.2f\" r=\"%.2f\" fill=\"%s\"",
            cls, attrs, finite_or_zero(px), finite_or_zero(py), r, color);
    fputs(outlined ? " stroke=\"white\" stroke-width=\"1.00\"/>\n" : "/>\n", out);
}

void svg_cross(FILE *out, double px, double py, double half, const char *color,
               const char *cls, const char *attrs)
{
    double x = finite_or_zero(px), y = finite_or_zero(py);
    fprintf(out,
            "<path class=\"%s\" %s fill=\"none\" stroke=\"%s\" stroke-width=\"1.50\" "
            "d=\"M%.2f,%.2f L%.2f,%.2f M%.2f,%.2f L%.2f,%.2f\"/>\n",
            cls, attrs, color, x - half, y - half, x + half, y + half, x - half, y + half,
            x + half, y - half);
}

void svg_legend_entry(FILE *out, double x, double y, const char *color, const char *text)
{
    line(out, x, y - 4.0, x + 22.0, y - 4.0, color, 2.0);
    svg_circle(out, x + 11.0, y - 4.0, 3.0, color, 0, "legend-dot", "");
    svg_text(out, x + 28.0, y, 12, "start", "normal", text);
}
