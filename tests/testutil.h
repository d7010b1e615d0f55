/* SPDX-License-Identifier: MIT */
/*
 * testutil.h -- what the test programs share: running a Check suite (and
 * skipping it when its data is absent), checking statuses, the test data's
 * own random numbers, the rig most tests build (a parameterization, a
 * network and a rule), a counting allocator, the reader for the reference
 * vectors in tests/data/vectors (format: tests/data/vectors/README.md),
 * and the coordinate check several rules' tests run.
 */
#ifndef PCMUP_TESTUTIL_H
#define PCMUP_TESTUTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "pcmup.h"

/* The number of elements of an array. */
#define TU_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- running a suite ---------------------------------------------------- */

/* Runs the suite (CK_NORMAL output) and returns the process exit status. */
int tu_run_suite(Suite *suite);

/* Runs `n` tests as the one test case of suite `name`, with a timeout of
 * `timeout` seconds (0: Check's default, or CK_DEFAULT_TIMEOUT) and, if not
 * NULL, setup and teardown run around each test (a checked fixture). */
int tu_run_tests(const char *name, double timeout, void (*setup)(void), void (*teardown)(void),
                 const TTest *const *tests, size_t n);

/* The exit status of a test program whose data is absent: ctest's
 * SKIP_RETURN_CODE (tests/CMakeLists.txt sets it on every test), so that
 * the test shows as skipped instead of passing without having run. */
#define TU_SKIPPED 77

/* Whether FashionMNIST is installed in PCMUP_FASHION_MNIST_DIR (Debian's
 * dataset-fashion-mnist; its training labels, plain or gzip). If not, it
 * says so on stderr, and the program should return TU_SKIPPED. */
int tu_have_fashion_mnist(void);

/* ---- checking statuses -------------------------------------------------- */

/* Asserts that `expr` returns PCMUP_OK, printing pcmup_last_error() if not. */
#define TU_OK(expr)                                                            \
    do {                                                                       \
        pcmup_status tu_s_ = (expr);                                           \
        ck_assert_msg(tu_s_ == PCMUP_OK, "%s -> %s: %s", #expr,                \
                      pcmup_status_name(tu_s_), pcmup_last_error());           \
    } while (0)

