"""The report view-model: everything an output writer needs, computed, nothing to compute.

Output writers (html, pdf, email, markdown, json) take a `Report` and only format it; they
never read event files or compute statistics.
"""

from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from reportgen.baseline import History, Since
from reportgen.findings import SEVERITY_ORDER, Finding, Severity, Verdict
from reportgen.sweeps import Sweep


class ChartStore:
    """Chart PNGs kept in a temporary file rather than in memory (`put_away`): a sweep's PDF build
    held every run's charts until the layout, 0.14 MB a run, 280 MB of the build at 2,000 runs.
    The file goes when the store does (it is unlinked as it is made), that is, with the last
    chart that was put away in it."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile(prefix="reportgen-charts-")  # noqa: SIM115 (it lives as long as the store)
        self._lock = threading.Lock()

    def put_away(self, charts: list[Chart]) -> None:
        """Each chart's PNG into the file; `chart.png` reads it back when asked for."""
        with self._lock:
            for chart in charts:
                png = chart.png
                offset = self._file.seek(0, os.SEEK_END)
                self._file.write(png)
                chart.png = StoredPng(self, offset, len(png))
            self._file.flush()

    def read(self, stored: StoredPng) -> bytes:
        return os.pread(self._file.fileno(), stored.length, stored.offset)


class StoredPng(NamedTuple):
    store: ChartStore
    offset: int
    length: int


class _Png:
    """`Chart.png`: the PNG's bytes, from the chart's ChartStore when it was put away in one."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = "_" + name

    def __get__(self, chart: Chart | None, owner: type | None = None) -> bytes:
        if chart is None:
            raise AttributeError("png")  # a required field: no default
        value = chart.__dict__[self._name]
        return value.store.read(value) if isinstance(value, StoredPng) else value

    def __set__(self, chart: Chart, value: bytes | StoredPng) -> None:
        chart.__dict__[self._name] = value


@dataclass(kw_only=True)  # keywords only: `png` is a descriptor, which a dataclass sees as a default
class Chart:
    run: str
    tag: str
    kind: str  # a name in charts.kinds.KINDS
    title: str
    png: _Png = _Png()  # PNG at charts.DPI; a placeholder image when rendering failed
    alt: str  # text alternative: what the chart shows
    error: str | None = None  # why rendering failed, if it did
    width_px: int = 0
    height_px: int = 0


@dataclass
class TagInventory:
    tag: str
    kind: str  # "histogram" | "scalar" | "other: <what>"
    steps: int  # distinct steps, as TensorBoard's step axis shows them
    first_step: int | None
    last_step: int | None
    events: int = 0  # values read: more than `steps` when a step was logged more than once
    role: str = ""  # scalars: objective, eval_loss, reward, ... (diagnosis.roles)
    last_value: float | None = None  # scalars: the value at the last step (its last event)


@dataclass
class FileInventory:
    path: str
    size: int
    records_read: int
    records_skipped: int
    problems: list[str]


@dataclass
class SeriesSummary:
    """What the words about one histogram tag are generated from, as measured (docs/shapes.md)."""

    tag: str
    kind: str
    shape: str  # the last step's class: one of diagnosis.shapes.SHAPES
    shape_first: str
    values: float  # values per step (last step)
    mean: float | None  # None when not finite
    std: float | None
    skewness: float
    excess_kurtosis: float
    quantiles: dict[str, float | None]  # at the basis points TensorBoard's distribution chart uses
    zero_fraction: float  # share exactly 0 (only where the data can say so)
    bound_fraction: float  # share at a tanh/sigmoid bound, when the values live in one
    change: float | None  # first-to-last move, share of the initial spread
    init: dict[str, object] | None  # the initialisation the first step matches: family, scale, fans


@dataclass
class LayerSection:
    run: str
    name: str
    anchor: str  # unique, safe id for links (never built from raw tag text)
    tags: dict[str, str]  # tag -> kind (model.TAG_KINDS)
    paragraph: str  # plain-words reading of the layer's charts
    findings: list[Finding]
    charts: list[Chart]
    series: list[SeriesSummary] = field(default_factory=list)


def section_charts(section: RunSection) -> list[Chart]:
    """Every chart of a run's section, in the order its page shows them (templates/_run.html)."""
    charts = [chart for chart in (section.overview, section.trend) if chart is not None]
    return charts + [chart for layer in section.layers for chart in layer.charts] + section.scalar_charts


