"""Since the baseline: what changed between a previous report and this one.

Both sides are the same plain data, a *snapshot* (the pipeline's `snapshot(report)` now; the
`report.json` of a previous night, which carries it, or a logdir built again): per run its last
step, its result metrics at the end and at their best, its layers' last-step weight quantiles, and the findings
by fingerprint. `compare` is a pure function of two snapshots.

Runs are matched by name, once the part `match_runs` (a regex) matches is cut out of both names
(a date or a job id in the name); findings by the fingerprint of (matched run, layer, code).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reportgen.findings import Severity, fingerprint
from reportgen.numbers import plural

# The weight distribution is kept as its quantiles at the midpoints of 20 equal probability
# slices: the mean of |Q_before(p) - Q_now(p)| over them is the Wasserstein-1 distance by the
# midpoint rule.
QUANTILE_POINTS = tuple((i + 0.5) / 20 for i in range(20))

# A layer's last-step weights "changed" when their Wasserstein-1 distance from the baseline's,
# over the baseline's spread (its 2.5%..97.5% range), is above both LAYER_CHANGED and the seed
# noise of a layer of that many values, SEED_NOISE / sqrt(values). Measured with
# benchmarks/since_noise.py on the benchmark sweep (benchmarks/make_sweep.py: numpy ReLU MLPs, 4
# learning rates x 3 widths x 3 seeds, 300 steps): between two seeds of one healthy setting (lr <=
# 0.1: 81 layer pairs) the distance times sqrt(values) was 0.17 to 0.63 (median 0.36), as sampling
# noise of a W1 estimate scales; 1.0 is above all of it. Layers of 10^5 values have noise ~0.003,
# so the floor decides there: 2% of the spread is about the smallest shift the overlay shows.
LAYER_CHANGED = 0.02
SEED_NOISE = 1.0

# Where the weights end says little when training moves each weight but keeps their distribution
# (a frozen layer and a trained one can end 1% apart by W1), so a layer has also changed when how
# far it moved during the run (its first-to-last move over its initial spread, the measure
# not_learning uses) is this many times more or less than on the baseline's night, and one of the
# two moved enough to count as learning (not_learning's threshold, 1.5%). Measured between two
# seeds of one setting with benchmarks/since_noise.py on the benchmark sweep (300 steps, 108 layer
# pairs over lr 0.001..1): median 1.16 to 1.37 per learning rate, max 2.53; on a second sweep
# (200 steps, lr 0.003..0.1 x width 16/32, 4 seeds, 144 weight tags) median 1.22, max 2.41.
# 4 is above all of it.
MOVED_FACTOR = 4.0
MOVED_ENOUGH = 0.015

# A metric counts as moved when its end level differs from the baseline's by more than this
# share of the baseline's level and by more than twice the noise of the two end windows (their
# values' standard deviation, combined). 5% is the margin --fail-on regression uses unless
# `[tool.reportgen] regression = {worse-by = ...}` says otherwise. What a re-seeded night brings is
# larger: on the same benchmark sweep the main metric's end differed between two seeds of one
# healthy setting by a median of 7% to 15% (up to 61%): a team whose nights re-seed should set
# worse-by from its own nights' spread (docs/baseline.md).
METRIC_MOVED = 0.05
NOISE_SIGMAS = 2.0

DEFAULT_WORSE_BY = METRIC_MOVED  # --fail-on regression: the main metric worse by more than this


@dataclass
class FindingChange:
    fingerprint: str
    code: str
    run: str
    layer: str
    severity: str
    message: str


@dataclass
class LayerChange:
    run: str
    layer: str
    tag: str
    distance: float  # Wasserstein-1 over the baseline's 2.5%..97.5% range
    changed: bool
    before: list[float] = field(default_factory=list)  # the quantiles at QUANTILE_POINTS
    now: list[float] = field(default_factory=list)
    threshold: float = LAYER_CHANGED  # above this distance it changed (the floor, or seed noise for its size)
    moved_before: float | None = None  # first-to-last move during each night's run, share of the initial spread
    moved_now: float | None = None

    def describe(self) -> str:
        """Why it changed, in words: "layer1 (question): moved 4.8% of its spread during the run,
        0.9% on the baseline's night; ends 0.9% of its spread from where it ended then"."""
        parts = []
        if self.moved_differently and self.moved_before is not None and self.moved_now is not None:
            parts.append(f"moved {self.moved_now:.1%} of its spread during the run, {self.moved_before:.1%} on the "
                         "baseline's night")
        parts.append(f"ends {self.distance:.1%} of its spread from where it ended then"
                     + (f" (noise: up to {self.threshold:.1%})" if self.distance > self.threshold else ""))
        return f"{self.layer} ({self.run}): " + "; ".join(parts)

    @property
    def moved_differently(self) -> bool:
        """Whether the layer moved MOVED_FACTOR times more or less during tonight's run than
        during the baseline's, one of them by enough to count as learning."""
        a, b = self.moved_before, self.moved_now
        if a is None or b is None or max(a, b) < MOVED_ENOUGH:
            return False
        return min(a, b) <= 0 or max(a, b) / min(a, b) >= MOVED_FACTOR


