/* SPDX-License-Identifier: MIT */
/*
 * checkpoint_weights.c -- the C side of checkpoint_numpy.py, which reads
 * checkpoints with NumPy alone and compares them with what the public
 * API says.
 *
 *   checkpoint_weights save DIR   trains an MLP and a CNN a few steps and
 *                                 saves them as DIR/mlp.safetensors and
 *                                 DIR/cnn.safetensors (algorithm
 *                                 checkpoints: momentum tensors too)
 *   checkpoint_weights dump FILE PREFIX
 *                                 opens FILE with the public API, creates
 *                                 its network and writes, per layer l,
 *                                 PREFIX.w<l> and PREFIX.b<l> (the
 *                                 effective weights W_l of
 *                                 pcmup_net_get_weights and the bias, raw
 *                                 little-endian float32) and one line of
 *                                 PREFIX.txt: "l rank d0 .. d(rank-1)
 *                                 multiplier bias", the multiplier r^-a
 *                                 (pcmup_net_layer_factors) as a C99 hex
 *                                 float, bias 0 or 1.
 *
 * Not a Check test (tests/CMakeLists.txt registers checkpoint_numpy.py);
 * exit status 0, or 1 with a message on stderr.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcmup.h"

#define TRY(call)                                                                          \
    do {                                                                                   \
        pcmup_status st_ = (call);                                                         \
        if (st_ != PCMUP_OK) {                                                             \
            fprintf(stderr, "checkpoint_weights: %s: %s\n", #call, pcmup_last_error());   \
            exit(1);                                                                       \
        }                                                                                  \
    } while (0)

/* Inputs in [-1, 1) from a fixed LCG: the test needs trained weights, not
 * any particular ones. */
static float next_input(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return (float)(*state >> 8) / (float)(1u << 23) - 1.0f;
}

/* A few BP steps with momentum, so the biases and the velocity are not
 * zero, then the algorithm's checkpoint at path. */
static void train_and_save(pcmup_net *net, size_t dim, const char *path)
{
    enum { BATCH = 8, STEPS = 3 };
    pcmup_algo *algo = NULL;
    float *x = malloc(BATCH * dim * sizeof *x);
    int32_t labels[BATCH];
    uint32_t state = 12345u;
    if (x == NULL) {
        fprintf(stderr, "checkpoint_weights: out of memory\n");
        exit(1);
    }
    TRY(pcmup_algo_create(&algo, PCMUP_RULE_BP, net, 7, NULL));
    TRY(pcmup_algo_set(algo, PCMUP_SET_MOMENTUM, 0.9));
    for (int s = 0; s < STEPS; s++) {
        for (size_t i = 0; i < BATCH * dim; i++)
            x[i] = next_input(&state);
        for (int i = 0; i < BATCH; i++)
            labels[i] = (int32_t)((size_t)(i + s) % 10);
        TRY(pcmup_algo_step(algo, x, BATCH * dim, labels, BATCH, NULL));
    }
    TRY(pcmup_algo_save(algo, path, NULL, 0));
    pcmup_algo_free(algo);
    free(x);
}

/* muP-SGD with forward multipliers: a = (0, 1/2, 1) (the presets have
 * a = 0, where W_l = w_l and a reader that forgot the multipliers would
 * not be found out). */
static pcmup_param *param_with_multipliers(void)
{
    pcmup_param *p = NULL;
    TRY(pcmup_param_create(&p, 3, PCMUP_PRESET_MUP_SGD, NULL));
    TRY(pcmup_param_set_layer(p, 2, PCMUP_LAYER_A, 0.5));
    TRY(pcmup_param_set_layer(p, 3, PCMUP_LAYER_A, 1.0));
    return p;
}

/* Width 128 at base width 64: the MLP's multipliers r^-a are 1, 2^-1/2
 * and 1/2; the CNN's at M = 96, 1, 1.5^-1/2 and 1/1.5. */
