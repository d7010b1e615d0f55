/* SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- running a suite ---------------------------------------------------- */

int tu_run_suite(Suite *suite)
{
    SRunner *runner = srunner_create(suite);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int tu_run_tests(const char *name, double timeout, void (*setup)(void), void (*teardown)(void),
                 const TTest *const *tests, size_t n)
{
    Suite *s = suite_create(name);
    TCase *tc = tcase_create(name);
    if (timeout > 0)
        tcase_set_timeout(tc, timeout);
    if (setup || teardown)
        tcase_add_checked_fixture(tc, setup, teardown);
    for (size_t i = 0; i < n; i++)
        tcase_add_test(tc, tests[i]);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}

int tu_have_fashion_mnist(void)
{
    if (access(PCMUP_FASHION_MNIST_DIR "/train-labels-idx1-ubyte.gz", R_OK) == 0 ||
        access(PCMUP_FASHION_MNIST_DIR "/train-labels-idx1-ubyte", R_OK) == 0)
        return 1;
    fprintf(stderr, "skipped: FashionMNIST is absent from %s (install dataset-fashion-mnist)\n",
            PCMUP_FASHION_MNIST_DIR);
    return 0;
}

/* ---- checking statuses -------------------------------------------------- */

void tu_check_failure(pcmup_status want, pcmup_status got, const char *fn, const char *call,
                      const char *file, int line)
{
    const char *msg = pcmup_last_error();
    ck_assert_msg(got == want, "%s:%d: %s -> %s, expected %s (%s)", file, line, call,
                  pcmup_status_name(got), pcmup_status_name(want), msg);
    if (!fn) {
        ck_assert_msg(msg[0] != '\0', "%s:%d: %s left no message", file, line, call);
        return;
    }
    size_t len = strlen(fn);
    ck_assert_msg(strncmp(msg, fn, len) == 0 && strncmp(msg + len, ": ", 2) == 0 &&
                      msg[len + 2] != '\0',
                  "%s:%d: %s: message \"%s\" does not name the function", file, line, call, msg);
}

void tu_prime_message(const char *fn)
{
    double lo, hi;
    if (strcmp(fn, "pcmup_param_bounds") != 0)
        (void)pcmup_param_bounds((pcmup_param_key)99, &lo, &hi);
    else
        (void)pcmup_set_blas_threads(0);
    ck_assert_msg(pcmup_last_error()[0] != '\0', "priming left no message");
}

/* ---- test data ---------------------------------------------------------- */

/* The next 24 random bits. */
static uint32_t rng_bits(tu_rng *rng)
{
    rng->state = rng->state * 1103515245u + 12345u;
    return rng->state >> 8;
}

double tu_rng_uniform(tu_rng *rng)
{
    return (rng_bits(rng) + 1.0) / 16777217.0;
}

double tu_rng_normal(tu_rng *rng)
{
    double u1 = tu_rng_uniform(rng), u2 = rng_bits(rng) / 16777216.0;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

float *tu_gaussian(size_t n, uint32_t seed)
{
    float *x = malloc(n * sizeof *x);
    tu_rng rng = {seed};
    for (size_t i = 0; i < n; i++)
        x[i] = (float)tu_rng_normal(&rng);
    return x;
}

void tu_fill_uniform(float *x, size_t n, uint32_t seed)
{
    tu_rng rng = {seed};
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(2.0 * tu_rng_uniform(&rng) - 1.0);
}

float *tu_uniform(size_t n, uint32_t seed)
{
    float *x = malloc(n * sizeof *x);
    tu_fill_uniform(x, n, seed);
    return x;
}

int32_t *tu_cyclic_labels(size_t n, size_t n_classes)
{
    int32_t *labels = malloc(n * sizeof *labels);
    for (size_t i = 0; i < n; i++)
        labels[i] = (int32_t)(i % n_classes);
    return labels;
}

void tu_check_head_of(const pcmup_dataset *head, const pcmup_dataset *whole, size_t n)
{
    size_t n_whole, dim, n_head, dim_head;
    TU_OK(pcmup_dataset_info(whole, &n_whole, &dim, NULL));
    TU_OK(pcmup_dataset_info(head, &n_head, &dim_head, NULL));
    ck_assert_uint_eq(n_head, n < n_whole ? n : n_whole);
    ck_assert_uint_eq(dim_head, dim);
    float *xh = malloc(n_head * dim * sizeof *xh), *xw = malloc(n_head * dim * sizeof *xw);
    int32_t *lh = malloc(n_head * sizeof *lh), *lw = malloc(n_head * sizeof *lw);
    ck_assert(xh && xw && lh && lw);
    TU_OK(pcmup_dataset_get_batch(head, 0, n_head, xh, n_head * dim, lh));
    TU_OK(pcmup_dataset_get_batch(whole, 0, n_head, xw, n_head * dim, lw));
    ck_assert_msg(memcmp(xh, xw, n_head * dim * sizeof *xh) == 0, "the floats differ");
    ck_assert_msg(memcmp(lh, lw, n_head * sizeof *lh) == 0, "the labels differ");
    free(xh);
    free(xw);
    free(lh);
    free(lw);
}

/* ---- the rig ------------------------------------------------------------ */

pcmup_param *tu_param(size_t n_layers, pcmup_preset preset, double gamma_bar)
{
    pcmup_param *p;
    TU_OK(pcmup_param_create(&p, n_layers, preset, NULL));
    TU_OK(pcmup_param_apply_preset(p, preset, gamma_bar, 1.0));
    return p;
}

tu_rig tu_rig_make(pcmup_rule rule, pcmup_param *param, const size_t *widths,
                   pcmup_activation act, uint64_t net_seed, int record_updates)
{
    tu_rig r;
    memset(&r, 0, sizeof r);
    r.param = param;
    r.act = act;
    TU_OK(pcmup_param_n_layers(param, &r.n_layers));
    ck_assert_uint_le(r.n_layers, TU_MAX_LAYERS);
    memcpy(r.widths, widths, (r.n_layers + 1) * sizeof *widths);
    TU_OK(pcmup_net_create(&r.net, widths, r.n_layers + 1, act, 0, param, net_seed, NULL));
    TU_OK(pcmup_algo_create(&r.algo, rule, r.net, 1, NULL));
    if (record_updates)
        TU_OK(pcmup_algo_set(r.algo, PCMUP_SET_RECORD_UPDATES, 1));
    return r;
}

void tu_rig_free(tu_rig *r)
{
    pcmup_algo_free(r->algo);
    pcmup_net_free(r->net);
    pcmup_param_free(r->param);
}

/* Reads layer l's array (weights, feedback or a recorded update). */
typedef pcmup_status (*layer_reader)(const void *obj, size_t layer, float *dst, size_t n);

static pcmup_status read_weights(const void *net, size_t l, float *dst, size_t n)
{
    return pcmup_net_get_weights(net, l, dst, n);
}

static pcmup_status read_feedback(const void *algo, size_t l, float *dst, size_t n)
{
    return pcmup_tp_get_feedback(algo, l, dst, n);
}

static pcmup_status read_update(const void *algo, size_t l, float *dst, size_t n)
{
    return pcmup_algo_last_update(algo, l, dst, n);
}

/* Layer l's array of net's shape, read from obj, malloc'd. */
static float *read_layer(layer_reader read, const void *obj, const pcmup_net *net, size_t l,
                         size_t *n)
{
    size_t dims[4], rank, count = 1;
    TU_OK(pcmup_net_weight_shape(net, l, dims, 4, &rank));
    for (size_t i = 0; i < rank; i++)
        count *= dims[i];
    float *v = malloc(count * sizeof *v);
    TU_OK(read(obj, l, v, count));
    if (n)
        *n = count;
    return v;
}

/* A double copy of v[0..n); frees v. */
static double *to_f64(float *v, size_t n)
{
    double *d = malloc(n * sizeof *d);
    for (size_t i = 0; i < n; i++)
        d[i] = v[i];
    free(v);
    return d;
}

float *tu_layer_weights(const pcmup_net *net, size_t l, size_t *n)
{
    return read_layer(read_weights, net, net, l, n);
}

double *tu_layer_weights_f64(const pcmup_net *net, size_t l)
{
    size_t n;
    float *v = tu_layer_weights(net, l, &n);
    return to_f64(v, n);
}

float *tu_layer_update(const tu_rig *r, size_t l, size_t *n)
{
    return read_layer(read_update, r->algo, r->net, l, n);
}

double *tu_layer_update_f64(const tu_rig *r, size_t l)
{
    size_t n;
    float *v = tu_layer_update(r, l, &n);
    return to_f64(v, n);
}

double tu_net_factor(const pcmup_net *net, size_t layer, pcmup_factor factor)
{
    double f[PCMUP_FACTOR_COUNT];
    TU_OK(pcmup_net_layer_factors(net, layer, f, PCMUP_FACTOR_COUNT));
    return f[factor];
}

double tu_cosine(const float *a, const float *b, size_t n, double *ratio)
{
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < n; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    if (ratio)
        *ratio = sqrt(aa / bb);
    return ab / sqrt(aa * bb);
}

double tu_rel_err(const double *a, const double *b, size_t n)
{
    double diff = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        diff = fmax(diff, fabs(a[i] - b[i]));
        scale = fmax(scale, fabs(b[i]));
    }
    return scale > 0 ? diff / scale : diff;
}

/* ---- counting allocator ------------------------------------------------ */

static int should_fail(tu_counter *c)
{
    if (c->fail_after == 0)
        return 0;
    return --c->fail_after == 0;
}

static void *count_malloc(void *user, size_t size)
{
    tu_counter *c = user;
    c->n_malloc++;
    if (should_fail(c))
        return NULL;
    void *p = malloc(size);
    if (p)
        c->live++;
    return p;
}

static void *count_realloc(void *user, void *ptr, size_t size)
{
    tu_counter *c = user;
    c->n_realloc++;
    if (should_fail(c))
        return NULL;
    void *p = realloc(ptr, size);
    if (p && !ptr)
        c->live++;
    return p;
}

static void count_free(void *user, void *ptr)
{
    tu_counter *c = user;
    c->n_free++;
    if (ptr)
        c->live--;
    free(ptr);
}

pcmup_allocator tu_counting_allocator(tu_counter *counter)
{
    memset(counter, 0, sizeof *counter);
    pcmup_allocator a = PCMUP_ALLOCATOR_INIT(count_malloc, count_realloc, count_free, counter);
    return a;
}

/* ---- reference vectors ------------------------------------------------- */

const char *tu_data_path(const char *relative)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", PCMUP_TEST_DATA_DIR, relative);
    return path;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
        *--end = '\0';
    return s;
}

