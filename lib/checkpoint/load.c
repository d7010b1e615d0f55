/* SPDX-License-Identifier: MIT */
/*
 * load.c -- reading checkpoints: opening and checking a file, then
 * building a network from it or loading it into a network or an
 * algorithm the caller has (docs/checkpoints.md).
 *
 * Every load works on new objects first: a network built from the file
 * (build_net) is compared with the caller's, an algorithm created on it
 * takes the file's settings and rule state through the public setters
 * and the rule's own checks, and only when all of that succeeded are the
 * caller's objects changed, by copies that cannot fail. So a failed load
 * leaves them as they were.
 */
#include "algo.h"
#include "checkpoint/checkpoint.h"
#include "layers/activation.h"
#include "param.h"

#include <stdio.h>
#include <string.h>

/* ---- opening ----------------------------------------------------------------- */

static const char *find_meta(const pcmup_checkpoint *ck, const char *key)
{
    return pcmup__st_meta_find(&ck->file, key);
}

/* The value of a key every checkpoint has. */
static pcmup_status require(const pcmup_checkpoint *ck, const char *key, const char **value,
                            const char *func)
{
    *value = find_meta(ck, key);
    if (!*value)
        return pcmup__fail(PCMUP_ERR_FORMAT, func, "the checkpoint has no metadata \"%s\"",
                           key);
    return PCMUP_OK;
}

/* What every checkpoint must say about itself, checked at opening; the
 * header's CRC is compared when compare_crc is non-zero. */
static pcmup_status check_identity(pcmup_checkpoint *ck, int compare_crc, const char *func)
{
    const char *format, *version, *contents, *crc, *header_crc;
    uint64_t v;
    if (!find_meta(ck, "format") || strcmp(find_meta(ck, "format"), PCMUP__CK_FORMAT) != 0)
        return pcmup__fail(PCMUP_ERR_FORMAT, func,
                           "not a libpcmup checkpoint: its metadata has no \"format\": \"%s\"",
                           PCMUP__CK_FORMAT);
    PCMUP_TRY(require(ck, "format", &format, func));
    PCMUP_TRY(require(ck, "format_version", &version, func));
    PCMUP_TRY(pcmup__ck_parse_u64(version, "format_version", &v, func));
    if (v < 1 || v > PCMUP_CHECKPOINT_FORMAT_VERSION)
        return pcmup__fail(PCMUP_ERR_FORMAT, func,
                           "format version %s: this library (%s) reads versions 1 to %d",
                           version, pcmup_version_string(), PCMUP_CHECKPOINT_FORMAT_VERSION);
    /* The reader checked the data's CRC when present; a checkpoint always
     * has one, and one of its metadata. */
    PCMUP_TRY(require(ck, "crc32", &crc, func));
    PCMUP_TRY(require(ck, "header_crc32", &header_crc, func));
    char expected[16];
    snprintf(expected, sizeof expected, "%08lx",
             (unsigned long)pcmup__ck_header_crc(ck->file.meta, ck->file.n_meta,
                                                 ck->file.tensors, ck->file.n_tensors));
    if (compare_crc && strcmp(header_crc, expected) != 0)
        return pcmup__fail(PCMUP_ERR_FORMAT, func,
                           "the header's CRC-32 is %s, \"header_crc32\" says %.16s: the "
                           "header is damaged",
                           expected, header_crc);
    PCMUP_TRY(require(ck, "contents", &contents, func));
    if (strcmp(contents, "net") != 0 && strcmp(contents, "algo") != 0)
        return pcmup__fail(PCMUP_ERR_FORMAT, func,
                           "metadata \"contents\" is \"%.40s\", not \"net\" or \"algo\"",
                           contents);
    ck->has_algo = strcmp(contents, "algo") == 0;
    return PCMUP_OK;
}

static pcmup_status new_checkpoint(pcmup_checkpoint **ck, const pcmup_allocator *allocator,
                                   const char *func)
{
    PCMUP_TRY(pcmup__allocator_check(allocator, func));
    pcmup_allocator alloc;
    pcmup__allocator_init(&alloc, allocator);
    *ck = pcmup__alloc_zero(&alloc, 1, sizeof **ck);
    if (!*ck)
        return pcmup__fail(PCMUP_ERR_NOMEM, func, "cannot allocate a checkpoint");
    (*ck)->alloc = alloc;
    return PCMUP_OK;
}

/* Checks a parsed file (status s of the parse) and hands it out. */
static pcmup_status finish_open(pcmup_checkpoint **out, pcmup_checkpoint *ck, pcmup_status s,
                                int compare_crc, const char *func)
{
    if (s == PCMUP_OK)
        s = check_identity(ck, compare_crc, func);
    if (s != PCMUP_OK) {
        pcmup_checkpoint_free(ck);
        return s;
    }
    *out = ck;
    return PCMUP_OK;
}

pcmup_status pcmup__checkpoint_open_mem(pcmup_checkpoint **out, unsigned char *bytes,
                                        size_t size, int compare_crcs,
                                        const pcmup_allocator *allocator, const char *func)
{
    pcmup_checkpoint *ck;
    pcmup_allocator alloc;
    pcmup__allocator_init(&alloc, allocator);
    pcmup_status s = new_checkpoint(&ck, allocator, func);
    if (s != PCMUP_OK) {
        pcmup__free(&alloc, bytes);
        return s;
    }
    s = compare_crcs ? pcmup__st_parse(&ck->file, bytes, size, &ck->alloc, func)
                     : pcmup__st_parse_unchecked(&ck->file, bytes, size, &ck->alloc, func);
    return finish_open(out, ck, s, compare_crcs, func);
}

