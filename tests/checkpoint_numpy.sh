#!/bin/sh
# SPDX-License-Identifier: MIT
# checkpoint_numpy.sh -- runs checkpoint_numpy.py (arguments passed on)
# under the first python3 that has NumPy: the one on PATH, else the
# system's, where Debian's python3-numpy installs (PATH may start with
# another, such as pyenv's). Without one it exits 77: ctest's skip.
for py in python3 /usr/bin/python3; do
    if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import numpy' 2>/dev/null; then
        exec "$py" "$(dirname "$0")/checkpoint_numpy.py" "$@"
    fi
done
echo "skipped: no python3 with NumPy (Debian: apt-get install python3-numpy)"
exit 77
