/*
 * test_api.c -- the public API at its edges. Every function, called with a
 * NULL or an invalid argument, returns the documented status, leaves a
 * message that names it, writes no out-parameter and changes no object;
 * allocation failures are reported (never crashed on) and leak nothing;
 * the last-error message is per thread.
 *
 * Where pcmup.h documents a check but not its status code, the tests pin
 * the code the rest of the API uses for the same kind of mistake (a value
 * outside its range is PCMUP_ERR_INVALID, a count that does not match a
 * shape is PCMUP_ERR_SHAPE) and say so.
 */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

/* ---- the objects most tests work on ----------------------------------- */

#define NL 3 /* weight layers */
#define D 5  /* input dimension */
#define C 3  /* outputs = classes */
#define B 4  /* batch */
#define N 12 /* dataset samples */
static const size_t WIDTHS[NL + 2] = {D, 7, 6, C, 0}; /* extra 0: never read */

#define BAD_ENUM 99

static struct {
    pcmup_param *param;
    pcmup_net *net;   /* tanh, with PCMUP_NET_BIAS */
    pcmup_net *plain; /* the same without biases */
    pcmup_algo *algo; /* BP on net */
    pcmup_dataset *data;
    /* Extra handles some tests build, freed by teardown so that a failing
     * assertion leaks nothing under CK_FORK=no. */
    pcmup_param *p2;
    pcmup_net *net2;
    pcmup_algo *algo2;
    float x[B * D];
    int32_t labels[B];
} w;

/* Deterministic values in [-1, 1) (a 32-bit LCG: reproducible everywhere). */
static float lcg_value(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return (float)((*state >> 8) * (1.0 / 16777216.0) * 2.0 - 1.0);
}

static void fill_samples(float *x, int32_t *labels, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n * D; i++)
        x[i] = lcg_value(&seed);
    for (size_t i = 0; i < n; i++)
        labels[i] = (int32_t)(i % C);
}

/* Non-zero biases, so that comparisons of "unchanged" cover them too. */
static void set_biases(pcmup_net *net)
{
    uint32_t s = 77;
    for (size_t l = 1; l <= NL; l++) {
        float bias[8];
        for (size_t i = 0; i < WIDTHS[l]; i++)
            bias[i] = lcg_value(&s);
        TU_OK(pcmup_net_set_bias(net, l, bias, WIDTHS[l]));
    }
}

static void setup(void)
{
    fill_samples(w.x, w.labels, B, 1);
    TU_OK(pcmup_param_create(&w.param, NL, PCMUP_PRESET_MUP_SGD, NULL));
    TU_OK(pcmup_param_set(w.param, PCMUP_PARAM_BASE_WIDTH, 4.0));
    TU_OK(pcmup_net_create(&w.net, NL, WIDTHS, PCMUP_ACT_TANH, PCMUP_NET_BIAS, w.param, 11,
                           NULL));
    set_biases(w.net);
    TU_OK(pcmup_net_create(&w.plain, NL, WIDTHS, PCMUP_ACT_TANH, 0, w.param, 12, NULL));
    TU_OK(pcmup_algo_create(&w.algo, PCMUP_RULE_BP, w.net, 13, NULL));
    float dx[N * D];
    int32_t dl[N];
    fill_samples(dx, dl, N, 2);
    TU_OK(pcmup_dataset_from_arrays(&w.data, N, D, C, dx, dl, NULL));
}

static void teardown(void)
{
    pcmup_algo_free(w.algo);
    pcmup_net_free(w.net);
    pcmup_net_free(w.plain);
    pcmup_param_free(w.param);
    pcmup_dataset_free(w.data);
    pcmup_algo_free(w.algo2);
    pcmup_net_free(w.net2);
    pcmup_param_free(w.p2);
    memset(&w, 0, sizeof w);
}

/* ---- checking a failure ------------------------------------------------ */

/* Makes some other function fail first, so that a call which sets no
 * message cannot pass on a stale one. */
static void prime_message(const char *fn)
{
    double lo, hi;
    if (strcmp(fn, "pcmup_param_bounds") != 0)
        (void)pcmup_param_bounds((pcmup_param_key)BAD_ENUM, &lo, &hi);
    else
        (void)pcmup_set_blas_threads(0);
    ck_assert_msg(pcmup_last_error()[0] != '\0', "priming left no message");
}

/* The status is `want` and the message is "<fn>: <something>". */
static void check_failure(pcmup_status want, pcmup_status got, const char *fn,
                          const char *args, int line)
{
    const char *msg = pcmup_last_error();
    size_t len = strlen(fn);
    ck_assert_msg(got == want, "line %d: %s(%s) -> %s, expected %s (%s)", line, fn, args,
                  pcmup_status_name(got), pcmup_status_name(want), msg);
    ck_assert_msg(strncmp(msg, fn, len) == 0 && strncmp(msg + len, ": ", 2) == 0 &&
                      msg[len + 2] != '\0',
                  "line %d: %s(%s): message \"%s\" does not name the function", line, fn, args,
                  msg);
}

#define FAILS(want, fn, ...)                                                   \
    do {                                                                       \
        prime_message(#fn);                                                    \
        check_failure((want), fn(__VA_ARGS__), #fn, #__VA_ARGS__, __LINE__);   \
    } while (0)

/* FAILS for pcmup_setting_bounds, whose status is in the struct it returns. */
#define BOUNDS_FAIL(want, key)                                                 \
    do {                                                                       \
        prime_message("pcmup_setting_bounds");                                 \
        check_failure((want), pcmup_setting_bounds(key).status,                \
                      "pcmup_setting_bounds", #key, __LINE__);                 \
    } while (0)

/* ---- snapshots of state, read back through the public API ------------- */

/* Every layer's effective weights, then every bias (if the net has them). */
static float *net_snapshot(const pcmup_net *net, size_t *len)
{
    size_t n_layers, total = 0, out, in;
    TU_OK(pcmup_net_n_layers(net, &n_layers));
    TU_OK(pcmup_net_param_count(net, &total));
    float *s = calloc(total, sizeof *s), *p = s;
    for (size_t l = 1; l <= n_layers; l++) {
        TU_OK(pcmup_net_layer_shape(net, l, &out, &in));
        TU_OK(pcmup_net_get_weights(net, l, p, out * in));
        p += out * in;
    }
    for (size_t l = 1; l <= n_layers && (size_t)(p - s) < total; l++) {
        TU_OK(pcmup_net_layer_shape(net, l, &out, &in));
        TU_OK(pcmup_net_get_bias(net, l, p, out));
        p += out;
    }
    ck_assert_uint_eq((size_t)(p - s), total);
    *len = total;
    return s;
}

static void assert_net_is(const pcmup_net *net, const float *before, size_t len,
                          const char *after_what)
{
    size_t now_len;
    float *now = net_snapshot(net, &now_len);
    ck_assert_uint_eq(now_len, len);
    ck_assert_msg(memcmp(now, before, len * sizeof *now) == 0,
                  "the network changed after %s", after_what);
    free(now);
}

#define N_LAYER_KEYS 5
/* a, b, c, sigma, theta of every layer, then the base width. */
static void param_snapshot(const pcmup_param *p, double *out)
{
    size_t n_layers;
    TU_OK(pcmup_param_n_layers(p, &n_layers));
    for (size_t l = 1; l <= n_layers; l++)
        for (int k = 0; k < N_LAYER_KEYS; k++)
            TU_OK(pcmup_param_get_layer(p, l, (pcmup_layer_key)k, out++));
    TU_OK(pcmup_param_get(p, PCMUP_PARAM_BASE_WIDTH, out));
}

static void assert_param_is(const pcmup_param *p, const double *before, const char *what)
{
    double now[NL * N_LAYER_KEYS + 1];
    param_snapshot(p, now);
    ck_assert_msg(memcmp(now, before, sizeof now) == 0, "the parameterization changed after %s",
                  what);
}

#define N_SETTINGS 5
static void settings_snapshot(const pcmup_algo *algo, double *out)
{
    for (int k = 0; k < N_SETTINGS; k++)
        TU_OK(pcmup_algo_get(algo, (pcmup_setting)k, &out[k]));
}

static void assert_settings_are(const pcmup_algo *algo, const double *before, const char *what)
{
    double now[N_SETTINGS];
    settings_snapshot(algo, now);
    ck_assert_msg(memcmp(now, before, sizeof now) == 0, "a setting changed after %s", what);
}

/* ======================================================================
 * 1. Basics
 * ====================================================================== */

START_TEST(status_names_distinct)
{
    for (int s = 0; s <= PCMUP_ERR_UNSUPPORTED; s++) {
        const char *name = pcmup_status_name((pcmup_status)s);
        const char *msg = pcmup_status_message((pcmup_status)s);
        ck_assert_ptr_nonnull(name);
        ck_assert_ptr_nonnull(msg);
        ck_assert_msg(strncmp(name, "PCMUP_", 6) == 0 && name[6] != '\0', "name %s", name);
        ck_assert_msg(strcmp(name, "PCMUP_ERR_UNKNOWN") != 0, "code %d unnamed", s);
        ck_assert_msg(msg[0] != '\0', "code %d has an empty message", s);
        for (int t = 0; t < s; t++) {
            ck_assert_str_ne(name, pcmup_status_name((pcmup_status)t));
            ck_assert_str_ne(msg, pcmup_status_message((pcmup_status)t));
        }
    }
    /* The ABI values of the header. */
    ck_assert_str_eq(pcmup_status_name(PCMUP_OK), "PCMUP_OK");
    ck_assert_str_eq(pcmup_status_name((pcmup_status)3), "PCMUP_ERR_SHAPE");
    ck_assert_str_eq(pcmup_status_name((pcmup_status)8), "PCMUP_ERR_UNSUPPORTED");
}
END_TEST

START_TEST(status_names_out_of_range)
{
    const int bad[] = {9, 10, 100, -1, 0x7fffffff};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *name = pcmup_status_name((pcmup_status)bad[i]);
        const char *msg = pcmup_status_message((pcmup_status)bad[i]);
        ck_assert_ptr_nonnull(name);
        ck_assert_str_eq(name, "PCMUP_ERR_UNKNOWN");
        ck_assert_ptr_nonnull(msg);
        ck_assert_msg(msg[0] != '\0', "status %d: empty message", bad[i]);
    }
}
END_TEST

START_TEST(version_matches_macros)
{
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", PCMUP_VERSION_MAJOR, PCMUP_VERSION_MINOR,
             PCMUP_VERSION_PATCH);
    ck_assert_uint_eq(pcmup_version_number(), PCMUP_VERSION_NUMBER);
    ck_assert_uint_eq(PCMUP_VERSION_NUMBER, PCMUP_VERSION_MAJOR * 10000u +
                                                PCMUP_VERSION_MINOR * 100u +
                                                PCMUP_VERSION_PATCH);
    ck_assert_ptr_nonnull(pcmup_version_string());
    ck_assert_str_eq(pcmup_version_string(), want);
}
END_TEST

START_TEST(blas_threads)
{
    FAILS(PCMUP_ERR_INVALID, pcmup_set_blas_threads, 0);
    FAILS(PCMUP_ERR_INVALID, pcmup_set_blas_threads, -1);
    FAILS(PCMUP_ERR_INVALID, pcmup_set_blas_threads, -2147483647 - 1);
    /* n = 1 is valid: it works, or the build has no thread control. */
    pcmup_status s = pcmup_set_blas_threads(1);
    ck_assert_msg(s == PCMUP_OK || s == PCMUP_ERR_UNSUPPORTED, "-> %s", pcmup_status_name(s));
    if (s == PCMUP_ERR_UNSUPPORTED)
        ck_assert_ptr_nonnull(strstr(pcmup_last_error(), "pcmup_set_blas_threads"));
}
END_TEST

/* The common settings' defaults and ranges, as the library reports them:
 * what the INVALID checks below are measured against. */
START_TEST(algo_settings_documented)
{
    static const struct {
        pcmup_setting key;
        double fallback, lo, hi;
    } doc[] = {
        {PCMUP_SET_LR, 0.05, 0.0, 1e6},
        {PCMUP_SET_LOSS, PCMUP_LOSS_MSE, PCMUP_LOSS_MSE, PCMUP_LOSS_CE},
        {PCMUP_SET_MSE_CENTRED, 1.0, 0.0, 1.0},
        {PCMUP_SET_MOMENTUM, 0.0, 0.0, 1.0},
        {PCMUP_SET_WEIGHT_DECAY, 0.0, 0.0, 1e6},
    };
    for (size_t i = 0; i < sizeof doc / sizeof doc[0]; i++) {
        double v;
        TU_OK(pcmup_algo_get(w.algo, doc[i].key, &v));
        pcmup_bounds b = pcmup_setting_bounds(doc[i].key);
        TU_OK(b.status);
        ck_assert_msg(v == doc[i].fallback, "setting %d default %g", (int)doc[i].key, v);
        ck_assert_msg(b.lo == doc[i].lo && b.hi == doc[i].hi, "setting %d bounds [%g, %g]",
                      (int)doc[i].key, b.lo, b.hi);
    }
}
END_TEST

/* pcmup_algo_rule reports the rule each algorithm was created with. */
START_TEST(algo_reports_its_rule)
{
    const pcmup_rule rules[] = {PCMUP_RULE_BP, PCMUP_RULE_PC, PCMUP_RULE_GNT, PCMUP_RULE_TP,
                                PCMUP_RULE_DTP};
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        pcmup_algo *a;
        pcmup_rule got = (pcmup_rule)BAD_ENUM;
        TU_OK(pcmup_algo_create(&a, rules[i], w.net, 1, NULL));
        TU_OK(pcmup_algo_rule(a, &got));
        ck_assert_int_eq(got, rules[i]);
        pcmup_algo_free(a);
    }
}
END_TEST

