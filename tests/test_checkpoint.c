/* SPDX-License-Identifier: MIT */
/*
 * test_checkpoint.c -- checkpoints (pcmup.h, section 10): networks and
 * algorithms of every rule saved and read back exactly, training resumed
 * from a checkpoint bit for bit, every damaged file refused with the
 * caller's objects unchanged, and saves that never destroy the previous
 * file.
 *
 * The independent truth: the objects that were saved (their weights, read
 * through pcmup_net_get_weights, their settings, their next steps) and a
 * run that never stopped.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <dirent.h>

#include "testutil.h"

#define N_SAMPLES 40
#define BATCH 8
#define N_CLASSES 4

static char tmpdir[256];

static void setup(void)
{
    tu_make_tmpdir(tmpdir, sizeof tmpdir, "pcmup-ckpt");
}

static void teardown(void)
{
    tu_remove_tmpdir(tmpdir);
}

static const char *path_in_tmp(const char *name)
{
    static char path[8][400];
    static int which;
    which = (which + 1) % 8;
    snprintf(path[which], sizeof path[which], "%s/%s", tmpdir, name);
    return path[which];
}

/* ---- the objects: a model of each kind ------------------------------------ */

typedef struct {
    const char *label;
    pcmup_rule rule;
    pcmup_preset preset;
    double gamma_bar;
    const char *description;   /* NULL: the MLP 12-10-8-4 */
    void (*configure)(pcmup_algo *algo);
} model_kind;

typedef struct {
    pcmup_param *param;
    pcmup_net *net;
    pcmup_algo *algo;
    size_t dim;
} model;

static void configure_bp(pcmup_algo *a)
{
    TU_OK(pcmup_algo_set(a, PCMUP_SET_LR, 0.05));
    TU_OK(pcmup_algo_set(a, PCMUP_SET_MOMENTUM, 0.9));
    TU_OK(pcmup_algo_set(a, PCMUP_SET_WEIGHT_DECAY, 1e-3));
}

static void configure_pc(pcmup_algo *a)
{
    TU_OK(pcmup_algo_set(a, PCMUP_SET_LR, 0.03));
    TU_OK(pcmup_algo_set(a, PCMUP_SET_MOMENTUM, 0.5));
    TU_OK(pcmup_algo_set(a, PCMUP_SET_PC_ITERATIONS, 4));
    TU_OK(pcmup_algo_set(a, PCMUP_SET_PC_SCHEDULE, PCMUP_PC_SCHEDULE_SIMULTANEOUS));
    /* Random initial states draw from the algorithm's stream. */
    TU_OK(pcmup_algo_set(a, PCMUP_SET_PC_INIT, PCMUP_PC_INIT_RANDOM));
    TU_OK(pcmup_algo_set(a, PCMUP_SET_PC_KAPPA, 0.3));
    TU_OK(pcmup_algo_set_layer(a, 1, PCMUP_SET_PC_KAPPA, 0.2));
    TU_OK(pcmup_algo_set(a, PCMUP_SET_LOSS, PCMUP_LOSS_CE));
}

static void configure_pc_cnn(pcmup_algo *a)
{
    TU_OK(pcmup_algo_set(a, PCMUP_SET_LR, 0.03));
    TU_OK(pcmup_algo_set(a, PCMUP_SET_PC_ITERATIONS, 3));
    TU_OK(pcmup_algo_set(a, PCMUP_SET_PC_KAPPA, 0.2));
}

static void configure_pc_b(pcmup_algo *a)
{
    TU_OK(pcmup_algo_set(a, PCMUP_SET_LR, 0.02));
    TU_OK(pcmup_algo_set(a, PCMUP_SET_PC_LAST_LAYER, PCMUP_PC_LAST_LAYER_B));
    TU_OK(pcmup_algo_set(a, PCMUP_SET_PC_INIT, PCMUP_PC_INIT_ZERO));
    TU_OK(pcmup_algo_set(a, PCMUP_SET_PC_ITERATIONS, 6));
}

static void configure_gnt(pcmup_algo *a)
{
    TU_OK(pcmup_algo_set(a, PCMUP_SET_LR, 0.05));
    TU_OK(pcmup_algo_set(a, PCMUP_SET_GNT_VARIANT, PCMUP_GNT_SAMPLE));
    TU_OK(pcmup_algo_set(a, PCMUP_SET_GNT_DAMPING, 0.5));
}

