"""TensorBoard's distributions dashboard, and its multi-run comparison.

The nine lines per step are `series.quantiles`, the values at TensorBoard's basis points
(min, -1.5σ, -1σ, -0.5σ, median, +0.5σ, +1σ, +1.5σ, max of a normal), computed for every step
as tensorboard/plugins/distribution/compressor.py does. The eight bands between them are filled
in the run colour, darker towards the middle.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib
import numpy as np

from reportgen import histmath
from reportgen.charts import ChartJob
from reportgen.charts.encode import to_png
from reportgen.charts.kinds import MAX_DISTRIBUTION_STEPS
from reportgen.charts.reuse import POOL
from reportgen.charts.style import (
    LEGEND_SIZE,
    SINGLE_SIZE,
    fit_names,
    no_data,
    note,
    one_axes,
    set_title,
    step_axis,
    styled,
)
from reportgen.model import HistogramSeries
from reportgen.numbers import sig4 as fmt

# TensorBoard's band opacities, outer to inner, mirrored around the median.
BAND_OPACITIES = (0.09, 0.54, 0.60, 0.77, 0.77, 0.60, 0.54, 0.09)
LEGEND_COLUMNS = 4  # runs per legend row in comparison charts


@dataclass(frozen=True)
class Bands:
    steps: np.ndarray  # (k,) shown steps, ascending, first and last always included
    quantiles: np.ndarray  # (k, 9) values at histmath.BASIS_POINTS
    total_steps: int
    empty_steps: int  # shown steps with count 0 (drawn as a gap)
    nonfinite_steps: int


def distribution_bands(series: HistogramSeries, max_steps: int = MAX_DISTRIBUTION_STEPS) -> Bands:
    picks = histmath.sample_indices(len(series.steps), max(int(max_steps), 2))
    q = np.array(series.quantiles[picks], dtype=float)
    finite_q = np.isfinite(q).all(axis=1)
    q[~finite_q] = np.nan  # a step that cannot be placed is a gap, not a spike
    empty = int(np.count_nonzero(~(series.count[picks] > 0)))
    return Bands(series.steps[picks], q, len(series.steps), empty, int(np.count_nonzero(series.nonfinite)))


def _xs(steps: np.ndarray) -> np.ndarray:
    # A single step has no width to fill; give it a narrow one so it shows as a bar.
    return np.array([steps[0] - 0.4, steps[0] + 0.4]) if len(steps) == 1 else steps.astype(float)


def _ys(values: np.ndarray, single: bool) -> np.ndarray:
    return np.repeat(values, 2) if single else values


def paint_bands(ax, bands: Bands, color: str) -> None:
    single = len(bands.steps) == 1
    xs = _xs(bands.steps)
    for i, opacity in enumerate(BAND_OPACITIES):
        ax.fill_between(xs, _ys(bands.quantiles[:, i], single), _ys(bands.quantiles[:, i + 1], single),
                        facecolor=color, alpha=opacity, linewidth=0, zorder=2)
    # Not in TensorBoard: a median line, so a series whose spread is zero (all values equal at
    # each step) still shows where it is instead of an empty chart.
    ax.plot(xs, _ys(bands.quantiles[:, 4], single), color=color, linewidth=0.9, zorder=3)
    ax.set_xlim(xs[0], xs[-1])
    ax.grid(visible=True)
    step_axis(ax)


def alt_text(bands: Bands, tag: str, run: str) -> str:
    finite = bands.quantiles[np.isfinite(bands.quantiles).all(axis=1)]
    if not finite.size:
        return f"Distribution of {tag} in run {run}: no values recorded."
    text = (f"Distribution of {tag} in run {run} over {len(bands.steps)} of {bands.total_steps} steps "
            f"({bands.steps[0]} to {bands.steps[-1]}): at the last step shown the median is "
            f"{fmt(bands.quantiles[-1, 4])}, the middle 68% lies between {fmt(bands.quantiles[-1, 2])} and "
            f"{fmt(bands.quantiles[-1, 6])}, min {fmt(bands.quantiles[-1, 0])}, max {fmt(bands.quantiles[-1, 8])}.")
    if bands.nonfinite_steps:
        text += f" {bands.nonfinite_steps} steps contain NaN or Inf."
    return text


def draw_job(job: ChartJob) -> tuple[bytes, str]:
    """The distribution chart of one histogram series."""
    return draw(job.data, job.color, job.title, MAX_DISTRIBUTION_STEPS if job.max_steps is None else job.max_steps)


def draw(series: HistogramSeries, color: str, title: str, max_steps: int = MAX_DISTRIBUTION_STEPS) -> tuple[bytes, str]:
    bands = distribution_bands(series, max_steps)
    empty = not np.isfinite(bands.quantiles).all(axis=1).any()
    with styled(), POOL.reused(("distribution", empty), lambda: one_axes(SINGLE_SIZE)) as fig:
        ax = fig.axes[0]
        set_title(ax, title, keep=series.tag)
        if empty:
            no_data(ax, "No values recorded (the count is 0 at every step)")
        else:
            paint_bands(ax, bands, color)
            ax.set_xlabel("step")
            ax.set_ylabel("value")
            notes = []
            if bands.empty_steps:
                notes.append(f"{bands.empty_steps} steps with no values (gaps)")
            if bands.nonfinite_steps:
                notes.append(f"{bands.nonfinite_steps} steps contain NaN/Inf")
            if notes:
                note(ax, "; ".join(notes))
        png = to_png(fig)
    return png, alt_text(bands, series.tag, series.run)


def legend_above_the_bands(ax, title: str) -> None:
    """The legend in the upper right, in rows of up to four runs, with the y range raised to
    leave it a strip of its own: the bands fill the whole plot, so there is no free corner for
    Matplotlib's "best" placement to find, and a legend over the bands hides them."""
    entries = len([line for line in ax.lines if not line.get_label().startswith("_")])
    columns = min(entries, LEGEND_COLUMNS)
    lines = 1 + -(-entries // columns)  # the title, then the rows of runs
    plot_height_points = ax.bbox.height / ax.figure.dpi * 72
    text_points = matplotlib.rcParams["legend.fontsize"]  # the style's, as is the title's below
    strip = (lines * text_points * 1.45 + 6) / plot_height_points  # the text, its line spacing and a gap
    low, high = ax.get_ylim()
    ax.set_ylim(low, high + (high - low) * strip / (1 - strip))
    ax.legend(loc="upper right", ncols=columns, frameon=False, title=title, title_fontsize=text_points,
              borderaxespad=0.3, columnspacing=1.2, handlelength=1.8)


def draw_compare(series_list: list[HistogramSeries], color_list: list[str], title: str,
                 max_steps: int = MAX_DISTRIBUTION_STEPS, runs: list[str] | None = None) -> tuple[bytes, str]:
    """One tag in several runs: each run's median line and its ±1σ band (basis points 1587..8413)."""
    with styled(), POOL.reused("distribution compare", lambda: one_axes(SINGLE_SIZE)) as fig:
        ax = fig.axes[0]
        set_title(ax, title, keep=series_list[0].tag if series_list else "")
        described = []
        names = runs or [s.run for s in series_list]
        columns = max(1, min(len(names), LEGEND_COLUMNS))
        entry = ax.get_position().width * fig.get_figwidth() / columns - 0.3  # inches of text per legend column
        labels = dict(zip(names, fit_names([name or "." for name in names], entry, LEGEND_SIZE)))
        for series, color, name in zip(series_list, color_list, names):
            bands = distribution_bands(series, max_steps)
            ok = np.isfinite(bands.quantiles).all(axis=1)
            if not ok.any():
                described.append(f"{name}: no values")
                continue
            single = len(bands.steps) == 1
            xs = _xs(bands.steps)
            low, high = _ys(bands.quantiles[:, 2], single), _ys(bands.quantiles[:, 6], single)
            ax.fill_between(xs, low, high, facecolor=color, alpha=0.18, linewidth=0, zorder=2)
            # Band edges in the run's colour: where two translucent bands overlap their colours
            # mix (orange over blue reads as grey), so the edges say whose band is whose.
            for edge in (low, high):
                ax.plot(xs, edge, color=color, linewidth=0.8, alpha=0.9, linestyle="--", zorder=3)
            ax.plot(xs, _ys(bands.quantiles[:, 4], single), color=color, linewidth=1.4, zorder=4,
                    label=labels[name])
            described.append(f"{name}: last median {fmt(bands.quantiles[-1, 4])}")
        if ax.lines:
            ax.set_xlabel("step")
            step_axis(ax)
            ax.set_ylabel("value")
            ax.grid(visible=True)
            legend_above_the_bands(ax, "run: median and ±1σ band")
        else:
            no_data(ax, "No values recorded in any run")
        png = to_png(fig)
    tag = series_list[0].tag if series_list else ""
    what = f"Comparison of {tag} across {len(series_list)} runs (median and ±1σ band per run): "
    return png, what + "; ".join(described) + "."
