# SPDX-License-Identifier: MIT
# The library's settings table (pcmup_setting_*; the Python package's
# settings.py), read from the library: names, descriptions, groups,
# defaults, bounds, per-layer flags, the rules that accept each setting,
# and the value names of the enum-valued ones. Nothing here restates a
# setting.

"""One row of the settings table; `values` lists an enum-valued setting's value names."""
struct Setting
    key::Cint
    name::Symbol
    description::String
    group::Symbol
    default::Float64
    lo::Float64
    hi::Float64
    lo_open::Bool
    hi_open::Bool
    integral::Bool
    per_layer::Bool
    rules::Vector{Symbol}
    values::Vector{Pair{Symbol,Float64}}
end

function Base.show(io::IO, s::Setting)
    print(io, "Setting(:", s.name, ", default=", setting_value(s, s.default),
          ", per_layer=", s.per_layer, ")")
end

c_text(f, args...) = (p = Ref{Ptr{Cchar}}(C_NULL); check(f(args..., p)); unsafe_string(p[]))

function read_setting(key::Cint)
    g, d, flag = Ref{Cint}(0), Ref{Cdouble}(0), Ref{Cint}(0)
    check(L.pcmup_setting_group_of(key, g))
    check(L.pcmup_setting_default(key, d))
    check(L.pcmup_setting_per_layer(key, flag))
    per_layer = flag[] != 0
    b = L.pcmup_setting_bounds(key)
    check(b.status)
    rules = Symbol[]
    for (name, r) in L.pcmup_rule_names
        check(L.pcmup_setting_accepts(key, r, flag))
        flag[] != 0 && push!(rules, name)
    end
    values = Pair{Symbol,Float64}[]
    p = Ref{Ptr{Cchar}}(C_NULL)
    # Only an enum-valued setting has value names (others: UNSUPPORTED).
    enum_valued = b.integral != 0 && isfinite(b.lo) && isfinite(b.hi) &&
                  L.pcmup_setting_value_name(key, b.lo, p) != L.PCMUP_ERR_UNSUPPORTED
    if enum_valued
        for v in ceil(Int, b.lo):floor(Int, b.hi)
            L.pcmup_setting_value_name(key, v, p) == L.PCMUP_OK &&
                push!(values, Symbol(unsafe_string(p[])) => Float64(v))
        end
    end
    return Setting(key, Symbol(c_text(L.pcmup_setting_name, key)),
                   c_text(L.pcmup_setting_description, key),
                   enum_name(L.pcmup_setting_group_names, g[]), d[], b.lo, b.hi,
                   b.lo_open != 0, b.hi_open != 0, b.integral != 0, per_layer, rules, values)
end

"""Every setting of the library, in key order."""
function settings()
    out = Setting[]
    key = Ref{Cint}(0)
    for i in 0:Int(L.pcmup_setting_count())-1
        check(L.pcmup_setting_at(i, key))
        push!(out, read_setting(key[]))
    end
    return out
end

"""
    setting(name) -> Setting

The setting called `name` (:lr, "pc_kappa"), found by the library
(pcmup_setting_find).
"""
function setting(name::Union{Symbol,AbstractString})
    lock(SETTINGS_LOCK) do
        get!(SETTINGS_CACHE, Symbol(name)) do
            read_setting(c_out(Cint, L.pcmup_setting_find, cstring(string(name))))
        end
    end
end

# The rows read so far: the table is constant data of the library.
const SETTINGS_CACHE = Dict{Symbol,Setting}()
const SETTINGS_LOCK = ReentrantLock()

"""
    setting_number(s, value) -> Float64

A value as the double the library takes: a value name (:ce, "sequential",
found by pcmup_setting_value_find), a Bool (0 or 1) or a number.
"""
function setting_number(s::Setting, value::Union{Symbol,AbstractString})
    v = Ref{Cdouble}(0)
    check(L.pcmup_setting_value_find(s.key, cstring(string(value)), v))
    return v[]
end
setting_number(s::Setting, value::Real) = Float64(value)

"""The library's double as Julia: a value name (Symbol) for an enum-valued
setting, an Int for a whole-number one, else the Float64."""
function setting_value(s::Setting, number::Float64)
    for (name, v) in s.values
        v == number && return name
    end
    return s.integral && isfinite(number) ? Int(number) : number
end
