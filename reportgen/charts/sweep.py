"""A sweep's two charts: a seed group's curve as the mean over its seeds with their range, and
the sweep's metric against one hyperparameter, a point per run.

Jobs carry plain data (sweeps.Band; MetricPoints), so this module needs no diagnosis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from reportgen.charts import ChartJob
from reportgen.charts.encode import to_png
from reportgen.charts.style import SINGLE_SIZE, no_data, one_axes, set_title, shorten, step_axis, styled
from reportgen.numbers import sig4
from reportgen.sweeps import Band

BAND_ALPHA = 0.25  # the min-max range under the mean line: light enough to read the line through it
BEST_COLOR = "#b00020"
# A hyperparameter whose positive values span this factor or more is drawn on a log axis (a
# learning-rate grid 1e-4..1e-1 spans 1000x; a width grid 8..64 only 8x and stays linear).
LOG_AXIS_SPAN = 30.0


@dataclass(frozen=True)
class MetricPoints:
    """The sweep's metric at the end of each run against one hyperparameter's value."""

    hparam: str
    metric: str
    higher_is_better: bool
    values: list[float]  # the hyperparameter, per run
    ends: list[float]  # the metric at the end, per run
    runs: list[str]
    best_run: str | None


def draw_job(job: ChartJob) -> tuple[bytes, str]:
    if isinstance(job.data, Band):
        return draw_band(job.data, job.color, job.title, job.runs)
    return draw_points(job.data, job.color, job.title)


def draw_band(band: Band, color: str, title: str, runs: list[str]) -> tuple[bytes, str]:
    """The group's smoothed curve: mean over the seeds (line) and their min-max range (band)."""
    with styled():
        fig = one_axes(SINGLE_SIZE)
        ax = fig.axes[0]
        set_title(ax, title)
        finite = np.isfinite(band.mean) & np.isfinite(band.low) & np.isfinite(band.high)
        if not finite.any():
            no_data(ax, "No finite values")
        else:
            steps = band.steps[finite]
            ax.fill_between(steps, band.low[finite], band.high[finite], color=color, alpha=BAND_ALPHA, linewidth=0,
                            label=f"min to max of {len(runs)} seeds")
            ax.plot(steps, band.mean[finite], color=color, linewidth=1.6, label=f"mean (smoothed {band.smoothing})")
            ax.set_xlabel("step")
            step_axis(ax)
            ax.set_ylabel(shorten(band.tag, 28))
            ax.grid(visible=True)
            ax.legend(loc="best", frameon=False)
        png = to_png(fig)
    return png, band_alt(band, runs)


def band_alt(band: Band, runs: list[str]) -> str:
    finite = np.flatnonzero(np.isfinite(band.mean))
    if not finite.size:
        return f"{band.tag} over {len(runs)} seeds: no finite values."
    last = finite[-1]
    return (f"{band.tag} over {len(runs)} seeds ({', '.join(runs)}), smoothed with weight {band.smoothing}: "
            f"at step {int(band.steps[last])} the mean is {sig4(band.mean[last])}, the seeds range from "
            f"{sig4(band.low[last])} to {sig4(band.high[last])}.")


def log_axis(values: list[float]) -> bool:
    positive = [v for v in values if v > 0]
    return len(positive) == len(values) and len(values) > 1 and max(positive) / min(positive) >= LOG_AXIS_SPAN


def draw_points(points: MetricPoints, color: str, title: str) -> tuple[bytes, str]:
    """A point per run; the line through each value's mean; the best run ringed."""
    with styled():
        fig = one_axes(SINGLE_SIZE)
        ax = fig.axes[0]
        set_title(ax, title)
        pairs = [(x, y, r) for x, y, r in zip(points.values, points.ends, points.runs) if math.isfinite(y)]
        if not pairs:
            no_data(ax, "No run has a finite value")
        else:
            xs = np.array([x for x, _, _ in pairs], dtype=float)
            ys = np.array([y for _, y, _ in pairs], dtype=float)
            ax.scatter(xs, ys, s=14, color=color, alpha=0.7, zorder=3, label="a run")
            levels = sorted(set(xs.tolist()))
            means = [float(ys[xs == level].mean()) for level in levels]
            ax.plot(levels, means, color=color, linewidth=1.2, zorder=2, label="mean at each value")
            best = [(x, y) for x, y, r in pairs if r == points.best_run]
            if best:
                ax.scatter([x for x, _ in best], [y for _, y in best],
                           s=60, facecolors="none", edgecolors=BEST_COLOR, linewidths=1.3, zorder=4,
                           label="best run")
            if log_axis(points.values):
                ax.set_xscale("log")
            ax.set_xlabel(shorten(points.hparam, 40))
            ax.set_ylabel(shorten(points.metric, 28) + (" (higher better)" if points.higher_is_better else ""))
            ax.grid(visible=True)
            ax.legend(loc="best", frameon=False)
        png = to_png(fig)
    return png, points_alt(points)


def points_alt(points: MetricPoints) -> str:
    by_value: dict[float, list[float]] = {}
    for x, y in zip(points.values, points.ends):
        if math.isfinite(y):
            by_value.setdefault(x, []).append(y)
    if not by_value:
        return f"{points.metric} against {points.hparam}: no run has a finite value."
    parts = [f"{sig4(x)}: {sig4(float(np.mean(ys)))} ({len(ys)} run{'s' if len(ys) > 1 else ''})"
             for x, ys in sorted(by_value.items())]
    best = f"; best run {points.best_run}" if points.best_run else ""
    return f"{points.metric} at the end against {points.hparam}, mean per value: " + ", ".join(parts) + best + "."
