#!/bin/sh
# SPDX-License-Identifier: MIT
# sanitizer_canary.sh PROGRAM MODE PATTERN... -- runs `PROGRAM MODE` (a
# deliberate bug, sanitizer_canary.c) and passes only if it ended with
# the sanitizers' exit status, 86 (cmake/Sanitize.cmake), and its output
# holds every PATTERN (grep -E): the sanitizer saw the bug, said where,
# and stopped the program.
set -u
prog=$1
mode=$2
shift 2
out=$("$prog" "$mode" 2>&1)
status=$?
printf '%s\n' "$out" | head -n 40
if [ "$status" -ne 86 ]; then
    echo "FAIL: $mode: exit status $status, expected 86 (the sanitizers' report)"
    exit 1
fi
for pattern in "$@"; do
    if ! printf '%s\n' "$out" | grep -Eq -- "$pattern"; then
        echo "FAIL: $mode: the report does not match '$pattern'"
        exit 1
    fi
done
echo "ok: $mode was caught"
