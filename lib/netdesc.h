/* SPDX-License-Identifier: MIT */
/*
 * netdesc.h -- the one-line textual network description (issue 11, "The
 * network"): what the tools' --net and the bindings will take, e.g.
 *
 *     conv5p2:M tanh maxpool2 conv5p2:2M tanh maxpool2 dense:10
 *
 * Tokens are separated by spaces:
 *   conv<k>p<p>[s<s>]:<ch>  a k x k convolution, p zeros of padding on every
 *                           side, stride s (default 1), ch output channels;
 *   dense:<ch>              a dense layer;
 *   tanh relu identity      the preceding layer's activation (else the
 *                           network's default);
 *   maxpool2 avgpool2       2 x 2 stride-2 pooling after a conv layer's
 *                           activation.
 * ch is a count (10) or a multiple of the width symbol M (M, 2M). Zero or
 * more conv layers come first, then one or more dense layers; a flatten is
 * implied between them. The whole description may instead be one preset:
 * simplecnn (the line above) or vgg5 (four conv3p1 stages of M, 2M, 4M,
 * 4M channels with tanh and maxpool2, then dense:10; M = 128 gives the PC
 * literature's 128, 256, 512, 512).
 *
 * Two steps, because the width and the input shape are known later than
 * the text (a sweep parses once and resolves per width):
 * pcmup__netdesc_parse checks the grammar and the order of the layers;
 * pcmup__netdesc_resolve computes every layer's channels and sizes for an
 * input shape and a width, and checks that they exist. Errors go through
 * pcmup__fail under the caller's `func` and name the token and its
 * 1-based position: "token 4 'maxpool3': unknown token". Nothing here
 * allocates: a description has a fixed capacity.
 */
#ifndef PCMUP_NETDESC_H
#define PCMUP_NETDESC_H

#include "internal.h"

#include <stddef.h>

/* Layers a description may hold: far more than any network of the paper. */
#define PCMUP__NETDESC_MAX_LAYERS 64
/* A layer token as written, kept for resolve's messages (longer tokens are
 * cut, ending in "..."). */
#define PCMUP__NETDESC_TOKEN_CHARS 40
/* Bytes pcmup__netdesc_format may need, NUL included: each of the layers
 * spelt with 10-digit numbers, an activation and a pool. */
#define PCMUP__NETDESC_TEXT_MAX (PCMUP__NETDESC_MAX_LAYERS * 72)

typedef enum { PCMUP__NETDESC_CONV = 0, PCMUP__NETDESC_DENSE = 1 } pcmup__netdesc_kind;

typedef enum {
    PCMUP__NETDESC_POOL_NONE = 0,
    PCMUP__NETDESC_POOL_MAX = 1,
    PCMUP__NETDESC_POOL_AVG = 2
} pcmup__netdesc_pool;

/* One layer as written. Numbers are in [1, PCMUP_MAX_DIM] (pad: [0, ...]). */
typedef struct {
    pcmup__netdesc_kind kind;
    size_t k, pad, stride;  /* conv only; 0 for dense */
    size_t channels;        /* a count, or the multiple of M when per_width */
    int per_width;          /* 1: the layer has channels * M outputs */
    int has_activation;     /* 0: the network's default applies */
    pcmup_activation activation;
    pcmup__netdesc_pool pool;
    /* Where the layer's token and its pool token stand (1-based, in the
     * preset's expansion for a preset; pool_token 0 without a pool), and
     * the layer token's text: resolve's messages name them. */
    size_t token, pool_token;
    char text[PCMUP__NETDESC_TOKEN_CHARS];
} pcmup__netdesc_layer;

typedef struct {
    const char *preset; /* "simplecnn", "vgg5" (static strings) or NULL */
    size_t n_layers;
    pcmup__netdesc_layer layers[PCMUP__NETDESC_MAX_LAYERS];
} pcmup__netdesc;

/* One layer with concrete sizes. A conv layer maps (c_in, h_in, w_in) to
 * its pre-activation (c_out, h_out, w_out), which pooling takes to
 * (c_out, h_post, w_post); a dense layer reads the flattened n_in values
 * and has h = w = 1 everywhere. n_in and n_out count the layer's input and
 * pre-activation values (its linear map's sizes). */
typedef struct {
    size_t c_in, h_in, w_in;
    size_t c_out, h_out, w_out;
    size_t h_post, w_post;
    size_t n_in, n_out;
    pcmup_activation activation;
} pcmup__netdesc_shape;

/* Parses `text` into *out. PCMUP_ERR_NULL for a NULL argument;
 * PCMUP_ERR_INVALID for a description the grammar refuses, with the
 * message naming the token. *out is overwritten in either case. */
pcmup_status pcmup__netdesc_parse(const char *text, pcmup__netdesc *out, const char *func);

/* pcmup__netdesc_parse for the start of a description, which need not
 * end with its output layer yet (the builder's, one layer at a time). */
pcmup_status pcmup__netdesc_parse_partial(const char *text, pcmup__netdesc *out,
                                          const char *func);

/* Fills shapes[0 .. d->n_layers) for an input of c x h x w, width M =
 * `width` and activation `fallback` for the layers without one.
 * PCMUP_ERR_INVALID for a zero input size or width, or n_shapes below
 * d->n_layers; PCMUP_ERR_SHAPE when a layer does not exist at those sizes
 * (a kernel larger than the padded image, pooling an odd or empty size, a
 * count past PCMUP_MAX_DIM), naming the token. */
pcmup_status pcmup__netdesc_resolve(const pcmup__netdesc *d, size_t c, size_t h, size_t w,
                                    size_t width, pcmup_activation fallback,
                                    pcmup__netdesc_shape *shapes, size_t n_shapes,
                                    const char *func);

/* Writes d's canonical text (presets expanded, "s1" and "1M" left out,
 * only the activations written) to buf like snprintf: at most size bytes,
 * NUL-terminated when size > 0; returns the length of the whole text,
 * below PCMUP__NETDESC_TEXT_MAX for any parsed description. */
size_t pcmup__netdesc_format(const pcmup__netdesc *d, char *buf, size_t size);

/* 1 when a and b describe the same network (layers, numbers, activations
 * and pools; not where the tokens stood or how they were spelt), else 0. */
int pcmup__netdesc_equal(const pcmup__netdesc *a, const pcmup__netdesc *b);

#endif /* PCMUP_NETDESC_H */
