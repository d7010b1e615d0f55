/* SPDX-License-Identifier: MIT */
/*
 * pcmup-plot.c -- SVG figures from pcmup-sweep's and pcmup-coord's
 * JSON-lines output.
 *
 *   pcmup-plot sweep FILE... -o OUT.svg   a metric against log2 lr, one
 *                                         panel per configuration, one
 *                                         curve per width
 *   pcmup-plot coord FILE... -o OUT.svg   the coordinate check: a layer's
 *                                         change against width, one curve
 *                                         per layer (--metric cos_bp: the
 *                                         alignment rows the same way)
 *   pcmup-plot training FILE... -o OUT.svg
 *                                         Delta h across training
 *                                         (pcmup-coord --training): a
 *                                         layer's change against the step,
 *                                         one panel per layer, one curve
 *                                         per width
 *
 * Rows become samples (panel, series key, x, y or "no value"); samples
 * make a figure (panels of series of points); the figure is drawn with
 * svg.c. Exit status: 0 success, 1 runtime failure (unreadable input,
 * nothing to plot), 2 usage error.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"
#include "pcmup.h"
#include "svg.h"

#define PROG "pcmup-plot"
#define MAX_FILTERS 32
#define MAX_COLUMNS 64
/* A metric beyond this is a blown-up run, not a value to scale an axis
 * to: it is drawn as diverged. */
#define MAX_PLOTTED 1e100
/* Coordinate check series keys: hidden layer l is key l, the output
 * layer sorts after every hidden one. */
#define OUTPUT_KEY 1e9

/* Layout, in pixels. A cell holds one panel: its plotting box plus room
 * for the title above and tick labels and axis labels below and left. */
#define CELL_W 330.0
#define CELL_H 260.0
#define BOX_LEFT 66.0
#define BOX_TOP 34.0
#define BOX_W 246.0
#define BOX_H 170.0
#define LEGEND_W 140.0
#define LEGEND_ROW 20.0
#define TITLE_BAND 34.0

static const char usage_text[] =
    "Usage: pcmup-plot sweep [options] FILE... -o OUT.svg\n"
    "       pcmup-plot coord [options] FILE... -o OUT.svg\n"
    "       pcmup-plot training [options] FILE... -o OUT.svg\n"
    "\n"
    "Draws an SVG figure from the JSON-lines files of pcmup-sweep (sweep) or\n"
    "pcmup-coord (coord, training). Rows of all FILEs are read together.\n"
    "\n"
    "sweep: one panel per configuration (rows grouped by \"label\", else\n"
    "\"config\", else \"algo param\"), the metric against log2 of the learning\n"
    "rate, one curve per width. Diverged runs (\"diverged\": true, or no\n"
    "metric) are drawn as 'x' on the bottom edge; each curve's best point\n"
    "(highest for a key containing \"acc\", lowest otherwise) as a large dot.\n"
    "  --metric KEY     y: test_acc (default), train_loss, test_loss, or any\n"
    "                   numeric key\n"
    "  --x KEY          x: log2 of this positive key (default lr), e.g. gamma_out\n"
    "                   (with --filter lr=V when the file sweeps lr too)\n"
    "Rows repeating a (panel, width, x) replace the earlier ones.\n"
    "\n"
    "coord: one panel per configuration and step, mean |h_l(t) - h_l(0)|\n"
    "(\"dh\", log10 axis) against width (log2 axis), one curve per layer.\n"
    "Diverged runs (\"dh\": null) are drawn as 'x' on the top edge; a change of\n"
    "exactly 0 (step 0) has no place on the log axis and is left out.\n"
    "  --metric KEY     y: dh (default) or h_abs on a log10 axis; any other\n"
    "                   numeric key on a linear axis, e.g. cos_bp of\n"
    "                   pcmup-coord --alignment rows (which have no step)\n"
    "  --step K         the panels of step K (default: each configuration's\n"
    "                   largest step)\n"
    "  --all-steps      one panel per step\n"
    "Rows of pcmup-coord --training (\"mode\": \"training\") draw the same way:\n"
    "their change at a step of a real training run against width.\n"
    "\n"
    "training: Delta h across training, the rows of pcmup-coord --training (or\n"
    "any rows with a step): one panel per configuration and layer, \"dh\" (log10\n"
    "axis) against the step (log10 axis), one curve per width. Step 0 (no\n"
    "change yet) has no place on the log axes and is left out; diverged runs\n"
    "(\"dh\": null) are drawn as 'x' on the top edge.\n"
    "  --metric KEY     y: dh (default) or h_abs on a log10 axis; any other\n"
    "                   numeric key on a linear axis\n"
    "\n"
    "Every mode:\n"
    "  -o FILE          the SVG to write; - for standard output (required)\n"
    "  --filter K=V     keep rows whose K is the string or number V (repeatable;\n"
    "                   every filter must hold)\n"
    "  --columns N      panels per row (default: up to 3)\n"
    "  --title TEXT     a title above the panels\n"
    "  -h, --help       this text\n"
    "  --version        the program's and the library's version\n"
    "\n"
    "Exit status: 0 success, 1 nothing to plot or an unreadable file, 2 usage\n"
    "error.\n";

