#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_coord.sh -- checks pcmup-coord's command line and its numbers.
#
#   test_coord.sh PATH/TO/pcmup-coord [FASHION_MNIST_DIR]
#
# The Gaussian problem and --training on --synthetic need no dataset.
# --training on FashionMNIST needs it in FASHION_MNIST_DIR (default:
# $PCMUP_FASHION_MNIST_DIR, else /usr/share/datasets/fashion-mnist);
# without it those checks are skipped and the script exits 77 (ctest:
# skipped) once the others pass. Uses jq for the JSON rows.
set -u

prog=${1:?usage: test_coord.sh PATH/TO/pcmup-coord [FASHION_MNIST_DIR]}
data=${2:-${PCMUP_FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}}
command -v jq >/dev/null || { echo "FAIL: jq is needed"; exit 1; }
name=pcmup-coord
# shellcheck source=test_common.sh
source "$(dirname "$0")/test_common.sh"

test_usage() {
    expect_usage --width 64
    expect_usage --widths 64,x
    expect_usage --steps 5,1
    expect_usage --closed-form
    expect_usage --depth 1
    expect_usage --synthetic
    expect_usage --dataset cifar10 --data /nonexistent
    grep -q -- '--dataset applies with --fashion' "$tmp/err" || fail "--dataset without --fashion"
    expect_error 1 --fashion --dataset cifar10 --data /nonexistent
    grep -q 'pcmup_dataset_load_cifar10_head: /nonexistent/test_batch.bin' "$tmp/err" \
        || fail "--fashion --dataset cifar10 does not load CIFAR-10: $(cat "$tmp/err")"
    expect_usage --no-such-flag
    run --help
    [ "$status" -eq 0 ] && grep -q -- '--widths' "$tmp/out" || fail "--help"
}

# The table has one line per (width, step) and a header.
test_table() {
    run --lr 0.5 --batch 32 --widths 32,64 --steps 0,2,5
    [ "$status" -eq 0 ] || { fail "table run: $(cat "$tmp/err")"; return; }
    [ "$(wc -l <"$tmp/out")" -eq 7 ] || fail "table has $(wc -l <"$tmp/out") lines, want 7"
    # Step 0 measures the initial network: nothing has moved.
    awk 'NR > 1 && $2 == 0 && ($3 != 0 || $4 != 0 || $5 != 0) { bad = 1 } END { exit bad }' \
        "$tmp/out" || fail "step 0 rows are not zero: $(cat "$tmp/out")"
}

# JSON rows: widths x steps x layers, with the keys pcmup-plot reads.
test_json() {
    run --json --lr 0.5 --batch 32 --widths 32,64 --steps 1,5 --label "bp & <mup>"
    [ "$status" -eq 0 ] || { fail "json run: $(cat "$tmp/err")"; return; }
    local n
    n=$(jq -s 'length' "$tmp/out") || { fail "rows are not JSON"; return; }
    [ "$n" -eq 12 ] || fail "$n JSON rows, want 2 widths x 2 steps x 3 layers = 12"
    jq -e -s 'all(.[]; (.label == "bp & <mup>") and (.config | type == "string")
              and (.dh | type == "number") and (.h_abs > 0)
              and (.signal == (if .layer == 3 then "f" else "h" end)))' \
        "$tmp/out" >/dev/null || fail "JSON rows lack keys or values: $(head -n 1 "$tmp/out")"
    # Later steps move further.
    jq -e -s '[.[] | select(.width == 64 and .layer == 2)] | (.[0].dh < .[1].dh)' \
        "$tmp/out" >/dev/null || fail "dh does not grow from step 1 to 5"
}

# The paper's claim through the tool: df flat under muP, exploding under SP.
test_mup_vs_sp() {
    local mup sp
    run --json --lr 0.5 --batch 32 --widths 64,1024 --steps 5
    mup=$(jq -s '[.[] | select(.layer == 3) | .dh] | .[1] / .[0]' "$tmp/out")
    run --json --param sp --lr 0.5 --batch 32 --widths 64,1024 --steps 5
    sp=$(jq -s '[.[] | select(.layer == 3) | .dh] | .[1] / .[0]' "$tmp/out")
    awk -v m="$mup" -v s="$sp" 'BEGIN { exit !(m > 1/3 && m < 3 && s > 100) }' \
        || fail "df(1024)/df(64): muP $mup (want within 3x), SP $sp (want > 100)"
}

# A diverging run reports inf in the table and null in JSON, status 0.
test_divergence() {
    run --param sp --lr 100000 --batch 32 --widths 256 --steps 0,30
    [ "$status" -eq 0 ] && grep -q ' inf' "$tmp/out" || fail "divergence: $(cat "$tmp/out" "$tmp/err")"
    run --json --param sp --lr 100000 --batch 32 --widths 256 --steps 30
    jq -e -s 'all(.[]; .dh == null)' "$tmp/out" >/dev/null || fail "diverged dh not null"
}

