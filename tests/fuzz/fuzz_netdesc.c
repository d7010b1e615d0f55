/* SPDX-License-Identifier: MIT */
/*
 * fuzz_netdesc.c -- libFuzzer target: the one-line network description
 * (lib/netdesc.c), checked against its own writer.
 *
 * The input is the description (a NUL ends it early, as it would a C
 * string). Checks: a failure is PCMUP_ERR_INVALID with a message naming
 * the caller and a token (or the empty description); a description that
 * parses has 1 .. PCMUP__NETDESC_MAX_LAYERS layers, convs first and a
 * dense last, and its canonical text, within PCMUP__NETDESC_TEXT_MAX and
 * written the same into a short buffer, parses to the same network and is
 * written back identically. It is then resolved on a small input at two
 * widths: a failure is PCMUP_ERR_SHAPE naming a token; a success chains
 * every layer's output into the next one's input.
 */
#include "fuzz.h"
#include "netdesc.h"

#include <string.h>

#define FUNC "fuzz_netdesc"

static void check_failure(pcmup_status s, pcmup_status want)
{
    const char *msg = pcmup_last_error();
    FUZZ_ASSERT(s == want);
    FUZZ_ASSERT(strncmp(msg, FUNC ": ", strlen(FUNC) + 2) == 0);
    FUZZ_ASSERT(strncmp(msg + strlen(FUNC) + 2, "token ", 6) == 0 ||
                strcmp(msg + strlen(FUNC) + 2, "empty description") == 0);
}

static void check_structure(const pcmup__netdesc *d)
{
    FUZZ_ASSERT(d->n_layers >= 1 && d->n_layers <= PCMUP__NETDESC_MAX_LAYERS);
    FUZZ_ASSERT(d->layers[d->n_layers - 1].kind == PCMUP__NETDESC_DENSE);
    for (size_t i = 1; i < d->n_layers; i++)
        FUZZ_ASSERT(d->layers[i - 1].kind <= d->layers[i].kind);
}

/* format, parse the text, format again: same network, same text. */
static void check_round_trip(const pcmup__netdesc *d)
{
    static char text[PCMUP__NETDESC_TEXT_MAX], again_text[PCMUP__NETDESC_TEXT_MAX];
    size_t len = pcmup__netdesc_format(d, text, sizeof text);
    FUZZ_ASSERT(len < sizeof text && strlen(text) == len);
    char small[16];
    FUZZ_ASSERT(pcmup__netdesc_format(d, small, sizeof small) == len);
    FUZZ_ASSERT(strncmp(small, text, sizeof small - 1) == 0);
    static pcmup__netdesc again;
    FUZZ_ASSERT(pcmup__netdesc_parse(text, &again, FUNC) == PCMUP_OK);
    FUZZ_ASSERT(pcmup__netdesc_equal(d, &again));
    FUZZ_ASSERT(pcmup__netdesc_format(&again, again_text, sizeof again_text) == len);
    FUZZ_ASSERT(strcmp(text, again_text) == 0);
}

static void check_resolve(const pcmup__netdesc *d, size_t width)
{
    static pcmup__netdesc_shape s[PCMUP__NETDESC_MAX_LAYERS];
    size_t c = 3, h = 16, w = 12;
    pcmup_status st = pcmup__netdesc_resolve(d, c, h, w, width, PCMUP_ACT_RELU, s,
                                             PCMUP__NETDESC_MAX_LAYERS, FUNC);
    if (st != PCMUP_OK) {
        check_failure(st, PCMUP_ERR_SHAPE);
        return;
    }
    for (size_t i = 0; i < d->n_layers; i++) {
        FUZZ_ASSERT(s[i].n_out == s[i].c_out * s[i].h_out * s[i].w_out);
        FUZZ_ASSERT(s[i].n_in == c * h * w && s[i].n_in <= PCMUP_MAX_DIM);
        FUZZ_ASSERT(s[i].c_out == d->layers[i].channels * (d->layers[i].per_width ? width : 1));
        c = s[i].c_out;
        h = s[i].h_post;
        w = s[i].w_post;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    FUZZ_ASSERT(text);
    memcpy(text, data, size);
    text[size] = '\0';
    static pcmup__netdesc d;
    pcmup_status s = pcmup__netdesc_parse(text, &d, FUNC);
    if (s != PCMUP_OK) {
        check_failure(s, PCMUP_ERR_INVALID);
    } else {
        check_structure(&d);
        check_round_trip(&d);
        check_resolve(&d, 1);
        check_resolve(&d, 64);
    }
    free(text);
    return 0;
}
