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
        --beta --feedback --fb-mu --fb-lr --fb-steps --fb-noise --fb-activation; do
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
    # ---- target propagation ----
    expect_usage --algo tpp
    expect_usage --beta 2                  # needs --algo tp or dtp
    expect_usage --algo bp --fb-mu 1
    expect_usage --algo tp --beta 0
    expect_usage --algo tp --beta -1
    expect_usage --algo dtp --beta nan
    expect_usage --algo dtp --fb-mu 0
    expect_usage --algo dtp --fb-mu -0.5
    expect_usage --algo tp --fb-lr -1
    expect_usage --algo tp --fb-steps 0
    expect_usage --algo tp --fb-steps 1.5
    expect_usage --algo tp --fb-steps 10001
    expect_usage --algo tp --fb-noise -0.1
    expect_usage --algo tp --feedback open
    expect_usage --algo dtp --fb-activation relu
    expect_usage --algo dtp --fb-activation identity
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

# ---- target propagation ----
check_tp_json() {
    local num='-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?'
    local key
    tail -n 1 "$tmp/out" >"$tmp/last"
    for key in beta fb_mu fb_lr fb_steps fb_noise; do has_key "$key" "$num"; done
    has_key algo "\"$1\""
    has_key param '"mup"'
    has_key feedback "\"$2\""
    has_key fb_activation "\"$3\""
}

test_tp_runs() {
    if [ ! -d "$data" ]; then
        echo "skipped: TP training runs (no FashionMNIST at $data)"
        return
    fi
    local tiny=(--data "$data" --train-limit 512 --test-limit 512 --threads 1 --width 32)
    expect 0 "${tiny[@]}" --algo dtp --json || return
    check_tp_json dtp closed linear
    has_key beta 1
    expect 0 "${tiny[@]}" --algo tp --feedback trained --fb-activation tanh --fb-steps 2 \
        --fb-noise 0 --fb-lr 0.01 --fb-mu 0.5 --beta 0.5 --json || return
    check_tp_json tp trained tanh
    has_key fb_steps 2
    has_key fb_mu 0.5
    has_key beta 0.5
    expect 0 "${tiny[@]}" --algo dtp --param sp --epochs 2 || return
    grep -q 'closed feedback' "$tmp/out" || fail "no TP settings line in the human summary"
    # BP's JSON does not grow TP keys.
    expect 0 "${tiny[@]}" --json || return
    if grep -q '"beta"' "$tmp/out"; then fail "bp's JSON has TP settings"; fi
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
}

test_help
test_usage_errors
test_runtime_errors
test_tiny_runs
test_tp_runs

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all pcmup-train CLI checks passed"
