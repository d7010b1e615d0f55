# SPDX-License-Identifier: MIT
"""Training and every diagnostic of the C API from Python, each checked
against something independent: the forward pass against NumPy, a step
against its recorded update, PC's closed form against NumPy linear
algebra, checkpoints resuming bit for bit."""
import numpy as np
import pytest

import pcmup


def data(rng, n=64, d=12, k=4):
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x, (np.arange(n) % k).astype(np.int32)


def test_forward_matches_numpy(rng):
    net = pcmup.Net.mlp([12, 16, 16, 4], param="sp", bias=True, seed=5)
    for l in 1, 2, 3:
        net.set_bias(l, rng.standard_normal(net.weight_shape(l)[0]).astype(np.float32))
    x, _ = data(rng, 8)
    h = x.astype(np.float64)
    for l in 1, 2, 3:
        u = h @ net.get_weights(l).T.astype(np.float64) + net.get_bias(l)
        np.testing.assert_allclose(net.forward_layer(x, l, "pre"), u, rtol=1e-4, atol=1e-5)
        h = np.tanh(u) if l < 3 else u
        np.testing.assert_allclose(net.forward_layer(x, l), h, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(net.forward(x), h, rtol=1e-4, atol=1e-5)


def test_step_applies_its_recorded_update(rng):
    net = pcmup.Net.mlp([12, 16, 16, 4], seed=5)
    bp = pcmup.Algo(net, "bp", seed=1, lr=0.1, record_updates=1)
    x, y = data(rng, 8)
    before = net.weights
    trial = bp.trial_update(x, y)
    np.testing.assert_array_equal(net.weights[0], before[0])   # a trial changes nothing
    assert np.isfinite(bp.step(x, y))
    for l in 1, 2, 3:
        upd = bp.last_update(l)
        np.testing.assert_array_equal(upd, trial[l - 1])
        np.testing.assert_allclose(net.get_weights(l), before[l - 1] + upd, atol=1e-6)
    assert bp.alignment_ratio() > 0
    assert bp.counters == (0, 1)
    al = bp.update_alignment(x, y)
    np.testing.assert_allclose(al["cos_bp"], 1.0, atol=1e-5)   # BP against itself
    ref = bp.reference_update("bp", x, y)
    cmp = bp.compare_updates(ref, x, y)
    np.testing.assert_allclose(cmp["ratio_bp"], 1.0, atol=1e-6)


def test_train_with_callback_and_evaluate(rng):
    x, y = data(rng, 256)
    ds = pcmup.Dataset.from_arrays(x, y)
    assert ds.info() == (256, 12, 4) and len(ds) == 256
    xb, yb = ds.get_batch(10, 5)
    np.testing.assert_array_equal(xb, x[10:15])
    np.testing.assert_array_equal(yb, y[10:15])
    oh = ds.one_hot(0, 3)
    np.testing.assert_array_equal(oh.argmax(1), y[:3])
    net = pcmup.Net.mlp([12, 32, 32, 4], seed=5)
    bp = pcmup.Algo(net, "bp", seed=1, lr=0.2)
    seen = []
    losses = bp.train(ds, batch=32, epochs=5,
                      callback=lambda e, loss: seen.append((e, loss)) or e < 3)
    assert [e for e, _ in seen] == [1, 2, 3] and losses == [l for _, l in seen]
    assert bp.counters == (3, 24)
    loss, acc = bp.evaluate(ds)
    assert 0 <= acc <= 1 and loss < losses[0]


def test_pc_diagnostics_and_closed_form(rng):
    """PC on a deep linear network: the closed-form equilibrium's energy
    equals gamma_L/2 e^T (I + C)^-1 e computed here with NumPy."""
    net = pcmup.Net.mlp([6, 8, 8, 3], activation="identity", param="mup_pc", seed=2)
    pc = pcmup.Algo(net, "pc", seed=3, pc_iterations=20, pc_kappa=0.1)
    x, y = data(rng, 4, 6, 3)
    pc.step(x, y)
    trace = pc.energy_trace()
    assert len(trace) == 21 and trace[-1] <= trace[0]
    assert pc.error_norms().shape == (3,)
    assert pc.gamma_out() == 1.0
    eq = pc.linear_equilibrium(x, y)
    W = [net.get_weights(l).astype(np.float64) for l in (1, 2, 3)]
    Wp = [W[2] @ W[1], W[2], np.eye(3)]
    Cg = Wp[0] @ Wp[0].T + Wp[1] @ Wp[1].T
    np.testing.assert_allclose(eq["c_gamma"], Cg, rtol=1e-4, atol=1e-5)
    yc = np.eye(3)[y] - 1.0 / 3                        # centred one-hot targets
    e = yc - x @ (W[2] @ W[1] @ W[0]).T
    energy = 0.5 * np.mean(np.einsum("bi,ij,bj->b", e, np.linalg.inv(np.eye(3) + Cg), e))
    assert eq["energy"] == pytest.approx(energy, rel=1e-4)
    assert len(eq["eps"]) == 3 and len(eq["states"]) == 2 and len(eq["updates"]) == 3
    ds = pcmup.Dataset.from_arrays(x, y, n_classes=3)
    pc.train_epoch(ds, batch=4)
    assert np.isfinite(pc.epoch_energy())


def test_gnt_and_tp_diagnostics(rng):
    x, y = data(rng, 8)
    net = pcmup.Net.mlp([12, 16, 16, 4], param="mup_gnt", seed=2)
    gnt = pcmup.Algo(net, "gnt", seed=3, lr=0.01)
    assert gnt.damping().shape == (3,) and gnt.system_size(8) == [16, 16, 4]
    gnt.step(x, y)
    net2 = pcmup.Net.mlp([12, 16, 16, 4], param="mup_tp", seed=2)
    tp = pcmup.Algo(net2, "dtp", seed=3, tp_feedback="trained")
    with pytest.raises(pcmup.UnsupportedError):
        tp.target_distances()                          # before the first step
    tp.step(x, y)
    assert tp.target_distances().shape == (3,)
    before, after = tp.feedback_loss()
    assert before.shape == (2,) and after.shape == (2,)
    V = tp.get_feedback(2)
    assert V.shape == (16, 16)
    tp.set_feedback(3, np.ones((16, 4), np.float32))
    np.testing.assert_array_equal(tp.get_feedback(3), 1)


def test_coord_check(rng):
    x, y = data(rng, 16)
    net = pcmup.Net.mlp([12, 16, 16, 4], seed=2)
    bp = pcmup.Algo(net, "bp", seed=3, lr=0.1)
    dh, h_abs = pcmup.coord_check(bp, [32, 64], x, y, steps=[0, 2, 4], seed=7)
    assert dh.shape == h_abs.shape == (2, 3, 3)
    np.testing.assert_array_equal(dh[:, 0], 0)        # step 0: nothing moved
    assert (dh[:, 1:] > 0).all() and (h_abs > 0).all()


def test_cnn_from_text_and_builder(rng):
    a = pcmup.Net.from_text("conv3p1:M tanh maxpool2 dense:4", (1, 8, 8), 4, seed=1)
    b = pcmup.Net.from_builder(
        pcmup.Builder().conv(3, "M", pad=1, activation="tanh", pool="max2").dense(4),
        (1, 8, 8), 4, seed=1)
    assert a.describe() == b.describe() == "conv3p1:M tanh maxpool2 dense:4"
    assert a.weight_shape(1) == (4, 1, 3, 3) and a.input_shape == (1, 8, 8)
    np.testing.assert_array_equal(a.get_weights(1), b.get_weights(1))
    x = rng.standard_normal((2, 64)).astype(np.float32)
    assert a.forward_layer(x, 1).shape == (2, 4 * 4 * 4)     # pooled
    assert a.forward_layer(x, 1, "pre").shape == (2, 4 * 8 * 8)
    with pytest.raises(pcmup.InvalidError, match="token 1"):
        pcmup.Builder("conv3q1:M")


def test_param(rng):
    p = pcmup.Param(3, "mup_pc", gamma_bar=-1, base_width=128)
    assert p.n_layers == 3 and p.base_width == 128 and p.gamma_bar == -1
    assert p.layer(1)["c"] == 0.0 and p.get_layer(3, "theta") == 1.0
    with pytest.raises(pcmup.InvalidError):
        p.gamma_bar = 0                                # only through apply_preset
    f = p.layer_factors([10, 256, 256, 3], 2)
    # hidden c_l = -gammabar = 1: eta_l / eta = r^-1
    assert f["width_ratio"] == 2.0 and f["lr"] == pytest.approx(0.5)
    q = p.clone()
    q.set_layer(2, "c", 0.5)
    assert p.get_layer(2, "c") != 0.5 == q.get_layer(2, "c")
    assert pcmup.Param.layer_bounds("a") == (-2, 2)


def test_checkpoint_resumes_bit_for_bit(rng, tmp_path):
    x, y = data(rng, 128)
    ds = pcmup.Dataset.from_arrays(x, y)

    def run():
        return pcmup.Algo(pcmup.Net.mlp([12, 16, 16, 4], seed=1), "bp", seed=2,
                          momentum=0.9)
    whole = run()
    whole.train(ds, 16, epochs=2)
    half = run()
    half.train_epoch(ds, 16)
    half.save(tmp_path / "a.safetensors", metadata={"user.note": "half"})
    with pcmup.Checkpoint(tmp_path / "a.safetensors") as ck:
        assert ck.rule is pcmup.Rule.BP and ck.get("user.note") == "half"
        assert ck.metadata["setting.momentum"].startswith("0.9")
        assert ck.get("no.such.key") is None
        resumed = pcmup.Algo.load(pcmup.Net.load(ck), ck)
    assert resumed.momentum == 0.9 and resumed.counters == (1, 8)
    resumed.train_epoch(ds, 16)
    for a, b in zip(whole.net.weights, resumed.net.weights):
        np.testing.assert_array_equal(a, b)
    resumed.load_checkpoint(tmp_path / "a.safetensors")     # by path: back to epoch 1
    assert resumed.counters == (1, 8)
    np.testing.assert_array_equal(resumed.net.get_weights(2), half.net.get_weights(2))
    whole.net.save(tmp_path / "n.safetensors")
    resumed.net.load_checkpoint(tmp_path / "n.safetensors")
    np.testing.assert_array_equal(resumed.net.get_weights(2), whole.net.get_weights(2))
    with pytest.raises(pcmup.UnsupportedError):
        pcmup.Checkpoint(tmp_path / "n.safetensors").rule
    with pytest.raises(pcmup.FileError, match="missing"):
        pcmup.Checkpoint(tmp_path / "missing.safetensors")
    (tmp_path / "bad").write_bytes(b"\x10" + b"\0" * 40)
    with pytest.raises(pcmup.FormatError):
        pcmup.Checkpoint(tmp_path / "bad")


def test_dataset_errors(tmp_path):
    with pytest.raises(pcmup.FileError, match="nowhere"):
        pcmup.Dataset.fashion_mnist("train", tmp_path / "nowhere")
    with pytest.raises(TypeError):
        pcmup.Dataset()
    with pytest.raises(pcmup.ShapeError):
        pcmup.Dataset.from_arrays(np.zeros(5, np.float32), [0])


def write_idx(path, dims, data):
    """An IDX file of unsigned bytes: magic 0 0 8 ndims, dims, data."""
    header = bytes([0, 0, 8, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)
    path.write_bytes(header + bytes(data))


def test_dataset_head(tmp_path):
    """max_samples reads the first samples only: the same floats and
    labels as the whole file truncated, even when the rest of the file is
    missing (which the whole load refuses)."""
    pixels, labels = [(7 * i) % 256 for i in range(5 * 6)], [0, 1, 2, 1, 0]
    write_idx(tmp_path / "img", [5, 2, 3], pixels)
    write_idx(tmp_path / "lab", [5], labels)
    whole = pcmup.Dataset.idx(tmp_path / "img", tmp_path / "lab").truncate(3)
    head = pcmup.Dataset.idx(tmp_path / "img", tmp_path / "lab", max_samples=3)
    xw, lw = whole.get_batch(0, 3)
    xh, lh = head.get_batch(0, 3)
    assert np.array_equal(xh, np.array(pixels[:18], np.float32).reshape(3, 6) / np.float32(255))
    assert np.array_equal(xh, xw) and np.array_equal(lh, lw) and list(lh) == labels[:3]
    write_idx(tmp_path / "img", [5, 2, 3], pixels[:18])
    assert len(pcmup.Dataset.idx(tmp_path / "img", tmp_path / "lab", max_samples=3)) == 3
    with pytest.raises(pcmup.FormatError, match="truncated"):
        pcmup.Dataset.idx(tmp_path / "img", tmp_path / "lab")
    with pytest.raises(pcmup.FormatError, match="over the limit of 10 bytes"):
        pcmup.Dataset.idx(tmp_path / "img", tmp_path / "lab", max_samples=1, max_bytes=10)
