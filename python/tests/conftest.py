# SPDX-License-Identifier: MIT
"""Shared fixtures. The package is imported from this source tree (python/),
the library from $PCMUP_LIBRARY (ctest sets it to the build's). Environment
the tests read:
  PCMUP_LIBRARY    the shared library under test
  PCMUP_HEADER     include/pcmup.h (default: this tree's)
  PCMUP_TRAIN      tools/pcmup-train, for the Python-vs-C comparison
  PCMUP_BUILD_DIR  the CMake build tree, for the install tests
  PCMUP_CMAKE      the cmake program (default: cmake)
"""
import os
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import pcmup  # noqa: E402
from pcmup import _lib  # noqa: E402


def _arity_checked(name, fn):
    """ctypes hands extra arguments on to C silently: in the tests every
    call must give exactly the declared number."""
    def call(*args):
        assert len(args) == len(fn.argtypes), f"{name}: {len(args)} arguments"
        return fn(*args)
    call.argtypes, call.restype = fn.argtypes, fn.restype
    return call


for _name in _lib._SIGNATURES:
    setattr(_lib.C, _name, _arity_checked(_name, getattr(_lib.C, _name)))

HEADER = os.environ.get("PCMUP_HEADER",
                        os.path.join(HERE, os.pardir, os.pardir, "include", "pcmup.h"))


@pytest.fixture
def header_text():
    with open(HEADER) as f:
        return f.read()


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def small_net():
    """A 3-layer MLP 12 -> 16 -> 16 -> 4 under muP."""
    with pcmup.Net.mlp([12, 16, 16, 4], param="mup_sgd", seed=3) as net:
        yield net


@pytest.fixture
def batch(rng):
    x = rng.standard_normal((8, 12)).astype(np.float32)
    y = (np.arange(8) % 4).astype(np.int32)
    return x, y
