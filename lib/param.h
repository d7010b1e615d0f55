/*
 * param.h -- what the network and the algorithms read from a
 * parameterization: the abc recipe evaluated at a given width.
 */
#ifndef PCMUP_PARAM_H
#define PCMUP_PARAM_H

#include "internal.h"

/* What layer l (1-based) gets at the network widths `widths` (M_0..M_L). */
typedef struct {
    double ratio;       /* r_l = M / M_base for this layer (1 when L = 1)  */
    double multiplier;  /* r_l^-a_l                                        */
    double init_std;    /* std of w_l at init                              */
    double lr_factor;   /* eta_l / eta = r_l^-c_l                           */
} pcmup_layer_scale;

pcmup_layer_scale pcmup__param_scale(const pcmup_param *p, size_t layer,
                                     const size_t *widths);

/* A whole-parameterization value (key already valid). */
double pcmup__param_key(const pcmup_param *p, pcmup_param_key key);

/* Copies every value of src into dst; both have the same number of layers. */
void pcmup__param_copy(pcmup_param *dst, const pcmup_param *src);
#endif
