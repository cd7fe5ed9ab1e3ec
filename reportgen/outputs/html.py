"""The single-file HTML report: CSS inline, images as data: URIs, no JavaScript, no network.

`context()` turns a Report into everything the templates need (a pure function tests call);
`render()` only fills `templates/report.html` with it. The PDF writer renders the same page with
`medium="print"`, which adds the paged-media rules of `templates/pdf.css`.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO, Generic, TypedDict, TypeVar

from reportgen.charts.kinds import KINDS
from reportgen.findings import Finding
from reportgen.outputs.templating import environment, read_static
from reportgen.report import Chart, Overview, Report, RunSection, section_charts


class Context(TypedDict):
    report: Report
    overview: Overview
    css: str
    medium: str  # "screen" | "print"
    page_size: str
    image_src: Callable[[bytes], str]
    anchor_for: Callable[[Finding], str]
    run_level_findings: dict[str, list[Finding]]  # run -> findings not shown under a layer
    top_findings: list[Finding]
    reading_notes: dict[tuple[str, str, str], str]  # (run, tag, kind) of each kind's first chart -> how to read it
    layer_table: list[LayerRow]  # layers x runs, for runs that share layers
    layer_groups: list[list[LayerRow]]  # the layer table's rows, as many a table as the page shows
    advice_at: dict[tuple[str, str], str]  # (run, code) -> the layer whose finding lists what to try
    anchor_for_layer: Callable[[str, str], str]
    run_anchor: dict[str, str]
    inventory: dict[str, list[InventoryRow]]  # run -> its tags, those read alike on one row
    file_name: Callable[[RunSection, str], str]
    run_columns: int  # RUN_COLUMNS
    toc_columns: list[Column[TocEntry]]  # the contents: one list on a screen (CSS columns), side by side in print


@dataclass(frozen=True)
class TocEntry:
    href: str
    label: str
    run: RunSection | None = None  # a run's entry shows its verdict and its layers
    above: bool = False  # a section right above the contents (print leaves it out)


T = TypeVar("T")


@dataclass(frozen=True)
class Column(Generic[T]):
    start: int  # the number of its first entry
    entries: list[T]


class LayerRow(TypedDict):
    layer: str
    cells: list[dict[str, Any]]  # per run: moved (share of spread or None), codes, worst severity


class InventoryRow(TypedDict):
    tags: list[str]
    kind: str
    steps: int
    repeated: int  # events beyond one per step
    first_step: int | None
    last_step: int | None


TOP_FINDINGS = 5  # how many findings the summary lists (the rest are one click away)
# Runs the layer table gives a column each; with more, a row each. An A4 page holds 6 columns of
# run names (a 250-run sweep's PDF showed its first 6 and cut the other 244 off at the edge).
RUN_COLUMNS = 6
# Print sets the contents in columns side by side, balanced here: WeasyPrint balances CSS
# columns by laying them out again and again, and the contents' were 18% of the function calls
# of the benchmark report's layout (2.12 M -> 1.74 M, 16 pages). CSS columns remain for contents
# too long for a page, as only they break across pages in reading order, and for the reading
# notes (9% more): in rows of two they wasted the room that kept sample_logs' PDF to 20 pages.
PRINT_COLUMNS = 2
# Characters on a line of one of PRINT_COLUMNS columns on A4, counted on the benchmark report's
# first page (the layers of a run, ~53).
PRINT_COLUMN_CHARS = 52
# Lines of contents a page holds under its heading: A4 less its margins is 265 mm, ~53 lines of
# the contents' 10 pt text at ~14 pt a line; less the heading and some slack for the estimate.
PRINT_PAGE_LINES = 45
WRITE_CHARS = 1 << 16  # `write` gathers the template's pieces into writes of about this many characters


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def scalars_anchor(run: RunSection) -> str:
    return run.anchor + "-scalars"


def finding_anchors(report: Report) -> Callable[[Finding], str]:
    """Where a finding is shown: its layer section, else its run's scalar section, else its run."""
    layers = {(layer.run, layer.name): layer.anchor for run in report.runs for layer in run.layers}
    scalars = {(run.name, t.tag): scalars_anchor(run) for run in report.runs for t in run.scalars}
    runs = {run.name: run.anchor for run in report.runs}

    def anchor_for(finding: Finding) -> str:
        key = (finding.run, finding.layer)
        return layers.get(key) or scalars.get(key) or runs.get(finding.run, "summary")

    return anchor_for


