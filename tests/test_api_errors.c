/* SPDX-License-Identifier: MIT */
/*
 * test_api_errors.c -- what the API promises across its objects
 * (api_fixture.h): status names and messages, the version, BLAS threads,
 * the last-error message (specific, kept by a successful call, per thread),
 * that the library never prints, NULL where the header allows it, and that
 * a failed call writes no out-parameter.
 */
#define _POSIX_C_SOURCE 200809L
#include "api_fixture.h"

#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* "A successful call does not clear it." */
START_TEST(success_keeps_last_error)
{
    FAILS(PCMUP_ERR_INVALID, pcmup_param_set_layer, w.param, 0, PCMUP_LAYER_A, 0.0);
    char before[512];
    snprintf(before, sizeof before, "%s", pcmup_last_error());
    TU_OK(pcmup_param_set_layer(w.param, 1, PCMUP_LAYER_A, 0.0));
    TU_OK(pcmup_net_forward(w.net, w.x, B * D, B, (float[B * C]){0}, B * C));
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
    (void)pcmup_net_forward(w.net, nan_x, B * D, B, (float[B * C]){0}, B * C);
    (void)pcmup_algo_step(w.algo, nan_x, B * D, w.labels, B, NULL);
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

START_TEST(free_accepts_null)
{
    pcmup_param_free(NULL);
    pcmup_net_free(NULL);
    pcmup_algo_free(NULL);
    pcmup_dataset_free(NULL);
    ck_assert_ptr_nonnull(pcmup_last_error());
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
    TU_OK(pcmup_dataset_get_batch(w.data, 0, 2, NULL, 0, NULL));
    TU_OK(pcmup_algo_step(w.algo, w.x, B * D, w.labels, B, NULL));
    TU_OK(pcmup_algo_train_epoch(w.algo, w.data, 5, NULL));
    TU_OK(pcmup_algo_evaluate(w.algo, w.data, NULL, NULL));
    TU_OK(pcmup_algo_evaluate(w.algo, w.data, &loss, NULL));
    TU_OK(pcmup_algo_evaluate(w.algo, w.data, NULL, &acc));
    ck_assert(loss > 0 && isfinite(loss));
    ck_assert(acc >= 0 && acc <= 1);
    TU_OK(pcmup_dataset_standardize(w.data, NULL));
}
END_TEST

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
    (void)pcmup_net_create(&net, WIDTHS, NL + 2, PCMUP_ACT_TANH, 0, w.param, 1, NULL);
    (void)pcmup_net_create(&net, WIDTHS, NL + 1, PCMUP_ACT_TANH, 2, w.param, 1, NULL);
    (void)pcmup_algo_create(&a, (pcmup_rule)BAD_ENUM, w.net, 1, NULL);
    (void)pcmup_dataset_from_arrays(&ds, 0, D, C, w.x, 0, w.labels, NULL);
    (void)pcmup_dataset_from_arrays(&ds, B, D, C, w.x, B * D + 1, w.labels, NULL);
    (void)pcmup_dataset_load_idx(&ds, "/nonexistent/i", "/nonexistent/l", NULL);
    (void)pcmup_dataset_load_fashion_mnist(&ds, "/nonexistent", PCMUP_SPLIT_TEST, NULL);
    (void)pcmup_dataset_load_cifar10(&ds, "/nonexistent", PCMUP_SPLIT_TEST, NULL);
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

START_TEST(outputs_untouched_arrays)
{
    float buf[64], out[B * 7], x[B * D];
    fill_sentinel(buf, 64);
    (void)pcmup_net_get_weights(w.net, 2, buf, 41);
    (void)pcmup_net_get_bias(w.net, 2, buf, 5);
    (void)pcmup_net_get_bias(w.plain, 2, buf, 6);
    assert_sentinel(buf, 64, "a failing get_weights or get_bias");
    memcpy(x, w.x, sizeof x);
    x[B * D - 1] = NAN;
    fill_sentinel(out, B * 7);
    (void)pcmup_net_forward(w.net, x, B * D, B, out, B * C);
    (void)pcmup_net_forward_layer(w.net, x, B * D, B, 1, PCMUP_SIGNAL_POST, out, B * 7);
    (void)pcmup_net_forward_layer(w.net, w.x, B * D, B, 1, (pcmup_signal)BAD_ENUM, out, B * 7);
    assert_sentinel(out, B * 7, "a failing forward pass");
    float dx[N * D], y[N * C];
    int32_t dl[N];
    fill_sentinel(dx, N * D);
    fill_sentinel(y, N * C);
    for (size_t i = 0; i < N; i++)
        dl[i] = -5;
    (void)pcmup_dataset_get_batch(w.data, 2, N, dx, N * D, dl);
    (void)pcmup_dataset_one_hot(w.data, 2, N, 1, y, N * C);
    assert_sentinel(dx, N * D, "a failing get_batch");
    assert_sentinel(y, N * C, "a failing one_hot");
    for (size_t i = 0; i < N; i++)
        ck_assert_int_eq(dl[i], -5);
}
END_TEST

START_TEST(outputs_untouched_training)
{
    double loss = SENTINEL_D, acc = SENTINEL_D;
    int32_t labels[B] = {0, 1, 2, C};
    (void)pcmup_algo_step(w.algo, w.x, B * D, labels, B, &loss);
    (void)pcmup_algo_step(w.algo, w.x, B * D - 1, w.labels, B, &loss);
    (void)pcmup_algo_train_epoch(w.algo, w.data, 0, &loss);
    pcmup_dataset *wide;
    float x[D + 1] = {0};
    TU_OK(pcmup_dataset_from_arrays(&wide, 1, D + 1, C, x, D + 1, (int32_t[]){0}, NULL));
    (void)pcmup_algo_train_epoch(w.algo, wide, 1, &loss);
    (void)pcmup_algo_evaluate(w.algo, wide, &loss, &acc);
    pcmup_dataset_free(wide);
    ck_assert_double_eq(loss, SENTINEL_D);
    ck_assert_double_eq(acc, SENTINEL_D);
}
END_TEST

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
        pcmup_net_create(&net, (size_t[]){4, 2}, 2, PCMUP_ACT_TANH, 0, p, 1, NULL) != PCMUP_OK)
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

int main(void)
{
    const TTest *tests[] = {
        status_names_distinct,
        status_names_out_of_range,
        version_matches_macros,
        blas_threads,
        success_keeps_last_error,
        message_is_specific,
        never_prints,
        free_accepts_null,
        optional_pointers,
        outputs_untouched_constructors,
        outputs_untouched_getters,
        outputs_untouched_arrays,
        outputs_untouched_training,
        last_error_per_thread,
    };
    return api_run("api_errors", 60, tests, TU_COUNT(tests));
}
