#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""mutransfer.py -- muTransfer from Python: a learning-rate sweep at two
widths for BP and PC under muP, drawn with matplotlib.

    python3 examples/python/mutransfer.py [--out mutransfer.png]
        [--widths 64 256] [--train-limit 10000] [--epochs 1]

Under muP the best learning rate at width 64 is the best at width 256 as
well: the curves' minima line up (docs/transfer.md). Needs the pcmup
package (docs/python.md), NumPy, matplotlib and FashionMNIST
(dataset-fashion-mnist), or --synthetic for a quick run without it.
"""
import argparse

import numpy as np

import pcmup

PRESET = {"bp": "mup_sgd", "pc": "mup_pc"}


def data(args):
    if args.synthetic:
        rng = np.random.default_rng(0)
        x = rng.standard_normal((args.train_limit + 512, 32)).astype(np.float32)
        y = (x @ rng.standard_normal((32, 10))).argmax(1).astype(np.int32)
        n = args.train_limit
        return (pcmup.Dataset.from_arrays(x[:n], y[:n], 10),
                pcmup.Dataset.from_arrays(x[n:], y[n:], 10))
    train = pcmup.Dataset.fashion_mnist("train").truncate(args.train_limit)
    test = pcmup.Dataset.fashion_mnist("test").truncate(args.test_limit)
    test.standardize(train)
    train.standardize()
    return train, test


def run(rule, width, lr, train, test, args):
    param = pcmup.Param(3, PRESET[rule], base_width=64)
    with pcmup.Net.mlp([train.dim, width, width, 10], param=param, seed=1) as net:
        algo = pcmup.Algo(net, rule, seed=2, lr=lr)
        try:
            algo.train(train, batch=64, epochs=args.epochs)
            return algo.evaluate(test)[0]
        except pcmup.DivergedError:
            return float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="mutransfer.png")
    ap.add_argument("--widths", type=int, nargs="+", default=[64, 256])
    ap.add_argument("--lrs", type=float, nargs="+",
                    default=[0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5])
    ap.add_argument("--train-limit", type=int, default=10000)
    ap.add_argument("--test-limit", type=int, default=2000)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--synthetic", action="store_true",
                    help="a small synthetic problem instead of FashionMNIST")
    args = ap.parse_args()

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    train, test = data(args)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, rule in zip(axes, ("bp", "pc")):
        for width in args.widths:
            losses = [run(rule, width, lr, train, test, args) for lr in args.lrs]
            best = args.lrs[int(np.nanargmin(losses))]
            print(f"{rule} width {width}: test loss " +
                  " ".join(f"{l:.4f}" for l in losses) + f"  best lr {best}")
            ax.plot(args.lrs, losses, marker="o", label=f"width {width}")
        ax.set_xscale("log")
        ax.set_title(f"{rule.upper()} under muP")
        ax.set_xlabel("learning rate")
        ax.legend()
    axes[0].set_ylabel("test loss")
    fig.suptitle(f"muTransfer with libpcmup {pcmup.__version__}")
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
