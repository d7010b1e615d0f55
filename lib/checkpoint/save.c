/* SPDX-License-Identifier: MIT */
/*
 * save.c -- pcmup_net_save and pcmup_algo_save: the network, the
 * algorithm's state and the metadata that describes them, as the tensors
 * and strings of one safetensors file (docs/checkpoints.md).
 */
#include "algo.h"
#include "checkpoint/checkpoint.h"
#include "layers/activation.h"
#include "param.h"

#include <stdio.h>
#include <string.h>

/* ---- the metadata, built as a list of owned strings ---------------------- */

typedef struct {
    const pcmup_allocator *alloc;
    pcmup__st_meta *items;
    size_t n, cap;
    int nomem;              /* an allocation failed: the save reports it */
} meta_list;

static char *copy_text(const pcmup_allocator *alloc, const char *text)
{
    size_t n = strlen(text) + 1;
    char *copy = pcmup__alloc(alloc, n, 1);
    if (copy)
        memcpy(copy, text, n);
    return copy;
}

/* Appends key = value, both copied. */
static void meta_put(meta_list *m, const char *key, const char *value)
{
    if (m->nomem)
        return;
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 64;
        pcmup__st_meta *items = pcmup__alloc(m->alloc, cap, sizeof *items);
        if (!items) {
            m->nomem = 1;
            return;
        }
        if (m->n)
            memcpy(items, m->items, m->n * sizeof *items);
        pcmup__free(m->alloc, m->items);
        m->items = items;
        m->cap = cap;
    }
    char *k = copy_text(m->alloc, key), *v = copy_text(m->alloc, value);
    if (!k || !v) {
        pcmup__free(m->alloc, k);
        pcmup__free(m->alloc, v);
        m->nomem = 1;
        return;
    }
    m->items[m->n++] = (pcmup__st_meta){k, v};
}

static void meta_put_size(meta_list *m, const char *key, size_t value)
{
    char text[PCMUP__CK_NUMBER_MAX];
    snprintf(text, sizeof text, "%zu", value);
    meta_put(m, key, text);
}

static void meta_put_u64(meta_list *m, const char *key, uint64_t value)
{
    char text[PCMUP__CK_NUMBER_MAX];
    snprintf(text, sizeof text, "%llu", (unsigned long long)value);
    meta_put(m, key, text);
}

static void meta_put_double(meta_list *m, const char *key, double value)
{
    char text[PCMUP__CK_NUMBER_MAX];
    pcmup__ck_format_double(text, value);
    meta_put(m, key, text);
}

/* n items joined by ',', item i written by put(ctx, i, buf). */
static void meta_put_list(meta_list *m, const char *key, size_t n,
                          void (*put)(const void *ctx, size_t i, char *buf), const void *ctx)
{
    int overflow = 0;
    size_t bytes = pcmup__mul(n + 1, PCMUP__CK_NUMBER_MAX, &overflow);
    char *text = overflow ? NULL : pcmup__alloc(m->alloc, bytes, 1);
    if (!text) {
        m->nomem = 1;
        return;
    }
    size_t len = 0;
    text[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        char item[PCMUP__CK_NUMBER_MAX];
        put(ctx, i, item);
        len += (size_t)snprintf(text + len, bytes - len, "%s%s", i ? "," : "", item);
    }
    meta_put(m, key, text);
    pcmup__free(m->alloc, text);
}

static void meta_free(meta_list *m)
{
    for (size_t i = 0; i < m->n; i++) {
        pcmup__free(m->alloc, (void *)m->items[i].key);
        pcmup__free(m->alloc, (void *)m->items[i].value);
    }
    pcmup__free(m->alloc, m->items);
}

/* ---- the network's metadata --------------------------------------------- */

static void put_width(const void *ctx, size_t i, char *buf)
{
    snprintf(buf, PCMUP__CK_NUMBER_MAX, "%zu", ((const size_t *)ctx)[i]);
}

typedef struct {
    const pcmup_param *param;
    pcmup_layer_key key;
} param_column;

static void put_param(const void *ctx, size_t i, char *buf)
{
    const param_column *c = ctx;
    double v = 0.0;
    pcmup_param_get_layer(c->param, i + 1, c->key, &v);
    pcmup__ck_format_double(buf, v);
}

