"""Features of one histogram or scalar series, computed from the model alone.

Per-step statistics exist for every step; bucket-based features (exact-zero mass, mass near
bounds, shape, change between steps) use the kept steps, whose first and last are always there.
Legacy (torch/TF1) buckets are exponential: exact 0 sits in a bucket like [0, 1e-12]; TF2 tensor
histograms have 30 equal buckets, where a spike at 0 shares its bucket with small values and is
estimated conservatively.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from reportgen import histmath
from reportgen.diagnosis.layers import Layer
from reportgen.diagnosis.shapes import InitMatch, count_peaks, match_init, shape_class
from reportgen.diagnosis.thresholds import Thresholds
from reportgen.model import HistogramSeries, ScalarSeries

EXACT_ZERO = 1e-9  # widest bucket around 0 still read as "exactly zero" (legacy: 1e-12)
_QUANTILE_BPS = np.linspace(50, 9950, 100)  # for Wasserstein distances: 0.5% .. 99.5%


@dataclass
class SeriesFeatures:
    run: str
    tag: str
    kind: str
    steps: np.ndarray
    kept_steps: np.ndarray
    count: float  # values per step (last step)
    mean: np.ndarray
    std: np.ndarray
    min: np.ndarray
    max: np.ndarray
    rms: np.ndarray  # sqrt(mean^2 + std^2) per step: the typical magnitude
    nonfinite_steps: np.ndarray
    zero_fraction: np.ndarray  # per kept step: share exactly at 0
    bound: str  # "tanh" | "sigmoid" | "": the bounded range the values live in
    bound_fraction: np.ndarray  # per kept step: share in the saturation zones of `bound`
    beyond_linear: np.ndarray  # per kept step: share with |value| > the linear-range limit (pre-activations)
    shape_first: str
    shape_last: str
    change: float  # first->last Wasserstein distance / spread
    change_abs: float
    peaks_last: int
    q_first: np.ndarray  # quantiles at histmath.BASIS_POINTS
    q_last: np.ndarray
    init: InitMatch | None = None

    @property
    def first_step(self) -> int:
        return int(self.steps[0])

    @property
    def last_step(self) -> int:
        return int(self.steps[-1])

    def growth(self) -> float:
        """Largest rms over the rms of the first step with a non-zero magnitude (1 when undefined)."""
        finite = np.isfinite(self.rms)
        rms = self.rms[finite]
        positive = np.flatnonzero(rms > 0)
        if not positive.size:
            return 1.0
        return float(rms[positive[0]:].max() / rms[positive[0]])


def _clip(buckets: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Buckets cut to the step's exact [min, max] (values never lie outside)."""
    if not buckets.size or not (np.isfinite(lo) and np.isfinite(hi)) or hi < lo:
        return buckets
    b = buckets[np.isfinite(buckets).all(axis=1)].copy()
    b[:, 0] = np.clip(b[:, 0], lo, hi)
    b[:, 1] = np.clip(b[:, 1], lo, hi)
    return b


def zero_fraction(buckets: np.ndarray) -> float:
    """Share of the count at exactly 0.

    A narrow bucket at 0 (legacy [0, 1e-12], or a zero-width one) counts whole; a wide bucket
    holding 0 counts only its excess over its neighbours, the part a continuous density cannot
    explain, so small positive values are not taken for zeros.
    """
    total = histmath.total_count(buckets)
    if total <= 0:
        return 0.0
    left, right, count = buckets[:, 0], buckets[:, 1], buckets[:, 2]
    narrow = (left >= -EXACT_ZERO) & (right <= EXACT_ZERO)
    if narrow.any():
        return float(count[narrow].sum() / total)
    holding = np.flatnonzero((left <= 0) & (right >= 0))
    if not holding.size:
        return 0.0
    i = int(holding[0])
    neighbours = [count[j] for j in (i - 1, i + 1) if 0 <= j < len(count)]
    excess = count[i] - (max(neighbours) if neighbours else 0.0)
    return float(max(excess, 0.0) / total)


def bounded_range(kind: str, tag: str, lo: float, hi: float, zeros: float) -> str:
    """Which squashing function's range the values live in, if any."""
    if kind not in ("activations", "other") or not hi > lo:
        return ""
    name = tag.lower()
    if "relu" in name or "softmax" in name or zeros > 0.05:
        return ""
    if "tanh" in name or (lo >= -1.0 and hi <= 1.0 and lo < 0 < hi):
        return "tanh"
    if "sigmoid" in name or (lo >= 0.0 and hi <= 1.0):
        return "sigmoid"
    return ""


def near_bounds(buckets: np.ndarray, bound: str, zone: float) -> float:
    total = histmath.total_count(buckets)
    if not bound or total <= 0:
        return 0.0
    lo, hi = (-1.0, 1.0) if bound == "tanh" else (0.0, 1.0)
    width = (hi - lo) * zone
    inside = histmath.mass_between(buckets, lo, lo + width) + histmath.mass_between(buckets, hi - width, hi)
    return float(min(inside / total, 1.0))


