"""Features of one histogram or scalar series, computed from the model alone.

Per-step statistics exist for every step; bucket-based features (exact-zero mass, mass near
bounds, shape, change between steps) use the kept steps, whose first and last are always there.
Legacy (torch/TF1) buckets are exponential: exact 0 sits in a bucket like [0, 1e-12]; TF2 tensor
histograms have 30 equal buckets, where a spike at 0 shares its bucket with small values and is
estimated conservatively.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

import numpy as np

from reportgen import histmath
from reportgen.diagnosis.curves import ScalarFeatures, scalar_features
from reportgen.diagnosis.layers import Layer
from reportgen.diagnosis.roles import LOSSES, Role, ScalarRole, roles_of
from reportgen.diagnosis.shapes import InitMatch, count_peaks, match_init, moments, shape_class
from reportgen.diagnosis.thresholds import Thresholds
from reportgen.model import BucketRows, HistogramSeries, PackedRows, ScalarSeries

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
    buckets_first: np.ndarray  # the first and last kept step's buckets, cut to [min, max]
    buckets_last: np.ndarray
    moments_first: tuple[float, float] = (0.0, 0.0)  # (skewness, excess kurtosis) of the first kept step
    moments_last: tuple[float, float] = (0.0, 0.0)
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
    finite = np.isfinite(buckets)
    b = buckets.copy() if finite.all() else buckets[finite.all(axis=1)]
    # np.minimum/np.maximum in place, not np.clip: this runs for every kept step of every tag
    # (15,030 times for the benchmark log), and np.clip's Python wrapper was most of its time
    edges = b[:, :2]
    np.maximum(edges, lo, out=edges)
    np.minimum(edges, hi, out=edges)
    return b


def _kept_step(series: HistogramSeries, j: int) -> np.ndarray:
    """Kept step j's buckets cut to its exact [min, max] (`_clip`). Packed rows that need no
    cutting are only unpacked: checking that costs a few comparisons, and cutting every kept
    step (15,030 in the benchmark log) was a third of the diagnosis's time."""
    lo, hi, item = _step_bounds(series, j)
    return item.unpack() if item is not None else _clip(series.buckets[j], lo, hi)


def _step_bounds(series: HistogramSeries, j: int) -> tuple[float, float, PackedRows | None]:
    """Kept step j's exact min and max, and its packed rows when cutting them to those would
    change nothing (else None)."""
    i = series.kept[j]
    lo, hi = float(series.min[i]), float(series.max[i])
    item = series.buckets.packed(j) if isinstance(series.buckets, BucketRows) else None
    return lo, hi, item if item is not None and item.finite_within(lo, hi) else None


def _zero_fractions(series: HistogramSeries) -> np.ndarray:
    """`zero_fraction` of each kept step's `_kept_step`, the same numbers. A packed step that
    needs no cutting is not unpacked: which of its rows are narrow or hold 0 is a property of
    its edge table, found once per table, and what is left is a handful of operations on the
    rows that are. Unpacking every kept step for this was 0.22 s CPU of the benchmark log's
    diagnosis, and the fractions one step at a time another 0.15 s."""
    tables: dict[int, tuple[np.ndarray, list[int]]] = {}
    out = np.zeros(len(series.kept))
    for j in range(len(series.kept)):
        lo, hi, item = _step_bounds(series, j)
        if item is None:
            out[j] = zero_fraction(_clip(series.buckets[j], lo, hi), lo, hi)
            continue
        edges = tables.get(id(item.table))
        if edges is None:
            edges = tables[id(item.table)] = _table_edges(item.table)
        out[j] = _packed_zero_fraction(item, lo, hi, *edges)
    return out


