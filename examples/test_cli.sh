#!/usr/bin/env bash
# test_cli.sh -- checks pcmup-train's command-line contract.
#
#   test_cli.sh PATH/TO/pcmup-train [FASHION_MNIST_DIR]
#
# Exit codes (0 ok, 1 runtime failure, 2 usage error), --help, one-line
# error messages, and a tiny training run whose last stdout line is the JSON
# object. Needs only bash and grep. The training runs are skipped (and
# pass) when the FashionMNIST directory is missing.
set -u

prog=${1:?usage: test_cli.sh PATH/TO/pcmup-train [FASHION_MNIST_DIR]}
data=${2:-${PCMUP_FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# run ARGS...: runs the program, leaving stdout, stderr and status behind.
run() {
    "$prog" "$@" >"$tmp/out" 2>"$tmp/err"
    status=$?
}

# expect CODE ARGS...: the exit status is CODE.
expect() {
    local code=$1
    shift
    run "$@"
    if [ "$status" -ne "$code" ]; then
        fail "pcmup-train $* exited $status, expected $code; stderr: $(head -c 300 "$tmp/err")"
        return 1
    fi
}

# The failure message is exactly one line, "pcmup-train: <what>".
expect_one_line_error() {
    local lines
    lines=$(wc -l <"$tmp/err")
    if [ "$lines" -ne 1 ] || ! grep -q '^pcmup-train: ' "$tmp/err"; then
        fail "pcmup-train $* : stderr is not one 'pcmup-train: ' line: $(cat "$tmp/err")"
    fi
}

# expect_usage ARGS...: exit 2 with a one-line message, nothing on stdout.
expect_usage() {
    expect 2 "$@" || return
    expect_one_line_error "$@"
    if [ -s "$tmp/out" ]; then
        fail "pcmup-train $* wrote to stdout on a usage error"
    fi
}

test_help() {
    expect 0 --help || return
    grep -q '^Usage: pcmup-train' "$tmp/out" || fail "--help prints no Usage line"
    local flag
    for flag in --algo --param --width --depth --activation --loss --lr --base-width \
        --epochs --batch --seed --train-limit --test-limit --threads --data --json \
        --standardize --bias --momentum --weight-decay --centred \
        --eB --rho --gn --gnt-output; do
        grep -q -- "$flag" "$tmp/out" || fail "--help does not document $flag"
    done
    expect 0 -h || return
    expect 0 --version || return
    grep -q 'libpcmup' "$tmp/out" || fail "--version does not name the library"
}

test_usage_errors() {
    expect_usage --bogus
    expect_usage extra-argument
    expect_usage --width
    expect_usage --width abc
    expect_usage --width 0
    expect_usage --width -5
    expect_usage --width 12x
    expect_usage --width ' 12'
    expect_usage --width 99999999999999999999999
    expect_usage --width=
    expect_usage --depth 0
    expect_usage --batch 0
    expect_usage --epochs 1.5
    expect_usage --base-width 0
    expect_usage --seed -1
    expect_usage --threads 0
    expect_usage --train-limit 0
    expect_usage --test-limit x
    expect_usage --lr abc
    expect_usage --lr nan
    expect_usage --lr inf
    expect_usage --lr -0.1
    expect_usage --lr 1e999
    expect_usage --momentum 1
    expect_usage --momentum -0.5
    expect_usage --weight-decay -1
    expect_usage --centred 2
    expect_usage --algo pc
    expect_usage --param mupp
    expect_usage --activation sigmoid
    expect_usage --loss hinge
    expect_usage --json=1
    expect_usage --lr 0.1 --data
    # ---- Gauss-Newton target ----
    expect_usage --algo gnt --eB 1.5
    expect_usage --algo gnt --eB -0.1
    expect_usage --algo gnt --eB nan
    expect_usage --algo gnt --rho 0
    expect_usage --algo gnt --rho -1e-2
    expect_usage --algo gnt --rho 1e7
    expect_usage --algo gnt --gn full
    expect_usage --algo gnt --gnt-output 2
    expect_usage --eB 0.5
    expect_usage --algo bp --rho 0.1
    expect_usage --gn sample
    expect_usage --algo gnn
    # ---- end Gauss-Newton target ----
}

test_runtime_errors() {
    expect 1 --data /nonexistent --train-limit 16 --test-limit 16 || return
    expect_one_line_error --data /nonexistent
    grep -q 'pcmup-train: .*: .' "$tmp/err" || fail "no library message for a missing data dir"
}

# has_key KEY REGEX: the JSON line has "KEY":<something matching REGEX>.
has_key() {
    grep -Eq "[{,]\"$1\":$2[,}]" "$tmp/last" || fail "JSON has no \"$1\" matching $2: $(cat "$tmp/last")"
}

check_json() {
    local num='-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?'
    local str='"[^"]*"'
    local key
    tail -n 1 "$tmp/out" >"$tmp/last"
    grep -Eq '^\{.*\}$' "$tmp/last" || fail "last stdout line is not a JSON object: $(cat "$tmp/last")"
    for key in algo param activation loss; do has_key "$key" "$str"; done
    for key in width depth lr base_width epochs batch seed train_samples train_loss \
        test_loss test_acc seconds samples_per_second; do
        has_key "$key" "$num"
    done
    has_key algo '"bp"'
    has_key param '"mup"'
    has_key train_samples 512
    has_key width 32
}

test_tiny_runs() {
    if [ ! -d "$data" ]; then
        echo "skipped: training runs (no FashionMNIST at $data)"
        return
    fi
    local tiny=(--data "$data" --train-limit 512 --test-limit 512 --threads 1)
    expect 0 "${tiny[@]}" --width 32 --json || return
    check_json
    [ "$(grep -c '^epoch 1/1 ' "$tmp/err")" -eq 1 ] || fail "no epoch progress line on stderr"
    expect 0 "${tiny[@]}" --width 16 --epochs 2 --param sp --loss ce --bias \
        --momentum 0.9 --weight-decay 1e-4 --standardize --activation relu || return
    [ "$(grep -c '^epoch [12]/2 ' "$tmp/err")" -eq 2 ] || fail "expected two epoch lines"
    grep -q 'test accuracy' "$tmp/out" || fail "no human summary without --json"
    expect 0 "${tiny[@]}" --width 16 --train-limit 100000 --json --centred 0 || return
    grep -q '"train_samples":60000' "$tmp/out" || fail "--train-limit past the end should keep every sample"
    # ---- Gauss-Newton target ----
    expect 0 "${tiny[@]}" --width 32 --algo gnt --lr 0.01 --json || return
    check_json_gnt '"gnt"' 1 0.01 '"batch"' 1
    expect 0 "${tiny[@]}" --width 32 --algo gnt --lr 0.01 --eB 0.5 --rho 0.1 --gn sample \
        --gnt-output 0 --loss ce --json || return
    check_json_gnt '"gnt"' 0.5 0.1 '"sample"' 0
    expect 0 "${tiny[@]}" --width 16 --algo gnt --lr 0.01 --param sp --eB 0 || return
    grep -q 'gnt: e_B 0, rho' "$tmp/out" || fail "no gnt settings line in the human summary"
    # ---- end Gauss-Newton target ----
}

# ---- Gauss-Newton target ----
# check_json_gnt ALGO E_B RHO VARIANT OUTPUT: the JSON line of a gnt run.
check_json_gnt() {
    tail -n 1 "$tmp/out" >"$tmp/last"
    has_key algo "$1"
    has_key param '"mup"'
    has_key e_B "$2"
    has_key rho "$3"
    has_key gn_variant "$4"
    has_key gnt_output "$5"
}
# ---- end Gauss-Newton target ----

test_help
test_usage_errors
test_runtime_errors
test_tiny_runs

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all pcmup-train CLI checks passed"
