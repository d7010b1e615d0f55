/* SPDX-License-Identifier: MIT */
/*
 * netdesc.c -- parses, resolves and writes back the one-line network
 * description (netdesc.h has the grammar).
 *
 * The parser reads the text in place, token by token, with a cursor that
 * never passes the token's end: the tools pass user input and the fuzz
 * target arbitrary bytes, so every number is bounded as it is read and
 * nothing is copied except a layer token's (cut) text for later messages.
 */
#include "netdesc.h"

#include "layers/layer.h"
#include "layers/pool.h"

#include <stdio.h>
#include <string.h>

/* ---- presets ----------------------------------------------------------------- */

static const struct {
    const char *name, *text;
} presets[] = {
    {"simplecnn", "conv5p2:M tanh maxpool2 conv5p2:2M tanh maxpool2 dense:10"},
    {"vgg5", "conv3p1:M tanh maxpool2 conv3p1:2M tanh maxpool2 conv3p1:4M tanh maxpool2 "
             "conv3p1:4M tanh maxpool2 dense:10"},
};

/* ---- tokens ------------------------------------------------------------------ */

/* A token: its bytes [p, end) and its 1-based position. */
typedef struct {
    const char *p, *end;
    size_t index;
} token;

/* Advances past the spaces at *s and returns the next token, or one with
 * p == end at the end of the text. */
static token next_token(const char **s, size_t index)
{
    while (**s == ' ')
        (*s)++;
    token t = {*s, *s, index};
    while (*t.end != '\0' && *t.end != ' ')
        t.end++;
    *s = t.end;
    return t;
}

static int token_is(token t, const char *word)
{
    size_t n = strlen(word);
    return (size_t)(t.end - t.p) == n && memcmp(t.p, word, n) == 0;
}

/* The token as a message shows it: cut to fit `size` bytes with "...",
 * so an arbitrary input cannot crowd the message out. */
static void token_text(token t, char *buf, size_t size)
{
    size_t len = (size_t)(t.end - t.p);
    if (len < size) {
        memcpy(buf, t.p, len);
        buf[len] = '\0';
        return;
    }
    memcpy(buf, t.p, size - 4);
    memcpy(buf + size - 4, "...", 4);
}

/* The failure every grammar error reports: "token 4 'maxpool3': why". */
static pcmup_status token_fail(token t, const char *func, const char *why)
{
    char text[PCMUP__NETDESC_TOKEN_CHARS];
    token_text(t, text, sizeof text);
    return pcmup__fail(PCMUP_ERR_INVALID, func, "token %zu '%s': %s", t.index, text, why);
}

/* ---- numbers ----------------------------------------------------------------- */

typedef enum { NUM_OK, NUM_MISSING, NUM_TOO_LARGE } num_result;

/* Reads decimal digits at t->p into *v, bounded by PCMUP_MAX_DIM as it
 * goes (so no digit string overflows), and moves t->p past them. */
static num_result read_number(token *t, size_t *v)
{
    if (t->p == t->end || *t->p < '0' || *t->p > '9')
        return NUM_MISSING;
    *v = 0;
    for (; t->p < t->end && *t->p >= '0' && *t->p <= '9'; t->p++) {
        *v = *v * 10 + (size_t)(*t->p - '0');
        if (*v > PCMUP_MAX_DIM)
            return NUM_TOO_LARGE;
    }
    return NUM_OK;
}

/* ---- layer tokens ------------------------------------------------------------ */

#define TOO_LARGE "number above 2147483647"

/* Reads the channels after ':' (the whole rest of the token): "10", "M"
 * or "2M". `whole` is the full token, for the message. */
static pcmup_status read_channels(token rest, token whole, pcmup__netdesc_layer *l,
                                  const char *func)
{
    const char *malformed = "malformed channels: expected a positive count, M or <count>M";
    l->channels = 1;
    num_result r = read_number(&rest, &l->channels);
    if (r == NUM_TOO_LARGE)
        return token_fail(whole, func, TOO_LARGE);
    if (rest.p < rest.end && *rest.p == 'M') {
        l->per_width = 1;
        rest.p++;
    }
    if (rest.p != rest.end || (r == NUM_MISSING && !l->per_width))
        return token_fail(whole, func, malformed);
    if (l->channels == 0)
        return token_fail(whole, func, "zero channels");
    return PCMUP_OK;
}

