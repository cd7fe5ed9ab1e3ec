"""Measure what "changed" means for a layer and a metric between two nights: the distances that
seed noise alone gives, against the distances a frozen layer gives (reportgen.baseline's
LAYER_CHANGED and METRIC_MOVED come from this).

    python benchmarks/since_noise.py SWEEP_DIR     # a sweep of benchmarks/make_sweep.py

Between two seeds of one setting: each layer's last-step weights, Wasserstein-1 over the spread
(as baseline.compare measures it), and the relative difference of the main metric's end. A
frozen layer: the same layer's first step (where a frozen layer stays) against its last step.
"""

from __future__ import annotations

import itertools
import sys

import numpy as np

from reportgen.baseline import compare, weight_quantiles
from reportgen.config import Options
from reportgen.pipeline import analyse, build_report, snapshot
from reportgen.reading.loader import load


def main(root: str) -> None:
    logs = load([root])
    report = build_report(logs, Options(), analyse(logs), [], [])
    snap = snapshot(report)
    runs = {r["name"]: r for r in snap["runs"]}
    groups = report.sweep.groups if report.sweep else []
    seed_layers, seed_metrics, ratios = [], [], []
    for group in groups:
        for a, b in itertools.combinations(group.runs, 2):
            one = {"runs": [{**runs[a], "name": "x"}], "findings": []}
            two = {"runs": [{**runs[b], "name": "x"}], "findings": []}
            since = compare(two, one, "seed")
            lr = group.hparams.get("lr")
            for c in since.layers:
                values = runs[a]["weights"][c.layer]["values"]
                seed_layers.append((lr, c.distance, c.distance * values ** 0.5))
                if c.moved_before and c.moved_now:
                    ratios.append((lr, max(c.moved_before, c.moved_now) / min(c.moved_before, c.moved_now)))
            seed_metrics += [(lr, abs(m.relative)) for m in since.metrics if m.main and m.relative is not None]
    frozen = []
    for run in logs.runs:
        for layer, w in runs[run.name]["weights"].items():
            series = run.histograms[w["tag"]]
            first = weight_quantiles(np.asarray(series.buckets[0]))
            lr = run.hparams.get("lr")
            before = {"runs": [{"name": "x", "weights": {layer: {"tag": w["tag"], "quantiles": w["quantiles"]}}}]}
            now = {"runs": [{"name": "x", "weights": {layer: {"tag": w["tag"], "quantiles": first}}}]}
            frozen.append((lr, compare(now, before, "frozen").layers[0].distance))
    def show(name: str, values: list[float]) -> None:
        v = np.asarray(values)
        print(f"{name}: n={v.size} min={v.min():.4f} median={np.median(v):.4f} p90={np.percentile(v, 90):.4f} "
              f"max={v.max():.4f}")
    for lr in sorted({lr for lr, _, _ in seed_layers}, key=float):
        show(f"seed pairs, lr={lr}, layer W1/spread", [d for x, d, _ in seed_layers if x == lr])
        show(f"seed pairs, lr={lr}, layer W1/spread x sqrt(values)", [k for x, _, k in seed_layers if x == lr])
    for lr in sorted({lr for lr, _ in ratios}, key=float):
        show(f"seed pairs, lr={lr}, moved-during-run ratio", [r for x, r in ratios if x == lr])
    for lr in sorted({lr for lr, _ in seed_metrics}, key=float):
        show(f"seed pairs, lr={lr}, main metric |relative change|", [d for x, d in seed_metrics if x == lr])
    for lr in sorted({lr for lr, _ in frozen}, key=float):
        show(f"frozen vs trained, lr={lr}, layer W1/spread", [d for x, d in frozen if x == lr])


if __name__ == "__main__":
    main(sys.argv[1])
