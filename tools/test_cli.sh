#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_cli.sh -- checks pcmup-train's command-line contract.
#
#   test_cli.sh PATH/TO/pcmup-train [FASHION_MNIST_DIR]
#
# Exit codes (0 ok, 1 runtime failure, 2 usage error), --help, one-line
# error messages, every learning rule's flags (only with their --algo), and
# tiny training runs of each rule whose last stdout line is the JSON
# object. Needs bash, grep and jq. Without FashionMNIST in
# FASHION_MNIST_DIR (default: $PCMUP_FASHION_MNIST_DIR, else the library's
# default /usr/share/datasets/fashion-mnist) the training runs cannot run:
# every other check still does, and the script then exits 77 (ctest:
# skipped) when they pass, 1 when one fails.
set -u

prog=${1:?usage: test_cli.sh PATH/TO/pcmup-train [FASHION_MNIST_DIR]}
data=${2:-${PCMUP_FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}}
name=pcmup-train
# shellcheck source=test_common.sh
source "$(dirname "$0")/test_common.sh"


# expect_usage ARGS...: exit 2 with a one-line message, nothing on stdout.
test_help() {
    expect 0 --help || return
    grep -q '^Usage: pcmup-train' "$tmp/out" || fail "--help prints no Usage line"
    local flag
    for flag in --algo --param --width --depth --activation --loss --lr --base-width \
        --epochs --batch --seed --train-limit --test-limit --threads --data --json \
        --standardize --bias --momentum --weight-decay --centred --gamma-bar --gamma-out \
        --gamma-hidden --kappa --T --schedule --init --init-std --fpa --timing \
        --last-layer --tolerance --eB --rho --gn --gnt-output --beta --feedback --fb-mu \
        --fb-lr --fb-steps --fb-noise --fb-activation --synthetic --max-data-bytes \
        --dataset --save --resume --checkpoint-every; do
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
    expect_usage --algo gnn
    expect_usage --algo tpp
    expect_usage --param mupp
    expect_usage --activation sigmoid
    expect_usage --loss hinge
    expect_usage --json=1
    expect_usage --synthetic=1
    expect_usage --lr 0.1 --data
}

# Predictive coding's flags: only with --algo pc, values in the library's
# ranges, and no contradictory combination.
test_pc_usage_errors() {
    local flag
    for flag in "--gamma-bar -1" "--gamma-out 2" "--gamma-hidden 2" "--kappa 0.5" \
        "--T 5" "--schedule sim" "--init zero" "--init-std 0.5" "--fpa on" \
        "--timing cache" "--last-layer B" "--tolerance 0.01"; do
        # shellcheck disable=SC2086 # the flag and its value are two words
        expect_usage $flag
        # shellcheck disable=SC2086
        expect_usage --algo bp $flag
    done
    expect_usage --T 5 --algo bp
    grep -q -- '--T applies to --algo pc only' "$tmp/err" || fail "no message naming the PC-only flag: $(cat "$tmp/err")"
    expect_usage --algo pc --gamma-bar 0.5
    grep -q -- '--gamma-bar: 0.5 is outside \[-1, 0\]' "$tmp/err" || fail "--gamma-bar 0.5 message: $(cat "$tmp/err")"
    expect_usage --algo pc --gamma-bar -1.5
    expect_usage --algo pc --gamma-bar abc
    expect_usage --algo pc --param sp --gamma-bar -1
    # The library would refuse this only at the first step; it is a
    # contradiction on the command line, so a usage error.
    expect_usage --algo pc --timing cache --schedule sim
    expect_usage --algo pc --schedule sim --timing cache
    expect_usage --algo pc --gamma-out 0
    expect_usage --algo pc --gamma-out -1
    expect_usage --algo pc --gamma-hidden 0
    expect_usage --algo pc --kappa -0.5
    expect_usage --algo pc --kappa 1e9
    expect_usage --algo pc --T 0
    expect_usage --algo pc --T 1.5
    expect_usage --algo pc --T 99999999
    expect_usage --algo pc --init-std -1
    expect_usage --algo pc --tolerance 2
    expect_usage --algo pc --tolerance -0.1
    expect_usage --algo pc --schedule sequential
    expect_usage --algo pc --init normal
    expect_usage --algo pc --fpa 1
    expect_usage --algo pc --timing start
    expect_usage --algo pc --last-layer C
    expect_usage --algo pc --T
}

