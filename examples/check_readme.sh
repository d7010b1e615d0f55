#!/bin/sh
# SPDX-License-Identifier: MIT
# check_readme.sh README EXAMPLE -- the C program of README's "Usage"
# section (its first ```c block) must be EXAMPLE (examples/quickstart.c)
# line for line: the tests build and run the example, so the README's
# program is known to compile and work.
set -eu
readme=$1
example=$2
block=$(mktemp)
trap 'rm -f "$block"' EXIT
awk '
    /^## / { in_usage = ($0 == "## Usage") }
    in_usage && !in_code && /^```c$/ { in_code = 1; next }
    in_code && /^```$/ { exit }
    in_code { print }
' "$readme" > "$block"
if [ ! -s "$block" ]; then
    echo "$readme: no \`\`\`c block in the Usage section"
    exit 1
fi
if ! diff -u "$example" "$block"; then
    echo "$readme: the Usage program is not $example (diff above: - example, + README)"
    exit 1
fi