static void configure_tp_trained(pcmup_algo *a)
{
    TU_OK(pcmup_algo_set(a, PCMUP_SET_LR, 0.05));
    TU_OK(pcmup_algo_set(a, PCMUP_SET_TP_FEEDBACK, PCMUP_TP_FEEDBACK_TRAINED));
    /* Noise draws from the algorithm's stream too. */
    TU_OK(pcmup_algo_set(a, PCMUP_SET_TP_FB_NOISE, 0.1));
    TU_OK(pcmup_algo_set(a, PCMUP_SET_TP_FB_STEPS, 2));
}

static void configure_tp_closed(pcmup_algo *a)
{
    TU_OK(pcmup_algo_set(a, PCMUP_SET_LR, 0.05));
    TU_OK(pcmup_algo_set(a, PCMUP_SET_MOMENTUM, 0.5));
}

static const model_kind kinds[] = {
    {"bp sp", PCMUP_RULE_BP, PCMUP_PRESET_SP, 0.0, NULL, configure_bp},
    {"bp mup cnn", PCMUP_RULE_BP, PCMUP_PRESET_MUP_SGD, 0.0,
     "conv3p1:M tanh maxpool2 conv3p1s2:2M relu dense:4", configure_bp},
    {"pc mup", PCMUP_RULE_PC, PCMUP_PRESET_MUP_PC, -0.5, NULL, configure_pc},
    {"pc mup cnn", PCMUP_RULE_PC, PCMUP_PRESET_MUP_PC, -1.0, "conv3p1:M avgpool2 dense:4",
     configure_pc_cnn},
    {"pc mup-pc-b", PCMUP_RULE_PC, PCMUP_PRESET_MUP_PC_B, -1.0, NULL, configure_pc_b},
    {"gnt mup", PCMUP_RULE_GNT, PCMUP_PRESET_MUP_GNT, 0.0, NULL, configure_gnt},
    {"tp trained", PCMUP_RULE_TP, PCMUP_PRESET_MUP_TP, 0.0, NULL, configure_tp_trained},
    {"dtp trained", PCMUP_RULE_DTP, PCMUP_PRESET_MUP_TP, 0.0, NULL, configure_tp_trained},
    {"dtp closed", PCMUP_RULE_DTP, PCMUP_PRESET_SP, 0.0, NULL, configure_tp_closed},
};

#define N_KINDS TU_COUNT(kinds)

static const model_kind *kind_named(const char *label)
{
    for (size_t i = 0; i < N_KINDS; i++)
        if (strcmp(kinds[i].label, label) == 0)
            return &kinds[i];
    ck_abort_msg("no kind \"%s\"", label);
    return NULL;
}

static model model_make(const model_kind *k, uint64_t seed)
{
    static const size_t widths[] = {12, 10, 8, N_CLASSES};
    model m;
    memset(&m, 0, sizeof m);
    size_t n_layers = 3;
    if (k->description) {
        pcmup_net_builder *b;
        TU_OK(pcmup_net_builder_create(&b, NULL));
        TU_OK(pcmup_net_builder_parse(b, k->description));
        TU_OK(pcmup_net_builder_n_layers(b, &n_layers));
        pcmup_net_builder_free(b);
    }
    TU_OK(pcmup_param_create(&m.param, n_layers, PCMUP_PRESET_SP, NULL));
    TU_OK(pcmup_param_apply_preset(m.param, k->preset, k->gamma_bar, 1.0));
    TU_OK(pcmup_param_set(m.param, PCMUP_PARAM_BASE_WIDTH, 4));
    if (k->description) {
        TU_OK(pcmup_net_create_from_text(&m.net, k->description, 2, 6, 6, 3, PCMUP_ACT_TANH,
                                         PCMUP_NET_BIAS, m.param, seed, NULL));
        m.dim = 2 * 6 * 6;
    } else {
        TU_OK(pcmup_net_create(&m.net, widths, TU_COUNT(widths), PCMUP_ACT_TANH, PCMUP_NET_BIAS,
                               m.param, seed, NULL));
        m.dim = widths[0];
    }
    TU_OK(pcmup_algo_create(&m.algo, k->rule, m.net, seed + 1, NULL));
    k->configure(m.algo);
    return m;
}

static void model_free(model *m)
{
    pcmup_algo_free(m->algo);
    pcmup_net_free(m->net);
    pcmup_param_free(m->param);
}

