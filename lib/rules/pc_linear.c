/* SPDX-License-Identifier: MIT */
/*
 * pc_linear.c -- the exact inference equilibrium of predictive coding on a
 * deep linear network (the paper's Theorem 4.2; docs/pc.md, section 12),
 * for one batch.
 *
 * With phi = id and the MSE loss the energy is quadratic in the states, so
 * its minimiser has a closed form. Batch-major (rows are samples), with
 * Wp_l = W_L ... W_{l+1} (C x M_l) and Wp_L = I:
 *
 *   e       = Y - X Wp_0^T                                   (B, C)
 *   C_gamma = sum_{l<L} (gamma_L / gamma_l) Wp_l Wp_l^T     (C, C)
 *   eps_L   = e (I + C_gamma)^-1,  eps_l = (gamma_L / gamma_l) eps_L Wp_l
 *   S_l     = S_{l-1} W_l^T + eps_l,  S_0 = X
 *
 * Everything is computed in double from double copies of the effective
 * weights; the C x C system is solved by Cholesky (I + C_gamma >= I, so it
 * is always positive definite and well conditioned) and the spectral norm
 * of C_gamma comes from its eigenvalues (kernel/linalg.c). The
 * (B x M) x (M x M) products are double GEMMs so that wide networks stay
 * fast (not a step: the GEMM log does not count them). Scratch comes from
 * the algorithm's allocator and is released before returning; outputs are written only once everything succeeded.
 *
 * The updates are what a PC step whose inference has converged would
 * apply to the effective weights W_l (as pcmup_algo_last_update reports
 * them): the SGD part, without momentum or weight decay, and with the
 * factor m_l^2 = r^-2a_l of the forward multiplier (1 when a_l = 0).
 * A NULL entry inside eps, states or updates skips that layer.
 */
#include "algo.h"

#include "kernel/kernel.h"
#include "layers/activation.h"

#include <math.h>
#include <string.h>

/* Per-call scratch. Index conventions follow the formulas above. */
typedef struct {
    const pcmup_net *net;
    size_t n_layers, batch, n_out;
    double **w;     /* [l - 1]: W_l (M_l, M_{l-1}), l = 1..L         */
    double **wp;    /* [l]: Wp_l (C, M_l), l = 0..L-1                */
    double **eps;   /* [l - 1]: eps_l* (B, M_l), l = 1..L           */
    double **state; /* [l]: S_l* (B, M_l), l = 0..L-1; [0] = X      */
    double *gamma;  /* [l - 1]: gamma_l, l = 1..L                    */
    double *e;      /* (B, C): y - f                                  */
    double *cg;     /* (C, C): C_gamma                                */
    double *mat;    /* (C, C): Cholesky factor, then the eigensolver's */
    double *eig;    /* (C): eigenvalues of C_gamma                    */
    double *eig_work; /* the eigensolver's workspace                  */
    double *upd;    /* (max M_l M_{l-1}): one layer's update         */
    double **ptrs;  /* the pointer block, 4 L                          */
    double *block;  /* the double block                               */
} eq_work;

static size_t width(const eq_work *k, size_t l) { return k->net->widths[l]; }

/* ---- argument checks ----------------------------------------------------- */

static pcmup_status check_model(const pcmup_algo *pc, const char *func)
{
    const pcmup_net *net = pc->net;
    if (pc->rule->id != PCMUP_RULE_PC)
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, func, "%s is not predictive coding",
                           pc->rule->name);
    if (!net->is_mlp)
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, func,
                           "the closed form needs a network of dense layers");
    if (net->activation != PCMUP_ACT_IDENTITY)
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, func,
                           "the closed form needs a linear network; the activation is %s",
                           pcmup__act_name(net->activation));
    if (net->flags & PCMUP_NET_BIAS)
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, func,
                           "the closed form needs a network without biases");
    if (pc->settings[PCMUP_SET_LOSS] != PCMUP_LOSS_MSE)
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, func,
                           "the closed form needs the MSE loss; the loss is cross-entropy");
    return PCMUP_OK;
}

/* ---- scratch ------------------------------------------------------------- */

/* *total += a * b, flagging overflow. */
static void count(size_t *total, size_t a, size_t b, int *overflow)
{
    size_t n = pcmup__mul(a, b, overflow);
    *overflow |= *total + n < n;
    *total += n;
}

