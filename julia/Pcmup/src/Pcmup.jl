# SPDX-License-Identifier: MIT
"""
    Pcmup

Julia binding of libpcmup (include/pcmup.h): networks trained by
backpropagation, predictive coding, the Gauss-Newton target and target
propagation under SP and muP. docs/julia.md is the manual.

Two layers, as in the Python package (python/pcmup):

  - `Pcmup.LibPcmup` (src/LibPcmup.jl, generated from pcmup.h by
    julia/gen_bindings.py): one function per C function, C types, C
    constants; nothing converted.
  - the rest (this module): handles owned by Julia objects and freed by
    finalizers, `PcmupError` for every failure, enums and settings by
    name, Julia arrays in and out, class labels 1..C.

Conventions (arrays.jl says them in full): the library's row-major arrays
are Julia arrays with their dimensions reversed and nothing copied or
transposed, so a batch of B samples of dimension D is a `Matrix{Float32}`
of size (D, B) and layer l's weights W_l, (M_l, M_{l-1}) in C, are the
(M_{l-1}, M_l) matrix `transpose(W_l)`. Layers are numbered 1..L as in the
paper and the C API; samples 1..n; class labels 1..C (the one conversion
to and from the library's 0..C-1 is in arrays.jl).
"""
module Pcmup

include("LibPcmup.jl")
const L = LibPcmup

include("errors.jl")
include("handles.jl")
include("enums.jl")
include("arrays.jl")
include("param.jl")
include("net.jl")
include("dataset.jl")
include("settings.jl")
include("algo.jl")
include("diagnostics.jl")
include("coord.jl")
include("checkpoint.jl")

"""The library's version at run time (pcmup_version_string)."""
version() = VersionNumber(unsafe_string(L.pcmup_version_string()))

"""The library's version as MAJOR*10000 + MINOR*100 + PATCH."""
version_number() = Int(L.pcmup_version_number())

"""
    set_blas_threads(n)

The BLAS library's thread count (OpenBLAS), process-wide: call it while no
other thread is inside libpcmup or BLAS.
"""
set_blas_threads(n::Integer) = check(L.pcmup_set_blas_threads(n))

export PcmupError, Param, Builder, Net, Dataset, Algo, Checkpoint, Setting
export mlp, fashion_mnist, cifar10, load_idx
export apply_preset!, n_layers, set_layer!, get_layer, layer_bounds, param_bounds,
       layer_factors, init_weights!, layer_shape, weight_shape, input_shape, param_count,
       describe, weights, set_weights!, bias, set_bias!, forward, forward_layer
export add_conv!, add_dense!, set_activation!, add_pool!, parse!, check_builder
export info, truncate!, standardize!, get_batch, one_hot
export settings, setting, set!, layer_values, step!, reserve!, train_epoch!, train!, evaluate,
       counters, rule, last_update, alignment_ratio, set_reducer!,
       set_layer_split!, sync_layers!
export pc_gamma_out, pc_energy_trace, pc_epoch_energy, pc_error_norms,
       pc_linear_equilibrium, gnt_damping, gnt_system_size, tp_target_distances,
       tp_feedback_loss, tp_feedback, set_tp_feedback!
export trial_update, reference_update, update_alignment, compare_updates, coord_check
export save, load!, metadata, checkpoint_rule
export set_blas_threads

end # module Pcmup
