/* SPDX-License-Identifier: MIT */
/*
 * pc.c -- predictive coding: inference on the value nodes, then a local
 * weight update from the prediction errors (the paper's section 4;
 * docs/pc.md, sections 1-5; conventions pinned by tests/data/vectors/pc_*).
 *
 * States x_l (B, M_l), l = 1..L-1, are pre-activations; x_0 = X. With the
 * predictions pred_l = W_l phi(x_{l-1}) the errors are
 *   eps_l = x_l - pred_l (l < L),  eps_L = -dloss/df at f = pred_L,
 * and the state gradient of the energy is
 *   g_l = gamma_l eps_l - gamma_{l+1} phi'(x_l) * (eps_{l+1} W_{l+1}),
 * where the second term is the layer interface's input-VJP of layer l+1.
 * On any network phi(x) reads g_l(x) = P_l(phi(x)) (pooling after the
 * activation; layer.h): predictions are A_l(g_{l-1}(x_{l-1})) and phi'
 * becomes g_l's VJP, so a state has layer l's pre-activation size and
 * its g has the (pooled) output size M_l.
 *
 * Cost. pred_l depends only on x_{l-1}, so moving x_l by -kappa g changes
 * eps_l by exactly -kappa g (no GEMM) and leaves eps_{l+1} stale. Errors
 * are recomputed only when stale (run.fresh), which makes an iteration one
 * prediction and one input-VJP per hidden layer: a step costs about
 * (2T + 2) / 3 BP steps (forward, T iterations, the update).
 *
 * Layer parallelism (pcmup_algo_set_layer_split). A worker owns layers
 * lo..hi: their states, errors and weights. Its neighbours' boundary
 * values land in the buffers the single process would hold them in (the
 * layout is the whole network's): phi(x_{lo-1}) in post[lo-2], h_{lo-1}
 * in acts[lo-2]. The one value that has no such home is layer hi+1's
 * input-VJP eps_{hi+1} W_{hi+1}, which the next worker computes and sends
 * (from_next); the worker sends its own eps_lo W_lo back (to_prev). Every
 * other number is computed as the single process computes it, so the
 * results are the same bits. Without a split lo..hi is 1..L and the
 * exchanges are no-ops.
 */
#include "algo.h"

#include "kernel/kernel.h"
#include "layers/activation.h"
#include "loss.h"
#include "param.h"

#include <math.h>
#include <string.h>

/* The step's buffers, carved from the rule scratch. Index l is layer l. */
typedef struct {
    float **state;  /* x_l, l < L                               */
    float **post;   /* g(x_l), l < L (M_l: pooled)              */
    float **phix;   /* phi(x_l) where layer l pools, else post  */
    float **pre_ff; /* feedforward u_l, l <= L (pre_ff[L] = f)  */
    float **err;    /* eps_l, l <= L                            */
    float **err2;   /* cached eps_l (timing cache), or the
                       per-layer gradients (simultaneous)       */
    float **presyn; /* cached phi(x_{l-1}) (timing cache)       */
    float *pred;    /* (B, max width): a prediction             */
    float *grad;    /* (B, max width): one layer's g_l          */
    float *vjp;     /* (B, max width)                           */
    float *dh;      /* (B, max width): a pooled output's VJP    */
} pc_bufs;

/* PC's state (algo->state): the step's buffers, and the diagnostics of
 * the last step. Nothing persists between steps but the diagnostics. */
typedef struct {
    float *scratch;       /* the buffers of pc_bufs, scratch_cap floats */
    size_t scratch_cap;
    float **bufs;         /* 7 L pointers into scratch */
    double *energy;       /* energy trace, energy_cap values */
    size_t energy_cap;
    size_t energy_count;  /* 0 before the first step */
    double *error_norms;  /* L values */
    double *sums;         /* L: the energy's batch sums, reduced together */
    unsigned char *fresh; /* L + 1 flags used during a step */
    float *boundary;      /* layer split: to_prev and from_next, each
                             (B, max width); boundary_cap floats */
    size_t boundary_cap;
} pc_state;

static pc_state *pc_of(const pcmup_algo *algo)
{
    return algo->state;
}

/* Layer l's pre-activation size (a state's, an error's) and its output's
 * (g(x_l)'s, the next layer's input), per sample; equal unless l pools. */
static size_t pre_size(const pcmup_net *net, size_t l)
{
    return net->layers[l - 1].n_out;
}

static size_t post_size(const pcmup_net *net, size_t l)
{
    return net->widths[l];
}

/* Floats of buffers per sample: state, err2: hidden pre sizes; post,
 * presyn: hidden output sizes; phix: the pooled layers' pre sizes;
 * pre_ff, err: every pre size; pred: one max width (grad, vjp and dh are
 * the shared delta buffers). */
static size_t floats_per_sample(const pcmup_net *net)
{
    size_t n = pcmup__net_max_width(net);
    for (size_t l = 1; l <= net->n_layers; l++) {
        n += 2 * pre_size(net, l); /* pre_ff, err */
        if (l == net->n_layers)
            break;
        n += 2 * pre_size(net, l) + 2 * post_size(net, l); /* state, err2, post, presyn */
        if (pcmup__layer_pools(&net->layers[l - 1]))
            n += pre_size(net, l); /* phix */
    }
    return n;
}