static void put_param_meta(meta_list *m, const pcmup_param *p, size_t n_layers)
{
    meta_put(m, "param.preset", pcmup__param_preset_name(p));
    for (size_t i = 0; i < PCMUP__CK_PARAM_COLUMNS; i++) {
        param_column c = {p, pcmup__ck_param_columns[i].layer_key};
        meta_put_list(m, pcmup__ck_param_columns[i].key, n_layers, put_param, &c);
    }
    param_column theta = {p, PCMUP_LAYER_THETA};
    meta_put_list(m, "param.theta", n_layers, put_param, &theta);
    for (size_t i = 0; i < PCMUP__CK_PARAM_SCALARS; i++) {
        double v = 0.0;
        pcmup_param_get(p, pcmup__ck_param_scalars[i].param_key, &v);
        meta_put_double(m, pcmup__ck_param_scalars[i].key, v);
    }
}

static void put_net_meta(meta_list *m, const pcmup_net *net)
{
    meta_put(m, "net.kind", net->desc ? "described" : "mlp");
    meta_put_size(m, "net.layers", net->n_layers);
    meta_put_list(m, "net.widths", net->n_layers + 1, put_width, net->widths);
    meta_put(m, "net.activation", pcmup__act_name(net->activation));
    meta_put(m, "net.bias", (net->flags & PCMUP_NET_BIAS) ? "true" : "false");
    meta_put_u64(m, "net.seed", net->seed);
    if (net->desc) {
        char text[PCMUP__NETDESC_TEXT_MAX];
        pcmup__netdesc_format(net->desc, text, sizeof text);
        const size_t shape[3] = {net->input_c, net->input_h, net->input_w};
        meta_put(m, "net.description", text);
        meta_put_list(m, "net.input_shape", 3, put_width, shape);
        meta_put_size(m, "net.width", net->width_m);
    }
    put_param_meta(m, net->param, net->n_layers);
}

static void put_header_meta(meta_list *m, const char *contents)
{
    meta_put(m, "format", PCMUP__CK_FORMAT);
    meta_put_size(m, "format_version", PCMUP_CHECKPOINT_FORMAT_VERSION);
    meta_put(m, "library_version", pcmup_version_string());
    meta_put(m, "contents", contents);
}

/* The caller's pairs, after checking them. */
static pcmup_status put_user_meta(meta_list *m, const char *const *pairs, size_t n,
                                  const char *func)
{
    for (size_t i = 0; i < n; i++) {
        const char *key = pairs[2 * i], *value = pairs[2 * i + 1];
        if (!key || !value)
            return pcmup__fail(PCMUP_ERR_NULL, func, "metadata %s %zu is NULL",
                               key ? "value" : "key", i);
        if (strncmp(key, "user.", 5) != 0 || !key[5])
            return pcmup__fail(PCMUP_ERR_INVALID, func,
                               "metadata key \"%.60s\" does not start with \"user.\" "
                               "(the other keys are the library's)",
                               key);
        meta_put(m, key, value);
    }
    return PCMUP_OK;
}

/* ---- the algorithm's metadata ------------------------------------------- */

typedef struct {
    const pcmup_algo *algo;
    pcmup_setting key;
} setting_column;

static void put_layer_setting(const void *ctx, size_t i, char *buf)
{
    const setting_column *c = ctx;
    pcmup__ck_format_double(buf, pcmup__setting_layer(c->algo, c->key, i + 1));
}

/* A setting's value as its name when it has one ("mse", "seq"). */
static void put_setting_value(meta_list *m, const char *key, pcmup_setting s, double v)
{
    const char *name;
    if (pcmup_setting_value_name(s, v, &name) == PCMUP_OK)
        meta_put(m, key, name);
    else
        meta_put_double(m, key, v);
}