/* "A successful call does not clear it." */
START_TEST(success_keeps_last_error)
{
    FAILS(PCMUP_ERR_INVALID, pcmup_param_set_layer, w.param, 0, PCMUP_LAYER_A, 0.0);
    char before[512];
    snprintf(before, sizeof before, "%s", pcmup_last_error());
    TU_OK(pcmup_param_set_layer(w.param, 1, PCMUP_LAYER_A, 0.0));
    TU_OK(pcmup_net_forward(w.net, w.x, B, (float[B * C]){0}));
    ck_assert_str_eq(pcmup_last_error(), before);
}
END_TEST

/* The message carries the numbers, as in the header's example. */
START_TEST(message_is_specific)
{
    float v[41] = {0};
    FAILS(PCMUP_ERR_SHAPE, pcmup_net_set_weights, w.net, 2, v, 41);
    ck_assert_msg(strstr(pcmup_last_error(), "41") != NULL, "count missing: %s",
                  pcmup_last_error());
    ck_assert_msg(strstr(pcmup_last_error(), "42") != NULL, "expected count missing: %s",
                  pcmup_last_error());
}
END_TEST

/* The library never prints: run a series of failing calls with stdout and
 * stderr pointed at a file and check the file stays empty. */
START_TEST(never_prints)
{
    char path[] = "/tmp/pcmup_test_printXXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    dup2(fd, 1);
    dup2(fd, 2);
    float nan_x[B * D];
    memcpy(nan_x, w.x, sizeof nan_x);
    nan_x[3] = NAN;
    double lo, hi;
    (void)pcmup_net_forward(w.net, nan_x, B, (float[B * C]){0});
    (void)pcmup_algo_step(w.algo, nan_x, w.labels, B, NULL);
    (void)pcmup_param_layer_bounds((pcmup_layer_key)BAD_ENUM, &lo, &hi);
    (void)pcmup_dataset_load_idx(&(pcmup_dataset *){NULL}, "/nonexistent/a", "/nonexistent/b",
                                 NULL);
    (void)pcmup_net_set_weights(w.net, 9, nan_x, 1);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    off_t size = lseek(fd, 0, SEEK_END);
    close(fd);
    unlink(path);
    ck_assert_msg(size == 0, "the library wrote %ld bytes", (long)size);
}
END_TEST

/* ======================================================================
 * 2. NULL pointers
 * ====================================================================== */

START_TEST(free_accepts_null)
{
    pcmup_param_free(NULL);
    pcmup_net_free(NULL);
    pcmup_algo_free(NULL);
    pcmup_dataset_free(NULL);
    ck_assert_ptr_nonnull(pcmup_last_error());
}
END_TEST

START_TEST(null_param)
{
    pcmup_param *p = NULL;
    double v, lo, hi;
    size_t n;
    FAILS(PCMUP_ERR_NULL, pcmup_param_create, NULL, 2, PCMUP_PRESET_SP, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_param_clone, NULL, w.param);
    FAILS(PCMUP_ERR_NULL, pcmup_param_clone, &p, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_param_apply_preset, NULL, PCMUP_PRESET_SP, 0.0, 1.0);
    FAILS(PCMUP_ERR_NULL, pcmup_param_n_layers, NULL, &n);
    FAILS(PCMUP_ERR_NULL, pcmup_param_n_layers, w.param, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_param_set_layer, NULL, 1, PCMUP_LAYER_A, 0.0);
    FAILS(PCMUP_ERR_NULL, pcmup_param_get_layer, NULL, 1, PCMUP_LAYER_A, &v);
    FAILS(PCMUP_ERR_NULL, pcmup_param_get_layer, w.param, 1, PCMUP_LAYER_A, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_param_layer_bounds, PCMUP_LAYER_A, NULL, &hi);
    FAILS(PCMUP_ERR_NULL, pcmup_param_layer_bounds, PCMUP_LAYER_A, &lo, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_param_set, NULL, PCMUP_PARAM_BASE_WIDTH, 64.0);
    FAILS(PCMUP_ERR_NULL, pcmup_param_get, NULL, PCMUP_PARAM_BASE_WIDTH, &v);
    FAILS(PCMUP_ERR_NULL, pcmup_param_get, w.param, PCMUP_PARAM_BASE_WIDTH, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_param_bounds, PCMUP_PARAM_BASE_WIDTH, NULL, &hi);
    FAILS(PCMUP_ERR_NULL, pcmup_param_bounds, PCMUP_PARAM_BASE_WIDTH, &lo, NULL);
    ck_assert_ptr_null(p);
}
END_TEST

START_TEST(null_net_create)
{
    pcmup_net *net = NULL;
    FAILS(PCMUP_ERR_NULL, pcmup_net_create, NULL, NL, WIDTHS, PCMUP_ACT_TANH, 0, w.param, 1,
          NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_net_create, &net, NL, NULL, PCMUP_ACT_TANH, 0, w.param, 1,
          NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_net_create, &net, NL, WIDTHS, PCMUP_ACT_TANH, 0, NULL, 1, NULL);
    ck_assert_ptr_null(net);
}
END_TEST

START_TEST(null_net_queries)
{
    const pcmup_param *p;
    size_t n, out, in;
    double f[PCMUP_FACTOR_COUNT];
    FAILS(PCMUP_ERR_NULL, pcmup_net_init_weights, NULL, 1);
    FAILS(PCMUP_ERR_NULL, pcmup_net_param, NULL, &p);
    FAILS(PCMUP_ERR_NULL, pcmup_net_param, w.net, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_net_n_layers, NULL, &n);
    FAILS(PCMUP_ERR_NULL, pcmup_net_n_layers, w.net, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_net_layer_shape, NULL, 1, &out, &in);
    FAILS(PCMUP_ERR_NULL, pcmup_net_layer_shape, w.net, 1, NULL, &in);
    FAILS(PCMUP_ERR_NULL, pcmup_net_layer_shape, w.net, 1, &out, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_net_param_count, NULL, &n);
    FAILS(PCMUP_ERR_NULL, pcmup_net_param_count, w.net, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_net_layer_factors, NULL, 1, f, PCMUP_FACTOR_COUNT);
    FAILS(PCMUP_ERR_NULL, pcmup_net_layer_factors, w.net, 1, NULL, PCMUP_FACTOR_COUNT);
}
END_TEST

START_TEST(null_net_arrays)
{
    float buf[64] = {0}, out[B * C];
    FAILS(PCMUP_ERR_NULL, pcmup_net_get_weights, NULL, 1, buf, 35);
    FAILS(PCMUP_ERR_NULL, pcmup_net_get_weights, w.net, 1, NULL, 35);
    FAILS(PCMUP_ERR_NULL, pcmup_net_set_weights, NULL, 1, buf, 35);
    FAILS(PCMUP_ERR_NULL, pcmup_net_set_weights, w.net, 1, NULL, 35);
    FAILS(PCMUP_ERR_NULL, pcmup_net_get_bias, NULL, 1, buf, 7);
    FAILS(PCMUP_ERR_NULL, pcmup_net_get_bias, w.net, 1, NULL, 7);
    FAILS(PCMUP_ERR_NULL, pcmup_net_set_bias, NULL, 1, buf, 7);
    FAILS(PCMUP_ERR_NULL, pcmup_net_set_bias, w.net, 1, NULL, 7);
    FAILS(PCMUP_ERR_NULL, pcmup_net_forward, NULL, w.x, B, out);
    FAILS(PCMUP_ERR_NULL, pcmup_net_forward, w.net, NULL, B, out);
    FAILS(PCMUP_ERR_NULL, pcmup_net_forward, w.net, w.x, B, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_net_forward_layer, NULL, w.x, B, 1, PCMUP_SIGNAL_PRE, buf);
    FAILS(PCMUP_ERR_NULL, pcmup_net_forward_layer, w.net, NULL, B, 1, PCMUP_SIGNAL_PRE, buf);
    FAILS(PCMUP_ERR_NULL, pcmup_net_forward_layer, w.net, w.x, B, 1, PCMUP_SIGNAL_PRE, NULL);
}
END_TEST

START_TEST(null_dataset)
{
    pcmup_dataset *ds = NULL;
    float x[D] = {0}, y[C];
    int32_t label = 0;
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_load_idx, NULL, "/nonexistent/i", "/nonexistent/l",
          NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_load_idx, &ds, NULL, "/nonexistent/l", NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_load_idx, &ds, "/nonexistent/i", NULL, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_load_fashion_mnist, NULL, "/nonexistent",
          PCMUP_SPLIT_TEST, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_from_arrays, NULL, 1, D, C, x, &label, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_from_arrays, &ds, 1, D, C, NULL, &label, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_from_arrays, &ds, 1, D, C, x, NULL, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_info, NULL, NULL, NULL, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_truncate, NULL, 1);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_standardize, NULL, w.data);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_get_batch, NULL, 0, 1, x, &label);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_one_hot, NULL, 0, 1, 1, y);
    FAILS(PCMUP_ERR_NULL, pcmup_dataset_one_hot, w.data, 0, 1, 1, NULL);
    ck_assert_ptr_null(ds);
}
END_TEST