tu_case *tu_case_load(const char *name)
{
    char rel[256];
    snprintf(rel, sizeof rel, "vectors/%s/case.txt", name);
    FILE *f = fopen(tu_data_path(rel), "r");
    ck_assert_msg(f != NULL, "cannot open %s", tu_data_path(rel));
    tu_case *c = calloc(1, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = '\0';
        c->keys = realloc(c->keys, (c->n_keys + 1) * sizeof *c->keys);
        c->values = realloc(c->values, (c->n_keys + 1) * sizeof *c->values);
        c->keys[c->n_keys] = strdup(trim(line));
        c->values[c->n_keys] = strdup(trim(eq + 1));
        c->n_keys++;
    }
    fclose(f);
    return c;
}

void tu_case_free(tu_case *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_keys; i++) {
        free(c->keys[i]);
        free(c->values[i]);
    }
    free(c->keys);
    free(c->values);
    free(c);
}

int tu_case_has(const tu_case *c, const char *key)
{
    for (size_t i = 0; i < c->n_keys; i++)
        if (strcmp(c->keys[i], key) == 0)
            return 1;
    return 0;
}

const char *tu_case_str(const tu_case *c, const char *key)
{
    for (size_t i = 0; i < c->n_keys; i++)
        if (strcmp(c->keys[i], key) == 0)
            return c->values[i];
    ck_abort_msg("case %s has no key %s", c->name, key);
    return NULL;
}