# Gauss-Newton target's flags: only with --algo gnt, values in the
# library's ranges.
test_gnt_usage_errors() {
    local flag
    for flag in "--eB 0.5" "--rho 0.1" "--gn sample" "--gnt-output 0"; do
        # shellcheck disable=SC2086 # the flag and its value are two words
        expect_usage $flag
        # shellcheck disable=SC2086
        expect_usage --algo bp $flag
        # shellcheck disable=SC2086
        expect_usage --algo pc $flag
        # shellcheck disable=SC2086
        expect_usage --algo dtp $flag
    done
    expect_usage --rho 0.1 --algo tp
    grep -q -- '--rho applies to --algo gnt only' "$tmp/err" || fail "no message naming the GNT-only flag: $(cat "$tmp/err")"
    expect_usage --algo gnt --T 5
    expect_usage --algo gnt --beta 2
    expect_usage --algo gnt --eB 1.5
    expect_usage --algo gnt --eB -0.1
    expect_usage --algo gnt --eB nan
    expect_usage --algo gnt --rho 0
    grep -q -- '--rho: 0 is outside (0, ' "$tmp/err" || fail "--rho 0 message: $(cat "$tmp/err")"
    expect_usage --algo gnt --rho -1e-2
    expect_usage --algo gnt --rho 1e7
    expect_usage --algo gnt --gn full
    expect_usage --algo gnt --gnt-output 2
    expect_usage --algo gnt --eB
}

# Target propagation's flags: only with --algo tp or dtp, values in the
# library's ranges.
test_tp_usage_errors() {
    local flag
    for flag in "--beta 2" "--feedback trained" "--fb-mu 1" "--fb-lr 0.1" "--fb-steps 2" \
        "--fb-noise 0" "--fb-activation tanh"; do
        # shellcheck disable=SC2086 # the flag and its value are two words
        expect_usage $flag
        # shellcheck disable=SC2086
        expect_usage --algo bp $flag
        # shellcheck disable=SC2086
        expect_usage --algo pc $flag
        # shellcheck disable=SC2086
        expect_usage --algo gnt $flag
    done
    expect_usage --fb-mu 1 --algo bp
    grep -q -- '--fb-mu applies to --algo tp or dtp only' "$tmp/err" || fail "no message naming the TP-only flag: $(cat "$tmp/err")"
    expect_usage --algo tp --gamma-bar -1
    expect_usage --algo dtp --eB 0.5
    expect_usage --algo tp --beta 0
    grep -q -- '--beta: 0 is outside (0, ' "$tmp/err" || fail "--beta 0 message: $(cat "$tmp/err")"
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
    expect_usage --algo dtp --feedback
}

# Every PC flag parses: with a missing data directory the run gets as far
# as loading, a runtime failure (1) rather than a usage error (2).
test_pc_flags_parse() {
    expect 1 --data /nonexistent --algo pc --gamma-bar -0.5 --gamma-out 2 --gamma-hidden 0.5 \
        --kappa 0.3 --T 20 --schedule seq --init random --init-std 0.1 --fpa on \
        --timing cache --last-layer B --tolerance 1e-4
    expect 1 --data /nonexistent --param sp --gamma-bar 0 --T=3 --schedule=sim --init zero \
        --fpa off --timing end --last-layer A --algo pc
    expect 1 --data /nonexistent --algo pc --param sp --gamma-bar=-0 --kappa 0 --tolerance 1 \
        --T 1000000
}

