"""Reading one big event file with two processes (`inspect` and `build`).

The loader reads the first part itself while a forked child reads the rest, starting at the
first record boundary after the split point (`read_in_halves`), with the result of one pass:
the parent checks what the child assumed about the first part and reads on itself when that
does not hold. Here: finding that boundary, the plugins the child starts with, how the child
notes which of them it relied on, running the child and merging what it read.
"""

from __future__ import annotations

import itertools
import mmap
import multiprocessing
import os
import pickle
import struct
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reportgen.model import FileAccount, Run
from reportgen.reading.accumulate import HistogramBuilder, RunBuilder, ScalarBuilder, decoded
from reportgen.reading.events import DecodeError
from reportgen.reading.records import iter_spans, masked_crc
from reportgen.reading.sources import is_url
from reportgen.reading.wire import scan_event

SPLIT_MIN_BYTES = 64 << 20  # below this a second process costs more than it saves
# ... unless this process has other work to do meanwhile (a build's imports): then the child
# reads nearly all of a smaller file while this one imports. Build to PDF, split against not,
# 5-6 builds each, interleaved: 53 MB 0.86x, 27 MB 0.89x (HTML 0.86x, 0.88x), 11 MB 0.99-1.04x
# (HTML 1.04x), 4 MB 1.06x: below ~10 MB the read is too short to repay the child.
MEANWHILE_SPLIT_MIN_BYTES = 16 << 20
BOUNDARY_WINDOW = 1 << 20  # how far past the middle a record boundary is looked for
SEED_RECORDS = 256  # records at the start whose plugins the child starts with
# Where a full read splits the file: the child also scans the parent's part (lightly, ~1/6 of
# the cost of decoding it) and hands over its buckets, so the parent takes the larger part.
FULL_READ_SPLIT = 0.53
# A parent with other work to do while the child reads (`meanwhile`: the build's imports,
# Matplotlib's and WeasyPrint's, ~1 s) takes a smaller part: smaller by the share of the file
# that costs as long to read as that work. The benchmark log (267 MB) to PDF, 3 builds each,
# interleaved: parts of 0.25, 0.35 and 0.45 built in 4.56-5.31, 4.06-4.83 and 4.07-5.13 s;
# importing first and then reading with 0.53, 4.52-5.64 s. 0.35 is 0.53 x (1 - 90 MB / 267 MB).
MEANWHILE_BYTES = 90 << 20
MIN_SPLIT = 0.05  # the parent reads at least this much: the child's light scan of it is cheap


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def boundary_after(path: str, size: int, middle: int) -> int | None:
    """The offset of the first record at or after `middle` whose length CRC and payload CRC
    both check (a false match needs two 32-bit CRCs to agree by chance), within
    BOUNDARY_WINDOW; None if there is none."""
    with open(path, "rb") as stream:
        stream.seek(middle)
        window = stream.read(BOUNDARY_WINDOW + 12)
        for i in range(max(len(window) - 12, 0)):
            length, stored = struct.unpack_from("<QI", window, i)
            if length > size - middle - i - 16 or masked_crc(window[i:i + 8]) != stored:
                continue
            stream.seek(middle + i + 12)
            body = stream.read(length + 4)
            if len(body) == length + 4 and masked_crc(body[:length]) == struct.unpack_from("<I", body, length)[0]:
                return middle + i
    return None


def seed_plugins(path: str, size: int) -> dict[str, str]:
    """The plugins the file's first records name (TF2 writers name a tag's plugin in its first
    record only): what the child assumes for tags it meets without one."""
    plugins: dict[str, str] = {}
    with open(path, "rb") as stream:
        for count, (_, buf, begin, end) in enumerate(iter_spans(stream, size, FileAccount(path), chunk=1 << 20)):
            if count >= SEED_RECORDS:
                break
            try:
                scan_event(buf, begin, end, plugins, light=True)
            except DecodeError:
                continue
    return plugins


