#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_plot.sh -- checks pcmup-plot's command-line contract and figures.
#
#   test_plot.sh PATH/TO/pcmup-plot
#
# Small JSON-lines fixtures written here stand in for pcmup-sweep's and
# pcmup-coord's (also --training's) output. The SVG is checked as text: it must be well formed
# (xmllint), and the curves, markers and legend entries carry classes and
# data-* attributes that say which panel, width or layer they draw.
# Needs bash, grep, sed, awk and xmllint (libxml2-utils).
set -u

prog=${1:?usage: test_plot.sh PATH/TO/pcmup-plot}
name=pcmup-plot
if ! command -v xmllint >/dev/null; then
    echo "test_plot.sh: xmllint (libxml2-utils) is needed" >&2
    exit 1
fi
# shellcheck source=test_common.sh
source "$(dirname "$0")/test_common.sh"

# plot OUT ARGS...: a run that must succeed and write a well-formed SVG
# with no non-finite number in it.
plot() {
    local svg=$1
    shift
    expect 0 "$@" -o "$svg" || return 1
    if ! xmllint --noout "$svg" 2>"$tmp/xmllint"; then
        fail "pcmup-plot $* : $svg is not well-formed XML: $(head -c 300 "$tmp/xmllint")"
        return 1
    fi
    if grep -Eqi 'nan|inf' "$svg"; then
        fail "pcmup-plot $* : $svg has a non-finite number: $(grep -Eio '.{30}(nan|inf).{10}' "$svg" | head -1)"
        return 1
    fi
}

# count PATTERN FILE: how many times the fixed string occurs.
count() {
    grep -oF -- "$1" "$2" | wc -l
}

# expect_count N PATTERN FILE [WHAT]
expect_count() {
    local n
    n=$(count "$2" "$3")
    [ "$n" -eq "$1" ] || fail "${4:-$3}: '$2' occurs $n times, expected $1"
}

# curve_d FILE ATTR VALUE PANEL: the d attribute of that curve.
curve_d() {
    grep -o "<path class=\"curve\" $2=\"$3\" data-panel=\"$4\"[^>]*>" "$1" |
        sed 's/.* d="\([^"]*\)".*/\1/'
}

# The x pixel coordinates of a curve's points, one per line.
curve_xs() {
    curve_d "$@" | grep -Eo '[-0-9.]+,[-0-9.]+' | cut -d, -f1
}

# ---- fixtures --------------------------------------------------------------------

