"""Find runs in logdirs and read them into the model.

Runs are found as TensorBoard finds them: every folder that directly holds a file with
`tfevents` in its name is one run, named by its path relative to the logdir. The files of a
run are read in file-name order; when a later file rewrites steps an earlier one already had
(a resumed job), the later file's values are kept and a warning says so.
"""

from __future__ import annotations

import contextlib
import math
import os
import posixpath
import re
from dataclasses import dataclass, field

import numpy as np

from reportgen import histmath
from reportgen.config import format_size
from reportgen.errors import UserError
from reportgen.memory import return_free_memory
from reportgen.model import BucketRows, EdgeTable, HistogramSeries, Logs, Run, ScalarSeries
from reportgen.reading import halves
from reportgen.reading.events import DecodeError, HistogramValue, OtherValue, ScalarValue, scan_event
from reportgen.reading.records import FileAccount, iter_spans

# Raw buckets are kept for at most this many steps per tag (plus the last step): a heatmap column
# each (TensorBoard's distribution view also draws up to 501 steps) and enough for every offset chart.
DEFAULT_KEEP = 501
# Raw buckets are most of what a build holds in memory, so their total over runs is capped: with
# more than four runs each keeps fewer steps (a sweep of 200 runs would otherwise hold most of its
# log), never fewer than MIN_KEEP, enough for the first, the last and the trend between them.
# Per-step statistics (distribution charts, scalars of every step) are kept for every step anyway.
KEEP_BUDGET = 4 * DEFAULT_KEEP
MIN_KEEP = 21
# Per-step statistics are computed this many steps at a time (bounded memory, few numpy calls).
STATS_BATCH = 128
# With processes=0, runs are read in worker processes only when there is at least this much
# data: starting the pool costs a few tenths of a second.
POOL_MIN_BYTES = 64 << 20


class InputError(UserError):
    """Bad input the user must fix: no such path, no event files. The CLI exits with 2."""


def is_event_file(name: str) -> bool:
    return "tfevents" in name


def is_url(path: str) -> bool:
    """A location fsspec reads (s3://, gs://, memory://, ...), not a local path."""
    return "://" in path