START_TEST(null_algo)
{
    pcmup_algo *a = NULL;
    double v;
    FAILS(PCMUP_ERR_NULL, pcmup_algo_create, NULL, PCMUP_RULE_BP, w.net, 1, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_algo_create, &a, PCMUP_RULE_BP, NULL, 1, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_algo_set, NULL, PCMUP_SET_LR, 0.1);
    FAILS(PCMUP_ERR_NULL, pcmup_algo_get, NULL, PCMUP_SET_LR, &v);
    FAILS(PCMUP_ERR_NULL, pcmup_algo_get, w.algo, PCMUP_SET_LR, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_algo_rule, NULL, (pcmup_rule[1]){0});
    FAILS(PCMUP_ERR_NULL, pcmup_algo_rule, w.algo, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_setting_default, PCMUP_SET_LR, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_setting_accepts, PCMUP_SET_LR, PCMUP_RULE_BP, NULL);
    FAILS(PCMUP_ERR_NULL, pcmup_algo_step, NULL, w.x, w.labels, B, &v);
    FAILS(PCMUP_ERR_NULL, pcmup_algo_step, w.algo, NULL, w.labels, B, &v);
    FAILS(PCMUP_ERR_NULL, pcmup_algo_step, w.algo, w.x, NULL, B, &v);
    FAILS(PCMUP_ERR_NULL, pcmup_algo_train_epoch, NULL, w.data, 4, &v);
    FAILS(PCMUP_ERR_NULL, pcmup_algo_train_epoch, w.algo, NULL, 4, &v);
    FAILS(PCMUP_ERR_NULL, pcmup_algo_evaluate, NULL, w.data, &v, &v);
    FAILS(PCMUP_ERR_NULL, pcmup_algo_evaluate, w.algo, NULL, &v, &v);
    ck_assert_ptr_null(a);
}
END_TEST

/* Pointers documented as optional ("may be NULL") are accepted, and the
 * others are still written. */
START_TEST(optional_pointers)
{
    double m = -1, loss = -1, acc = -1;
    size_t n = 0, dim = 0, classes = 0;
    /* Fewer factor slots than the library has: the first ones. */
    TU_OK(pcmup_net_layer_factors(w.net, 2, &m, 1));
    ck_assert_double_eq(m, 1.0); /* the multiplier, a = 0 */
    TU_OK(pcmup_dataset_info(w.data, NULL, NULL, NULL));
    TU_OK(pcmup_dataset_info(w.data, NULL, &dim, NULL));
    TU_OK(pcmup_dataset_info(w.data, &n, NULL, &classes));
    ck_assert_uint_eq(n, N);
    ck_assert_uint_eq(dim, D);
    ck_assert_uint_eq(classes, C);
    TU_OK(pcmup_dataset_get_batch(w.data, 0, 2, NULL, NULL));
    TU_OK(pcmup_algo_step(w.algo, w.x, w.labels, B, NULL));
    TU_OK(pcmup_algo_train_epoch(w.algo, w.data, 5, NULL));
    TU_OK(pcmup_algo_evaluate(w.algo, w.data, NULL, NULL));
    TU_OK(pcmup_algo_evaluate(w.algo, w.data, &loss, NULL));
    TU_OK(pcmup_algo_evaluate(w.algo, w.data, NULL, &acc));
    ck_assert(loss > 0 && isfinite(loss));
    ck_assert(acc >= 0 && acc <= 1);
    TU_OK(pcmup_dataset_standardize(w.data, NULL));
}
END_TEST

/* ======================================================================
 * 3. Invalid values
 * ====================================================================== */

static const pcmup_allocator *broken_allocators(void)
{
    static pcmup_allocator broken[3];
    tu_counter unused;
    for (int i = 0; i < 3; i++)
        broken[i] = tu_counting_allocator(&unused);
    broken[0].malloc_fn = NULL;
    broken[1].realloc_fn = NULL;
    broken[2].free_fn = NULL;
    return broken;
}

START_TEST(invalid_param_create)
{
    pcmup_param *p = NULL;
    const pcmup_allocator *broken = broken_allocators();
    FAILS(PCMUP_ERR_INVALID, pcmup_param_create, &p, 0, PCMUP_PRESET_SP, NULL);
    FAILS(PCMUP_ERR_INVALID, pcmup_param_create, &p, 1025, PCMUP_PRESET_SP, NULL);
    FAILS(PCMUP_ERR_INVALID, pcmup_param_create, &p, (size_t)-1, PCMUP_PRESET_SP, NULL);
    FAILS(PCMUP_ERR_INVALID, pcmup_param_create, &p, 2, (pcmup_preset)BAD_ENUM, NULL);
    FAILS(PCMUP_ERR_INVALID, pcmup_param_create, &p, 2, (pcmup_preset)-1, NULL);
    for (int i = 0; i < 3; i++)
        FAILS(PCMUP_ERR_INVALID, pcmup_param_create, &p, 2, PCMUP_PRESET_SP, &broken[i]);
    FAILS(PCMUP_ERR_INVALID, pcmup_param_apply_preset, w.param, (pcmup_preset)BAD_ENUM, 0.0, 1.0);
    ck_assert_ptr_null(p);
    /* The limits themselves are valid. */
    TU_OK(pcmup_param_create(&p, 1024, PCMUP_PRESET_MUP_SGD, NULL));
    pcmup_param_free(p);
}
END_TEST

START_TEST(invalid_param_layer)
{
    double v;
    FAILS(PCMUP_ERR_INVALID, pcmup_param_set_layer, w.param, 0, PCMUP_LAYER_A, 0.0);
    FAILS(PCMUP_ERR_INVALID, pcmup_param_set_layer, w.param, NL + 1, PCMUP_LAYER_A, 0.0);
    FAILS(PCMUP_ERR_INVALID, pcmup_param_get_layer, w.param, 0, PCMUP_LAYER_A, &v);
    FAILS(PCMUP_ERR_INVALID, pcmup_param_get_layer, w.param, NL + 1, PCMUP_LAYER_A, &v);
    FAILS(PCMUP_ERR_INVALID, pcmup_param_set_layer, w.param, 1, (pcmup_layer_key)BAD_ENUM, 0.0);
    FAILS(PCMUP_ERR_INVALID, pcmup_param_get_layer, w.param, 1, (pcmup_layer_key)BAD_ENUM, &v);
    FAILS(PCMUP_ERR_INVALID, pcmup_param_layer_bounds, (pcmup_layer_key)BAD_ENUM, &v, &v);
    FAILS(PCMUP_ERR_INVALID, pcmup_param_set_layer, w.param, 1, PCMUP_LAYER_THETA, 0.0);
}
END_TEST

/* Every per-layer key rejects NaN, infinities and values just outside its
 * reported bounds; SIGMA's lower bound is exclusive. */
START_TEST(invalid_param_values)
{
    const pcmup_layer_key keys[] = {PCMUP_LAYER_A, PCMUP_LAYER_B, PCMUP_LAYER_C,
                                    PCMUP_LAYER_SIGMA};
    for (size_t i = 0; i < 4; i++) {
        double lo, hi;
        TU_OK(pcmup_param_layer_bounds(keys[i], &lo, &hi));
        const double bad[] = {NAN, INFINITY, -INFINITY, nextafter(lo, -INFINITY),
                              nextafter(hi, INFINITY)};
        for (size_t j = 0; j < 5; j++)
            FAILS(PCMUP_ERR_INVALID, pcmup_param_set_layer, w.param, 2, keys[i], bad[j]);
    }
    FAILS(PCMUP_ERR_INVALID, pcmup_param_set_layer, w.param, 2, PCMUP_LAYER_SIGMA, 0.0);
    FAILS(PCMUP_ERR_INVALID, pcmup_param_set_layer, w.param, 2, PCMUP_LAYER_SIGMA, -1.0);
    const double bad_width[] = {0.0, 0.5, -64.0, 2147483648.0, NAN, INFINITY, -INFINITY};
    for (size_t j = 0; j < 7; j++)
        FAILS(PCMUP_ERR_INVALID, pcmup_param_set, w.param, PCMUP_PARAM_BASE_WIDTH,
              bad_width[j]);
    double v;
    FAILS(PCMUP_ERR_INVALID, pcmup_param_set, w.param, (pcmup_param_key)BAD_ENUM, 64.0);
    FAILS(PCMUP_ERR_INVALID, pcmup_param_get, w.param, (pcmup_param_key)BAD_ENUM, &v);
    FAILS(PCMUP_ERR_INVALID, pcmup_param_bounds, (pcmup_param_key)BAD_ENUM, &v, &v);
}
END_TEST

START_TEST(invalid_net_create)
{
    pcmup_net *net = NULL;
    const pcmup_allocator *broken = broken_allocators();
    FAILS(PCMUP_ERR_INVALID, pcmup_net_create, &net, NL, WIDTHS, (pcmup_activation)BAD_ENUM, 0,
          w.param, 1, NULL);
    FAILS(PCMUP_ERR_INVALID, pcmup_net_create, &net, NL, WIDTHS, (pcmup_activation)-1, 0,
          w.param, 1, NULL);
    const unsigned bad_flags[] = {2u, 4u, PCMUP_NET_BIAS | 8u, 0x80000000u, ~0u};
    for (size_t i = 0; i < 5; i++)
        FAILS(PCMUP_ERR_INVALID, pcmup_net_create, &net, NL, WIDTHS, PCMUP_ACT_TANH,
              bad_flags[i], w.param, 1, NULL);
    for (int i = 0; i < 3; i++)
        FAILS(PCMUP_ERR_INVALID, pcmup_net_create, &net, NL, WIDTHS, PCMUP_ACT_TANH, 0, w.param,
              1, &broken[i]);
    /* n_layers must be the parameterization's. */
    FAILS(PCMUP_ERR_SHAPE, pcmup_net_create, &net, NL - 1, WIDTHS, PCMUP_ACT_TANH, 0, w.param,
          1, NULL);
    FAILS(PCMUP_ERR_SHAPE, pcmup_net_create, &net, NL + 1, WIDTHS, PCMUP_ACT_TANH, 0, w.param,
          1, NULL);
    FAILS(PCMUP_ERR_SHAPE, pcmup_net_create, &net, 0, WIDTHS, PCMUP_ACT_TANH, 0, w.param, 1,
          NULL);
    ck_assert_ptr_null(net);
}
END_TEST

/* Widths outside [1, 2^31 - 1]. The header states the range but not the
 * code; these are values outside a range, which everywhere else in the
 * API (batch 0, dataset dim 0) is PCMUP_ERR_INVALID. */
START_TEST(invalid_net_widths)
{
    pcmup_net *net = NULL;
    const size_t bad[] = {0, (size_t)1 << 31, (size_t)-1};
    for (size_t pos = 0; pos <= NL; pos++) {
        for (size_t i = 0; i < 3; i++) {
            size_t widths[NL + 1];
            memcpy(widths, WIDTHS, sizeof widths);
            widths[pos] = bad[i];
            FAILS(PCMUP_ERR_INVALID, pcmup_net_create, &net, NL, widths, PCMUP_ACT_TANH, 0,
                  w.param, 1, NULL);
        }
    }
    ck_assert_ptr_null(net);
}
END_TEST

/* Widths in range whose product does not fit in memory: refused, never a
 * crash or a truncated allocation. */
START_TEST(net_too_large)
{
    pcmup_net *net = NULL;
    const size_t huge[NL + 1] = {2147483647, 2147483647, 2147483647, 2147483647};
    pcmup_status s = pcmup_net_create(&net, NL, huge, PCMUP_ACT_TANH, PCMUP_NET_BIAS, w.param,
                                      1, NULL);
    ck_assert_msg(s == PCMUP_ERR_INVALID || s == PCMUP_ERR_NOMEM, "-> %s",
                  pcmup_status_name(s));
    ck_assert_ptr_null(net);
}
END_TEST

