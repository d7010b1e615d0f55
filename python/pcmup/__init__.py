# SPDX-License-Identifier: MIT
"""pcmup: libpcmup from Python.

Predictive coding, target propagation, Gauss-Newton target and
backpropagation under the standard and the maximal update
parameterizations, through the C library (ctypes, no compiler needed).
docs/python.md is the guide; include/pcmup.h the manual of every call.

    import pcmup
    net = pcmup.Net.mlp([784, 256, 256, 10], param="mup_sgd", seed=42)
    bp = pcmup.Algo(net, "bp", seed=7, lr=0.05)
    train = pcmup.Dataset.fashion_mnist("train")
    bp.train_epoch(train, batch=64)
"""
from ._enums import (Activation, Factor, LayerKey, ParamKey, Pool, Preset, Reference, Rule,
                     Signal, Split)
from ._errors import (DivergedError, FileError, FormatError, InvalidError, NoMemoryError,
                      NullError, PcmupError, ShapeError, UnsupportedError)
from ._handle import live_handles
from ._lib import C as _C
from ._lib import PATH as library_path
from ._lib import LibraryError, decode as _decode
from .algo import Algo, set_blas_threads
from .allocator import Allocator
from .checkpoint import Checkpoint
from .coord import coord_check
from .dataset import Dataset
from .net import Builder, Net
from .param import Param
from .settings import Setting, setting, settings

__version__ = _decode(_C.pcmup_version_string())
version_number = _C.pcmup_version_number()


def status_name(status):
    """pcmup_status_name: "PCMUP_ERR_SHAPE" for 3."""
    return _decode(_C.pcmup_status_name(status))


__all__ = [
    "Activation", "Algo", "Allocator", "Builder", "Checkpoint", "Dataset", "DivergedError",
    "Factor", "FileError", "FormatError", "InvalidError", "LayerKey", "LibraryError", "Net",
    "NoMemoryError", "NullError", "Param", "ParamKey", "PcmupError", "Pool", "Preset",
    "Reference", "Rule", "Setting", "ShapeError", "Signal", "Split", "UnsupportedError",
    "coord_check", "library_path", "live_handles", "set_blas_threads", "setting",
    "settings", "status_name", "version_number",
]