# Two configurations; the second's label needs escaping. Rows are not in
# lr order. In "SP": width 64 has a repeated lr 2^-8 whose later row (0.95)
# must win and be the best point; width 256 has a diverged row at 2^-4 and
# a row with a null metric at 2^-5, which must be markers, not vertices.
write_sweep() {
    cat >"$tmp/sweep.jsonl" <<'EOF'
{"label":"SP","config":"algo=bp param=sp","algo":"bp","param":"sp","width":64,"lr":0.0625,"log2_lr":-4,"train_loss":0.5,"test_loss":0.6,"test_acc":0.70,"diverged":false,"seconds":1,"gamma_out":1}
{"label":"SP","config":"algo=bp param=sp","algo":"bp","param":"sp","width":64,"lr":0.00390625,"log2_lr":-8,"train_loss":0.5,"test_loss":0.6,"test_acc":0.40,"diverged":false,"seconds":1,"gamma_out":1}
{"label":"SP","config":"algo=bp param=sp","algo":"bp","param":"sp","width":64,"lr":0.015625,"log2_lr":-6,"train_loss":0.4,"test_loss":0.5,"test_acc":0.85,"diverged":false,"seconds":1,"gamma_out":1}
{"label":"SP","config":"algo=bp param=sp","algo":"bp","param":"sp","width":64,"lr":0.03125,"log2_lr":-5,"train_loss":0.45,"test_loss":0.55,"test_acc":0.80,"diverged":false,"seconds":1,"gamma_out":1}
{"label":"SP","config":"algo=bp param=sp","algo":"bp","param":"sp","width":64,"lr":0.0078125,"log2_lr":-7,"train_loss":0.42,"test_loss":0.52,"test_acc":0.82,"diverged":false,"seconds":1,"gamma_out":1}
{"label":"SP","config":"algo=bp param=sp","algo":"bp","param":"sp","width":64,"lr":0.00390625,"log2_lr":-8,"train_loss":0.3,"test_loss":0.4,"test_acc":0.95,"diverged":false,"seconds":1,"gamma_out":1}
{"label":"SP","config":"algo=bp param=sp","algo":"bp","param":"sp","width":128,"lr":0.00390625,"log2_lr":-8,"train_loss":0.5,"test_loss":0.6,"test_acc":0.80,"diverged":false,"seconds":1,"gamma_out":1}
{"label":"SP","config":"algo=bp param=sp","algo":"bp","param":"sp","width":128,"lr":0.015625,"log2_lr":-6,"train_loss":0.5,"test_loss":0.6,"test_acc":0.86,"diverged":false,"seconds":1,"gamma_out":1}
{"label":"SP","config":"algo=bp param=sp","algo":"bp","param":"sp","width":256,"lr":0.00390625,"log2_lr":-8,"train_loss":0.5,"test_loss":0.6,"test_acc":0.81,"diverged":false,"seconds":1,"gamma_out":1}
{"label":"SP","config":"algo=bp param=sp","algo":"bp","param":"sp","width":256,"lr":0.0625,"log2_lr":-4,"train_loss":null,"test_loss":null,"test_acc":null,"diverged":true,"seconds":1,"gamma_out":1}
{"label":"SP","config":"algo=bp param=sp","algo":"bp","param":"sp","width":256,"lr":0.015625,"log2_lr":-6,"train_loss":0.5,"test_loss":0.6,"test_acc":0.87,"diverged":false,"seconds":1,"gamma_out":1}
{"label":"SP","config":"algo=bp param=sp","algo":"bp","param":"sp","width":256,"lr":0.03125,"log2_lr":-5,"train_loss":0.5,"test_loss":0.6,"test_acc":null,"diverged":false,"seconds":1,"gamma_out":1}
{"label":"SP","config":"algo=bp param=sp","algo":"bp","param":"sp","width":256,"lr":0.0078125,"log2_lr":-7,"train_loss":0.5,"test_loss":0.6,"test_acc":0.84,"diverged":false,"seconds":1,"gamma_out":1}
{"label":"A & <B> \"q\"","config":"algo=pc param=mup","algo":"pc","param":"mup","width":64,"lr":0.015625,"log2_lr":-6,"train_loss":0.3,"test_loss":0.35,"test_acc":0.88,"diverged":false,"seconds":1,"gamma_out":2}
{"label":"A & <B> \"q\"","config":"algo=pc param=mup","algo":"pc","param":"mup","width":64,"lr":0.03125,"log2_lr":-5,"train_loss":0.2,"test_loss":0.25,"test_acc":0.90,"diverged":false,"seconds":1,"gamma_out":4}
{"label":"A & <B> \"q\"","config":"algo=pc param=mup","algo":"pc","param":"mup","width":256,"lr":0.015625,"log2_lr":-6,"train_loss":0.31,"test_loss":0.36,"test_acc":0.89,"diverged":false,"seconds":1,"gamma_out":2}
{"label":"A & <B> \"q\"","config":"algo=pc param=mup","algo":"pc","param":"mup","width":256,"lr":0.03125,"log2_lr":-5,"train_loss":0.21,"test_loss":0.26,"test_acc":0.91,"diverged":false,"seconds":1,"gamma_out":4}
EOF
}

# One configuration, three layers (the third the output f), two widths
# with a change at steps 0 (exactly zero), 1 and 2; at width 256, step 2,
# layer 2 diverged (null dh).
write_coord() {
    local w step layer signal dh
    : >"$tmp/coord.jsonl"
    for w in 64 128 256; do
        for step in 0 1 2; do
            for layer in 1 2 3; do
                signal=h
                [ "$layer" -eq 3 ] && signal=f
                dh="0.0$layer$step"
                [ "$step" -eq 0 ] && dh=0
                [ "$w" -eq 256 ] && [ "$step" -eq 2 ] && [ "$layer" -eq 2 ] && dh=null
                printf '{"label":"muP & PC","config":"c","algo":"pc","param":"mup","width":%s,"step":%s,"layer":%s,"signal":"%s","dh":%s,"h_abs":1}\n' \
                    "$w" "$step" "$layer" "$signal" "$dh" >>"$tmp/coord.jsonl"
            done
        done
    done
}

# ---- tests -------------------------------------------------------------------------

test_help() {
    expect 0 --help || return
    grep -q '^Usage: pcmup-plot sweep' "$tmp/out" || fail "--help prints no Usage line"
    local flag
    for flag in -o --filter --columns --title --metric --x --step --all-steps; do
        grep -q -- "$flag" "$tmp/out" || fail "--help does not document $flag"
    done
    expect 0 sweep -h || return
    grep -q '^Usage: pcmup-plot' "$tmp/out" || fail "-h prints no Usage line"
}