typedef enum { MODE_SWEEP, MODE_COORD, MODE_TRAINING } plot_mode;

typedef struct {
    char *key;
    const char *value;
} filter;

typedef struct {
    plot_mode mode;
    const char **files; /* into argv */
    size_t n_files;
    const char *out_path;
    const char *title;
    const char *metric; /* NULL until set */
    const char *x_key;  /* sweep; NULL until set */
    long columns;       /* 0: the default */
    double step;        /* coord, with has_step */
    int has_step;
    int all_steps;
    filter filters[MAX_FILTERS];
    size_t n_filters;
} options;

static void options_free(options *o)
{
    free(o->files);
    for (size_t i = 0; i < o->n_filters; i++)
        free(o->filters[i].key);
}

/* ---- messages ---------------------------------------------------------------- */

/* One line on stderr; returns the exit status for the caller to pass on. */
static int report(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs(PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return status;
}

static char *copy_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *c = malloc(n);
    if (c)
        memcpy(c, s, n);
    return c;
}

/* ---- command line ------------------------------------------------------------ */

enum { PARSED, PARSED_HELP, PARSE_FAILED = 2, PARSED_VERSION = 3 };

static int parse_count(const char *flag, const char *s, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno != 0 || v < 1 || v > max)
        return report(PARSE_FAILED, "%s: '%s' is not a whole number in [1, %ld]", flag, s,
                      max);
    *out = v;
    return PARSED;
}

static int parse_step(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !isfinite(v) || v < 0.0)
        return report(PARSE_FAILED, "--step: '%s' is not a step number (0 or more)", s);
    *out = v;
    return PARSED;
}

static int parse_filter(options *o, const char *s)
{
    const char *eq = strchr(s, '=');
    if (!eq || eq == s)
        return report(PARSE_FAILED, "--filter: '%s' is not KEY=VALUE", s);
    if (o->n_filters == MAX_FILTERS)
        return report(PARSE_FAILED, "--filter: at most %d filters", MAX_FILTERS);
    char *key = malloc((size_t)(eq - s) + 1);
    if (!key)
        return report(PARSE_FAILED, "out of memory");
    memcpy(key, s, (size_t)(eq - s));
    key[eq - s] = '\0';
    o->filters[o->n_filters].key = key;
    o->filters[o->n_filters].value = eq + 1;
    o->n_filters++;
    return PARSED;
}

static int is_flag(const char *arg, const char *name)
{
    return strcmp(arg, name) == 0;
}

