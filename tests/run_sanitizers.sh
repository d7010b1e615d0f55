#!/bin/sh
# SPDX-License-Identifier: MIT
# run_sanitizers.sh -- the sanitizer builds of the test suite, after the
# ordinary one (README.md's test command, and so CI, runs it last):
#
#   build-asan  everything (library, tests, tools, examples) with
#               -DPCMUP_SANITIZE=address,undefined, then the whole ctest
#               suite there (the real-data test once, not once per BLAS
#               kernel; ctest lists the repeats as disabled)
#   build-tsan  the library, test_threads, test_data_parallel, test_layer_parallel
#               and a race canary with
#               -DPCMUP_SANITIZE=thread, then the tests labelled `threads`
#
# Every report stops its program with exit status 86 and fails the test
# (cmake/Sanitize.cmake); docs/testing.md has the details and timings.
# Each step prints its wall time. Run from anywhere; the build directories
# go in the repository root, like build/.
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

step() {
    what=$1
    shift
    echo "+ $*"
    t0=$(date +%s)
    "$@"
    echo "== $what: $(($(date +%s) - t0)) s"
}

step "asan configure" cmake -S . -B build-asan -DPCMUP_SANITIZE=address,undefined
step "asan build" cmake --build build-asan -j"$jobs"
step "asan ctest" ctest --test-dir build-asan --output-on-failure -j"$jobs"

step "tsan configure" cmake -S . -B build-tsan -DPCMUP_SANITIZE=thread \
    -DPCMUP_BUILD_TOOLS=OFF -DPCMUP_BUILD_EXAMPLES=OFF -DPCMUP_BUILD_BENCH=OFF
step "tsan build" cmake --build build-tsan -j"$jobs" --target test_threads test_data_parallel \
    test_layer_parallel \
    sanitizer_canary
step "tsan ctest" ctest --test-dir build-tsan --output-on-failure -L threads