test_usage_errors() {
    local s=$tmp/sweep.jsonl c=$tmp/coord.jsonl o=$tmp/u.svg
    expect_error 2
    expect_error 2 plot "$s" -o "$o"
    expect_error 2 sweep -o "$o"
    expect_error 2 sweep "$s"
    expect_error 2 sweep "$s" -o
    expect_error 2 sweep "$s" -o "$o" --bogus
    expect_error 2 sweep "$s" -o "$o" --columns 0
    expect_error 2 sweep "$s" -o "$o" --columns 2x
    expect_error 2 sweep "$s" -o "$o" --metric
    expect_error 2 sweep "$s" -o "$o" --metric ''
    expect_error 2 sweep "$s" -o "$o" --filter width
    expect_error 2 sweep "$s" -o "$o" --filter =64
    expect_error 2 sweep "$s" -o "$o" --step 1
    expect_error 2 sweep "$s" -o "$o" --all-steps
    expect_error 2 coord "$c" -o "$o" --x lr
    expect_error 2 coord "$c" -o "$o" --x gamma_out
    expect_error 2 coord "$c" -o "$o" --step -1
    expect_error 2 coord "$c" -o "$o" --step 1 --all-steps
    expect_error 2 training "$c" -o "$o" --step 1
    expect_error 2 training "$c" -o "$o" --all-steps
    expect_error 2 training "$c" -o "$o" --x lr
    [ -e "$o" ] && fail "a usage error wrote $o"
}

test_empty_input() {
    local o=$tmp/e.svg
    : >"$tmp/empty.jsonl"
    expect_error 1 sweep "$tmp/empty.jsonl" -o "$o"
    expect_error 1 coord "$tmp/empty.jsonl" -o "$o"
    expect_error 1 sweep "$tmp/no-such-file.jsonl" -o "$o"
    expect_error 1 sweep "$tmp/sweep.jsonl" -o "$o" --filter label=nobody
    expect_error 1 sweep "$tmp/sweep.jsonl" -o "$o" --metric no_such_metric
    echo '{"label": "x", "width": [1]}' >"$tmp/bad.jsonl"
    expect_error 1 sweep "$tmp/bad.jsonl" -o "$o"
    [ -e "$o" ] && fail "a failed run wrote $o"
}

test_sweep() {
    local svg=$tmp/sweep.svg w
    plot "$svg" sweep "$tmp/sweep.jsonl" --title 'Fig & 1' || return
    expect_count 2 '<g class="panel"' "$svg" "sweep panels"
    expect_count 5 'class="curve"' "$svg" "sweep curves"
    for w in 64 128 256; do
        expect_count 1 "class=\"curve\" data-width=\"$w\" data-panel=\"0\"" "$svg"
        expect_count 1 ">width $w<" "$svg" "legend"
    done
    for w in 64 256; do
        expect_count 1 "class=\"curve\" data-width=\"$w\" data-panel=\"1\"" "$svg"
    done
    expect_count 0 "data-width=\"128\" data-panel=\"1\"" "$svg"
    expect_count 3 '>width ' "$svg" "legend entries"
    expect_count 1 '>SP<' "$svg" "panel titles"
    expect_count 1 '>A &amp; &lt;B&gt; &quot;q&quot;<' "$svg" "escaped panel title"
    expect_count 1 '>Fig &amp; 1<' "$svg" "escaped figure title"
    grep -q '>log2 lr<' "$svg" || fail "no 'log2 lr' axis label"

    # Width 256 in "SP": 3 rows with values, 2 without (diverged and null).
    expect_count 2 'class="diverged" data-width="256" data-panel="0"' "$svg"
    expect_count 2 'class="diverged"' "$svg" "diverged markers"
    [ "$(curve_xs "$svg" data-width 256 0 | wc -l)" -eq 3 ] ||
        fail "the width 256 curve has not 3 vertices: $(curve_d "$svg" data-width 256 0)"
    # Width 64: the repeated lr counts once, points in increasing x.
    local xs
    xs=$(curve_xs "$svg" data-width 64 0)
    [ "$(echo "$xs" | wc -l)" -eq 5 ] || fail "width 64 curve: not 5 vertices: $xs"
    echo "$xs" | sort -g -c 2>/dev/null || fail "width 64 curve: x not increasing: $xs"
    # The later 2^-8 row (0.95) replaced the earlier (0.40): it is the best
    # point, at the smallest x.
    expect_count 5 'class="best"' "$svg" "best markers (one per curve)"
    local best_cx
    best_cx=$(grep -o '<circle class="best" data-width="64" data-panel="0"[^>]*>' "$svg" |
        sed 's/.* cx="\([^"]*\)".*/\1/')
    [ "$best_cx" = "$(echo "$xs" | head -1)" ] ||
        fail "best point of width 64 at x=$best_cx, expected the 2^-8 point $(echo "$xs" | head -1)"
}