/* Every function taking a layer number rejects 0 and L + 1. */
START_TEST(invalid_net_layer)
{
    const size_t bad[] = {0, NL + 1, (size_t)-1};
    float buf[64] = {0};
    size_t out, in;
    double f[PCMUP_FACTOR_COUNT];
    for (size_t i = 0; i < 3; i++) {
        size_t l = bad[i];
        FAILS(PCMUP_ERR_INVALID, pcmup_net_layer_shape, w.net, l, &out, &in);
        FAILS(PCMUP_ERR_INVALID, pcmup_net_layer_factors, w.net, l, f, PCMUP_FACTOR_COUNT);
        FAILS(PCMUP_ERR_INVALID, pcmup_net_get_weights, w.net, l, buf, 35);
        FAILS(PCMUP_ERR_INVALID, pcmup_net_set_weights, w.net, l, buf, 35);
        FAILS(PCMUP_ERR_INVALID, pcmup_net_get_bias, w.net, l, buf, 7);
        FAILS(PCMUP_ERR_INVALID, pcmup_net_set_bias, w.net, l, buf, 7);
        FAILS(PCMUP_ERR_INVALID, pcmup_net_forward_layer, w.net, w.x, B, l, PCMUP_SIGNAL_POST,
              buf);
    }
}
END_TEST

/* Counts that are not out * in (weights) or out (bias). Layer 2 is 6 x 7. */
START_TEST(shape_net_counts)
{
    float buf[64] = {0};
    const size_t bad_w[] = {0, 41, 43, 7, 6, 35};
    for (size_t i = 0; i < 6; i++) {
        FAILS(PCMUP_ERR_SHAPE, pcmup_net_get_weights, w.net, 2, buf, bad_w[i]);
        FAILS(PCMUP_ERR_SHAPE, pcmup_net_set_weights, w.net, 2, buf, bad_w[i]);
    }
    const size_t bad_b[] = {0, 5, 7, 42};
    for (size_t i = 0; i < 4; i++) {
        FAILS(PCMUP_ERR_SHAPE, pcmup_net_get_bias, w.net, 2, buf, bad_b[i]);
        FAILS(PCMUP_ERR_SHAPE, pcmup_net_set_bias, w.net, 2, buf, bad_b[i]);
    }
    TU_OK(pcmup_net_get_weights(w.net, 2, buf, 42));
    TU_OK(pcmup_net_get_bias(w.net, 2, buf, 6));
}
END_TEST

START_TEST(bias_unsupported)
{
    float buf[8] = {0};
    for (size_t l = 1; l <= NL; l++) {
        FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_net_get_bias, w.plain, l, buf, WIDTHS[l]);
        FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_net_set_bias, w.plain, l, buf, WIDTHS[l]);
    }
}
END_TEST

START_TEST(nonfinite_weights_and_bias)
{
    const float bad[] = {NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < 3; i++) {
        float v[42];
        TU_OK(pcmup_net_get_weights(w.net, 2, v, 42));
        v[41] = bad[i]; /* the last value: every one must be checked */
        FAILS(PCMUP_ERR_INVALID, pcmup_net_set_weights, w.net, 2, v, 42);
        float b[6] = {0};
        b[5] = bad[i];
        FAILS(PCMUP_ERR_INVALID, pcmup_net_set_bias, w.net, 2, b, 6);
    }
}
END_TEST

/* set_weights stores w = W / multiplier in float. With a = -2 at r = 1/64
 * (widths {4, 1, 3}, base 64) the multiplier is 2^-12, so a finite
 * W = 1e35 needs w = 4.1e38 > FLT_MAX. The call must refuse it (INVALID,
 * nothing stored) or store it so that get_weights gives W back; it must
 * not leave a non-finite weight inside the network. */
START_TEST(set_weights_overflow)
{
    TU_OK(pcmup_param_create(&w.p2, 2, PCMUP_PRESET_SP, NULL));
    TU_OK(pcmup_param_set_layer(w.p2, 2, PCMUP_LAYER_A, -2.0));
    TU_OK(pcmup_net_create(&w.net2, 2, (size_t[]){4, 1, 3}, PCMUP_ACT_TANH, 0, w.p2, 1, NULL));
    double m;
    TU_OK(pcmup_net_layer_factors(w.net2, 2, &m, 1));
    ck_assert_double_eq(m, 0x1.0p-12);
    float before[3], v[3] = {1e35f, -1e35f, 1.0f}, back[3];
    TU_OK(pcmup_net_get_weights(w.net2, 2, before, 3));
    pcmup_status s = pcmup_net_set_weights(w.net2, 2, v, 3);
    TU_OK(pcmup_net_get_weights(w.net2, 2, back, 3));
    if (s == PCMUP_ERR_INVALID) {
        ck_assert(memcmp(back, before, sizeof back) == 0);
        return;
    }
    ck_assert_msg(s == PCMUP_OK, "-> %s", pcmup_status_name(s));
    for (int i = 0; i < 3; i++)
        ck_assert_msg(back[i] == v[i], "set %g, read back %g", v[i], back[i]);
}
END_TEST

START_TEST(invalid_forward)
{
    float out[2 * B * 7];
    float x[B * D];
    FAILS(PCMUP_ERR_INVALID, pcmup_net_forward, w.net, w.x, 0, out);
    FAILS(PCMUP_ERR_INVALID, pcmup_net_forward_layer, w.net, w.x, 0, 1, PCMUP_SIGNAL_PRE, out);
    /* Too large for BLAS integers: refused before x is read. */
    FAILS(PCMUP_ERR_INVALID, pcmup_net_forward, w.net, w.x, (size_t)1 << 31, out);
    FAILS(PCMUP_ERR_INVALID, pcmup_net_forward, w.net, w.x, (size_t)-1, out);
    FAILS(PCMUP_ERR_INVALID, pcmup_net_forward_layer, w.net, w.x, B, 1,
          (pcmup_signal)BAD_ENUM, out);
    FAILS(PCMUP_ERR_INVALID, pcmup_net_forward_layer, w.net, w.x, B, 1, (pcmup_signal)-1, out);
    const float bad[] = {NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < 3; i++) {
        memcpy(x, w.x, sizeof x);
        x[B * D - 1] = bad[i];
        FAILS(PCMUP_ERR_INVALID, pcmup_net_forward, w.net, x, B, out);
        FAILS(PCMUP_ERR_INVALID, pcmup_net_forward_layer, w.net, x, B, 2, PCMUP_SIGNAL_POST,
              out);
    }
}
END_TEST

START_TEST(invalid_dataset)
{
    pcmup_dataset *ds = NULL;
    float x[2 * D] = {0};
    int32_t labels[2] = {0, 1};
    const pcmup_allocator *broken = broken_allocators();
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_from_arrays, &ds, 0, D, C, x, labels, NULL);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_from_arrays, &ds, 2, 0, C, x, labels, NULL);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_from_arrays, &ds, 2, D, 0, x, labels, NULL);
    for (int i = 0; i < 3; i++)
        FAILS(PCMUP_ERR_INVALID, pcmup_dataset_from_arrays, &ds, 2, D, C, x, labels,
              &broken[i]);
    labels[1] = C;
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_from_arrays, &ds, 2, D, C, x, labels, NULL);
    labels[1] = -1;
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_from_arrays, &ds, 2, D, C, x, labels, NULL);
    labels[1] = 1;
    x[2 * D - 1] = NAN;
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_from_arrays, &ds, 2, D, C, x, labels, NULL);
    x[2 * D - 1] = INFINITY;
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_from_arrays, &ds, 2, D, C, x, labels, NULL);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_load_fashion_mnist, &ds, "/nonexistent",
          (pcmup_split)BAD_ENUM, NULL);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_load_fashion_mnist, &ds, "/nonexistent",
          PCMUP_SPLIT_TEST, &broken[0]);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_load_idx, &ds, "/nonexistent/i", "/nonexistent/l",
          &broken[2]);
    FAILS(PCMUP_ERR_IO, pcmup_dataset_load_idx, &ds, "/nonexistent/i", "/nonexistent/l", NULL);
    FAILS(PCMUP_ERR_IO, pcmup_dataset_load_fashion_mnist, &ds, "/nonexistent", PCMUP_SPLIT_TRAIN,
          NULL);
    ck_assert_ptr_null(ds);
}
END_TEST

START_TEST(invalid_dataset_edits)
{
    float x[N * D], y[N * C];
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_truncate, w.data, 0);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_truncate, w.data, N + 1);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_get_batch, w.data, N, 1, x, NULL);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_get_batch, w.data, 1, N, x, NULL);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_get_batch, w.data, (size_t)-1, 2, x, NULL);
    /* "count 0 copies nothing", even at the end. */
    TU_OK(pcmup_dataset_get_batch(w.data, N, 0, x, NULL));
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_one_hot, w.data, N - 1, 2, 0, y);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_one_hot, w.data, 2, (size_t)-1, 0, y);
    /* A reference whose values are all equal has std 0. */
    pcmup_dataset *flat;
    float fx[2 * D];
    for (size_t i = 0; i < 2 * D; i++)
        fx[i] = 0.25f;
    TU_OK(pcmup_dataset_from_arrays(&flat, 2, D, C, fx, (int32_t[]){0, 1}, NULL));
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_standardize, w.data, flat);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_standardize, flat, NULL);
    pcmup_dataset_free(flat);
}
END_TEST

START_TEST(invalid_algo_create)
{
    pcmup_algo *a = NULL;
    const pcmup_allocator *broken = broken_allocators();
    double v;
    FAILS(PCMUP_ERR_INVALID, pcmup_algo_create, &a, (pcmup_rule)BAD_ENUM, w.net, 1, NULL);
    FAILS(PCMUP_ERR_INVALID, pcmup_algo_create, &a, (pcmup_rule)-1, w.net, 1, NULL);
    for (int i = 0; i < 3; i++)
        FAILS(PCMUP_ERR_INVALID, pcmup_algo_create, &a, PCMUP_RULE_BP, w.net, 1, &broken[i]);
    FAILS(PCMUP_ERR_INVALID, pcmup_algo_set, w.algo, (pcmup_setting)BAD_ENUM, 0.1);
    FAILS(PCMUP_ERR_INVALID, pcmup_algo_set, w.algo, (pcmup_setting)-1, 0.1);
    FAILS(PCMUP_ERR_INVALID, pcmup_algo_get, w.algo, (pcmup_setting)BAD_ENUM, &v);
    int accepts;
    FAILS(PCMUP_ERR_INVALID, pcmup_setting_accepts, PCMUP_SET_LR, (pcmup_rule)BAD_ENUM,
          &accepts);
    BOUNDS_FAIL(PCMUP_ERR_INVALID, (pcmup_setting)BAD_ENUM);
    ck_assert_ptr_null(a);
}
END_TEST

/* Setting values outside the documented ranges, non-finite, and
 * non-integral values of enum-valued settings. */
