#!/bin/sh
# SPDX-License-Identifier: MIT
# run_kernel.sh KERNEL PROGRAM [ARG...] -- runs PROGRAM with OpenBLAS forced
# to one sgemm kernel, so that the tests that train on real data are known
# to hold under any correct kernel, not only the one this machine picks.
#
# KERNEL is "default" (OPENBLAS_CORETYPE unset: what a user's fresh machine
# runs) or an OPENBLAS_CORETYPE name. A kernel this CPU cannot execute is
# skipped with exit status 77 (ctest's SKIP_RETURN_CODE), as is every named
# kernel on a CPU that is not x86-64.
set -eu
kernel=$1
shift

# The CPU flags a kernel needs (Linux /proc/cpuinfo names).
needs() {
    case $1 in
        SkylakeX|Cooperlake) echo "avx512f avx512bw avx512dq avx512vl" ;;
        Haswell|Zen) echo "avx2 fma" ;;
        Sandybridge) echo "avx" ;;
        Nehalem) echo "sse4_2" ;;
        *) echo "unknown" ;;
    esac
}

if [ "$kernel" = default ]; then
    unset OPENBLAS_CORETYPE
    exec "$@"
fi
if [ "$(uname -m)" != x86_64 ] || [ ! -r /proc/cpuinfo ]; then
    echo "skipped: kernel $kernel needs an x86-64 Linux CPU"
    exit 77
fi
flags=$(grep -m 1 '^flags' /proc/cpuinfo)
for f in $(needs "$kernel"); do
    case " $flags " in
        *" $f "*) ;;
        *) echo "skipped: this CPU lacks $f, which OpenBLAS's $kernel kernel needs"
           exit 77 ;;
    esac
done
OPENBLAS_CORETYPE=$kernel
export OPENBLAS_CORETYPE
exec "$@"