static pcmup_dataset *make_data(size_t dim)
{
    float *x = tu_uniform(N_SAMPLES * dim, 7);
    int32_t *labels = tu_cyclic_labels(N_SAMPLES, N_CLASSES);
    pcmup_dataset *ds;
    TU_OK(pcmup_dataset_from_arrays(&ds, N_SAMPLES, dim, N_CLASSES, x, N_SAMPLES * dim, labels,
                                    NULL));
    free(x);
    free(labels);
    return ds;
}

/* ---- comparing ---------------------------------------------------------------- */

/* Every weight and bias of a and b, bit for bit. */
static void assert_same_params(const pcmup_net *a, const pcmup_net *b)
{
    size_t la, lb;
    TU_OK(pcmup_net_n_layers(a, &la));
    TU_OK(pcmup_net_n_layers(b, &lb));
    ck_assert_uint_eq(la, lb);
    for (size_t l = 1; l <= la; l++) {
        size_t n, out, in;
        float *wa = tu_layer_weights(a, l, &n);
        float *wb = tu_layer_weights(b, l, NULL);
        ck_assert_msg(memcmp(wa, wb, n * sizeof *wa) == 0, "layer %zu's weights differ", l);
        TU_OK(pcmup_net_layer_shape(a, l, &out, &in));
        size_t dims[4], rank;
        TU_OK(pcmup_net_weight_shape(a, l, dims, 4, &rank));
        float *ba = malloc(dims[0] * sizeof *ba), *bb = malloc(dims[0] * sizeof *bb);
        TU_OK(pcmup_net_get_bias(a, l, ba, dims[0]));
        TU_OK(pcmup_net_get_bias(b, l, bb, dims[0]));
        ck_assert_msg(memcmp(ba, bb, dims[0] * sizeof *ba) == 0, "layer %zu's biases differ", l);
        free(wa), free(wb), free(ba), free(bb);
    }
}

/* Every setting the rule accepts, per-layer values included. */
static void assert_same_settings(const pcmup_algo *a, const pcmup_algo *b)
{
    pcmup_rule rule;
    TU_OK(pcmup_algo_rule(a, &rule));
    for (size_t i = 0; i < pcmup_setting_count(); i++) {
        pcmup_setting s;
        int accepts, per_layer;
        double va, vb;
        TU_OK(pcmup_setting_at(i, &s));
        TU_OK(pcmup_setting_accepts(s, rule, &accepts));
        if (!accepts)
            continue;
        TU_OK(pcmup_algo_get(a, s, &va));
        TU_OK(pcmup_algo_get(b, s, &vb));
        ck_assert_msg(va == vb, "setting %d: %g != %g", (int)s, va, vb);
        TU_OK(pcmup_setting_per_layer(s, &per_layer));
        for (size_t l = 1; per_layer && l < 8; l++) {
            if (pcmup_algo_get_layer(a, l, s, &va) != PCMUP_OK)
                break;
            TU_OK(pcmup_algo_get_layer(b, l, s, &vb));
            ck_assert_msg(va == vb, "setting %d, layer %zu: %g != %g", (int)s, l, va, vb);
        }
    }
}

static void assert_same_counters(const pcmup_algo *a, const pcmup_algo *b)
{
    uint64_t ea, sa, eb, sb;
    TU_OK(pcmup_algo_counters(a, &ea, &sa));
    TU_OK(pcmup_algo_counters(b, &eb, &sb));
    ck_assert_uint_eq(ea, eb);
    ck_assert_uint_eq(sa, sb);
}

/* A net and an algorithm made from a checkpoint file. */
static void open_model(const char *path, pcmup_net **net, pcmup_algo **algo)
{
    pcmup_checkpoint *ck;
    TU_OK(pcmup_checkpoint_open(&ck, path, NULL));
    TU_OK(pcmup_net_create_from_checkpoint(net, ck, NULL));
    TU_OK(pcmup_algo_create_from_checkpoint(algo, *net, ck, NULL));
    pcmup_checkpoint_free(ck);
}

/* ---- round trips and exact resume --------------------------------------------- */

/* Every kind: train one epoch, save, load into new objects, which equal
 * the saved ones; then both train one more epoch and still agree bit for
 * bit (the random stream, momentum and rule state came back too) with
 * the same counters. */
