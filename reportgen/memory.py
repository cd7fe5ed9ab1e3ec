"""Giving freed memory back to the system.

glibc's malloc keeps freed memory for reuse, and raises its threshold for serving big requests
from the heap after the first big free: after thinning buckets (the loader) or drawing a chart
(a chart worker) much of the heap is free but still counted against the process, and in a
forked worker it is a private copy. malloc_trim(0) returns the free pages.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable


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
