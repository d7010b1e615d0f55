#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_sweep.sh -- checks pcmup-sweep's contract on tiny --synthetic grids.
#
#   test_sweep.sh PATH/TO/pcmup-sweep
#
# The rows (one per grid point, with pcmup-train's keys and the sweep's),
# resuming, sharding, divergence, usage errors and --summary. Needs bash
# and jq; runs in a few seconds without FashionMNIST.
set -u

prog=${1:?usage: test_sweep.sh PATH/TO/pcmup-sweep}
command -v jq >/dev/null || { echo "FAIL: jq is needed"; exit 1; }
name=pcmup-sweep
# shellcheck source=test_common.sh
source "$(dirname "$0")/test_common.sh"

# jq_true FILE FILTER WHAT: the filter (over all rows, slurped) is true.
jq_true() {
    [ "$(jq -s "$2" "$1")" = true ] || fail "$3: $(jq -s -c "$2" "$1")"
}

# The tiny configuration every run below uses: 2 widths x 3 lrs.
tiny=(--synthetic --train-limit 256 --test-limit 128 --epochs 1 --threads 1
    --widths 16,32 --log2-lr -3:-1)

# (a) one row per point, every key, lr = 2^log2_lr, accuracies in [0, 1].
test_rows() {
    expect 0 "${tiny[@]}" --out "$tmp/a.jsonl" || return
    jq_true "$tmp/a.jsonl" 'length == 6' "6 rows expected"
    jq_true "$tmp/a.jsonl" '[.[] | [.width, .log2_lr]] | unique
        == [[16,-3],[16,-2],[16,-1],[32,-3],[32,-2],[32,-1]]' "each (width, lr) once"
    local key
    for key in algo param width depth activation loss lr base_width epochs batch seed \
        momentum weight_decay centred bias standardize data train_samples test_samples \
        train_loss test_loss test_acc seconds log2_lr diverged config label; do
        jq_true "$tmp/a.jsonl" "all(has(\"$key\"))" "every row has $key"
    done
    jq_true "$tmp/a.jsonl" 'all(.lr == pow(2; .log2_lr))' "lr == 2^log2_lr"
    jq_true "$tmp/a.jsonl" 'all(.diverged or (.test_acc >= 0 and .test_acc <= 1))' \
        "test_acc in [0, 1]"
    jq_true "$tmp/a.jsonl" 'all(.train_samples == 256 and .test_samples == 128
        and .data == "synthetic" and .epochs == 1)' "the run's settings"
    jq_true "$tmp/a.jsonl" '[.[].config] | unique | length == 1' "one config"
    jq_true "$tmp/a.jsonl" 'all(.config | test("algo=bp param=mup depth=3 .*epochs=1")
        and (test("(^| )(width|lr|threads|gamma_L)=") | not))' "config names the settings, not width or lr"
    jq_true "$tmp/a.jsonl" 'all(.label == "bp mup --synthetic --train-limit 256 --test-limit 128 --epochs 1")' \
        "default label"
    [ "$(grep -c '^\[[1-6]/6\] width ' "$tmp/err")" -eq 6 ] || fail "6 progress lines expected: $(cat "$tmp/err")"
    grep -Eq '^\[6/6\] width (16|32) lr 2\^-[1-3] \(0\.[0-9]+\): .* s left$' "$tmp/err" \
        || fail "progress line format: $(cat "$tmp/err")"
    # Another seed, other numbers.
    expect 0 "${tiny[@]}" --seed 2 --out "$tmp/a2.jsonl" || return
    jq_true "$tmp/a2.jsonl" 'length == 6 and all(.seed == 2)' "seed 2 rows"
    [ "$(jq -c '[.test_loss]' "$tmp/a.jsonl")" != "$(jq -c '[.test_loss]' "$tmp/a2.jsonl")" ] \
        || fail "--seed does not change the results"
}

