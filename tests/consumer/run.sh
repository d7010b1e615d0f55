#!/bin/sh
# SPDX-License-Identifier: MIT
# run.sh -- install a built libpcmup into a temporary prefix and use it the
# way a downstream project would:
#   (a) consumer.c, compiled with the flags of `pkg-config libpcmup`;
#   (b) cxx/, a CMake project using find_package(pcmup CONFIG) and
#       pcmup::pcmup.
# Each program is run and must exit 0. The prefix is removed at the end.
#
# Registered with ctest by tests/CMakeLists.txt; by hand:
#   tests/consumer/run.sh --build-dir build [--cc cc] [--cxx c++]
#
# Options (all but --build-dir have defaults):
#   --build-dir DIR     the configured and built libpcmup build tree
#   --config NAME       build configuration to install (multi-config builds)
#   --cmake PATH        cmake (default: cmake)
#   --cc PATH           C compiler for (a) (default: cc)
#   --cxx PATH          C++ compiler for (b) (default: c++)
#   --no-cxx            skip (b) and exit 77 (ctest: skipped) after (a)
#   --pkg-config PATH   pkg-config (default: pkg-config)
#   --libdir DIR        library directory relative to the prefix (default: lib)
#   --includedir DIR    header directory relative to the prefix
#                       (default: include)
#   --pkgconfigdir DIR  where libpcmup.pc goes, relative to the prefix
#                       (default: LIBDIR/pkgconfig)
#   --cmakedir DIR      where pcmupConfig.cmake goes, relative to the prefix
#                       (default: LIBDIR/cmake/pcmup)
#   --generator NAME    CMake generator for (b) (default: cmake's default)
#   --make-program PATH the generator's build tool
#   --static            the installed pcmup::pcmup is the static library:
#                       link (a) with `pkg-config --static`
#   --sanitize LIST     the library was built with -fsanitize=LIST
#                       (PCMUP_SANITIZE): build (a) and (b) with it too, as
#                       a user of such a build must (the sanitizer's runtime
#                       has to come first in the program, not in the library)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
build_dir=
config=
cmake=cmake
cc=cc
cxx=c++
pkg_config=pkg-config
libdir_rel=lib
incdir_rel=include
pcdir_rel=
cmakedir_rel=
generator=
make_program=
static=
sanitize=

die() {
    echo "FAIL: $*" >&2
    exit 1
}

while [ $# -gt 0 ]; do
    case $1 in
    --static) static=--static; shift; continue ;;
    --no-cxx) cxx=; shift; continue ;;
    esac
    [ $# -ge 2 ] || die "option $1 needs a value"
    case $1 in
    --build-dir) build_dir=$2 ;;
    --config) config=$2 ;;
    --cmake) cmake=$2 ;;
    --cc) cc=$2 ;;
    --cxx) cxx=$2 ;;
    --pkg-config) pkg_config=$2 ;;
    --libdir) libdir_rel=$2 ;;
    --includedir) incdir_rel=$2 ;;
    --pkgconfigdir) pcdir_rel=$2 ;;
    --cmakedir) cmakedir_rel=$2 ;;
    --generator) generator=$2 ;;
    --make-program) make_program=$2 ;;
    --sanitize) sanitize=-fsanitize=$2 ;;
    *) die "unknown option $1" ;;
    esac
    shift 2
done
[ -n "$build_dir" ] || die "--build-dir is required"
[ -f "$build_dir/cmake_install.cmake" ] || die "$build_dir is not a configured build tree"
pcdir_rel=${pcdir_rel:-$libdir_rel/pkgconfig}
cmakedir_rel=${cmakedir_rel:-$libdir_rel/cmake/pcmup}
for d in "$libdir_rel" "$incdir_rel" "$pcdir_rel" "$cmakedir_rel"; do
    case $d in
    /*) die "install directories must be relative to the prefix, got $d" ;;
    esac
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pcmup-consumer.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP

prefix=$tmp/prefix
libdir=$prefix/$libdir_rel
run_env="LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

echo "== install $build_dir into $prefix"
# No root needed: everything goes under the given prefix.
if [ -n "$config" ]; then
    "$cmake" --install "$build_dir" --prefix "$prefix" --config "$config"
else
    "$cmake" --install "$build_dir" --prefix "$prefix"
fi
for f in "$incdir_rel/pcmup.h" "$pcdir_rel/libpcmup.pc" "$cmakedir_rel/pcmupConfig.cmake" \
    "$cmakedir_rel/pcmupConfigVersion.cmake"; do
    [ -f "$prefix/$f" ] || die "not installed: $f"
done

echo "== (a) C consumer built with pkg-config"
PKG_CONFIG_PATH=$prefix/$pcdir_rel${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
export PKG_CONFIG_PATH
pc_prefix=$("$pkg_config" --variable=prefix libpcmup)
[ "$pc_prefix" = "$prefix" ] || die "pkg-config found libpcmup with prefix $pc_prefix, not $prefix"
flags=$("$pkg_config" $static --cflags --libs libpcmup)
# The public API is C99: compile the consumer as strict C99.
set -- "$cc" -std=c99 -pedantic -Wall -Wextra -Werror "$here/consumer.c" \
    -o "$tmp/consumer_c" $flags $sanitize
echo "$*"
"$@" || die "consumer.c did not build"
env "$run_env" "$tmp/consumer_c" || die "consumer.c failed"

echo "== (b) C++ consumer built with find_package(pcmup CONFIG)"
if [ -z "$cxx" ]; then
    echo "SKIP: no C++ compiler, the CMake package was not tested"
    exit 77
fi
set -- -S "$here/cxx" -B "$tmp/cxx-build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_PREFIX_PATH="$prefix"
[ -z "$generator" ] || set -- "$@" -G "$generator"
[ -z "$make_program" ] || set -- "$@" -DCMAKE_MAKE_PROGRAM="$make_program"
[ -z "$sanitize" ] || set -- "$@" -DCMAKE_CXX_FLAGS="$sanitize" \
    -DCMAKE_EXE_LINKER_FLAGS="$sanitize"
"$cmake" "$@" || die "cxx/ did not configure"
found=$(sed -n 's/^pcmup_DIR:[A-Z]*=//p' "$tmp/cxx-build/CMakeCache.txt")
[ "$found" = "$prefix/$cmakedir_rel" ] ||
    die "find_package(pcmup) used ${found:-nothing}, not $prefix/$cmakedir_rel"
"$cmake" --build "$tmp/cxx-build" --config Release || die "cxx/ did not build"
exe=$tmp/cxx-build/pcmup_consumer_cxx
[ -x "$exe" ] || exe=$tmp/cxx-build/Release/pcmup_consumer_cxx
env "$run_env" "$exe" || die "cxx/main.cpp failed"

echo "consumer: ok (pkg-config and CMake package from $prefix)"