pcmup_status pcmup_checkpoint_open(pcmup_checkpoint **out, const char *path,
                                   const pcmup_allocator *allocator)
{
    PCMUP_CHECK_NULL(out);
    PCMUP_CHECK_NULL(path);
    pcmup_checkpoint *ck;
    PCMUP_TRY(new_checkpoint(&ck, allocator, __func__));
    return finish_open(out, ck, pcmup__st_read(&ck->file, path, &ck->alloc, __func__), 1,
                       __func__);
}

void pcmup_checkpoint_free(pcmup_checkpoint *checkpoint)
{
    if (!checkpoint)
        return;
    pcmup_allocator alloc = checkpoint->alloc;
    pcmup__st_free(&checkpoint->file);
    pcmup__free(&alloc, checkpoint);
}

/* ---- metadata ------------------------------------------------------------------ */

pcmup_status pcmup_checkpoint_metadata(const pcmup_checkpoint *checkpoint, const char *key,
                                       const char **value)
{
    PCMUP_CHECK_NULL(checkpoint);
    PCMUP_CHECK_NULL(key);
    PCMUP_CHECK_NULL(value);
    *value = find_meta(checkpoint, key);
    return PCMUP_OK;
}

pcmup_status pcmup_checkpoint_metadata_count(const pcmup_checkpoint *checkpoint,
                                             size_t *count)
{
    PCMUP_CHECK_NULL(checkpoint);
    PCMUP_CHECK_NULL(count);
    *count = checkpoint->file.n_meta;
    return PCMUP_OK;
}

pcmup_status pcmup_checkpoint_metadata_at(const pcmup_checkpoint *checkpoint, size_t index,
                                          const char **key, const char **value)
{
    PCMUP_CHECK_NULL(checkpoint);
    PCMUP_CHECK_NULL(key);
    PCMUP_CHECK_NULL(value);
    if (index >= checkpoint->file.n_meta)
        return pcmup__fail(PCMUP_ERR_INVALID, __func__,
                           "index %zu is past the last of %zu metadata entries", index,
                           checkpoint->file.n_meta);
    *key = checkpoint->file.meta[index].key;
    *value = checkpoint->file.meta[index].value;
    return PCMUP_OK;
}

static pcmup_status rule_of(const pcmup_checkpoint *ck, const pcmup_rule_ops **rule,
                            const char *func)
{
    const char *name;
    if (!ck->has_algo)
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, func,
                           "the checkpoint holds a network alone, without an algorithm");
    PCMUP_TRY(require(ck, "rule", &name, func));
    for (size_t id = 0; id < pcmup__rule_count(); id++) {
        *rule = pcmup__rule_at(id);
        if (*rule && strcmp((*rule)->name, name) == 0)
            return PCMUP_OK;
    }
    return pcmup__fail(PCMUP_ERR_FORMAT, func,
                       "metadata \"rule\": \"%.40s\" is not a rule of this library", name);
}

pcmup_status pcmup_checkpoint_rule(const pcmup_checkpoint *checkpoint, pcmup_rule *rule)
{
    PCMUP_CHECK_NULL(checkpoint);
    PCMUP_CHECK_NULL(rule);
    const pcmup_rule_ops *ops = NULL;
    PCMUP_TRY(rule_of(checkpoint, &ops, __func__));
    *rule = ops->id;
    return PCMUP_OK;
}

/* A library call that failed on the file's values, reported as the
 * file's fault: "metadata \"param.a\": pcmup_param_set_layer: ...".
 * Running out of memory is not the file's fault: it stays
 * PCMUP_ERR_NOMEM. */
static pcmup_status refused_status(pcmup_status s, const char *func, const char *what)
{
    if (s == PCMUP_ERR_NOMEM)
        return s;
    char inner[512];
    snprintf(inner, sizeof inner, "%s", pcmup_last_error());
    return pcmup__fail(PCMUP_ERR_FORMAT, func, "%s: %s", what, inner);
}

static pcmup_status refused(const char *func, const char *what)
{
    return refused_status(PCMUP_ERR_FORMAT, func, what);
}

/* ---- the network ----------------------------------------------------------------- */

/* What the metadata says about the network. */
typedef struct {
    int described;
    size_t n_layers;
    size_t *widths;             /* n_layers + 1 */
    pcmup_activation activation;
    unsigned flags;
    uint64_t seed;
    const char *description;    /* described only */
    size_t input_shape[3], width;
} net_meta;

/* Layers a checkpoint may have: pcmup_param_create's limit. */
#define MAX_LAYERS 1024

static pcmup_status read_activation(const char *text, pcmup_activation *act, const char *func)
{
    for (int a = 0; a <= PCMUP_ACT_IDENTITY; a++)
        if (strcmp(text, pcmup__act_name((pcmup_activation)a)) == 0) {
            *act = (pcmup_activation)a;
            return PCMUP_OK;
        }
    return pcmup__fail(PCMUP_ERR_FORMAT, func,
                       "metadata \"net.activation\": \"%.40s\" is not an activation", text);
}

