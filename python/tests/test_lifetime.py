# SPDX-License-Identifier: MIT
"""Handles are freed by garbage collection, close() and `with`, exactly
once; an algorithm keeps its network alive. Counted two ways: the
package's count of live handles, and a counting pcmup_allocator through
which every byte the handles own goes (it must come back to 0 blocks)."""
import gc

import numpy as np
import pytest

import pcmup


def build_everything(alloc, x, y, tmp_path):
    """One of each object, all on `alloc`, used a little, then dropped."""
    p = pcmup.Param(3, "mup_pc", allocator=alloc)
    net = pcmup.Net.mlp([12, 16, 16, 4], param=p, seed=1, allocator=alloc)
    cnn = pcmup.Net.from_text("conv3p1:M tanh maxpool2 dense:4", (1, 4, 4), 2, seed=1,
                              allocator=alloc)
    b = pcmup.Builder("conv3p1:M tanh maxpool2 dense:4", allocator=alloc)
    pc = pcmup.Algo(net, "pc", seed=2, allocator=alloc)
    ds = pcmup.Dataset.from_arrays(x, y, n_classes=4, allocator=alloc)
    pc.train_epoch(ds, batch=4)
    pc.save(tmp_path / "pc.safetensors")
    ck = pcmup.Checkpoint(tmp_path / "pc.safetensors", allocator=alloc)
    net2 = pcmup.Net.load(ck, allocator=alloc)
    pcmup.Algo.load(net2, ck, allocator=alloc).step(x[:2], y[:2])
    assert pcmup.live_handles() >= 8 and alloc.live_blocks > 0
    return b, cnn


def test_gc_frees_every_handle(batch, tmp_path):
    x, y = batch
    gc.collect()
    before = pcmup.live_handles()
    alloc = pcmup.Allocator()
    objs = build_everything(alloc, x, y, tmp_path)
    assert pcmup.live_handles("builder") >= 1
    del objs
    gc.collect()
    assert pcmup.live_handles() == before
    assert alloc.live_blocks == 0 and alloc.live_bytes == 0
    assert alloc.calls > 20                            # the allocator really was used


def test_algo_keeps_its_net_alive(batch):
    x, y = batch
    alloc = pcmup.Allocator()
    net = pcmup.Net.mlp([12, 16, 16, 4], seed=1, allocator=alloc)
    bp = pcmup.Algo(net, "bp", seed=2)
    del net
    gc.collect()
    assert pcmup.live_handles("net") >= 1
    bp.step(x, y)                                      # the network is still there
    blocks = alloc.live_blocks
    del bp
    gc.collect()
    assert alloc.live_blocks == 0 < blocks


def test_context_managers_and_close(batch):
    x, y = batch
    n0 = pcmup.live_handles()
    with pcmup.Net.mlp([12, 16, 16, 4], seed=1) as net:
        with pcmup.Algo(net, "bp") as bp:
            bp.step(x, y)
        assert bp.closed and not net.closed
        with pytest.raises(ValueError, match="algo is closed"):
            bp.step(x, y)
        outlived = pcmup.Algo(net, "pc")
    # closing a network closes its algorithms first: nothing dangles
    assert net.closed and outlived.closed
    with pytest.raises(ValueError, match="closed"):
        outlived.step(x, y)
    with pytest.raises(ValueError, match="net is closed"):
        net.forward(x)
    net.close()                                        # twice is harmless
    assert pcmup.live_handles() == n0


def test_failing_allocator_is_no_memory_error():
    alloc = pcmup.Allocator()
    alloc.fail_after = 0
    with pytest.raises(pcmup.NoMemoryError, match="PCMUP_ERR_NOMEM"):
        pcmup.Net.mlp([12, 16, 4], param="sp", allocator=alloc)
    assert alloc.live_blocks == 0


def test_failed_constructor_leaks_nothing():
    n0 = pcmup.live_handles()
    with pytest.raises(pcmup.ShapeError):
        pcmup.Net.mlp([12, 16, 4], param=pcmup.Param(3))  # 2 layers, 3-layer param
    with pytest.raises(pcmup.InvalidError):
        pcmup.Algo(pcmup.Net.mlp([4, 4, 2], seed=1), "bp", lr=-1)
    gc.collect()
    assert pcmup.live_handles() == n0
    _ = np
