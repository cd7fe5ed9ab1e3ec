"""Charts: pure functions from series data to PNG bytes (Matplotlib, Agg, no pyplot state).

Each chart kind is a module with a `draw(...) -> (png, alt)` function: offset and overlay
(offset.py), distribution (distribution.py), heatmap (heatmap.py), scalar (scalar.py), layer
(layer.py) and compare (distribution.py / scalar.py for several runs of one tag).

`render_jobs(jobs, processes)` renders many charts in parallel; a chart that fails becomes a
placeholder image that carries the error, never a failed report.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import struct
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from reportgen.charts.color import PALETTE
from reportgen.charts.style import DPI
from reportgen.memory import return_free_memory
from reportgen.report import Chart

__all__ = ["DPI", "ChartJob", "run_color", "render_job", "render_jobs"]

# Below this many jobs a process pool costs more (start-up, imports) than it saves.
MIN_JOBS_FOR_POOL = 6


@dataclass
class ChartJob:
    kind: str  # offset | overlay | distribution | heatmap | scalar | layer | compare
    run: str
    tag: str
    title: str
    data: Any  # HistogramSeries, ScalarSeries, or a list of them (layer, compare)
    color: str | list[str]
    # offset/overlay/distribution/layer/compare: max_steps; layer: kinds {tag: kind};
    # scalar/compare of scalars: smoothing.
    options: dict[str, Any] = field(default_factory=dict)


def run_color(index: int) -> str:
    """TensorBoard's run colours, in its order."""
    return PALETTE[index % len(PALETTE)]


def draw_job(job: ChartJob) -> tuple[bytes, str]:
    """PNG and alt text of one job; raises when the chart cannot be drawn."""
    from reportgen.charts import distribution, heatmap, layer, offset, scalar
    from reportgen.model import ScalarSeries

    opts = job.options
    if job.kind in ("offset", "overlay"):
        return offset.draw(job.data, job.color, job.title, opts.get("max_steps", offset.DEFAULT_MAX_STEPS), job.kind)
    if job.kind == "distribution":
        return distribution.draw(job.data, job.color, job.title, opts.get("max_steps", distribution.DEFAULT_MAX_STEPS))
    if job.kind == "heatmap":
        return heatmap.draw(job.data, job.color, job.title)
    if job.kind == "scalar":
        return scalar.draw(job.data, job.color, job.title, opts.get("smoothing", scalar.SMOOTHING))
    if job.kind == "layer":
        return layer.draw(job.data, job.color, job.title, opts.get("kinds"),
                          opts.get("max_steps", distribution.DEFAULT_MAX_STEPS))
    if job.kind == "compare":
        if job.data and isinstance(job.data[0], ScalarSeries):
            return scalar.draw_compare(job.data, job.color, job.title, opts.get("smoothing", scalar.SMOOTHING),
                                      opts.get("runs"))
        return distribution.draw_compare(job.data, job.color, job.title,
                                         opts.get("max_steps", distribution.DEFAULT_MAX_STEPS), opts.get("runs"))
    raise ValueError(f"unknown chart kind {job.kind!r}")


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    if len(png) >= 24 and png[:8] == b"\x89PNG\r\n\x1a\n":
        return struct.unpack(">II", png[16:24])
    return 0, 0


def render_job(job: ChartJob) -> Chart:
    """One chart; any failure becomes a placeholder with `error` set."""
    try:
        png, alt = draw_job(job)
        error = None
    except Exception as exc:  # noqa: BLE001 - one bad chart must never fail the report
        error = f"{type(exc).__name__}: {exc}"
        png = placeholder_png(job.title, error)
        alt = f"The {job.kind} chart of {job.tag} in run {job.run} could not be drawn: {error}"
    width, height = png_size(png)
    return Chart(run=job.run, tag=job.tag, kind=job.kind, title=job.title, png=png, alt=alt, error=error,
                 width_px=width, height_px=height)


def placeholder_png(title: str, error: str) -> bytes:
    """An image that says the chart failed and why. Falls back to a tiny grey PNG."""
    try:
        from reportgen.charts.style import NOTE_COLOR, SINGLE_SIZE, new_figure, styled, to_png

        with styled():
            fig = new_figure((SINGLE_SIZE[0], 1.6))
            ax = fig.subplots()
            ax.set_axis_off()
            ax.set_title(title, loc="left")
            message = error if len(error) <= 300 else error[:297] + "..."
            ax.text(0.5, 0.5, "This chart could not be drawn.\n" + message, ha="center", va="center",
                    wrap=True, fontsize=8.5, color=NOTE_COLOR, transform=ax.transAxes)
            return to_png(fig)
    except Exception:  # noqa: BLE001 - the last resort must not raise
        return _tiny_png()


