"""How much each tensor's typical magnitude grew over a run, measured so that a near-zero start
is not read as an explosion.

Growth is the end level (median root mean square over the last window of logged steps) over
the start level (the median over the first window), with the start level floored at a share of
the run's typical start level for tensors of that kind: a zero-initialised head, a bias that
starts at 0, or gradients that are tiny until learning starts would otherwise "grow" 100x by
learning (a clipped LSTM's bias gradients: 1.3e-06 -> 0.158, the loss falling 94%). The end
window makes the growth one that persists (to the end, or to the step before the run broke),
not a spike the run recovered from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.diagnosis import trends
from reportgen.diagnosis.features import LayerFeatures, RunFeatures, SeriesFeatures
from reportgen.diagnosis.thresholds import Thresholds

KINDS = ("weights", "norm", "bias", "activations", "pre-activations", "outputs", "gradients")
MIN_WINDOW = 3  # logged steps in the start and end windows, at least


@dataclass(frozen=True)
class Growth:
    layer: str
    tag: str
    kind: str
    start: float  # median rms of the start window
    baseline: float  # what growth is measured from: the start level, floored
    end: float  # median rms of the end window
    onset: int  # the first step whose rms reached exploding_growth x baseline (or the last step)
    largest: float  # the largest finite |value| of the series
    beyond: int | None  # the first step with a value beyond exploding_absolute

    @property
    def factor(self) -> float:
        return self.end / self.baseline if self.baseline > 0 else 1.0

    def grew(self, t: Thresholds) -> bool:
        return self.factor >= t.exploding_growth

    def first_step(self, t: Thresholds) -> int:
        """Where it first crossed a line: the growth threshold or the absolute limit."""
        steps = ([self.onset] if self.grew(t) else []) + ([self.beyond] if self.beyond is not None else [])
        return min(steps) if steps else self.onset


def _levels(s: SeriesFeatures, t: Thresholds, broke: bool) -> tuple[float, float, np.ndarray, np.ndarray] | None:
    """Start and end level; in a run that broke, the end is the last step before the break (an
    explosion that ends in NaN peaks there, between two logged steps)."""
    finite = np.isfinite(s.rms)
    rms, steps = s.rms[finite], s.steps[finite]
    if rms.size < 2 * MIN_WINDOW:
        return None
    size = trends.window(rms.size, t.trend_window, MIN_WINDOW)
    end = float(rms[-1]) if broke else float(np.median(rms[-size:]))
    return float(np.median(rms[:size])), end, rms, steps


def growths(run: RunFeatures, t: Thresholds) -> list[Growth]:
    """The growth of every weight, activation and gradient series with enough steps, in the
    order of the run's layers."""
    levels: list[tuple[LayerFeatures, SeriesFeatures, tuple[float, float, np.ndarray, np.ndarray]]] = []
    for lf in run.layers:
        for s in lf.of_kind(*KINDS):
            measured = _levels(s, t, run.broken_at is not None)
            if measured is not None:
                levels.append((lf, s, measured))
    typical = {}
    for kind in KINDS:
        starts = [v[0] for _, s, v in levels if s.kind == kind and v[0] > 0]
        typical[kind] = float(np.median(starts)) if starts else 0.0
    found = []
    for lf, s, (start, end, rms, steps) in levels:
        baseline = max(start, t.exploding_floor * typical[s.kind])
        above = np.flatnonzero(rms >= t.exploding_growth * baseline) if baseline > 0 else np.zeros(0, int)
        per_step = np.maximum(np.abs(s.min), np.abs(s.max))
        per_step = np.where(np.isfinite(per_step), per_step, 0.0)
        beyond = np.flatnonzero(per_step >= t.exploding_absolute)
        found.append(Growth(lf.layer.name, s.tag, s.kind, start, baseline, end,
                            int(steps[above[0]]) if above.size else int(steps[-1]), float(per_step.max(initial=0.0)),
                            int(s.steps[beyond[0]]) if beyond.size else None))
    return found


def exploded(g: Growth, t: Thresholds) -> bool:
    """Grew by `exploding_growth` or more and stayed there, or holds values beyond `exploding_absolute`."""
    return g.grew(t) or g.beyond is not None


def collapsed(run: RunFeatures, t: Thresholds) -> list[Growth]:
    """Weight series whose typical magnitude shrank `weight_collapse_shrink` times or more, most
    shrunk first."""
    shrunk = [g for g in growths(run, t) if g.kind == "weights" and g.start > 0
              and g.end * t.weight_collapse_shrink <= g.start]
    return sorted(shrunk, key=lambda g: g.end / g.start)