static pc_bufs carve(pcmup_algo *algo, size_t batch)
{
    const pcmup_net *net = algo->net;
    const size_t n_layers = net->n_layers;
    float **p = pc_of(algo)->bufs;
    pc_bufs b = {p,
                 p + n_layers,
                 p + 2 * n_layers,
                 p + 3 * n_layers,
                 p + 4 * n_layers,
                 p + 5 * n_layers,
                 p + 6 * n_layers,
                 NULL,
                 algo->delta[0],
                 algo->delta[1],
                 algo->delta[2]};
    float *block = pc_of(algo)->scratch;
    for (size_t l = 1; l <= n_layers; l++) {
        const size_t n = batch * pre_size(net, l);
        if (l < n_layers) {
            b.state[l - 1] = block, block += n;
            b.post[l - 1] = block, block += batch * post_size(net, l);
            b.phix[l - 1] = b.post[l - 1];
            if (pcmup__layer_pools(&net->layers[l - 1]))
                b.phix[l - 1] = block, block += n;
            b.err2[l - 1] = block, block += n;
        }
        if (l > 1 && l < n_layers) /* layer 1's presynaptic factor is X */
            b.presyn[l - 1] = block, block += batch * post_size(net, l - 1);
        b.pre_ff[l - 1] = block, block += n;
        b.err[l - 1] = block, block += n;
    }
    b.pred = block;
    return b;
}

/* ---- small helpers over the buffers -------------------------------------- */

typedef struct {
    pcmup_algo *algo;
    const pcmup_net *net;
    pc_bufs b;
    const float *x;
    const int32_t *labels;
    size_t batch;
    size_t n_layers;
    double gamma_out;  /* gamma_L */
    int fpa;
    double loss_sum;   /* this worker's loss sum at the current output prediction */
    unsigned char *fresh; /* fresh[l]: eps_l matches the current states */
    size_t lo, hi;     /* the layers this worker owns: 1..L without a split */
    float *to_prev;    /* layer split: eps_lo W_lo, for the previous worker */
    float *from_next;  /* layer split: eps_{hi+1} W_{hi+1}, from the next one */
} pc_run;

static float *state(const pc_run *r, size_t l) { return r->b.state[l - 1]; }
static float *err(const pc_run *r, size_t l) { return r->b.err[l - 1]; }
static float *pre_ff(const pc_run *r, size_t l) { return r->b.pre_ff[l - 1]; }

/* g(x_l) at the current states (phi(x_l) without pooling); g(x_0) = X. */
static const float *post(const pc_run *r, size_t l)
{
    return l == 0 ? r->x : r->b.post[l - 1];
}

/* phi of the feedforward pass, h_l (what FPA keeps); h_0 = X. */
static const float *post_ff(const pc_run *r, size_t l)
{
    return l == 0 ? r->x : r->algo->acts[l - 1];
}

static double gamma_of(const pc_run *r, size_t l)
{
    return l < r->n_layers ? pcmup__setting_layer(r->algo, PCMUP_SET_PC_GAMMA_HIDDEN, l)
                           : r->gamma_out;
}

/* Values per sample of x_l, u_l and eps_l (layer l's pre-activation). */
static size_t width(const pc_run *r, size_t l)
{
    return pre_size(r->net, l);
}

/* eps_L = -dloss/df at the prediction f = pred, and the loss there. */
static void output_error(pc_run *r, const float *pred)
{
    const pcmup_algo *algo = r->algo;
    const size_t l = r->n_layers, n = r->batch * width(r, l);
    float *e = err(r, l);
    double sum = pcmup__loss_sum((pcmup_loss)algo->settings[PCMUP_SET_LOSS],
                                 algo->settings[PCMUP_SET_MSE_CENTRED] != 0.0, pred, r->labels,
                                 r->batch, width(r, l), e);
    r->loss_sum = sum;
    for (size_t i = 0; i < n; i++)
        e[i] = -e[i];
}

/* eps_l from the current states (or, under FPA, the fixed predictions). */
static void compute_error(pc_run *r, size_t l)
{
    const pcmup_layer *ly = &r->net->layers[l - 1];
    const float *pred = pre_ff(r, l);
    if (!r->fpa) {
        ly->ops->forward(ly, post(r, l - 1), r->batch, r->b.pred);
        pred = r->b.pred;
    }
    if (l == r->n_layers) {
        output_error(r, pred);
        return;
    }
    const size_t n = r->batch * width(r, l);
    const float *s = state(r, l);
    float *e = err(r, l);
    for (size_t i = 0; i < n; i++)
        e[i] = s[i] - pred[i];
}

static void ensure_error(pc_run *r, size_t l)
{
    if (!r->fresh[l]) {
        compute_error(r, l);
        r->fresh[l] = 1;
    }
}

/* Whether layer l is this worker's (always, without a split). */
static int owns(const pc_run *r, size_t l)
{
    return l >= r->lo && l <= r->hi;
}

/* The worker's own hidden states: lo..top (top < lo when it owns only
 * the output layer). */
static size_t top_state(const pc_run *r)
{
    return r->hi < r->n_layers ? r->hi : r->n_layers - 1;
}

