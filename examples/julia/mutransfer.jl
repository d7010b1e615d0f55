# SPDX-License-Identifier: MIT
# examples/julia/mutransfer.jl -- muTransfer with the Julia binding: a
# learning-rate sweep at two widths for BP and PC under each rule's muP.
# Under muP the best learning rate found at the base width is the best at
# the wider width too (the paper's Figure 1); the Python version of this
# program is examples/python/mutransfer.py.
#
#     JULIA_PCMUP_LIBRARY=build/libpcmup.so.1 \
#         julia --project=julia/Pcmup examples/julia/mutransfer.jl
#
# Not executed in libpcmup's tests (no Julia runtime there): see docs/julia.md.
using Pcmup

const WIDTHS = (64, 256)            # the base width, and four times it
const LOG2_LRS = -8:2:0             # learning rates 2^-8 .. 1
const RULES = ((:bp, :mup_sgd), (:pc, :mup_pc))
const TRAIN_LIMIT = 10_000          # the first 10000 training samples

train = fashion_mnist(:train)
test = fashion_mnist(:test)
truncate!(train, TRAIN_LIMIT)

"""Test accuracy after one epoch at width `width` and learning rate `lr`;
NaN when training diverges."""
function accuracy(rule, preset, width, lr)
    param = Param(3; preset=preset, base_width=WIDTHS[1])
    net = mlp([784, width, width, 10]; param=param, seed=1)
    algo = Algo(net, rule; seed=2, lr=lr)
    try
        train_epoch!(algo, train; batch=64)
        return evaluate(algo, test)[2]
    catch e
        e isa PcmupError && e.status == :err_diverged || rethrow()
        return NaN
    end
end

for (rule, preset) in RULES
    println("rule $rule, parameterization $preset, base width $(WIDTHS[1])")
    println(rpad("log2 lr", 9), join((lpad("M = $w", 10) for w in WIDTHS)))
    best = Dict(w => (-Inf, NaN) for w in WIDTHS)
    for k in LOG2_LRS
        accs = [accuracy(rule, preset, w, 2.0^k) for w in WIDTHS]
        println(rpad(string(k), 9), join((lpad(string(round(a; digits=4)), 10) for a in accs)))
        for (w, a) in zip(WIDTHS, accs)
            !isnan(a) && a > best[w][1] && (best[w] = (a, k))
        end
    end
    println("best log2 lr: ",
            join(("M = $w: $(best[w][2]) (accuracy $(round(best[w][1]; digits=4)))"
                  for w in WIDTHS), ", "), "\n")
end
