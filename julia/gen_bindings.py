#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""gen_bindings.py -- writes julia/Pcmup/src/LibPcmup.jl from include/pcmup.h.

    /usr/bin/python3 julia/gen_bindings.py            rewrite LibPcmup.jl
    /usr/bin/python3 julia/gen_bindings.py -o FILE    write FILE instead
    /usr/bin/python3 julia/gen_bindings.py --stdout   print it

The Julia binding's low-level layer is one `@ccall` per PCMUP_API function,
plus every enum, struct and object-like #define of the header as Julia
constants and types, so nothing in it is copied by hand. Nothing here runs
Julia (no Julia runtime is installed where libpcmup is developed and
tested): julia/check_bindings.py compares the output with the header
through the C++ compiler instead, and the test julia_bindings runs both.

Python 3 standard library only. The parser knows exactly the constructs
pcmup.h uses and stops with an error on anything else, so a new construct
in the header is a failure here rather than a silently wrong binding.
"""
import argparse
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
HEADER = os.path.join(ROOT, "include", "pcmup.h")
OUTPUT = os.path.join(HERE, "Pcmup", "src", "LibPcmup.jl")

# C scalar types and their Julia names. Enums are C int here: their
# constants are ints, and every platform passes an enum as a 32-bit int.
SCALARS = {
    "void": "Cvoid", "char": "Cchar", "int": "Cint", "unsigned": "Cuint",
    "unsigned int": "Cuint", "size_t": "Csize_t", "uint64_t": "UInt64",
    "int32_t": "Int32", "double": "Cdouble", "float": "Cfloat",
}

# Parameter names that are Julia keywords get a trailing underscore.
JULIA_RESERVED = set("""baremodule begin break catch const continue do else
elseif end export false finally for function global if import let local macro
module quote return struct true try using while abstract primitive type mutable
outer in isa where""".split())


class HeaderError(Exception):
    pass


def strip_comments(text):
    """Removes /* */ and // comments, keeping string literals and newlines."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("/*", i):
            j = text.index("*/", i + 2)
            out.append("\n" * text.count("\n", i, j) + " ")
            i = j + 2
        elif text.startswith("//", i):
            i = text.index("\n", i)
        else:
            out.append(c)
            i += 1
    return "".join(out)


def split_preprocessor(text):
    """Returns (object-like #defines in order, the text without # lines)."""
    text = text.replace("\\\n", " ")
    defines, body = [], []
    for line in text.split("\n"):
        s = line.strip()
        if not s.startswith("#"):
            body.append(line)
            continue
        m = re.match(r"#\s*define\s+([A-Za-z_]\w*)(\(?)(.*)$", s)
        if not m or m.group(2) == "(":
            continue                    # conditionals, includes, macros
        name, value = m.group(1), m.group(3).strip()
        if name in ("PCMUP_H", "PCMUP_API"):
            continue                    # the include guard, the export macro
        if not value:
            raise HeaderError("#define %s has no value" % name)
        defines.append((name, value))
    body = "\n".join(body)
    body = re.sub(r'extern\s+"C"\s*\{', " ", body)
    return defines, body


def statements(body):
    """Top-level declarations, split at ';' outside braces."""
    out, depth, start = [], 0, 0
    for i, c in enumerate(body):
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth < 0:               # the closing brace of extern "C"
                body = body[:i] + " " + body[i + 1:]
                depth = 0
        elif c == ";" and depth == 0:
            out.append(" ".join(body[start:i].split()))
            start = i + 1
    rest = body[start:].replace("}", " ").strip()
    if rest:
        raise HeaderError("text after the last declaration: %r" % rest[:80])
    return [s for s in out if s]


class Api:
    def __init__(self):
        self.enums = []       # (name, [(constant, value)])
        self.opaque = []      # struct names without a definition
        self.structs = []     # (name, [(field, c type)])
        self.functions = []   # (name, return c type, [(param, c type)])
        self.defines = []     # (name, julia type, value text)

    def typedef_names(self):
        return ({e[0] for e in self.enums} | set(self.opaque)
                | {s[0] for s in self.structs})


def parse_enum(stmt, api):
    m = re.fullmatch(r"typedef enum\s*\{(.*)\}\s*(\w+)", stmt)
    if not m:
        raise HeaderError("cannot parse enum: " + stmt[:80])
    values, nxt = [], 0
    for item in m.group(1).split(","):
        item = item.strip()
        if not item:
            continue
        im = re.fullmatch(r"(\w+)(?:\s*=\s*(-?\d+))?", item)
        if not im:
            raise HeaderError("cannot parse enumerator: " + item)
        nxt = int(im.group(2)) if im.group(2) is not None else nxt
        values.append((im.group(1), nxt))
        nxt += 1
    api.enums.append((m.group(2), values))


def split_declarator(decl):
    """'const char *const *name' -> ('const char *const *', 'name')."""
    m = re.fullmatch(r"(.*?[\s*])(\w+)", decl.strip())
    if not m:
        raise HeaderError("cannot parse declaration: " + decl)
    return " ".join(m.group(1).replace("*", " * ").split()), m.group(2)


