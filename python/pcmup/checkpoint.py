# SPDX-License-Identifier: MIT
"""Checkpoints (pcmup.h, section 10): safetensors files read back through
pcmup_checkpoint. Saving is Net.save / Algo.save; loading Net.load,
Algo.load, or the load_checkpoint methods."""
import contextlib
import ctypes
import os

from ._enums import Rule
from ._errors import check
from ._handle import Handle
from ._lib import C, c_char_p, c_size_t, c_void_p, decode


def metadata_array(metadata):
    """The (char *[], count) of a dict of the caller's metadata."""
    if not metadata:
        return None, 0
    flat = []
    for k, v in metadata.items():
        flat += [str(k).encode(), str(v).encode()]
    return (c_char_p * len(flat))(*flat), len(flat) // 2


@contextlib.contextmanager
def opened(checkpoint):
    """`checkpoint` as a Checkpoint: a path is opened for the block (and
    closed after it), a Checkpoint is used as it is."""
    if isinstance(checkpoint, Checkpoint):
        yield checkpoint
    else:
        with Checkpoint(checkpoint) as ck:
            yield ck


class Checkpoint(Handle):
    """An opened, checked checkpoint file.

        with pcmup.Checkpoint("run.safetensors") as ck:
            ck.metadata["rule"]; ck.rule
            net = pcmup.Net.load(ck); algo = pcmup.Algo.load(net, ck)
    """

    __slots__ = ()
    _kind, _free_name = "checkpoint", "pcmup_checkpoint_free"

    def __init__(self, path, allocator=None):
        h = c_void_p()
        check(C.pcmup_checkpoint_open(ctypes.byref(h), os.fsencode(path), allocator))
        self._own(h.value, allocator)

    @property
    def metadata(self):
        """Every metadata entry, in the file's order."""
        n = c_size_t()
        check(C.pcmup_checkpoint_metadata_count(self.handle, ctypes.byref(n)))
        out = {}
        k, v = c_char_p(), c_char_p()
        for i in range(n.value):
            check(C.pcmup_checkpoint_metadata_at(self.handle, i, ctypes.byref(k),
                                                 ctypes.byref(v)))
            out[decode(k.value)] = decode(v.value)
        return out

    def get(self, key, default=None):
        v = c_char_p()
        check(C.pcmup_checkpoint_metadata(self.handle, key.encode(), ctypes.byref(v)))
        return default if v.value is None else decode(v.value)

    @property
    def rule(self):
        """The rule of an algorithm's checkpoint (UnsupportedError for a
        network's)."""
        r = ctypes.c_int()
        check(C.pcmup_checkpoint_rule(self.handle, ctypes.byref(r)))
        return Rule(r.value)
