"""Making charts cheap to draw one after another: a shared renderer per figure size and a pool
of figures kept for the next chart of the same kind. Neither changes a pixel (tested).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager

import matplotlib

matplotlib.use("Agg")

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.ticker import AutoLocator, ScalarFormatter

from reportgen.charts.textcache import TextCachingRenderer


class SharedRendererCanvas(FigureCanvasAgg):
    """An Agg canvas that draws on a renderer shared by all figures of its pixel size.

    Matplotlib caches text measurements per renderer, and a new figure gets a new renderer:
    every chart measured "0.2", "step" and its tick labels afresh (8% of the drawing time).
    The figures of a process are drawn one at a time and read out (`to_png`) before the next
    draw, which clears the renderer first, so sharing it changes no pixel.
    """

    _renderers: dict[tuple[int, int, float], RendererAgg] = {}  # noqa: RUF012 - shared by design
    KEEP = 4  # sizes: single, offset, and layer rows of a few heights

    def get_renderer(self) -> RendererAgg:
        width, height = self.get_width_height(physical=True)
        key = (width, height, self.figure.dpi)
        renderer = self._renderers.pop(key, None)
        if renderer is None:
            renderer = TextCachingRenderer(width, height, self.figure.dpi)
        self._renderers[key] = renderer  # now the most recent
        while len(self._renderers) > self.KEEP:
            del self._renderers[next(iter(self._renderers))]
        self.renderer = renderer
        return renderer


class FigurePool:
    """Figures kept from one chart to the next chart of the same kind, so that each chart does
    not build its axes and their ticks afresh: a quarter of a distribution chart's drawing time.

    `reused(key, create)` gives the figure last released under `key`, cleared (`clear_axes`), or
    a new one from `create()`. A key names one way of building a figure (size, margins, panels)
    and of drawing on it (a chart with values or the "no values" message): the charts under one
    key set the same properties each time, so clearing what they added restores what the next
    one expects, and margins that `encode.widen_margins` moved for one chart's long tick labels
    are put back. A figure goes back to the pool only when its chart was drawn without error and
    kept its fixed layout. The test draws every kind after others and compares bytes with a
    chart drawn on a new figure.
    """

    KEEP = 16  # kinds x (with values, without) x a few layer-row shapes

    def __init__(self) -> None:
        self._free: dict[Hashable, tuple[Figure, tuple[float, ...]]] = {}
        self.hits = self.misses = 0  # as functools.lru_cache counts them

    @contextmanager
    def reused(self, key: Hashable, create: Callable[[], Figure]) -> Iterator[Figure]:
        kept = self._free.pop(key, None)
        if kept is None:
            self.misses += 1
            fig = create()
            margins = _margins(fig)
        else:
            self.hits += 1
            fig, margins = kept
            if _margins(fig) != margins:
                fig.subplots_adjust(*margins)
            for ax in fig.axes:
                clear_axes(ax)
        yield fig
        if fig.get_layout_engine() is None:
            self._free[key] = (fig, margins)
            while len(self._free) > self.KEEP:
                del self._free[next(iter(self._free))]  # the least recently released

    def clear(self) -> None:
        self._free.clear()


POOL = FigurePool()


def _margins(fig: Figure) -> tuple[float, ...]:
    p = fig.subplotpars
    return (p.left, p.bottom, p.right, p.top, p.wspace, p.hspace)  # subplots_adjust's order


def clear_axes(ax: Axes) -> None:
    """What a chart put on an axes taken away, its ticks and their text objects kept: the state of
    a new axes for everything our charts set (`Axes.clear` would throw the ticks away too)."""
    for artist in [*ax.lines, *ax.collections, *ax.images, *ax.texts, *ax.patches, *ax.artists]:
        artist.remove()
    if ax.legend_ is not None:
        ax.legend_.remove()
    for title in (ax.title, ax._left_title, ax._right_title):  # type: ignore[attr-defined]  # no public accessor
        title.set_text("")  # set_title puts a lifted title (lift_titles) back at axes.titley
    ax.set_xlabel("")
    ax.set_ylabel("")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(AutoLocator())
        axis.set_major_formatter(ScalarFormatter())
    ax.grid(False)
    ax.relim()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_autoscale_on(True)
    ax.set_visible(True)
