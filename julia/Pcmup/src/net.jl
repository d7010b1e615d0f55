# SPDX-License-Identifier: MIT
# Networks (pcmup.h, section 3): pcmup_net and pcmup_net_builder (the
# Python package's net.py).

# ---- Builder -----------------------------------------------------------

"""
    Builder(description=nothing)

A network description built layer by layer (pcmup_net_builder):

    b = Builder()
    add_conv!(b, 5, "M"; pad=2, activation=:tanh, pool=:max2)
    add_dense!(b, 10)
    net = Net(b, (1, 28, 28), 16; param=Param(2; preset=:mup_sgd))

Channel and output counts are numbers or multiples of the width M ("M",
"2M"). `Builder("simplecnn")` parses a one-line description.
"""
mutable struct Builder <: Handle
    ptr::Ptr{L.pcmup_net_builder}
    Builder(ptr::Ptr{L.pcmup_net_builder}) = own!(new(ptr))
end
free_function(::Builder) = L.pcmup_net_builder_free
Base.unsafe_convert(::Type{Ptr{L.pcmup_net_builder}}, b::Builder) = handle(b)

function Builder(description::Union{Nothing,AbstractString}=nothing)
    out = out_ref(L.pcmup_net_builder)
    check(L.pcmup_net_builder_create(out, C_NULL))
    b = Builder(out[])
    description === nothing || parse!(b, description)
    return b
end

"""A channel or output count and its flag: 16 -> (16, 0), "2M" -> (2, PCMUP_LAYER_PER_WIDTH)."""
width_count(n::Integer) = (n, Cuint(0))
function width_count(s::AbstractString)
    t = strip(s)
    endswith(uppercase(t), "M") || return (parse(Int, t), Cuint(0))
    k = t[1:end-1]
    return (isempty(k) ? 1 : parse(Int, k), L.PCMUP_LAYER_PER_WIDTH)
end

"""Replaces the builder's layers by a one-line description."""
function parse!(b::Builder, description::AbstractString)
    check(L.pcmup_net_builder_parse(b, cstring(description)))
    return b
end

"""Appends a k x k convolution of `channels` output channels."""
function add_conv!(b::Builder, kernel::Integer, channels; stride::Integer=1, pad::Integer=0,
                   activation=nothing, pool=nothing)
    n, flags = width_count(channels)
    check(L.pcmup_net_builder_add_conv(b, kernel, stride, pad, n, flags))
    activation === nothing || set_activation!(b, activation)
    pool === nothing || add_pool!(b, pool)
    return b
end

"""Appends a dense layer of `outputs` outputs."""
function add_dense!(b::Builder, outputs; activation=nothing)
    n, flags = width_count(outputs)
    check(L.pcmup_net_builder_add_dense(b, n, flags))
    activation === nothing || set_activation!(b, activation)
    return b
end

"""Sets the activation (`:tanh`, `:relu`, `:identity`) of the last layer added."""
function set_activation!(b::Builder, activation)
    check(L.pcmup_net_builder_set_activation(b, enum_value(L.pcmup_activation_names,
                                                           activation)))
    return b
end

"""Pools (`:max2`, `:avg2`) after the last layer added, a convolution."""
function add_pool!(b::Builder, pool)
    check(L.pcmup_net_builder_add_pool(b, enum_value(L.pcmup_pool_names, pool)))
    return b
end

n_layers(b::Builder) = Int(c_out(Csize_t, L.pcmup_net_builder_n_layers, b))

"""
    check_builder(b, input_shape, width)

Throws the PcmupError the network of `b` for inputs of `input_shape` (C,
H, W) at width M = `width` would give; nothing is allocated.
"""
function check_builder(b::Builder, input_shape, width::Integer)
    c, h, w = input_shape
    check(L.pcmup_net_builder_check(b, c, h, w, width))
    return nothing
end

# ---- Net ---------------------------------------------------------------

"""
A network (pcmup_net): `mlp` for dense layers, `Net(description, ...)`,
`Net(builder, ...)` or `Net(checkpoint)` for the others.
"""
mutable struct Net <: Handle
    ptr::Ptr{L.pcmup_net}
    algos::Vector{WeakRef}   # closed with the network (see close)
    Net(ptr::Ptr{L.pcmup_net}) = own!(new(ptr, WeakRef[]))
end
free_function(::Net) = L.pcmup_net_free
Base.unsafe_convert(::Type{Ptr{L.pcmup_net}}, net::Net) = handle(net)