def wasserstein(a: np.ndarray, b: np.ndarray) -> float:
    """W1 distance between two bucket histograms, from their quantile functions."""
    if not a.size or not b.size or histmath.total_count(a) <= 0 or histmath.total_count(b) <= 0:
        return 0.0
    with np.errstate(invalid="ignore"):  # infinite edges give NaN here: the nan_or_inf rule reports them
        return float(np.abs(histmath.quantiles(a, _QUANTILE_BPS) - histmath.quantiles(b, _QUANTILE_BPS)).mean())


def beyond(buckets: np.ndarray, limit: float) -> float:
    """Share of the count with |value| > limit."""
    total = histmath.total_count(buckets)
    if total <= 0:
        return 0.0
    outside = histmath.mass_between(buckets, -np.inf, -limit) + histmath.mass_between(buckets, limit, np.inf)
    return float(min(outside / total, 1.0))


def _sigmoid_saturated_to_zero(kind: str, buckets: np.ndarray, lo: float, hi: float, zone: float) -> bool:
    """A [0, 1] activation with exact zeros AND a pile at 1: a sigmoid saturated both ways
    (float32 sigmoid underflows to exactly 0 for very negative inputs), not a ReLU."""
    if kind not in ("activations", "other") or lo < 0 or hi > 1 or not buckets.size:
        return False
    total = histmath.total_count(buckets)
    return total > 0 and histmath.mass_between(buckets, 1 - zone, 1.0) / total >= 0.05


def series_features(series: HistogramSeries, kind: str, t: Thresholds) -> SeriesFeatures:
    zone, linear_limit = t.saturation_zone, t.linear_range
    kept = series.kept
    clipped = [_clip(b, float(series.min[i]), float(series.max[i])) for b, i in zip(series.buckets, kept)]
    zeros = np.array([zero_fraction(b) for b in clipped]) if clipped else np.zeros(0)
    lo_all = float(np.nanmin(series.min)) if series.min.size and np.isfinite(series.min).any() else 0.0
    hi_all = float(np.nanmax(series.max)) if series.max.size and np.isfinite(series.max).any() else 0.0
    bound = bounded_range(kind, series.tag, lo_all, hi_all, float(zeros.max()) if zeros.size else 0.0)
    if not bound and clipped and _sigmoid_saturated_to_zero(kind, clipped[-1], lo_all, hi_all, zone):
        bound = "sigmoid"
    bounds = np.array([near_bounds(b, bound, zone) for b in clipped]) if clipped else np.zeros(0)
    rms = np.sqrt(series.mean**2 + series.std**2)
    first, last = (clipped[0], clipped[-1]) if clipped else (np.zeros((0, 3)), np.zeros((0, 3)))
    i0, i1 = (int(kept[0]), int(kept[-1])) if kept.size else (0, 0)
    shapes = []
    peaks = []
    for b, i, z, s in ((first, i0, zeros[:1], bounds[:1]), (last, i1, zeros[-1:], bounds[-1:])):
        lo, hi = float(series.min[i]) if series.min.size else 0.0, float(series.max[i]) if series.max.size else 0.0
        p = count_peaks(b, lo, hi, t.peaks_min_values) if np.isfinite([lo, hi]).all() else 1
        peaks.append(p)
        shapes.append(shape_class(b, series.quantiles[i] if len(series.quantiles) else np.zeros(9),
                                  float(series.mean[i]) if series.mean.size else 0.0,
                                  float(series.std[i]) if series.std.size else 0.0, lo, hi,
                                  float(z[0]) if z.size else 0.0, float(s[0]) if s.size else 0.0, p, t))
    distance = wasserstein(first, last)
    spread = max(float(series.std[i0]) if series.std.size else 0.0, float(series.std[i1]) if series.std.size else 0.0)
    level = max(abs(float(series.mean[i0])), abs(float(series.mean[i1]))) if series.mean.size else 0.0
    scale = max(spread, 1e-3 * level, 1e-12)  # a constant series (zero-init bias) moves against its level
    features = SeriesFeatures(
        run=series.run, tag=series.tag, kind=kind, steps=series.steps, kept_steps=series.kept_steps(),
        count=float(series.count[-1]) if series.count.size else 0.0, mean=series.mean, std=series.std,
        min=series.min, max=series.max, rms=rms, nonfinite_steps=series.steps[series.nonfinite],
        zero_fraction=zeros, bound=bound, bound_fraction=bounds,
        beyond_linear=(np.array([beyond(b, linear_limit) for b in clipped]) if kind == "pre-activations" and clipped
                       else np.zeros(0)),
        shape_first=shapes[0], shape_last=shapes[1],
        change=distance / scale if np.isfinite(distance) else float("inf"), change_abs=distance,
        peaks_last=peaks[1], q_first=series.quantiles[i0] if len(series.quantiles) else np.zeros(9),
        q_last=series.quantiles[i1] if len(series.quantiles) else np.zeros(9),
    )
    if kind == "weights" and series.steps.size:
        features.init = match_init(shapes[0], features.q_first, float(series.mean[i0]), float(series.std[i0]),
                                   float(series.min[i0]), float(series.max[i0]), float(series.count[i0]))
    return features


# Scalars ------------------------------------------------------------------------------------