# Likewise every GNT and TP flag, at the ends of their ranges.
test_gnt_tp_flags_parse() {
    expect 1 --data /nonexistent --algo gnt --eB 0 --rho 1e6 --gn sample --gnt-output 0
    expect 1 --data /nonexistent --eB=1 --rho=1e-9 --gn=batch --gnt-output=1 --algo gnt
    expect 1 --data /nonexistent --algo tp --beta 1e6 --feedback trained --fb-mu 1e-9 \
        --fb-lr 0 --fb-steps 10000 --fb-noise 0 --fb-activation tanh
    expect 1 --data /nonexistent --beta=0.5 --feedback=closed --fb-mu=2 --fb-lr=1 \
        --fb-steps=1 --fb-noise=1 --fb-activation=linear --algo dtp
}

# The library's names for settings: every setting's flag is its table
# name, which takes the library's value names, and the older flag's words
# as aliases; old flags keep only their own words (test_pc_usage_errors).
test_table_flags() {
    expect 1 --data /nonexistent --algo pc --pc-kappa 0.5 --pc-gamma-out-base 2 \
        --pc-iterations 3 --pc-schedule sequential --pc-init zero --pc-fpa 1 \
        --pc-timing cache --pc-last-layer b --pc-tolerance 0 --mse-centred 0
    expect 1 --data /nonexistent --algo pc --pc-schedule=sim --pc-fpa on --pc-last-layer B
    expect 1 --data /nonexistent --algo gnt --gnt-power 0.5 --gnt-damping 0.1 \
        --gnt-variant sample --gnt-output 0
    expect 1 --data /nonexistent --algo tp --tp-beta 2 --tp-feedback trained \
        --tp-fb-damping 2 --tp-fb-damping-top 0.01 --tp-fb-lr 0.1 --tp-fb-steps 2 \
        --tp-fb-noise 0 --tp-fb-activation identity --tp-fb-init-std 0.5
    expect 1 --data /nonexistent --algo dtp --tp-fb-activation linear
    expect_usage --algo pc --pc-schedule seqq
    grep -q -- '--pc-schedule: unknown value .seqq., expected one of: sequential simultaneous' \
        "$tmp/err" || fail "--pc-schedule seqq message: $(cat "$tmp/err")"
    expect_usage --algo tp --tp-fb-activation relu
    expect_usage --algo pc --pc-kappa -1
    grep -q -- '--pc-kappa: -1 is outside \[0, 1000\]' "$tmp/err" \
        || fail "--pc-kappa -1 message: $(cat "$tmp/err")"
    expect_usage --algo pc --pc-iterations 2.5
    expect_usage --algo pc --pc-fpa 2
    expect_usage --algo bp --tp-fb-init-std 1
    grep -q -- '--tp-fb-init-std applies to --algo tp or dtp only' "$tmp/err" \
        || fail "no message naming the TP-only flag: $(cat "$tmp/err")"
    # pcmup-train never reads recorded updates.
    expect_usage --record-updates 1
    expect 0 --help || return
    grep -q -- '--tp-fb-init-std' "$tmp/out" || fail "--help does not document --tp-fb-init-std"
    grep -q -- 'also --pc-kappa' "$tmp/out" || fail "--help does not name --pc-kappa"
}

# A setting the JSON has not always had is written when it is not the
# default, so older result files keep their configuration strings.
test_new_setting_json() {
    local tiny=(--synthetic --width 8 --train-limit 64 --test-limit 32 --threads 1 --json
        --algo tp --feedback trained)
    expect 0 "${tiny[@]}" || return
    tail -n 1 "$tmp/out" >"$tmp/last"
    grep -q '"tp_fb_init_std"' "$tmp/last" && fail "the default sigma_V is in the JSON"
    expect 0 "${tiny[@]}" --tp-fb-init-std 0.5 || return
    tail -n 1 "$tmp/out" >"$tmp/last"
    has_key tp_fb_init_std 0.5
}

