#!/bin/sh
# SPDX-License-Identifier: MIT
# static_link.sh -- the README's static recipe, tried as a user would:
# libpcmup built with both libraries, installed into a temporary prefix,
# and consumer.c linked through `pkg-config libpcmup-static`
#   (a) with the static libpcmup and the system's shared libraries: the
#       program must not need libpcmup.so although it is installed too;
#   (b) fully static (cc -static, with --static), when the C library's and
#       libgfortran's static archives are installed (else (b) is skipped
#       with a message and the test still passes on (a)).
# Each program must run and exit 0.
#
# Usage: static_link.sh CMAKE SOURCE_DIR CC PKG_CONFIG
set -eu

cmake=$1 src=$2 cc=$3 pkg_config=$4
work=$(mktemp -d /tmp/pcmup-static-XXXXXX)
trap 'rm -rf "$work"' EXIT

die() {
    echo "FAIL: $*" >&2
    exit 1
}

"$cmake" -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DPCMUP_BUILD_STATIC=ON \
    -DPCMUP_BUILD_SHARED=ON -DPCMUP_BUILD_TESTS=OFF -DPCMUP_BUILD_TOOLS=OFF \
    -DPCMUP_BUILD_EXAMPLES=OFF -DPCMUP_BUILD_BENCH=OFF -DCMAKE_INSTALL_LIBDIR=lib \
    > "$work/configure.log" 2>&1 || { cat "$work/configure.log" >&2; die "configure"; }
"$cmake" --build "$work/build" -j2 > "$work/build.log" 2>&1 \
    || { tail -20 "$work/build.log" >&2; die "build"; }
"$cmake" --install "$work/build" --prefix "$work/prefix" > /dev/null
[ -f "$work/prefix/lib/libpcmup.so" ] || die "the shared library was not installed beside"
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"

# (a) the static libpcmup, shared system libraries.
flags=$("$pkg_config" --cflags --libs libpcmup-static)
# shellcheck disable=SC2086
"$cc" "$src/tests/consumer/consumer.c" $flags -o "$work/app" || die "link (a): $flags"
if readelf -d "$work/app" | grep -q 'NEEDED.*libpcmup'; then
    die "(a) needs libpcmup.so: the linker took the shared library"
fi
(cd / && env -u LD_LIBRARY_PATH "$work/app") > "$work/a.out" || die "(a) does not run"
grep -q "consumer.c: ok" "$work/a.out" || die "(a) printed: $(cat "$work/a.out")"
echo "static_link: (a) static libpcmup, shared system libraries: ok"

# (b) fully static.
for lib in libc.a libgfortran.a libquadmath.a; do
    case $("$cc" -print-file-name="$lib") in
    /*) ;;
    *) echo "static_link: (b) skipped: no $lib (a fully static link needs it)"; exit 0 ;;
    esac
done
flags=$("$pkg_config" --static --cflags --libs libpcmup-static)
# shellcheck disable=SC2086
"$cc" -static "$src/tests/consumer/consumer.c" $flags -o "$work/app-static" 2> "$work/b.log" \
    || { cat "$work/b.log" >&2; die "link (b): -static $flags"; }
if readelf -d "$work/app-static" 2> /dev/null | grep -q NEEDED; then
    die "(b) still needs shared libraries"
fi
"$work/app-static" > "$work/b.out" || die "(b) does not run"
grep -q "consumer.c: ok" "$work/b.out" || die "(b) printed: $(cat "$work/b.out")"
echo "static_link: (b) fully static: ok"
