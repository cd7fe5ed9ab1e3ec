"""Records into series: each tag's values accumulated, with statistics for every step and the
raw buckets of an evenly thinned subset (see HistogramBuilder).

`apply` puts decoded records into a run's builders; a later file that rewrites steps an
earlier file had (a resumed job) replaces them from that step on, as TensorBoard's loader
purges them, and says so.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from reportgen import histmath
from reportgen.model import BucketRows, EdgeTable, FileAccount, HistogramSeries, PackedRows, Run, ScalarSeries
from reportgen.reading.events import (
    Decoded,
    DecodeError,
    FileVersion,
    HistogramValue,
    HParamsValue,
    OtherValue,
    ScalarValue,
    SessionStart,
    hparams_of,
)
from reportgen.reading.records import iter_spans
from reportgen.reading.wire import scan_event

# Per-step statistics are computed this many steps at a time (bounded memory, few numpy calls).
STATS_BATCH = 128
# count, min, max, mean, std, the 9 quantiles at histmath.BASIS_POINTS, the non-finite flag
STATS_COLUMNS = 15


@dataclass
class HistogramBuilder:
    """Accumulates one histogram tag: statistics for every step, buckets for a thinning subset.

    Buckets are kept for every `stride`-th step; when more than `keep` are held the stride
    doubles and every other one is dropped. The latest step's buckets are always held too.
    The result is deterministic and evenly spread, and memory is bounded by `keep`.

    A builder `continuing` after `offset` values (read by another process) thins its values as
    one builder of all of them would; `extend` appends such a builder's values to this one.
    """

    keep: int
    light: bool
    offset: int = 0
    steps: list[int] = field(default_factory=list)
    wall_times: list[float] = field(default_factory=list)
    stats: list[np.ndarray] = field(default_factory=list)  # (m, STATS_COLUMNS) blocks, see step_stats
    pending: list[HistogramValue] = field(default_factory=list)  # steps whose stats are not computed yet
    held: dict[int, PackedRows | np.ndarray] = field(default_factory=dict)
    stride: int = 1
    last: PackedRows | np.ndarray | None = None
    edges: EdgeTable = field(default_factory=EdgeTable)  # packs the held buckets

    @classmethod
    def continuing(cls, offset: int, keep: int) -> HistogramBuilder:
        return cls(keep, False, offset=offset, stride=stride_after(offset, keep))

    def add(self, value: HistogramValue) -> None:
        position = self.offset + len(self.steps)
        self.steps.append(value.step)
        self.wall_times.append(value.wall_time)
        if self.light:
            return
        self.pending.append(value)
        if len(self.pending) >= STATS_BATCH:
            self.flush()
        self.last = value.buckets
        if position % self.stride == 0:
            self.held[position] = self.edges.pack(value.buckets)
            if len(self.held) + self._held_before() > self.keep:
                self.stride *= 2
                self.held = {p: b for p, b in self.held.items() if p % self.stride == 0}

    def _held_before(self) -> int:
        return -(-self.offset // self.stride)  # the positions below offset that one builder would hold

    def extend(self, later: HistogramBuilder) -> None:
        """Append the values of a builder `continuing` after this one's (later.offset == its count)."""
        self.flush()
        later.flush()
        self.steps.extend(later.steps)
        self.wall_times.extend(later.wall_times)
        if self.light or not later.steps:
            return
        self.stats.extend(later.stats)
        self.stride = later.stride
        self.held = {p: b for p, b in self.held.items() if p % later.stride == 0}
        self.held.update(later.held)
        self.last = later.last

    def flush(self) -> None:
        """Compute the statistics of the pending steps, many at once."""
        if self.pending:
            self.stats.append(step_stats(self.pending))
            self.pending = []

    def _stats_matrix(self) -> np.ndarray:
        return np.concatenate(self.stats) if self.stats else np.zeros((0, STATS_COLUMNS))

    def purge_from(self, step: int) -> int:
        """Drop every entry at or after `step` (a resumed job rewrites them); returns how many."""
        self.flush()
        keep = [i for i, s in enumerate(self.steps) if s < step]
        dropped = len(self.steps) - len(keep)
        if dropped:
            remap = {old: new for new, old in enumerate(keep)}
            self.steps = [self.steps[i] for i in keep]
            self.wall_times = [self.wall_times[i] for i in keep]
            if not self.light:
                self.stats = [self._stats_matrix()[keep]]
                self.held = {remap[p]: b for p, b in self.held.items() if p in remap}
                last_kept = max(self.held, default=None)
                self.last = self.held[last_kept] if last_kept is not None and last_kept == len(keep) - 1 else None
        return dropped

    def build(self, run: str, tag: str) -> HistogramSeries:
        steps = np.asarray(self.steps, dtype=np.int64)
        n = len(steps)
        if self.light:
            nan = np.full(n, np.nan)
            return HistogramSeries(run, tag, steps, np.asarray(self.wall_times), nan, nan, nan, nan, nan,
                                   np.full((n, 9), np.nan), np.zeros(n, bool), np.zeros(0, np.int64), [])
        self.flush()
        held = dict(self.held)
        if n and (n - 1) not in held and self.last is not None:
            held[n - 1] = self.last
        kept = np.array(sorted(held), dtype=np.int64)
        stats = self._stats_matrix().reshape(n, STATS_COLUMNS)
        order = np.argsort(steps, kind="stable")
        if not np.array_equal(order, np.arange(n)):
            # Out-of-order steps within a file: present them sorted.
            rank = np.empty(n, np.int64)
            rank[order] = np.arange(n)
            steps, stats = steps[order], stats[order]
            wall = np.asarray(self.wall_times)[order]
            kept_sorted = rank[kept]
            by_rank = sorted(zip(kept_sorted, (held[k] for k in kept)), key=lambda kv: kv[0])
            kept = np.array([k for k, _ in by_rank], dtype=np.int64)
            buckets = BucketRows([b for _, b in by_rank])
        else:
            wall = np.asarray(self.wall_times)
            buckets = BucketRows([held[k] for k in kept])
        return HistogramSeries(
            run=run, tag=tag, steps=steps, wall_times=wall,
            count=stats[:, 0], min=stats[:, 1], max=stats[:, 2], mean=stats[:, 3], std=stats[:, 4],
            quantiles=stats[:, 5:14], nonfinite=stats[:, 14] > 0, kept=kept, buckets=buckets,
        )


