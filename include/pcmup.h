/* SPDX-License-Identifier: MIT */
/*
 * pcmup.h -- libpcmup, local learning rules in the infinite-width parameterization.
 *
 * libpcmup trains multilayer networks with backpropagation and local
 * learning rules (predictive coding), under the abc-parameterizations of
 * Ishikawa, Yokota and Karakida, "Local Loss Optimization in the Infinite
 * Width" (ICLR 2025): standard parameterization (SP) and the maximal update
 * parameterization (muP), with a base width so that learning rates tuned on a
 * narrow network transfer to a wide one.
 *
 * This header is the manual. It is ordered as a tutorial:
 *
 *   1. Basics: version, status codes, error messages, allocators.
 *   2. Parameterizations (pcmup_param): the abc exponents per layer and
 *      every width-dependent factor they give.
 *   3. Networks (pcmup_net): dense layers, forward pass, weights;
 *      convolutional networks from a builder or a one-line description.
 *   4. Datasets (pcmup_dataset): IDX / FashionMNIST / CIFAR-10 files and
 *      arrays.
 *   5. Algorithms (pcmup_algo): learning rules, their settings, training.
 *   6. Predictive coding: its energy, inference options and diagnostics.
 *   7. Gauss-Newton target: the preconditioned update and its damping.
 *   8. Target propagation and difference target propagation.
 *   9. Width transfer: coordinate checks and update alignment.
 *  10. Checkpoints: a network, or an algorithm with all it needs to go
 *      on training, saved to a safetensors file and read back.
 *
 * A complete program, with its error checks, is examples/quickstart.c
 * (the README's Usage section; the tests build and run it): it creates a
 * parameterization, a network from it and an algorithm for the network,
 * sets the learning rate, loads FashionMNIST, trains one epoch, evaluates,
 * and frees everything. examples/quickstart.cpp makes the same calls from
 * C++.
 *
 * Conventions used throughout:
 *   - Layers are numbered 1..L as in the paper: layer l maps width M_{l-1}
 *     to M_l, with M_0 the input dimension and M_L the number of outputs.
 *     Layer number 0 is never valid.
 *   - Weights are (out, in) = (M_l, M_{l-1}) matrices, row-major.
 *   - Batches are batch-major: a batch of B samples of dimension D is a
 *     row-major (B, D) float array, row b = sample b.
 *   - Losses are means over the batch.
 *   - Floats are IEEE single precision; BLAS is CBLAS with 32-bit integers.
 *   - A caller's array comes with its element count, the argument right
 *     after the pointer (const float *x, size_t x_count). A count that is
 *     not what the other arguments make the array's shape is
 *     PCMUP_ERR_SHAPE, with a message giving the expected and the given
 *     count ("x_count is 783, expected 784 (1 x 784)"), and is checked
 *     before the array is read or anything is written. Where an array's
 *     length is the batch size (labels), the batch argument is its count.
 *     An array of per-layer pointers comes with its number of pointers
 *     (L, or L - 1); the arrays they point to must have the shapes the
 *     function lists, which the library cannot check. The count of an
 *     optional array left NULL is not looked at.
 *
 * Thread safety. The library keeps no global mutable state, and:
 *   - Calls on different handles may run at the same time in different
 *     threads.
 *   - A handle is not safe to use from two threads at once, except by
 *     readers: a function that takes a handle through a const pointer
 *     only reads it (pcmup_net_get_weights, pcmup_algo_get, the
 *     prototype of pcmup_coord_check, ...), so any number of such calls
 *     may run at once on one handle while no call that changes it runs.
 *     A non-const pointer means the call writes the handle, also where
 *     nothing visible changes: pcmup_net_forward changes no weight but
 *     writes the network's forward-pass work area, so two forward passes
 *     through one network must not overlap.
 *   - An algorithm uses the network it was created for. A call that
 *     changes an algorithm may change its network (a step trains it), so
 *     it counts as changing both: two algorithms on one network must not
 *     step at the same time, and nothing else may use the network
 *     meanwhile. A call that reads an algorithm reads its network too.
 *   - A function that touches less or more than these rules and its
 *     pointers say has a "Threads:" line saying what it touches.
 *   - Process-wide: pcmup_set_blas_threads, the BLAS library's thread
 *     count. The last-error message (pcmup_last_error) is per thread.
 *     Version, status names and the settings' descriptions are constant
 *     data: any thread may read them at any time.
 *   - A handle calls its allocator from the thread using it; handles that
 *     share an allocator, used at once, and readers of one handle that
 *     allocate (they say so), need an allocator that is thread-safe, as
 *     malloc is.
 *   - Calls running at once call the BLAS library at once, which it must
 *     allow: OpenBLAS's multithreaded builds do, a single-threaded
 *     OpenBLAS (0.3.7 and later) only when built with USE_LOCKING=1.
 *
 * The library never prints, never calls abort() or exit(), and a call that
 * fails leaves the objects passed to it as they were. Every *_free function
 * accepts NULL and does nothing with it. Functions returning pcmup_status
 * reject NULL required pointers with PCMUP_ERR_NULL and out-of-range
 * values (a batch of 0, a non-finite input) with PCMUP_ERR_INVALID.
 */
#ifndef PCMUP_H
#define PCMUP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* PCMUP_API marks the exported functions. Building the shared library
 * defines PCMUP_BUILDING; a program linking the static library may define
 * PCMUP_STATIC (harmless either way on ELF platforms). */
#if defined(PCMUP_STATIC)
#  define PCMUP_API
#elif defined(_WIN32)
#  ifdef PCMUP_BUILDING
#    define PCMUP_API __declspec(dllexport)
#  else
#    define PCMUP_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#  define PCMUP_API __attribute__((visibility("default")))
#else
#  define PCMUP_API
#endif

/* ======================================================================
 * 1. Basics
 * ====================================================================== */

/* Version of this header. pcmup_version_number() gives the library's, which
 * may be newer than the header a program was compiled with. */
#define PCMUP_VERSION_MAJOR 0
#define PCMUP_VERSION_MINOR 2
#define PCMUP_VERSION_PATCH 0
#define PCMUP_VERSION_NUMBER \
    (PCMUP_VERSION_MAJOR * 10000 + PCMUP_VERSION_MINOR * 100 + PCMUP_VERSION_PATCH)

/* MAJOR.MINOR.PATCH of the library at run time, such as "0.2.0". */
PCMUP_API const char *pcmup_version_string(void);
/* MAJOR*10000 + MINOR*100 + PATCH of the library at run time. */
PCMUP_API unsigned pcmup_version_number(void);

/* Status codes. Every fallible function returns one. The numeric values are
 * part of the ABI: they never change, new codes are added at the end. */
typedef enum {
    PCMUP_OK = 0,
    PCMUP_ERR_NULL = 1,        /* a required pointer argument is NULL      */
    PCMUP_ERR_INVALID = 2,     /* an argument or setting value is invalid  */
    PCMUP_ERR_SHAPE = 3,       /* sizes or widths do not match             */
    PCMUP_ERR_NOMEM = 4,       /* the allocator returned NULL              */
    PCMUP_ERR_IO = 5,          /* a file could not be opened or read       */
    PCMUP_ERR_FORMAT = 6,      /* a data file is malformed or over a limit */
    PCMUP_ERR_DIVERGED = 7,    /* a non-finite loss, weight or state       */
    PCMUP_ERR_UNSUPPORTED = 8  /* valid request this object does not serve */
} pcmup_status;

/* "PCMUP_ERR_SHAPE", or "PCMUP_ERR_UNKNOWN" for a value not listed above. */
PCMUP_API const char *pcmup_status_name(pcmup_status status);
/* A short sentence: "sizes or widths do not match". */
PCMUP_API const char *pcmup_status_message(pcmup_status status);

/* The detailed message of the last failed call on this thread, for example
 * "pcmup_net_set_weights: layer 2: weight count 783 does not match 784".
 * "" if no call has failed on this thread. A successful call does not clear
 * it. The pointer stays valid until the next failing call on this thread. */
PCMUP_API const char *pcmup_last_error(void);

/* A caller-supplied allocator. Every byte a handle owns goes through the
 * allocator given when it was created (NULL means malloc/realloc/free).
 * The three functions follow the C library's contracts: memory aligned as
 * malloc's, realloc_fn(user, NULL, n) allocates and realloc_fn may be asked
 * to shrink a block, free_fn is never called with NULL, and NULL means the
 * allocation failed. Outside libpcmup's control: the BLAS library's own
 * internal buffers, and stdio's buffers while a data file is read (freed
 * before the loading call returns; zlib's state and window do go through
 * the allocator).
 *
 * `size` must be sizeof(pcmup_allocator) as the caller's header declares
 * it: it lets later releases add members after `user` without breaking
 * programs built against this one (the library reads only the members the
 * caller's size covers). Initialise with PCMUP_ALLOCATOR_INIT, which sets
 * it. The struct is copied at creation; `user` is passed back on every
 * call. A size smaller than this release's members is PCMUP_ERR_INVALID. */
typedef struct pcmup_allocator {
    size_t size;
    void *(*malloc_fn)(void *user, size_t size);
    void *(*realloc_fn)(void *user, void *ptr, size_t size);
    void (*free_fn)(void *user, void *ptr);
    void *user;
} pcmup_allocator;

/* An initialiser (C and C++):
 *     pcmup_allocator a = PCMUP_ALLOCATOR_INIT(my_malloc, my_realloc, my_free, ctx); */
#define PCMUP_ALLOCATOR_INIT(malloc_fn, realloc_fn, free_fn, user)             \
    { sizeof(pcmup_allocator), (malloc_fn), (realloc_fn), (free_fn), (user) }

/* Sets the number of threads of the BLAS library (OpenBLAS only).
 * PCMUP_ERR_UNSUPPORTED when the library was built against a BLAS without
 * that control. n must be >= 1.
 * Threads: process-wide, for every handle and the program's own BLAS
 * calls; call it while no other thread is inside libpcmup or BLAS. */
PCMUP_API pcmup_status pcmup_set_blas_threads(int n);

/* ======================================================================
 * 2. Parameterizations
 *
 * An abc-parameterization (the paper's section 2 and Table 1;
 * docs/parameterization.md) fixes, for each layer l, three exponents and a
 * scale:
 *
 *   W_l = r_l^(-a_l) w_l                 forward multiplier
 *   w_l(0) ~ N(0, s_l^2)                 with
 *     s_1 = sigma_1 / sqrt(M_0)       * r_1^(-b_1)           (input layer)
 *     s_l = sigma_l / sqrt(M_{l-1})   * r_l^(-(b_l - 1/2))   (l >= 2)
 *   eta_l = eta * r_l^(-c_l)             per-layer learning rate
 *   theta_l = 2 a_l + c_l                effective learning-rate exponent
 *
 * where r_l = M / M_base is the width ratio of layer l: the input layer's
 * fan-out M_1 over the base width, every other layer's fan-in M_{l-1} over
 * the base width (r_1 = 1 for a single-layer network, which has no width).
 * At M = M_base every parameterization coincides, so a learning rate tuned
 * at the base width transfers (muTransfer).
 *
 * b is written in width-exponent form: b_1 = 0 means a fan-in 1/M_0 init
 * that does not depend on width ("b_1 = 1/2 with respect to D").
 *
 * The parameterization also holds the exponents of the learning rules'
 * width-scaled settings: PC's output precision gamma_L, GNT's damping
 * rho_l, TP's feedback damping mu_l and feedback learning rate eta^V_l
 * (sections 6 to 8). Every width-dependent factor a network or a rule uses
 * comes from it: pcmup_param_layer_factors gives them all for any widths.
 * ====================================================================== */

typedef struct pcmup_param pcmup_param;

/* Exponent presets, each a row of a table (docs/parameterization.md). g is
 * gammabar_L and e is GNT's power e_B, both arguments of
 * pcmup_param_apply_preset (pcmup_param_create takes g = 0, e = 1):
 *
 *   preset      b_1  b_l  b_L | c_1       c_l     c_L
 *   SP           0   1/2  1/2 |  0         0       0
 *   MUP_SGD      0   1/2   1  | -1         0       1      muP for SGD / BP
 *   MUP_PC       0   1/2   1  | -1 - g    -g       1      muP for PC, last layer
 *                                                         convention A
 *   MUP_PC_B     0   1/2   1  | -1 - g    -g     1 - g    convention B
 *   MUP_GNT      0   1/2   1  | e - 1      e       1      muP for GNT
 *   MUP_TP       0   1/2  1/2 |  0         1       1      muP for TP / DTP
 *
 * and a_l = 0, sigma_l = 1 throughout. b_l and c_l stand for every hidden
 * layer 1 < l < L. The sources are the paper's Table 1: section 2 for SP
 * and SGD, Theorem 4.1 for PC, Proposition 3.3 for GNT, Theorem 5.1 for
 * TP. MUP_PC with g = 0 is MUP_SGD and with g = -1 is MUP_GNT at e = 1
 * (the Table 1 caption); MUP_GNT with e = 0 (plain SGD) is MUP_SGD.
 * MUP_TP keeps the output layer at b_L = 1/2, the paper's distinctive TP
 * result (its targets come from a regression on f, which needs f =
 * Theta(1) at init). A preset also sets the feedback exponents
 * PCMUP_PARAM_FB_DAMPING_EXP and PCMUP_PARAM_FB_LR_EXP: 1 and 1 for
 * MUP_TP, 0 and 0 (width-independent feedback damping and learning rate)
 * for every other preset. */
typedef enum {
    PCMUP_PRESET_SP = 0,
    PCMUP_PRESET_MUP_SGD = 1,
    PCMUP_PRESET_MUP_PC = 2,
    PCMUP_PRESET_MUP_PC_B = 3,
    PCMUP_PRESET_MUP_GNT = 4,   /* muP for GNT (section 7)                 */
    PCMUP_PRESET_MUP_TP = 5     /* muP for TP and DTP (section 8)          */
} pcmup_preset;

