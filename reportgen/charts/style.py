"""One look for every chart: figure sizes, fonts, margins, notes.

How figures are kept and reused between charts is in reuse.py, how they become PNG in encode.py.

Sizes are chosen for the report, where a chart is shown about 16-17 cm (6.5 in) wide on A4: a
7 in wide figure is shown at ~93% of its size, so 8-9 pt text stays readable in print.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import matplotlib

matplotlib.use("Agg")

from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from reportgen.charts.reuse import SharedRendererCanvas

DPI = 150
# Half an A4 page's text width: a tag's offset and distribution charts sit side by side and print
# at their own size, text at 7 pt (drawn at full width, they were shrunk to half and their text
# to 4 pt, or took a page each: sample_logs ran to 50 pages).
SINGLE_SIZE = (3.6, 2.0)  # inches: distribution, heatmap, scalar, compare
OFFSET_SIZE = (3.6, 2.3)  # the offset view needs height for its depth
WIDE = 7.0  # inches: figures that span the page (a layer row, a run's overview)
ROW_HEIGHT = 2.6  # inches: a layer row of small charts
TITLE_CHARS = int(SINGLE_SIZE[0] * 72 / (7.5 * 0.55))  # what fits over a chart at 7.5 pt

STYLE = {
    "font.size": 7,
    "axes.titlesize": 7.5,
    "axes.titleweight": "bold",
    "axes.labelsize": 7,
    "xtick.labelsize": 6.5,
    "ytick.labelsize": 6.5,
    "legend.fontsize": 6.5,
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
    # Titles at a fixed height: Matplotlib's automatic placement lays out every y tick label
    # once more per title (12% of the drawing time). Above our plots there is only the title
    # and, at times, the y axis' offset text ("1e-6"), which `lift_titles` clears after the draw.
    "axes.titley": 1.0,
}

NOTE_COLOR = "#b00020"  # notes about NaN/Inf and failures
COLOUR_KEY = "colour key"  # the label of an axes that holds a colour scale beside its plot


@contextmanager
def styled() -> Iterator[None]:
    with rc_context(STYLE):  # type: ignore[arg-type]  # Matplotlib types the keys as Literals
        yield


# Space around the plot area, in inches: room for tick labels and an axis label on the left,
# the step axis or nothing on the right, ticks and "step" below, the title above.
MARGINS = {"left": 0.6, "right": 0.15, "bottom": 0.4, "top": 0.27}


def shorten(text: str, limit: int = TITLE_CHARS) -> str:
    """At most `limit` characters, cut in the middle so that both ends stay readable (the full
    name is in the chart's caption and alt text)."""
    if len(text) <= limit or limit < 5:
        return text
    head = (limit - 1) // 2
    return text[:head] + "…" + text[len(text) - (limit - 1 - head):]


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
    ax.xaxis.set_major_locator(MaxNLocator(nbins=max_ticks, integer=True))
