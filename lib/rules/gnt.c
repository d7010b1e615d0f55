/* SPDX-License-Identifier: MIT */
/*
 * gnt.c -- the Gauss-Newton target: SGD preconditioned, layer by layer,
 * by the damped Gauss-Newton matrix in pre-activation space (the paper's
 * Proposition 3.3, section 3; docs/gnt.md; conventions pinned by
 * tests/data/vectors/gnt_*).
 *
 *   W_l -= eta_l P_l^(-e_B) g_l,
 *   P_l  = (1/B) sum_b J_l[b]^T K_b J_l[b] + rho_l I      (M_l x M_l)
 *
 * J_l[b] = df_b/du_{l,b} (C x M_l), K_b the loss Hessian in f, g_l the BP
 * gradient. g_l = (1/B) Delta_l^T H_{l-1} with Delta_l the (B x M_l) BP
 * signals, so the update is the shared descent step with the signal
 * Y_l = Delta_l P_l^(-e_B) in place of Delta_l.
 *
 * Jacobians. Factor K_b = R_b R_b^T (R_b = I for MSE; for cross-entropy
 * row j of R_b^T is sqrt(p_j) (e_j - p)^T, since diag(p) - p p^T =
 * (I - p 1^T) diag(p) (I - 1 p^T)). Then P_l = A_l^T A_l / B + rho_l I with
 * A_l the (B C x M_l) stack of R_b^T J_l[b]. Row j of R_b^T J_l[b] is the
 * backward signal of the output direction row j of R_b^T, so A_l comes
 * from the ordinary backward pass run on B C extra rows: the output rows
 * R_b^T, then per layer the input-VJP and the activation derivative of
 * sample b. The B rows of Delta ride along in the same GEMMs.
 *
 * Solving: by the push-through identity f(A^T A) A^T = A^T f(A A^T), with
 * G = A A^T / B (the B C x B C Gram matrix of the Jacobians). Under MSE,
 * delta_b = J_l[b]^T g_b is itself a combination of A's rows, Delta = T A,
 * so Y = T (G + rho)^-e A exactly. Under cross-entropy, with
 * G = U diag(s) U^T,
 *
 *   Y = rho^-e Delta + (1/B) (Delta A^T) U diag(w(s)) U^T A,
 *   w(s) = ((s + rho)^-e - rho^-e) / s,
 *
 * which for e = 1 is Woodbury's (Delta - (1/B) Delta A^T (G + rho)^-1 A) / rho.
 * e = 1 is a Cholesky solve, a fractional e an eigendecomposition. Each
 * layer works on the smaller side: the Gram matrix when B C < M_l,
 * otherwise P_l itself (M_l x M_l; always so at the output layer,
 * M_L = C). The sample variant does the same per sample with C x C Gram
 * matrices. Big products are float GEMMs; the small dense problems are
 * solved in double.
 *
 * Every layer's Y_l is computed before any weight moves (all from the
 * weights of the forward pass), so a step that fails -- a matrix that is
 * not positive definite, an update that overflows -- leaves the network
 * as it was.
 */
#include "algo.h"

#include "kernel/kernel.h"
#include "layers/activation.h"
#include "param.h"

#include <math.h>
#include <string.h>

/* ---- sizes --------------------------------------------------------------- */

static size_t n_classes(const pcmup_net *net)
{
    return net->widths[net->n_layers];
}

/* The order of the dense problem of layer l for a batch (0: no problem);
 * under a reducer, for the global batch: every worker solves the same. */
static size_t system_order(const pcmup_algo *algo, size_t l, size_t batch)
{
    const pcmup_net *net = algo->net;
    const size_t c = n_classes(net), m = net->widths[l];
    if (algo->settings[PCMUP_SET_GNT_POWER] == 0.0)
        return 0;
    if (l == net->n_layers && algo->settings[PCMUP_SET_GNT_OUTPUT] == 0.0)
        return 0;
    if (algo->settings[PCMUP_SET_GNT_VARIANT] == PCMUP_GNT_SAMPLE)
        return c;
    return batch * c < m ? batch * c : m;
}