static void put_settings_meta(meta_list *m, const pcmup_algo *algo)
{
    const size_t n_hidden = algo->net->n_layers - 1;
    for (size_t i = 0; i < pcmup_setting_count(); i++) {
        pcmup_setting s;
        const char *name;
        int accepts = 0, per_layer = 0;
        pcmup_setting_at(i, &s);
        pcmup_setting_accepts(s, algo->rule->id, &accepts);
        if (!accepts)
            continue;
        pcmup_setting_name(s, &name);
        pcmup_setting_per_layer(s, &per_layer);
        char key[PCMUP__CK_NAME_MAX];
        snprintf(key, sizeof key, "setting.%s", name);
        put_setting_value(m, key, s, algo->settings[s]);
        if (per_layer) {
            setting_column c = {algo, s};
            snprintf(key, sizeof key, "setting.%s.layers", name);
            meta_put_list(m, key, n_hidden, put_layer_setting, &c);
        }
    }
}

static void put_rng(const void *ctx, size_t i, char *buf)
{
    snprintf(buf, PCMUP__CK_NUMBER_MAX, "%016llx",
             (unsigned long long)((const pcmup_rng *)ctx)->s[i]);
}

static void put_algo_meta(meta_list *m, const pcmup_algo *algo)
{
    meta_put(m, "rule", algo->rule->name);
    put_settings_meta(m, algo);
    meta_put_list(m, "rng", 4, put_rng, &algo->rng);
    meta_put_u64(m, "epochs", algo->epochs);
    meta_put_u64(m, "steps", algo->steps);
}

/* ---- tensors ----------------------------------------------------------------- */

/* Tensors a checkpoint of net holds per layer at most (weight, bias and
 * their momentum). */
#define TENSORS_PER_LAYER 4

/* Layer l's weight and bias tensors of `block` (the parameters or the
 * velocity, laid out alike), named with `prefix`, appended to t[*n]. The
 * names go to names[*n] (PCMUP__CK_NAME_MAX each). */
static void put_layer_tensors(const pcmup_net *net, const float *block, const char *prefix,
                              pcmup__st_tensor *t, char (*names)[PCMUP__CK_NAME_MAX],
                              size_t *n)
{
    for (size_t l = 1; l <= net->n_layers; l++) {
        const pcmup_layer *ly = &net->layers[l - 1];
        const float *at = block + (ly->params - net->params);
        pcmup__st_tensor *w = &t[*n];
        memset(w, 0, sizeof *w);
        pcmup_net_weight_shape(net, l, w->shape, PCMUP__ST_MAX_RANK, &w->rank);
        pcmup__ck_weight_name(names[*n], prefix, l);
        w->name = names[*n];
        w->data = at;
        (*n)++;
        if (ly->has_bias) {
            pcmup__st_tensor *b = &t[*n];
            memset(b, 0, sizeof *b);
            b->rank = 1;
            b->shape[0] = w->shape[0];
            b->data = at + pcmup__st_floats(w);
            pcmup__ck_bias_name(names[*n], prefix, l);
            b->name = names[*n];
            (*n)++;
        }
    }
}

/* Everything a save owns until the file is written. */
typedef struct {
    meta_list meta;
    pcmup__st_tensor *tensors;
    char (*names)[PCMUP__CK_NAME_MAX];
    size_t n_tensors;
    pcmup_rule_entry *entries;
} save_job;

static pcmup_status job_alloc(save_job *job, const pcmup_allocator *alloc, size_t n_tensors,
                              size_t n_entries, const char *func)
{
    memset(job, 0, sizeof *job);
    job->meta.alloc = alloc;
    job->tensors = pcmup__alloc(alloc, n_tensors, sizeof *job->tensors);
    job->names = pcmup__alloc(alloc, n_tensors, sizeof *job->names);
    job->entries = pcmup__alloc(alloc, n_entries ? n_entries : 1, sizeof *job->entries);
    if (!job->tensors || !job->names || !job->entries)
        return pcmup__fail(PCMUP_ERR_NOMEM, func, "cannot allocate the checkpoint's index");
    return PCMUP_OK;
}

static void job_free(save_job *job)
{
    const pcmup_allocator *alloc = job->meta.alloc;
    meta_free(&job->meta);
    pcmup__free(alloc, job->tensors);
    pcmup__free(alloc, job->names);
    pcmup__free(alloc, job->entries);
}

