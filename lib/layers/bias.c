/* SPDX-License-Identifier: MIT */
/*
 * bias.c -- the per-channel bias every layer kind may carry: dense layers
 * have one position per channel, convolutions h_out * w_out of them.
 */
#include "layers/layer.h"

void pcmup__bias_add(const float *bias, size_t channels, size_t spatial, size_t batch,
                     float *x)
{
    /* Sample by sample, so that a dense layer (spatial 1) adds the bias
     * vector to each row in one vectorised pass. */
    for (size_t b = 0; b < batch; b++) {
        float *sample = x + b * channels * spatial;
        if (spatial == 1) {
            for (size_t c = 0; c < channels; c++)
                sample[c] += bias[c];
            continue;
        }
        for (size_t c = 0; c < channels; c++) {
            float *row = sample + c * spatial;
            for (size_t j = 0; j < spatial; j++)
                row[j] += bias[c];
        }
    }
}

/* sum_j d[j] over one channel's positions, accumulated in float left to
 * right like the GEMMs' own sums. */
static float channel_sum(const float *d, size_t spatial)
{
    float s = 0.0f;
    for (size_t j = 0; j < spatial; j++)
        s += d[j];
    return s;
}

void pcmup__bias_grad(const float *d, size_t channels, size_t spatial, size_t batch,
                      float scale, float beta, float *gbias)
{
    if (beta != 1.0f)
        pcmup__k_sscal(channels, beta, gbias);
    for (size_t b = 0; b < batch; b++) {
        const float *db = d + b * channels * spatial;
        if (spatial == 1) {
            /* dense: one vectorised update per sample */
            pcmup__k_saxpy(channels, scale, db, gbias);
            continue;
        }
        for (size_t c = 0; c < channels; c++)
            gbias[c] += scale * channel_sum(db + c * spatial, spatial);
    }
}
