/* SPDX-License-Identifier: MIT */
/*
 * fuzz_checkpoint.c -- libFuzzer target: raw bytes as a checkpoint file,
 * through everything that reads one: pcmup__checkpoint_open_mem (the
 * internal memory entry point of pcmup_checkpoint_open: the safetensors
 * reader and the checkpoint's own checks, lib/checkpoint/), then the
 * metadata calls, pcmup_net_create_from_checkpoint and
 * pcmup_algo_create_from_checkpoint, and a forward pass and one training
 * step of what they built.
 *
 * Invariants: every failure is one of the statuses a damaged file may
 * give, with a message that names the public function called; a network
 * that was built has the layers and widths its metadata states; a
 * checkpoint that opened has a "crc32" and a "header_crc32". Half the
 * inputs (an even first byte, which is the 8-byte header length's
 * lowest) are opened without comparing the CRCs, or random mutations
 * would hardly ever get past them to the code that reads the metadata.
 */
#include "fuzz.h"
#include "checkpoint/checkpoint.h"

#include <string.h>

/* A failure of a call on a damaged file: a status such a file may cause
 * and a message from `func`. */
static void check_failure(pcmup_status s, const char *func)
{
    FUZZ_ASSERT(s == PCMUP_ERR_FORMAT || s == PCMUP_ERR_SHAPE || s == PCMUP_ERR_INVALID ||
                s == PCMUP_ERR_UNSUPPORTED || s == PCMUP_ERR_NOMEM);
    if (strncmp(pcmup_last_error(), func, strlen(func)) != 0)
        fprintf(stderr, "%s: \"%s\"\n", pcmup_status_name(s), pcmup_last_error());
    FUZZ_ASSERT(strncmp(pcmup_last_error(), func, strlen(func)) == 0);
}

static void check_metadata(const pcmup_checkpoint *ck)
{
    size_t n;
    const char *key, *value, *found;
    FUZZ_ASSERT(pcmup_checkpoint_metadata_count(ck, &n) == PCMUP_OK);
    for (size_t i = 0; i < n; i++) {
        FUZZ_ASSERT(pcmup_checkpoint_metadata_at(ck, i, &key, &value) == PCMUP_OK);
        FUZZ_ASSERT(pcmup_checkpoint_metadata(ck, key, &found) == PCMUP_OK && found);
    }
    FUZZ_ASSERT(pcmup_checkpoint_metadata(ck, "crc32", &found) == PCMUP_OK && found);
    FUZZ_ASSERT(pcmup_checkpoint_metadata(ck, "header_crc32", &found) == PCMUP_OK && found);
}

/* The layers and widths the metadata states. */
static void check_net(const pcmup_checkpoint *ck, const pcmup_net *net)
{
    size_t n_layers, out, in;
    const char *text;
    char expected[32];
    FUZZ_ASSERT(pcmup_net_n_layers(net, &n_layers) == PCMUP_OK);
    FUZZ_ASSERT(pcmup_checkpoint_metadata(ck, "net.layers", &text) == PCMUP_OK && text);
    snprintf(expected, sizeof expected, "%zu", n_layers);
    FUZZ_ASSERT(strcmp(text, expected) == 0);
    FUZZ_ASSERT(pcmup_net_layer_shape(net, n_layers, &out, &in) == PCMUP_OK);
}

/* A forward pass and a step on one sample of zeros (label 0). */
static void exercise(pcmup_net *net, pcmup_algo *algo)
{
    size_t n_layers, out, in, c, h, w;
    pcmup_net_n_layers(net, &n_layers);
    pcmup_net_layer_shape(net, n_layers, &out, &in);
    pcmup_net_input_shape(net, &c, &h, &w);
    const size_t dim = c * h * w;
    if (dim > 4096 || out > 4096)
        return;
    float x[4096] = {0}, y[4096];
    int32_t label = 0;
    FUZZ_ASSERT(pcmup_net_forward(net, x, dim, 1, y, out) == PCMUP_OK);
    if (algo) {
        pcmup_status s = pcmup_algo_step(algo, x, dim, &label, 1, NULL);
        FUZZ_ASSERT(s == PCMUP_OK || s == PCMUP_ERR_DIVERGED || s == PCMUP_ERR_INVALID ||
                    s == PCMUP_ERR_NOMEM);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *bytes = malloc(size ? size : 1);
    if (!bytes)
        return 0;
    memcpy(bytes, data, size);
    pcmup_checkpoint *ck = NULL;
    /* The first byte chooses: CRCs compared (the library's own open) or
     * not, which lets mutations reach everything behind them. */
    const int compare_crcs = size > 0 && (data[0] & 1);
    pcmup_status s = pcmup__checkpoint_open_mem(&ck, bytes, size, compare_crcs, NULL, "fuzz_open");
    if (s != PCMUP_OK) {
        check_failure(s, "fuzz_open");
        return 0;
    }
    check_metadata(ck);
    pcmup_rule rule;
    s = pcmup_checkpoint_rule(ck, &rule);
    if (s != PCMUP_OK)
        check_failure(s, "pcmup_checkpoint_rule");
    pcmup_net *net = NULL;
    pcmup_algo *algo = NULL;
    s = pcmup_net_create_from_checkpoint(&net, ck, NULL);
    if (s != PCMUP_OK) {
        check_failure(s, "pcmup_net_create_from_checkpoint");
    } else {
        check_net(ck, net);
        s = pcmup_algo_create_from_checkpoint(&algo, net, ck, NULL);
        if (s != PCMUP_OK)
            check_failure(s, "pcmup_algo_create_from_checkpoint");
        /* A load into the network it built succeeds (the same file). */
        FUZZ_ASSERT(pcmup_net_load_checkpoint(net, ck) == PCMUP_OK);
        exercise(net, algo);
    }
    pcmup_algo_free(algo);
    pcmup_net_free(net);
    pcmup_checkpoint_free(ck);
    return 0;
}
