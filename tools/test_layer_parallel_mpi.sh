#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_layer_parallel_mpi.sh -- pcmup-train --layer-parallel under an MPI
# launcher, on one machine.
#
#   test_layer_parallel_mpi.sh PATH/TO/pcmup-train PATH/TO/mpirun
#
# With 2, 3 and 4 ranks (oversubscribed where the machine has fewer
# processors) each owning a block of the 4 layers, --json equals the
# single-process simultaneous run with the same seeds and --threads 1:
# forward, zero and random initial states, FPA, a tolerance, momentum. The
# bytes exchanged per step are held to a count made here from the widths,
# and a checkpoint written by rank 0 resumes as the single process's does.
# Needs bash and jq.
set -u

prog=${1:?usage: test_layer_parallel_mpi.sh PATH/TO/pcmup-train PATH/TO/mpirun}
launcher=${2:?usage: test_layer_parallel_mpi.sh PATH/TO/pcmup-train PATH/TO/mpirun}
command -v jq >/dev/null || { echo "FAIL: jq is needed"; exit 1; }
name=pcmup-train
# shellcheck source=test_common.sh
source "$(dirname "$0")/test_common.sh"

# A usage error needs no launcher: --layer-parallel is PC's, simultaneous.
run --synthetic --algo bp --layer-parallel
[ "$status" -eq 2 ] || fail "--layer-parallel with bp: exit 2 expected: $status $(cat "$tmp/err")"
run --synthetic --algo pc --schedule seq --layer-parallel
[ "$status" -eq 2 ] || fail "--layer-parallel, sequential: exit 2 expected: $status $(cat "$tmp/err")"
# Without a launcher: a clear runtime error.
run --synthetic --algo pc --schedule sim --layer-parallel
[ "$status" -eq 1 ] && grep -q -- '--layer-parallel: needs MPI' "$tmp/err" \
    || fail "--layer-parallel without MPI: exit 1 and a message expected: $status $(cat "$tmp/err")"

# shellcheck source=test_mpi_common.sh
source "$(dirname "$0")/test_mpi_common.sh"
mpi_setup

# 2 epochs of 8 batches of 32 on a net of 4 layers (widths 64 32 32 32 10),
# a step size large enough that inference moves the states far.
base=(--synthetic --train-limit 256 --test-limit 128 --epochs 2 --batch 32 --threads 1
      --width 32 --depth 4 --lr 0.05 --kappa 0.3 --algo pc --schedule sim --json)

# Tolerance: every rank computes its layers exactly as the single process
# does and the sums over ranks add zeros, so the numbers are the same bits
# (measured: equal in every digit JSON prints). 1e-6 relative leaves room
# for a BLAS that blocks differently per process, and still fails on any
# exchange that is missing or misplaced: dropping the backward message or
# the states' moves shifts the losses by 1e-3 and more (checked by
# breaking train_mpi.c's exchange).
close() {
    jq -n --argjson a "$1" --argjson b "$2" '
        def rel(x; y): ((x - y) | fabs) / ([(x | fabs), (y | fabs), 1e-30] | max);
        rel($a.train_loss; $b.train_loss) <= 1e-6 and rel($a.test_loss; $b.test_loss) <= 1e-6
        and rel($a.final_energy; $b.final_energy) <= 1e-6 and $a.test_acc == $b.test_acc'
}

# check WHAT MESSAGES ARGS...: 1 process against 2, 3 and 4 ranks, and the
# bytes each boundary carries per step: MESSAGES matrices of 32 x 32
# floats (the forward pass's, then two per iteration, one fewer under FPA,
# and one more before the first iteration from other than forward states).
check() {
    local what=$1 messages=$2 n single multi want
    shift 2
    run "${base[@]}" "$@"
    [ "$status" -eq 0 ] || { fail "$what: the single process failed: $(cat "$tmp/err")"; return; }
    single=$(cat "$tmp/out")
    for n in 2 3 4; do
        mpi_run "$n" "${base[@]}" "$@" --layer-parallel
        [ "$status" -eq 0 ] || { fail "$what, $n ranks: exit $status: $(head -c 400 "$tmp/err")"; continue; }
        [ "$(wc -l <"$tmp/out")" -eq 1 ] || { fail "$what, $n ranks: one JSON line expected: $(cat "$tmp/out")"; continue; }
        multi=$(cat "$tmp/out")
        [ "$(close "$single" "$multi")" = true ] \
            || fail "$what, $n ranks: differs from one process:
  1: $(jq -c '{train_loss, test_loss, test_acc, final_energy}' <<<"$single")
  $n: $(jq -c '{train_loss, test_loss, test_acc, final_energy, ranks}' <<<"$multi")"
        want=$(( (n - 1) * messages * 32 * 32 * 4 ))
        [ "$(jq ".layer_parallel == true and .ranks == $n and .exchange_bytes_per_step == $want" <<<"$multi")" = true ] \
            || fail "$what, $n ranks: $want bytes exchanged per step expected: $multi"
        [ "$(grep -c '^epoch 2/2 ' "$tmp/err")" -eq 1 ] \
            || fail "$what, $n ranks: progress lines from rank 0 alone expected: $(cat "$tmp/err")"
    done
}

check "forward init, T 6" 13 --T 6
check "zero init, T 6, momentum" 14 --T 6 --init zero --momentum 0.5
check "random init, T 20" 42 --T 20 --init random --init-std 0.5 --kappa 0.2
check "fpa, T 5" 6 --T 5 --fpa on
check "tolerance" 41 --T 20 --tolerance 0.0001 --kappa 0.2

# More ranks than layers: a clear error, said once.
mpi_run 5 "${base[@]}" --T 2 --layer-parallel
[ "$status" -ne 0 ] && [ "$(grep -c '5 ranks for 4 layers' "$tmp/err")" -eq 1 ] \
    || fail "5 ranks for 4 layers: an error said once expected: $status $(cat "$tmp/err")"

# --save: rank 0 writes the synced network; a single process resumes from
# it as from its own run's checkpoint.
mpi_run 2 "${base[@]}" --T 4 --momentum 0.5 --epochs 1 --layer-parallel --save "$tmp/lp.ckpt"
[ "$status" -eq 0 ] || fail "--save, layer-parallel: exit $status: $(cat "$tmp/err")"
run "${base[@]}" --T 4 --momentum 0.5 --epochs 1 --save "$tmp/one.ckpt"
run --resume "$tmp/lp.ckpt" --epochs 1 --json
[ "$status" -eq 0 ] || fail "resuming the layer-parallel checkpoint: $(cat "$tmp/err")"
lp=$(cat "$tmp/out")
run --resume "$tmp/one.ckpt" --epochs 1 --json
[ "$(close "$(cat "$tmp/out")" "$lp")" = true ] \
    || fail "the layer-parallel checkpoint resumes to another run: $lp vs $(cat "$tmp/out")"
# ... and 3 layer-parallel ranks resume from the single process's
# checkpoint (momentum included: each rank takes its own layers') as the
# single process does.
one=$(cat "$tmp/out")
mpi_run 3 --resume "$tmp/one.ckpt" --epochs 1 --layer-parallel --json
[ "$status" -eq 0 ] || fail "--resume, layer-parallel: exit $status: $(cat "$tmp/err")"
[ "$(close "$one" "$(cat "$tmp/out")")" = true ] \
    || fail "--resume on 3 layer-parallel ranks differs from one process: $one vs $(cat "$tmp/out")"

finish
