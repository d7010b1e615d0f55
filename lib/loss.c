/* SPDX-License-Identifier: MIT */
/*
 * loss.c -- mean squared error on one-hot targets and softmax cross-entropy.
 */
#include "loss.h"

#include <math.h>

/* 1/2 ||f - y||^2 with y = e_k (- 1/C if centred); gradient f - y. */
static double mse_sample(const float *f, int32_t label, size_t c, int centred, float *grad)
{
    const double offset = centred ? 1.0 / (double)c : 0.0;
    double sum = 0.0;
    for (size_t j = 0; j < c; j++) {
        double y = (j == (size_t)label ? 1.0 : 0.0) - offset;
        double d = (double)f[j] - y;
        sum += d * d;
        if (grad)
            grad[j] = (float)d;
    }
    return 0.5 * sum;
}

/* -log softmax(f)_k through log-sum-exp shifted by max f; gradient p - e_k. */
static double ce_sample(const float *f, int32_t label, size_t c, float *grad)
{
    double fmax = f[0];
    for (size_t j = 1; j < c; j++)
        fmax = fmax > f[j] ? fmax : f[j];
    double z = 0.0;
    for (size_t j = 0; j < c; j++)
        z += exp((double)f[j] - fmax);
    double log_z = fmax + log(z);
    if (grad)
        for (size_t j = 0; j < c; j++)
            grad[j] = (float)(exp((double)f[j] - log_z) - (j == (size_t)label ? 1.0 : 0.0));
    return log_z - (double)f[label];
}

double pcmup__loss_sum(pcmup_loss loss, int centred, const float *f, const int32_t *labels,
                       size_t batch, size_t n_classes, float *grad)
{
    double total = 0.0;
    for (size_t i = 0; i < batch; i++) {
        const float *fi = f + i * n_classes;
        float *gi = grad ? grad + i * n_classes : NULL;
        total += loss == PCMUP_LOSS_CE ? ce_sample(fi, labels[i], n_classes, gi)
                                       : mse_sample(fi, labels[i], n_classes, centred, gi);
    }
    return total;
}

size_t pcmup__count_correct(const float *f, const int32_t *labels, size_t batch,
                            size_t n_classes)
{
    size_t correct = 0;
    for (size_t i = 0; i < batch; i++) {
        const float *fi = f + i * n_classes;
        size_t best = 0;
        for (size_t j = 1; j < n_classes; j++)
            if (fi[j] > fi[best])
                best = j;
        correct += best == (size_t)labels[i];
    }
    return correct;
}