test_runtime_errors() {
    expect 1 --data /nonexistent --train-limit 16 --test-limit 16 || return
    expect_one_line_error --data /nonexistent
    grep -q 'pcmup-train: .*: .' "$tmp/err" || fail "no library message for a missing data dir"
    # The library's own message for NOMEM, not only the status's sentence:
    # no machine has the 400 TB of weights width 10^7 asks for (under
    # AddressSanitizer, the allocator must return NULL too).
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_may_return_null=1" \
        expect_error 1 --synthetic --width 10000000 --threads 1 || return
    grep -q '^pcmup-train: creating the network: pcmup_net_create: cannot allocate .*(PCMUP_ERR_NOMEM)$' \
        "$tmp/err" || fail "NOMEM without the library's message: $(cat "$tmp/err")"
}

# be32 N: N as 4 big-endian bytes.
be32() {
    local b
    for b in 24 16 8 0; do
        # shellcheck disable=SC2059 # the format is the byte's escape
        printf "\\x$(printf %02x $(($1 >> b & 255)))"
    done
}

# write_idx FILE COUNT [DIM...]: an IDX file of COUNT samples of DIM... bytes
# (a label file without DIMs), every byte 1.
write_idx() {
    local file=$1 n=$2 d
    shift
    {
        # shellcheck disable=SC2059
        printf "\\x00\\x00\\x08\\x$(printf %02x $#)"
        for d in "$@"; do be32 "$d"; done
        for d in "${@:2}"; do n=$((n * d)); done
        head -c "$n" /dev/zero | tr '\0' '\1'
    } >"$file"
}

# write_fashion DIR TEST_DIMS...: FashionMNIST's four files in DIR, the
# training set 3 samples of 2 x 2, the test set 3 samples of TEST_DIMS.
write_fashion() {
    local dir=$1
    shift
    mkdir -p "$dir"
    write_idx "$dir/train-images-idx3-ubyte" 3 2 2
    write_idx "$dir/train-labels-idx1-ubyte" 3
    write_idx "$dir/t10k-images-idx3-ubyte" 3 "$@"
    write_idx "$dir/t10k-labels-idx1-ubyte" 3
}