def run_level_findings(report: Report) -> dict[str, list[Finding]]:
    in_layers = {(layer.run, layer.name) for run in report.runs for layer in run.layers}
    return {run.name: [f for f in report.findings if f.run == run.name and (f.run, f.layer) not in in_layers]
            for run in report.runs}


def shown_charts(report: Report) -> list[Chart]:
    """Every chart in the order the page shows it (templates/report.html)."""
    charts: list[Chart] = [*report.since_charts, *report.sweep_charts]  # "Since baseline", then the sweep
    for run in report.runs:
        charts += section_charts(run)
    return charts + report.comparison_charts


def reading_notes(report: Report) -> dict[tuple[str, str, str], str]:
    """Next to the first chart of each kind, the first sentence of how to read it (the whole
    explainer is in the appendix)."""
    notes: dict[tuple[str, str, str], str] = {}
    seen: set[str] = set()
    for chart in shown_charts(report):
        if chart.kind in KINDS and chart.kind not in seen:
            seen.add(chart.kind)
            text = KINDS[chart.kind].how_to_read
            notes[(chart.run, chart.tag, chart.kind)] = text.split(". ")[0].rstrip(".") + "."
    return notes


def layer_table(report: Report) -> list[LayerRow]:
    """How far each layer's weights moved in each run, with its findings: the comparison of runs
    that share layers (empty for a single run)."""
    if len(report.runs) < 2:
        return []
    names = list(dict.fromkeys(layer.name for run in report.runs for layer in run.layers
                               if any(s.kind == "weights" for s in layer.series)))
    rows: list[LayerRow] = []
    for name in names:
        cells = []
        for run in report.runs:
            layer = next((lay for lay in run.layers if lay.name == name), None)
            weights = [s for s in layer.series if s.kind == "weights"] if layer else []
            severe = [f for f in layer.findings if f.severity != "info"] if layer else []
            cells.append({"moved": weights[0].change if weights else None, "present": layer is not None,
                          "codes": sorted({f.code for f in severe}),
                          "severity": str(severe[0].severity) if severe else ""})
        if sum(1 for c in cells if c["present"]) >= 2:
            rows.append(LayerRow(layer=name, cells=cells))
    return rows


def layer_groups(report: Report, table: list[LayerRow]) -> list[list[LayerRow]]:
    """The layer table as the page shows it: past RUN_COLUMNS runs, each run has a row and each
    table RUN_COLUMNS layers (a sweep of deep networks has dozens); else one table of them all."""
    if len(report.runs) <= RUN_COLUMNS:
        return [table] if table else []
    return [table[i:i + RUN_COLUMNS] for i in range(0, len(table), RUN_COLUMNS)]


def inventory_rows(run: RunSection) -> list[InventoryRow]:
    """The appendix's rows for one run: every tag, those of one kind read over the same steps on
    one row (a run's 11 histograms logged at the same 41 steps are one line, not eleven), in the
    order the tags were found."""
    rows: dict[tuple, InventoryRow] = {}
    for t in [*run.histograms, *run.scalars, *run.other]:
        key = (t.kind, t.steps, t.events, t.first_step, t.last_step)
        if key not in rows:
            rows[key] = InventoryRow(tags=[], kind=t.kind, steps=t.steps, repeated=max(0, t.events - t.steps),
                                     first_step=t.first_step, last_step=t.last_step)
        rows[key]["tags"].append(t.tag)
    return list(rows.values())