static void ensure_all_errors(pc_run *r)
{
    for (size_t l = r->lo; l <= r->hi; l++)
        ensure_error(r, l);
}

/* F / B from the current errors (all of them up to date); under a
 * reducer the global batch's, under a layer split every layer's (each
 * worker puts in its own), so that every worker sees the same energy
 * and a tolerance stops them all at the same iteration. */
static double energy(const pc_run *r)
{
    double *sums = pc_of(r->algo)->sums;
    sums[0] = r->hi == r->n_layers ? r->loss_sum : 0.0;
    for (size_t l = 1; l < r->n_layers; l++)
        sums[l] = owns(r, l) ? pcmup__k_sum_sq(err(r, l), r->batch * width(r, l)) : 0.0;
    pcmup__par_sum_step_d(r->algo, sums, r->n_layers);
    const double b = (double)r->algo->global_batch;
    double e = r->gamma_out * (sums[0] / b);
    for (size_t l = 1; l < r->n_layers; l++)
        e += 0.5 * gamma_of(r, l) * sums[l] / b;
    return e;
}

/* ---- the fused elementwise passes ------------------------------------------
 * An inference iteration's work beside its two GEMMs per layer is
 * elementwise; on a layer without pooling each part is one pass, the
 * activation's derivative and the activation itself included (phi' and
 * phi in the same pass as the state gradient and the state's move). tanh
 * is compiled per vector width (internal.h). Each element's operations
 * are the unfused ones in the same order: the same bits. */

/* g = gl e - gup (phi'(x) * dh), phi'(x) read off a = phi(x). */
static PCMUP_ALWAYS_INLINE void gradient_loop(pcmup_activation act, float gl,
                                             const float *restrict e, float gup,
                                             const float *restrict a,
                                             const float *restrict dh, float *restrict g,
                                             size_t n)
{
    for (size_t i = 0; i < n; i++)
        g[i] = gl * e[i] - gup * pcmup__act_slope_times(act, a[i], dh[i]);
}

static PCMUP_VECTOR_CLONES void gradient_tanh(float gl, const float *e, float gup,
                                              const float *a, const float *dh, float *g,
                                              size_t n)
{
    gradient_loop(PCMUP_ACT_TANH, gl, e, gup, a, dh, g, n);
}

/* x -= kappa g, then a = phi(x); and eps -= kappa g where eps is given. */
static PCMUP_ALWAYS_INLINE void move_loop(pcmup_activation act, float kappa,
                                         const float *restrict g, float *restrict x,
                                         float *restrict a, float *restrict eps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        x[i] -= kappa * g[i];
        a[i] = pcmup__act_value(act, x[i]);
    }
    if (eps)
        for (size_t i = 0; i < n; i++)
            eps[i] -= kappa * g[i];
}

static PCMUP_VECTOR_CLONES void move_tanh(float kappa, const float *g, float *x, float *a,
                                          float *eps, size_t n)
{
    move_loop(PCMUP_ACT_TANH, kappa, g, x, a, eps, n);
}

static void fused_gradient(pcmup_activation act, float gl, const float *e, float gup,
                           const float *a, const float *dh, float *g, size_t n)
{
    if (act == PCMUP_ACT_TANH)
        gradient_tanh(gl, e, gup, a, dh, g, n);
    else if (act == PCMUP_ACT_RELU)
        gradient_loop(PCMUP_ACT_RELU, gl, e, gup, a, dh, g, n);
    else
        gradient_loop(PCMUP_ACT_IDENTITY, gl, e, gup, a, dh, g, n);
}

static void fused_move(pcmup_activation act, float kappa, const float *g, float *x, float *a,
                       float *eps, size_t n)
{
    if (act == PCMUP_ACT_TANH)
        move_tanh(kappa, g, x, a, eps, n);
    else if (act == PCMUP_ACT_RELU)
        move_loop(PCMUP_ACT_RELU, kappa, g, x, a, eps, n);
    else
        move_loop(PCMUP_ACT_IDENTITY, kappa, g, x, a, eps, n);
}

/* eps_{l+1} W_{l+1}, layer l+1's input-VJP, into dst; or, for the top of
 * a worker's block, what the next worker sent. */
static const float *vjp_above(const pc_run *r, size_t l, float *dst)
{
    if (l == r->hi)
        return r->from_next;
    const pcmup_layer *above = &r->net->layers[l];
    above->ops->input_vjp(above, err(r, l + 1), r->batch, dst);
    return dst;
}

/* g_l into `g` from the current eps_l and eps_{l+1}. */
static void state_gradient(const pc_run *r, size_t l, float *g)
{
    const pcmup_layer *here = &r->net->layers[l - 1];
    const size_t n = r->batch * width(r, l);
    const float gl = (float)gamma_of(r, l), gup = (float)gamma_of(r, l + 1);
    /* g'(x_l), read off phi(x_l); FPA keeps g'(u_l). */
    const float *a = r->fpa ? r->algo->phis[l - 1] : r->b.phix[l - 1];
    if (!pcmup__layer_pools(here)) {
        const float *vjp = vjp_above(r, l, r->b.vjp);
        fused_gradient(here->activation, gl, err(r, l), gup, a, vjp, g, n);
        return;
    }
    /* Pooling: the VJP of g_l = P o phi first, then the same combination. */
    const float *dh = vjp_above(r, l, r->b.dh);
    pcmup__layer_post_vjp(here, a, dh, r->batch, r->b.vjp);
    fused_gradient(PCMUP_ACT_IDENTITY, gl, err(r, l), gup, a, r->b.vjp, g, n);
}