# (b) rerunning adds nothing; a deleted row is run again, alone.
test_resume() {
    cp "$tmp/a.jsonl" "$tmp/b.jsonl"
    expect 0 "${tiny[@]}" --out "$tmp/b.jsonl" || return
    cmp -s "$tmp/a.jsonl" "$tmp/b.jsonl" || fail "a rerun changed the file"
    grep -q 'skipped 6 of 6 points' "$tmp/err" || fail "no skip message: $(cat "$tmp/err")"
    grep -q '^\[' "$tmp/err" && fail "a rerun ran points: $(cat "$tmp/err")"
    grep -v '"width":32,.*"log2_lr":-2,' "$tmp/a.jsonl" >"$tmp/b.jsonl"
    jq_true "$tmp/b.jsonl" 'length == 5' "one row deleted"
    expect 0 "${tiny[@]}" --out "$tmp/b.jsonl" || return
    grep -q 'skipped 5 of 6 points' "$tmp/err" || fail "expected 5 skipped: $(cat "$tmp/err")"
    [ "$(grep -c '^\[' "$tmp/err")" -eq 1 ] || fail "expected one point run: $(cat "$tmp/err")"
    grep -q '^\[1/1\] width 32 lr 2^-2 ' "$tmp/err" || fail "the wrong point ran: $(cat "$tmp/err")"
    jq_true "$tmp/b.jsonl" 'length == 6' "the deleted row is back"
    [ "$(jq -s -c 'map({width, lr, test_acc, test_loss}) | sort' "$tmp/a.jsonl")" \
        = "$(jq -s -c 'map({width, lr, test_acc, test_loss}) | sort' "$tmp/b.jsonl")" ] \
        || fail "the rerun point's results differ"
    # Another configuration in the same file is not "already done".
    expect 0 "${tiny[@]}" --batch 32 --out "$tmp/b.jsonl" || return
    jq_true "$tmp/b.jsonl" 'length == 12 and ([.[].config] | unique | length == 2)' \
        "a second config adds its own rows"
}

# (c) three shards partition the grid and give the same numbers.
test_shards() {
    local i
    for i in 1 2 3; do
        expect 0 "${tiny[@]}" --shard "$i/3" --out "$tmp/c$i.jsonl" || return
        jq_true "$tmp/c$i.jsonl" 'length == 2' "shard $i/3 has 2 of the 6 points"
    done
    cat "$tmp/c1.jsonl" "$tmp/c2.jsonl" "$tmp/c3.jsonl" >"$tmp/c.jsonl"
    jq_true "$tmp/c1.jsonl" '[.[] | [.width, .log2_lr]] == [[16,-3],[32,-3]]' \
        "shard 1/3 holds points 0 and 3"
    [ "$(jq -s -c 'map({width, lr, test_acc, test_loss, train_loss}) | sort' "$tmp/a.jsonl")" \
        = "$(jq -s -c 'map({width, lr, test_acc, test_loss, train_loss}) | sort' "$tmp/c.jsonl")" ] \
        || fail "the shards' rows differ from the unsharded run's"
}

# (d) a diverging lr is a row, not a failure, and never "nan".
test_divergence() {
    expect 0 --synthetic --train-limit 256 --test-limit 128 --threads 1 --widths 16 \
        --log2-lr -3:15:9 --out "$tmp/d.jsonl" || return
    jq_true "$tmp/d.jsonl" 'length == 3' "3 rows at 2^-3, 2^6, 2^15"
    jq_true "$tmp/d.jsonl" 'map(select(.log2_lr == 15)) | .[0] | .diverged == true
        and .test_acc == null and .train_loss == null and .test_loss == null' \
        "lr 2^15 diverged, with null results"
    jq_true "$tmp/d.jsonl" 'map(select(.log2_lr == -3)) | .[0] | .diverged == false
        and .test_acc >= 0' "lr 2^-3 did not diverge"
    grep -qi 'nan\|inf' "$tmp/d.jsonl" && fail "nan or inf in the file: $(cat "$tmp/d.jsonl")"
    grep -q 'diverged' "$tmp/err" || fail "no diverged progress line"
    # A loss threshold below every loss marks every point diverged.
    expect 0 --synthetic --train-limit 256 --test-limit 128 --threads 1 --widths 16 \
        --log2-lr -3:-3 --diverge-loss 1e-6 --out "$tmp/d2.jsonl" || return
    jq_true "$tmp/d2.jsonl" 'length == 1 and .[0].diverged == true' "--diverge-loss"
}

