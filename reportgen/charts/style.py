"""One look for every chart: figure sizes, fonts and PNG output settings.

Sizes are chosen for the report, where a chart is shown about 16-17 cm (6.5 in) wide on A4: a
7 in wide figure is shown at ~93% of its size, so 8-9 pt text stays readable in print.
"""

from __future__ import annotations

import io
from contextlib import contextmanager
from typing import Callable, Hashable, Iterator

import matplotlib

matplotlib.use("Agg")

from matplotlib import rc_context  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg  # noqa: E402
from PIL import Image  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import AutoLocator, ScalarFormatter  # noqa: E402

DPI = 150
SINGLE_SIZE = (7.0, 3.2)  # inches: distribution, heatmap, scalar, compare
OFFSET_SIZE = (7.0, 4.0)  # the offset view needs height for its depth
ROW_HEIGHT = 2.6  # inches: a layer row of small charts

STYLE = {
    "font.size": 8.5,
    "axes.titlesize": 9.5,
    "axes.titleweight": "bold",
    "axes.labelsize": 8.5,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 7.5,
    "axes.edgecolor": "#888888",
    "axes.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": "#444444",
    "ytick.color": "#444444",
    "axes.labelcolor": "#222222",
    "grid.color": "#dddddd",
    "grid.linewidth": 0.5,
    "grid.linestyle": "--",
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "path.simplify": True,
    "svg.hashsalt": "reportgen",
    # Titles at a fixed height: Matplotlib's automatic placement lays out every y tick label
    # once more per title (12% of the drawing time). Above our plots there is only the title
    # and, at times, the y axis' offset text ("1e-6"), which `lift_titles` clears after the draw.
    "axes.titley": 1.0,
}

NOTE_COLOR = "#b00020"  # notes about NaN/Inf and failures
COLOUR_KEY = "colour key"  # the label of an axes that holds a colour scale beside its plot
GRID_KW = {"visible": True, "which": "major"}


@contextmanager
def styled() -> Iterator[None]:
    with rc_context(STYLE):
        yield


# Space around the plot area, in inches: room for tick labels and an axis label on the left,
# the step axis or nothing on the right, ticks and "step" below, the title above.
MARGINS = {"left": 0.72, "right": 0.18, "bottom": 0.46, "top": 0.3}


def new_figure(size: tuple[float, float], **margins: float) -> Figure:
    """A figure with fixed margins (inches; `wspace`/`hspace` as Matplotlib's fractions).

    Matplotlib's constrained layout measures every tick label several times and cost half of
    each chart's drawing time; fixed margins are enough for our charts, and `to_png` falls back
    to the constrained layout for a chart whose labels would not fit.
    """
    m = {**MARGINS, **margins}
    width, height = size
    fig = Figure(figsize=size, dpi=DPI)
    SharedRendererCanvas(fig)
    fig.subplots_adjust(left=m["left"] / width, right=1 - m["right"] / width, bottom=m["bottom"] / height,
                        top=1 - m["top"] / height, wspace=m.get("wspace"), hspace=m.get("hspace"))
    return fig


def one_axes(size: tuple[float, float], **margins: float) -> Figure:
    """A new figure (`new_figure`) with one axes."""
    fig = new_figure(size, **margins)
    fig.subplots()
    return fig


class SharedRendererCanvas(FigureCanvasAgg):
    """An Agg canvas that draws on a renderer shared by all figures of its pixel size.

    Matplotlib caches text measurements per renderer, and a new figure gets a new renderer:
    every chart measured "0.2", "step" and its tick labels afresh (8% of the drawing time).
    The figures of a process are drawn one at a time and read out (`to_png`) before the next
    draw, which clears the renderer first, so sharing it changes no pixel.
    """

    _renderers: dict[tuple[int, int, float], RendererAgg] = {}
    KEEP = 4  # sizes: single, offset, and layer rows of a few heights

    def get_renderer(self) -> RendererAgg:
        width, height = self.get_width_height(physical=True)
        key = (width, height, self.figure.dpi)
        renderer = self._renderers.pop(key, None)
        if renderer is None:
            renderer = RendererAgg(width, height, self.figure.dpi)
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
    one expects. A figure goes back to the pool only when its chart was drawn without error and
    kept its fixed layout. The test draws every kind after others and compares bytes with a
    chart drawn on a new figure.
    """

    KEEP = 16  # kinds x (with values, without) x a few layer-row shapes

    def __init__(self) -> None:
        self._free: dict[Hashable, Figure] = {}
        self.hits = self.misses = 0  # as functools.lru_cache counts them

    @contextmanager
    def reused(self, key: Hashable, create: Callable[[], Figure]) -> Iterator[Figure]:
        fig = self._free.pop(key, None)
        if fig is None:
            self.misses += 1
            fig = create()
        else:
            self.hits += 1
            for ax in fig.axes:
                clear_axes(ax)
        yield fig
        if fig.get_layout_engine() is None:
            self._free[key] = fig
            while len(self._free) > self.KEEP:
                del self._free[next(iter(self._free))]  # the least recently released

    def clear(self) -> None:
        self._free.clear()


POOL = FigurePool()


def clear_axes(ax: Axes) -> None:
    """What a chart put on an axes taken away, its ticks and their text objects kept: the state of
    a new axes for everything our charts set (`Axes.clear` would throw the ticks away too)."""
    for artist in [*ax.lines, *ax.collections, *ax.images, *ax.texts, *ax.patches, *ax.artists]:
        artist.remove()
    if ax.legend_ is not None:
        ax.legend_.remove()
    for title in (ax.title, ax._left_title, ax._right_title):
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


def to_png(fig: Figure) -> bytes:
    """The figure as a palette PNG (see `palette_png`), drawn once, encoded once."""
    fig.canvas.draw()
    if lift_titles(fig):
        fig.canvas.draw()
    if fig.get_layout_engine() is None and labels_collide(fig):
        fig.set_layout_engine("constrained")
        fig.canvas.draw()
    width, height = fig.canvas.get_width_height(physical=True)
    image = Image.frombuffer("RGBA", (width, height), fig.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    return palette_png(image)


def lift_titles(fig: Figure) -> bool:
    """Raise each title that the y axis' offset text (e.g. "1e-6", drawn above the axis) runs
    into, as Matplotlib's automatic title placement would; True when a title moved."""
    renderer = fig.canvas.get_renderer()
    moved = False
    for ax in fig.axes:
        offset = ax.yaxis.offsetText
        if not (ax.get_visible() and offset.get_visible() and offset.get_text()):
            continue
        offset_box = offset.get_window_extent(renderer)
        for title in _titles(ax):
            box = title.get_window_extent(renderer)
            if box.overlaps(offset_box):
                title.set_y(title.get_position()[1] + (offset_box.y1 - box.y0 + 2) / ax.bbox.height)
                moved = True
    return moved


