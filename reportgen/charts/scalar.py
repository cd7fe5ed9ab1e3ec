"""Scalar line charts with TensorBoard's default smoothing drawn over the faint raw series.

NaN and Inf values are not dropped silently: each is marked with a red x at the top (NaN, +Inf)
or bottom (-Inf) edge of the plot, and a note says how many there are.
"""

from __future__ import annotations

import numpy as np

from reportgen.charts import ChartJob
from reportgen.charts.encode import to_png
from reportgen.charts.reuse import POOL
from reportgen.charts.style import (
    LEGEND_SIZE,
    NOTE_COLOR,
    SINGLE_SIZE,
    fit_names,
    no_data,
    note,
    one_axes,
    set_title,
    step_axis,
    styled,
)
from reportgen.model import ScalarSeries
from reportgen.numbers import sig4 as fmt
from reportgen.smoothing import SMOOTHING, smooth

RAW_ALPHA = 0.4  # TensorBoard draws the raw series faint behind the smoothed one (0.3 vanished in print)
LINE_STYLES = ("-", "--", ":", "-.")  # runs compared on one chart: coinciding lines stay apart
# A series whose values differ by less than this fraction of their size differs only by float32
# rounding (its machine epsilon is 1.2e-7: this is about 8 steps of the last digit).
ROUNDING_NOISE = 1e-6


def _mark_nonfinite(ax, steps: np.ndarray, values: np.ndarray) -> int:
    bad = ~np.isfinite(values)
    if not bad.any():
        return 0
    low = bad & (values == -np.inf)
    high = bad & ~low
    transform = ax.get_xaxis_transform()  # x in data, y in axes fraction
    for mask, y in ((high, 1.0), (low, 0.0)):
        if mask.any():
            ax.scatter(steps[mask], np.full(mask.sum(), y), transform=transform, marker="x", color=NOTE_COLOR,
                       s=22, linewidths=1.2, clip_on=False, zorder=10)
    return int(bad.sum())


def flatten_rounding_noise(ax, values: np.ndarray) -> list[str]:
    """For a series that is constant but for rounding, a y range of +-0.1% around it and the note
    that says so; otherwise nothing. Scaled to fill the plot, 1e-8 of noise on 0.3333 looked
    like a wild swing, labelled with an offset ("1e-8+3.333333e-1") that nobody can read."""
    if not values.size:
        return []
    low, high = float(values.min()), float(values.max())
    size = max(abs(low), abs(high))
    if not 0 < high - low <= ROUNDING_NOISE * size:
        return []
    middle = (low + high) / 2
    ax.set_ylim(middle - size * 1e-3, middle + size * 1e-3)
    return [f"constant but for rounding: {low:.9g} to {high:.9g}"]


def _nonfinite_note(values: np.ndarray) -> str:
    nan = int(np.isnan(values).sum())
    pos = int((values == np.inf).sum())
    neg = int((values == -np.inf).sum())
    parts = [f"{n} {name}" for n, name in ((nan, "NaN"), (pos, "+Inf"), (neg, "-Inf")) if n]
    return "marked x: " + ", ".join(parts)


def draw_job(job: ChartJob) -> tuple[bytes, str]:
    """The line chart of one scalar series."""
    return draw(job.data, job.color, job.title)


