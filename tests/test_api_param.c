/* SPDX-License-Identifier: MIT */
/*
 * test_api_param.c -- pcmup_param at the edges of the API (api_fixture.h):
 * NULL pointers, invalid layers, keys and values, and a failed setter
 * leaves the parameterization as it was.
 */
#include "api_fixture.h"

#include <math.h>
#include <string.h>

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

int main(void)
{
    const TTest *tests[] = {
        null_param,
        invalid_param_create,
        invalid_param_layer,
        invalid_param_values,
        unchanged_param,
    };
    return api_run("api_param", 60, tests, TU_COUNT(tests));
}