/* phi(x_l) and g(x_l) from the state x_l. */
static void update_post(pc_run *r, size_t l)
{
    pcmup__layer_post(&r->net->layers[l - 1], state(r, l), r->batch, r->b.phix[l - 1],
                      r->b.post[l - 1]);
}

/* x_l -= kappa_l g, and phi(x_l) follows. eps_l moves with x_l (its
 * prediction does not depend on x_l); eps_{l+1}'s prediction does, unless
 * FPA holds the predictions fixed. */
static void move_state(pc_run *r, size_t l, const float *g)
{
    const pcmup_layer *ly = &r->net->layers[l - 1];
    const size_t n = r->batch * width(r, l);
    const float kappa = (float)pcmup__setting_layer(r->algo, PCMUP_SET_PC_KAPPA, l);
    float *s = state(r, l), *e = r->fresh[l] ? err(r, l) : NULL;
    if (!pcmup__layer_pools(ly)) {
        fused_move(ly->activation, kappa, g, s, r->b.phix[l - 1], e, n);
    } else {
        /* Pooling: move (phix receives x_l, overwritten next), then P o phi. */
        fused_move(PCMUP_ACT_IDENTITY, kappa, g, s, r->b.phix[l - 1], e, n);
        update_post(r, l);
    }
    if (!r->fpa)
        r->fresh[l + 1] = 0;
}

/* ---- inference ----------------------------------------------------------- */

static void fill_state(pc_run *r, size_t l, int init)
{
    const size_t n = r->batch * width(r, l);
    float *s = state(r, l);
    if (init == PCMUP_PC_INIT_FORWARD) {
        /* x_l = u_l, and g(x_l) is the forward pass's h_l. */
        memcpy(s, pre_ff(r, l), n * sizeof *s);
        memcpy(r->b.post[l - 1], post_ff(r, l), r->batch * post_size(r->net, l) * sizeof *s);
        if (r->b.phix[l - 1] != r->b.post[l - 1])
            memcpy(r->b.phix[l - 1], r->algo->phis[l - 1], n * sizeof *s);
        return;
    } else if (init == PCMUP_PC_INIT_ZERO) {
        memset(s, 0, n * sizeof *s);
    } else {
        /* Layer by layer, sample by sample over the global batch: this
         * worker's samples take the normals the single process gives them,
         * the others' are stepped over (drawn and dropped). A layer-parallel
         * worker steps over the layers it does not own (init_states). */
        const double std = r->algo->settings[PCMUP_SET_PC_INIT_STD];
        pcmup_rng *rng = &r->algo->rng;
        const size_t w = width(r, l), global = r->algo->global_batch;
        const size_t before = r->algo->batch_offset;
        pcmup__rng_skip_normals_fast(rng, (uint64_t)before * w);
        for (size_t i = 0; i < n; i++)
            s[i] = (float)(std * pcmup__rng_normal_fast(rng));
        pcmup__rng_skip_normals_fast(rng, (uint64_t)(global - before - r->batch) * w);
    }
    update_post(r, l);
}

/* Forward init makes every hidden error exactly 0 (x_l = u_l = pred_l)
 * and the output error the feedforward one, as does FPA for the output;
 * any other start leaves the errors to be computed. */
static void init_states(pc_run *r)
{
    const int init = (int)r->algo->settings[PCMUP_SET_PC_INIT];
    const int forward = init == PCMUP_PC_INIT_FORWARD;
    for (size_t l = 1; l < r->n_layers; l++) {
        if (!owns(r, l)) {
            /* Another worker's layer: its random draws, stepped over. */
            if (init == PCMUP_PC_INIT_RANDOM)
                pcmup__rng_skip_normals_fast(&r->algo->rng,
                                             (uint64_t)r->algo->global_batch * width(r, l));
            continue;
        }
        fill_state(r, l, init);
        r->fresh[l] = forward;
        if (forward)
            memset(err(r, l), 0, r->batch * width(r, l) * sizeof(float));
    }
    r->fresh[r->n_layers] = forward || r->fpa;
    if (r->fresh[r->n_layers] && r->hi == r->n_layers)
        output_error(r, pre_ff(r, r->n_layers));
}

/* ---- the boundary of a worker's block (layer split) -----------------------
 * No-ops without a split: pcmup__split_exchange then returns at once, and
 * lo = 1, hi = L leave nothing to send. */

/* Floats across the block's lower boundary (B x M_{lo-1}) and upper one
 * (B x M_hi); 0 where the block ends the network. */
static void boundaries(const pc_run *r, size_t *bottom, size_t *top)
{
    *bottom = r->lo > 1 ? r->batch * post_size(r->net, r->lo - 1) : 0;
    *top = r->hi < r->n_layers ? r->batch * post_size(r->net, r->hi) : 0;
}

/* Sends phi(x_hi) to the next worker and receives phi(x_{lo-1}) into its
 * place. Not under FPA, whose predictions never read the states below. */
