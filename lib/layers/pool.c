/* SPDX-License-Identifier: MIT */
/*
 * pool.c -- 2 x 2, stride-2 max and average pooling (pool.h). Every
 * function walks the B*C planes and, in each, the windows row by row; a
 * window is addressed by the offset of its top-left entry and the plane's
 * row length w.
 */
#include "layers/pool.h"

#include <math.h>

int pcmup__pool2_valid(size_t h, size_t w)
{
    return h > 0 && w > 0 && h % 2 == 0 && w % 2 == 0;
}

/* The in-plane offsets of a window's 4 entries in window order, for a
 * plane of row length w. */
static void window_offsets(size_t w, size_t off[4])
{
    off[0] = 0;
    off[1] = 1;
    off[2] = w;
    off[3] = w + 1;
}

/* The offset of window q's top-left entry, windows numbered as their
 * outputs (b, c, i, j) are stored: q in [0, B C h w / 4). */
static size_t window_origin(size_t q, size_t h, size_t w)
{
    const size_t half_w = w / 2, per_plane = (h / 2) * half_w;
    const size_t plane = q / per_plane, i = q % per_plane / half_w, j = q % half_w;
    return plane * h * w + 2 * i * w + 2 * j;
}

/* The window-order index (0..3) of the maximum of x[off[0..3]]: the first
 * maximum on ties, the first NaN if any. `>` is false for NaN on either
 * side, so a NaN must be looked for explicitly, and once found it stays. */
static int window_argmax(const float *x, const size_t off[4])
{
    int best = 0;
    for (int e = 1; e < 4 && !isnan(x[off[best]]); e++)
        if (isnan(x[off[e]]) || x[off[e]] > x[off[best]])
            best = e;
    return best;
}

/* The window reductions the forwards apply. */
static float window_max(const float *x, const size_t off[4])
{
    return x[off[window_argmax(x, off)]];
}

static float window_mean(const float *x, const size_t off[4])
{
    return ((x[off[0]] + x[off[1]]) + (x[off[2]] + x[off[3]])) * 0.25f;
}

/* out[q] = reduce(window q): both forwards. Static, so that each caller's
 * reduce is inlined rather than called through the pointer. */
static void pool_forward(const float *in, size_t n_windows, size_t h, size_t w,
                         float (*reduce)(const float *, const size_t *), float *out)
{
    size_t off[4];
    window_offsets(w, off);
    for (size_t q = 0; q < n_windows; q++)
        out[q] = reduce(in + window_origin(q, h, w), off);
}

void pcmup__maxpool2_forward(const float *in, size_t batch, size_t c, size_t h, size_t w,
                             float *out)
{
    pool_forward(in, batch * c * h * w / 4, h, w, window_max, out);
}

void pcmup__maxpool2_vjp(const float *in, const float *dout, size_t batch, size_t c, size_t h,
                         size_t w, float *din)
{
    size_t off[4];
    window_offsets(w, off);
    for (size_t q = 0; q < batch * c * h * w / 4; q++) {
        const size_t o = window_origin(q, h, w);
        const int best = window_argmax(in + o, off);
        for (int e = 0; e < 4; e++)
            din[o + off[e]] = e == best ? dout[q] : 0.0f;
    }
}

void pcmup__avgpool2_forward(const float *in, size_t batch, size_t c, size_t h, size_t w,
                             float *out)
{
    pool_forward(in, batch * c * h * w / 4, h, w, window_mean, out);
}

void pcmup__avgpool2_vjp(const float *dout, size_t batch, size_t c, size_t h, size_t w,
                         float *din)
{
    size_t off[4];
    window_offsets(w, off);
    for (size_t q = 0; q < batch * c * h * w / 4; q++) {
        const size_t o = window_origin(q, h, w);
        for (int e = 0; e < 4; e++)
            din[o + off[e]] = 0.25f * dout[q];
    }
}