double tu_case_num(const tu_case *c, const char *key)
{
    return strtod(tu_case_str(c, key), NULL);
}

double tu_case_list(const tu_case *c, const char *key, size_t i)
{
    const char *s = tu_case_str(c, key);
    char *end;
    double v = 0;
    for (size_t k = 0; k <= i; k++) {
        v = strtod(s, &end);
        ck_assert_msg(end != s, "case %s: %s has fewer than %zu numbers", c->name, key, i + 1);
        s = end;
    }
    return v;
}

static void *read_raw(const tu_case *c, const char *file, size_t elem, size_t *n)
{
    char rel[256];
    snprintf(rel, sizeof rel, "vectors/%s/%s", c->name, file);
    FILE *f = fopen(tu_data_path(rel), "rb");
    ck_assert_msg(f != NULL, "cannot open %s", tu_data_path(rel));
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = malloc((size_t)bytes + 1);
    size_t got = fread(buf, 1, (size_t)bytes, f);
    fclose(f);
    ck_assert_msg(got == (size_t)bytes && bytes % (long)elem == 0, "bad file %s", file);
    *n = (size_t)bytes / elem;
    return buf;
}

double *tu_case_f64(const tu_case *c, const char *file, size_t *n)
{
    char name[128];
    snprintf(name, sizeof name, "%s.f64", file);
    /* The files are little-endian; so is every machine we build on. */
    return read_raw(c, name, sizeof(double), n);
}

