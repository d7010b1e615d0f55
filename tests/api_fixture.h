/* SPDX-License-Identifier: MIT */
/*
 * api_fixture.h -- what the test_api_*.c programs share: the public API at
 * its edges. Every function, called with a NULL or an invalid argument,
 * returns the documented status, leaves a message that names it, writes
 * no out-parameter and changes no object; allocation failures are
 * reported (never crashed on) and leak nothing; the last-error message is
 * per thread. One program per object: test_api_param.c, test_api_net.c,
 * test_api_dataset.c, test_api_algo.c, test_api_memory.c (allocators) and
 * test_api_errors.c (statuses, messages, version: what spans them all).
 *
 * Where pcmup.h documents a check but not its status code, the tests pin
 * the code the rest of the API uses for the same kind of mistake (a value
 * outside its range is PCMUP_ERR_INVALID, a count that does not match a
 * shape is PCMUP_ERR_SHAPE) and say so.
 */
#ifndef PCMUP_API_FIXTURE_H
#define PCMUP_API_FIXTURE_H

#include "testutil.h"

/* ---- the objects most tests work on ------------------------------------ */

#define NL 3 /* weight layers */
#define D 5  /* input dimension */
#define C 3  /* outputs = classes */
#define B 4  /* batch */
#define N 12 /* dataset samples */
/* {D, 7, 6, C, 0}: NL + 1 widths, and a 0 so that a count one too large
 * (NL + 2) still points inside the array. */
extern const size_t WIDTHS[NL + 2];

#define BAD_ENUM 99

typedef struct {
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
} api_world;

/* The fixture: built by api_setup before each test, freed by api_teardown. */
extern api_world w;

void api_setup(void);
void api_teardown(void);
/* Runs the tests with the fixture around each, `timeout` seconds each. */
int api_run(const char *name, double timeout, const TTest *const *tests, size_t n);

/* Non-zero biases, so that comparisons of "unchanged" cover them too. */
void set_biases(pcmup_net *net);

/* ---- checking a failure ------------------------------------------------ */

/* fn(...) returns `want` with the message "<fn>: <detail>" (TU_FAILS_IN). */
#define FAILS(want, fn, ...) TU_FAILS_IN(want, fn, __VA_ARGS__)

/* FAILS for pcmup_setting_bounds, whose status is in the struct it returns. */
#define BOUNDS_FAIL(want, key)                                                 \
    do {                                                                       \
        tu_prime_message("pcmup_setting_bounds");                              \
        tu_check_failure((want), pcmup_setting_bounds(key).status,             \
                         "pcmup_setting_bounds", "pcmup_setting_bounds(" #key ")", \
                         __FILE__, __LINE__);                                  \
    } while (0)

/* Allocators missing malloc_fn, realloc_fn and free_fn in turn. */
const pcmup_allocator *broken_allocators(void);

/* ---- snapshots of state, read back through the public API -------------- */

/* Every layer's effective weights, then every bias (if the net has them). */
float *net_snapshot(const pcmup_net *net, size_t *len);
void assert_net_is(const pcmup_net *net, const float *before, size_t len,
                   const char *after_what);

/* ---- outputs a failing call must leave as they were -------------------- */

/* A count one too small (k = 0) or one too large (k = 1). */
size_t off_by_one(size_t count, int k);

/* Fills n values with SENTINEL, a value no call writes, and checks that
 * they still hold it (`what` names the call in the failure message). */
#define SENTINEL 12345.0
void fill_sentinel(float *a, size_t n);
void fill_sentinel_d(double *a, size_t n);
void assert_sentinel(const float *a, size_t n, const char *what);
void assert_sentinel_d(const double *a, size_t n, const char *what);

#endif
