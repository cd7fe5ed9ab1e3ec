"""TensorBoard's histogram dashboard: the "offset" (2.5-D stack) and "overlay" views.

`offset_layout` computes everything that is drawn (which steps, in which order, where, in which
colour) as plain data, so the behaviour can be tested without looking at pixels; `draw` only
paints that layout. The facts follow tensorboard/webapp/widgets/histogram/ (histogram_component.ts,
histogram_util.ts).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.ticker import MaxNLocator

from reportgen import histmath
from reportgen.charts import ChartJob
from reportgen.charts import color as colors
from reportgen.charts.encode import to_png
from reportgen.charts.kinds import MAX_OFFSET_STEPS
from reportgen.charts.reuse import POOL
from reportgen.charts.style import (
    OFFSET_SIZE,
    SINGLE_SIZE,
    no_data,
    note,
    one_axes,
    set_title,
    styled,
    text_width,
    value_axis,
)
from reportgen.model import HistogramSeries
from reportgen.numbers import sig4 as fmt

# TensorBoard: histogramHeight = content height / 2.5; the step axis takes the rest.
SLICE_HEIGHT = 1 / 2.5
OUTLINE_ALPHA = 0.5  # white outline of each offset slice


@dataclass(frozen=True)
class Slice:
    step: int
    color: str
    baseline: float  # y of the slice's zero line (offset: plot units 0..1; overlay: 0)
    xs: np.ndarray  # polygon x: first bin centre, every bin centre, last bin centre
    ys: np.ndarray  # polygon y: baseline, baseline + scaled count per bin, baseline
    counts: np.ndarray  # the re-binned counts of the step


@dataclass(frozen=True)
class OffsetLayout:
    mode: str  # offset | overlay
    slices: list[Slice]  # in draw order: oldest first (back/top), newest last (front/bottom)
    value_range: tuple[float, float]
    count_max: float  # shared count scale: largest re-binned count of any shown step
    total_steps: int  # steps in the series (shown or not)
    nonfinite_steps: int  # steps with NaN/Inf, whose non-finite buckets are not drawn

    @property
    def steps(self) -> list[int]:
        return [s.step for s in self.slices]

    def step_to_y(self, step: float) -> float:
        """Offset mode: where a step's baseline sits (proportional to the step)."""
        first, last = self.slices[0].step, self.slices[-1].step
        if last == first:
            return 0.0
        return (1 - SLICE_HEIGHT) * (last - step) / (last - first)


