# SPDX-License-Identifier: MIT
"""Algorithms (pcmup.h, section 5): pcmup_algo, its settings and training."""
import ctypes

import numpy as np

from . import _arrays
from ._enums import Rule, coerce
from ._errors import check
from ._handle import Handle
from ._lib import C, c_double, c_int, c_uint64, c_void_p
from .diagnostics import Diagnostics
from .settings import SETTINGS, setting


class Algo(Diagnostics, Handle):
    """A learning rule bound to a network, which it keeps alive:

        bp = pcmup.Algo(net, "bp", seed=7, lr=0.05)
        bp.momentum = 0.9; bp.loss = "ce"; bp["pc_kappa"]
        loss = bp.step(x, labels)
        bp.train(train, batch=64, epochs=3, callback=lambda epoch, loss: print(epoch, loss))
        test_loss, test_acc = bp.evaluate(test)

    Settings are the library's (pcmup.settings()): keyword arguments,
    attributes or items by name. An enum-valued setting reads back as its
    value's name ("ce") and takes a name or a number. A per-layer setting
    takes one value for every hidden layer, or a sequence of L - 1 values;
    get_layer / set_layer / layer_values reach single layers.
    """

    __slots__ = ("_net",)
    _kind, _free_name = "algo", "pcmup_algo_free"

    def __init__(self, net, rule="bp", seed=0, allocator=None, **settings):
        h = c_void_p()
        check(C.pcmup_algo_create(ctypes.byref(h), coerce(Rule, rule), net.handle, seed,
                                  allocator))
        self._adopt_into(net, h.value, allocator)
        try:
            self.set(**settings)
        except Exception:
            self.close()
            raise

    def _adopt_into(self, net, handle, allocator):
        object.__setattr__(self, "_net", net)
        self._own(handle, allocator)
        net._algos.add(self)

    @classmethod
    def load(cls, net, checkpoint, allocator=None):
        """An algorithm from a checkpoint (a path or a pcmup.Checkpoint) on
        `net`, which receives the checkpoint's weights: everything needed to
        go on training as if never stopped."""
        from .checkpoint import opened
        h = c_void_p()
        with opened(checkpoint) as ck:
            check(C.pcmup_algo_create_from_checkpoint(ctypes.byref(h), net.handle, ck.handle,
                                                      allocator))
        algo = cls.__new__(cls)
        algo._adopt_into(net, h.value, allocator)
        return algo

    @property
    def net(self):
        return self._net

    @property
    def rule(self):
        r = c_int()
        check(C.pcmup_algo_rule(self.handle, ctypes.byref(r)))
        return Rule(r.value)

    # ---- settings --------------------------------------------------------

    def set(self, **settings):
        """Sets settings by name: algo.set(lr=0.1, loss="ce")."""
        for name, value in settings.items():
            self[name] = value

    def get(self, name):
        s = setting(name)
        v = c_double()
        check(C.pcmup_algo_get(self.handle, s.key, ctypes.byref(v)))
        return s.value_of(v.value)

    def __getitem__(self, name):
        return self.get(name)

    def __setitem__(self, name, value):
        s = setting(name)
        if s.per_layer and not isinstance(value, (str, int, float)) and np.ndim(value) == 1:
            values = list(value)
            hidden = self._net.n_layers - 1
            if len(values) != hidden:
                from ._errors import ShapeError
                raise ShapeError(f"setting {name}: {len(values)} values, expected {hidden} "
                                 f"(one per hidden layer)")
            for layer, v in enumerate(values, start=1):
                self.set_layer(name, layer, v)
            return
        check(C.pcmup_algo_set(self.handle, s.key, s.number(value)))

    def __getattr__(self, name):
        # Called only when normal lookup fails: settings by attribute.
        if name in SETTINGS:
            return self.get(name)
        raise AttributeError(f"'Algo' object has no attribute or setting {name!r}")

    def __setattr__(self, name, value):
        if name in SETTINGS:
            self[name] = value
        else:
            object.__setattr__(self, name, value)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(SETTINGS))

    def set_layer(self, name, layer, value):
        s = setting(name)
        check(C.pcmup_algo_set_layer(self.handle, layer, s.key, s.number(value)))

    def get_layer(self, name, layer):
        s = setting(name)
        v = c_double()
        check(C.pcmup_algo_get_layer(self.handle, layer, s.key, ctypes.byref(v)))
        return s.value_of(v.value)

    def layer_values(self, name):
        """A per-layer setting's values of the hidden layers 1..L-1."""
        return [self.get_layer(name, l) for l in range(1, self._net.n_layers)]

    def settings(self):
        """Every setting this rule accepts, with its current value."""
        rule = self.rule
        return {n: self.get(n) for n, s in SETTINGS.items() if s.accepts(rule)}

    # ---- training --------------------------------------------------------

    def _batch(self, x, labels):
        x = _arrays.floats(x, "x", (-1, self._net.input_dim))
        y = _arrays.labels(labels, "labels", x.shape[0])
        return x, y

    def step(self, x, labels):
        """One step on the batch x (B, M_0), labels (B,); returns the batch's
        mean loss before the step. float32 / int32 C-contiguous arrays are
        read in place."""
        x, y = self._batch(x, labels)
        loss = c_double()
        check(C.pcmup_algo_step(self.handle, _arrays.fptr(x), x.size, _arrays.iptr(y),
                                x.shape[0], ctypes.byref(loss)))
        return loss.value

    def reserve(self, batch):
        """Allocates and faults in now what steps and epochs of `batch` samples
        need, so that the first runs at the speed of later ones (optional; no
        result changes)."""
        check(C.pcmup_algo_reserve(self.handle, batch))

    def train_epoch(self, dataset, batch=64):
        """One shuffled pass over `dataset`; returns the mean batch loss."""
        loss = c_double()
        check(C.pcmup_algo_train_epoch(self.handle, dataset.handle, batch, ctypes.byref(loss)))
        return loss.value

    def train(self, dataset, batch=64, epochs=1, callback=None):
        """`epochs` epochs; after each, callback(epoch, mean_loss) (epoch from
        1) if given, and training stops early when it returns False.
        Returns the list of the epochs' mean losses."""
        losses = []
        for epoch in range(1, epochs + 1):
            losses.append(self.train_epoch(dataset, batch))
            if callback is not None and callback(epoch, losses[-1]) is False:
                break
        return losses

    def evaluate(self, dataset):
        """(mean loss, accuracy) over `dataset`."""
        loss, acc = c_double(), c_double()
        check(C.pcmup_algo_evaluate(self.handle, dataset.handle, ctypes.byref(loss),
                                    ctypes.byref(acc)))
        return loss.value, acc.value

    @property
    def counters(self):
        """(epochs, steps) completed (pcmup_algo_counters)."""
        e, s = c_uint64(), c_uint64()
        check(C.pcmup_algo_counters(self.handle, ctypes.byref(e), ctypes.byref(s)))
        return e.value, s.value

    # ---- checkpoints -----------------------------------------------------

    def save(self, path, metadata=None):
        """Saves the algorithm and its network, for resuming."""
        from .checkpoint import metadata_array
        arr, n = metadata_array(metadata)
        check(C.pcmup_algo_save(self.handle, str(path).encode(), arr, n))

    def load_checkpoint(self, checkpoint):
        """Loads an algorithm's checkpoint (a path or a Checkpoint) into this
        algorithm and its network."""
        from .checkpoint import opened
        with opened(checkpoint) as ck:
            check(C.pcmup_algo_load_checkpoint(self.handle, ck.handle))


def set_blas_threads(n):
    """The BLAS library's thread count, process-wide (OpenBLAS)."""
    check(C.pcmup_set_blas_threads(n))