/* Per-layer keys. THETA is derived (2a + c) and read-only. */
typedef enum {
    PCMUP_LAYER_A = 0,      /* forward multiplier exponent, in [-2, 2]   */
    PCMUP_LAYER_B = 1,      /* init variance exponent, in [-2, 2]        */
    PCMUP_LAYER_C = 2,      /* learning-rate exponent, in [-4, 4]        */
    PCMUP_LAYER_SIGMA = 3,  /* init scale sigma_l, in (0, 100]           */
    PCMUP_LAYER_THETA = 4   /* 2a + c, read-only; reported in [-8, 8]    */
} pcmup_layer_key;

/* Keys that apply to the whole parameterization. */
typedef enum {
    PCMUP_PARAM_BASE_WIDTH = 0, /* M_base, a real number in [1, 2^31 - 1],
                                   default 64 */
    PCMUP_PARAM_GAMMA_BAR = 1,  /* gammabar_L, predictive coding's output
                                   exponent: gamma_L = gamma'_L r_L^-gammabar_L.
                                   In [-1, 0], default 0. 0 is the standard
                                   gamma_L = Theta(1) (PC ~ BP at large width),
                                   -1 is gamma_L = Theta(M) (PC stays
                                   Gauss-Newton-like); below -1 C_gamma
                                   diverges with width (Theorem 4.2).
                                   Read-only here: it is an argument of
                                   pcmup_param_apply_preset, because the PC
                                   presets' c depends on it.              */
    /* The feedback exponents of target propagation (section 8). Both use
     * the ratio r = M_l / M_base of the width M_l that feedback layer l
     * reads from (the fan-in of layer l + 1), and apply to the hidden
     * feedback layers 2 <= l < L only; the top feedback layer L reads the
     * C outputs, whose number does not grow. */
    PCMUP_PARAM_FB_DAMPING_EXP = 2, /* x in the hidden feedback damping
                                   mu_l = mu' r^x (PCMUP_SET_TP_FB_DAMPING is
                                   mu'). In [0, 2], default 0; muP 1, which
                                   keeps mu_l in proportion to h_l^T h_l =
                                   Theta(M) (Theorem 5.1).                 */
    PCMUP_PARAM_FB_LR_EXP = 3   /* x in the hidden feedback learning rate
                                   eta^V_l = eta^V r^-x (PCMUP_SET_TP_FB_LR is
                                   eta^V). In [-2, 2], default 0; muP 1.   */
} pcmup_param_key;

/* Creates a parameterization for networks of n_layers weight layers
 * (1 <= n_layers <= 1024), filled from `preset` at its default arguments
 * (gammabar_L = 0, e_B = 1), base width 64. */
PCMUP_API pcmup_status pcmup_param_create(pcmup_param **out, size_t n_layers,
                                          pcmup_preset preset,
                                          const pcmup_allocator *allocator);
/* A deep copy, owned by the caller, using the same allocator.
 * Threads: reads param, and allocates through its allocator. */
PCMUP_API pcmup_status pcmup_param_clone(pcmup_param **out, const pcmup_param *param);
/* Releases the parameterization (NULL: no-op). Networks made from it keep
 * their own copies. */
PCMUP_API void pcmup_param_free(pcmup_param *param);

/* Overwrites every layer's a, b, c and sigma from the preset's row at
 * gammabar_L and e_B, sets PCMUP_PARAM_GAMMA_BAR to gammabar_L, and the
 * feedback exponents PCMUP_PARAM_FB_DAMPING_EXP and FB_LR_EXP to the
 * preset's. gammabar_L must be in [-1, 0] and e_B in [0, 1] (the range of
 * PCMUP_SET_GNT_POWER) whatever the preset: only the PC rows read
 * gammabar_L for c and only MUP_GNT reads e_B, but gammabar_L scales PC's
 * gamma_L under any preset (under SP too; pass 0 for gamma_L = gamma'_L at
 * every width). Only the base width is kept: the result depends on the
 * arguments and the base width alone, never on the order of earlier calls.
 * Set single exponents with pcmup_param_set_layer and pcmup_param_set
 * after it. */
PCMUP_API pcmup_status pcmup_param_apply_preset(pcmup_param *param, pcmup_preset preset,
                                                double gammabar_L, double e_B);
/* The number of weight layers L it was created for. */
PCMUP_API pcmup_status pcmup_param_n_layers(const pcmup_param *param, size_t *n_layers);

/* Per-layer exponents. layer in 1..L. Values must be finite and inside the
 * key's bounds; THETA cannot be set. */
PCMUP_API pcmup_status pcmup_param_set_layer(pcmup_param *param, size_t layer,
                                             pcmup_layer_key key, double value);
PCMUP_API pcmup_status pcmup_param_get_layer(const pcmup_param *param, size_t layer,
                                             pcmup_layer_key key, double *value);
/* Closed bounds [lo, hi] of a per-layer key. SIGMA's lower bound is
 * exclusive (sigma > 0); its lo is reported as 0. */
PCMUP_API pcmup_status pcmup_param_layer_bounds(pcmup_layer_key key, double *lo,
                                                double *hi);

/* Set, read and bound the whole-parameterization keys (pcmup_param_key);
 * values must be finite and inside the key's bounds. PCMUP_PARAM_GAMMA_BAR
 * cannot be set (PCMUP_ERR_INVALID): give it to pcmup_param_apply_preset. */
PCMUP_API pcmup_status pcmup_param_set(pcmup_param *param, pcmup_param_key key,
                                       double value);
PCMUP_API pcmup_status pcmup_param_get(const pcmup_param *param, pcmup_param_key key,
                                       double *value);
PCMUP_API pcmup_status pcmup_param_bounds(pcmup_param_key key, double *lo, double *hi);

/* The width-dependent factors of a layer, the slots of
 * pcmup_param_layer_factors. Each is what layer l gets at given widths,
 * relative to the base setting it multiplies; a rule's width-scaled value
 * is exactly its base setting times the factor. r_l is layer l's width
 * ratio (above), r_L = M_{L-1} / M_base the output layer's. A factor a
 * layer does not have is 1. */
typedef enum {
    PCMUP_FACTOR_MULTIPLIER = 0,    /* r_l^-a_l, the forward multiplier      */
    PCMUP_FACTOR_INIT_STD = 1,      /* s_l, the std of w_l at init (a value,
                                       not a ratio)                          */
    PCMUP_FACTOR_LR = 2,            /* eta_l / eta = r_l^-c_l                */
    PCMUP_FACTOR_PC_GAMMA = 3,      /* PC's gamma_L / gamma'_L =
                                       r_L^-gammabar_L at l = L; 1 below (the
                                       hidden precisions gamma_l are not
                                       scaled)                               */
    PCMUP_FACTOR_GNT_DAMPING = 4,   /* GNT's rho_l / rho' = r_L^-(2 b_L - 1)
                                       for l < L; 1 at l = L                 */
    PCMUP_FACTOR_TP_FB_DAMPING = 5, /* TP's mu_l / mu' = (M_l / M_base)^x,
                                       x = PCMUP_PARAM_FB_DAMPING_EXP, for
                                       2 <= l < L; 1 at l = L (mu_L is
                                       PCMUP_SET_TP_FB_DAMPING_TOP, not
                                       scaled) and at l = 1 (no feedback)    */
    PCMUP_FACTOR_TP_FB_LR = 6,      /* TP's eta^V_l / eta^V = (M_l /
                                       M_base)^-x, x = PCMUP_PARAM_FB_LR_EXP,
                                       for 2 <= l < L; 1 at l = L and l = 1  */
    PCMUP_FACTOR_WIDTH_RATIO = 7    /* r_l itself                            */
} pcmup_factor;

/* The number of pcmup_factor slots; new factors are added at the end. */
#define PCMUP_FACTOR_COUNT 8

/* Every width-dependent factor of layer l (1..L) of a network with widths
 * widths[0..L] under this parameterization, without building the network:
 * dst[k] receives factor k (pcmup_factor) for k < count. n_widths must be
 * L + 1 (PCMUP_ERR_SHAPE otherwise), every width in [1, 2^31 - 1], and
 * count at most the library's PCMUP_FACTOR_COUNT (a program built against
 * an older header asks for fewer slots and gets them). For example PC's
 * gamma_L at these widths is PCMUP_SET_PC_GAMMA_OUT_BASE times
 * dst[PCMUP_FACTOR_PC_GAMMA] of layer L. */
PCMUP_API pcmup_status pcmup_param_layer_factors(const pcmup_param *param,
                                                 const size_t *widths, size_t n_widths,
                                                 size_t layer, double *dst, size_t count);

/* ======================================================================
 * 3. Networks
 *
 * A network of L dense layers: u_l = W_l h_{l-1} (+ bias_l), h_l = phi(u_l)
 * for l < L, output f = u_L (no output nonlinearity), h_0 = x.
 * The network keeps its own copy of the parameterization.
 * ====================================================================== */

typedef struct pcmup_net pcmup_net;

typedef enum {
    PCMUP_ACT_TANH = 0,
    PCMUP_ACT_RELU = 1,      /* phi'(0) = 0 */
    PCMUP_ACT_IDENTITY = 2
} pcmup_activation;

/* Flags for pcmup_net_create. */
#define PCMUP_NET_BIAS 1u   /* every layer gets a bias, initialised to zero */

/* Creates a network of L weight layers, L the parameterization's layer
 * count, with widths[0..L]: n_widths must be L + 1 (PCMUP_ERR_SHAPE
 * otherwise), widths[0] is the input dimension, widths[L] the number of
 * outputs, each in [1, 2^31 - 1]. `param` is copied. The weights are drawn
 * from `seed` by the parameterization's init rule. */
PCMUP_API pcmup_status pcmup_net_create(pcmup_net **out, const size_t *widths,
                                        size_t n_widths, pcmup_activation activation,
                                        unsigned flags, const pcmup_param *param,
                                        uint64_t seed, const pcmup_allocator *allocator);
/* Releases the network (NULL: no-op). Free its algorithms first. */
PCMUP_API void pcmup_net_free(pcmup_net *net);

/* Redraws every weight from `seed` (biases back to zero). The same seed
 * gives bitwise the same weights. */
PCMUP_API pcmup_status pcmup_net_init_weights(pcmup_net *net, uint64_t seed);

/* The network's copy of its parameterization (read-only, owned by the net). */
PCMUP_API pcmup_status pcmup_net_param(const pcmup_net *net, const pcmup_param **param);

/* The number of weight layers L. */
PCMUP_API pcmup_status pcmup_net_n_layers(const pcmup_net *net, size_t *n_layers);
/* Sizes of layer l's linear map per sample: out values from in values.
 * A dense layer's weight matrix is (out, in) = (M_l, M_{l-1}); a
 * convolution's are its flattened maps (C_l H W before pooling, and its
 * input's C_{l-1} H W): its weights are pcmup_net_weight_shape's. */
PCMUP_API pcmup_status pcmup_net_layer_shape(const pcmup_net *net, size_t layer,
                                             size_t *out, size_t *in);
/* Total number of trainable numbers (weights and biases). */
PCMUP_API pcmup_status pcmup_net_param_count(const pcmup_net *net, size_t *count);

/* pcmup_param_layer_factors for this network's own parameterization and
 * widths: dst[k] receives layer l's factor k (pcmup_factor) for k < count. */
PCMUP_API pcmup_status pcmup_net_layer_factors(const pcmup_net *net, size_t layer,
                                               double *dst, size_t count);

/* Copy layer l's effective weights W_l = r^-a w_l (out x in, row-major;
 * a convolution's (C_out, C_in, k, k)) out of or into a caller array of
 * exactly `count` = out * in floats (the product of the weight shape). set
 * rejects non-finite values (and values that overflow once divided) and
 * then stores w_l = W_l / multiplier, so set-then-get is exact when the
 * multiplier is a power of two and within ~2 ulps otherwise. */
PCMUP_API pcmup_status pcmup_net_get_weights(const pcmup_net *net, size_t layer,
                                             float *dst, size_t count);
PCMUP_API pcmup_status pcmup_net_set_weights(pcmup_net *net, size_t layer,
                                             const float *src, size_t count);
/* Layer l's bias (count = out; a convolution's C_out). PCMUP_ERR_UNSUPPORTED
 * without PCMUP_NET_BIAS. */
PCMUP_API pcmup_status pcmup_net_get_bias(const pcmup_net *net, size_t layer,
                                          float *dst, size_t count);
PCMUP_API pcmup_status pcmup_net_set_bias(pcmup_net *net, size_t layer,
                                          const float *src, size_t count);