_LOSS_NAME = re.compile(r"(^|[/_.\s-])(loss|nll|cross_?entropy|xent)($|[/_.\s-])", re.IGNORECASE)
_ACCURACY_NAME = re.compile(r"(^|[/_.\s-])(acc|accuracy|top\d?_?acc\w*)($|[/_.\s-])", re.IGNORECASE)


_REWARD_NAME = re.compile(r"(^|[/_.\s-])(reward|return|episode_reward)s?($|[/_.\s-])", re.IGNORECASE)


def scalar_role(tag: str) -> str:
    """'loss', 'accuracy', 'reward' (trend text only) or '' (other scalars are not judged)."""
    if _LOSS_NAME.search(tag) and not re.search(r"loss_?scale", tag, re.IGNORECASE):
        return "loss"
    if _ACCURACY_NAME.search(tag):
        return "accuracy"
    if _REWARD_NAME.search(tag):
        return "reward"
    return ""


@dataclass
class ScalarFeatures:
    run: str
    tag: str
    role: str
    steps: np.ndarray
    values: np.ndarray  # finite values only
    finite_steps: np.ndarray
    nonfinite_steps: np.ndarray
    early: float  # median of the first 10% (at least 1, at most 10 points)
    late: float  # median of the last 10%
    best: float
    roughness: float  # median |step-to-step change| in the second half, relative to the level
    sign_changes: float  # share of direction changes among consecutive changes in the second half
    noise: float  # standard error of (first-quarter mean - last-quarter mean), relative to |early|

    @property
    def signed(self) -> bool:
        """Values on both sides of 0: a surrogate objective (policy gradient), not a level to judge."""
        negative = self.values < 0
        return bool(negative.any() and (self.values > 0).any()) or bool(negative.all() and self.values.size)


def scalar_features(series: ScalarSeries) -> ScalarFeatures:
    finite = np.isfinite(series.values)
    values, steps = series.values[finite], series.steps[finite]
    n = values.size
    window = min(max(n // 10, 1), 10)
    early = float(np.median(values[:window])) if n else float("nan")
    late = float(np.median(values[-window:])) if n else float("nan")
    half = values[n // 2:]
    diffs = np.diff(half)
    level = float(np.median(np.abs(half))) if half.size else 0.0
    typical = float(np.median(np.abs(diffs))) if diffs.size else 0.0
    roughness = typical / level if level > 0 else (float("inf") if typical > 0 else 0.0)
    moving = diffs[diffs != 0]
    flips = float(np.mean(np.sign(moving[1:]) != np.sign(moving[:-1]))) if moving.size > 2 else 0.0
    role = scalar_role(series.tag)
    best = (float(values.max()) if role in ("accuracy", "reward") else float(values.min())) if n else float("nan")
    quarter = max(n // 4, 1)
    residual = np.diff(values) / math.sqrt(2) if n > 2 else np.zeros(0)  # step-to-step noise, trend removed
    sigma = float(np.median(np.abs(residual)) * 1.4826) if residual.size else 0.0
    noise = sigma * math.sqrt(2 / quarter) / abs(early) if n and early else 0.0
    return ScalarFeatures(series.run, series.tag, role, series.steps, values, steps, series.steps[~finite],
                          early, late, best, roughness, flips, noise)


# Containers the rules get ----------------------------------------------------------------


@dataclass
class LayerFeatures:
    run: str
    layer: Layer
    series: dict[str, SeriesFeatures]  # tag -> features

    def of_kind(self, *kinds: str) -> list[SeriesFeatures]:
        return [s for s in self.series.values() if s.kind in kinds]


@dataclass
class RunFeatures:
    name: str
    layers: list[LayerFeatures]
    scalars: dict[str, ScalarFeatures] = field(default_factory=dict)

    def losses(self) -> list[ScalarFeatures]:
        """Loss-named scalars whose level means something (never negative)."""
        return [s for s in self.scalars.values() if s.role == "loss" and not s.signed]


def run_features(name: str, histograms: dict[str, HistogramSeries], scalars: dict[str, ScalarSeries],
                 layers: list[Layer], t: Thresholds) -> RunFeatures:
    """The features of one run's series, grouped by its layers."""
    layer_features = [LayerFeatures(name, layer, {tag: series_features(histograms[tag], kind, t)
                                                  for tag, kind in layer.tags.items()}) for layer in layers]
    return RunFeatures(name, layer_features, {tag: scalar_features(s) for tag, s in scalars.items()})


def improvement(s: ScalarFeatures) -> float:
    """Relative improvement from the first to the last part: loss down, accuracy up."""
    return (s.early - s.late if s.role == "loss" else s.late - s.early) / abs(s.early) if s.early else 0.0


def loss_improving(run: RunFeatures, t: Thresholds) -> bool:
    """Whether some loss (or accuracy) clearly improved: evidence that training works."""
    scalars = [*run.losses(), *(a for a in run.scalars.values() if a.role == "accuracy")]
    return any(s.values.size >= t.min_steps and improvement(s) >= max(t.loss_plateau_drop, t.noise_multiple * s.noise)
               for s in scalars)
