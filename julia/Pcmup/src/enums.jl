# SPDX-License-Identifier: MIT
# C enums by name (the Python package's _enums.py). LibPcmup has, for each
# enum of pcmup.h, its constants by short name: pcmup_rule_names =
# (:bp => PCMUP_RULE_BP, :pc => PCMUP_RULE_PC, ...). Wherever C takes an
# enum, this package takes that name as a Symbol or a String (:mup_sgd,
# "tanh"), or the C value itself.

"""
    enum_value(names, x) -> Cint

The C value of the enum constant named `x` in `names` (one of LibPcmup's
`*_names` tuples); an integer is returned as a Cint unchanged.
"""
enum_value(names, x::Integer) = Cint(x)
function enum_value(names, x::Union{Symbol,AbstractString})
    s = Symbol(lowercase(String(x)))
    for (name, value) in names
        name === s && return value
    end
    throw(ArgumentError("unknown name $(repr(x)); expected one of " *
                        join((repr(n) for (n, _) in names), ", ")))
end

"""
    enum_name(names, value) -> Symbol

The short name of the C value `value` in `names`; a value not listed (from
a newer library) is returned as the Symbol of its number.
"""
function enum_name(names, value::Integer)
    for (name, v) in names
        v == value && return name
    end
    return Symbol(value)
end