# The rows without the keys that time the run.
untimed() {
    jq -c 'del(.seconds, .samples_per_second)' "$1"
}

# (g) --jobs: the rows of a serial sweep, in its order, whatever the jobs.
test_jobs() {
    local j
    expect 0 "${tiny[@]}" --jobs 1 --out "$tmp/g1.jsonl" || return
    grep -q 'jobs at a time' "$tmp/err" && fail "--jobs 1 started workers: $(cat "$tmp/err")"
    for j in 2 3 7; do
        expect 0 "${tiny[@]}" --jobs $j --out "$tmp/g$j.jsonl" || return
        grep -q "^pcmup-sweep: $((j < 6 ? j : 6)) jobs at a time, 1 BLAS thread each$" \
            "$tmp/err" || fail "--jobs $j: $(head -1 "$tmp/err")"
        [ "$(grep -c '^\[[1-6]/6\] width ' "$tmp/err")" -eq 6 ] \
            || fail "--jobs $j: 6 progress lines expected: $(cat "$tmp/err")"
        [ "$(untimed "$tmp/g1.jsonl")" = "$(untimed "$tmp/g$j.jsonl")" ] \
            || fail "--jobs $j: the rows differ from --jobs 1's: $(diff <(untimed "$tmp/g1.jsonl") <(untimed "$tmp/g$j.jsonl"))"
    done
    # Without --threads, a worker's thread count is in its rows, and its
    # rows are a serial sweep's at that count.
    local t=(--synthetic --train-limit 256 --test-limit 128 --epochs 1 --widths 16,32
        --log2-lr -3:-1)
    expect 0 "${t[@]}" --jobs 2 --out "$tmp/g2t.jsonl" || return
    local threads
    threads=$(jq -s '.[0].threads' "$tmp/g2t.jsonl")
    [ "$threads" -ge 1 ] 2>/dev/null || fail "--jobs 2 rows: threads $threads"
    expect 0 "${t[@]}" --jobs 1 --threads "$threads" --out "$tmp/g1t.jsonl" || return
    [ "$(untimed "$tmp/g1t.jsonl")" = "$(untimed "$tmp/g2t.jsonl")" ] \
        || fail "--jobs 2 differs from --jobs 1 --threads $threads"
    # Resuming and sharding work as without --jobs.
    grep -v '"width":16,.*"log2_lr":-2,' "$tmp/g1.jsonl" >"$tmp/g4.jsonl"
    expect 0 "${tiny[@]}" --jobs 2 --out "$tmp/g4.jsonl" || return
    grep -q 'skipped 5 of 6 points' "$tmp/err" || fail "--jobs resume: $(cat "$tmp/err")"
    [ "$(jq -s -c 'sort_by(.width, .lr) | map(del(.seconds, .samples_per_second))' "$tmp/g4.jsonl")" \
        = "$(jq -s -c 'sort_by(.width, .lr) | map(del(.seconds, .samples_per_second))' "$tmp/g1.jsonl")" ] \
        || fail "--jobs resume: the rows differ"
    expect 0 "${tiny[@]}" --jobs 2 --shard 1/3 --out "$tmp/g5.jsonl" || return
    jq_true "$tmp/g5.jsonl" '[.[] | [.width, .log2_lr]] == [[16,-3],[32,-3]]' "--jobs --shard 1/3"
    expect_sweep_usage --synthetic --out "$tmp/never.jsonl" --jobs 0
    expect_sweep_usage --synthetic --out "$tmp/never.jsonl" --jobs 1025
    expect_sweep_usage --synthetic --out "$tmp/never.jsonl" --jobs x
}