/* Reads one of conv's numbers and the character after it, which must be
 * one of `followers` (stored in *sep). */
static pcmup_status read_field(token *rest, token whole, size_t *v, const char *followers,
                               char *sep, const char *func)
{
    num_result r = read_number(rest, v);
    if (r == NUM_TOO_LARGE)
        return token_fail(whole, func, TOO_LARGE);
    if (r == NUM_MISSING || rest->p == rest->end || !strchr(followers, *rest->p))
        return token_fail(whole, func,
                          "malformed convolution: expected conv<k>p<pad>[s<stride>]:<channels>");
    *sep = *rest->p++;
    return PCMUP_OK;
}

/* "conv<k>p<p>[s<s>]:<ch>", t at the 'conv' prefix already checked. */
static pcmup_status read_conv(token t, pcmup__netdesc_layer *l, const char *func)
{
    token rest = {t.p + 4, t.end, t.index};
    char sep;
    l->kind = PCMUP__NETDESC_CONV;
    l->stride = 1;
    PCMUP_TRY(read_field(&rest, t, &l->k, "p", &sep, func));
    PCMUP_TRY(read_field(&rest, t, &l->pad, "s:", &sep, func));
    if (sep == 's')
        PCMUP_TRY(read_field(&rest, t, &l->stride, ":", &sep, func));
    if (l->k == 0)
        return token_fail(t, func, "kernel size 0");
    if (l->stride == 0)
        return token_fail(t, func, "stride 0");
    return read_channels(rest, t, l, func);
}

/* "dense:<ch>" */
static pcmup_status read_dense(token t, pcmup__netdesc_layer *l, const char *func)
{
    l->kind = PCMUP__NETDESC_DENSE;
    return read_channels((token){t.p + 6, t.end, t.index}, t, l, func);
}

/* ---- the sequence ------------------------------------------------------------ */

/* What the parser knows between tokens. */
typedef struct {
    pcmup__netdesc *d;
    const char *func;
    token last; /* the last token read, for the end-of-text message */
} parser;

static pcmup__netdesc_layer *current_layer(parser *ps)
{
    return ps->d->n_layers ? &ps->d->layers[ps->d->n_layers - 1] : NULL;
}

/* A conv or dense token: a new layer, in the order convs then denses. */
static pcmup_status add_layer(parser *ps, token t, int is_conv)
{
    const pcmup__netdesc_layer *prev = current_layer(ps);
    if (is_conv && prev && prev->kind == PCMUP__NETDESC_DENSE)
        return token_fail(t, ps->func, "convolution after a dense layer "
                                       "(convolutions come first)");
    if (ps->d->n_layers == PCMUP__NETDESC_MAX_LAYERS)
        return token_fail(t, ps->func, "more than 64 layers");
    pcmup__netdesc_layer *l = &ps->d->layers[ps->d->n_layers++];
    memset(l, 0, sizeof *l);
    l->token = t.index;
    token_text(t, l->text, sizeof l->text);
    return is_conv ? read_conv(t, l, ps->func) : read_dense(t, l, ps->func);
}

static pcmup_status add_activation(parser *ps, token t, pcmup_activation a)
{
    pcmup__netdesc_layer *l = current_layer(ps);
    if (!l)
        return token_fail(t, ps->func, "activation with no layer before it");
    if (l->has_activation)
        return token_fail(t, ps->func, "second activation for one layer");
    /* g = pool o phi: one order only, so that each network has one text. */
    if (l->pool != PCMUP__NETDESC_POOL_NONE)
        return token_fail(t, ps->func, "activation after pooling (write it before the pool)");
    l->has_activation = 1;
    l->activation = a;
    return PCMUP_OK;
}

