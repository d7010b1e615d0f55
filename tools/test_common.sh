# SPDX-License-Identifier: MIT
# test_common.sh -- what the tools' CLI tests share. Sourced by each
# tools/test_*.sh that checks a program, after it sets `prog` (the
# program to run) and `name` (what messages call it).
#
# run ARGS... leaves stdout in $tmp/out, stderr in $tmp/err and the exit
# status in $status; fail records a failure; skip records checks that
# could not run; finish reports and exits.

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0
skipped=

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# skip WHAT WHY: the checks WHAT could not run here, because WHY (their
# data is absent). The other checks still run; finish then exits 77,
# ctest's SKIP_RETURN_CODE, so the test reports "skipped" rather than a
# pass it did not earn.
skip() {
    echo "skipped: $1 ($2)"
    skipped="${skipped:+$skipped, }$1"
}

# have_fashion WHAT: FashionMNIST is in $data, which the script sets (the
# check examples/run_example.sh makes); otherwise WHAT is recorded as
# skipped.
have_fashion() {
    [ -r "$data/train-labels-idx1-ubyte.gz" ] || [ -r "$data/train-labels-idx1-ubyte" ] ||
        { skip "$1" "no FashionMNIST at $data"; return 1; }
}

# Words run puts before the program: a launcher (mpirun -n 2), say.
run_with=()

# run ARGS...: runs the program, leaving stdout, stderr and status behind.
run() {
    "${run_with[@]}" "$prog" "$@" >"$tmp/out" 2>"$tmp/err"
    status=$?
    # Under AddressSanitizer (docs/testing.md), with allocator_may_return_null=1,
    # a request over its 1 TiB maximum returns NULL as malloc would, but
    # announces it on a line of its own whatever the options: the
    # sanitizer's line, not the program's. A real report ends the program
    # with status 86 and stays.
    sed -i '/^==[0-9]*==WARNING: AddressSanitizer failed to allocate 0x[0-9a-f]* bytes$/d' "$tmp/err"
}

# expect CODE ARGS...: the exit status is CODE.
expect() {
    local code=$1
    shift
    run "$@"
    if [ "$status" -ne "$code" ]; then
        fail "$name $* exited $status, expected $code; stderr: $(head -c 300 "$tmp/err")"
        return 1
    fi
}

# The failure message is exactly one line, "NAME: <what>".
expect_one_line_error() {
    local lines
    lines=$(wc -l <"$tmp/err")
    if [ "$lines" -ne 1 ] || ! grep -q "^$name: " "$tmp/err"; then
        fail "$name $* : stderr is not one '$name: ' line: $(cat "$tmp/err")"
    fi
}

# expect_error CODE ARGS...: exit CODE with one "NAME: " line on stderr
# and nothing on stdout.
expect_error() {
    local code=$1
    shift
    expect "$code" "$@" || return
    expect_one_line_error "$@"
    if [ -s "$tmp/out" ]; then
        fail "$name $* wrote to stdout on an error"
    fi
}

# expect_usage ARGS...: a usage error (exit 2).
expect_usage() {
    expect_error 2 "$@"
}

finish() {
    if [ "$failures" -ne 0 ]; then
        echo "$failures check(s) failed"
        exit 1
    fi
    if [ -n "$skipped" ]; then
        echo "the $name CLI checks that ran passed; skipped: $skipped"
        exit 77
    fi
    echo "all $name CLI checks passed"
}
