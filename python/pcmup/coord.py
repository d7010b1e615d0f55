# SPDX-License-Identifier: MIT
"""The coordinate check (pcmup.h, section 9): pcmup_coord_check."""
import numpy as np

from . import _arrays
from ._errors import check
from ._lib import C, c_double, c_size_t


def coord_check(prototype, widths, x, labels, steps, seed=0, probe=None):
    """Trains a fresh copy of `prototype` (an Algo: its network's depth,
    activation and parameterization, its rule and settings) at each hidden
    width on the batch (x, labels), and returns (dh, h_abs), arrays of shape
    (len(widths), len(steps), L): mean |h_l(t) - h_l(0)| and mean |h_l(t)|
    on the probe batch (default x) after steps[k] steps."""
    net = prototype.net
    x, y = prototype._batch(x, labels)
    if probe is not None:
        probe = _arrays.floats(probe, "probe", (-1, net.input_dim))
    widths, steps = list(widths), list(steps)
    L = net.n_layers
    count = len(widths) * len(steps) * L
    dh, h_abs = (c_double * count)(), (c_double * count)()
    check(C.pcmup_coord_check(
        prototype.handle, (c_size_t * len(widths))(*widths), len(widths), _arrays.fptr(x),
        x.size, _arrays.iptr(y), x.shape[0], _arrays.fptr(probe),
        0 if probe is None else probe.size, 0 if probe is None else probe.shape[0],
        (c_size_t * len(steps))(*steps), len(steps), seed, dh, h_abs, count))
    shape = (len(widths), len(steps), L)
    return (np.array(dh, dtype=np.float64).reshape(shape),
            np.array(h_abs, dtype=np.float64).reshape(shape))