float *tu_case_f32(const tu_case *c, const char *file, size_t *n)
{
    double *d = tu_case_f64(c, file, n);
    float *f = malloc(*n * sizeof *f);
    for (size_t i = 0; i < *n; i++)
        f[i] = (float)d[i];
    free(d);
    return f;
}

int32_t *tu_case_i32(const tu_case *c, const char *file, size_t *n)
{
    char name[128];
    snprintf(name, sizeof name, "%s.i32", file);
    return read_raw(c, name, sizeof(int32_t), n);
}

/* ---- building a reference case's network ------------------------------- */

pcmup_activation tu_case_activation(const tu_case *c)
{
    const char *name = tu_case_str(c, "activation");
    if (strcmp(name, "tanh") == 0)
        return PCMUP_ACT_TANH;
    if (strcmp(name, "relu") == 0)
        return PCMUP_ACT_RELU;
    ck_assert_str_eq(name, "identity");
    return PCMUP_ACT_IDENTITY;
}

pcmup_net *tu_case_net(const tu_case *c)
{
    size_t n_layers = (size_t)tu_case_num(c, "L");
    size_t widths[16];
    for (size_t i = 0; i <= n_layers; i++)
        widths[i] = (size_t)tu_case_list(c, "widths", i);
    pcmup_param *p;
    TU_OK(pcmup_param_create(&p, n_layers, PCMUP_PRESET_SP, NULL));
    TU_OK(pcmup_param_set(p, PCMUP_PARAM_BASE_WIDTH, tu_case_num(c, "M_base")));
    /* PC cases: gamma_L = gamma'_L r^-gammabar_L when width scaling is on;
     * b and c are the case's own, set below. */
    if (tu_case_has(c, "gammabar_L") && tu_case_num(c, "gamma_L_width_scaling") != 0)
        TU_OK(pcmup_param_apply_preset(p, PCMUP_PRESET_SP, tu_case_num(c, "gammabar_L"), 1.0));
    for (size_t l = 1; l <= n_layers; l++) {
        TU_OK(pcmup_param_set_layer(p, l, PCMUP_LAYER_B, tu_case_list(c, "b", l - 1)));
        TU_OK(pcmup_param_set_layer(p, l, PCMUP_LAYER_C, tu_case_list(c, "c", l - 1)));
    }
    pcmup_net *net;
    if (tu_case_has(c, "net") && strcmp(tu_case_str(c, "net"), "cnn") == 0)
        /* CNN cases: the description, the input shape and M (the README's
         * "CNN cases"). */
        TU_OK(pcmup_net_create_from_text(&net, tu_case_str(c, "arch"),
                                         (size_t)tu_case_list(c, "input_shape", 0),
                                         (size_t)tu_case_list(c, "input_shape", 1),
                                         (size_t)tu_case_list(c, "input_shape", 2),
                                         (size_t)tu_case_num(c, "M"), tu_case_activation(c), 0,
                                         p, 1, NULL));
    else
        TU_OK(pcmup_net_create(&net, widths, n_layers + 1, tu_case_activation(c), 0, p, 1,
                               NULL));
    pcmup_param_free(p);
    for (size_t l = 1; l <= n_layers; l++) {
        char name[16];
        snprintf(name, sizeof name, "W%zu", l);
        size_t n;
        float *w = tu_case_f32(c, name, &n);
        TU_OK(pcmup_net_set_weights(net, l, w, n));
        free(w);
    }
    return net;
}

