/* SPDX-License-Identifier: MIT */
/*
 * test_fashion.c -- end to end on real data: BP, PC, GNT, TP and DTP under
 * their muP learn FashionMNIST (Debian's dataset-fashion-mnist package) far
 * above chance (10%). Skipped (exit status 77, TU_SKIPPED) when the
 * package is absent.
 *
 * Every run has the same budget: the first 4000 training images, 3 epochs
 * of batch 64, a 784 -> 256 -> 256 -> 10 tanh network, accuracy on the
 * first 2000 test images. A linear classifier reaches ~75% on
 * FashionMNIST; 65% is "clearly learned".
 *
 * Each rule runs with seeds 1, 2 and 3 and the test asserts the MEDIAN
 * accuracy (and that the median run lowered the test loss). One trajectory
 * is not a robust quantity: OpenBLAS picks its sgemm kernel by CPU
 * (Haswell, SkylakeX, Cooperlake, Sandybridge, ...), each kernel rounds
 * differently, and plain TP amplifies a last-bit difference into a
 * different run (3-epoch accuracy 0.57 to 0.72 over kernels and seeds; see
 * docs/tp.md). The median over three seeds moved by at most 0.02 across
 * five kernels. CMake runs this test under several kernels
 * (tests/run_kernel.sh).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>

/* One run: the rule, its muP preset (gammabar_L set first for PC), the
 * learning rate, and the settings beyond the defaults (up to three). */
typedef struct {
    const char *name;
    pcmup_rule kind;
    pcmup_preset preset;
    double gamma_bar;
    double lr;
    int n_settings;
    pcmup_setting keys[3];
    double values[3];
    double want;      /* accuracy it must beat */
} run_spec;

#define N_SEEDS 3

/* Test loss and accuracy of one rule's run with one seed, before and after. */
typedef struct {
    double loss0, loss, acc;
} run_result;

static run_result train_one(const run_spec *r, const pcmup_dataset *train,
                            const pcmup_dataset *test, uint64_t seed)
{
    const size_t widths[] = {784, 256, 256, 10};
    pcmup_param *p = tu_param(3, r->preset, r->gamma_bar);
    pcmup_net *net;
    TU_OK(pcmup_net_create(&net, widths, 4, PCMUP_ACT_TANH, 0, p, seed, NULL));
    pcmup_algo *algo;
    TU_OK(pcmup_algo_create(&algo, r->kind, net, seed, NULL));
    TU_OK(pcmup_algo_set(algo, PCMUP_SET_LR, r->lr));
    for (int i = 0; i < r->n_settings; i++)
        TU_OK(pcmup_algo_set(algo, r->keys[i], r->values[i]));
    run_result out;
    double acc0;
    TU_OK(pcmup_algo_evaluate(algo, test, &out.loss0, &acc0));
    for (int epoch = 0; epoch < 3; epoch++)
        TU_OK(pcmup_algo_train_epoch(algo, train, 64, NULL));
    TU_OK(pcmup_algo_evaluate(algo, test, &out.loss, &out.acc));
    printf("FashionMNIST %-28s eta %-5g seed %d: test loss %.4f -> %.4f, accuracy %.3f -> %.3f\n",
           r->name, r->lr, (int)seed, out.loss0, out.loss, acc0, out.acc);
    pcmup_algo_free(algo);
    pcmup_net_free(net);
    pcmup_param_free(p);
    return out;
}

static int by_accuracy(const void *a, const void *b)
{
    double x = ((const run_result *)a)->acc, y = ((const run_result *)b)->acc;
    return (x > y) - (x < y);
}