static pcmup_status read_bool(const char *text, const char *key, int *value, const char *func)
{
    if (strcmp(text, "true") != 0 && strcmp(text, "false") != 0)
        return pcmup__fail(PCMUP_ERR_FORMAT, func,
                           "metadata \"%s\": \"%.40s\" is not true or false", key, text);
    *value = text[0] == 't';
    return PCMUP_OK;
}

/* Fills *m; m->widths is allocated (freed by the caller, also on failure). */
static pcmup_status read_net_meta(const pcmup_checkpoint *ck, const pcmup_allocator *alloc,
                                  net_meta *m, const char *func)
{
    const char *kind, *layers, *widths, *act, *bias, *seed;
    int has_bias = 0;
    memset(m, 0, sizeof *m);
    PCMUP_TRY(require(ck, "net.kind", &kind, func));
    PCMUP_TRY(require(ck, "net.layers", &layers, func));
    PCMUP_TRY(require(ck, "net.widths", &widths, func));
    PCMUP_TRY(require(ck, "net.activation", &act, func));
    PCMUP_TRY(require(ck, "net.bias", &bias, func));
    PCMUP_TRY(require(ck, "net.seed", &seed, func));
    if (strcmp(kind, "mlp") != 0 && strcmp(kind, "described") != 0)
        return pcmup__fail(PCMUP_ERR_FORMAT, func,
                           "metadata \"net.kind\": \"%.40s\" is not mlp or described", kind);
    m->described = kind[0] == 'd';
    PCMUP_TRY(pcmup__ck_parse_size(layers, "net.layers", &m->n_layers, func));
    if (m->n_layers < 1 || m->n_layers > MAX_LAYERS)
        return pcmup__fail(PCMUP_ERR_FORMAT, func,
                           "metadata \"net.layers\": %zu is outside [1, %d]", m->n_layers,
                           MAX_LAYERS);
    m->widths = pcmup__alloc(alloc, m->n_layers + 1, sizeof *m->widths);
    if (!m->widths)
        return pcmup__fail(PCMUP_ERR_NOMEM, func, "cannot allocate %zu widths",
                           m->n_layers + 1);
    PCMUP_TRY(pcmup__ck_parse_sizes(widths, "net.widths", m->widths, m->n_layers + 1, func));
    PCMUP_TRY(read_activation(act, &m->activation, func));
    PCMUP_TRY(read_bool(bias, "net.bias", &has_bias, func));
    m->flags = has_bias ? PCMUP_NET_BIAS : 0u;
    PCMUP_TRY(pcmup__ck_parse_u64(seed, "net.seed", &m->seed, func));
    if (m->described) {
        const char *shape, *width;
        PCMUP_TRY(require(ck, "net.description", &m->description, func));
        PCMUP_TRY(require(ck, "net.input_shape", &shape, func));
        PCMUP_TRY(require(ck, "net.width", &width, func));
        PCMUP_TRY(pcmup__ck_parse_sizes(shape, "net.input_shape", m->input_shape, 3, func));
        PCMUP_TRY(pcmup__ck_parse_size(width, "net.width", &m->width, func));
    }
    return PCMUP_OK;
}

/* The parameterization of the metadata, into p (of m->n_layers layers). */
static pcmup_status read_param(const pcmup_checkpoint *ck, pcmup_param *p, size_t n_layers,
                               double *column, const char *func)
{
    const char *text;
    for (size_t i = 0; i < PCMUP__CK_PARAM_COLUMNS; i++) {
        const pcmup__ck_param_column *col = &pcmup__ck_param_columns[i];
        PCMUP_TRY(require(ck, col->key, &text, func));
        PCMUP_TRY(pcmup__ck_parse_doubles(text, col->key, column, n_layers, func));
        for (size_t l = 1; l <= n_layers; l++)
            if (pcmup_param_set_layer(p, l, col->layer_key, column[l - 1]) != PCMUP_OK)
                return refused(func, col->key);
    }
    for (size_t i = 0; i < PCMUP__CK_PARAM_SCALARS; i++) {
        const pcmup__ck_param_scalar *sc = &pcmup__ck_param_scalars[i];
        double v;
        PCMUP_TRY(require(ck, sc->key, &text, func));
        PCMUP_TRY(pcmup__ck_parse_double(text, sc->key, &v, func));
        if (pcmup__param_set_value(p, sc->param_key, v, func) != PCMUP_OK)
            return refused(func, sc->key);
    }
    PCMUP_TRY(require(ck, "param.preset", &text, func));
    pcmup__param_set_preset_name(p, text);
    return PCMUP_OK;
}

/* The tensor `name` of `rank` and shape dims, or an error naming it. */
static pcmup_status find_tensor(const pcmup_checkpoint *ck, const char *name, size_t rank,
                                const size_t *dims, const pcmup__st_tensor **t,
                                const char *func)
{
    *t = pcmup__st_tensor_find(&ck->file, name);
    if (!*t)
        return pcmup__fail(PCMUP_ERR_FORMAT, func, "the checkpoint has no tensor \"%s\"", name);
    int same = (*t)->rank == rank;
    for (size_t i = 0; same && i < rank; i++)
        same = (*t)->shape[i] == dims[i];
    if (!same)
        return pcmup__fail(PCMUP_ERR_FORMAT, func,
                           "tensor \"%s\" has the wrong shape for the network it describes",
                           name);
    return PCMUP_OK;
}

