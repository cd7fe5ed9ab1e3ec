"""The shape of one histogram step in a word, and the initialisation a first step looks like.

Pure functions of the step's buckets and moments: the narrative prints the shape, the rules use
the initialisation match (a layer that still looks like its init has not learned).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from reportgen import histmath
from reportgen.diagnosis.thresholds import Thresholds


@dataclass(frozen=True)
class InitMatch:
    family: str  # e.g. "Glorot/Xavier uniform"
    shape: tuple[int, int] | None  # (fan_in, fan_out) when the bound allows only this one (either order for Glorot)
    scale: float  # the bound of a uniform or the std of a normal
    ordered: bool = False  # the shape's order is known: the family implies fan_in, not fan_in + fan_out

    def fans_words(self) -> str:
        """ "consistent with a layer of 60 x 200 weights" (Glorot: either order) or "consistent
        with fan-in 784 (200 outputs)"; "" when no single shape is consistent with the bound."""
        if not self.shape:
            return ""
        if self.ordered:
            return f"consistent with fan-in {self.shape[0]:,} ({self.shape[1]:,} outputs)"
        return f"consistent with a layer of {self.shape[0]:,} x {self.shape[1]:,} weights"


# The classes a histogram step is put in (docs/shapes.md says what each means and how it is
# measured); the JSON's `shape` is one of these.
SHAPES = ("uniform", "bell", "bimodal", "multimodal", "spike_at_zero", "saturated", "heavy_tailed", "skewed",
          "constant", "few_values", "empty", "unclear")


def _bins_for(buckets: np.ndarray, total: float) -> int:
    """Bins a mode count needs: about sqrt(n) (so a bin holds enough values for its count to mean
    something), between 5 and 30 (TensorBoard's default bucket count). When the step's own
    buckets are k equal ones (TF2), a divisor of k: splitting a bucket across two bins by
    overlap makes bins of uneven width in values, and a false valley."""
    wanted = min(30.0, max(5.0, math.sqrt(max(total, 1.0))))
    widths = buckets[:, 1] - buckets[:, 0] if buckets.size else np.zeros(0)
    k = len(widths)
    if k >= 5 and widths.max() > 0 and np.allclose(widths[1:-1], widths[1:-1].mean(), rtol=1e-6):
        divisors = [d for d in range(1, k + 1) if k % d == 0 and d >= 5] or [k]
        return min(divisors, key=lambda d: abs(d - wanted))
    return round(wanted)


def count_peaks(buckets: np.ndarray, lo: float, hi: float, min_values: float) -> int:
    """Clear modes: maxima whose prominence exceeds counting noise, in about sqrt(n) bins.

    A peak must rise above the valley before it and fall to the valley after it by 3 sigma of the
    two counts' Poisson noise (sqrt(peak + valley)) and by a quarter of the peak, with empty
    space outside [lo, hi]: a flat plateau is one mode, sampling noise rarely makes two (about 2
    in 1000 normal or uniform samples of 25 to 100,000 values), and 27 softmax outputs, 18 below
    0.1 and 9 above 0.9, are two.
    Fewer than `min_values` values are read as one mode (their shape is not measured).
    """
    total = histmath.total_count(buckets)
    if total <= 0:
        return 0
    if hi <= lo or total < min_values:
        return 1
    bins = histmath.rebin(buckets, lo, hi, _bins_for(buckets, total))
    smooth = np.convolve(bins, [0.25, 0.5, 0.25], mode="same") if bins.size >= 15 else bins
    values = np.concatenate(([0.0], smooth, [0.0]))
    def clear(high: float, low: float) -> bool:
        """A rise or fall beyond 3 sigma of its two counts' Poisson noise, and a quarter of the high."""
        return high - low >= max(3 * math.sqrt(max(high + low, 0.0)), 0.25 * high) and high > low

    peaks, seeking_peak, top, bottom = 0, True, 0.0, 0.0
    for value in values:
        if seeking_peak:
            top = max(top, value)
            if clear(top, bottom) and clear(top, value):
                peaks, seeking_peak, bottom = peaks + 1, False, value
        else:
            bottom = min(bottom, value)
            if clear(value, bottom):
                seeking_peak, top = True, value
    return max(peaks, 1)


