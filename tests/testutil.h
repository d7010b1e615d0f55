/*
 * testutil.h -- helpers shared by the test programs: running a Check suite,
 * a counting allocator, and the reader for the reference vectors in
 * tests/data/vectors (format: tests/data/vectors/README.md).
 */
#ifndef PCMUP_TESTUTIL_H
#define PCMUP_TESTUTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "pcmup.h"

/* Runs the suite (CK_NORMAL output) and returns the process exit status. */
int tu_run_suite(Suite *suite);

/* Asserts that `expr` returns PCMUP_OK, printing pcmup_last_error() if not. */
#define TU_OK(expr)                                                            \
    do {                                                                       \
        pcmup_status tu_s_ = (expr);                                           \
        ck_assert_msg(tu_s_ == PCMUP_OK, "%s -> %s: %s", #expr,                \
                      pcmup_status_name(tu_s_), pcmup_last_error());           \
    } while (0)

/* Asserts that `expr` returns `want` and left a non-empty message. */
#define TU_FAILS(want, expr)                                                   \
    do {                                                                       \
        pcmup_status tu_s_ = (expr);                                           \
        ck_assert_msg(tu_s_ == (want), "%s -> %s, expected %s (%s)", #expr,    \
                      pcmup_status_name(tu_s_), pcmup_status_name(want),       \
                      pcmup_last_error());                                     \
        ck_assert_msg(pcmup_last_error()[0] != '\0', "%s left no message", #expr); \
    } while (0)

/* A counting allocator: counts calls, live blocks, and can be told to fail
 * the k-th allocation from now (fail_after = k >= 1; 0 = never). */
typedef struct {
    size_t n_malloc, n_realloc, n_free;
    long live;
    size_t fail_after;
} tu_counter;

pcmup_allocator tu_counting_allocator(tu_counter *counter);

/* A reference case from tests/data/vectors/<name>. */
typedef struct {
    char name[64];
    char **keys;
    char **values;
    size_t n_keys;
} tu_case;

tu_case *tu_case_load(const char *name);
void tu_case_free(tu_case *c);
/* Whether the case has `key`. */
int tu_case_has(const tu_case *c, const char *key);
/* The value string of `key`; fails the test if missing. */
const char *tu_case_str(const tu_case *c, const char *key);
double tu_case_num(const tu_case *c, const char *key);
/* The i-th number of a space-separated list value. */
double tu_case_list(const tu_case *c, const char *key, size_t i);
/* Loads <name>.f64 (converted to double) / <name>.i32 into a malloc'd array;
 * *n receives the element count. */
double *tu_case_f64(const tu_case *c, const char *file, size_t *n);
int32_t *tu_case_i32(const tu_case *c, const char *file, size_t *n);

/* cos(a, b) over n floats, in double; *ratio (may be NULL) receives
 * |a| / |b|. */
double tu_cosine(const float *a, const float *b, size_t n, double *ratio);

/* max |a - b| / max |b| over n elements. */
double tu_rel_err(const double *a, const double *b, size_t n);

/* One width-dependent factor of a network's layer (pcmup_net_layer_factors). */
double tu_net_factor(const pcmup_net *net, size_t layer, pcmup_factor factor);

/* Path of a file under tests/data (static buffer). */
const char *tu_data_path(const char *relative);

#endif

/* Builds the network of a reference case: widths, activation, the case's
 * b and c exponents (a = 0), M_base, and its initial weights W<l>. */
pcmup_net *tu_case_net(const tu_case *c);
/* The case's inputs X as floats (B, D) and labels; free both. */
float *tu_case_x(const tu_case *c, size_t *batch);
/* Relative error (see tu_rel_err) of the net's update W_l(now) - W<l> against
 * the reference W<l>_next - W<l>, maximised over layers. */
double tu_case_update_error(const tu_case *c, const pcmup_net *net);
/* The same measure from the update the algorithm recorded (it must have
 * had PCMUP_SET_RECORD_UPDATES on): free of the rounding of W + dW. */
double tu_case_recorded_error(const tu_case *c, const pcmup_algo *algo);
/* The same measure for the trained feedback weights V<l>, l = 2..L. */
double tu_case_feedback_error(const tu_case *c, const pcmup_net *net);

/* ---- coordinate checks (paper-spec section 8 setup) ----------------------
 * 3 tanh layers, D = 64 Gaussian inputs, C = 10, batch 32, centred MSE,
 * M_base = 64, `steps` steps on one batch, measured on a probe batch of 64:
 * dh[0], dh[1] = mean |h_l(t) - h_l(0)| of the hidden layers and dh[2] the
 * same for f. A diverged run reports infinity. */
typedef struct {
    pcmup_rule kind;
    pcmup_preset preset;
    double gamma_bar;   /* the preset's gammabar_L argument */
    double lr;
} tu_coord_config;

void tu_coord_run(const tu_coord_config *cfg, size_t width, int steps, double dh[3]);
/* The same with the output layer's b_L set to b_out after the preset
 * (target propagation's check of b_L = 1 against its muP's 1/2). */
void tu_coord_run_b_out(const tu_coord_config *cfg, double b_out, size_t width, int steps,
                        double dh[3]);
/* Standard normal draws from a fixed seed (test data only). */
float *tu_gaussian(size_t n, unsigned seed);
