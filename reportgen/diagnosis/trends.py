"""Trend statistics of one scalar curve: pure numpy, no assumption that the noise is normal.

- `mann_kendall`: is there a monotonic trend? Kendall's S over every pair of points, its variance
  with the tie correction, and the normal approximation's two-sided p-value (Mann 1945,
  Kendall 1975; the form in R's `trend::mk.test` and pyMannKendall). The normal approximation
  wants more than about 10 points (Gilbert 1987, as cited by those docs): fewer are not judged.
- `theil_sen`: how steep is it? The median of all pairwise slopes (Sen 1968), robust to the
  outliers minibatch noise makes.
- `level`: where a curve is at its start or end: the median of a window sized by a share of the
  run, with a minimum number of points, so that 30 points are not judged by medians of 3.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Above this many points the pairwise statistics use an even subsample: S over all pairs of
# 20,000 points is 200 million comparisons, and 2,000 already resolve any trend worth a word.
MAX_PAIRWISE_POINTS = 2000


def _thinned(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(y) <= MAX_PAIRWISE_POINTS:
        return x, y
    picks = np.unique(np.linspace(0, len(y) - 1, MAX_PAIRWISE_POINTS).round().astype(np.int64))
    return x[picks], y[picks]


@dataclass(frozen=True)
class Trend:
    points: int
    s: float  # Kendall's S: pairs going up minus pairs going down
    z: float
    p: float  # two-sided p-value of "no monotonic trend"
    slope: float  # Theil-Sen slope, value per step

    def direction(self, significance: float) -> int:
        """+1 rising, -1 falling, 0 no trend at this significance. One-sided: the question asked
        of a curve is directional ("does it fall?"), so half the two-sided p-value is compared."""
        if self.p / 2 >= significance or self.s == 0:
            return 0
        return 1 if self.s > 0 else -1


def mann_kendall(y: np.ndarray) -> tuple[float, float, float]:
    """(S, z, two-sided p) of the Mann-Kendall test, ties corrected."""
    y = np.asarray(y, dtype=float)
    n = len(y)
    if n < 3:
        return 0.0, 0.0, 1.0
    s = 0.0
    for i in range(n - 1):  # one row of pairs at a time: O(n) memory
        s += float(np.sign(y[i + 1:] - y[i]).sum())
    _, ties = np.unique(y, return_counts=True)
    ties = ties[ties > 1].astype(float)
    variance = (n * (n - 1) * (2 * n + 5) - float((ties * (ties - 1) * (2 * ties + 5)).sum())) / 18.0
    if variance <= 0:
        return s, 0.0, 1.0
    z = (s - math.copysign(1.0, s)) / math.sqrt(variance) if s else 0.0
    return s, z, math.erfc(abs(z) / math.sqrt(2))


def theil_sen(x: np.ndarray, y: np.ndarray) -> float:
    """The median of the slopes between every pair of points with different x."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(y) < 2:
        return 0.0
    i, j = np.triu_indices(len(y), k=1)
    dx = x[j] - x[i]
    keep = dx != 0
    return float(np.median((y[j] - y[i])[keep] / dx[keep])) if keep.any() else 0.0


def trend(steps: np.ndarray, values: np.ndarray) -> Trend:
    """The Mann-Kendall test and the Theil-Sen slope of a curve (finite values only)."""
    x, y = _thinned(np.asarray(steps, dtype=float), np.asarray(values, dtype=float))
    s, z, p = mann_kendall(y)
    return Trend(len(values), s, z, p, theil_sen(x, y))


def window(n: int, share: float, minimum: int) -> int:
    """Points in a start or end window: `share` of the run, at least `minimum`, at most a third."""
    return max(1, min(max(math.ceil(share * n), minimum), n // 3 or 1))


def level(values: np.ndarray, size: int, at_end: bool) -> float:
    """The median of the first (or last) `size` values."""
    if not len(values):
        return float("nan")
    part = values[-size:] if at_end else values[:size]
    return float(np.median(part))


def point_noise(values: np.ndarray) -> float:
    """The point-to-point noise of a curve as a normal's sigma: the median absolute step between
    neighbours over sqrt(2), scaled by 1.4826 (a trend barely moves it). 0 for fewer than 3 points."""
    values = np.asarray(values, dtype=float)
    if values.size <= 2:
        return 0.0
    return float(np.median(np.abs(np.diff(values) / np.sqrt(2))) * 1.4826)


def rolling_median(values: np.ndarray, size: int) -> np.ndarray:
    """A centred running median of odd width `size` (shorter at the ends): a curve's course
    without its minibatch noise, for finding where it bottomed out."""
    values = np.asarray(values, dtype=float)
    half = max(size // 2, 0)
    return np.array([np.median(values[max(0, i - half): i + half + 1]) for i in range(len(values))])
