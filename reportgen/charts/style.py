"""One look for every chart: figure sizes, fonts and PNG output settings.

Sizes are chosen for the report, where a chart is shown about 16-17 cm (6.5 in) wide on A4: a
7 in wide figure is shown at ~93% of its size, so 8-9 pt text stays readable in print.
"""

from __future__ import annotations

import io
from contextlib import contextmanager
from typing import Iterator

import matplotlib

matplotlib.use("Agg")

from matplotlib import rc_context  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from PIL import Image  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

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
}

NOTE_COLOR = "#b00020"  # notes about NaN/Inf and failures
GRID_KW = {"visible": True, "which": "major"}


@contextmanager
def styled() -> Iterator[None]:
    with rc_context(STYLE):
        yield


def new_figure(size: tuple[float, float]) -> Figure:
    return Figure(figsize=size, dpi=DPI, layout="constrained")


def to_png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    # No "Software" key: the bytes depend on the data, not on the Matplotlib version or a date.
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return palette_png(buffer.getvalue())


def palette_png(png: bytes) -> bytes:
    """The same image with a 256-colour palette: about 4x smaller, no visible change on charts.

    A report holds a hundred charts or more, and it travels as an email and a CI artifact.
    Pillow comes with Matplotlib, so this adds no dependency.
    """
    image = Image.open(io.BytesIO(png)).convert("RGB")
    quantized = image.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    out = io.BytesIO()
    quantized.save(out, format="PNG", optimize=True)
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