/* What carve() lays out, in doubles. */
static size_t doubles_needed(const pcmup_net *net, size_t batch, int *overflow)
{
    const size_t n_layers = net->n_layers, c = net->widths[n_layers];
    size_t total = n_layers + c, widest = 0; /* gamma, eig */
    count(&total, 2 * c, c, overflow);       /* cg, mat */
    count(&total, pcmup__k_sym_eig_work(c, 0), 1, overflow); /* eig_work */
    count(&total, batch, c, overflow);       /* e */
    for (size_t l = 1; l <= n_layers; l++) {
        size_t m_in = net->widths[l - 1], m = pcmup__mul(net->widths[l], m_in, overflow);
        widest = m > widest ? m : widest;
        count(&total, m, 1, overflow);                  /* W_l */
        count(&total, c, m_in, overflow);               /* Wp_{l-1} */
        count(&total, batch, net->widths[l], overflow); /* eps_l */
        count(&total, batch, m_in, overflow);           /* S_{l-1} */
    }
    count(&total, widest, 1, overflow);                 /* upd */
    return total;
}

static double *take(double **cursor, size_t n)
{
    double *p = *cursor;
    *cursor += n;
    return p;
}

static void carve(eq_work *k)
{
    const size_t n_layers = k->n_layers, c = k->n_out, b = k->batch;
    k->w = k->ptrs, k->wp = k->ptrs + n_layers;
    k->eps = k->ptrs + 2 * n_layers, k->state = k->ptrs + 3 * n_layers;
    double *cur = k->block;
    size_t widest = 0;
    for (size_t l = 1; l <= n_layers; l++) {
        size_t m = width(k, l) * width(k, l - 1);
        widest = m > widest ? m : widest;
        k->w[l - 1] = take(&cur, m);
        k->wp[l - 1] = take(&cur, c * width(k, l - 1));
        k->eps[l - 1] = take(&cur, b * width(k, l));
        k->state[l - 1] = take(&cur, b * width(k, l - 1));
    }
    k->gamma = take(&cur, n_layers);
    k->e = take(&cur, b * c);
    k->cg = take(&cur, c * c);
    k->mat = take(&cur, c * c);
    k->eig = take(&cur, c);
    k->eig_work = take(&cur, pcmup__k_sym_eig_work(c, 0));
    k->upd = take(&cur, widest);
}

static pcmup_status reserve(eq_work *k, const pcmup_algo *pc, const char *func)
{
    int overflow = 0;
    size_t n = doubles_needed(k->net, k->batch, &overflow);
    k->ptrs = pcmup__alloc(&pc->alloc, 4 * k->n_layers, sizeof(double *));
    k->block = (k->ptrs && !overflow) ? pcmup__alloc(&pc->alloc, n, sizeof(double)) : NULL;
    if (!k->block) {
        pcmup__free(&pc->alloc, k->ptrs);
        return pcmup__fail(PCMUP_ERR_NOMEM, func,
                           "cannot allocate the scratch for batch %zu", k->batch);
    }
    carve(k);
    return PCMUP_OK;
}

static void release(eq_work *k, const pcmup_algo *pc)
{
    pcmup__free(&pc->alloc, k->block);
    pcmup__free(&pc->alloc, k->ptrs);
}

/* ---- the closed form ----------------------------------------------------- */

/* W_l = multiplier * w_l, and the precisions gamma_1..gamma_L. */
static void load_model(eq_work *k, const pcmup_algo *pc)
{
    for (size_t l = 1; l <= k->n_layers; l++) {
        const pcmup_layer *ly = &k->net->layers[l - 1];
        const size_t n = ly->n_out * ly->n_in;
        for (size_t i = 0; i < n; i++)
            k->w[l - 1][i] = (double)ly->multiplier * (double)ly->params[i];
        k->gamma[l - 1] = pcmup__setting_layer(pc, PCMUP_SET_PC_GAMMA_HIDDEN, l);
    }
    double gamma_out = 1.0;
    pcmup_pc_gamma_out(pc, &gamma_out); /* cannot fail: pc is PC */
    k->gamma[k->n_layers - 1] = gamma_out;
}

/* Wp_{L-1} = W_L, Wp_{l-1} = Wp_l W_l; then C_gamma, made exactly
 * symmetric (the GEMM's summation order may differ across the diagonal). */
