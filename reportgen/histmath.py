"""Histogram maths on `[left, right, count]` bucket arrays: pure numpy, no I/O.

The semantics follow TensorBoard's plugins: quantiles at its basis points as
`tensorboard/plugins/distribution/compressor.py` computes them, and the 30-bin re-binning the
histogram dashboard does before drawing (`vz_histogram_timeseries`).
"""

from __future__ import annotations

import numpy as np

# Normal CDF at (-inf, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, +inf) sigma, in 1/10000ths
# (tensorboard/plugins/distribution/compressor.py: NORMAL_HISTOGRAM_BPS).
BASIS_POINTS = np.array([0, 668, 1587, 3085, 5000, 6915, 8413, 9332, 10000], dtype=np.float64)

# TensorBoard's histogram dashboard re-bins every step into this many equal bins.
DISPLAY_BINS = 30


def total_count(buckets: np.ndarray) -> float:
    return float(buckets[:, 2].sum()) if buckets.size else 0.0


def quantiles(buckets: np.ndarray, bps: np.ndarray = BASIS_POINTS) -> np.ndarray:
    """Values at basis points `bps` (of 10000), by linear interpolation inside buckets.

    Same result as tensorboard's `compressor.compress_histogram` (tested against it): the
    cumulative counts are scaled to 10000, each basis point is found with a right-sided search,
    empty buckets are stepped over, and basis points past the last non-empty bucket take the
    right edge of the last bucket. Zeros for a step with no buckets.
    """
    if not buckets.size:
        return np.zeros(len(bps))
    return quantiles_many([buckets], bps)[0]


def step_totals(rows: list[np.ndarray]) -> np.ndarray:
    """Each step's count, `buckets[:, 2].sum()` (0 for a step without buckets)."""
    return np.array([float(b[:, 2].sum()) if b.size else 0.0 for b in rows])


def quantiles_many(rows: list[np.ndarray], bps: np.ndarray = BASIS_POINTS, totals: np.ndarray | None = None
                   ) -> np.ndarray:
    """`quantiles` of many steps at once: row i holds the values of step i at `bps`.

    The steps' buckets go into one (steps, buckets) matrix, each padded with empty buckets on
    the right: the same element-wise operations and the same left-to-right cumulative sums as
    one step at a time, so the same numbers; only the search stays per step. A step without
    buckets gets its (missing) edges, NaN. Reading computes every step's quantiles this way:
    one numpy call per step cost more than the whole decode. `totals`: step_totals(rows), when
    the caller has them already.
    """
    sizes = np.array([len(b) for b in rows], dtype=np.int64)
    totals = step_totals(rows) if totals is None else totals
    width = int(sizes.max(initial=0))
    m = len(rows)
    counts = np.zeros((m, width))
    rights = np.zeros((m, width))
    firsts = np.full(m, np.nan)
    lasts = np.full(m, np.nan)
    for r, b in enumerate(rows):
        if b.size:
            counts[r, : len(b)] = b[:, 2]
            rights[r, : len(b)] = b[:, 1]
            firsts[r], lasts[r] = b[0, 0], b[-1, 1]
    with np.errstate(all="ignore"):  # overflow to inf where one step at a time would overflow
        weights = (counts * bps[-1] / np.where(totals == 0, 1.0, totals)[:, None]).cumsum(axis=1)
    prev = np.zeros_like(weights)
    prev[:, 1:] = weights[:, :-1]
    column = np.arange(width)
    inside = column[None, :] < sizes[:, None]
    grows = (weights != prev) & inside
    # For each bucket, the first bucket at or after it whose cumulative weight grows.
    candidates = np.where(grows, column[None, :], width)
    next_growing = np.minimum.accumulate(candidates[:, ::-1], axis=1)[:, ::-1] if width else candidates
    found = np.array([np.searchsorted(weights[r, : sizes[r]], bps, side="right") for r in range(m)])
    found = found.reshape(m, len(bps))
    i = np.where(found < sizes[:, None], np.take_along_axis(next_growing, np.minimum(found, max(width - 1, 0)), axis=1)
                 if width else width, width)
    ok = i < sizes[:, None]
    ok = np.logical_and.accumulate(ok, axis=1)  # once one basis point runs off the end, the rest do
    j = np.where(ok, i, 0)
    cum = np.take_along_axis(weights, j, axis=1) if width else np.zeros((m, len(bps)))
    cum_prev = np.take_along_axis(prev, j, axis=1) if width else np.zeros((m, len(bps)))
    right_before = np.take_along_axis(rights, np.maximum(j - 1, 0), axis=1) if width else np.zeros((m, len(bps)))
    right_here = np.take_along_axis(rights, j, axis=1) if width else np.zeros((m, len(bps)))
    minmin, maxmax = firsts[:, None], lasts[:, None]
    with np.errstate(all="ignore"):  # infinite edges give NaN/Inf, as in TensorBoard
        lhs = np.where((j == 0) | (cum_prev == 0), minmin, np.maximum(right_before, minmin))
        rhs = np.minimum(right_here, maxmax)
        interpolated = lhs + (bps[None, :] - cum_prev) * (rhs - lhs) / (cum - cum_prev)
    return np.where(ok, interpolated, maxmax)


