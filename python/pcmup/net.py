# SPDX-License-Identifier: MIT
"""Networks (pcmup.h, section 3): pcmup_net and pcmup_net_builder."""
import ctypes
import weakref

import numpy as np

from . import _arrays
from ._enums import (FACTOR_COUNT, LAYER_PER_WIDTH, NET_BIAS, Activation, Factor, Pool,
                     Preset, Signal, coerce)
from ._errors import check
from ._handle import Handle
from ._lib import C, c_size_t, c_void_p, decode
from .param import Param


def _param_for(param, n_layers):
    """A Param for n_layers layers: the given one, or one made from a preset."""
    if isinstance(param, Param):
        return param
    return Param(n_layers, Preset.MUP_SGD if param is None else param)


def _width(w):
    """A channel or output count: 16 (fixed) or "M", "2M" (multiples of M)."""
    if isinstance(w, str) and w.strip().upper().endswith("M"):
        k = w.strip()[:-1]
        return (int(k) if k else 1), LAYER_PER_WIDTH
    return int(w), 0


class Builder(Handle):
    """A network description built layer by layer (pcmup_net_builder):

        b = pcmup.Builder().conv(5, pad=2, channels="M", activation="tanh", pool="max2")
        b.dense(10)
        net = pcmup.Net.from_builder(b, (1, 28, 28), width=16, param=...)

    `channels` and `outputs` are numbers or multiples of the width ("M", "2M").
    Builder("simplecnn") parses a one-line description.
    """

    __slots__ = ()
    _kind, _free_name = "builder", "pcmup_net_builder_free"

    def __init__(self, description=None, allocator=None):
        h = c_void_p()
        check(C.pcmup_net_builder_create(ctypes.byref(h), allocator))
        self._own(h.value, allocator)
        if description is not None:
            self.parse(description)

    def parse(self, description):
        check(C.pcmup_net_builder_parse(self.handle, description.encode()))
        return self

    def conv(self, kernel, channels, stride=1, pad=0, activation=None, pool=None):
        n, flags = _width(channels)
        check(C.pcmup_net_builder_add_conv(self.handle, kernel, stride, pad, n, flags))
        if activation is not None:
            self.activation(activation)
        if pool is not None:
            check(C.pcmup_net_builder_add_pool(self.handle, coerce(Pool, pool)))
        return self

    def dense(self, outputs, activation=None):
        n, flags = _width(outputs)
        check(C.pcmup_net_builder_add_dense(self.handle, n, flags))
        if activation is not None:
            self.activation(activation)
        return self

    def activation(self, activation):
        check(C.pcmup_net_builder_set_activation(self.handle, coerce(Activation, activation)))
        return self

    def pool(self, pool):
        check(C.pcmup_net_builder_add_pool(self.handle, coerce(Pool, pool)))
        return self

    @property
    def n_layers(self):
        n = c_size_t()
        check(C.pcmup_net_builder_n_layers(self.handle, ctypes.byref(n)))
        return n.value

    def check(self, input_shape, width):
        """Raises the error creating this network would give, else returns."""
        check(C.pcmup_net_builder_check(self.handle, *input_shape, width))