# Starts a sweep of 2 points of a few seconds each on 2 workers in the
# background; sets pid and children once both workers run.
start_long_sweep() {
    "$prog" --synthetic --train-limit 8192 --test-limit 128 --epochs 150 --threads 1 \
        --widths 64 --log2-lr -4:-3 --jobs 2 --out "$tmp/$1.jsonl" >"$tmp/out" 2>"$tmp/err" &
    pid=$!
    local i
    for i in $(seq 100); do
        children=$(pgrep -P "$pid")
        [ "$(echo "$children" | wc -w)" -eq 2 ] && return 0
        sleep 0.1
    done
    fail "no 2 workers under pid $pid"
    return 1
}

# The sweep ends within a minute with exit status 1, and no worker is left.
expect_stopped() {
    local c
    timeout 60 tail --pid="$pid" -f /dev/null || fail "the sweep hangs after $1"
    wait "$pid"
    [ $? -eq 1 ] || fail "exit status 1 expected after $1"
    for c in $children; do
        kill -0 "$c" 2>/dev/null && fail "worker $c outlived the sweep after $1"
    done
}

# (h) a worker that dies, or an interrupted sweep: said, no hang, no
# worker left, the finished rows written, and a rerun finishes the grid.
test_jobs_failures() {
    local pid children child
    command -v pgrep >/dev/null || { skip "--jobs failures" "no pgrep"; return; }
    start_long_sweep k || return
    child=${children%%[[:space:]]*}
    kill -KILL "$child"
    expect_stopped "a worker died"
    grep -q "^pcmup-sweep: a worker (pid $child) killed by signal 9 (Killed) while running width 64 lr 2^-[34]$" \
        "$tmp/err" || fail "the dead worker is not reported: $(cat "$tmp/err")"
    grep -q 'rerun to run the rest' "$tmp/err" || fail "no rerun hint: $(cat "$tmp/err")"
    jq -s . "$tmp/k.jsonl" >/dev/null || fail "the rows written are not JSON lines"
    expect 0 --synthetic --train-limit 8192 --test-limit 128 --epochs 150 --threads 1 \
        --widths 64 --log2-lr -4:-3 --jobs 2 --out "$tmp/k.jsonl" || return
    jq_true "$tmp/k.jsonl" '[.[].log2_lr] | sort == [-4,-3]' "the rerun finished the grid"
    # SIGTERM to the sweep.
    start_long_sweep q || return
    sleep 0.2
    kill -TERM "$pid"
    expect_stopped "SIGTERM"
    grep -q 'interrupted by signal 15' "$tmp/err" || fail "no interruption message: $(cat "$tmp/err")"
}

# expect_usage, and --out was not created.
expect_sweep_usage() {
    expect_usage "$@"
    [ -e "$tmp/never.jsonl" ] && fail "pcmup-sweep $* created --out"
}

# (e) usage errors, including pcmup-train's own.
test_usage() {
    local out=(--synthetic --out "$tmp/never.jsonl")
    expect_sweep_usage "${out[@]}" --lr 0.1 --log2-lr -2:0
    expect_sweep_usage "${out[@]}" --log2-lr -2:0 --lr=0.1
    expect_sweep_usage "${out[@]}" --shard 0/2
    expect_sweep_usage "${out[@]}" --shard 3/2
    expect_sweep_usage "${out[@]}" --shard 1
    expect_sweep_usage "${out[@]}" --shard a/2
    expect_sweep_usage "${out[@]}" --log2-lr 2:1
    expect_sweep_usage "${out[@]}" --log2-lr 0:2:0
    expect_sweep_usage "${out[@]}" --log2-lr 0:2:-1
    expect_sweep_usage "${out[@]}" --log2-lr 0
    expect_sweep_usage "${out[@]}" --log2-lr x:1
    expect_sweep_usage "${out[@]}" --widths 16,,32
    # pcmup-train's checkpoint flags are not a sweep's.
    expect_sweep_usage "${out[@]}" --widths 16 --save "$tmp/never.safetensors"
    expect_sweep_usage "${out[@]}" --widths 16 --resume "$tmp/never.safetensors"
    expect_sweep_usage "${out[@]}" --widths 0
    expect_sweep_usage "${out[@]}" --widths=
    expect_sweep_usage "${out[@]}" --diverge-loss 0
    expect_sweep_usage "${out[@]}" --width 64
    expect_sweep_usage "${out[@]}" --json
    expect_sweep_usage "${out[@]}" --lr 0
    expect_sweep_usage "${out[@]}" --bogus
    expect_sweep_usage "${out[@]}" --algo bp --T 3
    expect_sweep_usage "${out[@]}" --label
    expect_sweep_usage --synthetic
    grep -q -- '--out' "$tmp/err" || fail "the missing --out is not named"
    expect_sweep_usage --summary "$tmp/a.jsonl" --algo pc
    expect 0 --help || return
    grep -q '^Usage: pcmup-sweep' "$tmp/out" || fail "--help has no Usage line"
    local flag
    for flag in --widths --log2-lr --out --shard --label --diverge-loss --summary --best-by \
        --algo --gamma-bar --synthetic --threads; do
        grep -q -- "$flag" "$tmp/out" || fail "--help does not document $flag"
    done
    expect 0 --version || return
    grep -q '^pcmup-sweep (libpcmup' "$tmp/out" || fail "--version: $(cat "$tmp/out")"
    expect 1 --data /nonexistent --widths 16 --out "$tmp/never.jsonl" || return
    expect_one_line_error --data /nonexistent
}

