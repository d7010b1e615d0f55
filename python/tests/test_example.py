# SPDX-License-Identifier: MIT
"""examples/python/mutransfer.py runs (tiny: synthetic data, two widths, two
learning rates) and writes a PNG."""
import os
import subprocess
import sys

import pytest

EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir,
                       "examples", "python", "mutransfer.py")
PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_mutransfer_example_draws_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "mt.png"
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR, MPLCONFIGDIR=str(tmp_path))
    r = subprocess.run([sys.executable, EXAMPLE, "--synthetic", "--train-limit", "256",
                        "--widths", "16", "32", "--lrs", "0.01", "0.1", "--out", str(out)],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert "bp width 32" in r.stdout and "pc width 16" in r.stdout
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def usage_block(lang):
    readme = os.path.join(PYTHON_DIR, os.pardir, "README.md")
    block, inside, in_usage = [], False, False
    for line in open(readme):
        if line.startswith("## "):
            in_usage = line.strip() == "## Usage"
        elif in_usage and not inside and line.strip() == "```" + lang:
            inside = True
        elif inside and line.strip() == "```":
            return "".join(block)
        elif inside:
            block.append(line)
    return None


def test_readme_shows_the_python_quickstart():
    example = os.path.join(os.path.dirname(EXAMPLE), "quickstart.py")
    assert usage_block("python") == open(example).read()


def test_quickstart_runs(tmp_path):
    if not os.path.exists(os.path.join(pcmup_fashion_dir(), "t10k-labels-idx1-ubyte")) \
            and not os.path.exists(os.path.join(pcmup_fashion_dir(), "t10k-labels-idx1-ubyte.gz")):
        pytest.skip("FashionMNIST is not installed")
    example = os.path.join(os.path.dirname(EXAMPLE), "quickstart.py")
    r = subprocess.run([sys.executable, example], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=PYTHON_DIR))
    assert r.returncode == 0, r.stderr
    acc = float(r.stdout.split("accuracy ")[1])
    assert 0.75 < acc <= 1.0


def pcmup_fashion_dir():
    import pcmup
    return pcmup._enums.FASHION_MNIST_DIR