/* Layer l's weight shape as the metadata gives it: from the widths for
 * an MLP, from the description resolved at its input shape and width
 * for a described network (which shapes[] receives, L entries). */
static pcmup_status weight_shapes(const net_meta *m, pcmup__netdesc *d,
                                  pcmup__netdesc_shape *shapes, const char *func)
{
    if (!m->described)
        return PCMUP_OK;
    if (pcmup__netdesc_parse(m->description, d, func) != PCMUP_OK)
        return refused(func, "metadata \"net.description\"");
    if (d->n_layers != m->n_layers)
        return pcmup__fail(PCMUP_ERR_FORMAT, func,
                           "metadata \"net.description\" has %zu layers, \"net.layers\" %zu",
                           d->n_layers, m->n_layers);
    if (pcmup__netdesc_resolve(d, m->input_shape[0], m->input_shape[1], m->input_shape[2],
                               m->width, m->activation, shapes, d->n_layers, func) != PCMUP_OK)
        return refused(func, "metadata \"net.description\"");
    return PCMUP_OK;
}

/* Every weight and bias tensor of the network the metadata describes is
 * in the file with its shape: checked before the network is allocated,
 * so that its parameters take no more memory than the file holds. */
static pcmup_status check_weights_present(const pcmup_checkpoint *ck, const net_meta *m,
                                          const char *func)
{
    pcmup__netdesc d;
    pcmup__netdesc_shape shapes[PCMUP__NETDESC_MAX_LAYERS];
    if (m->described && m->n_layers > PCMUP__NETDESC_MAX_LAYERS)
        return pcmup__fail(PCMUP_ERR_FORMAT, func, "a described network of %zu layers",
                           m->n_layers);
    PCMUP_TRY(weight_shapes(m, &d, shapes, func));
    for (size_t l = 1; l <= m->n_layers; l++) {
        size_t dims[4] = {m->widths[l], m->widths[l - 1], 0, 0}, rank = 2;
        const pcmup__netdesc_layer *dl = m->described ? &d.layers[l - 1] : NULL;
        if (dl && dl->kind == PCMUP__NETDESC_CONV) {
            const pcmup__netdesc_shape *sh = &shapes[l - 1];
            dims[0] = sh->c_out, dims[1] = sh->c_in, dims[2] = dl->k, dims[3] = dl->k;
            rank = 4;
        } else if (dl) {
            dims[0] = shapes[l - 1].n_out, dims[1] = shapes[l - 1].n_in;
        }
        char name[PCMUP__CK_NAME_MAX];
        const pcmup__st_tensor *t;
        pcmup__ck_weight_name(name, "", l);
        PCMUP_TRY(find_tensor(ck, name, rank, dims, &t, func));
        if (m->flags & PCMUP_NET_BIAS) {
            pcmup__ck_bias_name(name, "", l);
            PCMUP_TRY(find_tensor(ck, name, 1, dims, &t, func));
        }
    }
    return PCMUP_OK;
}

/* The network the metadata describes, weights drawn from its seed. */
static pcmup_status create_net(const pcmup_checkpoint *ck, const pcmup_allocator *alloc,
                               pcmup_net **out, const char *func)
{
    net_meta m;
    pcmup_param *param = NULL;
    double *column = NULL;
    pcmup_status s = read_net_meta(ck, alloc, &m, func);
    if (s == PCMUP_OK)
        s = check_weights_present(ck, &m, func);
    if (s == PCMUP_OK)
        s = pcmup_param_create(&param, m.n_layers, PCMUP_PRESET_SP, alloc);
    if (s == PCMUP_OK && !(column = pcmup__alloc(alloc, m.n_layers, sizeof *column)))
        s = pcmup__fail(PCMUP_ERR_NOMEM, func, "cannot allocate %zu values", m.n_layers);
    if (s == PCMUP_OK)
        s = read_param(ck, param, m.n_layers, column, func);
    if (s == PCMUP_OK) {
        pcmup_status c =
            m.described
                ? pcmup_net_create_from_text(out, m.description, m.input_shape[0],
                                             m.input_shape[1], m.input_shape[2], m.width,
                                             m.activation, m.flags, param, m.seed, alloc)
                : pcmup_net_create(out, m.widths, m.n_layers + 1, m.activation, m.flags, param,
                                   m.seed, alloc);
        if (c != PCMUP_OK)
            s = refused_status(c, func, "the network");
    }
    if (s == PCMUP_OK && ((*out)->n_layers != m.n_layers ||
                          memcmp((*out)->widths, m.widths, (m.n_layers + 1) * sizeof *m.widths))) {
        pcmup_net_free(*out);
        s = pcmup__fail(PCMUP_ERR_FORMAT, func,
                        "metadata \"net.widths\" is not what \"net.description\" gives");
    }
    pcmup__free(alloc, column);
    pcmup__free(alloc, m.widths);
    pcmup_param_free(param);
    return s;
}

/* Copies every layer's weight and bias tensor named with `prefix` into
 * `block` (laid out as net->params), after checking their shapes and that
 * they are finite. */
