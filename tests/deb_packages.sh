#!/bin/sh
# SPDX-License-Identifier: MIT
# deb_packages.sh -- the Debian packages of cmake/Packaging.cmake, made and
# used as a distribution would:
#   - a build for them (prefix /usr, PCMUP_DEBIAN_PACKAGES=ON, both
#     libraries) and `cpack -G DEB` give exactly libpcmup1, libpcmup-dev
#     and pcmup-tools;
#   - lintian (when installed) reports no error on any of them;
#   - dpkg unpacks them into a clean directory with its own database;
#   - consumer.c builds there against the installed header and library
#     (pkg-config, shared and static) and runs, and so do the installed
#     tools;
#   - every pcmup-train flag of --help is in its manual page, which man
#     renders (when man is installed).
# Prints the packages, their sizes and lintian's output.
#
# Usage: deb_packages.sh CMAKE CPACK SOURCE_DIR CC PKG_CONFIG
set -eu

cmake=$1 cpack=$2 src=$3 cc=$4 pkg_config=$5
for tool in dpkg dpkg-deb dpkg-shlibdeps; do
    command -v "$tool" > /dev/null 2>&1 || { echo "deb_packages: no $tool: skipped"; exit 77; }
done
work=$(mktemp -d /tmp/pcmup-deb-XXXXXX)
trap 'rm -rf "$work"' EXIT

die() {
    echo "FAIL: $*" >&2
    exit 1
}

"$cmake" -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
    -DPCMUP_DEBIAN_PACKAGES=ON -DPCMUP_BUILD_STATIC=ON -DPCMUP_BUILD_TESTS=OFF \
    -DPCMUP_BUILD_EXAMPLES=OFF -DPCMUP_BUILD_BENCH=OFF -DPCMUP_INSTALL_PYTHON=OFF \
    > "$work/configure.log" 2>&1 || { cat "$work/configure.log" >&2; die "configure"; }
"$cmake" --build "$work/build" -j2 > "$work/build.log" 2>&1 \
    || { tail -20 "$work/build.log" >&2; die "build"; }
(cd "$work/build" && "$cpack" -G DEB > "$work/cpack.log" 2>&1) \
    || { cat "$work/cpack.log" >&2; die "cpack"; }

n=$(ls "$work/build"/*.deb | wc -l)
[ "$n" = 3 ] || die "cpack made $n packages, not 3: $(ls "$work/build"/*.deb)"
for pkg in libpcmup1 libpcmup-dev pcmup-tools; do
    deb=$(ls "$work/build/${pkg}_"*.deb 2> /dev/null) || die "no package $pkg"
    [ "$(dpkg-deb -f "$deb" Package)" = "$pkg" ] || die "$deb is not $pkg"
    echo "deb_packages: $(basename "$deb"): $(wc -c < "$deb") bytes;" \
        "Depends: $(dpkg-deb -f "$deb" Depends)"
done

# lintian: errors fail the test; warnings are printed.
if command -v lintian > /dev/null 2>&1; then
    lintian --tag-display-limit 0 "$work/build"/*.deb > "$work/lintian.log" 2>&1 || true
    grep -v 'root privileges' "$work/lintian.log" | sed 's/^/deb_packages: lintian: /'
    if grep -q '^E: ' "$work/lintian.log"; then
        die "lintian reports errors"
    fi
    echo "deb_packages: lintian: no errors"
else
    echo "deb_packages: lintian not installed: not run"
fi

# Unpacked by dpkg into a clean root with its own database (no maintainer
# scripts run; the system's libraries stand in for the dependencies).
root=$work/root
mkdir -p "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/info"
: > "$root/var/lib/dpkg/status"
dpkg --root="$root" --force-not-root --force-depends --force-script-chrootless \
    --unpack "$work/build"/*.deb > "$work/dpkg.log" 2>&1 \
    || { cat "$work/dpkg.log" >&2; die "dpkg --unpack"; }
dpkg --root="$root" -L pcmup-tools | grep -q /usr/bin/pcmup-train \
    || die "dpkg does not list pcmup-train as pcmup-tools's"
triplet=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2> /dev/null || "$cc" -print-multiarch)
libdir=/usr/lib/$triplet
[ -f "$root$libdir/libpcmup.so.1" ] || die "no $libdir/libpcmup.so.1 in libpcmup1"

# The consumer against the installed files.
export PKG_CONFIG_SYSROOT_DIR="$root"
export PKG_CONFIG_LIBDIR="$root$libdir/pkgconfig:$libdir/pkgconfig:/usr/share/pkgconfig"
flags=$("$pkg_config" --cflags --libs libpcmup)
# shellcheck disable=SC2086
"$cc" "$src/tests/consumer/consumer.c" $flags -o "$work/app" || die "build against: $flags"
LD_LIBRARY_PATH="$root$libdir" "$work/app" | grep -q "consumer.c: ok" || die "consumer (shared)"
flags=$("$pkg_config" --cflags --libs libpcmup-static)
# shellcheck disable=SC2086
"$cc" "$src/tests/consumer/consumer.c" $flags -o "$work/app-static" \
    || die "build against: $flags"
"$work/app-static" | grep -q "consumer.c: ok" || die "consumer (static)"
echo "deb_packages: consumer.c built and ran against the installed packages (shared, static)"

# The tools and their pages.
for t in pcmup-train pcmup-sweep pcmup-coord pcmup-plot; do
    LD_LIBRARY_PATH="$root$libdir" "$root/usr/bin/$t" --version > /dev/null \
        || die "installed $t does not run"
    [ -f "$root/usr/share/man/man1/$t.1.gz" ] || die "no manual page for $t"
done
[ -f "$root/usr/share/man/man3/libpcmup.3.gz" ] || die "no libpcmup(3)"
page=$work/pcmup-train.1
gzip -dc "$root/usr/share/man/man1/pcmup-train.1.gz" | sed 's/\\-/-/g' > "$page"
missing=
for flag in $(LD_LIBRARY_PATH="$root$libdir" "$root/usr/bin/pcmup-train" --help \
              | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
    grep -q -- "$flag" "$page" || missing="$missing $flag"
done
[ -z "$missing" ] || die "pcmup-train(1) lacks:$missing"
if command -v man > /dev/null 2>&1; then
    MANPAGER=cat MANWIDTH=80 man -l "$root/usr/share/man/man1/pcmup-train.1.gz" 2> /dev/null \
        | grep -q -- "--resume" || die "man does not render pcmup-train(1)"
    echo "deb_packages: man -l renders pcmup-train(1)"
fi
echo "deb_packages: tools run, every pcmup-train flag is in its page"
