# SPDX-License-Identifier: MIT
# Checkpoints (pcmup.h, section 10): safetensors files of a network, or of
# an algorithm with everything it needs to go on training (the Python
# package's checkpoint.py).

"""
    Checkpoint(path)

A checkpoint read and checked (pcmup_checkpoint_open), to build or fill
objects from:

    save(algo, "run.safetensors"; metadata=Dict("user.batch" => "64"))
    ck = Checkpoint("run.safetensors")
    net = Net(ck); algo = Algo(net, ck)
    metadata(ck)["rule"]
"""
mutable struct Checkpoint <: Handle
    ptr::Ptr{L.pcmup_checkpoint}
    Checkpoint(ptr::Ptr{L.pcmup_checkpoint}) = own!(new(ptr))
end
free_function(::Checkpoint) = L.pcmup_checkpoint_free
Base.unsafe_convert(::Type{Ptr{L.pcmup_checkpoint}}, ck::Checkpoint) = handle(ck)

function Checkpoint(path::AbstractString)
    out = out_ref(L.pcmup_checkpoint)
    check(L.pcmup_checkpoint_open(out, cstring(path), C_NULL))
    return Checkpoint(out[])
end

"""A path or an open Checkpoint as a Checkpoint."""
as_checkpoint(ck::Checkpoint) = ck
as_checkpoint(path::AbstractString) = Checkpoint(path)

"""
    save(net_or_algo, path; metadata=nothing)

Saves a network (its description, parameterization and weights), or an
algorithm and its network (everything needed to resume). `metadata`: the
caller's own string pairs, each key starting with "user.".
"""
save(net::Net, path::AbstractString; metadata=nothing) =
    save_with(L.pcmup_net_save, net, path, metadata)
save(algo::Algo, path::AbstractString; metadata=nothing) =
    save_with(L.pcmup_algo_save, algo, path, metadata)

function save_with(f, obj, path, metadata)
    strings = String[]
    if metadata !== nothing
        for (k, v) in metadata
            push!(strings, cstring(string(k)), cstring(string(v)))
        end
    end
    ptrs = isempty(strings) ? C_NULL : Ptr{Cchar}[pointer(s) for s in strings]
    GC.@preserve strings check(f(obj, cstring(path), ptrs, length(strings) ÷ 2))
    return nothing
end

"""
    metadata(ck) -> Dict{String,String}
    metadata(ck, key) -> Union{String,Nothing}

Every metadata entry of the checkpoint, or the value of one key (nothing
when it has none).
"""
function metadata(ck::Checkpoint)
    n = Ref{Csize_t}(0)
    check(L.pcmup_checkpoint_metadata_count(ck, n))
    out = Dict{String,String}()
    k, v = Ref{Ptr{Cchar}}(C_NULL), Ref{Ptr{Cchar}}(C_NULL)
    GC.@preserve ck for i in 0:Int(n[])-1
        check(L.pcmup_checkpoint_metadata_at(ck, i, k, v))
        out[unsafe_string(k[])] = unsafe_string(v[])
    end
    return out
end

function metadata(ck::Checkpoint, key::AbstractString)
    v = Ref{Ptr{Cchar}}(C_NULL)
    check(L.pcmup_checkpoint_metadata(ck, cstring(key), v))
    return v[] == C_NULL ? nothing : GC.@preserve(ck, unsafe_string(v[]))
end

"""The rule of an algorithm's checkpoint (a PcmupError for a network's)."""
checkpoint_rule(ck::Checkpoint) =
    enum_name(L.pcmup_rule_names, c_out(Cint, L.pcmup_checkpoint_rule, ck))

"""A new network exactly as saved (`Net(Checkpoint(path))`)."""
function Net(ck::Checkpoint)
    out = out_ref(L.pcmup_net)
    check(L.pcmup_net_create_from_checkpoint(out, ck, C_NULL))
    return Net(out[])
end

"""
    Algo(net, checkpoint::Checkpoint)

(A Checkpoint, not a path: `Algo(net, "pc")` names a rule.) An algorithm of the checkpoint's rule on `net`, which receives the saved
weights: training goes on as if it had not stopped.
"""
function Algo(net::Net, ck::Checkpoint)
    out = out_ref(L.pcmup_algo)
    check(L.pcmup_algo_create_from_checkpoint(out, net, ck, C_NULL))
    return Algo(out[], net)
end

"""Loads a checkpoint's weights into `net`, which must have its layers."""
function load!(net::Net, ck::Union{Checkpoint,AbstractString})
    check(L.pcmup_net_load_checkpoint(net, as_checkpoint(ck)))
    return net
end

"""Loads an algorithm's checkpoint into `algo` (weights, settings, state, counters)."""
function load!(algo::Algo, ck::Union{Checkpoint,AbstractString})
    check(L.pcmup_algo_load_checkpoint(algo, as_checkpoint(ck)))
    return algo
end
