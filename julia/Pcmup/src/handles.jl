# SPDX-License-Identifier: MIT
# Ownership of the library's handles (the Python package's _handle.py).
#
# Each handle type is a mutable struct whose `ptr` holds the C handle. It
# is freed exactly once: by `close(obj)`, or by the finalizer when the
# object is garbage collected (close sets `ptr` to C_NULL, and the *_free
# functions do nothing with NULL). An object is passed to LibPcmup's
# functions as it is: `Base.unsafe_convert` gives its pointer, and ccall
# keeps the object alive for the duration of the call.
#
# An Algo holds its Net, so a network cannot be collected while an
# algorithm uses it. When both are collected together the finalizers may
# run in either order, which is safe: pcmup_algo_free touches only the
# algorithm.

abstract type Handle end

"""Takes ownership of `obj.ptr` (already created by the library)."""
function own!(obj::Handle)
    finalizer(free!, obj)
    return obj
end

function free!(obj::Handle)
    p = obj.ptr
    obj.ptr = C_NULL
    p == C_NULL || free_function(obj)(p)
    return nothing
end

"""Frees the handle now; later calls with this object throw an ArgumentError."""
Base.close(obj::Handle) = free!(obj)

Base.isopen(obj::Handle) = obj.ptr != C_NULL

"""The C handle, or an ArgumentError when the object was closed."""
function handle(obj::Handle)
    obj.ptr == C_NULL && throw(ArgumentError("this $(nameof(typeof(obj))) is closed"))
    return obj.ptr
end

# Each handle type defines, next to its struct, the one conversion ccall
# uses, so that passing a Dataset where C takes a pcmup_net * is a
# MethodError rather than a wrong pointer:
#     Base.unsafe_convert(::Type{Ptr{L.pcmup_net}}, net::Net) = handle(net)

"""A Ref for an `out` argument of a create function: `Ref{Ptr{T}}(C_NULL)`."""
out_ref(T::Type) = Ref{Ptr{T}}(C_NULL)
