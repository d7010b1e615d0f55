#!/bin/sh
# SPDX-License-Identifier: MIT
# install_tree.sh -- what `cmake --install` writes, and that `uninstall`
# takes it back:
#   - the installed tools run from a private prefix without
#     LD_LIBRARY_PATH (their run path is $ORIGIN-relative);
#   - the README, CHANGELOG, LICENSE and docs/ are in share/doc/libpcmup;
#   - the uninstall target removes every installed file and leaves no
#     directory of its own behind.
#
# Usage: install_tree.sh CMAKE BUILD_DIR LIBDIR BINDIR
# (ctest passes them; the prefix is a new temporary directory).
set -eu

cmake=$1 build=$2 libdir=$3 bindir=$4
prefix=$(mktemp -d /tmp/pcmup-install-XXXXXX)
trap 'rm -rf "$prefix"' EXIT

die() {
    echo "FAIL: $*" >&2
    exit 1
}

"$cmake" --install "$build" --prefix "$prefix" > /dev/null

# The tools: run without help from the environment, from another directory.
for tool in pcmup-train pcmup-sweep pcmup-coord pcmup-plot; do
    exe=$prefix/$bindir/$tool
    [ -x "$exe" ] || die "$tool was not installed in $bindir"
    out=$(cd / && env -u LD_LIBRARY_PATH "$exe" --version 2>&1) \
        || die "installed $tool does not run: $out"
    case $out in
    *libpcmup*) ;;
    *) die "$tool --version printed: $out" ;;
    esac
done
if command -v readelf > /dev/null 2>&1; then
    readelf -d "$prefix/$bindir/pcmup-train" | grep -q 'RUNPATH.*\$ORIGIN' \
        || die "pcmup-train's run path is not \$ORIGIN-relative"
fi
# Moved elsewhere, the tree still works: nothing absolute was recorded.
moved=$prefix.moved
mv "$prefix" "$moved"
(cd / && env -u LD_LIBRARY_PATH "$moved/$bindir/pcmup-train" --version > /dev/null) \
    || { mv "$moved" "$prefix"; die "a moved prefix's pcmup-train does not run"; }
mv "$moved" "$prefix"

# The documentation.
doc=$prefix/share/doc/libpcmup
for f in README.md CHANGELOG.md LICENSE docs/checkpoints.md docs/api.md; do
    [ -f "$doc/$f" ] || die "$doc/$f was not installed"
done
grep -q "MIT License" "$doc/LICENSE" || die "the installed LICENSE is not the MIT license"

# Uninstall: every file goes, and the directories it leaves empty.
n=$(find "$prefix" -type f | wc -l)
"$cmake" --build "$build" --target uninstall > /dev/null
left=$(find "$prefix" -mindepth 1 2> /dev/null | head -n 5)
[ -z "$left" ] || die "uninstall left: $left"
echo "install_tree: $n files installed, tools run from the prefix, uninstall removed them all"