START_TEST(invalid_algo_settings)
{
    static const struct {
        pcmup_setting key;
        double value;
    } bad[] = {
        {PCMUP_SET_LR, -1e-9},          {PCMUP_SET_LR, 1.000001e6},
        {PCMUP_SET_LR, NAN},            {PCMUP_SET_LR, INFINITY},
        {PCMUP_SET_LR, -INFINITY},      {PCMUP_SET_LOSS, 0.5},
        {PCMUP_SET_LOSS, 2.0},          {PCMUP_SET_LOSS, -1.0},
        {PCMUP_SET_LOSS, NAN},          {PCMUP_SET_MSE_CENTRED, 0.5},
        {PCMUP_SET_MSE_CENTRED, 2.0},   {PCMUP_SET_MSE_CENTRED, -1.0},
        {PCMUP_SET_MOMENTUM, 1.0},      {PCMUP_SET_MOMENTUM, -0.1},
        {PCMUP_SET_MOMENTUM, 1.5},      {PCMUP_SET_MOMENTUM, NAN},
        {PCMUP_SET_WEIGHT_DECAY, -1.0}, {PCMUP_SET_WEIGHT_DECAY, 2e6},
        {PCMUP_SET_WEIGHT_DECAY, NAN},  {PCMUP_SET_WEIGHT_DECAY, INFINITY},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        FAILS(PCMUP_ERR_INVALID, pcmup_algo_set, w.algo, bad[i].key, bad[i].value);
    /* The edges of the ranges are accepted; momentum's hi is exclusive. */
    TU_OK(pcmup_algo_set(w.algo, PCMUP_SET_LR, 0.0));
    TU_OK(pcmup_algo_set(w.algo, PCMUP_SET_LR, 1e6));
    TU_OK(pcmup_algo_set(w.algo, PCMUP_SET_MOMENTUM, nextafter(1.0, 0.0)));
    TU_OK(pcmup_algo_set(w.algo, PCMUP_SET_LOSS, PCMUP_LOSS_CE));
    TU_OK(pcmup_algo_set(w.algo, PCMUP_SET_WEIGHT_DECAY, 1e6));
}
END_TEST

START_TEST(invalid_step)
{
    float x[B * D];
    int32_t labels[B];
    double loss;
    FAILS(PCMUP_ERR_INVALID, pcmup_algo_step, w.algo, w.x, w.labels, 0, &loss);
    FAILS(PCMUP_ERR_INVALID, pcmup_algo_step, w.algo, w.x, w.labels, (size_t)1 << 31, &loss);
    const int32_t bad_labels[] = {-1, C, 1000, INT32_MIN};
    for (size_t i = 0; i < 4; i++) {
        memcpy(labels, w.labels, sizeof labels);
        labels[B - 1] = bad_labels[i];
        FAILS(PCMUP_ERR_INVALID, pcmup_algo_step, w.algo, w.x, labels, B, &loss);
    }
    const float bad_x[] = {NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < 3; i++) {
        memcpy(x, w.x, sizeof x);
        x[B * D - 1] = bad_x[i];
        FAILS(PCMUP_ERR_INVALID, pcmup_algo_step, w.algo, x, w.labels, B, &loss);
    }
}
END_TEST

/* A dataset must fit the network: dim = M_0, n_classes <= M_L. */
START_TEST(shape_dataset_vs_net)
{
    pcmup_dataset *wide, *many;
    float x[2 * (D + 1)] = {0};
    TU_OK(pcmup_dataset_from_arrays(&wide, 2, D + 1, C, x, (int32_t[]){0, 1}, NULL));
    TU_OK(pcmup_dataset_from_arrays(&many, 2, D, C + 2, x, (int32_t[]){0, C + 1}, NULL));
    double v;
    FAILS(PCMUP_ERR_SHAPE, pcmup_algo_train_epoch, w.algo, wide, 2, &v);
    FAILS(PCMUP_ERR_SHAPE, pcmup_algo_evaluate, w.algo, wide, &v, &v);
    FAILS(PCMUP_ERR_SHAPE, pcmup_algo_train_epoch, w.algo, many, 2, &v);
    FAILS(PCMUP_ERR_SHAPE, pcmup_algo_evaluate, w.algo, many, &v, &v);
    FAILS(PCMUP_ERR_INVALID, pcmup_algo_train_epoch, w.algo, w.data, 0, &v);
    FAILS(PCMUP_ERR_INVALID, pcmup_algo_train_epoch, w.algo, w.data, (size_t)1 << 31, &v);
    pcmup_dataset_free(wide);
    pcmup_dataset_free(many);
}
END_TEST

/* ======================================================================
 * 4. A failed call leaves the caller's objects as they were
 * ====================================================================== */

START_TEST(unchanged_after_set_weights)
{
    size_t len;
    float *before = net_snapshot(w.net, &len);
    float v[42];
    TU_OK(pcmup_net_get_weights(w.net, 2, v, 42));
    for (size_t i = 0; i < 42; i++)
        v[i] += 1.0f;
    v[21] = NAN; /* in the middle: the first half must not have been stored */
    FAILS(PCMUP_ERR_INVALID, pcmup_net_set_weights, w.net, 2, v, 42);
    assert_net_is(w.net, before, len, "set_weights with a NaN");
    v[21] = 0.0f;
    FAILS(PCMUP_ERR_SHAPE, pcmup_net_set_weights, w.net, 2, v, 41);
    FAILS(PCMUP_ERR_INVALID, pcmup_net_set_weights, w.net, NL + 1, v, 42);
    assert_net_is(w.net, before, len, "set_weights with a bad count or layer");
    float b[7] = {1, 2, 3, 4, 5, 6, 7};
    FAILS(PCMUP_ERR_SHAPE, pcmup_net_set_bias, w.net, 2, b, 7);
    b[3] = INFINITY;
    FAILS(PCMUP_ERR_INVALID, pcmup_net_set_bias, w.net, 2, b, 6);
    assert_net_is(w.net, before, len, "set_bias");
    free(before);
}
END_TEST

START_TEST(unchanged_after_forward)
{
    size_t len;
    float *before = net_snapshot(w.net, &len);
    float x[B * D], out[B * C];
    memcpy(x, w.x, sizeof x);
    x[7] = NAN;
    FAILS(PCMUP_ERR_INVALID, pcmup_net_forward, w.net, x, B, out);
    assert_net_is(w.net, before, len, "a failing forward");
    free(before);
}
END_TEST

START_TEST(unchanged_param)
{
    /* Values that differ from every preset, so a reset would show. */
    TU_OK(pcmup_param_set_layer(w.param, 2, PCMUP_LAYER_A, 0.25));
    TU_OK(pcmup_param_set_layer(w.param, 3, PCMUP_LAYER_SIGMA, 1.5));
    double before[NL * N_LAYER_KEYS + 1];
    param_snapshot(w.param, before);
    FAILS(PCMUP_ERR_INVALID, pcmup_param_set_layer, w.param, NL + 1, PCMUP_LAYER_A, 0.5);
    FAILS(PCMUP_ERR_INVALID, pcmup_param_set_layer, w.param, 2, PCMUP_LAYER_A, 2.5);
    FAILS(PCMUP_ERR_INVALID, pcmup_param_set_layer, w.param, 2, PCMUP_LAYER_C, NAN);
    FAILS(PCMUP_ERR_INVALID, pcmup_param_set_layer, w.param, 2, PCMUP_LAYER_THETA, 1.0);
    FAILS(PCMUP_ERR_INVALID, pcmup_param_set_layer, w.param, 3, PCMUP_LAYER_SIGMA, 0.0);
    FAILS(PCMUP_ERR_INVALID, pcmup_param_set, w.param, PCMUP_PARAM_BASE_WIDTH, 0.0);
    FAILS(PCMUP_ERR_INVALID, pcmup_param_apply_preset, w.param, (pcmup_preset)BAD_ENUM, 0.0, 1.0);
    assert_param_is(w.param, before, "failing setters");
}
END_TEST

START_TEST(unchanged_settings)
{
    TU_OK(pcmup_algo_set(w.algo, PCMUP_SET_LR, 0.37));
    TU_OK(pcmup_algo_set(w.algo, PCMUP_SET_MOMENTUM, 0.5));
    double before[N_SETTINGS];
    settings_snapshot(w.algo, before);
    FAILS(PCMUP_ERR_INVALID, pcmup_algo_set, w.algo, PCMUP_SET_LR, -1.0);
    FAILS(PCMUP_ERR_INVALID, pcmup_algo_set, w.algo, PCMUP_SET_MOMENTUM, 1.0);
    FAILS(PCMUP_ERR_INVALID, pcmup_algo_set, w.algo, PCMUP_SET_LOSS, 0.5);
    FAILS(PCMUP_ERR_INVALID, pcmup_algo_set, w.algo, (pcmup_setting)BAD_ENUM, 0.0);
    assert_settings_are(w.algo, before, "failing pcmup_algo_set");
}
END_TEST

/* A twin of the fixture's net and algorithm: same seeds, same settings. */
static void make_twin(pcmup_net **net, pcmup_algo **algo)
{
    TU_OK(pcmup_net_create(net, NL, WIDTHS, PCMUP_ACT_TANH, PCMUP_NET_BIAS, w.param, 11, NULL));
    set_biases(*net);
    TU_OK(pcmup_algo_create(algo, PCMUP_RULE_BP, *net, 13, NULL));
}

static void set_both(pcmup_algo *a, pcmup_algo *b, pcmup_setting key, double value)
{
    TU_OK(pcmup_algo_set(a, key, value));
    TU_OK(pcmup_algo_set(b, key, value));
}

/* Nets that must be bitwise equal. */
static void assert_same_nets(const pcmup_net *a, const pcmup_net *b, const char *what)
{
    size_t la, lb;
    float *sa = net_snapshot(a, &la), *sb = net_snapshot(b, &lb);
    ck_assert_uint_eq(la, lb);
    ck_assert_msg(memcmp(sa, sb, la * sizeof *sa) == 0, "%s", what);
    free(sa);
    free(sb);
}

/* A step that fails on the last sample's label changes nothing, visible or
 * hidden: afterwards the algorithm steps exactly like a twin that never
 * saw the failing call (momentum on, so its velocity state counts too). */
START_TEST(unchanged_after_step)
{
    pcmup_net *net2;
    pcmup_algo *algo2;
    make_twin(&net2, &algo2);
    set_both(w.algo, algo2, PCMUP_SET_MOMENTUM, 0.9);
    TU_OK(pcmup_algo_step(w.algo, w.x, w.labels, B, NULL));
    TU_OK(pcmup_algo_step(algo2, w.x, w.labels, B, NULL));
    size_t len;
    float *before = net_snapshot(w.net, &len);
    int32_t labels[B];
    memcpy(labels, w.labels, sizeof labels);
    labels[B - 1] = C;
    double loss = -7.0;
    FAILS(PCMUP_ERR_INVALID, pcmup_algo_step, w.algo, w.x, labels, B, &loss);
    ck_assert_double_eq(loss, -7.0);
    float x[B * D];
    memcpy(x, w.x, sizeof x);
    x[B * D - 1] = NAN;
    FAILS(PCMUP_ERR_INVALID, pcmup_algo_step, w.algo, x, w.labels, B, &loss);
    assert_net_is(w.net, before, len, "a failing step");
    TU_OK(pcmup_algo_step(w.algo, w.x, w.labels, B, NULL));
    TU_OK(pcmup_algo_step(algo2, w.x, w.labels, B, NULL));
    assert_same_nets(w.net, net2, "a failing step changed the algorithm's state");
    free(before);
    pcmup_algo_free(algo2);
    pcmup_net_free(net2);
}
END_TEST

/* An identity network whose output overflows float: the loss is infinite
 * before the step, which must report DIVERGED and move nothing. */
START_TEST(diverged_step_changes_nothing)
{
    pcmup_param *p;
    pcmup_net *net;
    pcmup_algo *algo;
    TU_OK(pcmup_param_create(&p, 1, PCMUP_PRESET_SP, NULL));
    TU_OK(pcmup_net_create(&net, 1, (size_t[]){D, C}, PCMUP_ACT_IDENTITY, 0, p, 1, NULL));
    float big[D * C], x[B * D];
    for (size_t i = 0; i < D * C; i++)
        big[i] = 3e38f;
    for (size_t i = 0; i < B * D; i++)
        x[i] = 1.0f; /* each output is 5 * 3e38 > FLT_MAX */
    TU_OK(pcmup_net_set_weights(net, 1, big, D * C));
    TU_OK(pcmup_algo_create(&algo, PCMUP_RULE_BP, net, 1, NULL));
    size_t len;
    float *before = net_snapshot(net, &len);
    double loss = -7.0;
    FAILS(PCMUP_ERR_DIVERGED, pcmup_algo_step, algo, x, w.labels, B, &loss);
    ck_assert_double_eq(loss, -7.0);
    assert_net_is(net, before, len, "a diverged step");
    free(before);
    pcmup_algo_free(algo);
    pcmup_net_free(net);
    pcmup_param_free(p);
}
END_TEST

/* An identity network with a huge learning rate blows up within a few
 * steps of an epoch. The failing epoch must restore the weights and the
 * algorithm's random stream and momentum: a following epoch must match a
 * twin's that never diverged, bit for bit. */
static void make_linear(pcmup_param *p, pcmup_net **net, pcmup_algo **algo)
{
    TU_OK(pcmup_net_create(net, 2, (size_t[]){D, 16, C}, PCMUP_ACT_IDENTITY, 0, p, 5, NULL));
    TU_OK(pcmup_algo_create(algo, PCMUP_RULE_BP, *net, 6, NULL));
}

START_TEST(diverged_epoch_restores)
{
    pcmup_param *p;
    pcmup_net *net, *net2;
    pcmup_algo *algo, *algo2;
    TU_OK(pcmup_param_create(&p, 2, PCMUP_PRESET_SP, NULL));
    make_linear(p, &net, &algo);
    make_linear(p, &net2, &algo2);
    set_both(algo, algo2, PCMUP_SET_MOMENTUM, 0.5);
    size_t len;
    float *before = net_snapshot(net, &len);
    TU_OK(pcmup_algo_set(algo, PCMUP_SET_LR, 1e6));
    double mean = -7.0;
    TU_FAILS(PCMUP_ERR_DIVERGED, pcmup_algo_train_epoch(algo, w.data, 1, &mean));
    ck_assert_double_eq(mean, -7.0);
    assert_net_is(net, before, len, "a diverged epoch");
    TU_OK(pcmup_algo_set(algo, PCMUP_SET_LR, 0.01));
    TU_OK(pcmup_algo_set(algo2, PCMUP_SET_LR, 0.01));
    TU_OK(pcmup_algo_train_epoch(algo, w.data, 3, NULL));
    TU_OK(pcmup_algo_train_epoch(algo2, w.data, 3, NULL));
    assert_same_nets(net, net2, "a diverged epoch left state behind");
    free(before);
    pcmup_algo_free(algo);
    pcmup_algo_free(algo2);
    pcmup_net_free(net);
    pcmup_net_free(net2);
    pcmup_param_free(p);
}
END_TEST

/* The failing call was pcmup_algo_train_epoch, so its message must say so
 * (the header's convention "<function>: <detail>"), even though the
 * failure was met inside one of its steps. */
START_TEST(diverged_epoch_message)
{
    TU_OK(pcmup_param_create(&w.p2, 2, PCMUP_PRESET_SP, NULL));
    make_linear(w.p2, &w.net2, &w.algo2);
    TU_OK(pcmup_algo_set(w.algo2, PCMUP_SET_LR, 1e6));
    FAILS(PCMUP_ERR_DIVERGED, pcmup_algo_train_epoch, w.algo2, w.data, 1, NULL);
}
END_TEST

START_TEST(unchanged_dataset)
{
    float before[N * D], after[N * D];
    int32_t lb[N], la[N];
    TU_OK(pcmup_dataset_get_batch(w.data, 0, N, before, lb));
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_truncate, w.data, N + 1);
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_truncate, w.data, 0);
    pcmup_dataset *flat;
    float fx[D] = {1, 1, 1, 1, 1};
    TU_OK(pcmup_dataset_from_arrays(&flat, 1, D, C, fx, (int32_t[]){0}, NULL));
    FAILS(PCMUP_ERR_INVALID, pcmup_dataset_standardize, w.data, flat);
    pcmup_dataset_free(flat);
    size_t n;
    TU_OK(pcmup_dataset_info(w.data, &n, NULL, NULL));
    ck_assert_uint_eq(n, N);
    TU_OK(pcmup_dataset_get_batch(w.data, 0, N, after, la));
    ck_assert(memcmp(before, after, sizeof before) == 0);
    ck_assert(memcmp(lb, la, sizeof lb) == 0);
}
END_TEST