def _tiny_png() -> bytes:
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    width, height = 8, 8
    rows = b"".join(b"\x00" + b"\xcc" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


# Jobs of the current render_jobs call, inherited by forked workers so that the series data
# does not have to be pickled to them: a worker gets an index and sends back only the Chart.
_INHERITED: list[ChartJob] = []


def _render_inherited(index: int) -> Chart:
    chart = render_job(_INHERITED[index])
    return_free_memory()  # a chart's temporaries: ~60 MB of the two workers' memory, ~1 ms
    return chart


def worker_count(processes: int) -> int:
    return (os.cpu_count() or 1) if processes <= 0 else processes


def render_jobs(jobs: list[ChartJob], processes: int = 0,
                on_done: Callable[[Chart], None] = lambda chart: None,
                meanwhile: Callable[[], None] = lambda: None) -> list[Chart]:
    """Render every job; the charts come back in the order of the jobs. processes: 0 = one per
    core, 1 = in this process.

    `on_done` is called with each chart as it is finished (for a progress bar). `meanwhile` is
    called once in this process while the workers draw (before drawing, without workers): work
    that does not need the charts fills the time this process would spend waiting.
    """
    meanwhile = _once(meanwhile)
    workers = min(worker_count(processes), len(jobs))
    if workers > 1 and len(jobs) >= MIN_JOBS_FOR_POOL:
        try:
            return _reported(_render_in_pool(jobs, workers, meanwhile), len(jobs), on_done)
        except (BrokenProcessPool, OSError):
            pass  # a worker died (e.g. killed for memory): draw here rather than fail
    meanwhile()
    return _reported(enumerate(render_job(job) for job in jobs), len(jobs), on_done)


def _once(function: Callable[[], None]) -> Callable[[], None]:
    called = []

    def call_once() -> None:
        if not called:
            called.append(True)
            function()

    return call_once


def _reported(charts: Iterable[tuple[int, Chart]], count: int, on_done: Callable[[Chart], None]) -> list[Chart]:
    done: list[Chart | None] = [None] * count
    for index, chart in charts:
        on_done(chart)
        done[index] = chart
    return done  # type: ignore[return-value]


# Relative drawing time of one chart of each kind (measured on the benchmark log); a layer row
# costs about one distribution per panel.
RELATIVE_COST = {"heatmap": 2.0, "offset": 1.3, "compare": 1.3, "overlay": 1.0, "distribution": 1.0, "scalar": 0.8}


def expected_cost(job: ChartJob) -> float:
    if job.kind == "layer":
        return 1.0 * max(len(job.data or ()), 1)
    return RELATIVE_COST.get(job.kind, 1.0)


def costliest_first(jobs: list[ChartJob]) -> list[int]:
    """Job indices, the slowest charts first: handed out one at a time, the workers then finish
    together instead of one drawing a last batch of layer rows while the other waits."""
    return sorted(range(len(jobs)), key=lambda i: -expected_cost(jobs[i]))


def _render_in_pool(jobs: list[ChartJob], workers: int, meanwhile: Callable[[], None]) -> Iterator[tuple[int, Chart]]:
    global _INHERITED
    order = costliest_first(jobs)
    fork = "fork" in multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork") if fork else None
    _INHERITED = jobs if fork else []
    try:
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            # Forked workers share this process's memory until they write to it, and a garbage
            # collection in a worker writes to every object it visits, copying the pages they
            # are on. Frozen objects are never visited (workers start at the submits). This saved
            # less than the trim in _render_inherited: ~20 MB of the tree, within the noise.
            gc.freeze()
            try:
                if fork:
                    futures = {pool.submit(_render_inherited, i): i for i in order}
                else:
                    futures = {pool.submit(render_job, jobs[i]): i for i in order}
            finally:
                gc.unfreeze()
            try:
                meanwhile()
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)  # fail now, not after every chart
                raise
            yield from ((futures[f], f.result()) for f in as_completed(futures))
    finally:
        _INHERITED = []