float *tu_case_x(const tu_case *c, size_t *batch, size_t *count)
{
    size_t n;
    float *x = tu_case_f32(c, "X", &n);
    *batch = (size_t)tu_case_num(c, "B");
    if (count)
        *count = n;
    return x;
}

/* The relative error of array <prefix>l as `got` holds it against the
 * reference change <prefix>l_next - <prefix>l; `got` is the change itself
 * (is_change) or the array after the step, whose change is then measured
 * from the float-rounded start we were given. `count` must be the
 * array's size. */
static double layer_change_error(const tu_case *c, char prefix, size_t l, const float *got,
                                 size_t count, int is_change)
{
    char name[16], next[24];
    snprintf(name, sizeof name, "%c%zu", prefix, l);
    snprintf(next, sizeof next, "%c%zu_next", prefix, l);
    size_t n, n2;
    double *a0 = tu_case_f64(c, name, &n), *a1 = tu_case_f64(c, next, &n2);
    ck_assert_uint_eq(n, n2);
    ck_assert_uint_eq(n, count);
    double *mine = malloc(n * sizeof *mine), *ref = malloc(n * sizeof *ref);
    for (size_t i = 0; i < n; i++) {
        mine[i] = is_change ? (double)got[i] : (double)got[i] - (double)(float)a0[i];
        ref[i] = a1[i] - a0[i];
    }
    double e = tu_rel_err(mine, ref, n);
    free(a0);
    free(a1);
    free(mine);
    free(ref);
    return e;
}

double tu_case_change_error(const tu_case *c, char prefix, size_t layer, const float *change,
                            size_t count)
{
    return layer_change_error(c, prefix, layer, change, count, 1);
}

/* max over layers first..L of layer_change_error, the arrays read by
 * `read` from obj. */
static double case_change_error(const tu_case *c, char prefix, size_t first,
                                layer_reader read, const void *obj, int is_change)
{
    size_t n_layers = (size_t)tu_case_num(c, "L");
    double worst = 0.0;
    for (size_t l = first; l <= n_layers; l++) {
        char name[16];
        snprintf(name, sizeof name, "%c%zu", prefix, l);
        size_t n;
        double *a0 = tu_case_f64(c, name, &n);
        free(a0);
        float *got = malloc(n * sizeof *got);
        TU_OK(read(obj, l, got, n));
        double e = layer_change_error(c, prefix, l, got, n, is_change);
        worst = e > worst ? e : worst;
        free(got);
    }
    return worst;
}

double tu_case_update_error(const tu_case *c, const pcmup_net *net)
{
    return case_change_error(c, 'W', 1, read_weights, net, 0);
}

double tu_case_recorded_error(const tu_case *c, const pcmup_algo *algo)
{
    return case_change_error(c, 'W', 1, read_update, algo, 1);
}

double tu_case_feedback_error(const tu_case *c, const pcmup_algo *algo)
{
    return case_change_error(c, 'V', 2, read_feedback, algo, 0);
}


tu_case_run tu_case_begin(const char *name)
{
    tu_case_run r;
    memset(&r, 0, sizeof r);
    r.c = tu_case_load(name);
    r.net = tu_case_net(r.c);
    r.x = tu_case_x(r.c, &r.batch, &r.x_count);
    size_t n_labels;
    r.labels = tu_case_i32(r.c, "labels", &n_labels);
    ck_assert_uint_eq(n_labels, r.batch);
    return r;
}

void tu_case_step(tu_case_run *r)
{
    double loss;
    TU_OK(pcmup_algo_step(r->algo, r->x, r->x_count, r->labels, r->batch, &loss));
    double want = tu_case_num(r->c, "loss_before");
    ck_assert_msg(fabs(loss - want) < 1e-5 * want, "%s: loss %.9g, reference %.9g", r->c->name,
                  loss, want);
}

double tu_case_check_recorded(const tu_case_run *r, double tol)
{
    double err = tu_case_recorded_error(r->c, r->algo);
    ck_assert_msg(err < tol, "%s: update error %.3g", r->c->name, err);
    ck_assert_msg(tu_case_update_error(r->c, r->net) < 10 * tol, "%s: weights", r->c->name);
    return err;
}

void tu_case_end(tu_case_run *r)
{
    pcmup_algo_free(r->algo);
    pcmup_net_free(r->net);
    free(r->x);
    free(r->labels);
    tu_case_free(r->c);
}