START_TEST(resume_is_exact_for_every_rule)
{
    for (size_t i = 0; i < N_KINDS; i++) {
        const model_kind *k = &kinds[i];
        model m = model_make(k, 11);
        pcmup_dataset *ds = make_data(m.dim);
        TU_OK(pcmup_algo_train_epoch(m.algo, ds, BATCH, NULL));
        const char *path = path_in_tmp("resume.safetensors");
        TU_OK(pcmup_algo_save(m.algo, path, NULL, 0));

        pcmup_net *net;
        pcmup_algo *algo;
        open_model(path, &net, &algo);
        assert_same_params(m.net, net);
        assert_same_settings(m.algo, algo);
        assert_same_counters(m.algo, algo);
        uint64_t epochs, steps;
        TU_OK(pcmup_algo_counters(algo, &epochs, &steps));
        ck_assert_uint_eq(epochs, 1);
        ck_assert_uint_eq(steps, (N_SAMPLES + BATCH - 1) / BATCH);

        double loss_a, loss_b;
        TU_OK(pcmup_algo_train_epoch(m.algo, ds, BATCH, &loss_a));
        TU_OK(pcmup_algo_train_epoch(algo, ds, BATCH, &loss_b));
        ck_assert_msg(loss_a == loss_b, "%s: loss %.9g after resuming, %.9g without", k->label,
                      loss_b, loss_a);
        assert_same_params(m.net, net);
        assert_same_counters(m.algo, algo);
        pcmup_algo_free(algo);
        pcmup_net_free(net);
        pcmup_dataset_free(ds);
        model_free(&m);
    }
}
END_TEST

/* A network alone: the same weights, description, parameterization and
 * outputs; its checkpoint has no algorithm. */
START_TEST(net_round_trip)
{
    for (size_t i = 0; i < N_KINDS; i++) {
        model m = model_make(&kinds[i], 5);
        const char *path = path_in_tmp("net.safetensors");
        TU_OK(pcmup_net_save(m.net, path, NULL, 0));
        pcmup_checkpoint *ck;
        pcmup_net *net;
        TU_OK(pcmup_checkpoint_open(&ck, path, NULL));
        TU_OK(pcmup_net_create_from_checkpoint(&net, ck, NULL));
        assert_same_params(m.net, net);
        char da[512], db[512];
        size_t na, nb;
        TU_OK(pcmup_net_describe(m.net, da, sizeof da, &na));
        TU_OK(pcmup_net_describe(net, db, sizeof db, &nb));
        ck_assert_str_eq(da, db);
        const pcmup_param *pa, *pb;
        TU_OK(pcmup_net_param(m.net, &pa));
        TU_OK(pcmup_net_param(net, &pb));
        for (size_t l = 1; l <= 3; l++)
            for (int key = PCMUP_LAYER_A; key <= PCMUP_LAYER_THETA; key++) {
                double va, vb;
                if (pcmup_param_get_layer(pa, l, key, &va) != PCMUP_OK)
                    break;
                TU_OK(pcmup_param_get_layer(pb, l, key, &vb));
                ck_assert(va == vb);
            }
        float *x = tu_uniform(3 * m.dim, 9);
        float ya[3 * N_CLASSES], yb[3 * N_CLASSES];
        TU_OK(pcmup_net_forward(m.net, x, 3 * m.dim, 3, ya, TU_COUNT(ya)));
        TU_OK(pcmup_net_forward(net, x, 3 * m.dim, 3, yb, TU_COUNT(yb)));
        ck_assert(memcmp(ya, yb, sizeof ya) == 0);
        pcmup_rule rule;
        TU_FAILS_IN(PCMUP_ERR_UNSUPPORTED, pcmup_checkpoint_rule, ck, &rule);
        pcmup_algo *algo;
        TU_FAILS(PCMUP_ERR_UNSUPPORTED, pcmup_algo_create_from_checkpoint(&algo, net, ck, NULL));
        /* A network's checkpoint loads into a network like it. */
        TU_OK(pcmup_net_init_weights(net, 99));
        TU_OK(pcmup_net_load_checkpoint(net, ck));
        assert_same_params(m.net, net);
        pcmup_net_free(net);
        pcmup_checkpoint_free(ck);
        free(x);
        model_free(&m);
    }
}
END_TEST