static void exchange_states(pc_run *r)
{
    if (r->fpa)
        return;
    size_t bottom, top;
    boundaries(r, &bottom, &top);
    pcmup__split_exchange(r->algo, NULL, 0, bottom ? r->b.post[r->lo - 2] : NULL, bottom,
                          top ? r->b.post[r->hi - 1] : NULL, top, NULL, 0);
}

/* Sends eps_lo W_lo (layer lo's input-VJP) to the previous worker and
 * receives eps_{hi+1} W_{hi+1} from the next. */
static void exchange_vjps(pc_run *r)
{
    size_t bottom, top;
    boundaries(r, &bottom, &top);
    if (bottom) {
        const pcmup_layer *ly = &r->net->layers[r->lo - 1];
        ly->ops->input_vjp(ly, err(r, r->lo), r->batch, r->to_prev);
    }
    pcmup__split_exchange(r->algo, r->to_prev, bottom, NULL, 0, NULL, 0, r->from_next, top);
}

/* One sweep from layer L-1 down to 1, each layer with the freshest states.
 * Under timing CACHE, keep eps_l and phi(x_{l-1}) as they are right after
 * x_l moves (x_{l-1} has not moved yet); every sweep refreshes them, so
 * the last sweep run wins, early stop or not. */
static void sequential_sweep(pc_run *r, int cache)
{
    for (size_t l = r->n_layers - 1; l >= 1; l--) {
        ensure_error(r, l + 1);
        ensure_error(r, l);
        state_gradient(r, l, r->b.grad);
        move_state(r, l, r->b.grad);
        if (!cache)
            continue;
        /* eps_l right after x_l moved, before x_{l-1} does. */
        memcpy(r->b.err2[l - 1], err(r, l), r->batch * width(r, l) * sizeof(float));
        if (l > 1)
            memcpy(r->b.presyn[l - 1], post(r, l - 1),
                   r->batch * post_size(r->net, l - 1) * sizeof(float));
    }
}

/* Every g_l from one snapshot, then every state moves. A layer-parallel
 * worker moves its own states, and then receives the previous worker's
 * moved one, which makes eps_lo stale (as move_state(lo - 1) would). */
static void simultaneous_step(pc_run *r)
{
    ensure_all_errors(r);
    exchange_vjps(r);
    for (size_t l = r->lo; l <= top_state(r); l++)
        state_gradient(r, l, r->b.err2[l - 1]);
    for (size_t l = r->lo; l <= top_state(r); l++)
        move_state(r, l, r->b.err2[l - 1]);
    if (r->lo > 1 && !r->fpa)
        r->fresh[r->lo] = 0;
    exchange_states(r);
}

/* Runs up to T iterations, recording the energy; leaves every error
 * computed from the final states. */
static void infer(pc_run *r)
{
    pcmup_algo *algo = r->algo;
    pc_state *st = pc_of(algo);
    const size_t t_max = (size_t)algo->settings[PCMUP_SET_PC_ITERATIONS];
    const double tol = algo->settings[PCMUP_SET_PC_TOLERANCE];
    const int sequential = algo->settings[PCMUP_SET_PC_SCHEDULE] == PCMUP_PC_SCHEDULE_SEQUENTIAL;
    const int cache = algo->settings[PCMUP_SET_PC_TIMING] == PCMUP_PC_TIMING_CACHE;
    /* Forward init leaves the errors at the block's bottom fresh, and the
     * first iteration sends the states before anything reads them. */
    if (algo->settings[PCMUP_SET_PC_INIT] != PCMUP_PC_INIT_FORWARD)
        exchange_states(r);
    ensure_all_errors(r);
    st->energy[0] = energy(r);
    size_t t = 0;
    /* After a failed callback no worker can go on: stop where it failed. */
    while (t < t_max && algo->reduce_status == PCMUP_OK) {
        t++;
        if (sequential)
            sequential_sweep(r, cache);
        else
            simultaneous_step(r);
        ensure_all_errors(r);
        st->energy[t] = energy(r);
        double before = st->energy[t - 1];
        if (tol > 0.0 && (before - st->energy[t]) < tol * fabs(before))
            break;
    }
    st->energy_count = t + 1;
    if (cache) {
        for (size_t l = 1; l < r->n_layers; l++)
            memcpy(err(r, l), r->b.err2[l - 1], r->batch * width(r, l) * sizeof(float));
    }
}

/* ---- the step ------------------------------------------------------------ */

static double gamma_out_of(const pcmup_algo *algo)
{
    const pcmup_net *net = algo->net;
    return algo->settings[PCMUP_SET_PC_GAMMA_OUT_BASE]
           * pcmup__param_factor(net->param, net->scale_widths, net->n_layers, PCMUP_FACTOR_PC_GAMMA);
}

/* Feedforward pass keeping pre-activations (pre_ff), phi(u_l)
 * (algo->phis) and outputs (algo->acts), as the states' initialisation
 * and FPA need them all. */