/* The value after flag argv[*i], advancing *i; NULL (reported) if none. */
static const char *flag_value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        report(PARSE_FAILED, "%s needs a value", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

/* One option at argv[*i] (which starts with '-'), consuming its value. */
static int parse_option(options *o, int argc, char **argv, int *i)
{
    const char *arg = argv[*i];
    if (is_flag(arg, "-h") || is_flag(arg, "--help"))
        return PARSED_HELP;
    if (is_flag(arg, "--all-steps")) {
        o->all_steps = 1;
        return PARSED;
    }
    if (!is_flag(arg, "-o") && !is_flag(arg, "--title") && !is_flag(arg, "--filter") &&
        !is_flag(arg, "--columns") && !is_flag(arg, "--metric") && !is_flag(arg, "--x") &&
        !is_flag(arg, "--step"))
        return report(PARSE_FAILED, "unknown option '%s' (see --help)", arg);
    const char *v = flag_value(argc, argv, i);
    if (!v)
        return PARSE_FAILED;
    if (is_flag(arg, "-o"))
        o->out_path = v;
    else if (is_flag(arg, "--title"))
        o->title = v;
    else if (is_flag(arg, "--filter"))
        return parse_filter(o, v);
    else if (is_flag(arg, "--columns"))
        return parse_count(arg, v, MAX_COLUMNS, &o->columns);
    else if (is_flag(arg, "--step")) {
        o->has_step = 1;
        return parse_step(v, &o->step);
    } else if (*v == '\0')
        return report(PARSE_FAILED, "%s needs a key name", arg);
    else if (is_flag(arg, "--metric"))
        o->metric = v;
    else
        o->x_key = v;
    return PARSED;
}

/* Options that make no sense together or in this mode. */
static int check_options(const options *o)
{
    if (o->n_files == 0)
        return report(PARSE_FAILED, "no input FILE (see --help)");
    if (!o->out_path)
        return report(PARSE_FAILED, "no output: -o OUT.svg (- for standard output)");
    if (o->mode != MODE_SWEEP && o->x_key)
        return report(PARSE_FAILED, "--x applies to sweep only");
    if (o->mode != MODE_COORD && (o->has_step || o->all_steps))
        return report(PARSE_FAILED, "%s applies to coord only",
                      o->has_step ? "--step" : "--all-steps");
    if (o->has_step && o->all_steps)
        return report(PARSE_FAILED, "--step and --all-steps contradict each other");
    return PARSED;
}

static int parse_args(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) /* --help wins wherever it is */
        if (is_flag(argv[i], "-h") || is_flag(argv[i], "--help"))
            return PARSED_HELP;
    for (int i = 1; i < argc; i++)
        if (is_flag(argv[i], "--version"))
            return PARSED_VERSION;
    if (argc < 2)
        return report(PARSE_FAILED, "no mode: sweep, coord or training (see --help)");
    if (is_flag(argv[1], "sweep"))
        o->mode = MODE_SWEEP;
    else if (is_flag(argv[1], "coord"))
        o->mode = MODE_COORD;
    else if (is_flag(argv[1], "training"))
        o->mode = MODE_TRAINING;
    else
        return report(PARSE_FAILED, "unknown mode '%s': sweep, coord or training", argv[1]);
    o->files = malloc((size_t)argc * sizeof *o->files);
    if (!o->files)
        return report(PARSE_FAILED, "out of memory");
    for (int i = 2; i < argc; i++) {
        int rc = PARSED;
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            rc = parse_option(o, argc, argv, &i);
        else
            o->files[o->n_files++] = argv[i];
        if (rc != PARSED)
            return rc;
    }
    if (!o->metric && o->mode == MODE_SWEEP)
        o->metric = "test_acc";
    int rc = check_options(o);
    if (!o->x_key && o->mode == MODE_SWEEP)
        o->x_key = "lr";
    return rc;
}

/* ---- input --------------------------------------------------------------------- */

/* Appends the rows of one file to *rows (taking them over). jsonl_read_file
 * treats a missing file as empty, which is right for resuming a sweep but
 * here would hide a typo, so the file is opened first. */
static int read_one(const char *path, jsonl_row **rows, size_t *n)
{
    FILE *probe = fopen(path, "r");
    if (!probe)
        return report(1, "%s: %s", path, strerror(errno));
    fclose(probe);

    jsonl_row *more;
    size_t n_more;
    char err[256];
    if (jsonl_read_file(path, &more, &n_more, err, sizeof err) != 0)
        return report(1, "%s", err);
    jsonl_row *grown = n_more ? realloc(*rows, (*n + n_more) * sizeof *grown) : *rows;
    if (n_more && !grown) {
        jsonl_rows_free(more, n_more);
        return report(1, "out of memory");
    }
    if (n_more)
        memcpy(grown + *n, more, n_more * sizeof *more);
    free(more); /* the array only: its rows now belong to *rows */
    *rows = grown;
    *n += n_more;
    return 0;
}

static int read_inputs(const options *o, jsonl_row **rows, size_t *n)
{
    *rows = NULL;
    *n = 0;
    for (size_t i = 0; i < o->n_files; i++)
        if (read_one(o->files[i], rows, n) != 0)
            return 1;
    return 0;
}

static int field_equals(const jsonl_field *f, const char *value)
{
    char *end;
    double v;
    switch (f->type) {
    case JSONL_STRING: return strcmp(f->string, value) == 0;
    case JSONL_NUMBER:
        v = strtod(value, &end);
        return end != value && *end == '\0' && v == f->number;
    case JSONL_BOOL: return strcmp(value, f->number != 0.0 ? "true" : "false") == 0;
    case JSONL_NULL: return strcmp(value, "null") == 0;
    }
    return 0;
}

static int row_kept(const options *o, const jsonl_row *row)
{
    for (size_t i = 0; i < o->n_filters; i++) {
        const jsonl_field *f = jsonl_get(row, o->filters[i].key);
        if (!f || !field_equals(f, o->filters[i].value))
            return 0;
    }
    return 1;
}

