/* SPDX-License-Identifier: MIT */
/*
 * test_cnn_vectors.c -- the convolution and pooling layer maps against the
 * reference vectors' CNN cases (tests/data/vectors/README.md, "CNN cases").
 *
 * The network code does not know CNNs yet (issue 11); this test chains
 * the layer maps by hand, as the vectors README writes the forward pass
 * and BP, so that the maps' conventions (NCHW, cross-correlation, zero
 * padding, flatten order, the pooling tie rule) are pinned by the
 * independent double-precision reference before any rule uses them:
 *   - every CNN case: the loss at the initial weights is loss_before;
 *   - the two BP cases: one BP step reproduces W<l>_next.
 */
#include "testutil.h"

#include "layers/activation.h"
#include "layers/layer.h"
#include "layers/pool.h"
#include "loss.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define L 3 /* conv, conv, dense: every CNN case */

/* The case's network, built from the layer maps. */
typedef struct {
    tu_case *c;
    size_t batch;
    float *x;
    int32_t *labels;
    pcmup_activation act;
    int avg_pool;           /* else max pooling */
    pcmup_layer layers[L];
    float *params[L];
    float *workspace[L - 1];
    size_t chw[L + 1][3];   /* C, H, W of U_l (l = 1..L-1) and H_0 */
    size_t n_u[L + 1];      /* floats per sample of U_l */
    size_t n_h[L + 1];      /* floats per sample of H_l (after pooling) */
    float *u[L + 1], *phi[L + 1], *h[L + 1]; /* per layer, batch rows */
} cnn;

static cnn cnn_load(const char *name)
{
    cnn n;
    memset(&n, 0, sizeof n);
    n.c = tu_case_load(name);
    size_t count;
    n.x = tu_case_x(n.c, &n.batch, &count);
    n.labels = tu_case_i32(n.c, "labels", &count);
    n.act = tu_case_activation(n.c);
    n.avg_pool = strstr(tu_case_str(n.c, "pool_l"), "avg") != NULL;
    size_t c = (size_t)tu_case_list(n.c, "input_shape", 0);
    size_t hh = (size_t)tu_case_list(n.c, "input_shape", 1);
    size_t ww = (size_t)tu_case_list(n.c, "input_shape", 2);
    n.n_h[0] = c * hh * ww;
    for (size_t l = 1; l <= L; l++) {
        char file[8];
        snprintf(file, sizeof file, "W%zu", l);
        n.params[l - 1] = tu_case_f32(n.c, file, &count);
        size_t out = (size_t)tu_case_list(n.c, "channels", l);
        if (l < L) {
            size_t k = (size_t)tu_case_list(n.c, "kernel_l", l - 1);
            size_t p = (size_t)tu_case_list(n.c, "pad_l", l - 1);
            ck_assert_uint_eq(count, pcmup__conv_param_count(c, out, k, 0));
            pcmup_layer *ly = &n.layers[l - 1];
            pcmup__conv_init(ly, c, hh, ww, out, k, 1, p, 1.0f, 0, n.params[l - 1], NULL);
            n.workspace[l - 1] = malloc(pcmup__conv_workspace_floats(ly) * sizeof(float));
            ly->workspace = n.workspace[l - 1];
            /* "same" convolutions, then 2 x 2 pooling */
            n.n_u[l] = out * hh * ww;
            n.chw[l][0] = out, n.chw[l][1] = hh, n.chw[l][2] = ww;
            hh /= 2, ww /= 2, c = out;
            n.n_h[l] = c * hh * ww;
        } else {
            ck_assert_uint_eq(count, out * n.n_h[L - 1]);
            pcmup__dense_init(&n.layers[l - 1], n.n_h[L - 1], out, 1.0f, 0, n.params[l - 1]);
            n.n_u[l] = out;
        }
        ck_assert_uint_eq(n.layers[l - 1].n_out, n.n_u[l]);
        ck_assert_uint_eq(n.layers[l - 1].n_in, n.n_h[l - 1]);
        n.u[l] = malloc(n.batch * n.n_u[l] * sizeof(float));
        n.phi[l] = malloc(n.batch * n.n_u[l] * sizeof(float));
        n.h[l] = malloc(n.batch * n.n_u[l] * sizeof(float));
    }
    n.h[0] = n.x;
    return n;
}

static void cnn_free(cnn *n)
{
    for (size_t l = 1; l <= L; l++) {
        free(n->params[l - 1]);
        free(n->u[l]);
        free(n->phi[l]);
        free(n->h[l]);
        if (l < L)
            free(n->workspace[l - 1]);
    }
    free(n->x);
    free(n->labels);
    tu_case_free(n->c);
}

