/* SPDX-License-Identifier: MIT */
/*
 * pool.h -- 2 x 2 pooling with stride 2, parameter-free, on (B, C, H, W)
 * activations stored NCHW (B rows of C*H*W values) with even H and W; the
 * output is (B, C, H/2, W/2). Output (b, c, i, j) reads the window of rows
 * 2i, 2i+1 and columns 2j, 2j+1, taken in row-major window order
 * (0,0), (0,1), (1,0), (1,1).
 *
 * The VJPs write every entry of din (windows do not overlap), so din needs
 * no clearing. Nothing here allocates.
 */
#ifndef PCMUP_POOL_H
#define PCMUP_POOL_H

#include <stddef.h>

/* 1 when h and w are even and non-zero, else 0 (the caller reports). */
int pcmup__pool2_valid(size_t h, size_t w);

/* out = the largest of each window. A NaN anywhere in a window makes its
 * output NaN (the first NaN in window order), as relu passes NaN on:
 * a divergence must show, not be hidden by the comparison. */
void pcmup__maxpool2_forward(const float *in, size_t batch, size_t c, size_t h, size_t w,
                             float *out);
/* din = the adjoint at `in` (the forward's input): each dout entry goes to
 * the position of its window's maximum (the first one on ties, the first
 * NaN if there is one), 0 to the other three. */
void pcmup__maxpool2_vjp(const float *in, const float *dout, size_t batch, size_t c, size_t h,
                         size_t w, float *din);

/* out = the mean of each window, ((a + b) + (c + d)) / 4. */
void pcmup__avgpool2_forward(const float *in, size_t batch, size_t c, size_t h, size_t w,
                             float *out);
/* din = dout / 4 at each of the window's 4 positions. */
void pcmup__avgpool2_vjp(const float *dout, size_t batch, size_t c, size_t h, size_t w,
                         float *din);

#endif
