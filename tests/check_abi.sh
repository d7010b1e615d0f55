#!/bin/sh
# SPDX-License-Identifier: MIT
# check_abi.sh -- compares the built shared library with the ABI baseline
# recorded in tests/abi/libpcmup.abi (abidw/abidiff from abigail-tools).
#
#   check_abi.sh LIBPCMUP_SO            the ctest check (see docs/abi.md)
#   check_abi.sh --update LIBPCMUP_SO   records LIBPCMUP_SO as the baseline
#
# The check passes when the library offers everything the baseline does,
# with the same types (abidiff, and the exact signature of every public
# function, resolved by abi/signatures.awk): new functions and new enum values at the end are
# additive and pass. It fails on a removed or changed function or
# variable, or any change abidiff calls incompatible, unless the SONAME
# changed, and then it fails until the baseline is regenerated: a new
# SONAME is a new ABI, so its baseline starts anew. The library must be
# built with debug information (the root CMakeLists.txt adds -g), since
# abigail reads the types from DWARF.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
baseline=$here/abi/libpcmup.abi
headers=$here/../include

usage() {
    echo "usage: check_abi.sh [--update] LIBPCMUP_SO" >&2
    exit 2
}

update=0
if [ "${1:-}" = --update ]; then
    update=1
    shift
fi
[ $# -eq 1 ] || usage
lib=$1
[ -r "$lib" ] || { echo "check_abi.sh: cannot read $lib" >&2; exit 2; }
for tool in abidw abidiff; do
    command -v $tool >/dev/null 2>&1 || {
        echo "skipped: $tool is absent (install abigail-tools)"
        exit 77
    }
done

if [ $update = 1 ]; then
    mkdir -p "$(dirname "$baseline")"
    # --no-corpus-path: the file does not record where it was built.
    abidw --headers-dir "$headers" --no-corpus-path --out-file "$baseline" "$lib"
    echo "check_abi.sh: wrote $baseline ($(sed -n "s/.*soname='\([^']*\)'.*/\1/p" "$baseline" | head -n 1))"
    exit 0
fi

[ -r "$baseline" ] || { echo "check_abi.sh: no baseline $baseline; run check_abi.sh --update" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
abidw --headers-dir "$headers" --no-corpus-path --out-file "$tmp/current.abi" "$lib"

soname() { sed -n "s/.*soname='\([^']*\)'.*/\1/p" "$1" | head -n 1; }
old=$(soname "$baseline")
new=$(soname "$tmp/current.abi")
if [ "$old" != "$new" ]; then
    echo "FAIL: the SONAME changed ($old -> $new): a new ABI. Regenerate the baseline:"
    echo "      tests/check_abi.sh --update $lib"
    echo "      and list every incompatible change in CHANGELOG.md (docs/abi.md)."
    exit 1
fi

# Every public function of the baseline, with the same signature.
signatures() { awk -f "$here/abi/signatures.awk" "$1" | grep '^pcmup_[a-z]' | sort -u; }
signatures "$baseline" >"$tmp/old.sig"
signatures "$tmp/current.abi" >"$tmp/new.sig"
comm -23 "$tmp/old.sig" "$tmp/new.sig" >"$tmp/lost.sig"
if [ -s "$tmp/lost.sig" ]; then
    echo "Public functions of the baseline that are missing or changed:"
    sed 's/^/  - /' "$tmp/lost.sig"
    echo "Their signatures now:"
    for name in $(sed 's/(.*//' "$tmp/lost.sig"); do
        grep "^$name(" "$tmp/new.sig" | sed 's/^/  + /' || echo "  + $name: removed"
    done
fi

status=0
abidiff --headers-dir1 "$headers" --headers-dir2 "$headers" \
    "$baseline" "$tmp/current.abi" >"$tmp/report" || status=$?
cat "$tmp/report"
if [ $((status & 3)) -ne 0 ]; then
    echo "FAIL: abidiff could not compare (status $status)"
    exit 1
fi
# Summary lines look like "Functions changes summary: 0 Removed, 1 Changed,
# 2 Added functions"; any removal or change breaks existing binaries.
broken=$(awk '/changes summary:/ {
        for (i = 1; i <= NF; i++)
            if (($(i) ~ /^Removed/ || $(i) ~ /^Changed/) && $(i - 1) + 0 > 0) n++
    } END { print n + 0 }' "$tmp/report")
if [ $((status & 8)) -ne 0 ] || [ "$broken" -ne 0 ] || [ -s "$tmp/lost.sig" ]; then
    echo "FAIL: incompatible ABI change against $old (see above). Either keep the"
    echo "      old ABI, or bump PCMUP_ABI_VERSION in CMakeLists.txt (a new SONAME),"
    echo "      regenerate the baseline and list the changes in CHANGELOG.md."
    exit 1
fi
if [ $((status & 4)) -ne 0 ]; then
    echo "ok: additive changes only, ABI $old kept"
else
    echo "ok: the ABI matches the baseline ($old)"
fi
