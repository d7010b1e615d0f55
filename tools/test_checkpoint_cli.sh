#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_checkpoint_cli.sh -- checks pcmup-train's --save, --resume and
# --checkpoint-every.
#
#   test_checkpoint_cli.sh PATH/TO/pcmup-train
#
# For every learning rule (and a CNN): two epochs in one run write the same
# file, byte for byte, as one epoch, saved, then resumed in a new process
# for one more. A flag that contradicts a checkpoint is a usage error
# (exit 2), one that agrees is not; a missing, truncated or damaged
# checkpoint is a runtime failure (exit 1) whose message names the file.
# Everything runs on the --synthetic problem, so nothing is skipped.
# Needs bash, cmp, head, python3 (to flip a bit) and jq.
set -u

prog=${1:?usage: test_checkpoint_cli.sh PATH/TO/pcmup-train}
name=pcmup-train
# shellcheck source=test_common.sh
source "$(dirname "$0")/test_common.sh"

# Small and fast; one BLAS thread, as exact resumption needs the same
# thread count in both processes.
common=(--synthetic --train-limit 256 --test-limit 64 --batch 32 --threads 1 --seed 3)

# resume_equal LABEL ARGS...: A = 2 epochs; B = 1 epoch; C = --resume B,
# 1 epoch. A and C must be the same file.
resume_equal() {
    local label=$1
    shift
    expect 0 "${common[@]}" "$@" --epochs 2 --save "$tmp/$label.a" || return
    expect 0 "${common[@]}" "$@" --epochs 1 --save "$tmp/$label.b" || return
    expect 0 --resume "$tmp/$label.b" --epochs 1 --threads 1 --save "$tmp/$label.c" || return
    grep -q '^epoch 2/2 ' "$tmp/err" || fail "$label: the resumed epoch is not numbered 2/2: $(cat "$tmp/err")"
    cmp -s "$tmp/$label.a" "$tmp/$label.c" ||
        fail "$label: 2 epochs and 1 + 1 resumed epochs give different checkpoints"
    # Independent of the file: the resumed run's results are the
    # uninterrupted run's, as JSON.
    expect 0 "${common[@]}" "$@" --epochs 2 --json || return
    tail -n 1 "$tmp/out" | jq -c '{test_loss, test_acc, train_loss}' >"$tmp/$label.a.json"
    expect 0 --resume "$tmp/$label.b" --epochs 1 --threads 1 --json || return
    tail -n 1 "$tmp/out" | jq -c '{test_loss, test_acc, train_loss}' >"$tmp/$label.c.json"
    cmp -s "$tmp/$label.a.json" "$tmp/$label.c.json" ||
        fail "$label: resumed results $(cat "$tmp/$label.c.json") differ from $(cat "$tmp/$label.a.json")"
    local resumed
    resumed=$(tail -n 1 "$tmp/out" | jq -c '[.resumed_from, .start_epoch, .epochs]')
    [ "$resumed" = "[\"$tmp/$label.b\",1,1]" ] ||
        fail "$label: resumed run's JSON says $resumed"
}

test_every_rule() {
    resume_equal bp --algo bp --width 16 --momentum 0.9 --bias
    resume_equal pc --algo pc --width 16 --init random --T 5 --gamma-bar -1
    resume_equal gnt --algo gnt --width 16 --lr 0.01 --weight-decay 0.001
    resume_equal tp --algo tp --width 16 --feedback trained --fb-noise 0.1 --fb-mu-top 0.01
    resume_equal dtp --algo dtp --width 16 --feedback trained --fb-noise 0.1 --fb-steps 2 \
        --param sp
    resume_equal cnn --algo bp --net 'conv3p1:M tanh maxpool2 dense:10' --input-shape 1x8x8 \
        --width 4 --lr 0.005 --momentum 0.5 --standardize
}

# --checkpoint-every N saves after every N-th epoch of the whole training
# (a progress line says so) and after the last; the last file is the
# uninterrupted run's, and the one of epoch 1 resumes.
test_checkpoint_every() {
    local args=(--algo bp --width 16 --momentum 0.9)
    expect 0 "${common[@]}" "${args[@]}" --epochs 2 --save "$tmp/every.a" || return
    expect 0 "${common[@]}" "${args[@]}" --epochs 2 --checkpoint-every 1 --save "$tmp/every" \
        || return
    [ "$(grep -c "^epoch [12] saved to $tmp/every\$" "$tmp/err")" -eq 2 ] ||
        fail "--checkpoint-every 1 --epochs 2 did not save after epochs 1 and 2: $(cat "$tmp/err")"
    cmp -s "$tmp/every" "$tmp/every.a" || fail "--checkpoint-every 1: the last file is not 2 epochs'"
    expect 0 --resume "$tmp/every" --epochs 1 --threads 1 || return
    grep -q '^epoch 3/3 ' "$tmp/err" || fail "resuming after 2 epochs does not train epoch 3/3"
    # Counted over the whole training: resumed after 2 epochs, 4 more
    # with --checkpoint-every 3 save after epochs 3 and 6 (the last).
    expect 0 --resume "$tmp/every.a" --epochs 4 --checkpoint-every 3 --save "$tmp/every3" \
        --threads 1 || return
    [ "$(grep '^epoch [0-9]* saved' "$tmp/err" | cut -d' ' -f2 | tr '\n' ,)" = "3,6," ] ||
        fail "--checkpoint-every 3 after a resume at 2 saved after: $(grep saved "$tmp/err")"
    expect_usage "${common[@]}" --checkpoint-every 1
    expect_usage "${common[@]}" --checkpoint-every 0 --save "$tmp/x"
    expect_usage "${common[@]}" --save ''
    expect_usage "${common[@]}" --resume ''
}

