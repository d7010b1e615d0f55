#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""checkpoint_numpy.py -- a checkpoint read with NumPy alone, against the C API.

    checkpoint_numpy.py PATH/TO/checkpoint_weights

The library's checkpoints are safetensors files (docs/checkpoints.md), which
a few lines of NumPy read without the safetensors package: this script is
those lines (read_safetensors), and the check that they give what the
library gives. checkpoint_weights saves an MLP and a CNN, then dumps each
network as pcmup_net_create_from_checkpoint builds it: its weight shapes
(pcmup_net_weight_shape), effective weights (pcmup_net_get_weights, W_l =
r^-a w_l), biases and multipliers r^-a. Checked, bit for bit:
  - the tensors tile the data section exactly, and "crc32" is its zlib CRC-32;
  - layer<l>.weight has the weight shape (C_out, C_in, k, k for a conv);
  - W_l == float32(multiplier) * layer<l>.weight in float32 arithmetic (the
    file holds the stored w_l) and layer<l>.bias == the API's bias;
  - for the MLP, the multiplier is r^-a from the metadata alone.
Exit 0 on success, 1 on a failed check, 77 (ctest: skipped) without NumPy.
"""
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
    print("skipped: NumPy is not installed (python3-numpy)")
    sys.exit(77)


def read_safetensors(path):
    """(tensors by name as float32 arrays, metadata dict, data bytes)."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    data = blob[8 + n:]
    metadata = header.pop("__metadata__", {})
    tensors, spans = {}, []
    for name, t in header.items():
        assert t["dtype"] == "F32", f"{name}: dtype {t['dtype']}"
        begin, end = t["data_offsets"]
        count = int(np.prod(t["shape"], dtype=np.int64))
        assert end - begin == 4 * count, f"{name}: {end - begin} bytes for {t['shape']}"
        tensors[name] = np.frombuffer(data, dtype="<f4", count=count,
                                      offset=begin).reshape(t["shape"])
        spans.append((begin, end))
    spans.sort()
    assert [s[0] for s in spans] == [0] + [s[1] for s in spans[:-1]], "gaps or overlaps"
    assert spans[-1][1] == len(data), "the data section is longer than its tensors"
    return tensors, metadata, data


def bits(a):
    return np.ascontiguousarray(a, dtype="<f4").view("<u4")


def mlp_multiplier(meta, layer):
    """r_l^-a_l from the metadata: r_1 = M_1 / base, r_l = M_(l-1) / base."""
    widths = [int(w) for w in meta["net.widths"].split(",")]
    a = float(meta["param.a"].split(",")[layer - 1])
    base = float(meta["param.base_width"])
    return (widths[1 if layer == 1 else layer - 1] / base) ** -a


def check(helper, path, prefix):
    subprocess.run([helper, "dump", path, prefix], check=True)
    tensors, meta, data = read_safetensors(path)
    assert int(meta["crc32"], 16) == zlib.crc32(data), "crc32 is not the data's"
    multipliers = []
    with open(prefix + ".txt") as f:
        for line in f:
            fields = line.split()
            layer, rank = int(fields[0]), int(fields[1])
            shape = tuple(int(d) for d in fields[2:2 + rank])
            mult, has_bias = float.fromhex(fields[2 + rank]), fields[3 + rank] == "1"
            w = tensors[f"layer{layer}.weight"]
            assert w.shape == shape, f"layer {layer}: {w.shape} in the file, {shape} in C"
            api = np.fromfile(f"{prefix}.w{layer}", dtype="<f4").reshape(shape)
            expected = np.float32(mult) * w  # float32 times float32, as the library
            assert expected.dtype == np.float32
            assert np.array_equal(bits(api), bits(expected)), f"layer {layer}: weights differ"
            assert has_bias == (f"layer{layer}.bias" in tensors), f"layer {layer}: bias"
            if has_bias:
                b = np.fromfile(f"{prefix}.b{layer}", dtype="<f4")
                assert b.shape == (shape[0],) and np.any(b != 0), f"layer {layer}: bias"
                assert np.array_equal(bits(b), bits(tensors[f"layer{layer}.bias"]))
            if meta["net.kind"] == "mlp":
                assert np.float32(mlp_multiplier(meta, layer)) == np.float32(mult), layer
            multipliers.append(mult)
    assert len(multipliers) == int(meta["net.layers"]), "not every layer was dumped"
    assert any(m != 1.0 for m in multipliers), "every multiplier is 1: W = w proves nothing"
    return [tensors[f"layer{l}.weight"].shape for l in range(1, len(multipliers) + 1)]


def main():
    helper = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([helper, "save", tmp], check=True)
        mlp = check(helper, os.path.join(tmp, "mlp.safetensors"), os.path.join(tmp, "mlp"))
        cnn = check(helper, os.path.join(tmp, "cnn.safetensors"), os.path.join(tmp, "cnn"))
    assert mlp == [(128, 20), (128, 128), (10, 128)], mlp
    assert [len(s) for s in cnn] == [4, 4, 2] and cnn[0] == (96, 2, 3, 3), cnn
    print(f"checkpoint_numpy: MLP {mlp} and CNN {cnn} read with NumPy match the C API")


if __name__ == "__main__":
    try:
        main()
    except (AssertionError, subprocess.CalledProcessError) as e:
        print(f"FAIL: {e!r}")
        sys.exit(1)