static pcmup_status add_pool(parser *ps, token t, pcmup__netdesc_pool pool)
{
    pcmup__netdesc_layer *l = current_layer(ps);
    if (!l)
        return token_fail(t, ps->func, "pooling with no layer before it");
    if (l->kind == PCMUP__NETDESC_DENSE)
        return token_fail(t, ps->func, "pooling after a dense layer");
    if (l->pool != PCMUP__NETDESC_POOL_NONE)
        return token_fail(t, ps->func, "second pooling for one layer");
    l->pool = pool;
    l->pool_token = t.index;
    return PCMUP_OK;
}

static int has_prefix(token t, const char *prefix)
{
    size_t n = strlen(prefix);
    return (size_t)(t.end - t.p) >= n && memcmp(t.p, prefix, n) == 0;
}

/* One token of a description that is not a preset. */
static pcmup_status add_token(parser *ps, token t)
{
    static const struct {
        const char *word;
        pcmup_activation a;
    } acts[] = {{"tanh", PCMUP_ACT_TANH}, {"relu", PCMUP_ACT_RELU},
                {"identity", PCMUP_ACT_IDENTITY}};
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++)
        if (token_is(t, acts[i].word))
            return add_activation(ps, t, acts[i].a);
    if (token_is(t, "maxpool2"))
        return add_pool(ps, t, PCMUP__NETDESC_POOL_MAX);
    if (token_is(t, "avgpool2"))
        return add_pool(ps, t, PCMUP__NETDESC_POOL_AVG);
    if (has_prefix(t, "conv"))
        return add_layer(ps, t, 1);
    if (has_prefix(t, "dense:"))
        return add_layer(ps, t, 0);
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (token_is(t, presets[i].name))
            return token_fail(t, ps->func, "a preset must be the whole description");
    return token_fail(t, ps->func, "unknown token");
}

/* Parses a description that is not a preset, token by token; unless
 * `partial`, it must end with its dense output layer. */
static pcmup_status parse_tokens(const char *text, parser *ps, int partial)
{
    size_t index = 1;
    for (token t = next_token(&text, index); t.p != t.end; t = next_token(&text, ++index)) {
        PCMUP_TRY(add_token(ps, t));
        ps->last = t;
    }
    if (index == 1)
        return pcmup__fail(PCMUP_ERR_INVALID, ps->func, "empty description");
    const pcmup__netdesc_layer *l = current_layer(ps);
    if (partial)
        return PCMUP_OK;
    if (!l || l->kind != PCMUP__NETDESC_DENSE)
        return token_fail(ps->last, ps->func,
                          "the description ends without a dense output layer");
    /* f = u_L: an activation written there would be silently ignored. */
    if (l->has_activation && l->activation != PCMUP_ACT_IDENTITY)
        return token_fail(ps->last, ps->func, "the output layer has no activation");
    return PCMUP_OK;
}

/* The preset `text` is, alone, or NULL. */
static const char *preset_text(const char *text, const char **name)
{
    const char *s = text;
    token t = next_token(&s, 1);
    token after = next_token(&s, 2);
    for (size_t i = 0; after.p == after.end && i < sizeof presets / sizeof presets[0]; i++)
        if (token_is(t, presets[i].name)) {
            *name = presets[i].name;
            return presets[i].text;
        }
    return NULL;
}

static pcmup_status parse(const char *text, pcmup__netdesc *out, int partial, const char *func)
{
    PCMUP_CHECK_NULL(text);
    PCMUP_CHECK_NULL(out);
    out->preset = NULL;
    out->n_layers = 0;
    parser ps = {out, func, {text, text, 0}};
    const char *name = NULL;
    const char *expansion = preset_text(text, &name);
    if (!expansion)
        return parse_tokens(text, &ps, partial);
    out->preset = name;
    pcmup_status s = parse_tokens(expansion, &ps, partial);
    assert(s == PCMUP_OK); /* the presets are valid descriptions */
    return s;
}

