# SPDX-License-Identifier: MIT
# Algorithms (pcmup.h, section 5): pcmup_algo, its settings and training
# (the Python package's algo.py).

"""
    Algo(net, rule=:bp; seed=0, settings...)

A learning rule (`:bp`, `:pc`, `:gnt`, `:tp`, `:dtp`) bound to `net`,
which it keeps alive:

    bp = Algo(net, :bp; seed=7, lr=0.05)
    bp[:momentum] = 0.9; bp[:loss] = :ce; bp[:pc_kappa]
    loss = step!(bp, x, labels)          # x (M_0, B), labels 1..C
    train!(bp, train; batch=64, epochs=3)
    test_loss, test_acc = evaluate(bp, test)

Settings are the library's (`settings()`), by name: keyword arguments,
`algo[name]`, `set!`. An enum-valued setting reads back as its value's
name (`:ce`) and takes a name or a number. A per-layer setting takes one
value for every hidden layer or a vector of L - 1 values; `set_layer!`,
`get_layer` and `layer_values` reach single layers.
"""
mutable struct Algo <: Handle
    ptr::Ptr{L.pcmup_algo}
    net::Net   # the network must outlive the algorithm: holding it ensures that
    function Algo(ptr::Ptr{L.pcmup_algo}, net::Net)
        algo = own!(new(ptr, net))
        filter!(r -> r.value !== nothing, net.algos)
        push!(net.algos, WeakRef(algo))
        return algo
    end
end
free_function(::Algo) = L.pcmup_algo_free
Base.unsafe_convert(::Type{Ptr{L.pcmup_algo}}, a::Algo) = handle(a)

function Algo(net::Net, rule=:bp; seed::Integer=0, settings...)
    out = out_ref(L.pcmup_algo)
    check(L.pcmup_algo_create(out, enum_value(L.pcmup_rule_names, rule), net, seed, C_NULL))
    algo = Algo(out[], net)
    try
        set!(algo; settings...)
    catch
        close(algo)
        rethrow()
    end
    return algo
end

"""The algorithm's rule, :bp, :pc, :gnt, :tp or :dtp."""
rule(algo::Algo) = enum_name(L.pcmup_rule_names, c_out(Cint, L.pcmup_algo_rule, algo))

# ---- settings ----------------------------------------------------------

"""Sets settings by name: `set!(algo; lr=0.1, loss=:ce)`."""
function set!(algo::Algo; settings...)
    for (name, value) in settings
        algo[name] = value
    end
    return algo
end

function Base.getindex(algo::Algo, name::Union{Symbol,AbstractString})
    s = setting(name)
    return setting_value(s, c_out(Cdouble, L.pcmup_algo_get, algo, s.key))
end

function Base.setindex!(algo::Algo, value, name::Union{Symbol,AbstractString})
    s = setting(name)
    if value isa AbstractVector
        s.per_layer || throw(ArgumentError("setting $name is not per layer: give one value"))
        hidden = n_layers(algo.net) - 1
        length(value) == hidden ||
            throw(DimensionMismatch("setting $name: $(length(value)) values, expected " *
                                    "$hidden (one per hidden layer)"))
        for (layer, v) in enumerate(value)
            set_layer!(algo, name, layer, v)
        end
    else
        check(L.pcmup_algo_set(algo, s.key, setting_number(s, value)))
    end
    return algo
end

"""Sets a per-layer setting for hidden layer `layer` (1..L-1)."""
function set_layer!(algo::Algo, name::Union{Symbol,AbstractString}, layer::Integer, value)
    s = setting(name)
    check(L.pcmup_algo_set_layer(algo, layer, s.key, setting_number(s, value)))
    return algo
end

function get_layer(algo::Algo, name::Union{Symbol,AbstractString}, layer::Integer)
    s = setting(name)
    return setting_value(s, c_out(Cdouble, L.pcmup_algo_get_layer, algo, layer, s.key))
end

"""A per-layer setting's values of the hidden layers 1..L-1."""
layer_values(algo::Algo, name) = [get_layer(algo, name, l) for l in 1:n_layers(algo.net)-1]

"""Every setting this algorithm's rule accepts, with its current value."""
function settings(algo::Algo)
    r = rule(algo)
    return Dict(s.name => algo[s.name] for s in settings() if r in s.rules)
end

# ---- training ----------------------------------------------------------

"""The batch x (M_0, B) and its labels 1..C as the library takes them."""
function c_batch(algo::Algo, x, labels)
    xm = batch_matrix(x, input_dim(algo.net), "x")
    return xm, c_labels(labels, size(xm, 2))
end

"""
    step!(algo, x, labels) -> Float64

One training step on the batch x, (M_0, B), with labels 1..C; returns the
batch's mean loss before the step.
"""
function step!(algo::Algo, x::AbstractArray{<:Real}, labels::AbstractVector{<:Integer})
    xm, y = c_batch(algo, x, labels)
    loss = Ref{Cdouble}(0)
    check(L.pcmup_algo_step(algo, xm, length(xm), y, length(y), loss))
    return loss[]
end

"""
    reserve!(algo, batch) -> algo

Allocates and faults in now what steps and epochs of `batch` samples need,
so that the first one runs at the speed of later ones (optional; no result
changes).
"""
function reserve!(algo::Algo, batch::Integer)
    check(L.pcmup_algo_reserve(algo, batch))
    return algo