def chosen_steps(series: HistogramSeries, max_steps: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """At most `max_steps` of the steps whose buckets are kept, always the first and the last."""
    picks = histmath.sample_indices(len(series.kept), max(int(max_steps), 2))
    steps = series.steps[series.kept[picks]]
    buckets = [series.buckets[i] for i in picks]
    order = np.argsort(steps, kind="stable")
    return steps[order], [buckets[i] for i in order]


def offset_layout(series: HistogramSeries, color: str, max_steps: int = MAX_OFFSET_STEPS,
                  mode: str = "offset") -> OffsetLayout:
    steps, buckets = chosen_steps(series, max_steps)
    lo, hi = histmath.global_range(buckets)
    counts = list(histmath.rebin_steps(buckets, lo, hi))
    count_max = max((float(c.max()) for c in counts), default=0.0)
    centres = histmath.bin_centres(lo, hi)
    xs = np.concatenate(([centres[0]], centres, [centres[-1]]))
    first, last = (int(steps[0]), int(steps[-1])) if len(steps) else (0, 0)
    span = last - first
    positions = (steps - first) / span if span else np.full(len(steps), 0.5)
    ramp = colors.step_ramp(color, positions)
    scale = (SLICE_HEIGHT / count_max if mode == "offset" else 1.0) if count_max > 0 else 0.0
    slices = []
    for step, c, shade in zip(steps, counts, ramp):
        baseline = (1 - SLICE_HEIGHT) * (last - step) / span if (mode == "offset" and span) else 0.0
        ys = baseline + np.concatenate(([0.0], c * scale, [0.0]))
        slices.append(Slice(int(step), shade, float(baseline), xs, ys, c))
    return OffsetLayout(mode, slices, (lo, hi), count_max, len(series.steps), int(np.count_nonzero(series.nonfinite)))


def alt_text(layout: OffsetLayout, tag: str, run: str) -> str:
    view = "Offset" if layout.mode == "offset" else "Overlay"
    if not layout.slices or layout.count_max <= 0:
        return f"{view} histogram of {tag} in run {run}: no values recorded."
    lo, hi = layout.value_range
    text = (f"{view} histogram of {tag} in run {run}: {len(layout.slices)} of {layout.total_steps} steps shown, "
            f"steps {layout.steps[0]} to {layout.steps[-1]}, values {fmt(lo)} to {fmt(hi)}, "
            f"largest bin count {fmt(layout.count_max)}; the newest step is the darkest")
    text += ", at the front." if layout.mode == "offset" else "."
    if layout.nonfinite_steps:
        text += f" {layout.nonfinite_steps} steps contain NaN or Inf."
    return text


def figure_size(job: ChartJob) -> tuple[float, float]:
    """Inches: the offset view needs height for its depth."""
    return OFFSET_SIZE if job.kind == "offset" else SINGLE_SIZE


def draw_job(job: ChartJob) -> tuple[bytes, str]:
    """The offset or overlay chart (job.kind) of one histogram series."""
    return draw(job.data, job.color, job.title, MAX_OFFSET_STEPS if job.max_steps is None else job.max_steps, job.kind)


def draw(series: HistogramSeries, color: str, title: str, max_steps: int = MAX_OFFSET_STEPS,
         mode: str = "offset") -> tuple[bytes, str]:
    layout = offset_layout(series, color, max_steps, mode)
    empty = not layout.slices or layout.count_max <= 0
    size = OFFSET_SIZE if mode == "offset" else SINGLE_SIZE
    # The step (offset) or count (overlay) axis is on the right, as in TensorBoard.
    with styled(), POOL.reused((mode, empty), lambda: one_axes(size, left=0.25, right=0.7)) as fig:
        ax = fig.axes[0]
        shown = f"{len(layout.slices)} of {layout.total_steps} steps"
        # The title ends where the steps text at the top right begins (and the figure's right
        # margin, the step axis' labels, is not the title's).
        reserve = 0.7 + (0.0 if empty else text_width(shown, 7.5))
        set_title(ax, title, keep=series.tag, reserve=reserve)
        if empty:
            no_data(ax, "No values recorded (the count is 0 at every step shown)")
        elif mode == "offset":
            _paint_offset(ax, layout)
        else:
            _paint_overlay(ax, layout)
        if not empty:
            ax.set_xlim(*layout.value_range)
            value_axis(ax)
            ax.set_xlabel("value")
            ax.text(1.0, 1.01, shown, transform=ax.transAxes,
                    ha="right", va="bottom", fontsize=7.5, color="#666666")
        if layout.nonfinite_steps:
            note(ax, f"{layout.nonfinite_steps} steps contain NaN/Inf (not drawn)")
        png = to_png(fig)
    return png, alt_text(layout, series.tag, series.run)


def _paint_offset(ax, layout: OffsetLayout) -> None:
    # One collection, oldest first: each slice is painted over the older ones behind it, the
    # newest last and in front, as TensorBoard draws them (and 51 fills cost 5x more).
    ax.add_collection(PolyCollection([np.column_stack([s.xs, s.ys]) for s in layout.slices],
                                     facecolors=[s.color for s in layout.slices],
                                     edgecolors=(1, 1, 1, OUTLINE_ALPHA), linewidths=0.7, zorder=2))
    ax.set_ylim(0, 1.0)
    ax.spines["left"].set_visible(False)
    ax.spines["right"].set_visible(True)
    ax.spines["right"].set_bounds(0, 1 - SLICE_HEIGHT)  # the step axis spans the baselines only
    ax.yaxis.tick_right()
    ax.yaxis.set_label_position("right")
    ax.set_ylabel("step", y=(1 - SLICE_HEIGHT) / 2)
    first, last = layout.steps[0], layout.steps[-1]
    ticks = [t for t in MaxNLocator(nbins=6, integer=True).tick_values(first, last) if first <= t <= last]
    ticks = sorted(set(ticks) | {first, last})
    ticks = _drop_crowded(ticks, (last - first) / 14 if last > first else 1)
    ax.set_yticks([layout.step_to_y(t) for t in ticks], [str(int(t)) for t in ticks])
    ax.grid(axis="x", visible=True)


def _drop_crowded(ticks: list[float], gap: float) -> list[float]:
    """Keep the first and last tick; drop inner ticks closer than `gap` to a kept one."""
    kept = [ticks[0]]
    for t in ticks[1:-1]:
        if t - kept[-1] >= gap and ticks[-1] - t >= gap:
            kept.append(t)
    if ticks[-1] != kept[-1]:
        kept.append(ticks[-1])
    return kept


def _paint_overlay(ax, layout: OffsetLayout) -> None:
    ax.add_collection(LineCollection([np.column_stack([s.xs, s.ys]) for s in layout.slices],
                                     colors=[s.color for s in layout.slices], linewidths=1.0, alpha=0.8, zorder=2))
    ax.set_ylim(0, layout.count_max * 1.05)
    ax.spines["left"].set_visible(False)
    ax.spines["right"].set_visible(True)
    ax.yaxis.tick_right()
    ax.yaxis.set_label_position("right")
    ax.set_ylabel("count per bin")
    ax.grid(axis="y", visible=True)