test_flags_against_checkpoint() {
    expect 0 "${common[@]}" --algo pc --width 16 --kappa 0.2 --epochs 1 --save "$tmp/pc" ||
        return
    expect_usage --resume "$tmp/pc" --width 32
    grep -q -- "--width 32 contradicts the checkpoint $tmp/pc, which has 16" "$tmp/err" ||
        fail "the contradiction message does not name the flag and both values: $(cat "$tmp/err")"
    expect_usage --resume "$tmp/pc" --algo bp
    expect_usage --resume "$tmp/pc" --batch 64
    expect_usage --resume "$tmp/pc" --kappa 0.3
    expect_usage --resume "$tmp/pc" --seed 4
    expect_usage --resume "$tmp/pc" --test-limit 65
    expect_usage --resume "$tmp/pc" --param sp
    expect_usage --resume "$tmp/pc" --activation relu
    expect_usage --resume "$tmp/pc" --bias
    expect_usage --resume "$tmp/pc" --standardize
    expect_usage --resume "$tmp/pc" --dataset cifar10
    expect_usage --resume "$tmp/pc" --net simplecnn
    expect_usage --resume "$tmp/pc" --input-shape 1x8x8
    expect_usage --resume "$tmp/pc" --gamma-bar -1
    # A setting of another rule: a usage error, as without --resume.
    expect_usage --resume "$tmp/pc" --fb-mu 0.1
    expect_usage --resume "$tmp/pc" --kappa 5
    # Flags that agree, and those a checkpoint does not decide.
    expect 0 --resume "$tmp/pc" --algo pc --width 16 --kappa 0.2 --pc-kappa 0.2 --batch 32 \
        --synthetic --seed 3 --param mup --depth 3 --threads 1 --epochs 1 --json
    expect 0 "${common[@]}" --net 'conv3p1:M tanh maxpool2 dense:10' --input-shape 1x8x8 \
        --width 4 --lr 0.005 --save "$tmp/cnn" || return
    expect 0 --resume "$tmp/cnn" --net 'conv3p1:M tanh maxpool2 dense:10' --width 4 \
        --input-shape 1x8x8 --threads 1
    expect_usage --resume "$tmp/cnn" --net 'conv3p1:M relu maxpool2 dense:10'
    expect_usage --resume "$tmp/cnn" --depth 2
}

# expect_bad_file FILE WHAT: exit 1, one line naming the file.
expect_bad_file() {
    expect_error 1 --resume "$1" || return
    grep -qF -- "$1" "$tmp/err" || fail "$2: the message does not name the file: $(cat "$tmp/err")"
}

test_damaged_files() {
    expect 0 "${common[@]}" --algo tp --width 16 --feedback trained --save "$tmp/good" ||
        return
    local size
    size=$(stat -c %s "$tmp/good")
    expect_bad_file "$tmp/missing" "a missing file"
    head -c $((size - 1)) "$tmp/good" >"$tmp/short1"
    expect_bad_file "$tmp/short1" "a file one byte short"
    head -c $((size / 2)) "$tmp/good" >"$tmp/half"
    expect_bad_file "$tmp/half" "half a file"
    head -c 5 "$tmp/good" >"$tmp/five"
    expect_bad_file "$tmp/five" "five bytes"
    : >"$tmp/empty"
    expect_bad_file "$tmp/empty" "an empty file"
    local at
    for at in 3 20 $((size / 2)) $((size - 1)); do
        python3 -c 'import sys; p, at = sys.argv[1], int(sys.argv[2]); b = bytearray(open(p, "rb").read()); b[at] ^= 0x10; open(sys.argv[3], "wb").write(b)' \
            "$tmp/good" "$at" "$tmp/flip$at"
        expect_bad_file "$tmp/flip$at" "a bit flipped at byte $at"
    done
    # A save that cannot be written: a runtime failure naming the file
    # (after the progress line of the epoch).
    expect 1 "${common[@]}" --width 16 --save "$tmp/no/such/dir/x" || return
    tail -n 1 "$tmp/err" | grep -q "^pcmup-train: --save $tmp/no/such/dir/x: " ||
        fail "a failed --save does not end with a message naming the file: $(cat "$tmp/err")"
}

command -v jq >/dev/null || { echo "jq is needed"; exit 1; }
command -v python3 >/dev/null || { echo "python3 is needed"; exit 1; }
test_every_rule
test_checkpoint_every
test_flags_against_checkpoint
test_damaged_files
finish