/* ---- Convolutional networks ------------------------------------------------
 *
 * A network may also be described layer by layer: convolutions first, then
 * dense layers (a flatten in between, order C, H, W). Layer l is its
 * linear map A_l -- a 2-D convolution (cross-correlation, square k x k
 * kernel, stride, zero padding on every side) or a dense map -- followed
 * by g_l = P_l o phi_l: its activation, then optionally 2 x 2 stride-2
 * max or average pooling (max pooling passes the gradient to the first
 * maximum of each window, in row-major order). The output layer has no
 * activation. Inputs are batch-major NCHW: a batch of (C, H, W) images is
 * a (batch, C*H*W) array; conv weights are (C_out, C_in, k, k) row-major.
 *
 * Width. A layer's channel count is a number or a multiple of the width
 * M. The parameterization sees r = M / M_base for every layer, whatever
 * multiple of M its channels are, and a weight's fan-in is C_in k^2 for a
 * convolution (C_in H W for the dense layer after the last convolution):
 * std(W_l) = sigma_l / sqrt(fan_in_l) * r^-(b_l - 1/2) for l >= 2 and
 * r^-b_1 for l = 1, multiplier r^-a_l, eta_l = eta r^-c_l. Every preset
 * applies unchanged.
 *
 * The one-line description (what the tools' --net takes) lists tokens
 * separated by spaces:
 *   conv<k>p<p>[s<s>]:<ch>   convolution, ch = 16, M, 2M, ... channels
 *   dense:<n>                dense layer of n (or M, 2M, ...) outputs
 *   tanh relu identity       the activation of the layer before
 *                            (else the `activation` argument)
 *   maxpool2 avgpool2        pooling after a convolution's activation
 * or one preset: "simplecnn" is
 *   conv5p2:M tanh maxpool2 conv5p2:2M tanh maxpool2 dense:10
 * and "vgg5" four conv3p1 stages of M, 2M, 4M, 4M channels with tanh and
 * maxpool2, then dense:10 (M = 128: the PC literature's VGG5).
 * A description the grammar refuses is PCMUP_ERR_INVALID and a network
 * that does not exist at the given sizes (pooling an odd size, a kernel
 * larger than the padded image) PCMUP_ERR_SHAPE; either message names the
 * token and its position ("token 3 'maxpool3': unknown token").
 *
 * Rules: BP and predictive coding train every network; GNT, TP and DTP
 * take networks of dense layers only (pcmup_algo_create says which layer
 * they cannot take). docs/cnn.md has the details. */

/* A builder collects layers one call at a time; each call is checked as
 * the one-line description is, and a refused call changes nothing. */
typedef struct pcmup_net_builder pcmup_net_builder;

typedef enum {
    PCMUP_POOL_MAX2 = 1, /* 2 x 2 max pooling, stride 2 */
    PCMUP_POOL_AVG2 = 2  /* 2 x 2 average pooling, stride 2 */
} pcmup_pool;

/* Layer flag: the channel (or output) count is a multiple of the width M. */
#define PCMUP_LAYER_PER_WIDTH 1u

PCMUP_API pcmup_status pcmup_net_builder_create(pcmup_net_builder **out,
                                                const pcmup_allocator *allocator);
/* Releases the builder (NULL: no-op); networks made from it stay. */
PCMUP_API void pcmup_net_builder_free(pcmup_net_builder *builder);

/* Appends a k x k convolution with `stride` and `pad` zeros on each side,
 * of `channels` output channels (times M with PCMUP_LAYER_PER_WIDTH). */
PCMUP_API pcmup_status pcmup_net_builder_add_conv(pcmup_net_builder *builder, size_t kernel,
                                                  size_t stride, size_t pad, size_t channels,
                                                  unsigned flags);
/* Appends a dense layer of `outputs` outputs (times M with the flag). */
PCMUP_API pcmup_status pcmup_net_builder_add_dense(pcmup_net_builder *builder,
                                                   size_t outputs, unsigned flags);
/* Sets the activation of the last layer added (once per layer). */
PCMUP_API pcmup_status pcmup_net_builder_set_activation(pcmup_net_builder *builder,
                                                        pcmup_activation activation);
/* Pools after the last layer added, which must be a convolution. */
PCMUP_API pcmup_status pcmup_net_builder_add_pool(pcmup_net_builder *builder,
                                                  pcmup_pool pool);
/* Replaces the builder's layers by a whole one-line description. */
PCMUP_API pcmup_status pcmup_net_builder_parse(pcmup_net_builder *builder,
                                               const char *description);

/* The number of layers the builder holds (its weight layers L). */
PCMUP_API pcmup_status pcmup_net_builder_n_layers(const pcmup_net_builder *builder,
                                                  size_t *n_layers);
/* Checks, without allocating, that the builder's layers make a complete
 * network for inputs of channels x height x width_px at width M = `width`:
 * PCMUP_OK, or the error pcmup_net_create_from_builder would give for the
 * description (PCMUP_ERR_INVALID, PCMUP_ERR_SHAPE naming the token). */
PCMUP_API pcmup_status pcmup_net_builder_check(const pcmup_net_builder *builder,
                                               size_t channels, size_t height,
                                               size_t width_px, size_t width);

/* Creates a network of the builder's layers for inputs of channels x
 * height x width_px values, with width M = `width`, `activation` for the
 * layers that set none, `flags` as pcmup_net_create's (PCMUP_NET_BIAS: a
 * bias per output channel), weights drawn from `seed` by `param`, whose
 * layer count must be the builder's. The builder must end with a dense
 * layer. */
PCMUP_API pcmup_status pcmup_net_create_from_builder(
    pcmup_net **out, const pcmup_net_builder *builder, size_t channels, size_t height,
    size_t width_px, size_t width, pcmup_activation activation, unsigned flags,
    const pcmup_param *param, uint64_t seed, const pcmup_allocator *allocator);
/* The same from a one-line description, e.g. FashionMNIST's SimpleCNN at
 * M = 16: pcmup_net_create_from_text(&net, "simplecnn", 1, 28, 28, 16,
 * PCMUP_ACT_TANH, 0, param, seed, NULL) with a 3-layer param. */
PCMUP_API pcmup_status pcmup_net_create_from_text(
    pcmup_net **out, const char *description, size_t channels, size_t height,
    size_t width_px, size_t width, pcmup_activation activation, unsigned flags,
    const pcmup_param *param, uint64_t seed, const pcmup_allocator *allocator);

/* The network's description in canonical form (presets expanded, widths
 * as multiples of M): writes at most `capacity` bytes to dst, NUL-
 * terminated when capacity > 0, like snprintf, and the whole length
 * (without the NUL) to *length. A network of pcmup_net_create is
 * described as its dense layers ("dense:64 tanh dense:10");
 * PCMUP_ERR_UNSUPPORTED past 64 layers. */
PCMUP_API pcmup_status pcmup_net_describe(const pcmup_net *net, char *dst, size_t capacity,
                                          size_t *length);
/* The input shape: (C, H, W) of a described network, (M_0, 1, 1) else. */
PCMUP_API pcmup_status pcmup_net_input_shape(const pcmup_net *net, size_t *channels,
                                             size_t *height, size_t *width);
/* Layer l's weight shape: rank 2, (out, in), for a dense layer; rank 4,
 * (C_out, C_in, k, k), for a convolution. Writes min(rank, capacity)
 * dimensions (dims may be NULL when capacity is 0) and the rank. The
 * weight count of pcmup_net_get_weights is their product. */
PCMUP_API pcmup_status pcmup_net_weight_shape(const pcmup_net *net, size_t layer,
                                              size_t *dims, size_t capacity, size_t *rank);

/* Forward pass on a batch: x is (batch, M_0), x_count = batch * M_0
 * floats; out is (batch, M_L), out_count = batch * M_L floats.
 * Threads: writes the network's forward-pass work area, so it changes the
 * network as far as threads go although no weight changes: no other call
 * may use the network meanwhile, another forward pass included. */
PCMUP_API pcmup_status pcmup_net_forward(pcmup_net *net, const float *x, size_t x_count,
                                         size_t batch, float *out, size_t out_count);

/* Which signal of a layer to read. */
typedef enum {
    PCMUP_SIGNAL_PRE = 0,   /* u_l, before the activation */
    PCMUP_SIGNAL_POST = 1   /* h_l = phi(u_l); for l = L this is f = u_L */
} pcmup_signal;

/* Forward pass up to layer l; writes u_l or h_l, (batch, M_l), into out
 * (out_count = batch * M_l floats; for a pooling layer u_l has the
 * pre-pooling size of pcmup_net_layer_shape's `out`, h_l the pooled one); x as for pcmup_net_forward. Used for
 * coordinate checks (how much does h_l move as training goes?).
 * Threads: as pcmup_net_forward. */
PCMUP_API pcmup_status pcmup_net_forward_layer(pcmup_net *net, const float *x,
                                               size_t x_count, size_t batch, size_t layer,
                                               pcmup_signal signal, float *out,
                                               size_t out_count);

/* ======================================================================
 * 4. Datasets
 *
 * A dataset holds n samples of dimension `dim` as floats (row-major, one
 * row per sample) and n int32 labels in [0, n_classes).
 * ====================================================================== */

typedef struct pcmup_dataset pcmup_dataset;

/* A dataset's training or test split: FashionMNIST's files
 * train-images-idx3-ubyte[.gz] (60000 samples) or t10k-images-idx3-ubyte[.gz]
 * (10000), CIFAR-10's data_batch_1.bin .. data_batch_5.bin (50000) or
 * test_batch.bin (10000). */
typedef enum {
    PCMUP_SPLIT_TRAIN = 0,
    PCMUP_SPLIT_TEST = 1
} pcmup_split;

/* Where Debian's dataset-fashion-mnist package puts the files. */
#define PCMUP_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

/* Reads an IDX image file (unsigned bytes; the first dimension is the
 * sample count, the others, if any, are flattened into one sample of at
 * most 2^31 - 1 values) and an IDX label file (unsigned bytes, one
 * dimension). Either may be gzip-compressed: a name ending in ".gz" must be
 * gzip data. Gzip data is one or more gzip members (members written one
 * after another read as one stream, as gzip(1) reads them) and nothing
 * after the last member. Pixels are scaled to [0, 1]; n_classes is the
 * largest label + 1. Malformed files (bad magic or type, truncated,
 * dimensions that overflow, bytes after the data or after the gzip
 * stream, label count mismatch) give PCMUP_ERR_FORMAT with a message; a
 * file that cannot be opened or read, PCMUP_ERR_IO.
 * The dataset may hold at most PCMUP_DATASET_MAX_BYTES_DEFAULT bytes (see
 * pcmup_dataset_load_idx_limited). */
PCMUP_API pcmup_status pcmup_dataset_load_idx(pcmup_dataset **out,
                                              const char *images_path,
                                              const char *labels_path,
                                              const pcmup_allocator *allocator);
/* FashionMNIST from `dir` (NULL = PCMUP_FASHION_MNIST_DIR): the split's
 * files, uncompressed if present, else with ".gz". n_classes is 10. The
 * limit is PCMUP_DATASET_MAX_BYTES_DEFAULT, as for pcmup_dataset_load_idx. */
PCMUP_API pcmup_status pcmup_dataset_load_fashion_mnist(pcmup_dataset **out,
                                                        const char *dir,
                                                        pcmup_split split,
                                                        const pcmup_allocator *allocator);

/* The loaders' limit: the bytes the loaded dataset may hold, its floats and
 * its labels, n * dim * sizeof(float) + n * sizeof(int32_t). The limit is
 * in bytes, not samples, because memory is what it protects and a sample
 * may be 1 value or 2^31 - 1 of them. It is checked against the sizes the
 * headers declare before any data is read, decompressed or allocated, so a
 * small gzip file declaring a huge dataset costs nothing; and no file is
 * decompressed past the size its header declares (the rest is trailing
 * data, PCMUP_ERR_FORMAT). While loading, the files' bytes are held as well
 * (n * dim + n bytes, a quarter more), then freed.
 * The default, 1 GiB, holds FashionMNIST's or MNIST's training split
 * (60000 x 784: 188 MB) five times over and refuses, for example, a file
 * declaring 400000 images of 28 x 28 (1.26 GB). */
#define PCMUP_DATASET_MAX_BYTES_DEFAULT ((size_t)1 << 30)

/* pcmup_dataset_load_idx with a limit of max_bytes (>= 1; SIZE_MAX: none
 * beyond what the allocator gives). A dataset the headers declare larger
 * is PCMUP_ERR_FORMAT, with a message giving its size and the limit:
 * FORMAT, like a file too large to hold at all, because the file is
 * refused as input and repeating the call will refuse it again, whereas
 * PCMUP_ERR_NOMEM means an allocator failed. max_bytes = 0 is
 * PCMUP_ERR_INVALID. */
PCMUP_API pcmup_status pcmup_dataset_load_idx_limited(pcmup_dataset **out,
                                                      const char *images_path,
                                                      const char *labels_path,
                                                      size_t max_bytes,
                                                      const pcmup_allocator *allocator);
/* pcmup_dataset_load_fashion_mnist with a limit of max_bytes, as
 * pcmup_dataset_load_idx_limited. */
PCMUP_API pcmup_status pcmup_dataset_load_fashion_mnist_limited(
    pcmup_dataset **out, const char *dir, pcmup_split split, size_t max_bytes,
    const pcmup_allocator *allocator);

/* CIFAR-10 in its binary version ("CIFAR-10 binary version (suitable for C
 * programs)", the directory cifar-10-batches-bin) from `dir`, which must be
 * given: no Debian package installs CIFAR-10. The training split is
 * data_batch_1.bin .. data_batch_5.bin, concatenated in that order (50000
 * samples), the test split test_batch.bin (10000). Each file is a sequence
 * of 3073-byte records: a label byte (0..9), then a 3 x 32 x 32 image,
 * channel-major (1024 red bytes, then green, then blue, each 32 x 32 plane
 * row-major). A sample is the image as it is stored, which is the NCHW
 * flatten order (C, H, W) of convolutional networks: dim is 3072 and
 * n_classes 10; bytes are scaled to [0, 1] (b / 255) as for
 * pcmup_dataset_load_idx.
 * The format has no header, so a file's size must be a positive whole
 * number of records: an empty file or one with a partial record (a
 * truncated download, another file) is PCMUP_ERR_FORMAT, as is a label
 * above 9, each with a message naming the file (and the record); a file
 * that is missing or cannot be read is PCMUP_ERR_IO naming its path. Every
 * file of the split is opened and sized before the dataset is allocated. The
 * limit is PCMUP_DATASET_MAX_BYTES_DEFAULT, judged on the files' sizes: the
 * training split takes 614600000 bytes. */
PCMUP_API pcmup_status pcmup_dataset_load_cifar10(pcmup_dataset **out, const char *dir,
                                                  pcmup_split split,
                                                  const pcmup_allocator *allocator);
