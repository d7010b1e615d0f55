#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_sweep_mpi.sh -- pcmup-sweep under an MPI launcher, on one machine.
#
#   test_sweep_mpi.sh PATH/TO/pcmup-sweep PATH/TO/mpirun [PATH/TO/libpcmup.so]
#
# With 2 and 3 ranks (oversubscribed where the machine has fewer
# processors): the rows of a serial --jobs 1 --threads 1 sweep, byte for
# byte but for the timing keys and in the grid's order, written once, by
# rank 0; resuming (a deleted row, a job killed half-way); --shard; --jobs
# refused; one rank as without MPI; a rank that dies or a SIGTERM ends the
# job with a non-zero status, no hang, and a rerun finishes the grid. The
# library itself links no MPI. Needs bash and jq.
set -u

prog=${1:?usage: test_sweep_mpi.sh PATH/TO/pcmup-sweep PATH/TO/mpirun [LIBRARY]}
launcher=${2:?usage: test_sweep_mpi.sh PATH/TO/pcmup-sweep PATH/TO/mpirun [LIBRARY]}
library=${3:-}
command -v jq >/dev/null || { echo "FAIL: jq is needed"; exit 1; }
name=pcmup-sweep
# shellcheck source=test_common.sh
source "$(dirname "$0")/test_common.sh"

# shellcheck source=test_mpi_common.sh
source "$(dirname "$0")/test_mpi_common.sh"
mpi_setup

# mpi_expect CODE N ARGS...: pcmup-sweep on N ranks exits with CODE, as
# expect checks; the launcher gets two minutes.
mpi_expect() {
    local code=$1 n=$2 rc
    shift 2
    run_with=(timeout 120 "$launcher" -n "$n")
    expect "$code" "$@"
    rc=$?
    run_with=()
    return $rc
}

# jq_true FILE FILTER WHAT: the filter (over all rows, slurped) is true.
jq_true() {
    [ "$(jq -s "$2" "$1")" = true ] || fail "$3: $(jq -s -c "$2" "$1")"
}

# The rows without the keys that time the run.
untimed() {
    jq -c 'del(.seconds, .samples_per_second)' "$1"
}

# same_rows A B WHAT: identical rows in the same order, timing aside.
same_rows() {
    [ "$(untimed "$1")" = "$(untimed "$2")" ] \
        || fail "$3: the rows differ: $(diff <(untimed "$1") <(untimed "$2") | head -c 600)"
}

# same_grid A B WHAT: the same rows in any order, timing aside.
same_grid() {
    [ "$(jq -s -c 'sort_by(.width, .lr) | map(del(.seconds, .samples_per_second))' "$1")" \
        = "$(jq -s -c 'sort_by(.width, .lr) | map(del(.seconds, .samples_per_second))' "$2")" ] \
        || fail "$3: the rows differ"
}

# The tiny grid: 2 widths x 3 rates, 1 epoch.
tiny=(--synthetic --train-limit 256 --test-limit 128 --epochs 1 --widths 16,32 --log2-lr -3:-1)


# The serial reference every MPI run is held to.
run "${tiny[@]}" --jobs 1 --threads 1 --out "$tmp/serial.jsonl"
[ "$status" -eq 0 ] || { fail "the serial sweep failed: $(cat "$tmp/err")"; finish; }

# (a) 2 and 3 ranks: the serial rows, in its order, each once, said once.
test_rows() {
    local n
    for n in 2 3; do
        mpi_expect 0 "$n" "${tiny[@]}" --out "$tmp/r$n.jsonl" || continue
        same_rows "$tmp/serial.jsonl" "$tmp/r$n.jsonl" "$n ranks"
        [ "$(grep -c "^pcmup-sweep: $n MPI ranks, one point at a time each, 1 BLAS thread each$" \
            "$tmp/err")" -eq 1 ] || fail "$n ranks: not announced once: $(cat "$tmp/err")"
        [ "$(grep -c '^\[[1-6]/6\] width ' "$tmp/err")" -eq 6 ] \
            || fail "$n ranks: 6 progress lines expected (rank 0 alone): $(cat "$tmp/err")"
        [ "$(grep -c '^ *16 *2^' "$tmp/out")" -eq 1 ] \
            || fail "$n ranks: the summary table once expected: $(cat "$tmp/out")"
    done
    # --threads T is each point's, as in a serial sweep.
    mpi_expect 0 2 "${tiny[@]}" --threads 2 --out "$tmp/t2.jsonl" || return
    jq_true "$tmp/t2.jsonl" 'all(.threads == 2)' "--threads 2 under MPI"
    run "${tiny[@]}" --jobs 1 --threads 2 --out "$tmp/serial2.jsonl"
    same_rows "$tmp/serial2.jsonl" "$tmp/t2.jsonl" "--threads 2 under MPI"
}

