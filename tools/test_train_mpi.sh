#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_train_mpi.sh -- pcmup-train under an MPI launcher, data-parallel,
# on one machine.
#
#   test_train_mpi.sh PATH/TO/pcmup-train PATH/TO/mpirun
#
# With 2 and 3 ranks (oversubscribed where the machine has fewer
# processors), --json equals the single-process run with the same global
# --batch, seeds and --threads 1, to float rounding, for every rule: BP,
# PC (default; simultaneous with a tolerance; random initial states), TP
# and DTP (closed-form and trained feedback), GNT (batch variant on both
# sides of its system, per-sample variant). Rank 0 alone prints and writes
# --save. Needs bash and jq.
set -u

prog=${1:?usage: test_train_mpi.sh PATH/TO/pcmup-train PATH/TO/mpirun}
launcher=${2:?usage: test_train_mpi.sh PATH/TO/pcmup-train PATH/TO/mpirun}
command -v jq >/dev/null || { echo "FAIL: jq is needed"; exit 1; }
name=pcmup-train
# shellcheck source=test_common.sh
source "$(dirname "$0")/test_common.sh"

# shellcheck source=test_mpi_common.sh
source "$(dirname "$0")/test_mpi_common.sh"
mpi_setup

# 2 epochs of 8 global batches of 32 (split 16/16 and 11/11/10), a modest
# rate: enough steps for a missed or doubled sum to move the losses far
# beyond rounding.
base=(--synthetic --train-limit 256 --test-limit 128 --epochs 2 --batch 32 --threads 1
      --width 32 --lr 0.05 --json)

# Tolerance: the ranks add the batch sums in another order than the single
# process (per rank, then across ranks), about 1e-7 relative per float32
# sum. Measured on these runs: at most 7.4e-8 relative on the losses
# (GNT's Gram side, 3 ranks), accuracy equal; the hook's own test saw
# 1.3e-6 after more steps. 1e-4 leaves room for other BLAS kernels and
# still fails on any missing share of a batch: ranks that skip the sum
# (each training on its own share) move the losses by 30% or more
# (checked by breaking train_mpi.c's sum). Accuracy: equal but for one
# test sample whose prediction sits at a tie.
close() {
    jq -n --argjson a "$1" --argjson b "$2" --argjson n "$3" '
        def rel(x; y): ((x - y) | fabs) / ([(x | fabs), (y | fabs), 1e-30] | max);
        rel($a.train_loss; $b.train_loss) <= 1e-4 and rel($a.test_loss; $b.test_loss) <= 1e-4
        and (if $a.final_energy then rel($a.final_energy; $b.final_energy) <= 1e-4 else true end)
        and (($a.test_acc - $b.test_acc) | fabs) * $n <= 1.0001
        and $b.ranks == $n_ranks' --argjson n_ranks "$4"
}

# check_rule WHAT ARGS...: 1 process against 2 and 3 ranks.
check_rule() {
    local what=$1 n single multi
    shift
    run "${base[@]}" "$@"
    [ "$status" -eq 0 ] || { fail "$what: the single process failed: $(cat "$tmp/err")"; return; }
    single=$(cat "$tmp/out")
    for n in 2 3; do
        mpi_run "$n" "${base[@]}" "$@"
        [ "$status" -eq 0 ] || { fail "$what, $n ranks: exit $status: $(head -c 400 "$tmp/err")"; continue; }
        [ "$(wc -l <"$tmp/out")" -eq 1 ] || { fail "$what, $n ranks: one JSON line expected: $(cat "$tmp/out")"; continue; }
        multi=$(cat "$tmp/out")
        [ "$(close "$single" "$multi" 128 "$n")" = true ] \
            || fail "$what, $n ranks: differs from one process:
  1: $(jq -c '{train_loss, test_loss, test_acc, final_energy}' <<<"$single")
  $n: $(jq -c '{train_loss, test_loss, test_acc, final_energy, ranks}' <<<"$multi")"
        [ "$(jq '.comm_bytes_per_step > 0' <<<"$multi")" = true ] \
            || fail "$what, $n ranks: nothing communicated: $multi"
        [ "$(grep -c '^epoch 2/2 ' "$tmp/err")" -eq 1 ] \
            || fail "$what, $n ranks: progress lines from rank 0 alone expected: $(cat "$tmp/err")"
    done
}