/* Asserts that `expr` returns `want` and left a non-empty message. */
#define TU_FAILS(want, expr)                                                   \
    tu_check_failure((want), (expr), NULL, #expr, __FILE__, __LINE__)

/* Asserts that fn(...) returns `want` with the message "<fn>: <detail>".
 * Another call fails first, so a stale message cannot pass for fn's. */
#define TU_FAILS_IN(want, fn, ...)                                             \
    do {                                                                       \
        tu_prime_message(#fn);                                                 \
        tu_check_failure((want), fn(__VA_ARGS__), #fn, #fn "(" #__VA_ARGS__ ")", \
                         __FILE__, __LINE__);                                  \
    } while (0)

/* The check behind both: the status is `want`, and the message starts with
 * "<fn>: " and goes on (fn NULL: is not empty). `call` and file:line say
 * which call failed the test. */
void tu_check_failure(pcmup_status want, pcmup_status got, const char *fn, const char *call,
                      const char *file, int line);
/* Makes some function other than `fn` fail, leaving a message behind. */
void tu_prime_message(const char *fn);

/* ---- test data ---------------------------------------------------------- */

/* The test data's own random numbers, independent of the library's
 * generator: a 32-bit linear congruential generator (glibc's constants)
 * read through its top 24 bits. The coordinate checks' inputs, and the
 * numbers docs/ reports from them, come from this stream. */
typedef struct {
    uint32_t state;
} tu_rng;

/* Uniform in (0, 1). */
double tu_rng_uniform(tu_rng *rng);
/* Standard normal (Box-Muller, one draw per pair of uniforms). */
double tu_rng_normal(tu_rng *rng);
/* n standard normal floats from `seed`, malloc'd. */
float *tu_gaussian(size_t n, uint32_t seed);
/* n floats uniform in (-1, 1) from `seed`, into x / malloc'd. */
void tu_fill_uniform(float *x, size_t n, uint32_t seed);
float *tu_uniform(size_t n, uint32_t seed);
/* Labels 0, 1, ..., C - 1, 0, 1, ... (i mod n_classes), malloc'd. */
int32_t *tu_cyclic_labels(size_t n, size_t n_classes);
/* Asserts that `head` holds min(n, whole's size) samples and that they
 * are the first rows of `whole` bit for bit: the same dimension, floats
 * and labels (what a head loader must give). */
void tu_check_head_of(const pcmup_dataset *head, const pcmup_dataset *whole, size_t n);

/* ---- the rig: a parameterization, a network and a rule ------------------ */

#define TU_MAX_LAYERS 16

typedef struct {
    pcmup_param *param;
    pcmup_net *net;
    pcmup_algo *algo;
    size_t n_layers;
    size_t widths[TU_MAX_LAYERS + 1];
    pcmup_activation act;
} tu_rig;

/* `preset` for n_layers layers at gammabar_L = gamma_bar (and e_B = 1);
 * the caller frees it. */
pcmup_param *tu_param(size_t n_layers, pcmup_preset preset, double gamma_bar);
/* A network of widths[0..L] (L: the parameterization's) with activation
 * `act`, drawn from `net_seed`, on `param` (which the rig takes over), and
 * a rule of kind `rule` on it (seed 1) that records its updates if
 * record_updates is non-zero. */
tu_rig tu_rig_make(pcmup_rule rule, pcmup_param *param, const size_t *widths,
                   pcmup_activation act, uint64_t net_seed, int record_updates);
void tu_rig_free(tu_rig *r);

/* Layer l's weights, or the rig's last recorded update of them (out x in,
 * row-major), malloc'd as floats (*n, if not NULL, gets the count) or as
 * doubles. */
float *tu_layer_weights(const pcmup_net *net, size_t l, size_t *n);
double *tu_layer_weights_f64(const pcmup_net *net, size_t l);
float *tu_layer_update(const tu_rig *r, size_t l, size_t *n);
double *tu_layer_update_f64(const tu_rig *r, size_t l);
/* One width-dependent factor of a network's layer (pcmup_net_layer_factors). */
double tu_net_factor(const pcmup_net *net, size_t layer, pcmup_factor factor);

/* cos(a, b) over n floats, in double; *ratio (may be NULL) receives
 * |a| / |b|. */
double tu_cosine(const float *a, const float *b, size_t n, double *ratio);

/* max |a - b| / max |b| over n elements. */
double tu_rel_err(const double *a, const double *b, size_t n);

/* ---- temporary directories --------------------------------------------- */

/* Makes a fresh directory "/tmp/<prefix>-XXXXXX" (mkdtemp) into dir (size
 * bytes), for tests that write files. */
void tu_make_tmpdir(char *dir, size_t size, const char *prefix);
/* Removes the directory, its files and its empty subdirectories. */
void tu_remove_tmpdir(const char *dir);

/* ---- a counting allocator ----------------------------------------------- */

/* Counts calls, live blocks, and can be told to fail the k-th allocation
 * from now (fail_after = k >= 1; 0 = never). */
typedef struct {
    size_t n_malloc, n_realloc, n_free;
    long live;
    size_t fail_after;
} tu_counter;

pcmup_allocator tu_counting_allocator(tu_counter *counter);

/* ---- reference vectors -------------------------------------------------- */

/* A reference case from tests/data/vectors/<name>. */
typedef struct {
    char name[64];
    char **keys;
    char **values;
    size_t n_keys;
} tu_case;

/* Path of a file under tests/data (static buffer). */
const char *tu_data_path(const char *relative);

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
/* <name>.f64 rounded to float, as the library reads it. */
float *tu_case_f32(const tu_case *c, const char *file, size_t *n);
int32_t *tu_case_i32(const tu_case *c, const char *file, size_t *n);

/* The case's `activation` (tanh, relu or identity). */
pcmup_activation tu_case_activation(const tu_case *c);

/* Builds the network of a reference case: widths, activation, the case's
 * b and c exponents (a = 0), M_base, and its initial weights W<l>. */
pcmup_net *tu_case_net(const tu_case *c);
/* The case's inputs X as floats (B, D); *batch receives B and *count (if
 * count is not NULL) the number of floats, B * D. */
float *tu_case_x(const tu_case *c, size_t *batch, size_t *count);
/* Relative error (see tu_rel_err) of the net's update W_l(now) - W<l> against
 * the reference W<l>_next - W<l>, maximised over layers. */
double tu_case_update_error(const tu_case *c, const pcmup_net *net);
/* The same measure for one array, <prefix><layer> (prefix 'W' or 'V'),
 * from its change as the caller computed it (count floats). */
double tu_case_change_error(const tu_case *c, char prefix, size_t layer, const float *change,
                            size_t count);
/* The same measure from the update the algorithm recorded (it must have
 * had PCMUP_SET_RECORD_UPDATES on): free of the rounding of W + dW. */
double tu_case_recorded_error(const tu_case *c, const pcmup_algo *algo);
/* The same measure for the trained feedback weights V<l>, l = 2..L. */
double tu_case_feedback_error(const tu_case *c, const pcmup_algo *algo);

/* One step of a reference case: the case, its inputs and labels, its
 * network (tu_case_net; the caller may replace it before creating the
 * algorithm) and the algorithm the caller creates on it. */
typedef struct {
    tu_case *c;
    float *x;
    size_t x_count;     /* B * D floats */
    int32_t *labels;
    size_t batch;
    pcmup_net *net;
    pcmup_algo *algo;
} tu_case_run;

tu_case_run tu_case_begin(const char *name);
/* Steps the algorithm once on the case's batch and checks the loss it
 * reports before the step against the case's loss_before (1e-5 relative). */
void tu_case_step(tu_case_run *r);
/* Checks the recorded update against the reference (error < tol) and the
 * weights' change (error < 10 tol: the rounding of W + dW); returns the
 * recorded update's error. */
double tu_case_check_recorded(const tu_case_run *r, double tol);
void tu_case_end(tu_case_run *r);

/* ---- coordinate checks ---------------------------------------------------
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

/* The widths the rules' coordinate checks sweep: 64, 256, 1024, 2048. */
#define TU_COORD_N_WIDTHS 4
extern const size_t tu_coord_widths[TU_COORD_N_WIDTHS];
/* tu_coord_run_b_out (b_out NaN: the preset's b_L) for 5 steps at each of
 * tu_coord_widths into res[k], printing a line per width labelled `name`. */
void tu_coord_sweep(const tu_coord_config *cfg, double b_out, const char *name,
                    double res[TU_COORD_N_WIDTHS][3]);

#endif
