/* SPDX-License-Identifier: MIT */
/*
 * test_netdesc.c -- the textual network description (lib/netdesc.c):
 * every token kind read into the fields it spells, the presets against
 * their written-out text, shapes resolved against sizes worked out by hand
 * (SimpleCNN on FashionMNIST, VGG5 on CIFAR-sized input) and against the
 * CNN reference case's recorded shapes, the canonical text and its round
 * trip, and every error with its exact message.
 *
 * An internal test: it links a static build of lib/ and includes its
 * headers (tests/CMakeLists.txt, PCMUP_INTERNAL_TESTS).
 */
#include "testutil.h"

#include "netdesc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUNC "test_netdesc"

static pcmup__netdesc parse_ok(const char *text)
{
    pcmup__netdesc d;
    TU_OK(pcmup__netdesc_parse(text, &d, FUNC));
    return d;
}

/* The layer's fields, in netdesc_layer order. */
static void check_layer(const pcmup__netdesc_layer *l, pcmup__netdesc_kind kind, size_t k,
                        size_t pad, size_t stride, size_t channels, int per_width,
                        int has_act, pcmup_activation act, pcmup__netdesc_pool pool)
{
    ck_assert_int_eq(l->kind, kind);
    ck_assert_uint_eq(l->k, k);
    ck_assert_uint_eq(l->pad, pad);
    ck_assert_uint_eq(l->stride, stride);
    ck_assert_uint_eq(l->channels, channels);
    ck_assert_int_eq(l->per_width, per_width);
    ck_assert_int_eq(l->has_activation, has_act);
    if (has_act)
        ck_assert_int_eq(l->activation, act);
    ck_assert_int_eq(l->pool, pool);
}

START_TEST(every_token_kind)
{
    pcmup__netdesc d = parse_ok("  conv3p1s2:2M relu avgpool2   conv5p0:7 identity maxpool2 "
                                "conv1p4:M  dense:M tanh dense:10 ");
    ck_assert_ptr_null(d.preset);
    ck_assert_uint_eq(d.n_layers, 5);
    check_layer(&d.layers[0], PCMUP__NETDESC_CONV, 3, 1, 2, 2, 1, 1, PCMUP_ACT_RELU,
                PCMUP__NETDESC_POOL_AVG);
    check_layer(&d.layers[1], PCMUP__NETDESC_CONV, 5, 0, 1, 7, 0, 1, PCMUP_ACT_IDENTITY,
                PCMUP__NETDESC_POOL_MAX);
    check_layer(&d.layers[2], PCMUP__NETDESC_CONV, 1, 4, 1, 1, 1, 0, 0,
                PCMUP__NETDESC_POOL_NONE);
    check_layer(&d.layers[3], PCMUP__NETDESC_DENSE, 0, 0, 0, 1, 1, 1, PCMUP_ACT_TANH,
                PCMUP__NETDESC_POOL_NONE);
    check_layer(&d.layers[4], PCMUP__NETDESC_DENSE, 0, 0, 0, 10, 0, 0, 0,
                PCMUP__NETDESC_POOL_NONE);
    /* positions count tokens, not spaces */
    ck_assert_uint_eq(d.layers[1].token, 4);
    ck_assert_uint_eq(d.layers[1].pool_token, 6);
    ck_assert_uint_eq(d.layers[0].pool_token, 3);
    ck_assert_uint_eq(d.layers[2].pool_token, 0);
    ck_assert_str_eq(d.layers[3].text, "dense:M");
    /* the largest numbers the grammar takes */
    d = parse_ok("conv2147483647p2147483647s2147483647:2147483647M dense:2147483647");
    check_layer(&d.layers[0], PCMUP__NETDESC_CONV, 2147483647, 2147483647, 2147483647,
                2147483647, 1, 0, 0, PCMUP__NETDESC_POOL_NONE);
    ck_assert_uint_eq(d.layers[1].channels, 2147483647);
}
END_TEST