def stride_after(values: int, keep: int) -> int:
    """The stride of a builder that keeps `keep` after `values` values: the smallest power of two
    that holds no more than `keep` of them."""
    stride = 1
    while -(-values // stride) > keep:
        stride *= 2
    return stride


def thinned(series: HistogramSeries, keep: int) -> HistogramSeries:
    """The series with the buckets a builder of `keep` would have kept, from one that kept more:
    every stride_after(n, keep)-th step's and the last. Exactly those when the steps were read
    in order and none was rewritten (a resumed job's are thinned the same way)."""
    n = len(series.steps)
    stride = stride_after(n, keep)
    chosen = [j for j, i in enumerate(series.kept) if i % stride == 0 or i == n - 1]
    if len(chosen) == len(series.kept):
        return series
    return replace(series, kept=series.kept[chosen], buckets=BucketRows([series.buckets[j] for j in chosen]))


def step_stats(values: list[HistogramValue]) -> np.ndarray:
    """(steps, STATS_COLUMNS) statistics of many steps: count, min, max, mean, std
    (`step_moments`), the quantiles (`histmath.quantiles_many`, NaN for an empty step) and
    whether a value is NaN or Inf; each as one step at a time gives it.

    Kept as floats in one array: a tuple of 15 Python floats per step took four times the
    memory. The legacy proto's moments are computed for all steps at once (`_exact_moments`):
    step by step they took 0.14 s of the benchmark log's read (3.2 s under cProfile). The
    buckets stay step by step: put into one array first, for whole-array operations, they took
    1.3x as long (~550 buckets a step, and this VM's memory is slow).
    """
    out = np.empty((len(values), STATS_COLUMNS))
    if not values:
        return out
    rows = [v.buckets for v in values]
    totals = histmath.step_totals(rows)
    out[:, 0] = totals
    out[:, 5:14] = np.where((totals > 0)[:, None], histmath.quantiles_many(rows, totals=totals), np.nan)
    in_buckets = np.array([bool(b.size) and not np.isfinite(b).all() for b in rows])
    exact = [v.exact for v in values]
    if all(e is not None for e in exact):
        proto = np.array(exact, dtype=np.float64)  # min, max, num, sum, sum_squares
        out[:, 1:5] = _exact_moments(proto)
        out[:, 14] = in_buckets | ~np.isfinite(proto[:, [0, 1, 3, 4]]).all(axis=1)
    else:
        for r, value in enumerate(values):
            out[r, 1:5] = step_moments(value)
            out[r, 14] = float(_nonfinite(value, bool(in_buckets[r])))
    return out


def _exact_moments(exact: np.ndarray) -> np.ndarray:
    """(steps, 4) lo, hi, mean, std from the legacy proto's (min, max, num, sum, sum_squares)
    rows, element by element as `step_moments` computes them; NaN where num is not positive."""
    lo, hi, num, total, squares = exact.T
    with np.errstate(all="ignore"):
        mean = total / num
        std = np.sqrt(np.maximum(squares / num - mean * mean, 0.0))
    out = np.column_stack([lo, hi, mean, std])
    out[~(num > 0)] = np.nan
    return out


def step_moments(value: HistogramValue) -> tuple[float, float, float, float]:
    """lo, hi, mean, std of one step: exact from the legacy proto's min/max/num/sum/sum_squares
    when it has them, else from the buckets (TF2 tensor histograms)."""
    b = value.buckets
    if value.exact is not None:
        lo, hi, num, total, squares = value.exact
        if num > 0:
            mean = total / num
            return lo, hi, mean, float(np.sqrt(max(squares / num - mean * mean, 0.0)))
        return (float("nan"),) * 4
    mean, std = histmath.moments(b)
    lo, hi = (float(b[0, 0]), float(b[-1, 1])) if b.size else (float("nan"), float("nan"))
    return lo, hi, mean, std


def _nonfinite(value: HistogramValue, in_buckets: bool) -> bool:
    if in_buckets:
        return True
    if value.exact is not None:
        lo, hi, _, total, squares = value.exact
        return not (math.isfinite(lo) and math.isfinite(hi) and math.isfinite(total) and math.isfinite(squares))
    return False


@dataclass
class ScalarBuilder:
    steps: list[int] = field(default_factory=list)
    wall_times: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)

    def add(self, value: ScalarValue) -> None:
        self.steps.append(value.step)
        self.wall_times.append(value.wall_time)
        self.values.append(value.value)

    def purge_from(self, step: int) -> int:
        keep = [i for i, s in enumerate(self.steps) if s < step]
        dropped = len(self.steps) - len(keep)
        self.steps = [self.steps[i] for i in keep]
        self.wall_times = [self.wall_times[i] for i in keep]
        self.values = [self.values[i] for i in keep]
        return dropped

    def build(self, run: str, tag: str) -> ScalarSeries:
        steps = np.asarray(self.steps, dtype=np.int64)
        order = np.argsort(steps, kind="stable")
        return ScalarSeries(run, tag, steps[order], np.asarray(self.wall_times)[order],
                            np.asarray(self.values, dtype=np.float64)[order])


