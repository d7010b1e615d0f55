# SPDX-License-Identifier: MIT
"""Datasets (pcmup.h, section 4): pcmup_dataset."""
import ctypes
import os

import numpy as np

from . import _arrays
from ._enums import Split, coerce
from ._errors import check
from ._handle import Handle
from ._lib import C, c_size_t, c_void_p


def _path(p):
    return None if p is None else os.fsencode(p)


# PCMUP_DATASET_MAX_BYTES_DEFAULT: a head loader's limit when none is given.
_MAX_BYTES_DEFAULT = 1 << 30


def _head_bytes(max_bytes):
    return _MAX_BYTES_DEFAULT if max_bytes is None else max_bytes


class Dataset(Handle):
    """n samples of dimension `dim` (float32) with int32 labels in
    [0, n_classes), held by the library:

        train = pcmup.Dataset.fashion_mnist("train")
        ds = pcmup.Dataset.from_arrays(x, labels)        # copies x and labels
        x, y = ds.get_batch(0, 64)
    """

    __slots__ = ()
    _kind, _free_name = "dataset", "pcmup_dataset_free"

    def __init__(self, *a, **kw):
        raise TypeError("use a pcmup.Dataset constructor: fashion_mnist, cifar10, idx, "
                        "from_arrays")

    @classmethod
    def _create(cls, fn, *args, allocator=None):
        h = c_void_p()
        check(fn(ctypes.byref(h), *args, allocator))
        ds = cls.__new__(cls)
        ds._own(h.value, allocator)
        return ds

    @classmethod
    def fashion_mnist(cls, split="train", directory=None, max_bytes=None, allocator=None,
                      max_samples=None):
        """FashionMNIST's split from `directory` (default: Debian's
        /usr/share/datasets/fashion-mnist). With max_samples, only the
        split's first max_samples samples are read (the library's _head
        loaders; the same for cifar10 and idx)."""
        split = coerce(Split, split)
        if max_samples is not None:
            return cls._create(C.pcmup_dataset_load_fashion_mnist_head, _path(directory),
                               split, max_samples, _head_bytes(max_bytes),
                               allocator=allocator)
        if max_bytes is None:
            return cls._create(C.pcmup_dataset_load_fashion_mnist, _path(directory), split,
                               allocator=allocator)
        return cls._create(C.pcmup_dataset_load_fashion_mnist_limited, _path(directory),
                           split, max_bytes, allocator=allocator)

    @classmethod
    def cifar10(cls, directory, split="train", max_bytes=None, allocator=None,
                max_samples=None):
        split = coerce(Split, split)
        if max_samples is not None:
            return cls._create(C.pcmup_dataset_load_cifar10_head, _path(directory), split,
                               max_samples, _head_bytes(max_bytes), allocator=allocator)
        if max_bytes is None:
            return cls._create(C.pcmup_dataset_load_cifar10, _path(directory), split,
                               allocator=allocator)
        return cls._create(C.pcmup_dataset_load_cifar10_limited, _path(directory), split,
                           max_bytes, allocator=allocator)

    @classmethod
    def idx(cls, images, labels, max_bytes=None, allocator=None, max_samples=None):
        """An IDX image file and label file (either may be .gz)."""
        if max_samples is not None:
            return cls._create(C.pcmup_dataset_load_idx_head, _path(images), _path(labels),
                               max_samples, _head_bytes(max_bytes), allocator=allocator)
        if max_bytes is None:
            return cls._create(C.pcmup_dataset_load_idx, _path(images), _path(labels),
                               allocator=allocator)
        return cls._create(C.pcmup_dataset_load_idx_limited, _path(images), _path(labels),
                           max_bytes, allocator=allocator)

    @classmethod
    def from_arrays(cls, x, labels, n_classes=None, allocator=None):
        """A dataset copied from x (n, dim) and n integer labels; n_classes
        defaults to the largest label + 1."""
        x = np.asarray(x)
        if x.ndim != 2:
            from ._errors import ShapeError
            raise ShapeError(f"x has shape {x.shape}, expected (n, dim)")
        x = _arrays.floats(x, "x", (-1, x.shape[1]))
        y = _arrays.labels(labels, "labels", x.shape[0])
        if n_classes is None:
            n_classes = int(y.max()) + 1 if y.size else 1
        return cls._create(C.pcmup_dataset_from_arrays, x.shape[0], x.shape[1], n_classes,
                           _arrays.fptr(x), x.size, _arrays.iptr(y),
                           allocator=allocator)

    def info(self):
        """(n, dim, n_classes)."""
        n, d, k = c_size_t(), c_size_t(), c_size_t()
        check(C.pcmup_dataset_info(self.handle, ctypes.byref(n), ctypes.byref(d),
                                   ctypes.byref(k)))
        return n.value, d.value, k.value

    def __len__(self):
        return self.info()[0]

    n = property(lambda self: self.info()[0])
    dim = property(lambda self: self.info()[1])
    n_classes = property(lambda self: self.info()[2])

    def truncate(self, n):
        """Keeps the first n samples."""
        check(C.pcmup_dataset_truncate(self.handle, n))
        return self

    def standardize(self, reference=None):
        """x <- (x - mean) / std with the statistics of `reference` (a
        Dataset; default this one)."""
        check(C.pcmup_dataset_standardize(self.handle,
                                          None if reference is None else reference.handle))
        return self

    def get_batch(self, start=0, n=None):
        """Copies of samples [start, start + n): (x (n, dim) float32,
        labels (n,) int32)."""
        total, dim, _ = self.info()
        n = total - start if n is None else n
        x = np.empty((n, dim), dtype=np.float32)
        y = np.empty(n, dtype=np.int32)
        check(C.pcmup_dataset_get_batch(self.handle, start, n, _arrays.fptr(x), x.size,
                                        _arrays.iptr(y)))
        return x, y

    def one_hot(self, start=0, n=None, centred=False):
        total, _, k = self.info()
        n = total - start if n is None else n
        out = np.empty((n, k), dtype=np.float32)
        check(C.pcmup_dataset_one_hot(self.handle, start, n, int(bool(centred)),
                                      _arrays.fptr(out), out.size))
        return out
