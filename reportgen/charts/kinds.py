"""The chart kinds: one registry of what each kind is, everything else derived from it.

Each kind names the module that draws it (its `draw_job(job)` returns the PNG and its alt
text), how much a chart costs to draw relative to a distribution chart (the pool hands out
the costly ones first), how to read it (the report's legend) and its rank in the email digest
(lower is more telling; None: never chosen for the email). Light to import: no Matplotlib.
"""

from __future__ import annotations

from dataclasses import dataclass

# TensorBoard's defaults: the histogram dashboard shows 51 steps per offset chart, the
# distribution dashboard samples 501.
MAX_OFFSET_STEPS = 51
MAX_DISTRIBUTION_STEPS = 501


@dataclass(frozen=True)
class ChartKind:
    name: str
    module: str  # reportgen.charts.<module> draws it, with draw_job(job)
    relative_cost: float  # drawing time against a distribution chart (measured on the benchmark log)
    how_to_read: str
    email_rank: int | None = None
    per_tag: bool = False  # drawn for every histogram tag of a layer (in this order), not per layer/run


_KINDS = (
    ChartKind("offset", "offset", 1.3, per_tag=True, email_rank=2, how_to_read=(
        "One curve per recorded step, stacked like a mountain range, as in TensorBoard's histogram view. "
        "The horizontal axis is the value; each curve's height is how many values fell near it. "
        "The step axis is on the right: the oldest step is at the top and back, the newest at the bottom "
        "and front, and the distance between curves follows the distance between their steps. "
        "Colours run from light (oldest) to dark (newest) in the run's colour, so the darkest curve in front "
        "is where training ended. Curves that look the same from top to bottom mean the values did not change."
    )),
    ChartKind("overlay", "offset", 1.0, per_tag=True, email_rank=3, how_to_read=(
        "The same histograms as the offset view, drawn on one baseline as outlines so their shapes can be "
        "compared directly. The horizontal axis is the value, the vertical axis (right) the count per bin. "
        "Light outlines are early steps, dark outlines the latest ones, in the run's colour."
    )),
    ChartKind("distribution", "distribution", 1.0, per_tag=True, email_rank=4, how_to_read=(
        "How the spread of values changes over training, as in TensorBoard's distributions view. "
        "The horizontal axis is the step, the vertical axis the value. The darkest band in the middle holds "
        "the middle 38% of values around the median; each lighter band adds more, out to the faintest band "
        "between the outer 13% and the minimum or maximum. For a normal distribution the band edges are at "
        "0.5, 1 and 1.5 standard deviations. The thin line is the median. The newest step is at the right end."
    )),
    ChartKind("heatmap", "heatmap", 2.0, per_tag=True, email_rank=5, how_to_read=(
        "The whole run in one picture: the horizontal axis is the step, the vertical axis the value, and each "
        "cell's colour is the share of that step's values in that value range. The colour scale is "
        "logarithmic, so rare values still show: pale is rare, dark is common, white is none. "
        "The newest step is the rightmost column."
    )),
    ChartKind("scalar", "scalar", 0.8, how_to_read=(
        "A value logged once per step (a loss, an accuracy, a learning rate). The horizontal axis is the step. "
        "The faint line is the raw value; the strong line is TensorBoard's default smoothing (a moving "
        "average with weight 0.6, corrected at the start), which shows the trend. "
        "A red x at the top or bottom edge marks a step whose value was NaN or infinite."
    )),
    ChartKind("overview", "overview", 1.5, email_rank=0, how_to_read=(
        "Every layer of the run at a glance, in depth order: each panel overlays the layer's weights at the first "
        "logged step (grey, dashed) and at the last (the run's colour, solid), as the share of values at each "
        "value. Curves that coincide mean the layer did not change; the title gives how far it moved, as a "
        "share of its initial spread. A red title with a triangle marks a layer with a finding."
    )),
    ChartKind("layer", "layer", 1.0, email_rank=1, how_to_read=(
        "All histograms of one layer side by side (weights, bias, pre-activations, activations, gradients), "
        "each as a distribution chart, sharing the step axis so a change can be followed across them. "
        "Each panel has its own value axis: compare shapes and trends, not heights across panels."
    )),
    ChartKind("compare", "compare", 1.3, how_to_read=(
        "One tag in several runs on one chart, each run in its own colour (the same colour as everywhere in "
        "this report) and its own line style, so runs that coincide stay readable. For histograms, each run's "
        "last step: the horizontal axis is the value, the height the share of values there; for scalars, the "
        "smoothed curve over the faint raw values, against the step. Drawn only where the runs differ."
    )),
    ChartKind("seeds", "sweep", 0.8, how_to_read=(
        "One setting of a sweep over its seeds: the line is the mean of the seeds' smoothed curves (TensorBoard's "
        "smoothing, weight 0.6) at each step, the shaded band the lowest to highest seed there. A wide band is "
        "seed noise: a difference between two settings smaller than their bands is not a difference."
    )),
    ChartKind("since", "since", 0.6, how_to_read=(
        "One layer's weights at the last step, the baseline's (grey, dashed) against tonight's (the run's colour), "
        "each drawn from 20 quantiles: between two neighbouring quantiles lie 5% of the values, so the height is "
        "how densely they lie. Curves that coincide mean the layer ended where it ended last time."
    )),
    ChartKind("against", "sweep", 0.6, how_to_read=(
        "The sweep's metric at the end of each run (a dot) against one hyperparameter, with the line through the "
        "mean at each value and the best run ringed in red. A learning rate, or any setting whose values span 30x "
        "or more, is on a log axis."
    )),
)

KINDS: dict[str, ChartKind] = {kind.name: kind for kind in _KINDS}
PER_TAG_KINDS = tuple(kind.name for kind in _KINDS if kind.per_tag)  # a layer section shows them in this order


def email_rank(kind: str) -> int:
    """How telling a chart of this kind is in the email digest: lower first; unranked kinds last."""
    rank = KINDS[kind].email_rank if kind in KINDS else None
    return len(KINDS) if rank is None else rank
