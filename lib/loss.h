/* SPDX-License-Identifier: MIT */
/*
 * loss.h -- output losses: batch-mean value, gradient, accuracy.
 */
#ifndef PCMUP_LOSS_H
#define PCMUP_LOSS_H

#include "pcmup.h"

#include <stddef.h>
#include <stdint.h>

/* Sum over the batch of the per-sample loss of outputs f (batch, C) with
 * class labels; if grad is non-NULL it receives the per-sample gradient
 * dl/df (batch, C), not divided by the batch size. MSE targets are e_k, or
 * e_k - 1/C when `centred`. Summed in double. */
double pcmup__loss_sum(pcmup_loss loss, int centred, const float *f, const int32_t *labels,
                       size_t batch, size_t n_classes, float *grad);

/* Number of samples whose largest output (first on ties) is the label. */
size_t pcmup__count_correct(const float *f, const int32_t *labels, size_t batch,
                            size_t n_classes);

#endif
