/* SPDX-License-Identifier: MIT */
/*
 * tp.c -- target propagation (TP) and difference target propagation
 * (DTP): targets sent down by feedback maps, local losses, one forward
 * pass (the paper's section 5; Bengio 2014, Lee et al. 2015; docs/tp.md,
 * section 1; conventions pinned by tests/data/vectors/{tp,dtp}_*).
 *
 * Batch-major, H_l = acts[l - 1] (B, M_l), H_L = F, H_0 = X. The step keeps
 * the target differences E_l = t_l - H_l rather than the targets, so that
 * the updates see no cancellation:
 *
 *   E_L     = -beta dloss/dF
 *   R_l     = G_l(H_l) - H_{l-1}                     the reconstruction residual
 *   linear G (closed form, or trained with psi = identity):
 *     DTP   E_{l-1} = G_l(E_l)
 *     TP    E_{l-1} = G_l(H_l + E_l) - H_{l-1} = G_l(E_l) + R_l
 *   nonlinear G (trained, psi = tanh):
 *     TP    E_{l-1} = G_l(H_l + E_l) - H_{l-1}
 *     DTP   E_{l-1} = G_l(H_l + E_l) - G_l(H_l) = (G_l(H_l + E_l) - H_{l-1}) - R_l
 *   update  W_l += eta_l (1/B) [phi'(U_l) * E_l]^T H_{l-1}   (E_L without phi')
 *
 * through the shared descent step with error -phi'(U_l) * E_l. R_l also
 * gives the reconstruction loss the diagnostics report.
 *
 * Closed-form feedback, G_l(A) = A Q*_l^T, never forms an M x M matrix:
 *   hidden  G_l(A) = [A H_l^T (H_l H_l^T + mu_l I_B)^-1] H_{l-1}
 *           R_l    = -mu_l (H_l H_l^T + mu_l I_B)^-1 H_{l-1}
 *           (Gram - (Gram + mu I)) (Gram + mu I)^-1 = -mu (Gram + mu I)^-1,
 *           which again avoids a cancellation)
 *   top     G_L(A) = [A (F^T F + mu_L I_C)^-1] (F^T H_{L-1})
 * The B x B and C x C systems are formed and solved in double precision
 * (Gram and right-hand sides by dsyrk / dgemm on double copies, Cholesky
 * from linalg.c, the two triangular solves by dtrsm). A hidden layer
 * solves on the smaller side: with M_{l-1} <= B, S^-1 H_{l-1} directly
 * (M_{l-1} right-hand sides, the products after it in double too);
 * otherwise the B x B coefficients, which go back to float for the final
 * GEMMs with H_{l-1}. The top layer's B x C coefficients do the latter.
 * With damping near 0 the Gram matrix's condition number reaches
 * the inverse of float rounding, and the double solve keeps Q*_l exact on
 * the batch (tests/test_tp.c, mu -> 0).
 */
#include "algo.h"

#include "kernel/kernel.h"
#include "layers/activation.h"
#include "param.h"

#include <math.h>
#include <string.h>

/* ---- buffers ------------------------------------------------------------- */

/* Carved from the rule scratch (floats) for `batch` samples. */
typedef struct {
    float **diff;  /* diff[l - 1] = E_l (B, M_l), l = 1..L          */
    float *res;    /* (B, max width): R_l                            */
    float *a;      /* (B, max width): H_l + E_l, or a noisy input    */
    float *z;      /* (B, max width): Z, or G_l's output             */
    float *coef;   /* (B, max(B, C)): G_l's coefficients, float      */
    float *coef2;  /* (B, max(B, C)): R_l's coefficients, float      */
    float *p;      /* (C, max width): F^T H_{L-1}                    */
    float *hg;     /* under a reducer, closed form: every worker's
                      H_1 .. H_{L-1} gathered, (B_global, M_l) each  */
} tp_bufs;

/* The double-precision scratch of the ridge solves. */
typedef struct {
    double *hd;    /* (B, max width): H_l or F in double             */
    double *ad;    /* (B, max width): a right-hand side in double    */
    double *gram;  /* (n, n), n = max(B, C): the system, then G      */
    double *kd;    /* B n + B^2: right-hand sides, then solutions
                      (up to 2B rows of B)                           */
} tp_dwork;

/* TP's state (algo->state). The trained feedback weights V_l are its
 * persistent part: they change every step and a run continues from them.
 * The buffers are scratch, the distances and losses the last step's
 * diagnostics. */
typedef struct {
    float *scratch;          /* tp_bufs' floats, scratch_cap of them */
    size_t scratch_cap;
    float **bufs;            /* L pointers into scratch: the E_l */
    double *work;            /* tp_dwork's doubles, work_cap of them */
    size_t work_cap;
    int valid;               /* a step has run */
    double *distances;       /* L: rms ||t_l - h_l|| */
    double *fb_before;       /* L - 1: reconstruction loss, feedback layers 2..L */
    double *fb_after;        /* L - 1 */
    /* V_l (M_{l-1}, M_l), l = 2..L, at fb_offset[l - 1] of one block of
     * n_feedback floats, allocated when first needed. fb_ready[l - 1]: V_l
     * was drawn or set for the weights of the net's `generation`. */
    float *feedback;
    size_t n_feedback;
    size_t *fb_offset;
    unsigned char *fb_ready;
    uint64_t generation;
} tp_state;

static tp_state *tp_of(const pcmup_algo *algo)
{
    return algo->state;
}

static size_t sum_widths(const pcmup_net *net)
{
    size_t sum = 0;
    for (size_t l = 1; l <= net->n_layers; l++)
        sum += net->widths[l];
    return sum;
}

static size_t side(const pcmup_net *net, size_t batch)
{
    size_t c = net->widths[net->n_layers];
    return batch > c ? batch : c;
}

