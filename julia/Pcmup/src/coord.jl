# SPDX-License-Identifier: MIT
# Width transfer (pcmup.h, section 9; the Python package's coord.py): the
# coordinate check and update alignment. Updates are in the layout of
# `weights`: the (M_{l-1}, M_l) matrix transpose(dW_l) per dense layer.

"""L arrays for per-layer updates, in the layout of `weights`."""
update_arrays(net::Net) =
    [Array{Float32}(undef, julia_weight_size(net, l)) for l in 1:n_layers(net)]

function updates_by(f, algo::Algo, x, labels)
    xm, y = c_batch(algo, x, labels)
    updates = update_arrays(algo.net)
    p = pointers(updates)
    GC.@preserve updates check(f(xm, y, p))
    return updates
end

"""
    trial_update(algo, x, labels) -> Vector{Array{Float32}}

The rule's weight update on the batch, per layer, without applying it.
"""
function trial_update(algo::Algo, x, labels)
    return updates_by(algo, x, labels) do xm, y, p
        L.pcmup_algo_trial_update(algo, xm, length(xm), y, length(y), p, length(p))
    end
end

"""
    reference_update(algo, reference, x, labels) -> Vector{Array{Float32}}

The update of the reference rule (`:bp`, BP's SGD step, or `:gn`, the
Gauss-Newton step) on the batch from the same weights; nothing changes.
"""
function reference_update(algo::Algo, reference, x, labels)
    ref = enum_value(L.pcmup_reference_names, reference)
    return updates_by(algo, x, labels) do xm, y, p
        L.pcmup_algo_reference_update(algo, ref, xm, length(xm), y, length(y), p, length(p))
    end
end

alignment_outputs(n) = ntuple(_ -> Vector{Cdouble}(undef, n), 4)

"""
    update_alignment(algo, x, labels) -> NamedTuple

Per layer l, the cosine of the rule's trial update with BP's (`cos_bp`) and
GN's (`cos_gn`) and the norm ratios (`ratio_bp`, `ratio_gn`).
"""
function update_alignment(algo::Algo, x, labels)
    xm, y = c_batch(algo, x, labels)
    n = n_layers(algo.net)
    cb, cg, rb, rg = alignment_outputs(n)
    check(L.pcmup_algo_update_alignment(algo, xm, length(xm), y, length(y), cb, cg, rb, rg, n))
    return (cos_bp=cb, cos_gn=cg, ratio_bp=rb, ratio_gn=rg)
end

"""
    compare_updates(algo, x, labels, updates) -> NamedTuple

update_alignment's summary for updates the caller computed (one array per
layer, in the layout of `weights`).
"""
function compare_updates(algo::Algo, x, labels, updates::AbstractVector)
    xm, y = c_batch(algo, x, labels)
    n = n_layers(algo.net)
    length(updates) == n || throw(DimensionMismatch("$(length(updates)) updates for $n layers"))
    arrays = [floats(u) for u in updates]
    for l in 1:n
        size(arrays[l]) == julia_weight_size(algo.net, l) ||
            throw(DimensionMismatch("update $l has size $(size(arrays[l])), expected " *
                                    "$(julia_weight_size(algo.net, l))"))
    end
    cb, cg, rb, rg = alignment_outputs(n)
    p = pointers(arrays)
    GC.@preserve arrays begin
        check(L.pcmup_algo_compare_updates(algo, xm, length(xm), y, length(y), p, n,
                                           cb, cg, rb, rg, n))
    end
    return (cos_bp=cb, cos_gn=cg, ratio_bp=rb, ratio_gn=rg)
end

"""
    coord_check(prototype, widths, x, labels; steps, seed=0, probe=nothing) -> (dh, h_abs)

The coordinate check: for each hidden width, a fresh network and rule with
the prototype's settings train on the batch (x (M_0, B), labels 1..C);
`probe` (default x) is sent through at the given step counts. Returns two
arrays of size (L, n_steps, n_widths): `dh[l, k, i]` is mean |h_l(t) -
h_l(0)| and `h_abs[l, k, i]` mean |h_l(t)| after steps[k] steps at
widths[i].
"""
function coord_check(prototype::Algo, widths::AbstractVector{<:Integer}, x, labels;
                     steps::AbstractVector{<:Integer}, seed::Integer=0, probe=nothing)
    xm, y = c_batch(prototype, x, labels)
    w, st = collect(Csize_t, widths), collect(Csize_t, steps)
    pm = probe === nothing ? nothing : batch_matrix(probe, input_dim(prototype.net), "probe")
    depth = n_layers(prototype.net)
    dh = Array{Cdouble}(undef, depth, length(st), length(w))
    h_abs = similar(dh)
    check(L.pcmup_coord_check(prototype, w, length(w), xm, length(xm), y, length(y),
                              pm === nothing ? C_NULL : pm,
                              pm === nothing ? 0 : length(pm),
                              pm === nothing ? 0 : size(pm, 2),
                              st, length(st), seed, dh, h_abs, length(dh)))
    return (dh=dh, h_abs=h_abs)
end