START_TEST(presets_expand)
{
    pcmup__netdesc simple = parse_ok("simplecnn");
    pcmup__netdesc written =
        parse_ok("conv5p2:M tanh maxpool2 conv5p2:2M tanh maxpool2 dense:10");
    ck_assert_str_eq(simple.preset, "simplecnn");
    ck_assert(pcmup__netdesc_equal(&simple, &written));
    pcmup__netdesc vgg = parse_ok(" vgg5 ");
    ck_assert_str_eq(vgg.preset, "vgg5");
    ck_assert_uint_eq(vgg.n_layers, 5);
    const size_t mult[4] = {1, 2, 4, 4};
    for (size_t i = 0; i < 4; i++)
        check_layer(&vgg.layers[i], PCMUP__NETDESC_CONV, 3, 1, 1, mult[i], 1, 1,
                    PCMUP_ACT_TANH, PCMUP__NETDESC_POOL_MAX);
    check_layer(&vgg.layers[4], PCMUP__NETDESC_DENSE, 0, 0, 0, 10, 0, 0, 0,
                PCMUP__NETDESC_POOL_NONE);
    ck_assert(!pcmup__netdesc_equal(&simple, &vgg));
}
END_TEST

/* c_out x h_out x w_out -> h_post x w_post, n_in, n_out of one layer. */
static void check_shape(const pcmup__netdesc_shape *s, size_t c_out, size_t h_out,
                        size_t w_out, size_t h_post, size_t w_post, size_t n_in, size_t n_out)
{
    ck_assert_uint_eq(s->c_out, c_out);
    ck_assert_uint_eq(s->h_out, h_out);
    ck_assert_uint_eq(s->w_out, w_out);
    ck_assert_uint_eq(s->h_post, h_post);
    ck_assert_uint_eq(s->w_post, w_post);
    ck_assert_uint_eq(s->n_in, n_in);
    ck_assert_uint_eq(s->n_out, n_out);
}

START_TEST(simplecnn_on_fashion_mnist)
{
    pcmup__netdesc d = parse_ok("simplecnn");
    pcmup__netdesc_shape s[PCMUP__NETDESC_MAX_LAYERS];
    TU_OK(pcmup__netdesc_resolve(&d, 1, 28, 28, 16, PCMUP_ACT_RELU, s, TU_COUNT(s), FUNC));
    /* 1x28x28 -> conv 16x28x28 -> pool 16x14x14 -> conv 32x14x14 -> pool
     * 32x7x7 -> dense 1568 -> 10 */
    check_shape(&s[0], 16, 28, 28, 14, 14, 784, 16 * 784);
    check_shape(&s[1], 32, 14, 14, 7, 7, 16 * 196, 32 * 196);
    check_shape(&s[2], 10, 1, 1, 1, 1, 1568, 10);
    ck_assert_uint_eq(s[1].c_in, 16);
    ck_assert_uint_eq(s[1].h_in, 14);
    ck_assert_int_eq(s[0].activation, PCMUP_ACT_TANH);
    ck_assert_int_eq(s[2].activation, PCMUP_ACT_RELU); /* the default */
}
END_TEST

START_TEST(vgg5_shapes)
{
    pcmup__netdesc d = parse_ok("vgg5");
    pcmup__netdesc_shape s[5];
    /* 3x32x32 at M = 128: 128x32 -> 16, 256x16 -> 8, 512x8 -> 4, 512x4 -> 2,
     * dense 512*2*2 = 2048 -> 10 */
    TU_OK(pcmup__netdesc_resolve(&d, 3, 32, 32, 128, PCMUP_ACT_TANH, s, 5, FUNC));
    check_shape(&s[0], 128, 32, 32, 16, 16, 3 * 1024, 128 * 1024);
    check_shape(&s[3], 512, 4, 4, 2, 2, 512 * 16, 512 * 16);
    check_shape(&s[4], 10, 1, 1, 1, 1, 2048, 10);
    /* 28 -> 14 -> 7: the third pool meets 7 x 7 (token 9 of the expansion) */
    tu_prime_message("x");
    ck_assert_int_eq(pcmup__netdesc_resolve(&d, 1, 28, 28, 16, PCMUP_ACT_TANH, s, 5, FUNC),
                     PCMUP_ERR_SHAPE);
    ck_assert_str_eq(pcmup_last_error(),
                     FUNC ": token 9 'maxpool2' of preset vgg5: cannot pool a 7 x 7 map "
                          "(2 x 2 pooling needs even sizes)");
}
END_TEST