static void forward_pass(pc_run *r)
{
    const float *in = r->lo > 1 ? r->algo->acts[r->lo - 2] : r->x;
    for (size_t l = r->lo; l <= r->hi; l++) {
        const pcmup_layer *ly = &r->net->layers[l - 1];
        const size_t n = r->batch * width(r, l);
        ly->ops->forward(ly, in, r->batch, pre_ff(r, l));
        if (l < r->n_layers)
            pcmup__layer_post(ly, pre_ff(r, l), r->batch, r->algo->phis[l - 1],
                              r->algo->acts[l - 1]);
        else
            memcpy(r->algo->acts[l - 1], pre_ff(r, l), n * sizeof(float));
        in = r->algo->acts[l - 1];
    }
}

/* The forward pass of a worker's block, as a pipeline: h_{lo-1} from the
 * previous worker into acts[lo-2], the block's layers, h_hi to the next
 * worker. (A whole network's pass is the same with nothing exchanged.) */
static void forward_block(pc_run *r)
{
    size_t bottom, top;
    boundaries(r, &bottom, &top);
    if (bottom)
        pcmup__split_exchange(r->algo, NULL, 0, r->algo->acts[r->lo - 2], bottom, NULL, 0,
                              NULL, 0);
    forward_pass(r);
    if (top)
        pcmup__split_exchange(r->algo, NULL, 0, NULL, 0, r->algo->acts[r->hi - 1], top, NULL,
                              0);
}

static void record_error_norms(const pc_run *r)
{
    double *norms = pc_of(r->algo)->error_norms;
    for (size_t l = 1; l <= r->n_layers; l++)
        norms[l - 1] = owns(r, l) ? pcmup__k_sum_sq(err(r, l), r->batch * width(r, l)) : 0.0;
    pcmup__par_sum_step_d(r->algo, norms, r->n_layers);
    for (size_t l = 1; l <= r->n_layers; l++)
        norms[l - 1] = sqrt(norms[l - 1] / (double)r->algo->global_batch);
}

/* W_l += eta_l gamma_l (1/B) eps_l^T a_{l-1} (l < L), W_L += eta_L s (1/B)
 * eps_L^T a_{L-1}: the shared descent step with error -gamma_l eps_l. */
static void update_weights(pc_run *r)
{
    pcmup_algo *algo = r->algo;
    const int cache = algo->settings[PCMUP_SET_PC_TIMING] == PCMUP_PC_TIMING_CACHE;
    const int conv_b = algo->settings[PCMUP_SET_PC_LAST_LAYER] == PCMUP_PC_LAST_LAYER_B;
    for (size_t l = r->lo; l <= r->hi; l++) {
        double scale = l < r->n_layers ? gamma_of(r, l) : (conv_b ? r->gamma_out : 1.0);
        const size_t n = r->batch * width(r, l);
        pcmup__k_sscal(n, (float)-scale, err(r, l));
        const float *in;
        if (r->fpa)
            in = post_ff(r, l - 1);
        else if (cache && l < r->n_layers && l > 1)
            in = r->b.presyn[l - 1];
        else
            in = post(r, l - 1);
        pcmup__algo_descend(algo, l, err(r, l), in, r->batch);
    }
}

static pcmup_status pc_step(pcmup_algo *algo, const float *x, const int32_t *labels,
                            size_t batch, double *loss_out, const char *func)
{
    pc_state *st = pc_of(algo);
    const size_t wide = batch * pcmup__net_max_width(algo->net);
    pc_run r = {algo, algo->net, carve(algo, batch), x, labels, batch,
                algo->net->n_layers, gamma_out_of(algo),
                algo->settings[PCMUP_SET_PC_FPA] != 0.0, 0.0, st->fresh, 0, 0,
                st->boundary, st->boundary ? st->boundary + wide : NULL};
    pcmup__split_range(algo, &r.lo, &r.hi);
    forward_block(&r);
    /* The loss is the output layer's owner's (the others add 0). */
    double loss = r.hi < r.n_layers ? 0.0
                  : pcmup__loss_sum((pcmup_loss)algo->settings[PCMUP_SET_LOSS],
                                    algo->settings[PCMUP_SET_MSE_CENTRED] != 0.0,
                                    pre_ff(&r, r.n_layers), labels, batch,
                                    width(&r, r.n_layers), NULL);
    pcmup__par_sum_step_d(algo, &loss, 1);
    loss /= (double)algo->global_batch;
    if (!isfinite(loss))
        return pcmup__fail(PCMUP_ERR_DIVERGED, func,
                           "the loss is %g before the step; weights left unchanged", loss);
    init_states(&r);
    infer(&r);
    record_error_norms(&r);
    update_weights(&r);
    if (loss_out)
        *loss_out = loss;
    return PCMUP_OK;
}

static void pc_free(pcmup_algo *algo, void *state)
{
    pc_state *st = state;
    pcmup__free(&algo->alloc, st->scratch);
    pcmup__free(&algo->alloc, st->bufs);
    pcmup__free(&algo->alloc, st->energy);
    pcmup__free(&algo->alloc, st->error_norms);
    pcmup__free(&algo->alloc, st->sums);
    pcmup__free(&algo->alloc, st->fresh);
    pcmup__free(&algo->alloc, st->boundary);
    pcmup__free(&algo->alloc, st);
}

/* The state's fixed-size parts: the buffer pointers (7 L), the error
 * norms (L), the energy's sums (L) and the fresh flags (L + 1). */