/* pcmup_dataset_load_cifar10 with a limit of max_bytes, as
 * pcmup_dataset_load_idx_limited. */
PCMUP_API pcmup_status pcmup_dataset_load_cifar10_limited(pcmup_dataset **out,
                                                          const char *dir,
                                                          pcmup_split split,
                                                          size_t max_bytes,
                                                          const pcmup_allocator *allocator);

/* The first samples of a file or split, without reading the rest: the
 * loaders above with a sample count. max_samples >= 1 (0 is
 * PCMUP_ERR_INVALID; SIZE_MAX, or anything at least the file's count,
 * loads every sample and is then exactly the loader above, checks
 * included). The dataset holds the first min(max_samples, count) samples,
 * the same floats and labels as the whole file truncated to them
 * (pcmup_dataset_truncate), and the byte limit max_bytes (>= 1, as for
 * pcmup_dataset_load_idx_limited) applies to those samples only.
 * Reading and decompressing stop after the last sample loaded, so a short
 * run over FashionMNIST's training split pays for its samples, not for
 * 60000 of them (10000 samples: about a sixth of the time).
 * The headers are checked as before (magic, type, dimensions, the two
 * files' declared counts agree), and so is everything that is read: a
 * file ending or a gzip stream corrupt before the last sample loaded is
 * PCMUP_ERR_FORMAT. What is not read is not checked: a file truncated,
 * corrupt, or followed by trailing data after that sample loads without
 * error, and labels after it are not looked at. So for
 * pcmup_dataset_load_idx_head n_classes is the largest LOADED label + 1,
 * which is smaller than the whole file's when a larger label comes later
 * (FashionMNIST and CIFAR-10 have 10 classes either way). For CIFAR-10
 * every file of the split is still opened and sized (its size is its
 * only check) but only the records up to the last sample are read. */
PCMUP_API pcmup_status pcmup_dataset_load_idx_head(pcmup_dataset **out,
                                                   const char *images_path,
                                                   const char *labels_path,
                                                   size_t max_samples, size_t max_bytes,
                                                   const pcmup_allocator *allocator);
PCMUP_API pcmup_status pcmup_dataset_load_fashion_mnist_head(
    pcmup_dataset **out, const char *dir, pcmup_split split, size_t max_samples,
    size_t max_bytes, const pcmup_allocator *allocator);
PCMUP_API pcmup_status pcmup_dataset_load_cifar10_head(pcmup_dataset **out,
                                                       const char *dir, pcmup_split split,
                                                       size_t max_samples, size_t max_bytes,
                                                       const pcmup_allocator *allocator);

/* A dataset copied from caller arrays: x is (n, dim), x_count = n * dim
 * finite floats; labels holds n values (n is its count) in
 * [0, n_classes). */
PCMUP_API pcmup_status pcmup_dataset_from_arrays(pcmup_dataset **out, size_t n,
                                                 size_t dim, size_t n_classes,
                                                 const float *x, size_t x_count,
                                                 const int32_t *labels,
                                                 const pcmup_allocator *allocator);
/* Releases the dataset (NULL: no-op). */
PCMUP_API void pcmup_dataset_free(pcmup_dataset *dataset);

/* Any pointer may be NULL. */
PCMUP_API pcmup_status pcmup_dataset_info(const pcmup_dataset *dataset, size_t *n,
                                          size_t *dim, size_t *n_classes);
/* Keeps the first n samples (1 <= n <= current size). */
PCMUP_API pcmup_status pcmup_dataset_truncate(pcmup_dataset *dataset, size_t n);
/* Standardises every value: x <- (x - mean) / std, with the mean and
 * (population) std of all values of `reference` (NULL = the dataset
 * itself), so a test set can be standardised with its training set's
 * statistics. A reference whose std is 0, or a result that would overflow
 * a float, is rejected. */
PCMUP_API pcmup_status pcmup_dataset_standardize(pcmup_dataset *dataset,
                                                 const pcmup_dataset *reference);
/* Copies samples [start, start + n) into x (n, dim), x_count = n * dim
 * floats, and labels (n values: n is its count); either may be NULL. A
 * range past the end is PCMUP_ERR_INVALID; n = 0 copies nothing. */
PCMUP_API pcmup_status pcmup_dataset_get_batch(const pcmup_dataset *dataset,
                                               size_t start, size_t n, float *x,
                                               size_t x_count, int32_t *labels);
/* One-hot targets of samples [start, start + n) into y (n, n_classes),
 * y_count = n * n_classes floats: e_k, or the centred e_k - 1/C when
 * `centred` is non-zero. */
PCMUP_API pcmup_status pcmup_dataset_one_hot(const pcmup_dataset *dataset, size_t start,
                                             size_t n, int centred, float *y,
                                             size_t y_count);

/* ======================================================================
 * 5. Algorithms
 *
 * An algorithm handle is a learning rule with its hyperparameters, bound to
 * one network, whose weights it trains. The network must outlive it. All
 * scratch memory is owned by the algorithm and grows to the largest batch
 * seen: after the first step at a given batch size, steps allocate nothing
 * as long as the settings that size buffers stay as they were (turning on
 * momentum, weight decay or update recording, raising PC's T, giving GNT
 * a fractional power or another variant, or a TP rule's first
 * trained-feedback step, sizes their buffers at the next step).
 * pcmup_algo_reserve does that sizing ahead of the first step, and faults
 * the memory in, so that the first step or epoch is as fast as the next.
 *
 * Failure messages start with the name of the public function called,
 * "pcmup_algo_step: ...".
 * ====================================================================== */

typedef struct pcmup_algo pcmup_algo;

typedef enum {
    PCMUP_RULE_BP = 0,  /* backpropagation with SGD: W_l -= eta_l dL/dW_l */
    PCMUP_RULE_PC = 1,  /* predictive coding (section 6 below)            */
    PCMUP_RULE_GNT = 2, /* Gauss-Newton preconditioned SGD (section 7)    */
    PCMUP_RULE_TP = 3,  /* target propagation: t_{l-1} = G_l(t_l)         */
    PCMUP_RULE_DTP = 4  /* difference target propagation:
                           t_{l-1} = h_{l-1} + G_l(t_l) - G_l(h_l)       */
} pcmup_rule;

typedef enum {
    PCMUP_LOSS_MSE = 0, /* 1/2 ||f - y||^2, one-hot targets (centred by default) */
    PCMUP_LOSS_CE = 1   /* -log softmax(f)_k */
} pcmup_loss;

/* Settings. A rule's hyperparameters are settings: keys of pcmup_setting,
 * set and read on an algorithm handle as doubles (an enum-valued setting
 * takes the enum's value, an on/off one 0 or 1). The library describes
 * each setting itself, from one table: its name, a one-line description,
 * its group, default and bounds, whether it is per layer, which rules
 * accept it and, for an enum-valued setting, the names of its values (the
 * pcmup_setting_* functions below; docs/api.md shows the table, and
 * pcmup-train makes its flags and --help from it). The comments here say
 * what each setting means; its default and range are the library's
 * answers, stated nowhere else.
 *
 * Keys are numbered in groups with gaps, so a group can grow without
 * renumbering another: the settings every rule has from 0, predictive
 * coding's from 100, the Gauss-Newton target's from 200, target
 * propagation's from 300. A key's number never changes; a number no
 * setting has is an unknown key (PCMUP_ERR_INVALID everywhere). */
typedef enum {
    PCMUP_GROUP_COMMON = 0,  /* every rule                                  */
    PCMUP_GROUP_PC = 100,    /* PCMUP_RULE_PC (section 6)                   */
    PCMUP_GROUP_GNT = 200,   /* PCMUP_RULE_GNT (section 7)                  */
    PCMUP_GROUP_TP = 300     /* PCMUP_RULE_TP and PCMUP_RULE_DTP (section 8) */
} pcmup_setting_group;

typedef enum {
    /* Every rule. */
    PCMUP_SET_LR = 0,               /* eta, the base learning rate; layer l
                                       steps with eta_l = eta r^-c_l       */
    PCMUP_SET_LOSS = 1,             /* a pcmup_loss                        */
    PCMUP_SET_MSE_CENTRED = 2,      /* MSE targets: 1 the centred one-hot
                                       y = e_k - 1/C, 0 y = e_k            */
    PCMUP_SET_MOMENTUM = 3,         /* heavy-ball momentum mu              */
    PCMUP_SET_WEIGHT_DECAY = 4,     /* L2 coefficient on every parameter, w
                                       and biases (wd * w added to the
                                       gradient)                           */
    PCMUP_SET_RECORD_UPDATES = 5,   /* 1: keep a copy of each step's weight
                                       update for pcmup_algo_last_update   */

    /* Predictive coding (PCMUP_RULE_PC); see section 6. */
    PCMUP_SET_PC_GAMMA_HIDDEN = 100, /* hidden precision gamma_l, l < L; per
                                       layer (pcmup_algo_set_layer)        */
    PCMUP_SET_PC_GAMMA_OUT_BASE = 101, /* gamma'_L, the output precision at
                                       the base width (pcmup_pc_gamma_out
                                       gives gamma_L at the net's width)   */
    PCMUP_SET_PC_KAPPA = 102,       /* inference step kappa_l, l < L; per
                                       layer                               */
    PCMUP_SET_PC_ITERATIONS = 103,  /* inference iterations T (the maximum
                                       when a tolerance is set)            */
    PCMUP_SET_PC_SCHEDULE = 104,    /* a pcmup_pc_schedule                 */
    PCMUP_SET_PC_INIT = 105,        /* a pcmup_pc_init                     */
    PCMUP_SET_PC_INIT_STD = 106,    /* std of PCMUP_PC_INIT_RANDOM         */
    PCMUP_SET_PC_FPA = 107,         /* 1: the fixed prediction assumption  */
    PCMUP_SET_PC_TIMING = 108,      /* a pcmup_pc_timing                   */
    PCMUP_SET_PC_LAST_LAYER = 109,  /* a pcmup_pc_last_layer               */
    PCMUP_SET_PC_TOLERANCE = 110,   /* stop inference once the energy's
                                       relative decrease over an iteration
                                       falls below it; 0 never stops early */

    /* Gauss-Newton target (PCMUP_RULE_GNT); see section 7. */
    PCMUP_SET_GNT_POWER = 200,      /* e_B, the preconditioner's power: 0 is
                                       SGD (exactly BP), 1 is GNT          */
    PCMUP_SET_GNT_DAMPING = 201,    /* rho', the damping at the base width
                                       (rho_l follows section 7's scaling) */
    PCMUP_SET_GNT_VARIANT = 202,    /* a pcmup_gnt_variant                 */
    PCMUP_SET_GNT_OUTPUT = 203,     /* 1: precondition the output layer
                                       too; 0: it takes the plain gradient
                                       step                                */

    /* Target propagation (PCMUP_RULE_TP, PCMUP_RULE_DTP); see section 8. */
    PCMUP_SET_TP_BETA = 300,        /* output target step beta,
                                       t_L = f - beta dloss/df             */
    PCMUP_SET_TP_FEEDBACK = 301,    /* a pcmup_tp_feedback                 */
    PCMUP_SET_TP_FB_DAMPING = 302,  /* mu', the hidden feedback ridge
                                       damping at the base width (mu_l =
                                       mu' r^x, x = PCMUP_PARAM_FB_DAMPING_EXP) */
    PCMUP_SET_TP_FB_DAMPING_TOP = 303, /* mu_L, the top feedback ridge
                                       damping (not width-scaled)          */
    PCMUP_SET_TP_FB_LR = 304,       /* eta^V, the trained feedback learning
                                       rate at the base width (eta^V_l =
                                       eta^V r^-x, x = PCMUP_PARAM_FB_LR_EXP) */
    PCMUP_SET_TP_FB_STEPS = 305,    /* K_fb, feedback SGD iterations per
                                       step (trained feedback)             */
    PCMUP_SET_TP_FB_NOISE = 306,    /* sigma, std of the noise added to
                                       h_{l-1} when training feedback      */
    PCMUP_SET_TP_FB_ACTIVATION = 307, /* psi of trained feedback G_l(h) =
                                       psi(V_l h): PCMUP_ACT_IDENTITY or
                                       PCMUP_ACT_TANH                      */
    PCMUP_SET_TP_FB_INIT_STD = 308  /* sigma_V: trained feedback weights
                                       start as N(0, sigma_V^2 / M_l)      */
} pcmup_setting;

/* What the library knows about each setting. These functions read
 * constant data: any thread may call them at any time, with no handle.
 * A key no setting has is PCMUP_ERR_INVALID.
 *
 * The settings are enumerated as pcmup_setting_at(i) for i below
 * pcmup_setting_count(), in increasing key order (the count grows when a
 * version adds settings). */
PCMUP_API size_t pcmup_setting_count(void);
PCMUP_API pcmup_status pcmup_setting_at(size_t index, pcmup_setting *key);

/* The setting's name: the key's name in lower case without "PCMUP_SET_"
 * ("lr", "pc_kappa", "tp_fb_damping_top"), stable as the key is. find
 * returns the key of a name (exact, case-sensitive). */
PCMUP_API pcmup_status pcmup_setting_name(pcmup_setting key, const char **name);
PCMUP_API pcmup_status pcmup_setting_find(const char *name, pcmup_setting *key);

/* A one-line description in plain English ("inference step kappa_l of the
 * hidden layers"), for help texts; not stable across versions. */
PCMUP_API pcmup_status pcmup_setting_description(pcmup_setting key, const char **text);

/* The group the key belongs to: the group's value is the first key of its
 * block of numbers. */
PCMUP_API pcmup_status pcmup_setting_group_of(pcmup_setting key,
                                             pcmup_setting_group *group);