end

"""One shuffled pass over `dataset`; returns the mean batch loss."""
function train_epoch!(algo::Algo, dataset::Dataset; batch::Integer=64)
    loss = Ref{Cdouble}(0)
    check(L.pcmup_algo_train_epoch(algo, dataset, batch, loss))
    return loss[]
end

"""
    train!(algo, dataset; batch=64, epochs=1, callback=nothing) -> Vector{Float64}

`epochs` epochs; after each, `callback(epoch, mean_loss)` if given
(training stops when it returns false). Returns the epochs' mean losses.
"""
function train!(algo::Algo, dataset::Dataset; batch::Integer=64, epochs::Integer=1,
                callback=nothing)
    losses = Float64[]
    for epoch in 1:epochs
        push!(losses, train_epoch!(algo, dataset; batch=batch))
        callback !== nothing && callback(epoch, losses[end]) === false && break
    end
    return losses
end

"""(loss, accuracy) over `dataset`."""
function evaluate(algo::Algo, dataset::Dataset)
    loss, acc = Ref{Cdouble}(0), Ref{Cdouble}(0)
    check(L.pcmup_algo_evaluate(algo, dataset, loss, acc))
    return (loss[], acc[])
end

"""(epochs, steps) completed since creation or as loaded (pcmup_algo_counters)."""
function counters(algo::Algo)
    e, s = Ref{UInt64}(0), Ref{UInt64}(0)
    check(L.pcmup_algo_counters(algo, e, s))
    return (epochs=Int(e[]), steps=Int(s[]))
end

"""
    last_update(algo, layer) -> Array{Float32}

The weight update the last step applied to layer l (needs the setting
record_updates = 1 before the step), in the layout of `weights`: the
(M_{l-1}, M_l) matrix transpose(dW_l) for a dense layer.
"""
function last_update(algo::Algo, layer::Integer)
    dst = Array{Float32}(undef, julia_weight_size(algo.net, layer))
    check(L.pcmup_algo_last_update(algo, layer, dst, length(dst)))
    return dst
end

"""The alignment ratio R of the last step recorded (record_updates = 1)."""
alignment_ratio(algo::Algo) = c_out(Cdouble, L.pcmup_algo_alignment_ratio, algo)

"""
    set_reducer!(algo, rank, n_workers, sum_fn, gather_fn=C_NULL; user=C_NULL)
    set_reducer!(algo, nothing)

Makes `algo` worker `rank` (0-based) of `n_workers` training one model
data-parallel (pcmup.h section 5, pcmup_algo_set_reducer): `sum_fn` and
`gather_fn` are C function pointers (`@cfunction`) with the signatures of
pcmup_reducer's callbacks, over the caller's transport (MPI.jl's Allreduce!
and Allgatherv!, say), `user` the pointer they are passed first. They must
stay valid while the algorithm trains. `nothing` makes it a single process
again.
"""
function set_reducer!(algo::Algo, rank::Integer, n_workers::Integer, sum_fn::Ptr{Cvoid},
                      gather_fn::Ptr{Cvoid}=C_NULL; user::Ptr{Cvoid}=C_NULL)
    r = Ref(L.pcmup_reducer(sizeof(L.pcmup_reducer), rank, n_workers, sum_fn, gather_fn, user))
    check(L.pcmup_algo_set_reducer(algo, r))
    return algo
end

function set_reducer!(algo::Algo, ::Nothing)
    check(L.pcmup_algo_set_reducer(algo, C_NULL))
    return algo
end

"""
    set_layer_split!(algo, first_layer, last_layer, exchange_fn, sum_fn; user=C_NULL)
    set_layer_split!(algo, nothing)

Makes `algo` (predictive coding, simultaneous schedule) the worker owning
layers `first_layer:last_layer` of a layer-parallel group (pcmup.h section
5, pcmup_algo_set_layer_split): `exchange_fn` and `sum_fn` are C function
pointers (`@cfunction`) with the signatures of pcmup_layer_split's
callbacks (MPI.jl's Isend/Irecv!/Waitall and Allreduce!, say), `user` the
pointer they are passed first; they must stay valid while the algorithm
trains. `nothing` makes it a single process again. Call
[`sync_layers!`](@ref) on every worker before evaluating or saving.
"""
function set_layer_split!(algo::Algo, first_layer::Integer, last_layer::Integer,
                          exchange_fn::Ptr{Cvoid}, sum_fn::Ptr{Cvoid}; user::Ptr{Cvoid}=C_NULL)
    s = Ref(L.pcmup_layer_split(sizeof(L.pcmup_layer_split), first_layer, last_layer,
                                exchange_fn, sum_fn, user))
    check(L.pcmup_algo_set_layer_split(algo, s))
    return algo
end

function set_layer_split!(algo::Algo, ::Nothing)
    check(L.pcmup_algo_set_layer_split(algo, C_NULL))
    return algo
end

"""
    sync_layers!(algo)

Collective over a layer-parallel group: brings every layer of this worker's
network copy (and momentum) to its owner's values (pcmup_algo_sync_layers).
"""
sync_layers!(algo::Algo) = (check(L.pcmup_algo_sync_layers(algo)); algo)