/* The floats of tp_bufs for `batch`; a and z are the shared delta
 * buffers, so they cost nothing here. */
static size_t tp_scratch_floats(const pcmup_net *net, size_t batch)
{
    const size_t wide = pcmup__net_max_width(net), c = net->widths[net->n_layers];
    return batch * sum_widths(net) + batch * wide + 2 * batch * side(net, batch) + c * wide;
}

/* The gathered activations' floats: the hidden layers' at the global
 * batch, under a reducer with closed-form feedback (0 otherwise). */
static size_t gathered_floats(const pcmup_algo *algo, size_t batch)
{
    if (!algo->has_reducer || algo->settings[PCMUP_SET_TP_FEEDBACK] != PCMUP_TP_FEEDBACK_CLOSED)
        return 0;
    const pcmup_net *net = algo->net;
    return batch * (sum_widths(net) - net->widths[net->n_layers]);
}

/* Carved for `batch`, the batch the buffers were reserved for (the global
 * one under a reducer: pcmup__par_reserve_batch). */
static tp_bufs carve(pcmup_algo *algo, size_t batch)
{
    const pcmup_net *net = algo->net;
    const size_t wide = pcmup__net_max_width(net);
    tp_bufs b;
    float *block = tp_of(algo)->scratch;
    b.diff = tp_of(algo)->bufs;
    for (size_t l = 1; l <= net->n_layers; l++) {
        b.diff[l - 1] = block;
        block += batch * net->widths[l];
    }
    b.res = block, block += batch * wide;
    b.coef = block, block += batch * side(net, batch);
    b.coef2 = block, block += batch * side(net, batch);
    b.p = block, block += net->widths[net->n_layers] * wide;
    b.hg = gathered_floats(algo, batch) ? block : NULL;
    b.a = algo->delta[0];
    b.z = algo->delta[1];
    return b;
}

static size_t dwork_doubles(const pcmup_net *net, size_t batch)
{
    const size_t wide = pcmup__net_max_width(net), n = side(net, batch);
    return 2 * batch * wide + n * n + batch * n + batch * batch;
}

static tp_dwork carve_doubles(pcmup_algo *algo, size_t batch)
{
    const pcmup_net *net = algo->net;
    const size_t wide = pcmup__net_max_width(net), n = side(net, batch);
    tp_dwork d;
    d.hd = tp_of(algo)->work;
    d.ad = d.hd + batch * wide;
    d.gram = d.ad + batch * wide;
    d.kd = d.gram + n * n;
    return d;
}

/* ---- the state ----------------------------------------------------------- */

static void tp_free(pcmup_algo *algo, void *state)
{
    tp_state *st = state;
    pcmup__free(&algo->alloc, st->scratch);
    pcmup__free(&algo->alloc, st->bufs);
    pcmup__free(&algo->alloc, st->work);
    pcmup__free(&algo->alloc, st->distances);
    pcmup__free(&algo->alloc, st->feedback);
    pcmup__free(&algo->alloc, st->fb_offset);
    pcmup__free(&algo->alloc, st->fb_ready);
    pcmup__free(&algo->alloc, st);
}

/* What does not depend on the batch or the settings: the per-layer
 * pointers, the diagnostics (3L - 2 doubles) and the feedback layout. The
 * feedback weights themselves come with the first need for them. */
static pcmup_status tp_create(pcmup_algo *algo, void **state, const char *func)
{
    const pcmup_net *net = algo->net;
    const size_t n_layers = net->n_layers;
    tp_state *st = pcmup__alloc_zero(&algo->alloc, 1, sizeof *st);
    if (st) {
        st->bufs = pcmup__alloc_zero(&algo->alloc, n_layers, sizeof(float *));
        st->distances = pcmup__alloc_zero(&algo->alloc, 3 * n_layers - 2, sizeof(double));
        st->fb_offset = pcmup__alloc_zero(&algo->alloc, n_layers, sizeof(size_t));
        st->fb_ready = pcmup__alloc_zero(&algo->alloc, n_layers, 1);
    }
    if (!st || !st->bufs || !st->distances || !st->fb_offset || !st->fb_ready) {
        if (st)
            tp_free(algo, st);
        return pcmup__fail(PCMUP_ERR_NOMEM, func, "cannot allocate target propagation's state");
    }
    st->fb_before = st->distances + n_layers;
    st->fb_after = st->fb_before + (n_layers - 1);
    /* V_l has as many entries as W_l (without bias), so the total fits. */
    for (size_t l = 2; l <= n_layers; l++) {
        st->fb_offset[l - 1] = st->n_feedback;
        st->n_feedback += net->widths[l - 1] * net->widths[l];
    }
    st->generation = net->generation;
    *state = st;
    return PCMUP_OK;
}

/* Redrawn weights (pcmup_net_init_weights) make every V_l stale: the
 * next trained step draws them again, from the new seed. */
static void forget_stale_feedback(tp_state *st, const pcmup_net *net)
{
    if (st->generation == net->generation)
        return;
    memset(st->fb_ready, 0, net->n_layers);
    st->generation = net->generation;
}

static int feedback_ready(const tp_state *st, const pcmup_net *net, size_t l)
{
    return st->generation == net->generation && st->fb_ready[l - 1];
}

/* V_l, 2 <= l <= L; the block must exist. */
static float *feedback_of(const tp_state *st, size_t l)
{
    assert(st->feedback);
    return st->feedback + st->fb_offset[l - 1];
}

static pcmup_status reserve_feedback(pcmup_algo *algo, const char *func)
{
    tp_state *st = tp_of(algo);
    size_t cap = st->feedback ? st->n_feedback : 0;
    return pcmup__grow(&algo->alloc, (void **)&st->feedback, &cap, st->n_feedback,
                       sizeof(float), "the feedback weights", func);
}