pcmup_status pcmup__netdesc_parse(const char *text, pcmup__netdesc *out, const char *func)
{
    return parse(text, out, 0, func);
}

pcmup_status pcmup__netdesc_parse_partial(const char *text, pcmup__netdesc *out,
                                          const char *func)
{
    return parse(text, out, 1, func);
}

/* ---- resolving sizes --------------------------------------------------------- */

/* The failure of a layer that does not exist at the resolved sizes,
 * naming the token (and the preset whose expansion holds it). */
static pcmup_status PCMUP_PRINTF(5, 6) shape_fail(const pcmup__netdesc *d, size_t index,
                                                  const char *text, const char *func,
                                                  const char *fmt, ...)
{
    char detail[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return pcmup__fail(PCMUP_ERR_SHAPE, func, "token %zu '%s'%s%s: %s", index, text,
                       d->preset ? " of preset " : "", d->preset ? d->preset : "", detail);
}

/* The layer's output channels at width M, at most PCMUP_MAX_DIM. */
static pcmup_status layer_channels(const pcmup__netdesc *d, const pcmup__netdesc_layer *l,
                                   size_t width, size_t *out, const char *func)
{
    int overflow = 0;
    *out = l->per_width ? pcmup__mul(l->channels, width, &overflow) : l->channels;
    if (overflow || *out > PCMUP_MAX_DIM)
        return shape_fail(d, l->token, l->text, func,
                          "%zuM channels at M = %zu is above 2147483647", l->channels, width);
    return PCMUP_OK;
}

static pcmup_status resolve_conv(const pcmup__netdesc *d, const pcmup__netdesc_layer *l,
                                 pcmup__netdesc_shape *s, const char *func)
{
    if (!pcmup__conv_geometry_valid(s->c_in, s->h_in, s->w_in, s->c_out, l->k, l->stride,
                                    l->pad))
        return shape_fail(d, l->token, l->text, func,
                          "no convolution of this kernel on a %zu x %zu input (or a count "
                          "above 2147483647)",
                          s->h_in, s->w_in);
    s->h_out = pcmup__conv_out_size(s->h_in, l->k, l->stride, l->pad);
    s->w_out = pcmup__conv_out_size(s->w_in, l->k, l->stride, l->pad);
    s->n_out = s->c_out * s->h_out * s->w_out; /* bounded by the geometry check */
    s->h_post = s->h_out;
    s->w_post = s->w_out;
    if (l->pool == PCMUP__NETDESC_POOL_NONE)
        return PCMUP_OK;
    if (!pcmup__pool2_valid(s->h_out, s->w_out))
        return shape_fail(d, l->pool_token,
                          l->pool == PCMUP__NETDESC_POOL_MAX ? "maxpool2" : "avgpool2", func,
                          "cannot pool a %zu x %zu map (2 x 2 pooling needs even sizes)",
                          s->h_out, s->w_out);
    s->h_post /= 2;
    s->w_post /= 2;
    return PCMUP_OK;
}

/* A dense layer reads the flattened input: C*H*W values, which BLAS must
 * be able to count, as its weight matrix's size_t must. */
static pcmup_status resolve_dense(const pcmup__netdesc *d, const pcmup__netdesc_layer *l,
                                  pcmup__netdesc_shape *s, const char *func)
{
    int overflow = 0;
    s->n_in = pcmup__mul(s->c_in, pcmup__mul(s->h_in, s->w_in, &overflow), &overflow);
    if (overflow || s->n_in > PCMUP_MAX_DIM)
        return shape_fail(d, l->token, l->text, func,
                          "its input of %zu channels of %zu values is above 2147483647 values",
                          s->c_in, s->h_in * s->w_in);
    pcmup__mul(s->n_in, s->c_out, &overflow);
    if (overflow)
        return shape_fail(d, l->token, l->text, func,
                          "a %zu x %zu weight matrix does not fit in memory", s->c_out,
                          s->n_in);
    s->c_in = s->n_in;
    s->h_in = s->w_in = s->h_out = s->w_out = s->h_post = s->w_post = 1;
    s->n_out = s->c_out;
    return PCMUP_OK;
}

pcmup_status pcmup__netdesc_resolve(const pcmup__netdesc *d, size_t c, size_t h, size_t w,
                                    size_t width, pcmup_activation fallback,
                                    pcmup__netdesc_shape *shapes, size_t n_shapes,
                                    const char *func)
{
    PCMUP_CHECK_NULL(d);
    PCMUP_CHECK_NULL(shapes);
    if (c == 0 || h == 0 || w == 0 || width == 0)
        return pcmup__fail(PCMUP_ERR_INVALID, func, "input %zu x %zu x %zu and width %zu: "
                           "every size must be positive", c, h, w, width);
    if (n_shapes < d->n_layers)
        return pcmup__fail(PCMUP_ERR_INVALID, func, "room for %zu layer shapes, %zu needed",
                           n_shapes, d->n_layers);
    for (size_t i = 0; i < d->n_layers; i++) {
        const pcmup__netdesc_layer *l = &d->layers[i];
        pcmup__netdesc_shape *s = &shapes[i];
        *s = (pcmup__netdesc_shape){.c_in = c, .h_in = h, .w_in = w, .n_in = c * h * w};
        s->activation = l->has_activation ? l->activation : fallback;
        PCMUP_TRY(layer_channels(d, l, width, &s->c_out, func));
        PCMUP_TRY(l->kind == PCMUP__NETDESC_CONV ? resolve_conv(d, l, s, func)
                                                 : resolve_dense(d, l, s, func));
        c = s->c_out;
        h = s->h_post;
        w = s->w_post;
    }
    return PCMUP_OK;
}

/* ---- writing back ------------------------------------------------------------ */

/* snprintf's contract over several calls: what fits goes to buf, len
 * counts everything. */
typedef struct {
    char *buf;
    size_t size, len;
} text_out;

static void PCMUP_PRINTF(2, 3) put(text_out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int room = o->len < o->size;
    int n = vsnprintf(room ? o->buf + o->len : NULL, room ? o->size - o->len : 0, fmt, ap);
    va_end(ap);
    o->len += n > 0 ? (size_t)n : 0;
}

static void format_layer(const pcmup__netdesc_layer *l, text_out *o)
{
    static const char *const act_names[] = {"tanh", "relu", "identity"};
    static const char *const pool_names[] = {"", " maxpool2", " avgpool2"};
    if (l->kind == PCMUP__NETDESC_CONV)
        put(o, "conv%zup%zu", l->k, l->pad);
    else
        put(o, "dense");
    if (l->stride > 1)
        put(o, "s%zu", l->stride);
    put(o, ":");
    if (!l->per_width || l->channels != 1)
        put(o, "%zu", l->channels);
    put(o, "%s", l->per_width ? "M" : "");
    if (l->has_activation)
        put(o, " %s", act_names[l->activation]);
    put(o, "%s", pool_names[l->pool]);
}

size_t pcmup__netdesc_format(const pcmup__netdesc *d, char *buf, size_t size)
{
    text_out o = {buf, size, 0};
    if (size > 0)
        buf[0] = '\0'; /* an empty description still leaves a string */
    for (size_t i = 0; i < d->n_layers; i++) {
        put(&o, "%s", i ? " " : "");
        format_layer(&d->layers[i], &o);
    }
    return o.len;
}

int pcmup__netdesc_equal(const pcmup__netdesc *a, const pcmup__netdesc *b)
{
    if (a->n_layers != b->n_layers)
        return 0;
    for (size_t i = 0; i < a->n_layers; i++) {
        const pcmup__netdesc_layer *x = &a->layers[i], *y = &b->layers[i];
        if (x->kind != y->kind || x->k != y->k || x->pad != y->pad || x->stride != y->stride ||
            x->channels != y->channels || x->per_width != y->per_width ||
            x->has_activation != y->has_activation || x->pool != y->pool ||
            (x->has_activation && x->activation != y->activation))
            return 0;
    }
    return 1;
}
