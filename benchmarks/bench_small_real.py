"""A small real-shaped logdir (RLlib: 2 runs x 38 scalar tags, 100-character trial names) built
to PDF and to HTML through the CLI, this checkout against a baseline checkout, interleaved.

    git worktree add --detach /tmp/rg-base 0a1c52d
    python benchmarks/bench_small_real.py --baseline /tmp/rg-base [--repeat 5] [--root /tmp/rg-bench]

Issue 19's target: such a logdir builds in under 5 s on 2 cores (the RLlib logdir it was
measured on took 27 s). Each build is a fresh `python -m reportgen build` process, baseline and
this checkout alternating `--repeat` times; printed are both medians, their ratio, each side's
spread (min-max over median: the machine's noise to compare the ratio with) and whether this
checkout's median is under the target. Also counts the lines either build wrote to stderr with
`-q` (Matplotlib's warnings leaked there).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)
from benchmarks.bench_ab import spread, timed  # noqa: E402

TARGET_SECONDS = 5.0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="another checkout of reportgen (e.g. a git worktree)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--root", default="/tmp/rg-bench", help="where the benchmark log is (made when missing)")
    args = parser.parse_args(argv)
    logdir = os.path.join(args.root, "rllib")
    if not os.path.isdir(logdir) or not os.listdir(logdir):
        subprocess.run([sys.executable, os.path.join(HERE, "benchmarks", "make_rllib_log.py"), logdir], check=True,
                       env={**os.environ, "PYTHONPATH": HERE})
    out = tempfile.mkdtemp(prefix="rg-small-")
    commands = {
        "RLlib-like logdir -> PDF": ["build", logdir, "-q", "-o", os.path.join(out, "r.pdf")],
        "RLlib-like logdir -> HTML": ["build", logdir, "-q", "-o", os.path.join(out, "r.html")],
    }
    print(f"baseline: {args.baseline}\nthis:     {HERE}\nlog:      {logdir}\n"
          f"{args.repeat} builds each, alternating; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}\n")
    print(f"{'command':<28} {'baseline':>9} {'this':>9} {'ratio':>7}   spread base/this   stderr lines base/this   "
          f"target < {TARGET_SECONDS:g} s")
    for name, command in commands.items():
        times: dict[str, list[float]] = {"baseline": [], "this": []}
        noise: dict[str, int] = {"baseline": 0, "this": 0}
        for _ in range(args.repeat):
            for which, checkout in (("baseline", args.baseline), ("this", HERE)):
                seconds, lines = timed(checkout, command)
                times[which].append(seconds)
                noise[which] = max(noise[which], lines)
        base, this = statistics.median(times["baseline"]), statistics.median(times["this"])
        print(f"{name:<28} {base:8.2f}s {this:8.2f}s {this / base:6.2f}x   {spread(times['baseline'])} / "
              f"{spread(times['this'])}        {noise['baseline']:4d} / {noise['this']:<4d}              "
              f"{'met' if this < TARGET_SECONDS else 'NOT met'} ({this:.1f} s)")
        print(f"{'':<28} all baseline: {', '.join(f'{t:.1f}' for t in times['baseline'])}; "
              f"this: {', '.join(f'{t:.1f}' for t in times['this'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