/* The value a new algorithm starts with. */
PCMUP_API pcmup_status pcmup_setting_default(pcmup_setting key, double *value);

/* The values a setting accepts, modelled on zstd's ZSTD_bounds. status is
 * PCMUP_OK, or why there are no bounds (then every other field is 0).
 * lo and hi are the ends; lo_open (hi_open) is 1 when lo (hi) itself is
 * excluded; integral is 1 when only whole numbers are accepted (enum-valued
 * and on/off settings). Values must also be finite, and an enum-valued
 * setting may refuse whole numbers inside its bounds that name no value
 * (pcmup_setting_value_name). The struct never changes size: later
 * versions describe more through new functions, not new fields. */
typedef struct {
    pcmup_status status;
    double lo, hi;
    int lo_open, hi_open, integral;
} pcmup_bounds;

PCMUP_API pcmup_bounds pcmup_setting_bounds(pcmup_setting key);

/* *per_layer = 1 for a setting with one value per hidden layer
 * (pcmup_algo_set_layer), else 0. */
PCMUP_API pcmup_status pcmup_setting_per_layer(pcmup_setting key, int *per_layer);

/* *accepts = 1 if algorithms of `rule` have the setting, else 0 (their
 * pcmup_algo_set and pcmup_algo_get answer PCMUP_ERR_UNSUPPORTED).
 * An unknown rule is PCMUP_ERR_INVALID. */
PCMUP_API pcmup_status pcmup_setting_accepts(pcmup_setting key, pcmup_rule rule,
                                             int *accepts);

/* Names of an enum-valued setting's values: the enum constant's name in
 * lower case without its prefix ("sequential" for
 * PCMUP_PC_SCHEDULE_SEQUENTIAL, "identity" for PCMUP_ACT_IDENTITY).
 * value_name gives the name of `value`, PCMUP_ERR_INVALID for a value the
 * setting refuses; value_find gives the value of a name (exact,
 * case-sensitive), PCMUP_ERR_INVALID for a name it does not have. Both
 * return PCMUP_ERR_UNSUPPORTED for a setting that is not enum-valued. To
 * list the values, ask value_name for every whole number within the
 * bounds. */
PCMUP_API pcmup_status pcmup_setting_value_name(pcmup_setting key, double value,
                                                const char **name);
PCMUP_API pcmup_status pcmup_setting_value_find(pcmup_setting key, const char *name,
                                                double *value);

/* Creates an algorithm of `rule` for `net`; `seed` seeds its own random
 * stream (used to shuffle epochs). Every setting starts at its default.
 * Threads: only reads the network (the algorithm keeps a pointer to it,
 * and from then on uses it). */
PCMUP_API pcmup_status pcmup_algo_create(pcmup_algo **out, pcmup_rule rule,
                                         pcmup_net *net, uint64_t seed,
                                         const pcmup_allocator *allocator);
/* Releases the algorithm and its scratch (NULL: no-op); the net stays.
 * Threads: touches only the algorithm, not its network. */
PCMUP_API void pcmup_algo_free(pcmup_algo *algo);

/* The rule the algorithm was created with. */
PCMUP_API pcmup_status pcmup_algo_rule(const pcmup_algo *algo, pcmup_rule *rule);

/* Sets or reads a setting. A key the algorithm's rule does not accept is
 * PCMUP_ERR_UNSUPPORTED; a value outside the setting's bounds, not finite,
 * a fraction for a whole-number setting or a number that names none of an
 * enum-valued setting's values is PCMUP_ERR_INVALID. For a per-layer
 * setting, set applies the value to every hidden layer and get returns the
 * value last set that way (the default if none), whatever
 * pcmup_algo_set_layer did since.
 * Threads: pcmup_algo_set, _get, _set_layer and _get_layer touch only
 * the algorithm (of its network they read the depth, which never
 * changes): settings may change while another algorithm on the same
 * network steps. */
PCMUP_API pcmup_status pcmup_algo_set(pcmup_algo *algo, pcmup_setting key, double value);
PCMUP_API pcmup_status pcmup_algo_get(const pcmup_algo *algo, pcmup_setting key,
                                      double *value);
/* A per-layer setting (pcmup_setting_per_layer) for one layer l; they
 * exist for the hidden layers 1 <= l < L. The value is checked as
 * pcmup_algo_set checks it. Other keys give PCMUP_ERR_UNSUPPORTED. */
PCMUP_API pcmup_status pcmup_algo_set_layer(pcmup_algo *algo, size_t layer,
                                            pcmup_setting key, double value);
PCMUP_API pcmup_status pcmup_algo_get_layer(const pcmup_algo *algo, size_t layer,
                                            pcmup_setting key, double *value);

/* One training step on a batch: x (batch, M_0), x_count = batch * M_0
 * floats; labels holds batch values (batch is its count) in [0, M_L).
 * *loss (may be NULL) receives the batch-mean loss before the step.
 * Divergence: a non-finite loss before the step, or a step that leaves
 * any weight, bias, momentum value or persistent rule state (TP's trained
 * feedback) NaN or infinite, gives PCMUP_ERR_DIVERGED with a message
 * naming what and which layer, and puts back everything the step changed:
 * the algorithm is exactly as before the call. So PCMUP_OK always means
 * finite weights. The check costs one pass over the parameters; the copy
 * the undo needs, one more (pcmup_algo_train_epoch makes it once per
 * epoch). Any other failure leaves everything as it was too. The rules'
 * own diagnostics of the last step (the PC energy trace, for example)
 * describe the step attempted, also one that diverged. */
PCMUP_API pcmup_status pcmup_algo_step(pcmup_algo *algo, const float *x, size_t x_count,
                                       const int32_t *labels, size_t batch, double *loss);

/* One pass over the dataset in a random order (drawn from the algorithm's
 * seed) in batches of `batch` (the last one may be smaller; a batch larger
 * than the dataset is the whole dataset). *mean_loss (may be NULL)
 * receives the mean of the batch losses, weighted by batch size. Stops at
 * the first failing step (a divergence as pcmup_algo_step defines it,
 * the last step included), restores the parameters, momentum, random
 * stream and rule state the epoch started from, and returns the step's
 * status: PCMUP_OK means every weight is finite. */
PCMUP_API pcmup_status pcmup_algo_train_epoch(pcmup_algo *algo,
                                              const pcmup_dataset *dataset,
                                              size_t batch, double *mean_loss);

/* Optional: allocates and faults in now everything a step of `batch`
 * samples and an epoch in batches of `batch` need (scratch, the gathered
 * batch, the momentum, the rule's buffers, the copy a step or epoch keeps
 * to undo itself), and runs one product of each matrix shape the dense
 * layers' step multiplies on scratch (the BLAS library's own work buffer
 * is then in memory too), so that the first step or epoch runs at the
 * speed of later ones instead of paying for first-touch page faults
 * (docs/benchmark.md, "The first epoch"). Without it
 * pcmup_algo_step and pcmup_algo_train_epoch reserve on their own; after
 * it, steps and epochs with batches up to `batch` allocate nothing until a
 * setting that needs more memory (momentum, recording the update, PC's
 * iteration count) changes. An epoch still allocates its sample order (one
 * size_t per sample) the first time it sees a larger dataset. Call it after
 * the settings, and under a reducer after pcmup_algo_set_reducer; `batch`
 * is the global batch as pcmup_algo_train_epoch takes it. Changes no
 * result: what a run computes is the same with or without it.
 * PCMUP_ERR_INVALID for batch 0 or above 2^31 - 1; PCMUP_ERR_NOMEM, or a
 * setting the rule refuses (as the step would), leaves the algorithm as it
 * was. Threads: touches only the algorithm. */
PCMUP_API pcmup_status pcmup_algo_reserve(pcmup_algo *algo, size_t batch);

/* Mean loss (the algorithm's loss setting) and accuracy (fraction of
 * samples whose largest output is the label) over the dataset. Either
 * pointer may be NULL. A loss that is not finite (outputs that overflow
 * or are NaN) gives PCMUP_ERR_DIVERGED and writes neither.
 * Threads: writes the algorithm's scratch but only reads its network and
 * the dataset, so readers of the network (pcmup_net_get_weights, the
 * evaluation of another algorithm on it) may run meanwhile; a step of any
 * algorithm on the network may not. A network with convolutions is the
 * exception: its convolutions share one im2col scratch that belongs to
 * the network, so evaluations on it must not overlap either. */
PCMUP_API pcmup_status pcmup_algo_evaluate(pcmup_algo *algo,
                                           const pcmup_dataset *dataset,
                                           double *loss, double *accuracy);

/* The weight update the last step applied to layer l, as a change of the
 * effective weights W_l (out x in, exactly `count` = out * in floats).
 * Needs PCMUP_SET_RECORD_UPDATES = 1 before that step; otherwise, or
 * before any recorded step, PCMUP_ERR_UNSUPPORTED. */
PCMUP_API pcmup_status pcmup_algo_last_update(const pcmup_algo *algo, size_t layer,
                                              float *dst, size_t count);

/* The alignment ratio of the last step (docs/tp.md, section 6), for any rule:
 *
 *   R = rms(W_L dh) / (rms(W_L) rms(dh)),
 *
 * where W_L is the output layer's effective weight matrix before the step,
 * dh = h_{L-1}(after) - h_{L-1}(before) is the change the step made to the
 * last hidden layer's output on the step's own batch (B, M_{L-1}), rms(W_L)
 * is over W_L's entries, rms(dh) over dh's entries and rms(W_L dh) over the
 * (B, M_L) products. dh is aligned with W_L when it was sent through
 * W_L^T (BP, PC: R grows like M, omega_L = 1) and not when it comes from
 * a regression on f (TP: R grows like sqrt(M), omega_L = 1/2). After one
 * step from the initial weights this is R(M) of docs/tp.md, section 8.2.
 * Computed at the end of every step taken with PCMUP_SET_RECORD_UPDATES =
 * 1 (it costs a forward pass through layers 1..L-1); PCMUP_ERR_UNSUPPORTED
 * before such a step, for a single-layer network, or when the step left
 * h_{L-1} or W_L at zero. */
PCMUP_API pcmup_status pcmup_algo_alignment_ratio(const pcmup_algo *algo, double *ratio);

/* ---- Data-parallel training ----------------------------------------------
 *
 * Several workers -- processes on a cluster, threads, anything that can add
 * up numbers together -- train one model: each holds its own copy of the
 * network and an algorithm (same widths, same seeds, same settings), takes
 * its share of every batch, and the batch sums are added up across the
 * workers, so every copy makes the same update. libpcmup does no
 * communication itself (it links no MPI): the caller hands it a reducer,
 * two callbacks over its own transport (MPI_Allreduce and MPI_Allgatherv,
 * say).
 *
 *     static int sum(void *comm, void *buf, size_t count, int type)
 *     {
 *         MPI_Datatype t = type == PCMUP_REDUCE_FLOAT64 ? MPI_DOUBLE : MPI_FLOAT;
 *         return MPI_Allreduce(MPI_IN_PLACE, buf, (int)count, t, MPI_SUM,
 *                              *(MPI_Comm *)comm) != MPI_SUCCESS;
 *     }
 *     pcmup_reducer r = PCMUP_REDUCER_INIT(rank, size, sum, NULL, &comm);
 *     pcmup_algo_set_reducer(algo, &r);
 *     pcmup_algo_train_epoch(algo, train, 128, &loss);   // 128: the global batch
 *
 * With a reducer:
 *  - pcmup_algo_step's x, labels and batch are this worker's share of a
 *    global batch (a share may be 0 samples; x and labels may then be
 *    NULL). The loss, the updates and every diagnostic of the step are
 *    those of the global batch: means over all the workers' samples.
 *  - pcmup_algo_train_epoch: every worker holds the whole dataset and
 *    passes the same global `batch`; all shuffle alike (same algorithm
 *    seed) and each takes its contiguous share of every global batch, B
 *    split as evenly as possible in rank order (the first B mod n ranks
 *    take one sample more).
 *  - pcmup_algo_evaluate splits the dataset the same way and returns the
 *    whole dataset's loss and accuracy on every worker.
 * The results equal the single-process run with the same global batch up
 * to float rounding (the sums are added in another order); samples that
 * draw random numbers inside a step (PC's random initial states, trained
 * feedback's noise) draw exactly the numbers the single process gives
 * them. Every rule and setting trains data-parallel. Two need whole
 * matrices of the batch on every worker and so a gather_fn: TP and DTP
 * with closed-form feedback (the hidden activations, for their B x B
 * ridge systems) and GNT's batch variant where it works on the Gram side
 * (B C < M_l: the Jacobian rows); without one they answer
 * PCMUP_ERR_UNSUPPORTED at that step, before any communication. The trial
 * updates of section 9 refuse a reducer (they step on one batch alone).
 *
 * Communication per step, for n parameters: one sum of n floats (the
 * layers' updates, one call per layer) and a few doubles (loss, batch
 * sizes); PC adds L doubles per inference iteration, TP/DTP with trained
 * feedback K_fb sums of each V_l, closed-form feedback C^2 doubles and
 * C M_{L-1} floats summed and B (M_1 + ... + M_{L-1}) floats gathered,
 * GNT's batch variant M_l^2 floats summed (P_l's side) or B C M_l floats
 * gathered (Gram side) per layer. docs/architecture.md, section 9.
 *
 * The callbacks are collective: every worker makes the same calls with the
 * same counts in the same order, and the library calls them only from the
 * thread that called it. Argument checks happen before the first call, so
 * a worker whose arguments are refused makes none: call with consistent
 * arguments on every worker. A callback returns 0 on success; any other
 * value makes the call fail with PCMUP_ERR_IO (the communication failed,
 * as a read would), naming the callback and its return value, with the
 * algorithm and network as they were before the call. The library makes
 * no further calls in that step, so a transport should fail on every
 * worker at once (MPI's default error handler aborts anyway). */