# The data's flags, and data that cannot be trained on, reported before
# any training.
test_data_errors() {
    expect_usage --data ""
    grep -q -- '--data: expected a directory, got an empty string' "$tmp/err" \
        || fail "--data '' message: $(cat "$tmp/err")"
    expect_usage --data=
    expect_usage --max-data-bytes 0
    expect_usage --max-data-bytes -1
    expect_usage --max-data-bytes 1e9
    expect_usage --max-data-bytes
    local tiny=(--width 4 --threads 1 --batch 3 --json)
    write_fashion "$tmp/same" 2 2
    expect 0 --data "$tmp/same" "${tiny[@]}" || return
    has_train_samples() { tail -n 1 "$tmp/out" >"$tmp/last" && has_key train_samples 3; }
    has_train_samples
    # 3 samples of 4 floats and a label: 60 bytes.
    expect 0 --data "$tmp/same" "${tiny[@]}" --max-data-bytes 60 || return
    has_train_samples
    # The test set is loaded first (the training rows are then the last
    # written, warm in the cache for the first epoch).
    expect_error 1 --data "$tmp/same" "${tiny[@]}" --max-data-bytes=59 || return
    grep -q 'loading the test set: .*a dataset of 60 bytes, over the limit of 59 bytes (PCMUP_ERR_FORMAT)$' \
        "$tmp/err" || fail "--max-data-bytes 59 message: $(cat "$tmp/err")"
    # With limits only the samples used are loaded, and the limit counts
    # them: 2 samples, 40 bytes.
    expect 0 --data "$tmp/same" "${tiny[@]}" --max-data-bytes 40 --train-limit 2 \
        --test-limit 2 || return
    tail -n 1 "$tmp/out" >"$tmp/last"
    has_key train_samples 2
    expect_error 1 --data "$tmp/same" "${tiny[@]}" --max-data-bytes 39 --train-limit 2 \
        --test-limit 2 || return
    grep -q 'loading the test set: .*loading the first 2 samples of dimension 4, a dataset of 40 bytes, over the limit of 39 bytes (PCMUP_ERR_FORMAT)$' \
        "$tmp/err" || fail "--max-data-bytes 39 --test-limit 2 message: $(cat "$tmp/err")"
    # A test set of another dimension: before the first epoch.
    write_fashion "$tmp/other" 1 3
    expect_error 1 --data "$tmp/other" "${tiny[@]}" || return
    grep -q '^pcmup-train: checking the test set: the test set has samples of dimension 3 and 10 classes, the training set 4 and 10 (PCMUP_ERR_SHAPE)$' \
        "$tmp/err" || fail "test set dimension message: $(cat "$tmp/err")"
    # Trailing bytes after a gzip stream.
    gzip -n -c "$tmp/same/train-images-idx3-ubyte" >"$tmp/same/train-images-idx3-ubyte.gz"
    printf 'junk' >>"$tmp/same/train-images-idx3-ubyte.gz"
    rm "$tmp/same/train-images-idx3-ubyte"
    expect_error 1 --data "$tmp/same" "${tiny[@]}" || return
    grep -q 'train-images-idx3-ubyte.gz: trailing bytes after the end of the gzip data (PCMUP_ERR_FORMAT)$' \
        "$tmp/err" || fail "trailing gzip junk message: $(cat "$tmp/err")"
}

# write_cifar DIR: CIFAR-10's six batch files in DIR, 3 records each (a
# label byte, 0, 1, 2, then 3072 bytes of 1).
write_cifar() {
    local dir=$1 f r
    mkdir -p "$dir"
    for f in data_batch_1 data_batch_2 data_batch_3 data_batch_4 data_batch_5 test_batch; do
        for r in 0 1 2; do
            # shellcheck disable=SC2059
            printf "\\x0$r"
            head -c 3072 /dev/zero | tr '\0' '\1'
        done >"$dir/$f.bin"
    done
}

# --dataset cifar10: its usage errors, a run on tiny files (the JSON says
# which dataset), and malformed files reported before any training.
test_cifar_data() {
    expect_usage --dataset cifar10
    grep -q -- '--dataset cifar10 needs --data DIR' "$tmp/err" \
        || fail "--dataset cifar10 without --data: $(cat "$tmp/err")"
    expect_usage --dataset cifar --data /nonexistent
    grep -q -- "--dataset: unknown value 'cifar', expected one of: fashion-mnist cifar10" \
        "$tmp/err" || fail "--dataset cifar message: $(cat "$tmp/err")"
    local tiny=(--dataset cifar10 --width 4 --threads 1 --batch 3 --json)
    write_cifar "$tmp/cifar"
    expect 0 --data "$tmp/cifar" "${tiny[@]}" || return
    tail -n 1 "$tmp/out" >"$tmp/last"
    has_key train_samples 15
    has_key test_samples 3
    has_key dataset '"cifar10"'
    # A CNN takes CIFAR-10's 3 x 32 x 32 images without --input-shape.
    expect 0 --data "$tmp/cifar" "${tiny[@]}" --net 'conv3p1:M tanh maxpool2 dense:10' \
        --width 2 || return
    tail -n 1 "$tmp/out" >"$tmp/last"
    has_key input_shape '"3x32x32"'
    write_fashion "$tmp/fashion" 2 2
    expect 0 --data "$tmp/cifar" "${tiny[@]}" --dataset fashion-mnist --data "$tmp/fashion"
    tail -n 1 "$tmp/out" >"$tmp/last"
    grep -q '"dataset"' "$tmp/last" && fail "the default dataset is in the JSON"
    # 3 x 4 + 3 samples of 3072 floats and a label.
    expect_error 1 --data "$tmp/cifar" "${tiny[@]}" --max-data-bytes 184379 || return
    grep -q 'loading the training set: .*data_batch_1..5.bin hold 15 samples of dimension 3072, a dataset of 184380 bytes, over the limit of 184379 bytes (PCMUP_ERR_FORMAT)$' \
        "$tmp/err" || fail "cifar10 --max-data-bytes message: $(cat "$tmp/err")"
    printf '\x0a' | dd of="$tmp/cifar/test_batch.bin" bs=1 seek=3073 conv=notrunc 2>/dev/null
    expect_error 1 --data "$tmp/cifar" "${tiny[@]}" || return
    grep -q 'loading the test set: .*test_batch.bin: record 1 (at byte 3073) has label 10, expected 0..9 (PCMUP_ERR_FORMAT)$' \
        "$tmp/err" || fail "cifar10 label 10 message: $(cat "$tmp/err")"
    write_cifar "$tmp/cifar"
    rm "$tmp/cifar/data_batch_3.bin"
    expect_error 1 --data "$tmp/cifar" "${tiny[@]}" || return
    grep -q "loading the training set: .*$tmp/cifar/data_batch_3.bin: no such file or directory (PCMUP_ERR_IO)\$" \
        "$tmp/err" || fail "cifar10 missing file message: $(cat "$tmp/err")"
}