/* ======================================================================
 * 5. Out-parameters are not written on failure
 * ====================================================================== */

#define SENTINEL_D (-12345.5)
#define SENTINEL_Z ((size_t)0xdeadbeef)
static char sentinel_target;
#define SENTINEL_P ((void *)&sentinel_target)

START_TEST(outputs_untouched_constructors)
{
    pcmup_param *p = SENTINEL_P;
    pcmup_net *net = SENTINEL_P;
    pcmup_algo *a = SENTINEL_P;
    pcmup_dataset *ds = SENTINEL_P;
    (void)pcmup_param_create(&p, 0, PCMUP_PRESET_SP, NULL);
    (void)pcmup_param_create(&p, 2, (pcmup_preset)BAD_ENUM, NULL);
    (void)pcmup_param_clone(&p, NULL);
    (void)pcmup_net_create(&net, NL + 1, WIDTHS, PCMUP_ACT_TANH, 0, w.param, 1, NULL);
    (void)pcmup_net_create(&net, NL, WIDTHS, PCMUP_ACT_TANH, 2, w.param, 1, NULL);
    (void)pcmup_algo_create(&a, (pcmup_rule)BAD_ENUM, w.net, 1, NULL);
    (void)pcmup_dataset_from_arrays(&ds, 0, D, C, w.x, w.labels, NULL);
    (void)pcmup_dataset_load_idx(&ds, "/nonexistent/i", "/nonexistent/l", NULL);
    (void)pcmup_dataset_load_fashion_mnist(&ds, "/nonexistent", PCMUP_SPLIT_TEST, NULL);
    ck_assert_ptr_eq(p, SENTINEL_P);
    ck_assert_ptr_eq(net, SENTINEL_P);
    ck_assert_ptr_eq(a, SENTINEL_P);
    ck_assert_ptr_eq(ds, SENTINEL_P);
}
END_TEST

START_TEST(outputs_untouched_getters)
{
    double v = SENTINEL_D, lo = SENTINEL_D, hi = SENTINEL_D, f[3] = {SENTINEL_D, SENTINEL_D,
                                                                   SENTINEL_D};
    size_t out = SENTINEL_Z, in = SENTINEL_Z;
    int accepts = -7;
    (void)pcmup_param_get_layer(w.param, NL + 1, PCMUP_LAYER_B, &v);
    (void)pcmup_param_get_layer(w.param, 1, (pcmup_layer_key)BAD_ENUM, &v);
    (void)pcmup_param_get(w.param, (pcmup_param_key)BAD_ENUM, &v);
    (void)pcmup_algo_get(w.algo, (pcmup_setting)BAD_ENUM, &v);
    (void)pcmup_param_layer_bounds((pcmup_layer_key)BAD_ENUM, &lo, &hi);
    (void)pcmup_param_bounds((pcmup_param_key)BAD_ENUM, &lo, &hi);
    (void)pcmup_setting_default((pcmup_setting)BAD_ENUM, &v);
    (void)pcmup_setting_accepts(PCMUP_SET_LR, (pcmup_rule)BAD_ENUM, &accepts);
    (void)pcmup_net_layer_shape(w.net, 0, &out, &in);
    (void)pcmup_net_layer_factors(w.net, NL + 1, f, 3);
    ck_assert_double_eq(v, SENTINEL_D);
    ck_assert_double_eq(lo, SENTINEL_D);
    ck_assert_double_eq(hi, SENTINEL_D);
    for (size_t k = 0; k < 3; k++)
        ck_assert_double_eq(f[k], SENTINEL_D);
    ck_assert_uint_eq(out, SENTINEL_Z);
    ck_assert_uint_eq(in, SENTINEL_Z);
    ck_assert_int_eq(accepts, -7);
}
END_TEST

static int all_equal(const float *v, size_t n, float value)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(&v[i], &value, sizeof value) != 0)
            return 0;
    return 1;
}

static void fill(float *v, size_t n, float value)
{
    for (size_t i = 0; i < n; i++)
        v[i] = value;
}

START_TEST(outputs_untouched_arrays)
{
    const float mark = -999.25f;
    float buf[64], out[B * 7], x[B * D];
    fill(buf, 64, mark);
    (void)pcmup_net_get_weights(w.net, 2, buf, 41);
    (void)pcmup_net_get_bias(w.net, 2, buf, 5);
    (void)pcmup_net_get_bias(w.plain, 2, buf, 6);
    ck_assert(all_equal(buf, 64, mark));
    memcpy(x, w.x, sizeof x);
    x[B * D - 1] = NAN;
    fill(out, B * 7, mark);
    (void)pcmup_net_forward(w.net, x, B, out);
    (void)pcmup_net_forward_layer(w.net, x, B, 1, PCMUP_SIGNAL_POST, out);
    (void)pcmup_net_forward_layer(w.net, w.x, B, 1, (pcmup_signal)BAD_ENUM, out);
    ck_assert(all_equal(out, B * 7, mark));
    float dx[N * D], y[N * C];
    int32_t dl[N];
    fill(dx, N * D, mark);
    fill(y, N * C, mark);
    for (size_t i = 0; i < N; i++)
        dl[i] = -5;
    (void)pcmup_dataset_get_batch(w.data, 2, N, dx, dl);
    (void)pcmup_dataset_one_hot(w.data, 2, N, 1, y);
    ck_assert(all_equal(dx, N * D, mark));
    ck_assert(all_equal(y, N * C, mark));
    for (size_t i = 0; i < N; i++)
        ck_assert_int_eq(dl[i], -5);
}
END_TEST

START_TEST(outputs_untouched_training)
{
    double loss = SENTINEL_D, acc = SENTINEL_D;
    int32_t labels[B] = {0, 1, 2, C};
    (void)pcmup_algo_step(w.algo, w.x, labels, B, &loss);
    (void)pcmup_algo_train_epoch(w.algo, w.data, 0, &loss);
    pcmup_dataset *wide;
    float x[D + 1] = {0};
    TU_OK(pcmup_dataset_from_arrays(&wide, 1, D + 1, C, x, (int32_t[]){0}, NULL));
    (void)pcmup_algo_train_epoch(w.algo, wide, 1, &loss);
    (void)pcmup_algo_evaluate(w.algo, wide, &loss, &acc);
    pcmup_dataset_free(wide);
    ck_assert_double_eq(loss, SENTINEL_D);
    ck_assert_double_eq(acc, SENTINEL_D);
}
END_TEST

/* ======================================================================
 * 6. Allocation failures
 *
 * A whole life cycle runs with the k-th allocation failing, for every k
 * until a run has no failure left. The first call that meets the failure
 * must return PCMUP_ERR_NOMEM with a message naming it; retried with a
 * working allocator it must then succeed (the failure left a usable
 * object); at the end, freeing everything returns every block.
 * ====================================================================== */