/* "4x8x8 8x4x4 3" -> the i-th entry's sizes (1 for those not written). */
static void shape_entry(const char *list, size_t i, size_t dims[3])
{
    const char *p = list;
    for (size_t j = 0; j < i; j++) {
        p = strchr(p, ' ');
        ck_assert_ptr_nonnull(p);
        p++;
    }
    dims[0] = dims[1] = dims[2] = 1;
    char *end;
    for (size_t j = 0; j < 3; j++) {
        dims[j] = strtoul(p, &end, 10);
        if (*end != 'x')
            break;
        p = end + 1;
    }
}

START_TEST(cnn_case_shapes)
{
    tu_case *c = tu_case_load("cnn_pc_default");
    const char *arch = tu_case_str(c, "arch");
    ck_assert_str_eq(arch, "conv3p1:4 tanh maxpool2 conv3p1:8 tanh maxpool2 dense:3");
    pcmup__netdesc d = parse_ok(arch);
    pcmup__netdesc_shape s[3];
    TU_OK(pcmup__netdesc_resolve(&d, (size_t)tu_case_list(c, "input_shape", 0),
                                 (size_t)tu_case_list(c, "input_shape", 1),
                                 (size_t)tu_case_list(c, "input_shape", 2),
                                 (size_t)tu_case_num(c, "M"), tu_case_activation(c), s, 3,
                                 FUNC));
    size_t u[3], h[3];
    for (size_t l = 0; l < 3; l++) {
        shape_entry(tu_case_str(c, "u_shape_l"), l, u);
        ck_assert_uint_eq(s[l].c_out, u[0]);
        ck_assert_uint_eq(s[l].h_out, u[1]);
        ck_assert_uint_eq(s[l].w_out, u[2]);
        ck_assert_uint_eq(s[l].n_in, (size_t)tu_case_list(c, "channels", l) *
                                         (l ? s[l - 1].h_post * s[l - 1].w_post : 64));
    }
    for (size_t l = 0; l < 2; l++) {
        shape_entry(tu_case_str(c, "h_shape_l"), l, h);
        ck_assert_uint_eq(s[l].c_out, h[0]);
        ck_assert_uint_eq(s[l].h_post, h[1]);
        ck_assert_uint_eq(s[l].w_post, h[2]);
    }
    tu_case_free(c);
}
END_TEST

START_TEST(canonical_text_round_trips)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"conv03p01s1:1M tanh  dense:010", "conv3p1:M tanh dense:10"},
        {"conv3p1s2:2M relu avgpool2 dense:M identity dense:3",
         "conv3p1s2:2M relu avgpool2 dense:M identity dense:3"},
        {"conv5p0:7 maxpool2 dense:1", "conv5p0:7 maxpool2 dense:1"},
        {"simplecnn", "conv5p2:M tanh maxpool2 conv5p2:2M tanh maxpool2 dense:10"},
    };
    for (size_t i = 0; i < TU_COUNT(cases); i++) {
        pcmup__netdesc d = parse_ok(cases[i].in);
        char text[PCMUP__NETDESC_TEXT_MAX];
        size_t len = pcmup__netdesc_format(&d, text, sizeof text);
        ck_assert_str_eq(text, cases[i].out);
        ck_assert_uint_eq(len, strlen(cases[i].out));
        pcmup__netdesc again = parse_ok(text);
        ck_assert(pcmup__netdesc_equal(&d, &again));
        /* a short buffer gets a cut, terminated prefix and the full length */
        char small[8];
        ck_assert_uint_eq(pcmup__netdesc_format(&d, small, sizeof small), len);
        ck_assert_int_eq(strncmp(small, cases[i].out, 7), 0);
        ck_assert_uint_eq(strlen(small), 7);
        ck_assert_uint_eq(pcmup__netdesc_format(&d, NULL, 0), len);
    }
}
END_TEST

/* Asserts that parsing `text` fails with PCMUP_ERR_INVALID and exactly
 * the message FUNC ": <want>". */
static void check_parse_error(const char *text, const char *want)
{
    pcmup__netdesc d;
    char full[256];
    snprintf(full, sizeof full, FUNC ": %s", want);
    tu_prime_message("x");
    pcmup_status s = pcmup__netdesc_parse(text, &d, FUNC);
    ck_assert_msg(s == PCMUP_ERR_INVALID, "'%s' -> %s", text, pcmup_status_name(s));
    ck_assert_msg(strcmp(pcmup_last_error(), full) == 0, "'%s': got \"%s\", want \"%s\"", text,
                  pcmup_last_error(), full);
}

