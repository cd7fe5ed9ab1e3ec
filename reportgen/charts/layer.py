"""One layer's histograms (weights, bias, pre-activations, activations, gradients) side by side.

Each panel is a distribution chart of one tag; all panels share the step axis, so a change at
one step can be followed across the layer's quantities.
"""

from __future__ import annotations

import os

import numpy as np

from reportgen.charts import ChartJob, distribution
from reportgen.charts.encode import to_png
from reportgen.charts.kinds import MAX_DISTRIBUTION_STEPS
from reportgen.charts.reuse import POOL
from reportgen.charts.style import (
    EDGE,
    ROW_HEIGHT,
    TITLE_SIZE,
    WIDE,
    fit,
    new_figure,
    no_data,
    panel_grid,
    step_axis,
    styled,
)
from reportgen.model import TAG_KINDS, HistogramSeries
from reportgen.numbers import sig4 as fmt

PANELS_PER_ROW = 4  # more panels than this wrap to a second row, to stay readable on A4


def ordered(series_list: list[HistogramSeries], kinds: dict[str, str]) -> list[HistogramSeries]:
    """The layer's series in the order of model.TAG_KINDS (what the layer holds, then what flows
    through it, then its gradients); tags of an unknown kind last."""
    def rank(s: HistogramSeries) -> int:
        kind = kinds.get(s.tag, "other")
        return TAG_KINDS.index(kind) if kind in TAG_KINDS else len(TAG_KINDS)
    return sorted(series_list, key=rank)


def shared_prefix(tags: list[str]) -> str:
    """The scope all tags share, up to and including its last '/' or '.' ("fc1." of fc1.weight, fc1.bias)."""
    if len(tags) < 2:
        return ""
    common = os.path.commonprefix(tags)
    cut = max(common.rfind("/"), common.rfind("."))
    return common[: cut + 1] if cut >= 0 and all(len(t) > cut + 1 for t in tags) else ""


def grid(panels: int) -> tuple[int, int]:
    """Rows and columns of a layer row of this many panels."""
    return panel_grid(panels, PANELS_PER_ROW)


def figure_size(job: ChartJob) -> tuple[float, float]:
    return _size(grid(len(job.data))[0])


def _size(rows: int) -> tuple[float, float]:
    return WIDE, ROW_HEIGHT * rows + 0.3


def _figure(rows: int, columns: int):
    fig = new_figure(_size(rows), left=0.62, right=0.22, top=0.62, bottom=0.4,
                     wspace=0.5, hspace=0.62)  # room for the row title and each panel's own
    fig.subplots(rows, columns, sharex=True, squeeze=False)
    return fig


def draw_job(job: ChartJob) -> tuple[bytes, str]:
    """The row of distribution panels of one layer's histograms."""
    return draw(job.data, job.color, job.title, job.tag_kinds,
                MAX_DISTRIBUTION_STEPS if job.max_steps is None else job.max_steps)


def draw(series_list: list[HistogramSeries], color: str, title: str, kinds: dict[str, str] | None = None,
         max_steps: int = MAX_DISTRIBUTION_STEPS) -> tuple[bytes, str]:
    kinds = kinds or {}
    panels = ordered(series_list, kinds)
    rows, columns = grid(len(panels))
    described = []
    bands_list = [distribution.distribution_bands(series, max_steps) for series in panels]
    drawn = tuple(bool(np.isfinite(b.quantiles).all(axis=1).any()) for b in bands_list)
    with styled(), POOL.reused(("layer", rows, columns, drawn), lambda: _figure(rows, columns)) as fig:
        axes = fig.axes
        fig.suptitle(fit(title, WIDE * 0.98 - EDGE, 9.5, True, keep=title.split(" (")[0]), x=0.01, ha="left",
                     fontsize=9.5, fontweight="bold")
        prefix = shared_prefix([s.tag for s in panels])  # the layer's name, already in the row's title
        # Inches a panel's title may take: its panel and half the gap to the next one (the rest
        # of the gap holds the next panel's tick labels).
        panel = axes[0].get_position().width * WIDE * (1 + 0.5 * fig.subplotpars.wspace)
        for ax, series, bands, has_values in zip(axes, panels, bands_list, drawn):
            kind = kinds.get(series.tag, "")
            name = series.tag[len(prefix):]
            if not kind or kind == "other":
                label = series.tag
            elif (name.lower() in kind.lower() or kind.lower() in name.lower()
                  or list(kinds.values()).count(kind) == 1):
                label = kind  # "pre-activations", not "pre-activations: layer" (TF1's layer1/layer)
            else:
                label = f"{kind}: {name}"
            ax.set_title(fit(label, panel, TITLE_SIZE), fontsize=TITLE_SIZE, fontweight="normal", loc="left")
            if has_values:
                distribution.paint_bands(ax, bands, color)
                described.append(f"{series.tag} median {fmt(bands.quantiles[-1, 4])} at step {bands.steps[-1]}")
            else:
                no_data(ax, "no values")
                described.append(f"{series.tag} has no values")
            ax.tick_params(labelsize=6.5)
            ax.set_xlabel("step", fontsize=7)
            step_axis(ax, max_ticks=4)  # narrow panels: long step numbers must not run together
        firsts = [s.steps[0] for s in panels if len(s.steps)]
        lasts = [s.steps[-1] for s in panels if len(s.steps)]
        if firsts and min(firsts) < max(lasts):
            axes[0].set_xlim(min(firsts), max(lasts))  # shared: one range for every panel
        axes[0].set_ylabel("value", fontsize=7)
        for ax in axes[len(panels):]:
            ax.set_visible(False)
        png = to_png(fig)
    run = series_list[0].run if series_list else ""
    return png, (f"Distributions of the {len(panels)} histograms of one layer in run {run}, side by side on a shared "
                 "step axis: " + "; ".join(described) + ".")