/* The configuration a row belongs to: its label, else its config, else
 * "algo param" (written into buf). */
static const char *row_group(const jsonl_row *row, char *buf, size_t size)
{
    const char *label = jsonl_string(row, "label", "");
    if (*label)
        return label;
    const char *config = jsonl_string(row, "config", "");
    if (*config)
        return config;
    snprintf(buf, size, "%s %s", jsonl_string(row, "algo", "?"), jsonl_string(row, "param", "?"));
    return buf;
}

/* ---- the figure -------------------------------------------------------------- */

typedef struct {
    double x, y;
    int ok; /* 0: the run has no value here (diverged) */
} point;

typedef struct {
    double key;  /* legend identity: the width, or the layer's key */
    double attr; /* the number in data-width / data-layer */
    point *points;
    size_t n, cap;
} series;

typedef struct {
    char *title;
    series *series;
    size_t n, cap;
} panel;

typedef struct {
    panel *panels;
    size_t n, cap;
    double *keys; /* every series key, ascending: the legend */
    size_t n_keys;
} figure;

/* What one row contributes. */
typedef struct {
    const char *panel;
    double key, attr;
    point p;
} sample;

/* Room for one more element in *items; -1 when out of memory. */
static int reserve(void **items, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t cap2 = *cap ? 2 * *cap : 8;
    void *grown = realloc(*items, cap2 * size);
    if (!grown)
        return -1;
    *items = grown;
    *cap = cap2;
    return 0;
}

static panel *find_panel(figure *fig, const char *title)
{
    for (size_t i = 0; i < fig->n; i++)
        if (strcmp(fig->panels[i].title, title) == 0)
            return &fig->panels[i];
    if (reserve((void **)&fig->panels, &fig->cap, fig->n, sizeof *fig->panels) != 0)
        return NULL;
    panel *p = &fig->panels[fig->n];
    memset(p, 0, sizeof *p);
    if (!(p->title = copy_string(title)))
        return NULL;
    fig->n++;
    return p;
}

static series *find_series(panel *p, double key, double attr)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->series[i].key == key)
            return &p->series[i];
    if (reserve((void **)&p->series, &p->cap, p->n, sizeof *p->series) != 0)
        return NULL;
    series *s = &p->series[p->n++];
    memset(s, 0, sizeof *s);
    s->key = key;
    s->attr = attr;
    return s;
}

/* A repeated x (a resumed or re-run sweep) replaces the earlier point:
 * the last row is the newest. */
static int put_point(series *s, point pt)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->points[i].x == pt.x) {
            s->points[i] = pt;
            return 0;
        }
    }
    if (reserve((void **)&s->points, &s->cap, s->n, sizeof *s->points) != 0)
        return -1;
    s->points[s->n++] = pt;
    return 0;
}

static int figure_add(figure *fig, const sample *smp)
{
    panel *p = find_panel(fig, smp->panel);
    series *s = p ? find_series(p, smp->key, smp->attr) : NULL;
    return s ? put_point(s, smp->p) : -1;
}

static int by_x(const void *a, const void *b)
{
    double xa = ((const point *)a)->x, xb = ((const point *)b)->x;
    return (xa > xb) - (xa < xb);
}

static int by_value(const void *a, const void *b)
{
    double va = *(const double *)a, vb = *(const double *)b;
    return (va > vb) - (va < vb);
}

static int has_key(const figure *fig, double key)
{
    for (size_t i = 0; i < fig->n_keys; i++)
        if (fig->keys[i] == key)
            return 1;
    return 0;
}

/* Sorts every curve by x and collects the legend's keys. */
static int figure_finish(figure *fig)
{
    size_t total = 0;
    for (size_t i = 0; i < fig->n; i++)
        total += fig->panels[i].n;
    fig->keys = malloc((total ? total : 1) * sizeof *fig->keys);
    if (!fig->keys)
        return -1;
    for (size_t i = 0; i < fig->n; i++) {
        panel *p = &fig->panels[i];
        for (size_t j = 0; j < p->n; j++) {
            qsort(p->series[j].points, p->series[j].n, sizeof(point), by_x);
            if (!has_key(fig, p->series[j].key))
                fig->keys[fig->n_keys++] = p->series[j].key;
        }
    }
    qsort(fig->keys, fig->n_keys, sizeof *fig->keys, by_value);
    return 0;
}

static void figure_free(figure *fig)
{
    for (size_t i = 0; i < fig->n; i++) {
        panel *p = &fig->panels[i];
        for (size_t j = 0; j < p->n; j++)
            free(p->series[j].points);
        free(p->series);
        free(p->title);
    }
    free(fig->panels);
    free(fig->keys);
}

