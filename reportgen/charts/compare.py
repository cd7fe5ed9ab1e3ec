"""One tag in several runs: the scalar curves, or the histograms' last steps overlaid.

Histograms are compared where the runs ended: each run's last-step distribution as a density
line in its colour and its own line style, so that coinciding runs stay readable (translucent
bands over each other blended into a grey nobody could read).
"""

from __future__ import annotations

import numpy as np

from reportgen import histmath
from reportgen.charts import ChartJob, scalar
from reportgen.charts.encode import to_png
from reportgen.charts.reuse import POOL
from reportgen.charts.scalar import LINE_STYLES, legend_width
from reportgen.charts.style import LEGEND_SIZE, SINGLE_SIZE, fit_names, no_data, one_axes, set_title, styled, text_width
from reportgen.model import HistogramSeries, ScalarSeries
from reportgen.numbers import sig4 as fmt

BINS = 60
LEGEND_ROW = 0.115  # a legend row's share of the plot's height at SINGLE_SIZE, padding included (measured:
# a title and two runs take 0.344 of it)
LEGEND_PAD = 0.05  # its distance from the plot's top edge, and a gap above the highest peak


def draw_job(job: ChartJob) -> tuple[bytes, str]:
    runs = job.runs or None
    if job.data and isinstance(job.data[0], ScalarSeries):
        return scalar.draw_compare(job.data, job.color, job.title, runs=runs)
    return draw_last_steps(job.data, job.color, job.title, runs)


def draw_last_steps(series_list: list[HistogramSeries], colors: list[str], title: str,
                    runs: list[str] | None = None) -> tuple[bytes, str]:
    names = runs or [s.run for s in series_list]
    usable = [(s, c, n) for s, c, n in zip(series_list, colors, names) if len(s.kept)]
    ends = [(float(s.min[int(s.kept[-1])]), float(s.max[int(s.kept[-1])])) for s, _, _ in usable]
    ends = [e for e in ends if np.isfinite(e).all()]
    with styled(), POOL.reused("histogram compare", lambda: one_axes(SINGLE_SIZE)) as fig:
        ax = fig.axes[0]
        set_title(ax, title, keep=series_list[0].tag if series_list else "")
        described = []
        widest = max((f" (step {int(s.steps[int(s.kept[-1])])})" for s, _, _ in usable), key=len, default="")
        room = legend_width(ax) - text_width(widest, LEGEND_SIZE)
        short = fit_names([name or "." for _, _, name in usable], room, LEGEND_SIZE)
        if ends:
            lo, hi = min(e[0] for e in ends), max(e[1] for e in ends)
            lo, hi = (lo - 0.5, hi + 0.5) if hi <= lo else (lo, hi)
            centres = np.linspace(lo, hi, BINS + 1)[:-1] + (hi - lo) / BINS / 2
            for i, ((series, color, name), label_name) in enumerate(zip(usable, short)):
                last = int(series.kept[-1])
                counts = histmath.rebin(np.asarray(series.buckets[-1]), lo, hi, BINS)
                total = counts.sum()
                if total <= 0:
                    continue
                at = f" (step {int(series.steps[last])})"
                label = label_name + at
                ax.plot(centres, counts / total, color=color, linewidth=1.5,
                        linestyle=LINE_STYLES[i % len(LINE_STYLES)], label=label)
                described.append(f"{name}: median {fmt(series.quantiles[last][4])} at step {int(series.steps[last])}")
        if ax.lines:
            peak = max(float(np.max(line.get_ydata())) for line in ax.lines)
            # Room above the curves for the legend (its title and a row per run): the curves'
            # peaks are where "best" would otherwise still put it, over a run's line.
            rows = len(ax.lines) + 1
            ax.set_ylim(0, peak / max(1 - LEGEND_ROW * rows - LEGEND_PAD, 0.4))
            ax.set_xlabel("value")
            ax.set_ylabel("share of values")
            ax.grid(visible=True)
            ax.legend(loc="best", frameon=False, title="run, last step", title_fontsize=7.5)
        else:
            no_data(ax, "No values recorded in any run")
        png = to_png(fig)
    tag = series_list[0].tag if series_list else ""
    return png, f"{tag} at the last step of {len(usable)} runs, overlaid: " + "; ".join(described) + "."