def file_name(run: RunSection, path: str) -> str:
    """A run's file as the appendix lists it, under the run's folder printed just above it: its
    path inside that folder (a wrapped 70-character path per file cost the PDF a page)."""
    folder = run.path.rstrip("/") + "/"
    return path[len(folder):] if path.startswith(folder) and len(path) > len(folder) else path


def advice_at(report: Report) -> dict[tuple[str, str], str]:
    """The one layer per run and code whose finding shows what to try: the first shown; the
    others point to it (the same list three times in a row reads as noise)."""
    found: dict[tuple[str, str], str] = {}
    for run in report.runs:
        for layer in run.layers:
            for f in layer.findings:
                found.setdefault((f.run, f.code), f.layer)
    return found


def toc_entries(report: Report) -> list[TocEntry]:
    """The contents, in page order (templates/report.html)."""
    entries = [TocEntry("#since", "Since baseline")] if report.since else []
    if report.history:
        entries.append(TocEntry("#history", "Last nights"))
    entries.append(TocEntry("#summary", "Summary", above=True))
    if report.sweep and len(report.runs) > 1:
        entries.append(TocEntry("#sweep", "Sweep", above=True))
    entries += [TocEntry("#" + run.anchor, f"Run {run.name}", run=run) for run in report.runs]
    if len(report.runs) > 1:
        entries.append(TocEntry("#comparison", "Runs compared"))
    if report.how_to_read:
        entries.append(TocEntry("#how-to-read", "How to read these charts"))
    return [*entries, TocEntry("#appendix", "Appendix: what was read")]


def toc_lines(entry: TocEntry) -> int:
    """About how many lines of a print column an entry takes: its label and verdict, then its
    run's layers on lines of their own."""
    run = entry.run
    lines = math.ceil(len(f"{entry.label} {run.verdict if run else ''}") / PRINT_COLUMN_CHARS)
    if run is None or not (run.layers or run.scalar_charts):
        return lines
    names = [layer.name + (" 0" if layer.findings else "") for layer in run.layers]
    names += ["Scalars"] if run.scalar_charts else []
    return lines + math.ceil(len(" · ".join(names)) / PRINT_COLUMN_CHARS)


def balanced(items: list[T], lines: list[int], columns: int) -> list[Column[T]]:
    """`items` in `columns` columns, in order, each as few lines as can be (the tallest first),
    as CSS columns balance them; every column is there, empty or not."""
    low, high = max(lines, default=0), sum(lines)
    while low < high:  # the fewest lines a column needs so that `columns` columns hold everything
        mid = (low + high) // 2
        low, high = (low, mid) if _filled(lines, mid) <= columns else (mid + 1, high)
    out: list[Column[T]] = []
    start = 0
    for _ in range(columns):
        stop, held = start, 0
        while stop < len(items) and held + lines[stop] <= max(low, 1):
            held += lines[stop]
            stop += 1
        out.append(Column(start + 1, items[start:stop]))
        start = stop
    return out


def _filled(lines: list[int], height: int) -> int:
    """How many columns of `height` lines `lines` fill, in order."""
    columns, held = 1, 0
    for n in lines:
        if held + n > height:
            columns, held = columns + 1, 0
        held += n
    return columns


def toc_columns(report: Report, medium: str) -> list[Column[TocEntry]]:
    """The contents: in print, without the sections right above them, in balanced columns when
    they fit a page; else (and for a sweep's list of runs, whose lines are only a few words)
    one list, which `pdf.css` sets in CSS columns: they break across pages in reading order."""
    entries = toc_entries(report)
    if medium != "print":
        return [Column(1, entries)]
    entries = [e for e in entries if not e.above]  # the summary and the sweep are right above, on the same page
    if report.compact:
        return [Column(1, entries)]
    lines = [toc_lines(e) for e in entries]
    columns = balanced(entries, lines, PRINT_COLUMNS)
    if max(sum(lines[c.start - 1:c.start - 1 + len(c.entries)]) for c in columns) > PRINT_PAGE_LINES:
        return [Column(1, entries)]
    return columns