def parse_struct(stmt, api):
    m = re.fullmatch(r"typedef struct(?:\s+(\w+))?\s*\{(.*)\}\s*(\w+)", stmt)
    if not m:
        raise HeaderError("cannot parse struct: " + stmt[:80])
    fields = []
    for member in m.group(2).split(";"):
        member = " ".join(member.split())
        if not member:
            continue
        fp = re.fullmatch(r".*\(\s*\*\s*(\w+)\s*\)\s*\(.*\)", member)
        if fp:                          # a function pointer member
            fields.append((fp.group(1), "void *"))
            continue
        first, *more = member.split(",")
        ctype, name = split_declarator(first)
        fields.append((name, ctype))
        base = ctype.rstrip(" *")
        for extra in more:              # 'double lo, hi'
            stars, name = re.fullmatch(r"\s*(\**)\s*(\w+)\s*", extra).groups()
            fields.append((name, (base + " " + " ".join(stars)).strip()))
    api.structs.append((m.group(3), fields))


def parse_function(stmt, api):
    m = re.fullmatch(r"PCMUP_API\s+(.*?)\(\s*(.*)\s*\)", stmt)
    if not m or "(" in m.group(2):
        raise HeaderError("cannot parse function (function pointers are not "
                          "supported): " + stmt[:100])
    ret, name = split_declarator(m.group(1))
    params = []
    if m.group(2).strip() != "void":
        for p in m.group(2).split(","):
            params.append(tuple(reversed(split_declarator(p))))
    api.functions.append((name, ret, params))


def parse_header(path):
    with open(path, encoding="utf-8") as f:
        defines, body = split_preprocessor(strip_comments(f.read()))
    api = Api()
    for stmt in statements(body):
        if stmt.startswith("PCMUP_API "):
            parse_function(stmt, api)
        elif stmt.startswith("typedef enum"):
            parse_enum(stmt, api)
        elif re.fullmatch(r"typedef struct (\w+) (\w+)", stmt):
            tag, name = stmt.split()[2:]
            if tag != name:
                raise HeaderError("opaque struct tag differs from its name: " + stmt)
            api.opaque.append(name)
        elif stmt.startswith("typedef struct"):
            parse_struct(stmt, api)
        else:
            raise HeaderError("unknown declaration: " + stmt[:100])
    for name, value in defines:
        api.defines.append(evaluate_define(name, value, api))
    return api


def evaluate_define(name, value, api):
    """An object-like #define as (name, Julia type, Julia literal)."""
    if re.fullmatch(r'"[^"\\$]*"', value):
        return name, "String", value
    known = {d[0]: d for d in api.defines}
    ctype = "Cint"
    if re.search(r"\(\s*size_t\s*\)", value):
        ctype = "Csize_t"
    elif re.search(r"\b\d+[uU]\b", value):
        ctype = "Cuint"
    expr = re.sub(r"\(\s*size_t\s*\)", "", value)
    expr = re.sub(r"\b(\d+)[uU]\b", r"\1", expr)

    def name_value(m):
        if m.group(0) not in known:
            raise HeaderError("#define %s uses unknown %s" % (name, m.group(0)))
        return known[m.group(0)][2]
    expr = re.sub(r"[A-Za-z_]\w*", name_value, expr)
    if not re.fullmatch(r"[\d\s()+*<-]*", expr):
        raise HeaderError("#define %s: unsupported expression %r" % (name, value))
    result = eval(expr, {"__builtins__": {}})   # digits and + - * << ( ) only
    return name, ctype, str(result)


def julia_type(ctype, api):
    """'const pcmup_net **' -> 'Ptr{Ptr{pcmup_net}}' (const is dropped)."""
    words = ctype.replace("const", " ").split()
    stars = words.count("*")
    base = " ".join(w for w in words if w != "*")
    if "*" in words[:len(words) - stars]:
        raise HeaderError("unsupported type: " + ctype)
    if base in SCALARS:
        jl = SCALARS[base]
    elif base in api.typedef_names():
        jl = base
    else:
        raise HeaderError("unknown type: " + ctype)
    for _ in range(stars):
        jl = "Ptr{%s}" % jl
    return jl


def c_decl(ctype, name):
    """('const float * const *', 'x') -> 'const float *const *x'."""
    text = ""
    for word in ctype.split():
        if word == "*":
            text += " *"
        else:
            text += word if text.endswith("*") else " " + word
    text = text.strip()
    return text + name if text.endswith("*") else text + " " + name


def short_names(values):
    """The enum's constants by their names without the common prefix, in
    lower case: PCMUP_RULE_BP -> bp (what the high-level layer takes)."""
    consts = [c for c, _ in values]
    prefix = os.path.commonprefix(consts)
    prefix = prefix[:prefix.rfind("_") + 1]
    out = []
    for c in consts:
        short = c[len(prefix):].lower()
        if not re.fullmatch(r"[a-z_]\w*", short):
            raise HeaderError("enum constant %s has no usable short name" % c)
        out.append((short, c))
    return out