/* The stream of V_l: the net's seed mixed with a tag and the layer (the
 * seeding's splitmix64 spreads the small difference over every bit), so
 * no layer shares the weights' stream or another layer's. */
#define FEEDBACK_STREAM_TAG 0x6665656462616b00ULL /* "feedbak\0" */

/* Draws every V_l that is not ready from N(0, std_v^2 / M_l). */
static void draw_feedback(tp_state *st, const pcmup_net *net, double std_v)
{
    for (size_t l = 2; l <= net->n_layers; l++) {
        if (st->fb_ready[l - 1])
            continue;
        pcmup_rng rng;
        pcmup__rng_seed(&rng, net->seed ^ FEEDBACK_STREAM_TAG ^ (uint64_t)l);
        const double std = std_v / sqrt((double)net->widths[l]);
        float *v = feedback_of(st, l);
        const size_t n = net->widths[l - 1] * net->widths[l];
        for (size_t i = 0; i < n; i++)
            v[i] = (float)(std * pcmup__rng_normal(&rng));
        st->fb_ready[l - 1] = 1;
    }
}

/* The buffers the batch and the settings decide: the float scratch and
 * the solves' doubles for `batch`, and for trained feedback the feedback
 * weights. */
static pcmup_status tp_reserve(pcmup_algo *algo, size_t batch, const char *func)
{
    tp_state *st = tp_of(algo);
    const int closed = algo->settings[PCMUP_SET_TP_FEEDBACK] == PCMUP_TP_FEEDBACK_CLOSED;
    if (closed)
        PCMUP_TRY(pcmup__par_need_gather(algo, "hidden activations (closed-form feedback)",
                                         func));
    forget_stale_feedback(st, algo->net);
    batch = pcmup__par_reserve_batch(algo, batch);
    PCMUP_TRY(pcmup__grow(&algo->alloc, (void **)&st->scratch, &st->scratch_cap,
                          tp_scratch_floats(algo->net, batch) + gathered_floats(algo, batch),
                          sizeof(float), "target propagation's buffers", func));
    PCMUP_TRY(pcmup__grow(&algo->alloc, (void **)&st->work, &st->work_cap,
                          dwork_doubles(algo->net, batch), sizeof(double),
                          "the solves' scratch", func));
    if (!closed)
        PCMUP_TRY(reserve_feedback(algo, func));
    return PCMUP_OK;
}

/* ---- the run ------------------------------------------------------------- */

typedef struct {
    pcmup_algo *algo;
    tp_state *st;
    const pcmup_net *net;
    tp_bufs b;
    tp_dwork d;
    const float *x;
    size_t batch, n_layers;
    /* The global batch and this worker's first sample in it (batch and 0
     * without a reducer). */
    size_t global, offset;
    int dtp;        /* difference correction */
    int trained;    /* trained feedback (else closed form) */
    int psi_tanh;   /* trained feedback's psi */
} tp_run;

static size_t width(const tp_run *r, size_t l) { return r->net->widths[l]; }

/* H_l: X for l = 0, the forward pass's output otherwise (H_L = F). */
static const float *h_of(const tp_run *r, size_t l)
{
    return l == 0 ? r->x : r->algo->acts[l - 1];
}

static float *diff(const tp_run *r, size_t l) { return r->b.diff[l - 1]; }

/* H_l of the whole batch, 1 <= l < L: gathered under a reducer
 * (gather_hidden), H_l itself otherwise. */
static const float *hg_of(const tp_run *r, size_t l)
{
    if (!r->b.hg)
        return h_of(r, l);
    const float *h = r->b.hg;
    for (size_t k = 1; k < l; k++)
        h += r->global * width(r, k);
    return h;
}

/* Closed-form feedback under a reducer: the hidden layers' ridge systems
 * are B x B over the whole batch (solved on the sample side, as a single
 * process solves them), so every worker gathers H_1 .. H_{L-1} and solves
 * the same systems; its own rows of the solutions give its targets. The
 * top layer's C x C system and F^T H_{L-1} are batch sums: reduced
 * instead (factor_top, closed_top). */
static void gather_hidden(tp_run *r)
{
    for (size_t l = 1; r->b.hg && l < r->n_layers; l++)
        pcmup__par_gather_f(r->algo, h_of(r, l), r->batch * width(r, l), (float *)hg_of(r, l),
                            r->global * width(r, l));
}

/* mu_l and eta^V_l: the base setting times the parameterization's factor
 * (mu_L, FB_DAMPING_TOP, and eta^V_L get a factor of 1). */
static double damping(const tp_run *r, size_t l)
{
    pcmup_setting base = l == r->n_layers ? PCMUP_SET_TP_FB_DAMPING_TOP
                                          : PCMUP_SET_TP_FB_DAMPING;
    return r->algo->settings[base]
           * pcmup__param_factor(r->net->param, r->net->scale_widths, l, PCMUP_FACTOR_TP_FB_DAMPING);
}

static double fb_rate(const tp_run *r, size_t l)
{
    return r->algo->settings[PCMUP_SET_TP_FB_LR]
           * pcmup__param_factor(r->net->param, r->net->scale_widths, l, PCMUP_FACTOR_TP_FB_LR);
}

static pcmup__gemm_log *gemm_log(const tp_run *r) { return r->algo->gemm_log; }

/* (1/2) ||R||^2 over this worker's samples: the reconstruction loss
 * times B, divided by the global B once the step's diagnostics are
 * summed over the workers (finish_diagnostics). */
static double recon_half_sum(const tp_run *r, const float *res, size_t l)
{
    return 0.5 * pcmup__k_sum_sq(res, r->batch * width(r, l - 1));
}

