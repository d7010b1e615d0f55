# SPDX-License-Identifier: MIT
"""NumPy arrays in and out of the library.

An input array that is already float32 (int32 for labels) and C-contiguous
is passed as it is: the library reads the array's own buffer, nothing is
copied. Any other real-valued array is converted once (np.ascontiguousarray
with the right dtype) and the copy passed. An array of the wrong shape, or
of a dtype that is not a real number (labels: not an integer), raises
before the library is called: ShapeError (a ValueError) or TypeError.
"""
import ctypes

import numpy as np

from ._errors import ShapeError
from ._lib import c_float_p, c_int32_p


def _real(a, what):
    a = np.asarray(a)
    if a.dtype.kind not in "fiub":
        raise TypeError(f"{what}: dtype {a.dtype} is not a real number type "
                        f"(float32 is passed without a copy)")
    return a


def floats(a, what, shape):
    """`a` as a float32 C-contiguous array of `shape`, where -1 in `shape`
    stands for any length (the batch). A 1-D array is taken as one sample
    when shape is (-1, D)."""
    a = _real(a, what)
    if a.ndim == 1 and len(shape) == 2 and shape[0] == -1:
        a = a.reshape(1, -1)
    if a.ndim != len(shape) or any(s != -1 and s != d for s, d in zip(shape, a.shape)):
        want = "(" + ", ".join("B" if s == -1 else str(s) for s in shape) + ")"
        raise ShapeError(f"{what} has shape {a.shape}, expected {want}")
    if a.dtype != np.float32 or not a.flags.c_contiguous:
        a = np.ascontiguousarray(a, dtype=np.float32)
    return a


def labels(y, what, n):
    """`y` as an int32 C-contiguous array of n values."""
    y = np.asarray(y)
    if y.dtype.kind not in "iub":
        raise TypeError(f"{what}: dtype {y.dtype} is not an integer type "
                        f"(int32 is passed without a copy)")
    if y.shape != (n,):
        raise ShapeError(f"{what} has shape {y.shape}, expected ({n},), one label per sample")
    if y.dtype != np.int32 or not y.flags.c_contiguous:
        if y.size and (y.min() < np.iinfo(np.int32).min or y.max() > np.iinfo(np.int32).max):
            raise ValueError(f"{what}: values do not fit int32")
        y = np.ascontiguousarray(y, dtype=np.int32)
    return y


def fptr(a):
    """The float pointer of a float32 C-contiguous array (None: NULL)."""
    return None if a is None else a.ctypes.data_as(c_float_p)


def iptr(a):
    return None if a is None else a.ctypes.data_as(c_int32_p)


def out_floats(out, shape, what):
    """A float32 C-contiguous output array of `shape`: a new one, or the
    caller's `out`, which the library writes directly (never a copy)."""
    if out is None:
        return np.empty(shape, dtype=np.float32)
    if not isinstance(out, np.ndarray) or out.dtype != np.float32 \
            or not out.flags.c_contiguous or not out.flags.writeable:
        raise TypeError(f"{what}: out must be a writeable float32 C-contiguous array")
    if out.shape != tuple(shape):
        raise ShapeError(f"{what}: out has shape {out.shape}, expected {tuple(shape)}")
    return out


def pointer_array(arrays):
    """A C array of float pointers to `arrays` (None entries are NULL)."""
    arr = (c_float_p * len(arrays))()
    for i, a in enumerate(arrays):
        arr[i] = fptr(a) if a is not None else c_float_p()
    return arr


def doubles(n):
    return (ctypes.c_double * n)()
