# SPDX-License-Identifier: MIT
# The rules' own diagnostics (pcmup.h, sections 6 to 8; the Python
# package's diagnostics.py): predictive coding, the Gauss-Newton target,
# target propagation. Per-layer results are vectors indexed by the layer
# number l = 1..L (TP's feedback ones by l - 1, for l = 2..L).

"""A vector of `n` doubles filled by `f(algo, dst, n)`."""
function doubles_of(f, algo::Algo, n::Integer)
    dst = Vector{Cdouble}(undef, n)
    check(f(algo, dst, n))
    return dst
end

"""The output precision gamma_L this PC algorithm uses at its network's width."""
pc_gamma_out(algo::Algo) = c_out(Cdouble, L.pcmup_pc_gamma_out, algo)

"""The energy at the initial states and after each inference iteration of the last step."""
function pc_energy_trace(algo::Algo)
    n = Ref{Csize_t}(0)
    check(L.pcmup_pc_energy_trace(algo, C_NULL, 0, n))
    dst = Vector{Cdouble}(undef, n[])
    check(L.pcmup_pc_energy_trace(algo, dst, length(dst), n))
    return dst
end

"""The mean energy after inference over the last complete epoch."""
pc_epoch_energy(algo::Algo) = c_out(Cdouble, L.pcmup_pc_epoch_energy, algo)

"""Per layer l, the RMS over the batch of ||eps_l|| of the last step."""
pc_error_norms(algo::Algo) = doubles_of(L.pcmup_pc_error_norms, algo, n_layers(algo.net))

"""
    pc_linear_equilibrium(algo, x, labels) -> NamedTuple

The exact inference equilibrium of a deep linear PC network on the batch
(x (M_0, B), labels 1..C): `eps[l]` (M_l, B) for l = 1..L, `states[l]`
(M_l, B) for l = 1..L-1, `updates[l]` (M_{l-1}, M_l) = transpose(dW_l),
`c_gamma` (M_L, M_L, symmetric), `c_gamma_norm` and `energy`.
"""
function pc_linear_equilibrium(algo::Algo, x::AbstractArray{<:Real},
                               labels::AbstractVector{<:Integer})
    xm, y = c_batch(algo, x, labels)
    net, B = algo.net, size(xm, 2)
    depth = n_layers(net)
    outs = [first(layer_shape(net, l)) for l in 1:depth]
    eps = [Matrix{Float32}(undef, outs[l], B) for l in 1:depth]
    states = [Matrix{Float32}(undef, outs[l], B) for l in 1:depth-1]
    updates = [Array{Float32}(undef, julia_weight_size(net, l)) for l in 1:depth]
    c_gamma = Matrix{Float32}(undef, outs[depth], outs[depth])
    norm, energy = Ref{Cdouble}(0), Ref{Cdouble}(0)
    pe, ps, pu = pointers(eps), pointers(states), pointers(updates)
    GC.@preserve eps states updates begin
        check(L.pcmup_pc_linear_equilibrium(algo, xm, length(xm), y, B, pe, length(pe),
                                            ps, length(ps), pu, length(pu), c_gamma,
                                            length(c_gamma), norm, energy))
    end
    return (eps=eps, states=states, updates=updates, c_gamma=c_gamma,
            c_gamma_norm=norm[], energy=energy[])
end

"""Per layer l, the damping rho_l a step of this GNT algorithm uses."""
gnt_damping(algo::Algo) = doubles_of(L.pcmup_gnt_damping, algo, n_layers(algo.net))

"""Per layer l, the order of the dense system a GNT step on `batch` samples solves."""
function gnt_system_size(algo::Algo, batch::Integer)
    n = n_layers(algo.net)
    dst = Vector{Csize_t}(undef, n)
    check(L.pcmup_gnt_system_size(algo, batch, dst, n))
    return Int.(dst)
end

"""Per layer l, the RMS over the last step's batch of ||t_l - h_l|| (TP, DTP)."""
tp_target_distances(algo::Algo) =
    doubles_of(L.pcmup_tp_target_distances, algo, n_layers(algo.net))

"""
    tp_feedback_loss(algo) -> (before, after)

Per feedback layer l = 2..L (index l - 1), the reconstruction loss of the
last step with the feedback it started from and the one its targets used.
"""
function tp_feedback_loss(algo::Algo)
    n = n_layers(algo.net) - 1
    before, after = Vector{Cdouble}(undef, n), Vector{Cdouble}(undef, n)
    check(L.pcmup_tp_feedback_loss(algo, before, after, n))
    return (before=before, after=after)
end

"""The Julia size of V_l, C's (M_{l-1}, M_l) reversed: (M_l, M_{l-1})."""
feedback_size(algo::Algo, layer::Integer) = layer_shape(algo.net, layer)

"""
    tp_feedback(algo, layer) -> Matrix{Float32}

The trained feedback weights V_l (l = 2..L) as the (M_l, M_{l-1}) matrix
transpose(V_l).
"""
function tp_feedback(algo::Algo, layer::Integer)
    dst = Matrix{Float32}(undef, feedback_size(algo, layer)...)
    check(L.pcmup_tp_get_feedback(algo, layer, dst, length(dst)))
    return dst
end

"""Sets V_l from the (M_l, M_{l-1}) matrix transpose(V_l)."""
function set_tp_feedback!(algo::Algo, layer::Integer, v::AbstractMatrix{<:Real})
    want = feedback_size(algo, layer)
    size(v) == want || throw(DimensionMismatch("feedback of size $(size(v)), expected $want"))
    src = floats(v)
    check(L.pcmup_tp_set_feedback(algo, layer, src, length(src)))
    return algo
end