class WatchedPlugins(dict):
    """The child's plugins: notes each plugin it used that the second half had not set itself.

    `assumed` maps those tags to what the child used (from the seed, or "" for none). A one-pass
    read has, at those records, the plugins the whole first half set; where the two agree for
    every assumed tag, the child decoded every record as a one-pass read does.
    """

    def __init__(self, seed: dict[str, str]):
        super().__init__(seed)
        self.seed = dict(seed)
        self.set_here: set[str] = set()
        self.assumed: dict[str, str] = {}

    def get(self, key, default=None):
        if key not in self.set_here:
            self.assumed[key] = self.seed.get(key, "")
        return super().get(key, default)

    def __setitem__(self, key, value):
        self.set_here.add(key)
        super().__setitem__(key, value)

    def update(self, other=(), **kw):  # type: ignore[override]  # only the forms scan_event uses
        for key, value in dict(other, **kw).items():
            self[key] = value


class Forked:
    """`function()` run in a forked child; `result()` is its return value, or None if it failed.

    The result's large arrays (a full read's buckets: ~100 MB for the benchmark log's second
    half) do not go through the pipe, which took most of a second: the child writes them to a
    memory file opened before the fork, and the parent maps it, copy-on-write, as the arrays'
    memory (pickle protocol 5's out-of-band buffers). The pipe carries the rest.
    """

    def __init__(self, function: Callable[[], Any]):
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self._file = _memory_file()

        def run() -> None:
            try:
                buffers: list[pickle.PickleBuffer] = []
                head = pickle.dumps(function(), protocol=5, buffer_callback=buffers.append)
                with os.fdopen(os.dup(self._file), "wb") as out:
                    sizes = [out.write(buffer.raw()) for buffer in buffers]
                send.send((head, sizes))
            except BaseException:
                send.send(None)
            finally:
                send.close()

        self._process = context.Process(target=run, daemon=True)
        self._process.start()
        send.close()

    def result(self) -> Any:
        try:
            message = self._receive.recv()
            if message is None:
                return None
            head, sizes = message
            return pickle.loads(head, buffers=self._mapped(sizes))
        except (EOFError, OSError):  # the child died (e.g. killed for memory)
            return None
        finally:
            self._receive.close()
            self._process.join()
            os.close(self._file)

    def cancel(self) -> None:
        """Stop the child, its result no longer wanted."""
        self._process.terminate()
        self._process.join()
        self._receive.close()
        os.close(self._file)

    def _mapped(self, sizes: list[int]) -> list[memoryview]:
        if not sum(sizes):
            return [memoryview(b"") for _ in sizes]
        # ACCESS_COPY: writable arrays, pages copied only if written; the mapping outlives the fd.
        view = memoryview(mmap.mmap(self._file, sum(sizes), access=mmap.ACCESS_COPY))
        starts = itertools.accumulate(sizes, initial=0)
        return [view[start:start + size] for start, size in zip(starts, sizes)]


def _memory_file() -> int:
    """A file descriptor of an anonymous file: in memory where the system has memfd."""
    if hasattr(os, "memfd_create"):
        return os.memfd_create("reportgen-half", os.MFD_CLOEXEC)
    with tempfile.TemporaryFile() as file:
        return os.dup(file.fileno())


def read_big_first_file(stream, account: FileAccount, builder: RunBuilder, first_in_file: set[str],
                        meanwhile: Callable[[], None] | None = None) -> bool:
    """Read a run's first file in two processes when it is big enough and local; False when it
    was not (the caller then reads it in one pass). Only a run's first file: in later ones a
    resumed job may rewrite steps, which depends on the order in which records are met.
    `meanwhile`: work this process does first, while the child reads (then its part is smaller)."""
    if account.size < (SPLIT_MIN_BYTES if meanwhile is None else MEANWHILE_SPLIT_MIN_BYTES) or is_url(account.path) \
            or not can_fork():
        return False
    middle = boundary_after(account.path, account.size, int(account.size * split_share(account.size, builder.light,
                                                                                        meanwhile is not None)))
    if middle is None:
        return False
    read_in_halves(stream, account, builder, first_in_file, middle, meanwhile or (lambda: None))
    return True


def split_share(size: int, light: bool, meanwhile: bool) -> float:
    """The share of a file of `size` bytes the parent reads, the child reading the rest."""
    if light:
        return 0.5
    if not meanwhile:
        return FULL_READ_SPLIT
    return max(MIN_SPLIT, FULL_READ_SPLIT * (1 - MEANWHILE_BYTES / size))


