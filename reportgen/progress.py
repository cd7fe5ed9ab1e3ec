"""Progress on stderr: a bar with counts on a terminal, one plain line per phase elsewhere (CI logs),
nothing with --quiet. Timings per phase with --verbose."""

from __future__ import annotations

import sys
import time
from typing import TextIO

BAR_WIDTH = 24


class Progress:
    def __init__(self, stream: TextIO | None = None, quiet: bool = False, verbose: bool = False,
                 tty: bool | None = None):
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.verbose = verbose
        self.tty = self.stream.isatty() if tty is None else tty
        self.name = ""
        self.total = 0
        self.done = 0
        self.started = time.monotonic()
        self._line_open = False

    def __call__(self, name: str, total: int = 0) -> None:
        self.phase(name, total)

    def phase(self, name: str, total: int = 0) -> None:
        """Start a phase; `total` > 0 when its items can be counted. Named again while it runs,
        the phase keeps its count and takes the new total (items found on the way)."""
        if name == self.name:
            self.total = total
            if self.tty and not self.quiet:
                self._draw("")
            return
        self._finish_phase()
        self.name, self.total, self.done, self.started = name, total, 0, time.monotonic()
        if self.quiet:
            return
        if self.tty:
            self._draw("")
        else:
            self._print(f"reportgen: {name}" + (f" ({total})" if total else ""))

    def advance(self, item: str = "") -> None:
        self.done += 1
        if self.quiet:
            return
        if self.tty:
            self._draw(item)
        elif self.verbose and item:
            self._print(f"reportgen:   {item}")

    def say(self, message: str) -> None:
        """A line that stays (written files, summary), above the bar on a terminal."""
        if self.quiet:
            return
        self._clear()
        self._print(message)

    def close(self) -> None:
        self._finish_phase()
        self._clear()

    def _finish_phase(self) -> None:
        if self.name and self.verbose and not self.quiet:
            self._clear()
            self._print(f"reportgen: {self.name} took {time.monotonic() - self.started:.1f}s")
        self.name = ""

    def _draw(self, item: str) -> None:
        if self.total:
            filled = round(BAR_WIDTH * min(self.done, self.total) / self.total)
            bar = f"[{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {self.done}/{self.total} "
        else:
            bar = ""
        self.stream.write(f"\r\x1b[Kreportgen: {self.name} {bar}{item}"[:200])
        self.stream.flush()
        self._line_open = True

    def _clear(self) -> None:
        if self._line_open:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._line_open = False

    def _print(self, message: str) -> None:
        print(message, file=self.stream, flush=True)
