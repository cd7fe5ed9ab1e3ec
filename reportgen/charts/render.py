"""Drawing many charts: one at a time in this process, or in a pool of forked workers that
inherit the jobs' data, slowest first, while this process does other work (`meanwhile`).
"""

from __future__ import annotations

import functools
import gc
import importlib
import multiprocessing
import struct
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from types import ModuleType

from reportgen.charts import KINDS, ChartJob, Drawn
from reportgen.charts.encode import to_png, without_pixels
from reportgen.charts.style import DPI, NOTE_COLOR, SINGLE_SIZE, new_figure, set_title, styled

# Below this many jobs a process pool costs more (start-up, imports) than it saves.
MIN_JOBS_FOR_POOL = 6


def draw_job(job: ChartJob) -> tuple[bytes, str]:
    """PNG and alt text of one job, drawn by its kind's module; raises when it cannot be drawn."""
    if job.kind not in KINDS:
        raise ValueError(f"unknown chart kind {job.kind!r}")
    return _module(job).draw_job(job)


def _module(job: ChartJob) -> ModuleType:
    """The module that draws charts of the job's kind (charts.kinds)."""
    return importlib.import_module(f"reportgen.charts.{KINDS[job.kind].module}")


def planned_size(job: ChartJob) -> tuple[int, int]:
    """The pixel size the chart of `job` comes out at: a figure's size is set before anything is
    drawn on it (SINGLE_SIZE unless its kind's module says otherwise with `figure_size(job)`), so
    a document can be laid out while its charts are drawn. A chart that fails is a placeholder
    of another size: whoever lays out early compares with what was drawn."""
    module = _module(job) if job.kind in KINDS else None
    inches = module.figure_size(job) if module is not None and hasattr(module, "figure_size") else SINGLE_SIZE
    # As Matplotlib (3.11) rounds: 1.6 in x 150 dpi is 239.99999999999997 pixels, and 240.
    width, height = (int(side * DPI + 1e-8) for side in inches)
    return width, height


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    if len(png) >= 24 and png[:8] == b"\x89PNG\r\n\x1a\n":
        return struct.unpack(">II", png[16:24])
    return 0, 0


def render_job(job: ChartJob, pixels: bool = True) -> Drawn:
    """One chart; any failure becomes a placeholder with `error` set. `pixels`: False gives the
    chart's alt text and no image (`encode.without_pixels`)."""
    try:
        if pixels:
            png, alt = draw_job(job)
        else:
            with without_pixels():
                png, alt = draw_job(job)
        error = None
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        png = placeholder_png(job.title, error)
        alt = f"The {job.kind} chart of {job.tag} in run {job.run} could not be drawn: {error}"
    width, height = png_size(png)
    return Drawn(png=png, alt=alt, error=error, width_px=width, height_px=height)


def placeholder_png(title: str, error: str) -> bytes:
    """An image that says the chart failed and why. Falls back to a tiny grey PNG."""
    try:
        with styled():
            fig = new_figure((SINGLE_SIZE[0], 1.6))
            ax = fig.subplots()
            ax.set_axis_off()
            set_title(ax, title)
            message = error if len(error) <= 300 else error[:297] + "..."
            ax.text(0.5, 0.5, "This chart could not be drawn.\n" + message, ha="center", va="center",
                    wrap=True, fontsize=8.5, color=NOTE_COLOR, transform=ax.transAxes)
            return to_png(fig)
    except Exception:
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
# does not have to be pickled to them: a worker gets an index and sends back only the Drawn.
_INHERITED: list[ChartJob] = []


def _render_inherited(index: int, pixels: bool) -> Drawn:
    # No malloc_trim between charts: it gave back ~45 MB of the benchmark build's tree (331 ->
    # 378 MB without it), but it walks every free chunk of the heap the worker inherited, 4-5 ms
    # a chart, and the next chart faulted the pages in again. Without it the build took 0.87-0.93x
    # the time (two A/Bs of 5-6 builds each); the next chart reuses the freed memory, so it
    # does not grow with the number of charts.
    return render_job(_INHERITED[index], pixels)


def render_jobs(jobs: list[ChartJob], workers: int = 1,
                on_done: Callable[[ChartJob], None] = lambda job: None,
                meanwhile: Callable[[], list[ChartJob] | None] = lambda: None, pixels: bool = True) -> list[Drawn]:
    """Draw every job; the charts come back in the order of the jobs. `workers`: processes that
    draw (1: all in this process); `pixels`: False for alt texts without images (render_job).

    `on_done` is called with each job as its chart is finished (for a progress bar). `meanwhile`
    is called once in this process while the workers draw (before drawing, without workers):
    work that does not need the charts fills the time this process would spend waiting. The
    jobs it returns, if any (charts that need what it found), are drawn by the same workers
    after the others, and their charts follow those of `jobs`.
    """
    meanwhile = functools.cache(meanwhile)  # called once: the fallback below gets its jobs again
    workers = min(workers, len(jobs))
    if workers > 1 and len(jobs) >= MIN_JOBS_FOR_POOL:
        every = list(jobs)  # and, once meanwhile has returned them, its jobs
        try:
            return _reported(_render_in_pool(every, workers, meanwhile, pixels), every, on_done)
        except (BrokenProcessPool, OSError):
            pass  # a worker died (e.g. killed for memory): draw here rather than fail
    every = list(jobs) + list(meanwhile() or [])
    return _reported(enumerate(render_job(job, pixels) for job in every), every, on_done)


def _reported(charts: Iterable[tuple[int, Drawn]], jobs: list[ChartJob],
              on_done: Callable[[ChartJob], None]) -> list[Drawn]:
    """The charts in the order of `jobs` (read when `charts` is exhausted: it may add to them)."""
    done: dict[int, Drawn] = {}
    for index, chart in charts:
        on_done(jobs[index])
        done[index] = chart
    missing = [i for i in range(len(jobs)) if i not in done]
    if missing:
        raise RuntimeError(f"charts {missing} were never drawn")
    return [done[i] for i in range(len(jobs))]


def expected_cost(job: ChartJob) -> float:
    """Drawing time against a distribution chart (kinds.py); a layer row costs about one
    distribution per panel."""
    cost = KINDS[job.kind].relative_cost if job.kind in KINDS else 1.0
    return cost * max(len(job.data or ()), 1) if job.kind == "layer" else cost


def costliest_first(jobs: list[ChartJob]) -> list[int]:
    """Job indices, the slowest charts first: handed out one at a time, the workers then finish
    together instead of one drawing a last batch of layer rows while the other waits."""
    return sorted(range(len(jobs)), key=lambda i: -expected_cost(jobs[i]))


def _render_in_pool(jobs: list[ChartJob], workers: int, meanwhile: Callable[[], list[ChartJob] | None],
                    pixels: bool) -> Iterator[tuple[int, Drawn]]:
    """(index, chart) of every job as it is finished; the jobs `meanwhile` returns are added to
    `jobs` and drawn too (sent to the workers: they were forked before those existed)."""
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
                    futures = {pool.submit(_render_inherited, i, pixels): i for i in order}
                else:
                    futures = {pool.submit(render_job, jobs[i], pixels): i for i in order}
            finally:
                gc.unfreeze()
            try:
                more = meanwhile() or []
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)  # fail now, not after every chart
                raise
            for job in more:
                futures[pool.submit(render_job, job, pixels)] = len(jobs)
                jobs.append(job)
            yield from ((futures[f], f.result()) for f in as_completed(futures))
    finally:
        _INHERITED = []
