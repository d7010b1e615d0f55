# SPDX-License-Identifier: MIT
"""An algorithm's diagnostics (pcmup.h, sections 5 to 9): last updates,
alignment, PC's energy and errors and the deep-linear closed form, GNT's
damping, TP's targets and feedback, and trial updates compared with BP's
and Gauss-Newton's. Algo inherits them; results are NumPy arrays, index
l - 1 for layer l."""
import ctypes

import numpy as np

from . import _arrays
from ._enums import Reference, coerce
from ._errors import check
from ._lib import C, c_double, c_size_t


def _doubles(fn, handle, n, *extra):
    dst = (c_double * n)()
    check(fn(handle, *extra, dst, n))
    return np.array(dst, dtype=np.float64)


class Diagnostics:
    __slots__ = ()

    def _layers(self):
        return self._net.n_layers

    def _update_arrays(self):
        net = self._net
        return [np.empty(net.weight_shape(l), dtype=np.float32)
                for l in range(1, self._layers() + 1)]

    # ---- every rule ------------------------------------------------------

    def last_update(self, layer):
        """The change of W_l the last step made (needs record_updates = 1)."""
        out = np.empty(self._net.weight_shape(layer), dtype=np.float32)
        check(C.pcmup_algo_last_update(self.handle, layer, _arrays.fptr(out), out.size))
        return out

    def alignment_ratio(self):
        r = c_double()
        check(C.pcmup_algo_alignment_ratio(self.handle, ctypes.byref(r)))
        return r.value

    def trial_update(self, x, labels):
        """The updates [dW_1, ..., dW_L] a step on this batch would make,
        without making it."""
        x, y = self._batch(x, labels)
        ups = self._update_arrays()
        check(C.pcmup_algo_trial_update(self.handle, _arrays.fptr(x), x.size, _arrays.iptr(y),
                                        x.shape[0], _arrays.pointer_array(ups), len(ups)))
        return ups

    def reference_update(self, reference, x, labels):
        """BP's ("bp") or Gauss-Newton's ("gn") update on this batch."""
        x, y = self._batch(x, labels)
        ups = self._update_arrays()
        check(C.pcmup_algo_reference_update(self.handle, coerce(Reference, reference),
                                            _arrays.fptr(x), x.size, _arrays.iptr(y),
                                            x.shape[0], _arrays.pointer_array(ups), len(ups)))
        return ups

    def _alignment(self, fn, *args):
        L = self._layers()
        outs = [(c_double * L)() for _ in range(4)]
        check(fn(self.handle, *args, *outs, L))
        return dict(zip(("cos_bp", "cos_gn", "ratio_bp", "ratio_gn"),
                        (np.array(o, dtype=np.float64) for o in outs)))

    def update_alignment(self, x, labels):
        """{"cos_bp", "cos_gn", "ratio_bp", "ratio_gn"}: per layer, the trial
        update against BP's and GN's."""
        x, y = self._batch(x, labels)
        return self._alignment(C.pcmup_algo_update_alignment, _arrays.fptr(x), x.size,
                               _arrays.iptr(y), x.shape[0])

    def compare_updates(self, updates, x, labels):
        """update_alignment for updates of the caller's, [dW_1, ..., dW_L]."""
        x, y = self._batch(x, labels)
        L = self._layers()
        if len(updates) != L:
            from ._errors import ShapeError
            raise ShapeError(f"{len(updates)} updates, expected {L} (one per layer)")
        ups = [_arrays.floats(u, f"update of layer {l}", self._net.weight_shape(l))
               for l, u in enumerate(updates, start=1)]
        return self._alignment(C.pcmup_algo_compare_updates, _arrays.fptr(x), x.size,
                               _arrays.iptr(y), x.shape[0], _arrays.pointer_array(ups), L)

    # ---- predictive coding -----------------------------------------------

    def gamma_out(self):
        """PC's output precision gamma_L at this width."""
        v = c_double()
        check(C.pcmup_pc_gamma_out(self.handle, ctypes.byref(v)))
        return v.value

    def energy_trace(self):
        """PC: the energy at the initial states and after each inference
        iteration of the last step."""
        n = c_size_t()
        check(C.pcmup_pc_energy_trace(self.handle, None, 0, ctypes.byref(n)))
        dst = (c_double * n.value)()
        check(C.pcmup_pc_energy_trace(self.handle, dst, n.value, ctypes.byref(n)))
        return np.array(dst, dtype=np.float64)

    def epoch_energy(self):
        v = c_double()
        check(C.pcmup_pc_epoch_energy(self.handle, ctypes.byref(v)))
        return v.value

    def error_norms(self):
        return _doubles(C.pcmup_pc_error_norms, self.handle, self._layers())

    def linear_equilibrium(self, x, labels):
        """PC's exact equilibrium on a deep linear network (Theorem 4.2):
        {"eps": [L arrays (B, M_l)], "states": [L - 1 arrays], "updates":
        [L arrays], "c_gamma": (M_L, M_L), "c_gamma_norm", "energy"}."""
        x, y = self._batch(x, labels)
        net, L, B = self._net, self._layers(), x.shape[0]
        widths = [net.layer_shape(l)[0] for l in range(1, L + 1)]
        eps = [np.empty((B, m), dtype=np.float32) for m in widths]
        states = [np.empty((B, m), dtype=np.float32) for m in widths[:-1]]
        ups = self._update_arrays()
        cg = np.empty((widths[-1], widths[-1]), dtype=np.float32)
        norm, energy = c_double(), c_double()
        check(C.pcmup_pc_linear_equilibrium(
            self.handle, _arrays.fptr(x), x.size, _arrays.iptr(y), B,
            _arrays.pointer_array(eps), L, _arrays.pointer_array(states), L - 1,
            _arrays.pointer_array(ups), L, _arrays.fptr(cg), cg.size, ctypes.byref(norm),
            ctypes.byref(energy)))
        return {"eps": eps, "states": states, "updates": ups, "c_gamma": cg,
                "c_gamma_norm": norm.value, "energy": energy.value}

    # ---- Gauss-Newton target ----------------------------------------------

    def damping(self):
        """GNT: rho_l per layer at the current settings."""
        return _doubles(C.pcmup_gnt_damping, self.handle, self._layers())

    def system_size(self, batch):
        """GNT: the order of each layer's dense system for a batch."""
        L = self._layers()
        dst = (c_size_t * L)()
        check(C.pcmup_gnt_system_size(self.handle, batch, dst, L))
        return list(dst)

    # ---- target propagation ----------------------------------------------

    def target_distances(self):
        return _doubles(C.pcmup_tp_target_distances, self.handle, self._layers())

    def feedback_loss(self):
        """TP: (before, after) reconstruction losses of feedback layers 2..L."""
        n = self._layers() - 1
        before, after = (c_double * n)(), (c_double * n)()
        check(C.pcmup_tp_feedback_loss(self.handle, before, after, n))
        return np.array(before), np.array(after)

    def _feedback_shape(self, layer):
        out, _ = self._net.layer_shape(layer)
        return (self._net.layer_shape(layer)[1], out)

    def get_feedback(self, layer):
        """TP: V_l, (M_{l-1}, M_l), l in 2..L."""
        out = np.empty(self._feedback_shape(layer), dtype=np.float32)
        check(C.pcmup_tp_get_feedback(self.handle, layer, _arrays.fptr(out), out.size))
        return out

    def set_feedback(self, layer, v):
        v = _arrays.floats(v, f"feedback of layer {layer}", self._feedback_shape(layer))
        check(C.pcmup_tp_set_feedback(self.handle, layer, _arrays.fptr(v), v.size))