/* ---- rows to samples ------------------------------------------------------------ */

static int row_diverged(const jsonl_row *row)
{
    const jsonl_field *f = jsonl_get(row, "diverged");
    return f && f->type == JSONL_BOOL && f->number != 0.0;
}

/* A sweep row as a sample; 0 when it cannot be placed (no positive width
 * or x). buf holds the panel name when it is built. */
static int sweep_sample(const options *o, const jsonl_row *row, char *buf, size_t size,
                        sample *smp)
{
    double width = jsonl_number(row, "width", NAN);
    double x = jsonl_number(row, o->x_key, NAN);
    if (!(width > 0.0) || !(x > 0.0))
        return 0;
    double y = jsonl_number(row, o->metric, NAN);
    smp->panel = row_group(row, buf, size);
    smp->key = smp->attr = width;
    smp->p.x = log2(x);
    smp->p.ok = !row_diverged(row) && isfinite(y) && fabs(y) <= MAX_PLOTTED;
    smp->p.y = smp->p.ok ? y : 0.0;
    return 1;
}

/* The per-layer key coord mode draws, and whether it goes on a log axis
 * (the feature changes and sizes do; cosines and ratios do not). */
static const char *coord_metric(const options *o)
{
    return o->metric ? o->metric : "dh";
}

static int coord_metric_is_log(const options *o)
{
    return strcmp(coord_metric(o), "dh") == 0 || strcmp(coord_metric(o), "h_abs") == 0;
}

/* A per-layer row's y (its metric) into smp->p, and its width and layer;
 * 0 when the row cannot be placed. A value of exactly 0 (dh at step 0)
 * has no place on a log axis. */
static int layer_value(const options *o, const jsonl_row *row, double *width, double *layer,
                       sample *smp)
{
    const jsonl_field *v = jsonl_get(row, coord_metric(o));
    const int log_axis = coord_metric_is_log(o);
    *width = jsonl_number(row, "width", NAN);
    *layer = jsonl_number(row, "layer", NAN);
    if (!(*width > 0.0) || !(*layer >= 1.0) || *layer != floor(*layer) || !v)
        return 0;
    if (log_axis && v->type == JSONL_NUMBER && !(v->number > 0.0))
        return 0;
    smp->p.ok = v->type == JSONL_NUMBER && !row_diverged(row) && fabs(v->number) <= MAX_PLOTTED;
    smp->p.y = !smp->p.ok ? 0.0 : log_axis ? log10(v->number) : v->number;
    return 1;
}

static int is_output_row(const jsonl_row *row)
{
    return strcmp(jsonl_string(row, "signal", "h"), "f") == 0;
}

/* A per-layer row as a sample against width, one curve per layer (panel
 * named later, with its step); 0 when it cannot be placed. */
static int coord_sample(const options *o, const jsonl_row *row, sample *smp)
{
    double width, layer;
    if (!layer_value(o, row, &width, &layer, smp))
        return 0;
    smp->key = is_output_row(row) ? OUTPUT_KEY : layer;
    smp->attr = layer;
    smp->p.x = log2(width);
    return 1;
}

/* A per-layer row as a sample against its step, one curve per width, in
 * the panel of its layer and configuration (named into title); 0 when it
 * cannot be placed (no positive step). */
static int training_sample(const options *o, const jsonl_row *row, char *title, size_t size,
                           sample *smp)
{
    char buf[256];
    double width, layer, step = jsonl_number(row, "step", NAN);
    if (!(step > 0.0) || !isfinite(step) || !layer_value(o, row, &width, &layer, smp))
        return 0;
    /* The layer first: a long configuration is cut at the panel's edge. */
    if (is_output_row(row))
        snprintf(title, size, "f: %s", row_group(row, buf, sizeof buf));
    else
        snprintf(title, size, "h_%.0f: %s", layer, row_group(row, buf, sizeof buf));
    smp->panel = title;
    smp->key = smp->attr = width;
    smp->p.x = log10(step);
    return 1;
}

static int build_sweep(const options *o, const jsonl_row *rows, size_t n, figure *fig)
{
    char buf[256];
    sample smp;
    int has_metric = 0;
    for (size_t i = 0; i < n; i++) {
        if (!row_kept(o, &rows[i]))
            continue;
        has_metric |= jsonl_get(&rows[i], o->metric) != NULL;
        if (sweep_sample(o, &rows[i], buf, sizeof buf, &smp) && figure_add(fig, &smp) != 0)
            return report(1, "out of memory");
    }
    if (fig->n > 0 && !has_metric)
        return report(1, "no row has the metric \"%s\"", o->metric);
    return 0;
}

