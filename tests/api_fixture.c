/* SPDX-License-Identifier: MIT */
/*
 * api_fixture.c -- the fixture and the helpers the test_api_*.c programs
 * share (api_fixture.h).
 */
#include "api_fixture.h"

#include <stdlib.h>
#include <string.h>

const size_t WIDTHS[NL + 2] = {D, 7, 6, C, 0};

api_world w;

/* Inputs uniform in (-1, 1) from `seed` and cyclic labels. */
static void fill_samples(float *x, int32_t *labels, size_t n, uint32_t seed)
{
    tu_fill_uniform(x, n * D, seed);
    for (size_t i = 0; i < n; i++)
        labels[i] = (int32_t)(i % C);
}

void set_biases(pcmup_net *net)
{
    for (size_t l = 1; l <= NL; l++) {
        float bias[8];
        tu_fill_uniform(bias, WIDTHS[l], 77 + l);
        TU_OK(pcmup_net_set_bias(net, l, bias, WIDTHS[l]));
    }
}

void api_setup(void)
{
    fill_samples(w.x, w.labels, B, 1);
    TU_OK(pcmup_param_create(&w.param, NL, PCMUP_PRESET_MUP_SGD, NULL));
    TU_OK(pcmup_param_set(w.param, PCMUP_PARAM_BASE_WIDTH, 4.0));
    TU_OK(pcmup_net_create(&w.net, WIDTHS, NL + 1, PCMUP_ACT_TANH, PCMUP_NET_BIAS, w.param, 11,
                           NULL));
    set_biases(w.net);
    TU_OK(pcmup_net_create(&w.plain, WIDTHS, NL + 1, PCMUP_ACT_TANH, 0, w.param, 12, NULL));
    TU_OK(pcmup_algo_create(&w.algo, PCMUP_RULE_BP, w.net, 13, NULL));
    float dx[N * D];
    int32_t dl[N];
    fill_samples(dx, dl, N, 2);
    TU_OK(pcmup_dataset_from_arrays(&w.data, N, D, C, dx, N * D, dl, NULL));
}

void api_teardown(void)
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

int api_run(const char *name, double timeout, const TTest *const *tests, size_t n)
{
    return tu_run_tests(name, timeout, api_setup, api_teardown, tests, n);
}

const pcmup_allocator *broken_allocators(void)
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

/* Every layer's effective weights, then every bias (if the net has them). */
float *net_snapshot(const pcmup_net *net, size_t *len)
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

void assert_net_is(const pcmup_net *net, const float *before, size_t len,
                   const char *after_what)
{
    size_t now_len;
    float *now = net_snapshot(net, &now_len);
    ck_assert_uint_eq(now_len, len);
    ck_assert_msg(memcmp(now, before, len * sizeof *now) == 0,
                  "the network changed after %s", after_what);
    free(now);
}

size_t off_by_one(size_t count, int k)
{
    return k ? count + 1 : count - 1;
}

void fill_sentinel(float *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        a[i] = (float)SENTINEL;
}

void fill_sentinel_d(double *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        a[i] = SENTINEL;
}

void assert_sentinel(const float *a, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(a[i] == (float)SENTINEL, "%s wrote element %zu of an output", what, i);
}

void assert_sentinel_d(const double *a, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(a[i] == SENTINEL, "%s wrote element %zu of an output", what, i);
}