static void check_run(const run_spec *r)
{
    pcmup_dataset *train, *test;
    TU_OK(pcmup_dataset_load_fashion_mnist(&train, NULL, PCMUP_SPLIT_TRAIN, NULL));
    TU_OK(pcmup_dataset_load_fashion_mnist(&test, NULL, PCMUP_SPLIT_TEST, NULL));
    TU_OK(pcmup_dataset_truncate(train, 4000));
    TU_OK(pcmup_dataset_truncate(test, 2000));
    run_result runs_of_seeds[N_SEEDS];
    for (int i = 0; i < N_SEEDS; i++)
        runs_of_seeds[i] = train_one(r, train, test, (uint64_t)(i + 1));
    qsort(runs_of_seeds, N_SEEDS, sizeof runs_of_seeds[0], by_accuracy);
    const run_result *median = &runs_of_seeds[N_SEEDS / 2];
    ck_assert_msg(median->acc > r->want, "%s: median test accuracy %.3f over %d seeds",
                  r->name, median->acc, N_SEEDS);
    ck_assert_msg(median->loss < median->loss0, "%s: median run's test loss %.4f -> %.4f",
                  r->name, median->loss0, median->loss);
    pcmup_dataset_free(train);
    pcmup_dataset_free(test);
}

/* BP: eta = 0.02 (0.1 diverges: the input layer sees ||x||^2 ~ 100 for raw
 * pixels). PC in the paper's setting (single-shot sequential inference,
 * forward init, no FPA), gammabar_L 0 and -1: measured ~77% at 0.05. GNT
 * (e_B = 1, rho' = 1e-2, batch variant): eta 0.002 76%, 0.005 79%, 0.01
 * 80%, 0.02 73%, 0.05 diverges. TP and DTP (mu_l = mu' r), measured:
 *   DTP closed, defaults:      eta 0.02 68%, 0.05 73%, 0.1 75%, 0.2 43%
 *   DTP trained, defaults:     eta 0.02 66%, 0.05 69%, 0.1 diverges
 *   TP closed, mu_L = 1:       eta 0.02 46%, 0.05 52%, 0.1 45%
 *   TP closed, mu_L = 0.01:    eta 0.05 72%, 0.1 74%
 * Plain TP at eta 0.1 sits at the edge of its stable range: over seeds 1-3
 * and five OpenBLAS kernels its accuracy spread over 0.53 to 0.74 and the
 * median over seeds fell to 0.64. At eta 0.05 every run stayed within
 * 0.66 to 0.73 and the median within 0.70 to 0.72, so the test uses 0.05.
 * Plain TP's top hidden target is G_L(t_L): it carries the part of h_{L-1}
 * that the C = 10 outputs cannot reconstruct, and a top damping mu_L that
 * is large against B |f|^2 (~6 here) pulls G_L(f) toward 0, so TP wants a
 * small mu_L; DTP's difference correction removes that residual. */
static const run_spec runs[] = {
    {"BP muP", PCMUP_RULE_BP, PCMUP_PRESET_MUP_SGD, 0.0, 0.02, 0, {0}, {0}, 0.65},
    {"PC muP gammabar 0", PCMUP_RULE_PC, PCMUP_PRESET_MUP_PC, 0.0, 0.05, 0, {0}, {0}, 0.65},
    {"PC muP gammabar -1", PCMUP_RULE_PC, PCMUP_PRESET_MUP_PC, -1.0, 0.05, 0, {0}, {0}, 0.65},
    {"GNT muP", PCMUP_RULE_GNT, PCMUP_PRESET_MUP_GNT, 0.0, 0.01, 0, {0}, {0}, 0.65},
    {"DTP muP closed feedback", PCMUP_RULE_DTP, PCMUP_PRESET_MUP_TP, 0.0, 0.1, 0, {0}, {0}, 0.65},
    {"DTP muP trained feedback", PCMUP_RULE_DTP, PCMUP_PRESET_MUP_TP, 0.0, 0.05, 1,
     {PCMUP_SET_TP_FEEDBACK}, {PCMUP_TP_FEEDBACK_TRAINED}, 0.6},
    {"TP muP closed, mu_L 0.01", PCMUP_RULE_TP, PCMUP_PRESET_MUP_TP, 0.0, 0.05, 1,
     {PCMUP_SET_TP_FB_DAMPING_TOP}, {0.01}, 0.65},
};

START_TEST(rule_learns_fashion_mnist) { check_run(&runs[_i]); }
END_TEST

int main(void)
{
    if (!tu_have_fashion_mnist())
        return TU_SKIPPED;
    Suite *s = suite_create("fashion");
    TCase *tc = tcase_create("end_to_end");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, rule_learns_fashion_mnist, 0, (int)(sizeof runs / sizeof runs[0]));
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
