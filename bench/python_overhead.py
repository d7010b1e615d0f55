#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""python_overhead.py -- what a Python training loop adds over the C one.

    PYTHONPATH=python PCMUP_LIBRARY=build/libpcmup.so \
        python3 bench/python_overhead.py build/tools/pcmup-train [--width 256]

Times, on FashionMNIST's first --train-limit samples, one epoch of BP at
--width (batch 64, 1 BLAS thread):
  C        pcmup-train's own epoch time (its JSON "seconds": train_epoch only)
  epoch    pcmup.Algo.train_epoch from Python (one C call per epoch)
  steps    a Python loop of pcmup.Algo.step over float32 batch views (one C
           call per batch: the binding's per-call overhead shows here)
Each is the median of --repeats runs. The differences are printed against
`epoch`, the C loop run in this process: pcmup-train's first epoch runs in
a fresh process (cold caches, OpenBLAS's buffers allocated on first use).
`steps` also does more C work than `epoch`: each pcmup_algo_step copies the
parameters for its divergence undo, which train_epoch does once per epoch.
"""
import argparse
import json
import statistics
import subprocess
import time

import pcmup


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("train_tool")
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--train-limit", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    pcmup.set_blas_threads(1)
    train = pcmup.Dataset.fashion_mnist("train").truncate(a.train_limit)
    x, y = train.get_batch()

    def algo():
        net = pcmup.Net.mlp([784, a.width, a.width, 10], param="mup_sgd", seed=1)
        return pcmup.Algo(net, "bp", seed=2)

    def c_run():
        out = subprocess.run([a.train_tool, "--width", str(a.width), "--train-limit",
                              str(a.train_limit), "--test-limit", "100", "--threads", "1",
                              "--batch", str(a.batch), "--json"],
                             check=True, capture_output=True, text=True).stdout
        return json.loads(out.strip().splitlines()[-1])["seconds"]

    def epoch_run():
        al = algo()
        t0 = time.perf_counter()
        al.train_epoch(train, a.batch)
        return time.perf_counter() - t0

    def step_run():
        al = algo()
        t0 = time.perf_counter()
        for s in range(0, len(x), a.batch):
            al.step(x[s:s + a.batch], y[s:s + a.batch])
        return time.perf_counter() - t0

    results = {}
    for name, fn in (("C", c_run), ("epoch", epoch_run), ("steps", step_run)):
        results[name] = statistics.median(fn() for _ in range(a.repeats))
    steps = -(-a.train_limit // a.batch)
    for name, t in results.items():
        extra = t - results["epoch"]
        print(f"{name:6s} {t * 1e3:9.2f} ms  ({extra * 1e3:+8.2f} ms, "
              f"{extra / results['epoch'] * 100:+6.2f} %, {extra / steps * 1e6:+7.2f} us/step "
              f"against epoch; {steps} steps)")


if __name__ == "__main__":
    main()
