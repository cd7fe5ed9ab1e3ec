"""One look for every chart: figure sizes, fonts, margins, notes.

How figures are kept and reused between charts is in reuse.py, how they become PNG in encode.py.

Sizes are chosen for the report, where a chart is shown about 16-17 cm (6.5 in) wide on A4: a
7 in wide figure is shown at ~93% of its size, so 8-9 pt text stays readable in print.
"""

from __future__ import annotations

import functools
import math
import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import matplotlib

matplotlib.use("Agg")

from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import Formatter, MaxNLocator

from reportgen.charts.reuse import SharedRendererCanvas

DPI = 150
# Half an A4 page's text width: a tag's offset and distribution charts sit side by side and print
# at their own size, text at 7 pt (drawn at full width, they were shrunk to half and their text
# to 4 pt, or took a page each: sample_logs ran to 50 pages).
SINGLE_SIZE = (3.6, 2.0)  # inches: distribution, heatmap, scalar, compare
OFFSET_SIZE = (3.6, 2.3)  # the offset view needs height for its depth
WIDE = 7.0  # inches: figures that span the page (a layer row, a run's overview)
ROW_HEIGHT = 2.6  # inches: a layer row of small charts
TITLE_CHARS = int(SINGLE_SIZE[0] * 72 / (7.5 * 0.55))  # about what fits over a chart at 7.5 pt (see `fit`)
TITLE_SIZE = 7.5  # points, as STYLE's axes.titlesize
LEGEND_SIZE = 6.5  # points, as STYLE's legend.fontsize
EDGE = 0.04  # inches kept free between a title and the figure's edge

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


# Text is measured on a renderer of the charts' dpi, as Agg lays it out when it draws (hinting
# included): a title cut to this width is the title drawn at this width.
_MEASURE = RendererAgg(1, 1, DPI)


# Tick labels ("0.05", "200"), titles and the single characters of `_estimated_width` recur from
# chart to chart.
@functools.lru_cache(maxsize=8192)
def text_width(text: str, size: float, bold: bool = False) -> float:
    """Width in inches of `text` drawn at `size` points (no mathtext: our titles are plain)."""
    prop = FontProperties(size=size, weight="bold" if bold else "normal")
    width, _, _ = _MEASURE.get_text_width_height_descent(text, prop, ismath=False)
    return width / DPI


def _estimated_width(text: str, size: float, bold: bool) -> float:
    """The sum of the characters' widths: within a few percent of `text_width` (kerning)."""
    return sum(text_width(char, size, bold) for char in text)


def fit(text: str, width: float, size: float = TITLE_SIZE, bold: bool = False, keep: str = "") -> str:
    """`text`, cut in the middle with an ellipsis (`shorten`) until it is at most `width` inches
    wide at `size` points. With `keep`, a prefix of `text` (the tag of "tag (run)"), the rest is
    cut first, down to MIN_REST characters, so that what names the chart stays whole. A name of
    100 characters (Ray Tune's trial folders) laid the chart out wider than its figure; the
    full name is in the chart's caption and alt text."""
    def fits(candidate: str) -> bool:
        estimate = _estimated_width(candidate, size, bold)
        # Clearly inside or outside by the estimate; measured only near the edge (a measure of
        # a long title costs ~1.5 ms, and a cut takes a dozen trials).
        if estimate <= width * 0.9 or estimate > width * 1.1:
            return estimate <= width
        return text_width(candidate, size, bold) <= width

    if fits(text):
        return text
    if keep and text.startswith(keep) and len(text) > len(keep):
        rest = text[len(keep):]
        least = shorten(rest, MIN_REST)
        if fits(keep + least):
            return keep + fit(rest, width - text_width(keep, size, bold), size, bold)
        return fit(keep, width - text_width(least, size, bold), size, bold) + least
    low, high = 1, len(text)  # the longest cut that fits: shorten's width grows with its limit
    while low < high:
        middle = (low + high + 1) // 2
        if fits(shorten(text, middle)):
            low = middle
        else:
            high = middle - 1
    return shorten(text, max(low, 5))


def fit_names(names: list[str], width: float, size: float) -> list[str]:
    """Legend entries: each name cut to `width` (`fit`). Names that must be cut and share a start
    (Ray Tune's trials differ after it: "PPO_CartPole-v1_3a7f2_00000_0_lr=...") lose the shared
    part first, so that the entries still tell the runs apart."""
    fitted = [fit(name, width, size) for name in names]
    cut = max(len(os.path.commonprefix(names)) - 4, 0) if len(set(names)) > 1 else 0
    if fitted == names or cut < 8:
        return fitted
    return [fit("…" + name[cut:], width, size) for name in names]


