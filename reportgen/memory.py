"""Giving freed memory back to the system, and worker processes that do not inherit this one's.

glibc's malloc keeps freed memory for reuse, and raises its threshold for serving big requests
from the heap after the first big free: after thinning buckets (the loader) much of the heap is
free but still counted against the process, and chart workers forked from it would each see it.
malloc_trim(0) returns the free pages.
"""

from __future__ import annotations

import ctypes
import functools
import gc
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext


# CPython looks for reference cycles after every 700 net new container objects (its default),
# and goes through the whole heap once enough of them have survived. A build keeps what it
# makes until it ends (the logs, the diagnosis, the PDF's boxes), on top of ~130,000 objects
# of its imports, so those collections find little: in the benchmark build's main process they
# took 0.34-0.44 s (517-540 young collections, 3-4 of the whole heap), and 0.14-0.15 s at
# 100,000 (175 young, 1 whole), with the same peak memory (239 MB).
CYCLE_COLLECTION_THRESHOLD = 100_000


def collect_cycles_less_often() -> None:
    """Raise the new objects between collections of reference cycles, in this process and the
    workers it forks, to CYCLE_COLLECTION_THRESHOLD; how often the older generations are
    collected, relative to it, stays CPython's."""
    gc.set_threshold(CYCLE_COLLECTION_THRESHOLD, *gc.get_threshold()[1:])


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS, Windows)
        return None


def return_free_memory() -> None:
    """Return the heap's free pages to the system, where the C library can (glibc)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def clean_workers(preload: str) -> BaseContext:
    """The start method of worker processes that need nothing of this one's memory (their work
    comes to them pickled): forkserver, so that they start from a clean process that has
    imported `preload`, not from a fork of this one, or spawn where there is no forkserver.

    A fork shares this process's pages until either side writes to them, and a worker's garbage
    collections and reference counts write to many: PDF layout workers forked from a 250-run
    sweep build (the main process at 275 MB, every run's charts in it) took the build's tree
    to 537 MB, and 513 MB started from a forkserver, with the peak moved from the PDF's layout
    to drawing. The forkserver is one per process, started with the first call's `preload`;
    a worker imports what else it needs on its first task.
    """
    import multiprocessing  # here, not at the top: a build with one worker never starts a pool

    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload([preload])
    return context