# (f) --summary: the best lr per width, for every config of the file.
test_summary() {
    expect 0 --summary "$tmp/b.jsonl" || return
    [ "$(grep -c 'config: algo=bp' "$tmp/out")" -eq 2 ] || fail "--summary should show 2 configs: $(cat "$tmp/out")"
    local width best
    for width in 16 32; do
        # The best lr by jq, ties to the smaller lr, in the first config.
        best=$(jq -s -r --argjson w "$width" '[.[] | select(.batch == 64 and .width == $w
            and (.diverged | not))] | sort_by(-.test_acc, .lr) | .[0].log2_lr' "$tmp/b.jsonl")
        grep -m1 -Eq "^ +$width +2\\^$best " "$tmp/out" \
            || fail "--summary: width $width's best lr should be 2^$best: $(cat "$tmp/out")"
    done
    grep -q 'best lr from width 16 to 32: moved' "$tmp/out" || fail "no move line: $(cat "$tmp/out")"
    # --best-by: rows written here so that accuracy and train loss pick
    # different rates (2^-2 by accuracy, 2^-3 by loss, at both widths).
    local w k acc loss
    : >"$tmp/h.jsonl"
    for w in 16 32; do
        for k in -3 -2 -1; do
            acc=$((k == -2 ? 80 : 70)); loss=$((k == -3 ? 1 : 2))
            printf '{"config":"c","label":"hand","width":%s,"lr":%s,"log2_lr":%s,"test_acc":0.%s,"train_loss":0.%s,"diverged":false}\n' \
                "$w" "$(awk -v k=$k 'BEGIN { print 2 ^ k }')" "$k" "$acc" "$loss" >>"$tmp/h.jsonl"
        done
    done
    expect 0 --summary "$tmp/h.jsonl" || return
    [ "$(grep -Ec '^ +(16|32) +2\^-2 ' "$tmp/out")" -eq 2 ] || fail "by test_acc: $(cat "$tmp/out")"
    expect 0 --summary "$tmp/h.jsonl" --best-by train_loss || return
    [ "$(grep -Ec '^ +(16|32) +2\^-3 ' "$tmp/out")" -eq 2 ] || fail "by train_loss: $(cat "$tmp/out")"
    grep -q 'train_loss' "$tmp/out" || fail "--best-by: the table does not name train_loss"
    expect_sweep_usage --summary "$tmp/b.jsonl" --best-by ""
    # The sweep prints the same table for its own config at the end.
    expect 0 "${tiny[@]}" --out "$tmp/a.jsonl" || return
    grep -Eq '^ +16 +2\^' "$tmp/out" || fail "no table after the sweep: $(cat "$tmp/out")"
}

test_rows
test_resume
test_shards
test_divergence
test_usage
test_summary
test_jobs
test_jobs_failures

finish