/* H_l = P(phi(U_l)) for l < L; F = U_L. */
static void cnn_forward(cnn *n)
{
    for (size_t l = 1; l <= L; l++) {
        const pcmup_layer *ly = &n->layers[l - 1];
        ly->ops->forward(ly, n->h[l - 1], n->batch, n->u[l]);
        if (l == L)
            break;
        pcmup__act_forward(n->act, n->u[l], n->phi[l], n->batch * n->n_u[l]);
        const size_t *g = n->chw[l];
        if (n->avg_pool)
            pcmup__avgpool2_forward(n->phi[l], n->batch, g[0], g[1], g[2], n->h[l]);
        else
            pcmup__maxpool2_forward(n->phi[l], n->batch, g[0], g[1], g[2], n->h[l]);
    }
}

static double cnn_loss(cnn *n, float *grad)
{
    pcmup_loss loss = strcmp(tu_case_str(n->c, "loss"), "ce") == 0 ? PCMUP_LOSS_CE
                                                                    : PCMUP_LOSS_MSE;
    size_t classes = n->n_u[L];
    return pcmup__loss_sum(loss, 1, n->u[L], n->labels, n->batch, classes, grad) /
           (double)n->batch;
}

static const char *const cases[] = {"cnn_bp_mup_mse", "cnn_bp_sp_ce", "cnn_pc_avgpool_relu",
                                    "cnn_pc_default", "cnn_pc_zero_T8_gbar_m1"};

START_TEST(loss_before_matches)
{
    cnn n = cnn_load(cases[_i]);
    cnn_forward(&n);
    double got = cnn_loss(&n, NULL), want = tu_case_num(n.c, "loss_before");
    printf("%s: loss %.9g, reference %.9g\n", cases[_i], got, want);
    ck_assert_double_eq_tol(got, want, 1e-5 * fabs(want));
    cnn_free(&n);
}
END_TEST

/* BP as the README writes it: Delta_L = dl/dF; Delta_l = J_l(U_l)^T
 * A_{l+1}^T(Delta_{l+1}); dW_l = -(eta_l / B) grad_l(Delta_l, H_{l-1}).
 * Every Delta is computed from the weights before the step. */
START_TEST(bp_step_matches)
{
    cnn n = cnn_load(cases[_i]);
    cnn_forward(&n);
    float *delta[L + 1];
    for (size_t l = 1; l <= L; l++)
        delta[l] = malloc(n.batch * n.n_u[l] * sizeof(float));
    float *pooled = malloc(n.batch * n.n_u[1] * sizeof(float));
    cnn_loss(&n, delta[L]);
    for (size_t l = L - 1; l >= 1; l--) {
        const pcmup_layer *up = &n.layers[l];
        up->ops->input_vjp(up, delta[l + 1], n.batch, pooled);
        const size_t *g = n.chw[l];
        if (n.avg_pool)
            pcmup__avgpool2_vjp(pooled, n.batch, g[0], g[1], g[2], delta[l]);
        else
            pcmup__maxpool2_vjp(n.phi[l], pooled, n.batch, g[0], g[1], g[2], delta[l]);
        pcmup__act_backward_from_post(n.act, n.phi[l], delta[l], n.batch * n.n_u[l]);
    }
    double worst = 0.0;
    for (size_t l = 1; l <= L; l++) {
        const pcmup_layer *ly = &n.layers[l - 1];
        const size_t count = ly->n_params;
        /* The update alone, into a zeroed buffer: free of W + dW's rounding. */
        float *dw = calloc(count, sizeof *dw);
        const double eta = tu_case_list(n.c, "eta_l", l - 1);
        ly->ops->param_grad(ly, delta[l], n.h[l - 1], n.batch, (float)(-eta / (double)n.batch),
                            0.0f, dw);
        double err = tu_case_change_error(n.c, 'W', l, dw, count);
        worst = err > worst ? err : worst;
        free(dw);
    }
    printf("%s: BP update error %.3g\n", cases[_i], worst);
    ck_assert_double_lt(worst, 1e-5);
    for (size_t l = 1; l <= L; l++)
        free(delta[l]);
    free(pooled);
    cnn_free(&n);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cnn_vectors");
    TCase *tc = tcase_create("maps");
    tcase_add_loop_test(tc, loss_before_matches, 0, (int)TU_COUNT(cases));
    tcase_add_loop_test(tc, bp_step_matches, 0, 2); /* the two cnn_bp_* cases */
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
