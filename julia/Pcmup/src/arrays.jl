# SPDX-License-Identifier: MIT
# Julia arrays in and out of the library (the Python package's _arrays.py).
#
# Layout. The library's arrays are row-major (C order), Julia's
# column-major, and a row-major array of shape (d1, ..., dn) has exactly
# the memory of a Julia array of size (dn, ..., d1). This package passes
# and returns arrays in that reversed form and never transposes:
#
#   batch of B samples of dimension D    C (B, D)          Julia (D, B): x[:, b] is sample b
#   network outputs, layer signals       C (B, M_l)        Julia (M_l, B)
#   dense weights W_l, updates dW_l      C (M_l, M_{l-1})  Julia (M_{l-1}, M_l) == transpose(W_l)
#   convolution weights                  C (C_out, C_in, k, k)  Julia (k, k, C_in, C_out)
#   TP feedback V_l                      C (M_{l-1}, M_l)  Julia (M_l, M_{l-1}) == transpose(V_l)
#
# So the weights are the one place a reader must think: `weights(net, l)`
# is transpose(W_l) of the paper, and `weights(net, l)' * x` (adjoint of
# a real matrix) is W_l x for a batch x of size (M_{l-1}, B). Use
# `permutedims(weights(net, l))` for W_l itself as an (M_l, M_{l-1})
# Julia matrix.
#
# An input that is already an Array{Float32} (labels: see below) is passed
# as it is, nothing copied; any other real array is converted once.

"""`x` as an Array{Float32} (x itself if it is one)."""
floats(x::Array{Float32}) = x
floats(x::AbstractArray{<:Real}) = Array{Float32}(x)

"""
    batch_matrix(x, dim, what) -> Matrix{Float32}

A batch of samples of dimension `dim` as a (dim, B) matrix; a vector is
one sample.
"""
function batch_matrix(x::AbstractArray{<:Real}, dim::Integer, what::AbstractString)
    m = x isa AbstractVector ? reshape(floats(x), :, 1) : floats(x)
    ndims(m) == 2 && size(m, 1) == dim ||
        throw(DimensionMismatch("$what has size $(size(x)), expected ($dim, B): " *
                                "one column per sample"))
    return m
end

# ---- Class labels: the one place they are converted --------------------
#
# Julia numbers classes 1..C, the library 0..C-1. Every label that goes
# into the library passes through c_labels, and every label that comes out
# of it through julia_labels; nothing else in the package converts labels.

"""
    c_labels(y, n) -> Vector{Int32}

Julia class labels 1..C (any integers) as the library's 0..C-1, checking
that there are `n` of them and that each is at least 1. The upper end (C)
is checked by the library.
"""
function c_labels(y::AbstractVector{<:Integer}, n::Integer)
    length(y) == n ||
        throw(DimensionMismatch("$(length(y)) labels for $n samples"))
    out = Vector{Int32}(undef, n)
    for (i, k) in enumerate(y)
        k >= 1 || throw(ArgumentError("label $k of sample $i: classes are 1..C"))
        out[i] = Int32(k - 1)
    end
    return out
end

"""
    julia_labels(y) -> Vector{Int}

The library's labels 0..C-1 as Julia's classes 1..C.
"""
julia_labels(y::AbstractVector{Int32}) = Int[k + 1 for k in y]

# ---- Arrays of arrays --------------------------------------------------

"""
    pointers(arrays) -> Vector{Ptr{Cfloat}}

The pointers of float arrays (C_NULL for `nothing`), for C's arrays of
per-layer pointers. The caller keeps `arrays` alive (GC.@preserve)
while the library uses them.
"""
pointers(arrays) =
    Ptr{Cfloat}[a === nothing ? Ptr{Cfloat}(C_NULL) : pointer(a) for a in arrays]

# ---- Strings -----------------------------------------------------------

"""`s` as a String for a `const char *` argument (`nothing`: NULL)."""
function cstring(s::AbstractString)
    t = String(s)
    Base.containsnul(t) && throw(ArgumentError("string contains a NUL byte: $(repr(t))"))
    return t
end
cstring(::Nothing) = C_NULL
