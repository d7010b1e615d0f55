/* SPDX-License-Identifier: MIT */
/*
 * blas_warm.c -- the dense layers' products, run once on scratch when an
 * algorithm reserves for a batch (pcmup_algo_reserve).
 *
 * OpenBLAS packs its operands into a work buffer it mapped at start-up and
 * first writes when a product of a new shape needs more of it: 25 to 45
 * first-touch page faults inside the first step's GEMMs, at 10 to 60 us
 * each on a virtual machine, about a third of what still made the first
 * epoch of a short run slower than the next (docs/benchmark.md, "The first
 * epoch"). One product of each shape a dense layer's step issues, at the
 * reserved batch, faults those pages in before the first step. Every
 * product reads and writes buffers whose contents no step reads before
 * writing them (the gathered batch, the delta buffers, the snapshot's
 * copy of the parameters), so no result changes.
 */
#include "algo.h"

#include "kernel/kernel.h"

#include <string.h>

void pcmup__algo_warm_blas(pcmup_algo *algo, size_t batch)
{
    const pcmup_net *net = algo->net;
    const size_t wide = pcmup__net_max_width(net), dim = net->widths[0];
    float *w = algo->snapshot.params; /* n_params floats: holds any W */
    float *in_first = algo->batch_x, *in_hidden = algo->delta[0], *out = algo->delta[1];
    if (!w || !in_first || batch > algo->batch_x_cap || batch > algo->batch_cap)
        return; /* not reserved: nothing to warm on */
    /* Zeros, not leftover bytes: a denormal would make the product slow. */
    memset(w, 0, net->n_params * sizeof *w);
    memset(in_first, 0, batch * dim * sizeof *in_first);
    memset(in_hidden, 0, batch * wide * sizeof *in_hidden);
    /* `out` needs none: each first product writes it (beta 0) before the
     * other two read it. */
    for (size_t l = 1; l <= net->n_layers; l++) {
        const pcmup_layer *ly = &net->layers[l - 1];
        if (ly->conv.k || pcmup__layer_pools(ly))
            continue; /* a convolution's products are per chunk (conv.c) */
        const size_t n_in = ly->n_in, n_out = ly->n_out;
        float *in = l == 1 ? in_first : in_hidden;
        /* dense.c's three: forward, the input's gradient, the weights'. */
        pcmup__k_sgemm(NULL, 'N', 'T', batch, n_out, n_in, 1.0f, in, w, 0.0f, out);
        pcmup__k_sgemm(NULL, 'N', 'N', batch, n_in, n_out, 1.0f, out, w, 0.0f, in);
        pcmup__k_sgemm(NULL, 'T', 'N', n_out, n_in, batch, 1.0f, out, in, 0.0f, w);
    }
}
