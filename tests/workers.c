/* SPDX-License-Identifier: MIT */
/* workers.c -- threads as workers (workers.h). */
#define _POSIX_C_SOURCE 200809L
#include "workers.h"

#include <stdlib.h>
#include <string.h>

struct tw_message {
    struct tw_message *next;
    size_t count;
    float data[];
};

void tw_group_init(tw_group *g, size_t n_workers)
{
    memset(g, 0, sizeof *g);
    g->n_workers = n_workers;
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->changed, NULL);
}

void tw_group_destroy(tw_group *g)
{
    for (size_t k = 0; k < TW_MAX_WORKERS; k++)
        for (int d = 0; d < 2; d++)
            while (g->box[k][d]) {
                tw_message *m = g->box[k][d];
                g->box[k][d] = m->next;
                free(m);
            }
    pthread_cond_destroy(&g->changed);
    pthread_mutex_destroy(&g->lock);
}

/* ---- failures and the barrier ---------------------------------------------- */

/* A failure of the calling worker: the group breaks. */
static int break_group(tw_group *g, int rc)
{
    pthread_mutex_lock(&g->lock);
    g->broken = 1;
    pthread_cond_broadcast(&g->changed);
    pthread_mutex_unlock(&g->lock);
    return rc;
}

/* Starts a callback: its failure, injected or the group's. */
static int begin_call(tw_worker *w)
{
    if (++w->calls == w->fail_at)
        return break_group(w->g, 42);
    pthread_mutex_lock(&w->g->lock);
    int broken = w->g->broken;
    pthread_mutex_unlock(&w->g->lock);
    return broken ? 99 : 0;
}

/* Waits until every worker has arrived (or the group broke: 99). */
static int barrier(tw_group *g)
{
    pthread_mutex_lock(&g->lock);
    unsigned long gen = g->generation;
    if (++g->arrived == g->n_workers) {
        g->arrived = 0;
        g->generation++;
        pthread_cond_broadcast(&g->changed);
    }
    while (gen == g->generation && !g->broken)
        pthread_cond_wait(&g->changed, &g->lock);
    int rc = gen == g->generation ? 99 : 0;
    pthread_mutex_unlock(&g->lock);
    return rc;
}

/* ---- the collectives -------------------------------------------------------- */

/* sum = the n buffers added in rank order, in their own precision. */
static void add_in_rank_order(void *sum, const void *const *bufs, size_t n, size_t count,
                              int type)
{
    for (size_t i = 0; i < count; i++) {
        if (type == PCMUP_REDUCE_FLOAT64) {
            double acc = ((const double *)bufs[0])[i];
            for (size_t r = 1; r < n; r++)
                acc += ((const double *)bufs[r])[i];
            ((double *)sum)[i] = acc;
        } else {
            float acc = ((const float *)bufs[0])[i];
            for (size_t r = 1; r < n; r++)
                acc += ((const float *)bufs[r])[i];
            ((float *)sum)[i] = acc;
        }
    }
}

int tw_sum(void *user, void *buf, size_t count, int type)
{
    tw_worker *w = user;
    tw_group *g = w->g;
    int rc = begin_call(w);
    if (rc)
        return rc;
    if (type != PCMUP_REDUCE_FLOAT32 && type != PCMUP_REDUCE_FLOAT64)
        return break_group(g, 7);
    const size_t size = type == PCMUP_REDUCE_FLOAT64 ? sizeof(double) : sizeof(float);
    g->bufs[w->rank] = buf;
    if ((rc = barrier(g)) != 0)
        return rc;
    char *sum = malloc(count * size + 1);
    add_in_rank_order(sum, g->bufs, g->n_workers, count, type);
    rc = barrier(g);
    if (rc == 0)
        memcpy(buf, sum, count * size);
    free(sum);
    /* Nobody changes a buffer before everyone has written theirs. */
    return rc ? rc : barrier(g);
}

int tw_gather(void *user, const float *mine, size_t count_mine, float *all, size_t all_count)
{
    tw_worker *w = user;
    tw_group *g = w->g;
    int rc = begin_call(w);
    if (rc)
        return rc;
    g->bufs[w->rank] = mine;
    g->counts[w->rank] = count_mine;
    if ((rc = barrier(g)) != 0)
        return rc;
    size_t at = 0;
    for (size_t r = 0; r < g->n_workers; r++) {
        if (at + g->counts[r] <= all_count)
            memcpy(all + at, g->bufs[r], g->counts[r] * sizeof *all);
        at += g->counts[r];
    }
    /* Every `mine` stays valid until all have copied it. */
    if ((rc = barrier(g)) != 0)
        return rc;
    return at == all_count ? 0 : break_group(g, 8);
}