/* The metadata says what the file is, and keeps the caller's keys. */
START_TEST(metadata_describes_the_run)
{
    model m = model_make(kind_named("pc mup"), 3);
    const char *pairs[] = {"user.batch", "64", "user.note", "d\xc3\xa9j\xc3\xa0 \"vu\"\n"};
    const char *path = path_in_tmp("meta.safetensors");
    TU_OK(pcmup_algo_save(m.algo, path, pairs, 2));
    pcmup_checkpoint *ck;
    TU_OK(pcmup_checkpoint_open(&ck, path, NULL));
    const char *v;
    TU_OK(pcmup_checkpoint_metadata(ck, "user.note", &v));
    ck_assert_str_eq(v, pairs[3]);
    TU_OK(pcmup_checkpoint_metadata(ck, "library_version", &v));
    ck_assert_str_eq(v, pcmup_version_string());
    TU_OK(pcmup_checkpoint_metadata(ck, "rule", &v));
    ck_assert_str_eq(v, "pc");
    TU_OK(pcmup_checkpoint_metadata(ck, "param.preset", &v));
    ck_assert_str_eq(v, "mup-pc");
    TU_OK(pcmup_checkpoint_metadata(ck, "param.gamma_bar", &v));
    ck_assert_str_eq(v, "-0.5");
    TU_OK(pcmup_checkpoint_metadata(ck, "setting.pc_kappa.layers", &v));
    ck_assert_str_eq(v, "0.20000000000000001,0.29999999999999999");
    TU_OK(pcmup_checkpoint_metadata(ck, "setting.loss", &v));
    ck_assert_str_eq(v, "ce");
    TU_OK(pcmup_checkpoint_metadata(ck, "net.widths", &v));
    ck_assert_str_eq(v, "12,10,8,4");
    TU_OK(pcmup_checkpoint_metadata(ck, "no such key", &v));
    ck_assert_ptr_null(v);
    size_t n;
    const char *key;
    TU_OK(pcmup_checkpoint_metadata_count(ck, &n));
    TU_OK(pcmup_checkpoint_metadata_at(ck, 0, &key, &v));
    ck_assert_str_eq(key, "format");
    ck_assert_str_eq(v, "libpcmup-checkpoint");
    TU_FAILS_IN(PCMUP_ERR_INVALID, pcmup_checkpoint_metadata_at, ck, n, &key, &v);
    pcmup_rule rule;
    TU_OK(pcmup_checkpoint_rule(ck, &rule));
    ck_assert_int_eq(rule, PCMUP_RULE_PC);
    pcmup_checkpoint_free(ck);
    /* Keys of the library's own are refused, before anything is written. */
    const char *bad[] = {"rule", "bp"};
    TU_FAILS_IN(PCMUP_ERR_INVALID, pcmup_algo_save, m.algo, path_in_tmp("bad.safetensors"), bad,
                1);
    const char *invalid_utf8[] = {"user.x", "\xff"};
    TU_FAILS(PCMUP_ERR_INVALID,
             pcmup_algo_save(m.algo, path_in_tmp("bad.safetensors"), invalid_utf8, 1));
    struct stat st;
    ck_assert_int_ne(stat(path_in_tmp("bad.safetensors"), &st), 0);
    model_free(&m);
}
END_TEST

/* ---- refusals leave objects unchanged ------------------------------------------ */

/* Loading into objects of another rule, shape or parameterization fails
 * and changes nothing. */