MIN_REST = 14  # characters of a title's rest (" (run name)") kept when its prefix is kept whole


def title_width(ax: Axes, reserve: float = 0.0) -> float:
    """Inches a left-aligned title over `ax` may take: to the figure's right edge, less `reserve`
    (text already at the top right, such as the offset chart's "51 of 200 steps")."""
    fig = ax.get_figure(root=True)
    assert isinstance(fig, Figure)
    left = ax.get_position().x0 * fig.get_figwidth()
    return fig.get_figwidth() - left - EDGE - reserve


# Each title set by set_title, with what it was cut from: `refit_titles` cuts it again when the
# margins move (weak keys: a title goes with its figure).
_FULL_TITLES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def set_title(ax: Axes, title: str, keep: str = "", reserve: float = 0.0) -> None:
    """The chart's title, left-aligned, cut to fit the figure (see `fit`)."""
    text = ax.set_title(fit(title, title_width(ax, reserve), TITLE_SIZE, True, keep), loc="left")
    _FULL_TITLES[text] = (ax, title, keep, reserve)


def refit_titles(fig: Figure) -> None:
    """Cut each title of `fig` set by `set_title` again, for the width its axes now leave it."""
    for ax in fig.axes:
        left_title = ax._left_title  # type: ignore[attr-defined]  # no public accessor
        entry = _FULL_TITLES.get(left_title)
        if entry is not None and entry[0] is ax and left_title.get_text():
            _, title, keep, reserve = entry
            left_title.set_text(fit(title, title_width(ax, reserve), TITLE_SIZE, True, keep))


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


def panel_grid(panels: int, per_row: int) -> tuple[int, int]:
    """Rows and columns of a figure of `panels` panels, at most `per_row` a row (at least one of each)."""
    columns = max(1, min(per_row, panels))
    return max(1, math.ceil(panels / columns)), columns


TICK_GAP = 3.0 / 72  # inches of space kept between two neighbouring tick labels


def value_axis(ax: Axes) -> None:
    """Value ticks whose labels do not run together, for a value axis along x.

    Matplotlib's AutoLocator allows a tick every 3 font sizes, and labels such as "−0.25" are
    wider than that: on a 10-value bias of a real tensorboardX log they read
    "−0.25−0.20−0.15...". Its ticks are kept where the widest label and a gap fit between
    two of them; otherwise the same kind of ticks (steps of 1, 2, 2.5 or 5), fewer of them.
    Call it once the axis' limits are final.
    """
    lo, hi = sorted(ax.get_xlim())
    fig = ax.get_figure(root=True)
    assert isinstance(fig, Figure)
    width = ax.get_position().width * fig.get_figwidth()
    size = float(matplotlib.rcParams["xtick.labelsize"])
    while hi > lo:
        ticks = [t for t in ax.xaxis.get_major_locator()() if lo <= t <= hi]
        if len(ticks) < 3:
            return
        labels = ax.xaxis.get_major_formatter().format_ticks(ticks)
        spacing = width * (ticks[1] - ticks[0]) / (hi - lo)
        if max(text_width(label, size) for label in labels) + TICK_GAP <= spacing:
            return
        ax.xaxis.set_major_locator(MaxNLocator(nbins=len(ticks) - 2, steps=[1, 2, 2.5, 5, 10]))


def step_axis(ax: Axes, max_ticks: int = 9) -> None:
    """Steps are whole numbers: no 2.5 ticks on a step axis; few ticks on narrow panels; large
    steps in thousands or millions (`StepFormatter`)."""
    ax.xaxis.set_major_locator(MaxNLocator(nbins=max_ticks, integer=True))
    ax.xaxis.set_major_formatter(StepFormatter())


class StepFormatter(Formatter):
    """Step ticks as TensorBoard labels them: "200k", "1.5M" once the axis reaches 10,000 (in
    millions from 1,000,000), every tick of an axis with the same suffix. Six-digit ticks such as
    "100000" ran into each other on a half-page chart (an RLlib log of 796,000 steps)."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        return self.format_ticks([x])[0]

    def format_ticks(self, values) -> list[str]:
        largest = max((abs(float(v)) for v in values), default=0.0)
        scale, suffix = (1e6, "M") if largest >= 1e6 else (1e3, "k") if largest >= 1e4 else (1.0, "")
        return [f"{v / scale:.4g}{suffix}" if suffix and v else f"{round(v):d}" for v in values]
