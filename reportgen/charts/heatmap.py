"""Step x value heatmap: the share of values in each value bin at each step, on a log scale.

The whole run in one picture, as experiment trackers show it and TensorBoard does not. Built from
the steps whose buckets are kept (at most 501, evenly spread, first and last included).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.colors import LinearSegmentedColormap, LogNorm
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from reportgen import histmath
from reportgen.charts import color as colors
from reportgen.charts.style import SINGLE_SIZE, fmt, new_figure, no_data, note, step_axis, styled, to_png
from reportgen.model import HistogramSeries

VALUE_BINS = 60  # finer than the offset view's 30: one column per step has room for it
# Shares below this fraction of the largest share are not coloured: the log scale would
# otherwise spend most of its range on single stray values.
DYNAMIC_RANGE = 1e-4


@dataclass(frozen=True)
class Grid:
    step_edges: np.ndarray  # (k+1,) column edges, midway between shown steps
    value_edges: np.ndarray  # (VALUE_BINS+1,)
    share: np.ndarray  # (k, VALUE_BINS) fraction of the step's values in each bin; NaN: empty step
    steps: np.ndarray  # (k,)


def heatmap_grid(series: HistogramSeries, bins: int = VALUE_BINS) -> Grid:
    steps = series.steps[series.kept].astype(float)
    lo, hi = histmath.global_range(series.buckets)
    counts = histmath.rebin_steps(series.buckets, lo, hi, bins)
    totals = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(totals > 0, counts / totals, np.nan)
    return Grid(_column_edges(steps), np.linspace(lo, hi, bins + 1), share, steps.astype(np.int64))


def _column_edges(steps: np.ndarray) -> np.ndarray:
    if len(steps) == 0:
        return np.array([0.0, 1.0])
    if len(steps) == 1:
        return np.array([steps[0] - 0.5, steps[0] + 0.5])
    mids = (steps[1:] + steps[:-1]) / 2
    return np.concatenate(([steps[0] - (mids[0] - steps[0])], mids, [steps[-1] + (steps[-1] - mids[-1])]))


def colormap(color: str) -> LinearSegmentedColormap:
    """From a pale tint of the run colour (rare) through the colour to a dark shade (dense)."""
    return LinearSegmentedColormap.from_list("run", [colors.shade(color, 30), color, colors.shade(color, -25)])


def share_ticks(low: float, high: float) -> list[float]:
    """Colour-bar ticks: the powers of ten in [low, high]; when fewer than two fit, three
    log-spaced values rounded to two digits, so a narrow scale is still labelled."""
    decades = [10.0 ** e for e in range(int(np.floor(np.log10(low))), int(np.ceil(np.log10(high))) + 1)]
    inside = [d for d in decades if low * (1 - 1e-9) <= d <= high * (1 + 1e-9)]
    if len(inside) >= 2:
        return inside
    return sorted({float(f"{v:.2g}") for v in np.geomspace(low, high, 3)})


def percent(share: float, _position=None) -> str:
    """A share as a percentage with no needless digits: 0.001 -> "0.1%", 1 -> "100%"."""
    return f"{share * 100:.3g}%"


def draw(series: HistogramSeries, color: str, title: str) -> tuple[bytes, str]:
    grid = heatmap_grid(series)
    positive = grid.share[np.isfinite(grid.share) & (grid.share > 0)]
    with styled():
        fig = new_figure(SINGLE_SIZE, right=0.55)  # the colour bar's ticks and label
        ax = fig.subplots()
        ax.set_title(title, loc="left")
        if not positive.size:
            no_data(ax, "No values recorded (the count is 0 at every step)")
            alt = f"Heatmap of {series.tag} in run {series.run}: no values recorded."
        else:
            top = float(positive.max())
            norm = LogNorm(vmin=max(float(positive.min()), top * DYNAMIC_RANGE), vmax=top)
            shown = np.ma.masked_where(~(grid.share > 0), grid.share)
            # pcolorfast draws the rectilinear grid as one image (~40 ms for 501 x 60 cells; pcolormesh ~65 ms).
            mesh = ax.pcolorfast(grid.step_edges, grid.value_edges, shown.T, cmap=colormap(color), norm=norm)
            bar = fig.colorbar(mesh, ax=ax, pad=0.01, fraction=0.05)
            bar.set_label("share of values in bin", fontsize=7.5)
            bar.ax.tick_params(labelsize=7)
            # Decades as plain percentages ("0.1%", not mathtext "10^-3", whose parsing and the
            # log axis' minor ticks cost more than the rest of the chart).
            bar.ax.yaxis.set_major_locator(FixedLocator(share_ticks(norm.vmin, norm.vmax)))
            bar.ax.yaxis.set_major_formatter(FuncFormatter(percent))
            bar.ax.yaxis.set_minor_locator(NullLocator())
            ax.set_xlabel("step")
            step_axis(ax)
            ax.set_ylabel("value")
            empty = int(np.count_nonzero(~np.isfinite(grid.share).all(axis=1)))
            if empty:
                note(ax, f"{empty} steps with no values (blank columns)")
            alt = (f"Heatmap of {series.tag} in run {series.run}: share of values per value bin for "
                   f"{len(grid.steps)} steps ({grid.steps[0]} to {grid.steps[-1]}), values {fmt(grid.value_edges[0])} "
                   f"to {fmt(grid.value_edges[-1])}, log colour scale, darker is denser.")
        png = to_png(fig)
    return png, alt