# Alignment: BP against itself is cosine 1 and ratio 1 in every layer; the
# closed form needs PC on a linear network.
test_alignment() {
    run --json --alignment --batch 16 --widths 32,64
    [ "$status" -eq 0 ] || { fail "alignment: $(cat "$tmp/err")"; return; }
    [ "$(jq -s length "$tmp/out")" -eq 6 ] || fail "alignment rows"
    jq -e -s 'all(.[]; (.cos_bp - 1 | fabs) < 1e-5 and (.ratio_bp - 1 | fabs) < 1e-4
              and .cos_gn > 0 and .cos_gn <= 1.000001)' "$tmp/out" >/dev/null \
        || fail "BP is not aligned with itself: $(cat "$tmp/out")"
    run --alignment --closed-form --widths 32
    [ "$status" -eq 1 ] || fail "--closed-form with bp exited $status"
    run --json --alignment --closed-form --algo pc --activation identity --widths 32,256 --batch 16
    [ "$status" -eq 0 ] || { fail "closed form: $(cat "$tmp/err")"; return; }
    jq -e -s 'all(.[]; .c_gamma_norm > 0 and .energy > 0 and .cos_bp <= 1.000001)' \
        "$tmp/out" >/dev/null || fail "closed-form rows: $(head -n 1 "$tmp/out")"
    # gammabar_L = 0: PC tends to BP as the width grows (Corollary 4.3).
    jq -e -s '[.[] | select(.layer == 3) | .cos_bp] | .[1] > .[0]' "$tmp/out" >/dev/null \
        || fail "cos(PC, BP) does not grow with width"
}

# ---- --training: Delta h across a real training run ----------------------

test_training_usage() {
    expect_usage --training --alignment
    expect_usage --training --fashion
    expect_usage --training --inputs 8
    expect_usage --training --classes 3
    expect_usage --training --synthetic --probe 0
    # More probe samples than the test set has is a runtime failure.
    expect_error 1 --training --synthetic --test-limit 10 --probe 20 --widths 8
    run --help
    grep -q -- '--training' "$tmp/out" || fail "--help does not mention --training"
}

# dh == 0 and h_abs constant in every row of $tmp/out: nothing moved.
nothing_moved() {
    jq -e -s 'all(.[]; .dh == 0) and
              (group_by([.width, .layer]) | all(.[]; (map(.h_abs) | unique | length) == 1))' \
        "$tmp/out" >/dev/null
}

# The structure of the rows on the --synthetic problem (no dataset): 50
# samples in batches of 16 are 4 steps an epoch, so 20 steps run 5
# shuffled epochs with a short last batch each.
test_training_rows() {
    local args=(--training --synthetic --train-limit 50 --batch 16 --widths 32,64)
    run "${args[@]}" --steps 0,1,20
    [ "$status" -eq 0 ] || { fail "training table: $(cat "$tmp/err")"; return; }
    [ "$(wc -l <"$tmp/out")" -eq 7 ] || fail "training table has $(wc -l <"$tmp/out") lines, want 7"
    run "${args[@]}" --steps 0,1,20 --json --label dh-rows
    [ "$status" -eq 0 ] || { fail "training json: $(cat "$tmp/err")"; return; }
    [ "$(jq -s length "$tmp/out")" -eq 18 ] \
        || fail "$(jq -s length "$tmp/out") training rows, want 2 widths x 3 steps x 3 layers"
    jq -e -s 'all(.[]; .mode == "training" and .label == "dh-rows"
              and (.config | startswith("mode=training ")) and .data == "synthetic"
              and (.dh | type == "number") and .dh >= 0 and .h_abs > 0
              and (.signal == (if .layer == 3 then "f" else "h" end)))' "$tmp/out" >/dev/null \
        || fail "training rows lack keys or values: $(head -n 1 "$tmp/out")"
    # Nothing has moved at step 0 (the same forward pass twice); every
    # layer has after a step, and further after 20.
    jq -e -s 'all(.[] | select(.step == 0); .dh == 0)
              and all(.[] | select(.step > 0); .dh > 0)
              and ([.[] | select(.step == 20) | .dh] | add)
                  > ([.[] | select(.step == 1) | .dh] | add)' "$tmp/out" >/dev/null \
        || fail "dh is not 0 at step 0 and growing after: $(jq -c -s 'map([.width, .step, .layer, .dh])' "$tmp/out")"
    # A zero learning rate changes no weight (W - 0 * g is W): exactly 0.
    run "${args[@]}" --steps 0,7 --json --lr 0
    nothing_moved || fail "--lr 0 moved the features: $(jq -c -s 'map(.dh)' "$tmp/out")"
}

