#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""check_bindings.py -- the Julia binding's C signatures against pcmup.h.

    /usr/bin/python3 julia/check_bindings.py [--cxx C++] [--self-test]

No Julia runtime is installed where libpcmup is built and tested, so the
Julia package is checked without running it:

 1. drift: julia/gen_bindings.py run again must give the committed
    julia/Pcmup/src/LibPcmup.jl byte for byte;
 2. coverage: the functions LibPcmup.jl calls through @ccall are exactly
    those of tests/exported_symbols.txt (the library's exports), each
    wrapped by a Julia function of its own name taking as many arguments
    as it passes;
 3. types, through the C++ compiler, from LibPcmup.jl alone (not from the
    generator's reading of the header): every @ccall's argument count,
    argument types and return type, mapped back to C (Cint -> int,
    Ptr{Cfloat} -> float *, pcmup_rule -> pcmup_rule, ...), must be the
    declared function's (decltype of the function in pcmup.h, const
    qualifiers aside, which Julia does not express); every type alias
    (const pcmup_rule = Cint) must have the C type's size and be an enum;
    every Julia struct must have the C struct's fields, types, offsets and
    size; every constant must have the header's value and type.

 4. the hand-written layer (the other files of julia/Pcmup/src): every
    exported C function is called there (L.pcmup_...), every L.name it
    uses is defined in LibPcmup.jl, every name Pcmup.jl exports is
    defined, and its blocks and brackets balance (a lint, not a parser:
    no Julia runs here).

--self-test first checks that the checks fail: it breaks a copy of
LibPcmup.jl in several ways (a wrapper removed, an argument dropped, an
argument's type changed, a constant's value changed, a struct field
retyped) and requires each copy to be refused. Exit status 0 when every
check passes, 1 on a failure, 77 when there is no C++ compiler (checks 1
and 2 still ran and passed).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LIBJL = os.path.join(HERE, "Pcmup", "src", "LibPcmup.jl")
SYMBOLS = os.path.join(ROOT, "tests", "exported_symbols.txt")
INCLUDE = os.path.join(ROOT, "include")

# Julia's C type names and the C types they are.
JULIA_TO_C = {
    "Cvoid": "void", "Cchar": "char", "Cint": "int", "Cuint": "unsigned int",
    "Csize_t": "size_t", "UInt64": "uint64_t", "Int32": "int32_t",
    "Cdouble": "double", "Cfloat": "float",
}


class Binding:
    """What LibPcmup.jl declares, read with regular expressions."""

    def __init__(self, text):
        self.text = text
        self.aliases = dict(re.findall(r"^const (\w+) = (C\w+)$", text, re.M))
        self.opaque = re.findall(r"^mutable struct (\w+) end$", text, re.M)
        self.structs = {}
        for name, body in re.findall(r"^struct (\w+)\n(.*?)^end$", text, re.M | re.S):
            self.structs[name] = re.findall(r"^\s+(\w+)::(\S+)$", body, re.M)
        self.constants = re.findall(r"^const (\w+) = (\w+)\((-?\d+)\)$", text, re.M)
        self.strings = re.findall(r'^const (PCMUP_\w+) = ("[^"]*")$', text, re.M)
        self.functions = []
        pattern = (r"^function (\w+)\(([^)]*)\)\n\s+@ccall libpcmup\.(\w+)"
                   r"\((.*)\)::(\S+)\nend$")
        for jname, jargs, cname, cargs, ret in re.findall(pattern, text, re.M):
            jargs = [a.strip() for a in jargs.split(",") if a.strip()]
            cargs = [a.strip().split("::") for a in split_top(cargs)]
            self.functions.append((jname, jargs, cname, cargs, ret))
        self.ccalls = re.findall(r"@ccall libpcmup\.(\w+)", text)

    def c_type(self, jtype):
        """'Ptr{Ptr{pcmup_net}}' -> 'pcmup_net **'."""
        m = re.fullmatch(r"Ptr\{(.*)\}", jtype)
        if m:
            inner = self.c_type(m.group(1))
            return inner + ("*" if inner.endswith("*") else " *")
        if jtype in JULIA_TO_C:
            return JULIA_TO_C[jtype]
        if jtype in self.aliases or jtype in self.opaque or jtype in self.structs:
            return jtype
        raise ValueError("unknown Julia type " + jtype)


def split_top(args):
    """Splits 'a::Ptr{X}, b::Cint' at the commas outside braces."""
    out, depth, cur = [], 0, ""
    for c in args:
        depth += (c == "{") - (c == "}")
        if c == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += c
    if cur.strip():
        out.append(cur)
    return out


def check_coverage(b, symbols):
    errors = []
    wrapped = [f[2] for f in b.functions]
    if len(b.ccalls) != len(b.functions):
        errors.append("%d @ccall lines but %d wrappers read" % (len(b.ccalls), len(b.functions)))
    for name in sorted(set(symbols) - set(wrapped)):
        errors.append("no Julia wrapper for exported function " + name)
    for name in sorted(set(wrapped) - set(symbols)):
        errors.append("Julia wrapper for %s, which the library does not export" % name)
    for jname, jargs, cname, cargs, _ in b.functions:
        if jname != cname:
            errors.append("Julia function %s calls %s" % (jname, cname))
        if [a[0] for a in cargs] != jargs:
            errors.append("%s: Julia arguments (%s) are not those passed to C (%s)"
                          % (jname, ", ".join(jargs), ", ".join(a[0] for a in cargs)))
    return errors


CXX_PRELUDE = r"""
#include <pcmup.h>
#include <cstddef>
#include <tuple>
#include <type_traits>
namespace chk {
// A type with const and volatile removed at every pointer level.
template <class T> struct unq { typedef T type; };
template <class T> struct unq<T *> {
    typedef typename unq<typename std::remove_cv<T>::type>::type *type; };
template <class T> struct norm {
    typedef typename unq<typename std::remove_cv<T>::type>::type type; };
template <class H, class J> struct same {
    static const bool value = std::is_same<typename norm<H>::type, J>::value; };
// A C function pointer member is a Ptr{Cvoid} in Julia.
template <class H> struct fnptr { static const bool value = std::is_pointer<H>::value &&
    std::is_function<typename std::remove_pointer<H>::type>::value; };
template <class F> struct fn;
template <class R, class... A> struct fn<R(A...)> {
    typedef R ret;
    static const std::size_t n = sizeof...(A);
    template <std::size_t I> struct arg {
        typedef typename std::tuple_element<I, std::tuple<A...> >::type type; };
};
constexpr bool streq(const char *a, const char *b) {
    return *a == *b && (*a == 0 || streq(a + 1, b + 1)); }
}
"""


def cxx_source(b):
    """C++ static assertions of everything LibPcmup.jl says about C."""
    out = [CXX_PRELUDE]
    a = out.append
    for alias, base in sorted(b.aliases.items()):
        a('static_assert(std::is_enum<%s>::value && sizeof(%s) == sizeof(%s), '
          '"Julia alias %s = %s: not an enum of that size");\n'
          % (alias, alias, JULIA_TO_C[base], alias, base))
    for name, fields in b.structs.items():
        mirror = "jl_" + name
        a("struct %s {\n" % mirror)
        for field, jtype in fields:
            a("    %s %s;\n" % (b.c_type(jtype), field))
        a("};\n")
        a('static_assert(sizeof(%s) == sizeof(%s), "Julia struct %s: size differs");\n'
          % (mirror, name, name))
        for field, jtype in fields:
            ct = b.c_type(jtype)
            a('static_assert(offsetof(%s, %s) == offsetof(%s, %s), '
              '"Julia struct %s.%s: offset differs");\n' % (mirror, field, name, field, name, field))
            cond = "chk::same<decltype(%s::%s), %s>::value" % (name, field, ct)
            if ct == "void *":
                cond += " || chk::fnptr<decltype(%s::%s)>::value" % (name, field)
            a('static_assert(%s, "Julia struct %s.%s::%s is not C %s");\n'
              % (cond, name, field, jtype, ct))
    for name, jtype, value in b.constants:
        ct = b.c_type(jtype)
        a('static_assert(%s == %s && std::is_same<decltype(%s), %s>::value, '
          '"Julia constant %s = %s(%s): value or type differs");\n'
          % (name, value, name, ct, name, jtype, value))
    for name, literal in b.strings:
        a('static_assert(chk::streq(%s, %s), "Julia constant %s differs");\n'
          % (name, literal, name))
    for jname, _, cname, cargs, ret in b.functions:
        f = "chk::fn<decltype(%s)>" % cname
        a('static_assert(%s::n == %d, "%s: Julia passes %d arguments, C takes another number");\n'
          % (f, len(cargs), cname, len(cargs)))
        a('static_assert(chk::same<%s::ret, %s>::value, "%s: return type %s is not C %s");\n'
          % (f, b.c_type(ret), cname, ret, b.c_type(ret)))
        for i, (arg, jtype) in enumerate(cargs):
            a('static_assert(chk::same<%s::arg<(%d < %s::n ? %d : 0)>::type, %s>::value, '
              '"%s: argument %d (%s::%s) is not C %s");\n'
              % (f, i, f, i, b.c_type(jtype), cname, i + 1, arg, jtype, b.c_type(jtype)))
    return "".join(out)


def check_types(b, cxx, tmpdir):
    """Compiles the assertions; returns the compiler's errors."""
    src = os.path.join(tmpdir, "check_bindings.cpp")
    with open(src, "w") as f:
        f.write(cxx_source(b))
    r = subprocess.run([cxx, "-std=c++11", "-fsyntax-only", "-I", INCLUDE, src],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True)
    if r.returncode == 0:
        return []
    lines = [l for l in r.stdout.splitlines() if "static assertion failed" in l
             or "error:" in l]
    return lines or [r.stdout.strip()]


BLOCK_OPENERS = re.compile(
    r"\b(function|if|for|while|let|begin|do|try|struct|module|quote|macro|"
    r"abstract type|primitive type)\b|\bend\b")


def julia_code(text):
    """Julia text without comments, strings and character literals."""
    text = re.sub(r'"""(.|\n)*?"""', '""', text)
    text = re.sub(r'"(\\.|[^"\\\n])*"', '""', text)
    text = re.sub(r"'(\\.|[^'\\])'", "' '", text)
    return re.sub(r"#.*", "", text)


def lint_julia(name, text):
    """Blocks opened at bracket depth 0 each closed by one `end`, brackets
    balanced: what a Julia file must at least have."""
    errors, blocks, brackets = [], [], []
    pairs = {")": "(", "]": "[", "}": "{"}
    for lineno, line in enumerate(julia_code(text).split("\n"), 1):
        pos = 0
        for m in re.finditer(r"[()\[\]{}]|" + BLOCK_OPENERS.pattern, line):
            tok = m.group(0)
            if tok in "([{":
                brackets.append((tok, lineno))
            elif tok in ")]}":
                if not brackets or brackets.pop()[0] != pairs[tok]:
                    errors.append("%s:%d: unbalanced %r" % (name, lineno, tok))
            elif brackets:
                continue    # x[end], comprehensions' for and if
            elif tok == "end":
                if not blocks:
                    errors.append("%s:%d: `end` without a block" % (name, lineno))
                else:
                    blocks.pop()
            else:
                blocks.append((tok, lineno))
    errors += ["%s:%d: %r not closed" % (name, l, t) for t, l in brackets]
    errors += ["%s:%d: %r block without `end`" % (name, l, t) for t, l in blocks]
    return errors


def check_high_level(b, symbols, files):
    """The hand-written layer: files maps a file name to its text."""
    errors = []
    lib_names = (set(b.aliases) | set(b.opaque) | set(b.structs)
                 | {c[0] for c in b.constants} | {s[0] for s in b.strings}
                 | {f[0] for f in b.functions} | set(re.findall(r"^const (\w+) =", b.text, re.M)))
    code = ""
    for name, text in sorted(files.items()):
        errors += lint_julia(name, text)
        code += julia_code(text) + "\n"
    used = set(re.findall(r"\bL\.(\w+)", code))
    for name in sorted(used - lib_names):
        errors.append("the high-level layer uses L.%s, which LibPcmup.jl does not define" % name)
    for name in sorted(set(symbols) - used):
        errors.append("the high-level layer never calls %s" % name)
    defined = set(re.findall(
        r"^(?:function\s+(?:Base\.)?|(?:mutable\s+)?struct\s+|const\s+)?(\w+!?)"
        r"(?:\(|\s*=|\s*<:|\s*$)", code, re.M))
    exports = re.findall(r"^export[ \t]+((?:.|\n[ \t]+)*)", files.get("Pcmup.jl", ""), re.M)
    for name in sorted({n.strip() for e in exports for n in e.split(",")} - {""}):
        if name not in defined:
            errors.append("Pcmup.jl exports %s, which no file defines" % name)
    return errors


def high_level_files():
    src = os.path.dirname(LIBJL)
    return {n: open(os.path.join(src, n), encoding="utf-8").read()
            for n in os.listdir(src) if n.endswith(".jl") and n != "LibPcmup.jl"}


def check(text, symbols, cxx, tmpdir, files=None):
    try:
        b = Binding(text)
        errors = check_coverage(b, symbols) + lint_julia("LibPcmup.jl", text)
        errors += check_high_level(b, symbols, files or high_level_files())
        if cxx:
            errors += check_types(b, cxx, tmpdir)
    except ValueError as e:
        errors = [str(e)]
    return errors


def check_drift(text):
    r = subprocess.run([sys.executable, os.path.join(HERE, "gen_bindings.py"), "--stdout"],
                       stdout=subprocess.PIPE, universal_newlines=True)
    if r.returncode != 0:
        return ["gen_bindings.py failed"]
    if r.stdout != text:
        return ["LibPcmup.jl is not what julia/gen_bindings.py writes from include/pcmup.h "
                "(run /usr/bin/python3 julia/gen_bindings.py)"]
    return []


# Each must make check() fail: (what is broken, old text, new text).
MUTATIONS = [
    ("a wrapper removed", re.compile(
        r"\n# [^\n]*\nfunction pcmup_dataset_truncate\(.*?\nend\n", re.S), "\n"),
    ("an argument dropped", "x_count::Csize_t, batch::Csize_t, out::Ptr{Cfloat}",
     "batch::Csize_t, out::Ptr{Cfloat}"),
    ("an argument's type", "src::Ptr{Cfloat}, count::Csize_t)::pcmup_status",
     "src::Ptr{Cdouble}, count::Csize_t)::pcmup_status"),
    ("an unsigned argument as int", "flags::Cuint", "flags::Cint"),
    ("a handle's type", "(algo::Ptr{pcmup_algo}, key::pcmup_setting, value::Cdouble)",
     "(algo::Ptr{pcmup_net}, key::pcmup_setting, value::Cdouble)"),
    ("a return type", "pcmup_setting_count()::Csize_t", "pcmup_setting_count()::Cuint"),
    ("an enum constant's value", "PCMUP_RULE_GNT = pcmup_rule(2)", "PCMUP_RULE_GNT = pcmup_rule(3)"),
    ("a #define's value", "PCMUP_NET_BIAS = Cuint(1)", "PCMUP_NET_BIAS = Cuint(2)"),
    ("a struct field's type", "    lo::Cdouble\n", "    lo::Cfloat\n"),
]

# The same for the hand-written layer: (what, file, old text, new text).
HIGH_LEVEL_MUTATIONS = [
    ("a C function no longer called", "dataset.jl",
     "check(L.pcmup_dataset_truncate(ds, n))", "nothing"),
    ("an unknown LibPcmup name", "algo.jl", "L.pcmup_algo_step(", "L.pcmup_algo_stepp("),
    ("a missing `end`", "param.jl", "    return Param(out[])\nend\n", "    return Param(out[])\n"),
    ("an unbalanced bracket", "net.jl", "dims[1:rank[]]", "dims[1:rank[]"),
    ("an export not defined", "Pcmup.jl", "export mlp,", "export mlpp,"),
]


def self_test(text, symbols, cxx, tmpdir):
    failures = []
    for what, old, new in MUTATIONS:
        if hasattr(old, "subn"):
            broken, n = old.subn(new, text, count=1)
        else:
            n = text.count(old)
            broken = text.replace(old, new, 1)
        if n == 0:
            failures.append("self-test: cannot break %s (text not found)" % what)
        elif not check(broken, symbols, cxx, tmpdir):
            failures.append("self-test: %s was not detected" % what)
    files = high_level_files()
    for what, name, old, new in HIGH_LEVEL_MUTATIONS:
        if old not in files[name]:
            failures.append("self-test: cannot break %s (text not found)" % what)
            continue
        broken = dict(files)
        broken[name] = files[name].replace(old, new, 1)
        if not check(text, symbols, None, tmpdir, broken):
            failures.append("self-test: %s was not detected" % what)
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cxx", help="C++ compiler (default: none, type checks skipped)")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    with open(LIBJL, encoding="utf-8") as f:
        text = f.read()
    with open(SYMBOLS) as f:
        symbols = f.read().split()
    cxx = args.cxx if args.cxx and args.cxx not in ("", "NONE") else None
    with tempfile.TemporaryDirectory() as tmpdir:
        errors = check_drift(text) + check(text, symbols, cxx, tmpdir)
        if args.self_test and not errors:
            errors += self_test(text, symbols, cxx, tmpdir)
    for e in errors:
        print("FAIL: " + e)
    if errors:
        return 1
    b = Binding(text)
    print("ok: LibPcmup.jl is generated from pcmup.h and wraps the %d exported functions; "
          "the high-level layer calls each of them and passes the lint" % len(b.functions))
    if not cxx:
        print("skipped: no C++ compiler, argument and constant types not checked")
        return 77
    print("ok: argument counts, argument and return types, %d aliases, %d structs and "
          "%d constants agree with pcmup.h (C++ compiler %s)%s"
          % (len(b.aliases), len(b.structs), len(b.constants) + len(b.strings), cxx,
             ", and each of %d deliberate breakages is detected"
             % (len(MUTATIONS) + len(HIGH_LEVEL_MUTATIONS))
             if args.self_test else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
