"""A drawn figure as PNG bytes: drawn once (with the title and layout checks), encoded once."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from reportgen.charts.style import COLOUR_KEY, DPI, refit_titles


def _canvas(fig: Figure) -> FigureCanvasAgg:
    canvas = fig.canvas
    assert isinstance(canvas, FigureCanvasAgg)  # every figure here is made by style.new_figure
    return canvas


_RASTERISE = [True]  # False inside `without_pixels()`


@contextmanager
def without_pixels() -> Iterator[None]:
    """Charts built as usual but not drawn: `to_png` gives b"". For a build whose outputs show
    no image (JSON, JUnit, Markdown...): the charts' titles and alt texts, which those outputs
    list, come from building them; drawing and encoding are 80-95% of a chart's time."""
    _RASTERISE.append(False)
    try:
        yield
    finally:
        _RASTERISE.pop()


def to_png(fig: Figure) -> bytes:
    """The figure as a palette PNG (see `palette_png`), drawn once, encoded once.

    Text that would be cut off at an edge moves the margins of a one-plot figure (one more
    draw); what still does not fit is laid out by Matplotlib's constrained layout. Matplotlib's
    warnings stay here: a layout that would collapse keeps the fixed margins instead, a glyph
    missing from the font is drawn as a box. Nothing reaches the user's stderr.
    """
    if not _RASTERISE[-1]:
        return b""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # missing glyphs, whatever else Matplotlib says
        fig.canvas.draw()
        if lift_titles(fig):
            fig.canvas.draw()
        if fig.get_layout_engine() is None and labels_collide(fig) and widen_margins(fig):
            fig.canvas.draw()
        if fig.get_layout_engine() is None and labels_collide(fig):
            _constrained(fig)
    width, height = fig.canvas.get_width_height(physical=True)
    image = Image.frombuffer("RGBA", (width, height), _canvas(fig).buffer_rgba(), "raw", "RGBA", 0, 1)
    return palette_png(image)


def _constrained(fig: Figure) -> None:
    """Lay the figure out again with the constrained layout, or, where that would collapse the
    plot to nothing (its text is wider than the figure), keep the fixed margins."""
    fig.set_layout_engine("constrained")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        fig.canvas.draw()
    if any("collapsed" in str(w.message) for w in caught):
        fig.set_layout_engine("none")
        fig.canvas.draw()


# Pixels kept free between text and the figure's edge when the margins move for it.
EDGE_PX = 3


def widen_margins(fig: Figure) -> bool:
    """Move the margins of a figure with one plot (and its colour key) so that the texts the last
    draw put past an edge (long tick labels pushing the axis label out) are inside it; its titles
    are cut again for their new width. True when a margin moved. Figures of several panels are
    left to the constrained layout: their texts also collide between the panels."""
    plots = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != COLOUR_KEY]
    if len(plots) != 1:
        return False
    renderer = _canvas(fig).get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    left = bottom = right = top = 0.0
    for ax in fig.axes:
        for text in _drawn_texts(ax):
            box = text.get_window_extent(renderer)
            left, bottom = max(left, -box.x0), max(bottom, -box.y0)
            right, top = max(right, box.x1 - width), max(top, box.y1 - height)
    if not max(left, bottom, right, top) > 0:
        return False
    p = fig.subplotpars
    left, bottom, right, top = (o + EDGE_PX if o > 0 else 0.0 for o in (left, bottom, right, top))
    new = (p.left + left / width, p.bottom + bottom / height, p.right - right / width, p.top - top / height)
    if new[0] >= new[2] - 0.3 or new[1] >= new[3] - 0.3:
        return False  # the plot would be too small: leave it to the constrained layout
    fig.subplots_adjust(*new)
    refit_titles(fig)
    return True


def lift_titles(fig: Figure) -> bool:
    """Raise each title that the y axis' offset text (e.g. "1e-6", drawn above the axis) runs
    into, as Matplotlib's automatic title placement would; True when a title moved."""
    renderer = _canvas(fig).get_renderer()
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
    titles = (ax.title, ax._left_title, ax._right_title)  # type: ignore[attr-defined]  # no public accessor
    return (t for t in titles if t.get_visible() and t.get_text())


def labels_collide(fig: Figure) -> bool:
    """True when a drawn figure has text past its edges or over another panel's plot area.

    Looks only at the texts the last draw laid out (tick labels inside the view, axis labels,
    titles), whose sizes Matplotlib has cached: asking for each axes' tight bounding box would
    lay all the ticks out again and cost as much as the constrained layout.
    """
    renderer = _canvas(fig).get_renderer()
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
