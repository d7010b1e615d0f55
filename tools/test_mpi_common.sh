# SPDX-License-Identifier: MIT
# test_mpi_common.sh -- what the tools' MPI tests share (test_sweep_mpi.sh,
# test_train_mpi.sh, test_layer_parallel_mpi.sh). Sourced after
# test_common.sh, with $launcher set.

# mpi_setup: the environment every launch needs, then a probe: a launcher
# that cannot start 2 ranks here skips every MPI check (and finishes).
mpi_setup() {
    # Open MPI refuses root unless told (CI runs as root, a user does not),
    # refuses more ranks than processors unless told, and in containers its
    # shared-memory transport's single-copy mechanism may lack the ptrace
    # rights it needs. The environment tells it all three, so the same
    # command works as root and not, and other launchers ignore them.
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    export OMPI_MCA_rmaps_base_oversubscribe=1
    export OMPI_MCA_btl_vader_single_copy_mechanism=none
    # Under AddressSanitizer (docs/testing.md), Open MPI's allocations that it
    # never frees are not the tools' leaks: lsan_mpi.supp names its libraries,
    # which only the slow unwinder reaches (they have no frame pointers), and
    # its components stay loaded so that their frames keep a name.
    export OMPI_MCA_mca_base_component_disable_dlclose=1
    export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$(cd "$(dirname "$0")" && pwd)/lsan_mpi.supp"
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
    "$launcher" -n 2 true >"$tmp/probe" 2>&1 || {
        skip "every MPI check" "$launcher -n 2 true failed: $(head -c 300 "$tmp/probe")"
        finish
    }
}

# mpi_run N ARGS...: test_common.sh's run, the program on N ranks (two
# minutes at most).
mpi_run() {
    local n=$1
    shift
    run_with=(timeout 120 "$launcher" -n "$n")
    run "$@"
    run_with=()
}