/* ---- the mailboxes ---------------------------------------------------------- */

static void post(tw_group *g, size_t to, int from_above, const float *data, size_t count)
{
    tw_message *m = malloc(sizeof *m + count * sizeof(float));
    m->next = NULL;
    m->count = count;
    memcpy(m->data, data, count * sizeof(float));
    pthread_mutex_lock(&g->lock);
    tw_message **tail = &g->box[to][from_above];
    while (*tail)
        tail = &(*tail)->next;
    *tail = m;
    pthread_cond_broadcast(&g->changed);
    pthread_mutex_unlock(&g->lock);
}

/* Waits for the next message of a mailbox; 0, or 9 for a message of the
 * wrong length, 99 when the group broke meanwhile. */
static int take(tw_group *g, size_t at, int from_above, float *dst, size_t count)
{
    pthread_mutex_lock(&g->lock);
    while (!g->box[at][from_above] && !g->broken)
        pthread_cond_wait(&g->changed, &g->lock);
    tw_message *m = g->box[at][from_above];
    if (!m) {
        pthread_mutex_unlock(&g->lock);
        return 99;
    }
    g->box[at][from_above] = m->next;
    pthread_mutex_unlock(&g->lock);
    int rc = m->count == count ? 0 : 9;
    if (rc == 0)
        memcpy(dst, m->data, count * sizeof *dst);
    free(m);
    return rc ? break_group(g, rc) : 0;
}

int tw_exchange(void *user, const float *to_prev, size_t to_prev_count, float *from_prev,
                size_t from_prev_count, const float *to_next, size_t to_next_count,
                float *from_next, size_t from_next_count)
{
    tw_worker *w = user;
    tw_group *g = w->g;
    int rc = begin_call(w);
    if (rc)
        return rc;
    /* A count with no neighbour that way, or a pointer pcmup.h says is
     * NULL that is not, is a library bug. */
    const int first = w->rank == 0, last = w->rank + 1 == g->n_workers;
    if ((first && (to_prev_count || from_prev_count)) ||
        (last && (to_next_count || from_next_count)) || (!to_prev != !to_prev_count) ||
        (!from_prev != !from_prev_count) || (!to_next != !to_next_count) ||
        (!from_next != !from_next_count))
        return break_group(g, 8);
    if (to_prev_count)
        post(g, w->rank - 1, 1, to_prev, to_prev_count);
    if (to_next_count)
        post(g, w->rank + 1, 0, to_next, to_next_count);
    if (from_prev_count && (rc = take(g, w->rank, 0, from_prev, from_prev_count)) != 0)
        return rc;
    if (from_next_count && (rc = take(g, w->rank, 1, from_next, from_next_count)) != 0)
        return rc;
    return 0;
}

/* ---- threads, data, weights --------------------------------------------------- */

void tw_in_threads(void *(*fn)(void *), void *items, size_t item_size, size_t n)
{
    pthread_t threads[TW_MAX_WORKERS];
    ck_assert_uint_le(n, TW_MAX_WORKERS);
    for (size_t k = 0; k < n; k++)
        ck_assert_int_eq(pthread_create(&threads[k], NULL, fn, (char *)items + k * item_size),
                         0);
    for (size_t k = 0; k < n; k++)
        pthread_join(threads[k], NULL);
}

void tw_make_data(float *x, int32_t *labels, size_t n, size_t d_in, size_t n_classes)
{
    tu_fill_uniform(x, n * d_in, 11);
    for (size_t i = 0; i < n; i++)
        labels[i] = (int32_t)((i * 7 + 3) % n_classes);
}

float **tw_weights_copy(const pcmup_net *net, size_t n_layers)
{
    float **copy = malloc(n_layers * sizeof *copy);
    for (size_t l = 1; l <= n_layers; l++)
        copy[l - 1] = tu_layer_weights(net, l, NULL);
    return copy;
}

size_t tw_weights_changed(const pcmup_net *net, float *const *copy, size_t n_layers)
{
    size_t changed = 0;
    for (size_t l = n_layers; l >= 1; l--) {
        size_t n;
        float *now = tu_layer_weights(net, l, &n);
        if (memcmp(now, copy[l - 1], n * sizeof *now) != 0)
            changed = l;
        free(now);
    }
    return changed;
}

void tw_weights_free(float **copy, size_t n_layers)
{
    for (size_t l = 1; l <= n_layers; l++)
        free(copy[l - 1]);
    free(copy);
}
