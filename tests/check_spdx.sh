#!/bin/sh
# SPDX-License-Identifier: MIT
# check_spdx.sh -- every source file of the repository carries the line
# "SPDX-License-Identifier: MIT" in its first three lines: C and C++
# sources and headers, shell, Python, Julia, awk and CMake files, the
# configured templates (.in), TOML files and manual pages. Test data,
# the fuzz corpora, figures and Markdown are not sources.
#
# Usage: check_spdx.sh SOURCE_DIR (the files git tracks, else every file)
set -eu

src=$1
cd "$src"
if command -v git > /dev/null 2>&1 && git rev-parse --git-dir > /dev/null 2>&1; then
    list=$(git ls-files)
else
    list=$(find . -type f ! -path './build*' ! -path './.git/*' | sed 's|^\./||')
fi
missing=0 checked=0
for f in $list; do
    case $f in
    tests/data/* | tests/fuzz/corpus/* | docs/figures/*) continue ;;
    *.c | *.h | *.cpp | *.sh | *.py | *.jl | *.awk | *.cmake | *.in | *.toml | \
    */CMakeLists.txt | CMakeLists.txt | .ci/run | man/*.[1-9]) ;;
    *) continue ;;
    esac
    [ -f "$f" ] || continue
    checked=$((checked + 1))
    if ! head -n 3 "$f" | grep -q 'SPDX-License-Identifier: MIT'; then
        echo "no SPDX line: $f"
        missing=$((missing + 1))
    fi
done
[ "$checked" -gt 0 ] || { echo "no source files found in $src"; exit 1; }
if [ "$missing" -gt 0 ]; then
    echo "FAIL: $missing of $checked source files lack 'SPDX-License-Identifier: MIT'"
    exit 1
fi
echo "check_spdx: all $checked source files carry their SPDX line"