/* ---- closed-form feedback ------------------------------------------------ */

/* Factorises the damped Gram matrix of a hidden layer, B x B (0 on
 * success). */
static size_t factor_hidden(tp_run *r, size_t l, double mu)
{
    const size_t n = r->global, m = width(r, l);
    pcmup__k_f32_to_f64(r->d.hd, hg_of(r, l), n * m);
    pcmup__k_dsyrk_lower(gemm_log(r), 'N', n, m, 1.0, r->d.hd, r->d.gram);
    pcmup__k_add_diagonal(r->d.gram, n, mu);
    return pcmup__k_chol_log(gemm_log(r), r->d.gram, n);
}

/* The two hidden-layer products below need S^-1 = (Gram + mu I)^-1
 * applied once per row of H_{l-1}'s side or once per sample: whichever is
 * the smaller solve. */

/* m_below <= B: Z = S^-1 H_{l-1} (B x m_below, one solve from the left
 * with m_below columns), then R_l = -mu Z and G_l(E_l) = K Z with
 * K = E_l H_l^T, all in double. 2 B^2 m_below for the solve where the
 * explicit coefficients below take 4 B^3. Under a reducer B is the global
 * batch, K has this worker's rows, and R_l takes its rows of Z. */
static void closed_hidden_narrow(tp_run *r, size_t l, double mu)
{
    const size_t n = r->global, m_below = width(r, l - 1), nm = n * m_below;
    const size_t mine = r->batch * m_below;
    double *z = r->d.ad, *g = r->d.hd;
    pcmup__k_f32_to_f64(z, hg_of(r, l - 1), nm);
    pcmup__k_spd_solve(gemm_log(r), 'L', r->d.gram, n, z, m_below);
    pcmup__k_dgemm(gemm_log(r), 'N', 'N', r->batch, m_below, n, 1.0, r->d.kd, z, 0.0, g);
    pcmup__k_f64_to_f32(diff(r, l - 1), g, mine);
    const double *z_mine = z + r->offset * m_below;
    for (size_t i = 0; i < mine; i++)
        r->b.res[i] = (float)(-mu * z_mine[i]);
}

/* m_below > B: the B x B coefficients of G_l(E_l), K S^-1, and of R_l,
 * -mu S^-1, in one solve of their 2B stacked rows; then the two float
 * products with H_{l-1}. Under a reducer each has this worker's rows only
 * (b of the global B: its rows of -mu I). */
static void closed_hidden_wide(tp_run *r, size_t l, double mu)
{
    const size_t n = r->global, b = r->batch, m_below = width(r, l - 1);
    double *coef = r->d.kd, *sres = coef + b * n;
    memset(sres, 0, b * n * sizeof *sres);
    for (size_t i = 0; i < b; i++)
        sres[i * n + r->offset + i] = -mu;
    pcmup__k_spd_solve(gemm_log(r), 'R', r->d.gram, n, coef, 2 * b);
    pcmup__k_f64_to_f32(r->b.coef, coef, b * n);
    pcmup__k_f64_to_f32(r->b.coef2, sres, b * n);
    const float *h_below = hg_of(r, l - 1);
    pcmup__k_sgemm(gemm_log(r), 'N', 'N', b, m_below, n, 1.0f, r->b.coef2, h_below, 0.0f,
                   r->b.res);
    pcmup__k_sgemm(gemm_log(r), 'N', 'N', b, m_below, n, 1.0f, r->b.coef, h_below, 0.0f,
                   diff(r, l - 1));
}

/* Hidden layer 2 <= l < L: R_l and E_{l-1} from E_l, with the Gram matrix
 * factorised (factor_hidden). */
static void closed_hidden(tp_run *r, size_t l, double mu)
{
    const size_t n = r->global, m = width(r, l);
    /* K = E_l H_l^T (B x B; this worker's rows under a reducer) */
    pcmup__k_f32_to_f64(r->d.ad, diff(r, l), r->batch * m);
    pcmup__k_dgemm(gemm_log(r), 'N', 'T', r->batch, n, m, 1.0, r->d.ad, r->d.hd, 0.0, r->d.kd);
    if (width(r, l - 1) <= n)
        closed_hidden_narrow(r, l, mu);
    else
        closed_hidden_wide(r, l, mu);
}

/* The top layer: (F^T F + mu_L I_C), C x C (0 on success). */
static size_t factor_top(tp_run *r, double mu)
{
    const size_t n = r->batch, c = width(r, r->n_layers);
    pcmup__k_f32_to_f64(r->d.hd, h_of(r, r->n_layers), n * c);
    pcmup__k_dsyrk_lower(gemm_log(r), 'T', c, n, 1.0, r->d.hd, r->d.gram);
    if (r->algo->has_reducer) {
        /* F^T F is a batch sum; the upper triangle is not set, zero it so
         * that the sum reads only numbers. */
        for (size_t i = 0; i < c; i++)
            for (size_t j = i + 1; j < c; j++)
                r->d.gram[i * c + j] = 0.0;
        pcmup__par_sum_d(r->algo, r->d.gram, c * c);
    }
    pcmup__k_add_diagonal(r->d.gram, c, mu);
    return pcmup__k_chol_log(gemm_log(r), r->d.gram, c);
}

/* R_L = F (F^T F + mu I)^-1 P - H_{L-1} and E_{L-1} = E_L (..)^-1 P, with
 * P = F^T H_{L-1} (C, M_{L-1}). */
