#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# reproduce.sh -- the runs behind docs/reproduction.md.
#
#   bash docs/reproduce.sh [BUILD_DIR] [PART...]
#
# PART is any of fig1 rules seeds coord fig2 fig3 fig5 fig4 fig4dh fig4plot (default: all but
# fig4, whose predictive-coding sweep is the costliest part). Results go
# to docs/figures/: JSON lines (*.jsonl, appended; pcmup-sweep skips the
# points a file already has, so an interrupted run resumes) and SVG figures.
# Needs a build of the tools and FashionMNIST (dataset-fashion-mnist).
set -eu

cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=build
if [ $# -gt 0 ] && [ -d "$1" ]; then
    build=$1
    shift
fi
bin=$build/tools
out=docs/figures
mkdir -p "$out"
parts=${*:-fig1 rules seeds coord fig2 fig3 fig5}
# fig4 only: run shard I of N of its sweeps (FIG4_SHARD=1/2 and 2/2 in two
# processes use both cores of a 2-core machine).
fig4_shard=${FIG4_SHARD:-1/1}

# The Figure 1 protocol: FashionMNIST, 10k training samples, the full test
# set, 3 epochs, batch 64, 3-layer tanh MLP, centred-MSE, widths 64..1024,
# nine learning rates 2^-10 .. 2^-2.
data="--train-limit 10000 --epochs 3"
widths="--widths 64,128,256,512,1024"
grid="--log2-lr -10:-2"

sweep() { # FILE LABEL FLAGS...
    local file=$1 label=$2
    shift 2
    "$bin/pcmup-sweep" $data $widths $grid --label "$label" --out "$out/$file" "$@"
}

fig1() {
    local widths="--widths 64,128,256,512,1024,2048"
    sweep fig1.jsonl "BP muP" --algo bp --param mup
    sweep fig1.jsonl "BP SP" --algo bp --param sp
    sweep fig1.jsonl "PC muP, FPA (= SGD)" --algo pc --param mup --fpa on
    sweep fig1.jsonl "PC muP, gammabar 0" --algo pc --param mup --gamma-bar 0
    sweep fig1.jsonl "PC muP, gammabar -1" --algo pc --param mup --gamma-bar -1
    sweep fig1.jsonl "PC SP" --algo pc --param sp
    "$bin/pcmup-plot" sweep "$out/fig1.jsonl" -o "$out/fig1.svg" \
        --title "Figure 1: test accuracy against log2 lr, FashionMNIST, 3 epochs"
}

# The headline again with seeds 2 and 3 (seed 1 is fig1.jsonl and
# rules.jsonl): how much of a best-rate move is the seed's.
seeds() {
    local seed
    for seed in 2 3; do
        sweep seeds.jsonl "BP muP, seed $seed" --algo bp --param mup --seed $seed
        sweep seeds.jsonl "BP SP, seed $seed" --algo bp --param sp --seed $seed
        sweep seeds.jsonl "PC muP, gammabar -1, seed $seed" --algo pc --param mup \
            --gamma-bar -1 --seed $seed
        sweep seeds.jsonl "PC SP, seed $seed" --algo pc --param sp --seed $seed
        sweep seeds.jsonl "DTP muP, seed $seed" --algo dtp --param mup --seed $seed
        sweep seeds.jsonl "DTP SP, seed $seed" --algo dtp --param sp --seed $seed
        sweep seeds.jsonl "TP muP, seed $seed" --algo tp --param mup --fb-mu-top 0.01 \
            --seed $seed
        sweep seeds.jsonl "TP SP, seed $seed" --algo tp --param sp --fb-mu-top 0.01 \
            --seed $seed
        sweep seeds.jsonl "GNT muP, seed $seed" --algo gnt --param mup --seed $seed
        sweep seeds.jsonl "GNT SP, seed $seed" --algo gnt --param sp --seed $seed
    done
}

rules() {
    sweep rules.jsonl "GNT muP" --algo gnt --param mup
    sweep rules.jsonl "GNT SP" --algo gnt --param sp
    sweep rules.jsonl "DTP muP" --algo dtp --param mup
    sweep rules.jsonl "DTP SP" --algo dtp --param sp
    sweep rules.jsonl "TP muP" --algo tp --param mup --fb-mu-top 0.01
    sweep rules.jsonl "TP SP" --algo tp --param sp --fb-mu-top 0.01
    "$bin/pcmup-plot" sweep "$out/rules.jsonl" -o "$out/rules.svg" \
        --title "GNT, DTP, TP: test accuracy against log2 lr"
}

# Coordinate checks (the setup of docs/parameterization.md, section 8:
# Gaussian inputs of dimension 64, 10 classes, batch 32, probe 64, lr 0.5
# (GNT 0.05), steps 1 and 5).
coord() {
    local file=$out/coord.jsonl c="--batch 32 --widths 64,256,1024,4096 --steps 1,5 --json"
    : >"$file"
    "$bin/pcmup-coord" $c --lr 0.5 --algo bp --param mup --label "BP muP" >>"$file"
    "$bin/pcmup-coord" $c --lr 0.5 --algo bp --param sp --label "BP SP" >>"$file"
    "$bin/pcmup-coord" $c --lr 0.5 --algo pc --gamma-bar 0 --label "PC muP, gammabar 0" >>"$file"
    "$bin/pcmup-coord" $c --lr 0.5 --algo pc --gamma-bar -1 --label "PC muP, gammabar -1" >>"$file"
    "$bin/pcmup-coord" $c --lr 0.05 --algo gnt --param mup --label "GNT muP" >>"$file"
    "$bin/pcmup-coord" $c --lr 0.05 --algo gnt --param sp --label "GNT SP" >>"$file"
    "$bin/pcmup-coord" $c --lr 0.5 --algo dtp --param mup --label "DTP muP" >>"$file"
    "$bin/pcmup-coord" $c --lr 0.5 --algo dtp --param sp --label "DTP SP" >>"$file"
    "$bin/pcmup-plot" coord "$file" -o "$out/coord.svg" --columns 4 \
        --title "Coordinate check: mean |h_l(5) - h_l(0)| against width"
}

# Figure 2: cosine of PC's update with BP's and GN's, per layer.
# Left: the linear closed form (Theorem 4.2) against output dimension C,
# width and gammabar_L. Right: the nonlinear (tanh) network, single-shot
# inference (the paper's setting) and near-equilibrium inference.
fig2() {
    local file=$out/fig2-linear.jsonl w="--widths 64,256,1024,4096 --batch 32"
    : >"$file"
    for C in 1 2 5 10; do
        for g in 0 -0.5 -1; do
            "$bin/pcmup-coord" $w --alignment --closed-form --json --algo pc \
                --activation identity --classes $C --gamma-bar $g \
                --label "linear, C = $C, gammabar $g" >>"$file"
        done
    done
    # With C = 1 the centred one-hot target is 0; the plain one (y = 1)
    # is a single-output regression (M_L = 1, the paper's Figure 2(a)).
    for g in 0 -0.5 -1; do
        "$bin/pcmup-coord" $w --alignment --closed-form --json --algo pc \
            --activation identity --classes 1 --centred 0 --gamma-bar $g \
            --label "linear, C = 1, y = 1, gammabar $g" >>"$file"
    done
    file=$out/fig2-tanh.jsonl
    : >"$file"
    for g in 0 -1; do
        "$bin/pcmup-coord" $w --alignment --json --algo pc --gamma-bar $g \
            --label "tanh, single-shot, gammabar $g" >>"$file"
        "$bin/pcmup-coord" $w --alignment --json --algo pc --gamma-bar $g --T 50 --kappa 0.2 \
            --label "tanh, T = 50, kappa 0.2, gammabar $g" >>"$file"
    done
    "$bin/pcmup-plot" coord "$out/fig2-tanh.jsonl" --metric cos_bp --columns 4 \
        -o "$out/fig2-tanh.svg" --title "Figure 2 (right): cosine of PC's update with BP's, tanh"
    "$bin/pcmup-plot" coord "$out/fig2-linear.jsonl" --metric cos_bp --columns 3 \
        -o "$out/fig2-linear.svg" \
        --title "Figure 2 (left): cosine of PC's equilibrium update with BP's, linear"
}

# Figure 3. Left: the inference loss left at the equilibrium of a random
# linear network (energy / gamma_L), read from fig2-linear.jsonl (C = 10).
# Right: best test accuracy against width with F-ini (fig1.jsonl) and
# without it (zero-initialised states, 20 or 100 sequential sweeps).
fig3() {
    local g
    for g in 0 -1; do
        "$bin/pcmup-sweep" $data $widths --log2-lr -8:-2 --label "PC muP, gammabar $g, zero init, T = 20" \
            --out "$out/fig3.jsonl" --algo pc --param mup --gamma-bar $g --init zero --T 20
    done
    # With kappa = 1 the sequential sweeps from zero states do not settle for
    # gammabar_L = -1 (the energy oscillates); kappa = 0.5 does.
    for g in 0 -1; do
        "$bin/pcmup-sweep" $data $widths --log2-lr -8:-2 \
            --label "PC muP, gammabar $g, zero init, T = 20, kappa 0.5" \
            --out "$out/fig3.jsonl" --algo pc --param mup --gamma-bar $g --init zero --T 20 \
            --kappa 0.5
    done
    # Closer to the paper's 100 inference iterations, at two rates only.
    for g in 0 -1; do
        "$bin/pcmup-sweep" $data --widths 64,256,1024 --log2-lr -6:-5 \
            --label "PC muP, gammabar $g, zero init, T = 100" \
            --out "$out/fig3.jsonl" --algo pc --param mup --gamma-bar $g --init zero --T 100
    done
    "$bin/pcmup-plot" sweep "$out/fig3.jsonl" -o "$out/fig3.svg" \
        --title "PC without F-ini (zero states, T sweeps): test accuracy against log2 lr"
}

# Figure 5: the hidden precision gamma_l in {0.01, 1} and the transfer of
# gamma'_L (the output precision at the base width) across widths, at the
# learning rate 2^-5.
fig5() {
    local g gl k
    for g in 0 -1; do
        for gl in 1 0.01; do
            for k in -4 -3 -2 -1 0 1 2 3 4; do
                "$bin/pcmup-sweep" $data $widths --log2-lr -5:-5 --out "$out/fig5.jsonl" \
                    --label "PC muP, gammabar $g, gamma_l $gl" --algo pc --param mup \
                    --gamma-bar $g --gamma-hidden $gl --gamma-out "$(awk -v k=$k 'BEGIN { print 2 ^ k }')"
            done
        done
    done
    "$bin/pcmup-plot" sweep "$out/fig5.jsonl" --x gamma_out -o "$out/fig5.svg" \
        --title "Figure 5: test accuracy against log2 gamma'_L (lr 2^-5)"
}

# Figure 4: the SimpleCNN (conv5p2:M tanh maxpool2 conv5p2:2M tanh maxpool2
# dense:10) on FashionMNIST, predictive coding without F-ini (zero initial
# states) and T = 100 simultaneous inference iterations, SP and muP with
# gammabar_L = 0 and -1; BP as the baseline. The budget of a 2-core
# machine: channel widths 4, 8, 16 (base width 4), the first 2000
# training images for one epoch, 2000 test images, five rates one octave
# apart (PC 2^-8 .. 2^-2, BP 2^-9 .. 2^-3). kappa = 0.2: with the default kappa = 1 (and 0.5) the inference
# of this CNN diverges (docs/cnn.md, section 4).
fig4() {
    local f4="--net simplecnn --base-width 4 --train-limit 2000 --test-limit 2000 --epochs 1"
    local pc="--algo pc --init zero --T 100 --schedule sim --kappa 0.2"
    local s="--shard $fig4_shard --threads 1"
    "$bin/pcmup-sweep" $f4 --widths 4,8,16 --log2-lr -8:-2 $s --out "$out/fig4.jsonl" \
        --label "PC muP, gammabar 0" $pc --param mup --gamma-bar 0
    "$bin/pcmup-sweep" $f4 --widths 4,8,16 --log2-lr -8:-2 $s --out "$out/fig4.jsonl" \
        --label "PC SP" $pc --param sp
    "$bin/pcmup-sweep" $f4 --widths 4,8,16 --log2-lr -8:-2 $s --out "$out/fig4.jsonl" \
        --label "PC muP, gammabar -1" $pc --param mup --gamma-bar -1
    "$bin/pcmup-sweep" $f4 --widths 4,8,16,32,64 --log2-lr -9:-3 $s --out "$out/fig4.jsonl" \
        --label "BP muP" --algo bp --param mup
    "$bin/pcmup-sweep" $f4 --widths 4,8,16,32,64 --log2-lr -9:-3 $s --out "$out/fig4.jsonl" \
        --label "BP SP" --algo bp --param sp
}

# Figure 4, right: Delta h_l across the first 32 steps of the same runs,
# at each width, at 2^-5, inside every width's stable range for every
# configuration.
fig4dh() {
    local f4="--net simplecnn --base-width 4 --train-limit 2000 --threads 1"
    local pc="--algo pc --init zero --T 100 --schedule sim --kappa 0.2"
    [ -s "$out/fig4dh.jsonl" ] || {
        "$bin/pcmup-coord" --training $f4 --widths 4,8,16 --steps 0,2,8,32 --json \
            --label "PC muP, gammabar 0" $pc --param mup --lr 0.03125
        "$bin/pcmup-coord" --training $f4 --widths 4,8,16 --steps 0,2,8,32 --json \
            --label "PC SP" $pc --param sp --lr 0.03125
        "$bin/pcmup-coord" --training $f4 --widths 4,8,16,32,64 --steps 0,2,8,32 --json \
            --label "BP muP" --algo bp --param mup --lr 0.03125
        "$bin/pcmup-coord" --training $f4 --widths 4,8,16,32,64 --steps 0,2,8,32 --json \
            --label "BP SP" --algo bp --param sp --lr 0.03125
    } >"$out/fig4dh.jsonl"
    "$bin/pcmup-plot" training "$out/fig4dh.jsonl" -o "$out/fig4dh.svg" \
        --title "Figure 4 right: Delta h_l across training, SimpleCNN, FashionMNIST"
}

fig4plot() {
    "$bin/pcmup-plot" sweep "$out/fig4.jsonl" -o "$out/fig4.svg" \
        --title "Figure 4: SimpleCNN on FashionMNIST, test accuracy against log2 lr"
}

"set" -- $parts
for part in "$@"; do
    "$part"
done
