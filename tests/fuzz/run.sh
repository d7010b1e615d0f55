#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds the fuzzers with clang (in BUILD, default build-fuzz/) and runs one
# of them, from the repository root:
#
#     tests/fuzz/run.sh TARGET [SECONDS] [LIBFUZZER_OPTION...]
#
# TARGET is idx, idx_gzip, jsonl, netdesc, cifar or safetensors; SECONDS defaults to 600. The fuzzer
# starts from the committed corpus (tests/fuzz/corpus/TARGET/, only read)
# and keeps what it finds in BUILD/corpus-TARGET/; a crash or a broken
# invariant is written to BUILD/crash-TARGET-* (README.md says what to do
# with it). Runs under nice: the machine is shared.
set -eu
target=${1:?usage: tests/fuzz/run.sh TARGET [SECONDS] [LIBFUZZER_OPTION...]}
seconds=${2:-600}
shift
[ $# -gt 0 ] && shift
build=${BUILD:-build-fuzz}
src=$(cd "$(dirname "$0")/../.." && pwd)

if [ ! -f "$build/CMakeCache.txt" ]; then
    CC=${CC:-clang} cmake -S "$src" -B "$build" -DPCMUP_FUZZ=ON \
        -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-g -O1" \
        -DPCMUP_BUILD_TOOLS=OFF -DPCMUP_BUILD_EXAMPLES=OFF -DPCMUP_BUILD_BENCH=OFF
fi
nice cmake --build "$build" -j2 --target "fuzz_$target"
mkdir -p "$build/corpus-$target"
exec nice "$build/tests/fuzz/fuzz_$target" -max_total_time="$seconds" \
    -print_final_stats=1 -artifact_prefix="$build/crash-$target-" \
    "$@" "$build/corpus-$target" "$src/tests/fuzz/corpus/$target"