START_TEST(mismatches_are_refused)
{
    model pc = model_make(kind_named("pc mup"), 3);
    const char *path = path_in_tmp("pc.safetensors");
    TU_OK(pcmup_algo_save(pc.algo, path, NULL, 0));
    pcmup_checkpoint *ck;
    TU_OK(pcmup_checkpoint_open(&ck, path, NULL));

    /* Another rule on the same network. */
    pcmup_algo *bp;
    TU_OK(pcmup_algo_create(&bp, PCMUP_RULE_BP, pc.net, 1, NULL));
    TU_FAILS_IN(PCMUP_ERR_INVALID, pcmup_algo_load_checkpoint, bp, ck);
    pcmup_algo_free(bp);

    /* Another parameterization, widths or activation. */
    model sp = model_make(kind_named("bp sp"), 3);        /* SP, the same widths */
    model cnn = model_make(kind_named("bp mup cnn"), 3);
    pcmup_net *before;
    TU_OK(pcmup_net_create_from_checkpoint(&before, ck, NULL));
    TU_OK(pcmup_net_init_weights(before, 1234));
    TU_FAILS_IN(PCMUP_ERR_SHAPE, pcmup_net_load_checkpoint, sp.net, ck);
    TU_FAILS_IN(PCMUP_ERR_SHAPE, pcmup_net_load_checkpoint, cnn.net, ck);
    ck_assert_ptr_nonnull(strstr(pcmup_last_error(), "differs"));
    pcmup_algo *pc_on_sp;
    TU_OK(pcmup_algo_create(&pc_on_sp, PCMUP_RULE_PC, sp.net, 1, NULL));
    TU_FAILS_IN(PCMUP_ERR_SHAPE, pcmup_algo_load_checkpoint, pc_on_sp, ck);
    double lr;
    TU_OK(pcmup_algo_get(pc_on_sp, PCMUP_SET_LR, &lr));
    double lr_default;
    TU_OK(pcmup_setting_default(PCMUP_SET_LR, &lr_default));
    ck_assert(lr == lr_default);
    pcmup_algo_free(pc_on_sp);

    /* The parameterization differs by one exponent of one layer. */
    const pcmup_param *param;
    pcmup_param *changed;
    TU_OK(pcmup_net_param(pc.net, &param));
    TU_OK(pcmup_param_clone(&changed, param));
    double c;
    TU_OK(pcmup_param_get_layer(changed, 2, PCMUP_LAYER_C, &c));
    TU_OK(pcmup_param_set_layer(changed, 2, PCMUP_LAYER_C, c + 0.5));
    static const size_t widths[] = {12, 10, 8, N_CLASSES};
    pcmup_net *other;
    TU_OK(pcmup_net_create(&other, widths, 4, PCMUP_ACT_TANH, PCMUP_NET_BIAS, changed, 3,
                           NULL));
    float *w_before = tu_layer_weights(other, 1, NULL);
    TU_FAILS_IN(PCMUP_ERR_SHAPE, pcmup_net_load_checkpoint, other, ck);
    ck_assert_ptr_nonnull(strstr(pcmup_last_error(), "parameterization"));
    float *w_after = tu_layer_weights(other, 1, NULL);
    ck_assert(memcmp(w_before, w_after, 10 * 12 * sizeof(float)) == 0);
    free(w_before), free(w_after);
    pcmup_net_free(other);
    pcmup_param_free(changed);

    pcmup_net_free(before);
    pcmup_checkpoint_free(ck);
    model_free(&cnn);
    model_free(&sp);
    model_free(&pc);
}
END_TEST

/* The whole file in memory. */
static unsigned char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *bytes = malloc((size_t)n);
    ck_assert_uint_eq(fread(bytes, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return bytes;
}

static void write_file(const char *path, const unsigned char *bytes, size_t size)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(bytes, 1, size, f), size);
    ck_assert_int_eq(fclose(f), 0);
}

/* pcmup_checkpoint_open on bytes: the status, and a message whenever it
 * fails. */
static pcmup_status open_bytes(const unsigned char *bytes, size_t size)
{
    const char *path = path_in_tmp("damaged.safetensors");
    write_file(path, bytes, size);
    pcmup_checkpoint *ck = NULL;
    pcmup_status s = pcmup_checkpoint_open(&ck, path, NULL);
    if (s == PCMUP_OK)
        pcmup_checkpoint_free(ck);
    else
        ck_assert_msg(strncmp(pcmup_last_error(), "pcmup_checkpoint_open: ", 23) == 0, "%s",
                      pcmup_last_error());
    return s;
}

/* A small algorithm's checkpoint with momentum and rule state. */
static unsigned char *small_checkpoint(size_t *size)
{
    static const size_t widths[] = {3, 4, 2};
    pcmup_param *param;
    pcmup_net *net;
    pcmup_algo *algo;
    TU_OK(pcmup_param_create(&param, 2, PCMUP_PRESET_MUP_TP, NULL));
    TU_OK(pcmup_net_create(&net, widths, 3, PCMUP_ACT_TANH, PCMUP_NET_BIAS, param, 1, NULL));
    TU_OK(pcmup_algo_create(&algo, PCMUP_RULE_TP, net, 1, NULL));
    configure_tp_trained(algo);
    TU_OK(pcmup_algo_set(algo, PCMUP_SET_MOMENTUM, 0.5));
    float x[2 * 3] = {0.1f, -0.2f, 0.3f, 0.5f, 0.4f, -0.1f};
    int32_t labels[2] = {0, 1};
    TU_OK(pcmup_algo_step(algo, x, 6, labels, 2, NULL));
    const char *path = path_in_tmp("small.safetensors");
    TU_OK(pcmup_algo_save(algo, path, NULL, 0));
    pcmup_algo_free(algo);
    pcmup_net_free(net);
    pcmup_param_free(param);
    return read_file(path, size);
}

/* Every truncation and every single-bit flip of a checkpoint is refused
 * with PCMUP_ERR_FORMAT (the header length, the JSON, the byte ranges,
 * the data's CRC-32, the metadata's CRC-32). */