@dataclass
class RunSection:
    name: str
    anchor: str
    color: str  # the run's colour, the same in every chart
    path: str
    verdict: Verdict
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
    not_judged: str = ""  # why nothing in the run could be judged (verdict "not judged")
    summary_parts: list[str] = field(default_factory=list)  # the summary's sentences by topic, for paragraphs
    overview: Chart | None = None  # every layer's weights, first step against last (the run page's figure)
    trend: Chart | None = None  # the curve that says how training went (reward or objective), on the run page
    main_metric: str = ""  # that curve's tag, its last and its best value ("reward 0.14 (best 0.2)")
    hparams: dict[str, float | str | bool] = field(default_factory=dict)  # flat name -> value
    # (layer or scalar tag, rule code) the diagnosis checked in this run, layers first (JUnit's test cases)
    checked: list[tuple[str, str]] = field(default_factory=list)
    # What a later night compares against (reportgen.baseline): the result metrics by tag (role,
    # end, best, best_step, higher_is_better, end_noise), the main one's tag, and per layer its
    # weights tag and last-step quantiles (baseline.QUANTILE_POINTS).
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    main_result: str | None = None
    weights: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Overview:
    """The report at a glance: what the header, the summary and the digests show first."""

    runs: int
    first_step: int | None
    last_step: int | None
    wall_start: float | None
    wall_end: float | None
    severity_counts: dict[Severity, int]


@dataclass
class Report:
    title: str
    generated_at: str  # ISO 8601, honours SOURCE_DATE_EPOCH
    version: str
    sources: list[str]
    verdict: Verdict
    runs: list[RunSection]
    findings: list[Finding]  # every finding, worst first
    comparison_charts: list[Chart] = field(default_factory=list)  # one tag across runs
    sweep_charts: list[Chart] = field(default_factory=list)  # the metric against each hparam, then seed bands
    compact: bool = False  # the compact chart set: layer rows and scalars only (sweeps)
    how_to_read: dict[str, str] = field(default_factory=dict)  # chart kind -> explanation
    warnings: list[str] = field(default_factory=list)  # not tied to one run
    artifacts: list[str] = field(default_factory=list)  # file names of the other outputs of this build
    report_url: str = ""  # where people can fetch the full report (e.g. the CI run's artifacts page)
    mail_from: str = ""  # the email digest's sender (its domain names the Message-ID); "" for reportgen@localhost
    page_size: str = "A4"  # A4 | letter, for the PDF
    # Two or more runs with hyperparameters or seeds: the sweep table, seed groups, findings
    # against hyperparameters (reportgen.sweeps); None otherwise.
    sweep: Sweep | None = None
    fail_on: str = ""  # the build's --fail-on ("" when not set): the JUnit failures' threshold
    since: Since | None = None  # what changed since the --baseline; None without one
    since_charts: list[Chart] = field(default_factory=list)  # one overlay per changed layer
    history: History | None = None  # the last nights (--history); None without

    @property
    def overview(self) -> Overview:
        firsts = [r.first_step for r in self.runs if r.first_step is not None]
        lasts = [r.last_step for r in self.runs if r.last_step is not None]
        starts = [r.wall_start for r in self.runs if r.wall_start is not None]
        ends = [r.wall_end for r in self.runs if r.wall_end is not None]
        return Overview(
            runs=len(self.runs), first_step=min(firsts, default=None), last_step=max(lasts, default=None),
            wall_start=min(starts, default=None), wall_end=max(ends, default=None),
            severity_counts={s: sum(f.severity == s for f in self.findings) for s in SEVERITY_ORDER},
        )


PENDING = b"reportgen-pending:"


def pending_png(index: int, width: int, height: int) -> bytes:
    """What stands for a chart not drawn yet in a report laid out while its charts are drawn
    (outputs.pdf.lay_out_early); never a PNG: the chart's index and its pixel size."""
    return PENDING + f"{index}:{width}:{height}".encode()


def pending_size(png: bytes) -> tuple[int, int] | None:
    """The pixel size of a chart not drawn yet (`pending_png`); None for any other image."""
    if not png.startswith(PENDING):
        return None
    _, width, height = png[len(PENDING):].split(b":")
    return int(width), int(height)
