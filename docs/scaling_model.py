# SPDX-License-Identifier: MIT
"""The scaling model of docs/scaling.md: predicted time per sweep or per
training step on 1 to 64 nodes, from figures measured on the 2-core
development machine (each constant says where it comes from) and stated
network figures. Run: python3 docs/scaling_model.py"""

import heapq

# ---- Stated assumptions (not measured here) -------------------------------
CORES_PER_NODE = 16
NODE_SPEEDUP = 12.8       # one 16-core rank's BLAS speed in single cores (80%)
NETWORKS = {              # name: (bandwidth bytes/s, latency s per message)
    "10GbE": (1.1e9, 30e-6),
    "IB-100G": (11e9, 2e-6),
}
NODES = [1, 2, 4, 8, 16, 32, 64]

# ---- Measured: data-parallel compute and communication per step ------------
# ms per step on ONE core (pcmup-bench --roofline --threads 1, docs/benchmark.md
# "After (issue 15's end)"), at batch 64 and 256; 784-M-M-10 FashionMNIST.
STEP_MS_1CORE = {
    ("bp", 1024): (6.468, 23.393), ("bp", 4096): (85.846, 297.090),
    ("pc-sim20", 1024): (70.273, 264.534), ("pc-sim20", 4096): (591.378 * 1.8, None),
    ("gnt-batch", 1024): (None, 180.262),
}
# ms per step that does not shrink with the rank's batch: GNT's batch variant
# at global batches with B C >= M solves its M x M systems (one Cholesky per
# hidden layer, 2 x M^3 / 3 flops at the ~100 GFLOP/s of one core) on every
# rank alike. At width 4096 that side has no one-core measurement (batch 64
# works on the Gram side there), so GNT appears at width 1024 only.
FIXED_MS_1CORE = {("gnt-batch", 1024): 2 * 1024 ** 3 / 3 / 100e9 * 1e3}
# Bytes each rank's reducer moves per step (comm_bytes_per_step of
# `mpirun -n 2 pcmup-train --json`, docs/transfer.md), as (bytes, large
# calls, small calls): one large sum per layer's update, and the small sums
# of the loss and batch sizes (2) plus, for PC with T = 20, one of the layer
# energies per iteration. GNT's batch variant on its M x M side also sums
# M^2 floats per hidden layer: measured 15,835,544 bytes at width 1024,
# BP's + 2 * 4 * 1024^2 + 8.
BYTES_PER_STEP = {
    ("bp", 1024): (7446536, 3, 2), ("bp", 4096): (80117768, 3, 2),
    ("pc-sim20", 1024): (7446608 + 20 * 24, 3, 22), ("pc-sim20", 4096): (80117840 + 20 * 24, 3, 22),
    ("gnt-batch", 1024): (15835544, 5, 2),
}


def per_sample_ms(rule, width, b):
    """One core's ms per sample at per-rank batch b: batch 64's rate up to 64,
    batch 256's from 256 on, linear in between (pc-sim20 and gnt-batch at
    width 4096 has only batch 64 measured, at 2 threads: times 1.8, the
    1-thread/2-thread ratio measured at width 1024; GNT's batch variant
    only batch 256's rate, on the side the model's batches use)."""
    t64, t256 = STEP_MS_1CORE[(rule, width)]
    fixed = FIXED_MS_1CORE.get((rule, width), 0.0)
    if t64 is None:
        return (t256 - fixed) / 256
    r64 = t64 / 64
    if t256 is None:
        return r64
    r256 = t256 / 256
    if b <= 64:
        return r64
    if b >= 256:
        return r256
    return r64 + (r256 - r64) * (b - 64) / 192


def allreduce_s(nbytes, large, small, nodes, net):
    """Large sums go round a ring: each byte crosses the network 2(R-1)/R
    times, in 2(R-1) messages; small ones by recursive doubling, log2 R
    messages (what Open MPI picks for each)."""
    if nodes == 1:
        return 0.0
    bw, lat = NETWORKS[net]
    hops = (nodes - 1).bit_length()
    return (2 * (nodes - 1) / nodes * nbytes / bw + large * 2 * (nodes - 1) * lat
            + small * hops * lat)


def data_parallel_table(global_batch):
    print(f"\nData-parallel pcmup-train, global batch {global_batch}: ms per step "
          f"(speedup over 1 node) -- one rank per node, {CORES_PER_NODE} cores each")
    print("%-10s %5s %-8s" % ("rule", "M", "network") + "".join("%15s" % f"{n} nodes" for n in NODES))
    for (rule, width) in STEP_MS_1CORE:
        nbytes, large, small = BYTES_PER_STEP[(rule, width)]
        for net in NETWORKS:
            row, base = [], None
            for n in NODES:
                b = global_batch / n
                fixed = FIXED_MS_1CORE.get((rule, width), 0.0)
                compute = (b * per_sample_ms(rule, width, b) + fixed) / 1e3 / NODE_SPEEDUP
                t = compute + allreduce_s(nbytes, large, small, n, net)
                base = base or t
                row.append("%8.1f (%4.1f)" % (1e3 * t, base / t))
            print("%-10s %5d %-8s" % (rule, width, net) + "".join("%15s" % c for c in row))


# ---- Measured: the Figure-1 sweep's points ---------------------------------
# Mean seconds of a point that did not diverge, single-threaded, in the
# `--jobs` sweep of docs/reproduction.md ("Performance", round 2), per
# (algo, width); 18 points each (2 parameterizations x 9 rates), of which
# the diverged ones (48 of 180) stop early and are left out. Evaluation and
# set-up add 15% (core time outside the rows' training seconds).
SWEEP_POINT_S = {
    ("bp", 64): 0.089, ("bp", 128): 0.181, ("bp", 256): 0.425, ("bp", 512): 1.100,
    ("bp", 1024): 3.210, ("pc", 64): 0.108, ("pc", 128): 0.233, ("pc", 256): 0.514,
    ("pc", 512): 1.412, ("pc", 1024): 4.259,
}
SWEEP_OVERHEAD = 1.15
LOAD_S = 0.35            # rank 0 reads 10000 + 10000 images (docs/benchmark.md)
DATA_BYTES = 2 * 10000 * 784 * 4


def sweep_table(repeat):
    points = [s * SWEEP_OVERHEAD for s in SWEEP_POINT_S.values() for _ in range(18 * repeat)]
    points.sort(reverse=True)
    print(f"\nFigure-1 sweep x{repeat} ({len(points)} points, {sum(points):.0f} core-seconds):"
          f" seconds (speedup over 1 core) -- one rank per core, widest first")
    print("%-8s" % "network" + "".join("%15s" % f"{n} nodes" for n in NODES))
    for net in NETWORKS:
        bw, lat = NETWORKS[net]
        row = []
        for n in NODES:
            ranks = n * CORES_PER_NODE
            free = [0.0] * min(ranks, len(points))
            for p in points:            # next point to the next free rank
                heapq.heappush(free, heapq.heappop(free) + p)
            hops = max(1, (n - 1).bit_length())    # binomial-tree broadcast
            t = LOAD_S + (hops * (DATA_BYTES / bw + lat) if n > 1 else 0) + max(free)
            row.append("%8.1f (%4.0f)" % (t, sum(points) / t))
        print("%-8s" % net + "".join("%15s" % c for c in row))


if __name__ == "__main__":
    sweep_table(1)
    sweep_table(10)
    data_parallel_table(1024)
    data_parallel_table(8192)