/* The element types sum_fn is called with (as an int, its `type`). */
typedef enum {
    PCMUP_REDUCE_FLOAT32 = 0, /* buf is float[count]  */
    PCMUP_REDUCE_FLOAT64 = 1  /* buf is double[count] */
} pcmup_reduce_type;

/* `size` must be sizeof(pcmup_reducer) as the caller's header declares it
 * (PCMUP_REDUCER_INIT sets it), as for pcmup_allocator: later releases may
 * add members after `user`. The struct is copied. */
typedef struct pcmup_reducer {
    size_t size;
    size_t rank;      /* this worker, 0 .. n_workers - 1               */
    size_t n_workers; /* >= 1                                           */
    /* Replace buf (count elements of `type`, PCMUP_REDUCE_*) on every
     * worker by its elementwise sum over all the workers, in place. For a
     * result independent of timing, add in a fixed order (MPI_Allreduce
     * does for a fixed number of ranks). Required. */
    int (*sum_fn)(void *user, void *buf, size_t count, int type);
    /* Concatenate every worker's count_mine floats `mine` in rank order
     * into `all` (all_count floats, the sum of the counts, which may
     * differ between workers), on every worker (MPI_Allgatherv). Optional
     * (NULL) for the rules and settings that only sum (see above). */
    int (*gather_fn)(void *user, const float *mine, size_t count_mine, float *all,
                     size_t all_count);
    void *user;       /* passed back to both callbacks                  */
} pcmup_reducer;

#define PCMUP_REDUCER_INIT(rank, n_workers, sum_fn, gather_fn, user)          \
    { sizeof(pcmup_reducer), (rank), (n_workers), (sum_fn), (gather_fn), (user) }

/* Makes the algorithm one worker of a data-parallel group (NULL: back to a
 * single process, exactly as if never set). PCMUP_ERR_INVALID for a size
 * smaller than this release's members, n_workers of 0, rank >= n_workers
 * or a NULL sum_fn; PCMUP_ERR_UNSUPPORTED for a rule that cannot train
 * data-parallel (see above). Allocates the reduction buffers here (one
 * more copy of the parameters, kept until the algorithm is freed), so
 * that steps still allocate nothing. Threads: touches only the
 * algorithm. */
PCMUP_API pcmup_status pcmup_algo_set_reducer(pcmup_algo *algo, const pcmup_reducer *reducer);

/* ---- Layer-parallel predictive coding --------------------------------------
 *
 * Under simultaneous inference (PCMUP_PC_SCHEDULE_SIMULTANEOUS) a layer's
 * state update and weight update need only its neighbours' states and
 * errors, so the layers can be spread over workers: each owns a
 * contiguous block of layers first..last of 1..L, and in every inference
 * iteration exchanges two boundary matrices with the workers that own
 * the layers next to its block. As for data parallelism, libpcmup does no
 * communication itself: the caller hands it two callbacks over its own
 * transport, a point-to-point exchange with the two neighbours
 * (MPI_Isend/MPI_Irecv to ranks r-1 and r+1, then MPI_Waitall) and a sum
 * over all the workers (MPI_Allreduce).
 *
 *     pcmup_layer_split s = PCMUP_LAYER_SPLIT_INIT(first, last, exchange, sum, &comm);
 *     pcmup_algo_set_layer_split(algo, &s);
 *     pcmup_algo_train_epoch(algo, train, 64, &loss);   // the same on every worker
 *     pcmup_algo_sync_layers(algo);                      // before evaluating or saving
 *     pcmup_algo_evaluate(algo, test, &test_loss, &acc);
 *
 * Every worker holds a whole copy of the network and an algorithm made
 * from the same seeds with the same settings, and passes the same
 * arguments to every call (the whole batch, the same dataset and batch
 * size). A step then
 *  - runs the forward pass as a pipeline: receives h_{first-1} from the
 *    previous worker, computes its own layers, sends h_last on;
 *  - initialises its own states (random states: every worker draws the
 *    whole stream and keeps its part, so they are the single process's);
 *  - in each of the T inference iterations sends eps_first W_first back
 *    and receives eps_{last+1} W_{last+1}, moves its states, then sends
 *    phi(x_last) forward and receives phi(x_{first-1}) (not under FPA,
 *    whose predictions are fixed): each a B x M_{first-1} (or B x M_last)
 *    matrix of floats; and sums the energy over the workers (L doubles),
 *    so that the trace and a tolerance are the same everywhere;
 *  - updates its own layers' weights and momentum only;
 *  - returns the global loss (computed by the owner of layer L) and the
 *    whole network's energy trace and error norms.
 * The results equal the single-process simultaneous run: the same
 * operations on the same numbers (the sums add zeros from the workers
 * that do not own a value).
 *
 * The other layers of a worker's copy are stale after a step. Before
 * pcmup_algo_evaluate or pcmup_algo_save (which refuse stale copies with
 * PCMUP_ERR_UNSUPPORTED) or reading weights, call pcmup_algo_sync_layers
 * on every worker: one sum_fn call over the parameters (and one over the
 * momentum) brings each layer from its owner to every copy.
 *
 * Supported: PC with the simultaneous schedule, any initialisation, FPA
 * or not, a tolerance, momentum, weight decay, both last-layer
 * conventions, on dense networks (pcmup_net_create). Refused with
 * PCMUP_ERR_UNSUPPORTED, before any communication: other rules and
 * convolutional networks (at pcmup_algo_set_layer_split), a reducer on
 * the same algorithm (either order), the sequential schedule (inherently
 * serial; so timing CACHE too), PCMUP_SET_RECORD_UPDATES (the update
 * record and alignment ratio need the whole network) at the step, and
 * the trial updates of section 9.
 *
 * The callbacks, called only from the thread that called the library:
 * both are called by every worker in the same order (a sum is collective;
 * an exchange pairs each worker with its neighbours, and a worker with
 * nothing to send or receive in a direction gets a count of 0 and NULL
 * there). A callback returns 0 on success; any other value makes the
 * call fail with PCMUP_ERR_IO, with the algorithm and network as they
 * were before the call and no further callback in that call, so a
 * transport should fail on every worker at once. The first step after
 * pcmup_algo_set_layer_split sums which layers each worker owns and
 * refuses (PCMUP_ERR_INVALID, on every worker) blocks that do not cover
 * 1..L exactly once. A divergence on one worker's layers is
 * PCMUP_ERR_DIVERGED on all of them (one more sum of a double per step). */

/* `size` must be sizeof(pcmup_layer_split) as the caller's header declares
 * it (PCMUP_LAYER_SPLIT_INIT sets it): later releases may add members
 * after `user`. The struct is copied. */
typedef struct pcmup_layer_split {
    size_t size;
    size_t first_layer, last_layer; /* this worker's block, 1 <= first <= last <= L */
    /* Send to_prev (to_prev_count floats) to the worker owning layer
     * first_layer - 1 and receive from_prev from it; send to_next to the
     * worker owning last_layer + 1 and receive from_next from it. A count
     * of 0 means nothing that way (its pointer is then NULL); the counts a
     * worker sends are the ones its neighbour receives. Both directions at
     * once must not deadlock: post nonblocking receives and sends, then
     * wait for all (MPI_Irecv, MPI_Isend, MPI_Waitall). Required. */
    int (*exchange_fn)(void *user, const float *to_prev, size_t to_prev_count,
                       float *from_prev, size_t from_prev_count, const float *to_next,
                       size_t to_next_count, float *from_next, size_t from_next_count);
    /* Replace buf (count elements of `type`, PCMUP_REDUCE_*) by its
     * elementwise sum over all the workers, in place, as pcmup_reducer's
     * sum_fn. Required. */
    int (*sum_fn)(void *user, void *buf, size_t count, int type);
    void *user; /* passed back to both callbacks */
} pcmup_layer_split;

#define PCMUP_LAYER_SPLIT_INIT(first_layer, last_layer, exchange_fn, sum_fn, user)      \
    { sizeof(pcmup_layer_split), (first_layer), (last_layer), (exchange_fn), (sum_fn), (user) }

/* Makes the algorithm the worker owning layers first_layer..last_layer of
 * a layer-parallel group (NULL: back to a single process, exactly as if
 * never set). PCMUP_ERR_INVALID for a size smaller than this release's
 * members, a block outside 1..L or with first > last, or a NULL callback;
 * PCMUP_ERR_UNSUPPORTED for a rule other than PC, a convolutional
 * network, or an algorithm with a reducer. Allocates what the split
 * needs beyond the step's buffers (one copy of the parameters, for
 * pcmup_algo_sync_layers); the step's boundary buffers come with its
 * other buffers. The worker's copy must equal the others' when this is
 * called (same seeds, same steps so far). Threads: touches only the
 * algorithm. */
PCMUP_API pcmup_status pcmup_algo_set_layer_split(pcmup_algo *algo,
                                                  const pcmup_layer_split *split);

/* Collective: brings every layer of this worker's copy of the network,
 * and of its momentum, to its owner's values (each worker contributes its
 * own layers and zeros elsewhere to one sum_fn call of n_params floats,
 * and one more for the momentum). Call it on every worker before
 * evaluating, saving or reading the weights. PCMUP_OK with nothing done
 * (no callback) without a layer split or when no step succeeded since the
 * last sync (the same on every worker); PCMUP_ERR_IO (copy unchanged)
 * when sum_fn fails; PCMUP_ERR_NOMEM if the momentum's buffer cannot be
 * allocated. */
PCMUP_API pcmup_status pcmup_algo_sync_layers(pcmup_algo *algo);

/* ======================================================================
 * 6. Predictive coding (PCMUP_RULE_PC)
 *
 * Value nodes x_l (l = 1..L-1) are pre-activation states; x_0 = x is
 * clamped and the output is clamped to the label through the loss. The
 * energy (docs/pc.md, section 1; per sample, averaged over the batch) is
 *
 *   F = sum_{l<L} gamma_l/2 ||x_l - W_l phi(x_{l-1})||^2
 *       + gamma_L loss(W_L phi(x_{L-1}), y),   phi(x_0) := x_0,
 *
 * with gamma_L = gamma'_L r_L^-gammabar_L (PCMUP_SET_PC_GAMMA_OUT_BASE and the
 * parameterization's PCMUP_PARAM_GAMMA_BAR; r_L = M_{L-1} / M_base).
 * Errors: eps_l = x_l - W_l phi(x_{l-1}) for l < L, eps_L = -dloss/df.
 *
 * A step: forward pass; initialise the states (forward: x_l = u_l, so
 * every eps_l = 0 below the output; zero; or random); T inference
 * iterations x_l -= kappa_l dF/dx_l, either sequential sweeps from layer
 * L-1 down to 1 (each layer sees the freshest states; one sweep carries
 * the output error to layer 1) or simultaneous (all gradients from one
 * snapshot); then the weight update
 *
 *   W_l += eta_l gamma_l (1/B) eps_l^T phi(x_{l-1})   (l < L)
 *   W_L += eta_L s       (1/B) eps_L^T phi(x_{L-1})   s = 1 (A) or gamma_L (B)
 *
 * with errors from the final states (timing END) or, for l < L, cached
 * right after x_l's last update (timing CACHE, sequential only). Under the
 * fixed prediction assumption (FPA) the predictions, phi'(x_l) and the
 * presynaptic factors stay at their feedforward values.
 *
 * With FPA, forward init, one sequential sweep and kappa_l gamma_l = 1,
 * the update is BP's with the hidden learning rates multiplied by gamma_L
 * (convention A). The paper's setting is single-shot: T = 1, sequential,
 * forward init, no FPA (the defaults).
 * ====================================================================== */

typedef enum {
    PCMUP_PC_SCHEDULE_SEQUENTIAL = 0,
    PCMUP_PC_SCHEDULE_SIMULTANEOUS = 1
} pcmup_pc_schedule;

typedef enum {
    PCMUP_PC_INIT_FORWARD = 0,  /* x_l = u_l, the feedforward pre-activations */
    PCMUP_PC_INIT_ZERO = 1,
    PCMUP_PC_INIT_RANDOM = 2    /* N(0, PCMUP_SET_PC_INIT_STD^2), from the
                                algorithm's random stream              */
} pcmup_pc_init;

typedef enum {
    PCMUP_PC_TIMING_END = 0,    /* errors recomputed from the final states */
    PCMUP_PC_TIMING_CACHE = 1   /* eps_l kept right after x_l's last update */
} pcmup_pc_timing;

typedef enum {
    PCMUP_PC_LAST_LAYER_A = 0,  /* gamma_L absorbed into eta_L: c_L = 1    */
    PCMUP_PC_LAST_LAYER_B = 1   /* the raw energy gradient: c_L = 1 - gbar */
} pcmup_pc_last_layer;

/* The output precision gamma_L this PC algorithm uses at its net's width. */
PCMUP_API pcmup_status pcmup_pc_gamma_out(const pcmup_algo *pc, double *gamma_out);

/* The energy F (batch mean) at the initial states and after each inference
 * iteration of the last step: count receives T' + 1, where T' <= T is the
 * number of iterations run; up to `capacity` values are written to dst.
 * Under FPA the energy is evaluated with the fixed predictions, and
 * inference is then not a descent on it: it may rise (so a tolerance stops
 * FPA inference after one iteration). PCMUP_ERR_UNSUPPORTED before the
 * first step (also for pcmup_pc_error_norms). */
PCMUP_API pcmup_status pcmup_pc_energy_trace(const pcmup_algo *pc, double *dst,
                                             size_t capacity, size_t *count);

/* The energy after inference averaged over the last pcmup_algo_train_epoch
 * that completed: the last value of each step's energy trace, weighted by
 * the step's batch size (what stepping by hand and reading
 * pcmup_pc_energy_trace after every step would average).
 * PCMUP_ERR_UNSUPPORTED before such an epoch. */
