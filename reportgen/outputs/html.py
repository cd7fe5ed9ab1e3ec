"""The single-file HTML report: CSS inline, images as data: URIs, no JavaScript, no network.

`context()` turns a Report into everything the templates need (a pure function tests call);
`render()` only fills `templates/report.html` with it. The PDF writer renders the same page with
`medium="print"`, which adds the paged-media rules of `templates/pdf.css`.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, TypedDict

from reportgen.findings import Finding
from reportgen.outputs.templating import environment, read_static
from reportgen.report import Overview, Report, RunSection


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


TOP_FINDINGS = 5  # how many findings the summary lists (the rest are one click away)


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


def context(report: Report, medium: str = "screen", image_src: Callable[[bytes], str] = data_uri) -> Context:
    css = read_static("report.css") + ("\n" + read_static("pdf.css") if medium == "print" else "")
    return Context(
        report=report, overview=report.overview, css=css, medium=medium, page_size=report.page_size,
        image_src=image_src, anchor_for=finding_anchors(report), run_level_findings=run_level_findings(report),
        top_findings=report.findings[:TOP_FINDINGS],
    )


def render(report: Report, pdf: bytes | None = None, *, medium: str = "screen",
           image_src: Callable[[bytes], str] = data_uri) -> bytes:
    """The HTML page (`medium="print"` is the PDF writer's); `pdf` is not used (the Writer protocol)."""
    page: dict[str, Any] = dict(context(report, medium, image_src))
    return environment().get_template("report.html").render(page).encode("utf-8")