/* Each configuration's largest step, for the default coord panels. */
typedef struct {
    const char *group;
    double step;
} group_step;

static double largest_step(const group_step *gs, size_t n, const char *group)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(gs[i].group, group) == 0)
            return gs[i].step;
    return NAN;
}

/* Records a step of a group. The group name is copied: the "algo param"
 * fallback lives in a buffer that the next row reuses. */
static int note_step(group_step **gs, size_t *n, size_t *cap, const char *group, double step)
{
    for (size_t i = 0; i < *n; i++) {
        if (strcmp((*gs)[i].group, group) == 0) {
            (*gs)[i].step = fmax((*gs)[i].step, step);
            return 0;
        }
    }
    if (reserve((void **)gs, cap, *n, sizeof **gs) != 0)
        return -1;
    char *copy = copy_string(group);
    if (!copy)
        return -1;
    (*gs)[(*n)++] = (group_step){copy, step};
    return 0;
}

static void free_steps(group_step *gs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free((char *)gs[i].group);
    free(gs);
}

/* Rows without a step (alignment rows) are one panel per configuration. */
static int coord_row_usable(const options *o, const jsonl_row *row, sample *smp)
{
    return row_kept(o, row) &&
           (!jsonl_get(row, "step") || isfinite(jsonl_number(row, "step", NAN))) &&
           coord_sample(o, row, smp);
}

/* Whether a row's step is one the options ask to draw. */
static int step_wanted(const options *o, double step, double largest)
{
    if (o->all_steps)
        return 1;
    return step == (o->has_step ? o->step : largest);
}

static int build_coord(const options *o, const jsonl_row *rows, size_t n, figure *fig)
{
    char buf[256], title[512];
    group_step *gs = NULL;
    size_t n_gs = 0, cap_gs = 0;
    sample smp;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        if (coord_row_usable(o, &rows[i], &smp) && jsonl_get(&rows[i], "step") &&
            note_step(&gs, &n_gs, &cap_gs, row_group(&rows[i], buf, sizeof buf),
                      jsonl_number(&rows[i], "step", 0.0)) != 0)
            rc = report(1, "out of memory");
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (!coord_row_usable(o, &rows[i], &smp))
            continue;
        const char *group = row_group(&rows[i], buf, sizeof buf);
        double step = jsonl_number(&rows[i], "step", NAN);
        if (isnan(step))
            snprintf(title, sizeof title, "%s", group);
        else if (!step_wanted(o, step, largest_step(gs, n_gs, group)))
            continue;
        else
            snprintf(title, sizeof title, "%s, step %.15g", group, step);
        smp.panel = title;
        if (figure_add(fig, &smp) != 0)
            rc = report(1, "out of memory");
    }
    free_steps(gs, n_gs);
    return rc;
}

static int build_training(const options *o, const jsonl_row *rows, size_t n, figure *fig)
{
    char title[512];
    sample smp;
    for (size_t i = 0; i < n; i++)
        if (row_kept(o, &rows[i]) && training_sample(o, &rows[i], title, sizeof title, &smp) &&
            figure_add(fig, &smp) != 0)
            return report(1, "out of memory");
    return 0;
}

/* ---- drawing ---------------------------------------------------------------------- */

/* How the figures differ. */
typedef struct {
    svg_scale x_scale, y_scale;
    const char *x_label, *y_label;
    const char *attr; /* "data-width" or "data-layer" */
    const char *layer_format; /* legend of a hidden layer: "h_%.0f" or "W_%.0f" */
    int diverged_on_top;
    int best; /* mark each curve's +1 largest, -1 smallest, 0 no point */
} figure_style;

static void key_color(const figure *fig, double key, char color[8])
{
    size_t i = 0;
    while (i + 1 < fig->n_keys && fig->keys[i] != key)
        i++;
    svg_palette(fig->n_keys > 1 ? (double)i / (double)(fig->n_keys - 1) : 0.0, color);
}

/* The panel's data ranges: x over every point, y over points with a value. */
static void fit_panel(svg_panel *box, const panel *p)
{
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    for (size_t i = 0; i < p->n; i++) {
        for (size_t j = 0; j < p->series[i].n; j++) {
            const point *pt = &p->series[i].points[j];
            xlo = fmin(xlo, pt->x);
            xhi = fmax(xhi, pt->x);
            if (pt->ok) {
                ylo = fmin(ylo, pt->y);
                yhi = fmax(yhi, pt->y);
            }
        }
    }
    svg_axis_fit(&box->x, xlo, xhi);
    svg_axis_fit(&box->y, ylo, yhi);
}