def moments(buckets: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation from bucket midpoints (count-weighted)."""
    counts = buckets[:, 2] if buckets.size else np.zeros(0)
    total = counts.sum()
    if total <= 0:
        return float("nan"), float("nan")
    mids = (buckets[:, 0] + buckets[:, 1]) / 2
    mean = float((mids * counts).sum() / total)
    var = float((counts * (mids - mean) ** 2).sum() / total)
    return mean, float(np.sqrt(max(var, 0.0)))


def global_range(bucket_list: list[np.ndarray]) -> tuple[float, float]:
    """[smallest left edge, largest right edge] over all steps, widened when it has no width.

    The widening ([min/1.1 - 1, min*1.1 + 1]) is TensorBoard's, so a constant series still gets
    a visible bin.
    """
    lefts = [b[0, 0] for b in bucket_list if b.size and np.isfinite(b[0, 0])]
    rights = [b[-1, 1] for b in bucket_list if b.size and np.isfinite(b[-1, 1])]
    if not lefts or not rights:
        return -1.0, 1.0
    lo, hi = float(min(lefts)), float(max(rights))
    if lo == hi:
        lo, hi = lo / 1.1 - 1, lo * 1.1 + 1
        if lo > hi:
            lo, hi = hi, lo
    return lo, hi


def rebin(buckets: np.ndarray, lo: float, hi: float, bins: int = DISPLAY_BINS) -> np.ndarray:
    """Counts of one step re-binned into `bins` equal bins over [lo, hi].

    Each source bucket's count is split by the fraction of its width that overlaps each bin;
    a zero-width bucket goes wholly into the bin holding its value; the last bin is closed on
    the right. Counts outside [lo, hi] are dropped (with lo/hi from `global_range` there are
    none), so the total is conserved.
    """
    return rebin_steps([buckets], lo, hi, bins)[0]


def rebin_steps(bucket_list: list[np.ndarray], lo: float, hi: float, bins: int = DISPLAY_BINS) -> np.ndarray:
    """`rebin` of many steps at once (row i is step i), as a heatmap needs for up to 501 steps.

    Steps as every writer produces them (buckets in order, none overlapping, no negative count,
    all inside [lo, hi]) are re-binned together by `_rebin_ordered_many`; any other step, by
    splitting each bucket by overlap. The conditions are tested on all rows of all steps at once:
    one step at a time, testing cost more than re-binning.
    """
    out = np.zeros((len(bucket_list), bins))
    if hi <= lo or not bucket_list:
        return out
    # linspace puts the outer edges exactly on lo and hi: lo + width * bins can miss hi by
    # rounding when |lo| >> hi - lo, and a bucket ending at hi would then lose part of its count.
    edges = np.linspace(lo, hi, bins + 1)
    sizes = np.array([len(b) for b in bucket_list])
    starts = np.cumsum(sizes) - sizes
    rows = np.concatenate([b.reshape(-1, 3) for b in bucket_list])
    left, right, count = rows[:, 0], rows[:, 1], rows[:, 2]
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(left) & np.isfinite(right) & np.isfinite(count)  # 10x faster than .all(axis=1)
        fine = finite & (right >= left) & (count >= 0) & (left >= lo) & (right <= hi)
        in_order = np.ones(len(rows), bool)
        in_order[1:] = left[1:] >= right[:-1]
    in_order[starts[sizes > 0]] = True  # a step's first bucket follows no other
    ordered = np.zeros(len(sizes), bool)
    filled = sizes > 0
    ordered[filled] = np.logical_and.reduceat(fine & in_order, starts[filled])
    if ordered.all():
        return _rebin_ordered_many(rows, sizes, edges)
    if ordered.any():
        out[ordered] = _rebin_ordered_many(rows[np.repeat(ordered, sizes)], sizes[ordered], edges)
    for i in np.flatnonzero(~ordered & filled):
        buckets = bucket_list[i]
        out[i] = _rebin_by_overlap(buckets[np.isfinite(buckets).all(axis=1)], edges)
    return out


def _rebin_ordered_many(rows: np.ndarray, sizes: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """`_rebin_by_overlap` of many steps whose buckets are in order, inside the edges, with no
    negative count: `rows` are their buckets one step after the other, `sizes` how many each
    step has (at least 1).

    A bin's count is then the difference of the cumulative count at its edges, which is
    piecewise linear: the count of the buckets left of the edge plus, inside a bucket, the share
    of its width (np.interp of the cumulative count, computed here for all steps together: one
    np.interp per step spent 35 ms of a 501-step heatmap in numpy call overhead). A zero-width
    bucket (ReLU's exact zeros) counts from the edges past its value on, so it lands in the bin
    holding the value, the last bin if the value is the upper edge. The cumulative counts are
    one running sum less the steps before: exactly each step's own running sum when counts are
    whole numbers, as every writer's are; a bin with no count in it gets exactly 0 either way
    (a blank heatmap cell, not a faint one).
    """
    steps, bins = len(sizes), len(edges) - 1
    starts = np.cumsum(sizes) - sizes
    step_of_row = np.repeat(np.arange(steps), sizes)
    running = np.cumsum(rows[:, 2])
    earlier = np.concatenate(([0.0], running))[starts]  # the count of the steps before each step
    # A bucket is left of edges[b] (its left edge strictly below) when at most b edges are at or
    # below its left edge; a bucket at the upper edge is counted at the upper edge.
    below = np.minimum(np.searchsorted(edges, rows[:, 0], side="right"), bins)
    per_step = np.bincount(step_of_row * (bins + 2) + below, minlength=steps * (bins + 2)).reshape(steps, bins + 2)
    bucket = np.cumsum(per_step, axis=1)[:, : bins + 1] - 1  # (steps, bins + 1): -1 before the first bucket
    at = starts[:, None] + np.maximum(bucket, 0)
    left, right = rows[at, 0], rows[at, 1]
    done = running[at] - earlier[:, None]
    before = np.where(bucket > 0, running[at - 1] - earlier[:, None], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        cumulative = np.where(edges >= right, done, (done - before) / (right - left) * (edges - left) + before)
    cumulative[bucket < 0] = 0.0
    return np.maximum(np.diff(cumulative, axis=1), 0.0)  # no -1e-16 from rounding


def _rebin_by_overlap(b: np.ndarray, edges: np.ndarray) -> np.ndarray:
    bins = len(edges) - 1
    lo, hi = edges[0], edges[-1]
    out = np.zeros(bins)
    left, right, count = b[:, 0], b[:, 1], b[:, 2]
    point = right <= left
    if point.any():
        # The bin whose [left, right) holds the value, found against the same edges as the
        # overlaps below; a value at hi goes into the last bin (closed on the right).
        where = np.clip(np.searchsorted(edges, left[point], side="right") - 1, 0, bins - 1)
        inside = (left[point] >= lo) & (left[point] <= hi)
        np.add.at(out, where[inside], count[point][inside])
    spread = ~point
    if spread.any():
        lo_, hi_, c = left[spread], right[spread], count[spread]
        overlap = np.minimum(hi_[:, None], edges[None, 1:]) - np.maximum(lo_[:, None], edges[None, :-1])
        overlap = np.clip(overlap, 0, None)
        out += (overlap / (hi_ - lo_)[:, None] * c[:, None]).sum(axis=0)
    return out


def bin_centres(lo: float, hi: float, bins: int = DISPLAY_BINS) -> np.ndarray:
    width = (hi - lo) / bins
    return lo + width * (np.arange(bins) + 0.5)


def sample_indices(n: int, limit: int) -> np.ndarray:
    """At most `limit` evenly spread indices of 0..n-1, always the first and the last.

    Deterministic: the same n and limit always give the same indices.
    """
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    if n <= limit:
        return np.arange(n)
    if limit <= 1:
        return np.array([n - 1])
    return np.unique(np.round(np.linspace(0, n - 1, limit)).astype(np.int64))


def mass_between(buckets: np.ndarray, lo: float, hi: float) -> float:
    """Count inside [lo, hi], splitting partly covered buckets by overlap (zero-width: by value)."""
    if not buckets.size:
        return 0.0
    left, right, count = buckets[:, 0], buckets[:, 1], buckets[:, 2]
    width = right - left
    point = width <= 0
    overlap = np.clip(np.minimum(right, hi) - np.maximum(left, lo), 0, None)
    frac = np.where(point, ((left >= lo) & (left <= hi)).astype(float), overlap / np.where(point, 1, width))
    return float((frac * count).sum())