static void products(eq_work *k)
{
    const size_t n_layers = k->n_layers, c = k->n_out;
    const double g_out = k->gamma[n_layers - 1];
    memcpy(k->wp[n_layers - 1], k->w[n_layers - 1], c * width(k, n_layers - 1) * sizeof(double));
    for (size_t l = n_layers - 1; l >= 1; l--)
        pcmup__k_dgemm(NULL, 'N', 'N', c, width(k, l - 1), width(k, l), 1.0, k->wp[l],
                       k->w[l - 1], 0.0, k->wp[l - 1]);
    memset(k->cg, 0, c * c * sizeof(double));
    for (size_t l = 1; l < n_layers; l++)
        pcmup__k_dgemm(NULL, 'N', 'T', c, c, width(k, l), g_out / k->gamma[l - 1], k->wp[l],
                       k->wp[l], 1.0, k->cg);
    for (size_t i = 0; i < c; i++)
        for (size_t j = i + 1; j < c; j++)
            k->cg[i * c + j] = k->cg[j * c + i] = 0.5 * (k->cg[i * c + j] + k->cg[j * c + i]);
}

/* S_0 = X and e = Y - X Wp_0^T, with the algorithm's MSE targets. */
static void output_error(eq_work *k, const pcmup_algo *pc, const float *x,
                         const int32_t *labels)
{
    const size_t c = k->n_out, d = width(k, 0), n = k->batch * d;
    for (size_t i = 0; i < n; i++)
        k->state[0][i] = x[i];
    const double offset = pc->settings[PCMUP_SET_MSE_CENTRED] != 0.0 ? 1.0 / (double)c : 0.0;
    for (size_t b = 0; b < k->batch; b++)
        for (size_t j = 0; j < c; j++)
            k->e[b * c + j] = (j == (size_t)labels[b] ? 1.0 : 0.0) - offset;
    pcmup__k_dgemm(NULL, 'N', 'T', k->batch, c, d, -1.0, k->state[0], k->wp[0], 1.0, k->e);
}

/* eps_L = e (I + C_gamma)^-1 and the energy gamma_L/(2B) sum_b e_b . eps_L,b. */
static pcmup_status solve_output(eq_work *k, double *energy, const char *func)
{
    const size_t c = k->n_out, n = k->batch * c;
    memcpy(k->mat, k->cg, c * c * sizeof(double));
    pcmup__k_add_diagonal(k->mat, c, 1.0);
    if (pcmup__k_chol(k->mat, c) != 0)
        return pcmup__fail(PCMUP_ERR_DIVERGED, func,
                           "I + C_gamma is not finite: the weights are too large");
    double *eps_out = k->eps[k->n_layers - 1];
    memcpy(eps_out, k->e, n * sizeof(double));
    pcmup__k_spd_solve_rows(k->mat, c, eps_out, k->batch);
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += k->e[i] * eps_out[i];
    *energy = 0.5 * k->gamma[k->n_layers - 1] * sum / (double)k->batch;
    if (!isfinite(*energy))
        return pcmup__fail(PCMUP_ERR_DIVERGED, func, "the equilibrium energy is not finite");
    return PCMUP_OK;
}

/* eps_l = (gamma_L / gamma_l) eps_L Wp_l and S_l = S_{l-1} W_l^T + eps_l. */
static void hidden_layers(eq_work *k)
{
    const size_t n_layers = k->n_layers, c = k->n_out;
    const double g_out = k->gamma[n_layers - 1];
    for (size_t l = 1; l < n_layers; l++) {
        const size_t m = width(k, l), n = k->batch * m;
        pcmup__k_dgemm(NULL, 'N', 'N', k->batch, m, c, g_out / k->gamma[l - 1],
                       k->eps[n_layers - 1], k->wp[l], 0.0, k->eps[l - 1]);
        memcpy(k->state[l], k->eps[l - 1], n * sizeof(double));
        pcmup__k_dgemm(NULL, 'N', 'T', k->batch, m, width(k, l - 1), 1.0, k->state[l - 1],
                       k->w[l - 1], 1.0, k->state[l]);
    }
}

/* ||C_gamma||_2, the largest |eigenvalue| (C_gamma is PSD). */
static pcmup_status spectral_norm(eq_work *k, double *norm, const char *func)
{
    const size_t c = k->n_out;
    memcpy(k->mat, k->cg, c * c * sizeof(double));
    if (pcmup__k_sym_eig(k->mat, c, k->eig, 0, k->eig_work) != 0)
        return pcmup__fail(PCMUP_ERR_DIVERGED, func,
                           "the eigenvalues of C_gamma did not converge");
    *norm = fmax(fabs(k->eig[0]), fabs(k->eig[c - 1]));
    return PCMUP_OK;
}

/* ---- outputs ------------------------------------------------------------- */