/* Saturating arithmetic for scratch sizes: SIZE_MAX makes the allocation
 * fail cleanly. */
static size_t sat_mul(size_t a, size_t b)
{
    int overflow = 0;
    size_t p = pcmup__mul(a, b, &overflow);
    return overflow ? SIZE_MAX : p;
}

static size_t sat_add(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

/* Float scratch: two (B + B C) x max-width signal stacks, every layer's Y_l,
 * an n x n float Gram matrix, B x n push-through coefficients (n bounds
 * every layer's system order) and the B x C output gradients. */
static size_t gnt_scratch_floats(const pcmup_net *net, size_t batch)
{
    const size_t c = n_classes(net), max_w = pcmup__net_max_width(net);
    const size_t rows = sat_mul(batch, sat_add(c, 1));
    const size_t bc = sat_mul(batch, c);
    const size_t n = bc < max_w ? bc : max_w;
    size_t sum_w = 0;
    for (size_t l = 1; l <= net->n_layers; l++)
        sum_w += net->widths[l];
    size_t total = sat_mul(2, sat_mul(rows, max_w));
    total = sat_add(total, sat_mul(batch, sum_w));
    total = sat_add(total, sat_mul(n, n));
    total = sat_add(total, sat_mul(batch, n));
    total = sat_add(total, bc);
    return total;
}

/* Doubles one layer's problem of order n needs: the matrix, its
 * eigenvalues, two B x n (batch) or n (sample) right-hand sides, and the
 * eigensolver's workspace for a fractional power. */
static size_t layer_doubles(size_t n, size_t batch, int sample, int fractional)
{
    if (n == 0)
        return 0;
    size_t rhs = sample ? n : sat_mul(batch, n);
    size_t total = sat_add(sat_add(sat_mul(n, n), n), sat_mul(2, rhs));
    if (fractional) {
        size_t eig = pcmup__k_sym_eig_work(n, 1);
        total = eig ? sat_add(total, eig) : SIZE_MAX;
    }
    return total;
}

/* ---- the rule's state ---------------------------------------------------- */

/* GNT's state (algo->state): the step's buffers, nothing that persists. */
typedef struct {
    float *scratch;     /* gnt_scratch_floats(net, batch_cap) floats */
    size_t scratch_cap;
    size_t batch_cap;   /* the batch the scratch is carved for */
    int gathered;       /* the scratch ends with room for gathered rows */
    double *work;       /* the dense problems, work_cap doubles */
    size_t work_cap;
} gnt_state;

static gnt_state *gnt_of(const pcmup_algo *algo)
{
    return algo->state;
}

/* ---- the step's buffers -------------------------------------------------- */

typedef struct {
    pcmup_algo *algo;
    const pcmup_net *net;
    size_t batch, c, n_layers;
    double power;
    int sample;       /* PCMUP_GNT_SAMPLE */
    float *stack[2];  /* rows [0, B): Delta_l; row B + b C + j: row j of R_b^T J_l[b] */
    float *upd;       /* Y_l of every layer, B x M_l each, layer 1 first */
    float *fmat;      /* n x n float Gram matrix */
    float *coef;      /* B x n push-through coefficients (or C for a sample) */
    float *grad;      /* B x C: dl/df of every sample */
    double *work;
    /* Under a reducer: the global batch, this worker's first sample in
     * it, and room for the whole batch's Jacobian rows (the Gram side
     * gathers them); batch, 0 and NULL otherwise. */
    size_t global, offset;
    float *gathered;
} gnt_run;

static gnt_run make_run(pcmup_algo *algo, size_t batch)
{
    const pcmup_net *net = algo->net;
    gnt_run r;
    memset(&r, 0, sizeof r);
    r.algo = algo;
    r.net = net;
    r.batch = batch;
    r.c = n_classes(net);
    r.n_layers = net->n_layers;
    r.power = algo->settings[PCMUP_SET_GNT_POWER];
    r.sample = algo->settings[PCMUP_SET_GNT_VARIANT] == PCMUP_GNT_SAMPLE;
    /* Carved for batch_cap, the size the scratch was reserved for. */
    const gnt_state *st = gnt_of(algo);
    const size_t cap = st->batch_cap, max_w = pcmup__net_max_width(net);
    const size_t bc = cap * r.c, n = bc < max_w ? bc : max_w;
    float *p = st->scratch;
    r.stack[0] = p, p += cap * (r.c + 1) * max_w;
    r.stack[1] = p, p += cap * (r.c + 1) * max_w;
    r.upd = p;
    for (size_t l = 1; l <= net->n_layers; l++)
        p += cap * net->widths[l];
    r.fmat = p, p += n * n;
    r.coef = p, p += cap * n;
    r.grad = p, p += cap * r.c;
    r.work = st->work;
    r.global = algo->global_batch;
    r.offset = algo->batch_offset;
    r.gathered = algo->has_reducer ? p : NULL;
    return r;
}

static float *layer_update(const gnt_run *r, size_t l)
{
    float *y = r->upd;
    for (size_t k = 1; k < l; k++)
        y += r->batch * r->net->widths[k];
    return y;
}

/* ---- damping ------------------------------------------------------------- */

/* rho_l = rho' times the parameterization's factor: r^-(2 b_L - 1) for
 * l < L and 1 at the output, with r = M_{L-1} / M_base (Proposition 3.3:
 * rho' M_base / M under muP). */
static double damping(const pcmup_algo *algo, size_t l)
{
    const pcmup_net *net = algo->net;
    return algo->settings[PCMUP_SET_GNT_DAMPING]
           * pcmup__param_factor(net->param, net->scale_widths, l, PCMUP_FACTOR_GNT_DAMPING);
}

/* ---- Jacobian rows ------------------------------------------------------- */

/* The output rows of A: R_b^T per sample (C x C), after the B rows of
 * dl/df. MSE: R_b = I. Cross-entropy: row j is sqrt(p_j) (e_j - p)^T with
 * p the softmax of f_b, computed in double. */
static void seed_output_rows(const gnt_run *r, const float *f, float *rows)
{
    const size_t c = r->c;
    const int ce = r->algo->settings[PCMUP_SET_LOSS] == PCMUP_LOSS_CE;
    double *p = r->work; /* C doubles: every layer's workspace holds them */
    for (size_t b = 0; b < r->batch; b++) {
        float *rb = rows + b * c * c;
        if (!ce) {
            memset(rb, 0, c * c * sizeof *rb);
            for (size_t j = 0; j < c; j++)
                rb[j * c + j] = 1.0f;
            continue;
        }
        const float *fb = f + b * c;
        double fmax = fb[0], z = 0.0;
        for (size_t j = 1; j < c; j++)
            fmax = fb[j] > fmax ? fb[j] : fmax;
        for (size_t j = 0; j < c; j++)
            z += p[j] = exp((double)fb[j] - fmax);
        for (size_t j = 0; j < c; j++)
            p[j] /= z;
        for (size_t j = 0; j < c; j++) {
            const double s = sqrt(p[j]);
            for (size_t k = 0; k < c; k++)
                rb[j * c + k] = (float)(s * ((j == k ? 1.0 : 0.0) - p[k]));
        }
    }
}

/* Carries every row of the stack from layer l to layer l-1: the input-VJP
 * of layer l (one GEMM on B (C + 1) rows), then phi' of the row's sample. */
static void backward(const gnt_run *r, size_t l, const float *cur, float *below)
{
    const pcmup_net *net = r->net;
    const pcmup_layer *ly = &net->layers[l - 1];
    const size_t m_in = net->widths[l - 1], batch = r->batch;
    const float *h = r->algo->acts[l - 2];
    ly->ops->input_vjp(ly, cur, batch * (r->c + 1), below);
    pcmup__act_backward_from_post(net->activation, h, below, batch * m_in);
    float *jac = below + batch * m_in;
    for (size_t b = 0; b < batch; b++)
        for (size_t j = 0; j < r->c; j++)
            pcmup__act_backward_from_post(net->activation, h + b * m_in,
                                          jac + (b * r->c + j) * m_in, m_in);
}

/* ---- the dense problems -------------------------------------------------- */

/* ((s + rho)^-e - rho^-e) / s for an eigenvalue s >= 0 of a Gram matrix,
 * without the cancellation of the difference when s << rho:
 * rho^(-e-1) expm1(-e log1p(x)) / x with x = s / rho, -e rho^(-e-1) at 0. */
static double push_weight(double s, double rho, double e)
{
    const double x = s > 0.0 ? s / rho : 0.0;
    const double scale = pow(rho, -e) / rho;
    return x > 0.0 ? scale * expm1(-e * log1p(x)) / x : -e * scale;
}

/* How a function of the symmetric S (eigenvalues s >= 0) is applied. */
typedef enum {
    APPLY_POWER, /* (S + rho)^-e                          */
    APPLY_PUSH   /* push_weight(S): the Woodbury remainder */
} apply_kind;

/* rhs (k x n) <- rhs f(S) for the S in mat's lower triangle: eigenvectors
 * U (rows of mat after the solver), then ((rhs U) diag(f(s))) U^T. e = 1
 * with APPLY_POWER is a Cholesky solve instead (no eigensolver). `tmp`
 * holds k x n doubles, followed by the eigensolver's workspace. */
static int apply_function(const gnt_run *r, double *mat, size_t n, double *rhs, size_t k,
                          double *tmp, double rho, apply_kind kind)
{
    if (kind == APPLY_POWER && r->power == 1.0) {
        pcmup__k_add_diagonal(mat, n, rho);
        if (pcmup__k_chol_log(r->algo->gemm_log, mat, n) != 0)
            return -1;
        pcmup__k_spd_solve(r->algo->gemm_log, 'R', mat, n, rhs, k);
        return 0;
    }
    if (kind == APPLY_PUSH && r->power == 1.0) {
        /* w(s) = -1 / (rho (s + rho)): the same Cholesky solve. */
        pcmup__k_add_diagonal(mat, n, rho);
        if (pcmup__k_chol_log(r->algo->gemm_log, mat, n) != 0)
            return -1;
        pcmup__k_spd_solve(r->algo->gemm_log, 'R', mat, n, rhs, k);
        pcmup__k_dscal(k * n, -1.0 / rho, rhs);
        return 0;
    }
    double *w = mat + n * n, *eig_work = tmp + k * n;
    if (pcmup__k_sym_eig(mat, n, w, 1, eig_work) != 0)
        return -1;
    pcmup__k_dgemm(r->algo->gemm_log, 'N', 'T', k, n, n, 1.0, rhs, mat, 0.0, tmp);
    for (size_t j = 0; j < n; j++) {
        const double s = w[j] > 0.0 ? w[j] : 0.0; /* rounding below 0 */
        const double f = kind == APPLY_PUSH ? push_weight(s, rho, r->power)
                                            : pow(s + rho, -r->power);
        for (size_t i = 0; i < k; i++)
            tmp[i * n + j] *= f;
    }
    pcmup__k_dgemm(r->algo->gemm_log, 'N', 'N', k, n, n, 1.0, tmp, mat, 0.0, rhs);
    return 0;
}

/* Batch variant, P_l's own side (n = M_l <= B C): Y = Delta P^-e. Under a
 * reducer A^T A / B is summed over the workers (1/B of the global batch),
 * and Delta has this worker's rows. */
static int solve_direct(const gnt_run *r, const float *delta, const float *a, size_t m,
                        double rho, float *y)
{
    const size_t batch = r->batch, rows = batch * r->c;
    double *mat = r->work, *rhs = mat + m * m + m, *tmp = rhs + batch * m;
    pcmup__k_ssyrk_lower(r->algo->gemm_log, 'T', m, rows, 1.0f / (float)r->global, a, r->fmat);
    if (r->algo->has_reducer) {
        /* Only the lower triangle is set: zero the rest, then sum. */
        for (size_t i = 0; i < m; i++)
            memset(r->fmat + i * m + i + 1, 0, (m - i - 1) * sizeof *r->fmat);
        pcmup__par_sum_f(r->algo, r->fmat, m * m);
    }
    pcmup__k_f32_to_f64_lower(mat, r->fmat, m);
    pcmup__k_f32_to_f64(rhs, delta, batch * m);
    if (apply_function(r, mat, m, rhs, batch, tmp, rho, APPLY_POWER) != 0)
        return -1;
    pcmup__k_f64_to_f32(y, rhs, batch * m);
    return 0;
}

/* Batch variant through the (B C x B C) Gram matrix G = A A^T / B.
 *
 * MSE: K_b = I makes delta_b = J_l[b]^T g_b a combination of A's rows,
 * Delta = T A with row b of T holding g_b = dl/df_b in block b. Then
 * Y = T A P^-e = T (G + rho)^-e A exactly, with no cancellation.
 *
 * Cross-entropy: g_b lies in the range of K_b, but representing it through
 * R_b needs 1/sqrt(p_k), unbounded as p_k -> 0; use the general
 * push-through form instead, Y = rho^-e Delta + (1/B) V U w(S) U^T A with
 * V = Delta A^T, whose two terms cancel to relative float rounding times
 * ||G|| / rho. */
static int solve_gram(const gnt_run *r, const float *delta, const float *a, size_t m,
                      double rho, float *y)
{
    const size_t batch = r->batch, c = r->c, n = r->global * c;
    const int mse = r->algo->settings[PCMUP_SET_LOSS] == PCMUP_LOSS_MSE;
    double *mat = r->work, *rhs = mat + n * n + n, *tmp = rhs + batch * n;
    if (r->gathered) {
        /* Under a reducer G is the whole batch's (B C x B C): every worker
         * gathers A, solves the same system and keeps its own rows. */
        pcmup__par_gather_f(r->algo, a, batch * c * m, r->gathered, n * m);
        a = r->gathered;
    }
    pcmup__k_ssyrk_lower(r->algo->gemm_log, 'N', n, m, 1.0f / (float)r->global, a, r->fmat);
    pcmup__k_f32_to_f64_lower(mat, r->fmat, n);
    double c0 = 0.0;
    if (mse) {
        memset(rhs, 0, batch * n * sizeof *rhs);
        for (size_t b = 0; b < batch; b++)
            pcmup__k_f32_to_f64(rhs + b * n + (r->offset + b) * c, r->grad + b * c, c);
        if (apply_function(r, mat, n, rhs, batch, tmp, rho, APPLY_POWER) != 0)
            return -1;
    } else {
        pcmup__k_sgemm(r->algo->gemm_log, 'N', 'T', batch, n, m, 1.0f, delta, a, 0.0f, r->coef);
        pcmup__k_f32_to_f64(rhs, r->coef, batch * n);
        if (apply_function(r, mat, n, rhs, batch, tmp, rho, APPLY_PUSH) != 0)
            return -1;
        pcmup__k_dscal(batch * n, 1.0 / (double)r->global, rhs);
        c0 = pow(rho, -r->power);
    }
    pcmup__k_f64_to_f32(r->coef, rhs, batch * n);
    for (size_t i = 0; i < batch * m; i++)
        y[i] = (float)(c0 * delta[i]);
    pcmup__k_sgemm(r->algo->gemm_log, 'N', 'N', batch, m, n, 1.0f, r->coef, a, 1.0f, y);
    return 0;
}

/* Per-sample variant: y_b = (A_b^T A_b + rho)^-e delta_b for each sample,
 * through its C x C Gram matrix A_b A_b^T (no 1/B): for MSE
 * y_b = A_b^T (A_b A_b^T + rho)^-e g_b, for cross-entropy the general
 * push-through form (see solve_gram). */
static int solve_samples(const gnt_run *r, const float *delta, const float *a, size_t m,
                         double rho, float *y)
{
    const size_t c = r->c;
    const int mse = r->algo->settings[PCMUP_SET_LOSS] == PCMUP_LOSS_MSE;
    double *mat = r->work, *rhs = mat + c * c + c, *tmp = rhs + c;
    const double c0 = mse ? 0.0 : pow(rho, -r->power);
    for (size_t b = 0; b < r->batch; b++) {
        const float *ab = a + b * c * m, *db = delta + b * m;
        float *yb = y + b * m;
        pcmup__k_ssyrk_lower(r->algo->gemm_log, 'N', c, m, 1.0f, ab, r->fmat);
        pcmup__k_f32_to_f64_lower(mat, r->fmat, c);
        if (mse) {
            pcmup__k_f32_to_f64(rhs, r->grad + b * c, c);
        } else {
            /* v = A_b delta_b (C). */
            pcmup__k_sgemv('N', c, m, 1.0f, ab, db, 0.0f, r->coef);
            pcmup__k_f32_to_f64(rhs, r->coef, c);
        }
        if (apply_function(r, mat, c, rhs, 1, tmp, rho, mse ? APPLY_POWER : APPLY_PUSH) != 0)
            return -1;
        pcmup__k_f64_to_f32(r->coef, rhs, c);
        for (size_t i = 0; i < m; i++)
            yb[i] = (float)(c0 * db[i]);
        /* y_b += A_b^T z. */
        pcmup__k_sgemv('T', c, m, 1.0f, ab, r->coef, 1.0f, yb);
    }
    return 0;
}

/* Y_l from layer l's rows of the stack. */
static int precondition(const gnt_run *r, size_t l, const float *stack, float *y)
{
    const size_t m = r->net->widths[l], batch = r->batch;
    const float *delta = stack, *a = stack + batch * m;
    if (system_order(r->algo, l, r->global) == 0) {
        memcpy(y, delta, batch * m * sizeof *y);
        return 0;
    }
    const double rho = damping(r->algo, l);
    if (r->sample)
        return solve_samples(r, delta, a, m, rho, y);
    if (r->global * r->c < m)
        return solve_gram(r, delta, a, m, rho, y);
    return solve_direct(r, delta, a, m, rho, y);
}

static int all_finite(const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

/* ---- the step ------------------------------------------------------------ */

static pcmup_status gnt_step(pcmup_algo *algo, const float *x, const int32_t *labels,
                             size_t batch, double *loss_out, const char *func)
{
    /* e_B = 0: no preconditioner at all, exactly BP's step. */
    if (algo->settings[PCMUP_SET_GNT_POWER] == 0.0) {
        const pcmup_rule_ops *bp = NULL;
        PCMUP_TRY(pcmup__algo_rule_of(PCMUP_RULE_BP, &bp, func));
        return bp->step(algo, x, labels, batch, loss_out, func);
    }
    pcmup_net *net = algo->net;
    gnt_run r = make_run(algo, batch);
    pcmup__net_forward_all(net, x, batch, algo->acts, algo->phis);
    float *cur = r.stack[0], *below = r.stack[1];
    double loss = pcmup__algo_loss_grad(algo, labels, batch, cur);
    if (!isfinite(loss))
        return pcmup__fail(PCMUP_ERR_DIVERGED, func,
                           "the loss is %g before the step; weights left unchanged", loss);
    memcpy(r.grad, cur, batch * r.c * sizeof *r.grad);
    seed_output_rows(&r, algo->acts[r.n_layers - 1], cur + batch * r.c);
    for (size_t l = r.n_layers; l >= 1; l--) {
        if (l > 1)
            backward(&r, l, cur, below);
        float *y = layer_update(&r, l);
        if (precondition(&r, l, cur, y) != 0)
            return pcmup__fail(PCMUP_ERR_DIVERGED, func,
                               "layer %zu: the Gauss-Newton system could not be solved "
                               "(not finite or not positive definite); weights left unchanged",
                               l);
        if (!all_finite(y, batch * net->widths[l]))
            return pcmup__fail(PCMUP_ERR_DIVERGED, func,
                               "layer %zu: the preconditioned update is not finite; weights "
                               "left unchanged",
                               l);
        float *t = cur;
        cur = below;
        below = t;
    }
    for (size_t l = 1; l <= r.n_layers; l++)
        pcmup__algo_descend(algo, l, layer_update(&r, l), l > 1 ? algo->acts[l - 2] : x, batch);
    if (loss_out)
        *loss_out = loss;
    return PCMUP_OK;
}

static pcmup_status gnt_create(pcmup_algo *algo, void **state, const char *func)
{
    *state = pcmup__alloc_zero(&algo->alloc, 1, sizeof(gnt_state));
    if (!*state)
        return pcmup__fail(PCMUP_ERR_NOMEM, func, "cannot allocate the Gauss-Newton state");
    return PCMUP_OK;
}

static void gnt_free(pcmup_algo *algo, void *state)
{
    gnt_state *st = state;
    pcmup__free(&algo->alloc, st->scratch);
    pcmup__free(&algo->alloc, st->work);
    pcmup__free(&algo->alloc, st);
}

/* The float scratch for `batch`, and the double workspace for the largest
 * layer problem at the reserved batch and the current settings (a
 * fractional power needs the eigensolver's). e_B = 0 is BP's step, which
 * needs none of it. */
static pcmup_status gnt_reserve(pcmup_algo *algo, size_t batch, const char *func)
{
    const pcmup_net *net = algo->net;
    gnt_state *st = gnt_of(algo);
    const double power = algo->settings[PCMUP_SET_GNT_POWER];
    if (power == 0.0)
        return PCMUP_OK;
    /* Under a reducer: buffers for the global batch, and the Gram side
     * (B C < M_l) gathers the Jacobian rows. */
    batch = pcmup__par_reserve_batch(algo, batch);
    const int sample = algo->settings[PCMUP_SET_GNT_VARIANT] == PCMUP_GNT_SAMPLE;
    for (size_t l = 1; !sample && l <= net->n_layers; l++)
        if (system_order(algo, l, batch) && batch * n_classes(net) < net->widths[l])
            PCMUP_TRY(pcmup__par_need_gather(algo, "Jacobian rows (the batch Gram matrix)",
                                             func));
    if (batch > PCMUP_MAX_DIM / (n_classes(net) + 1))
        return pcmup__fail(PCMUP_ERR_INVALID, func,
                           "batch %zu times %zu outputs + 1 exceeds the BLAS dimension limit",
                           batch, n_classes(net));
    /* The gathered Jacobian rows: B C x max width more under a reducer. */
    const size_t gathered = algo->has_reducer
                                ? sat_mul(sat_mul(batch, n_classes(net)), pcmup__net_max_width(net))
                                : 0;
    if (batch > st->batch_cap || (gathered && !st->gathered)) {
        PCMUP_TRY(pcmup__grow(&algo->alloc, (void **)&st->scratch, &st->scratch_cap,
                              sat_add(gnt_scratch_floats(net, batch), gathered),
                              sizeof(float), "the Gauss-Newton buffers", func));
        st->batch_cap = batch;
        st->gathered = gathered != 0;
    }
    batch = st->batch_cap;
    size_t need = n_classes(net); /* seed_output_rows' softmax */
    for (size_t l = 1; l <= net->n_layers; l++) {
        size_t d = layer_doubles(system_order(algo, l, batch), batch, sample, power != 1.0);
        need = d > need ? d : need;
    }
    if (need == SIZE_MAX)
        return pcmup__fail(PCMUP_ERR_NOMEM, func,
                           "the Gauss-Newton systems for batch %zu are too large", batch);
    return pcmup__grow(&algo->alloc, (void **)&st->work, &st->work_cap, need, sizeof(double),
                       "the Gauss-Newton workspace", func);
}

/* ---- settings ------------------------------------------------------------ */

static const char *const gnt_variant_names[] = {
    [PCMUP_GNT_BATCH] = "batch", [PCMUP_GNT_SAMPLE] = "sample",
};

_Static_assert(PCMUP_GROUP_GNT + 100 <= PCMUP_SETTINGS_CAP,
               "algo->settings has no room for GNT's");

/* GNT's settings (pcmup.h, section 7), in increasing key order. */
static const pcmup_setting_row gnt_settings[] = {
    {PCMUP_SET_GNT_POWER, "gnt_power", "power e_B of the preconditioner: 0 is SGD, 1 is GNT",
     PCMUP_GROUP_GNT, 1.0, 0.0, 1.0, 0, 0, {NULL, 0}},
    /* rho' = 1e-2: the middle of the grid {1e-3, 1e-2, 1e-1} docs/gnt.md
     * sweeps. */
    {PCMUP_SET_GNT_DAMPING, "gnt_damping", "damping rho' at the base width", PCMUP_GROUP_GNT,
     1e-2, 0.0, 1e6, PCMUP_LO_OPEN, 0, {NULL, 0}},
    {PCMUP_SET_GNT_VARIANT, "gnt_variant",
     "one Gauss-Newton matrix per batch, or one per sample (Gauss-Newton targets)",
     PCMUP_GROUP_GNT, PCMUP_GNT_BATCH, 0, 0, 0, 0, PCMUP_VALUES(gnt_variant_names)},
    {PCMUP_SET_GNT_OUTPUT, "gnt_output",
     "precondition the output layer too (1), or give it the plain gradient step (0)", PCMUP_GROUP_GNT,
     1.0, 0.0, 1.0, 0, PCMUP_WHOLE, {NULL, 0}},
};

const pcmup_rule_ops pcmup__rule_gnt = {
    .id = PCMUP_RULE_GNT,
    .name = "gnt",
    .data_parallel = 1,
    .dense_only = 1,
    .create_state = gnt_create,
    .free_state = gnt_free,
    .reserve = gnt_reserve,
    .step = gnt_step,
    .settings = gnt_settings,
    .n_settings = sizeof gnt_settings / sizeof gnt_settings[0],
};

/* ---- diagnostics --------------------------------------------------------- */

static pcmup_status check_gnt(const pcmup_algo *algo, size_t count, const char *func)
{
    if (algo->rule->id != PCMUP_RULE_GNT)
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, func, "%s is not the Gauss-Newton target",
                           algo->rule->name);
    if (count != algo->net->n_layers)
        return pcmup__fail(PCMUP_ERR_SHAPE, func, "count %zu does not match %zu layers", count,
                           algo->net->n_layers);
    return PCMUP_OK;
}

pcmup_status pcmup_gnt_damping(const pcmup_algo *gnt, double *dst, size_t count)
{
    PCMUP_CHECK_NULL(gnt);
    PCMUP_CHECK_NULL(dst);
    PCMUP_TRY(check_gnt(gnt, count, __func__));
    for (size_t l = 1; l <= count; l++)
        dst[l - 1] = damping(gnt, l);
    return PCMUP_OK;
}

pcmup_status pcmup_gnt_system_size(const pcmup_algo *gnt, size_t batch, size_t *dst,
                                   size_t count)
{
    PCMUP_CHECK_NULL(gnt);
    PCMUP_CHECK_NULL(dst);
    PCMUP_TRY(check_gnt(gnt, count, __func__));
    if (batch < 1 || batch > PCMUP_MAX_DIM)
        return pcmup__fail(PCMUP_ERR_INVALID, __func__, "batch %zu is outside [1, %zu]", batch,
                           PCMUP_MAX_DIM);
    for (size_t l = 1; l <= count; l++)
        dst[l - 1] = system_order(gnt, l, batch);
    return PCMUP_OK;
}
