"""Step x value heatmap: the share of values in each value bin at each step, on a log scale.

The whole run in one picture, as experiment trackers show it and TensorBoard does not. Built from
the steps whose buckets are kept (at most 501, evenly spread, first and last included).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.colors import LinearSegmentedColormap, LogNorm

from reportgen import histmath
from reportgen.charts import ChartJob
from reportgen.charts import color as colors
from reportgen.charts.encode import to_png
from reportgen.charts.reuse import POOL
from reportgen.charts.style import COLOUR_KEY, SINGLE_SIZE, new_figure, no_data, note, set_title, step_axis, styled
from reportgen.model import HistogramSeries
from reportgen.numbers import percent_label as percent
from reportgen.numbers import sig4 as fmt

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
    buckets = list(series.buckets)  # unpacked once (see model.BucketRows)
    lo, hi = histmath.global_range(buckets)
    counts = histmath.rebin_steps(buckets, lo, hi, bins)
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


def _figure():
    fig = new_figure(SINGLE_SIZE, right=0.7, wspace=0.04)  # the colour key's ticks ("0.031%") and label
    _, key = fig.subplots(1, 2, width_ratios=[48, 1])
    key.set_label(COLOUR_KEY)
    return fig


def draw_job(job: ChartJob) -> tuple[bytes, str]:
    """The step x value heatmap of one histogram series."""
    return draw(job.data, job.color, job.title)


def draw(series: HistogramSeries, color: str, title: str) -> tuple[bytes, str]:
    grid = heatmap_grid(series)
    positive = grid.share[np.isfinite(grid.share) & (grid.share > 0)]
    with styled(), POOL.reused(("heatmap", not positive.size), _figure) as fig:
        ax, key = fig.axes
        set_title(ax, title, keep=series.tag)
        if not positive.size:
            key.set_visible(False)
            no_data(ax, "No values recorded (the count is 0 at every step)")
            alt = f"Heatmap of {series.tag} in run {series.run}: no values recorded."
        else:
            top = float(positive.max())
            bottom = max(float(positive.min()), top * DYNAMIC_RANGE)
            norm = LogNorm(vmin=bottom, vmax=top)
            shown = np.ma.masked_where(~(grid.share > 0), grid.share)
            cmap = colormap(color)
            # pcolorfast draws the rectilinear grid as one image (~40 ms for 501 x 60 cells; pcolormesh ~65 ms).
            ax.pcolorfast(grid.step_edges, grid.value_edges, shown.T, cmap=cmap, norm=norm)
            colour_key(key, cmap, bottom, top)
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


def colour_key(key, cmap, low: float, high: float) -> None:
    """The log colour scale as a gradient on a log10 axis, ticked at `share_ticks` in percent.

    What `Figure.colorbar` draws, at a third of its cost (its norm and locator machinery, with
    mathtext labels, took a quarter of each heatmap's time).
    """
    lo, hi = np.log10(low), np.log10(high)
    if hi <= lo:  # a single share value: give the key some height
        lo, hi = lo - 0.5, hi + 0.5
    # LogNorm maps log(share) linearly onto the colour map, so a linear gradient in log10 matches it.
    key.imshow(np.linspace(0, 1, 256)[:, None], cmap=cmap, aspect="auto", origin="lower",
               extent=(0, 1, lo, hi), interpolation="nearest")
    ticks = share_ticks(low, high)
    key.set_xticks([])
    key.yaxis.tick_right()
    key.set_yticks(np.log10(ticks), [percent(t) for t in ticks])
    key.set_ylim(lo, hi)
    key.tick_params(labelsize=7)
    key.yaxis.set_label_position("right")
    key.set_ylabel("share of values in bin", fontsize=7.5)
    for side in ("left", "right", "top", "bottom"):
        key.spines[side].set_visible(True)