def draw(series: ScalarSeries, color: str, title: str, smoothing: float = SMOOTHING) -> tuple[bytes, str]:
    steps, values = series.steps, series.values
    finite = np.isfinite(values)
    with styled(), POOL.reused(("scalar", not len(values)), lambda: one_axes(SINGLE_SIZE)) as fig:
        ax = fig.axes[0]
        set_title(ax, title, keep=series.tag)
        if not len(values):
            no_data(ax, "No values recorded")
        else:
            smoothed = smooth(values, smoothing)
            marker = "o" if len(values) <= 30 else None
            ax.plot(steps[finite], values[finite], color=color, alpha=RAW_ALPHA, linewidth=1.0, marker=marker,
                    markersize=2.5, label="raw", zorder=2)
            ax.plot(steps[finite], smoothed[finite], color=color, linewidth=1.6, label=f"smoothed ({smoothing})",
                    zorder=3)
            if not finite.any():
                ax.set_yticks([])
            if len(steps) == 1:
                ax.set_xlim(steps[0] - 1, steps[0] + 1)
            ax.set_xlabel("step")
            step_axis(ax)
            ax.set_ylabel("value")
            ax.grid(visible=True)
            ax.legend(loc="best", frameon=False)
            notes = [_nonfinite_note(values)] if _mark_nonfinite(ax, steps, values) else []
            notes += flatten_rounding_noise(ax, values[finite])
            if notes:
                note(ax, "; ".join(notes))
        png = to_png(fig)
    return png, alt_text(series, smoothing)


def legend_width(ax, columns: int = 1) -> float:
    """Inches a legend entry's text may take: a legend of two such entries still leaves most of
    the plot free for `loc="best"` to find a place."""
    width = ax.get_position().width * ax.get_figure().get_figwidth()
    return 0.55 * width / columns - 0.3  # the line sample and the padding beside the text


def alt_text(series: ScalarSeries, smoothing: float = SMOOTHING) -> str:
    values = series.values
    if not len(values):
        return f"Scalar {series.tag} in run {series.run}: no values recorded."
    finite = values[np.isfinite(values)]
    text = (f"Scalar {series.tag} in run {series.run}: {len(values)} points, "
            f"steps {series.steps[0]} to {series.steps[-1]}")
    if finite.size:
        text += (f", first {fmt(values[0])}, last {fmt(values[-1])}, range {fmt(finite.min())} to {fmt(finite.max())}"
                 f"; smoothed with weight {smoothing}")
    if finite.size < len(values):
        text += f"; {len(values) - finite.size} NaN/Inf values marked"
    return text + "."


def draw_compare(series_list: list[ScalarSeries], color_list: list[str], title: str,
                 smoothing: float = SMOOTHING, runs: list[str] | None = None) -> tuple[bytes, str]:
    """One scalar tag in several runs: each run's smoothed line over its faint raw line."""
    with styled(), POOL.reused("scalar compare", lambda: one_axes(SINGLE_SIZE)) as fig:
        ax = fig.axes[0]
        tag = series_list[0].tag if series_list else ""
        set_title(ax, title, keep=tag)
        marked = 0
        names = runs or [s.run for s in series_list]
        labels = fit_names([name or "." for name in names], legend_width(ax), LEGEND_SIZE)
        for i, (series, color, name) in enumerate(zip(series_list, color_list, labels)):
            finite = np.isfinite(series.values)
            ax.plot(series.steps[finite], series.values[finite], color=color, alpha=RAW_ALPHA, linewidth=1.0, zorder=2)
            ax.plot(series.steps[finite], smooth(series.values, smoothing)[finite], color=color, linewidth=1.6,
                    label=name, zorder=3,
                    linestyle=LINE_STYLES[i % len(LINE_STYLES)])
            marked += _mark_nonfinite(ax, series.steps, series.values)
        ax.set_xlabel("step")
        step_axis(ax)
        ax.set_ylabel("value")
        ax.grid(visible=True)
        ax.legend(loc="best", frameon=False, title=f"run (smoothed {smoothing})", title_fontsize=7.5)
        notes = [f"{marked} NaN/Inf values marked x"] if marked else []
        every = [s.values[np.isfinite(s.values)] for s in series_list]
        notes += flatten_rounding_noise(ax, np.concatenate(every) if every else np.zeros(0))
        if notes:
            note(ax, "; ".join(notes))
        png = to_png(fig)
    tag = series_list[0].tag if series_list else ""
    names = runs or [s.run for s in series_list]
    parts = [f"{n}: last {fmt(s.values[-1])}" for n, s in zip(names, series_list) if len(s.values)]
    return png, f"Comparison of scalar {tag} across {len(series_list)} runs: " + "; ".join(parts) + "."