static void save_all(const char *dir)
{
    char path[4096];
    pcmup_param *p = param_with_multipliers();
    pcmup_net *net = NULL;
    const size_t widths[] = {20, 128, 128, 10};

    TRY(pcmup_net_create(&net, widths, 4, PCMUP_ACT_TANH, PCMUP_NET_BIAS, p, 3, NULL));
    snprintf(path, sizeof path, "%s/mlp.safetensors", dir);
    train_and_save(net, widths[0], path);
    pcmup_net_free(net);
    pcmup_param_free(p);

    p = param_with_multipliers();
    TRY(pcmup_net_create_from_text(&net, "conv3p1:M tanh maxpool2 conv3p1:2M tanh dense:10", 2,
                                   8, 8, 96, PCMUP_ACT_TANH, PCMUP_NET_BIAS, p, 5, NULL));
    snprintf(path, sizeof path, "%s/cnn.safetensors", dir);
    train_and_save(net, 2 * 8 * 8, path);
    pcmup_net_free(net);
    pcmup_param_free(p);
}

static void write_floats(const char *prefix, char kind, size_t layer, const float *v,
                         size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s.%c%zu", prefix, kind, layer);
    FILE *f = fopen(path, "wb");
    /* The machine's floats are IEEE little-endian (x86-64, arm64): as
     * NumPy's '<f4'. */
    if (f == NULL || fwrite(v, sizeof *v, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "checkpoint_weights: cannot write %s\n", path);
        exit(1);
    }
}

/* Layer l's line of PREFIX.txt and its two files. */
static void dump_layer(const pcmup_net *net, size_t l, const char *prefix, FILE *txt)
{
    size_t dims[4], rank = 0, count = 1;
    double factors[PCMUP_FACTOR_COUNT];
    TRY(pcmup_net_weight_shape(net, l, dims, 4, &rank));
    TRY(pcmup_net_layer_factors(net, l, factors, PCMUP_FACTOR_COUNT));
    fprintf(txt, "%zu %zu", l, rank);
    for (size_t d = 0; d < rank; d++) {
        fprintf(txt, " %zu", dims[d]);
        count *= dims[d];
    }
    float *w = malloc(count * sizeof *w);
    size_t n_bias = dims[0];
    float *b = malloc(n_bias * sizeof *b);
    if (w == NULL || b == NULL) {
        fprintf(stderr, "checkpoint_weights: out of memory\n");
        exit(1);
    }
    TRY(pcmup_net_get_weights(net, l, w, count));
    write_floats(prefix, 'w', l, w, count);
    int has_bias = pcmup_net_get_bias(net, l, b, n_bias) == PCMUP_OK;
    if (has_bias)
        write_floats(prefix, 'b', l, b, n_bias);
    fprintf(txt, " %a %d\n", factors[PCMUP_FACTOR_MULTIPLIER], has_bias);
    free(w);
    free(b);
}

static void dump(const char *file, const char *prefix)
{
    pcmup_checkpoint *ck = NULL;
    pcmup_net *net = NULL;
    size_t layers = 0;
    char path[4096];
    TRY(pcmup_checkpoint_open(&ck, file, NULL));
    TRY(pcmup_net_create_from_checkpoint(&net, ck, NULL));
    TRY(pcmup_net_n_layers(net, &layers));
    snprintf(path, sizeof path, "%s.txt", prefix);
    FILE *txt = fopen(path, "w");
    if (txt == NULL) {
        fprintf(stderr, "checkpoint_weights: cannot write %s\n", path);
        exit(1);
    }
    for (size_t l = 1; l <= layers; l++)
        dump_layer(net, l, prefix, txt);
    if (fclose(txt) != 0) {
        fprintf(stderr, "checkpoint_weights: cannot write %s\n", path);
        exit(1);
    }
    pcmup_net_free(net);
    pcmup_checkpoint_free(ck);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "save") == 0) {
        save_all(argv[2]);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "dump") == 0) {
        dump(argv[2], argv[3]);
        return 0;
    }
    fprintf(stderr, "usage: checkpoint_weights save DIR | dump FILE PREFIX\n");
    return 1;
}