static pcmup_status pc_create(pcmup_algo *algo, void **state, const char *func)
{
    const size_t n_layers = algo->net->n_layers;
    pc_state *st = pcmup__alloc_zero(&algo->alloc, 1, sizeof *st);
    if (st) {
        st->bufs = pcmup__alloc_zero(&algo->alloc, 7 * n_layers, sizeof(float *));
        st->error_norms = pcmup__alloc_zero(&algo->alloc, n_layers, sizeof(double));
        st->sums = pcmup__alloc_zero(&algo->alloc, n_layers, sizeof(double));
        st->fresh = pcmup__alloc_zero(&algo->alloc, n_layers + 1, 1);
    }
    if (!st || !st->bufs || !st->error_norms || !st->sums || !st->fresh) {
        if (st)
            pc_free(algo, st);
        return pcmup__fail(PCMUP_ERR_NOMEM, func, "cannot allocate predictive coding's state");
    }
    *state = st;
    return PCMUP_OK;
}

/* What the settings and the batch size decide: the energy trace (T + 1)
 * and the step's buffers. */
static pcmup_status pc_reserve(pcmup_algo *algo, size_t batch, const char *func)
{
    pc_state *st = pc_of(algo);
    if (algo->settings[PCMUP_SET_PC_TIMING] == PCMUP_PC_TIMING_CACHE &&
        algo->settings[PCMUP_SET_PC_SCHEDULE] != PCMUP_PC_SCHEDULE_SEQUENTIAL)
        return pcmup__fail(PCMUP_ERR_INVALID, func,
                           "timing cache needs the sequential schedule");
    if (algo->has_split &&
        algo->settings[PCMUP_SET_PC_SCHEDULE] != PCMUP_PC_SCHEDULE_SIMULTANEOUS)
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, func,
                           "layer-parallel inference needs the simultaneous schedule (a "
                           "sequential sweep is serial)");
    const size_t need = (size_t)algo->settings[PCMUP_SET_PC_ITERATIONS] + 1;
    if (need > st->energy_cap) {
        PCMUP_TRY(pcmup__grow(&algo->alloc, (void **)&st->energy, &st->energy_cap, need,
                              sizeof(double), "the energy trace", func));
        st->energy_count = 0;
    }
    int overflow = 0;
    size_t n = pcmup__mul(floats_per_sample(algo->net), batch, &overflow);
    if (overflow)
        return pcmup__fail(PCMUP_ERR_NOMEM, func, "buffers for batch %zu do not fit in memory",
                           batch);
    if (algo->has_split) {
        /* Two (B, max width) boundary buffers; n did not overflow, and
         * holds more than one (B, max width) block, so 2 of them fit. */
        const size_t wide = 2 * batch * pcmup__net_max_width(algo->net);
        PCMUP_TRY(pcmup__grow(&algo->alloc, (void **)&st->boundary, &st->boundary_cap, wide,
                              sizeof(float), "the layer split's boundary buffers", func));
    }
    return pcmup__grow(&algo->alloc, (void **)&st->scratch, &st->scratch_cap, n, sizeof(float),
                       "predictive coding's buffers", func);
}

/* The energy after the last step's inference, which an epoch averages
 * (pcmup_pc_epoch_energy). */
static double pc_final_energy(const pcmup_algo *algo)
{
    const pc_state *st = pc_of(algo);
    return st->energy[st->energy_count - 1];
}

/* ---- settings ------------------------------------------------------------ */

static const char *const schedule_names[] = {
    [PCMUP_PC_SCHEDULE_SEQUENTIAL] = "sequential",
    [PCMUP_PC_SCHEDULE_SIMULTANEOUS] = "simultaneous",
};
static const char *const init_names[] = {
    [PCMUP_PC_INIT_FORWARD] = "forward", [PCMUP_PC_INIT_ZERO] = "zero",
    [PCMUP_PC_INIT_RANDOM] = "random",
};
static const char *const timing_names[] = {
    [PCMUP_PC_TIMING_END] = "end", [PCMUP_PC_TIMING_CACHE] = "cache",
};
static const char *const last_layer_names[] = {
    [PCMUP_PC_LAST_LAYER_A] = "a", [PCMUP_PC_LAST_LAYER_B] = "b",
};

_Static_assert(PCMUP_GROUP_PC + 100 <= PCMUP_SETTINGS_CAP, "algo->settings has no room for PC's");