#define LB 3 /* life-cycle batch */

typedef struct {
    tu_counter cnt;
    pcmup_allocator counting; /* counts and injects failures */
    pcmup_allocator a;        /* checks the contract, then calls counting */
    size_t null_frees;        /* free_fn(NULL) calls: the header rules them out */
    pcmup_param *p, *clone;
    pcmup_net *net;
    pcmup_algo *algo;
    pcmup_dataset *ds, *idx;
    float out[2 * N * C];
    const char *idx_images, *idx_labels;
} life;

/* The allocator handed to the library: the counting one, plus a record of
 * free_fn(NULL) calls ("free_fn is never called with NULL"). */
static void *strict_malloc(void *user, size_t size)
{
    life *s = user;
    return s->counting.malloc_fn(s->counting.user, size);
}

static void *strict_realloc(void *user, void *ptr, size_t size)
{
    life *s = user;
    return s->counting.realloc_fn(s->counting.user, ptr, size);
}

static void strict_free(void *user, void *ptr)
{
    life *s = user;
    if (!ptr)
        s->null_frees++;
    s->counting.free_fn(s->counting.user, ptr);
}

static pcmup_status st_param(life *s)
{
    return pcmup_param_create(&s->p, NL, PCMUP_PRESET_MUP_SGD, &s->a);
}
static pcmup_status st_clone(life *s) { return pcmup_param_clone(&s->clone, s->p); }
static pcmup_status st_net(life *s)
{
    return pcmup_net_create(&s->net, NL, WIDTHS, PCMUP_ACT_TANH, PCMUP_NET_BIAS, s->clone, 3,
                            &s->a);
}
static pcmup_status st_algo(life *s)
{
    return pcmup_algo_create(&s->algo, PCMUP_RULE_BP, s->net, 4, &s->a);
}
static pcmup_status st_momentum(life *s)
{
    return pcmup_algo_set(s->algo, PCMUP_SET_MOMENTUM, 0.9);
}
static pcmup_status st_step(life *s)
{
    return pcmup_algo_step(s->algo, w.x, w.labels, LB, NULL);
}
static pcmup_status st_forward(life *s) { return pcmup_net_forward(s->net, w.x, LB, s->out); }
/* A larger batch grows the forward scratch (realloc of a live block). */
static pcmup_status st_forward_grow(life *s)
{
    float x[N * D];
    TU_OK(pcmup_dataset_get_batch(w.data, 0, N, x, NULL));
    return pcmup_net_forward_layer(s->net, x, N, 2, PCMUP_SIGNAL_POST, s->out);
}
static pcmup_status st_dataset(life *s)
{
    float x[N * D];
    int32_t labels[N];
    TU_OK(pcmup_dataset_get_batch(w.data, 0, N, x, labels));
    return pcmup_dataset_from_arrays(&s->ds, N, D, C, x, labels, &s->a);
}
static pcmup_status st_epoch(life *s) { return pcmup_algo_train_epoch(s->algo, s->ds, 5, NULL); }
static pcmup_status st_evaluate(life *s)
{
    return pcmup_algo_evaluate(s->algo, s->ds, NULL, NULL);
}
static pcmup_status st_truncate(life *s) { return pcmup_dataset_truncate(s->ds, N / 2); }
static pcmup_status st_load_idx(life *s)
{
    return pcmup_dataset_load_idx(&s->idx, s->idx_images, s->idx_labels, &s->a);
}

typedef struct {
    const char *fn;
    pcmup_status (*run)(life *);
    int allocates; /* must meet an injected failure for some k */
    int tolerant;  /* may absorb a failed allocation and succeed */
} life_step;

static const life_step life_steps[] = {
    {"pcmup_param_create", st_param, 1, 0},
    {"pcmup_param_clone", st_clone, 1, 0},
    {"pcmup_net_create", st_net, 1, 0},
    {"pcmup_algo_create", st_algo, 1, 0},
    {"pcmup_algo_set", st_momentum, 0, 0},
    {"pcmup_algo_step", st_step, 1, 0},
    {"pcmup_net_forward", st_forward, 1, 0},
    {"pcmup_net_forward_layer", st_forward_grow, 1, 0},
    {"pcmup_dataset_from_arrays", st_dataset, 1, 0},
    {"pcmup_algo_train_epoch", st_epoch, 1, 0},
    {"pcmup_algo_evaluate", st_evaluate, 1, 0},
    /* Shrinking is best effort: a failed realloc keeps the larger block. */
    {"pcmup_dataset_truncate", st_truncate, 0, 1},
    {"pcmup_dataset_load_idx", st_load_idx, 1, 0},
};
#define N_LIFE_STEPS (sizeof life_steps / sizeof life_steps[0])

static void life_free(life *s)
{
    pcmup_algo_free(s->algo);
    pcmup_net_free(s->net);
    pcmup_param_free(s->clone);
    pcmup_param_free(s->p);
    pcmup_dataset_free(s->ds);
    pcmup_dataset_free(s->idx);
}

/* Runs one step; returns 1 if it met the injected failure. */
static int life_run_step(life *s, const life_step *st, size_t k)
{
    size_t pending = s->cnt.fail_after;
    pcmup_status got = st->run(s);
    int met = pending != 0 && s->cnt.fail_after == 0;
    if (!met || (st->tolerant && got == PCMUP_OK)) {
        ck_assert_msg(got == PCMUP_OK, "k = %zu: %s -> %s (%s)", k, st->fn,
                      pcmup_status_name(got), pcmup_last_error());
        return met;
    }
    ck_assert_msg(got == PCMUP_ERR_NOMEM, "k = %zu: %s -> %s after a failed allocation", k,
                  st->fn, pcmup_status_name(got));
    ck_assert_msg(strncmp(pcmup_last_error(), st->fn, strlen(st->fn)) == 0,
                  "k = %zu: message \"%s\" does not name %s", k, pcmup_last_error(), st->fn);
    got = st->run(s); /* the allocator works again */
    ck_assert_msg(got == PCMUP_OK, "k = %zu: %s failed again after NOMEM: %s (%s)", k, st->fn,
                  pcmup_status_name(got), pcmup_last_error());
    return 1;
}

/* One life cycle with the k-th allocation failing; returns the index of the
 * step that met the failure, or -1 if none did. */
static int life_cycle(size_t k, const char *images, const char *labels)
{
    life s;
    memset(&s, 0, sizeof s);
    s.counting = tu_counting_allocator(&s.cnt);
    s.a = (pcmup_allocator){strict_malloc, strict_realloc, strict_free, &s};
    s.cnt.fail_after = k;
    s.idx_images = images;
    s.idx_labels = labels;
    int failed_at = -1;
    for (size_t i = 0; i < N_LIFE_STEPS; i++)
        if (life_run_step(&s, &life_steps[i], k) && failed_at < 0)
            failed_at = (int)i;
    life_free(&s);
    ck_assert_msg(s.cnt.live == 0, "k = %zu: %ld blocks leaked", k, s.cnt.live);
    ck_assert_msg(s.null_frees == 0, "k = %zu: free_fn called %zu times with NULL", k,
                  s.null_frees);
    return failed_at;
}

/* A tiny IDX pair: 4 images of 2 x 3 bytes and their labels. */
static void write_file(const char *path, const unsigned char *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(bytes, 1, n, f), n);
    fclose(f);
}

static void write_idx_pair(const char *images, const char *labels)
{
    unsigned char img[4 + 12 + 24] = {0, 0, 8, 3, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, 3};
    for (int i = 0; i < 24; i++)
        img[16 + i] = (unsigned char)(i * 10);
    const unsigned char lab[] = {0, 0, 8, 1, 0, 0, 0, 4, 0, 1, 2, 1};
    write_file(images, img, 16 + 24);
    write_file(labels, lab, sizeof lab);
}

START_TEST(nomem_injection)
{
    char images[64], labels[64];
    snprintf(images, sizeof images, "/tmp/pcmup_api_%ld_img", (long)getpid());
    snprintf(labels, sizeof labels, "/tmp/pcmup_api_%ld_lab", (long)getpid());
    write_idx_pair(images, labels);
    int met[N_LIFE_STEPS] = {0};
    size_t k = 1;
    for (;; k++) {
        ck_assert_msg(k < 1000, "the life cycle never ran without failure");
        int at = life_cycle(k, images, labels);
        if (at < 0)
            break;
        met[at] = 1;
    }
    unlink(images);
    unlink(labels);
    for (size_t i = 0; i < N_LIFE_STEPS; i++)
        ck_assert_msg(!life_steps[i].allocates || met[i],
                      "%s never met an allocation failure: does it use the allocator?",
                      life_steps[i].fn);
    ck_assert_uint_gt(k, N_LIFE_STEPS);
}
END_TEST

/* Every handle's memory goes through its allocator: counted, and all of it
 * returned on free. */
START_TEST(allocator_sees_everything)
{
    tu_counter cnt;
    pcmup_allocator a = tu_counting_allocator(&cnt);
    pcmup_param *p;
    pcmup_net *net;
    pcmup_algo *algo;
    float out[B * C];
    TU_OK(pcmup_param_create(&p, NL, PCMUP_PRESET_SP, &a));
    size_t after_param = cnt.n_malloc + cnt.n_realloc;
    ck_assert_uint_gt(after_param, 0);
    TU_OK(pcmup_net_create(&net, NL, WIDTHS, PCMUP_ACT_TANH, 0, p, 1, &a));
    size_t after_net = cnt.n_malloc + cnt.n_realloc;
    ck_assert_uint_gt(after_net, after_param);
    TU_OK(pcmup_algo_create(&algo, PCMUP_RULE_BP, net, 1, &a));
    size_t after_algo = cnt.n_malloc + cnt.n_realloc;
    ck_assert_uint_gt(after_algo, after_net);
    TU_OK(pcmup_algo_step(algo, w.x, w.labels, B, NULL));
    ck_assert_uint_gt(cnt.n_malloc + cnt.n_realloc, after_algo);
    TU_OK(pcmup_net_forward(net, w.x, B, out));
    /* "after the first step at a given batch size, steps allocate nothing" */
    size_t before = cnt.n_malloc + cnt.n_realloc;
    TU_OK(pcmup_algo_step(algo, w.x, w.labels, B, NULL));
    TU_OK(pcmup_algo_step(algo, w.x, w.labels, B - 1, NULL));
    TU_OK(pcmup_net_forward(net, w.x, B, out));
    ck_assert_uint_eq(cnt.n_malloc + cnt.n_realloc, before);
    ck_assert_int_gt(cnt.live, 0);
    pcmup_algo_free(algo);
    pcmup_net_free(net);
    pcmup_param_free(p);
    ck_assert_int_eq(cnt.live, 0);
}
END_TEST

/* "The struct is copied at creation": the caller's struct may change or
 * die right after; the handles keep using the functions and `user` they
 * were given. */