check_rule bp --algo bp
check_rule "pc" --algo pc --T 4
check_rule "pc sim, tolerance" --algo pc --T 8 --schedule sim --tolerance 0.01
check_rule "pc random init" --algo pc --T 4 --init random --init-std 0.5
check_rule "tp closed" --algo tp --feedback closed
check_rule "tp trained" --algo tp --feedback trained
check_rule "dtp closed" --algo dtp --feedback closed
check_rule "dtp trained" --algo dtp --feedback trained
check_rule "gnt batch" --algo gnt --gnt-variant batch
check_rule "gnt sample" --algo gnt --gnt-variant sample
# The batch variant's Gram side (B C = 160 < M_l = 256): the gathered
# Jacobian rows.
check_rule "gnt batch, Gram side" --algo gnt --gnt-variant batch --width 256 --batch 16

# The reducer is what makes the ranks one run: without it each rank would
# train on every sample alone and print the single process's numbers, so
# the bytes are held to the parameters' count, independently: BP sums
# each layer's gradient (64x32, 32x32, 32x10 floats, no biases) and the
# loss (one double) per step.
mpi_run 2 "${base[@]}" --algo bp
[ "$(jq '.comm_bytes_per_step' "$tmp/out")" = $((4 * (64 * 32 + 32 * 32 + 32 * 10) + 8)) ] \
    || fail "bp, 2 ranks: $((4 * (64 * 32 + 32 * 32 + 32 * 10) + 8)) bytes per step expected: $(cat "$tmp/out")"

# --save: written by rank 0 alone, and a single process resumes from it
# as from its own checkpoint.
mpi_run 2 "${base[@]}" --algo bp --epochs 1 --save "$tmp/dp.ckpt"
[ "$status" -eq 0 ] || fail "--save under MPI: exit $status: $(cat "$tmp/err")"
run "${base[@]}" --algo bp --epochs 1 --save "$tmp/one.ckpt"
run --resume "$tmp/dp.ckpt" --epochs 1 --json
[ "$status" -eq 0 ] || fail "resuming the MPI run's checkpoint: $(cat "$tmp/err")"
dp=$(cat "$tmp/out")
run --resume "$tmp/one.ckpt" --epochs 1 --json
[ "$(close "$(cat "$tmp/out")" "$(jq '. + {ranks: 1}' <<<"$dp")" 128 1)" = true ] \
    || fail "the MPI run's checkpoint resumes to another run: $dp vs $(cat "$tmp/out")"

# One rank's own failure: rank 0 cannot write the checkpoint of epoch 1
# while rank 1 goes on into epoch 2's sums, waiting for rank 0 for good.
# Rank 0 ends the job (tool_mpi_finish's 10 s wait) with status 1 and says
# why; timeout's 124 means the job hung.
mpi_run 2 "${base[@]}" --algo bp --epochs 3 --checkpoint-every 1 \
    --save "$tmp/no-such-dir/dp.ckpt"
[ "$status" -eq 1 ] && grep -q "cannot write" "$tmp/err" \
    || fail "rank 0 failing alone: exit 1 and its message expected: $status $(cat "$tmp/err")"

# A usage error: said once, by rank 0.
mpi_run 3 "${base[@]}" --width 0
[ "$status" -eq 2 ] && [ "$(grep -c '^pcmup-train: ' "$tmp/err")" -eq 1 ] \
    || fail "a usage error under MPI: exit 2 and one message expected: $status $(cat "$tmp/err")"

finish