static pcmup_status read_layer_tensors(const pcmup_checkpoint *ck, const pcmup_net *net,
                                       const char *prefix, float *block, const char *func)
{
    for (size_t l = 1; l <= net->n_layers; l++) {
        const pcmup_layer *ly = &net->layers[l - 1];
        float *at = block + (ly->params - net->params);
        size_t dims[4], rank;
        char name[PCMUP__CK_NAME_MAX];
        const pcmup__st_tensor *w, *b;
        pcmup_net_weight_shape(net, l, dims, 4, &rank);
        pcmup__ck_weight_name(name, prefix, l);
        PCMUP_TRY(find_tensor(ck, name, rank, dims, &w, func));
        PCMUP_TRY(pcmup__check_finite(w->data, pcmup__st_floats(w), l, func));
        memcpy(at, w->data, pcmup__st_floats(w) * sizeof(float));
        if (!ly->has_bias)
            continue;
        pcmup__ck_bias_name(name, prefix, l);
        PCMUP_TRY(find_tensor(ck, name, 1, dims, &b, func));
        PCMUP_TRY(pcmup__check_finite(b->data, dims[0], l, func));
        memcpy(at + pcmup__st_floats(w), b->data, dims[0] * sizeof(float));
    }
    return PCMUP_OK;
}

static int has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Tensors whose names start with prefix. */
static size_t count_prefixed(const pcmup_checkpoint *ck, const char *prefix)
{
    size_t n = 0;
    for (size_t i = 0; i < ck->file.n_tensors; i++)
        n += has_prefix(ck->file.tensors[i].name, prefix);
    return n;
}

/* Whether `name` is one of net's weight or bias tensors. */
static int is_weight_name(const pcmup_net *net, const char *name)
{
    size_t l = 0, i = 5;
    if (!has_prefix(name, "layer"))
        return 0;
    for (; name[i] >= '0' && name[i] <= '9' && l <= net->n_layers; i++)
        l = 10 * l + (size_t)(name[i] - '0');
    if (l < 1 || l > net->n_layers)
        return 0;
    char expected[PCMUP__CK_NAME_MAX];
    pcmup__ck_weight_name(expected, "", l);
    if (strcmp(name, expected) == 0)
        return 1;
    pcmup__ck_bias_name(expected, "", l);
    return net->layers[l - 1].has_bias && strcmp(name, expected) == 0;
}

/* Nothing but the network's weights and biases, and an algorithm's
 * momentum and rule state ("momentum.", "rule."), which the algorithm's
 * load checks. */
static pcmup_status check_no_stray_tensor(const pcmup_checkpoint *ck, const pcmup_net *net,
                                          const char *func)
{
    for (size_t i = 0; i < ck->file.n_tensors; i++) {
        const char *name = ck->file.tensors[i].name;
        int algo_part = has_prefix(name, "momentum.") || has_prefix(name, "rule.");
        if (!is_weight_name(net, name) && !(ck->has_algo && algo_part))
            return pcmup__fail(PCMUP_ERR_FORMAT, func,
                               "tensor \"%.60s\" is not one of this network's", name);
    }
    return PCMUP_OK;
}

/* A new network exactly as saved (build_net's work). */
static pcmup_status build_net(const pcmup_checkpoint *ck, const pcmup_allocator *alloc,
                              pcmup_net **out, const char *func)
{
    pcmup_net *net;
    PCMUP_TRY(create_net(ck, alloc, &net, func));
    pcmup_status s = read_layer_tensors(ck, net, "", net->params, func);
    if (s == PCMUP_OK)
        s = check_no_stray_tensor(ck, net, func);
    if (s != PCMUP_OK) {
        pcmup_net_free(net);
        return s;
    }
    *out = net;
    return PCMUP_OK;
}

pcmup_status pcmup_net_create_from_checkpoint(pcmup_net **out,
                                              const pcmup_checkpoint *checkpoint,
                                              const pcmup_allocator *allocator)
{
    PCMUP_CHECK_NULL(out);
    PCMUP_CHECK_NULL(checkpoint);
    PCMUP_TRY(pcmup__allocator_check(allocator, __func__));
    pcmup_allocator alloc;
    pcmup__allocator_init(&alloc, allocator);
    return build_net(checkpoint, &alloc, out, __func__);
}

/* PCMUP_ERR_SHAPE naming the first way `net` differs from `saved`. */
static pcmup_status compare_nets(const pcmup_net *net, const pcmup_net *saved, const char *func)
{
    const char *what = NULL;
    char text[2][PCMUP__NETDESC_TEXT_MAX];
    if (net->n_layers != saved->n_layers)
        what = "number of layers";
    else if (memcmp(net->widths, saved->widths, (net->n_layers + 1) * sizeof *net->widths))
        what = "widths";
    else if ((net->desc == NULL) != (saved->desc == NULL))
        what = "kind (an MLP or a described network)";
    else if (net->desc && (pcmup__netdesc_format(net->desc, text[0], sizeof text[0]),
                           pcmup__netdesc_format(saved->desc, text[1], sizeof text[1]),
                           strcmp(text[0], text[1]) != 0))
        what = "layers (description)";
    else if (net->desc && (net->input_c != saved->input_c || net->input_h != saved->input_h ||
                           net->input_w != saved->input_w || net->width_m != saved->width_m))
        what = "input shape or width M";
    else if (net->activation != saved->activation)
        what = "activation";
    else if ((net->flags & PCMUP_NET_BIAS) != (saved->flags & PCMUP_NET_BIAS))
        what = "biases";
    else if (!pcmup__param_equal(net->param, saved->param))
        what = "parameterization";
    if (!what)
        return PCMUP_OK;
    return pcmup__fail(PCMUP_ERR_SHAPE, func,
                       "the checkpoint's network differs from this one in its %s", what);
}

