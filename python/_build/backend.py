# SPDX-License-Identifier: MIT
"""The build backend of pyproject.toml: setuptools' own, found offline.

pip builds in an isolated environment and installs the build requirements
into it from the package index. Offline there is no index, and the
system's setuptools (Debian's python3-setuptools) is hidden from that
environment; so pyproject.toml requires nothing, and this module adds the
base interpreter's site directories back to the path when setuptools is not
importable, then hands every hook to setuptools.build_meta. With network
access, or with --no-build-isolation, setuptools is found directly.
"""
import site
import sys

try:
    import setuptools  # noqa: F401
except ImportError:
    for path in site.getsitepackages([sys.base_prefix]):
        if path not in sys.path:
            sys.path.append(path)
    import setuptools  # noqa: F401  (ImportError here: install python3-setuptools)

from setuptools.build_meta import *  # noqa: F401,F403,E402
from setuptools import build_meta as _setuptools  # noqa: E402


def _missing(requirements):
    """The requirements that cannot be imported here (setuptools asks for
    `wheel`, which Debian's python3-wheel provides): pip would fetch them."""
    import importlib.util
    import re
    return [r for r in requirements
            if importlib.util.find_spec(re.split(r"[<>=!~ ;\[]", r, 1)[0]) is None]


def get_requires_for_build_wheel(config_settings=None):
    return _missing(_setuptools.get_requires_for_build_wheel(config_settings))


def get_requires_for_build_sdist(config_settings=None):
    return _missing(_setuptools.get_requires_for_build_sdist(config_settings))