class Net(Handle):
    """A network: an MLP (Net.mlp) or a described one (Net.from_text,
    Net.from_builder), or one read from a checkpoint (Net.load). Layers are
    numbered 1..L. Weights come out as NumPy copies in their shapes
    ((out, in), or (C_out, C_in, k, k) for a convolution) and go in from any
    array of that shape. An algorithm keeps its network alive; closing a
    network closes its algorithms first."""

    __slots__ = ("_algos",)
    _kind, _free_name = "net", "pcmup_net_free"

    def __init__(self, *a, **kw):
        raise TypeError("use pcmup.Net.mlp, Net.from_text, Net.from_builder or Net.load")

    @classmethod
    def _adopt(cls, handle, allocator=None):
        net = cls.__new__(cls)
        net._algos = weakref.WeakSet()
        net._own(handle, allocator)
        return net

    @classmethod
    def mlp(cls, widths, activation="tanh", bias=False, param=None, seed=0, allocator=None):
        """Dense layers of widths M_0..M_L (pcmup_net_create). `param` is a
        Param of len(widths) - 1 layers, or a preset name (default
        "mup_sgd")."""
        widths = [int(w) for w in widths]
        p = _param_for(param, len(widths) - 1)
        h = c_void_p()
        w = (c_size_t * len(widths))(*widths)
        check(C.pcmup_net_create(ctypes.byref(h), w, len(widths),
                                 coerce(Activation, activation), NET_BIAS if bias else 0,
                                 p.handle, seed, allocator))
        return cls._adopt(h.value, allocator)

    @classmethod
    def from_text(cls, description, input_shape, width, activation="tanh", bias=False,
                  param=None, seed=0, allocator=None):
        """A network from its one-line description ("simplecnn",
        "conv5p2:M tanh maxpool2 dense:10"), for inputs of input_shape (C, H, W),
        at width M = `width`."""
        if not isinstance(param, Param):
            with Builder(description) as b:
                param = _param_for(param, b.n_layers)
        h = c_void_p()
        check(C.pcmup_net_create_from_text(ctypes.byref(h), description.encode(),
                                           *input_shape, width,
                                           coerce(Activation, activation),
                                           NET_BIAS if bias else 0, param.handle, seed,
                                           allocator))
        return cls._adopt(h.value, allocator)

    @classmethod
    def from_builder(cls, builder, input_shape, width, activation="tanh", bias=False,
                     param=None, seed=0, allocator=None):
        param = _param_for(param, builder.n_layers)
        h = c_void_p()
        check(C.pcmup_net_create_from_builder(ctypes.byref(h), builder.handle, *input_shape,
                                              width, coerce(Activation, activation),
                                              NET_BIAS if bias else 0, param.handle, seed,
                                              allocator))
        return cls._adopt(h.value, allocator)

    @classmethod
    def load(cls, checkpoint, allocator=None):
        """The network of a checkpoint (a path or a pcmup.Checkpoint)."""
        from .checkpoint import opened
        h = c_void_p()
        with opened(checkpoint) as ck:
            check(C.pcmup_net_create_from_checkpoint(ctypes.byref(h), ck.handle, allocator))
        return cls._adopt(h.value, allocator)

    def close(self):
        for algo in list(self._algos):
            algo.close()
        super().close()

    # ---- shape -----------------------------------------------------------

    @property
    def n_layers(self):
        n = c_size_t()
        check(C.pcmup_net_n_layers(self.handle, ctypes.byref(n)))
        return n.value

    def layer_shape(self, layer):
        """(out, in) of layer l's linear map per sample."""
        o, i = c_size_t(), c_size_t()
        check(C.pcmup_net_layer_shape(self.handle, layer, ctypes.byref(o), ctypes.byref(i)))
        return o.value, i.value

    def weight_shape(self, layer):
        dims, rank = (c_size_t * 4)(), c_size_t()
        check(C.pcmup_net_weight_shape(self.handle, layer, dims, 4, ctypes.byref(rank)))
        return tuple(dims[:rank.value])

    @property
    def input_shape(self):
        c, h, w = c_size_t(), c_size_t(), c_size_t()
        check(C.pcmup_net_input_shape(self.handle, ctypes.byref(c), ctypes.byref(h),
                                      ctypes.byref(w)))
        return c.value, h.value, w.value

    @property
    def input_dim(self):
        return self.layer_shape(1)[1]

    @property
    def output_dim(self):
        return self.layer_shape(self.n_layers)[0]

    @property
    def param_count(self):
        n = c_size_t()
        check(C.pcmup_net_param_count(self.handle, ctypes.byref(n)))
        return n.value

    def describe(self):
        n = c_size_t()
        check(C.pcmup_net_describe(self.handle, None, 0, ctypes.byref(n)))
        buf = ctypes.create_string_buffer(n.value + 1)
        check(C.pcmup_net_describe(self.handle, buf, n.value + 1, ctypes.byref(n)))
        return decode(buf.value)

    @property
    def param(self):
        """A copy of the network's parameterization (a new Param)."""
        h = c_void_p()
        check(C.pcmup_net_param(self.handle, ctypes.byref(h)))
        out = c_void_p()
        check(C.pcmup_param_clone(ctypes.byref(out), h))
        return Param._adopt(out.value)

    def layer_factors(self, layer):
        dst = (ctypes.c_double * FACTOR_COUNT)()
        check(C.pcmup_net_layer_factors(self.handle, layer, dst, FACTOR_COUNT))
        return {f.name.lower(): dst[f] for f in Factor}

    # ---- weights ---------------------------------------------------------

    def init_weights(self, seed):
        check(C.pcmup_net_init_weights(self.handle, seed))

    def get_weights(self, layer, out=None):
        """Layer l's effective weights W_l = r^-a w_l, a copy in the weight
        shape (or written into `out`, a float32 array of that shape)."""
        shape = self.weight_shape(layer)
        out = _arrays.out_floats(out, shape, "get_weights")
        check(C.pcmup_net_get_weights(self.handle, layer, _arrays.fptr(out), out.size))
        return out

    def set_weights(self, layer, w):
        w = _arrays.floats(w, f"weights of layer {layer}", self.weight_shape(layer))
        check(C.pcmup_net_set_weights(self.handle, layer, _arrays.fptr(w), w.size))

    def get_bias(self, layer, out=None):
        out = _arrays.out_floats(out, (self.weight_shape(layer)[0],), "get_bias")
        check(C.pcmup_net_get_bias(self.handle, layer, _arrays.fptr(out), out.size))
        return out

    def set_bias(self, layer, b):
        b = _arrays.floats(b, f"bias of layer {layer}", (self.weight_shape(layer)[0],))
        check(C.pcmup_net_set_bias(self.handle, layer, _arrays.fptr(b), b.size))

    @property
    def weights(self):
        """Every layer's weights, [W_1, ..., W_L] (copies)."""
        return [self.get_weights(l) for l in range(1, self.n_layers + 1)]

    # ---- forward ---------------------------------------------------------

    def forward(self, x, out=None):
        """The outputs f for a batch x (B, M_0) -> (B, M_L). A float32
        C-contiguous x is read in place; `out` may be given to be written."""
        x = _arrays.floats(x, "x", (-1, self.input_dim))
        out = _arrays.out_floats(out, (x.shape[0], self.output_dim), "forward")
        check(C.pcmup_net_forward(self.handle, _arrays.fptr(x), x.size, x.shape[0],
                                  _arrays.fptr(out), out.size))
        return out

    def forward_layer(self, x, layer, signal="post"):
        """u_l (signal "pre") or h_l ("post") of layer l for the batch x."""
        x = _arrays.floats(x, "x", (-1, self.input_dim))
        signal = coerce(Signal, signal)
        # h_l of a pooling convolution is smaller than u_l: it is what the
        # next layer reads.
        if signal == Signal.POST and layer < self.n_layers:
            units = self.layer_shape(layer + 1)[1]
        else:
            units = self.layer_shape(layer)[0]
        out = np.empty((x.shape[0], units), dtype=np.float32)
        check(C.pcmup_net_forward_layer(self.handle, _arrays.fptr(x), x.size, x.shape[0],
                                        layer, signal, _arrays.fptr(out), out.size))
        return out

    # ---- checkpoints -----------------------------------------------------

    def save(self, path, metadata=None):
        """Saves the network to a safetensors checkpoint; metadata: a dict
        of "user.*" keys to strings."""
        from .checkpoint import metadata_array
        arr, n = metadata_array(metadata)
        check(C.pcmup_net_save(self.handle, str(path).encode(), arr, n))

    def load_checkpoint(self, checkpoint):
        """Loads a checkpoint's weights into this network (same layers)."""
        from .checkpoint import opened
        with opened(checkpoint) as ck:
            check(C.pcmup_net_load_checkpoint(self.handle, ck.handle))
