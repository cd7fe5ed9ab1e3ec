"""TensorBoard's scalar smoothing: one home for the charts that draw it and the seed bands that
aggregate smoothed curves."""

from __future__ import annotations

import numpy as np

SMOOTHING = 0.6  # TensorBoard's default smoothing weight


def smooth(values: np.ndarray, weight: float = SMOOTHING) -> np.ndarray:
    """TensorBoard's debiased exponential moving average.

    Non-finite values pass through unchanged and do not enter the average; a constant series
    stays exactly constant (TensorBoard special-cases it to avoid rounding noise).
    """
    values = np.asarray(values, dtype=float)
    out = values.copy()
    finite = np.isfinite(values)
    if finite.any() and np.all(values[finite] == values[finite][0]):
        return out
    last, accumulated = 0.0, 0
    for i in np.flatnonzero(finite):
        last = last * weight + (1 - weight) * values[i]
        accumulated += 1
        debias = 1 - weight ** accumulated if weight != 1 else 1.0
        out[i] = last / debias
    return out