START_TEST(damaged_files_are_refused)
{
    size_t size;
    unsigned char *bytes = small_checkpoint(&size);
    ck_assert_int_eq(open_bytes(bytes, size), PCMUP_OK);
    for (size_t n = 0; n < size; n++)
        ck_assert_msg(open_bytes(bytes, n) == PCMUP_ERR_FORMAT, "truncated to %zu of %zu: %s",
                      n, size, pcmup_status_name(open_bytes(bytes, n)));
    for (size_t i = 0; i < size; i++)
        for (int bit = 0; bit < 8; bit++) {
            bytes[i] ^= (unsigned char)(1u << bit);
            pcmup_status s = open_bytes(bytes, size);
            ck_assert_msg(s == PCMUP_ERR_FORMAT, "bit %d of byte %zu of %zu flipped: %s", bit,
                          i, size, pcmup_status_name(s));
            bytes[i] ^= (unsigned char)(1u << bit);
        }
    free(bytes);
}
END_TEST

/* Replaces the first `from` in bytes by `to` (the same length). */
static void patch(unsigned char *bytes, size_t size, const char *from, const char *to)
{
    size_t n = strlen(from);
    ck_assert_uint_eq(n, strlen(to));
    for (size_t i = 0; i + n <= size; i++)
        if (memcmp(bytes + i, from, n) == 0) {
            memcpy(bytes + i, to, n);
            return;
        }
    ck_abort_msg("\"%s\" not found", from);
}

/* A newer format version is refused by name, before its other checks. */
START_TEST(unknown_format_version_is_refused)
{
    size_t size;
    unsigned char *bytes = small_checkpoint(&size);
    patch(bytes, size, "\"format_version\":\"1\"", "\"format_version\":\"2\"");
    ck_assert_int_eq(open_bytes(bytes, size), PCMUP_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(pcmup_last_error(), "format version 2"));
    patch(bytes, size, "\"format_version\":\"2\"", "\"format_version\":\"1\"");
    ck_assert_int_eq(open_bytes(bytes, size), PCMUP_OK);
    patch(bytes, size, "libpcmup-checkpoint", "libpcmup-checkpoinT");
    ck_assert_int_eq(open_bytes(bytes, size), PCMUP_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(pcmup_last_error(), "not a libpcmup checkpoint"));
    free(bytes);
}
END_TEST

static void assert_no_file(const char *path)
{
    struct stat st;
    ck_assert_msg(stat(path, &st) != 0, "%s exists", path);
}

/* Nothing but the named entries are left in tmpdir (no temporary file). */
static void assert_dir_holds(size_t expected)
{
    DIR *d = opendir(tmpdir);
    ck_assert_ptr_nonnull(d);
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    ck_assert_uint_eq(n, expected);
}

/* A failed save leaves what was at the path; a save replaces it whole and
 * leaves no temporary file behind. */
START_TEST(saves_never_destroy_the_previous_file)
{
    model m = model_make(kind_named("bp sp"), 3);
    const char *path = path_in_tmp("run.safetensors");
    TU_OK(pcmup_algo_save(m.algo, path, NULL, 0));
    size_t size_before;
    unsigned char *before = read_file(path, &size_before);
    assert_dir_holds(1);

    /* The path is a directory: the rename fails, the directory stays. */
    const char *dir = path_in_tmp("taken");
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    char inside[512];
    snprintf(inside, sizeof inside, "%s/keep", dir);
    write_file(inside, (const unsigned char *)"x", 1);
    TU_FAILS_IN(PCMUP_ERR_IO, pcmup_algo_save, m.algo, dir, NULL, 0);
    assert_dir_holds(2);
    /* No directory to write in. */
    TU_FAILS_IN(PCMUP_ERR_IO, pcmup_net_save, m.net, path_in_tmp("none/run.safetensors"), NULL,
                0);
    assert_no_file(path_in_tmp("none"));

    /* A later save replaces the file with the new state. */
    pcmup_dataset *ds = make_data(m.dim);
    TU_OK(pcmup_algo_train_epoch(m.algo, ds, BATCH, NULL));
    TU_OK(pcmup_algo_save(m.algo, path, NULL, 0));
    assert_dir_holds(2);
    size_t size_after;
    unsigned char *after = read_file(path, &size_after);
    ck_assert(size_after != size_before || memcmp(before, after, size_before) != 0);
    pcmup_net *net;
    pcmup_algo *algo;
    open_model(path, &net, &algo);
    assert_same_params(m.net, net);
    pcmup_algo_free(algo);
    pcmup_net_free(net);
    free(before), free(after);
    pcmup_dataset_free(ds);
    model_free(&m);
}
END_TEST

