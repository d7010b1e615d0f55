# SPDX-License-Identifier: MIT
"""NumPy in, NumPy out. float32 / int32 C-contiguous arrays reach the
library as they are: the pointer the C function receives is the array's
own buffer (a recording wrapper stands in front of the C function and
hands the same arguments on). Other arrays are converted once; arrays of
the wrong shape or type raise before any C call, and never crash."""
import ctypes

import numpy as np
import pytest

import pcmup
from pcmup import _lib


class Recorder:
    """Wraps a C function of the namespace: records the address of each
    pointer argument, then makes the real call with the same arguments."""

    def __init__(self, monkeypatch, name):
        self.fn = getattr(_lib.C, name)
        self.calls = []
        monkeypatch.setattr(_lib.C, name, self)

    def __call__(self, *args):
        self.calls.append([ctypes.cast(a, ctypes.c_void_p).value
                           if isinstance(a, ctypes._Pointer) else a for a in args])
        return self.fn(*args)


def address(a):
    return a.__array_interface__["data"][0]


def test_step_reads_the_callers_buffers(monkeypatch, small_net, batch):
    x, y = batch
    x.flags.writeable = False                          # read-only is fine: only read
    rec = Recorder(monkeypatch, "pcmup_algo_step")
    bp = pcmup.Algo(small_net, "bp", seed=1)
    bp.step(x, y)
    (call,) = rec.calls
    assert call[1] == address(x) and call[3] == address(y)
    assert call[2] == x.size and call[4] == 8


def test_forward_reads_x_and_writes_out_in_place(monkeypatch, small_net, batch):
    x, _ = batch
    out = np.full((8, 4), np.nan, dtype=np.float32)
    rec = Recorder(monkeypatch, "pcmup_net_forward")
    got = small_net.forward(x, out=out)
    assert got is out and np.isfinite(out).all()       # the library wrote our array
    (call,) = rec.calls
    assert call[1] == address(x) and call[4] == address(out)
    # a view that is C-contiguous (a slice of rows) is not copied either
    small_net.forward(x[2:6])
    assert rec.calls[1][1] == address(x) + 2 * 12 * 4


def test_other_arrays_are_converted_once(monkeypatch, small_net, batch):
    x, y = batch
    rec = Recorder(monkeypatch, "pcmup_algo_step")
    bp = pcmup.Algo(small_net, "bp", seed=1)
    ref = pcmup.Algo(pcmup.Net.mlp([12, 16, 16, 4], param="mup_sgd", seed=3), "bp", seed=1)
    loss64 = bp.step(x.astype(np.float64), y.astype(np.int64))
    assert rec.calls[0][1] != address(x)
    assert loss64 == ref.step(x, y)                    # the same numbers after conversion
    xf = np.asfortranarray(x)
    bp.step(xf, list(y))                               # not C-contiguous; a list
    assert rec.calls[-1][1] != address(xf)


@pytest.mark.parametrize("x,err,msg", [
    (np.zeros((8, 11), np.float32), pcmup.ShapeError, r"shape \(8, 11\), expected \(B, 12\)"),
    (np.zeros((2, 4, 12), np.float32), pcmup.ShapeError, "expected"),
    (np.zeros(13, np.float32), pcmup.ShapeError, "expected"),
    (np.zeros((8, 12), np.complex64), TypeError, "complex64 is not a real number"),
    (np.array([["a"] * 12] * 8), TypeError, "not a real number"),
    (np.array([[object()] * 12] * 8), TypeError, "not a real number"),
])
def test_wrong_arrays_raise_before_the_call(monkeypatch, small_net, batch, x, err, msg):
    rec = Recorder(monkeypatch, "pcmup_algo_step")
    bp = pcmup.Algo(small_net, "bp", seed=1)
    w = small_net.get_weights(1)
    with pytest.raises(err, match=msg):
        bp.step(x, batch[1])
    with pytest.raises(err):
        small_net.forward(x)
    assert rec.calls == [] and np.array_equal(w, small_net.get_weights(1))


@pytest.mark.parametrize("y,err,msg", [
    (np.zeros(7, np.int32), pcmup.ShapeError, "one label per sample"),
    (np.zeros((8, 1), np.int32), pcmup.ShapeError, "expected"),
    (np.zeros(8, np.float32), TypeError, "float32 is not an integer"),
])
def test_wrong_labels_raise(small_net, batch, y, err, msg):
    with pytest.raises(err, match=msg):
        pcmup.Algo(small_net, "bp").step(batch[0], y)


def test_values_the_library_refuses_are_exceptions(small_net, batch):
    x, y = batch
    bp = pcmup.Algo(small_net, "bp")
    bad = x.copy()
    bad[0, 0] = np.inf
    with pytest.raises(pcmup.InvalidError, match="pcmup_algo_step"):
        bp.step(bad, y)
    with pytest.raises(pcmup.InvalidError):
        bp.step(x, np.full(8, 4))                      # label past the outputs
    with pytest.raises(pcmup.InvalidError, match="batch 0"):
        bp.step(x[:0], y[:0])
    with pytest.raises(pcmup.InvalidError):
        small_net.set_weights(1, np.full((16, 12), np.nan))


def test_weights_round_trip_in_their_shapes(small_net, rng):
    for layer in 1, 2, 3:
        shape = small_net.weight_shape(layer)
        w = rng.standard_normal(shape).astype(np.float32)
        small_net.set_weights(layer, w)
        got = small_net.get_weights(layer)
        assert got.shape == shape and got.dtype == np.float32
        # multipliers here are powers of two (or 1): exact (pcmup.h)
        np.testing.assert_array_equal(got, w)
    got[:] = 0                                          # a copy: the net is unchanged
    assert small_net.get_weights(3).any()
    with pytest.raises(pcmup.ShapeError, match=r"expected \(16, 12\)"):
        small_net.set_weights(1, np.zeros((12, 16), np.float32))
    with pytest.raises(pcmup.ShapeError):
        small_net.set_weights(1, np.zeros(16 * 12, np.float32))
    with pytest.raises(pcmup.ShapeError):
        small_net.get_weights(1, out=np.zeros((12, 16), np.float32))
    with pytest.raises(TypeError):
        small_net.get_weights(1, out=np.zeros((16, 12)))


def test_empty_batch_is_an_exception_not_a_crash(small_net):
    with pytest.raises(pcmup.InvalidError, match="batch 0"):
        small_net.forward(np.zeros((0, 12), np.float32))