test_sweep_options() {
    local svg=$tmp/opt.svg
    plot "$svg" sweep "$tmp/sweep.jsonl" --filter width=128 || return
    expect_count 1 'class="curve"' "$svg" "--filter width=128"
    expect_count 1 'class="curve" data-width="128"' "$svg" "--filter width=128 (curve)"
    expect_count 1 '>width 128<' "$svg" "--filter legend"
    expect_count 0 '>width 64<' "$svg" "--filter legend"

    plot "$svg" sweep "$tmp/sweep.jsonl" --filter algo=pc --filter width=64 || return
    expect_count 1 '<g class="panel"' "$svg" "two filters: panels"
    expect_count 1 'class="curve" data-width="64" data-panel="0"' "$svg" "two filters"
    plot "$svg" sweep "$tmp/sweep.jsonl" --filter diverged=true || return
    expect_count 0 'class="curve"' "$svg" "--filter diverged=true"
    expect_count 1 'class="diverged"' "$svg" "--filter diverged=true"

    # Losses: the best point is the lowest (train_loss 0.3 at 2^-8).
    plot "$svg" sweep "$tmp/sweep.jsonl" --metric train_loss || return
    grep -q '>train_loss<' "$svg" || fail "--metric: no train_loss axis label"
    local xs best_cx
    xs=$(curve_xs "$svg" data-width 64 0)
    best_cx=$(grep -o '<circle class="best" data-width="64" data-panel="0"[^>]*>' "$svg" |
        sed 's/.* cx="\([^"]*\)".*/\1/')
    [ "$best_cx" = "$(echo "$xs" | head -1)" ] || fail "--metric train_loss: best is not the minimum"

    # gamma_out as x: the "A" panel has two x values per width.
    plot "$svg" sweep "$tmp/sweep.jsonl" --x gamma_out --filter algo=pc || return
    grep -q '>log2 gamma_out<' "$svg" || fail "--x: no 'log2 gamma_out' axis label"
    [ "$(curve_xs "$svg" data-width 64 0 | wc -l)" -eq 2 ] || fail "--x gamma_out: not 2 points"

    # One column: the figure is narrower than three columns' worth.
    plot "$tmp/one.svg" sweep "$tmp/sweep.jsonl" --columns 1 || return
    local w1 w2
    w1=$(grep -o '<svg [^>]*' "$tmp/one.svg" | sed 's/.* width="\([0-9]*\)".*/\1/')
    w2=$(grep -o '<svg [^>]*' "$tmp/sweep.svg" | sed 's/.* width="\([0-9]*\)".*/\1/')
    [ "$w1" -lt "$w2" ] || fail "--columns 1: width $w1 is not below the default's $w2"

    expect 0 sweep "$tmp/sweep.jsonl" -o - || return
    grep -q '^<svg ' "$tmp/out" || fail "-o - wrote no SVG to stdout"
}

# Rows without "label" are grouped by "config", then by "algo param".
test_sweep_groups() {
    local svg=$tmp/groups.svg
    cat >"$tmp/groups.jsonl" <<'EOF'
{"config":"cfg-one","algo":"bp","param":"sp","width":64,"lr":0.01,"test_acc":0.5,"diverged":false}
{"algo":"tp","param":"mup","width":64,"lr":0.01,"test_acc":0.6,"diverged":false}
{"label":"","config":"cfg-one","algo":"bp","param":"sp","width":128,"lr":0.01,"test_acc":0.5,"diverged":false}
{"label":"algo=pc param=mup gamma_bar=-1 gamma_out=1 T=20 schedule=seq & <more>","width":64,"lr":0.01,"test_acc":0.6,"diverged":false}
EOF
    plot "$svg" sweep "$tmp/groups.jsonl" || return
    expect_count 3 '<g class="panel"' "$svg" "grouping"
    expect_count 1 '>cfg-one<' "$svg" "config group"
    expect_count 1 '>tp mup<' "$svg" "algo param group"
    # A title too long for its panel is cut, the whole kept as a tooltip.
    expect_count 1 '<title>algo=pc param=mup gamma_bar=-1 gamma_out=1 T=20 schedule=seq &amp; &lt;more&gt;</title>' "$svg" "long title"
    grep -q '</title>algo=pc param=mup gamma_bar=-1 [^<]*…</text>' "$svg" || fail "long title: not cut with an ellipsis"
}