/* A network built from the checkpoint and checked against `net`: what a
 * load into `net` copies from. */
static pcmup_status build_like(const pcmup_checkpoint *ck, const pcmup_net *net,
                               pcmup_net **saved, const char *func)
{
    PCMUP_TRY(build_net(ck, &net->alloc, saved, func));
    pcmup_status s = compare_nets(net, *saved, func);
    if (s != PCMUP_OK) {
        pcmup_net_free(*saved);
        *saved = NULL;
    }
    return s;
}

/* The weights and seed of `saved`, a network like `net`. */
static void take_weights(pcmup_net *net, const pcmup_net *saved)
{
    memcpy(net->params, saved->params, net->n_params * sizeof(float));
    net->seed = saved->seed;
}

pcmup_status pcmup_net_load_checkpoint(pcmup_net *net, const pcmup_checkpoint *checkpoint)
{
    PCMUP_CHECK_NULL(net);
    PCMUP_CHECK_NULL(checkpoint);
    pcmup_net *saved;
    PCMUP_TRY(build_like(checkpoint, net, &saved, __func__));
    take_weights(net, saved);
    pcmup_net_free(saved);
    return PCMUP_OK;
}

/* ---- the algorithm --------------------------------------------------------------- */

/* A setting's value as written: a value name ("mse") or a number. */
static pcmup_status read_setting_value(pcmup_setting s, const char *text, const char *key,
                                       double *v, const char *func)
{
    if (pcmup_setting_value_find(s, text, v) == PCMUP_OK)
        return PCMUP_OK;
    return pcmup__ck_parse_double(text, key, v, func);
}

/* The setting a "setting.<name>[.layers]" key names, for algo's rule. */
static pcmup_status setting_of_key(const pcmup_algo *algo, const char *key, int *layers,
                                   pcmup_setting *s, const char *func)
{
    char name[PCMUP__CK_NAME_MAX];
    const char *suffix = ".layers";
    size_t n = strlen(key + 8), k = strlen(suffix);
    *layers = n > k && strcmp(key + 8 + n - k, suffix) == 0;
    if (*layers)
        n -= k;
    int accepts = 0, per_layer = 0;
    snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), key + 8);
    if (pcmup_setting_find(name, s) == PCMUP_OK)
        pcmup_setting_accepts(*s, algo->rule->id, &accepts);
    if (accepts && *layers)
        pcmup_setting_per_layer(*s, &per_layer);
    if (!accepts || (*layers && !per_layer))
        return pcmup__fail(PCMUP_ERR_FORMAT, func,
                           "metadata \"%.60s\" is not a setting of %s in this library", key,
                           algo->rule->name);
    return PCMUP_OK;
}

/* Every "setting.*" of the checkpoint into algo, through the public
 * setters and their checks: the values for all layers first, then the
 * per-layer lists. Settings the file lacks keep their defaults. */
static pcmup_status read_settings(const pcmup_checkpoint *ck, pcmup_algo *algo, double *values,
                                  const char *func)
{
    const size_t n_hidden = algo->net->n_layers - 1;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < ck->file.n_meta; i++) {
            const pcmup__st_meta *m = &ck->file.meta[i];
            pcmup_setting s;
            int layers;
            if (!has_prefix(m->key, "setting."))
                continue;
            PCMUP_TRY(setting_of_key(algo, m->key, &layers, &s, func));
            if (layers != pass)
                continue;
            if (!layers) {
                double v;
                PCMUP_TRY(read_setting_value(s, m->value, m->key, &v, func));
                if (pcmup_algo_set(algo, s, v) != PCMUP_OK)
                    return refused(func, m->key);
                continue;
            }
            PCMUP_TRY(pcmup__ck_parse_doubles(m->value, m->key, values, n_hidden, func));
            for (size_t l = 1; l <= n_hidden; l++)
                if (pcmup_algo_set_layer(algo, l, s, values[l - 1]) != PCMUP_OK)
                    return refused(func, m->key);
        }
    }
    return PCMUP_OK;
}

/* An entry of the rule's state from its name in the file, "rule.<name>"
 * or "rule.layer<l>.<name>". */
static void entry_from_name(const char *key, pcmup_rule_entry *e)
{
    const char *rest = key + 5;
    memset(e, 0, sizeof *e);
    e->name = rest;
    if (!has_prefix(rest, "layer"))
        return;
    size_t l = 0, i = 5;
    for (; rest[i] >= '0' && rest[i] <= '9' && l < PCMUP_MAX_DIM; i++)
        l = 10 * l + (size_t)(rest[i] - '0');
    if (i > 5 && rest[i] == '.' && rest[i + 1]) {
        e->layer = l;
        e->name = rest + i + 1;
    }
}