static void closed_top(tp_run *r)
{
    const size_t n = r->batch, top = r->n_layers, c = width(r, top), m = width(r, top - 1);
    const float *f = h_of(r, top), *h_below = h_of(r, top - 1);
    pcmup__k_sgemm(gemm_log(r), 'T', 'N', c, m, n, 1.0f, f, h_below, 0.0f, r->b.p);
    pcmup__par_sum_f(r->algo, r->b.p, c * m); /* a batch sum */
    /* F (..)^-1: hd still holds F in double */
    pcmup__k_spd_solve(gemm_log(r), 'R', r->d.gram, c, r->d.hd, n);
    pcmup__k_f32_to_f64(r->d.ad, diff(r, top), n * c);
    pcmup__k_spd_solve(gemm_log(r), 'R', r->d.gram, c, r->d.ad, n);
    pcmup__k_f64_to_f32(r->b.coef2, r->d.hd, n * c);
    pcmup__k_f64_to_f32(r->b.coef, r->d.ad, n * c);
    const size_t nm = n * m;
    for (size_t i = 0; i < nm; i++)
        r->b.res[i] = -h_below[i];
    pcmup__k_sgemm(gemm_log(r), 'N', 'N', n, m, c, 1.0f, r->b.coef2, r->b.p, 1.0f, r->b.res);
    pcmup__k_sgemm(gemm_log(r), 'N', 'N', n, m, c, 1.0f, r->b.coef, r->b.p, 0.0f,
                   diff(r, top - 1));
}

/* ---- trained feedback ---------------------------------------------------- */

/* out = psi(in V_l^T) (B, M_{l-1}). */
static void feedback_map(const tp_run *r, size_t l, const float *in, float *out)
{
    const float *v = feedback_of(r->st, l);
    pcmup__k_sgemm(gemm_log(r), 'N', 'T', r->batch, width(r, l - 1), width(r, l), 1.0f, in, v,
                   0.0f, out);
    if (r->psi_tanh)
        pcmup__act_forward(PCMUP_ACT_TANH, out, out, r->batch * width(r, l - 1));
}

/* res = G_l(H_l) - H_{l-1}. */
static void trained_residual(tp_run *r, size_t l)
{
    const size_t n = r->batch * width(r, l - 1);
    const float *h_below = h_of(r, l - 1);
    feedback_map(r, l, h_of(r, l), r->b.res);
    for (size_t i = 0; i < n; i++)
        r->b.res[i] -= h_below[i];
}

/* out[i] = in[i] + sigma xi_i with xi_i ~ N(0, 1) from the algorithm's
 * stream: B x M values per layer and feedback step, so the ziggurat
 * (pcmup__rng_normal_fast), which costs about a tenth of a Box-Muller
 * pair's log and sine/cosine per value.
 * The stream numbers `total` values (the global batch's); in and out hold
 * values first .. first + n - 1 (this worker's samples), which take the
 * numbers the single process gives them: the values before and after
 * them are drawn and dropped (the ziggurat takes a varying number of
 * draws per value), so the stream ends where the single process's does. */
static void add_noise(pcmup_rng *rng, double sigma, const float *in, float *out, size_t first,
                      size_t n, size_t total)
{
    pcmup__rng_skip_normals_fast(rng, first);
    for (size_t i = 0; i < n; i++)
        out[i] = in[i] + (float)(sigma * pcmup__rng_normal_fast(rng));
    pcmup__rng_skip_normals_fast(rng, total - first - n);
}

/* V_l -= rate Y^T Z: one GEMM into V_l, or under a reducer the local
 * product summed over the workers first (into the algorithm's reduction
 * buffer, which V_l fits: it has W_l's weight count). */
static void feedback_descend(tp_run *r, size_t l, float rate, const float *y, float *v)
{
    const size_t m_below = width(r, l - 1), m = width(r, l);
    if (!r->algo->has_reducer) {
        pcmup__k_sgemm(gemm_log(r), 'T', 'N', m_below, m, r->batch, -rate, y, r->b.z, 1.0f, v);
        return;
    }
    float *g = r->algo->reduce_buf;
    pcmup__k_sgemm(gemm_log(r), 'T', 'N', m_below, m, r->batch, 1.0f, y, r->b.z, 0.0f, g);
    pcmup__par_sum_f(r->algo, g, m_below * m);
    pcmup__k_saxpy(m_below * m, -rate, g, v);
}

/* K_fb SGD steps on V_l: N = H_{l-1} + Xi, Z = phi(N W_l^T) (no phi at the
 * top), Y = psi(Z V^T), R = Y - N, V -= (eta / B) (R * psi'(Y))^T Z.
 * Returns the loss before training (noise-free), as recon_half_sum. */
static double train_feedback(tp_run *r, size_t l)
{
    pcmup_algo *algo = r->algo;
    const pcmup_layer *ly = &r->net->layers[l - 1];
    const size_t n_below = r->batch * width(r, l - 1), n_here = r->batch * width(r, l);
    const double sigma = algo->settings[PCMUP_SET_TP_FB_NOISE];
    const size_t steps = (size_t)algo->settings[PCMUP_SET_TP_FB_STEPS];
    const float rate = (float)(fb_rate(r, l) / (double)algo->global_batch);
    const float *h_below = h_of(r, l - 1);
    float *v = feedback_of(r->st, l);
    double before = 0.0;
    if (sigma > 0.0) {
        trained_residual(r, l);
        before = recon_half_sum(r, r->b.res, l);
    }
    for (size_t k = 0; k < steps; k++) {
        const float *noisy = h_below;
        if (sigma > 0.0) {
            const size_t m_below = width(r, l - 1);
            add_noise(&algo->rng, sigma, h_below, r->b.a, algo->batch_offset * m_below,
                      n_below, algo->global_batch * m_below);
            noisy = r->b.a;
        }
        ly->ops->forward(ly, noisy, r->batch, r->b.z);
        if (l < r->n_layers)
            pcmup__act_forward(r->net->activation, r->b.z, r->b.z, n_here);
        float *y = r->b.res;
        feedback_map(r, l, r->b.z, y);
        for (size_t i = 0; i < n_below; i++) {
            float resid = y[i] - noisy[i];
            /* psi'(.) from psi's output: tanh' = 1 - y^2 */
            y[i] = r->psi_tanh ? resid * (1.0f - y[i] * y[i]) : resid;
            /* Without noise the first iteration sees H_l: its residual is
             * the loss before training. */
            if (sigma == 0.0 && k == 0)
                before += 0.5 * (double)resid * (double)resid;
        }
        feedback_descend(r, l, rate, y, v);
    }
    return before;
}

