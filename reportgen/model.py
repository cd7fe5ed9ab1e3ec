"""The in-memory model of what was read: runs of histogram and scalar series.

Plain dataclasses of numpy arrays. Every step read is kept in the per-step statistics; raw
buckets are kept only for a deterministic, evenly spread subset of steps (always the first and
the last), which is all that charts and diagnosis need, so memory does not grow with the log.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from reportgen.reading.records import FileAccount


@dataclass
class HistogramSeries:
    run: str
    tag: str
    steps: np.ndarray  # (n,) int64, ascending, every step read
    wall_times: np.ndarray  # (n,) float64
    count: np.ndarray  # (n,) total count per step
    min: np.ndarray  # (n,) smallest value (exact when the writer recorded it)
    max: np.ndarray  # (n,)
    mean: np.ndarray  # (n,) exact from sum/num when the legacy proto has it, else from buckets
    std: np.ndarray  # (n,)
    quantiles: np.ndarray  # (n, 9) values at histmath.BASIS_POINTS
    nonfinite: np.ndarray  # (n,) bool: NaN/Inf in edges, counts or moments of that step
    kept: np.ndarray  # (m,) int64 indices into `steps` whose buckets are kept
    buckets: list[np.ndarray]  # m arrays (k, 3): left, right, count

    def kept_steps(self) -> np.ndarray:
        return self.steps[self.kept]


@dataclass
class ScalarSeries:
    run: str
    tag: str
    steps: np.ndarray  # (n,) int64 ascending
    wall_times: np.ndarray  # (n,)
    values: np.ndarray  # (n,) float64, NaN/Inf kept as they were written


@dataclass
class Run:
    name: str
    path: str
    histograms: dict[str, HistogramSeries] = field(default_factory=dict)
    scalars: dict[str, ScalarSeries] = field(default_factory=dict)
    other: dict[str, str] = field(default_factory=dict)  # tag -> kind of data not reported on
    other_counts: dict[str, int] = field(default_factory=dict)  # tag -> records
    files: list[FileAccount] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def wall_span(self) -> tuple[float, float] | None:
        times = [s.wall_times for s in [*self.histograms.values(), *self.scalars.values()] if s.wall_times.size]
        if not times:
            return None
        return float(min(t.min() for t in times)), float(max(t.max() for t in times))


@dataclass
class Logs:
    """Everything read from the LOGDIR arguments."""

    sources: list[str]
    runs: list[Run]
    warnings: list[str] = field(default_factory=list)  # problems not tied to one run
