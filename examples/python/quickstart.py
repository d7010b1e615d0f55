# SPDX-License-Identifier: MIT
# examples/python/quickstart.py: quickstart.c from Python.
import pcmup

train = pcmup.Dataset.fashion_mnist("train")
test = pcmup.Dataset.fashion_mnist("test")
net = pcmup.Net.mlp([784, 256, 256, 10], param="mup_sgd", seed=42)
bp = pcmup.Algo(net, "bp", seed=7, lr=0.05)
bp.train_epoch(train, batch=64)              # one epoch
loss, acc = bp.evaluate(test)
print(f"test loss {loss:.4f}, accuracy {acc:.4f}")
# Errors are exceptions (pcmup.ShapeError, ...) carrying the library's
# message; every handle is freed when garbage collected.