/* E_{l-1} from E_l with the trained V_l (R_l computed first). */
static void trained_targets(tp_run *r, size_t l)
{
    const size_t n_below = r->batch * width(r, l - 1), n_here = r->batch * width(r, l);
    float *e_below = diff(r, l - 1);
    const float *e = diff(r, l), *h = h_of(r, l), *h_below = h_of(r, l - 1);
    if (!r->psi_tanh) {
        /* G_l(E_l), plus R_l for TP */
        const float *v = feedback_of(r->st, l);
        pcmup__k_sgemm(gemm_log(r), 'N', 'T', r->batch, width(r, l - 1), width(r, l), 1.0f, e,
                       v, 0.0f, e_below);
        if (!r->dtp)
            pcmup__k_saxpy(n_below, 1.0f, r->b.res, e_below);
        return;
    }
    for (size_t i = 0; i < n_here; i++)
        r->b.a[i] = h[i] + e[i];
    feedback_map(r, l, r->b.a, e_below);
    for (size_t i = 0; i < n_below; i++)
        e_below[i] -= h_below[i];
    if (r->dtp)
        pcmup__k_saxpy(n_below, -1.0f, r->b.res, e_below);
}

/* ---- the step ------------------------------------------------------------ */

/* For l = L..2: train V_l (trained feedback), then R_l and E_{l-1}. Fails
 * only when a ridge system is not positive definite; nothing has been
 * applied then. */
static pcmup_status propagate(tp_run *r, const char *func)
{
    tp_state *rec = r->st;
    for (size_t l = r->n_layers; l >= 2; l--) {
        double *before = &rec->fb_before[l - 2], *after = &rec->fb_after[l - 2];
        if (r->trained) {
            *before = train_feedback(r, l);
            trained_residual(r, l);
            *after = recon_half_sum(r, r->b.res, l);
            trained_targets(r, l);
            continue;
        }
        double mu = damping(r, l);
        size_t bad = l == r->n_layers ? factor_top(r, mu) : factor_hidden(r, l, mu);
        if (bad)
            return pcmup__fail(PCMUP_ERR_DIVERGED, func,
                               "feedback layer %zu: the ridge system (damping %g) is not "
                               "positive definite at pivot %zu; weights left unchanged",
                               l, mu, bad - 1);
        if (l == r->n_layers)
            closed_top(r);
        else
            closed_hidden(r, l, mu);
        *before = *after = recon_half_sum(r, r->b.res, l);
        if (!r->dtp)
            pcmup__k_saxpy(r->batch * width(r, l - 1), 1.0f, r->b.res, diff(r, l - 1));
    }
    return PCMUP_OK;
}

/* The step's diagnostics from the sums propagate and update_weights left
 * in them (this worker's), over the global batch: one reduction. */
static void finish_diagnostics(tp_run *r)
{
    const size_t n_layers = r->n_layers, n = 3 * n_layers - 2;
    const double b = (double)r->algo->global_batch;
    double *d = r->st->distances; /* distances, fb_before, fb_after: one block */
    pcmup__par_sum_d(r->algo, d, n);
    for (size_t i = 0; i < n; i++)
        d[i] = i < n_layers ? sqrt(d[i] / b) : d[i] / b;
}

/* Records ||E_l|| and applies W_l += eta_l (1/B) [phi'(U_l) * E_l]^T H_{l-1}
 * through the descent step (error -phi' * E_l). */
static void update_weights(tp_run *r)
{
    pcmup_algo *algo = r->algo;
    for (size_t l = 1; l <= r->n_layers; l++) {
        const size_t n = r->batch * width(r, l);
        float *e = diff(r, l);
        r->st->distances[l - 1] = pcmup__k_sum_sq(e, n);
        if (l < r->n_layers)
            pcmup__act_backward_from_post(r->net->activation, h_of(r, l), e, n);
        pcmup__k_sscal(n, -1.0f, e);
        pcmup__algo_descend(algo, l, e, h_of(r, l - 1), r->batch);
    }
}

static pcmup_status tp_step(pcmup_algo *algo, const float *x, const int32_t *labels,
                            size_t batch, double *loss_out, const char *func)
{
    pcmup_net *net = algo->net;
    tp_state *st = tp_of(algo);
    const size_t layout = pcmup__par_reserve_batch(algo, batch);
    tp_run r = {algo,
                st,
                net,
                carve(algo, layout),
                carve_doubles(algo, layout),
                x,
                batch,
                net->n_layers,
                algo->global_batch,
                algo->batch_offset,
                algo->rule->id == PCMUP_RULE_DTP,
                algo->settings[PCMUP_SET_TP_FEEDBACK] == PCMUP_TP_FEEDBACK_TRAINED,
                algo->settings[PCMUP_SET_TP_FB_ACTIVATION] == PCMUP_ACT_TANH};
    pcmup__net_forward_all(net, x, batch, algo->acts, algo->phis);
    float *e_top = diff(&r, r.n_layers);
    double loss = pcmup__algo_loss_grad(algo, labels, batch, e_top);
    if (!isfinite(loss))
        return pcmup__fail(PCMUP_ERR_DIVERGED, func,
                           "the loss is %g before the step; weights left unchanged", loss);
    pcmup__k_sscal(batch * width(&r, r.n_layers), (float)-algo->settings[PCMUP_SET_TP_BETA],
                   e_top);
    if (r.trained)
        draw_feedback(st, net, algo->settings[PCMUP_SET_TP_FB_INIT_STD]);
    else
        gather_hidden(&r);
    PCMUP_TRY(propagate(&r, func));
    update_weights(&r);
    finish_diagnostics(&r);
    st->valid = 1;
    if (loss_out)
        *loss_out = loss;
    return PCMUP_OK;
}

