# SPDX-License-Identifier: MIT
# Errors (pcmup.h, section 1): every failed call is a PcmupError.
#
# The Python package has one class per status (_errors.py); Julia code
# tells failures apart by the `status` field instead:
#     catch e; e isa PcmupError && e.status == :err_diverged || rethrow()

"""
    PcmupError(status, code, message)

A libpcmup call failed. `status` is the status's short name (`:err_shape`,
`:err_diverged`, ...; LibPcmup.pcmup_status_names), `code` its number and
`message` the library's message for the failed call (pcmup_last_error),
such as "pcmup_net_set_weights: layer 2: weight count 783 does not match 784".
"""
struct PcmupError <: Exception
    status::Symbol
    code::Int
    message::String
end

Base.showerror(io::IO, e::PcmupError) =
    print(io, "PcmupError(", e.status, "): ", e.message)

"""The status's name, "PCMUP_ERR_SHAPE" (pcmup_status_name)."""
status_name(code::Integer) = unsafe_string(L.pcmup_status_name(code))

"""The status's short sentence, "sizes or widths do not match" (pcmup_status_message)."""
status_message(code::Integer) = unsafe_string(L.pcmup_status_message(code))

"""The message of the last failed call on this thread (pcmup_last_error), "" if none."""
last_error() = unsafe_string(L.pcmup_last_error())

"""
    check(code)

Throws the PcmupError of a status that is not PCMUP_OK. The library's
message is read right after the failed call, on the same thread: nothing
between the two calls can yield to another task.
"""
function check(code::Integer)
    code == L.PCMUP_OK && return nothing
    message = last_error()
    isempty(message) && (message = status_message(code))
    throw(PcmupError(enum_name(L.pcmup_status_names, code), Int(code), message))
end

"""
    c_out(T, f, args...) -> T

The value a C function writes through its last argument, a `T *`:
`f(args..., &value)`, checked.
"""
function c_out(T::Type, f, args...)
    r = Ref{T}(0)
    check(f(args..., r))
    return r[]
end