# has_key KEY REGEX: the JSON line has "KEY":<something matching REGEX>.
has_key() {
    grep -Eq "[{,]\"$1\":$2[,}]" "$tmp/last" || fail "JSON has no \"$1\" matching $2: $(cat "$tmp/last")"
}

# The keys every run's JSON has.
check_json_common() {
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
    has_key train_samples 512
    has_key width 32
}

check_json() {
    check_json_common
    has_key algo '"bp"'
    has_key param '"mup"'
}

test_tiny_runs() {
    have_fashion "BP training runs" || return
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
    grep -q '"gamma_bar"\|"final_energy"' "$tmp/out" && fail "a bp run's JSON has PC keys"
    grep -q '"e_B"\|"gn_variant"' "$tmp/out" && fail "a bp run's JSON has GNT keys"
    grep -q '"beta"\|"fb_mu"' "$tmp/out" && fail "a bp run's JSON has TP keys"
}

check_pc_json() {
    local num='-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?'
    local key
    check_json_common
    for key in gamma_bar gamma_out gamma_L gamma_hidden kappa T init_std tolerance \
        final_energy; do
        has_key "$key" "$num"
    done
    has_key algo '"pc"'
    has_key param '"mup"'
    has_key gamma_bar -1
    has_key gamma_out 2
    # gamma_L = gamma'_L (M / M_base)^-gammabar_L = 2 * (32 / 16)^1
    has_key gamma_L 4
    has_key gamma_hidden 0.5
    has_key kappa 0.5
    has_key T 3
    has_key schedule '"seq"'
    has_key init '"forward"'
    has_key fpa false
    has_key timing '"cache"'
    has_key last_layer '"B"'
    has_key tolerance 0.001
    grep -q '"e_B"\|"beta"' "$tmp/last" && fail "a pc run's JSON has GNT or TP keys"
}