@dataclass
class RunBuilder:
    """One run being read: its builders by tag, and the settings they are made with."""

    run: Run
    keep: int
    light: bool
    hist: dict[str, HistogramBuilder] = field(default_factory=dict)
    scal: dict[str, ScalarBuilder] = field(default_factory=dict)
    file_version: float | None = None  # of the file being read, from its first record
    rewrites: list[tuple[str, int, int, int]] = field(default_factory=list)  # this file's: tag, from, to, dropped
    most_recent_step: int = -(1 << 63)  # for files older than version 2 (TensorBoard's purge rule)

    def apply(self, records: Iterable[tuple[int, Decoded | DecodeError]], account: FileAccount, index: int,
              first_in_file: set[str]) -> None:
        """Put decoded records of the run's `index`-th file into their tags' builders, problems
        into the file's account. `first_in_file` holds the tags this file has already given."""
        run = self.run
        for offset, decoded in records:
            if isinstance(decoded, DecodeError):
                account.records_read -= 1
                account.skip(f"record at byte {offset} skipped: {decoded}")
                continue
            step, _, values, problems = decoded
            if problems:
                account.problems.extend(f"record at byte {offset}: {p}" for p in problems)
            if values and self.file_version is not None and self.file_version < 2:
                self._purge_out_of_order(step, values, account)
            for value in values:
                if isinstance(value, (HistogramValue, ScalarValue)):
                    self._add(value, account, index, first_in_file)
                elif isinstance(value, OtherValue):
                    self._count_other(value.tag, value.kind)
                elif isinstance(value, HParamsValue):
                    self._count_other(value.tag, "hparams")
                    run.hparams.update(hparams_of(value.content))
                elif isinstance(value, FileVersion):
                    self.file_version = value.version
                elif isinstance(value, SessionStart):
                    self._purge_restart(value.step, account)

    def _count_other(self, tag: str, kind: str) -> None:
        self.run.other[tag] = kind
        self.run.other_counts[tag] = self.run.other_counts.get(tag, 0) + 1

    def _add(self, value: HistogramValue | ScalarValue, account: FileAccount, index: int,
             first_in_file: set[str]) -> None:
        tag = value.tag
        builder: HistogramBuilder | ScalarBuilder | None
        if isinstance(value, HistogramValue):
            builder = self.hist.get(tag)
            if builder is None:
                builder = self.hist[tag] = HistogramBuilder(self.keep, self.light)
        else:
            builder = self.scal.get(tag)
            if builder is None:
                builder = self.scal[tag] = ScalarBuilder()
        if tag not in first_in_file and index > 0 and builder.steps and value.step < max(builder.steps):
            # A later file that goes back over steps an earlier one wrote: a resumed job. Its
            # values are the current ones. (One that starts at the last step written, as Hugging
            # Face's final evaluation does, only repeats that step: both are kept, as TensorBoard
            # keeps them, and the value written last is the one used.)
            last = max(builder.steps)
            self.rewrites.append((tag, value.step, last, builder.purge_from(value.step)))
        first_in_file.add(tag)
        builder.add(value)  # type: ignore[arg-type]  # a histogram builder gets histogram values

    def report_rewrites(self, account: FileAccount) -> None:
        """One warning for the steps a file wrote again (a resumed job), after reading it."""
        if not self.rewrites:
            return
        tags = ", ".join(repr(tag) for tag, *_ in self.rewrites[:4]) + (", ..." if len(self.rewrites) > 4 else "")
        start = min(step for _, step, _, _ in self.rewrites)
        end = max(last for _, _, last, _ in self.rewrites)
        dropped = sum(n for *_, n in self.rewrites)
        self.run.warnings.append(
            f"{os.path.basename(account.path)} writes {len(self.rewrites)} tag{'s' if len(self.rewrites) > 1 else ''} "
            f"({tags}) again from step {start}, back over steps up to {end} an earlier file wrote (a resumed job): "
            f"TensorBoard shows both; this report uses the later values and leaves out the {dropped} earlier ones")
        self.rewrites = []

    def _purge_restart(self, step: int, account: FileAccount) -> None:
        """TensorBoard's rule for a SessionLog START: every value read so far at or after its
        step is out of date (event_accumulator._CheckForRestartAndMaybePurge)."""
        builders: list[HistogramBuilder | ScalarBuilder] = [*self.hist.values(), *self.scal.values()]
        dropped = sum(b.purge_from(step) for b in builders)
        if dropped:
            self.run.warnings.append(
                f"{os.path.basename(account.path)}: the job restarted at step {step} (a SessionLog START record): "
                f"{dropped} values at or after it, written before the restart, are left out, as TensorBoard does")

    def _purge_out_of_order(self, step: int, values: list, account: FileAccount) -> None:
        """TensorBoard's rule for files older than version 2: a step below the newest one seen
        drops the newer values of the tags in that record (_CheckForOutOfOrderStepAndMaybePurge)."""
        if step >= self.most_recent_step:
            self.most_recent_step = step
            return
        dropped = 0
        for value in values:
            builder = self.hist.get(value.tag) if isinstance(value, HistogramValue) else self.scal.get(value.tag)
            if builder is not None:
                dropped += builder.purge_from(step)
        if dropped:
            self.run.warnings.append(
                f"{os.path.basename(account.path)} (event file version {self.file_version:g}) goes back to step "
                f"{step}: {dropped} later values of its tags are left out, as TensorBoard does for such files")

    def build(self) -> Run:
        for tag, builder in self.hist.items():
            self.run.histograms[tag] = builder.build(self.run.name, tag)
        for tag, scalar in self.scal.items():
            self.run.scalars[tag] = scalar.build(self.run.name, tag)
        return self.run


def decoded(stream, account: FileAccount, plugins: dict[str, str], light: bool, start: int = 0,
            stop: int | None = None) -> Iterator[tuple[int, Decoded | DecodeError]]:
    """(offset, Decoded or DecodeError) of every intact record, in one pass."""
    for offset, buf, begin, end in iter_spans(stream, account.size, account, start=start, stop=stop):
        try:
            yield offset, scan_event(buf, begin, end, plugins, light)
        except DecodeError as exc:
            yield offset, exc
