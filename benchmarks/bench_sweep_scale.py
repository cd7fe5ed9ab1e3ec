"""Time and peak memory of a sweep build against its number of runs, up to 2,000 runs.

    python benchmarks/make_big_log.py /tmp/rg-bench/sweep2000 --runs 2000   # 30 GB, ~11 min
    python benchmarks/bench_sweep_scale.py [--runs 250,500,1000,2000] [--output report.json]
                                           [--baseline /tmp/rg-base --baseline-runs 250]

Each size is the first N runs of the sweep (14 histogram tags x 100 steps a run, as issue 19
asks), built by a fresh `reportgen build` process with its whole process tree's memory sampled
(proportional set size, so pages the chart workers share with the main process count once).
The baseline is the smallest size: printed are seconds and MB per run and, against the
smallest size, how time and memory grow relative to linear in runs. Issue 19's target: peak
under 1 GB whatever the number of runs, time linear in runs.

With --baseline (another checkout, e.g. a git worktree of an older commit), the sizes in
--baseline-runs are built by it too, right after this checkout's build of that size, and the
ratios this/baseline printed.
"""

from __future__ import annotations

import argparse
import os
import sys

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)
from benchmarks.bench_build import build, subset  # noqa: E402

TARGET_MB = 1024


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", default="/tmp/rg-bench/sweep2000")
    parser.add_argument("--runs", default="250,500,1000,2000")
    parser.add_argument("--output", default="report.json", help="file name of the output (its format: the ending)")
    parser.add_argument("--baseline", help="another checkout of reportgen to build some sizes with too")
    parser.add_argument("--baseline-runs", default="250", help="the sizes the baseline builds")
    args = parser.parse_args(argv)
    against = {int(x) for x in args.baseline_runs.split(",")} if args.baseline else set()
    available = len(os.listdir(args.sweep))
    sizes = [n for n in (int(x) for x in args.runs.split(",")) if n <= available]
    root = os.path.dirname(os.path.abspath(args.sweep))
    rows = []
    for n in sizes:
        logdir = args.sweep if n == available else subset(args.sweep, n, root)
        result = build(logdir, os.path.join(root, f"scale{n}_{args.output}"), sample_tree=True)
        rows.append((n, result["wall"], result["max_process_mb"], result["max_tree_mb"]))
        print(f"{n:5d} runs: {result['wall']:7.1f} s, largest process {result['max_process_mb']:6.0f} MB, "
              f"tree {result['max_tree_mb']:6.0f} MB (main process {result['main_at_tree_peak_mb']:.0f} MB of it, "
              f"after '{result['phase_at_tree_peak']}'; main's own peak {result['max_main_mb']:.0f} MB)", flush=True)
        if n in against:
            base = build(logdir, os.path.join(root, f"scale{n}_base_{args.output}"), sample_tree=True,
                         checkout=args.baseline)
            print(f"{n:5d} runs, baseline {args.baseline}: {base['wall']:7.1f} s, tree {base['max_tree_mb']:6.0f} MB; "
                  f"this/baseline: time {result['wall'] / base['wall']:.2f}x, "
                  f"memory {result['max_tree_mb'] / base['max_tree_mb']:.2f}x", flush=True)
    n0, t0, _, _ = rows[0]
    print(f"\n{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; output {args.output}; baseline: {n0} runs")
    print(f"{'runs':>5} {'s/run':>7} {'MB/run':>7} {'time vs linear':>15} {'tree MB':>8}   target < {TARGET_MB} MB")
    for n, wall, _, tree in rows:
        print(f"{n:5d} {wall / n:7.3f} {tree / n:7.2f} {(wall / t0) / (n / n0):14.2f}x {tree:8.0f}   "
              f"{'met' if tree < TARGET_MB else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