PCMUP_API pcmup_status pcmup_pc_epoch_energy(const pcmup_algo *pc, double *mean);

/* Per layer l = 1..L (dst[l - 1]), the root mean square over the batch of
 * ||eps_l||, the prediction errors the last step's weight update used.
 * count must be L. */
PCMUP_API pcmup_status pcmup_pc_error_norms(const pcmup_algo *pc, double *dst,
                                            size_t count);

/* Deep linear networks: the exact inference equilibrium (the paper's
 * Theorem 4.2) of this PC algorithm's energy on one batch, for a network
 * with the identity activation, no biases, and the MSE loss (targets as the
 * PCMUP_SET_MSE_CENTRED setting says). With Wp_l = W_L ... W_{l+1}
 * (Wp_L = I), e = y - f and
 *
 *   C_gamma = sum_{l<L} (gamma_L / gamma_l) Wp_l Wp_l^T      (M_L x M_L),
 *   eps_L* = (I + C_gamma)^-1 e,  eps_l* = (gamma_L / gamma_l) Wp_l^T eps_L*,
 *   x_l* = W_l x*_{l-1} + eps_l*  (x_0* = x),
 *
 * per sample. x is (batch, M_0), x_count = batch * M_0 floats; labels
 * holds batch values (batch is its count). Outputs (each pointer may be
 * NULL; arrays of arrays hold one row-major array per layer, [l - 1] for
 * layer l, and come with their number of pointers):
 *   eps[l - 1]      (batch, M_l), l = 1..L; eps_count = L
 *   states[l - 1]   (batch, M_l), l = 1..L-1; states_count = L - 1
 *   updates[l - 1]  (M_l, M_{l-1}), l = 1..L; updates_count = L: the
 *                   weight update PC makes at the equilibrium,
 *                   eta_l gamma_l (1/B) eps_l*^T x*_{l-1}
 *                   (l = L: eta_L s, with the last-layer convention)
 *   c_gamma         (M_L, M_L); c_gamma_count = M_L * M_L floats
 *   c_gamma_norm    its spectral norm (largest eigenvalue)
 *   energy          F* / B = gamma_L / (2B) sum_b e_b^T (I + C_gamma)^-1 e_b
 * A NULL entry inside eps, states or updates skips that layer. updates
 * are the change of the effective weights W_l, as pcmup_algo_last_update
 * reports (with the forward multiplier's square when a_l != 0; momentum and
 * weight decay are not included). Nothing is trained. PCMUP_ERR_UNSUPPORTED
 * for a nonlinear network, a network with biases or the cross-entropy loss;
 * PCMUP_ERR_DIVERGED when I + C_gamma or the energy is not finite.
 * Threads: reads the algorithm and its network, and allocates its
 * scratch through the algorithm's allocator for the call. */
PCMUP_API pcmup_status pcmup_pc_linear_equilibrium(const pcmup_algo *pc, const float *x,
                                                   size_t x_count, const int32_t *labels,
                                                   size_t batch, float *const *eps,
                                                   size_t eps_count, float *const *states,
                                                   size_t states_count,
                                                   float *const *updates, size_t updates_count,
                                                   float *c_gamma, size_t c_gamma_count,
                                                   double *c_gamma_norm, double *energy);

/* ======================================================================
 * 7. Gauss-Newton target (PCMUP_RULE_GNT)
 *
 * SGD preconditioned, on the output side of every layer, by the damped
 * Gauss-Newton matrix in pre-activation space (the paper's section 3,
 * Proposition 3.3; docs/gnt.md):
 *
 *   W_l -= eta_l P_l^(-e_B) g_l,
 *   P_l  = (1/B) sum_b J_l[b]^T K_b J_l[b] + rho_l I        (M_l x M_l)
 *
 * g_l is BP's gradient of the batch-mean loss, J_l[b] = df_b / du_{l,b}
 * the network Jacobian of sample b (C x M_l, J_L = I), K_b the loss
 * Hessian in f (I for MSE, diag(p) - p p^T with p = softmax(f_b) for
 * cross-entropy) and e_B = PCMUP_SET_GNT_POWER. P^(-e_B) is the symmetric
 * matrix power. The 1/B belongs to P_l (without it rho would act as rho/B).
 * The damping follows the muP scaling of docs/gnt.md, section 3:
 *
 *   rho_l = rho' r^-(2 b_L - 1)  (l < L),   rho_L = rho',
 *
 * with rho' = PCMUP_SET_GNT_DAMPING, r = M_{L-1} / M_base and b_L the output
 * layer's b in the network's parameterization: rho' M_base / M under muP
 * (b_L = 1), rho' at every width under SP (b_L = 1/2).
 *
 * Variant PCMUP_GNT_SAMPLE (the Gauss-Newton targets of Meulemans et al.
 * 2020): one matrix per sample, without the 1/B,
 *
 *   du_{l,b} = -(J_l[b]^T K_b J_l[b] + rho_l I)^(-e_B) J_l[b]^T dl/df_b,
 *   W_l += eta_l (1/B) sum_b du_{l,b} h_{l-1,b}^T.
 *
 * e_B = 0 is exactly BP's step. PCMUP_SET_GNT_OUTPUT = 0 gives the output
 * layer BP's step (preconditioned under MSE, it is BP's over 1 + rho').
 * The muP of GNT is PCMUP_PRESET_MUP_GNT applied at the same e_B:
 * c = (e_B - 1, e_B, 1), (0, 1, 1) for e_B = 1.
 *
 * Cost: the backward pass runs on B (C + 1) rows instead of B (the
 * Jacobians ride along with the gradient), and every layer solves one
 * dense problem of order min(B C, M_l) (batch variant; it works with the
 * B C x B C Gram matrix of the Jacobians when that is the smaller side)
 * or B problems of order C (sample variant): a Cholesky factorisation for
 * e_B = 1, a symmetric eigendecomposition otherwise, in double precision,
 * by LAPACK when the BLAS library provides it (docs/gnt.md has timings).
 * The scratch grows with B (C + 1) times the largest width and with the
 * square of the largest order; a fractional e_B adds the eigensolver's
 * workspace at the next step.
 *
 * A step whose system cannot be solved (not positive definite, or an
 * update that is not finite) returns PCMUP_ERR_DIVERGED and leaves every
 * weight as it was: all layers' updates are computed before any is applied.
 * ====================================================================== */

typedef enum {
    PCMUP_GNT_BATCH = 0,   /* one P_l for the batch (Proposition 3.3)      */
    PCMUP_GNT_SAMPLE = 1   /* one matrix per sample (Gauss-Newton targets) */
} pcmup_gnt_variant;

/* Per layer l = 1..L (dst[l - 1]), the damping rho_l a step of this GNT
 * algorithm uses at the current settings and its net's width (rho_L too,
 * whether or not the output layer is preconditioned). count must be L. */
PCMUP_API pcmup_status pcmup_gnt_damping(const pcmup_algo *gnt, double *dst, size_t count);

/* Per layer l = 1..L, the order of the dense system a step on `batch`
 * samples solves at the current settings: min(B C, M_l) for the batch
 * variant (B C means the Gram matrix side), C for the sample variant (B
 * such systems), 0 where nothing is solved (e_B = 0, or the output layer
 * with PCMUP_SET_GNT_OUTPUT = 0). count must be L; batch >= 1. */
PCMUP_API pcmup_status pcmup_gnt_system_size(const pcmup_algo *gnt, size_t batch,
                                             size_t *dst, size_t count);

/* ======================================================================
 * 8. Target propagation (PCMUP_RULE_TP, PCMUP_RULE_DTP)
 *
 * Each layer gets a target and moves toward it by a local loss; the
 * targets are sent down by feedback maps G_l from layer l to layer l-1
 * (the paper's section 5; docs/tp.md). With h_L := f, a step is:
 *
 *   forward pass u_l, h_l, f
 *   (trained feedback) K_fb SGD steps on every V_l, l = L..2
 *   t_L = f - beta dloss/df
 *   for l = L..2:  TP   t_{l-1} = G_l(t_l)
 *                  DTP  t_{l-1} = h_{l-1} + G_l(t_l) - G_l(h_l)
 *   W_l += eta_l (1/B) [phi'(u_l) * (t_l - h_l)]^T h_{l-1}   (l < L)
 *   W_L += eta_L (1/B) (t_L - f)^T h_{L-1}
 *
 * (batch-major; every update comes from the one forward pass, through the
 * same SGD step as BP's, so momentum and weight decay apply). The hidden
 * local loss is 1/2 ||t_l - h_l||^2 on post-activations with t_l held
 * fixed; the output update is BP's scaled by beta.
 *
 * Feedback (PCMUP_SET_TP_FEEDBACK):
 *   CLOSED (default): G_l(v) = Q*_l v, the ridge regression of h_{l-1} on
 *     h_l over the step's batch (H_l is the (B, M_l) batch, F = H_L):
 *       Q*_l = H_{l-1}^T (H_l H_l^T + mu_l I_B)^-1 H_l     2 <= l < L
 *       Q*_L = H_{L-1}^T F (F^T F + mu_L I_C)^-1
 *     computed through B x B and C x C Cholesky solves in double
 *     precision; no M x M matrix is formed. mu_l = mu' r^x for hidden
 *     layers (FB_DAMPING, PCMUP_PARAM_FB_DAMPING_EXP), mu_L = FB_DAMPING_TOP.
 *   TRAINED: G_l(v) = psi(V_l v) with the algorithm's feedback weights
 *     (below) and psi = FB_ACTIVATION. Before the targets, for
 *     l = L..2, K_fb times: N = H_{l-1} + Xi (Xi ~ N(0, sigma^2), from the
 *     algorithm's random stream; none drawn when sigma = 0), Z = phi(N
 *     W_l^T) (no phi for l = L), R = psi(Z V_l^T) - N, V_l -= (eta^V_l /
 *     B) (R * psi'(Z V_l^T))^T Z: one SGD step on the reconstruction loss
 *     (1/2B) sum_b ||G_l(z_b) - n_b||^2. eta^V_l = eta^V r^-x for hidden
 *     layers (FB_LR, PCMUP_PARAM_FB_LR_EXP), eta^V_L = eta^V.
 * With linear feedback (closed, or trained with identity psi), DTP's
 * targets are computed as t_{l-1} - h_{l-1} = G_l(t_l - h_l), equal in
 * exact arithmetic and free of the cancellation.
 *
 * r = M_l / M_base is the ratio of the width feedback layer l reads from
 * (see PCMUP_PARAM_FB_DAMPING_EXP). Under PCMUP_PRESET_MUP_TP: b = (0,
 * 1/2, 1/2), c = (0, 1, 1), mu_l = mu' M_l / M_base, eta^V_l = eta^V M_base
 * / M_l; the output layer keeps b_L = 1/2 (the paper's Theorem 5.1).
 *
 * A step fails with PCMUP_ERR_DIVERGED, weights and feedback unchanged,
 * when the loss is not finite or a ridge system is not positive definite
 * (which takes non-finite activations). The step's scratch (including the
 * double-precision solves) is allocated once per batch size, and the
 * feedback weights once per algorithm.
 * ====================================================================== */

typedef enum {
    PCMUP_TP_FEEDBACK_CLOSED = 0,  /* ridge regression Q*_l on the batch      */
    PCMUP_TP_FEEDBACK_TRAINED = 1  /* learned V_l, kept by the algorithm      */
} pcmup_tp_feedback;

/* Per layer l = 1..L (dst[l - 1]), the root mean square over the last
 * step's batch of ||t_l - h_l|| (||t_L - f|| = beta ||dloss/df|| for l =
 * L): how far each layer was asked to move. count must be L.
 * PCMUP_ERR_UNSUPPORTED for a rule that is not TP or DTP, or before its
 * first step. */
PCMUP_API pcmup_status pcmup_tp_target_distances(const pcmup_algo *tp, double *dst,
                                                 size_t count);

/* Per feedback layer l = 2..L ([l - 2]), the reconstruction loss of the
 * last step, on the step's batch without noise:
 *
 *   (1/2B) sum_b ||G_l(h_{l,b}) - h_{l-1,b}||^2      (h_L = f)
 *
 * before: with the feedback the step started from; after: with the
 * feedback its targets used. For trained feedback the difference is what
 * the K_fb feedback iterations achieved; for closed-form feedback both are
 * the loss of Q*_l. count must be L - 1; before or after may be NULL.
 * PCMUP_ERR_UNSUPPORTED for a rule that is not TP or DTP, or before its
 * first step. */
PCMUP_API pcmup_status pcmup_tp_feedback_loss(const pcmup_algo *tp, double *before,
                                              double *after, size_t count);

/* The trained feedback weights. A TP or DTP algorithm keeps a feedback
 * matrix V_l per layer l = 2..L: shape (M_{l-1}, M_l), row-major, mapping
 * layer l's output back to layer l-1. They are made when first needed:
 * the first trained-feedback step draws every layer not drawn or set yet
 * from N(0, sigma_V^2 / M_l) (sigma_V = PCMUP_SET_TP_FB_INIT_STD), each
 * layer from its own stream derived from the network's seed (the one
 * given to pcmup_net_create or the last pcmup_net_init_weights) and l, so
 * the same seed and sigma_V give bitwise the same V_l. Redrawing the
 * network's weights (pcmup_net_init_weights) forgets them: the next
 * trained-feedback step draws them again from the new seed. They are
 * part of what a failed epoch and a trial update put back. Their storage
 * comes from the algorithm's allocator; each algorithm has its own. */

/* Copies V_l (count = M_{l-1} * M_l floats), l in 2..L, out of the
 * algorithm. PCMUP_ERR_UNSUPPORTED for a rule that is not TP or DTP, or
 * until V_l has been drawn or set. */
