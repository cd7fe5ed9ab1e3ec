"""The in-memory model of what was read: runs of histogram and scalar series.

Plain dataclasses of numpy arrays. Every step read is kept in the per-step statistics; raw
buckets are kept only for a deterministic, evenly spread subset of steps (always the first and
the last), which is all that charts and diagnosis need, so memory does not grow with the log;
they are stored packed (`EdgeTable`, `BucketRows`) and read back exactly as they were read.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

# What a histogram tag holds, in the order a reader expects it within a layer: what the layer
# holds, then what flows through it, then its gradients. The diagnosis classifies tags into
# these kinds; charts and words list a layer's tags in this order.
# What a histogram holds, in the order a layer section shows them: what the layer holds, what
# flows through it, its gradients; then logged data (rewards, inputs) and the unrecognised.
# "norm" is a normalisation layer's gain and shift, "buffers" its running statistics.
TAG_KINDS = ("weights", "bias", "norm", "buffers", "pre-activations", "activations", "outputs", "gradients", "data",
             "other")


@dataclass
class FileAccount:
    """What reading one file yielded: records read, records skipped and why."""

    path: str
    size: int = 0
    records_read: int = 0
    records_skipped: int = 0
    problems: list[str] = field(default_factory=list)
    stopped_at: int | None = None  # where reading was asked to stop (the two-process split)

    def skip(self, reason: str) -> None:
        self.records_skipped += 1
        self.problems.append(reason)


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
    buckets: Sequence[np.ndarray]  # m arrays (k, 3): left, right, count (a list, or BucketRows)

    def kept_steps(self) -> np.ndarray:
        return self.steps[self.kept]

    def before(self, step: int) -> HistogramSeries:
        """The series up to, not including, `step`: what was logged before something broke."""
        n = int(np.searchsorted(self.steps, step, side="left"))
        if n >= len(self.steps):
            return self
        keep = np.flatnonzero(self.kept < n)
        return self._of_steps(slice(0, n), self.kept[keep], [self.buckets[int(i)] for i in keep])

    def first_and_last(self) -> HistogramSeries:
        """The series of its first and last kept steps only: what a chart of the first step
        against the last needs, small enough to send to another process (the benchmark log's
        weights took 11.7 MB whole)."""
        positions = sorted({0, len(self.kept) - 1}) if len(self.kept) else []
        index = self.kept[positions]
        return self._of_steps(index, np.arange(len(index)), [self.buckets[i] for i in positions])

    def _of_steps(self, index: slice | np.ndarray, kept: np.ndarray, buckets: Sequence[np.ndarray]) -> HistogramSeries:
        """The series of the steps `index` selects, with `kept` (into those) and their buckets."""
        return HistogramSeries(self.run, self.tag, self.steps[index], self.wall_times[index], self.count[index],
                               self.min[index], self.max[index], self.mean[index], self.std[index],
                               self.quantiles[index], self.nonfinite[index], kept, buckets)


@dataclass(frozen=True, slots=True)
class PackedRows:
    """One step's contiguous bucket rows as their counts, the first left and last right edge,
    and a slice of an edge table shared by the steps of the tag: 8 bytes a row instead of 24.

    Torch and TF1 write every step's bucket limits from one fixed series, so the steps of a
    tag share their inner edges; the raw buckets of the kept steps were most of a build's
    memory (190 MB of the benchmark log's 300), and 60% of their rows are empty buckets."""

    table: np.ndarray  # inner edges, shared; rows[1:, 0] == rows[:-1, 1] == table[start:start + k - 1]
    start: int
    lo: float
    hi: float
    counts: np.ndarray

    def finite_within(self, lo: float, hi: float) -> bool:
        """Whether every edge and count is finite and every edge lies in [lo, hi]: then cutting
        the rows to those bounds changes nothing. (The inner edges are sorted: the first and
        the last say it for all; a sum of counts is finite only when each is.)"""
        k = len(self.counts)
        inner = self.table[self.start : self.start + k - 1]
        ends = (self.lo, self.hi, float(inner[0]), float(inner[-1])) if k > 1 else (self.lo, self.hi)
        return all(math.isfinite(e) and lo <= e <= hi for e in ends) and math.isfinite(self.counts.sum())

    def unpack(self) -> np.ndarray:
        k = len(self.counts)
        rows = np.empty((k, 3))
        rows[0, 0], rows[-1, 1] = self.lo, self.hi
        rows[1:, 0] = rows[:-1, 1] = self.table[self.start : self.start + k - 1]
        rows[:, 2] = self.counts
        return rows


class EdgeTable:
    """Packs the bucket rows of one tag's steps (`pack`) against its growing table of inner edges.

    A step is packed only when its rows are contiguous and its inner edges are, bit for bit, a
    run of the table (after adding them to it, if need be); anything else is kept as it is.
    Each packed step holds the table it was packed against, so growing the table never
    changes a step packed before."""

    def __init__(self) -> None:
        self.table = np.zeros(0)

    def pack(self, rows: np.ndarray) -> PackedRows | np.ndarray:
        if rows.ndim != 2 or rows.shape[0] < 3 or rows.shape[1] != 3:
            return rows
        inner = rows[1:, 0]
        if not _same_bits(inner, rows[:-1, 1]):
            return rows
        start = _find(self.table, inner)
        if start is None:
            # Grown only when this step then packs: steps with edges of their own (TF2's 30 equal
            # buckets) are kept as they are, and the table stays small.
            grown = np.union1d(self.table, inner)  # sorted; NaN or -0.0 will not match below
            start = _find(grown, inner)
            if start is None:
                return rows
            self.table = grown
        return PackedRows(self.table, start, float(rows[0, 0]), float(rows[-1, 1]), rows[:, 2].copy())


def _find(table: np.ndarray, inner: np.ndarray) -> int | None:
    """Where `inner` is a run of the sorted `table`, bit for bit; None if it is not."""
    start = int(np.searchsorted(table, inner[0]))
    return start if _same_bits(table[start : start + len(inner)], inner) else None


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.tobytes() == b.tobytes()  # memcmp: 5x faster than ==


class BucketRows(Sequence):
    """The kept steps' bucket rows, some packed (`EdgeTable`); each item is the step's (k, 3)
    array exactly as it was read."""

    def __init__(self, items: list[PackedRows | np.ndarray]):
        self._items = items

    def __len__(self) -> int:
        return len(self._items)

    def packed(self, index: int) -> PackedRows | None:
        """The step's rows as they are kept, when packed."""
        item = self._items[index]
        return item if isinstance(item, PackedRows) else None

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        item = self._items[index]
        return item.unpack() if isinstance(item, PackedRows) else item


@dataclass
class ScalarSeries:
    run: str
    tag: str
    steps: np.ndarray  # (n,) int64 ascending; a step logged twice is here twice, as TensorBoard keeps it
    wall_times: np.ndarray  # (n,)
    values: np.ndarray  # (n,) float64, NaN/Inf kept as they were written

    def per_step(self) -> tuple[np.ndarray, np.ndarray]:
        """(steps, values) with one value per step: the one written last (steps are sorted
        stably, so the last of equal steps is the last read)."""
        if len(self.steps) < 2:
            return self.steps, self.values
        last = np.ones(len(self.steps), bool)
        last[:-1] = self.steps[1:] != self.steps[:-1]
        return self.steps[last], self.values[last]


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
    # Hyperparameters, flat name -> value: the hparams plugin's records, then the files beside the
    # event files (hparams.yaml, params.json, config.yaml/json: reading/hparamfiles.py).
    hparams: dict[str, float | str | bool] = field(default_factory=dict)

    def series(self) -> list[HistogramSeries | ScalarSeries]:
        return [*self.histograms.values(), *self.scalars.values()]

    def wall_span(self) -> tuple[float, float] | None:
        times = [s.wall_times for s in self.series() if s.wall_times.size]
        if not times:
            return None
        return float(min(t.min() for t in times)), float(max(t.max() for t in times))


@dataclass
class Logs:
    """Everything read from the LOGDIR arguments."""

    sources: list[str]
    runs: list[Run]
    warnings: list[str] = field(default_factory=list)  # problems not tied to one run