/* The change of W_l a converged PC step applies: pcmup__algo_descend moves
 * w_l by eta_l m (scale / B) eps_l^T S_{l-1} (one factor m = r^-a from the
 * chain rule through W = m w), so W_l moves by m^2 times that. scale is
 * gamma_l below the output, and s (1 or gamma_L) at it. */
static void write_update(const eq_work *k, const pcmup_algo *pc, size_t l, float *dst)
{
    const size_t n_layers = k->n_layers, m_out = width(k, l), m_in = width(k, l - 1);
    const double m = (double)k->net->layers[l - 1].multiplier;
    const int conv_b = pc->settings[PCMUP_SET_PC_LAST_LAYER] == PCMUP_PC_LAST_LAYER_B;
    double scale = l < n_layers ? k->gamma[l - 1] : (conv_b ? k->gamma[n_layers - 1] : 1.0);
    double eta_l = pc->settings[PCMUP_SET_LR] * k->net->lr_factor[l - 1];
    pcmup__k_dgemm(NULL, 'T', 'N', m_out, m_in, k->batch,
                   eta_l * m * m * scale / (double)k->batch, k->eps[l - 1], k->state[l - 1],
                   0.0, k->upd);
    pcmup__k_f64_to_f32(dst, k->upd, m_out * m_in);
}

static void write_outputs(const eq_work *k, const pcmup_algo *pc, float *const *eps,
                          float *const *states, float *const *updates, float *c_gamma)
{
    for (size_t l = 1; l <= k->n_layers; l++) {
        if (eps && eps[l - 1])
            pcmup__k_f64_to_f32(eps[l - 1], k->eps[l - 1], k->batch * width(k, l));
        if (states && l < k->n_layers && states[l - 1])
            pcmup__k_f64_to_f32(states[l - 1], k->state[l], k->batch * width(k, l));
        if (updates && updates[l - 1])
            write_update(k, pc, l, updates[l - 1]);
    }
    if (c_gamma)
        pcmup__k_f64_to_f32(c_gamma, k->cg, k->n_out * k->n_out);
}

static pcmup_status equilibrium(eq_work *k, const pcmup_algo *pc, const float *x,
                                const int32_t *labels, double *norm, double *energy,
                                const char *func)
{
    load_model(k, pc);
    products(k);
    output_error(k, pc, x, labels);
    PCMUP_TRY(solve_output(k, energy, func));
    hidden_layers(k);
    return spectral_norm(k, norm, func);
}

pcmup_status pcmup_pc_linear_equilibrium(const pcmup_algo *pc, const float *x, size_t x_count,
                                         const int32_t *labels, size_t batch,
                                         float *const *eps, size_t eps_count,
                                         float *const *states, size_t states_count,
                                         float *const *updates, size_t updates_count,
                                         float *c_gamma, size_t c_gamma_count,
                                         double *c_gamma_norm, double *energy)
{
    PCMUP_CHECK_NULL(pc);
    PCMUP_CHECK_NULL(x);
    PCMUP_CHECK_NULL(labels);
    PCMUP_TRY(check_model(pc, __func__));
    const pcmup_net *net = pc->net;
    /* Arrays of per-layer pointers hold L (eps, updates) or L - 1 (states)
     * pointers; the count of a NULL output is not looked at. */
    const size_t n_layers = net->n_layers, n_out = net->widths[n_layers];
    if (eps)
        PCMUP_TRY(pcmup__check_count(eps_count, n_layers, 1, "eps_count", __func__));
    if (states)
        PCMUP_TRY(pcmup__check_count(states_count, n_layers - 1, 1, "states_count", __func__));
    if (updates)
        PCMUP_TRY(pcmup__check_count(updates_count, n_layers, 1, "updates_count", __func__));
    if (c_gamma)
        PCMUP_TRY(pcmup__check_count(c_gamma_count, n_out, n_out, "c_gamma_count", __func__));
    PCMUP_TRY(pcmup__net_check_batch(net, x, x_count, batch, "x", __func__));
    PCMUP_TRY(pcmup__check_labels(labels, batch, n_out, __func__));
    eq_work k = {.net = net, .n_layers = n_layers, .batch = batch, .n_out = n_out};
    PCMUP_TRY(reserve(&k, pc, __func__));
    double norm = 0.0, f_star = 0.0;
    pcmup_status s = equilibrium(&k, pc, x, labels, &norm, &f_star, __func__);
    if (s == PCMUP_OK) {
        write_outputs(&k, pc, eps, states, updates, c_gamma);
        if (c_gamma_norm)
            *c_gamma_norm = norm;
        if (energy)
            *energy = f_star;
    }
    release(&k, pc);
    return s;
}