test_degenerate() {
    local svg=$tmp/deg.svg
    # A constant metric, a single point, a panel where every run diverged.
    cat >"$tmp/deg.jsonl" <<'EOF'
{"label":"flat","width":64,"lr":0.01,"test_acc":0.5,"diverged":false}
{"label":"flat","width":64,"lr":0.02,"test_acc":0.5,"diverged":false}
{"label":"flat","width":64,"lr":0.04,"test_acc":0.5,"diverged":false}
{"label":"one","width":128,"lr":0.01,"test_acc":0.7,"diverged":false}
{"label":"zero","width":128,"lr":0.01,"test_acc":0,"diverged":false}
{"label":"zero","width":128,"lr":0.02,"test_acc":0,"diverged":false}
{"label":"gone","width":64,"lr":0.01,"test_acc":null,"diverged":true}
EOF
    plot "$svg" sweep "$tmp/deg.jsonl" || return
    expect_count 4 '<g class="panel"' "$svg" "degenerate panels"
    expect_count 3 'class="curve"' "$svg" "degenerate curves"
    expect_count 1 'class="diverged"' "$svg" "all-diverged panel"
    head -1 "$tmp/deg.jsonl" >"$tmp/single.jsonl"
    plot "$svg" sweep "$tmp/single.jsonl" || return
    expect_count 1 'class="curve"' "$svg" "single row"

    printf '%s\n' '{"label":"c","width":64,"step":1,"layer":1,"signal":"h","dh":0.5}' \
        '{"label":"c","width":128,"step":1,"layer":1,"signal":"h","dh":0.5}' >"$tmp/flat.jsonl"
    plot "$svg" coord "$tmp/flat.jsonl" || return
    expect_count 1 'class="curve"' "$svg" "constant coord"
    head -1 "$tmp/flat.jsonl" >"$tmp/single.jsonl"
    plot "$svg" coord "$tmp/single.jsonl" || return
    expect_count 1 'class="curve"' "$svg" "single coord point"
}

test_coord() {
    local svg=$tmp/coord.svg l
    plot "$svg" coord "$tmp/coord.jsonl" || return
    expect_count 1 '<g class="panel"' "$svg" "coord panels (largest step)"
    expect_count 1 '>muP &amp; PC, step 2<' "$svg" "coord panel title"
    for l in 1 2 3; do
        expect_count 1 "class=\"curve\" data-layer=\"$l\" data-panel=\"0\"" "$svg"
    done
    expect_count 3 'class="curve"' "$svg" "coord curves"
    expect_count 1 '>h_1<' "$svg" "coord legend"
    expect_count 1 '>h_2<' "$svg" "coord legend"
    expect_count 1 '>f<' "$svg" "coord legend"
    expect_count 0 '>h_3<' "$svg" "coord legend (layer 3 is f)"
    expect_count 1 'class="diverged" data-layer="2"' "$svg" "coord diverged marker"
    [ "$(curve_xs "$svg" data-layer 2 0 | wc -l)" -eq 2 ] || fail "coord layer 2: not 2 vertices"
    [ "$(curve_xs "$svg" data-layer 1 0 | wc -l)" -eq 3 ] || fail "coord layer 1: not 3 vertices"
    grep -q '>width<' "$svg" || fail "coord: no width axis label"

    plot "$svg" coord "$tmp/coord.jsonl" --step 1 || return
    expect_count 1 '>muP &amp; PC, step 1<' "$svg" "--step 1"
    expect_count 0 'class="diverged"' "$svg" "--step 1 diverged markers"
    # Step 0's changes are exactly 0: no place on a log axis, no panel.
    plot "$svg" coord "$tmp/coord.jsonl" --all-steps || return
    expect_count 2 '<g class="panel"' "$svg" "--all-steps panels"
    expect_count 6 'class="curve"' "$svg" "--all-steps curves"
    plot "$svg" coord "$tmp/coord.jsonl" --filter layer=3 || return
    expect_count 1 'class="curve"' "$svg" "coord --filter layer=3"
    expect_error 1 coord "$tmp/coord.jsonl" -o "$svg.none" --step 7
}

