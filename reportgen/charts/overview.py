"""A run at a glance: every layer's weights at the first and the last step, one small panel per
layer in depth order, so "moved / did not move" shows without reading a number.

Each panel overlays the first step's distribution (light, dashed) and the last step's (the run's
colour, solid), as densities on the layer's own value axis; the panel's title gives the layer
and how far its weights moved (share of their initial spread). Layers that carry a finding are
marked with a red title and a triangle. Drawn after the diagnosis (it needs the findings).
"""

from __future__ import annotations

import numpy as np

from reportgen import histmath
from reportgen.charts import ChartJob
from reportgen.charts.encode import to_png
from reportgen.charts.style import EDGE, WIDE, fit, new_figure, panel_grid, styled
from reportgen.model import HistogramSeries
from reportgen.numbers import pct

COLUMNS = 4  # panels per row: 12 layers fit one A4 page with the run's text
PANEL_HEIGHT = 1.15  # inches
FIRST_COLOR = "#9aa0a6"
MARK_COLOR = "#c62828"
BINS = 40


def _density(series: HistogramSeries, position: int, lo: float, hi: float) -> np.ndarray:
    """The share of values in each of BINS bins of [lo, hi] at a kept step (`position` in
    series.kept, as series.buckets is indexed: not the step's index in series.steps)."""
    rows = series.buckets[position]
    counts = histmath.rebin(np.asarray(rows), lo, hi, BINS) if len(rows) else np.zeros(BINS)
    total = counts.sum()
    return counts / total if total > 0 else counts


def _range(series: HistogramSeries) -> tuple[float, float]:
    """The value range of the first and last kept steps together (finite only)."""
    i0, i1 = int(series.kept[0]), int(series.kept[-1])
    values = np.array([series.min[i0], series.max[i0], series.min[i1], series.max[i1]], dtype=float)
    values = values[np.isfinite(values)]
    if not values.size:
        return 0.0, 1.0
    lo, hi = float(values.min()), float(values.max())
    return (lo - 0.5, hi + 0.5) if hi <= lo else (lo, hi)


def _panels(job: ChartJob) -> list[HistogramSeries]:
    """One panel per layer whose weights kept any step."""
    return [s for s in job.data if len(s.kept)]


def grid(job: ChartJob) -> tuple[int, int]:
    """Rows and columns of the panels."""
    return panel_grid(len(_panels(job)), COLUMNS)


def figure_size(job: ChartJob) -> tuple[float, float]:
    return WIDE, PANEL_HEIGHT * grid(job)[0] + 0.45


def draw_job(job: ChartJob) -> tuple[bytes, str]:
    """job.data: the weight series, one per layer, in depth order; job.tag_kinds: layer -> the
    text of its title ("1.2%"); job.runs: the layers that carry a finding."""
    series_list = _panels(job)
    names = list(job.tag_kinds)
    marked = set(job.runs)
    rows, columns = grid(job)
    described = []
    with styled():
        fig = new_figure(figure_size(job), left=0.2, right=0.12, top=0.45, bottom=0.3,
                         wspace=0.12, hspace=0.75)
        axes = fig.subplots(rows, columns, squeeze=False).ravel()
        heading = fit(job.title, WIDE * 0.99 - EDGE, 8.5, True, keep=job.title.split(" (")[0])
        fig.suptitle(heading, x=0.01, ha="left", fontsize=8.5, fontweight="bold")
        for ax in axes[len(series_list):]:
            ax.set_visible(False)
        for ax, series, name in zip(axes, series_list, names):
            lo, hi = _range(series)
            centres = np.linspace(lo, hi, BINS + 1)[:-1] + (hi - lo) / BINS / 2
            first = _density(series, 0, lo, hi)
            last = _density(series, -1, lo, hi)
            ax.fill_between(centres, first, color=FIRST_COLOR, alpha=0.25, linewidth=0)
            ax.plot(centres, first, color=FIRST_COLOR, linewidth=1.0, linestyle="--")
            ax.plot(centres, last, color=job.color, linewidth=1.4)
            flagged = name in marked
            words = ("▲ " if flagged else "") + f"{name}  {job.tag_kinds[name]}"
            ax.set_title(fit(words, ax.get_position().width * WIDE, 7, flagged), fontsize=7, loc="left",
                         color=MARK_COLOR if flagged else "#222222", fontweight="bold" if flagged else "normal")
            ax.set_yticks([])
            ax.tick_params(labelsize=6)
            ax.locator_params(axis="x", nbins=3)
            for side in ("top", "right", "left"):
                ax.spines[side].set_visible(False)
            described.append(f"{name} {job.tag_kinds[name]}{' (finding)' if flagged else ''}")
        png = to_png(fig)
    alt = (f"{job.title}: first step (grey, dashed) against last step ({len(series_list)} layers): "
           + "; ".join(described))
    return png, alt


def moved_words(change: float) -> str:
    """A panel title's number: how far the layer's weights moved."""
    return f"moved {pct(change)}" if np.isfinite(change) else "non-finite"