START_TEST(parse_errors_name_the_token)
{
    static const char *const cases[][2] = {
        {"", "empty description"},
        {"   ", "empty description"},
        {"conv3p1:4 tanh dense:3 maxpool3", "token 4 'maxpool3': unknown token"},
        {"conv3p1:4 TANH dense:3", "token 2 'TANH': unknown token"},
        {"conv3p1:4\ttanh dense:3", "token 1 'conv3p1:4\ttanh': malformed channels: "
                                    "expected a positive count, M or <count>M"},
        {"conv0p1:4 dense:3", "token 1 'conv0p1:4': kernel size 0"},
        {"conv3p1s0:4 dense:3", "token 1 'conv3p1s0:4': stride 0"},
        {"conv3p dense:3", "token 1 'conv3p': malformed convolution: "
                           "expected conv<k>p<pad>[s<stride>]:<channels>"},
        {"conv3p1 dense:3", "token 1 'conv3p1': malformed convolution: "
                            "expected conv<k>p<pad>[s<stride>]:<channels>"},
        {"conv3:4 dense:3", "token 1 'conv3:4': malformed convolution: "
                            "expected conv<k>p<pad>[s<stride>]:<channels>"},
        {"convp1:4 dense:3", "token 1 'convp1:4': malformed convolution: "
                             "expected conv<k>p<pad>[s<stride>]:<channels>"},
        {"conv3p1s:4 dense:3", "token 1 'conv3p1s:4': malformed convolution: "
                               "expected conv<k>p<pad>[s<stride>]:<channels>"},
        {"conv2147483648p1:4 dense:3", "token 1 'conv2147483648p1:4': number above 2147483647"},
        {"conv3p1:4 dense:99999999999999999999999",
         "token 2 'dense:99999999999999999999999': number above 2147483647"},
        {"dense:", "token 1 'dense:': malformed channels: "
                   "expected a positive count, M or <count>M"},
        {"dense:3x", "token 1 'dense:3x': malformed channels: "
                     "expected a positive count, M or <count>M"},
        {"dense:MM", "token 1 'dense:MM': malformed channels: "
                     "expected a positive count, M or <count>M"},
        {"dense:0M", "token 1 'dense:0M': zero channels"},
        {"conv3p1:0 dense:3", "token 1 'conv3p1:0': zero channels"},
        {"tanh dense:3", "token 1 'tanh': activation with no layer before it"},
        {"dense:3 relu tanh", "token 3 'tanh': second activation for one layer"},
        {"conv3p1:4 maxpool2 tanh dense:3",
         "token 3 'tanh': activation after pooling (write it before the pool)"},
        {"maxpool2 dense:3", "token 1 'maxpool2': pooling with no layer before it"},
        {"conv3p1:4 maxpool2 avgpool2 dense:3", "token 3 'avgpool2': second pooling for one layer"},
        {"dense:8 avgpool2 dense:3", "token 2 'avgpool2': pooling after a dense layer"},
        {"dense:8 conv3p1:4 dense:3",
         "token 2 'conv3p1:4': convolution after a dense layer (convolutions come first)"},
        {"conv3p1:4 tanh maxpool2",
         "token 3 'maxpool2': the description ends without a dense output layer"},
        {"conv3p1:4 dense:10 tanh", "token 3 'tanh': the output layer has no activation"},
        {"simplecnn dense:10", "token 1 'simplecnn': a preset must be the whole description"},
        {"dense:3 vgg5", "token 2 'vgg5': a preset must be the whole description"},
        {"conv1234567890123456789012345678901234567890p1:4 dense:3",
         "token 1 'conv12345678901234567890123456789012...': number above 2147483647"},
    };
    for (size_t i = 0; i < TU_COUNT(cases); i++)
        check_parse_error(cases[i][0], cases[i][1]);
}
END_TEST

START_TEST(layer_capacity)
{
    char text[PCMUP__NETDESC_MAX_LAYERS * 8 + 16] = "";
    for (size_t i = 0; i < PCMUP__NETDESC_MAX_LAYERS; i++)
        strcat(text, "dense:1 ");
    pcmup__netdesc d = parse_ok(text);
    ck_assert_uint_eq(d.n_layers, PCMUP__NETDESC_MAX_LAYERS);
    strcat(text, "dense:2");
    check_parse_error(text, "token 65 'dense:2': more than 64 layers");
}
END_TEST