static pcmup_status job_write(save_job *job, const char *path, const char *func)
{
    char crc[PCMUP__CK_NUMBER_MAX];
    if (!job->meta.nomem) {
        snprintf(crc, sizeof crc, "%08lx",
                 (unsigned long)pcmup__ck_header_crc(job->meta.items, job->meta.n,
                                                     job->tensors, job->n_tensors));
        meta_put(&job->meta, "header_crc32", crc);
    }
    if (job->meta.nomem)
        return pcmup__fail(PCMUP_ERR_NOMEM, func, "cannot allocate the checkpoint's metadata");
    return pcmup__st_write(path, job->tensors, job->n_tensors, job->meta.items, job->meta.n,
                           job->meta.alloc, func);
}

/* The rule's persistent entries: tensors appended to the job's, scalars
 * as metadata. */
static void put_rule_state(save_job *job, const pcmup_algo *algo, size_t n_entries)
{
    if (n_entries)
        algo->rule->list_persistent(algo, job->entries, n_entries);
    for (size_t i = 0; i < n_entries; i++) {
        const pcmup_rule_entry *e = &job->entries[i];
        char *name = job->names[job->n_tensors];
        pcmup__ck_rule_name(name, e->layer, e->name);
        if (e->rank == 0) {
            meta_put_double(&job->meta, name, e->value);
            continue;
        }
        pcmup__st_tensor *t = &job->tensors[job->n_tensors++];
        memset(t, 0, sizeof *t);
        t->name = name;
        t->rank = e->rank;
        t->shape[0] = e->shape[0];
        t->shape[1] = e->shape[1];
        t->data = e->data;
    }
}

static pcmup_status check_save_args(const char *path, const char *const *metadata,
                                    size_t n_metadata, const char *func)
{
    if (!path)
        return pcmup__fail(PCMUP_ERR_NULL, func, "path is NULL");
    if (n_metadata && !metadata)
        return pcmup__fail(PCMUP_ERR_NULL, func, "metadata is NULL");
    return PCMUP_OK;
}

pcmup_status pcmup_net_save(const pcmup_net *net, const char *path, const char *const *metadata,
                            size_t n_metadata)
{
    PCMUP_CHECK_NULL(net);
    PCMUP_TRY(check_save_args(path, metadata, n_metadata, __func__));
    save_job job;
    pcmup_status s = job_alloc(&job, &net->alloc, 2 * net->n_layers, 0, __func__);
    if (s == PCMUP_OK) {
        put_header_meta(&job.meta, "net");
        put_net_meta(&job.meta, net);
        s = put_user_meta(&job.meta, metadata, n_metadata, __func__);
    }
    if (s == PCMUP_OK) {
        put_layer_tensors(net, net->params, "", job.tensors, job.names, &job.n_tensors);
        s = job_write(&job, path, __func__);
    }
    job_free(&job);
    return s;
}

pcmup_status pcmup_algo_save(const pcmup_algo *algo, const char *path,
                             const char *const *metadata, size_t n_metadata)
{
    PCMUP_CHECK_NULL(algo);
    PCMUP_TRY(check_save_args(path, metadata, n_metadata, __func__));
    PCMUP_TRY(pcmup__split_refuse_stale(algo, __func__));
    const pcmup_net *net = algo->net;
    const size_t n_entries =
        algo->rule->list_persistent ? algo->rule->list_persistent(algo, NULL, 0) : 0;
    save_job job;
    pcmup_status s = job_alloc(&job, &algo->alloc, TENSORS_PER_LAYER * net->n_layers + n_entries,
                               n_entries, __func__);
    if (s == PCMUP_OK) {
        put_header_meta(&job.meta, "algo");
        put_net_meta(&job.meta, net);
        put_algo_meta(&job.meta, algo);
        s = put_user_meta(&job.meta, metadata, n_metadata, __func__);
    }
    if (s == PCMUP_OK) {
        put_layer_tensors(net, net->params, "", job.tensors, job.names, &job.n_tensors);
        if (algo->velocity)
            put_layer_tensors(net, algo->velocity, "momentum.", job.tensors, job.names,
                              &job.n_tensors);
        put_rule_state(&job, algo, n_entries);
        s = job_write(&job, path, __func__);
    }
    job_free(&job);
    return s;
}
