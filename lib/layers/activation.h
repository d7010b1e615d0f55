/* SPDX-License-Identifier: MIT */
/*
 * activation.h -- the elementwise nonlinearities phi and their derivatives.
 */
#ifndef PCMUP_ACTIVATION_H
#define PCMUP_ACTIVATION_H

#include "pcmup.h"

#include <stddef.h>

/* h[i] = phi(u[i]); h may equal u. */
void pcmup__act_forward(pcmup_activation act, const float *u, float *h, size_t n);
/* d[i] *= phi'(u[i]), with phi' read off h = phi(u) (tanh: 1 - h^2,
 * relu: h > 0, identity: 1), so the backward pass needs no stored u. */
void pcmup__act_backward_from_post(pcmup_activation act, const float *h, float *d, size_t n);
int pcmup__act_valid(pcmup_activation act);
const char *pcmup__act_name(pcmup_activation act);

#endif
