"""The report view-model: everything an output writer needs, computed, nothing to compute.

Output writers (html, pdf, email, markdown, json) take a `Report` and only format it; they
never read event files or compute statistics.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reportgen.diagnosis.finding import Finding

CHART_KINDS = ("offset", "overlay", "distribution", "heatmap", "scalar", "layer", "compare")


@dataclass
class Chart:
    run: str
    tag: str
    kind: str  # one of CHART_KINDS
    title: str
    png: bytes  # PNG at charts.DPI; a placeholder image when rendering failed
    alt: str  # text alternative: what the chart shows
    error: str | None = None  # why rendering failed, if it did
    width_px: int = 0
    height_px: int = 0


@dataclass
class TagInventory:
    tag: str
    kind: str  # "histogram" | "scalar" | "other: <what>"
    steps: int
    first_step: int | None
    last_step: int | None


@dataclass
class FileInventory:
    path: str
    size: int
    records_read: int
    records_skipped: int
    problems: list[str]


@dataclass
class LayerSection:
    run: str
    name: str
    anchor: str  # unique, safe id for links (never built from raw tag text)
    tags: dict[str, str]  # tag -> kind (weights, bias, pre-activations, activations, gradients, outputs, other)
    paragraph: str  # plain-words reading of the layer's charts
    findings: list[Finding]
    charts: list[Chart]


@dataclass
class RunSection:
    name: str
    anchor: str
    color: str  # the run's colour, the same in every chart
    path: str
    verdict: str  # "healthy" | "warnings" | "critical"
    summary: str  # plain-words summary: verdict, top findings, loss trend
    top_findings: list[Finding]
    layers: list[LayerSection]
    scalar_charts: list[Chart]
    histograms: list[TagInventory]
    scalars: list[TagInventory]
    other: list[TagInventory]
    files: list[FileInventory]
    warnings: list[str]
    first_step: int | None = None
    last_step: int | None = None
    wall_start: float | None = None
    wall_end: float | None = None
    loss_tag: str | None = None  # the scalar read as the training loss, if any
    final_loss: float | None = None  # its value at the last step


@dataclass
class Report:
    title: str
    generated_at: str  # ISO 8601, honours SOURCE_DATE_EPOCH
    version: str
    sources: list[str]
    verdict: str
    runs: list[RunSection]
    findings: list[Finding]  # every finding, worst first
    comparison_charts: list[Chart] = field(default_factory=list)  # one tag across runs
    compact: bool = False  # the compact chart set: layer rows and scalars only (sweeps)
    how_to_read: dict[str, str] = field(default_factory=dict)  # chart kind -> explanation
    warnings: list[str] = field(default_factory=list)  # not tied to one run
    artifacts: list[str] = field(default_factory=list)  # file names of the other outputs of this build
    report_url: str = ""  # where people can fetch the full report (e.g. the CI run's artifacts page)