"""Closing a network first closes the algorithms made for it."""
function Base.close(net::Net)
    for r in net.algos
        r.value === nothing || close(r.value)
    end
    empty!(net.algos)
    free!(net)
end

"""The parameterization to build with: `param` itself, or a preset's (default :mup_sgd)."""
param_for(param::Param, n::Integer) = param
param_for(param, n::Integer) = Param(n; preset=param === nothing ? :mup_sgd : param)

activation_flags(activation, bias::Bool) =
    (enum_value(L.pcmup_activation_names, activation), bias ? L.PCMUP_NET_BIAS : Cuint(0))

"""
    mlp(widths; activation=:tanh, bias=false, param=nothing, seed=0) -> Net

Dense layers of widths M_0..M_L (pcmup_net_create). `param` is a Param of
length(widths) - 1 layers, or a preset name (default `:mup_sgd`).
"""
function mlp(widths::AbstractVector{<:Integer}; activation=:tanh, bias::Bool=false,
             param=nothing, seed::Integer=0)
    w = collect(Csize_t, widths)
    act, flags = activation_flags(activation, bias)
    out = out_ref(L.pcmup_net)
    check(L.pcmup_net_create(out, w, length(w), act, flags, param_for(param, length(w) - 1),
                             seed, C_NULL))
    return Net(out[])
end

"""
    Net(description, input_shape, width; activation=:tanh, bias=false, param=nothing, seed=0)

A network from its one-line description ("simplecnn", "conv5p2:M tanh
maxpool2 dense:10") for inputs of `input_shape` (C, H, W) at width M =
`width`.
"""
function Net(description::AbstractString, input_shape, width::Integer; activation=:tanh,
             bias::Bool=false, param=nothing, seed::Integer=0)
    p = param isa Param ? param : param_for(param, n_layers(Builder(description)))
    c, h, w = input_shape
    act, flags = activation_flags(activation, bias)
    out = out_ref(L.pcmup_net)
    check(L.pcmup_net_create_from_text(out, cstring(description), c, h, w, width, act, flags, p, seed,
                                       C_NULL))
    return Net(out[])
end

"""
    Net(builder, input_shape, width; activation=:tanh, bias=false, param=nothing, seed=0)

A network of the builder's layers (pcmup_net_create_from_builder).
"""
function Net(b::Builder, input_shape, width::Integer; activation=:tanh, bias::Bool=false,
             param=nothing, seed::Integer=0)
    c, h, w = input_shape
    act, flags = activation_flags(activation, bias)
    out = out_ref(L.pcmup_net)
    check(L.pcmup_net_create_from_builder(out, b, c, h, w, width, act, flags,
                                          param_for(param, n_layers(b)), seed, C_NULL))
    return Net(out[])
end

"""Redraws every weight from `seed` (biases back to zero)."""
function init_weights!(net::Net, seed::Integer)
    check(L.pcmup_net_init_weights(net, seed))
    return net
end

"""A copy of the network's parameterization (a new Param the caller owns)."""
function Param(net::Net)
    p = Ref{Ptr{L.pcmup_param}}(C_NULL)
    check(L.pcmup_net_param(net, p))
    out = out_ref(L.pcmup_param)
    GC.@preserve net check(L.pcmup_param_clone(out, p[]))   # p[] belongs to net
    return Param(out[])
end

n_layers(net::Net) = Int(c_out(Csize_t, L.pcmup_net_n_layers, net))

"""(out, in): layer l's values per sample out of and into its linear map
(M_l, M_{l-1} for a dense layer)."""
function layer_shape(net::Net, layer::Integer)
    o, i = Ref{Csize_t}(0), Ref{Csize_t}(0)
    check(L.pcmup_net_layer_shape(net, layer, o, i))
    return (Int(o[]), Int(i[]))
end

"""The number of trainable numbers (weights and biases)."""
param_count(net::Net) = Int(c_out(Csize_t, L.pcmup_net_param_count, net))

"""layer_factors for the network's own parameterization and widths."""
function layer_factors(net::Net, layer::Integer)
    dst = Vector{Cdouble}(undef, L.PCMUP_FACTOR_COUNT)
    check(L.pcmup_net_layer_factors(net, layer, dst, length(dst)))
    return factors_by_name(dst)
end

"""The network's description in canonical form ("dense:64 tanh dense:10")."""
function describe(net::Net)
    n = Ref{Csize_t}(0)
    check(L.pcmup_net_describe(net, C_NULL, 0, n))
    buf = Vector{UInt8}(undef, n[] + 1)
    GC.@preserve buf check(L.pcmup_net_describe(net, pointer(buf), length(buf), n))
    return String(buf[1:n[]])