def discover_runs(logdir: str) -> list[tuple[str, list[str]]]:
    """(run name, event files in name order) for every run under `logdir`.

    Symlinked folders are followed once; a symlink loop does not hang discovery. A URL
    (`s3://bucket/path`, `gs://...`, any fsspec protocol) is walked the same way through fsspec.
    """
    if is_url(logdir):
        return _discover_remote(logdir)
    if os.path.isfile(logdir):
        return [(os.path.basename(os.path.dirname(os.path.abspath(logdir))) or ".", [logdir])]
    if not os.path.isdir(logdir):
        raise InputError(f"no such file or directory: {logdir}")
    runs = []
    seen: set[str] = set()
    for folder, dirs, files in os.walk(logdir, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        dirs.sort()
        events = sorted(f for f in files if is_event_file(f))
        if events:
            name = os.path.relpath(folder, logdir)
            runs.append((name, [os.path.join(folder, f) for f in events]))
    runs.sort(key=lambda r: r[0])
    return runs


def _filesystem(url: str):
    try:
        import fsspec
    except ImportError:
        raise InputError(f"reading {url} needs fsspec and the package for its protocol: "
                         "pip install 'reportgen[s3]' (or [gcs])") from None
    try:
        return fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as exc:
        raise InputError(f"cannot read {url}: {exc}") from None


def _discover_remote(url: str) -> list[tuple[str, list[str]]]:
    fs, root = _filesystem(url)
    protocol = url.split("://", 1)[0]
    root = root.rstrip("/")
    try:
        if fs.isfile(root):
            return [(posixpath.basename(posixpath.dirname(root)) or ".", [url])]
        if not fs.isdir(root):
            raise InputError(f"no such file or directory: {url}")
        walked = list(fs.walk(root))
    except InputError:
        raise
    except Exception as exc:  # each filesystem raises its own errors (credentials, network)
        raise InputError(f"cannot list {url}: {exc.__class__.__name__}: {exc}") from None
    runs = []
    for folder, _, files in walked:
        events = sorted(f for f in files if is_event_file(f))
        if events:
            folder = folder.rstrip("/")
            name = posixpath.relpath(folder, root) if folder != root else "."
            runs.append((name, [f"{protocol}://{folder}/{f}" for f in events]))
    runs.sort(key=lambda r: r[0])
    return runs


@dataclass
class _HistogramBuilder:
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
    stats: list[np.ndarray] = field(default_factory=list)  # (m, 15) blocks, see _step_stats
    pending: list[HistogramValue] = field(default_factory=list)  # steps whose stats are not computed yet
    held: dict[int, np.ndarray] = field(default_factory=dict)
    stride: int = 1
    last: np.ndarray | None = None
    edges: EdgeTable = field(default_factory=EdgeTable)  # packs the held buckets

    @classmethod
    def continuing(cls, offset: int, keep: int) -> "_HistogramBuilder":
        stride = 1
        while -(-offset // stride) > keep:  # the stride one builder has after `offset` values
            stride *= 2
        return cls(keep, False, offset=offset, stride=stride)

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

    def extend(self, later: "_HistogramBuilder") -> None:
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
            # As float arrays: a tuple of 15 Python floats takes four times the memory.
            self.stats.append(np.asarray(batch_stats(self.pending), dtype=np.float64).reshape(-1, 15))
            self.pending = []

    def _stats_matrix(self) -> np.ndarray:
        return np.concatenate(self.stats) if self.stats else np.zeros((0, 15))

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
        stats = self._stats_matrix().reshape(n, 15)
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


def _step_stats(value: HistogramValue) -> tuple:
    """count, min, max, mean, std, 9 quantiles, non-finite flag of one step."""
    b = value.buckets
    nonfinite = not np.isfinite(b).all()
    count = histmath.total_count(b)
    if value.exact is not None:
        lo, hi, num, total, squares = value.exact
        nonfinite = nonfinite or not np.isfinite([lo, hi, total, squares]).all()
        if num > 0:
            mean = total / num
            std = float(np.sqrt(max(squares / num - mean * mean, 0.0)))
        else:
            lo = hi = mean = std = float("nan")
    else:
        mean, std = histmath.moments(b)
        lo, hi = (float(b[0, 0]), float(b[-1, 1])) if b.size else (float("nan"), float("nan"))
    q = histmath.quantiles(b) if count > 0 else np.full(9, np.nan)
    return (count, lo, hi, mean, std, *q, float(nonfinite))


def batch_stats(values: list[HistogramValue]) -> list[tuple]:
    """`_step_stats` of many steps at once, with the same floating-point results.

    The quantiles are `histmath.quantiles` on a (steps, buckets) matrix, each step's buckets
    padded with empty ones on the right: the same element-wise operations and the same
    left-to-right cumulative sums, so the same numbers; only the search stays per step.
    """
    bps = histmath.BASIS_POINTS
    rows = [v.buckets for v in values]
    sizes = np.array([len(b) for b in rows])
    totals = np.array([float(b[:, 2].sum()) if b.size else 0.0 for b in rows])
    width = int(sizes.max(initial=0))
    m = len(rows)
    counts = np.zeros((m, width))
    rights = np.zeros((m, width))
    firsts = np.full(m, np.nan)
    lasts = np.full(m, np.nan)
    nonfinite = np.zeros(m, bool)
    for r, b in enumerate(rows):
        if b.size:
            counts[r, : len(b)] = b[:, 2]
            rights[r, : len(b)] = b[:, 1]
            firsts[r], lasts[r] = b[0, 0], b[-1, 1]
            nonfinite[r] = not np.isfinite(b).all()
    with np.errstate(all="ignore"):  # as histmath.quantiles: overflow to inf where it would overflow
        weights = (counts * bps[-1] / np.where(totals == 0, 1.0, totals)[:, None]).cumsum(axis=1)
    prev = np.zeros_like(weights)
    prev[:, 1:] = weights[:, :-1]
    column = np.arange(width)
    inside = column[None, :] < sizes[:, None]
    grows = (weights != prev) & inside
    # For each bucket, the first bucket at or after it whose cumulative weight grows.
    candidates = np.where(grows, column[None, :], width)
    next_growing = np.minimum.accumulate(candidates[:, ::-1], axis=1)[:, ::-1] if width else candidates
    found = np.array([np.searchsorted(weights[r, : sizes[r]], bps, side="right") for r in range(m)]).reshape(m, len(bps))
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
    with np.errstate(all="ignore"):
        lhs = np.where((j == 0) | (cum_prev == 0), minmin, np.maximum(right_before, minmin))
        rhs = np.minimum(right_here, maxmax)
        interpolated = lhs + (bps[None, :] - cum_prev) * (rhs - lhs) / (cum - cum_prev)
    quantiles = np.where(ok, interpolated, maxmax)
    out = []
    for r, value in enumerate(values):
        count = totals[r]
        q = quantiles[r] if count > 0 else np.full(len(bps), np.nan)
        out.append((count, *_moments(value, nonfinite[r]), *q, float(_nonfinite(value, nonfinite[r]))))
    return out


def _moments(value: HistogramValue, _unused=None) -> tuple[float, float, float, float]:
    """lo, hi, mean, std of one step, as `_step_stats` computes them."""
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
class _ScalarBuilder:
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


def read_run(name: str, files: list[str], keep: int = DEFAULT_KEEP, light: bool = False, split: bool = False) -> Run:
    """Read one run's files into a Run. Problems become warnings; nothing raises for bad data.

    `split`: a big first file may be read by two processes (see halves.py)."""
    run = Run(name=name, path=_parent(files[0]) if files else "")
    hist: dict[str, _HistogramBuilder] = {}
    scal: dict[str, _ScalarBuilder] = {}
    for index, path in enumerate(files):
        account = FileAccount(path=path)
        run.files.append(account)
        first_in_file: set[str] = set()
        try:
            with _open(path) as (stream, size):
                account.size = size
                _read_file(stream, account, run, hist, scal, first_in_file, keep, light, index, split)
        except OSError as exc:
            account.problems.append(f"cannot read: {exc.strerror or exc}")
        _file_warnings(account, run)
    for tag, builder in hist.items():
        run.histograms[tag] = builder.build(name, tag)
    for tag, builder in scal.items():
        run.scalars[tag] = builder.build(name, tag)
    return run


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] if is_url(path) else os.path.dirname(path)


@contextlib.contextmanager
def _open(path: str):
    """(binary stream, size) of a local file or, through fsspec, of a URL."""
    if not is_url(path):
        with open(path, "rb") as stream:
            yield stream, os.fstat(stream.fileno()).st_size
        return
    fs, inner = _filesystem(path)
    try:
        stream = fs.open(inner, "rb", block_size=8 << 20)
        size = stream.size
    except OSError:
        raise
    except Exception as exc:  # network or credential errors of the filesystem
        raise OSError(f"{exc.__class__.__name__}: {exc}") from None
    with stream:
        yield stream, size


def _read_file(stream, account, run, hist, scal, first_in_file, keep, light, index, split=False) -> None:
    # Only a run's first file: in later ones a resumed job may rewrite steps, which depends on
    # the order in which records are met.
    if (split and index == 0 and account.size >= halves.SPLIT_MIN_BYTES and not is_url(account.path)
            and halves.can_fork()):
        share = 0.5 if light else halves.FULL_READ_SPLIT
        middle = halves.boundary_after(account.path, account.size, int(account.size * share))
        if middle is not None:
            _read_in_halves(stream, account, run, hist, scal, first_in_file, keep, light, middle)
            return
    _apply(_decoded(stream, account, {}, light), account, run, hist, scal, first_in_file, keep, light, index)


def _apply(records, account, run, hist, scal, first_in_file, keep, light, index) -> None:
    """Put decoded records into the run: values into their tag's builder, problems into the account."""
    for offset, decoded in records:
        if isinstance(decoded, DecodeError):
            account.records_read -= 1
            account.skip(f"record at byte {offset} skipped: {decoded}")
            continue
        _, _, values, problems = decoded
        if problems:
            account.problems.extend(f"record at byte {offset}: {p}" for p in problems)
        for value in values:
            kind = type(value)
            if kind is OtherValue:
                run.other[value.tag] = value.kind
                run.other_counts[value.tag] = run.other_counts.get(value.tag, 0) + 1
                continue
            tag = value.tag
            builders = hist if kind is HistogramValue else scal
            builder = builders.get(tag)
            if builder is None:
                builder = builders[tag] = _HistogramBuilder(keep, light) if builders is hist else _ScalarBuilder()
            elif tag not in first_in_file and index > 0 and builder.steps and value.step <= max(builder.steps):
                dropped = builder.purge_from(value.step)
                run.warnings.append(
                    f"{os.path.basename(account.path)} rewrites {tag!r} from step {value.step}: "
                    f"kept its values, dropped {dropped} older ones from earlier files (a resumed job)"
                )
            first_in_file.add(tag)
            builder.add(value)


def _decoded(stream, account: FileAccount, plugins: dict[str, str], light: bool, start: int = 0,
             stop: int | None = None):
    """(offset, Decoded or DecodeError) of every intact record, in one pass."""
    for offset, buf, begin, end in iter_spans(stream, account.size, account, start=start, stop=stop):
        try:
            yield offset, scan_event(buf, begin, end, plugins, light)
        except DecodeError as exc:
            yield offset, exc


@dataclass
class _SecondHalf:
    """What the child read from the middle on, and what it took for granted about the first half."""

    run: Run
    account: FileAccount
    hist: dict[str, _HistogramBuilder]
    scal: dict[str, _ScalarBuilder]
    assumed: dict[str, str]  # plugin of each tag it met without a plugin of its own (halves.WatchedPlugins)
    counts: dict[str, int] | None  # full read: histogram values per tag before the middle

    def fits(self, plugins: dict[str, str], hist: dict[str, _HistogramBuilder]) -> bool:
        """True when the first half, as this process read it, is what the child assumed."""
        if any(plugins.get(tag, "") != used for tag, used in self.assumed.items()):
            return False
        return self.counts is None or self.counts == {tag: len(b.steps) for tag, b in hist.items()}


def _read_in_halves(stream, account, run, hist, scal, first_in_file, keep, light, middle: int) -> None:
    """A run's first file, the records from `middle` on read by a forked child, with the result
    of one pass (see halves.py)."""
    path, size = account.path, account.size
    child = halves.Forked(lambda: _second_half(path, size, keep, light, middle))
    plugins: dict[str, str] = {}
    _apply(_decoded(stream, account, plugins, light, stop=middle), account, run, hist, scal, first_in_file, keep,
           light, 0)
    second = child.result()
    if account.stopped_at is None:
        return  # the first half ended at a corrupt header: one pass stops there too
    if account.stopped_at == middle and second is not None and second.fits(plugins, hist):
        _merge(second, account, run, hist, scal, first_in_file)
        return
    # The child read from a false boundary, failed, or assumed another first half than this one
    # (a TF2 tag's plugin, or, for a full read, how many values each histogram tag had before
    # the middle): read on from here, in this process.
    stream.seek(account.stopped_at)
    _apply(_decoded(stream, account, plugins, light, start=account.stopped_at), account, run, hist, scal,
           first_in_file, keep, light, 0)


def _second_half(path: str, size: int, keep: int, light: bool, middle: int) -> _SecondHalf | None:
    """In the child. A light read starts from the plugins the file's first records name; a full
    read first counts each histogram tag's values before the middle (a light scan of the first
    half, a fraction of the cost of decoding it), so that it keeps the buckets of the steps one
    pass keeps."""
    with open(path, "rb") as own:
        if light:
            seed, counts = halves.seed_plugins(path, size), None
        else:
            seed, counts = _first_half_counts(own, path, size, middle)
            if counts is None:
                return None
        own.seek(middle)
        run, account = Run(name="", path=""), FileAccount(path, size)
        hist = {tag: _HistogramBuilder.continuing(count, keep) for tag, count in (counts or {}).items()}
        scal: dict[str, _ScalarBuilder] = {}
        plugins = halves.WatchedPlugins(seed)
        _apply(_decoded(own, account, plugins, light, start=middle), account, run, hist, scal, set(), keep, light, 0)
    for builder in hist.values():
        builder.flush()
    return _SecondHalf(run, account, hist, scal, plugins.assumed, counts)


def _first_half_counts(stream, path: str, size: int, middle: int) -> tuple[dict[str, str], dict[str, int] | None]:
    """Plugins at the middle and histogram values per tag before it; None if the records do not
    end at the middle."""
    plugins: dict[str, str] = {}
    account, hist = FileAccount(path, size), {}
    _apply(_decoded(stream, account, plugins, True, stop=middle), account, Run(name="", path=""), hist, {}, set(),
           0, True, 0)
    if account.stopped_at != middle:
        return plugins, None
    return plugins, {tag: len(builder.steps) for tag, builder in hist.items()}


def _merge(second: _SecondHalf, account, run, hist, scal, first_in_file) -> None:
    """Append the second half's records, read by the child, as if read here."""
    account.records_read += second.account.records_read
    account.records_skipped += second.account.records_skipped
    account.problems.extend(second.account.problems)
    for tag, kind in second.run.other.items():
        run.other[tag] = kind
        run.other_counts[tag] = run.other_counts.get(tag, 0) + second.run.other_counts[tag]
    for tag, built in second.hist.items():
        if tag in hist:
            hist[tag].extend(built)
        else:
            hist[tag] = built  # first met in the second half: its positions start at 0
    for tag, built in second.scal.items():
        target = scal.setdefault(tag, _ScalarBuilder())
        target.steps.extend(built.steps)
        target.wall_times.extend(built.wall_times)
        target.values.extend(built.values)
    first_in_file.update(second.hist, second.scal)


def _file_warnings(account: FileAccount, run: Run) -> None:
    where = account.path
    if account.records_read == 0 and account.records_skipped and account.size:
        run.warnings.append(f"{where}: not an event file ({account.problems[0]}); ignored")
        return
    if account.size == 0:
        run.warnings.append(f"{where}: empty file")
    for problem in account.problems:
        run.warnings.append(f"{where}: {problem}")


def load(logdirs: list[str], keep: int = DEFAULT_KEEP, light: bool = False, processes: int = 1, *,
         run_pattern: str = "", max_runs: int = 0, max_bytes: int = 0) -> Logs:
    """Read every run under every logdir. Raises InputError when there is nothing to read.

    `processes` > 1 reads runs in that many worker processes; 0 means one per core when there
    are several runs and enough local data to repay starting the workers. The result is the
    same, in the same order, as reading them one after another.

    With more than four runs each keeps the buckets of fewer steps (KEEP_BUDGET); statistics are
    kept for every step. `run_pattern` (a regex searched in run names) leaves other runs unread. `max_runs` and
    `max_bytes` (0: unlimited) refuse, before anything is read, logs with more runs or more
    bytes of event files than that.
    """
    found: list[tuple[str, list[str]]] = []
    bases = [_base_name(logdir) for logdir in logdirs]
    if len(set(bases)) < len(bases):  # a/exp and b/exp: name runs by the paths as given
        bases = [logdir.rstrip("/") or logdir for logdir in logdirs]
    for logdir, base in zip(logdirs, bases):
        for name, files in discover_runs(logdir):
            if len(logdirs) > 1:
                name = base if name == "." else posixpath.join(base, name)
            elif name == ".":
                name = base  # event files right in the logdir: a run named after it, not "."
            found.append((name, files))
    if not found:
        raise InputError(f"no event files (names containing 'tfevents') under {', '.join(logdirs)}")
    if run_pattern:
        found = _matching(found, run_pattern)
    _check_limits(found, logdirs, max_runs, max_bytes)
    keep = min(keep, max(MIN_KEEP, KEEP_BUDGET // len(found)))
    split = processes != 1 and (os.cpu_count() or 1) > 1
    if processes <= 0:
        processes = (os.cpu_count() or 1) if _local_bytes(found) >= POOL_MIN_BYTES else 1
    workers = min(processes, len(found))
    if workers <= 1:
        runs = [read_run(n, f, keep, light, split) for n, f in found]
    else:
        runs = _read_in_pool(found, keep, light, workers)
    return_free_memory()  # thinning freed buckets all over the heap; chart workers are forked from it
    return Logs(sources=list(logdirs), runs=runs)


def _base_name(logdir: str) -> str:
    if is_url(logdir):
        return posixpath.basename(logdir.split("://", 1)[1].rstrip("/")) or logdir
    return os.path.basename(os.path.abspath(logdir)) or logdir


def _matching(found: list[tuple[str, list[str]]], pattern: str) -> list[tuple[str, list[str]]]:
    wanted = re.compile(pattern)
    kept = [(name, files) for name, files in found if wanted.search(name)]
    if not kept:
        names = ", ".join(name for name, _ in found[:5]) + (", ..." if len(found) > 5 else "")
        raise InputError(f"no run matches --run {pattern!r} (runs found: {names})")
    return kept


def _check_limits(found: list[tuple[str, list[str]]], logdirs: list[str], max_runs: int, max_bytes: int) -> None:
    where = ", ".join(logdirs)
    if max_runs and len(found) > max_runs:
        raise InputError(f"{where} holds {len(found)} runs, more than --max-runs {max_runs}: "
                         "choose some with --run REGEX or raise --max-runs")
    if max_bytes:
        size = _total_bytes(found)
        if size > max_bytes:
            files = sum(len(f) for _, f in found)
            raise InputError(f"{where} holds {format_size(size)} of event files ({files} files), more than "
                             f"--max-bytes {format_size(max_bytes)}: choose runs with --run REGEX or raise --max-bytes")


def _total_bytes(found: list[tuple[str, list[str]]]) -> int:
    total = 0
    for _, files in found:
        for path in files:
            try:
                if is_url(path):
                    fs, inner = _filesystem(path)
                    total += int(fs.size(inner) or 0)
                else:
                    total += os.path.getsize(path)
            except InputError:
                raise
            except Exception:  # unreadable now: reading it later reports why
                continue
    return total


def _local_bytes(found: list[tuple[str, list[str]]]) -> int:
    if any(is_url(path) for _, files in found for path in files):
        return 0  # sizes unknown without a round trip each; read remote runs in turn
    return _total_bytes(found)


def _read_in_pool(found: list[tuple[str, list[str]]], keep: int, light: bool, workers: int) -> list[Run]:
    import multiprocessing  # here, not at the top: `inspect` of one run never starts a pool
    from concurrent.futures import ProcessPoolExecutor

    # forkserver: workers start from a clean process that has imported the reader, not from a
    # fork of this one (which may hold threads, e.g. fsspec's event loop).
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload(["reportgen.reading.loader"])
    chunksize = max(1, len(found) // (workers * 4))
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        return list(pool.map(_read_run_args, [(n, f, keep, light) for n, f in found], chunksize=chunksize))


def _read_run_args(args: tuple) -> Run:
    return read_run(*args)
