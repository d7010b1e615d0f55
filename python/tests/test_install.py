# SPDX-License-Identifier: MIT
"""The package installed both ways, offline: `cmake --install` into a
temporary prefix (the package finds that prefix's libpcmup.so.1 with no
PCMUP_LIBRARY), and `pip install` of a copy of python/ into a fresh venv
with --system-site-packages (setuptools and NumPy from the system, no
index). Needs the build tree (PCMUP_BUILD_DIR, ctest sets it)."""
import os
import re
import shutil
import subprocess
import sys
import venv

import pytest

import pcmup

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("PCMUP_BUILD_DIR")
CMAKE = os.environ.get("PCMUP_CMAKE", "cmake")
PYDIR = os.environ.get("PCMUP_INSTALL_PYTHONDIR", "lib/python3/dist-packages")
needs_build = pytest.mark.skipif(not BUILD, reason="PCMUP_BUILD_DIR not set")

PROBE = "import pcmup; print(pcmup.__version__); print(pcmup.library_path); print(pcmup.__file__)"


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("PCMUP_LIBRARY", "PYTHONPATH", "LD_LIBRARY_PATH")}
    env.update(extra)
    return env


@needs_build
def test_cmake_install_finds_its_library(tmp_path):
    prefix = tmp_path / "prefix"
    subprocess.run([CMAKE, "--install", BUILD, "--prefix", str(prefix)], check=True,
                   capture_output=True)
    site = prefix / PYDIR
    assert (site / "pcmup" / "_install_paths.py").exists()
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, check=True,
                         capture_output=True, text=True,
                         env=clean_env(PYTHONPATH=str(site))).stdout.split("\n")
    assert out[0] == pcmup.__version__
    assert os.path.realpath(out[1]).startswith(os.path.realpath(prefix))
    assert out[2].startswith(str(site))


def have_pip_tools():
    import importlib.util
    return all(importlib.util.find_spec(m) for m in ("pip", "setuptools", "wheel"))


@needs_build
@pytest.mark.skipif(not have_pip_tools(),
                    reason="pip, setuptools or wheel missing (python3-pip python3-setuptools)")
def test_pip_install_offline_in_a_venv(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(PYTHON_DIR, src, ignore=shutil.ignore_patterns(
        "tests", "__pycache__", "build", "*.egg-info"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, system_site_packages=True, with_pip=False)
    py = str(env_dir / "bin" / "python")
    # pip itself from the system (Debian's python3-pip); no index, no network.
    r = subprocess.run([sys.executable, "-m", "pip", "--python", py, "install", str(src)]
                       if pip_has_python_option() else
                       [py, "-m", "pip", "install", str(src)],
                       capture_output=True, text=True,
                       env=clean_env(PIP_NO_INDEX="1", PIP_FIND_LINKS=""), cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    out = subprocess.run([py, "-c", PROBE], cwd=tmp_path, capture_output=True, text=True,
                         env=clean_env(PCMUP_LIBRARY=pcmup.library_path))
    assert out.returncode == 0, out.stderr
    version, _, where = out.stdout.split("\n")[:3]
    assert version == pcmup.__version__ and where.startswith(str(env_dir))


def pip_has_python_option():
    r = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True,
                       text=True)
    m = re.search(r"pip (\d+)\.(\d+)", r.stdout)
    return bool(m) and (int(m.group(1)), int(m.group(2))) >= (22, 3)


def test_pyproject_version_is_the_headers(header_text):
    text = open(os.path.join(PYTHON_DIR, "pyproject.toml")).read()
    m = re.search(r'^version = "([^"]+)"', text, re.M)
    parts = [re.search(r"#define PCMUP_VERSION_%s (\d+)" % p, header_text).group(1)
             for p in ("MAJOR", "MINOR", "PATCH")]
    assert m and m.group(1) == ".".join(parts) == pcmup.__version__