/* ---- the persistent state: every ready V_l ------------------------------- */

static const char feedback_name[] = "feedback";

static size_t tp_list(const pcmup_algo *algo, pcmup_rule_entry *dst, size_t capacity)
{
    const tp_state *st = tp_of(algo);
    const pcmup_net *net = algo->net;
    size_t n = 0;
    for (size_t l = 2; l <= net->n_layers; l++) {
        if (!feedback_ready(st, net, l))
            continue;
        if (n < capacity)
            dst[n] = (pcmup_rule_entry){feedback_name, l, 2, {net->widths[l - 1], net->widths[l]},
                                        feedback_of(st, l), 0.0};
        n++;
    }
    return n;
}

/* Every V_l, once their block exists: the most a step can make ready. */
static void tp_bound(const pcmup_algo *algo, size_t *n_entries, size_t *n_floats)
{
    const tp_state *st = tp_of(algo);
    *n_entries = st->feedback ? algo->net->n_layers - 1 : 0;
    *n_floats = st->feedback ? st->n_feedback : 0;
}

static pcmup_status check_feedback_entry(const pcmup_algo *algo, const pcmup_rule_entry *e,
                                         const char *func)
{
    const pcmup_net *net = algo->net;
    if (strcmp(e->name, feedback_name) != 0)
        return pcmup__fail(PCMUP_ERR_INVALID, func, "%s has no entry \"%s\"", algo->rule->name,
                           e->name);
    const size_t l = e->layer;
    if (l < 2 || l > net->n_layers || e->rank != 2 || e->shape[0] != net->widths[l - 1] ||
        e->shape[1] != net->widths[l])
        return pcmup__fail(PCMUP_ERR_SHAPE, func, "feedback entry of layer %zu has the wrong shape",
                           l);
    if (!e->data)
        return pcmup__fail(PCMUP_ERR_NULL, func, "feedback entry of layer %zu has no data", l);
    return pcmup__check_finite(e->data, pcmup__entry_floats(e), l, func);
}

static pcmup_status tp_load(pcmup_algo *algo, const pcmup_rule_entry *src, size_t count,
                            const char *func)
{
    tp_state *st = tp_of(algo);
    const pcmup_net *net = algo->net;
    for (size_t i = 0; i < count; i++)
        PCMUP_TRY(check_feedback_entry(algo, &src[i], func));
    if (count)
        PCMUP_TRY(reserve_feedback(algo, func));
    st->generation = net->generation;
    memset(st->fb_ready, 0, net->n_layers);
    for (size_t i = 0; i < count; i++) {
        memcpy(feedback_of(st, src[i].layer), src[i].data,
               pcmup__entry_floats(&src[i]) * sizeof(float));
        st->fb_ready[src[i].layer - 1] = 1;
    }
    return PCMUP_OK;
}

/* ---- settings ------------------------------------------------------------ */

static const char *const feedback_names[] = {
    [PCMUP_TP_FEEDBACK_CLOSED] = "closed", [PCMUP_TP_FEEDBACK_TRAINED] = "trained",
};
/* Trained feedback has no relu: psi must be invertible for its targets
 * (docs/tp.md). */
static const char *const fb_activation_names[] = {
    [PCMUP_ACT_TANH] = "tanh", [PCMUP_ACT_IDENTITY] = "identity",
};

_Static_assert(PCMUP_GROUP_TP + 100 <= PCMUP_SETTINGS_CAP, "algo->settings has no room for TP's");

/* The settings of TP and DTP (pcmup.h, section 8), in increasing key
 * order: both rules point at these rows. */
static const pcmup_setting_row tp_settings[] = {
    {PCMUP_SET_TP_BETA, "tp_beta", "output target step beta: t_L = f - beta dloss/df",
     PCMUP_GROUP_TP, 1.0, 0.0, 1e6, PCMUP_LO_OPEN, 0, {NULL, 0}},
    {PCMUP_SET_TP_FEEDBACK, "tp_feedback",
     "feedback: ridge regression on each batch, or trained feedback weights",
     PCMUP_GROUP_TP, PCMUP_TP_FEEDBACK_CLOSED, 0, 0, 0, 0, PCMUP_VALUES(feedback_names)},
    {PCMUP_SET_TP_FB_DAMPING, "tp_fb_damping",
     "hidden feedback ridge damping mu' at the base width", PCMUP_GROUP_TP, 1.0, 0.0, 1e6,
     PCMUP_LO_OPEN, 0, {NULL, 0}},
    {PCMUP_SET_TP_FB_DAMPING_TOP, "tp_fb_damping_top", "top feedback ridge damping mu_L",
     PCMUP_GROUP_TP, 1.0, 0.0, 1e6, PCMUP_LO_OPEN, 0, {NULL, 0}},
    {PCMUP_SET_TP_FB_LR, "tp_fb_lr", "trained feedback learning rate eta^V at the base width",
     PCMUP_GROUP_TP, 0.05, 0.0, 1e6, 0, 0, {NULL, 0}},
    {PCMUP_SET_TP_FB_STEPS, "tp_fb_steps", "trained feedback SGD steps K_fb per step",
     PCMUP_GROUP_TP, 1.0, 1.0, 1e4, 0, PCMUP_WHOLE, {NULL, 0}},
    {PCMUP_SET_TP_FB_NOISE, "tp_fb_noise", "std sigma of the noise when training feedback",
     PCMUP_GROUP_TP, 0.1, 0.0, 1e3, 0, 0, {NULL, 0}},
    {PCMUP_SET_TP_FB_ACTIVATION, "tp_fb_activation", "trained feedback nonlinearity psi",
     PCMUP_GROUP_TP, PCMUP_ACT_IDENTITY, 0, 0, 0, 0, PCMUP_VALUES(fb_activation_names)},
    {PCMUP_SET_TP_FB_INIT_STD, "tp_fb_init_std",
     "trained feedback weights start as N(0, sigma_V^2 / M_l): sigma_V", PCMUP_GROUP_TP, 1.0,
     0.0, 1e6, 0, 0, {NULL, 0}},
};