/* The index of the curve's best point, or s->n if it has no value. */
static size_t best_point(const series *s, int best)
{
    size_t found = s->n;
    for (size_t i = 0; i < s->n; i++) {
        const point *pt = &s->points[i];
        if (pt->ok && (found == s->n || best * (pt->y - s->points[found].y) > 0.0))
            found = i;
    }
    return found;
}

/* The curve through points with a value, broken where a run diverged. */
static void draw_curve(FILE *out, const svg_panel *box, const series *s, const char *color,
                       const char *attrs)
{
    svg_path path;
    svg_path_begin(&path, out, color, attrs);
    for (size_t i = 0; i < s->n; i++) {
        if (s->points[i].ok)
            svg_path_point(&path, svg_px(box, s->points[i].x), svg_py(box, s->points[i].y));
        else
            svg_path_gap(&path);
    }
    svg_path_end(&path);
}

static void draw_series(FILE *out, const svg_panel *box, const figure *fig,
                        const figure_style *st, size_t panel_index, const series *s)
{
    char color[8], attrs[128];
    key_color(fig, s->key, color);
    snprintf(attrs, sizeof attrs, "%s=\"%.15g\" data-panel=\"%zu\"", st->attr, s->attr,
             panel_index);
    size_t best = st->best ? best_point(s, st->best) : s->n;
    if (best_point(s, 1) < s->n) /* a curve needs one point with a value */
        draw_curve(out, box, s, color, attrs);
    double edge = st->diverged_on_top ? box->top + 5.0 : box->top + box->height - 5.0;
    for (size_t i = 0; i < s->n; i++) {
        const point *pt = &s->points[i];
        double px = svg_px(box, pt->x);
        if (!pt->ok)
            svg_cross(out, px, edge, 3.5, color, "diverged", attrs);
        else if (i == best)
            svg_circle(out, px, svg_py(box, pt->y), 4.5, color, 1, "best", attrs);
        else
            svg_circle(out, px, svg_py(box, pt->y), 2.0, color, 0, "point", attrs);
    }
}

static void draw_panel(FILE *out, const figure *fig, const figure_style *st, size_t index,
                       double left, double top)
{
    const panel *p = &fig->panels[index];
    svg_panel box = {left + BOX_LEFT, top + BOX_TOP, BOX_W, BOX_H,
                     {0, 1, st->x_scale, st->x_label}, {0, 1, st->y_scale, st->y_label}};
    fit_panel(&box, p);
    fprintf(out, "<g class=\"panel\" data-panel=\"%zu\">\n", index);
    svg_panel_draw(out, &box, p->title);
    for (size_t i = 0; i < p->n; i++)
        draw_series(out, &box, fig, st, index, &p->series[i]);
    fputs("</g>\n", out);
}

static void legend_text(const figure_style *st, double key, char *buf, size_t size)
{
    if (strcmp(st->attr, "data-width") == 0)
        snprintf(buf, size, "width %.15g", key);
    else if (key == OUTPUT_KEY)
        snprintf(buf, size, "f");
    else
        snprintf(buf, size, st->layer_format, key);
}

static void draw_legend(FILE *out, const figure *fig, const figure_style *st, double left,
                        double top)
{
    char color[8], text[64];
    fputs("<g class=\"legend\">\n", out);
    for (size_t i = 0; i < fig->n_keys; i++) {
        key_color(fig, fig->keys[i], color);
        legend_text(st, fig->keys[i], text, sizeof text);
        svg_legend_entry(out, left, top + (double)i * LEGEND_ROW, color, text);
    }
    fputs("</g>\n", out);
}

static void render(FILE *out, const figure *fig, const figure_style *st, const options *o)
{
    size_t columns = o->columns > 0 ? (size_t)o->columns : 3;
    if (columns > fig->n)
        columns = fig->n;
    size_t rows = (fig->n + columns - 1) / columns;
    double band = o->title ? TITLE_BAND : 0.0;
    double grid_w = (double)columns * CELL_W;
    double legend_h = 2.0 * BOX_TOP + (double)fig->n_keys * LEGEND_ROW;
    double height = band + fmax((double)rows * CELL_H, legend_h);

    svg_begin(out, grid_w + LEGEND_W, height);
    if (o->title)
        svg_text(out, 0.5 * (grid_w + LEGEND_W), 24.0, 15, "middle", "bold", o->title);
    for (size_t i = 0; i < fig->n; i++)
        draw_panel(out, fig, st, i, (double)(i % columns) * CELL_W,
                   band + (double)(i / columns) * CELL_H);
    draw_legend(out, fig, st, grid_w + 4.0, band + BOX_TOP + 12.0);
    svg_end(out);
}

