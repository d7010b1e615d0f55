#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_settings_table.sh -- docs/api.md's settings table is the library's:
# docs/gen_api.sh, run with this build's table program, writes the same
# rows. Regenerate the docs with docs/gen_api.sh when it fails.
#
#   test_settings_table.sh PATH/TO/pcmup-settings-table
set -eu
program=${1:?usage: test_settings_table.sh PATH/TO/pcmup-settings-table}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
PCMUP_SETTINGS_TABLE=$program bash "$root/docs/gen_api.sh" "$root/include/pcmup.h" "$tmp" 2>/dev/null
rows() { grep '^| `PCMUP_SET_' "$1"; }
if ! diff <(rows "$root/docs/api.md") <(rows "$tmp"); then
    echo "docs/api.md's settings table differs from the library's (lines > are the library's):" \
         "run docs/gen_api.sh" >&2
    exit 1
fi
[ "$(rows "$tmp" | wc -l)" -gt 0 ] || { echo "no settings rows generated" >&2; exit 1; }
echo "docs/api.md's settings table is the library's"