test_tiny_pc_runs() {
    have_fashion "PC training runs" || return
    local tiny=(--data "$data" --train-limit 512 --test-limit 512 --threads 1 --algo pc)
    expect 0 "${tiny[@]}" --width 32 --base-width 16 --gamma-bar -1 --gamma-out 2 \
        --gamma-hidden 0.5 --kappa 0.5 --T 3 --timing cache --last-layer B \
        --tolerance 0.001 --json || return
    check_pc_json
    grep -q '^epoch 1/1 .* energy ' "$tmp/err" || fail "no energy on the PC epoch line: $(cat "$tmp/err")"
    expect 0 "${tiny[@]}" --width 16 --epochs 2 --param sp --schedule sim --T 2 \
        --init random --init-std 0.1 --fpa on --lr 0.01 || return
    [ "$(grep -c '^epoch [12]/2 ' "$tmp/err")" -eq 2 ] || fail "expected two PC epoch lines"
    grep -q 'energy after inference' "$tmp/out" || fail "no energy in the human PC summary"
    grep -q "^pc: gamma bar 0, gamma'_L 1 (gamma_L 1)" "$tmp/out" || fail "no PC settings line: $(cat "$tmp/out")"
}

# check_gnt_json E_B RHO VARIANT OUTPUT: the JSON line of a gnt run.
check_gnt_json() {
    check_json_common
    has_key algo '"gnt"'
    has_key param '"mup"'
    has_key e_B "$1"
    has_key rho "$2"
    has_key gn_variant "\"$3\""
    has_key gnt_output "$4"
    grep -q '"gamma_bar"\|"beta"' "$tmp/last" && fail "a gnt run's JSON has PC or TP keys"
}

test_tiny_gnt_runs() {
    have_fashion "GNT training runs" || return
    local tiny=(--data "$data" --train-limit 512 --test-limit 512 --threads 1 --algo gnt
        --lr 0.01)
    expect 0 "${tiny[@]}" --width 32 --json || return
    check_gnt_json 1 0.01 batch 1
    expect 0 "${tiny[@]}" --width 32 --eB 0.5 --rho 0.1 --gn sample --gnt-output 0 --loss ce \
        --json || return
    check_gnt_json 0.5 0.1 sample 0
    expect 0 "${tiny[@]}" --width 16 --param sp --eB 0 || return
    grep -q "^gnt: e_B 0, rho' 0.01, batch variant" "$tmp/out" || fail "no GNT settings line: $(cat "$tmp/out")"
}

# check_tp_json ALGO FEEDBACK FB_ACTIVATION: the JSON line of a tp or dtp run.
check_tp_json() {
    local num='-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?'
    local key
    check_json_common
    for key in beta fb_mu fb_lr fb_steps fb_noise; do has_key "$key" "$num"; done
    has_key algo "\"$1\""
    has_key param '"mup"'
    has_key feedback "\"$2\""
    has_key fb_activation "\"$3\""
    grep -q '"gamma_bar"\|"e_B"' "$tmp/last" && fail "a $1 run's JSON has PC or GNT keys"
}

test_tiny_tp_runs() {
    have_fashion "TP training runs" || return
    local tiny=(--data "$data" --train-limit 512 --test-limit 512 --threads 1 --width 32)
    expect 0 "${tiny[@]}" --algo dtp --json || return
    check_tp_json dtp closed linear
    has_key beta 1
    has_key fb_mu 1
    expect 0 "${tiny[@]}" --algo tp --feedback trained --fb-activation tanh --fb-steps 2 \
        --fb-noise 0 --fb-lr 0.01 --fb-mu 0.5 --beta 0.5 --json || return
    check_tp_json tp trained tanh
    has_key fb_steps 2
    has_key fb_mu 0.5
    has_key fb_noise 0
    has_key fb_lr 0.01
    has_key beta 0.5
    expect 0 "${tiny[@]}" --algo dtp --param sp --epochs 2 || return
    [ "$(grep -c '^epoch [12]/2 ' "$tmp/err")" -eq 2 ] || fail "expected two DTP epoch lines"
    grep -q '^dtp: beta 1, closed feedback' "$tmp/out" || fail "no TP settings line: $(cat "$tmp/out")"
}

# without_timing FILE: the JSON line without the keys that measure time.
without_timing() {
    tail -n 1 "$1" | sed -E 's/,"(seconds|samples_per_second)":[^,}]*//g'
}

