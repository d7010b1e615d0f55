# SPDX-License-Identifier: MIT
"""Parameterizations (pcmup.h, section 2): pcmup_param."""
import ctypes

from ._enums import FACTOR_COUNT, Factor, LayerKey, ParamKey, Preset, coerce
from ._errors import check
from ._handle import Handle
from ._lib import C, c_double, c_size_t, c_void_p

_WHOLE = {"base_width": ParamKey.BASE_WIDTH, "gamma_bar": ParamKey.GAMMA_BAR,
          "fb_damping_exp": ParamKey.FB_DAMPING_EXP, "fb_lr_exp": ParamKey.FB_LR_EXP}


class Param(Handle):
    """An abc-parameterization of n_layers weight layers.

        p = pcmup.Param(3, "mup_sgd")                 # base width 64
        p = pcmup.Param(3, "mup_pc", gamma_bar=-1, base_width=128)
        p.set_layer(2, "c", 0.5); p.get_layer(2, "theta")
        p.base_width, p.gamma_bar, p.fb_damping_exp, p.fb_lr_exp

    Layers are numbered 1..L as in the header.
    """

    __slots__ = ()
    _kind, _free_name = "param", "pcmup_param_free"

    def __init__(self, n_layers, preset="sp", gamma_bar=0.0, e_B=1.0, base_width=None,
                 allocator=None):
        h = c_void_p()
        preset = coerce(Preset, preset)
        check(C.pcmup_param_create(ctypes.byref(h), n_layers, preset, allocator))
        self._own(h.value, allocator)
        if gamma_bar != 0.0 or e_B != 1.0:
            self.apply_preset(preset, gamma_bar, e_B)
        if base_width is not None:
            self.base_width = base_width

    @classmethod
    def _adopt(cls, handle, allocator=None):
        p = cls.__new__(cls)
        p._own(handle, allocator)
        return p

    def clone(self):
        h = c_void_p()
        check(C.pcmup_param_clone(ctypes.byref(h), self.handle))
        return Param._adopt(h.value, self._allocator)

    def apply_preset(self, preset, gamma_bar=0.0, e_B=1.0):
        check(C.pcmup_param_apply_preset(self.handle, coerce(Preset, preset), gamma_bar, e_B))

    @property
    def n_layers(self):
        n = c_size_t()
        check(C.pcmup_param_n_layers(self.handle, ctypes.byref(n)))
        return n.value

    def set_layer(self, layer, key, value):
        check(C.pcmup_param_set_layer(self.handle, layer, coerce(LayerKey, key), value))

    def get_layer(self, layer, key):
        v = c_double()
        check(C.pcmup_param_get_layer(self.handle, layer, coerce(LayerKey, key),
                                      ctypes.byref(v)))
        return v.value

    def layer(self, layer):
        """Every per-layer value of `layer`: {"a": .., "b": .., "c": .., "sigma": ..,
        "theta": ..}."""
        return {k.name.lower(): self.get_layer(layer, k) for k in LayerKey}

    def get(self, key):
        v = c_double()
        check(C.pcmup_param_get(self.handle, coerce(ParamKey, key), ctypes.byref(v)))
        return v.value

    def set(self, key, value):
        check(C.pcmup_param_set(self.handle, coerce(ParamKey, key), value))

    @staticmethod
    def bounds(key):
        """(lo, hi) of a whole-parameterization key."""
        lo, hi = c_double(), c_double()
        check(C.pcmup_param_bounds(coerce(ParamKey, key), ctypes.byref(lo), ctypes.byref(hi)))
        return lo.value, hi.value

    @staticmethod
    def layer_bounds(key):
        """(lo, hi) of a per-layer key."""
        lo, hi = c_double(), c_double()
        check(C.pcmup_param_layer_bounds(coerce(LayerKey, key), ctypes.byref(lo),
                                         ctypes.byref(hi)))
        return lo.value, hi.value

    def layer_factors(self, widths, layer):
        """Every width-dependent factor of `layer` for widths M_0..M_L, as
        {"multiplier": .., "init_std": .., "lr": .., ...} (pcmup_factor)."""
        w = (c_size_t * len(widths))(*widths)
        dst = (c_double * FACTOR_COUNT)()
        check(C.pcmup_param_layer_factors(self.handle, w, len(widths), layer, dst,
                                          FACTOR_COUNT))
        return {f.name.lower(): dst[f] for f in Factor}


def _whole_property(key):
    def fget(self):
        return self.get(key)

    def fset(self, value):
        self.set(key, value)
    return property(fget, fset, doc=f"PCMUP_PARAM_{key.name}")


for _name, _key in _WHOLE.items():
    setattr(Param, _name, _whole_property(_key))