@dataclass
class MetricChange:
    run: str
    tag: str
    role: str
    higher_is_better: bool
    before: float
    now: float
    before_best: float | None
    now_best: float | None
    noise: float  # twice the combined end-window noise: a smaller difference is noise
    main: bool  # the run's main result metric

    @property
    def delta(self) -> float:
        return self.now - self.before

    @property
    def relative(self) -> float | None:
        return self.delta / abs(self.before) if self.before else None

    @property
    def worse(self) -> bool:
        return self.delta < 0 if self.higher_is_better else self.delta > 0

    def describe(self) -> str:
        """One line: "reward in question: 0.31 -> 0.144 (-54%)"."""
        change = f" ({self.relative:+.0%})" if self.relative is not None and math.isfinite(self.relative) else ""
        return f"{self.tag} in {self.run}: {self.before:.3g} -> {self.now:.3g}{change}"

    def moved(self, margin: float = METRIC_MOVED) -> bool:
        if not (math.isfinite(self.now) and math.isfinite(self.before)):
            return math.isfinite(self.now) != math.isfinite(self.before)
        return abs(self.delta) > max(margin * abs(self.before), self.noise)


@dataclass
class StepsChange:
    run: str
    before: int | None
    now: int | None


@dataclass
class Since:
    baseline: str  # where it came from
    baseline_generated_at: str
    new: list[FindingChange]
    resolved: list[FindingChange]
    persisting: list[FindingChange]
    layers: list[LayerChange]  # every layer in both, most changed first
    metrics: list[MetricChange]
    runs_added: list[str]
    runs_removed: list[str]
    steps: list[StepsChange]

    @property
    def layers_changed(self) -> list[LayerChange]:
        return [layer for layer in self.layers if layer.changed]

    @property
    def metrics_moved(self) -> list[MetricChange]:
        return [m for m in self.metrics if m.moved()]

    @property
    def nothing_changed(self) -> bool:
        return not (self.new or self.resolved or self.layers_changed or self.metrics_moved or self.runs_added
                    or self.runs_removed)

    def headline(self) -> str:
        """One line: what changed, or that nothing did beyond noise."""
        if self.nothing_changed:
            widest = max(self.layers, key=lambda layer: layer.distance, default=None)
            moved = (f"no layer's last-step weights moved beyond noise (the most: {widest.layer} in {widest.run}, "
                     f"{widest.distance:.1%} of its spread against {widest.threshold:.1%})" if widest else "no layers")
            return f"No change beyond noise since the baseline: the same findings, {moved}, metrics within noise."
        parts = []
        for items, word in ((self.new, "new"), (self.resolved, "resolved"), (self.persisting, "still there")):
            if items:
                parts.append(f"{plural(len(items), 'finding')} {word}")
        if self.layers_changed:
            parts.append(f"{plural(len(self.layers_changed), 'layer')} changed")
        worse = [m for m in self.metrics_moved if m.worse]
        better = [m for m in self.metrics_moved if not m.worse]
        if worse:
            parts.append(f"{plural(len(worse), 'metric')} worse")
        if better:
            parts.append(f"{len(better)} better")
        if self.runs_added:
            parts.append(f"runs added: {', '.join(self.runs_added)}")
        if self.runs_removed:
            parts.append(f"runs removed: {', '.join(self.runs_removed)}")
        return "Since the baseline: " + "; ".join(parts) + "."

    def new_at_or_above(self, severity: Severity | str) -> list[str]:
        """The new findings at or above `severity`, each as a reason to fail."""
        return [f"new {f.severity} finding {f.code} in {f.run} / {f.layer}" for f in self.new
                if Severity(f.severity).at_or_above(severity)]

    def regression(self, worse_by: float = DEFAULT_WORSE_BY, metric: str = "") -> list[str]:
        """Why tonight is a regression (empty: it is not): a new finding at warning or above, or
        the main metric (or `metric`) worse than the baseline by more than `worse_by` and noise."""
        reasons = self.new_at_or_above(Severity.WARNING)
        for m in self.metrics:
            if (m.tag == metric if metric else m.main) and m.worse and m.moved(worse_by):
                reasons.append(f"{m.tag} in {m.run} worse: {m.before:.4g} -> {m.now:.4g}")
        return reasons


