"""Charts: pure functions from series data to PNG bytes (Matplotlib, Agg, no pyplot state).

Each chart kind (kinds.py, the one registry of them) is drawn by a module's
`draw_job(job) -> (png, alt)`: offset and overlay (offset.py), distribution, heatmap, scalar,
layer and compare. `render.render_jobs(jobs, workers)` draws many in worker processes; a chart
that fails becomes a placeholder image that carries the error, never a failed report. Importing
this package is light (no Matplotlib): the pipeline and the outputs read the kinds from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reportgen.charts.color import PALETTE
from reportgen.charts.kinds import KINDS, MAX_DISTRIBUTION_STEPS, MAX_OFFSET_STEPS, PER_TAG_KINDS, ChartKind

__all__ = ["KINDS", "MAX_DISTRIBUTION_STEPS", "MAX_OFFSET_STEPS", "PER_TAG_KINDS", "ChartJob", "ChartKind", "Drawn",
           "run_color"]


@dataclass
class ChartJob:
    kind: str  # a name in kinds.KINDS
    run: str
    tag: str
    title: str
    data: Any  # HistogramSeries, ScalarSeries, or a list of them (layer, compare)
    color: Any  # one colour, or one per series (compare)
    max_steps: int | None = None  # slices (offset, overlay) or x positions (distribution, layer, compare)
    tag_kinds: dict[str, str] = field(default_factory=dict)  # layer: tag -> kind (model.TAG_KINDS)
    runs: list[str] = field(default_factory=list)  # compare: the runs' names, in the order of `data`


@dataclass(frozen=True)
class Drawn:
    """One drawn chart: the PNG, what it shows in words, and why it could not be drawn, if so."""

    png: bytes  # PNG at style.DPI; a placeholder image when drawing failed
    alt: str
    error: str | None = None
    width_px: int = 0
    height_px: int = 0


def run_color(index: int) -> str:
    """TensorBoard's run colours, in its order."""
    return PALETTE[index % len(PALETTE)]