end

"""(C, H, W) of the input; (M_0, 1, 1) for a network of pcmup_net_create."""
function input_shape(net::Net)
    c, h, w = Ref{Csize_t}(0), Ref{Csize_t}(0), Ref{Csize_t}(0)
    check(L.pcmup_net_input_shape(net, c, h, w))
    return (Int(c[]), Int(h[]), Int(w[]))
end

"""Input values per sample, M_0 (C H W for images)."""
input_dim(net::Net) = prod(input_shape(net))

"""
    weight_shape(net, layer) -> Tuple

The C shape of layer l's weights: (M_l, M_{l-1}) for a dense layer,
(C_out, C_in, k, k) for a convolution. The Julia arrays of `weights` have
these dimensions reversed.
"""
function weight_shape(net::Net, layer::Integer)
    dims = Vector{Csize_t}(undef, 4)
    rank = Ref{Csize_t}(0)
    check(L.pcmup_net_weight_shape(net, layer, dims, length(dims), rank))
    return Tuple(Int.(dims[1:rank[]]))
end

"""The Julia size of layer l's weights: weight_shape reversed."""
julia_weight_size(net::Net, layer::Integer) = reverse(weight_shape(net, layer))

"""
    weights(net, layer) -> Array{Float32}

Layer l's effective weights W_l = r^-a w_l, a copy. A dense layer's is the
(M_{l-1}, M_l) matrix transpose(W_l); a convolution's is (k, k, C_in,
C_out) (arrays.jl explains why).
"""
function weights(net::Net, layer::Integer)
    dst = Array{Float32}(undef, julia_weight_size(net, layer))
    check(L.pcmup_net_get_weights(net, layer, dst, length(dst)))
    return dst
end

"""Sets layer l's effective weights from an array of the size `weights` returns."""
function set_weights!(net::Net, layer::Integer, w::AbstractArray{<:Real})
    want = julia_weight_size(net, layer)
    size(w) == want ||
        throw(DimensionMismatch("weights of size $(size(w)), expected $want " *
                                "(transpose(W_l) for a dense layer)"))
    src = floats(w)
    check(L.pcmup_net_set_weights(net, layer, src, length(src)))
    return net
end

"""Layer l's bias (M_l values); a PcmupError :err_unsupported without biases."""
function bias(net::Net, layer::Integer)
    dst = Vector{Float32}(undef, layer_shape_bias(net, layer))
    check(L.pcmup_net_get_bias(net, layer, dst, length(dst)))
    return dst
end

function set_bias!(net::Net, layer::Integer, b::AbstractVector{<:Real})
    src = floats(b)
    check(L.pcmup_net_set_bias(net, layer, src, length(src)))
    return net
end

layer_shape_bias(net::Net, layer::Integer) = first(weight_shape(net, layer))

"""
    forward(net, x) -> Matrix{Float32}

The outputs f, (M_L, B), for the batch x, (M_0, B).
"""
function forward(net::Net, x::AbstractArray{<:Real})
    xm = batch_matrix(x, input_dim(net), "x")
    batch = size(xm, 2)
    out = Matrix{Float32}(undef, first(layer_shape(net, n_layers(net))), batch)
    check(L.pcmup_net_forward(net, xm, length(xm), batch, out, length(out)))
    return out
end

"""
    forward_layer(net, x, layer; signal=:post) -> Matrix{Float32}

u_l (`signal=:pre`) or h_l (`:post`) of layer l for the batch x, one
column per sample.
"""
function forward_layer(net::Net, x::AbstractArray{<:Real}, layer::Integer; signal=:post)
    xm = batch_matrix(x, input_dim(net), "x")
    batch = size(xm, 2)
    sig = enum_value(L.pcmup_signal_names, signal)
    out = Matrix{Float32}(undef, signal_size(net, layer, sig), batch)
    check(L.pcmup_net_forward_layer(net, xm, length(xm), batch, layer, sig, out, length(out)))
    return out
end

# u_l has layer l's `out` values per sample (before pooling); h_l after
# pooling is what layer l + 1 takes in (the output layer has no pooling).
function signal_size(net::Net, layer::Integer, sig::Cint)
    depth = n_layers(net)
    (sig == L.PCMUP_SIGNAL_PRE || layer >= depth || layer < 1) &&
        return first(layer_shape(net, layer))
    return last(layer_shape(net, layer + 1))
end
