/* SPDX-License-Identifier: MIT */
/*
 * param.h -- what the network and the rules read from a parameterization:
 * every width-dependent factor, evaluated at the network's widths.
 */
#ifndef PCMUP_PARAM_H
#define PCMUP_PARAM_H

#include "internal.h"

/* Factor f of layer l (1-based) at the network widths widths[0..L], which
 * the caller has checked (pcmup__check_widths). The widths are the ones
 * the width ratio r reads: M_0..M_L for an MLP; for a CNN the input size,
 * then M for every hidden layer (whatever multiple of M its channels are),
 * then the outputs (net.c, scale_widths). A rule's width-scaled
 * setting is its base setting times this (pcmup.h, pcmup_factor). */
double pcmup__param_factor(const pcmup_param *p, const size_t *widths, size_t layer,
                           pcmup_factor f);

/* The first `count` factors of layer l into dst, after checking layer,
 * dst and count; failures name `func`, the public function called.
 * fan_in: the fan-in of layer l's weights, which the init std divides by
 * (a convolution's C_{l-1} k^2); 0: widths[l - 1], a dense layer's. */
pcmup_status pcmup__param_factors(const pcmup_param *p, const size_t *widths, size_t fan_in,
                                  size_t layer, double *dst, size_t count, const char *func);

/* What the network needs to build layer l: its forward multiplier, the
 * std its weights are drawn with and eta_l / eta. */
typedef struct {
    double multiplier; /* r_l^-a_l            */
    double init_std;   /* std of w_l at init  */
    double lr_factor;  /* eta_l / eta = r^-c_l */
} pcmup_layer_scale;

pcmup_layer_scale pcmup__param_scale(const pcmup_param *p, size_t layer,
                                     const size_t *widths, size_t fan_in);

/* The widths of a network under p: widths non-NULL, n_widths = L + 1
 * (PCMUP_ERR_SHAPE otherwise), each width in [1, PCMUP_MAX_DIM]. */
pcmup_status pcmup__check_widths(const pcmup_param *p, const size_t *widths, size_t n_widths,
                                 const char *func);

/* Copies every value of src into dst; both have the same number of layers. */
void pcmup__param_copy(pcmup_param *dst, const pcmup_param *src);

/* pcmup_param_set without its guard on gammabar_L: a parameterization
 * read back from a checkpoint takes every value as saved, the exponents
 * that gammabar_L gave included. */
pcmup_status pcmup__param_set_value(pcmup_param *param, pcmup_param_key key, double value,
                                    const char *func);

/* 1 when x and y have the same layers and every value the same (the
 * preset they came from aside). */
int pcmup__param_equal(const pcmup_param *x, const pcmup_param *y);

/* The preset p's values came from ("sp", "mup-sgd", "mup-pc", "mup-pc-b",
 * "mup-gnt", "mup-tp"), or "custom" once one of them was set by hand
 * since; and the reverse, for a parameterization read back from a
 * checkpoint (a name that is no preset's gives "custom"). */
const char *pcmup__param_preset_name(const pcmup_param *p);
void pcmup__param_set_preset_name(pcmup_param *p, const char *name);
#endif
