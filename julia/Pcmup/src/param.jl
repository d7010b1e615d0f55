# SPDX-License-Identifier: MIT
# Parameterizations (pcmup.h, section 2): pcmup_param (the Python package's
# param.py).

"""
    Param(n_layers; preset=:sp, gamma_bar=0.0, e_B=1.0, base_width=nothing)

An abc-parameterization of `n_layers` weight layers from a preset (`:sp`,
`:mup_sgd`, `:mup_pc`, `:mup_pc_b`, `:mup_gnt`, `:mup_tp`) at gammabar_L =
`gamma_bar` and GNT's power e_B, with base width `base_width` (the
library's default, 64, when `nothing`).

    p = Param(3; preset=:mup_pc, gamma_bar=-1.0, base_width=128)
    p[:base_width]                 # whole-parameterization keys by name
    set_layer!(p, 2, :c, 0.5)      # per-layer exponents a, b, c, sigma
"""
mutable struct Param <: Handle
    ptr::Ptr{L.pcmup_param}
    Param(ptr::Ptr{L.pcmup_param}) = own!(new(ptr))
end
free_function(::Param) = L.pcmup_param_free
Base.unsafe_convert(::Type{Ptr{L.pcmup_param}}, p::Param) = handle(p)

function Param(n_layers::Integer; preset=:sp, gamma_bar::Real=0.0, e_B::Real=1.0,
               base_width=nothing)
    out = out_ref(L.pcmup_param)
    check(L.pcmup_param_create(out, n_layers, enum_value(L.pcmup_preset_names, preset),
                               C_NULL))
    p = Param(out[])
    (gamma_bar != 0 || e_B != 1) && apply_preset!(p, preset; gamma_bar=gamma_bar, e_B=e_B)
    base_width === nothing || (p[:base_width] = base_width)
    return p
end

"""A deep copy (pcmup_param_clone)."""
function Base.copy(p::Param)
    out = out_ref(L.pcmup_param)
    check(L.pcmup_param_clone(out, p))
    return Param(out[])
end

"""
    apply_preset!(p, preset; gamma_bar=0.0, e_B=1.0)

Overwrites every layer's exponents from the preset's row; only the base
width is kept.
"""
function apply_preset!(p::Param, preset; gamma_bar::Real=0.0, e_B::Real=1.0)
    check(L.pcmup_param_apply_preset(p, enum_value(L.pcmup_preset_names, preset),
                                     gamma_bar, e_B))
    return p
end

"""The number of weight layers L."""
n_layers(p::Param) = Int(c_out(Csize_t, L.pcmup_param_n_layers, p))

"""
    set_layer!(p, layer, key, value)

Sets layer `layer`'s (1..L) exponent `key`: `:a`, `:b`, `:c` or `:sigma`.
"""
function set_layer!(p::Param, layer::Integer, key, value::Real)
    check(L.pcmup_param_set_layer(p, layer, enum_value(L.pcmup_layer_key_names, key), value))
    return p
end

"""
    get_layer(p, layer, key) -> Float64

Layer `layer`'s `:a`, `:b`, `:c`, `:sigma` or `:theta` (2a + c).
"""
get_layer(p::Param, layer::Integer, key) =
    c_out(Cdouble, L.pcmup_param_get_layer, p, layer, enum_value(L.pcmup_layer_key_names, key))

"""The closed bounds (lo, hi) of a per-layer key."""
function layer_bounds(key)
    lo, hi = Ref{Cdouble}(0), Ref{Cdouble}(0)
    check(L.pcmup_param_layer_bounds(enum_value(L.pcmup_layer_key_names, key), lo, hi))
    return (lo[], hi[])
end

"""`p[:base_width]`, `p[:gamma_bar]`, `p[:fb_damping_exp]`, `p[:fb_lr_exp]`."""
Base.getindex(p::Param, key::Union{Symbol,AbstractString}) =
    c_out(Cdouble, L.pcmup_param_get, p, enum_value(L.pcmup_param_key_names, key))

function Base.setindex!(p::Param, value::Real, key::Union{Symbol,AbstractString})
    check(L.pcmup_param_set(p, enum_value(L.pcmup_param_key_names, key), value))
    return p
end

"""The closed bounds (lo, hi) of a whole-parameterization key."""
function param_bounds(key)
    lo, hi = Ref{Cdouble}(0), Ref{Cdouble}(0)
    check(L.pcmup_param_bounds(enum_value(L.pcmup_param_key_names, key), lo, hi))
    return (lo[], hi[])
end

"""
    layer_factors(p, widths, layer) -> NamedTuple

Every width-dependent factor of layer `layer` of a network of widths
M_0..M_L under `p`, by name: (multiplier = ..., init_std = ..., lr = ...,
pc_gamma, gnt_damping, tp_fb_damping, tp_fb_lr, width_ratio).
"""
function layer_factors(p::Param, widths::AbstractVector{<:Integer}, layer::Integer)
    w = collect(Csize_t, widths)
    dst = Vector{Cdouble}(undef, L.PCMUP_FACTOR_COUNT)
    check(L.pcmup_param_layer_factors(p, w, length(w), layer, dst, length(dst)))
    return factors_by_name(dst)
end

factors_by_name(dst::Vector{Cdouble}) =
    NamedTuple{map(first, L.pcmup_factor_names)}(
        map(pair -> dst[Int(last(pair)) + 1], L.pcmup_factor_names))