def _titles(ax: Axes) -> Iterator:
    return (t for t in (ax.title, ax._left_title, ax._right_title) if t.get_visible() and t.get_text())


def labels_collide(fig: Figure) -> bool:
    """True when a drawn figure has text past its edges or over another panel's plot area.

    Looks only at the texts the last draw laid out (tick labels inside the view, axis labels,
    titles), whose sizes Matplotlib has cached: asking for each axes' tight bounding box would
    lay all the ticks out again and cost as much as the constrained layout.
    """
    renderer = fig.canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    axes = [ax for ax in fig.axes if ax.get_visible()]
    for ax in axes:
        others = [o.bbox for o in axes if o is not ax and not _attached(ax, o)]
        for text in _drawn_texts(ax):
            box = text.get_window_extent(renderer)
            if _outside(box, width, height) or any(box.overlaps(other) for other in others):
                return True
    return any(_outside(t.get_window_extent(renderer), width, height) for t in fig.texts
               if t.get_visible() and t.get_text())


def _drawn_texts(ax: Axes) -> Iterator:
    for axis, (lo, hi) in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
        lo, hi = min(lo, hi), max(lo, hi)
        slack = (hi - lo) * 1e-9
        for tick in axis.majorTicks:
            loc = tick.get_loc()
            if loc is not None and lo - slack <= loc <= hi + slack:
                yield from (t for t in (tick.label1, tick.label2) if t.get_visible() and t.get_text())
        yield from (t for t in (axis.label, axis.offsetText) if t.get_visible() and t.get_text())
    yield from _titles(ax)


def _attached(ax: Axes, other: Axes) -> bool:
    # A colour bar or key sits right next to its plot: touching is by design.
    return any(getattr(a, "_colorbar", None) is not None or a.get_label() == COLOUR_KEY for a in (ax, other))


def _outside(box, width: float, height: float) -> bool:
    return box.x0 < -0.5 or box.y0 < -0.5 or box.x1 > width + 0.5 or box.y1 > height + 0.5


def palette_png(image: Image.Image) -> bytes:
    """The image as a PNG with a 256-colour palette: about 4x smaller, no visible change on charts.

    A report holds a hundred charts or more, and it travels as an email and a CI artifact.
    Pillow comes with Matplotlib, so this adds no dependency. No metadata chunks: the bytes
    depend on the data, not on the Matplotlib version or a date.
    """
    quantized = image.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    out = io.BytesIO()
    # zlib's default level: optimize=True (level 9 and more filter trials) was 5x slower per
    # chart (~50 ms of a distribution chart's 180 ms) for files 5-10% smaller.
    quantized.save(out, format="PNG", compress_level=6, dpi=(DPI, DPI))
    return out.getvalue()


def note(ax: Axes, text: str, *, y: float = 0.98, color: str = NOTE_COLOR) -> None:
    """A short note in the top-left corner of an axes."""
    ax.text(0.01, y, text, transform=ax.transAxes, ha="left", va="top", fontsize=7.5, color=color,
            bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none", "alpha": 0.8},
            zorder=1000)


def no_data(ax: Axes, text: str) -> None:
    """An honest empty chart: the axes stay, with a message in the middle."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=9, color="#555555")
    ax.set_xticks([])
    ax.set_yticks([])


def step_axis(ax: Axes, max_ticks: int = 9) -> None:
    """Steps are whole numbers: no 2.5 ticks on a step axis; few ticks on narrow panels."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(nbins=max_ticks, integer=True))


def fmt(value: float) -> str:
    """A short number for alt texts and notes."""
    if value != value:
        return "NaN"
    return f"{value:.4g}"