def moments(buckets: np.ndarray, mean: float, std: float) -> tuple[float, float]:
    """(skewness, excess kurtosis) of one step from its buckets (bucket centres, or the value of
    a zero-width bucket), about the exact mean and std where the writer recorded them. A normal
    gives (0, 0), a uniform (0, -1.2), a two-point spike (0, -2)."""
    total = histmath.total_count(buckets)
    if total <= 0 or not std > 0:
        return 0.0, 0.0
    centres = (buckets[:, 0] + buckets[:, 1]) / 2
    z = (centres - mean) / std
    weights = buckets[:, 2] / total
    return float((weights * z**3).sum()), float((weights * z**4).sum() - 3.0)


def flat_shoulders(buckets: np.ndarray, lo: float, hi: float) -> bool:
    """Whether the density near both ends of [lo, hi] is as high as in the middle, as a uniform's is.

    A flat-topped hump (tanh of a normal, trained weights) passes the quantile test for a uniform
    but falls off over its outer sixth; counts next to the end bins (the end bins themselves hold
    the exact min/max and are partial) must reach 75% of the middle, allowing counting noise.
    """
    bins = histmath.rebin(buckets, lo, hi)
    if bins.size < 8:
        return True
    middle = float(np.median(bins[bins.size // 4: -bins.size // 4]))
    shoulders = float(bins[1] + bins[2] + bins[-3] + bins[-2])
    expected = 4 * middle
    return shoulders >= 0.75 * expected - 2 * math.sqrt(max(expected, 0.0))


_P = histmath.BASIS_POINTS / 10000
SKEWED = 0.3  # |Kelly skewness| of a lopsided step; an exponential's is 0.53, any symmetric shape's 0
# Sampling noise of Kelly's skewness in a step of n values, as its 99th percentile SKEW_NOISE /
# sqrt(n): measured on 300 normal and 300 uniform samples at each of n = 25, 32, 50, 100, 300,
# 1000, 10000, in torch's and TF2's buckets, 2.4-3.0 / sqrt(n). With 0.3 alone, symmetric
# samples of 25-50 values were called skewed 2-16% of the time (a 32-value bias init, "skewed
# left", in 3 of the benchmark sweep's 100 runs).
SKEW_NOISE = 3.0
# The same for the moments the words of an unclassed step use ("lean right", "flat-topped",
# "peaked"), from buckets as the report computes them: on 600 normal samples at each of n = 25 to
# 10,000, the 99th percentile of |skewness| was 5.8-6.6 / sqrt(n), the 1st percentile of excess
# kurtosis -6.9 to -10.1 / sqrt(n), its 99th 8-15 / sqrt(n). Without these bounds, half of the
# normal samples of 25 values read "flat-topped" and 13% "lean left" or "right".
LEAN_NOISE, FLAT_NOISE, PEAKED_NOISE = 6.5, 10.0, 15.0
# Excess kurtosis below which a step can be a bell, and from which it has long tails: the logistic's
# 1.2 is a bell to the eye, the Laplace's 3 a sharp peak with long tails (gradients often look like
# it). Measured on 200 samples of 12,000 values each, in torch's and TF2's buckets: the logistic's
# 99th percentile 1.46-1.65, the Laplace's 5th 2.46-2.61; between the two a step has no class and
# its words say what is measured ("peaked"). With the bell test open to any kurtosis, 86-92% of
# Laplace samples of 1,000 values read "bell-shaped". Each bound also clears the sampling noise
# of n values: a bell's kurtosis stays under PEAKED_NOISE / sqrt(n) (a normal sample's 99th
# percentile), long tails are claimed from TAILS_NOISE / sqrt(n) (on 1,000 normal samples at
# each of n = 25, 40, 60, 15 / sqrt(n) gave 0.3-0.6% of those of 60 values "long tails").
BELL_KURTOSIS, TAILS_KURTOSIS, TAILS_NOISE = 2.0, 2.5, 20.0
# std over the spread of the middle 38% (+-0.5 sigma: 1 for a normal, 1.41-1.46 measured for a
# Laplace) from which the tails are long, and its noise: on 1,000 normal samples at each of n = 25,
# 60, 100, 300, 1000, in both kinds of buckets, the 99th percentile was 1 + 2.4-4.4 / sqrt(n).
# Without the noise term 3.2% of the normal samples of 25 values read "long tails".
TAILS_RATIO, TAILS_RATIO_NOISE = 1.6, 4.5
_NORMAL_Z = np.array([-1.5, -1, -0.5, 0, 0.5, 1, 1.5])  # the inner basis points are these normal quantiles


def _uniform(buckets: np.ndarray, q: np.ndarray, lo: float, hi: float, std: float, kurtosis: float) -> bool:
    """A plateau: quantiles on a straight line over [lo, hi] with flat shoulders; or, when a few
    values escaped past its ends, the inner quantiles on a straight line and a uniform's excess
    kurtosis (-1.2; a normal's is 0)."""
    spread = hi - lo
    whole = (spread / std < 3.9 and np.abs((q - lo) / spread - _P).max() < 0.05
             and flat_shoulders(buckets, lo, hi))
    if whole:
        return True
    inner_q, inner_p = q[1:-1], _P[1:-1]
    width = inner_q[-1] - inner_q[0]
    if width <= 0 or kurtosis > -0.9:
        return False
    slope = width / (inner_p[-1] - inner_p[0])
    line = inner_q[0] + (inner_p - inner_p[0]) * slope
    if np.abs(inner_q - line).max() >= 0.03 * width:
        return False
    # The plateau the inner quantiles imply ends where its line reaches p = 0 and 1; "a few
    # escaped" means at most 3% of the values beyond (tanh of a normal, flat-topped with long
    # shoulders, has 9% there).
    start, end = inner_q[0] - inner_p[0] * slope, inner_q[0] + (1 - inner_p[0]) * slope
    outside = histmath.mass_between(buckets, -np.inf, start) + histmath.mass_between(buckets, end, np.inf)
    return outside <= 0.03 * histmath.total_count(buckets)


def shape_class(buckets: np.ndarray, q: np.ndarray, mean: float, std: float, lo: float, hi: float,
                zeros: float, saturated: float, peaks: int, t: Thresholds) -> str:
    """One of SHAPES for one histogram step, the first whose test it passes clearly; "unclear"
    when none does (the narrative then says what it measured, not a class)."""
    total = histmath.total_count(buckets)
    if total <= 0:
        return "empty"
    spread = hi - lo
    if spread <= 1e-9 * max(abs(lo), abs(hi), 1e-12) or std <= 0:
        return "constant"
    if total < t.few_values:
        return "few_values"
    if zeros >= t.spike_zero_fraction:
        return "spike_at_zero"
    if peaks >= 3:
        return "multimodal"
    if peaks == 2:
        return "bimodal"  # before "saturated": a confident softmax is two groups, at its bounds
    if saturated >= t.saturated_shape_fraction:
        return "saturated"
    skewness, kurtosis = moments(buckets, mean, std)
    if _uniform(buckets, q, lo, hi, std, kurtosis):
        return "uniform"
    inner = (q[1:-1] - mean) / std
    peaked = max(BELL_KURTOSIS, PEAKED_NOISE / math.sqrt(total))
    if np.abs(inner - _NORMAL_Z).max() < 0.25 and -0.6 < kurtosis < peaked and abs(skewness) < 0.5:
        return "bell"
    if abs(quantile_skew(q)) >= max(SKEWED, SKEW_NOISE / math.sqrt(total)):
        return "skewed"  # before the tails: an exponential's kurtosis is 6, but it is lopsided
    iqr = q[5] - q[3]  # 30.85% .. 69.15%: +-0.5 sigma for a normal
    tails = std / iqr if iqr > 0 else 0.0
    if (kurtosis >= max(TAILS_KURTOSIS, TAILS_NOISE / math.sqrt(total))
            or tails > max(TAILS_RATIO, 1 + TAILS_RATIO_NOISE / math.sqrt(total))):
        return "heavy_tailed"
    return "unclear"


def quantile_skew(q: np.ndarray) -> float:
    """Kelly's skewness from the 6.68%, 50% and 93.32% points: 0 for any symmetric shape, 0.53
    for an exponential; unlike the third moment, a few extreme values do not sway it."""
    width = q[7] - q[1]
    return float((q[7] + q[1] - 2 * q[4]) / width) if width > 0 else 0.0


_UNIFORM_FAMILIES = (  # name, fan term implied by the bound a
    ("Glorot/Xavier uniform", "sum", lambda a: 6 / a**2),
    ("He/Kaiming uniform", "in", lambda a: 6 / a**2),
    ("LeCun uniform", "in", lambda a: 3 / a**2),
    ("PyTorch default (kaiming_uniform, a=sqrt(5))", "in", lambda a: 1 / a**2),
)
_NORMAL_FAMILIES = (  # name, fan term implied by the std s
    ("Glorot/Xavier normal", "sum", lambda s: 2 / s**2),
    ("He/Kaiming normal", "in", lambda s: 2 / s**2),
    ("LeCun normal", "in", lambda s: 1 / s**2),
)


def _divisor_pairs(count: int) -> Iterator[tuple[int, int]]:
    d = 1
    while d * d <= count:
        if count % d == 0:
            yield d, count // d
        d += 1


def _fans(how: str, value: float, count: float) -> list[tuple[float, tuple[int, int]]]:
    """Every (fan_in, fan_out) with fan_in * fan_out == count whose fan term is within 4% of
    `value`. "sum" families (Glorot) imply fan_in + fan_out; "in" families (He, LeCun, PyTorch)
    imply fan_in. A trained first step (Keras logs at the end of epoch 1) is a little off, hence
    the tolerance."""
    if not (np.isfinite(value) and value >= 1 and count >= 1 and float(count).is_integer()):
        return []
    found = []
    for small, large in _divisor_pairs(int(count)):
        if how == "sum":
            options = [(small + large, (small, large))]
        else:
            options = [(small, (small, large)), (large, (large, small))]
        found += [(abs(term - value) / value, pair) for term, pair in options if abs(term - value) / value <= 0.04]
    return found


def match_init(shape: str, q: np.ndarray, mean: float, std: float, lo: float, hi: float,
               count: float) -> InitMatch | None:
    """The known initialisation a first-step weight histogram looks like, and its layer shape when
    only one (family, fan-in, fan-out) is consistent with its bound or std and its value count.

    Several shapes fit most bounds (784 x 200 and 196 x 800 both give Glorot's bound 0.078), so a
    shape is stated only when it is the only one; a uniform whose shape is not unique is still
    "a symmetric uniform", but a zero-mean bell without a unique match is no evidence of an
    initialisation (trained layers are bell-shaped too) and matches nothing."""
    families: tuple[tuple[str, str, Callable[[float], float]], ...]
    if shape == "uniform" and abs(mean) < 0.1 * (hi - lo):
        bound = (hi - lo) / 2
        families, scale = _UNIFORM_FAMILIES, bound
    elif shape == "bell" and abs(mean) < 0.2 * std:
        families, scale = _NORMAL_FAMILIES, std
    else:
        return None
    if scale <= 0:
        return None
    candidates = sorted((error, name, how, pair) for name, how, term in families
                        for error, pair in _fans(how, term(scale), count))
    # One candidate, or one that fits the bound exactly (to 1%: the extremes of n uniform values
    # pin the bound to about 1/n) while every other is off by more than 2%.
    if len(candidates) == 1 or (candidates and candidates[0][0] <= 0.01 and candidates[1][0] > 0.02):
        _, name, how, pair = candidates[0]
        return InitMatch(name, pair, scale, ordered=how == "in")
    return InitMatch("a symmetric uniform", None, scale) if shape == "uniform" else None