/* The rule's persistent state as the file has it: its "rule." tensors
 * (rank 1 or 2) and metadata (scalars), into entries (room for all). */
static pcmup_status read_entries(const pcmup_checkpoint *ck, pcmup_rule_entry *entries,
                                 size_t *n, const char *func)
{
    *n = 0;
    for (size_t i = 0; i < ck->file.n_tensors; i++) {
        const pcmup__st_tensor *t = &ck->file.tensors[i];
        if (!has_prefix(t->name, "rule."))
            continue;
        if (t->rank < 1 || t->rank > 2)
            return pcmup__fail(PCMUP_ERR_FORMAT, func,
                               "tensor \"%.60s\" has rank %zu; a rule's state has rank 1 or 2",
                               t->name, t->rank);
        pcmup_rule_entry *e = &entries[(*n)++];
        entry_from_name(t->name, e);
        e->rank = t->rank;
        e->shape[0] = t->shape[0];
        e->shape[1] = t->rank == 2 ? t->shape[1] : 1;
        e->data = t->data;
    }
    for (size_t i = 0; i < ck->file.n_meta; i++) {
        const pcmup__st_meta *m = &ck->file.meta[i];
        if (!has_prefix(m->key, "rule."))
            continue;
        pcmup_rule_entry *e = &entries[(*n)++];
        entry_from_name(m->key, e);
        PCMUP_TRY(pcmup__ck_parse_double(m->value, m->key, &e->value, func));
    }
    return PCMUP_OK;
}

static size_t count_meta_prefixed(const pcmup_checkpoint *ck, const char *prefix)
{
    size_t n = 0;
    for (size_t i = 0; i < ck->file.n_meta; i++)
        n += has_prefix(ck->file.meta[i].key, prefix);
    return n;
}

static pcmup_status read_rng(const char *text, pcmup_rng *rng, const char *func)
{
    const char *at = text;
    for (size_t i = 0; i < 4; i++) {
        uint64_t v = 0;
        size_t d = 0;
        for (; d < 16; d++) {
            char c = at[d];
            int x = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (x < 0)
                break;
            v = v << 4 | (uint64_t)x;
        }
        if (d != 16 || at[16] != (i < 3 ? ',' : '\0'))
            return pcmup__fail(PCMUP_ERR_FORMAT, func,
                               "metadata \"rng\" is not four 16-digit hexadecimal numbers");
        rng->s[i] = v;
        at += 17;
    }
    if (!(rng->s[0] | rng->s[1] | rng->s[2] | rng->s[3]))
        return pcmup__fail(PCMUP_ERR_FORMAT, func,
                           "metadata \"rng\" is all zeros, a state the generator never reaches");
    return PCMUP_OK;
}

/* pcmup_algo_create, its failures reported under func: the file's fault
 * (a dense-only rule on a convolutional network) or no memory. */
static pcmup_status create_algo(const pcmup_rule_ops *rule, pcmup_net *net,
                                const pcmup_allocator *alloc, pcmup_algo **out,
                                const char *func)
{
    pcmup_status s = pcmup_algo_create(out, rule->id, net, 0, alloc);
    if (s == PCMUP_ERR_NOMEM)
        return pcmup__fail(s, func, "cannot allocate the %s algorithm", rule->name);
    return s == PCMUP_OK ? s : refused(func, "the algorithm");
}

/* What an algorithm's load takes from the file, all checked. */
typedef struct {
    pcmup_net *net;          /* the saved network, like algo->net */
    pcmup_algo *algo;        /* on `net`, with the saved settings and rule state */
    pcmup_rule_entry *entries;
    size_t n_entries;
    double *values;          /* room for a per-layer setting's values */
    float *velocity;         /* NULL when the file has no momentum */
    pcmup_rng rng;
    uint64_t epochs, steps;
} algo_load;

static void load_free(algo_load *ld, const pcmup_allocator *alloc)
{
    pcmup_algo_free(ld->algo);
    pcmup_net_free(ld->net);
    pcmup__free(alloc, ld->entries);
    pcmup__free(alloc, ld->values);
    pcmup__free(alloc, ld->velocity);
}

/* The momentum tensors, all or none. */
static pcmup_status read_velocity(const pcmup_checkpoint *ck, algo_load *ld,
                                  const pcmup_allocator *alloc, const char *func)
{
    const pcmup_net *net = ld->net;
    size_t n = count_prefixed(ck, "momentum.");
    if (n == 0)
        return PCMUP_OK;
    size_t expected = net->n_layers * ((net->flags & PCMUP_NET_BIAS) ? 2 : 1);
    if (n != expected)
        return pcmup__fail(PCMUP_ERR_FORMAT, func,
                           "the checkpoint has %zu momentum tensors, the network %zu weight "
                           "tensors",
                           n, expected);
    ld->velocity = pcmup__alloc(alloc, net->n_params, sizeof(float));
    if (!ld->velocity)
        return pcmup__fail(PCMUP_ERR_NOMEM, func, "cannot allocate the momentum");
    return read_layer_tensors(ck, net, "momentum.", ld->velocity, func);
}

