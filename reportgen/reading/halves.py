"""The parts of reading one big event file with two processes (`inspect` and `build`).

The loader reads the first part itself while a forked child reads the rest, starting at the
first record boundary after the split point; see `loader._read_in_halves`, which also makes
sure the result is exactly what one pass gives. Here: finding that boundary, the plugins the
child starts with, how the child notes which of them it relied on, and running the child.
"""

from __future__ import annotations

import itertools
import mmap
import multiprocessing
import os
import pickle
import struct
import tempfile
from typing import Any, Callable

from reportgen.reading.events import DecodeError, scan_event
from reportgen.reading.records import FileAccount, iter_spans, masked_crc

SPLIT_MIN_BYTES = 64 << 20  # below this a second process costs more than it saves
BOUNDARY_WINDOW = 1 << 20  # how far past the middle a record boundary is looked for
SEED_RECORDS = 256  # records at the start whose plugins the child starts with
# Where a full read splits the file: the child also scans the parent's part (lightly, ~1/6 of
# the cost of decoding it) and hands over its buckets, so the parent takes the larger part.
FULL_READ_SPLIT = 0.53


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

    def update(self, other=(), **kw):
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
            except BaseException:  # noqa: BLE001 - the parent then reads that part itself
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