@dataclass
class _SecondHalf:
    """What the child read from the middle on, and what it took for granted about the first half."""

    run: Run
    account: FileAccount
    hist: dict[str, HistogramBuilder]
    scal: dict[str, ScalarBuilder]
    assumed: dict[str, str]  # plugin of each tag it met without a plugin of its own (WatchedPlugins)
    counts: dict[str, int] | None  # full read: histogram values per tag before the middle

    def fits(self, plugins: dict[str, str], hist: dict[str, HistogramBuilder]) -> bool:
        """True when the first half, as this process read it, is what the child assumed."""
        if any(plugins.get(tag, "") != used for tag, used in self.assumed.items()):
            return False
        return self.counts is None or self.counts == {tag: len(b.steps) for tag, b in hist.items()}


def read_in_halves(stream, account: FileAccount, builder: RunBuilder, first_in_file: set[str], middle: int,
                   meanwhile: Callable[[], None] = lambda: None) -> None:
    """A run's first file, the records from `middle` on read by a forked child, with the result
    of one pass; `meanwhile` is called once the child has started, before this process reads."""
    path, size, keep, light = account.path, account.size, builder.keep, builder.light
    child = Forked(lambda: _second_half(path, size, keep, light, middle))
    try:
        meanwhile()
    except BaseException:
        child.cancel()
        raise
    plugins: dict[str, str] = {}
    builder.apply(decoded(stream, account, plugins, light, stop=middle), account, 0, first_in_file)
    second = child.result()
    if account.stopped_at is None:
        return  # the first half ended at a corrupt header: one pass stops there too
    if account.stopped_at == middle and second is not None and second.fits(plugins, builder.hist):
        _merge(second, account, builder, first_in_file)
        return
    # The child read from a false boundary, failed, or assumed another first half than this one
    # (a TF2 tag's plugin, or, for a full read, how many values each histogram tag had before
    # the middle): read on from here, in this process.
    stream.seek(account.stopped_at)
    builder.apply(decoded(stream, account, plugins, light, start=account.stopped_at), account, 0, first_in_file)


def _second_half(path: str, size: int, keep: int, light: bool, middle: int) -> _SecondHalf | None:
    """In the child. A light read starts from the plugins the file's first records name; a full
    read first counts each histogram tag's values before the middle (a light scan of the first
    half, a fraction of the cost of decoding it), so that it keeps the buckets of the steps one
    pass keeps."""
    with open(path, "rb") as own:
        if light:
            seed, counts = seed_plugins(path, size), None
        else:
            seed, counts = _first_half_counts(own, path, size, middle)
            if counts is None:
                return None
        own.seek(middle)
        account = FileAccount(path, size)
        continuing = {tag: HistogramBuilder.continuing(count, keep) for tag, count in (counts or {}).items()}
        builder = RunBuilder(Run(name="", path=""), keep, light, hist=continuing)
        plugins = WatchedPlugins(seed)
        builder.apply(decoded(own, account, plugins, light, start=middle), account, 0, set())
    for histogram in builder.hist.values():
        histogram.flush()
    return _SecondHalf(builder.run, account, builder.hist, builder.scal, plugins.assumed, counts)


def _first_half_counts(stream, path: str, size: int, middle: int) -> tuple[dict[str, str], dict[str, int] | None]:
    """Plugins at the middle and histogram values per tag before it; None if the records do not
    end at the middle."""
    plugins: dict[str, str] = {}
    account = FileAccount(path, size)
    builder = RunBuilder(Run(name="", path=""), 0, True)
    builder.apply(decoded(stream, account, plugins, True, stop=middle), account, 0, set())
    if account.stopped_at != middle:
        return plugins, None
    return plugins, {tag: len(histogram.steps) for tag, histogram in builder.hist.items()}


def _merge(second: _SecondHalf, account: FileAccount, builder: RunBuilder, first_in_file: set[str]) -> None:
    """Append the second half's records, read by the child, as if read here."""
    run, hist, scal = builder.run, builder.hist, builder.scal
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
    for tag, values in second.scal.items():
        target = scal.setdefault(tag, ScalarBuilder())
        target.steps.extend(values.steps)
        target.wall_times.extend(values.wall_times)
        target.values.extend(values.values)
    first_in_file.update(second.hist, second.scal)