# A convolutional network (--net) on --synthetic's 64 inputs as 1x8x8
# images: its first layer's h_1 is pooled to 4x4, a size pcmup_net_forward_layer
# refuses unless the tool asks for the pooled signal, so the run
# succeeding is the check; then the structure and a zero rate.
test_training_cnn() {
    local args=(--training --synthetic --input-shape 1x8x8 --base-width 4 --train-limit 50
                --batch 16 --widths 4,8 --json
                --net "conv3p1:M tanh maxpool2 conv3p1:M tanh dense:10")
    run "${args[@]}" --steps 0,1,20 --lr 0.05
    [ "$status" -eq 0 ] || { fail "cnn training: $(cat "$tmp/err")"; return; }
    jq -e -s 'length == 18 and all(.[]; (.dh | type == "number") and .h_abs > 0)
              and all(.[] | select(.step == 0); .dh == 0)
              and all(.[] | select(.step > 0); .dh > 0)' "$tmp/out" >/dev/null \
        || fail "cnn training rows: $(jq -c -s 'map([.width, .step, .layer, .dh])' "$tmp/out")"
    run "${args[@]}" --steps 0,7 --lr 0
    nothing_moved || fail "cnn --lr 0 moved the features: $(jq -c -s 'map(.dh)' "$tmp/out")"
}

# A run that blows up: inf from the diverged step on, null in JSON, status 0.
test_training_divergence() {
    run --training --synthetic --param sp --lr 100000 --widths 256 --steps 0,30
    [ "$status" -eq 0 ] && grep -q ' inf' "$tmp/out" \
        || fail "training divergence: $(cat "$tmp/out" "$tmp/err")"
    run --json --training --synthetic --param sp --lr 100000 --widths 256 --steps 0,30
    jq -e -s 'all(.[] | select(.step == 0); .dh == 0) and all(.[] | select(.step == 30); .dh == null)' \
        "$tmp/out" >/dev/null || fail "diverged training rows: $(jq -c -s 'map(.dh)' "$tmp/out")"
}

# ratio FILE LAYER STEP: dh at the second width over dh at the first.
ratio() {
    jq -s --argjson l "$2" --argjson s "$3" \
        '[.[] | select(.layer == $l and .step == $s) | .dh] | .[1] / .[0]' "$1"
}

# FashionMNIST, the paper's Figure 4 right on a small subset.
test_training_fashion() {
    have_fashion "--training on FashionMNIST" || return
    local common=(--training --json --data "$data" --train-limit 2000 --batch 32)
    run "${common[@]}" --widths 64,128 --steps 0,20,100 --lr 0.05
    [ "$status" -eq 0 ] || { fail "fashion training: $(cat "$tmp/err")"; return; }
    jq -e -s 'length == 18 and all(.[]; .data == "'"$data"'" and (.dh | type == "number")
              and (.config | contains("train_samples=2000 test_samples=256")))' \
        "$tmp/out" >/dev/null || fail "fashion training rows: $(head -n 1 "$tmp/out")"
    # muP: the last hidden layer's change is Theta(1), so one octave of
    # width changes it by far less than 3x (measured: 0.85 to 1.22 over
    # seeds 1-6, both OpenBLAS kernels).
    local s r
    for s in 20 100; do
        r=$(ratio "$tmp/out" 2 "$s")
        awk -v r="$r" 'BEGIN { exit !(r > 1/3 && r < 3) }' \
            || fail "muP dh_2(128)/dh_2(64) at step $s is $r, want within 3x"
    done
    run "${common[@]}" --widths 64,128 --steps 0,30 --lr 0
    nothing_moved || fail "fashion --lr 0 moved the features"
    # The input layer's change across 16x the width: muP keeps it (0.38 to
    # 0.62 over seeds 1-4), SP's falls like M^-1/2 (0.10 to 0.16): their
    # ratio is 2.7 to 4.0.
    local mup sp
    run "${common[@]}" --widths 64,1024 --steps 0,20 --lr 0.005
    mup=$(ratio "$tmp/out" 1 20)
    run "${common[@]}" --param sp --widths 64,1024 --steps 0,20 --lr 0.005
    sp=$(ratio "$tmp/out" 1 20)
    awk -v m="$mup" -v s="$sp" 'BEGIN { exit !(m > 2 * s) }' \
        || fail "dh_1(1024)/dh_1(64): muP $mup, SP $sp; want muP's more than twice SP's"
}

test_usage
test_table
test_json
test_mup_vs_sp
test_divergence
test_alignment
test_training_usage
test_training_rows
test_training_cnn
test_training_divergence
test_training_fashion

finish