static pcmup_status read_counters(const pcmup_checkpoint *ck, algo_load *ld, const char *func)
{
    const char *rng, *epochs, *steps;
    PCMUP_TRY(require(ck, "rng", &rng, func));
    PCMUP_TRY(require(ck, "epochs", &epochs, func));
    PCMUP_TRY(require(ck, "steps", &steps, func));
    PCMUP_TRY(read_rng(rng, &ld->rng, func));
    PCMUP_TRY(pcmup__ck_parse_u64(epochs, "epochs", &ld->epochs, func));
    return pcmup__ck_parse_u64(steps, "steps", &ld->steps, func);
}

/* Everything the file says about an algorithm like `algo`, checked on new
 * objects (ld). */
static pcmup_status prepare(const pcmup_checkpoint *ck, const pcmup_algo *algo, algo_load *ld,
                            const char *func)
{
    const pcmup_allocator *alloc = &algo->alloc;
    const pcmup_rule_ops *rule = NULL;
    memset(ld, 0, sizeof *ld);
    PCMUP_TRY(rule_of(ck, &rule, func));
    if (rule != algo->rule)
        return pcmup__fail(PCMUP_ERR_INVALID, func,
                           "the checkpoint is of rule %s, the algorithm's rule is %s",
                           rule->name, algo->rule->name);
    PCMUP_TRY(build_like(ck, algo->net, &ld->net, func));
    const size_t n_layers = ld->net->n_layers;
    size_t room = count_prefixed(ck, "rule.") + count_meta_prefixed(ck, "rule.");
    ld->entries = pcmup__alloc(alloc, room ? room : 1, sizeof *ld->entries);
    ld->values = pcmup__alloc(alloc, n_layers, sizeof *ld->values);
    if (!ld->entries || !ld->values)
        return pcmup__fail(PCMUP_ERR_NOMEM, func, "cannot allocate the rule's state");
    PCMUP_TRY(create_algo(rule, ld->net, alloc, &ld->algo, func));
    PCMUP_TRY(read_settings(ck, ld->algo, ld->values, func));
    PCMUP_TRY(read_entries(ck, ld->entries, &ld->n_entries, func));
    if (ld->n_entries && !rule->load_persistent)
        return pcmup__fail(PCMUP_ERR_FORMAT, func, "%s keeps no state, and the checkpoint has "
                                                   "\"%s\"",
                           rule->name, ld->entries[0].name);
    if (rule->load_persistent) {
        pcmup_status s = rule->load_persistent(ld->algo, ld->entries, ld->n_entries, func);
        if (s != PCMUP_OK)
            return refused_status(s, func, "the rule's state");
    }
    PCMUP_TRY(read_velocity(ck, ld, alloc, func));
    return read_counters(ck, ld, func);
}

/* Puts what ld holds into algo. Only the rule's load can fail (it may
 * allocate); it comes first and changes nothing when it fails. */
static pcmup_status commit(pcmup_algo *algo, algo_load *ld, const char *func)
{
    if (algo->rule->load_persistent)
        PCMUP_TRY(algo->rule->load_persistent(algo, ld->entries, ld->n_entries, func));
    PCMUP_TRY(pcmup__settings_copy(algo, ld->algo, func));
    take_weights(algo->net, ld->net);
    const size_t n = algo->net->n_params;
    if (ld->velocity && algo->velocity) {
        memcpy(algo->velocity, ld->velocity, n * sizeof(float));
    } else if (ld->velocity) {
        algo->velocity = ld->velocity;
        ld->velocity = NULL;
    } else if (algo->velocity) {
        memset(algo->velocity, 0, n * sizeof(float));
    }
    algo->rng = ld->rng;
    algo->epochs = ld->epochs;
    algo->steps = ld->steps;
    algo->update_valid = 0;
    algo->alignment_valid = 0;
    algo->epoch_diagnostic_valid = 0;
    return PCMUP_OK;
}

static pcmup_status load_algo(pcmup_algo *algo, const pcmup_checkpoint *ck, const char *func)
{
    algo_load ld;
    pcmup_status s = prepare(ck, algo, &ld, func);
    if (s == PCMUP_OK)
        s = commit(algo, &ld, func);
    load_free(&ld, &algo->alloc);
    return s;
}

pcmup_status pcmup_algo_load_checkpoint(pcmup_algo *algo, const pcmup_checkpoint *checkpoint)
{
    PCMUP_CHECK_NULL(algo);
    PCMUP_CHECK_NULL(checkpoint);
    return load_algo(algo, checkpoint, __func__);
}

pcmup_status pcmup_algo_create_from_checkpoint(pcmup_algo **out, pcmup_net *net,
                                               const pcmup_checkpoint *checkpoint,
                                               const pcmup_allocator *allocator)
{
    PCMUP_CHECK_NULL(out);
    PCMUP_CHECK_NULL(net);
    PCMUP_CHECK_NULL(checkpoint);
    PCMUP_TRY(pcmup__allocator_check(allocator, __func__));
    pcmup_allocator alloc;
    pcmup__allocator_init(&alloc, allocator);
    const pcmup_rule_ops *rule = NULL;
    pcmup_algo *algo;
    PCMUP_TRY(rule_of(checkpoint, &rule, __func__));
    PCMUP_TRY(create_algo(rule, net, &alloc, &algo, __func__));
    pcmup_status s = load_algo(algo, checkpoint, __func__);
    if (s != PCMUP_OK) {
        pcmup_algo_free(algo);
        return s;
    }
    *out = algo;
    return PCMUP_OK;
}
