#!/usr/bin/env bash
# test_coord.sh -- checks pcmup-coord's command line and its numbers.
#
#   test_coord.sh PATH/TO/pcmup-coord
#
# The Gaussian problem only (no dataset needed). Uses jq for the JSON rows.
set -u

prog=${1:?usage: test_coord.sh PATH/TO/pcmup-coord}
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
    grep -q 'pcmup_dataset_load_cifar10_limited: /nonexistent/data_batch_1.bin' "$tmp/err" \
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

test_usage
test_table
test_json
test_mup_vs_sp
test_divergence
test_alignment

finish
