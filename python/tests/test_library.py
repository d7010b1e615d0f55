# SPDX-License-Identifier: MIT
"""Finding and checking the library: the version, and the refusal of a
library of another ABI (a copy of the real one whose SONAME says .so.2)."""
import os
import re
import subprocess
import sys

import pytest

import pcmup
from pcmup import _lib

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_version_is_the_librarys(header_text):
    parts = [int(re.search(r"#define PCMUP_VERSION_%s (\d+)" % p, header_text).group(1))
             for p in ("MAJOR", "MINOR", "PATCH")]
    assert pcmup.__version__ == "%d.%d.%d" % tuple(parts)
    assert pcmup.version_number == parts[0] * 10000 + parts[1] * 100 + parts[2]


def test_soname_is_read_from_the_file():
    assert _lib.elf_soname(pcmup.library_path) == "libpcmup.so.1"


def import_with(library):
    env = dict(os.environ, PCMUP_LIBRARY=str(library), PYTHONPATH=PYTHON_DIR)
    return subprocess.run([sys.executable, "-c", "import pcmup"], env=env,
                          capture_output=True, text=True)


def test_library_of_another_abi_is_refused(tmp_path):
    blob = open(pcmup.library_path, "rb").read()
    assert blob.count(b"libpcmup.so.1\0") >= 1
    other = tmp_path / "libpcmup.so.2"
    other.write_bytes(blob.replace(b"libpcmup.so.1\0", b"libpcmup.so.2\0"))
    assert _lib.elf_soname(other) == "libpcmup.so.2"
    r = import_with(other)
    assert r.returncode != 0
    assert "is libpcmup.so.2, not libpcmup.so.1" in r.stderr
    assert "LibraryError" in r.stderr


def test_missing_and_non_elf_libraries_are_refused(tmp_path):
    r = import_with(tmp_path / "nothing.so")
    assert r.returncode != 0 and "no such file" in r.stderr
    (tmp_path / "text.so").write_text("not a library")
    r = import_with(tmp_path / "text.so")
    assert r.returncode != 0 and "not an ELF shared object" in r.stderr


def test_last_error_message_is_carried():
    with pytest.raises(pcmup.ShapeError) as e:
        pcmup.Net.mlp([4, 4, 2], param=pcmup.Param(3))
    assert e.value.message.startswith("pcmup_net_create: ")
    assert e.value.status == 3 and e.value.status_name == "PCMUP_ERR_SHAPE"
    assert isinstance(e.value, ValueError) and isinstance(e.value, pcmup.PcmupError)