# --synthetic needs no data directory: its sizes, its "data" key, and the
# same numbers from the same seed (different ones from another).
test_synthetic() {
    local tiny=(--synthetic --width 16 --threads 1 --data /nonexistent --json)
    expect 0 "${tiny[@]}" || return
    tail -n 1 "$tmp/out" >"$tmp/last"
    has_key data '"synthetic"'
    has_key train_samples 2048
    has_key test_samples 1024
    expect 0 "${tiny[@]}" --train-limit 300 --test-limit 200 --algo pc --T 2 || return
    tail -n 1 "$tmp/out" >"$tmp/last"
    has_key train_samples 300
    has_key test_samples 200
    without_timing "$tmp/out" >"$tmp/first"
    expect 0 "${tiny[@]}" --train-limit 300 --test-limit 200 --algo pc --T 2 || return
    without_timing "$tmp/out" >"$tmp/second"
    cmp -s "$tmp/first" "$tmp/second" || fail "--synthetic is not deterministic: $(cat "$tmp/first") vs $(cat "$tmp/second")"
    expect 0 "${tiny[@]}" --train-limit 300 --test-limit 200 --algo pc --T 2 --seed 2 || return
    without_timing "$tmp/out" >"$tmp/second"
    cmp -s "$tmp/first" "$tmp/second" && fail "--synthetic gives the same run for seeds 1 and 2"
    # The teacher's labels are learnable: 0.3 or more (chance is 0.1)
    # after three epochs (0.66 measured).
    expect 0 "${tiny[@]}" --epochs 3 --loss ce --lr 0.5 || return
    grep -Eq '"test_acc":0\.[3-9]' "$tmp/out" \
        || fail "--synthetic is not learnable: $(tail -n 1 "$tmp/out")"
}

# PC with FPA, forward init and one sweep is BP's update (gamma_L = 1 at
# the base width), and both train through pcmup_algo_train_epoch, so the
# same seed gives the same samples in the same order: equal results.
test_fpa_run_equals_bp() {
    local tiny=(--synthetic --width 64 --threads 1 --train-limit 512 --epochs 2 --json)
    expect 0 "${tiny[@]}" || return
    jq -c '{train_loss, test_loss, test_acc}' <(tail -n 1 "$tmp/out") >"$tmp/bp"
    expect 0 "${tiny[@]}" --algo pc --fpa on || return
    jq -c '{train_loss, test_loss, test_acc}' <(tail -n 1 "$tmp/out") >"$tmp/pc"
    cmp -s "$tmp/bp" "$tmp/pc" || fail "PC with FPA differs from BP: $(cat "$tmp/bp" "$tmp/pc")"
}

# A run whose weights overflow (issue 10's example) fails with exit 1 and
# a last line naming the divergence and its epoch, never "test loss inf".
test_divergence_exits_1() {
    expect 1 --synthetic --algo pc --param sp --lr 100 --activation relu --batch 100000 \
        --epochs 5 --width 32 || return
    tail -n 1 "$tmp/err" | grep -Eq '^pcmup-train: epoch [0-9]+: .*diverged' ||
        fail "the divergence message names no epoch: $(tail -n 1 "$tmp/err")"
    if grep -Eq 'loss (-?inf|-?nan)' "$tmp/err"; then
        fail "a non-finite loss was printed as a result: $(cat "$tmp/err")"
    fi
}

test_help
test_divergence_exits_1
test_usage_errors
test_synthetic
test_fpa_run_equals_bp
test_pc_usage_errors
test_gnt_usage_errors
test_tp_usage_errors
test_pc_flags_parse
test_gnt_tp_flags_parse
test_table_flags
test_new_setting_json
test_runtime_errors
test_data_errors
test_cifar_data
test_tiny_runs
test_tiny_pc_runs
test_tiny_gnt_runs
test_tiny_tp_runs

finish