/* PC's settings (pcmup.h, section 6), in increasing key order. */
static const pcmup_setting_row pc_settings[] = {
    {PCMUP_SET_PC_GAMMA_HIDDEN, "pc_gamma_hidden", "precision gamma_l of the hidden layers",
     PCMUP_GROUP_PC, 1.0, 0.0, 1e6, PCMUP_LO_OPEN, PCMUP_PER_LAYER, {NULL, 0}},
    {PCMUP_SET_PC_GAMMA_OUT_BASE, "pc_gamma_out_base",
     "output precision gamma'_L at the base width", PCMUP_GROUP_PC, 1.0, 0.0, 1e6, PCMUP_LO_OPEN, 0, {NULL, 0}},
    {PCMUP_SET_PC_KAPPA, "pc_kappa", "inference step kappa_l of the hidden layers",
     PCMUP_GROUP_PC, 1.0, 0.0, 1e3, 0, PCMUP_PER_LAYER, {NULL, 0}},
    {PCMUP_SET_PC_ITERATIONS, "pc_iterations",
     "inference iterations T (the most, with a tolerance)", PCMUP_GROUP_PC, 1.0, 1.0, 1e6, 0,
     PCMUP_WHOLE, {NULL, 0}},
    {PCMUP_SET_PC_SCHEDULE, "pc_schedule",
     "inference: sweeps from the top layer down, or every layer from one snapshot",
     PCMUP_GROUP_PC, PCMUP_PC_SCHEDULE_SEQUENTIAL, 0, 0, 0, 0, PCMUP_VALUES(schedule_names)},
    {PCMUP_SET_PC_INIT, "pc_init",
     "initial states: feedforward pre-activations, zero, or random", PCMUP_GROUP_PC,
     PCMUP_PC_INIT_FORWARD, 0, 0, 0, 0, PCMUP_VALUES(init_names)},
    {PCMUP_SET_PC_INIT_STD, "pc_init_std", "std of random initial states", PCMUP_GROUP_PC, 1.0,
     0.0, 1e6, 0, 0, {NULL, 0}},
    {PCMUP_SET_PC_FPA, "pc_fpa", "the fixed prediction assumption (1) or not (0)", PCMUP_GROUP_PC, 0.0,
     0.0, 1.0, 0, PCMUP_WHOLE, {NULL, 0}},
    {PCMUP_SET_PC_TIMING, "pc_timing",
     "errors of the weight update: from the final states, or cached after each layer's last "
     "update (sequential only)",
     PCMUP_GROUP_PC, PCMUP_PC_TIMING_END, 0, 0, 0, 0, PCMUP_VALUES(timing_names)},
    {PCMUP_SET_PC_LAST_LAYER, "pc_last_layer",
     "output layer update: gamma_L absorbed into its learning rate (a), or the energy gradient (b)",
     PCMUP_GROUP_PC, PCMUP_PC_LAST_LAYER_A, 0, 0, 0, 0, PCMUP_VALUES(last_layer_names)},
    {PCMUP_SET_PC_TOLERANCE, "pc_tolerance",
     "stop inference below this relative energy decrease; 0: never", PCMUP_GROUP_PC, 0.0, 0.0,
     1.0, 0, 0, {NULL, 0}},
};

const pcmup_rule_ops pcmup__rule_pc = {
    .id = PCMUP_RULE_PC,
    .name = "pc",
    .data_parallel = 1,
    .layer_parallel = 1,
    .create_state = pc_create,
    .free_state = pc_free,
    .reserve = pc_reserve,
    .step = pc_step,
    .step_diagnostic = pc_final_energy,
    .settings = pc_settings,
    .n_settings = sizeof pc_settings / sizeof pc_settings[0],
};

/* ---- diagnostics --------------------------------------------------------- */

static pcmup_status check_pc(const pcmup_algo *algo, const char *func)
{
    if (algo->rule->id != PCMUP_RULE_PC)
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, func, "%s is not predictive coding",
                           algo->rule->name);
    return PCMUP_OK;
}

pcmup_status pcmup_pc_gamma_out(const pcmup_algo *pc, double *gamma_out)
{
    PCMUP_CHECK_NULL(pc);
    PCMUP_CHECK_NULL(gamma_out);
    PCMUP_TRY(check_pc(pc, __func__));
    *gamma_out = gamma_out_of(pc);
    return PCMUP_OK;
}

pcmup_status pcmup_pc_energy_trace(const pcmup_algo *pc, double *dst, size_t capacity,
                                   size_t *count)
{
    PCMUP_CHECK_NULL(pc);
    PCMUP_CHECK_NULL(count);
    PCMUP_TRY(check_pc(pc, __func__));
    if (capacity > 0 && !dst)
        return pcmup__fail(PCMUP_ERR_NULL, __func__, "dst is NULL");
    const pc_state *st = pc_of(pc);
    if (st->energy_count == 0)
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, __func__, "no step has run yet");
    size_t n = st->energy_count < capacity ? st->energy_count : capacity;
    if (n)
        memcpy(dst, st->energy, n * sizeof *dst);
    *count = st->energy_count;
    return PCMUP_OK;
}

pcmup_status pcmup_pc_epoch_energy(const pcmup_algo *pc, double *mean)
{
    PCMUP_CHECK_NULL(pc);
    PCMUP_CHECK_NULL(mean);
    PCMUP_TRY(check_pc(pc, __func__));
    if (!pc->epoch_diagnostic_valid)
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, __func__, "no training epoch has completed");
    *mean = pc->epoch_diagnostic;
    return PCMUP_OK;
}

pcmup_status pcmup_pc_error_norms(const pcmup_algo *pc, double *dst, size_t count)
{
    PCMUP_CHECK_NULL(pc);
    PCMUP_CHECK_NULL(dst);
    PCMUP_TRY(check_pc(pc, __func__));
    if (count != pc->net->n_layers)
        return pcmup__fail(PCMUP_ERR_SHAPE, __func__, "count %zu does not match %zu layers",
                           count, pc->net->n_layers);
    if (pc_of(pc)->energy_count == 0)
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, __func__, "no step has run yet");
    memcpy(dst, pc_of(pc)->error_norms, count * sizeof *dst);
    return PCMUP_OK;
}
