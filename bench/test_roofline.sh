#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_roofline.sh -- smoke test of pcmup-bench --roofline: the JSON lines
# carry the documented keys, one line per (rule, width, batch), every time
# positive and ratio = step_ms / gemm_ms; bad lists are usage errors. No
# timing is asserted (the machine is shared).
#
#   test_roofline.sh PATH/TO/pcmup-bench
# Needs bash and jq.
set -u

prog=${1:?usage: test_roofline.sh PATH/TO/pcmup-bench}
if ! command -v jq >/dev/null; then
    echo "test_roofline.sh: jq is needed" >&2
    exit 1
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

rules=bp,pc-seq1,pc-sim20,gnt-batch,gnt-sample,tp-closed,tp-trained,dtp-closed,dtp-trained
if ! "$prog" --roofline --json --quick --widths 16,24 --batches 8 --rules "$rules" \
    >"$tmp/out" 2>"$tmp/err"; then
    fail "--roofline --json exited $?: $(head -c 300 "$tmp/err")"
fi
lines=$(wc -l <"$tmp/out")
[ "$lines" -eq 18 ] || fail "expected 18 JSON lines (9 rules x 2 widths), got $lines"
# Every line: the keys with the right types, the case it names, positive
# times, and the ratio the two times give (to the printed precision).
bad=$(jq -c 'select((.rule | type) != "string" or (.width | type) != "number"
                    or (.batch != 8) or (.width != 16 and .width != 24)
                    or (.step_ms | type) != "number" or (.gemm_ms | type) != "number"
                    or (.ratio | type) != "number" or .step_ms <= 0 or .gemm_ms <= 0
                    or .gemms < 1
                    or ((.ratio - .step_ms / .gemm_ms) | fabs) > 1e-4 * .ratio)' \
      "$tmp/out" 2>&1)
[ -z "$bad" ] || fail "bad lines: $(echo "$bad" | head -3)"
# Each rule at each width exactly once.
for r in ${rules//,/ }; do
    for w in 16 24; do
        n=$(jq -c "select(.rule == \"$r\" and .width == $w)" "$tmp/out" | wc -l)
        [ "$n" -eq 1 ] || fail "rule $r width $w: $n lines"
    done
done
# BP's products at depth 3: three forward, three weight gradients, two
# input VJPs (none for the input layer).
n=$(jq 'select(.rule == "bp") | .gemms' "$tmp/out" | sort -u)
[ "$n" = 8 ] || fail "bp: expected 8 GEMMs per step, got '$n'"

# Usage errors exit 2 with a message.
for args in "--rules nosuch" "--widths 0" "--batches 8,x" "--widths ,"; do
    # shellcheck disable=SC2086
    "$prog" --roofline $args >"$tmp/out" 2>"$tmp/err"
    st=$?
    [ "$st" -eq 2 ] || fail "--roofline $args: exit $st, expected 2"
    [ -s "$tmp/err" ] || fail "--roofline $args: no message"
done
"$prog" --json >"$tmp/out" 2>"$tmp/err"
[ $? -eq 2 ] || fail "--json without --roofline should be a usage error"

if [ "$failures" -gt 0 ]; then
    echo "$failures failure(s)"
    exit 1
fi
echo "all roofline checks passed"
