/* SPDX-License-Identifier: MIT */
/*
 * net_builder.c -- describing a network layer by layer (pcmup.h, section
 * 2b): the builder handle, networks made from it or from one line of text,
 * and the description of an existing network.
 *
 * The builder keeps the description as text, in the grammar of netdesc.h,
 * and every call appends one token and parses the whole text again. So
 * the one-line description and the calls are checked by the same code and
 * give the same messages, and a call the grammar refuses leaves the
 * builder as it was.
 */
#include "net.h"

#include "layers/activation.h"
#include "netdesc.h"

#include <stdio.h>
#include <string.h>

struct pcmup_net_builder {
    pcmup_allocator alloc;
    char text[PCMUP__NETDESC_TEXT_MAX];
    pcmup__netdesc desc; /* text, parsed */
};

pcmup_status pcmup_net_builder_create(pcmup_net_builder **out, const pcmup_allocator *allocator)
{
    PCMUP_CHECK_NULL(out);
    PCMUP_TRY(pcmup__allocator_check(allocator, __func__));
    pcmup_allocator alloc;
    pcmup__allocator_init(&alloc, allocator);
    pcmup_net_builder *b = pcmup__alloc_zero(&alloc, 1, sizeof *b);
    if (!b)
        return pcmup__fail(PCMUP_ERR_NOMEM, __func__, "cannot allocate the builder");
    b->alloc = alloc;
    *out = b;
    return PCMUP_OK;
}

void pcmup_net_builder_free(pcmup_net_builder *builder)
{
    if (builder) {
        pcmup_allocator alloc = builder->alloc;
        pcmup__free(&alloc, builder);
    }
}

/* Makes `text` the builder's description if it parses, as a whole
 * description or (partial) as the start of one; the builder keeps its
 * canonical form. */
static pcmup_status take_text(pcmup_net_builder *b, const char *text, int partial,
                              const char *func)
{
    pcmup__netdesc d;
    PCMUP_TRY(partial ? pcmup__netdesc_parse_partial(text, &d, func)
                      : pcmup__netdesc_parse(text, &d, func));
    b->desc = d;
    pcmup__netdesc_format(&b->desc, b->text, sizeof b->text);
    return PCMUP_OK;
}

