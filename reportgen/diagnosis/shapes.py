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


def count_peaks(buckets: np.ndarray, lo: float, hi: float, min_values: float) -> int:
    """Clear modes in a 30-bin view: maxima that rise and fall by more than counting noise.

    Hysteresis of max(3 * sqrt(count), 25% of the peak) on both sides, with empty space
    outside [lo, hi], so a flat plateau is one mode and sampling noise makes none. Fewer than
    `min_values` values are read as one mode.
    """
    total = histmath.total_count(buckets)
    if total <= 0:
        return 0
    if hi <= lo or total < min_values:
        return 1
    smooth = np.convolve(histmath.rebin(buckets, lo, hi), [0.25, 0.5, 0.25], mode="same")
    values = np.concatenate(([0.0], smooth, [0.0]))
    margin = lambda x: max(3 * math.sqrt(max(x, 0.0)), 0.25 * x)
    peaks, seeking_peak, top, bottom = 0, True, 0.0, 0.0
    for value in values:
        if seeking_peak:
            top = max(top, value)
            if top - bottom > margin(top) and value < top - margin(top):
                peaks, seeking_peak, bottom = peaks + 1, False, value
        else:
            bottom = min(bottom, value)
            if value > bottom + margin(value):
                seeking_peak, top = True, value
    return max(peaks, 1)


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


def shape_class(buckets: np.ndarray, q: np.ndarray, mean: float, std: float, lo: float, hi: float,
                zeros: float, saturated: float, peaks: int, t: Thresholds) -> str:
    """One word for the histogram's shape: empty, constant, spike-at-zero, saturated, uniform, bell, ..."""
    if histmath.total_count(buckets) <= 0:
        return "empty"
    spread = hi - lo
    if spread <= 1e-9 * max(abs(lo), abs(hi), 1e-12) or std <= 0:
        return "constant"
    if zeros >= t.spike_zero_fraction:
        return "spike-at-zero"
    if saturated >= t.saturated_shape_fraction:
        return "saturated"
    if peaks >= 3:
        return "multimodal"
    if peaks == 2:
        return "bimodal"
    ratio = spread / std
    u = (q - lo) / spread
    if ratio < 3.9 and np.abs(u - histmath.BASIS_POINTS / 10000).max() < 0.05 and flat_shoulders(buckets, lo, hi):
        return "uniform"
    inner = (q[1:-1] - mean) / std
    if np.abs(inner - np.array([-1.5, -1, -0.5, 0, 0.5, 1, 1.5])).max() < 0.25:
        return "bell"
    iqr = q[5] - q[3]  # 30.85% .. 69.15%: +-0.5 sigma for a normal
    if iqr > 0 and std / iqr > 1.6:
        return "heavy-tailed"
    return "skewed"


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