def _table_edges(table: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """For an edge table: the indices i of the inner rows [table[i - 1], table[i]] that are
    narrow around 0 (~145 with TensorFlow's default limits), and of those that hold 0."""
    left, right = table[:-1], table[1:]
    return (np.flatnonzero((left >= -EXACT_ZERO) & (right <= EXACT_ZERO)) + 1,
            (np.flatnonzero((left <= 0) & (right >= 0)) + 1).tolist())


def _packed_zero_fraction(item: PackedRows, lo: float, hi: float, narrow_at: np.ndarray, holding_at: list[int]
                          ) -> float:
    """`zero_fraction(item.unpack(), lo, hi)` from the packed rows: row 0 is [item.lo, t[s]],
    row r is [t[s + r - 1], t[s + r]] and the last [t[s + k - 2], item.hi], t the table and s
    its start; sums in the order zero_fraction adds them."""
    count, s = item.counts, item.start
    k = len(count)
    total = float(count.sum())
    if total <= 0:
        return 0.0
    first, last = float(item.table[s]), float(item.table[s + k - 2])  # the first and last inner edges
    inner = narrow_at[bisect.bisect_left(narrow_at, s + 1):bisect.bisect_right(narrow_at, s + k - 2)]
    at_first = item.lo >= -EXACT_ZERO and first <= EXACT_ZERO
    at_last = last >= -EXACT_ZERO and item.hi <= EXACT_ZERO
    if inner.size or at_first or at_last:
        narrow = np.concatenate(([0] if at_first else [], inner - s, [k - 1] if at_last else [])).astype(np.intp)
        return float(count[narrow].sum() / total)
    if not (lo == 0 or hi == 0):
        return 0.0
    if item.lo <= 0 <= first:
        r = 0
    else:
        inside = [i - s for i in holding_at if s + 1 <= i <= s + k - 2]
        if inside:
            r = inside[0]
        elif last <= 0 <= item.hi:
            r = k - 1
        else:
            return 0.0
    neighbours = [float(count[j]) for j in (r - 1, r + 1) if 0 <= j < k]
    excess = float(count[r]) - (max(neighbours) if neighbours else 0.0)
    return max(excess, 0.0) / total


def zero_fraction(buckets: np.ndarray, lo: float = float("nan"), hi: float = float("nan")) -> float:
    """Share of the count at exactly 0, claimed only where the data say so.

    A narrow bucket at 0 (legacy [0, 1e-12], or a zero-width one) counts whole. A wide bucket
    (TF2's 30 equal buckets) holding 0 says nothing about exact zeros unless 0 is the step's
    exact min or max (ReLU outputs); then its excess over its neighbour, the part a continuous
    density cannot explain, is the estimate. A bucket in the middle of [-24, 12] that holds 85%
    of a heavy-tailed tensor holds small values, not zeros.
    """
    total = histmath.total_count(buckets)
    if total <= 0:
        return 0.0
    left, right, count = buckets[:, 0], buckets[:, 1], buckets[:, 2]
    narrow = (left >= -EXACT_ZERO) & (right <= EXACT_ZERO)
    if narrow.any():
        return float(count[narrow].sum() / total)
    if not (lo == 0 or hi == 0):
        return 0.0
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
    zeros = _zero_fractions(series)
    lo_all = float(np.nanmin(series.min)) if series.min.size and np.isfinite(series.min).any() else 0.0
    hi_all = float(np.nanmax(series.max)) if series.max.size and np.isfinite(series.max).any() else 0.0
    bound = bounded_range(kind, series.tag, lo_all, hi_all, float(zeros.max()) if zeros.size else 0.0)
    last_step = _kept_step(series, len(kept) - 1) if kept.size else None
    if not bound and last_step is not None and _sigmoid_saturated_to_zero(kind, last_step, lo_all, hi_all, zone):
        bound = "sigmoid"
    # Every step's buckets only where a feature of every step needs them (and then cut once).
    clipped: list[np.ndarray] = []
    if last_step is not None and (bound or kind == "pre-activations"):
        clipped = [*(_kept_step(series, j) for j in range(len(kept) - 1)), last_step]  # the last one cut once
    elif last_step is not None:
        clipped = [_kept_step(series, 0), last_step]
    bounds = np.array([near_bounds(b, bound, zone) for b in clipped]) if bound else np.zeros(len(kept))
    rms = np.sqrt(series.mean**2 + series.std**2)
    first, last = (clipped[0], clipped[-1]) if clipped else (np.zeros((0, 3)), np.zeros((0, 3)))
    i0, i1 = (int(kept[0]), int(kept[-1])) if kept.size else (0, 0)
    shapes = []
    peaks = []
    for b, i, z, s in ((first, i0, zeros[:1], bounds[:1]), (last, i1, zeros[-1:], bounds[-1:])):
        lo, hi = float(series.min[i]) if series.min.size else 0.0, float(series.max[i]) if series.max.size else 0.0
        p = count_peaks(b, lo, hi, t.few_values) if np.isfinite([lo, hi]).all() else 1
        peaks.append(p)
        shapes.append(shape_class(b, series.quantiles[i] if len(series.quantiles) else np.zeros(9),
                                  float(series.mean[i]) if series.mean.size else 0.0,
                                  float(series.std[i]) if series.std.size else 0.0, lo, hi,
                                  float(z[0]) if z.size else 0.0, float(s[0]) if s.size else 0.0, p, t))
    distance = wasserstein(first, last)
    # Movement is measured against the tensor's initial spread: against the larger of the two, a
    # spread that exploded (an LSTM's recurrent weights, x1e5) made the move look like 0.2%.
    spread = float(series.std[i0]) if series.std.size and np.isfinite(series.std[i0]) else 0.0
    level = abs(float(series.mean[i0])) if series.mean.size and np.isfinite(series.mean[i0]) else 0.0
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
        buckets_first=first, buckets_last=last,
        moments_first=moments(first, float(series.mean[i0]), float(series.std[i0])) if series.mean.size else (0.0, 0.0),
        moments_last=moments(last, float(series.mean[i1]), float(series.std[i1])) if series.mean.size else (0.0, 0.0),
    )
    if kind == "weights" and series.steps.size:
        features.init = match_init(shapes[0], features.q_first, float(series.mean[i0]), float(series.std[i0]),
                                   float(series.min[i0]), float(series.max[i0]), float(series.count[i0]))
    return features


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
    scalars: dict[str, ScalarFeatures] = field(default_factory=dict)  # one per series: aliases folded in
    training: RunFeatures | None = None  # for an evaluation run (Keras' validation/): its training run
    broken_at: int | None = None  # the first step with a NaN/Inf weight, activation or objective
    whole: RunFeatures | None = None  # when broken: the features of the whole run (these stop before it)

    def of_role(self, *roles: Role, evaluation: bool | None = None) -> list[ScalarFeatures]:
        return [s for s in self.scalars.values()
                if s.role in roles and (evaluation is None or s.evaluation == evaluation)]

    def objective(self) -> ScalarFeatures | None:
        """The training objective the trend rules judge: of the run's objective-like tags, the
        one with the most points (Lightning's `train_loss_step` over `train_loss_epoch`, Hugging
        Face's `train/loss` over the one-point `train/train_loss`). None when there is none."""
        candidates = [s for s in self.of_role(Role.OBJECTIVE, evaluation=False) if s.points]
        return max(candidates, key=lambda s: (s.points, -len(s.tag)), default=None)

    def reward(self) -> ScalarFeatures | None:
        """The reward or return that measures progress in an RL run: a mean over episodes first
        (RLlib's `episode_reward_mean`, not its `_max`), training episodes before evaluation ones."""
        candidates = [s for s in self.of_role(Role.REWARD) if s.points]
        return max(candidates, key=lambda s: (not re.search(r"(^|_)(max|min)($|_)", s.tag.rsplit("/", 1)[-1]),
                                               not s.evaluation, "mean" in s.tag, s.points, -len(s.tag)),
                   default=None)

    def results(self) -> list[ScalarFeatures]:
        """The curves that measure how well the run did, the best measure first: an accuracy-like
        metric on held-out data, then an evaluation loss (each, most points first), the reward of
        an RL run, then the training objective unless it is a signed surrogate (a policy-gradient
        loss says nothing by its level). A sweep ranks its runs by the first of these."""
        def most_points(curves: list[ScalarFeatures]) -> list[ScalarFeatures]:
            return sorted((c for c in curves if c.points), key=lambda c: (-c.points, len(c.tag), c.tag))

        found = [*most_points(self.of_role(Role.ACCURACY, evaluation=True)), *most_points(self.of_role(Role.EVAL_LOSS))]
        reward, objective = self.reward(), self.objective()
        found += [c for c in (reward, objective) if c is not None and not (c is objective and c.signed)]
        return list({id(c): c for c in found}.values())

    def losses(self) -> list[ScalarFeatures]:
        """Loss curves whose level means something (never negative)."""
        return [s for s in self.of_role(*LOSSES) if not s.signed]

    def fits_data(self, t: Thresholds) -> bool:
        """Evidence that the weights fit the data: the objective, an evaluation loss or an
        accuracy clearly improved. A reward is not such evidence: it also rises as exploration
        decays, and a policy head on fixed random features can raise it alone, so a rising
        reward says the agent improves, not that its layers learn (sample_logs' `question`:
        reward -0.56 -> -0.11 while layers 1-3 moved 0.5-1% of their spread)."""
        judged = [*self.losses(), *self.of_role(Role.ACCURACY)]
        return any(s.role is not Role.RL_VALUE_LOSS and s.role is not Role.COMPONENT and s.improving(t)
                   for s in judged)


def run_features(name: str, histograms: dict[str, HistogramSeries], scalars: dict[str, ScalarSeries],
                 layers: list[Layer], t: Thresholds, roles: dict[str, ScalarRole] | None = None) -> RunFeatures:
    """The features of one run's series, grouped by its layers; `roles` of its scalars (by name
    when not given). A series logged under several names is kept once, under its first name."""
    layer_features = [LayerFeatures(name, layer, {tag: series_features(histograms[tag], kind, t)
                                                  for tag, kind in layer.tags.items()}) for layer in layers]
    roles = roles or roles_of(list(scalars), name)
    curves: dict[str, ScalarFeatures] = {}
    seen: dict[bytes, str] = {}
    for tag, series in scalars.items():
        key = series.steps.tobytes() + series.values.tobytes()
        if key in seen and len(series.steps) > 1:
            first = curves[seen[key]]
            first.aliases = (*first.aliases, tag)
            continue
        seen[key] = tag
        curves[tag] = scalar_features(series, roles[tag], t)
    return RunFeatures(name, layer_features, curves)
