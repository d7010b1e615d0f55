/* SPDX-License-Identifier: MIT */
/*
 * make_checkpoint_seeds.c -- writes the seeds of the checkpoint fuzz
 * target (corpus/checkpoint/seed-*) with the library's own save: small
 * networks and algorithms of every kind of content (an MLP, a CNN,
 * momentum, TP's trained feedback, per-layer settings). Not built by
 * default; from the repository root, with a build in build/:
 *
 *   cc -Iinclude tests/fuzz/make_checkpoint_seeds.c -Lbuild -lpcmup \
 *      -Wl,-rpath,$PWD/build -o /tmp/seeds && /tmp/seeds tests/fuzz/corpus/checkpoint
 */
#include <stdio.h>

#include "pcmup.h"

#define OK(expr)                                                               \
    do {                                                                       \
        if ((expr) != PCMUP_OK) {                                              \
            fprintf(stderr, "%s: %s\n", #expr, pcmup_last_error());            \
            return 1;                                                          \
        }                                                                      \
    } while (0)

static int save(const char *dir, const char *name, pcmup_net *net, pcmup_algo *algo)
{
    char path[512];
    snprintf(path, sizeof path, "%s/seed-%s", dir, name);
    OK(algo ? pcmup_algo_save(algo, path, NULL, 0) : pcmup_net_save(net, path, NULL, 0));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    static const size_t widths[] = {3, 4, 2};
    float x[2 * 3] = {0.1f, -0.2f, 0.3f, 0.5f, 0.4f, -0.1f};
    int32_t labels[2] = {0, 1};
    pcmup_param *param;
    pcmup_net *net;
    pcmup_algo *algo;

    OK(pcmup_param_create(&param, 2, PCMUP_PRESET_MUP_TP, NULL));
    OK(pcmup_net_create(&net, widths, 3, PCMUP_ACT_TANH, PCMUP_NET_BIAS, param, 1, NULL));
    if (save(dir, "net-mlp", net, NULL))
        return 1;
    OK(pcmup_algo_create(&algo, PCMUP_RULE_TP, net, 1, NULL));
    OK(pcmup_algo_set(algo, PCMUP_SET_TP_FEEDBACK, PCMUP_TP_FEEDBACK_TRAINED));
    OK(pcmup_algo_set(algo, PCMUP_SET_MOMENTUM, 0.5));
    OK(pcmup_algo_step(algo, x, 6, labels, 2, NULL));
    if (save(dir, "tp-trained", net, algo))
        return 1;
    pcmup_algo_free(algo);
    pcmup_net_free(net);
    pcmup_param_free(param);

    static const size_t deep[] = {3, 4, 4, 2};
    OK(pcmup_param_create(&param, 3, PCMUP_PRESET_MUP_PC, NULL));
    OK(pcmup_net_create(&net, deep, 4, PCMUP_ACT_RELU, 0, param, 2, NULL));
    OK(pcmup_algo_create(&algo, PCMUP_RULE_PC, net, 2, NULL));
    OK(pcmup_algo_set_layer(algo, 2, PCMUP_SET_PC_KAPPA, 0.5));
    OK(pcmup_algo_step(algo, x, 6, labels, 2, NULL));
    if (save(dir, "pc-per-layer", net, algo))
        return 1;
    pcmup_algo_free(algo);
    pcmup_net_free(net);
    pcmup_param_free(param);

    OK(pcmup_param_create(&param, 2, PCMUP_PRESET_MUP_SGD, NULL));
    OK(pcmup_net_create_from_text(&net, "conv3p1:M tanh maxpool2 dense:2", 1, 4, 4, 2,
                                  PCMUP_ACT_TANH, PCMUP_NET_BIAS, param, 3, NULL));
    OK(pcmup_algo_create(&algo, PCMUP_RULE_BP, net, 3, NULL));
    OK(pcmup_algo_set(algo, PCMUP_SET_MOMENTUM, 0.9));
    float image[2 * 16] = {0.5f, -0.5f, 0.25f};
    OK(pcmup_algo_step(algo, image, 32, labels, 2, NULL));
    if (save(dir, "bp-cnn", net, algo))
        return 1;
    pcmup_algo_free(algo);
    pcmup_net_free(net);
    pcmup_param_free(param);
    return 0;
}