START_TEST(allocator_struct_copied)
{
    tu_counter cnt;
    pcmup_allocator a = tu_counting_allocator(&cnt);
    pcmup_param *p;
    pcmup_net *net;
    pcmup_algo *algo;
    TU_OK(pcmup_param_create(&p, NL, PCMUP_PRESET_SP, &a));
    TU_OK(pcmup_net_create(&net, NL, WIDTHS, PCMUP_ACT_TANH, 0, p, 1, &a));
    TU_OK(pcmup_algo_create(&algo, PCMUP_RULE_BP, net, 1, &a));
    memset(&a, 0, sizeof a);
    size_t before = cnt.n_malloc + cnt.n_realloc;
    TU_OK(pcmup_algo_step(algo, w.x, w.labels, B, NULL));
    ck_assert_uint_gt(cnt.n_malloc + cnt.n_realloc, before);
    pcmup_algo_free(algo);
    pcmup_net_free(net);
    pcmup_param_free(p);
    ck_assert_int_eq(cnt.live, 0);
}
END_TEST

#if defined(__GLIBC__) && defined(__GLIBC_PREREQ)
#if __GLIBC_PREREQ(2, 33)
#define HAVE_MALLINFO2 1
#endif
#endif

#ifdef HAVE_MALLINFO2
/* A bump allocator on a static arena: no byte of it comes from malloc. */
static unsigned char arena[1 << 20];
static size_t arena_used;
static long arena_live;

static void *arena_malloc(void *user, size_t size)
{
    (void)user;
    size_t need = 16 + ((size + 15) & ~(size_t)15);
    if (arena_used + need > sizeof arena)
        return NULL;
    unsigned char *p = arena + arena_used;
    arena_used += need;
    memcpy(p, &size, sizeof size);
    arena_live++;
    return p + 16;
}

static void *arena_realloc(void *user, void *ptr, size_t size)
{
    void *q = arena_malloc(user, size);
    if (q && ptr) {
        size_t old;
        memcpy(&old, (unsigned char *)ptr - 16, sizeof old);
        memcpy(q, ptr, old < size ? old : size);
        arena_live--;
    }
    return q;
}

static void arena_free(void *user, void *ptr)
{
    (void)user;
    if (ptr)
        arena_live--;
}

/* Creates, trains and evaluates with `a`; leaves the handles alive. */
static void exercise(const pcmup_allocator *a, pcmup_param **p, pcmup_net **net,
                     pcmup_algo **algo, pcmup_dataset **ds)
{
    float x[N * D];
    int32_t labels[N];
    float out[N * C];
    TU_OK(pcmup_dataset_get_batch(w.data, 0, N, x, labels));
    TU_OK(pcmup_param_create(p, NL, PCMUP_PRESET_SP, a));
    TU_OK(pcmup_net_create(net, NL, WIDTHS, PCMUP_ACT_TANH, PCMUP_NET_BIAS, *p, 1, a));
    TU_OK(pcmup_algo_create(algo, PCMUP_RULE_BP, *net, 1, a));
    TU_OK(pcmup_algo_set(*algo, PCMUP_SET_MOMENTUM, 0.5));
    TU_OK(pcmup_dataset_from_arrays(ds, N, D, C, x, labels, a));
    TU_OK(pcmup_algo_step(*algo, w.x, w.labels, B, NULL));
    TU_OK(pcmup_algo_train_epoch(*algo, *ds, 5, NULL));
    TU_OK(pcmup_algo_evaluate(*algo, *ds, NULL, NULL));
    TU_OK(pcmup_net_forward(*net, x, N, out));
}

static void release(pcmup_param *p, pcmup_net *net, pcmup_algo *algo, pcmup_dataset *ds)
{
    pcmup_algo_free(algo);
    pcmup_net_free(net);
    pcmup_param_free(p);
    pcmup_dataset_free(ds);
}

/* With handles living in a static arena, the process heap does not grow:
 * nothing a handle owns bypasses its allocator. A first run with the
 * default allocator lets BLAS set up its own buffers beforehand. */
START_TEST(no_byte_bypasses_allocator)
{
    pcmup_param *p;
    pcmup_net *net;
    pcmup_algo *algo;
    pcmup_dataset *ds;
    exercise(NULL, &p, &net, &algo, &ds);
    release(p, net, algo, ds);
    pcmup_allocator a = {arena_malloc, arena_realloc, arena_free, NULL};
    size_t heap_before = mallinfo2().uordblks;
    exercise(&a, &p, &net, &algo, &ds);
    size_t heap_during = mallinfo2().uordblks;
    ck_assert_int_gt(arena_live, 0);
    release(p, net, algo, ds);
    ck_assert_int_eq(arena_live, 0);
    ck_assert_msg(heap_during == heap_before, "heap grew by %zd bytes outside the allocator",
                  (ssize_t)(heap_during - heap_before));
}
END_TEST
#endif

/* ======================================================================
 * 7. The last-error message is per thread
 * ====================================================================== */

typedef struct {
    pthread_barrier_t *barrier;
    int which;
    int started_empty;   /* "" in a fresh thread */
    int kept_own;        /* own message survived the other's failure */
    int loop_ok;         /* every concurrent iteration saw its own message */
} thread_arg;

static int message_names(const char *fn)
{
    return strncmp(pcmup_last_error(), fn, strlen(fn)) == 0;
}

/* Thread 0 fails in pcmup_net_set_weights on its own net, thread 1 in
 * pcmup_param_set_layer on its own parameterization. */
static void fail_once(int which, pcmup_net *net, pcmup_param *p)
{
    float v[3] = {0};
    if (which == 0)
        (void)pcmup_net_set_weights(net, 1, v, 3);
    else
        (void)pcmup_param_set_layer(p, 9, PCMUP_LAYER_A, 0.0);
}

static const char *const thread_fn[2] = {"pcmup_net_set_weights", "pcmup_param_set_layer"};

static void *thread_main(void *arg_)
{
    thread_arg *arg = arg_;
    pcmup_param *p = NULL;
    pcmup_net *net = NULL;
    arg->started_empty = pcmup_last_error()[0] == '\0';
    if (pcmup_param_create(&p, 1, PCMUP_PRESET_SP, NULL) != PCMUP_OK ||
        pcmup_net_create(&net, 1, (size_t[]){4, 2}, PCMUP_ACT_TANH, 0, p, 1, NULL) != PCMUP_OK)
        return NULL;
    /* In turn: 0 fails, 1 fails, then both look. */
    for (int turn = 0; turn < 2; turn++) {
        if (turn == arg->which)
            fail_once(arg->which, net, p);
        pthread_barrier_wait(arg->barrier);
    }
    arg->kept_own = message_names(thread_fn[arg->which]);
    pthread_barrier_wait(arg->barrier);
    arg->loop_ok = 1;
    for (int i = 0; i < 20000; i++) {
        fail_once(arg->which, net, p);
        if (!message_names(thread_fn[arg->which]))
            arg->loop_ok = 0;
    }
    pcmup_net_free(net);
    pcmup_param_free(p);
    return NULL;
}

START_TEST(last_error_per_thread)
{
    FAILS(PCMUP_ERR_INVALID, pcmup_algo_set, w.algo, PCMUP_SET_MOMENTUM, 1.0);
    pthread_barrier_t barrier;
    ck_assert_int_eq(pthread_barrier_init(&barrier, NULL, 2), 0);
    pthread_t t[2];
    thread_arg args[2];
    for (int i = 0; i < 2; i++) {
        args[i] = (thread_arg){&barrier, i, 0, 0, 0};
        ck_assert_int_eq(pthread_create(&t[i], NULL, thread_main, &args[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&barrier);
    for (int i = 0; i < 2; i++) {
        ck_assert_msg(args[i].started_empty, "thread %d did not start with \"\"", i);
        ck_assert_msg(args[i].kept_own, "thread %d saw the other thread's message", i);
        ck_assert_msg(args[i].loop_ok, "thread %d saw a foreign message while racing", i);
    }
    ck_assert_msg(message_names("pcmup_algo_set"), "the main thread's message changed: %s",
                  pcmup_last_error());
}
END_TEST

/* ====================================================================== */

static TCase *fixture_case(const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    return tc;
}

static TCase *basics_case(void)
{
    TCase *tc = fixture_case("basics");
    tcase_add_test(tc, status_names_distinct);
    tcase_add_test(tc, status_names_out_of_range);
    tcase_add_test(tc, version_matches_macros);
    tcase_add_test(tc, blas_threads);
    tcase_add_test(tc, algo_settings_documented);
    tcase_add_test(tc, algo_reports_its_rule);
    tcase_add_test(tc, success_keeps_last_error);
    tcase_add_test(tc, message_is_specific);
    tcase_add_test(tc, never_prints);
    return tc;
}

static TCase *null_case(void)
{
    TCase *tc = fixture_case("null");
    tcase_add_test(tc, free_accepts_null);
    tcase_add_test(tc, null_param);
    tcase_add_test(tc, null_net_create);
    tcase_add_test(tc, null_net_queries);
    tcase_add_test(tc, null_net_arrays);
    tcase_add_test(tc, null_dataset);
    tcase_add_test(tc, null_algo);
    tcase_add_test(tc, optional_pointers);
    return tc;
}

static TCase *invalid_case(void)
{
    TCase *tc = fixture_case("invalid");
    tcase_add_test(tc, invalid_param_create);
    tcase_add_test(tc, invalid_param_layer);
    tcase_add_test(tc, invalid_param_values);
    tcase_add_test(tc, invalid_net_create);
    tcase_add_test(tc, invalid_net_widths);
    tcase_add_test(tc, net_too_large);
    tcase_add_test(tc, invalid_net_layer);
    tcase_add_test(tc, shape_net_counts);
    tcase_add_test(tc, bias_unsupported);
    tcase_add_test(tc, nonfinite_weights_and_bias);
    tcase_add_test(tc, invalid_forward);
    tcase_add_test(tc, set_weights_overflow);
    tcase_add_test(tc, invalid_dataset);
    tcase_add_test(tc, invalid_dataset_edits);
    tcase_add_test(tc, invalid_algo_create);
    tcase_add_test(tc, invalid_algo_settings);
    tcase_add_test(tc, invalid_step);
    tcase_add_test(tc, shape_dataset_vs_net);
    return tc;
}

static TCase *unchanged_case(void)
{
    TCase *tc = fixture_case("unchanged");
    tcase_add_test(tc, unchanged_after_set_weights);
    tcase_add_test(tc, unchanged_after_forward);
    tcase_add_test(tc, unchanged_param);
    tcase_add_test(tc, unchanged_settings);
    tcase_add_test(tc, unchanged_after_step);
    tcase_add_test(tc, diverged_step_changes_nothing);
    tcase_add_test(tc, diverged_epoch_restores);
    tcase_add_test(tc, diverged_epoch_message);
    tcase_add_test(tc, unchanged_dataset);
    return tc;
}

static TCase *outputs_case(void)
{
    TCase *tc = fixture_case("outputs");
    tcase_add_test(tc, outputs_untouched_constructors);
    tcase_add_test(tc, outputs_untouched_getters);
    tcase_add_test(tc, outputs_untouched_arrays);
    tcase_add_test(tc, outputs_untouched_training);
    return tc;
}

static TCase *memory_case(void)
{
    TCase *tc = fixture_case("memory");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, nomem_injection);
    tcase_add_test(tc, allocator_sees_everything);
    tcase_add_test(tc, allocator_struct_copied);
#ifdef HAVE_MALLINFO2
    tcase_add_test(tc, no_byte_bypasses_allocator);
#endif
    tcase_add_test(tc, last_error_per_thread);
    return tc;
}

int main(void)
{
    Suite *s = suite_create("api");
    suite_add_tcase(s, basics_case());
    suite_add_tcase(s, null_case());
    suite_add_tcase(s, invalid_case());
    suite_add_tcase(s, unchanged_case());
    suite_add_tcase(s, outputs_case());
    suite_add_tcase(s, memory_case());
    return tu_run_suite(s);
}