/* ---- coordinate checks ------------------------------------------------- */

#define COORD_D 64
#define COORD_C 10
#define COORD_TRAIN_B 32
#define COORD_PROBE_B 64

static double mean_abs_diff(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += fabs((double)a[i] - (double)b[i]);
    return s / (double)n;
}

void tu_coord_run(const tu_coord_config *cfg, size_t width, int steps, double dh[3])
{
    tu_coord_run_b_out(cfg, NAN, width, steps, dh);
}

/* b_out NaN: keep the preset's b_L. */
void tu_coord_run_b_out(const tu_coord_config *cfg, double b_out, size_t width, int steps,
                        double dh[3])
{
    const size_t widths[4] = {COORD_D, width, width, COORD_C};
    float *x = tu_gaussian(COORD_TRAIN_B * COORD_D, 1);
    float *probe = tu_gaussian(COORD_PROBE_B * COORD_D, 2);
    int32_t *labels = tu_cyclic_labels(COORD_TRAIN_B, COORD_C);
    pcmup_param *p = tu_param(3, cfg->preset, cfg->gamma_bar);
    if (!isnan(b_out))
        TU_OK(pcmup_param_set_layer(p, 3, PCMUP_LAYER_B, b_out));
    tu_rig r = tu_rig_make(cfg->kind, p, widths, PCMUP_ACT_TANH, 1234, 0);
    pcmup_net *net = r.net;
    pcmup_algo *algo = r.algo;
    TU_OK(pcmup_algo_set(algo, PCMUP_SET_LR, cfg->lr));

    float *before[3], *after[3];
    for (size_t l = 1; l <= 3; l++) {
        before[l - 1] = malloc(COORD_PROBE_B * widths[l] * sizeof(float));
        after[l - 1] = malloc(COORD_PROBE_B * widths[l] * sizeof(float));
        TU_OK(pcmup_net_forward_layer(net, probe, COORD_PROBE_B * COORD_D, COORD_PROBE_B, l,
                                      PCMUP_SIGNAL_POST, before[l - 1],
                                      COORD_PROBE_B * widths[l]));
    }
    int diverged = 0;
    for (int t = 0; t < steps && !diverged; t++) {
        pcmup_status s = pcmup_algo_step(algo, x, COORD_TRAIN_B * COORD_D, labels,
                                         COORD_TRAIN_B, NULL);
        ck_assert_msg(s == PCMUP_OK || s == PCMUP_ERR_DIVERGED, "%s", pcmup_last_error());
        diverged = s == PCMUP_ERR_DIVERGED;
    }
    for (size_t l = 1; l <= 3; l++) {
        TU_OK(pcmup_net_forward_layer(net, probe, COORD_PROBE_B * COORD_D, COORD_PROBE_B, l,
                                      PCMUP_SIGNAL_POST, after[l - 1],
                                      COORD_PROBE_B * widths[l]));
        dh[l - 1] = diverged ? INFINITY
                             : mean_abs_diff(after[l - 1], before[l - 1],
                                             COORD_PROBE_B * widths[l]);
        free(before[l - 1]);
        free(after[l - 1]);
    }
    tu_rig_free(&r);
    free(x);
    free(probe);
    free(labels);
}

const size_t tu_coord_widths[TU_COORD_N_WIDTHS] = {64, 256, 1024, 2048};

void tu_coord_sweep(const tu_coord_config *cfg, double b_out, const char *name,
                    double res[TU_COORD_N_WIDTHS][3])
{
    for (int k = 0; k < TU_COORD_N_WIDTHS; k++) {
        tu_coord_run_b_out(cfg, b_out, tu_coord_widths[k], 5, res[k]);
        printf("%-22s M=%5zu  dh1 %.4g  dh2 %.4g  df %.4g\n", name, tu_coord_widths[k],
               res[k][0], res[k][1], res[k][2]);
    }
}

/* ---- temporary directories ---------------------------------------------- */

void tu_make_tmpdir(char *dir, size_t size, const char *prefix)
{
    snprintf(dir, size, "/tmp/%s-XXXXXX", prefix);
    ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp %s failed", dir);
}

void tu_remove_tmpdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) != 0)
            rmdir(path);
    }
    closedir(d);
    rmdir(dir);
}
