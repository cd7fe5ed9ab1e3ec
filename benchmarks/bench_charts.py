"""CPU milliseconds per chart, by kind, this checkout against a baseline checkout, interleaved.

    git worktree add --detach /tmp/rg-base 0a1c52d
    python benchmarks/bench_charts.py --baseline /tmp/rg-base [--repeat 5] [--draws 20] [--root /tmp/rg-bench]

Data: one small torch-like run of make_big_log.py (14 histogram tags x 200 steps) for the
histogram kinds, and the RLlib-shaped logdir of make_rllib_log.py (100-character trial names,
RLlib's long tags) for the scalar and comparison charts. Each repetition starts a process per
checkout (baseline, then this one) that draws every kind `--draws` times, one after another as
the report does (figures reused), after one warm-up chart of each kind, and prints the median CPU
time (process_time) per chart. Reported: the median over repetitions, the ratio, and each side's
spread (min-max over median) across repetitions: the noise of a shared machine.
Issue 19's target: ~40 ms per chart.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Run inside each checkout's own process (PYTHONPATH): only APIs both checkouts have.
WORKER = r"""
import json, statistics, sys, time
from reportgen.charts import ChartJob
from reportgen.charts.render import render_job
from reportgen.reading.loader import load

hist_dir, scalar_dir, draws = sys.argv[1], sys.argv[2], int(sys.argv[3])
h = load([hist_dir]).runs[0]
a, b = load([scalar_dir]).runs[:2]
layer = [h.histograms[t] for t in ("fc1.weight", "fc1.bias", "fc1.out", "fc1.weight.grad", "fc1.bias.grad")]
kinds = {t: "weights" if t.endswith("weight") else "bias" if t.endswith("bias") else "pre-activations"
         if t.endswith("out") else "gradients" for t in (s.tag for s in layer)}
weights = [h.histograms[f"fc{i}.weight"] for i in (1, 2, 3)]
w = h.histograms["fc2.weight"]
tag = "ray/tune/info/learner/default_policy/learner_stats/vf_loss"
jobs = {
    "offset": ChartJob("offset", h.name, w.tag, f"{w.tag} ({h.name})", w, "#ff7043"),
    "distribution": ChartJob("distribution", h.name, w.tag, f"{w.tag} ({h.name})", w, "#ff7043"),
    "heatmap": ChartJob("heatmap", h.name, w.tag, f"{w.tag} ({h.name})", w, "#ff7043"),
    "layer (5 panels)": ChartJob("layer", h.name, "fc1", f"Layer fc1 ({h.name})", layer, "#ff7043", tag_kinds=kinds),
    "overview (3 layers)": ChartJob("overview", h.name, "overview", f"Every layer's weights ({h.name})", weights,
                                    "#ff7043", tag_kinds={"fc1": "moved 3%", "fc2": "moved 2%", "fc3": "moved 1%"},
                                    runs=["fc2"]),
    "scalar (long names)": ChartJob("scalar", a.name, tag, f"{tag} ({a.name})", a.scalars[tag], "#ff7043"),
    "compare (long names)": ChartJob("compare", f"{a.name}, {b.name}", tag, f"{tag}: {a.name} vs {b.name}",
                                     [a.scalars[tag], b.scalars[tag]], ["#ff7043", "#0077bb"], runs=[a.name, b.name]),
}
out = {}
for name, job in jobs.items():
    render_job(job)  # warm-up: imports, fonts, the figure of this kind
    times = []
    for _ in range(draws):
        started = time.process_time()
        chart = render_job(job)
        times.append(time.process_time() - started)
        assert chart.error is None, chart.error
    out[name] = 1000 * statistics.median(times)
print(json.dumps(out))
"""


def measure(checkout: str, hist_dir: str, scalar_dir: str, draws: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": checkout}
    done = subprocess.run([sys.executable, "-c", WORKER, hist_dir, scalar_dir, str(draws)], cwd=checkout, env=env,
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def ensure(path: str, script: str, *args: str) -> str:
    if not os.path.isdir(path) or not os.listdir(path):
        subprocess.run([sys.executable, os.path.join(HERE, "benchmarks", script), path, *args], check=True,
                       env={**os.environ, "PYTHONPATH": HERE}, stdout=subprocess.DEVNULL)
    return path


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="another checkout of reportgen (e.g. a git worktree)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--draws", type=int, default=20, help="charts of each kind per process")
    parser.add_argument("--root", default="/tmp/rg-bench")
    args = parser.parse_args(argv)
    hist_dir = ensure(os.path.join(args.root, "hist"), "make_big_log.py", "--runs", "1", "--steps", "200")
    hist_dir = os.path.join(hist_dir, sorted(os.listdir(hist_dir))[0])
    scalar_dir = ensure(os.path.join(args.root, "rllib"), "make_rllib_log.py")
    results: dict[str, list[dict[str, float]]] = {"baseline": [], "this": []}
    for _ in range(args.repeat):
        for which, checkout in (("baseline", args.baseline), ("this", HERE)):
            results[which].append(measure(checkout, hist_dir, scalar_dir, args.draws))
    print(f"baseline: {args.baseline}\nthis:     {HERE}\n{args.repeat} x {args.draws} draws per kind, alternating; "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}\n")
    print(f"{'kind':<22} {'baseline':>9} {'this':>9} {'ratio':>7}   spread base/this   target ~40 ms")
    for kind in results["this"][0]:
        base = [r[kind] for r in results["baseline"]]
        this = [r[kind] for r in results["this"]]
        b, t = statistics.median(base), statistics.median(this)
        print(f"{kind:<22} {b:7.1f}ms {t:7.1f}ms {t / b:6.2f}x   {(max(base) - min(base)) / b:4.0%} / "
              f"{(max(this) - min(this)) / t:4.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