def run_key(name: str, pattern: str) -> str:
    """The name runs are matched by: `name` without what `pattern` matches in it."""
    return re.sub(pattern, "", name) if pattern else name


def weight_quantiles(buckets: np.ndarray) -> list[float]:
    """The quantiles at QUANTILE_POINTS of one histogram step (rows of left, right, count),
    interpolated within buckets as TensorBoard's compressor does."""
    counts = buckets[:, 2]
    total = float(counts.sum())
    if total <= 0:
        return []
    cumulative = np.concatenate([[0.0], np.cumsum(counts)]) / total
    edges = np.concatenate([[buckets[0, 0]], buckets[:, 1]])
    return [float(v) for v in np.interp(QUANTILE_POINTS, cumulative, edges)]


def compare(now: dict[str, Any], before: dict[str, Any], label: str, match_runs: str = "") -> Since:
    """What changed from the `before` snapshot (a report.json's content) to `now`."""
    now_runs = {run_key(r["name"], match_runs): r for r in now.get("runs", [])}
    old_runs = {run_key(r["name"], match_runs): r for r in before.get("runs", [])}
    shared = [key for key in now_runs if key in old_runs]

    def by_print(snap: dict[str, Any], runs: dict[str, Any]) -> dict[str, FindingChange]:
        names = {r["name"]: key for key, r in runs.items()}
        out = {}
        for f in snap.get("findings", []):
            key = names.get(f["run"], run_key(f["run"], match_runs))
            out[fingerprint(key, f["layer"], f["code"])] = FindingChange(
                fingerprint(key, f["layer"], f["code"]), f["code"], f["run"], f["layer"], f["severity"], f["message"])
        return out

    new_f, old_f = by_print(now, now_runs), by_print(before, old_runs)
    compared = {now_runs[k]["name"] for k in shared} | {old_runs[k]["name"] for k in shared}
    # an added run's findings are not "new", a removed run's not "resolved"
    new_f = {p: f for p, f in new_f.items() if f.run in compared}
    old_f = {p: f for p, f in old_f.items() if f.run in compared}
    layers, metrics, steps = [], [], []
    for key in shared:
        a, b = old_runs[key], now_runs[key]
        layers += _layer_changes(b["name"], a.get("weights") or {}, b.get("weights") or {})
        metrics += _metric_changes(b, a)
        steps.append(StepsChange(b["name"], a.get("last_step"), b.get("last_step")))
    layers.sort(key=lambda c: -c.distance)
    return Since(
        baseline=label, baseline_generated_at=str(before.get("generated_at", "")),
        new=[f for p, f in new_f.items() if p not in old_f], resolved=[f for p, f in old_f.items() if p not in new_f],
        persisting=[f for p, f in new_f.items() if p in old_f], layers=layers, metrics=metrics,
        runs_added=[now_runs[k]["name"] for k in now_runs if k not in old_runs],
        runs_removed=[old_runs[k]["name"] for k in old_runs if k not in now_runs], steps=steps)