/* Every allocation of opening, creating and loading may fail: each
 * failure is PCMUP_ERR_NOMEM, leaks nothing and changes nothing. */
START_TEST(allocation_failures_are_clean)
{
    model m = model_make(kind_named("tp trained"), 3);
    pcmup_dataset *ds = make_data(m.dim);
    TU_OK(pcmup_algo_train_epoch(m.algo, ds, BATCH, NULL));
    const char *path = path_in_tmp("nomem.safetensors");
    TU_OK(pcmup_algo_save(m.algo, path, NULL, 0));
    int completed = 0;
    for (size_t k = 1; !completed; k++) {
        tu_counter counter = {0};
        counter.fail_after = k;
        pcmup_allocator alloc = tu_counting_allocator(&counter);
        pcmup_checkpoint *ck = NULL;
        pcmup_net *net = NULL;
        pcmup_algo *algo = NULL;
        pcmup_status s = pcmup_checkpoint_open(&ck, path, &alloc);
        if (s == PCMUP_OK)
            s = pcmup_net_create_from_checkpoint(&net, ck, &alloc);
        if (s == PCMUP_OK)
            s = pcmup_algo_create_from_checkpoint(&algo, net, ck, &alloc);
        if (s == PCMUP_OK) {
            assert_same_params(m.net, net);
            completed = 1;
        } else {
            ck_assert_msg(s == PCMUP_ERR_NOMEM, "allocation %zu: %s (%s)", k,
                          pcmup_status_name(s), pcmup_last_error());
        }
        pcmup_algo_free(algo);
        pcmup_net_free(net);
        pcmup_checkpoint_free(ck);
        ck_assert_msg(counter.live == 0, "allocation %zu failed: %ld blocks leaked", k,
                      counter.live);
        ck_assert_uint_lt(k, 10000);
    }
    /* Objects whose allocator fails on demand: loading into them and
     * saving them. */
    tu_counter counter = {0};
    pcmup_allocator alloc = tu_counting_allocator(&counter);
    pcmup_checkpoint *ck;
    pcmup_net *net;
    pcmup_algo *algo;
    TU_OK(pcmup_checkpoint_open(&ck, path, NULL));
    TU_OK(pcmup_net_create_from_checkpoint(&net, ck, &alloc));
    TU_OK(pcmup_algo_create(&algo, PCMUP_RULE_TP, net, 1, &alloc));
    TU_OK(pcmup_net_init_weights(net, 77));
    float *w_before = tu_layer_weights(net, 2, NULL);
    for (size_t k = 1;; k++) {
        counter.fail_after = k;
        pcmup_status s = pcmup_algo_load_checkpoint(algo, ck);
        counter.fail_after = 0;
        if (s == PCMUP_OK)
            break;
        ck_assert_msg(s == PCMUP_ERR_NOMEM, "allocation %zu: %s", k, pcmup_last_error());
        float *w = tu_layer_weights(net, 2, NULL);
        ck_assert(memcmp(w, w_before, 8 * 10 * sizeof *w) == 0);
        free(w);
        ck_assert_uint_lt(k, 10000);
    }
    assert_same_params(m.net, net);
    assert_same_settings(m.algo, algo);
    const char *copy = path_in_tmp("copy.safetensors");
    for (size_t k = 1;; k++) {
        counter.fail_after = k;
        pcmup_status s = pcmup_algo_save(algo, copy, NULL, 0);
        counter.fail_after = 0;
        if (s == PCMUP_OK)
            break;
        ck_assert_msg(s == PCMUP_ERR_NOMEM, "allocation %zu: %s", k, pcmup_last_error());
        assert_no_file(copy);
        assert_dir_holds(1);
        ck_assert_uint_lt(k, 10000);
    }
    free(w_before);
    pcmup_checkpoint_free(ck);
    pcmup_algo_free(algo);
    pcmup_net_free(net);
    ck_assert_int_eq(counter.live, 0);
    pcmup_dataset_free(ds);
    model_free(&m);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        resume_is_exact_for_every_rule, net_round_trip, metadata_describes_the_run,
        mismatches_are_refused, damaged_files_are_refused, unknown_format_version_is_refused,
        saves_never_destroy_the_previous_file, allocation_failures_are_clean,
    };
    return tu_run_tests("checkpoint", 600, setup, teardown, tests, TU_COUNT(tests));
}
