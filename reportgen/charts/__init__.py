"""Charts: pure functions from series data to PNG bytes (Matplotlib, Agg, no pyplot state).

`render_jobs(jobs, processes)` renders many charts in parallel; a chart that fails becomes a
placeholder image that carries the error, never a failed report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reportgen.report import Chart

DPI = 150


@dataclass
class ChartJob:
    kind: str  # offset | overlay | distribution | heatmap | scalar | layer | compare
    run: str
    tag: str
    title: str
    data: Any  # HistogramSeries, ScalarSeries, or a list of them (layer, compare)
    color: str | list[str]
    options: dict[str, Any] = field(default_factory=dict)


def run_color(index: int) -> str:
    """TensorBoard's run colours, in its order."""
    palette = ["#ff7043", "#0077bb", "#cc3311", "#33bbee", "#ee3377", "#009988", "#bbbbbb"]
    return palette[index % len(palette)]


def render_jobs(jobs: list[ChartJob], processes: int = 0) -> list[Chart]:
    """Placeholder until the chart modules land: no images."""
    return []
