"""The words for one histogram step: its shape class as a reader says it, its range, and its
values when there are too few for a shape. Every word comes from a measured class or number
(reportgen.diagnosis.shapes), so the text never says what the chart does not show.
"""

from __future__ import annotations

import math

import numpy as np

from reportgen.diagnosis.features import SeriesFeatures
from reportgen.diagnosis.shapes import FLAT_NOISE, LEAN_NOISE, PEAKED_NOISE, quantile_skew
from reportgen.histmath import total_count
from reportgen.numbers import and_list
from reportgen.numbers import readable as num
from reportgen.numbers import share as pct

SHOWN_VALUES = 8  # a step of few values lists them up to this many


def around(mean: float, q: np.ndarray) -> str:
    """The centre as people write it: "around 0" when the mean is within 1% of the spread of 0."""
    spread = float(q[7] - q[1]) if q.size >= 8 else 0.0
    return "around 0" if spread > 0 and abs(mean) < 0.01 * spread else f"around {num(mean)}"


def range_words(q: np.ndarray) -> str:
    return f"mostly between {num(q[1])} and {num(q[7])} (full range {num(q[0])} to {num(q[8])})"


def _values(buckets: np.ndarray, count: float) -> str:
    """A few values where they are: zero-width buckets hold exact values, others their centre."""
    held = buckets[buckets[:, 2] > 0] if buckets.size else buckets
    n = round(count)
    if not held.size:
        return f"are {n} values"
    exact = bool((held[:, 1] - held[:, 0] <= 0).all())
    places = [num(v) for v in (held[:, 0] + held[:, 1]) / 2]
    if len(places) > SHOWN_VALUES:
        return f"are {n} values between {num(held[0, 0])} and {num(held[-1, 1])}"
    listed = and_list(places)
    groups = f" in {len(places)} places" if len(places) < n else ""
    return f"are {n} values{groups}, at {'' if exact else 'about '}{listed}: too few for a shape"


def shape_words(s: SeriesFeatures, last: bool) -> str:
    """ "form a flat plateau from -0.15 to 0.15", "are bell-shaped around 0, mostly between ...",
    "are 4 values, at about 363, 540, 790 and 929: too few for a shape"."""
    i = -1 if last else 0
    shape, q = (s.shape_last, s.q_last) if last else (s.shape_first, s.q_first)
    buckets = s.buckets_last if last else s.buckets_first
    skewness, kurtosis = s.moments_last if last else s.moments_first
    mean, lo, hi = float(s.mean[i]), float(s.min[i]), float(s.max[i])
    if shape == "few_values":
        return _values(buckets, total_count(buckets))
    if shape == "uniform":
        return _plateau(q, lo, hi)
    if shape == "constant":
        return f"all have the same value ({num(mean)})"
    if shape == "empty":
        return "are empty"
    if shape == "spike_at_zero":
        zeros = s.zero_fraction[i] if s.zero_fraction.size else 0.0
        return f"are {pct(zeros)} exactly 0, the rest up to {num(hi)}"
    if shape == "saturated":
        return f"pile up at the bounds of their range, {range_words(q)}"
    words = {"bell": "are bell-shaped", "bimodal": "fall into two groups",
             "multimodal": "cluster around several values", "heavy_tailed": "are peaked with long tails",
             "skewed": _skewed(q, kurtosis)}
    if shape in words:
        centre = f" {around(mean, q)}" if shape in ("bell", "heavy_tailed") else ""
        return f"{words[shape]}{centre}, {range_words(q)}"
    return f"{_measured(skewness, kurtosis, total_count(buckets))}, {range_words(q)}"


def _plateau(q: np.ndarray, lo: float, hi: float) -> str:
    """A plateau's ends: its min and max, or, when a few values escaped past them, where the line
    through its inner quantiles reaches 0% and 100%."""
    slope = (q[7] - q[1]) / 0.8664  # the basis points 6.68% and 93.32%
    start, end = q[1] - 0.0668 * slope, q[1] + 0.9332 * slope
    if lo < start - 0.05 * (end - start) or hi > end + 0.05 * (end - start):
        return (f"form a flat plateau from {num(start)} to {num(end)}, with a few values beyond (full range "
                f"{num(lo)} to {num(hi)})")
    return f"form a flat plateau from {num(lo)} to {num(hi)}"


def _skewed(q: np.ndarray, kurtosis: float) -> str:
    """ "are skewed right, half below 0.05", and "(a long tail of large values)" only when the tails
    are heavier than a normal's (excess kurtosis above 0; an exponential's is 6). A confident
    softmax (most values near 0, a group near 1, kurtosis -1.45) is lopsided with no tail. The side
    is that of the quantile skewness that put the step in this class, not of the third moment."""
    right = quantile_skew(q) > 0
    tail = f" (a long tail of {'large' if right else 'small'} values)" if kurtosis > 0 else ""
    return f"are skewed {'right' if right else 'left'}{tail}, half {'below' if right else 'above'} {num(q[4])}"


def _measured(skewness: float, kurtosis: float, n: float) -> str:
    """What the moments of n values say when no class wins: flat-topped, peaked, lopsided, or,
    where they are within their sampling noise (shapes.LEAN_NOISE etc.), just spread."""
    root = math.sqrt(max(n, 1.0))
    if kurtosis <= min(-0.6, -FLAT_NOISE / root):
        return "are flat-topped (between a bell and a plateau)"
    if kurtosis >= max(1.0, PEAKED_NOISE / root):
        return "are peaked"
    if abs(skewness) >= max(0.5, LEAN_NOISE / root):
        return f"lean {'right' if skewness > 0 else 'left'}"
    return "are spread"