PCMUP_API pcmup_status pcmup_tp_get_feedback(const pcmup_algo *tp, size_t layer, float *dst,
                                             size_t count);
/* Sets V_l from count = M_{l-1} * M_l finite floats, l in 2..L; the next
 * trained-feedback step uses it as it is. Allocates the feedback storage
 * the first time (PCMUP_ERR_NOMEM if that fails). PCMUP_ERR_UNSUPPORTED for
 * a rule that is not TP or DTP. */
PCMUP_API pcmup_status pcmup_tp_set_feedback(pcmup_algo *tp, size_t layer, const float *src,
                                             size_t count);

/* ======================================================================
 * 9. Width transfer: coordinate checks and update alignment
 *
 * The two measurements behind the paper's claims (docs/reproduction.md
 * uses them for the paper's Figures 2 and 4):
 *
 *   - the coordinate check: under muP every layer's features move by
 *     Theta(1) as training goes, at every width; under SP they grow with
 *     width or diverge;
 *   - update alignment: how close a local rule's weight update is to BP's
 *     gradient step and to the Gauss-Newton direction, per layer.
 * ====================================================================== */

/* The coordinate check. `prototype` describes the run: its network gives
 * the depth L >= 2, the input and output sizes, the activation, the bias
 * flag and the parameterization; the algorithm gives the rule and every
 * setting (per-layer ones included). For each hidden width widths[i], a
 * fresh network {M_0, M, ..., M, M_L} is drawn from `seed`, a fresh rule
 * (random stream seed + 1) gets the prototype's settings, and it trains
 * on the batch (x, labels) -- the same batch every step: x is (batch, M_0),
 * x_count = batch * M_0 floats, labels holds batch values (batch is its
 * count). The probe batch, (probe_batch, M_0) with probe_count =
 * probe_batch * M_0 floats (NULL: x itself; probe_count and probe_batch
 * are then ignored), is sent through the network at step 0 and after
 * steps[k] steps (steps[] strictly increasing; 0 allowed), giving for
 * every layer l = 1..L (l = L is the output f):
 *
 *   dh[(i * n_steps + k) * L + l - 1]    = mean |h_l(t) - h_l(0)|
 *   h_abs[(i * n_steps + k) * L + l - 1] = mean |h_l(t)|
 *
 * means over the probe batch and the layer's units, h_l post-activation.
 * count, the length of each output, must be n_widths * n_steps * L;
 * either output may be NULL. A step that diverges (PCMUP_ERR_DIVERGED)
 * is not an error here: that width's values from then on are +infinity,
 * as are means that overflowed. The prototype and its network are not
 * changed; the networks built use the prototype's allocator. Outputs are
 * written only when every width has run.
 * Threads: reads the prototype and its network, and allocates through the
 * prototype's allocator; the networks it trains are its own. */
PCMUP_API pcmup_status pcmup_coord_check(const pcmup_algo *prototype, const size_t *widths,
                                         size_t n_widths, const float *x, size_t x_count,
                                         const int32_t *labels, size_t batch,
                                         const float *probe, size_t probe_count,
                                         size_t probe_batch, const size_t *steps,
                                         size_t n_steps, uint64_t seed, double *dh,
                                         double *h_abs, size_t count);

/* The rule's weight update on one batch, without applying it: a real step
 * is taken with update recording and then undone (parameters, momentum,
 * the random stream and trained feedback weights are put back), so
 * updates[l - 1] (M_l x M_{l-1}, the change of the effective W_l, as
 * pcmup_algo_last_update reports it; NULL skips a layer) is exactly what
 * pcmup_algo_step would do. x, x_count and labels are as for
 * pcmup_algo_step; updates holds updates_count = L pointers. The rule's
 * diagnostics (last update, PC's energy trace, TP's distances, ...)
 * describe this trial step afterwards. A diverging step returns
 * PCMUP_ERR_DIVERGED.
 * Threads: the network's weights change during the call (they are put
 * back before it returns), so nothing else may use the network meanwhile;
 * the same holds for the three functions below. */
PCMUP_API pcmup_status pcmup_algo_trial_update(pcmup_algo *algo, const float *x,
                                               size_t x_count, const int32_t *labels,
                                               size_t batch, float *const *updates,
                                               size_t updates_count);

/* Reference directions for update alignment. */
typedef enum {
    PCMUP_REFERENCE_BP = 0,  /* BP's SGD step: -eta_l dL/dW_l              */
    PCMUP_REFERENCE_GN = 1   /* GNT's step with e_B = 1, the batch variant,
                                the output layer preconditioned (section 7) */
} pcmup_reference;

/* The update the reference rule would make on this batch from the same
 * weights, as a trial (nothing changes): a PCMUP_RULE_BP or
 * PCMUP_RULE_GNT rule on algo's network, with the network's per-layer
 * eta_l and every setting of algo that the reference rule accepts (the
 * learning rate, loss and MSE targets; for GN also the damping rho' when
 * algo is a GNT rule) except those that define the reference: no
 * momentum or weight decay, and for GN e_B = 1, the batch variant and the
 * output layer preconditioned. x, labels and updates as for
 * pcmup_algo_trial_update.
 * Threads: algo itself is only read, but its network is trained and put
 * back (the reference rule steps it), hence the non-const pointer. */
PCMUP_API pcmup_status pcmup_algo_reference_update(pcmup_algo *algo, pcmup_reference ref,
                                                   const float *x, size_t x_count,
                                                   const int32_t *labels, size_t batch,
                                                   float *const *updates,
                                                   size_t updates_count);

/* Per layer l = 1..L ([l - 1]), on one batch: the cosine similarity of the
 * rule's trial update dW_l with BP's (cos_bp) and GN's (cos_gn) reference
 * update, and the norm ratios |dW_l| / |dW_l^ref| (Frobenius). Any output
 * may be NULL (the GN step is skipped when both GN outputs are). A cosine
 * with a zero update is 0; a ratio over a zero reference is +infinity (1
 * when both are zero). count, the length of each output, must be L. x
 * and labels as for pcmup_algo_trial_update. Nothing is trained. */
PCMUP_API pcmup_status pcmup_algo_update_alignment(pcmup_algo *algo, const float *x,
                                                   size_t x_count, const int32_t *labels,
                                                   size_t batch, double *cos_bp,
                                                   double *cos_gn, double *ratio_bp,
                                                   double *ratio_gn, size_t count);

/* The same summary for updates the caller computed: updates[l - 1] (M_l x
 * M_{l-1} finite floats, every layer given, updates_count = L pointers)
 * against the references of this algorithm on this batch, for example
 * PC's update at the linear equilibrium from pcmup_pc_linear_equilibrium.
 * Nothing is trained. Threads: as pcmup_algo_reference_update. */
PCMUP_API pcmup_status pcmup_algo_compare_updates(pcmup_algo *algo, const float *x,
                                                  size_t x_count, const int32_t *labels,
                                                  size_t batch, const float *const *updates,
                                                  size_t updates_count, double *cos_bp,
                                                  double *cos_gn, double *ratio_bp,
                                                  double *ratio_gn, size_t count);

/* ======================================================================
 * 10. Checkpoints
 *
 * A checkpoint is a safetensors file (docs/checkpoints.md): an 8-byte
 * header length, a JSON header naming each tensor's dtype, shape and byte
 * range plus a "__metadata__" map of strings, then the raw little-endian
 * floats. PyTorch, JAX and Hugging Face read it as it is, and so do a few
 * lines of NumPy; the metadata says which library, network,
 * parameterization, rule and settings the tensors belong to.
 *
 * Tensors, in their natural shapes, layer l = 1..L:
 *   layer<l>.weight            (M_l, M_{l-1}), or (C_out, C_in, k, k)
 *   layer<l>.bias              (M_l) or (C_out), for a net with biases
 *   momentum.layer<l>.weight   the optimizer's velocity, same shapes, once
 *   momentum.layer<l>.bias     the algorithm has one (momentum or decay)
 *   rule.layer<l>.<name>       the rule's persistent state (TP and DTP's
 *                              trained feedback V_l: rule.layer<l>.feedback)
 *
 * Save a network alone to share or deploy it, and an algorithm to go on
 * training: an algorithm's checkpoint holds its network's weights, every
 * setting (per-layer values included), the momentum, the rule's state, the
 * random stream and the epoch and step counters, so that training k
 * epochs, saving, loading in another process and training N - k more gives
 * the same weights bit for bit as N epochs in one run (with the same BLAS
 * thread count).
 *
 * Saving writes a temporary file next to `path`, flushes it to disk and
 * renames it over `path`: a failure at any point (a full disk, a crash)
 * leaves the previous file at `path` as it was.
 *
 * Loading is two steps: pcmup_checkpoint_open reads the file and checks
 * its structure (the header against the file's size, every byte range,
 * the JSON, the format version and the CRC-32 of the data), allocating no
 * more than the file's size justifies; then the create and load functions
 * build or fill objects from it, checking that the network, the
 * parameterization and the rule are the ones the caller's objects have.
 * A damaged or inconsistent file is PCMUP_ERR_FORMAT; an object that does
 * not match the file is PCMUP_ERR_SHAPE (another network or
 * parameterization) or PCMUP_ERR_INVALID (another rule); a file that
 * cannot be read PCMUP_ERR_IO. Every failure comes with a message naming
 * the problem, and leaves the caller's objects unchanged. The file's
 * layout and every metadata key: docs/checkpoints.md.
 * ====================================================================== */

typedef struct pcmup_checkpoint pcmup_checkpoint;

/* The format version this library writes; it reads versions 1 to this. */
#define PCMUP_CHECKPOINT_FORMAT_VERSION 1

/* Saves the network (its description and parameterization, its weights
 * and biases). metadata: n_metadata pairs of strings of the caller's own,
 * metadata[2i] a key and metadata[2i + 1] its value, stored with the
 * library's; every key must start with "user." and appear once, and keys
 * and values must be UTF-8 (NULL, 0: none). */
PCMUP_API pcmup_status pcmup_net_save(const pcmup_net *net, const char *path,
                                      const char *const *metadata, size_t n_metadata);

/* Saves the algorithm and its network: everything above, for resuming. */
PCMUP_API pcmup_status pcmup_algo_save(const pcmup_algo *algo, const char *path,
                                       const char *const *metadata, size_t n_metadata);

/* Reads and checks the checkpoint at `path` (a network's or an
 * algorithm's). Memory from `allocator` (NULL: malloc), about the file's
 * size. */
PCMUP_API pcmup_status pcmup_checkpoint_open(pcmup_checkpoint **out, const char *path,
                                             const pcmup_allocator *allocator);
PCMUP_API void pcmup_checkpoint_free(pcmup_checkpoint *checkpoint);

/* The metadata value of `key` ("library_version", "rule", "user.batch",
 * ...; docs/checkpoints.md lists the library's keys), or NULL in *value
 * when the checkpoint has no such key. The string belongs to the
 * checkpoint. */
PCMUP_API pcmup_status pcmup_checkpoint_metadata(const pcmup_checkpoint *checkpoint,
                                                 const char *key, const char **value);
/* Every metadata entry: their number, and entry `index` (0-based, in the
 * file's order). */
PCMUP_API pcmup_status pcmup_checkpoint_metadata_count(const pcmup_checkpoint *checkpoint,
                                                       size_t *count);
PCMUP_API pcmup_status pcmup_checkpoint_metadata_at(const pcmup_checkpoint *checkpoint,
                                                    size_t index, const char **key,
                                                    const char **value);

/* The rule of an algorithm's checkpoint; PCMUP_ERR_UNSUPPORTED for a
 * network's, which has none. */
PCMUP_API pcmup_status pcmup_checkpoint_rule(const pcmup_checkpoint *checkpoint,
                                             pcmup_rule *rule);

/* A new network exactly as saved: layers, activation, biases, its own
 * copy of the parameterization (every value as saved), weights. */
PCMUP_API pcmup_status pcmup_net_create_from_checkpoint(pcmup_net **out,
                                                        const pcmup_checkpoint *checkpoint,
                                                        const pcmup_allocator *allocator);

/* Loads the saved weights into `net`, which must have the checkpoint's
 * layers, activation, biases and parameterization (each difference is
 * PCMUP_ERR_SHAPE, naming it). Reads a network's or an algorithm's
 * checkpoint. */
PCMUP_API pcmup_status pcmup_net_load_checkpoint(pcmup_net *net,
                                                 const pcmup_checkpoint *checkpoint);

/* Loads an algorithm's checkpoint into `algo`, of the checkpoint's rule,
 * whose network is as pcmup_net_load_checkpoint requires: the network's
 * weights, every setting, the momentum, the rule's state, the random
 * stream and the counters. What the last step recorded (its update and
 * alignment ratio, the rules' diagnostics) is forgotten. */
PCMUP_API pcmup_status pcmup_algo_load_checkpoint(pcmup_algo *algo,
                                                  const pcmup_checkpoint *checkpoint);

/* pcmup_algo_create of the checkpoint's rule on `net`, then
 * pcmup_algo_load_checkpoint (which loads the weights into net). On
 * failure nothing is created and net is unchanged. */
PCMUP_API pcmup_status pcmup_algo_create_from_checkpoint(pcmup_algo **out, pcmup_net *net,
                                                         const pcmup_checkpoint *checkpoint,
                                                         const pcmup_allocator *allocator);

/* Training epochs (pcmup_algo_train_epoch) and steps (one per batch,
 * pcmup_algo_step's and the epochs') completed since the algorithm was
 * created, or as loaded from a checkpoint. Failed and trial steps do not
 * count. Either pointer may be NULL. */
PCMUP_API pcmup_status pcmup_algo_counters(const pcmup_algo *algo, uint64_t *epochs,
                                           uint64_t *steps);

#ifdef __cplusplus
}
#endif

#endif /* PCMUP_H */
