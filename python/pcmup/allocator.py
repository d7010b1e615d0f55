# SPDX-License-Identifier: MIT
"""pcmup_allocator from Python: every byte a handle owns, counted.

An Allocator passed to a constructor (allocator=...) receives every
allocation the handle makes (pcmup.h, section 1). This one forwards to the
C library's malloc, realloc and free, and counts the blocks and bytes
alive: after the objects using it are gone, `live_blocks` is 0 when
everything was freed. Each call goes through Python, so it is for
measuring and testing, not for speed. The allocator must outlive the
handles using it; the objects keep a reference to it, so it does.
"""
import ctypes
import threading

from ._lib import c_void_p

_libc = ctypes.CDLL(None)
_libc.malloc.restype, _libc.malloc.argtypes = c_void_p, [ctypes.c_size_t]
_libc.realloc.restype, _libc.realloc.argtypes = c_void_p, [c_void_p, ctypes.c_size_t]
_libc.free.restype, _libc.free.argtypes = None, [c_void_p]

MALLOC = ctypes.CFUNCTYPE(c_void_p, c_void_p, ctypes.c_size_t)
REALLOC = ctypes.CFUNCTYPE(c_void_p, c_void_p, c_void_p, ctypes.c_size_t)
FREE = ctypes.CFUNCTYPE(None, c_void_p, c_void_p)


class _CAllocator(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("malloc_fn", MALLOC), ("realloc_fn", REALLOC),
                ("free_fn", FREE), ("user", c_void_p)]


class Allocator:
    """A counting allocator over malloc: live_blocks, live_bytes, calls."""

    def __init__(self):
        self._lock = threading.Lock()
        self._sizes = {}
        self.calls = 0
        self.fail_after = None  # a number: allocations after that many fail
        self._fns = (MALLOC(self._malloc), REALLOC(self._realloc), FREE(self._free))
        self._struct = _CAllocator(ctypes.sizeof(_CAllocator), *self._fns, None)

    @property
    def live_blocks(self):
        return len(self._sizes)

    @property
    def live_bytes(self):
        return sum(self._sizes.values())

    def _failing(self):
        self.calls += 1
        return self.fail_after is not None and self.calls > self.fail_after

    def _malloc(self, user, size):
        with self._lock:
            if self._failing():
                return None
            p = _libc.malloc(size)
            if p:
                self._sizes[p] = size
            return p

    def _realloc(self, user, ptr, size):
        with self._lock:
            if self._failing():
                return None
            p = _libc.realloc(ptr, size)
            if p:
                self._sizes.pop(ptr, None)
                self._sizes[p] = size
            return p

    def _free(self, user, ptr):
        with self._lock:
            self._sizes.pop(ptr, None)
            _libc.free(ptr)

    @property
    def _as_parameter_(self):
        """What ctypes passes for it: a pointer to the C struct."""
        return ctypes.addressof(self._struct)