/* Asserts that resolving `text` fails with `want` and message FUNC ": msg". */
static void check_resolve_error(const char *text, size_t c, size_t h, size_t w, size_t width,
                                pcmup_status want, const char *msg)
{
    pcmup__netdesc d = parse_ok(text);
    pcmup__netdesc_shape s[PCMUP__NETDESC_MAX_LAYERS];
    char full[256];
    snprintf(full, sizeof full, FUNC ": %s", msg);
    tu_prime_message("x");
    ck_assert_int_eq(
        pcmup__netdesc_resolve(&d, c, h, w, width, PCMUP_ACT_TANH, s, TU_COUNT(s), FUNC), want);
    ck_assert_str_eq(pcmup_last_error(), full);
}

START_TEST(resolve_errors_name_the_token)
{
    check_resolve_error("conv3p1:4 maxpool2 dense:3", 1, 7, 8, 1, PCMUP_ERR_SHAPE,
                        "token 2 'maxpool2': cannot pool a 7 x 8 map "
                        "(2 x 2 pooling needs even sizes)");
    check_resolve_error("conv3p1s2:4 tanh avgpool2 dense:3", 1, 2, 2, 1, PCMUP_ERR_SHAPE,
                        "token 3 'avgpool2': cannot pool a 1 x 1 map "
                        "(2 x 2 pooling needs even sizes)");
}
END_TEST

START_TEST(resolve_size_errors)
{
    check_resolve_error("conv5p0:2 dense:3", 1, 4, 9, 1, PCMUP_ERR_SHAPE,
                        "token 1 'conv5p0:2': no convolution of this kernel on a 4 x 9 input "
                        "(or a count above 2147483647)");
    check_resolve_error("conv3p1:1073741824M dense:1", 1, 4, 4, 2, PCMUP_ERR_SHAPE,
                        "token 1 'conv3p1:1073741824M': 1073741824M channels at M = 2 is above "
                        "2147483647");
    check_resolve_error("dense:1 dense:2147483647M", 1, 4, 4, 4, PCMUP_ERR_SHAPE,
                        "token 2 'dense:2147483647M': 2147483647M channels at M = 4 is above "
                        "2147483647");
    check_resolve_error("dense:3", 65536, 65536, 1, 1, PCMUP_ERR_SHAPE,
                        "token 1 'dense:3': its input of 65536 channels of 65536 values is "
                        "above 2147483647 values");
    check_resolve_error("dense:3", 0, 28, 28, 1, PCMUP_ERR_INVALID,
                        "input 0 x 28 x 28 and width 1: every size must be positive");
    check_resolve_error("dense:M", 1, 28, 28, 0, PCMUP_ERR_INVALID,
                        "input 1 x 28 x 28 and width 0: every size must be positive");
    pcmup__netdesc d = parse_ok("dense:4 dense:3");
    pcmup__netdesc_shape s[1];
    TU_FAILS(PCMUP_ERR_INVALID, pcmup__netdesc_resolve(&d, 1, 2, 2, 1, PCMUP_ACT_TANH, s, 1,
                                                        FUNC));
    TU_FAILS(PCMUP_ERR_NULL, pcmup__netdesc_parse(NULL, &d, FUNC));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("netdesc");
    TCase *parse = tcase_create("parse");
    tcase_add_test(parse, every_token_kind);
    tcase_add_test(parse, presets_expand);
    tcase_add_test(parse, canonical_text_round_trips);
    tcase_add_test(parse, parse_errors_name_the_token);
    tcase_add_test(parse, layer_capacity);
    suite_add_tcase(s, parse);
    TCase *resolve = tcase_create("resolve");
    tcase_add_test(resolve, simplecnn_on_fashion_mnist);
    tcase_add_test(resolve, vgg5_shapes);
    tcase_add_test(resolve, cnn_case_shapes);
    tcase_add_test(resolve, resolve_errors_name_the_token);
    tcase_add_test(resolve, resolve_size_errors);
    suite_add_tcase(s, resolve);
    return tu_run_suite(s);
}
