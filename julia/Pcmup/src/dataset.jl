# SPDX-License-Identifier: MIT
# Datasets (pcmup.h, section 4): pcmup_dataset (the Python package's
# dataset.py). Samples are numbered 1..n in Julia; labels are classes 1..C
# (converted in arrays.jl).

"""
n samples of dimension `dim` (Float32) with class labels 1..C, held by the
library:

    train = fashion_mnist(:train)
    ds = Dataset(x, labels)          # x (dim, n), labels 1..C; both copied
    x, y = get_batch(ds, 1, 64)      # samples 1..64
"""
mutable struct Dataset <: Handle
    ptr::Ptr{L.pcmup_dataset}
    Dataset(ptr::Ptr{L.pcmup_dataset}) = own!(new(ptr))
end
free_function(::Dataset) = L.pcmup_dataset_free
Base.unsafe_convert(::Type{Ptr{L.pcmup_dataset}}, ds::Dataset) = handle(ds)

function created_dataset(f, args...)
    out = out_ref(L.pcmup_dataset)
    check(f(out, args..., C_NULL))
    return Dataset(out[])
end

# The byte limit a head loader is given when the caller gives none.
head_bytes(max_bytes) = max_bytes === nothing ? L.PCMUP_DATASET_MAX_BYTES_DEFAULT : max_bytes

"""
    fashion_mnist(split=:train; dir=nothing, max_bytes=nothing, max_samples=nothing) -> Dataset

FashionMNIST's `:train` or `:test` split from `dir` (default: Debian's
$(L.PCMUP_FASHION_MNIST_DIR)); `max_bytes` overrides the library's limit
on the dataset's size in memory (1 GiB). With `max_samples`, only the
split's first `max_samples` samples are read (pcmup_dataset_load_*_head;
the same for `cifar10` and `load_idx`).
"""
function fashion_mnist(split=:train; dir=nothing, max_bytes=nothing, max_samples=nothing)
    s = enum_value(L.pcmup_split_names, split)
    max_samples === nothing ||
        return created_dataset(L.pcmup_dataset_load_fashion_mnist_head, cstring(dir), s,
                               max_samples, head_bytes(max_bytes))
    max_bytes === nothing &&
        return created_dataset(L.pcmup_dataset_load_fashion_mnist, cstring(dir), s)
    return created_dataset(L.pcmup_dataset_load_fashion_mnist_limited, cstring(dir), s,
                           max_bytes)
end

"""
    cifar10(dir, split=:train; max_bytes=nothing, max_samples=nothing) -> Dataset

CIFAR-10's binary version from `dir` (cifar-10-batches-bin).
"""
function cifar10(dir::AbstractString, split=:train; max_bytes=nothing, max_samples=nothing)
    s = enum_value(L.pcmup_split_names, split)
    max_samples === nothing ||
        return created_dataset(L.pcmup_dataset_load_cifar10_head, cstring(dir), s,
                               max_samples, head_bytes(max_bytes))
    max_bytes === nothing &&
        return created_dataset(L.pcmup_dataset_load_cifar10, cstring(dir), s)
    return created_dataset(L.pcmup_dataset_load_cifar10_limited, cstring(dir), s, max_bytes)
end

"""
    load_idx(images, labels; max_bytes=nothing, max_samples=nothing) -> Dataset

An IDX image file and its IDX label file (either may be gzip-compressed).
"""
function load_idx(images::AbstractString, labels::AbstractString; max_bytes=nothing,
                  max_samples=nothing)
    max_samples === nothing ||
        return created_dataset(L.pcmup_dataset_load_idx_head, cstring(images),
                               cstring(labels), max_samples, head_bytes(max_bytes))
    max_bytes === nothing &&
        return created_dataset(L.pcmup_dataset_load_idx, cstring(images), cstring(labels))
    return created_dataset(L.pcmup_dataset_load_idx_limited, cstring(images),
                           cstring(labels), max_bytes)
end

"""
    Dataset(x, labels; n_classes=maximum(labels)) -> Dataset

A dataset copied from `x`, (dim, n), and `labels`, n classes in 1..n_classes.
"""
function Dataset(x::AbstractMatrix{<:Real}, labels::AbstractVector{<:Integer};
                 n_classes::Integer=maximum(labels))
    xm = floats(x)
    dim, n = size(xm)
    y = c_labels(labels, n)
    return created_dataset(L.pcmup_dataset_from_arrays, n, dim, n_classes, xm, length(xm), y)
end

"""(n = samples, dim = values per sample, n_classes = classes)."""
function info(ds::Dataset)
    n, dim, c = Ref{Csize_t}(0), Ref{Csize_t}(0), Ref{Csize_t}(0)
    check(L.pcmup_dataset_info(ds, n, dim, c))
    return (n=Int(n[]), dim=Int(dim[]), n_classes=Int(c[]))
end

Base.length(ds::Dataset) = info(ds).n

"""Keeps the first n samples."""
function truncate!(ds::Dataset, n::Integer)
    check(L.pcmup_dataset_truncate(ds, n))
    return ds
end

"""
    standardize!(ds, reference=nothing)

x <- (x - mean) / std with the mean and std of all values of `reference`
(the dataset itself when `nothing`), so a test set can take its training
set's statistics.
"""
function standardize!(ds::Dataset, reference::Union{Nothing,Dataset}=nothing)
    check(L.pcmup_dataset_standardize(ds, reference === nothing ? C_NULL : reference))
    return ds
end

"""
    get_batch(ds, start, n) -> (x, labels)

Samples start..start+n-1 (numbered from 1): x is (dim, n), labels are
classes 1..C.
"""
function get_batch(ds::Dataset, start::Integer, n::Integer)
    start >= 1 || throw(ArgumentError("samples are numbered from 1; start is $start"))
    x = Matrix{Float32}(undef, info(ds).dim, n)
    y = Vector{Int32}(undef, n)
    check(L.pcmup_dataset_get_batch(ds, start - 1, n, x, length(x), y))
    return x, julia_labels(y)
end

"""
    one_hot(ds, start, n; centred=false) -> Matrix{Float32}

One-hot targets of samples start..start+n-1, (n_classes, n): e_k, or e_k - 1/C.
"""
function one_hot(ds::Dataset, start::Integer, n::Integer; centred::Bool=false)
    start >= 1 || throw(ArgumentError("samples are numbered from 1; start is $start"))
    y = Matrix{Float32}(undef, info(ds).n_classes, n)
    check(L.pcmup_dataset_one_hot(ds, start - 1, n, centred ? 1 : 0, y, length(y)))
    return y
end
