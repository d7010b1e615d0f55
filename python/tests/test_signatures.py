# SPDX-License-Identifier: MIT
"""The ctypes declarations (_lib._SIGNATURES) against include/pcmup.h:
every PCMUP_API function is declared, with as many arguments as the
prototype has, each a pointer exactly where the prototype has one, and
the right return kind. ctypes passes extra arguments on silently, so this
is what keeps a miscounted call from reaching C."""
import ctypes
import re

import pcmup
from pcmup import _lib


def prototypes(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    out = {}
    for ret, name, params in re.findall(r"PCMUP_API\s+([\w\s\*]+?)\s*\b(pcmup_\w+)\s*\(([^)]*)\)\s*;",
                                        text):
        params = [p.strip() for p in params.split(",")]
        if params == ["void"]:
            params = []
        out[name] = (ret.strip(), params)
    return out


def is_pointer_type(t):
    return t in (ctypes.c_void_p, ctypes.c_char_p) or (
        isinstance(t, type) and issubclass(t, ctypes._Pointer))


def test_every_function_declared_as_in_the_header(header_text):
    protos = prototypes(header_text)
    assert len(protos) > 100
    assert set(protos) == set(_lib._SIGNATURES)
    for name, (ret, params) in protos.items():
        restype, argtypes = _lib._SIGNATURES[name]
        assert len(argtypes) == len(params), name
        for p, t in zip(params, argtypes):
            assert ("*" in p) == is_pointer_type(t), (name, p, t)
        if ret == "void":
            assert restype is None, name
        elif ret == "pcmup_status":
            assert restype is ctypes.c_int, name
        elif "*" in ret:
            assert restype is ctypes.c_char_p, name
        assert getattr(pcmup._C, name).argtypes == argtypes
    # The library's own functions, not only the table, carry them.
    assert _lib._DLL.pcmup_net_forward.argtypes == _lib._SIGNATURES["pcmup_net_forward"][1]
