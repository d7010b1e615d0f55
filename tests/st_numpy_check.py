#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Reads a safetensors file written by libpcmup (st_write_sample.c) with
NumPy and the standard library only, as the format's description says to
read one, and checks every tensor, shape, value and metadata entry.

    st_numpy_check.py WRITER        # WRITER: the st_write_sample program

Exit 77 (ctest's skip) when NumPy is missing."""
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib

try:
    import numpy as np
except ImportError:
    print("skipped: numpy is not installed for", sys.executable)
    sys.exit(77)

# The writer's tensors, in its order: name, shape; values as sample_value.
EXPECTED = [
    ("scalar", []),
    ("layer1.weight", [3, 4]),
    ("empty", [0, 3]),
    ("conv.\u00e9", [2, 3, 4, 5]),
    ("bias", [7]),
]


def sample_value(k, i):
    return (k + 1) * 0.5 + i * 0.25 - 3.0


def pairs_no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), f"duplicate keys {keys}"
    return dict(pairs)


def check(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert (8 + n) % 8 == 0, f"header length {n} leaves the data unaligned"
    text = raw[8 : 8 + n].decode("utf-8")
    assert text.startswith("{") and text.rstrip(" ").endswith("}"), text
    header = json.loads(text, object_pairs_hook=pairs_no_duplicates)
    data = raw[8 + n :]

    meta = header.pop("__metadata__")
    assert list(meta) == ["format", "note", "crc32"], meta
    assert meta["format"] == "pt" and meta["note"] == '"quoted" \u20ac\n', meta
    assert int(meta["crc32"], 16) == zlib.crc32(data), "crc32 differs"
    assert [name for name in header] == [name for name, _ in EXPECTED], list(header)

    offset = 0
    for k, (name, shape) in enumerate(EXPECTED):
        info = header[name]
        assert info["dtype"] == "F32" and info["shape"] == shape, info
        begin, end = info["data_offsets"]
        assert begin == offset, f"{name}: begins at {begin}, expected {offset}"
        array = np.frombuffer(data[begin:end], dtype="<f4").reshape(shape)
        count = int(np.prod(shape, dtype=np.int64))
        want = np.array([sample_value(k, i) for i in range(count)], dtype="<f4").reshape(shape)
        assert np.array_equal(array, want), f"{name}: {array} != {want}"
        offset = end
    assert offset == len(data), f"tensors end at {offset} of {len(data)} data bytes"
    print(f"{path}: {len(EXPECTED)} tensors, {len(data)} data bytes, metadata read by NumPy")


def main():
    writer = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="pcmup-st-numpy-") as d:
        path = os.path.join(d, "sample.safetensors")
        subprocess.run([writer, path], check=True)
        check(path)


if __name__ == "__main__":
    main()