# (b) resuming: a rerun adds nothing; a deleted row runs again, alone.
test_resume() {
    cp "$tmp/r2.jsonl" "$tmp/b.jsonl"
    mpi_expect 0 3 "${tiny[@]}" --out "$tmp/b.jsonl" || return
    cmp -s "$tmp/r2.jsonl" "$tmp/b.jsonl" || fail "an MPI rerun changed the file"
    grep -q 'skipped 6 of 6 points' "$tmp/err" || fail "no skip message: $(cat "$tmp/err")"
    grep -v '"width":32,.*"log2_lr":-2,' "$tmp/serial.jsonl" >"$tmp/b.jsonl"
    mpi_expect 0 2 "${tiny[@]}" --out "$tmp/b.jsonl" || return
    grep -q 'skipped 5 of 6 points' "$tmp/err" || fail "expected 5 skipped: $(cat "$tmp/err")"
    grep -q '^\[1/1\] width 32 lr 2^-2 ' "$tmp/err" || fail "the wrong point ran: $(cat "$tmp/err")"
    same_grid "$tmp/serial.jsonl" "$tmp/b.jsonl" "resumed under MPI"
}

# (c) --shard under MPI: the serial sweep's shard.
test_shard() {
    mpi_expect 0 3 "${tiny[@]}" --shard 2/3 --out "$tmp/c.jsonl" || return
    jq_true "$tmp/c.jsonl" '[.[] | [.width, .log2_lr]] == [[16,-2],[32,-2]]' "--shard 2/3"
    same_rows <(grep -E '"log2_lr":-2,' "$tmp/serial.jsonl") "$tmp/c.jsonl" "--shard 2/3"
}

# (d) --jobs above 1 is refused under MPI, once; one rank is the plain sweep.
test_jobs_and_one_rank() {
    mpi_expect 2 2 "${tiny[@]}" --jobs 2 --out "$tmp/never.jsonl" || return
    [ "$(grep -c '^pcmup-sweep: --jobs 2: under MPI' "$tmp/err")" -eq 1 ] \
        || fail "--jobs 2 under MPI: one message from rank 0 expected: $(cat "$tmp/err")"
    [ -e "$tmp/never.jsonl" ] && fail "--jobs 2 under MPI created --out"
    mpi_expect 0 2 "${tiny[@]}" --jobs 1 --out "$tmp/j1.jsonl" || return
    same_rows "$tmp/serial.jsonl" "$tmp/j1.jsonl" "--jobs 1 under MPI"
    mpi_expect 0 1 "${tiny[@]}" --jobs 1 --threads 1 --out "$tmp/one.jsonl" || return
    grep -q 'MPI ranks' "$tmp/err" && fail "one rank scheduled over MPI: $(cat "$tmp/err")"
    same_rows "$tmp/serial.jsonl" "$tmp/one.jsonl" "one rank"
    # A usage error: said once, by rank 0.
    mpi_expect 2 3 "${tiny[@]}" --widths 0 --out "$tmp/never.jsonl" || return
    [ "$(grep -c '^pcmup-sweep: ' "$tmp/err")" -eq 1 ] \
        || fail "a usage error said more than once: $(cat "$tmp/err")"
}

# A job of 4 points of about a second or more each on 2 ranks, started in
# the background: pid is the launcher's, ranks its children once both run.
start_long_job() {
    "$launcher" -n 2 "$prog" --synthetic --train-limit 8192 --test-limit 128 --epochs 250 \
        --widths 64 --log2-lr -5:-2 --out "$tmp/$1.jsonl" >"$tmp/out" 2>"$tmp/err" &
    pid=$!
    local i
    for i in $(seq 100); do
        ranks=$(pgrep -f -- "--out $tmp/$1.jsonl" | grep -vx "$pid")
        [ "$(echo "$ranks" | wc -w)" -eq 2 ] && grep -q 'MPI ranks' "$tmp/err" && return 0
        sleep 0.1
    done
    fail "no 2 ranks under launcher pid $pid"
    return 1
}

# The job ends within a minute with a non-zero status, no rank is left,
# the rows written are JSON lines, and a rerun finishes the grid.
expect_ended() {
    local r
    timeout 60 tail --pid="$pid" -f /dev/null || fail "the job hangs after $1"
    wait "$pid"
    [ $? -ne 0 ] || fail "a non-zero exit status expected after $1"
    # The launcher may return while its ranks are still being ended.
    for r in $ranks; do
        timeout 10 tail --pid="$r" -f /dev/null || fail "rank pid $r outlived the job after $1"
    done
    jq -s . "$tmp/$2.jsonl" >/dev/null || fail "$1: the rows written are not JSON lines"
    mpi_expect 0 2 --synthetic --train-limit 8192 --test-limit 128 --epochs 250 \
        --widths 64 --log2-lr -5:-2 --out "$tmp/$2.jsonl" || return
    jq_true "$tmp/$2.jsonl" '[.[].log2_lr] | sort == [-5,-4,-3,-2]' "$1: the rerun finished the grid"
}

# (e) a rank that dies, and a SIGTERM to the launcher.
test_failures() {
    local pid ranks r
    command -v pgrep >/dev/null || { skip "MPI failures" "no pgrep"; return; }
    start_long_job k || return
    for r in $ranks; do
        tr '\0' '\n' <"/proc/$r/environ" 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=1' \
            && kill -KILL "$r"
    done
    expect_ended "rank 1 was killed" k
    start_long_job q || return
    kill -TERM "$pid"
    expect_ended "SIGTERM to the launcher" q
}

# (f) the library links no MPI: only the tools do.
test_library() {
    [ -n "$library" ] && [ "${library%.so*}" != "$library" ] || return 0
    ldd "$library" | grep -q 'libmpi' && fail "$library links MPI: $(ldd "$library" | grep mpi)"
}

test_rows
test_resume
test_shard
test_jobs_and_one_rank
test_failures
test_library

finish
