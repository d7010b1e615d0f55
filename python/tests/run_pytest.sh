#!/bin/sh
# SPDX-License-Identifier: MIT
# run_pytest.sh -- the pcmup package's pytest suite (python/tests), under
# the first python3 that has NumPy and pytest: the one on PATH, else the
# system's (Debian's python3-numpy and python3-pytest; PATH may start with
# another, such as pyenv's). Without one it exits 77: ctest's skip.
# ctest sets PCMUP_LIBRARY and the other variables tests/conftest.py lists.
here=$(cd "$(dirname "$0")" && pwd)
for py in python3 /usr/bin/python3; do
    if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import numpy, pytest' 2>/dev/null; then
        cd "$here" && exec "$py" -m pytest -q -p no:cacheprovider "$here"
    fi
done
echo "skipped: no python3 with NumPy and pytest (Debian: apt-get install python3-numpy python3-pytest)"
exit 77
