#!/bin/sh
# SPDX-License-Identifier: MIT
# check_exports.sh -- the shared library exports exactly the public API.
#
#   tests/check_exports.sh LIBPCMUP_SO   compare the library's exported
#                                        symbols with tests/exported_symbols.txt
#   tests/check_exports.sh --update      rewrite tests/exported_symbols.txt
#                                        from the PCMUP_API declarations of
#                                        include/pcmup.h
#   tests/check_exports.sh --expected    print that list without writing it
#
# The list in the repository is the contract: every function declared with
# PCMUP_API in include/pcmup.h, one per line, sorted (LC_ALL=C). The check
# first verifies that the list still matches the header (a new PCMUP_API
# function needs `--update`), then diffs the library's global defined
# dynamic symbols (`nm -D --defined-only`) against it. Any difference fails
# and prints the diff ("-" = in the list, missing from the library; "+" =
# exported but not in the list).
#
# Environment: NM (default nm), HEADER and LIST to override the default
# paths of include/pcmup.h and tests/exported_symbols.txt.
set -eu
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
HEADER=${HEADER:-$here/../include/pcmup.h}
LIST=${LIST:-$here/exported_symbols.txt}
NM=${NM:-nm}

usage() {
    echo "usage: $0 LIBPCMUP_SO | --update | --expected" >&2
    exit 2
}

# Names of the functions declared with PCMUP_API, sorted. A declaration
# starts a line with PCMUP_API; the name is the identifier before its first
# "(". Lines that mention PCMUP_API in any other way (outside the macro's
# own #define block and comments) are refused rather than guessed at.
header_api() {
    awk '
        /^[ \t]*#/ { next }                      # the PCMUP_API #defines
        /^[ \t]*(\/\*|\*)/ { next }              # comment lines
        /(^|[^A-Za-z0-9_])PCMUP_API([^A-Za-z0-9_]|$)/ {
            if ($0 !~ /^[ \t]*PCMUP_API[ \t]/) {
                printf "%s:%d: cannot parse: %s\n", FILENAME, FNR, $0 > "/dev/stderr"
                bad = 1; next
            }
            line = $0
            sub(/\(.*/, "", line)
            if (!match(line, /[A-Za-z_][A-Za-z0-9_]*[ \t]*$/) || index($0, "(") == 0) {
                printf "%s:%d: no function name: %s\n", FILENAME, FNR, $0 > "/dev/stderr"
                bad = 1; next
            }
            name = substr(line, RSTART, RLENGTH)
            sub(/[ \t]+$/, "", name)
            print name
        }
        END { exit bad }
    ' "$HEADER" > "$tmp/api.raw" || return 1
    sort -u "$tmp/api.raw"
}

# Global defined dynamic symbols of the library: functions (T, i), data
# (D, B, R, G, S), weak (W, V) and unique (u). Version suffixes are dropped.
library_exports() {
    "$NM" -D --defined-only "$1" |
        awk 'NF >= 3 && $2 ~ /^[TiDBRGSWVu]$/ { sub(/@.*/, "", $3); print $3 }' |
        sort -u
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pcmup-exports.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

[ $# -eq 1 ] || usage
case $1 in
--update)
    header_api > "$tmp/expected" || exit 1
    [ -s "$tmp/expected" ] || { echo "no PCMUP_API declarations in $HEADER" >&2; exit 1; }
    cp "$tmp/expected" "$LIST"
    echo "wrote $(wc -l < "$LIST" | tr -d ' ') symbols to $LIST"
    exit 0
    ;;
--expected)
    header_api > "$tmp/expected" || exit 1
    cat "$tmp/expected"
    exit 0
    ;;
-*)
    usage
    ;;
esac

lib=$1
[ -f "$lib" ] || { echo "no such library: $lib" >&2; exit 1; }
[ -f "$LIST" ] || { echo "missing $LIST (run $0 --update)" >&2; exit 1; }

status=0
header_api > "$tmp/expected" || exit 1
if ! diff -u --label "$LIST" --label "PCMUP_API in $HEADER" "$LIST" "$tmp/expected" \
        > "$tmp/list.diff"; then
    echo "FAIL: $LIST does not match the PCMUP_API declarations (run $0 --update):"
    cat "$tmp/list.diff"
    status=1
fi

library_exports "$lib" > "$tmp/actual"
if diff -u --label "$LIST" --label "exported by $lib" "$LIST" "$tmp/actual" \
        > "$tmp/lib.diff"; then
    echo "ok: $lib exports the $(wc -l < "$LIST" | tr -d ' ') symbols of $LIST"
else
    echo "FAIL: symbols exported by $lib differ from $LIST:"
    cat "$tmp/lib.diff"
    status=1
fi
exit $status
