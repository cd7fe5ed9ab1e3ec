"""This checkout against another one (a git worktree of an earlier commit), on the same logs,
runs interleaved: is a change slower beyond the machine's noise?

    git worktree add /tmp/rg-base <commit>
    python benchmarks/bench_ab.py --baseline /tmp/rg-base [--repeat 5] [--root /tmp/rg-bench]

For each command (build to PDF, build to HTML, inspect of the 267 MB benchmark log; build of
sample_logs/; a 24-run sweep to the CI formats, JSON and JUnit) it alternates baseline and this
checkout `--repeat` times, and prints both medians, their ratio, and the spread of each (min-max
over median), which is the noise to compare the ratio with. Both run with the same Python, each
importing its own reportgen (PYTHONPATH).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(checkout: str, args: list[str]) -> tuple[float, int]:
    """Wall seconds of one `reportgen ARGS` run of `checkout`, and the lines it wrote to stderr."""
    env = {**os.environ, "PYTHONPATH": checkout}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "reportgen", *args], cwd=checkout, env=env, check=True,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return time.perf_counter() - started, len(done.stderr.splitlines())


def spread(times: list[float]) -> str:
    middle = statistics.median(times)
    return f"{(max(times) - min(times)) / middle:4.0%}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="another checkout of reportgen (e.g. a git worktree)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--root", default="/tmp/rg-bench", help="where the benchmark logs are (made when missing)")
    args = parser.parse_args(argv)
    big = os.path.join(args.root, "big")
    if not os.path.isdir(big) or not os.listdir(big):
        subprocess.run([sys.executable, os.path.join(HERE, "benchmarks", "make_big_log.py"), big], check=True,
                       env={**os.environ, "PYTHONPATH": HERE})
    sweep = os.path.join(args.root, "sweep24")
    if not os.path.isdir(sweep) or not os.listdir(sweep):
        subprocess.run([sys.executable, os.path.join(HERE, "benchmarks", "make_sweep.py"), sweep, "--lrs",
                        "0.001,0.01,0.1,1", "--widths", "16,32", "--seeds", "3", "--steps", "100"], check=True,
                       env={**os.environ, "PYTHONPATH": HERE})
    out = tempfile.mkdtemp(prefix="rg-ab-")
    commands = {
        "build big log -> PDF": ["build", big, "-q", "-o", os.path.join(out, "r.pdf")],
        "build big log -> HTML": ["build", big, "-q", "-o", os.path.join(out, "r.html")],
        "inspect big log": ["inspect", big, "-q"],
        "build sample_logs -> PDF+HTML": ["build", os.path.join(HERE, "sample_logs"), "-q",
                                          "-o", os.path.join(out, "s.pdf"), "-o", os.path.join(out, "s.html")],
        "build 24-run sweep -> JSON+JUnit": ["build", sweep, "-q", "-o", os.path.join(out, "w.json"),
                                             "-o", os.path.join(out, "w.junit.xml")],  # a CI job's outputs
    }
    print(f"baseline: {args.baseline}\nthis:     {HERE}\n{args.repeat} runs each, alternating\n")
    print(f"{'command':<32} {'baseline':>9} {'this':>9} {'ratio':>7}   spread baseline / this")
    for name, command in commands.items():
        times: dict[str, list[float]] = {"baseline": [], "this": []}
        for _ in range(args.repeat):
            for which, checkout in (("baseline", args.baseline), ("this", HERE)):
                times[which].append(timed(checkout, command)[0])
        base, this = statistics.median(times["baseline"]), statistics.median(times["this"])
        print(f"{name:<32} {base:8.2f}s {this:8.2f}s {this / base:6.2f}x   {spread(times['baseline'])} / "
              f"{spread(times['this'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
