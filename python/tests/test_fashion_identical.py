# SPDX-License-Identifier: MIT
"""A FashionMNIST subset trained from Python gives exactly the weights the
same run through the C API gives: pcmup-train (tools/, plain C) saves its
algorithm with --save; the same run is made here through the binding, with
the seeds pcmup-train uses (tools/train_setup.c: the network from --seed,
the algorithm's stream from --seed + 1; the preset the rule's muP), and
every tensor of the two checkpoints is compared bit for bit, read with
NumPy alone. Skipped without FashionMNIST or pcmup-train."""
import json
import os
import struct
import subprocess

import numpy as np
import pytest

import pcmup

FASHION = pcmup._enums.FASHION_MNIST_DIR
TRAIN = os.environ.get("PCMUP_TRAIN")
RULES = {"bp": "mup_sgd", "pc": "mup_pc"}


def read_tensors(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__")
    data = raw[8 + n:]
    return {name: np.frombuffer(data[t["data_offsets"][0]:t["data_offsets"][1]], "<f4")
            .reshape(t["shape"]) for name, t in header.items()}


def python_run(rule, limit, width, seed, batch, lr):
    train = pcmup.Dataset.fashion_mnist("train").truncate(limit)
    param = pcmup.Param(3, RULES[rule], base_width=64)
    net = pcmup.Net.mlp([train.dim, width, width, 10], "tanh", param=param, seed=seed)
    algo = pcmup.Algo(net, rule, seed=seed + 1, lr=lr)
    algo.train_epoch(train, batch)
    return algo


@pytest.mark.skipif(not os.path.exists(os.path.join(FASHION, "train-images-idx3-ubyte"))
                    and not os.path.exists(os.path.join(FASHION, "train-images-idx3-ubyte.gz")),
                    reason="FashionMNIST is not installed (dataset-fashion-mnist)")
@pytest.mark.skipif(not TRAIN or not os.path.exists(TRAIN), reason="PCMUP_TRAIN not set")
@pytest.mark.parametrize("rule", sorted(RULES))
def test_python_and_c_give_identical_weights(rule, tmp_path):
    limit, width, seed, batch, lr = 2000, 64, 5, 64, 0.05
    pcmup.set_blas_threads(1)
    c_path, py_path = tmp_path / "c.safetensors", tmp_path / "py.safetensors"
    subprocess.run([TRAIN, "--algo", rule, "--width", str(width), "--depth", "3",
                    "--train-limit", str(limit), "--test-limit", "100", "--seed", str(seed),
                    "--batch", str(batch), "--lr", str(lr), "--threads", "1",
                    "--save", str(c_path)], check=True, capture_output=True)
    algo = python_run(rule, limit, width, seed, batch, lr)
    algo.save(py_path)
    c, py = read_tensors(c_path), read_tensors(py_path)
    assert sorted(c) == sorted(py) and "layer3.weight" in c
    for name in c:
        assert c[name].shape == py[name].shape
        assert np.array_equal(c[name].view("<u4"), py[name].view("<u4")), name
    # and the C run's weights loaded through the binding are the net's
    c_net = pcmup.Net.load(c_path)
    for a, b in zip(c_net.weights, algo.net.weights):
        assert np.array_equal(a.view(np.uint32), b.view(np.uint32))
    assert algo.counters == (1, (limit + batch - 1) // batch)