# Alignment rows (pcmup-coord --alignment): per layer, no step, no signal,
# cosines on a linear axis.
test_coord_metric() {
    local svg=$tmp/align.svg a=$tmp/align.jsonl w l
    : >"$a"
    for w in 64 256 1024; do
        for l in 1 2 3; do
            printf '{"label":"PC, gbar -1","width":%s,"layer":%s,"cos_bp":0.%s%s,"cos_gn":0.5}\n' \
                "$w" "$l" "$l" "${#w}" >>"$a"
        done
    done
    plot "$svg" coord "$a" --metric cos_bp || return
    expect_count 1 '<g class="panel"' "$svg" "alignment panels"
    expect_count 1 '>PC, gbar -1<' "$svg" "alignment panel title has no step"
    expect_count 3 'class="curve"' "$svg" "alignment curves"
    expect_count 1 '>W_3<' "$svg" "alignment legend"
    expect_count 0 '>f<' "$svg" "alignment legend has no f"
    # A linear axis: plain tick labels, no powers of ten.
    expect_count 0 '10<tspan' "$svg" "alignment y ticks"
    grep -q '>cos_bp<' "$svg" || fail "alignment: no cos_bp axis label"
    expect_error 1 coord "$a" -o "$svg.none"   # no dh in these rows
    expect_usage coord "$a" -o "$svg.none" --x lr
}

# Delta h across training (pcmup-coord --training rows; the coord
# fixture's rows have a step too): one panel per layer, dh against the
# step on log axes, one curve per width.
test_training() {
    local svg=$tmp/training.svg t=$tmp/training.jsonl w p xs ys
    sed 's/"config":"c",/"config":"c","mode":"training",/' "$tmp/coord.jsonl" >"$t"
    plot "$svg" training "$t" || return
    expect_count 3 '<g class="panel"' "$svg" "training panels (one per layer)"
    expect_count 1 '>h_1: muP &amp; PC<' "$svg" "training panel title"
    expect_count 1 '>h_2: muP &amp; PC<' "$svg" "training panel title"
    expect_count 1 '>f: muP &amp; PC<' "$svg" "training panel title (output)"
    expect_count 9 'class="curve"' "$svg" "training curves (3 layers x 3 widths)"
    for w in 64 128 256; do
        expect_count 1 ">width $w<" "$svg" "training legend"
    done
    grep -q '>step<' "$svg" || fail "training: no step axis label"
    # Step 0 (dh exactly 0) is left out: steps 1 and 2 remain, in order,
    # and dh grows from step 1 to 2 (a smaller y pixel is higher).
    for p in 0 1 2; do
        xs=$(curve_xs "$svg" data-width 64 "$p" | tr '\n' ' ')
        ys=$(curve_d "$svg" data-width 64 "$p" | grep -Eo '[-0-9.]+,[-0-9.]+' | cut -d, -f2 |
             tr '\n' ' ')
        awk -v x="$xs" -v y="$ys" 'BEGIN { split(x, a, " "); split(y, b, " ");
            exit !(length(a) == 2 && a[1] < a[2] && b[1] > b[2]) }' \
            || fail "training panel $p, width 64: x '$xs', y '$ys'"
    done
    # Width 256, layer 2 diverged at step 2: one vertex and a marker.
    [ "$(curve_xs "$svg" data-width 256 1 | wc -l)" -eq 1 ] || fail "training: diverged curve"
    expect_count 1 'class="diverged" data-width="256" data-panel="1"' "$svg" "training diverged marker"
    plot "$svg" training "$t" --filter layer=3 || return
    expect_count 1 '<g class="panel"' "$svg" "training --filter layer=3"
    plot "$svg" training "$t" --metric h_abs || return
    expect_count 3 '<g class="panel"' "$svg" "training --metric h_abs"
    # The same rows against width, as the coordinate check draws them.
    plot "$svg" coord "$t" || return
    expect_count 3 'class="curve"' "$svg" "training rows in coord"
    # Rows without a positive step (alignment rows) have nothing to draw.
    head -3 "$t" >"$tmp/step0.jsonl"
    expect_error 1 training "$tmp/step0.jsonl" -o "$svg.none"
}

write_sweep
write_coord
test_help
test_usage_errors
test_empty_input
test_sweep
test_sweep_options
test_sweep_groups
test_degenerate
test_coord
test_coord_metric
test_training

finish