def julia_symbol(name):
    """A Julia Symbol literal: :bp, or Symbol("end") for a keyword."""
    return 'Symbol("%s")' % name if name in JULIA_RESERVED else ":" + name


def julia_name(name):
    return name + "_" if name in JULIA_RESERVED else name


PRELUDE = '''\
# SPDX-License-Identifier: MIT
# LibPcmup.jl -- GENERATED by julia/gen_bindings.py from include/pcmup.h.
# Do not edit: change the header and run `/usr/bin/python3 julia/gen_bindings.py`.
# The test julia_bindings fails when this file differs from the generator's
# output or disagrees with the header (julia/check_bindings.py).
#
# One Julia function per exported C function, with the C parameter names,
# calling it through @ccall with the C types (const dropped; enums are
# Cint; opaque handles are Ptr{pcmup_net} etc.), and every enum constant,
# struct and #define of the header. The comment above each function is its
# C prototype. Each enum also has a tuple of its constants by short name
# (pcmup_rule_names = (:bp => PCMUP_RULE_BP, ...)), which the high-level
# layer uses to take names (:bp) where C takes the enum.
module LibPcmup

using Libdl

# The library is called by its SONAME. __init__ loads the file named by
# JULIA_PCMUP_LIBRARY (or PCMUP_LIBRARY) first, if set: the dynamic loader
# then resolves "libpcmup.so.1" to that already loaded file. Otherwise the
# loader's search path finds it (LD_LIBRARY_PATH, the ld.so cache,
# `cmake --install`'s prefix when it is a system one).
const libpcmup = "libpcmup.so.1"

function __init__()
    path = get(ENV, "JULIA_PCMUP_LIBRARY", get(ENV, "PCMUP_LIBRARY", ""))
    handle = isempty(path) ? Libdl.dlopen(libpcmup; throw_error=false) :
                             Libdl.dlopen(path, Libdl.RTLD_NOW | Libdl.RTLD_GLOBAL;
                                          throw_error=false)
    handle === nothing && error("Pcmup: cannot load ",
        isempty(path) ? libpcmup * " (set JULIA_PCMUP_LIBRARY to its path)" : path)
    number = pcmup_version_number()
    if div(number, 10000) != PCMUP_VERSION_MAJOR || number < PCMUP_VERSION_NUMBER
        error("Pcmup: the library is version ", unsafe_string(pcmup_version_string()),
              "; this binding needs ", PCMUP_VERSION_MAJOR, ".x at least ",
              PCMUP_VERSION_MAJOR, ".", PCMUP_VERSION_MINOR, ".", PCMUP_VERSION_PATCH)
    end
    return nothing
end
'''


def render(api):
    out = [PRELUDE]
    out.append("\n# ---- Types " + "-" * 66 + "\n")
    for name in api.opaque:
        out.append("mutable struct %s end\n" % name)
    for name, values in api.enums:
        out.append("\nconst %s = Cint\n" % name)
        for const, value in values:
            out.append("const %s = %s(%d)\n" % (const, name, value))
        out.append("const %s_names = (%s)\n" % (name, ", ".join(
            "%s => %s" % (julia_symbol(short), const)
            for short, const in short_names(values))))
    for name, fields in api.structs:
        out.append("\nstruct %s\n" % name)
        for field, ctype in fields:
            out.append("    %s::%s\n" % (field, julia_type(ctype, api)))
        out.append("end\n")
    out.append("\n# ---- Constants (#define) " + "-" * 52 + "\n\n")
    for name, jtype, value in api.defines:
        literal = value if jtype == "String" else "%s(%s)" % (jtype, value)
        out.append("const %s = %s\n" % (name, literal))
    out.append("\n# ---- Functions " + "-" * 61 + "\n")
    for name, ret, params in api.functions:
        proto = "%s(%s)" % (c_decl(ret, name),
                            ", ".join(c_decl(t, n) for n, t in params) or "void")
        args = ", ".join(julia_name(n) for n, _ in params)
        typed = ", ".join("%s::%s" % (julia_name(n), julia_type(t, api)) for n, t in params)
        out.append("\n# %s\n" % proto)
        out.append("function %s(%s)\n" % (name, args))
        out.append("    @ccall libpcmup.%s(%s)::%s\n" % (name, typed, julia_type(ret, api)))
        out.append("end\n")
    out.append("\nend # module LibPcmup\n")
    return "".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--output", default=OUTPUT)
    ap.add_argument("--header", default=HEADER)
    ap.add_argument("--stdout", action="store_true")
    args = ap.parse_args()
    try:
        text = render(parse_header(args.header))
    except HeaderError as e:
        sys.exit("gen_bindings.py: %s: %s" % (args.header, e))
    if args.stdout:
        sys.stdout.write(text)
        return
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(text)
    print("wrote %s" % os.path.relpath(args.output))


if __name__ == "__main__":
    main()