/* Appends one token to the builder's description. */
static pcmup_status PCMUP_PRINTF(3, 4) append(pcmup_net_builder *b, const char *func,
                                             const char *fmt, ...)
{
    char token[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(token, sizeof token, fmt, ap);
    va_end(ap);
    char text[PCMUP__NETDESC_TEXT_MAX + sizeof token + 1];
    snprintf(text, sizeof text, "%s%s%s", b->text, b->text[0] ? " " : "", token);
    return take_text(b, text, 1, func);
}

static pcmup_status check_layer_flags(unsigned flags, const char *func)
{
    if (flags & ~PCMUP_LAYER_PER_WIDTH)
        return pcmup__fail(PCMUP_ERR_INVALID, func, "unknown flags 0x%x",
                           flags & ~PCMUP_LAYER_PER_WIDTH);
    return PCMUP_OK;
}

pcmup_status pcmup_net_builder_add_conv(pcmup_net_builder *builder, size_t kernel,
                                        size_t stride, size_t pad, size_t channels,
                                        unsigned flags)
{
    PCMUP_CHECK_NULL(builder);
    PCMUP_TRY(check_layer_flags(flags, __func__));
    /* Spelt as the canonical text spells it (no "s1"), which the
     * messages quote. */
    char stride_text[32] = "";
    if (stride != 1)
        snprintf(stride_text, sizeof stride_text, "s%zu", stride);
    return append(builder, __func__, "conv%zup%zu%s:%zu%s", kernel, pad, stride_text, channels,
                  flags & PCMUP_LAYER_PER_WIDTH ? "M" : "");
}

pcmup_status pcmup_net_builder_add_dense(pcmup_net_builder *builder, size_t outputs,
                                         unsigned flags)
{
    PCMUP_CHECK_NULL(builder);
    PCMUP_TRY(check_layer_flags(flags, __func__));
    return append(builder, __func__, "dense:%zu%s", outputs,
                  flags & PCMUP_LAYER_PER_WIDTH ? "M" : "");
}

pcmup_status pcmup_net_builder_set_activation(pcmup_net_builder *builder,
                                              pcmup_activation activation)
{
    PCMUP_CHECK_NULL(builder);
    if (!pcmup__act_valid(activation))
        return pcmup__fail(PCMUP_ERR_INVALID, __func__, "unknown activation %d",
                           (int)activation);
    return append(builder, __func__, "%s", pcmup__act_name(activation));
}

pcmup_status pcmup_net_builder_add_pool(pcmup_net_builder *builder, pcmup_pool pool)
{
    PCMUP_CHECK_NULL(builder);
    if (pool != PCMUP_POOL_MAX2 && pool != PCMUP_POOL_AVG2)
        return pcmup__fail(PCMUP_ERR_INVALID, __func__, "unknown pooling %d", (int)pool);
    return append(builder, __func__, "%s", pool == PCMUP_POOL_MAX2 ? "maxpool2" : "avgpool2");
}

pcmup_status pcmup_net_builder_parse(pcmup_net_builder *builder, const char *description)
{
    PCMUP_CHECK_NULL(builder);
    PCMUP_CHECK_NULL(description);
    return take_text(builder, description, 0, __func__);
}

/* The builder's layers as a complete description: one that ends with its
 * output layer (the calls accept one that does not, yet). */
static pcmup_status whole_description(const pcmup_net_builder *b, pcmup__netdesc *d,
                                      const char *func)
{
    if (b->desc.n_layers == 0)
        return pcmup__fail(PCMUP_ERR_INVALID, func, "the builder has no layers");
    return pcmup__netdesc_parse(b->text, d, func);
}

pcmup_status pcmup_net_builder_n_layers(const pcmup_net_builder *builder, size_t *n_layers)
{
    PCMUP_CHECK_NULL(builder);
    PCMUP_CHECK_NULL(n_layers);
    *n_layers = builder->desc.n_layers;
    return PCMUP_OK;
}

pcmup_status pcmup_net_builder_check(const pcmup_net_builder *builder, size_t channels,
                                     size_t height, size_t width_px, size_t width)
{
    PCMUP_CHECK_NULL(builder);
    pcmup__netdesc d;
    PCMUP_TRY(whole_description(builder, &d, __func__));
    pcmup__netdesc_shape shapes[PCMUP__NETDESC_MAX_LAYERS];
    return pcmup__netdesc_resolve(&d, channels, height, width_px, width, PCMUP_ACT_TANH, shapes,
                                  PCMUP__NETDESC_MAX_LAYERS, __func__);
}

pcmup_status pcmup_net_create_from_builder(pcmup_net **out, const pcmup_net_builder *builder,
                                           size_t channels, size_t height, size_t width_px,
                                           size_t width, pcmup_activation activation,
                                           unsigned flags, const pcmup_param *param,
                                           uint64_t seed, const pcmup_allocator *allocator)
{
    PCMUP_CHECK_NULL(out);
    PCMUP_CHECK_NULL(builder);
    PCMUP_CHECK_NULL(param);
    pcmup__netdesc d;
    PCMUP_TRY(whole_description(builder, &d, __func__));
    return pcmup__net_create_desc(out, &d, channels, height, width_px, width, activation, flags,
                                  param, seed, allocator, __func__);
}

pcmup_status pcmup_net_create_from_text(pcmup_net **out, const char *description,
                                        size_t channels, size_t height, size_t width_px,
                                        size_t width, pcmup_activation activation,
                                        unsigned flags, const pcmup_param *param,
                                        uint64_t seed, const pcmup_allocator *allocator)
{
    PCMUP_CHECK_NULL(out);
    PCMUP_CHECK_NULL(description);
    PCMUP_CHECK_NULL(param);
    pcmup__netdesc d;
    PCMUP_TRY(pcmup__netdesc_parse(description, &d, __func__));
    return pcmup__net_create_desc(out, &d, channels, height, width_px, width, activation, flags,
                                  param, seed, allocator, __func__);
}

/* An MLP of pcmup_net_create as a description: dense layers of its
 * widths, the activation written on each hidden layer. */
static pcmup_status describe_mlp(const pcmup_net *net, pcmup__netdesc *d, const char *func)
{
    if (net->n_layers > PCMUP__NETDESC_MAX_LAYERS)
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, func,
                           "%zu layers: a description holds at most %d", net->n_layers,
                           PCMUP__NETDESC_MAX_LAYERS);
    memset(d, 0, sizeof *d);
    d->n_layers = net->n_layers;
    for (size_t l = 1; l <= net->n_layers; l++) {
        pcmup__netdesc_layer *dl = &d->layers[l - 1];
        dl->kind = PCMUP__NETDESC_DENSE;
        dl->channels = net->widths[l];
        dl->has_activation = l < net->n_layers;
        dl->activation = net->activation;
    }
    return PCMUP_OK;
}

pcmup_status pcmup_net_describe(const pcmup_net *net, char *dst, size_t capacity,
                                size_t *length)
{
    PCMUP_CHECK_NULL(net);
    PCMUP_CHECK_NULL(length);
    if (capacity > 0 && !dst)
        return pcmup__fail(PCMUP_ERR_NULL, __func__, "dst is NULL");
    pcmup__netdesc mlp;
    const pcmup__netdesc *d = net->desc;
    if (!d) {
        PCMUP_TRY(describe_mlp(net, &mlp, __func__));
        d = &mlp;
    }
    char text[PCMUP__NETDESC_TEXT_MAX];
    size_t n = pcmup__netdesc_format(d, text, sizeof text);
    if (capacity > 0)
        snprintf(dst, capacity, "%s", text);
    *length = n;
    return PCMUP_OK;
}