static figure_style style_for(const options *o, char *y_label, char *x_label, size_t size)
{
    if (o->mode == MODE_TRAINING) {
        snprintf(y_label, size, "%s", o->metric ? o->metric : "mean |h(t) - h(0)|");
        return (figure_style){SVG_LOG10, coord_metric_is_log(o) ? SVG_LOG10 : SVG_LINEAR,
                              "step", y_label, "data-width", NULL, 1, 0};
    }
    if (o->mode == MODE_COORD && !o->metric)
        return (figure_style){SVG_POW2, SVG_LOG10, "width", "mean |h(t) - h(0)|",
                              "data-layer", "h_%.0f", 1, 0};
    if (o->mode == MODE_COORD) {
        snprintf(y_label, size, "%s", coord_metric(o));
        return (figure_style){SVG_POW2, coord_metric_is_log(o) ? SVG_LOG10 : SVG_LINEAR,
                              "width", y_label, "data-layer",
                              strcmp(o->metric, "h_abs") == 0 ? "h_%.0f" : "W_%.0f", 1, 0};
    }
    snprintf(x_label, size, "log2 %s", o->x_key);
    snprintf(y_label, size, "%s", o->metric);
    return (figure_style){SVG_LOG2, SVG_LINEAR, x_label, y_label, "data-width", NULL, 0,
                          strstr(o->metric, "acc") ? 1 : -1};
}

/* ---- main ---------------------------------------------------------------------------- */

static int write_figure(const options *o, const figure *fig)
{
    char y_label[128], x_label[128];
    figure_style st = style_for(o, y_label, x_label, sizeof y_label);
    int to_stdout = strcmp(o->out_path, "-") == 0;
    FILE *out = to_stdout ? stdout : fopen(o->out_path, "w");
    if (!out)
        return report(1, "%s: %s", o->out_path, strerror(errno));
    render(out, fig, &st, o);
    int failed = ferror(out);
    if ((to_stdout ? fflush(out) : fclose(out)) != 0)
        failed = 1;
    return failed ? report(1, "%s: write error", o->out_path) : 0;
}

/* Says what a row needs, for the run that found none. */
static int no_rows(const options *o)
{
    const char *which = o->n_filters ? " kept by --filter" : "";
    if (o->mode == MODE_SWEEP)
        return report(1, "no row%s has a positive \"width\" and \"%s\"", which, o->x_key);
    if (o->mode == MODE_TRAINING)
        return report(1, "no row%s has a positive \"width\" and \"step\", a \"layer\" and \"%s\"",
                      which, coord_metric(o));
    if (o->has_step)
        return report(1, "no row%s has step %.15g with a positive \"width\" and \"%s\"",
                      which, o->step, coord_metric(o));
    return report(1, "no row%s has a positive \"width\", a \"layer\" and \"%s\"", which,
                  coord_metric(o));
}

static int plot(const options *o)
{
    jsonl_row *rows;
    size_t n_rows;
    figure fig = {0};
    if (read_inputs(o, &rows, &n_rows) != 0)
        return 1;
    int rc = n_rows == 0 ? report(1, "no rows in the input") : 0;
    if (rc == 0)
        rc = o->mode == MODE_SWEEP      ? build_sweep(o, rows, n_rows, &fig)
             : o->mode == MODE_TRAINING ? build_training(o, rows, n_rows, &fig)
                                        : build_coord(o, rows, n_rows, &fig);
    if (rc == 0 && fig.n == 0)
        rc = no_rows(o);
    if (rc == 0 && figure_finish(&fig) != 0)
        rc = report(1, "out of memory");
    if (rc == 0)
        rc = write_figure(o, &fig);
    figure_free(&fig);
    jsonl_rows_free(rows, n_rows);
    return rc;
}

int main(int argc, char **argv)
{
    options o;
    int parsed = parse_args(argc, argv, &o), rc = parsed;
    if (parsed == PARSED_HELP) {
        fputs(usage_text, stdout);
        rc = 0;
    } else if (parsed == PARSED_VERSION) {
        printf("pcmup-plot (libpcmup %s)\n", pcmup_version_string());
        rc = 0;
    } else if (parsed == PARSED) {
        rc = plot(&o);
    }
    options_free(&o);
    return rc;
}