def _layer_changes(run: str, before: dict[str, Any], now: dict[str, Any]) -> list[LayerChange]:
    changes = []
    for layer, b in now.items():
        a = before.get(layer)
        if not a or not a.get("quantiles") or not b.get("quantiles") or len(a["quantiles"]) != len(b["quantiles"]):
            continue
        qa, qb = np.asarray(a["quantiles"], dtype=float), np.asarray(b["quantiles"], dtype=float)
        if not (np.isfinite(qa).all() and np.isfinite(qb).all()):
            distance = math.inf
        else:
            spread = float(qa[-1] - qa[0])
            w1 = float(np.abs(qa - qb).mean())
            distance = w1 / spread if spread > 0 else (0.0 if w1 == 0 else math.inf)
        values = float(b.get("values") or a.get("values") or 0.0)
        threshold = max(LAYER_CHANGED, SEED_NOISE / math.sqrt(values)) if values > 0 else LAYER_CHANGED
        change = LayerChange(run, layer, b.get("tag", ""), distance, distance > threshold,
                             [float(v) for v in qa], [float(v) for v in qb], threshold,
                             a.get("moved"), b.get("moved"))
        change.changed = change.changed or change.moved_differently
        changes.append(change)
    return changes


def _metric_changes(now: dict[str, Any], before: dict[str, Any]) -> list[MetricChange]:
    changes = []
    for tag, b in (now.get("metrics") or {}).items():
        a = (before.get("metrics") or {}).get(tag)
        if not a or a.get("end") is None or b.get("end") is None:
            continue
        noise = NOISE_SIGMAS * math.hypot(float(a.get("end_noise") or 0.0), float(b.get("end_noise") or 0.0))
        changes.append(MetricChange(now["name"], tag, str(b.get("role", "")), bool(b.get("higher_is_better")),
                                    float(a["end"]), float(b["end"]), a.get("best"), b.get("best"), noise,
                                    main=tag == now.get("main_metric_tag")))
    return changes


# --history: the last nights as a table -----------------------------------------------------

HISTORY_NIGHTS = 14  # nights shown by default: two weeks of a nightly job


@dataclass
class Night:
    generated_at: str
    metrics: dict[str, float | None]  # run -> its main metric's end that night
    counts: dict[str, dict[str, int]]  # run -> severity -> findings


@dataclass
class History:
    nights: list[Night]  # oldest first, tonight last
    runs: list[str]  # tonight's runs
    metric: dict[str, str | None]  # run -> the main metric's tag
    first_seen: dict[str, str]  # fingerprint of each of tonight's findings -> the first night it appeared


def _night(snap: dict[str, Any], match_runs: str) -> Night:
    counts: dict[str, dict[str, int]] = {}
    for f in snap.get("findings", []):
        per = counts.setdefault(run_key(f["run"], match_runs), {})
        per[f["severity"]] = per.get(f["severity"], 0) + 1
    metrics = {}
    for run in snap.get("runs", []):
        tag = run.get("main_metric_tag")
        found = (run.get("metrics") or {}).get(tag) if tag else None
        end = found.get("end") if found else None
        metrics[run_key(run["name"], match_runs)] = float(end) if isinstance(end, (int, float)) else None
    return Night(str(snap.get("generated_at", "")), metrics, counts)


def history(earlier: list[dict[str, Any]], now: dict[str, Any], match_runs: str = "",
            nights: int = HISTORY_NIGHTS) -> History:
    """The last `nights` nights (earlier reports sorted by when they were made, then tonight)."""
    earlier = sorted(earlier, key=lambda snap: str(snap.get("generated_at", "")))[-(nights - 1):] if nights > 1 else []
    snaps = [*earlier, now]
    first: dict[str, str] = {}
    for snap in snaps:
        for f in snap.get("findings", []):
            first.setdefault(fingerprint(run_key(f["run"], match_runs), f["layer"], f["code"]),
                             str(snap.get("generated_at", "")))
    tonight = {fingerprint(run_key(f["run"], match_runs), f["layer"], f["code"]) for f in now.get("findings", [])}
    runs = [run_key(r["name"], match_runs) for r in now.get("runs", [])]
    return History(nights=[_night(s, match_runs) for s in snaps], runs=runs,
                   metric={run_key(r["name"], match_runs): r.get("main_metric_tag") for r in now.get("runs", [])},
                   first_seen={p: night for p, night in first.items() if p in tonight})


SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float | None]) -> str:
    """One character per night, its height the value between the lowest and the highest; a
    space for a night without it."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return ""
    low, high = min(finite), max(finite)
    span = high - low
    return "".join(" " if v is None or not math.isfinite(v) else
                   SPARKS[0 if span == 0 else min(len(SPARKS) - 1, int((v - low) / span * len(SPARKS)))]
                   for v in values)