def context(report: Report, medium: str = "screen", image_src: Callable[[bytes], str] = data_uri) -> Context:
    layers = {(layer.run, layer.name): layer.anchor for run in report.runs for layer in run.layers}
    css = read_static("report.css") + ("\n" + read_static("pdf.css") if medium == "print" else "")
    table = layer_table(report)
    return Context(
        report=report, overview=report.overview, css=css, medium=medium, page_size=report.page_size,
        image_src=image_src, anchor_for=finding_anchors(report), run_level_findings=run_level_findings(report),
        top_findings=report.findings[:TOP_FINDINGS], reading_notes=reading_notes(report),
        layer_table=table, layer_groups=layer_groups(report, table), advice_at=advice_at(report),
        anchor_for_layer=lambda run, layer: layers.get((run, layer), "summary"),
        run_anchor={run.name: run.anchor for run in report.runs},
        inventory={run.name: inventory_rows(run) for run in report.runs}, file_name=file_name,
        run_columns=RUN_COLUMNS, toc_columns=toc_columns(report, medium),
    )


@dataclass(frozen=True)
class Piece:
    """A part of the page, in page order: the front matter (header to contents) if `front`; the
    runs `runs[start:stop]`; of the runs compared, the heading if `comparison_head`, the table
    rows of `runs[compared_start:compared_stop]`, the layer table rows of
    `runs[layers_start:layers_stop]` (in every group of layers, or in group `layer_group` of
    `layer_groups`) and what follows them if `comparison_tail`; how to read the charts and the
    appendix's heading if `back`; the appendix of `runs[appendix_start:appendix_stop]`; the
    footer if `footer`. The PDF of a sweep is laid out in pieces (pdf.write_in_chunks); any
    other page is WHOLE."""

    front: bool
    start: int
    stop: int | None
    back: bool
    appendix_start: int = 0
    appendix_stop: int | None = 0
    footer: bool = False
    comparison_head: bool = False
    compared_start: int = 0
    compared_stop: int | None = 0
    layers_start: int = 0
    layers_stop: int | None = 0
    layer_group: int | None = None
    comparison_tail: bool = False

    @property
    def comparison(self) -> bool:
        """Whether any of the runs compared is in this piece."""
        return (self.comparison_head or self.comparison_tail or self.compared_stop != self.compared_start
                or self.layers_stop != self.layers_start)


WHOLE = Piece(front=True, start=0, stop=None, back=True, appendix_start=0, appendix_stop=None, footer=True,
              comparison_head=True, compared_stop=None, layers_stop=None, comparison_tail=True)


def render(report: Report, pdf: bytes | None = None, *, medium: str = "screen",
           image_src: Callable[[bytes], str] = data_uri) -> bytes:
    """The HTML page (`medium="print"` is the PDF writer's); `pdf` is not used (the Writer protocol)."""
    return render_piece(context(report, medium, image_src), WHOLE).encode("utf-8")


def write(report: Report, out: BinaryIO) -> None:
    """The bytes of `render` into `out`, as the template gives them: a sweep's page never waits
    whole in memory (2,000 runs' is ~240 MB, the charts inlined, and as text and as bytes it was
    twice that at once)."""
    pending: list[str] = []
    held = 0
    for text in environment().get_template("report.html").generate(_variables(context(report), WHOLE)):
        pending.append(text)
        held += len(text)
        if held >= WRITE_CHARS:
            out.write("".join(pending).encode("utf-8"))
            pending, held = [], 0
    out.write("".join(pending).encode("utf-8"))


def render_piece(page: Context, piece: Piece, extra_css: str = "") -> str:
    """One piece of the page of `page` (a `context()`, made once for all the pieces); `extra_css`
    follows the report's style sheet."""
    return environment().get_template("report.html").render(_variables(page, piece, extra_css))


def _variables(page: Context, piece: Piece, extra_css: str = "") -> dict[str, Any]:
    variables: dict[str, Any] = dict(page)
    variables.update(piece=piece, css=page["css"] + extra_css)
    return variables