/* TP and DTP share everything but the target formula (tp_step reads which
 * of the two it is). */
#define TP_OPS(rule_id, rule_name)                                                 \
    {                                                                              \
        .id = rule_id, .name = rule_name, .dense_only = 1, .data_parallel = 1,    \
        .create_state = tp_create,                                                 \
        .free_state = tp_free, .reserve = tp_reserve, .step = tp_step,             \
        .list_persistent = tp_list, .load_persistent = tp_load, .persistent_bound = tp_bound,                    \
        .settings = tp_settings,                                                   \
        .n_settings = sizeof tp_settings / sizeof tp_settings[0],                  \
    }

const pcmup_rule_ops pcmup__rule_tp = TP_OPS(PCMUP_RULE_TP, "tp");
const pcmup_rule_ops pcmup__rule_dtp = TP_OPS(PCMUP_RULE_DTP, "dtp");

/* ---- diagnostics --------------------------------------------------------- */

static pcmup_status check_rule(const pcmup_algo *algo, const char *func)
{
    if (algo->rule->id != PCMUP_RULE_TP && algo->rule->id != PCMUP_RULE_DTP)
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, func, "%s is not target propagation",
                           algo->rule->name);
    return PCMUP_OK;
}

static pcmup_status check_tp(const pcmup_algo *algo, const char *func)
{
    PCMUP_TRY(check_rule(algo, func));
    if (!tp_of(algo)->valid)
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, func, "no step has run yet");
    return PCMUP_OK;
}

pcmup_status pcmup_tp_target_distances(const pcmup_algo *tp, double *dst, size_t count)
{
    PCMUP_CHECK_NULL(tp);
    PCMUP_CHECK_NULL(dst);
    if (count != tp->net->n_layers)
        return pcmup__fail(PCMUP_ERR_SHAPE, __func__, "count %zu does not match %zu layers",
                           count, tp->net->n_layers);
    PCMUP_TRY(check_tp(tp, __func__));
    memcpy(dst, tp_of(tp)->distances, count * sizeof *dst);
    return PCMUP_OK;
}

pcmup_status pcmup_tp_feedback_loss(const pcmup_algo *tp, double *before, double *after,
                                    size_t count)
{
    PCMUP_CHECK_NULL(tp);
    if (count != tp->net->n_layers - 1)
        return pcmup__fail(PCMUP_ERR_SHAPE, __func__,
                           "count %zu does not match the %zu feedback layers", count,
                           tp->net->n_layers - 1);
    PCMUP_TRY(check_tp(tp, __func__));
    if (before && count)
        memcpy(before, tp_of(tp)->fb_before, count * sizeof *before);
    if (after && count)
        memcpy(after, tp_of(tp)->fb_after, count * sizeof *after);
    return PCMUP_OK;
}

static pcmup_status check_feedback_layer(const pcmup_algo *tp, size_t layer, size_t count,
                                         const char *func)
{
    const pcmup_net *net = tp->net;
    PCMUP_TRY(check_rule(tp, func));
    if (layer < 2 || layer > net->n_layers)
        return pcmup__fail(PCMUP_ERR_INVALID, func, "feedback layer %zu is outside [2, %zu]",
                           layer, net->n_layers);
    size_t want = net->widths[layer - 1] * net->widths[layer];
    if (count != want)
        return pcmup__fail(PCMUP_ERR_SHAPE, func,
                           "layer %zu: feedback count %zu does not match %zu", layer, count,
                           want);
    return PCMUP_OK;
}

pcmup_status pcmup_tp_get_feedback(const pcmup_algo *tp, size_t layer, float *dst, size_t count)
{
    PCMUP_CHECK_NULL(tp);
    PCMUP_CHECK_NULL(dst);
    PCMUP_TRY(check_feedback_layer(tp, layer, count, __func__));
    if (!feedback_ready(tp_of(tp), tp->net, layer))
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, __func__,
                           "feedback layer %zu has not been drawn or set yet", layer);
    memcpy(dst, feedback_of(tp_of(tp), layer), count * sizeof *dst);
    return PCMUP_OK;
}

pcmup_status pcmup_tp_set_feedback(pcmup_algo *tp, size_t layer, const float *src, size_t count)
{
    PCMUP_CHECK_NULL(tp);
    PCMUP_CHECK_NULL(src);
    PCMUP_TRY(check_feedback_layer(tp, layer, count, __func__));
    PCMUP_TRY(pcmup__check_finite(src, count, layer, __func__));
    PCMUP_TRY(reserve_feedback(tp, __func__));
    tp_state *st = tp_of(tp);
    forget_stale_feedback(st, tp->net);
    memcpy(feedback_of(st, layer), src, count * sizeof *src);
    st->fb_ready[layer - 1] = 1;
    return PCMUP_OK;
}
