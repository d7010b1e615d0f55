# SPDX-License-Identifier: MIT
"""Ownership of the library's handles.

Every object that owns a handle frees it exactly once: when it is garbage
collected, when its close() is called, or when a `with` block around it
ends. weakref.finalize does the freeing (it holds the handle and the free
function, never the object), so the order of collection cannot free a
handle twice, and live_handles() counts what is still held, for tests and
leak checks.
"""
import weakref

_live = {}  # kind -> number of handles held


def live_handles(kind=None):
    """Handles this process holds now: of one kind ("net", "algo", ...) or
    all together."""
    if kind is not None:
        return _live.get(kind, 0)
    return sum(_live.values())


def _release(free_name, handle, kind):
    from ._lib import C
    getattr(C, free_name)(handle)
    _live[kind] -= 1


class Handle:
    """Base of the objects owning a handle. Subclasses call _own() once the
    library has created it; `_h` is the handle (a c_void_p value)."""

    __slots__ = ("_h", "_finalizer", "_allocator", "__weakref__")
    _kind = None       # "net", "algo", ...
    _free_name = None  # "pcmup_net_free", ...

    def _own(self, handle, allocator=None):
        self._h = handle
        self._allocator = allocator  # its callbacks must outlive the handle
        _live[self._kind] = _live.get(self._kind, 0) + 1
        self._finalizer = weakref.finalize(self, _release, self._free_name, handle,
                                           self._kind)

    @property
    def handle(self):
        """The raw handle (an int), for calls this package does not wrap."""
        h = getattr(self, "_h", None)
        if h is None or not self._finalizer.alive:
            raise ValueError(f"this {self._kind} is closed")
        return h

    @property
    def closed(self):
        return getattr(self, "_h", None) is None or not self._finalizer.alive

    def close(self):
        """Frees the handle now (later calls on this object raise ValueError)."""
        f = getattr(self, "_finalizer", None)
        if f is not None:
            f()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
